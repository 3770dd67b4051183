/* test_qf.c: quadratic funding matches (src/fund/qf.c): rounds computed by
 * hand, the sybil property of the pairwise rule with human weights, order
 * independence, the pool bound on random rounds, refusals, and a round of
 * 10,000 contributors over 100 projects (timed and printed, not asserted). */
#include <time.h>

#include "../test.h"
#include "base/alloc.h"
#include "fund/qf.h"

#define TOKEN 1000000ull /* base units in one token */
#define MAXP 128

/* An address made from a number: 0xa0..00 followed by id, big-endian. */
static gt_addr addr_of(uint32_t id) {
    gt_addr a;
    memset(&a, 0, sizeof a);
    a.b[0] = 0xa0;
    for (int i = 0; i < 4; i++) a.b[19 - i] = (uint8_t)(id >> (8 * i));
    return a;
}

static gt_fund_contribution contrib(uint32_t who, uint32_t project, uint64_t amount) {
    return (gt_fund_contribution){.from = addr_of(who), .project = project, .amount = amount};
}

static gt_fund_human human(uint32_t who, uint32_t weight_ppm) {
    return (gt_fund_human){.who = addr_of(who), .weight_ppm = weight_ppm};
}

static uint64_t rng_state = 0x17f00d;
/* splitmix64: a fixed sequence, so every run tests the same rounds. */
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Runs one round and checks the result's own bookkeeping. */
static int run_round(gt_fund_rule rule, uint64_t pool, uint32_t np, uint64_t m,
                     const gt_fund_contribution *c, size_t n, const gt_fund_human *h, size_t nh,
                     uint64_t *match, gt_fund_result *res) {
    gt_fund_round r = {.rule = rule, .pool = pool, .n_projects = np, .pairwise_m = m};
    gt_err err = {0};
    int rc = gt_fund_match(&r, c, n, h, nh, match, res, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    uint64_t sum = 0;
    for (uint32_t p = 0; p < np; p++) sum += match[p];
    CHECK_EQ_U64(sum, res->matched_total);
    CHECK(sum <= pool);
    CHECK_EQ_U64(res->matched_total + res->remainder, pool);
    return rc;
}

static void test_isqrt(void) {
    CHECK_EQ_U64(gt_fund_isqrt(0), 0);
    CHECK_EQ_U64(gt_fund_isqrt(1), 1);
    CHECK_EQ_U64(gt_fund_isqrt(3), 1);
    CHECK_EQ_U64(gt_fund_isqrt(4), 2);
    CHECK_EQ_U64(gt_fund_isqrt(4000000000000ull), 2000000);
    CHECK_EQ_U64(gt_fund_isqrt((unsigned __int128)TOKEN << 32), 65536000); /* 1000 * 2^16 */
    unsigned __int128 max = ~(unsigned __int128)0;
    CHECK_EQ_U64(gt_fund_isqrt(max), UINT64_MAX);
    unsigned __int128 sq = (unsigned __int128)UINT64_MAX * UINT64_MAX;
    CHECK_EQ_U64(gt_fund_isqrt(sq), UINT64_MAX);
    CHECK_EQ_U64(gt_fund_isqrt(sq - 1), UINT64_MAX - 1);
    for (int i = 0; i < 2000; i++) { /* floor property on random 128-bit numbers */
        unsigned __int128 n = ((unsigned __int128)rnd() << 64 | rnd()) >> (rnd() % 128);
        unsigned __int128 x = gt_fund_isqrt(n);
        CHECK(x * x <= n && (x == UINT64_MAX || (x + 1) * (x + 1) > n));
    }
}

/* Plain QF, three projects, amounts whose roots are whole tokens' roots:
 *   p0: A 1 token, B 4 tokens: (1000 + 2000)^2 - 5e6 = 9e6 - 5e6 = 4e6 units
 *   p1: C 9 tokens alone:      3000^2 - 9e6 = 0
 *   p2: A, C, D 1 token each:  (3 * 1000)^2 - 3e6 = 6e6
 * (in Q32 each sqrt is exact: sqrt(1e6 * 2^32) = 1000 * 2^16). Ideal total 10e6.
 *   pool 20e6 > 10e6: matches are the ideal 4e6, 0, 6e6; remainder 10e6.
 *   pool 5e6: scaled by 5/10: 2e6, 0, 3e6; remainder 0.
 *   pool 1 000 001: 4e6 * 1000001 / 10e6 = 400000.4 -> 400000,
 *                   6e6 * 1000001 / 10e6 = 600000.6 -> 600000; remainder 1. */
static void test_plain_by_hand(void) {
    gt_fund_contribution c[] = {contrib(1, 0, TOKEN),     contrib(2, 0, 4 * TOKEN),
                                contrib(3, 1, 9 * TOKEN), contrib(1, 2, TOKEN),
                                contrib(3, 2, TOKEN),     contrib(4, 2, TOKEN)};
    uint64_t m[3];
    gt_fund_result res;
    run_round(GT_FUND_QF, 20 * TOKEN, 3, 0, c, 6, NULL, 0, m, &res);
    CHECK_EQ_U64(m[0], 4 * TOKEN);
    CHECK_EQ_U64(m[1], 0);
    CHECK_EQ_U64(m[2], 6 * TOKEN);
    CHECK_EQ_U64(res.ideal_total, 10 * TOKEN);
    CHECK_EQ_U64(res.remainder, 10 * TOKEN);
    CHECK_EQ_INT(res.scaled, 0);
    CHECK_EQ_U64(res.contributors, 4);
    run_round(GT_FUND_QF, 5 * TOKEN, 3, 0, c, 6, NULL, 0, m, &res);
    CHECK_EQ_U64(m[0], 2 * TOKEN);
    CHECK_EQ_U64(m[2], 3 * TOKEN);
    CHECK_EQ_U64(res.remainder, 0);
    CHECK_EQ_INT(res.scaled, 1);
    run_round(GT_FUND_QF, 1000001, 3, 0, c, 6, NULL, 0, m, &res);
    CHECK_EQ_U64(m[0], 400000);
    CHECK_EQ_U64(m[1], 0);
    CHECK_EQ_U64(m[2], 600000);
    CHECK_EQ_U64(res.remainder, 1);
}

/* Contributions from one address to one project are summed first: A giving
 * 0.25 + 0.75 tokens to p0 is A giving 1 token, so p0's match is still 4e6. */
static void test_same_address_summed(void) {
    gt_fund_contribution c[] = {contrib(1, 0, TOKEN / 4), contrib(2, 0, 4 * TOKEN),
                                contrib(1, 0, 3 * TOKEN / 4)};
    uint64_t m[1];
    gt_fund_result res;
    run_round(GT_FUND_QF, 100 * TOKEN, 1, 0, c, 3, NULL, 0, m, &res);
    CHECK_EQ_U64(m[0], 4 * TOKEN);
    CHECK_EQ_U64(res.contributors, 2);
}

/* Pairwise rule, M = 1 token, all weights 1.0 (1e6 ppm):
 *   p0: A 1, B 4 tokens. sqrt(1e6 * 4e6) = 2e6; A and B share only p0, so
 *       k_AB = 2e6; term = 2 * floor(2e6 * 1e6 / (1e6 + 2e6)) = 2 * 666666 = 1333332
 *       (plain QF would give 4e6).
 *   p1, p2: C and D give 1 token each to both. sqrt = 1e6 per project,
 *       k_CD = 1e6 + 1e6 = 2e6; term = 2 * floor(1e6 * 1e6 / 3e6) = 666666 each.
 *   p3: E and F give 1 token each to p3 only: k_EF = 1e6;
 *       term = 2 * floor(1e6 * 1e6 / 2e6) = 1e6 (a pair that co-funds two
 *       projects gets 666666 on each, one that co-funds one gets 1e6).
 * Pool 100 tokens covers the ideal 3666664: no scaling.
 * Then B's weight drops to 0.5: p0 = 2 * floor(666666 * 0.5) = 666666; and F
 * has no weight at all (unattested, weight 0): p3 = 0. */
static void test_pairwise_by_hand(void) {
    gt_fund_contribution c[] = {contrib(1, 0, TOKEN), contrib(2, 0, 4 * TOKEN),
                                contrib(3, 1, TOKEN), contrib(4, 1, TOKEN),
                                contrib(3, 2, TOKEN), contrib(4, 2, TOKEN),
                                contrib(5, 3, TOKEN), contrib(6, 3, TOKEN)};
    gt_fund_human h[] = {human(1, 1000000), human(2, 1000000), human(3, 1000000),
                         human(4, 1000000), human(5, 1000000), human(6, 1000000)};
    uint64_t m[4];
    gt_fund_result res;
    run_round(GT_FUND_PAIRWISE, 100 * TOKEN, 4, TOKEN, c, 8, h, 6, m, &res);
    CHECK_EQ_U64(m[0], 1333332);
    CHECK_EQ_U64(m[1], 666666);
    CHECK_EQ_U64(m[2], 666666);
    CHECK_EQ_U64(m[3], 1000000);
    CHECK_EQ_U64(res.ideal_total, 3666664);
    CHECK_EQ_U64(res.remainder, 100 * TOKEN - 3666664);
    h[1].weight_ppm = 500000;
    run_round(GT_FUND_PAIRWISE, 100 * TOKEN, 4, TOKEN, c, 8, h, 5, m, &res); /* F left out */
    CHECK_EQ_U64(m[0], 666666);
    CHECK_EQ_U64(m[1], 666666);
    CHECK_EQ_U64(m[3], 0);
}

/* The round of the split test: honest humans X (10), Y (11) give 1 token to
 * p0; Z (12), W (13) give 1 and 4 to p1. The attacker (20) gives 10 tokens to
 * p0, from one wallet or split into ten wallets of 1 token (20..29). The
 * attacker's person holds one attestation (a nullifier per round allows no
 * second), on wallet 20; the other nine carry none, so weight 0. */
static size_t split_round(int split, gt_fund_contribution *c, gt_fund_human *h, size_t *nh) {
    size_t n = 0;
    c[n++] = contrib(10, 0, TOKEN);
    c[n++] = contrib(11, 0, TOKEN);
    c[n++] = contrib(12, 1, TOKEN);
    c[n++] = contrib(13, 1, 4 * TOKEN);
    if (!split) {
        c[n++] = contrib(20, 0, 10 * TOKEN);
    } else {
        for (uint32_t w = 20; w < 30; w++) c[n++] = contrib(w, 0, TOKEN);
    }
    uint32_t attested[] = {10, 11, 12, 13, 20};
    for (size_t i = 0; i < 5; i++) h[i] = human(attested[i], GT_FUND_WEIGHT_ONE);
    *nh = 5;
    return n;
}

/* One wallet split into ten raises p0's plain QF match (the attack: the
 * square of the sum of roots grows from (1000+1000+3162)^2 to (12*1000)^2),
 * and does not raise it under the pairwise rule with human weights, whether
 * the pool covers the ideal matches or is scaled. */
static void test_split_wallet(void) {
    gt_fund_contribution c[16];
    gt_fund_human h[8];
    size_t nh;
    uint64_t one[2], ten[2];
    gt_fund_result res;
    size_t n1 = split_round(0, c, h, &nh);
    run_round(GT_FUND_QF, 1000 * TOKEN, 2, 0, c, n1, NULL, 0, one, &res);
    size_t n10 = split_round(1, c, h, &nh);
    run_round(GT_FUND_QF, 1000 * TOKEN, 2, 0, c, n10, NULL, 0, ten, &res);
    CHECK_MSG(ten[0] > one[0], "plain QF: split %llu, one wallet %llu", (unsigned long long)ten[0],
              (unsigned long long)one[0]);
    uint64_t pools[] = {1000 * TOKEN, 3 * TOKEN, TOKEN / 3};
    for (size_t i = 0; i < 3; i++) {
        n1 = split_round(0, c, h, &nh);
        run_round(GT_FUND_PAIRWISE, pools[i], 2, TOKEN, c, n1, h, nh, one, &res);
        n10 = split_round(1, c, h, &nh);
        run_round(GT_FUND_PAIRWISE, pools[i], 2, TOKEN, c, n10, h, nh, ten, &res);
        CHECK(one[0] > 0);
        CHECK_MSG(ten[0] <= one[0], "pairwise, pool %llu: split %llu > one wallet %llu",
                  (unsigned long long)pools[i], (unsigned long long)ten[0],
                  (unsigned long long)one[0]);
    }
}

/* A random round: nc contributors over np projects, n contributions (some
 * repeating an (address, project)), amounts up to max_amount; weights for
 * most contributors (some 0, some missing). Returns nh. */
static size_t random_round(gt_fund_contribution *c, size_t n, uint32_t nc, uint32_t np,
                           uint64_t max_amount, gt_fund_human *h) {
    for (size_t i = 0; i < n; i++)
        c[i] = contrib((uint32_t)(rnd() % nc), (uint32_t)(rnd() % np), 1 + rnd() % max_amount);
    size_t nh = 0;
    for (uint32_t w = 0; w < nc; w++) {
        uint64_t r = rnd() % 10;
        if (r == 0) continue; /* unattested */
        h[nh++] = human(w, r == 1 ? 0 : (uint32_t)(rnd() % (GT_FUND_WEIGHT_ONE + 1)));
    }
    return nh;
}

/* Fisher-Yates with the test's fixed generator. */
static void shuffle(void *base, size_t n, size_t size) {
    unsigned char tmp[64], *b = base;
    CHECK(size <= sizeof tmp);
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd() % i;
        memcpy(tmp, b + (i - 1) * size, size);
        memcpy(b + (i - 1) * size, b + j * size, size);
        memcpy(b + j * size, tmp, size);
    }
}

