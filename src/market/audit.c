/* audit.c: the audit of the market's books against the ledger (gt_market_audit,
 * mk_audit): every stake, bond and escrow lock of every task's every attempt
 * holds exactly what the task's and slot's state say it should, and the
 * locked totals agree with the accounts. Read-only: it runs on a connection
 * beside the writer, and after each block as the market-books invariant. */
#include <string.h>

#include "market/market_impl.h"

/* Expects the lock id to hold exactly want; marks it seen. */
static int audit_lock(sqlite3 *db, const uint8_t id[32], uint64_t want, const char *what, const mk_task *t,
                      uint64_t slot, uint64_t *seen_total, gt_err *err) {
    uint64_t have;
    int rc = mk_lock_amount(db, id, &have, err);
    if (rc) return rc;
    *seen_total += have;
    if (have != want) {
        char h[19], u1[32], u2[32];
        return gt_err_set(err, GT_EINVAL, "market books: %s of task %s… slot %llu holds %s, expected %s", what,
                          mk_short(t->id, h), (unsigned long long)slot, mk_units(have, u1), mk_units(want, u2));
    }
    return 0;
}

/* Every judge bond of a round holds its bond while the round is open, else nothing. */
typedef struct judge_audit {
    gt_tx *tx;
    const mk_slot *sl;
    const mk_task *t;
    int round, open;
    uint64_t *seen;
    gt_err *err;
    int rc;
} judge_audit;
static int audit_judge_one(void *arg, const gt_addr *voter, int accept, uint64_t weight) {
    judge_audit *j = arg;
    (void)accept;
    uint8_t id[32];
    mk_judge_lock_id(j->sl, j->round, voter, id);
    uint64_t w = 0, stake = 0;
    if (j->open && mk_panel_member(j->tx, j->sl, j->round, voter, &w, &stake, j->err)) {
        char s[43];
        j->rc = gt_err_set(j->err, GT_EINVAL, "market books: voter %s is not on the panel it voted on", mk_addr(voter, s));
        return 1;
    }
    (void)weight;
    j->rc = audit_lock(j->tx->db, id, j->open ? mk_judge_bond_amount(w, stake) : 0, "a judge's bond", j->t, j->sl->slot,
                       j->seen, j->err);
    return j->rc ? 1 : 0;
}
static int audit_judges(gt_tx *tx, const mk_slot *sl, int round, int open, const mk_task *t, uint64_t *seen,
                        gt_err *err) {
    judge_audit j = {tx, sl, t, round, open, seen, err, 0};
    int rc = mk_votes_each(tx, sl->task, sl->slot, sl->attempt, round, audit_judge_one, &j, err);
    return rc ? rc : j.rc;
}

/* Every unrevealed commitment's bond (its vote is not counted above) holds
 * the judge bond while its round is open, else nothing. */
static int audit_sealed(gt_tx *tx, const mk_slot *sl, int round, int open, const mk_task *t, uint64_t *seen,
                        gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT voter FROM mk_commits WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4 "
                            "AND revealed=0", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        gt_addr v;
        uint64_t w = 0, stake = 0;
        uint8_t id[32];
        if ((rc = gt_row_blob(q, 0, v.b, 20, "mk_commits", err))) break;
        if (open && mk_panel_member(tx, sl, round, &v, &w, &stake, err)) {
            char s[43];
            rc = gt_err_set(err, GT_EINVAL, "market books: committer %s is not on the panel", mk_addr(&v, s));
            break;
        }
        mk_judge_lock_id(sl, round, &v, id);
        rc = audit_lock(tx->db, id, open ? mk_judge_bond_amount(w, stake) : 0, "a sealed judge's bond", t, sl->slot,
                        seen, err);
    }
    gt_tx_stmt_done(tx, q);
    return rc;
}

int gt_market_audit(sqlite3 *db, uint64_t *locked_units, gt_err *err) { return mk_audit(db, 0, locked_units, err); }

