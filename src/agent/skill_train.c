/* skill_train.c: the `train` skill (see skill_train.h). */
#include "agent/skill_train.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_impl.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/limits.h"
#include "base/progress.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "work/train_task.h"

/* One call's files: a temporary folder and the paths in it. */
typedef struct tdir {
    char dir[512];
} tdir;

static int tdir_make(tdir *d, gt_err *err) {
    const char *base = getenv("TMPDIR");
    snprintf(d->dir, sizeof d->dir, "%s/gotong-train-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(d->dir)) return d->dir[0] = 0, gt_err_set(err, GT_EIO, "cannot make a temporary folder");
    return 0;
}

/* The path of file `name` in d. */
static const char *tdir_path(const tdir *d, const char *name, char out[600]) {
    snprintf(out, 600, "%s/%s", d->dir, name);
    return out;
}

/* Removes the files this skill writes, then the folder. */
static void tdir_remove(tdir *d, int n_ckpt) {
    char p[600], nm[32];
    if (!d->dir[0]) return;
    unlink(tdir_path(d, "vocab.gguf", p)), unlink(tdir_path(d, "base.ckpt", p)), unlink(tdir_path(d, "out.ckpt", p));
    for (int i = 0; i < n_ckpt; i++) snprintf(nm, sizeof nm, "c%d.ckpt", i), unlink(tdir_path(d, nm, p));
    rmdir(d->dir);
}

/* Downloads blob hash into memory (at most the node's blob limit). */
static int fetch(gt_agent *a, const uint8_t hash[32], uint8_t **b, size_t *n, gt_err *err) {
    char id[GT_BLOB_ID_BYTES];
    gt_blob_id_format(hash, id);
    return gt_client_blob_get(a->client, id, GT_LIMIT_BLOB_BYTES, b, n, err);
}

/* Downloads blob hash into the file `name` of d. */
static int fetch_file(gt_agent *a, const tdir *d, const uint8_t hash[32], const char *name, gt_err *err) {
    uint8_t *b = NULL;
    size_t n = 0;
    char p[600];
    int rc = fetch(a, hash, &b, &n, err);
    if (!rc) rc = gt_file_write_atomic(tdir_path(d, name, p), b, n, 0600, err);
    gt_free(b);
    return rc;
}

/* The spec's vocabulary and dataset (as tokens) and its base checkpoint
 * (as d's base.ckpt, started: *tr at step *s0). */
static int load_inputs(gt_agent *a, const tdir *d, gt_train_task *t, gt_train_task_data *data, gt_trainer **tr,
                       int *s0, gt_err *err) {
    uint8_t *ds = NULL;
    size_t n = 0;
    char p[600];
    int rc = fetch_file(a, d, t->vocab, "vocab.gguf", err);
    if (!rc) rc = fetch_file(a, d, t->base, "base.ckpt", err);
    if (!rc) rc = fetch(a, t->dataset, &ds, &n, err);
    if (!rc) rc = gt_train_task_data_load(t, tdir_path(d, "vocab.gguf", p), ds, n, data, err);
    gt_free(ds);
    if (!rc) rc = gt_train_task_start(t, data, tdir_path(d, "base.ckpt", p), -1, a->n_threads, tr, s0, err);
    return rc;
}

/* Trains the spec's steps, uploading a checkpoint every spec.every steps;
 * appends the manifest to out. */
static int train_work(gt_agent *a, const gt_job *job, gt_buf *out, gt_err *err) {
    gt_train_task t;
    gt_train_task_data data = {0};
    gt_trainer *tr = NULL;
    gt_train_manifest m = {0};
    tdir d = {{0}};
    char p[600], id[GT_BLOB_ID_BYTES];
    int s0 = 0, rc = gt_train_task_parse(job->spec, &t, err);
    if (!rc) rc = tdir_make(&d, err);
    if (!rc) rc = load_inputs(a, &d, &t, &data, &tr, &s0, err);
    if (!rc) memcpy(m.base, t.base, 32);
    for (int i = 0; !rc && i < t.steps / t.every; i++) {
        uint8_t *b = NULL;
        size_t n = 0;
        rc = gt_train_task_advance(&t, &data, tr, s0 + (i + 1) * t.every, tdir_path(&d, "out.ckpt", p), m.ckpt[i],
                                   err);
        if (!rc) rc = gt_file_read(p, GT_LIMIT_BLOB_BYTES, &b, &n, err);
        if (!rc) rc = gt_client_blob_put(a->client, b, n, id, err);
        gt_free(b);
        if (!rc) m.n = i + 1;
    }
    char *js = rc ? NULL : gt_train_manifest_json(&m);
    if (!rc) rc = js ? gt_buf_append_str(out, js) : gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) gt_agent_logf(a, "trained steps %d..%d: %d checkpoints uploaded", s0 + 1, s0 + t.steps, m.n);
    free(js);
    gt_trainer_free(tr);
    gt_train_task_data_free(&data);
    tdir_remove(&d, 0);
    return rc;
}

