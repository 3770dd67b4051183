/* adamw.c: the optimizer step -- the global gradient norm, clipping, and
 * AdamW (decoupled weight decay, bias-corrected moments) at the schedule's
 * learning rate. The norm is one serial sum in index order; the update is
 * element-wise, split across the trainer's threads: the same bits on any
 * thread count. */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "train/trainer_impl.h"

/* sqrt of the sum of squares of every gradient, in double, ascending. */
static double grad_norm(const gt_trainer *t) {
    double ss = 0;
    for (size_t i = 0; i < t->n_params; i++) ss += (double)t->dw[i] * t->dw[i];
    return sqrt(ss);
}

/* AdamW over elements j0..j1-1 of one tensor: m, v updated, then w -= lr
 * (mhat / (sqrt(vhat) + eps) + wd w); bc1, bc2 are 1 - beta^step. */
typedef struct adamw_job {
    gt_trainer *t;
    const gt_train_opt *o;
    float lr, clip, bc1, bc2;
} adamw_job;

static void adamw_range(const adamw_job *a, const tensor *x, size_t j0, size_t j1) {
    gt_trainer *t = a->t;
    const gt_train_opt *o = a->o;
    float wd = x->is_norm ? 0.0f : o->weight_decay;
    for (size_t j = j0; j < j1; j++) {
        float g = t->dw[j] * a->clip;
        t->m[j] = o->beta1 * t->m[j] + (1.0f - o->beta1) * g;
        t->v[j] = o->beta2 * t->v[j] + (1.0f - o->beta2) * (g * g);
        float mhat = t->m[j] / a->bc1, vhat = t->v[j] / a->bc2;
        t->w[j] -= a->lr * (mhat / (sqrtf(vhat) + o->eps) + wd * t->w[j]);
    }
}

/* Thread ith of nth: its share of every tensor. Each element's update
 * reads and writes only that element, so the split changes no bit. */
static void adamw_worker(void *arg, int ith, int nth) {
    const adamw_job *a = arg;
    for (int i = 0; i < a->t->n_tensors; i++) {
        const tensor *x = &a->t->tensors[i];
        size_t n = (size_t)x->rows * x->cols;
        adamw_range(a, x, x->off + n * (size_t)ith / (size_t)nth, x->off + n * (size_t)(ith + 1) / (size_t)nth);
    }
}

void gt_trainer_step(gt_trainer *t, const gt_train_opt *o, double *norm_out) {
    double norm = grad_norm(t);
    if (norm_out) *norm_out = norm;
    float clip = o->clip_norm > 0 && norm > o->clip_norm ? (float)(o->clip_norm / norm) : 1.0f;
    /* beta^(step+1) by repeated products, so no pow enters the weights. */
    double b1 = 1.0, b2 = 1.0;
    for (int s = 0; s <= t->step; s++) b1 *= o->beta1, b2 *= o->beta2;
    float lr = (float)gt_train_lr(o, t->step);
    adamw_job job = {t, o, lr, clip, (float)(1.0 - b1), (float)(1.0 - b2)};
    if (t->pool && gt_pool_size(t->pool) > 1) gt_pool_run(t->pool, adamw_worker, &job);
    else adamw_worker(&job, 0, 1);
    memset(t->dw, 0, t->n_params * sizeof(float));
    t->step++;
}
