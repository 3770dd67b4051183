/* train_task.h: training as paid, verifiable work -- the market task kind
 * "train" (agent skill of the same name).
 *
 * The poster commits, in the task's spec, to everything a run depends on:
 *   {"base": "sha256:<checkpoint>", "vocab": "sha256:<GGUF with a tokenizer>",
 *    "dataset": "sha256:<data.jsonl>", "root": "0x<Merkle root of its rows>",
 *    "steps": N, "every": K, "checks": C,
 *    "config": {"accum": A, "lr": "0.001", "minLr": "0.0001", "warmup": W,
 *               "totalSteps": S, "wd": "0.1", "clip": "1"}}
 * base is a training checkpoint (train/trainer.h: weights, AdamW moments,
 * the step s0 and the seed that draws the batches); the dataset a data job's
 * export whose rows' Merkle root is root (train/dataset.h); config the run's
 * settings (numbers as decimal text, read as f32 with strtod: the same bits
 * everywhere). The schedule ends at totalSteps >= s0 + N.
 *
 * The worker trains N steps from base and submits, as its result, the
 * manifest {"base": "sha256:...", "checkpoints": ["sha256:...", ...]}: the
 * N / K checkpoints after steps s0 + K, s0 + 2K, ..., s0 + N, each uploaded
 * as a blob (the last one is the trained model).
 *
 * The verifier checks the manifest's shape, that every checkpoint is a
 * checkpoint of the base's shapes at its step, and re-executes C stretches
 * drawn by gt_train_task_draw: from the checkpoint before the stretch (the
 * base for the first), K steps, and compares the bytes it gets with the
 * next checkpoint's. Training is byte-identical across thread counts and
 * machines (train/trainer.h), so an honest stretch always matches; a worker
 * who skipped steps, trained on other data or with other settings, or made
 * up its intermediate checkpoints fails every stretch it did not train as
 * committed, and one drawn is a rejection (and the worker's stake slashed,
 * by the market's rules on a rejected slot). */
#ifndef GT_WORK_TRAIN_TASK_H
#define GT_WORK_TRAIN_TASK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "infer/gguf.h"
#include "infer/tokenizer.h"
#include "train/run.h"
#include "train/trainer.h"

#define GT_WORK_KIND_TRAIN "train"

#define GT_TRAIN_TASK_MAX_STEPS 1000000  /* steps one task asks for */
#define GT_TRAIN_TASK_MAX_STRETCHES 64   /* N / K: checkpoints in a manifest */
#define GT_TRAIN_TASK_MAX_CHECKS 16      /* stretches a verifier re-executes */
#define GT_TRAIN_TASK_MAX_ACCUM 1024
#define GT_TRAIN_TASK_MANIFEST_MAX_BYTES (16 * 1024)
#define GT_TRAIN_TASK_NUM_MAX 32         /* bytes of a decimal config value */
/* Memory training a task's model may take (gt_trainer_mem_bytes: weights,
 * gradients, moments, one micro-batch's activations), checked from the
 * checkpoint's header before any allocation. The market's models are small
 * (a base is at most a 16 MiB blob); the activations grow with seq x batch
 * (attention with seq^2), which a 16 MiB base could set to hundreds of GiB. */
#define GT_TRAIN_TASK_MAX_MEM_BYTES (4ull << 30)

/* The committed spec. run.seq, run.batch and run.seed are the base
 * checkpoint's (filled by gt_train_task_start). */
typedef struct gt_train_task {
    uint8_t base[32], vocab[32], dataset[32], root[32];
    int steps, every, checks;
    gt_train_run run;
} gt_train_task;

/* Checks and reads a spec (the shape above; unknown fields refused). */
int gt_train_task_parse(const json_t *spec, gt_train_task *t, gt_err *err);
/* The spec of t as compact JSON (caller frees with free()); NULL when out
 * of memory. */
char *gt_train_task_spec(const gt_train_task *t);

/* A worker's result. */
typedef struct gt_train_manifest {
    uint8_t base[32];
    int n;
    uint8_t ckpt[GT_TRAIN_TASK_MAX_STRETCHES][32];
} gt_train_manifest;

/* Reads a manifest and checks it against t: the same base, N / K
 * checkpoints. */
int gt_train_manifest_parse(const uint8_t *bytes, size_t len, const gt_train_task *t, gt_train_manifest *m,
                            gt_err *err);
char *gt_train_manifest_json(const gt_train_manifest *m); /* caller frees with free() */

/* What a verifier's draw of stretches is about: keccak256 of the task, the
 * slot, the attempt and the result (a manifest's sha256). */
void gt_train_task_draw_what(const uint8_t task[32], uint64_t slot, uint64_t attempt, const uint8_t result[32],
                             uint8_t what[32]);
/* The stretches a verifier re-executes: out[0..k) distinct indices in
 * [0, n_stretches), k = min(checks, n_stretches), drawn by keccak256 from
 * what and secret: a seed only the verifier can compute (agent.h's
 * gt_agent_secret_seed of what), so the worker cannot know before it
 * commits which stretches will be checked, nor grind its manifest until
 * the draw misses the stretches it faked. Returns k. */
int gt_train_task_draw(const uint8_t what[32], uint64_t secret, int n_stretches, int checks, int *out);

/* The tokens a task trains on: the vocabulary's tokenizer over the
 * dataset's rows, once their Merkle root is the spec's. */
typedef struct gt_train_task_data {
    gt_gguf *vocab;
    gt_tokenizer *tok;
    int32_t *ids;
    size_t n;
} gt_train_task_data;

/* vocab_path: the vocabulary blob written to a file; dataset[0..len): the
 * dataset blob. Caller frees with gt_train_task_data_free. */
int gt_train_task_data_load(const gt_train_task *t, const char *vocab_path, const uint8_t *dataset, size_t len,
                            gt_train_task_data *d, gt_err *err);
void gt_train_task_data_free(gt_train_task_data *d); /* accepts NULL and a zeroed struct */

/* Loads the checkpoint at path (refused with GT_ELIMIT, before allocating,
 * when it would take more than GT_TRAIN_TASK_MAX_MEM_BYTES), which must be at step expect_step (-1: the
 * base, at any step s0 with s0 + steps within the schedule's totalSteps),
 * have the vocabulary's size and a seq below the data's tokens, and
 * takes its seq, batch and seed into t->run. *s0 (may be NULL) gets its
 * step. Caller frees *out with gt_trainer_free. */
int gt_train_task_start(gt_train_task *t, const gt_train_task_data *d, const char *path, int expect_step,
                        int n_threads, gt_trainer **out, int *s0, gt_err *err);
/* Trains until step to_step, writes the checkpoint to path and its sha256
 * (the blob id's hash) into hash. */
int gt_train_task_advance(const gt_train_task *t, const gt_train_task_data *d, gt_trainer *tr, int to_step,
                          const char *path, uint8_t hash[32], gt_err *err);
/* The step of the checkpoint at path, checked to have shapes hp's (another
 * model is refused, saying so), from its header: nothing is allocated for
 * the model, so a file claiming other shapes costs no more than its bytes. */
int gt_train_task_ckpt_step(const char *path, const gt_train_hparams *hp, int *step, gt_err *err);

#endif
