/* skill_generate.c: the `generate` and `validate` skills (see
 * skill_generate.h; the poster's dataset publication is data_publish.c). Everything a verdict rests on
 * is recomputed from the ledger's blobs: the spec (whose sha256 is the job
 * id), the batches, and for dedup the reason blobs of earlier verdicts. */
#include "agent/skill_generate.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "work/data/batch.h"
#include "work/data/export.h"
#include "work/data/pipeline.h"
#include "work/work.h"

void gt_agent_dataset_dir(const char *datasets_dir, const uint8_t job[32], char *out, size_t cap) {
    char hex[17];
    gt_hex_encode(job, 8, hex);
    snprintf(out, cap, "%s/%s", datasets_dir, hex);
}

/* The task's job spec, from its spec blob's bytes. Caller frees with gt_job_spec_free. */
int ag_gen_load_spec(gt_agent *a, const json_t *task, gt_job_spec *spec, gt_err *err) {
    uint8_t *bytes;
    size_t len;
    memset(spec, 0, sizeof *spec);
    int rc = gt_agent_spec_bytes(a, task, &bytes, &len, err);
    if (rc) return rc;
    if (len > GT_JOB_SPEC_MAX_BYTES) rc = gt_err_set(err, GT_ELIMIT, "job spec of %zu bytes is over %d", len, GT_JOB_SPEC_MAX_BYTES);
    if (!rc) rc = gt_job_spec_parse((const char *)bytes, len, spec, err);
    gt_free(bytes);
    return rc;
}

/* Do the batch sizes the task committed on the ledger (batchItems,
 * lastBatchItems: what a per-unit verdict's total must be) match the job's
 * spec? A poster that commits twice the real size could have its evaluator
 * judge every sample good and still pay half (accepted 4 of 8) and slash
 * half the stake: a worker claims only batches whose size it can check. */
static int batch_size_check(const json_t *task, const gt_job_spec *spec, gt_err *err) {
    gt_work_terms wt;
    int rc = gt_work_job_terms(spec, &wt, err);
    if (rc) return rc;
    json_int_t bi = json_integer_value(json_object_get(task, "batchItems"));
    json_int_t li = json_integer_value(json_object_get(task, "lastBatchItems"));
    if (bi != (json_int_t)wt.batch_items || li != (json_int_t)wt.last_batch_items)
        return gt_err_set(err, GT_EINVAL,
                          "the task commits batches of %lld samples (the last %lld) but job %s makes batches of "
                          "%llu (the last %llu): a verdict would count the wrong size",
                          (long long)bi, (long long)li, spec->name, (unsigned long long)wt.batch_items,
                          (unsigned long long)wt.last_batch_items);
    return 0;
}

static int gen_fits(gt_agent *a, const gt_job *job, gt_err *err) {
    gt_job_spec spec;
    int rc = ag_gen_load_spec(a, job->task, &spec, err);
    if (rc) return rc;
    const gt_agent_model *m = gt_agent_get_model(a);
    if (!m) rc = gt_err_set(err, GT_EUNSUPPORTED, "this agent runs no model");
    else if (spec.has_model && memcmp(spec.model, gt_agent_model_hash(m), 32))
        rc = gt_err_set(err, GT_EUNSUPPORTED, "job %s asks for another model than this agent runs", spec.name);
    else
        rc = batch_size_check(job->task, &spec, err);
    gt_job_spec_free(&spec);
    return rc;
}

/* Whether a worker claims the job: only when its spec names the model
 * ("model": "sha256:..."). Validators re-run samples with the job's model;
 * a job naming none is re-run with whatever model its validator runs, and
 * a batch made with another is refused whole by the spot check ("sample N
 * names model X, not the model this job is re-run with"), its stake lost,
 * and dispute voters running yet another model vote against it too (they
 * abstain only on a job naming a model they lack). So a poster naming no
 * model and a validator of another model than the workers' (an honest one
 * will do) took every batch's stake (test_agent_work test_model_less_job). */
/* Times a short generation of sample 0's prompt when this agent has timed
 * no token yet, so the window check below has a measure. */
