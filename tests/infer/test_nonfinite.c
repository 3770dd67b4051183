/* test_nonfinite.c: a model file whose weights make NaNs and infinities in
 * the activations still gives the same logits on every kernel path and
 * thread count. Verification re-runs a worker's job on the verifier's CPU,
 * so a poster's hostile model that made an AVX2 machine and an AVX-512 one
 * disagree would have honest parties slashed. Tiny models (tests/fuzz's
 * tiny_model.h, written by gotong's GGUF writer) with a NaN or an infinity
 * planted in a norm weight, a lane of the later half of a block included,
 * run three tokens in a child per path (the path is chosen once per
 * process: GOTONG_ISA) and send their logits back; every path's must equal
 * the scalar one's, any NaN standing for any other (a NaN's payload is not
 * what a verifier reads: the greedy choice and the finite logits are). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "../fuzz/tiny_model.h"
#include "base/alloc.h"
#include "infer/gguf.h"
#include "infer/kernels.h"
#include "infer/model.h"

static const tiny_spec specs[] = {
    {"llama", 0, GT_TYPE_Q8_0, GT_TYPE_Q8_0, 64, 1, 1, 0, 0, NULL},
    {"qwen2", 1, GT_TYPE_Q8_0, GT_TYPE_Q4_K, 256, 1, 2, 1, 0, NULL}, /* Q8_K activations */
    {"qwen3", 1, GT_TYPE_F16, GT_TYPE_F16, 64, 1, 1, 1, 0, NULL},
    {"gemma3", 0, GT_TYPE_Q4_0, GT_TYPE_Q6_K, 256, 2, 1, 1, 4, NULL},
};
#define N_SPECS ((int)(sizeof specs / sizeof specs[0]))

/* What is planted where: a value at a lane of a norm weight (F32). */
typedef struct plant {
    const char *tensor;
    int lane;
    float value;
} plant;

static const plant plants[] = {
    {NULL, 0, 0.0f},                          /* none: the reference point */
    {"blk.0.attn_norm.weight", 27, NAN},      /* a later lane of the block of 32 */
    {"blk.0.ffn_norm.weight", 3, INFINITY},   /* an infinity: inf * 0 makes NaNs */
    {"output_norm.weight", 20, -INFINITY},
};
#define N_PLANTS ((int)(sizeof plants / sizeof plants[0]))
#define N_TOK 3

/* The model of spec s with p planted, parsed (gt_gguf_close or the model
 * takes it); NULL on failure. bytes must outlive it. */
static gt_gguf *planted_model(const tiny_spec *s, const plant *p, uint8_t **bytes) {
    size_t len = 0;
    gt_err err = {0};
    gt_gguf *g = NULL;
    if (tiny_model(s, bytes, &len, &err) || gt_gguf_parse(*bytes, len, &g, &err)) return NULL;
    if (!p->tensor) return g;
    const gt_gguf_tensor *t = gt_gguf_find_tensor(g, p->tensor);
    if (!t || t->type != GT_TYPE_F32 || (uint64_t)p->lane >= t->ne[0]) {
        gt_gguf_close(g);
        return NULL;
    }
    /* the parse points into bytes: write the value there */
    memcpy((uint8_t *)(uintptr_t)t->data + (size_t)p->lane * sizeof(float), &p->value, sizeof(float));
    return g;
}

/* Runs N_TOK tokens through the model (n_threads) into logits; 0 or -1. */
static int run_model(gt_gguf *g, int n_threads, float *logits, int n_vocab) {
    gt_model *m = NULL;
    gt_err err = {0};
    if (gt_model_from_gguf(g, &m, &err)) return -1;
    if (gt_model_hparams(m)->n_vocab != n_vocab) {
        gt_model_free(m);
        return -1;
    }
    gt_ctx_params cp = {.n_ctx = 8, .n_threads = n_threads, .n_batch = N_TOK};
    gt_ctx *c = NULL;
    int32_t toks[N_TOK] = {1, n_vocab - 1, n_vocab / 2};
    int rc = gt_ctx_new(m, &cp, &c, &err) || gt_ctx_eval(c, toks, N_TOK, 0, logits, GT_EVAL_ALL, &err) ? -1 : 0;
    gt_ctx_free(c);
    gt_model_free(m);
    return rc;
}

/* In a child with GOTONG_ISA=isa: the logits of every (spec, plant) at
 * n_threads, written to fd, each preceded by its status. */
static void child_run(const char *isa, int n_threads, int fd) {
    setenv("GOTONG_ISA", isa, 1);
    for (int si = 0; si < N_SPECS; si++)
        for (int pi = 0; pi < N_PLANTS; pi++) {
            int n_vocab = (int)(specs[si].bpe ? TINY_N(tiny_bpe_tokens) : TINY_N(tiny_spm_tokens));
            float *logits = gt_calloc((size_t)N_TOK * (size_t)n_vocab, sizeof(float));
            uint8_t *bytes = NULL;
            gt_gguf *g = logits ? planted_model(&specs[si], &plants[pi], &bytes) : NULL;
            int status = g ? run_model(g, n_threads, logits, n_vocab) : -1; /* the model closes g */
            if (write(fd, &status, sizeof status) != (ssize_t)sizeof status ||
                write(fd, logits, (size_t)N_TOK * (size_t)n_vocab * sizeof(float)) < 0)
                _exit(2);
            gt_free(bytes);
            gt_free(logits);
        }
    _exit(0);
}

