/* load.c: a trainer whose weights come from an existing llama GGUF, for
 * fine-tuning (see trainer.h, gt_trainer_from_gguf). */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/kernels.h"
#include "train/trainer_impl.h"

/* The tensor types gt_dequant_row turns into f32. */
static int type_loadable(uint32_t type) {
    switch (type) {
    case GT_TYPE_F32: case GT_TYPE_F16: case GT_TYPE_BF16: case GT_TYPE_Q8_0: case GT_TYPE_Q4_0:
    case GT_TYPE_Q4_K: case GT_TYPE_Q5_K: case GT_TYPE_Q6_K: return 1;
    default: return 0;
    }
}

/* A u32 key into *out (def when absent and def >= 0); the message names the key. */
static int key_int(const gt_gguf *g, const char *key, int def, int *out, gt_err *err) {
    uint32_t v;
    int rc = gt_gguf_get_u32(g, key, &v, err);
    if (rc == GT_ENOTFOUND && def >= 0) return *out = def, 0;
    if (rc == GT_ENOTFOUND) return gt_err_set(err, GT_EINVAL, "not a llama model: key %s is missing", key);
    if (rc) return rc;
    if (v > (1u << 30)) return gt_err_set(err, GT_EINVAL, "%s %u: out of range", key, v);
    *out = (int)v;
    return 0;
}

/* Keys that would make the file's model another than the trainer's: rope
 * scaling, and key or value heads of another size than dim / heads. */
static int check_other_keys(const gt_gguf *g, const gt_train_hparams *hp, gt_err *err) {
    gt_gguf_str scaling;
    float factor = 1.0f;
    int rc = gt_gguf_get_str(g, "llama.rope.scaling.type", &scaling, err), kl = 0, vl = 0;
    if (!rc && !(scaling.len == 4 && !memcmp(scaling.ptr, "none", 4)))
        return gt_err_set(err, GT_EUNSUPPORTED, "rope scaling \"%.*s\": the trainer's rope is unscaled",
                          (int)(scaling.len > 32 ? 32 : scaling.len), scaling.ptr);
    if (rc && rc != GT_ENOTFOUND) return rc;
    rc = gt_gguf_get_f32(g, "llama.rope.scaling.factor", &factor, err);
    if (rc && rc != GT_ENOTFOUND) return rc;
    if (!rc && factor != 0.0f && factor != 1.0f)
        return gt_err_set(err, GT_EUNSUPPORTED, "rope scaling factor %g: the trainer's rope is unscaled",
                          (double)factor);
    int hd = hp->dim / hp->n_head;
    if ((rc = key_int(g, "llama.attention.key_length", hd, &kl, err)) ||
        (rc = key_int(g, "llama.attention.value_length", hd, &vl, err)))
        return rc;
    if (kl != hd || vl != hd)
        return gt_err_set(err, GT_EUNSUPPORTED, "key and value heads of %d and %d: the trainer's are dim / heads = %d",
                          kl, vl, hd);
    return 0;
}

/* The shapes of the model in g into hp (its architecture must be llama:
 * the trainer has no attention biases and rotates adjacent pairs, all of
 * each head, unscaled). */
static int read_shapes(const gt_gguf *g, gt_train_hparams *hp, gt_err *err) {
    gt_gguf_str arch;
    int rc = gt_gguf_get_str(g, "general.architecture", &arch, err), rope_dims = 0, experts = 0;
    if (rc) return rc == GT_ENOTFOUND ? gt_err_set(err, GT_EINVAL, "not a model: general.architecture is missing") : rc;
    if (arch.len != 5 || memcmp(arch.ptr, "llama", 5))
        return gt_err_set(err, GT_EUNSUPPORTED, "architecture \"%.*s\": the trainer fine-tunes llama models only",
                          (int)(arch.len > 32 ? 32 : arch.len), arch.ptr);
    const gt_gguf_tensor *emb = gt_gguf_find_tensor(g, "token_embd.weight");
    if (!emb || emb->n_dims != 2 || emb->ne[1] > GT_TRAIN_MAX_VOCAB)
        return gt_err_set(err, GT_EINVAL, "token_embd.weight: expected a matrix of at most %d rows",
                          GT_TRAIN_MAX_VOCAB);
    hp->n_vocab = (int)emb->ne[1];
    if ((rc = key_int(g, "llama.embedding_length", -1, &hp->dim, err)) ||
        (rc = key_int(g, "llama.block_count", -1, &hp->n_layer, err)) ||
        (rc = key_int(g, "llama.feed_forward_length", -1, &hp->n_ff, err)) ||
        (rc = key_int(g, "llama.attention.head_count", -1, &hp->n_head, err)) ||
        (rc = key_int(g, "llama.attention.head_count_kv", hp->n_head, &hp->n_head_kv, err)) ||
        (rc = key_int(g, "llama.rope.dimension_count", 0, &rope_dims, err)) ||
        (rc = key_int(g, "llama.expert_count", 0, &experts, err)))
        return rc;
    if (experts)
        return gt_err_set(err, GT_EUNSUPPORTED, "a mixture of %d experts: the trainer has one feed-forward", experts);
    if (hp->n_head <= 0 || hp->dim % hp->n_head || (rope_dims && rope_dims != hp->dim / hp->n_head))
        return gt_err_set(err, GT_EUNSUPPORTED,
                          "rope over %d of %d dimensions per head: the trainer rotates all of them", rope_dims,
                          hp->n_head > 0 ? hp->dim / hp->n_head : 0);
    if ((rc = check_other_keys(g, hp, err))) return rc;
    rc = gt_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &hp->rms_eps, err);
    if (rc && rc != GT_ENOTFOUND) return rc;
    rc = gt_gguf_get_f32(g, "llama.rope.freq_base", &hp->rope_base, err);
    if (rc && rc != GT_ENOTFOUND) return rc;
    return 0;
}

