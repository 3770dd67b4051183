/* digest_tables.c: the modules' tables in the state digest (see digest.h).
 *
 * A row hashes as H("M" ‖ table name ‖ 0 ‖ for each column in table order:
 * a type byte then the value -- 'i' and the integer (be64), 'b' or 't' and
 * the length (be32) and the bytes, 'n' for NULL, 'f' and the IEEE bits).
 * The same bytes come from a trigger's NEW/OLD values, from a scan of the
 * stored rows, and from a module's own C values (gt_digest_row_*, for the
 * tables it folds itself: gt_ledger_module.digest_self_folded), so the live
 * sum and the scan agree whatever the order the rows were written in. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/map.h"
#include "crypto/keccak.h"
#include "ledger/block.h"
#include "ledger/digest.h"

/* Longest table or column name the digest handles (the schema's are short). */
#define GT_DIGEST_NAME_MAX 64
/* The trigger SQL of one table: its columns twice (OLD and NEW). */
#define GT_DIGEST_TRIGGER_SQL_MAX 8192

int gt_digest_is_module_table(const char *name) {
    static const char *const core[] = {"blocks",   "actions", "action_ids", "id_runs",
                                       "accounts", "locks",   "unbonding",  "meta"};
    if (!strncmp(name, "sqlite_", 7)) return 0;
    for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
        if (!strcmp(name, core[i])) return 0;
    return 1;
}

static void put_be(uint8_t *p, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; }
}

/* The memo of module row hashes, the same idea as state.c's for accounts:
 * an update or a REPLACE takes out a row that an earlier statement put in,
 * so the H of every short row a trigger folds is kept under a hash of its
 * canonical bytes and taken from here when the very same bytes come again
 * (compared in full: the memo can be dropped at any time and the sum is the
 * same). Rows longer than GT_DIGEST_MEMO_ROW_BYTES are hashed each time.
 * At GT_DIGEST_MEMO_MAX entries (about 0.8 KiB each) it starts over. */
#define GT_DIGEST_MEMO_ROW_BYTES 512
#define GT_DIGEST_MEMO_MAX 2048
typedef struct row_memo {
    uint32_t len;
    uint8_t row[GT_DIGEST_MEMO_ROW_BYTES];
    uint64_t h[GT_DIGEST_WORDS];
} row_memo;

/* What the triggers' function holds: the sum and the memo (freed with the
 * function, when its connection closes). */
typedef struct track_ctx {
    gt_digest_acc *acc;
    gt_map memo; /* 8-byte hash of a row's bytes -> row_memo */
} track_ctx;

/* Appends n bytes to a row's canonical bytes in buf (cap bytes); past the
 * end *len still grows, so the caller sees that the row did not fit. */
static void put_bytes(uint8_t *buf, size_t cap, size_t *len, const void *p, size_t n) {
    if (*len + n <= cap) memcpy(buf + *len, p, n);
    *len += n;
}

/* Appends one column value's canonical bytes: a type byte and the value
 * ('i' be64, 'f' the IEEE bits be64, 'n', or 'b'/'t' be32 length + bytes). */
static void put_value(uint8_t *buf, size_t cap, size_t *len, sqlite3_value *v) {
    uint8_t hdr[9];
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        hdr[0] = 'i';
        put_be(hdr + 1, (uint64_t)sqlite3_value_int64(v), 8);
        put_bytes(buf, cap, len, hdr, 9);
        return;
    case SQLITE_FLOAT: {
        double d = sqlite3_value_double(v);
        uint64_t bits;
        memcpy(&bits, &d, 8);
        hdr[0] = 'f';
        put_be(hdr + 1, bits, 8);
        put_bytes(buf, cap, len, hdr, 9);
        return;
    }
    case SQLITE_NULL:
        hdr[0] = 'n';
        put_bytes(buf, cap, len, hdr, 1);
        return;
    default: {
        int is_text = sqlite3_value_type(v) == SQLITE_TEXT;
        const void *p = is_text ? (const void *)sqlite3_value_text(v) : sqlite3_value_blob(v);
        int n = sqlite3_value_bytes(v);
        hdr[0] = is_text ? 't' : 'b';
        put_be(hdr + 1, (uint64_t)n, 4);
        put_bytes(buf, cap, len, hdr, 5);
        if (n > 0) put_bytes(buf, cap, len, p, (size_t)n);
    }
    }
}

