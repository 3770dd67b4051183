/* ops.c: forward and backward of every op of a llama block (see ops.h).
 * Each op reads top to bottom: the forward, then its backward; the thread
 * split is a range of independent outputs handed to par_for. */
#include "train/ops.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "infer/kernels.h"
#include "infer/kernels_impl.h" /* gt_kern_expf: the engine's exp, bit for bit */
#include "infer/dmath.h"
#include "train/gemm.h"

/* --- the thread split --------------------------------------------------------
 * One argument block for every op (the fields an op does not use stay 0), and
 * par_for(n): thread ith of nth gets the contiguous range of [0, n) that
 * range_of gives it. Which thread runs a range never changes a result. */

typedef struct args {
    float *y, *y2, *y3, *f;
    double *dd;
    const float *a, *b, *c, *d, *e;
    const int32_t *tok;
    int N, I, O, B, T, H, Hkv, hd;
    float eps, scale;
    int64_t n64; /* element count of the element-wise ops */
    const gt_kern *kern; /* the path's element-wise kernels (exp_shift): gt_tr_kern */
    void (*fn)(const struct args *s, int i0, int i1);
    int n;
} args;

static void range_of(int n, int ith, int nth, int *i0, int *i1) {
    *i0 = (int)((int64_t)n * ith / nth);
    *i1 = (int)((int64_t)n * (ith + 1) / nth);
}

static void par_worker(void *arg, int ith, int nth) {
    const args *s = arg;
    int i0, i1;
    range_of(s->n, ith, nth, &i0, &i1);
    if (i1 > i0) s->fn(s, i0, i1);
}

/* Runs s->fn over [0, n) split across the pool (or on this thread alone). */
static void par_for(gt_pool *p, args *s, int n, void (*fn)(const args *, int, int)) {
    s->fn = fn;
    s->n = n;
    if (!p || gt_pool_size(p) == 1 || n < 2) {
        if (n > 0) fn(s, 0, n);
        return;
    }
    gt_pool_run(p, par_worker, s);
}

/* The hot loops get x86-64-v4 (AVX-512: 16-float vectors, 32 registers, so
 * the attention blocks' accumulators stay in registers) and x86-64-v3 (AVX2,
 * FMA) clones beside the baseline one, picked at load by the CPU.
 * Contraction is off (-ffp-contract=off), and the only fused multiply-adds
 * are exp's explicit fmaf, exactly rounded in every clone (an instruction,
 * or libm's fmaf in the baseline), so all perform the same IEEE operations
 * in the same order: the bits are the same. The exps of the softmaxes and
 * SwiGLU are the engine's vector kernels of the kernel path (gt_tr_kern),
 * equal bit for bit to gt_kern_expf on every path. */
#if defined(__SANITIZE_THREAD__)
/* ThreadSanitizer instruments the clones' ifunc resolver, which the loader
 * runs before TSan's runtime is up: the process dies at start (make tsan). */
#define HOT
#else
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif

float gt_tr_dot(const float *restrict a, const float *restrict b, int n) { return gt_tr_dot8(a, b, n); }


float gt_tr_expf(float x) { return gt_kern_expf_inline(x); }

/* y[i] += s * x[i] (one rounding for the product, one for the sum). */
static inline __attribute__((always_inline)) void axpy(float *restrict y, float s, const float *restrict x, int n) {
    for (int i = 0; i < n; i++) y[i] += s * x[i];
}

/* --- embedding --------------------------------------------------------------- */

void gt_tr_embed_fwd(float *x, const float *E, const int32_t *tok, int N, int D) {
    for (int n = 0; n < N; n++) memcpy(x + (size_t)n * D, E + (size_t)tok[n] * D, (size_t)D * sizeof(float));
}

/* Serial: two rows with one token add into one row of dE, in row order. */
void gt_tr_embed_bwd(float *dE, const float *dx, const int32_t *tok, int N, int D) {
    for (int n = 0; n < N; n++) axpy(dE + (size_t)tok[n] * D, 1.0f, dx + (size_t)n * D, D);
}

/* --- RMSNorm ----------------------------------------------------------------- */

