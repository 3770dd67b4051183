/* kquant_low.c: Q2_K, Q3_K and IQ4_XS (layouts in kquant.h): ggml's
 * reference quantizers (IQ4_XS: the search llama.cpp's quantizer runs),
 * dequantization, unpacking for the kernels.
 *
 * As in kquant.c, every f32 operation repeats ggml's, in its order and
 * grouping, with nothing fused, so the bytes equal llama.cpp's. */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "infer/gguf.h"
#include "infer/kquant.h"
#include "infer/kquant_impl.h"
#include "infer/quantize.h"
#include "infer/quantize_q32.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define SUB16 16             /* Q2_K / Q3_K sub-block */
#define GROUP_MAX_EPS 1e-15f /* below this, a Q3_K group counts as all zero */
#define Q3_PASSES 5          /* make_q3_quants' refinement passes */

/* Packs 256 two-bit values: element 128h + 32s + l into bits 2s of
 * qs[32h + l]. */
static void pack2(const uint8_t *L, uint8_t qs[GT_QK_K / 4]) {
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const uint8_t *e = L + 128 * h + l;
            qs[32 * h + l] = (uint8_t)(e[0] | (e[32] << 2) | (e[64] << 4) | (e[96] << 6));
        }
}

/* Q2_K's 4-bit codes of 16 non-negative values (scales or mins) against
 * their largest: code = round(15 / max * v), shifted into place; returns
 * the f16 of max / 15 (0 when max is 0, and the codes stay). */
static uint16_t q2_codes(const float *v, float max, uint8_t *scales, int shift) {
    if (!(max > 0)) return gt_quantize_f32_to_f16(0.0f);
    float iscale = 15.f / max;
    for (int j = 0; j < GT_QK_K / SUB16; j++) scales[j] |= (uint8_t)(gt_kq_round(iscale * v[j]) << shift);
    return gt_quantize_f32_to_f16(max / 15.f);
}

void gt_quantize_row_q2_k(const float *src, void *dst, int64_t n) {
    assert(n % GT_QK_K == 0);
    uint8_t *out = dst, L[GT_QK_K], trial[SUB16];
    for (int64_t b = 0; b < n / GT_QK_K; b++, src += GT_QK_K, out += sizeof(gt_block_q2_k)) {
        gt_block_q2_k y;
        memset(&y, 0, sizeof y);
        float sc[GT_QK_K / SUB16], mn[GT_QK_K / SUB16], w[SUB16], max_sc = 0, max_mn = 0;
        for (int j = 0; j < GT_QK_K / SUB16; j++) {
            for (int l = 0; l < SUB16; l++) w[l] = fabsf(src[SUB16 * j + l]);
            sc[j] = gt_kq_fit_scale_min(SUB16, 3, src + SUB16 * j, w, L + SUB16 * j, trial, &mn[j], -0.5f, 0.1f, 15, 1);
            if (sc[j] > max_sc) max_sc = sc[j];
            if (mn[j] > max_mn) max_mn = mn[j];
        }
        y.d = q2_codes(sc, max_sc, y.scales, 0);
        y.dmin = q2_codes(mn, max_mn, y.scales, 4);
        float df = gt_quantize_f16_to_f32(y.d), mf = gt_quantize_f16_to_f32(y.dmin);
        for (int j = 0; j < GT_QK_K / SUB16; j++) {
            float dj = df * (float)(y.scales[j] & 15);
            if (dj == 0.0f) continue; /* keep the fit's quants */
            float mj = mf * (float)(y.scales[j] >> 4);
            for (int l = 0; l < SUB16; l++)
                L[SUB16 * j + l] = (uint8_t)gt_kq_clampi(gt_kq_round((src[SUB16 * j + l] + mj) / dj), 0, 3);
        }
        pack2(L, y.qs);
        memcpy(out, &y, sizeof y);
    }
}

/* ggml's make_q3_quants with do_rmse: the x^2-weighted fit of 16 values
 * with L in -nmax..nmax-1 from iscale -nmax / max, then up to Q3_PASSES
 * passes moving single quants while that explains more. Writes L + nmax,
 * returns the scale. */
