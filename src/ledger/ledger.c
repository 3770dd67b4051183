/* ledger.c: opening the store, group commit of blocks, reads of the state.
 * The log tables' rows (blocks, actions by id) are read and written in block_rows.c. */
#include "ledger/ledger.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/limits.h"
#include "base/progress.h"
#include "crypto/addr.h"
#include "ledger/check.h"
#include "ledger/digest.h"
#include "ledger/block_rows.h"
#include "ledger/row.h"
#include "ledger/rules.h"
#include "ledger/seed.h"

/* Format 2: blocks carry the state digest; the signing domain binds the
 * network (genesis hash as EIP-712 salt); the actions root commits order.
 * Format 3: blocks reveal a draw seed from a hash chain fixed at genesis
 * (seed.h). */
/* Format 4: the dispute, vote and reveal windows are genesis parameters
 * (ledger.h), in meta and in the genesis state root. */
#define GT_LEDGER_FORMAT 4

static const char chain_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS blocks(height INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
    " prev BLOB NOT NULL, actions_root BLOB NOT NULL, state_root BLOB NOT NULL,"
    " time INTEGER NOT NULL, n_actions INTEGER NOT NULL, state_digest BLOB NOT NULL,"
    " seed BLOB NOT NULL, seed_anchor BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS actions(seq INTEGER PRIMARY KEY, height INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, id BLOB NOT NULL, sender BLOB NOT NULL, nonce INTEGER NOT NULL,"
    " kind TEXT NOT NULL, body BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS actions_height ON actions(height);"
    /* Lookup by id. Ids are uniformly random, so keeping this index current
     * block by block would dirty a different B-tree page for almost every
     * action (measured: 3x the kernel time and twice the fsync time of a
     * block). It is brought up to date in sorted batches of
     * GT_LEDGER_ID_BATCH actions instead; gt_ledger_find_action scans the
     * few not yet indexed (seq > meta 'ids_seq'). */
    "CREATE TABLE IF NOT EXISTS action_ids(id BLOB PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;";

/* Actions the id index may lag behind the log (bounds the scan in
 * gt_ledger_find_action to this many recent rows). */
#define GT_LEDGER_ID_BATCH 4096

/* A caller's batch waiting for the writer. */
typedef struct pending {
    gt_action *acts;
    gt_result *res;
    size_t n;
    int tick, done;
    struct pending *next;
} pending;

struct gt_ledger {
    char path[4096];
    int readonly, lock_fd;
    sqlite3 *db;
    gt_genesis g;
    gt_domain dom;
    gt_state *state;
    gt_block head;
    pthread_mutex_t mu;       /* queue, flags */
    pthread_cond_t cv;        /* work for the writer */
    pthread_cond_t done_cv;   /* a batch is committed */
    pending *q_head, *q_tail;
    int writer_active, stop, has_writer;
    pthread_t writer;
    pthread_mutex_t state_mu; /* held while a block is written, and by readers */
    uint64_t fixed_time_s;
    sqlite3_stmt *ins_action, *ins_block;
    sqlite3_stmt *begin, *commit; /* the writer's BEGIN IMMEDIATE and COMMIT, parsed once */
    gt_ledger_stats stats;    /* under state_mu */
    uint64_t unindexed;       /* actions not yet in action_ids (writer only) */
    uint8_t (*ids)[32];       /* scratch: ids of the block being built */
    size_t ids_cap;
    gt_seed_chain seed;       /* writer only: the draw seeds this node reveals */
};

/* Runs SQL that returns no rows. */
static int exec(sqlite3 *db, const char *sql, gt_err *err) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        gt_err_set(err, GT_EDB, "ledger store: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return GT_EDB;
    }
    return 0;
}

/* Creates every table: chain, state, and each registered module's. */
static int create_schema(sqlite3 *db, gt_err *err) {
    int rc;
    if ((rc = exec(db, chain_schema_sql, err)) || (rc = exec(db, gt_state_schema_sql, err))) return rc;
    for (int i = 0; i < gt_ledger_n_modules(); i++) {
        const gt_ledger_module *m = gt_ledger_module_at(i);
        if (m->schema_sql && (rc = exec(db, m->schema_sql, err))) return rc;
    }
    return 0;
}

static int open_db(const char *path, int readonly, sqlite3 **out, gt_err *err) {
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        gt_err_set(err, GT_EDB, "cannot open ledger %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return GT_EDB;
    }
    sqlite3_busy_timeout(db, 5000);
    int rc = exec(db, readonly ? "PRAGMA query_only=1;" :
                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;", err);
    if (rc) { sqlite3_close(db); return rc; }
    *out = db;
    return 0;
}

static int meta_put_u64(sqlite3 *db, const char *key, uint64_t v, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta VALUES(?,?)", -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "meta: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)v);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "meta: %s", sqlite3_errmsg(db));
}

