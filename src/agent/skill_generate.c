/* skill_generate.c: the `generate` and `validate` skills and the poster's
 * dataset publication (see skill_generate.h). Everything a verdict rests on
 * is recomputed from the ledger's blobs: the spec (whose sha256 is the job
 * id), the batches, and for dedup the reason blobs of earlier verdicts. */
#include "agent/skill_generate.h"

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
#include "market/blob.h"
#include "work/data/batch.h"
#include "work/data/export.h"
#include "work/work.h"

void gt_agent_dataset_dir(const char *datasets_dir, const uint8_t job[32], char *out, size_t cap) {
    char hex[17];
    gt_hex_encode(job, 8, hex);
    snprintf(out, cap, "%s/%s", datasets_dir, hex);
}

/* The task's job spec, from its spec blob's bytes. Caller frees with gt_job_spec_free. */
static int load_spec(gt_agent *a, const json_t *task, gt_job_spec *spec, gt_err *err) {
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

static int gen_fits(gt_agent *a, const gt_job *job, gt_err *err) {
    gt_job_spec spec;
    int rc = load_spec(a, job->task, &spec, err);
    if (rc) return rc;
    const gt_agent_model *m = gt_agent_get_model(a);
    if (!m) rc = gt_err_set(err, GT_EUNSUPPORTED, "this agent runs no model");
    else if (spec.has_model && memcmp(spec.model, gt_agent_model_hash(m), 32))
        rc = gt_err_set(err, GT_EUNSUPPORTED, "job %s asks for another model than this agent runs", spec.name);
    gt_job_spec_free(&spec);
    return rc;
}

static int gen_work(gt_agent *a, const gt_job *job, gt_buf *out, gt_err *err) {
    gt_job_spec spec;
    int rc = gen_fits(a, job, err);
    if (!rc) rc = load_spec(a, job->task, &spec, err);
    if (rc) return rc;
    gt_llm *llm = gt_agent_llm(a, err);
    rc = llm ? gt_work_generate_batch(&spec, llm, gt_agent_address(a), job->slot, out, err) : err->code;
    gt_job_spec_free(&spec);
    return rc;
}

/* Adds the accepted samples of one judged slot (its batch blob and the
 * reason blob of its verdict) to p's dedup indexes. */
static int remember_slot(gt_agent *a, gt_pipeline *p, const json_t *sl, gt_err *err) {
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
    int all = json_is_true(json_object_get(sl, "accept")) && !json_object_get(sl, "units");
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

/* Feeds p with the accepted samples of the batches below job->slot;
 * GT_SKILL_LATER while one of them is claimed or submitted but not judged. */
static int remember_earlier(gt_agent *a, const gt_job *job, gt_pipeline *p, gt_err *err) {
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(job->task, "slotList"), i, sl) {
        uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
        const char *state = json_string_value(json_object_get(sl, "state"));
        if (slot >= job->slot || !state) continue;
        if (!strcmp(state, "claimed") || !strcmp(state, "submitted")) return GT_SKILL_LATER;
        if (!strcmp(state, "open") || !strcmp(state, "refunded")) continue;
        int rc = remember_slot(a, p, sl, err);
        if (rc) return rc;
    }
    return 0;
}

/* Validates job->slot's batch blob[0..len), submitted by `worker`. reason
 * and samples as gt_work_validate_batch. */
static int validate(gt_agent *a, const gt_job *job, const gt_addr *worker, const uint8_t *blob, size_t len,
                    uint64_t spot_seed, gt_work_batch_verdict *v, gt_buf *reason, gt_err *err) {
    gt_job_spec spec;
    gt_pipeline *p = NULL;
    gt_llm *llm = gt_agent_llm(a, err);
    if (!llm) return err->code;
    int rc = load_spec(a, job->task, &spec, err);
    if (rc) return rc;
    if (!(rc = gt_pipeline_new(&spec, &p, err)) && !(rc = remember_earlier(a, job, p, err))) {
        gt_pipeline_opts o = {.judge = spec.judge ? llm : NULL, .regen = llm, .spot_seed = spot_seed};
        rc = gt_work_validate_batch(p, &spec, &o, job->slot, worker, blob, len, v, reason, NULL, NULL, err);
    }
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

/* Quorum voters and dispute voters: the whole batch is good or it is not. */
static int gen_verify(gt_agent *a, const gt_job *job, const uint8_t *result, size_t len, gt_skill_verdict *v,
                      gt_err *err) {
    gt_addr w;
    gt_work_batch_verdict bv;
    gt_buf reason = GT_BUF_INIT;
    int rc = slot_worker(job, &w, err);
    uint8_t h[32] = {0};
    memcpy(h, job->task_id, 32);
    h[31] ^= (uint8_t)job->slot;
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
    if (rc == GT_SKILL_LATER) rc = gt_err_set(err, GT_ESTATE, "earlier batches are not judged yet");
    if (!rc) *stand = bv.accepted == bv.total;
    gt_buf_free(&reason);
    return rc;
}

/* ---- the poster's dataset ---- */

typedef struct publish_args {
    const uint8_t *task, *job, *root, *manifest;
    uint64_t rows;
} publish_args;

static int fill_publish(void *arg, gt_action *act, gt_err *err) {
    const publish_args *x = arg;
    gt_action_set_b32(act, "task", x->task);
    gt_action_set_b32(act, "job", x->job);
    gt_action_set_b32(act, "root", x->root);
    gt_action_set_u64(act, "rows", x->rows);
    gt_action_set_b32(act, "manifest", x->manifest);
    return 0;
}

/* Re-validates every paid batch in order into the accepted samples (*out,
 * *n), checking each count against the verdict the ledger paid. */
static int collect_accepted(gt_agent *a, const json_t *task, const gt_job_spec *spec, gt_llm *llm, gt_sample **out,
                            size_t *n_out, gt_err *err) {
    gt_pipeline *p = NULL;
    gt_sample *acc = NULL;
    size_t n = 0;
    int rc = gt_pipeline_new(spec, &p, err);
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        const char *rid = json_string_value(json_object_get(sl, "result"));
        const char *ws = json_string_value(json_object_get(sl, "worker"));
        const char *state = json_string_value(json_object_get(sl, "state"));
        uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
        gt_addr w;
        if (rc) break;
        if (!rid || !ws || !state || strcmp(state, "paid") || gt_addr_parse(ws, &w, NULL)) continue;
        uint8_t *blob = NULL;
        size_t len = 0, ns = 0;
        gt_sample *s = NULL;
        gt_work_batch_verdict v;
        gt_buf reason = GT_BUF_INIT;
        gt_pipeline_opts o = {.judge = spec->judge ? llm : NULL, .regen = llm, .spot_seed = slot};
        rc = gt_client_blob_get(gt_agent_client(a), rid, GT_AGENT_RESULT_MAX_BYTES, &blob, &len, err);
        if (!rc) rc = gt_work_validate_batch(p, spec, &o, slot, &w, blob, len, &v, &reason, &s, &ns, err);
        const json_t *units = json_object_get(sl, "units");
        uint64_t paid = units ? (uint64_t)json_integer_value(json_object_get(units, "accepted"))
                              : json_is_true(json_object_get(sl, "accept")) ? v.total : 0;
        if (!rc && paid != v.accepted)
            rc = gt_err_set(err, GT_ESTATE, "batch %" PRIu64 ": this re-validation accepts %" PRIu64
                            " samples but the verdict paid %" PRIu64 "; not publishing", slot, v.accepted, paid);
        for (size_t k = 0; !rc && k < ns; k++) {
            if (!s[k].accepted) continue;
            gt_sample *nv = gt_realloc(acc, (n + 1) * sizeof *nv);
            if (!nv) {
                rc = gt_err_set(err, GT_ENOMEM, "out of memory");
                break;
            }
            acc = nv;
            acc[n++] = s[k]; /* moves the strings */
            memset(&s[k], 0, sizeof s[k]);
        }
        gt_samples_free(s, ns);
        gt_buf_free(&reason);
        gt_free(blob);
    }
    gt_pipeline_free(p);
    if (rc) {
        gt_samples_free(acc, n);
        return rc;
    }
    *out = acc, *n_out = n;
    return 0;
}

int ag_data_publish(gt_agent *a, const json_t *task, int *published, gt_err *err) {
    *published = 0;
    const char *dsdir = gt_agent_datasets_dir(a);
    if (!dsdir) return 0;
    uint8_t tid[32], root[32], manifest[32];
    gt_job_spec spec;
    gt_sample *s = NULL;
    size_t n = 0;
    char dir[PATH_MAX], path[PATH_MAX + 32], mid[72], h[16];
    uint8_t *prov = NULL;
    size_t plen = 0;
    gt_llm *llm = gt_agent_llm(a, err);
    if (!llm) return err->code;
    int rc = gt_agent_json_hash(task, "id", tid, err);
    if (rc || (rc = load_spec(a, task, &spec, err))) return rc;
    rc = collect_accepted(a, task, &spec, llm, &s, &n, err);
    if (!rc && n == 0) {
        gt_agent_logf(a, "data job %s: no sample was accepted, so there is no dataset to publish", spec.name);
        goto out;
    }
    gt_agent_dataset_dir(dsdir, spec.id, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/provenance.json", dir);
    if (!rc) rc = gt_dataset_export(&spec, s, n, dir, root, err);
    if (!rc) rc = gt_file_read(path, GT_AGENT_RESULT_MAX_BYTES, &prov, &plen, err);
    /* The manifest on the ledger is a blob anyone can fetch from the node. */
    if (!rc) rc = gt_client_blob_put(gt_agent_client(a), prov, plen, mid, err);
    if (!rc) rc = gt_blob_id_parse(mid, manifest, err);
    publish_args x = {tid, spec.id, root, manifest, n};
    if (!rc) rc = gt_agent_act(a, &gt_kind_dataset_publish, fill_publish, &x, NULL, err);
    if (!rc) {
        char rh[67] = "0x";
        gt_hex_encode(root, 32, rh + 2);
        *published = 1;
        gt_agent_logf(a, "data job %s (task %s): exported %zu accepted samples to %s; published Merkle root %s", spec.name,
                      ag_short_id(tid, h), n, dir, rh);
    }
out:
    gt_free(prov);
    gt_samples_free(s, n);
    gt_job_spec_free(&spec);
    return rc;
}

const gt_skill gt_skill_generate = {
    .name = GT_WORK_KIND_GENERATE,
    .fits = gen_fits,
    .work = gen_work,
    .verify = gen_verify,
    .judge = gen_judge,
    .stands_by = gen_stands_by,
};

/* A validator's trade on its card: it serves `generate` tasks as their
 * named verifier (the verdicts are gt_skill_generate's); it takes no tasks. */
const gt_skill gt_skill_validate = {.name = GT_WORK_SKILL_VALIDATE};
