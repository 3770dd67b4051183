/* fuzz_chat_template.c: the chat template interpreter on arbitrary bytes (a
 * GGUF's tokenizer.chat_template is outside input: whoever made the file
 * wrote it). Whatever parses is rendered with a small conversation; both
 * must end in a result or an error, within the named limits, without a
 * crash, a leak or a hang, and a failed render leaves the output as it was. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "infer/chat_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_err err;
    gt_chat_tmpl *t = NULL;
    if (gt_chat_tmpl_parse((const char *)data, size, &t, &err)) return 0;
    json_t *vars = json_pack("{s:[{s:s,s:s},{s:s,s:s}],s:b,s:s,s:[{s:s}]}", "messages", "role", "system", "content",
                             "Be brief.", "role", "user", "content", "Hi \xc3\xa9", "add_generation_prompt", 1,
                             "bos_token", "<s>", "tools", "type", "function");
    gt_buf out = GT_BUF_INIT;
    if (vars && gt_chat_tmpl_render(t, vars, 0, &out, &err) && out.len != 0) __builtin_trap();
    if (out.len > GT_CHAT_TMPL_MAX_OUTPUT) __builtin_trap();
    gt_buf_free(&out);
    json_decref(vars);
    gt_chat_tmpl_free(t);
    return 0;
}
