/* forward.c: the forward pass of an evaluation context (llama, qwen2,
 * qwen3, gemma3, phi3).
 *
 * One pass handles a batch of tokens: each matrix is streamed once for the
 * whole batch (the kernels block 16-row tiles x several tokens). Each step
 * is cut into fixed chunks that the pool's threads claim from an atomic
 * counter (gt_pool_run_shared), so a thread the OS has parked delays
 * nothing. Every output is computed by one thread in the kernels' fixed
 * order, and a chunk's result does not depend on who computes it, so logits
 * do not depend on the thread count or on scheduling:
 *   - matmuls: chunks of a few tiles (rows), never the dot product;
 *   - norms: NORM_ROWS tokens per chunk (each row its own sum);
 *   - rope, KV cache writes and attention: one KV head (with its group of
 *     query heads) per chunk, all tokens of the batch.
 * Cheap element-wise steps ride along with the step producing their input:
 * residual adds, SiLU(gate) * up and quantizing the result for the down
 * projection are done by the chunk owning those rows right after its
 * matmul; the attention output is quantized by the chunk that computed it.
 * Per layer that leaves 7 synchronisations; a batch of up to NORM_ROWS
 * tokens (decoding) has 5, its two norms done by the thread finishing the
 * matmul before each (run_mm_resid).
 *
 * The KV cache holds halves (f16): [sequence][layer][kv head]
 * [position][head_dim], so a head's keys (and values) are one contiguous
 * stream. A context may hold several sequences (gt_ctx_params.n_seq), and a
 * batch may mix tokens of any of them at any positions (gt_ctx_eval_batch:
 * continuous batching): each token carries its own sequence and position,
 * and since every step above computes a token's output from that token's
 * row alone (and attention reads only its own sequence), a token's logits
 * are the same bytes whatever else is in the batch.
 *
 * Architectures differ only in steps inside that frame: q/k biases (qwen2),
 * per-head q/k norms (qwen3, gemma3), rope tables (llama3 frequency factors,
 * linear scaling, gemma3's second base for its sliding-window layers), the
 * attention window, GELU instead of SiLU, and gemma3's norms of the attention
 * and FFN outputs before their residual adds (one more step each: a norm
 * needs the whole row). */
#include <assert.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "infer/ctx_impl.h"
#include "infer/dmath.h"
#include "infer/gelu.h"
#include "infer/kquant.h"
#include "infer/pf_tune.h"

#define NORM_ROWS GT_CTX_NORM_ROWS /* each thread's scratch holds this many rows (ctx_impl.h) */

enum { OP_NORM, OP_MM, OP_ATTN, OP_QUANT_ATTN, OP_POST_NORM };
enum { POST_NONE, POST_RESID, POST_SWIGLU };

/* Tiles per matmul chunk: multiples of 2 so SwiGLU chunks cover whole
 * blocks of 32 columns of the down projection's input (quantized in place).
 * Batches take short ones (balance between threads). Decoding one token
 * takes long runs per thread, fewer restarts of the memory streams: the
 * largest list's tiles shared out once among the threads, at most
 * MM_CHUNK_TILES_DECODE (2 threads, qwen3-0.6b Q4_K_M: 32 tiles 131 t/s
 * against 16 tiles 123 and 8 tiles 114, mean of 5 alternations; llama3.2-1b
 * 73 against 71), at least MM_CHUNK_TILES (many threads keep every thread
 * busy). */
#define MM_CHUNK_TILES 4
#define MM_CHUNK_TILES_DECODE 32
/* K-quant tiles (one prefetched stream a tile) take longer runs: at most 96
 * tiles, on 2 threads one chunk a thread for qwen3-0.6b's q, gate and up.
 * Alternating with 32 (bench_infer MODEL -t 2 -p 1 -n 64 -r 3): qwen3-0.6b
 * Q4_K_M 119.7 against 116.0 t/s (12 pairs, 10 higher), llama3.2-1b Q4_K_M
 * 67.7 against 66.3 (6 pairs, 4 higher); the same cap on Q8_0 tiles, which
 * read NR tiles side by side, cost qwen3-0.6b Q8_0 69.4 against 73.2. */
#define MM_CHUNK_TILES_DECODE_KQ 96

