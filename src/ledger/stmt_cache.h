/* stmt_cache.h: prepared statements of the modules, kept by their SQL text.
 *
 * A module's rule prepares its SQL through gt_tx_stmt on every action; the
 * cache hands back the statement prepared the first time (reset and unbound
 * when the rule is done with it), so the hot path of the writer prepares
 * nothing. A statement in use is never handed out twice: a rule that needs
 * the same SQL twice at once gets a second, uncached statement, as does the
 * 257th distinct text. The cache belongs to one SQLite connection. */
#ifndef GT_LEDGER_STMT_CACHE_H
#define GT_LEDGER_STMT_CACHE_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"
#include "base/map.h"

#define GT_STMT_CACHE_MAX 256 /* distinct statements; more are prepared uncached */

typedef struct gt_stmt_slot {
    char *sql; /* owned copy: the key */
    sqlite3_stmt *q;
    int busy;
    int checked;         /* its user checked its result columns (gt_stmt_cache_set_checked) */
    int checked_prepare; /* SQLite's re-prepare count of q when it was checked */
} gt_stmt_slot;

typedef struct gt_stmt_cache {
    gt_stmt_slot slots[GT_STMT_CACHE_MAX];
    int n;
    gt_map by_sql;  /* sql_hash (stmt_cache.c) of the SQL text (8 bytes) -> int index into slots */
    gt_map by_key;  /* a caller's key (gt_stmt_cache_get_key, 8 bytes) -> int index into slots */
    gt_map by_stmt; /* the statement's pointer -> int index into slots */
} gt_stmt_cache;

/* An empty cache (allocates nothing). */
void gt_stmt_cache_init(gt_stmt_cache *c);

/* The statement for sql on db, from the cache when one is free, else newly
 * prepared (and kept when there is room). Hand it back with
 * gt_stmt_cache_done. 0, or GT_EDB with SQLite's message. */
int gt_stmt_cache_get(gt_stmt_cache *c, sqlite3 *db, const char *sql, sqlite3_stmt **out, gt_err *err);

/* Statements kept under a caller's 64-bit key instead of their text, for
 * SQL a caller builds at run time (the market's compare-and-swap UPDATE of a
 * table's changed columns: key = table and column mask), where building the
 * text and hashing it at every use cost about as much as running it. A key
 * names one text for the life of the cache: the caller's promise, as the
 * fast path never sees the text. Keys and texts are apart: a text kept by
 * key is not found by gt_stmt_cache_get. find_key: 1 with *out when the
 * statement kept under key is free (in use from now on), else 0 and *out
 * NULL; then the caller builds the text and calls get_key, which works as
 * gt_stmt_cache_get but keeps the statement under key. Both hand back
 * through gt_stmt_cache_done. */
int gt_stmt_cache_find_key(gt_stmt_cache *c, uint64_t key, sqlite3_stmt **out);
int gt_stmt_cache_get_key(gt_stmt_cache *c, sqlite3 *db, uint64_t key, const char *sql, sqlite3_stmt **out,
                          gt_err *err);

/* Gives q back: a cached one is reset and unbound for the next use, an
 * uncached one finalized. Accepts NULL. */
void gt_stmt_cache_done(gt_stmt_cache *c, sqlite3_stmt *q);

/* A statement's result columns are fixed from its preparation until SQLite
 * prepares it again (after a schema change): a user that checks them (the
 * market's row reader compares every column's name with its description)
 * needs to do it once per preparation, not at every row. checked: 1 when q
 * is a cached statement marked with set_checked and not re-prepared since;
 * 0 otherwise (an uncached statement never is). set_checked marks q (no-op
 * for an uncached one). */
int gt_stmt_cache_checked(const gt_stmt_cache *c, sqlite3_stmt *q);
void gt_stmt_cache_set_checked(gt_stmt_cache *c, sqlite3_stmt *q);

/* Gives back every statement still in use (a rule that failed half way did
 * not hand its statements back): reset, unbound, free for the next use. */
void gt_stmt_cache_release_all(gt_stmt_cache *c);

/* Finalizes every cached statement (the connection is going away). */
void gt_stmt_cache_clear(gt_stmt_cache *c);

#endif
