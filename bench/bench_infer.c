/* bench_infer.c: gotong's side of bench/infer.sh, measured the way
 * llama-bench measures: one warm-up, then per repetition a prompt of
 * n_prompt random tokens evaluated as one batch from an empty cache (pp), and
 * n_gen tokens evaluated one at a time from an empty cache (tg); tokens per
 * second averaged over repetitions. Prints one JSON line, with the
 * process's peak resident memory (max_rss_mb: load, cache and buffers) and
 * the K-quant decode prefetch the run used (kq_prefetch: infer/pf_tune.h;
 * the warm-up's decode steps time it unless -P fixes it).
 *
 * usage: bench_infer MODEL.gguf [-t THREADS] [-p N_PROMPT] [-n N_GEN] [-r REPS]
 *                   [-P on|off|auto] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/resource.h>

#include "base/alloc.h"
#include "infer/generate.h"
#include "infer/kernels.h"
#include "infer/model.h"
#include "infer/pf_tune.h"

/* The process's peak resident memory so far, in MiB. */
static double max_rss_mb(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? 0.0 : (double)ru.ru_maxrss / 1024.0;
}

static void stats(const double *v, int n, double *mean, double *sd) {
    double s = 0, q = 0;
    for (int i = 0; i < n; i++) s += v[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) q += (v[i] - *mean) * (v[i] - *mean);
    *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_infer MODEL.gguf [-t THREADS] [-p N_PROMPT] [-n N_GEN] [-r REPS] "
                        "[-P on|off|auto]\n");
        return 2;
    }
    int threads = 2, n_prompt = 128, n_gen = 64, reps = 3;
    for (int i = 2; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "-P")) {
            if (!strcmp(argv[i + 1], "on") || !strcmp(argv[i + 1], "off")) {
                gt_pf_fix(!strcmp(argv[i + 1], "on"));
            } else if (strcmp(argv[i + 1], "auto")) {
                fprintf(stderr, "bench_infer: -P takes on, off or auto, not %s\n", argv[i + 1]);
                return 2;
            }
        } else if (!strcmp(argv[i], "-t")) threads = v;
        else if (!strcmp(argv[i], "-p")) n_prompt = v;
        else if (!strcmp(argv[i], "-n")) n_gen = v;
        else if (!strcmp(argv[i], "-r")) reps = v;
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (threads < 1 || n_prompt < 1 || n_gen < 1 || reps < 1 || reps > 100 || n_prompt > 4096 || n_gen > 4096) {
        fprintf(stderr, "bench_infer: bad -t/-p/-n/-r values\n");
        return 2;
    }
    gt_err err = {0};
    gt_model *m;
    double t0 = gt_gen_now_ms();
    if (gt_model_load(argv[1], &m, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    double load_ms = gt_gen_now_ms() - t0;
    const gt_hparams *hp = gt_model_hparams(m);
    gt_ctx_params cp = {.n_ctx = n_prompt + n_gen + 1, .n_threads = threads, .n_batch = n_prompt};
    gt_ctx *c;
    if (gt_ctx_new(m, &cp, &c, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    int32_t *toks = gt_malloc((size_t)(n_prompt > n_gen ? n_prompt : n_gen) * sizeof(int32_t));
    float *logits = gt_malloc((size_t)hp->n_vocab * sizeof(float));
    uint64_t x = 12345;
    for (int i = 0; i < (n_prompt > n_gen ? n_prompt : n_gen); i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        toks[i] = (int32_t)((x >> 33) % (uint64_t)hp->n_vocab);
    }
    double pp[100], tg[100];
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        double a = gt_gen_now_ms();
        if (gt_ctx_eval(c, toks, n_prompt, 0, logits, GT_EVAL_LAST, &err)) goto fail;
        double b = gt_gen_now_ms();
        for (int i = 0; i < n_gen; i++)
            if (gt_ctx_eval(c, toks + i, 1, i, logits, GT_EVAL_LAST, &err)) goto fail;
        double e = gt_gen_now_ms();
        if (r >= 0) pp[r] = n_prompt / ((b - a) / 1e3), tg[r] = n_gen / ((e - b) / 1e3);
    }
    double pm, ps, tm, ts;
    const char *pf_how;
    int pf_on = gt_pf_state(&pf_how);
    stats(pp, reps, &pm, &ps);
    stats(tg, reps, &tm, &ts);
    printf("{\"model\":\"%s\",\"kernels\":\"%s\",\"threads\":%d,\"n_params\":%llu,\"weight_bytes\":%zu,"
           "\"load_ms\":%.1f,\"pp\":%d,\"pp_tok_s\":%.3f,\"pp_sd\":%.3f,\"tg\":%d,\"tg_tok_s\":%.3f,\"tg_sd\":%.3f,"
           "\"max_rss_mb\":%.1f,\"kq_prefetch\":\"%s\",\"kq_prefetch_how\":\"%s\"}\n",
           argv[1], gt_kern_best()->name, threads, (unsigned long long)gt_model_n_params(m), gt_model_weight_bytes(m),
           load_ms, n_prompt, pm, ps, n_gen, tm, ts, max_rss_mb(), pf_on ? "on" : "off", pf_how);
    gt_free(toks);
    gt_free(logits);
    gt_ctx_free(c);
    gt_model_free(m);
    return 0;
fail:
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
}
