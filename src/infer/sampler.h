/* sampler.h: choosing the next token from logits.
 *
 * The chain, in llama.cpp's default order: repetition penalty over the last
 * repeat_last_n accepted tokens, then (when temp > 0) top-k, top-p, min-p,
 * temperature and a draw from a seeded xoshiro256** generator; temp <= 0 is
 * greedy (argmax after the penalty). Everything is deterministic: the same
 * logits, history and seed give the same token on any machine (ties broken
 * by the lower id; the cumulative sum runs in a fixed order, in double). */
#ifndef GT_INFER_SAMPLER_H
#define GT_INFER_SAMPLER_H

#include <stdint.h>

#include "base/err.h"

#define GT_SAMPLER_MAX_TOP_K 100000
#define GT_SAMPLER_MAX_LAST_N 65536

typedef struct gt_sampler_params {
    float temp;            /* <= 0: greedy */
    int top_k;             /* <= 0: off */
    float top_p;           /* >= 1: off */
    float min_p;           /* <= 0: off */
    float repeat_penalty;  /* 1: off */
    int repeat_last_n;     /* tokens of history the penalty looks at */
    uint64_t seed;
} gt_sampler_params;

/* llama.cpp's defaults: temp 0.8, top-k 40, top-p 0.95, min-p 0.05, no
 * repetition penalty (window 64), seed 0. */
gt_sampler_params gt_sampler_defaults(void);

typedef struct gt_sampler gt_sampler;

/* Checks the parameters (clear error naming the bad one) and makes a
 * sampler for n_vocab logits. Caller frees with gt_sampler_free. */
int gt_sampler_new(const gt_sampler_params *p, int n_vocab, gt_sampler **out, gt_err *err);
void gt_sampler_free(gt_sampler *s); /* accepts NULL */

/* Picks a token from logits[0..n_vocab) (not modified). */
int32_t gt_sampler_sample(gt_sampler *s, const float *logits);
/* Records a token in the history the repetition penalty uses. */
void gt_sampler_accept(gt_sampler *s, int32_t token);
/* Forgets the history and restarts the generator from the seed. */
void gt_sampler_reset(gt_sampler *s);

#endif