/* Writes the canonical bytes of a row ("M", table, 0, each value) into buf
 * (cap bytes) and returns their length, which is more than cap when they
 * did not fit (buf then holds only a prefix). */
static size_t row_bytes(uint8_t *buf, size_t cap, const char *table, int n, sqlite3_value **v) {
    size_t len = 0;
    put_bytes(buf, cap, &len, "M", 1);
    put_bytes(buf, cap, &len, table, strlen(table) + 1);
    for (int i = 0; i < n; i++) put_value(buf, cap, &len, v[i]);
    return len;
}

/* Absorbs one column value (rows too long for row_bytes' buffer). */
static void absorb_value(gt_keccak *k, sqlite3_value *v) {
    uint8_t hdr[5];
    size_t len = 0;
    int type = sqlite3_value_type(v);
    if (type == SQLITE_TEXT || type == SQLITE_BLOB) { /* the header, then the bytes straight from SQLite */
        int n = sqlite3_value_bytes(v);
        const void *p = type == SQLITE_TEXT ? (const void *)sqlite3_value_text(v) : sqlite3_value_blob(v);
        hdr[0] = type == SQLITE_TEXT ? 't' : 'b';
        put_be(hdr + 1, (uint64_t)n, 4);
        gt_keccak_update(k, hdr, 5);
        if (n > 0) gt_keccak_update(k, p, (size_t)n);
        return;
    }
    uint8_t small[9];
    put_value(small, sizeof small, &len, v);
    assert(len <= sizeof small);
    gt_keccak_update(k, small, len);
}

/* A 64-bit hash of a row's bytes: the memo's key (8 bytes a step). */
static uint64_t memo_key(const uint8_t *p, size_t n) {
    const uint64_t mul = 0xff51afd7ed558ccdull;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * mul;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p + i, n - i);
    h = (h ^ w) * mul;
    return h ^ (h >> 29);
}

/* Folds one row (n column values of `table`) into acc with sign, through
 * the memo when there is one (memo NULL: a scan, every row once). */
static void fold_row(gt_digest_acc *acc, gt_map *memo, const char *table, int n, sqlite3_value **v, int sign) {
    uint8_t buf[GT_DIGEST_MEMO_ROW_BYTES];
    size_t len = row_bytes(buf, sizeof buf, table, n, v);
    gt_keccak k;
    gt_keccak_init(&k);
    if (len > sizeof buf) { /* too long to keep: absorb it value by value */
        gt_keccak_update(&k, "M", 1);
        gt_keccak_update(&k, table, strlen(table) + 1);
        for (int i = 0; i < n; i++) absorb_value(&k, v[i]);
        gt_digest_fold_sponge(acc, &k, sign);
        return;
    }
    uint64_t key = memo ? memo_key(buf, len) : 0;
    row_memo *m = memo ? gt_map_get(memo, &key) : NULL;
    if (m && m->len == len && !memcmp(m->row, buf, len)) {
        gt_digest_add_h(acc, m->h, sign);
        return;
    }
    uint64_t h[GT_DIGEST_WORDS];
    gt_keccak_update(&k, buf, len);
    gt_keccak_xof_words(&k, h, GT_DIGEST_WORDS);
    gt_digest_add_h(acc, h, sign);
    if (!memo) return;
    if (!m) {
        if (memo->n >= GT_DIGEST_MEMO_MAX) gt_map_clear(memo);
        void *e;
        if (gt_map_put(memo, &key, &e, NULL)) return; /* out of memory: no memo, same sum */
        m = e;
    }
    m->len = (uint32_t)len;
    memcpy(m->row, buf, len);
    memcpy(m->h, h, sizeof h);
}

void gt_digest_memo_init(gt_map *m) { gt_map_init(m, sizeof(uint64_t), sizeof(row_memo)); }

#define GT_DIGEST_FOLD_BATCH 8

