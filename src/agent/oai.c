/* oai.c: the agent's OpenAI-compatible inference client (see oai.h), on
 * libcurl. Every answer is read as untrusted input: bounded, parsed
 * strictly, each field checked before it is used. */
#include "agent/oai.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "agent/client.h"
#include "agent/pay.h"
#include "base/alloc.h"
#include "base/json.h"

struct gt_oai {
    char url[GT_OAI_URL_MAX + 1];
    char model[GT_OAI_MODEL_MAX + 1]; /* "" until named or found */
    long timeout_ms;
    CURL *curl;
    char curl_err[CURL_ERROR_SIZE];
    gt_agent_payer *payer;            /* pays a 402; NULL: none */
    gt_agent_paid paid;               /* what the last request paid */
    gt_x402_answer pay_hdrs;          /* the x402 headers of the last answer */
};

int gt_oai_new(const char *base_url, const char *model, uint64_t timeout_ms, gt_oai **out, gt_err *err) {
    *out = NULL;
    size_t len = base_url ? strlen(base_url) : 0;
    if (!len || len > GT_OAI_URL_MAX)
        return gt_err_set(err, GT_EINVAL, "model URL: expected http://HOST:PORT/v1 of at most %d bytes",
                          GT_OAI_URL_MAX);
    if (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8))
        return gt_err_set(err, GT_EINVAL, "model URL \"%.80s\": expected http://HOST:PORT/v1", base_url);
    if (model && (!*model || strlen(model) > GT_OAI_MODEL_MAX))
        return gt_err_set(err, GT_EINVAL, "model name: expected 1..%d bytes", GT_OAI_MODEL_MAX);
    if (timeout_ms > 24ull * 3600 * 1000)
        return gt_err_set(err, GT_EINVAL, "model timeout: at most a day, got %llu ms", (unsigned long long)timeout_ms);
    int rc = gt_client_global_init(err);
    if (rc) return rc;
    gt_oai *o = gt_calloc(1, sizeof *o);
    if (!o) return gt_err_set(err, GT_ENOMEM, "out of memory");
    memcpy(o->url, base_url, len + 1);
    while (len > 0 && o->url[len - 1] == '/') o->url[--len] = 0;
    if (model) snprintf(o->model, sizeof o->model, "%s", model);
    o->timeout_ms = timeout_ms ? (long)timeout_ms : GT_OAI_DEFAULT_TIMEOUT_MS;
    if (!(o->curl = curl_easy_init())) {
        gt_free(o);
        return gt_err_set(err, GT_ENOMEM, "libcurl: cannot make a handle");
    }
    *out = o;
    return 0;
}

void gt_oai_free(gt_oai *o) {
    if (!o) return;
    curl_easy_cleanup(o->curl);
    gt_free(o);
}

const char *gt_oai_url(const gt_oai *o) { return o->url; }
void gt_oai_set_payer(gt_oai *o, gt_agent_payer *p) { o->payer = p; }
const gt_agent_paid *gt_oai_last_paid(const gt_oai *o) { return &o->paid; }
const char *gt_oai_model(const gt_oai *o) { return o->model[0] ? o->model : NULL; }

/* Collects a body up to GT_OAI_RESPONSE_MAX; more aborts the transfer. */
typedef struct oai_sink {
    gt_buf buf;
    int over;
} oai_sink;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg) {
    oai_sink *s = arg;
    size_t n = size * nmemb;
    if (s->buf.len + n > GT_OAI_RESPONSE_MAX) {
        s->over = 1;
        return 0;
    }
    return gt_buf_append(&s->buf, ptr, n) ? 0 : n;
}

/* The message of an OpenAI error body, or NULL. */
static const char *error_message(const json_t *j) {
    return json_string_value(json_object_get(json_object_get(j, "error"), "message"));
}

/* One exchange: GET (body NULL) or POST body to url, with PAYMENT-SIGNATURE
 * sig when not NULL. s gets the body, *status the status, o->pay_hdrs the
 * x402 headers. Only a transport failure is an error here. */
