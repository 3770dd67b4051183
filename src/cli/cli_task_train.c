/* cli_task_train.c: `gotong task post --kind train`'s spec made from
 * options (cli_task.h). A `train` task commits to a base checkpoint, a
 * vocabulary and a dataset by their sha256 (work/train_task.h); a person
 * posting one needs those three uploaded and the spec written to match. Here
 * the inputs are first checked as the worker's skill will check them (the
 * rows' Merkle root, the tokenizer, the checkpoint's vocabulary, sequence and
 * schedule), so a task no worker could do is refused before anything is
 * uploaded or escrowed, and then uploaded. */
#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/agent.h"
#include "api/api.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/limits.h"
#include "cli/cli.h"
#include "cli/cli_task.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "train/trainer.h"
#include "work/train_task.h"

int gt_task_train_given(const gt_task_train_opts *o) {
    return o->base || o->vocab || o->dataset || o->root || o->steps || o->every || o->checks || o->accum ||
           o->have_warmup || o->have_total_steps || o->have_lr || o->have_min_lr || o->have_wd || o->have_clip;
}

/* A float option in [lo, hi] (the spec's ranges): -1, else the usage error's code. */
static int float_in(const char *name, float v, double lo, double hi) {
    if (v >= lo && v <= hi) return -1; /* NaN fails both */
    return gt_cli_usage_error("task post", "%s: expected %g..%g, got %g", name, lo, hi, (double)v);
}

int gt_task_train_check(const gt_task_train_opts *o) {
    if (!o->base || !o->vocab || !o->dataset || !o->root || !o->steps)
        return gt_cli_usage_error("task post", "a train spec needs --base CKPT, --vocab V.gguf, --dataset DIR, --root "
                                  "0xROOT and --steps N (or give the whole spec as --spec FILE)");
    uint64_t every = o->every ? o->every : o->steps;
    if (o->steps % every || o->steps / every > GT_TRAIN_TASK_MAX_STRETCHES)
        return gt_cli_usage_error("task post", "--steps %llu and --every %llu: expected steps a multiple of every, in "
                                  "at most %d checkpoints", (unsigned long long)o->steps, (unsigned long long)every,
                                  GT_TRAIN_TASK_MAX_STRETCHES);
    int rc = -1;
    if (o->have_lr && (rc = float_in("--lr", o->lr, 1e-8, 1.0)) >= 0) return rc;
    if (o->have_min_lr && (rc = float_in("--min-lr", o->min_lr, 0.0, 1.0)) >= 0) return rc;
    if (o->have_wd && (rc = float_in("--wd", o->wd, 0.0, 10.0)) >= 0) return rc;
    if (o->have_clip && (rc = float_in("--clip", o->clip, 0.0, 1e6)) >= 0) return rc;
    float lr = o->have_lr ? o->lr : 1e-3f, min_lr = o->have_min_lr ? o->min_lr : lr / 10;
    if (min_lr > lr) return gt_cli_usage_error("task post", "--min-lr %g is above --lr %g", (double)min_lr, (double)lr);
    return -1;
}

/* The task's settings from o (the schedule's end set later, from the base's step). */
static void fill_task(const gt_task_train_opts *o, gt_train_task *t) {
    memset(t, 0, sizeof *t);
    t->steps = (int)o->steps;
    t->every = (int)(o->every ? o->every : o->steps);
    t->checks = (int)(o->checks ? o->checks : 1);
    t->run.accum = (int)(o->accum ? o->accum : 1);
    gt_train_opt *p = &t->run.opt;
    *p = gt_train_opt_default();
    p->lr = o->have_lr ? o->lr : 1e-3f;
    p->min_lr = o->have_min_lr ? o->min_lr : p->lr / 10;
    p->warmup_steps = (int)(o->have_warmup ? o->warmup : o->steps / 20);
    if (o->have_wd) p->weight_decay = o->wd;
    if (o->have_clip) p->clip_norm = o->clip;
}

/* Reads in->path (at most a blob's bytes) and hashes it. */
static int read_input(gt_task_train_input *in, gt_err *err) {
    int rc = gt_file_read(in->path, GT_LIMIT_BLOB_BYTES, &in->data, &in->len, err);
    if (rc) return gt_err_wrap(err, "%s", in->what);
    gt_sha256(in->data, in->len, in->hash);
    return 0;
}

/* The three inputs: the dataset's data.jsonl when --dataset is a directory. */
static int read_inputs(const gt_task_train_opts *o, gt_task_train_input in[3], gt_err *err) {
    struct stat st;
    in[0].what = "--base", in[1].what = "--vocab", in[2].what = "--dataset";
    snprintf(in[0].path, sizeof in[0].path, "%s", o->base);
    snprintf(in[1].path, sizeof in[1].path, "%s", o->vocab);
    if (!stat(o->dataset, &st) && S_ISDIR(st.st_mode))
        gt_path_join(in[2].path, sizeof in[2].path, o->dataset, "data.jsonl");
    else snprintf(in[2].path, sizeof in[2].path, "%s", o->dataset);
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++) rc = read_input(&in[i], err);
    return rc;
}

