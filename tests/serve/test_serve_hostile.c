/* test_serve_hostile.c: requests a careless or hostile client sends, and
 * what the server must still get right with them:
 *   - logprobs under structured output: of the raw logits, as documented
 *     (the grammar's -inf mask neither changes them nor shortens
 *     top_logprobs, whose -inf entries JSON cannot carry);
 *   - tool_choice "required" over several tools: each tool's name goes with
 *     its own arguments' schema, never another tool's;
 *   - enums with more values than the matcher's readings: every value can
 *     be generated; anyOf alternatives past them are refused, not dropped;
 *   - a chunked body over the limit: answered 413, not cut;
 *   - embeddings and prompt scoring (which hold the model) stop when their
 *     client hangs up;
 *   - a structured stream reset by its client while the server sends is
 *     taken back from the batch before the grammar it reads is freed;
 *   - a client that half-closes (shutdown(SHUT_WR) once its request is
 *     sent) still gets its whole answer, plain or streamed, HTTP/1.1 or
 *     1.0: only a closed or reset connection is a client gone;
 *   - a legacy completion's top_logprobs keeps every alternative when two
 *     render alike (pieces cut inside a UTF-8 character). */
#include <arpa/inet.h>
#include <stdio.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "base/buf.h"
#include "serve/serve_impl.h"

#define QWEN "models/tiny-qwen2-q8_0.gguf"
#define MODEL_ID "tiny-qwen2-q8_0"

/* Reads the answer on fd to its end and closes fd: the body into out
 * (NUL-ended), the status returned (-1 without one). */
static int read_answer(int fd, gt_buf *out) {
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

/* One POST of body to path; returns the status, *out the body. */
static int post(uint16_t port, const char *path, const char *body, gt_buf *out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) return -1;
    gt_buf req = GT_BUF_INIT;
    gt_buf_printf(&req, "POST %s HTTP/1.0\r\nContent-Length: %zu\r\n\r\n%s", path, strlen(body), body);
    CHECK(write(fd, req.data, req.len) == (ssize_t)req.len);
    gt_buf_free(&req);
    return read_answer(fd, out);
}

static gt_serve *start(void) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(QWEN);
    c.listen = "127.0.0.1:0";
    c.access_log = 0;
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_start(&c, &s, &err) == 0, "%s", err.msg);
    return s;
}

/* The chat answer's logprobs.content of a greedy 4-token request, with rf
 * (a response_format, or "" for none) and top_logprobs 5 (a new reference). */
static json_t *chat_logprobs(uint16_t port, const char *rf) {
    char body[1024];
    snprintf(body, sizeof body, "{\"model\":\"" MODEL_ID "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
             "\"max_tokens\":4,\"temperature\":0,\"logprobs\":true,\"top_logprobs\":5%s}", rf);
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(post(port, "/v1/chat/completions", body, &out), 200);
    json_t *j = json_loads((const char *)out.data, 0, NULL);
    json_t *lp = json_object_get(json_object_get(json_array_get(json_object_get(j, "choices"), 0), "logprobs"),
                                 "content");
    CHECK_MSG(json_array_size(lp) > 0, "no logprobs: %s", (const char *)out.data);
    json_incref(lp);
    json_decref(j), gt_buf_free(&out);
    return lp;
}

/* Structured output with logprobs: every token has its 5 alternatives, and
 * the first token's (the same logits with or without the grammar) are the
 * unconstrained request's, bit for bit. Before the fix the mask's -inf
 * made them the renormalized masked distribution, and -inf alternatives
 * were dropped from the JSON (2 of 5 for the first token on this model). */
static void test_grammar_logprobs(void) {
    gt_serve *s = start();
    if (!s) return;
    json_t *free_lp = chat_logprobs(gt_serve_port(s), "");
    json_t *con_lp = chat_logprobs(gt_serve_port(s), ",\"response_format\":{\"type\":\"json_object\"}");
    size_t i;
    const json_t *e;
    json_array_foreach(con_lp, i, e) {
        CHECK_MSG(json_array_size(json_object_get(e, "top_logprobs")) == 5, "token %zu has %zu alternatives, not 5",
                  i, json_array_size(json_object_get(e, "top_logprobs")));
    }
    char *a = json_dumps(json_object_get(json_array_get(free_lp, 0), "top_logprobs"), JSON_COMPACT);
    char *b = json_dumps(json_object_get(json_array_get(con_lp, 0), "top_logprobs"), JSON_COMPACT);
    CHECK_MSG(a && b && !strcmp(a, b), "the first token's alternatives differ under the grammar:\n  free: %s\n  json: %s",
              a, b);
    free(a), free(b);
    json_decref(free_lp), json_decref(con_lp);
    gt_serve_stop(s);
}

