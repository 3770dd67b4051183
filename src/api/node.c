/* node.c: the node's lifecycle (start, graceful stop), its pool of read
 * connections, and the chain watcher: the thread that turns new blocks into
 * events and writes an empty block when the chain has been idle for
 * block_interval_ms, so deadlines (seconds of block time, passed at the
 * first block at or past them) pass on an idle node too. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/api_impl.h"
#include "api/chain_market.h"
#include "api/x402.h"
#include "base/alloc.h"
#include "base/log.h"
#include "crypto/addr.h"
#include "market/market.h"
#include "store/blob.h"
#include "store/quota.h"
#include "fund/fund.h"
#include "work/work.h"

/* Fills c with the defaults of api.h. */
void gt_node_config_default(gt_node_config *c) {
    memset(c, 0, sizeof *c);
    c->listen = GT_API_DEFAULT_LISTEN;
    c->threads = GT_API_DEFAULT_THREADS;
    c->block_interval_ms = GT_API_DEFAULT_BLOCK_INTERVAL_MS;
    c->max_connections = GT_API_MAX_CONNECTIONS;
    c->timeout_s = GT_API_TIMEOUT_S;
    c->sse_keepalive_ms = GT_API_SSE_KEEPALIVE_MS;
    c->access_log = 1;
    c->max_connections_per_ip = GT_API_MAX_CONNECTIONS_PER_IP;
    c->request_max_s = GT_API_REQUEST_MAX_S;
    c->blob_quota_bytes = GT_API_BLOB_QUOTA_BYTES;
    c->blob_min_funds_units = GT_API_BLOB_MIN_FUNDS_UNITS;
    c->blob_store_max_bytes = GT_API_BLOB_STORE_MAX_BYTES;
    c->blob_min_free_bytes = GT_API_BLOB_MIN_FREE_BYTES;
    c->index_round_blocks = GT_API_INDEX_ROUND_BLOCKS;
    c->chain_confirmations = GT_API_CHAIN_CONFIRMATIONS;
    c->chain_max_stake_pct = GT_API_CHAIN_MAX_STAKE_PCT;
}

uint16_t gt_node_port(const gt_node *n) { return n->port; }

/* See api.h. The ledger's writer serialises this with every submit; the
 * watcher publishes the block as for any other. */
int gt_node_tick(gt_node *n, gt_err *err) {
    assert(n && n->ledger);
    int rc = gt_ledger_tick(n->ledger, err);
    if (rc) return rc;
    atomic_fetch_add(&n->metrics.ticks, 1);
    gt_node_kick(n);
    return 0;
}

/* See api.h. */
void gt_node_set_time(gt_node *n, uint64_t time_s) {
    assert(n && n->ledger);
    gt_ledger_set_time(n->ledger, time_s);
}

/* See api.h. */
uint64_t gt_node_now_s(gt_node *n) {
    assert(n && n->ledger);
    return gt_ledger_now_s(n->ledger);
}

/* ---- Readers. */

static void reader_close(gt_reader *r) {
    if (!r) return;
    gt_ledger_close(r->ro);
    sqlite3_close(r->db);
    gt_free(r);
}

/* Pops a pooled reader or opens a new one (read-only ledger handle and
 * SQLite connection on db_path). NULL with err when the file cannot be opened. */
