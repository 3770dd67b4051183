/* test_train_engine: a model trained here, written as GGUF, runs in
 * gotong's engine: the engine's logits equal the trainer's own forward pass
 * within a stated tolerance, and greedy decoding continues the memorised
 * training sequence.
 *
 * Tolerance: the engine keeps keys and values in f16 (as llama.cpp's cache
 * does) and sums dot products in another fixed order, so logits agree to
 * |engine - trainer| <= 4e-3 + 2e-3 |trainer| (measured: 6.7e-4 at worst). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "infer/model.h"
#include "train/trainer.h"

#define T_SEQ 24

static void test_engine_matches(void) {
    gt_train_hparams hp = {.n_vocab = 64, .dim = 64, .n_layer = 2, .n_head = 4, .n_head_kv = 2,
                           .n_ff = 128, .seq_len = T_SEQ, .batch = 1, .seed = 11, .init_std = 0.05f};
    gt_trainer *t;
    gt_err err = {0};
    CHECK_EQ_INT(gt_trainer_new(&hp, 2, &t, &err), 0);
    /* One sequence of distinct-context tokens to memorise. */
    int32_t seq[T_SEQ + 1], tgt[T_SEQ];
    uint32_t s = 12345;
    for (int i = 0; i <= T_SEQ; i++) s = s * 1664525u + 1013904223u, seq[i] = (int32_t)((s >> 16) % 64);
    for (int i = 0; i < T_SEQ; i++) tgt[i] = seq[i + 1];
    gt_train_opt o = gt_train_opt_default();
    o.lr = 1e-2f, o.min_lr = 1e-3f, o.warmup_steps = 5, o.total_steps = 100, o.weight_decay = 0;
    double loss = 0;
    for (int step = 0; step < 100; step++) {
        CHECK_EQ_INT(gt_trainer_forward(t, seq, tgt, &loss, &err), 0);
        gt_trainer_backward(t, 1.0f / T_SEQ);
        gt_trainer_step(t, &o, NULL);
    }
    CHECK_EQ_INT(gt_trainer_forward(t, seq, tgt, &loss, &err), 0);
    fprintf(stderr, "  loss after 100 steps: %.5f\n", loss);
    CHECK_MSG(loss < 0.05, "loss %g: the sequence was not memorised", loss);
    CHECK_EQ_INT(gt_trainer_forward(t, seq, NULL, NULL, &err), 0);
    float *mine = gt_malloc(T_SEQ * 64 * sizeof(float));
    memcpy(mine, gt_trainer_logits(t), T_SEQ * 64 * sizeof(float));

    const char *path = GT_BINARY_DIR "/test_train_engine.gguf";
    CHECK_EQ_INT(gt_trainer_save_gguf(t, NULL, "test", path, &err), 0);
    gt_model *m = NULL;
    CHECK_MSG(gt_model_load(path, &m, &err) == 0, "%s", err.msg);
    gt_ctx *c = NULL;
    gt_ctx_params cp = {.n_ctx = T_SEQ, .n_threads = 1};
    if (m) CHECK_MSG(gt_ctx_new(m, &cp, &c, &err) == 0, "%s", err.msg);
    if (!c) goto done;
    CHECK_EQ_INT((int)gt_model_n_params(m), (int)gt_trainer_n_params(t));
    float *eng = gt_malloc(T_SEQ * 64 * sizeof(float));
    CHECK_EQ_INT(gt_ctx_eval(c, seq, T_SEQ, 0, eng, GT_EVAL_ALL, &err), 0);
    double worst = 0, worst_abs = 0;
    for (int i = 0; i < T_SEQ * 64; i++) {
        double d = fabs(eng[i] - mine[i]);
        worst = fmax(worst, d / (4e-3 + 2e-3 * fabs(mine[i])));
        worst_abs = fmax(worst_abs, d);
    }
    fprintf(stderr, "  engine vs trainer logits: worst |diff| %.3g, %.3f of the tolerance\n", worst_abs, worst);
    CHECK(worst <= 1.0);
    /* Greedy decoding from the first 4 tokens continues the sequence. */
    int32_t cur[T_SEQ];
    memcpy(cur, seq, 4 * sizeof(int32_t));
    float *last = gt_malloc(64 * sizeof(float));
    CHECK_EQ_INT(gt_ctx_eval(c, cur, 4, 0, last, GT_EVAL_LAST, &err), 0);
    int ok = 1;
    for (int p = 4; p < T_SEQ; p++) {
        int best = 0;
        for (int v = 1; v < 64; v++) best = last[v] > last[best] ? v : best;
        cur[p] = best;
        ok &= best == seq[p];
        if (p + 1 < T_SEQ) CHECK_EQ_INT(gt_ctx_eval(c, cur + p, 1, p, last, GT_EVAL_LAST, &err), 0);
    }
    CHECK_MSG(ok, "greedy decoding did not continue the memorised sequence");
    gt_free(eng), gt_free(last);
done:
    gt_ctx_free(c);
    gt_model_free(m);
    remove(path);
    gt_free(mine);
    gt_trainer_free(t);
}

int main(void) {
    RUN(test_engine_matches);
    return gt_test_finish();
}
