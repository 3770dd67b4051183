/* chat.c: the built-in chat templates (until the model's own Jinja template
 * is supported, issue 13).
 *
 *   chatml (byte-level BPE vocabularies: gpt2, qwen):
 *     <|im_start|>ROLE\nTEXT<|im_end|>\n ... <|im_start|>assistant\n
 *   llama2 (SentencePiece vocabularies):
 *     <s>[INST] <<SYS>>\nSYSTEM\n<</SYS>>\n\nUSER [/INST] ASSISTANT </s><s>[INST] USER [/INST]
 *
 * Markers are inserted as token ids where the vocabulary has them; message
 * texts are tokenized with special-token parsing off, so text such as
 * "<|im_start|>system" inside a message stays text and cannot open a turn.
 * A marker the vocabulary has no control token for goes in as its text,
 * which a message's text could then spell to the same tokens: a message
 * (or tool) text holding such a marker is refused (forged_marker). */
#define _GNU_SOURCE /* memmem */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "serve/serve_impl.h"

const char *gt_serve_template_name(const gt_tokenizer *tok) {
    return strcmp(gt_tokenizer_model(tok), "llama") ? "chatml" : "llama2";
}

/* How many prompt tokens a conversation may have (max_n, counting what ids
 * held before), and, once it is found to have more, at least how many it
 * has (over: a lower bound, since tokenizing stopped there; 0 until then). */
typedef struct tok_budget {
    size_t max_n, over;
} tok_budget;

/* Fails the conversation for having at least n > b->max_n tokens. */
static int over_budget(tok_budget *b, size_t n, gt_err *err) {
    assert(n > b->max_n);
    b->over = n;
    return gt_err_set(err, GT_ELIMIT, "the conversation is more than %zu tokens (at least %zu)", b->max_n, n);
}

/* Appends the tokens of len bytes of text (no BOS/EOS, no special parsing),
 * ids holding at most b->max_n in all: past that, over_budget, tokenizing
 * stopped early (gt_tokenize_max). */
static int add_text(const gt_tokenizer *tok, const char *text, size_t len, gt_buf *ids, tok_budget *b, gt_err *err) {
    size_t have = ids->len / sizeof(int32_t), n = 0;
    if (have > b->max_n) return over_budget(b, have, err); /* add_id went past it */
    if (len == 0) return 0;
    int rc = gt_tokenize_max(tok, text, len, 0, 0, b->max_n - have, ids, &n, err);
    return rc == GT_ELIMIT && n ? over_budget(b, have + n, err) : rc;
}

/* Appends one token id. */
static int add_id(gt_buf *ids, int32_t id, gt_err *err) {
    return gt_buf_append(ids, &id, sizeof id) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
}

/* The built-in templates' markers, written into the prompt around texts. */
static const char *const chatml_markers[] = {"<|im_start|>", "<|im_end|>", NULL};
static const char *const llama2_markers[] = {"[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", NULL};

/* Refuses text (message index i's, as the prompt shows it) that spells one
 * of markers the vocabulary holds as no control token: the prompt has that
 * marker as text, so the message would forge a turn the model cannot tell
 * from the template's. A marker held as a control token is inserted by id,
 * and the text, tokenized with special parsing off, stays text. */
static int forged_marker(const gt_tokenizer *tok, const char *const *markers, size_t i, const gt_buf *text,
                         gt_err *err) {
    char where[48];
    if (i == SIZE_MAX) snprintf(where, sizeof where, "tools"); /* the system turn made for them */
    else snprintf(where, sizeof where, "messages[%zu]", i);
    const char *t = text->data ? (const char *)text->data : "";
    for (; *markers; markers++) {
        size_t len = strlen(*markers);
        int32_t id = gt_tokenizer_find(tok, *markers, len);
        if ((id >= 0 && gt_token_attr(tok, id) == GT_TOKEN_CONTROL) || !memmem(t, text->len, *markers, len)) continue;
        return gt_err_set(err, GT_EINVAL, "%s: the text holds %s, a turn marker of the built-in chat template that "
                          "this model's vocabulary has no control token for, so it would forge a turn; remove it, or "
                          "give the server a --chat-template FILE", where, *markers);
    }
    return 0;
}

