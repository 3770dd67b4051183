/* rows.c: the market tables' rows as structs: load, store, and the canonical
 * bytes of each stored row fed (through mk_ctx) into the block's state
 * commitment, so replay verification covers the market's tables exactly as it
 * covers balances. Record = one tag byte, then every column in table order:
 * integers as 8 bytes big-endian, blobs as they are, text length-prefixed.
 *
 * Each table read and written as a whole row has one description (its
 * columns in table order: name, kind, where in the struct); one reader, one
 * writer and one record builder serve them all. A column of the wrong type or
 * size is a GT_EDB error naming the table and the column (ledger/row.h),
 * never a zero. */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ledger/digest.h"
#include "ledger/row.h"
#include "market/market_impl.h"

typedef enum { COL_U64, COL_INT, COL_BLOB, COL_TEXT } col_kind;

typedef struct col_def {
    const char *name; /* as in the schema (market.c) */
    col_kind kind;
    size_t off, size; /* the field in the row struct */
} col_def;

typedef struct table_def {
    const char *name;
    uint8_t tag;             /* MK_REC_* */
    const char *select_sql;  /* SELECT * ... WHERE <key>: columns in table order */
    const char *insert_sql;  /* INSERT INTO ... VALUES(one ? per column) */
    const char *replace_sql; /* the same, OR REPLACE */
    const col_def *cols;
    int n_cols;
    int n_key; /* the primary key: the first n_key columns */
    int memo;  /* its row in the memo of loaded rows (below) */
} table_def;

#define FIELD_SIZE(T, f) sizeof(((T *)0)->f)
#define COL(T, f, kind) {#f, kind, offsetof(T, f), FIELD_SIZE(T, f)}
#define N_COLS(a) ((int)(sizeof(a) / sizeof(a)[0]))
/* The kind fixes the field's C type: a column described with the wrong one
 * fails the build. */
#define IS_U64(T, f) _Static_assert(FIELD_SIZE(T, f) == 8, #T "." #f " is read as a u64")
#define IS_INT(T, f) _Static_assert(FIELD_SIZE(T, f) == sizeof(int), #T "." #f " is read as an int")

static const col_def task_cols[] = {
    COL(mk_task, id, COL_BLOB),           COL(mk_task, poster, COL_BLOB),        COL(mk_task, kind, COL_TEXT),
    COL(mk_task, spec, COL_BLOB),         COL(mk_task, parent, COL_BLOB),        COL(mk_task, slots, COL_U64),
    COL(mk_task, bounty, COL_U64),        COL(mk_task, stake, COL_U64),          COL(mk_task, verifier, COL_BLOB),
    COL(mk_task, fee, COL_U64),           COL(mk_task, quorum, COL_U64),         COL(mk_task, policy, COL_INT),
    COL(mk_task, submit_s, COL_U64),      COL(mk_task, verify_s, COL_U64),       COL(mk_task, posted_height, COL_U64),
    COL(mk_task, expiry_height, COL_U64), COL(mk_task, status, COL_INT),         COL(mk_task, claims, COL_U64),
    COL(mk_task, seats_per_worker, COL_U64), COL(mk_task, expiry_s, COL_U64),    COL(mk_task, batch_items, COL_U64),
    COL(mk_task, last_batch_items, COL_U64),
};
IS_U64(mk_task, slots); IS_U64(mk_task, bounty); IS_U64(mk_task, stake); IS_U64(mk_task, fee);
IS_U64(mk_task, quorum); IS_INT(mk_task, policy); IS_U64(mk_task, submit_s); IS_U64(mk_task, verify_s);
IS_U64(mk_task, posted_height); IS_U64(mk_task, expiry_height); IS_INT(mk_task, status); IS_U64(mk_task, claims);
IS_U64(mk_task, seats_per_worker); IS_U64(mk_task, expiry_s); IS_U64(mk_task, batch_items);
IS_U64(mk_task, last_batch_items);
_Static_assert(sizeof(gt_addr) == 20, "addresses are stored as 20-byte blobs");

