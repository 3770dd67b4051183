/* tools.c: tool calls in /v1/chat/completions (OpenAI's `tools`,
 * `tool_choice`, assistant `tool_calls` and `tool` messages).
 *
 * The tools reach the model through the chat template: the model's own
 * (given `tools`, and messages with `tool_calls` whose arguments are parsed
 * JSON, as templates expect), or the built-in ChatML one, which presents
 * them as Qwen 2.5 and Hermes models were trained to read (a "# Tools"
 * section in the system turn, <tools>...</tools>, and calls written back as
 * <tool_call>{"name":..., "arguments":...}</tool_call>).
 *
 * The answer is parsed back: every <tool_call> block whose JSON names a
 * tool of the request becomes an entry of message.tool_calls (arguments as
 * a JSON string, as OpenAI sends them), the text before the first block
 * stays content, and finish_reason is "tool_calls". With tool_choice
 * "required" or a named function, generation is constrained (grammar.c) to
 * the call's JSON object itself, {"name":...,"arguments":{...}} with the
 * function's parameters as the arguments' schema, so the call always parses
 * and validates. Call ids are derived from the call's bytes, so the answer's
 * bytes still depend only on the request and its seed. */
#define _GNU_SOURCE /* memmem */
#include <assert.h>
#include <string.h>

#include "base/alloc.h"
#include "serve/serve_impl.h"

#define GT_SERVE_MAX_TOOLS 64        /* tools in one request */
#define GT_SERVE_MAX_TOOL_NAME 64    /* bytes of a function's name */

/* Whether name is 1..64 of [A-Za-z0-9_-] (OpenAI's rule). */
static int good_name(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > GT_SERVE_MAX_TOOL_NAME) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* tools[i]: {"type":"function","function":{"name","description"?,"parameters"?,"strict"?}}. */
static int check_tool(const json_t *t, size_t i, gt_serve_error *e) {
    const json_t *f = json_object_get(t, "function");
    const char *type = json_string_value(json_object_get(t, "type"));
    if (!json_is_object(t) || !type || strcmp(type, "function") || !json_is_object(f))
        return gt_serve_fail(e, 400, "tools", "invalid_value",
                             "tools[%zu]: expected {\"type\":\"function\",\"function\":{\"name\":...}}", i);
    if (!good_name(json_string_value(json_object_get(f, "name"))))
        return gt_serve_fail(e, 400, "tools", "invalid_value",
                             "tools[%zu].function.name: expected 1..%d characters of a-z, A-Z, 0-9, _ and -", i,
                             GT_SERVE_MAX_TOOL_NAME);
    const json_t *d = json_object_get(f, "description"), *p = json_object_get(f, "parameters");
    if (d && !json_is_string(d) && !json_is_null(d))
        return gt_serve_fail(e, 400, "tools", "invalid_type", "tools[%zu].function.description: expected a string", i);
    if (p && !json_is_object(p) && !json_is_null(p))
        return gt_serve_fail(e, 400, "tools", "invalid_type", "tools[%zu].function.parameters: expected a JSON schema",
            i);
    /* A call's arguments are a JSON object (OpenAI's rule): a schema of another type would have a forced call
     * generate arguments no client can parse as one. */
    const char *pt = json_string_value(json_object_get(p, "type"));
    if (json_is_object(p) && json_object_get(p, "type") && (!pt || strcmp(pt, "object")))
        return gt_serve_fail(e, 400, "tools", "invalid_value",
                             "tools[%zu].function.parameters: expected an object schema ({\"type\": \"object\", "
                             "...}), got type %s", i, pt ? pt : "(not a string)");
    return 0;
}

/* The tool named name in tools, or NULL. */
static const json_t *find_tool(const json_t *tools, const char *name) {
    size_t i;
    const json_t *t;
    json_array_foreach(tools, i, t) {
        const char *n = json_string_value(json_object_get(json_object_get(t, "function"), "name"));
        if (name && n && !strcmp(n, name)) return t;
    }
    return NULL;
}

