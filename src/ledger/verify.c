/* verify.c: `gotong ledger verify`: replay the whole log from genesis into a
 * fresh in-memory state with the same rules, checking every signature, nonce,
 * rule, root and hash on the way, and finally that the replayed state equals
 * the stored one row for row and each stored state table agrees with its
 * indexes. Reads the ledger file read-only.
 *
 * Fail closed: every SQLite call is checked, and an error (a damaged page, a
 * missing table, a busy store) fails the verification with its message; it is
 * never taken as "no difference". */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "ledger/digest.h"
#include "ledger/ledger.h"
#include "ledger/ledger_impl.h"
#include "ledger/rules.h"
#include "ledger/seed.h"

/* Everything one verification holds. */
typedef struct replay {
    const char *path;
    gt_ledger *src;
    const gt_genesis *g;
    gt_domain dom;
    sqlite3 *mem, *sdb;
    sqlite3_stmt *qa;
    gt_state *st;
    gt_action *a;
    uint8_t (*ids)[32];
    size_t ids_cap;
    gt_verify_report *rep;
} replay;

/* Opens a fresh in-memory store with every table. */
static int fresh_store(sqlite3 **out, gt_err *err) {
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        sqlite3_close(db);
        return gt_err_set(err, GT_EDB, "cannot open an in-memory store");
    }
    if (gt_ledger_modules_connect(db, err)) {
        sqlite3_close(db);
        return GT_EDB;
    }
    int rc = sqlite3_exec(db, gt_state_schema_sql, NULL, NULL, NULL);
    for (int i = 0; !rc && i < gt_ledger_n_modules(); i++) {
        const gt_ledger_module *m = gt_ledger_module_at(i);
        if (m->schema_sql) rc = sqlite3_exec(db, m->schema_sql, NULL, NULL, NULL);
    }
    if (rc) {
        gt_err_set(err, GT_EDB, "replay store: %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return GT_EDB;
    }
    *out = db;
    return 0;
}

/* "0x" + 64 hex digits, for messages. */
static void hex32(const uint8_t *b, char out[67]) {
    out[0] = '0', out[1] = 'x';
    gt_hex_encode(b, 32, out + 2);
}

/* Runs a query of one integer row into *out; any SQLite error is GT_EDB,
 * its message prefixed by what (what the query reads). */
static int query_i64(sqlite3 *db, const char *sql, const char *what, int64_t *out, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "%s: %s", what, sqlite3_errmsg(db));
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) *out = sqlite3_column_int64(q, 0);
    int rc = s == SQLITE_ROW ? 0 : gt_err_set(err, GT_EDB, "%s: %s", what, s == SQLITE_DONE ? "no row" : sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* The replay store's column list of table (a,b,...), so that the
 * stored table is read by name: a stored schema whose columns were renamed
 * or reordered fails instead of comparing by position. */
static int column_list(sqlite3 *mem, const char *table, char *out, size_t cap, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(mem, "SELECT name FROM pragma_table_info(?) ORDER BY cid", -1, &q, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "columns of %s: %s", table, sqlite3_errmsg(mem));
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    size_t n = 0;
    int s;
    out[0] = 0;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        /* Bare names: a double-quoted name that matches no column would be
         * read as a string literal (SQLite's compatibility rule). */
        int w = snprintf(out + n, cap - n, "%s%s", n ? "," : "", (const char *)sqlite3_column_text(q, 0));
        if (w < 0 || (size_t)w >= cap - n) { s = SQLITE_TOOBIG; break; }
        n += (size_t)w;
    }
    sqlite3_finalize(q);
    if (s != SQLITE_DONE || !n) return gt_err_set(err, GT_EDB, "columns of %s: cannot list them", table);
    return 0;
}

/* A table the stored ledger does not have: a store of an older format,
 * not yet opened by a writer (which makes the tables its format added),
 * has none of a later format's tables (format 14's fd_epoch_funds), and
 * its blocks, decided under the older rules, wrote no row of them. 0 when
 * the replay has none either; *missing 1 when the store lacks table. */