static const table_def task_table = {
    "mk_tasks", MK_REC_TASK, "SELECT * FROM mk_tasks WHERE id=?",
    "INSERT INTO mk_tasks VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT OR REPLACE INTO mk_tasks VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", task_cols,
    N_COLS(task_cols), 1, 0,
};

static const col_def slot_cols[] = {
    COL(mk_slot, task, COL_BLOB),      COL(mk_slot, slot, COL_U64),           COL(mk_slot, state, COL_INT),
    COL(mk_slot, attempt, COL_U64),    COL(mk_slot, worker, COL_BLOB),        COL(mk_slot, claimed_height, COL_U64),
    COL(mk_slot, deadline, COL_U64),   COL(mk_slot, result, COL_BLOB),        COL(mk_slot, accept, COL_INT),
    COL(mk_slot, score, COL_U64),      COL(mk_slot, reason, COL_BLOB),        COL(mk_slot, verdict_by, COL_BLOB),
    COL(mk_slot, rbond, COL_U64),      COL(mk_slot, deadline_s, COL_U64),
};
IS_U64(mk_slot, slot); IS_INT(mk_slot, state); IS_U64(mk_slot, attempt); IS_U64(mk_slot, claimed_height);
IS_U64(mk_slot, deadline); IS_INT(mk_slot, accept); IS_U64(mk_slot, score); IS_U64(mk_slot, rbond);
IS_U64(mk_slot, deadline_s);

static const table_def slot_table = {
    "mk_slots", MK_REC_SLOT, "SELECT * FROM mk_slots WHERE task=? AND slot=?",
    "INSERT INTO mk_slots VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT OR REPLACE INTO mk_slots VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", slot_cols, N_COLS(slot_cols), 2, 1,
};

static const col_def dispute_cols[] = {
    COL(mk_dispute, task, COL_BLOB),          COL(mk_dispute, slot, COL_U64),
    COL(mk_dispute, attempt, COL_U64),        COL(mk_dispute, worker, COL_BLOB),
    COL(mk_dispute, bond, COL_U64),           COL(mk_dispute, opened_height, COL_U64),
    COL(mk_dispute, deadline, COL_U64),       COL(mk_dispute, outcome, COL_INT),
    COL(mk_dispute, accept_weight, COL_U64),  COL(mk_dispute, reject_weight, COL_U64),
    COL(mk_dispute, voters, COL_U64),
};
IS_U64(mk_dispute, slot); IS_U64(mk_dispute, attempt); IS_U64(mk_dispute, bond); IS_U64(mk_dispute, opened_height);
IS_U64(mk_dispute, deadline); IS_INT(mk_dispute, outcome); IS_U64(mk_dispute, accept_weight);
IS_U64(mk_dispute, reject_weight); IS_U64(mk_dispute, voters);

static const table_def dispute_table = {
    "mk_disputes", MK_REC_DISPUTE, "SELECT * FROM mk_disputes WHERE task=? AND slot=? AND attempt=?",
    "INSERT INTO mk_disputes VALUES(?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT OR REPLACE INTO mk_disputes VALUES(?,?,?,?,?,?,?,?,?,?,?)", dispute_cols, N_COLS(dispute_cols),
    3, 2,
};

/* Steps an INSERT/UPDATE statement and finalizes it. */
static int step_done(gt_tx *tx, sqlite3_stmt *q, const char *what, gt_err *err) {
    int rc = sqlite3_step(q);
    /* the message first: handing the statement back resets its error */
    if (rc == SQLITE_CONSTRAINT) rc = gt_err_set(err, GT_EEXIST, "%s already exists", what);
    else if (rc != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "writing %s: %s", what, sqlite3_errmsg(tx->db));
    else rc = 0;
    gt_tx_stmt_done(tx, q);
    return rc;
}

/* The table's columns are the ones described, in order (a schema this build
 * does not know is a damaged database, not a row of zeros). */