/* tool_choice: "none", "auto", "required" or {"type":"function","function":{"name"}}. */
static int get_choice(const json_t *b, gt_serve_params *p, gt_serve_error *e) {
    const json_t *c = json_object_get(b, "tool_choice");
    if (!c || json_is_null(c) || (json_is_string(c) && !strcmp(json_string_value(c), "auto"))) return 0;
    if (json_is_string(c) && !strcmp(json_string_value(c), "none")) {
        p->tools = NULL; /* the model is not told of them */
        return 0;
    }
    if (json_is_string(c) && !strcmp(json_string_value(c), "required")) {
        if (!p->tools) return gt_serve_fail(e, 400, "tool_choice", "invalid_value",
            "tool_choice: \"required\" needs tools");
        p->tool_forced = 1;
        return 0;
    }
    const char *name = json_string_value(json_object_get(json_object_get(c, "function"), "name"));
    if (!json_is_object(c) || !name)
        return gt_serve_fail(e, 400, "tool_choice", "invalid_value",
                             "tool_choice: expected \"none\", \"auto\", \"required\" or "
                             "{\"type\":\"function\",\"function\":{\"name\":NAME}}");
    if (!p->tools || !find_tool(p->tools, name))
        return gt_serve_fail(e, 400, "tool_choice", "invalid_value", "tool_choice: no tool named \"%.64s\" in tools",
            name);
    p->tool_forced = 1;
    p->tool_name = name;
    return 0;
}

int gt_serve_tools_parse(const json_t *b, gt_serve_params *p, gt_serve_error *e) {
    const json_t *tools = json_object_get(b, "tools"), *ptc = json_object_get(b, "parallel_tool_calls");
    if (ptc && !json_is_boolean(ptc) && !json_is_null(ptc))
        return gt_serve_fail(e, 400, "parallel_tool_calls", "invalid_type", "parallel_tool_calls: expected a boolean");
    if (tools && !json_is_null(tools)) {
        if (!json_is_array(tools) || json_array_size(tools) == 0 || json_array_size(tools) > GT_SERVE_MAX_TOOLS)
            return gt_serve_fail(e, 400, "tools", "invalid_value", "tools: expected an array of 1..%d functions",
                                 GT_SERVE_MAX_TOOLS);
        for (size_t i = 0; i < json_array_size(tools); i++)
            if (check_tool(json_array_get(tools, i), i, e)) return -1;
        p->tools = tools;
    }
    if (get_choice(b, p, e)) return -1;
    /* {"type":"text"} asks for no grammar (what some clients send by default): it goes with a forced call. */
    const char *rf_type = json_string_value(json_object_get(p->response_format, "type"));
    if (p->tool_forced && p->response_format && !(rf_type && !strcmp(rf_type, "text")))
        return gt_serve_fail(e, 400, "response_format", "invalid_value",
                             "response_format: not with tool_choice \"required\" or a named function (the call is "
                             "the structured output)");
    return 0;
}

int gt_serve_tool_calls_check(const json_t *calls, size_t i, gt_serve_error *e) {
    size_t k;
    const json_t *c;
    if (!json_is_array(calls))
        return gt_serve_fail(e, 400, "messages", "invalid_type", "messages[%zu].tool_calls: expected an array", i);
    json_array_foreach(calls, k, c) {
        const json_t *f = json_object_get(c, "function");
        if (!json_is_object(f) || !good_name(json_string_value(json_object_get(f, "name"))) ||
            !json_is_string(json_object_get(f, "arguments")))
            return gt_serve_fail(e, 400, "messages", "invalid_value",
                                 "messages[%zu].tool_calls[%zu]: expected {\"id\",\"type\":\"function\",\"function\":"
                                 "{\"name\",\"arguments\":STRING}}", i, k);
    }
    return 0;
}

