/* kernels_avx2.c: the AVX2 (+FMA, F16C) kernel table.
 *
 * Compiled for that ISA with a target pragma, entered only after gt_kern_isa
 * checked cpuid. The 16 canonical lanes (kernels.h) are two ymm
 * accumulators: `lo` (lanes 0-7: float elements k%16 < 8, or the even block
 * of a pair) and `hi`. Byte products use vpmaddubsw + vpmaddwd, which give
 * each int32 lane the sum of 4 consecutive products like vpdpbusd does; the
 * 16-bit intermediate cannot saturate for our ranges (|w| <= 128 against
 * |a| <= 127, or nibbles <= 15). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include <string.h>

#include "infer/gguf.h"
#include "infer/kernels_impl.h"

#define R GT_KERN_TILE_ROWS
#define SB GT_KERN_SB

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

static void act_set_avx2(gt_act *a, int t, const float *x, int quant) {
    size_t per_tok = (size_t)a->n_sb * SB;
    float *dst = a->x + per_tok * (size_t)t;
    memcpy(dst, x, (size_t)a->n_cols * sizeof(float));
    if (!quant) return;
    int8_t *q = a->qs + per_tok * (size_t)t;
    float *d = a->d + (size_t)a->n_sb * 4 * (size_t)t;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int b = 0; b < a->n_cols / GT_QK; b++) {
        __m256 v[4];
        __m256 m = _mm256_setzero_ps();
        for (int i = 0; i < 4; i++) {
            v[i] = _mm256_loadu_ps(dst + b * GT_QK + 8 * i);
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
        /* packs work within 128-bit lanes; the permute restores element order. */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        _mm256_storeu_si256((__m256i *)(q + b * GT_QK), _mm256_permutevar8x32_epi32(p, perm));
    }
}

/* Sum of 4 consecutive byte products per int32 lane (u unsigned, s signed). */
static inline __m256i dot4(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* Quantized weights: row r of a tile against NT tokens from t0. */
static inline __attribute__((always_inline)) void
row_quant(const gt_qmat *w, int tile, int r, const gt_act *a, int t0, const int NT, float *y,
          size_t ldy) {
    const int q4 = w->type == GT_TYPE_Q4_0;
    const uint8_t *tq = w->qs + (size_t)tile * w->qs_tile_bytes;
    const gt_f16 *td = w->d + (size_t)tile * (w->d_tile_bytes / 2);
    const size_t per_tok = (size_t)a->n_sb * SB;
    const __m256i low4 = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
    __m256 lo[GT_KERN_TOK_TILE], hi[GT_KERN_TOK_TILE];
    for (int t = 0; t < NT; t++) lo[t] = hi[t] = _mm256_setzero_ps();
    for (int s = 0; s < w->n_sb; s++) {
        __m256i wb[4]; /* the 4 blocks of this superblock, signed (Q8_0) or nibbles (Q4_0) */
        if (q4) {
            const uint8_t *p = tq + ((size_t)s * R + r) * (SB / 2);
            __m256i v0 = _mm256_loadu_si256((const __m256i *)p);
            __m256i v1 = _mm256_loadu_si256((const __m256i *)(p + 32));
            wb[0] = _mm256_and_si256(v0, low4);
            wb[1] = _mm256_and_si256(v1, low4);
            wb[2] = _mm256_and_si256(_mm256_srli_epi16(v0, 4), low4);
            wb[3] = _mm256_and_si256(_mm256_srli_epi16(v1, 4), low4);
        } else {
            const uint8_t *p = tq + ((size_t)s * R + r) * SB;
            for (int b = 0; b < 4; b++) wb[b] = _mm256_loadu_si256((const __m256i *)(p + 32 * b));
        }
        __m128 dw = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(td + ((size_t)s * R + r) * 4)));
        for (int t = 0; t < NT; t++) {
            const int8_t *aq = a->qs + per_tok * (size_t)(t0 + t) + (size_t)s * SB;
            float sc[4];
            _mm_storeu_ps(sc, _mm_mul_ps(dw, _mm_loadu_ps(a->d + (size_t)a->n_sb * 4 * (size_t)(t0 + t) + (size_t)s * 4)));
            for (int b = 0; b < 4; b++) {
                __m256i av = _mm256_loadu_si256((const __m256i *)(aq + 32 * b));
                __m256i p;
                if (q4) p = _mm256_sub_epi32(dot4(wb[b], av), dot4(eight, av));
                else p = dot4(_mm256_abs_epi8(wb[b]), _mm256_sign_epi8(av, wb[b]));
                __m256 f = _mm256_cvtepi32_ps(p), vs = _mm256_set1_ps(sc[b]);
                if (b % 2 == 0) lo[t] = _mm256_fmadd_ps(f, vs, lo[t]);
                else hi[t] = _mm256_fmadd_ps(f, vs, hi[t]);
            }
        }
    }
    int row = tile * R + r;
    for (int t = 0; t < NT; t++) y[(size_t)(t0 + t) * ldy + row] = tree16(lo[t], hi[t]);
}

