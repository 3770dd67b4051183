/* test_agent.c: the agent runtime.
 *  - the `complete` skill with the tiny fixture model: work is deterministic
 *    (same bytes twice, and with 1 or 2 threads), verify accepts an honest
 *    result and rejects a tampered or malformed one saying where, specs that
 *    are malformed or name another model are refused with a message;
 *  - the client against a scripted HTTP server: the node's error body
 *    becomes the error (code and message), a blob whose bytes do not hash to
 *    its id is refused, a dead node and a bad URL give clear errors;
 *  - the whole loop against a real node (`gotong node` in a child process):
 *    a poster posts, a worker claims, works and submits, the poster verifies
 *    by re-running, the worker settles and is paid; a garbage worker is
 *    rejected and concedes; money adds up;
 *  - results that cannot be verified are rejections, never silence (which
 *    the verify deadline used to turn into pay): a result hash whose blob
 *    was never uploaded, a blob over the old 4 MiB download limit (the node
 *    takes up to GT_LIMIT_RESULT_BYTES, the verifier now fetches as much),
 *    a blob that is not a result; each gets a reject verdict whose reason
 *    blob says why, and the attacker is not paid; a copy of an honest
 *    worker's result submitted to another slot of the task is rejected;
 *    a verdict that fails for a transient reason (no funds for the
 *    rejection bond) is retried every pass and sent once it can be;
 *  - honest workers claim no slot of a task whose slots all ask for one
 *    deterministic result (unless its spec allows identical results), where
 *    the later identical result was rejected as a copy and its stake lost. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "../node_child.h"
#include "agent/agent.h"
#include "agent/agent_impl.h"
#include "agent/skill_complete.h"
#include "base/alloc.h"
#include "base/json.h"
#include "base/limits.h"
#include "crypto/sha256.h"
#include "crypto/keccak.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "store/blob.h"
#include "work/data/job.h"
#include "work/eval/check.h"
#include "work/llm.h"
#include "market/market.h"

static gt_agent_model *model;

static void key_for(const char *name, gt_key *k) {
    uint8_t h[32];
    gt_keccak256(name, strlen(name), h);
    gt_key_from_bytes(k, h, NULL);
}

static gt_agent *make_agent(const char *name, const char *url, int roles, int faults, int threads) {
    gt_key k;
    key_for(name, &k);
    gt_agent_config c = {.name = name, .skills = "complete", .price_units = 1000000, .roles = roles,
                         .faults = faults, .model = model, .n_threads = threads, .poll_ms = 50};
    gt_agent *a = NULL;
    gt_err err = {0};
    int rc = gt_agent_new(&c, &k, url, &a, &err);
    CHECK_MSG(rc == 0, "agent: %s", err.msg);
    return a;
}

/* ---- the complete skill ---- */

static json_t *spec_json(const char *model_id, int n_predict) {
    const char *ps[] = {"The quick brown fox", "Once upon a time"};
    char *s = gt_complete_spec(model_id, ps, 2, n_predict);
    json_t *j = json_loads(s, 0, NULL);
    free(s);
    return j;
}

/* A sub-task's share of the parent's bounty and stake is exact for any
 * amount: bounty x prompts handed on used to be a 64-bit product, which
 * wrapped for a bounty above UINT64_MAX / prompts (a parent of 4e18 base
 * units handing on 5 of 8 prompts was offered 0.2e18 instead of 2.5e18). */
static void test_sub_units(void) {
    const uint64_t big = 4000000000000000000ull;
    CHECK_EQ_U64(gt_complete_sub_units(big, 5, 8), 2500000000000000000ull);
    CHECK_EQ_U64(gt_complete_sub_units(UINT64_MAX, 63, 64), UINT64_MAX / 64 * 63 + (UINT64_MAX % 64) * 63 / 64);
    CHECK_EQ_U64(gt_complete_sub_units(10, 1, 3), 3);
    CHECK_EQ_U64(gt_complete_sub_units(1, 1, 2), 1); /* never 0: a task needs a bounty */
    CHECK_EQ_U64(gt_complete_sub_units(7, 7, 7), 7);
}

/* The memo ring: a put returns its entry; an entry the ring reuses starts
 * clean (it used to keep the value and ref of the decision it replaced, so a
 * re-run that failed left a stale "it reproduces" behind), and a decision
 * the ring forgot is not found (a find after other puts may be NULL: the
 * callers check, agent_verify.c). */
/* The complete skill's estimate of a re-run (the reveal guard's, before any
 * history): 0 before the agent has timed a token; then every prompt's
 * n_predict tokens at its mean time a token (ag_token_us, 1 us at least). */
static void test_rerun_estimate(void) {
    gt_key k;
    key_for("estimate", &k);
    gt_agent *a = NULL;
    gt_err err = {0};
    gt_agent_config c = {.name = "estimate", .skills = "complete", .roles = GT_ROLE_VALIDATOR};
    CHECK_MSG(gt_agent_new(&c, &k, "http://127.0.0.1:9", &a, &err) == 0, "%s", err.msg);
    const gt_skill *sk = gt_skill_find("complete");
    const char *ps[] = {"a", "b", "c"};
    char *spec = gt_complete_spec("sha256:0000000000000000000000000000000000000000000000000000000000000000", ps, 3, 8);
    json_t *js = spec ? json_loads(spec, 0, NULL) : NULL;
    gt_job job = {.spec = js};
    CHECK(a && sk && sk->rerun_ms && js);
    if (a && sk && sk->rerun_ms && js) {
        CHECK_EQ_U64(ag_token_us(a), 0);
        CHECK_EQ_U64(sk->rerun_ms(a, &job), 0); /* no per-token time yet: history alone */
        a->gen_us = 5000, a->gen_tokens = 2;    /* 2500 us a token */
        CHECK_EQ_U64(ag_token_us(a), 2500);
        CHECK_EQ_U64(sk->rerun_ms(a, &job), 3 * 8 * 2500 / 1000 + 1);
        a->gen_us = 0, a->gen_tokens = 3; /* faster than a microsecond: 1 */
        CHECK_EQ_U64(ag_token_us(a), 1);
    }
    json_decref(js);
    free(spec);
    gt_agent_free(a);
}

/* A `complete` task's own size against its submit window, before a claim:
 * 64 prompts of 512 tokens at 2500 us a token is 82 s of work (prompts
 * read too), which a 30 s window cannot hold (the old agent had no such
 * check: its floor, twice its longest job so far, let it claim and lose the
 * stake) and a 300 s window can. */
