/* task.c: posting, cancelling, claiming and submitting tasks.
 *
 * A task is posted with its terms; its id is the post action's EIP-712 digest.
 * The bounty and the verification fee of every slot are locked in one escrow
 * lock at post time, so a worker never works for a promise. A claim locks the
 * worker's stake and gives it `submitSeconds` to submit; the result is a blob
 * hash. Windows are seconds of block time (mk_deadline_set): "deadline T"
 * means an action must land in a block whose time is below T; at the start of
 * the first block at or past it the timeout fires (verdict.c). Anyone makes
 * blocks by sending actions, only the block maker's clock makes seconds, so
 * nobody hurries a deadline with traffic.
 *   expiry  = post time + claimSeconds   (no claims from then on; open slots refunded)
 *   submit  = claim time + submitSeconds
 *   verify  = submit time + verifySeconds
 *
 * What each rule defends against:
 *  - Stake required (> 0) on every claim: squatting on slots (or front-running
 *    a claim to block a competitor) costs the stake, slashed to the poster if
 *    nothing is submitted in time.
 *  - One slot per worker per task over the task's whole life (counted in
 *    mk_task_workers, so a worker whose claim ended cannot take the next
 *    slot, and the next), unless the poster allows more with seatsPerWorker;
 *    the poster and the evaluator may not claim: no buying your own work to
 *    farm reputation, no one agent filling every slot of a task that asked
 *    for independent workers. A worker of a task sits on none of its panels.
 *  - Claims need an active agent card listing the task's kind (registry.c):
 *    hirers choose by skill and reputation and get what they chose.
 *  - Cancel only before the first claim: a poster cannot watch who claims (or
 *    what they will charge in time) and then pull the bounty.
 *  - Windows of at least GT_MARKET_MIN_WINDOW_S: no griefing with a
 *    deadline that expires before the other side can act; at most
 *    GT_MARKET_MAX_WINDOW_S so escrow is never locked for ever. A claim's
 *    submit window runs in full even past the task's expiry.
 *  - Evaluator and quorum tasks need stake >= fee: the rejected worker pays
 *    for its evaluation from its stake, so a slot can be re-verified after a
 *    rejection without the escrow running short.
 *  - Subcontracting: a task whose `parent` is set must be posted by a worker
 *    holding a claimed slot of the parent, and is paid from that worker's own
 *    wallet; the parent's result cites the sub-results by blob hash, and the
 *    link lets anyone follow the chain (gt_market_task_get lists sub-tasks). */
#include <stdio.h>
#include <string.h>

#include "base/amount.h"
#include "market/market_impl.h"

static const gt_field_def post_fields[] = {
    {"kind", GT_F_STRING, GT_MARKET_SKILL_MAX},
    {"spec", GT_F_BYTES32, 0},
    {"parent", GT_F_BYTES32, 0},
    {"slots", GT_F_U64, 0},
    {"bounty", GT_F_U64, 0},
    {"stake", GT_F_U64, 0},
    {"verifier", GT_F_ADDRESS, 0},
    {"fee", GT_F_U64, 0},
    {"quorum", GT_F_U64, 0},
    {"claimSeconds", GT_F_U64, 0},
    {"submitSeconds", GT_F_U64, 0},
    {"verifySeconds", GT_F_U64, 0},
    {"seatsPerWorker", GT_F_U64, 0},
    {"batchItems", GT_F_U64, 0},
    {"lastBatchItems", GT_F_U64, 0},
};
enum { P_KIND, P_SPEC, P_PARENT, P_SLOTS, P_BOUNTY, P_STAKE, P_VERIFIER, P_FEE, P_QUORUM, P_CLAIM, P_SUBMIT, P_VERIFY,
       P_SEATS, P_BATCH, P_LAST_BATCH };

static const gt_field_def task_fields[] = {{"task", GT_F_BYTES32, 0}};
static const gt_field_def submit_fields[] = {
    {"task", GT_F_BYTES32, 0},
    {"slot", GT_F_U64, 0},
    {"result", GT_F_BYTES32, 0},
};

/* Checks one window field (seconds of block time) against the floor and ceiling. */
static int window_check(const char *name, uint64_t v, gt_err *err) {
    if (v < GT_MARKET_MIN_WINDOW_S || v > GT_MARKET_MAX_WINDOW_S)
        return gt_err_set(err, GT_EINVAL, "%s must be %d to %d seconds of block time, got %llu", name,
                          GT_MARKET_MIN_WINDOW_S, GT_MARKET_MAX_WINDOW_S, (unsigned long long)v);
    return 0;
}

