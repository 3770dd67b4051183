/* rng.h: the seeded generator behind every procedural task family and every
 * seeded choice of the data pipeline (spot-check samples, template variables).
 *
 * xoshiro256** seeded through splitmix64 from (seed, stream): the same pair
 * gives the same sequence on every machine and build, which is what lets a
 * validator regenerate an item from its seed and index. libc rand() is never
 * used: its sequence differs between C libraries. */
#ifndef GT_WORK_RNG_H
#define GT_WORK_RNG_H

#include <stdint.h>

typedef struct gt_rng {
    uint64_t s[4];
} gt_rng;

/* Seeds r from a seed and a stream number (e.g. an item index): different
 * streams of one seed are independent for every practical purpose. */
void gt_rng_seed(gt_rng *r, uint64_t seed, uint64_t stream);
/* Next 64 random bits. */
uint64_t gt_rng_next(gt_rng *r);
/* Uniform in [0, n) without modulo bias; n must be > 0. */
uint64_t gt_rng_below(gt_rng *r, uint64_t n);
/* Uniform in [lo, hi] (inclusive); lo <= hi. */
uint64_t gt_rng_range(gt_rng *r, uint64_t lo, uint64_t hi);
/* Uniform double in [0, 1) with 53 random bits. */
double gt_rng_unit(gt_rng *r);
/* splitmix64's output function: a strong 64-bit mixer (also used as a hash
 * finaliser elsewhere in src/work). */
uint64_t gt_mix64(uint64_t x);

#endif