static int exchange(gt_oai *o, const char *url, const char *body, const char *sig, oai_sink *s, long *status,
                    gt_err *err) {
    CURL *h = o->curl;
    curl_easy_reset(h);
    struct curl_slist *hdrs = NULL;
    char *line = sig ? gt_malloc(strlen(sig) + 32) : NULL;
    if (sig && !line) return gt_err_set(err, GT_ENOMEM, "out of memory");
    memset(&o->pay_hdrs, 0, sizeof o->pay_hdrs);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, gt_x402_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &o->pay_hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)GT_OAI_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, o->curl_err);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    o->curl_err[0] = 0;
    if (sig) {
        sprintf(line, "PAYMENT-SIGNATURE: %s", sig);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (body) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    if (hdrs) curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    gt_free(line);
    *status = 0;
    if (cc != CURLE_OK)
        return s->over ? gt_err_set(err, GT_ELIMIT, "%s: the answer is over the limit of %d bytes", url,
                                    GT_OAI_RESPONSE_MAX)
                       : gt_err_set(err, GT_EIO, "%s: %s", url, o->curl_err[0] ? o->curl_err : curl_easy_strerror(cc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

/* An answer 402 paid (o->payer, within its budget) and the request sent
 * again; a paid answer must be 2xx with PAYMENT-RESPONSE (into o->paid). */
static int pay_retry(gt_oai *o, const char *url, const char *body, oai_sink *s, long *status, gt_err *err) {
    char *sig = NULL;
    int rc = gt_agent_pay_sign(o->payer, o->pay_hdrs.required, &sig, &o->paid, err);
    if (rc) return gt_err_wrap(err, "%s answered 402", url);
    s->buf.len = 0;
    rc = exchange(o, url, body, sig, s, status, err);
    gt_free(sig);
    if (!rc && *status == 402) {
        char why[256];
        gt_x402_refusal(o->pay_hdrs.required, why, sizeof why);
        return gt_err_set(err, GT_EPERM, "%s refused the payment: %s", url, why[0] ? why : "no reason given");
    }
    if (rc || *status < 200 || *status > 299) return rc; /* the caller reports the status */
    if ((rc = gt_agent_pay_response(o->pay_hdrs.response, o->paid.tx, err))) return gt_err_wrap(err, "%s", url);
    o->paid.paid = 1;
    return 0;
}

/* GET (body NULL) or POST a JSON body to {url}{path}, paying a 402 when the
 * client has a payer; *out gets the parsed JSON object of a 2xx answer.
 * Anything else is an error naming the URL. */
static int request(gt_oai *o, const char *path, const char *body, json_t **out, gt_err *err) {
    *out = NULL;
    char url[GT_OAI_URL_MAX + 64];
    snprintf(url, sizeof url, "%s%s", o->url, path);
    oai_sink s = {GT_BUF_INIT, 0};
    long status = 0;
    memset(&o->paid, 0, sizeof o->paid);
    int rc = exchange(o, url, body, NULL, &s, &status, err);
    if (!rc && status == 402 && o->payer) rc = pay_retry(o, url, body, &s, &status, err);
    if (rc) goto out;
    json_t *j = NULL;
    gt_err perr = {0};
    int bad = gt_json_parse(s.buf.data ? (const char *)s.buf.data : "", s.buf.len, GT_OAI_RESPONSE_MAX, &j, &perr);
    if (status < 200 || status > 299) {
        const char *m = bad ? NULL : error_message(j);
        rc = gt_err_set(err, status >= 500 || status == 429 ? GT_EIO : status == 402 ? GT_EPERM : GT_EINVAL,
                        "%s: HTTP %ld%s%.300s", url, status, m ? ": " : "", m ? m : "");
        json_decref(j);
    } else if (bad || !json_is_object(j)) {
        rc = gt_err_set(err, GT_EIO, "%s: the answer is not a JSON object (%s)", url, bad ? perr.msg : "an array");
        json_decref(j);
    } else {
        *out = j;
    }
out:
    gt_buf_free(&s.buf);
    return rc;
}

/* Finds the entry of /v1/models for o's model (by name, or by sha256 when
 * unnamed) and checks that it runs want_id's bytes. */
static int match_model(gt_oai *o, const json_t *data, const char *want_id, gt_err *err) {
    size_t n = json_array_size(data);
    if (!json_is_array(data) || n > GT_OAI_MAX_MODELS)
        return gt_err_set(err, GT_EIO, "%s/models: expected \"data\": an array of at most %d models", o->url,
                          GT_OAI_MAX_MODELS);
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(data, i);
        const char *id = json_string_value(json_object_get(m, "id"));
        const char *sha = json_string_value(json_object_get(m, "sha256"));
        if (!id || strlen(id) > GT_OAI_MODEL_MAX) continue;
        if (o->model[0] ? strcmp(id, o->model) : (!sha || strcmp(sha, want_id))) continue;
        if (!sha)
            return gt_err_set(err, GT_EUNSUPPORTED, "%s: model \"%s\" does not say which weights it runs (no \"sha256\" "
                              "in /v1/models), so its answers cannot be checked against %.20s…; gotong serve says",
                              o->url, id, want_id);
        if (strcmp(sha, want_id))
            return gt_err_set(err, GT_EINVAL, "%s: model \"%s\" runs %.20s…, not the %.20s… the work names", o->url,
                              id, sha, want_id);
        snprintf(o->model, sizeof o->model, "%s", id);
        return 0;
    }
    if (o->model[0])
        return gt_err_set(err, GT_ENOTFOUND, "%s: no model named \"%s\" (see GET /v1/models)", o->url, o->model);
    return gt_err_set(err, GT_ENOTFOUND, "%s: no model with sha256 %.20s… (see GET /v1/models)", o->url, want_id);
}

int gt_oai_check_model(gt_oai *o, const char *want_id, gt_err *err) {
    assert(want_id);
    json_t *j;
    int rc = request(o, "/models", NULL, &j, err);
    if (rc) return rc;
    rc = match_model(o, json_object_get(j, "data"), want_id, err);
    json_decref(j);
    return rc;
}

/* The prompt as a JSON array of ids (NULL out of memory). */
static json_t *ids_json(const int32_t *prompt, size_t n_prompt) {
    json_t *ids = json_array();
    for (size_t i = 0; ids && i < n_prompt; i++)
        if (json_array_append_new(ids, json_integer(prompt[i]))) {
            json_decref(ids);
            return NULL;
        }
    return ids;
}

/* The request body: the prompt as ids and every sampling choice spelled out
 * (a server's defaults are not ours). Caller frees with free(). */
static char *complete_body(const gt_oai *o, const int32_t *prompt, size_t n_prompt, const gt_sampler_params *sp,
                           int max_tokens) {
    json_t *b = json_pack("{s:s,s:o,s:i,s:f,s:i,s:f,s:f,s:f,s:I,s:b,s:b}", "model", o->model, "prompt",
                          ids_json(prompt, n_prompt), "max_tokens", max_tokens, "temperature",
                          sp->temp > 0 ? (double)sp->temp : 0.0, "top_k", sp->top_k > 0 ? sp->top_k : 0, "top_p",
                          sp->top_p < 1 ? (double)sp->top_p : 1.0, "min_p", sp->min_p > 0 ? (double)sp->min_p : 0.0,
                          "repeat_penalty", (double)sp->repeat_penalty, "seed", (json_int_t)(int64_t)sp->seed,
                          "return_tokens", 1, "stream", 0);
    char *s = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return s;
}

/* Checks what every completions answer must be: exactly one choice, from the
 * model this client chose (a server may leave "model" out). */
static int one_choice(const gt_oai *o, const json_t *j, gt_err *err) {
    const json_t *choices = json_object_get(j, "choices");
    const char *model = json_string_value(json_object_get(j, "model"));
    if (json_array_size(choices) != 1 || !json_is_object(json_array_get(choices, 0)))
        return gt_err_set(err, GT_EIO, "%s/completions: expected exactly one choice", o->url);
    if (model && strcmp(model, o->model))
        return gt_err_set(err, GT_EIO, "%s/completions: answered by model \"%.60s\", not \"%s\"", o->url, model,
                          o->model);
    return 0;
}

/* Checks choices[0] of an answer and appends its ids to tokens. */
static int read_choice(const gt_oai *o, const json_t *j, int max_tokens, int n_vocab, gt_buf *tokens, gt_err *err) {
    const json_t *choices = json_object_get(j, "choices"), *c = json_array_get(choices, 0);
    const json_t *toks = json_object_get(c, "tokens"), *usage = json_object_get(j, "usage");
    const char *finish = json_string_value(json_object_get(c, "finish_reason"));
    const char *u = o->url;
    int bad = one_choice(o, j, err);
    if (bad) return bad;
    if (!json_is_array(toks))
        return gt_err_set(err, GT_EUNSUPPORTED, "%s/completions: the answer has no \"tokens\" (the server does not "
                          "implement return_tokens, so its ids cannot be checked)", u);
    size_t n = json_array_size(toks);
    if (n > (size_t)max_tokens)
        return gt_err_set(err, GT_EIO, "%s/completions: %zu tokens for max_tokens %d", u, n, max_tokens);
    if (!finish || (strcmp(finish, "stop") && strcmp(finish, "length")))
        return gt_err_set(err, GT_EIO, "%s/completions: finish_reason must be \"stop\" or \"length\"", u);
    if (!strcmp(finish, "length") && n < (size_t)max_tokens)
        return gt_err_set(err, GT_ELIMIT, "%s/completions: the server stopped after %zu of %d tokens (its context or "
                          "output limit is smaller than this work needs)", u, n, max_tokens);
    const json_t *ct = json_object_get(usage, "completion_tokens");
    if (ct && (!json_is_integer(ct) || json_integer_value(ct) != (json_int_t)n))
        return gt_err_set(err, GT_EIO, "%s/completions: usage.completion_tokens does not match %zu tokens", u, n);
    int32_t *ids = gt_malloc(n ? n * sizeof *ids : 1);
    if (!ids) return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(toks, i);
        if (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) >= n_vocab) {
            gt_free(ids);
            return gt_err_set(err, GT_EIO, "%s/completions: tokens[%zu] is not a token id of the vocabulary (0..%d)",
                              u, i, n_vocab - 1);
        }
        ids[i] = (int32_t)json_integer_value(t);
    }
    int rc = n && gt_buf_append(tokens, ids, n * sizeof *ids) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
    gt_free(ids);
    return rc;
}