static int token_probe(gt_agent *a, const gt_job_spec *spec, gt_err *err) {
    if (ag_token_us(a)) return 0;
    gt_buf p = GT_BUF_INIT;
    int rc = gt_job_render(spec, 0, &p, NULL, err);
    if (!rc) rc = ag_token_probe(a, (const char *)p.data, p.len, spec->max_tokens < 8 ? spec->max_tokens : 8, err);
    gt_buf_free(&p);
    return rc;
}

/* The batch a claim of the task takes now: the ledger gives the lowest open
 * slot (0 when none is open; the claim is refused then). A claim racing
 * this one's can still take it first and leave this worker the next. */
static uint64_t claim_batch(const json_t *task) {
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        const char *st = json_string_value(json_object_get(sl, "state"));
        if (st && !strcmp(st, "open")) return (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    }
    return 0;
}

/* Tokens a rendered text may take beyond its bytes (BOS, EOS, a leading space). */
#define GEN_TOKENS_SLACK 4
/* Tokens an output of max_tokens generated ones may take again inside the judge prompt. */
#define GEN_OUTPUT_SLACK 8

/* At most how many tokens text takes in llm, where that is at most limit
 * (the bytes bound: no token is shorter than a byte, so a short text is not
 * tokenized); else its exact count. */
static int tokens_of(gt_llm *llm, const gt_buf *text, long limit, size_t *n, gt_err *err) {
    const int32_t *ids;
    if ((long)text->len + GEN_TOKENS_SLACK <= limit) return *n = text->len + GEN_TOKENS_SLACK, 0;
    return gt_llm_tokenize(llm, text->len ? (const char *)text->data : "", text->len, 1, &ids, n, err);
}

/* 0 when sample i's prompt fits llm's context of n_ctx (a generation whose
 * prompt does not fails the work after the claim) and, with a judge stage,
 * its judge prompt with max_tokens of output does too (a validator that
 * cannot judge the batch rejects it); else EUNSUPPORTED saying which. The
 * validator runs the job's model, so its context is this one's. */
static int sample_fits_ctx(gt_llm *llm, const gt_job_spec *spec, uint64_t i, int n_ctx, gt_err *err) {
    gt_buf p = GT_BUF_INIT, j = GT_BUF_INIT;
    size_t np = 0, nj = 0;
    long out = (long)spec->max_tokens + GEN_OUTPUT_SLACK;
    int rc = gt_job_render(spec, i, &p, NULL, err);
    if (!rc) rc = tokens_of(llm, &p, (long)n_ctx - 1, &np, err);
    if (!rc && np >= (size_t)n_ctx)
        rc = gt_err_set(err, GT_EUNSUPPORTED, "sample %llu's prompt takes %zu tokens, more than the model's context "
                        "of %d: its generation would fail after the claim", (unsigned long long)i, np, n_ctx);
    if (!rc && spec->judge && !(rc = gt_job_render_judge(spec, p.data ? (const char *)p.data : "", "", &j, err)))
        rc = tokens_of(llm, &j, (long)n_ctx - out, &nj, err);
    if (!rc && spec->judge && (long)nj + out > (long)n_ctx)
        rc = gt_err_set(err, GT_EUNSUPPORTED, "sample %llu's judge prompt takes %zu tokens before its output of up to "
                        "%d: more than the model's context of %d, so no validator could judge the batch (a rejection, "
                        "the stake lost)", (unsigned long long)i, nj, spec->max_tokens, n_ctx);
    gt_buf_free(&p), gt_buf_free(&j);
    return rc;
}

/* The batch can be worked and judged on the job's model (this agent's): a
 * judge stage can read a score from it (gt_judge_tokens: a validator whose
 * judge cannot rejects the batch), and every sample fits its context
 * (sample_fits_ctx). */
