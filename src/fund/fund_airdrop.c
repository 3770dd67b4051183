/* fund_airdrop.c: an epoch's airdrop on the ledger -- airdrop_close builds
 * the Merkle tree of the epoch's points (airdrop.h) and airdrop_claim pays a
 * leaf against its proof, once. The rules are at the top of fund_points.c. */
#include <assert.h>
#include <stdio.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "fund/airdrop.h"
#include "fund/fund.h"
#include "fund/fund_impl.h"
#include "ledger/row.h"

/* An epoch's funder, pool and state; GT_ENOTFOUND when it was never funded. */
static int epoch_get(sqlite3 *db, uint64_t epoch, gt_addr *funder, uint64_t *pool, int *status, uint8_t root[32],
                     gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT funder, pool, status, root FROM fd_epochs WHERE epoch=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    const char *T = "fd_epochs";
    if (sqlite3_step(q) != SQLITE_ROW)
        rc = gt_err_set(err, GT_ENOTFOUND, "epoch %llu has no airdrop pool (airdrop_fund before it ends)",
                        (unsigned long long)epoch);
    else if (!(rc = gt_row_blob(q, 0, funder->b, 20, T, err)) && !(rc = gt_row_amount(q, 1, pool, T, err)) &&
             !(rc = gt_row_int(q, 2, status, T, err)))
        rc = gt_row_blob(q, 3, root, 32, T, err);
    sqlite3_finalize(q);
    return rc;
}

/* The epoch's points as claims in address order, amounts split from pool. */
static int epoch_claims(sqlite3 *db, uint64_t epoch, uint64_t pool, gt_fund_claim **out, size_t *n, gt_err *err) {
    sqlite3_stmt *q;
    *out = NULL, *n = 0;
    int rc = gt_fund_prepare(db, "SELECT account, points FROM fd_points WHERE epoch=? ORDER BY account", &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    unsigned __int128 total = 0;
    size_t cap = 0;
    gt_fund_claim *c = NULL;
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            gt_fund_claim *g = nc <= GT_FUND_EPOCH_MAX_ACCOUNTS * 2u ? gt_realloc(c, nc * sizeof *c) : NULL;
            if (!g) {
                rc = gt_err_set(err, GT_ENOMEM, "out of memory (or over the epoch's account limit)");
                break;
            }
            c = g, cap = nc;
        }
        if ((rc = gt_row_blob(q, 0, c[*n].account.b, 20, "fd_points", err)) ||
            (rc = gt_row_amount(q, 1, &c[*n].amount, "fd_points", err)))
            break;
        total += c[*n].amount;
        (*n)++;
    }
    sqlite3_finalize(q);
    size_t k = 0;
    for (size_t i = 0; !rc && i < *n; i++) { /* points -> shares of the pool; drop shares of 0 */
        assert(c[i].amount <= total);
        uint64_t amt = (uint64_t)((unsigned __int128)pool * c[i].amount / total);
        assert(amt <= pool);
        if (amt) c[k].account = c[i].account, c[k++].amount = amt;
    }
    if (rc)
        gt_free(c);
    else
        *out = c, *n = k;
    return rc;
}

