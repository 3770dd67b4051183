/* chain_index.c: HOME/chain_index.db, the node's index of the escrow's and
 * the agent registry's events (see chain_market.h).
 *
 * Tables: jobs and agents are derived from the chain's logs and rebuilt from
 * the deployment block whenever the last indexed block is no longer the
 * chain's (a reorganisation deeper than the confirmation depth) or the index
 * belongs to another deployment; work holds what this node did itself (a
 * job's input and output, whether it acted) and is kept. One connection,
 * behind a mutex: the watcher writes, requests read. */
#include <assert.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "api/chain_market.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/log.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"

struct gt_cindex {
    pthread_mutex_t mu;
    sqlite3 *db;
    uint64_t height, from_block; /* every block in from_block..height is indexed (height from_block - 1: none) */
    uint8_t hash[32];            /* block `height`'s hash when indexed */
    gt_addr escrow, registry;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS jobs(id INTEGER PRIMARY KEY, client TEXT, provider TEXT, evaluator TEXT,"
    " budget INTEGER NOT NULL DEFAULT 0, stake INTEGER NOT NULL DEFAULT 0, expired_at INTEGER NOT NULL DEFAULT 0,"
    " status TEXT NOT NULL DEFAULT 'open', description TEXT, deliverable TEXT, reason TEXT,"
    " claimed INTEGER NOT NULL DEFAULT 0, block INTEGER NOT NULL, timed INTEGER NOT NULL DEFAULT 0,"
    " keep_after INTEGER NOT NULL DEFAULT 0, keep_tries INTEGER NOT NULL DEFAULT 0,"
    " submitted_block INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS agents(id INTEGER PRIMARY KEY, owner TEXT NOT NULL, uri TEXT NOT NULL,"
    " block INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS work(job INTEGER PRIMARY KEY, input BLOB, output BLOB,"
    " step INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, note TEXT,"
    " looks INTEGER NOT NULL DEFAULT 0, retry_ms INTEGER NOT NULL DEFAULT 0);";
/* work's looks and retry_ms came later: added to a work table made before them. */
static const char work_looks[] = "ALTER TABLE work ADD COLUMN looks INTEGER NOT NULL DEFAULT 0;"
                                 "ALTER TABLE work ADD COLUMN retry_ms INTEGER NOT NULL DEFAULT 0;";

/* Runs sql with text/int64/blob bindings (types by fmt: 't' text,
 * 'i' int64, 'b' blob with its length next); 0 or GT_EDB. */
static int exec(gt_cindex *ix, const char *sql, const char *fmt, const void *a[], const int64_t n[], gt_err *err) {
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) == SQLITE_OK;
    for (int i = 0; ok && fmt && fmt[i]; i++) {
        if (fmt[i] == 't') ok = sqlite3_bind_text(st, i + 1, a[i], -1, SQLITE_TRANSIENT) == SQLITE_OK;
        else if (fmt[i] == 'i') ok = sqlite3_bind_int64(st, i + 1, n[i]) == SQLITE_OK;
        else ok = sqlite3_bind_blob(st, i + 1, a[i], (int)n[i], SQLITE_TRANSIENT) == SQLITE_OK;
    }
    ok = ok && sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok ? 0 : gt_err_set(err, GT_EDB, "chain index: %s", sqlite3_errmsg(ix->db));
}

static int meta_put(gt_cindex *ix, const char *k, const void *v, size_t n, gt_err *err) {
    const void *a[] = {k, v};
    const int64_t len[] = {0, (int64_t)n};
    return exec(ix, "INSERT OR REPLACE INTO meta(k, v) VALUES(?1, ?2)", "tb", a, len, err);
}

/* Meta value k into out (n bytes expected); *found 0 when absent or of another size. */
static int meta_get(gt_cindex *ix, const char *k, void *out, size_t n, int *found) {
    sqlite3_stmt *st = NULL;
    *found = 0;
    if (sqlite3_prepare_v2(ix->db, "SELECT v FROM meta WHERE k=?1", -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) == n) {
        memcpy(out, sqlite3_column_blob(st, 0), n);
        *found = 1;
    }
    sqlite3_finalize(st);
    return 0;
}

/* Empties the derived tables: the index starts over at from_block. */
static int restart(gt_cindex *ix, gt_err *err) {
    int rc = sqlite3_exec(ix->db, "DELETE FROM jobs; DELETE FROM agents; DELETE FROM meta WHERE k='height';", NULL,
                          NULL, NULL) == SQLITE_OK ? 0 : gt_err_set(err, GT_EDB, "chain index: %s",
                                                                    sqlite3_errmsg(ix->db));
    ix->height = ix->from_block - 1;
    memset(ix->hash, 0, 32);
    return rc;
}

/* The deployment the file was made for: the same, or the index starts over. */
static int check_deployment(gt_cindex *ix, uint64_t chain_id, gt_err *err) {
    uint8_t want[8 + 40], have[sizeof want], h[40];
    int found = 0;
    for (int i = 0; i < 8; i++) want[i] = (uint8_t)(chain_id >> (56 - 8 * i));
    memcpy(want + 8, ix->escrow.b, 20);
    memcpy(want + 28, ix->registry.b, 20);
    if (meta_get(ix, "deployment", have, sizeof have, &found)) return gt_err_set(err, GT_EDB, "chain index: meta");
    if (found && !memcmp(have, want, sizeof want)) {
        if (meta_get(ix, "height", h, sizeof h, &found)) return gt_err_set(err, GT_EDB, "chain index: meta");
        if (!found) return restart(ix, err);
        ix->height = 0;
        for (int i = 0; i < 8; i++) ix->height = ix->height << 8 | h[i];
        memcpy(ix->hash, h + 8, 32);
        return 0;
    }
    if (found) GT_WARN("node: the chain index was made for another deployment: starting it over");
    int rc = restart(ix, err);
    return rc ? rc : meta_put(ix, "deployment", want, sizeof want, err);
}

/* Adds the looks and retry_ms columns to a work table made before them, and ends every slot's wait (retry_ms 0) at
 * each open: retry_ms is on the monotonic clock of the process that wrote it, which a new process (after a reboot)
 * need not share, so a restarted node looks at each slot again at once. */
static int upgrade_work(gt_cindex *ix, gt_err *err) {
    sqlite3_stmt *st = NULL;
    int current = sqlite3_prepare_v2(ix->db, "SELECT retry_ms FROM work LIMIT 0", -1, &st, NULL) == SQLITE_OK;
    sqlite3_finalize(st);
    int ok = (current || sqlite3_exec(ix->db, work_looks, NULL, NULL, NULL) == SQLITE_OK) &&
             sqlite3_exec(ix->db, "UPDATE work SET retry_ms = 0 WHERE retry_ms <> 0", NULL, NULL, NULL) == SQLITE_OK;
    return ok ? 0 : gt_err_set(err, GT_EDB, "chain index: work: %s", sqlite3_errmsg(ix->db));
}

/* An index made before the keeper's columns (timed, keep_after, keep_tries) or the submission's block
 * (submitted_block) lacks them: its derived tables are dropped, made again and indexed anew from the deployment
 * block; work (this node's own) is kept. */
static int upgrade(gt_cindex *ix, gt_err *err) {
    sqlite3_stmt *st = NULL;
    int current = sqlite3_prepare_v2(ix->db, "SELECT submitted_block FROM jobs LIMIT 0", -1, &st, NULL) == SQLITE_OK;
    sqlite3_finalize(st);
    if (current) return upgrade_work(ix, err);
    GT_WARN("node: the chain index predates its deadline or submission columns: indexing again from the deployment "
            "block");
    int ok = sqlite3_exec(ix->db, "DROP TABLE IF EXISTS jobs; DROP TABLE IF EXISTS agents;"
                                  " DELETE FROM meta WHERE k='height';", NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_exec(ix->db, schema, NULL, NULL, NULL) == SQLITE_OK;
    return ok ? upgrade_work(ix, err) : gt_err_set(err, GT_EDB, "chain index: %s", sqlite3_errmsg(ix->db));
}

int gt_cindex_open(const char *path, uint64_t chain_id, const gt_addr *escrow, const gt_addr *registry,
                   uint64_t from_block, gt_cindex **out, gt_err *err) {
    gt_cindex *ix = gt_calloc(1, sizeof *ix);
    if (!ix) return gt_err_set(err, GT_ENOMEM, "out of memory");
    pthread_mutex_init(&ix->mu, NULL);
    ix->escrow = *escrow, ix->registry = *registry;
    ix->from_block = from_block ? from_block : 1; /* the genesis block has no logs */
    int rc = sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) == SQLITE_OK &&
                     sqlite3_exec(ix->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) ==
                         SQLITE_OK &&
                     sqlite3_exec(ix->db, schema, NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : gt_err_set(err, GT_EDB, "chain index %s: %s", path, ix->db ? sqlite3_errmsg(ix->db) : "no memory");
    if (!rc) rc = upgrade(ix, err);
    if (!rc) rc = check_deployment(ix, chain_id, err);
    if (rc) {
        gt_cindex_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void gt_cindex_close(gt_cindex *ix) {
    if (!ix) return;
    sqlite3_close(ix->db);
    pthread_mutex_destroy(&ix->mu);
    gt_free(ix);
}

uint64_t gt_cindex_height(gt_cindex *ix) {
    pthread_mutex_lock(&ix->mu);
    uint64_t h = ix->height;
    pthread_mutex_unlock(&ix->mu);
    return h;
}

/* ---- applying the logs ---- */

static const char NO_PROVIDER[] = "0x0000000000000000000000000000000000000000"; /* a job open to anyone */

enum { EV_CREATED, EV_POSTED, EV_FUNDED, EV_PROVIDER, EV_BUDGET, EV_STAKE, EV_CLAIMED, EV_SUBMITTED, EV_COMPLETED,
       EV_REJECTED, EV_EXPIRED, EV_APPEAL, EV_DISPUTED, EV_SETTLED, EV_PHASES, EV_REOPENED, EV_VERIFY_MISSED,
       EV_REFUNDED, EV_REGISTERED, EV_URI, N_EVENTS }; /* the registry's events last */
static const char *const event_sig[N_EVENTS] = {
    "JobCreated(uint256,address,address,address,uint256)", "JobPosted(uint256,bytes32,uint256)",
    "JobFunded(uint256,address,uint256)", "ProviderSet(uint256,address)", "BudgetSet(uint256,uint256)",
    "StakeSet(uint256,uint256)", "JobClaimed(uint256,address,uint256)", "JobSubmitted(uint256,address,bytes32)",
    "JobCompleted(uint256,address,bytes32)", "JobRejected(uint256,address,bytes32)", "JobExpired(uint256)",
    "AppealOpened(uint256,address,uint256,uint256)", "JobDisputed(uint256,address,uint256)",
    "DisputeSettled(uint256,uint8)", "PhasesSet(uint256,uint256,uint256)", "JobReopened(uint256,address)",
    "VerifyMissed(uint256,address)", "Refunded(uint256,address,uint256)", "Registered(uint256,string,address)",
    "URIUpdated(uint256,string,address)"};

static uint8_t event_topic[N_EVENTS][32];
static pthread_once_t event_once = PTHREAD_ONCE_INIT;

static void event_init(void) {
    for (int i = 0; i < N_EVENTS; i++) gt_abi_event_topic(event_sig[i], event_topic[i]);
}

/* The event of topic t, or -1 (an event the index does not keep). */
static int event_of(const uint8_t t[32]) {
    pthread_once(&event_once, event_init);
    for (int i = 0; i < N_EVENTS; i++)
        if (!memcmp(event_topic[i], t, 32)) return i;
    return -1;
}

/* Word i of l's data as an amount the index can hold (SQLite's int64). */
static int data_amount(const gt_chain_log *l, size_t i, int64_t *out, gt_err *err) {
    uint64_t v = 0;
    int rc = gt_abi_get_u64(l->data, l->data_len, i, &v, err);
    if (!rc && v > INT64_MAX) rc = gt_err_set(err, GT_ELIMIT, "an amount over 2^63 - 1 base units");
    *out = (int64_t)v;
    return rc;
}

static void hex32(const uint8_t *b, char out[67]) {
    out[0] = '0', out[1] = 'x';
    gt_hex_encode(b, 32, out + 2);
}

/* JobCreated: a new row (client and provider in the topics). */
static int on_created(gt_cindex *ix, const gt_chain_log *l, int64_t id, gt_err *err) {
    gt_addr client, provider, evaluator;
    char c[GT_ADDR_STR_BYTES], p[GT_ADDR_STR_BYTES], e[GT_ADDR_STR_BYTES];
    int64_t expired = 0;
    int rc = l->n_topics == 4 ? 0 : gt_err_set(err, GT_EINVAL, "JobCreated without its topics");
    if (!rc) rc = gt_abi_word_address(l->topics[2], &client, "client", err);
    if (!rc) rc = gt_abi_word_address(l->topics[3], &provider, "provider", err);
    if (!rc) rc = gt_abi_get_address(l->data, l->data_len, 0, &evaluator, err);
    if (!rc) rc = data_amount(l, 1, &expired, err);
    if (rc) return rc;
    gt_addr_to_str(&client, c), gt_addr_to_str(&provider, p), gt_addr_to_str(&evaluator, e);
    const void *a[] = {NULL, c, p, e};
    const int64_t n[] = {id, 0, 0, 0, expired, (int64_t)l->block_number};
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(ix->db,
                                "INSERT OR REPLACE INTO jobs(id, client, provider, evaluator, expired_at, block)"
                                " VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL) == SQLITE_OK;
    for (int i = 0; ok && i < 6; i++)
        ok = (i >= 1 && i <= 3 ? sqlite3_bind_text(st, i + 1, a[i], -1, SQLITE_TRANSIENT)
                               : sqlite3_bind_int64(st, i + 1, n[i])) == SQLITE_OK;
    ok = ok && sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok ? 0 : gt_err_set(err, GT_EDB, "chain index: %s", sqlite3_errmsg(ix->db));
}

/* UPDATE jobs SET col = (text t, or number v) [, status] WHERE id. */
static int job_set(gt_cindex *ix, int64_t id, const char *col, const char *t, int64_t v, const char *status,
                   gt_err *err) {
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE jobs SET %s=?2%s WHERE id=?1", col, status ? ", status=?3" : "");
    const void *a[] = {NULL, t, status};
    const int64_t n[] = {id, v, 0};
    char fmt[4] = {'i', t ? 't' : 'i', status ? 't' : 0, 0};
    return exec(ix, sql, fmt, a, n, err);
}

/* An escrow event other than JobCreated, on job id. */
static int on_job(gt_cindex *ix, int ev, const gt_chain_log *l, int64_t id, gt_err *err) {
    char text[67];
    gt_addr who;
    int64_t v = 0;
    uint8_t w[32];
    int rc = 0;
    switch (ev) {
    case EV_POSTED:
        if ((rc = gt_abi_get_word(l->data, l->data_len, 0, w, err)) || (rc = data_amount(l, 1, &v, err))) return rc;
        hex32(w, text);
        return (rc = job_set(ix, id, "description", text, 0, NULL, err)) ? rc : job_set(ix, id, "stake", NULL, v,
                                                                                          NULL, err);
    case EV_FUNDED: return (rc = data_amount(l, 0, &v, err)) ? rc : job_set(ix, id, "budget", NULL, v, "funded", err);
    case EV_BUDGET: return (rc = data_amount(l, 0, &v, err)) ? rc : job_set(ix, id, "budget", NULL, v, NULL, err);
    case EV_STAKE: return (rc = data_amount(l, 0, &v, err)) ? rc : job_set(ix, id, "stake", NULL, v, NULL, err);
    case EV_PROVIDER:
    case EV_CLAIMED:
        if (l->n_topics < 3) return gt_err_set(err, GT_EINVAL, "%s without its provider", event_sig[ev]);
        if ((rc = gt_abi_word_address(l->topics[2], &who, "provider", err))) return rc;
        gt_addr_to_str(&who, text);
        if ((rc = job_set(ix, id, "provider", text, 0, NULL, err)) || ev == EV_PROVIDER) return rc;
        return job_set(ix, id, "claimed", NULL, 1, NULL, err);
    case EV_SUBMITTED:
    case EV_COMPLETED:
    case EV_REJECTED:
        if ((rc = gt_abi_get_word(l->data, l->data_len, 0, w, err))) return rc;
        hex32(w, text);
        if (ev == EV_SUBMITTED) /* its block too: the evaluator reads the deliverable there from the chain */
            return exec(ix, "UPDATE jobs SET deliverable=?2, status='submitted', submitted_block=?3 WHERE id=?1", "iti",
                        (const void *[]){NULL, text, NULL}, (const int64_t[]){id, 0, (int64_t)l->block_number}, err);
        return job_set(ix, id, "reason", text, 0, ev == EV_COMPLETED ? "completed" : "rejected", err);
    case EV_EXPIRED: return job_set(ix, id, "block", NULL, (int64_t)l->block_number, "expired", err);
    case EV_APPEAL: return job_set(ix, id, "block", NULL, (int64_t)l->block_number, "appeal", err);
    case EV_DISPUTED: return job_set(ix, id, "block", NULL, (int64_t)l->block_number, "disputed", err);
    case EV_PHASES: return job_set(ix, id, "timed", NULL, 1, NULL, err);
    case EV_REOPENED: /* a missed submit deadline or a standing rejection: open to any worker again */
        rc = exec(ix, "UPDATE jobs SET provider=?2, claimed=0, deliverable=NULL, status='funded', keep_after=0,"
                      " keep_tries=0 WHERE id=?1", "it", (const void *[]){NULL, NO_PROVIDER},
                  (const int64_t[]){id, 0}, err);
        /* This node's step was on the claim or submission that ended: the next one is a new step (an evaluator that
         * rejected the first submission judges the next; before, its mark made it never judge the job again, so
         * one wrong submission left every later worker of the job unjudged and unpaid). */
        return rc ? rc : exec(ix, "UPDATE work SET step=0, attempts=0 WHERE job=?1", "i", NULL,
                              (const int64_t[]){id}, err);
    case EV_VERIFY_MISSED: return job_set(ix, id, "block", NULL, (int64_t)l->block_number, "expired", err);
    case EV_REFUNDED: /* an appeal's rejection finalized (no status event of its own) */
        return exec(ix, "UPDATE jobs SET status='rejected' WHERE id=?1 AND status='appeal'", "i", NULL,
                    (const int64_t[]){id}, err);
    case EV_SETTLED:
        if ((rc = gt_abi_get_u64(l->data, l->data_len, 0, (uint64_t *)&v, err))) return rc;
        return job_set(ix, id, "block", NULL, (int64_t)l->block_number, v == 1 ? "completed" : "rejected", err);
    default: return 0;
    }
}

/* Registered or URIUpdated: the agent's row. */
static int on_agent(gt_cindex *ix, int ev, const gt_chain_log *l, int64_t id, gt_err *err) {
    const uint8_t *p = NULL;
    size_t len = 0;
    gt_addr owner;
    char o[GT_ADDR_STR_BYTES], *uri = NULL;
    int rc = l->n_topics == 3 ? 0 : gt_err_set(err, GT_EINVAL, "%s without its topics", event_sig[ev]);
    if (!rc) rc = gt_abi_word_address(l->topics[2], &owner, "owner", err);
    if (!rc) rc = gt_abi_get_bytes(l->data, l->data_len, 0, &p, &len, err);
    if (!rc && !(uri = gt_malloc(len + 1))) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (rc) return rc;
    memcpy(uri, p, len), uri[len] = 0;
    gt_addr_to_str(&owner, o);
    const void *a[] = {NULL, o, uri};
    const int64_t n[] = {id, 0, 0, (int64_t)l->block_number};
    rc = ev == EV_REGISTERED
             ? exec(ix, "INSERT OR REPLACE INTO agents(id, owner, uri, block) VALUES(?1, ?2, ?3, ?4)", "itti", a, n,
                    err)
             : exec(ix, "UPDATE agents SET uri=?3 WHERE id=?1 AND ?2 IS NOT NULL", "itt", a, n, err);
    gt_free(uri);
    return rc;
}

/* One log of the escrow or the registry (others are not asked for). */
static int apply(gt_cindex *ix, const gt_chain_log *l, gt_err *err) {
    int ev = l->n_topics ? event_of(l->topics[0]) : -1;
    int is_escrow = gt_addr_eq(&l->address, &ix->escrow);
    if (ev < 0 || (ev >= EV_REGISTERED) == is_escrow || l->n_topics < 2) return 0;
    uint64_t id = 0;
    int rc = gt_abi_word_u64(l->topics[1], &id, "id", err);
    if (!rc && id > INT64_MAX) rc = gt_err_set(err, GT_ELIMIT, "id over 2^63 - 1");
    if (!rc) rc = ev == EV_CREATED ? on_created(ix, l, (int64_t)id, err)
                : ev >= EV_REGISTERED ? on_agent(ix, ev, l, (int64_t)id, err)
                                      : on_job(ix, ev, l, (int64_t)id, err);
    return rc ? gt_err_wrap(err, "block %llu log %u (%s)", (unsigned long long)l->block_number, l->log_index,
                            event_sig[ev]) : 0;
}

/* Logs of from..*to, bracketed by two reads of *to's hash (into hash): the
 * same hash before and after means the logs are of that block's chain; *same
 * 0 when it changed (the round is skipped). A range of too many logs is
 * halved until it fits. */
static int fetch(gt_cindex *ix, gt_chain *c, uint64_t from, uint64_t *to, gt_chain_receipt *logs, uint8_t hash[32],
                 int *same, gt_err *err) {
    const gt_addr addrs[2] = {ix->escrow, ix->registry};
    uint8_t after[32];
    for (;;) {
        int rc = gt_chain_block_hash(c, *to, hash, err);
        if (!rc) rc = gt_chain_get_logs(c, addrs, 2, from, *to, logs, err);
        if (rc == GT_ELIMIT && *to > from) {
            *to = from + (*to - from) / 2;
            continue;
        }
        if (!rc) rc = gt_chain_block_hash(c, *to, after, err);
        *same = !rc && !memcmp(hash, after, 32);
        return rc;
    }
}

/* Applies logs of blocks ..to in one transaction and records to's hash. */
static int commit_range(gt_cindex *ix, const gt_chain_receipt *logs, uint64_t to, const uint8_t hash[32],
                        gt_err *err) {
    uint8_t h[40];
    for (int i = 0; i < 8; i++) h[i] = (uint8_t)(to >> (56 - 8 * i));
    memcpy(h + 8, hash, 32);
    pthread_mutex_lock(&ix->mu);
    int rc = sqlite3_exec(ix->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : gt_err_set(err, GT_EDB, "BEGIN");
    for (size_t i = 0; !rc && i < logs->n_logs; i++) rc = apply(ix, &logs->logs[i], err);
    if (!rc) rc = meta_put(ix, "height", h, sizeof h, err);
    if (!rc && sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = gt_err_set(err, GT_EDB, "chain index: COMMIT: %s", sqlite3_errmsg(ix->db));
    if (rc) sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
    else ix->height = to, memcpy(ix->hash, hash, 32);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

/* Starts over when the last indexed block is no longer the chain's. */
static int check_reorg(gt_cindex *ix, gt_chain *c, int *moved, gt_err *err) {
    uint8_t h[32];
    if (ix->height < ix->from_block) return 0;
    int rc = gt_chain_block_hash(c, ix->height, h, err);
    if (rc == GT_ENOTFOUND) memset(h, 0, 32), rc = 0; /* the chain got shorter */
    if (rc || !memcmp(h, ix->hash, 32)) return rc;
    GT_WARN("node: block %llu of the chain index is no longer the chain's (a reorganisation deeper than the "
            "confirmation depth): indexing again from block %llu", (unsigned long long)ix->height,
            (unsigned long long)ix->from_block);
    pthread_mutex_lock(&ix->mu);
    rc = restart(ix, err);
    pthread_mutex_unlock(&ix->mu);
    *moved = 1;
    return rc;
}

int gt_cindex_round(gt_cindex *ix, gt_chain *c, uint64_t confirmations, int *moved, gt_err *err) {
    assert(confirmations >= 1);
    uint64_t head = 0;
    *moved = 0;
    int rc = gt_chain_block_number(c, &head, err);
    if (!rc) rc = check_reorg(ix, c, moved, err);
    if (rc || head + 1 < confirmations + ix->from_block) return rc;
    uint64_t target = head + 1 - confirmations, from = ix->height + 1;
    if (target < from) return 0;
    uint64_t to = target - from >= GT_CINDEX_ROUND_BLOCKS ? from + GT_CINDEX_ROUND_BLOCKS - 1 : target;
    uint8_t hash[32];
    int same = 0;
    gt_chain_receipt logs = {0};
    rc = fetch(ix, c, from, &to, &logs, hash, &same, err);
    if (!rc && same && !(rc = commit_range(ix, &logs, to, hash, err))) *moved = 1;
    gt_chain_receipt_free(&logs);
    return rc;
}

/* ---- reading ---- */

#define JOB_COLS \
    "id, client, provider, evaluator, budget, stake, expired_at, status, description, deliverable, claimed, timed," \
    " submitted_block"

/* Text column i as an address or 32 bytes (zero when NULL). */
static void col_addr(sqlite3_stmt *st, int i, gt_addr *out) {
    const char *t = (const char *)sqlite3_column_text(st, i);
    if (!t || gt_addr_parse(t, out, NULL)) memset(out, 0, sizeof *out);
}

static void col_b32(sqlite3_stmt *st, int i, uint8_t out[32]) {
    const char *t = (const char *)sqlite3_column_text(st, i);
    memset(out, 0, 32);
    if (t && strlen(t) == 66) gt_hex_decode(t + 2, out, 32, "hash", NULL);
}

static void row_job(sqlite3_stmt *st, gt_cjob *j) {
    memset(j, 0, sizeof *j);
    j->id = (uint64_t)sqlite3_column_int64(st, 0);
    col_addr(st, 1, &j->client), col_addr(st, 2, &j->provider), col_addr(st, 3, &j->evaluator);
    j->budget = (uint64_t)sqlite3_column_int64(st, 4);
    j->stake = (uint64_t)sqlite3_column_int64(st, 5);
    j->expired_at = (uint64_t)sqlite3_column_int64(st, 6);
    snprintf(j->status, sizeof j->status, "%s", (const char *)sqlite3_column_text(st, 7));
    col_b32(st, 8, j->description), col_b32(st, 9, j->deliverable);
    j->claimed = sqlite3_column_int(st, 10);
    j->timed = sqlite3_column_int(st, 11);
    j->submitted_block = (uint64_t)sqlite3_column_int64(st, 12);
}

int gt_cindex_job(gt_cindex *ix, uint64_t id, gt_cjob *out, gt_err *err) {
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&ix->mu);
    int ok = sqlite3_prepare_v2(ix->db, "SELECT " JOB_COLS " FROM jobs WHERE id=?1", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_bind_int64(st, 1, (int64_t)id) == SQLITE_OK;
    int step = ok ? sqlite3_step(st) : SQLITE_ERROR;
    if (step == SQLITE_ROW) row_job(st, out);
    int rc = step == SQLITE_ROW    ? 0
             : step == SQLITE_DONE ? gt_err_set(err, GT_ENOTFOUND, "job %llu is not in the chain index (at block %llu)",
                                                (unsigned long long)id, (unsigned long long)ix->height)
                                   : gt_err_set(err, GT_EDB, "chain index: %s", sqlite3_errmsg(ix->db));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

json_t *gt_cindex_job_json(const gt_cjob *j) {
    char c[GT_ADDR_STR_BYTES], p[GT_ADDR_STR_BYTES], e[GT_ADDR_STR_BYTES], d[67], r[67];
    static const uint8_t zero[32];
    gt_addr_to_str(&j->client, c), gt_addr_to_str(&j->provider, p), gt_addr_to_str(&j->evaluator, e);
    hex32(j->description, d), hex32(j->deliverable, r);
    return json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:I,s:s,s:s,s:s*,s:b,s:b}", "id", (json_int_t)j->id, "client", c,
                     "provider", p, "evaluator", e, "budget", gt_json_units(j->budget), "stake",
                     gt_json_units(j->stake), "expiredAt", (json_int_t)j->expired_at, "status", j->status,
                     "descriptionHash", d, "deliverable", memcmp(j->deliverable, zero, 32) ? r : NULL, "claimed",
                     j->claimed, "timed", j->timed);
}

/* A page of rows of sql (one int64 binding: the limit) through row(). */
static json_t *page(gt_cindex *ix, const char *sql, uint64_t limit, json_t *(*row)(sqlite3_stmt *), gt_err *err) {
    sqlite3_stmt *st = NULL;
    json_t *arr = json_array();
    if (limit == 0 || limit > GT_CINDEX_PAGE_MAX) limit = GT_CINDEX_PAGE_MAX;
    pthread_mutex_lock(&ix->mu);
    int ok = arr && sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) == SQLITE_OK &&
             sqlite3_bind_int64(st, 1, (int64_t)limit) == SQLITE_OK;
    int step = SQLITE_ERROR;
    while (ok && (step = sqlite3_step(st)) == SQLITE_ROW) json_array_append_new(arr, row(st));
    ok = ok && step == SQLITE_DONE;
    uint64_t height = ix->height;
    if (!ok) gt_err_set(err, GT_EDB, "chain index: %s", sqlite3_errmsg(ix->db));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&ix->mu);
    if (!ok) return json_decref(arr), NULL;
    return json_pack("{s:I,s:o}", "indexedHeight", (json_int_t)height, "items", arr);
}

static json_t *row_job_json(sqlite3_stmt *st) {
    gt_cjob j;
    row_job(st, &j);
    return gt_cindex_job_json(&j);
}

static json_t *row_agent_json(sqlite3_stmt *st) {
    return json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)sqlite3_column_int64(st, 0), "owner",
                     (const char *)sqlite3_column_text(st, 1), "uri", (const char *)sqlite3_column_text(st, 2),
                     "block", (json_int_t)sqlite3_column_int64(st, 3));
}

json_t *gt_cindex_jobs(gt_cindex *ix, uint64_t limit, gt_err *err) {
    return page(ix, "SELECT " JOB_COLS " FROM jobs ORDER BY id DESC LIMIT ?1", limit, row_job_json, err);
}

json_t *gt_cindex_agents(gt_cindex *ix, uint64_t limit, gt_err *err) {
    return page(ix, "SELECT id, owner, uri, block FROM agents ORDER BY id LIMIT ?1", limit, row_agent_json, err);
}

/* ---- this node's work ---- */

static int put_blob(gt_cindex *ix, uint64_t job, const char *col, const void *p, size_t n, gt_err *err) {
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO work(job, %s) VALUES(?1, ?2) ON CONFLICT(job) DO UPDATE SET %s=?2", col,
             col);
    const void *a[] = {NULL, p};
    const int64_t len[] = {(int64_t)job, (int64_t)n};
    pthread_mutex_lock(&ix->mu);
    int rc = exec(ix, sql, "ib", a, len, err);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

int gt_cindex_put_input(gt_cindex *ix, uint64_t job, const void *p, size_t n, gt_err *err) {
    return put_blob(ix, job, "input", p, n, err);
}

int gt_cindex_put_output(gt_cindex *ix, uint64_t job, const void *p, size_t n, gt_err *err) {
    return put_blob(ix, job, "output", p, n, err);
}

int gt_cindex_mark(gt_cindex *ix, uint64_t job, int step, const char *note, gt_err *err) {
    const void *a[] = {NULL, NULL, note ? note : "", NULL};
    const int64_t n[] = {(int64_t)job, step, 0, GT_CHAIN_MAX_ATTEMPTS};
    pthread_mutex_lock(&ix->mu);
    int rc = step ? exec(ix, "UPDATE work SET step=?2, note=?3 WHERE job=?1", "iit", a, n, err)
                  : exec(ix, "UPDATE work SET attempts=attempts+1, note=?3,"
                             " step=CASE WHEN attempts+1>=?4 THEN -1 ELSE 0 END WHERE job=?1", "iiti", a, n, err);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

/* Column i (a blob) into b, when b is not NULL. */
static int col_blob(sqlite3_stmt *st, int i, gt_buf *b) {
    if (!b) return 0;
    b->len = 0;
    const void *p = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    return p && n > 0 ? gt_buf_append(b, p, (size_t)n) : 0;
}

int gt_cindex_work(gt_cindex *ix, uint64_t job, gt_buf *in, gt_buf *out, int *found, gt_err *err) {
    sqlite3_stmt *st = NULL;
    *found = 0;
    pthread_mutex_lock(&ix->mu);
    int ok = sqlite3_prepare_v2(ix->db, "SELECT input, output FROM work WHERE job=?1 AND input IS NOT NULL", -1, &st,
                                NULL) == SQLITE_OK &&
             sqlite3_bind_int64(st, 1, (int64_t)job) == SQLITE_OK;
    int step = ok ? sqlite3_step(st) : SQLITE_ERROR;
    int rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "chain index: %s",
                                                                        sqlite3_errmsg(ix->db));
    if (step == SQLITE_ROW) {
        *found = 1;
        if (col_blob(st, 0, in) || col_blob(st, 1, out)) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

/* The ids sql selects (binding ?1 who's address, ?2 the number a2, ?3 max, ?4 court's address or NULL, ?5 the
 * number a5), at most max into ids; the shared body of the work lists below. */
static int select_ids(gt_cindex *ix, const char *sql, const gt_addr *who, const gt_addr *court, int64_t a2,
                      int64_t a5, uint64_t *ids, size_t max, size_t *n, gt_err *err) {
    char me[GT_ADDR_STR_BYTES], ct[GT_ADDR_STR_BYTES];
    sqlite3_stmt *st = NULL;
    gt_addr_to_str(who, me);
    if (court) gt_addr_to_str(court, ct);
    *n = 0;
    pthread_mutex_lock(&ix->mu);
    int ok = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) == SQLITE_OK &&
             sqlite3_bind_text(st, 1, me, -1, SQLITE_STATIC) == SQLITE_OK &&
             sqlite3_bind_int64(st, 2, a2) == SQLITE_OK &&
             sqlite3_bind_int64(st, 3, (int64_t)max) == SQLITE_OK;
    if (ok && sqlite3_bind_parameter_count(st) >= 4) /* ?4 only in the lists that name the court */
        ok = (court ? sqlite3_bind_text(st, 4, ct, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 4)) == SQLITE_OK;
    if (ok && sqlite3_bind_parameter_count(st) >= 5) ok = sqlite3_bind_int64(st, 5, a5) == SQLITE_OK;
    int step = SQLITE_ERROR;
    while (ok && *n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
        ids[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
    int rc = ok && (step == SQLITE_DONE || *n == max) ? 0 : gt_err_set(err, GT_EDB, "chain index: %s",
                                                                      sqlite3_errmsg(ix->db));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

/* gt_cindex_todo's list before its inputs are checked. */
static int todo_ids(gt_cindex *ix, const gt_addr *who, const gt_addr *court, uint64_t *ids, size_t max, size_t *n,
                    gt_err *err) {
    return select_ids(ix,
                      "SELECT j.id FROM jobs j JOIN work w ON w.job = j.id WHERE w.input IS NOT NULL AND"
                      " w.step = 0 AND ((j.provider = ?1 AND j.status = 'funded' AND (j.claimed = 0 OR"
                      " j.evaluator = ?4)) OR (j.evaluator = ?1 AND j.status = 'submitted')) ORDER BY j.id LIMIT ?3"
                      /* ?2 unused */, who, court, 0, 0, ids, max, n, err);
}

/* *ok 1 when the input this node holds for job id hashes to the job's description hash; 0 (and that input, its
 * output and its step dropped) when not: the work table outlives a reorganisation deeper than the confirmation
 * depth, after which the escrow may give the id to another job, so an input kept under the id may be another job's.
 * Worked or judged, it would submit a wrong result (the stake lost) or reject good work; dropped, the job waits for
 * its own input as any job does. 0 or the read's or write's error. */
static int input_is_jobs(gt_cindex *ix, uint64_t id, int *ok, gt_err *err) {
    gt_cjob j;
    gt_buf in = GT_BUF_INIT;
    uint8_t h[32];
    int found = 0, rc = gt_cindex_job(ix, id, &j, err);
    if (!rc) rc = gt_cindex_work(ix, id, &in, NULL, &found, err);
    if (!rc && found) gt_keccak256(in.data, in.len, h);
    gt_buf_free(&in);
    *ok = !rc && found && !memcmp(h, j.description, 32);
    if (rc || !found || *ok) return rc;
    GT_WARN("node: the input held for job %llu is not its description's (another job's, before a reorganisation "
            "gave its id to this one): dropped", (unsigned long long)id);
    pthread_mutex_lock(&ix->mu);
    rc = exec(ix, "UPDATE work SET input=NULL, output=NULL, step=0, attempts=0 WHERE job=?1", "i", NULL,
              (const int64_t[]){(int64_t)id}, err);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

int gt_cindex_todo(gt_cindex *ix, const gt_addr *who, const gt_addr *court, uint64_t *ids, size_t max, size_t *n,
                   gt_err *err) {
    /* The list, then each held input checked against its job (input_is_jobs); a failed read lists nothing. */
    int rc = todo_ids(ix, who, court, ids, max, n, err);
    size_t kept = 0;
    for (size_t i = 0; !rc && i < *n; i++) {
        int ok = 0;
        rc = input_is_jobs(ix, ids[i], &ok, err);
        if (!rc && ok) ids[kept++] = ids[i];
    }
    *n = rc ? 0 : kept;
    return rc;
}

int gt_cindex_open_slots(gt_cindex *ix, const gt_addr *who, const gt_addr *court, uint64_t min_budget,
                         uint64_t now_ms, uint64_t *ids, size_t max, size_t *n, gt_err *err) {
    assert(min_budget <= INT64_MAX && now_ms <= INT64_MAX);
    return select_ids(ix,
                      "SELECT id FROM jobs WHERE status = 'funded' AND claimed = 0 AND evaluator = ?4 AND"
                      " client <> ?1 AND budget >= ?2 AND id NOT IN (SELECT job FROM work WHERE"
                      " input IS NOT NULL OR step <> 0 OR retry_ms > ?5) ORDER BY id LIMIT ?3",
                      who, court, (int64_t)min_budget, (int64_t)now_ms, ids, max, n, err);
}

int gt_cindex_slots_unfed(gt_cindex *ix, const gt_addr *who, const gt_addr *court, uint64_t now_ms, uint64_t *ids,
                          size_t max, size_t *n, gt_err *err) {
    assert(now_ms <= INT64_MAX);
    return select_ids(ix,
                      "SELECT id FROM jobs WHERE status = 'funded' AND claimed = 1 AND provider = ?1 AND"
                      " evaluator = ?4 AND id NOT IN (SELECT job FROM work WHERE input IS NOT NULL OR step <> 0"
                      " OR retry_ms > ?5) ORDER BY id LIMIT ?3" /* ?2 unused */,
                      who, court, 0, (int64_t)now_ms, ids, max, n, err);
}

int gt_cindex_client_later(gt_cindex *ix, uint64_t job, const gt_cjob *j, const gt_addr *court, const char *note,
                           size_t *n, gt_err *err) {
    char client[GT_ADDR_STR_BYTES], ct[GT_ADDR_STR_BYTES];
    gt_addr_to_str(&j->client, client);
    gt_addr_to_str(court, ct);
    *n = 0;
    pthread_mutex_lock(&ix->mu);
    int rc = exec(ix, "INSERT INTO work(job, note, retry_ms) SELECT id, ?4, (SELECT retry_ms FROM work WHERE job = ?1)"
                      " FROM jobs WHERE client = ?2 AND evaluator = ?3 AND status = 'funded' AND claimed = 0 AND"
                      " id <> ?1 AND EXISTS (SELECT 1 FROM work WHERE job = ?1) ON CONFLICT(job) DO UPDATE SET"
                      " note = excluded.note, retry_ms = MAX(retry_ms, excluded.retry_ms)"
                      " WHERE input IS NULL AND step = 0 AND retry_ms < excluded.retry_ms", "ittt",
                  (const void *[]){NULL, client, ct, note}, (const int64_t[]){(int64_t)job, 0, 0, 0}, err);
    if (!rc) *n = (size_t)sqlite3_changes(ix->db);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

int gt_cindex_look_later(gt_cindex *ix, uint64_t job, uint64_t now_ms, uint64_t base_ms, uint64_t cap_ms,
                         uint64_t *looks, uint64_t *wait_ms, gt_err *err) {
    sqlite3_stmt *st = NULL;
    assert(now_ms <= INT64_MAX / 2 && base_ms > 0 && base_ms <= cap_ms && cap_ms <= INT64_MAX / 4);
    const int64_t v[] = {(int64_t)job, (int64_t)now_ms, (int64_t)base_ms, (int64_t)cap_ms};
    *looks = 0, *wait_ms = 0;
    pthread_mutex_lock(&ix->mu);
    int rc = exec(ix, "INSERT INTO work(job, looks, retry_ms) VALUES(?1, 1, ?2 + ?3) ON CONFLICT(job) DO UPDATE SET"
                      " looks = looks + 1, retry_ms = ?2 + MIN(?4, ?3 << MIN(looks, 32))", "iiii",
                  (const void *[]){NULL, NULL, NULL, NULL}, v, err);
    if (!rc && sqlite3_prepare_v2(ix->db, "SELECT looks, retry_ms FROM work WHERE job=?1", -1, &st, NULL) ==
                   SQLITE_OK && sqlite3_bind_int64(st, 1, (int64_t)job) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        *looks = (uint64_t)sqlite3_column_int64(st, 0);
        *wait_ms = (uint64_t)sqlite3_column_int64(st, 1) - now_ms;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

/* ---- the keeper's deadlines ---- */

int gt_cindex_due(gt_cindex *ix, const gt_addr *who, uint64_t now_s, uint64_t *ids, size_t max, size_t *n,
                  gt_err *err) {
    assert(now_s <= INT64_MAX);
    return select_ids(ix,
                      "SELECT id FROM jobs WHERE keep_after <= ?2 AND ((status IN ('appeal', 'disputed')"
                      " AND ?1 IN (client, provider, evaluator)) OR (status IN ('funded', 'submitted') AND"
                      " (client = ?1 OR (provider = ?1 AND status = 'submitted')) AND"
                      " ((timed = 1 AND (claimed = 1 OR status = 'submitted')) OR expired_at <= ?2)))"
                      " ORDER BY keep_after, id LIMIT ?3",
                      who, NULL, (int64_t)now_s, 0, ids, max, n, err);
}

int gt_cindex_cases(gt_cindex *ix, const gt_addr *who, const gt_addr *court, uint64_t now_s, uint64_t *ids,
                    size_t max, size_t *n, gt_err *err) {
    assert(now_s <= INT64_MAX);
    return select_ids(ix,
                      "SELECT id FROM jobs WHERE keep_after <= ?2 AND (status = 'disputed' OR (status = 'submitted'"
                      " AND evaluator = ?4)) AND ?1 NOT IN (client, provider, evaluator) ORDER BY keep_after, id"
                      " LIMIT ?3",
                      who, court, (int64_t)now_s, 0, ids, max, n, err);
}

int gt_cindex_note(gt_cindex *ix, uint64_t job, const char *note, gt_err *err) {
    const void *a[] = {NULL, note};
    const int64_t n[] = {(int64_t)job, 0};
    pthread_mutex_lock(&ix->mu);
    int rc = exec(ix, "INSERT INTO work(job, note) VALUES(?1, ?2) ON CONFLICT(job) DO UPDATE SET note=?2", "it", a, n,
                  err);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

int gt_cindex_get_note(gt_cindex *ix, uint64_t job, char *out, size_t cap, gt_err *err) {
    sqlite3_stmt *st = NULL;
    assert(cap > 0);
    out[0] = 0;
    pthread_mutex_lock(&ix->mu);
    int ok = sqlite3_prepare_v2(ix->db, "SELECT note FROM work WHERE job=?1", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_bind_int64(st, 1, (int64_t)job) == SQLITE_OK;
    int step = ok ? sqlite3_step(st) : SQLITE_ERROR;
    if (step == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    int rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "chain index: %s",
                                                                        sqlite3_errmsg(ix->db));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

int gt_cindex_due_later(gt_cindex *ix, uint64_t job, uint64_t after_s, int failed, uint64_t *tries, gt_err *err) {
    sqlite3_stmt *st = NULL;
    int64_t at = after_s > INT64_MAX ? INT64_MAX : (int64_t)after_s;
    *tries = 0;
    pthread_mutex_lock(&ix->mu);
    int rc = exec(ix, "UPDATE jobs SET keep_after=?2, keep_tries=keep_tries+?3 WHERE id=?1", "iii",
                  (const void *[]){NULL, NULL, NULL}, (const int64_t[]){(int64_t)job, at, failed ? 1 : 0}, err);
    if (!rc && sqlite3_prepare_v2(ix->db, "SELECT keep_tries FROM jobs WHERE id=?1", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, (int64_t)job) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        *tries = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}
