/* ledger.c: the store of a ledger: opening and closing it (the writer's
 * lock, the checks at open, starting the writer thread), its schema and
 * meta table, and reads of the state and the log. The writer thread is in
 * writer.c, the genesis parameters in genesis.c (ledger_impl.h holds what
 * the three share); the log tables' rows are read and written in
 * block_rows.c. */
#include "ledger/ledger.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"
#include "ledger/block_rows.h"
#include "ledger/check.h"
#include "ledger/digest.h"
#include "ledger/ledger_impl.h"
#include "ledger/rules.h"
#include "ledger/seed.h"

/* The index of action ids (format 7): one definition for the schema and
 * for the upgrade from format 6, which builds it under another name. */
#define ACTION_IDS_COLUMNS \
    "(run INTEGER NOT NULL, id BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(run, id)) WITHOUT ROWID;"

static const char chain_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS blocks(height INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
    " prev BLOB NOT NULL, actions_root BLOB NOT NULL, state_root BLOB NOT NULL,"
    " time INTEGER NOT NULL, n_actions INTEGER NOT NULL, state_digest BLOB NOT NULL,"
    " seed BLOB NOT NULL, seed_anchor BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS actions(seq INTEGER PRIMARY KEY, height INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, id BLOB NOT NULL, sender BLOB NOT NULL, nonce INTEGER NOT NULL,"
    " kind TEXT NOT NULL, body BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS actions_height ON actions(height);"
    /* Lookup by id. Ids are uniformly random, so keeping one index by id
     * current block by block would dirty a different B-tree page for almost
     * every action (measured: 3x the kernel time and twice the fsync time
     * of a block), and so would adding sorted batches to it once it is
     * larger than a batch. The index is a set of runs instead, each sorted
     * by id and written at the end of the B-tree (writer.c's index_ids);
     * id_runs lists them by level. gt_ledger_find_action searches every run,
     * then scans the few actions not yet indexed (seq > meta 'ids_seq'). */
    "CREATE TABLE IF NOT EXISTS action_ids" ACTION_IDS_COLUMNS
    "CREATE TABLE IF NOT EXISTS id_runs(run INTEGER PRIMARY KEY, level INTEGER NOT NULL, n INTEGER NOT NULL);";

/* Format 6 to 7: format 6's index by id (two columns) becomes one run of
 * the top level, copied in id order; a store that has the runs already is
 * left alone. */
static const char ids_upgrade_sql[] =
    "CREATE TABLE action_ids_f7" ACTION_IDS_COLUMNS
    "INSERT INTO action_ids_f7 SELECT 1, id, seq FROM action_ids ORDER BY id;"
    "INSERT INTO id_runs(run,level,n) SELECT 1, 2, count(*) FROM action_ids"
    " HAVING count(*) > 0;"
    "DROP TABLE action_ids;"
    "ALTER TABLE action_ids_f7 RENAME TO action_ids;";
_Static_assert(GT_LEDGER_ID_LEVEL_TOP == 2, "ids_upgrade_sql writes the top level as 2");

/* Runs SQL that returns no rows: 0 or GT_EDB with SQLite's message. */
int gt_ledger_exec(sqlite3 *db, const char *sql, gt_err *err) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        gt_err_set(err, GT_EDB, "ledger store: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return GT_EDB;
    }
    return 0;
}

/* Creates every table: chain, state, and each registered module's. */
int gt_ledger_create_schema(sqlite3 *db, gt_err *err) {
    int rc;
    if ((rc = gt_ledger_exec(db, chain_schema_sql, err)) || (rc = gt_ledger_exec(db, gt_state_schema_sql, err)))
        return rc;
    for (int i = 0; i < gt_ledger_n_modules(); i++) {
        const gt_ledger_module *m = gt_ledger_module_at(i);
        if (m->schema_sql && (rc = gt_ledger_exec(db, m->schema_sql, err))) return rc;
    }
    return 0;
}

