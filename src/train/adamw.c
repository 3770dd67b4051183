/* adamw.c: the optimizer step -- the global gradient norm, clipping, and
 * AdamW (decoupled weight decay, bias-corrected moments) at the schedule's
 * learning rate. Serial and element-wise, in index order: the same bits on
 * any thread count. */
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

/* AdamW over one tensor: m, v updated, then w -= lr (mhat / (sqrt(vhat) +
 * eps) + wd w); bc1, bc2 are 1 - beta^step. */
static void adamw_tensor(gt_trainer *t, const tensor *x, const gt_train_opt *o, float lr, float clip,
                         float bc1, float bc2) {
    float wd = x->is_norm ? 0.0f : o->weight_decay;
    for (size_t j = x->off; j < x->off + (size_t)x->rows * x->cols; j++) {
        float g = t->dw[j] * clip;
        t->m[j] = o->beta1 * t->m[j] + (1.0f - o->beta1) * g;
        t->v[j] = o->beta2 * t->v[j] + (1.0f - o->beta2) * (g * g);
        float mhat = t->m[j] / bc1, vhat = t->v[j] / bc2;
        t->w[j] -= lr * (mhat / (sqrtf(vhat) + o->eps) + wd * t->w[j]);
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
    for (int i = 0; i < t->n_tensors; i++)
        adamw_tensor(t, &t->tensors[i], o, lr, clip, (float)(1.0 - b1), (float)(1.0 - b2));
    memset(t->dw, 0, t->n_params * sizeof(float));
    t->step++;
}