static void rmsnorm_fwd_rows(const args *s, int n0, int n1) {
    int D = s->I;
    for (int n = n0; n < n1; n++) {
        const float *x = s->a + (size_t)n * D;
        float *y = s->y + (size_t)n * D;
        double ss = 0;
        for (int i = 0; i < D; i++) ss += (double)x[i] * x[i];
        float r = 1.0f / sqrtf((float)(ss / D) + s->eps);
        s->f[n] = r;
        for (int i = 0; i < D; i++) y[i] = (x[i] * r) * s->b[i];
    }
}

void gt_tr_rmsnorm_fwd(gt_pool *p, float *y, float *rstd, const float *x, const float *w, int N,
                       int D, float eps) {
    args s = {.y = y, .f = rstd, .a = x, .b = w, .I = D, .eps = eps};
    par_for(p, &s, N, rmsnorm_fwd_rows);
}

/* dx = r w dy - (r^3 / D) x sum_j(dy_j w_j x_j), the sum in double. */
static void rmsnorm_bwd_rows(const args *s, int n0, int n1) {
    int D = s->I;
    for (int n = n0; n < n1; n++) {
        const float *x = s->a + (size_t)n * D, *dy = s->c + (size_t)n * D;
        float *dx = s->y + (size_t)n * D, r = s->d[n];
        double dot = 0;
        for (int i = 0; i < D; i++) dot += (double)(dy[i] * s->b[i]) * x[i];
        float k = (float)(dot / D) * r * r * r;
        for (int i = 0; i < D; i++) dx[i] += (r * s->b[i]) * dy[i] - k * x[i];
    }
}

/* dw[i] += sum_n dy[n][i] x[n][i] r[n], n ascending; threads split i. */
static void rmsnorm_bwd_cols(const args *s, int i0, int i1) {
    int D = s->I;
    for (int n = 0; n < s->N; n++) {
        const float *x = s->a + (size_t)n * D, *dy = s->c + (size_t)n * D;
        float r = s->d[n];
        for (int i = i0; i < i1; i++) s->y2[i] += dy[i] * (x[i] * r);
    }
}

void gt_tr_rmsnorm_bwd(gt_pool *p, float *dx, float *dw, const float *dy, const float *x,
                       const float *w, const float *rstd, int N, int D) {
    args s = {.y = dx, .y2 = dw, .a = x, .b = w, .c = dy, .d = rstd, .N = N, .I = D};
    par_for(p, &s, N, rmsnorm_bwd_rows);
    par_for(p, &s, D, rmsnorm_bwd_cols);
}

/* --- matmul ------------------------------------------------------------------ */

/* The loops live in gemm.c, register-blocked; each output is still one
 * gt_tr_dot (forward) or one sum in ascending order (backward). */
static void matmul_fwd_rows(const args *s, int n0, int n1) {
    gt_tr_gemm_dots(s->y, s->a, s->b, n0, n1, s->I, s->O);
}

void gt_tr_matmul_fwd(gt_pool *p, float *y, const float *x, const float *W, int N, int I, int O) {
    args s = {.y = y, .a = x, .b = W, .N = N, .I = I, .O = O};
    par_for(p, &s, N, matmul_fwd_rows);
}

/* dx[n] += dy[n][o] W[o], o ascending; threads split n. */
static void matmul_bwd_dx(const args *s, int n0, int n1) {
    gt_tr_gemm_acc(s->y, (size_t)s->I, s->c, (size_t)s->O, 1, s->b, (size_t)s->I, n0, n1, s->O, s->I);
}

/* dW[o] += dy[n][o] x[n], n ascending; threads split o. gemm_acc reads dy
 * transposed where it lies (S(o, n) = dy[n O + o]): a tile's rows o are
 * adjacent floats of one row of dy. */
static void matmul_bwd_dw(const args *s, int o0, int o1) {
    gt_tr_gemm_acc(s->y2, (size_t)s->I, s->c, 1, (size_t)s->O, s->a, (size_t)s->I, o0, o1, s->N, s->I);
}

