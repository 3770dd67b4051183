/* test_serve_stream.c: back-pressure for streaming clients that stop
 * reading.
 *
 * A client opens a stream (a long completion with logprobs, so every token
 * is hundreds of bytes of events) on a socket with a small receive buffer,
 * and reads nothing. Once the socket's buffers are full the server cannot
 * hand it more; after --stream-lag-tokens generated tokens that the stream
 * has not taken, the request is cancelled and its batch slot freed: /health
 * counts it under requests.lagging and requests.cancelled, with fewer
 * tokens than it asked for. While it is stuck, other clients are served
 * whole: requests answered at once and a stream that reads to [DONE]. When
 * the stuck client finally reads, it gets the text sent so far, an error
 * event saying it fell behind, and [DONE].
 *
 * On the server before back-pressure the stuck request ran to its
 * max_tokens holding its slot and buffering everything; the wait below then
 * sees nothing running and no request cancelled, and fails. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../test.h"
#include "base/buf.h"
#include "serve/serve.h"

#define MODEL "models/tiny-llama-q8_0.gguf"
#define STUCK_MAX_TOKENS 900
#define LAG_TOKENS 16

/* Connects to the server; rcvbuf > 0 sets the socket's receive buffer
 * first (so the window the server sees is small). */
static int dial(uint16_t port, int rcvbuf) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends an HTTP/1.0 request (the server closes the connection after the
 * answer, so a read to EOF is the whole answer). */
static int send_req(int fd, const char *method, const char *path, const char *body) {
    gt_buf req = GT_BUF_INIT;
    gt_buf_printf(&req, "%s %s HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", method,
                  path, body ? strlen(body) : 0, body ? body : "");
    int ok = write(fd, req.data, req.len) == (ssize_t)req.len;
    gt_buf_free(&req);
    return ok ? 0 : -1;
}

/* Reads to EOF into out (NUL-terminated); returns the HTTP status. */
static int read_all(int fd, gt_buf *out) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) gt_buf_append(out, buf, (size_t)n);
    gt_buf_putc(out, 0);
    out->len--;
    return out->len > 12 ? atoi((const char *)out->data + 9) : -1;
}

/* One whole exchange; the body after the headers into out. */
static int exchange(uint16_t port, const char *method, const char *path, const char *body, gt_buf *out) {
    int fd = dial(port, 0);
    if (fd < 0 || send_req(fd, method, path, body)) {
        if (fd >= 0) close(fd);
        return -1;
    }
    gt_buf all = GT_BUF_INIT;
    int st = read_all(fd, &all);
    close(fd);
    const char *sep = all.data ? strstr((const char *)all.data, "\r\n\r\n") : NULL;
    if (sep) gt_buf_append_str(out, sep + 4);
    gt_buf_putc(out, 0);
    out->len--;
    gt_buf_free(&all);
    return st;
}

/* /health as JSON (NULL when it does not answer). */
static json_t *health(uint16_t port) {
    gt_buf out = GT_BUF_INIT;
    int st = exchange(port, "GET", "/health", NULL, &out);
    json_t *j = st == 200 ? json_loads((const char *)out.data, 0, NULL) : NULL;
    gt_buf_free(&out);
    return j;
}

static long long count(const json_t *h, const char *group, const char *field) {
    return json_integer_value(json_object_get(json_object_get(h, group), field));
}

/* Waits (polling /health; no deadline of its own: a state ends the wait)
 * until a stream was cancelled for lagging: 0. Fails instead once nothing
 * runs or waits and none was: the stuck request ran to its end. */
