/* eval.c: scoring benchmark items with a local model (see eval.h):
 * log-likelihoods of continuations for multiple choice, greedy generation
 * with stop strings for generate_until. Log-softmax is taken in double in a
 * fixed order over bit-identical logits, so the hex floats repeat exactly. */
#define _GNU_SOURCE /* memmem */
#include "work/eval/eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "base/alloc.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/progress.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "crypto/sha256.h"
#include "infer/unicode.h"

static json_t *hash_json(const void *p, size_t n) {
    uint8_t h[32];
    char s[67] = "0x";
    gt_sha256(p, n, h);
    gt_hex_encode(h, 32, s + 2);
    return json_string(s);
}

/* Summed log-likelihood of continuation `cont` after `ctx`, tokenised the
 * way lm-evaluation-harness does: whole = tok(ctx + cont), context =
 * tok(ctx), continuation = whole[len(context):]. */
static int loglik(gt_llm *llm, const char *ctx, const char *cont, double *out, gt_err *err) {
    size_t lc = strlen(ctx), lk = strlen(cont);
    char *whole = gt_malloc(lc + lk + 1);
    if (!whole) return gt_err_set(err, GT_ENOMEM, "out of memory");
    memcpy(whole, ctx, lc);
    memcpy(whole + lc, cont, lk + 1);
    const int32_t *ids;
    size_t n_ctx, n;
    int rc = gt_llm_tokenize(llm, ctx, lc, 1, &ids, &n_ctx, err);
    if (!rc) rc = gt_llm_tokenize(llm, whole, lc + lk, 1, &ids, &n, err);
    gt_free(whole);
    if (rc) return rc;
    if (n_ctx >= n) n_ctx = n - 1; /* the continuation merged into the context: score its last token */
    if (n_ctx < 1) return gt_err_set(err, GT_EINVAL, "prompt gives no tokens to condition on");
    if ((int)n > gt_ctx_n_ctx(llm->ctx))
        return gt_err_set(err, GT_ELIMIT, "item of %zu tokens does not fit the context of %d", n, gt_ctx_n_ctx(llm->ctx));
    double *lp = gt_malloc(sizeof(double) * (n - n_ctx));
    if (!lp) return gt_err_set(err, GT_ENOMEM, "out of memory");
    rc = gt_llm_logprobs(llm, ids, n, n_ctx, lp, err);
    double sum = 0;
    for (size_t t = n_ctx; !rc && t < n; t++) sum += lp[t - n_ctx]; /* in order: the same bits every time */
    gt_free(lp);
    if (!rc) *out = sum;
    return rc;
}

static void trim(const char *s, size_t n, size_t *a, size_t *b) {
    *a = 0, *b = n;
    while (*a < *b && strchr(" \t\r\n", s[*a])) (*a)++;
    while (*b > *a && strchr(" \t\r\n", s[*b - 1])) (*b)--;
}

typedef struct stop_arg {
    const gt_bench *b;
    gt_buf text;
} stop_arg;

/* Where a family_check output ends: the line break after its last
 * "Answer:" marker (the marked answer is whole), else n (not yet). */
static size_t answer_line_end(const uint8_t *t, size_t n) {
    static const char mark[] = "Answer:";
    const uint8_t *p = NULL, *q = t;
    while (n && q < t + n && (q = memmem(q, (size_t)(t + n - q), mark, sizeof mark - 1))) p = q, q += sizeof mark - 1;
    if (!p) return n;
    const uint8_t *nl = memchr(p, '\n', (size_t)(t + n - p));
    return nl ? (size_t)(nl - t) : n;
}

/* Stops generation once any stop string appears in the text so far, or for
 * family_check once the marked answer's line is complete. */
static int stop_cb(void *user, const gt_gen_step *st) {
    stop_arg *sa = user;
    if (gt_buf_append(&sa->text, st->piece, st->piece_len)) return 1;
    if (sa->b->type == GT_BENCH_CHECK) return answer_line_end(sa->text.data, sa->text.len) < sa->text.len;
    for (int i = 0; i < sa->b->n_until; i++) {
        size_t u = strlen(sa->b->until[i]);
        size_t from = sa->text.len > st->piece_len + u ? sa->text.len - st->piece_len - u : 0;
        if (memmem(sa->text.data + from, sa->text.len - from, sa->b->until[i], u)) return 1;
    }
    return 0;
}

