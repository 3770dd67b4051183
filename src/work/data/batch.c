/* batch.c: data jobs as market work, agent side (batch.h): a job's market
 * terms, a worker's batch blob, and a validator's per-sample verdict on it.
 * The validator refuses a blob whole when it cannot be a batch of this job by
 * this worker (so no sample in it can be trusted), and otherwise judges each
 * sample with the job's validation pipeline (pipeline.h). */
#include "work/data/batch.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/addr.h"
#include "market/market.h"
#include "work/data/export.h"

int gt_work_job_terms(const gt_job_spec *spec, gt_work_terms *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    uint64_t batches = gt_job_batches(spec);
    if (batches < 1 || batches > GT_MARKET_MAX_SLOTS)
        return gt_err_set(err, GT_ELIMIT,
                          "job %s has %llu batches; one task holds 1 to %d (raise batch or split the job)", spec->name,
                          (unsigned long long)batches, GT_MARKET_MAX_SLOTS);
    if (!spec->reward_units || !spec->stake_units)
        return gt_err_set(err, GT_EINVAL, "job %s: reward and stake per sample must both be above 0 to post it", spec->name);
    unsigned __int128 bounty = (unsigned __int128)spec->reward_units * spec->batch;
    unsigned __int128 stake = (unsigned __int128)spec->stake_units * spec->batch;
    if (bounty > INT64_MAX || stake > INT64_MAX)
        return gt_err_set(err, GT_EOVERFLOW, "job %s: reward or stake x batch overflows", spec->name);
    out->slots = batches;
    out->bounty_units = (uint64_t)bounty;
    out->stake_units = (uint64_t)stake;
    uint64_t first;
    out->batch_items = spec->batch;
    gt_job_batch_range(spec, batches - 1, &first, &out->last_batch_items);
    return 0;
}

int gt_work_generate_batch(const gt_job_spec *spec, gt_llm *llm, const gt_addr *worker, uint64_t batch, gt_buf *blob,
                           gt_err *err) {
    uint64_t first, count;
    gt_job_batch_range(spec, batch, &first, &count);
    if (count == 0)
        return gt_err_set(err, GT_EINVAL, "job %s has no batch %llu (it has %llu)", spec->name, (unsigned long long)batch,
                          (unsigned long long)gt_job_batches(spec));
    gt_sample *s = NULL;
    int rc = gt_job_generate(spec, llm, worker, first, count, NULL, NULL, &s, err);
    if (!rc) rc = gt_batch_write(s, count, blob, err);
    gt_samples_free(s, s ? count : 0);
    return rc;
}

/* Checks that a parsed blob can be batch `batch` of `worker`: no more samples
 * than the batch holds, each index once, every contributor the worker. */
static int batch_shape(const gt_job_spec *spec, uint64_t first, uint64_t count, const gt_addr *worker,
                       const gt_sample *s, size_t n, char *why, size_t cap) {
    if (n > count) {
        snprintf(why, cap, "the blob holds %zu samples; batch %llu holds %llu", n,
                 (unsigned long long)(count ? first / spec->batch : 0), (unsigned long long)count);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!gt_addr_eq(&s[i].contributor, worker)) {
            char a[43], b[43];
            gt_addr_to_str(&s[i].contributor, a);
            gt_addr_to_str(worker, b);
            snprintf(why, cap, "sample %llu names contributor %s, but %s submitted the batch",
                     (unsigned long long)s[i].index, a, b);
            return 0;
        }
        for (size_t j = 0; j < i; j++)
            if (s[j].index == s[i].index) {
                snprintf(why, cap, "sample index %llu appears twice", (unsigned long long)s[i].index);
                return 0;
            }
    }
    return 1;
}

/* The reason blob: counts, the report and every sample's verdict. */
static int reason_json(const gt_job_spec *spec, uint64_t batch, const gt_addr *worker, const gt_work_batch_verdict *v,
                       const gt_sample *s, size_t n, gt_buf *out, gt_err *err) {
    char job[72], w[43];
    memcpy(job, "sha256:", 7);
    gt_hex_encode(spec->id, 32, job + 7);
    gt_addr_to_str(worker, w);
    json_t *o = json_pack("{s:s,s:I,s:s,s:I,s:I,s:I}", "job", job, "batch", (json_int_t)batch, "worker", w, "accepted",
                          (json_int_t)v->accepted, "total", (json_int_t)v->total, "score", (json_int_t)v->score);
    if (!o) return gt_err_set(err, GT_ENOMEM, "out of memory");
    if (v->whole[0]) json_object_set_new(o, "refused", json_string(v->whole));
    else json_object_set_new(o, "report", gt_batch_report_json(&v->report));
    json_t *arr = json_array();
    for (size_t i = 0; i < n && !v->whole[0]; i++) {
        json_t *x = json_pack("{s:I,s:b}", "index", (json_int_t)s[i].index, "accepted", s[i].accepted);
        if (x && !s[i].accepted) json_object_set_new(x, "reason", json_string(s[i].reason));
        json_array_append_new(arr, x);
    }
    json_object_set_new(o, "samples", arr);
    char *t = gt_json_dump(o);
    json_decref(o);
    int rc = !t || gt_buf_append_str(out, t) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
    free(t);
    return rc;
}

int gt_work_validate_batch(gt_pipeline *p, const gt_job_spec *spec, const gt_pipeline_opts *o, uint64_t batch,
                           const gt_addr *worker, const void *blob, size_t len, gt_work_batch_verdict *v, gt_buf *reason,
                           gt_sample **samples, size_t *n_samples, gt_err *err) {
    memset(v, 0, sizeof *v);
    if (samples) *samples = NULL, *n_samples = 0;
    uint64_t first, count;
    gt_job_batch_range(spec, batch, &first, &count);
    if (count == 0)
        return gt_err_set(err, GT_EINVAL, "job %s has no batch %llu (it has %llu)", spec->name, (unsigned long long)batch,
                          (unsigned long long)gt_job_batches(spec));
    v->total = count;
    gt_sample *s = NULL;
    size_t n = 0;
    gt_err perr = {0};
    int rc = 0;
    if (gt_batch_parse(blob, len, &s, &n, &perr)) {
        snprintf(v->whole, sizeof v->whole, "not a batch: %.200s", perr.msg);
    } else if (batch_shape(spec, first, count, worker, s, n, v->whole, sizeof v->whole)) {
        rc = gt_pipeline_run(p, o, batch, s, n, &v->report, err);
        if (!rc) v->accepted = v->report.accepted;
    }
    if (!rc) {
        assert(v->accepted <= v->total);
        v->score = v->accepted * 100 / v->total;
        rc = reason_json(spec, batch, worker, v, s, n, reason, err);
    }
    if (!rc && samples && !v->whole[0]) {
        *samples = s, *n_samples = n;
        s = NULL;
    }
    gt_samples_free(s, n);
    return rc;
}
