/* routes.c: the handlers: /health, /v1/models, and completions and chat
 * completions, as one JSON answer or as server-sent events.
 *
 * A generation request is checked whole (body, fields, model, prompt length)
 * before it waits for the model, so a bad request never holds anyone up. */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/alloc.h"
#include "base/json.h"
#include "base/log.h"
#include "serve/serve_impl.h"

/* Bytes of SSE buffered per reader call. */
#define GT_SERVE_STREAM_BLOCK 16384

/* Status, the queue now and the counts of refused and cancelled requests. */
json_t *gt_serve_health_json(gt_serve *s) {
    pthread_mutex_lock(&s->mu);
    json_t *j = json_pack("{s:s,s:s,s:{s:i,s:i,s:i,s:i,s:i},s:{s:I,s:I,s:I,s:I},s:{s:I,s:I},s:{s:I,s:I,s:I}}", "status",
                          "ok", "model", s->model_id, "queue", "running", s->n_running + s->busy, "waiting",
                          s->waiting + s->n_pending, "max_waiting", s->cfg.max_queue, "slots", s->n_slots, "held",
                          gt_serve_n_held(s), "requests",
                          "rejected", (json_int_t)s->n_rejected, "cancelled", (json_int_t)s->n_cancelled,
                          "cancelled_tokens", (json_int_t)s->cancelled_tokens, "lagging", (json_int_t)s->n_lagging,
                          "prefix_cache", "hits", (json_int_t)s->prefix_hits, "tokens", (json_int_t)s->prefix_tokens,
                          "batch", "steps", (json_int_t)s->n_steps, "tokens", (json_int_t)s->n_step_tokens,
                          "logprob_rows", (json_int_t)s->n_lp_rows);
    pthread_mutex_unlock(&s->mu);
    return j;
}

void gt_serve_h_health(gt_serve *s, gt_serve_req *r, gt_serve_resp *o) {
    (void)r;
    o->json = gt_serve_health_json(s);
}

/* A model's entry; "sha256" (an extension) names the GGUF file's bytes, so
 * an agent renting inference checks it gets the weights its work names. */
static json_t *model_json(gt_serve *s) {
    return json_pack("{s:s,s:s,s:I,s:s,s:s}", "id", s->model_id, "object", "model", "created", (json_int_t)s->created,
                     "owned_by", "gotong", "sha256", s->model_sha256);
}

void gt_serve_h_models(gt_serve *s, gt_serve_req *r, gt_serve_resp *o) {
    o->json = json_pack("{s:s,s:[o]}", "object", "list", "data", model_json(s));
}

void gt_serve_h_model(gt_serve *s, gt_serve_req *r, gt_serve_resp *o) {
    if (strcmp(r->m.params[0], s->model_id)) {
        gt_serve_error e;
        gt_serve_fail(&e, 404, "model", "model_not_found", "model \"%s\" does not exist; this server serves \"%s\"",
                      r->m.params[0], s->model_id);
        gt_serve_resp_error(o, &e);
        return;
    }
    o->json = model_json(s);
}

/* One generation request on its way: the parsed body (owning the strings
 * params point to), the prompt's tokens and, once running, the job. */
typedef struct gen {
    gt_serve *srv;
    json_t *body;
    gt_serve_params p;
    gt_buf ids;                 /* int32_t prompt tokens */
    const char *extra_stop;
    gt_serve_job job;
    int running;                /* the job was handed to the batcher */
    int seen;                   /* tokens generated when last looked */
    gt_grammar *grammar;        /* structured output, or NULL */
    gt_serve_peer peer;         /* the client's socket */
    struct MHD_Connection *conn; /* on a node: its connection, where a paid stream settles at its end; else NULL */
    char id[48];
    uint64_t created;
    /* streaming */
    gt_buf out;                 /* SSE bytes not yet handed to MHD */
    size_t out_pos;
    int sent_role, sent_final, sent_done;
    int job_done;               /* the batcher has finished the job */
    int first_seen, first_r;    /* run_stream's wait for the first token, and its result: stream_more's next */
    size_t lp_sent;             /* logprob entries already handed out */
    int left;                   /* its client was seen gone: a paid stream is settled (api/x402.h) */
    char *receipt;              /* a paid stream settled before its end (its window near): its PAYMENT-RESPONSE */
} gen;

/* Frees a request: its job first taken back from the batcher, and only then
 * what the job borrows (its grammar; its stop strings, in the body), which
 * the batcher reads at each step until then. */
