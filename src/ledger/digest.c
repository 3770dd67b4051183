/* digest.c: the multiset hash of the core state (see digest.h). */
#include "ledger/digest.h"

#include <assert.h>
#include <string.h>

#include "base/amount.h"
#include "crypto/keccak.h"

enum { TAG_ACCOUNT = 'A', TAG_LOCK = 'L', TAG_UNBONDING = 'U' };

/* Big-endian u64: the digest's rows are the same bytes on every host. */
static void put_be64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; }
}

/* Adds (sign > 0) or subtracts H(row) to the 2048-bit sum. */
static void fold(gt_digest_acc *acc, const uint8_t *row, size_t len, int sign) {
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, row, len);
    gt_digest_fold_sponge(acc, &k, sign);
}

void gt_digest_add_h(gt_digest_acc *acc, const uint64_t h[GT_DIGEST_WORDS], int sign) {
    assert(sign == 1 || sign == -1);
    unsigned carry = 0; /* carry when adding, borrow when subtracting */
    for (int i = 0; i < GT_DIGEST_WORDS; i++) {
        uint64_t x = h[i];
        uint64_t w = acc->w[i];
        if (sign > 0) {
            uint64_t s = w + x;
            unsigned c1 = s < w;
            uint64_t t = s + carry;
            carry = c1 | (t < s);
            acc->w[i] = t;
        } else {
            uint64_t d = w - x;
            unsigned b1 = w < x;
            uint64_t t = d - carry;
            carry = b1 | (d < carry);
            acc->w[i] = t;
        }
    }
}

void gt_digest_fold_sponge(gt_digest_acc *acc, gt_keccak *k, int sign) {
    uint64_t h[GT_DIGEST_WORDS]; /* H as little-endian words: the limbs' order */
    gt_keccak_xof_words(k, h, GT_DIGEST_WORDS);
    gt_digest_add_h(acc, h, sign);
}

/* The canonical bytes of an account row: tag, address, the four buckets
 * and the nonce (big-endian). */
static void account_row(const gt_account *a, uint8_t row[1 + 20 + 5 * 8]) {
    row[0] = TAG_ACCOUNT;
    memcpy(row + 1, a->addr.b, 20);
    put_be64(row + 21, a->balance);
    put_be64(row + 29, a->staked);
    put_be64(row + 37, a->locked);
    put_be64(row + 45, a->unbonding);
    put_be64(row + 53, a->nonce);
}

void gt_digest_account_h(const gt_account *a, uint64_t h[GT_DIGEST_WORDS]) {
    uint8_t row[1 + 20 + 5 * 8];
    account_row(a, row);
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, row, sizeof row);
    gt_keccak_xof_words(&k, h, GT_DIGEST_WORDS);
}

void gt_digest_account_h_x4(const gt_account *const a[4], uint64_t *const h[4]) {
    uint8_t rows[4][1 + 20 + 5 * 8];
    const uint8_t *msg[4];
    for (int k = 0; k < 4; k++) {
        account_row(a[k], rows[k]);
        msg[k] = rows[k];
    }
    gt_keccak_xof_words_x4(msg, sizeof rows[0], h, GT_DIGEST_WORDS);
}

void gt_digest_account(gt_digest_acc *acc, const gt_account *a, int sign) {
    uint8_t row[1 + 20 + 5 * 8];
    account_row(a, row);
    fold(acc, row, sizeof row, sign);
}

void gt_digest_lock(gt_digest_acc *acc, const gt_lock *l, int sign) {
    uint8_t row[1 + 32 + 20 + 8];
    row[0] = TAG_LOCK;
    memcpy(row + 1, l->id, 32);
    memcpy(row + 33, l->owner.b, 20);
    put_be64(row + 53, l->amount);
    fold(acc, row, sizeof row, sign);
}

