/* kernels_avx2.c: the AVX2 (+FMA, F16C) kernel table.
 *
 * Compiled for that ISA with a target pragma, entered only after gt_kern_isa
 * checked cpuid. Follows the canonical order of kernels.h: a ymm holds one
 * value for each of 8 rows (half a 16-row tile), every lane runs its own
 * row's dot product, and results are stored 8 rows at a time.
 *
 * Byte products use vpmaddubsw + vpmaddwd, which give each int32 lane the
 * sum of 4 products like vpdpbusd does; the 16-bit intermediate cannot
 * saturate for our ranges: Q8_0 goes back to signed weights (xor 0x80) and
 * uses |w| against sign(a, w), |w| <= 128 and |a| <= 127, as IQ4_NL does
 * with its table values (|v| <= 127); nibbles are <= 15, with Q5_0/Q5_1's
 * fifth bit <= 31. The Q4_0 and Q5_0 offsets (8, 16) are removed with the
 * activation block sum, exactly.
 *
 * This file holds the table, the activation quantizer, the block-32
 * quantized tiles (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL), the float tiles
 * and the element-wise steps; the K-quant kernels are in kernels_avx2_kq.c. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#ifdef __clang__ /* clang ignores the GCC pragma: the same target, its way */
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#endif
#include <immintrin.h>
#include <string.h>

#include "infer/gguf.h"
#include "infer/kernels_avx2_impl.h"
#include "infer/kernels_impl.h"
#include "infer/kquant.h"
#include "infer/quantize_q32.h"

#define TR GT_KERN_TILE_ROWS
#define MAX_NT 4

/* The canonical halving tree over lanes lo (0-7) and hi (8-15). */
static inline float tree16(__m256 lo, __m256 hi) {
    __m256 a = _mm256_add_ps(lo, hi);
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    __m128 d = _mm_add_ss(c, _mm_movehdup_ps(c));
    return _mm_cvtss_f32(d);
}

static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* v's lanes with the integer indefinite value (what vcvtps2dq gives a NaN,
 * an infinity or a value out of range; a quant is otherwise in [-127, 127])
 * as 0, as the scalar path's quant of such a value (gt_kern_quant_block). */
static inline __m256i finite_quants(__m256i v) {
    return _mm256_andnot_si256(_mm256_cmpeq_epi32(v, _mm256_set1_epi32(INT32_MIN)), v);
}

/* Copies columns [col0, col1) of token t and (quant) quantizes their blocks
 * exactly as gt_kern_quant_block. */
static void act_set_avx2(gt_act *a, int t, const float *x, int col0, int col1, int quant) {
    size_t off = (size_t)a->n_cols * (size_t)t;
    memcpy(a->x + off + col0, x + col0, (size_t)(col1 - col0) * sizeof(float));
    gt_act_stale(a, t, col0, col1);
    if (!quant) return;
    int8_t *q = a->qs + off;
    float *d = a->d + (size_t)a->n_blocks * (size_t)t;
    int32_t *sum = a->sum + (size_t)a->n_blocks * (size_t)t;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int b = col0 / GT_QK; b < col1 / GT_QK; b++) {
        __m256 v[4];
        __m256 m = _mm256_setzero_ps();
        for (int i = 0; i < 4; i++) {
            v[i] = _mm256_loadu_ps(x + b * GT_QK + 8 * i);
            /* |v| first: vmaxps returns its second operand when one is NaN,
             * so a NaN is passed over, as the scalar path's comparison does */
            m = _mm256_max_ps(_mm256_andnot_ps(sign, v[i]), m);
        }
        float amax = hmax8(m);
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        d[b] = gt_f16_to_f32(gt_f32_to_f16(amax / 127.0f));
        __m256 vid = _mm256_set1_ps(id);
        __m256i i0 = finite_quants(_mm256_cvtps_epi32(_mm256_mul_ps(v[0], vid)));
        __m256i i1 = finite_quants(_mm256_cvtps_epi32(_mm256_mul_ps(v[1], vid)));
        __m256i i2 = finite_quants(_mm256_cvtps_epi32(_mm256_mul_ps(v[2], vid)));
        __m256i i3 = finite_quants(_mm256_cvtps_epi32(_mm256_mul_ps(v[3], vid)));
        sum[b] = hsum8(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
        /* packs work within 128-bit lanes; the permute restores element order. */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        _mm256_storeu_si256((__m256i *)(q + b * GT_QK), _mm256_permutevar8x32_epi32(p, perm));
    }
}