/* Checks the units a task's slots hold (batchItems, lastBatchItems; 0 and 0:
 * no per-unit verdicts). A slot's units are what task_verify_partial's total
 * must be, so they are bounded like it: at most GT_MARKET_MAX_UNITS, and
 * each unit worth at least one base unit of the bounty and of the stake
 * (no reputation in units without value locked for them, partial.c). */
static int batch_check(const mk_task *t, gt_err *err) {
    uint64_t cap = t->stake < t->bounty ? t->stake : t->bounty;
    if (cap > GT_MARKET_MAX_UNITS) cap = GT_MARKET_MAX_UNITS;
    if (!t->batch_items && t->last_batch_items)
        return gt_err_set(err, GT_EINVAL, "lastBatchItems needs batchItems (the units of every other slot)");
    if (t->batch_items > cap)
        return gt_err_set(err, GT_EINVAL, "batchItems must be at most %llu (GT_MARKET_MAX_UNITS, and one base unit of "
                          "the bounty and of the stake a unit), got %llu", (unsigned long long)cap,
                          (unsigned long long)t->batch_items);
    if (t->last_batch_items > t->batch_items)
        return gt_err_set(err, GT_EINVAL,
                          "lastBatchItems (%llu) must be 1 to batchItems (%llu), or 0 meaning batchItems",
                          (unsigned long long)t->last_batch_items, (unsigned long long)t->batch_items);
    return 0;
}

/* Checks that the poster of a sub-task holds a claimed slot of the parent. */
static int parent_check(gt_tx *tx, const uint8_t parent[32], const gt_addr *poster, gt_err *err) {
    mk_task p;
    int rc = mk_task_load(tx, parent, &p, err);
    if (rc) return rc == GT_ENOTFOUND ? gt_err_wrap(err, "parent") : rc;
    sqlite3_stmt *q;
    if ((rc = gt_tx_stmt(tx, "SELECT count(*) FROM mk_slots WHERE task=? AND worker=? AND state=?", &q, err)))
        return rc;
    sqlite3_bind_blob(q, 1, parent, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, poster->b, 20, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, GT_SLOT_CLAIMED);
    int n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
    gt_tx_stmt_done(tx, q);
    if (n < 0) return gt_err_set(err, GT_EDB, "reading slots: %s", sqlite3_errmsg(tx->db));
    char h[19], s[43];
    if (n == 0)
        return gt_err_set(err, GT_EPERM,
                          "parent task %s…: %s holds no claimed slot of it, so cannot subcontract its work",
                          mk_short(parent, h), mk_addr(poster, s));
    return 0;
}