static int stored_missing(sqlite3 *mem, const char *table, int *missing, gt_err *err) {
    int64_t n = 0, rows = 0;
    char *sql = sqlite3_mprintf("SELECT count(*) FROM stored.sqlite_master WHERE type='table' AND name=%Q", table);
    int rc = sql ? query_i64(mem, sql, "listing the stored tables", &n, err)
                 : gt_err_set(err, GT_ENOMEM, "out of memory");
    sqlite3_free(sql);
    *missing = !rc && n == 0;
    if (rc || !*missing) return rc;
    sql = sqlite3_mprintf("SELECT count(*) FROM main.\"%w\"", table);
    rc = sql ? query_i64(mem, sql, "counting the replayed rows", &rows, err)
             : gt_err_set(err, GT_ENOMEM, "out of memory");
    sqlite3_free(sql);
    if (!rc && rows)
        rc = gt_err_set(err, GT_EINVAL, "the stored ledger has no table %s, the replayed state %lld rows of it",
                        table, (long long)rows);
    return rc;
}

/* Compares one table of the stored ledger with the replayed one. */
static int compare_table(sqlite3 *mem, const char *table, gt_err *err) {
    char cols[1024];
    int rc = column_list(mem, table, cols, sizeof cols, err);
    if (rc) return rc;
    char *sql = sqlite3_mprintf(
             "SELECT (SELECT count(*) FROM (SELECT %s FROM stored.\"%s\" EXCEPT SELECT %s FROM main.\"%s\"))"
             " + (SELECT count(*) FROM (SELECT %s FROM main.\"%s\" EXCEPT SELECT %s FROM stored.\"%s\"))",
             cols, table, cols, table, cols, table, cols, table);
    if (!sql) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int64_t diff = 0;
    char what[160];
    snprintf(what, sizeof what, "comparing table %s", table);
    rc = query_i64(mem, sql, what, &diff, err);
    sqlite3_free(sql);
    if (rc) return rc;
    if (diff)
        return gt_err_set(err, GT_EINVAL, "stored %s differ from the replayed state in %lld rows", table, (long long)diff);
    return 0;
}

/* The stored table and its indexes must agree (SQLite's integrity_check of
 * that table): the rules look rows up through indexes the rows alone do not
 * show, such as the market's index of agents by the look of their names,
 * which is outside the state digest, so compare_table cannot see an entry
 * missing or wrong, yet a lookup through it would decide differently from
 * the replay. mem has the modules' SQL functions the indexes compute. */
static int check_table_indexes(sqlite3 *mem, const char *table, gt_err *err) {
    char *sql = sqlite3_mprintf("PRAGMA stored.integrity_check(%Q)", table);
    sqlite3_stmt *q;
    if (!sql) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = sqlite3_prepare_v2(mem, sql, -1, &q, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) return gt_err_set(err, GT_EDB, "checking table %s: %s", table, sqlite3_errmsg(mem));
    int s = sqlite3_step(q);
    const char *first = s == SQLITE_ROW ? (const char *)sqlite3_column_text(q, 0) : NULL;
    if (s != SQLITE_ROW) rc = gt_err_set(err, GT_EDB, "checking table %s: %s", table, sqlite3_errmsg(mem));
    else if (!first || strcmp(first, "ok"))
        rc = gt_err_set(err, GT_EINVAL, "the stored table %s or an index of it is damaged (%s): lookups through it "
                        "would differ from the replay", table, first ? first : "no answer");
    sqlite3_finalize(q);
    return rc;
}

