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
 * uses |w| against sign(a, w), |w| <= 128 and |a| <= 127; Q4_0 nibbles are
 * <= 15. The Q4_0 offset is removed with the activation block sum, exactly. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#ifdef __clang__ /* clang ignores the GCC pragma: the same target, its way */
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#endif
#include <immintrin.h>
#include <string.h>

#include "infer/gguf.h"
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

/* Sum of the 8 int32 lanes of v (exact). */
static inline int32_t hsum8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
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
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
        }
        float amax = hmax8(m);
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        d[b] = gt_f16_to_f32(gt_f32_to_f16(amax / 127.0f));
        __m256 vid = _mm256_set1_ps(id);
        __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v[0], vid));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v[1], vid));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v[2], vid));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v[3], vid));
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

static inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
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

/* Quantized weights: one tile (two halves of 8 rows) x NT tokens from t0. */
static inline __attribute__((always_inline)) void
mm_quant(const gt_qmat *w, int tile, const gt_act *a, int t0, const int NT, float *y, size_t ldy,
         const int q4) {
    const size_t blk_bytes = q4 ? GT_QK / 2 * TR : GT_QK * TR;
    const uint8_t *tq = w->qs + (size_t)tile * w->qs_tile_bytes;
    const gt_f16 *td = w->d + (size_t)tile * (w->d_tile_bytes / sizeof(gt_f16));
    const __m256i low4 = _mm256_set1_epi8(0x0f), flip = _mm256_set1_epi8((char)0x80);
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
        for (int j = 0; j < (q4 ? 4 : 8); j++)
    #pragma GCC unroll 8
            for (int h = 0; h < 2; h++) {
                __m256i v = _mm256_load_si256((const __m256i *)(wb + j * 64 + h * 32));
        #pragma GCC unroll 8
                for (int t = 0; t < NT; t++) {
                    const int8_t *aq = a->qs + (size_t)a->n_cols * (size_t)(t0 + t) + b * GT_QK;
                    if (q4) {
                        p[h][t] = _mm256_add_epi32(p[h][t], dot4(_mm256_and_si256(v, low4), bcast4(aq + 4 * j)));
                        p[h][t] = _mm256_add_epi32(
                            p[h][t], dot4(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4), bcast4(aq + 16 + 4 * j)));
                    } else {
                        __m256i ws = _mm256_xor_si256(v, flip); /* signed weights */
                        p[h][t] = _mm256_add_epi32(
                            p[h][t], dot4(_mm256_abs_epi8(ws), _mm256_sign_epi8(bcast4(aq + 4 * j), ws)));
                    }
                }
            }
#pragma GCC unroll 8
        for (int h = 0; h < 2; h++) {
            __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(td + (size_t)b * TR + h * 8)));
    #pragma GCC unroll 8
            for (int t = 0; t < NT; t++) {
                size_t ib = (size_t)a->n_blocks * (size_t)(t0 + t) + (size_t)b;
                __m256i pv = p[h][t];
                if (q4) pv = _mm256_sub_epi32(pv, _mm256_set1_epi32(8 * a->sum[ib]));
                __m256 sc = _mm256_mul_ps(dw, _mm256_set1_ps(a->d[ib]));
                acc[h][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pv), sc, acc[h][t]);
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

/* K-quant super-blocks against tokens (gt_kq_row_fn): the quants are
 * decoded in registers (nibbles by mask and shift, high bits from qh moved
 * into place); per 32 columns vpmaddubsw gives 16-bit sums of 2 products
 * (unsigned quants <= 63 against |a| <= 127: no saturation), and vpmaddwd
 * against the sub-block scales (Q6_K: scales of the two halves; its - 32
 * offset taken off in 16 bits first, |q - 32| |a| 2 <= 8128) accumulates
 * the scaled sums in int32 lanes; the mins likewise, vpmaddubsw of the min
 * against a. Exact integers, equal to the scalar ones by distributivity;
 * then the shared float step. */
static inline int32_t hsum8_i32(__m256i v) {
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
    return _mm_cvtsi128_si32(x);
}

static inline __m256i shr16(__m256i v, int n) { return _mm256_srl_epi16(v, _mm_cvtsi32_si128(n)); }

/* The 256 quants of a block as 8 vectors of 32 unsigned bytes (columns
 * 32c..32c+31 in q[c]); layouts in kquant.h. */