/* Scores a multiple-choice item into o: each choice's log-likelihood. */
static int score_mc(const gt_bench_item *it, gt_llm *llm, json_t *o, int *correct, int *correct_norm, gt_err *err) {
    json_t *ll = json_array();
    double best = -INFINITY, best_n = -INFINITY;
    int pred = 0, pred_n = 0, rc = 0;
    for (int c = 0; c < it->n_choices && !rc; c++) {
        double v = 0;
        rc = loglik(llm, it->prompt, it->choices[c], &v, err);
        if (rc) break;
        char hx[64];
        snprintf(hx, sizeof hx, "%a", v);
        json_array_append_new(ll, json_string(hx));
        double vn = v / (double)strlen(it->choices[c]); /* per byte, as lm-eval's acc_norm */
        if (v > best) best = v, pred = c;
        if (vn > best_n) best_n = vn, pred_n = c;
    }
    *correct = pred == it->gold;
    *correct_norm = pred_n == it->gold;
    json_object_set_new(o, "ll", ll);
    json_object_set_new(o, "target_hash", hash_json(it->choices[it->gold], strlen(it->choices[it->gold])));
    json_object_set_new(o, "pred", json_integer(pred));
    json_object_set_new(o, "pred_norm", json_integer(pred_n));
    json_object_set_new(o, "acc", json_integer(*correct));
    json_object_set_new(o, "acc_norm", json_integer(*correct_norm));
    return rc;
}

/* Greedy generation of item i's continuation into *text (valid UTF-8, NULs
 * dropped), cut at the first stop string (generate_until) or after the
 * marked answer's line (family_check). */
static int generate_text(const gt_bench *b, size_t i, gt_llm *llm, gt_buf *text, gt_err *err) {
    const gt_bench_item *it = &b->items[i];
    const int32_t *ids;
    size_t n;
    stop_arg sa = {b, GT_BUF_INIT};
    gt_gen_params gp = gt_gen_defaults();
    gp.n_predict = b->max_tokens;
    gp.sampling.temp = 0; /* greedy */
    gt_gen_result res = {0};
    int rc = gt_llm_tokenize(llm, it->prompt, strlen(it->prompt), 1, &ids, &n, err);
    if (!rc && (int)n >= gt_ctx_n_ctx(llm->ctx))
        rc = gt_err_set(err, GT_ELIMIT, "item %zu: prompt of %zu tokens does not fit the context", i, n);
    if (!rc) rc = gt_llm_gen(llm, ids, (int)n, &gp, stop_cb, &sa, &res, err);
    gt_gen_result_free(&res);
    if (!rc) {
        size_t cut = b->type == GT_BENCH_CHECK ? answer_line_end(sa.text.data, sa.text.len) : sa.text.len;
        for (int u = 0; u < b->n_until; u++) {
            const uint8_t *p = sa.text.len ? memmem(sa.text.data, sa.text.len, b->until[u], strlen(b->until[u])) : NULL;
            if (p && (size_t)(p - sa.text.data) < cut) cut = (size_t)(p - sa.text.data);
        }
        size_t w = 0; /* NULs dropped, as gt_llm_generate does */
        for (size_t k = 0; k < cut; k++)
            if (sa.text.data[k]) sa.text.data[w++] = sa.text.data[k];
        if (gt_utf8_sanitize(sa.text.data, w, text)) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    gt_buf_free(&sa.text);
    return rc;
}

/* Scores a generated item into o: exact match of the trimmed output with the
 * trimmed target (generate_until), or the family checker's verdict on the
 * output (family_check). */
static int score_gen(const gt_bench *b, size_t i, gt_llm *llm, json_t *o, int *correct, gt_err *err) {
    const gt_bench_item *it = &b->items[i];
    gt_buf text = GT_BUF_INIT;
    *correct = 0;
    int rc = generate_text(b, i, llm, &text, err);
    if (!rc) {
        const char *out = text.data ? (const char *)text.data : "";
        if (b->type == GT_BENCH_CHECK) {
            gt_family_item fi;
            gt_verdict v;
            gt_bench_family_item(b, i, &fi);
            gt_family_check(&fi, out, text.len, &v);
            *correct = v.ok;
        } else {
            size_t a1, b1, a2, b2;
            trim(out, text.len, &a1, &b1);
            trim(it->target, strlen(it->target), &a2, &b2);
            *correct = b1 - a1 == b2 - a2 && !memcmp(out + a1, it->target + a2, b1 - a1);
        }
        json_object_set_new(o, "output", json_stringn(out, text.len));
        json_object_set_new(o, "target_hash", hash_json(it->target, strlen(it->target)));
        json_object_set_new(o, gt_bench_metric(b->type), json_integer(*correct));
    }
    gt_buf_free(&text);
    return rc;
}

int gt_eval_item(const gt_bench *b, size_t i, gt_llm *llm, gt_buf *line, int *correct, int *correct_norm, gt_err *err) {
    const gt_bench_item *it = &b->items[i];
    char dh[67] = "0x";
    gt_hex_encode(it->doc_hash, 32, dh + 2);
    json_t *o = json_pack("{s:I,s:s,s:o}", "i", (json_int_t)i, "doc_hash", dh, "prompt_hash",
                          hash_json(it->prompt, strlen(it->prompt)));
    if (!o) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = b->type == GT_BENCH_MC ? score_mc(it, llm, o, correct, correct_norm, err)
                                    : score_gen(b, i, llm, o, correct, err);
    if (b->type != GT_BENCH_MC) *correct_norm = *correct;
    if (!rc) {
        char *s = gt_json_dump(o);
        if (!s || gt_buf_append_str(line, s)) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        free(s);
    }
    json_decref(o);
    return rc;
}

/* Mean and standard error (sample std / sqrt(n)) of 0/1 outcomes. */
static void mean_se(const uint8_t *x, size_t n, double *mean, double *se) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    *mean = n ? s / (double)n : 0;
    double v = 0;
    for (size_t i = 0; i < n; i++) v += (x[i] - *mean) * (x[i] - *mean);
    *se = n > 1 ? sqrt(v / (double)(n - 1)) / sqrt((double)n) : 0;
}