typedef struct job {
    gt_ctx *c;
    int op, il, n, pos;
    _Atomic int next;        /* next chunk to claim */
    /* OP_NORM: rows src[t * n_embd] for t < n, times norm, into dst.
     * OP_POST_NORM: the same rows normed, added to the residual stream. */
    const float *src, *norm;
    gt_act *dst;
    /* OP_MM: up to 3 matrices against act. With then_norm (a batch of at
     * most NORM_ROWS tokens after a residual add), the thread that finishes
     * the last chunk norms the residual stream into a_embd with it: the
     * next step's input without a step of its own. */
    int n_mm, post;
    const float *then_norm;
    _Atomic int done;        /* chunks finished (OP_MM, OP_ATTN) */
    /* Decoding: the matrices the next step starts with (its largest list;
     * gate and up for SwiGLU), or NULL: see prefetch_next. */
    const gt_qmat *pf_w[2];
    const gt_qmat *w[3];
    float *y[3];
    size_t ldy[3];
    const gt_act *act;
    /* OP_ATTN: whether each chunk quantizes its columns of the output. */
    int attn_quant;
} job;


/* The sums of squares of nr <= NORM_ROWS rows of n floats, each in double
 * and in order. Why several rows: one row's sum is a chain of dependent
 * double adds (latency-bound, ~5% of prefill measured); independent rows
 * in one loop overlap in the pipeline, and each row's sum is still its own
 * chain, so its bits do not change. Missing rows repeat row 0. */
static void sumsq_rows(const float *const *x, int nr, int n, double *ss) {
    assert(nr >= 1 && nr <= NORM_ROWS);
    const float *a = x[0], *b = x[nr > 1 ? 1 : 0], *c = x[nr > 2 ? 2 : 0], *d = x[nr > 3 ? 3 : 0];
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < n; i++) {
        s0 += (double)a[i] * a[i];
        s1 += (double)b[i] * b[i];
        s2 += (double)c[i] * c[i];
        s3 += (double)d[i] * d[i];
    }
    double all[NORM_ROWS] = {s0, s1, s2, s3};
    for (int r = 0; r < nr; r++) ss[r] = all[r];
}

/* out[i] = (x[i] * scale) * w[i] for i < n. out may be x: each element reads
 * only its own x[i]. Four lanes at a time by the compiler's vector
 * extension, since -O2 leaves the plain loop scalar (it cannot rule out
 * aliasing; measured: half of rms_norm_rows' time); each lane does the
 * scalar operations, so the bits are the same. */
static void scale_row(const float *x, float scale, const float *w, float *out, int n) {
    typedef float v4 __attribute__((vector_size(16)));
    const v4 s = {scale, scale, scale, scale};
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v4 a, b;
        memcpy(&a, x + i, sizeof a);
        memcpy(&b, w + i, sizeof b);
        a = (a * s) * b;
        memcpy(out + i, &a, sizeof a);
    }
    for (; i < n; i++) out[i] = (x[i] * scale) * w[i];
}

/* x[i] += y[i] for i < n (x and y apart), four lanes at a time as
 * scale_row: the plain loop stays scalar at -O2; the same bits. */
static void add_row(float *x, const float *y, int n) {
    typedef float v4 __attribute__((vector_size(16)));
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v4 a, b;
        memcpy(&a, x + i, sizeof a);
        memcpy(&b, y + i, sizeof b);
        a = a + b;
        memcpy(x + i, &a, sizeof a);
    }
    for (; i < n; i++) x[i] += y[i];
}

/* x[i] *= s for i < n, four lanes at a time as scale_row; the same bits. */
static void mul_row(float *x, float s, int n) {
    typedef float v4 __attribute__((vector_size(16)));
    const v4 sv = {s, s, s, s};
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v4 a;
        memcpy(&a, x + i, sizeof a);
        a = a * sv;
        memcpy(x + i, &a, sizeof a);
    }
    for (; i < n; i++) x[i] *= s;
}

/* out[r] = x[r] * rsqrt(mean(x[r]^2) + eps) * w[r] for nr <= NORM_ROWS rows
 * of n floats (out[r] may be x[r]: every sum is taken before any write);
 * the sum of squares in double, in order (sumsq_rows). */
static void rms_norm_rows(const float *const *x, const float *const *w, float *const *out, int nr, int n,
                          float eps) {
    double ss[NORM_ROWS];
    sumsq_rows(x, nr, n, ss);
    for (int r = 0; r < nr; r++) scale_row(x[r], 1.0f / sqrtf((float)(ss[r] / n) + eps), w[r], out[r], n);
}

/* x * rsqrt(mean(x^2) + eps) * w: rms_norm_rows for one row. */
static void rms_norm(const float *x, const float *w, float *out, int n, float eps) {
    rms_norm_rows(&x, &w, &out, 1, n, eps);
}

/* Rotates the first rope_dims of one head: adjacent pairs (llama) or halves
 * (NEOX, qwen2), with the position's cos/sin table. */
