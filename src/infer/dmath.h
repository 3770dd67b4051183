/* dmath.h: exp, log, sin and cos in a fixed sequence of IEEE double
 * operations (range reduction, then a fixed number of series terms), so that
 * everything verification re-runs (the engine's RoPE tables and sampling
 * probabilities, the trainer's RoPE angles and learning-rate schedule) is the
 * same bits on every machine and libm. Every room is built with
 * -ffp-contract=off, so no compiler fuses a multiply and an add; no room's
 * library calls a libm transcendental (ctest repo_libm).
 * Accuracy: within a few ulp of double for the arguments used here (|x| up to
 * ~1e6 for sin/cos), checked against libm in tests/train/test_train_ops.c. */
#ifndef GT_INFER_DMATH_H
#define GT_INFER_DMATH_H

double gt_dmath_exp(double x); /* 0 below -700, +inf above 700 */
double gt_dmath_log(double x); /* x > 0 finite; NaN otherwise */
double gt_dmath_sin(double x);
double gt_dmath_cos(double x);
/* y[i] = gt_dmath_exp(x[i]) for i < n, the same bits, 8 or 4 at a time
 * where the CPU has AVX-512 or AVX2 (dmath_vec.c); y may be x. */
void gt_dmath_exp_n(const double *x, double *y, int n);
/* The same by one path (0 scalar, 1 AVX2, 2 AVX-512) for tests, where
 * gt_dmath_exp_path_ok(path) says this CPU has it. */
int gt_dmath_exp_path_ok(int path);
void gt_dmath_exp_path(int path, const double *x, double *y, int n);
/* base^e for base > 0, as exp(e * log(base)). */
double gt_dmath_pow(double base, double e);

#endif
