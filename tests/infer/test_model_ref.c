/* test_model_ref.c: the forward pass against llama.cpp's output on the tiny
 * fixture models (.cache/fixtures/models/ *.ref.json, made by scripts/fixtures.sh
 * with tests/ref/llama_ref.c), plus determinism.
 *
 * For each prompt the reference gives the token ids, the top-8 logits at
 * every prompt position and 16 greedy steps with the top-8 before each step.
 * We feed the ids (no tokenizer needed), teacher-force the reference's greedy
 * tokens, and require at every position, for each reference top-8 token,
 * |ours - ref| <= atol + rtol * |ref| (F16/F32: 0.01, 0.005; every quantized
 * type: 0.1, 0.01, except models mostly in Q2_K or Q3_K: 0.2, 0.02; the
 * Q2_K model measured 1.11 of the common bound at its worst logit, the
 * others 0.5-0.8), and our argmax = theirs wherever their top-1/top-2 margin exceeds
 * twice that tolerance. Greedy generation must repeat their tokens up to the
 * first step whose margin is within that bound.
 *
 * Determinism: all logits memcmp-equal across 1, 2 and 3 threads, across two
 * runs, between a batch and token-by-token evaluation, and between every
 * kernel path (scalar, AVX2, AVX-512). */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "infer/kernels.h"
#include "infer/model.h"

#define MAX_SEQ 128

typedef struct ref_prompt {
    int n_prompt, n_seq;          /* prompt ids; ids + 15 greedy tokens */
    int32_t seq[MAX_SEQ];
    int greedy[16];
    int top_tok[MAX_SEQ][8];      /* reference top-8 at each position of seq */
    double top_logit[MAX_SEQ][8];
} ref_prompt;

static int load_ref(const char *path, ref_prompt **out, int *n_out) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root || !json_is_array(root)) {
        fprintf(stderr, "%s: %s\n", path, je.text);
        return -1;
    }
    int n = (int)json_array_size(root);
    ref_prompt *rp = gt_calloc((size_t)n, sizeof *rp);
    for (int i = 0; i < n; i++) {
        json_t *e = json_array_get(root, (size_t)i);
        json_t *toks = json_object_get(e, "tokens"), *pt = json_object_get(e, "prompt_top8"),
               *gr = json_object_get(e, "greedy");
        ref_prompt *r = &rp[i];
        r->n_prompt = (int)json_array_size(toks);
        for (int t = 0; t < r->n_prompt; t++) r->seq[t] = (int32_t)json_integer_value(json_array_get(toks, (size_t)t));
        for (int p = 0; p < r->n_prompt; p++)
            for (int k = 0; k < 8; k++) {
                json_t *pair = json_array_get(json_array_get(pt, (size_t)p), (size_t)k);
                r->top_tok[p][k] = (int)json_integer_value(json_array_get(pair, 0));
                r->top_logit[p][k] = json_number_value(json_array_get(pair, 1));
            }
        int ng = (int)json_array_size(gr);
        for (int s = 0; s < ng && s < 16; s++) {
            json_t *step = json_array_get(gr, (size_t)s);
            r->greedy[s] = (int)json_integer_value(json_object_get(step, "token"));
            int p = r->n_prompt - 1 + s; /* logits before step s come from position p */
            json_t *t8 = json_object_get(step, "top8");
            for (int k = 0; k < 8; k++) {
                json_t *pair = json_array_get(t8, (size_t)k);
                r->top_tok[p][k] = (int)json_integer_value(json_array_get(pair, 0));
                r->top_logit[p][k] = json_number_value(json_array_get(pair, 1));
            }
            if (s < 15) r->seq[r->n_prompt + s] = r->greedy[s];
        }
        r->n_seq = r->n_prompt + 15;
    }
    json_decref(root);
    *out = rp;
    *n_out = n;
    return 0;
}

