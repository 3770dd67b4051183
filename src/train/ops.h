/* ops.h: the operations of a llama block for training, in f32, each forward
 * beside its backward (llm.c style).
 *
 * Shapes: N rows (tokens; N = B sequences of T positions, row n = b T + t),
 * D model width, F feed-forward width, V vocabulary, H query heads and Hkv
 * key/value heads of hd dimensions (H a multiple of Hkv). A matrix W of O x I
 * is O rows of I floats; y = x W^T.
 *
 * Conventions: forwards write (=) their outputs; backwards ADD (+=) into the
 * input and weight gradients (the caller zeroes them), so residual branches
 * and gradient accumulation need no copies, except where a comment says
 * otherwise.
 *
 * Determinism: every output element (of a forward or a backward) is computed
 * by one thread in one order that depends only on the shapes, never on the
 * thread count: threads split the independent outputs, and each sum runs in
 * a written order (ascending index; dot products in 8 fixed lanes then a
 * fixed tree). exp is gt_kern_expf, the engine's own fixed sequence; the
 * layer is compiled with -ffp-contract=off. */
#ifndef GT_TRAIN_OPS_H
#define GT_TRAIN_OPS_H

#include <stdint.h>

#include "base/pool.h"

/* Dot product of n floats: lane k % 8 accumulates in ascending k, then the
 * lanes are added as ((0+4)+(2+6)) + ((1+5)+(3+7)). */
float gt_tr_dot(const float *restrict a, const float *restrict b, int n);

/* exp(x) by the engine's gt_kern_expf sequence, bit for bit. */
float gt_tr_expf(float x);

/* Embedding: x[n] = E[tok[n]]. Backward: dE[tok[n]] += dx[n], n ascending. */
void gt_tr_embed_fwd(float *x, const float *E, const int32_t *tok, int N, int D);
void gt_tr_embed_bwd(float *dE, const float *dx, const int32_t *tok, int N, int D);

/* RMSNorm: y[n] = x[n] * r[n] * w with r[n] = 1/sqrt(mean(x[n]^2) + eps)
 * (the sum of squares in double, as the engine computes it); rstd keeps r. */
void gt_tr_rmsnorm_fwd(gt_pool *p, float *y, float *rstd, const float *x, const float *w, int N,
                       int D, float eps);
void gt_tr_rmsnorm_bwd(gt_pool *p, float *dx, float *dw, const float *dy, const float *x,
                       const float *w, const float *rstd, int N, int D);

/* Matmul: y[n][o] = dot(x[n], W[o]). Backward: dx[n] += sum_o dy[n][o] W[o]
 * (o ascending), dW[o] += sum_n dy[n][o] x[n] (n ascending); dx may be NULL.
 * The loops are gemm.h's. */
void gt_tr_matmul_fwd(gt_pool *p, float *y, const float *x, const float *W, int N, int I, int O);
void gt_tr_matmul_bwd(gt_pool *p, float *dx, float *dW, const float *dy, const float *x,
                      const float *W, int N, int I, int O);

/* RoPE (llama's adjacent pairs) in place on N rows of n_heads heads of hd,
 * position t = n % T; cs holds cos, sin for [T][hd/2] (gt_tr_rope_table).
 * Backward rotates the gradient by the inverse angle, in place. */
void gt_tr_rope_table(float *cs, int T, int hd, float base);
void gt_tr_rope_fwd(gt_pool *p, float *x, const float *cs, int N, int T, int n_heads, int hd);
void gt_tr_rope_bwd(gt_pool *p, float *dx, const float *cs, int N, int T, int n_heads, int hd);

/* Causal attention with grouped query heads: q [N][H hd], k, v [N][Hkv hd],
 * out [N][H hd]; att keeps the probabilities [B][H][T][T] (row t, columns
 * 0..t). Backward WRITES dq, dk, dv (=); one thread owns a (sequence, kv
 * head) pair and visits its positions and query heads in ascending order.
 * scratch holds B * Hkv * GT_TR_ATT_ROWS * T floats. */
#define GT_TR_ATT_ROWS 4 /* query rows per block of the attention kernels */
void gt_tr_attention_fwd(gt_pool *p, float *out, float *att, const float *q, const float *k,
                         const float *v, int B, int T, int H, int Hkv, int hd);
void gt_tr_attention_bwd(gt_pool *p, float *dq, float *dk, float *dv, const float *dout,
                         const float *att, const float *q, const float *k, const float *v, int B,
                         int T, int H, int Hkv, int hd, float *scratch);

/* y[i] += x[i] for i < n (the residual adds), split across the pool. */
void gt_tr_add(gt_pool *p, float *y, const float *x, int64_t n);

/* SwiGLU: h = g / (1 + exp(-g)) * u, element-wise over n (the engine's
 * silu_mul, with its exp_shift); threads split the elements; h, dg, du
 * overlap no input. Backward WRITES dg and du (=). */
void gt_tr_swiglu_fwd(gt_pool *p, float *h, const float *g, const float *u, int64_t n);
void gt_tr_swiglu_bwd(gt_pool *p, float *dg, float *du, const float *dh, const float *g, const float *u,
                      int64_t n);

/* Cross-entropy of logits [N][V] against targets (a target < 0 is skipped):
 * turns logits into probabilities in place, writes each row's loss
 * -log p[target] (double, gt_dmath_log: it feeds no weight but a reference
 * loss curve is kept bit for bit) into row_loss[N] and returns their sum in
 * ascending order. Backward WRITES dlogits = (p - onehot) * scale (may alias
 * probs); skipped rows get 0. */
double gt_tr_xent_fwd(gt_pool *p, float *probs, double *row_loss, const int32_t *targets, int N,
                      int V);
void gt_tr_xent_bwd(gt_pool *p, float *dlogits, const float *probs, const int32_t *targets,
                    int N, int V, float scale);

#endif