MK_APPLY(apply_post)
static int apply_post_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    const char *kind = gt_action_str(a, P_KIND);
    int rc = mk_skill_check(kind, a->f[P_KIND].str_len, "kind", err);
    if (rc) return rc;
    mk_task t;
    memset(&t, 0, sizeof t);
    memcpy(t.id, a->id, 32);
    t.poster = a->from;
    snprintf(t.kind, sizeof t.kind, "%s", kind);
    memcpy(t.spec, a->f[P_SPEC].b32, 32);
    memcpy(t.parent, a->f[P_PARENT].b32, 32);
    t.slots = a->f[P_SLOTS].u64;
    t.bounty = a->f[P_BOUNTY].u64;
    t.stake = a->f[P_STAKE].u64;
    t.verifier = a->f[P_VERIFIER].addr;
    t.fee = a->f[P_FEE].u64;
    t.quorum = a->f[P_QUORUM].u64;
    t.submit_s = a->f[P_SUBMIT].u64;
    t.verify_s = a->f[P_VERIFY].u64;
    t.seats_per_worker = a->f[P_SEATS].u64 ? a->f[P_SEATS].u64 : 1;
    t.batch_items = a->f[P_BATCH].u64;
    t.last_batch_items = a->f[P_LAST_BATCH].u64 ? a->f[P_LAST_BATCH].u64 : t.batch_items;
    if (mk_is_zero32(t.spec)) return gt_err_set(err, GT_EINVAL, "spec: expected the sha256 of the task's spec blob, got zero");
    if (t.slots < 1 || t.slots > GT_MARKET_MAX_SLOTS)
        return gt_err_set(err, GT_EINVAL, "slots must be 1 to %d, got %llu", GT_MARKET_MAX_SLOTS, (unsigned long long)t.slots);
    if (t.seats_per_worker > GT_MARKET_MAX_SLOTS)
        return gt_err_set(err, GT_EINVAL, "seatsPerWorker (claims one worker may make over the task's life) must be 0 "
                          "(meaning 1) to %d, got %llu", GT_MARKET_MAX_SLOTS, (unsigned long long)t.seats_per_worker);
    if (!t.bounty) return gt_err_set(err, GT_EINVAL, "bounty must be greater than 0");
    if (!t.stake)
        return gt_err_set(err, GT_EINVAL, "stake must be greater than 0 (an unstaked claim could squat on a slot for free)");
    if ((rc = window_check("claimSeconds", a->f[P_CLAIM].u64, err)) ||
        (rc = window_check("submitSeconds", t.submit_s, err)) ||
        (rc = window_check("verifySeconds", t.verify_s, err)) || (rc = batch_check(&t, err)))
        return rc;
    int has_verifier = !gt_addr_is_zero(&t.verifier);
    char u1[32], u2[32];
    if (t.quorum) {
        t.policy = GT_POLICY_QUORUM;
        if (has_verifier) return gt_err_set(err, GT_EINVAL, "a quorum task has no single verifier: leave verifier zero or quorum 0");
        if (t.quorum > GT_MARKET_MAX_QUORUM)
            return gt_err_set(err, GT_EINVAL, "quorum must be 1 to %d, got %llu", GT_MARKET_MAX_QUORUM, (unsigned long long)t.quorum);
    } else if (has_verifier) {
        t.policy = GT_POLICY_EVALUATOR;
        if (gt_addr_eq(&t.verifier, &a->from))
            return gt_err_set(err, GT_EINVAL, "verifier is the poster: leave it zero to verify your own task");
    } else {
        t.policy = GT_POLICY_POSTER;
        if (t.fee) return gt_err_set(err, GT_EINVAL, "fee pays an evaluator or validators; a task the poster verifies has none");
    }
    if (t.fee > t.stake)
        return gt_err_set(err, GT_EINVAL,
                          "stake (%s) must cover the fee (%s): a rejected worker pays for its evaluation from its stake",
                          mk_units(t.stake, u1), mk_units(t.fee, u2));
    if (!mk_is_zero32(t.parent) && (rc = parent_check(tx, t.parent, &a->from, err))) return rc;
    uint64_t per_slot, total;
    if (gt_add_u64(t.bounty, t.fee, &per_slot) || gt_mul_u64(per_slot, t.slots, &total) || total > GT_SUPPLY_MAX)
        return gt_err_set(err, GT_EOVERFLOW, "slots x (bounty + fee) overflows");
    t.posted_height = tx->height;
    mk_deadline_set(tx, a->f[P_CLAIM].u64, 1, &t.expiry_height, &t.expiry_s);
    t.status = GT_TASK_OPEN;
    uint8_t lock[32];
    gt_market_escrow_id(t.id, lock);
    if ((rc = gt_state_lock(tx, &a->from, lock, total, err)))
        return gt_err_wrap(err, "escrow of %llu x (bounty + fee) = %s", (unsigned long long)t.slots, mk_units(total, u1));
    if ((rc = mk_task_store(c, &t, 1, err))) return rc;
    for (uint64_t i = 0; i < t.slots; i++) {
        mk_slot s;
        memset(&s, 0, sizeof s);
        memcpy(s.task, t.id, 32);
        s.slot = i;
        s.state = GT_SLOT_OPEN;
        if ((rc = mk_slot_store(c, &s, 1, err))) return rc;
    }
    return 0;
}

