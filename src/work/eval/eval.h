/* eval.h: running a benchmark on a local model, item by item, into a results
 * file whose bytes are the same on every run and thread count (so validators
 * re-execute items and compare byte for byte).
 *
 * One JSON line per item (compact, keys sorted):
 *   i            item number
 *   doc_hash     sha256 of the item's line; prompt_hash, target_hash: of the
 *                prompt and of the gold choice / target text ("0x"+hex)
 *   ll           multiple_choice: each choice's summed log-likelihood as an
 *                exact hex float ("%a"), so bytes compare
 *   pred, pred_norm, acc, acc_norm      multiple_choice
 *   output, exact_match                 generate_until
 * The results root is the keccak Merkle root (crypto/merkle.h) of keccak256
 * of each line; the score is the mean of acc (or exact_match) and its
 * standard error the sample standard deviation over sqrt(n). */
#ifndef GT_WORK_EVAL_H
#define GT_WORK_EVAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "work/eval/bench.h"
#include "work/llm.h"

typedef struct gt_eval_summary {
    size_t n;
    const char *metric;         /* "acc" or "exact_match" */
    double score, stderr_;      /* the metric's mean and standard error */
    double acc_norm, acc_norm_stderr; /* multiple_choice only */
    uint8_t root[32];           /* results Merkle root */
    uint8_t model[32], bench[32];
    double seconds;
} gt_eval_summary;

typedef void (*gt_eval_progress)(void *arg, size_t done, size_t total);

/* Scores one item into a result line (appended to line, no newline);
 * *correct / *correct_norm get 0/1. */
int gt_eval_item(const gt_bench *b, size_t i, gt_llm *llm, gt_buf *line, int *correct, int *correct_norm, gt_err *err);

/* Runs items [0, limit) (limit 0: all) and appends their lines
 * ("\n"-terminated) to results. */
int gt_eval_run(const gt_bench *b, gt_llm *llm, size_t limit, gt_eval_progress progress, void *arg, gt_buf *results,
                gt_eval_summary *sum, gt_err *err);

/* The summary as JSON (new reference): bench, bench_hash, model, n, metric,
 * score, stderr, (acc_norm, acc_norm_stderr), results_root, seconds. */
json_t *gt_eval_summary_json(const gt_bench *b, const gt_eval_summary *sum);

/* Score in parts per million (what attestations carry: no floats on the ledger). */
uint64_t gt_eval_score_ppm(double score);

#endif
