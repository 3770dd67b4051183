/* dispute.c: appeals of a rejection, decided by staked validators who re-run
 * the task.
 *
 * Flow. The poster (or the evaluator) rejects a result: it locks a rejection
 * bond equal to the task's stake (verdict.c). Within
 * the network's dispute window (tx->windows.dispute_s) the worker may dispute (task_dispute),
 * locking a dispute bond of the same size; the dispute's panel of staked
 * validators is fixed then (panel.c). For the vote window (tx->windows.vote_s) the
 * panel's members re-run the task from its spec (inference is deterministic,
 * so honest re-runs agree byte for byte with an honest result) and vote
 * (dispute_vote): accept means "my re-run reproduces this result". A vote
 * weighs the member's panel weight (its stake when the dispute opened) and
 * bonds GT_MARKET_JUDGE_SLASH_PCT of it. The vote closes at its deadline, or
 * early once one side holds more than two thirds of the panel's weight or the
 * whole panel has voted (mk_panel_decided); never on a number of voters. Judges on the losing side lose their bonds to the winners.
 *   accept weight > reject weight: the worker wins. It is paid as if accepted
 *     (bounty, stake back, its bond back); the rejecter's bond is shared among
 *     the accepting validators by weight (the rounding remainder to the
 *     worker); an evaluator who rejected wrongly forfeits its fee (refunded to
 *     the poster).
 *   reject weight > accept weight: the rejection stands. The worker's bond is
 *     shared among the rejecting validators (remainder to the poster), then
 *     the rejection settles as usual (stake pays the fee and the poster, the
 *     rejecter's bond comes back, the slot reopens).
 *   tie, or nobody voted: the rejection stands; nobody's bond is taken
 *     (there is nobody to pay), the worker's bond comes back.
 * Quorum verdicts cannot be disputed: they already are the decision of k
 * staked validators, and a second panel of the same kind adds only delay.
 *
 * What each rule defends against:
 *  - A poster rejecting good work to keep it for free: the worker disputes;
 *    honest re-runs reproduce the result; the poster pays the bounty anyway
 *    and loses its rejection bond. Rejecting honestly costs nothing.
 *  - A worker disputing to stall or to extort: the dispute bond is lost to the
 *    validators when re-runs do not reproduce its result, on top of its stake.
 *  - Sybil validators: votes weigh stake, not addresses, so splitting one
 *    stake over many addresses gains nothing; five (or any number of) small
 *    addresses close nothing unless they hold more than two thirds of the
 *    panel's stake; every member needs at least GT_MARKET_VALIDATOR_MIN_STAKE staked;
 *    the poster, worker and evaluator are left off the panel; one vote per
 *    address per dispute.
 *  - Stake bought or moved in for one dispute: the panel and its weights are
 *    fixed when the dispute opens; a member that unstaked cannot bond its vote.
 *  - Colluding validators: they must outweigh the honest stake that votes;
 *    judges on the losing side lose their bonds, and every vote is public and
 *    signed, so a colluding validator's record is there for all to judge.
 *    A judge that re-runs nothing and copies a diligent one's vote: votes may
 *    be sealed (commit.c): commit, then reveal after the commit window.
 *  - A vote signed for one dispute landing on another: every vote and the
 *    dispute itself name the exact result hash they judge. */
#include <string.h>

#include "market/market_impl.h"

static const gt_field_def dispute_fields[] = {
    {"task", GT_F_BYTES32, 0},
    {"slot", GT_F_U64, 0},
    {"result", GT_F_BYTES32, 0},
};
static const gt_field_def vote_fields[] = {
    {"task", GT_F_BYTES32, 0},
    {"slot", GT_F_U64, 0},
    {"result", GT_F_BYTES32, 0},
    {"accept", GT_F_BOOL, 0},
};