static void gen_free(gen *g) {
    /* A job still running when its request is freed: MHD gave up on a stream (its client reset the connection
     * while a send waited, or the server stops). */
    if (g->running && gt_serve_withdraw(g->srv, &g->job)) gt_serve_note_cancel(g->id, g->job.n_gen);
    if (g->running) gt_serve_job_free(&g->job);
    gt_grammar_free(g->grammar);
    json_decref(g->body);
    gt_buf_free(&g->ids);
    gt_buf_free(&g->out);
    gt_free(g->receipt);
    gt_free(g);
}

/* A prompt given as token ids, each checked against the vocabulary, taken
 * as is (no BOS added: the client chose every token). */
static int completion_ids(gen *g, gt_err *err) {
    size_t n = json_array_size(g->p.prompt_ids);
    int n_vocab = gt_tokenizer_n_vocab(g->srv->tok);
    if (gt_buf_reserve(&g->ids, n * sizeof(int32_t) + 1)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int32_t *ids = (int32_t *)(void *)g->ids.data;
    for (size_t i = 0; i < n; i++) {
        json_int_t t = json_integer_value(json_array_get(g->p.prompt_ids, i));
        if (t >= n_vocab)
            return gt_err_set(err, GT_EINVAL, "prompt[%zu]: token id %lld is outside this model's vocabulary of %d",
                              i, (long long)t, n_vocab);
        ids[i] = (int32_t)t;
    }
    g->ids.len = n * sizeof(int32_t);
    return 0;
}

/* Prompt tokens of a completion: BOS as the vocabulary asks, control-token
 * texts parsed (the client writes the whole prompt, as with llama-server).
 * At most max_tokens: a prompt with more fails with GT_ELIMIT and *n_over
 * set to a count over max_tokens that it has at least, not tokenized whole
 * (gt_tokenize_max: a prompt of a megabyte is refused without making its
 * hundreds of thousands of tokens). */
static int completion_tokens(gen *g, size_t max_tokens, size_t *n_over, gt_err *err) {
    *n_over = 0;
    if (g->p.prompt_ids) return completion_ids(g, err);
    size_t n = 0;
    int rc = gt_tokenize_max(g->srv->tok, g->p.prompt, g->p.prompt_len, 1, 1, max_tokens, &g->ids, &n, err);
    if (rc == GT_ELIMIT && n) *n_over = n;
    return rc;
}

/* The most prompt tokens the request may have: the context less room for
 * one generated token (an echo, only scored, may fill it), or
 * --max-prompt-tokens when that is lower (*by_server then set). */
static size_t prompt_budget(const gen *g, int *by_server) {
    int n_ctx = gt_ctx_n_ctx(g->srv->bctx), max_prompt = g->srv->cfg.max_prompt_tokens;
    int most = g->p.echo ? n_ctx : n_ctx - 1;
    assert(most >= 0);
    *by_server = max_prompt > 0 && max_prompt < most;
    return (size_t)(*by_server ? max_prompt : most);
}

/* The refusal of a prompt found to have at least n_over tokens, over the
 * budget of prompt_budget: the same status, param and code as a prompt
 * counted whole, its count given as a lower bound. */
static int refuse_long(gen *g, size_t n_over, int by_server, gt_serve_error *e) {
    const char *input = g->p.kind == GT_SERVE_CHAT ? "messages" : "prompt";
    int n_ctx = gt_ctx_n_ctx(g->srv->bctx);
    if (by_server)
        return gt_serve_fail(e, 400, input, "invalid_value",
                             "the prompt is at least %zu tokens; this server takes at most %d per request "
                             "(--max-prompt-tokens)", n_over, g->srv->cfg.max_prompt_tokens);
    if (g->p.echo)
        return gt_serve_fail(e, 400, "prompt", "context_length_exceeded",
                             "the prompt is at least %zu tokens; this model's context holds %d", n_over, n_ctx);
    return gt_serve_fail(e, 400, input, "context_length_exceeded",
                         "the prompt is at least %zu tokens; this model's context holds %d, with room for at least "
                         "one generated token", n_over, n_ctx);
}

/* The server's per-request limits: the prompt's n tokens and max_tokens (a
 * request without max_tokens gets the server's limit as its own). */
static int check_limits(gen *g, int n, gt_serve_error *e) {
    const gt_serve_config *c = &g->srv->cfg;
    const char *input = g->p.kind == GT_SERVE_CHAT ? "messages" : "prompt";
    if (c->max_prompt_tokens && n > c->max_prompt_tokens)
        return gt_serve_fail(e, 400, input, "invalid_value",
                             "the prompt is %d tokens; this server takes at most %d per request (--max-prompt-tokens)",
                             n, c->max_prompt_tokens);
    if (!c->max_output_tokens || g->p.echo) return 0;
    const char *f = json_object_get(g->body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    if (g->p.max_tokens > c->max_output_tokens)
        return gt_serve_fail(e, 400, f, "invalid_value",
                             "%s: %d is over this server's limit of %d tokens per request (--max-output-tokens)", f,
                             g->p.max_tokens, c->max_output_tokens);
    if (!g->p.max_tokens) g->p.max_tokens = c->max_output_tokens;
    return 0;
}

/* Parses and checks the request, and makes its prompt tokens. */
static int gen_prepare(gen *g, gt_serve_req *r, gt_serve_kind kind, gt_serve_error *e) {
    gt_err err = {0};
    if (gt_json_parse(r->body.data ? (const char *)r->body.data : "", r->body.len, GT_SERVE_MAX_BODY_BYTES, &g->body, &err))
        return gt_serve_fail(e, 400, NULL, "invalid_json", "the request body is not valid JSON: %s", err.msg);
    if (gt_serve_parse(g->body, kind, &g->p, e)) return -1;
    if (g->p.response_format && gt_grammar_compile(g->p.response_format, &g->grammar, e)) return -1;
    if (g->p.tool_forced && gt_serve_tools_grammar(&g->p, &g->grammar, e)) return -1;
    g->p.grammar = g->grammar;
    if (g->grammar && gt_serve_gvocab(g->srv, &g->p.gvocab, &err))
        return gt_serve_fail(e, 500, NULL, NULL, "%s", err.msg);
    if (strcmp(g->p.model, g->srv->model_id))
        return gt_serve_fail(e, 404, "model", "model_not_found", "model \"%s\" does not exist; this server serves \"%s\"",
                             g->p.model, g->srv->model_id);
    /* Tokenized against the budget, so a prompt far over it is refused
     * before it costs its whole tokenization. */
    int by_server = 0;
    size_t budget = prompt_budget(g, &by_server), n_over = 0;
    int rc = kind == GT_SERVE_CHAT ? gt_serve_chat_prompt_max(g->srv, g->p.messages, g->p.tools, budget, &g->ids,
                                                              &n_over, &g->extra_stop, &err)
                                   : completion_tokens(g, budget, &n_over, &err);
    if (rc == GT_ELIMIT && n_over) return refuse_long(g, n_over, by_server, e);
    if (rc == GT_ELIMIT || rc == GT_EINVAL)
        return gt_serve_fail(e, 400, kind == GT_SERVE_CHAT ? "messages" : "prompt", "invalid_value", "%s", err.msg);
    if (rc) return gt_serve_fail(e, 500, NULL, NULL, "%s", err.msg);
    int n = (int)(g->ids.len / sizeof(int32_t)), n_ctx = gt_ctx_n_ctx(g->srv->bctx);
    if (n == 0) return gt_serve_fail(e, 400, "prompt", "invalid_value", "the prompt has no tokens");
    if (check_limits(g, n, e)) return -1;
    if (g->p.echo && n > n_ctx)
        return gt_serve_fail(e, 400, "prompt", "context_length_exceeded",
                             "the prompt is %d tokens; this model's context holds %d", n, n_ctx);
    if (n >= n_ctx && !g->p.echo)
        return gt_serve_fail(e, 400, kind == GT_SERVE_CHAT ? "messages" : "prompt", "context_length_exceeded",
                             "the prompt is %d tokens; this model's context holds %d, with room for at least one "
                             "generated token", n, n_ctx);
    g->created = (uint64_t)time(NULL);
    snprintf(g->id, sizeof g->id, "%s-%llu", kind == GT_SERVE_CHAT ? "chatcmpl" : "cmpl", (unsigned long long)r->id);
    return 0;
}

/* The IPv4 address of the client on socket fd (network order), 0 when it
 * has none (another family, or the socket is gone). */
static uint32_t peer_ip(int fd) {
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&a, &len) != 0 || a.ss_family != AF_INET) return 0;
    return ((const struct sockaddr_in *)(const void *)&a)->sin_addr.s_addr;
}