/* One tool's call as a schema: {"name": its name, "arguments": its
 * parameters (any object when it has none)}. */
static json_t *one_call_schema(const json_t *f) {
    const json_t *ps = json_object_get(f, "parameters");
    json_t *args = json_is_object(ps) ? json_deep_copy(ps) : json_pack("{s:s}", "type", "object");
    return json_pack("{s:s,s:{s:{s:O},s:o},s:[s,s]}", "type", "object", "properties", "name", "const",
                     json_object_get(f, "name"), "arguments", args, "required", "name", "arguments");
}

/* The schema of the forced call: the named tool's call, or any one tool's
 * call (an anyOf of them, so each tool's name goes with its own arguments,
 * never another tool's). */
static json_t *call_schema(const gt_serve_params *p) {
    json_t *alts = json_array();
    size_t i;
    const json_t *t;
    json_array_foreach(p->tools, i, t) {
        const json_t *f = json_object_get(t, "function");
        const char *name = json_string_value(json_object_get(f, "name"));
        if (p->tool_name && strcmp(name, p->tool_name)) continue;
        json_array_append_new(alts, one_call_schema(f));
    }
    if (json_array_size(alts) == 1) {
        json_t *one = json_incref(json_array_get(alts, 0));
        json_decref(alts);
        return one;
    }
    return json_pack("{s:s,s:o}", "type", "object", "anyOf", alts);
}

int gt_serve_tools_grammar(const gt_serve_params *p, gt_grammar **out, gt_serve_error *e) {
    *out = NULL;
    /* Each tool is an alternative of the call's grammar, which follows at
     * most GT_GRAMMAR_ALTS at once. */
    if (!p->tool_name && json_array_size(p->tools) > GT_GRAMMAR_ALTS)
        return gt_serve_fail(e, 400, "tool_choice", "invalid_value",
                             "tool_choice \"required\": at most %d tools can be forced at once, got %zu; name one "
                             "({\"type\":\"function\",\"function\":{\"name\":NAME}}) or send fewer tools",
                             GT_GRAMMAR_ALTS, json_array_size(p->tools));
    json_t *rf = json_pack("{s:s,s:{s:s,s:o}}", "type", "json_schema", "json_schema", "name", "tool_call", "schema",
                           call_schema(p));
    if (!rf) return gt_serve_fail(e, 500, NULL, NULL, "out of memory");
    int rc = gt_grammar_compile(rf, out, e);
    json_decref(rf);
    if (rc) e->param = "tools"; /* the parameters of a tool use a keyword the grammar lacks */
    return rc;
}

/* A stable call id: "call_" and 16 hex digits of FNV-1a over the call's
 * bytes and its index. */
static json_t *call_id(const char *name, const char *args, size_t k) {
    uint64_t h = 1469598103934665603ull;
    const char *parts[2] = {name, args};
    for (int i = 0; i < 2; i++)
        for (const char *q = parts[i]; *q; q++) h = (h ^ (uint8_t)*q) * 1099511628211ull;
    h = (h ^ k) * 1099511628211ull;
    char id[32];
    snprintf(id, sizeof id, "call_%016llx", (unsigned long long)h);
    return json_string(id);
}

/* One call from its JSON text {"name","arguments"} (a tool of the request),
 * appended to calls; 0 when the text is not such a call. */
static int add_call(const gt_serve_params *p, const char *text, size_t len, json_t *calls) {
    json_t *j = json_loadb(text, len, 0, NULL);
    const char *name = json_string_value(json_object_get(j, "name"));
    const json_t *args = json_object_get(j, "arguments");
    if (!json_is_object(j) || !find_tool(p->tools, name) || !(json_is_object(args) || json_is_string(args))) {
        json_decref(j);
        return 0;
    }
    char *a = json_is_string(args) ? strdup(json_string_value(args)) : json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
    size_t k = json_array_size(calls);
    json_t *c = a ? json_pack("{s:o,s:s,s:{s:s,s:s}}", "id", call_id(name, a, k), "type", "function", "function",
                              "name", name, "arguments", a)
                  : NULL;
    free(a);
    json_decref(j);
    return c && json_array_append_new(calls, c) == 0;
}