/* Writes the leaves and the closed epoch's row; feeds the commitment. */
static int write_tree(fd_ctx *c, uint64_t epoch, const gt_fund_claim *cl, size_t n, const uint8_t root[32],
                      gt_err *err) {
    sqlite3 *db = c->tx->db;
    sqlite3_stmt *q;
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if ((rc = gt_fund_prepare(db, "INSERT INTO fd_leaves VALUES(?,?,?,?,0)", &q, err))) break;
        sqlite3_bind_int64(q, 1, (int64_t)epoch);
        sqlite3_bind_int64(q, 2, (int64_t)i);
        sqlite3_bind_blob(q, 3, cl[i].account.b, 20, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, (int64_t)cl[i].amount);
        rc = gt_fund_exec_done(db, q, "writing a leaf", err);
        if (!rc && (gt_buf_putc(&c->diff, FD_REC_LEAF) || gt_fund_rec_u64(c, epoch) || gt_fund_rec_u64(c, i) ||
                    gt_fund_rec_bytes(c, cl[i].account.b, 20) || gt_fund_rec_u64(c, cl[i].amount)))
            rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    if (rc || (rc = gt_fund_prepare(db,
                                    "UPDATE fd_epochs SET status=1, root=?, leaves=?,"
                                    " total_points=(SELECT COALESCE(SUM(points),0) FROM fd_points WHERE epoch=?1)"
                                    " WHERE epoch=?3",
                                    &q, err)))
        return rc;
    sqlite3_bind_blob(q, 1, root, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)n);
    sqlite3_bind_int64(q, 3, (int64_t)epoch);
    if ((rc = gt_fund_exec_done(db, q, "closing the epoch", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_EPOCH) || gt_fund_rec_u64(c, epoch) || gt_fund_rec_bytes(c, root, 32) ||
        gt_fund_rec_u64(c, n))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* Returns back (what the epoch's tree does not pay: rounding, or no points)
 * from the epoch's lock. From format 14 (rows in fd_epoch_funds, which add
 * up to pool) each funder gets floor(back * amount / pool), in address
 * order, and the remainder of that rounding (fewer base units than funders)
 * goes to first, the epoch's first funder; an epoch funded before format 14
 * (no rows) returns it all to its one funder. */
static int pay_back(gt_tx *tx, uint64_t epoch, const uint8_t lock[32], const gt_addr *first, uint64_t pool,
                    uint64_t back, gt_err *err) {
    sqlite3_stmt *q;
    assert(back <= pool && pool > 0);
    int rc =
        gt_fund_prepare(tx->db, "SELECT funder, amount FROM fd_epoch_funds WHERE epoch=? ORDER BY funder", &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    uint64_t given = 0, sum = 0;
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        gt_addr who;
        uint64_t amt;
        if ((rc = gt_row_blob(q, 0, who.b, 20, "fd_epoch_funds", err)) ||
            (rc = gt_row_amount(q, 1, &amt, "fd_epoch_funds", err)))
            break;
        if (amt > pool - sum) {
            rc = gt_row_damaged(q, 1, "fd_epoch_funds", "amounts adding up to the epoch's pool", err);
            break;
        }
        sum += amt;
        uint64_t share = (uint64_t)((unsigned __int128)back * amt / pool);
        if (share && (rc = gt_state_release(tx, lock, &who, share, err))) break;
        given += share;
    }
    sqlite3_finalize(q);
    if (!rc && sum && sum != pool)
        rc = gt_err_set(err, GT_EDB, "damaged table fd_epoch_funds: epoch %llu's funders put in %llu, its pool is %llu",
                        (unsigned long long)epoch, (unsigned long long)sum, (unsigned long long)pool);
    if (rc) return rc;
    assert(given <= back);
    return back > given ? gt_state_release(tx, lock, first, back - given, err) : 0;
}

static const gt_field_def close_fields[] = {{"epoch", GT_F_U64, 0}};

/* Format 16's rule: epoch (over) closes only GT_AIRDROP_CLOSE_GRACE_S after
 * its end. Why: from format 16 a slot's points go to the epoch it was paid
 * in and are refused once that epoch is closed, and anyone may close; so
 * without a grace an earner of the epoch closed it in the next epoch's first
 * block, before a worker paid in its last moments recorded, and kept that
 * worker's share of the pool among fewer points (test_fund_attacks
 * test_close_grace). */
static int check_grace(const gt_tx *tx, uint64_t epoch, gt_err *err) {
    uint64_t end = (epoch + 1) * GT_FUND_EPOCH_S, from = end + GT_AIRDROP_CLOSE_GRACE_S;
    assert(tx->time_s >= end); /* the epoch is over */
    if (tx->time_s >= from) return 0;
    return gt_err_set(err, GT_ESTATE,
                      "epoch %llu ended at block time %llu and may be closed from block time %llu (in %llu s):"
                      " from ledger format 16 a grace of %u s after its end lets a worker paid late in it record"
                      " its points first",
                      (unsigned long long)epoch, (unsigned long long)end, (unsigned long long)from,
                      (unsigned long long)(from - tx->time_s), (unsigned)GT_AIRDROP_CLOSE_GRACE_S);
}

static int close_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    uint64_t epoch = a->f[0].u64, pool, paid = 0;
    gt_addr funder;
    int status;
    uint8_t root[32] = {0}, lock[32];
    int rc = epoch_get(tx->db, epoch, &funder, &pool, &status, root, err);
    if (rc) return rc;
    if (status != GT_FUND_EPOCH_FUNDED)
        return gt_err_set(err, GT_ESTATE, "epoch %llu is already closed", (unsigned long long)epoch);
    if (epoch >= gt_fund_epoch_of(tx->time_s))
        return gt_err_set(err, GT_ESTATE, "epoch %llu is not over: it ends at block time %llu",
                          (unsigned long long)epoch, (unsigned long long)((epoch + 1) * GT_FUND_EPOCH_S));
    if (tx->height >= tx->format16_height && (rc = check_grace(tx, epoch, err))) return rc;
    gt_fund_claim *cl = NULL;
    size_t n = 0;
    gt_fund_airdrop tree = {0};
    if ((rc = epoch_claims(tx->db, epoch, pool, &cl, &n, err))) return rc;
    if (n > GT_FUND_EPOCH_MAX_ACCOUNTS)
        rc = gt_err_set(err, GT_EDB, "epoch %llu has more accounts than its limit", (unsigned long long)epoch);
    if (!rc && n) rc = gt_fund_airdrop_build(cl, n, &tree, err);
    if (!rc && n) memcpy(root, tree.root, 32);
    for (size_t i = 0; i < n; i++) paid += cl[i].amount;
    assert(rc || paid <= pool);
    if (!rc) rc = write_tree(c, epoch, cl, n, root, err);
    gt_fund_epoch_lock_id(epoch, lock);
    if (!rc && pool > paid) rc = pay_back(tx, epoch, lock, &funder, pool, pool - paid, err); /* rounding, no points */
    gt_fund_airdrop_free(&tree);
    gt_free(cl);
    return rc;
}

