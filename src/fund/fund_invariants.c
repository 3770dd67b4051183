/* fund_invariants.c: the fund module's invariants, stated as checks (the
 * module's `check`, run after every block's flush in builds with
 * GT_INVARIANTS; see ledger/invariants.h):
 *
 *   fund-round-escrow   an open round's lock (its id) holds exactly its pool,
 *                       owned by its creator; a finalized round's lock is empty
 *   fund-round-books    a finalized round's matched + remainder = pool, and its
 *                       projects' matches add up to matched
 *   fund-epoch-escrow   a funded epoch's lock holds its pool; a closed epoch's
 *                       lock holds exactly its unclaimed leaves
 *   fund-epoch-funders  (format 14) an epoch with rows in fd_epoch_funds: they
 *                       add up to its pool, its first funder (fd_epochs.funder)
 *                       has one, each is > 0, at most GT_FUND_EPOCH_MAX_FUNDERS;
 *                       no row names an epoch that does not exist
 *   fund-issuer-bond    an issuer's bond lock holds at most the minimum bond,
 *                       and nothing once withdrawn
 *   fund-label-escrow   an open label task's lock (its id) holds every seat's
 *                       pay for every item, owned by its poster, and each
 *                       seat's bond lock holds the bond; a closed task's
 *                       locks are empty (paid, burned or refunded)
 *
 * Each returns 0, GT_EINVAL with "invariant <name>: ..." or GT_EDB. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "fund/fund.h"
#include "fund/fund_impl.h"
#include "fund/label.h"

/* Runs sql (no parameters); a row back means the invariant is broken. */
static int none_of(sqlite3 *db, const char *sql, const char *name, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, sql, &q, err);
    if (rc) return rc;
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        char h[19] = "?";
        if (sqlite3_column_bytes(q, 0) == 32) gt_fund_short(sqlite3_column_blob(q, 0), h);
        rc = gt_err_set(err, GT_EINVAL, "invariant %s: round %s… breaks it", name, h);
    } else if (s != SQLITE_DONE) {
        rc = gt_err_set(err, GT_EDB, "checking %s: %s", name, sqlite3_errmsg(db));
    }
    sqlite3_finalize(q);
    return rc;
}

/* The amount in lock id (0 when there is none). */
static int lock_amount(sqlite3 *db, const uint8_t id[32], int64_t *amount, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT amount FROM locks WHERE id=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    *amount = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return 0;
}

/* fund-epoch-escrow, epoch by epoch (lock ids are hashes of the epoch). */
static int check_epochs(sqlite3 *db, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "SELECT e.epoch, e.status, e.pool, (SELECT COALESCE(SUM(amount),0) FROM fd_leaves l"
                             " WHERE l.epoch=e.epoch AND l.claimed=0) FROM fd_epochs e",
                             &q, err);
    if (rc) return rc;
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        uint64_t epoch = (uint64_t)sqlite3_column_int64(q, 0);
        int closed = sqlite3_column_int(q, 1) == GT_FUND_EPOCH_CLOSED;
        int64_t want = closed ? sqlite3_column_int64(q, 3) : sqlite3_column_int64(q, 2), have;
        uint8_t id[32];
        gt_fund_epoch_lock_id(epoch, id);
        if ((rc = lock_amount(db, id, &have, err))) break;
        if (have != want)
            rc = gt_err_set(err, GT_EINVAL, "invariant fund-epoch-escrow: epoch %llu's lock holds %lld, expected %lld",
                            (unsigned long long)epoch, (long long)have, (long long)want);
    }
    sqlite3_finalize(q);
    return rc;
}

/* fund-epoch-funders: what the funders put in is the pool their epoch's
 * close pays back pro rata (fund_airdrop.c pay_back); a row edited or lost
 * would pay a funder another's money while the supply still adds up. An
 * epoch funded only before format 14 has no rows (its one funder holds all). */