static int batch_fits_ctx(gt_agent *a, const gt_job_spec *spec, uint64_t batch, gt_err *err) {
    uint64_t first = 0, count = 0;
    int32_t yes, no;
    gt_llm *llm = gt_agent_llm(a, err);
    if (!llm) return err->code;
    int n_ctx = gt_ctx_n_ctx(llm->ctx), rc = spec->judge ? gt_judge_tokens(llm, &yes, &no, err) : 0;
    if (rc) return gt_err_wrap(err, "the job's judge stage cannot score on its model, so no validator could judge a "
                               "batch (a rejection, the stake lost)");
    assert(n_ctx > 0);
    gt_job_batch_range(spec, batch, &first, &count);
    for (uint64_t i = first; !rc && i < first + count; i++) rc = sample_fits_ctx(llm, spec, i, n_ctx, err);
    return rc;
}

/* Milliseconds generating the batch takes at most at this agent's measured
 * times: each sample's prompt read (its rendered bytes: no token is shorter
 * than a byte) at a prompt token's time and max_tokens generated at a
 * generated token's (the work does not stop early for sure). */
static double gen_work_ms(gt_agent *a, const gt_job_spec *spec, uint64_t batch) {
    uint64_t first = 0, count = 0, prompt_bytes = 0;
    gt_job_batch_range(spec, batch, &first, &count);
    for (uint64_t i = first; i < first + count; i++) {
        gt_buf p = GT_BUF_INIT;
        gt_err e = {0};
        prompt_bytes += gt_job_render(spec, i, &p, NULL, &e) ? GT_JOB_PROMPT_MAX : (uint64_t)p.len;
        gt_buf_free(&p);
    }
    double gen_us = (double)count * (double)spec->max_tokens * (double)ag_token_us(a);
    return (gen_us + (double)prompt_bytes * (double)ag_prompt_us(a)) / 1000.0;
}

/* 0 when the batch a claim takes now can be worked and judged: twice its
 * estimated work plus GT_AGENT_SUBMIT_MARGIN_MS fits the task's submit
 * window, and its samples fit the model's context (batch_fits_ctx); else
 * EUNSUPPORTED saying why. The claim policy's window (twice the longest
 * job so far) knows nothing of this job's size: a poster's batch of
 * thousands of long samples in a window that fits the agent's earlier jobs
 * took the stake of the worker that claimed it, which could not submit in
 * time; and a judge prompt longer than the context made the validator
 * reject an honest batch. The window goes first: it reads the prompts'
 * bytes only, where the context check may tokenize every prompt, so a
 * batch no window fits costs its rendering, not its tokenizing
 * (test_agent_work test_claim_check_cheap). */
static int gen_batch_fits(gt_agent *a, const gt_job *job, gt_err *err) {
    char *text = json_dumps(job->spec, JSON_COMPACT);
    gt_job_spec spec;
    uint64_t batch = claim_batch(job->task);
    memset(&spec, 0, sizeof spec);
    int rc = text ? gt_job_spec_parse(text, strlen(text), &spec, err) : gt_err_set(err, GT_ENOMEM, "out of memory");
    free(text);
    if (!rc) rc = token_probe(a, &spec, err);
    json_int_t submit_s = json_integer_value(json_object_get(job->task, "submitSeconds"));
    double est_ms = rc ? 0 : gen_work_ms(a, &spec, batch), need_ms = 2 * est_ms + GT_AGENT_SUBMIT_MARGIN_MS;
    if (!rc && !(submit_s > 0 && need_ms <= (double)submit_s * 1000.0))
        rc = gt_err_set(err, GT_EUNSUPPORTED, "generating its batch of %llu samples of up to %d tokens would take "
                        "about %.0f ms at this agent's measured speed (%llu us a token); twice that plus a margin, "
                        "%.0f ms, is more than its submit window of %lld s", (unsigned long long)spec.batch,
                        spec.max_tokens, est_ms, (unsigned long long)ag_token_us(a), need_ms, (long long)submit_s);
    if (!rc) rc = batch_fits_ctx(a, &spec, batch, err);
    gt_job_spec_free(&spec);
    return rc;
}

