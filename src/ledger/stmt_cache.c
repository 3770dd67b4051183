/* stmt_cache.c: the modules' prepared statements, kept by SQL text (see
 * stmt_cache.h). */
#include "ledger/stmt_cache.h"

#include <assert.h>
#include <string.h>

#include "base/alloc.h"

/* FNV-1a of a NUL-terminated string. */
static uint64_t str_hash(const char *p) {
    uint64_t h = 1469598103934665603ull;
    for (; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return h;
}

int gt_stmt_cache_get(gt_stmt_cache *c, sqlite3 *db, const char *sql, sqlite3_stmt **out, gt_err *err) {
    assert(c->n >= 0 && c->n <= GT_STMT_CACHE_MAX);
    *out = NULL;
    uint64_t h = str_hash(sql);
    for (int i = 0; i < c->n; i++) {
        gt_stmt_slot *e = &c->slots[i];
        if (e->hash == h && !e->busy && !strcmp(e->sql, sql)) {
            e->busy = 1;
            *out = e->q;
            return 0;
        }
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "store: %s", sqlite3_errmsg(db));
    if (c->n < GT_STMT_CACHE_MAX) {
        gt_stmt_slot *e = &c->slots[c->n];
        e->sql = gt_strdup(sql);
        if (e->sql) { /* out of memory: the statement is simply not kept */
            e->hash = h;
            e->q = q;
            e->busy = 1;
            c->n++;
        }
    }
    *out = q;
    return 0;
}

void gt_stmt_cache_done(gt_stmt_cache *c, sqlite3_stmt *q) {
    if (!q) return;
    for (int i = 0; c && i < c->n; i++) {
        if (c->slots[i].q == q) {
            assert(c->slots[i].busy);
            sqlite3_reset(q);
            sqlite3_clear_bindings(q);
            c->slots[i].busy = 0;
            return;
        }
    }
    sqlite3_finalize(q); /* one that did not fit in the cache */
}

void gt_stmt_cache_release_all(gt_stmt_cache *c) {
    for (int i = 0; i < c->n; i++)
        if (c->slots[i].busy) {
            sqlite3_reset(c->slots[i].q);
            sqlite3_clear_bindings(c->slots[i].q);
            c->slots[i].busy = 0;
        }
}

void gt_stmt_cache_clear(gt_stmt_cache *c) {
    for (int i = 0; i < c->n; i++) {
        sqlite3_finalize(c->slots[i].q);
        gt_free(c->slots[i].sql);
    }
    c->n = 0;
}
