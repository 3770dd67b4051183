/* test_pf_tune.c: the K-quant decode prefetch's choice (infer/pf_tune.h):
 * the order of the timed steps, the choice by median, fixing it, and a
 * real model's decode steps reaching a choice, with logits that do not
 * depend on it, and timing again after GT_PF_RETUNE_STEPS steps. */
#include "../test.h"

#include "base/alloc.h"
#include "infer/kernels.h"
#include "infer/model.h"
#include "infer/pf_tune.h"

/* Runs the warm-up and the timed steps, feeding on_ns / off_ns as each
 * arm's step time; checks each step runs under the arm it was given. */
static void feed(uint64_t on_ns, uint64_t off_ns) {
    static const int want[2 * GT_PF_TUNE_PAIRS] = {1, 0, 0, 1, 1, 0, 0, 1};
    gt_pf_tune_reset();
    for (int i = 0; i < GT_PF_TUNE_WARM_STEPS; i++) {
        CHECK_EQ_INT(gt_pf_tune_begin(), -1);
        CHECK(gt_pf_kq_bytes() == GT_PF_KQ_BYTES);
    }
    for (int i = 0; i < 2 * GT_PF_TUNE_PAIRS; i++) {
        int arm = gt_pf_tune_begin();
        CHECK_EQ_INT(arm, want[i]);
        CHECK(gt_pf_kq_bytes() == (arm ? GT_PF_KQ_BYTES : 0u));
        const char *how;
        gt_pf_state(&how);
        CHECK(!strcmp(how, "tuning"));
        /* One outlier per arm: the median ignores it. */
        uint64_t ns = arm ? on_ns : off_ns;
        if (i == 3 || i == 6) ns *= 50;
        gt_pf_tune_end(arm, ns);
    }
}

static void test_choice(void) {
    const char *how;
    feed(900, 1000); /* prefetch faster */
    CHECK_EQ_INT(gt_pf_state(&how), 1);
    CHECK(!strcmp(how, "measured"));
    CHECK_EQ_INT(gt_pf_tune_begin(), -1); /* the choice stays */
    CHECK(gt_pf_kq_bytes() == GT_PF_KQ_BYTES);

    feed(1000, 900); /* prefetch slower */
    CHECK_EQ_INT(gt_pf_state(&how), 0);
    CHECK(!strcmp(how, "measured"));
    CHECK_EQ_INT(gt_pf_tune_begin(), -1);
    CHECK(gt_pf_kq_bytes() == 0);

    feed(1000, 1000); /* a tie keeps prefetch */
    CHECK_EQ_INT(gt_pf_state(&how), 1);
}

/* A measured choice stands GT_PF_RETUNE_STEPS one-token steps; then both
 * arms are timed again (no warm-up) and the choice may change. */
static void test_retune(void) {
    const char *how;
    feed(1000, 900); /* off */
    CHECK_EQ_INT(gt_pf_state(&how), 0);
    int timed = 0;
    for (int i = 0; i < GT_PF_RETUNE_STEPS - 1; i++) timed += gt_pf_tune_begin() >= 0;
    CHECK_EQ_INT(timed, 0);
    CHECK(gt_pf_kq_bytes() == 0);
    static const int want[2 * GT_PF_TUNE_PAIRS] = {1, 0, 0, 1, 1, 0, 0, 1};
    for (int i = 0; i < 2 * GT_PF_TUNE_PAIRS; i++) {
        int arm = gt_pf_tune_begin();
        CHECK_EQ_INT(arm, want[i]);
        gt_pf_tune_end(arm, arm ? 800 : 900); /* the host changed: on is faster now */
    }
    CHECK_EQ_INT(gt_pf_state(&how), 1);
    CHECK(!strcmp(how, "measured"));
}

/* A fix ends tuning at once; a step begun before it no longer counts. */
static void test_fix(void) {
    const char *how;
    gt_pf_tune_reset();
    for (int i = 0; i < GT_PF_TUNE_WARM_STEPS; i++) gt_pf_tune_begin();
    int arm = gt_pf_tune_begin();
    CHECK_EQ_INT(arm, 1);
    gt_pf_fix(0);
    gt_pf_tune_end(arm, 5);
    CHECK_EQ_INT(gt_pf_state(&how), 0);
    CHECK(!strcmp(how, "fixed"));
    CHECK_EQ_INT(gt_pf_tune_begin(), -1);
    int timed = 0;
    for (int i = 0; i < GT_PF_RETUNE_STEPS + 16; i++) timed += gt_pf_tune_begin() >= 0; /* fixed: never timed again */
    CHECK_EQ_INT(timed, 0);
    gt_pf_fix(1);
    CHECK_EQ_INT(gt_pf_state(&how), 1);
}

/* Greedy decode of n tokens after prompt; the last logits into out. */
static int decode(gt_model *m, int n, float *out, gt_err *err) {
    gt_ctx_params cp = {.n_ctx = 64, .n_threads = 2};
    gt_ctx *c;
    if (gt_ctx_new(m, &cp, &c, err)) return -1;
    int32_t tok = 1;
    int rc = 0;
    int n_vocab = gt_model_hparams(m)->n_vocab;
    for (int i = 0; !rc && i < n; i++) {
        rc = gt_ctx_eval(c, &tok, 1, i, out, GT_EVAL_LAST, err);
        int best = 0;
        for (int v = 1; v < n_vocab; v++)
            if (out[v] > out[best]) best = v;
        tok = best;
    }
    gt_ctx_free(c);
    return rc;
}

/* A K-quant model's one-token steps reach a choice; the logits after 16
 * steps are the same bytes under either arm and under the tuner. */
static void test_model(void) {
    gt_model *m;
    gt_err err = {0};
    if (gt_model_load(gt_fixture("models/tiny-llama-q4_k_m.gguf"), &m, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    int n_vocab = gt_model_hparams(m)->n_vocab, n = GT_PF_TUNE_WARM_STEPS + 2 * GT_PF_TUNE_PAIRS + 6;
    float *tuned = gt_malloc((size_t)n_vocab * sizeof(float)), *on = gt_malloc((size_t)n_vocab * sizeof(float)),
          *off = gt_malloc((size_t)n_vocab * sizeof(float));
    const char *how;
    gt_pf_tune_reset();
    CHECK_EQ_INT(decode(m, n, tuned, &err), 0);
    gt_pf_state(&how);
    if (gt_kern_best() == gt_kern_isa(GT_ISA_SCALAR)) {
        fprintf(stderr, "  (scalar kernels only on this CPU: no prefetch to tune, SKIPPED that check)\n");
        CHECK(!strcmp(how, "tuning"));
    } else {
        CHECK_MSG(!strcmp(how, "measured"), "after %d one-token steps the prefetch is still %s", n, how);
    }
    gt_pf_fix(1);
    CHECK_EQ_INT(decode(m, n, on, &err), 0);
    gt_pf_fix(0);
    CHECK_EQ_INT(decode(m, n, off, &err), 0);
    CHECK(memcmp(tuned, on, (size_t)n_vocab * sizeof(float)) == 0);
    CHECK(memcmp(on, off, (size_t)n_vocab * sizeof(float)) == 0);
    gt_pf_fix(1);
    gt_free(off);
    gt_free(on);
    gt_free(tuned);
    gt_model_free(m);
}

int main(void) {
    RUN(test_choice);
    RUN(test_retune);
    RUN(test_fix);
    RUN(test_model);
    return gt_test_finish();
}