/* Reads exactly n bytes from fd; 0 or -1. */
static int read_all(int fd, void *buf, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (uint8_t *)buf + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Every (spec, plant)'s status and logits from a child of isa at n_threads:
 * out[si][pi] (gt_free each); 0 or -1. */
static int collect(const char *isa, int n_threads, float *out[N_SPECS][N_PLANTS], int status[N_SPECS][N_PLANTS]) {
    int p[2];
    if (pipe(p)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        child_run(isa, n_threads, p[1]);
    }
    close(p[1]);
    int rc = pid < 0 ? -1 : 0;
    for (int si = 0; !rc && si < N_SPECS; si++)
        for (int pi = 0; !rc && pi < N_PLANTS; pi++) {
            size_t n = (size_t)N_TOK * (specs[si].bpe ? TINY_N(tiny_bpe_tokens) : TINY_N(tiny_spm_tokens));
            out[si][pi] = gt_malloc(n * sizeof(float));
            rc = !out[si][pi] || read_all(p[0], &status[si][pi], sizeof(int)) ||
                 read_all(p[0], out[si][pi], n * sizeof(float));
        }
    close(p[0]);
    int ws = 0;
    if (pid > 0) waitpid(pid, &ws, 0);
    return rc || !WIFEXITED(ws) || WEXITSTATUS(ws) ? -1 : 0;
}

/* Equal logits, any NaN standing for any other; the count of NaNs in *nans. */
static int same_logits(const float *a, const float *b, size_t n, int *nans) {
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) || isnan(b[i])) {
            if (!(isnan(a[i]) && isnan(b[i]))) return 0;
            (*nans)++;
        } else if (memcmp(&a[i], &b[i], sizeof(float))) {
            return 0;
        }
    }
    return 1;
}

static void test_paths_agree(void) {
    static const char *const isas[] = {"scalar", "avx2", "avx512"};
    static float *ref[N_SPECS][N_PLANTS], *got[N_SPECS][N_PLANTS];
    int ref_status[N_SPECS][N_PLANTS], got_status[N_SPECS][N_PLANTS];
    CHECK_EQ_INT(collect("scalar", 1, ref, ref_status), 0);
    int nonfinite_runs = 0;
    for (int run = 0; run < 6; run++) {
        const char *isa = isas[run / 2];
        int n_threads = 1 + 2 * (run % 2); /* 1 and 3 */
        if (!gt_kern_isa((gt_isa)(run / 2))) {
            if (run % 2 == 0) fprintf(stderr, "  SKIPPED: no %s on this CPU: its path is not compared\n", isa);
            continue;
        }
        CHECK_EQ_INT(collect(isa, n_threads, got, got_status), 0);
        for (int si = 0; si < N_SPECS; si++)
            for (int pi = 0; pi < N_PLANTS; pi++) {
                size_t n = (size_t)N_TOK * (specs[si].bpe ? TINY_N(tiny_bpe_tokens) : TINY_N(tiny_spm_tokens));
                int nans = 0;
                CHECK_MSG(ref_status[si][pi] == 0 && got_status[si][pi] == 0, "%s %s plant %d: did not run",
                          isa, specs[si].arch, pi);
                CHECK_MSG(ref[si][pi] && got[si][pi] && same_logits(ref[si][pi], got[si][pi], n, &nans),
                          "%s with %d threads, %s with plant %d: logits differ from the scalar path's", isa,
                          n_threads, specs[si].arch, pi);
                for (size_t i = 0; pi && ref[si][pi] && i < n; i++) nonfinite_runs += !isfinite(ref[si][pi][i]);
                gt_free(got[si][pi]);
            }
    }
    /* The plants must reach the logits, or this compares nothing new; and
     * some must come out finite though changed (a NaN quantized away by an
     * integer path), which is where the paths used to part. */
    int changed_finite = 0;
    for (int si = 0; si < N_SPECS; si++)
        for (int pi = 1; pi < N_PLANTS; pi++) {
            size_t n = (size_t)N_TOK * (specs[si].bpe ? TINY_N(tiny_bpe_tokens) : TINY_N(tiny_spm_tokens));
            for (size_t i = 0; ref[si][pi] && ref[si][0] && i < n; i++)
                changed_finite += isfinite(ref[si][pi][i]) && memcmp(&ref[si][pi][i], &ref[si][0][i], 4);
        }
    fprintf(stderr, "  %d logits not finite, %d finite but moved by a plant\n", nonfinite_runs, changed_finite);
    CHECK_MSG(nonfinite_runs > 0, "no planted value made a logit that is not finite");
    CHECK_MSG(changed_finite > 0, "no planted value moved a finite logit");
    for (int si = 0; si < N_SPECS; si++)
        for (int pi = 0; pi < N_PLANTS; pi++) gt_free(ref[si][pi]);
}

int main(void) {
    RUN(test_paths_agree);
    return gt_test_finish();
}