static int meta_get(sqlite3 *db, const char *key, uint64_t *u, uint8_t *blob, int blob_len, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?", -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "meta: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        if (rc != SQLITE_DONE) gt_err_set(err, GT_EDB, "meta \"%s\": %s", key, sqlite3_errmsg(db));
        else gt_err_set(err, GT_EDB, "ledger store has no \"%s\" (not a gotong ledger?)", key);
        sqlite3_finalize(q);
        return GT_EDB;
    }
    if (u) *u = (uint64_t)sqlite3_column_int64(q, 0);
    if (blob) {
        if (sqlite3_column_bytes(q, 0) != blob_len) {
            sqlite3_finalize(q);
            return gt_err_set(err, GT_EDB, "ledger store: \"%s\" has the wrong size", key);
        }
        memcpy(blob, sqlite3_column_blob(q, 0), (size_t)blob_len);
    }
    sqlite3_finalize(q);
    return 0;
}

static void *writer_main(void *arg);

/* The windows a genesis gives its network: a 0 stands for
 * GT_LEDGER_SHORT_WINDOW_S (what tests and the demo leave unset). */
static gt_windows genesis_windows(const gt_genesis *g) {
    gt_windows w = g->windows;
    if (!w.dispute_s) w.dispute_s = GT_LEDGER_SHORT_WINDOW_S;
    if (!w.vote_s) w.vote_s = GT_LEDGER_SHORT_WINDOW_S;
    if (!w.reveal_s) w.reveal_s = GT_LEDGER_SHORT_WINDOW_S;
    return w;
}

/* Refuses a window out of [GT_LEDGER_WINDOW_MIN_S, GT_LEDGER_WINDOW_MAX_S],
 * naming it (`what`) and saying where the bad value came from (`from`). */
static int window_check(const char *what, uint64_t v, const char *from, gt_err *err) {
    if (v >= GT_LEDGER_WINDOW_MIN_S && v <= GT_LEDGER_WINDOW_MAX_S) return 0;
    return gt_err_set(err, GT_EINVAL, "%s%s window must be %d to %d seconds of block time, got %llu", from, what,
                      GT_LEDGER_WINDOW_MIN_S, GT_LEDGER_WINDOW_MAX_S, (unsigned long long)v);
}

/* Checks the three windows of w (resolved: no 0 stands for a default). */
static int windows_check(const gt_windows *w, const char *from, gt_err *err) {
    int rc = window_check("dispute", w->dispute_s, from, err);
    if (!rc) rc = window_check("vote", w->vote_s, from, err);
    if (!rc) rc = window_check("reveal", w->reveal_s, from, err);
    return rc;
}

/* Builds the genesis block exactly as gt_ledger_create does, for the seed
 * chain of `secret`. */
static void genesis_block(const gt_genesis *g, const uint8_t secret[32], gt_block *b) {
    memset(b, 0, sizeof *b);
    b->time_s = g->time_s;
    gt_seed_genesis(secret, b->seed, b->seed_anchor);
    gt_windows w = genesis_windows(g);
    gt_genesis_state_root(g->chain_id, &g->authority, g->unbonding_blocks, g->time_s, &w, b->state_root);
    gt_block_empty_digest(b->state_digest);
    gt_block_hash(b);
}

/* The secret of the seed chain: the caller's, or 32 bytes from the OS when
 * it gave none (all zero). */
static int seed_secret(const gt_genesis *g, uint8_t out[32], gt_err *err) {
    static const uint8_t zero[32];
    if (memcmp(g->seed_secret, zero, 32)) {
        memcpy(out, g->seed_secret, 32);
        return 0;
    }
    if (getrandom(out, 32, 0) != 32)
        return gt_err_set(err, GT_EIO, "cannot draw the ledger's seed secret: %s", strerror(errno));
    return 0;
}

