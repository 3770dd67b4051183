/* merkle.h: keccak-256 Merkle trees that OpenZeppelin's MerkleProof.verify
 * accepts: each parent is keccak(min(a,b) || max(a,b)) (sorted pairs, so a
 * proof needs no left/right flags), and an odd node at the end of a level is
 * promoted unchanged to the next. Used for airdrops and dataset roots.
 * Leaves and inner nodes are hashed with no prefix to tell them apart: a
 * leaf hashed from exactly 64 bytes could be the preimage of an inner node,
 * so a caller must keep such leaves out (airdrop leaves hash 84 bytes;
 * dataset rows of 64 bytes are refused, work/data/export.h). */
#ifndef GT_CRYPTO_MERKLE_H
#define GT_CRYPTO_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Leaves in one tree: 2^24 leaves is 512 MiB of hashes, more than any airdrop. */
#define GT_MERKLE_MAX_LEAVES (1u << 24)

/* Hash of a sorted pair: keccak(min(a,b) || max(a,b)). */
void gt_merkle_hash_pair(const uint8_t a[32], const uint8_t b[32], uint8_t out[32]);
/* Root of n leaves (in the given order); n == 0 gives 32 zero bytes, n == 1
 * the leaf itself. */
void gt_merkle_root(const uint8_t (*leaves)[32], size_t n, uint8_t root[32]);
/* The same root, computed in nodes (n leaves on entry, overwritten: pass
 * scratch) four hashes at a time: for callers that hash many trees (the
 * ledger's actions root of every block). */
void gt_merkle_root_scratch(uint8_t (*nodes)[32], size_t n, uint8_t root[32]);
/* Proof for leaves[index]: the sibling hashes from the bottom up (promoted
 * levels contribute none). Caller frees *proof_out with gt_free (NULL when
 * *proof_len is 0). */
int gt_merkle_proof(const uint8_t (*leaves)[32], size_t n, size_t index,
                    uint8_t (**proof_out)[32], size_t *proof_len, gt_err *err);
/* 1 if folding leaf with proof (sorted pairs) gives root, else 0. */
int gt_merkle_verify(const uint8_t leaf[32], const uint8_t (*proof)[32], size_t proof_len,
                     const uint8_t root[32]);

#endif