void gt_tr_matmul_bwd(gt_pool *p, float *dx, float *dW, const float *dy, const float *x,
                      const float *W, int N, int I, int O) {
    args s = {.y = dx, .y2 = dW, .a = x, .b = W, .c = dy, .N = N, .I = I, .O = O};
    if (dx) par_for(p, &s, N, matmul_bwd_dx);
    par_for(p, &s, O, matmul_bwd_dw);
}

/* --- RoPE -------------------------------------------------------------------- */

/* theta(t, i) = t * base^(-2i/hd), cos and sin in double by dmath.h. */
void gt_tr_rope_table(float *cs, int T, int hd, float base) {
    int half = hd / 2;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double theta = (double)t * gt_dmath_pow((double)base, -2.0 * i / hd);
            cs[((size_t)t * half + i) * 2] = (float)gt_dmath_cos(theta);
            cs[((size_t)t * half + i) * 2 + 1] = (float)gt_dmath_sin(theta);
        }
}

/* Rotates pairs (2i, 2i+1) of every head of rows n0..n1-1 by +theta (dir 1) or -theta (-1). */
static void rope_rotate(float *x, const float *cs, int n0, int n1, int T, int n_heads, int hd, float dir) {
    int half = hd / 2;
    for (int n = n0; n < n1; n++) {
        const float *c = cs + (size_t)(n % T) * half * 2;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + ((size_t)n * n_heads + h) * hd;
            for (int i = 0; i < half; i++) {
                float co = c[2 * i], si = dir * c[2 * i + 1], a = v[2 * i], b = v[2 * i + 1];
                v[2 * i] = a * co - b * si;
                v[2 * i + 1] = a * si + b * co;
            }
        }
    }
}

/* Threads split the rows (each is rotated alone). */
static void rope_rows(const args *s, int n0, int n1) { rope_rotate(s->y, s->a, n0, n1, s->T, s->H, s->hd, s->scale); }

void gt_tr_rope_fwd(gt_pool *p, float *x, const float *cs, int N, int T, int n_heads, int hd) {
    args s = {.y = x, .a = cs, .T = T, .H = n_heads, .hd = hd, .scale = 1.0f};
    par_for(p, &s, N, rope_rows);
}

/* The rotation is orthogonal: its gradient is the inverse rotation. */
void gt_tr_rope_bwd(gt_pool *p, float *dx, const float *cs, int N, int T, int n_heads, int hd) {
    args s = {.y = dx, .a = cs, .T = T, .H = n_heads, .hd = hd, .scale = -1.0f};
    par_for(p, &s, N, rope_rows);
}

/* --- causal attention ---------------------------------------------------------- */

/* Query rows go in blocks of GT_TR_ATT_ROWS: each key and value row, once
 * loaded, serves the block's rows, and the block's accumulators stay in
 * registers while the positions p run (8 dimensions at a time, so this
 * path needs hd % 8 == 0; other widths take the plain loops). Each output
 * element still takes its terms one by one in the plain loops' order. */
#define ATT_R GT_TR_ATT_ROWS

typedef float att_v8 __attribute__((vector_size(32)));
typedef int32_t att_i8 __attribute__((vector_size(32)));
typedef float att_v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define LD8(p) (*(const att_v8u *)(p))
#define ST8(p, v) (*(att_v8u *)(p) = (v))

/* One block: rows t0..t0+nt-1 of one (sequence, query head) and its kv
 * head. q, dout, o (the forward's out or the backward's dq) point at row
 * t0 (stride E); k, v, dk, dv at position 0 (stride kvd); a at the
 * probabilities' row t0 (stride T). */
typedef struct att_blk {
    const float *q, *k, *v, *dout;
    float *o, *dk, *dv, *a;
    const gt_kern *kern;
    size_t E, kvd;
    int T, t0, hd;
    float scale;
} att_blk;

/* out[i][p] = dot8(x_i, y_p) (x rows t0 + i, stride E; y rows p, stride
 * kvd) for i < nt, p < t0 + nt: dot8's lanes and tree, 8 lanes a vector. */
