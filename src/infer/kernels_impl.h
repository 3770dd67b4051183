/* kernels_impl.h: what the per-ISA kernel files share with kernels.c (not a
 * public interface: the engine uses kernels.h). */
#ifndef GT_INFER_KERNELS_IMPL_H
#define GT_INFER_KERNELS_IMPL_H

#include "infer/kernels.h"

/* The tables defined by kernels_avx2.c and kernels_avx512.c. Only call their
 * functions after gt_kern_isa has checked the CPU. */
extern const gt_kern gt_kern_avx2;
extern const gt_kern gt_kern_avx512;

/* Scalar quantization of one block of 32 (the reference the SIMD paths
 * match); returns the sum of the quants. */
int32_t gt_kern_quant_block(const float *x, int8_t *q, float *d);

#endif
