/* invariants.h: the ledger's invariants, stated as checks.
 *
 *   supply-conserved     an action changes the sum of all holdings (balance +
 *                        staked + locked + unbonding) by exactly what it
 *                        mints or burns; at a block's end that sum is supply
 *   supply-max           supply <= GT_SUPPLY_MAX, so no sum of amounts overflows
 *   amounts-in-range     no amount is negative in the store or over the supply
 *   locks-match-locked   an account's `locked` is the sum of its locks
 *   lock-within-locked   no lock holds more than its owner has locked
 *   unbonding-entries    an account's `unbonding` is the sum of its entries
 *
 * In builds with GT_INVARIANTS (the Debug and sanitizer builds tests and CI
 * use; off in Release) the ledger runs gt_state_check_action after every
 * action and block-start sweep, and gt_ledger_check_books and every module's
 * `check` after every block's flush; a broken invariant aborts, naming it
 * (gt_invariant_fail). Each check also returns an error, so a test can show it
 * fires on a state corrupted by hand. Only GT_EINVAL (an invariant broken)
 * aborts: a check that could not read (out of memory under the allocation
 * tests) is skipped, as it proves nothing either way. */
#ifndef GT_LEDGER_INVARIANTS_H
#define GT_LEDGER_INVARIANTS_H

#include "ledger/state.h"

/* The open action's changes (those since gt_tx_begin_action): supply
 * conserved, amounts in range, locks matching locked. O(rows touched).
 * 0, or GT_EINVAL with "invariant <name>: ..." in err. */
int gt_state_check_action(gt_tx *tx, gt_err *err);

/* The whole store after a flush (every table against the others and the
 * supply). 0, GT_EINVAL naming the invariant, or GT_EDB. */
int gt_ledger_check_books(gt_tx *tx, gt_err *err);

/* Prints "invariant broken: <msg>" and aborts. */
_Noreturn void gt_invariant_fail(const char *msg);

/* Test hook: changes a's cached balance by d_balance without any other
 * change, as a bug would (so a test can see the checks fire). */
void gt_state_corrupt_for_test(gt_tx *tx, const gt_addr *a, int64_t d_balance);

#ifdef GT_INVARIANTS
#define GT_INVARIANT_CHECK(call)                                \
    do {                                                        \
        gt_err inv_err_ = {0};                                  \
        if ((call)(tx, &inv_err_) == GT_EINVAL) gt_invariant_fail(inv_err_.msg); \
    } while (0)
#else
#define GT_INVARIANT_CHECK(call) ((void)0)
#endif

#endif
