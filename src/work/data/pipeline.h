/* pipeline.h: samples of a data job, their generation by a worker's local
 * model, and the validation pipeline a validator runs on each batch.
 *
 * A sample records everything needed to re-generate it: the job (spec id),
 * its index, the prompt, the sampling seed, the model (sha256 of the GGUF
 * file) and the contributor's address. Its JSON line (gt_sample_to_json, keys
 * sorted, compact) is what a batch blob holds, one per line.
 *
 * Validation stages, each enabled by the spec and reported per batch:
 *   spot     re-execution: a seeded random fraction of the batch is generated
 *            again with the validator's copy of the model and must match byte
 *            for byte. It runs first: a batch whose spot check fails is
 *            rejected whole (its provenance is false), whatever the rest says.
 *   schema   provenance fields match the job (spec id, index in the batch's
 *            range, prompt equal to the rendered template, sampling seed,
 *            the required model); the output is non-empty and, for JSON
 *            outputs, an object with every field as a string.
 *   verify   the family's checker on the output (or its "answer" field).
 *   dedup    exact: the normalised-text hash was not seen in this job.
 *   near     MinHash/LSH: no earlier accepted sample at Jaccard >= threshold.
 *   judge    a judge model's P(Yes) / (P(Yes) + P(No)) for the next token
 *            after the judge prompt, >= threshold (deterministic logits).
 * A sample is accepted when every enabled stage passes; the first failing
 * stage gives its reason. Accepted samples enter the dedup indexes, so later
 * batches (and later samples of this batch) are checked against them. */
#ifndef GT_WORK_PIPELINE_H
#define GT_WORK_PIPELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"
#include "work/data/job.h"
#include "work/llm.h"

/* Batch blobs from outside: at most this many bytes and samples. */
#define GT_BATCH_MAX_BYTES (16 * 1024 * 1024)
#define GT_SAMPLE_OUTPUT_MAX (256 * 1024)
#define GT_SAMPLE_REASON_MAX 320

typedef enum gt_stage {
    GT_STAGE_SPOT = 0,
    GT_STAGE_SCHEMA,
    GT_STAGE_VERIFY,
    GT_STAGE_DEDUP,
    GT_STAGE_NEAR,
    GT_STAGE_JUDGE,
    GT_STAGE_COUNT
} gt_stage;

const char *gt_stage_name(int stage); /* "spot", "schema", ... */

enum { GT_VERDICT_SKIPPED = -1, GT_VERDICT_FAIL = 0, GT_VERDICT_PASS = 1 };

typedef struct gt_sample {
    uint8_t job[32];
    uint64_t index, seed;
    char *prompt, *output;   /* owned (gt_malloc'd), NUL-terminated */
    gt_addr contributor;
    uint8_t model[32];
    /* Filled by the pipeline: */
    signed char verdict[GT_STAGE_COUNT]; /* GT_VERDICT_* */
    double judge_score;      /* -1 when not judged */
    int accepted;
    char reason[GT_SAMPLE_REASON_MAX]; /* "stage: why" of the first failure, or "" */
} gt_sample;

void gt_sample_clear(gt_sample *s);             /* frees prompt/output; s itself is the caller's */
void gt_samples_free(gt_sample *s, size_t n);   /* clears each and frees the array; accepts NULL */

/* JSON (new reference) of the sample's provenance and text, without verdicts. */
json_t *gt_sample_to_json(const gt_sample *s);
/* The compact, key-sorted JSON line of a sample (no newline); caller frees with free(). */
char *gt_sample_line(const gt_sample *s);
/* Parses a batch: JSONL of samples (strict: every field, nothing else). The
 * array is the caller's (gt_samples_free). */
int gt_batch_parse(const char *text, size_t len, gt_sample **out, size_t *n_out, gt_err *err);
/* JSONL of samples (one line each, "\n"-terminated) appended to out. */
int gt_batch_write(const gt_sample *s, size_t n, gt_buf *out, gt_err *err);