/* Sum of 4 consecutive byte products per int32 lane (u unsigned, s signed). */
static inline __m256i dot4(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* Stores 8 rows for one token, leaving rows past n_rows. */
static inline void store_rows8(float *dst, __m256 v, int row0, int n_rows) {
    int left = n_rows - row0;
    if (left >= 8) {
        _mm256_storeu_ps(dst, v);
        return;
    }
    float tmp[8];
    _mm256_storeu_ps(tmp, v);
    for (int i = 0; i < left; i++) dst[i] = tmp[i];
}

/* The products of one 32-byte half of group j of a tile block (8 rows'
 * 4 bytes, v) with a token's 4 broadcast activation bytes per element
 * group (x0 for elements 4j.., x1 for 16 + 4j..; Q8_0 only x0), added to
 * p. qh is the half's Q5_0/Q5_1 fifth bits (gt_qt_qh_tile's order), tbl
 * IQ4_NL's signed values. The sums hold o * (activation sum) beyond the
 * exact p for Q4_0 (o = 8) and Q5_0 (16), stored offset. */
static inline __attribute__((always_inline)) __m256i qt_dot(const uint32_t qt, __m256i p, __m256i v, __m256i qh,
                                                            int j, __m256i tbl, __m256i x0, __m256i x1) {
    const __m256i low4 = _mm256_set1_epi8(0x0f), bit4 = _mm256_set1_epi8(0x10);
    if (qt == GT_TYPE_Q8_0) {
        __m256i ws = _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80)); /* signed weights */
        return _mm256_add_epi32(p, dot4(_mm256_abs_epi8(ws), _mm256_sign_epi8(x0, ws)));
    }
    __m256i lo = _mm256_and_si256(v, low4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
    if (gt_qt_has_qh(qt)) {
        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_sll_epi32(qh, _mm_cvtsi32_si128(4 - j)), bit4));
        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_srl_epi32(qh, _mm_cvtsi32_si128(j)), bit4));
    }
    if (qt == GT_TYPE_IQ4_NL) { /* |v| against sign(a, v): no 16-bit saturation */
        lo = _mm256_shuffle_epi8(tbl, lo);
        hi = _mm256_shuffle_epi8(tbl, hi);
        p = _mm256_add_epi32(p, dot4(_mm256_abs_epi8(lo), _mm256_sign_epi8(x0, lo)));
        return _mm256_add_epi32(p, dot4(_mm256_abs_epi8(hi), _mm256_sign_epi8(x1, hi)));
    }
    p = _mm256_add_epi32(p, dot4(lo, x0));
    return _mm256_add_epi32(p, dot4(hi, x1));
}

/* Quantized weights (gt_qt_is): one tile (two halves of 8 rows) x NT
 * tokens from t0. */