/* Records in meta that the rules of each format newer than `version` (9
 * to 16: gt_genesis.format9_height to format16_height) start at the block
 * after the head: the blocks before were made under the
 * older rules, which a replay must apply to them. A store keeps the heights
 * of the formats it already had. Inside the upgrade's transaction. */
static int put_format_heights(sqlite3 *db, uint64_t version, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT max(height) FROM blocks", -1, &q, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "ledger store: blocks: %s", sqlite3_errmsg(db));
    int s = sqlite3_step(q);
    int64_t head = s == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    if (s != SQLITE_ROW || head < 0) return gt_err_set(err, GT_EDB, "ledger store: no head block to upgrade from");
    int rc = version < 9 ? gt_ledger_meta_put_u64(db, "format9_height", (uint64_t)head + 1, err) : 0;
    if (!rc && version < 10) rc = gt_ledger_meta_put_u64(db, "format10_height", (uint64_t)head + 1, err);
    if (!rc && version < 11) rc = gt_ledger_meta_put_u64(db, "format11_height", (uint64_t)head + 1, err);
    if (!rc && version < 12) rc = gt_ledger_meta_put_u64(db, "format12_height", (uint64_t)head + 1, err);
    if (!rc && version < 13) rc = gt_ledger_meta_put_u64(db, "format13_height", (uint64_t)head + 1, err);
    if (!rc && version < 14) rc = gt_ledger_meta_put_u64(db, "format14_height", (uint64_t)head + 1, err);
    if (!rc && version < 15) rc = gt_ledger_meta_put_u64(db, "format15_height", (uint64_t)head + 1, err);
    return rc ? rc : gt_ledger_meta_put_u64(db, "format16_height", (uint64_t)head + 1, err);
}

/* Moves a store of an older format (GT_LEDGER_FORMAT_OLDEST on) to this
 * one (a writer's open, after gt_ledger_create_schema made what this format
 * adds, the market's indexes of name keys among it): the id index's runs
 * (ids_upgrade_sql, format 6 only), each module's upgrade_sql, the heights
 * format 9's to 16's rules start at and the new version in meta, one
 * transaction.
 * A store of any other version is left for gt_ledger_load_genesis to refuse. */
static int upgrade_format(gt_ledger *l, gt_err *err) {
    uint64_t version;
    int rc = gt_ledger_meta_get(l, "version", &version, NULL, 0, err);
    if (rc || version < GT_LEDGER_FORMAT_OLDEST || version >= GT_LEDGER_FORMAT) return rc;
    if ((rc = gt_ledger_exec(l->db, "BEGIN IMMEDIATE", err))) return rc;
    int columns = -1; /* of action_ids: 2 (id, seq) in format 6 */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(l->db, "SELECT count(*) FROM pragma_table_info('action_ids')", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        columns = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (columns < 0) rc = gt_err_set(err, GT_EDB, "ledger store: action_ids' columns: %s", sqlite3_errmsg(l->db));
    else if (columns == 2) {
        /* One copy of the whole index in this open: say so before a long wait. */
        GT_INFO("ledger %s: format %llu to %d: rewriting the index of action ids as one sorted run (once)", l->path,
                (unsigned long long)version, GT_LEDGER_FORMAT);
        rc = gt_ledger_exec(l->db, ids_upgrade_sql, err);
    }
    for (int i = 0; !rc && i < gt_ledger_n_modules(); i++) {
        const gt_ledger_module *m = gt_ledger_module_at(i);
        if (m->upgrade_sql) rc = gt_ledger_exec(l->db, m->upgrade_sql, err);
    }
    if (!rc) rc = put_format_heights(l->db, version, err);
    if (!rc) rc = gt_ledger_meta_put_u64(l->db, "version", GT_LEDGER_FORMAT, err);
    if (!rc) rc = gt_ledger_exec(l->db, "COMMIT", err);
    if (rc) gt_ledger_exec(l->db, "ROLLBACK", NULL);
    else GT_INFO("ledger %s: format %llu upgraded to %d", l->path, (unsigned long long)version, GT_LEDGER_FORMAT);
    return rc;
}

/* Opens the SQLite file (WAL, synchronous=FULL for a writer, until
 * gt_ledger_sync_open hands the syncs to the syncer; query_only for a
 * reader). */
int gt_ledger_open_db(const char *path, int readonly, sqlite3 **out, gt_err *err) {
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        gt_err_set(err, GT_EDB, "cannot open ledger %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return GT_EDB;
    }
    sqlite3_busy_timeout(db, 5000);
    int rc = gt_ledger_exec(db, readonly ? "PRAGMA query_only=1;" :
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;", err);
    if (!rc) rc = gt_ledger_modules_connect(db, err);
    if (rc) { sqlite3_close(db); return rc; }
    *out = db;
    return 0;
}

/* Sets meta[key] to v. */
int gt_ledger_meta_put_u64(sqlite3 *db, const char *key, uint64_t v, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta VALUES(?,?)", -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "meta: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)v);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "meta: %s", sqlite3_errmsg(db));
}

