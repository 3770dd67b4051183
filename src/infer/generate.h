/* generate.h: text generation: evaluate a prompt, then sample and evaluate
 * one token at a time, handing each token to a callback as it comes.
 *
 *   gt_gen_params gp = gt_gen_defaults();
 *   gp.n_predict = 64;
 *   gt_gen_result res;
 *   rc = gt_generate(ctx, tok, prompt_ids, n_prompt, &gp, on_token, user, &res, &err);
 *   ... res.tokens[0..res.n_tokens) ...
 *   gt_gen_result_free(&res);
 *
 * The prompt is evaluated as one batch from position 0 (the context is
 * rewound). Generation stops after n_predict tokens, at an end-of-generation
 * token (not passed on, unless keep_eog), when the context is full, or when
 * the callback returns non-zero. With a seeded sampler the result is the same
 * on every run and thread count. */
#ifndef GT_INFER_GENERATE_H
#define GT_INFER_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "infer/model.h"
#include "infer/sampler.h"
#include "infer/tokenizer.h"

typedef struct gt_gen_params {
    int n_predict;               /* tokens to generate at most */
    gt_sampler_params sampling;
    int keep_eog;                /* 1: pass the end-of-generation token on and keep going */
} gt_gen_params;

gt_gen_params gt_gen_defaults(void); /* 128 tokens, gt_sampler_defaults() */

/* What the callback sees for each generated token. piece/logits are valid
 * during the call only. */
typedef struct gt_gen_step {
    int index;            /* 0 for the first generated token */
    int32_t token;
    const char *piece;    /* its bytes (may be part of a UTF-8 character) */
    size_t piece_len;
    const float *logits;  /* the n_vocab logits it was sampled from */
    int n_vocab;
} gt_gen_step;

/* Returns 0 to go on, non-zero to stop. */
typedef int (*gt_gen_cb)(void *user, const gt_gen_step *step);

typedef struct gt_gen_result {
    int32_t *tokens;       /* generated ids; free with gt_gen_result_free */
    int n_tokens;
    int n_prompt;
    double prompt_ms, gen_ms; /* prompt evaluation; sampling + evaluating the rest */
    int stopped_by_eog;
} gt_gen_result;

/* Generates after prompt[0..n_prompt) (n_prompt >= 1). cb may be NULL. On
 * failure res holds what was generated before it (freed the same way). */
int gt_generate(gt_ctx *ctx, const gt_tokenizer *tok, const int32_t *prompt, int n_prompt,
                const gt_gen_params *p, gt_gen_cb cb, void *user, gt_gen_result *res, gt_err *err);
void gt_gen_result_free(gt_gen_result *res);

/* Monotonic milliseconds (for timings). */
double gt_gen_now_ms(void);

#endif
