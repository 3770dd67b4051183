/* gelu.c: tanh, GELU and soft-capping without libm (see gelu.h). */
#include "infer/gelu.h"

#include <assert.h>

#include "infer/kernels_impl.h"

/* GELU's constants, as ggml writes them. */
#define GELU_COEF_A 0.044715f
#define SQRT_2_OVER_PI 0.79788456080286535587989211986876f
/* Past these |x| GEGLU takes its limits (ggml's bounds). */
#define GELU_CLAMP 10.0f

float gt_tanhf(float x) {
    float a = x < 0.0f ? -x : x;
    if (!(a == a)) return x;           /* NaN stays NaN */
    if (a > 10.0f) return x < 0.0f ? -1.0f : 1.0f; /* 1 - 2/(e^20 + 1) rounds to 1 */
    float e = gt_kern_expf(2.0f * a);
    float t = 1.0f - 2.0f / (e + 1.0f);
    return x < 0.0f ? -t : t;
}

float gt_gelu_f32(float x) {
    return 0.5f * x * (1.0f + gt_tanhf(SQRT_2_OVER_PI * x * (1.0f + GELU_COEF_A * x * x)));
}

void gt_gelu_mul(float *g, const float *u, int n) {
    assert(n >= 0);
    for (int i = 0; i < n; i++) {
        float x = g[i];
        if (x <= -GELU_CLAMP) g[i] = 0.0f;
        else if (x >= GELU_CLAMP) g[i] = x * u[i];
        else {
            float h = gt_f16_to_f32(gt_f32_to_f16(x));
            g[i] = gt_f16_to_f32(gt_f32_to_f16(gt_gelu_f32(h))) * u[i];
        }
    }
}

void gt_softcap(float *v, size_t n, float cap) {
    assert(cap > 0.0f);
    float inv = 1.0f / cap;
    for (size_t i = 0; i < n; i++) v[i] = cap * gt_tanhf(v[i] * inv);
}