static int check_shape(const table_def *t, sqlite3_stmt *q, gt_err *err) {
    if (sqlite3_column_count(q) != t->n_cols)
        return gt_err_set(err, GT_EDB, "damaged table %s: %d columns, expected %d", t->name,
                          sqlite3_column_count(q), t->n_cols);
    for (int i = 0; i < t->n_cols; i++) {
        const char *name = sqlite3_column_name(q, i);
        if (!name || strcmp(name, t->cols[i].name))
            return gt_err_set(err, GT_EDB, "damaged table %s: column %d is %s, expected %s", t->name, i + 1,
                              name ? name : "?", t->cols[i].name);
    }
    return 0;
}

/* Reads the current row of q (SELECT * of table t) into the struct at row.
 * The shape is checked once per prepared statement (the columns cannot
 * change until SQLite prepares it again, which lapses the mark), each
 * value's type and size at every row. */
static int row_read(gt_tx *tx, const table_def *t, sqlite3_stmt *q, void *row, gt_err *err) {
    int rc = 0;
    if (!gt_tx_stmt_checked(tx, q) && !(rc = check_shape(t, q, err))) gt_tx_stmt_set_checked(tx, q);
    for (int i = 0; !rc && i < t->n_cols; i++) {
        const col_def *c = &t->cols[i];
        uint8_t *f = (uint8_t *)row + c->off;
        switch (c->kind) {
        case COL_U64: rc = gt_row_u64(q, i, (uint64_t *)(void *)f, t->name, err); break;
        case COL_INT: rc = gt_row_int(q, i, (int *)(void *)f, t->name, err); break;
        case COL_BLOB: rc = gt_row_blob(q, i, f, (int)c->size, t->name, err); break;
        case COL_TEXT: rc = gt_row_text(q, i, (char *)f, c->size, t->name, err); break;
        }
    }
    return rc;
}

/* ---- The rows this thread loaded last, to write only what changed ----
 * INSERT OR REPLACE deletes the stored row and inserts the new one: every
 * index of the table is written again, changed or not. An UPDATE of the
 * columns that changed touches only the indexes over them (a slot's submit
 * changes none of its two; a task's claim none of its three). To know what
 * changed, the last rows each thread loaded are kept here, and an update is
 * a compare-and-swap: its WHERE clause names every column's remembered value,
 * so it writes only when the stored row is exactly the remembered one. When
 * it writes nothing (the memo was stale: the action that loaded the row was
 * refused, or the row is not there) the row is written whole as before. The
 * memo is thus never trusted, only used. Either way the state commitment
 * gets the same bytes (row_record: the whole new row) and so does the state
 * digest (row_store folds the stored row out and the new one in: the
 * remembered row when the UPDATE wrote, which proves it was the stored one;
 * the row read back first when it is written whole). */
#define ROW_MEMO_WAYS 4 /* rows kept per table: a rule reads a few of one table */
#define ROW_TABLES 3    /* tables with a memo: table_def.memo < ROW_TABLES */
typedef union any_row {
    mk_task task;
    mk_slot slot;
    mk_dispute dispute;
} any_row;
typedef struct row_memo {
    int used;
    any_row row;
} row_memo;
static _Thread_local row_memo memo_rows[ROW_TABLES][ROW_MEMO_WAYS];
static _Thread_local unsigned memo_next[ROW_TABLES]; /* the way the next new key takes */

/* Are column c of rows x and y equal (field by field: padding is not compared)? */
static int col_eq(const col_def *c, const void *x, const void *y) {
    const uint8_t *a = (const uint8_t *)x + c->off, *b = (const uint8_t *)y + c->off;
    if (c->kind == COL_TEXT) return strncmp((const char *)a, (const char *)b, c->size) == 0;
    return memcmp(a, b, c->size) == 0;
}

/* The remembered row of t with the same key as row, or NULL. */
static row_memo *memo_find(const table_def *t, const void *row) {
    assert(t->memo >= 0 && t->memo < ROW_TABLES && t->n_key >= 1 && t->n_key < t->n_cols);
    for (int w = 0; w < ROW_MEMO_WAYS; w++) {
        row_memo *m = &memo_rows[t->memo][w];
        int same = m->used;
        for (int i = 0; same && i < t->n_key; i++) same = col_eq(&t->cols[i], &m->row, row);
        if (same) return m;
    }
    return NULL;
}

