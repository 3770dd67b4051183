/* kernels_avx512.c: the AVX-512 (F/BW/VL + VNNI) kernel table.
 *
 * Compiled for that ISA with a target pragma and only entered after
 * gt_kern_isa checked cpuid. Follows the canonical order of kernels.h
 * exactly: one 512-bit accumulator per (row, token) holds the 16 lanes; for
 * quantized weights a zmm holds a pair of blocks (lanes 0-7 the even block,
 * 8-15 the odd one), and vpdpbusd gives each lane the sum of 4 byte products.
 *
 * vpdpbusd multiplies unsigned by signed bytes. Signed weights w become
 * w + 128 (Q8_0; an xor) or stay nibbles 0..15 (Q4_0, value nibble - 8), and
 * the accumulator starts at -128 (or -8) times the lane's activation sum, so
 * each lane ends with the exact signed sum. The matmul tiles 4 rows x up to
 * 4 tokens: each weight load serves 4 tokens, each activation load 4 rows. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")
#include <immintrin.h>
#include <string.h>

#include "infer/gguf.h"
#include "infer/kernels_impl.h"

#define R GT_KERN_TILE_ROWS
#define SB GT_KERN_SB
#define TILE_BLOCK 16 /* tiles per block in the matmul's outer loop */
#define PF_SB 4 /* superblocks ahead to prefetch (prefetches never fault) */

/* The canonical halving tree over the 16 lanes of v. */
static inline float tree16(__m512 v) {
    __m256 lo = _mm512_castps512_ps256(v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 a = _mm256_add_ps(lo, hi);
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    __m128 d = _mm_add_ss(c, _mm_movehdup_ps(c));
    return _mm_cvtss_f32(d);
}

/* Pads token t into a->x and (quant) quantizes it, exactly as the scalar path. */
static void act_set_512(gt_act *a, int t, const float *x, int quant) {
    size_t per_tok = (size_t)a->n_sb * SB;
    float *dst = a->x + per_tok * (size_t)t;
    memcpy(dst, x, (size_t)a->n_cols * sizeof(float));
    if (!quant) return;
    int8_t *q = a->qs + per_tok * (size_t)t;
    float *d = a->d + (size_t)a->n_sb * 4 * (size_t)t;
    for (int b = 0; b < a->n_cols / GT_QK; b++) {
        __m512 v0 = _mm512_loadu_ps(dst + b * GT_QK), v1 = _mm512_loadu_ps(dst + b * GT_QK + 16);
        __m512 m = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1));
        float amax = _mm512_reduce_max_ps(m); /* max is exact in any order */
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        d[b] = gt_f16_to_f32(gt_f32_to_f16(amax / 127.0f));
        __m512 vid = _mm512_set1_ps(id);
        __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, vid)); /* round to nearest even */
        __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, vid));
        _mm_storeu_si128((__m128i *)(q + b * GT_QK), _mm512_cvtsepi32_epi8(i0));
        _mm_storeu_si128((__m128i *)(q + b * GT_QK + 16), _mm512_cvtsepi32_epi8(i1));
    }
}

/* Quantized tile: 4 rows of tile `tile` against NT tokens starting at t0.
 * bias is 0x80 (Q8_0) or 0x08 (Q4_0). Inlined with constant NT so the
 * accumulators stay in registers. */
