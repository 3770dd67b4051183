/* merkle.c: sorted-pair keccak Merkle trees (OpenZeppelin MerkleProof).
 *
 * The tree pairs nodes left to right level by level and promotes a lone last
 * node. Seen from the leaves, the node at level L and index i then covers
 * leaves [i*2^L, min((i+1)*2^L, n)), so a subtree is fully described by a
 * leaf range and a power-of-two span. We recurse over that description
 * instead of materialising levels: the root needs no allocation, and a proof
 * needs only the siblings along one path (depth <= 25 for the leaf limit). */
#include "crypto/merkle.h"

#include <assert.h>
#include <string.h>

#include "base/alloc.h"
#include "crypto/keccak.h"

#define MERKLE_MAX_DEPTH 32

/* keccak(min(a,b) || max(a,b)): OpenZeppelin's _hashPair. out may alias a or b. */
void gt_merkle_hash_pair(const uint8_t a[32], const uint8_t b[32], uint8_t out[32]) {
    uint8_t buf[64];
    if (memcmp(a, b, 32) <= 0) {
        memcpy(buf, a, 32);
        memcpy(buf + 32, b, 32);
    } else {
        memcpy(buf, b, 32);
        memcpy(buf + 32, a, 32);
    }
    gt_keccak256(buf, 64, out);
}

/* Smallest power of two >= n (n >= 1). */
static size_t span_for(size_t n) {
    size_t s = 1;
    while (s < n) s <<= 1;
    return s;
}

/* Root of leaves [lo, hi) inside an aligned span (a power of two with
 * hi - lo <= span). A range that fits in the left half was never paired at
 * this level (its right sibling does not exist), so it is promoted. */
static void subtree_root(const uint8_t (*leaves)[32], size_t lo, size_t hi, size_t span,
                         uint8_t out[32]) {
    assert(hi > lo && hi - lo <= span);
    if (span == 1) {
        memcpy(out, leaves[lo], 32);
        return;
    }
    size_t half = span / 2;
    if (hi - lo <= half) {
        subtree_root(leaves, lo, hi, half, out);
        return;
    }
    uint8_t l[32], r[32];
    subtree_root(leaves, lo, lo + half, half, l);
    subtree_root(leaves, lo + half, hi, half, r);
    gt_merkle_hash_pair(l, r, out);
}

/* Root of the whole tree; no allocation (see the file comment). */
void gt_merkle_root(const uint8_t (*leaves)[32], size_t n, uint8_t root[32]) {
    if (n == 0) {
        memset(root, 0, 32);
        return;
    }
    subtree_root(leaves, 0, n, span_for(n), root);
}

/* Puts the sorted pair (a, b) into buf, as gt_merkle_hash_pair hashes it. */
static void pair_bytes(const uint8_t a[32], const uint8_t b[32], uint8_t buf[64]) {
    int a_first = memcmp(a, b, 32) <= 0;
    memcpy(buf, a_first ? a : b, 32);
    memcpy(buf + 32, a_first ? b : a, 32);
}

/* The same tree built the other way: level by level (pairs left to right,
 * a lone last node promoted), in nodes itself, four pairs hashed at once
 * (gt_keccak256_x4). A level's pair j is written to node j only after the
 * four pairs of its batch were read, and pairs are read from 2j on. */
void gt_merkle_root_scratch(uint8_t (*nodes)[32], size_t n, uint8_t root[32]) {
    if (n == 0) {
        memset(root, 0, 32);
        return;
    }
    while (n > 1) {
        size_t pairs = n / 2;
        for (size_t j = 0; j < pairs; j += 4) {
            if (j + 1 == pairs) { /* a lone pair: four abreast would cost more than one */
                gt_merkle_hash_pair(nodes[2 * j], nodes[2 * j + 1], nodes[j]);
                break;
            }
            uint8_t buf[4][64], spare[32];
            const uint8_t *msg[4];
            uint8_t *out[4];
            for (size_t k = 0; k < 4; k++) {
                size_t p = j + k < pairs ? j + k : j; /* past the end: a copy, its hash dropped */
                pair_bytes(nodes[2 * p], nodes[2 * p + 1], buf[k]);
                msg[k] = buf[k];
                out[k] = j + k < pairs ? nodes[j + k] : spare;
            }
            gt_keccak256_x4(msg, 64, out);
        }
        if (n & 1) memmove(nodes[pairs], nodes[n - 1], 32);
        n = pairs + (n & 1);
    }
    memcpy(root, nodes[0], 32);
}

/* Sibling hashes from leaf to root for leaves[index] (see merkle.h). */
int gt_merkle_proof(const uint8_t (*leaves)[32], size_t n, size_t index,
                    uint8_t (**proof_out)[32], size_t *proof_len, gt_err *err) {
    *proof_out = NULL;
    *proof_len = 0;
    if (n == 0) return gt_err_set(err, GT_EINVAL, "no leaves to prove against");
    if (n > GT_MERKLE_MAX_LEAVES)
        return gt_err_set(err, GT_ELIMIT, "%zu leaves; at most %u supported", n,
                          GT_MERKLE_MAX_LEAVES);
    if (index >= n)
        return gt_err_set(err, GT_EINVAL, "leaf index %zu out of range (tree has %zu leaves)",
                          index, n);
    /* Walk down from the root towards the leaf; record each existing sibling,
     * then reverse so the proof runs bottom-up as verifiers fold it. */
    uint8_t sib[MERKLE_MAX_DEPTH][32];
    size_t ns = 0, lo = 0, hi = n, span = span_for(n);
    while (span > 1) {
        size_t half = span / 2;
        if (hi - lo <= half) { /* promoted: no sibling at this level */
            span = half;
            continue;
        }
        assert(ns < MERKLE_MAX_DEPTH);
        if (index < lo + half) {
            subtree_root(leaves, lo + half, hi, half, sib[ns++]);
            hi = lo + half;
        } else {
            subtree_root(leaves, lo, lo + half, half, sib[ns++]);
            lo = lo + half;
        }
        span = half;
    }
    if (ns == 0) return 0;
    uint8_t (*p)[32] = gt_malloc(ns * 32);
    if (!p) return gt_err_set(err, GT_ENOMEM, "out of memory for a Merkle proof");
    for (size_t i = 0; i < ns; i++) memcpy(p[i], sib[ns - 1 - i], 32);
    *proof_out = p;
    *proof_len = ns;
    return 0;
}

/* Folds the proof into the leaf with sorted pairs and compares the root. */
int gt_merkle_verify(const uint8_t leaf[32], const uint8_t (*proof)[32], size_t proof_len,
                     const uint8_t root[32]) {
    uint8_t h[32];
    memcpy(h, leaf, 32);
    for (size_t i = 0; i < proof_len; i++) gt_merkle_hash_pair(h, proof[i], h);
    return memcmp(h, root, 32) == 0;
}