static inline __attribute__((always_inline)) void att_dots(float *out, const float *x, const float *y,
                                                           const att_blk *k, const int nt) {
    for (int p = 0; p < k->t0 + nt; p++) {
        att_v8 acc[ATT_R] = {{0}};
        for (int j = 0; j < k->hd; j += 8) {
            att_v8 yv = LD8(y + (size_t)p * k->kvd + j);
#pragma GCC unroll 8
            for (int i = 0; i < nt; i++) acc[i] += LD8(x + (size_t)i * k->E + j) * yv;
        }
        for (int i = 0; i < nt; i++) {
            att_v8 l = acc[i];
            out[(size_t)i * k->T + p] = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
        }
    }
}

/* a[p] *= scale for p < n; returns the largest (-inf for none), as the
 * scalar a[p] > mx ? a[p] : mx would: NaN is never taken, and the order
 * can only change which of -0 and +0 a 0 maximum is -- and a - (+0) and
 * a - (-0) differ only for a = -0, whose exp is 1 either way. */
static inline __attribute__((always_inline)) float att_scale_max(float *a, int n, float scale) {
    att_v8 m = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    int p = 0;
    for (; p + 8 <= n; p += 8) {
        att_v8 v = LD8(a + p) * scale;
        att_i8 gt = v > m;
        ST8(a + p, v);
        m = (att_v8)((gt & (att_i8)v) | (~gt & (att_i8)m));
    }
    float mx = -INFINITY;
    for (int l = 0; l < 8; l++) mx = m[l] > mx ? m[l] : mx;
    for (; p < n; p++) mx = (a[p] *= scale) > mx ? a[p] : mx;
    return mx;
}

/* a[p] *= s for p < n (each alone: any width gives the same bits). */
static inline __attribute__((always_inline)) void att_mul(float *a, int n, float s) {
    int p = 0;
    for (; p + 8 <= n; p += 8) ST8(a + p, LD8(a + p) * s);
    for (; p < n; p++) a[p] *= s;
}

/* The forward of one block: scores, softmax row by row, then out_i = 0 +
 * a_i[0] v_0 + a_i[1] v_1 + ... (p <= t0 + i), 8 dimensions at a time. */
static inline __attribute__((always_inline)) void att_fwd_block(const att_blk *k, const int nt) {
    att_dots(k->a, k->q, k->k, k, nt);
    for (int i = 0; i < nt; i++) {
        float *a = k->a + (size_t)i * k->T, sum = 0.0f;
        int t = k->t0 + i;
        k->kern->exp_shift(a, att_scale_max(a, t + 1, k->scale), t + 1);
        for (int p = 0; p <= t; p++) sum += a[p];
        att_mul(a, t + 1, 1.0f / sum);
        for (int p = t + 1; p < k->T; p++) a[p] = 0.0f;
    }
    for (int j = 0; j < k->hd; j += 8) {
        att_v8 o[ATT_R] = {{0}};
        for (int p = 0; p < k->t0 + nt; p++) {
            att_v8 vp = LD8(k->v + (size_t)p * k->kvd + j);
#pragma GCC unroll 8
            for (int i = 0; i < nt; i++)
                if (p <= k->t0 + i) o[i] += k->a[(size_t)i * k->T + p] * vp;
        }
#pragma GCC unroll 8
        for (int i = 0; i < nt; i++) ST8(k->o + (size_t)i * k->E + j, o[i]);
    }
}

/* One (sequence b, query head h) per unit: for each t, scores q_t.k_p * scale
 * for p <= t, softmax (max-shifted, gt_kern_expf, sum ascending), out =
 * sum_p a_p v_p, p ascending. The plain loops, for hd % 8 != 0. */
