/* kernels_avx512_kq.c: the AVX-512 kernels of the load-time tiled K-quants
 * (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS; layouts in kernels_impl.h): one
 * tile of 16 rows, lane r = row r, against up to 8 tokens, and for Q4_K,
 * Q5_K and Q6_K two neighbouring tiles at once for prefill (each
 * activation broadcast serves 32 rows).
 *
 * Split from kernels_avx512.c, whose table points here through
 * kernels_impl.h. Compiled for AVX-512 with the same target pragma, entered
 * only after gt_kern_isa checked cpuid; every function gives the scalar
 * path's bits (tests/infer/test_kernels.c compares them). */
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
#include "infer/pf_tune.h"
#include "infer/quantize_q32.h"

/* Keeps a loaded vector in a register: otherwise the compiler folds the
 * load into each of its uses, and a group read twice (Q4_K's two nibbles)
 * or four times (Q6_K's high bits) left the one-token kernels bound by
 * their loads. Measured, `bench_infer_kern TYPE 512 2048 1 3000 avx512`
 * (from L2), best of 6-8 alternating runs: Q4_K 128 against 115
 * multiply-adds a ns; Q6_K, with its high bits moved by one shift, 77
 * against 68. */
#define KQ_IN_REG(v) __asm__("" : "+v"(v))

/* Tiled Q4_K and Q5_K (gt_kq4_tile_fn): lane r = row r, as for Q4_0. Per
 * 64 columns (chunk c) the 8 groups of bytes give the low nibbles
 * (sub-block 2c) and the high ones (2c + 1); Q5_K adds each element's fifth
 * bit (bits 2c and 2c + 1 of qh group g, moved to bit 4). vpdpbusd sums,
 * per lane, each sub-block's 32 products (quant <= 31 against |a| <= 127:
 * exact in int32), vpmulld weights them by the lane's 6-bit scale, and the
 * mins term is the lane's mins times the sub-blocks' activation sums (from
 * the group sums). The integers equal the scalar ones; the float step is
 * gt_kq_finish's, per lane. q5 is a constant in every instance. */
static inline __attribute__((always_inline)) void kq45_chunk(const uint8_t *sb, int c, const gt_kq_acts *A, int k,
                                                              int nt, __m512i *dot, const int q5) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), one = _mm512_set1_epi8(1);
    const int off_sc = q5 ? GT_KQ5_OFF_SC : GT_KQ4_OFF_SC;
    __m512i lo[8], hi[8];
    #pragma GCC unroll 8
    for (int g = 0; g < 8; g++) {
        __m512i v = _mm512_load_si512((const void *)(sb + 64 * (8 * c + g)));
        KQ_IN_REG(v);
        lo[g] = _mm512_and_si512(v, m4);
        hi[g] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        if (q5) {
            __m512i h = _mm512_load_si512((const void *)(sb + GT_KQ5_OFF_QH + 64 * g));
            __m512i b0 = _mm512_and_si512(_mm512_srli_epi16(h, 2 * c), one);
            __m512i b1 = _mm512_and_si512(_mm512_srli_epi16(h, 2 * c + 1), one);
            lo[g] = _mm512_or_si512(lo[g], _mm512_slli_epi16(b0, 4));
            hi[g] = _mm512_or_si512(hi[g], _mm512_slli_epi16(b1, 4));
        }
    }
    const __m512i sc_lo = _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)(sb + off_sc + 32 * c)));
    const __m512i sc_hi = _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)(sb + off_sc + 32 * c + 16)));
    #pragma GCC unroll 8
    for (int t = 0; t < nt; t++) {
        const int8_t *aq = A->aq + (size_t)t * A->aq_stride + (size_t)k * GT_QK_K + 64 * c;
        __m512i plo = _mm512_setzero_si512(), phi = _mm512_setzero_si512();
        #pragma GCC unroll 8
        for (int g = 0; g < 8; g++) {
            int32_t a0, a1;
            memcpy(&a0, aq + 4 * g, 4);
            memcpy(&a1, aq + 32 + 4 * g, 4);
            plo = _mm512_dpbusd_epi32(plo, lo[g], _mm512_set1_epi32(a0));
            phi = _mm512_dpbusd_epi32(phi, hi[g], _mm512_set1_epi32(a1));
        }
        dot[t] = _mm512_add_epi32(dot[t], _mm512_add_epi32(_mm512_mullo_epi32(plo, sc_lo),
                                                           _mm512_mullo_epi32(phi, sc_hi)));
    }
}

/* Decode streams a tile's super-blocks from memory, one after the other
 * (the next tile follows): the hardware prefetcher alone leaves K-quant
 * decode at a third of Q4_0's bandwidth on some hosts and is best alone
 * on others (measured), so ask ahead where this process's timed steps say
 * it pays (pf_tune.h). */
