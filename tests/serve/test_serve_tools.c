/* test_serve_tools.c: tool calls in chat completions: the request's checks,
 * how the built-in ChatML template presents tools, calls and results to the
 * model, how calls written by the model are parsed back (and what is left as
 * text), and a forced call over HTTP, whole and streamed, that always
 * parses and validates. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../test.h"
#include "base/buf.h"
#include "serve/serve_impl.h"

#define QWEN "models/tiny-qwen2-q8_0.gguf"

static const char *const TOOLS =
    "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather in a city\","
    "\"parameters\":{\"type\":\"object\",\"required\":[\"city\"],\"properties\":{\"city\":{\"type\":\"string\","
    "\"maxLength\":16},\"days\":{\"type\":\"integer\"}}}}},{\"type\":\"function\",\"function\":{\"name\":\"noop\"}}]";

/* Parses a chat body made of fmt with TOOLS; returns the status (0: accepted). */
static int parse(const char *extra, json_t **body, gt_serve_params *p, gt_serve_error *e) {
    char buf[4096];
    snprintf(buf, sizeof buf, "{\"model\":\"m\",\"tools\":%s,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]%s}",
             TOOLS, extra);
    *body = json_loads(buf, 0, NULL);
    CHECK_MSG(*body != NULL, "bad test JSON: %s", buf);
    memset(e, 0, sizeof *e);
    return gt_serve_parse(*body, GT_SERVE_CHAT, p, e) ? e->status : 0;
}

static void refused(const char *extra, const char *param) {
    json_t *b;
    gt_serve_params p;
    gt_serve_error e;
    CHECK_EQ_INT(parse(extra, &b, &p, &e), 400);
    CHECK_MSG(e.param && !strcmp(e.param, param), "%s: param %s, expected %s (%s)", extra, e.param ? e.param : "null",
              param, e.message);
    json_decref(b);
}

static void test_params(void) {
    json_t *b;
    gt_serve_params p;
    gt_serve_error e;
    CHECK_EQ_INT(parse("", &b, &p, &e), 0);
    CHECK(p.tools != NULL && !p.tool_forced);
    json_decref(b);
    CHECK_EQ_INT(parse(",\"tool_choice\":\"none\"", &b, &p, &e), 0);
    CHECK(p.tools == NULL); /* the model is not told of them */
    json_decref(b);
    CHECK_EQ_INT(parse(",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"noop\"}}", &b, &p, &e), 0);
    CHECK(p.tool_forced && !strcmp(p.tool_name, "noop"));
    json_decref(b);
    CHECK_EQ_INT(parse(",\"tool_choice\":\"required\",\"parallel_tool_calls\":false", &b, &p, &e), 0);
    CHECK(p.tool_forced && !p.tool_name);
    json_decref(b);
    refused(",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}", "tool_choice");
    refused(",\"tool_choice\":\"sometimes\"", "tool_choice");
    refused(",\"tool_choice\":\"required\",\"response_format\":{\"type\":\"json_object\"}", "response_format");
    refused(",\"parallel_tool_calls\":1", "parallel_tool_calls");
    /* Messages: calls only on assistant turns, well formed; tool results. */
    refused(",\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[]}]", "messages");
    refused(",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"a "
        "b\",\"arguments\":\"{}\"}}]}]",
            "messages");
    refused(",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
            "\"arguments\":{}}}]}]", "messages");
    CHECK_EQ_INT(parse(",\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c\",\"type\":"
                       "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},{\"role\":\"tool\","
                       "\"tool_call_id\":\"c\",\"content\":\"ok\"}]", &b, &p, &e), 0);
    json_decref(b);
    /* Bad tools. */
    static const char *const bad[] = {"[]", "[{\"type\":\"function\"}]",
        "[{\"type\":\"x\",\"function\":{\"name\":\"f\"}}]",
                                      "[{\"type\":\"function\",\"function\":{\"name\":\"\"}}]",
                                      "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":3}}]",
                                      "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":"
                                      "{\"type\":\"string\"}}}]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf,
            "{\"model\":\"m\",\"tools\":%s,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", bad[i]);
        json_t *j = json_loads(buf, 0, NULL);
        CHECK(gt_serve_parse(j, GT_SERVE_CHAT, &p, &e) != 0);
        CHECK_STR(e.param, "tools");
        json_decref(j);
    }
}

