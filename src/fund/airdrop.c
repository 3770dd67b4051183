/* airdrop.c: airdrop Merkle trees (layout in airdrop.h). The tree itself is
 * crypto/merkle.c's; this file makes the leaves, orders them and keeps, per
 * claim index, where its leaf went. */
#include "fund/airdrop.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"

/* Writes v as a 32-byte big-endian uint256. */
static void put_u256(uint8_t out[32], uint64_t v) {
    memset(out, 0, 24);
    for (int i = 0; i < 8; i++) out[31 - i] = (uint8_t)(v >> (8 * i));
}

/* keccak256(abi.encodePacked(uint256 index, address account, uint256 amount)). */
void gt_fund_airdrop_leaf(uint64_t index, const gt_addr *account, uint64_t amount, uint8_t out[32]) {
    uint8_t buf[GT_FUND_LEAF_BYTES];
    put_u256(buf, index);
    memcpy(buf + 32, account->b, 20);
    put_u256(buf + 52, amount);
    gt_keccak256(buf, sizeof buf, out);
}

/* Orders accounts by their bytes (to find one listed twice). */
static int cmp_addr(const void *a, const void *b) {
    return memcmp(a, b, sizeof(gt_addr));
}

/* Checks every claim: a positive amount, not the zero address, no account twice. */
static int check_claims(const gt_fund_claim *c, size_t n, gt_err *err) {
    if (n == 0) return gt_err_set(err, GT_EINVAL, "an airdrop needs at least one claim");
    if (n > GT_FUND_AIRDROP_MAX_CLAIMS)
        return gt_err_set(err, GT_ELIMIT, "%zu claims; an airdrop holds at most %u", n,
                          GT_FUND_AIRDROP_MAX_CLAIMS);
    for (size_t i = 0; i < n; i++) {
        if (c[i].amount == 0)
            return gt_err_set(err, GT_EINVAL, "claim %zu is for 0; expected a positive amount", i);
        if (gt_addr_is_zero(&c[i].account))
            return gt_err_set(err, GT_EINVAL, "claim %zu is for the zero address", i);
    }
    gt_addr *s = gt_malloc(n * sizeof *s);
    if (!s) return gt_err_set(err, GT_ENOMEM, "out of memory for an airdrop");
    for (size_t i = 0; i < n; i++) s[i] = c[i].account;
    qsort(s, n, sizeof *s, cmp_addr);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++) {
        if (gt_addr_eq(&s[i - 1], &s[i])) {
            char a[GT_ADDR_STR_BYTES];
            gt_addr_to_str(&s[i], a);
            rc = gt_err_set(err, GT_EINVAL, "account %s is listed twice; one claim per account", a);
        }
    }
    gt_free(s);
    return rc;
}

/* A leaf and the claim index it came from, for sorting. */
typedef struct keyed_leaf {
    uint8_t h[32];
    uint32_t index;
} keyed_leaf;

static int cmp_leaf(const void *a, const void *b) {
    return memcmp(((const keyed_leaf *)a)->h, ((const keyed_leaf *)b)->h, 32);
}

/* See airdrop.h. */
int gt_fund_airdrop_build(const gt_fund_claim *c, size_t n, gt_fund_airdrop *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    int rc = check_claims(c, n, err);
    if (rc) return rc;
    keyed_leaf *k = gt_malloc(n * sizeof *k);
    out->leaves = gt_malloc(n * 32);
    out->pos = gt_malloc(n * sizeof *out->pos);
    if (!k || !out->leaves || !out->pos) {
        gt_free(k);
        gt_fund_airdrop_free(out);
        return gt_err_set(err, GT_ENOMEM, "out of memory for an airdrop of %zu claims", n);
    }
    for (size_t i = 0; i < n; i++) {
        gt_fund_airdrop_leaf(i, &c[i].account, c[i].amount, k[i].h);
        k[i].index = (uint32_t)i;
    }
    qsort(k, n, sizeof *k, cmp_leaf);
    for (size_t i = 0; i < n; i++) {
        memcpy(out->leaves[i], k[i].h, 32);
        out->pos[k[i].index] = (uint32_t)i;
    }
    gt_free(k);
    out->n = n;
    gt_merkle_root((const uint8_t(*)[32])out->leaves, n, out->root);
    return 0;
}

/* Frees the tree's arrays; a zeroed or freed airdrop is fine. */
void gt_fund_airdrop_free(gt_fund_airdrop *a) {
    gt_free(a->leaves);
    gt_free(a->pos);
    memset(a, 0, sizeof *a);
}

/* See airdrop.h. */
int gt_fund_airdrop_proof(const gt_fund_airdrop *a, uint64_t index, uint8_t (**proof)[32],
                          size_t *len, gt_err *err) {
    *proof = NULL;
    *len = 0;
    if (index >= a->n)
        return gt_err_set(err, GT_EINVAL, "claim index %llu out of range (the airdrop has %zu)",
                          (unsigned long long)index, a->n);
    assert(a->pos[index] < a->n);
    return gt_merkle_proof((const uint8_t(*)[32])a->leaves, a->n, a->pos[index], proof, len, err);
}

/* See airdrop.h. */
int gt_fund_airdrop_verify(uint64_t index, const gt_addr *account, uint64_t amount,
                           const uint8_t (*proof)[32], size_t len, const uint8_t root[32]) {
    uint8_t leaf[32];
    gt_fund_airdrop_leaf(index, account, amount, leaf);
    return gt_merkle_verify(leaf, proof, len, root);
}
