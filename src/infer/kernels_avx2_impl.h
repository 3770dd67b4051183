/* kernels_avx2_impl.h: small helpers the AVX2 kernel files share
 * (kernels_avx2.c, kernels_avx2_kq.c). Include after
 * the file's AVX2 target pragma and <immintrin.h>: they compile for it. */
#ifndef GT_INFER_KERNELS_AVX2_IMPL_H
#define GT_INFER_KERNELS_AVX2_IMPL_H

#include <stdint.h>
#include <string.h>

/* Sum of the 8 int32 lanes of v (exact). */
static inline int32_t hsum8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* The 4 bytes at p in every int32 lane. */
static inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

#endif