static int gen_claimable(gt_agent *a, const gt_job *job, gt_err *err) {
    /* The spec is already parsed in job (fits checked it whole): no second fetch of its blob. */
    if (json_object_get(job->spec, "model")) return gen_batch_fits(a, job, err);
    const char *name = json_string_value(json_object_get(job->spec, "name"));
    return gt_err_set(err, GT_EUNSUPPORTED,
                      "job %s names no model: its validators re-run samples with whatever model they run and refuse "
                      "a batch made with another, so its stake could be lost for honest work (a job to be worked "
                      "names its model: \"model\": \"sha256:<hex of the GGUF file>\")",
                      name ? name : "?");
}

static int gen_work(gt_agent *a, const gt_job *job, gt_buf *out, gt_err *err) {
    gt_job_spec spec;
    int rc = gen_fits(a, job, err);
    if (!rc) rc = ag_gen_load_spec(a, job->task, &spec, err);
    if (rc) return rc;
    gt_llm *llm = gt_agent_llm(a, err);
    rc = llm ? gt_work_generate_batch(&spec, llm, gt_agent_address(a), job->slot, out, err) : err->code;
    gt_job_spec_free(&spec);
    return rc;
}

uint64_t gt_agent_slot_paid(const json_t *sl, uint64_t total) {
    /* "units" stays the per-sample verdict's even when a dispute overturned
     * it, so "accept" is read first. */
    if (json_is_true(json_object_get(sl, "accept"))) return total;
    const json_t *units = json_object_get(sl, "units");
    uint64_t accepted = units ? (uint64_t)json_integer_value(json_object_get(units, "accepted")) : 0;
    return accepted < total ? accepted : total;
}

/* Adds the accepted samples of one judged slot (its batch blob and the
 * reason blob of its verdict) to p's dedup indexes. */
int ag_gen_remember_slot(gt_agent *a, gt_pipeline *p, const json_t *sl, gt_err *err) {
    const char *rid = json_string_value(json_object_get(sl, "result"));
    const char *why = json_string_value(json_object_get(sl, "reason"));
    if (!rid) return 0;
    uint8_t *blob = NULL, *reason = NULL;
    size_t blen = 0, rlen = 0;
    gt_sample *s = NULL;
    size_t n = 0;
    json_t *r = NULL;
    int rc = gt_client_blob_get(gt_agent_client(a), rid, GT_AGENT_RESULT_MAX_BYTES, &blob, &blen, err);
    if (!rc && why) rc = gt_client_blob_get(gt_agent_client(a), why, GT_AGENT_RESULT_MAX_BYTES, &reason, &rlen, err);
    /* A batch that does not parse was refused whole: nothing to remember. */
    if (!rc && gt_batch_parse((const char *)blob, blen, &s, &n, NULL)) goto out;
    if (!rc && reason) rc = gt_json_parse((const char *)reason, rlen, GT_AGENT_RESULT_MAX_BYTES, &r, err);
    int all = json_is_true(json_object_get(sl, "accept")); /* paid in full: gt_agent_slot_paid */
    for (size_t i = 0; !rc && i < n; i++) {
        int ok = all;
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(r, "samples"), k, v) {
            if ((uint64_t)json_integer_value(json_object_get(v, "index")) == s[i].index)
                ok = json_is_true(json_object_get(v, "accepted"));
        }
        if (ok) rc = gt_pipeline_remember(p, &s[i], err);
    }
out:
    json_decref(r);
    gt_samples_free(s, n);
    gt_free(blob);
    gt_free(reason);
    return rc;
}

/* ---- which batches a batch is judged against ----
 *
 * Dedup makes a batch's verdict depend on other batches: a sample that
 * repeats an accepted sample of another batch is refused. Slots are judged
 * independently, in the order their results arrive: the judge of slot k
 * checks it against every other slot that already has a verdict, and
 * writes that list into the verdict's reason blob ("against": [{slot,
 * result}]). Waiting for lower slots instead let one claimed-and-silent
 * slot hold every later one past its verify deadline. Dispute voters, the
 * worker deciding whether to dispute and the poster re-validating for
 * publication read the list back, so all of them judge exactly what the
 * judge did. */

/* 1 if a slot in this state has a verdict whose samples count for dedup. */
static int slot_judged(const char *state) {
    return state && (!strcmp(state, "accepted") || !strcmp(state, "rejected") || !strcmp(state, "disputed") ||
                     !strcmp(state, "paid"));
}

