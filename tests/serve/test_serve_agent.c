/* test_serve_agent.c: agents renting inference over the OpenAI API
 * (agent/oai.h), against real servers over real sockets:
 *  - a worker whose `complete` inference runs on a `gotong serve` (in this
 *    process) submits exactly the bytes an in-process worker submits;
 *  - a verifier re-executing on a different server, in another process,
 *    gets the same bytes and accepts; it rejects a tampered result as the
 *    in-process verifier does;
 *  - the server's own additions: a prompt as token ids, "return_tokens",
 *    "sha256" in /v1/models, each refused when malformed;
 *  - fail closed: a scripted server that answers 500, malformed JSON, too
 *    late, ids outside the vocabulary, no "tokens", an answer cut short, or
 *    another model's sha256 (or none) makes the worker's work and the
 *    verifier's re-run fail with an error naming what was wrong, so the
 *    agent submits nothing and gives no verdict (agent.c, agent_verify.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "agent/agent.h"
#include "agent/agent_impl.h"
#include "agent/oai.h"
#include "agent/skill_complete.h"
#include "base/buf.h"
#include "base/json.h"
#include "crypto/keccak.h"
#include "serve/serve.h"

#define MODEL "models/tiny-llama-q8_0.gguf"

static gt_agent_model *model;

static gt_agent *make_agent(const char *name, const char *model_url, const char *model_name, uint64_t timeout_ms) {
    gt_key k;
    uint8_t h[32];
    gt_keccak256(name, strlen(name), h);
    gt_key_from_bytes(&k, h, NULL);
    gt_agent_config c = {.name = name, .skills = "complete", .roles = GT_ROLE_WORKER, .model = model,
                         .n_threads = 1, .model_url = model_url, .model_name = model_name,
                         .model_timeout_ms = timeout_ms};
    gt_agent *a = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_agent_new(&c, &k, "http://127.0.0.1:9", &a, &err) == 0, "agent: %s", err.msg);
    return a;
}

static json_t *spec_json(int n_predict) {
    const char *ps[] = {"The quick brown fox", "Once upon a time", "1, 2, 3,", "<s> is not a control token here"};
    char *s = gt_complete_spec(gt_agent_model_id(model), ps, 4, n_predict);
    json_t *j = json_loads(s, 0, NULL);
    free(s);
    return j;
}

/* ---- a second server in its own process ---- */

/* Forks a child that runs `gotong serve`'s server on a free port until its
 * stdin pipe closes; *port gets the port. Called before this process starts
 * any thread, so the child inherits no lock. */
static pid_t serve_child(uint16_t *port, int *keep_fd) {
    int up[2], hold[2];
    if (pipe(up) || pipe(hold)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(up[0]), close(hold[1]);
        gt_serve_config c = gt_serve_defaults();
        c.model_path = gt_fixture(MODEL);
        c.listen = "127.0.0.1:0";
        c.n_threads = 2;   /* another thread count than the first server: the same bytes */
        c.n_parallel = 2;
        gt_serve *s = NULL;
        gt_err err = {0};
        uint16_t p = 0;
        if (gt_serve_start(&c, &s, &err)) fprintf(stderr, "child serve: %s\n", err.msg);
        else p = gt_serve_port(s);
        if (write(up[1], &p, sizeof p) != sizeof p) _exit(2);
        char b;
        while (read(hold[0], &b, 1) > 0) {}
        gt_serve_stop(s);
        _exit(0);
    }
    close(up[1]), close(hold[0]);
    *port = 0;
    if (pid < 0 || read(up[0], port, sizeof *port) != sizeof *port) *port = 0;
    close(up[0]);
    *keep_fd = hold[1];
    return pid;
}

static gt_serve *start_serve(void) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(MODEL);
    c.listen = "127.0.0.1:0";
    c.n_threads = 1;
    c.n_parallel = 4;
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_start(&c, &s, &err) == 0, "%s", err.msg);
    return s;
}

/* Worker in-process, worker on server A, verifier on server B (another
 * process): the same bytes, accepted. */