static int argmax(const float *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

/* All logits of seq under the given settings; caller frees with gt_free. */
static float *eval_all(const gt_model *m, const ref_prompt *r, int n_threads, const gt_kern *k,
                       int one_by_one) {
    const gt_hparams *hp = gt_model_hparams(m);
    gt_ctx_params p = {.n_ctx = 512, .n_threads = n_threads, .kern = k};
    gt_ctx *c;
    gt_err err = {0};
    if (gt_ctx_new(m, &p, &c, &err)) {
        fprintf(stderr, "ctx: %s\n", err.msg);
        return NULL;
    }
    float *lg = gt_malloc((size_t)r->n_seq * hp->n_vocab * sizeof(float));
    int rc = 0;
    if (one_by_one)
        for (int t = 0; t < r->n_seq && !rc; t++)
            rc = gt_ctx_eval(c, r->seq + t, 1, t, lg + (size_t)t * hp->n_vocab, GT_EVAL_LAST, &err);
    else rc = gt_ctx_eval(c, r->seq, r->n_seq, 0, lg, GT_EVAL_ALL, &err);
    if (rc) fprintf(stderr, "eval: %s\n", err.msg);
    gt_ctx_free(c);
    return lg;
}

static void check_model(const char *gguf_path, const char *ref_path) {
    gt_model *m;
    gt_err err = {0};
    int rc = gt_model_load(gguf_path, &m, &err);
    CHECK_MSG(rc == 0, "%s: %s", gguf_path, err.msg);
    if (rc) return;
    const gt_hparams *hp = gt_model_hparams(m);
    uint32_t wt = hp->weight_type;
    int quant = wt != GT_TYPE_F32 && wt != GT_TYPE_F16 && wt != GT_TYPE_BF16; /* any quantized type */
    int coarse = wt == GT_TYPE_Q2_K || wt == GT_TYPE_Q3_K; /* 2-3 bits: see the header */
    double atol = coarse ? 0.2 : quant ? 0.1 : 0.01, rtol = coarse ? 0.02 : quant ? 0.01 : 0.005;
    ref_prompt *rp = NULL;
    int n_rp = 0;
    CHECK_MSG(load_ref(ref_path, &rp, &n_rp) == 0, "%s: cannot read the reference", ref_path);
    if (!rp) {
        gt_model_free(m);
        return;
    }
    double worst = 0; /* max |ours - ref| / tolerance */
    int n_checked = 0, n_argmax = 0;
    for (int i = 0; i < n_rp; i++) {
        ref_prompt *r = &rp[i];
        float *lg = eval_all(m, r, 1, NULL, 0);
        CHECK(lg != NULL);
        if (!lg) continue;
        for (int p = 0; p < r->n_seq; p++) {
            const float *row = lg + (size_t)p * hp->n_vocab;
            for (int k = 0; k < 8; k++) {
                double ref = r->top_logit[p][k], ours = row[r->top_tok[p][k]];
                double tol = atol + rtol * fabs(ref), d = fabs(ours - ref);
                if (d / tol > worst) worst = d / tol;
                CHECK_MSG(d <= tol, "%s prompt %d pos %d token %d: ours %.5f ref %.5f", gguf_path, i, p,
                          r->top_tok[p][k], ours, ref);
                n_checked++;
            }
            double margin = r->top_logit[p][0] - r->top_logit[p][1];
            if (margin > 2 * (atol + rtol * fabs(r->top_logit[p][0]))) {
                CHECK_MSG(argmax(row, hp->n_vocab) == r->top_tok[p][0], "%s prompt %d pos %d: argmax %d, ref %d",
                          gguf_path, i, p, argmax(row, hp->n_vocab), r->top_tok[p][0]);
                n_argmax++;
            }
        }
        /* Determinism: threads, runs, batch vs one by one, kernel paths. */
        if (i == 0) {
            size_t bytes = (size_t)r->n_seq * hp->n_vocab * sizeof(float);
            float *l2 = eval_all(m, r, 2, NULL, 0), *l3 = eval_all(m, r, 3, NULL, 0);
            float *again = eval_all(m, r, 1, NULL, 0), *single = eval_all(m, r, 2, NULL, 1);
            CHECK_MSG(l2 && !memcmp(lg, l2, bytes), "%s: 2 threads differ from 1", gguf_path);
            CHECK_MSG(l3 && !memcmp(lg, l3, bytes), "%s: 3 threads differ from 1", gguf_path);
            CHECK_MSG(again && !memcmp(lg, again, bytes), "%s: a second run differs", gguf_path);
            CHECK_MSG(single && !memcmp(lg, single, bytes), "%s: token-by-token differs from batch", gguf_path);
            for (int isa = 0; isa < GT_ISA_COUNT; isa++) {
                const gt_kern *k = gt_kern_isa((gt_isa)isa);
                if (!k) {
                    fprintf(stderr, "  (isa %d not on this CPU: %s path check SKIPPED)\n", isa, gguf_path);
                    continue;
                }
                float *lk = eval_all(m, r, 2, k, 0);
                CHECK_MSG(lk && !memcmp(lg, lk, bytes), "%s: %s kernels differ", gguf_path, k->name);
                gt_free(lk);
            }
            gt_free(l2), gt_free(l3), gt_free(again), gt_free(single);
        }
        gt_free(lg);
        /* Greedy generation: prompt, then one token at a time. */
        gt_ctx_params cp = {.n_ctx = 512, .n_threads = 2};
        gt_ctx *c;
        CHECK(gt_ctx_new(m, &cp, &c, &err) == 0);
        float *l = gt_malloc((size_t)hp->n_vocab * sizeof(float));
        CHECK(gt_ctx_eval(c, r->seq, r->n_prompt, 0, l, GT_EVAL_LAST, &err) == 0);
        for (int s = 0; s < 16; s++) {
            int p = r->n_prompt - 1 + s;
            double margin = r->top_logit[p][0] - r->top_logit[p][1];
            if (margin <= 2 * (atol + rtol * fabs(r->top_logit[p][0]))) break; /* a tie: may diverge */
            int32_t tok = argmax(l, hp->n_vocab);
            CHECK_MSG(tok == r->greedy[s], "%s prompt %d greedy step %d: %d, ref %d", gguf_path, i, s, tok,
                      r->greedy[s]);
            if (tok != r->greedy[s]) break;
            CHECK(gt_ctx_eval(c, &tok, 1, r->n_prompt + s, l, GT_EVAL_LAST, &err) == 0);
        }
        gt_free(l);
        gt_ctx_free(c);
    }
    fprintf(stderr, "  %s: %d logits checked, %d argmax, worst error %.2f of tolerance\n",
            strrchr(gguf_path, '/') + 1, n_checked, n_argmax, worst);
    gt_free(rp);
    gt_model_free(m);
}

static void test_reference_models(void) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", gt_fixture("models"));
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "no fixtures at %s", dir);
    if (!d) return;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 10 || strcmp(e->d_name + len - 9, ".ref.json")) continue;
        char ref[8400], gguf[8400];
        snprintf(ref, sizeof ref, "%s/%s", dir, e->d_name);
        snprintf(gguf, sizeof gguf, "%s/%.*s.gguf", dir, (int)(len - 9), e->d_name);
        check_model(gguf, ref);
        n++;
    }
    closedir(d);
    CHECK(n >= 25); /* the models scripts/fixtures.sh writes (15 + the 10 of ARCH_MODELS) */
}

