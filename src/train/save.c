/* save.c: the trained model as a GGUF file: llama.cpp's keys and tensor
 * names, f32 tensors, and the vocabulary's tokenizer.* keys (or, for a
 * fine-tuned model, every key of the base model's file). */
#include <string.h>

#include "train/trainer_impl.h"

/* The shape keys of the model, as llama.cpp reads them. */
static void set_shape_keys(gt_gguf_writer *w, const gt_train_hparams *hp) {
    gt_gguf_writer_set_str(w, "general.architecture", "llama");
    gt_gguf_writer_set_u32(w, "llama.context_length", (uint32_t)hp->seq_len);
    gt_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)hp->dim);
    gt_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)hp->n_layer);
    gt_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)hp->n_ff);
    gt_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)hp->n_head);
    gt_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)hp->n_head_kv);
    gt_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", hp->rms_eps);
    gt_gguf_writer_set_f32(w, "llama.rope.freq_base", hp->rope_base);
    gt_gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)(hp->dim / hp->n_head));
    gt_gguf_writer_set_u32(w, "llama.vocab_size", (uint32_t)hp->n_vocab);
}

/* Adds the weights as f32 tensors and writes the file. */
static int write_tensors(const gt_trainer *t, gt_gguf_writer *w, const char *path, gt_err *err) {
    gt_gguf_writer_set_u32(w, "general.file_type", 0); /* all f32 */
    for (int i = 0; i < t->n_tensors; i++) {
        const tensor *x = &t->tensors[i];
        uint64_t ne[2] = {(uint64_t)x->cols, (uint64_t)x->rows};
        gt_gguf_writer_add_tensor(w, x->name, x->rows == 1 ? 1 : 2, ne, GT_TYPE_F32, t->w + x->off,
                                  (size_t)x->rows * x->cols * sizeof(float));
    }
    int rc = gt_gguf_writer_write(w, path, err);
    gt_gguf_writer_free(w);
    return rc;
}

/* Whether a GGUF key starts with prefix. */
static int key_has_prefix(const gt_gguf_kv *kv, const char *prefix) {
    size_t n = strlen(prefix);
    return kv->key.len >= n && !memcmp(kv->key.ptr, prefix, n);
}

int gt_trainer_save_gguf(const gt_trainer *t, const gt_gguf *vocab, const char *name,
                         const char *path, gt_err *err) {
    gt_gguf_writer *w = gt_gguf_writer_new();
    if (!w) return gt_err_set(err, GT_ENOMEM, "out of memory");
    set_shape_keys(w, &t->hp);
    gt_gguf_writer_set_str(w, "general.name", name ? name : "gotong-trained");
    if (vocab)
        for (uint64_t i = 0; i < vocab->n_kv; i++)
            if (key_has_prefix(&vocab->kv[i], "tokenizer.")) gt_gguf_writer_copy_kv(w, &vocab->kv[i]);
    return write_tensors(t, w, path, err);
}

int gt_trainer_save_gguf_like(const gt_trainer *t, const gt_gguf *base, const char *path, gt_err *err) {
    gt_gguf_writer *w = gt_gguf_writer_new();
    if (!w) return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (uint64_t i = 0; i < base->n_kv; i++)
        if (!key_has_prefix(&base->kv[i], "general.file_type")) gt_gguf_writer_copy_kv(w, &base->kv[i]);
    /* The shapes are the trainer's (the tensors' own), whatever the base
     * says; its context length stays, being no shape of a tensor, unless
     * the run trained on longer windows: then those (a base of 16
     * positions tuned on 64 said 16, and engines cut prompts there). */
    set_shape_keys(w, &t->hp);
    uint32_t ctx = 0;
    gt_err e2 = {0};
    if (!gt_gguf_get_u32(base, "llama.context_length", &ctx, &e2) && ctx > (uint32_t)t->hp.seq_len)
        gt_gguf_writer_set_u32(w, "llama.context_length", ctx);
    return write_tensors(t, w, path, err);
}