/* 1 when text is a whole document under g, 0 a proper prefix, -1 refused. */
static int match(const gt_grammar *g, const char *text) {
    gt_gmatch m;
    gt_grammar_start(g, &m);
    if (!gt_grammar_feed(g, &m, text, strlen(text))) return -1;
    return gt_grammar_done(&m);
}

static const char *const TOOLS =
    "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
    "\"required\":[\"city\"],\"properties\":{\"city\":{\"type\":\"string\"}}}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"noop\",\"parameters\":{\"type\":\"object\","
    "\"properties\":{}}}}]";

/* The grammar of tool_choice "required" over TOOLS: each name with its own
 * arguments only (before the fix the arguments were an anyOf of every
 * tool's, apart from the name, so noop could be called with get_weather's
 * city and get_weather without it). */
static void test_forced_tools_binding(void) {
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"model\":\"m\",\"tools\":%s,\"tool_choice\":\"required\",\"messages\":"
             "[{\"role\":\"user\",\"content\":\"hi\"}]}", TOOLS);
    json_t *body = json_loads(buf, 0, NULL);
    gt_serve_params p;
    gt_serve_error e = {0};
    CHECK(gt_serve_parse(body, GT_SERVE_CHAT, &p, &e) == 0);
    gt_grammar *g = NULL;
    CHECK_MSG(gt_serve_tools_grammar(&p, &g, &e) == 0, "%s", e.message);
    if (g) {
        CHECK_EQ_INT(match(g, "{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\"}}"), 1);
        CHECK_EQ_INT(match(g, "{\"name\":\"noop\",\"arguments\":{}}"), 1);
        CHECK_EQ_INT(match(g, "{\"name\":\"noop\",\"arguments\":{\"city\":\"Oslo\"}}"), -1);
        CHECK_EQ_INT(match(g, "{\"name\":\"get_weather\",\"arguments\":{}}"), -1);
    }
    gt_grammar_free(g);
    json_decref(body);
    /* response_format {"type":"text"} (no grammar, some clients' default) goes with a forced call. */
    snprintf(buf, sizeof buf, "{\"model\":\"m\",\"tools\":%s,\"tool_choice\":\"required\",\"response_format\":"
             "{\"type\":\"text\"},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", TOOLS);
    body = json_loads(buf, 0, NULL);
    CHECK_MSG(gt_serve_parse(body, GT_SERVE_CHAT, &p, &e) == 0, "refused: %s", e.message);
    json_decref(body);
    /* More tools than the grammar follows at once: refused up front, saying so. */
    json_t *many = json_array();
    for (int i = 0; i < GT_GRAMMAR_ALTS + 1; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        json_array_append_new(many, json_pack("{s:s,s:{s:s}}", "type", "function", "function", "name", name));
    }
    body = json_pack("{s:s,s:o,s:s,s:[{s:s,s:s}]}", "model", "m", "tools", many, "tool_choice", "required",
                     "messages", "role", "user", "content", "hi");
    CHECK(gt_serve_parse(body, GT_SERVE_CHAT, &p, &e) == 0);
    CHECK(gt_serve_tools_grammar(&p, &g, &e) != 0 && g == NULL);
    CHECK_EQ_INT(e.status, 400);
    CHECK_STR(e.param, "tool_choice");
    CHECK_CONTAINS(e.message, "at most 16 tools");
    json_decref(body);
}

/* A json_schema response_format of schema text (compiled; NULL on failure). */
static gt_grammar *compile_schema(const char *schema) {
    char rf[8192];
    snprintf(rf, sizeof rf, "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"t\",\"schema\":%s}}", schema);
    json_t *j = json_loads(rf, 0, NULL);
    gt_grammar *g = NULL;
    gt_serve_error e = {0};
    CHECK_MSG(j && gt_grammar_compile(j, &g, &e) == 0, "%s", e.message);
    json_decref(j);
    return g;
}

/* An enum of 40 values and an object of 40 optional properties, both over
 * GT_GRAMMAR_ALTS: every value and every property can be written (before
 * the fix the matcher forked a reading per value or property and dropped
 * those past the 16th: "v16".."v39" and p16..p39 were refused). Values
 * that prefix others (1, 12, 123) end or go on. */