/* The task's slot object for `slot`, or NULL. */
const json_t *ag_gen_find_slot(const json_t *task, uint64_t slot) {
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        if ((uint64_t)json_integer_value(json_object_get(sl, "slot")) == slot) return sl;
    }
    return NULL;
}

/* Feeds p with the accepted samples of every other judged slot and appends
 * each one's {slot, result} to `against` (the judge's first look). */
static int remember_judged(gt_agent *a, const gt_job *job, gt_pipeline *p, json_t *against, gt_err *err) {
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(job->task, "slotList"), i, sl) {
        uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
        json_t *res = json_object_get(sl, "result");
        if (slot == job->slot || !slot_judged(json_string_value(json_object_get(sl, "state"))) || !json_is_string(res))
            continue;
        int rc = ag_gen_remember_slot(a, p, sl, err);
        if (rc) return rc;
        if (json_array_append_new(against, json_pack("{s:I,s:O}", "slot", (json_int_t)slot, "result", res)))
            return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    return 0;
}

/* Feeds p with the slots listed in `against` that still hold the result
 * they held then (a slot rejected whole and reopened accepted nothing). */
static int remember_listed(gt_agent *a, const json_t *task, const json_t *against, gt_pipeline *p, gt_err *err) {
    size_t i;
    json_t *x;
    if (json_array_size(against) > GT_JOB_MAX_SAMPLES)
        return gt_err_set(err, GT_ELIMIT, "a verdict lists %zu batches, more than a job has", json_array_size(against));
    json_array_foreach(against, i, x) {
        const json_t *sl = ag_gen_find_slot(task, (uint64_t)json_integer_value(json_object_get(x, "slot")));
        const char *then = json_string_value(json_object_get(x, "result"));
        const char *now = sl ? json_string_value(json_object_get(sl, "result")) : NULL;
        if (!then || !now || strcmp(then, now)) continue;
        int rc = ag_gen_remember_slot(a, p, sl, err);
        if (rc) return rc;
    }
    return 0;
}

/* The "against" list of the verdict on `sl` into *out (a new reference),
 * or NULL when it has no verdict with one. A verdict whose reason blob
 * cannot be fetched is an error: judging against another set than the
 * judge did (every slot judged by now) could vote against an honest batch
 * on a passing network fault; the vote is tried again later instead. */
int ag_gen_verdict_against(gt_agent *a, const json_t *sl, json_t **out, gt_err *err) {
    const char *why = json_string_value(json_object_get(sl, "reason"));
    uint8_t *bytes = NULL;
    size_t len = 0;
    json_t *r = NULL;
    *out = NULL;
    if (!why) return 0;
    if (gt_client_blob_get(gt_agent_client(a), why, GT_AGENT_RESULT_MAX_BYTES, &bytes, &len, err))
        return gt_err_wrap(err, "the verdict's reason %s (the batches it was judged against)", why);
    if (!gt_json_parse((const char *)bytes, len, GT_AGENT_RESULT_MAX_BYTES, &r, NULL) &&
        json_is_array(json_object_get(r, "against")))
        *out = json_incref(json_object_get(r, "against"));
    json_decref(r);
    gt_free(bytes);
    return 0;
}

/* Feeds p for judging job->slot: what its verdict was judged against when
 * it has one, else every slot judged by now (listed in *against_out, a new
 * array, when that is not NULL). */
static int remember_for(gt_agent *a, const gt_job *job, gt_pipeline *p, json_t **against_out, gt_err *err) {
    const json_t *sl = ag_job_slot(job);
    json_t *listed = NULL;
    int judged = sl && slot_judged(json_string_value(json_object_get(sl, "state")));
    int rc = judged ? ag_gen_verdict_against(a, sl, &listed, err) : 0;
    if (rc) return rc;
    if (listed) {
        rc = remember_listed(a, job->task, listed, p, err);
    } else {
        listed = json_array();
        if (!listed) return gt_err_set(err, GT_ENOMEM, "out of memory");
        rc = remember_judged(a, job, p, listed, err);
    }
    if (!rc && against_out) *against_out = json_incref(listed);
    json_decref(listed);
    return rc;
}

