/* test_serve_judge.c: the data pipeline's judge stage end to end over the
 * OpenAI API, as `gotong agent --model-url URL` runs it (an agent whose
 * model calls go to URL: agent/oai.h).
 *
 * The tiny llama vocabulary tokenizes " Yes" and " No" with the same first
 * token, so its judge cannot run at all; the tiny qwen2 fixture's byte-level
 * BPE has " Yes" (3363) and " No" (1400) as tokens of their own. With it:
 * a generated batch is judged in-process and through two servers (a
 * `gotong serve` port, and a node's port serving the model, `gotong node
 * -m`): every sample's judge score is the same double, bit for bit, and with
 * a threshold between the scores some samples pass and some fail the judge,
 * with the same verdicts, counts and reasons everywhere. */
#include <signal.h>

#include <jansson.h>

#include "../test.h"
#include "../api/api_util.h"
#include "agent/agent.h"
#include "api/ext.h"
#include "base/alloc.h"
#include "crypto/keccak.h"
#include "serve/serve.h"
#include "work/data/batch.h"
#include "work/data/pipeline.h"
#include "work/llm.h"

#define MODEL "models/tiny-qwen2-q8_0.gguf"
#define N_SAMPLES 4

static gt_agent_model *model;

/* A data job whose every sample is judged (no other filter turns one away). */
static const char *const SPEC_FMT =
    "{\"version\":1,\"name\":\"notes\",\"template\":\"Write note {index} about {topic}.\\n\","
    "\"variables\":{\"topic\":[\"rain\",\"bread\",\"trains\",\"salt\"]},\"seed\":5,\"samples\":%d,\"batch\":%d,"
    "\"reward\":\"1\",\"stake\":\"0.5\",\"license\":\"cc-by-4.0\",\"generation\":{\"max_tokens\":8,\"temp\":0.9},"
    "\"pipeline\":{\"verify\":false,\"dedup\":false,\"near_dedup\":false,\"schema\":false,"
    "\"judge\":{\"threshold\":%.17g}}}";

static int parse_spec(double threshold, gt_job_spec *spec) {
    char text[1024];
    snprintf(text, sizeof text, SPEC_FMT, N_SAMPLES, N_SAMPLES, threshold);
    gt_err err = {0};
    int rc = gt_job_spec_parse(text, strlen(text), spec, &err);
    CHECK_MSG(rc == 0, "spec: %s", err.msg);
    return rc;
}

/* An agent on the model, renting it from model_url when given. */
static gt_agent *make_agent(const char *name, const char *model_url) {
    gt_key k;
    uint8_t h[32];
    gt_keccak256(name, strlen(name), h);
    gt_key_from_bytes(&k, h, NULL);
    gt_agent_config c = {.name = name, .skills = "generate", .roles = GT_ROLE_WORKER, .model = model,
                         .n_threads = 1, .model_url = model_url};
    gt_agent *a = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_agent_new(&c, &k, "http://127.0.0.1:9", &a, &err) == 0, "agent: %s", err.msg);
    return a;
}

/* Validates blob with llm as judge (what the generate skill's validate()
 * does): the verdict, the reason blob without wall times, each sample's
 * judge score. 0 or -1. */