static void test_wide_enum_and_keys(void) {
    gt_buf sc = GT_BUF_INIT;
    gt_buf_append_str(&sc, "{\"type\":\"object\",\"required\":[\"e\"],\"properties\":{\"e\":{\"enum\":[");
    for (int i = 0; i < 40; i++) gt_buf_printf(&sc, "%s\"v%d\"", i ? "," : "", i);
    gt_buf_append_str(&sc, "]},\"n\":{\"type\":\"array\",\"items\":{\"enum\":[123,1,12,12]}}");
    for (int i = 0; i < 40; i++) gt_buf_printf(&sc, ",\"p%d\":{\"type\":\"integer\"}", i);
    gt_buf_append_str(&sc, "}}");
    gt_buf_putc(&sc, 0);
    gt_grammar *g = compile_schema((const char *)sc.data);
    gt_buf_free(&sc);
    if (!g) return;
    for (int i = 0; i < 40; i++) {
        char doc[64];
        snprintf(doc, sizeof doc, "{\"e\":\"v%d\"}", i);
        CHECK_MSG(match(g, doc) == 1, "%s refused", doc);
        snprintf(doc, sizeof doc, "{\"e\":\"v0\",\"p%d\":%d}", i, i);
        CHECK_MSG(match(g, doc) == 1, "%s refused", doc);
    }
    CHECK_EQ_INT(match(g, "{\"e\":\"v40\"}"), -1);
    CHECK_EQ_INT(match(g, "{\"e\":\"v3"), 0);
    CHECK_EQ_INT(match(g, "{\"e\":\"v1\",\"n\":[1,12,123,12],\"p3\":1,\"p39\":2}"), 1);
    CHECK_EQ_INT(match(g, "{\"e\":\"v1\",\"n\":[2]}"), -1);
    CHECK_EQ_INT(match(g, "{\"e\":\"v1\",\"n\":[1234]}"), -1);
    CHECK_EQ_INT(match(g, "{\"e\":\"v1\",\"p39\":1,\"p3\":1}"), -1); /* properties in the schema's order */
    CHECK_EQ_INT(match(g, "{\"p1\":1,\"e\":\"v1\"}"), -1);            /* e is required, and first */
    CHECK_EQ_INT(match(g, "{\"e\":\"v1\",\"p\":1}"), -1);
    gt_grammar_free(g);
}

/* A property a of anyOf: n strings of at most 1 character (nested in an
 * anyOf of their own), and one of 3 or more (the request's response_format). */
static json_t *wide_anyof(int n) {
    json_t *narrow = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(narrow, json_pack("{s:s,s:i}", "type", "string", "maxLength", 1));
    json_t *a = json_pack("{s:[{s:o},{s:s,s:i}]}", "anyOf", "anyOf", narrow, "type", "string", "minLength", 3);
    json_t *schema = json_pack("{s:s,s:{s:o},s:[s]}", "type", "object", "properties", "a", a, "required", "a");
    return json_pack("{s:s,s:{s:s,s:o}}", "type", "json_schema", "json_schema", "name", "t", "schema", schema);
}

/* anyOf alternatives followed at once: up to GT_GRAMMAR_ALTS every one of
 * them can be written; past it the schema is refused, saying so (before,
 * it was accepted and the readings past the 16th dropped: with 16 narrow
 * strings and one long, "abc" was refused though the schema takes it).
 * Properties one after another do not count (their readings meet again),
 * nor alternatives that never begin alike. */
static void test_anyof_width(void) {
    json_t *rf = wide_anyof(GT_GRAMMAR_ALTS - 1);
    gt_grammar *g = NULL;
    gt_serve_error e = {0};
    CHECK_MSG(gt_grammar_compile(rf, &g, &e) == 0, "%s", e.message);
    if (g) {
        CHECK_EQ_INT(match(g, "{\"a\":\"x\"}"), 1);
        CHECK_EQ_INT(match(g, "{\"a\":\"abc\"}"), 1);
        CHECK_EQ_INT(match(g, "{\"a\":\"ab\"}"), -1);
    }
    gt_grammar_free(g), json_decref(rf);
    rf = wide_anyof(GT_GRAMMAR_ALTS);
    g = NULL;
    CHECK_MSG(gt_grammar_compile(rf, &g, &e) != 0 && g == NULL, "accepted %d+1 alternatives", GT_GRAMMAR_ALTS);
    CHECK_EQ_INT(e.status, 400);
    CHECK_STR(e.param, "response_format");
    CHECK_CONTAINS(e.message, "followed 16 at once at most");
    gt_grammar_free(g), json_decref(rf);
    /* A union of 12 variants, each with an optional field (string or null): 12 readings at most, not 24 (a
     * field's string and null never begin alike), so accepted, and every variant can be written. */
    gt_buf sc = GT_BUF_INIT;
    gt_buf_append_str(&sc, "{\"type\":\"object\",\"properties\":{\"v\":{\"anyOf\":[");
    for (int i = 0; i < 12; i++)
        gt_buf_printf(&sc, "%s{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"k%d\"},\"note\":"
                      "{\"type\":[\"string\",\"null\"]}},\"required\":[\"kind\",\"note\"]}", i ? "," : "", i);
    gt_buf_append_str(&sc, "]}},\"required\":[\"v\"]}");
    gt_buf_putc(&sc, 0);
    g = compile_schema((const char *)sc.data);
    gt_buf_reset(&sc);
    if (g) {
        CHECK_EQ_INT(match(g, "{\"v\":{\"kind\":\"k11\",\"note\":null}}"), 1);
        CHECK_EQ_INT(match(g, "{\"v\":{\"kind\":\"k0\",\"note\":\"x\"}}"), 1);
        CHECK_EQ_INT(match(g, "{\"v\":{\"kind\":\"k12\",\"note\":null}}"), -1);
    }
    gt_grammar_free(g);
    /* Eight properties of four overlapping alternatives each: 4, not 4^8. */
    gt_buf_append_str(&sc, "{\"type\":\"object\",\"properties\":{");
    for (int i = 0; i < 8; i++)
        gt_buf_printf(&sc, "%s\"p%d\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"string\",\"maxLength\":%d},"
                      "{\"type\":[\"string\",\"null\"]}]}", i ? "," : "", i, 2 + i);
    gt_buf_append_str(&sc, "}}");
    gt_buf_putc(&sc, 0);
    g = compile_schema((const char *)sc.data);
    gt_buf_free(&sc);
    if (g) {
        gt_gmatch m;
        gt_grammar_start(g, &m);
        const char *doc = "{\"p0\":\"a\",\"p1\":\"b\",\"p2\":null,\"p3\":\"d\",\"p4\":\"e\",\"p5\":\"f\",\"p6\":\"g\","
                          "\"p7\":\"h\"}";
        CHECK_EQ_INT(gt_grammar_feed(g, &m, doc, strlen(doc)), 1);
        CHECK(gt_grammar_done(&m));
    }
    gt_grammar_free(g);
}