/* Remembers row as the stored row of its key. */
static void memo_put(const table_def *t, const void *row, size_t size) {
    assert(size <= sizeof(any_row));
    row_memo *m = memo_find(t, row);
    if (!m) m = &memo_rows[t->memo][memo_next[t->memo]++ % ROW_MEMO_WAYS];
    m->used = 1;
    memcpy(&m->row, row, size);
}

/* Builds the state digest's bytes of row of t into r: what the digest's
 * triggers and scan build from the stored values (digest_tables.c), from
 * the struct as row_bind binds it (integers as the int64 bound, blobs
 * whole, text up to its NUL). */
static void row_digest(const table_def *t, const void *row, gt_digest_row *r) {
    gt_digest_row_begin(r, t->name);
    for (int i = 0; i < t->n_cols; i++) {
        const col_def *c = &t->cols[i];
        const uint8_t *f = (const uint8_t *)row + c->off;
        uint64_t u;
        int v;
        switch (c->kind) {
        case COL_U64: memcpy(&u, f, 8); gt_digest_row_int(r, (int64_t)u); break;
        case COL_INT: memcpy(&v, f, sizeof v); gt_digest_row_int(r, v); break;
        case COL_BLOB: gt_digest_row_blob(r, f, c->size); break;
        case COL_TEXT: gt_digest_row_text(r, (const char *)f, strnlen((const char *)f, c->size)); break;
        }
    }
}

/* Loads the one row of t whose key is bound to q (already prepared): 0,
 * GT_ENOTFOUND (no message: the caller names what is missing) or GT_EDB. */
static int row_load(gt_tx *tx, const table_def *t, sqlite3_stmt *q, void *row, size_t size, gt_err *err) {
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) rc = row_read(tx, t, q, row, err);
    else if (rc == SQLITE_DONE) rc = GT_ENOTFOUND;
    else rc = gt_err_set(err, GT_EDB, "reading %s: %s", t->name, sqlite3_errmsg(tx->db));
    if (rc == 0) memo_put(t, row, size);
    gt_tx_stmt_done(tx, q);
    return rc;
}

/* Binds column c of the struct at row to parameter idx of q. */
static void col_bind(const col_def *c, sqlite3_stmt *q, int idx, const void *row) {
    const uint8_t *f = (const uint8_t *)row + c->off;
    uint64_t u;
    int v;
    switch (c->kind) {
    case COL_U64: memcpy(&u, f, 8); sqlite3_bind_int64(q, idx, (int64_t)u); break;
    case COL_INT: memcpy(&v, f, sizeof v); sqlite3_bind_int64(q, idx, v); break;
    case COL_BLOB: sqlite3_bind_blob(q, idx, f, (int)c->size, SQLITE_STATIC); break;
    case COL_TEXT: sqlite3_bind_text(q, idx, (const char *)f, -1, SQLITE_STATIC); break;
    }
}

/* Binds every column of the struct at row to q, in table order. */
static void row_bind(const table_def *t, sqlite3_stmt *q, const void *row) {
    assert(sqlite3_bind_parameter_count(q) == t->n_cols);
    for (int i = 0; i < t->n_cols; i++) col_bind(&t->cols[i], q, i + 1, row);
}

/* Appends text (and, when num >= 0, the number) to buf at *n (cap bytes);
 * past the end *n still grows, so the caller sees it did not fit. Plain
 * copies: snprintf per piece cost 24 K instructions an update (callgrind). */
static void sql_put(char *buf, size_t cap, size_t *n, const char *text, int num) {
    char digits[12];
    size_t k = strlen(text), d = 0;
    if (*n + k < cap) memcpy(buf + *n, text, k);
    *n += k;
    if (num < 0) return;
    assert(num < 1000);
    do digits[d++] = (char)('0' + num % 10); while ((num /= 10) > 0);
    while (d > 0) {
        char c = digits[--d];
        if (*n < cap) buf[*n] = c;
        (*n)++;
    }
}

