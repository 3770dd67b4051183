/* test_train_attn: the blocked causal attention of src/train/ops.c against
 * the plain loops it replaces, byte for byte, forward and backward, on 1, 2
 * and 3 threads and on every kernel path this CPU runs (the softmax's exp is
 * the path's vector exp: gt_tr_kern); and SwiGLU and the cross-entropy's
 * softmax, whose exp is that vector exp too, against their plain loops. The reference below is the trainer's attention as it was
 * before blocking (the order that pins the recipe's weights): per (sequence,
 * head) and t ascending, scores by the 8-lane dot and tree, softmax with
 * gt_tr_expf (the engine's exp), out and the gradients added one term at a time with p
 * ascending, dk and dv over query heads then t ascending. Compiled with
 * -ffp-contract=off (CMakeLists.txt). Shapes: head widths that are multiples
 * of 8 (the blocked path) and not (the plain one), sequence lengths that
 * are not multiples of the block's 4 rows, grouped and plain heads. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/pool.h"
#include "train/gemm.h"
#include "train/ops.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static float *vals(size_t n, float scale) {
    float *p = gt_malloc(n * sizeof(float) + 1);
    for (size_t i = 0; i < n; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = ((float)(uint32_t)(rng >> 40) / (float)(1u << 24) * 2.0f - 1.0f) * scale;
    }
    return p;
}

/* y += s x, element by element. */
static void ref_axpy(float *y, float s, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += s * x[i];
}

typedef struct shape { int B, T, H, Hkv, hd; } shape;

/* The forward before blocking. */
static void ref_fwd(float *out, float *att, const float *q, const float *k, const float *v, shape z) {
    int T = z.T, H = z.H, hd = z.hd, kvd = z.Hkv * hd, E = H * hd;
    float scale = 1.0f / sqrtf((float)hd);
    for (int u = 0; u < z.B * H; u++) {
        int b = u / H, h = u % H, g = h / (H / z.Hkv);
        for (int t = 0; t < T; t++) {
            const float *qt = q + (size_t)(b * T + t) * E + h * hd;
            float *a = att + (((size_t)b * H + h) * T + t) * T, mx = -INFINITY, sum = 0.0f;
            for (int p = 0; p <= t; p++) {
                a[p] = gt_tr_dot(qt, k + (size_t)(b * T + p) * kvd + g * hd, hd) * scale;
                mx = a[p] > mx ? a[p] : mx;
            }
            for (int p = 0; p <= t; p++) sum += (a[p] = gt_tr_expf(a[p] - mx));
            float inv = 1.0f / sum, *o = out + (size_t)(b * T + t) * E + h * hd;
            memset(o, 0, (size_t)hd * sizeof(float));
            for (int p = 0; p <= t; p++) {
                a[p] *= inv;
                ref_axpy(o, a[p], v + (size_t)(b * T + p) * kvd + g * hd, hd);
            }
            for (int p = t + 1; p < T; p++) a[p] = 0.0f;
        }
    }
}

/* The backward before blocking (dq, dk, dv zeroed by the caller). */
static void ref_bwd(float *dq, float *dk, float *dv, const float *dout, const float *att, const float *q,
                    const float *k, const float *v, shape z) {
    int T = z.T, H = z.H, hd = z.hd, kvd = z.Hkv * hd, E = H * hd, group = H / z.Hkv;
    float scale = 1.0f / sqrtf((float)hd), *ds = gt_malloc((size_t)T * sizeof(float));
    for (int u = 0; u < z.B * z.Hkv; u++) {
        int b = u / z.Hkv, g = u % z.Hkv;
        for (int h = g * group; h < (g + 1) * group; h++)
            for (int t = 0; t < T; t++) {
                const float *a = att + (((size_t)b * H + h) * T + t) * T;
                const float *dt = dout + (size_t)(b * T + t) * E + h * hd, *qt = q + (size_t)(b * T + t) * E + h * hd;
                float *dqt = dq + (size_t)(b * T + t) * E + h * hd, dot = 0.0f;
                for (int p = 0; p <= t; p++) {
                    ds[p] = gt_tr_dot(dt, v + (size_t)(b * T + p) * kvd + g * hd, hd);
                    dot += a[p] * ds[p];
                }
                for (int p = 0; p <= t; p++) {
                    float d = a[p] * (ds[p] - dot) * scale;
                    ref_axpy(dqt, d, k + (size_t)(b * T + p) * kvd + g * hd, hd);
                    ref_axpy(dk + (size_t)(b * T + p) * kvd + g * hd, d, qt, hd);
                    ref_axpy(dv + (size_t)(b * T + p) * kvd + g * hd, a[p], dt, hd);
                }
            }
    }
    gt_free(ds);
}

