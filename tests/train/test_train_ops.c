/* test_train_ops: every op of src/train/ops.c against central finite
 * differences of a double-precision reference forward.
 *
 * For an op y = f(x, w) and a random upstream gradient dy, the scalar
 * L = sum(dy * f(x, w)) is computed in double by a reference written here
 * (not the trainer's code); the numerical gradient (L(x + h) - L(x - h)) / 2h
 * with h = 1e-5 is then exact to ~1e-9, and the trainer's f32 backward must
 * match it within |analytic - numeric| <= 2e-4 + 2e-3 |numeric| (f32 keeps
 * ~7 digits; sums of up to ~64 terms lose a few more). Inputs are the f32
 * values the trainer saw, widened, so both sides see the same point.
 * Also: the deterministic exp/log/sin/cos against libm. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "infer/kernels_impl.h"
#include "infer/dmath.h"
#include "train/ops.h"

#define H_STEP 1e-5
#define ATOL 2e-4
#define RTOL 2e-3

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* Uniform in [-1, 1) from a xorshift64*. */
static float urand(void) {
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    return (float)((double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *frand(size_t n, float scale) {
    float *p = gt_malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = urand() * scale;
    return p;
}

static double *widen(const float *f, size_t n) {
    double *d = gt_malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) d[i] = f[i];
    return d;
}

/* The reference: L of the current double inputs. */
typedef double (*ref_fn)(void *ctx);

/* Compares grad (the trainer's) with central differences of ref over x[0..n). */
static int grad_check(const char *what, ref_fn ref, void *ctx, double *x, const float *grad, size_t n) {
    int bad = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double keep = x[i];
        x[i] = keep + H_STEP;
        double lp = ref(ctx);
        x[i] = keep - H_STEP;
        double lm = ref(ctx);
        x[i] = keep;
        double num = (lp - lm) / (2 * H_STEP), err = fabs(num - grad[i]);
        double rel = err / (ATOL + RTOL * fabs(num));
        if (rel > worst) worst = rel;
        if (rel > 1.0 && bad++ < 5)
            fprintf(stderr, "%s[%zu]: analytic %.8g numeric %.8g\n", what, i, (double)grad[i], num);
    }
    fprintf(stderr, "  %-14s %5zu elements, worst error %.2e of the tolerance\n", what, n, worst);
    CHECK_MSG(bad == 0, "%s: %d of %zu gradients off", what, bad, n);
    return bad;
}

/* --- matmul ------------------------------------------------------------------- */

typedef struct mm_ctx { double *x, *w, *dy; int N, I, O; } mm_ctx;

static double mm_ref(void *c_) {
    mm_ctx *c = c_;
    double L = 0;
    for (int n = 0; n < c->N; n++)
        for (int o = 0; o < c->O; o++) {
            double y = 0;
            for (int i = 0; i < c->I; i++) y += c->x[n * c->I + i] * c->w[o * c->I + i];
            L += c->dy[n * c->O + o] * y;
        }
    return L;
}

static void test_matmul(void) {
    int N = 11, I = 40, O = 10; /* not multiples of the 8 x 16 blocks */
    float *x = frand(N * I, 1), *w = frand(O * I, 0.5f), *dy = frand(N * O, 1);
    float *dx = gt_calloc(N * I, sizeof(float)), *dw = gt_calloc(O * I, sizeof(float));
    gt_tr_matmul_bwd(NULL, dx, dw, dy, x, w, N, I, O);
    mm_ctx c = {widen(x, N * I), widen(w, O * I), widen(dy, N * O), N, I, O};
    grad_check("matmul dx", mm_ref, &c, c.x, dx, N * I);
    grad_check("matmul dW", mm_ref, &c, c.w, dw, O * I);
    /* The forward against the reference at the same point. */
    float *y = gt_malloc(N * O * sizeof(float));
    gt_tr_matmul_fwd(NULL, y, x, w, N, I, O);
    double L = 0;
    for (int k = 0; k < N * O; k++) L += (double)dy[k] * y[k];
    CHECK(fabs(L - mm_ref(&c)) < 1e-4);
    gt_free(x), gt_free(w), gt_free(dy), gt_free(dx), gt_free(dw), gt_free(y);
    gt_free(c.x), gt_free(c.w), gt_free(c.dy);
}

/* --- RMSNorm ------------------------------------------------------------------ */

typedef struct rn_ctx { double *x, *w, *dy; int N, D; double eps; } rn_ctx;

static double rn_ref(void *c_) {
    rn_ctx *c = c_;
    double L = 0;
    for (int n = 0; n < c->N; n++) {
        double ss = 0;
        for (int i = 0; i < c->D; i++) ss += c->x[n * c->D + i] * c->x[n * c->D + i];
        double r = 1.0 / sqrt(ss / c->D + c->eps);
        for (int i = 0; i < c->D; i++) L += c->dy[n * c->D + i] * c->x[n * c->D + i] * r * c->w[i];
    }
    return L;
}

static void test_rmsnorm(void) {
    int N = 5, D = 32;
    float eps = 1e-5f;
    float *x = frand(N * D, 1), *w = frand(D, 1), *dy = frand(N * D, 1);
    float *y = gt_malloc(N * D * sizeof(float)), *r = gt_malloc(N * sizeof(float));
    float *dx = gt_calloc(N * D, sizeof(float)), *dw = gt_calloc(D, sizeof(float));
    gt_tr_rmsnorm_fwd(NULL, y, r, x, w, N, D, eps);
    gt_tr_rmsnorm_bwd(NULL, dx, dw, dy, x, w, r, N, D);
    rn_ctx c = {widen(x, N * D), widen(w, D), widen(dy, N * D), N, D, eps};
    grad_check("rmsnorm dx", rn_ref, &c, c.x, dx, N * D);
    grad_check("rmsnorm dw", rn_ref, &c, c.w, dw, D);
    gt_free(x), gt_free(w), gt_free(dy), gt_free(y), gt_free(r), gt_free(dx), gt_free(dw);
    gt_free(c.x), gt_free(c.w), gt_free(c.dy);
}

/* --- embedding ------------------------------------------------------------------ */

typedef struct em_ctx { double *E, *dy; const int32_t *tok; int N, D; } em_ctx;

static double em_ref(void *c_) {
    em_ctx *c = c_;
    double L = 0;
    for (int n = 0; n < c->N; n++)
        for (int i = 0; i < c->D; i++) L += c->dy[n * c->D + i] * c->E[c->tok[n] * c->D + i];
    return L;
}

static void test_embedding(void) {
    int N = 7, D = 16, V = 5;
    int32_t tok[7] = {3, 1, 3, 0, 4, 3, 1}; /* repeats: their rows add up */
    float *E = frand(V * D, 1), *dy = frand(N * D, 1), *x = gt_malloc(N * D * sizeof(float));
    float *dE = gt_calloc(V * D, sizeof(float));
    gt_tr_embed_fwd(x, E, tok, N, D);
    CHECK(!memcmp(x + 2 * D, E + 3 * D, D * sizeof(float)));
    gt_tr_embed_bwd(dE, dy, tok, N, D);
    em_ctx c = {widen(E, V * D), widen(dy, N * D), tok, N, D};
    grad_check("embedding dE", em_ref, &c, c.E, dE, V * D);
    gt_free(E), gt_free(dy), gt_free(x), gt_free(dE), gt_free(c.E), gt_free(c.dy);
}

/* --- RoPE ---------------------------------------------------------------------- */

typedef struct rp_ctx { double *x, *dy; const float *cs; int N, T, nh, hd; } rp_ctx;

static double rp_ref(void *c_) {
    rp_ctx *c = c_;
    double L = 0;
    int half = c->hd / 2;
    for (int n = 0; n < c->N; n++)
        for (int h = 0; h < c->nh; h++)
            for (int i = 0; i < half; i++) {
                const float *cs = c->cs + ((n % c->T) * half + i) * 2;
                size_t o = ((size_t)n * c->nh + h) * c->hd + 2 * i;
                double a = c->x[o], b = c->x[o + 1];
                L += c->dy[o] * (a * cs[0] - b * cs[1]) + c->dy[o + 1] * (a * cs[1] + b * cs[0]);
            }
    return L;
}

static void test_rope(void) {
    int T = 6, B = 2, N = B * T, nh = 3, hd = 16;
    float *cs = gt_malloc(T * hd * sizeof(float));
    gt_tr_rope_table(cs, T, hd, 10000.0f);
    /* The table matches libm within float rounding. */
    double worst = 0;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < hd / 2; i++) {
            double th = t * pow(10000.0, -2.0 * i / hd);
            worst = fmax(worst, fabs(cs[(t * hd / 2 + i) * 2] - cos(th)));
            worst = fmax(worst, fabs(cs[(t * hd / 2 + i) * 2 + 1] - sin(th)));
        }
    CHECK_MSG(worst < 1e-7, "rope table off libm by %g", worst);
    float *x = frand(N * nh * hd, 1), *dy = frand(N * nh * hd, 1);
    float *dx = gt_malloc(N * nh * hd * sizeof(float));
    memcpy(dx, dy, N * nh * hd * sizeof(float));
    gt_tr_rope_bwd(NULL, dx, cs, N, T, nh, hd);
    rp_ctx c = {widen(x, N * nh * hd), widen(dy, N * nh * hd), cs, N, T, nh, hd};
    grad_check("rope dx", rp_ref, &c, c.x, dx, N * nh * hd);
    gt_free(cs), gt_free(x), gt_free(dy), gt_free(dx), gt_free(c.x), gt_free(c.dy);
}

