/* checkpoint.c: saving and restoring a trainer mid-run (see trainer.h). */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "train/trainer_impl.h"

/* The integer shape keys, in one table for writing and reading. */
typedef struct ikey { const char *key; size_t off; } ikey;
#define IK(k, f) {k, offsetof(gt_train_hparams, f)}
static const ikey int_keys[] = {
    IK("train.vocab", n_vocab), IK("train.dim", dim), IK("train.layers", n_layer), IK("train.heads", n_head),
    IK("train.kv_heads", n_head_kv), IK("train.ff", n_ff), IK("train.seq", seq_len), IK("train.batch", batch),
};
#undef IK
#define N_INT_KEYS (sizeof int_keys / sizeof *int_keys)

/* Adds one array of the parameter layout under prefix + each tensor name. */
static void add_arrays(gt_gguf_writer *w, const gt_trainer *t, const char *prefix, const float *base) {
    char nm[96];
    for (int i = 0; i < t->n_tensors; i++) {
        const tensor *x = &t->tensors[i];
        uint64_t ne[2] = {(uint64_t)x->cols, (uint64_t)x->rows};
        snprintf(nm, sizeof nm, "%s%s", prefix, x->name);
        gt_gguf_writer_add_tensor(w, nm, 2, ne, GT_TYPE_F32, base + x->off, (size_t)x->rows * x->cols * sizeof(float));
    }
}

int gt_trainer_save_checkpoint(const gt_trainer *t, const char *path, gt_err *err) {
    gt_gguf_writer *w = gt_gguf_writer_new();
    if (!w) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_gguf_writer_set_str(w, "general.architecture", "gotong-train-checkpoint");
    for (size_t i = 0; i < N_INT_KEYS; i++)
        gt_gguf_writer_set_u32(w, int_keys[i].key, (uint32_t)*(const int *)((const char *)&t->hp + int_keys[i].off));
    gt_gguf_writer_set_f32(w, "train.rope_base", t->hp.rope_base);
    gt_gguf_writer_set_f32(w, "train.rms_eps", t->hp.rms_eps);
    gt_gguf_writer_set_f32(w, "train.init_std", t->hp.init_std);
    gt_gguf_writer_set_u32(w, "train.seed_lo", (uint32_t)t->hp.seed);
    gt_gguf_writer_set_u32(w, "train.seed_hi", (uint32_t)(t->hp.seed >> 32));
    gt_gguf_writer_set_u32(w, "train.step", (uint32_t)t->step);
    add_arrays(w, t, "", t->w);
    add_arrays(w, t, "adam.m.", t->m);
    add_arrays(w, t, "adam.v.", t->v);
    int rc = gt_gguf_writer_write(w, path, err);
    gt_gguf_writer_free(w);
    return rc;
}

/* Reads the shapes and the step out of a checkpoint's keys. */
static int read_keys(const gt_gguf *g, gt_train_hparams *hp, uint32_t *step, gt_err *err) {
    uint32_t v, lo, hi;
    int rc;
    memset(hp, 0, sizeof *hp);
    for (size_t i = 0; i < N_INT_KEYS; i++) {
        if ((rc = gt_gguf_get_u32(g, int_keys[i].key, &v, err)))
            return rc == GT_ENOTFOUND
                       ? gt_err_set(err, GT_EINVAL, "not a training checkpoint: no key %s", int_keys[i].key)
                       : rc;
        if (v > (1u << 30)) return gt_err_set(err, GT_EINVAL, "%s %u: out of range", int_keys[i].key, v);
        *(int *)((char *)hp + int_keys[i].off) = (int)v;
    }
    if ((rc = gt_gguf_get_f32(g, "train.rope_base", &hp->rope_base, err)) ||
        (rc = gt_gguf_get_f32(g, "train.rms_eps", &hp->rms_eps, err)) ||
        (rc = gt_gguf_get_f32(g, "train.init_std", &hp->init_std, err)) ||
        (rc = gt_gguf_get_u32(g, "train.seed_lo", &lo, err)) || (rc = gt_gguf_get_u32(g, "train.seed_hi", &hi, err)) ||
        (rc = gt_gguf_get_u32(g, "train.step", step, err)))
        return rc == GT_ENOTFOUND
                   ? gt_err_set(err, GT_EINVAL, "not a training checkpoint: a train.* key is missing")
                   : rc;
    hp->seed = (uint64_t)hi << 32 | lo;
    if (*step > (1u << 30)) return gt_err_set(err, GT_EINVAL, "train.step %u: out of range", *step);
    return 0;
}

