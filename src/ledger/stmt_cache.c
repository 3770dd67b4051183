/* stmt_cache.c: the modules' prepared statements, kept by SQL text (see
 * stmt_cache.h). */
#include "ledger/stmt_cache.h"

#include <assert.h>
#include <string.h>

#include "base/alloc.h"

/* The key of an SQL text: a multiply-and-fold hash taking 8 bytes a step.
 * Every rule's statement is looked up here on every use, and FNV-1a's byte
 * at a time over texts of several hundred bytes was most of the cost of a
 * hit. A collision costs only speed (keep() keeps the first text). */
static uint64_t sql_hash(const char *sql, size_t n) {
    const uint64_t mul = 0xff51afd7ed558ccdull;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, sql + i, 8);
        h = (h ^ w) * mul;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, sql + i, n - i);
    h = (h ^ w) * mul;
    return h ^ (h >> 29);
}

void gt_stmt_cache_init(gt_stmt_cache *c) {
    c->n = 0;
    gt_map_init(&c->by_sql, sizeof(uint64_t), sizeof(int));
    gt_map_init(&c->by_key, sizeof(uint64_t), sizeof(int));
    gt_map_init(&c->by_stmt, sizeof(sqlite3_stmt *), sizeof(int));
}

/* Keeps q (prepared from sql, in use) in slot c->n under key h of map by
 * (by_sql or by_key), when there is room and memory; otherwise it stays
 * uncached. Two texts with the same key keep the first: the second is
 * prepared each time (a 64-bit collision in SQL text that is part of the
 * code, or a caller's key that named two texts). */
static void keep(gt_stmt_cache *c, gt_map *by, uint64_t h, const char *sql, sqlite3_stmt *q) {
    assert(by == &c->by_sql || by == &c->by_key);
    if (c->n >= GT_STMT_CACHE_MAX || gt_map_get(by, &h)) return;
    gt_stmt_slot *e = &c->slots[c->n];
    void *i_sql, *i_stmt;
    e->sql = gt_strdup(sql);
    if (!e->sql) return; /* out of memory: the statement is simply not kept */
    if (gt_map_put(&c->by_stmt, &q, &i_stmt, NULL)) { gt_free(e->sql); e->sql = NULL; return; }
    if (gt_map_put(by, &h, &i_sql, NULL)) {
        *(int *)i_stmt = -1; /* maps never drop one key: mark it not cached */
        gt_free(e->sql);
        e->sql = NULL;
        return;
    }
    *(int *)i_sql = *(int *)i_stmt = c->n;
    e->q = q;
    e->busy = 1;
    e->checked = 0;
    c->n++;
}

/* The statement kept under key h of map by for sql, when it is free and
 * was prepared from that very text (marked in use), or a newly prepared one
 * (kept when there is room). */
static int get_in(gt_stmt_cache *c, gt_map *by, uint64_t h, sqlite3 *db, const char *sql, sqlite3_stmt **out,
                  gt_err *err) {
    *out = NULL;
    const int *i = gt_map_get(by, &h);
    if (i) {
        gt_stmt_slot *e = &c->slots[*i];
        assert(*i >= 0 && *i < c->n);
        if (!e->busy && !strcmp(e->sql, sql)) {
            e->busy = 1;
            *out = e->q;
            return 0;
        }
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "store: %s", sqlite3_errmsg(db));
    keep(c, by, h, sql, q);
    *out = q;
    return 0;
}

int gt_stmt_cache_get(gt_stmt_cache *c, sqlite3 *db, const char *sql, sqlite3_stmt **out, gt_err *err) {
    assert(c->n >= 0 && c->n <= GT_STMT_CACHE_MAX);
    assert(c->by_sql.key_len == sizeof(uint64_t)); /* gt_stmt_cache_init ran */
    return get_in(c, &c->by_sql, sql_hash(sql, strlen(sql)), db, sql, out, err);
}

int gt_stmt_cache_find_key(gt_stmt_cache *c, uint64_t key, sqlite3_stmt **out) {
    assert(c->by_key.key_len == sizeof(uint64_t)); /* gt_stmt_cache_init ran */
    *out = NULL;
    const int *i = gt_map_get(&c->by_key, &key);
    if (!i || *i < 0) return 0;
    gt_stmt_slot *e = &c->slots[*i];
    assert(*i < c->n);
    if (e->busy) return 0;
    e->busy = 1;
    *out = e->q;
    return 1;
}

int gt_stmt_cache_get_key(gt_stmt_cache *c, sqlite3 *db, uint64_t key, const char *sql, sqlite3_stmt **out,
                          gt_err *err) {
    assert(c->by_key.key_len == sizeof(uint64_t)); /* gt_stmt_cache_init ran */
    return get_in(c, &c->by_key, key, db, sql, out, err);
}

void gt_stmt_cache_done(gt_stmt_cache *c, sqlite3_stmt *q) {
    if (!q) return;
    const int *i = c ? gt_map_get(&c->by_stmt, &q) : NULL;
    if (i && *i >= 0) {
        gt_stmt_slot *e = &c->slots[*i];
        assert(*i < c->n && e->q == q && e->busy);
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        e->busy = 0;
        return;
    }
    sqlite3_finalize(q); /* one that did not fit in the cache */
}

/* The slot of cached statement q, or NULL when q is not cached. */
static gt_stmt_slot *slot_of(const gt_stmt_cache *c, sqlite3_stmt *q) {
    const int *i = c && q ? gt_map_get(&c->by_stmt, &q) : NULL;
    if (!i || *i < 0) return NULL;
    assert(*i < c->n && c->slots[*i].q == q);
    return (gt_stmt_slot *)&c->slots[*i];
}

int gt_stmt_cache_checked(const gt_stmt_cache *c, sqlite3_stmt *q) {
    const gt_stmt_slot *e = slot_of(c, q);
    return e && e->checked && e->checked_prepare == sqlite3_stmt_status(q, SQLITE_STMTSTATUS_REPREPARE, 0);
}

void gt_stmt_cache_set_checked(gt_stmt_cache *c, sqlite3_stmt *q) {
    gt_stmt_slot *e = slot_of(c, q);
    if (!e) return;
    e->checked = 1;
    e->checked_prepare = sqlite3_stmt_status(q, SQLITE_STMTSTATUS_REPREPARE, 0);
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
    gt_map_free(&c->by_sql);
    gt_map_free(&c->by_key);
    gt_map_free(&c->by_stmt);
}
