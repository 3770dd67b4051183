/* train_task.c: the market task kind "train" (see train_task.h): its spec,
 * the worker's manifest, the verifier's draw of stretches, and the steps
 * both run from a checkpoint. */
#include "work/train_task.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/limits.h"
#include "crypto/keccak.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "train/dataset.h"

/* A decimal config value ("0.001") as f32 in [lo, hi]: strtod rounds
 * correctly, so every machine reads the same bits. */
static int get_num(const json_t *cfg, const char *field, double lo, double hi, float *out, gt_err *err) {
    const char *s;
    int rc = gt_json_get_str(cfg, field, GT_TRAIN_TASK_NUM_MAX, &s, err);
    if (rc) return rc;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (!*s || *end || errno || !(x >= lo && x <= hi))
        return gt_err_set(err, GT_EINVAL, "spec.config.%s: expected a decimal number in [%g, %g] as text, got \"%s\"",
                          field, lo, hi, s);
    *out = (float)x;
    return 0;
}

/* An integer field in [lo, hi]. */
static int get_int(const json_t *o, const char *what, const char *field, uint64_t lo, uint64_t hi, int *out,
                   gt_err *err) {
    uint64_t v;
    int rc = gt_json_get_u64(o, field, &v, err);
    if (rc) return rc;
    if (v < lo || v > hi)
        return gt_err_set(err, GT_EINVAL, "%s.%s: expected %llu..%llu, got %llu", what, field,
                          (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)v);
    *out = (int)v;
    return 0;
}

/* A blob id field ("sha256:<hex>") into h. */
static int get_blob(const json_t *o, const char *what, const char *field, uint8_t h[32], gt_err *err) {
    const char *s;
    int rc = gt_json_get_str(o, field, GT_BLOB_ID_BYTES, &s, err);
    if (!rc && gt_blob_id_parse(s, h, NULL))
        rc = gt_err_set(err, GT_EINVAL, "%s.%s: expected a blob id sha256:<64 hex>, got \"%s\"", what, field, s);
    return rc;
}

/* The run's settings of spec.config into t->run. */
static int parse_config(const json_t *cfg, gt_train_task *t, gt_err *err) {
    static const char *const allowed[] = {"accum", "lr", "minLr", "warmup", "totalSteps", "wd", "clip", NULL};
    if (!json_is_object(cfg)) return gt_err_set(err, GT_EINVAL, "spec.config: expected an object");
    gt_train_opt *o = &t->run.opt;
    *o = gt_train_opt_default();
    int rc = gt_json_only_fields(cfg, allowed, "spec.config", err);
    if (!rc) rc = get_int(cfg, "spec.config", "accum", 1, GT_TRAIN_TASK_MAX_ACCUM, &t->run.accum, err);
    if (!rc) rc = get_int(cfg, "spec.config", "warmup", 0, GT_TRAIN_TASK_MAX_STEPS, &o->warmup_steps, err);
    if (!rc) rc = get_int(cfg, "spec.config", "totalSteps", 1, 1u << 30, &o->total_steps, err);
    if (!rc) rc = get_num(cfg, "lr", 1e-8, 1.0, &o->lr, err);
    if (!rc) rc = get_num(cfg, "minLr", 0.0, 1.0, &o->min_lr, err);
    if (!rc) rc = get_num(cfg, "wd", 0.0, 10.0, &o->weight_decay, err);
    if (!rc) rc = get_num(cfg, "clip", 0.0, 1e6, &o->clip_norm, err);
    if (!rc && o->min_lr > o->lr)
        rc = gt_err_set(err, GT_EINVAL, "spec.config.minLr %g is above lr %g", (double)o->min_lr, (double)o->lr);
    return rc;
}

int gt_train_task_parse(const json_t *spec, gt_train_task *t, gt_err *err) {
    static const char *const allowed[] = {"base", "vocab", "dataset", "root", "steps", "every", "checks",
                                          "config", NULL};
    memset(t, 0, sizeof *t);
    const char *root;
    if (!json_is_object(spec)) return gt_err_set(err, GT_EINVAL, "spec: expected an object");
    int rc = gt_json_only_fields(spec, allowed, "spec", err);
    if (!rc) rc = get_blob(spec, "spec", "base", t->base, err);
    if (!rc) rc = get_blob(spec, "spec", "vocab", t->vocab, err);
    if (!rc) rc = get_blob(spec, "spec", "dataset", t->dataset, err);
    if (!rc) rc = gt_json_get_str(spec, "root", 66, &root, err);
    if (!rc) rc = gt_hex_decode(root, t->root, 32, "spec.root", err);
    if (!rc) rc = get_int(spec, "spec", "steps", 1, GT_TRAIN_TASK_MAX_STEPS, &t->steps, err);
    if (!rc) rc = get_int(spec, "spec", "every", 1, GT_TRAIN_TASK_MAX_STEPS, &t->every, err);
    if (!rc) rc = get_int(spec, "spec", "checks", 1, GT_TRAIN_TASK_MAX_CHECKS, &t->checks, err);
    if (!rc && (t->steps % t->every || t->steps / t->every > GT_TRAIN_TASK_MAX_STRETCHES))
        rc = gt_err_set(err, GT_EINVAL, "spec.steps %d and spec.every %d: expected steps a multiple of every, in at "
                        "most %d stretches", t->steps, t->every, GT_TRAIN_TASK_MAX_STRETCHES);
    if (!rc) rc = parse_config(json_object_get(spec, "config"), t, err);
    return rc;
}