/* Sends method path with a chunked body of n bytes (64 KiB chunks); returns
 * the status answered (-1: none, the connection was cut), *out the body. */
static int send_chunked(uint16_t port, const char *method, const char *path, size_t n, gt_buf *out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) return -1;
    gt_buf req = GT_BUF_INIT;
    gt_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                  method, path);
    static char chunk[65536];
    memset(chunk, ' ', sizeof chunk);
    for (size_t sent = 0; sent < n; sent += sizeof chunk) {
        size_t k = n - sent < sizeof chunk ? n - sent : sizeof chunk;
        gt_buf_printf(&req, "%zx\r\n", k);
        gt_buf_append(&req, chunk, k);
        gt_buf_append_str(&req, "\r\n");
    }
    gt_buf_append_str(&req, "0\r\n\r\n");
    for (size_t off = 0; off < req.len;) { /* MSG_NOSIGNAL: a server that cuts us must not kill the test */
        ssize_t w = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
    }
    gt_buf_free(&req);
    return read_answer(fd, out);
}

/* A chunked body over the 1 MiB limit (no length up front) is answered 413
 * with OpenAI's error body, as one with a Content-Length over it is (before
 * the fix the connection was cut, the client left with no answer), and a
 * chunked body on a route that takes none is answered 400. */
static void test_chunked_too_big(void) {
    gt_serve *s = start();
    if (!s) return;
    gt_buf out = GT_BUF_INIT;
    size_t over = GT_SERVE_MAX_BODY_BYTES + 200000;
    CHECK_EQ_INT(send_chunked(gt_serve_port(s), "POST", "/v1/chat/completions", over, &out), 413);
    CHECK_CONTAINS((const char *)out.data, "\"code\":\"request_too_large\"");
    CHECK_CONTAINS((const char *)out.data, "over the limit of 1048576 bytes");
    CHECK_EQ_INT(send_chunked(gt_serve_port(s), "GET", "/v1/models", 10, &out), 400);
    CHECK_CONTAINS((const char *)out.data, "takes no request body");
    /* The server still answers. */
    CHECK_EQ_INT(post(gt_serve_port(s), "/v1/completions", "{\"model\":\"" MODEL_ID "\",\"prompt\":\"a\","
                      "\"max_tokens\":1}", &out), 200);
    gt_buf_free(&out);
    gt_serve_stop(s);
}

/* /health's requests.cancelled and queue.running (the model held counts). */
static void health_counts(uint16_t port, long long *cancelled, long long *running) {
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(send_chunked(port, "GET", "/health", 0, &out), 200);
    json_t *j = json_loads((const char *)out.data, 0, NULL);
    *cancelled = json_integer_value(json_object_get(json_object_get(j, "requests"), "cancelled"));
    *running = json_integer_value(json_object_get(json_object_get(j, "queue"), "running"));
    json_decref(j), gt_buf_free(&out);
}

