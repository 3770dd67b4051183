/* gemm.h: the trainer's matmul kernels, register-blocked, one variant per
 * instruction set (AVX-512, AVX2, baseline), every variant performing for
 * each output element exactly the IEEE operations, in exactly the order, of
 * the plain loops written beside each function below. Blocking only changes
 * which element is computed when and how often a loaded value is reused,
 * never an element's sequence of roundings: the trained bytes do not depend
 * on the kernel path (tests/train/test_train_gemm.c checks every path
 * against those loops, byte for byte). No fused multiply-add anywhere (the
 * layer is compiled with -ffp-contract=off): a product is rounded, then
 * added. */
#ifndef GT_TRAIN_GEMM_H
#define GT_TRAIN_GEMM_H

#include <stddef.h>

/* The dot product of ops.h's gt_tr_dot, which every matmul forward output
 * is: lane k % 8 accumulates a[k] * b[k] from 0 in ascending k, then the
 * lanes are added as ((0+4)+(2+6)) + ((1+5)+(3+7)). */
static inline __attribute__((always_inline)) float gt_tr_dot8(const float *restrict a, const float *restrict b,
                                                              int n) {
    float acc[8] = {0};
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[k + j] * b[k + j];
    for (; k < n; k++) acc[k & 7] += a[k] * b[k];
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

/* y[n][o] = gt_tr_dot8(x + n I, W + o I, I) for rows n0 <= n < n1 and every
 * o < O (y is N x O, x N x I, W O x I, all row-major). */
void gt_tr_gemm_dots(float *y, const float *x, const float *W, int n0, int n1, int I, int O);

/* out[r][c] += S(r, k) * M[k][c], one term at a time for k = 0, 1, ...
 * K-1, for rows r0 <= r < r1 and columns c < cols; out and M are row-major
 * with row strides ld_out, ld_m floats, and S(r, k) = S[r sr + k sk] (so S
 * is read as it lies: dy for dx, dy transposed in place for dW). */
void gt_tr_gemm_acc(float *out, size_t ld_out, const float *S, size_t sr, size_t sk, const float *M, size_t ld_m,
                    int r0, int r1, int K, int cols);

/* Kernel paths: 2 = AVX-512 (F, VL), 1 = AVX2, 0 = baseline x86-64. */
#define GT_TR_PATH_AVX512 2
#define GT_TR_PATH_AVX2 1
#define GT_TR_PATH_BASE 0

/* Caps the kernels at path max_path (-1: the best this CPU runs, the
 * default) for the whole process, and returns the path now used: the lower
 * of max_path and what the CPU supports. For tests and benchmarks that
 * compare paths; set it while no kernel runs. */
int gt_tr_gemm_path(int max_path);

/* The inference engine's element-wise kernels (the trainer calls exp_shift)
 * of the path now used: the vector exp of infer/kernels_*.c, which every path
 * computes with the same bits as gt_kern_expf (the engine's tests), so the
 * ops that call it keep their bits on every path too. */
struct gt_kern;
const struct gt_kern *gt_tr_kern(void);

#endif