int gt_eval_run(const gt_bench *b, gt_llm *llm, size_t limit, gt_eval_progress progress, void *arg, gt_buf *results,
                gt_eval_summary *sum, gt_err *err) {
    memset(sum, 0, sizeof *sum);
    if (b->drawn && !b->seeded)
        return gt_err_set(err, GT_EINVAL, "%s is a drawn benchmark: its items are drawn from a ledger block's seed "
                                          "(gt_bench_draw; `gotong eval run --draw-seed`)", b->name);
    size_t n = limit && limit < b->n_items ? limit : b->n_items;
    uint8_t(*leaves)[32] = gt_malloc(sizeof *leaves * n);
    uint8_t *acc = gt_malloc(n), *accn = gt_malloc(n);
    int rc = 0;
    if (!leaves || !acc || !accn) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    double t0 = gt_now_s();
    for (size_t i = 0; i < n && !rc; i++) {
        gt_buf line = GT_BUF_INIT;
        int c = 0, cn = 0;
        rc = gt_eval_item(b, i, llm, &line, &c, &cn, err);
        if (!rc) {
            gt_keccak256(line.data, line.len, leaves[i]);
            acc[i] = (uint8_t)c, accn[i] = (uint8_t)cn;
            if (gt_buf_append(results, line.data, line.len) || gt_buf_putc(results, '\n'))
                rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        } else {
            gt_err_wrap(err, "item %zu", i);
        }
        gt_buf_free(&line);
        if (!rc && progress) progress(arg, i + 1, n);
    }
    if (!rc) {
        sum->n = n;
        sum->metric = gt_bench_metric(b->type);
        mean_se(acc, n, &sum->score, &sum->stderr_);
        if (b->type == GT_BENCH_MC) mean_se(accn, n, &sum->acc_norm, &sum->acc_norm_stderr);
        gt_merkle_root((const uint8_t(*)[32])leaves, n, sum->root);
        memcpy(sum->model, llm->id, 32);
        memcpy(sum->bench, b->hash, 32);
        sum->seconds = gt_now_s() - t0;
    }
    gt_free(leaves);
    gt_free(acc);
    gt_free(accn);
    return rc;
}

uint64_t gt_eval_score_ppm(double score) {
    if (!(score > 0)) return 0;
    if (score >= 1) return 1000000;
    return (uint64_t)llround(score * 1e6);
}

json_t *gt_eval_summary_json(const gt_bench *b, const gt_eval_summary *sum) {
    char bh[72], mh[72], root[67] = "0x";
    gt_llm_id_str(sum->bench, bh);
    gt_llm_id_str(sum->model, mh);
    gt_hex_encode(sum->root, 32, root + 2);
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:f,s:f,s:I,s:s,s:f}", "bench", b->name, "bench_hash", bh, "model", mh,
                          "n", (json_int_t)sum->n, "metric", sum->metric, "score", sum->score, "stderr", sum->stderr_,
                          "score_ppm", (json_int_t)gt_eval_score_ppm(sum->score), "results_root", root, "seconds",
                          sum->seconds);
    if (o && b->seeded) { /* a held-out draw: the block seed its items came from */
        char ds[67] = "0x";
        gt_hex_encode(b->draw_seed, 32, ds + 2);
        json_object_set_new(o, "draw_seed", json_string(ds));
    }
    if (o && b->type == GT_BENCH_MC) {
        json_object_set_new(o, "acc_norm", json_real(sum->acc_norm));
        json_object_set_new(o, "acc_norm_stderr", json_real(sum->acc_norm_stderr));
    }
    return o;
}