/* The order of contributions (and of weights) does not change any match. */
static void test_order_independent(void) {
    enum { N = 600, NC = 150, NP = 12 };
    static gt_fund_contribution c[N];
    static gt_fund_human h[NC];
    size_t nh = random_round(c, N, NC, NP, 50 * TOKEN, h);
    gt_fund_rule rules[] = {GT_FUND_QF, GT_FUND_PAIRWISE};
    uint64_t pools[] = {3 * TOKEN, 100000 * TOKEN};
    for (size_t r = 0; r < 2; r++) {
        for (size_t p = 0; p < 2; p++) {
            uint64_t first[NP], again[NP];
            gt_fund_result res0, res1;
            run_round(rules[r], pools[p], NP, 5 * TOKEN, c, N, h, nh, first, &res0);
            CHECK(res0.matched_total > 0);
            for (int k = 0; k < 5; k++) {
                shuffle(c, N, sizeof *c);
                shuffle(h, nh, sizeof *h);
                run_round(rules[r], pools[p], NP, 5 * TOKEN, c, N, h, nh, again, &res1);
                CHECK(memcmp(first, again, sizeof first) == 0);
                CHECK_EQ_U64(res1.remainder, res0.remainder);
                CHECK_EQ_U64(res1.ideal_total, res0.ideal_total);
            }
        }
    }
}

