/* test_airdrop.c: airdrop Merkle trees (src/fund/airdrop.c): the leaf's
 * byte layout, proofs for every claim of trees of 1..40 claims and their
 * refusal of any altered field, input refusals, and the leaves and root
 * against Foundry's cast (abi-encode --packed, keccak), an independent
 * implementation. cast comes from npm via `bash scripts/setup.sh test` into
 * .cache/npm; without it that part is skipped, loudly. */
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "fund/airdrop.h"

#define CAST GT_SOURCE_DIR "/.cache/npm/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"

/* A nonzero address made from a number (0xb0, then id big-endian at the end). */
static gt_addr addr_of(uint32_t id) {
    gt_addr a;
    memset(&a, 0, sizeof a);
    a.b[0] = 0xb0;
    a.b[7] = (uint8_t)(id * 37);
    for (int i = 0; i < 4; i++) a.b[19 - i] = (uint8_t)(id >> (8 * i));
    return a;
}

/* n claims: account i, amount (i+1) tokens plus some odd units. */
static gt_fund_claim *make_claims(size_t n) {
    gt_fund_claim *c = gt_malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = (gt_fund_claim){.account = addr_of((uint32_t)i + 1),
                               .amount = (i + 1) * 1000000ull + i * 7919};
    return c;
}

/* The leaf is keccak over 84 bytes: index as 32 bytes big-endian, the
 * 20-byte address, amount as 32 bytes big-endian (abi.encodePacked of
 * uint256, address, uint256). Built byte by byte here. */
static void test_leaf_layout(void) {
    gt_addr a = addr_of(9);
    uint64_t index = 0x0102030405060708ull, amount = 0xfffffffffffffffeull;
    uint8_t buf[84] = {0}, want[32], got[32];
    for (int i = 0; i < 8; i++) buf[24 + i] = (uint8_t)(index >> (56 - 8 * i));
    memcpy(buf + 32, a.b, 20);
    for (int i = 0; i < 8; i++) buf[76 + i] = (uint8_t)(amount >> (56 - 8 * i));
    gt_keccak256(buf, sizeof buf, want);
    gt_fund_airdrop_leaf(index, &a, amount, got);
    CHECK(memcmp(want, got, 32) == 0);
}

/* Every claim's proof verifies; changing its index, account, amount, one
 * proof byte, or the root makes it fail. */
static void test_every_proof(void) {
    for (size_t n = 1; n <= 40; n++) {
        gt_fund_claim *c = make_claims(n);
        gt_fund_airdrop a;
        gt_err err = {0};
        CHECK_EQ_INT(gt_fund_airdrop_build(c, n, &a, &err), 0);
        for (size_t i = 0; i < n; i++) {
            uint8_t (*p)[32];
            size_t len;
            CHECK_EQ_INT(gt_fund_airdrop_proof(&a, i, &p, &len, &err), 0);
            CHECK(gt_fund_airdrop_verify(i, &c[i].account, c[i].amount, (const uint8_t(*)[32])p, len,
                                         a.root));
            CHECK(!gt_fund_airdrop_verify(i, &c[i].account, c[i].amount + 1,
                                          (const uint8_t(*)[32])p, len, a.root));
            CHECK(!gt_fund_airdrop_verify(i + 1, &c[i].account, c[i].amount,
                                          (const uint8_t(*)[32])p, len, a.root));
            gt_addr other = addr_of(1000);
            CHECK(!gt_fund_airdrop_verify(i, &other, c[i].amount, (const uint8_t(*)[32])p, len,
                                          a.root));
            if (len > 0) {
                p[len - 1][5] ^= 1;
                CHECK(!gt_fund_airdrop_verify(i, &c[i].account, c[i].amount,
                                              (const uint8_t(*)[32])p, len, a.root));
            }
            uint8_t root2[32];
            memcpy(root2, a.root, 32);
            root2[0] ^= 0x80;
            CHECK(!gt_fund_airdrop_verify(i, &c[i].account, c[i].amount, (const uint8_t(*)[32])p,
                                          len, root2));
            gt_free(p);
        }
        gt_fund_airdrop_free(&a);
        gt_free(c);
    }
}