static inline __attribute__((always_inline)) void kq_decode(uint32_t type, const uint8_t *blk, __m256i q[8]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(3), m1 = _mm256_set1_epi8(1);
    if (type == GT_TYPE_Q2_K || type == GT_TYPE_Q3_K) { /* 2 bits (+ hmask's third, Q3_K) */
        const int q3 = type == GT_TYPE_Q3_K;
        const uint8_t *qs = blk + (q3 ? 32 : 16);
        __m256i hm = q3 ? _mm256_loadu_si256((const __m256i *)blk) : _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i b = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
            for (int sh = 0; sh < 4; sh++) {
                __m256i v = _mm256_and_si256(shr16(b, 2 * sh), m2);
                if (q3) v = _mm256_or_si256(v, _mm256_slli_epi16(_mm256_and_si256(shr16(hm, 4 * h + sh), m1), 2));
                q[4 * h + sh] = v;
            }
        }
        return;
    }
    if (type == GT_TYPE_IQ4_XS) { /* signed table values, not offset */
        const __m256i tab = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)gt_iq4nl_values));
        for (int j = 0; j < 8; j++) {
            __m128i b = _mm_loadu_si128((const __m128i *)(blk + 8 + 16 * j));
            __m256i n = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0f)),
                                         _mm_and_si128(b, _mm_set1_epi8(0x0f)));
            q[j] = _mm256_shuffle_epi8(tab, n);
        }
        return;
    }
    if (type == GT_TYPE_Q6_K) {
        for (int h = 0; h < 2; h++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(blk + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(blk + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * h));
            q[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                           _mm256_slli_epi16(_mm256_and_si256(shr16(qh, 2), m2), 4));
            q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(shr16(l0, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(shr16(qh, 4), m2), 4));
            q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(shr16(l1, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(shr16(qh, 6), m2), 4));
        }
        return;
    }
    int q5 = type == GT_TYPE_Q5_K;
    const uint8_t *qs = blk + 16 + (q5 ? 32 : 0);
    __m256i qh = q5 ? _mm256_loadu_si256((const __m256i *)(blk + 16)) : _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        __m256i b = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i lo = _mm256_and_si256(b, m4), hi = _mm256_and_si256(shr16(b, 4), m4);
        if (q5) {
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(shr16(qh, 2 * c), m1), 4));
            hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(shr16(qh, 2 * c + 1), m1), 4));
        }
        q[2 * c] = lo;
        q[2 * c + 1] = hi;
    }
}

/* A super-block's d, dmin and 6-bit scales/mins (Q6_K: d and the 16 int8
 * scales), as gt_kq_header decodes them (the f16 widening by F16C: exact). */
