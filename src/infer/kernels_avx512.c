/* kernels_avx512.c: the AVX-512 (F/BW/VL + VNNI) kernel table.
 *
 * Compiled for that ISA with a target pragma and only entered after
 * gt_kern_isa checked cpuid. Follows the canonical order of kernels.h
 * exactly. A zmm holds one value for each of the 16 rows of a tile (lane r =
 * row r), so every lane runs its own row's dot product in the canonical
 * order and results are stored 16 rows at a time, with no reduction.
 *
 * The matmul is register-blocked: NR tiles (16 NR rows) x NT tokens of
 * accumulators. Each weight load serves NT tokens, each activation broadcast
 * NR tiles.
 *
 *   Quantized, per block: vpdpbusd adds, in lane r, the 4 products of row r's
 *   4 bytes (unsigned: Q8_0 stored q + 128, nibbles 0..15, Q5_0/Q5_1 with
 *   their fifth bit 0..31, IQ4_NL's table value + 128 by vpshufb) with 4
 *   broadcast activation bytes (signed); 8 of them cover the block. The
 *   offset is removed exactly with the block's activation sum
 *   (p = sum - 128 * asum; - 8 * asum for Q4_0, - 16 * asum for Q5_0), then
 *   acc = fma((float)p, dw * da, acc) (Q4_1, Q5_1: then
 *   acc = fma((float)asum, m * da, acc)).
 *   Float, per column k: acc = fma(w[k], broadcast x[k], acc).
 *
 * Prefill uses NR = 2, NT = 6 (quantized) or NR = 4, NT = 6 (float): 12 or
 * 24 accumulators. Decode (one token) uses NR = 4 and asks for weights a few
 * blocks ahead, since it streams them from memory.
 *
 * The tiled K-quant kernels are in kernels_avx512_kq.c. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")
#ifdef __clang__ /* clang ignores the GCC pragma: the same target, its way */
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))), apply_to = function)
#endif
#include <immintrin.h>
#include <string.h>

#include "infer/gguf.h"
#include "infer/kernels_avx512_impl.h"
#include "infer/kernels_impl.h"
#include "infer/kquant.h"
#include "infer/quantize_q32.h"

#define TR GT_KERN_TILE_ROWS
#define MAX_NR 4
#define DEC_NR 4 /* tiles per register block when decoding (one token) */
#define MAX_NT 6

/* The canonical halving tree over the 16 lanes of v (attention dot). */
static inline float tree16(__m512 v) {
    __m256 lo = _mm512_castps512_ps256(v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 a = _mm256_add_ps(lo, hi);
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    __m128 d = _mm_add_ss(c, _mm_movehdup_ps(c));
    return _mm_cvtss_f32(d);
}

/* v's lanes with the integer indefinite value (what vcvtps2dq gives a NaN,
 * an infinity or a value out of range; a quant is otherwise in [-127, 127])
 * as 0, as the scalar path's quant of such a value (gt_kern_quant_block). */
static inline __m512i finite_quants_512(__m512i v) {
    return _mm512_maskz_mov_epi32(_mm512_cmpneq_epi32_mask(v, _mm512_set1_epi32(INT32_MIN)), v);
}

/* Copies columns [col0, col1) of token t and (quant) quantizes their blocks,
 * exactly as the scalar path (gt_kern_quant_block). */
static void act_set_512(gt_act *a, int t, const float *x, int col0, int col1, int quant) {
    size_t off = (size_t)a->n_cols * (size_t)t;
    memcpy(a->x + off + col0, x + col0, (size_t)(col1 - col0) * sizeof(float));
    gt_act_stale(a, t, col0, col1);
    if (!quant) return;
    int8_t *q = a->qs + off;
    float *d = a->d + (size_t)a->n_blocks * (size_t)t;
    int32_t *sum = a->sum + (size_t)a->n_blocks * (size_t)t;
    for (int b = col0 / GT_QK; b < col1 / GT_QK; b++) {
        __m512 v0 = _mm512_loadu_ps(x + b * GT_QK), v1 = _mm512_loadu_ps(x + b * GT_QK + 16);
        /* vmaxps returns its second operand when one is NaN: with |v| first
         * and a running max that is never NaN second, a NaN is passed over,
         * as the scalar path's comparison does */
        __m512 m = _mm512_max_ps(_mm512_abs_ps(v1), _mm512_max_ps(_mm512_abs_ps(v0), _mm512_setzero_ps()));
        float amax = _mm512_reduce_max_ps(m); /* max is exact in any order (no NaN left) */
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        d[b] = gt_f16_to_f32(gt_f32_to_f16(amax / 127.0f));
        __m512 vid = _mm512_set1_ps(id);
        /* round to nearest even */
        __m512i i0 = finite_quants_512(_mm512_cvtps_epi32(_mm512_mul_ps(v0, vid)));
        __m512i i1 = finite_quants_512(_mm512_cvtps_epi32(_mm512_mul_ps(v1, vid)));
        sum[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1)); /* exact integers */
        _mm_storeu_si128((__m128i *)(q + b * GT_QK), _mm512_cvtsepi32_epi8(i0));
        _mm_storeu_si128((__m128i *)(q + b * GT_QK + 16), _mm512_cvtsepi32_epi8(i1));
    }
}