int gt_oai_generate_ids(gt_oai *o, const int32_t *prompt, size_t n_prompt, const gt_sampler_params *sp,
                        int max_tokens, int n_vocab, gt_buf *tokens, gt_err *err) {
    assert(prompt && n_prompt > 0 && max_tokens >= 1 && n_vocab > 0);
    if (!o->model[0]) return gt_err_set(err, GT_ESTATE, "%s: no model chosen yet (gt_oai_check_model)", o->url);
    if (sp->repeat_penalty != 1.0f && sp->repeat_last_n != gt_sampler_defaults().repeat_last_n)
        return gt_err_set(err, GT_EUNSUPPORTED, "%s: a repetition penalty over %d tokens cannot be asked for (the "
                          "API's window is %d)", o->url, sp->repeat_last_n, gt_sampler_defaults().repeat_last_n);
    char *body = complete_body(o, prompt, n_prompt, sp, max_tokens);
    if (!body) return gt_err_set(err, GT_ENOMEM, "out of memory");
    json_t *j;
    int rc = request(o, "/completions", body, &j, err);
    free(body);
    if (rc) return rc;
    rc = read_choice(o, j, max_tokens, n_vocab, tokens, err);
    json_decref(j);
    return rc;
}

int gt_oai_complete_ids(gt_oai *o, const int32_t *prompt, size_t n_prompt, int max_tokens, int n_vocab,
                        gt_buf *tokens, gt_err *err) {
    gt_sampler_params greedy = gt_sampler_defaults();
    greedy.temp = 0, greedy.top_k = 0, greedy.top_p = 1, greedy.min_p = 0, greedy.repeat_penalty = 1, greedy.seed = 0;
    return gt_oai_generate_ids(o, prompt, n_prompt, &greedy, max_tokens, n_vocab, tokens, err);
}