static inline __attribute__((always_inline)) void kq_header(uint32_t type, const uint8_t *blk, gt_kq_sb *h) {
    uint16_t d, dmin;
    if (type == GT_TYPE_Q2_K || type == GT_TYPE_Q3_K || type == GT_TYPE_IQ4_XS) {
        gt_kq_low_header(type, blk, h); /* f16 widening exact either way */
        return;
    }
    if (type == GT_TYPE_Q6_K) {
        memcpy(&d, blk + 208, 2);
        h->d = _cvtsh_ss(d);
        h->dmin = 0.0f;
        for (int j = 0; j < 16; j++) h->sc[j] = (int8_t)blk[192 + j];
        return;
    }
    memcpy(&d, blk, 2);
    memcpy(&dmin, blk + 2, 2);
    h->d = _cvtsh_ss(d);
    h->dmin = _cvtsh_ss(dmin);
    const uint8_t *s = blk + 4;
    for (int j = 0; j < 4; j++) {
        h->sc[j] = s[j] & 63;
        h->m[j] = s[j + 4] & 63;
        h->sc[j + 4] = (s[j + 8] & 15) | ((s[j] >> 6) << 4);
        h->m[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
    }
}

/* The 16 int16 weights of the activation groups' side term: Q6_K/Q3_K
 * their scales (for the offset), Q2_K its mins, Q4_K/Q5_K the sub-blocks'
 * mins in pairs (IQ4_XS has none: zeros). Built in registers: 16 small
 * stores then a wide load would stall. */
static inline __attribute__((always_inline)) __m256i kq_side(uint32_t type, const gt_kq_sb *h) {
    const int32_t *v = type == GT_TYPE_Q6_K || type == GT_TYPE_Q3_K ? h->sc : h->m;
    if (type == GT_TYPE_IQ4_XS) return _mm256_setzero_si256();
    if (type == GT_TYPE_Q4_K || type == GT_TYPE_Q5_K)
        return _mm256_setr_epi16((short)v[0], (short)v[0], (short)v[1], (short)v[1], (short)v[2], (short)v[2],
                                 (short)v[3], (short)v[3], (short)v[4], (short)v[4], (short)v[5], (short)v[5],
                                 (short)v[6], (short)v[6], (short)v[7], (short)v[7]);
    return _mm256_setr_epi16((short)v[0], (short)v[1], (short)v[2], (short)v[3], (short)v[4], (short)v[5],
                             (short)v[6], (short)v[7], (short)v[8], (short)v[9], (short)v[10], (short)v[11],
                             (short)v[12], (short)v[13], (short)v[14], (short)v[15]);
}

/* One super-block against one token's quants a: sum_c scale . (q_c * a_c)
 * in int32 lanes. Per 32 columns vpmaddubsw gives 16-bit sums of 2 products
 * (unsigned quants <= 63 against |a| <= 127; IQ4_XS's signed values as |v|
 * against sign(a, v), <= 2 * 127 * 127: no saturation), then vpmaddwd
 * against the scales (one per 32, or per 16 in the two halves). */
static inline __attribute__((always_inline)) int32_t kq_dot(uint32_t type, const __m256i q[8], const gt_kq_sb *h,
                                                             const int8_t *a) {
    const int per16 = type == GT_TYPE_Q6_K || type == GT_TYPE_Q3_K || type == GT_TYPE_Q2_K;
    __m256i vdot = _mm256_setzero_si256();
    for (int c = 0; c < 8; c++) {
        __m256i av = _mm256_loadu_si256((const __m256i *)(a + 32 * c));
        __m256i p = type == GT_TYPE_IQ4_XS ? _mm256_maddubs_epi16(_mm256_abs_epi8(q[c]), _mm256_sign_epi8(av, q[c]))
                                           : _mm256_maddubs_epi16(q[c], av);
        __m256i sc = per16 ? _mm256_set_m128i(_mm_set1_epi16((int16_t)h->sc[2 * c + 1]),
                                              _mm_set1_epi16((int16_t)h->sc[2 * c]))
                           : _mm256_set1_epi16((int16_t)h->sc[c]);
        vdot = _mm256_add_epi32(vdot, _mm256_madd_epi16(p, sc));
    }
    return hsum8_i32(vdot);
}

/* gt_kq_row_avx2 for one type (a constant once inlined, so the type's
 * branches fold away). The activation side (the mins, or the offset of
 * Q6_K's q - 32 and Q3_K's q - 4) comes from the group sums: one vpmaddwd
 * of them against kq_side's weights. */
static inline __attribute__((always_inline)) void
kq_row(const uint32_t type, const uint8_t *blocks, int nk, const gt_kq_acts *A, int nt, float *acc) {
    const size_t bb = gt_ggml_block_bytes(type);
    const int off = type == GT_TYPE_Q6_K ? 32 : type == GT_TYPE_Q3_K ? 4 : 0;
    for (int k = 0; k < nk; k++) {
        const uint8_t *blk = blocks + (size_t)k * bb;
        gt_kq_sb h;
        __m256i q[8];
        kq_header(type, blk, &h);
        kq_decode(type, blk, q);
        const __m256i wv = kq_side(type, &h);
        for (int t = 0; t < nt; t++) {
            int32_t dot = kq_dot(type, q, &h, A->aq + (size_t)t * A->aq_stride + (size_t)k * 256);
            __m256i bsv = _mm256_loadu_si256((const __m256i *)(A->bs + (size_t)t * A->bs_stride + (size_t)k * 16));
            int32_t side = type == GT_TYPE_IQ4_XS ? 0 : hsum8_i32(_mm256_madd_epi16(bsv, wv));
            float da = A->da[(size_t)t * A->da_stride + (size_t)k];
            acc[t] = off ? gt_kq_finish(type, &h, dot - off * side, 0, da, acc[t])
                         : gt_kq_finish(type, &h, dot, side, da, acc[t]);
        }
    }
}

void gt_kq_row_avx2(uint32_t type, const uint8_t *blocks, int nk, const gt_kq_acts *a, int nt, float *acc) {
    switch (type) {
    case GT_TYPE_Q4_K: kq_row(GT_TYPE_Q4_K, blocks, nk, a, nt, acc); break;
    case GT_TYPE_Q5_K: kq_row(GT_TYPE_Q5_K, blocks, nk, a, nt, acc); break;
    case GT_TYPE_Q2_K: kq_row(GT_TYPE_Q2_K, blocks, nk, a, nt, acc); break;
    case GT_TYPE_Q3_K: kq_row(GT_TYPE_Q3_K, blocks, nk, a, nt, acc); break;
    case GT_TYPE_IQ4_XS: kq_row(GT_TYPE_IQ4_XS, blocks, nk, a, nt, acc); break;
    default: kq_row(GT_TYPE_Q6_K, blocks, nk, a, nt, acc); break;
    }
}

static inline __m256i kq4_u8x8(const uint8_t *p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)); }

/* The mins and the float step of super-block k, rows of half h, NT
 * tokens from t0 (at acc + 16 t + 8 h), from the lanes' dot sums: lane r's
 * mins of sub-blocks 2i and 2i + 1 as an int16 pair against the pair of
 * the token's sub-block sums (|A_j| <= 32 * 127). */