static void attention_fwd_plain(const args *s, int u) {
    int T = s->T, H = s->H, hd = s->hd, kvd = s->Hkv * hd, E = H * hd;
    float scale = 1.0f / sqrtf((float)hd);
    int b = u / H, h = u % H, g = h / (H / s->Hkv);
    for (int t = 0; t < T; t++) {
        const float *q = s->a + (size_t)(b * T + t) * E + h * hd;
        float *a = s->y2 + (((size_t)b * H + h) * T + t) * T, mx = -INFINITY, sum = 0.0f;
        for (int p = 0; p <= t; p++) {
            a[p] = gt_tr_dot8(q, s->b + (size_t)(b * T + p) * kvd + g * hd, hd) * scale;
            mx = a[p] > mx ? a[p] : mx;
        }
        s->kern->exp_shift(a, mx, t + 1);
        for (int p = 0; p <= t; p++) sum += a[p];
        float inv = 1.0f / sum, *o = s->y + (size_t)(b * T + t) * E + h * hd;
        memset(o, 0, (size_t)hd * sizeof(float));
        for (int p = 0; p <= t; p++) {
            a[p] *= inv;
            axpy(o, a[p], s->c + (size_t)(b * T + p) * kvd + g * hd, hd);
        }
        for (int p = t + 1; p < T; p++) a[p] = 0.0f;
    }
}

/* The block of rows t0.. of unit u (sequence b, query head h of kv head
 * g), for the forward (o = out) or the backward (o = dq, with dk, dv). */
static att_blk att_block(const args *s, int b, int h, int g, int t0, float *o) {
    int T = s->T, hd = s->hd, kvd = s->Hkv * hd, E = s->H * hd;
    att_blk k = {.q = s->a + (size_t)(b * T + t0) * E + h * hd, .k = s->b + (size_t)b * T * kvd + g * hd,
                 .v = s->c + (size_t)b * T * kvd + g * hd, .o = o + (size_t)(b * T + t0) * E + h * hd,
                 .kern = s->kern, .E = (size_t)E, .kvd = (size_t)kvd, .T = T, .t0 = t0, .hd = hd,
                 .scale = 1.0f / sqrtf((float)hd)};
    return k;
}

HOT static void attention_fwd_units(const args *s, int u0, int u1) {
    int T = s->T, H = s->H;
    for (int u = u0; u < u1; u++) {
        if (s->hd % 8) {
            attention_fwd_plain(s, u);
            continue;
        }
        int b = u / H, h = u % H, g = h / (H / s->Hkv);
        for (int t0 = 0; t0 < T; t0 += ATT_R) {
            att_blk k = att_block(s, b, h, g, t0, s->y);
            k.a = s->y2 + (((size_t)b * H + h) * T + t0) * T;
            if (T - t0 >= ATT_R) att_fwd_block(&k, ATT_R);
            else att_fwd_block(&k, T - t0);
        }
    }
}

void gt_tr_attention_fwd(gt_pool *p, float *out, float *att, const float *q, const float *k,
                         const float *v, int B, int T, int H, int Hkv, int hd) {
    assert(H % Hkv == 0);
    args s = {.y = out, .y2 = att, .a = q, .b = k, .c = v, .B = B, .T = T, .H = H, .Hkv = Hkv, .hd = hd,
              .kern = gt_tr_kern()};
    par_for(p, &s, B * H, attention_fwd_units);
}

/* The backward of one block (its rows' dq zeroed, ds: ATT_R x T scratch):
 * ds_i[p] = dout_i.v_p, dot_i = sum_p a_i[p] ds_i[p] (p ascending), d_i[p]
 * = a_i[p] (ds_i[p] - dot_i) scale; then for p ascending, for i ascending
 * with p <= t0 + i: dq_i += d_i[p] k_p, dk_p += d_i[p] q_i, dv_p += a_i[p]
 * dout_i -- so dk_p and dv_p still take their terms with t ascending. */