static void rope_head(float *v, const float *cs, int rope_dims, int neox) {
    int half = rope_dims / 2;
    for (int i = 0; i < half; i++) {
        int i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        float c = cs[2 * i], s = cs[2 * i + 1], a = v[i0], b = v[i1];
        v[i0] = a * c - b * s;
        v[i1] = a * s + b * c;
    }
}

/* One matmul chunk: tiles [t0, t1) of list i (for SwiGLU: of gate and up),
 * then the post-op for exactly those rows. */
static void mm_chunk(const job *j, int i, int t0, int t1) {
    gt_ctx *c = j->c;
    const gt_qmat *w = j->w[i];
    c->k->matmul(w, t0, t1, j->act, j->y[i], j->ldy[i]);
    int r0 = t0 * GT_KERN_TILE_ROWS, r1 = t1 * GT_KERN_TILE_ROWS;
    if (r1 > w->n_rows) r1 = w->n_rows;
    if (j->post == POST_RESID) {
        int E = c->m->hp.n_embd;
        for (int t = 0; t < j->n; t++)
            add_row(c->x + (size_t)t * E + r0, j->y[i] + (size_t)t * j->ldy[i] + r0, r1 - r0);
    } else if (j->post == POST_SWIGLU) {
        c->k->matmul(j->w[1], t0, t1, j->act, j->y[1], j->ldy[1]);
        int F = c->m->hp.n_ff;
        assert(r0 % GT_QK == 0 && (r1 % GT_QK == 0 || r1 == F));
        for (int t = 0; t < j->n; t++) {
            float *g = c->g + (size_t)t * F;
            const float *u = c->u + (size_t)t * F;
            if (c->m->hp.gemma) gt_gelu_mul(g + r0, u + r0, r1 - r0);
            else c->k->silu_mul(g + r0, u + r0, r1 - r0);
            c->k->act_set(&c->a_ff, t, g, r0, r1, c->a_ff.q8);
        }
    }
}

/* One norm chunk: rows t0 .. min(t0 + NORM_ROWS, n) of src (rows of
 * n_embd) times norm, into dst (scratch: NORM_ROWS rows of n_embd). */
static void norm_chunk(gt_ctx *c, const float *src, const float *norm, gt_act *dst, int t0, int n, float *scratch) {
    const gt_hparams *hp = &c->m->hp;
    size_t E = (size_t)hp->n_embd;
    int nr = n - t0 < NORM_ROWS ? n - t0 : NORM_ROWS;
    assert(nr >= 1);
    const float *xs[NORM_ROWS], *ws[NORM_ROWS];
    float *os[NORM_ROWS];
    for (int r = 0; r < nr; r++) xs[r] = src + (size_t)(t0 + r) * E, ws[r] = norm, os[r] = scratch + (size_t)r * E;
    rms_norm_rows(xs, ws, os, nr, hp->n_embd, hp->rms_eps);
    for (int r = 0; r < nr; r++) c->k->act_set(dst, t0 + r, os[r], 0, hp->n_embd, dst->q8);
}

/* Tiles per chunk of one token's matmul (above) over lists w[0..n_lists):
 * the largest list's tiles over nth threads, rounded up to even, within
 * [MM_CHUNK_TILES, MM_CHUNK_TILES_DECODE], or MM_CHUNK_TILES_DECODE_KQ
 * when every list is a K-quant. */
static int decode_chunk_tiles(const gt_qmat *const *w, int n_lists, int nth) {
    int most = 0, kq = 1;
    for (int i = 0; i < n_lists; i++) {
        most = w[i]->n_tiles > most ? w[i]->n_tiles : most;
        kq &= gt_kq_is_k(w[i]->type);
    }
    int per = (most + nth - 1) / nth, cap = kq ? MM_CHUNK_TILES_DECODE_KQ : MM_CHUNK_TILES_DECODE;
    per += per & 1;
    return per < MM_CHUNK_TILES ? MM_CHUNK_TILES : per > cap ? cap : per;
}

/* Decoding, once thread ith finds no chunk of this step left: while the
 * others finish theirs (until done reaches total), asks for the lines of
 * the chunk it will likely take first in the next step (chunk ith of
 * pf_w: threads join a step in about their order), into L2, 4 KiB at a
 * time. Why: at a step's end one thread still streams its last chunk at
 * about half the machine's bandwidth while the others wait; this spends
 * the other half on the next step's first bytes. A hint only: no value
 * depends on it. */