int gt_ledger_create(const char *path, const gt_genesis *g, gt_err *err) {
    int rc = gt_rules_register(err);
    if (rc) return rc;
    if (access(path, F_OK) == 0)
        return gt_err_set(err, GT_EEXIST, "a ledger already exists at %s", path);
    if (g->chain_id == 0) return gt_err_set(err, GT_EINVAL, "chain id must not be 0");
    if (g->unbonding_blocks < GT_LEDGER_MIN_UNBONDING_BLOCKS)
        return gt_err_set(err, GT_EINVAL, "unbonding period must be at least %d block%s, got %llu",
                          GT_LEDGER_MIN_UNBONDING_BLOCKS, GT_LEDGER_MIN_UNBONDING_BLOCKS == 1 ? "" : "s",
                          (unsigned long long)g->unbonding_blocks);
    gt_windows w = genesis_windows(g);
    if ((rc = windows_check(&w, "the ", err))) return rc;
    uint8_t secret[32];
    if ((rc = seed_secret(g, secret, err))) return rc;
    sqlite3 *db;
    if ((rc = open_db(path, 0, &db, err))) return rc;
    gt_block b;
    genesis_block(g, secret, &b);
    sqlite3_stmt *ins = NULL;
    if ((rc = exec(db, "BEGIN", err)) || (rc = create_schema(db, err)) ||
        (rc = meta_put_u64(db, "version", GT_LEDGER_FORMAT, err)) || (rc = meta_put_u64(db, "chain_id", g->chain_id, err)) ||
        (rc = meta_put_u64(db, "unbonding_blocks", g->unbonding_blocks, err)) ||
        (rc = meta_put_u64(db, "genesis_time", g->time_s, err)) || (rc = meta_put_u64(db, "supply", 0, err)) ||
        (rc = meta_put_u64(db, "dispute_window_s", w.dispute_s, err)) ||
        (rc = meta_put_u64(db, "vote_window_s", w.vote_s, err)) ||
        (rc = meta_put_u64(db, "reveal_window_s", w.reveal_s, err)) ||
        (rc = meta_put_u64(db, "ids_seq", 0, err)))
        goto fail;
    {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, "INSERT INTO meta VALUES('authority',?),('seed_secret',?)", -1, &q, NULL)) {
            rc = gt_err_set(err, GT_EDB, "meta: %s", sqlite3_errmsg(db));
            goto fail;
        }
        sqlite3_bind_blob(q, 1, g->authority.b, 20, SQLITE_STATIC);
        sqlite3_bind_blob(q, 2, secret, 32, SQLITE_STATIC);
        int s = sqlite3_step(q);
        sqlite3_finalize(q);
        if (s != SQLITE_DONE) { rc = gt_err_set(err, GT_EDB, "meta: %s", sqlite3_errmsg(db)); goto fail; }
    }
    if ((rc = gt_block_row_put(db, &ins, &b, err)) || (rc = exec(db, "COMMIT", err))) goto fail;
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return 0;
fail:
    sqlite3_finalize(ins);
    sqlite3_close(db);
    unlink(path);
    return rc;
}

/* Reads the genesis parameters from meta. */
static int load_genesis(sqlite3 *db, gt_genesis *g, gt_err *err) {
    int rc;
    uint64_t version;
    if ((rc = meta_get(db, "version", &version, NULL, 0, err))) return rc;
    if (version != GT_LEDGER_FORMAT)
        return gt_err_set(err, GT_EUNSUPPORTED,
                          "ledger format version %llu is not supported (expected %d: format 4 fixes the dispute, "
                          "vote and reveal windows at genesis; create a new ledger with `gotong init`)",
                          (unsigned long long)version, GT_LEDGER_FORMAT);
    if ((rc = meta_get(db, "chain_id", &g->chain_id, NULL, 0, err)) ||
        (rc = meta_get(db, "unbonding_blocks", &g->unbonding_blocks, NULL, 0, err)) ||
        (rc = meta_get(db, "genesis_time", &g->time_s, NULL, 0, err)) ||
        (rc = meta_get(db, "dispute_window_s", &g->windows.dispute_s, NULL, 0, err)) ||
        (rc = meta_get(db, "vote_window_s", &g->windows.vote_s, NULL, 0, err)) ||
        (rc = meta_get(db, "reveal_window_s", &g->windows.reveal_s, NULL, 0, err)) ||
        (rc = meta_get(db, "authority", NULL, g->authority.b, 20, err)))
        return rc;
    return windows_check(&g->windows, "the ledger's stored ", err);
}

/* Every open (read-only ones too) checks that the genesis parameters in meta
 * are the ones the genesis block commits to: one hash, so a window or any
 * other parameter edited in the file is refused before a rule reads it. */
static int genesis_matches(const gt_genesis *g, const gt_block *genesis, gt_err *err) {
    uint8_t root[32];
    gt_genesis_state_root(g->chain_id, &g->authority, g->unbonding_blocks, g->time_s, &g->windows, root);
    if (memcmp(root, genesis->state_root, 32) || genesis->height != 0)
        return gt_err_set(err, GT_EINVAL, "the ledger's genesis parameters (chain id, authority, unbonding period, "
                          "time, windows) are not the ones its genesis block commits to: the file was changed "
                          "outside the rules");
    return 0;
}

/* A writer refuses to build on a ledger that was changed outside the rules
 * (check.h); the message names the first bad block and the full check. */
/* A writer reveals the seeds of its secret: it must be the secret the
 * chain so far was made from, or the next block could not be checked. */
