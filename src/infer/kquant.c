/* kquant.c: K-quant formats (see kquant.h): quantizers with ggml's
 * reference search, dequantization, unpacking for the kernels.
 *
 * Matching llama.cpp's bytes means repeating its f32 arithmetic exactly:
 * every sum below runs in the same order with the same operand grouping,
 * and nothing may be fused (no contraction to fma: this file is built for
 * the baseline ISA, which has no fma, and clang is told so as well). */
#include "infer/kquant.h"
#include "infer/kquant_impl.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "infer/gguf.h"
#include "infer/quantize.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define SUB 32               /* Q4_K / Q5_K sub-block */
#define SUB6 16              /* Q6_K sub-block */
#define GROUP_MAX_EPS 1e-15f /* below this, a Q6_K group counts as all zero */

int gt_kq_is_k(uint32_t type) {
    return type == GT_TYPE_Q4_K || type == GT_TYPE_Q5_K || type == GT_TYPE_Q6_K || type == GT_TYPE_Q2_K ||
           type == GT_TYPE_Q3_K || type == GT_TYPE_IQ4_XS;
}

/* The 6-bit scale and min of sub-block j (< 8) of packed Q4_K/Q5_K scales. */
static void scale_min(const uint8_t *s, int j, int *sc, int *m) {
    assert(j >= 0 && j < 8);
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* Fits x (n values, importance w) as scale * L - min with L in 0..nmax:
 * first the plain range, then nstep+1 trial inverse scales (rmin + rdelta*is
 * + nmax) / range, each followed by the weighted least-squares scale and
 * min for its L; keeps the trial of smallest weighted error (squared, or
 * absolute when use_mad). Writes L, *neg_min = the (non-negative) min,
 * returns the scale. */
float gt_kq_fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L, uint8_t *trial,
                          float *neg_min, float rmin, float rdelta, int nstep, int use_mad) {
    float lo = x[0], hi = x[0], sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (lo > 0) lo = 0;
    if (hi == lo) {
        memset(L, 0, (size_t)n);
        *neg_min = -lo;
        return 0.0f;
    }
    float iscale = (float)nmax / (hi - lo), scale = 1 / iscale, best = 0;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)gt_kq_clampi(gt_kq_round(iscale * (x[i] - lo)), 0, nmax);
        float diff = scale * L[i] + lo - x[i];
        best += w[i] * (use_mad ? fabsf(diff) : diff * diff);
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (hi - lo);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = gt_kq_clampi(gt_kq_round(iscale * (x[i] - lo)), 0, nmax);
            trial[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_l2 += w[i] * (float)l * (float)l;
            sum_xl += w[i] * (float)l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (!(D > 0)) continue;
        float s = (sum_w * sum_xl - sum_x * sum_l) / D, mn = (sum_l2 * sum_x - sum_l * sum_xl) / D;
        if (mn > 0) {
            mn = 0;
            s = sum_xl / sum_l2;
        }
        float err = 0;
        for (int i = 0; i < n; i++) {
            float diff = s * trial[i] + mn - x[i];
            err += w[i] * (use_mad ? fabsf(diff) : diff * diff);
        }
        if (err < best) {
            memcpy(L, trial, (size_t)n);
            best = err;
            scale = s;
            lo = mn;
        }
    }
    *neg_min = -lo;
    return scale;
}

/* Scales and mins of the 8 sub-blocks of one Q4_K/Q5_K super-block (as
 * fit_scale_min finds them, importance |x| + rms of the sub-block), then
 * their 6-bit codes and the f16 d/dmin; finally every weight re-rounded
 * against the coded scale and min. L receives the 256 quants (0..nmax). */
