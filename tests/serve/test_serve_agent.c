/* test_serve_agent.c: agents renting inference over the OpenAI API
 * (agent/oai.h), against real servers over real sockets:
 *  - a worker whose `complete` inference runs on a `gotong serve` (in this
 *    process) submits exactly the bytes an in-process worker submits;
 *  - a verifier re-executing on a different server, in another process,
 *    gets the same bytes and accepts; it rejects a tampered result as the
 *    in-process verifier does;
 *  - the server's own additions: a prompt as token ids, "return_tokens",
 *    "sha256" in /v1/models, each refused when malformed;
 *  - the work layer's model calls of `generate` (sampled data generation,
 *    spot re-execution, the judge's next-token log-probabilities) and
 *    `eval` (generate_until items and multiple-choice log-likelihoods,
 *    through "echo" scoring): the worker renting them makes the in-process
 *    worker's bytes, and a verifier on the other server accepts them with
 *    the in-process reason (a forged sample refused alike);
 *  - fail closed: a scripted server that answers 500, malformed JSON, too
 *    late, ids outside the vocabulary, no "tokens", an answer cut short, or
 *    another model's sha256 (or none) makes the worker's work and the
 *    verifier's re-run fail with an error naming what was wrong, so the
 *    agent submits nothing and gives no verdict (agent.c, agent_verify.c);
 *    `eval` and `generate` too, and a scoring answer without log-
 *    probabilities or with a positive one. */
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
#include "base/alloc.h"
#include "base/buf.h"
#include "base/json.h"
#include "crypto/keccak.h"
#include "crypto/sha256.h"
#include "serve/serve.h"
#include "store/blob.h"
#include "work/data/batch.h"
#include "work/data/pipeline.h"
#include "work/eval/check.h"
#include "work/eval/eval.h"
#include "work/work.h"

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

static void test_generate_remote(gt_agent *local, gt_agent *wa, gt_agent *vb);
static void test_eval_remote(gt_agent *local, gt_agent *wa, gt_agent *vb);

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
    test_generate_remote(local, wa, vb);
    test_eval_remote(local, wa, vb);
    gt_buf_free(&r_local);
    gt_buf_free(&r_remote);
    json_decref(spec);
    gt_agent_free(local);
    gt_agent_free(wa);
    gt_agent_free(vb);
    gt_serve_stop(sa);
}

/* ---- `generate` and `eval`: the work layer's model calls ---- */

/* Sampled (temperature 0.8, a seed per sample), every sample re-generated
 * by the validator's spot check. (No judge: this vocabulary's " Yes" and
 * " No" start with the same token; the judge's call is checked apart.) */
static const char *const DATA_SPEC =
    "{\"version\":1,\"name\":\"notes\",\"template\":\"Write note {index} in a {tone} tone.\\n\","
    "\"variables\":{\"tone\":[\"dry\",\"warm\"]},\"seed\":11,\"samples\":3,\"batch\":3,"
    "\"reward\":\"1\",\"stake\":\"0.5\",\"license\":\"cc-by-4.0\",\"generation\":{\"max_tokens\":10,\"temp\":0.8},"
    "\"pipeline\":{\"verify\":false,\"near_dedup\":false,\"spot_check\":1}}";

/* Validates blob with llm as judge and re-generator (what the skill's
 * validate() does); the reason bytes into reason (with each stage's wall
 * time, which same_reason leaves out). */
static int validate_with(gt_llm *llm, const gt_job_spec *spec, const gt_addr *w, const gt_buf *blob,
                         gt_work_batch_verdict *v, gt_buf *reason) {
    gt_pipeline *p = NULL;
    gt_err err = {0};
    int rc = gt_pipeline_new(spec, &p, &err);
    gt_pipeline_opts o = {.judge = llm, .regen = llm, .spot_seed = 7};
    if (!rc) rc = gt_work_validate_batch(p, spec, &o, 0, w, blob->data, blob->len, v, reason, NULL, NULL, &err);
    if (rc) fprintf(stderr, "validate: %s\n", err.msg);
    gt_pipeline_free(p);
    return rc;
}

/* Drops every "seconds" member (a stage's wall time) from j, recursively. */
static void drop_seconds(json_t *j) {
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_del(j, "seconds");
        json_object_foreach(j, k, v) drop_seconds(v);
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) drop_seconds(v);
    }
}