static inline __attribute__((always_inline)) void kq_prefetch(const uint8_t *sb, size_t sbb) {
    const size_t ahead = gt_pf_kq_bytes(); /* 0 or GT_PF_KQ_BYTES: pf_tune.h */
    if (!ahead) return;
    for (size_t c = 0; c < sbb; c += 64) _mm_prefetch((const char *)(sb + ahead + c), _MM_HINT_T0);
}

/* The lanes' mins of sub-blocks 2i and 2i + 1 as int16 pairs (lane r's
 * dword = m_2i | m_2i+1 << 16), for vpdpwssd against the activation sums;
 * mins at sb + off_m (Q4_K's or Q5_K's offset). */
static inline __attribute__((always_inline)) void kq45_min_pairs(const uint8_t *sb, int off_m, __m512i mp[4]) {
    #pragma GCC unroll 8
    for (int i = 0; i < 4; i++) {
        __m128i a = _mm_load_si128((const __m128i *)(sb + off_m + 32 * i));
        __m128i b = _mm_load_si128((const __m128i *)(sb + off_m + 32 * i + 16));
        mp[i] = _mm512_cvtepu8_epi16(_mm256_set_m128i(_mm_unpackhi_epi8(a, b), _mm_unpacklo_epi8(a, b)));
    }
}

/* The float step of a tile whose types have mins (Q2_K, Q4_K, Q5_K), per
 * lane: y = fma(dot, d * da, y), then y = fma(mins, -(dmin * da), y),
 * mins = sum over i < n_pairs of the lane's int16 pair mp[i] times the
 * token's pair of activation sums at bs + bs_off + 2i (vpdpwssd), d and
 * dmin the tile's 16 f16 at d16 and dmin16: gt_kq_finish's. */
static inline __attribute__((always_inline)) void kq_finish_mins(const uint8_t *d16, const uint8_t *dmin16, int k,
                                                                  const gt_kq_acts *A, int nt, const __m512i *dot,
                                                                  const __m512i *mp, const int n_pairs,
                                                                  const int bs_off, float *acc) {
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    const __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)d16));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)dmin16));
    #pragma GCC unroll 8
    for (int t = 0; t < nt; t++) {
        const int16_t *bs = A->bs + (size_t)t * A->bs_stride + (size_t)k * GT_KQ_BS_N + bs_off;
        __m512i mins = _mm512_setzero_si512();
        #pragma GCC unroll 8
        for (int i = 0; i < n_pairs; i++) {
            int32_t pair;
            memcpy(&pair, bs + 2 * i, 4);
            mins = _mm512_dpwssd_epi32(mins, mp[i], _mm512_set1_epi32(pair));
        }
        const __m512 da = _mm512_set1_ps(A->da[(size_t)t * A->da_stride + (size_t)k]);
        const __m512i nd = _mm512_xor_si512(_mm512_castps_si512(_mm512_mul_ps(dmin, da)), sign);
        __m512 y = _mm512_loadu_ps(acc + 16 * t);
        y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), _mm512_mul_ps(d, da), y);
        y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_castsi512_ps(nd), y);
        _mm512_storeu_ps(acc + 16 * t, y);
    }
}

static inline __attribute__((always_inline)) void kq45_tile(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt,
                                                             float *acc, const int q5) {
    const size_t sbb = q5 ? GT_KQ5_SB_BYTES : GT_KQ4_SB_BYTES;
    const int off_d = q5 ? GT_KQ5_OFF_D : GT_KQ4_OFF_D, off_dmin = q5 ? GT_KQ5_OFF_DMIN : GT_KQ4_OFF_DMIN;
    assert(nt >= 1 && nt <= 8);
    for (int k = 0; k < nk; k++, sb += sbb) {
        __m512i dot[8], mp[4];
        if (nt == 1) kq_prefetch(sb, sbb);
        #pragma GCC unroll 8
        for (int t = 0; t < nt; t++) dot[t] = _mm512_setzero_si512();
        #pragma GCC unroll 8
        for (int c = 0; c < 4; c++) kq45_chunk(sb, c, A, k, nt, dot, q5);
        kq45_min_pairs(sb, q5 ? GT_KQ5_OFF_M : GT_KQ4_OFF_M, mp);
        /* Sub-block sums |A_j| <= 32 * 127: int16; products with 6-bit mins exact in int32. */
        kq_finish_mins(sb + off_d, sb + off_dmin, k, A, nt, dot, mp, 4, 16, acc);
    }
}

/* The token count as a constant in every instance, so the per-token
 * accumulators stay in registers and the token loops unroll. */
#define KQ_NT_CASES(fn, ...)                                                       \
    switch (nt) {                                                                  \
    case 1: fn(sb, nk, A, 1, acc, __VA_ARGS__); break;                             \
    case 2: fn(sb, nk, A, 2, acc, __VA_ARGS__); break;                             \
    case 3: fn(sb, nk, A, 3, acc, __VA_ARGS__); break;                             \
    case 4: fn(sb, nk, A, 4, acc, __VA_ARGS__); break;                             \
    case 5: fn(sb, nk, A, 5, acc, __VA_ARGS__); break;                             \
    case 6: fn(sb, nk, A, 6, acc, __VA_ARGS__); break;                             \
    case 7: fn(sb, nk, A, 7, acc, __VA_ARGS__); break;                             \
    default: fn(sb, nk, A, 8, acc, __VA_ARGS__); break;                            \
    }