/* The threads of pool (NULL: the caller's alone). */
static int n_threads(gt_pool *pool) { return pool ? gt_pool_size(pool) : 1; }

/* One shape on one pool: every output equals the reference's bytes. */
static void check_shape(gt_pool *pool, shape z) {
    int N = z.B * z.T, E = z.H * z.hd, kvd = z.Hkv * z.hd;
    size_t natt = (size_t)z.B * z.H * z.T * z.T;
    float *q = vals((size_t)N * E, 2), *k = vals((size_t)N * kvd, 2), *v = vals((size_t)N * kvd, 1);
    float *dout = vals((size_t)N * E, 1), *out = vals((size_t)N * E, 1), *att = vals(natt, 1);
    float *rout = gt_calloc((size_t)N * E, sizeof(float)), *ratt = gt_calloc(natt, sizeof(float));
    float *dq = vals((size_t)N * E, 1), *dk = vals((size_t)N * kvd, 1), *dv = vals((size_t)N * kvd, 1);
    float *rdq = gt_calloc((size_t)N * E, sizeof(float)), *rdk = gt_calloc((size_t)N * kvd, sizeof(float));
    float *rdv = gt_calloc((size_t)N * kvd, sizeof(float));
    float *scr = gt_malloc((size_t)z.B * z.Hkv * GT_TR_ATT_ROWS * z.T * sizeof(float));
    gt_tr_attention_fwd(pool, out, att, q, k, v, z.B, z.T, z.H, z.Hkv, z.hd);
    ref_fwd(rout, ratt, q, k, v, z);
    CHECK_MSG(!memcmp(out, rout, (size_t)N * E * sizeof(float)) && !memcmp(att, ratt, natt * sizeof(float)),
              "forward B %d T %d H %d Hkv %d hd %d threads %d", z.B, z.T, z.H, z.Hkv, z.hd, n_threads(pool));
    gt_tr_attention_bwd(pool, dq, dk, dv, dout, att, q, k, v, z.B, z.T, z.H, z.Hkv, z.hd, scr);
    ref_bwd(rdq, rdk, rdv, dout, ratt, q, k, v, z);
    CHECK_MSG(!memcmp(dq, rdq, (size_t)N * E * sizeof(float)) && !memcmp(dk, rdk, (size_t)N * kvd * sizeof(float)) &&
                  !memcmp(dv, rdv, (size_t)N * kvd * sizeof(float)),
              "backward B %d T %d H %d Hkv %d hd %d threads %d", z.B, z.T, z.H, z.Hkv, z.hd, n_threads(pool));
    float *bufs[] = {q, k, v, dout, out, att, rout, ratt, dq, dk, dv, rdq, rdk, rdv, scr};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) gt_free(bufs[i]);
}

static void test_blocked(void) {
    static const shape shapes[] = {
        {1, 1, 1, 1, 8},  {2, 5, 4, 2, 8},  {1, 13, 2, 2, 16}, {3, 7, 6, 2, 32},
        {2, 33, 4, 1, 24}, {1, 64, 2, 2, 32}, {2, 9, 3, 3, 12}, {1, 6, 2, 1, 5},
    };
    gt_pool *pools[3] = {NULL, gt_pool_new(2), gt_pool_new(3)};
    int best = gt_tr_gemm_path(-1);
    fprintf(stderr, "kernel paths 0..%d\n", best);
    for (int path = 0; path <= best; path++) {
        CHECK_EQ_INT(gt_tr_gemm_path(path), path);
        for (int pi = 0; pi < 3; pi++)
            for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) check_shape(pools[pi], shapes[s]);
    }
    CHECK_EQ_INT(gt_tr_gemm_path(-1), best);
    for (int pi = 0; pi < 3; pi++) gt_pool_free(pools[pi]);
}

/* Values for the element-wise ops: uniform in [-scale, scale), with exact
 * +-0, and +-90 (exp's clamp and underflow) sprinkled in. */