static void prefetch_next(const job *j, int ith, int total) {
    if (j->n != 1 || !j->pf_w[0]) return;
    int per = decode_chunk_tiles(j->pf_w, 1, j->c->n_threads);
    for (int i = 0; i < 2 && j->pf_w[i]; i++) {
        const gt_qmat *w = j->pf_w[i];
        int t0 = ith * per, t1 = t0 + per < w->n_tiles ? t0 + per : w->n_tiles;
        const char *p = (const char *)w->qs + (size_t)t0 * w->qs_tile_bytes;
        const char *end = (const char *)w->qs + (size_t)(t1 > t0 ? t1 : t0) * w->qs_tile_bytes;
        for (; p < end; p += 4096) {
            if (atomic_load(&j->done) >= total) return;
            for (int b = 0; b < 4096 && p + b < end; b += 64) __builtin_prefetch(p + b, 0, 2);
        }
    }
}

/* Claims matmul chunks until none is left. The lists (q, k, v, or one
 * matrix) are cut into chunks of MM_CHUNK_TILES tiles (one token:
 * decode_chunk_tiles); then_norm: the last one to finish norms (above);
 * then prefetch_next. */
static void do_mm(job *j, int ith, float *scratch) {
    int n_lists = j->post == POST_SWIGLU ? 1 : j->n_mm; /* gate and up go together */
    int per = j->n == 1 ? decode_chunk_tiles(j->w, n_lists, j->c->n_threads) : MM_CHUNK_TILES;
    assert(per >= 2 && per % 2 == 0);
    int chunks[3], total = 0;
    for (int i = 0; i < n_lists; i++) {
        chunks[i] = (j->w[i]->n_tiles + per - 1) / per;
        total += chunks[i];
    }
    for (int ch; (ch = atomic_fetch_add(&j->next, 1)) < total;) {
        int i = 0;
        while (ch >= chunks[i]) ch -= chunks[i++];
        int t0 = ch * per, t1 = t0 + per;
        if (t1 > j->w[i]->n_tiles) t1 = j->w[i]->n_tiles;
        mm_chunk(j, i, t0, t1);
        /* Counted only when read (a batch's many chunks skip the shared
         * line). The last chunk's end: every other chunk's rows are in x
         * (each finished before its fetch_add, which this one reads after). */
        if ((j->then_norm || j->pf_w[0]) && atomic_fetch_add(&j->done, 1) == total - 1 && j->then_norm)
            norm_chunk(j->c, j->c->x, j->then_norm, &j->c->a_embd, 0, j->n, scratch);
    }
    prefetch_next(j, ith, total);
}

/* The query scale gemma3 and phi3 apply to q before the dot products, as
 * llama.cpp does: 1/sqrt(head_dim), except Gemma 3 27B (62 layers), which
 * uses 1/sqrt(n_embd / n_head) (llama.cpp keys it on the layer count). */
static float q_prescale(const gt_hparams *hp) {
    int d = hp->gemma && hp->n_layer == 62 ? hp->n_embd / hp->n_head : hp->head_dim;
    return 1.0f / sqrtf((float)d);
}

/* Token t's q heads h0..h1 and KV head g before attention: biases (qwen2),
 * per-head norms (qwen3, gemma3), rope, the q scale of gemma3 and phi3; k and v into the
 * cache of its sequence at its position. */
static void prepare_qkv(const job *j, int g, int t) {
    gt_ctx *c = j->c;
    const gt_hparams *hp = &c->m->hp;
    const gt_layer *L = &c->m->layers[j->il];
    int Q = hp->q_dim, hd = hp->head_dim, kvd = hp->n_head_kv * hd;
    int group = hp->n_head / hp->n_head_kv, h0 = g * group, h1 = h0 + group;
    float *q = c->q + (size_t)t * Q, *k = c->kk + (size_t)t * kvd + (size_t)g * hd;
    float *v = c->vv + (size_t)t * kvd + (size_t)g * hd;
    if (L->bq) {
        for (int i = h0 * hd; i < h1 * hd; i++) q[i] += L->bq[i];
        for (int i = 0; i < hd; i++) k[i] += L->bk[g * hd + i], v[i] += L->bv[g * hd + i];
    }
    if (L->q_norm) { /* the group's q heads, then k, in place, NORM_ROWS at a time */
        const float *xs[NORM_ROWS], *ws[NORM_ROWS];
        float *os[NORM_ROWS];
        int nr = 0;
        for (int h = h0; h <= h1; h++) {
            float *row = h < h1 ? q + h * hd : k;
            xs[nr] = os[nr] = row;
            ws[nr++] = h < h1 ? L->q_norm : L->k_norm;
            if (nr == NORM_ROWS || h == h1) {
                rms_norm_rows(xs, ws, os, nr, hd, hp->rms_eps);
                nr = 0;
            }
        }
    }
    const float *table = gt_hparams_is_swa(hp, j->il) ? c->rope_swa : c->rope;
    const float *cs = table + (size_t)t * hp->rope_dims;
    for (int h = h0; h < h1; h++) rope_head(q + h * hd, cs, hp->rope_dims, hp->rope_neox);
    rope_head(k, cs, hp->rope_dims, hp->rope_neox);
    if (hp->q_prescale) {
        float qs = q_prescale(hp);
        for (int i = h0 * hd; i < h1 * hd; i++) q[i] *= qs;
    }
    /* Keys and values are stored as f16, as llama.cpp's default cache
     * keeps them: half the memory and half the bytes attention reads, and
     * results track the reference more closely (measured on the tiny
     * fixtures: worst Q8_0 error 0.94 -> 0.82 of the tolerance). */
    size_t at = gt_ctx_kv_head_off(c, c->tseq[t], j->il, g) + (size_t)c->tpos[t] * hd;
    c->k->f16_store(c->kc + at, k, hd);
    c->k->f16_store(c->vc + at, v, hd);
}