void gt_kq4_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 8);
    KQ_NT_CASES(kq45_tile, 0)
}

void gt_kq5_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 8);
    KQ_NT_CASES(kq45_tile, 1)
}

/* Two tiles of Q4_K or Q5_K (gt_kq_pair_fn), register-blocked as the Q4_0
 * product is: KP_NR tiles x nt (<= KP_NT) tokens. Per sub-block j (< 8) of
 * super-block k, each 64-byte group g gives, per tile, the lane's 4 quants
 * of elements 32j + 4g.. (low nibbles for even j, high for odd; Q5_K adds
 * bit j of qh's group g as bit 4), and one broadcast of the token's 4
 * activation quants feeds both tiles' vpdpbusd. p sums the sub-block's 32
 * products per lane, exactly; dot += sc_j * p by vpmulld; then the mins
 * and the float step as kq45_tile's. The same integers, so the same bytes.
 * q5, NT are constants in every instance. */
/* The mins and the float step of super-block k for NT tokens from t0 (at
 * acc + 16 t), given the lanes' dot sums (kq45_tile's last step). */
static inline __attribute__((always_inline)) void kq45_finish(const uint8_t *sb, int k, const gt_kq_acts *A, int t0,
                                                               const int NT, const __m512i *dot, float *acc,
                                                               const int q5) {
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    const int off_d = q5 ? GT_KQ5_OFF_D : GT_KQ4_OFF_D, off_dmin = q5 ? GT_KQ5_OFF_DMIN : GT_KQ4_OFF_DMIN;
    __m512i mp[4];
    kq45_min_pairs(sb, q5 ? GT_KQ5_OFF_M : GT_KQ4_OFF_M, mp);
    const __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(sb + off_d)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(sb + off_dmin)));
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        /* Sub-block sums |A_j| <= 32 * 127: int16; products with 6-bit mins exact in int32. */
        const int16_t *bs = A->bs + (size_t)(t0 + t) * A->bs_stride + (size_t)k * GT_KQ_BS_N;
        __m512i mins = _mm512_setzero_si512();
        #pragma GCC unroll 8
        for (int i = 0; i < 4; i++) {
            int32_t pair; /* sub-blocks 2i, 2i + 1 (gt_kq_sub_sums) */
            memcpy(&pair, bs + 16 + 2 * i, 4);
            mins = _mm512_dpwssd_epi32(mins, mp[i], _mm512_set1_epi32(pair));
        }
        const __m512 da = _mm512_set1_ps(A->da[(size_t)(t0 + t) * A->da_stride + (size_t)k]);
        const __m512i nd = _mm512_xor_si512(_mm512_castps_si512(_mm512_mul_ps(dmin, da)), sign);
        __m512 y = _mm512_loadu_ps(acc + 16 * (t0 + t));
        y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), _mm512_mul_ps(d, da), y);
        y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_castsi512_ps(nd), y);
        _mm512_storeu_ps(acc + 16 * (t0 + t), y);
    }
}

#define KP_NR 2
#define KP_NT 6
#ifndef KP_NT45
#define KP_NT45 6
#endif
/* Sub-block j of super-block k of both tiles for NT tokens: dot[i][t] +=
 * sc_j * (the lane's 32 products); qs is the super-block's quant groups of
 * sub-blocks j and j + 1 (the first tile's), aq the tokens' 32 activation
 * quants of sub-block j. hi (= j odd) is a constant in every instance, so
 * the even sub-blocks' low nibbles take no shift. */
static inline __attribute__((always_inline)) void kq45_pair_sub(const uint8_t *qs, const uint8_t *qh, const uint8_t *sc,
                                                                 size_t ts, int j, const int hi,
                                                                 const int8_t *const *aq, const int NT,
                                                                 __m512i dot[KP_NR][KP_NT], const int q5) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), one = _mm512_set1_epi8(1);
    const __m128i bit = _mm_cvtsi32_si128(j);
    __m512i p[KP_NR][KP_NT];
    #pragma GCC unroll 8
    for (int i = 0; i < KP_NR; i++)
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) p[i][t] = _mm512_setzero_si512();
    #pragma GCC unroll 8
    for (int g = 0; g < 8; g++) {
        __m512i q[KP_NR];
        #pragma GCC unroll 8
        for (int i = 0; i < KP_NR; i++) {
            __m512i v = _mm512_load_si512((const void *)(qs + i * ts + 64 * g));
            q[i] = _mm512_and_si512(hi ? _mm512_srli_epi16(v, 4) : v, m4);
            if (q5) {
                __m512i h = _mm512_load_si512((const void *)(qh + i * ts + 64 * g));
                q[i] = _mm512_or_si512(q[i], _mm512_slli_epi16(_mm512_and_si512(_mm512_srl_epi16(h, bit), one), 4));
            }
        }
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) {
            const __m512i x = bcast4(aq[t] + 4 * g);
            #pragma GCC unroll 8
            for (int i = 0; i < KP_NR; i++) p[i][t] = _mm512_dpbusd_epi32(p[i][t], q[i], x);
        }
    }
    #pragma GCC unroll 8
    for (int i = 0; i < KP_NR; i++) {
        const __m512i scv = _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)(sc + i * ts)));
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) dot[i][t] = _mm512_add_epi32(dot[i][t], _mm512_mullo_epi32(p[i][t], scv));
    }
}