/* On random rounds, small and with amounts near the 64-bit total, with
 * pools from 0 to 2^64-1, the matches never sum to more than the pool
 * (run_round checks the sum, and that matched + remainder == pool). */
static void test_pool_bound(void) {
    enum { N = 64, NC = 20, NP = 5 };
    gt_fund_contribution c[N];
    gt_fund_human h[NC];
    uint64_t m[NP];
    gt_fund_result res;
    for (int round = 0; round < 200; round++) {
        uint64_t max_amount = round % 2 ? UINT64_MAX / N : 1 + rnd() % (1000 * TOKEN);
        size_t nh = random_round(c, N, NC, NP, max_amount, h);
        uint64_t pools[] = {0, 1, rnd() % (1000 * TOKEN), rnd(), UINT64_MAX};
        for (size_t p = 0; p < 5; p++) {
            run_round(GT_FUND_QF, pools[p], NP, 0, c, N, h, nh, m, &res);
            run_round(GT_FUND_PAIRWISE, pools[p], NP, 1 + rnd() % UINT64_MAX, c, N, h, nh, m, &res);
        }
    }
}

/* Each bad input is refused with a message naming it, and pays nothing. */
static void test_refusals(void) {
    gt_fund_contribution c[] = {contrib(1, 0, TOKEN), contrib(2, 0, TOKEN)};
    gt_fund_human h[] = {human(1, GT_FUND_WEIGHT_ONE), human(2, GT_FUND_WEIGHT_ONE)};
    uint64_t m[2] = {7, 7};
    gt_fund_result res;
    gt_err err = {0};
    gt_fund_round r = {.rule = GT_FUND_PAIRWISE, .pool = TOKEN, .n_projects = 1, .pairwise_m = 0};
    CHECK_EQ_INT(gt_fund_match(&r, c, 2, h, 2, m, &res, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "pairwise bound M");
    CHECK_EQ_U64(m[0], 0);
    r.pairwise_m = TOKEN;
    h[1].weight_ppm = GT_FUND_WEIGHT_ONE + 1;
    CHECK_EQ_INT(gt_fund_match(&r, c, 2, h, 2, m, &res, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "over 1000000");
    CHECK_EQ_U64(m[0], 0);
    CHECK_EQ_U64(res.remainder, TOKEN);
    h[1] = human(1, 5);
    CHECK_EQ_INT(gt_fund_match(&r, c, 2, h, 2, m, &res, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "two human weights");
    c[1].project = 1;
    CHECK_EQ_INT(gt_fund_match(&r, c, 2, NULL, 0, m, &res, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "names project 1");
    c[1] = contrib(2, 0, 0);
    CHECK_EQ_INT(gt_fund_match(&r, c, 2, NULL, 0, m, &res, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "is 0");
    c[0].amount = c[1].amount = UINT64_MAX / 2 + 1;
    CHECK_EQ_INT(gt_fund_match(&r, c, 2, NULL, 0, m, &res, &err), GT_EOVERFLOW);
    r.n_projects = 0;
    CHECK_EQ_INT(gt_fund_match(&r, c, 2, NULL, 0, m, &res, &err), GT_ELIMIT);
    r.n_projects = 1;
    r.rule = (gt_fund_rule)9;
    CHECK_EQ_INT(gt_fund_match(&r, c, 2, NULL, 0, m, &res, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "unknown matching rule");
}

/* One project of 20,000 contributors is 2e8 pairs: over the pairwise work
 * limit, refused before any work is done; plain QF computes it. */
static void test_pairwise_limit(void) {
    enum { N = 20000 };
    gt_fund_contribution *c = gt_malloc(N * sizeof *c);
    for (uint32_t i = 0; i < N; i++) c[i] = contrib(i, 0, TOKEN);
    uint64_t m[1];
    gt_fund_result res;
    gt_err err = {0};
    gt_fund_round r = {.rule = GT_FUND_PAIRWISE, .pool = TOKEN, .n_projects = 1, .pairwise_m = 1};
    CHECK_EQ_INT(gt_fund_match(&r, c, N, NULL, 0, m, &res, &err), GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "pairwise rule would take");
    run_round(GT_FUND_QF, TOKEN, 1, 0, c, N, NULL, 0, m, &res);
    CHECK_EQ_U64(m[0], TOKEN); /* ideal (20000*1000)^2 - 2e10 far over the pool */
    gt_free(c);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* 10,000 contributors over 100 projects, each giving to 1 to 3 projects
 * (1 to 1000 tokens): both rules computed; the time is printed, not asserted. */
static void test_large_round(void) {
    enum { NC = 10000, NP = 100 };
    gt_fund_contribution *c = gt_malloc(3 * NC * sizeof *c);
    gt_fund_human *h = gt_malloc(NC * sizeof *h);
    size_t n = 0;
    for (uint32_t i = 0; i < NC; i++) {
        int k = 1 + (int)(rnd() % 3);
        for (int j = 0; j < k; j++)
            c[n++] = contrib(i, (uint32_t)(rnd() % NP), TOKEN * (1 + rnd() % 1000));
        h[i] = human(i, (uint32_t)(rnd() % (GT_FUND_WEIGHT_ONE + 1)));
    }
    uint64_t m[NP];
    gt_fund_result res;
    double t0 = now_ms();
    run_round(GT_FUND_QF, 100000 * TOKEN, NP, 0, c, n, NULL, 0, m, &res);
    double t1 = now_ms();
    CHECK(res.scaled && res.contributors == NC && res.remainder < NP);
    run_round(GT_FUND_PAIRWISE, 100000 * TOKEN, NP, 100 * TOKEN, c, n, h, NC, m, &res);
    double t2 = now_ms();
    CHECK(res.matched_total > 0 && res.contributors == NC);
    fprintf(stderr, "round of %d contributors (%zu contributions) over %d projects: "
            "plain QF %.1f ms, pairwise %.1f ms\n", NC, n, NP, t1 - t0, t2 - t1);
    gt_free(c);
    gt_free(h);
}

int main(void) {
    RUN(test_isqrt);
    RUN(test_plain_by_hand);
    RUN(test_same_address_summed);
    RUN(test_pairwise_by_hand);
    RUN(test_split_wallet);
    RUN(test_order_independent);
    RUN(test_pool_bound);
    RUN(test_refusals);
    RUN(test_pairwise_limit);
    RUN(test_large_round);
    return gt_test_finish();
}