static void test_complete_window(void) {
    gt_key k;
    key_for("window", &k);
    gt_agent *a = NULL;
    gt_err err = {0};
    gt_agent_config c = {.name = "window", .skills = "complete", .roles = GT_ROLE_WORKER};
    CHECK_MSG(gt_agent_new(&c, &k, "http://127.0.0.1:9", &a, &err) == 0, "%s", err.msg);
    const gt_skill *sk = gt_skill_find("complete");
    CHECK(a && sk && sk->claimable);
    if (!a || !sk || !sk->claimable) return gt_agent_free(a);
    const char *ps[GT_AGENT_MAX_PROMPTS];
    for (int i = 0; i < GT_AGENT_MAX_PROMPTS; i++) ps[i] = "Tell me a long story.";
    char *spec = gt_complete_spec("sha256:0000000000000000000000000000000000000000000000000000000000000000", ps,
                                  GT_AGENT_MAX_PROMPTS, GT_AGENT_MAX_PREDICT);
    json_t *js = spec ? json_loads(spec, 0, NULL) : NULL, *task = json_pack("{s:i}", "submitSeconds", 30);
    gt_job job = {.spec = js, .task = task};
    a->gen_us = 5000, a->gen_tokens = 2; /* 2500 us a token, as if measured */
    CHECK(sk->claimable(a, &job, &err) == GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "completing its 64 prompts of up to 512 tokens would take about");
    CHECK_CONTAINS(err.msg, "is more than its submit window of 30 s");
    json_object_set_new(task, "submitSeconds", json_integer(300));
    CHECK_MSG(sk->claimable(a, &job, &err) == 0, "%s", err.msg);
    json_decref(js), json_decref(task);
    free(spec);
    gt_agent_free(a);
}

/* An `eval` task's whole bench against its submit window, before a claim:
 * worker-sort-v1's 200 items of up to 192 tokens at 2500 us a token is
 * 96 s of work, which a 60 s window cannot hold (the old agent claimed it:
 * its floor is twice its longest job so far) and a 300 s window can. */
static void test_eval_window(void) {
    gt_key k;
    key_for("ewindow", &k);
    gt_agent *a = NULL;
    gt_err err = {0};
    gt_agent_config c = {.name = "ewindow", .skills = "eval", .roles = GT_ROLE_WORKER};
    CHECK_MSG(gt_agent_new(&c, &k, "http://127.0.0.1:9", &a, &err) == 0, "%s", err.msg);
    const gt_skill *sk = gt_skill_find("eval");
    gt_bench *b = NULL;
    CHECK(gt_bench_open("worker-sort-v1", &b, &err) == 0);
    CHECK(a && sk && sk->claimable && b);
    if (!a || !sk || !sk->claimable || !b) return gt_bench_free(b), gt_agent_free(a);
    gt_work_eval_spec s = {.limit = 0, .check = gt_work_eval_check_floor(200)};
    memcpy(s.bench_hash, b->hash, 32);
    snprintf(s.bench, sizeof s.bench, "worker-sort-v1");
    gt_bench_free(b);
    char *spec = gt_work_eval_spec_json(&s);
    json_t *js = spec ? json_loads(spec, 0, NULL) : NULL, *task = json_pack("{s:i}", "submitSeconds", 60);
    gt_job job = {.spec = js, .task = task};
    a->gen_us = 5000, a->gen_tokens = 2; /* 2500 us a token, as if measured */
    CHECK(sk->claimable(a, &job, &err) == GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "running its 200 items of worker-sort-v1 would take about 96000 ms");
    CHECK_CONTAINS(err.msg, "is more than its submit window of 60 s");
    json_object_set_new(task, "submitSeconds", json_integer(300));
    CHECK_MSG(sk->claimable(a, &job, &err) == 0, "%s", err.msg);
    json_decref(js), json_decref(task);
    free(spec);
    gt_agent_free(a);
}

/* The generate skill's estimate of a batch's check (the reveal guard's,
 * before any history; it had none): 0 before a token is timed; then the
 * spot-checked samples (ceil(0.5 x 4) = 2) at max_tokens (8) each, plus one
 * call a sample when a judge stage scores the batch. */
static void test_rerun_estimate_generate(void) {
    gt_key k;
    key_for("estimate-gen", &k);
    gt_agent *a = NULL;
    gt_err err = {0};
    gt_agent_config c = {.name = "estimate-gen", .skills = "generate", .roles = GT_ROLE_VALIDATOR};
    CHECK_MSG(gt_agent_new(&c, &k, "http://127.0.0.1:9", &a, &err) == 0, "%s", err.msg);
    const gt_skill *sk = gt_skill_find("generate");
    const char *plain = "{\"version\":1,\"name\":\"lines\",\"template\":\"Write one line about {topic}.\","
                        "\"variables\":{\"topic\":[\"rice\"]},\"seed\":1,\"samples\":8,\"batch\":4,\"reward\":1,"
                        "\"stake\":0,\"license\":\"mit\",\"generation\":{\"max_tokens\":8},"
                        "\"pipeline\":{\"spot_check\":0.5}}";
    const char *judged = "{\"version\":1,\"name\":\"judged\",\"template\":\"Write one line about {topic}.\","
                         "\"variables\":{\"topic\":[\"rice\"]},\"seed\":1,\"samples\":8,\"batch\":4,\"reward\":1,"
                         "\"stake\":0,\"license\":\"mit\",\"generation\":{\"max_tokens\":8},"
                         "\"pipeline\":{\"spot_check\":0.5,\"judge\":{\"threshold\":0.4}}}";
    json_t *jp = json_loads(plain, 0, NULL), *jj = json_loads(judged, 0, NULL), *bad = json_loads("{}", 0, NULL);
    CHECK(a && sk && sk->rerun_ms && jp && jj && bad);
    if (a && sk && sk->rerun_ms && jp && jj && bad) {
        gt_job job = {.spec = jp}, job_j = {.spec = jj}, job_bad = {.spec = bad};
        CHECK_EQ_U64(sk->rerun_ms(a, &job), 0); /* no per-token time yet: history alone */
        a->gen_us = 5000, a->gen_tokens = 2;    /* 2500 us a token */
        CHECK_EQ_U64(sk->rerun_ms(a, &job), 2 * 8 * 2500 / 1000 + 1);
        /* A judge call reads the sample's judge prompt (its frame by bytes,
         * the output by max_tokens, BOS), not one token: the old estimate
         * counted 1 a sample, (2 x 8 + 4) x 2.5 ms, under the 4 x 8 output
         * tokens alone. No prompt time measured: a generated token's. */
        gt_job_spec sp;
        gt_buf p = GT_BUF_INIT, jb = GT_BUF_INIT;
        memset(&sp, 0, sizeof sp);
        CHECK_EQ_INT(gt_job_spec_parse(judged, strlen(judged), &sp, &err), 0);
        CHECK_EQ_INT(gt_job_render(&sp, 0, &p, NULL, &err), 0);
        CHECK_EQ_INT(gt_job_render_judge(&sp, (const char *)p.data, "", &jb, &err), 0);
        uint64_t judge_tokens = 4 * ((uint64_t)jb.len + 8 + 1);
        CHECK(jb.len > 100); /* the default frame */
        CHECK_EQ_U64(sk->rerun_ms(a, &job_j), (2 * 8 + judge_tokens) * 2500 / 1000 + 1);
        CHECK(sk->rerun_ms(a, &job_j) > (2 * 8 + 4 * 8) * 2500 / 1000);
        gt_buf_free(&p);
        gt_buf_free(&jb);
        gt_job_spec_free(&sp);
        CHECK_EQ_U64(sk->rerun_ms(a, &job_bad), 0); /* a spec it cannot read */
        /* The last batch of 6 samples in 4s holds 2: its check re-runs
         * ceil(0.5 x 2) = 1 sample, not the full batch's 2 (the estimate
         * took the spec's batch for every slot). */
        json_t *six = json_loads(plain, 0, NULL);
        CHECK(six != NULL);
        if (six) {
            json_object_set_new(six, "samples", json_integer(6));
            gt_job last = {.spec = six, .slot = 1}, first = {.spec = six, .slot = 0};
            CHECK_EQ_U64(sk->rerun_ms(a, &first), 2 * 8 * 2500 / 1000 + 1);
            CHECK_EQ_U64(sk->rerun_ms(a, &last), 1 * 8 * 2500 / 1000 + 1);
        }
        json_decref(six);
    }
    json_decref(jp);
    json_decref(jj);
    json_decref(bad);
    gt_agent_free(a);
}