static float *edge_vals(size_t n, float scale) {
    float *p = vals(n, scale);
    for (size_t i = 0; i < n; i += 7) p[i] = (i / 7) % 4 == 0 ? 0.0f : (i / 7) % 4 == 1 ? -0.0f
                                          : (i / 7) % 4 == 2 ? 90.0f : -90.0f;
    return p;
}

/* SwiGLU forward and backward before the vector exp: h = g / (1 + exp(-g)) u;
 * with e = 1 + exp(-g), s = 1 / e: du = dh g / e, dg = dh u (s (1 + g (1 - s))). */
static void ref_swiglu(float *h, float *dg, float *du, const float *dh, const float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        h[i] = g[i] / (1.0f + gt_tr_expf(-g[i])) * u[i];
        float e = 1.0f + gt_tr_expf(-g[i]), sg = 1.0f / e, silu = g[i] / e;
        du[i] = dh[i] * silu;
        dg[i] = dh[i] * u[i] * (sg * (1.0f + g[i] * (1.0f - sg)));
    }
}

/* The cross-entropy's softmax before the vector exp, row by row: the max, exp(x - max) summed in order, then
 * each times 1 / sum. */
static void ref_softmax_rows(float *x, int N, int V) {
    for (int r = 0; r < N; r++) {
        float *row = x + (size_t)r * V, mx = -INFINITY, sum = 0.0f;
        for (int i = 0; i < V; i++) mx = row[i] > mx ? row[i] : mx;
        for (int i = 0; i < V; i++) sum += (row[i] = gt_tr_expf(row[i] - mx));
        float inv = 1.0f / sum;
        for (int i = 0; i < V; i++) row[i] *= inv;
    }
}

/* Sizes past a chunk (4096) and not multiples of 8 or 16, on every path and pool. */
static void test_elementwise(void) {
    static const int64_t sizes[] = {1, 15, 4096, 4096 * 2 + 23};
    gt_pool *pools[2] = {NULL, gt_pool_new(2)};
    int best = gt_tr_gemm_path(-1);
    for (int path = 0; path <= best; path++) {
        CHECK_EQ_INT(gt_tr_gemm_path(path), path);
        for (int pi = 0; pi < 2; pi++)
            for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
                int64_t n = sizes[s];
                float *g = edge_vals((size_t)n, 8), *u = vals((size_t)n, 2), *dh = vals((size_t)n, 1);
                float *h = gt_malloc((size_t)n * 4), *dg = gt_malloc((size_t)n * 4), *du = gt_malloc((size_t)n * 4);
                float *rh = gt_malloc((size_t)n * 4), *rdg = gt_malloc((size_t)n * 4), *rdu = gt_malloc((size_t)n * 4);
                gt_tr_swiglu_fwd(pools[pi], h, g, u, n);
                gt_tr_swiglu_bwd(pools[pi], dg, du, dh, g, u, n);
                ref_swiglu(rh, rdg, rdu, dh, g, u, n);
                CHECK_MSG(!memcmp(h, rh, (size_t)n * 4) && !memcmp(dg, rdg, (size_t)n * 4) &&
                              !memcmp(du, rdu, (size_t)n * 4), "swiglu n %lld path %d", (long long)n, path);
                float *bufs[] = {g, u, dh, h, dg, du, rh, rdg, rdu};
                for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) gt_free(bufs[i]);
            }
        for (int V = 1; V <= 300; V += 37) {
            int N = 5;
            float *x = edge_vals((size_t)N * V, 20), *rx = gt_malloc((size_t)N * V * 4);
            double loss[5];
            int32_t tg[5] = {0, -1, V - 1, V / 2, 0};
            memcpy(rx, x, (size_t)N * V * 4);
            gt_tr_xent_fwd(pools[1], x, loss, tg, N, V);
            ref_softmax_rows(rx, N, V);
            CHECK_MSG(!memcmp(x, rx, (size_t)N * V * 4), "cross-entropy softmax V %d path %d", V, path);
            gt_free(x), gt_free(rx);
        }
    }
    CHECK_EQ_INT(gt_tr_gemm_path(-1), best);
    for (int pi = 0; pi < 2; pi++) gt_pool_free(pools[pi]);
}

int main(void) {
    RUN(test_blocked);
    RUN(test_elementwise);
    return gt_test_finish();
}