static int train_fits(gt_agent *a, const gt_job *job, gt_err *err) {
    (void)a;
    gt_train_task t;
    return gt_train_task_parse(job->spec, &t, err);
}

/* ---- Before a claim: the window and the quota (the worker's stake is at risk in both). */

/* Microseconds since t0 (gt_now_s), at least 1. */
static uint64_t us_since(double t0) {
    double us = (gt_now_s() - t0) * 1e6;
    return us < 1 ? 1 : (uint64_t)us;
}

/* The speed this agent measured before for base, or NULL. */
static const ag_train_speed *speed_find(const gt_agent *a, const uint8_t base[32]) {
    for (int i = 0; i < GT_AGENT_TRAIN_SPEEDS; i++)
        if (a->train_speeds[i].set && !memcmp(a->train_speeds[i].base, base, 32)) return &a->train_speeds[i];
    return NULL;
}

/* One micro-batch with its optimizer step, then one checkpoint written, on
 * the started trainer tr (at step s0): their times and the checkpoint's
 * size into sp. The trainer is thrown away after: its weights move. */
static int speed_probe(const gt_train_task *t, const gt_train_task_data *data, gt_trainer *tr, int s0,
                       const tdir *d, ag_train_speed *sp, gt_err *err) {
    gt_train_run one = t->run;
    char p[600];
    struct stat st;
    one.accum = 1;
    double t0 = gt_now_s();
    int rc = gt_train_run_to(tr, &one, data->ids, data->n, s0 + 1, err);
    if (rc) return rc;
    sp->micro_us = us_since(t0);
    t0 = gt_now_s();
    if ((rc = gt_trainer_save_checkpoint(tr, tdir_path(d, "out.ckpt", p), err))) return rc;
    /* The work writes it, reads it back to hash it, and uploads it: the upload
     * counted as the whole load (which downloaded the base, the same size, and more). */
    sp->ckpt_us = 2 * us_since(t0) + sp->load_us;
    if (stat(p, &st)) return gt_err_set(err, GT_EIO, "cannot read the size of %s", p);
    sp->ckpt_bytes = (uint64_t)st.st_size;
    return 0;
}

/* Measures, as the work would run it, what training spec's base takes on
 * this machine: the inputs fetched and the run started (load_us), then
 * speed_probe. Nothing is uploaded. The first micro-batch of a run is its
 * slowest (memory first touched): the measure errs long. */
static int speed_measure(gt_agent *a, const gt_train_task *spec, ag_train_speed *sp, gt_err *err) {
    gt_train_task t = *spec;
    gt_train_task_data data = {0};
    gt_trainer *tr = NULL;
    tdir d = {{0}};
    int s0 = 0;
    memset(sp, 0, sizeof *sp);
    memcpy(sp->base, t.base, 32);
    double t0 = gt_now_s();
    int rc = tdir_make(&d, err);
    if (!rc) rc = load_inputs(a, &d, &t, &data, &tr, &s0, err);
    sp->load_us = us_since(t0);
    if (!rc) rc = speed_probe(&t, &data, tr, s0, &d, sp, err);
    gt_trainer_free(tr);
    gt_train_task_data_free(&data);
    tdir_remove(&d, 0);
    return rc;
}

