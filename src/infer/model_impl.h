/* model_impl.h: the inside of a gt_model, shared by model.c (loading) and
 * ctx.c and forward.c (evaluation). Not a public interface. */
#ifndef GT_INFER_MODEL_IMPL_H
#define GT_INFER_MODEL_IMPL_H

#include "infer/kernels.h"
#include "infer/model.h"

typedef struct gt_layer {
    float *attn_norm, *ffn_norm;     /* n_embd each */
    float *bq, *bk, *bv;             /* qwen2 only; NULL for llama */
    float *q_norm, *k_norm;          /* head_dim each: qwen3, gemma3; else NULL */
    float *attn_post_norm, *ffn_post_norm; /* n_embd each: gemma3; else NULL */
    gt_qmat wq, wk, wv, wo;          /* attention */
    gt_qmat wgate, wup, wdown;       /* SwiGLU feed-forward */
} gt_layer;

struct gt_model {
    gt_gguf *gguf;                   /* owned: metadata, tokenizer, embeddings */
    gt_hparams hp;
    gt_layer *layers;                /* hp.n_layer */
    float *out_norm;                 /* n_embd */
    float *rope_freqs;               /* rope_dims/2 divisors of the angles (Llama 3); or NULL */
    float *rope_long, *rope_short;   /* phi3's LongRoPE divisors (rope_dims/2 each); both or neither */
    gt_qmat out;                     /* n_vocab x n_embd */
    void *weights_mem;               /* the region all gt_qmat above live in */
    const gt_gguf_tensor *tok_embd;  /* rows read from the mapping per token */
    uint64_t n_params;
};

#endif