static inline __attribute__((always_inline)) void
mm_quant(const gt_qmat *w, int tile, const gt_act *a, int t0, const int NT, float *y, size_t ldy,
         const uint32_t qt) {
    const size_t blk_bytes = gt_qt_blk_bytes(qt);
    const int ns = gt_qt_scales(qt), off = qt == GT_TYPE_Q4_0 ? 8 : qt == GT_TYPE_Q5_0 ? 16 : 0;
    const uint8_t *tq = w->qs + (size_t)tile * w->qs_tile_bytes;
    const gt_f16 *td = w->d + (size_t)tile * (w->d_tile_bytes / sizeof(gt_f16));
    const __m256i tbl = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)gt_iq4nl_values));
    __m256 acc[2][MAX_NT];
    #pragma GCC unroll 8
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 8
        for (int t = 0; t < NT; t++) acc[h][t] = _mm256_setzero_ps();
    for (int b = 0; b < w->n_blocks; b++) {
        __m256i p[2][MAX_NT];
#pragma GCC unroll 8
        for (int h = 0; h < 2; h++)
    #pragma GCC unroll 8
            for (int t = 0; t < NT; t++) p[h][t] = _mm256_setzero_si256();
        const uint8_t *wb = tq + (size_t)b * blk_bytes;
        for (int j = 0; j < (qt == GT_TYPE_Q8_0 ? 8 : 4); j++)
    #pragma GCC unroll 8
            for (int h = 0; h < 2; h++) {
                __m256i v = _mm256_load_si256((const __m256i *)(wb + j * 64 + h * 32));
                __m256i qh = gt_qt_has_qh(qt) ? _mm256_load_si256((const __m256i *)(wb + GT_QT_QH_OFF + h * 32))
                                              : _mm256_setzero_si256();
        #pragma GCC unroll 8
                for (int t = 0; t < NT; t++) {
                    const int8_t *aq = a->qs + (size_t)a->n_cols * (size_t)(t0 + t) + b * GT_QK;
                    __m256i x1 = qt == GT_TYPE_Q8_0 ? _mm256_setzero_si256() : bcast4(aq + 16 + 4 * j);
                    p[h][t] = qt_dot(qt, p[h][t], v, qh, j, tbl, bcast4(aq + 4 * j), x1);
                }
            }
#pragma GCC unroll 8
        for (int h = 0; h < 2; h++) {
            __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(td + (size_t)b * ns + h * 8)));
            __m256 dm = gt_qt_has_min(qt)
                            ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(td + (size_t)b * ns + TR + h * 8)))
                            : _mm256_setzero_ps();
    #pragma GCC unroll 8
            for (int t = 0; t < NT; t++) {
                size_t ib = (size_t)a->n_blocks * (size_t)(t0 + t) + (size_t)b;
                __m256i pv = p[h][t];
                if (off) pv = _mm256_sub_epi32(pv, _mm256_set1_epi32(off * a->sum[ib]));
                __m256 da = _mm256_set1_ps(a->d[ib]);
                acc[h][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pv), _mm256_mul_ps(dw, da), acc[h][t]);
                if (gt_qt_has_min(qt)) /* Q4_1, Q5_1: + (activation sum) * m * da */
                    acc[h][t] = _mm256_fmadd_ps(_mm256_set1_ps((float)a->sum[ib]), _mm256_mul_ps(dm, da), acc[h][t]);
            }
        }
    }
    #pragma GCC unroll 8
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 8
        for (int t = 0; t < NT; t++)
            store_rows8(y + (size_t)(t0 + t) * ldy + (size_t)tile * TR + h * 8, acc[h][t], tile * TR + h * 8,
                        w->n_rows);
}

/* 8 weights (rows 8h..8h+7 of column k of a tile) of a float type, widened. */
static inline __m256 load_w8(uint32_t type, const uint8_t *tq, int k, int h) {
    size_t idx = (size_t)k * TR + (size_t)h * 8;
    if (type == GT_TYPE_F32) return _mm256_load_ps((const float *)tq + idx);
    __m128i v = _mm_load_si128((const __m128i *)(tq + idx * 2));
    if (type == GT_TYPE_F16) return _mm256_cvtph_ps(v);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
}

/* Float weights: one tile x NT tokens from t0, column k ascending. */
static inline __attribute__((always_inline)) void
mm_float(const gt_qmat *w, int tile, const gt_act *a, int t0, const int NT, float *y, size_t ldy) {
    const uint8_t *tq = w->qs + (size_t)tile * w->qs_tile_bytes;
    __m256 acc[2][MAX_NT];
    #pragma GCC unroll 8
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 8
        for (int t = 0; t < NT; t++) acc[h][t] = _mm256_setzero_ps();
    for (int k = 0; k < w->n_cols; k++) {
        __m256 w0 = load_w8(w->type, tq, k, 0), w1 = load_w8(w->type, tq, k, 1);
#pragma GCC unroll 8
        for (int t = 0; t < NT; t++) {
            __m256 xv = _mm256_set1_ps(a->x[(size_t)a->n_cols * (size_t)(t0 + t) + (size_t)k]);
            acc[0][t] = _mm256_fmadd_ps(w0, xv, acc[0][t]);
            acc[1][t] = _mm256_fmadd_ps(w1, xv, acc[1][t]);
        }
    }
    #pragma GCC unroll 8
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 8
        for (int t = 0; t < NT; t++)
            store_rows8(y + (size_t)(t0 + t) * ldy + (size_t)tile * TR + h * 8, acc[h][t], tile * TR + h * 8,
                        w->n_rows);
}

/* One tile x nt tokens (1 <= nt <= MAX_NT), with the type and nt as
 * constants in every instance. */
#define TILE_CASES(call, Q4)                                                        \
    switch (nt) {                                                                   \
    case 1: call(w, tile, a, t0, 1, y, ldy, Q4); break;                             \
    case 2: call(w, tile, a, t0, 2, y, ldy, Q4); break;                             \
    case 3: call(w, tile, a, t0, 3, y, ldy, Q4); break;                             \
    default: call(w, tile, a, t0, 4, y, ldy, Q4); break;                            \
    }