MK_APPLY(apply_cancel)
static int apply_cancel_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    mk_task t;
    int rc = mk_task_load(tx, a->f[0].b32, &t, err);
    if (rc) return rc;
    char h[19], s[43];
    if (!gt_addr_eq(&a->from, &t.poster))
        return gt_err_set(err, GT_EPERM, "only the poster %s may cancel task %s…", mk_addr(&t.poster, s), mk_short(t.id, h));
    if (t.claims)
        return gt_err_set(err, GT_ESTATE, "task %s… cannot be cancelled: it has been claimed (%llu claim%s)",
                          mk_short(t.id, h), (unsigned long long)t.claims, t.claims == 1 ? "" : "s");
    if (t.status != GT_TASK_OPEN)
        return gt_err_set(err, GT_ESTATE, "task %s… is %s, not open", mk_short(t.id, h), gt_task_status_name(t.status));
    uint8_t lock[32];
    gt_lock l;
    gt_market_escrow_id(t.id, lock);
    if ((rc = gt_state_lock_get(tx, lock, &l, err))) return rc;
    if (l.amount && (rc = gt_state_release(tx, lock, &t.poster, l.amount, err))) return rc;
    for (uint64_t i = 0; i < t.slots; i++) {
        mk_slot sl;
        if ((rc = mk_slot_load(tx, t.id, i, &sl, err))) return rc;
        sl.state = GT_SLOT_REFUNDED;
        if ((rc = mk_slot_store(c, &sl, 0, err))) return rc;
    }
    t.status = GT_TASK_CANCELLED;
    return mk_task_store(c, &t, 0, err);
}

int mk_task_worker_claims(gt_tx *tx, const uint8_t task[32], const gt_addr *addr, uint64_t *claims, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT claims FROM mk_task_workers WHERE task=? AND worker=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, addr->b, 20, SQLITE_STATIC);
    rc = sqlite3_step(q);
    *claims = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(q, 0) : 0;
    gt_tx_stmt_done(tx, q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "reading claims: %s", sqlite3_errmsg(tx->db));
    return 0;
}

/* The digest's bytes of a row of mk_task_workers. */
static void worker_claims_row(const uint8_t task[32], const gt_addr *addr, uint64_t claims, gt_digest_row *r) {
    gt_digest_row_begin(r, "mk_task_workers");
    gt_digest_row_blob(r, task, 32);
    gt_digest_row_blob(r, addr->b, 20);
    gt_digest_row_int(r, (int64_t)claims);
}

/* Records that addr has now made `claims` claims on the task, `held` before
 * (its row, when held > 0: the rules write one only with claims >= 1), and
 * folds the row replaced and the new one into the state digest (the table
 * has no digest triggers: market.c). */
static int worker_claims_store(mk_ctx *c, const uint8_t task[32], const gt_addr *addr, uint64_t held,
                               uint64_t claims, gt_err *err) {
    assert(claims == held + 1);
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx, "INSERT OR REPLACE INTO mk_task_workers VALUES(?,?,?)", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, addr->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)claims);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(c->tx, q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing claims: %s", sqlite3_errmsg(c->tx->db));
    if (held > 0) worker_claims_row(task, addr, held, mk_digest_row(c, -1));
    worker_claims_row(task, addr, claims, mk_digest_row(c, 1));
    c->changes++;
    if (mk_rec_tag(c, MK_REC_TASK_WORKER) || mk_rec_bytes(c, task, 32) || mk_rec_bytes(c, addr->b, 20) ||
        mk_rec_u64(c, claims))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

MK_APPLY(apply_claim)
static int apply_claim_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    mk_task t;
    int rc = mk_task_load(tx, a->f[0].b32, &t, err);
    if (rc) return rc;
    char h[19], s[43], u[32];
    if (t.status != GT_TASK_OPEN || mk_past(tx, t.expiry_height, t.expiry_s))
        return gt_err_set(err, GT_ESTATE, "task %s… takes no claims: it is %s (claims closed at block time %llu)",
                          mk_short(t.id, h), t.status == GT_TASK_OPEN ? "expired" : gt_task_status_name(t.status),
                          (unsigned long long)t.expiry_s);
    if (gt_addr_eq(&a->from, &t.poster))
        return gt_err_set(err, GT_EPERM, "the poster may not claim its own task");
    if (t.policy == GT_POLICY_EVALUATOR && gt_addr_eq(&a->from, &t.verifier))
        return gt_err_set(err, GT_EPERM, "the task's evaluator may not claim it");
    if ((rc = mk_agent_can_work(tx, &a->from, t.kind, err))) return rc;
    /* One party, one seat: count every claim this worker ever made on the
     * task, not only the slots it holds now (a worker that missed or was
     * rejected cannot come back for the same task's slots one after another). */
    uint64_t held = 0;
    if ((rc = mk_task_worker_claims(tx, t.id, &a->from, &held, err))) return rc;
    if (held >= t.seats_per_worker)
        return gt_err_set(err, GT_EEXIST,
                          "%s has already claimed %llu slot%s of task %s… over its life; the poster allows %llu per "
                          "worker (seatsPerWorker)",
                          mk_addr(&a->from, s), (unsigned long long)held, held == 1 ? "" : "s", mk_short(t.id, h),
                          (unsigned long long)t.seats_per_worker);
    /* Find the lowest open slot (kept as loaded: no second read). */
    mk_slot sl;
    int found = 0;
    for (uint64_t i = 0; i < t.slots && !found; i++) {
        if ((rc = mk_slot_load(tx, t.id, i, &sl, err))) return rc;
        found = sl.state == GT_SLOT_OPEN;
    }
    if (!found)
        return gt_err_set(err, GT_ESTATE, "all %llu slot%s of task %s… are taken", (unsigned long long)t.slots,
                          t.slots == 1 ? "" : "s", mk_short(t.id, h));
    uint8_t lock[32];
    mk_lock_id(MK_TAG_STAKE, t.id, sl.slot, sl.attempt, lock);
    if ((rc = gt_state_lock(tx, &a->from, lock, t.stake, err)))
        return gt_err_wrap(err, "claiming needs a stake of %s", mk_units(t.stake, u));
    sl.state = GT_SLOT_CLAIMED;
    sl.worker = a->from;
    sl.claimed_height = tx->height;
    mk_deadline_set(tx, t.submit_s, 1, &sl.deadline, &sl.deadline_s);
    t.claims++;
    if ((rc = mk_slot_store(c, &sl, 0, err)) || (rc = worker_claims_store(c, t.id, &a->from, held, held + 1, err))) return rc;
    /* A quorum task's panel is fixed at the claim (drawn two blocks later when
     * there are more validators than seats): neither the worker nor a voter
     * could pick it by choosing when to act. */
    if (t.policy == GT_POLICY_QUORUM && (rc = mk_panel_open(c, &t, &sl, MK_ROUND_VERIFY, mk_quorum_min_stake(&t), err)))
        return rc;
    return mk_task_store(c, &t, 0, err);
}

