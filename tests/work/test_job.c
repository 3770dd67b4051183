/* test_job.c: data job specs (defaults, every refusal with its message),
 * prompt rendering, generation with a tiny fixture model (deterministic,
 * thread-count independent), batch JSONL round trip, and each pipeline
 * stage on honest and tampered batches: spot checks, schema/provenance,
 * procedural verification, exact and near dedup, the logit judge, and
 * per-batch settlement figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/sha256.h"
#include "work/data/job.h"
#include "work/data/pipeline.h"
#include "work/eval/bench.h"

#define MODEL "models/tiny-llama-q8_0.gguf"

static const char *SPEC_ARITH =
    "{\"version\":2,\"name\":\"arith-traces\",\"family\":\"arith\","
    "\"template\":\"Question: {question}\\nThink {tone}, then end with 'Answer: {answer_hint}'.\\n\","
    "\"variables\":{\"tone\":[\"briefly\",\"carefully\"]},\"seed\":7,\"samples\":10,\"batch\":4,"
    "\"reward\":\"0.01\",\"stake\":\"0.005\",\"license\":\"cc-by-4.0\","
    "\"generation\":{\"max_tokens\":12,\"temp\":0.8},"
    "\"pipeline\":{\"spot_check\":0.5}}";

static int parse(const char *text, gt_job_spec *s, gt_err *err) { return gt_job_spec_parse(text, strlen(text), s, err); }

static void test_spec_ok(void) {
    gt_err err = {0};
    gt_job_spec s;
    CHECK_EQ_INT(parse(SPEC_ARITH, &s, &err), 0);
    CHECK_STR(s.name, "arith-traces");
    CHECK(s.family && !strcmp(s.family->name, "arith"));
    CHECK_EQ_U64(s.samples, 10);
    CHECK_EQ_U64(s.batch, 4);
    CHECK_EQ_U64(gt_job_batches(&s), 3);
    CHECK_EQ_U64(s.reward_units, 10000);
    CHECK_EQ_U64(s.stake_units, 5000);
    CHECK_EQ_INT(s.max_tokens, 12);
    CHECK(s.verify && s.schema && s.dedup && s.near_dedup && !s.judge);
    CHECK(s.near_threshold == 0.8 && s.near.n_hashes == 128);
    CHECK(s.spot_fraction == 0.5);
    uint64_t f, c;
    gt_job_batch_range(&s, 2, &f, &c);
    CHECK(f == 8 && c == 2);
    gt_job_batch_range(&s, 3, &f, &c);
    CHECK(c == 0);
    gt_buf b = GT_BUF_INIT;
    gt_family_item it;
    CHECK_EQ_INT(gt_job_render(&s, 3, &b, &it, &err), 0);
    CHECK_CONTAINS((const char *)b.data, it.question);
    CHECK_CONTAINS((const char *)b.data, "Answer: an integer");
    CHECK(strstr((const char *)b.data, "briefly") || strstr((const char *)b.data, "carefully"));
    /* Rendering is a pure function of (spec, index). */
    gt_buf b2 = GT_BUF_INIT;
    CHECK_EQ_INT(gt_job_render(&s, 3, &b2, NULL, &err), 0);
    CHECK_STR((const char *)b.data, (const char *)b2.data);
    CHECK(gt_job_sample_seed(&s, 3) == gt_job_sample_seed(&s, 3) && gt_job_sample_seed(&s, 3) != gt_job_sample_seed(&s, 4));
    gt_buf_free(&b);
    gt_buf_free(&b2);
    gt_job_spec_free(&s);

    /* Free-form with JSON output, judge and literal braces. */
    const char *free_form =
        "{\"version\":1,\"name\":\"qa\",\"template\":\"Write a JSON object {{\\\"question\\\":..}} about {topic} #{index}\","
        "\"variables\":{\"topic\":[\"rivers\"]},\"seed\":1,\"samples\":3,\"reward\":1,\"stake\":0,\"license\":\"mit\","
        "\"output\":{\"type\":\"json\",\"fields\":[\"question\",\"answer\"]},"
        "\"pipeline\":{\"judge\":{\"threshold\":0.4},\"near_dedup\":false,\"spot_check\":0.01}}";
    CHECK_EQ_INT(parse(free_form, &s, &err), 0);
    CHECK(s.output_json && s.n_fields == 2 && s.judge && !s.near_dedup && !s.verify);
    CHECK_EQ_U64(s.reward_units, 1);
    CHECK_EQ_INT(gt_job_render(&s, 2, &b, NULL, &err), 0);
    CHECK_STR((const char *)b.data, "Write a JSON object {\"question\":..} about rivers #2");
    gt_buf_free(&b);
    CHECK_EQ_INT(gt_job_render_judge(&s, "P", "O", &b, &err), 0);
    CHECK_CONTAINS((const char *)b.data, "\nP\n");
    gt_buf_free(&b);
    gt_job_spec_free(&s);
}

