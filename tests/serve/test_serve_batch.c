/* test_serve_batch.c: continuous batching and the prefix cache keep every
 * answer's bytes.
 *
 * Engine: tokens of several sequences mixed in one gt_ctx_eval_batch get
 * the logits they get evaluated alone, bit for bit, and a prefix copied
 * between sequences continues as if evaluated there.
 *
 * Server (the headline test): 32 different requests (completions
 * and chat, prompt lengths, seeds, temperatures, top_p/top_k/min_p,
 * streamed or not, logprobs, structured output) sent alone, one by one, to
 * a server that batches nothing and caches no prefix, give the same bytes
 * (choices and usage; a stream's events without id and created) as all 32
 * sent at once to a server running 8 at a time with the prefix cache, as
 * again in shuffled order, and as each sent alone again (every prompt then
 * a full prefix-cache hit). /health shows the batches and the hits really
 * happened. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../test.h"
#include "base/buf.h"
#include "infer/model.h"
#include "serve/serve_impl.h"

#define QWEN "models/tiny-qwen2-q8_0.gguf"
#define LLAMA "models/tiny-llama-q8_0.gguf"
#define N_REQ 32

/* ---- engine ----------------------------------------------------------- */

/* Logits of the last of tokens[0..n), evaluated alone on a fresh context. */
static float *alone_logits(gt_model *m, const int32_t *tokens, int n) {
    gt_ctx_params cp = {.n_ctx = 64, .n_threads = 1};
    gt_ctx *c = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_ctx_new(m, &cp, &c, &err) == 0, "%s", err.msg);
    int V = gt_model_hparams(m)->n_vocab;
    float *l = calloc((size_t)V, sizeof(float));
    CHECK_MSG(gt_ctx_eval(c, tokens, n, 0, l, GT_EVAL_LAST, &err) == 0, "%s", err.msg);
    gt_ctx_free(c);
    return l;
}

/* Three sequences (prompts of 5, 9 and 2 tokens) prefilled in one mixed
 * batch, then decoded together one token each: every logits row equals the
 * one of the same tokens evaluated alone; a copied prefix continues alike;
 * a bad item changes nothing. */