static inline __attribute__((always_inline)) void att_bwd_block(const att_blk *k, float *ds, const int nt) {
    float dot[ATT_R] = {0};
    att_dots(ds, k->dout, k->v, k, nt);
    for (int p = 0; p < k->t0 + nt; p++)
#pragma GCC unroll 8
        for (int i = 0; i < nt; i++)
            if (p <= k->t0 + i) dot[i] += k->a[(size_t)i * k->T + p] * ds[(size_t)i * k->T + p];
    for (int i = 0; i < nt; i++)
        for (int p = 0; p <= k->t0 + i; p++) {
            float *d = ds + (size_t)i * k->T + p;
            *d = k->a[(size_t)i * k->T + p] * (*d - dot[i]) * k->scale;
        }
    for (int j = 0; j < k->hd; j += 8) {
        /* (rows i >= nt stay 0, unused; the zeros quiet -Wmaybe-uninitialized) */
        att_v8 q[ATT_R] = {{0}}, dout[ATT_R] = {{0}}, dq[ATT_R] = {{0}};
#pragma GCC unroll 8
        for (int i = 0; i < nt; i++)
            q[i] = LD8(k->q + (size_t)i * k->E + j), dout[i] = LD8(k->dout + (size_t)i * k->E + j),
            dq[i] = LD8(k->o + (size_t)i * k->E + j);
        for (int p = 0; p < k->t0 + nt; p++) {
            size_t at = (size_t)p * k->kvd + j;
            att_v8 kp = LD8(k->k + at), dk = LD8(k->dk + at), dv = LD8(k->dv + at);
#pragma GCC unroll 8
            for (int i = 0; i < nt; i++)
                if (p <= k->t0 + i) {
                    float d = ds[(size_t)i * k->T + p], a = k->a[(size_t)i * k->T + p];
                    dq[i] += d * kp;
                    dk += d * q[i];
                    dv += a * dout[i];
                }
            ST8(k->dk + at, dk), ST8(k->dv + at, dv);
        }
#pragma GCC unroll 8
        for (int i = 0; i < nt; i++) ST8(k->o + (size_t)i * k->E + j, dq[i]);
    }
}

/* The plain loops of the backward for query head h of unit u (for hd % 8
 * != 0): for each t ascending: da_p = dout_t.v_p, ds_p = a_p (da_p -
 * sum_j a_j da_j) scale, dq_t += ds_p k_p, dk_p += ds_p q_t, dv_p += a_p
 * dout_t (p ascending). */
static void attention_bwd_plain(const args *s, int u, int h) {
    int T = s->T, H = s->H, hd = s->hd, kvd = s->Hkv * hd, E = H * hd;
    int b = u / s->Hkv, g = u % s->Hkv;
    float scale = 1.0f / sqrtf((float)hd);
    for (int t = 0; t < T; t++) {
        const float *a = s->e + (((size_t)b * H + h) * T + t) * T;
        const float *dout = s->d + (size_t)(b * T + t) * E + h * hd;
        const float *q = s->a + (size_t)(b * T + t) * E + h * hd;
        float *dq = s->y + (size_t)(b * T + t) * E + h * hd, *ds = s->f + (size_t)u * ATT_R * T;
        float dot = 0.0f;
        for (int p = 0; p <= t; p++) {
            ds[p] = gt_tr_dot8(dout, s->c + (size_t)(b * T + p) * kvd + g * hd, hd);
            dot += a[p] * ds[p];
        }
        for (int p = 0; p <= t; p++) {
            float d = a[p] * (ds[p] - dot) * scale;
            axpy(dq, d, s->b + (size_t)(b * T + p) * kvd + g * hd, hd);
            axpy(s->y2 + (size_t)(b * T + p) * kvd + g * hd, d, q, hd);
            axpy(s->y3 + (size_t)(b * T + p) * kvd + g * hd, a[p], dout, hd);
        }
    }
}

/* One (sequence b, kv head g) per unit, so dk and dv of its positions have
 * one writer; its query heads h in ascending order, each in blocks of rows
 * ascending (or the plain loops). */
HOT static void attention_bwd_units(const args *s, int u0, int u1) {
    int T = s->T, H = s->H, hd = s->hd, kvd = s->Hkv * hd, E = H * hd, group = H / s->Hkv;
    for (int u = u0; u < u1; u++) {
        int b = u / s->Hkv, g = u % s->Hkv;
        for (int t = 0; t < T; t++) {
            memset(s->y2 + (size_t)(b * T + t) * kvd + g * hd, 0, (size_t)hd * sizeof(float));
            memset(s->y3 + (size_t)(b * T + t) * kvd + g * hd, 0, (size_t)hd * sizeof(float));
            memset(s->y + (size_t)(b * T + t) * E + g * group * hd, 0, (size_t)group * hd * sizeof(float));
        }
        for (int h = g * group; h < (g + 1) * group; h++) {
            if (hd % 8) {
                attention_bwd_plain(s, u, h);
                continue;
            }
            for (int t0 = 0; t0 < T; t0 += ATT_R) {
                att_blk k = att_block(s, b, h, g, t0, s->y);
                k.dout = s->d + (size_t)(b * T + t0) * E + h * hd;
                k.dk = s->y2 + (size_t)b * T * kvd + g * hd, k.dv = s->y3 + (size_t)b * T * kvd + g * hd;
                k.a = (float *)s->e + (((size_t)b * H + h) * T + t0) * T;
                float *ds = s->f + (size_t)u * ATT_R * T;
                if (T - t0 >= ATT_R) att_bwd_block(&k, ds, ATT_R);
                else att_bwd_block(&k, ds, T - t0);
            }
        }
    }
}

