/* invariants.c: the market's invariants, stated as checks (the ledger's are
 * in ledger/invariants.h, which says when they run):
 *
 *   slots-within-count   a task has 1..GT_MARKET_MAX_SLOTS slots, rows 0..n-1
 *                        and no others, each in a known state
 *   escrow-owed          a task's escrow holds exactly what it still owes:
 *                        (bounty + fee) for each slot not yet paid or refunded
 *   stakes-match-slots   the current attempt of a slot holds the worker's
 *                        stake while claimed, submitted, judged or disputed,
 *                        and nothing otherwise
 *   market-books         the audit (gt_market_audit) of every task still open
 *                        or expired: every stake, bond and escrow against the
 *                        locks, and the locked totals against the accounts
 *
 * The first three run after every market action on its task, through the
 * block's cache (so mid-block changes are seen); the audit runs after each
 * block's flush. */
#include <stdio.h>
#include <string.h>

#include "ledger/invariants.h"
#include "ledger/ledger.h"
#include "market/market_impl.h"

_Static_assert(GT_MARKET_MAX_SLOTS >= 1, "a task has at least one slot");
_Static_assert(GT_LEDGER_WINDOW_MAX_S <= GT_MARKET_MAX_WINDOW_S && GT_LEDGER_WINDOW_MIN_S >= GT_MARKET_MIN_WINDOW_S,
               "the genesis windows (tx->windows) are deadlines mk_deadline_set accepts");
_Static_assert(GT_SLOT_OPEN == 0 && GT_SLOT_REFUNDED == 7, "slot states are 0..7 (gt_slot_state_name, the checks)");

/* The amount lock id holds now (0 when it does not exist). */
static int lock_now(gt_tx *tx, const uint8_t id[32], uint64_t *out, gt_err *err) {
    gt_lock l;
    int rc = gt_state_lock_get(tx, id, &l, NULL);
    *out = 0;
    if (rc == GT_ENOTFOUND) return 0;
    if (rc) return gt_err_set(err, rc, "invariants: reading a lock failed");
    *out = l.amount;
    return 0;
}

/* Checks one slot: its state is known and its stake lock matches it. Counts
 * it in *unfinished when it is neither paid nor refunded. */
static int check_slot(gt_tx *tx, const mk_task *t, uint64_t i, uint64_t *unfinished, gt_err *err) {
    mk_slot sl;
    char h[19];
    int rc = mk_slot_load(tx, t->id, i, &sl, NULL);
    if (rc == GT_ENOTFOUND)
        return gt_err_set(err, GT_EINVAL, "invariant slots-within-count: task %s… has no slot %llu of its %llu",
                          mk_short(t->id, h), (unsigned long long)i, (unsigned long long)t->slots);
    if (rc) return mk_slot_load(tx, t->id, i, &sl, err); /* again, for the message */
    if (sl.state < GT_SLOT_OPEN || sl.state > GT_SLOT_REFUNDED)
        return gt_err_set(err, GT_EINVAL, "invariant slots-within-count: slot %llu of task %s… is in state %d",
                          (unsigned long long)i, mk_short(t->id, h), sl.state);
    if (sl.state != GT_SLOT_PAID && sl.state != GT_SLOT_REFUNDED) (*unfinished)++;
    uint8_t id[32];
    uint64_t have;
    mk_lock_id(MK_TAG_STAKE, t->id, i, sl.attempt, id);
    if ((rc = lock_now(tx, id, &have, err))) return rc;
    int staked = sl.state >= GT_SLOT_CLAIMED && sl.state <= GT_SLOT_DISPUTED;
    if (have != (staked ? t->stake : 0))
        return gt_err_set(err, GT_EINVAL, "invariant stakes-match-slots: slot %llu of task %s… (%s) holds %llu of "
                          "stake, expected %llu", (unsigned long long)i, mk_short(t->id, h),
                          gt_slot_state_name(sl.state), (unsigned long long)have,
                          (unsigned long long)(staked ? t->stake : 0));
    return 0;
}

int mk_check_task(gt_tx *tx, const uint8_t task[32], gt_err *err) {
    mk_task t;
    char h[19];
    int rc = mk_task_load(tx, task, &t, err);
    if (rc) return rc;
    if (t.slots < 1 || t.slots > GT_MARKET_MAX_SLOTS)
        return gt_err_set(err, GT_EINVAL, "invariant slots-within-count: task %s… has %llu slots",
                          mk_short(t.id, h), (unsigned long long)t.slots);
    uint64_t unfinished = 0;
    for (uint64_t i = 0; i < t.slots; i++)
        if ((rc = check_slot(tx, &t, i, &unfinished, err))) return rc;
    mk_slot extra;
    rc = mk_slot_load(tx, t.id, t.slots, &extra, NULL);
    if (rc != GT_ENOTFOUND)
        return gt_err_set(err, GT_EINVAL, "invariant slots-within-count: task %s… has a slot %llu past its %llu",
                          mk_short(t.id, h), (unsigned long long)t.slots, (unsigned long long)t.slots);
    uint8_t escrow[32];
    uint64_t have;
    gt_market_escrow_id(t.id, escrow);
    if ((rc = lock_now(tx, escrow, &have, err))) return rc;
    if (have != unfinished * (t.bounty + t.fee))
        return gt_err_set(err, GT_EINVAL, "invariant escrow-owed: task %s… escrow holds %llu, owes %llu "
                          "(%llu unfinished slots)", mk_short(t.id, h), (unsigned long long)have,
                          (unsigned long long)(unfinished * (t.bounty + t.fee)), (unsigned long long)unfinished);
    return 0;
}

int mk_check_action(gt_tx *tx, const gt_action *a, gt_err *err) {
    if (a->kind == &gt_kind_task_post) return mk_check_task(tx, a->id, err);
    for (int i = 0; i < a->kind->n_fields; i++)
        if (a->kind->fields[i].type == GT_F_BYTES32 && !strcmp(a->kind->fields[i].name, "task"))
            return mk_check_task(tx, a->f[i].b32, err);
    return 0; /* an action on no task (the registry) */
}

int mk_check_books(gt_tx *tx, gt_err *err) {
    int rc = mk_audit(tx->db, 1, NULL, err);
    if (rc == GT_EINVAL) return gt_err_wrap(err, "invariant market-books");
    return rc;
}

void mk_invariants_after(gt_tx *tx, const gt_action *a) {
    gt_err e = {0};
    if (mk_check_action(tx, a, &e) == GT_EINVAL) gt_invariant_fail(e.msg);
}
