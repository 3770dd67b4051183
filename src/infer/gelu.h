/* gelu.h: the element-wise functions Gemma needs, with no libm
 * transcendental: tanh built on the engine's own exp (gt_kern_expf), GELU
 * (tanh form) as llama.cpp's CPU backend computes it, and logit
 * soft-capping. Same bits on every CPU: plain float arithmetic in a fixed
 * order, compiled with the project's pinned -ffp-contract. */
#ifndef GT_INFER_GELU_H
#define GT_INFER_GELU_H

#include <stddef.h>

/* tanh(x) from exp: sign(x) * (1 - 2 / (exp(2|x|) + 1)); absolute error
 * within a few float ulps of 1 (what GELU and soft-capping need). */
float gt_tanhf(float x);

/* GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
float gt_gelu_f32(float x);

/* g[i] = GELU(g[i]) * u[i] for i < n, as ggml's CPU GEGLU does it (its
 * GGML_GELU_FP16 table): x <= -10 gives 0, x >= 10 gives x; between, GELU of
 * x rounded to f16, the result rounded to f16. Matching that rounding keeps
 * the results within float noise of llama.cpp's. */
void gt_gelu_mul(float *g, const float *u, int n);

/* v[i] = cap * tanh(v[i] / cap) for i < n (final logit soft-capping). */
void gt_softcap(float *v, size_t n, float cap);

#endif
