/* model.h: a llama-family transformer (llama, qwen2, qwen3, gemma3, phi3) loaded
 * from GGUF, and evaluation contexts with a KV cache.
 *
 * A gt_model holds the hyperparameters (from the file's metadata) and the
 * weights, copied out of the file mapping into the kernels' tiled layout
 * (anonymous memory), so evaluation never faults on the file. A gt_ctx holds
 * a KV cache, scratch buffers and a thread pool; several contexts may share
 * one model (the model is read-only after load).
 *
 * Determinism: every output element is computed by exactly one thread in a
 * fixed order (kernels.h), so logits are bit-identical whatever the thread
 * count, run to run, and whether tokens are evaluated in one batch or one by
 * one. */
#ifndef GT_INFER_MODEL_H
#define GT_INFER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "infer/gguf.h"

/* Limits on what a model file may declare (checked before any allocation). */
#define GT_MODEL_MAX_LAYERS 512
#define GT_MODEL_MAX_EMBD 65536
#define GT_MODEL_MAX_HEADS 1024
#define GT_MODEL_MAX_HEAD_DIM 1024
#define GT_MODEL_MAX_FF (1 << 20)
#define GT_MODEL_MAX_VOCAB (1 << 22)
/* Contexts: positions and tokens per internal batch. */
#define GT_CTX_MAX_POSITIONS (1 << 20)
#define GT_CTX_DEFAULT_POSITIONS 2048
#define GT_CTX_DEFAULT_BATCH 256
#define GT_CTX_MAX_BATCH 4096
#define GT_CTX_MAX_SEQ 256 /* sequences (KV caches) one context may hold */

typedef enum gt_arch {
    GT_ARCH_LLAMA = 0,  /* incl. Llama 3.x: rope_freqs, linear rope scaling */
    GT_ARCH_QWEN2 = 1,  /* q/k/v biases, NEOX rope */
    GT_ARCH_QWEN3 = 2,  /* per-head q/k RMS norms, NEOX rope */
    GT_ARCH_GEMMA3 = 3, /* GELU, post-norms, embedding scale, sliding window */
    GT_ARCH_PHI3 = 4,   /* fused attn_qkv and gate|up matrices, q scaled before the dots */
} gt_arch;

/* Longest sliding window (ARCH.attention.sliding_window, in positions) a
 * file may declare: past the longest context, so any real window fits. */
#define GT_MODEL_MAX_SWA (1 << 20)

typedef struct gt_hparams {
    gt_arch arch;
    const char *arch_name;   /* "llama", "qwen2", "qwen3", "gemma3", "phi3" (static storage) */
    int n_vocab;             /* rows of token_embd.weight */
    int n_embd;              /* ARCH.embedding_length */
    int n_layer;             /* ARCH.block_count */
    int n_head, n_head_kv;   /* ARCH.attention.head_count(_kv) */
    int n_ff;                /* ARCH.feed_forward_length */
    int head_dim;            /* ARCH.attention.key_length (default n_embd / n_head) */
    int q_dim;               /* n_head * head_dim: width of q and of the attention output */
    int rope_dims;           /* ARCH.rope.dimension_count (default head_dim) */
    int rope_neox;           /* 1: rotate halves (qwen2/3, gemma3); 0: adjacent pairs (llama) */
    int n_ctx_train;         /* ARCH.context_length */
    float rope_base;         /* ARCH.rope.freq_base (default 10000) */
    float rope_scale;        /* 1 / ARCH.rope.scaling.factor for linear scaling, else 1 */
    int rope_orig_ctx;       /* ARCH.rope.scaling.original_context_length (default n_ctx_train): a context
                                longer than this takes phi3's long LongRoPE factors, as in llama.cpp */
    float rope_attn_factor;  /* ARCH.rope.scaling.attn_factor (default 1): cos and sin are scaled by it */
    float rope_base_swa;     /* sliding-window layers' base (ARCH.rope.freq_base_swa, 10000) */
    float rms_eps;           /* ARCH.attention.layer_norm_rms_epsilon */
    int qk_norm;             /* 1: per-head RMS norms on q and k before rope (qwen3, gemma3) */
    int gemma;               /* 1: GELU FFN, post-attention/FFN norms, embeddings x sqrt(n_embd) */
    int q_prescale;          /* 1: q scaled before the dot products, not the scores (gemma3, phi3) */
    int n_swa;               /* ARCH.attention.sliding_window (0: none) */
    int swa_pattern;         /* ARCH.attention.sliding_window_pattern: every n-th layer global */
    float logit_softcap;     /* ARCH.final_logit_softcapping (0: none) */
    int tied_output;         /* 1 when the output matrix is token_embd.weight */
    uint32_t weight_type;    /* type of the attention matrices (for display) */
} gt_hparams;

