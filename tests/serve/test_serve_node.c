/* test_serve_node.c: the OpenAI routes on a node's port (`gotong node -m`):
 * the node started with serve's extension (api/ext.h, gt_serve_ext) answers
 * them with the bytes `gotong serve`'s own port gives, next to the market
 * API; its own routes win (/health is the node's, with the model's queue
 * inside); its limits hold before the model sees a request (a connection
 * over the per-address limit is told 429 by the node); /metrics counts the
 * OpenAI routes by pattern; a node in thread-pool mode refuses the
 * extension (its handlers block). The npm client's run against a node is in
 * openai_client.mjs. */
#include <signal.h>

#include <jansson.h>

#include "../test.h"
#include "../api/api_util.h"
#include "api/ext.h"
#include "serve/serve.h"

#define MODEL "models/tiny-llama-q8_0.gguf"

static const char *const CHAT =
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":12,\"seed\":7,"
    "\"temperature\":0.8}";
static const char *const COMPLETION =
    "{\"model\":\"m\",\"prompt\":\"Once upon a time\",\"max_tokens\":10,\"temperature\":0,\"logprobs\":2}";

/* The model's server without a port of its own. */
static gt_serve *open_model(void) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(MODEL);
    c.model_id = "m";
    c.n_parallel = 2;
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_open(&c, &s, &err) == 0, "%s", err.msg);
    return s;
}

/* A node over home with the model's routes; threads as given. */
static int start_node(const char *home, gt_serve *s, unsigned threads, unsigned per_ip, gt_node **out, gt_err *err) {
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = home;
    c.listen = "127.0.0.1:0";
    c.threads = threads;
    c.block_interval_ms = 0;
    c.access_log = 0;
    if (per_ip) c.max_connections_per_ip = per_ip;
    c.ext = gt_serve_ext(s);
    return gt_node_start(&c, out, err);
}

/* The JSON's "choices" and "usage", as compact text (what must be equal). */
static char *answer_of(const char *body) {
    json_t *j = json_loads(body, 0, NULL), *k = json_pack("{s:O?,s:O?}", "choices", json_object_get(j, "choices"),
                                                          "usage", json_object_get(j, "usage"));
    char *t = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j), json_decref(k);
    return t;
}

/* The same request on the node's port and on `gotong serve`'s: same bytes. */
static void check_same(CURL *c, uint16_t node_port, uint16_t serve_port, const char *path, const char *body) {
    thttp a, b;
    CHECK_EQ_INT((int)tpost(c, node_port, path, body, &a), 200);
    CHECK_EQ_INT((int)tpost(c, serve_port, path, body, &b), 200);
    char *x = answer_of(a.body), *y = answer_of(b.body);
    CHECK_MSG(x && y && !strcmp(x, y), "%s: node %s, serve %s", path, x ? x : "?", y ? y : "?");
    CHECK(x && strstr(x, "\"completion_tokens\""));
    /* Both marked for browsers: not sniffed into a page, nor run or framed as one of the server's origin. */
    CHECK_MSG(!strcmp(a.nosniff, "nosniff") && a.n_csp == 1 && strstr(a.csp, "sandbox"), "node: %d \"%s\"", a.n_csp,
              a.csp);
    CHECK_MSG(!strcmp(b.nosniff, "nosniff") && b.n_csp == 1 && strstr(b.csp, "sandbox"), "serve: %d \"%s\"", b.n_csp,
              b.csp);
    free(x), free(y);
    thttp_free(&a), thttp_free(&b);
}

/* /health is the node's, with the model's state under "model"; /metrics
 * counts the OpenAI routes; the market API answers beside them. */
