/* trainer.h: a llama-architecture model being trained, in f32: its weights,
 * their gradients and AdamW moments, the activations of one micro-batch, the
 * forward and backward pass, the optimizer step and writing the model as a
 * GGUF file that gt_model_load (and llama.cpp) reads.
 *
 * The model is the engine's llama: token embedding, L blocks of (RMSNorm,
 * attention with RoPE on adjacent pairs and grouped KV heads, residual,
 * RMSNorm, SwiGLU feed-forward, residual), a final RMSNorm and an untied
 * output matrix.
 *
 * Determinism: the weights after any sequence of steps are the same bytes
 * whatever the thread count (ops.h says how), run to run and machine to
 * machine with IEEE f32/f64 (the layer is compiled with -ffp-contract=off and
 * uses no libm transcendental: dmath.h, gt_kern_expf). */
#ifndef GT_TRAIN_TRAINER_H
#define GT_TRAIN_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "infer/gguf.h"

/* Limits on shapes (checked by gt_trainer_new before any allocation). */
#define GT_TRAIN_MAX_DIM 4096
#define GT_TRAIN_MAX_LAYERS 64
#define GT_TRAIN_MAX_FF 16384
#define GT_TRAIN_MAX_VOCAB (1 << 20)
#define GT_TRAIN_MAX_SEQ 4096
#define GT_TRAIN_MAX_BATCH 1024
#define GT_TRAIN_MAX_PARAMS (1ull << 31) /* floats; 8 GiB of weights */

typedef struct gt_train_hparams {
    int n_vocab;
    int dim;        /* a multiple of 32 (the engine's kernels) */
    int n_layer;
    int n_head, n_head_kv; /* dim / n_head a multiple of 16; n_head % n_head_kv == 0 */
    int n_ff;       /* a multiple of 32 */
    int seq_len;    /* T: positions per sequence */
    int batch;      /* B: sequences per micro-batch */
    float rope_base;   /* 0: 10000 */
    float rms_eps;     /* 0: 1e-5 */
    float init_std;    /* 0: 0.02; matrices are normal(0, std), norms 1 */
    uint64_t seed;     /* of the initial weights */
} gt_train_hparams;

/* AdamW with linear warmup then cosine decay to min_lr at total_steps. */
typedef struct gt_train_opt {
    float lr, min_lr;
    int warmup_steps, total_steps;
    float beta1, beta2, eps;
    float weight_decay; /* on matrices, not on norms */
    float clip_norm;    /* 0: no clipping of the global gradient norm */
} gt_train_opt;

/* The defaults above plus lr 1e-3, min_lr 1e-4, betas 0.9/0.95, eps 1e-8,
 * weight decay 0.1, clip 1.0, warmup 0 and total_steps 1. */
gt_train_opt gt_train_opt_default(void);
/* The learning rate of step (0-based): lr (step + 1) / warmup during the
 * warmup, then min_lr + (lr - min_lr) (1 + cos(pi progress)) / 2. */
double gt_train_lr(const gt_train_opt *o, int step);

typedef struct gt_trainer gt_trainer;

/* Makes a model with seeded random weights (hp checked; defaults filled) and
 * n_threads (1..GT_POOL_MAX_THREADS). Caller frees with gt_trainer_free. */
int gt_trainer_new(const gt_train_hparams *hp, int n_threads, gt_trainer **out, gt_err *err);
void gt_trainer_free(gt_trainer *t); /* accepts NULL */
const gt_train_hparams *gt_trainer_hparams(const gt_trainer *t);

/* The weights as one array of gt_trainer_n_params floats, in the order of
 * the GGUF's tensors (for hashing and comparing bytes). */
const float *gt_trainer_params(const gt_trainer *t);
size_t gt_trainer_n_params(const gt_trainer *t);
/* The accumulated gradients, laid out as the weights. */
const float *gt_trainer_grads(const gt_trainer *t);
int gt_trainer_step_count(const gt_trainer *t);

