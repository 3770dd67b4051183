/* params.c: OpenAI request bodies checked into gt_serve_params, and OpenAI
 * error bodies. Every field is checked for type and range; a field this
 * server does not implement is refused (a client asking for something must
 * not get a silent default), except the few that only label a request. */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "serve/serve_impl.h"

/* Sets e to an OpenAI error; the type follows from the status. Returns -1. */
int gt_serve_fail(gt_serve_error *e, int status, const char *param, const char *code, const char *fmt, ...) {
    e->status = status;
    e->type = status >= 500 ? "server_error" : "invalid_request_error";
    e->param = param;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* {"error":{"message","type","param","code"}}; param and code may be null. */
json_t *gt_serve_error_json(const gt_serve_error *e) {
    json_t *m = json_string(e->message);
    if (!m) m = json_string("(message not valid UTF-8)");
    return json_pack("{s:{s:o,s:s,s:o,s:o}}", "error", "message", m, "type", e->type, "param",
                     e->param ? json_string(e->param) : json_null(), "code",
                     e->code ? json_string(e->code) : json_null());
}

/* A number field in [lo, hi] into *out (absent or null: unchanged). */
static int get_num(const json_t *b, const char *f, double lo, double hi, float *out, gt_serve_error *e) {
    const json_t *v = json_object_get(b, f);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_number(v)) return gt_serve_fail(e, 400, f, "invalid_type", "%s: expected a number", f);
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return gt_serve_fail(e, 400, f, "invalid_value", "%s: expected a number from %g to %g, got %g", f, lo, hi, d);
    *out = (float)d;
    return 0;
}

/* An integer field in [lo, hi] into *out (absent or null: unchanged). */
static int get_int(const json_t *b, const char *f, json_int_t lo, json_int_t hi, json_int_t *out, gt_serve_error *e) {
    const json_t *v = json_object_get(b, f);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v)) return gt_serve_fail(e, 400, f, "invalid_type", "%s: expected an integer", f);
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi)
        return gt_serve_fail(e, 400, f, "invalid_value", "%s: expected an integer from %lld to %lld, got %lld", f,
                             (long long)lo, (long long)hi, (long long)i);
    *out = i;
    return 0;
}

/* A boolean field (absent or null: 0). */
static int get_bool(const json_t *b, const char *f, int *out, gt_serve_error *e) {
    const json_t *v = json_object_get(b, f);
    *out = 0;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return gt_serve_fail(e, 400, f, "invalid_type", "%s: expected true or false", f);
    *out = json_is_true(v);
    return 0;
}

/* "stop": a string or an array of up to GT_SERVE_MAX_STOPS non-empty strings. */
static int get_stops(const json_t *b, gt_serve_params *p, gt_serve_error *e) {
    const json_t *v = json_object_get(b, "stop");
    if (!v || json_is_null(v)) return 0;
    const json_t *one[1] = {v};
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    if (!json_is_array(v) && !json_is_string(v))
        return gt_serve_fail(e, 400, "stop", "invalid_type", "stop: expected a string or an array of strings");
    if (n > GT_SERVE_MAX_STOPS)
        return gt_serve_fail(e, 400, "stop", "invalid_value", "stop: at most %d strings, got %zu", GT_SERVE_MAX_STOPS, n);
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_is_array(v) ? json_array_get(v, i) : one[0];
        size_t len = json_is_string(s) ? json_string_length(s) : 0;
        if (!json_is_string(s) || len == 0 || len > GT_SERVE_MAX_STOP_BYTES)
            return gt_serve_fail(e, 400, "stop", "invalid_value", "stop: each stop must be a string of 1 to %d bytes",
                                 GT_SERVE_MAX_STOP_BYTES);
        p->stops[p->n_stops] = json_string_value(s);
        p->stop_lens[p->n_stops++] = len;
    }
    return 0;
}

/* Chat: "logprobs": BOOL with "top_logprobs": 0..20 (only with logprobs);
 * completions: "logprobs": 0..5 (alternatives per token). */
