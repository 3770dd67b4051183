/* kernels_avx512_impl.h: what the AVX-512 kernel files share
 * (kernels_avx512.c, kernels_avx512_kq.c). Include after the file's
 * AVX-512 target pragma and <immintrin.h>: it compiles for it. */
#ifndef GT_INFER_KERNELS_AVX512_IMPL_H
#define GT_INFER_KERNELS_AVX512_IMPL_H

#include <stdint.h>
#include <string.h>

/* 4 activation bytes at p, broadcast to every lane. */
static inline __m512i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

#endif
