/* run.h: what makes a training run the same bytes wherever it runs, given
 * a model and its tokens: the windows each step trains on and the step
 * itself (micro-batches, accumulation, the AdamW step at the schedule's
 * rate). `gotong train` runs its steps with it, and so do the worker and the
 * verifier of a market `train` task (work/train_task.h), so a stretch of
 * steps re-executed from a checkpoint gives the checkpoint that follows it
 * byte for byte. */
#ifndef GT_TRAIN_RUN_H
#define GT_TRAIN_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "train/trainer.h"

/* A run's settings beside the model's shapes. seq and batch are the
 * trainer's (gt_train_hparams); seed draws the windows. */
typedef struct gt_train_run {
    int seq, batch, accum; /* accum >= 1 micro-batches per step */
    uint64_t seed;
    gt_train_opt opt;      /* AdamW and the schedule (total_steps: the schedule's end) */
    /* NULL: a window starts anywhere in ids. Else a window starts only at one
     * of starts[0..n_starts) (each < n - seq): the rows' first tokens
     * (gt_train_row_starts), so a row is read from its BOS as it is asked. */
    const size_t *starts;
    size_t n_starts;
} gt_train_run;

/* The positions in ids[0..n) of token bos (or its masked ~bos) not followed
 * by another (where EOS is BOS, the row before ends with it) after which a
 * whole window of seq + 1 tokens fits: *starts (gt_free) and *n_starts.
 * GT_EINVAL when there is none. */
int gt_train_row_starts(const int32_t *ids, size_t n, int seq, int32_t bos, size_t **starts, size_t *n_starts,
                        gt_err *err);

/* The windows of micro-batch `draw` (step * accum + micro-batch): sequence
 * b starts at a position drawn by splitmix64 from (seed, draw, b) in
 * ids[0..n) (n > seq), or among r->starts when set; tok and tgt ([batch][seq]) get the window and the
 * next tokens. A masked token of ids (~id < 0, train/dataset.h) is given as
 * its id in tok and as -1 (not predicted) in tgt. */
void gt_train_fill_batch(const gt_train_run *r, const int32_t *ids, size_t n, uint64_t draw, int32_t *tok,
                         int32_t *tgt);

/* One step at the trainer's step count: accum micro-batches forward and
 * backward, then AdamW. *loss (may be NULL) gets the mean loss. tok and tgt
 * are room for batch * seq tokens each (scratch). Refuses a run whose seq
 * or batch is not the trainer's, or n <= seq. */
int gt_train_run_step(gt_trainer *t, const gt_train_run *r, const int32_t *ids, size_t n, int32_t *tok, int32_t *tgt,
                      double *loss, gt_err *err);

/* Steps until the trainer's step count is to_step (its own scratch). */
int gt_train_run_to(gt_trainer *t, const gt_train_run *r, const int32_t *ids, size_t n, int to_step, gt_err *err);

#endif
