/* verdict.c: verification, settlement and timeouts.
 *
 * Verification policies (fixed at post time, market.h):
 *   poster     the poster gives the verdict;
 *   evaluator  a named address gives it and earns `fee` per verdict;
 *   quorum     the panel of staked validators fixed at submission votes by
 *              stake (panel.c); a side decides once it holds more than two
 *              thirds of the panel's weight (or the most, once the whole panel
 *              voted) and at least `quorum` voters; `fee` is shared by the
 *              deciding voters by weight, the losing voters' bonds too.
 * A verdict is bound to the exact result hash it judges, so a verdict signed
 * for one attempt can never land on another after the slot reopened.
 *
 * Settlement (task_settle, anyone may send it; the money goes where the rules
 * say whoever pays for the transaction):
 *   accepted   bounty and stake to the worker, fee to the evaluator / voters;
 *   rejected   the fee comes out of the worker's stake to the evaluator /
 *              voters, the rest of the stake goes to the poster, the rejection
 *              bond goes back to whoever rejected, and the slot reopens (or is
 *              refunded when the task no longer takes claims). A rejection by
 *              the poster or an evaluator can be disputed (dispute.c) for
 *              the network's dispute window; it settles only after that,
 *              unless the worker settles it itself, giving up the dispute.
 *
 * Timeouts, at the start of the first block whose time is at or past the
 * deadline (windows are seconds of block time, task.c):
 *   no submission by the submit deadline   stake to the poster, slot reopens
 *   no verdict by the verify deadline      nobody is paid: the stake goes back
 *                                          to the worker, bounty and fee to the
 *                                          poster, the slot is refunded (final)
 *   claims closed (expiry)                 open slots refunded to the poster
 *   dispute vote deadline                  the dispute is resolved
 *
 * What each rule defends against:
 *  - A poster who would reject good work to keep it for free: a reject verdict
 *    locks a rejection bond equal to the task's stake from the rejecter, lost
 *    to the validators if the worker disputes and wins; and the work is never
 *    kept for free anyway: the bounty stays in escrow until a verdict settles.
 *  - A verifier who never answers (or a result nobody could check): no pay
 *    without a verdict; the worker keeps its stake, the poster its bounty.
 *  - A worker who submits garbage: rejected, its stake pays the evaluation and
 *    compensates the poster; disputing costs a bond it loses when validators
 *    re-run the task and disagree.
 *  - Sybil quorum voters: votes weigh stake and the decision is a share of
 *    the panel's stake, so k addresses holding one stake decide nothing the
 *    stake alone could not; panel members need at least the task's stake
 *    (and GT_MARKET_VALIDATOR_MIN_STAKE) staked; the poster and worker are
 *    left off the panel.
 *  - Settling twice: a settled slot is PAID (final) or reopened with a new
 *    attempt number, and settlement requires a verdict on the current attempt.
 * Verdicts on part of a result (task_verify_partial) and their pro rata
 * settlement are in partial.c; settlement here hands over to it. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/vec.h"
#include "market/market_impl.h"

static const gt_field_def verify_fields[] = {
    {"task", GT_F_BYTES32, 0},
    {"slot", GT_F_U64, 0},
    {"result", GT_F_BYTES32, 0},
    {"accept", GT_F_BOOL, 0},
    {"score", GT_F_U64, 0},
    {"reason", GT_F_BYTES32, 0},
};
enum { V_TASK, V_SLOT, V_RESULT, V_ACCEPT, V_SCORE, V_REASON };
static const gt_field_def settle_fields[] = {{"task", GT_F_BYTES32, 0}, {"slot", GT_F_U64, 0}};

/* ---- payment steps ---- */

/* Shares `amount` from lock among the voters of a round who voted `side`, in
 * vote order, proportionally to weight (the quorum round weighs 1 each); the
 * remainder goes to `rest_to`. */
typedef struct share_arg {
    gt_tx *tx;
    const uint8_t *lock;
    int side;
    uint64_t amount, total_weight, paid;
    gt_err *err;
} share_arg;

