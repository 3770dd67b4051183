/* embed.c: POST /v1/embeddings.
 *
 * An input's embedding is the mean, over its tokens, of the model's final
 * hidden states (after the output norm, before the output matrix), scaled
 * to unit L2 length. Mean rather than last-token pooling: these are causal
 * language models not tuned for embeddings, whose last state is shaped to
 * predict the next token (it follows the input's last words), while the
 * mean weighs every token of the input alike.
 *
 * Determinism: each input is evaluated alone from position 0 of the one
 * context (so its vector never depends on the other inputs of the request,
 * on their order or on earlier requests), the mean and the norm are summed
 * in double in index order, and a vector is rounded to float once, at the
 * end. The same input gives the same bytes alone or in a batch. */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/json.h"
#include "serve/serve_impl.h"

/* One input of the request: its tokens in the request's token buffer. */
typedef struct embed_input {
    size_t off; /* first token in ids */
    int n;      /* tokens */
} embed_input;

/* A parsed request. */
typedef struct embed_req {
    json_t *body;
    int base64;    /* encoding_format "base64" */
    gt_buf ids;    /* int32_t tokens of every input, in order */
    gt_buf inputs; /* embed_input per input */
    long total_tokens;
} embed_req;

static void embed_req_free(embed_req *q) {
    json_decref(q->body);
    gt_buf_free(&q->ids);
    gt_buf_free(&q->inputs);
}

/* Appends one input's tokens (already in ids from off) and checks its length. */
static int add_input(gt_serve *s, embed_req *q, size_t off, size_t i, gt_serve_error *e) {
    size_t n = q->ids.len / sizeof(int32_t) - off;
    int n_ctx = gt_ctx_n_ctx(s->bctx); /* the embeddings' context has the same length */
    if (n == 0)
        return gt_serve_fail(e, 400, "input", "invalid_value", "input[%zu]: empty (it must have at least one token)",
                             i);
    if (n > (size_t)n_ctx)
        return gt_serve_fail(e, 400, "input", "context_length_exceeded",
                             "input[%zu] is %zu tokens; this model's context holds %d", i, n, n_ctx);
    if (s->cfg.max_prompt_tokens && n > (size_t)s->cfg.max_prompt_tokens)
        return gt_serve_fail(e, 400, "input", "invalid_value",
                             "input[%zu] is %zu tokens; this server takes at most %d per input "
                             "(--max-prompt-tokens)", i, n, s->cfg.max_prompt_tokens);
    q->total_tokens += (long)n;
    if (q->total_tokens > GT_SERVE_MAX_EMBED_TOKENS)
        return gt_serve_fail(e, 400, "input", "invalid_value", "input: over %d tokens in all (split the request)",
                             GT_SERVE_MAX_EMBED_TOKENS);
    embed_input in = {.off = off, .n = (int)n};
    return gt_buf_append(&q->inputs, &in, sizeof in) ? gt_serve_fail(e, 500, NULL, NULL, "out of memory") : 0;
}

/* A text input: its tokens as a completion prompt's (BOS as the vocabulary
 * asks), with control-token texts left as text. Tokenized within the
 * tightest of the limits add_input checks (the context, --max-prompt-tokens,
 * what is left of the request's total), so an input far over one is
 * refused without being tokenized whole (gt_tokenize_max), its count given
 * as a lower bound. */