/* Replaces the first occurrence of `from` in SPEC_ARITH with `to`. */
static char *variant(const char *from, const char *to) {
    static char buf[4096];
    const char *p = strstr(SPEC_ARITH, from);
    if (!p) {
        fprintf(stderr, "variant: %s not in spec\n", from);
        exit(2);
    }
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - SPEC_ARITH), SPEC_ARITH, to, p + strlen(from));
    return buf;
}

static void refuse(const char *text, const char *msg) {
    gt_err err = {0};
    gt_job_spec s;
    int rc = parse(text, &s, &err);
    CHECK_MSG(rc < 0, "accepted: %s", text);
    CHECK_CONTAINS(err.msg, msg);
    CHECK(s.json == NULL);
}

static void test_spec_refusals(void) {
    refuse("{", "malformed JSON");
    refuse("[]", "expected a JSON object");
    refuse(variant("\"version\":2", "\"version\":3"), "job.version: 3 is out of range");
    /* Version 1 took the family's items from the seed as written: seed 1 was arith-v1's. */
    refuse(variant("\"version\":2", "\"version\":1"), "job.version 1 with a \"family\"");
    refuse(variant("\"name\":\"arith-traces\"", "\"name\":\"Bad Name\""), "job.name");
    refuse(variant("\"family\":\"arith\"", "\"family\":\"calculus\""), "no such family (built in: arith, units");
    refuse(variant("\"seed\":7", "\"sneed\":7"), "unknown field \"sneed\"");
    refuse(variant("\"samples\":10", "\"samples\":0"), "job.samples: 0 is out of range");
    refuse(variant("\"samples\":10", "\"samples\":-3"), "job.samples");
    refuse(variant("\"batch\":4", "\"batch\":100000"), "job.batch");
    refuse(variant("\"reward\":\"0.01\"", "\"reward\":\"0.0000001\""), "job.reward");
    refuse(variant("\"reward\":\"0.01\"", "\"reward\":true"), "job.reward: expected an amount");
    refuse(variant("\"license\":\"cc-by-4.0\"", "\"license\":\"my licence\""), "SPDX");
    refuse(variant("{question}", "{questoin}"), "unknown variable {questoin}");
    refuse(variant("{tone}", "{tone"), "unclosed '{'");
    refuse(variant("\"tone\":[\"briefly\",\"carefully\"]", "\"tone\":[]"), "job.variables.tone");
    refuse(variant("\"tone\":[", "\"index\":["), "reserved");
    refuse(variant("\"max_tokens\":12", "\"max_tokens\":0"), "job.generation.max_tokens");
    refuse(variant("\"temp\":0.8", "\"temp\":\"hot\""), "job.generation.temp: expected a number");
    refuse(variant("\"spot_check\":0.5", "\"spot_check\":1.5"), "job.pipeline.spot_check");
    /* Re-execution cannot be turned off: a job that asks for no spot checks is refused. */
    refuse(variant("\"spot_check\":0.5", "\"spot_check\":0"), "job.pipeline.spot_check");
    refuse(variant("\"spot_check\":0.5", "\"spot_check\":0.001"), "job.pipeline.spot_check");
    refuse(variant("\"spot_check\":0.5", "\"near_dedup\":{\"hashes\":2}"), "near_dedup.hashes");
    refuse(variant("\"spot_check\":0.5", "\"near_dedup\":{\"shingle\":\"lines\"}"), "\"words\" or \"chars\"");
    refuse(variant("\"spot_check\":0.5", "\"judge\":{\"prompt\":\"{foo}\"}"), "judge.prompt: unknown variable {foo}");
    refuse(variant("\"family\":\"arith\",", ""), "{question} needs a \"family\"");
    refuse(variant("\"license\":\"cc-by-4.0\",", "\"license\":\"mit\",\"model\":\"sha256:12\","), "job.model");
    refuse(variant("\"seed\":7", "\"seed\":7,\"output\":{\"type\":\"xml\"}"), "\"text\" or \"json\"");
    /* Over the size limit. */
    char *big = gt_malloc(GT_JOB_SPEC_MAX_BYTES + 16);
    memset(big, ' ', GT_JOB_SPEC_MAX_BYTES + 15);
    big[0] = '{', big[GT_JOB_SPEC_MAX_BYTES + 14] = '}';
    big[GT_JOB_SPEC_MAX_BYTES + 15] = 0;
    refuse(big, "at most");
    gt_free(big);
    /* Out of memory at any allocation: a clean failure, nothing leaked. */
    int failures = 0;
    for (int k = 0; k < 40; k++) {
        gt_err err = {0};
        gt_job_spec s;
        gt_alloc_fail_after(k);
        int rc = parse(SPEC_ARITH, &s, &err);
        gt_alloc_fail_after(-1);
        if (rc) failures++;
        else gt_job_spec_free(&s);
    }
    CHECK(failures > 0);
}

