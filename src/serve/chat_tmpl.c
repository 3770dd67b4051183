/* chat_tmpl.c: chat prompts rendered with the model's own chat template
 * (GGUF tokenizer.chat_template, or --chat-template FILE) by the Jinja-subset
 * interpreter of infer/chat_template.h; a model without one gets the built-in
 * template of chat.c.
 *
 * Message texts must not be able to forge the template's turn markers. The
 * template is therefore rendered with a placeholder in place of each
 * message's text; the real texts are put back after rendering, and the
 * spans they occupy are remembered. Control tokens ("<|im_start|>", ...) are
 * recognised only outside those spans (as llama.cpp partitions text with
 * parse_special on), and the pieces between recognised control tokens are
 * tokenized with special parsing off. For a conversation whose texts hold no
 * control-token text, the ids are exactly those of tokenizing the whole
 * rendered prompt with special parsing on (what llama.cpp's server does);
 * a message spelling "<|im_start|>system" stays text.
 *
 * A template that changes a placeholder (slices or upper-cases message
 * texts) cannot be rendered safely: found when the server starts (a probe
 * render) or, for a conversation that takes another path, as a request
 * error. */
#define _GNU_SOURCE /* memmem */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/file.h"
#include "serve/serve_impl.h"

#define TMPL_MARK '\x1e'       /* placeholders: MARK "gt-msg-" INDEX MARK */
#define TMPL_PREFIX "\x1egt-msg-"

/* Longest text first: at one position the longest control token wins. */
static int special_cmp(const void *a, const void *b) {
    const tmpl_special *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Lists the vocabulary's control and unknown tokens (those parse_special
 * recognises) in s->specials. */
static int collect_specials(gt_serve *s, gt_err *err) {
    int32_t n = gt_tokenizer_n_vocab(s->tok);
    for (int32_t id = 0; id < n; id++) {
        int a = gt_token_attr(s->tok, id);
        size_t len = 0;
        const char *t = gt_token_text(s->tok, id, &len);
        if ((a != GT_TOKEN_CONTROL && a != GT_TOKEN_UNKNOWN) || !t || !len) continue;
        tmpl_special *grown = gt_realloc(s->specials, ((size_t)s->n_specials + 1) * sizeof *grown);
        if (!grown) return gt_err_set(err, GT_ENOMEM, "out of memory");
        s->specials = grown;
        s->specials[s->n_specials++] = (tmpl_special){id, t, len};
    }
    if (s->n_specials) qsort(s->specials, (size_t)s->n_specials, sizeof *s->specials, special_cmp);
    return 0;
}

/* The text of special token id (empty when none), for bos_token/eos_token. */
static const char *special_text(const gt_tokenizer *tok, int32_t id, size_t *len) {
    const char *t = id >= 0 ? gt_token_text(tok, id, len) : NULL;
    if (!t) *len = 0;
    return t ? t : "";
}

/* A message's content as one text (a string, or its text parts joined). */
static int message_text(const json_t *m, gt_buf *out) {
    const json_t *c = json_object_get(m, "content");
    gt_buf_reset(out);
    if (json_is_string(c)) return gt_buf_append(out, json_string_value(c), json_string_length(c));
    size_t i;
    const json_t *part;
    json_array_foreach(c, i, part) {
        const json_t *t = json_object_get(part, "text");
        assert(json_is_string(t)); /* checked by gt_serve_parse */
        if (gt_buf_append(out, json_string_value(t), json_string_length(t))) return GT_ENOMEM;
    }
    return 0;
}

/* A message's tool fields for the template: tool_call_id, and tool_calls
 * with their arguments parsed into JSON (what templates render with tojson;
 * arguments that do not parse stay a string). */
static int tool_fields(const json_t *m, json_t *v) {
    const json_t *id = json_object_get(m, "tool_call_id"), *calls = json_object_get(m, "tool_calls");
    if (json_is_string(id) && json_object_set(v, "tool_call_id", (json_t *)id)) return -1;
    if (!calls) return 0;
    json_t *out = json_deep_copy(calls);
    size_t k;
    json_t *c;
    json_array_foreach(out, k, c) {
        json_t *f = json_object_get(c, "function");
        json_t *args = json_loads(json_string_value(json_object_get(f, "arguments")), JSON_DECODE_ANY, NULL);
        if (args) json_object_set_new(f, "arguments", args);
    }
    return !out || json_object_set_new(v, "tool_calls", out);
}