/* The calls parsed out of text under TOOLS (NULL when none); *content gets
 * the text left as content (caller frees both). */
static json_t *calls_of(const char *text, int forced, char **content) {
    json_t *tools = json_loads(TOOLS, 0, NULL);
    gt_serve_params p = {.kind = GT_SERVE_CHAT, .tools = tools, .tool_forced = forced};
    size_t n;
    json_t *c = gt_serve_tool_calls(&p, text, strlen(text), &n);
    *content = strndup(text, n);
    json_decref(tools);
    return c;
}

static void test_parse_back(void) {
    char *content;
    json_t *c = calls_of("Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
        "\"Paris\"}}\n"
                         "</tool_call>\n<tool_call>\n{\"name\":\"noop\",\"arguments\":\"{}\"}\n</tool_call>", 0,
                             &content);
    CHECK(c && json_array_size(c) == 2);
    CHECK_STR(content, "Let me look.");
    const json_t *f = json_object_get(json_array_get(c, 0), "function");
    CHECK_STR(json_string_value(json_object_get(f, "name")), "get_weather");
    CHECK_STR(json_string_value(json_object_get(f, "arguments")), "{\"city\":\"Paris\"}");
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 0), "type")), "function");
    const char *id0 = json_string_value(json_object_get(json_array_get(c, 0), "id"));
    const char *id1 = json_string_value(json_object_get(json_array_get(c, 1), "id"));
    CHECK(id0 && id1 && strlen(id0) == 21 && !strncmp(id0, "call_", 5) && strcmp(id0, id1));
    json_decref(c), free(content);
    /* Not calls: an unknown tool, broken JSON, no block. Stay text. */
    static const char *const texts[] = {"<tool_call>{\"name\":\"rm\",\"arguments\":{}}</tool_call>",
                                        "<tool_call>{\"name\":\"noop\",\"arguments\":</tool_call>", "just text",
                                        "<tool_call>{\"name\":\"noop\",\"arguments\":7}</tool_call>"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        c = calls_of(texts[i], 0, &content);
        CHECK_MSG(c == NULL, "parsed a call out of %s", texts[i]);
        CHECK_STR(content, texts[i]);
        json_decref(c), free(content);
    }
    /* Forced: the whole answer is the call's object. */
    c = calls_of("{\"name\":\"noop\",\"arguments\":{}}", 1, &content);
    CHECK(c && json_array_size(c) == 1);
    CHECK_STR(content, "");
    json_decref(c), free(content);
}

/* The prompt text the built-in ChatML template makes of a conversation with
 * tools (detokenized). */
static char *rendered(const gt_tokenizer *tok, const char *messages) {
    json_t *ms = json_loads(messages, 0, NULL), *tools = json_loads(TOOLS, 0, NULL);
    gt_buf ids = GT_BUF_INIT, text = GT_BUF_INIT;
    const char *extra;
    gt_err err = {0};
    CHECK_MSG(gt_serve_chat_tokens_tools(tok, ms, tools, &ids, &extra, &err) == 0, "%s", err.msg);
    const int32_t *id = (const int32_t *)(const void *)ids.data;
    for (size_t i = 0; i < ids.len / sizeof *id; i++) {
        size_t n = 0;
        const char *piece = gt_token_to_piece(tok, id[i], 1, &n);
        if (piece) gt_buf_append(&text, piece, n);
    }
    gt_buf_putc(&text, 0);
    json_decref(ms), json_decref(tools);
    gt_buf_free(&ids);
    return (char *)text.data;
}

