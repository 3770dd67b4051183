/* gemm.c: the trainer's register-blocked matmul kernels (see gemm.h), one
 * copy of gemm_tile.h per instruction set, picked at each call by what the
 * CPU supports (capped by gt_tr_gemm_path). Vectors are GCC's vector
 * extension: element-wise IEEE multiplies and adds, nothing reassociated
 * (no -ffast-math; -ffp-contract=off keeps every multiply apart from its
 * add), so a path changes no bit of any result. */
#include "train/gemm.h"

#include <assert.h>
#include <string.h>

#include "infer/kernels.h"

typedef float gt_v8 __attribute__((vector_size(32)));
typedef float gt_v8u __attribute__((vector_size(32), aligned(4), may_alias));
typedef float gt_v16 __attribute__((vector_size(64)));
typedef float gt_v16u __attribute__((vector_size(64), aligned(4), may_alias));

/* dot8's tree of the 8 lanes of *ap in vector steps: lane j (< 4) of b is
 * l_j + l_{j+4}; lane 0 of c is b_0 + b_2, lane 1 b_1 + b_3; lane 0 of d
 * is c_0 + c_1 -- ((0+4)+(2+6)) + ((1+5)+(3+7)), the same additions. */
static inline __attribute__((always_inline)) float tree8(const gt_v8 *ap) {
    gt_v8 a = *ap;
    gt_v8 b = a + __builtin_shufflevector(a, a, 4, 5, 6, 7, 0, 1, 2, 3);
    gt_v8 c = b + __builtin_shufflevector(b, b, 2, 3, 0, 1, 6, 7, 4, 5);
    gt_v8 d = c + __builtin_shufflevector(c, c, 1, 0, 3, 2, 5, 4, 7, 6);
    return d[0];
}

/* Rows per panel of the dots (a multiple of every path's tile rows). */
#define DOTS_PANEL 60
/* Terms per chunk of gemm_acc: a strip of M (ACC_KC rows x one tile's
 * columns, 32 KiB at AVX-512's 32 columns) stays in the first-level cache
 * while the row tiles pass over it. */
#define ACC_KC 256

/* AVX-512: 32 registers. Dots 5 x 4 of 8 lanes (20 accumulators, 4 rows of
 * W, one row of x), for what dots16_avx512's tiles leave; gemm_acc 12 rows
 * x 2 vectors of 16 (24 accumulators, 2 of M, a broadcast). */
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

/* AVX-512's dots proper: two outputs per 16-lane vector (lanes 0-7 output
 * o, 8-15 output o + 1, each 8 lanes still dot8's lanes), a tile of
 * D16_R rows x 2 D16_C2 outputs: 20 accumulators, 4 pairs of W rows, x's
 * chunk twice over. Partial tiles take the 8-lane tiles above. */
#define D16_R 5
#define D16_C2 4

/* dot8's tree over 8 lanes. */
static inline __attribute__((always_inline)) float tree_at(const float *l) {
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

/* tree8 of both 8-lane halves of *ap at once. */
static inline __attribute__((always_inline)) void tree16(const gt_v16 *ap, float *y0, float *y1) {
    gt_v16 a = *ap;
    gt_v16 b = a + __builtin_shufflevector(a, a, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
    gt_v16 c = b + __builtin_shufflevector(b, b, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    gt_v16 d = c + __builtin_shufflevector(c, c, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
    *y0 = d[0], *y1 = d[8];
}

/* One full tile: rows n..n+4, outputs o..o+7. */
static inline __attribute__((always_inline)) void dots16_tile(float *y, const float *x, const float *W, int n, int o,
                                                              int I, int O) {
    gt_v16 acc[D16_R][D16_C2] = {{{0}}};
    int k = 0;
    for (; k + 8 <= I; k += 8) {
        gt_v16 w[D16_C2];
#pragma GCC unroll 8
        for (int c = 0; c < D16_C2; c++) {
            gt_v8 lo = *(const gt_v8u *)(W + (size_t)(o + 2 * c) * I + k);
            gt_v8 hi = *(const gt_v8u *)(W + (size_t)(o + 2 * c + 1) * I + k);
            w[c] = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        }
#pragma GCC unroll 8
        for (int r = 0; r < D16_R; r++) {
            gt_v8 xv = *(const gt_v8u *)(x + (size_t)(n + r) * I + k);
            gt_v16 x2 = __builtin_shufflevector(xv, xv, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
#pragma GCC unroll 8
            for (int c = 0; c < D16_C2; c++) acc[r][c] += x2 * w[c];
        }
    }
    if (k == I) { /* no tail: the trees in vectors */
#pragma GCC unroll 8
        for (int r = 0; r < D16_R; r++)
#pragma GCC unroll 8
            for (int c = 0; c < D16_C2; c++)
                tree16(&acc[r][c], y + (size_t)(n + r) * O + o + 2 * c, y + (size_t)(n + r) * O + o + 2 * c + 1);
        return;
    }
    for (int r = 0; r < D16_R; r++)
        for (int c = 0; c < 2 * D16_C2; c++) {
            float a[8];
            memcpy(a, (const float *)&acc[r][c / 2] + 8 * (c % 2), sizeof a);
            const float *xr = x + (size_t)(n + r) * I, *wr = W + (size_t)(o + c) * I;
            for (int t = k; t < I; t++) a[t & 7] += xr[t] * wr[t];
            y[(size_t)(n + r) * O + o + c] = tree_at(a);
        }
}

/* Rows n0..n1 in panels: the 16-lane tiles where whole, the 8-lane ones
 * (gemm_tile.h) for the rows and outputs left. */
__attribute__((target("avx512f,avx512vl,avx2,fma"))) static void dots16_avx512(float *y, const float *x,
                                                                               const float *W, int n0, int n1,
                                                                               int I, int O) {
    const int ow = 2 * D16_C2, ofull = O - O % ow;
    for (int nb = n0; nb < n1; nb += DOTS_PANEL) {
        int ne = nb + DOTS_PANEL < n1 ? nb + DOTS_PANEL : n1, nfull = ne - (ne - nb) % D16_R;
        for (int o = 0; o < ofull; o += ow)
            for (int n = nb; n < nfull; n += D16_R) dots16_tile(y, x, W, n, o, I, O);
        if (ofull < O) gemm_dots_avx512(y, x, W, nb, nfull, ofull, I, O);
        if (nfull < ne) gemm_dots_avx512(y, x, W, nfull, ne, 0, I, O);
    }
}

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

const gt_kern *gt_tr_kern(void) {
    const gt_kern *k = NULL;
    switch (path_now()) {
    case GT_TR_PATH_AVX512: k = gt_kern_isa(GT_ISA_AVX512); /* NULL without VNNI: AVX2's then */
        if (k) break;
        /* fall through */
    case GT_TR_PATH_AVX2: k = gt_kern_isa(GT_ISA_AVX2); break;
    default: break;
    }
    return k ? k : gt_kern_isa(GT_ISA_SCALAR);
}

void gt_tr_gemm_dots(float *y, const float *x, const float *W, int n0, int n1, int I, int O) {
    assert(n0 >= 0 && n0 <= n1 && I > 0 && O > 0);
    switch (path_now()) {
    case GT_TR_PATH_AVX512: dots16_avx512(y, x, W, n0, n1, I, O); break;
    case GT_TR_PATH_AVX2: gemm_dots_avx2(y, x, W, n0, n1, 0, I, O); break;
    default: gemm_dots_base(y, x, W, n0, n1, 0, I, O); break;
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
