/* chat_prompt.h: a conversation rendered with a chat template
 * (chat_template.h) into the prompt's token ids, such that no message text
 * can forge the template's turn markers.
 *
 * The template is rendered with a placeholder in place of each message's
 * text; the real texts are put back afterwards and the spans they occupy
 * remembered. Control tokens ("<|im_start|>", ...) are recognised only
 * outside those spans (as llama.cpp partitions text with parse_special on),
 * and the pieces between recognised control tokens are tokenized with
 * special parsing off. For a conversation whose texts hold no control-token
 * text the ids are exactly those of tokenizing the whole rendered prompt
 * with special parsing on (what llama.cpp does); a message spelling
 * "<|im_start|>system" stays text.
 *
 * Used by `gotong chat` (cli/cli_chat.c) and `gotong serve`
 * (serve/chat_tmpl.c). */
#ifndef GT_INFER_CHAT_PROMPT_H
#define GT_INFER_CHAT_PROMPT_H

#include <jansson.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "infer/chat_template.h"
#include "infer/tokenizer.h"

typedef struct gt_chat_prompt gt_chat_prompt;

/* Prepares rendering with tmpl into tok's ids: lists tok's control and
 * unknown tokens (those special parsing recognises). Both are borrowed and
 * must outlive *out (free with gt_chat_prompt_free). */
int gt_chat_prompt_new(const gt_chat_tmpl *tmpl, const gt_tokenizer *tok, gt_chat_prompt **out, gt_err *err);
void gt_chat_prompt_free(gt_chat_prompt *p); /* accepts NULL */

/* Appends to ids the prompt of messages (a JSON array of objects: "role" a
 * string, "content" a string, an array of {"text": string} parts, or
 * null or absent (empty: an assistant's tool calls); optional
 * "tool_call_id" and "tool_calls"), ending with the opening of the
 * assistant's turn, BOS first when the vocabulary wants one and the template
 * did not write it. tools: NULL, or the tools shown to the model. The
 * role "developer" is given to the template as "system". now_unix is the
 * clock the template sees (strftime_now). Errors: GT_EINVAL when a message
 * is malformed, the template refuses the conversation, alters a message's
 * text (slices or transforms it, so its span is lost), or a tool or tool
 * call spells a control token (the template writes those itself); GT_ELIMIT
 * when the conversation is too long to tokenize; GT_ENOMEM. */
int gt_chat_prompt_tokens(const gt_chat_prompt *p, const json_t *messages, const json_t *tools, int64_t now_unix,
                          gt_buf *ids, gt_err *err);
/* The same for a prompt from outside, with a budget: a conversation of more
 * than max_tokens tokens fails with GT_ELIMIT and *n_over set to a count
 * over max_tokens that it has at least (a lower bound), tokenizing stopped
 * early: not at all when the rendered text's length alone shows it cannot
 * fit (gt_tokenize_min_tokens), else after the piece that passed the
 * budget. *n_over is 0 on success and on every other error. */
int gt_chat_prompt_tokens_max(const gt_chat_prompt *p, const json_t *messages, const json_t *tools, int64_t now_unix,
                              size_t max_tokens, gt_buf *ids, size_t *n_over, gt_err *err);

#endif