static void engine_mixed(const char *model) {
    gt_model *m = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_model_load(gt_fixture(model), &m, &err) == 0, "%s", err.msg);
    if (!m) return;
    int V = gt_model_hparams(m)->n_vocab;
    gt_ctx_params cp = {.n_ctx = 64, .n_threads = 3, .n_seq = 4};
    gt_ctx *c = NULL;
    CHECK_MSG(gt_ctx_new(m, &cp, &c, &err) == 0, "%s", err.msg);
    static const int32_t seqs[3][10] = {{5, 9, 13, 2, 7, 30}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 40}, {17, 3, 50}};
    static const int lens[3] = {5, 9, 2};
    gt_ctx_item it[32];
    int n = 0;
    for (int s = 0; s < 3; s++)
        for (int p = 0; p < lens[s]; p++)
            it[n++] = (gt_ctx_item){.token = seqs[s][p], .seq = s, .pos = p, .logits = p == lens[s] - 1};
    float *got = calloc((size_t)4 * V, sizeof(float));
    CHECK_MSG(gt_ctx_eval_batch(c, it, n, got, &err) == 0, "%s", err.msg);
    for (int s = 0; s < 3; s++) {
        float *want = alone_logits(m, seqs[s], lens[s]);
        CHECK_MSG(!memcmp(got + (size_t)s * V, want, (size_t)V * sizeof(float)), "%s: sequence %d prefill differs", model, s);
        free(want);
    }
    /* Decode: one token each, in reverse order of sequences, plus a copy. */
    CHECK(gt_ctx_seq_copy(c, 3, 1, 4, &err) == 0);
    CHECK_EQ_INT(gt_ctx_seq_n_past(c, 3), 4);
    n = 0;
    for (int s = 2; s >= 0; s--) it[n++] = (gt_ctx_item){.token = seqs[s][lens[s]], .seq = s, .pos = lens[s], .logits = 1};
    it[n++] = (gt_ctx_item){.token = 77, .seq = 3, .pos = 4, .logits = 1};
    CHECK_MSG(gt_ctx_eval_batch(c, it, n, got, &err) == 0, "%s", err.msg);
    for (int k = 0; k < 3; k++) {
        int s = 2 - k;
        float *want = alone_logits(m, seqs[s], lens[s] + 1);
        CHECK_MSG(!memcmp(got + (size_t)k * V, want, (size_t)V * sizeof(float)), "%s: sequence %d decode differs", model, s);
        free(want);
    }
    int32_t copied[5] = {1, 2, 3, 4, 77};
    float *want = alone_logits(m, copied, 5);
    CHECK_MSG(!memcmp(got + (size_t)3 * V, want, (size_t)V * sizeof(float)), "%s: copied prefix differs", model);
    free(want);
    /* Refusals leave the sequences as they were. */
    gt_ctx_item bad[2] = {{.token = 1, .seq = 0, .pos = 6, .logits = 1}, {.token = 2, .seq = 1, .pos = 99}};
    CHECK(gt_ctx_eval_batch(c, bad, 2, got, &err) != 0);
    CHECK_EQ_INT(gt_ctx_seq_n_past(c, 0), 6);
    bad[1] = (gt_ctx_item){.token = 2, .seq = 1, .pos = 12};
    CHECK(gt_ctx_eval_batch(c, bad, 2, got, &err) != 0); /* past what sequence 1 holds */
    bad[1] = (gt_ctx_item){.token = V, .seq = 1, .pos = 10};
    CHECK(gt_ctx_eval_batch(c, bad, 2, got, &err) != 0);
    bad[1] = (gt_ctx_item){.token = 2, .seq = 4, .pos = 0};
    CHECK(gt_ctx_eval_batch(c, bad, 2, got, &err) != 0);
    CHECK_EQ_INT(gt_ctx_seq_n_past(c, 1), 10);
    CHECK(gt_ctx_seq_copy(c, 0, 1, 11, &err) != 0); /* more than sequence 1 holds */
    free(got);
    gt_ctx_free(c);
    gt_model_free(m);
}

static void test_engine_batch(void) {
    engine_mixed(QWEN);
    engine_mixed(LLAMA);
}

/* ---- server ----------------------------------------------------------- */

/* One HTTP/1.0 exchange; returns the status, *out the body. */
static int http_post(uint16_t port, const char *path, const char *body, gt_buf *out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) return -1;
    gt_buf req = GT_BUF_INIT;
    if (body)
        gt_buf_printf(&req, "POST %s HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                      path, strlen(body), body);
    else
        gt_buf_printf(&req, "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
    for (size_t off = 0; off < req.len;) {
        ssize_t n = write(fd, req.data + off, req.len - off);
        if (n <= 0) break;
        off += (size_t)n;
    }
    gt_buf_free(&req);
    gt_buf all = GT_BUF_INIT;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) gt_buf_append(&all, buf, (size_t)n);
    close(fd);
    gt_buf_putc(&all, 0);
    int status = all.len > 12 ? atoi((const char *)all.data + 9) : -1;
    const char *sep = strstr((const char *)all.data, "\r\n\r\n");
    gt_buf_reset(out);
    gt_buf_append_str(out, sep ? sep + 4 : "");
    gt_buf_putc(out, 0);
    gt_buf_free(&all);
    return status;
}

/* A JSON answer or SSE body without what varies per request (id, created):
 * sorted compact JSON of choices and usage, or of every event in order. */
