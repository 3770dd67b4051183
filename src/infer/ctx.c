/* ctx.c: evaluation contexts (see model.h): their buffers and KV cache,
 * the sequences they hold, and the eval calls, which check their input
 * (positions, sequences, tokens, batch items) before forward.c runs it. */
#include <string.h>

#include "base/alloc.h"
#include "infer/ctx_impl.h"

/* Whether every token is in the vocabulary (err names the first that is not). */
static int check_tokens(const gt_ctx *c, const int32_t *tokens, int n, gt_err *err) {
    const gt_hparams *hp = &c->m->hp;
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return gt_err_set(err, GT_EINVAL, "token %d (at %d) is out of the vocabulary (0..%d)",
                              tokens[i], i, hp->n_vocab - 1);
    return 0;
}

int gt_ctx_eval_seq(gt_ctx *c, int seq, const int32_t *tokens, int n, int pos, float *logits, int which,
                    gt_err *err) {
    const gt_hparams *hp = &c->m->hp;
    if (which != GT_EVAL_LAST && which != GT_EVAL_ALL && which != GT_EVAL_HIDDEN)
        return gt_err_set(err, GT_EINVAL, "eval: which must be GT_EVAL_LAST, GT_EVAL_ALL or GT_EVAL_HIDDEN");
    if (seq < 0 || seq >= c->n_seq)
        return gt_err_set(err, GT_EINVAL, "eval: sequence %d (the context holds 0..%d)", seq, c->n_seq - 1);
    if (n < 0 || (n > 0 && !tokens))
        return gt_err_set(err, GT_EINVAL, "eval: %d tokens", n);
    if (pos < 0 || pos > c->n_past[seq])
        return gt_err_set(err, GT_EINVAL, "eval at position %d: the cache holds %d positions "
                          "(expected 0..%d)", pos, c->n_past[seq], c->n_past[seq]);
    if ((long)pos + n > c->n_ctx)
        return gt_err_set(err, GT_ELIMIT, "context full: %d + %d tokens exceed the context of %d",
                          pos, n, c->n_ctx);
    if (check_tokens(c, tokens, n, err)) return err ? err->code : GT_EINVAL;
    c->n_past[seq] = pos;
    for (int s = 0; s < n; s += c->n_batch) {
        int nb = n - s < c->n_batch ? n - s : c->n_batch, n_out = 0;
        float *out = NULL;
        for (int t = 0; t < nb; t++) c->tpos[t] = pos + s + t, c->tseq[t] = seq;
        if (logits && which == GT_EVAL_ALL) out = logits + (size_t)s * hp->n_vocab, n_out = nb;
        else if (logits && which == GT_EVAL_HIDDEN) out = logits + (size_t)s * hp->n_embd, n_out = nb;
        else if (logits && s + nb == n) out = logits, n_out = 1;
        /* rows: all of the batch, or its last one */
        int *rows = c->tpos + c->n_batch; /* the second half of tpos is the rows list */
        for (int k = 0; k < n_out; k++) rows[k] = n_out == 1 ? nb - 1 : k;
        gt_ctx_forward(c, tokens + s, nb, rows, n_out, out, which == GT_EVAL_HIDDEN);
        c->n_past[seq] = pos + s + nb;
    }
    return 0;
}

int gt_ctx_eval(gt_ctx *c, const int32_t *tokens, int n, int pos, float *logits, int which,
                gt_err *err) {
    return gt_ctx_eval_seq(c, 0, tokens, n, pos, logits, which, err);
}

/* Checks a mixed batch: sequences in range, each sequence's tokens at
 * consecutive positions starting at most at what it holds, within the
 * context, tokens in the vocabulary. Sets first[seq] to the first position
 * each sequence gets (-1: none). */