/* A generate validator running its model here: its per-token time comes
 * from the model's own generations (spot re-runs, batches, judge calls all
 * go through gt_agent_llm), so the skill's estimate is there after one. On
 * the old code only the complete skill's gt_agent_complete and a rented
 * server's calls were timed: a generate-only agent's estimate stayed 0 and
 * the reveal guard had its history alone. */
static void test_rerun_estimate_generate_local(void) {
    gt_key k;
    key_for("estimate-gen-local", &k);
    gt_agent *a = NULL;
    gt_err err = {0};
    gt_agent_config c = {.name = "estimate-gen-local", .skills = "generate", .roles = GT_ROLE_VALIDATOR,
                         .model = model, .n_threads = 1};
    CHECK_MSG(gt_agent_new(&c, &k, "http://127.0.0.1:9", &a, &err) == 0, "%s", err.msg);
    const gt_skill *sk = gt_skill_find("generate");
    const char *spec = "{\"version\":1,\"name\":\"lines\",\"template\":\"Write one line about {topic}.\","
                       "\"variables\":{\"topic\":[\"rice\"]},\"seed\":1,\"samples\":8,\"batch\":4,\"reward\":1,"
                       "\"stake\":0,\"license\":\"mit\",\"generation\":{\"max_tokens\":8},"
                       "\"pipeline\":{\"spot_check\":0.5}}";
    json_t *js = json_loads(spec, 0, NULL);
    gt_llm *llm = a ? gt_agent_llm(a, &err) : NULL;
    CHECK_MSG(llm != NULL, "llm: %s", err.msg);
    if (a && sk && sk->rerun_ms && js && llm) {
        gt_job job = {.spec = js};
        CHECK_EQ_U64(sk->rerun_ms(a, &job), 0); /* nothing timed yet */
        gt_gen_params gp = gt_gen_defaults();
        gp.n_predict = 4;
        gt_buf out = GT_BUF_INIT;
        int n = 0;
        CHECK_MSG(gt_llm_generate(llm, "Once upon a time", 16, &gp, &out, &n, &err) == 0, "%s", err.msg);
        gt_buf_free(&out);
        uint64_t tok_us = ag_token_us(a);
        CHECK_MSG(tok_us > 0, "a local generation of %d tokens left no per-token time", n);
        CHECK_EQ_U64(sk->rerun_ms(a, &job), 2 * 8 * tok_us / 1000 + 1);
    }
    json_decref(js);
    gt_agent_free(a);
}

static void test_memo_ring(void) {
    gt_key k;
    key_for("memo", &k);
    gt_agent *a = NULL;
    gt_err err = {0};
    gt_agent_config c = {.name = "memo", .skills = "complete", .roles = GT_ROLE_VALIDATOR};
    CHECK_MSG(gt_agent_new(&c, &k, "http://127.0.0.1:9", &a, &err) == 0, "%s", err.msg);
    if (!a) return;
    uint8_t t0[32] = {1}, t[32] = {2};
    gt_agent_memo *m = ag_memo_put(a, t0, 0, 0, MEMO_PRECHECK, 0);
    m->value = 2;
    memset(m->ref, 0xab, 32);
    CHECK(ag_memo_find(a, t0, 0, 0, MEMO_PRECHECK) == m);
    for (uint64_t i = 0; i < GT_AGENT_MEMO; i++) ag_memo_put(a, t, i, 0, MEMO_VOTE, 0);
    CHECK(ag_memo_find(a, t0, 0, 0, MEMO_PRECHECK) == NULL); /* forgotten */
    gt_agent_memo *last = ag_memo_find(a, t, GT_AGENT_MEMO - 1, 0, MEMO_VOTE); /* took the forgotten entry */
    CHECK(last != NULL);
    if (last) {
        CHECK_EQ_INT(last->value, 0);
        CHECK(last->ref[0] == 0);
    }
    gt_agent_memo *n = ag_memo_put(a, t0, 1, 0, MEMO_PRECHECK, 0); /* reuses the oldest entry */
    uint8_t zero[32] = {0};
    CHECK_EQ_INT(n->value, 0);
    CHECK(!memcmp(n->ref, zero, 32));
    gt_agent_free(a);
}

