/* row.h: reading one column of a stored row, strictly.
 *
 * The store's rows were written by this code, so a column of the wrong type
 * or size means the database was damaged (by hand, by a bug, by a disk): it
 * is a GT_EDB error naming the table and the column ("damaged row in table
 * locks, column owner: expected a 20-byte blob, found 3 bytes"), never a zero
 * and never a row silently skipped. Every reader of ledger and market tables
 * goes through these (the market's table descriptions in market/rows.c). */
#ifndef GT_LEDGER_ROW_H
#define GT_LEDGER_ROW_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"

/* Copies column col, which must be a blob of exactly n bytes, into out. */
int gt_row_blob(sqlite3_stmt *q, int col, void *out, int n, const char *table, gt_err *err);

/* Column col as an unsigned integer: it must be an INTEGER (any sign; the
 * bits are kept, as they were written from a uint64_t). */
int gt_row_u64(sqlite3_stmt *q, int col, uint64_t *out, const char *table, gt_err *err);

/* Column col as an amount or height of the ledger: an INTEGER in
 * [0, INT64_MAX] (the supply bounds every amount). */
int gt_row_amount(sqlite3_stmt *q, int col, uint64_t *out, const char *table, gt_err *err);

/* Column col as an int: an INTEGER within int's range. */
int gt_row_int(sqlite3_stmt *q, int col, int *out, const char *table, gt_err *err);

/* Copies column col, which must be TEXT shorter than cap bytes, into out
 * (NUL-terminated). */
int gt_row_text(sqlite3_stmt *q, int col, char *out, size_t cap, const char *table, gt_err *err);

/* The error for a damaged column: GT_EDB with the table, the column's name
 * and what was expected. */
int gt_row_damaged(sqlite3_stmt *q, int col, const char *table, const char *expected, gt_err *err);

#endif