static inline __attribute__((always_inline)) void kq45_pair_sb(const uint8_t *sb, size_t ts, int k,
                                                                const gt_kq_acts *A, int t0, const int NT,
                                                                float *acc, size_t as, const int q5) {
    const int8_t *aq[KP_NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) aq[t] = A->aq + (size_t)(t0 + t) * A->aq_stride + (size_t)k * GT_QK_K;
    __m512i dot[KP_NR][KP_NT];
    #pragma GCC unroll 8
    for (int i = 0; i < KP_NR; i++)
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) dot[i][t] = _mm512_setzero_si512();
    const uint8_t *qh = sb + GT_KQ5_OFF_QH, *sc = sb + (q5 ? GT_KQ5_OFF_SC : GT_KQ4_OFF_SC);
    for (int j = 0; j < 8; j += 2) {
        const uint8_t *qs = sb + 512 * (size_t)(j >> 1);
        kq45_pair_sub(qs, qh, sc + 16 * (size_t)j, ts, j, 0, aq, NT, dot, q5);
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) aq[t] += 32;
        kq45_pair_sub(qs, qh, sc + 16 * (size_t)(j + 1), ts, j + 1, 1, aq, NT, dot, q5);
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) aq[t] += 32;
    }
    #pragma GCC unroll 8
    for (int i = 0; i < KP_NR; i++)
        kq45_finish(sb + (size_t)i * ts, k, A, t0, NT, dot[i], acc + (size_t)i * as, q5);
}

/* Quarter s (< 4) of a Q6_K group, 6-bit quants per byte: the low nibble
 * of lo (ql's bytes, already shifted down for s >= 2) and bits 2s, 2s + 1
 * of hb (qh's bytes) as bits 4, 5, moved there by one shift (what crosses
 * into a neighbour byte is masked off). */
static inline __attribute__((always_inline)) __m512i kq6_quant(__m512i lo, __m512i hb, int s) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    __m512i hi = s == 0 ? _mm512_slli_epi16(hb, 4) : s == 1 ? _mm512_slli_epi16(hb, 2)
                                                 : s == 2 ? hb : _mm512_srli_epi16(hb, 2);
    return _mm512_or_si512(_mm512_and_si512(lo, m4), _mm512_and_si512(hi, m30));
}

/* Two tiles of Q6_K (gt_kq_pair_fn), register-blocked as kq45_pair_sb: per
 * group of 16 (g = 8h + 2s + gh, kq6_quarters' bits) each tile's lanes
 * decode their 16 quants into 4 registers, and each broadcast of a token's
 * 4 activation quants feeds both tiles' vpdpbusd. The lane sums P_g - 32 A_g
 * times sc_g are kq6_quarters' integers, summed exactly, so the bytes are
 * the same. NT is a constant in every instance. */
static inline __attribute__((always_inline)) void kq6_pair_group(const uint8_t *sb, size_t ts, int h, int s, int gh,
                                                                  int k, const gt_kq_acts *A, int t0, const int NT,
                                                                  __m512i dot[KP_NR][KP_NT]) {
    const int g = 8 * h + 2 * s + gh;
    __m512i q[KP_NR][4], sc[KP_NR];
    #pragma GCC unroll 8
    for (int i = 0; i < KP_NR; i++) {
        const uint8_t *ti = sb + (size_t)i * ts;
        #pragma GCC unroll 8
        for (int u = 0; u < 4; u++) {
            const int gi = 4 * gh + u;
            __m512i lo = _mm512_load_si512((const void *)(ti + 64 * (16 * h + 8 * (s & 1) + gi)));
            if (s >= 2) lo = _mm512_srli_epi16(lo, 4);
            __m512i hb = _mm512_load_si512((const void *)(ti + GT_KQ6_OFF_QH + 64 * (8 * h + gi)));
            q[i][u] = kq6_quant(lo, hb, s);
        }
        sc[i] = _mm512_cvtepi8_epi32(_mm_load_si128((const __m128i *)(ti + GT_KQ6_OFF_SC + 16 * g)));
    }
    #pragma GCC unroll 8
    for (int t = 0; t < NT; t++) {
        const size_t at = (size_t)(t0 + t);
        const int8_t *aq = A->aq + at * A->aq_stride + (size_t)k * GT_QK_K + 128 * h + 32 * s + 16 * gh;
        const __m512i off = _mm512_set1_epi32(-32 * A->bs[at * A->bs_stride + (size_t)k * GT_KQ_BS_N + (size_t)g]);
        __m512i x[4];
        #pragma GCC unroll 8
        for (int u = 0; u < 4; u++) x[u] = bcast4(aq + 4 * u);
        #pragma GCC unroll 8
        for (int i = 0; i < KP_NR; i++) {
            __m512i p = off;
            #pragma GCC unroll 8
            for (int u = 0; u < 4; u++) p = _mm512_dpbusd_epi32(p, q[i][u], x[u]);
            dot[i][t] = _mm512_add_epi32(dot[i][t], _mm512_mullo_epi32(p, sc[i]));
        }
    }
}