static void check_node_routes(CURL *c, uint16_t port) {
    thttp h;
    CHECK_EQ_INT((int)tget(c, port, "/health", &h), 200);
    json_t *j = json_loads(h.body, 0, NULL);
    CHECK(json_integer_value(json_object_get(j, "chainId")) == TCHAIN_ID);
    json_t *m = json_object_get(j, "model");
    CHECK_STR(json_string_value(json_object_get(m, "model")), "m");
    CHECK_EQ_INT((int)json_integer_value(json_object_get(json_object_get(m, "queue"), "slots")), 2);
    json_decref(j), thttp_free(&h);
    CHECK_EQ_INT((int)tget(c, port, "/v1/head", &h), 200);
    CHECK_CONTAINS(h.body, "\"stateRoot\"");
    thttp_free(&h);
    CHECK_EQ_INT((int)tget(c, port, "/v1/models", &h), 200);
    CHECK_CONTAINS(h.body, "\"sha256\":\"sha256:");
    thttp_free(&h);
    /* A wrong method on an OpenAI path: 405 in OpenAI's error shape. */
    int rc = treq(c, port, "DELETE", "/v1/chat/completions", NULL, 0, &h);
    CHECK_MSG(rc == 0 && h.status == 405, "curl %d (%s), status %ld", rc, curl_easy_strerror(rc), h.status);
    CHECK_CONTAINS(h.body, "\"method_not_allowed\"");
    thttp_free(&h);
    /* Another site's page cannot spend the node's model through a visitor's browser. */
    treq_hdr(c, port, "POST", "/v1/completions", COMPLETION, strlen(COMPLETION), "Origin: http://evil.example", &h);
    CHECK_EQ_INT((int)h.status, 403);
    CHECK_CONTAINS(h.body, "cross-origin POST refused");
    thttp_free(&h);
    CHECK_EQ_INT((int)tget(c, port, "/metrics", &h), 200);
    CHECK_CONTAINS(h.body, "route=\"/v1/chat/completions\",status=\"200\"} 1");
    CHECK_CONTAINS(h.body, "route=\"/v1/completions\",status=\"200\"} 1");
    CHECK_CONTAINS(h.body, "route=\"/v1/models\",status=\"200\"} 1");
    thttp_free(&h);
}

/* With one connection allowed per address, a second open connection's
 * OpenAI request is refused by the node (429) before the model sees it. */
static void check_limits(uint16_t port) {
    int held = tconnect(port), fd = tconnect(port);
    CHECK(held >= 0 && fd >= 0);
    const char req[] = "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                       "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
    CHECK(fd >= 0 && write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1));
    char buf[2048];
    size_t len = 0;
    tread_until(fd, buf, sizeof buf, &len, "\r\n\r\n", 20000, NULL);
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 429", 12), "got: %.60s", buf);
    if (held >= 0) close(held);
    if (fd >= 0) close(fd);
}

static void test_node_ext(void) {
    char home[64];
    thome(home);
    gt_serve *s = open_model(), *direct = NULL;
    if (!s) return;
    gt_err err = {0};
    gt_node *n = NULL;
    /* A thread pool would block on the model's requests: refused. */
    CHECK_EQ_INT(start_node(home, s, 4, 0, &n, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "--threads 0");
    CHECK(start_node(home, s, 0, 0, &n, &err) == 0);
    gt_serve_config dc = gt_serve_defaults();
    dc.model_path = gt_fixture(MODEL), dc.model_id = "m", dc.listen = "127.0.0.1:0", dc.n_parallel = 2;
    CHECK_MSG(gt_serve_start(&dc, &direct, &err) == 0, "%s", err.msg);
    CURL *c = curl_easy_init();
    if (n && direct) {
        check_same(c, gt_node_port(n), gt_serve_port(direct), "/v1/chat/completions", CHAT);
        check_same(c, gt_node_port(n), gt_serve_port(direct), "/v1/completions", COMPLETION);
        check_node_routes(c, gt_node_port(n));
    }
    gt_node_stop(n);
    n = NULL;
    CHECK(start_node(home, s, 0, 1, &n, &err) == 0);
    if (n) check_limits(gt_node_port(n));
    gt_node_stop(n);
    curl_easy_cleanup(c);
    gt_serve_stop(direct);
    gt_serve_stop(s);
    trm(home);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_node_ext);
    curl_global_cleanup();
    return gt_test_finish();
}
