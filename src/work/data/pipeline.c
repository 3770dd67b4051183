/* pipeline.c: the validation pipeline of data jobs (stages described in
 * pipeline.h): per-batch verdicts, dedup indexes kept across batches, the
 * logit-scored judge and re-execution spot checks. */
#include "work/data/pipeline.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/map.h"
#include "base/progress.h"
#include "infer/dmath.h"
#include "work/data/rng.h"

struct gt_pipeline {
    const gt_job_spec *spec;
    gt_map exact; /* set of the accepted texts' 32-byte hashes */
    gt_minhash mh;
    gt_lsh *lsh;
    uint64_t *sig; /* scratch: one signature */
};

int gt_pipeline_new(const gt_job_spec *spec, gt_pipeline **out, gt_err *err) {
    *out = NULL;
    gt_pipeline *p = gt_calloc(1, sizeof *p);
    if (!p) return gt_err_set(err, GT_ENOMEM, "out of memory");
    p->spec = spec;
    gt_map_init(&p->exact, 32, 0);
    if (spec->near_dedup) {
        int b, r;
        if (gt_minhash_init(&p->mh, &spec->near, err)) goto fail;
        gt_lsh_params(spec->near_threshold, spec->near.n_hashes, &b, &r);
        if (gt_lsh_new(spec->near.n_hashes, b, r, &p->lsh, err)) goto fail;
        p->sig = gt_malloc(sizeof(uint64_t) * (size_t)spec->near.n_hashes);
        if (!p->sig) {
            gt_err_set(err, GT_ENOMEM, "out of memory");
            goto fail;
        }
    }
    *out = p;
    return 0;
fail:
    gt_pipeline_free(p);
    return err && err->code ? err->code : GT_ENOMEM;
}

void gt_pipeline_free(gt_pipeline *p) {
    if (!p) return;
    gt_map_free(&p->exact);
    gt_minhash_free(&p->mh);
    gt_lsh_free(p->lsh);
    gt_free(p->sig);
    gt_free(p);
}