/* Super-block k of both Q6_K tiles for NT tokens from t0, then the float
 * step as kq6_tile's. */
static inline __attribute__((always_inline)) void kq6_pair_sb(const uint8_t *sb, size_t ts, int k, const gt_kq_acts *A,
                                                               int t0, const int NT, float *acc, size_t as) {
    __m512i dot[KP_NR][KP_NT];
    #pragma GCC unroll 8
    for (int i = 0; i < KP_NR; i++)
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) dot[i][t] = _mm512_setzero_si512();
    for (int h = 0; h < 2; h++)
        for (int s = 0; s < 4; s++)
            #pragma GCC unroll 8
            for (int gh = 0; gh < 2; gh++) kq6_pair_group(sb, ts, h, s, gh, k, A, t0, NT, dot);
    #pragma GCC unroll 8
    for (int i = 0; i < KP_NR; i++) {
        const __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(sb + (size_t)i * ts + GT_KQ6_OFF_D)));
        #pragma GCC unroll 8
        for (int t = 0; t < NT; t++) {
            const __m512 da = _mm512_set1_ps(A->da[(size_t)(t0 + t) * A->da_stride + (size_t)k]);
            float *y = acc + (size_t)i * as + 16 * (size_t)(t0 + t);
            _mm512_storeu_ps(y, _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[i][t]), _mm512_mul_ps(d, da),
                                                _mm512_loadu_ps(y)));
        }
    }
}

/* One super-block of a pair for NT tokens: kind 0 Q4_K, 1 Q5_K, 2 Q6_K. */
static inline __attribute__((always_inline)) void kq_pair_sb(const uint8_t *sb, size_t ts, int k, const gt_kq_acts *A,
                                                              int t0, const int NT, float *acc, size_t as,
                                                              const int kind) {
    if (kind == 2) kq6_pair_sb(sb, ts, k, A, t0, NT, acc, as);
    else kq45_pair_sb(sb, ts, k, A, t0, NT, acc, as, kind);
}

/* Super-block after super-block, the tokens in register blocks of at most
 * KP_NT (8 as 4 + 4), each block's NT a constant; kind as kq_pair_sb's. */
static inline __attribute__((always_inline)) void kq_pair(const uint8_t *sb, size_t ts, int nk, const gt_kq_acts *A,
                                                           int nt, float *acc, size_t as, const int kind) {
    const size_t sbb = kind == 2 ? GT_KQ6_SB_BYTES : kind == 1 ? GT_KQ5_SB_BYTES : GT_KQ4_SB_BYTES;
    const int most = kind == 2 ? KP_NT : KP_NT45, nb = (nt + most - 1) / most;
    assert(nt >= 1 && nt <= 2 * KP_NT);
    for (int k = 0; k < nk; k++, sb += sbb)
        for (int t0 = 0, b = 0; b < nb; b++) {
            int n = (nt - t0 + (nb - b) - 1) / (nb - b); /* blocks as even as they come */
            switch (n) {
            case 1: kq_pair_sb(sb, ts, k, A, t0, 1, acc, as, kind); break;
            case 2: kq_pair_sb(sb, ts, k, A, t0, 2, acc, as, kind); break;
            case 3: kq_pair_sb(sb, ts, k, A, t0, 3, acc, as, kind); break;
            case 4: kq_pair_sb(sb, ts, k, A, t0, 4, acc, as, kind); break;
            case 5: kq_pair_sb(sb, ts, k, A, t0, 5, acc, as, kind); break;
            default: kq_pair_sb(sb, ts, k, A, t0, 6, acc, as, kind); break;
            }
            t0 += n;
        }
}

void gt_kq4_pair_avx512(const uint8_t *sb, size_t ts, int nk, const gt_kq_acts *A, int nt, float *acc, size_t as) {
    kq_pair(sb, ts, nk, A, nt, acc, as, 0);
}

void gt_kq5_pair_avx512(const uint8_t *sb, size_t ts, int nk, const gt_kq_acts *A, int nt, float *acc, size_t as) {
    kq_pair(sb, ts, nk, A, nt, acc, as, 1);
}