static void kq_affine_block(const float *x, int nmax, float rmin, int nstep, uint16_t *d,
                            uint16_t *dmin, uint8_t scales[12], uint8_t L[GT_QK_K]) {
    float sc[8], mn[8], w[SUB], max_sc = 0, max_mn = 0;
    uint8_t trial[SUB];
    for (int j = 0; j < 8; j++) {
        const float *xs = x + SUB * j;
        float sum_x2 = 0;
        for (int l = 0; l < SUB; l++) sum_x2 += xs[l] * xs[l];
        float av_x = sqrtf(sum_x2 / SUB);
        for (int l = 0; l < SUB; l++) w[l] = av_x + fabsf(xs[l]);
        sc[j] = gt_kq_fit_scale_min(SUB, nmax, xs, w, L + SUB * j, trial, &mn[j], rmin, 0.1f, nstep, 0);
        if (sc[j] > max_sc) max_sc = sc[j];
        if (mn[j] > max_mn) max_mn = mn[j];
    }
    float inv_sc = max_sc > 0 ? 63.f / max_sc : 0.f, inv_mn = max_mn > 0 ? 63.f / max_mn : 0.f;
    memset(scales, 0, 12);
    for (int j = 0; j < 8; j++) {
        uint8_t ls = (uint8_t)gt_kq_round(inv_sc * sc[j]), lm = (uint8_t)gt_kq_round(inv_mn * mn[j]);
        ls = ls < 63 ? ls : 63;
        lm = lm < 63 ? lm : 63;
        if (j < 4) {
            scales[j] = ls;
            scales[j + 4] = lm;
        } else {
            scales[j + 4] = (uint8_t)((ls & 15) | ((lm & 15) << 4));
            scales[j - 4] |= (uint8_t)((ls >> 4) << 6);
            scales[j] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d = gt_quantize_f32_to_f16(max_sc / 63.f);
    *dmin = gt_quantize_f32_to_f16(max_mn / 63.f);
    float df = gt_quantize_f16_to_f32(*d), mf = gt_quantize_f16_to_f32(*dmin);
    for (int j = 0; j < 8; j++) {
        int s, m;
        scale_min(scales, j, &s, &m);
        float dj = df * (float)s;
        if (dj == 0.0f) continue; /* keep the fit's quants */
        float mj = mf * (float)m;
        for (int l = 0; l < SUB; l++)
            L[SUB * j + l] = (uint8_t)gt_kq_clampi(gt_kq_round((x[SUB * j + l] + mj) / dj), 0, nmax);
    }
}

void gt_quantize_row_q4_k(const float *src, void *dst, int64_t n) {
    assert(n % GT_QK_K == 0);
    uint8_t *out = dst, L[GT_QK_K];
    for (int64_t b = 0; b < n / GT_QK_K; b++, src += GT_QK_K, out += sizeof(gt_block_q4_k)) {
        gt_block_q4_k y;
        kq_affine_block(src, 15, -1.0f, 20, &y.d, &y.dmin, y.scales, L);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < SUB; l++) y.qs[SUB * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + SUB + l] << 4));
        memcpy(out, &y, sizeof y);
    }
}

void gt_quantize_row_q5_k(const float *src, void *dst, int64_t n) {
    assert(n % GT_QK_K == 0);
    uint8_t *out = dst, L[GT_QK_K];
    for (int64_t b = 0; b < n / GT_QK_K; b++, src += GT_QK_K, out += sizeof(gt_block_q5_k)) {
        gt_block_q5_k y;
        kq_affine_block(src, 31, -0.5f, 15, &y.d, &y.dmin, y.scales, L);
        memset(y.qh, 0, sizeof y.qh);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < SUB; l++) {
                int lo = L[64 * c + l], hi = L[64 * c + SUB + l];
                y.qh[l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
                y.qs[SUB * c + l] = (uint8_t)((lo & 15) | ((hi & 15) << 4));
            }
        memcpy(out, &y, sizeof y);
    }
}

/* A symmetric scale for n values with L in -nmax..nmax-1 (stored + nmax):
 * starting from -nmax / (the value of largest magnitude), 19 trial inverse
 * scales -(nmax + 0.1 is) / max (is = -9..9), keeping the one whose
 * x^2-weighted least-squares fit explains most (sumlx^2 / suml2). Returns
 * the scale. */