static uint16_t port_b; /* the server in the child process */

static void test_same_bytes(void) {
    gt_serve *sa = start_serve();
    CHECK(port_b != 0);
    if (!sa || !port_b) {
        gt_serve_stop(sa);
        return;
    }
    char url_a[64], url_b[64];
    snprintf(url_a, sizeof url_a, "http://127.0.0.1:%u/v1", gt_serve_port(sa));
    snprintf(url_b, sizeof url_b, "http://127.0.0.1:%u/v1/", port_b);
    gt_agent *local = make_agent("local", NULL, NULL, 0), *wa = make_agent("remote-a", url_a, NULL, 0);
    gt_agent *vb = make_agent("verifier-b", url_b, NULL, 0);
    const gt_skill *sk = gt_skill_find("complete");
    json_t *spec = spec_json(24);
    gt_job job = {.spec = spec};
    gt_buf r_local = GT_BUF_INIT, r_remote = GT_BUF_INIT;
    gt_err err = {0};
    CHECK_MSG(sk->work(local, &job, &r_local, &err) == 0, "%s", err.msg);
    CHECK_MSG(sk->work(wa, &job, &r_remote, &err) == 0, "%s", err.msg);
    CHECK(r_local.len > 0 && r_local.len == r_remote.len && !memcmp(r_local.data, r_remote.data, r_local.len));
    json_t *res = json_loads(r_remote.data ? (const char *)r_remote.data : "", 0, NULL);
    CHECK(json_array_size(json_object_get(json_array_get(json_object_get(res, "outputs"), 0), "tokens")) > 0);
    gt_skill_verdict v = {0};
    CHECK_MSG(sk->verify(vb, &job, r_remote.data, r_remote.len, &v, &err) == 0, "%s", err.msg);
    CHECK_MSG(v.accept == 1 && v.score == 100, "%s", v.reason);
    /* A changed token: the remote verifier rejects it as the local one does. */
    json_t *t0 = json_array_get(json_object_get(json_array_get(json_object_get(res, "outputs"), 2), "tokens"), 0);
    json_integer_set(t0, json_integer_value(t0) + 1);
    char *bad = gt_json_dump(res);
    gt_skill_verdict vl = {0};
    CHECK(sk->verify(vb, &job, (const uint8_t *)bad, strlen(bad), &v, &err) == 0);
    CHECK(sk->verify(local, &job, (const uint8_t *)bad, strlen(bad), &vl, &err) == 0);
    CHECK(v.accept == 0 && vl.accept == 0);
    CHECK_STR(v.reason, vl.reason);
    free(bad);
    json_decref(res);
    /* Named by the server's name too; a wrong name is refused. */
    gt_oai *o = NULL;
    CHECK(gt_oai_new(url_a, "tiny-llama-q8_0", 0, &o, &err) == 0);
    if (o) CHECK_MSG(gt_oai_check_model(o, gt_agent_model_id(model), &err) == 0, "%s", err.msg);
    gt_oai_free(o);
    CHECK(gt_oai_new(url_a, "other", 0, &o, &err) == 0);
    if (o) CHECK(gt_oai_check_model(o, gt_agent_model_id(model), &err) == GT_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "no model named \"other\"");
    gt_oai_free(o);
    gt_buf_free(&r_local);
    gt_buf_free(&r_remote);
    json_decref(spec);
    gt_agent_free(local);
    gt_agent_free(wa);
    gt_agent_free(vb);
    gt_serve_stop(sa);
}

/* ---- the server's additions, over a raw socket ---- */

static int post(uint16_t port, const char *path, const char *body, json_t **out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    *out = NULL;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) return -1;
    gt_buf req = GT_BUF_INIT, all = GT_BUF_INIT;
    gt_buf_printf(&req, "POST %s HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", path,
                  strlen(body), body);
    CHECK(write(fd, req.data, req.len) == (ssize_t)req.len);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) gt_buf_append(&all, buf, (size_t)n);
    close(fd);
    gt_buf_putc(&all, 0);
    int status = all.len > 12 ? atoi((const char *)all.data + 9) : -1;
    const char *sep = strstr((const char *)all.data, "\r\n\r\n");
    if (sep) *out = json_loads(sep + 4, 0, NULL);
    gt_buf_free(&req);
    gt_buf_free(&all);
    return status;
}

