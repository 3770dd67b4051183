/* seed.h: the draw seed every block header reveals -- randomness that no
 * party knows when it acts, and that the block maker cannot choose.
 *
 * The node that makes blocks holds a 32-byte secret (meta 'seed_secret',
 * drawn from the OS at `gotong init`). It is cut into segments of
 * GT_SEED_CHAIN_BLOCKS blocks; segment k is a hash chain
 *     c_k[L] = keccak256("gotong-seed-chain-v1" ‖ secret ‖ be64(k)),
 *     c_k[j-1] = keccak256(c_k[j]),         anchor A_k = c_k[0],
 * walked backwards: block h >= 1 (segment k = (h-1)/L, position
 * j = (h-1)%L + 1) reveals seed_h = c_k[j], so keccak256(seed_h) is the seed
 * the block before revealed, or A_k at the first block of a segment. Every
 * header also carries seed_anchor = A_{k+1}, the anchor of the next segment,
 * committed a whole segment before any of its seeds is used. Genesis carries
 * seed = A_0 and seed_anchor = A_1, and its hash (the network's signing salt)
 * commits to both.
 *
 * Checked at open and by `ledger verify` (gt_seed_check): a header whose seed
 * does not hash to the previous one is refused. So once the genesis (or the
 * next anchor) is out, every seed is fixed: adding, dropping or reordering
 * the actions of a block changes its hash, never its seed. A rule that needs
 * randomness takes the seed of a block that did not exist when the action it
 * answers was made (the market's panel draws: the block two after).
 *
 * What it does not guarantee: the node knows its own future seeds, so it (or
 * whoever it tells) can choose *when* an opening action enters a block; and
 * whoever reads the secret out of the node's ledger.db reads every future
 * seed. */
#ifndef GT_LEDGER_SEED_H
#define GT_LEDGER_SEED_H

#include <stdint.h>

#include "base/err.h"

/* Blocks per segment of the chain: the node keeps one segment (L+1 hashes,
 * 32 KiB) in memory and recomputes it once per L blocks. */
#define GT_SEED_CHAIN_BLOCKS 1024

typedef struct gt_seed_chain {
    uint8_t secret[32];
    int loaded;                                 /* seg[] holds segment `segment` */
    uint64_t segment;
    uint8_t seg[GT_SEED_CHAIN_BLOCKS + 1][32];  /* c_k[0..L] */
    uint8_t next_anchor[32];                    /* A_{k+1} */
} gt_seed_chain;

/* Genesis: seed = A_0, anchor = A_1 of the secret. */
void gt_seed_genesis(const uint8_t secret[32], uint8_t seed[32], uint8_t anchor[32]);

/* The seed and next-segment anchor block `height` reveals (height 0: the
 * genesis's, as gt_seed_genesis; keeps the segment for the next blocks). */
void gt_seed_for_block(gt_seed_chain *c, uint64_t height, uint8_t seed[32], uint8_t anchor[32]);

/* Checks block `height`'s (seed, anchor) against the previous block's:
 * keccak256(seed) must be the previous seed (or, at the first block of a
 * segment after the first, the previous anchor), and the anchor must stay
 * the same within a segment. 0, or GT_EINVAL naming the block. */
int gt_seed_check(uint64_t height, const uint8_t prev_seed[32], const uint8_t prev_anchor[32],
                  const uint8_t seed[32], const uint8_t anchor[32], gt_err *err);

#endif