static inline __attribute__((always_inline)) void kq45_finish8(const uint8_t *sb, int h, int k, const gt_kq_acts *A,
                                                                int t0, const int NT, const __m256i *dot, float *acc,
                                                                const int q5) {
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u);
    const int off_m = q5 ? GT_KQ5_OFF_M : GT_KQ4_OFF_M;
    const int off_d = q5 ? GT_KQ5_OFF_D : GT_KQ4_OFF_D, off_dmin = q5 ? GT_KQ5_OFF_DMIN : GT_KQ4_OFF_DMIN;
    const __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(sb + off_d + 16 * h)));
    const __m256 dmin = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(sb + off_dmin + 16 * h)));
    __m256i mp[4];
    #pragma GCC unroll 8
    for (int i = 0; i < 4; i++)
        mp[i] = _mm256_or_si256(kq4_u8x8(sb + off_m + 32 * i + 8 * h),
                                _mm256_slli_epi32(kq4_u8x8(sb + off_m + 32 * i + 16 + 8 * h), 16));
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        const int16_t *bs = A->bs + (size_t)(t0 + t) * A->bs_stride + (size_t)k * 16;
        __m256i mins = _mm256_setzero_si256();
        #pragma GCC unroll 8
        for (int i = 0; i < 4; i++) {
            uint32_t lo = (uint16_t)(bs[4 * i] + bs[4 * i + 1]), hi = (uint16_t)(bs[4 * i + 2] + bs[4 * i + 3]);
            mins = _mm256_add_epi32(mins, _mm256_madd_epi16(mp[i], _mm256_set1_epi32((int)(lo | hi << 16))));
        }
        const __m256 da = _mm256_set1_ps(A->da[(size_t)(t0 + t) * A->da_stride + (size_t)k]);
        const __m256i nd = _mm256_xor_si256(_mm256_castps_si256(_mm256_mul_ps(dmin, da)), sign);
        float *y = acc + 16 * (t0 + t) + 8 * h;
        __m256 v = _mm256_loadu_ps(y);
        v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[t]), _mm256_mul_ps(d, da), v);
        v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_castsi256_ps(nd), v);
        _mm256_storeu_ps(y, v);
    }
}

/* Decode streams a tile's super-blocks from memory, one after the other:
 * ask ahead, as the AVX-512 tiles do (kq_prefetch there). */
#define PF_KQ_BYTES 4096
static inline __attribute__((always_inline)) void kq_prefetch(const uint8_t *sb, size_t sbb) {
    for (size_t c = 0; c < sbb; c += 64) _mm_prefetch((const char *)(sb + PF_KQ_BYTES + c), _MM_HINT_T0);
}

/* Tiled Q4_K and Q5_K (gt_kq4_tile_fn) in two halves of 8 rows (lane r =
 * row 8h + r), register-blocked over NT (<= KT_NT) tokens: per sub-block j
 * each 64-byte group g gives, in the half's 32 bytes, the lane's 4 quants
 * of elements 32j + 4g.. (low nibbles for even j, high for odd; Q5_K adds
 * bit j of qh's group as bit 4), decoded once for the NT tokens.
 * vpmaddubsw pairs them with the token's 4 broadcast activation quants
 * (quant <= 31 against |a| <= 127: no saturation), and the int16 pair sums
 * of a run of groups add up exactly in int16 (8 groups of Q4_K: <= 8 * 2 *
 * 15 * 127 = 30480; Q5_K flushes every 4); vpmaddwd by the lane's scale in
 * both halves of its dword then gives sc_j * (its sum of products), exact
 * in int32. The mins likewise by vpmaddwd of pairs of mins against pairs of
 * sub-block sums, and the float step is gt_kq_finish's, per lane: the
 * scalar integers, so the scalar bytes. */
#define KT_NT 4
static inline __attribute__((always_inline)) void kq45_half(const uint8_t *sb, int h, int k, const gt_kq_acts *A,
                                                             int t0, const int NT, float *acc, const int q5) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    const int off_sc = q5 ? GT_KQ5_OFF_SC : GT_KQ4_OFF_SC, run = q5 ? 4 : 8;
    const int8_t *aq[KT_NT];
    __m256i dot[KT_NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        aq[t] = A->aq + (size_t)(t0 + t) * A->aq_stride + (size_t)k * GT_QK_K;
        dot[t] = _mm256_setzero_si256();
    }
    for (int j = 0; j < 8; j++) {
        const __m128i shift = _mm_cvtsi32_si128(4 * (j & 1)), bit = _mm_cvtsi32_si128(j);
        const __m256i sc = kq4_u8x8(sb + off_sc + 16 * j + 8 * h);
        const __m256i sc2 = _mm256_or_si256(sc, _mm256_slli_epi32(sc, 16)); /* the scale in both int16 */
        #pragma GCC unroll 8
        for (int g0 = 0; g0 < 8; g0 += run) {
            __m256i p[KT_NT];
            #pragma GCC unroll 8
            for (int t = 0; t < NT; t++) p[t] = _mm256_setzero_si256();
            #pragma GCC unroll 8
            for (int g = g0; g < g0 + run; g++) {
                __m256i v = _mm256_load_si256((const __m256i *)(sb + 64 * (8 * (j >> 1) + g) + 32 * h));
                __m256i q = _mm256_and_si256(_mm256_srl_epi16(v, shift), m4);
                if (q5) {
                    __m256i hb = _mm256_load_si256((const __m256i *)(sb + GT_KQ5_OFF_QH + 64 * g + 32 * h));
                    q = _mm256_or_si256(q, _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(hb, bit), one), 4));
                }
                #pragma GCC unroll 8
                for (int t = 0; t < NT; t++)
                    p[t] = _mm256_add_epi16(p[t], _mm256_maddubs_epi16(q, bcast4(aq[t] + 32 * j + 4 * g)));
            }
            #pragma GCC unroll 8
            for (int t = 0; t < NT; t++) dot[t] = _mm256_add_epi32(dot[t], _mm256_madd_epi16(p[t], sc2));
        }
    }
    kq45_finish8(sb, h, k, A, t0, NT, dot, acc, q5);
}