/* Turns one head's n scores into softmax weights short of the division:
 * scaled, less their maximum, exponentiated in place; returns 1 / their
 * sum, which the weighted sum of the values is multiplied by. The same steps
 * in the same order for every head, alone or in a pair. */
static float scores_to_weights(const gt_ctx *c, float *s, float scale, int n) {
    float mx = -INFINITY, sum = 0.0f;
    mul_row(s, scale, n);
    for (int p = 0; p < n; p++) mx = s[p] > mx ? s[p] : mx;
    c->k->exp_shift(s, mx, n);
    for (int p = 0; p < n; p++) sum += s[p];
    return 1.0f / sum;
}

/* Asks for the cache lines of KV head g's keys and values that a decoded
 * token (token 0 of a batch of one) reads and writes: positions up to its
 * own within the window, at most KV_PREFETCH_BYTES of each (a longer run is
 * the hardware prefetcher's). Why: a decode step reads a few KiB per head,
 * last touched a whole token ago and evicted by the weights streamed since,
 * in runs too short for the hardware prefetcher; asked for at once, the
 * misses overlap each other and prepare_qkv (measured, qwen3-0.6b Q4_K_M on
 * 2 threads, positions 1-64: the attention step 26-31 us a layer before,
 * 22-26 after). A hint only: no value depends on it. */
#define KV_PREFETCH_BYTES 16384
static void prefetch_kv(const gt_ctx *c, int il, int g) {
    const gt_hparams *hp = &c->m->hp;
    int n_kv = c->tpos[0] + 1, p0 = gt_hparams_is_swa(hp, il) && n_kv > hp->n_swa ? n_kv - hp->n_swa : 0;
    size_t bytes = (size_t)(n_kv - p0) * (size_t)hp->head_dim * sizeof(gt_f16);
    if (bytes > KV_PREFETCH_BYTES) bytes = KV_PREFETCH_BYTES;
    size_t off = gt_ctx_kv_head_off(c, c->tseq[0], il, g) + (size_t)p0 * (size_t)hp->head_dim;
    const char *k = (const char *)(c->kc + off), *v = (const char *)(c->vc + off);
    for (size_t b = 0; b < bytes; b += 64) {
        __builtin_prefetch(k + b, 0, 3);
        __builtin_prefetch(v + b, 0, 3);
    }
}

/* KV head g and its group of query heads, for every token of the batch:
 * q, k, v prepared and cached (prepare_qkv), then causal attention of each
 * token t over positions 0..tpos[t] of its own sequence (a sliding-window
 * layer: the last n_swa of them), and (attn_quant) the output columns of the group quantized for
 * the output projection. Nothing here reads another group's values, so
 * groups run in any order. */
