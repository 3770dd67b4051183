/* batch.h: synthetic data jobs as market work, agent side. A job (job.h) is
 * posted as one market task of kind GT_WORK_KIND_GENERATE ("generate"):
 * spec = the job id (sha256 of the spec blob), one slot per batch (slot b
 * is batch b), bounty = reward x batch, stake = stake x batch, verified
 * sample by sample (task_verify_partial) by a validator agent named as the
 * task's evaluator (skill GT_WORK_SKILL_VALIDATE, "validate"), for a fee.
 *
 * An agent's flow (the agent runtime and the demo call these):
 *   poster     gt_work_job_terms -> task_post
 *   worker     gt_work_generate_batch (slot = batch) -> upload blob -> task_submit
 *   validator  gt_work_validate_batch on the downloaded blob -> upload the
 *              reason blob -> task_verify_partial(accepted, total, score, reason)
 *   poster     once settled: gt_dataset_export of the accepted samples ->
 *              dataset_publish(task, job, root, rows, manifest) */
#ifndef GT_WORK_BATCH_H
#define GT_WORK_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/key.h"
#include "work/data/job.h"
#include "work/data/pipeline.h"
#include "work/llm.h"

/* The market terms of a job posted as one task. */
typedef struct gt_work_terms {
    uint64_t slots;        /* batches */
    uint64_t bounty_units; /* reward x batch */
    uint64_t stake_units;  /* stake x batch */
    uint64_t batch_items, last_batch_items; /* samples in a batch, in the last one (task_post batchItems) */
} gt_work_terms;

/* Computes the terms; refuses a job of more batches than a task has slots
 * (GT_MARKET_MAX_SLOTS), or a zero reward or stake, or an overflow. */
int gt_work_job_terms(const gt_job_spec *spec, gt_work_terms *out, gt_err *err);

/* Worker: generates batch `batch` with llm as `worker` and appends its blob
 * (JSONL of samples, pipeline.h) to blob. */
int gt_work_generate_batch(const gt_job_spec *spec, gt_llm *llm, const gt_addr *worker, uint64_t batch, gt_buf *blob,
                           gt_err *err);

/* A validator's per-sample verdict on a batch: what task_verify_partial carries. */
typedef struct gt_work_batch_verdict {
    uint64_t accepted, total; /* total: the samples batch `batch` must hold */
    uint64_t score;           /* 0..100: accepted share */
    gt_batch_report report;   /* per-stage counts (zero when the blob was refused whole) */
    char whole[GT_SAMPLE_REASON_MAX]; /* why the whole batch was refused, or "" */
} gt_work_batch_verdict;

/* Validator: judges blob[0..len), submitted by `worker` for batch `batch`,
 * with pipeline p (which keeps the job's dedup indexes across batches: use
 * one per job, and gt_pipeline_remember the accepted samples of batches
 * validated elsewhere). A blob that does not parse, holds samples beyond
 * the batch, or names another contributor is refused whole (accepted 0);
 * missing samples count as rejected. Appends the reason blob (JSON: job,
 * batch, worker, counts, the report and each sample's verdict) to reason.
 * *samples (may be NULL) gets the validated samples with their verdicts
 * (caller frees with gt_samples_free(*samples, *n_samples)); what the
 * poster exports. Fails only when it cannot judge (a model missing, out of
 * memory). */
int gt_work_validate_batch(gt_pipeline *p, const gt_job_spec *spec, const gt_pipeline_opts *o, uint64_t batch,
                           const gt_addr *worker, const void *blob, size_t len, gt_work_batch_verdict *v, gt_buf *reason,
                           gt_sample **samples, size_t *n_samples, gt_err *err);

#endif