void gt_digest_rows_fold(gt_state *s, const gt_digest_row *const *rows, const int *signs, int n) {
    gt_digest_acc *acc = gt_state_digest_acc(s);
    gt_map *memo = gt_state_module_memo(s);
    for (int at = 0; at < n; at += GT_DIGEST_FOLD_BATCH) {
        const gt_digest_row *miss[GT_DIGEST_FOLD_BATCH];
        int miss_sign[GT_DIGEST_FOLD_BATCH], n_miss = 0;
        for (int i = at; i < n && i < at + GT_DIGEST_FOLD_BATCH; i++) {
            const gt_digest_row *r = rows[i];
            assert(r->len <= sizeof r->b && (signs[i] == 1 || signs[i] == -1));
            uint64_t key = memo_key(r->b, r->len);
            const row_memo *m = r->len <= GT_DIGEST_MEMO_ROW_BYTES ? gt_map_get(memo, &key) : NULL;
            if (m && m->len == r->len && !memcmp(m->row, r->b, r->len)) {
                gt_digest_add_h(acc, m->h, signs[i]);
                continue;
            }
            miss[n_miss] = r;
            miss_sign[n_miss++] = signs[i];
        }
        uint64_t h[GT_DIGEST_FOLD_BATCH][GT_DIGEST_WORDS];
        gt_digest_rows_h(miss, n_miss, h);
        for (int i = 0; i < n_miss; i++) {
            gt_digest_add_h(acc, h[i], miss_sign[i]);
            const gt_digest_row *r = miss[i];
            if (r->len > GT_DIGEST_MEMO_ROW_BYTES) continue;
            uint64_t key = memo_key(r->b, r->len);
            row_memo *m = gt_map_get(memo, &key);
            if (!m) {
                if (memo->n >= GT_DIGEST_MEMO_MAX) gt_map_clear(memo);
                void *e;
                if (gt_map_put(memo, &key, &e, NULL)) continue; /* out of memory: no memo, same sum */
                m = e;
            }
            m->len = (uint32_t)r->len;
            memcpy(m->row, r->b, r->len);
            memcpy(m->h, h[i], sizeof m->h);
        }
    }
}

/* gt_row_digest(sign, table, col...): what the triggers call. */
static void row_digest_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    track_ctx *t = sqlite3_user_data(ctx);
    if (argc < 3 || sqlite3_value_type(argv[1]) != SQLITE_TEXT) {
        sqlite3_result_error(ctx, "gt_row_digest: needs a sign, a table and its columns", -1);
        return;
    }
    int sign = sqlite3_value_int(argv[0]) < 0 ? -1 : 1;
    fold_row(t->acc, &t->memo, (const char *)sqlite3_value_text(argv[1]), argc - 2, argv + 2, sign);
    sqlite3_result_null(ctx);
}

/* Frees a track_ctx (SQLite calls it when the function goes). */
static void track_ctx_free(void *p) {
    track_ctx *t = p;
    gt_map_free(&t->memo);
    gt_free(t);
}

/* The module tables of db, in name order, into names[] (up to cap). */
static int list_tables(sqlite3 *db, char (*names)[GT_DIGEST_NAME_MAX], int cap, int *n, gt_err *err) {
    sqlite3_stmt *q;
    *n = 0;
    if (sqlite3_prepare_v2(db, "SELECT name FROM main.sqlite_master WHERE type='table' ORDER BY name", -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "listing tables: %s", sqlite3_errmsg(db));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        if (!name || !gt_digest_is_module_table(name)) continue;
        if (*n == cap || strlen(name) >= GT_DIGEST_NAME_MAX) {
            sqlite3_finalize(q);
            return gt_err_set(err, GT_ELIMIT, "too many tables or too long a table name (%s)", name);
        }
        snprintf(names[(*n)++], GT_DIGEST_NAME_MAX, "%s", name);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "listing tables: %s", sqlite3_errmsg(db));
}

#define GT_DIGEST_MAX_TABLES 64