static int share_one(void *arg, const gt_addr *voter, int accept, uint64_t weight) {
    share_arg *s = arg;
    if (accept != s->side) return 0;
    uint64_t part = (uint64_t)((unsigned __int128)s->amount * weight / s->total_weight);
    if (part && gt_state_slash(s->tx, s->lock, voter, part, s->err)) return s->err ? s->err->code : GT_EDB;
    s->paid += part;
    return 0;
}

int mk_pay_voters(mk_ctx *c, const mk_slot *sl, int round, int side, const uint8_t lock[32], uint64_t amount,
                  uint64_t total_weight, const gt_addr *rest_to, gt_err *err) {
    assert(round == MK_ROUND_VERIFY || round == MK_ROUND_DISPUTE);
    assert(side == 0 || side == 1);
    if (!amount) return 0;
    share_arg s = {c->tx, lock, side, amount, total_weight, 0, err};
    int rc = 0;
    if (total_weight) rc = mk_votes_each(c->tx, sl->task, sl->slot, sl->attempt, round, share_one, &s, err);
    if (rc) return rc;
    assert(s.paid <= amount);
    if (amount > s.paid) return gt_state_slash(c->tx, lock, rest_to, amount - s.paid, err);
    return 0;
}

/* The fee of a quorum task to the voters of the deciding side, by weight. */
static int pay_quorum_fee(mk_ctx *c, const mk_slot *sl, int side, const uint8_t lock[32], uint64_t fee,
                          const gt_addr *rest_to, gt_err *err) {
    uint64_t w = 0, n = 0;
    int rc = mk_votes_side(c->tx, sl, MK_ROUND_VERIFY, side, &w, &n, err);
    return rc ? rc : mk_pay_voters(c, sl, MK_ROUND_VERIFY, side, lock, fee, w, rest_to, err);
}

/* Judge bonds of a quorum round that never decided go back to their stake,
 * unrevealed commitments' too. */
static int release_undecided(mk_ctx *c, const mk_task *t, const mk_slot *sl, gt_err *err) {
    if (t->policy != GT_POLICY_QUORUM) return 0;
    int rc = mk_commits_settle(c, sl, MK_ROUND_VERIFY, -1, &t->poster, err);
    return rc ? rc : mk_judges_settle(c, sl, MK_ROUND_VERIFY, -1, &t->poster, err);
}

int mk_task_maybe_complete(mk_ctx *c, mk_task *t, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx, "SELECT count(*) FROM mk_slots WHERE task=? AND state NOT IN (6,7)", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, t->id, 32, SQLITE_STATIC);
    int n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
    gt_tx_stmt_done(c->tx, q);
    if (n < 0) return gt_err_set(err, GT_EDB, "reading slots: %s", sqlite3_errmsg(c->tx->db));
    if (n == 0 && t->status != GT_TASK_CANCELLED && t->status != GT_TASK_COMPLETE) {
        t->status = GT_TASK_COMPLETE;
        return mk_task_store(c, t, 0, err);
    }
    return 0;
}

/* Writes (task, slot, block time) to mk_slot_paid from format 15 (market_impl.h says why). */
int mk_slot_paid_store(mk_ctx *c, const mk_slot *sl, gt_err *err) {
    gt_tx *tx = c->tx;
    if (tx->height < tx->format15_height) return 0;
    assert(sl->state == GT_SLOT_PAID && tx->time_s <= (uint64_t)INT64_MAX);
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "INSERT INTO mk_slot_paid VALUES(?,?,?)", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)tx->time_s);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(tx, q);
    if (rc != SQLITE_DONE)
        return gt_err_set(err, GT_EDB, "writing the slot's payment time: %s", sqlite3_errmsg(tx->db));
    c->changes++;
    if (mk_rec_tag(c, MK_REC_PAID) || mk_rec_bytes(c, sl->task, 32) || mk_rec_u64(c, sl->slot) ||
        mk_rec_u64(c, tx->time_s))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

