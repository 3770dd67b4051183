/* block_rows.h: the rows of the log tables (blocks, actions) — see block_rows.c. */
#ifndef GT_LEDGER_BLOCK_ROWS_H
#define GT_LEDGER_BLOCK_ROWS_H

#include <sqlite3.h>

#include "base/err.h"
#include "ledger/block.h"

/* Writes block b's row; *cached holds the prepared statement between calls
 * (the caller finalizes it). 0 or GT_EDB. */
int gt_block_row_put(sqlite3 *db, sqlite3_stmt **cached, const gt_block *b, gt_err *err);

/* Reads the block row q points at (its columns in table order) into b: 0, or
 * GT_EDB naming the damaged column. */
int gt_block_row_from(sqlite3_stmt *q, gt_block *b, gt_err *err);

/* Reads block `height` (-1: the head) into b: 0, GT_ENOTFOUND, or GT_EDB. */
int gt_block_row_read(sqlite3 *db, int64_t height, gt_block *b, gt_err *err);

/* The SQL of one block by height, and gt_block_row_read on a statement of
 * it the caller prepared and keeps (it binds height and steps once; the
 * caller resets it after: the row is copied into b). */
#define GT_BLOCK_ROW_AT_SQL "SELECT * FROM blocks WHERE height=?"
int gt_block_row_step(sqlite3_stmt *q, sqlite3 *db, int64_t height, gt_block *b, gt_err *err);

/* gt_ledger_find_action's search of the id index: one seek in each run
 * (writer.c's index_ids), never a scan of the index. */
#define GT_ACTION_BY_ID_SQL                                                                            \
    "SELECT a.height,a.idx,a.body FROM action_ids i JOIN actions a ON a.seq=i.seq"                     \
    " WHERE i.run IN (SELECT run FROM id_runs) AND i.id=?"

#endif
