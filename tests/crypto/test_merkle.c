/* test_merkle.c: sorted-pair Merkle trees. The library recurses over leaf
 * ranges; here an independent level-by-level construction (pair left to
 * right, promote a lone last node) is the reference. Every proof of every
 * tree size up to 70 must verify, and tampered proofs must not. */
#include "../test.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"

/* Reference root: materialise each level. */
static void ref_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[32]) {
    uint8_t (*lvl)[32] = gt_malloc(n * 32);
    memcpy(lvl, leaves, n * 32);
    while (n > 1) {
        size_t m = 0;
        for (size_t i = 0; i < n; i += 2, m++) {
            if (i + 1 < n) {
                uint8_t buf[64];
                int lo = memcmp(lvl[i], lvl[i + 1], 32) <= 0;
                memcpy(buf, lo ? lvl[i] : lvl[i + 1], 32);
                memcpy(buf + 32, lo ? lvl[i + 1] : lvl[i], 32);
                gt_keccak256(buf, 64, lvl[m]);
            } else {
                memmove(lvl[m], lvl[i], 32);
            }
        }
        n = m;
    }
    memcpy(out, lvl[0], 32);
    gt_free(lvl);
}

static void make_leaves(uint8_t (*l)[32], size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint64_t v = i * 2654435761u + 7;
        gt_keccak256(&v, sizeof v, l[i]);
    }
}

static void test_small_cases(void) {
    uint8_t root[32], zero[32] = {0}, l[3][32];
    make_leaves(l, 3);
    gt_merkle_root(NULL, 0, root);
    CHECK(memcmp(root, zero, 32) == 0);
    gt_merkle_root(l, 1, root);
    CHECK(memcmp(root, l[0], 32) == 0);
    /* three leaves: H(H(a,b), c), c promoted at the first level */
    uint8_t ab[32], want[32];
    gt_merkle_hash_pair(l[0], l[1], ab);
    gt_merkle_hash_pair(ab, l[2], want);
    gt_merkle_root(l, 3, root);
    CHECK(memcmp(root, want, 32) == 0);
    /* sorted pairs: order of the two inputs does not matter */
    uint8_t ba[32];
    gt_merkle_hash_pair(l[1], l[0], ba);
    CHECK(memcmp(ab, ba, 32) == 0);
    uint8_t (*p)[32];
    size_t pl;
    CHECK_EQ_INT(gt_merkle_proof(l, 1, 0, &p, &pl, NULL), 0);
    CHECK_EQ_INT((int)pl, 0);
    CHECK(gt_merkle_verify(l[0], p, pl, l[0]));
    CHECK_EQ_INT(gt_merkle_proof(l, 3, 2, &p, &pl, NULL), 0);
    CHECK_EQ_INT((int)pl, 1); /* c's only sibling is H(a,b) */
    CHECK(pl == 1 && memcmp(p[0], ab, 32) == 0);
    gt_free(p);
}

static void test_against_reference(void) {
    enum { MAX_N = 70 };
    static uint8_t l[MAX_N][32];
    make_leaves(l, MAX_N);
    int bad_root = 0, bad_proof = 0, accepted_bad = 0;
    for (size_t n = 1; n <= MAX_N; n++) {
        uint8_t root[32], want[32];
        gt_merkle_root(l, n, root);
        ref_root(l, n, want);
        bad_root += memcmp(root, want, 32) != 0;
        for (size_t i = 0; i < n; i++) {
            uint8_t (*p)[32];
            size_t pl;
            if (gt_merkle_proof(l, n, i, &p, &pl, NULL)) {
                bad_proof++;
                continue;
            }
            bad_proof += !gt_merkle_verify(l[i], p, pl, root);
            /* another leaf with this proof, or a flipped bit, must fail */
            accepted_bad += gt_merkle_verify(l[(i + 1) % MAX_N], p, pl, root);
            if (pl) {
                p[pl - 1][5] ^= 0x40;
                accepted_bad += gt_merkle_verify(l[i], p, pl, root);
            }
            gt_free(p);
        }
    }
    CHECK_EQ_INT(bad_root, 0);
    CHECK_EQ_INT(bad_proof, 0);
    CHECK_EQ_INT(accepted_bad, 0);
}

/* The level-by-level root computed in scratch, four pairs at a time, is the
 * recursive root for every size up to 300 (every tail of a batch of four,
 * at every level). */
static void test_root_scratch(void) {
    enum { MAX_N = 300 };
    static uint8_t l[MAX_N][32], scratch[MAX_N][32];
    make_leaves(l, MAX_N);
    int bad = 0;
    for (size_t n = 0; n <= MAX_N; n++) {
        uint8_t root[32], want[32];
        memcpy(scratch, l, n * 32);
        gt_merkle_root_scratch(scratch, n, root);
        gt_merkle_root(l, n, want);
        bad += memcmp(root, want, 32) != 0;
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_errors(void) {
    uint8_t l[2][32];
    make_leaves(l, 2);
    uint8_t (*p)[32];
    size_t pl;
    gt_err err;
    CHECK_EQ_INT(gt_merkle_proof(l, 2, 2, &p, &pl, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "out of range");
    CHECK_EQ_INT(gt_merkle_proof(l, 0, 0, &p, &pl, &err), GT_EINVAL);
    CHECK(p == NULL && pl == 0);
    gt_alloc_fail_after(0);
    int rc = gt_merkle_proof(l, 2, 0, &p, &pl, &err);
    gt_alloc_fail_after(-1);
    CHECK_EQ_INT(rc, GT_ENOMEM);
}

int main(void) {
    RUN(test_small_cases);
    RUN(test_against_reference);
    RUN(test_root_scratch);
    RUN(test_errors);
    return gt_test_finish();
}