/* Prepares the job and hands it to the batcher (or answers 429). */
static int gen_start(gen *g, gt_serve_error *e) {
    gt_err err = {0};
    if (gt_serve_job_init(&g->job, g->srv->bctx, g->srv->tok, (const int32_t *)(void *)g->ids.data,
                          (int)(g->ids.len / sizeof(int32_t)), &g->p, g->extra_stop, &err)) {
        gt_serve_job_free(&g->job);
        return gt_serve_fail(e, err.code == GT_EINVAL ? 400 : 500, NULL, NULL, "%s", err.msg);
    }
    g->job.stream = g->p.stream;
    g->job.taken_ms = gt_serve_now_ms(); /* the stream idle rule counts from here (batch.c) */
    g->job.client_ip = peer_ip(g->peer.fd);
    if (gt_serve_submit(g->srv, &g->job, e)) {
        gt_serve_job_free(&g->job);
        return -1;
    }
    g->running = 1;
    return 0;
}

/* The answer to a request evicted from the full queue (batch.c): 429, as a
 * request refused on arrival would have been, with why. Returns -1. */
static int evicted(gt_serve_error *e) {
    gt_serve_fail(e, 429, NULL, "rate_limit_exceeded",
                  "the server is busy and its queue was full: this request, the newest of the client address "
                  "holding the most waiting requests, gave way to another client's; retry after %d s",
                  GT_SERVE_RETRY_AFTER_S);
    e->type = "requests";
    return -1;
}