int gt_digest_scan_tables(sqlite3 *db, gt_digest_acc *acc, gt_err *err) {
    char (*names)[GT_DIGEST_NAME_MAX] = gt_malloc(GT_DIGEST_MAX_TABLES * GT_DIGEST_NAME_MAX);
    if (!names) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int n, rc = list_tables(db, names, GT_DIGEST_MAX_TABLES, &n, err);
    sqlite3_value *vals[GT_DIGEST_TRIGGER_SQL_MAX / 16];
    for (int t = 0; !rc && t < n; t++) {
        char sql[GT_DIGEST_NAME_MAX + 32];
        snprintf(sql, sizeof sql, "SELECT * FROM main.\"%s\"", names[t]);
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL)) {
            rc = gt_err_set(err, GT_EDB, "reading %s: %s", names[t], sqlite3_errmsg(db));
            break;
        }
        int cols = sqlite3_column_count(q), s;
        if (cols > (int)(sizeof vals / sizeof vals[0])) cols = (int)(sizeof vals / sizeof vals[0]);
        while ((s = sqlite3_step(q)) == SQLITE_ROW) {
            for (int c = 0; c < cols; c++) vals[c] = sqlite3_column_value(q, c);
            fold_row(acc, NULL, names[t], cols, vals, 1);
        }
        if (s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading %s: %s", names[t], sqlite3_errmsg(db));
        sqlite3_finalize(q);
    }
    gt_free(names);
    return rc;
}

/* Appends "," P "." col for every column of table to buf (at *len). */
static int column_list(sqlite3 *db, const char *table, const char *prefix, char *buf, size_t cap, size_t *len,
                       gt_err *err) {
    char sql[GT_DIGEST_NAME_MAX + 32];
    snprintf(sql, sizeof sql, "PRAGMA main.table_info(\"%s\")", table);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL)) return gt_err_set(err, GT_EDB, "%s: %s", table, sqlite3_errmsg(db));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int w = snprintf(buf + *len, cap - *len, ",%s.\"%s\"", prefix, (const char *)sqlite3_column_text(q, 1));
        if (w < 0 || (size_t)w >= cap - *len) {
            sqlite3_finalize(q);
            return gt_err_set(err, GT_ELIMIT, "table %s has too many columns for the digest's triggers", table);
        }
        *len += (size_t)w;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "%s: %s", table, sqlite3_errmsg(db));
}

/* The three TEMP triggers of one table. */
static int track_table(sqlite3 *db, const char *t, gt_err *err) {
    char *sql = gt_malloc(GT_DIGEST_TRIGGER_SQL_MAX);
    char olds[GT_DIGEST_TRIGGER_SQL_MAX / 2], news[GT_DIGEST_TRIGGER_SQL_MAX / 2];
    if (!sql) return gt_err_set(err, GT_ENOMEM, "out of memory");
    size_t no = 0, nn = 0;
    int rc = column_list(db, t, "OLD", olds, sizeof olds, &no, err);
    if (!rc) rc = column_list(db, t, "NEW", news, sizeof news, &nn, err);
    if (!rc) {
        int w = snprintf(sql, GT_DIGEST_TRIGGER_SQL_MAX,
                         "CREATE TEMP TRIGGER IF NOT EXISTS \"gt_dg_i_%s\" AFTER INSERT ON main.\"%s\" BEGIN "
                         "SELECT gt_row_digest(1,'%s'%s); END;"
                         "CREATE TEMP TRIGGER IF NOT EXISTS \"gt_dg_d_%s\" AFTER DELETE ON main.\"%s\" BEGIN "
                         "SELECT gt_row_digest(-1,'%s'%s); END;"
                         "CREATE TEMP TRIGGER IF NOT EXISTS \"gt_dg_u_%s\" AFTER UPDATE ON main.\"%s\" BEGIN "
                         "SELECT gt_row_digest(-1,'%s'%s), gt_row_digest(1,'%s'%s); END;",
                         t, t, t, news, t, t, t, olds, t, t, t, olds, t, news);
        if (w < 0 || w >= GT_DIGEST_TRIGGER_SQL_MAX)
            rc = gt_err_set(err, GT_ELIMIT, "table %s: its digest triggers are too long", t);
        else if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            rc = gt_err_set(err, GT_EDB, "digest triggers of %s: %s", t, sqlite3_errmsg(db));
    }
    gt_free(sql);
    return rc;
}

int gt_digest_is_self_folded(const char *table) {
    for (int i = 0; i < gt_ledger_n_modules(); i++) {
        const char *const *t = gt_ledger_module_at(i)->digest_self_folded;
        for (; t && *t; t++)
            if (!strcmp(*t, table)) return 1;
    }
    return 0;
}

void gt_digest_row_begin(gt_digest_row *r, const char *table) {
    r->len = 0;
    put_bytes(r->b, sizeof r->b, &r->len, "M", 1);
    put_bytes(r->b, sizeof r->b, &r->len, table, strlen(table) + 1);
    assert(r->len <= sizeof r->b);
}