/* Batch b covers sample indexes [b*batch, min((b+1)*batch, samples)). */
void gt_job_batch_range(const gt_job_spec *spec, uint64_t batch, uint64_t *first, uint64_t *count);

/* Worker side: generates samples [first, first+count) with llm as
 * contributor. progress (may be NULL) is called after each sample. The
 * array is the caller's (gt_samples_free). */
typedef void (*gt_job_progress)(void *arg, uint64_t done, uint64_t total);
int gt_job_generate(const gt_job_spec *spec, gt_llm *llm, const gt_addr *contributor, uint64_t first,
                    uint64_t count, gt_job_progress progress, void *progress_arg, gt_sample **out, gt_err *err);

/* One sample's output: the spec's generation parameters with the sample's
 * seed, after prompt (what a worker runs and a spot check re-runs). */
int gt_job_generate_one(const gt_job_spec *spec, gt_llm *llm, uint64_t index, const char *prompt, gt_buf *out,
                        gt_err *err);

/* ---- validation ---- */

typedef struct gt_stage_report {
    int enabled;
    uint64_t checked, passed, failed;
} gt_stage_report;

typedef struct gt_batch_report {
    gt_stage_report stage[GT_STAGE_COUNT];
    uint64_t samples, accepted, rejected;
    uint64_t paid_units, slashed_units;  /* accepted x reward, rejected x stake */
    int spot_failed;                     /* the whole batch was rejected */
    char spot_reason[GT_SAMPLE_REASON_MAX];
    double seconds[GT_STAGE_COUNT];      /* wall time per stage */
} gt_batch_report;

typedef struct gt_pipeline gt_pipeline;

typedef struct gt_pipeline_opts {
    gt_llm *judge;      /* needed when the spec enables the judge */
    gt_llm *regen;      /* needed for spot checks: the samples' model */
    uint64_t spot_seed; /* the validator's choice of which samples to re-run */
} gt_pipeline_opts;

/* A pipeline for one job: holds its dedup indexes across batches. Free with
 * gt_pipeline_free. */
int gt_pipeline_new(const gt_job_spec *spec, gt_pipeline **out, gt_err *err);
void gt_pipeline_free(gt_pipeline *p); /* accepts NULL */
/* Adds an already accepted sample (an earlier batch) to the dedup indexes. */
int gt_pipeline_remember(gt_pipeline *p, const gt_sample *s, gt_err *err);
/* Validates samples[0..n) of batch `batch` in place (verdicts, accepted,
 * reason) and fills rep. Fails (without verdicts) only when the pipeline
 * cannot run: a needed model missing, out of memory. */
int gt_pipeline_run(gt_pipeline *p, const gt_pipeline_opts *o, uint64_t batch, gt_sample *samples, size_t n,
                    gt_batch_report *rep, gt_err *err);
/* The judge's score for one (prompt, output) under the spec's judge prompt. */
/* How many of a batch's n samples the spot check re-runs at the spec's
 * fraction: ceil(fraction x n), at most n (0 when the stage is off). */
size_t gt_pipeline_spot_n(const gt_job_spec *spec, size_t n);
int gt_judge_score(const gt_job_spec *spec, gt_llm *judge, const char *prompt, const char *output, double *score,
                   gt_err *err);
/* The judge's two answers: the first token of " Yes" and of " No" (no BOS)
 * in judge's vocabulary. GT_EUNSUPPORTED when either is missing or both
 * begin with the same token (a vocabulary that splits the space off, as a
 * SentencePiece one does): no score can be read from such a judge, so no
 * batch of a job with a judge stage can be judged on it. */
int gt_judge_tokens(gt_llm *judge, int32_t *yes, int32_t *no, gt_err *err);

/* JSON (new reference) of a batch report: stages with counts, settlement. */
json_t *gt_batch_report_json(const gt_batch_report *rep);

#endif