/* The stored genesis block must be the one the genesis parameters make. */
static int check_genesis(replay *r, gt_block *prev, gt_err *err) {
    int rc = gt_ledger_block(r->src, 0, prev, err);
    if (rc) return rc;
    const gt_genesis *g = r->g;
    gt_block gb = {.time_s = g->time_s};
    memcpy(gb.seed, prev->seed, 32); /* the seed chain's anchors, made from the node's secret */
    memcpy(gb.seed_anchor, prev->seed_anchor, 32);
    gt_genesis_state_root(g->chain_id, &g->authority, g->unbonding_blocks, g->time_s, &g->windows, gb.state_root);
    gt_block_empty_digest(gb.state_digest);
    gt_block_hash(&gb);
    if (memcmp(gb.hash, prev->hash, 32) || memcmp(gb.prev, prev->prev, 32) || memcmp(gb.actions_root, prev->actions_root, 32) ||
        memcmp(gb.state_root, prev->state_root, 32) || memcmp(gb.state_digest, prev->state_digest, 32) ||
        prev->time_s != g->time_s || prev->n_actions != 0)
        return gt_err_set(err, GT_EINVAL, "block 0: the genesis block does not match the ledger's genesis parameters");
    return 0;
}

/* Applies the stored actions of block h (header sb) to the replay; fills the
 * ids and their count. */
static int replay_actions(replay *r, gt_tx *tx, const gt_block *sb, uint32_t *count, gt_err *err) {
    unsigned long long h = (unsigned long long)sb->height;
    if (sb->n_actions > r->ids_cap) {
        void *p = gt_realloc(r->ids, (size_t)sb->n_actions * 32);
        if (!p) return gt_err_set(err, GT_ENOMEM, "out of memory");
        r->ids = p;
        r->ids_cap = sb->n_actions;
    }
    uint32_t k = 0;
    int s, rc = 0;
    sqlite3_bind_int64(r->qa, 1, (int64_t)sb->height);
    while (!rc && (s = sqlite3_step(r->qa)) == SQLITE_ROW) {
        if (k >= sb->n_actions) { rc = gt_err_set(err, GT_EINVAL, "block %llu holds more actions than its header says", h); break; }
        rc = gt_action_decode(sqlite3_column_blob(r->qa, 0), (size_t)sqlite3_column_bytes(r->qa, 0), NULL, r->a, err);
        if (!rc) rc = gt_action_verify(r->a, &r->dom, err);
        if (!rc && (sqlite3_column_bytes(r->qa, 1) != 32 || memcmp(sqlite3_column_blob(r->qa, 1), r->a->id, 32)))
            rc = gt_err_set(err, GT_EINVAL, "its stored id is not its digest");
        if (!rc) rc = gt_block_apply_action(tx, r->a, err);
        if (rc) { gt_err_wrap(err, "block %llu action %u", h, k); break; }
        memcpy(r->ids[k++], r->a->id, 32);
        r->rep->actions++;
    }
    if (!rc && s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "block %llu: reading its actions: %s", h, sqlite3_errmsg(r->sdb));
    sqlite3_reset(r->qa);
    if (!rc && k != sb->n_actions)
        rc = gt_err_set(err, GT_EINVAL, "block %llu: header says %u actions, log has %u", h, sb->n_actions, k);
    *count = k;
    return rc;
}