void gt_digest_row_int(gt_digest_row *r, int64_t v) {
    uint8_t hdr[9];
    hdr[0] = 'i';
    put_be(hdr + 1, (uint64_t)v, 8);
    put_bytes(r->b, sizeof r->b, &r->len, hdr, 9);
    assert(r->len <= sizeof r->b);
}

/* A blob's or a text's header (type, be32 length) and bytes. */
static void row_bytes_value(gt_digest_row *r, uint8_t type, const void *p, size_t n) {
    uint8_t hdr[5];
    assert(n <= INT32_MAX);
    hdr[0] = type;
    put_be(hdr + 1, (uint64_t)n, 4);
    put_bytes(r->b, sizeof r->b, &r->len, hdr, 5);
    if (n > 0) put_bytes(r->b, sizeof r->b, &r->len, p, n);
    assert(r->len <= sizeof r->b);
}

void gt_digest_row_blob(gt_digest_row *r, const void *p, size_t n) { row_bytes_value(r, 'b', p, n); }
void gt_digest_row_text(gt_digest_row *r, const char *s, size_t n) { row_bytes_value(r, 't', s, n); }

void gt_digest_row_h(const gt_digest_row *r, uint64_t h[GT_DIGEST_WORDS]) {
    assert(r->len <= sizeof r->b);
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, r->b, r->len);
    gt_keccak_xof_words(&k, h, GT_DIGEST_WORDS);
}

/* H of m (2..4) rows of any lengths in one four-lane sponge: what
 * gt_digest_row_h computes for each (absorb, the legacy Keccak padding,
 * then GT_DIGEST_WORDS words squeezed). */
static void rows_h_x4(const gt_digest_row *const *r, int m, uint64_t (*h)[GT_DIGEST_WORDS]) {
    assert(m >= 2 && m <= 4);
    const uint8_t *msg[4];
    size_t len[4];
    uint64_t *out[4];
    for (int k = 0; k < m; k++) msg[k] = r[k]->b, len[k] = r[k]->len, out[k] = h[k];
    gt_keccak_xof_words_x4n(msg, len, m, out, GT_DIGEST_WORDS);
}

void gt_digest_rows_h(const gt_digest_row *const *rows, int n, uint64_t (*h)[GT_DIGEST_WORDS]) {
    int i = 0;
    while (n - i >= 2) {
        int m = n - i < 4 ? n - i : 4;
        rows_h_x4(rows + i, m, h + i);
        i += m;
    }
    if (i < n) gt_digest_row_h(rows[i], h[i]);
}

int gt_digest_track(sqlite3 *db, gt_digest_acc *acc, gt_err *err) {
    track_ctx *ctx = gt_calloc(1, sizeof *ctx);
    if (!ctx) return gt_err_set(err, GT_ENOMEM, "out of memory");
    ctx->acc = acc;
    gt_map_init(&ctx->memo, sizeof(uint64_t), sizeof(row_memo));
    /* REPLACE deletes the row it replaces; only with recursive triggers on
     * does that deletion fire the delete trigger (and leave the sum).
     * create_function_v2 frees ctx itself when it fails, as when the
     * function goes with its connection. */
    if (sqlite3_exec(db, "PRAGMA recursive_triggers=ON", NULL, NULL, NULL) != SQLITE_OK) {
        track_ctx_free(ctx);
        return gt_err_set(err, GT_EDB, "digest triggers: %s", sqlite3_errmsg(db));
    }
    if (sqlite3_create_function_v2(db, "gt_row_digest", -1, SQLITE_UTF8, ctx, row_digest_fn, NULL, NULL,
                                   track_ctx_free) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "digest triggers: %s", sqlite3_errmsg(db));
    char (*names)[GT_DIGEST_NAME_MAX] = gt_malloc(GT_DIGEST_MAX_TABLES * GT_DIGEST_NAME_MAX);
    if (!names) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int n, rc = list_tables(db, names, GT_DIGEST_MAX_TABLES, &n, err);
    for (int t = 0; !rc && t < n; t++)
        if (!gt_digest_is_self_folded(names[t])) rc = track_table(db, names[t], err);
    gt_free(names);
    return rc;
}