/* A float as the shortest decimal text that reads back as the same f32. */
static json_t *num_text(float x) {
    char s[GT_TRAIN_TASK_NUM_MAX];
    for (int p = 1; p <= 9; p++) {
        snprintf(s, sizeof s, "%.*g", p, (double)x);
        if ((float)strtod(s, NULL) == x) break;
    }
    return json_string(s);
}

char *gt_train_task_spec(const gt_train_task *t) {
    char b[GT_BLOB_ID_BYTES], v[GT_BLOB_ID_BYTES], d[GT_BLOB_ID_BYTES], r[67] = "0x";
    gt_blob_id_format(t->base, b), gt_blob_id_format(t->vocab, v), gt_blob_id_format(t->dataset, d);
    gt_hex_encode(t->root, 32, r + 2);
    const gt_train_opt *o = &t->run.opt;
    json_t *cfg = json_pack("{s:i,s:o,s:o,s:i,s:i,s:o,s:o}", "accum", t->run.accum, "lr", num_text(o->lr), "minLr",
                            num_text(o->min_lr), "warmup", o->warmup_steps, "totalSteps", o->total_steps, "wd",
                            num_text(o->weight_decay), "clip", num_text(o->clip_norm));
    json_t *s = cfg ? json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:o}", "base", b, "vocab", v, "dataset", d, "root", r,
                                "steps", t->steps, "every", t->every, "checks", t->checks, "config", cfg)
                    : NULL;
    char *out = s ? gt_json_dump(s) : NULL;
    json_decref(s);
    return out;
}

int gt_train_manifest_parse(const uint8_t *bytes, size_t len, const gt_train_task *t, gt_train_manifest *m,
                            gt_err *err) {
    static const char *const allowed[] = {"base", "checkpoints", NULL};
    json_t *o = NULL;
    memset(m, 0, sizeof *m);
    int rc = gt_json_parse((const char *)bytes, len, GT_TRAIN_TASK_MANIFEST_MAX_BYTES, &o, err);
    if (!rc && !json_is_object(o)) rc = gt_err_set(err, GT_EINVAL, "manifest: expected an object");
    if (!rc) rc = gt_json_only_fields(o, allowed, "manifest", err);
    if (!rc) rc = get_blob(o, "manifest", "base", m->base, err);
    if (!rc && memcmp(m->base, t->base, 32))
        rc = gt_err_set(err, GT_EINVAL, "manifest.base is not the spec's base checkpoint: training from another "
                        "model is not the task");
    json_t *c = rc ? NULL : json_object_get(o, "checkpoints");
    size_t want = rc ? 0 : (size_t)(t->steps / t->every);
    if (!rc && (!json_is_array(c) || json_array_size(c) != want))
        rc = gt_err_set(err, GT_EINVAL, "manifest.checkpoints: expected an array of %zu blob ids (steps %d, one "
                        "checkpoint every %d)", want, t->steps, t->every);
    for (size_t i = 0; !rc && i < want; i++) {
        const char *s = json_string_value(json_array_get(c, i));
        if (!s || gt_blob_id_parse(s, m->ckpt[i], NULL))
            rc = gt_err_set(err, GT_EINVAL, "manifest.checkpoints[%zu]: expected a blob id sha256:<64 hex>", i);
    }
    if (!rc) m->n = (int)want;
    json_decref(o);
    return rc;
}

char *gt_train_manifest_json(const gt_train_manifest *m) {
    char id[GT_BLOB_ID_BYTES];
    json_t *arr = json_array();
    for (int i = 0; arr && i < m->n; i++) {
        gt_blob_id_format(m->ckpt[i], id);
        json_array_append_new(arr, json_string(id));
    }
    gt_blob_id_format(m->base, id);
    json_t *o = arr ? json_pack("{s:s,s:o}", "base", id, "checkpoints", arr) : NULL;
    char *s = o ? gt_json_dump(o) : NULL;
    json_decref(o);
    return s;
}