static int check_items(const gt_ctx *c, const gt_ctx_item *it, int n, int *first, gt_err *err) {
    for (int s = 0; s < c->n_seq; s++) first[s] = -1;
    for (int i = 0; i < n; i++) {
        int s = it[i].seq, p = it[i].pos;
        if (s < 0 || s >= c->n_seq)
            return gt_err_set(err, GT_EINVAL, "batch item %d: sequence %d (the context holds 0..%d)", i, s,
                              c->n_seq - 1);
        if (p < 0 || p >= c->n_ctx)
            return gt_err_set(err, GT_ELIMIT, "batch item %d: position %d is outside the context of %d", i, p,
                              c->n_ctx);
        if (it[i].token < 0 || it[i].token >= c->m->hp.n_vocab)
            return gt_err_set(err, GT_EINVAL, "batch item %d: token %d is out of the vocabulary", i, it[i].token);
        if (first[s] < 0) {
            if (p > c->n_past[s])
                return gt_err_set(err, GT_EINVAL, "batch item %d: position %d of sequence %d, which holds %d", i, p, s,
                                  c->n_past[s]);
            first[s] = p;
            c->n_past[s] = p; /* provisional; restored by the caller on failure */
        } else if (p != c->n_past[s]) {
            return gt_err_set(err, GT_EINVAL, "batch item %d: position %d of sequence %d, expected %d (consecutive)", i,
                              p, s, c->n_past[s]);
        }
        c->n_past[s] = p + 1;
    }
    return 0;
}