MK_APPLY(apply_submit)
static int apply_submit_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    mk_task t;
    mk_slot sl;
    int rc = mk_task_load(tx, a->f[0].b32, &t, err);
    if (rc || (rc = mk_slot_load(tx, t.id, a->f[1].u64, &sl, err))) return rc;
    char h[19], s[43];
    if (sl.state != GT_SLOT_CLAIMED)
        return gt_err_set(err, GT_ESTATE, "slot %llu of task %s… is %s; only a claimed slot takes a result",
                          (unsigned long long)sl.slot, mk_short(t.id, h), gt_slot_state_name(sl.state));
    if (!gt_addr_eq(&a->from, &sl.worker))
        return gt_err_set(err, GT_EPERM, "only the claimant %s may submit to slot %llu", mk_addr(&sl.worker, s),
                          (unsigned long long)sl.slot);
    if (mk_past(tx, sl.deadline, sl.deadline_s))
        return gt_err_set(err, GT_ESTATE, "the submit deadline (block time %llu) has passed",
                          (unsigned long long)sl.deadline_s);
    if (mk_is_zero32(a->f[2].b32)) return gt_err_set(err, GT_EINVAL, "result: expected the sha256 of the result blob, got zero");
    memcpy(sl.result, a->f[2].b32, 32);
    sl.state = GT_SLOT_SUBMITTED;
    /* A quorum panel votes in this window: it outlasts the panel's draw. */
    uint64_t min_blocks = t.policy == GT_POLICY_QUORUM ? MK_JUDGE_MIN_BLOCKS : 1;
    mk_deadline_set(tx, t.verify_s, min_blocks, &sl.deadline, &sl.deadline_s);
    return mk_slot_store(c, &sl, 0, err);
}

gt_action_kind gt_kind_task_post = {"task_post", "TaskPost", post_fields, 15, apply_post, 1, {0}, {0}, 0};
gt_action_kind gt_kind_task_cancel = {"task_cancel", "TaskCancel", task_fields, 1, apply_cancel, 1, {0}, {0}, 0};
gt_action_kind gt_kind_task_claim = {"task_claim", "TaskClaim", task_fields, 1, apply_claim, 1, {0}, {0}, 0};
gt_action_kind gt_kind_task_submit = {"task_submit", "TaskSubmit", submit_fields, 3, apply_submit, 1, {0}, {0}, 0};
