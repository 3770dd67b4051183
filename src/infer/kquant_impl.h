/* kquant_impl.h: what the K-quant files (kquant.c, kquant_low.c) share:
 * ggml's rounding and its scale-and-min search (not a public interface). */
#ifndef GT_INFER_KQUANT_IMPL_H
#define GT_INFER_KQUANT_IMPL_H

#include <stdint.h>
#include <string.h>

/* Rounds to the nearest integer, ties to even, by adding 1.5 * 2^23 and
 * reading the mantissa (valid for |x| < 2^22; beyond that the result is
 * garbage, but the same garbage ggml's rounding gives). */
static inline int gt_kq_round(float x) {
    float v = x + 12582912.0f;
    uint32_t bits;
    memcpy(&bits, &v, 4);
    return (int)(bits & 0x7fffffu) - 0x400000;
}

static inline int gt_kq_clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ggml's make_qkx2_quants (kquant.c describes it). */
float gt_kq_fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L, uint8_t *trial,
                          float *neg_min, float rmin, float rdelta, int nstep, int use_mad);

#endif
