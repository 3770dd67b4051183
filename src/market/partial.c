/* partial.c: verdicts that accept part of a result, paid pro rata.
 *
 * Some work comes in units judged one by one: a batch of synthetic samples is
 * one task slot (bounty = reward x batch, stake = stake x batch), and the
 * validator accepts some samples and rejects others. task_verify_partial
 * carries that count:
 *
 *   task_verify_partial  task, slot, result, accepted, total, score, reason
 *
 * Rules. Only the poster (poster policy) or the named evaluator (evaluator
 * policy) may give one; a quorum votes yes or no on the whole result
 * (task_verify), since k voters' per-unit counts have no single honest merge.
 * total is exactly the units of the slot that the poster committed at post
 * time (task_post batchItems, lastBatchItems for the last slot; at most
 * GT_MARKET_MAX_UNITS and the slot's bounty and stake in base units, task.c);
 * a task posted without them takes no per-unit verdict; accepted <= total, and a reason blob
 * is required whenever a unit is rejected. With r = total - accepted:
 *   slash  = floor(stake  x r / total)          the rejected units' share of the stake
 *   paid   = floor(bounty x accepted / total)   the accepted units' share of the bounty
 * Rounding never takes from the party whose money it is: the stake's
 * remainder stays with the worker, the bounty's with the poster. All in
 * 128-bit intermediates, so no product overflows.
 *   accepted == total   the slot is ACCEPTED, exactly as task_verify accept;
 *   accepted == 0       exactly as task_verify reject (rejection bond =
 *                       stake, the slot reopens after settlement);
 *   otherwise           the slot is REJECTED with a rejection bond of `slash`
 *                       and the usual dispute window. Settled (task_settle,
 *                       after the window, or at once by the worker giving up
 *                       its dispute, or after a dispute the worker lost):
 *                       paid to the worker and bounty - paid back to the
 *                       poster from escrow; the fee to the evaluator (the
 *                       poster pays for a verdict that accepted work, as on
 *                       acceptance); slash to the poster and stake - slash
 *                       back to the worker; the rejection bond back to its
 *                       owner; the slot is PAID (final: the accepted units
 *                       are bought, the unpaid share was refunded, so a
 *                       data job posts a new task for the samples it still
 *                       wants, instead of leaving escrow behind for them).
 * A dispute of a partial verdict is the worker's claim that every unit was
 * good: won, the slot is paid in full as if accepted (the rejection bond goes
 * to the validators, dispute.c); lost or undecided, the partial settlement
 * above runs.
 * Reputation: the (worker, kind) row counts the slot as accepted only when
 * every unit was, otherwise as rejected, adds the slashed amount, and the
 * per-unit counters unitsAccepted / unitsRejected (table mk_rep_units) add
 * accepted and r (or total / 0 when a dispute was won).
 *
 * What each rule defends against:
 *  - A poster rejecting good units to keep them at a discount: the rejected
 *    share of the bounty goes back to it, but the rejection bond (what it
 *    took from the stake) is at risk in a dispute re-run by validators, and
 *    the samples it rejected are not in the dataset it paid for.
 *  - A worker padding a batch with junk among good samples: each bad sample
 *    costs its share of the stake, so junk never pays, even diluted.
 *  - A verdict stated over a made-up total (say total = 2 x batch to halve
 *    the pay): refused, the total must be the batch's size the poster
 *    committed at post time (the worker saw it before claiming).
 *  - Wash-traded reputation (a sybil poster and evaluator stating a huge
 *    total on a tiny slot): a slot's units are capped at post time by the
 *    base units it escrows, so reputation in units costs at least as much
 *    value locked.
 *  - Double counting: the verdict row is keyed by (task, slot, attempt) and
 *    bound to the result hash, like every verdict (verdict.c). */
#include <string.h>

#include "market/market_impl.h"

static const gt_field_def partial_fields[] = {
    {"task", GT_F_BYTES32, 0},
    {"slot", GT_F_U64, 0},
    {"result", GT_F_BYTES32, 0},
    {"accepted", GT_F_U64, 0},
    {"total", GT_F_U64, 0},
    {"score", GT_F_U64, 0},
    {"reason", GT_F_BYTES32, 0},
};
enum { PV_TASK, PV_SLOT, PV_RESULT, PV_ACCEPTED, PV_TOTAL, PV_SCORE, PV_REASON };

/* floor(v x num / den) without overflow; den > 0, num <= den, so the result <= v. */
static uint64_t share(uint64_t v, uint64_t num, uint64_t den) {
    assert(den > 0 && num <= den);
    return (uint64_t)((unsigned __int128)v * num / den);
}

