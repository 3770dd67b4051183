/* check.h: the check a writer runs when it opens a ledger, so that a node
 * never builds on a ledger edited outside the rules. Cheaper than replay
 * (`gotong ledger verify`: no signature is recovered, no rule is run), it
 * still reads every block header and every stored action once:
 *
 *   - heights run 0, 1, 2, ... with none missing;
 *   - each block's hash is the hash of its header, and links to the previous
 *     block's; block times never go backwards; genesis matches the genesis
 *     parameters in meta;
 *   - each block's actions are the ones its header counts and its actions
 *     root commits to: every stored action is decoded and its id (the EIP-712
 *     digest of what it says) recomputed, so an edited field is caught;
 *   - the state on disk (accounts, locks, unbonding, supply) has the state
 *     digest the head block commits to (digest.h);
 *   - supply is conserved: every account's buckets add up to supply.
 *
 * Not checked here (only by `ledger verify`): signatures, the rules
 * themselves, and the market's and other modules' own tables. */
#ifndef GT_LEDGER_CHECK_H
#define GT_LEDGER_CHECK_H

#include <sqlite3.h>

#include "ledger/digest.h"
#include "ledger/ledger.h"

/* Runs the check on db (whose genesis parameters are g and signing domain
 * dom). On success fills *acc with the state's digest sum (so the writer can
 * keep it current) and returns 0. On failure returns GT_EINVAL (damaged) or
 * GT_EDB (unreadable) with a message naming the first bad block. */
int gt_ledger_check(sqlite3 *db, const gt_genesis *g, const gt_domain *dom, gt_digest_acc *acc, gt_err *err);

#endif