/* Sends body to path in HTTP/1.v and hangs up at once; then waits (polling
 * /health) until the server counts the request cancelled (1), or fails when
 * it ran to its end without (the model let go, nothing cancelled: 0). */
static int hangup_cancels(uint16_t port, int v, const char *path, const char *body) {
    long long c0, c, running;
    health_counts(port, &c0, &running);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    gt_buf req = GT_BUF_INIT;
    gt_buf_printf(&req, "POST %s HTTP/1.%d\r\nHost: localhost\r\nContent-Length: %zu\r\n\r\n%s", path, v, strlen(body),
                  body);
    CHECK(write(fd, req.data, req.len) == (ssize_t)req.len);
    gt_buf_free(&req);
    close(fd);
    int seen = 0;
    for (int waited_ms = 0; waited_ms < 60000; waited_ms += 5) {
        health_counts(port, &c, &running);
        if (c > c0) return 1;
        if (seen && running == 0) return 0; /* done, for nobody */
        seen |= running > 0;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Work that holds the model stops when its client hangs up: an
 * embeddings request of 256 inputs (51,200 tokens) and the scoring of an
 * echoed 2,000-token prompt are counted cancelled, and the model is free
 * again (before the fix both ran to their end for nobody, no generation
 * admitted meanwhile). */
static void test_held_work_hangup(void) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(QWEN);
    c.listen = "127.0.0.1:0";
    c.access_log = 0;
    c.n_ctx = 2048;
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_start(&c, &s, &err) == 0, "%s", err.msg);
    if (!s) return;
    gt_buf b = GT_BUF_INIT;
    gt_buf_append_str(&b, "{\"model\":\"" MODEL_ID "\",\"input\":[");
    for (int i = 0; i < 256; i++) {
        gt_buf_append_str(&b, i ? ",[" : "[");
        for (int t = 0; t < 200; t++) gt_buf_printf(&b, "%s%d", t ? "," : "", 100 + (i * 7 + t) % 1000);
        gt_buf_append_str(&b, "]");
    }
    gt_buf_append_str(&b, "]}");
    gt_buf_putc(&b, 0);
    CHECK_MSG(hangup_cancels(gt_serve_port(s), 1, "/v1/embeddings", (const char *)b.data),
              "the embeddings ran to their end after their client left");
    gt_buf_reset(&b);
    gt_buf_append_str(&b, "{\"model\":\"" MODEL_ID "\",\"echo\":true,\"max_tokens\":0,\"logprobs\":5,\"prompt\":[");
    for (int t = 0; t < 2000; t++) gt_buf_printf(&b, "%s%d", t ? "," : "", 100 + t % 1000);
    gt_buf_append_str(&b, "]}");
    gt_buf_putc(&b, 0);
    CHECK_MSG(hangup_cancels(gt_serve_port(s), 1, "/v1/completions", (const char *)b.data),
              "the scoring ran to its end after its client left");
    gt_buf_free(&b);
    gt_buf out = GT_BUF_INIT; /* the model is free: a generation runs */
    CHECK_EQ_INT(post(gt_serve_port(s), "/v1/completions", "{\"model\":\"" MODEL_ID "\",\"prompt\":\"a\","
                      "\"max_tokens\":1}", &out), 200);
    gt_buf_free(&out);
    gt_serve_stop(s);
}

/* A client of one structured stream that stops reading once it has begun,
 * lets the server's send fill its buffers, then resets the connection. */
static void *structured_reset(void *arg) {
    const int *k = arg; /* k[0] the port, k[1] this client's index (its reset comes that many 23-ms later) */
    uint16_t port = (uint16_t)k[0];
    const char *body = "{\"model\":\"" MODEL_ID "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                       "\"stream\":true,\"logprobs\":true,\"top_logprobs\":20,\"response_format\":{\"type\":"
                       "\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"object\","
                       "\"properties\":{\"s\":{\"type\":\"string\","
                       "\"minLength\":4096}},\"required\":[\"s\"]}}}}";
    int fd = socket(AF_INET, SOCK_STREAM, 0), small = 2048;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) return NULL;
    char req[1024], buf[512];
    snprintf(req, sizeof req, "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    CHECK(read(fd, buf, sizeof buf) > 0); /* the stream has begun */
    struct timespec ts = {2, (long)k[1] * 23 * 1000 * 1000};
    nanosleep(&ts, NULL); /* not reading: the server's send waits, the job goes on */
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd); /* a reset: the server's send fails, MHD frees the stream */
    return NULL;
}

/* Structured streams whose clients reset the connection while the server
 * waits to send (not while it waits for a token, where it sees the client
 * gone and takes the job back first): MHD frees each request with its job
 * still in the batch, which must be taken back before the grammar it
 * borrows is freed. Before the fix the grammar went first, and a step
 * under way in the batcher read it freed (heap-use-after-free under ASan).
 * The lag limit is set out of reach, so the streams keep generating. */