static int add_text(gt_serve *s, embed_req *q, const json_t *v, size_t i, gt_serve_error *e) {
    gt_err err = {0};
    size_t n = 0, off = q->ids.len / sizeof(int32_t), len = json_string_length(v);
    const char *text = json_string_value(v);
    int n_ctx = gt_ctx_n_ctx(s->bctx), max_prompt = s->cfg.max_prompt_tokens;
    int by = 0; /* which limit is the budget: 0 the context, 1 the server's, 2 the request's total */
    assert(q->total_tokens <= GT_SERVE_MAX_EMBED_TOKENS);
    size_t budget = (size_t)n_ctx, left = (size_t)(GT_SERVE_MAX_EMBED_TOKENS - q->total_tokens);
    if (max_prompt > 0 && (size_t)max_prompt < budget) budget = (size_t)max_prompt, by = 1;
    if (left < budget) budget = left, by = 2;
    int rc = gt_tokenize_max(s->tok, text, len, 1, 0, budget, &q->ids, &n, &err);
    if (rc == GT_ELIMIT && n && by == 0)
        return gt_serve_fail(e, 400, "input", "context_length_exceeded",
                             "input[%zu] is at least %zu tokens; this model's context holds %d", i, n, n_ctx);
    if (rc == GT_ELIMIT && n && by == 1)
        return gt_serve_fail(e, 400, "input", "invalid_value",
                             "input[%zu] is at least %zu tokens; this server takes at most %d per input "
                             "(--max-prompt-tokens)", i, n, max_prompt);
    if (rc == GT_ELIMIT && n)
        return gt_serve_fail(e, 400, "input", "invalid_value", "input: over %d tokens in all (split the request)",
                             GT_SERVE_MAX_EMBED_TOKENS);
    if (rc) return gt_serve_fail(e, 400, "input", "invalid_value", "input[%zu]: %s", i, err.msg);
    return add_input(s, q, off, i, e);
}

/* A token-array input: every element an id of the vocabulary. */
static int add_tokens(gt_serve *s, embed_req *q, const json_t *v, size_t i, gt_serve_error *e) {
    size_t off = q->ids.len / sizeof(int32_t), k;
    const json_t *t;
    int n_vocab = gt_model_hparams(s->model)->n_vocab;
    if (json_array_size(v) > (size_t)GT_SERVE_MAX_EMBED_TOKENS)
        return gt_serve_fail(e, 400, "input", "invalid_value", "input[%zu]: over %d tokens", i,
                             GT_SERVE_MAX_EMBED_TOKENS);
    json_array_foreach(v, k, t) {
        json_int_t id = json_is_integer(t) ? json_integer_value(t) : -1;
        if (id < 0 || id >= n_vocab)
            return gt_serve_fail(e, 400, "input", "invalid_value",
                                 "input[%zu][%zu]: expected a token id from 0 to %d", i, k, n_vocab - 1);
        int32_t id32 = (int32_t)id;
        if (gt_buf_append(&q->ids, &id32, sizeof id32)) return gt_serve_fail(e, 500, NULL, NULL, "out of memory");
    }
    return add_input(s, q, off, i, e);
}

/* "input": a string, an array of strings, an array of token ids, or an
 * array of arrays of token ids. */
static int parse_input(gt_serve *s, embed_req *q, const json_t *in, gt_serve_error *e) {
    if (json_is_string(in)) return add_text(s, q, in, 0, e);
    if (!json_is_array(in) || json_array_size(in) == 0)
        return gt_serve_fail(e, 400, "input", in ? "invalid_type" : "missing_required_parameter",
                             "input: expected a string, an array of strings, an array of token ids or an array of "
                             "arrays of token ids");
    if (json_is_integer(json_array_get(in, 0))) return add_tokens(s, q, in, 0, e);
    if (json_array_size(in) > GT_SERVE_MAX_EMBED_INPUTS)
        return gt_serve_fail(e, 400, "input", "invalid_value", "input: at most %d inputs, got %zu",
                             GT_SERVE_MAX_EMBED_INPUTS, json_array_size(in));
    size_t i;
    const json_t *v;
    json_array_foreach(in, i, v) {
        int rc = json_is_string(v)  ? add_text(s, q, v, i, e)
                 : json_is_array(v) ? add_tokens(s, q, v, i, e)
                                    : gt_serve_fail(e, 400, "input", "invalid_type",
                                                    "input[%zu]: expected a string or an array of token ids", i);
        if (rc) return rc;
    }
    return 0;
}

/* Checks the body's fields: model, input, encoding_format, dimensions (only
 * the model's own width), user. */