/* Waits for the job to progress: 0, 2 when done, 1 when the client left
 * (the job is then withdrawn and counted cancelled). */
static int gen_wait(gen *g) {
    int r = gt_serve_wait(g->srv, &g->job, &g->seen, &g->peer);
    if (r == 1 && gt_serve_withdraw(g->srv, &g->job)) gt_serve_note_cancel(g->id, g->job.n_gen);
    return r;
}

static json_t *usage_json(const gen *g) {
    return json_pack("{s:i,s:i,s:i}", "prompt_tokens", g->job.n_prompt, "completion_tokens", g->job.n_gen,
                     "total_tokens", g->job.n_prompt + g->job.n_gen);
}

/* The envelope every answer and chunk shares. */
static json_t *envelope(const gen *g, const char *object) {
    return json_pack("{s:s,s:s,s:I,s:s}", "id", g->id, "object", object, "created", (json_int_t)g->created, "model",
                     g->srv->model_id);
}

/* A token's text as OpenAI gives it: the text (invalid UTF-8 replaced) and
 * its exact bytes. */
static void token_fields(const gen *g, int32_t id, json_t **text, json_t **bytes) {
    size_t n = 0;
    const char *piece = gt_token_to_piece(g->srv->tok, id, 1, &n);
    if (!piece) piece = "", n = 0;
    *text = gt_json_text_lossy(piece, n);
    *bytes = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(*bytes, json_integer((unsigned char)piece[i]));
}

/* Chat's {"token","logprob","bytes"} of one id. */
static json_t *chat_lp(const gen *g, int32_t id, float lp) {
    json_t *t, *b;
    token_fields(g, id, &t, &b);
    return json_pack("{s:o,s:f,s:o}", "token", t, "logprob", (double)lp, "bytes", b);
}

/* The logprobs of the tokens whose text starts before byte `end` and that
 * were not handed out yet (null when the request did not ask): chat's
 * {"content":[...]} or a completion's parallel arrays. */
