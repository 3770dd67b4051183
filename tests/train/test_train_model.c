/* test_train_model: the whole model -- its gradient against finite
 * differences of its own loss, the schedule, a tiny model overfitting one
 * batch, gradient accumulation, and weights byte-identical whatever the
 * thread count. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "train/trainer.h"

static gt_train_hparams tiny(int batch) {
    return (gt_train_hparams){.n_vocab = 32, .dim = 32, .n_layer = 2, .n_head = 2, .n_head_kv = 1,
                              .n_ff = 64, .seq_len = 8, .batch = batch, .seed = 7, .init_std = 0.1f};
}

/* Tokens of sequence b, position t: a fixed pseudo-random stream; targets
 * are the next token of the same stream. */
static void make_batch(int32_t *tok, int32_t *tgt, int B, int T, int V, uint32_t seed) {
    uint32_t s = seed * 2654435761u + 1;
    int32_t seq[4097];
    for (int b = 0; b < B; b++) {
        for (int t = 0; t <= T; t++) s = s * 1664525u + 1013904223u, seq[t] = (int32_t)((s >> 16) % (uint32_t)V);
        for (int t = 0; t < T; t++) tok[b * T + t] = seq[t], tgt[b * T + t] = seq[t + 1];
    }
}

/* The model's gradient (f32 backward) against central differences of its
 * f32 forward loss (the loss summed in double), on 300 weights drawn across
 * every tensor: h = 1e-2 keeps f32 rounding (~1e-6 of a loss near 3.5) well
 * below the differences; |analytic - numeric| <= 1e-3 + 3e-2 |numeric|. */
static void test_model_gradient(void) {
    gt_train_hparams hp = tiny(2);
    gt_trainer *t;
    gt_err err = {0};
    CHECK_EQ_INT(gt_trainer_new(&hp, 1, &t, &err), 0);
    int N = hp.batch * hp.seq_len;
    int32_t tok[16], tgt[16];
    make_batch(tok, tgt, hp.batch, hp.seq_len, hp.n_vocab, 1);
    tgt[3] = -1; /* a skipped position */
    double loss;
    CHECK_EQ_INT(gt_trainer_forward(t, tok, tgt, &loss, &err), 0);
    CHECK_MSG(fabs(loss - log(32.0)) < 0.5, "initial loss %g, expected near ln 32", loss);
    gt_trainer_backward(t, 1.0f / (N - 1));
    size_t n = gt_trainer_n_params(t);
    float *g = gt_malloc(n * sizeof(float));
    memcpy(g, gt_trainer_grads(t), n * sizeof(float));
    float *w = (float *)gt_trainer_params(t); /* perturbed in place, then restored */
    int bad = 0;
    double worst = 0;
    for (int k = 0; k < 300; k++) {
        size_t i = (size_t)k * 7919u % n;
        float keep = w[i];
        double lp, lm;
        w[i] = keep + 1e-2f;
        gt_trainer_forward(t, tok, tgt, &lp, &err);
        w[i] = keep - 1e-2f;
        gt_trainer_forward(t, tok, tgt, &lm, &err);
        w[i] = keep;
        double num = (lp - lm) / ((double)(keep + 1e-2f) - (double)(keep - 1e-2f));
        double rel = fabs(num - g[i]) / (1e-3 + 3e-2 * fabs(num));
        worst = fmax(worst, rel);
        if (rel > 1 && bad++ < 5) fprintf(stderr, "w[%zu]: analytic %g numeric %g\n", i, (double)g[i], num);
    }
    fprintf(stderr, "  model gradient: 300 weights, worst error %.3f of the tolerance\n", worst);
    CHECK_EQ_INT(bad, 0);
    gt_free(g);
    gt_trainer_free(t);
}

static void test_schedule(void) {
    gt_train_opt o = gt_train_opt_default();
    o.lr = 1e-2f, o.min_lr = 1e-3f, o.warmup_steps = 10, o.total_steps = 110;
    CHECK(fabs(gt_train_lr(&o, 0) - 1e-3) < 1e-9);
    CHECK(fabs(gt_train_lr(&o, 9) - 1e-2) < 1e-9);
    CHECK(fabs(gt_train_lr(&o, 10) - 1e-2) < 1e-9);
    CHECK(fabs(gt_train_lr(&o, 60) - 5.5e-3) < 1e-9); /* half way: the mean */
    CHECK(fabs(gt_train_lr(&o, 110) - 1e-3) < 1e-9);
    CHECK(fabs(gt_train_lr(&o, 500) - 1e-3) < 1e-9);
    CHECK(gt_train_lr(&o, 30) > gt_train_lr(&o, 31));
}