static int parse(gt_serve *s, embed_req *q, gt_serve_error *e) {
    const char *k;
    const json_t *v;
    if (!json_is_object(q->body))
        return gt_serve_fail(e, 400, NULL, "invalid_type", "the request body must be a JSON object");
    json_object_foreach(q->body, k, v) {
        if (strcmp(k, "model") && strcmp(k, "input") && strcmp(k, "encoding_format") && strcmp(k, "dimensions") &&
            strcmp(k, "user"))
            return gt_serve_fail(e, 400, k, "unsupported_parameter", "%s: not a parameter of /v1/embeddings", k);
    }
    const char *model = json_string_value(json_object_get(q->body, "model"));
    if (!model)
        return gt_serve_fail(e, 400, "model", "missing_required_parameter",
                             "model: expected the model's name (see GET /v1/models)");
    if (strcmp(model, s->model_id))
        return gt_serve_fail(e, 404, "model", "model_not_found",
                             "model \"%.256s\" does not exist; this server serves \"%s\"", model, s->model_id);
    const json_t *fmt = json_object_get(q->body, "encoding_format");
    if (fmt && !json_is_null(fmt)) {
        const char *f = json_string_value(fmt);
        if (!f || (strcmp(f, "float") && strcmp(f, "base64")))
            return gt_serve_fail(e, 400, "encoding_format", "invalid_value",
                                 "encoding_format: expected \"float\" or \"base64\"");
        q->base64 = !strcmp(f, "base64");
    }
    const json_t *dims = json_object_get(q->body, "dimensions");
    int n_embd = gt_model_hparams(s->model)->n_embd;
    if (dims && !json_is_null(dims) && (!json_is_integer(dims) || json_integer_value(dims) != n_embd))
        return gt_serve_fail(e, 400, "dimensions", "unsupported_parameter",
                             "dimensions: this model's embeddings have %d dimensions and cannot be shortened",
                             n_embd);
    const json_t *user = json_object_get(q->body, "user");
    if (user && !json_is_null(user) && !json_is_string(user))
        return gt_serve_fail(e, 400, "user", "invalid_type", "user: expected a string");
    return parse_input(s, q, json_object_get(q->body, "input"), e);
}

/* Mean-pools n rows of hidden states and scales to unit length, into out. */
static void pool(const float *h, int n, int E, double *acc, float *out) {
    assert(n >= 1);
    for (int c = 0; c < E; c++)
        acc[c] = 0;
    for (int t = 0; t < n; t++)
        for (int c = 0; c < E; c++)
            acc[c] += h[(size_t)t * E + c];
    double ss = 0;
    for (int c = 0; c < E; c++) {
        acc[c] /= n;
        ss += acc[c] * acc[c];
    }
    double inv = ss > 0 ? 1.0 / sqrt(ss) : 0; /* an all-zero mean stays zero */
    for (int c = 0; c < E; c++)
        out[c] = (float)(acc[c] * inv);
}

/* The vector as OpenAI's base64: its float32s, little-endian, in standard
 * base64 with padding. */
static json_t *base64_json(const float *v, int E) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t nb = (size_t)E * 4, no = (nb + 2) / 3 * 4;
    uint8_t *b = gt_malloc(nb);
    char *o = gt_malloc(no + 1);
    json_t *j = NULL;
    if (b && o) {
        for (int i = 0; i < E; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            for (int k = 0; k < 4; k++)
                b[(size_t)i * 4 + k] = (uint8_t)(u >> (8 * k));
        }
        size_t w = 0;
        for (size_t i = 0; i < nb; i += 3) {
            uint32_t x =
                (uint32_t)b[i] << 16 | (i + 1 < nb ? (uint32_t)b[i + 1] << 8 : 0) | (i + 2 < nb ? b[i + 2] : 0);
            o[w++] = al[x >> 18 & 63], o[w++] = al[x >> 12 & 63];
            o[w++] = i + 1 < nb ? al[x >> 6 & 63] : '=';
            o[w++] = i + 2 < nb ? al[x & 63] : '=';
        }
        o[w] = 0;
        j = json_string(o);
    }
    gt_free(b);
    gt_free(o);
    return j;
}

