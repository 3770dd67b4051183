/* state_check.c: the invariants every action must keep, checked on the
 * state's cached rows right after the action (invariants.h): amounts in
 * range, supply conserved by the rows the action touched, every lock within
 * its owner's locked amount. Reads the undo records state.c keeps. */
#include <assert.h>
#include <string.h>

#include "base/amount.h"
#include "crypto/addr.h"
#include "ledger/invariants.h"
#include "ledger/state_impl.h"

/* An account's holdings: what supply counts. 0 with *out set, or 1 when
 * the sum overflows (a broken invariant in itself). */
static int acct_total(const gt_account *a, uint64_t *out) {
    uint64_t t;
    if (gt_add_u64(a->balance, a->staked, &t) || gt_add_u64(t, a->locked, &t) || gt_add_u64(t, a->unbonding, &t))
        return 1;
    *out = t;
    return 0;
}

/* The first (oldest) undo record of the row rec touches: its state before
 * the action. Quadratic in the action's records, which are few. */
static const undo_rec *oldest_undo(const gt_state *s, const undo_rec *rec) {
    for (size_t i = 0; i < s->undo.n; i++) {
        const undo_rec *u = gt_vec_at(&s->undo, i);
        if (u->is_lock != rec->is_lock) continue;
        if (u->is_lock ? !memcmp(u->lock.l.id, rec->lock.l.id, 32) : gt_addr_eq(&u->acct.a.addr, &rec->acct.a.addr))
            return u;
    }
    return rec;
}

/* Checks one touched account's amounts and adds its change to the sums. */
static int check_acct_delta(gt_state *s, const undo_rec *u, __int128 *d_total, __int128 *d_locked, gt_err *err) {
    const acct_slot *now = gt_map_get(&s->accts, u->acct.a.addr.b);
    assert(now); /* a touched row stays cached until the state is reset */
    uint64_t t_new, t_old;
    if (acct_total(&now->a, &t_new) || t_new > GT_SUPPLY_MAX || acct_total(&u->acct.a, &t_old))
        return gt_err_set(err, GT_EINVAL, "invariant amounts-in-range: an account holds more than the maximum supply");
    *d_total += (__int128)t_new - (__int128)t_old;
    *d_locked += (__int128)now->a.locked - (__int128)u->acct.a.locked;
    return 0;
}

int gt_state_check_action(gt_tx *tx, gt_err *err) {
    gt_state *s = tx->state;
    __int128 d_total = 0, d_locked = 0, d_locks = 0;
    if (s->supply > GT_SUPPLY_MAX)
        return gt_err_set(err, GT_EINVAL, "invariant supply-max: supply %llu is over the maximum",
                          (unsigned long long)s->supply);
    for (size_t i = 0; i < s->undo.n; i++) {
        const undo_rec *u = gt_vec_at(&s->undo, i);
        if (oldest_undo(s, u) != u) continue; /* each row counted once, from its state before the action */
        if (!u->is_lock) {
            int rc = check_acct_delta(s, u, &d_total, &d_locked, err);
            if (rc) return rc;
            continue;
        }
        const lock_slot *now = gt_map_get(&s->locks, u->lock.l.id);
        assert(now);
        d_locks += (__int128)now->l.amount - (__int128)u->lock.l.amount;
        const acct_slot *owner = gt_map_get(&s->accts, now->l.owner.b);
        if (now->exists && owner && now->l.amount > owner->a.locked)
            return gt_err_set(err, GT_EINVAL, "invariant lock-within-locked: a lock holds more than its owner has locked");
    }
    if (d_total != (__int128)s->supply - (__int128)s->supply_at_mark)
        return gt_err_set(err, GT_EINVAL, "invariant supply-conserved: the action changed holdings by %lld but supply "
                          "by %lld", (long long)d_total, (long long)((__int128)s->supply - s->supply_at_mark));
    if (d_locked != d_locks)
        return gt_err_set(err, GT_EINVAL, "invariant locks-match-locked: the action changed locks by %lld but the "
                          "owners' locked by %lld", (long long)d_locks, (long long)d_locked);
    return 0;
}