static void test_render(void) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(QWEN);
    c.listen = "127.0.0.1:0";
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_start(&c, &s, &err) == 0, "%s", err.msg);
    if (!s) return;
    char *t = rendered(s->tok, "[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                               "{\"role\":\"user\",\"content\":\"Paris?\"},"
                               "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\","
                               "\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                               "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
                               "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"21 C\"}]");
    CHECK_CONTAINS(t, "<|im_start|>system\nBe brief.\n\n# Tools\n");
    CHECK_CONTAINS(t, "<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"");
    CHECK_CONTAINS(t, "</tools>");
    CHECK_CONTAINS(t, "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
        "\"Paris\"}}\n"
                      "</tool_call><|im_end|>");
    CHECK_CONTAINS(t, "<|im_start|>user\n<tool_response>\n21 C\n</tool_response><|im_end|>\n<|im_start|>assistant\n");
    free(t);
    t = rendered(s->tok, "[{\"role\":\"user\",\"content\":\"hi\"}]"); /* no system turn: one of its own */
    CHECK_CONTAINS(t, "<|im_start|>system\nYou are a helpful assistant.\n\n# Tools\n");
    free(t);
    gt_serve_stop(s);
}

/* One HTTP/1.0 POST; returns the status, *out the body. */
static int post(uint16_t port, const char *body, gt_buf *out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) return -1;
    gt_buf req = GT_BUF_INIT;
    gt_buf_printf(&req, "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    CHECK(write(fd, req.data, req.len) == (ssize_t)req.len);
    gt_buf_free(&req);
    gt_buf all = GT_BUF_INIT;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) gt_buf_append(&all, buf, (size_t)n);
    close(fd);
    gt_buf_putc(&all, 0);
    const char *sep = strstr((const char *)all.data, "\r\n\r\n");
    gt_buf_reset(out);
    gt_buf_append_str(out, sep ? sep + 4 : "");
    gt_buf_putc(out, 0);
    int st = all.len > 12 ? atoi((const char *)all.data + 9) : -1;
    gt_buf_free(&all);
    return st;
}

/* tool_choice "required" over HTTP, seeds 0..5: every answer is one call of
 * a tool of the request whose arguments validate. */
static void test_forced_http(void) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(QWEN);
    c.listen = "127.0.0.1:0";
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_start(&c, &s, &err) == 0, "%s", err.msg);
    if (!s) return;
    for (int seed = 0; seed < 6; seed++) {
        char body[2048];
        gt_buf out = GT_BUF_INIT;
        snprintf(body, sizeof body, "{\"model\":\"tiny-qwen2-q8_0\",\"seed\":%d,\"max_tokens\":300,\"tools\":%s,"
                 "\"tool_choice\":\"required\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}]}", seed,
                     TOOLS);
        CHECK_EQ_INT(post(gt_serve_port(s), body, &out), 200);
        json_t *j = json_loads((const char *)out.data, 0, NULL);
        const json_t *ch = json_array_get(json_object_get(j, "choices"), 0), *m = json_object_get(ch, "message");
        CHECK_STR(json_string_value(json_object_get(ch, "finish_reason")), "tool_calls");
        CHECK(json_is_null(json_object_get(m, "content")));
        const json_t *f = json_object_get(json_array_get(json_object_get(m, "tool_calls"), 0), "function");
        const char *name = json_string_value(json_object_get(f, "name"));
        json_t *args = json_loads(json_string_value(json_object_get(f, "arguments")), 0, NULL);
        CHECK_MSG(name && json_is_object(args), "seed %d: %s", seed, (const char *)out.data);
        if (name && !strcmp(name, "get_weather")) {
            const json_t *city = json_object_get(args, "city"), *days = json_object_get(args, "days");
            CHECK(json_is_string(city) && json_string_length(city) <= 16);
            CHECK(!days || json_is_integer(days));
        } else {
            CHECK_STR(name, "noop");
        }
        json_decref(args), json_decref(j);
        gt_buf_free(&out);
    }
    gt_serve_stop(s);
}

int main(void) {
    RUN(test_params);
    RUN(test_parse_back);
    RUN(test_render);
    RUN(test_forced_http);
    return gt_test_finish();
}