static void test_complete_skill(void) {
    const gt_skill *sk = gt_skill_find("complete");
    CHECK(sk != NULL);
    CHECK(gt_skill_find("nonsense") == NULL);
    gt_agent *a1 = make_agent("w1", "http://127.0.0.1:1", GT_ROLE_WORKER, 0, 1);
    gt_agent *a2 = make_agent("w2", "http://127.0.0.1:1", GT_ROLE_WORKER, 0, 2);
    if (!sk || !a1 || !a2) goto out;
    json_t *spec = spec_json(gt_agent_model_id(model), 8);
    gt_job job = {.spec = spec};
    gt_buf r1 = GT_BUF_INIT, r2 = GT_BUF_INIT, r3 = GT_BUF_INIT;
    gt_err err = {0};
    CHECK(sk->fits(a1, &job, &err) == 0);
    CHECK(sk->work(a1, &job, &r1, &err) == 0);
    CHECK(sk->work(a1, &job, &r2, &err) == 0);
    CHECK(sk->work(a2, &job, &r3, &err) == 0); /* two threads: the same bytes */
    CHECK(r1.len > 0 && r1.len == r2.len && r1.len == r3.len);
    CHECK(r1.len && !memcmp(r1.data, r2.data, r1.len) && !memcmp(r1.data, r3.data, r1.len));
    json_t *res = json_loads((const char *)r1.data, 0, NULL);
    CHECK(res && json_array_size(json_object_get(res, "outputs")) == 2);
    CHECK(json_array_size(json_object_get(json_array_get(json_object_get(res, "outputs"), 0), "tokens")) == 8);
    CHECK_STR(json_string_value(json_object_get(res, "model")), gt_agent_model_id(model));
    CHECK(json_object_get(res, "cites") == NULL);
    /* Verify: the honest result is accepted. */
    gt_skill_verdict v = {0};
    CHECK(sk->verify(a2, &job, r1.data, r1.len, &v, &err) == 0);
    CHECK(v.accept == 1 && v.score == 100);
    CHECK_CONTAINS(v.reason, "identical");
    /* A changed token in the second output: rejected, saying which prompt. */
    json_t *t0 = json_array_get(json_object_get(json_array_get(json_object_get(res, "outputs"), 1), "tokens"), 0);
    json_integer_set(t0, json_integer_value(t0) + 1);
    char *bad = gt_json_dump(res);
    CHECK(sk->verify(a2, &job, (const uint8_t *)bad, strlen(bad), &v, &err) == 0);
    CHECK(v.accept == 0 && v.score == 50);
    CHECK_CONTAINS(v.reason, "prompt 2");
    free(bad);
    /* Not JSON, or not canonical: rejected. */
    CHECK(sk->verify(a2, &job, (const uint8_t *)"garbage", 7, &v, &err) == 0);
    CHECK(v.accept == 0);
    CHECK_CONTAINS(v.reason, "not a JSON object");
    json_decref(res);
    res = json_loads((const char *)r1.data, 0, NULL);
    char *pretty = json_dumps(res, JSON_INDENT(2) | JSON_SORT_KEYS);
    CHECK(sk->verify(a2, &job, (const uint8_t *)pretty, strlen(pretty), &v, &err) == 0);
    CHECK(v.accept == 0);
    CHECK_CONTAINS(v.reason, "canonical");
    free(pretty);
    json_decref(res);
    /* Specs refused with a message. */
    json_t *other = spec_json("sha256:0000000000000000000000000000000000000000000000000000000000000000", 8);
    gt_job j2 = {.spec = other};
    CHECK(sk->fits(a1, &j2, &err) == GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "asks for model");
    json_decref(other);
    json_t *big = spec_json(gt_agent_model_id(model), GT_AGENT_MAX_PREDICT + 1);
    j2.spec = big;
    CHECK(sk->work(a1, &j2, &r3, &err) == GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "n_predict");
    json_decref(big);
    json_t *extra = spec_json(gt_agent_model_id(model), 4);
    json_object_set_new(extra, "temperature", json_real(0.7));
    j2.spec = extra;
    CHECK(sk->fits(a1, &j2, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "temperature");
    json_object_del(extra, "temperature");
    json_object_set_new(extra, "prompts", json_array());
    CHECK(sk->fits(a1, &j2, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "prompts");
    json_decref(extra);
    gt_buf_free(&r1);
    gt_buf_free(&r2);
    gt_buf_free(&r3);
    json_decref(spec);
out:
    gt_agent_free(a1);
    gt_agent_free(a2);
}

static void test_agent_config(void) {
    gt_key k;
    key_for("cfg", &k);
    gt_agent *a = NULL;
    gt_err err = {0};
    gt_agent_config c = {.name = "x", .skills = "complete,translate", .roles = GT_ROLE_WORKER};
    CHECK(gt_agent_new(&c, &k, NULL, &a, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "unknown skill \"translate\"");
    c.skills = "";
    CHECK(gt_agent_new(&c, &k, NULL, &a, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "at least one skill");
    c.skills = "complete";
    c.name = "";
    CHECK(gt_agent_new(&c, &k, NULL, &a, &err) == GT_EINVAL);
    c.name = "ok";
    CHECK(gt_agent_new(&c, &k, "ftp://x", &a, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "http://HOST:PORT");
    CHECK(a == NULL);
}

/* ---- the client against a scripted server ---- */

typedef struct fake {
    int fd;
    uint16_t port;
    pthread_t th;
} fake;

/* Answers each connection's request by path, then closes it. */
static void *fake_serve(void *arg) {
    fake *f = arg;
    for (;;) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0) return NULL;
        char req[8192];
        size_t n = 0;
        ssize_t r;
        while (n < sizeof req - 1 && (r = read(c, req + n, sizeof req - 1 - n)) > 0) {
            n += (size_t)r;
            req[n] = 0;
            if (strstr(req, "\r\n\r\n")) break;
        }
        req[n] = 0;
        const char *status = "404 Not Found", *body = "{\"error\":{\"code\":\"ENOTFOUND\",\"message\":\"no route\"}}";
        const char *ctype = "application/json";
        if (strstr(req, "GET /v1/refused ")) {
            status = "422 Unprocessable Entity";
            body = "{\"error\":{\"code\":\"ESTATE\",\"message\":\"slot 0 is under dispute\"}}";
        } else if (strstr(req, "GET /v1/blobs/")) {
            status = "200 OK";
            ctype = "application/octet-stream";
            body = "not the bytes you asked for";
        } else if (strstr(req, "GET /v1/notjson ")) {
            status = "200 OK";
            body = "<html>";
        } else if (strstr(req, "GET /v1/shutdown ")) {
            status = "200 OK";
            body = "{}";
        }
        char resp[1024];
        int m = snprintf(resp, sizeof resp, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         status, ctype, strlen(body), body);
        if (write(c, resp, (size_t)m) < 0) {
        }
        close(c);
        if (strstr(req, "GET /v1/shutdown ")) return NULL;
    }
}

static void test_client_errors(void) {
    fake f = {0};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    f.fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(bind(f.fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(f.fd, 8) == 0);
    getsockname(f.fd, (struct sockaddr *)&sa, &sl);
    f.port = ntohs(sa.sin_port);
    pthread_create(&f.th, NULL, fake_serve, &f);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", f.port);
    gt_client *c = NULL;
    gt_err err = {0};
    CHECK(gt_client_new(url, &c, &err) == 0);
    json_t *j = NULL;
    CHECK(gt_client_get_json(c, "/v1/refused", &j, &err) == GT_ESTATE);
    CHECK_STR(err.msg, "slot 0 is under dispute");
    CHECK(gt_client_get_json(c, "/v1/nothing", &j, &err) == GT_ENOTFOUND);
    CHECK(gt_client_get_json(c, "/v1/notjson", &j, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "not JSON");
    uint8_t *data = NULL;
    size_t len = 0;
    CHECK(gt_client_blob_get(c, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", 1024,
                             &data, &len, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "do not hash");
    CHECK(data == NULL);
    CHECK(gt_client_blob_get(c, "sha256:xyz", 1024, &data, &len, &err) == GT_EINVAL);
    CHECK(gt_client_get_json(c, "/v1/shutdown", &j, &err) == 0);
    json_decref(j);
    pthread_join(f.th, NULL);
    close(f.fd);
    /* Nobody listening any more. */
    CHECK(gt_client_get_json(c, "/v1/head", &j, &err) == GT_EIO);
    CHECK_CONTAINS(err.msg, url);
    gt_client_free(c);
    CHECK(gt_client_new("127.0.0.1:8645", &c, &err) == GT_EINVAL);
}

/* ---- the loop against a real node ---- */

static pid_t node_pid;

/* Starts `gotong node` on a fresh home with a genesis funding the names. */
static int start_node(const char *home, char *url, size_t cap) {
    gt_err err = {0};
    char db[600];
    snprintf(db, sizeof db, "%s/ledger.db", home);
    gt_key fk;
    key_for("faucet", &fk);
    gt_genesis g = {.chain_id = 1337, .unbonding_blocks = 10, .time_s = 1700000000};
    gt_key_address(&fk, &g.authority);
    if (gt_market_register(&err) || gt_ledger_create(db, &g, &err)) {
        fprintf(stderr, "genesis: %s\n", err.msg);
        return -1;
    }
    node_pid = gt_test_node_start(home, "200", url, cap);
    return node_pid < 0 ? -1 : 0;
}

typedef struct amount_args {
    gt_addr to;
    uint64_t units;
} amount_args;

static int fill_mint(void *arg, gt_action *a, gt_err *err) {
    const amount_args *x = arg;
    gt_action_set_addr(a, "to", &x->to);
    gt_action_set_u64(a, "amount", x->units);
    return 0;
}

static uint64_t balance(gt_client *c, const gt_agent *a) {
    gt_client_acct acc = {0};
    gt_client_account(c, gt_agent_address(a), &acc, NULL);
    return acc.balance_units;
}

/* Steps every agent until the task is complete (or 400 passes). */
static const char *run_until_complete(gt_agent **ag, int n, gt_client *c, const uint8_t id[32]) {
    static char status[32];
    for (int pass = 0; pass < 400; pass++) {
        for (int i = 0; i < n; i++) {
            gt_err err = {0};
            if (gt_agent_step(ag[i], NULL, &err)) fprintf(stderr, "step: %s\n", err.msg);
        }
        json_t *t = NULL;
        if (gt_client_task(c, id, &t, NULL) == 0) {
            snprintf(status, sizeof status, "%s", json_string_value(json_object_get(t, "status")));
            json_decref(t);
            if (!strcmp(status, "complete")) return status;
        }
        usleep(50000);
    }
    return status;
}

static void test_loop_on_node(void) {
    char home[] = "/tmp/gt-test-agent-XXXXXX", url[128];
    if (!mkdtemp(home)) return;
    int started = start_node(home, url, sizeof url) == 0;
    CHECK_MSG(started, "could not start %s node", GT_CLI);
    if (!started) return;
    gt_agent *poster = make_agent("poster", url, GT_ROLE_POSTER, 0, 1);
    gt_agent *worker = make_agent("worker", url, GT_ROLE_WORKER, 0, 1);
    gt_agent *cheat = make_agent("cheat", url, 0, GT_FAULT_GARBAGE, 1);
    gt_client *c = NULL;
    gt_err err = {0};
    gt_client_new(url, &c, &err);
    gt_key fk;
    key_for("faucet", &fk);
    gt_agent *all[] = {poster, worker, cheat};
    for (int i = 0; i < 3; i++) {
        amount_args m = {*gt_agent_address(all[i]), 20000000};
        CHECK(gt_client_act(c, &fk, &gt_kind_mint, fill_mint, &m, NULL, NULL, &err) == 0);
        CHECK_MSG(gt_agent_register(all[i], &err) == 0, "register: %s", err.msg);
    }
    /* Registering again with the same card sends nothing. */
    gt_client_acct before = {0}, after = {0};
    gt_client_account(c, gt_agent_address(worker), &before, NULL);
    CHECK(gt_agent_register(worker, &err) == 0);
    gt_client_account(c, gt_agent_address(worker), &after, NULL);
    CHECK_EQ_U64(after.nonce, before.nonce);

    /* Honest work, verified by re-running, paid. */
    const char *ps[] = {"Hello"};
    char *spec = gt_complete_spec(gt_agent_model_id(model), ps, 1, 8);
    gt_task_terms t = {.kind = "complete", .slots = 1, .bounty_units = 3000000, .stake_units = 1000000};
    uint8_t id[32];
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    CHECK_STR(run_until_complete(all, 2, c, id), "complete");
    CHECK_EQ_U64(balance(c, worker), 23000000);
    CHECK_EQ_U64(balance(c, poster), 17000000);
    gt_agent_stats st;
    gt_agent_stats_get(worker, &st);
    CHECK_EQ_U64(st.claimed, 1);
    CHECK_EQ_U64(st.submitted, 1);
    CHECK_EQ_U64(st.settled, 1);
    gt_agent_stats_get(poster, &st);
    CHECK_EQ_U64(st.accepted_given, 1);

    /* Garbage: rejected by the poster's re-run; the cheat concedes (stake to
     * the poster), the slot reopens, the honest worker finishes it. */
    CHECK(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0);
    gt_agent_set_roles(cheat, GT_ROLE_WORKER);
    for (int i = 0; i < 20; i++) {
        gt_agent_step(cheat, NULL, &err);
        gt_agent_stats_get(cheat, &st);
        if (st.claimed) break;
        usleep(50000);
    }
    CHECK_EQ_U64(st.claimed, 1);
    gt_agent_set_roles(cheat, 0);
    CHECK_STR(run_until_complete(all, 3, c, id), "complete");
    gt_agent_stats_get(cheat, &st);
    CHECK_EQ_U64(st.conceded, 1);
    CHECK_EQ_U64(balance(c, cheat), 19000000);      /* its stake of 1 went to the poster */
    CHECK_EQ_U64(balance(c, poster), 15000000);     /* 17 - 3 bounty + 1 slashed stake */
    CHECK_EQ_U64(balance(c, worker), 26000000);
    json_t *rep = NULL;
    CHECK(gt_client_reputation(c, gt_agent_address(cheat), &rep, &err) == 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(rep, "total"), "rejected")), 1);
    json_decref(rep);

    /* A poster who would take an honest worker's stake with a submit window
     * too short to meet (2 s of block time, under the agent's floor of
     * GT_AGENT_CLAIM_MIN_MS) gets no claim at all. */
    gt_agent_stats_get(worker, &st);
    uint64_t claimed_before = st.claimed, worker_before = balance(c, worker);
    gt_task_terms short_t = t;
    short_t.submit_s = 2;
    CHECK(gt_agent_post(poster, &short_t, spec, strlen(spec), id, &err) == 0);
    for (int i = 0; i < 10; i++) {
        gt_agent_step(worker, NULL, &err);
        usleep(20000);
    }
    gt_agent_stats_get(worker, &st);
    CHECK_EQ_U64(st.claimed, claimed_before);
    CHECK_EQ_U64(balance(c, worker), worker_before);
    json_t *tj = NULL;
    CHECK(gt_client_task(c, id, &tj, &err) == 0);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(tj, "slotList"), 0), "state")), "open");
    json_decref(tj);
    free(spec);
    for (int i = 0; i < 3; i++) gt_agent_free(all[i]);
    gt_client_free(c);
    gt_test_node_stop(node_pid);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", home);
}

