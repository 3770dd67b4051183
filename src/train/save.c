/* save.c: the trained model as a GGUF file: llama.cpp's keys and tensor
 * names, f32 tensors, and the vocabulary's tokenizer.* keys. */
#include <string.h>

#include "train/trainer_impl.h"

int gt_trainer_save_gguf(const gt_trainer *t, const gt_gguf *vocab, const char *name,
                         const char *path, gt_err *err) {
    const gt_train_hparams *hp = &t->hp;
    gt_gguf_writer *w = gt_gguf_writer_new();
    if (!w) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_gguf_writer_set_str(w, "general.architecture", "llama");
    gt_gguf_writer_set_str(w, "general.name", name ? name : "gotong-trained");
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
    gt_gguf_writer_set_u32(w, "general.file_type", 0); /* all f32 */
    if (vocab)
        for (uint64_t i = 0; i < vocab->n_kv; i++)
            if (vocab->kv[i].key.len > 10 && !memcmp(vocab->kv[i].key.ptr, "tokenizer.", 10))
                gt_gguf_writer_copy_kv(w, &vocab->kv[i]);
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