int mk_pay_accepted(mk_ctx *c, const mk_task *t, mk_slot *sl, int fee_to_poster, gt_err *err) {
    gt_tx *tx = c->tx;
    assert(sl->slot < t->slots && !memcmp(sl->task, t->id, 32));
    uint8_t escrow[32], stake[32];
    gt_market_escrow_id(t->id, escrow);
    mk_lock_id(MK_TAG_STAKE, t->id, sl->slot, sl->attempt, stake);
    int rc;
    if ((rc = release_undecided(c, t, sl, err)) || (rc = gt_state_release(tx, escrow, &sl->worker, t->bounty, err)) ||
        (rc = gt_state_release(tx, stake, &sl->worker, t->stake, err)))
        return rc;
    if (t->fee) {
        if (fee_to_poster || t->policy == GT_POLICY_POSTER) rc = gt_state_release(tx, escrow, &t->poster, t->fee, err);
        else if (t->policy == GT_POLICY_EVALUATOR) rc = gt_state_release(tx, escrow, &t->verifier, t->fee, err);
        else rc = pay_quorum_fee(c, sl, 1, escrow, t->fee, &t->poster, err);
        if (rc) return rc;
    }
    mk_rep_delta d = {.accepted = 1};
    if ((rc = mk_rep_add(c, &sl->worker, t->kind, &d, err)) ||
        (rc = mk_rep_paid(c, &t->poster, &sl->worker, t->bounty, err)))
        return rc;
    /* Paid in full after a per-unit verdict (all accepted, or a dispute won):
     * every unit counts as accepted (partial.c). */
    mk_partial p;
    rc = mk_partial_load(tx, t->id, sl->slot, sl->attempt, &p, err);
    if (rc && rc != GT_ENOTFOUND) return rc;
    if (!rc && (rc = mk_rep_units_add(c, &sl->worker, t->kind, p.total, 0, err))) return rc;
    sl->state = GT_SLOT_PAID;
    sl->deadline = sl->deadline_s = 0;
    if ((rc = mk_slot_store(c, sl, 0, err)) || (rc = mk_slot_paid_store(c, sl, err))) return rc;
    mk_task t2 = *t;
    return mk_task_maybe_complete(c, &t2, err);
}

int mk_slot_reopen(mk_ctx *c, mk_task *t, mk_slot *sl, gt_err *err) {
    gt_tx *tx = c->tx;
    assert(sl->slot < t->slots && !memcmp(sl->task, t->id, 32));
    assert(sl->attempt < UINT64_MAX);
    int rc = release_undecided(c, t, sl, err);
    if (rc) return rc;
    sl->attempt++;
    memset(&sl->worker, 0, sizeof sl->worker);
    memset(sl->result, 0, 32);
    memset(sl->reason, 0, 32);
    memset(&sl->verdict_by, 0, sizeof sl->verdict_by);
    sl->claimed_height = sl->deadline = sl->deadline_s = sl->score = sl->rbond = 0;
    sl->accept = 0;
    if (t->status == GT_TASK_OPEN && !mk_past(tx, t->expiry_height, t->expiry_s)) {
        sl->state = GT_SLOT_OPEN;
        return mk_slot_store(c, sl, 0, err);
    }
    /* Claims are closed: nobody can take the slot again, refund it now. */
    uint8_t escrow[32];
    gt_market_escrow_id(t->id, escrow);
    if ((rc = gt_state_release(tx, escrow, &t->poster, t->bounty + t->fee, err))) return rc;
    sl->state = GT_SLOT_REFUNDED;
    if ((rc = mk_slot_store(c, sl, 0, err))) return rc;
    return mk_task_maybe_complete(c, t, err);
}