/* --- attention -------------------------------------------------------------------- */

typedef struct at_ctx { double *q, *k, *v, *dy; int B, T, H, Hkv, hd; } at_ctx;

static double at_ref(void *c_) {
    at_ctx *c = c_;
    int E = c->H * c->hd, kvd = c->Hkv * c->hd, group = c->H / c->Hkv;
    double L = 0, s[64];
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < c->H; h++)
            for (int t = 0; t < c->T; t++) {
                const double *q = c->q + (b * c->T + t) * E + h * c->hd;
                double mx = -INFINITY, sum = 0;
                for (int p = 0; p <= t; p++) {
                    const double *k = c->k + (b * c->T + p) * kvd + (h / group) * c->hd;
                    s[p] = 0;
                    for (int i = 0; i < c->hd; i++) s[p] += q[i] * k[i];
                    s[p] /= sqrt((double)c->hd);
                    mx = fmax(mx, s[p]);
                }
                for (int p = 0; p <= t; p++) sum += (s[p] = exp(s[p] - mx));
                for (int i = 0; i < c->hd; i++) {
                    double o = 0;
                    for (int p = 0; p <= t; p++) o += s[p] / sum * c->v[(b * c->T + p) * kvd + (h / group) * c->hd + i];
                    L += c->dy[(b * c->T + t) * E + h * c->hd + i] * o;
                }
            }
    return L;
}