#define MM_FLOAT(w, tile, a, t0, NT, y, ldy, unused) mm_float(w, tile, a, t0, NT, y, ldy)

static void matmul_avx2(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y,
                        size_t ldy) {
    if (gt_kq_is_k(w->type)) {
        static const gt_kq_fns fns = {
            .quant = gt_kq_quant_sb_avx2,
            .tile = {[GT_KQT_Q2] = gt_kq2_tile_avx2, [GT_KQT_Q3] = gt_kq3_tile_avx2, [GT_KQT_Q4] = gt_kq4_tile_avx2,
                     [GT_KQT_Q5] = gt_kq5_tile_avx2, [GT_KQT_Q6] = gt_kq6_tile_avx2,
                     [GT_KQT_IQ4XS] = gt_kqx_tile_avx2},
        };
        gt_kq_matmul(w, tile0, tile1, a, y, ldy, &fns);
        return;
    }
    for (int tile = tile0; tile < tile1; tile++)
        for (int t0 = 0; t0 < a->n_tok; t0 += MAX_NT) {
            int nt = a->n_tok - t0;
            switch (w->type) {
            case GT_TYPE_Q8_0: TILE_CASES(mm_quant, GT_TYPE_Q8_0) break;
            case GT_TYPE_Q4_0: TILE_CASES(mm_quant, GT_TYPE_Q4_0) break;
            case GT_TYPE_Q4_1: TILE_CASES(mm_quant, GT_TYPE_Q4_1) break;
            case GT_TYPE_Q5_0: TILE_CASES(mm_quant, GT_TYPE_Q5_0) break;
            case GT_TYPE_Q5_1: TILE_CASES(mm_quant, GT_TYPE_Q5_1) break;
            case GT_TYPE_IQ4_NL: TILE_CASES(mm_quant, GT_TYPE_IQ4_NL) break;
            default: TILE_CASES(MM_FLOAT, 0) break;
            }
        }
}

static float dot_avx2(const float *a, const float *b, int n) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), hi);
    }
    return tree16(lo, hi);
}

static void axpy_avx2(float *y, float s, const float *x, int n) {
    __m256 vs = _mm256_set1_ps(s);
    for (int i = 0; i < n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(vs, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
}

/* Eight halves at h widened to floats (exact). */
static inline __m256 load_f16x8(const gt_f16 *h) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h)); }

/* dot_avx2 against a row of halves: the same lanes in the same order. */
static void dots_avx2(float *out, const float *q, const gt_f16 *k, size_t stride, int n_pos, int n) {
    for (int p = 0; p < n_pos; p++) {
        const gt_f16 *row = k + (size_t)p * stride;
        __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            lo = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load_f16x8(row + i), lo);
            hi = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), load_f16x8(row + i + 8), hi);
        }
        out[p] = tree16(lo, hi);
    }
}

/* Weighted sum in axpy's order, 64 outputs at a time in registers. */
static void wsum_avx2(float *o, const float *s, const gt_f16 *v, size_t stride, int n_pos, int n) {
    for (int i0 = 0; i0 < n; i0 += 64) {
        int m = n - i0 < 64 ? (n - i0) / 8 : 8;
        __m256 acc[8];
        for (int c = 0; c < 8; c++) acc[c] = _mm256_setzero_ps();
        for (int p = 0; p < n_pos; p++) {
            __m256 sp = _mm256_set1_ps(s[p]);
            const gt_f16 *row = v + (size_t)p * stride + i0;
            for (int c = 0; c < m; c++) acc[c] = _mm256_fmadd_ps(sp, load_f16x8(row + 8 * c), acc[c]);
        }
        for (int c = 0; c < m; c++) _mm256_storeu_ps(o + i0 + 8 * c, acc[c]);
    }
}

/* dots_avx2 for two heads: each key's halves widened once. */
static void dots2_avx2(float *out0, float *out1, const float *q0, const float *q1, const gt_f16 *k, size_t stride,
                       int n_pos, int n) {
    for (int p = 0; p < n_pos; p++) {
        const gt_f16 *row = k + (size_t)p * stride;
        __m256 lo0 = _mm256_setzero_ps(), hi0 = lo0, lo1 = lo0, hi1 = lo0;
        for (int i = 0; i < n; i += 16) {
            __m256 kl = load_f16x8(row + i), kh = load_f16x8(row + i + 8);
            lo0 = _mm256_fmadd_ps(_mm256_loadu_ps(q0 + i), kl, lo0);
            hi0 = _mm256_fmadd_ps(_mm256_loadu_ps(q0 + i + 8), kh, hi0);
            lo1 = _mm256_fmadd_ps(_mm256_loadu_ps(q1 + i), kl, lo1);
            hi1 = _mm256_fmadd_ps(_mm256_loadu_ps(q1 + i + 8), kh, hi1);
        }
        out0[p] = tree16(lo0, hi0);
        out1[p] = tree16(lo1, hi1);
    }
}