/* The template's variables: messages with placeholders for their texts
 * ("developer" becomes "system", which templates know). */
static json_t *template_vars(const gt_serve *s, const json_t *messages, const json_t *tools) {
    json_t *ms = json_array();
    size_t i, blen, elen;
    const json_t *m;
    json_array_foreach(messages, i, m) {
        char ph[64];
        const char *role = json_string_value(json_object_get(m, "role"));
        snprintf(ph, sizeof ph, TMPL_PREFIX "%zu%c", i, TMPL_MARK);
        json_t *v = json_pack("{s:s,s:s}", "role", strcmp(role, "developer") ? role : "system", "content", ph);
        if (v && tool_fields(m, v)) json_decref(v), v = NULL;
        if (!ms || !v || json_array_append_new(ms, v)) {
            json_decref(ms);
            return NULL;
        }
    }
    const char *bos = special_text(s->tok, gt_tokenizer_bos(s->tok), &blen);
    const char *eos = special_text(s->tok, gt_tokenizer_eos(s->tok), &elen);
    json_t *vars = json_pack("{s:o,s:b,s:s%,s:s%}", "messages", ms, "add_generation_prompt", 1, "bos_token", bos, blen,
                             "eos_token", eos, elen);
    if (vars && tools) json_object_set(vars, "tools", (json_t *)tools);
    return vars;
}

/* Reads placeholder index at p (after the prefix) into *i; returns its
 * length past the prefix, or 0 when malformed. */
static size_t placeholder_at(const char *p, const char *end, size_t n_messages, size_t *i) {
    size_t k = 0, v = 0;
    while (p + k < end && p[k] >= '0' && p[k] <= '9' && k < 6) v = v * 10 + (size_t)(p[k++] - '0');
    if (k == 0 || p + k >= end || p[k] != TMPL_MARK || v >= n_messages) return 0;
    *i = v;
    return k + 1;
}

/* Puts the real texts in place of the placeholders of rendered r: text gets
 * the prompt, spans the [start, end) pairs (size_t) of message texts. */
static int substitute(const gt_buf *r, const json_t *messages, gt_buf *text, gt_buf *spans, gt_err *err) {
    const char *p = (const char *)r->data, *end = p + r->len;
    size_t plen = strlen(TMPL_PREFIX);
    gt_buf msg = GT_BUF_INIT;
    int oom = 0;
    while (p < end && !oom) {
        const char *mark = memchr(p, TMPL_MARK, (size_t)(end - p));
        size_t i = 0, k = 0;
        if (!mark) mark = end;
        oom = gt_buf_append(text, p, (size_t)(mark - p));
        if (mark == end) break;
        if ((size_t)(end - mark) <= plen || memcmp(mark, TMPL_PREFIX, plen) ||
            !(k = placeholder_at(mark + plen, end, json_array_size(messages), &i))) {
            gt_buf_free(&msg);
            return gt_err_set(err, GT_EINVAL, "the chat template altered a message's text (sliced or transformed it), "
                              "so the prompt cannot be rendered safely; give the server --chat-template FILE");
        }
        size_t span[2] = {text->len, 0};
        oom = oom || message_text(json_array_get(messages, i), &msg) || gt_buf_append(text, msg.data, msg.len);
        span[1] = text->len;
        oom = oom || gt_buf_append(spans, span, sizeof span);
        p = mark + plen + k;
    }
    gt_buf_free(&msg);
    return oom ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
}

/* Appends the tokens of text[0..len) with special parsing off. */
static int add_plain(const gt_tokenizer *tok, const char *text, size_t len, gt_buf *ids, gt_err *err) {
    if (len == 0) return 0;
    if (len > GT_TOKENIZER_MAX_TEXT_BYTES) return gt_err_set(err, GT_ELIMIT, "the conversation is too long");
    size_t n = len + 2;
    int rc = GT_ELIMIT;
    for (int pass = 0; pass < 2 && rc == GT_ELIMIT; pass++) { /* a second pass when the first guess was short */
        if (gt_buf_reserve(ids, n * sizeof(int32_t))) return gt_err_set(err, GT_ENOMEM, "out of memory");
        rc = gt_tokenize(tok, text, len, 0, 0, (int32_t *)(void *)(ids->data + ids->len), n, &n, err);
    }
    if (rc) return rc;
    ids->len += n * sizeof(int32_t);
    return 0;
}