static void test_attention(void) {
    int B = 2, T = 5, H = 4, Hkv = 2, hd = 8, N = B * T, E = H * hd, kvd = Hkv * hd;
    float *q = frand(N * E, 1), *k = frand(N * kvd, 1), *v = frand(N * kvd, 1), *dy = frand(N * E, 1);
    float *out = gt_malloc(N * E * sizeof(float)), *att = gt_malloc(B * H * T * T * sizeof(float));
    float *dq = gt_malloc(N * E * sizeof(float)), *dk = gt_malloc(N * kvd * sizeof(float));
    float *dv = gt_malloc(N * kvd * sizeof(float)), *scr = gt_malloc(B * Hkv * GT_TR_ATT_ROWS * T * sizeof(float));
    gt_tr_attention_fwd(NULL, out, att, q, k, v, B, T, H, Hkv, hd);
    gt_tr_attention_bwd(NULL, dq, dk, dv, dy, att, q, k, v, B, T, H, Hkv, hd, scr);
    at_ctx c = {widen(q, N * E), widen(k, N * kvd), widen(v, N * kvd), widen(dy, N * E), B, T, H, Hkv, hd};
    double L = 0;
    for (int i = 0; i < N * E; i++) L += (double)dy[i] * out[i];
    CHECK_MSG(fabs(L - at_ref(&c)) < 1e-4, "forward %g vs reference %g", L, at_ref(&c));
    grad_check("attention dq", at_ref, &c, c.q, dq, N * E);
    grad_check("attention dk", at_ref, &c, c.k, dk, N * kvd);
    grad_check("attention dv", at_ref, &c, c.v, dv, N * kvd);
    gt_free(q), gt_free(k), gt_free(v), gt_free(dy), gt_free(out), gt_free(att);
    gt_free(dq), gt_free(dk), gt_free(dv), gt_free(scr);
    gt_free(c.q), gt_free(c.k), gt_free(c.v), gt_free(c.dy);
}

/* --- SwiGLU ------------------------------------------------------------------------ */

typedef struct sw_ctx { double *g, *u, *dy; int n; } sw_ctx;