static void do_head_group(const job *j, int g, float *scores) {
    gt_ctx *c = j->c;
    const gt_hparams *hp = &c->m->hp;
    int Q = hp->q_dim, hd = hp->head_dim;
    int group = hp->n_head / hp->n_head_kv, h0 = g * group, h1 = h0 + group;
    float scale = hp->q_prescale ? 1.0f : 1.0f / sqrtf((float)hd);
    int swa = gt_hparams_is_swa(hp, j->il);
    if (j->n == 1) prefetch_kv(c, j->il, g);
    for (int t = 0; t < j->n; t++) prepare_qkv(j, g, t);
    for (int t = 0; t < j->n; t++) {
        /* This token's sequence's keys and values: n_ctx rows of hd, contiguous. */
        size_t head_off = gt_ctx_kv_head_off(c, c->tseq[t], j->il, g);
        const gt_f16 *kc = c->kc + head_off, *vc = c->vc + head_off;
        int n_kv = c->tpos[t] + 1, p0 = swa && n_kv > hp->n_swa ? n_kv - hp->n_swa : 0, n_att = n_kv - p0;
        float *out = c->att + (size_t)t * Q, *s1 = scores + c->n_ctx;
        const float *qt = c->q + (size_t)t * Q;
        const gt_f16 *k0 = kc + (size_t)p0 * hd, *v0 = vc + (size_t)p0 * hd;
        int h = h0;
        for (; h + 1 < h1; h += 2) { /* two heads of the group at once: keys and values widened once */
            float *o = out + (size_t)h * hd;
            c->k->dots2(scores, s1, qt + (size_t)h * hd, qt + (size_t)(h + 1) * hd, k0, (size_t)hd, n_att, hd);
            float inv0 = scores_to_weights(c, scores, scale, n_att), inv1 = scores_to_weights(c, s1, scale, n_att);
            c->k->wsum2(o, o + hd, scores, s1, v0, (size_t)hd, n_att, hd);
            mul_row(o, inv0, hd);
            mul_row(o + hd, inv1, hd);
        }
        if (h < h1) {
            float *o = out + (size_t)h * hd;
            c->k->dots(scores, qt + (size_t)h * hd, k0, (size_t)hd, n_att, hd);
            float inv = scores_to_weights(c, scores, scale, n_att);
            c->k->wsum(o, scores, v0, (size_t)hd, n_att, hd);
            mul_row(o, inv, hd);
        }
        if (j->attn_quant) c->k->act_set(&c->a_attn, t, out, h0 * hd, h1 * hd, c->a_attn.q8);
    }
}

/* The pool's entry: claims chunks of the job's step until none is left. */
static void worker(void *arg, int ith, int nth) {
    job *j = arg;
    gt_ctx *c = j->c;
    const gt_hparams *hp = &c->m->hp;
    float *scratch = c->scratch + (size_t)ith * c->scratch_len;
    int ch;
    switch (j->op) {
    case OP_MM: do_mm(j, ith, scratch); break;
    case OP_NORM: /* NORM_ROWS tokens per chunk */
        while ((ch = atomic_fetch_add(&j->next, 1)) < (j->n + NORM_ROWS - 1) / NORM_ROWS)
            norm_chunk(c, j->src, j->norm, j->dst, ch * NORM_ROWS, j->n, scratch);
        break;
    case OP_ATTN:
        while ((ch = atomic_fetch_add(&j->next, 1)) < hp->n_head_kv) {
            do_head_group(j, ch, scratch);
            if (j->pf_w[0]) atomic_fetch_add(&j->done, 1);
        }
        prefetch_next(j, ith, hp->n_head_kv);
        break;
    case OP_QUANT_ATTN:
        while ((ch = atomic_fetch_add(&j->next, 1)) < j->n)
            c->k->act_set(&c->a_attn, ch, c->att + (size_t)ch * hp->q_dim, 0, hp->q_dim, c->a_attn.q8);
        break;
    case OP_POST_NORM:
        while ((ch = atomic_fetch_add(&j->next, 1)) < j->n) {
            float *x = c->x + (size_t)ch * hp->n_embd;
            rms_norm(j->src + (size_t)ch * hp->n_embd, j->norm, scratch, hp->n_embd, hp->rms_eps);
            add_row(x, scratch, hp->n_embd);
        }
        break;
    default: break;
    }
}

/* Runs one step: every chunk claimed and done when it returns. */
static void run(gt_ctx *c, job *j) {
    atomic_store(&j->next, 0);
    atomic_store(&j->done, 0);
    if (c->pool) gt_pool_run_shared(c->pool, worker, j);
    else worker(j, 0, 1);
}

/* Sets up j as a matmul step (OP_MM) of up to 3 matrices against act. */
static void mm_setup(job *j, const gt_act *act, int post, int n_mm, const gt_qmat *w0, float *y0, size_t ld0,
                     const gt_qmat *w1, float *y1, size_t ld1, const gt_qmat *w2, float *y2, size_t ld2) {
    j->op = OP_MM;
    j->act = act;
    j->post = post;
    j->then_norm = NULL;
    j->n_mm = n_mm;
    j->w[0] = w0, j->y[0] = y0, j->ldy[0] = ld0;
    j->w[1] = w1, j->y[1] = y1, j->ldy[1] = ld1;
    j->w[2] = w2, j->y[2] = y2, j->ldy[2] = ld2;
}

static void run_mm(gt_ctx *c, job *j, const gt_act *act, int post, int n_mm, const gt_qmat *w0,
                   float *y0, size_t ld0, const gt_qmat *w1, float *y1, size_t ld1,
                   const gt_qmat *w2, float *y2, size_t ld2) {
    mm_setup(j, act, post, n_mm, w0, y0, ld0, w1, y1, ld1, w2, y2, ld2);
    run(c, j);
}