/* The compare-and-swap UPDATE of the columns in `changed` (bit i: column
 * i): parameter i+1 is column i's new value, n_cols+i+1 the old value of a
 * changed column i; every column must equal its old value (a column that
 * did not change: its new one). Written into buf (cap bytes); 0, or -1
 * when it does not fit. */
static int update_sql(const table_def *t, uint64_t changed, char *buf, size_t cap) {
    size_t n = 0;
    const char *sep = " SET ";
    sql_put(buf, cap, &n, "UPDATE ", -1);
    sql_put(buf, cap, &n, t->name, -1);
    for (int i = 0; i < t->n_cols; i++) {
        if (!(changed >> i & 1)) continue;
        sql_put(buf, cap, &n, sep, -1);
        sql_put(buf, cap, &n, t->cols[i].name, -1);
        sql_put(buf, cap, &n, "=?", i + 1);
        sep = ",";
    }
    for (int i = 0; i < t->n_cols; i++) {
        sql_put(buf, cap, &n, i ? " AND " : " WHERE ", -1);
        sql_put(buf, cap, &n, t->cols[i].name, -1);
        sql_put(buf, cap, &n, "=?", changed >> i & 1 ? t->n_cols + i + 1 : i + 1);
    }
    if (n >= cap) return -1;
    buf[n] = 0;
    return 0;
}

/* Writes the columns of row that differ from the remembered old row, if the
 * stored row is still old: 1 when it wrote, 0 when it did not (the caller
 * writes the whole row), or an error code. */
static int row_update(mk_ctx *c, const table_def *t, const void *old, const void *row, const char *what,
                      gt_err *err) {
    uint64_t changed = 0;
    for (int i = t->n_key; i < t->n_cols; i++)
        if (!col_eq(&t->cols[i], old, row)) changed |= 1ull << i;
    if (!changed) changed = 1ull << t->n_key; /* nothing changed: still write (and check) the row */
    _Static_assert(N_COLS(task_cols) < 48, "a column mask fits below the key's table and tag bits");
    assert(changed >> 48 == 0 && t->memo < 256);
    /* The statement's key: a tag for this file, the table, the mask. */
    uint64_t key = (uint64_t)'R' << 56 | (uint64_t)t->memo << 48 | changed;
    sqlite3_stmt *q;
    int rc = 0;
    if (!gt_tx_stmt_find_key(c->tx, key, &q)) { /* first use (or in use): build the text */
        char sql[2048];
        if (update_sql(t, changed, sql, sizeof sql)) return 0;
        if ((rc = gt_tx_stmt_key(c->tx, key, sql, &q, err))) return rc;
    }
    for (int i = 0; i < t->n_cols; i++) {
        col_bind(&t->cols[i], q, i + 1, row);
        if (changed >> i & 1) col_bind(&t->cols[i], q, t->n_cols + i + 1, old);
    }
    int s = sqlite3_step(q);
    int wrote = s == SQLITE_DONE && sqlite3_changes(c->tx->db) == 1;
    if (s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "writing %s: %s", what, sqlite3_errmsg(c->tx->db));
    gt_tx_stmt_done(c->tx, q);
    return rc ? rc : wrote;
}

/* Feeds the row's canonical record to the block's commitment. */
static int row_record(mk_ctx *c, const table_def *t, const void *row) {
    if (mk_rec_tag(c, t->tag)) return GT_ENOMEM;
    for (int i = 0; i < t->n_cols; i++) {
        const col_def *d = &t->cols[i];
        const uint8_t *f = (const uint8_t *)row + d->off;
        uint64_t u;
        int v, rc = 0;
        switch (d->kind) {
        case COL_U64: memcpy(&u, f, 8); rc = mk_rec_u64(c, u); break;
        case COL_INT: memcpy(&v, f, sizeof v); rc = mk_rec_u64(c, (uint64_t)v); break;
        case COL_BLOB: rc = mk_rec_bytes(c, f, d->size); break;
        case COL_TEXT: rc = mk_rec_text(c, (const char *)f); break;
        }
        if (rc) return GT_ENOMEM;
    }
    return 0;
}

