/* qf.h: quadratic funding matches for one round, as a pure integer
 * computation (no float): the same contributions give the same matches on
 * every machine, in any order, so a round can be verified by replay.
 *
 * Contributions from one address to one project are summed first. Two rules:
 *
 * GT_FUND_QF (plain quadratic funding). For project p with contributors i:
 *     raw_p = (sum_i sqrt(c_i))^2 - sum_i c_i
 *   computed in Q32 fixed point: r_i = floor(sqrt(c_i * 2^32)) is sqrt(c_i)
 *   with 16 fractional bits, raw_p = max(0, (sum_i r_i)^2 - 2^32 * sum_i c_i).
 *   No weights: every address counts, so it is open to sybils (splitting one
 *   wallet into many raises the match; tests/fund/test_qf.c shows it).
 *
 * GT_FUND_PAIRWISE (Buterin, Hitzig and Weyl's pairwise-bounded matching,
 * with proof-of-human weights). The plain subsidy is a sum over pairs,
 * (sum sqrt c_i)^2 - sum c_i = sum_{i<j} 2 sqrt(c_i c_j); here each pair's
 * term is discounted by how much the pair funds together across the whole
 * round, and scaled by both contributors' human weights w in [0, 1]:
 *     k_ij  = sum_q floor(sqrt(c_iq * c_jq))      over every project q
 *     raw_p = sum_{i<j in p} 2 * floor(floor(floor(
 *                 floor(sqrt(c_ip c_jp)) * M / (M + k_ij)) * w_i) * w_j)
 *   (base units, then times 2^32 to share the scaling below). M is the
 *   round's pairwise bound in base units; w is in parts per million
 *   (GT_FUND_WEIGHT_ONE = 1.0); an address with no weight given has weight 0
 *   (fail closed: an unattested wallet adds nothing to any match). A pair
 *   that co-funds many projects gets a larger k and a smaller share.
 *
 * Scaling to the pool (both rules): let T = sum_p raw_p (Q32).
 *   if T <= pool * 2^32: match_p = floor(raw_p / 2^32) (the full ideal match);
 *   else: shift every raw_p right by the least s with (T >> s) < 2^64, and
 *     match_p = floor(raw'_p * pool / sum_q raw'_q).
 * Every step rounds down, toward the pool: sum_p match_p <= pool always, and
 * remainder = pool - sum_p match_p stays in the pool (it is not paid). */
#ifndef GT_FUND_QF_H
#define GT_FUND_QF_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"

#define GT_FUND_MAX_CONTRIBUTIONS (1u << 20) /* per round */
#define GT_FUND_MAX_PROJECTS (1u << 16)      /* per round */
#define GT_FUND_MAX_HUMANS (1u << 20)        /* weights given per round */
#define GT_FUND_WEIGHT_ONE 1000000u          /* weight 1.0, in parts per million */
/* Pairwise work: sum over projects of pairs plus the per-pair overlap walks
 * (see gt_fund_pair_work); 2^28 steps is a few seconds at most. */
#define GT_FUND_MAX_PAIR_WORK (1ull << 28)

typedef enum gt_fund_rule {
    GT_FUND_QF = 1,       /* plain quadratic funding */
    GT_FUND_PAIRWISE = 2, /* pairwise-bounded, weighted by proof of human */
} gt_fund_rule;

typedef struct gt_fund_contribution {
    gt_addr from;
    uint32_t project; /* 0 .. n_projects-1 */
    uint64_t amount;  /* base units, > 0 */
} gt_fund_contribution;

typedef struct gt_fund_human {
    gt_addr who;
    uint32_t weight_ppm; /* 0 .. GT_FUND_WEIGHT_ONE */
} gt_fund_human;

typedef struct gt_fund_round {
    gt_fund_rule rule;
    uint64_t pool;          /* matching pool, base units */
    uint32_t n_projects;    /* 1 .. GT_FUND_MAX_PROJECTS */
    uint64_t pairwise_m;    /* M of the pairwise rule, base units (> 0 there) */
} gt_fund_round;

typedef struct gt_fund_result {
    uint64_t matched_total; /* sum of the matches, <= pool */
    uint64_t remainder;     /* pool - matched_total: stays in the pool */
    uint64_t ideal_total;   /* sum of unscaled matches, base units (saturates) */
    int scaled;             /* 1 if the ideal matches exceeded the pool */
    size_t contributors;    /* distinct addresses */
} gt_fund_result;

/* Computes every project's match (match[n_projects], base units) for the
 * round; humans (may be NULL when nh == 0) weights contributors under
 * GT_FUND_PAIRWISE and is ignored under GT_FUND_QF. The result does not
 * depend on the order of c or humans. 0, or GT_EINVAL / GT_ELIMIT /
 * GT_EOVERFLOW / GT_ENOMEM with a message; on error the
 * matches are all zero (when n_projects is within its limit). */
int gt_fund_match(const gt_fund_round *round, const gt_fund_contribution *c, size_t n,
                  const gt_fund_human *humans, size_t nh, uint64_t *match, gt_fund_result *res,
                  gt_err *err);

/* floor(sqrt(n)) for any 128-bit n, exactly. */
uint64_t gt_fund_isqrt(unsigned __int128 n);

#endif