void gt_train_task_draw_what(const uint8_t task[32], uint64_t slot, uint64_t attempt, const uint8_t result[32],
                             uint8_t what[32]) {
    uint8_t in[32 + 8 + 8 + 32];
    memcpy(in, task, 32);
    for (int i = 0; i < 8; i++) in[32 + i] = (uint8_t)(slot >> (56 - 8 * i));
    for (int i = 0; i < 8; i++) in[40 + i] = (uint8_t)(attempt >> (56 - 8 * i));
    memcpy(in + 48, result, 32);
    gt_keccak256(in, sizeof in, what);
}

int gt_train_task_draw(const uint8_t what[32], uint64_t secret, int n_stretches, int checks, int *out) {
    assert(n_stretches >= 1 && n_stretches <= GT_TRAIN_TASK_MAX_STRETCHES && checks >= 1);
    int idx[GT_TRAIN_TASK_MAX_STRETCHES], k = checks < n_stretches ? checks : n_stretches;
    for (int i = 0; i < n_stretches; i++) idx[i] = i;
    uint8_t in[32 + 8 + 4];
    memcpy(in, what, 32);
    for (int b = 0; b < 8; b++) in[32 + b] = (uint8_t)(secret >> (56 - 8 * b));
    /* A partial Fisher-Yates shuffle: out[i] takes a draw among those left. */
    for (int i = 0; i < k; i++) {
        uint8_t h[32];
        for (int b = 0; b < 4; b++) in[40 + b] = (uint8_t)((unsigned)i >> (24 - 8 * b));
        gt_keccak256(in, sizeof in, h);
        uint64_t r = 0;
        for (int b = 0; b < 8; b++) r = r << 8 | h[b];
        int j = i + (int)(r % (uint64_t)(n_stretches - i)), tmp = idx[i];
        idx[i] = idx[j], idx[j] = tmp;
        out[i] = idx[i];
    }
    return k;
}

/* GT_EINVAL unless the file at path hashes (sha256) to want. */
static int file_hash_is(const char *path, const uint8_t want[32], const char *what, gt_err *err) {
    uint8_t *b = NULL, h[32];
    size_t n = 0;
    int rc = gt_file_read(path, GT_LIMIT_BLOB_BYTES, &b, &n, err);
    if (!rc) gt_sha256(b, n, h);
    gt_free(b);
    if (!rc && memcmp(h, want, 32)) rc = gt_err_set(err, GT_EINVAL, "%s: %s does not hold its bytes", what, path);
    return rc;
}

void gt_train_task_data_free(gt_train_task_data *d) {
    if (!d) return;
    gt_free(d->ids);
    gt_tokenizer_free(d->tok);
    gt_gguf_close(d->vocab);
    memset(d, 0, sizeof *d);
}

int gt_train_task_data_load(const gt_train_task *t, const char *vocab_path, const uint8_t *dataset, size_t len,
                            gt_train_task_data *d, gt_err *err) {
    memset(d, 0, sizeof *d);
    uint8_t h[32];
    gt_train_rows rows = {0};
    gt_sha256(dataset, len, h);
    int rc = memcmp(h, t->dataset, 32) ? gt_err_set(err, GT_EINVAL, "the dataset's bytes are not spec.dataset's") : 0;
    if (!rc) rc = file_hash_is(vocab_path, t->vocab, "spec.vocab", err);
    if (!rc) rc = gt_gguf_open(vocab_path, &d->vocab, err);
    if (!rc) rc = gt_tokenizer_load(d->vocab, &d->tok, err);
    if (!rc) rc = gt_train_rows_parse(dataset, len, t->root, "spec.dataset", "spec.root", &rows, err);
    if (!rc) rc = gt_train_rows_tokenize(&rows, d->tok, "spec.dataset", &d->ids, &d->n, err);
    gt_train_rows_free(&rows);
    if (rc) gt_train_task_data_free(d);
    return rc;
}

/* GT_EINVAL unless a and b are one model's shapes, seed and the settings its
 * steps read (rope base, RMS epsilon: compared as bits). */
static int same_shapes(const gt_train_hparams *a, const gt_train_hparams *b, const char *what, gt_err *err) {
    if (a->n_vocab == b->n_vocab && a->dim == b->dim && a->n_layer == b->n_layer && a->n_head == b->n_head &&
        a->n_head_kv == b->n_head_kv && a->n_ff == b->n_ff && a->seq_len == b->seq_len && a->batch == b->batch &&
        a->seed == b->seed && !memcmp(&a->rope_base, &b->rope_base, sizeof(float)) &&
        !memcmp(&a->rms_eps, &b->rms_eps, sizeof(float)))
        return 0;
    return gt_err_set(err, GT_EINVAL, "%s is another model: dim %d, %d layers, vocabulary %d, seq %d x batch %d "
                      "where the base has dim %d, %d layers, vocabulary %d, seq %d x batch %d (or another seed, rope "
                      "base or RMS epsilon)", what, a->dim, a->n_layer, a->n_vocab, a->seq_len, a->batch, b->dim,
                      b->n_layer, b->n_vocab, b->seq_len, b->batch);
}