int mk_partial_load(gt_tx *tx, const uint8_t task[32], uint64_t slot, uint64_t attempt, mk_partial *p, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT accepted,total FROM mk_partials WHERE task=? AND slot=? AND attempt=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    sqlite3_bind_int64(q, 3, (int64_t)attempt);
    rc = sqlite3_step(q);
    memset(p, 0, sizeof *p);
    if (rc == SQLITE_ROW) {
        memcpy(p->task, task, 32);
        p->slot = slot;
        p->attempt = attempt;
        p->accepted = (uint64_t)sqlite3_column_int64(q, 0);
        p->total = (uint64_t)sqlite3_column_int64(q, 1);
    }
    gt_tx_stmt_done(tx, q);
    if (rc == SQLITE_ROW) return 0;
    /* Absent is the common case, not an error: a message left in err would
     * outlive a call that succeeds (ledger verify printed it). */
    if (rc == SQLITE_DONE) return GT_ENOTFOUND;
    return gt_err_set(err, GT_EDB, "reading partial verdict: %s", sqlite3_errmsg(tx->db));
}

/* Inserts the verdict's row (one per attempt) and its record bytes. */
static int partial_store(mk_ctx *c, const mk_partial *p, gt_err *err) {
    assert(p->accepted <= p->total && p->total <= GT_MARKET_MAX_UNITS);
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx, "INSERT INTO mk_partials VALUES(?,?,?,?,?)", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, p->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)p->slot);
    sqlite3_bind_int64(q, 3, (int64_t)p->attempt);
    sqlite3_bind_int64(q, 4, (int64_t)p->accepted);
    sqlite3_bind_int64(q, 5, (int64_t)p->total);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(c->tx, q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing partial verdict: %s", sqlite3_errmsg(c->tx->db));
    c->changes++;
    if (mk_rec_tag(c, MK_REC_PARTIAL) || mk_rec_bytes(c, p->task, 32) || mk_rec_u64(c, p->slot) ||
        mk_rec_u64(c, p->attempt) || mk_rec_u64(c, p->accepted) || mk_rec_u64(c, p->total))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static const mk_counters unit_counters = {
    "mk_rep_units",
    "SELECT accepted, rejected FROM mk_rep_units WHERE addr=?1 AND skill=?2",
    "INSERT INTO mk_rep_units VALUES(?1,?2,?3,?4)",
    "UPDATE mk_rep_units SET accepted=?3, rejected=?4 WHERE addr=?1 AND skill=?2",
    2,
    "unit reputation",
};

int mk_rep_units_add(mk_ctx *c, const gt_addr *addr, const char *skill, uint64_t accepted, uint64_t rejected,
                     gt_err *err) {
    const uint64_t delta[2] = {accepted, rejected};
    uint64_t ar[2];
    mk_key2 key = {.k1 = addr->b, .k1_len = 20, .k2_text = skill};
    int rc = mk_counters_add(c, &unit_counters, &key, delta, ar, err);
    if (rc) return rc;
    c->changes++;
    if (mk_rec_tag(c, MK_REC_REP_UNITS) || mk_rec_bytes(c, addr->b, 20) || mk_rec_text(c, skill) ||
        mk_rec_u64(c, ar[0]) || mk_rec_u64(c, ar[1]))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

int mk_settle_partial(mk_ctx *c, mk_task *t, mk_slot *sl, const mk_partial *p, gt_err *err) {
    gt_tx *tx = c->tx;
    assert(p->accepted > 0 && p->accepted < p->total && t->policy != GT_POLICY_QUORUM);
    uint64_t rejected = p->total - p->accepted;
    uint64_t paid = share(t->bounty, p->accepted, p->total), slash = share(t->stake, rejected, p->total);
    uint8_t escrow[32], stake[32], rbond[32];
    gt_market_escrow_id(t->id, escrow);
    mk_lock_id(MK_TAG_STAKE, t->id, sl->slot, sl->attempt, stake);
    int rc;
    if ((paid && (rc = gt_state_release(tx, escrow, &sl->worker, paid, err))) ||
        (t->bounty > paid && (rc = gt_state_release(tx, escrow, &t->poster, t->bounty - paid, err))) ||
        (t->fee && (rc = gt_state_release(tx, escrow, &t->verifier, t->fee, err))) ||
        (slash && (rc = gt_state_slash(tx, stake, &t->poster, slash, err))) ||
        (t->stake > slash && (rc = gt_state_release(tx, stake, &sl->worker, t->stake - slash, err))))
        return rc;
    if (sl->rbond) {
        mk_lock_id(MK_TAG_RBOND, t->id, sl->slot, sl->attempt, rbond);
        if ((rc = gt_state_release(tx, rbond, &sl->verdict_by, sl->rbond, err))) return rc;
    }
    mk_rep_delta d = {.rejected = 1, .slashed = slash};
    if ((rc = mk_rep_add(c, &sl->worker, t->kind, &d, err)) ||
        (rc = mk_rep_units_add(c, &sl->worker, t->kind, p->accepted, rejected, err)) ||
        (paid && (rc = mk_rep_paid(c, &t->poster, &sl->worker, paid, err))))
        return rc;
    sl->state = GT_SLOT_PAID;
    sl->deadline = sl->deadline_s = 0;
    if ((rc = mk_slot_store(c, sl, 0, err)) || (rc = mk_slot_paid_store(c, sl, err))) return rc;
    return mk_task_maybe_complete(c, t, err);
}

/* task_verify_partial: the checks every verdict needs (mk_verdict_load), the
 * policy and the counts, then the slot's new state and the verdict's row. */
MK_APPLY(apply_verify_partial)
static int apply_verify_partial_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    mk_task t;
    mk_slot sl;
    int rc = mk_verdict_load(tx, a->f[PV_TASK].b32, a->f[PV_SLOT].u64, a->f[PV_RESULT].b32, a->f[PV_SCORE].u64, &t, &sl,
                             err);
    if (rc) return rc;
    char h[19], s[43], u[32];
    uint64_t acc = a->f[PV_ACCEPTED].u64, total = a->f[PV_TOTAL].u64;
    if (t.policy == GT_POLICY_QUORUM)
        return gt_err_set(err, GT_EINVAL,
                          "task %s… is verified by a quorum, which votes on whole results: use task_verify",
                          mk_short(t.id, h));
    const gt_addr *who = t.policy == GT_POLICY_POSTER ? &t.poster : &t.verifier;
    if (!gt_addr_eq(&a->from, who))
        return gt_err_set(err, GT_EPERM, "only the %s %s may verify task %s…", gt_policy_name(t.policy), mk_addr(who, s),
                          mk_short(t.id, h));
    /* The total is the batch's real size, committed by the poster at post
     * time (batchItems, lastBatchItems; bounded there to GT_MARKET_MAX_UNITS
     * and one base unit of bounty and stake a unit): a verifier cannot state
     * a made-up total (twice the batch, to halve the pay; or 1,000,000 units
     * on a tiny slot, to wash-trade reputation in units). */
    uint64_t units = mk_slot_units(&t, sl.slot);
    if (!units)
        return gt_err_set(err, GT_EINVAL,
                          "task %s… was posted without batchItems, so it takes no per-unit verdict: use task_verify",
                          mk_short(t.id, h));
    if (total != units)
        return gt_err_set(err, GT_EINVAL,
                          "total must be the %llu units slot %llu holds (batchItems of the task), got %llu",
                          (unsigned long long)units, (unsigned long long)sl.slot, (unsigned long long)total);
    assert(total >= 1 && total <= GT_MARKET_MAX_UNITS);
    if (acc > total)
        return gt_err_set(err, GT_EINVAL, "accepted (%llu) is more than total (%llu)", (unsigned long long)acc,
                          (unsigned long long)total);
    if (acc < total && mk_is_zero32(a->f[PV_REASON].b32))
        return gt_err_set(err, GT_EINVAL, "reason: rejecting %llu of %llu units needs the sha256 of a reason blob",
                          (unsigned long long)(total - acc), (unsigned long long)total);
    mk_partial p = {.slot = sl.slot, .attempt = sl.attempt, .accepted = acc, .total = total};
    memcpy(p.task, t.id, 32);
    sl.accept = acc == total;
    sl.score = a->f[PV_SCORE].u64;
    memcpy(sl.reason, a->f[PV_REASON].b32, 32);
    sl.verdict_by = a->from;
    if (acc == total) {
        sl.state = GT_SLOT_ACCEPTED;
        sl.deadline = sl.deadline_s = 0;
    } else {
        uint64_t bond = share(t.stake, total - acc, total);
        uint8_t lock[32];
        mk_lock_id(MK_TAG_RBOND, t.id, sl.slot, sl.attempt, lock);
        if (bond && (rc = gt_state_lock(tx, &a->from, lock, bond, err)))
            return gt_err_wrap(err, "rejecting %llu of %llu units locks a bond of %s (their share of the stake)",
                               (unsigned long long)(total - acc), (unsigned long long)total, mk_units(bond, u));
        sl.rbond = bond;
        sl.state = GT_SLOT_REJECTED;
        mk_deadline_set(tx, tx->windows.dispute_s, 1, &sl.deadline, &sl.deadline_s);
    }
    if ((rc = partial_store(c, &p, err))) return rc;
    return mk_slot_store(c, &sl, 0, err);
}

gt_action_kind gt_kind_task_verify_partial = {"task_verify_partial", "TaskVerifyPartial", partial_fields, 7,
                                              apply_verify_partial, 1, {0}, {0}, 0};