/* Whether layer il attends within a sliding window (llama.cpp's pattern:
 * every swa_pattern-th layer, counting from 1, is global; 0: all slide). */
int gt_hparams_is_swa(const gt_hparams *hp, int il);

typedef struct gt_model gt_model;

/* Opens a GGUF file and loads the model in it. Caller frees with
 * gt_model_free. Errors name what was wrong: missing keys or tensors, shapes,
 * unsupported architectures or tensor types (by name). */
int gt_model_load(const char *path, gt_model **out, gt_err *err);
/* Loads from an already open file; the model takes ownership of g (closing
 * it when freed, or at once on failure). */
int gt_model_from_gguf(gt_gguf *g, gt_model **out, gt_err *err);
void gt_model_free(gt_model *m); /* accepts NULL */

const gt_hparams *gt_model_hparams(const gt_model *m);
/* The open file behind the model (for the tokenizer and metadata); owned by
 * the model. */
const gt_gguf *gt_model_gguf(const gt_model *m);
/* Weight bytes one decoded token streams from memory (all matrices, in the
 * packed layout; the embedding row is negligible). */
size_t gt_model_weight_bytes(const gt_model *m);
/* Parameter count (elements of every weight tensor in the file). */
uint64_t gt_model_n_params(const gt_model *m);

/* --- contexts ------------------------------------------------------------- */

typedef struct gt_ctx_params {
    int n_ctx;      /* positions in the KV cache; 0: min(n_ctx_train, 2048) */
    int n_threads;  /* 0: 1 */
    int n_batch;    /* tokens per forward pass; 0: GT_CTX_DEFAULT_BATCH */
    int n_seq;      /* sequences, each with its own KV cache of n_ctx positions; 0: 1 */
    const struct gt_kern *kern; /* kernel table (tests); NULL: gt_kern_best() */
} gt_ctx_params;

typedef struct gt_ctx gt_ctx;

/* Makes a context (KV cache, scratch, pool). Caller frees with gt_ctx_free;
 * the model must outlive it. */
int gt_ctx_new(const gt_model *m, const gt_ctx_params *p, gt_ctx **out, gt_err *err);
void gt_ctx_free(gt_ctx *c); /* accepts NULL */
int gt_ctx_n_ctx(const gt_ctx *c);
/* Positions currently held in the KV cache (of sequence 0). */
int gt_ctx_n_past(const gt_ctx *c);
int gt_ctx_seq_n_past(const gt_ctx *c, int seq);
int gt_ctx_n_seq(const gt_ctx *c);
int gt_ctx_n_batch(const gt_ctx *c); /* tokens one gt_ctx_eval_batch may take */
const gt_model *gt_ctx_model(const gt_ctx *c);

#define GT_EVAL_LAST 0 /* logits for the last token only: n_vocab floats */
#define GT_EVAL_ALL 1  /* logits for every token: n * n_vocab floats, row t for token t */
#define GT_EVAL_HIDDEN 2 /* final hidden states (after the output norm) of every token:
                          * n * n_embd floats, row t for token t (embeddings) */

/* Evaluates tokens[0..n) at positions pos..pos+n-1 (batched: one pass over
 * the weights per GT_CTX batch), appending their keys and values to the
 * cache, and writes logits (see GT_EVAL_*; logits may be NULL to only fill
 * the cache). pos may be below gt_ctx_n_past to rewind (the cache past pos
 * is dropped) but not above it. Fails without changing anything when a token
 * is out of the vocabulary or the context would overflow. */
int gt_ctx_eval(gt_ctx *c, const int32_t *tokens, int n, int pos, float *logits, int which,
                gt_err *err);
/* The same on sequence seq of a context of several. */
int gt_ctx_eval_seq(gt_ctx *c, int seq, const int32_t *tokens, int n, int pos, float *logits, int which,
                    gt_err *err);

/* One token of a mixed batch (continuous batching): its sequence, its
 * position there, and whether its logits are wanted. */
typedef struct gt_ctx_item {
    int32_t token;
    int seq, pos;
    int logits;
} gt_ctx_item;

/* Evaluates n (1..gt_ctx_n_batch) tokens of any sequences in one pass over
 * the weights. A sequence's tokens must come in order at consecutive
 * positions, the first at most at what it holds (rewinding it there). Writes
 * n_vocab logits per item that asks, in item order. A token's logits and
 * cached keys/values are the same bytes as when it is evaluated alone with
 * gt_ctx_eval_seq (batch invariance). Fails without changing anything on a
 * bad item. */
int gt_ctx_eval_batch(gt_ctx *c, const gt_ctx_item *items, int n, float *logits, gt_err *err);
/* Copies the first n_pos cached positions of sequence src into dst (a
 * shared prompt prefix), leaving dst holding n_pos. */
int gt_ctx_seq_copy(gt_ctx *c, int dst, int src, int n_pos, gt_err *err);

#endif