static json_t *logprobs_json(gen *g, size_t end) {
    if (!g->p.logprobs) return json_null();
    const gt_serve_logprob *e = (const gt_serve_logprob *)(const void *)g->job.lps.data;
    size_t n = g->job.lps.len / sizeof *e;
    int chat = g->p.kind == GT_SERVE_CHAT;
    json_t *content = json_array(), *tokens = json_array(), *lps = json_array(), *tops = json_array(), *offs = json_array();
    for (; g->lp_sent < n && e[g->lp_sent].start < end; g->lp_sent++) {
        const gt_serve_logprob *x = &e[g->lp_sent];
        if (chat) {
            json_t *c = chat_lp(g, x->token, x->logprob), *top = json_array();
            for (int k = 0; k < x->n_top; k++) json_array_append_new(top, chat_lp(g, x->top_ids[k], x->top_lps[k]));
            json_object_set_new(c, "top_logprobs", top);
            json_array_append_new(content, c);
            continue;
        }
        double top_lps[GT_SERVE_MAX_TOP_LOGPROBS];
        for (int k = 0; k < x->n_top; k++) top_lps[k] = x->top_lps[k];
        json_array_append_new(tokens, gt_serve_token_key(g->srv->tok, x->token));
        json_array_append_new(lps, json_real(x->logprob));
        json_array_append_new(offs, json_integer((json_int_t)x->start));
        json_array_append_new(tops, gt_serve_legacy_top(g->srv->tok, x->top_ids, top_lps, x->n_top));
    }
    if (chat) {
        json_decref(tokens), json_decref(lps), json_decref(tops), json_decref(offs);
        return json_pack("{s:o,s:n}", "content", content, "refusal");
    }
    json_decref(content);
    return json_pack("{s:o,s:o,s:o,s:o}", "tokens", tokens, "token_logprobs", lps, "top_logprobs", tops, "text_offset", offs);
}

/* One choice: chat's message/delta or a completion's text. text NULL: an
 * empty delta (the final chunk). */
static json_t *choice_json(const gen *g, const char *text, size_t len, int delta, int role, const char *finish,
                           json_t *lp) {
    json_t *c = json_pack("{s:i}", "index", 0);
    size_t content_len = len;
    json_t *calls = text && g->job.done && g->p.tools ? gt_serve_tool_calls(&g->p, text, len, &content_len) : NULL;
    json_t *t = text && (!calls || content_len) ? gt_json_text_lossy(text, content_len) : NULL;
    if (calls && !delta) finish = "tool_calls"; /* a stream says it in its last chunk */
    if (g->p.kind == GT_SERVE_CHAT) {
        json_t *m = json_object();
        if (role) json_object_set_new(m, "role", json_string("assistant"));
        if (t) json_object_set_new(m, "content", t);
        else if (calls && !delta) json_object_set_new(m, "content", json_null());
        if (calls && delta) { /* stream: each call whole, with its index */
            size_t k;
            json_t *x;
            json_array_foreach(calls, k, x) json_object_set_new(x, "index", json_integer((json_int_t)k));
        }
        if (calls) json_object_set_new(m, "tool_calls", calls);
        json_object_set_new(c, delta ? "delta" : "message", m);
    } else {
        json_object_set_new(c, "text", t ? t : json_string(""));
    }
    if (g->p.return_tokens && !delta) { /* every generated id, as llama-server's "tokens" */
        const int32_t *ids = (const int32_t *)(const void *)g->job.toks.data;
        json_t *a = json_array();
        for (size_t i = 0; i < g->job.toks.len / sizeof *ids; i++) json_array_append_new(a, json_integer(ids[i]));
        json_object_set_new(c, "tokens", a);
    }
    json_object_set_new(c, "logprobs", lp ? lp : json_null());
    json_object_set_new(c, "finish_reason", finish ? json_string(finish) : json_null());
    return c;
}

/* Runs a non-streaming request to the end and builds its answer. */
static void run_whole(gen *g, gt_serve_resp *o) {
    gt_serve_error e;
    if (gen_start(g, &e)) {
        gt_serve_resp_error(o, &e);
        return;
    }
    for (int r = 0; r != 2;) {
        if ((r = gen_wait(g)) == 1) { /* nobody to answer: the slot is free again */
            gt_serve_fail(&e, 499, NULL, "client_closed_request", "the client closed the connection");
            gt_serve_resp_error(o, &e);
            return;
        }
    }
    /* Done: the batcher has let go of the job. */
    if (g->job.failed) {
        if (g->job.evicted) evicted(&e);
        else gt_serve_fail(&e, 500, NULL, NULL, "generation failed: %s", g->job.err.msg);
        gt_serve_resp_error(o, &e);
        return;
    }
    size_t len;
    const char *text = gt_serve_job_ready(&g->job, &len);
    json_t *j = envelope(g, g->p.kind == GT_SERVE_CHAT ? "chat.completion" : "text_completion");
    json_object_set_new(j, "choices", json_pack("[o]", choice_json(g, text, len, 0, 1, g->job.finish_reason, logprobs_json(g, g->job.text.len))));
    json_object_set_new(j, "usage", usage_json(g));
    o->json = j;
}

/* "echo": true with "max_tokens": 0: the prompt scored (score.c), nothing
 * generated; the logprobs only when asked for. */