/* Stores the 16 rows of a tile for one token, leaving rows past n_rows. */
static inline void store_rows(float *dst, __m512 v, int row0, int n_rows) {
    int left = n_rows - row0;
    if (left >= TR) _mm512_storeu_ps(dst, v);
    else _mm512_mask_storeu_ps(dst, (__mmask16)((1u << left) - 1), v);
}

/* The 4 bytes of group j (< 4) of a nibble type's tile block as the
 * unsigned values vpdpbusd takes, lane r = row r: *lo elements 4j..4j+3,
 * *hi 16 + 4j..; Q5_0/Q5_1 add their fifth bits (h: the block's qh group,
 * gt_qt_qh_tile's order), IQ4_NL looks its table up biased by +128. */
static inline __attribute__((always_inline)) void qt_nibbles(const uint32_t qt, __m512i v, __m512i h, int j,
                                                             __m512i tbl, __m512i *lo, __m512i *hi) {
    const __m512i low4 = _mm512_set1_epi8(0x0f), bit4 = _mm512_set1_epi8(0x10);
    *lo = _mm512_and_si512(v, low4);
    *hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
    if (qt == GT_TYPE_IQ4_NL) {
        *lo = _mm512_shuffle_epi8(tbl, *lo);
        *hi = _mm512_shuffle_epi8(tbl, *hi);
    } else if (gt_qt_has_qh(qt)) { /* x | (bits & 0x10), one ternary op each */
        *lo = _mm512_ternarylogic_epi32(*lo, _mm512_sll_epi32(h, _mm_cvtsi32_si128(4 - j)), bit4, 0xf8);
        *hi = _mm512_ternarylogic_epi32(*hi, _mm512_srl_epi32(h, _mm_cvtsi32_si128(j)), bit4, 0xf8);
    }
}

/* What vpdpbusd's sum over a block holds beyond p = sum of v * a: the
 * stored values are v + o, so it holds o * (activation sum); log2 of o
 * (Q8_0 and IQ4_NL 128, Q4_0 8, Q5_0 16), -1 where v is stored as it is. */
static inline int qt_offset_shift(const uint32_t qt) {
    return qt == GT_TYPE_Q8_0 || qt == GT_TYPE_IQ4_NL ? 7 : qt == GT_TYPE_Q4_0 ? 3 : qt == GT_TYPE_Q5_0 ? 4 : -1;
}

/* Quantized weights (gt_qt_is): tiles [tile, tile + NR) x tokens [t0, t0 +
 * NT). Inlined with constant type, NR, NT so the accumulators live in
 * registers. Decode reads NR tiles as NR sequential streams, which the
 * hardware prefetcher follows: asking 1 KiB ahead in software (as this did
 * until session 37) slowed two-thread Q8_0 decode on Zen 4 by 5-15 % (8
 * alternating runs: median 60.0 against 63.1 tokens/s; 63-67 against 74-76
 * in a quieter spell). The K-quant tiles (kernels_avx512_kq.c) read one
 * stream and do need theirs: without it they read half as fast. */