static float q3_fit(const float *x, int nmax, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < SUB16; i++)
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, SUB16);
        return 0.0f;
    }
    float iscale = (float)-nmax / max, sumlx = 0, suml2 = 0;
    for (int i = 0; i < SUB16; i++) {
        int l = gt_kq_clampi(gt_kq_round(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int pass = 0; pass < Q3_PASSES; pass++) {
        int changed = 0;
        for (int i = 0; i < SUB16; i++) {
            float w = x[i] * x[i], slx = sumlx - w * x[i] * (float)L[i];
            if (!(slx > 0)) continue;
            float sl2 = suml2 - w * (float)L[i] * (float)L[i];
            int nl = gt_kq_clampi(gt_kq_round(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (nl == L[i]) continue;
            slx += w * x[i] * (float)nl;
            sl2 += w * (float)nl * (float)nl;
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = (int8_t)nl;
                sumlx = slx;
                suml2 = sl2;
                changed++;
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < SUB16; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Q3_K's 6-bit scale of sub-block g (minus 32), from the packed bytes. */
static int q3_scale(const uint8_t s[12], int g) {
    int lo = g < 8 ? s[g] & 15 : s[g - 8] >> 4, hi = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
    return (lo | hi << 4) - 32;
}

/* The 6-bit scale codes of 16 signed scales against the one of largest
 * magnitude (iscale = -32 / it); returns the f16 of 1 / iscale. */
static uint16_t q3_codes(const float *sc, float max_sc, uint8_t s[12]) {
    memset(s, 0, 12);
    if (max_sc == 0.0f) return gt_quantize_f32_to_f16(0.0f);
    float iscale = -32.f / max_sc;
    for (int g = 0; g < GT_QK_K / SUB16; g++) {
        int l = (int8_t)gt_kq_round(iscale * sc[g]);
        l = gt_kq_clampi(l, -32, 31) + 32;
        if (g < 8) s[g] = (uint8_t)(l & 15);
        else s[g - 8] |= (uint8_t)((l & 15) << 4);
        s[8 + g % 4] |= (uint8_t)((l >> 4) << (2 * (g / 4)));
    }
    return gt_quantize_f32_to_f16(1 / iscale);
}

void gt_quantize_row_q3_k(const float *src, void *dst, int64_t n) {
    assert(n % GT_QK_K == 0);
    uint8_t *out = dst;
    int8_t L[GT_QK_K];
    for (int64_t b = 0; b < n / GT_QK_K; b++, src += GT_QK_K, out += sizeof(gt_block_q3_k)) {
        gt_block_q3_k y;
        memset(&y, 0, sizeof y);
        float sc[GT_QK_K / SUB16], max_sc = 0, amax = 0;
        for (int g = 0; g < GT_QK_K / SUB16; g++) {
            sc[g] = q3_fit(src + SUB16 * g, 4, L + SUB16 * g);
            if (fabsf(sc[g]) > amax) {
                amax = fabsf(sc[g]);
                max_sc = sc[g];
            }
        }
        y.d = q3_codes(sc, max_sc, y.scales);
        float df = gt_quantize_f16_to_f32(y.d);
        for (int g = 0; g < GT_QK_K / SUB16; g++) {
            float dg = df * (float)q3_scale(y.scales, g);
            if (dg == 0.0f) continue;
            for (int i = 0; i < SUB16; i++)
                L[SUB16 * g + i] = (int8_t)(gt_kq_clampi(gt_kq_round(src[SUB16 * g + i] / dg), -4, 3) + 4);
        }
        uint8_t L2[GT_QK_K];
        for (int e = 0; e < GT_QK_K; e++) {
            if (L[e] > 3) y.hmask[e % 32] |= (uint8_t)(1u << (e / 32));
            L2[e] = (uint8_t)(L[e] & 3);
        }
        pack2(L2, y.qs);
        memcpy(out, &y, sizeof y);
    }
}

/* IQ4_XS: each sub-block of 32's IQ4 scale, then the super-block's d =
 * -(the scale of largest magnitude) / 32, 6-bit codes l = round(scale / d)
 * in -32..31, and every block's nibbles again against d * l. */
void gt_quantize_row_iq4_xs(const float *src, void *dst, int64_t n) {
    assert(n % GT_QK_K == 0);
    uint8_t *out = dst;
    for (int64_t b = 0; b < n / GT_QK_K; b++, src += GT_QK_K, out += sizeof(gt_block_iq4_xs)) {
        gt_block_iq4_xs y;
        memset(&y, 0, sizeof y);
        float sc[8], max_sc = 0, amax = 0;
        for (int j = 0; j < 8; j++) {
            sc[j] = gt_iq4_block_scale(src + 32 * j);
            if (fabsf(sc[j]) > amax) {
                amax = fabsf(sc[j]);
                max_sc = sc[j];
            }
        }
        float d = -max_sc / 32, id = d != 0.0f ? 1 / d : 0.0f;
        y.d = gt_quantize_f32_to_f16(d);
        for (int j = 0; j < 8; j++) {
            int l = gt_kq_clampi(gt_kq_round(id * sc[j]), -32, 31);
            gt_iq4_pack(src + 32 * j, d * (float)l, y.qs + 16 * j);
            l += 32;
            y.scales_l[j / 2] |= (uint8_t)((l & 15) << (4 * (j % 2)));
            y.scales_h |= (uint16_t)((l >> 4) << (2 * j));
        }
        memcpy(out, &y, sizeof y);
    }
}

/* --- unpacking and dequantization ------------------------------------------ */

void gt_kq_low_header(uint32_t type, const uint8_t *p, gt_kq_sb *s) {
    uint16_t h;
    s->dmin = 0.0f;
    if (type == GT_TYPE_Q2_K) {
        memcpy(&h, p + offsetof(gt_block_q2_k, d), 2);
        s->d = gt_quantize_f16_to_f32(h);
        memcpy(&h, p + offsetof(gt_block_q2_k, dmin), 2);
        s->dmin = gt_quantize_f16_to_f32(h);
        for (int g = 0; g < 16; g++) {
            s->sc[g] = p[g] & 15;
            s->m[g] = p[g] >> 4;
        }
    } else if (type == GT_TYPE_Q3_K) {
        memcpy(&h, p + offsetof(gt_block_q3_k, d), 2);
        s->d = gt_quantize_f16_to_f32(h);
        for (int g = 0; g < 16; g++) s->sc[g] = q3_scale(p + offsetof(gt_block_q3_k, scales), g);
    } else {
        assert(type == GT_TYPE_IQ4_XS);
        uint16_t sh;
        memcpy(&h, p, 2);
        memcpy(&sh, p + 2, 2);
        s->d = gt_quantize_f16_to_f32(h);
        for (int j = 0; j < 8; j++)
            s->sc[j] = (((p[4 + j / 2] >> (4 * (j % 2))) & 15) | (((sh >> (2 * j)) & 3) << 4)) - 32;
    }
}

void gt_kq_low_quants(uint32_t type, const uint8_t *p, uint8_t q[GT_QK_K]) {
    if (type == GT_TYPE_IQ4_XS) {
        const uint8_t *qs = p + offsetof(gt_block_iq4_xs, qs);
        for (int j = 0; j < 8; j++)
            for (int l = 0; l < 16; l++) {
                q[32 * j + l] = (uint8_t)(gt_iq4nl_values[qs[16 * j + l] & 15] + 128);
                q[32 * j + l + 16] = (uint8_t)(gt_iq4nl_values[qs[16 * j + l] >> 4] + 128);
            }
        return;
    }
    int q3 = type == GT_TYPE_Q3_K;
    const uint8_t *qs = p + (q3 ? offsetof(gt_block_q3_k, qs) : offsetof(gt_block_q2_k, qs));
    for (int e = 0; e < GT_QK_K; e++) {
        int h = e / 128, s = (e % 128) / 32, l = e % 32;
        int v = (qs[32 * h + l] >> (2 * s)) & 3;
        if (q3) v |= ((p[l] >> (e / 32)) & 1) << 2; /* hmask first in the block */
        q[e] = (uint8_t)v;
    }
}

/* Dequantizes with ggml's operations: Q2_K (d*sc)*q - (dmin*m); Q3_K
 * (d*sc)*(q-4); IQ4_XS (d*sc)*value. */
void gt_kq_low_dequant_row(uint32_t type, const void *row, float *out, int64_t n) {
    assert(n % GT_QK_K == 0);
    size_t bb = gt_ggml_block_bytes(type);
    gt_kq_sb s;
    for (int64_t b = 0; b < n / GT_QK_K; b++, out += GT_QK_K) {
        gt_kq_unpack(type, (const uint8_t *)row + (size_t)b * bb, &s);
        for (int e = 0; e < GT_QK_K; e++) {
            if (type == GT_TYPE_Q2_K)
                out[e] = s.d * (float)s.sc[e / 16] * (float)s.q[e] - s.dmin * (float)s.m[e / 16];
            else if (type == GT_TYPE_Q3_K)
                out[e] = s.d * (float)s.sc[e / 16] * (float)((int)s.q[e] - 4);
            else
                out[e] = s.d * (float)s.sc[e / 32] * (float)((int)s.q[e] - 128);
        }
    }
}