/* This agent's speed for spec's base: measured once, then kept (a ring). */
static int train_speed(gt_agent *a, const gt_train_task *spec, ag_train_speed *out, gt_err *err) {
    const ag_train_speed *have = speed_find(a, spec->base);
    if (have) return *out = *have, 0;
    int rc = speed_measure(a, spec, out, err);
    if (rc) return gt_err_wrap(err, "measuring this agent's training speed on the task's base");
    out->set = 1;
    a->train_speeds[a->train_speed_next++ % GT_AGENT_TRAIN_SPEEDS] = *out;
    gt_agent_logf(a, "measured its training speed on a base of %llu bytes: %llu us a micro-batch, %llu us a "
                  "checkpoint, %llu us to load", (unsigned long long)out->ckpt_bytes,
                  (unsigned long long)out->micro_us, (unsigned long long)out->ckpt_us,
                  (unsigned long long)out->load_us);
    return 0;
}

/* Milliseconds t's work takes at speed sp: the load, steps x accum
 * micro-batches (each with an optimizer step: more than the work does) and
 * steps / every checkpoints. */
static double train_estimate_ms(const gt_train_task *t, const ag_train_speed *sp) {
    assert(t->every > 0 && t->run.accum >= 1);
    double micro = (double)t->steps * (double)t->run.accum;
    return ((double)sp->load_us + micro * (double)sp->micro_us + (double)(t->steps / t->every) * (double)sp->ckpt_us) /
           1000.0;
}

/* 0 when twice the estimate plus GT_AGENT_SUBMIT_MARGIN_MS fits the task's
 * submit window; else EUNSUPPORTED saying why: a claim would lock the stake
 * and the window close on the training (the stake slashed). */
static int window_fits(const gt_job *job, const gt_train_task *t, const ag_train_speed *sp, gt_err *err) {
    json_int_t submit_s = json_integer_value(json_object_get(job->task, "submitSeconds"));
    double est_ms = train_estimate_ms(t, sp), need_ms = 2 * est_ms + GT_AGENT_SUBMIT_MARGIN_MS;
    if (submit_s > 0 && need_ms <= (double)submit_s * 1000.0) return 0;
    return gt_err_set(err, GT_EUNSUPPORTED, "training its %d steps of %d micro-batches (%d checkpoints) would take "
                      "about %.0f ms at this agent's measured speed (%llu us a micro-batch); twice that plus a margin, "
                      "%.0f ms, is more than its submit window of %lld s", t->steps, t->run.accum, t->steps / t->every,
                      est_ms, (unsigned long long)sp->micro_us, need_ms, (long long)submit_s);
}

/* 0 when the checkpoints the work uploads (steps / every of the base's size)
 * and the manifest fit what is left of this agent's blob quota on its node;
 * else ELIMIT saying why: the worker would stake, train and then be refused
 * the uploads. The node's count is read now (it grows with every upload);
 * a node that does not report it is taken to have the default quota. */
static int quota_fits(gt_agent *a, const gt_train_task *t, const ag_train_speed *sp, gt_err *err) {
    gt_client_acct acc;
    int rc = gt_client_account(a->client, &a->addr, &acc, err);
    if (rc) return gt_err_wrap(err, "reading this agent's blob quota");
    uint64_t quota = acc.blob_known ? acc.blob_quota_bytes : GT_AGENT_BLOB_QUOTA_DEFAULT;
    uint64_t used = acc.blob_known ? acc.blob_used_bytes : 0, n = (uint64_t)(t->steps / t->every);
    uint64_t need = n * sp->ckpt_bytes + GT_TRAIN_TASK_MANIFEST_MAX_BYTES;
    if (used <= quota && need <= quota - used) return 0;
    return gt_err_set(err, GT_ELIMIT, "its %llu checkpoints of %llu bytes and the manifest need up to %llu bytes of "
                      "uploads; this agent has used %llu of its %llu-byte blob quota on the node: it could not "
                      "submit", (unsigned long long)n, (unsigned long long)sp->ckpt_bytes, (unsigned long long)need,
                      (unsigned long long)used, (unsigned long long)quota);
}