static inline __m256 load_w8(uint32_t type, const uint8_t *tq, size_t idx) {
    if (type == GT_TYPE_F32) return _mm256_loadu_ps((const float *)tq + idx);
    __m128i h = _mm_loadu_si128((const __m128i *)(tq + idx * 2));
    if (type == GT_TYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* Float weights: row r of a tile against NT tokens from t0. */
static inline __attribute__((always_inline)) void
row_float(const gt_qmat *w, int tile, int r, const gt_act *a, int t0, const int NT, float *y,
          size_t ldy) {
    const uint8_t *tq = w->qs + (size_t)tile * w->qs_tile_bytes;
    const size_t per_tok = (size_t)a->n_sb * SB;
    __m256 lo[GT_KERN_TOK_TILE], hi[GT_KERN_TOK_TILE];
    for (int t = 0; t < NT; t++) lo[t] = hi[t] = _mm256_setzero_ps();
    for (int s = 0; s < w->n_sb; s++)
        for (int c = 0; c < SB; c += 16) {
            size_t idx = ((size_t)s * R + r) * SB + c;
            __m256 w0 = load_w8(w->type, tq, idx), w1 = load_w8(w->type, tq, idx + 8);
            for (int t = 0; t < NT; t++) {
                const float *x = a->x + per_tok * (size_t)(t0 + t) + (size_t)s * SB + c;
                lo[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x), lo[t]);
                hi[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + 8), hi[t]);
            }
        }
    int row = tile * R + r;
    for (int t = 0; t < NT; t++) y[(size_t)(t0 + t) * ldy + row] = tree16(lo[t], hi[t]);
}

static void matmul_avx2(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y,
                        size_t ldy) {
    int quant = w->type == GT_TYPE_Q8_0 || w->type == GT_TYPE_Q4_0;
    for (int tile = tile0; tile < tile1; tile++)
        for (int r = 0; r < R && tile * R + r < w->n_rows; r++) {
            int t0 = 0;
            for (; t0 + 4 <= a->n_tok; t0 += 4) {
                if (quant) row_quant(w, tile, r, a, t0, 4, y, ldy);
                else row_float(w, tile, r, a, t0, 4, y, ldy);
            }
            switch (a->n_tok - t0) {
            case 3: quant ? row_quant(w, tile, r, a, t0, 3, y, ldy) : row_float(w, tile, r, a, t0, 3, y, ldy); break;
            case 2: quant ? row_quant(w, tile, r, a, t0, 2, y, ldy) : row_float(w, tile, r, a, t0, 2, y, ldy); break;
            case 1: quant ? row_quant(w, tile, r, a, t0, 1, y, ldy) : row_float(w, tile, r, a, t0, 1, y, ldy); break;
            default: break;
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

const gt_kern gt_kern_avx2 = {
    .name = "avx2",
    .act_set = act_set_avx2,
    .matmul = matmul_avx2,
    .dot = dot_avx2,
    .axpy = axpy_avx2,
};
#endif
