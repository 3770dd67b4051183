/* airdrop.h: an airdrop (an epoch's points paid out) as a Merkle tree whose
 * proofs Uniswap's MerkleDistributor accepts on chain:
 *   leaf  = keccak256(abi.encodePacked(uint256 index, address account, uint256 amount))
 *           (32-byte big-endian index, 20-byte address, 32-byte big-endian amount)
 *   nodes = keccak256 of the sorted pair (OpenZeppelin's MerkleProof; crypto/merkle.h)
 * The leaves are sorted by their hash before the tree is built, as Uniswap's
 * balance-tree script does, so the same claims give the same root there; a
 * proof verifies whatever the leaf order, since pairs are sorted. Claim i of
 * the list gets index i. */
#ifndef GT_FUND_AIRDROP_H
#define GT_FUND_AIRDROP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"
#include "crypto/merkle.h"

#define GT_FUND_AIRDROP_MAX_CLAIMS GT_MERKLE_MAX_LEAVES
#define GT_FUND_LEAF_BYTES 84 /* 32 + 20 + 32 */

typedef struct gt_fund_claim {
    gt_addr account; /* not the zero address; each account once per airdrop */
    uint64_t amount; /* base units, > 0 */
} gt_fund_claim;

typedef struct gt_fund_airdrop {
    size_t n;
    uint8_t (*leaves)[32]; /* sorted by hash */
    uint32_t *pos;         /* pos[index]: where claim index's leaf sits in leaves */
    uint8_t root[32];
} gt_fund_airdrop;

/* The leaf of claim (index, account, amount). */
void gt_fund_airdrop_leaf(uint64_t index, const gt_addr *account, uint64_t amount, uint8_t out[32]);
/* Builds the tree of n claims (1 .. GT_FUND_AIRDROP_MAX_CLAIMS). Refuses a
 * zero amount, the zero address and an account listed twice. Free with
 * gt_fund_airdrop_free. 0 or GT_EINVAL / GT_ELIMIT / GT_ENOMEM. */
int gt_fund_airdrop_build(const gt_fund_claim *claims, size_t n, gt_fund_airdrop *out, gt_err *err);
void gt_fund_airdrop_free(gt_fund_airdrop *a);
/* The proof of claim index (bottom-up siblings); caller frees *proof with
 * gt_free (NULL when *len is 0, the one-claim tree). */
int gt_fund_airdrop_proof(const gt_fund_airdrop *a, uint64_t index, uint8_t (**proof)[32],
                          size_t *len, gt_err *err);
/* 1 if (index, account, amount) with proof folds to root, else 0: the
 * check MerkleDistributor.claim makes. */
int gt_fund_airdrop_verify(uint64_t index, const gt_addr *account, uint64_t amount,
                           const uint8_t (*proof)[32], size_t len, const uint8_t root[32]);

#endif
