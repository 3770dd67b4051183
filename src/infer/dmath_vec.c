/* dmath_vec.c: gt_dmath_exp over arrays, 8 lanes (AVX-512) or 4 (AVX2) at a
 * time. Each lane does gt_dmath_exp's IEEE operations in its order (the
 * reduction, the 20 Horner steps each a multiply, a divide and an add,
 * correctly rounded in a vector as in a scalar register), so every path
 * gives gt_dmath_exp's bits; tests/infer/test_dmath.c compares them.
 *
 * The scaling by 2^n is a multiply by 2^n built from its exponent bits:
 * for |x| <= 700, n = round(x / ln 2) is within +-1010 and y within
 * [0.7, 1.42], so y 2^n is a normal double and the multiply is exact, as
 * ldexp is. */
#include "infer/dmath.h"

#include <assert.h>

#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define INV_LN2 1.44269504088896338700e+00

#if defined(__x86_64__)
#include <immintrin.h>

/* 2^n for integral n in [-1022, 1023] (as doubles), from its exponent bits:
 * n + 1023 lands in the low mantissa bits of n + 1.5 2^52 + 1023. */
__attribute__((target("avx2"))) static __m256d pow2_avx2(__m256d n) {
    const __m256d magic = _mm256_set1_pd(6755399441055744.0 + 1023.0);
    __m256i bits = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(n, magic)),
                                    _mm256_castpd_si256(_mm256_set1_pd(6755399441055744.0)));
    return _mm256_castsi256_pd(_mm256_slli_epi64(bits, 52));
}

__attribute__((target("avx2"))) static void exp_avx2(const double *x, double *y, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);
        __m256d lo = _mm256_set1_pd(-700.0), hi = _mm256_set1_pd(700.0);
        __m256d nan = _mm256_cmp_pd(v, v, _CMP_UNORD_Q), under = _mm256_cmp_pd(v, lo, _CMP_LT_OQ),
                over = _mm256_cmp_pd(v, hi, _CMP_GT_OQ);
        __m256d xc = _mm256_min_pd(_mm256_max_pd(v, lo), hi); /* NaN lanes: replaced below */
        __m256d k = _mm256_round_pd(_mm256_mul_pd(xc, _mm256_set1_pd(INV_LN2)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256d r = _mm256_sub_pd(_mm256_sub_pd(xc, _mm256_mul_pd(k, _mm256_set1_pd(LN2_HI))),
                                  _mm256_mul_pd(k, _mm256_set1_pd(LN2_LO)));
        __m256d p = _mm256_set1_pd(1.0);
        for (int d = 20; d >= 1; d--)
            p = _mm256_add_pd(_mm256_set1_pd(1.0),
                              _mm256_div_pd(_mm256_mul_pd(p, r), _mm256_set1_pd((double)d)));
        __m256d out = _mm256_mul_pd(p, pow2_avx2(k));
        out = _mm256_blendv_pd(out, _mm256_setzero_pd(), under);
        out = _mm256_blendv_pd(out, _mm256_set1_pd(__builtin_inf()), over);
        out = _mm256_blendv_pd(out, v, nan);
        _mm256_storeu_pd(y + i, out);
    }
    for (; i < n; i++) y[i] = gt_dmath_exp(x[i]);
}

__attribute__((target("avx512f"))) static void exp_avx512(const double *x, double *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d v = _mm512_loadu_pd(x + i);
        __m512d lo = _mm512_set1_pd(-700.0), hi = _mm512_set1_pd(700.0);
        __mmask8 nan = _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q), under = _mm512_cmp_pd_mask(v, lo, _CMP_LT_OQ),
                 over = _mm512_cmp_pd_mask(v, hi, _CMP_GT_OQ);
        __m512d xc = _mm512_min_pd(_mm512_max_pd(v, lo), hi);
        __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(xc, _mm512_set1_pd(INV_LN2)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512d r = _mm512_sub_pd(_mm512_sub_pd(xc, _mm512_mul_pd(k, _mm512_set1_pd(LN2_HI))),
                                  _mm512_mul_pd(k, _mm512_set1_pd(LN2_LO)));
        __m512d p = _mm512_set1_pd(1.0);
        for (int d = 20; d >= 1; d--)
            p = _mm512_add_pd(_mm512_set1_pd(1.0),
                              _mm512_div_pd(_mm512_mul_pd(p, r), _mm512_set1_pd((double)d)));
        __m512d out = _mm512_scalef_pd(p, k); /* exact: a normal result (above) */
        out = _mm512_mask_mov_pd(out, under, _mm512_setzero_pd());
        out = _mm512_mask_mov_pd(out, over, _mm512_set1_pd(__builtin_inf()));
        out = _mm512_mask_mov_pd(out, nan, v);
        _mm512_storeu_pd(y + i, out);
    }
    for (; i < n; i++) y[i] = gt_dmath_exp(x[i]);
}
#endif

/* See dmath.h. */
int gt_dmath_exp_path_ok(int path) {
    assert(path >= 0 && path <= 2);
#if defined(__x86_64__)
    if (path == 2) return __builtin_cpu_supports("avx512f");
    if (path == 1) return __builtin_cpu_supports("avx2");
#endif
    return path == 0;
}

/* See dmath.h. */
void gt_dmath_exp_path(int path, const double *x, double *y, int n) {
    assert(n >= 0 && gt_dmath_exp_path_ok(path));
#if defined(__x86_64__)
    if (path == 2) return exp_avx512(x, y, n);
    if (path == 1) return exp_avx2(x, y, n);
#endif
    for (int i = 0; i < n; i++) y[i] = gt_dmath_exp(x[i]);
}

/* See dmath.h. */
void gt_dmath_exp_n(const double *x, double *y, int n) {
    gt_dmath_exp_path(gt_dmath_exp_path_ok(2) ? 2 : gt_dmath_exp_path_ok(1) ? 1 : 0, x, y, n);
}