static inline __attribute__((always_inline)) void kq45_tile(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt,
                                                             float *acc, const int q5) {
    const size_t sbb = q5 ? GT_KQ5_SB_BYTES : GT_KQ4_SB_BYTES;
    assert(nt >= 1 && nt <= 2 * KT_NT);
    for (int k = 0; k < nk; k++, sb += sbb) {
        if (nt == 1) kq_prefetch(sb, sbb);
        for (int h = 0; h < 2; h++)
            for (int t0 = 0; t0 < nt;) {
                int n = nt - t0 > KT_NT ? (nt - t0 + 1) / 2 : nt - t0;
                switch (n) {
                case 1: kq45_half(sb, h, k, A, t0, 1, acc, q5); break;
                case 2: kq45_half(sb, h, k, A, t0, 2, acc, q5); break;
                case 3: kq45_half(sb, h, k, A, t0, 3, acc, q5); break;
                default: kq45_half(sb, h, k, A, t0, 4, acc, q5); break;
                }
                t0 += n;
            }
    }
}

void gt_kq4_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    kq45_tile(sb, nk, A, nt, acc, 0);
}

void gt_kq5_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    kq45_tile(sb, nk, A, nt, acc, 1);
}

/* Tiled Q6_K in two halves of 8 rows, as gt_kq6_tile_avx512 with
 * vpmaddubsw for vpdpbusd: the int16 pair sums of two groups of 4 add up
 * exactly (<= 2 * 2 * 63 * 127 = 32004), and vpmaddwd by the lane's scale in
 * both halves of its dword gives sc_g times them in int32. The offset
 * -32 sc_g A_g is summed apart, once per super-block and token: vpmaddwd of
 * the lanes' scales of groups 2i, 2i + 1 against the token's A_2i, A_2i+1
 * (adjacent int16, one dword). dot = sum sc_g P_g - 32 sum sc_g A_g: the
 * scalar integer, so the scalar bytes. */
static inline __m256i kq6_sc_pair(const uint8_t *lo, const uint8_t *hi) {
    const __m256i l = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)lo));
    const __m256i h = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)hi));
    return _mm256_or_si256(_mm256_and_si256(l, _mm256_set1_epi32(0xffff)), _mm256_slli_epi32(h, 16));
}

static inline __attribute__((always_inline)) void kq6_quarter2(const uint8_t *sb, int rh, int h, int gh, int s, int k,
                                                                const gt_kq_acts *A, int nt, __m256i *dot) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    __m256i q[4];
    for (int u = 0; u < 4; u++) {
        int gi = 4 * gh + u;
        __m256i lo = _mm256_load_si256((const __m256i *)(sb + 64 * (16 * h + 8 * (s & 1) + gi) + 32 * rh));
        __m256i hb = _mm256_load_si256((const __m256i *)(sb + GT_KQ6_OFF_QH + 64 * (8 * h + gi) + 32 * rh));
        if (s >= 2) lo = _mm256_srli_epi16(lo, 4);
        hb = _mm256_and_si256(shr16(hb, 2 * s), m3);
        q[u] = _mm256_or_si256(_mm256_and_si256(lo, m4), _mm256_slli_epi16(hb, 4));
    }
    const uint8_t *scg = sb + GT_KQ6_OFF_SC + 16 * (8 * h + 2 * s + gh) + 8 * rh;
    const __m256i sc2 = kq6_sc_pair(scg, scg);
    for (int t = 0; t < nt; t++) {
        const int8_t *aq = A->aq + (size_t)t * A->aq_stride + (size_t)k * GT_QK_K + 128 * h + 32 * s + 16 * gh;
        __m256i p0 = _mm256_add_epi16(_mm256_maddubs_epi16(q[0], bcast4(aq)),
                                      _mm256_maddubs_epi16(q[1], bcast4(aq + 4)));
        __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(q[2], bcast4(aq + 8)),
                                      _mm256_maddubs_epi16(q[3], bcast4(aq + 12)));
        dot[t] = _mm256_add_epi32(dot[t], _mm256_add_epi32(_mm256_madd_epi16(p0, sc2), _mm256_madd_epi16(p1, sc2)));
    }
}

