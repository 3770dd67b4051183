/* skill_generate.h: synthetic data jobs as agent work (the task side is in
 * work/data/batch.h): skills `generate` and `validate`, and the poster's
 * publication of the finished dataset.
 *
 *   worker (skill generate)   claims a slot of a `generate` task (slot b is
 *       batch b of the job whose spec is the task's spec blob), generates the
 *       batch with its model, uploads the JSONL blob and submits it.
 *   validator (skill validate, named as the task's verifier)  downloads the
 *       batch, runs the job's validation pipeline on it and gives a
 *       per-sample verdict (task_verify_partial: accepted of total, with the
 *       reason blob listing every sample's verdict). Accepted samples are paid
 *       their share of the bounty, rejected ones lose their share of the stake.
 *   a rejected worker         validates its own batch the same way; it
 *       disputes only when it finds every sample good, else concedes at once.
 *   poster                    once every slot is settled, re-validates the
 *       batches (re-running a draw of samples seeded by its own secret, which
 *       no worker can know to keep made-up samples out of), checks its counts
 *       against the paid verdicts (a batch whose count differs is left out,
 *       logged), exports the
 *       accepted samples (work/data/export.h) under its datasets directory and
 *       records the dataset's Merkle root on the ledger (dataset_publish).
 * Dedup is order-dependent, so batches are judged in index order: batch b
 * waits while a lower batch is claimed or submitted but not judged, and the
 * accepted samples of judged lower batches (from their reason blobs) enter
 * the pipeline's dedup indexes first. Whoever judges, re-checks or exports a
 * job therefore reaches the same verdicts. */
#ifndef GT_AGENT_SKILL_GENERATE_H
#define GT_AGENT_SKILL_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"

extern const gt_skill gt_skill_generate, gt_skill_validate;

/* Where a poster exports the dataset of job `job` under datasets_dir:
 * DIR/<first 16 hex digits of the job id>. */
void gt_agent_dataset_dir(const char *datasets_dir, const uint8_t job[32], char *out, size_t cap);

/* How many of a judged batch's `total` samples its slot's verdict paid for
 * (sl: the node's view of the slot): all of them when the slot was paid in
 * full ("accept": true: every sample accepted, or a dispute the worker won,
 * whatever the per-sample verdict it overturned counted), the per-sample
 * verdict's accepted count when it settled pro rata, none when rejected. */
uint64_t gt_agent_slot_paid(const json_t *sl, uint64_t total);

/* Poster: exports and publishes the dataset of a complete generate task
 * (task: the node's detail view). *published gets 1 when it sent
 * dataset_publish. */
int ag_data_publish(gt_agent *a, const json_t *task, int *published, gt_err *err);

/* skill_generate.c's helpers that data_publish.c shares (see their comments
 * there): the task's spec, its slot object, a verdict's reasons, a batch
 * remembered for dedup, and a slot's draw. */
struct gt_job_spec;
struct gt_pipeline;
int ag_gen_load_spec(gt_agent *a, const json_t *task, struct gt_job_spec *spec, gt_err *err);
const json_t *ag_gen_find_slot(const json_t *task, uint64_t slot);
int ag_gen_verdict_against(gt_agent *a, const json_t *sl, json_t **out, gt_err *err);
int ag_gen_remember_slot(gt_agent *a, struct gt_pipeline *p, const json_t *sl, gt_err *err);
void ag_gen_draw_what(const uint8_t task[32], const json_t *sl, uint64_t slot, const uint8_t *result, size_t len,
                      const char *tag, uint8_t what[32]);

#endif