/* Validates job->slot's batch blob[0..len), submitted by `worker`. reason
 * and samples as gt_work_validate_batch; the reason blob also lists the
 * batches it was judged against. */
static int validate(gt_agent *a, const gt_job *job, const gt_addr *worker, const uint8_t *blob, size_t len,
                    uint64_t spot_seed, gt_work_batch_verdict *v, gt_buf *reason, gt_err *err) {
    gt_job_spec spec;
    gt_pipeline *p = NULL;
    json_t *against = NULL;
    gt_llm *llm = gt_agent_llm(a, err);
    if (!llm) return err->code;
    int rc = ag_gen_load_spec(a, job->task, &spec, err);
    if (rc) return rc;
    /* Spot checks re-run samples with this agent's model: with another model
     * than the job's, honest samples would not reproduce. Say so instead. */
    if (spec.has_model && memcmp(spec.model, llm->id, 32))
        rc = gt_err_set(err, GT_EUNSUPPORTED, "job %s needs another model than this validator runs", spec.name);
    if (!rc && !(rc = gt_pipeline_new(&spec, &p, err)) && !(rc = remember_for(a, job, p, &against, err))) {
        gt_pipeline_opts o = {.judge = spec.judge ? llm : NULL, .regen = llm, .spot_seed = spot_seed};
        gt_buf r = GT_BUF_INIT;
        json_t *rj = NULL;
        rc = gt_work_validate_batch(p, &spec, &o, job->slot, worker, blob, len, v, &r, NULL, NULL, err);
        if (!rc) rc = gt_json_parse((const char *)r.data, r.len, GT_AGENT_RESULT_MAX_BYTES, &rj, err);
        if (!rc) json_object_set(rj, "against", against);
        char *t = rc ? NULL : gt_json_dump(rj);
        if (!rc && (!t || gt_buf_append_str(reason, t))) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        free(t);
        json_decref(rj);
        gt_buf_free(&r);
    }
    json_decref(against);
    gt_pipeline_free(p);
    gt_job_spec_free(&spec);
    return rc;
}

/* One line on a batch verdict, for logs and the reason text. */
static void describe(const gt_work_batch_verdict *v, gt_skill_verdict *sv) {
    sv->accept = v->accepted == v->total;
    sv->score = (int)v->score;
    if (v->whole[0]) {
        snprintf(sv->reason, sizeof sv->reason, "refused the whole batch: %.400s", v->whole);
        return;
    }
    /* Said so a reader sees a partial verdict: the good samples are paid,
     * the stake of the others is slashed (market/partial.c). */
    int n = v->accepted == v->total
                ? snprintf(sv->reason, sizeof sv->reason, "all %" PRIu64 " samples good", v->total)
                : snprintf(sv->reason, sizeof sv->reason,
                           "in part: %" PRIu64 " of %" PRIu64 " samples good and paid, %" PRIu64
                           " bad and their stake slashed",
                           v->accepted, v->total, v->total - v->accepted);
    const char *sep = " (rejected by";
    for (int st = 0; st < GT_STAGE_COUNT && n > 0 && (size_t)n < sizeof sv->reason; st++) {
        if (!v->report.stage[st].failed) continue;
        n += snprintf(sv->reason + n, sizeof sv->reason - (size_t)n, "%s %s: %" PRIu64, sep, gt_stage_name(st),
                      v->report.stage[st].failed);
        sep = ",";
    }
    if (n > 0 && (size_t)n < sizeof sv->reason && strcmp(sep, " (rejected by"))
        snprintf(sv->reason + n, sizeof sv->reason - (size_t)n, ")");
}

/* The slot's worker address. */
static int slot_worker(const gt_job *job, gt_addr *w, gt_err *err) {
    const json_t *sl = ag_job_slot(job);
    const char *s = sl ? json_string_value(json_object_get(sl, "worker")) : NULL;
    if (!s || gt_addr_parse(s, w, NULL)) return gt_err_set(err, GT_EINVAL, "slot %" PRIu64 " has no worker", job->slot);
    return 0;
}

