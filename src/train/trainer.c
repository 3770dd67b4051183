/* trainer.c: the model being trained (see trainer.h): its shapes, tensor
 * table, initial weights and memory. The passes are in pass.c, the optimizer
 * in adamw.c, the file in save.c. */
#include "train/trainer.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/pool.h"
#include "infer/dmath.h"
#include "train/ops.h"
#include "train/trainer_impl.h"

gt_train_opt gt_train_opt_default(void) {
    return (gt_train_opt){.lr = 1e-3f, .min_lr = 1e-4f, .warmup_steps = 0, .total_steps = 1,
                          .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f,
                          .clip_norm = 1.0f};
}

double gt_train_lr(const gt_train_opt *o, int step) {
    if (step < o->warmup_steps) return (double)o->lr * (step + 1) / o->warmup_steps;
    int span = o->total_steps - o->warmup_steps;
    double progress = span > 0 ? (double)(step - o->warmup_steps) / span : 1.0;
    if (progress > 1.0) progress = 1.0;
    return o->min_lr + ((double)o->lr - o->min_lr) * 0.5 * (1.0 + gt_dmath_cos(3.14159265358979323846 * progress));
}

/* --- shapes and the tensor table ---------------------------------------------- */

/* Fills defaults and checks every shape against the limits and the engine's
 * needs; the message says which value and what is expected. */
static int check_hparams(gt_train_hparams *hp, gt_err *err) {
    if (!hp->rope_base) hp->rope_base = 10000.0f;
    if (!hp->rms_eps) hp->rms_eps = 1e-5f;
    if (!hp->init_std) hp->init_std = 0.02f;
#define RANGE(what, v, lo, hi) \
    if ((v) < (lo) || (v) > (hi)) return gt_err_set(err, GT_EINVAL, what " %d: expected %d..%d", (v), (lo), (hi))
    RANGE("vocabulary of", hp->n_vocab, 2, GT_TRAIN_MAX_VOCAB);
    RANGE("dim", hp->dim, 32, GT_TRAIN_MAX_DIM);
    RANGE("ff", hp->n_ff, 32, GT_TRAIN_MAX_FF);
    if (hp->dim % 32 || hp->n_ff % 32)
        return gt_err_set(err, GT_EINVAL, "dim %d and ff %d: expected multiples of 32", hp->dim, hp->n_ff);
    RANGE("layers", hp->n_layer, 1, GT_TRAIN_MAX_LAYERS);
    RANGE("heads", hp->n_head, 1, hp->dim / 16);
    RANGE("kv heads", hp->n_head_kv, 1, hp->n_head);
    RANGE("seq", hp->seq_len, 1, GT_TRAIN_MAX_SEQ);
    RANGE("batch", hp->batch, 1, GT_TRAIN_MAX_BATCH);
#undef RANGE
    if (hp->dim % hp->n_head || (hp->dim / hp->n_head) % 16)
        return gt_err_set(err, GT_EINVAL, "dim %d / heads %d: expected a head size that is a multiple of 16",
                          hp->dim, hp->n_head);
    if (hp->n_head % hp->n_head_kv)
        return gt_err_set(err, GT_EINVAL, "heads %d: expected a multiple of kv heads %d", hp->n_head, hp->n_head_kv);
    if (!(hp->rope_base > 1.0f) || !(hp->rms_eps > 0.0f) || !(hp->init_std > 0.0f) || hp->init_std > 1.0f)
        return gt_err_set(err, GT_EINVAL, "rope base %g, rms eps %g, init std %g: expected > 1, > 0, (0, 1]",
                          (double)hp->rope_base, (double)hp->rms_eps, (double)hp->init_std);
    return 0;
}

static void add_tensor(gt_trainer *t, const char *name, int rows, int cols, int is_norm) {
    assert(t->n_tensors < MAX_TENSORS);
    tensor *x = &t->tensors[t->n_tensors++];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->rows = rows, x->cols = cols, x->off = t->n_params, x->is_norm = is_norm;
    t->n_params += (size_t)rows * cols;
}

/* The tensors in llama.cpp's names and order; rows x cols is ne[1] x ne[0]. */
static void build_table(gt_trainer *t) {
    const gt_train_hparams *hp = &t->hp;
    int D = hp->dim, F = hp->n_ff, kvd = D / hp->n_head * hp->n_head_kv;
    char nm[48];
    add_tensor(t, "token_embd.weight", hp->n_vocab, D, 0);
    for (int l = 0; l < hp->n_layer; l++) {
#define BLK(suffix, r, c, norm) (snprintf(nm, sizeof nm, "blk.%d.%s", l, suffix), add_tensor(t, nm, r, c, norm))
        BLK("attn_norm.weight", 1, D, 1);
        BLK("attn_q.weight", D, D, 0);
        BLK("attn_k.weight", kvd, D, 0);
        BLK("attn_v.weight", kvd, D, 0);
        BLK("attn_output.weight", D, D, 0);
        BLK("ffn_norm.weight", 1, D, 1);
        BLK("ffn_gate.weight", F, D, 0);
        BLK("ffn_up.weight", F, D, 0);
        BLK("ffn_down.weight", D, F, 0);
#undef BLK
    }
    add_tensor(t, "output_norm.weight", 1, D, 1);
    add_tensor(t, "output.weight", hp->n_vocab, D, 0);
}