typedef struct submit_args {
    const uint8_t *task, *result;
    uint64_t slot;
} submit_args;

static int fill_submit(void *arg, gt_action *a, gt_err *err) {
    const submit_args *x = arg;
    gt_action_set_b32(a, "task", x->task);
    gt_action_set_u64(a, "slot", x->slot);
    gt_action_set_b32(a, "result", x->result);
    return 0;
}

static int fill_task(void *arg, gt_action *a, gt_err *err) {
    gt_action_set_b32(a, "task", arg);
    return 0;
}

/* The poster's verdict on a result the attacker submits by hand for a new
 * one-slot task: the slot's state once the poster acted (or after 40
 * passes), with the reason blob's text in why. */
static void attack_verdict(gt_agent *poster, gt_client *c, const gt_key *attacker, const uint8_t result[32],
                           char *state, char *why, size_t cap) {
    const char *ps[] = {"Hello"};
    char *spec = gt_complete_spec(gt_agent_model_id(model), ps, 1, 4);
    gt_task_terms t = {.kind = "complete", .slots = 1, .bounty_units = 3000000, .stake_units = 1000000};
    uint8_t id[32];
    gt_err err = {0};
    snprintf(state, 32, "?");
    why[0] = 0;
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    free(spec);
    submit_args x = {id, result, 0};
    CHECK_MSG(gt_client_act(c, attacker, &gt_kind_task_claim, fill_task, id, NULL, NULL, &err) == 0, "claim: %s", err.msg);
    CHECK_MSG(gt_client_act(c, attacker, &gt_kind_task_submit, fill_submit, &x, NULL, NULL, &err) == 0, "submit: %s",
              err.msg);
    for (int pass = 0; pass < 40; pass++) {
        gt_agent_step(poster, NULL, &err);
        json_t *task = NULL;
        if (gt_client_task(c, id, &task, NULL)) continue;
        json_t *sl = json_array_get(json_object_get(task, "slotList"), 0);
        snprintf(state, 32, "%s", json_string_value(json_object_get(sl, "state")));
        const char *rid = json_string_value(json_object_get(sl, "reason"));
        uint8_t *b = NULL;
        size_t n = 0;
        if (rid && !gt_client_blob_get(c, rid, 4096, &b, &n, NULL)) snprintf(why, cap, "%.*s", (int)n, (const char *)b);
        gt_free(b);
        json_decref(task);
        if (strcmp(state, "submitted")) break;
        usleep(20000);
    }
}

