/* chat_template.h: chat templates, the Jinja programs that model files carry
 * (GGUF key tokenizer.chat_template) to turn a conversation into the prompt
 * the model was trained on, rendered by a small interpreter of the subset of
 * Jinja that real templates use:
 *
 *   statements  {% if/elif/else %}, {% for x in xs [if cond] %} (with else,
 *               loop.index/index0/revindex/revindex0/first/last/length/
 *               previtem/nextitem, unpacking "for k, v in d.items()"),
 *               {% set x = e %}, {% set ns.attr = e %}, {% set x %}..{% endset %},
 *               {% macro m(a, b=1) %}, {% break %}, {% continue %},
 *               {% generation %}; {{ e }}; {# comments #}; "-" whitespace
 *               control, and HF's trim_blocks and lstrip_blocks
 *   expressions literals (strings, integers, lists, dicts), names, a.b,
 *               a[i], a[i:j:k], calls, + - * / // % ~, comparisons, in,
 *               not in, and, or, not, x if c else y, filters (|) and tests (is)
 *   filters     trim, tojson (indent), length/count, items, default/d, upper,
 *               lower, capitalize, title, first, last, join, list, string,
 *               int, abs, replace, reverse, unique, select/reject,
 *               selectattr/rejectattr, map(attribute=...), safe
 *   tests       defined, undefined, none, string, number, integer, boolean,
 *               mapping, iterable, sequence, true, false, odd, even,
 *               divisibleby, eq/equalto, in
 *   methods     str: strip lstrip rstrip split startswith endswith upper lower
 *               replace title capitalize find join; dict: items keys values get
 *   globals     namespace(...), raise_exception(msg), range(...),
 *               strftime_now(fmt) (at the time the caller passes, in UTC)
 *
 * Anything else is refused with its name and its line and column. Rendering
 * is bounded by named limits (output size, loop iterations, call depth, the
 * work of one render, the nesting of values it makes), so a hostile template
 * (it comes inside a model file) cannot hang, exhaust or crash the process. Values are JSON
 * (jansson): the caller's variables (messages, tools, add_generation_prompt,
 * bos_token, ...) are read as they are and never changed. */
#ifndef GT_INFER_CHAT_TEMPLATE_H
#define GT_INFER_CHAT_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define GT_CHAT_TMPL_MAX_SOURCE (1u << 20)     /* template text bytes */
#define GT_CHAT_TMPL_MAX_OUTPUT (8u << 20)     /* rendered bytes, and any one string made on the way */
#define GT_CHAT_TMPL_MAX_ITERATIONS 1000000    /* loop iterations in one render, all loops together */
#define GT_CHAT_TMPL_MAX_DEPTH 64              /* nesting of expressions and blocks; macro call depth */
#define GT_CHAT_TMPL_MAX_LIST 100000           /* elements of a list made by the template (range, split) */
/* Work of one render, in units of about a byte touched: 1 per expression or
 * statement evaluated, 1 per byte of a string made, scanned or written out,
 * GT_CHAT_TMPL_ELEM_WORK per element of a list or dict made or walked (a
 * macro call or a loop iteration makes a few). The iteration and output
 * limits alone let a template copy an 8 MiB string a million times, or call
 * a macro 2^60 times without looping. The fixture templates rendering 256
 * messages of 4 KB (1 MiB of text, serve's body limit) with 64 tools use
 * 4.2-7.4 Mi units; serve and chat render placeholders, not the texts, so
 * far fewer (tests/infer/test_chat_template.c). */
#define GT_CHAT_TMPL_MAX_WORK (64u << 20)
#define GT_CHAT_TMPL_ELEM_WORK 16
/* Nesting of a list or dict the template makes ([x], {'k': x}, namespace
 * attributes): values are walked recursively (printed, compared, and freed
 * by jansson), so a list nested a million deep crashed the process. */
#define GT_CHAT_TMPL_MAX_NESTING 1024

typedef struct gt_chat_tmpl gt_chat_tmpl;

/* Parses src[0..len) into *out (free with gt_chat_tmpl_free). Errors name
 * the construct and its line:column ("chat template 3:12: unsupported
 * statement 'call'"). */
int gt_chat_tmpl_parse(const char *src, size_t len, gt_chat_tmpl **out, gt_err *err);
void gt_chat_tmpl_free(gt_chat_tmpl *t); /* accepts NULL */

/* The template's own texts (between tags, and its string literals), one a
 * call from *i (0 first; advanced) with its length in *len; NULL after the
 * last. What it writes itself, unlike what comes in with the variables it
 * renders (a tool's description, a call's arguments). */
const char *gt_chat_tmpl_literal(const gt_chat_tmpl *t, size_t *i, size_t *len);

/* Renders t with the variables of vars (a JSON object) appended to out.
 * now_unix is what strftime_now formats (UTC). A raise_exception in the
 * template is an error carrying its message. */
int gt_chat_tmpl_render(const gt_chat_tmpl *t, const json_t *vars, int64_t now_unix, gt_buf *out, gt_err *err);

#endif