static double sw_ref(void *c_) {
    sw_ctx *c = c_;
    double L = 0;
    for (int i = 0; i < c->n; i++) L += c->dy[i] * c->g[i] / (1 + exp(-c->g[i])) * c->u[i];
    return L;
}

static void test_swiglu(void) {
    int n = 64;
    float *g = frand(n, 4), *u = frand(n, 1), *dy = frand(n, 1);
    float *h = gt_malloc(n * sizeof(float)), *dg = gt_malloc(n * sizeof(float)), *du = gt_malloc(n * sizeof(float));
    gt_tr_swiglu_fwd(NULL, h, g, u, n);
    gt_tr_swiglu_bwd(NULL, dg, du, dy, g, u, n);
    sw_ctx c = {widen(g, n), widen(u, n), widen(dy, n), n};
    grad_check("swiglu dg", sw_ref, &c, c.g, dg, n);
    grad_check("swiglu du", sw_ref, &c, c.u, du, n);
    gt_free(g), gt_free(u), gt_free(dy), gt_free(h), gt_free(dg), gt_free(du);
    gt_free(c.g), gt_free(c.u), gt_free(c.dy);
}

/* --- cross-entropy ----------------------------------------------------------------------- */

typedef struct ce_ctx { double *z; const int32_t *tg; int N, V; double scale; } ce_ctx;

static double ce_ref(void *c_) {
    ce_ctx *c = c_;
    double L = 0;
    for (int n = 0; n < c->N; n++) {
        if (c->tg[n] < 0) continue;
        double mx = -INFINITY, sum = 0;
        for (int i = 0; i < c->V; i++) mx = fmax(mx, c->z[n * c->V + i]);
        for (int i = 0; i < c->V; i++) sum += exp(c->z[n * c->V + i] - mx);
        L += (log(sum) + mx - c->z[n * c->V + c->tg[n]]) * c->scale;
    }
    return L;
}

static void test_xent(void) {
    int N = 4, V = 37;
    int32_t tg[4] = {5, 36, -1, 0};
    float *z = frand(N * V, 3), *p = gt_malloc(N * V * sizeof(float));
    double rl[4];
    memcpy(p, z, N * V * sizeof(float));
    ce_ctx c = {widen(z, N * V), tg, N, V, 1.0 / 3};
    double loss = gt_tr_xent_fwd(NULL, p, rl, tg, N, V);
    CHECK_MSG(fabs(loss / 3 - ce_ref(&c)) < 1e-5, "loss %g vs reference %g", loss / 3, ce_ref(&c));
    CHECK(rl[2] == 0.0);
    gt_tr_xent_bwd(NULL, p, p, tg, N, V, 1.0f / 3);
    grad_check("xent dlogits", ce_ref, &c, c.z, p, N * V);
    gt_free(z), gt_free(p), gt_free(c.z);
}

/* --- dmath ----------------------------------------------------------------------------- */

static void test_dmath(void) {
    double worst = 0;
    for (int i = -2000; i <= 2000; i++) {
        double x = i * 0.3711;
        worst = fmax(worst, fabs(gt_dmath_exp(x / 10) - exp(x / 10)) / exp(x / 10));
        worst = fmax(worst, fabs(gt_dmath_sin(x) - sin(x)));
        worst = fmax(worst, fabs(gt_dmath_cos(x) - cos(x)));
        if (i > 0) worst = fmax(worst, fabs(gt_dmath_log(x) - log(x)) / fmax(1.0, fabs(log(x))));
    }
    CHECK_MSG(worst < 1e-13, "dmath off libm by %g", worst);
    CHECK(fabs(gt_dmath_pow(10000.0, -0.25) - 0.1) < 1e-15);
    CHECK(gt_dmath_exp(-800) == 0.0 && isnan(gt_dmath_log(-1.0)));
    /* The trainer's exp is the engine's, bit for bit. */
    int same = 1;
    for (int i = -100000; i <= 100000; i++) {
        float x = (float)i * 1e-3f, a = gt_tr_expf(x), b = gt_kern_expf(x);
        same &= !memcmp(&a, &b, sizeof a);
    }
    CHECK(same);
}

int main(void) {
    RUN(test_dmath);
    RUN(test_matmul);
    RUN(test_rmsnorm);
    RUN(test_embedding);
    RUN(test_rope);
    RUN(test_attention);
    RUN(test_swiglu);
    RUN(test_xent);
    return gt_test_finish();
}