void gt_kq6_pair_avx512(const uint8_t *sb, size_t ts, int nk, const gt_kq_acts *A, int nt, float *acc, size_t as) {
    kq_pair(sb, ts, nk, A, nt, acc, as, 2);
}

/* Tiled Q6_K (gt_kq4_tile_fn): lane r = row r. In half h of the block,
 * group gi (< 8) of ql's first and second 32 bytes (a, b) and of qh (hb)
 * give, per lane, 4 quants of each of the 4 quarters s (elements 128h +
 * 32s + 4gi + i): a low | hb bits 0-1, b low | bits 2-3, a high | bits
 * 4-5, b high | bits 6-7 (kquant.h). Four groups make a group of 16 (g =
 * 8h + 2s + gi / 4): vpdpbusd sums its 16 products (q <= 63 against
 * |a| <= 127), then dot += sc_g (P_g - 32 A_g) per lane by vpmulld: the
 * scalar integers; the float step is gt_kq_finish's. */
static inline __attribute__((always_inline)) void kq6_quarters(const uint8_t *sb, int h, int gh, int k,
                                                                const gt_kq_acts *A, int nt, __m512i *dot) {
    __m512i q[4][4]; /* [quarter s][group gi - 4gh] */
    #pragma GCC unroll 8
    for (int u = 0; u < 4; u++) {
        int gi = 4 * gh + u;
        __m512i a = _mm512_load_si512((const void *)(sb + 64 * (16 * h + gi)));
        __m512i b = _mm512_load_si512((const void *)(sb + 64 * (16 * h + 8 + gi)));
        __m512i hb = _mm512_load_si512((const void *)(sb + GT_KQ6_OFF_QH + 64 * (8 * h + gi)));
        KQ_IN_REG(a);
        KQ_IN_REG(b);
        KQ_IN_REG(hb);
        #pragma GCC unroll 8
        for (int s = 0; s < 4; s++) {
            __m512i lo = s & 1 ? b : a;
            q[s][u] = kq6_quant(s >= 2 ? _mm512_srli_epi16(lo, 4) : lo, hb, s);
        }
    }
    #pragma GCC unroll 8
    for (int s = 0; s < 4; s++) {
        const int g = 8 * h + 2 * s + gh;
        const __m512i sc = _mm512_cvtepi8_epi32(_mm_load_si128((const __m128i *)(sb + GT_KQ6_OFF_SC + 16 * g)));
        #pragma GCC unroll 8
        for (int t = 0; t < nt; t++) {
            const int8_t *aq = A->aq + (size_t)t * A->aq_stride + (size_t)k * GT_QK_K + 128 * h + 32 * s + 16 * gh;
            __m512i p = _mm512_set1_epi32(-32 * A->bs[(size_t)t * A->bs_stride + (size_t)k * GT_KQ_BS_N + (size_t)g]);
            #pragma GCC unroll 8
            for (int u = 0; u < 4; u++) {
                int32_t a4;
                memcpy(&a4, aq + 4 * u, 4);
                p = _mm512_dpbusd_epi32(p, q[s][u], _mm512_set1_epi32(a4));
            }
            dot[t] = _mm512_add_epi32(dot[t], _mm512_mullo_epi32(p, sc));
        }
    }
}

/* The float step of a tile whose types have no mins (Q6_K, IQ4_XS, Q3_K):
 * y = fma(dot, d * da, y) per lane, d the tile's 16 f16 at d16, for nt
 * tokens at acc + 16 t: gt_kq_finish's. */
static inline __attribute__((always_inline)) void kq_finish_d16(const uint8_t *d16, int k, const gt_kq_acts *A, int nt,
                                                                 const __m512i *dot, float *acc) {
    const __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)d16));
    #pragma GCC unroll 8
    for (int t = 0; t < nt; t++) {
        const __m512 da = _mm512_set1_ps(A->da[(size_t)t * A->da_stride + (size_t)k]);
        __m512 y = _mm512_loadu_ps(acc + 16 * t);
        _mm512_storeu_ps(acc + 16 * t, _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), _mm512_mul_ps(d, da), y));
    }
}

static inline __attribute__((always_inline)) void kq6_tile(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt,
                                                            float *acc, const int unused) {
    (void)unused;
    for (int k = 0; k < nk; k++, sb += GT_KQ6_SB_BYTES) {
        __m512i dot[8];
        if (nt == 1) kq_prefetch(sb, GT_KQ6_SB_BYTES);
        #pragma GCC unroll 8
        for (int t = 0; t < nt; t++) dot[t] = _mm512_setzero_si512();
        #pragma GCC unroll 8
        for (int h = 0; h < 2; h++)
            #pragma GCC unroll 8
            for (int gh = 0; gh < 2; gh++) kq6_quarters(sb, h, gh, k, A, nt, dot);
        kq_finish_d16(sb + GT_KQ6_OFF_D, k, A, nt, dot, acc);
    }
}