int mk_settle_rejected(mk_ctx *c, mk_task *t, mk_slot *sl, gt_err *err) {
    gt_tx *tx = c->tx;
    assert(sl->slot < t->slots && !memcmp(sl->task, t->id, 32));
    uint8_t stake[32], rbond[32];
    mk_lock_id(MK_TAG_STAKE, t->id, sl->slot, sl->attempt, stake);
    /* A per-unit verdict that accepted some units settles pro rata (partial.c). */
    mk_partial p;
    int rc = release_undecided(c, t, sl, err);
    if (rc) return rc;
    rc = mk_partial_load(tx, t->id, sl->slot, sl->attempt, &p, err);
    if (rc && rc != GT_ENOTFOUND) return rc;
    int has_partial = rc == 0;
    if (has_partial && p.accepted > 0) return mk_settle_partial(c, t, sl, &p, err);
    rc = 0;
    assert(t->fee <= t->stake);
    if (t->fee && t->policy == GT_POLICY_EVALUATOR) rc = gt_state_slash(tx, stake, &t->verifier, t->fee, err);
    else if (t->fee && t->policy == GT_POLICY_QUORUM)
        rc = pay_quorum_fee(c, sl, 0, stake, t->fee, &t->poster, err);
    if (rc || (rc = gt_state_slash(tx, stake, &t->poster, t->stake - (t->policy == GT_POLICY_POSTER ? 0 : t->fee), err)))
        return rc;
    if (sl->rbond) {
        mk_lock_id(MK_TAG_RBOND, t->id, sl->slot, sl->attempt, rbond);
        if ((rc = gt_state_release(tx, rbond, &sl->verdict_by, sl->rbond, err))) return rc;
    }
    mk_rep_delta d = {.rejected = 1, .slashed = t->stake};
    if ((rc = mk_rep_add(c, &sl->worker, t->kind, &d, err))) return rc;
    if (has_partial && (rc = mk_rep_units_add(c, &sl->worker, t->kind, 0, p.total, err))) return rc;
    return mk_slot_reopen(c, t, sl, err);
}

/* ---- task_verify ---- */

int mk_quorum_tally(gt_tx *tx, const mk_task *t, const mk_slot *sl, int at_deadline, int *side, gt_err *err) {
    uint64_t total = 0, yes_w = 0, yes_n = 0, no_w = 0, no_n = 0;
    int rc;
    *side = -1;
    if ((rc = mk_panel_weight(tx, sl, MK_ROUND_VERIFY, NULL, &total, err)) ||
        (rc = mk_votes_side(tx, sl, MK_ROUND_VERIFY, 1, &yes_w, &yes_n, err)) ||
        (rc = mk_votes_side(tx, sl, MK_ROUND_VERIFY, 0, &no_w, &no_n, err)))
        return rc;
    int d = at_deadline ? mk_panel_majority(total, yes_w, no_w) : mk_panel_decided(total, yes_w, no_w);
    if (d >= 0 && (d ? yes_n : no_n) >= t->quorum) *side = d;
    return 0;
}

int mk_quorum_decide(mk_ctx *c, const mk_task *t, mk_slot *sl, int side, gt_err *err) {
    assert(t->policy == GT_POLICY_QUORUM && sl->state == GT_SLOT_SUBMITTED && (side == 0 || side == 1));
    sl->state = side ? GT_SLOT_ACCEPTED : GT_SLOT_REJECTED;
    sl->accept = side;
    sl->deadline = sl->deadline_s = 0; /* a quorum verdict is final: no dispute window */
    int rc;
    /* Unrevealed commitments first: absent, their bonds paid like losing votes'. */
    if ((rc = mk_commits_settle(c, sl, MK_ROUND_VERIFY, side, &t->poster, err)) ||
        (rc = mk_judges_settle(c, sl, MK_ROUND_VERIFY, side, &t->poster, err)))
        return rc;
    return mk_slot_store(c, sl, 0, err);
}

/* A quorum vote in the clear: a member of the result's panel votes with its
 * panel weight and bonds part of it; the slot is decided once
 * mk_quorum_tally says so. Refused once the round is sealed (commit.c). The
 * losing side's bonds go to the winners (panel.c). */