/* Loads the stored row of t with the key of row into *out: 0, GT_ENOTFOUND
 * or GT_EDB. */
static int row_load_key(gt_tx *tx, const table_def *t, const void *row, void *out, size_t size, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, t->select_sql, &q, err);
    if (rc) return rc;
    for (int i = 0; i < t->n_key; i++) col_bind(&t->cols[i], q, i + 1, row);
    memset(out, 0, size);
    return row_load(tx, t, q, out, size, err);
}

/* Writes the struct at row as a row of t (insert: refuse an existing key),
 * records it for the commitment and keeps the state digest current: these
 * tables have no digest triggers (market.c's self_folded), so the row
 * replaced leaves the sum and the new one enters it here (mk_digest_row:
 * hashed with the action's other rows when it ends). what names the row in
 * messages. */
static int row_store(mk_ctx *c, const table_def *t, const void *row, size_t size, int insert, const char *what,
                     gt_err *err) {
    assert(c->tx && t->n_cols > 0 && t->cols[0].kind == COL_BLOB); /* every table is keyed by a task id first */
    const row_memo *m = insert ? NULL : memo_find(t, row);
    int rc = m ? row_update(c, t, &m->row, row, what, err) : 0;
    if (rc < 0 || rc > 1) return rc; /* an error */
    if (rc) { /* updated in place: the stored row was the remembered one */
        row_digest(t, &m->row, mk_digest_row(c, -1));
    } else { /* written whole: the row it replaces (if any) read first */
        if (!insert) {
            any_row old;
            rc = row_load_key(c->tx, t, row, &old, size, err);
            if (rc && rc != GT_ENOTFOUND) return rc;
            if (!rc) row_digest(t, &old, mk_digest_row(c, -1));
        }
        sqlite3_stmt *q;
        if ((rc = gt_tx_stmt(c->tx, insert ? t->insert_sql : t->replace_sql, &q, err))) return rc;
        row_bind(t, q, row);
        if ((rc = step_done(c->tx, q, what, err))) return rc;
    }
    row_digest(t, row, mk_digest_row(c, 1));
    memo_put(t, row, size);
    c->changes++;
    if (row_record(c, t, row)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

int mk_task_load(gt_tx *tx, const uint8_t id[32], mk_task *t, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, task_table.select_sql, &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    memset(t, 0, sizeof *t);
    rc = row_load(tx, &task_table, q, t, sizeof *t, err);
    char s[19];
    if (rc == GT_ENOTFOUND) return gt_err_set(err, GT_ENOTFOUND, "no task %s… on this ledger", mk_short(id, s));
    assert(rc || !memcmp(t->id, id, 32));
    return rc;
}

int mk_task_store(mk_ctx *c, const mk_task *t, int insert, gt_err *err) {
    assert(t->status >= GT_TASK_OPEN && t->status <= GT_TASK_COMPLETE);
    assert(t->slots >= 1 && t->slots <= GT_MARKET_MAX_SLOTS); /* post checked it: bounds every sweep */
    assert(t->policy >= GT_POLICY_POSTER && t->policy <= GT_POLICY_QUORUM);
    assert(memchr(t->kind, 0, sizeof t->kind)); /* bound as NUL-terminated text */
    return row_store(c, &task_table, t, sizeof *t, insert, "task", err);
}

int mk_slot_load(gt_tx *tx, const uint8_t task[32], uint64_t slot, mk_slot *s, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, slot_table.select_sql, &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)(slot > INT64_MAX ? INT64_MAX : slot));
    memset(s, 0, sizeof *s);
    rc = row_load(tx, &slot_table, q, s, sizeof *s, err);
    char h[19];
    if (rc == GT_ENOTFOUND)
        return gt_err_set(err, GT_ENOTFOUND, "task %s… has no slot %llu", mk_short(task, h), (unsigned long long)slot);
    assert(rc || (s->slot == slot && !memcmp(s->task, task, 32)));
    return rc;
}