/* A transient error while verifying is retried, and nothing is marked
 * handled before the verdict is on the ledger: a poster funded for the
 * bounty only cannot lock the rejection bond (GT_EFUNDS, which a top-up
 * cures), so its reject verdict on a result that cannot be verified fails
 * pass after pass and the slot stays submitted; once funded, the next pass
 * sends it. (Marked handled before the verdict, as the agent once did, the
 * slot would have waited for the verify deadline.) */
static void verify_retry(const char *url, gt_client *c, const gt_key *ak) {
    gt_err err = {0};
    gt_agent *poster = make_agent("r-poster", url, GT_ROLE_POSTER, 0, 1);
    gt_key fk;
    key_for("faucet", &fk);
    amount_args m = {*gt_agent_address(poster), 3000000}; /* the bounty, not the bond */
    CHECK(gt_client_act(c, &fk, &gt_kind_mint, fill_mint, &m, NULL, NULL, &err) == 0);
    CHECK_MSG(gt_agent_register(poster, &err) == 0, "register: %s", err.msg);
    gt_agent_stats s0, s1;
    gt_agent_stats_get(poster, &s0);
    uint8_t ghost[32];
    gt_sha256("never uploaded either", 21, ghost);
    char state[32], why[4096];
    attack_verdict(poster, c, ak, ghost, state, why, sizeof why); /* 40 passes */
    CHECK_STR(state, "submitted");
    gt_agent_stats_get(poster, &s1);
    CHECK_MSG(s1.errors >= s0.errors + 2, "the verdict was tried %llu times, expected a try every pass",
              (unsigned long long)(s1.errors - s0.errors));
    CHECK_EQ_U64(s1.verified, s0.verified);
    m.units = 1000000; /* the rejection bond: the task's stake */
    CHECK(gt_client_act(c, &fk, &gt_kind_mint, fill_mint, &m, NULL, NULL, &err) == 0);
    gt_agent_step(poster, NULL, &err);
    gt_agent_stats_get(poster, &s1);
    CHECK_EQ_U64(s1.verified, s0.verified + 1);
    CHECK_EQ_U64(balance(c, poster), 0); /* the bond is locked: the verdict is on the ledger */
    gt_agent_free(poster);
}

/* A result with honest outputs (the attacker ran the model) that cites
 * `cite`, uploaded with c's signer; its hash in id. */
static void citing_result(gt_client *c, const char *cite, uint8_t id[32]) {
    const char *ps[] = {"Hello"};
    char *spec = gt_complete_spec(gt_agent_model_id(model), ps, 1, 4);
    json_t *sj = json_loads(spec, 0, NULL);
    free(spec);
    gt_agent *me = make_agent("u-citer", "http://127.0.0.1:1", GT_ROLE_WORKER, 0, 1);
    gt_job job = {.spec = sj};
    gt_buf r = GT_BUF_INIT;
    gt_err err = {0};
    CHECK_MSG(gt_skill_find("complete")->work(me, &job, &r, &err) == 0, "work: %s", err.msg);
    json_t *res = json_loadb((const char *)r.data, r.len, 0, NULL);
    json_object_set_new(res, "cites", json_pack("[s]", cite));
    char *bytes = gt_json_dump(res), bid[72];
    CHECK_MSG(gt_client_blob_put(c, bytes, strlen(bytes), bid, &err) == 0, "put: %s", err.msg);
    CHECK(gt_blob_id_parse(bid, id, &err) == 0);
    free(bytes);
    json_decref(res);
    json_decref(sj);
    gt_buf_free(&r);
    gt_agent_free(me);
}

/* Cites must be paid results of the worker's own sub-tasks, on the node: a
 * result with honest outputs citing a blob that was never uploaded, or a
 * blob that exists but is another task's result (honest: slot 0's result of
 * another task), was accepted (only the ids' form was checked); now each is
 * rejected, saying which cite and why. */