static int load_seed(gt_ledger *l, gt_err *err) {
    int rc = meta_get(l->db, "seed_secret", NULL, l->seed.secret, 32, err);
    if (rc) return rc;
    uint8_t seed[32], anchor[32];
    if (l->head.height == 0) gt_seed_genesis(l->seed.secret, seed, anchor);
    else gt_seed_for_block(&l->seed, l->head.height, seed, anchor);
    if (memcmp(seed, l->head.seed, 32) || memcmp(anchor, l->head.seed_anchor, 32))
        return gt_err_set(err, GT_EINVAL, "the ledger %s: its seed secret does not make the draw seed of block %llu "
                          "(the head), so this node cannot extend its seed chain", l->path,
                          (unsigned long long)l->head.height);
    return 0;
}

static int check_on_open(gt_ledger *l, gt_err *err) {
    gt_digest_acc acc;
    int rc = gt_ledger_check(l->db, &l->g, &l->dom, &acc, err);
    if (rc == GT_ENOMEM) return rc;
    if (rc)
        return gt_err_wrap(err, "the ledger %s is damaged or was edited outside the rules, so it will not be "
                                "opened for writing; `gotong ledger verify` replays it in full and says more. First fault",
                           l->path);
    gt_state_set_digest(l->state, &acc);
    return gt_digest_track(l->db, gt_state_digest_acc(l->state), err);
}

int gt_ledger_open(const char *path, int flags, gt_ledger **out, gt_err *err) {
    *out = NULL;
    int rc = gt_rules_register(err);
    if (rc) return rc;
    if (access(path, F_OK) != 0)
        return gt_err_set(err, GT_ENOTFOUND, "no ledger at %s (run `gotong init` first)", path);
    gt_ledger *l = gt_calloc(1, sizeof *l);
    if (!l) return gt_err_set(err, GT_ENOMEM, "out of memory");
    l->lock_fd = -1;
    l->readonly = flags & GT_LEDGER_READONLY;
    snprintf(l->path, sizeof l->path, "%s", path);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_cond_init(&l->done_cv, NULL);
    pthread_mutex_init(&l->state_mu, NULL);
    if (!l->readonly) {
        char lock_path[4200];
        snprintf(lock_path, sizeof lock_path, "%s.lock", path);
        l->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (l->lock_fd < 0) {
            rc = gt_err_set(err, GT_EIO, "cannot open %s: %s", lock_path, strerror(errno));
            goto fail;
        }
        if (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0) {
            rc = gt_err_set(err, GT_ESTATE,
                            "the ledger %s is in use by another process (a running node?); "
                            "stop it, or go through its API (--node URL)",
                            path);
            goto fail;
        }
    }
    if ((rc = open_db(path, l->readonly, &l->db, err))) goto fail;
    if (!l->readonly && (rc = create_schema(l->db, err))) goto fail;
    if ((rc = load_genesis(l->db, &l->g, err))) goto fail;
    if ((rc = gt_block_row_read(l->db, -1, &l->head, err))) goto fail;
    {
        gt_block genesis;
        if ((rc = gt_block_row_read(l->db, 0, &genesis, err)) || (rc = genesis_matches(&l->g, &genesis, err)))
            goto fail;
        l->dom.chain_id = l->g.chain_id;
        memcpy(l->dom.salt, genesis.hash, 32);
    }
    l->state = gt_state_new();
    if (!l->state) { rc = gt_err_set(err, GT_ENOMEM, "out of memory"); goto fail; }
    if (!l->readonly && ((rc = check_on_open(l, err)) || (rc = load_seed(l, err)))) goto fail;
    uint64_t supply;
    if ((rc = meta_get(l->db, "supply", &supply, NULL, 0, err))) goto fail;
    gt_state_set_supply(l->state, supply);
    if (!l->readonly) {
        uint64_t ids_seq = 0, max_seq = 0;
        if ((rc = meta_get(l->db, "ids_seq", &ids_seq, NULL, 0, err))) goto fail;
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(l->db, "SELECT coalesce(max(seq),0) FROM actions", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            max_seq = (uint64_t)sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        l->unindexed = max_seq > ids_seq ? max_seq - ids_seq : 0;
        if (pthread_create(&l->writer, NULL, writer_main, l) != 0) {
            rc = gt_err_set(err, GT_ENOMEM, "cannot start the ledger's writer thread");
            goto fail;
        }
        l->has_writer = 1;
    }
    *out = l;
    return 0;
fail:
    gt_ledger_close(l);
    return rc;
}

void gt_ledger_close(gt_ledger *l) {
    if (!l) return;
    if (l->has_writer) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->writer, NULL);
    }
    assert(!l->writer_active && !l->q_head);
    sqlite3_finalize(l->ins_action);
    sqlite3_finalize(l->ins_block);
    sqlite3_finalize(l->begin);
    sqlite3_finalize(l->commit);
    gt_state_free(l->state);
    if (l->db) sqlite3_close(l->db);
    if (l->lock_fd >= 0) close(l->lock_fd);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    pthread_cond_destroy(&l->done_cv);
    pthread_mutex_destroy(&l->state_mu);
    gt_free(l->ids);
    gt_free(l);
}