/* Forward pass of one micro-batch: tokens [batch][seq_len], ids below
 * n_vocab (checked). With targets (same shape; -1 skips a position) returns
 * the mean loss over the counted positions and keeps what backward needs;
 * without, leaves the logits [batch * seq_len][n_vocab] in
 * gt_trainer_logits and returns 0. GT_EINVAL for a bad token id. */
int gt_trainer_forward(gt_trainer *t, const int32_t *tokens, const int32_t *targets,
                       double *loss, gt_err *err);
const float *gt_trainer_logits(const gt_trainer *t);
/* Backward of the last forward (which had targets): adds the gradient of
 * loss_sum * scale (scale = 1 / positions counted over the accumulated
 * micro-batches) into the gradients. */
void gt_trainer_backward(gt_trainer *t, float scale);
/* One AdamW step with the accumulated gradients (clipped to o->clip_norm),
 * at the learning rate of the current step count; zeroes the gradients and
 * counts the step. *grad_norm (may be NULL) receives the norm before
 * clipping. */
void gt_trainer_step(gt_trainer *t, const gt_train_opt *o, double *grad_norm);

/* Writes the model as GGUF (f32 tensors, llama.cpp's names and keys), with
 * the tokenizer.* keys of vocab when vocab is not NULL. */
int gt_trainer_save_gguf(const gt_trainer *t, const gt_gguf *vocab, const char *name,
                         const char *path, gt_err *err);

/* Fine-tuning: a trainer whose shapes and weights are the llama model in g
 * (f32, f16, bf16, q8_0, q4_0, q4_k, q5_k or q6_k tensors, dequantized to
 * f32), with run's seq_len, batch and seed. Refused, saying why: another
 * architecture, experts, partial or scaled rope, other head sizes, a
 * tensor the trainer does not have, another type, a shape the trainer's
 * limits refuse, a non-finite weight.
 * A model without output.weight (tied to the embedding) gets a copy of the
 * embedding as its output matrix (*tied = 1; tied may be NULL). */
int gt_trainer_from_gguf(const gt_gguf *g, const gt_train_hparams *run, int n_threads, gt_trainer **out,
                         int *tied, gt_err *err);
/* Writes the fine-tuned model as gt_trainer_save_gguf does, keeping every
 * key of the base model's file (its vocabulary, name, context length and
 * the rest) but general.file_type, which says f32. */
int gt_trainer_save_gguf_like(const gt_trainer *t, const gt_gguf *base, const char *path, gt_err *err);

/* Checkpoints: the shapes, the step count, the weights and both AdamW
 * moments, as a GGUF file (keys train.*, tensors NAME, adam.m.NAME,
 * adam.v.NAME). Training resumed from one gives the same bytes as a run
 * that never stopped (the batches of a step depend only on the seed and the
 * step). Loading checks every shape and tensor against the limits above and
 * says what is wrong. */
int gt_trainer_save_checkpoint(const gt_trainer *t, const char *path, gt_err *err);
/* Loading reads the shapes and checks that the file's tensors hold the bytes
 * they imply (gt_trainer_checkpoint_peek) before any allocation: a small file
 * that claims large shapes cannot make a loader allocate and initialise them. */
int gt_trainer_load_checkpoint(const char *path, int n_threads, gt_trainer **out, gt_err *err);
/* A checkpoint's shapes (defaults filled) and step, read without making the
 * model: its keys checked against the limits above, and its tensors, all
 * f32, holding exactly the weights and two moments the shapes need. Memory
 * used: the file's mapping and its header, never the model's. */
int gt_trainer_checkpoint_peek(const char *path, gt_train_hparams *hp, int *step, gt_err *err);
/* Checks hp (defaults filled) as gt_trainer_new does, allocating nothing. */
int gt_trainer_shapes_check(gt_train_hparams *hp, gt_err *err);
/* Floats in the weights of a model of shapes hp (checked): what
 * gt_trainer_n_params will say. */
uint64_t gt_trainer_param_count(const gt_train_hparams *hp);
/* Bytes gt_trainer_new allocates for shapes hp (checked): weights,
 * gradients, both moments and every activation of one micro-batch. */
uint64_t gt_trainer_mem_bytes(const gt_train_hparams *hp);

#endif