static int get_logprobs(const json_t *b, gt_serve_kind kind, gt_serve_params *p, gt_serve_error *e) {
    json_int_t top = 0;
    if (kind == GT_SERVE_COMPLETION) {
        const json_t *v = json_object_get(b, "logprobs");
        if (!v || json_is_null(v) || json_is_false(v)) return 0;
        if (get_int(b, "logprobs", 0, 5, &top, e)) return -1;
        p->logprobs = 1, p->top_logprobs = (int)top;
        return 0;
    }
    if (get_bool(b, "logprobs", &p->logprobs, e) || get_int(b, "top_logprobs", 0, GT_SERVE_MAX_TOP_LOGPROBS, &top, e))
        return -1;
    const json_t *tv = json_object_get(b, "top_logprobs");
    if (tv && !json_is_null(tv) && !p->logprobs)
        return gt_serve_fail(e, 400, "top_logprobs", "invalid_value", "top_logprobs: only allowed with \"logprobs\": true");
    p->top_logprobs = (int)top;
    return 0;
}

/* Fields accepted, and those refused unless at their neutral value. */
static const char *const common_fields[] = {
    "model", "max_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "stop", "stream", "stream_options",
    "n", "user", "presence_penalty", "frequency_penalty", "logprobs", "repeat_penalty", "return_tokens", NULL};
static const char *const chat_fields[] = {"messages", "max_completion_tokens", "top_logprobs", "response_format",
                                          "tools", "tool_choice", "parallel_tool_calls", NULL};
static const char *const completion_fields[] = {"prompt", "echo", "suffix", NULL};

static int in_list(const char *k, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(k, *list)) return 1;
    return 0;
}

/* Refuses fields outside the lists, and the named ones we do not implement
 * when a client sets them to something other than their neutral value. */
static int check_fields(const json_t *b, gt_serve_kind kind, gt_serve_error *e) {
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)b, k, v) {
        if (!in_list(k, common_fields) && !in_list(k, kind == GT_SERVE_CHAT ? chat_fields : completion_fields))
            return gt_serve_fail(e, 400, k, "unsupported_parameter", "%s: not a parameter this server supports", k);
        int neutral = 1;
        if (!strcmp(k, "n")) neutral = json_is_null(v) || (json_is_integer(v) && json_integer_value(v) == 1);
        else if (!strcmp(k, "presence_penalty") || !strcmp(k, "frequency_penalty"))
            neutral = json_is_null(v) || (json_is_number(v) && json_number_value(v) == 0);
        else if (!strcmp(k, "suffix")) neutral = json_is_null(v);
        else if (!strcmp(k, "user")) neutral = json_is_null(v) || json_is_string(v);
        if (!neutral)
            return gt_serve_fail(e, 400, k, "unsupported_parameter", "%s: this server supports only its default value", k);
    }
    return 0;
}

/* Checks one chat message: role and text content (a string, or an array of
 * {"type":"text","text":...} parts). */
static int check_message(const json_t *m, size_t i, gt_serve_error *e) {
    if (!json_is_object(m)) return gt_serve_fail(e, 400, "messages", "invalid_type", "messages[%zu]: expected an object", i);
    const char *role = json_string_value(json_object_get(m, "role"));
    if (!role || (strcmp(role, "system") && strcmp(role, "developer") && strcmp(role, "user") &&
                  strcmp(role, "assistant") && strcmp(role, "tool")))
        return gt_serve_fail(e, 400, "messages", "invalid_value", "messages[%zu].role: expected \"system\", "
                             "\"developer\", \"user\", \"assistant\" or \"tool\"", i);
    const json_t *c = json_object_get(m, "content"), *calls = json_object_get(m, "tool_calls");
    if (calls && strcmp(role, "assistant"))
        return gt_serve_fail(e, 400, "messages", "invalid_value", "messages[%zu].tool_calls: only an assistant "
                             "message has tool calls", i);
    if (calls && gt_serve_tool_calls_check(calls, i, e)) return -1;
    if (calls && (!c || json_is_null(c))) return 0; /* an assistant's calls without text */
    if (json_is_string(c)) return 0;
    if (json_is_array(c)) {
        size_t k;
        const json_t *part;
        json_array_foreach(c, k, part) {
            const char *type = json_string_value(json_object_get(part, "type"));
            if (!type || strcmp(type, "text") || !json_is_string(json_object_get(part, "text")))
                return gt_serve_fail(e, 400, "messages", "invalid_value",
                                     "messages[%zu].content[%zu]: only {\"type\":\"text\",\"text\":STRING} parts are supported", i, k);
        }
        return 0;
    }
    return gt_serve_fail(e, 400, "messages", "invalid_type", "messages[%zu].content: expected a string or an array of text parts", i);
}