/* Replays block h on top of prev and compares every root with the stored header. */
static int replay_block(replay *r, const gt_block *prev, const gt_block *sb, gt_err *err) {
    unsigned long long h = (unsigned long long)sb->height;
    if (memcmp(sb->prev, prev->hash, 32)) return gt_err_set(err, GT_EINVAL, "block %llu: prev hash does not link to block %llu", h, h - 1);
    if (sb->time_s < prev->time_s)
        return gt_err_set(err, GT_EINVAL, "block %llu: time goes backwards (%llu, block %llu has %llu)", h,
                          (unsigned long long)sb->time_s, h - 1, (unsigned long long)prev->time_s);
    int rc = gt_seed_check(sb->height, prev->seed, prev->seed_anchor, sb->seed, sb->seed_anchor, err);
    if (rc) return rc;
    gt_tx tx = {.state = r->st, .db = r->mem, .domain = r->dom, .height = sb->height, .time_s = sb->time_s,
                .unbonding_blocks = r->g->unbonding_blocks, .windows = r->g->windows,
                .authority = r->g->authority, .format9_height = r->g->format9_height,
                .format10_height = r->g->format10_height, .format11_height = r->g->format11_height,
                .format12_height = r->g->format12_height, .format13_height = r->g->format13_height,
                .format14_height = r->g->format14_height, .format15_height = r->g->format15_height,
                .format16_height = r->g->format16_height};
    memcpy(tx.prev_hash, prev->hash, 32);
    memcpy(tx.seed, sb->seed, 32);   /* the seed of the market's panel draws */
    if (sqlite3_exec(r->mem, "BEGIN", NULL, NULL, NULL)) return gt_err_set(err, GT_EDB, "replay: %s", sqlite3_errmsg(r->mem));
    rc = gt_block_begin(&tx, err);
    if (rc > 0) rc = 0;
    uint32_t k = 0;
    if (!rc) rc = replay_actions(r, &tx, sb, &k, err);
    gt_block rb = {.height = sb->height, .time_s = sb->time_s, .n_actions = k};
    memcpy(rb.prev, prev->hash, 32);
    memcpy(rb.seed, sb->seed, 32);
    memcpy(rb.seed_anchor, sb->seed_anchor, 32);
    gt_block_actions_root(r->ids, k, rb.actions_root);
    if (!rc) rc = gt_block_finish(&tx, prev->state_root, &rb, err);
    if (!rc && sqlite3_exec(r->mem, "COMMIT", NULL, NULL, NULL)) rc = gt_err_set(err, GT_EDB, "replay: %s", sqlite3_errmsg(r->mem));
    if (rc) return rc;
    const struct { const char *what; const uint8_t *mine, *stored; } cmp[] = {
        {"actions root", rb.actions_root, sb->actions_root},
        {"replayed state root", rb.state_root, sb->state_root},
        {"replayed state digest", rb.state_digest, sb->state_digest},
        {"hash", rb.hash, sb->hash},
    };
    for (size_t i = 0; i < sizeof cmp / sizeof cmp[0]; i++) {
        if (!memcmp(cmp[i].mine, cmp[i].stored, 32)) continue;
        char x[67], y[67];
        hex32(cmp[i].mine, x);
        hex32(cmp[i].stored, y);
        return gt_err_set(err, GT_EINVAL, "block %llu: %s %s, stored %s", h, cmp[i].what, x, y);
    }
    return 0;
}