static void run_echo(gen *g, gt_serve_resp *o) {
    gt_serve_error e;
    json_t *lp = NULL, *text = NULL;
    int n = (int)(g->ids.len / sizeof(int32_t));
    const int32_t *ids = (const int32_t *)(void *)g->ids.data;
    if (gt_serve_score(g->srv, &g->peer, ids, n, g->p.top_logprobs, &lp, &text, &e)) {
        gt_serve_resp_error(o, &e);
        return;
    }
    if (!g->p.logprobs) json_decref(lp), lp = json_null();
    json_t *j = envelope(g, "text_completion");
    json_object_set_new(j, "choices", json_pack("[{s:i,s:o,s:o,s:s}]", "index", 0, "text", text, "logprobs", lp,
                                                "finish_reason", "length"));
    json_object_set_new(j, "usage", json_pack("{s:i,s:i,s:i}", "prompt_tokens", n, "completion_tokens", 0,
                                              "total_tokens", n));
    o->json = j;
}

/* Appends one SSE event "data: JSON\n\n" (j stolen). */
static int sse_event(gen *g, json_t *j) {
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    int oom = !s || gt_buf_append_str(&g->out, "data: ") || gt_buf_append_str(&g->out, s) || gt_buf_append_str(&g->out, "\n\n");
    free(s);
    return oom ? -1 : 0;
}

/* One chunk with a choice (text or final), as JSON (NULL out of memory). */
static json_t *chunk_json(gen *g, const char *text, size_t len, int role, const char *finish) {
    json_t *j = envelope(g, g->p.kind == GT_SERVE_CHAT ? "chat.completion.chunk" : "text_completion");
    json_t *lp = text && len ? logprobs_json(g, g->job.emitted) : NULL;
    json_object_set_new(j, "choices", json_pack("[o]", choice_json(g, text, len, 1, role, finish, lp)));
    return j;
}

/* One chunk with a choice (text or final). */
static int sse_chunk(gen *g, const char *text, size_t len, int role, const char *finish) {
    return sse_event(g, chunk_json(g, text, len, role, finish));
}

/* The text generated since the last chunk, as a chunk (taken under the
 * server's lock: the batcher appends to it meanwhile). */
static int stream_text(gen *g) {
    pthread_mutex_lock(&g->srv->mu);
    /* Not before the last token's logprobs are in (batch.c): its chunk
     * carries them. The job takes no step meanwhile. */
    while (g->job.lp_state) pthread_cond_wait(&g->srv->pcv, &g->srv->mu);
    if (gt_serve_held(g->srv, &g->job)) pthread_cond_signal(&g->srv->bcv); /* it may go on (batch.c) */
    g->job.n_taken = g->job.n_gen; /* the client keeps up (back-pressure, batch.c) */
    g->job.taken_ms = gt_serve_now_ms(), g->job.held_ms = 0; /* the idle window starts again when held */
    size_t len;
    const char *text;
    int rc = 0;
    /* With tools the answer may be calls: it is sent whole at the end. */
    while (!rc && !g->p.tools && (text = gt_serve_job_chunk(&g->job, &len)))
        if (len) rc = sse_chunk(g, text, len, 0, NULL);
    pthread_mutex_unlock(&g->srv->mu);
    return rc;
}

/* A finished stream's finish_reason: "tool_calls" when its text was calls. */
static const char *stream_finish(gen *g) {
    size_t content_len;
    json_t *calls = g->p.tools ? gt_serve_tool_calls(&g->p, g->job.text.data ? (const char *)g->job.text.data : "",
                                                     g->job.text.len, &content_len)
                               : NULL;
    json_decref(calls);
    return calls ? "tool_calls" : g->job.finish_reason;
}

/* The end of a stream whose generation ended normally, its last text
 * buffered (from out's length mark on): on a node its payment is settled
 * now (gt_api_ext_settle) unless its window's end settled it already. A
 * settlement that fails ends it with an error event in place of that text,
 * nothing charged. Then the finishing chunk (with the receipt,
 * "payment_response") and usage: once settled, their failure (out of
 * memory) leaves them out but still hands out the text paid for. A client
 * gone by now is charged all the same (api/x402.h): it had its stream. */