/* What a secret spot draw on one result of slot `sl` is seeded from (with
 * the drawing agent's secret): the task, the slot, the attempt, the batch's
 * bytes and a tag naming who draws ("" for a voter, whose draw this was
 * first; "publish" for the poster's re-validation, so that an agent in both
 * roles does not re-run the same samples twice and learn nothing new).
 * Every attempt and every result gets a fresh draw. Seeded by (task, slot)
 * alone, a voter re-ran the same samples on every attempt of the slot: a
 * worker (or its sybil, on the reopened slot) whose batch with one made-up
 * sample was voted down learnt that the sample's position is in that
 * voter's draw (the votes are public) and an accepted one that it is not,
 * and could then fake every sample outside the draw and be paid in full. */
void ag_gen_draw_what(const uint8_t task[32], const json_t *sl, uint64_t slot, const uint8_t *result, size_t len,
                      const char *tag, uint8_t what[32]) {
    uint64_t attempt = sl ? (uint64_t)json_integer_value(json_object_get(sl, "attempt")) : 0;
    uint8_t in[32 + 8 + 8 + 32 + 16];
    size_t tag_len = strnlen(tag, 16);
    memcpy(in, task, 32);
    for (int i = 0; i < 8; i++) in[32 + i] = (uint8_t)(slot >> (56 - 8 * i));
    for (int i = 0; i < 8; i++) in[40 + i] = (uint8_t)(attempt >> (56 - 8 * i));
    gt_sha256(result, len, in + 48);
    memcpy(in + 80, tag, tag_len);
    gt_keccak256(in, 80 + tag_len, what);
}

/* Quorum voters and dispute voters: the whole batch is good or it is not. */
static int gen_verify(gt_agent *a, const gt_job *job, const uint8_t *result, size_t len, gt_skill_verdict *v,
                      gt_err *err) {
    gt_addr w;
    gt_work_batch_verdict bv;
    gt_buf reason = GT_BUF_INIT;
    int rc = slot_worker(job, &w, err);
    uint8_t h[32];
    ag_gen_draw_what(job->task_id, ag_job_slot(job), job->slot, result, len, "", h);
    if (!rc) rc = validate(a, job, &w, result, len, gt_agent_secret_seed(a, h), &bv, &reason, err);
    if (!rc) describe(&bv, v);
    gt_buf_free(&reason);
    return rc;
}

typedef struct partial_args {
    const uint8_t *task, *result, *reason;
    uint64_t slot;
    const gt_work_batch_verdict *v;
} partial_args;

static int fill_partial(void *arg, gt_action *act, gt_err *err) {
    const partial_args *x = arg;
    gt_action_set_b32(act, "task", x->task);
    gt_action_set_u64(act, "slot", x->slot);
    gt_action_set_b32(act, "result", x->result);
    gt_action_set_u64(act, "accepted", x->v->accepted);
    gt_action_set_u64(act, "total", x->v->total);
    gt_action_set_u64(act, "score", x->v->score);
    gt_action_set_b32(act, "reason", x->reason);
    return 0;
}

/* The named validator: a verdict sample by sample. */
static int gen_judge(gt_agent *a, const gt_job *job, const uint8_t result_id[32], const uint8_t *result, size_t len,
                     gt_skill_verdict *v, gt_err *err) {
    gt_addr w;
    gt_work_batch_verdict bv;
    gt_buf reason = GT_BUF_INIT;
    char rid[72];
    uint8_t reason_id[32];
    int rc = slot_worker(job, &w, err);
    /* Which samples to re-generate: chosen after the batch was committed,
     * from a seed the worker cannot compute. */
    if (!rc) rc = validate(a, job, &w, result, len, gt_agent_secret_seed(a, result_id), &bv, &reason, err);
    if (!rc) rc = gt_client_blob_put(gt_agent_client(a), reason.data, reason.len, rid, err);
    if (!rc) rc = gt_blob_id_parse(rid, reason_id, err);
    partial_args x = {job->task_id, result_id, reason_id, job->slot, &bv};
    if (!rc) rc = gt_agent_act(a, &gt_kind_task_verify_partial, fill_partial, &x, NULL, err);
    if (!rc) describe(&bv, v);
    gt_buf_free(&reason);
    return rc;
}