/* 1 when two reason blobs say the same but for wall times. */
static int same_reason(const gt_buf *x, const gt_buf *y) {
    json_t *a = json_loadb(x->data ? (const char *)x->data : "", x->len, 0, NULL);
    json_t *b = json_loadb(y->data ? (const char *)y->data : "", y->len, 0, NULL);
    drop_seconds(a), drop_seconds(b);
    int same = a && b && json_equal(a, b);
    json_decref(a), json_decref(b);
    return same;
}

/* The batch with sample 1's output changed. */
static void tamper_batch(const gt_buf *blob, gt_buf *out) {
    gt_sample *s = NULL;
    size_t n = 0;
    gt_err err = {0};
    CHECK(gt_batch_parse((const char *)blob->data, blob->len, &s, &n, &err) == 0 && n == 3);
    if (n < 2) return;
    gt_free(s[1].output);
    s[1].output = gt_malloc(8);
    memcpy(s[1].output, "forged", 7);
    CHECK(gt_batch_write(s, n, out, &err) == 0);
    gt_samples_free(s, n);
}

static void test_generate_remote(gt_agent *local, gt_agent *wa, gt_agent *vb) {
    gt_err err = {0};
    gt_job_spec spec;
    CHECK(gt_job_spec_parse(DATA_SPEC, strlen(DATA_SPEC), &spec, &err) == 0);
    gt_llm *ll = gt_agent_llm(local, &err), *la = gt_agent_llm(wa, &err), *lb = gt_agent_llm(vb, &err);
    CHECK(ll && la && lb && !ll->remote && la->remote && lb->remote);
    if (!ll || !la || !lb) return;
    const gt_addr *w = gt_agent_address(local);
    gt_buf b_local = GT_BUF_INIT, b_remote = GT_BUF_INIT, r_local = GT_BUF_INIT, r_remote = GT_BUF_INIT;
    CHECK_MSG(gt_work_generate_batch(&spec, ll, w, 0, &b_local, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_work_generate_batch(&spec, la, w, 0, &b_remote, &err) == 0, "%s", err.msg);
    CHECK(b_local.len > 0 && b_local.len == b_remote.len && !memcmp(b_local.data, b_remote.data, b_local.len));
    /* The verifier on server B: every sample judged and re-generated there. */
    gt_work_batch_verdict vl, vr;
    CHECK(validate_with(lb, &spec, w, &b_remote, &vr, &r_remote) == 0);
    CHECK(validate_with(ll, &spec, w, &b_remote, &vl, &r_local) == 0);
    CHECK_EQ_U64(vr.accepted, 3);
    CHECK_EQ_U64(vr.total, 3);
    CHECK_EQ_U64(vr.report.stage[GT_STAGE_SPOT].checked, 3);
    CHECK(r_local.len > 0 && same_reason(&r_local, &r_remote));
    /* A forged sample: refused remotely as in-process, with the same reason. */
    gt_buf forged = GT_BUF_INIT;
    tamper_batch(&b_remote, &forged);
    gt_buf_reset(&r_local), gt_buf_reset(&r_remote);
    CHECK(validate_with(lb, &spec, w, &forged, &vr, &r_remote) == 0);
    CHECK(validate_with(ll, &spec, w, &forged, &vl, &r_local) == 0);
    CHECK(vr.accepted < vr.total && vr.accepted == vl.accepted);
    CHECK(vr.report.stage[GT_STAGE_SPOT].failed >= 1);
    CHECK(same_reason(&r_local, &r_remote));
    gt_buf_free(&forged);
    /* The judge's call: log-probabilities of candidate next tokens, the same
     * bits here and from either server (one evaluation here, a scored echo
     * per candidate there). */
    const int32_t *ids;
    size_t n;
    CHECK(gt_llm_tokenize(ll, "Is this a good note? Answer:", 28, 1, &ids, &n, &err) == 0 && n > 1);
    int32_t *p = gt_malloc(n * sizeof *p), cands[3] = {5, 700, 31999};
    memcpy(p, ids, n * sizeof *p);
    double lp_l[3], lp_a[3], lp_b[3];
    CHECK_MSG(gt_llm_next_logprobs(ll, p, n, cands, 3, lp_l, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_llm_next_logprobs(la, p, n, cands, 3, lp_a, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_llm_next_logprobs(lb, p, n, cands, 3, lp_b, &err) == 0, "%s", err.msg);
    CHECK(!memcmp(lp_l, lp_a, sizeof lp_l) && !memcmp(lp_l, lp_b, sizeof lp_l));
    CHECK(lp_l[0] < 0 && lp_l[0] != lp_l[1]);
    gt_free(p);
    gt_buf_free(&b_local), gt_buf_free(&b_remote), gt_buf_free(&r_local), gt_buf_free(&r_remote);
    gt_job_spec_free(&spec);
}

/* An eval job on a built-in bench, its spec as the node hands it. */
static void eval_job(const char *bench, gt_work_eval_spec *es, gt_bench **b, gt_job *job) {
    gt_err err = {0};
    CHECK(gt_bench_open(bench, b, &err) == 0);
    memset(es, 0, sizeof *es);
    es->limit = 3, es->check = 3;
    memcpy(es->model, gt_agent_model_hash(model), 32);
    memcpy(es->bench_hash, (*b)->hash, 32);
    snprintf(es->bench, sizeof es->bench, "%s", (*b)->name);
    char *text = gt_work_eval_spec_json(es);
    uint8_t h[32];
    gt_sha256(text, strlen(text), h);
    memset(job, 0, sizeof *job);
    gt_blob_id_format(h, job->spec_id);
    job->spec = json_loads(text, 0, NULL);
    free(text);
}

/* arith-v1 (generate_until: greedy with stop strings) and units-v1
 * (multiple choice: log-likelihoods scored by the server). */
static void test_eval_remote(gt_agent *local, gt_agent *wa, gt_agent *vb) {
    const gt_skill *sk = gt_skill_find("eval");
    CHECK(sk != NULL);
    static const char *const benches[] = {"arith-v1", "units-v1"};
    for (int i = 0; sk && i < 2; i++) {
        gt_work_eval_spec es;
        gt_bench *b = NULL;
        gt_job job;
        eval_job(benches[i], &es, &b, &job);
        gt_buf r_local = GT_BUF_INIT, r_remote = GT_BUF_INIT, ev = GT_BUF_INIT;
        gt_err err = {0};
        /* In-process: the skill's run (eval_work) is this attestation's. */
        gt_work_attestation att;
        CHECK_MSG(gt_work_eval_attest(&es, b, gt_agent_llm(local, &err), &r_local, &att, &err) == 0, "%s: %s",
                  benches[i], err.msg);
        CHECK_MSG(sk->work(wa, &job, &r_remote, &err) == 0, "%s: %s", benches[i], err.msg);
        CHECK_MSG(r_local.len > 0 && r_local.len == r_remote.len && !memcmp(r_local.data, r_remote.data, r_local.len),
                  "%s: the results differ", benches[i]);
        if (i == 1) CHECK_CONTAINS((const char *)r_remote.data, "\"ll\":[\"");
        /* The verifier on server B re-executes every item and agrees. */
        gt_work_check chk = {0};
        CHECK_MSG(gt_work_eval_check(&es, b, gt_agent_llm(vb, &err), &att, r_remote.data, r_remote.len, 5, &chk, &ev,
                                     &err) == 0, "%s", err.msg);
        CHECK_MSG(chk.agree == 1 && chk.items_checked == 3, "%s: %s", benches[i], chk.why);
        gt_buf_free(&ev), gt_buf_free(&r_local), gt_buf_free(&r_remote);
        json_decref((json_t *)job.spec);
        gt_bench_free(b);
    }
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
    /* A scored prompt: an entry per prompt token (the first null), exact
     * log-probabilities with their alternatives, nothing generated. */
    st = post(port, "/v1/completions", "{\"model\":\"tiny-llama-q8_0\",\"prompt\":\"Hello there\",\"echo\":true,"
              "\"max_tokens\":0,\"logprobs\":2}", &j);
    CHECK_EQ_INT(st, 200);
    c = json_array_get(json_object_get(j, "choices"), 0);
    const json_t *lp = json_object_get(c, "logprobs"), *tl = json_object_get(lp, "token_logprobs");
    size_t nt = json_array_size(tl);
    CHECK(nt >= 3 && json_is_null(json_array_get(tl, 0)));
    CHECK(json_is_null(json_array_get(json_object_get(lp, "top_logprobs"), 0)));
    for (size_t i = 1; i < nt; i++) {
        CHECK(json_is_real(json_array_get(tl, i)) && json_real_value(json_array_get(tl, i)) < 0);
        CHECK_EQ_INT((int)json_object_size(json_array_get(json_object_get(lp, "top_logprobs"), i)), 2);
    }
    CHECK_EQ_INT((int)json_array_size(json_object_get(lp, "tokens")), (int)nt);
    CHECK_CONTAINS(json_string_value(json_object_get(c, "text")), "Hello there");
    CHECK_EQ_INT((int)json_integer_value(json_object_get(json_object_get(j, "usage"), "completion_tokens")), 0);
    CHECK_EQ_INT((int)json_integer_value(json_object_get(json_object_get(j, "usage"), "prompt_tokens")), (int)nt);
    json_decref(j);
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
        {"{\"model\":\"tiny-llama-q8_0\",\"prompt\":\"hi\",\"echo\":true}", "echo: only with \"max_tokens\": 0"},
        {"{\"model\":\"tiny-llama-q8_0\",\"prompt\":\"hi\",\"echo\":true,\"max_tokens\":0,\"stream\":true}",
         "echo: only without"},
        {"{\"model\":\"tiny-llama-q8_0\",\"prompt\":\"hi\",\"echo\":1,\"max_tokens\":0}", "echo: expected true"},
        {"{\"model\":\"tiny-llama-q8_0\",\"prompt\":\"hi\",\"max_tokens\":0}", "max_tokens"},
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
       FAKE_MODES, FAKE_BAD_LP /* scoring only: a positive log-probability */ };

typedef struct fake {
    int lfd;
    _Atomic int mode, stop; /* set by the test while the fake's thread serves */
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

/* FAKE_BAD_LP's answer to a scoring request: an entry per prompt token,
 * each 0.5 (no log-probability is above 0). */
static void bad_scores(const gt_buf *req, char *body, size_t cap) {
    const char *sep = req->data ? strstr((const char *)req->data, "\r\n\r\n") : NULL;
    json_t *j = sep ? json_loads(sep + 4, 0, NULL) : NULL;
    size_t n = json_array_size(json_object_get(j, "prompt")), at;
    json_decref(j);
    at = (size_t)snprintf(body, cap, "{\"model\":\"m\",\"choices\":[{\"text\":\"\",\"finish_reason\":\"length\","
                          "\"logprobs\":{\"token_logprobs\":[null");
    for (size_t i = 1; i < n && at + 16 < cap; i++) at += (size_t)snprintf(body + at, cap - at, ",0.5");
    snprintf(body + at, cap - at, "]}}]}");
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
        } else if (f->mode == FAKE_BAD_LP && !strncmp(path, "/v1/completions", 15)) {
            static char body[65536];
            bad_scores(&req, body, sizeof body);
            gt_buf_printf(&out, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                          strlen(body), body);
            if (write(fd, out.data, out.len) < 0) {}
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
    /* `eval` and `generate` renting a bad server fail the same way: scoring
     * (a multiple-choice bench), generate_until, sampled data. */
    static const struct {
        int mode;
        const char *bench, *want;
    } ev[] = {{FAKE_500, "units-v1", "HTTP 500: the model fell over"},
              {FAKE_NO_TOKENS, "units-v1", "does not score an echoed prompt"},
              {FAKE_BAD_LP, "units-v1", "is not a log-probability"},
              {FAKE_BAD_ID, "arith-v1", "is not a token id"}};
    const gt_skill *sk_eval = gt_skill_find("eval");
    for (size_t i = 0; sk_eval && i < sizeof ev / sizeof ev[0]; i++) {
        f.mode = ev[i].mode;
        gt_agent *a = make_agent("renter", url, "m", 20000);
        gt_work_eval_spec es;
        gt_bench *b = NULL;
        gt_job ej;
        eval_job(ev[i].bench, &es, &b, &ej);
        gt_buf out = GT_BUF_INIT;
        err = (gt_err){0};
        CHECK_MSG(sk_eval->work(a, &ej, &out, &err) != 0 && out.len == 0, "eval, mode %d: a result", ev[i].mode);
        CHECK_CONTAINS(err.msg, ev[i].want);
        CHECK_CONTAINS(err.msg, url);
        gt_buf_free(&out);
        json_decref((json_t *)ej.spec);
        gt_bench_free(b);
        gt_agent_free(a);
    }
    f.mode = FAKE_500;
    gt_agent *ga = make_agent("renter", url, "m", 20000);
    gt_job_spec ds;
    gt_buf blob = GT_BUF_INIT;
    CHECK(gt_job_spec_parse(DATA_SPEC, strlen(DATA_SPEC), &ds, &err) == 0);
    gt_llm *gl = gt_agent_llm(ga, &err);
    CHECK(gl && gt_work_generate_batch(&ds, gl, gt_agent_address(ga), 0, &blob, &err) != 0 && blob.len == 0);
    CHECK_CONTAINS(err.msg, "HTTP 500");
    CHECK_CONTAINS(err.msg, url);
    gt_buf_free(&blob);
    gt_job_spec_free(&ds);
    gt_agent_free(ga);
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