/* Replays blocks 1..head. */
static int replay_log(replay *r, const gt_block *head, gt_verify_progress progress, void *progress_arg, gt_err *err) {
    gt_block prev;
    int rc = check_genesis(r, &prev, err);
    if (rc) return rc;
    if (sqlite3_open_v2(r->path, &r->sdb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "cannot open %s: %s", r->path, sqlite3_errmsg(r->sdb));
    if (sqlite3_prepare_v2(r->sdb, "SELECT body,id FROM actions WHERE height=? ORDER BY idx", -1, &r->qa, NULL))
        return gt_err_set(err, GT_EDB, "actions: %s", sqlite3_errmsg(r->sdb));
    int64_t n = 0;
    if ((rc = query_i64(r->sdb, "SELECT count(*) FROM blocks", "counting blocks", &n, err))) return rc;
    if ((uint64_t)n != head->height + 1)
        return gt_err_set(err, GT_EINVAL, "the ledger stores %lld blocks for heights 0..%llu (a block row is missing)",
                          (long long)n, (unsigned long long)head->height);
    for (uint64_t h = 1; h <= head->height; h++) {
        gt_block sb;
        if ((rc = gt_ledger_block(r->src, h, &sb, err))) return rc;
        if ((rc = replay_block(r, &prev, &sb, err))) return rc;
        prev = sb;
        r->rep->blocks++;
        if (progress) progress(progress_arg, h, head->height);
    }
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM actions WHERE height > %llu OR height < 1", (unsigned long long)head->height);
    if ((rc = query_i64(r->sdb, sql, "counting actions", &n, err))) return rc;
    if (n) return gt_err_set(err, GT_EINVAL, "%lld stored actions belong to no block", (long long)n);
    return 0;
}

/* The index of action ids (what GET /v1/actions/{id} reads) must hold
 * exactly the actions up to meta 'ids_seq', each once and under its stored
 * id (which the replay checked against its digest); in format 7 every entry
 * must be in a run id_runs lists, with that run's count. An index that
 * disagrees loses nothing of the log, but a lookup would miss or misplace
 * an applied action, so it fails the verification too. */
static int check_id_index(replay *r, gt_err *err) {
    static const struct { const char *sql, *what; } q[] = {
        {"SELECT count(*) FROM action_ids", "entries"},
        {"SELECT count(DISTINCT seq) FROM action_ids", "actions"},
        {"SELECT count(*) FROM action_ids i JOIN actions a ON a.seq=i.seq AND a.id=i.id"
         " WHERE a.seq <= (SELECT value FROM meta WHERE key='ids_seq')", "entries matching an action's id"},
    };
    int64_t ids_seq, n;
    int rc = query_i64(r->sdb, "SELECT value FROM meta WHERE key='ids_seq'", "reading ids_seq", &ids_seq, err);
    for (size_t i = 0; !rc && i < sizeof q / sizeof q[0]; i++) {
        if ((rc = query_i64(r->sdb, q[i].sql, "reading the index of action ids", &n, err))) break;
        if (n != ids_seq)
            rc = gt_err_set(err, GT_EINVAL, "the index of action ids holds %lld %s where the log has %lld indexed "
                            "actions: lookups by id would miss or misplace actions (the log itself is intact)",
                            (long long)n, q[i].what, (long long)ids_seq);
    }
    int64_t runs = 0;
    if (!rc) rc = query_i64(r->sdb, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='id_runs'",
                            "looking for id_runs", &runs, err);
    if (rc || !runs) return rc; /* a format 6 store, read as it is */
    if ((rc = query_i64(r->sdb, "SELECT count(*) FROM action_ids WHERE run NOT IN (SELECT run FROM id_runs)",
                        "reading the index of action ids", &n, err)))
        return rc;
    if (n) return gt_err_set(err, GT_EINVAL, "the index of action ids has %lld entries in no listed run", (long long)n);
    if ((rc = query_i64(r->sdb, "SELECT count(*) FROM id_runs r WHERE n <> (SELECT count(*) FROM action_ids"
                        " WHERE run=r.run)", "reading the runs of the index of action ids", &n, err)))
        return rc;
    if (n) return gt_err_set(err, GT_EINVAL, "the index of action ids has %lld runs of a wrong count", (long long)n);
    return 0;
}

/* check_id_index in one read transaction: a node writing beside the
 * verification may add a run between two of its queries. */
static int check_id_index_now(replay *r, gt_err *err) {
    if (sqlite3_exec(r->sdb, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "reading the index of action ids: %s", sqlite3_errmsg(r->sdb));
    int rc = check_id_index(r, err);
    sqlite3_exec(r->sdb, "COMMIT", NULL, NULL, NULL);
    return rc;
}

/* The stored state must be exactly the replayed one, and conserve supply. */
static int compare_state(replay *r, gt_err *err) {
    char *attach = sqlite3_mprintf("ATTACH DATABASE %Q AS stored", r->path);
    int rc = attach ? sqlite3_exec(r->mem, attach, NULL, NULL, NULL) : SQLITE_NOMEM;
    sqlite3_free(attach);
    if (rc) return gt_err_set(err, GT_EDB, "attach: %s", sqlite3_errmsg(r->mem));
    /* Every state table -- the core's and each module's (the replay store
     * holds exactly those) -- must match row for row. */
    sqlite3_stmt *tq;
    if (sqlite3_prepare_v2(r->mem, "SELECT name FROM main.sqlite_master WHERE type='table' AND name<>'meta' ORDER BY name",
                           -1, &tq, NULL))
        return gt_err_set(err, GT_EDB, "replay: %s", sqlite3_errmsg(r->mem));
    int s;
    rc = 0;
    while (!rc && (s = sqlite3_step(tq)) == SQLITE_ROW) {
        char table[128];
        snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(tq, 0));
        int missing = 0;
        rc = stored_missing(r->mem, table, &missing, err);
        if (!rc && !missing) rc = compare_table(r->mem, table, err);
        if (!rc && !missing) rc = check_table_indexes(r->mem, table, err);
    }
    if (!rc && s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "listing tables: %s", sqlite3_errmsg(r->mem));
    sqlite3_finalize(tq);
    if (rc) return rc;
    int64_t stored_supply, sum;
    if ((rc = query_i64(r->mem, "SELECT value FROM stored.meta WHERE key='supply'", "reading supply", &stored_supply, err))) return rc;
    if ((uint64_t)stored_supply != gt_state_supply(r->st))
        return gt_err_set(err, GT_EINVAL, "stored supply %lld differs from the replayed supply %llu", (long long)stored_supply,
                          (unsigned long long)gt_state_supply(r->st));
    if ((rc = query_i64(r->mem, "SELECT coalesce(sum(balance+staked+locked+unbonding),0) FROM main.accounts", "summing accounts",
                        &sum, err)))
        return rc;
    if ((uint64_t)sum != gt_state_supply(r->st))
        return gt_err_set(err, GT_EINVAL, "accounts hold %lld units but supply is %llu", (long long)sum,
                          (unsigned long long)gt_state_supply(r->st));
    return 0;
}

int gt_ledger_verify(const char *path, gt_verify_report *rep, gt_verify_progress progress, void *progress_arg,
                     gt_err *err) {
    memset(rep, 0, sizeof *rep);
    replay r = {.path = path, .rep = rep};
    int rc = gt_ledger_open(path, GT_LEDGER_READONLY, &r.src, err);
    if (rc) return rc;
    r.g = gt_ledger_genesis(r.src);
    r.dom = *gt_ledger_domain(r.src);
    gt_block head;
    if ((rc = gt_ledger_head(r.src, &head, err))) goto done;
    r.st = gt_state_new();
    r.a = gt_malloc(sizeof *r.a);
    if (!r.st || !r.a) { rc = gt_err_set(err, GT_ENOMEM, "out of memory"); goto done; }
    if ((rc = fresh_store(&r.mem, err))) goto done;
    if ((rc = gt_digest_track(r.mem, gt_state_digest_acc(r.st), err))) goto done;
    if ((rc = replay_log(&r, &head, progress, progress_arg, err))) goto done;
    if ((rc = check_id_index_now(&r, err))) goto done;
    if ((rc = compare_state(&r, err))) goto done;
    /* A copy for verifying has no secret: its seeds are checked block to
     * block (each hashes to the one before), not against the secret. */
    if ((rc = gt_ledger_seed_check(r.src, err)) == GT_ENOTFOUND) rep->secret_absent = 1, rc = 0;
    if (rc) goto done;
    memcpy(rep->head_hash, head.hash, 32);
    rep->supply = gt_state_supply(r.st);
done:
    sqlite3_finalize(r.qa);
    if (r.sdb) sqlite3_close(r.sdb);
    gt_free(r.ids);
    gt_free(r.a);
    gt_state_free(r.st);
    if (r.mem) sqlite3_close(r.mem);
    gt_ledger_close(r.src);
    return rc;
}