static int stream_end(gen *g, size_t mark) {
    char *hdr = NULL, why[GT_ERR_MSG_MAX];
    if (g->conn && gt_api_ext_settle(g->conn, &hdr, why, sizeof why)) {
        gt_serve_error e;
        g->out.len = mark; /* the text not paid for is not sent */
        gt_serve_fail(&e, 402, NULL, "payment_required", "payment required: %s", why);
        return sse_event(g, gt_serve_error_json(&e));
    }
    json_t *j = chunk_json(g, g->p.kind == GT_SERVE_CHAT ? NULL : "", 0, 0, stream_finish(g));
    if (j && (hdr || g->receipt)) json_object_set_new(j, "payment_response", json_string(hdr ? hdr : g->receipt));
    gt_free(hdr);
    int rc = sse_event(g, j);
    if (!rc && g->p.include_usage) {
        j = envelope(g, g->p.kind == GT_SERVE_CHAT ? "chat.completion.chunk" : "text_completion");
        json_object_set_new(j, "choices", json_array());
        json_object_set_new(j, "usage", usage_json(g));
        rc = sse_event(g, j);
    }
    return g->conn ? 0 : rc;
}

/* A stream whose generation failed: its error event (then [DONE]). On a
 * node, cancelled for lag (its client stopped reading: the client's doing)
 * it is settled, its receipt in the event, a settlement that fails saying
 * so instead; failed on the server's side its payment is released, nothing
 * charged (api/x402.h). */
static int stream_failed(gen *g) {
    gt_serve_error e;
    char *hdr = NULL, why[GT_ERR_MSG_MAX];
    assert(g->job_done && g->job.failed);
    g->sent_final = 1;
    if (g->conn && !g->job.lagged) gt_api_ext_release(g->conn);
    if (g->conn && g->job.lagged && gt_api_ext_settle(g->conn, &hdr, why, sizeof why)) {
        gt_serve_fail(&e, 402, NULL, "payment_required", "payment required: %s (%s)", why, g->job.err.msg);
        return sse_event(g, gt_serve_error_json(&e));
    }
    gt_serve_fail(&e, 500, NULL, NULL, "generation failed: %s", g->job.err.msg);
    json_t *j = gt_serve_error_json(&e);
    if (j && (hdr || g->receipt)) json_object_set_new(j, "payment_response", json_string(hdr ? hdr : g->receipt));
    gt_free(hdr);
    return sse_event(g, j);
}

/* A paid stream whose payment's window nears its end is settled now,
 * between two chunks, so it cannot outlast its window unpaid (api/x402.h);
 * its receipt is kept for its last chunk. 0 to go on (settled, or not due);
 * 1 when the settlement failed: the stream is cut with the error event
 * (402, nothing charged); -1 out of memory. */
static int stream_settle_due(gen *g) {
    char *hdr = NULL, why[GT_ERR_MSG_MAX];
    if (!g->conn || !gt_api_ext_settle_due(g->conn)) return 0;
    if (!gt_api_ext_settle(g->conn, &hdr, why, sizeof why)) {
        assert(!g->receipt); /* settled once */
        g->receipt = hdr;
        return 0;
    }
    gt_serve_error e;
    g->sent_final = 1, g->job_done = 1; /* nothing more of it: [DONE] next (gen_free withdraws the job) */
    gt_serve_fail(&e, 402, NULL, "payment_required", "payment required: %s", why);
    return sse_event(g, gt_serve_error_json(&e)) ? -1 : 1;
}

/* Produces the next SSE bytes: the role chunk, then text chunks as tokens
 * come, then the finishing chunk, usage when asked, and [DONE]. An error
 * midway is sent as an error event before [DONE]. */
static int stream_more(gen *g) {
    if (g->p.kind == GT_SERVE_CHAT && !g->sent_role) {
        g->sent_role = 1;
        return sse_chunk(g, "", 0, 1, NULL);
    }
    if (!g->job_done) {
        int r = g->first_seen ? g->first_r : gen_wait(g);
        g->first_seen = 0;
        if (r == 1) return g->left = 1, -1; /* gen_free counts it; a paid one is settled (on_completed) */
        g->job_done = r == 2;
        if (g->job_done && g->job.failed) return stream_failed(g);
        int due = stream_settle_due(g);
        if (due) return due < 0 ? -1 : 0;
        return stream_text(g);
    }
    if (!g->sent_final) {
        g->sent_final = 1;
        size_t len, mark = g->out.len;
        const char *text = gt_serve_job_ready(&g->job, &len);
        if (len && sse_chunk(g, text, len, 0, NULL)) return -1;
        return stream_end(g, mark);
    }
    g->sent_done = 1;
    return gt_buf_append_str(&g->out, "data: [DONE]\n\n") ? -1 : 0;
}

