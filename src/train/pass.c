/* pass.c: the forward pass of the model over one micro-batch, and its
 * backward pass -- the forward read from the bottom up, op by op. */
#include <assert.h>
#include <string.h>

#include "train/ops.h"
#include "train/trainer_impl.h"

/* One block: x = res + attn(norm(res)), then x + ffn(norm(x)), into next. */
static void block_fwd(gt_trainer *t, int l, float *next) {
    const gt_train_hparams *hp = &t->hp;
    acts *a = &t->layers[l];
    int B = hp->batch, T = hp->seq_len, N = B * T, D = hp->dim, F = hp->n_ff;
    int H = hp->n_head, Hkv = hp->n_head_kv, hd = D / H, kvd = hd * Hkv;
    gt_pool *p = t->pool;
    gt_tr_rmsnorm_fwd(p, a->xn1, a->r1, a->res, W(t, LT(l, T_ATTN_NORM)), N, D, hp->rms_eps);
    gt_tr_matmul_fwd(p, a->q, a->xn1, W(t, LT(l, T_Q)), N, D, D);
    gt_tr_matmul_fwd(p, a->k, a->xn1, W(t, LT(l, T_K)), N, D, kvd);
    gt_tr_matmul_fwd(p, a->v, a->xn1, W(t, LT(l, T_V)), N, D, kvd);
    gt_tr_rope_fwd(p, a->q, t->rope, N, T, H, hd);
    gt_tr_rope_fwd(p, a->k, t->rope, N, T, Hkv, hd);
    gt_tr_attention_fwd(p, a->ao, a->att, a->q, a->k, a->v, B, T, H, Hkv, hd);
    gt_tr_matmul_fwd(p, a->mid, a->ao, W(t, LT(l, T_O)), N, D, D);
    gt_tr_add(p, a->mid, a->res, (int64_t)N * D);
    gt_tr_rmsnorm_fwd(p, a->xn2, a->r2, a->mid, W(t, LT(l, T_FFN_NORM)), N, D, hp->rms_eps);
    gt_tr_matmul_fwd(p, a->g, a->xn2, W(t, LT(l, T_GATE)), N, D, F);
    gt_tr_matmul_fwd(p, a->u, a->xn2, W(t, LT(l, T_UP)), N, D, F);
    gt_tr_swiglu_fwd(p, a->h, a->g, a->u, (int64_t)N * F);
    gt_tr_matmul_fwd(p, next, a->h, W(t, LT(l, T_DOWN)), N, F, D);
    gt_tr_add(p, next, a->mid, (int64_t)N * D);
}

int gt_trainer_forward(gt_trainer *t, const int32_t *tokens, const int32_t *targets,
                       double *loss, gt_err *err) {
    const gt_train_hparams *hp = &t->hp;
    int N = hp->batch * hp->seq_len, D = hp->dim, V = hp->n_vocab;
    for (int n = 0; n < N; n++)
        if (tokens[n] < 0 || tokens[n] >= V || (targets && targets[n] >= V))
            return gt_err_set(err, GT_EINVAL, "token %d at position %d: expected 0..%d",
                              tokens[n] < 0 || tokens[n] >= V ? tokens[n] : targets[n], n, V - 1);
    t->ready = 0;
    gt_tr_embed_fwd(t->layers[0].res, W(t, 0), tokens, N, D);
    for (int l = 0; l < hp->n_layer; l++)
        block_fwd(t, l, l + 1 < hp->n_layer ? t->layers[l + 1].res : t->res_out);
    gt_tr_rmsnorm_fwd(t->pool, t->xf, t->rf, t->res_out, W(t, T_OUT_NORM(t)), N, D, hp->rms_eps);
    gt_tr_matmul_fwd(t->pool, t->logits, t->xf, W(t, T_OUTPUT(t)), N, D, V);
    if (loss) *loss = 0;
    if (!targets) return 0;
    int counted = 0;
    for (int n = 0; n < N; n++) counted += targets[n] >= 0;
    double sum = gt_tr_xent_fwd(t->pool, t->logits, t->row_loss, targets, N, V);
    if (loss) *loss = counted ? sum / counted : 0.0;
    t->tokens = tokens, t->targets = targets, t->ready = 1;
    return 0;
}