void gt_kq6_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 8);
    KQ_NT_CASES(kq6_tile, 0)
}

/* Tiled IQ4_XS (gt_kq4_tile_fn): lane r = row r. Sub-block j is groups
 * 4j..4j+3; group u's low nibbles index elements 32j + 4u.., its high ones
 * 32j + 16 + 4u... vpshufb maps each index to the table's value + 128
 * (unsigned, for vpdpbusd: <= 241 against |a| <= 127), and p starts at
 * -128 A_j (the sub-block's activation sum), so p is the lane's sum of value
 * times activation, exactly; dot += sc_j p by vpmulld (|sc_j| <= 32); the
 * float step is gt_kq_finish's: the scalar integers, so the scalar bytes. */
static inline __attribute__((always_inline)) void kqx_tile(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt,
                                                            float *acc, const int unused) {
    (void)unused;
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const __m512i tbl = _mm512_xor_si512(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)gt_iq4nl_values)),
                                         _mm512_set1_epi8((char)0x80));
    for (int k = 0; k < nk; k++, sb += GT_KQX_SB_BYTES) {
        __m512i dot[8];
        if (nt == 1) kq_prefetch(sb, GT_KQX_SB_BYTES);
        #pragma GCC unroll 8
        for (int t = 0; t < nt; t++) dot[t] = _mm512_setzero_si512();
        for (int j = 0; j < 8; j++) {
            __m512i lo[4], hi[4];
            #pragma GCC unroll 4
            for (int u = 0; u < 4; u++) {
                __m512i v = _mm512_load_si512((const void *)(sb + 64 * (4 * j + u)));
                lo[u] = _mm512_shuffle_epi8(tbl, _mm512_and_si512(v, m4));
                hi[u] = _mm512_shuffle_epi8(tbl, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
            }
            const __m512i sc = _mm512_cvtepi8_epi32(_mm_load_si128((const __m128i *)(sb + GT_KQX_OFF_SC + 16 * j)));
            #pragma GCC unroll 8
            for (int t = 0; t < nt; t++) {
                const int8_t *aq = A->aq + (size_t)t * A->aq_stride + (size_t)k * GT_QK_K + 32 * j;
                const int16_t *bs = A->bs + (size_t)t * A->bs_stride + (size_t)k * GT_KQ_BS_N;
                __m512i p = _mm512_set1_epi32(-128 * (int32_t)bs[16 + j]);
                #pragma GCC unroll 4
                for (int u = 0; u < 4; u++) {
                    p = _mm512_dpbusd_epi32(p, lo[u], bcast4(aq + 4 * u));
                    p = _mm512_dpbusd_epi32(p, hi[u], bcast4(aq + 16 + 4 * u));
                }
                dot[t] = _mm512_add_epi32(dot[t], _mm512_mullo_epi32(p, sc));
            }
        }
        kq_finish_d16(sb + GT_KQX_OFF_D, k, A, nt, dot, acc);
    }
}

void gt_kqx_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 8);
    KQ_NT_CASES(kqx_tile, 0)
}

/* Tiled Q3_K (gt_kq4_tile_fn): lane r = row r. Group g (< 16) of 16
 * elements is, per lane, 4 dwords u: the 2 low bits from qs group 8h + 4v
 * + u shifted by 2s, the third from hmask group 4v + u shifted by 4h + s
 * (h = g / 8, s = g % 8 / 2, v = g % 2: kernels_impl.h's mapping), a quant
 * q <= 7; vpdpbusd sums q a with p starting at -4 A_g (the group's
 * activation sum), so p is the sum of (q - 4) a, exactly; dot += sc_g p by
 * vpmulld; the float step is gt_kq_finish's: the scalar bytes. */
static inline __attribute__((always_inline)) void kq3_tile(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt,
                                                            float *acc, const int unused) {
    (void)unused;
    const __m512i m3 = _mm512_set1_epi8(3), one = _mm512_set1_epi8(1);
    for (int k = 0; k < nk; k++, sb += GT_KQ3_SB_BYTES) {
        __m512i dot[8];
        if (nt == 1) kq_prefetch(sb, GT_KQ3_SB_BYTES);
        #pragma GCC unroll 8
        for (int t = 0; t < nt; t++) dot[t] = _mm512_setzero_si512();
        #pragma GCC unroll 16
        for (int g = 0; g < 16; g++) {
            const int h = g / 8, s = g % 8 / 2, v = g % 2;
            __m512i q[4];
            #pragma GCC unroll 4
            for (int u = 0; u < 4; u++) {
                __m512i lo = _mm512_load_si512((const void *)(sb + 64 * (8 * h + 4 * v + u)));
                __m512i hm = _mm512_load_si512((const void *)(sb + GT_KQ3_OFF_HM + 64 * (4 * v + u)));
                q[u] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(lo, 2 * s), m3),
                                       _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hm, 4 * h + s), one), 2));
            }
            const __m512i sc = _mm512_cvtepi8_epi32(_mm_load_si128((const __m128i *)(sb + GT_KQ3_OFF_SC + 16 * g)));
            #pragma GCC unroll 8
            for (int t = 0; t < nt; t++) {
                const int8_t *aq = A->aq + (size_t)t * A->aq_stride + (size_t)k * GT_QK_K + 16 * g;
                const int16_t *bs = A->bs + (size_t)t * A->bs_stride + (size_t)k * GT_KQ_BS_N;
                __m512i p = _mm512_set1_epi32(-4 * (int32_t)bs[g]);
                #pragma GCC unroll 4
                for (int u = 0; u < 4; u++) p = _mm512_dpbusd_epi32(p, q[u], bcast4(aq + 4 * u));
                dot[t] = _mm512_add_epi32(dot[t], _mm512_mullo_epi32(p, sc));
            }
        }
        kq_finish_d16(sb + GT_KQ3_OFF_D, k, A, nt, dot, acc);
    }
}

