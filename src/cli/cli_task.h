/* cli_task.h: what the parts of `gotong task` share (cli_task.c: options,
 * the subcommands; cli_task_train.c: a `train` task's spec made from
 * options, its inputs checked as a worker will check them and uploaded). */
#ifndef GT_CLI_TASK_H
#define GT_CLI_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "agent/client.h"
#include "base/err.h"

/* The options of `task post --kind train` that make its spec (see
 * work/train_task.h for the fields); 0 / NULL: not given. */
typedef struct gt_task_train_opts {
    const char *base, *vocab, *dataset, *root; /* files, and the 0x root of the dataset's rows */
    uint64_t steps, every, checks, accum, warmup, total_steps;
    float lr, min_lr, wd, clip;
    int have_warmup, have_total_steps, have_lr, have_min_lr, have_wd, have_clip;
} gt_task_train_opts;

/* Whether any option of o was given (then the spec is made from them). */
int gt_task_train_given(const gt_task_train_opts *o);

/* Checks o's options together, as `gotong train` reads the same settings:
 * -1 to go on, else the usage error's exit code (told on stderr). */
int gt_task_train_check(const gt_task_train_opts *o);

/* One input file of a train spec: the option that named it, its path,
 * bytes and sha256 (its blob id). */
typedef struct gt_task_train_input {
    const char *what;
    char path[4096];
    uint8_t *data;
    size_t len;
    uint8_t hash[32];
} gt_task_train_input;

/* A train spec made and checked, with its inputs: base, vocab, dataset. */
typedef struct gt_task_train_prep {
    gt_task_train_input in[3];
    uint8_t *spec;
    size_t spec_len;
} gt_task_train_prep;

/* Makes the spec of options that passed gt_task_train_check: reads the
 * three files (each at most a blob; the dataset's data.jsonl when --dataset
 * is a directory), refuses the dataset unless its rows' Merkle root is
 * o->root, and starts the run from the base checkpoint as a worker will (its
 * vocabulary, sequence and schedule checked), so that nothing is uploaded
 * or posted for a task no worker could do. Free p with gt_task_train_free
 * (also after a failure). A line on the run goes to stderr. */
int gt_task_train_prepare(const gt_task_train_opts *o, gt_task_train_prep *p, gt_err *err);
/* Uploads p's three inputs as blobs with c's signer (set by the caller),
 * a line each on stderr. */
int gt_task_train_upload(gt_client *c, const gt_task_train_prep *p, gt_err *err);
void gt_task_train_free(gt_task_train_prep *p);

/* The usage lines of these options, for `task --help`. */
#define GT_TASK_TRAIN_USAGE                                                                                        \
    "  post    --kind train --base CKPT --vocab V.gguf --dataset DIR|data.jsonl --root 0xROOT --steps N\n"       \
    "          [--every K (N)] [--checks C (1)] [--accum A (1)] [--lr X (0.001)] [--min-lr X (lr/10)]\n"         \
    "          [--warmup W (N/20)] [--total-steps S (base's step + N)] [--wd X (0.1)] [--clip X (1)]\n"          \
    "          --bounty AMT --stake AMT [...]       a training run as paid work: the spec made from these\n"      \
    "                                                  (CKPT from `gotong train --checkpoint`), checked as a\n"  \
    "                                                  worker will, and its three files uploaded\n"

#endif