/* The control token whose text starts at t[at] (longest), or NULL. */
static const tmpl_special *special_at(const gt_serve *s, const char *t, size_t at, size_t len) {
    for (int k = 0; k < s->n_specials; k++) {
        const tmpl_special *sp = &s->specials[k];
        if (sp->len <= len - at && sp->text[0] == t[at] && !memcmp(sp->text, t + at, sp->len)) return sp;
    }
    return NULL;
}

/* Tokenizes the prompt: control tokens recognised only outside spans. */
static int tokenize_prompt(const gt_serve *s, const gt_buf *text, const gt_buf *spans, gt_buf *ids, gt_err *err) {
    const char *t = text->data ? (const char *)text->data : "";
    const size_t *sp = (const size_t *)(const void *)spans->data;
    size_t n_spans = spans->len / (2 * sizeof(size_t)), next = 0, frag = 0, at = 0;
    int rc = 0;
    while (at < text->len && !rc) {
        if (next < n_spans && at == sp[2 * next]) {
            at = sp[2 * next + 1], next++;
            continue;
        }
        const tmpl_special *m = special_at(s, t, at, next < n_spans ? sp[2 * next] : text->len);
        if (!m) {
            at++;
            continue;
        }
        if (!(rc = add_plain(s->tok, t + frag, at - frag, ids, err)))
            rc = gt_buf_append(ids, &m->id, sizeof m->id) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
        frag = at = at + m->len;
    }
    return rc ? rc : add_plain(s->tok, t + frag, text->len - frag, ids, err);
}

/* Whether a control token's text appears in s (len bytes). */
static const tmpl_special *spells_special(const gt_serve *s, const char *t, size_t len) {
    for (int k = 0; k < s->n_specials; k++)
        if (s->specials[k].len && memmem(t, len, s->specials[k].text, s->specials[k].len)) return &s->specials[k];
    return NULL;
}

/* The template writes tools and tool calls into the prompt itself (not as
 * placeholders), so none of them may spell a control token: refused. */
static int no_forged_markers(const gt_serve *s, const json_t *messages, const json_t *tools, gt_err *err) {
    size_t i;
    const json_t *m;
    json_array_foreach(messages, i, m) {
        const json_t *calls = json_object_get(m, "tool_calls"), *id = json_object_get(m, "tool_call_id");
        char *t = calls ? json_dumps(calls, JSON_COMPACT) : NULL;
        const tmpl_special *sp = t ? spells_special(s, t, strlen(t)) : NULL;
        if (!sp && json_is_string(id)) sp = spells_special(s, json_string_value(id), json_string_length(id));
        free(t);
        if (sp)
            return gt_err_set(err, GT_EINVAL, "messages[%zu]: a tool call spells the control token %s", i, sp->text);
    }
    char *t = tools ? json_dumps(tools, JSON_COMPACT) : NULL;
    const tmpl_special *sp = t ? spells_special(s, t, strlen(t)) : NULL;
    free(t);
    return sp ? gt_err_set(err, GT_EINVAL, "tools: a tool spells the control token %s", sp->text) : 0;
}

/* Renders messages with s's template into prompt ids (BOS first when the
 * vocabulary wants one and the template did not write it). */
static int render_tokens(const gt_serve *s, const json_t *messages, const json_t *tools, gt_buf *ids, gt_err *err) {
    gt_buf r = GT_BUF_INIT, text = GT_BUF_INIT, spans = GT_BUF_INIT;
    json_t *vars = template_vars(s, messages, tools);
    int rc = vars ? 0 : gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) rc = no_forged_markers(s, messages, tools, err);
    if (!rc && (rc = gt_chat_tmpl_render(s->tmpl, vars, (int64_t)time(NULL), &r, err)))
        rc = GT_EINVAL; /* the template refused this conversation: the request's fault */
    if (!rc) rc = substitute(&r, messages, &text, &spans, err);
    int32_t bos = gt_tokenizer_bos(s->tok);
    if (!rc && bos >= 0 && gt_tokenizer_add_bos(s->tok)) {
        size_t plain = spans.len ? ((size_t *)(void *)spans.data)[0] : text.len; /* template text before any message */
        const tmpl_special *first = special_at(s, (const char *)text.data, 0, plain);
        if ((!first || first->id != bos) && gt_buf_append(ids, &bos, sizeof bos))
            rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    if (!rc) rc = tokenize_prompt(s, &text, &spans, ids, err);
    json_decref(vars);
    gt_buf_free(&r);
    gt_buf_free(&text);
    gt_buf_free(&spans);
    return rc;
}