int gt_ctx_eval_batch(gt_ctx *c, const gt_ctx_item *items, int n, float *logits, gt_err *err) {
    if (n < 1 || n > c->n_batch || !items)
        return gt_err_set(err, GT_EINVAL, "batch of %d tokens: expected 1..%d", n, c->n_batch);
    int *saved = gt_malloc((size_t)c->n_seq * 2 * sizeof(int)), *first = saved ? saved + c->n_seq : NULL;
    int32_t *tokens = gt_malloc((size_t)n * sizeof(int32_t));
    if (!saved || !tokens) {
        gt_free(saved), gt_free(tokens);
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    memcpy(saved, c->n_past, (size_t)c->n_seq * sizeof(int));
    if (check_items(c, items, n, first, err)) {
        memcpy(c->n_past, saved, (size_t)c->n_seq * sizeof(int));
        gt_free(saved), gt_free(tokens);
        return err ? err->code : GT_EINVAL;
    }
    int *rows = c->tpos + c->n_batch, n_out = 0;
    for (int i = 0; i < n; i++) {
        tokens[i] = items[i].token, c->tpos[i] = items[i].pos, c->tseq[i] = items[i].seq;
        if (items[i].logits) rows[n_out++] = i;
    }
    gt_ctx_forward(c, tokens, n, rows, n_out, logits, 0);
    gt_free(saved), gt_free(tokens);
    return 0;
}

int gt_ctx_seq_copy(gt_ctx *c, int dst, int src, int n_pos, gt_err *err) {
    if (dst < 0 || dst >= c->n_seq || src < 0 || src >= c->n_seq || dst == src)
        return gt_err_set(err, GT_EINVAL, "copy between sequences %d and %d (the context holds 0..%d)", src, dst,
                          c->n_seq - 1);
    if (n_pos < 0 || n_pos > c->n_past[src])
        return gt_err_set(err, GT_EINVAL, "copy of %d positions: sequence %d holds %d", n_pos, src, c->n_past[src]);
    const gt_hparams *hp = &c->m->hp;
    size_t row = (size_t)n_pos * (size_t)hp->head_dim * sizeof(gt_f16);
    for (int il = 0; il < hp->n_layer; il++)
        for (int g = 0; g < hp->n_head_kv; g++) {
            memcpy(c->kc + gt_ctx_kv_head_off(c, dst, il, g), c->kc + gt_ctx_kv_head_off(c, src, il, g), row);
            memcpy(c->vc + gt_ctx_kv_head_off(c, dst, il, g), c->vc + gt_ctx_kv_head_off(c, src, il, g), row);
        }
    c->n_past[dst] = n_pos;
    return 0;
}

/* Which activation buffers some matrix reads as Q8_0 (gt_act.q8): a_embd
 * feeds q, k, v, gate, up and the output head; a_attn feeds o; a_ff down.
 * A matrix of another type reads the floats (or its own Q8_K copy), so a
 * flag of 0 changes no product, only skips work. */
static void act_q8_flags(gt_ctx *c) {
    const gt_model *m = c->m;
    int embd = gt_kern_reads_q8(m->out.type), attn = 0, ff = 0;
    for (int il = 0; il < m->hp.n_layer; il++) {
        const gt_layer *L = &m->layers[il];
        embd |= gt_kern_reads_q8(L->wq.type) | gt_kern_reads_q8(L->wk.type) | gt_kern_reads_q8(L->wv.type) |
                gt_kern_reads_q8(L->wgate.type) | gt_kern_reads_q8(L->wup.type);
        attn |= gt_kern_reads_q8(L->wo.type);
        ff |= gt_kern_reads_q8(L->wdown.type);
    }
    c->a_embd.q8 = embd, c->a_attn.q8 = attn, c->a_ff.q8 = ff;
}

/* 1 when a matrix of m is of a type whose one-token tiles prefetch their
 * stream (Q4_K, Q5_K, Q6_K, IQ4_XS: pf_tune.h), so decode steps may tune it. */
static int type_prefetches(uint32_t t) {
    return t == GT_TYPE_Q4_K || t == GT_TYPE_Q5_K || t == GT_TYPE_Q6_K || t == GT_TYPE_IQ4_XS;
}

static int model_prefetches(const gt_model *m) {
    int any = type_prefetches(m->out.type);
    for (int il = 0; il < m->hp.n_layer; il++) {
        const gt_layer *L = &m->layers[il];
        any |= type_prefetches(L->wq.type) | type_prefetches(L->wk.type) | type_prefetches(L->wv.type) |
               type_prefetches(L->wo.type) | type_prefetches(L->wgate.type) | type_prefetches(L->wup.type) |
               type_prefetches(L->wdown.type);
    }
    return any;
}

int gt_ctx_new(const gt_model *m, const gt_ctx_params *p, gt_ctx **out, gt_err *err) {
    const gt_hparams *hp = &m->hp;
    gt_ctx_params def = {0};
    if (!p) p = &def;
    *out = NULL;
    int n_ctx = p->n_ctx ? p->n_ctx : (hp->n_ctx_train < GT_CTX_DEFAULT_POSITIONS ? hp->n_ctx_train : GT_CTX_DEFAULT_POSITIONS);
    int n_batch = p->n_batch ? p->n_batch : GT_CTX_DEFAULT_BATCH;
    int n_threads = p->n_threads ? p->n_threads : 1, n_seq = p->n_seq ? p->n_seq : 1;
    if (n_seq < 1 || n_seq > GT_CTX_MAX_SEQ)
        return gt_err_set(err, GT_ELIMIT, "%d sequences: expected 1..%d", n_seq, GT_CTX_MAX_SEQ);
    if (n_ctx < 1 || n_ctx > GT_CTX_MAX_POSITIONS)
        return gt_err_set(err, GT_ELIMIT, "context of %d positions: expected 1..%d", n_ctx, GT_CTX_MAX_POSITIONS);
    if (n_batch < 1 || n_batch > GT_CTX_MAX_BATCH)
        return gt_err_set(err, GT_ELIMIT, "batch of %d tokens: expected 1..%d", n_batch, GT_CTX_MAX_BATCH);
    if (n_threads < 1 || n_threads > GT_POOL_MAX_THREADS)
        return gt_err_set(err, GT_ELIMIT, "%d threads: expected 1..%d", n_threads, GT_POOL_MAX_THREADS);
    if (n_batch > n_ctx) n_batch = n_ctx;
    gt_ctx *c = gt_calloc(1, sizeof *c);
    if (!c) return gt_err_set(err, GT_ENOMEM, "out of memory");
    c->m = m;
    c->k = p->kern ? p->kern : gt_kern_best();
    c->kq_decode = c->k != gt_kern_isa(GT_ISA_SCALAR) && model_prefetches(m);
    c->n_ctx = n_ctx, c->n_batch = n_batch, c->n_threads = n_threads, c->n_seq = n_seq;
    /* LongRoPE: a context longer than the original one takes the long
     * factors, as llama.cpp picks them (by context size, not by how far a
     * sequence has got, so one context's positions share one rotation). */
    c->rope_factors = m->rope_freqs ? m->rope_freqs : n_ctx > hp->rope_orig_ctx ? m->rope_long : m->rope_short;
    size_t E = (size_t)hp->n_embd, F = (size_t)hp->n_ff, kvd = (size_t)hp->n_head_kv * hp->head_dim;
    size_t Q = (size_t)hp->q_dim;
    size_t nb = (size_t)n_batch, cache = (size_t)n_seq * (size_t)hp->n_layer * (size_t)n_ctx * kvd;
    /* Two heads' scores (attention), or a norm's rows. */
    c->scratch_len = 2 * (size_t)n_ctx > GT_CTX_NORM_ROWS * E ? 2 * (size_t)n_ctx : GT_CTX_NORM_ROWS * E;
    c->kc = gt_calloc(cache, sizeof(gt_f16));
    c->vc = gt_calloc(cache, sizeof(gt_f16));
    c->x = gt_malloc(nb * E * sizeof(float));
    c->q = gt_malloc(nb * Q * sizeof(float));
    c->kk = gt_malloc(nb * kvd * sizeof(float));
    c->vv = gt_malloc(nb * kvd * sizeof(float));
    c->att = gt_malloc(nb * Q * sizeof(float));
    c->tmp = gt_malloc(nb * E * sizeof(float));
    c->g = gt_malloc(nb * F * sizeof(float));
    c->u = gt_malloc(nb * F * sizeof(float));
    c->rope = gt_malloc(nb * (size_t)hp->rope_dims * sizeof(float));
    c->rope_swa = gt_malloc(nb * (size_t)hp->rope_dims * sizeof(float));
    c->scratch = gt_malloc((size_t)n_threads * c->scratch_len * sizeof(float));
    c->n_past = gt_calloc((size_t)n_seq, sizeof(int));
    c->tpos = gt_malloc(2 * nb * sizeof(int)); /* positions, then the rows to output */
    c->tseq = gt_malloc(nb * sizeof(int));
    int bad = !c->n_past || !c->tpos || !c->tseq;
    bad = bad || !c->kc || !c->vc || !c->x || !c->q || !c->kk || !c->vv || !c->att || !c->tmp ||
              !c->g || !c->u || !c->rope || !c->rope_swa || !c->scratch;
    bad = bad || gt_act_init(&c->a_embd, n_batch, hp->n_embd) || gt_act_init(&c->a_attn, n_batch, hp->q_dim) ||
          gt_act_init(&c->a_ff, n_batch, hp->n_ff);
    if (!bad) act_q8_flags(c);
    if (!bad && n_threads > 1 && !(c->pool = gt_pool_new(n_threads))) bad = 1;
    if (bad) {
        gt_ctx_free(c);
        return gt_err_set(err, GT_ENOMEM, "out of memory for a context of %d positions", n_ctx);
    }
    *out = c;
    return 0;
}

void gt_ctx_free(gt_ctx *c) {
    if (!c) return;
    gt_pool_free(c->pool);
    gt_free(c->kc), gt_free(c->vc);
    float *bufs[] = {c->x, c->q, c->kk, c->vv, c->att, c->tmp, c->g, c->u, c->rope, c->rope_swa,
                     c->scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) gt_free(bufs[i]);
    gt_free(c->n_past), gt_free(c->tpos), gt_free(c->tseq);
    gt_act_free(&c->a_embd);
    gt_act_free(&c->a_attn);
    gt_act_free(&c->a_ff);
    gt_free(c);
}

int gt_ctx_n_ctx(const gt_ctx *c) { return c->n_ctx; }
int gt_ctx_n_past(const gt_ctx *c) { return c->n_past[0]; }
int gt_ctx_seq_n_past(const gt_ctx *c, int seq) { return seq >= 0 && seq < c->n_seq ? c->n_past[seq] : 0; }
int gt_ctx_n_seq(const gt_ctx *c) { return c->n_seq; }
int gt_ctx_n_batch(const gt_ctx *c) { return c->n_batch; }
const gt_model *gt_ctx_model(const gt_ctx *c) { return c->m; }