static int wait_lagging(uint16_t port) {
    for (;;) {
        json_t *h = health(port);
        CHECK(h != NULL);
        if (!h) return -1;
        long long lagging = count(h, "requests", "lagging");
        long long busy = count(h, "queue", "running") + count(h, "queue", "waiting");
        json_decref(h);
        if (lagging >= 1) return 0;
        if (busy == 0) {
            CHECK_MSG(0, "the stream whose client reads nothing ran to its end: never cancelled for lagging");
            return -1;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Other clients while one is stuck: answered whole. */
static void serve_others(uint16_t port) {
    gt_buf out = GT_BUF_INIT;
    for (int i = 0; i < 3; i++) {
        gt_buf_reset(&out);
        CHECK_EQ_INT(exchange(port, "POST", "/v1/completions",
                              "{\"model\":\"m\",\"prompt\":\"Hello\",\"max_tokens\":6,\"temperature\":0}", &out), 200);
        CHECK_CONTAINS((const char *)out.data, "\"completion_tokens\":6");
    }
    gt_buf_reset(&out);
    CHECK_EQ_INT(exchange(port, "POST", "/v1/chat/completions",
                          "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":6,"
                          "\"stream\":true}", &out), 200);
    CHECK_CONTAINS((const char *)out.data, "data: [DONE]");
    CHECK(strstr((const char *)out.data, "\"error\"") == NULL);
    gt_buf_free(&out);
}

static void test_stuck_stream(void) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(MODEL);
    c.model_id = "m";
    c.listen = "127.0.0.1:0";
    c.n_ctx = 1024;
    c.n_parallel = 2;
    c.stream_lag_tokens = LAG_TOKENS;
    c.stream_sndbuf_bytes = 4096;
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_start(&c, &s, &err) == 0, "%s", err.msg);
    if (!s) return;
    uint16_t port = gt_serve_port(s);
    int stuck = dial(port, 2048);
    CHECK(stuck >= 0);
    char body[256];
    snprintf(body, sizeof body, "{\"model\":\"m\",\"prompt\":\"Once upon a time\",\"max_tokens\":%d,\"stream\":true,"
             "\"logprobs\":5,\"temperature\":0}", STUCK_MAX_TOKENS);
    CHECK(stuck >= 0 && send_req(stuck, "POST", "/v1/completions", body) == 0);
    serve_others(port);
    if (stuck >= 0 && wait_lagging(port) == 0) {
        json_t *h = health(port);
        CHECK_EQ_INT((int)count(h, "requests", "lagging"), 1);
        CHECK_EQ_INT((int)count(h, "requests", "cancelled"), 1);
        long long made = count(h, "requests", "cancelled_tokens");
        CHECK_MSG(made > LAG_TOKENS && made < STUCK_MAX_TOKENS, "the stuck stream made %lld tokens", made);
        CHECK_EQ_INT((int)count(h, "queue", "running"), 0); /* its slot is free */
        json_decref(h);
        serve_others(port); /* and both slots serve again */
        /* The late reader: what was sent, then why it stopped, then [DONE]. */
        gt_buf all = GT_BUF_INIT;
        CHECK_EQ_INT(read_all(stuck, &all), 200);
        const char *t = (const char *)all.data;
        CHECK_CONTAINS(t, "\"text_completion\"");
        CHECK_CONTAINS(t, "tokens behind the stream");
        CHECK_CONTAINS(t, "data: [DONE]");
        CHECK(strstr(t, "\"finish_reason\":\"length\"") == NULL);
        gt_buf_free(&all);
    }
    if (stuck >= 0) close(stuck);
    json_t *h = health(port);
    CHECK_EQ_INT((int)count(h, "requests", "cancelled"), 1); /* the late close counts nothing more */
    json_decref(h);
    gt_serve_stop(s);
}

/* Bad settings are refused with their names. */
static void test_settings(void) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(MODEL);
    c.listen = "127.0.0.1:0";
    c.stream_lag_tokens = -1;
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK(gt_serve_start(&c, &s, &err) == GT_EINVAL && !s);
    CHECK_CONTAINS(err.msg, "--stream-lag-tokens");
    c.stream_lag_tokens = 0, c.stream_sndbuf_bytes = -5;
    CHECK(gt_serve_start(&c, &s, &err) == GT_EINVAL && !s);
    CHECK_CONTAINS(err.msg, "send buffer");
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    RUN(test_settings);
    RUN(test_stuck_stream);
    return gt_test_finish();
}