int mk_audit(sqlite3 *db, int live_only, uint64_t *locked_units, gt_err *err) {
    sqlite3_stmt *q;
    _Static_assert(GT_TASK_OPEN == 0 && GT_TASK_EXPIRED == 1, "the live tasks' SQL names their states by number");
    int rc = mk_prepare(db, live_only ? "SELECT id FROM mk_tasks WHERE status IN (0, 1) ORDER BY id"
                                      : "SELECT id FROM mk_tasks ORDER BY id", &q, err);
    if (rc) return rc;
    gt_tx tx = mk_read_tx(db);
    uint64_t market_locked = 0;
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        mk_task t;
        uint8_t tid[32];
        if ((rc = gt_row_blob(q, 0, tid, 32, "mk_tasks", err)) || (rc = mk_task_load(&tx, tid, &t, err))) break;
        uint64_t unfinished = 0;
        for (uint64_t i = 0; !rc && i < t.slots; i++) {
            mk_slot sl;
            if ((rc = mk_slot_load(&tx, t.id, i, &sl, err))) break;
            if (sl.state != GT_SLOT_PAID && sl.state != GT_SLOT_REFUNDED) unfinished++;
            /* Every attempt's locks: the current one holds what its state says,
             * earlier ones hold nothing. */
            for (uint64_t at = 0; !rc && at <= sl.attempt; at++) {
                int cur = at == sl.attempt;
                int staked = cur && sl.state >= GT_SLOT_CLAIMED && sl.state <= GT_SLOT_DISPUTED;
                int rbonded = cur && (sl.state == GT_SLOT_REJECTED || sl.state == GT_SLOT_DISPUTED);
                int dbonded = cur && sl.state == GT_SLOT_DISPUTED;
                uint8_t id[32];
                mk_lock_id(MK_TAG_STAKE, t.id, i, at, id);
                rc = audit_lock(db, id, staked ? t.stake : 0, "the worker's stake", &t, i, &market_locked, err);
                mk_lock_id(MK_TAG_RBOND, t.id, i, at, id);
                if (!rc) rc = audit_lock(db, id, rbonded ? sl.rbond : 0, "the rejection bond", &t, i, &market_locked, err);
                mk_lock_id(MK_TAG_DBOND, t.id, i, at, id);
                if (!rc) rc = audit_lock(db, id, dbonded ? t.stake : 0, "the dispute bond", &t, i, &market_locked, err);
                /* Judge bonds are locked while their round is open. */
                mk_slot at_sl = sl;
                at_sl.attempt = at;
                int open_v = cur && sl.state == GT_SLOT_SUBMITTED, open_d = dbonded;
                if (!rc) rc = audit_judges(&tx, &at_sl, MK_ROUND_VERIFY, open_v, &t, &market_locked, err);
                if (!rc) rc = audit_judges(&tx, &at_sl, MK_ROUND_DISPUTE, open_d, &t, &market_locked, err);
                if (!rc) rc = audit_sealed(&tx, &at_sl, MK_ROUND_VERIFY, open_v, &t, &market_locked, err);
                if (!rc) rc = audit_sealed(&tx, &at_sl, MK_ROUND_DISPUTE, open_d, &t, &market_locked, err);
            }
        }
        if (rc) break;
        uint8_t escrow[32];
        gt_market_escrow_id(t.id, escrow);
        rc = audit_lock(db, escrow, unfinished * (t.bounty + t.fee), "the escrow", &t, 0, &market_locked, err);
        if (!rc && unfinished == 0 && t.status != GT_TASK_COMPLETE && t.status != GT_TASK_CANCELLED) {
            char h[19];
            rc = gt_err_set(err, GT_EINVAL, "market books: task %s… has no unfinished slot but is %s", mk_short(t.id, h),
                            gt_task_status_name(t.status));
        }
    }
    sqlite3_finalize(q);
    if (rc) return rc;
    /* The ledger's buckets agree with its locks, and the market's locks are
     * among them (other modules may hold locks of their own). */
    uint64_t locked_total = 0, lock_rows = 0;
    if ((rc = mk_prepare(db, "SELECT coalesce(sum(locked),0) FROM accounts", &q, err))) return rc;
    if (sqlite3_step(q) == SQLITE_ROW) locked_total = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if ((rc = mk_prepare(db, "SELECT coalesce(sum(amount),0) FROM locks", &q, err))) return rc;
    if (sqlite3_step(q) == SQLITE_ROW) lock_rows = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    char u1[32], u2[32], u3[32];
    if (locked_units) *locked_units = market_locked;
    if (locked_total != lock_rows || market_locked > lock_rows)
        return gt_err_set(err, GT_EINVAL, "market books: accounts have %s locked, locks hold %s, the market accounts for %s",
                          mk_units(locked_total, u1), mk_units(lock_rows, u2), mk_units(market_locked, u3));
    return 0;
}