void gt_tr_attention_bwd(gt_pool *p, float *dq, float *dk, float *dv, const float *dout,
                         const float *att, const float *q, const float *k, const float *v, int B,
                         int T, int H, int Hkv, int hd, float *scratch) {
    args s = {.y = dq, .y2 = dk, .y3 = dv, .f = scratch, .a = q, .b = k, .c = v, .d = dout, .e = att,
              .B = B, .T = T, .H = H, .Hkv = Hkv, .hd = hd};
    par_for(p, &s, B * Hkv, attention_bwd_units);
}

/* --- residual adds and SwiGLU: element-wise -------------------------------------- */

/* Threads split the elements in chunks of ELEM_CHUNK (each element is
 * computed alone: the split changes no bit). */
#define ELEM_CHUNK 4096

/* The chunks c0..c1-1 of s->n64 elements: [c0 CHUNK, min(c1 CHUNK, n)). */
static void chunk_span(const args *s, int c0, int c1, int64_t *i0, int64_t *i1) {
    *i0 = (int64_t)c0 * ELEM_CHUNK;
    *i1 = (int64_t)c1 * ELEM_CHUNK < s->n64 ? (int64_t)c1 * ELEM_CHUNK : s->n64;
}

/* -g[i] for i < m into ex, then exp(ex[i]) by the path's vector exp (exp(x - 0) is exp(x), bit for bit). */
static inline __attribute__((always_inline)) void swiglu_exp_neg(float *restrict ex, const float *restrict g,
                                                                 const gt_kern *kern, int m) {
    for (int i = 0; i < m; i++) ex[i] = -g[i];
    kern->exp_shift(ex, 0.0f, m);
}

HOT static void swiglu_fwd_chunks(const args *s, int c0, int c1) {
    int64_t i0, i1;
    chunk_span(s, c0, c1, &i0, &i1);
    float ex[ELEM_CHUNK];
    for (int64_t c = i0; c < i1; c += ELEM_CHUNK) {
        int m = (int)(i1 - c < ELEM_CHUNK ? i1 - c : ELEM_CHUNK);
        const float *restrict g = s->a + c, *restrict u = s->b + c;
        float *restrict h = s->y + c;
        swiglu_exp_neg(ex, g, s->kern, m);
        for (int i = 0; i < m; i++) h[i] = g[i] / (1.0f + ex[i]) * u[i];
    }
}

void gt_tr_swiglu_fwd(gt_pool *p, float *h, const float *g, const float *u, int64_t n) {
    assert(n >= 0 && n / ELEM_CHUNK < INT32_MAX);
    args s = {.y = h, .a = g, .b = u, .n64 = n, .kern = gt_tr_kern()};
    par_for(p, &s, (int)((n + ELEM_CHUNK - 1) / ELEM_CHUNK), swiglu_fwd_chunks);
}

/* y[i] += x[i], chunks split across threads. */
HOT static void add_chunks(const args *s, int c0, int c1) {
    int64_t i0, i1;
    chunk_span(s, c0, c1, &i0, &i1);
    float *restrict y = s->y;
    const float *restrict x = s->a;
    for (int64_t i = i0; i < i1; i++) y[i] += x[i];
}

void gt_tr_add(gt_pool *p, float *y, const float *x, int64_t n) {
    assert(n >= 0 && n / ELEM_CHUNK < INT32_MAX);
    args s = {.y = y, .a = x, .n64 = n};
    par_for(p, &s, (int)((n + ELEM_CHUNK - 1) / ELEM_CHUNK), add_chunks);
}