static inline __attribute__((always_inline)) void
mm_quant(const gt_qmat *w, int tile, const int NR, const gt_act *a, int t0, const int NT,
         float *y, size_t ldy, const uint32_t qt) {
    const size_t blk_bytes = gt_qt_blk_bytes(qt); /* per tile */
    const int shift = qt_offset_shift(qt), ns = gt_qt_scales(qt);
    const __m512i tbl = _mm512_xor_si512(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)gt_iq4nl_values)),
                                         _mm512_set1_epi8((char)0x80)); /* IQ4_NL's values + 128 */
    const uint8_t *wq[MAX_NR];
    const gt_f16 *wd[MAX_NR];
    #pragma GCC unroll 8
    for (int g = 0; g < NR; g++) {
        wq[g] = w->qs + (size_t)(tile + g) * w->qs_tile_bytes;
        wd[g] = w->d + (size_t)(tile + g) * (w->d_tile_bytes / sizeof(gt_f16));
    }
    const int8_t *aq[MAX_NT];
    const float *ad[MAX_NT];
    const int32_t *as[MAX_NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        aq[t] = a->qs + (size_t)a->n_cols * (size_t)(t0 + t);
        ad[t] = a->d + (size_t)a->n_blocks * (size_t)(t0 + t);
        as[t] = a->sum + (size_t)a->n_blocks * (size_t)(t0 + t);
    }
    __m512 acc[MAX_NR][MAX_NT];
    #pragma GCC unroll 8
    for (int g = 0; g < NR; g++)
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) acc[g][t] = _mm512_setzero_ps();
    for (int b = 0; b < w->n_blocks; b++) {
        __m512i p[MAX_NR][MAX_NT];
        #pragma GCC unroll 8
        for (int g = 0; g < NR; g++)
            #pragma GCC unroll 8
            for (int t = 0; t < NT; t++) p[g][t] = _mm512_setzero_si512();
        if (qt != GT_TYPE_Q8_0) {
            __m512i h[MAX_NR];
            #pragma GCC unroll 8
            for (int g = 0; g < NR; g++)
                h[g] = gt_qt_has_qh(qt) ? _mm512_load_si512(wq[g] + (size_t)b * blk_bytes + GT_QT_QH_OFF)
                                        : _mm512_setzero_si512();
            #pragma GCC unroll 8
            for (int j = 0; j < 4; j++) {
                __m512i lo[MAX_NR], hi[MAX_NR];
                #pragma GCC unroll 8
                for (int g = 0; g < NR; g++)
                    qt_nibbles(qt, _mm512_load_si512(wq[g] + (size_t)b * blk_bytes + j * 64), h[g], j, tbl, &lo[g],
                               &hi[g]);
                #pragma GCC unroll 8
                for (int t = 0; t < NT; t++) {
                    __m512i x0 = bcast4(aq[t] + b * GT_QK + 4 * j);
                    __m512i x1 = bcast4(aq[t] + b * GT_QK + 16 + 4 * j);
                    #pragma GCC unroll 8
                    for (int g = 0; g < NR; g++) {
                        p[g][t] = _mm512_dpbusd_epi32(p[g][t], lo[g], x0);
                        p[g][t] = _mm512_dpbusd_epi32(p[g][t], hi[g], x1);
                    }
                }
            }
        } else {
            #pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                __m512i v[MAX_NR];
                #pragma GCC unroll 8
                for (int g = 0; g < NR; g++) v[g] = _mm512_load_si512(wq[g] + (size_t)b * blk_bytes + j * 64);
                #pragma GCC unroll 8
                for (int t = 0; t < NT; t++) {
                    __m512i x = bcast4(aq[t] + b * GT_QK + 4 * j);
                    #pragma GCC unroll 8
                    for (int g = 0; g < NR; g++) p[g][t] = _mm512_dpbusd_epi32(p[g][t], v[g], x);
                }
            }
        }
        __m512 dw[MAX_NR], dm[MAX_NR];
        #pragma GCC unroll 8
        for (int g = 0; g < NR; g++) {
            dw[g] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(wd[g] + (size_t)b * ns)));
            if (gt_qt_has_min(qt))
                dm[g] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(wd[g] + (size_t)b * ns + TR)));
        }
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) {
            __m512i off = shift < 0 ? _mm512_setzero_si512() : _mm512_slli_epi32(_mm512_set1_epi32(as[t][b]), shift);
            __m512 da = _mm512_set1_ps(ad[t][b]);
            #pragma GCC unroll 8
            for (int g = 0; g < NR; g++) {
                __m512 pf = _mm512_cvtepi32_ps(_mm512_sub_epi32(p[g][t], off)); /* exact */
                acc[g][t] = _mm512_fmadd_ps(pf, _mm512_mul_ps(dw[g], da), acc[g][t]);
                if (gt_qt_has_min(qt)) /* Q4_1, Q5_1: + (activation sum) * m * da */
                    acc[g][t] = _mm512_fmadd_ps(_mm512_set1_ps((float)as[t][b]), _mm512_mul_ps(dm[g], da),
                                                acc[g][t]);
            }
        }
    }
    #pragma GCC unroll 8
    for (int g = 0; g < NR; g++)
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++)
            store_rows(y + (size_t)(t0 + t) * ldy + (size_t)(tile + g) * TR, acc[g][t], (tile + g) * TR,
                       w->n_rows);
}

enum { FT_F32, FT_F16, FT_BF16 };