/* A completion's prompt given as token ids (OpenAI's array of integers):
 * 1 to GT_SERVE_MAX_PROMPT_IDS integers >= 0 (the vocabulary's bound is
 * checked against the model in routes.c). */
static int get_prompt_ids(const json_t *v, gt_serve_params *p, gt_serve_error *e) {
    size_t n = json_array_size(v);
    if (n > GT_SERVE_MAX_PROMPT_IDS)
        return gt_serve_fail(e, 400, "prompt", "invalid_value", "prompt: at most %d token ids, got %zu",
                             GT_SERVE_MAX_PROMPT_IDS, n);
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(v, i);
        if (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > INT32_MAX)
            return gt_serve_fail(e, 400, "prompt", "invalid_value", "prompt[%zu]: expected a token id (an integer "
                                 ">= 0)", i);
    }
    p->prompt_ids = v;
    return 0;
}

/* The kind's own input: "prompt" (a string, an array of one string, or an
 * array of token ids) or "messages". */
static int get_input(const json_t *b, gt_serve_kind kind, gt_serve_params *p, gt_serve_error *e) {
    if (kind == GT_SERVE_COMPLETION) {
        const json_t *v = json_object_get(b, "prompt");
        if (json_is_array(v) && json_array_size(v) > 0 && json_is_integer(json_array_get(v, 0)))
            return get_prompt_ids(v, p, e);
        if (json_is_array(v) && json_array_size(v) == 1) v = json_array_get(v, 0);
        if (!json_is_string(v))
            return gt_serve_fail(e, 400, "prompt", v ? "invalid_type" : "missing_required_parameter",
                                 "prompt: expected a string, an array of exactly one string, or an array of token "
                                 "ids");
        p->prompt = json_string_value(v);
        p->prompt_len = json_string_length(v);
        return 0;
    }
    const json_t *ms = json_object_get(b, "messages");
    if (!json_is_array(ms) || json_array_size(ms) == 0)
        return gt_serve_fail(e, 400, "messages", ms ? "invalid_value" : "missing_required_parameter",
                             "messages: expected a non-empty array of {role, content}");
    if (json_array_size(ms) > GT_SERVE_MAX_MESSAGES)
        return gt_serve_fail(e, 400, "messages", "invalid_value", "messages: at most %d, got %zu", GT_SERVE_MAX_MESSAGES,
                             json_array_size(ms));
    for (size_t i = 0; i < json_array_size(ms); i++)
        if (check_message(json_array_get(ms, i), i, e)) return -1;
    p->messages = ms;
    return 0;
}

/* Completions: "echo": true scores the prompt instead of continuing it
 * (lm-evaluation-harness's loglikelihood request): only with "max_tokens":
 * 0, not streamed. */
static int get_echo(const json_t *b, gt_serve_params *p, gt_serve_error *e) {
    if (get_bool(b, "echo", &p->echo, e)) return -1;
    if (!p->echo) return 0;
    const json_t *mt = json_object_get(b, "max_tokens");
    if (!json_is_integer(mt) || json_integer_value(mt) != 0)
        return gt_serve_fail(e, 400, "echo", "invalid_value", "echo: only with \"max_tokens\": 0 (this server scores "
                             "an echoed prompt; it does not generate after one)");
    const json_t *st = json_object_get(b, "stream");
    if (json_is_true(st)) return gt_serve_fail(e, 400, "echo", "invalid_value", "echo: only without \"stream\": true");
    return 0;
}

/* Checks a request body and fills p. Sampling defaults are OpenAI's
 * (temperature 1, top_p 1) with top-k and min-p off and seed 0. */
