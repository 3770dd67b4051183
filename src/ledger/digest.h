/* digest.h: a commitment to the whole core state (accounts, escrow locks,
 * unbonding entries, supply) that is cheap both to keep current block by
 * block and to recompute from the tables when a ledger is opened.
 *
 * It is a multiset hash: the sum, modulo 2^2048, of H(row) over every row,
 * where H(row) is the row's canonical bytes (a tag byte, then fixed-width
 * big-endian fields) squeezed to 2048 bits from the Keccak sponge. Adding a
 * row adds its H, removing one subtracts it, so the live ledger (which only
 * sees the rows a block changed) and a full scan agree whatever the order.
 * The 32-byte state digest a block header carries is
 *   keccak256("gotong-state-v1" ‖ sum (256 bytes, little-endian words) ‖ supply (be64)).
 *
 * What it guarantees: a change to any row of those tables (or to supply)
 * made outside the rules changes the digest unless the editor solves a
 * generalised birthday problem over 2048-bit sums (Wagner's k-tree: on the
 * order of 2^90 work). What it does not cover: the market's and other
 * modules' own tables (only `gotong ledger verify`, a full replay, checks
 * those). */
#ifndef GT_LEDGER_DIGEST_H
#define GT_LEDGER_DIGEST_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"
#include "ledger/state.h"

#define GT_DIGEST_WORDS 32 /* 2048 bits */

typedef struct gt_digest_acc {
    uint64_t w[GT_DIGEST_WORDS]; /* little-endian limbs of the sum */
} gt_digest_acc;

/* sign: +1 adds the row, -1 removes it. */
void gt_digest_account(gt_digest_acc *acc, const gt_account *a, int sign);
void gt_digest_lock(gt_digest_acc *acc, const gt_lock *l, int sign);
void gt_digest_unbonding(gt_digest_acc *acc, uint64_t seq, const gt_addr *a, uint64_t amount,
                         uint64_t release_height, int sign);
/* The 32-byte digest a block header carries. */
void gt_digest_final(const gt_digest_acc *acc, uint64_t supply, uint8_t out[32]);

/* Recomputes the sum from the tables of db (every row of accounts, locks and
 * unbonding) and the sum of every account's four buckets into *buckets
 * (*overflow set when that sum does not fit in 64 bits or a stored value is
 * negative). GT_EDB on any SQLite error: a store that cannot be read is never
 * taken as consistent. */
int gt_digest_scan(sqlite3 *db, gt_digest_acc *acc, uint64_t *buckets, int *overflow, gt_err *err);

#endif