/* Trains steps on one batch with n_threads; returns the final loss and
 * leaves the weights in *out (caller frees with gt_free). */
static double train_steps(const gt_train_hparams *hp, int n_threads, int steps, const gt_train_opt *o,
                          float **out) {
    gt_trainer *t;
    gt_err err = {0};
    CHECK_EQ_INT(gt_trainer_new(hp, n_threads, &t, &err), 0);
    int N = hp->batch * hp->seq_len;
    int32_t *tok = gt_malloc(N * sizeof(int32_t)), *tgt = gt_malloc(N * sizeof(int32_t));
    make_batch(tok, tgt, hp->batch, hp->seq_len, hp->n_vocab, 3);
    double loss = 0;
    for (int s = 0; s < steps; s++) {
        CHECK_EQ_INT(gt_trainer_forward(t, tok, tgt, &loss, &err), 0);
        gt_trainer_backward(t, 1.0f / N);
        gt_trainer_step(t, o, NULL);
    }
    CHECK_EQ_INT(gt_trainer_forward(t, tok, tgt, &loss, &err), 0);
    *out = gt_malloc(gt_trainer_n_params(t) * sizeof(float));
    memcpy(*out, gt_trainer_params(t), gt_trainer_n_params(t) * sizeof(float));
    gt_free(tok), gt_free(tgt);
    gt_trainer_free(t);
    return loss;
}

/* A tiny model memorises one batch of random tokens: the loss falls from
 * ln 32 = 3.47 to below 0.05. */
static void test_overfit(void) {
    gt_train_hparams hp = tiny(2);
    gt_train_opt o = gt_train_opt_default();
    o.lr = 1e-2f, o.min_lr = 1e-3f, o.warmup_steps = 10, o.total_steps = 150, o.weight_decay = 0.0f;
    float *w;
    double loss = train_steps(&hp, 1, 150, &o, &w);
    fprintf(stderr, "  overfit: loss %.5f after 150 steps\n", loss);
    CHECK_MSG(loss < 0.05, "loss %g after 150 steps on one batch", loss);
    gt_free(w);
}

/* Weights after 8 steps are the same bytes with 1, 2 and 3 threads. */
static void test_threads(void) {
    gt_train_hparams hp = tiny(3);
    hp.n_head = 2, hp.n_head_kv = 2; /* 6 attention units for 3 threads */
    gt_train_opt o = gt_train_opt_default();
    o.lr = 5e-3f, o.warmup_steps = 2, o.total_steps = 8;
    float *w1, *w2, *w3;
    train_steps(&hp, 1, 8, &o, &w1);
    train_steps(&hp, 2, 8, &o, &w2);
    train_steps(&hp, 3, 8, &o, &w3);
    gt_trainer *t;
    gt_err err = {0};
    CHECK_EQ_INT(gt_trainer_new(&hp, 1, &t, &err), 0);
    size_t bytes = gt_trainer_n_params(t) * sizeof(float);
    CHECK(memcmp(w1, gt_trainer_params(t), bytes) != 0); /* training moved them */
    CHECK(!memcmp(w1, w2, bytes));
    CHECK(!memcmp(w1, w3, bytes));
    gt_trainer_free(t);
    gt_free(w1), gt_free(w2), gt_free(w3);
}

/* Two micro-batches of one sequence accumulated give the gradient of one
 * batch of both (up to f32 summation order). */
static void test_accumulation(void) {
    gt_train_hparams h2 = tiny(2), h1 = tiny(1);
    gt_trainer *t2, *t1;
    gt_err err = {0};
    CHECK_EQ_INT(gt_trainer_new(&h2, 1, &t2, &err), 0);
    CHECK_EQ_INT(gt_trainer_new(&h1, 1, &t1, &err), 0);
    int32_t tok[16], tgt[16];
    make_batch(tok, tgt, 2, 8, 32, 5);
    double loss;
    gt_trainer_forward(t2, tok, tgt, &loss, &err);
    gt_trainer_backward(t2, 1.0f / 16);
    for (int b = 0; b < 2; b++) {
        gt_trainer_forward(t1, tok + 8 * b, tgt + 8 * b, &loss, &err);
        gt_trainer_backward(t1, 1.0f / 16);
    }
    const float *g2 = gt_trainer_grads(t2), *g1 = gt_trainer_grads(t1);
    double worst = 0, big = 0;
    for (size_t i = 0; i < gt_trainer_n_params(t1); i++)
        worst = fmax(worst, fabs(g2[i] - g1[i])), big = fmax(big, fabs(g2[i]));
    CHECK_MSG(worst < 1e-5 * big + 1e-9, "accumulated gradient off by %g (largest %g)", worst, big);
    CHECK(big > 0);
    gt_trainer_free(t2);
    gt_trainer_free(t1);
}