/* Reads meta[key] as an integer into *u and/or as a blob of exactly
 * blob_len bytes into blob (either may be NULL). GT_EDB when missing. The
 * statement is prepared once per ledger (l->meta_get, finalized at close):
 * a read-only ledger's gt_ledger_supply reads meta at every call. Callers
 * hold state_mu or are the opening thread, so one statement serves all. */
int gt_ledger_meta_get(gt_ledger *l, const char *key, uint64_t *u, uint8_t *blob, int blob_len, gt_err *err) {
    assert(l && l->db && key);
    if (!l->meta_get && sqlite3_prepare_v2(l->db, "SELECT value FROM meta WHERE key=?", -1, &l->meta_get, NULL))
        return gt_err_set(err, GT_EDB, "meta: %s", sqlite3_errmsg(l->db));
    sqlite3_stmt *q = l->meta_get;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        if (rc != SQLITE_DONE) gt_err_set(err, GT_EDB, "meta \"%s\": %s", key, sqlite3_errmsg(l->db));
        else gt_err_set(err, GT_EDB, "ledger store has no \"%s\" (not a gotong ledger?)", key);
        rc = GT_EDB;
    } else if (blob && sqlite3_column_bytes(q, 0) != blob_len) {
        rc = gt_err_set(err, GT_EDB, "ledger store: \"%s\" has the wrong size", key);
    } else {
        if (u) *u = (uint64_t)sqlite3_column_int64(q, 0);
        if (blob) memcpy(blob, sqlite3_column_blob(q, 0), (size_t)blob_len);
        rc = 0;
    }
    /* reset now: a statement left mid-step would hold a read transaction open */
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return rc;
}

/* Whether meta has a row for key: 1, 0, or -1 when it cannot be read. */
static int meta_has(gt_ledger *l, const char *key) {
    sqlite3_stmt *q = NULL;
    int s = sqlite3_prepare_v2(l->db, "SELECT 1 FROM meta WHERE key=?", -1, &q, NULL);
    if (s == SQLITE_OK) s = sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    if (s == SQLITE_OK) s = sqlite3_step(q);
    sqlite3_finalize(q);
    return s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : -1;
}

/* Reads the seed secret from meta into c and checks that it makes head's
 * draw seed and anchor (c then holds the segment the next block reads).
 * GT_ENOTFOUND for a copy made without it (backup.c marks one with the meta
 * row seed_secret_removed); a secret missing from any other ledger is
 * damage, GT_EDB. */