int gt_serve_parse(const json_t *b, gt_serve_kind kind, gt_serve_params *p, gt_serve_error *e) {
    memset(p, 0, sizeof *p);
    p->kind = kind;
    if (!json_is_object(b)) return gt_serve_fail(e, 400, NULL, "invalid_type", "the request body must be a JSON object");
    if (check_fields(b, kind, e)) return -1;
    const json_t *model = json_object_get(b, "model");
    if (!json_is_string(model) || json_string_length(model) > GT_SERVE_MAX_MODEL_ID)
        return gt_serve_fail(e, 400, "model", model ? "invalid_type" : "missing_required_parameter",
                             "model: expected the model's name (see GET /v1/models)");
    p->model = json_string_value(model);
    if (get_input(b, kind, p, e)) return -1;
    json_int_t max_tokens = 0, mct = 0, top_k = 0, seed = 0;
    if (kind == GT_SERVE_COMPLETION && get_echo(b, p, e)) return -1;
    if (get_int(b, "max_tokens", p->echo ? 0 : 1, p->echo ? 0 : GT_SERVE_MAX_TOKENS, &max_tokens, e)) return -1;
    if (kind == GT_SERVE_CHAT && get_int(b, "max_completion_tokens", 1, GT_SERVE_MAX_TOKENS, &mct, e)) return -1;
    p->max_tokens = (int)(mct ? mct : max_tokens);
    gt_sampler_params *s = &p->sampling;
    *s = gt_sampler_defaults();
    s->temp = 1.0f, s->top_p = 1.0f, s->top_k = 0, s->min_p = 0.0f, s->repeat_penalty = 1.0f;
    if (get_num(b, "temperature", 0, 2, &s->temp, e) || get_num(b, "top_p", 0, 1, &s->top_p, e) ||
        get_num(b, "min_p", 0, 1, &s->min_p, e) || get_num(b, "repeat_penalty", 0.01, 10, &s->repeat_penalty, e))
        return -1;
    /* The sampler's own ranges (sampler.h), checked here so a bad value is
     * refused before the request waits for the model, with its name. */
    if (s->top_p <= 0) return gt_serve_fail(e, 400, "top_p", "invalid_value", "top_p: expected a number in (0, 1], got 0");
    if (s->min_p >= 1) return gt_serve_fail(e, 400, "min_p", "invalid_value", "min_p: expected a number in [0, 1), got 1");
    if (get_int(b, "top_k", 0, GT_SAMPLER_MAX_TOP_K, &top_k, e)) return -1;
    if (get_int(b, "seed", INT64_MIN, INT64_MAX, &seed, e)) return -1;
    s->top_k = (int)top_k;
    s->seed = (uint64_t)seed; /* negative seeds wrap: any int64 names one stream */
    if (get_bool(b, "stream", &p->stream, e) || get_stops(b, p, e)) return -1;
    if (get_bool(b, "return_tokens", &p->return_tokens, e)) return -1;
    if (p->return_tokens && p->stream)
        return gt_serve_fail(e, 400, "return_tokens", "invalid_value", "return_tokens: only without \"stream\": true");
    const json_t *so = json_object_get(b, "stream_options");
    if (so && !json_is_null(so)) {
        if (!json_is_object(so) || json_object_size(so) > 1 || (json_object_size(so) == 1 && !json_object_get(so, "include_usage")))
            return gt_serve_fail(e, 400, "stream_options", "invalid_value", "stream_options: expected {\"include_usage\": BOOL}");
        if (get_bool(so, "include_usage", &p->include_usage, e)) return -1;
        if (!p->stream)
            return gt_serve_fail(e, 400, "stream_options", "invalid_value", "stream_options: only allowed with \"stream\": true");
    }
    if (get_logprobs(b, kind, p, e)) return -1;
    const json_t *rf = json_object_get(b, "response_format");
    p->response_format = json_is_null(rf) ? NULL : rf;
    if (kind == GT_SERVE_CHAT && gt_serve_tools_parse(b, p, e)) return -1;
    assert(p->n_stops <= GT_SERVE_MAX_STOPS);
    return 0;
}