void gt_kq3_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 8);
    KQ_NT_CASES(kq3_tile, 0)
}

/* Tiled Q2_K (gt_kq4_tile_fn): lane r = row r. Group g (< 16) of 16
 * elements is, per lane, 4 dwords u of 2-bit quants from qs group 8h + 4v
 * + u shifted by 2s (h = g / 8, s = g % 8 / 2, v = g % 2, as Q3_K's);
 * vpdpbusd sums q a (q <= 3), dot += sc_g p by vpmulld (sc_g the scale
 * byte's low nibble); the mins term is sum_g m_g A_g, the lanes' mins of
 * groups 2i and 2i + 1 as an int16 pair against the token's pair of group
 * sums by vpdpwssd; the float step is gt_kq_finish's: the scalar bytes. */
static inline __attribute__((always_inline)) void kq2_tile(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt,
                                                            float *acc, const int unused) {
    (void)unused;
    const __m512i m3 = _mm512_set1_epi8(3), m4 = _mm512_set1_epi8(0x0f), m4d = _mm512_set1_epi32(0x0f);
    for (int k = 0; k < nk; k++, sb += GT_KQ2_SB_BYTES) {
        __m512i dot[8], mp[8];
        if (nt == 1) kq_prefetch(sb, GT_KQ2_SB_BYTES);
        #pragma GCC unroll 8
        for (int t = 0; t < nt; t++) dot[t] = _mm512_setzero_si512();
        #pragma GCC unroll 16
        for (int g = 0; g < 16; g++) {
            const int h = g / 8, s = g % 8 / 2, v = g % 2;
            __m512i q[4];
            #pragma GCC unroll 4
            for (int u = 0; u < 4; u++) {
                const __m512i b = _mm512_load_si512((const void *)(sb + 64 * (8 * h + 4 * v + u)));
                q[u] = _mm512_and_si512(_mm512_srli_epi16(b, 2 * s), m3);
            }
            const __m512i sc = _mm512_and_si512(
                _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)(sb + GT_KQ2_OFF_SC + 16 * g))), m4d);
            #pragma GCC unroll 8
            for (int t = 0; t < nt; t++) {
                const int8_t *aq = A->aq + (size_t)t * A->aq_stride + (size_t)k * GT_QK_K + 16 * g;
                __m512i p = _mm512_setzero_si512();
                #pragma GCC unroll 4
                for (int u = 0; u < 4; u++) p = _mm512_dpbusd_epi32(p, q[u], bcast4(aq + 4 * u));
                dot[t] = _mm512_add_epi32(dot[t], _mm512_mullo_epi32(p, sc));
            }
        }
        #pragma GCC unroll 8
        for (int i = 0; i < 8; i++) { /* the mins of groups 2i, 2i + 1 (high nibbles) as int16 pairs */
            __m128i a = _mm_load_si128((const __m128i *)(sb + GT_KQ2_OFF_SC + 32 * i));
            __m128i b = _mm_load_si128((const __m128i *)(sb + GT_KQ2_OFF_SC + 32 * i + 16));
            a = _mm_and_si128(_mm_srli_epi16(a, 4), _mm512_castsi512_si128(m4));
            b = _mm_and_si128(_mm_srli_epi16(b, 4), _mm512_castsi512_si128(m4));
            mp[i] = _mm512_cvtepu8_epi16(_mm256_set_m128i(_mm_unpackhi_epi8(a, b), _mm_unpacklo_epi8(a, b)));
        }
        /* Group sums |A_g| <= 16 * 127: int16; products with 4-bit mins exact in int32. */
        kq_finish_mins(sb + GT_KQ2_OFF_D, sb + GT_KQ2_OFF_DMIN, k, A, nt, dot, mp, 8, 0, acc);
    }
}

void gt_kq2_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *A, int nt, float *acc) {
    assert(nt >= 1 && nt <= 8);
    KQ_NT_CASES(kq2_tile, 0)
}
#endif

#ifdef __clang__
#pragma clang attribute pop
#endif