/* Copies prefix + each tensor name into base, checking type and shape. */
static int copy_arrays(const gt_gguf *g, gt_trainer *t, const char *prefix, float *base, gt_err *err) {
    char nm[96];
    for (int i = 0; i < t->n_tensors; i++) {
        const tensor *x = &t->tensors[i];
        snprintf(nm, sizeof nm, "%s%s", prefix, x->name);
        const gt_gguf_tensor *gt = gt_gguf_find_tensor(g, nm);
        if (!gt) return gt_err_set(err, GT_EINVAL, "checkpoint lacks tensor %s", nm);
        if (gt->type != GT_TYPE_F32 || gt->ne[0] != (uint64_t)x->cols || gt->ne[1] != (uint64_t)x->rows)
            return gt_err_set(err, GT_EINVAL, "checkpoint tensor %s: expected f32 of %d x %d", nm, x->rows, x->cols);
        memcpy(base + x->off, gt->data, (size_t)x->rows * x->cols * sizeof(float));
    }
    return 0;
}

/* EINVAL unless g's tensors are all f32 and hold exactly the weights and two
 * moments of shapes hp (checked): their names and shapes are compared as they
 * are copied; this bounds the model's size by the file's before it is made. */
static int tensors_fit(const gt_gguf *g, const gt_train_hparams *hp, gt_err *err) {
    uint64_t have = 0, need = 3 * gt_trainer_param_count(hp) * sizeof(float);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        if (g->tensors[i].type != GT_TYPE_F32)
            return gt_err_set(err, GT_EINVAL, "checkpoint tensor %llu is not f32", (unsigned long long)i);
        have += g->tensors[i].nbytes; /* each within the file: the reader checked, so no overflow */
    }
    if (have == need) return 0;
    return gt_err_set(err, GT_EINVAL, "the checkpoint's tensors hold %llu bytes; its shapes (vocabulary %d, dim %d, "
                      "%d layers, ff %d) need %llu (weights and two moments in f32)", (unsigned long long)have,
                      hp->n_vocab, hp->dim, hp->n_layer, hp->n_ff, (unsigned long long)need);
}

/* The shapes (checked) and step of the open checkpoint g, its tensors' bytes
 * matching them. */
static int peek_open(const gt_gguf *g, gt_train_hparams *hp, uint32_t *step, gt_err *err) {
    int rc = read_keys(g, hp, step, err);
    if (!rc) rc = gt_trainer_shapes_check(hp, err);
    if (!rc) rc = tensors_fit(g, hp, err);
    return rc;
}

int gt_trainer_checkpoint_peek(const char *path, gt_train_hparams *hp, int *step, gt_err *err) {
    gt_gguf *g = NULL;
    uint32_t s = 0;
    int rc = gt_gguf_open(path, &g, err);
    if (!rc) rc = peek_open(g, hp, &s, err);
    gt_gguf_close(g);
    if (!rc) *step = (int)s;
    return rc;
}

int gt_trainer_load_checkpoint(const char *path, int n_threads, gt_trainer **out, gt_err *err) {
    *out = NULL;
    gt_gguf *g = NULL;
    gt_trainer *t = NULL;
    gt_train_hparams hp;
    uint32_t step = 0;
    int rc = gt_gguf_open(path, &g, err);
    if (!rc) rc = peek_open(g, &hp, &step, err);
    if (!rc) rc = gt_trainer_new(&hp, n_threads, &t, err);
    if (!rc) rc = copy_arrays(g, t, "", t->w, err);
    if (!rc) rc = copy_arrays(g, t, "adam.m.", t->m, err);
    if (!rc) rc = copy_arrays(g, t, "adam.v.", t->v, err);
    gt_gguf_close(g);
    if (rc) return gt_trainer_free(t), rc;
    t->step = (int)step;
    *out = t;
    return 0;
}
