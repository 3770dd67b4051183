/* llm.h: a local model ready for the work layer: the GGUF model, its
 * tokenizer, one evaluation context, and the model's id (the SHA-256 of the
 * file's bytes, "sha256:<hex>", which is how samples, attestations and job
 * specs name a model). Data workers generate with it, validators judge and
 * re-execute with it, evaluators score benchmarks with it.
 *
 * Everything here inherits the engine's determinism: the same model, text,
 * options and seed give the same bytes whatever the thread count. A gt_llm
 * is used by one thread at a time (its context is mutable). */
#ifndef GT_WORK_LLM_H
#define GT_WORK_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "infer/generate.h"
#include "infer/model.h"
#include "infer/tokenizer.h"

#define GT_LLM_DEFAULT_CTX 2048

typedef struct gt_llm {
    gt_model *model;
    gt_tokenizer *tok;
    gt_ctx *ctx;
    uint8_t id[32];     /* sha256 of the GGUF file */
    int n_threads;
    int32_t *ids;       /* scratch for tokenised text */
    size_t ids_cap;
} gt_llm;

/* SHA-256 of a file's bytes (read through a mapping, any size). */
int gt_llm_file_id(const char *path, uint8_t out[32], gt_err *err);

/* Loads path with n_threads (>= 1) and a context of n_ctx positions (0:
 * GT_LLM_DEFAULT_CTX, capped by the model). Free with gt_llm_free. */
int gt_llm_open(const char *path, int n_threads, int n_ctx, gt_llm **out, gt_err *err);
void gt_llm_free(gt_llm *l); /* accepts NULL */

/* Tokenises text (BOS as the vocabulary asks when add_special; control-token
 * texts are NOT parsed, so text from outside cannot inject them) into the
 * llm's scratch: *ids points at it until the next call. */
int gt_llm_tokenize(gt_llm *l, const char *text, size_t len, int add_special, const int32_t **ids, size_t *n,
                    gt_err *err);

/* Generates after prompt with the given parameters (the sampler seed is in
 * p->sampling.seed) and appends the text, as valid UTF-8 (stray bytes become
 * U+FFFD, NUL bytes are dropped), to out. *n_tokens (may be NULL) gets the generated count. */
int gt_llm_generate(gt_llm *l, const char *prompt, size_t len, const gt_gen_params *p, gt_buf *out,
                    int *n_tokens, gt_err *err);

/* "sha256:<hex>" of a 32-byte hash into out (72 bytes). */
void gt_llm_id_str(const uint8_t id[32], char out[72]);

#endif