static int apply_close(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, close_rule(&c, a, err));
}

gt_action_kind gt_kind_airdrop_close = {"airdrop_close", "AirdropClose", close_fields, 1, apply_close, 1, {0}, {0}, 0};

/* ---- airdrop_claim ---- */

static const gt_field_def claim_fields[] = {{"epoch", GT_F_U64, 0},
                                            {"index", GT_F_U64, 0},
                                            {"amount", GT_F_U64, 0},
                                            {"proof", GT_F_STRING, 64 * GT_FUND_PROOF_MAX}};
enum { CL_EPOCH, CL_INDEX, CL_AMOUNT, CL_PROOF };

/* Parses the proof string (64 hex digits per sibling, no separators). */
static int parse_proof(const char *s, size_t len, uint8_t (*out)[32], size_t *n, gt_err *err) {
    if (len % 64 || len / 64 > GT_FUND_PROOF_MAX)
        return gt_err_set(err, GT_EINVAL,
                          "proof: expected up to %d siblings of 64 hex digits each, no 0x, got %zu digits",
                          GT_FUND_PROOF_MAX, len);
    *n = len / 64;
    for (size_t i = 0; i < *n; i++) {
        char h[65];
        memcpy(h, s + 64 * i, 64);
        h[64] = 0;
        if (gt_hex_decode(h, out[i], 32, "proof sibling", err)) return GT_EINVAL;
    }
    return 0;
}