static int quorum_vote(mk_ctx *c, mk_task *t, mk_slot *sl, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    char s[43], u1[32];
    if (gt_addr_eq(&a->from, &t->poster) || gt_addr_eq(&a->from, &sl->worker))
        return gt_err_set(err, GT_EPERM, "%s is the %s of this task and cannot vote on it", mk_addr(&a->from, s),
                          gt_addr_eq(&a->from, &t->poster) ? "poster" : "worker");
    uint64_t w = 0, stake = 0, end_s = 0, at = mk_panel_draw_height(tx, sl, MK_ROUND_VERIFY);
    if (at)
        return gt_err_set(err, GT_ESTATE,
                          "this result's panel is drawn at the start of block %llu (from the hash of the block "
                          "before, unknown when the slot was claimed); only its members may vote, after that",
                          (unsigned long long)at);
    int rc = mk_panel_member(tx, sl, MK_ROUND_VERIFY, &a->from, &w, &stake, err);
    if (rc == GT_ENOTFOUND)
        return gt_err_set(err, GT_EPERM,
                          "%s is not on this result's panel: only validators seated from those that had at least %s "
                          "staked when the slot was claimed may vote on it",
                          mk_addr(&a->from, s), mk_units(mk_quorum_min_stake(t), u1));
    int sealed = 0, side = -1;
    if (rc || (rc = mk_round_sealed(tx, sl, MK_ROUND_VERIFY, &sealed, &end_s, err))) return rc;
    if (sealed)
        return gt_err_set(err, GT_ESTATE, "this result's votes are sealed (a vote_commit landed): commit with "
                          "vote_commit before block time %llu, then reveal with vote_reveal",
                          (unsigned long long)end_s);
    if (mk_round_sealed_only(tx, t))
        return gt_err_set(err, GT_ESTATE, "this result's votes are sealed (an eval task's are, from ledger format "
                          "11): commit with vote_commit before block time %llu, then reveal with eval_reveal "
                          "(or vote_reveal)", (unsigned long long)sl->deadline_s);
    int accept = (int)a->f[V_ACCEPT].u64;
    if ((rc = mk_vote_insert(c, t->id, sl->slot, sl->attempt, MK_ROUND_VERIFY, &a->from, accept, w, err)) ||
        (rc = mk_judge_bond(c, sl, MK_ROUND_VERIFY, &a->from, w, stake, err)) ||
        (rc = mk_quorum_tally(tx, t, sl, 0, &side, err)) || side < 0)
        return rc;
    /* The deciding vote's score and reason stand for the panel's (another
     * side can decide on this vote only once the whole panel has voted). */
    if (side == accept) {
        sl->score = a->f[V_SCORE].u64;
        memcpy(sl->reason, a->f[V_REASON].b32, 32);
    }
    return mk_quorum_decide(c, t, sl, side, err);
}

int mk_verdict_load(gt_tx *tx, const uint8_t task[32], uint64_t slot, const uint8_t result[32], uint64_t score,
                    mk_task *t, mk_slot *sl, gt_err *err) {
    int rc = mk_task_load(tx, task, t, err);
    if (rc || (rc = mk_slot_load(tx, t->id, slot, sl, err))) return rc;
    char h[19];
    if (sl->state != GT_SLOT_SUBMITTED)
        return gt_err_set(err, GT_ESTATE, "slot %llu of task %s… is %s; only a submitted result can be verified",
                          (unsigned long long)sl->slot, mk_short(t->id, h), gt_slot_state_name(sl->state));
    if (memcmp(result, sl->result, 32))
        return gt_err_set(err, GT_ESTATE, "result does not match the one submitted to slot %llu (attempt %llu)",
                          (unsigned long long)sl->slot, (unsigned long long)sl->attempt);
    if (mk_past(tx, sl->deadline, sl->deadline_s))
        return gt_err_set(err, GT_ESTATE, "the verify deadline (block time %llu) has passed",
                          (unsigned long long)sl->deadline_s);
    if (score > GT_MARKET_SCORE_MAX)
        return gt_err_set(err, GT_EINVAL, "score must be 0 to %d, got %llu", GT_MARKET_SCORE_MAX, (unsigned long long)score);
    return 0;
}

