/* dmath.c: deterministic double exp/log/sin/cos (see dmath.h). Only +, -,
 * *, / and exact scalings by powers of two appear, in a written order. */
#include "infer/dmath.h"

#include <assert.h>
#include <math.h>

#define LN2_HI 6.93147180369123816490e-01 /* ln 2 split so n * LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10
#define TWO_PI_HI 6.28318530717958623200e+00
#define TWO_PI_LO 2.44929359829470635445e-16

/* exp(x): x = n ln2 + r with |r| <= ln2/2, then 1 + r + r^2/2! + ... + r^20/20!
 * by Horner, scaled by 2^n (ldexp is exact). */
double gt_dmath_exp(double x) {
    if (x != x) return x;
    if (x < -700.0) return 0.0;
    if (x > 700.0) return INFINITY;
    double n = nearbyint(x * 1.44269504088896338700e+00);
    double r = (x - n * LN2_HI) - n * LN2_LO;
    double y = 1.0;
    for (int k = 20; k >= 1; k--) y = 1.0 + y * r / (double)k;
    return ldexp(y, (int)n);
}

/* log(x): x = m 2^e with m in [sqrt(1/2), sqrt(2)), then log m = 2 atanh(s),
 * s = (m - 1)/(m + 1), |s| < 0.172, by its odd series to s^41. */
double gt_dmath_log(double x) {
    if (!(x > 0.0) || x == INFINITY) return NAN;
    int e;
    double m = frexp(x, &e); /* m in [0.5, 1) */
    if (m < 0.70710678118654752440) m *= 2.0, e--;
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, sum = 0.0;
    for (int k = 41; k >= 1; k -= 2) sum = 1.0 / (double)k + s2 * sum;
    return 2.0 * s * sum + ((double)e * LN2_HI + (double)e * LN2_LO);
}

/* Reduces x to r in [-pi, pi] (x - n 2pi in two steps), returns r. */
static double reduce_2pi(double x) {
    double n = nearbyint(x / TWO_PI_HI);
    return (x - n * TWO_PI_HI) - n * TWO_PI_LO;
}

/* sin and cos of r in [-pi, pi] by their Taylor series to degree 33/34
 * (the last term is below 1e-17 there), summed by Horner. */
static double sin_series(double r) {
    double r2 = r * r, y = 1.0;
    for (int k = 33; k >= 3; k -= 2) y = 1.0 - y * r2 / ((double)k * (double)(k - 1));
    return r * y;
}

static double cos_series(double r) {
    double r2 = r * r, y = 1.0;
    for (int k = 34; k >= 2; k -= 2) y = 1.0 - y * r2 / ((double)k * (double)(k - 1));
    return y;
}

double gt_dmath_sin(double x) { return x != x || isinf(x) ? NAN : sin_series(reduce_2pi(x)); }

double gt_dmath_cos(double x) { return x != x || isinf(x) ? NAN : cos_series(reduce_2pi(x)); }

double gt_dmath_pow(double base, double e) {
    assert(base > 0.0);
    return gt_dmath_exp(e * gt_dmath_log(base));
}