/* With s = sigmoid(g) = 1 / e, e = 1 + exp(-g) (ex[i] holds exp(-g[i])):
 * d silu/dg = s (1 + g (1 - s)); no branch, so it vectorizes. */
static inline __attribute__((always_inline)) void swiglu_bwd_span(float *restrict dg, float *restrict du,
                                                                  const float *restrict dh, const float *restrict g,
                                                                  const float *restrict u, const float *restrict ex,
                                                                  int m) {
    for (int i = 0; i < m; i++) {
        float e = 1.0f + ex[i], sg = 1.0f / e, silu = g[i] / e;
        du[i] = dh[i] * silu;
        dg[i] = dh[i] * u[i] * (sg * (1.0f + g[i] * (1.0f - sg)));
    }
}

HOT static void swiglu_bwd_chunks(const args *s, int c0, int c1) {
    int64_t i0, i1;
    chunk_span(s, c0, c1, &i0, &i1);
    float ex[ELEM_CHUNK];
    for (int64_t c = i0; c < i1; c += ELEM_CHUNK) {
        int m = (int)(i1 - c < ELEM_CHUNK ? i1 - c : ELEM_CHUNK);
        swiglu_exp_neg(ex, s->b + c, s->kern, m);
        swiglu_bwd_span(s->y + c, s->y2 + c, s->a + c, s->b + c, s->c + c, ex, m);
    }
}

void gt_tr_swiglu_bwd(gt_pool *p, float *dg, float *du, const float *dh, const float *g, const float *u,
                      int64_t n) {
    assert(n >= 0 && n / ELEM_CHUNK < INT32_MAX);
    args s = {.y = dg, .y2 = du, .a = dh, .b = g, .c = u, .n64 = n, .kern = gt_tr_kern()};
    par_for(p, &s, (int)((n + ELEM_CHUNK - 1) / ELEM_CHUNK), swiglu_bwd_chunks);
}

/* --- cross-entropy --------------------------------------------------------------- */

HOT static void xent_fwd_rows(const args *s, int n0, int n1) {
    int V = s->I;
    for (int n = n0; n < n1; n++) {
        float *x = s->y + (size_t)n * V, mx = -INFINITY, sum = 0.0f;
        for (int i = 0; i < V; i++) mx = x[i] > mx ? x[i] : mx;
        int32_t tg = s->tok[n];
        float zt = tg >= 0 ? x[tg] - mx : 0.0f;
        s->kern->exp_shift(x, mx, V);
        for (int i = 0; i < V; i++) sum += x[i];
        float inv = 1.0f / sum;
        for (int i = 0; i < V; i++) x[i] *= inv;
        s->dd[n] = tg >= 0 ? gt_dmath_log((double)sum) - (double)zt : 0.0;
    }
}

double gt_tr_xent_fwd(gt_pool *p, float *probs, double *row_loss, const int32_t *targets, int N,
                      int V) {
    args s = {.y = probs, .dd = row_loss, .tok = targets, .I = V, .kern = gt_tr_kern()};
    par_for(p, &s, N, xent_fwd_rows);
    double sum = 0;
    for (int n = 0; n < N; n++) sum += row_loss[n];
    return sum;
}

static void xent_bwd_rows(const args *s, int n0, int n1) {
    int V = s->I;
    for (int n = n0; n < n1; n++) {
        float *d = s->y + (size_t)n * V;
        const float *pr = s->a + (size_t)n * V;
        int32_t tg = s->tok[n];
        if (tg < 0) {
            memset(d, 0, (size_t)V * sizeof(float));
            continue;
        }
        for (int i = 0; i < V; i++) d[i] = (pr[i] - (i == tg ? 1.0f : 0.0f)) * s->scale;
    }
}

void gt_tr_xent_bwd(gt_pool *p, float *dlogits, const float *probs, const int32_t *targets,
                    int N, int V, float scale) {
    args s = {.y = dlogits, .a = probs, .tok = targets, .I = V, .scale = scale};
    par_for(p, &s, N, xent_bwd_rows);
}
