/* score.c: scoring a prompt: "echo": true with "max_tokens": 0 on
 * /v1/completions gives every prompt token's log-probability after the
 * tokens before it, which is how lm-evaluation-harness asks an OpenAI
 * server for loglikelihoods. Agents renting inference (agent/oai.h) score
 * benchmark answers and judge samples with these numbers and compare them
 * with other agents' in-process runs, so each one is work/llm.h's formula
 * to the bit (gt_llm_row_norm over the model's raw logits) and goes out as
 * an exact double (jansson writes 17 significant digits).
 *
 * The prompt is evaluated in chunks of GT_SERVE_SCORE_CHUNK positions on
 * the one-sequence context (the engine's logits do not depend on how a
 * prompt is cut, infer/model.h), so the logits held at once stay bounded
 * whatever the prompt's length. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/json.h"
#include "serve/serve_impl.h"
#include "work/llm.h"

/* Positions evaluated per pass: their logits are held at once. */
#define GT_SERVE_SCORE_CHUNK 64

/* What one scoring builds: the completion's parallel arrays and the text. */
typedef struct score_out {
    json_t *tokens, *lps, *tops, *offs;
    gt_buf text;
} score_out;

json_t *gt_serve_token_key(const gt_tokenizer *tok, int32_t id) {
    size_t n = 0;
    const char *piece = gt_token_to_piece(tok, id, 1, &n);
    if (!piece) piece = "", n = 0;
    json_t *t = gt_json_text_lossy(piece, n);
    if (!t || (json_string_length(t) == n && !memchr(piece, 0, n) && !memcmp(json_string_value(t), piece, n)))
        return t; /* its own text */
    json_decref(t);
    gt_buf b = GT_BUF_INIT;
    int oom = gt_buf_append_str(&b, "bytes:");
    for (size_t i = 0; i < n && !oom; i++) oom = gt_buf_printf(&b, "\\x%02x", (unsigned char)piece[i]);
    t = oom ? NULL : json_stringn((const char *)b.data, b.len);
    gt_buf_free(&b);
    return t;
}

json_t *gt_serve_legacy_top(const gt_tokenizer *tok, const int32_t *ids, const double *lps, int k) {
    json_t *alt = json_object();
    for (int i = 0; i < k && alt; i++) {
        json_t *key = gt_serve_token_key(tok, ids[i]);
        char again[300];
        const char *name = key ? json_string_value(key) : NULL;
        if (name && json_object_get(alt, name)) /* the same bytes as a better-ranked token's */
            snprintf(again, sizeof again, "%.250s (token %d)", name, (int)ids[i]), name = again;
        if (!name || json_object_set_new(alt, name, json_real(lps[i]))) json_decref(alt), alt = NULL;
        json_decref(key);
    }
    return alt;
}

/* Appends token t's text (control tokens spelled out) to o. */
static int add_token(const gt_serve *s, score_out *o, int32_t t) {
    size_t n = 0;
    const char *piece = gt_token_to_piece(s->tok, t, 1, &n);
    if (!piece) piece = "", n = 0;
    if (json_array_append_new(o->offs, json_integer((json_int_t)o->text.len)) ||
        json_array_append_new(o->tokens, gt_serve_token_key(s->tok, t)) || gt_buf_append(&o->text, piece, n))
        return -1;
    return 0;
}

/* The entries of token t scored from row (the logits of the position
 * before it), with top alternatives. */
static int add_scored(const gt_serve *s, score_out *o, const float *row, int n_vocab, int32_t t, int top) {
    double mx, log_z;
    gt_llm_row_norm(row, n_vocab, &mx, &log_z);
    if (json_array_append_new(o->lps, json_real((double)row[t] - mx - log_z))) return -1;
    int32_t ids[GT_SERVE_MAX_TOP_LOGPROBS];
    assert(top <= GT_SERVE_MAX_TOP_LOGPROBS);
    int k = gt_serve_top_k(row, n_vocab, top, ids);
    double lps[GT_SERVE_MAX_TOP_LOGPROBS];
    for (int i = 0; i < k; i++) lps[i] = (double)row[ids[i]] - mx - log_z;
    json_t *alt = gt_serve_legacy_top(s->tok, ids, lps, k);
    if (!alt || json_array_append_new(o->tops, alt)) return -1;
    return 0;
}

