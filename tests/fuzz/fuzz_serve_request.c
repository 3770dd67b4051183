/* fuzz_serve_request.c: what a client of `gotong serve` (or a node's OpenAI
 * routes) sends: a request body read by gt_serve_parse, its response_format
 * compiled to a grammar, its tools to a forced call's grammar and a system
 * text, and then generated text fed through that grammar and through the
 * tool-call extraction, as a model's output would be. Input: one byte (its
 * low bit: chat or completion), the JSON body, a NUL, the generated text.
 * Properties beyond not crashing (and not leaking): a refused body says why
 * with a 4xx; the content before tool calls is a prefix of the text. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "serve/serve_impl.h"

/* Feeds text through g, one byte at a time, until a byte it refuses. */
static void walk_grammar(const gt_grammar *g, const char *text, size_t len) {
    static gt_gmatch m, next; /* large: not on the stack */
    gt_grammar_start(g, &m);
    for (size_t i = 0; i < len; i++) {
        if (gt_grammar_next(g, &m, (unsigned char)text[i], &next) == 0) break;
        gt_grammar_copy(&m, &next);
        (void)gt_grammar_string_room(g, &m);
    }
    (void)gt_grammar_done(&m);
}

/* The tool calls in text, rendered back, and the tools' system text. */
static void walk_tools(const gt_serve_params *p, const char *text, size_t len) {
    size_t content_len = 0;
    json_t *calls = gt_serve_tool_calls(p, text, len, &content_len);
    assert(content_len <= len);
    gt_buf b = GT_BUF_INIT;
    if (calls) (void)gt_serve_tools_calls_text(calls, &b);
    json_decref(calls);
    b.len = 0;
    (void)gt_serve_tools_system(p->tools, &b);
    gt_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    gt_serve_kind kind = data[0] & 1 ? GT_SERVE_CHAT : GT_SERVE_COMPLETION;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    const char *nul = memchr(in, 0, n);
    size_t body_len = nul ? (size_t)(nul - in) : n;
    const char *text = nul ? nul + 1 : "";
    size_t text_len = nul ? n - body_len - 1 : 0;
    json_t *body = NULL;
    gt_err err = {0};
    if (gt_json_parse(in, body_len, GT_SERVE_MAX_BODY_BYTES, &body, &err)) return 0;
    gt_serve_params p;
    gt_serve_error e;
    memset(&p, 0, sizeof p);
    memset(&e, 0, sizeof e);
    if (gt_serve_parse(body, kind, &p, &e)) {
        assert(e.message[0] && e.status >= 400 && e.status < 500);
        json_decref(body);
        return 0;
    }
    gt_grammar *g = NULL;
    int rc = p.response_format ? gt_grammar_compile(p.response_format, &g, &e) : 0;
    if (!rc && p.tool_forced) {
        gt_grammar_free(g);
        g = NULL;
        rc = gt_serve_tools_grammar(&p, &g, &e);
    }
    if (rc) assert(e.message[0]);
    if (!rc && g) walk_grammar(g, text, text_len);
    if (!rc && p.tools) walk_tools(&p, text, text_len);
    gt_grammar_free(g);
    json_decref(body);
    return 0;
}