MK_APPLY(apply_dispute)
static int apply_dispute_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    mk_task t;
    mk_slot sl;
    int rc = mk_task_load(tx, a->f[0].b32, &t, err);
    if (rc || (rc = mk_slot_load(tx, t.id, a->f[1].u64, &sl, err))) return rc;
    char h[19], s[43], u[32];
    if (sl.state != GT_SLOT_REJECTED)
        return gt_err_set(err, GT_ESTATE, "slot %llu of task %s… is %s; only a rejected result can be disputed",
                          (unsigned long long)sl.slot, mk_short(t.id, h), gt_slot_state_name(sl.state));
    if (!gt_addr_eq(&a->from, &sl.worker))
        return gt_err_set(err, GT_EPERM, "only the worker %s may dispute this rejection", mk_addr(&sl.worker, s));
    if (t.policy == GT_POLICY_QUORUM)
        return gt_err_set(err, GT_ESTATE, "a quorum verdict is final: it was decided by %llu staked validators",
                          (unsigned long long)t.quorum);
    if (mk_past(tx, sl.deadline, sl.deadline_s))
        return gt_err_set(err, GT_ESTATE, "the dispute window closed at block time %llu",
                          (unsigned long long)sl.deadline_s);
    if (memcmp(a->f[2].b32, sl.result, 32))
        return gt_err_set(err, GT_ESTATE, "result does not match the one rejected in slot %llu", (unsigned long long)sl.slot);
    uint8_t lock[32];
    mk_lock_id(MK_TAG_DBOND, t.id, sl.slot, sl.attempt, lock);
    if ((rc = gt_state_lock(tx, &a->from, lock, t.stake, err)))
        return gt_err_wrap(err, "a dispute locks a bond of %s (the task's stake)", mk_units(t.stake, u));
    mk_dispute d;
    memset(&d, 0, sizeof d);
    memcpy(d.task, t.id, 32);
    d.slot = sl.slot;
    d.attempt = sl.attempt;
    d.worker = sl.worker;
    d.bond = t.stake;
    d.opened_height = tx->height;
    d.outcome = MK_DISPUTE_OPEN;
    sl.state = GT_SLOT_DISPUTED;
    /* The panel votes in this window: it outlasts the panel's draw. */
    mk_deadline_set(tx, tx->windows.vote_s, MK_JUDGE_MIN_BLOCKS, &sl.deadline, &sl.deadline_s);
    d.deadline = sl.deadline_s; /* the vote's close, in block time */
    if ((rc = mk_panel_open(c, &t, &sl, MK_ROUND_DISPUTE, GT_MARKET_VALIDATOR_MIN_STAKE, err)) ||
        (rc = mk_dispute_store(c, &d, 1, err)))
        return rc;
    return mk_slot_store(c, &sl, 0, err);
}

MK_APPLY(apply_vote)
static int apply_vote_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    mk_task t;
    mk_slot sl;
    mk_dispute d;
    int rc = mk_task_load(tx, a->f[0].b32, &t, err);
    if (rc || (rc = mk_slot_load(tx, t.id, a->f[1].u64, &sl, err))) return rc;
    char h[19], s[43], u1[32];
    if (sl.state != GT_SLOT_DISPUTED)
        return gt_err_set(err, GT_ESTATE, "slot %llu of task %s… is %s, not under dispute", (unsigned long long)sl.slot,
                          mk_short(t.id, h), gt_slot_state_name(sl.state));
    if (mk_past(tx, sl.deadline, sl.deadline_s))
        return gt_err_set(err, GT_ESTATE, "the dispute vote closed at block time %llu",
                          (unsigned long long)sl.deadline_s);
    if (memcmp(a->f[2].b32, sl.result, 32))
        return gt_err_set(err, GT_ESTATE, "result does not match the one under dispute in slot %llu", (unsigned long long)sl.slot);
    if (gt_addr_eq(&a->from, &t.poster) || gt_addr_eq(&a->from, &sl.worker) || gt_addr_eq(&a->from, &sl.verdict_by))
        return gt_err_set(err, GT_EPERM, "%s is a party to this dispute and cannot vote on it", mk_addr(&a->from, s));
    uint64_t w = 0, stake = 0, total = 0, at = mk_panel_draw_height(tx, &sl, MK_ROUND_DISPUTE);
    if (at)
        return gt_err_set(err, GT_ESTATE,
                          "this dispute's panel is drawn at the start of block %llu (from the hash of the block "
                          "before, unknown when the dispute opened); only its members may vote, after that",
                          (unsigned long long)at);
    rc = mk_panel_member(tx, &sl, MK_ROUND_DISPUTE, &a->from, &w, &stake, err);
    if (rc == GT_ENOTFOUND)
        return gt_err_set(err, GT_EPERM,
                          "%s is not on this dispute's panel: only validators seated from those that had at least %s "
                          "staked when it opened may vote on it",
                          mk_addr(&a->from, s), mk_units(GT_MARKET_VALIDATOR_MIN_STAKE, u1));
    if (rc || (rc = mk_dispute_load(tx, t.id, sl.slot, sl.attempt, &d, err))) return rc;
    uint64_t sealed = 0;
    if ((rc = mk_commits_count(tx, &sl, MK_ROUND_DISPUTE, 0, &sealed, err))) return rc;
    if (sealed)
        return gt_err_set(err, GT_ESTATE, "this dispute's votes are sealed (a vote_commit landed): commit with "
                          "vote_commit before block time %llu, then reveal with vote_reveal",
                          (unsigned long long)d.deadline);
    if (mk_round_sealed_only(tx, &t))
        return gt_err_set(err, GT_ESTATE, "this dispute's votes are sealed (an eval task's are, from ledger format "
                          "11): commit with vote_commit before block time %llu, then reveal with eval_reveal "
                          "(or vote_reveal)", (unsigned long long)d.deadline);
    int accept = (int)a->f[3].u64;
    if ((rc = mk_vote_insert(c, t.id, sl.slot, sl.attempt, MK_ROUND_DISPUTE, &a->from, accept, w, err)) ||
        (rc = mk_judge_bond(c, &sl, MK_ROUND_DISPUTE, &a->from, w, stake, err)))
        return rc;
    /* Weights are stakes: their sum is bounded by the supply (< 2^63). */
    if (accept) d.accept_weight += w; else d.reject_weight += w;
    d.voters++;
    if ((rc = mk_dispute_store(c, &d, 0, err)) || (rc = mk_panel_weight(tx, &sl, MK_ROUND_DISPUTE, NULL, &total, err)))
        return rc;
    /* Closes before the deadline only on stake (panel.c). */
    if (mk_panel_decided(total, d.accept_weight, d.reject_weight) != -1) return mk_dispute_resolve(c, &t, &sl, err);
    return 0;
}

