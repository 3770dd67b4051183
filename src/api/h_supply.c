/* h_supply.c: GET /v1/supply, the supply check over the whole ledger: the
 * supply the ledger keeps (what mints added, less what slashes burned)
 * against what every account holds (balance + staked + locked + unbonding),
 * and each account's `locked` and `unbonding` against the escrow locks and
 * unbonding entries behind them. All read in one snapshot of the store at
 * the head block, so the figures belong together. The dashboard's overview
 * shows it; before, the page summed what the last 2000 blocks named.
 *
 * The writer checks the same books after every block in builds with
 * GT_INVARIANTS (ledger/invariants.h) and at open (ledger/check.h); this is
 * the same check, read from outside by anyone, on any build.
 *
 * One answer costs one scan of the accounts, locks and unbonding tables (no
 * cache: a store damaged by hand shows at once, not at the next block). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "api/api_impl.h"
#include "ledger/row.h"
#include "ledger/state.h"
#include "market/market.h"

/* The figures of one check (sums in 128 bits: a damaged store may hold
 * amounts whose sum does not fit 64). */
typedef struct supply_books {
    uint64_t height, time_s, supply;
    uint8_t hash[32];
    uint64_t accounts, locks, entries;
    unsigned __int128 bucket[4]; /* balance, staked, locked, unbonding over all accounts */
    unsigned __int128 locked_rows, unbonding_rows;
} supply_books;

static const char *const bucket_names[4] = {"balance", "staked", "locked", "unbonding"};

/* An unsigned 128-bit value in decimal into out (40 bytes hold any). */
static const char *u128_dec(unsigned __int128 v, char out[48]) {
    char *p = out + 47;
    *p = 0;
    do {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v && p > out);
    return p;
}

/* An unsigned 128-bit value as a decimal JSON string (new reference). */
static json_t *u128_str(unsigned __int128 v) {
    char s[48];
    return json_string(u128_dec(v, s));
}

/* The head block's height, time and hash, inside the caller's snapshot. */
static int read_head(sqlite3 *db, supply_books *b, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT height, time, hash FROM blocks ORDER BY height DESC LIMIT 1", -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "reading the head: %s", sqlite3_errmsg(db));
    int rc = sqlite3_step(q) == SQLITE_ROW ? 0 : gt_err_set(err, GT_EDB, "the ledger has no head block");
    if (!rc && !(rc = gt_row_amount(q, 0, &b->height, "blocks", err)) &&
        !(rc = gt_row_amount(q, 1, &b->time_s, "blocks", err)))
        rc = gt_row_blob(q, 2, b->hash, 32, "blocks", err);
    sqlite3_finalize(q);
    return rc;
}

/* The stored supply (meta 'supply'). */
static int read_supply(sqlite3 *db, supply_books *b, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='supply'", -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "reading the supply: %s", sqlite3_errmsg(db));
    int rc = sqlite3_step(q) == SQLITE_ROW ? gt_row_amount(q, 0, &b->supply, "meta", err)
                                           : gt_err_set(err, GT_EDB, "the ledger stores no supply");
    sqlite3_finalize(q);
    return rc;
}

/* Sums every account's four buckets, reading each row strictly (a damaged
 * amount is an error naming it, never a zero). */
