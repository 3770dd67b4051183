/* infer_peer.c: llama.cpp's side of bench/infer.sh, measured exactly as
 * bench_infer.c measures gotong: one warm-up, then per repetition a prompt
 * of n_prompt random tokens evaluated as one batch from an empty cache (pp),
 * and n_gen tokens evaluated one at a time from an empty cache (tg); tokens
 * per second averaged over repetitions. Prints one JSON line.
 *
 *   infer_peer MODEL.gguf [-t THREADS] [-p N_PROMPT] [-n N_GEN] [-r REPS]
 *              [-fa -1|0|1] [-mmap 0|1]
 *
 * It links the prebuilt libllama that scripts/setup.sh takes from npm
 * (@node-llama-cpp/linux-x64: llama.cpp as node-llama-cpp's users run it,
 * its CPU backend chosen at run time among the variants shipped beside it),
 * so it is built by bench/infer.sh with cc against .cache/libllama, never by
 * the project's build: gotong does not link llama.cpp. The batch is the
 * whole prompt (n_batch = n_ubatch = n_prompt: one graph, llama.cpp's best
 * case for prefill); -fa is llama.cpp's flash-attention setting (auto by
 * default); -mmap 0 loads weights into anonymous memory (llama.cpp's repacked
 * Q4_0/Q4_K/IQ4_NL weights are copies either way). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ggml-backend.h"
#include "llama.h"

/* Build facts of libllama-common (the same release as libllama). */
extern int LLAMA_BUILD_NUMBER;
extern const char *LLAMA_COMMIT;
extern const char *LLAMA_COMPILER;
extern const char *LLAMA_BUILD_TARGET;

#define MAX_REPS 100
#define MAX_TOKENS 4096

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

/* Evaluates n tokens at positions pos0.. as one batch (logits of the last
 * only), waiting for the backend to finish. 0 on success. */
static int eval(struct llama_context *ctx, struct llama_batch *b, const llama_token *toks, int n, int pos0) {
    b->n_tokens = n;
    for (int i = 0; i < n; i++) {
        b->token[i] = toks[i];
        b->pos[i] = pos0 + i;
        b->n_seq_id[i] = 1;
        b->seq_id[i][0] = 0;
        b->logits[i] = i == n - 1;
    }
    int rc = llama_decode(ctx, *b);
    llama_synchronize(ctx);
    return rc;
}

/* One repetition: prompt from an empty cache, then generation from an empty
 * cache; the two rates into *pp, *tg. 0 on success. */
static int rep(struct llama_context *ctx, struct llama_batch *b, const llama_token *toks, int n_prompt, int n_gen,
               double *pp, double *tg) {
    llama_memory_clear(llama_get_memory(ctx), true);
    double t0 = now_ms();
    if (eval(ctx, b, toks, n_prompt, 0)) return 1;
    double t1 = now_ms();
    llama_memory_clear(llama_get_memory(ctx), true);
    double t2 = now_ms();
    for (int i = 0; i < n_gen; i++)
        if (eval(ctx, b, toks + i, 1, i)) return 1;
    double t3 = now_ms();
    *pp = n_prompt / ((t1 - t0) / 1e3);
    *tg = n_gen / ((t3 - t2) / 1e3);
    return 0;
}

/* The process's peak resident memory so far, in MiB (bench_infer.c's measure). */
static double max_rss_mb(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? 0.0 : (double)ru.ru_maxrss / 1024.0;
}

static double mean(const double *v, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return s / n;
}

/* The system line without its trailing separator, for JSON (no quotes or
 * backslashes in it: llama.cpp prints names and 0/1). */