static void test_server_extensions(void) {
    gt_serve *s = start_serve();
    if (!s) return;
    uint16_t port = gt_serve_port(s);
    json_t *j = NULL;
    /* Ids in, ids out: the same answer as the text prompt's own ids. */
    int st = post(port, "/v1/completions", "{\"model\":\"tiny-llama-q8_0\",\"prompt\":\"Hello\",\"max_tokens\":6,"
                  "\"temperature\":0,\"return_tokens\":true}", &j);
    CHECK_EQ_INT(st, 200);
    json_t *c = json_array_get(json_object_get(j, "choices"), 0);
    json_t *toks = json_deep_copy(json_object_get(c, "tokens"));
    char *text = json_dumps(json_object_get(c, "text"), JSON_ENCODE_ANY);
    CHECK(json_array_size(toks) > 0);
    json_decref(j);
    /* The same prompt as ids ("Hello" with BOS, as the server tokenizes a
     * text prompt): the same answer, ids and text. */
    int32_t ids[16];
    size_t n = 0;
    gt_err err = {0};
    CHECK(gt_tokenize(model->tok, "Hello", 5, 1, 1, ids, 16, &n, &err) == 0);
    gt_buf body = GT_BUF_INIT;
    gt_buf_append_str(&body, "{\"model\":\"tiny-llama-q8_0\",\"max_tokens\":6,\"temperature\":0,"
                             "\"return_tokens\":true,\"prompt\":[");
    for (size_t i = 0; i < n; i++) gt_buf_printf(&body, "%s%d", i ? "," : "", (int)ids[i]);
    gt_buf_append_str(&body, "]}");
    gt_buf_putc(&body, 0);
    st = post(port, "/v1/completions", (const char *)body.data, &j);
    CHECK_EQ_INT(st, 200);
    c = json_array_get(json_object_get(j, "choices"), 0);
    CHECK(json_equal(json_object_get(c, "tokens"), toks));
    char *text2 = json_dumps(json_object_get(c, "text"), JSON_ENCODE_ANY);
    CHECK(text && text2 && !strcmp(text, text2));
    free(text2);
    json_decref(j);
    free(text);
    json_decref(toks);
    /* /v1/models names the file's bytes. */
    gt_oai *o = NULL;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1", port);
    CHECK(gt_oai_new(url, NULL, 0, &o, &err) == 0);
    if (o) CHECK_MSG(gt_oai_check_model(o, gt_agent_model_id(model), &err) == 0, "%s", err.msg);
    if (o) CHECK_STR(gt_oai_model(o), "tiny-llama-q8_0");
    gt_oai_free(o);
    /* Refusals, each naming the field. */
    const char *bad[][2] = {
        {"{\"model\":\"tiny-llama-q8_0\",\"prompt\":[1,-3]}", "prompt[1]"},
        {"{\"model\":\"tiny-llama-q8_0\",\"prompt\":[1,99999999]}", "outside this model's vocabulary"},
        {"{\"model\":\"tiny-llama-q8_0\",\"prompt\":[1,\"x\"]}", "prompt[1]"},
        {"{\"model\":\"tiny-llama-q8_0\",\"prompt\":\"hi\",\"return_tokens\":1}", "return_tokens"},
        {"{\"model\":\"tiny-llama-q8_0\",\"prompt\":\"hi\",\"return_tokens\":true,\"stream\":true}", "return_tokens"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st = post(port, "/v1/completions", bad[i][0], &j);
        CHECK_MSG(st == 400, "%s: status %d", bad[i][0], st);
        CHECK_CONTAINS(json_string_value(json_object_get(json_object_get(j, "error"), "message")), bad[i][1]);
        json_decref(j);
    }
    gt_buf_free(&body);
    gt_serve_stop(s);
}

/* ---- fail closed: a scripted server ---- */

enum { FAKE_500, FAKE_BAD_JSON, FAKE_SLOW, FAKE_BAD_ID, FAKE_NO_TOKENS, FAKE_SHORT, FAKE_OTHER_SHA, FAKE_NO_SHA,
       FAKE_MODES };

typedef struct fake {
    int lfd, mode, stop;
    uint16_t port;
    char sha[72];
    pthread_t th;
} fake;

/* Reads one request (headers and Content-Length body) into req. */
static void read_request(int fd, gt_buf *req) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        gt_buf_append(req, buf, (size_t)n);
        gt_buf_putc(req, 0);
        req->len--;
        const char *sep = strstr((const char *)req->data, "\r\n\r\n");
        if (!sep) continue;
        const char *cl = strstr((const char *)req->data, "Content-Length:");
        size_t want = (size_t)(sep + 4 - (const char *)req->data) + (cl ? (size_t)atol(cl + 15) : 0);
        if (req->len >= want) return;
    }
}