static int no_secret_refusal(const char *path, gt_err *err) {
    return gt_err_set(err, GT_ENOTFOUND, "the ledger %s has no draw seed secret: it is a copy made for verifying "
                      "(`gotong ledger backup --no-secret`), which `ledger verify` reads but no node may extend "
                      "(restore from a backup made without --no-secret)", path);
}

static int seed_matches(gt_ledger *l, gt_seed_chain *c, const gt_block *head, gt_err *err) {
    int rc = gt_ledger_meta_get(l, "seed_secret", NULL, c->secret, 32, err);
    if (rc && meta_has(l, "seed_secret") == 0 && meta_has(l, "seed_secret_removed") == 1)
        return no_secret_refusal(l->path, err);
    if (rc) return rc;
    uint8_t seed[32], anchor[32];
    gt_seed_for_block(c, head->height, seed, anchor);
    if (memcmp(seed, head->seed, 32) || memcmp(anchor, head->seed_anchor, 32))
        return gt_err_set(err, GT_EINVAL, "the ledger %s: its seed secret does not make the draw seed of block %llu "
                          "(the head), so this node cannot extend its seed chain", l->path,
                          (unsigned long long)head->height);
    return 0;
}

/* A writer reveals the seeds of its secret: it must be the secret the
 * chain so far was made from, or the next block could not be checked. */
static int load_seed(gt_ledger *l, gt_err *err) { return seed_matches(l, &l->seed, &l->head, err); }

int gt_ledger_seed_check(gt_ledger *l, gt_err *err) {
    gt_block head;
    gt_seed_chain *c = gt_calloc(1, sizeof *c); /* 32 KiB: not on the stack */
    int rc = c ? gt_ledger_head(l, &head, err) : gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) rc = seed_matches(l, c, &head, err);
    gt_free(c);
    return rc;
}

/* A writer refuses to build on a ledger that was changed outside the rules
 * (check.h); the message names the first bad block and the full check. On
 * success the state's digest accumulator starts from the checked one. */
static int check_on_open(gt_ledger *l, gt_err *err) {
    gt_digest_acc acc;
    int rc = gt_ledger_check(l->db, &l->g, &l->dom, &acc, err);
    if (rc == GT_ENOMEM) return rc;
    if (rc)
        return gt_err_wrap(err, "the ledger %s is damaged or was edited outside the rules, so it will not be "
                                "opened for writing; `gotong ledger verify` replays it in full and says more. "
                                "First fault",
                           l->path);
    gt_state_set_digest(l->state, &acc);
    return gt_digest_track(l->db, gt_state_digest_acc(l->state), err);
}

/* A writer's open, once the store is checked: the syncer's handle on the
 * WAL and the checkpointer's connection, then the checkpointer, syncer and
 * writer threads. On failure gt_ledger_close undoes what was done. */
static int start_threads(gt_ledger *l, gt_err *err) {
    int rc;
    if ((rc = gt_ledger_sync_open(l, err)) || (rc = gt_ledger_ckpt_open(l, err))) return rc;
    if (pthread_create(&l->ckpt, NULL, gt_ledger_ckpt_main, l) != 0)
        return gt_err_set(err, GT_ENOMEM, "cannot start the ledger's checkpointer thread");
    l->has_ckpt = 1;
    if (pthread_create(&l->syncer, NULL, gt_ledger_syncer_main, l) != 0)
        return gt_err_set(err, GT_ENOMEM, "cannot start the ledger's syncer thread");
    l->has_syncer = 1;
    if (pthread_create(&l->writer, NULL, gt_ledger_writer_main, l) != 0)
        return gt_err_set(err, GT_ENOMEM, "cannot start the ledger's writer thread");
    l->has_writer = 1;
    return 0;
}

/* Refuses, before a writer's open changes anything, a copy made without the
 * seed secret (backup.c marks one with the meta row seed_secret_removed):
 * the writer's open would turn the copy to WAL mode and upgrade its format
 * before load_seed refused it, so the copy handed over for verifying was no
 * longer the one made. Read-only, so a file that is no ledger at all (or
 * one that cannot be read) is left to the open's own checks and messages. */