static char *canonical(const char *body) {
    gt_buf out = GT_BUF_INIT;
    if (strncmp(body, "data: ", 6)) {
        json_t *j = json_loads(body, 0, NULL), *keep = json_object();
        CHECK_MSG(j != NULL, "not JSON: %.200s", body);
        json_object_set(keep, "choices", json_object_get(j, "choices"));
        json_object_set(keep, "usage", json_object_get(j, "usage"));
        char *s = json_dumps(keep, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(keep), json_decref(j);
        return s;
    }
    for (const char *p = body; (p = strstr(p, "data: ")); ) {
        p += 6;
        const char *end = strstr(p, "\n\n");
        CHECK(end != NULL);
        if (!end) break;
        json_t *j = json_loadb(p, (size_t)(end - p), 0, NULL);
        if (j) {
            json_object_del(j, "id"), json_object_del(j, "created");
            char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
            gt_buf_append_str(&out, s);
            free(s);
            json_decref(j);
        } else {
            gt_buf_append(&out, p, (size_t)(end - p));
        }
        gt_buf_append_str(&out, "\n");
        p = end;
    }
    gt_buf_putc(&out, 0);
    return (char *)out.data;
}

typedef struct req {
    uint16_t port;
    const char *path;
    char body[1024];
    char *answer;
} req;

/* Request i of the 32: prompts that share prefixes (a system text, a
 * preamble) at different lengths, and every sampling setting. */
static void make_request(int i, req *q) {
    static const float temps[] = {0.0f, 0.7f, 1.0f, 1.3f};
    static const char *const words[] = {"river", "stone", "lamp", "orchard", "signal", "copper", "meadow"};
    char tail[256] = "";
    for (int k = 0; k <= i % 7; k++) {
        strcat(tail, " ");
        strcat(tail, words[(i + k) % 7]);
    }
    int chat = i % 3 == 0, stream = i % 4 == 1, json_out = chat && i % 6 == 0;
    char sampling[256];
    snprintf(sampling, sizeof sampling,
             "\"max_tokens\":%d,\"seed\":%d,\"temperature\":%.1f,\"top_p\":%s,\"top_k\":%d,\"min_p\":%s%s%s", 3 + (i * 7) % 17,
             1000 + i, (double)temps[i % 4], i % 5 == 0 ? "0.9" : "1", i % 2 ? 40 : 0, i % 7 == 3 ? "0.05" : "0",
             stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "",
             i % 8 == 2 ? (chat ? ",\"logprobs\":true,\"top_logprobs\":2" : ",\"logprobs\":2") : "");
    if (chat) {
        q->path = "/v1/chat/completions";
        snprintf(q->body, sizeof q->body,
                 "{\"model\":\"tiny-qwen2-q8_0\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a careful "
                 "assistant who answers in one line.\"},{\"role\":\"user\",\"content\":\"Describe%s.\"}],%s%s}",
                 tail, sampling,
                 json_out ? ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":"
                            "{\"type\":\"object\",\"properties\":{\"word\":{\"type\":\"string\",\"maxLength\":6}},"
                            "\"required\":[\"word\"]}}}" : "");
    } else {
        q->path = "/v1/completions";
        snprintf(q->body, sizeof q->body,
                 "{\"model\":\"tiny-qwen2-q8_0\",\"prompt\":\"Once upon a time in a valley there was a%s\",%s}", tail,
                 sampling);
    }
}

static void *send_one(void *arg) {
    req *q = arg;
    gt_buf out = GT_BUF_INIT;
    int st = http_post(q->port, q->path, q->body, &out);
    CHECK_MSG(st == 200, "status %d: %s", st, (const char *)out.data);
    q->answer = canonical(out.data ? (const char *)out.data : "");
    gt_buf_free(&out);
    return NULL;
}

static gt_serve *start(int parallel, int threads, int no_prefix_cache) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(QWEN);
    c.listen = "127.0.0.1:0";
    c.n_threads = threads;
    c.n_parallel = parallel;
    c.max_queue = 64;
    c.no_prefix_cache = no_prefix_cache;
    c.access_log = 0;
    gt_err err = {0};
    gt_serve *s = NULL;
    CHECK_MSG(gt_serve_start(&c, &s, &err) == 0, "%s", err.msg);
    return s;
}

/* Sends the requests listed in order[] all at once (one thread each). */
static void send_all(uint16_t port, req *q, const int *order) {
    pthread_t th[N_REQ];
    for (int k = 0; k < N_REQ; k++) {
        q[order[k]].port = port;
        CHECK(pthread_create(&th[k], NULL, send_one, &q[order[k]]) == 0);
    }
    for (int k = 0; k < N_REQ; k++) pthread_join(th[k], NULL);
}