/* Trims ASCII whitespace from both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n) {
    while (*n && strchr(" \t\r\n", (*s)[0])) (*s)++, (*n)--;
    while (*n && strchr(" \t\r\n", (*s)[*n - 1])) (*n)--;
}

json_t *gt_serve_tool_calls(const gt_serve_params *p, const char *text, size_t len, size_t *content_len) {
    static const char open_tag[] = "<tool_call>", close_tag[] = "</tool_call>";
    json_t *calls = json_array();
    *content_len = len;
    if (!p->tools || !calls) return json_decref(calls), NULL;
    if (p->tool_forced) { /* the grammar made the whole answer one call */
        if (!add_call(p, text, len, calls)) return json_decref(calls), NULL;
        *content_len = 0;
        return calls;
    }
    const char *end = text + len, *q = text, *first = NULL;
    while (q < end) {
        const char *o = memmem(q, (size_t)(end - q), open_tag, sizeof open_tag - 1);
        if (!o) break;
        const char *body = o + sizeof open_tag - 1;
        const char *c = memmem(body, (size_t)(end - body), close_tag, sizeof close_tag - 1);
        size_t n = (size_t)((c ? c : end) - body);
        trim(&body, &n);
        if (!add_call(p, body, n, calls)) break; /* not a call: the rest stays text */
        if (!first) first = o;
        q = c ? c + sizeof close_tag - 1 : end;
    }
    if (!first) return json_decref(calls), NULL;
    const char *s = text;
    size_t n = (size_t)(first - text);
    trim(&s, &n);
    *content_len = n;
    return calls;
}

/* ---- The built-in ChatML template's rendering of tools. */

/* The system turn's "# Tools" section (after the system text). */
int gt_serve_tools_system(const json_t *tools, gt_buf *out) {
    int oom = gt_buf_append_str(out, "\n\n# Tools\n\nYou may call one or more functions to assist with the user "
                                     "query.\n\nYou are provided with function signatures within <tools></tools> "
                                     "XML tags:\n<tools>");
    size_t i;
    const json_t *t;
    json_array_foreach(tools, i, t) {
        char *s = json_dumps(t, JSON_ENSURE_ASCII); /* ", " and ": ", as Jinja's tojson writes */
        oom = oom || !s || gt_buf_append_str(out, "\n") || gt_buf_append_str(out, s);
        free(s);
    }
    oom = oom || gt_buf_append_str(out, "\n</tools>\n\nFor each function call, return a json object with function "
                                        "name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
                                        "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n"
                                        "</tool_call>");
    return oom ? GT_ENOMEM : 0;
}

/* An assistant message's calls, as the model writes them. */
int gt_serve_tools_calls_text(const json_t *calls, gt_buf *out) {
    size_t k;
    const json_t *c;
    int oom = 0;
    json_array_foreach(calls, k, c) {
        const json_t *f = json_object_get(c, "function");
        json_t *args = json_loads(json_string_value(json_object_get(f, "arguments")), 0, NULL);
        json_t *call = json_pack("{s:O,s:o}", "name", json_object_get(f, "name"),
                                 "arguments", args ? args : json_incref(json_object_get(f, "arguments")));
        char *s = call ? json_dumps(call, JSON_ENSURE_ASCII) : NULL;
        /* after the text on a line of its own; first in a turn without text */
        oom = oom || !s || gt_buf_append_str(out, out->len ? "\n<tool_call>\n" : "<tool_call>\n")
            || gt_buf_append_str(out, s) ||
              gt_buf_append_str(out, "\n</tool_call>");
        free(s);
        json_decref(call);
    }
    return oom ? GT_ENOMEM : 0;
}