const gt_genesis *gt_ledger_genesis(const gt_ledger *l) { return &l->g; }

const gt_domain *gt_ledger_domain(const gt_ledger *l) { return &l->dom; }

void gt_genesis_domain(const gt_genesis *g, gt_domain *out) {
    gt_block b;
    genesis_block(g, g->seed_secret, &b);
    out->chain_id = g->chain_id;
    memcpy(out->salt, b.hash, 32);
}

void gt_ledger_set_time(gt_ledger *l, uint64_t time_s) { __atomic_store_n(&l->fixed_time_s, time_s, __ATOMIC_RELAXED); }

/* The writer's clock for the next block: the fixed one, or the wall clock. */
static uint64_t clock_s(gt_ledger *l) {
    uint64_t fixed = __atomic_load_n(&l->fixed_time_s, __ATOMIC_RELAXED);
    return fixed ? fixed : (uint64_t)time(NULL);
}

/* Refuses every action of a batch list with the same code and message. */
static void refuse_all(pending *list, int code, const char *msg) {
    for (pending *p = list; p; p = p->next)
        for (size_t i = 0; i < p->n; i++)
            if (!p->res[i].code) {
                p->res[i].code = code;
                snprintf(p->res[i].msg, sizeof p->res[i].msg, "%s", msg);
            }
}

/* Runs the writer's statement *q (prepared from sql on first use and kept:
 * one block per action is common, and parsing BEGIN and COMMIT each time was
 * a measurable part of such a block). */
static int run_kept(gt_ledger *l, sqlite3_stmt **q, const char *sql, gt_err *err) {
    if (!*q && sqlite3_prepare_v2(l->db, sql, -1, q, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "ledger store: %s", sqlite3_errmsg(l->db));
    assert(*q && !sqlite3_stmt_busy(*q));
    int rc = sqlite3_step(*q);
    if (rc != SQLITE_DONE) gt_err_set(err, GT_EDB, "ledger store: %s", sqlite3_errmsg(l->db));
    sqlite3_reset(*q);
    return rc == SQLITE_DONE ? 0 : GT_EDB;
}

/* Inserts one applied action into the log. */
static int put_action(gt_ledger *l, const gt_action *a, uint64_t height, uint32_t idx, gt_err *err) {
    if (!l->ins_action &&
        sqlite3_prepare_v2(l->db, "INSERT INTO actions(height,idx,id,sender,nonce,kind,body) VALUES(?,?,?,?,?,?,?)",
                           -1, &l->ins_action, NULL))
        return gt_err_set(err, GT_EDB, "actions: %s", sqlite3_errmsg(l->db));
    uint8_t body[GT_ACTION_BIN_MAX];
    size_t n = gt_action_encode(a, body);
    sqlite3_stmt *q = l->ins_action;
    sqlite3_bind_int64(q, 1, (int64_t)height);
    sqlite3_bind_int64(q, 2, idx);
    sqlite3_bind_blob(q, 3, a->id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, (int64_t)a->nonce);
    sqlite3_bind_text(q, 6, a->kind->name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 7, body, (int)n, SQLITE_STATIC); /* unbound below, before body goes */
    int rc = sqlite3_step(q);
    /* The message is read before the unbinding, which clears it. */
    rc = rc == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "writing action: %s", sqlite3_errmsg(l->db));
    sqlite3_reset(q);
    sqlite3_bind_null(q, 7);
    return rc;
}

/* Adds every action not yet indexed to action_ids, in id order (so each
 * index page is written once per batch), and records how far it got. Runs
 * inside the writer's block transaction. */
static int index_ids(sqlite3 *db, gt_err *err) {
    int rc = exec(db,
                  "INSERT INTO action_ids SELECT id, seq FROM actions"
                  " WHERE seq > (SELECT value FROM meta WHERE key='ids_seq') ORDER BY id;"
                  "UPDATE meta SET value=(SELECT coalesce(max(seq),0) FROM actions) WHERE key='ids_seq';",
                  err);
    return rc ? gt_err_wrap(err, "indexing action ids") : 0;
}

/* CPU seconds the calling thread has used. */
static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Builds, writes and commits one block from a list of pending batches.
 * Called by the writer only, without l->mu held. */