MK_APPLY(apply_verify)
static int apply_verify_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    mk_task t;
    mk_slot sl;
    int rc = mk_verdict_load(tx, a->f[V_TASK].b32, a->f[V_SLOT].u64, a->f[V_RESULT].b32, a->f[V_SCORE].u64, &t, &sl, err);
    if (rc) return rc;
    char h[19], s[43], u[32];
    int accept = (int)a->f[V_ACCEPT].u64;
    if (!accept && mk_is_zero32(a->f[V_REASON].b32))
        return gt_err_set(err, GT_EINVAL, "reason: a rejection needs the sha256 of a reason blob");
    if (t.policy == GT_POLICY_QUORUM) return quorum_vote(c, &t, &sl, a, err);
    const gt_addr *who = t.policy == GT_POLICY_POSTER ? &t.poster : &t.verifier;
    if (!gt_addr_eq(&a->from, who))
        return gt_err_set(err, GT_EPERM, "only the %s %s may verify task %s…", gt_policy_name(t.policy), mk_addr(who, s),
                          mk_short(t.id, h));
    sl.accept = accept;
    sl.score = a->f[V_SCORE].u64;
    memcpy(sl.reason, a->f[V_REASON].b32, 32);
    sl.verdict_by = a->from;
    if (accept) {
        sl.state = GT_SLOT_ACCEPTED;
        sl.deadline = sl.deadline_s = 0;
    } else {
        uint8_t lock[32];
        mk_lock_id(MK_TAG_RBOND, t.id, sl.slot, sl.attempt, lock);
        if ((rc = gt_state_lock(tx, &a->from, lock, t.stake, err)))
            return gt_err_wrap(err, "a rejection locks a bond of %s (the task's stake)", mk_units(t.stake, u));
        sl.rbond = t.stake;
        sl.state = GT_SLOT_REJECTED;
        mk_deadline_set(tx, tx->windows.dispute_s, 1, &sl.deadline, &sl.deadline_s);
    }
    return mk_slot_store(c, &sl, 0, err);
}

MK_APPLY(apply_settle)
static int apply_settle_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    mk_task t;
    mk_slot sl;
    int rc = mk_task_load(tx, a->f[0].b32, &t, err);
    if (rc || (rc = mk_slot_load(tx, t.id, a->f[1].u64, &sl, err))) return rc;
    char h[19];
    mk_short(t.id, h);
    switch (sl.state) {
    case GT_SLOT_ACCEPTED:
        return mk_pay_accepted(c, &t, &sl, 0, err);
    case GT_SLOT_REJECTED:
        if (sl.deadline && !mk_past(tx, sl.deadline, sl.deadline_s) && !gt_addr_eq(&a->from, &sl.worker))
            return gt_err_set(err, GT_ESTATE,
                              "slot %llu of task %s… may still be disputed by its worker until block time %llu; "
                              "settle after that", (unsigned long long)sl.slot, h, (unsigned long long)sl.deadline_s);
        return mk_settle_rejected(c, &t, &sl, err);
    case GT_SLOT_DISPUTED:
        return gt_err_set(err, GT_ESTATE,
                          "slot %llu of task %s… is under dispute; the vote settles it by block time %llu",
                          (unsigned long long)sl.slot, h, (unsigned long long)sl.deadline_s);
    case GT_SLOT_PAID:
    case GT_SLOT_REFUNDED:
        return gt_err_set(err, GT_ESTATE, "slot %llu of task %s… is already settled (%s)", (unsigned long long)sl.slot, h,
                          gt_slot_state_name(sl.state));
    default:
        return gt_err_set(err, GT_ESTATE, "slot %llu of task %s… has no verdict to settle (it is %s, attempt %llu)",
                          (unsigned long long)sl.slot, h, gt_slot_state_name(sl.state), (unsigned long long)sl.attempt);
    }
}