/* The answer of mode m to path. */
static void fake_answer(const fake *f, const char *path, gt_buf *out) {
    const char *status = "200 OK", *body;
    char models[512];
    const char *sha = f->mode == FAKE_OTHER_SHA ? "sha256:00000000000000000000000000000000000000000000000000000000"
                                                  "00000000" : f->sha;
    if (f->mode == FAKE_NO_SHA)
        snprintf(models, sizeof models, "{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"object\":\"model\"}]}");
    else
        snprintf(models, sizeof models, "{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"object\":\"model\",\"sha256\":"
                 "\"%s\"}]}", sha);
    if (!strncmp(path, "/v1/models", 10)) body = models;
    else if (f->mode == FAKE_500)
        status = "500 Internal Server Error", body = "{\"error\":{\"message\":\"the model fell over\",\"type\":"
                                                     "\"server_error\",\"param\":null,\"code\":null}}";
    else if (f->mode == FAKE_BAD_JSON) body = "{\"choices\":[{\"tokens\":[1,2";
    else if (f->mode == FAKE_BAD_ID)
        body = "{\"model\":\"m\",\"choices\":[{\"text\":\"\",\"tokens\":[5,99999999],\"finish_reason\":\"stop\"}]}";
    else if (f->mode == FAKE_NO_TOKENS)
        body = "{\"model\":\"m\",\"choices\":[{\"text\":\"hello\",\"finish_reason\":\"length\"}]}";
    else if (f->mode == FAKE_SHORT)
        body = "{\"model\":\"m\",\"choices\":[{\"text\":\"\",\"tokens\":[5,6],\"finish_reason\":\"length\"}]}";
    else body = "{\"model\":\"m\",\"choices\":[]}";
    gt_buf_printf(out, "HTTP/1.0 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", status,
                  strlen(body), body);
}

static void *fake_main(void *arg) {
    fake *f = arg;
    for (;;) {
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0 || f->stop) {
            if (fd >= 0) close(fd);
            return NULL;
        }
        gt_buf req = GT_BUF_INIT, out = GT_BUF_INIT;
        read_request(fd, &req);
        char path[128] = "";
        if (req.data) sscanf((const char *)req.data, "%*s %127s", path);
        if (f->mode == FAKE_SLOW && !strncmp(path, "/v1/completions", 15)) {
            usleep(1500 * 1000); /* past the client's 300 ms: it has given up */
        } else {
            fake_answer(f, path, &out);
            if (write(fd, out.data, out.len) < 0) {}
        }
        gt_buf_free(&req);
        gt_buf_free(&out);
        close(fd);
    }
}

static int fake_start(fake *f) {
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t len = sizeof a;
    if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof a) || listen(f->lfd, 8) ||
        getsockname(f->lfd, (struct sockaddr *)&a, &len))
        return -1;
    f->port = ntohs(a.sin_port);
    snprintf(f->sha, sizeof f->sha, "%s", gt_agent_model_id(model));
    return pthread_create(&f->th, NULL, fake_main, f);
}