/* A worker whose batch was rejected (in part) disputes only if every sample
 * of it passes its own run of the pipeline. */
static int gen_stands_by(gt_agent *a, const gt_job *job, const uint8_t *result, size_t len, int *stand, gt_err *err) {
    gt_work_batch_verdict bv;
    gt_buf reason = GT_BUF_INIT;
    *stand = 0;
    int rc = validate(a, job, gt_agent_address(a), result, len, 0, &bv, &reason, err);
    if (!rc) *stand = bv.accepted == bv.total;
    gt_buf_free(&reason);
    return rc;
}

/* Tokens the judge stage reads for batch `batch` at most: each sample's
 * judge prompt, its frame around the sample's prompt counted by bytes (no
 * token is shorter than a byte) and the output by max_tokens, plus BOS. A
 * rented server is asked once per candidate (work/llm.c), so twice. */
static uint64_t judge_read_tokens(const gt_agent *a, const gt_job_spec *spec, uint64_t batch) {
    uint64_t first, count, total = 0;
    gt_job_batch_range(spec, batch, &first, &count);
    for (uint64_t i = first; i < first + count; i++) {
        gt_buf p = GT_BUF_INIT, j = GT_BUF_INIT;
        gt_err e = {0};
        if (!gt_job_render(spec, i, &p, NULL, &e) && !gt_job_render_judge(spec, (const char *)p.data, "", &j, &e))
            total += (uint64_t)j.len + (uint64_t)spec->max_tokens + 1;
        gt_buf_free(&p);
        gt_buf_free(&j);
    }
    return a->oai ? 2 * total : total;
}

/* Milliseconds a check of the job's batch (job->slot) takes at most at
 * this agent's measured times: the spot check re-generates ceil(fraction x
 * the slot's samples) samples of up to max_tokens each at a generated token's time
 * (ag_token_us, prompt evaluations folded in), and a judge stage reads
 * every sample's judge prompt at a prompt token's (ag_prompt_us). 0 before
 * the agent has timed a token, or for a spec it cannot read. Why: the
 * reveal guard had no estimate for a generate check, so an agent's first
 * one was bounded by its history alone; and a judge call, counted as one
 * token, reads a prompt longer than the output it judges. */
static uint64_t gen_rerun_ms(gt_agent *a, const gt_job *job) {
    uint64_t tok_us = ag_token_us(a);
    if (!tok_us || !job->spec) return 0;
    char *text = json_dumps(job->spec, JSON_COMPACT);
    gt_job_spec spec;
    gt_err e = {0};
    memset(&spec, 0, sizeof spec);
    int rc = text ? gt_job_spec_parse(text, strlen(text), &spec, &e) : GT_ENOMEM;
    free(text);
    uint64_t us = 0;
    if (!rc) {
        uint64_t first, count; /* the slot's own batch: the last one may be short */
        gt_job_batch_range(&spec, job->slot, &first, &count);
        us = (uint64_t)gt_pipeline_spot_n(&spec, (size_t)count) * (uint64_t)spec.max_tokens * tok_us;
        if (spec.judge) us += judge_read_tokens(a, &spec, job->slot) * ag_prompt_us(a);
    }
    gt_job_spec_free(&spec);
    return rc ? 0 : us / 1000 + 1;
}

const gt_skill gt_skill_generate = {
    .name = GT_WORK_KIND_GENERATE,
    .fits = gen_fits,
    .claimable = gen_claimable,
    .work = gen_work,
    .verify = gen_verify,
    .judge = gen_judge,
    .stands_by = gen_stands_by,
    .own_slot_work = 1,
    .rerun_ms = gen_rerun_ms,
};

/* A validator's trade on its card: it serves `generate` tasks as their
 * named verifier (the verdicts are gt_skill_generate's); it takes no tasks. */
const gt_skill gt_skill_validate = {.name = GT_WORK_SKILL_VALIDATE};