static void forged_cites(gt_agent *poster, gt_client *c, const gt_key *ak, const uint8_t honest[32]) {
    char state[32], why[4096], cite[72];
    uint8_t ghost[32], id[32];
    gt_key fk;
    gt_err err = {0};
    key_for("faucet", &fk);
    amount_args m = {*gt_agent_address(poster), 20000000}; /* two bounties and rejection bonds */
    CHECK_MSG(gt_client_act(c, &fk, &gt_kind_mint, fill_mint, &m, NULL, NULL, &err) == 0, "mint: %s", err.msg);
    gt_sha256("a sub-result nobody made", 24, ghost);
    gt_blob_id_format(ghost, cite);
    citing_result(c, cite, id);
    attack_verdict(poster, c, ak, id, state, why, sizeof why);
    CHECK_STR(state, "rejected");
    CHECK_CONTAINS(why, "cites[0]");
    CHECK_CONTAINS(why, "not the accepted or paid result of a sub-task");
    gt_blob_id_format(honest, cite);
    citing_result(c, cite, id);
    attack_verdict(poster, c, ak, id, state, why, sizeof why);
    CHECK_STR(state, "rejected");
    CHECK_CONTAINS(why, "not the accepted or paid result of a sub-task");
}

/* Steps the agents (up to `passes` times) until every slot of task id is
 * past submitted; the slots' states in st0 and st1. */
static void step_slots(gt_agent **ag, int n, gt_client *c, const uint8_t id[32], int passes, char st0[32],
                       char st1[32]) {
    for (int pass = 0; pass < passes; pass++) {
        for (int i = 0; i < n; i++) gt_agent_step(ag[i], NULL, &(gt_err){0});
        json_t *task = NULL;
        if (gt_client_task(c, id, &task, NULL)) continue;
        json_t *sl = json_object_get(task, "slotList");
        snprintf(st0, 32, "%s", json_string_value(json_object_get(json_array_get(sl, 0), "state")) ?: "?");
        snprintf(st1, 32, "%s", json_string_value(json_object_get(json_array_get(sl, 1), "state")) ?: "?");
        json_decref(task);
        int settled = 1;
        for (const char *s2[] = {st0, st1}, **p = s2; p < s2 + 2; p++)
            settled &= !strcmp(*p, "accepted") || !strcmp(*p, "paid") || !strcmp(*p, "rejected") ||
                       !strcmp(*p, "disputed");
        if (settled) return;
        usleep(20000);
    }
}

/* A task of two slots that ask for the same deterministic work (one
 * `complete` spec) pays only the first result: the verifier and dispute
 * voters reject every identical later one as a copy (agent_verify.c). Two
 * honest workers used to claim both slots; the later was rejected and its
 * stake went to the poster, so a poster posting a stake above the bounty
 * got the work and profited from the second worker's loss. Now an honest
 * worker claims no such slot: no stake lost, nothing claimed. A spec that
 * allows identical results ("sameResults": true) is still worked and both
 * workers are paid. */
static void same_work_trap(gt_agent *poster, gt_client *c, const char *url) {
    gt_err err = {0};
    gt_key fk;
    key_for("faucet", &fk);
    amount_args m = {*gt_agent_address(poster), 10000000};
    CHECK(gt_client_act(c, &fk, &gt_kind_mint, fill_mint, &m, NULL, NULL, &err) == 0);
    gt_agent *w[2] = {make_agent("t-w1", url, GT_ROLE_WORKER, 0, 1), make_agent("t-w2", url, GT_ROLE_WORKER, 0, 1)};
    for (int i = 0; i < 2; i++) {
        amount_args wm = {*gt_agent_address(w[i]), 20000000};
        CHECK(gt_client_act(c, &fk, &gt_kind_mint, fill_mint, &wm, NULL, NULL, &err) == 0);
        CHECK_MSG(gt_agent_register(w[i], &err) == 0, "register: %s", err.msg);
    }
    const char *ps[] = {"Trap"};
    char *spec = gt_complete_spec(gt_agent_model_id(model), ps, 1, 4);
    gt_task_terms t = {.kind = "complete", .slots = 2, .bounty_units = 1000000, .stake_units = 5000000};
    uint8_t id[32];
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    gt_agent *all[] = {w[0], w[1], poster};
    char st0[32] = "?", st1[32] = "?";
    step_slots(all, 3, c, id, 60, st0, st1);
    CHECK_MSG(!strcmp(st0, "open") && !strcmp(st1, "open"), "an honest worker claimed a slot of a task whose slots all "
              "ask for the same result (slots: %s, %s): the later identical result is rejected as a copy and its "
              "stake goes to the poster", st0, st1);
    /* Allowed identical results: both slots worked, accepted and paid. */
    json_t *sj = json_loads(spec, 0, NULL);
    json_object_set_new(sj, "sameResults", json_true());
    char *same = gt_json_dump(sj);
    CHECK_MSG(gt_agent_post(poster, &t, same, strlen(same), id, &err) == 0, "post: %s", err.msg);
    step_slots(all, 3, c, id, 200, st0, st1);
    CHECK_MSG((!strcmp(st0, "accepted") || !strcmp(st0, "paid")) && (!strcmp(st1, "accepted") || !strcmp(st1, "paid")),
              "a task allowing identical results: slots %s, %s, expected both accepted or paid", st0, st1);
    free(same);
    json_decref(sj);
    free(spec);
    gt_agent_free(w[0]);
    gt_agent_free(w[1]);
}