/* Checks a scoring answer: one choice whose logprobs.token_logprobs has an
 * entry per prompt token, finite and <= 0 from `from` on, into lp. */
static int read_scores(const gt_oai *o, const json_t *j, size_t n, size_t from, double *lp, gt_err *err) {
    const json_t *choices = json_object_get(j, "choices"), *c = json_array_get(choices, 0);
    const json_t *tl = json_object_get(json_object_get(c, "logprobs"), "token_logprobs");
    const json_t *pt = json_object_get(json_object_get(j, "usage"), "prompt_tokens");
    const char *u = o->url;
    int bad = one_choice(o, j, err);
    if (bad) return bad;
    if (!json_is_array(tl))
        return gt_err_set(err, GT_EUNSUPPORTED, "%s/completions: the answer has no logprobs.token_logprobs (the server "
                          "does not score an echoed prompt)", u);
    if (json_array_size(tl) != n || (pt && (!json_is_integer(pt) || json_integer_value(pt) != (json_int_t)n)))
        return gt_err_set(err, GT_EIO, "%s/completions: %zu log-probabilities for a prompt of %zu tokens", u,
                          json_array_size(tl), n);
    for (size_t t = from; t < n; t++) {
        const json_t *x = json_array_get(tl, t);
        double v = json_number_value(x);
        if (!json_is_real(x) && !json_is_integer(x))
            return gt_err_set(err, GT_EIO, "%s/completions: token_logprobs[%zu] is not a number", u, t);
        if (!(v <= 0) || v < -1e300)
            return gt_err_set(err, GT_EIO, "%s/completions: token_logprobs[%zu] = %g is not a log-probability", u, t,
                              v);
        lp[t - from] = v;
    }
    return 0;
}

int gt_oai_logprobs(gt_oai *o, const int32_t *ids, size_t n, size_t from, double *lp, gt_err *err) {
    assert(ids && from >= 1 && from < n);
    if (!o->model[0]) return gt_err_set(err, GT_ESTATE, "%s: no model chosen yet (gt_oai_check_model)", o->url);
    json_t *b = json_pack("{s:s,s:o,s:i,s:b,s:i,s:b}", "model", o->model, "prompt", ids_json(ids, n), "max_tokens", 0,
                          "echo", 1, "logprobs", 0, "stream", 0);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (!body) return gt_err_set(err, GT_ENOMEM, "out of memory");
    json_t *j;
    int rc = request(o, "/completions", body, &j, err);
    free(body);
    if (rc) return rc;
    rc = read_scores(o, j, n, from, lp, err);
    json_decref(j);
    return rc;
}