static int refuse_verify_copy(const char *path, gt_err *err) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int secret = -1, removed = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT sum(key='seed_secret'), sum(key='seed_secret_removed') FROM meta", -1, &q,
                           NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_INTEGER) {
        secret = sqlite3_column_int(q, 0);
        removed = sqlite3_column_int(q, 1);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return secret == 0 && removed > 0 ? no_secret_refusal(path, err) : 0;
}

int gt_ledger_open(const char *path, int flags, gt_ledger **out, gt_err *err) {
    *out = NULL;
    int rc = gt_rules_register(err);
    if (rc) return rc;
    if (access(path, F_OK) != 0)
        return gt_err_set(err, GT_ENOTFOUND, "no ledger at %s (run `gotong init` first)", path);
    /* A FIFO (or a device) is refused before any open: SQLite's read-only
     * open of a FIFO, the reader's and refuse_verify_copy's, blocks until
     * another process writes to it. stat follows a symlink to its file. */
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return gt_err_set(err, GT_EINVAL, "the ledger %s is not a regular file", path);
    gt_ledger *l = gt_calloc(1, sizeof *l);
    if (!l) return gt_err_set(err, GT_ENOMEM, "out of memory");
    l->lock_fd = -1;
    l->id_batch = GT_LEDGER_ID_BATCH;
    l->readonly = flags & GT_LEDGER_READONLY;
    snprintf(l->path, sizeof l->path, "%s", path);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_cond_init(&l->done_cv, NULL);
    pthread_cond_init(&l->sync_cv, NULL);
    pthread_mutex_init(&l->state_mu, NULL);
    pthread_mutex_init(&l->ck_hold, NULL);
    pthread_mutex_init(&l->ck_mu, NULL);
    pthread_cond_init(&l->ck_cv, NULL);
    pthread_mutex_init(&l->resv_mu, NULL);
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
    if (!l->readonly && (rc = refuse_verify_copy(path, err))) goto fail;
    if ((rc = gt_ledger_open_db(path, l->readonly, &l->db, err))) goto fail;
    if (!l->readonly && ((rc = gt_ledger_create_schema(l->db, err)) || (rc = upgrade_format(l, err)))) goto fail;
    if ((rc = gt_ledger_load_genesis(l, &l->g, err))) goto fail;
    if ((rc = gt_block_row_read(l->db, -1, &l->head, err))) goto fail;
    {
        gt_block genesis;
        if ((rc = gt_block_row_read(l->db, 0, &genesis, err)) ||
            (rc = gt_ledger_genesis_matches(&l->g, &genesis, err)))
            goto fail;
        l->dom.chain_id = l->g.chain_id;
        memcpy(l->dom.salt, genesis.hash, 32);
    }
    l->state = gt_state_new();
    if (!l->state) { rc = gt_err_set(err, GT_ENOMEM, "out of memory"); goto fail; }
    if (!l->readonly && ((rc = check_on_open(l, err)) || (rc = load_seed(l, err)))) goto fail;
    uint64_t supply;
    if ((rc = gt_ledger_meta_get(l, "supply", &supply, NULL, 0, err))) goto fail;
    gt_state_set_supply(l->state, supply);
    if (!l->readonly) {
        uint64_t ids_seq = 0, max_seq = 0;
        if ((rc = gt_ledger_meta_get(l, "ids_seq", &ids_seq, NULL, 0, err))) goto fail;
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(l->db, "SELECT coalesce(max(seq),0) FROM actions", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            max_seq = (uint64_t)sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        l->unindexed = max_seq > ids_seq ? max_seq - ids_seq : 0;
        if ((rc = start_threads(l, err))) goto fail;
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
    if (l->has_syncer) { /* after the writer: it syncs what the writer committed last */
        pthread_mutex_lock(&l->mu);
        l->sync_stop = 1;
        pthread_cond_signal(&l->sync_cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->syncer, NULL);
        l->has_syncer = 0;
    }
    assert(!l->s_head);
    gt_ledger_ckpt_stop(l); /* the writer has stopped: nothing more to copy */
    gt_ledger_ckpt_close(l);
    gt_ledger_sync_close(l);
    sqlite3_finalize(l->ins_action);
    sqlite3_finalize(l->ins_block);
    sqlite3_finalize(l->begin);
    sqlite3_finalize(l->commit);
    sqlite3_finalize(l->meta_get);
    assert(!l->each_q.busy && !l->block_q.busy);
    sqlite3_finalize(l->each_q.q);
    sqlite3_finalize(l->block_q.q);
    gt_state_free(l->state);
    if (l->db) sqlite3_close(l->db);
    if (l->lock_fd >= 0) close(l->lock_fd);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    pthread_cond_destroy(&l->done_cv);
    pthread_cond_destroy(&l->sync_cv);
    pthread_mutex_destroy(&l->state_mu);
    pthread_mutex_destroy(&l->ck_hold);
    pthread_mutex_destroy(&l->ck_mu);
    pthread_cond_destroy(&l->ck_cv);
    pthread_mutex_destroy(&l->resv_mu);
    gt_free(l->ids);
    gt_free(l);
}

const gt_genesis *gt_ledger_genesis(const gt_ledger *l) { return &l->g; }

const gt_domain *gt_ledger_domain(const gt_ledger *l) { return &l->dom; }


/* k's statement for sql, or when a caller is already using it, a new one of
 * the caller's own (*own set): NULL with GT_EDB in err when SQLite cannot
 * prepare it. Hand it back with kept_put. */
static sqlite3_stmt *kept_take(gt_ledger *l, gt_kept_stmt *k, const char *sql, int *own, gt_err *err) {
    sqlite3_stmt *q = NULL;
    *own = __atomic_exchange_n(&k->busy, 1, __ATOMIC_ACQUIRE);
    if (!*own) {
        if (!k->q && sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &k->q, NULL)) {
            k->q = NULL;
            __atomic_store_n(&k->busy, 0, __ATOMIC_RELEASE);
            gt_err_set(err, GT_EDB, "%s", sqlite3_errmsg(l->db));
        }
        return k->q;
    }
    if (sqlite3_prepare_v2(l->db, sql, -1, &q, NULL)) gt_err_set(err, GT_EDB, "%s", sqlite3_errmsg(l->db));
    return q;
}

/* Hands back kept_take's statement: k's is reset (a statement left mid-step
 * holds a read transaction open) and unbound, a caller's own finalized. */
static void kept_put(gt_kept_stmt *k, sqlite3_stmt *q, int own) {
    if (own) {
        sqlite3_finalize(q);
        return;
    }
    assert(q == k->q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    __atomic_store_n(&k->busy, 0, __ATOMIC_RELEASE);
}

int gt_ledger_has_secret(gt_ledger *l) { return meta_has(l, "seed_secret"); }

int gt_ledger_head(gt_ledger *l, gt_block *out, gt_err *err) {
    if (l->readonly) return gt_block_row_read(l->db, -1, out, err);
    pthread_mutex_lock(&l->state_mu);
    *out = l->head;
    pthread_mutex_unlock(&l->state_mu);
    return 0;
}

int gt_ledger_block(gt_ledger *l, uint64_t height, gt_block *out, gt_err *err) {
    if (height > INT64_MAX) return gt_err_set(err, GT_ENOTFOUND, "no block at height %llu", (unsigned long long)height);
    int own;
    sqlite3_stmt *q = kept_take(l, &l->block_q, GT_BLOCK_ROW_AT_SQL, &own, err);
    if (!q) return gt_err_wrap(err, "blocks");
    int rc = gt_block_row_step(q, l->db, (int64_t)height, out, err);
    kept_put(&l->block_q, q, own);
    return rc;
}

int gt_ledger_read(gt_ledger *l, int (*fn)(void *arg, gt_tx *tx, gt_err *err), void *arg, gt_err *err) {
    pthread_mutex_lock(&l->state_mu);
    gt_tx tx = {.state = l->state, .db = l->db, .domain = l->dom, .height = l->head.height,
                .time_s = l->head.time_s, .unbonding_blocks = l->g.unbonding_blocks, .windows = l->g.windows,
                .authority = l->g.authority, .format9_height = l->g.format9_height,
                .format10_height = l->g.format10_height, .format11_height = l->g.format11_height,
                .format12_height = l->g.format12_height, .format13_height = l->g.format13_height,
                .format14_height = l->g.format14_height, .format15_height = l->g.format15_height,
                .format16_height = l->g.format16_height};
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
    if (l->readonly) gt_ledger_meta_get(l, "supply", &s, NULL, 0, NULL);
    pthread_mutex_unlock(&l->state_mu);
    return s;
}

#define EACH_ACTION_SQL "SELECT height,idx,body FROM actions WHERE height BETWEEN ? AND ? ORDER BY seq"

int gt_ledger_each_decoded(gt_ledger *l, uint64_t from, uint64_t to, gt_ledger_decoded_fn fn, void *arg,
                           gt_err *err) {
    assert(l && l->db && fn);
    int own;
    sqlite3_stmt *q = kept_take(l, &l->each_q, EACH_ACTION_SQL, &own, err);
    if (!q) return gt_err_wrap(err, "actions");
    sqlite3_bind_int64(q, 1, (int64_t)(from > INT64_MAX ? INT64_MAX : from));
    sqlite3_bind_int64(q, 2, (int64_t)(to > INT64_MAX ? INT64_MAX : to));
    int rc, stop = 0;
    gt_action *a = gt_malloc(sizeof *a);
    if (!a) {
        kept_put(&l->each_q, q, own);
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        uint64_t h = (uint64_t)sqlite3_column_int64(q, 0);
        uint32_t idx = (uint32_t)sqlite3_column_int64(q, 1);
        if (gt_action_decode(sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2), l->dom.salt, a, err)) {
            gt_free(a);
            kept_put(&l->each_q, q, own);
            return gt_err_wrap(err, "block %llu action %u", (unsigned long long)h, idx);
        }
        stop = fn(arg, h, idx, a);
    }
    gt_free(a);
    int fail = !stop && rc != SQLITE_DONE ? gt_err_set(err, GT_EDB, "actions: %s", sqlite3_errmsg(l->db)) : 0;
    kept_put(&l->each_q, q, own);
    return fail;
}

/* gt_ledger_each_action's adapter: the decoded action as compact JSON. */
typedef struct each_json {
    gt_ledger_action_fn fn;
    void *arg;
    uint64_t oom_height; /* 0: no allocation failed */
} each_json;

static int each_json_fn(void *arg, uint64_t height, uint32_t index, const gt_action *a) {
    each_json *e = arg;
    json_t *j = gt_action_to_json(a, 1);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s) { /* out of memory: an error, never a NULL handed to fn */
        e->oom_height = height ? height : 1;
        return 1;
    }
    int stop = e->fn(e->arg, height, index, s);
    free(s);
    return stop;
}

int gt_ledger_each_action(gt_ledger *l, uint64_t from, uint64_t to, gt_ledger_action_fn fn, void *arg,
                          gt_err *err) {
    each_json e = {.fn = fn, .arg = arg};
    int rc = gt_ledger_each_decoded(l, from, to, each_json_fn, &e, err);
    if (!rc && e.oom_height)
        return gt_err_set(err, GT_ENOMEM, "out of memory writing block %llu's actions as JSON",
                          (unsigned long long)e.oom_height);
    return rc;
}