/* Bad requests fail clearly and change nothing. */
static void test_eval_errors(void) {
    gt_model *m;
    gt_err err = {0};
    if (gt_model_load(gt_fixture("models/tiny-llama-q8_0.gguf"), &m, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    gt_ctx_params p = {.n_ctx = 8};
    gt_ctx *c;
    CHECK(gt_ctx_new(m, &p, &c, &err) == 0);
    int32_t toks[10] = {1, 15043, 3186, 1, 1, 1, 1, 1, 1, 1};
    float *l = gt_malloc(32000 * sizeof(float));
    CHECK_EQ_INT(gt_ctx_eval(c, toks, 3, 0, l, GT_EVAL_LAST, &err), 0);
    int32_t bad[2] = {5, 32000};
    CHECK_EQ_INT(gt_ctx_eval(c, bad, 2, 3, l, GT_EVAL_LAST, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "out of the vocabulary");
    CHECK_EQ_INT(gt_ctx_n_past(c), 3);
    CHECK_EQ_INT(gt_ctx_eval(c, toks, 6, 3, l, GT_EVAL_LAST, &err), GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "context full");
    CHECK_EQ_INT(gt_ctx_eval(c, toks, 1, 5, l, GT_EVAL_LAST, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_ctx_n_past(c), 3);
    /* Rewinding re-evaluates identically. */
    float *l2 = gt_malloc(32000 * sizeof(float));
    CHECK_EQ_INT(gt_ctx_eval(c, toks + 2, 1, 2, l2, GT_EVAL_LAST, &err), 0);
    CHECK(memcmp(l, l2, 32000 * sizeof(float)) == 0);
    gt_free(l), gt_free(l2);
    gt_ctx_free(c);
    gt_model_free(m);
    /* A file that is not a model. */
    CHECK(gt_model_load(gt_fixture("tokenizer/ggml-vocab-gpt-2.gguf"), &m, &err) != 0);
    fprintf(stderr, "  vocab-only file: %s\n", err.msg);
    CHECK(err.msg[0] != 0);
}

int main(void) {
    RUN(test_eval_errors);
    RUN(test_reference_models);
    return gt_test_finish();
}