static json_t *vector_json(const float *v, int E, int base64) {
    if (base64) return base64_json(v, E);
    json_t *a = json_array();
    for (int c = 0; c < E && a; c++)
        json_array_append_new(a, json_real((double)v[c]));
    return a;
}

/* Evaluates every input (holding the model) into data[]; stops between
 * inputs once the client on peer has gone (up to 65,536 tokens, during which
 * no generation is admitted: not for nobody). */
static int run(gt_serve *s, gt_serve_peer *peer, embed_req *q, json_t *data, gt_serve_error *e) {
    int E = gt_model_hparams(s->model)->n_embd, n_ctx = gt_ctx_n_ctx(s->bctx);
    float *h = gt_malloc((size_t)n_ctx * (size_t)E * sizeof(float)), *v = gt_malloc((size_t)E * sizeof(float));
    double *acc = gt_malloc((size_t)E * sizeof(double));
    const embed_input *in = (const embed_input *)(const void *)q->inputs.data;
    size_t n_in = q->inputs.len / sizeof *in;
    int rc = !h || !v || !acc ? gt_serve_fail(e, 500, NULL, NULL, "out of memory") : 0;
    if (rc || gt_serve_enter(s, e)) {
        gt_free(h), gt_free(v), gt_free(acc);
        return -1;
    }
    gt_err cerr = {0};
    gt_ctx *ctx = gt_serve_ctx(s, &cerr);
    if (!ctx) rc = gt_serve_fail(e, 500, NULL, NULL, "%s", cerr.msg);
    for (size_t i = 0; i < n_in && !rc; i++) {
        gt_err err = {0};
        if (gt_serve_held_gone(s, peer, "an embeddings request")) {
            rc = gt_serve_fail(e, 499, NULL, "client_closed_request", "the client closed the connection");
            break;
        }
        const int32_t *ids = (const int32_t *)(const void *)q->ids.data + in[i].off;
        if (gt_ctx_eval(ctx, ids, in[i].n, 0, h, GT_EVAL_HIDDEN, &err)) {
            rc = gt_serve_fail(e, 500, NULL, NULL, "evaluation failed: %s", err.msg);
            break;
        }
        pool(h, in[i].n, E, acc, v);
        json_t *vec = vector_json(v, E, q->base64);
        if (!vec || json_array_append_new(
                        data, json_pack("{s:s,s:i,s:o}", "object", "embedding", "index", (int)i, "embedding", vec)))
            rc = gt_serve_fail(e, 500, NULL, NULL, "out of memory");
    }
    gt_serve_release(s);
    gt_free(h), gt_free(v), gt_free(acc);
    return rc;
}

void gt_serve_h_embeddings(gt_serve *s, gt_serve_req *r, gt_serve_resp *o) {
    embed_req q = {0};
    gt_serve_error e;
    gt_err err = {0};
    json_t *data = NULL;
    gt_serve_fail(&e, 500, NULL, NULL, "out of memory"); /* unless a step says otherwise */
    if (gt_json_parse(r->body.data ? (const char *)r->body.data : "", r->body.len, GT_SERVE_MAX_BODY_BYTES, &q.body,
                      &err))
        gt_serve_fail(&e, 400, NULL, "invalid_json", "the request body is not valid JSON: %s", err.msg);
    else if (!parse(s, &q, &e) && (data = json_array()) && !run(s, &r->peer, &q, data, &e)) {
        o->json =
            json_pack("{s:s,s:o,s:s,s:{s:I,s:I}}", "object", "list", "data", data, "model", s->model_id, "usage",
                      "prompt_tokens", (json_int_t)q.total_tokens, "total_tokens", (json_int_t)q.total_tokens);
        data = NULL;
        if (!o->json) gt_serve_fail(&e, 500, NULL, NULL, "out of memory");
    }
    if (!o->json) gt_serve_resp_error(o, &e);
    json_decref(data);
    embed_req_free(&q);
}