void gt_kq6_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 8);
    for (int k = 0; k < nk; k++, sb += GT_KQ6_SB_BYTES) {
        if (nt == 1) kq_prefetch(sb, GT_KQ6_SB_BYTES);
        for (int rh = 0; rh < 2; rh++) {
            __m256i dot[8], scp[8];
            for (int t = 0; t < nt; t++) dot[t] = _mm256_setzero_si256();
            for (int h = 0; h < 2; h++)
                for (int gh = 0; gh < 2; gh++)
                    for (int s = 0; s < 4; s++) kq6_quarter2(sb, rh, h, gh, s, k, A, nt, dot);
            for (int i = 0; i < 8; i++)
                scp[i] = kq6_sc_pair(sb + GT_KQ6_OFF_SC + 32 * i + 8 * rh, sb + GT_KQ6_OFF_SC + 32 * i + 16 + 8 * rh);
            const __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(sb + GT_KQ6_OFF_D + 16 * rh)));
            for (int t = 0; t < nt; t++) {
                const int16_t *bs = A->bs + (size_t)t * A->bs_stride + (size_t)k * 16;
                __m256i off = _mm256_setzero_si256();
                for (int i = 0; i < 8; i++) {
                    int32_t pair; /* A_2i in the low half, A_2i+1 in the high one */
                    memcpy(&pair, bs + 2 * i, 4);
                    off = _mm256_add_epi32(off, _mm256_madd_epi16(scp[i], _mm256_set1_epi32(pair)));
                }
                const __m256i dt = _mm256_sub_epi32(dot[t], _mm256_slli_epi32(off, 5));
                const __m256 da = _mm256_set1_ps(A->da[(size_t)t * A->da_stride + (size_t)k]);
                __m256 y = _mm256_loadu_ps(acc + 16 * t + 8 * rh);
                y = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dt), _mm256_mul_ps(d, da), y);
                _mm256_storeu_ps(acc + 16 * t + 8 * rh, y);
            }
        }
    }
}

/* 32 bytes, byte i = 16 where bit i of the u32 at p is set, else 0 (the
 * fifth bits of Q5_0/Q5_1): byte i takes byte i / 8 of the word, keeps bit
 * i % 8, and a compare turns it into a mask. */
static inline __m256i q32_bit4(const uint8_t *p) {
    uint32_t w;
    memcpy(&w, p, 4);
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3,
                                            3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i v = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)w), spread), bit);
    return _mm256_and_si256(_mm256_cmpeq_epi8(v, bit), _mm256_set1_epi8(16));
}

/* A Q4_1/Q5_0/Q5_1/IQ4_NL block's 32 quants in a ymm, element i in byte i:
 * unsigned 0..31 (Q5_0 before its - 16), or IQ4_NL's signed table values. */
static inline __attribute__((always_inline)) __m256i q32_decode(uint32_t type, const uint8_t *blk) {
    const size_t qs_off = type == GT_TYPE_Q4_1 ? 4 : type == GT_TYPE_Q5_0 ? 6 : type == GT_TYPE_Q5_1 ? 8 : 2;
    __m128i b = _mm_loadu_si128((const __m128i *)(blk + qs_off)), m4 = _mm_set1_epi8(0x0f);
    __m256i n = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m4), _mm_and_si128(b, m4));
    if (type == GT_TYPE_IQ4_NL)
        return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)gt_iq4nl_values)), n);
    if (type == GT_TYPE_Q5_0 || type == GT_TYPE_Q5_1) n = _mm256_or_si256(n, q32_bit4(blk + qs_off - 4));
    return n;
}

/* gt_q32_row_avx2 for one type: the block decoded once, then per token one
 * vpmaddubsw (IQ4_NL: |v| against sign(a, v)) and vpmaddwd against ones,
 * the exact sum (Q5_0: minus 16 times the activations' sum), the float
 * step. */
static inline __attribute__((always_inline)) void
q32_row(const uint32_t type, const uint8_t *blocks, int nb, const gt_q32_acts *A, int nt, float *acc) {
    const size_t bb = gt_ggml_block_bytes(type);
    const __m256i ones = _mm256_set1_epi16(1);
    for (int b = 0; b < nb; b++) {
        const uint8_t *blk = blocks + (size_t)b * bb;
        uint16_t hd, hm = 0;
        memcpy(&hd, blk, 2);
        if (type == GT_TYPE_Q4_1 || type == GT_TYPE_Q5_1) memcpy(&hm, blk + 2, 2);
        float d = _cvtsh_ss(hd), m = _cvtsh_ss(hm);
        __m256i v = q32_decode(type, blk), va = _mm256_abs_epi8(v);
        for (int t = 0; t < nt; t++) {
            __m256i av = _mm256_loadu_si256((const __m256i *)(A->aq + (size_t)t * A->aq_stride + (size_t)b * GT_Q32));
            __m256i p = type == GT_TYPE_IQ4_NL ? _mm256_maddubs_epi16(va, _mm256_sign_epi8(av, v))
                                               : _mm256_maddubs_epi16(v, av);
            size_t ib = (size_t)t * A->d_stride + (size_t)b;
            int32_t sum = hsum8_i32(_mm256_madd_epi16(p, ones));
            if (type == GT_TYPE_Q5_0) sum -= 16 * A->as[ib];
            acc[t] = gt_q32_finish(type, sum, A->as[ib], d, m, A->da[ib], acc[t]);
        }
    }
}