/* Dequantizes the file's tensor into x's place in t->w, checking its type,
 * shape, size and that every value is finite. */
static int load_tensor(gt_trainer *t, const tensor *x, const gt_gguf_tensor *gt, gt_err *err) {
    int dims = x->rows == 1 ? 1 : 2;
    if (!type_loadable(gt->type))
        return gt_err_set(err, GT_EUNSUPPORTED, "%s is %s: expected f32, f16, bf16, q8_0, q4_0, q4_k, q5_k or q6_k",
                          x->name, gt_ggml_type_name(gt->type));
    if (gt->n_dims != (uint32_t)dims || gt->ne[0] != (uint64_t)x->cols || (dims == 2 && gt->ne[1] != (uint64_t)x->rows))
        return gt_err_set(err, GT_EINVAL, "%s: expected %d x %d, as the model's keys say", x->name, x->rows, x->cols);
    size_t row_bytes = gt_ggml_row_bytes(gt->type, (uint64_t)x->cols);
    if (!row_bytes || gt->nbytes < row_bytes * (size_t)x->rows)
        return gt_err_set(err, GT_EINVAL, "%s: %llu bytes for %d rows of %s", x->name, (unsigned long long)gt->nbytes,
                          x->rows, gt_ggml_type_name(gt->type));
    float *dst = t->w + x->off;
    for (int r = 0; r < x->rows; r++)
        gt_dequant_row(gt->type, (const uint8_t *)gt->data + (size_t)r * row_bytes, dst + (size_t)r * x->cols, x->cols);
    for (size_t i = 0; i < (size_t)x->rows * x->cols; i++)
        if (!isfinite(dst[i]))
            return gt_err_set(err, GT_EINVAL, "%s holds a non-finite value at element %zu", x->name, i);
    return 0;
}

/* Every tensor of the file must be one the trainer has: a tensor it would
 * drop (biases, rope factors) would make another model than the file's. */
static int check_no_extra(const gt_gguf *g, const gt_trainer *t, gt_err *err) {
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_str *nm = &g->tensors[i].name;
        int known = 0;
        for (int k = 0; k < t->n_tensors && !known; k++)
            known = strlen(t->tensors[k].name) == nm->len && !memcmp(t->tensors[k].name, nm->ptr, nm->len);
        if (!known)
            return gt_err_set(err, GT_EUNSUPPORTED, "tensor %.*s is not one of a llama model the trainer has",
                              (int)(nm->len > 64 ? 64 : nm->len), nm->ptr);
    }
    return 0;
}

/* Loads every tensor; a file without output.weight (output tied to the
 * embedding) gets the embedding's copy, trained apart from then on. */
static int load_weights(gt_trainer *t, const gt_gguf *g, int *tied, gt_err *err) {
    int rc = check_no_extra(g, t, err);
    for (int i = 0; i < t->n_tensors && !rc; i++) {
        const tensor *x = &t->tensors[i];
        const gt_gguf_tensor *gt = gt_gguf_find_tensor(g, x->name);
        if (!gt && i == T_OUTPUT(t)) {
            assert(t->tensors[0].rows == x->rows && t->tensors[0].cols == x->cols);
            memcpy(t->w + x->off, t->w + t->tensors[0].off, (size_t)x->rows * x->cols * sizeof(float));
            *tied = 1;
            continue;
        }
        rc = gt ? load_tensor(t, x, gt, err) : gt_err_set(err, GT_EINVAL, "the model lacks tensor %s", x->name);
    }
    return rc;
}

int gt_trainer_from_gguf(const gt_gguf *g, const gt_train_hparams *run, int n_threads, gt_trainer **out,
                         int *tied, gt_err *err) {
    *out = NULL;
    int tied_local = 0;
    gt_train_hparams hp = {.seq_len = run->seq_len, .batch = run->batch, .seed = run->seed};
    gt_trainer *t = NULL;
    int rc = read_shapes(g, &hp, err);
    if (!rc) rc = gt_trainer_new(&hp, n_threads, &t, err);
    if (!rc) rc = load_weights(t, g, &tied_local, err);
    if (rc) return gt_trainer_free(t), rc;
    if (tied) *tied = tied_local;
    *out = t;
    return 0;
}
