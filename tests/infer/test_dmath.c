/* test_dmath.c: gt_dmath_exp_n gives gt_dmath_exp's bits on every path this
 * CPU has (scalar, AVX2, AVX-512), over the range sampling and logprobs
 * use, the edges of the reduction, the clamps and NaN; a path the CPU
 * lacks is said to be skipped. */
#include <math.h>

#include "../test.h"
#include "base/alloc.h"
#include "infer/dmath.h"

static uint64_t bits(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static void test_exp_paths(void) {
    enum { N = 40003 }; /* not a multiple of 8: the tails too */
    double *x = gt_malloc(N * sizeof(double)), *y = gt_malloc(N * sizeof(double));
    uint64_t s = 0x12345;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) * 0x1p-53;
        if (i % 4 == 0) x[i] = -60.0 * u;            /* logit - max, the sampler's range */
        else if (i % 4 == 1) x[i] = 1400.0 * u - 700.0; /* the whole clamped range */
        else if (i % 4 == 2) x[i] = (u - 0.5) * 1e-3;  /* near 0 */
        else x[i] = nearbyint(2000.0 * u - 1000.0) * 0.34657359027997264; /* halfway points of the reduction */
    }
    const double edges[] = {-700.0, 700.0, -700.0000001, 700.0000001, -1e300, 1e300, -INFINITY, INFINITY, NAN,
                            0.0, -0.0, 0x1p-1074, -745.2, 709.7, 1.0, -1.0};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) x[i * 7] = edges[i];
    for (int path = 0; path <= 2; path++) {
        static const char *const names[] = {"scalar", "avx2", "avx512"};
        if (!gt_dmath_exp_path_ok(path)) {
            fprintf(stderr, "  (no %s on this CPU: that exp path SKIPPED)\n", names[path]);
            continue;
        }
        gt_dmath_exp_path(path, x, y, N);
        int bad = 0, first = -1;
        for (int i = 0; i < N; i++) {
            double want = gt_dmath_exp(x[i]);
            int same = bits(y[i]) == bits(want) || (isnan(y[i]) && isnan(want));
            if (!same && first < 0) first = i;
            bad += !same;
        }
        CHECK_MSG(bad == 0, "%s: %d of %d differ from gt_dmath_exp, first x = %.17g", names[path], bad, N,
                  first >= 0 ? x[first] : 0.0);
    }
    /* In place, by the best path. */
    for (int i = 0; i < 64; i++) y[i] = x[i];
    gt_dmath_exp_n(y, y, 64);
    int bad = 0;
    for (int i = 0; i < 64; i++) bad += !(bits(y[i]) == bits(gt_dmath_exp(x[i])) || isnan(y[i]));
    CHECK_EQ_INT(bad, 0);
    gt_free(y);
    gt_free(x);
}

int main(void) {
    RUN(test_exp_paths);
    return gt_test_finish();
}