/* Appends a marker: its token id when the vocabulary has it as one token,
 * else its text. */
static int add_marker(const gt_tokenizer *tok, const char *marker, gt_buf *ids, tok_budget *b, gt_err *err) {
    int32_t id = gt_tokenizer_find(tok, marker, strlen(marker));
    return id >= 0 ? add_id(ids, id, err) : add_text(tok, marker, strlen(marker), ids, b, err);
}

/* A message's content as one text: a string, or its text parts joined. */
static int content_text(const json_t *m, gt_buf *out, gt_err *err) {
    const json_t *c = json_object_get(m, "content");
    gt_buf_reset(out);
    if (json_is_string(c))
        return gt_buf_append(out, json_string_value(c), json_string_length(c)) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
    size_t i;
    const json_t *part;
    json_array_foreach(c, i, part) {
        const json_t *t = json_object_get(part, "text");
        assert(json_is_string(t)); /* checked by gt_serve_parse */
        if (gt_buf_append(out, json_string_value(t), json_string_length(t))) return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    return 0;
}

/* ChatML's one turn: <|im_start|>ROLE\nTEXT<|im_end|>\n. */
static int chatml_turn(const gt_tokenizer *tok, const char *role, const gt_buf *text, gt_buf *ids, tok_budget *b,
                       gt_err *err) {
    int rc;
    if ((rc = add_marker(tok, "<|im_start|>", ids, b, err)) || (rc = add_text(tok, role, strlen(role), ids, b, err)) ||
        (rc = add_text(tok, "\n", 1, ids, b, err)) ||
        (rc = add_text(tok, (const char *)text->data, text->len, ids, b, err)) ||
        (rc = add_marker(tok, "<|im_end|>", ids, b, err)) || (rc = add_text(tok, "\n", 1, ids, b, err)))
        return rc;
    return 0;
}

/* A message's text as ChatML shows it with tools (Qwen 2.5's layout): the
 * first system turn gets the "# Tools" section (a system turn of its own
 * when there is none), an assistant's calls follow its text as <tool_call>
 * blocks, and a tool's result is <tool_response> in a user turn. */
static int chatml_tool_text(const json_t *m, const json_t *tools, int first_system, gt_buf *text, gt_err *err) {
    const char *role = json_string_value(json_object_get(m, "role"));
    const json_t *calls = json_object_get(m, "tool_calls");
    int rc = 0;
    if (!strcmp(role, "tool")) {
        gt_buf inner = GT_BUF_INIT;
        rc = content_text(m, &inner, err);
        gt_buf_reset(text);
        if (!rc && (gt_buf_append_str(text, "<tool_response>\n") || gt_buf_append(text, inner.data, inner.len) ||
                    gt_buf_append_str(text, "\n</tool_response>")))
            rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        gt_buf_free(&inner);
        return rc;
    }
    if ((rc = content_text(m, text, err))) return rc;
    if (first_system && tools && gt_serve_tools_system(tools, text)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    if (calls && gt_serve_tools_calls_text(calls, text)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* ChatML: every message in its turn, then the assistant's opening. */
static int chatml(const gt_tokenizer *tok, const json_t *ms, const json_t *tools, gt_buf *ids, tok_budget *b,
                  gt_buf *text, gt_err *err) {
    size_t i;
    const json_t *m;
    int rc = 0, told = 0;
    const char *first_role = json_string_value(json_object_get(json_array_get(ms, 0), "role"));
    if (tools && strcmp(first_role, "system") && strcmp(first_role, "developer")) {
        /* no system message: the tools get a system turn of their own */
        gt_buf_reset(text);
        if (gt_buf_append_str(text, "You are a helpful assistant.") || gt_serve_tools_system(tools, text))
            return gt_err_set(err, GT_ENOMEM, "out of memory");
        if ((rc = forged_marker(tok, chatml_markers, SIZE_MAX, text, err)) ||
            (rc = chatml_turn(tok, "system", text, ids, b, err)))
            return rc;
        told = 1;
    }
    json_array_foreach(ms, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        int sys = !strcmp(role, "developer") || !strcmp(role, "system");
        if ((rc = chatml_tool_text(m, tools, sys && !told, text, err))) return rc;
        told = told || sys;
        const char *as = sys ? "system" : !strcmp(role, "tool") ? "user" : role;
        if ((rc = forged_marker(tok, chatml_markers, i, text, err)) || (rc = chatml_turn(tok, as, text, ids, b, err)))
            return rc;
    }
    if ((rc = add_marker(tok, "<|im_start|>", ids, b, err))) return rc;
    return add_text(tok, "assistant\n", 10, ids, b, err);
}

/* Llama 2: system messages gather into the first user turn's <<SYS>> block;
 * each user turn opens with BOS, each assistant reply closes with EOS. One
 * turn's text is tokenized whole (as llama.cpp tokenizes a rendered prompt). */
static int llama2(const gt_tokenizer *tok, const json_t *ms, gt_buf *ids, tok_budget *b, gt_buf *text, gt_err *err) {
    gt_buf sys = GT_BUF_INIT, turn = GT_BUF_INIT;
    int rc = 0, bos = gt_tokenizer_bos(tok), eos = gt_tokenizer_eos(tok);
    size_t i;
    const json_t *m;
    json_array_foreach(ms, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        if ((rc = content_text(m, text, err)) || (rc = forged_marker(tok, llama2_markers, i, text, err))) break;
        int oom = 0;
        if (!strcmp(role, "system") || !strcmp(role, "developer")) {
            oom = (sys.len && gt_buf_append(&sys, "\n", 1)) || gt_buf_append(&sys, text->data ? text->data : (uint8_t *)"", text->len);
        } else if (!strcmp(role, "user")) {
            gt_buf_reset(&turn);
            oom = gt_buf_append_str(&turn, "[INST] ");
            if (!oom && sys.len) {
                oom = gt_buf_append_str(&turn, "<<SYS>>\n") || gt_buf_append(&turn, sys.data, sys.len) ||
                      gt_buf_append_str(&turn, "\n<</SYS>>\n\n");
                gt_buf_reset(&sys);
            }
            oom = oom || gt_buf_append(&turn, text->data ? text->data : (uint8_t *)"", text->len) || gt_buf_append_str(&turn, " [/INST]");
            if (!oom && ((bos >= 0 && (rc = add_id(ids, bos, err))) || (rc = add_text(tok, (const char *)turn.data, turn.len, ids, b, err)))) break;
        } else { /* assistant */
            gt_buf_reset(&turn);
            oom = gt_buf_append_str(&turn, " ") || gt_buf_append(&turn, text->data ? text->data : (uint8_t *)"", text->len) || gt_buf_append_str(&turn, " ");
            if (!oom && ((rc = add_text(tok, (const char *)turn.data, turn.len, ids, b, err)) || (eos >= 0 && (rc = add_id(ids, eos, err))))) break;
        }
        if (oom) {
            rc = gt_err_set(err, GT_ENOMEM, "out of memory");
            break;
        }
    }
    /* System text with no user turn after it still reaches the model. */
    if (!rc && sys.len) {
        gt_buf_reset(&turn);
        if (gt_buf_append_str(&turn, "[INST] <<SYS>>\n") || gt_buf_append(&turn, sys.data, sys.len) ||
            gt_buf_append_str(&turn, "\n<</SYS>>\n\n [/INST]"))
            rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        if (!rc && bos >= 0) rc = add_id(ids, bos, err);
        if (!rc) rc = add_text(tok, (const char *)turn.data, turn.len, ids, b, err);
    }
    gt_buf_free(&sys);
    gt_buf_free(&turn);
    return rc;
}

/* Whether a conversation uses tools: tools given, or tool messages/calls. */
static int uses_tools(const json_t *messages, const json_t *tools) {
    size_t i;
    const json_t *m;
    if (tools) return 1;
    json_array_foreach(messages, i, m)
        if (json_object_get(m, "tool_calls") || !strcmp(json_string_value(json_object_get(m, "role")), "tool"))
            return 1;
    return 0;
}

int gt_serve_chat_tokens(const gt_tokenizer *tok, const json_t *messages, gt_buf *ids, const char **extra_stop,
                         gt_err *err) {
    return gt_serve_chat_tokens_tools(tok, messages, NULL, ids, extra_stop, err);
}

int gt_serve_chat_tokens_tools(const gt_tokenizer *tok, const json_t *messages, const json_t *tools, gt_buf *ids,
                               const char **extra_stop, gt_err *err) {
    size_t over;
    return gt_serve_chat_tokens_max(tok, messages, tools, SIZE_MAX, ids, &over, extra_stop, err);
}

/* A lower bound on the tokens of the built-in templates' prompt of
 * messages, from the lengths of their texts alone: both templates write
 * every message's text whole into the texts they tokenize, so each text
 * string's gt_tokenize_min_tokens counts, less one per string after the
 * first (two strings tokenized within one text can share a token's worth
 * of rounding: ceil(x) + ceil(y) <= ceil(x + y) + 1). */
static size_t least_tokens(const gt_tokenizer *tok, const json_t *messages) {
    size_t sum = 0, n_strings = 0, i, k;
    const json_t *m, *part;
    json_array_foreach(messages, i, m) {
        const json_t *c = json_object_get(m, "content");
        if (json_is_string(c)) {
            sum += gt_tokenize_min_tokens(tok, json_string_value(c), json_string_length(c)), n_strings++;
            continue;
        }
        json_array_foreach(c, k, part) {
            const json_t *t = json_object_get(part, "text");
            if (!json_is_string(t)) continue;
            sum += gt_tokenize_min_tokens(tok, json_string_value(t), json_string_length(t)), n_strings++;
        }
    }
    return n_strings && sum > n_strings - 1 ? sum - (n_strings - 1) : 0;
}

int gt_serve_chat_tokens_max(const gt_tokenizer *tok, const json_t *messages, const json_t *tools, size_t max_tokens,
                             gt_buf *ids, size_t *n_over, const char **extra_stop, gt_err *err) {
    gt_buf text = GT_BUF_INIT;
    int chat_ml = !strcmp(gt_serve_template_name(tok), "chatml");
    *extra_stop = NULL, *n_over = 0;
    if (!chat_ml && uses_tools(messages, tools))
        return gt_err_set(err, GT_EINVAL, "tools: the built-in llama2 template cannot present tools or tool messages; "
                          "give the server a --chat-template FILE that does");
    size_t least = least_tokens(tok, messages);
    if (least > max_tokens) { /* too long whatever its tokens: nothing tokenized */
        *n_over = least;
        return gt_err_set(err, GT_ELIMIT, "the conversation is more than %zu tokens (at least %zu)", max_tokens, least);
    }
    size_t have = ids->len / sizeof(int32_t);
    tok_budget b = {.max_n = max_tokens > SIZE_MAX - have ? SIZE_MAX : have + max_tokens};
    int rc = chat_ml ? chatml(tok, messages, tools, ids, &b, &text, err) : llama2(tok, messages, ids, &b, &text, err);
    gt_buf_free(&text);
    if (!rc && ids->len / sizeof(int32_t) > b.max_n) rc = over_budget(&b, ids->len / sizeof(int32_t), err);
    if (rc == GT_ELIMIT && b.over) *n_over = b.over - have;
    /* The end of a turn stops generation as an end-of-generation token when
     * the vocabulary has it as one; otherwise as text. */
    *extra_stop = chat_ml && gt_tokenizer_find(tok, "<|im_end|>", 10) < 0 ? "<|im_end|>" : NULL;
    return rc;
}
