/* libm_probe.c: calls that ctest repo_libm_catches compiles into a throwaway
 * libgt_probe.a for tests/repo/libm.sh to find, one per kind of name the
 * first pattern let through: float and long double variants (asinf, expl),
 * reentrant (lgamma_r), Bessel (j0), complex (cexp), and glibc's
 * -ffinite-math-only names (__exp_finite, declared here by hand). Never
 * linked: only its undefined symbols are read. */
#include <complex.h>
#include <math.h>

double __exp_finite(double x);

double gt_libm_probe(double x);

/* Sums one call of each, so none is dropped as unused. */
double gt_libm_probe(double x) {
    int sign;
    double s = (double)asinf((float)x) + (double)coshf((float)x) + (double)expl((long double)x);
    s += lgamma_r(x, &sign) + (double)cbrtf((float)x) + (double)hypotf((float)x, 1.0f) + (double)tgammaf((float)x);
    s += (double)erfcf((float)x) + j0(x) + creal(cexp(x + 0.5 * I)) + __exp_finite(x);
    return s;
}