static inline __attribute__((always_inline)) void
tile_quant(const gt_qmat *w, int tile, const gt_act *a, int t0, const int NT, float *y,
           size_t ldy) {
    const int q4 = w->type == GT_TYPE_Q4_0;
    const uint8_t *tq = w->qs + (size_t)tile * w->qs_tile_bytes;
    const gt_f16 *td = w->d + (size_t)tile * (w->d_tile_bytes / 2);
    const size_t per_tok = (size_t)a->n_sb * SB;
    const __m512i bias = _mm512_set1_epi8(q4 ? 0x08 : (char)0x80);
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const __m512i idx01 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i idx23 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2);
    __m512 acc[R][GT_KERN_TOK_TILE];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    for (int s = 0; s < w->n_sb; s++) {
        __m512i nc0[GT_KERN_TOK_TILE], nc1[GT_KERN_TOK_TILE];
        __m128 ad[GT_KERN_TOK_TILE];
        const int8_t *aq[GT_KERN_TOK_TILE];
        for (int t = 0; t < NT; t++) {
            aq[t] = a->qs + per_tok * (size_t)(t0 + t) + (size_t)s * SB;
            __m512i a0 = _mm512_loadu_si512(aq[t]), a1 = _mm512_loadu_si512(aq[t] + 64);
            nc0[t] = _mm512_sub_epi32(_mm512_setzero_si512(),
                                      _mm512_dpbusd_epi32(_mm512_setzero_si512(), bias, a0));
            nc1[t] = _mm512_sub_epi32(_mm512_setzero_si512(),
                                      _mm512_dpbusd_epi32(_mm512_setzero_si512(), bias, a1));
            ad[t] = _mm_loadu_ps(a->d + (size_t)a->n_sb * 4 * (size_t)(t0 + t) + (size_t)s * 4);
        }
        /* Decode streams weights from memory: ask for them ahead. */
        _mm_prefetch((const char *)(tq + (size_t)(s + PF_SB) * R * (q4 ? SB / 2 : SB)), _MM_HINT_T0);
        _mm_prefetch((const char *)(tq + (size_t)(s + PF_SB) * R * (q4 ? SB / 2 : SB) + 64), _MM_HINT_T0);
        _mm_prefetch((const char *)(tq + (size_t)(s + PF_SB) * R * (q4 ? SB / 2 : SB) + 128), _MM_HINT_T0);
        _mm_prefetch((const char *)(tq + (size_t)(s + PF_SB) * R * (q4 ? SB / 2 : SB) + 192), _MM_HINT_T0);
        if (!q4) {
            _mm_prefetch((const char *)(tq + (size_t)(s + PF_SB) * R * SB + 256), _MM_HINT_T0);
            _mm_prefetch((const char *)(tq + (size_t)(s + PF_SB) * R * SB + 320), _MM_HINT_T0);
            _mm_prefetch((const char *)(tq + (size_t)(s + PF_SB) * R * SB + 384), _MM_HINT_T0);
            _mm_prefetch((const char *)(tq + (size_t)(s + PF_SB) * R * SB + 448), _MM_HINT_T0);
        }
        _mm_prefetch((const char *)(td + (size_t)(s + PF_SB) * R * 4), _MM_HINT_T0);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m512i w0, w1;
            if (q4) {
                __m512i v = _mm512_loadu_si512(tq + ((size_t)s * R + r) * (SB / 2));
                w0 = _mm512_and_si512(v, low4);
                w1 = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
            } else {
                const uint8_t *p = tq + ((size_t)s * R + r) * SB;
                w0 = _mm512_xor_si512(_mm512_loadu_si512(p), bias);
                w1 = _mm512_xor_si512(_mm512_loadu_si512(p + 64), bias);
            }
            __m128 dw = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(td + ((size_t)s * R + r) * 4)));
            for (int t = 0; t < NT; t++) {
                __m512 s4 = _mm512_castps128_ps512(_mm_mul_ps(dw, ad[t]));
                __m512i p0 = _mm512_dpbusd_epi32(nc0[t], w0, _mm512_loadu_si512(aq[t]));
                __m512i p1 = _mm512_dpbusd_epi32(nc1[t], w1, _mm512_loadu_si512(aq[t] + 64));
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), _mm512_permutexvar_ps(idx01, s4),
                                            acc[r][t]);
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1), _mm512_permutexvar_ps(idx23, s4),
                                            acc[r][t]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        int row = tile * R + r;
        if (row >= w->n_rows) break;
        for (int t = 0; t < NT; t++) y[(size_t)(t0 + t) * ldy + row] = tree16(acc[r][t]);
    }
}