static void test_reset_structured_streams(void) {
    enum { N = 4 };
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(QWEN);
    c.listen = "127.0.0.1:0";
    c.access_log = 0;
    c.n_ctx = 2048;
    c.n_parallel = N;
    c.stream_lag_tokens = GT_SERVE_MAX_STREAM_LAG;
    c.stream_sndbuf_bytes = 4096;
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_start(&c, &s, &err) == 0, "%s", err.msg);
    if (!s) return;
    uint16_t port = gt_serve_port(s);
    pthread_t th[N];
    int arg[N][2];
    for (int i = 0; i < N; i++) {
        arg[i][0] = port, arg[i][1] = i;
        CHECK(pthread_create(&th[i], NULL, structured_reset, arg[i]) == 0);
    }
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    long long cancelled, running;
    for (int waited_ms = 0; waited_ms < 30000; waited_ms += 10) { /* each freed, its job taken back */
        health_counts(port, &cancelled, &running);
        if (running == 0) break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ_INT(running, 0);
    gt_serve_stop(s);
}

/* Sends body to path in HTTP/1.v, then shuts its write side (as some
 * clients do once the request is out), and reads the answer to its end:
 * the status, *out the body (past any interim 100). */
static int post_half_closed(uint16_t port, int v, const char *path, const char *body, gt_buf *out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) return -1;
    gt_buf req = GT_BUF_INIT;
    gt_buf_printf(&req, "POST %s HTTP/1.%d\r\nHost: localhost\r\nContent-Length: %zu\r\n\r\n%s", path, v, strlen(body), body);
    CHECK(write(fd, req.data, req.len) == (ssize_t)req.len);
    gt_buf_free(&req);
    CHECK(shutdown(fd, SHUT_WR) == 0);
    int st = read_answer(fd, out);
    /* An interim 100 (Continue) may come first (serve.c: how a half-close is told from a close): the final
     * status follows it. */
    while (st == 100) {
        const char *next = strstr((const char *)out->data, "HTTP/1.");
        st = next && strlen(next) > 12 ? atoi(next + 9) : -1;
        const char *sep = next ? strstr(next, "\r\n\r\n") : NULL;
        gt_buf body2 = GT_BUF_INIT;
        gt_buf_append_str(&body2, sep ? sep + 4 : "");
        gt_buf_putc(&body2, 0);
        gt_buf_free(out);
        *out = body2;
    }
    return st;
}

/* A client that half-closes its connection once the request is sent gets
 * its whole answer over HTTP/1.1: a chat answer of 24 tokens, a stream of
 * 24 to its [DONE], an embedding. Before the fix an EOF read was taken for
 * a hang-up: the request was cancelled and nothing came back (499, or the
 * connection closed). An HTTP/1.0 client cannot be sent the interim 100
 * that tells a half-close from a close, so its EOF before its answer began
 * is a hang-up: the two generations are answered 499, the embedding 499 or,
 * when its one pass is done before the EOF is seen, 200 (test_http10_hangup). */
static void test_half_close_answered(void) {
    gt_serve *s = start();
    if (!s) return;
    uint16_t port = gt_serve_port(s);
    const char *chat = "{\"model\":\"" MODEL_ID "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                       "\"max_tokens\":24,\"temperature\":0,\"stop\":[\"qqqqqqqq\"]}";
    const char *stream = "{\"model\":\"" MODEL_ID "\",\"prompt\":\"Go\",\"max_tokens\":24,\"temperature\":0,"
                         "\"stream\":true,\"stop\":[\"qqqqqqqq\"]}";
    const char *embed = "{\"model\":\"" MODEL_ID "\",\"input\":\"hello there\"}";
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(post_half_closed(port, 1, "/v1/chat/completions", chat, &out), 200);
    json_t *j = json_loads((const char *)out.data, 0, NULL);
    CHECK_MSG(j != NULL, "not JSON: %.200s", (const char *)out.data);
    CHECK_EQ_INT((int)json_integer_value(json_object_get(json_object_get(j, "usage"), "completion_tokens")), 24);
    json_decref(j);
    CHECK_EQ_INT(post_half_closed(port, 1, "/v1/completions", stream, &out), 200);
    CHECK_CONTAINS((const char *)out.data, "data: [DONE]");
    CHECK_CONTAINS((const char *)out.data, "\"finish_reason\":\"length\"");
    CHECK_EQ_INT(post_half_closed(port, 1, "/v1/embeddings", embed, &out), 200);
    CHECK_CONTAINS((const char *)out.data, "\"embedding\"");
    long long cancelled, running;
    health_counts(port, &cancelled, &running);
    CHECK_EQ_INT((int)cancelled, 0);
    CHECK_EQ_INT(post_half_closed(port, 0, "/v1/chat/completions", chat, &out), 499);
    CHECK_EQ_INT(post_half_closed(port, 0, "/v1/completions", stream, &out), 499);
    /* An embedding is one forward pass, which may be done before the server's first look at the socket
     * (between steps, every 20 ms): then it is answered, which the half-closed client can still read (499 in
     * the helper's runs and a fresh clone's; 200 once, in session 56's last fresh clone's make test). Either
     * way no generation ran on for nobody. */
    int st = post_half_closed(port, 0, "/v1/embeddings", embed, &out);
    CHECK_MSG(st == 499 || (st == 200 && strstr((const char *)out.data, "\"embedding\"")), "embeddings: %d %.200s",
              st, (const char *)out.data);
    gt_buf_free(&out);
    gt_serve_stop(s);
}

