/* block_rows.c: the rows of the log tables. A block's row written and read back
 * strictly (a damaged column is GT_EDB naming it), and an applied action
 * found by its id through the batched id index (writer.c keeps it current).
 * Split from ledger.c, which owns the store's connection (the writer is in writer.c). */
#include "ledger/block_rows.h"

#include <stdint.h>
#include <string.h>

#include "ledger/ledger.h"
#include "ledger/row.h"

/* Writes block b's row through *cached (prepared on first use, kept by the
 * caller). 0 or GT_EDB. */
int gt_block_row_put(sqlite3 *db, sqlite3_stmt **cached, const gt_block *b, gt_err *err) {
    if (!*cached && sqlite3_prepare_v2(db, "INSERT INTO blocks VALUES(?,?,?,?,?,?,?,?,?,?)", -1, cached, NULL))
        return gt_err_set(err, GT_EDB, "blocks: %s", sqlite3_errmsg(db));
    sqlite3_stmt *q = *cached;
    sqlite3_bind_int64(q, 1, (int64_t)b->height);
    sqlite3_bind_blob(q, 2, b->hash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, b->prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, b->actions_root, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 5, b->state_root, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (int64_t)b->time_s);
    sqlite3_bind_int64(q, 7, b->n_actions);
    sqlite3_bind_blob(q, 8, b->state_digest, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 9, b->seed, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 10, b->seed_anchor, 32, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "writing block: %s", sqlite3_errmsg(db));
}

/* Reads one block row (the query's columns in table order): 0, or GT_EDB
 * naming a damaged column. */
int gt_block_row_from(sqlite3_stmt *q, gt_block *b, gt_err *err) {
    memset(b, 0, sizeof *b);
    uint64_t n_actions = 0; /* 0 when an earlier column is damaged (then rc refuses the row) */
    int rc = gt_row_amount(q, 0, &b->height, "blocks", err);
    if (!rc) rc = gt_row_blob(q, 1, b->hash, 32, "blocks", err);
    if (!rc) rc = gt_row_blob(q, 2, b->prev, 32, "blocks", err);
    if (!rc) rc = gt_row_blob(q, 3, b->actions_root, 32, "blocks", err);
    if (!rc) rc = gt_row_blob(q, 4, b->state_root, 32, "blocks", err);
    if (!rc) rc = gt_row_amount(q, 5, &b->time_s, "blocks", err);
    if (!rc) rc = gt_row_amount(q, 6, &n_actions, "blocks", err);
    if (!rc && n_actions > UINT32_MAX) rc = gt_row_damaged(q, 6, "blocks", "a count of actions", err);
    if (!rc) rc = gt_row_blob(q, 7, b->state_digest, 32, "blocks", err);
    if (!rc) rc = gt_row_blob(q, 8, b->seed, 32, "blocks", err);
    if (!rc) rc = gt_row_blob(q, 9, b->seed_anchor, 32, "blocks", err);
    b->n_actions = (uint32_t)n_actions;
    return rc;
}

int gt_block_row_step(sqlite3_stmt *q, sqlite3 *db, int64_t height, gt_block *b, gt_err *err) {
    if (height >= 0) sqlite3_bind_int64(q, 1, height);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && gt_block_row_from(q, b, err)) return GT_EDB;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return gt_err_set(err, GT_EDB, "reading block %lld: %s", (long long)height, sqlite3_errmsg(db));
    if (rc != SQLITE_ROW) {
        if (height < 0) return gt_err_set(err, GT_EDB, "ledger has no genesis block");
        return gt_err_set(err, GT_ENOTFOUND, "no block at height %lld", (long long)height);
    }
    return 0;
}

/* Block `height` (-1: the head) into b: 0, GT_ENOTFOUND for a height not
 * stored, GT_EDB for a damaged row, an SQLite error or no genesis. */
int gt_block_row_read(sqlite3 *db, int64_t height /* -1: head */, gt_block *b, gt_err *err) {
    sqlite3_stmt *q;
    const char *sql = height < 0 ? "SELECT * FROM blocks ORDER BY height DESC LIMIT 1" : GT_BLOCK_ROW_AT_SQL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL)) return gt_err_set(err, GT_EDB, "blocks: %s", sqlite3_errmsg(db));
    int rc = gt_block_row_step(q, db, height, b, err);
    sqlite3_finalize(q);
    return rc;
}

int gt_ledger_find_action(sqlite3 *db, const uint8_t id[32], gt_action *a, uint64_t *height, uint32_t *index,
                          gt_err *err) {
    /* The index's runs first (or, in a format 6 store read as it is, its
     * index by id); then the recent actions it does not cover yet. */
    static const char *const sql[3] = {
        GT_ACTION_BY_ID_SQL,
        "SELECT a.height,a.idx,a.body FROM action_ids i JOIN actions a ON a.seq=i.seq WHERE i.id=?",
        "SELECT height,idx,body FROM actions WHERE seq > (SELECT value FROM meta WHERE key='ids_seq') AND id=?"};
    uint8_t salt[32];
    gt_block genesis;
    int grc = gt_block_row_read(db, 0, &genesis, err);
    if (grc) return grc == GT_ENOTFOUND ? gt_err_set(err, GT_EDB, "ledger has no genesis block") : grc;
    memcpy(salt, genesis.hash, 32);
    int format6 = 0;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1 && !format6) continue;
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, sql[pass], -1, &q, NULL)) {
            /* no table id_runs, no column run: a format 6 store */
            if (pass == 0 && strstr(sqlite3_errmsg(db), "no such")) { format6 = 1; continue; }
            return gt_err_set(err, GT_EDB, "actions: %s", sqlite3_errmsg(db));
        }
        sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
        int step = sqlite3_step(q), rc = 0;
        if (step == SQLITE_ROW) {
            if (height) *height = (uint64_t)sqlite3_column_int64(q, 0);
            if (index) *index = (uint32_t)sqlite3_column_int64(q, 1);
            if (gt_action_decode(sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2), salt, a, err)) {
                gt_err_wrap(err, "stored action is damaged");
                rc = GT_EDB;
            }
        } else if (step != SQLITE_DONE) {
            rc = gt_err_set(err, GT_EDB, "actions: %s", sqlite3_errmsg(db));
        }
        sqlite3_finalize(q);
        if (step == SQLITE_ROW || rc) return rc;
    }
    return gt_err_set(err, GT_ENOTFOUND, "no applied action with this id (refused actions are not kept)");
}