static void fake_stop(fake *f) {
    f->stop = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0); /* wakes accept */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {}
    close(fd);
    pthread_join(f->th, NULL);
    close(f->lfd);
}

static void test_fail_closed(void) {
    static const char *const want[FAKE_MODES] = {
        [FAKE_500] = "HTTP 500: the model fell over", [FAKE_BAD_JSON] = "not a JSON object",
        [FAKE_SLOW] = "imed out", [FAKE_BAD_ID] = "tokens[1] is not a token id",
        [FAKE_NO_TOKENS] = "no \"tokens\"", [FAKE_SHORT] = "stopped after 2 of 24 tokens",
        [FAKE_OTHER_SHA] = "not the", [FAKE_NO_SHA] = "does not say which weights"};
    fake f = {0};
    CHECK(fake_start(&f) == 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1", f.port);
    const gt_skill *sk = gt_skill_find("complete");
    json_t *spec = spec_json(24);
    gt_job job = {.spec = spec};
    gt_agent *local = make_agent("honest", NULL, NULL, 0);
    gt_buf honest = GT_BUF_INIT;
    gt_err err = {0};
    CHECK(sk->work(local, &job, &honest, &err) == 0);
    for (int m = 0; m < FAKE_MODES; m++) {
        f.mode = m;
        /* 300 ms for the one that answers late; the others wait out its sleeps. */
        gt_agent *a = make_agent("renter", url, "m", m == FAKE_SLOW ? 300 : 20000);
        gt_buf out = GT_BUF_INIT;
        gt_skill_verdict v = {.accept = 1};
        err = (gt_err){0};
        int rc = sk->work(a, &job, &out, &err);
        CHECK_MSG(rc != 0 && out.len == 0, "mode %d: work gave %d with %zu bytes", m, rc, out.len);
        CHECK_CONTAINS(err.msg, want[m]);
        CHECK_CONTAINS(err.msg, url);
        err = (gt_err){0};
        rc = sk->verify(a, &job, honest.data, honest.len, &v, &err); /* a re-run that fails is no verdict */
        CHECK_MSG(rc != 0, "mode %d: verify gave a verdict (accept %d)", m, v.accept);
        CHECK_CONTAINS(err.msg, want[m]);
        gt_buf_free(&out);
        gt_agent_free(a);
    }
    /* Unnamed, the server's model is found by its sha256: another's is not found. */
    f.mode = FAKE_OTHER_SHA;
    gt_agent *un = make_agent("unnamed", url, NULL, 20000);
    gt_buf out = GT_BUF_INIT;
    CHECK(sk->work(un, &job, &out, &err) == GT_ENOTFOUND && out.len == 0);
    CHECK_CONTAINS(err.msg, "no model with sha256");
    gt_agent_free(un);
    /* A model URL without the model file, and a bad URL, are refused up front. */
    gt_key k;
    gt_key_from_bytes(&k, (const uint8_t *)"0123456789abcdef0123456789abcdef", NULL);
    gt_agent_config c = {.name = "x", .skills = "complete", .model_url = url};
    gt_agent *a = NULL;
    CHECK(gt_agent_new(&c, &k, "http://127.0.0.1:9", &a, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "needs the model file");
    c.model = model, c.model_url = "ftp://x/v1";
    CHECK(gt_agent_new(&c, &k, "http://127.0.0.1:9", &a, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "expected http://HOST:PORT/v1");
    gt_buf_free(&honest);
    gt_agent_free(local);
    json_decref(spec);
    fake_stop(&f);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    int keep = -1;
    pid_t child = serve_child(&port_b, &keep); /* first: no thread of ours yet */
    gt_err err = {0};
    if (gt_agent_model_load(gt_fixture(MODEL), &model, &err)) {
        fprintf(stderr, "fixture model: %s\n", err.msg);
        return 1;
    }
    RUN(test_server_extensions);
    RUN(test_same_bytes);
    RUN(test_fail_closed);
    close(keep);
    int wst = 0;
    if (child > 0) CHECK(waitpid(child, &wst, 0) == child && WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    gt_agent_model_free(model);
    return gt_test_finish();
}
