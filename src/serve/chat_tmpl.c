/* chat_tmpl.c: chat prompts rendered with the model's own chat template
 * (GGUF tokenizer.chat_template, or --chat-template FILE) by the Jinja-subset
 * interpreter of infer/chat_template.h; a model without one gets the built-in
 * template of chat.c.
 *
 * Message texts must not be able to forge the template's turn markers:
 * infer/chat_prompt.h renders the template with placeholders for the texts
 * and recognises control tokens only outside them. A template that changes
 * a placeholder (slices or upper-cases message texts) cannot be rendered
 * safely: found when the server starts (a probe render) or, for a
 * conversation that takes another path, as a request error. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/file.h"
#include "serve/serve_impl.h"

/* Renders messages with s's template into prompt ids (chat_prompt.h: no
 * message text can forge a turn marker). */
static int render_tokens(const gt_serve *s, const json_t *messages, const json_t *tools, gt_buf *ids, gt_err *err) {
    return gt_chat_prompt_tokens(s->prompt, messages, tools, (int64_t)time(NULL), ids, err);
}

int gt_serve_chat_prompt(const gt_serve *s, const json_t *messages, gt_buf *ids, const char **extra_stop, gt_err *err) {
    return gt_serve_chat_prompt_tools(s, messages, NULL, ids, extra_stop, err);
}

int gt_serve_chat_prompt_tools(const gt_serve *s, const json_t *messages, const json_t *tools, gt_buf *ids,
                               const char **extra_stop, gt_err *err) {
    size_t over;
    return gt_serve_chat_prompt_max(s, messages, tools, SIZE_MAX, ids, &over, extra_stop, err);
}

int gt_serve_chat_prompt_max(const gt_serve *s, const json_t *messages, const json_t *tools, size_t max_tokens,
                             gt_buf *ids, size_t *n_over, const char **extra_stop, gt_err *err) {
    if (!s->tmpl) return gt_serve_chat_tokens_max(s->tok, messages, tools, max_tokens, ids, n_over, extra_stop, err);
    *extra_stop = NULL; /* the vocabulary's end-of-generation tokens end the turn */
    return gt_chat_prompt_tokens_max(s->prompt, messages, tools, (int64_t)time(NULL), max_tokens, ids, n_over, err);
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
    if ((rc = gt_chat_prompt_new(s->tmpl, s->tok, &s->prompt, err))) return rc;
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