static void test_refusals(void) {
    gt_fund_claim *c = make_claims(4);
    gt_fund_airdrop a;
    gt_err err = {0};
    CHECK_EQ_INT(gt_fund_airdrop_build(c, 0, &a, &err), GT_EINVAL);
    c[2].amount = 0;
    CHECK_EQ_INT(gt_fund_airdrop_build(c, 4, &a, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "claim 2 is for 0");
    c[2].amount = 5;
    memset(&c[1].account, 0, sizeof c[1].account);
    CHECK_EQ_INT(gt_fund_airdrop_build(c, 4, &a, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "zero address");
    c[1].account = c[3].account;
    CHECK_EQ_INT(gt_fund_airdrop_build(c, 4, &a, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "listed twice");
    c[1].account = addr_of(77);
    CHECK_EQ_INT(gt_fund_airdrop_build(c, 4, &a, &err), 0);
    uint8_t (*p)[32];
    size_t len;
    CHECK_EQ_INT(gt_fund_airdrop_proof(&a, 4, &p, &len, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "out of range");
    CHECK(p == NULL && len == 0);
    gt_fund_airdrop_free(&a);
    gt_free(c);
}

/* Runs a shell command; its first output line (lowercased hex from cast)
 * goes into out. 0 on a zero exit status. */
static int run_line(const char *cmd, char *out, size_t cap) {
    out[0] = 0;
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    if (!fgets(out, (int)cap, f)) out[0] = 0;
    char drain[256];
    while (fgets(drain, sizeof drain, f)) {
    }
    out[strcspn(out, "\r\n")] = 0;
    return pclose(f);
}

static int cmp_hex(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* cast's keccak of the concatenation of two "0x.." hashes, smaller first. */
static void cast_pair(const char *a, const char *b, char out[67]) {
    const char *lo = strcmp(a, b) <= 0 ? a : b, *hi = lo == a ? b : a;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s keccak 0x%s%s", CAST, lo + 2, hi + 2);
    CHECK_EQ_INT(run_line(cmd, out, 67), 0);
}

/* The leaves by cast (abi-encode --packed, then keccak) and the root folded
 * here level by level from cast's pair hashes (sorted leaves, pairs left to
 * right, a lone last node promoted): gotong's leaves and root must match,
 * and its proofs must verify against this root. */
static void test_against_cast(void) {
    if (access(CAST, X_OK) != 0) {
        fprintf(stderr, "SKIP test_against_cast: cast not found at %s; run `bash scripts/setup.sh "
                "test` to fetch it. The leaf layout is then checked only against this test's own "
                "byte layout.\n", CAST);
        return;
    }
    enum { N = 7 };
    gt_fund_claim *c = make_claims(N);
    c[3].amount = UINT64_MAX; /* the widest amount */
    char level[N][67], cmd[512];
    for (size_t i = 0; i < N; i++) {
        char acct[GT_ADDR_STR_BYTES], ours[67] = "0x";
        gt_addr_to_str(&c[i].account, acct);
        snprintf(cmd, sizeof cmd,
                 "%s keccak $(%s abi-encode --packed 'f(uint256,address,uint256)' %zu %s %llu)", CAST,
                 CAST, i, acct, (unsigned long long)c[i].amount);
        CHECK_EQ_INT(run_line(cmd, level[i], sizeof level[i]), 0);
        uint8_t leaf[32];
        gt_fund_airdrop_leaf(i, &c[i].account, c[i].amount, leaf);
        gt_hex_encode(leaf, 32, ours + 2);
        CHECK_STR(ours, level[i]);
    }
    qsort(level, N, sizeof level[0], cmp_hex);
    size_t n = N;
    while (n > 1) {
        size_t m = 0;
        for (size_t i = 0; i + 1 < n; i += 2) cast_pair(level[i], level[i + 1], level[m++]);
        if (n % 2) memmove(level[m++], level[n - 1], 67);
        n = m;
    }
    gt_fund_airdrop a;
    gt_err err = {0};
    CHECK_EQ_INT(gt_fund_airdrop_build(c, N, &a, &err), 0);
    char root[67] = "0x";
    gt_hex_encode(a.root, 32, root + 2);
    CHECK_STR(root, level[0]);
    uint8_t cast_root[32];
    CHECK_EQ_INT(gt_hex_decode(level[0], cast_root, 32, "cast root", &err), 0);
    for (size_t i = 0; i < N; i++) {
        uint8_t (*p)[32];
        size_t len;
        CHECK_EQ_INT(gt_fund_airdrop_proof(&a, i, &p, &len, &err), 0);
        CHECK(gt_fund_airdrop_verify(i, &c[i].account, c[i].amount, (const uint8_t(*)[32])p, len,
                                     cast_root));
        gt_free(p);
    }
    gt_fund_airdrop_free(&a);
    gt_free(c);
}

int main(void) {
    RUN(test_leaf_layout);
    RUN(test_every_proof);
    RUN(test_refusals);
    RUN(test_against_cast);
    return gt_test_finish();
}