/* One block backward: t->dres holds d(next) on entry and d(res) on return. */
static void block_bwd(gt_trainer *t, int l) {
    const gt_train_hparams *hp = &t->hp;
    acts *a = &t->layers[l];
    int B = hp->batch, T = hp->seq_len, N = B * T, D = hp->dim, F = hp->n_ff;
    int H = hp->n_head, Hkv = hp->n_head_kv, hd = D / H, kvd = hd * Hkv;
    gt_pool *p = t->pool;
    /* next = mid + h Wdown: d(mid) starts as d(next) (the residual), in dres. */
    memset(t->dh, 0, (size_t)N * F * sizeof(float));
    gt_tr_matmul_bwd(p, t->dh, DW(t, LT(l, T_DOWN)), t->dres, a->h, W(t, LT(l, T_DOWN)), N, F, D);
    gt_tr_swiglu_bwd(p, t->dg, t->du, t->dh, a->g, a->u, (int64_t)N * F);
    memset(t->dxn, 0, (size_t)N * D * sizeof(float));
    gt_tr_matmul_bwd(p, t->dxn, DW(t, LT(l, T_GATE)), t->dg, a->xn2, W(t, LT(l, T_GATE)), N, D, F);
    gt_tr_matmul_bwd(p, t->dxn, DW(t, LT(l, T_UP)), t->du, a->xn2, W(t, LT(l, T_UP)), N, D, F);
    gt_tr_rmsnorm_bwd(p, t->dres, DW(t, LT(l, T_FFN_NORM)), t->dxn, a->mid, W(t, LT(l, T_FFN_NORM)), a->r2, N, D);
    /* mid = res + ao Wo: dres now holds d(mid), and becomes d(res). */
    memset(t->dao, 0, (size_t)N * D * sizeof(float));
    gt_tr_matmul_bwd(p, t->dao, DW(t, LT(l, T_O)), t->dres, a->ao, W(t, LT(l, T_O)), N, D, D);
    gt_tr_attention_bwd(p, t->dq, t->dk, t->dv, t->dao, a->att, a->q, a->k, a->v, B, T, H, Hkv, hd, t->scratch);
    gt_tr_rope_bwd(p, t->dq, t->rope, N, T, H, hd);
    gt_tr_rope_bwd(p, t->dk, t->rope, N, T, Hkv, hd);
    memset(t->dxn, 0, (size_t)N * D * sizeof(float));
    gt_tr_matmul_bwd(p, t->dxn, DW(t, LT(l, T_Q)), t->dq, a->xn1, W(t, LT(l, T_Q)), N, D, D);
    gt_tr_matmul_bwd(p, t->dxn, DW(t, LT(l, T_K)), t->dk, a->xn1, W(t, LT(l, T_K)), N, D, kvd);
    gt_tr_matmul_bwd(p, t->dxn, DW(t, LT(l, T_V)), t->dv, a->xn1, W(t, LT(l, T_V)), N, D, kvd);
    gt_tr_rmsnorm_bwd(p, t->dres, DW(t, LT(l, T_ATTN_NORM)), t->dxn, a->res, W(t, LT(l, T_ATTN_NORM)), a->r1, N, D);
}

void gt_trainer_backward(gt_trainer *t, float scale) {
    assert(t->ready);
    const gt_train_hparams *hp = &t->hp;
    int N = hp->batch * hp->seq_len, D = hp->dim, V = hp->n_vocab;
    gt_tr_xent_bwd(t->pool, t->logits, t->logits, t->targets, N, V, scale);
    memset(t->dxf, 0, (size_t)N * D * sizeof(float));
    gt_tr_matmul_bwd(t->pool, t->dxf, DW(t, T_OUTPUT(t)), t->logits, t->xf, W(t, T_OUTPUT(t)), N, D, V);
    memset(t->dres, 0, (size_t)N * D * sizeof(float));
    gt_tr_rmsnorm_bwd(t->pool, t->dres, DW(t, T_OUT_NORM(t)), t->dxf, t->res_out, W(t, T_OUT_NORM(t)), t->rf, N, D);
    for (int l = hp->n_layer - 1; l >= 0; l--) block_bwd(t, l);
    gt_tr_embed_bwd(DW(t, 0), t->dres, t->tokens, N, D);
    t->ready = 0;
}