/* Whether this agent would stake on the task: its steps can be trained in
 * the submit window at its measured speed, and the checkpoints fit its
 * remaining blob quota (a poster's CLI checks a fresh account's quota at
 * post; a task posted over HTTP, or a worker with uploads behind it, is
 * checked here). */
static int train_claimable(gt_agent *a, const gt_job *job, gt_err *err) {
    gt_train_task t;
    ag_train_speed sp;
    int rc = gt_train_task_parse(job->spec, &t, err);
    if (!rc) rc = train_speed(a, &t, &sp, err);
    if (!rc) rc = window_fits(job, &t, &sp, err);
    if (!rc) rc = quota_fits(a, &t, &sp, err);
    return rc;
}

/* Milliseconds this agent's verification of a manifest of job takes at its
 * measured speed (train_speed: the cache, measured once if absent), 0 when
 * the spec or the measure fails: the inputs loaded, steps / every
 * checkpoints fetched (each costed as ckpt_us, which counts a transfer), and
 * min(checks, steps / every) stretches re-executed, each every x accum
 * micro-batches, a start from its checkpoint and a checkpoint written
 * (each costed ckpt_us). What train_verify re-runs, for the reveal guard. */
static uint64_t train_rerun_ms(gt_agent *a, const gt_job *job) {
    gt_train_task t;
    ag_train_speed sp;
    gt_err e = {0};
    if (gt_train_task_parse(job->spec, &t, &e) || train_speed(a, &t, &sp, &e)) return 0;
    assert(t.every > 0 && t.run.accum >= 1);
    double n = (double)(t.steps / t.every), k = t.checks < n ? t.checks : n;
    double stretch = (double)t.every * (double)t.run.accum * (double)sp.micro_us + 2.0 * (double)sp.ckpt_us;
    double us = (double)sp.load_us + n * (double)sp.ckpt_us + k * stretch;
    return (uint64_t)(us / 1000.0) + 1;
}

/* A rejection with its reason; returns 0 (a verdict was reached). */
static int reject(gt_skill_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reject(gt_skill_verdict *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    v->accept = 0, v->score = 0;
    vsnprintf(v->reason, sizeof v->reason, fmt, ap);
    va_end(ap);
    return 0;
}

/* What the verifier knows while it judges one manifest. */
typedef struct vctx {
    gt_agent *a;
    gt_train_task t;
    gt_train_task_data data;
    gt_train_manifest m;
    gt_trainer *base;
    int s0;
    tdir d;
} vctx;

/* Fetches every checkpoint of the manifest and checks it is the base's
 * model at its step. 1 with v's rejection when one is not, 0 when all are,
 * or an error (the node could not be asked). */
static int check_checkpoints(vctx *c, gt_skill_verdict *v, gt_err *err) {
    char nm[32], p[600], id[GT_BLOB_ID_BYTES];
    for (int i = 0; i < c->m.n; i++) {
        gt_err e = {0};
        int step = 0, want = c->s0 + (i + 1) * c->t.every;
        snprintf(nm, sizeof nm, "c%d.ckpt", i);
        gt_blob_id_format(c->m.ckpt[i], id);
        int rc = fetch_file(c->a, &c->d, c->m.ckpt[i], nm, &e);
        if (rc == GT_ENOTFOUND || rc == GT_EINVAL || rc == GT_ELIMIT)
            return reject(v, "checkpoint %d (%s) cannot be had from the node: %s", i, id, e.msg), 1;
        if (rc) return *err = e, rc;
        if (gt_train_task_ckpt_step(tdir_path(&c->d, nm, p), gt_trainer_hparams(c->base), &step, &e))
            return reject(v, "checkpoint %d (%s) is not a checkpoint of the base model: %s", i, id, e.msg), 1;
        if (step != want)
            return reject(v, "checkpoint %d (%s) is at step %d: expected step %d (%d steps after the base's %d)", i,
                          id, step, want, (i + 1) * c->t.every, c->s0), 1;
    }
    return 0;
}

/* Re-executes stretch j (from the checkpoint before it, spec.every steps)
 * and compares the bytes with checkpoint j. 1 with v's rejection on a
 * mismatch, 0 on a match, or an error. */
static int check_stretch(vctx *c, int j, gt_skill_verdict *v, gt_err *err) {
    char nm[32], p[600], q[600], got_id[GT_BLOB_ID_BYTES], want_id[GT_BLOB_ID_BYTES];
    uint8_t got[32];
    gt_trainer *tr = NULL;
    int from = c->s0 + j * c->t.every;
    snprintf(nm, sizeof nm, "c%d.ckpt", j - 1);
    const char *start = tdir_path(&c->d, j ? nm : "base.ckpt", p);
    int rc = gt_train_task_start(&c->t, &c->data, start, from, c->a->n_threads, &tr, NULL, err);
    if (!rc) rc = gt_train_task_advance(&c->t, &c->data, tr, from + c->t.every, tdir_path(&c->d, "out.ckpt", q), got,
                                        err);
    gt_trainer_free(tr);
    if (rc) return rc;
    if (!memcmp(got, c->m.ckpt[j], 32)) return 0;
    gt_blob_id_format(got, got_id), gt_blob_id_format(c->m.ckpt[j], want_id);
    return reject(v, "stretch %d (steps %d..%d) re-executed from its checkpoint ends in %s, not the manifest's %s: "
                  "these steps were not trained as the spec commits", j, from + 1, from + c->t.every, got_id, want_id),
           1;
}

/* The slot's attempt in the task view (0 when not found). */
static uint64_t slot_attempt(const json_t *task, uint64_t slot) {
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(task, "slotList"), i, o) {
        if ((uint64_t)json_integer_value(json_object_get(o, "slot")) == slot)
            return (uint64_t)json_integer_value(json_object_get(o, "attempt"));
    }
    return 0;
}