/* The leaf row (account, amount, claimed) of (epoch, index). */
static int leaf_get(sqlite3 *db, uint64_t epoch, uint64_t index, gt_addr *acct, uint64_t *amount, int *claimed,
                    gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT account, amount, claimed FROM fd_leaves WHERE epoch=? AND idx=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    sqlite3_bind_int64(q, 2, (int64_t)index);
    if (sqlite3_step(q) != SQLITE_ROW)
        rc = gt_err_set(err, GT_ENOTFOUND, "epoch %llu has no claim %llu", (unsigned long long)epoch,
                        (unsigned long long)index);
    else if (!(rc = gt_row_blob(q, 0, acct->b, 20, "fd_leaves", err)) &&
             !(rc = gt_row_amount(q, 1, amount, "fd_leaves", err)))
        rc = gt_row_int(q, 2, claimed, "fd_leaves", err);
    sqlite3_finalize(q);
    return rc;
}

static int claim_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    uint64_t epoch = a->f[CL_EPOCH].u64, index = a->f[CL_INDEX].u64, amount = a->f[CL_AMOUNT].u64, pool, leaf_amt;
    gt_addr funder, acct;
    int status, claimed;
    uint8_t root[32], lock[32], proof[GT_FUND_PROOF_MAX][32];
    size_t np = 0;
    int rc = epoch_get(tx->db, epoch, &funder, &pool, &status, root, err);
    if (rc) return rc;
    if (status != GT_FUND_EPOCH_CLOSED)
        return gt_err_set(err, GT_ESTATE, "epoch %llu is not closed yet", (unsigned long long)epoch);
    if ((rc = parse_proof(gt_action_str(a, CL_PROOF), a->f[CL_PROOF].str_len, proof, &np, err))) return rc;
    if (!gt_fund_airdrop_verify(index, &a->from, amount, (const uint8_t(*)[32])proof, np, root))
        return gt_err_set(err, GT_EPERM,
                          "the proof does not lead from leaf (index %llu, sender, amount %llu) to epoch %llu's"
                          " root: not the sender's claim",
                          (unsigned long long)index, (unsigned long long)amount, (unsigned long long)epoch);
    if ((rc = leaf_get(tx->db, epoch, index, &acct, &leaf_amt, &claimed, err))) return rc;
    if (!gt_addr_eq(&acct, &a->from) || leaf_amt != amount)
        return gt_err_set(err, GT_EDB, "damaged table fd_leaves: leaf %llu disagrees with the root",
                          (unsigned long long)index);
    if (claimed)
        return gt_err_set(err, GT_EEXIST, "claim %llu of epoch %llu was already paid", (unsigned long long)index,
                          (unsigned long long)epoch);
    assert(leaf_amt == amount && amount <= pool); /* a leaf is a share of the pool */
    gt_fund_epoch_lock_id(epoch, lock);
    if ((rc = gt_state_release(tx, lock, &a->from, amount, err))) return rc;
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "UPDATE fd_leaves SET claimed=1 WHERE epoch=? AND idx=?", &q, err))) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    sqlite3_bind_int64(q, 2, (int64_t)index);
    if ((rc = gt_fund_exec_done(tx->db, q, "marking the claim", err))) return rc;
    if ((rc = gt_fund_prepare(tx->db, "UPDATE fd_epochs SET claimed=claimed+? WHERE epoch=?", &q, err))) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)amount);
    sqlite3_bind_int64(q, 2, (int64_t)epoch);
    if ((rc = gt_fund_exec_done(tx->db, q, "updating the epoch", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_LEAF) || gt_fund_rec_u64(c, epoch) || gt_fund_rec_u64(c, index) ||
        gt_fund_rec_bytes(c, a->from.b, 20))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_claim(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, claim_rule(&c, a, err));
}

gt_action_kind gt_kind_airdrop_claim = {"airdrop_claim", "AirdropClaim", claim_fields, 4, apply_claim, 1, {0}, {0}, 0};