/* 16 weights (column k of a tile) of a float type (FT_*), widened. */
static inline __attribute__((always_inline)) __m512 load_w16(const int ft, const uint8_t *tq, int k) {
    if (ft == FT_F32) return _mm512_load_ps((const float *)tq + (size_t)k * TR);
    __m256i h = _mm256_load_si256((const __m256i *)(tq + (size_t)k * TR * 2));
    if (ft == FT_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* Float weights: tiles [tile, tile + NR) x tokens [t0, t0 + NT), column k
 * ascending. */
static inline __attribute__((always_inline)) void
mm_float(const gt_qmat *w, int tile, const int NR, const gt_act *a, int t0, const int NT,
         float *y, size_t ldy, const int ft) {
    const uint8_t *wq[MAX_NR];
    #pragma GCC unroll 8
    for (int g = 0; g < NR; g++) wq[g] = w->qs + (size_t)(tile + g) * w->qs_tile_bytes;
    const float *x[MAX_NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) x[t] = a->x + (size_t)a->n_cols * (size_t)(t0 + t);
    __m512 acc[MAX_NR][MAX_NT];
    #pragma GCC unroll 8
    for (int g = 0; g < NR; g++)
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) acc[g][t] = _mm512_setzero_ps();
    for (int k = 0; k < w->n_cols; k++) {
        __m512 wv[MAX_NR];
        #pragma GCC unroll 8
        for (int g = 0; g < NR; g++) wv[g] = load_w16(ft, wq[g], k);
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) {
            __m512 xv = _mm512_set1_ps(x[t][k]);
            #pragma GCC unroll 8
            for (int g = 0; g < NR; g++) acc[g][t] = _mm512_fmadd_ps(wv[g], xv, acc[g][t]);
        }
    }
    #pragma GCC unroll 8
    for (int g = 0; g < NR; g++)
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++)
            store_rows(y + (size_t)(t0 + t) * ldy + (size_t)(tile + g) * TR, acc[g][t], (tile + g) * TR,
                       w->n_rows);
}

/* One register block of nr tiles x nt tokens (1 <= nt <= MAX_NT), with
 * the type, nr and nt as constants in every instance. */
#define MM_NT_CASES(fn, NRC, TC)                                                   \
    switch (nt) {                                                                  \
    case 1: fn(w, tile, NRC, a, t0, 1, y, ldy, TC); break;                         \
    case 2: fn(w, tile, NRC, a, t0, 2, y, ldy, TC); break;                         \
    case 3: fn(w, tile, NRC, a, t0, 3, y, ldy, TC); break;                         \
    case 4: fn(w, tile, NRC, a, t0, 4, y, ldy, TC); break;                         \
    case 5: fn(w, tile, NRC, a, t0, 5, y, ldy, TC); break;                         \
    default: fn(w, tile, NRC, a, t0, 6, y, ldy, TC); break;                        \
    }

#define QUANT_BLOCK(name, TC)                                                       \
    static void name(const gt_qmat *w, int tile, int nr, const gt_act *a, int t0, int nt, \
                     float *y, size_t ldy) {                                        \
        if (nt == 1 && nr == DEC_NR) mm_quant(w, tile, DEC_NR, a, t0, 1, y, ldy, TC); \
        else if (nr == 2) { MM_NT_CASES(mm_quant, 2, TC) }                          \
        else { MM_NT_CASES(mm_quant, 1, TC) }                                       \
    }
QUANT_BLOCK(block_q8_0, GT_TYPE_Q8_0)
QUANT_BLOCK(block_q4_0, GT_TYPE_Q4_0)
QUANT_BLOCK(block_q4_1, GT_TYPE_Q4_1)
QUANT_BLOCK(block_q5_0, GT_TYPE_Q5_0)
QUANT_BLOCK(block_q5_1, GT_TYPE_Q5_1)
QUANT_BLOCK(block_iq4_nl, GT_TYPE_IQ4_NL)

#define FLOAT_BLOCK(name, TC)                                                       \
    static void name(const gt_qmat *w, int tile, int nr, const gt_act *a, int t0, int nt, \
                     float *y, size_t ldy) {                                        \
        if (nr == 4) { MM_NT_CASES(mm_float, 4, TC) }                               \
        else { MM_NT_CASES(mm_float, 1, TC) }                                       \
    }
FLOAT_BLOCK(block_f32, FT_F32)
FLOAT_BLOCK(block_f16, FT_F16)
FLOAT_BLOCK(block_bf16, FT_BF16)

/* Walks the tiles in groups of NR and, per group, the tokens in chunks of
 * NT: a group's weights (tens of KiB) stay in L1/L2 across the chunks. */