static gt_addr worker_addr(int n) {
    gt_addr a;
    memset(&a, 0, sizeof a);
    a.b[19] = (uint8_t)n;
    a.b[0] = 0xaa;
    return a;
}

/* A job whose prompt cannot be rendered (100 placeholders of a 1,024-byte
 * value: 100 KiB, over GT_JOB_PROMPT_MAX): every render fails the same way,
 * so the schema stage rejects a sample saying so, and the run succeeds with
 * no message left in err (the old stage passed the run's err to the render,
 * so a run that succeeded carried "rendered prompt is over ..." and the
 * sample read "prompt differs"). */
static void test_unrenderable_prompt(void) {
    char value[1025], *spec = gt_malloc(4 * 1024 + 2048);
    memset(value, 'x', 1024);
    value[1024] = 0;
    int n = snprintf(spec, 2048, "{\"version\":2,\"name\":\"too-long\",\"template\":\"");
    for (int i = 0; i < 100; i++) n += snprintf(spec + n, 8, "{v}");
    snprintf(spec + n, 4 * 1024 + 2048 - (size_t)n,
             "\",\"variables\":{\"v\":[\"%s\"]},\"seed\":1,\"samples\":1,\"reward\":\"0.01\","
             "\"stake\":\"0.005\",\"license\":\"cc-by-4.0\"}", value);
    gt_err err = {0};
    gt_job_spec s;
    CHECK_MSG(parse(spec, &s, &err) == 0, "spec: %s", err.msg);
    gt_free(spec);
    if (err.code) return;
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(gt_job_render(&s, 0, &out, NULL, &err), GT_ELIMIT);
    gt_buf_free(&out);
    err = (gt_err){0};
    gt_sample *smp = gt_calloc(1, sizeof *smp);
    memcpy(smp->job, s.id, 32);
    smp->seed = gt_job_sample_seed(&s, 0);
    smp->prompt = gt_strdup("x");
    smp->output = gt_strdup("y");
    s.spot_fraction = 0;
    gt_pipeline *p = NULL;
    gt_pipeline_opts o = {0};
    gt_batch_report rep;
    CHECK_EQ_INT(gt_pipeline_new(&s, &p, &err), 0);
    CHECK_EQ_INT(gt_pipeline_run(p, &o, 0, smp, 1, &rep, &err), 0);
    CHECK_EQ_INT(err.code, 0);
    CHECK_EQ_INT(smp->accepted, 0);
    CHECK_CONTAINS(smp->reason, "the job's prompt for this index cannot be made: rendered prompt is over");
    gt_pipeline_free(p);
    gt_samples_free(smp, 1);
    gt_job_spec_free(&s);
}