static void run_norm(gt_ctx *c, job *j, const float *src, const float *norm, gt_act *dst) {
    j->op = OP_NORM;
    j->src = src;
    j->norm = norm;
    j->dst = dst;
    run(c, j);
}

/* The rope table of the batch's n tokens at positions tpos[]: cos and sin
 * of tpos[t] * scale * base^(-2i/rope_dims) / freqs[i] (freqs: Llama 3's or
 * LongRoPE's divisors, or NULL for 1), each times the attention factor in
 * float as llama.cpp scales them (a factor of 1 changes no bit). */
static void fill_rope(float *table, const gt_hparams *hp, const float *freqs, int n, const int *tpos, double base,
                      double scale) {
    int half = hp->rope_dims / 2;
    float mscale = hp->rope_attn_factor;
    assert(mscale > 0.0f);
    for (int t = 0; t < n; t++)
        for (int i = 0; i < half; i++) {
            double theta = (double)tpos[t] * scale * gt_dmath_pow(base, -2.0 * i / hp->rope_dims);
            if (freqs) theta /= (double)freqs[i];
            table[((size_t)t * half + i) * 2] = (float)gt_dmath_cos(theta) * mscale;
            table[((size_t)t * half + i) * 2 + 1] = (float)gt_dmath_sin(theta) * mscale;
        }
}

/* The batch's token embeddings into the residual stream (gemma: times
 * sqrt(n_embd), in float as llama.cpp scales them) and its rope tables. */
static void embed_batch(gt_ctx *c, const int32_t *tokens, int n) {
    const gt_model *m = c->m;
    const gt_hparams *hp = &m->hp;
    int E = hp->n_embd;
    size_t row_bytes = gt_ggml_row_bytes(m->tok_embd->type, (uint64_t)E);
    uint8_t *row = (uint8_t *)c->tmp; /* free until the layers run; E floats hold any row of E */
    assert(row_bytes <= (size_t)E * sizeof(float));
    float es = sqrtf((float)E);
    for (int t = 0; t < n; t++) {
        float *x = c->x + (size_t)t * E;
        /* read, not touched in the mapping: the file's rows stay out of resident memory (gt_gguf_read) */
        gt_gguf_read(gt_model_gguf(m), (const uint8_t *)m->tok_embd->data + row_bytes * (size_t)tokens[t], row_bytes,
                     row);
        gt_dequant_row(m->tok_embd->type, row, x, E);
        if (hp->gemma)
            for (int i = 0; i < E; i++) x[i] *= es;
    }
    fill_rope(c->rope, hp, c->rope_factors, n, c->tpos, hp->rope_base, hp->rope_scale);
    if (hp->n_swa > 0) fill_rope(c->rope_swa, hp, c->rope_factors, n, c->tpos, hp->rope_base_swa, 1.0);
}

/* Adds a matrix's output to the residual stream: directly (POST_RESID) or,
 * with a post-norm (gemma), through tmp and a norm step. next_norm (or
 * NULL) is the norm the next step takes of the residual stream into a_embd:
 * for a batch of at most NORM_ROWS tokens (one norm chunk) without a
 * post-norm, the last matmul chunk does it (do_mm), one synchronisation
 * fewer (decoding qwen3-0.6b, two a layer were 2.7 us each of a ~250 us
 * layer, most of it the hand-over). Returns 1 when it did. */
static int run_mm_resid(gt_ctx *c, job *j, const gt_act *act, const gt_qmat *w, const float *post_norm,
                        const float *next_norm) {
    int E = c->m->hp.n_embd;
    if (!post_norm) {
        mm_setup(j, act, POST_RESID, 1, w, c->tmp, E, NULL, NULL, 0, NULL, NULL, 0);
        if (next_norm && j->n <= NORM_ROWS) j->then_norm = next_norm;
        run(c, j);
        return j->then_norm != NULL;
    }
    run_mm(c, j, act, POST_NONE, 1, w, c->tmp, E, NULL, NULL, 0, NULL, NULL, 0);
    j->op = OP_POST_NORM;
    j->src = c->tmp;
    j->norm = post_norm;
    run(c, j);
    return 0;
}

/* The final norm of the batch's rows rows[0..n_out) (ascending), and then
 * the output matrix (logits: n_out rows of n_vocab) or, hidden, the normed
 * rows themselves (n_out rows of n_embd). The rows are first moved to the
 * front of the residual stream, so the norm and the matmul see n_out
 * tokens. */
