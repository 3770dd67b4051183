/* bench_infer_kern.c: one matmul kernel on one thread, timed by the thread's
 * own CPU clock (CLOCK_THREAD_CPUTIME_ID), so that other processes sharing
 * the machine change the figure far less than they change wall time. The
 * best of REPS calls is kept. Prints one JSON line per kernel path:
 * microseconds per call and multiply-adds per nanosecond.
 *
 * usage: bench_infer_kern TYPE ROWS COLS TOKENS [REPS] [ISA|all] [CHUNK]
 *   TYPE: any type the kernels take (f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1
 *   iq4_nl q2_k q3_k q4_k q5_k q6_k iq4_xs); ISA: scalar avx2 avx512 (default
 *   or all: the SIMD ones this CPU has, scalar only when named); CHUNK: tiles
 *   per matmul call (default: the whole matrix in one; the engine's prefill
 *   calls 4 at a time). Each timed product starts from activations marked
 *   stale, so a K-quant product includes its one Q8_K quantization. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/alloc.h"
#include "infer/gguf.h"
#include "infer/kernels.h"
#include "infer/quantize.h"

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t rnd(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33);
}
static float rndf(void) { return (float)rnd() / 2147483648.0f - 1.0f; }

static double thread_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The other quantized types: random floats through their quantizer. */
static void *make_quantized(uint32_t type, int rows, int cols) {
    size_t rb = gt_ggml_row_bytes(type, (uint64_t)cols);
    uint8_t *m = gt_malloc(rb * (size_t)rows);
    float *x = gt_malloc((size_t)cols * sizeof(float));
    if (!m || !x) {
        gt_free(m);
        gt_free(x);
        return NULL;
    }
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) x[c] = 0.05f * rndf();
        gt_quantize_row(type, x, m + rb * (size_t)r, cols);
    }
    gt_free(x);
    return m;
}