/* An HTTP/1.0 client that closes its connection while its whole (not
 * streamed) answer is made stops its generation: counted cancelled. Before
 * the fix its EOF was taken for a half-close (no interim 100 can ask an
 * HTTP/1.0 client), so the generation ran to max_tokens for nobody. */
static void test_http10_hangup(void) {
    gt_serve *s = start();
    if (!s) return;
    const char *chat = "{\"model\":\"" MODEL_ID "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                       "\"max_tokens\":400,\"temperature\":0,\"stop\":[\"qqqqqqqq\"]}";
    CHECK_MSG(hangup_cancels(gt_serve_port(s), 0, "/v1/chat/completions", chat),
              "an HTTP/1.0 client's close did not cancel its generation");
    gt_serve_stop(s);
}

/* Two tokens of tiny-qwen2's byte-level vocabulary that are lone bytes
 * 0xE2 and 0xE3 (each cut inside a character, so each reads U+FFFD as text). */
static void lone_bytes(const gt_serve *s, int32_t *e2, int32_t *e3) {
    *e2 = gt_tokenizer_find(s->tok, "\xc3\xa2", 2); /* GPT-2's byte-to-text map: 0xE2 is written U+00E2 */
    *e3 = gt_tokenizer_find(s->tok, "\xc3\xa3", 2);
    size_t n = 0;
    const char *p = *e2 >= 0 ? gt_token_to_piece(s->tok, *e2, 1, &n) : NULL;
    CHECK(p && n == 1 && (unsigned char)p[0] == 0xE2);
    p = *e3 >= 0 ? gt_token_to_piece(s->tok, *e3, 1, &n) : NULL;
    CHECK(p && n == 1 && (unsigned char)p[0] == 0xE3);
}

/* A legacy completion's top_logprobs loses no alternative to another that
 * renders alike: pieces cut inside a UTF-8 character are keyed (and listed
 * in tokens) as OpenAI does, "bytes:\xNN", and a token with the same bytes
 * as a better one gets "KEY (token ID)". Before the fix both lone bytes
 * were keyed U+FFFD and one of them was lost (tokens read U+FFFD too). */
