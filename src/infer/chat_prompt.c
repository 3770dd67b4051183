/* chat_prompt.c: a conversation rendered with a chat template into prompt
 * ids, message texts kept out of control-token parsing (chat_prompt.h says
 * why and how).
 *
 * Placeholders are MARK "gt-msg-" INDEX MARK with MARK the ASCII record
 * separator, which no template writes: a rendering where a placeholder is
 * not found whole was made by a template that altered a message's text
 * (sliced or upper-cased it), and is refused. */
#define _GNU_SOURCE /* memmem */
#include "infer/chat_prompt.h"

#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define TMPL_MARK '\x1e'
#define TMPL_PREFIX "\x1egt-msg-"
#define TMPL_MAX_INDEX_DIGITS 6 /* placeholders of up to a million messages */

/* One control token's text. */
typedef struct chat_special {
    int32_t id;
    const char *text; /* owned by the tokenizer */
    size_t len;
} chat_special;

struct gt_chat_prompt {
    const gt_chat_tmpl *tmpl;
    const gt_tokenizer *tok;
    chat_special *specials; /* the vocabulary's control tokens, longest first */
    int n_specials;
};

/* Longest text first: at one position the longest control token wins. */
static int special_cmp(const void *a, const void *b) {
    const chat_special *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int gt_chat_prompt_new(const gt_chat_tmpl *tmpl, const gt_tokenizer *tok, gt_chat_prompt **out, gt_err *err) {
    assert(tmpl && tok && out);
    gt_chat_prompt *p = gt_calloc(1, sizeof *p);
    *out = NULL;
    if (!p) return gt_err_set(err, GT_ENOMEM, "out of memory");
    p->tmpl = tmpl, p->tok = tok;
    int32_t n = gt_tokenizer_n_vocab(tok);
    for (int32_t id = 0; id < n; id++) {
        int a = gt_token_attr(tok, id);
        size_t len = 0;
        const char *t = gt_token_text(tok, id, &len);
        if ((a != GT_TOKEN_CONTROL && a != GT_TOKEN_UNKNOWN) || !t || !len) continue;
        chat_special *grown = gt_realloc(p->specials, ((size_t)p->n_specials + 1) * sizeof *grown);
        if (!grown) {
            gt_chat_prompt_free(p);
            return gt_err_set(err, GT_ENOMEM, "out of memory");
        }
        p->specials = grown;
        p->specials[p->n_specials++] = (chat_special){id, t, len};
    }
    if (p->n_specials) qsort(p->specials, (size_t)p->n_specials, sizeof *p->specials, special_cmp);
    *out = p;
    return 0;
}

void gt_chat_prompt_free(gt_chat_prompt *p) {
    if (!p) return;
    gt_free(p->specials);
    gt_free(p);
}

/* The text of special token id (empty when none), for bos_token/eos_token. */
static const char *special_text(const gt_tokenizer *tok, int32_t id, size_t *len) {
    const char *t = id >= 0 ? gt_token_text(tok, id, len) : NULL;
    if (!t) *len = 0;
    return t ? t : "";
}

/* A message's content as one text (a string, or its text parts joined;
 * none or null, as an assistant's tool calls have: empty); GT_EINVAL for
 * any other shape. */
static int message_text(const json_t *m, gt_buf *out) {
    const json_t *c = json_object_get(m, "content");
    gt_buf_reset(out);
    if (!c || json_is_null(c)) return 0;
    if (json_is_string(c)) return gt_buf_append(out, json_string_value(c), json_string_length(c)) ? GT_ENOMEM : 0;
    if (!json_is_array(c)) return GT_EINVAL;
    size_t i;
    const json_t *part;
    json_array_foreach(c, i, part) {
        const json_t *t = json_object_get(part, "text");
        if (!json_is_string(t)) return GT_EINVAL;
        if (gt_buf_append(out, json_string_value(t), json_string_length(t))) return GT_ENOMEM;
    }
    return 0;
}

/* Checks each message's shape (the role a string, the content a text). */
static int check_messages(const json_t *messages, gt_err *err) {
    gt_buf text = GT_BUF_INIT;
    size_t i;
    const json_t *m;
    int rc = json_is_array(messages) ? 0 : gt_err_set(err, GT_EINVAL, "messages: expected an array");
    json_array_foreach(messages, i, m) {
        if (rc) break;
        if (!json_is_string(json_object_get(m, "role")))
            rc = gt_err_set(err, GT_EINVAL, "messages[%zu]: expected a string \"role\"", i);
        else if ((rc = message_text(m, &text)))
            rc = rc == GT_ENOMEM ? gt_err_set(err, GT_ENOMEM, "out of memory")
                                 : gt_err_set(err, GT_EINVAL, "messages[%zu]: expected \"content\" a string, an "
                                                              "array of {\"text\": string} parts or null", i);
    }
    gt_buf_free(&text);
    return rc;
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
static json_t *template_vars(const gt_chat_prompt *p, const json_t *messages, const json_t *tools) {
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
    const char *bos = special_text(p->tok, gt_tokenizer_bos(p->tok), &blen);
    const char *eos = special_text(p->tok, gt_tokenizer_eos(p->tok), &elen);
    json_t *vars = json_pack("{s:o,s:b,s:s%,s:s%}", "messages", ms, "add_generation_prompt", 1, "bos_token", bos, blen,
                             "eos_token", eos, elen);
    if (vars && tools) json_object_set(vars, "tools", (json_t *)tools);
    return vars;
}

/* Reads placeholder index at p (after the prefix) into *i; returns its
 * length past the prefix, or 0 when malformed. */
static size_t placeholder_at(const char *p, const char *end, size_t n_messages, size_t *i) {
    size_t k = 0, v = 0;
    while (p + k < end && p[k] >= '0' && p[k] <= '9' && k < TMPL_MAX_INDEX_DIGITS) v = v * 10 + (size_t)(p[k++] - '0');
    if (k == 0 || p + k >= end || p[k] != TMPL_MARK || v >= n_messages) return 0;
    *i = v;
    return k + 1;
}

/* Puts the real texts in place of the placeholders of rendered r: text gets
 * the prompt, spans the [start, end) pairs (size_t) of message texts. */
static int substitute(const gt_buf *r, const json_t *messages, gt_buf *text, gt_buf *spans, gt_err *err) {
    /* an empty rendering has no buffer: no arithmetic on its NULL (UB) */
    const char *p = r->len ? (const char *)r->data : "", *end = p + r->len;
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
                              "so the prompt cannot be rendered safely; use another template");
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

/* How many tokens a prompt may have in all (max_n, counting what ids held
 * before), and at least how many it has once found to have more (over, a
 * lower bound: tokenizing stopped there; 0 until then). */
typedef struct tok_budget {
    size_t max_n, over;
} tok_budget;

/* Appends the tokens of text[0..len) with special parsing off, ids holding
 * at most b->max_n in all: past that, GT_ELIMIT with b->over set,
 * tokenizing stopped early (gt_tokenize_max). */
static int add_plain(const gt_tokenizer *tok, const char *text, size_t len, gt_buf *ids, tok_budget *b, gt_err *err) {
    size_t have = ids->len / sizeof(int32_t), n = 0;
    if (have > b->max_n) { /* a control token went past it */
        b->over = have;
        return gt_err_set(err, GT_ELIMIT, "the conversation is more than %zu tokens", b->max_n);
    }
    if (len == 0) return 0;
    if (len > GT_TOKENIZER_MAX_TEXT_BYTES)
        return gt_err_set(err, GT_ELIMIT, "the conversation is too long (a piece over %u bytes)",
                          GT_TOKENIZER_MAX_TEXT_BYTES);
    int rc = gt_tokenize_max(tok, text, len, 0, 0, b->max_n - have, ids, &n, err);
    if (rc == GT_ELIMIT && n) {
        b->over = have + n;
        return gt_err_set(err, GT_ELIMIT, "the conversation is more than %zu tokens", b->max_n);
    }
    return rc;
}

/* The control token whose text starts at t[at] (longest), or NULL. */
static const chat_special *special_at(const gt_chat_prompt *p, const char *t, size_t at, size_t len) {
    for (int k = 0; k < p->n_specials; k++) {
        const chat_special *sp = &p->specials[k];
        if (sp->len <= len - at && sp->text[0] == t[at] && !memcmp(sp->text, t + at, sp->len)) return sp;
    }
    return NULL;
}

/* Tokenizes the prompt: control tokens recognised only outside spans; the
 * white space after one marked rstrip is dropped (as special parsing drops
 * it, message text included: white space forges nothing). */
static int tokenize_prompt(const gt_chat_prompt *p, const gt_buf *text, const gt_buf *spans, gt_buf *ids,
                           tok_budget *b, gt_err *err) {
    const char *t = text->data ? (const char *)text->data : "";
    const size_t *sp = (const size_t *)(const void *)spans->data;
    size_t n_spans = spans->len / (2 * sizeof(size_t)), next = 0, frag = 0, at = 0;
    int rc = 0;
    while (at < text->len && !rc) {
        if (next < n_spans && at >= sp[2 * next]) { /* a message's text: skipped */
            at = at > sp[2 * next + 1] ? at : sp[2 * next + 1], next++;
            continue;
        }
        const chat_special *m = special_at(p, t, at, next < n_spans ? sp[2 * next] : text->len);
        if (!m) {
            at++;
            continue;
        }
        if (!(rc = add_plain(p->tok, t + frag, at - frag, ids, b, err)))
            rc = gt_buf_append(ids, &m->id, sizeof m->id) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
        at += m->len;
        while (gt_token_rstrip(p->tok, m->id) && at < text->len && strchr(" \t\n\v\f\r", t[at]) && t[at]) at++;
        frag = at;
    }
    if (!rc) rc = add_plain(p->tok, t + frag, text->len - frag, ids, b, err);
    if (!rc && ids->len / sizeof(int32_t) > b->max_n) { /* a last control token went past it */
        b->over = ids->len / sizeof(int32_t);
        rc = gt_err_set(err, GT_ELIMIT, "the conversation is more than %zu tokens", b->max_n);
    }
    return rc;
}

/* Whether a control token's text appears in t (len bytes). */
static const chat_special *spells_special(const gt_chat_prompt *p, const char *t, size_t len) {
    for (int k = 0; k < p->n_specials; k++)
        if (p->specials[k].len && memmem(t, len, p->specials[k].text, p->specials[k].len)) return &p->specials[k];
    return NULL;
}

/* The bytes of a marker's bar at s (n bytes): 1 for '|', 3 for U+FF5C
 * (the full-width bar of DeepSeek's "<\uff5cUser\uff5c>"), else 0. */
static size_t bar_len(const char *s, size_t n) {
    if (n >= 1 && s[0] == '|') return 1;
    return n >= 3 && !memcmp(s, "\xef\xbd\x9c", 3) ? 3 : 0;
}

/* The length of a "<|...|>" marker at s (n bytes), its bars '|' or U+FF5C,
 * its inside up to 64 bytes of no white space nor '<', '>' (UTF-8 allowed:
 * "<\uff5cend\u2581of\u2581sentence\uff5c>"), or 0. */
static size_t barred_len(const char *s, size_t n) {
    size_t b = n >= 2 && s[0] == '<' ? bar_len(s + 1, n - 1) : 0;
    if (!b) return 0;
    for (size_t k = 1 + b; k < n && k < 1 + b + 64; k++) {
        size_t e = bar_len(s + k, n - k);
        if (e && k + e < n && s[k + e] == '>') return k > 1 + b ? k + e + 1 : 0;
        unsigned char c = (unsigned char)s[k];
        if ((!isgraph(c) && c < 0x80) || c == '<' || c == '>') return 0;
    }
    return 0;
}

/* The length of a turn marker at t[at] (before end), or 0: "<|...|>"
 * (barred_len), or a name of up to 32 letters, digits, '_' and '-' (a
 * letter first) in "<...>", "</...>", "<<...>>", "<</...>>", "[...]" or
 * "[/...]": the shapes chat templates give their markers. */
static size_t marker_len(const char *t, size_t at, size_t end) {
    const char *s = t + at;
    size_t n = end - at, k = 1;
    if (n >= 2 && s[0] == '<' && bar_len(s + 1, n - 1)) return barred_len(s, n);
    char close = s[0] == '<' ? '>' : s[0] == '[' ? ']' : 0;
    int twice = close == '>' && n > 1 && s[1] == '<';
    if (!close) return 0;
    k += (size_t)twice;
    if (k < n && s[k] == '/') k++;
    size_t name = k;
    while (k < n && k - name < 32 && (isalnum((unsigned char)s[k]) || s[k] == '_' || s[k] == '-')) k++;
    if (k == name || !isalpha((unsigned char)s[name]) || k >= n || s[k++] != close) return 0;
    if (twice && (k >= n || s[k++] != '>')) return 0;
    return k;
}

/* The tools and tool calls the client gave, as JSON text (*out; "" when
 * none): the template renders them into its own text. 0 or GT_ENOMEM. */
static int client_text(const json_t *messages, const json_t *tools, gt_buf *out) {
    size_t i;
    const json_t *m;
    int oom = 0;
    json_array_foreach(messages, i, m) {
        const json_t *calls = json_object_get(m, "tool_calls"), *id = json_object_get(m, "tool_call_id");
        char *t = calls ? json_dumps(calls, JSON_COMPACT) : NULL;
        oom = oom || (calls && !t) || (t && gt_buf_append_str(out, t)) ||
              (json_is_string(id) && gt_buf_append(out, json_string_value(id), json_string_length(id)));
        free(t);
    }
    char *t = tools ? json_dumps(tools, JSON_COMPACT) : NULL;
    oom = oom || (tools && !t) || (t && gt_buf_append_str(out, t));
    free(t);
    return oom ? GT_ENOMEM : 0;
}

/* The distinct markers of the template's text (outside the messages),
 * each with where else it was found (MK_IN_*): a hash set, so that each
 * text is searched once whatever the number of markers (one search of
 * every message per marker took 13 s on a 1 MiB request). */
enum { MK_IN_MSG = 1, MK_IN_CLIENT = 2, MK_IN_TMPL = 4, MK_MAX_LEN = 128 };
typedef struct marker_entry {
    size_t at, len; /* in the prompt's text */
    unsigned where;
} marker_entry;
typedef struct marker_set {
    const char *t;
    marker_entry *e;
    size_t n, cap;
    uint32_t *slot;   /* entry index + 1; 0: empty */
    size_t n_slots;   /* a power of two, at least twice n */
    uint64_t lens[2]; /* bit l-1: a marker of l bytes */
} marker_set;

#define FNV_INIT 0xcbf29ce484222325ull
static uint64_t fnv_step(uint64_t h, unsigned char c) { return (h ^ c) * 0x100000001b3ull; }

static uint64_t fnv(const char *s, size_t n) {
    uint64_t h = FNV_INIT;
    for (size_t i = 0; i < n; i++) h = fnv_step(h, (unsigned char)s[i]);
    return h;
}

/* The slot of s[0..n) (hash h) in ms: its entry's, or the empty one where
 * it would go. */
static size_t ms_slot(const marker_set *ms, const char *s, size_t n, uint64_t h) {
    size_t k = (size_t)h & (ms->n_slots - 1);
    while (ms->slot[k]) {
        const marker_entry *e = &ms->e[ms->slot[k] - 1];
        if (e->len == n && !memcmp(ms->t + e->at, s, n)) break;
        k = (k + 1) & (ms->n_slots - 1);
    }
    return k;
}

/* Doubles ms's slots (or makes its first 256), placing every entry again. */
static int ms_grow(marker_set *ms) {
    size_t n = ms->n_slots ? 2 * ms->n_slots : 256;
    uint32_t *slot = n <= UINT32_MAX ? gt_calloc(n, sizeof *slot) : NULL;
    if (!slot) return GT_ENOMEM;
    gt_free(ms->slot);
    ms->slot = slot, ms->n_slots = n;
    for (size_t i = 0; i < ms->n; i++) {
        const char *s = ms->t + ms->e[i].at;
        ms->slot[ms_slot(ms, s, ms->e[i].len, fnv(s, ms->e[i].len))] = (uint32_t)i + 1;
    }
    return 0;
}

/* Adds the marker t[at..at+len) to ms unless it holds it. 0 or GT_ENOMEM. */
static int ms_add(marker_set *ms, size_t at, size_t len) {
    assert(len > 0 && len <= MK_MAX_LEN);
    if (2 * (ms->n + 1) > ms->n_slots && ms_grow(ms)) return GT_ENOMEM;
    size_t k = ms_slot(ms, ms->t + at, len, fnv(ms->t + at, len));
    if (ms->slot[k]) return 0;
    if (ms->n == ms->cap) {
        size_t cap = ms->cap ? 2 * ms->cap : 64;
        marker_entry *e = gt_realloc(ms->e, cap * sizeof *e);
        if (!e) return GT_ENOMEM;
        ms->e = e, ms->cap = cap;
    }
    ms->e[ms->n] = (marker_entry){at, len, 0};
    ms->slot[k] = (uint32_t)++ms->n;
    ms->lens[(len - 1) / 64] |= 1ull << ((len - 1) % 64);
    return 0;
}

/* Marks flag on every marker of ms that s[0..n) holds: one pass, trying at
 * each '<' or '[' (where every marker begins) each length ms holds. */
static void ms_mark(marker_set *ms, const char *s, size_t n, unsigned flag) {
    for (size_t i = 0; ms->n && i < n; i++) {
        if (s[i] != '<' && s[i] != '[') continue;
        uint64_t h = FNV_INIT;
        for (size_t l = 1; l <= MK_MAX_LEN && i + l <= n; l++) {
            h = fnv_step(h, (unsigned char)s[i + l - 1]);
            if (!(ms->lens[(l - 1) / 64] >> ((l - 1) % 64) & 1)) continue;
            size_t k = ms_slot(ms, s + i, l, h);
            if (ms->slot[k]) ms->e[ms->slot[k] - 1].where |= flag;
        }
    }
}

/* The length of an empty block at t[at] whose opener "<X>" is m bytes:
 * "<X>", white space, "</X>", all before end; 0 when there is none. */
static size_t empty_block(const char *t, size_t at, size_t m, size_t end) {
    if (m < 3 || t[at] != '<' || t[at + 1] == '/' || t[at + m - 1] != '>') return 0;
    size_t k = at + m;
    while (k < end && (t[k] == ' ' || t[k] == '\n' || t[k] == '\r' || t[k] == '\t')) k++;
    if (end - k < m + 1 || t[k] != '<' || t[k + 1] != '/' || memcmp(t + k + 2, t + at + 1, m - 1)) return 0;
    return k + m + 1 - at;
}

/* Fills ms with the distinct markers of the rendered text ms->t (len
 * bytes) outside the message spans sp; control tokens' texts are skipped
 * (they go in by id). So is an empty block the template wrote of its own
 * accord (Qwen3's "<think>\n\n</think>" with thinking off): it holds no
 * message and delimits none, so a message spelling <think> forges nothing
 * by it; the pair is a marker still where the template's text writes it
 * elsewhere. 0 or GT_ENOMEM. */
static int ms_collect(const gt_chat_prompt *p, marker_set *ms, size_t len, const size_t *sp, size_t n_spans) {
    const char *t = ms->t;
    size_t next = 0, at = 0;
    while (at < len) {
        if (next < n_spans && at >= sp[2 * next]) { /* a message's text */
            at = at > sp[2 * next + 1] ? at : sp[2 * next + 1], next++;
            continue;
        }
        size_t end = next < n_spans ? sp[2 * next] : len, m = 0;
        const chat_special *c = special_at(p, t, at, end);
        if (c || !(m = marker_len(t, at, end))) {
            at += c ? c->len : 1;
            continue;
        }
        size_t empty = empty_block(t, at, m, end);
        if (empty) {
            at += empty;
            continue;
        }
        if (ms_add(ms, at, m)) return GT_ENOMEM;
        at += m;
    }
    return 0;
}

/* Refuses a prompt where a message's text spells a marker that the template
 * wrote as text (the vocabulary has no control token for it): tokenized
 * alike, the message would forge a turn the model cannot tell from the
 * template's. Markup in a tool or a call's arguments (an agent's <div>),
 * which the template renders as text too, is the client's, not a marker,
 * unless the template's own text spells it: then the tool or call is
 * refused (rendered as it stands, it forges the turn as a message would,
 * and one spelling a control token is refused too, no_forged_markers).
 * Named: the first in the text. */
static int no_text_markers(const gt_chat_prompt *p, const gt_buf *text, const gt_buf *spans, const gt_buf *client,
                           gt_err *err) {
    marker_set ms = {.t = text->len ? (const char *)text->data : ""};
    const size_t *sp = (const size_t *)(const void *)spans->data;
    size_t n_spans = spans->len / (2 * sizeof(size_t)), i = 0, len = 0;
    int rc = ms_collect(p, &ms, text->len, sp, n_spans);
    for (size_t k = 0; !rc && k < n_spans; k++) ms_mark(&ms, ms.t + sp[2 * k], sp[2 * k + 1] - sp[2 * k], MK_IN_MSG);
    if (!rc && client->len) ms_mark(&ms, (const char *)client->data, client->len, MK_IN_CLIENT);
    for (const char *lit; !rc && client->len && (lit = gt_chat_tmpl_literal(p->tmpl, &i, &len));)
        ms_mark(&ms, lit, len, MK_IN_TMPL);
    for (size_t k = 0; !rc && k < ms.n; k++) {
        unsigned w = ms.e[k].where;
        const char *what = (w & MK_IN_MSG) && (!(w & MK_IN_CLIENT) || (w & MK_IN_TMPL)) ? "a message's text"
                           : (w & MK_IN_CLIENT) && (w & MK_IN_TMPL)                      ? "a tool or a tool call"
                                                                                         : NULL;
        if (what)
            rc = gt_err_set(err, GT_EINVAL, "%s holds %.*s, which the chat template writes as text (this model's "
                            "vocabulary has no control token for it), so it would forge a turn; remove it", what,
                            (int)ms.e[k].len, ms.t + ms.e[k].at);
    }
    gt_free(ms.e);
    gt_free(ms.slot);
    return rc == GT_ENOMEM ? gt_err_set(err, GT_ENOMEM, "out of memory") : rc;
}

/* The template writes tools and tool calls into the prompt itself (not as
 * placeholders), so none of them may spell a control token: refused. */
static int no_forged_markers(const gt_chat_prompt *p, const json_t *messages, const json_t *tools, gt_err *err) {
    size_t i;
    const json_t *m;
    json_array_foreach(messages, i, m) {
        const json_t *calls = json_object_get(m, "tool_calls"), *id = json_object_get(m, "tool_call_id");
        char *t = calls ? json_dumps(calls, JSON_COMPACT) : NULL;
        const chat_special *sp = t ? spells_special(p, t, strlen(t)) : NULL;
        if (!sp && json_is_string(id)) sp = spells_special(p, json_string_value(id), json_string_length(id));
        free(t);
        if (sp)
            return gt_err_set(err, GT_EINVAL, "messages[%zu]: a tool call spells the control token %s", i, sp->text);
    }
    char *t = tools ? json_dumps(tools, JSON_COMPACT) : NULL;
    const chat_special *sp = t ? spells_special(p, t, strlen(t)) : NULL;
    free(t);
    return sp ? gt_err_set(err, GT_EINVAL, "tools: a tool spells the control token %s", sp->text) : 0;
}

/* BOS, when the vocabulary wants one and the template's text before the
 * first message does not open with it. */
static int add_bos(const gt_chat_prompt *p, const gt_buf *text, const gt_buf *spans, gt_buf *ids, gt_err *err) {
    int32_t bos = gt_tokenizer_bos(p->tok);
    if (bos < 0 || !gt_tokenizer_add_bos(p->tok)) return 0;
    size_t plain = spans->len ? ((const size_t *)(const void *)spans->data)[0] : text->len;
    const chat_special *first = text->len ? special_at(p, (const char *)text->data, 0, plain) : NULL;
    if (first && first->id == bos) return 0;
    return gt_buf_append(ids, &bos, sizeof bos) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
}

int gt_chat_prompt_tokens(const gt_chat_prompt *p, const json_t *messages, const json_t *tools, int64_t now_unix,
                          gt_buf *ids, gt_err *err) {
    size_t over;
    return gt_chat_prompt_tokens_max(p, messages, tools, now_unix, SIZE_MAX, ids, &over, err);
}

int gt_chat_prompt_tokens_max(const gt_chat_prompt *p, const json_t *messages, const json_t *tools, int64_t now_unix,
                              size_t max_tokens, gt_buf *ids, size_t *n_over, gt_err *err) {
    assert(p && ids && n_over);
    *n_over = 0;
    gt_buf r = GT_BUF_INIT, text = GT_BUF_INIT, spans = GT_BUF_INIT, client = GT_BUF_INIT;
    size_t have = ids->len / sizeof(int32_t);
    tok_budget b = {.max_n = max_tokens > SIZE_MAX - have ? SIZE_MAX : have + max_tokens};
    int rc = check_messages(messages, err);
    json_t *vars = rc ? NULL : template_vars(p, messages, tools);
    if (!rc && !vars) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) rc = no_forged_markers(p, messages, tools, err);
    if (!rc && (rc = gt_chat_tmpl_render(p->tmpl, vars, now_unix, &r, err)))
        rc = rc == GT_ENOMEM ? rc : GT_EINVAL; /* the template refused this conversation */
    if (!rc) rc = substitute(&r, messages, &text, &spans, err);
    if (!rc && client_text(messages, tools, &client)) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) rc = no_text_markers(p, &text, &spans, &client, err);
    /* The rendered text's length alone may show it cannot fit: its control
     * tokens are vocabulary texts, and the pieces between them are
     * tokenized as they stand, so gt_tokenize_min_tokens bounds the whole. */
    size_t least = rc ? 0 : gt_tokenize_min_tokens(p->tok, text.data ? (const char *)text.data : "", text.len);
    if (least > max_tokens) {
        b.over = have + least;
        rc = gt_err_set(err, GT_ELIMIT, "the conversation is more than %zu tokens (at least %zu)", max_tokens, least);
    }
    if (!rc) rc = add_bos(p, &text, &spans, ids, err);
    if (!rc) rc = tokenize_prompt(p, &text, &spans, ids, &b, err);
    if (rc == GT_ELIMIT && b.over) *n_over = b.over - have;
    json_decref(vars);
    gt_buf_free(&r);
    gt_buf_free(&text);
    gt_buf_free(&spans);
    gt_buf_free(&client);
    return rc;
}