static void matmul_512(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y,
                       size_t ldy) {
    if (gt_kq_is_k(w->type)) { /* AVX-512 CPUs have AVX2: its Q8_K quantizer */
        static const gt_kq_fns fns = {
            .quant = gt_kq_quant_sb_avx2,
            .tile = {[GT_KQT_Q2] = gt_kq2_tile_avx512, [GT_KQT_Q3] = gt_kq3_tile_avx512,
                     [GT_KQT_Q4] = gt_kq4_tile_avx512, [GT_KQT_Q5] = gt_kq5_tile_avx512,
                     [GT_KQT_Q6] = gt_kq6_tile_avx512, [GT_KQT_IQ4XS] = gt_kqx_tile_avx512},
            .pair = {[GT_KQT_Q4] = gt_kq4_pair_avx512, [GT_KQT_Q5] = gt_kq5_pair_avx512,
                     [GT_KQT_Q6] = gt_kq6_pair_avx512},
        };
        gt_kq_matmul(w, tile0, tile1, a, y, ldy, &fns);
        return;
    }
    int quant = gt_qt_is(w->type);
    int n_tok = a->n_tok;
    int NR = quant ? (n_tok == 1 ? DEC_NR : 2) : 4;
    for (int tile = tile0; tile < tile1;) {
        int nr = tile1 - tile >= NR ? NR : 1;
        for (int t0 = 0; t0 < n_tok; t0 += MAX_NT) {
            int nt = n_tok - t0 < MAX_NT ? n_tok - t0 : MAX_NT;
            switch (w->type) {
            case GT_TYPE_Q8_0: block_q8_0(w, tile, nr, a, t0, nt, y, ldy); break;
            case GT_TYPE_Q4_0: block_q4_0(w, tile, nr, a, t0, nt, y, ldy); break;
            case GT_TYPE_Q4_1: block_q4_1(w, tile, nr, a, t0, nt, y, ldy); break;
            case GT_TYPE_Q5_0: block_q5_0(w, tile, nr, a, t0, nt, y, ldy); break;
            case GT_TYPE_Q5_1: block_q5_1(w, tile, nr, a, t0, nt, y, ldy); break;
            case GT_TYPE_IQ4_NL: block_iq4_nl(w, tile, nr, a, t0, nt, y, ldy); break;
            case GT_TYPE_F16: block_f16(w, tile, nr, a, t0, nt, y, ldy); break;
            case GT_TYPE_BF16: block_bf16(w, tile, nr, a, t0, nt, y, ldy); break;
            default: block_f32(w, tile, nr, a, t0, nt, y, ldy); break;
            }
        }
        tile += nr;
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

/* The canonical halving tree of 16 vectors at once: lane k of the result
 * is tree16(acc[k]). Each step adds, for every vector, lane i to lane
 * i + half exactly as tree16 does, with the halves of two vectors packed
 * into one register: 8 + 4 + 2 + 1 adds instead of 16 trees. */
static inline __m512 tree16x16(const __m512 acc[16]) {
    __m512 s8[8], s4[4], s2[2];
    for (int k = 0; k < 8; k++) /* lanes 0-7: key 2k, 8-15: key 2k+1 */
        s8[k] = _mm512_add_ps(_mm512_shuffle_f32x4(acc[2 * k], acc[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                              _mm512_shuffle_f32x4(acc[2 * k], acc[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    for (int k = 0; k < 4; k++) /* quarter j: key 4k + j */
        s4[k] = _mm512_add_ps(_mm512_shuffle_f32x4(s8[2 * k], s8[2 * k + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                              _mm512_shuffle_f32x4(s8[2 * k], s8[2 * k + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    for (int k = 0; k < 2; k++) /* quarter j: keys 8k + j (lanes 0-1), 8k + 4 + j (2-3) */
        s2[k] = _mm512_add_ps(
            _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(s4[2 * k]), _mm512_castps_pd(s4[2 * k + 1]))),
            _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(s4[2 * k]), _mm512_castps_pd(s4[2 * k + 1]))));
    /* lane 4j + m: key j + 4m */
    __m512 r = _mm512_add_ps(_mm512_shuffle_ps(s2[0], s2[1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_ps(s2[0], s2[1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    return _mm512_permutexvar_ps(order, r);
}

/* Sixteen halves at h widened to floats (exact). */
static inline __m512 load_f16x16(const gt_f16 *h) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)h));
}

/* Scores of one query against n_pos keys of halves, each in dot_512's
 * order: 16 keys at a time with one joint tree, then 4 at a time, then one. */
static void dots_512(float *out, const float *q, const gt_f16 *k, size_t stride, int n_pos, int n) {
    int p = 0;
    for (; p + 16 <= n_pos; p += 16) {
        const gt_f16 *k0 = k + (size_t)p * stride;
        __m512 acc[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) acc[j] = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            __m512 qv = _mm512_loadu_ps(q + i);
#pragma GCC unroll 16
            for (int j = 0; j < 16; j++) acc[j] = _mm512_fmadd_ps(qv, load_f16x16(k0 + j * stride + i), acc[j]);
        }
        _mm512_storeu_ps(out + p, tree16x16(acc));
    }
    for (; p + 4 <= n_pos; p += 4) {
        const gt_f16 *k0 = k + (size_t)p * stride;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < n; i += 16) {
            __m512 qv = _mm512_loadu_ps(q + i);
            a0 = _mm512_fmadd_ps(qv, load_f16x16(k0 + i), a0);
            a1 = _mm512_fmadd_ps(qv, load_f16x16(k0 + stride + i), a1);
            a2 = _mm512_fmadd_ps(qv, load_f16x16(k0 + 2 * stride + i), a2);
            a3 = _mm512_fmadd_ps(qv, load_f16x16(k0 + 3 * stride + i), a3);
        }
        out[p] = tree16(a0), out[p + 1] = tree16(a1), out[p + 2] = tree16(a2), out[p + 3] = tree16(a3);
    }
    for (; p < n_pos; p++) {
        const gt_f16 *row = k + (size_t)p * stride;
        __m512 acc = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), load_f16x16(row + i), acc);
        out[p] = tree16(acc);
    }
}

/* dots_512 for two heads sharing the keys: 8 keys at a time, each key's
 * halves widened once for both, the 16 sums (head 0's keys, then head 1's)
 * through one joint tree; then 4 keys, then one. Every score is in dot_512's
 * order, as dots_512 gives it. */
static void dots2_512(float *out0, float *out1, const float *q0, const float *q1, const gt_f16 *k, size_t stride,
                      int n_pos, int n) {
    int p = 0;
    for (; p + 8 <= n_pos; p += 8) {
        const gt_f16 *k0 = k + (size_t)p * stride;
        __m512 acc[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) acc[j] = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            __m512 qa = _mm512_loadu_ps(q0 + i), qb = _mm512_loadu_ps(q1 + i);
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                __m512 kv = load_f16x16(k0 + j * stride + i);
                acc[j] = _mm512_fmadd_ps(qa, kv, acc[j]);
                acc[8 + j] = _mm512_fmadd_ps(qb, kv, acc[8 + j]);
            }
        }
        __m512 r = tree16x16(acc);
        _mm256_storeu_ps(out0 + p, _mm512_castps512_ps256(r));
        _mm256_storeu_ps(out1 + p, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(r), 1)));
    }
    for (; p + 4 <= n_pos; p += 4) {
        const gt_f16 *k0 = k + (size_t)p * stride;
        __m512 a[4], b[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) a[j] = b[j] = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            __m512 qa = _mm512_loadu_ps(q0 + i), qb = _mm512_loadu_ps(q1 + i);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                __m512 kv = load_f16x16(k0 + j * stride + i);
                a[j] = _mm512_fmadd_ps(qa, kv, a[j]);
                b[j] = _mm512_fmadd_ps(qb, kv, b[j]);
            }
        }
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) out0[p + j] = tree16(a[j]), out1[p + j] = tree16(b[j]);
    }
    for (; p < n_pos; p++) {
        const gt_f16 *row = k + (size_t)p * stride;
        __m512 a = _mm512_setzero_ps(), b = a;
        for (int i = 0; i < n; i += 16) {
            __m512 kv = load_f16x16(row + i);
            a = _mm512_fmadd_ps(_mm512_loadu_ps(q0 + i), kv, a);
            b = _mm512_fmadd_ps(_mm512_loadu_ps(q1 + i), kv, b);
        }
        out0[p] = tree16(a), out1[p] = tree16(b);
    }
}