/* GT_ELIMIT when training the checkpoint at path would take more than
 * GT_TRAIN_TASK_MAX_MEM_BYTES: read from its header, before anything is
 * allocated, so a poster's shapes cannot make a worker (or a verifier)
 * allocate past it. */
static int mem_fits(const char *path, gt_err *err) {
    gt_train_hparams hp;
    int step = 0, rc = gt_trainer_checkpoint_peek(path, &hp, &step, err);
    if (rc) return rc;
    uint64_t need = gt_trainer_mem_bytes(&hp);
    if (need <= GT_TRAIN_TASK_MAX_MEM_BYTES) return 0;
    return gt_err_set(err, GT_ELIMIT, "training this checkpoint (dim %d, %d layers, ff %d, vocabulary %d, seq %d x "
                      "batch %d) needs %llu MiB of memory; a train task may need at most %llu MiB", hp.dim,
                      hp.n_layer, hp.n_ff, hp.n_vocab, hp.seq_len, hp.batch, (unsigned long long)(need >> 20),
                      (unsigned long long)(GT_TRAIN_TASK_MAX_MEM_BYTES >> 20));
}

int gt_train_task_start(gt_train_task *t, const gt_train_task_data *d, const char *path, int expect_step,
                        int n_threads, gt_trainer **out, int *s0, gt_err *err) {
    gt_trainer *tr = NULL;
    int rc = mem_fits(path, err);
    if (!rc) rc = gt_trainer_load_checkpoint(path, n_threads, &tr, err);
    if (rc) return rc;
    const gt_train_hparams *hp = gt_trainer_hparams(tr);
    int step = gt_trainer_step_count(tr);
    if (hp->n_vocab != (int)gt_tokenizer_n_vocab(d->tok))
        rc = gt_err_set(err, GT_EINVAL, "the checkpoint has a vocabulary of %d tokens, spec.vocab %d", hp->n_vocab,
                        (int)gt_tokenizer_n_vocab(d->tok));
    else if (expect_step >= 0 && step != expect_step)
        rc = gt_err_set(err, GT_EINVAL, "the checkpoint is at step %d: expected step %d", step, expect_step);
    else if (d->n <= (size_t)hp->seq_len)
        rc = gt_err_set(err, GT_EINVAL, "spec.dataset holds %zu tokens: expected more than the model's sequence "
                        "length %d", d->n, hp->seq_len);
    else if (t->run.opt.total_steps < step + t->steps && expect_step < 0)
        rc = gt_err_set(err, GT_EINVAL, "spec.config.totalSteps %d ends the schedule before step %d",
                        t->run.opt.total_steps, step + t->steps);
    if (rc) return gt_trainer_free(tr), rc;
    t->run.seq = hp->seq_len, t->run.batch = hp->batch, t->run.seed = hp->seed;
    *out = tr;
    if (s0) *s0 = step;
    return 0;
}

int gt_train_task_advance(const gt_train_task *t, const gt_train_task_data *d, gt_trainer *tr, int to_step,
                          const char *path, uint8_t hash[32], gt_err *err) {
    assert(t->run.seq == gt_trainer_hparams(tr)->seq_len);
    uint8_t *b = NULL;
    size_t n = 0;
    int rc = gt_train_run_to(tr, &t->run, d->ids, d->n, to_step, err);
    if (!rc) rc = gt_trainer_save_checkpoint(tr, path, err);
    if (!rc) rc = gt_file_read(path, GT_LIMIT_BLOB_BYTES, &b, &n, err);
    if (!rc) gt_sha256(b, n, hash);
    gt_free(b);
    return rc;
}

int gt_train_task_ckpt_step(const char *path, const gt_train_hparams *hp, int *step, gt_err *err) {
    /* Its header only: a worker's checkpoint is compared with the base before
     * anything is allocated for it (loading it whole first let a 1 KiB file
     * claiming large shapes make the verifier allocate and initialise them). */
    gt_train_hparams have;
    int s = 0, rc = gt_trainer_checkpoint_peek(path, &have, &s, err);
    if (!rc) rc = same_shapes(&have, hp, "the checkpoint", err);
    if (!rc) *step = s;
    return rc;
}
