/* gemm.c: the trainer's register-blocked matmul kernels (see gemm.h), one
 * copy of gemm_tile.h per instruction set, picked at each call by what the
 * CPU supports (capped by gt_tr_gemm_path). Vectors are GCC's vector
 * extension: element-wise IEEE multiplies and adds, nothing reassociated
 * (no -ffast-math; -ffp-contract=off keeps every multiply apart from its
 * add), so a path changes no bit of any result. */
#include "train/gemm.h"

#include <assert.h>
#include <string.h>

typedef float gt_v8 __attribute__((vector_size(32)));
typedef float gt_v8u __attribute__((vector_size(32), aligned(4), may_alias));
typedef float gt_v16 __attribute__((vector_size(64)));
typedef float gt_v16u __attribute__((vector_size(64), aligned(4), may_alias));

/* Rows per panel of the dots (a multiple of every path's tile rows). */
#define DOTS_PANEL 60
/* Terms per chunk of gemm_acc: a strip of M (ACC_KC rows x one tile's
 * columns, 32 KiB at AVX-512's 32 columns) stays in the first-level cache
 * while the row tiles pass over it. */
#define ACC_KC 256

/* AVX-512: 32 registers. Dots 5 x 4 (20 accumulators, 4 rows of W, one row
 * of x); gemm_acc 12 rows x 2 vectors of 16 (24 accumulators, 2 of M, a
 * broadcast). */
#define TILE_FN(name) gemm_##name##_avx512
#define TILE_ATTR __attribute__((target("avx512f,avx512vl,avx2,fma")))
#define TILE_VT gt_v16
#define TILE_VU gt_v16u
#define TILE_W 16
#define TILE_DR 5
#define TILE_DC 4
#define TILE_AR 12
#define TILE_AV 2
#include "train/gemm_tile.h"

/* AVX2: 16 registers. Dots 3 x 3 (9 + 3 + 1); gemm_acc 6 rows x 2 vectors
 * of 8 (12 + 2 + 1). */
#define TILE_FN(name) gemm_##name##_avx2
#define TILE_ATTR __attribute__((target("avx2,fma")))
#define TILE_VT gt_v8
#define TILE_VU gt_v8u
#define TILE_W 8
#define TILE_DR 3
#define TILE_DC 3
#define TILE_AR 6
#define TILE_AV 2
#include "train/gemm_tile.h"

/* Baseline x86-64 (SSE2: each 8-wide vector is two halves): the AVX2 tiles,
 * for the same results on any CPU. */
#define TILE_FN(name) gemm_##name##_base
#define TILE_ATTR
#define TILE_VT gt_v8
#define TILE_VU gt_v8u
#define TILE_W 8
#define TILE_DR 3
#define TILE_DC 3
#define TILE_AR 6
#define TILE_AV 2
#include "train/gemm_tile.h"

static int path_cap = -1; /* gt_tr_gemm_path's cap; -1: none */

/* The best path this CPU runs. */
static int cpu_path(void) {
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return GT_TR_PATH_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GT_TR_PATH_AVX2;
    return GT_TR_PATH_BASE;
}

/* The path a kernel takes now. */
static int path_now(void) {
    int best = cpu_path(), cap = __atomic_load_n(&path_cap, __ATOMIC_RELAXED);
    return cap >= 0 && cap < best ? cap : best;
}

int gt_tr_gemm_path(int max_path) {
    assert(max_path >= -1 && max_path <= GT_TR_PATH_AVX512);
    __atomic_store_n(&path_cap, max_path, __ATOMIC_RELAXED);
    return path_now();
}

void gt_tr_gemm_dots(float *y, const float *x, const float *W, int n0, int n1, int I, int O) {
    assert(n0 >= 0 && n0 <= n1 && I > 0 && O > 0);
    switch (path_now()) {
    case GT_TR_PATH_AVX512: gemm_dots_avx512(y, x, W, n0, n1, I, O); break;
    case GT_TR_PATH_AVX2: gemm_dots_avx2(y, x, W, n0, n1, I, O); break;
    default: gemm_dots_base(y, x, W, n0, n1, I, O); break;
    }
}

void gt_tr_gemm_acc(float *out, size_t ld_out, const float *S, size_t sr, size_t sk, const float *M, size_t ld_m,
                    int r0, int r1, int K, int cols) {
    assert(r0 >= 0 && r0 <= r1 && K >= 0 && cols >= 0 && ld_out >= (size_t)cols && ld_m >= (size_t)cols);
    switch (path_now()) {
    case GT_TR_PATH_AVX512: gemm_acc_avx512(out, ld_out, S, sr, sk, M, ld_m, r0, r1, K, cols); break;
    case GT_TR_PATH_AVX2: gemm_acc_avx2(out, ld_out, S, sr, sk, M, ld_m, r0, r1, K, cols); break;
    default: gemm_acc_base(out, ld_out, S, sr, sk, M, ld_m, r0, r1, K, cols); break;
    }
}
