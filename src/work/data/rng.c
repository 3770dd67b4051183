/* rng.c: xoshiro256** seeded by splitmix64 (see rng.h). The constants are
 * those published with the two generators (Vigna; Blackman and Vigna). */
#include "work/data/rng.h"

#include <assert.h>

uint64_t gt_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* Seeds the four words from a splitmix64 sequence started at a value that
 * mixes seed and stream (so streams 0, 1, 2 of one seed do not overlap). */
void gt_rng_seed(gt_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = gt_mix64(seed ^ 0x6a09e667f3bcc909ull) ^ gt_mix64(stream + 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ull;
        r->s[i] = gt_mix64(x);
    }
    /* All-zero state is the one fixed point of xoshiro; mix64 of distinct
     * inputs cannot give four zeros in practice, but stay safe. */
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t gt_rng_next(gt_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Lemire's multiply-and-reject: unbiased, one multiplication in the common case. */
uint64_t gt_rng_below(gt_rng *r, uint64_t n) {
    assert(n > 0);
    unsigned __int128 m = (unsigned __int128)gt_rng_next(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t thresh = -n % n;
        while (lo < thresh) {
            m = (unsigned __int128)gt_rng_next(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

uint64_t gt_rng_range(gt_rng *r, uint64_t lo, uint64_t hi) {
    assert(lo <= hi);
    if (lo == 0 && hi == UINT64_MAX) return gt_rng_next(r);
    return lo + gt_rng_below(r, hi - lo + 1);
}

double gt_rng_unit(gt_rng *r) { return (double)(gt_rng_next(r) >> 11) * 0x1.0p-53; }