static int sum_accounts(sqlite3 *db, supply_books *b, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT balance, staked, locked, unbonding FROM accounts", -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "reading the accounts: %s", sqlite3_errmsg(db));
    int rc = 0, s;
    while (!rc && (s = sqlite3_step(q)) == SQLITE_ROW) {
        for (int k = 0; k < 4 && !rc; k++) {
            uint64_t v;
            if (!(rc = gt_row_amount(q, k, &v, "accounts", err))) b->bucket[k] += v;
        }
        b->accounts++;
    }
    if (!rc && s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading the accounts: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* Sums the amount column of table (locks or unbonding) into *sum, counting rows. */
static int sum_rows(sqlite3 *db, const char *sql, const char *table, unsigned __int128 *sum, uint64_t *n,
                    gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "reading table %s: %s", table, sqlite3_errmsg(db));
    int rc = 0, s;
    while (!rc && (s = sqlite3_step(q)) == SQLITE_ROW) {
        uint64_t v;
        if (!(rc = gt_row_amount(q, 0, &v, table, err))) *sum += v, ++*n;
    }
    if (!rc && s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading table %s: %s", table, sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* The answer: the figures, whether they agree, and what does not (each
 * disagreement as a sentence). New reference, NULL on out of memory. */
static json_t *books_json(const supply_books *b) {
    unsigned __int128 held = b->bucket[0] + b->bucket[1] + b->bucket[2] + b->bucket[3];
    json_t *problems = json_array(), *o = json_object();
    char hash[67], msg[200], x[48], y[48];
    gt_api_hex(b->hash, 32, hash);
    if (held != b->supply) {
        snprintf(msg, sizeof msg, "the accounts hold %s base units in all, but the supply is %llu", u128_dec(held, x),
                 (unsigned long long)b->supply);
        json_array_append_new(problems, json_string(msg));
    }
    if (b->locked_rows != b->bucket[2]) {
        snprintf(msg, sizeof msg, "the accounts have %s base units locked, but their escrow locks hold %s",
                 u128_dec(b->bucket[2], x), u128_dec(b->locked_rows, y));
        json_array_append_new(problems, json_string(msg));
    }
    if (b->unbonding_rows != b->bucket[3]) {
        snprintf(msg, sizeof msg, "the accounts have %s base units unbonding, but their unbonding entries hold %s",
                 u128_dec(b->bucket[3], x), u128_dec(b->unbonding_rows, y));
        json_array_append_new(problems, json_string(msg));
    }
    int ok = json_array_size(problems) == 0;
    json_object_set_new(o, "height", json_integer((json_int_t)b->height));
    json_object_set_new(o, "time", json_integer((json_int_t)b->time_s));
    json_object_set_new(o, "hash", json_string(hash));
    json_object_set_new(o, "supply", u128_str(b->supply));
    json_object_set_new(o, "held", u128_str(held));
    json_object_set_new(o, "accounts", json_integer((json_int_t)b->accounts));
    for (int k = 0; k < 4; k++) json_object_set_new(o, bucket_names[k], u128_str(b->bucket[k]));
    json_object_set_new(o, "locks", json_pack("{s:I,s:o}", "count", (json_int_t)b->locks, "total",
                                              u128_str(b->locked_rows)));
    json_object_set_new(o, "unbondingEntries", json_pack("{s:I,s:o}", "count", (json_int_t)b->entries, "total",
                                                         u128_str(b->unbonding_rows)));
    json_object_set_new(o, "conserved", json_boolean(ok));
    json_object_set_new(o, "problems", problems);
    if (!problems || json_object_size(o) != 14) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The check at db's head, in one snapshot. New reference, NULL with err. */
static json_t *supply_check(sqlite3 *db, gt_err *err) {
    supply_books b;
    memset(&b, 0, sizeof b);
    int began = gt_market_snapshot_begin(db);
    json_t *j = NULL;
    if (!read_head(db, &b, err) && !read_supply(db, &b, err) && !sum_accounts(db, &b, err) &&
        !sum_rows(db, "SELECT amount FROM locks", "locks", &b.locked_rows, &b.locks, err) &&
        !sum_rows(db, "SELECT amount FROM unbonding", "unbonding", &b.unbonding_rows, &b.entries, err) &&
        !(j = books_json(&b)))
        gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_market_snapshot_end(db, began);
    assert(j || err->code);
    return j;
}

/* GET /v1/supply: the supply check at the head (no parameters). */
void gt_h_supply(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    gt_reader *rd;
    json_t *j = NULL;
    if (gt_req_only_query(r, allowed, &err) || !(rd = gt_req_reader(r, &err)) || !(j = supply_check(rd->db, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    gt_resp_json(o, 200, j);
}