gt_reader *gt_node_reader_get(gt_node *n, gt_err *err) {
    pthread_mutex_lock(&n->readers_mu);
    gt_reader *r = n->free_readers;
    if (r) n->free_readers = r->next;
    pthread_mutex_unlock(&n->readers_mu);
    if (r) return r;
    r = gt_calloc(1, sizeof *r);
    if (!r) {
        gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    if (gt_ledger_open(n->db_path, GT_LEDGER_READONLY, &r->ro, err)) goto fail;
    /* One thread uses a reader at a time: no SQLite mutex needed. */
    if (sqlite3_open_v2(n->db_path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        gt_err_set(err, GT_EDB, "cannot open %s for reading: %s", n->db_path,
                   r->db ? sqlite3_errmsg(r->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(r->db, 5000);
    return r;
fail:
    reader_close(r);
    return NULL;
}

/* Returns a reader to the pool (closed at stop). Accepts NULL. */
void gt_node_reader_put(gt_node *n, gt_reader *r) {
    if (!r) return;
    pthread_mutex_lock(&n->readers_mu);
    r->next = n->free_readers;
    n->free_readers = r;
    pthread_mutex_unlock(&n->readers_mu);
}

/* ---- The chain watcher. */

void gt_node_kick(gt_node *n) {
    pthread_mutex_lock(&n->watch_mu);
    if (!n->kicked) { /* one wake-up is enough however many blocks were written */
        n->kicked = 1;
        pthread_cond_signal(&n->watch_cv);
    }
    pthread_mutex_unlock(&n->watch_mu);
}

/* Field i of a as its value in the action's JSON (gt_action_field_scalar,
 * quoted when a string), written at out. */
static void event_field(const gt_action *a, int i, char out[80]) {
    char s[GT_ACTION_SCALAR_MAX];
    int quoted = gt_action_field_scalar(a, i, s);
    snprintf(out, 80, quoted ? "\"%s\"" : "%s", s);
}

/* One `task` event per market action of a block, made from the decoded
 * action (the fields an event names, not the action's whole JSON):
 * {"height","index","type","task"?,"slot"?,"from","action"}. Written as
 * text: json_pack + json_dumps cost 40 K instructions an action (callgrind). */
static void task_event(gt_node *n, uint64_t height, uint32_t index, const gt_action *a) {
    const char *type = a->kind->name;
    if (strncmp(type, "task_", 5) && strcmp(type, "dispute_vote")) return;
    /* A task's id is the id of the task_post action that created it. */
    int ti = gt_action_field(a->kind, "task"), si = gt_action_field(a->kind, "slot");
    char task[80] = "", slot[80] = "", from[43], id[67], ev[512];
    /* every market kind's task is a bytes32 and its slot a uint64: neither a string field */
    assert((ti < 0 || a->kind->fields[ti].type != GT_F_STRING) && (si < 0 || a->kind->fields[si].type != GT_F_STRING));
    gt_api_hex(a->id, 32, id);
    if (!strcmp(type, "task_post")) snprintf(task, sizeof task, "\"%s\"", id);
    else if (ti >= 0) event_field(a, ti, task);
    if (si >= 0) event_field(a, si, slot);
    gt_addr_to_str(&a->from, from);
    int len = snprintf(ev, sizeof ev, "{\"height\":%lld,\"index\":%lld,\"type\":\"%s\"%s%s%s%s,\"from\":\"%s\","
                       "\"action\":\"%s\"}", (long long)height, (long long)index, type, task[0] ? ",\"task\":" : "",
                       task, slot[0] ? ",\"slot\":" : "", slot, from, id);
    assert(len > 0 && (size_t)len < sizeof ev); /* a kind's name is short; the rest has fixed widths */
    gt_events_publish(n->events, "task", ev);
}

/* What a block's decoded actions feed: the task events and, when it is
 * caught up, the action index (its round is then open). */
typedef struct publish_round {
    gt_node *n;
    gt_index *index; /* NULL: the index is behind and catches up on its own */
} publish_round;

/* gt_ledger_each_decoded's callback for publish_new. A failed index insert
 * does not stop the walk (the round rolls back at its end and the index
 * catches up later); the events go on. */
static int publish_action(void *arg, uint64_t height, uint32_t index, const gt_action *a) {
    publish_round *p = arg;
    task_event(p->n, height, index, a);
    if (p->index) (void)gt_index_round_action(p->index, height, index, a);
    return 0;
}

/* Brings the action index toward the head, one round of catching up at
 * most. 1 when the round worked and blocks are still left for the next. */
static int index_new(gt_node *n, gt_reader *rd, uint64_t head) {
    gt_err err = {0};
    if (!n->index) return 0;
    if (gt_index_catch_up(n->index, rd->ro, head, n->cfg.index_round_blocks, &err)) {
        GT_WARN("node: the action index: %s (GET /v1/actions lags until it catches up)", err.msg);
        return 0; /* retried at the next wake-up, not in a loop */
    }
    return gt_index_height(n->index) < head;
}

/* Publishes every block written since the last call (and its task events),
 * and indexes them (or a round of older ones the index still lacks). 1 when
 * the index has more to catch up, so the watcher comes back without waiting. */
static int publish_new(gt_node *n) {
    gt_block head;
    gt_err err = {0};
    if (gt_ledger_head(n->ledger, &head, &err)) return 0;
    int index_behind = n->index && gt_index_height(n->index) < n->published_height;
    if (head.height <= n->published_height && !index_behind) return 0;
    gt_reader *rd = gt_node_reader_get(n, &err);
    if (!rd) {
        GT_WARN("node: cannot publish blocks: %s", err.msg);
        return 0;
    }
    uint64_t before = n->published_height;
    /* Each block is decoded once, for its task events and, when the index is
     * at the same height, for the index too. */
    gt_err ierr = {0};
    publish_round p = {n, NULL};
    if (n->index && head.height > before && !gt_index_round_begin(n->index, before, &ierr)) p.index = n->index;
    int index_ok = 1;
    gt_block b = {0}; /* the last block read: its hash ends the index's round */
    for (uint64_t h = n->published_height + 1; h <= head.height; h++) {
        if (gt_ledger_block(rd->ro, h, &b, &err)) {
            GT_WARN("node: block %llu: %s", (unsigned long long)h, err.msg);
            break;
        }
        char text[GT_BLOCK_TEXT_MAX];
        gt_block_text(&b, text);
        gt_events_publish(n->events, "block", text);
        if (b.n_actions && gt_ledger_each_decoded(rd->ro, h, h, publish_action, &p, &err)) {
            GT_WARN("node: task events of block %llu: %s", (unsigned long long)h, err.msg);
            index_ok = 0;
        }
        n->published_height = h;
        atomic_fetch_add(&n->metrics.blocks_written, 1);
        atomic_store(&n->metrics.head_height, h);
    }
    index_ok = index_ok && n->published_height > before && b.height == n->published_height; /* else rolled back */
    if (p.index && gt_index_round_end(n->index, n->published_height, b.hash, index_ok, &ierr))
        GT_WARN("node: the action index: %s (it catches up from the log)", ierr.msg);
    int more = index_new(n, rd, n->published_height);
    gt_node_reader_put(n, rd);
    if (n->published_height > before) n->last_block_ms = gt_api_now_ms(); /* catching the index up is not a block */
    return more;
}

/* The chain watcher thread: waits for a kick, the idle interval or the
 * keep-alive period; publishes new blocks; ticks when idle; wakes streams. */
static void *watcher_main(void *arg) {
    gt_node *n = arg;
    uint64_t interval = n->cfg.block_interval_ms;
    uint64_t wake_every = n->cfg.sse_keepalive_ms / 2 ? n->cfg.sse_keepalive_ms / 2 : 1;
    uint64_t last_wake = gt_api_now_ms(), last_publish = 0;
    int index_more = 1; /* the action index is catching up (from the start): no waiting between rounds */
    n->last_block_ms = last_wake;
    pthread_mutex_lock(&n->watch_mu);
    while (!n->watch_stop) {
        if (!n->kicked && !index_more) {
            uint64_t due = last_wake + wake_every;
            if (interval && n->last_block_ms + interval < due) due = n->last_block_ms + interval;
            uint64_t now = gt_api_now_ms();
            if (due > now) {
                struct timespec until;
                clock_gettime(CLOCK_MONOTONIC, &until);
                uint64_t wait_ms = due - now;
                until.tv_sec += (time_t)(wait_ms / 1000);
                until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
                if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
                pthread_cond_timedwait(&n->watch_cv, &n->watch_mu, &until);
            }
            if (n->watch_stop) break;
        }
        pthread_mutex_unlock(&n->watch_mu);
        /* Under a stream of writes, publish in batches: at most one pass per
         * GT_API_EVENT_BATCH_MS. Waking for every block cost about as much CPU
         * as the HTTP side of a submit; a batch costs one wake-up. */
        uint64_t since = gt_api_now_ms() - last_publish;
        if (since < GT_API_EVENT_BATCH_MS) {
            struct timespec ts = {0, (long)(GT_API_EVENT_BATCH_MS - since) * 1000000L};
            nanosleep(&ts, NULL);
        }
        pthread_mutex_lock(&n->watch_mu);
        n->kicked = 0; /* blocks written from here on get the next pass */
        pthread_mutex_unlock(&n->watch_mu);
        index_more = publish_new(n);
        last_publish = gt_api_now_ms();
        uint64_t now = last_publish;
        if (interval && now - n->last_block_ms >= interval) {
            gt_err err = {0};
            if (gt_ledger_tick(n->ledger, &err)) GT_WARN("node: empty block: %s", err.msg);
            else atomic_fetch_add(&n->metrics.ticks, 1);
            index_more = publish_new(n);
            n->last_block_ms = gt_api_now_ms(); /* even after a failure: retry next interval, not in a loop */
        }
        if (now - last_wake >= wake_every) {
            gt_events_wake(n->events);
            last_wake = now;
        }
        pthread_mutex_lock(&n->watch_mu);
    }
    pthread_mutex_unlock(&n->watch_mu);
    (void)publish_new(n); /* the last blocks, for streams still open */
    return NULL;
}

/* ---- The home's lock: one node per home. */

static int node_lock_publish(gt_node *n, gt_err *err);

/* Longest content of node.lock read back ("pid N port P\n"). */
#define NODE_LOCK_MAX_BYTES 64

/* Takes HOME/node.lock (an flock held while the node runs, released by the
 * kernel however the process ends) and writes our pid into it; the port
 * follows once bound (node_lock_publish). When another node holds it, the
 * refusal names that node's pid and port, read from the file. */
static int node_lock(gt_node *n, gt_err *err) {
    char path[4200], held[NODE_LOCK_MAX_BYTES + 1];
    snprintf(path, sizeof path, "%s/node.lock", n->home);
    n->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (n->lock_fd < 0) {
        if (errno == ENOENT)
            return gt_err_set(err, GT_ENOTFOUND, "no home at %s (run `gotong init` first)", n->home);
        return gt_err_set(err, GT_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    if (flock(n->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t got = pread(n->lock_fd, held, NODE_LOCK_MAX_BYTES, 0);
        held[got > 0 ? got : 0] = 0;
        held[strcspn(held, "\r\n")] = 0;
        close(n->lock_fd);
        n->lock_fd = -1;
        return gt_err_set(err, GT_ESTATE,
                          "the home %s is in use by another node (%s); stop it, or talk to it with "
                          "--node URL",
                          n->home, held[0] ? held : "pid unknown");
    }
    return node_lock_publish(n, err);
}

/* Rewrites node.lock with our pid and (once bound) port, for the refusal a
 * second node prints. */
static int node_lock_publish(gt_node *n, gt_err *err) {
    char line[NODE_LOCK_MAX_BYTES];
    int len = n->port ? snprintf(line, sizeof line, "pid %ld, port %u\n", (long)getpid(), (unsigned)n->port)
                      : snprintf(line, sizeof line, "pid %ld, port not bound yet\n", (long)getpid());
    assert(len > 0 && len < (int)sizeof line);
    if (ftruncate(n->lock_fd, 0) != 0 || pwrite(n->lock_fd, line, (size_t)len, 0) != len)
        return gt_err_set(err, GT_EIO, "cannot write %s/node.lock: %s", n->home, strerror(errno));
    return 0;
}

/* Releases the lock (and empties the file, so it names no stale node). */
static void node_unlock(gt_node *n) {
    if (n->lock_fd < 0) return;
    if (ftruncate(n->lock_fd, 0) != 0) GT_WARN("node: cannot empty %s/node.lock", n->home);
    close(n->lock_fd); /* releases the flock */
    n->lock_fd = -1;
}

/* ---- Lifecycle. */

/* Logs where the node serves: the host as given (n->listen is HOST:PORT,
 * PORT possibly 0) and the port it bound. */
static void log_serving(const gt_node *n, uint64_t head_height) {
    const char *colon = strrchr(n->listen, ':');
    int host_len = colon ? (int)(colon - n->listen) : (int)strlen(n->listen);
    GT_INFO("node: serving %s on http://%.*s:%u (chain %llu, head %llu, %s)", n->db_path, host_len, n->listen,
            (unsigned)n->port, (unsigned long long)n->genesis.chain_id, (unsigned long long)head_height,
            n->cfg.threads ? "thread pool" : "thread per connection");
}

/* Raises the process's soft limit of open files to its hard limit, and
 * warns when even that is short of what the connection limit needs. Why:
 * every connection holds a socket and a blob download its file besides
 * (h_blobs.c), so the common soft limit of 1024 runs out before the
 * default of GT_API_MAX_CONNECTIONS connections; a refused accept is all
 * that follows, but the limit should be the one the node says it has. */
static void raise_open_files(unsigned max_connections) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    /* 2 a connection (socket, a download's file) and 64 for the ledger, logs and blob writes */
    rlim_t need = (rlim_t)max_connections * 2 + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        GT_WARN("node: the open-file limit is %llu, under the %llu that %u connections may need (ulimit -n); "
                "connections past it are refused",
                (unsigned long long)rl.rlim_cur, (unsigned long long)need, max_connections);
}

/* The blob store at start: the temp files of uploads a crash cut short are
 * nobody's, and the store's cap counts from the usage files' sum. */
static int blob_store_open(gt_node *n, gt_err *err) {
    int rc = gt_blob_clean_tmp(n->blob_dir, err);
    if (rc < 0) return rc;
    if (rc > 0) GT_INFO("node: removed %d unfinished upload(s) from %s/tmp", rc, n->blob_dir);
    if ((rc = gt_blob_usage_total(n->blob_dir, &n->blob_used, err)))
        return gt_err_wrap(err, "the blob store's usage (fix or remove the damaged file; its account's quota then "
                           "starts again from 0)");
    return 0;
}

/* The Host names the node answers to beside addresses and localhost
 * (ext.h's gt_api_host_check): --allow-host's, and the host of the card's
 * --public-url, which other nodes and agents are told to use. */
static int node_allow_hosts(gt_node *n, gt_err *err) {
    const char *allow = n->cfg.allow_hosts, *url = n->cfg.chain_public_url, *h = url ? strstr(url, "://") : NULL;
    size_t hn = 0;
    if (h) {
        h += 3;
        hn = h[0] == '[' ? 0 : strcspn(h, ":/?#"); /* an IPv6 literal is taken anyway */
    }
    int len = snprintf(n->allow_hosts, sizeof n->allow_hosts, "%s%s%.*s", allow ? allow : "", allow && hn ? "," : "",
                       (int)hn, hn ? h : "");
    if (len < 0 || (size_t)len >= sizeof n->allow_hosts)
        return gt_err_set(err, GT_EINVAL, "--allow-host and the --public-url's host: %d bytes together, at most %d",
                          len, GT_API_ALLOW_HOSTS_MAX - 1);
    n->cfg.allow_hosts = n->allow_hosts;
    return 0;
}

/* The node's own copy of c: its defaults filled in, its strings copied
 * into the node (the caller's may go), the Host names it answers to. */
static int node_config(gt_node *n, const gt_node_config *c, gt_err *err) {
    n->cfg = *c;
    if (!n->cfg.listen) n->cfg.listen = GT_API_DEFAULT_LISTEN;
    if (!n->cfg.max_connections) n->cfg.max_connections = GT_API_MAX_CONNECTIONS;
    if (!n->cfg.timeout_s) n->cfg.timeout_s = GT_API_TIMEOUT_S;
    if (!n->cfg.sse_keepalive_ms) n->cfg.sse_keepalive_ms = GT_API_SSE_KEEPALIVE_MS;
    if (!n->cfg.max_connections_per_ip) n->cfg.max_connections_per_ip = GT_API_MAX_CONNECTIONS_PER_IP;
    if (!n->cfg.request_max_s) n->cfg.request_max_s = GT_API_REQUEST_MAX_S;
    if (!n->cfg.index_round_blocks) n->cfg.index_round_blocks = GT_API_INDEX_ROUND_BLOCKS;
    snprintf(n->home, sizeof n->home, "%s", c->home);
    snprintf(n->listen, sizeof n->listen, "%s", n->cfg.listen);
    n->cfg.home = n->home;
    n->cfg.listen = n->listen;
    return node_allow_hosts(n, err);
}

int gt_node_start(const gt_node_config *c, gt_node **out, gt_err *err) {
    *out = NULL;
    if (!c->home) return gt_err_set(err, GT_EINVAL, "the node needs a home directory");
    gt_node *n = gt_calloc(1, sizeof *n);
    if (!n) return gt_err_set(err, GT_ENOMEM, "out of memory");
    n->lock_fd = -1;
    if (node_config(n, c, err)) {
        gt_free(n);
        return err->code;
    }
    raise_open_files(n->cfg.max_connections);
    snprintf(n->db_path, sizeof n->db_path, "%s/ledger.db", n->home);
    snprintf(n->blob_dir, sizeof n->blob_dir, "%s/blobs", n->home);
    pthread_mutex_init(&n->readers_mu, NULL);
    pthread_mutex_init(&n->watch_mu, NULL);
    pthread_mutex_init(&n->blob_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->watch_cv, &ca);
    pthread_condattr_destroy(&ca);
    /* SQLite keeps memory statistics behind one process-wide mutex taken on
     * every allocation; with many request threads reading at once that lock
     * dominated the profile of task listings. The node reads no statistics:
     * turn them off. This only works before SQLite's first use in the
     * process (as in `gotong node`); later it is refused and changes nothing. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    int rc;
    /* The market's, the work layer's and funding's kinds must be known before the
     * ledger opens, or their actions would be refused as unknown types. */
    if ((rc = gt_fund_register(err))) goto fail;
    if ((rc = node_lock(n, err))) goto fail;
    if ((rc = gt_ledger_open(n->db_path, 0, &n->ledger, err))) goto fail;
    if ((rc = blob_store_open(n, err))) goto fail;
    n->genesis = *gt_ledger_genesis(n->ledger);
    n->domain = *gt_ledger_domain(n->ledger);
    gt_block head;
    if ((rc = gt_ledger_head(n->ledger, &head, err))) goto fail;
    n->published_height = head.height;
    /* The action index is derived from the log: a node without one still
     * serves everything else, and GET /v1/actions says why it cannot. */
    char index_path[4300];
    snprintf(index_path, sizeof index_path, "%s/index.db", n->home);
    gt_err ierr = {0};
    if (gt_index_open(index_path, &n->index, &ierr)) GT_WARN("node: no action index: %s", ierr.msg);
    else if (gt_index_check(n->index, n->ledger, head.height, &ierr))
        GT_WARN("node: the action index: %s (GET /v1/actions answers nothing until it is checked)", ierr.msg);
    atomic_store(&n->metrics.head_height, head.height);
    n->events = gt_events_new(n->cfg.threads == 0, n->cfg.sse_keepalive_ms, GT_API_MAX_SSE_CLIENTS);
    if (!n->events) { rc = gt_err_set(err, GT_ENOMEM, "out of memory"); goto fail; }
    if ((rc = gt_api_x402_open(n->home, gt_api_node_route_known, n, &n->x402, err))) goto fail;
    if ((rc = gt_http_start(n, err))) goto fail;
    if (n->cfg.chain_url) {
        struct gt_chain_market *cm = NULL;
        if ((rc = gt_chain_market_start(n, &cm, err))) goto fail;
        __atomic_store_n(&n->chain_market, cm, __ATOMIC_RELEASE); /* requests already run: see api_impl.h */
    }
    if ((rc = node_lock_publish(n, err))) goto fail;
    if (pthread_create(&n->watcher, NULL, watcher_main, n) != 0) {
        rc = gt_err_set(err, GT_ENOMEM, "cannot start the chain watcher thread");
        goto fail;
    }
    n->has_watcher = 1;
    log_serving(n, head.height);
    *out = n;
    return 0;
fail:
    gt_node_stop(n);
    return rc;
}

/* See api.h. Order matters: HTTP first (no request may use the ledger or the
 * readers afterwards), then the watcher, the readers, the ledger. */
void gt_node_stop(gt_node *n) {
    if (!n) return;
    gt_http_stop(n); /* no request runs after this */
    gt_api_x402_close(n->x402);
    gt_chain_market_stop(n->chain_market);
    if (n->has_watcher) {
        pthread_mutex_lock(&n->watch_mu);
        n->watch_stop = 1;
        pthread_cond_signal(&n->watch_cv);
        pthread_mutex_unlock(&n->watch_mu);
        pthread_join(n->watcher, NULL);
    }
    while (n->free_readers) {
        gt_reader *r = n->free_readers;
        n->free_readers = r->next;
        reader_close(r);
    }
    gt_ledger_close(n->ledger); /* waits for the writer: all acknowledged blocks are durable */
    gt_events_close(n->events, 0);
    gt_events_free(n->events);
    gt_index_close(n->index); /* after the watcher, its only writer, has stopped */
    pthread_mutex_destroy(&n->readers_mu);
    gt_conns_stop(&n->conns); /* if the HTTP side never stopped */
    pthread_mutex_destroy(&n->watch_mu);
    pthread_mutex_destroy(&n->blob_mu);
    pthread_cond_destroy(&n->watch_cv);
    node_unlock(n); /* last: a next node may start once the ledger is closed */
    GT_INFO("node: stopped");
    gt_free(n);
}
