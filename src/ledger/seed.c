/* seed.c: the hash chain of draw seeds (see seed.h). */
#include "ledger/seed.h"

#include <assert.h>
#include <string.h>

#include "crypto/keccak.h"

/* c_k[L]: the top of segment k, from which the segment is walked down. */
static void segment_top(const uint8_t secret[32], uint64_t k, uint8_t out[32]) {
    static const char tag[] = "gotong-seed-chain-v1";
    uint8_t buf[sizeof tag - 1 + 32 + 8];
    memcpy(buf, tag, sizeof tag - 1);
    memcpy(buf + sizeof tag - 1, secret, 32);
    for (int b = 0; b < 8; b++) buf[sizeof tag - 1 + 32 + b] = (uint8_t)(k >> (56 - 8 * b));
    gt_keccak256(buf, sizeof buf, out);
}

/* Fills seg[0..L] with segment k (seg may be NULL: only the anchor wanted). */
static void segment_fill(const uint8_t secret[32], uint64_t k, uint8_t (*seg)[32], uint8_t anchor[32]) {
    uint8_t cur[32];
    segment_top(secret, k, cur);
    if (seg) memcpy(seg[GT_SEED_CHAIN_BLOCKS], cur, 32);
    for (int j = GT_SEED_CHAIN_BLOCKS; j > 0; j--) {
        gt_keccak256(cur, 32, cur);
        if (seg) memcpy(seg[j - 1], cur, 32);
    }
    memcpy(anchor, cur, 32);
}

void gt_seed_genesis(const uint8_t secret[32], uint8_t seed[32], uint8_t anchor[32]) {
    segment_fill(secret, 0, NULL, seed);
    segment_fill(secret, 1, NULL, anchor);
}

void gt_seed_for_block(gt_seed_chain *c, uint64_t height, uint8_t seed[32], uint8_t anchor[32]) {
    /* Genesis (height 0) is c_0[0] = A_0 with anchor A_1: segment 0's, which
     * the first block needs next, so the writer's open loads it once. */
    uint64_t k = height ? (height - 1) / GT_SEED_CHAIN_BLOCKS : 0;
    uint64_t j = height ? (height - 1) % GT_SEED_CHAIN_BLOCKS + 1 : 0;
    if (!c->loaded || c->segment != k) {
        uint8_t a0[32];
        segment_fill(c->secret, k, c->seg, a0);
        segment_fill(c->secret, k + 1, NULL, c->next_anchor);
        c->segment = k;
        c->loaded = 1;
    }
    memcpy(seed, c->seg[j], 32);
    memcpy(anchor, c->next_anchor, 32);
}

int gt_seed_check(uint64_t height, const uint8_t prev_seed[32], const uint8_t prev_anchor[32],
                  const uint8_t seed[32], const uint8_t anchor[32], gt_err *err) {
    assert(height >= 1);
    unsigned long long h = (unsigned long long)height;
    int first = height > 1 && (height - 1) % GT_SEED_CHAIN_BLOCKS == 0;
    uint8_t hashed[32];
    gt_keccak256(seed, 32, hashed);
    if (memcmp(hashed, first ? prev_anchor : prev_seed, 32))
        return gt_err_set(err, GT_EINVAL,
                          "block %llu: its draw seed does not open %s (keccak256(seed) must equal it: the seeds "
                          "are a hash chain fixed in advance)",
                          h, first ? "the anchor the previous block committed to" : "the previous block's seed");
    if (!first && memcmp(anchor, prev_anchor, 32))
        return gt_err_set(err, GT_EINVAL, "block %llu: its next seed anchor differs from the previous block's "
                          "(it may change only at the first block of a segment of %d)", h, GT_SEED_CHAIN_BLOCKS);
    return 0;
}
