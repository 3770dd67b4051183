/* bench_train.c: gotong's training speed, and the machine's f32 FLOP peak
 * measured in the same run, for bench/train.sh (which runs PyTorch on the
 * same model beside it).
 *
 * usage: bench_train VOCAB DIM LAYERS HEADS KV_HEADS FF SEQ BATCH THREADS STEPS
 *        bench_train --peak THREADS
 * The first times STEPS optimizer steps (forward, backward, AdamW with
 * clipping) of a seeded model on seeded random tokens, after one untimed
 * step, and prints one JSON line: tokens_per_s, params, step_s, loss and
 * weights (the first 16 hex digits of the trained weights' sha256, so that a
 * faster kernel can be checked to train the same bytes). The second
 * prints the f32 FMA peak of THREADS threads (GFLOP/s): independent chains
 * of 8-wide (AVX2) or 16-wide (AVX-512) fused multiply-adds, enough of them
 * to hide the FMA latency, the best of 5 rounds. */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/progress.h"
#include "crypto/sha256.h"
#include "train/trainer.h"

#define PEAK_ITERS 20000000L
#define PEAK_MAX_THREADS 64

/* 12 independent chains of 8-wide FMAs: flops = iters * 12 * 8 * 2. */
__attribute__((target("avx2,fma"))) static float fma_avx2(long iters) {
    __m256 a[12], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < iters; n++)
#pragma GCC unroll 12 /* all 12 chains in registers: a rolled loop keeps a[] in memory, and then the
                         store-to-load latency, not the FMA units, sets the pace (a peak ~20 % low) */
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
    __m256 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, a[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}

/* The same 16 wide. */
__attribute__((target("avx512f"))) static float fma_avx512(long iters) {
    __m512 a[12], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < iters; n++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
    __m512 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

static int use_avx512;
static volatile float peak_sink;

static void *peak_thread(void *arg) {
    (void)arg;
    peak_sink = use_avx512 ? fma_avx512(PEAK_ITERS / 2) : fma_avx2(PEAK_ITERS);
    return NULL;
}

/* The f32 FMA peak of n threads in GFLOP/s (best of 5 rounds). */
static double peak_gflops(int n) {
    use_avx512 = __builtin_cpu_supports("avx512f");
    double flops = (double)PEAK_ITERS * 12 * 8 * 2 * n, best = 0;
    for (int round = 0; round < 5; round++) {
        pthread_t th[PEAK_MAX_THREADS];
        double t0 = gt_now_s();
        for (int i = 0; i < n; i++) pthread_create(&th[i], NULL, peak_thread, NULL);
        for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
        double g = flops / (gt_now_s() - t0) / 1e9;
        best = g > best ? g : best;
    }
    return best;
}

/* Seeded tokens in [0, V): a step's batch. */
static void fill(int32_t *tok, int32_t *tgt, size_t n, int V, uint64_t *s) {
    for (size_t i = 0; i <= n; i++) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        int32_t x = (int32_t)((*s >> 33) % (uint64_t)V);
        if (i < n) tok[i] = x;
        if (i > 0) tgt[i - 1] = x;
    }
}

static int bench_steps(const gt_train_hparams *hp, int threads, int steps) {
    gt_trainer *t = NULL;
    gt_err err = {0};
    if (gt_trainer_new(hp, threads, &t, &err)) return fprintf(stderr, "bench_train: %s\n", err.msg), 1;
    size_t n = (size_t)hp->batch * hp->seq_len;
    int32_t *tok = gt_malloc(n * sizeof(int32_t)), *tgt = gt_malloc(n * sizeof(int32_t));
    gt_train_opt o = gt_train_opt_default();
    o.total_steps = steps + 1;
    uint64_t s = 1;
    double t0 = 0, loss = 0;
    for (int i = 0; i <= steps && tok && tgt; i++) {
        if (i == 1) t0 = gt_now_s();
        fill(tok, tgt, n, hp->n_vocab, &s);
        if (gt_trainer_forward(t, tok, tgt, &loss, &err)) return fprintf(stderr, "bench_train: %s\n", err.msg), 1;
        gt_trainer_backward(t, 1.0f / (float)n);
        gt_trainer_step(t, &o, NULL);
    }
    double el = gt_now_s() - t0;
    uint8_t h[32];
    gt_sha256(gt_trainer_params(t), gt_trainer_n_params(t) * sizeof(float), h);
    printf("{\"tokens_per_s\": %.1f, \"params\": %zu, \"step_s\": %.4f, \"loss\": %.4f, \"weights\": "
           "\"%02x%02x%02x%02x%02x%02x%02x%02x\"}\n",
           (double)steps * n / el, gt_trainer_n_params(t), el / steps, loss, h[0], h[1], h[2], h[3], h[4], h[5], h[6],
           h[7]);
    gt_free(tok), gt_free(tgt);
    gt_trainer_free(t);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--peak")) {
        int n = atoi(argv[2]);
        if (n < 1 || n > PEAK_MAX_THREADS) return fprintf(stderr, "bench_train --peak THREADS (1..64)\n"), 2;
        double peak = peak_gflops(n); /* sets use_avx512 */
        printf("{\"peak_gflops\": %.2f, \"isa\": \"%s\"}\n", peak, use_avx512 ? "avx512" : "avx2");
        return 0;
    }
    if (argc != 11) {
        fprintf(stderr, "usage: bench_train VOCAB DIM LAYERS HEADS KV_HEADS FF SEQ BATCH THREADS STEPS\n"
                        "       bench_train --peak THREADS\n");
        return 2;
    }
    int v[10];
    for (int i = 0; i < 10; i++) v[i] = atoi(argv[i + 1]);
    gt_train_hparams hp = {.n_vocab = v[0], .dim = v[1], .n_layer = v[2], .n_head = v[3], .n_head_kv = v[4],
                           .n_ff = v[5], .seq_len = v[6], .batch = v[7], .seed = 1};
    if (v[9] < 1 || v[9] > 100000) return fprintf(stderr, "bench_train: STEPS 1..100000\n"), 2;
    return bench_steps(&hp, v[8], v[9]);
}