/* Lane r = the sum of the 8 int32 lanes of v[r]. */
static inline __m128i hsum4x8_i32(const __m256i v[4]) {
    __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

/* Four rows at once, one xmm lane each for the float step (the same
 * correctly rounded mul and fma per lane as gt_q32_finish, so the same
 * bits), so the four rows' dependent fma chains overlap instead of each
 * waiting on its own. */
static inline __attribute__((always_inline)) void q32_rows4(const uint32_t type, const uint8_t *rows, size_t rb,
                                                             int nb, const gt_q32_acts *A, int nt, float *accs,
                                                             size_t acc_stride) {
    const size_t bb = gt_ggml_block_bytes(type);
    const int has_min = type == GT_TYPE_Q4_1 || type == GT_TYPE_Q5_1, iq4 = type == GT_TYPE_IQ4_NL;
    const __m256i ones = _mm256_set1_epi16(1);
    __m128 acc[8];
    assert(nt >= 1 && nt <= 8);
    for (int t = 0; t < nt; t++)
        acc[t] = _mm_setr_ps(accs[t], accs[acc_stride + t], accs[2 * acc_stride + t], accs[3 * acc_stride + t]);
    for (int b = 0; b < nb; b++) {
        __m256i v[4], va[4], p[4];
        uint16_t hd[4], hm[4] = {0, 0, 0, 0};
        for (int r = 0; r < 4; r++) {
            const uint8_t *blk = rows + (size_t)r * rb + (size_t)b * bb;
            memcpy(&hd[r], blk, 2);
            if (has_min) memcpy(&hm[r], blk + 2, 2);
            v[r] = q32_decode(type, blk);
            va[r] = _mm256_abs_epi8(v[r]);
        }
        const __m128 d4 = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)hd));
        const __m128 m4 = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)hm));
        for (int t = 0; t < nt; t++) {
            __m256i av = _mm256_loadu_si256((const __m256i *)(A->aq + (size_t)t * A->aq_stride + (size_t)b * GT_Q32));
            for (int r = 0; r < 4; r++)
                p[r] = _mm256_madd_epi16(iq4 ? _mm256_maddubs_epi16(va[r], _mm256_sign_epi8(av, v[r]))
                                             : _mm256_maddubs_epi16(v[r], av), ones);
            size_t ib = (size_t)t * A->d_stride + (size_t)b;
            __m128i sum = hsum4x8_i32(p);
            if (type == GT_TYPE_Q5_0) sum = _mm_sub_epi32(sum, _mm_set1_epi32(16 * A->as[ib]));
            __m128 da = _mm_set1_ps(A->da[ib]);
            acc[t] = _mm_fmadd_ps(_mm_cvtepi32_ps(sum), _mm_mul_ps(d4, da), acc[t]);
            if (has_min) acc[t] = _mm_fmadd_ps(_mm_set1_ps((float)A->as[ib]), _mm_mul_ps(m4, da), acc[t]);
        }
    }
    for (int t = 0; t < nt; t++) {
        float o[4];
        _mm_storeu_ps(o, acc[t]);
        for (int r = 0; r < 4; r++) accs[(size_t)r * acc_stride + t] = o[r];
    }
}

/* gt_q32_row_fn: groups of four rows interleaved, a remainder row by row. */
void gt_q32_row_avx2(uint32_t type, const uint8_t *rows, size_t rb, int nr, int nb, const gt_q32_acts *a, int nt,
                     float *acc, size_t acc_stride) {
    if (nr == 4) {
        switch (type) {
        case GT_TYPE_Q4_1: q32_rows4(GT_TYPE_Q4_1, rows, rb, nb, a, nt, acc, acc_stride); break;
        case GT_TYPE_Q5_0: q32_rows4(GT_TYPE_Q5_0, rows, rb, nb, a, nt, acc, acc_stride); break;
        case GT_TYPE_Q5_1: q32_rows4(GT_TYPE_Q5_1, rows, rb, nb, a, nt, acc, acc_stride); break;
        default: q32_rows4(GT_TYPE_IQ4_NL, rows, rb, nb, a, nt, acc, acc_stride); break;
        }
        return;
    }
    for (int r = 0; r < nr; r++) {
        const uint8_t *blocks = rows + (size_t)r * rb;
        float *ar = acc + (size_t)r * acc_stride;
        switch (type) {
        case GT_TYPE_Q4_1: q32_row(GT_TYPE_Q4_1, blocks, nb, a, nt, ar); break;
        case GT_TYPE_Q5_0: q32_row(GT_TYPE_Q5_0, blocks, nb, a, nt, ar); break;
        case GT_TYPE_Q5_1: q32_row(GT_TYPE_Q5_1, blocks, nb, a, nt, ar); break;
        default: q32_row(GT_TYPE_IQ4_NL, blocks, nb, a, nt, ar); break;
        }
    }
}

/* gt_kq_quant_act's Q8_K in vectors: the largest magnitude by vmaxps, its
 * first holder (whose sign sets the scale's) by a scan, then each value
 * times iscale rounded to nearest even by vroundps (the same integer as the
 * scalar rounding for |v| <= 127), capped at 127, packed to bytes. */