/* MHD's content reader: hands out buffered SSE bytes, producing more as
 * needed (blocking this connection's thread while a token is computed). */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    gen *g = cls;
    while (g->out_pos == g->out.len) {
        if (g->sent_done) return MHD_CONTENT_READER_END_OF_STREAM;
        gt_buf_reset(&g->out);
        g->out_pos = 0;
        if (stream_more(g)) {
            /* Cut on the server's side (out of memory) is not charged; a client gone is (api/x402.h). */
            if (g->conn && !g->left) gt_api_ext_release(g->conn);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    size_t n = g->out.len - g->out_pos < max ? g->out.len - g->out_pos : max;
    memcpy(buf, g->out.data + g->out_pos, n);
    g->out_pos += n;
    return (ssize_t)n;
}

static void stream_free(void *cls) { gen_free(cls); }

/* Waits for a stream's first token (or its end): 0 to answer 200, else e
 * holds the status to answer instead (the client left, the evaluation
 * failed). A paid stream is settled later, by how it ends (api/x402.h). */
static int stream_first(gen *g, gt_serve_error *e) {
    int r = gen_wait(g);
    if (r == 1) return gt_serve_fail(e, 499, NULL, "client_closed_request", "the client closed the connection");
    if (r == 2 && g->job.evicted) return evicted(e);
    if (r == 2 && g->job.failed) /* done: the batcher has let go of the job */
        return gt_serve_fail(e, 500, NULL, NULL, "generation failed: %s", g->job.err.msg);
    g->first_seen = 1, g->first_r = r;
    return 0;
}

/* Starts a stream: the prompt is evaluated and the first token made now (so
 * their errors get a status), the rest as the client reads. The response
 * owns g. */
static void run_stream(gen *g, gt_serve_resp *o) {
    gt_serve_error e;
    if (gen_start(g, &e) || stream_first(g, &e)) {
        gt_serve_resp_error(o, &e);
        gen_free(g);
        return;
    }
    /* The answer begins: no interim 100 may come after its status. A closed
     * client is seen by the reset its first event's send brings (so an
     * HTTP/1.0 client's EOF no longer needs taking for a hang-up). */
    g->peer.probe = 0, g->peer.eof_gone = 0;
    /* What a client that stops reading leaves queued in the kernel: bounded
     * (the rest is bounded by cancelling it, batch.c). */
    int sndbuf = g->srv->cfg.stream_sndbuf_bytes;
    if (setsockopt(g->peer.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf))
        GT_WARN("serve: cannot bound a stream's send buffer: %s", strerror(errno));
    o->raw = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, GT_SERVE_STREAM_BLOCK, stream_read, g, stream_free);
    if (!o->raw) {
        gen_free(g);
        gt_serve_fail(&e, 500, NULL, NULL, "out of memory");
        gt_serve_resp_error(o, &e);
        return;
    }
    o->stream = 1; /* on a node: paid by how it ends (api/x402.h) */
    MHD_add_response_header(o->raw, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(o->raw, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
}

static void handle(gt_serve *s, gt_serve_req *r, gt_serve_resp *o, gt_serve_kind kind) {
    gt_serve_error e;
    gen *g = gt_calloc(1, sizeof *g);
    if (!g) {
        gt_serve_fail(&e, 500, NULL, NULL, "out of memory");
        gt_serve_resp_error(o, &e);
        return;
    }
    g->srv = s;
    g->peer = r->peer;
    g->conn = r->on_node ? r->conn : NULL;
    if (gen_prepare(g, r, kind, &e)) {
        gt_serve_resp_error(o, &e);
        gen_free(g);
        return;
    }
    if (g->p.stream) {
        run_stream(g, o);
        return;
    }
    if (g->p.echo) run_echo(g, o);
    else run_whole(g, o);
    gen_free(g);
}

void gt_serve_h_completions(gt_serve *s, gt_serve_req *r, gt_serve_resp *o) { handle(s, r, o, GT_SERVE_COMPLETION); }
void gt_serve_h_chat(gt_serve *s, gt_serve_req *r, gt_serve_resp *o) { handle(s, r, o, GT_SERVE_CHAT); }