static void test_top_logprobs_distinct(void) {
    gt_serve *s = start();
    if (!s) return;
    int32_t e2, e3;
    lone_bytes(s, &e2, &e3);
    int32_t ids[3] = {e2, e3, e2};
    double lps[3] = {-1.0, -2.0, -3.0};
    json_t *top = gt_serve_legacy_top(s->tok, ids, lps, 3);
    CHECK_EQ_INT((int)json_object_size(top), 3);
    CHECK(json_real_value(json_object_get(top, "bytes:\\xe2")) == -1.0);
    CHECK(json_real_value(json_object_get(top, "bytes:\\xe3")) == -2.0);
    char again[64];
    snprintf(again, sizeof again, "bytes:\\xe2 (token %d)", (int)e2);
    CHECK(json_real_value(json_object_get(top, again)) == -3.0);
    json_decref(top);
    /* Through HTTP: an echoed prompt of the two lone bytes, their tokens as OpenAI writes them, every
     * position's 5 alternatives all there. */
    char body[256];
    snprintf(body, sizeof body, "{\"model\":\"" MODEL_ID "\",\"echo\":true,\"max_tokens\":0,\"logprobs\":5,"
             "\"prompt\":[%d,%d,%d,%d]}", (int)e2, (int)e3, (int)e2, (int)e3);
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(post(gt_serve_port(s), "/v1/completions", body, &out), 200);
    json_t *j = json_loads((const char *)out.data, 0, NULL);
    const json_t *lp = json_object_get(json_array_get(json_object_get(j, "choices"), 0), "logprobs");
    const json_t *tokens = json_object_get(lp, "tokens"), *tops = json_object_get(lp, "top_logprobs");
    CHECK_STR(json_string_value(json_array_get(tokens, 0)), "bytes:\\xe2");
    CHECK_STR(json_string_value(json_array_get(tokens, 1)), "bytes:\\xe3");
    for (size_t i = 1; i < 4; i++) CHECK_EQ_INT((int)json_object_size(json_array_get(tops, i)), 5);
    json_decref(j);
    gt_buf_free(&out);
    /* Generated: sampled runs over CJK text until a position's 5 alternatives hold two lone bytes (seed 3
     * here, the 12th token; before the fix that position had 4), every position keeping its 5. */
    int alike = 0;
    for (int seed = 0; seed < 32 && !alike; seed++) {
        snprintf(body, sizeof body, "{\"model\":\"" MODEL_ID "\",\"prompt\":\"\u4f60\u597d\u4e16\u754c\uff0c"
                 "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\",\"max_tokens\":40,\"logprobs\":5,\"seed\":%d}",
                 seed);
        CHECK_EQ_INT(post(gt_serve_port(s), "/v1/completions", body, &out), 200);
        j = json_loads((const char *)out.data, 0, NULL);
        tops = json_object_get(json_object_get(json_array_get(json_object_get(j, "choices"), 0), "logprobs"),
                               "top_logprobs");
        for (size_t i = 0; i < json_array_size(tops); i++) {
            const json_t *t = json_array_get(tops, i);
            CHECK_EQ_INT((int)json_object_size(t), 5);
            const char *key;
            const json_t *v;
            int bytes = 0;
            json_object_foreach((json_t *)t, key, v) bytes += !strncmp(key, "bytes:", 6);
            alike |= bytes >= 2;
        }
        json_decref(j);
    }
    CHECK_MSG(alike, "no position had two lone bytes among its top 5 in 32 sampled runs: nothing tested here");
    gt_buf_free(&out);
    gt_serve_stop(s);
}

/* The answer prefix {"a":[[[... holding `levels` containers (the object
 * and levels - 1 arrays), then `tail`, matched by g under json_object. */
static int nested(const gt_grammar *g, int levels, const char *tail) {
    gt_buf b = GT_BUF_INIT;
    gt_buf_append_str(&b, "{\"a\":");
    for (int i = 1; i < levels; i++) gt_buf_putc(&b, '[');
    gt_buf_append_str(&b, tail);
    gt_buf_putc(&b, 0);
    int r = match(g, (const char *)b.data);
    gt_buf_free(&b);
    return r;
}

/* json_object output nests 63 levels of containers holding values; at the
 * 64th a container opens but can only close at once, so a reading never
 * dead-ends (every mask leaves a way on). Before, the matcher's stack of 24
 * frames held values 23 levels deep only: an answer nesting deeper could not
 * be generated, and nothing said so. */
static void test_json_object_depth(void) {
    json_t *rf = json_loads("{\"type\":\"json_object\"}", 0, NULL);
    gt_grammar *g = NULL;
    gt_serve_error e;
    CHECK_MSG(gt_grammar_compile(rf, &g, &e) == 0, "%s", e.message);
    json_decref(rf);
    if (!g) return;
    gt_buf whole = GT_BUF_INIT;
    for (int i = 1; i < 63; i++) gt_buf_putc(&whole, ']');
    gt_buf_append_str(&whole, "}");
    gt_buf_putc(&whole, 0);
    char tail[160];
    snprintf(tail, sizeof tail, "1%s", (const char *)whole.data);
    CHECK_EQ_INT(nested(g, 63, tail), 1);                 /* 63 levels, the last holding a value */
    CHECK_EQ_INT(nested(g, 62, "{\"k\":null}"), 0);       /* an object at the 63rd level holds values too */
    CHECK_EQ_INT(nested(g, 64, ""), 0);                   /* a 64th level opens */
    CHECK_EQ_INT(nested(g, 64, "1"), -1);                 /* but holds nothing */
    CHECK_EQ_INT(nested(g, 64, "]"), 0);                  /* and closes */
    CHECK_EQ_INT(nested(g, 63, "{\"k\""), -1);            /* an object there holds no key */
    CHECK_EQ_INT(nested(g, 63, "{}"), 0);
    gt_buf_free(&whole);
    gt_grammar_free(g);
}

int main(void) {
    RUN(test_top_logprobs_distinct);
    RUN(test_half_close_answered);
    RUN(test_http10_hangup);
    RUN(test_reset_structured_streams);
    RUN(test_held_work_hangup);
    RUN(test_chunked_too_big);
    RUN(test_wide_enum_and_keys);
    RUN(test_anyof_width);
    RUN(test_forced_tools_binding);
    RUN(test_grammar_logprobs);
    RUN(test_json_object_depth);
    return gt_test_finish();
}