/* A random GGUF matrix; caller frees with gt_free. */
static void *make_matrix(uint32_t type, int rows, int cols) {
    if (type != GT_TYPE_F32 && type != GT_TYPE_F16 && type != GT_TYPE_BF16 && type != GT_TYPE_Q8_0 &&
        type != GT_TYPE_Q4_0)
        return make_quantized(type, rows, cols);
    size_t rb = gt_ggml_row_bytes(type, (uint64_t)cols);
    uint8_t *m = gt_malloc(rb * (size_t)rows);
    if (!m) return NULL;
    for (size_t i = 0; i < rb * (size_t)rows; i++) m[i] = (uint8_t)rnd();
    /* Sane scales and floats (random bytes would give NaNs and huge values). */
    for (int r = 0; r < rows; r++) {
        uint8_t *row = m + rb * (size_t)r;
        if (type == GT_TYPE_Q8_0 || type == GT_TYPE_Q4_0) {
            size_t bb = type == GT_TYPE_Q8_0 ? sizeof(gt_block_q8_0) : sizeof(gt_block_q4_0);
            for (int b = 0; b < cols / 32; b++) {
                gt_f16 d = gt_f32_to_f16(0.01f * (1.0f + rndf()));
                memcpy(row + bb * (size_t)b, &d, 2);
            }
        } else
            for (int c = 0; c < cols; c++) {
                float v = rndf();
                if (type == GT_TYPE_F32) memcpy(row + 4 * (size_t)c, &v, 4);
                else {
                    uint32_t u;
                    memcpy(&u, &v, 4);
                    uint16_t h = type == GT_TYPE_F16 ? gt_f32_to_f16(v) : (uint16_t)(u >> 16);
                    memcpy(row + 2 * (size_t)c, &h, 2);
                }
            }
    }
    return m;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: bench_infer_kern TYPE ROWS COLS TOKENS [REPS] [ISA|all] [CHUNK]\n");
        return 2;
    }
    uint32_t type = GT_TYPE_COUNT;
    const char *tn = argv[1];
    for (uint32_t t = 0; t < GT_TYPE_COUNT; t++)
        if (gt_kern_type_ok(t) && !strcasecmp(tn, gt_ggml_type_name(t))) type = t;
    if (type == GT_TYPE_COUNT) {
        fprintf(stderr, "bench_infer_kern: type %s: expected a type the kernels take (f32, f16, bf16, q8_0, q4_0, "
                        "q4_1, q5_0, q5_1, iq4_nl, q2_k .. q6_k, iq4_xs)\n", tn);
        return 2;
    }
    int rows = atoi(argv[2]), cols = atoi(argv[3]), n_tok = atoi(argv[4]);
    int reps = argc > 5 ? atoi(argv[5]) : 20;
    const char *only = argc > 6 && strcmp(argv[6], "all") ? argv[6] : NULL;
    int chunk = argc > 7 ? atoi(argv[7]) : 1 << 20;
    if (rows < 1 || rows > 1 << 20 || cols < 32 || cols % 32 || cols > 1 << 16 || n_tok < 1 ||
        n_tok > 4096 || reps < 1 || reps > 100000 || chunk < 1) {
        fprintf(stderr, "bench_infer_kern: bad sizes (rows >= 1, cols a multiple of 32, 1..4096 tokens, chunk >= 1)\n");
        return 2;
    }
    void *g = make_matrix(type, rows, cols);
    gt_qmat m;
    gt_err err = {0};
    double pack_t0 = thread_ns(); /* the load-time cost of the tiled layout */
    if (!g || gt_qmat_pack(&m, type, g, rows, cols, &err)) {
        fprintf(stderr, "bench_infer_kern: %s\n", g ? err.msg : "out of memory");
        return 1;
    }
    double pack_ns = thread_ns() - pack_t0;
    float *x = gt_malloc((size_t)cols * sizeof(float));
    float *y = gt_malloc((size_t)rows * (size_t)n_tok * sizeof(float));
    gt_act a;
    if (!x || !y || gt_act_init(&a, n_tok, cols)) {
        fprintf(stderr, "bench_infer_kern: out of memory\n");
        return 1;
    }
    a.n_tok = n_tok;
    static const char *names[] = {"scalar", "avx2", "avx512"};
    for (int isa = 0; isa < GT_ISA_COUNT; isa++) {
        if (only ? strcmp(only, names[isa]) : isa == GT_ISA_SCALAR) continue;
        const gt_kern *k = gt_kern_isa((gt_isa)isa);
        if (!k) continue;
        for (int t = 0; t < n_tok; t++) {
            for (int c = 0; c < cols; c++) x[c] = rndf();
#ifdef GT_KERN_SB /* the layout before 16-row tiles (for A/B runs of old trees) */
            k->act_set(&a, t, x, 1);
#else
            k->act_set(&a, t, x, 0, cols, 1);
#endif
        }
        double best = 1e300;
        for (int r = 0; r < reps; r++) {
            for (int t = 0; t < n_tok; t++) gt_act_stale(&a, t, 0, cols); /* each call quantizes, as in a pass */
            double t0 = thread_ns();
            for (int c0 = 0; c0 < m.n_tiles; c0 += chunk)
                k->matmul(&m, c0, c0 + chunk < m.n_tiles ? c0 + chunk : m.n_tiles, &a, y, (size_t)rows);
            double ns = thread_ns() - t0;
            best = ns < best ? ns : best;
        }
        double macs = (double)rows * cols * n_tok;
        printf("{\"kernels\":\"%s\",\"type\":\"%s\",\"rows\":%d,\"cols\":%d,\"tokens\":%d,\"us\":%.1f,"
               "\"mac_per_ns\":%.2f,\"weight_gb_s\":%.2f,\"pack_us\":%.1f}\n",
               k->name, tn, rows, cols, n_tok, best / 1e3, macs / best, gt_qmat_bytes(&m) / best, pack_ns / 1e3);
        fflush(stdout);
    }
    gt_act_free(&a);
    gt_free(x);
    gt_free(y);
    gt_qmat_free(&m);
    gt_free(g);
    return 0;
}
