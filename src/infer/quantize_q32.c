/* quantize_q32.c: Q4_1, Q5_0, Q5_1 and IQ4_NL (see quantize_q32.h).
 *
 * Matching llama.cpp's bytes means repeating its f32 arithmetic exactly:
 * the same order, the same grouping, nothing fused (no contraction to fma:
 * the pragma for clang, the baseline ISA for gcc, as kquant.c). The float
 * to small-integer conversions truncate through int, as ggml's casts do on
 * x86. */
#include "infer/quantize_q32.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "infer/gguf.h"
#include "infer/quantize.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define GROUP_MAX_EPS 1e-15f /* below this, an IQ4_NL block counts as all zero */
#define IQ4_NTRY 7           /* trial scales each side, as llama.cpp's quantizer */

const int8_t gt_iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

int gt_q32_is(uint32_t type) {
    return type == GT_TYPE_Q4_1 || type == GT_TYPE_Q5_0 || type == GT_TYPE_Q5_1 || type == GT_TYPE_IQ4_NL;
}

int gt_q32_has_min(uint32_t type) { return type == GT_TYPE_Q4_1 || type == GT_TYPE_Q5_1; }

static void put_f16(uint8_t *p, float f) {
    uint16_t h = gt_quantize_f32_to_f16(f);
    memcpy(p, &h, 2);
}

static float get_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return gt_quantize_f16_to_f32(h);
}

/* The range of a block (ggml starts from +-FLT_MAX). */
static void block_min_max(const float *x, float *mn, float *mx) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < GT_Q32; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

/* Packs 32 quants (0..31): low nibbles into qs (element j and j + 16 share
 * byte j), fifth bits into the u32 qh at qh_out when it is not NULL. */
static void pack_q(const uint8_t L[GT_Q32], uint8_t *qs, uint8_t *qh_out) {
    uint32_t qh = 0;
    for (int j = 0; j < GT_Q32 / 2; j++) {
        qs[j] = (uint8_t)((L[j] & 15) | ((L[j + 16] & 15) << 4));
        qh |= (uint32_t)(L[j] >> 4) << j;
        qh |= (uint32_t)(L[j + 16] >> 4) << (j + 16);
    }
    if (qh_out) memcpy(qh_out, &qh, 4);
}

/* Q4_1 and Q5_1: d = (max - min) / nmax, q = trunc((x - min) / d + 0.5)
 * (Q4_1 capped at 15; Q5_1 not capped, as ggml). */
static void quantize_affine(const float *src, uint8_t *y, int64_t nb, int nmax, size_t bb) {
    uint8_t L[GT_Q32];
    for (int64_t b = 0; b < nb; b++, src += GT_Q32, y += bb) {
        float mn, mx;
        block_min_max(src, &mn, &mx);
        float d = (mx - mn) / (float)nmax, id = d != 0.0f ? 1.0f / d : 0.0f;
        put_f16(y, d);
        put_f16(y + 2, mn);
        for (int j = 0; j < GT_Q32; j++) {
            int q = (int)((src[j] - mn) * id + 0.5f);
            L[j] = nmax == 15 ? (uint8_t)(int8_t)(q < 15 ? q : 15) : (uint8_t)q;
        }
        pack_q(L, y + (nmax == 15 ? 4 : 8), nmax == 15 ? NULL : y + 4);
    }
}

void gt_quantize_row_q4_1(const float *src, void *dst, int64_t n) {
    assert(n % GT_Q32 == 0);
    quantize_affine(src, dst, n / GT_Q32, 15, 20);
}

void gt_quantize_row_q5_1(const float *src, void *dst, int64_t n) {
    assert(n % GT_Q32 == 0);
    quantize_affine(src, dst, n / GT_Q32, 31, 24);
}

/* Q5_0: d = max / -16 (max the value of largest magnitude), q =
 * min(31, trunc(x / d + 16.5)). */
void gt_quantize_row_q5_0(const float *src, void *dst, int64_t n) {
    assert(n % GT_Q32 == 0);
    uint8_t *y = dst, L[GT_Q32];
    for (int64_t b = 0; b < n / GT_Q32; b++, src += GT_Q32, y += 22) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < GT_Q32; j++)
            if (amax < fabsf(src[j])) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        float d = max / -16.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        put_f16(y, d);
        for (int j = 0; j < GT_Q32; j++) {
            int q = (int)(int8_t)(int)(src[j] * id + 16.5f);
            L[j] = (uint8_t)(q < 31 ? q : 31);
        }
        pack_q(L, y + 6, y + 2);
    }
}

/* Index of the table value nearest x (ties to the upper one unless x is
 * strictly closer to the lower), by bisection as ggml's best_index_int8. */