int mk_dispute_resolve(mk_ctx *c, mk_task *t, mk_slot *sl, gt_err *err) {
    gt_tx *tx = c->tx;
    assert(sl->state == GT_SLOT_DISPUTED && sl->slot < t->slots);
    mk_dispute d;
    int rc = mk_dispute_load(tx, t->id, sl->slot, sl->attempt, &d, err);
    if (rc) return rc;
    assert(sl->state == GT_SLOT_DISPUTED && d.outcome == MK_DISPUTE_OPEN);
    uint8_t dbond[32], rbond[32];
    mk_lock_id(MK_TAG_DBOND, t->id, sl->slot, sl->attempt, dbond);
    mk_lock_id(MK_TAG_RBOND, t->id, sl->slot, sl->attempt, rbond);
    gt_addr rejecter = sl->verdict_by;
    /* Unrevealed commitments first: absent, their bonds paid like losing votes'. */
    int side = d.accept_weight > d.reject_weight ? 1 : d.reject_weight > d.accept_weight ? 0 : -1;
    if ((rc = mk_commits_settle(c, sl, MK_ROUND_DISPUTE, side, side == 1 ? &sl->worker : &t->poster, err))) return rc;
    if (d.accept_weight > d.reject_weight) {
        d.outcome = MK_DISPUTE_WORKER_WON;
        mk_rep_delta w = {.disputes_won = 1}, r = {.disputes_lost = 1, .slashed = sl->rbond};
        if ((rc = mk_pay_voters(c, sl, MK_ROUND_DISPUTE, 1, rbond, sl->rbond, d.accept_weight, &sl->worker, err)) ||
            (rc = gt_state_release(tx, dbond, &sl->worker, d.bond, err)) ||
            (rc = mk_rep_add(c, &sl->worker, t->kind, &w, err)) || (rc = mk_rep_add(c, &rejecter, t->kind, &r, err)))
            return rc;
        if ((rc = mk_judges_settle(c, sl, MK_ROUND_DISPUTE, 1, &sl->worker, err))) return rc;
        sl->rbond = 0;
        sl->accept = 1;
        if ((rc = mk_dispute_store(c, &d, 0, err))) return rc;
        return mk_pay_accepted(c, t, sl, t->policy == GT_POLICY_EVALUATOR, err);
    }
    if (d.reject_weight > d.accept_weight) {
        d.outcome = MK_DISPUTE_WORKER_LOST;
        mk_rep_delta w = {.disputes_lost = 1, .slashed = d.bond}, r = {.disputes_won = 1};
        if ((rc = mk_pay_voters(c, sl, MK_ROUND_DISPUTE, 0, dbond, d.bond, d.reject_weight, &t->poster, err)) ||
            (rc = mk_rep_add(c, &sl->worker, t->kind, &w, err)) || (rc = mk_rep_add(c, &rejecter, t->kind, &r, err)) ||
            (rc = mk_judges_settle(c, sl, MK_ROUND_DISPUTE, 0, &t->poster, err)))
            return rc;
    } else {
        d.outcome = MK_DISPUTE_NO_DECISION;
        if ((rc = gt_state_release(tx, dbond, &sl->worker, d.bond, err)) ||
            (rc = mk_judges_settle(c, sl, MK_ROUND_DISPUTE, -1, &t->poster, err)))
            return rc;
    }
    if ((rc = mk_dispute_store(c, &d, 0, err))) return rc;
    return mk_settle_rejected(c, t, sl, err);
}

gt_action_kind gt_kind_task_dispute = {"task_dispute", "TaskDispute", dispute_fields, 3, apply_dispute, 1, {0}, {0}, 0};
gt_action_kind gt_kind_dispute_vote = {"dispute_vote", "DisputeVote", vote_fields, 4, apply_vote, 1, {0}, {0}, 0};
