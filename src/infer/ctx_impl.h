/* ctx_impl.h: the inside of a gt_ctx, shared by ctx.c (contexts: their
 * buffers, sequences and the eval calls that check their input) and
 * forward.c (the forward pass over a checked batch). Not a public
 * interface. */
#ifndef GT_INFER_CTX_IMPL_H
#define GT_INFER_CTX_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"
#include "infer/model_impl.h"

/* Rows a norm step takes at once (rms_norm_rows in forward.c); the scratch
 * of each thread holds this many rows of n_embd. */
#define GT_CTX_NORM_ROWS 4

struct gt_ctx {
    const gt_model *m;
    const gt_kern *k;
    gt_pool *pool;
    int n_threads, n_ctx, n_batch, n_seq;
    int *n_past;            /* [n_seq]: positions each sequence holds */
    int *tpos, *tseq;       /* [n_batch]: the batch's tokens' positions and sequences */
    gt_f16 *kc, *vc;        /* KV cache in halves: n_seq caches of n_ctx positions */
    float *x;               /* [n_batch][n_embd] residual stream */
    float *q, *kk, *vv;     /* [n_batch][q_dim], [n_batch][kv_dim] x 2 */
    float *att;             /* [n_batch][q_dim] */
    float *tmp;             /* [n_batch][n_embd] */
    float *g, *u;           /* [n_batch][n_ff]: gate and up; g becomes SiLU(g) * u */
    float *rope;            /* [n_batch][rope_dims/2][2]: cos, sin */
    float *rope_swa;        /* the same for sliding-window layers (gemma3) */
    const float *rope_factors; /* the model's rope divisors this context uses (LongRoPE: by n_ctx), or NULL */
    float *scratch;         /* per thread: max(n_ctx, GT_CTX_NORM_ROWS * n_embd) floats */
    size_t scratch_len;
    gt_act a_embd, a_attn, a_ff;
    int kq_decode;          /* 1: one-token steps run prefetching K-quant tiles, timed for pf_tune.h */
};

/* Where the keys (or values) of sequence seq, layer il, KV head g start. */
static inline size_t gt_ctx_kv_head_off(const gt_ctx *c, int seq, int il, int g) {
    const gt_hparams *hp = &c->m->hp;
    size_t head = ((size_t)seq * (size_t)hp->n_layer + (size_t)il) * (size_t)hp->n_head_kv + (size_t)g;
    return head * (size_t)c->n_ctx * (size_t)hp->head_dim;
}

/* One batch of n <= n_batch tokens, token t at position tpos[t] of sequence
 * tseq[t] (already validated), through every layer; then the final norm of
 * rows[0..n_out) (ascending) and, unless hidden, the output matrix: logits
 * (n_out rows of n_vocab) or the normed rows themselves (n_out rows of
 * n_embd) into out. */
void gt_ctx_forward(gt_ctx *c, const int32_t *tokens, int n, const int *rows, int n_out, float *out, int hidden);

#endif