static int iq4_index(float x) {
    const int8_t *v = gt_iq4nl_values;
    if (x <= (float)v[0]) return 0;
    if (x >= (float)v[15]) return 15;
    int lo = 0, hi = 15;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (x < (float)v[mid]) hi = mid;
        else lo = mid;
    }
    return x - (float)v[hi - 1] < (float)v[hi] - x ? hi - 1 : hi;
}

/* The x^2-weighted fit of id's quants: *sumqx = sum w q x, returns sum w q^2. */
static float iq4_fit(const float *x, float id, float *sumqx) {
    float sqx = 0, sq2 = 0;
    for (int j = 0; j < GT_Q32; j++) {
        float q = (float)gt_iq4nl_values[iq4_index(id * x[j])], w = x[j] * x[j];
        sqx += w * q * x[j];
        sq2 += w * q * q;
    }
    *sumqx = sqx;
    return sq2;
}

/* The scale of one block of 32 as llama.cpp's IQ4 search finds it: from
 * d = max / 127, then 2 * IQ4_NTRY + 1 trial inverse scales (itry - 127) /
 * max, keeping the least-squares scale that explains most (the quants are
 * not kept: the caller rounds again against the scale it stores). */
float gt_iq4_block_scale(const float *x) {
    float amax = 0, max = 0;
    for (int j = 0; j < GT_Q32; j++)
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    if (amax < GROUP_MAX_EPS) return 0.0f;
    float d = -max / (float)gt_iq4nl_values[0], sumqx, sumq2 = iq4_fit(x, 1 / d, &sumqx);
    d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
    float best = d * sumqx;
    for (int itry = -IQ4_NTRY; itry <= IQ4_NTRY; itry++) {
        sumq2 = iq4_fit(x, (float)(itry + gt_iq4nl_values[0]) / max, &sumqx);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    return d;
}

/* The nibbles of x against scale d (index of the nearest table value of
 * x / d), packed as Q4_1's. */
void gt_iq4_pack(const float *x, float d, uint8_t qs[GT_Q32 / 2]) {
    float id = d != 0.0f ? 1 / d : 0.0f;
    uint8_t L[GT_Q32];
    for (int j = 0; j < GT_Q32; j++) L[j] = (uint8_t)iq4_index(id * x[j]);
    pack_q(L, qs, NULL);
}

void gt_quantize_row_iq4_nl(const float *src, void *dst, int64_t n) {
    assert(n % GT_Q32 == 0);
    uint8_t *y = dst;
    for (int64_t b = 0; b < n / GT_Q32; b++, src += GT_Q32, y += 18) {
        float d = gt_iq4_block_scale(src);
        put_f16(y, d);
        gt_iq4_pack(src, d, y + 2);
    }
}

void gt_q32_decode(uint32_t type, const uint8_t *p, int8_t v[GT_Q32], float *d, float *m) {
    assert(gt_q32_is(type));
    *d = get_f16(p);
    *m = gt_q32_has_min(type) ? get_f16(p + 2) : 0.0f;
    uint32_t qh = 0;
    const uint8_t *qs;
    switch (type) {
    case GT_TYPE_Q4_1: qs = p + 4; break;
    case GT_TYPE_Q5_0: memcpy(&qh, p + 2, 4), qs = p + 6; break;
    case GT_TYPE_Q5_1: memcpy(&qh, p + 4, 4), qs = p + 8; break;
    default: qs = p + 2; break;
    }
    for (int j = 0; j < GT_Q32 / 2; j++) {
        int lo = (qs[j] & 15) | (int)((qh >> j) & 1) << 4, hi = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
        if (type == GT_TYPE_IQ4_NL) {
            lo = gt_iq4nl_values[lo];
            hi = gt_iq4nl_values[hi];
        } else if (type == GT_TYPE_Q5_0) {
            lo -= 16;
            hi -= 16;
        }
        v[j] = (int8_t)lo;
        v[j + 16] = (int8_t)hi;
    }
}

void gt_q32_dequant_row(uint32_t type, const void *row, float *out, int64_t n) {
    assert(n % GT_Q32 == 0);
    size_t bb = gt_ggml_block_bytes(type);
    int8_t v[GT_Q32];
    float d, m;
    for (int64_t b = 0; b < n / GT_Q32; b++, out += GT_Q32) {
        gt_q32_decode(type, (const uint8_t *)row + (size_t)b * bb, v, &d, &m);
        if (gt_q32_has_min(type))
            for (int j = 0; j < GT_Q32; j++) out[j] = (float)v[j] * d + m;
        else
            for (int j = 0; j < GT_Q32; j++) out[j] = (float)v[j] * d;
    }
}
