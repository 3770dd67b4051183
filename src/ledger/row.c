/* row.c: strict column readers (see row.h). */
#include "ledger/row.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* What column col holds, in words, for the message. */
static void found(sqlite3_stmt *q, int col, char *out, size_t cap) {
    switch (sqlite3_column_type(q, col)) {
    case SQLITE_NULL: snprintf(out, cap, "NULL"); break;
    case SQLITE_INTEGER: snprintf(out, cap, "the integer %lld", (long long)sqlite3_column_int64(q, col)); break;
    case SQLITE_FLOAT: snprintf(out, cap, "a real number"); break;
    case SQLITE_TEXT: snprintf(out, cap, "%d bytes of text", sqlite3_column_bytes(q, col)); break;
    default: snprintf(out, cap, "a blob of %d bytes", sqlite3_column_bytes(q, col)); break;
    }
}

int gt_row_damaged(sqlite3_stmt *q, int col, const char *table, const char *expected, gt_err *err) {
    assert(q && col >= 0 && col < sqlite3_column_count(q));
    const char *name = sqlite3_column_name(q, col);
    char what[64];
    found(q, col, what, sizeof what);
    return gt_err_set(err, GT_EDB, "damaged row in table %s, column %s: expected %s, found %s", table,
                      name ? name : "?", expected, what);
}

/* The blob and integer readers take the column's value once and ask it its
 * type and contents: every sqlite3_column_* call takes the connection's
 * mutex, and two or three of them a column were a tenth of loading a market
 * row (callgrind). Such a value is "unprotected" (its calls take no mutex):
 * sound because one thread uses a connection at a time (the writer's and
 * its readers' under the ledger's state_mu, the node's pooled readers one
 * thread each) and because reading an integer or a stored blob allocates
 * nothing. Text keeps the column calls: making it NUL-terminated may
 * allocate from the connection. */

int gt_row_blob(sqlite3_stmt *q, int col, void *out, int n, const char *table, gt_err *err) {
    assert(n > 0);
    sqlite3_value *v = sqlite3_column_value(q, col);
    if (sqlite3_value_type(v) != SQLITE_BLOB || sqlite3_value_bytes(v) != n) {
        char expected[32];
        snprintf(expected, sizeof expected, "a %d-byte blob", n);
        return gt_row_damaged(q, col, table, expected, err);
    }
    memcpy(out, sqlite3_value_blob(v), (size_t)n);
    return 0;
}

int gt_row_u64(sqlite3_stmt *q, int col, uint64_t *out, const char *table, gt_err *err) {
    sqlite3_value *v = sqlite3_column_value(q, col);
    if (sqlite3_value_type(v) != SQLITE_INTEGER) return gt_row_damaged(q, col, table, "an integer", err);
    *out = (uint64_t)sqlite3_value_int64(v);
    return 0;
}

int gt_row_amount(sqlite3_stmt *q, int col, uint64_t *out, const char *table, gt_err *err) {
    sqlite3_value *v = sqlite3_column_value(q, col);
    if (sqlite3_value_type(v) != SQLITE_INTEGER || sqlite3_value_int64(v) < 0)
        return gt_row_damaged(q, col, table, "a non-negative integer", err);
    *out = (uint64_t)sqlite3_value_int64(v);
    return 0;
}

int gt_row_int(sqlite3_stmt *q, int col, int *out, const char *table, gt_err *err) {
    sqlite3_value *v = sqlite3_column_value(q, col);
    sqlite3_int64 i = sqlite3_value_int64(v);
    if (sqlite3_value_type(v) != SQLITE_INTEGER || i < INT_MIN || i > INT_MAX)
        return gt_row_damaged(q, col, table, "a small integer", err);
    *out = (int)i;
    return 0;
}

int gt_row_text(sqlite3_stmt *q, int col, char *out, size_t cap, const char *table, gt_err *err) {
    assert(cap > 0);
    int type = sqlite3_column_type(q, col); /* before sqlite3_column_text, which may convert */
    const unsigned char *s = type == SQLITE_TEXT ? sqlite3_column_text(q, col) : NULL;
    int n = sqlite3_column_bytes(q, col);
    if (!s || (size_t)n >= cap || memchr(s, 0, (size_t)n)) {
        char expected[48];
        snprintf(expected, sizeof expected, "text of under %zu bytes", cap);
        return gt_row_damaged(q, col, table, expected, err);
    }
    memcpy(out, s, (size_t)n);
    out[n] = 0;
    return 0;
}
