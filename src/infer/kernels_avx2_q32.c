/* kernels_avx2_q32.c: the AVX2 kernels of the 32-block types with their
 * own decode (Q4_1, Q5_0, Q5_1, IQ4_NL; kernels_q32.c drives them):
 * blocks decoded to bytes in registers, products by vpmaddubsw/vpmaddwd,
 * up to GT_Q32_ROWS rows interleaved.
 *
 * Split from kernels_avx2.c, whose table points here through
 * kernels_impl.h. Compiled for AVX2 with the same target pragma, entered
 * only after gt_kern_isa checked cpuid; every function gives the scalar
 * path's bits (tests/infer/test_kernels.c compares them). */
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
            int32_t sum = hsum8(_mm256_madd_epi16(p, ones));
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
#endif

#ifdef __clang__
#pragma clang attribute pop
#endif