/* ---- block-start sweeps ---- */

typedef struct due { uint8_t task[32]; uint64_t slot; } due;

/* Collects the keys of rows a sweep must visit (writing while a SELECT on the
 * same table is open is avoided). *out: caller frees with gt_free. */
static int collect(gt_tx *tx, const char *sql, due **out, size_t *n_out, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, sql, &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)tx->height);
    sqlite3_bind_int64(q, 2, (int64_t)tx->time_s);
    gt_vec v;
    gt_vec_init(&v, sizeof(due));
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        due *d = gt_vec_push_zero(&v);
        if (!d) { gt_vec_free(&v); gt_tx_stmt_done(tx, q); return gt_err_set(err, GT_ENOMEM, "out of memory"); }
        const char *table = strstr(sql, "FROM mk_slots") ? "mk_slots" : "mk_tasks";
        if (gt_row_blob(q, 0, d->task, 32, table, err) || gt_row_u64(q, 1, &d->slot, table, err)) {
            gt_vec_free(&v);
            gt_tx_stmt_done(tx, q);
            return GT_EDB;
        }
    }
    gt_tx_stmt_done(tx, q);
    if (rc != SQLITE_DONE) {
        gt_vec_free(&v);
        return gt_err_set(err, GT_EDB, "market sweep: %s", sqlite3_errmsg(tx->db));
    }
    *out = v.data;
    *n_out = v.n;
    return 0;
}

/* Expiry: tasks whose claim window closed; their open slots are refunded. */
static int sweep_expiry(mk_ctx *c, gt_err *err) {
    due *v = NULL;
    size_t n = 0;
    int rc = collect(c->tx, MK_SQL_DUE_TASKS, &v, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        mk_task t;
        if ((rc = mk_task_load(c->tx, v[i].task, &t, err))) break;
        t.status = GT_TASK_EXPIRED;
        if ((rc = mk_task_store(c, &t, 0, err))) break;
        uint8_t escrow[32];
        gt_market_escrow_id(t.id, escrow);
        for (uint64_t k = 0; !rc && k < t.slots; k++) {
            mk_slot sl;
            if ((rc = mk_slot_load(c->tx, t.id, k, &sl, err))) break;
            if (sl.state != GT_SLOT_OPEN) continue;
            if ((rc = gt_state_release(c->tx, escrow, &t.poster, t.bounty + t.fee, err))) break;
            sl.state = GT_SLOT_REFUNDED;
            rc = mk_slot_store(c, &sl, 0, err);
        }
        if (!rc) rc = mk_task_maybe_complete(c, &t, err);
    }
    gt_free(v);
    return rc;
}

/* No verdict by the verify deadline. Nobody accepted the result, so nothing
 * pays for it (a verifier's crash, a result nobody could check, a blob never
 * uploaded all end here): the worker's stake goes back to it untouched (it
 * was not judged wrong either), the slot's bounty and fee go back to the
 * poster, and the slot is final (REFUNDED) so the same silent verifier
 * cannot hold a next worker's stake. Reputation records neither side. */
static int mk_verify_timeout(mk_ctx *c, mk_task *t, mk_slot *sl, gt_err *err) {
    assert(sl->state == GT_SLOT_SUBMITTED);
    uint8_t escrow[32], stake[32];
    gt_market_escrow_id(t->id, escrow);
    mk_lock_id(MK_TAG_STAKE, t->id, sl->slot, sl->attempt, stake);
    int rc;
    if ((rc = gt_state_release(c->tx, stake, &sl->worker, t->stake, err)) ||
        (rc = gt_state_release(c->tx, escrow, &t->poster, t->bounty + t->fee, err)) ||
        (rc = release_undecided(c, t, sl, err)))   /* a quorum panel's vote bonds */
        return rc;
    sl->state = GT_SLOT_REFUNDED;
    sl->deadline = 0;
    if ((rc = mk_slot_store(c, sl, 0, err))) return rc;
    return mk_task_maybe_complete(c, t, err);
}