void gt_digest_unbonding(gt_digest_acc *acc, uint64_t seq, const gt_addr *a, uint64_t amount,
                         uint64_t release_height, int sign) {
    uint8_t row[1 + 8 + 20 + 8 + 8];
    row[0] = TAG_UNBONDING;
    put_be64(row + 1, seq);
    memcpy(row + 9, a->b, 20);
    put_be64(row + 29, amount);
    put_be64(row + 37, release_height);
    fold(acc, row, sizeof row, sign);
}

void gt_digest_final(const gt_digest_acc *acc, uint64_t supply, uint8_t out[32]) {
    static const char tag[] = "gotong-state-v1";
    uint8_t buf[sizeof tag - 1 + GT_DIGEST_WORDS * 8 + 8];
    memcpy(buf, tag, sizeof tag - 1);
    uint8_t *p = buf + sizeof tag - 1;
    for (int i = 0; i < GT_DIGEST_WORDS; i++)
        for (int b = 0; b < 8; b++) *p++ = (uint8_t)(acc->w[i] >> (8 * b));
    put_be64(p, supply);
    gt_keccak256(buf, sizeof buf, out);
}

/* Copies a 20- or 32-byte blob column; a wrong size is left zeroed (and so
 * hashes differently from any real row). */
static void blob_col(sqlite3_stmt *q, int col, uint8_t *dst, int len) {
    memset(dst, 0, (size_t)len);
    if (sqlite3_column_bytes(q, col) == len) memcpy(dst, sqlite3_column_blob(q, col), (size_t)len);
}

/* Reads an integer column that the rules keep in [0, INT64_MAX]. */
static uint64_t u64_col(sqlite3_stmt *q, int col, int *bad) {
    sqlite3_int64 v = sqlite3_column_int64(q, col);
    if (v < 0 || sqlite3_column_type(q, col) != SQLITE_INTEGER) *bad = 1;
    return (uint64_t)v;
}

int gt_digest_scan(sqlite3 *db, gt_digest_acc *acc, uint64_t *buckets, int *overflow, gt_err *err) {
    static const char *const sql[3] = {
        "SELECT addr,balance,staked,locked,unbonding,nonce FROM accounts",
        "SELECT id,owner,amount FROM locks",
        "SELECT seq,addr,amount,release_height FROM unbonding",
    };
    memset(acc, 0, sizeof *acc);
    *buckets = 0;
    *overflow = 0;
    for (int t = 0; t < 3; t++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, sql[t], -1, &q, NULL) != SQLITE_OK)
            return gt_err_set(err, GT_EDB, "reading the state: %s", sqlite3_errmsg(db));
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            if (t == 0) {
                gt_account a;
                blob_col(q, 0, a.addr.b, 20);
                a.balance = u64_col(q, 1, overflow);
                a.staked = u64_col(q, 2, overflow);
                a.locked = u64_col(q, 3, overflow);
                a.unbonding = u64_col(q, 4, overflow);
                a.nonce = u64_col(q, 5, overflow);
                gt_digest_account(acc, &a, 1);
                uint64_t parts[4] = {a.balance, a.staked, a.locked, a.unbonding};
                for (int i = 0; i < 4; i++)
                    if (gt_add_u64(*buckets, parts[i], buckets)) *overflow = 1;
            } else if (t == 1) {
                gt_lock l;
                blob_col(q, 0, l.id, 32);
                blob_col(q, 1, l.owner.b, 20);
                l.amount = u64_col(q, 2, overflow);
                gt_digest_lock(acc, &l, 1);
            } else {
                gt_addr a;
                blob_col(q, 1, a.b, 20);
                int bad = 0;
                uint64_t seq = u64_col(q, 0, &bad), amount = u64_col(q, 2, &bad), rel = u64_col(q, 3, &bad);
                if (bad) *overflow = 1;
                gt_digest_unbonding(acc, seq, &a, amount, rel, 1);
            }
        }
        const char *msg = rc == SQLITE_DONE ? NULL : sqlite3_errmsg(db);
        if (msg) {
            gt_err_set(err, GT_EDB, "reading the state: %s", msg);
            sqlite3_finalize(q);
            return GT_EDB;
        }
        sqlite3_finalize(q);
    }
    return 0;
}