/* Starts the run from the base as the worker's skill does (train_task.h),
 * with the schedule's end --total-steps or the base's step + N. */
static int check_as_worker(const gt_task_train_opts *o, gt_train_task *t, const gt_task_train_input in[3],
                           gt_err *err) {
    gt_train_task_data d;
    gt_trainer *tr = NULL;
    int s0 = 0;
    t->run.opt.total_steps = o->have_total_steps ? (int)o->total_steps : INT_MAX; /* known once the base is read */
    int rc = gt_train_task_data_load(t, in[1].path, in[2].data, in[2].len, &d, err);
    if (rc) rc = gt_err_wrap(err, "a worker could not read --vocab %s with --dataset %s", in[1].path, in[2].path);
    if (!rc && (rc = gt_train_task_start(t, &d, in[0].path, -1, 1, &tr, &s0, err)))
        rc = gt_err_wrap(err, "a worker could not start from --base %s", in[0].path);
    gt_trainer_free(tr);
    gt_train_task_data_free(&d);
    if (rc) return rc;
    if (!o->have_total_steps) t->run.opt.total_steps = s0 + t->steps;
    fprintf(stderr, "base checkpoint at step %d: the task trains steps %d..%d of a schedule ending at %d\n", s0,
            s0 + 1, s0 + t->steps, t->run.opt.total_steps);
    return 0;
}

/* The agent assumes the default of a node that does not report its quota. */
_Static_assert(GT_AGENT_BLOB_QUOTA_DEFAULT == GT_API_BLOB_QUOTA_BYTES, "the agent's and the node's default blob quota");

/* The worker uploads N / K checkpoints of the base's size (the same shapes)
 * as blobs: more bytes than an account may ever bring to a node of default
 * settings (GT_API_BLOB_QUOTA_BYTES, counted over its whole life) and no
 * honest worker could submit, after staking and training. */
static int fits_quota(const gt_train_task *t, const gt_task_train_input *base, gt_err *err) {
    assert(t->every > 0 && t->steps % t->every == 0);
    uint64_t n = (uint64_t)(t->steps / t->every), bytes = n * (uint64_t)base->len;
    if (bytes <= GT_API_BLOB_QUOTA_BYTES) return 0;
    return gt_err_set(err, GT_ELIMIT, "--steps %d / --every %d = %llu checkpoints of --base's %zu bytes: %llu bytes "
                      "for the worker to upload, over an account's whole blob upload quota (%llu by default): no "
                      "worker could submit it (raise --every)", t->steps, t->every, (unsigned long long)n, base->len,
                      (unsigned long long)bytes, (unsigned long long)GT_API_BLOB_QUOTA_BYTES);
}

/* The spec's JSON of t, read back by the rule's own parser (what the worker
 * and the verifier will read) before it goes out. */
static int spec_text(const gt_train_task *t, uint8_t **spec, size_t *len, gt_err *err) {
    char *s = gt_train_task_spec(t);
    if (!s) return gt_err_set(err, GT_ENOMEM, "out of memory writing the train spec");
    json_t *j = json_loads(s, 0, NULL);
    gt_train_task back;
    int rc = j ? gt_train_task_parse(j, &back, err) : gt_err_set(err, GT_EINVAL, "the train spec is not JSON");
    json_decref(j);
    if (!rc && !(*spec = (uint8_t *)gt_strdup(s))) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) *len = strlen(s);
    free(s);
    return rc;
}

int gt_task_train_prepare(const gt_task_train_opts *o, gt_task_train_prep *p, gt_err *err) {
    assert(o->base && o->vocab && o->dataset && o->root && o->steps); /* gt_task_train_check's */
    memset(p, 0, sizeof *p);
    gt_train_task t;
    fill_task(o, &t);
    int rc = gt_hex_decode(o->root, t.root, 32, "--root", err);
    if (!rc) rc = read_inputs(o, p->in, err);
    if (!rc) rc = fits_quota(&t, &p->in[0], err);
    if (!rc) {
        memcpy(t.base, p->in[0].hash, 32), memcpy(t.vocab, p->in[1].hash, 32), memcpy(t.dataset, p->in[2].hash, 32);
        rc = check_as_worker(o, &t, p->in, err);
    }
    if (!rc) rc = spec_text(&t, &p->spec, &p->spec_len, err);
    if (rc) gt_task_train_free(p);
    return rc;
}

int gt_task_train_upload(gt_client *c, const gt_task_train_prep *p, gt_err *err) {
    for (int i = 0; i < 3; i++) {
        char id[72];
        const gt_task_train_input *in = &p->in[i];
        int rc = gt_client_blob_put(c, in->data, in->len, id, err);
        if (rc) return gt_err_wrap(err, "uploading %s %s", in->what, in->path);
        fprintf(stderr, "uploaded %s %s: %s (%zu bytes)\n", in->what, in->path, id, in->len);
    }
    return 0;
}

void gt_task_train_free(gt_task_train_prep *p) {
    for (int i = 0; i < 3; i++) gt_free(p->in[i].data);
    gt_free(p->spec);
    memset(p, 0, sizeof *p);
}