/* normal(0, std) by the sum of 12 uniforms (Irwin-Hall): no transcendental,
 * so the initial weights are the same bits everywhere. */
static void init_weights(gt_trainer *t) {
    uint64_t s = t->hp.seed ^ 0x6A09E667F3BCC909ull;
    for (int i = 0; i < t->n_tensors; i++) {
        const tensor *x = &t->tensors[i];
        for (size_t j = 0; j < (size_t)x->rows * x->cols; j++) {
            if (x->is_norm) {
                t->w[x->off + j] = 1.0f;
                continue;
            }
            double sum = 0;
            for (int k = 0; k < 12; k++) {
                uint64_t z = (s += 0x9E3779B97F4A7C15ull); /* splitmix64 */
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
                sum += (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
            }
            t->w[x->off + j] = (float)((sum - 6.0) * t->hp.init_std);
        }
    }
}

/* --- memory ---------------------------------------------------------------------- */

static float *fbuf(size_t n, int *fail) {
    float *p = gt_calloc(n ? n : 1, sizeof(float));
    if (!p) *fail = 1;
    return p;
}

/* Allocates weights, moments and every activation for B*T positions. */
static int alloc_all(gt_trainer *t, gt_err *err) {
    const gt_train_hparams *hp = &t->hp;
    size_t N = (size_t)hp->batch * hp->seq_len, D = hp->dim, F = hp->n_ff, V = hp->n_vocab;
    size_t kvd = D / hp->n_head * hp->n_head_kv, T = hp->seq_len;
    size_t att = (size_t)hp->batch * hp->n_head * T * T;
    int fail = 0;
    t->w = fbuf(t->n_params, &fail), t->dw = fbuf(t->n_params, &fail);
    t->m = fbuf(t->n_params, &fail), t->v = fbuf(t->n_params, &fail);
    t->rope = fbuf(T * (D / hp->n_head), &fail);
    t->layers = gt_calloc((size_t)hp->n_layer, sizeof(acts));
    if (!t->layers) return gt_err_set(err, GT_ENOMEM, "out of memory for %d layers", hp->n_layer);
    for (int l = 0; l < hp->n_layer; l++) {
        acts *a = &t->layers[l];
        a->res = fbuf(N * D, &fail), a->xn1 = fbuf(N * D, &fail), a->r1 = fbuf(N, &fail);
        a->q = fbuf(N * D, &fail), a->k = fbuf(N * kvd, &fail), a->v = fbuf(N * kvd, &fail);
        a->att = fbuf(att, &fail), a->ao = fbuf(N * D, &fail), a->mid = fbuf(N * D, &fail);
        a->xn2 = fbuf(N * D, &fail), a->r2 = fbuf(N, &fail);
        a->g = fbuf(N * F, &fail), a->u = fbuf(N * F, &fail), a->h = fbuf(N * F, &fail);
    }
    t->res_out = fbuf(N * D, &fail), t->xf = fbuf(N * D, &fail), t->rf = fbuf(N, &fail);
    t->logits = fbuf(N * V, &fail);
    t->row_loss = gt_calloc(N, sizeof(double));
    t->dres = fbuf(N * D, &fail), t->dxn = fbuf(N * D, &fail), t->dq = fbuf(N * D, &fail);
    t->dk = fbuf(N * kvd, &fail), t->dv = fbuf(N * kvd, &fail), t->dao = fbuf(N * D, &fail);
    t->dg = fbuf(N * F, &fail), t->du = fbuf(N * F, &fail), t->dh = fbuf(N * F, &fail);
    t->dxf = fbuf(N * D, &fail), t->scratch = fbuf((size_t)hp->batch * hp->n_head_kv * GT_TR_ATT_ROWS * T, &fail);
    if (fail || !t->row_loss)
        return gt_err_set(err, GT_ENOMEM, "out of memory for a model of %zu parameters and %zu positions",
                          t->n_params, N);
    return 0;
}

int gt_trainer_shapes_check(gt_train_hparams *hp, gt_err *err) {
    int rc = check_hparams(hp, err);
    if (rc) return rc;
    /* A bound a little above the exact count (k and v taken as dim wide): the limit as it always was. */
    uint64_t n_params = (uint64_t)hp->n_vocab * hp->dim * 2 +
                        (uint64_t)hp->n_layer * ((uint64_t)hp->dim * hp->dim * 4 + (uint64_t)hp->dim * hp->n_ff * 3);
    if (n_params > GT_TRAIN_MAX_PARAMS)
        return gt_err_set(err, GT_ELIMIT, "%llu parameters: expected at most %llu",
                          (unsigned long long)n_params, (unsigned long long)GT_TRAIN_MAX_PARAMS);
    return 0;
}

uint64_t gt_trainer_param_count(const gt_train_hparams *hp) {
    /* build_table's tensors, counted: no overflow, since the checked shapes bound each factor. */
    assert(hp->n_head > 0 && hp->n_head_kv > 0);
    uint64_t D = (uint64_t)hp->dim, F = (uint64_t)hp->n_ff, kvd = D / (uint64_t)hp->n_head * (uint64_t)hp->n_head_kv;
    uint64_t per_layer = 2 * D + 2 * D * D + 2 * kvd * D + 3 * F * D;
    return 2 * (uint64_t)hp->n_vocab * D + D + (uint64_t)hp->n_layer * per_layer;
}

uint64_t gt_trainer_mem_bytes(const gt_train_hparams *hp) {
    /* alloc_all's buffers, counted as it sizes them (floats, the row losses as doubles). */
    uint64_t N = (uint64_t)hp->batch * (uint64_t)hp->seq_len, D = (uint64_t)hp->dim, F = (uint64_t)hp->n_ff;
    uint64_t V = (uint64_t)hp->n_vocab, T = (uint64_t)hp->seq_len, H = (uint64_t)hp->n_head;
    uint64_t kvd = D / H * (uint64_t)hp->n_head_kv, att = (uint64_t)hp->batch * H * T * T;
    uint64_t layer = 6 * N * D + 2 * N + 2 * N * kvd + att + 3 * N * F;
    uint64_t rest = 4 * gt_trainer_param_count(hp) + T * (D / H) + 7 * N * D + 3 * N + N * V + 2 * N * kvd +
                    3 * N * F + (uint64_t)hp->batch * (uint64_t)hp->n_head_kv * GT_TR_ATT_ROWS * T;
    return 4 * ((uint64_t)hp->n_layer * layer + rest);
}

int gt_trainer_new(const gt_train_hparams *hp_in, int n_threads, gt_trainer **out, gt_err *err) {
    *out = NULL;
    gt_train_hparams hp = *hp_in;
    int rc = gt_trainer_shapes_check(&hp, err);
    if (rc) return rc;
    if (n_threads < 1 || n_threads > GT_POOL_MAX_THREADS)
        return gt_err_set(err, GT_EINVAL, "%d threads: expected 1..%d", n_threads, GT_POOL_MAX_THREADS);
    gt_trainer *t = gt_calloc(1, sizeof *t);
    if (!t) return gt_err_set(err, GT_ENOMEM, "out of memory");
    t->hp = hp;
    build_table(t);
    if ((rc = alloc_all(t, err))) return gt_trainer_free(t), rc;
    if (!(t->pool = gt_pool_new(n_threads)))
        return gt_trainer_free(t), gt_err_set(err, GT_ENOMEM, "cannot start %d threads", n_threads);
    init_weights(t);
    gt_tr_rope_table(t->rope, hp.seq_len, hp.dim / hp.n_head, hp.rope_base);
    *out = t;
    return 0;
}

void gt_trainer_free(gt_trainer *t) {
    if (!t) return;
    gt_pool_free(t->pool);
    if (t->layers)
        for (int l = 0; l < t->hp.n_layer; l++) {
            acts *a = &t->layers[l];
            float *bufs[] = {a->res, a->xn1, a->r1, a->q, a->k, a->v, a->att, a->ao, a->mid, a->xn2, a->r2, a->g, a->u, a->h};
            for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) gt_free(bufs[i]);
        }
    float *bufs[] = {t->w, t->dw, t->m, t->v, t->rope, t->res_out, t->xf, t->rf, t->logits, t->dres, t->dxn,
                     t->dq, t->dk, t->dv, t->dao, t->dg, t->du, t->dh, t->dxf, t->scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) gt_free(bufs[i]);
    gt_free(t->row_loss);
    gt_free(t->layers);
    gt_free(t);
}

const gt_train_hparams *gt_trainer_hparams(const gt_trainer *t) { return &t->hp; }
const float *gt_trainer_params(const gt_trainer *t) { return t->w; }
size_t gt_trainer_n_params(const gt_trainer *t) { return t->n_params; }
const float *gt_trainer_grads(const gt_trainer *t) { return t->dw; }
int gt_trainer_step_count(const gt_trainer *t) { return t->step; }
const float *gt_trainer_logits(const gt_trainer *t) { return t->logits; }