/* 16 weights of a float type at element offset idx of a tile, widened. */
static inline __m512 load_w16(uint32_t type, const uint8_t *tq, size_t idx) {
    if (type == GT_TYPE_F32) return _mm512_loadu_ps((const float *)tq + idx);
    __m256i h = _mm256_loadu_si256((const __m256i *)(tq + idx * 2));
    if (type == GT_TYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* Float tile: 4 rows x NT tokens, element k into lane k % 16, k ascending. */
static inline __attribute__((always_inline)) void
tile_float(const gt_qmat *w, int tile, const gt_act *a, int t0, const int NT, float *y,
           size_t ldy) {
    const uint8_t *tq = w->qs + (size_t)tile * w->qs_tile_bytes;
    const size_t per_tok = (size_t)a->n_sb * SB;
    __m512 acc[R][GT_KERN_TOK_TILE];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    for (int s = 0; s < w->n_sb; s++)
        for (int c = 0; c < SB; c += 16) {
            __m512 x[GT_KERN_TOK_TILE];
            for (int t = 0; t < NT; t++)
                x[t] = _mm512_loadu_ps(a->x + per_tok * (size_t)(t0 + t) + (size_t)s * SB + c);
            if (c == 0)
                for (int pf = 0; pf < R * SB * (w->type == GT_TYPE_F32 ? 4 : 2); pf += 64)
                    _mm_prefetch((const char *)(tq + (size_t)(s + PF_SB) * R * SB * (w->type == GT_TYPE_F32 ? 4 : 2) + pf), _MM_HINT_T0);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                __m512 wv = load_w16(w->type, tq, ((size_t)s * R + r) * SB + c);
                for (int t = 0; t < NT; t++) acc[r][t] = _mm512_fmadd_ps(wv, x[t], acc[r][t]);
            }
        }
    for (int r = 0; r < R; r++) {
        int row = tile * R + r;
        if (row >= w->n_rows) break;
        for (int t = 0; t < NT; t++) y[(size_t)(t0 + t) * ldy + row] = tree16(acc[r][t]);
    }
}

static void matmul_512(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y,
                       size_t ldy) {
    int quant = w->type == GT_TYPE_Q8_0 || w->type == GT_TYPE_Q4_0;
    /* Blocks of tiles (weights in L2) against each 4-token chunk (in L1):
     * the activations are then read from L1, not L2, in the inner loops. */
    for (int tb = tile0; tb < tile1; tb += TILE_BLOCK) {
        int te = tb + TILE_BLOCK < tile1 ? tb + TILE_BLOCK : tile1;
        int t0 = 0;
        for (; t0 + 4 <= a->n_tok; t0 += 4)
            for (int tile = tb; tile < te; tile++) {
                if (quant) tile_quant(w, tile, a, t0, 4, y, ldy);
                else tile_float(w, tile, a, t0, 4, y, ldy);
            }
        for (int tile = tb; tile < te; tile++) switch (a->n_tok - t0) {
        case 3: quant ? tile_quant(w, tile, a, t0, 3, y, ldy) : tile_float(w, tile, a, t0, 3, y, ldy); break;
        case 2: quant ? tile_quant(w, tile, a, t0, 2, y, ldy) : tile_float(w, tile, a, t0, 2, y, ldy); break;
        case 1: quant ? tile_quant(w, tile, a, t0, 1, y, ldy) : tile_float(w, tile, a, t0, 1, y, ldy); break;
        default: break;
        }
    }
}

static float dot_512(const float *a, const float *b, int n) {
    __m512 acc = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
    return tree16(acc);
}

static void axpy_512(float *y, float s, const float *x, int n) {
    __m512 vs = _mm512_set1_ps(s);
    for (int i = 0; i < n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(vs, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
}

const gt_kern gt_kern_avx512 = {
    .name = "avx512",
    .act_set = act_set_512,
    .matmul = matmul_512,
    .dot = dot_512,
    .axpy = axpy_512,
};
#endif