static void write_block(gt_ledger *l, pending *list) {
    gt_err err = {0};
    size_t total = 0;
    int tick = 0;
    for (pending *p = list; p; p = p->next) total += p->n, tick |= p->tick;
    pthread_mutex_lock(&l->state_mu);
    if (total > l->ids_cap) {
        void *ids = gt_realloc(l->ids, total * 32);
        if (!ids) {
            for (pending *p = list; p; p = p->next)
                for (size_t i = 0; i < p->n; i++)
                    if (!p->res[i].code) p->res[i].code = gt_err_set(&err, GT_ENOMEM, "out of memory");
            pthread_mutex_unlock(&l->state_mu);
            return;
        }
        l->ids = ids;
        l->ids_cap = total;
    }
    double t_start = gt_now_s();
    uint64_t now = clock_s(l);
    if (l->head.time_s > now && l->head.time_s - now > GT_LEDGER_MAX_CLOCK_DRIFT_S) {
        char msg[GT_ERR_MSG_MAX];
        snprintf(msg, sizeof msg,
                 "no block made: this node's clock (%llu) is %llu s behind the last block's time (%llu), more than "
                 "the %d s a block time may be ahead of the clock that makes it; fix the node's clock",
                 (unsigned long long)now, (unsigned long long)(l->head.time_s - now),
                 (unsigned long long)l->head.time_s, GT_LEDGER_MAX_CLOCK_DRIFT_S);
        refuse_all(list, GT_ESTATE, msg);
        for (pending *p = list; p; p = p->next)
            for (size_t i = 0; i < p->n; i++) l->stats.actions_refused += p->res[i].code != 0;
        pthread_mutex_unlock(&l->state_mu);
        return;
    }
    gt_tx tx = {.state = l->state, .db = l->db, .domain = l->dom, .height = l->head.height + 1,
                .time_s = now > l->head.time_s ? now : l->head.time_s,
                .unbonding_blocks = l->g.unbonding_blocks, .windows = l->g.windows, .authority = l->g.authority};
    gt_block b = {.height = tx.height, .time_s = tx.time_s};
    memcpy(b.prev, l->head.hash, 32);
    memcpy(tx.prev_hash, l->head.hash, 32);
    gt_seed_for_block(&l->seed, b.height, b.seed, b.seed_anchor);
    memcpy(tx.seed, b.seed, 32);
    int rc = run_kept(l, &l->begin, "BEGIN IMMEDIATE", &err);
    int changes = rc ? rc : gt_block_begin(&tx, &err);
    if (changes < 0) rc = changes;
    uint32_t k = 0;
    for (pending *p = list; p && !rc; p = p->next) {
        for (size_t i = 0; i < p->n; i++) {
            gt_result *r = &p->res[i];
            if (r->code) continue; /* refused before queueing (signature) */
            gt_action *a = &p->acts[i];
            gt_err aerr = {0};
            tx.action_seq = k;
            int arc = gt_block_apply_action(&tx, a, &aerr);
            if (arc) {
                r->code = arc;
                snprintf(r->msg, sizeof r->msg, "%s", aerr.msg);
                if (arc == GT_EDB || arc == GT_ENOMEM) { rc = arc; err = aerr; break; }
                continue;
            }
            /* Nonces make ids unique, so a failed insert is a store failure:
             * the whole block is abandoned below. */
            if ((rc = put_action(l, a, b.height, k, &err))) break;
            memcpy(l->ids[k], a->id, 32);
            r->height = b.height;
            k++;
        }
    }
    if (!rc && k == 0 && changes == 0 && !tick) {
        /* Nothing was applied: no block. Every change was rolled back already. */
        exec(l->db, "ROLLBACK", NULL);
        pthread_mutex_unlock(&l->state_mu);
        return;
    }
    if (!rc) {
        b.n_actions = k;
        gt_block_actions_root(l->ids, k, b.actions_root);
        rc = gt_block_finish(&tx, l->head.state_root, &b, &err);
    }
    if (!rc && l->unindexed + k >= GT_LEDGER_ID_BATCH) rc = index_ids(l->db, &err);
    if (!rc) rc = gt_block_row_put(l->db, &l->ins_block, &b, &err);
    double t_commit = gt_now_s();
    l->stats.apply_s += t_commit - t_start;
    if (!rc) rc = run_kept(l, &l->commit, "COMMIT", &err);
    l->stats.commit_s += gt_now_s() - t_commit;
    if (rc) {
        /* The block is lost as a whole: the store is the truth again. */
        exec(l->db, "ROLLBACK", NULL);
        gt_state_reset(l->state);
        uint64_t supply = 0;
        meta_get(l->db, "supply", &supply, NULL, 0, NULL);
        gt_state_set_supply(l->state, supply);
        for (pending *p = list; p; p = p->next)
            for (size_t i = 0; i < p->n; i++)
                if (!p->res[i].code) {
                    p->res[i].code = rc;
                    snprintf(p->res[i].msg, sizeof p->res[i].msg, "block not committed: %.400s", err.msg);
                }
    } else {
        l->head = b;
        l->stats.blocks++;
        l->stats.actions_applied += k;
        l->unindexed = l->unindexed + k >= GT_LEDGER_ID_BATCH ? 0 : l->unindexed + k;
    }
    for (pending *p = list; p; p = p->next)
        for (size_t i = 0; i < p->n; i++) l->stats.actions_refused += p->res[i].code != 0;
    pthread_mutex_unlock(&l->state_mu);
}