static void output_rows(gt_ctx *c, job *j, const int *rows, int n_out, float *out, int hidden) {
    const gt_model *m = c->m;
    const gt_hparams *hp = &m->hp;
    size_t E = (size_t)hp->n_embd;
    for (int k = 0; k < n_out; k++) {
        assert(rows[k] >= k && (k == 0 || rows[k] > rows[k - 1]));
        if (rows[k] != k) memcpy(c->x + (size_t)k * E, c->x + (size_t)rows[k] * E, E * sizeof(float));
    }
    j->n = n_out;
    c->a_embd.n_tok = n_out;
    run_norm(c, j, c->x, m->out_norm, &c->a_embd);
    if (hidden) { /* the normed rows, before the output matrix */
        memcpy(out, c->a_embd.x, (size_t)n_out * E * sizeof(float));
        return;
    }
    run_mm(c, j, &c->a_embd, POST_NONE, 1, &m->out, out, (size_t)hp->n_vocab, NULL, NULL, 0, NULL, NULL, 0);
    if (hp->logit_softcap > 0.0f) gt_softcap(out, (size_t)n_out * (size_t)hp->n_vocab, hp->logit_softcap);
}

/* Decoding: the next step's first matrices, for prefetch_next (a batch
 * of several tokens asks for none). */
static void next_mats(job *j, const gt_qmat *w0, const gt_qmat *w1) {
    j->pf_w[0] = j->n == 1 ? w0 : NULL;
    j->pf_w[1] = j->n == 1 ? w1 : NULL;
}

/* Layer il for the batch in j; normed: a_embd holds its attention norm
 * already. Returns 1 when a_embd holds the next layer's. */
static int forward_layer(gt_ctx *c, job *j, int il, int normed) {
    const gt_model *m = c->m;
    const gt_hparams *hp = &m->hp;
    const gt_layer *L = &m->layers[il];
    int F = hp->n_ff, Q = hp->q_dim, kvd = hp->n_head_kv * hp->head_dim, last = il + 1 == hp->n_layer;
    j->il = il;
    if (!normed) run_norm(c, j, c->x, L->attn_norm, &c->a_embd);
    next_mats(j, NULL, NULL);
    run_mm(c, j, &c->a_embd, POST_NONE, 3, &L->wq, c->q, Q, &L->wk, c->kk, kvd, &L->wv, c->vv, kvd);
    j->op = OP_ATTN;
    next_mats(j, &L->wo, NULL);
    run(c, j);
    if (!j->attn_quant) {
        j->op = OP_QUANT_ATTN;
        run(c, j);
    }
    next_mats(j, &L->wgate, &L->wup);
    if (!run_mm_resid(c, j, &c->a_attn, &L->wo, L->attn_post_norm, L->ffn_norm))
        run_norm(c, j, c->x, L->ffn_norm, &c->a_embd);
    next_mats(j, &L->wdown, NULL);
    run_mm(c, j, &c->a_embd, POST_SWIGLU, 2, &L->wgate, c->g, F, &L->wup, c->u, F, NULL, NULL, 0);
    next_mats(j, last ? &m->out : &m->layers[il + 1].wq, NULL);
    const float *next_norm = last ? NULL : m->layers[il + 1].attn_norm;
    int next_normed = run_mm_resid(c, j, &c->a_ff, &L->wdown, L->ffn_post_norm, next_norm);
    next_mats(j, NULL, NULL);
    return next_normed;
}

/* gt_ctx_forward's work; the caller times one-token steps. */
static void forward(gt_ctx *c, const int32_t *tokens, int n, const int *rows, int n_out, float *out, int hidden) {
    const gt_hparams *hp = &c->m->hp;
    embed_batch(c, tokens, n);
    c->a_embd.n_tok = c->a_attn.n_tok = c->a_ff.n_tok = n;
    job j = {.c = c, .n = n};
    /* Attention chunks quantize their own output columns when those are
     * whole blocks of 32; otherwise a separate step does it per token. */
    j.attn_quant = (hp->n_head / hp->n_head_kv * hp->head_dim) % GT_QK == 0;
    int normed = 0;
    for (int il = 0; il < hp->n_layer; il++) normed = forward_layer(c, &j, il, normed);
    if (n_out > 0 && out) output_rows(c, &j, rows, n_out, out, hidden);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* See ctx_impl.h. One-token steps (decode) are timed for the K-quant
 * prefetch's choice (pf_tune.h); the bytes do not depend on it. */
void gt_ctx_forward(gt_ctx *c, const int32_t *tokens, int n, const int *rows, int n_out, float *out, int hidden) {
    int arm = n == 1 && c->kq_decode ? gt_pf_tune_begin() : -1;
    uint64_t t0_ns = arm >= 0 ? now_ns() : 0;
    forward(c, tokens, n, rows, n_out, out, hidden);
    if (arm >= 0) gt_pf_tune_end(arm, now_ns() - t0_ns);
}