static void test_unverifiable_results(void) {
    char home[] = "/tmp/gt-test-agent-XXXXXX", url[128];
    if (!mkdtemp(home)) return;
    int started = start_node(home, url, sizeof url) == 0;
    CHECK_MSG(started, "could not start %s node", GT_CLI);
    if (!started) return;
    gt_agent *poster = make_agent("u-poster", url, GT_ROLE_POSTER, 0, 1);
    gt_client *c = NULL;
    gt_err err = {0};
    gt_client_new(url, &c, &err);
    gt_key fk, ak;
    key_for("faucet", &fk);
    key_for("u-attacker", &ak);
    amount_args m = {*gt_agent_address(poster), 20000000};
    CHECK(gt_client_act(c, &fk, &gt_kind_mint, fill_mint, &m, NULL, NULL, &err) == 0);
    gt_key_address(&ak, &m.to);
    CHECK(gt_client_act(c, &fk, &gt_kind_mint, fill_mint, &m, NULL, NULL, &err) == 0);
    CHECK_MSG(gt_agent_register(poster, &err) == 0, "register: %s", err.msg);
    gt_agent *attacker = make_agent("u-attacker", url, 0, 0, 1); /* its card; never stepped */
    CHECK_MSG(gt_agent_register(attacker, &err) == 0, "register: %s", err.msg);
    char state[32], why[4096];

    /* A result whose blob was never uploaded. */
    uint8_t ghost[32];
    gt_sha256("never uploaded", 14, ghost);
    attack_verdict(poster, c, &ak, ghost, state, why, sizeof why);
    CHECK_STR(state, "rejected");
    CHECK_CONTAINS(why, "cannot be verified");

    /* 5 MiB: over what the verifier used to download, under what the node takes. */
    size_t big = 5u * 1024 * 1024;
    CHECK(big <= GT_LIMIT_RESULT_BYTES);
    uint8_t *junk = gt_malloc(big), big_id[32];
    char bid[72];
    if (!junk) return;
    for (size_t i = 0; i < big; i++) junk[i] = (uint8_t)('a' + i % 26);
    /* Uploads need a permit: refused without a signer, accepted with the attacker's (it holds funds). */
    CHECK(gt_client_blob_put(c, junk, big, bid, &err) != 0);
    CHECK_CONTAINS(err.msg, "upload permit");
    gt_client_set_signer(c, &ak);
    CHECK_MSG(gt_client_blob_put(c, junk, big, bid, &err) == 0, "put: %s", err.msg);
    gt_free(junk);
    CHECK(gt_blob_id_parse(bid, big_id, &err) == 0);
    attack_verdict(poster, c, &ak, big_id, state, why, sizeof why);
    CHECK_STR(state, "rejected");
    CHECK(why[0] != 0);

    /* Bytes that are not a result at all. */
    uint8_t junk_id[32];
    CHECK(gt_client_blob_put(c, "\x01not json", 10, bid, &err) == 0);
    CHECK(gt_blob_id_parse(bid, junk_id, &err) == 0);
    attack_verdict(poster, c, &ak, junk_id, state, why, sizeof why);
    CHECK_STR(state, "rejected");

    /* The attacker was paid nothing: three stakes locked under rejections. */
    gt_client_acct acc = {0};
    gt_client_account(c, &m.to, &acc, NULL);
    CHECK_EQ_U64(acc.balance_units, 20000000 - 3 * 1000000);

    /* A copy of an honest worker's public result in another slot of the same
     * task (it used to pass the re-run and be paid): refused. The worker
     * agent runs the spec on a task of one slot (it claims no slot of a task
     * whose slots all ask for the same result: same_work_trap), and its key
     * submits those bytes to slot 0 of the task of two. */
    gt_agent *worker = make_agent("u-worker", url, GT_ROLE_WORKER, 0, 1);
    amount_args wm = {*gt_agent_address(worker), 20000000};
    CHECK(gt_client_act(c, &fk, &gt_kind_mint, fill_mint, &wm, NULL, NULL, &err) == 0);
    CHECK_MSG(gt_agent_register(worker, &err) == 0, "register: %s", err.msg);
    amount_args pm = {*gt_agent_address(poster), 10000000}; /* the task of one slot's bounty, and more */
    CHECK(gt_client_act(c, &fk, &gt_kind_mint, fill_mint, &pm, NULL, NULL, &err) == 0);
    const char *ps[] = {"Hello"};
    char *spec = gt_complete_spec(gt_agent_model_id(model), ps, 1, 4);
    gt_task_terms t1 = {.kind = "complete", .slots = 1, .bounty_units = 3000000, .stake_units = 1000000};
    gt_task_terms t2 = {.kind = "complete", .slots = 2, .bounty_units = 3000000, .stake_units = 1000000};
    uint8_t id1[32], id2[32];
    CHECK_MSG(gt_agent_post(poster, &t1, spec, strlen(spec), id1, &err) == 0, "post: %s", err.msg);
    json_t *task = NULL;
    const char *st0 = "";
    for (int pass = 0; pass < 40 && strcmp(st0, "submitted"); pass++) {
        gt_agent_step(worker, NULL, &err);
        json_decref(task);
        task = NULL;
        gt_client_task(c, id1, &task, NULL);
        st0 = json_string_value(json_object_get(json_array_get(json_object_get(task, "slotList"), 0), "state")) ?: "";
    }
    gt_agent_set_roles(worker, 0);
    CHECK_STR(st0, "submitted");
    uint8_t honest[32];
    CHECK(gt_agent_json_hash(json_array_get(json_object_get(task, "slotList"), 0), "result", honest, &err) == 0);
    json_decref(task);
    CHECK_MSG(gt_agent_post(poster, &t2, spec, strlen(spec), id2, &err) == 0, "post: %s", err.msg);
    free(spec);
    gt_key wk;
    key_for("u-worker", &wk);
    submit_args x = {id2, honest, 0};
    CHECK(gt_client_act(c, &wk, &gt_kind_task_claim, fill_task, id2, NULL, NULL, &err) == 0);
    CHECK_MSG(gt_client_act(c, &wk, &gt_kind_task_submit, fill_submit, &x, NULL, NULL, &err) == 0, "submit: %s",
              err.msg);
    x.slot = 1;
    CHECK(gt_client_act(c, &ak, &gt_kind_task_claim, fill_task, id2, NULL, NULL, &err) == 0);
    CHECK_MSG(gt_client_act(c, &ak, &gt_kind_task_submit, fill_submit, &x, NULL, NULL, &err) == 0, "submit: %s", err.msg);
    char st1[32] = "submitted";
    for (int pass = 0; pass < 40 && !strcmp(st1, "submitted"); pass++) {
        gt_agent_step(poster, NULL, &err);
        task = NULL;
        gt_client_task(c, id2, &task, NULL);
        snprintf(st1, sizeof st1, "%s",
                 json_string_value(json_object_get(json_array_get(json_object_get(task, "slotList"), 1), "state")) ?: "?");
        json_decref(task);
    }
    CHECK_STR(st1, "rejected");
    task = NULL;
    gt_client_task(c, id2, &task, NULL);
    const char *s0 = json_string_value(json_object_get(json_array_get(json_object_get(task, "slotList"), 0), "state"));
    CHECK(s0 && (!strcmp(s0, "accepted") || !strcmp(s0, "paid")));
    json_decref(task);
    forged_cites(poster, c, &ak, honest);
    verify_retry(url, c, &ak);
    same_work_trap(poster, c, url);
    gt_agent_free(worker);
    gt_agent_free(poster);
    gt_agent_free(attacker);
    gt_client_free(c);
    gt_test_node_stop(node_pid);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", home);
}

int main(void) {
    gt_err err = {0};
    signal(SIGPIPE, SIG_IGN);
    if (gt_agent_model_load(gt_fixture("models/tiny-llama-q8_0.gguf"), &model, &err)) {
        fprintf(stderr, "fixture model: %s\n", err.msg);
        return 1;
    }
    if (gt_market_register(&err)) return 1;
    RUN(test_agent_config);
    RUN(test_sub_units);
    RUN(test_memo_ring);
    RUN(test_rerun_estimate);
    RUN(test_complete_window);
    RUN(test_eval_window);
    RUN(test_rerun_estimate_generate);
    RUN(test_rerun_estimate_generate_local);
    RUN(test_complete_skill);
    RUN(test_client_errors);
    RUN(test_loop_on_node);
    RUN(test_unverifiable_results);
    gt_agent_model_free(model);
    return gt_test_finish();
}