/* Evaluates ids on ctx chunk by chunk, scoring each token from the row
 * before it; stops between chunks once the client on peer has gone. */
static int score_all(gt_serve *s, gt_ctx *ctx, gt_serve_peer *peer, const int32_t *ids, int n, int top, score_out *o,
                     gt_serve_error *e) {
    int V = gt_model_hparams(s->model)->n_vocab;
    float *logits = gt_malloc((size_t)GT_SERVE_SCORE_CHUNK * (size_t)V * sizeof(float));
    float *prev = gt_malloc((size_t)V * sizeof(float)); /* the row before a chunk's first token */
    int rc = logits && prev ? 0 : gt_serve_fail(e, 500, NULL, NULL, "out of memory");
    for (int at = 0; !rc && at < n; at += GT_SERVE_SCORE_CHUNK) {
        int m = n - at < GT_SERVE_SCORE_CHUNK ? n - at : GT_SERVE_SCORE_CHUNK;
        gt_err err = {0};
        if (gt_serve_held_gone(s, peer, "a prompt's scoring")) {
            rc = gt_serve_fail(e, 499, NULL, "client_closed_request", "the client closed the connection");
            break;
        }
        if (gt_ctx_eval(ctx, ids + at, m, at, logits, GT_EVAL_ALL, &err)) {
            rc = gt_serve_fail(e, 500, NULL, NULL, "evaluation failed: %s", err.msg);
            break;
        }
        for (int i = 0; i < m && !rc; i++) {
            int t = at + i;
            if (add_token(s, o, ids[t])) rc = -1;
            else if (t == 0) /* nothing before the first token to score it by */
                rc = json_array_append_new(o->lps, json_null()) || json_array_append_new(o->tops, json_null());
            else rc = add_scored(s, o, i ? logits + (size_t)(i - 1) * (size_t)V : prev, V, ids[t], top);
            if (rc) gt_serve_fail(e, 500, NULL, NULL, "out of memory");
        }
        if (!rc) memcpy(prev, logits + (size_t)(m - 1) * (size_t)V, (size_t)V * sizeof(float));
    }
    gt_free(logits);
    gt_free(prev);
    return rc;
}

int gt_serve_score(gt_serve *s, gt_serve_peer *peer, const int32_t *ids, int n, int top, json_t **logprobs,
                   json_t **text, gt_serve_error *e) {
    assert(n >= 1 && top >= 0);
    *logprobs = *text = NULL;
    score_out o = {json_array(), json_array(), json_array(), json_array(), GT_BUF_INIT};
    int rc = o.tokens && o.lps && o.tops && o.offs ? 0 : gt_serve_fail(e, 500, NULL, NULL, "out of memory");
    if (!rc && gt_serve_enter(s, e)) rc = -1;
    else if (!rc) {
        gt_err cerr = {0};
        gt_ctx *ctx = gt_serve_ctx(s, &cerr);
        rc = ctx ? score_all(s, ctx, peer, ids, n, top, &o, e) : gt_serve_fail(e, 500, NULL, NULL, "%s", cerr.msg);
        gt_serve_release(s);
    }
    if (!rc) {
        *text = gt_json_text_lossy(o.text.data ? (const char *)o.text.data : "", o.text.len);
        *logprobs = json_pack("{s:O,s:O,s:O,s:O}", "tokens", o.tokens, "token_logprobs", o.lps, "top_logprobs",
                              o.tops, "text_offset", o.offs);
        if (!*text || !*logprobs) {
            json_decref(*text), json_decref(*logprobs);
            *logprobs = *text = NULL;
            rc = gt_serve_fail(e, 500, NULL, NULL, "out of memory");
        }
    }
    json_decref(o.tokens), json_decref(o.lps), json_decref(o.tops), json_decref(o.offs);
    gt_buf_free(&o.text);
    return rc;
}