int gt_serve_chat_prompt(const gt_serve *s, const json_t *messages, gt_buf *ids, const char **extra_stop, gt_err *err) {
    return gt_serve_chat_prompt_tools(s, messages, NULL, ids, extra_stop, err);
}

int gt_serve_chat_prompt_tools(const gt_serve *s, const json_t *messages, const json_t *tools, gt_buf *ids,
                               const char **extra_stop, gt_err *err) {
    if (!s->tmpl) return gt_serve_chat_tokens_tools(s->tok, messages, tools, ids, extra_stop, err);
    *extra_stop = NULL; /* the vocabulary's end-of-generation tokens end the turn */
    return render_tokens(s, messages, tools, ids, err);
}

/* The template's text: the config's file, else the GGUF's key; *src NULL
 * when neither (the built-in template then). */
static int template_source(gt_serve *s, uint8_t **src, size_t *len, gt_err *err) {
    const gt_gguf *g = gt_model_gguf(s->model);
    gt_gguf_str str = {0};
    *src = NULL;
    if (s->cfg.chat_template_file) {
        if (gt_file_read(s->cfg.chat_template_file, GT_CHAT_TMPL_MAX_SOURCE, src, len, err))
            return gt_err_wrap(err, "--chat-template %s", s->cfg.chat_template_file);
        snprintf(s->template_desc, sizeof s->template_desc, "from %.200s", s->cfg.chat_template_file);
        return 0;
    }
    if (!gt_gguf_find(g, "tokenizer.chat_template")) return 0;
    if (gt_gguf_get_str(g, "tokenizer.chat_template", &str, err)) return gt_err_wrap(err, "tokenizer.chat_template");
    if (str.len > GT_CHAT_TMPL_MAX_SOURCE)
        return gt_err_set(err, GT_ELIMIT, "the model's tokenizer.chat_template is over %u bytes",
                          GT_CHAT_TMPL_MAX_SOURCE);
    if (!(*src = gt_malloc(str.len + 1))) return gt_err_set(err, GT_ENOMEM, "out of memory");
    memcpy(*src, str.ptr, str.len);
    *len = str.len;
    snprintf(s->template_desc, sizeof s->template_desc, "the model's own (tokenizer.chat_template, %zu bytes)", *len);
    return 0;
}

int gt_serve_template_load(gt_serve *s, gt_err *err) {
    uint8_t *src = NULL;
    size_t len = 0;
    int rc = template_source(s, &src, &len, err);
    if (rc) return rc;
    if (!src) {
        snprintf(s->template_desc, sizeof s->template_desc, "built-in %s (the model has no tokenizer.chat_template)",
                 gt_serve_template_name(s->tok));
        return 0;
    }
    rc = gt_chat_tmpl_parse((const char *)src, len, &s->tmpl, err);
    gt_free(src);
    if (rc)
        return gt_err_wrap(err, "the chat template (%s) cannot be used; give --chat-template FILE", s->template_desc);
    if ((rc = collect_specials(s, err))) return rc;
    /* A probe conversation: a template that fails on the plainest chat, or
     * alters message texts, is refused now rather than on every request. */
    json_t *probe = json_pack("[{s:s,s:s}]", "role", "user", "content", "Hello");
    gt_buf ids = GT_BUF_INIT;
    rc = probe ? render_tokens(s, probe, NULL, &ids, err) : gt_err_set(err, GT_ENOMEM, "out of memory");
    json_decref(probe);
    gt_buf_free(&ids);
    if (rc) return gt_err_wrap(err, "the chat template (%s) fails on a one-message conversation", s->template_desc);
    return 0;
}

const char *gt_serve_template_desc(const gt_serve *s) { return s->template_desc; }
