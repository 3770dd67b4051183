/* test_train_gemm: the register-blocked matmul kernels (src/train/gemm.c)
 * against the plain loops they replace, byte for byte, on every kernel path
 * this CPU runs (AVX-512, AVX2, baseline) and on 1, 2 and 3 threads.
 *
 * The reference loops below are the trainer's matmuls as they were before
 * blocking (the order that pins the recipe's weights): the forward's dot
 * with 8 lanes and a fixed tree, the backward's sums one term at a time in
 * ascending order, a rounded product added to a rounded sum. This file is
 * compiled with -ffp-contract=off (CMakeLists.txt) so that the reference,
 * too, never fuses a multiply into its add. Shapes are chosen to hit every
 * edge of the tiles: rows and outputs that are not multiples of the tile
 * sizes, widths that are not multiples of 8 or of a column strip, term
 * counts past one chunk (256), thread splits that cut tiles. Values include
 * zeros, negative zeros, and products that cancel. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/pool.h"
#include "train/gemm.h"
#include "train/ops.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;

/* Uniform in [-1, 1), one value in 16 an exact +-0 or a power of two. */
static float val(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t r = (uint32_t)(rng >> 32);
    if ((r & 15) == 0) return (r & 16) ? -0.0f : 0.0f;
    if ((r & 15) == 1) return (r & 16) ? -0.5f : 2.0f;
    return (float)(r >> 8) / (float)(1u << 23) - 1.0f;
}

static float *vals(size_t n) {
    float *p = gt_malloc(n * sizeof(float) + 1);
    for (size_t i = 0; i < n; i++) p[i] = val();
    return p;
}

/* The forward before blocking: y[n][o] = 8-lane dot, tree ((0+4)+(2+6)) +
 * ((1+5)+(3+7)). */
static void ref_fwd(float *y, const float *x, const float *W, int N, int I, int O) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            const float *a = x + (size_t)n * I, *b = W + (size_t)o * I;
            float acc[8] = {0};
            int k = 0;
            for (; k + 8 <= I; k += 8)
                for (int j = 0; j < 8; j++) acc[j] += a[k + j] * b[k + j];
            for (; k < I; k++) acc[k & 7] += a[k] * b[k];
            y[(size_t)n * O + o] = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
        }
}

/* The backward before blocking: dx[n] += dy[n][o] W[o] (o ascending),
 * dW[o] += dy[n][o] x[n] (n ascending). */
static void ref_bwd(float *dx, float *dW, const float *dy, const float *x, const float *W, int N, int I, int O) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++)
            for (int i = 0; i < I; i++) dx[(size_t)n * I + i] += dy[(size_t)n * O + o] * W[(size_t)o * I + i];
    for (int o = 0; o < O; o++)
        for (int n = 0; n < N; n++)
            for (int i = 0; i < I; i++) dW[(size_t)o * I + i] += dy[(size_t)n * O + o] * x[(size_t)n * I + i];
}

/* The threads of pool (NULL: the caller's alone). */
static int n_threads(gt_pool *pool) { return pool ? gt_pool_size(pool) : 1; }

/* One shape on one path and pool: forward and backward equal the reference. */
static void check_shape(gt_pool *pool, int N, int I, int O, int path) {
    float *x = vals((size_t)N * I), *W = vals((size_t)O * I), *dy = vals((size_t)N * O);
    float *dx0 = vals((size_t)N * I), *dW0 = vals((size_t)O * I); /* backward adds into these */
    float *y = gt_malloc((size_t)N * O * sizeof(float)), *yr = gt_malloc((size_t)N * O * sizeof(float));
    float *dx = gt_malloc((size_t)N * I * sizeof(float)), *dW = gt_malloc((size_t)O * I * sizeof(float));
    gt_tr_matmul_fwd(pool, y, x, W, N, I, O);
    ref_fwd(yr, x, W, N, I, O);
    CHECK_MSG(!memcmp(y, yr, (size_t)N * O * sizeof(float)), "forward N %d I %d O %d path %d threads %d", N, I, O,
              path, n_threads(pool));
    memcpy(dx, dx0, (size_t)N * I * sizeof(float));
    memcpy(dW, dW0, (size_t)O * I * sizeof(float));
    gt_tr_matmul_bwd(pool, dx, dW, dy, x, W, N, I, O);
    ref_bwd(dx0, dW0, dy, x, W, N, I, O);
    CHECK_MSG(!memcmp(dx, dx0, (size_t)N * I * sizeof(float)), "dx N %d I %d O %d path %d threads %d", N, I, O, path,
              n_threads(pool));
    CHECK_MSG(!memcmp(dW, dW0, (size_t)O * I * sizeof(float)), "dW N %d I %d O %d path %d threads %d", N, I, O, path,
              n_threads(pool));
    gt_free(x), gt_free(W), gt_free(dy), gt_free(dx0), gt_free(dW0);
    gt_free(y), gt_free(yr), gt_free(dx), gt_free(dW);
}

static const int shapes[][3] = {
    {1, 1, 1},   {2, 8, 3},    {7, 13, 5},   {11, 40, 10}, {13, 64, 37},
    {61, 33, 17}, {64, 256, 35}, {37, 48, 300}, {300, 24, 9}, {65, 129, 19},
};

/* Every shape, path and thread count. */
static void test_paths(void) {
    int best = gt_tr_gemm_path(-1);
    fprintf(stderr, "kernel paths 0..%d\n", best);
    gt_pool *pools[3] = {NULL, gt_pool_new(2), gt_pool_new(3)};
    for (int path = 0; path <= best; path++) {
        CHECK_EQ_INT(gt_tr_gemm_path(path), path);
        for (int pi = 0; pi < 3; pi++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                check_shape(pools[pi], shapes[s][0], shapes[s][1], shapes[s][2], path);
    }
    CHECK_EQ_INT(gt_tr_gemm_path(-1), best);
    for (int pi = 0; pi < 3; pi++) gt_pool_free(pools[pi]);
}

/* The blocked kernels compute what a matmul is: a product that cancels
 * exactly gives 0, and the identity copies. */
static void test_values(void) {
    int N = 5, I = 24, O = 24;
    float *x = vals((size_t)N * I), *W = gt_calloc((size_t)O * I, sizeof(float));
    float *y = gt_malloc((size_t)N * O * sizeof(float));
    for (int o = 0; o < O; o++) W[(size_t)o * I + o] = 1.0f;
    gt_tr_matmul_fwd(NULL, y, x, W, N, I, O);
    int same = 1;
    for (int k = 0; k < N * O; k++) same &= y[k] == x[k];
    CHECK(same);
    gt_free(x), gt_free(W), gt_free(y);
}

int main(void) {
    RUN(test_paths);
    RUN(test_values);
    return gt_test_finish();
}