/* Weighted sums of n_pos rows for two heads in axpy's order, M * 16
 * columns of each held in registers, each value widened once for both. */
static inline __attribute__((always_inline)) void
wsum2_cols(float *o0, float *o1, const float *s0, const float *s1, const gt_f16 *v, size_t stride, int n_pos,
           const int M) {
    __m512 a[8], b[8];
#pragma GCC unroll 8
    for (int c = 0; c < M; c++) a[c] = b[c] = _mm512_setzero_ps();
    for (int p = 0; p < n_pos; p++) {
        __m512 sa = _mm512_set1_ps(s0[p]), sb = _mm512_set1_ps(s1[p]);
        const gt_f16 *row = v + (size_t)p * stride;
#pragma GCC unroll 8
        for (int c = 0; c < M; c++) {
            __m512 x = load_f16x16(row + 16 * c);
            a[c] = _mm512_fmadd_ps(sa, x, a[c]);
            b[c] = _mm512_fmadd_ps(sb, x, b[c]);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < M; c++) _mm512_storeu_ps(o0 + 16 * c, a[c]), _mm512_storeu_ps(o1 + 16 * c, b[c]);
}

static void wsum2_512(float *o0, float *o1, const float *s0, const float *s1, const gt_f16 *v, size_t stride,
                      int n_pos, int n) {
    for (int i0 = 0; i0 < n; i0 += 128) {
        float *a = o0 + i0, *b = o1 + i0;
        const gt_f16 *w = v + i0;
        switch (n - i0 < 128 ? (n - i0) / 16 : 8) {
        case 1: wsum2_cols(a, b, s0, s1, w, stride, n_pos, 1); break;
        case 2: wsum2_cols(a, b, s0, s1, w, stride, n_pos, 2); break;
        case 3: wsum2_cols(a, b, s0, s1, w, stride, n_pos, 3); break;
        case 4: wsum2_cols(a, b, s0, s1, w, stride, n_pos, 4); break;
        case 5: wsum2_cols(a, b, s0, s1, w, stride, n_pos, 5); break;
        case 6: wsum2_cols(a, b, s0, s1, w, stride, n_pos, 6); break;
        case 7: wsum2_cols(a, b, s0, s1, w, stride, n_pos, 7); break;
        default: wsum2_cols(a, b, s0, s1, w, stride, n_pos, 8); break;
        }
    }
}

/* Weighted sum of n_pos rows in axpy's order for M * 16 columns, the output
 * held in registers. */
static inline __attribute__((always_inline)) void
wsum_cols(float *o, const float *s, const gt_f16 *v, size_t stride, int n_pos, const int M) {
    __m512 acc[8];
#pragma GCC unroll 8
    for (int c = 0; c < M; c++) acc[c] = _mm512_setzero_ps();
    for (int p = 0; p < n_pos; p++) {
        __m512 sp = _mm512_set1_ps(s[p]);
        const gt_f16 *row = v + (size_t)p * stride;
#pragma GCC unroll 8
        for (int c = 0; c < M; c++) acc[c] = _mm512_fmadd_ps(sp, load_f16x16(row + 16 * c), acc[c]);
    }
#pragma GCC unroll 8
    for (int c = 0; c < M; c++) _mm512_storeu_ps(o + 16 * c, acc[c]);
}

static void wsum_512(float *o, const float *s, const gt_f16 *v, size_t stride, int n_pos, int n) {
    for (int i0 = 0; i0 < n; i0 += 128) {
        switch (n - i0 < 128 ? (n - i0) / 16 : 8) {
        case 1: wsum_cols(o + i0, s, v + i0, stride, n_pos, 1); break;
        case 2: wsum_cols(o + i0, s, v + i0, stride, n_pos, 2); break;
        case 3: wsum_cols(o + i0, s, v + i0, stride, n_pos, 3); break;
        case 4: wsum_cols(o + i0, s, v + i0, stride, n_pos, 4); break;
        case 5: wsum_cols(o + i0, s, v + i0, stride, n_pos, 5); break;
        case 6: wsum_cols(o + i0, s, v + i0, stride, n_pos, 6); break;
        case 7: wsum_cols(o + i0, s, v + i0, stride, n_pos, 7); break;
        default: wsum_cols(o + i0, s, v + i0, stride, n_pos, 8); break;
        }
    }
}

/* gt_kern_expf on 16 lanes, the same operations in the same order. */
static inline __m512 exp16(__m512 x) {
    __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(GT_EXP_LO), _CMP_GT_OQ);
    x = _mm512_min_ps(x, _mm512_set1_ps(GT_EXP_HI));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(GT_EXP_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-GT_EXP_C1), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(-GT_EXP_C2), r);
    __m512 p = _mm512_set1_ps(GT_EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(GT_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(GT_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(GT_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(GT_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(GT_EXP_P5));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mul_ps(live, y, _mm512_castsi512_ps(e));
}

/* Lanes [0, n - i) of a 16-lane step at i: tails run the same vector code
 * with masked loads and stores (each lane's result is its own). */
static inline __mmask16 lanes(int i, int n) {
    return n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
}

static void silu_mul_512(float *g, const float *u, int n) {
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = lanes(i, n);
        __m512 gv = _mm512_maskz_loadu_ps(m, g + i);
        __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), gv));
        __m512 d = _mm512_div_ps(gv, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
        _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, u + i)));
    }
}