static int check_epoch_funders(sqlite3 *db, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "SELECT e.epoch FROM fd_epochs e JOIN (SELECT epoch, SUM(amount) s, COUNT(*) n,"
                             " MIN(amount) m FROM fd_epoch_funds GROUP BY epoch) f ON f.epoch=e.epoch"
                             " WHERE f.s!=e.pool OR f.m<=0 OR f.n>?1 OR NOT EXISTS(SELECT 1 FROM fd_epoch_funds x"
                             " WHERE x.epoch=e.epoch AND x.funder=e.funder)"
                             " UNION ALL SELECT f.epoch FROM fd_epoch_funds f"
                             " WHERE NOT EXISTS(SELECT 1 FROM fd_epochs e WHERE e.epoch=f.epoch) LIMIT 1",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, GT_FUND_EPOCH_MAX_FUNDERS);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW)
        rc = gt_err_set(err, GT_EINVAL,
                        "invariant fund-epoch-funders: epoch %lld's funders do not add up to its pool (or name no"
                        " epoch, or leave out its first funder)",
                        (long long)sqlite3_column_int64(q, 0));
    else if (s != SQLITE_DONE)
        rc = gt_err_set(err, GT_EDB, "checking fund-epoch-funders: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* fund-issuer-bond, issuer by issuer (lock ids are hashes of the address). */
static int check_bonds(sqlite3 *db, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "SELECT i.addr, COALESCE(e.withdrawn,0) FROM fd_issuers i"
                             " LEFT JOIN fd_issuer_exits e ON e.addr=i.addr",
                             &q, err);
    if (rc) return rc;
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        gt_addr issuer;
        uint8_t id[32];
        int64_t have;
        if (sqlite3_column_bytes(q, 0) != 20) {
            rc = gt_err_set(err, GT_EINVAL, "invariant fund-issuer-bond: an issuer's address is not 20 bytes");
            break;
        }
        memcpy(issuer.b, sqlite3_column_blob(q, 0), 20);
        gt_fund_issuer_bond_id(&issuer, id);
        if ((rc = lock_amount(db, id, &have, err))) break;
        int withdrawn = sqlite3_column_int(q, 1);
        if (have < 0 || have > (int64_t)GT_FUND_ISSUER_MIN_STAKE || (withdrawn && have != 0)) {
            char a[43];
            rc = gt_err_set(err, GT_EINVAL, "invariant fund-issuer-bond: issuer %s's bond holds %lld%s",
                            gt_fund_addr(&issuer, a), (long long)have, withdrawn ? " after its withdrawal" : "");
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* fund-label-escrow for the seats of task (open: each bond lock holds bond; closed: 0). */
static int check_seat_bonds(sqlite3 *db, const uint8_t task[32], int open, int64_t bond, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT addr FROM fd_label_seats WHERE task=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        gt_addr who;
        uint8_t id[32];
        int64_t have;
        if (sqlite3_column_bytes(q, 0) != 20) {
            rc = gt_err_set(err, GT_EINVAL, "invariant fund-label-escrow: a seat's address is not 20 bytes");
            break;
        }
        memcpy(who.b, sqlite3_column_blob(q, 0), 20);
        gt_fund_label_bond_lock(task, &who, id);
        if ((rc = lock_amount(db, id, &have, err))) break;
        if (have != (open ? bond : 0)) {
            char h[19], a[43];
            rc = gt_err_set(err, GT_EINVAL,
                            "invariant fund-label-escrow: task %s…'s seat %s bonds %lld, expected %lld",
                            gt_fund_short(task, h), gt_fund_addr(&who, a), (long long)have,
                            (long long)(open ? bond : 0));
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* fund-label-escrow, task by task (seat bond lock ids are hashes). */
static int check_labels(sqlite3 *db, gt_err *err) {
    sqlite3_stmt *q;
    _Static_assert(GT_LABEL_OPEN == 0, "the check's SQL says status=0 for an open task");
    int rc = gt_fund_prepare(db,
                             "SELECT t.id, t.status=0, t.pay*t.n_items*t.k, t.bond, COALESCE(k.amount,0),"
                             " k.owner IS NULL OR k.owner=t.poster"
                             " FROM fd_label_tasks t LEFT JOIN locks k ON k.id=t.id",
                             &q, err);
    if (rc) return rc;
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        uint8_t task[32];
        if (sqlite3_column_bytes(q, 0) != 32) {
            rc = gt_err_set(err, GT_EINVAL, "invariant fund-label-escrow: a task's id is not 32 bytes");
            break;
        }
        memcpy(task, sqlite3_column_blob(q, 0), 32);
        int open = sqlite3_column_int(q, 1);
        int64_t want = open ? sqlite3_column_int64(q, 2) : 0, have = sqlite3_column_int64(q, 4);
        if (have != want || !sqlite3_column_int(q, 5)) {
            char h[19];
            rc = gt_err_set(err, GT_EINVAL,
                            "invariant fund-label-escrow: task %s…'s escrow holds %lld, expected %lld%s",
                            gt_fund_short(task, h), (long long)have, (long long)want,
                            sqlite3_column_int(q, 5) ? "" : " (not its poster's)");
            break;
        }
        rc = check_seat_bonds(db, task, open, sqlite3_column_int64(q, 3), err);
    }
    sqlite3_finalize(q);
    return rc;
}

int gt_fund_check(gt_tx *tx, gt_err *err) {
    assert(tx && tx->db);
    sqlite3 *db = tx->db;
    _Static_assert(GT_FUND_ROUND_OPEN == 0, "the checks' SQL says status=0 for an open round");
    int rc = none_of(db,
                     "SELECT r.id FROM fd_rounds r LEFT JOIN locks k ON k.id=r.id WHERE r.status=0 AND"
                     " (k.amount IS NULL OR k.amount!=r.pool OR k.owner!=r.creator) LIMIT 1",
                     "fund-round-escrow", err);
    if (!rc)
        rc = none_of(db,
                     "SELECT r.id FROM fd_rounds r JOIN locks k ON k.id=r.id WHERE r.status!=0 AND k.amount>0"
                     " LIMIT 1",
                     "fund-round-escrow", err);
    if (!rc)
        rc = none_of(db,
                     "SELECT r.id FROM fd_rounds r WHERE r.status!=0 AND (r.matched+r.remainder!=r.pool OR"
                     " r.matched!=(SELECT COALESCE(SUM(match),0) FROM fd_projects p WHERE p.round=r.id)) LIMIT 1",
                     "fund-round-books", err);
    if (!rc) rc = check_epochs(db, err);
    if (!rc) rc = check_epoch_funders(db, err);
    if (!rc) rc = check_bonds(db, err);
    return rc ? rc : check_labels(db, err);
}