static long long health(uint16_t port, const char *group, const char *field) {
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(http_post(port, "/health", NULL, &out), 200);
    json_t *j = json_loads((const char *)out.data, 0, NULL);
    long long v = json_integer_value(json_object_get(json_object_get(j, group), field));
    json_decref(j);
    gt_buf_free(&out);
    return v;
}

/* Compares the first n answers of run with the alone ones, then frees run's. */
static void same_as_alone_n(req *run, char *const *alone, int n, const char *what) {
    for (int i = 0; i < n; i++) {
        CHECK_MSG(run[i].answer && !strcmp(run[i].answer, alone[i]), "%s: request %d differs:\n  alone: %s\n  here:  %s",
                  what, i, alone[i], run[i].answer ? run[i].answer : "(none)");
        free(run[i].answer);
        run[i].answer = NULL;
    }
}

/* Compares every answer of run with the alone ones, then frees run's. */
static void same_as_alone(req *run, char *const *alone, const char *what) { same_as_alone_n(run, alone, N_REQ, what); }

static void test_batch_invariance(void) {
    req q[N_REQ];
    char *alone[N_REQ];
    for (int i = 0; i < N_REQ; i++) make_request(i, &q[i]);
    /* Alone: one slot, no prefix cache, one request at a time. */
    gt_serve *a = start(1, 1, 1);
    if (!a) return;
    for (int i = 0; i < N_REQ; i++) {
        q[i].port = gt_serve_port(a);
        send_one(&q[i]);
        alone[i] = q[i].answer;
        q[i].answer = NULL;
    }
    CHECK_EQ_INT(health(gt_serve_port(a), "prefix_cache", "hits"), 0);
    gt_serve_stop(a);
    /* All at once on 8 slots with the cache, 3 threads; then shuffled. */
    gt_serve *b = start(8, 3, 0);
    if (!b) return;
    uint16_t port = gt_serve_port(b);
    int order[N_REQ];
    for (int k = 0; k < N_REQ; k++) order[k] = k;
    send_all(port, q, order);
    same_as_alone(q, alone, "all at once");
    long long steps = health(port, "batch", "steps"), toks = health(port, "batch", "tokens");
    CHECK_MSG(toks > steps, "no batch held two tokens (%lld tokens in %lld steps)", toks, steps);
    CHECK_MSG(health(port, "prefix_cache", "hits") > 0, "no prompt reused a cached prefix");
    uint32_t r = 15;
    for (int k = N_REQ - 1; k > 0; k--) { /* Fisher-Yates with a fixed LCG */
        r = r * 1103515245u + 12345u;
        int x = (int)((r >> 8) % (uint32_t)(k + 1)), t = order[k];
        order[k] = order[x], order[x] = t;
    }
    send_all(port, q, order);
    same_as_alone(q, alone, "shuffled");
    /* Eight alone, one after another, then again: each found in the cache the second time (which slots the
     * concurrent rounds left holding which prompts depends on timing; eight sent in turn fill the 8 slots, and a
     * prompt whose slot a later one took shares that one's prefix). */
    for (int i = 0; i < 8; i++) send_one(&q[i]);
    same_as_alone_n(q, alone, 8, "alone again");
    long long hits = health(port, "prefix_cache", "hits");
    for (int i = 0; i < 8; i++) send_one(&q[i]);
    same_as_alone_n(q, alone, 8, "alone again, cached");
    CHECK_MSG(health(port, "prefix_cache", "hits") >= hits + 8, "the repeated prompts did not all hit the cache");
    CHECK_EQ_INT(health(port, "queue", "running"), 0);
    gt_serve_stop(b);
    for (int i = 0; i < N_REQ; i++) free(alone[i]);
}

int main(void) {
    RUN(test_engine_batch);
    RUN(test_batch_invariance);
    return gt_test_finish();
}