/* Checks the manifest's checkpoints, then re-executes the drawn stretches. */
static int judge_manifest(vctx *c, const gt_job *job, const uint8_t *result, size_t len, gt_skill_verdict *v,
                          gt_err *err) {
    uint8_t rid[32], what[32];
    int idx[GT_TRAIN_TASK_MAX_CHECKS];
    int rc = check_checkpoints(c, v, err);
    if (rc) return rc == 1 ? 0 : rc;
    gt_sha256(result, len, rid);
    gt_train_task_draw_what(job->task_id, job->slot, slot_attempt(job->task, job->slot), rid, what);
    int k = gt_train_task_draw(what, gt_agent_secret_seed(c->a, what), c->m.n, c->t.checks, idx);
    for (int i = 0; i < k; i++) {
        if ((rc = check_stretch(c, idx[i], v, err))) return rc == 1 ? 0 : rc;
        gt_agent_logf(c->a, "stretch %d of %d re-executed: the same bytes", idx[i], c->m.n);
    }
    v->accept = 1, v->score = 100;
    snprintf(v->reason, sizeof v->reason, "%d checkpoints at their steps; %d drawn stretches re-executed byte for byte",
             c->m.n, k);
    return 0;
}

static int train_verify(gt_agent *a, const gt_job *job, const uint8_t *result, size_t len, gt_skill_verdict *v,
                        gt_err *err) {
    vctx c = {.a = a};
    gt_err e = {0};
    memset(v, 0, sizeof *v);
    int rc = gt_train_task_parse(job->spec, &c.t, err);
    if (rc) return rc;
    if (gt_train_manifest_parse(result, len, &c.t, &c.m, &e))
        return reject(v, "the result is not this task's training manifest: %s", e.msg);
    rc = tdir_make(&c.d, err);
    if (!rc) rc = load_inputs(a, &c.d, &c.t, &c.data, &c.base, &c.s0, err);
    if (!rc) rc = judge_manifest(&c, job, result, len, v, err);
    gt_trainer_free(c.base);
    gt_train_task_data_free(&c.data);
    tdir_remove(&c.d, c.m.n);
    return rc;
}

const gt_skill gt_skill_train = {.name = GT_WORK_KIND_TRAIN, .fits = train_fits, .claimable = train_claimable,
                                 .work = train_work, .verify = train_verify, .rerun_ms = train_rerun_ms};
