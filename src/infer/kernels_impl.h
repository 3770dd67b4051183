/* kernels_impl.h: what the per-ISA kernel files share with kernels.c (not a
 * public interface: the engine uses kernels.h). */
#ifndef GT_INFER_KERNELS_IMPL_H
#define GT_INFER_KERNELS_IMPL_H

#include "infer/kernels.h"

/* The tables defined by kernels_avx2.c and kernels_avx512.c. Only call their
 * functions after gt_kern_isa has checked the CPU. */
extern const gt_kern gt_kern_avx2;
extern const gt_kern gt_kern_avx512;

/* K-quant products (kernels_kquant.c): the integer parts of one super-block
 * against one token, p[g] = sum q[i] * a[i] and s[g] = sum a[i] over
 * i in 16g..16g+15 (g < 16; q unsigned as gt_kq_unpack gives them), and the
 * product itself, which every table calls with its own ints. */
typedef void (*gt_kq_ints_fn)(const uint8_t *q, const int8_t *a, int32_t p[16], int32_t s[16]);
void gt_kq_ints_scalar(const uint8_t *q, const int8_t *a, int32_t p[16], int32_t s[16]);
void gt_kq_ints_avx2(const uint8_t *q, const int8_t *a, int32_t p[16], int32_t s[16]);
float gt_kq_quant_act(const float *x, int8_t q[256]);
void gt_kq_matmul(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y, size_t ldy,
                  gt_kq_ints_fn ints);

/* Scalar quantization of one block of 32 (the reference the SIMD paths
 * match); returns the sum of the quants. */
int32_t gt_kern_quant_block(const float *x, int8_t *q, float *d);

/* exp(x) in the engine's own fixed sequence of operations, so the SIMD
 * paths can repeat it bit for bit: 0 for x <= -87 (and NaN); otherwise
 * x' = min(x, 88), n = round-to-even(x' * log2(e)), r = x' - n ln2 in two
 * fmas (ln2 split as 0.693359375 - 2.12194440e-4), y = 1 + r + r^2 P(r)
 * with the degree-5 Cephes polynomial by fmas (y = fma(P, r^2, r) + 1),
 * result y * 2^n. Measured within 8.2e-8 relative of exp (test_kernels). */
#define GT_EXP_LO -87.0f
#define GT_EXP_HI 88.0f
#define GT_EXP_LOG2E 1.44269504088896341f
#define GT_EXP_C1 0.693359375f
#define GT_EXP_C2 -2.12194440e-4f
#define GT_EXP_P0 1.9875691500e-4f
#define GT_EXP_P1 1.3981999507e-3f
#define GT_EXP_P2 8.3334519073e-3f
#define GT_EXP_P3 4.1665795894e-2f
#define GT_EXP_P4 1.6666665459e-1f
#define GT_EXP_P5 5.0000001201e-1f
float gt_kern_expf(float x);
/* The scalar element-wise steps (the reference table's entries). */
void gt_kern_silu_mul_scalar(float *g, const float *u, int n);
void gt_kern_exp_shift_scalar(float *s, float mx, int n);

#endif