int mk_slot_store(mk_ctx *c, const mk_slot *s, int insert, gt_err *err) {
    assert(s->state >= GT_SLOT_OPEN && s->state <= GT_SLOT_REFUNDED);
    return row_store(c, &slot_table, s, sizeof *s, insert, "slot", err);
}

int mk_dispute_load(gt_tx *tx, const uint8_t task[32], uint64_t slot, uint64_t attempt, mk_dispute *d,
                    gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, dispute_table.select_sql, &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    sqlite3_bind_int64(q, 3, (int64_t)attempt);
    memset(d, 0, sizeof *d);
    rc = row_load(tx, &dispute_table, q, d, sizeof *d, err);
    char h[19];
    if (rc == GT_ENOTFOUND)
        return gt_err_set(err, GT_ENOTFOUND, "slot %llu of task %s… has no dispute", (unsigned long long)slot,
                          mk_short(task, h));
    assert(rc || (d->slot == slot && d->attempt == attempt));
    return rc;
}

int mk_dispute_store(mk_ctx *c, const mk_dispute *d, int insert, gt_err *err) {
    assert(d->outcome >= MK_DISPUTE_OPEN && d->outcome <= MK_DISPUTE_NO_DECISION);
    return row_store(c, &dispute_table, d, sizeof *d, insert, "dispute", err);
}

int mk_vote_insert(mk_ctx *c, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round,
                   const gt_addr *voter, int accept, uint64_t weight, gt_err *err) {
    assert(round == MK_ROUND_VERIFY || round == MK_ROUND_DISPUTE);
    /* seq orders votes (fee shares go to voters in vote order); it is the
     * number of votes already cast in this round. */
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx,
                        "INSERT INTO mk_votes SELECT ?1,?2,?3,?4,?5,?6,?7,count(*) FROM mk_votes "
                        "WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    sqlite3_bind_int64(q, 3, (int64_t)attempt);
    sqlite3_bind_int64(q, 4, round);
    sqlite3_bind_blob(q, 5, voter->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, accept ? 1 : 0);
    sqlite3_bind_int64(q, 7, (int64_t)weight);
    if ((rc = step_done(c->tx, q, "vote", err))) {
        if (rc == GT_EEXIST) {
            char s[43];
            return gt_err_set(err, GT_EEXIST, "%s has already voted on this %s", mk_addr(voter, s),
                              round == MK_ROUND_VERIFY ? "result" : "dispute");
        }
        return rc;
    }
    c->changes++;
    if (mk_rec_tag(c, MK_REC_VOTE) || mk_rec_bytes(c, task, 32) || mk_rec_u64(c, slot) || mk_rec_u64(c, attempt) ||
        mk_rec_u64(c, (uint64_t)round) || mk_rec_bytes(c, voter->b, 20) || mk_rec_u64(c, accept ? 1 : 0) ||
        mk_rec_u64(c, weight))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

int mk_votes_each(gt_tx *tx, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round, mk_vote_fn fn,
                  void *arg, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx,
                        "SELECT voter,accept,weight FROM mk_votes WHERE task=? AND slot=? AND attempt=? "
                        "AND round=? ORDER BY seq",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    sqlite3_bind_int64(q, 3, (int64_t)attempt);
    sqlite3_bind_int64(q, 4, round);
    int stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        gt_addr v;
        int accept;
        uint64_t weight;
        if (gt_row_blob(q, 0, v.b, 20, "mk_votes", err) || gt_row_int(q, 1, &accept, "mk_votes", err) ||
            gt_row_u64(q, 2, &weight, "mk_votes", err)) {
            stop = GT_EDB;
            break;
        }
        stop = fn(arg, &v, accept, weight);
    }
    gt_tx_stmt_done(tx, q);
    if (stop < 0) return stop;
    if (!stop && rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "reading votes: %s", sqlite3_errmsg(tx->db));
    return 0;
}