static float fit_scale_sym(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)-nmax / max, sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = gt_kq_clampi(gt_kq_round(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f, best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -((float)nmax + 0.1f * (float)is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = gt_kq_clampi(gt_kq_round(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + gt_kq_clampi(gt_kq_round(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Packs 256 quants (0..63) into Q6_K's ql/qh (layout in kquant.h). */
static void q6_pack(const int8_t L[GT_QK_K], gt_block_q6_k *y) {
    for (int h = 0; h < 2; h++) {
        const int8_t *l0 = L + 128 * h;
        uint8_t *ql = y->ql + 64 * h, *qh = y->qh + 32 * h;
        for (int l = 0; l < 32; l++) {
            int a = l0[l], b = l0[l + 32], c = l0[l + 64], e = l0[l + 96];
            ql[l] = (uint8_t)((a & 15) | ((c & 15) << 4));
            ql[l + 32] = (uint8_t)((b & 15) | ((e & 15) << 4));
            qh[l] = (uint8_t)((a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
        }
    }
}

void gt_quantize_row_q6_k(const float *src, void *dst, int64_t n) {
    assert(n % GT_QK_K == 0);
    uint8_t *out = dst;
    int8_t L[GT_QK_K];
    for (int64_t b = 0; b < n / GT_QK_K; b++, src += GT_QK_K, out += sizeof(gt_block_q6_k)) {
        gt_block_q6_k y;
        memset(&y, 0, sizeof y);
        float sc[GT_QK_K / SUB6], max_sc = 0, max_abs = 0;
        for (int j = 0; j < GT_QK_K / SUB6; j++) {
            sc[j] = fit_scale_sym(SUB6, 32, src + SUB6 * j, L + SUB6 * j);
            if (fabsf(sc[j]) > max_abs) {
                max_abs = fabsf(sc[j]);
                max_sc = sc[j];
            }
        }
        if (max_abs >= GROUP_MAX_EPS) {
            float iscale = -128.f / max_sc;
            y.d = gt_quantize_f32_to_f16(1 / iscale);
            for (int j = 0; j < GT_QK_K / SUB6; j++) {
                int s = gt_kq_round(iscale * sc[j]);
                y.scales[j] = (int8_t)(s < 127 ? s : 127);
            }
            float df = gt_quantize_f16_to_f32(y.d);
            for (int j = 0; j < GT_QK_K / SUB6; j++) {
                float dj = df * (float)y.scales[j];
                if (dj == 0.0f) continue;
                for (int i = 0; i < SUB6; i++)
                    L[SUB6 * j + i] = (int8_t)(gt_kq_clampi(gt_kq_round(src[SUB6 * j + i] / dj), -32, 31) + 32);
            }
            q6_pack(L, &y);
        }
        memcpy(out, &y, sizeof y);
    }
}

/* --- unpacking and dequantization ------------------------------------------ */

void gt_kq_header(uint32_t type, const void *block, gt_kq_sb *s) {
    const uint8_t *p = block;
    uint16_t d, dmin;
    if (type == GT_TYPE_Q2_K || type == GT_TYPE_Q3_K || type == GT_TYPE_IQ4_XS) {
        gt_kq_low_header(type, p, s);
        return;
    }
    if (type == GT_TYPE_Q6_K) {
        memcpy(&d, p + offsetof(gt_block_q6_k, d), 2);
        s->d = gt_quantize_f16_to_f32(d);
        s->dmin = 0.0f;
        for (int j = 0; j < 16; j++) s->sc[j] = (int8_t)p[offsetof(gt_block_q6_k, scales) + (size_t)j];
        return;
    }
    assert(type == GT_TYPE_Q4_K || type == GT_TYPE_Q5_K); /* the same head */
    memcpy(&d, p, 2);
    memcpy(&dmin, p + 2, 2);
    s->d = gt_quantize_f16_to_f32(d);
    s->dmin = gt_quantize_f16_to_f32(dmin);
    for (int j = 0; j < 8; j++) scale_min(p + 4, j, &s->sc[j], &s->m[j]);
}

void gt_kq_unpack(uint32_t type, const void *block, gt_kq_sb *s) {
    gt_kq_header(type, block, s);
    if (type == GT_TYPE_Q2_K || type == GT_TYPE_Q3_K || type == GT_TYPE_IQ4_XS) {
        gt_kq_low_quants(type, block, s->q);
        return;
    }
    if (type == GT_TYPE_Q6_K) {
        const uint8_t *b = block;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b + 64 * h, *qh = b + offsetof(gt_block_q6_k, qh) + 32 * h;
            uint8_t *q = s->q + 128 * h;
            for (int l = 0; l < 32; l++) {
                q[l] = (uint8_t)((ql[l] & 15) | ((qh[l] & 3) << 4));
                q[l + 32] = (uint8_t)((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4));
                q[l + 64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                q[l + 96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
            }
        }
        return;
    }
    /* Q5_K has qh before qs. */
    const uint8_t *qs = (const uint8_t *)block + 16, *qh = NULL;
    if (type == GT_TYPE_Q5_K) {
        qh = qs;
        qs += GT_QK_K / 8;
    }
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < SUB; l++) {
            uint8_t byte = qs[SUB * c + l];
            int lo = byte & 15, hi = byte >> 4;
            if (qh) {
                lo |= ((qh[l] >> (2 * c)) & 1) << 4;
                hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
            }
            s->q[64 * c + l] = (uint8_t)lo;
            s->q[64 * c + SUB + l] = (uint8_t)hi;
        }
}

/* Q4_K/Q5_K: weight = (d * sc) * q - (dmin * m), each product rounded. */
static void dequant_affine(uint32_t type, size_t block_bytes, const void *row, float *out, int64_t n) {
    gt_kq_sb s;
    for (int64_t b = 0; b < n / GT_QK_K; b++, out += GT_QK_K) {
        gt_kq_unpack(type, (const uint8_t *)row + (size_t)b * block_bytes, &s);
        for (int j = 0; j < 8; j++) {
            float dj = s.d * (float)s.sc[j], mj = s.dmin * (float)s.m[j];
            for (int l = 0; l < SUB; l++) out[SUB * j + l] = dj * (float)s.q[SUB * j + l] - mj;
        }
    }
}

void gt_dequant_row_q4_k(const void *row, float *out, int64_t n) {
    assert(n % GT_QK_K == 0);
    dequant_affine(GT_TYPE_Q4_K, sizeof(gt_block_q4_k), row, out, n);
}

void gt_dequant_row_q5_k(const void *row, float *out, int64_t n) {
    assert(n % GT_QK_K == 0);
    dequant_affine(GT_TYPE_Q5_K, sizeof(gt_block_q5_k), row, out, n);
}

/* Q6_K: weight = (d * sc) * (q - 32). */
void gt_dequant_row_q6_k(const void *row, float *out, int64_t n) {
    assert(n % GT_QK_K == 0);
    gt_kq_sb s;
    for (int64_t b = 0; b < n / GT_QK_K; b++, out += GT_QK_K) {
        gt_kq_unpack(GT_TYPE_Q6_K, (const uint8_t *)row + (size_t)b * sizeof(gt_block_q6_k), &s);
        for (int i = 0; i < GT_QK_K; i++) out[i] = s.d * (float)s.sc[i / SUB6] * (float)((int)s.q[i] - 32);
    }
}