/* The side a quorum round's votes decide at its deadline, or -1. Format 9's
 * rule: a side holding more than half of the panel's weight decides (a
 * sealed round's unrevealed commitments are absent and pay the winners), so
 * members holding a third who stay silent cannot keep a majority's verdict
 * from standing. Blocks made before format 9's height replay under the rule
 * that made them: only a sealed round was tallied, as before its deadline. */
static int quorum_deadline_side(gt_tx *tx, const mk_task *t, const mk_slot *sl, int *side, gt_err *err) {
    *side = -1;
    if (tx->height >= tx->format9_height) return mk_quorum_tally(tx, t, sl, 1, side, err);
    int sealed = 0;
    int rc = mk_round_sealed(tx, sl, MK_ROUND_VERIFY, &sealed, NULL, err);
    return rc || !sealed ? rc : mk_quorum_tally(tx, t, sl, 0, side, err);
}

/* A submitted slot's verify deadline: a quorum round's verdict, if its votes
 * give one (quorum_deadline_side); otherwise no verdict came in time. */
static int verify_deadline(mk_ctx *c, mk_task *t, mk_slot *sl, gt_err *err) {
    int side = -1, rc = 0;
    if (t->policy == GT_POLICY_QUORUM && (rc = quorum_deadline_side(c->tx, t, sl, &side, err))) return rc;
    return side >= 0 ? mk_quorum_decide(c, t, sl, side, err) : mk_verify_timeout(c, t, sl, err);
}

/* Deadlines of claimed, submitted and disputed slots. */
static int sweep_slots(mk_ctx *c, gt_err *err) {
    due *v = NULL;
    size_t n = 0;
    int rc = collect(c->tx, MK_SQL_DUE_SLOTS, &v, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        mk_task t;
        mk_slot sl;
        if ((rc = mk_task_load(c->tx, v[i].task, &t, err)) || (rc = mk_slot_load(c->tx, t.id, v[i].slot, &sl, err))) break;
        if (sl.state == GT_SLOT_CLAIMED) {
            /* Nothing submitted in time: the stake compensates the poster. */
            uint8_t stake[32];
            mk_lock_id(MK_TAG_STAKE, t.id, sl.slot, sl.attempt, stake);
            mk_rep_delta d = {.missed = 1, .slashed = t.stake};
            if ((rc = gt_state_slash(c->tx, stake, &t.poster, t.stake, err)) ||
                (rc = mk_rep_add(c, &sl.worker, t.kind, &d, err)))
                break;
            rc = mk_slot_reopen(c, &t, &sl, err);
        } else if (sl.state == GT_SLOT_SUBMITTED) {
            rc = verify_deadline(c, &t, &sl, err);
        } else {
            rc = mk_dispute_resolve(c, &t, &sl, err);
        }
    }
    gt_free(v);
    return rc;
}

int mk_begin_block(gt_tx *tx, gt_err *err) {
    mk_ctx c;
    mk_ctx_init(&c, tx);
    uint64_t supply0 = gt_state_supply(tx->state);
    int rc = mk_panel_sweep(&c, err); /* panels first: a vote in this block may need one */
    if (!rc) rc = sweep_expiry(&c, err);
    if (!rc) rc = sweep_slots(&c, err);
    assert(rc || gt_state_supply(tx->state) == supply0);
    int changes = c.changes;
    rc = mk_finish(&c, rc);
    return rc ? rc : changes;
}

gt_action_kind gt_kind_task_verify = {"task_verify", "TaskVerify", verify_fields, 6, apply_verify, 1, {0}, {0}, 0};
gt_action_kind gt_kind_task_settle = {"task_settle", "TaskSettle", settle_fields, 2, apply_settle, 1, {0}, {0}, 0};