float gt_kq_quant_act_avx2(const float *x, int8_t q[256]) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 vmax = _mm256_setzero_ps();
    for (int i = 0; i < 256; i += 8) vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_loadu_ps(x + i), absmask));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    float amax = _mm_cvtss_f32(m4);
    if (!(amax > 0.0f)) {
        memset(q, 0, 256);
        return 0.0f;
    }
    int first = 0; /* the first lane holding amax, 8 at a time */
    for (const __m256 vm = _mm256_set1_ps(amax);; first += 8) {
        int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x + first), absmask), vm, _CMP_EQ_OQ));
        if (hit) {
            first += __builtin_ctz((unsigned)hit);
            break;
        }
    }
    float iscale = -127.f / x[first];
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i cap = _mm256_set1_epi32(127);
    for (int i = 0; i < 256; i += 32) {
        __m256i v[4];
        for (int j = 0; j < 4; j++) {
            __m256 r = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * j), vs),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            v[j] = _mm256_min_epi32(_mm256_cvtps_epi32(r), cap);
        }
        /* packs work per 128-bit lane: put the bytes back in order */
        __m256i w16 = _mm256_packs_epi32(v[0], v[1]), x16 = _mm256_packs_epi32(v[2], v[3]);
        __m256i b = _mm256_packs_epi16(w16, x16);
        b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(q + i), b);
    }
    return 1 / iscale;
}

/* gt_kq_quant_sb's result: the quants as above, then the group sums from
 * vpsadbw over the quants biased to unsigned (each 8 bytes' sum of q + 128,
 * exact), the bias taken off per group. */
float gt_kq_quant_sb_avx2(const float *x, int8_t q[256], int16_t bs[16]) {
    float d = gt_kq_quant_act_avx2(x, q);
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    uint64_t s8[32];
    for (int i = 0; i < 8; i++)
        _mm256_storeu_si256((__m256i *)(s8 + 4 * i),
                            _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(q + 32 * i)), bias),
                                            _mm256_setzero_si256()));
    for (int g = 0; g < 16; g++) bs[g] = (int16_t)((int)(s8[2 * g] + s8[2 * g + 1]) - 16 * 128);
    return d;
}

static void matmul_avx2(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y,
                        size_t ldy) {
    if (gt_kq_is_k(w->type)) {
        static const gt_kq_fns fns = {gt_kq_row_avx2,   gt_kq_quant_sb_avx2, gt_kq4_tile_avx2, gt_kq6_tile_avx2,
                                      gt_kq5_tile_avx2, NULL,                NULL,             NULL};
        gt_kq_matmul(w, tile0, tile1, a, y, ldy, &fns);
        return;
    }
    if (gt_q32_is(w->type)) {
        gt_q32_matmul(w, tile0, tile1, a, y, ldy, gt_q32_row_avx2);
        return;
    }
    for (int tile = tile0; tile < tile1; tile++)
        for (int t0 = 0; t0 < a->n_tok; t0 += MAX_NT) {
            int nt = a->n_tok - t0;
            if (w->type == GT_TYPE_Q8_0) { TILE_CASES(mm_quant, 0) }
            else if (w->type == GT_TYPE_Q4_0) { TILE_CASES(mm_quant, 1) }
            else { TILE_CASES(MM_FLOAT, 0) }
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

static void dots_avx2(float *out, const float *q, const float *k, size_t stride, int n_pos, int n) {
    for (int p = 0; p < n_pos; p++) out[p] = dot_avx2(q, k + (size_t)p * stride, n);
}

/* Weighted sum in axpy's order, 64 outputs at a time in registers. */
static void wsum_avx2(float *o, const float *s, const float *v, size_t stride, int n_pos, int n) {
    for (int i0 = 0; i0 < n; i0 += 64) {
        int m = n - i0 < 64 ? (n - i0) / 8 : 8;
        __m256 acc[8];
        for (int c = 0; c < 8; c++) acc[c] = _mm256_setzero_ps();
        for (int p = 0; p < n_pos; p++) {
            __m256 sp = _mm256_set1_ps(s[p]);
            const float *row = v + (size_t)p * stride + i0;
            for (int c = 0; c < m; c++) acc[c] = _mm256_fmadd_ps(sp, _mm256_loadu_ps(row + 8 * c), acc[c]);
        }
        for (int c = 0; c < m; c++) _mm256_storeu_ps(o + i0 + 8 * c, acc[c]);
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

static void f16_round_avx2(float *dst, const float *src, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(src + i),
                                                                  _MM_FROUND_TO_NEAREST_INT)));
    for (; i < n; i++) dst[i] = gt_f16_to_f32(gt_f32_to_f16(src[i]));
}

const gt_kern gt_kern_avx2 = {
    .name = "avx2",
    .act_set = act_set_avx2,
    .matmul = matmul_avx2,
    .dot = dot_avx2,
    .axpy = axpy_avx2,
    .dots = dots_avx2,
    .wsum = wsum_avx2,
    .silu_mul = silu_mul_avx2,
    .exp_shift = exp_shift_avx2,
    .f16_round = f16_round_avx2,
};
#endif

#ifdef __clang__
#pragma clang attribute pop
#endif