static int judge_batch(gt_llm *llm, const gt_job_spec *spec, const gt_addr *w, const gt_buf *blob,
                       gt_work_batch_verdict *v, json_t **reason, double scores[N_SAMPLES]) {
    gt_pipeline *p = NULL;
    gt_err err = {0};
    gt_buf r = GT_BUF_INIT;
    gt_sample *s = NULL;
    size_t n = 0;
    gt_pipeline_opts o = {.judge = llm, .regen = llm, .spot_seed = 3};
    int rc = gt_pipeline_new(spec, &p, &err);
    if (!rc) rc = gt_work_validate_batch(p, spec, &o, 0, w, blob->data, blob->len, v, &r, &s, &n, &err);
    CHECK_MSG(rc == 0, "validate: %s", err.msg);
    CHECK_EQ_INT((int)n, N_SAMPLES);
    for (size_t i = 0; i < n && i < N_SAMPLES; i++) scores[i] = s[i].judge_score;
    *reason = rc ? NULL : json_loadb((const char *)r.data, r.len, 0, NULL);
    gt_samples_free(s, n);
    gt_buf_free(&r);
    gt_pipeline_free(p);
    return rc ? -1 : 0;
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

/* The threshold halfway between the lowest and the highest score, so the
 * judge passes some samples and fails others; -1 when all scores are equal. */
static double split(const double s[N_SAMPLES]) {
    double lo = s[0], hi = s[0];
    for (int i = 1; i < N_SAMPLES; i++) lo = s[i] < lo ? s[i] : lo, hi = s[i] > hi ? s[i] : hi;
    return hi > lo ? lo + (hi - lo) / 2 : -1;
}

/* The same job judged by the three: equal bits, equal verdicts. */
static void judge_three(gt_llm *ll, gt_llm *la, gt_llm *lb, const gt_addr *w) {
    gt_job_spec spec;
    if (parse_spec(0.5, &spec)) return;
    gt_buf blob = GT_BUF_INIT;
    gt_err err = {0};
    CHECK_MSG(gt_work_generate_batch(&spec, ll, w, 0, &blob, &err) == 0, "%s", err.msg);
    gt_work_batch_verdict v;
    json_t *reason = NULL;
    double s_l[N_SAMPLES] = {0}, s_a[N_SAMPLES] = {0}, s_b[N_SAMPLES] = {0};
    CHECK(judge_batch(ll, &spec, w, &blob, &v, &reason, s_l) == 0);
    json_decref(reason);
    double t = split(s_l);
    CHECK_MSG(t > 0 && t < 1, "the judge gave every sample the same score %.17g", s_l[0]);
    gt_job_spec_free(&spec);
    if (parse_spec(t, &spec)) return;
    gt_work_batch_verdict vl, va, vb;
    json_t *rl = NULL, *ra = NULL, *rb = NULL;
    CHECK(judge_batch(ll, &spec, w, &blob, &vl, &rl, s_l) == 0);
    CHECK(judge_batch(la, &spec, w, &blob, &va, &ra, s_a) == 0);
    CHECK(judge_batch(lb, &spec, w, &blob, &vb, &rb, s_b) == 0);
    for (int i = 0; i < N_SAMPLES; i++) {
        CHECK_MSG(s_l[i] > 0 && s_l[i] < 1, "sample %d: score %.17g", i, s_l[i]);
        CHECK_MSG(!memcmp(&s_l[i], &s_a[i], sizeof(double)) && !memcmp(&s_l[i], &s_b[i], sizeof(double)),
                  "sample %d: in-process %.17g, serve %.17g, node %.17g", i, s_l[i], s_a[i], s_b[i]);
    }
    fprintf(stderr, "judge scores %.17g %.17g %.17g %.17g, threshold %.17g\n", s_l[0], s_l[1], s_l[2], s_l[3], t);
    const gt_stage_report *j = &vl.report.stage[GT_STAGE_JUDGE];
    CHECK_EQ_U64(j->checked, N_SAMPLES);
    CHECK_MSG(j->passed >= 1 && j->failed >= 1, "judge passed %llu, failed %llu", (unsigned long long)j->passed,
              (unsigned long long)j->failed);
    CHECK_EQ_U64(vl.accepted, j->passed);
    CHECK_EQ_U64(va.accepted, vl.accepted);
    CHECK_EQ_U64(vb.accepted, vl.accepted);
    CHECK_EQ_U64(va.report.stage[GT_STAGE_JUDGE].failed, j->failed);
    CHECK_EQ_U64(vb.report.stage[GT_STAGE_JUDGE].failed, j->failed);
    drop_seconds(rl), drop_seconds(ra), drop_seconds(rb);
    CHECK(rl && json_equal(rl, ra) && json_equal(rl, rb));
    json_decref(rl), json_decref(ra), json_decref(rb);
    gt_buf_free(&blob);
    gt_job_spec_free(&spec);
}

/* A node serving the model on its port (`gotong node -m`). */
static gt_node *model_node(const char *home, gt_serve *s) {
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = home, c.listen = "127.0.0.1:0", c.threads = 0, c.block_interval_ms = 0, c.access_log = 0;
    c.ext = gt_serve_ext(s);
    gt_node *n = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_node_start(&c, &n, &err) == 0, "node: %s", err.msg);
    return n;
}

static void test_judge_remote(void) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(MODEL), c.listen = "127.0.0.1:0", c.n_threads = 1;
    gt_serve *sa = NULL, *sb = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_start(&c, &sa, &err) == 0, "%s", err.msg);
    c.n_threads = 2; /* another thread count: the same bits */
    CHECK_MSG(gt_serve_open(&c, &sb, &err) == 0, "%s", err.msg);
    char home[64];
    thome(home);
    gt_node *nb = sb ? model_node(home, sb) : NULL;
    if (sa && nb) {
        char url_a[64], url_b[64];
        snprintf(url_a, sizeof url_a, "http://127.0.0.1:%u/v1", gt_serve_port(sa));
        snprintf(url_b, sizeof url_b, "http://127.0.0.1:%u/v1", gt_node_port(nb));
        gt_agent *local = make_agent("local", NULL), *a = make_agent("via-serve", url_a);
        gt_agent *b = make_agent("via-node", url_b);
        gt_llm *ll = local ? gt_agent_llm(local, &err) : NULL, *la = a ? gt_agent_llm(a, &err) : NULL;
        gt_llm *lb = b ? gt_agent_llm(b, &err) : NULL;
        CHECK_MSG(ll && la && lb && !ll->remote && la->remote && lb->remote, "%s", err.msg);
        if (ll && la && lb) judge_three(ll, la, lb, gt_agent_address(local));
        gt_agent_free(local), gt_agent_free(a), gt_agent_free(b);
    }
    gt_node_stop(nb);
    gt_serve_stop(sb);
    gt_serve_stop(sa);
    trm(home);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    gt_err err = {0};
    if (gt_agent_model_load(gt_fixture(MODEL), &model, &err)) {
        fprintf(stderr, "fixture model: %s\n", err.msg);
        return 1;
    }
    RUN(test_judge_remote);
    gt_agent_model_free(model);
    curl_global_cleanup();
    return gt_test_finish();
}