static void json_safe(char *dst, size_t cap, const char *src) {
    size_t j = 0;
    for (; *src && j + 1 < cap; src++)
        if (*src != '"' && *src != '\\' && *src != '\n') dst[j++] = *src;
    dst[j] = 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: infer_peer MODEL.gguf [-t THREADS] [-p N_PROMPT] [-n N_GEN] [-r REPS] "
                        "[-fa -1|0|1] [-mmap 0|1]\n");
        return 2;
    }
    int threads = 2, n_prompt = 128, n_gen = 64, reps = 3, fa = -1, mmap = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "-t")) threads = v;
        else if (!strcmp(argv[i], "-p")) n_prompt = v;
        else if (!strcmp(argv[i], "-n")) n_gen = v;
        else if (!strcmp(argv[i], "-r")) reps = v;
        else if (!strcmp(argv[i], "-fa")) fa = v;
        else if (!strcmp(argv[i], "-mmap")) mmap = v;
        else {
            fprintf(stderr, "infer_peer: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (threads < 1 || threads > 256 || n_prompt < 1 || n_gen < 1 || reps < 1 || reps > MAX_REPS ||
        n_prompt > MAX_TOKENS || n_gen > MAX_TOKENS || fa < -1 || fa > 1 || (mmap != 0 && mmap != 1)) {
        fprintf(stderr, "infer_peer: bad values: -t 1..256, -p/-n 1..%d, -r 1..%d, -fa -1..1, -mmap 0|1\n",
                MAX_TOKENS, MAX_REPS);
        return 2;
    }
    llama_log_set(quiet, NULL);
    ggml_backend_load_all_from_path(LLAMA_LIB_DIR); /* the CPU variants shipped beside libllama */
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.load_mode = mmap ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
    double t0 = now_ms();
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        fprintf(stderr, "infer_peer: llama.cpp cannot load %s\n", argv[1]);
        return 1;
    }
    double load_ms = now_ms() - t0;
    struct llama_context_params cp = llama_context_default_params();
    int n_max = n_prompt > n_gen ? n_prompt : n_gen;
    cp.n_ctx = (uint32_t)(n_max + 1);
    cp.n_batch = cp.n_ubatch = (uint32_t)n_prompt;
    cp.n_threads = cp.n_threads_batch = threads;
    cp.flash_attn_type = (enum llama_flash_attn_type)fa;
    cp.no_perf = true;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        fprintf(stderr, "infer_peer: cannot make a context\n");
        return 1;
    }
    int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_token *toks = malloc((size_t)n_max * sizeof *toks);
    struct llama_batch b = llama_batch_init(n_max, 0, 1);
    if (!toks) return 1;
    uint64_t x = 12345; /* bench_infer.c's token sequence */
    for (int i = 0; i < n_max; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        toks[i] = (llama_token)((x >> 33) % (uint64_t)n_vocab);
    }
    double pp[MAX_REPS], tg[MAX_REPS], wpp, wtg;
    if (rep(ctx, &b, toks, n_prompt, n_gen, &wpp, &wtg)) goto fail; /* warm-up */
    for (int r = 0; r < reps; r++)
        if (rep(ctx, &b, toks, n_prompt, n_gen, &pp[r], &tg[r])) goto fail;
    char sys[1024];
    json_safe(sys, sizeof sys, llama_print_system_info());
    printf("{\"peer\":\"llama.cpp\",\"build\":%d,\"commit\":\"%s\",\"compiler\":\"%s\",\"target\":\"%s\","
           "\"system\":\"%s\",\"threads\":%d,\"n_batch\":%d,\"flash_attn\":%d,\"mmap\":%d,\"n_params\":%llu,"
           "\"model_bytes\":%llu,\"load_ms\":%.1f,\"pp\":%d,\"pp_tok_s\":%.3f,\"tg\":%d,\"tg_tok_s\":%.3f,"
           "\"max_rss_mb\":%.1f}\n",
           LLAMA_BUILD_NUMBER, LLAMA_COMMIT, LLAMA_COMPILER, LLAMA_BUILD_TARGET, sys, threads, n_prompt, fa, mmap,
           (unsigned long long)llama_model_n_params(model), (unsigned long long)llama_model_size(model), load_ms,
           n_prompt, mean(pp, reps), n_gen, mean(tg, reps), max_rss_mb());
    llama_batch_free(b);
    free(toks);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
fail:
    fprintf(stderr, "infer_peer: llama_decode failed\n");
    return 1;
}