void gt_ledger_stats_get(gt_ledger *l, gt_ledger_stats *out) {
    pthread_mutex_lock(&l->state_mu);
    *out = l->stats;
    pthread_mutex_unlock(&l->state_mu);
}

/* The writer thread: takes up to a block's worth of queued batches, writes
 * them as one block, marks them done, repeats. It spends most of its time
 * waiting on fsync, which costs no CPU, so the submitting threads keep their
 * cores busy verifying signatures in the meantime. */
static void *writer_main(void *arg) {
    gt_ledger *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->q_head && !l->stop) pthread_cond_wait(&l->cv, &l->mu);
        if (!l->q_head) break; /* stop requested and nothing left */
        pending *list = l->q_head, *last = list;
        size_t total = last->n;
        while (last->next && total + last->next->n <= GT_LIMIT_BLOCK_ACTIONS) {
            last = last->next;
            total += last->n;
        }
        l->q_head = last->next;
        if (!l->q_head) l->q_tail = NULL;
        last->next = NULL;
        l->writer_active = 1;
        pthread_mutex_unlock(&l->mu);
        double c0 = thread_cpu_s();
        write_block(l, list);
        double used = thread_cpu_s() - c0;
        pthread_mutex_lock(&l->state_mu);
        l->stats.cpu_s += used;
        pthread_mutex_unlock(&l->state_mu);
        pthread_mutex_lock(&l->mu);
        l->writer_active = 0;
        for (pending *p = list; p; p = p->next) p->done = 1;
        pthread_cond_broadcast(&l->done_cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void enqueue(gt_ledger *l, pending *p) {
    pthread_mutex_lock(&l->mu);
    if (l->q_tail) l->q_tail->next = p; else l->q_head = p;
    l->q_tail = p;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

struct gt_ledger_ticket {
    pending *parts;  /* one pending per block-sized chunk */
    size_t n_parts;
};

int gt_ledger_submit_async(gt_ledger *l, gt_action *acts, size_t n, gt_result *res, gt_ledger_ticket **out) {
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        gt_err err = {0};
        res[i].code = 0;
        res[i].height = 0;
        res[i].msg[0] = 0;
        if (l->readonly) {
            res[i].code = GT_EPERM;
            snprintf(res[i].msg, sizeof res[i].msg, "ledger is open read-only");
        } else if (gt_action_verify(&acts[i], &l->dom, &err)) {
            res[i].code = err.code;
            snprintf(res[i].msg, sizeof res[i].msg, "%s", err.msg);
        }
    }
    if (l->readonly || n == 0) return 0;
    size_t parts = (n + GT_LIMIT_BLOCK_ACTIONS - 1) / GT_LIMIT_BLOCK_ACTIONS;
    gt_ledger_ticket *t = gt_calloc(1, sizeof *t);
    pending *p = gt_calloc(parts, sizeof *p);
    if (!t || !p) {
        gt_free(t);
        gt_free(p);
        for (size_t i = 0; i < n; i++)
            if (!res[i].code) res[i].code = GT_ENOMEM, snprintf(res[i].msg, sizeof res[i].msg, "out of memory");
        return GT_ENOMEM;
    }
    t->parts = p;
    t->n_parts = parts;
    for (size_t k = 0; k < parts; k++) {
        size_t off = k * GT_LIMIT_BLOCK_ACTIONS;
        p[k].acts = acts + off;
        p[k].res = res + off;
        p[k].n = n - off < GT_LIMIT_BLOCK_ACTIONS ? n - off : GT_LIMIT_BLOCK_ACTIONS;
        enqueue(l, &p[k]);
    }
    *out = t;
    return 0;
}

void gt_ledger_wait(gt_ledger *l, gt_ledger_ticket *t) {
    if (!t) return;
    pthread_mutex_lock(&l->mu);
    for (size_t k = 0; k < t->n_parts; k++)
        while (!t->parts[k].done) pthread_cond_wait(&l->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    gt_free(t->parts);
    gt_free(t);
}

size_t gt_ledger_submit(gt_ledger *l, gt_action *acts, size_t n, gt_result *res) {
    gt_ledger_ticket *t;
    gt_ledger_submit_async(l, acts, n, res, &t);
    gt_ledger_wait(l, t);
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) ok += res[i].code == 0;
    return ok;
}

int gt_ledger_tick(gt_ledger *l, gt_err *err) {
    if (l->readonly) return gt_err_set(err, GT_EPERM, "ledger is open read-only");
    pthread_mutex_lock(&l->state_mu);
    uint64_t before = l->head.height;
    pthread_mutex_unlock(&l->state_mu);
    pending me = {.tick = 1};
    enqueue(l, &me);
    pthread_mutex_lock(&l->mu);
    while (!me.done) pthread_cond_wait(&l->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_lock(&l->state_mu);
    int ok = l->head.height > before;
    uint64_t head_time = l->head.time_s, now = clock_s(l);
    pthread_mutex_unlock(&l->state_mu);
    if (ok) return 0;
    if (head_time > now && head_time - now > GT_LEDGER_MAX_CLOCK_DRIFT_S)
        return gt_err_set(err, GT_ESTATE, "no block made: this node's clock is %llu s behind the last block's time; fix it",
                          (unsigned long long)(head_time - now));
    return gt_err_set(err, GT_EDB, "could not write an empty block");
}

int gt_ledger_head(gt_ledger *l, gt_block *out, gt_err *err) {
    if (l->readonly) return gt_block_row_read(l->db, -1, out, err);
    pthread_mutex_lock(&l->state_mu);
    *out = l->head;
    pthread_mutex_unlock(&l->state_mu);
    return 0;
}

int gt_ledger_block(gt_ledger *l, uint64_t height, gt_block *out, gt_err *err) {
    if (height > INT64_MAX) return gt_err_set(err, GT_ENOTFOUND, "no block at height %llu", (unsigned long long)height);
    return gt_block_row_read(l->db, (int64_t)height, out, err);
}

int gt_ledger_read(gt_ledger *l, int (*fn)(void *arg, gt_tx *tx, gt_err *err), void *arg, gt_err *err) {
    pthread_mutex_lock(&l->state_mu);
    gt_tx tx = {.state = l->state, .db = l->db, .domain = l->dom, .height = l->head.height,
                .time_s = l->head.time_s, .unbonding_blocks = l->g.unbonding_blocks, .windows = l->g.windows,
                .authority = l->g.authority};
    memcpy(tx.seed, l->head.seed, 32);
    if (l->readonly) gt_state_reset(l->state); /* another process writes: read fresh rows */
    int rc = fn(arg, &tx, err);
    pthread_mutex_unlock(&l->state_mu);
    return rc;
}

static int read_account(void *arg, gt_tx *tx, gt_err *err) {
    gt_account *a = arg;
    gt_addr addr = a->addr;
    return gt_state_account(tx, &addr, a, err);
}

int gt_ledger_account(gt_ledger *l, const gt_addr *a, gt_account *out, gt_err *err) {
    out->addr = *a;
    return gt_ledger_read(l, read_account, out, err);
}

uint64_t gt_ledger_supply(gt_ledger *l) {
    pthread_mutex_lock(&l->state_mu);
    uint64_t s = gt_state_supply(l->state);
    if (l->readonly) meta_get(l->db, "supply", &s, NULL, 0, NULL);
    pthread_mutex_unlock(&l->state_mu);
    return s;
}

int gt_ledger_each_action(gt_ledger *l, uint64_t from, uint64_t to, gt_ledger_action_fn fn, void *arg,
                          gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(l->db, "SELECT height,idx,body FROM actions WHERE height BETWEEN ? AND ? ORDER BY seq",
                           -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "actions: %s", sqlite3_errmsg(l->db));
    sqlite3_bind_int64(q, 1, (int64_t)(from > INT64_MAX ? INT64_MAX : from));
    sqlite3_bind_int64(q, 2, (int64_t)(to > INT64_MAX ? INT64_MAX : to));
    int rc, stop = 0, oom = 0;
    uint64_t oom_height = 0;
    gt_action *a = gt_malloc(sizeof *a);
    if (!a) { sqlite3_finalize(q); return gt_err_set(err, GT_ENOMEM, "out of memory"); }
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        uint64_t h = (uint64_t)sqlite3_column_int64(q, 0);
        uint32_t idx = (uint32_t)sqlite3_column_int64(q, 1);
        int drc = gt_action_decode(sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2), l->dom.salt, a, err);
        if (drc) { gt_free(a); sqlite3_finalize(q); return gt_err_wrap(err, "block %llu action %u", (unsigned long long)h, idx); }
        json_t *j = gt_action_to_json(a, 1);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!s) { /* out of memory: an error, never a NULL handed to fn */
            oom_height = h, oom = 1;
            break;
        }
        stop = fn(arg, h, idx, s);
        free(s);
    }
    gt_free(a);
    sqlite3_finalize(q);
    if (oom)
        return gt_err_set(err, GT_ENOMEM, "out of memory writing block %llu's actions as JSON",
                          (unsigned long long)oom_height);
    if (!stop && rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "actions: %s", sqlite3_errmsg(l->db));
    return 0;
}