/* wsum_avx2 for two heads, 32 outputs of each at a time in registers. */
static void wsum2_avx2(float *o0, float *o1, const float *s0, const float *s1, const gt_f16 *v, size_t stride,
                       int n_pos, int n) {
    for (int i0 = 0; i0 < n; i0 += 32) {
        int m = n - i0 < 32 ? (n - i0) / 8 : 4;
        __m256 a0[4], a1[4];
        for (int c = 0; c < 4; c++) a0[c] = a1[c] = _mm256_setzero_ps();
        for (int p = 0; p < n_pos; p++) {
            __m256 sp0 = _mm256_set1_ps(s0[p]), sp1 = _mm256_set1_ps(s1[p]);
            const gt_f16 *row = v + (size_t)p * stride + i0;
            for (int c = 0; c < m; c++) {
                __m256 x = load_f16x8(row + 8 * c);
                a0[c] = _mm256_fmadd_ps(sp0, x, a0[c]);
                a1[c] = _mm256_fmadd_ps(sp1, x, a1[c]);
            }
        }
        for (int c = 0; c < m; c++) _mm256_storeu_ps(o0 + i0 + 8 * c, a0[c]), _mm256_storeu_ps(o1 + i0 + 8 * c, a1[c]);
    }
}

/* gt_kern_expf on 8 lanes, the same operations in the same order. */
static inline __m256 exp8(__m256 x) {
    __m256 live = _mm256_cmp_ps(x, _mm256_set1_ps(GT_EXP_LO), _CMP_GT_OQ);
    x = _mm256_min_ps(x, _mm256_set1_ps(GT_EXP_HI));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(GT_EXP_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-GT_EXP_C1), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-GT_EXP_C2), r);
    __m256 p = _mm256_set1_ps(GT_EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(GT_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(GT_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(GT_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(GT_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(GT_EXP_P5));
    __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(live, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

/* Tails run the same vector code on a padded copy (each lane's result is
 * its own). */
static inline __m256 silu8(__m256 gv, __m256 uv) {
    __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), gv));
    return _mm256_mul_ps(_mm256_div_ps(gv, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), uv);
}

static void silu_mul_avx2(float *g, const float *u, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(g + i, silu8(_mm256_loadu_ps(g + i), _mm256_loadu_ps(u + i)));
    if (i < n) {
        float tg[8] = {0}, tu[8] = {0};
        memcpy(tg, g + i, (size_t)(n - i) * 4);
        memcpy(tu, u + i, (size_t)(n - i) * 4);
        _mm256_storeu_ps(tg, silu8(_mm256_loadu_ps(tg), _mm256_loadu_ps(tu)));
        memcpy(g + i, tg, (size_t)(n - i) * 4);
    }
}

static void exp_shift_avx2(float *s, float mx, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(s + i, exp8(_mm256_sub_ps(_mm256_loadu_ps(s + i), _mm256_set1_ps(mx))));
    if (i < n) {
        float t[8] = {0};
        memcpy(t, s + i, (size_t)(n - i) * 4);
        _mm256_storeu_ps(t, exp8(_mm256_sub_ps(_mm256_loadu_ps(t), _mm256_set1_ps(mx))));
        memcpy(s + i, t, (size_t)(n - i) * 4);
    }
}

static void f16_store_avx2(gt_f16 *dst, const float *src, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = gt_f32_to_f16(src[i]);
}

const gt_kern gt_kern_avx2 = {
    .name = "avx2",
    .act_set = act_set_avx2,
    .matmul = matmul_avx2,
    .dot = dot_avx2,
    .axpy = axpy_avx2,
    .dots = dots_avx2,
    .wsum = wsum_avx2,
    .dots2 = dots2_avx2,
    .wsum2 = wsum2_avx2,
    .silu_mul = silu_mul_avx2,
    .exp_shift = exp_shift_avx2,
    .f16_store = f16_store_avx2,
    .pack_q8_0 = gt_pack_q8_0_scalar, /* a load-time copy; AVX2 was not measured faster */
};
#endif

#ifdef __clang__
#pragma clang attribute pop
#endif