static void exp_shift_512(float *s, float mx, int n) {
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = lanes(i, n);
        __m512 v = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + i), _mm512_set1_ps(mx));
        _mm512_mask_storeu_ps(s + i, m, exp16(v));
    }
}

/* F16C rounds to nearest even exactly as gt_f32_to_f16 (test_kernels checks
 * every half and two million floats). */
static void f16_store_512(gt_f16 *dst, const float *src, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = gt_f32_to_f16(src[i]);
}

/* kernels.h's pack_q8_0 as a transpose: the 16 rows' 32 quant bytes of a
 * block are a 16 x 8 array of dwords, and the tile wants it 8 x 16 (dword
 * group g of every row together). Rows i and i + 8 share a zmm (one per
 * 256-bit half), the two halves are transposed 8 x 8 at once by the unpacks
 * (within 128-bit lanes), and a two-source qword permute joins the lanes. */
static void pack_q8_0_512(const uint8_t *rows, size_t row_bytes, int n_blocks, uint8_t *tq, gt_f16 *td) {
    const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const int aligned = ((uintptr_t)tq & 63) == 0;
    for (int b = 0; b < n_blocks; b++) {
        const uint8_t *s = rows + (size_t)b * 34;
        __m512i v[8], t[8], u[8];
        for (int i = 0; i < 8; i++) {
            const uint8_t *r0 = s + (size_t)i * row_bytes, *r1 = s + (size_t)(i + 8) * row_bytes;
            _mm_prefetch((const char *)r0 + GT_PACK_AHEAD_BYTES, _MM_HINT_T0);
            _mm_prefetch((const char *)r1 + GT_PACK_AHEAD_BYTES, _MM_HINT_T0);
            memcpy(&td[(size_t)b * 16 + (size_t)i], r0, 2);
            memcpy(&td[(size_t)b * 16 + (size_t)i + 8], r1, 2);
            v[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(r0 + 2))),
                                      _mm256_loadu_si256((const __m256i *)(r1 + 2)), 1);
        }
        for (int i = 0; i < 8; i += 2) { /* rows i, i+1: dwords 0,1 | 4,5 (lo) and 2,3 | 6,7 (hi) */
            t[i] = _mm512_unpacklo_epi32(v[i], v[i + 1]);
            t[i + 1] = _mm512_unpackhi_epi32(v[i], v[i + 1]);
        }
        for (int h = 0; h < 2; h++) { /* rows 4h..4h+3 (and 8 on): u[4h + e] holds dwords e | e + 4 */
            u[4 * h + 0] = _mm512_unpacklo_epi64(t[4 * h], t[4 * h + 2]);
            u[4 * h + 1] = _mm512_unpackhi_epi64(t[4 * h], t[4 * h + 2]);
            u[4 * h + 2] = _mm512_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
            u[4 * h + 3] = _mm512_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
        }
        uint8_t *d = tq + (size_t)b * 512;
        for (int e = 0; e < 4; e++) {
            __m512i g0 = _mm512_xor_si512(_mm512_permutex2var_epi64(u[e], lo, u[e + 4]), flip);
            __m512i g1 = _mm512_xor_si512(_mm512_permutex2var_epi64(u[e], hi, u[e + 4]), flip);
            if (aligned) { /* written once, read by a later product: past the caches */
                _mm512_stream_si512((__m512i *)(d + e * 64), g0);
                _mm512_stream_si512((__m512i *)(d + (e + 4) * 64), g1);
            } else {
                _mm512_storeu_si512(d + e * 64, g0);
                _mm512_storeu_si512(d + (e + 4) * 64, g1);
            }
        }
    }
    _mm_sfence(); /* the streamed stores ordered before the tile is handed on */
}

const gt_kern gt_kern_avx512 = {
    .name = "avx512",
    .act_set = act_set_512,
    .matmul = matmul_512,
    .dot = dot_512,
    .axpy = axpy_512,
    .dots = dots_512,
    .wsum = wsum_512,
    .dots2 = dots2_512,
    .wsum2 = wsum2_512,
    .silu_mul = silu_mul_512,
    .exp_shift = exp_shift_512,
    .f16_store = f16_store_512,
    .pack_q8_0 = pack_q8_0_512,
};
#endif

#ifdef __clang__
#pragma clang attribute pop
#endif