/* Runs steps [from, to) of training on make_batch's batch. */
static void run_steps(gt_trainer *t, const gt_train_opt *o, int from, int to) {
    const gt_train_hparams *hp = gt_trainer_hparams(t);
    int N = hp->batch * hp->seq_len;
    int32_t tok[64], tgt[64];
    gt_err err = {0};
    double loss;
    for (int s = from; s < to; s++) {
        make_batch(tok, tgt, hp->batch, hp->seq_len, hp->n_vocab, 100 + (uint32_t)s);
        CHECK_EQ_INT(gt_trainer_forward(t, tok, tgt, &loss, &err), 0);
        gt_trainer_backward(t, 1.0f / N);
        gt_trainer_step(t, o, NULL);
    }
}

/* 3 steps, a checkpoint, 3 more after loading it (on another thread count):
 * the same bytes as 6 steps straight. A model file is not a checkpoint. */
static void test_resume(void) {
    gt_train_hparams hp = tiny(2);
    gt_train_opt o = gt_train_opt_default();
    o.lr = 5e-3f, o.warmup_steps = 2, o.total_steps = 6;
    gt_trainer *a, *b, *c;
    gt_err err = {0};
    CHECK_EQ_INT(gt_trainer_new(&hp, 1, &a, &err), 0);
    run_steps(a, &o, 0, 6);
    CHECK_EQ_INT(gt_trainer_new(&hp, 1, &b, &err), 0);
    run_steps(b, &o, 0, 3);
    const char *ck = GT_BINARY_DIR "/test_train_model.ckpt", *mf = GT_BINARY_DIR "/test_train_model.gguf";
    CHECK_EQ_INT(gt_trainer_save_checkpoint(b, ck, &err), 0);
    CHECK_EQ_INT(gt_trainer_save_gguf(b, NULL, "x", mf, &err), 0);
    gt_trainer_free(b);
    CHECK_MSG(gt_trainer_load_checkpoint(ck, 2, &c, &err) == 0, "%s", err.msg);
    if (c) {
        CHECK_EQ_INT(gt_trainer_step_count(c), 3);
        run_steps(c, &o, 3, 6);
        CHECK(!memcmp(gt_trainer_params(a), gt_trainer_params(c), gt_trainer_n_params(a) * sizeof(float)));
        gt_trainer_free(c);
    }
    CHECK_EQ_INT(gt_trainer_load_checkpoint(mf, 1, &c, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "not a training checkpoint");
    CHECK(c == NULL);
    remove(ck), remove(mf);
    gt_trainer_free(a);
}

static void test_bad_input(void) {
    gt_train_hparams hp = tiny(1);
    gt_trainer *t = NULL;
    gt_err err = {0};
    hp.dim = 48;
    CHECK_EQ_INT(gt_trainer_new(&hp, 1, &t, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "multiples of 32");
    hp = tiny(1), hp.n_head = 3;
    CHECK_EQ_INT(gt_trainer_new(&hp, 1, &t, &err), GT_EINVAL);
    hp = tiny(1);
    CHECK_EQ_INT(gt_trainer_new(&hp, 0, &t, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_trainer_new(&hp, 1, &t, &err), 0);
    int32_t tok[8] = {0, 1, 2, 32, 4, 5, 6, 7};
    double loss;
    CHECK_EQ_INT(gt_trainer_forward(t, tok, NULL, &loss, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "token 32");
    gt_trainer_free(t);
}

int main(void) {
    RUN(test_schedule);
    RUN(test_model_gradient);
    RUN(test_overfit);
    RUN(test_accumulation);
    RUN(test_threads);
    RUN(test_resume);
    RUN(test_bad_input);
    return gt_test_finish();
}