int gt_pipeline_remember(gt_pipeline *p, const gt_sample *s, gt_err *err) {
    uint8_t h[32];
    const gt_minhash *mh = p->spec->near_dedup ? &p->mh : NULL;
    if (!p->spec->dedup && !mh) return 0;
    if (gt_text_keys(mh, s->output, strlen(s->output), p->spec->dedup ? h : NULL, p->sig) ||
        (p->spec->dedup && gt_map_put(&p->exact, h, NULL, NULL)) || (mh && gt_lsh_insert(p->lsh, s->index, p->sig)))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* Sets the sample's verdict for a stage; a failure records the first reason. */
static void verdict(gt_sample *s, gt_batch_report *rep, int stage, int pass, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void verdict(gt_sample *s, gt_batch_report *rep, int stage, int pass, const char *fmt, ...) {
    s->verdict[stage] = pass ? GT_VERDICT_PASS : GT_VERDICT_FAIL;
    rep->stage[stage].checked++;
    if (pass) {
        rep->stage[stage].passed++;
        return;
    }
    rep->stage[stage].failed++;
    if (!s->reason[0]) {
        int n = snprintf(s->reason, sizeof s->reason, "%s: ", gt_stage_name(stage));
        va_list ap;
        va_start(ap, fmt);
        if (n > 0 && (size_t)n < sizeof s->reason) vsnprintf(s->reason + n, sizeof s->reason - (size_t)n, fmt, ap);
        va_end(ap);
    }
}

/* The text the checkers see: the output, or for JSON outputs the value of
 * its "answer" field when it has one. *obj gets the parsed object (or NULL). */
static json_t *output_object(const char *out) {
    const char *a = strchr(out, '{'), *b = strrchr(out, '}');
    if (!a || !b || b < a) return NULL;
    json_t *o = json_loadb(a, (size_t)(b - a + 1), JSON_REJECT_DUPLICATES, NULL);
    if (o && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* The schema stage of sample s (a verdict in s and rep). 0, or GT_ENOMEM
 * (err set) when the job's prompt could not be rendered for want of memory:
 * the validator's own failure, which must not reject an honest sample. A
 * prompt the job itself cannot render (over GT_JOB_PROMPT_MAX, or no draw
 * left that is not a benchmark's) fails every worker's render the same way:
 * a rejection saying so, err untouched. */
static int stage_schema(gt_pipeline *p, uint64_t first, uint64_t count, gt_sample *s, gt_batch_report *rep,
                        gt_err *err) {
    const gt_job_spec *spec = p->spec;
    if (memcmp(s->job, spec->id, 32)) return verdict(s, rep, GT_STAGE_SCHEMA, 0, "sample is for another job"), 0;
    if (s->index < first || s->index >= first + count)
        return verdict(s, rep, GT_STAGE_SCHEMA, 0, "index %llu is outside this batch (%llu..%llu)",
                       (unsigned long long)s->index, (unsigned long long)first,
                       (unsigned long long)(first + count - 1)), 0;
    if (s->seed != gt_job_sample_seed(spec, s->index))
        return verdict(s, rep, GT_STAGE_SCHEMA, 0, "seed is not the job's seed for index %llu",
                       (unsigned long long)s->index), 0;
    if (spec->has_model && memcmp(s->model, spec->model, 32))
        return verdict(s, rep, GT_STAGE_SCHEMA, 0, "model is not the one the job requires"), 0;
    gt_buf want = GT_BUF_INIT;
    gt_err re = {0};
    int rc = gt_job_render(spec, s->index, &want, NULL, &re);
    int same = !rc && want.len == strlen(s->prompt) && !memcmp(want.data, s->prompt, want.len);
    gt_buf_free(&want);
    if (rc == GT_ENOMEM) return gt_err_set(err, GT_ENOMEM, "rendering the job's prompt %llu: %s",
                                           (unsigned long long)s->index, re.msg);
    if (rc) return verdict(s, rep, GT_STAGE_SCHEMA, 0, "the job's prompt for this index cannot be made: %s", re.msg), 0;
    if (!same) return verdict(s, rep, GT_STAGE_SCHEMA, 0, "prompt differs from the job's template for this index"), 0;
    if (!s->output[0]) return verdict(s, rep, GT_STAGE_SCHEMA, 0, "empty output"), 0;
    if (spec->output_json) {
        json_t *o = output_object(s->output);
        if (!o) return verdict(s, rep, GT_STAGE_SCHEMA, 0, "output has no JSON object"), 0;
        for (int i = 0; i < spec->n_fields; i++) {
            json_t *v = json_object_get(o, spec->fields[i]);
            if (!json_is_string(v)) {
                json_decref(o);
                verdict(s, rep, GT_STAGE_SCHEMA, 0, "output field \"%s\" missing or not a string", spec->fields[i]);
                return 0;
            }
        }
        json_decref(o);
    }
    verdict(s, rep, GT_STAGE_SCHEMA, 1, "ok");
    return 0;
}

static void stage_verify(gt_pipeline *p, gt_sample *s, gt_batch_report *rep) {
    const gt_job_spec *spec = p->spec;
    gt_family_item it;
    if (gt_job_item(spec, s->index, &it, NULL)) /* the schema stage's render failed the same way first */
        return verdict(s, rep, GT_STAGE_VERIFY, 0, "no item for index %llu", (unsigned long long)s->index);
    gt_verdict v;
    json_t *o = spec->output_json ? output_object(s->output) : NULL;
    json_t *ans = o ? json_object_get(o, "answer") : NULL;
    if (json_is_string(ans)) gt_family_check(&it, json_string_value(ans), json_string_length(ans), &v);
    else gt_family_check(&it, s->output, strlen(s->output), &v);
    json_decref(o);
    verdict(s, rep, GT_STAGE_VERIFY, v.ok, "%s", v.reason);
}

int gt_judge_tokens(gt_llm *judge, int32_t *yes, int32_t *no, gt_err *err) {
    /* First token of " Yes" / " No" (no BOS): what the judge would say next. */
    const int32_t *ids;
    size_t n;
    int rc = 0;
    *yes = -1, *no = -1;
    if (!(rc = gt_llm_tokenize(judge, " Yes", 4, 0, &ids, &n, err)) && n) *yes = ids[0];
    if (!rc && !(rc = gt_llm_tokenize(judge, " No", 3, 0, &ids, &n, err)) && n) *no = ids[0];
    if (!rc && (*yes < 0 || *no < 0 || *yes == *no))
        rc = gt_err_set(err, GT_EUNSUPPORTED, "judge vocabulary has no Yes/No tokens (\" Yes\" and \" No\" do not "
                        "begin with two different tokens)");
    return rc;
}

int gt_judge_score(const gt_job_spec *spec, gt_llm *judge, const char *prompt, const char *output, double *score,
                   gt_err *err) {
    gt_buf jp = GT_BUF_INIT;
    int rc = gt_job_render_judge(spec, prompt, output, &jp, err);
    if (rc) return rc;
    const int32_t *ids;
    size_t n;
    int32_t yes = -1, no = -1;
    rc = gt_judge_tokens(judge, &yes, &no, err);
    if (!rc) rc = gt_llm_tokenize(judge, (const char *)jp.data, jp.len, 1, &ids, &n, err);
    gt_buf_free(&jp);
    if (rc) return rc;
    if ((int)n > gt_ctx_n_ctx(judge->ctx))
        return gt_err_set(err, GT_ELIMIT, "judge prompt of %zu tokens does not fit the context of %d", n,
                          gt_ctx_n_ctx(judge->ctx));
    /* As log-probabilities (gt_llm_next_logprobs), so a judge renting its
     * model from a server gets the same bits as one running it here. */
    int32_t cands[2] = {yes, no};
    double lp[2];
    rc = gt_llm_next_logprobs(judge, ids, n, cands, 2, lp, err);
    /* P(Yes) / (P(Yes) + P(No)) = 1 / (1 + exp(lp_no - lp_yes)), by
     * gt_dmath_exp: the score meets the job's threshold in every validator's
     * re-run, so it must be the same bits with any libm. */
    if (!rc) *score = 1.0 / (1.0 + gt_dmath_exp(lp[1] - lp[0]));
    return rc;
}

size_t gt_pipeline_spot_n(const gt_job_spec *spec, size_t n) {
    if (!(spec->spot_fraction > 0)) return 0;
    size_t m = (size_t)ceil(spec->spot_fraction * (double)n - 1e-9);
    return m > n ? n : m;
}

/* Re-runs a seeded choice of ceil(fraction * n) samples; 0 all reproduced,
 * 1 one did not (reason in rep), or an error. */
static int stage_spot(gt_pipeline *p, const gt_pipeline_opts *o, uint64_t batch, gt_sample *s, size_t n,
                      gt_batch_report *rep, gt_err *err) {
    size_t m = gt_pipeline_spot_n(p->spec, n);
    size_t *order = gt_malloc(sizeof(size_t) * (n ? n : 1));
    if (!order) return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) order[i] = i;
    gt_rng r;
    gt_rng_seed(&r, o->spot_seed, batch);
    for (size_t i = 0; i < m; i++) { /* partial Fisher-Yates */
        size_t j = i + (size_t)gt_rng_below(&r, n - i);
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int failed = 0, rc = 0;
    for (size_t k = 0; k < m && !failed && !rc; k++) {
        gt_sample *x = &s[order[k]];
        rep->stage[GT_STAGE_SPOT].checked++;
        if (memcmp(x->model, o->regen->id, 32)) {
            char named[72];
            gt_llm_id_str(x->model, named);
            /* A job naming no model takes any: a sample of another model
             * than the validator's is one it cannot re-run, not a fault, so
             * it says so (an error, no verdict; the slot times out unpaid,
             * the stake returned) instead of refusing an honest batch. */
            if (!p->spec->has_model) {
                rc = gt_err_set(err, GT_EUNSUPPORTED, "job %s names no model and sample %llu was made with %.71s, "
                                "which this validator does not run: it cannot re-run it", p->spec->name,
                                (unsigned long long)x->index, named);
                break;
            }
            /* The validator re-runs with the job's model; a sample naming
             * another one cannot be reproduced, which is the worker's
             * failure (a verdict), not the validator's (an error that left
             * the result with no verdict at all). */
            snprintf(rep->spot_reason, sizeof rep->spot_reason,
                     "spot: sample %llu names model %.71s, not the model this job is re-run with",
                     (unsigned long long)x->index, named);
            failed = 1;
            x->verdict[GT_STAGE_SPOT] = GT_VERDICT_FAIL;
            rep->stage[GT_STAGE_SPOT].failed++;
            break;
        }
        gt_buf again = GT_BUF_INIT;
        rc = gt_job_generate_one(p->spec, o->regen, x->index, x->prompt, &again, err);
        if (!rc) {
            size_t len = strlen(x->output);
            if (again.len != len || (len && memcmp(again.data, x->output, len))) {
                size_t d = 0;
                while (d < len && d < again.len && again.data[d] == (uint8_t)x->output[d]) d++;
                snprintf(rep->spot_reason, sizeof rep->spot_reason,
                         "spot: sample %llu did not reproduce (outputs differ from byte %zu)",
                         (unsigned long long)x->index, d);
                failed = 1;
                x->verdict[GT_STAGE_SPOT] = GT_VERDICT_FAIL;
                rep->stage[GT_STAGE_SPOT].failed++;
            } else {
                x->verdict[GT_STAGE_SPOT] = GT_VERDICT_PASS;
                rep->stage[GT_STAGE_SPOT].passed++;
            }
        }
        gt_buf_free(&again);
    }
    gt_free(order);
    return rc ? rc : failed;
}

int gt_pipeline_run(gt_pipeline *p, const gt_pipeline_opts *o, uint64_t batch, gt_sample *samples, size_t n,
                    gt_batch_report *rep, gt_err *err) {
    const gt_job_spec *spec = p->spec;
    memset(rep, 0, sizeof *rep);
    uint64_t first, count;
    gt_job_batch_range(spec, batch, &first, &count);
    if (count == 0)
        return gt_err_set(err, GT_EINVAL, "batch %llu is past the job's %llu batches", (unsigned long long)batch,
                          (unsigned long long)gt_job_batches(spec));
    if (spec->judge && !o->judge) return gt_err_set(err, GT_EINVAL, "this job's pipeline needs a judge model");
    if (spec->spot_fraction > 0 && !o->regen)
        return gt_err_set(err, GT_EINVAL, "this job's pipeline re-runs samples: it needs the workers' model");
    rep->stage[GT_STAGE_SPOT].enabled = spec->spot_fraction > 0;
    rep->stage[GT_STAGE_SCHEMA].enabled = spec->schema;
    rep->stage[GT_STAGE_VERIFY].enabled = spec->verify;
    rep->stage[GT_STAGE_DEDUP].enabled = spec->dedup;
    rep->stage[GT_STAGE_NEAR].enabled = spec->near_dedup;
    rep->stage[GT_STAGE_JUDGE].enabled = spec->judge;
    rep->samples = n;
    for (size_t i = 0; i < n; i++) {
        memset(samples[i].verdict, GT_VERDICT_SKIPPED, sizeof samples[i].verdict);
        samples[i].judge_score = -1;
        samples[i].accepted = 0;
        samples[i].reason[0] = 0;
    }
    double t0 = gt_now_s();
    if (rep->stage[GT_STAGE_SPOT].enabled) {
        int rc = stage_spot(p, o, batch, samples, n, rep, err);
        if (rc < 0) return rc;
        if (rc == 1) rep->spot_failed = 1;
    }
    rep->seconds[GT_STAGE_SPOT] = gt_now_s() - t0;
    if (rep->spot_failed) {
        for (size_t i = 0; i < n; i++) snprintf(samples[i].reason, sizeof samples[i].reason, "%s", rep->spot_reason);
    }
    for (size_t i = 0; i < n && !rep->spot_failed; i++) {
        gt_sample *s = &samples[i];
        double t = gt_now_s();
        /* Schema and provenance always run when enabled: later stages trust it. */
        if (spec->schema && stage_schema(p, first, count, s, rep, err)) return err->code;
        double t1 = gt_now_s();
        rep->seconds[GT_STAGE_SCHEMA] += t1 - t;
        if (!s->reason[0] && spec->verify) stage_verify(p, s, rep);
        double t2 = gt_now_s();
        rep->seconds[GT_STAGE_VERIFY] += t2 - t1;
        /* Both dedup keys come from one normalisation (the dearest step),
         * so its time is counted in the dedup stage's. */
        uint8_t h[32];
        int want_hash = !s->reason[0] && spec->dedup, want_sig = !s->reason[0] && spec->near_dedup;
        if ((want_hash || want_sig) &&
            gt_text_keys(want_sig ? &p->mh : NULL, s->output, strlen(s->output), want_hash ? h : NULL, p->sig))
            return gt_err_set(err, GT_ENOMEM, "out of memory");
        if (want_hash) verdict(s, rep, GT_STAGE_DEDUP, !gt_map_get(&p->exact, h), "same text as an accepted sample");
        double t3 = gt_now_s();
        rep->seconds[GT_STAGE_DEDUP] += t3 - t2;
        if (!s->reason[0] && spec->near_dedup) {
            uint64_t other = 0;
            double sim = 0;
            assert(want_sig); /* p->sig holds this sample's signature */
            int dup = gt_lsh_query(p->lsh, p->sig, spec->near_threshold, &other, &sim);
            verdict(s, rep, GT_STAGE_NEAR, !dup, "near duplicate of sample %llu (estimated Jaccard %.2f >= %.2f)",
                    (unsigned long long)other, sim, spec->near_threshold);
        }
        double t4 = gt_now_s();
        rep->seconds[GT_STAGE_NEAR] += t4 - t3;
        if (!s->reason[0] && spec->judge) {
            int rc = gt_judge_score(spec, o->judge, s->prompt, s->output, &s->judge_score, err);
            if (rc) return rc;
            verdict(s, rep, GT_STAGE_JUDGE, s->judge_score >= spec->judge_threshold, "score %.3f below threshold %.3f",
                    s->judge_score, spec->judge_threshold);
        }
        rep->seconds[GT_STAGE_JUDGE] += gt_now_s() - t4;
        if (!s->reason[0]) {
            s->accepted = 1;
            /* Into the indexes now, so later samples of this batch see it. */
            if (spec->dedup && gt_map_put(&p->exact, h, NULL, NULL)) return gt_err_set(err, GT_ENOMEM, "out of memory");
            if (spec->near_dedup && gt_lsh_insert(p->lsh, s->index, p->sig))
                return gt_err_set(err, GT_ENOMEM, "out of memory");
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (samples[i].accepted) rep->accepted++;
        else rep->rejected++;
    }
    /* Overflow was ruled out when the spec was parsed (reward x samples, stake x batch). */
    rep->paid_units = rep->accepted * spec->reward_units;
    rep->slashed_units = rep->rejected * spec->stake_units;
    return 0;
}

json_t *gt_batch_report_json(const gt_batch_report *rep) {
    json_t *o = json_object(), *st = json_object();
    for (int i = 0; i < GT_STAGE_COUNT; i++) {
        const gt_stage_report *r = &rep->stage[i];
        json_object_set_new(st, gt_stage_name(i),
                            json_pack("{s:b,s:I,s:I,s:I,s:f}", "enabled", r->enabled, "checked", (json_int_t)r->checked,
                                      "passed", (json_int_t)r->passed, "failed", (json_int_t)r->failed, "seconds",
                                      rep->seconds[i]));
    }
    json_object_set_new(o, "stages", st);
    json_object_set_new(o, "samples", json_integer((json_int_t)rep->samples));
    json_object_set_new(o, "accepted", json_integer((json_int_t)rep->accepted));
    json_object_set_new(o, "rejected", json_integer((json_int_t)rep->rejected));
    char a[32];
    snprintf(a, sizeof a, "%llu", (unsigned long long)rep->paid_units);
    json_object_set_new(o, "paid", json_string(a));
    snprintf(a, sizeof a, "%llu", (unsigned long long)rep->slashed_units);
    json_object_set_new(o, "slashed", json_string(a));
    json_object_set_new(o, "spot_failed", json_boolean(rep->spot_failed));
    if (rep->spot_failed) json_object_set_new(o, "spot_reason", json_string(rep->spot_reason));
    return o;
}