static void test_generate_and_validate(void) {
    gt_err err = {0};
    gt_job_spec s;
    CHECK_EQ_INT(parse(SPEC_ARITH, &s, &err), 0);
    gt_llm *l1 = NULL, *l2 = NULL;
    if (gt_llm_open(gt_fixture(MODEL), 1, 256, &l1, &err) || gt_llm_open(gt_fixture(MODEL), 2, 256, &l2, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    gt_addr w = worker_addr(1);
    gt_sample *a = NULL, *b = NULL;
    CHECK_EQ_INT(gt_job_generate(&s, l1, &w, 0, 4, NULL, NULL, &a, &err), 0);
    CHECK_EQ_INT(gt_job_generate(&s, l2, &w, 0, 4, NULL, NULL, &b, &err), 0);
    gt_buf ja = GT_BUF_INIT, jb = GT_BUF_INIT;
    CHECK_EQ_INT(gt_batch_write(a, 4, &ja, &err), 0);
    CHECK_EQ_INT(gt_batch_write(b, 4, &jb, &err), 0);
    /* Same bytes with 1 and 2 threads. */
    CHECK(ja.len == jb.len && !memcmp(ja.data, jb.data, ja.len));
    CHECK(a[0].output && a[0].output[0]);
    CHECK(!memcmp(a[0].model, l1->id, 32));
    /* JSONL round trip. */
    gt_sample *c = NULL;
    size_t nc = 0;
    CHECK_EQ_INT(gt_batch_parse((const char *)ja.data, ja.len, &c, &nc, &err), 0);
    CHECK_EQ_INT(nc, 4);
    gt_buf jc = GT_BUF_INIT;
    CHECK_EQ_INT(gt_batch_write(c, nc, &jc, &err), 0);
    CHECK(ja.len == jc.len && !memcmp(ja.data, jc.data, ja.len));

    /* The honest batch: spot checks reproduce; the tiny random model's
     * answers are wrong, so the verify stage rejects them. */
    gt_pipeline *p = NULL;
    CHECK_EQ_INT(gt_pipeline_new(&s, &p, &err), 0);
    gt_pipeline_opts o = {.regen = l2, .spot_seed = 99};
    gt_batch_report rep;
    CHECK_EQ_INT(gt_pipeline_run(p, &o, 0, c, nc, &rep, &err), 0);
    CHECK(!rep.spot_failed);
    CHECK_EQ_U64(rep.stage[GT_STAGE_SPOT].checked, 2);
    CHECK_EQ_U64(rep.stage[GT_STAGE_SPOT].passed, 2);
    CHECK_EQ_U64(rep.stage[GT_STAGE_SCHEMA].passed, 4);
    CHECK_EQ_U64(rep.stage[GT_STAGE_VERIFY].checked, 4);
    CHECK_EQ_U64(rep.accepted + rep.rejected, 4);
    CHECK_EQ_U64(rep.accepted, rep.stage[GT_STAGE_VERIFY].passed);
    CHECK_EQ_U64(rep.paid_units, rep.accepted * 10000);
    CHECK_EQ_U64(rep.slashed_units, rep.rejected * 5000);
    for (size_t i = 0; i < nc; i++)
        if (!c[i].accepted) CHECK_CONTAINS(c[i].reason, "verify: ");
    gt_samples_free(c, nc);

    /* Tampered output: the spot check catches it when it picks that sample;
     * with fraction 1 it always does, and the whole batch is rejected. */
    CHECK_EQ_INT(gt_batch_parse((const char *)ja.data, ja.len, &c, &nc, &err), 0);
    gt_free(c[2].output);
    gt_family_item it;
    CHECK_EQ_INT(gt_job_item(&s, c[2].index, &it, &err), 0);
    char fake[300];
    snprintf(fake, sizeof fake, "Answer: %s", it.answer);
    c[2].output = gt_strdup(fake);
    s.spot_fraction = 1.0;
    gt_pipeline_free(p);
    CHECK_EQ_INT(gt_pipeline_new(&s, &p, &err), 0);
    CHECK_EQ_INT(gt_pipeline_run(p, &o, 0, c, nc, &rep, &err), 0);
    CHECK(rep.spot_failed);
    CHECK_CONTAINS(rep.spot_reason, "sample 2 did not reproduce");
    CHECK_EQ_U64(rep.accepted, 0);
    CHECK_EQ_U64(rep.slashed_units, 4 * 5000);
    CHECK_CONTAINS(c[0].reason, "did not reproduce");
    /* Without spot checks the forged answer passes verification: that is
     * exactly the gap re-execution closes. */
    s.spot_fraction = 0;
    gt_pipeline_free(p);
    CHECK_EQ_INT(gt_pipeline_new(&s, &p, &err), 0);
    CHECK_EQ_INT(gt_pipeline_run(p, &o, 0, c, nc, &rep, &err), 0);
    CHECK_EQ_INT(c[2].accepted, 1);
    CHECK_EQ_INT(c[2].verdict[GT_STAGE_VERIFY], GT_VERDICT_PASS);
    CHECK_EQ_INT(c[2].verdict[GT_STAGE_SPOT], GT_VERDICT_SKIPPED);
    gt_samples_free(c, nc);

    /* A batch naming another model than the one the job names: a
     * spot-check failure (a verdict against the batch), not an error that
     * left the result with no verdict. A job naming no model takes any, so
     * there a sample of another model than the validator's is one it cannot
     * re-run: an error saying so (no verdict: the slot times out unpaid,
     * the stake returned), not a verdict against an honest batch. */
    CHECK_EQ_INT(gt_batch_parse((const char *)ja.data, ja.len, &c, &nc, &err), 0);
    for (size_t i = 0; i < nc; i++) c[i].model[0] ^= 0x5a;
    s.spot_fraction = 0.5;
    gt_pipeline_free(p);
    CHECK_EQ_INT(gt_pipeline_new(&s, &p, &err), 0);
    CHECK(!s.has_model);
    CHECK_EQ_INT(gt_pipeline_run(p, &o, 0, c, nc, &rep, &err), GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "names no model");
    s.has_model = 1;
    memcpy(s.model, o.regen->id, 32);
    gt_pipeline_free(p);
    CHECK_EQ_INT(gt_pipeline_new(&s, &p, &err), 0);
    CHECK_EQ_INT(gt_pipeline_run(p, &o, 0, c, nc, &rep, &err), 0);
    CHECK(rep.spot_failed);
    CHECK_CONTAINS(rep.spot_reason, "not the model this job is re-run with");
    CHECK_EQ_U64(rep.accepted, 0);
    gt_samples_free(c, nc);
    s.spot_fraction = 0, s.has_model = 0;

    /* Provenance: wrong prompt, wrong seed, wrong index, wrong job. */
    CHECK_EQ_INT(gt_batch_parse((const char *)ja.data, ja.len, &c, &nc, &err), 0);
    c[0].prompt[0] ^= 1;
    c[1].seed++;
    c[2].index = 9;
    c[3].job[0] ^= 1;
    gt_pipeline_free(p);
    CHECK_EQ_INT(gt_pipeline_new(&s, &p, &err), 0);
    CHECK_EQ_INT(gt_pipeline_run(p, &o, 0, c, nc, &rep, &err), 0);
    CHECK_EQ_U64(rep.stage[GT_STAGE_SCHEMA].failed, 4);
    CHECK_CONTAINS(c[0].reason, "schema: prompt differs");
    CHECK_CONTAINS(c[1].reason, "schema: seed");
    CHECK_CONTAINS(c[2].reason, "outside this batch");
    CHECK_CONTAINS(c[3].reason, "another job");
    gt_samples_free(c, nc);

    /* A batch run for batch 5 of a 3-batch job is refused. */
    CHECK(gt_pipeline_run(p, &o, 5, a, 4, &rep, &err) == GT_EINVAL);
    gt_pipeline_free(p);
    gt_samples_free(a, 4);
    gt_samples_free(b, 4);
    gt_buf_free(&ja);
    gt_buf_free(&jb);
    gt_buf_free(&jc);
    gt_job_spec_free(&s);
    gt_llm_free(l1);
    gt_llm_free(l2);
}

/* Dedup and judge on hand-written samples (no family, no spot checks). */
static void test_dedup_and_judge(void) {
    gt_err err = {0};
    const char *spec =
        "{\"version\":1,\"name\":\"facts\",\"template\":\"Write a fact about {topic}.\",\"seed\":3,\"samples\":8,"
        "\"batch\":8,\"reward\":\"1\",\"stake\":\"0.5\",\"license\":\"cc0-1.0\","
        "\"variables\":{\"topic\":[\"rivers\"]},"
        "\"pipeline\":{\"spot_check\":0.01,\"judge\":{\"threshold\":0.0},"
        "\"near_dedup\":{\"threshold\":0.7,\"size\":2}}}";
    gt_job_spec s;
    CHECK_EQ_INT(parse(spec, &s, &err), 0);
    s.spot_fraction = 0; /* hand-written samples: no model re-generates them here */
    const char *outs[8] = {
        "The Nile flows north through eleven countries before it reaches the Mediterranean Sea near Alexandria.",
        "the nile FLOWS north through eleven countries before it reaches the   Mediterranean sea near alexandria.",
        "The Nile flows north through eleven countries before it reaches the Mediterranean Sea near Cairo.",
        "The Amazon carries more water than the next seven largest rivers of the world combined.",
        "",
        "The Danube passes through ten countries and four capital cities on its way to the Black Sea.",
        "The Amazon carries more water than the next seven largest rivers of the world put together.",
        "Rivers shape valleys.",
    };
    gt_sample smp[8];
    memset(smp, 0, sizeof smp);
    for (int i = 0; i < 8; i++) {
        memcpy(smp[i].job, s.id, 32);
        smp[i].index = (uint64_t)i;
        smp[i].seed = gt_job_sample_seed(&s, (uint64_t)i);
        smp[i].contributor = worker_addr(i % 3);
        gt_buf pr = GT_BUF_INIT;
        gt_job_render(&s, (uint64_t)i, &pr, NULL, &err);
        smp[i].prompt = (char *)gt_buf_take(&pr, NULL);
        smp[i].output = gt_strdup(outs[i]);
    }
    gt_llm *judge = NULL;
    CHECK_EQ_INT(gt_llm_open(gt_fixture("models/tiny-qwen2-q8_0.gguf"), 1, 512, &judge, &err), 0);
    gt_pipeline *p = NULL;
    CHECK_EQ_INT(gt_pipeline_new(&s, &p, &err), 0);
    gt_pipeline_opts o = {.judge = judge};
    gt_batch_report rep;
    CHECK_EQ_INT(gt_pipeline_run(p, &o, 0, smp, 8, &rep, &err), 0);
    CHECK(smp[0].accepted);
    CHECK_CONTAINS(smp[1].reason, "dedup: same text");         /* case and spaces differ only */
    CHECK_CONTAINS(smp[2].reason, "near_dedup: near duplicate of sample 0");
    CHECK(smp[3].accepted);
    CHECK_CONTAINS(smp[4].reason, "schema: empty output");
    CHECK(smp[5].accepted);
    CHECK_CONTAINS(smp[6].reason, "near duplicate of sample 3");
    CHECK(smp[7].accepted);
    CHECK_EQ_U64(rep.accepted, 4);
    CHECK_EQ_U64(rep.stage[GT_STAGE_DEDUP].failed, 1);
    CHECK_EQ_U64(rep.stage[GT_STAGE_NEAR].failed, 2);
    CHECK_EQ_U64(rep.stage[GT_STAGE_JUDGE].checked, 4);
    CHECK_EQ_U64(rep.paid_units, 4000000);
    CHECK_EQ_U64(rep.slashed_units, 4 * 500000);
    for (int i = 0; i < 8; i++)
        if (smp[i].accepted) CHECK(smp[i].judge_score > 0 && smp[i].judge_score < 1);
    /* The judge is deterministic: same score again, and with 2 threads. */
    double s1, s2;
    CHECK_EQ_INT(gt_judge_score(&s, judge, smp[0].prompt, smp[0].output, &s1, &err), 0);
    gt_llm *judge2 = NULL;
    CHECK_EQ_INT(gt_llm_open(gt_fixture("models/tiny-qwen2-q8_0.gguf"), 2, 512, &judge2, &err), 0);
    CHECK_EQ_INT(gt_judge_score(&s, judge2, smp[0].prompt, smp[0].output, &s2, &err), 0);
    CHECK(s1 == smp[0].judge_score && s1 == s2);
    /* A second batch is checked against the first's accepted samples. */
    gt_free(smp[7].output);
    smp[7].output = gt_strdup(outs[3]);
    CHECK_EQ_INT(gt_pipeline_run(p, &o, 0, smp + 7, 1, &rep, &err), 0);
    CHECK_CONTAINS(smp[7].reason, "dedup: same text");
    /* A judge threshold of 1 rejects everything the judge sees. */
    s.judge_threshold = 1.0;
    gt_pipeline *p2 = NULL;
    CHECK_EQ_INT(gt_pipeline_new(&s, &p2, &err), 0);
    CHECK_EQ_INT(gt_pipeline_run(p2, &o, 0, smp, 1, &rep, &err), 0);
    CHECK_CONTAINS(smp[0].reason, "judge: score");
    /* Without a judge model the pipeline refuses to run. */
    gt_pipeline_opts none = {0};
    CHECK(gt_pipeline_run(p2, &none, 0, smp, 1, &rep, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "needs a judge model");
    json_t *rj = gt_batch_report_json(&rep);
    CHECK(json_object_get(json_object_get(rj, "stages"), "near_dedup") != NULL);
    json_decref(rj);
    gt_pipeline_free(p);
    gt_pipeline_free(p2);
    for (int i = 0; i < 8; i++) gt_sample_clear(&smp[i]);
    gt_llm_free(judge);
    gt_llm_free(judge2);
    gt_job_spec_free(&s);
}

static void test_batch_refusals(void) {
    gt_err err = {0};
    gt_sample *s;
    size_t n;
    CHECK(gt_batch_parse("", 0, &s, &n, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "no samples");
    const char *bad = "{\"job\":\"sha256:00\",\"index\":0}\n";
    CHECK(gt_batch_parse(bad, strlen(bad), &s, &n, &err) < 0);
    CHECK_CONTAINS(err.msg, "batch line 1");
    const char *extra =
        "{\"job\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"index\":0,\"seed\":\"1\","
        "\"contributor\":\"0x0000000000000000000000000000000000000000\",\"model\":"
        "\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"prompt\":\"p\",\"output\":\"o\","
        "\"score\":1}";
    CHECK(gt_batch_parse(extra, strlen(extra), &s, &n, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "unknown field \"score\"");
}

/* A sample's line parses back to the same sample for every index the parser
 * takes: past INT64_MAX too (it was written as a negative integer, so a
 * batch gt_batch_write made did not parse). */
static void test_sample_line_index(void) {
    gt_sample s = {.index = UINT64_MAX, .seed = 1, .prompt = "p", .output = "o"}, *back = NULL;
    gt_err err = {0};
    size_t n = 0;
    gt_buf b = GT_BUF_INIT;
    CHECK(gt_batch_write(&s, 1, &b, &err) == 0);
    CHECK_MSG(gt_batch_parse((const char *)b.data, b.len, &back, &n, &err) == 0, "%s", err.msg);
    CHECK(n == 1 && back[0].index == UINT64_MAX);
    char *line = gt_sample_line(&s);
    CHECK(line && strstr(line, "\"index\":\"18446744073709551615\""));
    free(line);
    s.index = 7; /* an index jansson holds stays a JSON integer: sample lines keep their bytes */
    line = gt_sample_line(&s);
    CHECK(line && strstr(line, "\"index\":7,"));
    free(line);
    gt_samples_free(back, n);
    gt_buf_free(&b);
}

/* A batch holds at most GT_JOB_MAX_BATCH samples, however its last line ends
 * (one more without a final newline got past the line count). */
static void test_batch_sample_limit(void) {
    const char *line =
        "{\"job\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\","
        "\"index\":0,\"seed\":\"1\",\"contributor\":\"0x0000000000000000000000000000000000000000\",\"model\":"
        "\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"prompt\":\"p\","
        "\"output\":\"o\"}\n";
    gt_buf b = GT_BUF_INIT;
    for (int i = 0; i < GT_JOB_MAX_BATCH; i++) CHECK(gt_buf_append_str(&b, line) == 0);
    gt_err err = {0};
    gt_sample *s = NULL;
    size_t n = 0;
    CHECK_MSG(gt_batch_parse((const char *)b.data, b.len, &s, &n, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(n, GT_JOB_MAX_BATCH);
    gt_samples_free(s, n);
    CHECK(gt_buf_append(&b, line, strlen(line) - 1) == 0); /* one more, unterminated */
    CHECK(gt_batch_parse((const char *)b.data, b.len, &s, &n, &err) == GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "over 4096 samples");
    gt_buf_free(&b);
}

/* Every question a built-in benchmark asks, from its own items: "Question:
 * %s\nAnswer:" (generate_until, multiple_choice) or the family item of a
 * family_check line. Caller frees each string and the array. */
static char **bench_questions(size_t *n) {
    char **qs = NULL;
    *n = 0;
    for (int b = 0; gt_bench_builtins[b]; b++) {
        gt_bench *bench;
        gt_err err = {0};
        CHECK_EQ_INT(gt_bench_open(gt_bench_builtins[b], &bench, &err), 0);
        qs = realloc(qs, (*n + bench->n_items) * sizeof *qs);
        for (size_t i = 0; i < bench->n_items; i++) {
            gt_family_item it;
            const char *p = bench->items[i].prompt;
            if (bench->type == GT_BENCH_CHECK) gt_bench_family_item(bench, i, &it), p = it.question;
            else p += strlen("Question: ");
            qs[*n] = strdup(p);
            if (bench->type != GT_BENCH_CHECK) *strstr(qs[*n], "\nAnswer:") = 0;
            (*n)++;
        }
        gt_bench_free(bench);
    }
    return qs;
}

/* The attack of the red-team pass: a data job with the family and seed of a
 * built-in benchmark ("family":"arith","seed":1 rendered exactly arith-v1's
 * 200 items), or any seed of a family whose items are few (a quarter of
 * logic's items are logic-v1's or worker-logic-v1's), had the market make and
 * pay for a benchmark's test set. Whatever the version, family and seed, a
 * job is either refused or renders none of the questions any built-in asks. */
static void test_no_bench_items(void) {
    size_t nq;
    char **qs = bench_questions(&nq);
    CHECK(nq == 8 * GT_BENCH_BUILTIN_ITEMS);
    static const char *const fams[] = {"arith", "units", "sort", "logic", "strings"};
    static const int seeds[] = {GT_BENCH_BUILTIN_SEED, GT_BENCH_WORKER_SEED, 7};
    char spec[512];
    for (int v = 1; v <= 2; v++)
        for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++)
            for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
                snprintf(spec, sizeof spec, "{\"version\":%d,\"name\":\"t\",\"family\":\"%s\",\"template\":"
                         "\"{question}\",\"seed\":%d,\"samples\":1000,\"reward\":1,\"stake\":0,\"license\":\"mit\"}",
                         v, fams[f], seeds[k]);
                gt_err err = {0};
                gt_job_spec s;
                if (parse(spec, &s, &err)) continue; /* refused: nothing rendered */
                int same = 0;
                for (uint64_t i = 0; i < 1000; i++) {
                    gt_buf b = GT_BUF_INIT;
                    CHECK_EQ_INT(gt_job_render(&s, i, &b, NULL, &err), 0);
                    size_t q = 0;
                    while (q < nq && b.data && strcmp((const char *)b.data, qs[q])) q++;
                    same += q < nq;
                    gt_buf_free(&b);
                }
                CHECK_MSG(same == 0, "version %d, %s, seed %d: %d of 1000 items are built-in benchmark items", v,
                          fams[f], seeds[k], same);
                gt_job_spec_free(&s);
            }
    for (size_t q = 0; q < nq; q++) free(qs[q]);
    free(qs);
}

/* SHA-256 (hex) of the prompts of samples 0..n-1 of a spec, each followed by
 * a NUL, parsed afresh: what a worker and a validator both compute. */
static void render_hash(const char *spec, uint64_t n, char hex[65]) {
    gt_err err = {0};
    gt_job_spec s;
    CHECK_MSG(parse(spec, &s, &err) == 0, "%s", err.msg);
    gt_buf all = GT_BUF_INIT;
    for (uint64_t i = 0; i < n; i++) {
        CHECK_EQ_INT(gt_job_render(&s, i, &all, NULL, &err), 0);
        CHECK_EQ_INT(gt_buf_putc(&all, 0), 0);
    }
    uint8_t h[32];
    gt_sha256(all.data, all.len, h);
    gt_hex_encode(h, 32, hex);
    gt_buf_free(&all);
    gt_job_spec_free(&s);
}

/* A spec renders the same bytes every time and on every machine: the
 * hashes below were computed once and are pinned (a change to the item
 * derivation, the families or the benchmarks a version-2 job avoids breaks
 * every posted job, so it must come with a new version). logic redraws
 * about one item in five (its items are few), so its pin covers redraws. */
static void test_render_pinned(void) {
    static const char *const fam[] = {"arith", "logic", "strings"};
    static const char *const want[] = {
        "b1664a33dc5ed54c3b04f9a474a4226970aebe62c53b5dca9bf5b230e2b6b57b",
        "da640dc9ded3a89ff5d3beed149ae3d70567995ee5562c92777f033793f50a11",
        "e5cd0b6090bb84d671ad1f8fb5ecd1cb607fa8818bfc9c6d908cfbe2f39d36b5"};
    char spec[512], a[65], b[65];
    for (int f = 0; f < 3; f++) {
        snprintf(spec, sizeof spec, "{\"version\":2,\"name\":\"t\",\"family\":\"%s\",\"template\":\"{question} "
                 "({answer_hint}) #{index}\",\"seed\":1,\"samples\":256,\"reward\":1,\"stake\":0,\"license\":\"mit\"}",
                 fam[f]);
        render_hash(spec, 256, a);
        render_hash(spec, 256, b);
        CHECK_STR(a, b);
        CHECK_MSG(!strcmp(a, want[f]), "%s: rendered %s", fam[f], a);
    }
    /* The redraws happen: some logic items are not the job's first draw. */
    gt_err err = {0};
    gt_job_spec s;
    CHECK_EQ_INT(parse(variant("\"arith\"", "\"logic\""), &s, &err), 0);
    gt_family_item first, it;
    int redrawn = 0;
    CHECK_EQ_INT(gt_job_item(&s, 0, &first, &err), 0);
    for (uint64_t i = 1; i < 64; i++) {
        CHECK_EQ_INT(gt_job_item(&s, i, &it, &err), 0);
        redrawn += it.seed != first.seed;
    }
    CHECK(redrawn > 0 && redrawn < 63);
    gt_job_spec_free(&s);
    /* A free-form spec renders the same in version 1 and 2. */
    const char *ff = "{\"version\":1,\"name\":\"t\",\"template\":\"About {topic} #{index}\",\"variables\":{\"topic\":"
                     "[\"rivers\",\"hills\",\"rain\"]},\"seed\":1,\"samples\":64,\"reward\":1,\"stake\":0,\"license\":\"mit\"}";
    render_hash(ff, 64, a);
    char ff2[512];
    snprintf(ff2, sizeof ff2, "{\"version\":2,%s", ff + strlen("{\"version\":1,"));
    render_hash(ff2, 64, b);
    CHECK_STR(a, b);
}

/* The built-ins a version-2 job avoids are pinned with the version; a new
 * built-in needs a new version that avoids it too. A drawn built-in
 * (held-*) has no fixed questions: its items come from a block seed that
 * did not exist when the job was posted. */
static void test_v2_benches_cover_builtins(void) {
    for (int b = 0; gt_bench_builtins[b]; b++) {
        int found = gt_bench_builtin_drawn(gt_bench_builtins[b]);
        for (int k = 0; gt_job_v2_benches[k]; k++) found |= !strcmp(gt_job_v2_benches[k], gt_bench_builtins[b]);
        CHECK_MSG(found, "built-in %s is not avoided by version-%d jobs: add a job version that avoids it",
                  gt_bench_builtins[b], GT_JOB_VERSION);
    }
}

int main(void) {
    RUN(test_spec_ok);
    RUN(test_spec_refusals);
    RUN(test_unrenderable_prompt);
    RUN(test_generate_and_validate);
    RUN(test_dedup_and_judge);
    RUN(test_batch_refusals);
    RUN(test_batch_sample_limit);
    RUN(test_sample_line_index);
    RUN(test_no_bench_items);
    RUN(test_render_pinned);
    RUN(test_v2_benches_cover_builtins);
    return gt_test_finish();
}
