/* generate.c: the generation loop of generate.h. */
#include "infer/generate.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"

double gt_gen_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

gt_gen_params gt_gen_defaults(void) {
    gt_gen_params p = {.n_predict = 128, .sampling = gt_sampler_defaults()};
    return p;
}

void gt_gen_result_free(gt_gen_result *res) {
    if (!res) return;
    gt_free(res->tokens);
    memset(res, 0, sizeof *res);
}

/* Refuses logits that hold a NaN: a sampler would pick from them as if
 * they meant something and print garbage as a model's answer (a NaN or an
 * inf in the file's weights, or one the computation made). pos names the
 * position evaluated. */
static int check_logits(const float *logits, int n_vocab, int pos, gt_err *err) {
    for (int i = 0; i < n_vocab; i++)
        if (isnan(logits[i]))
            return gt_err_set(err, GT_EINVAL, "the model's logits at position %d hold NaN (token %d): expected "
                              "numbers; its weights hold a NaN or inf, or overflow", pos, i);
    return 0;
}

int gt_generate(gt_ctx *ctx, const gt_tokenizer *tok, const int32_t *prompt, int n_prompt,
                const gt_gen_params *p, gt_gen_cb cb, void *user, gt_gen_result *res, gt_err *err) {
    memset(res, 0, sizeof *res);
    const gt_hparams *hp = gt_model_hparams(gt_ctx_model(ctx));
    if (n_prompt < 1) return gt_err_set(err, GT_EINVAL, "generate: the prompt has no tokens");
    if (p->n_predict < 0) return gt_err_set(err, GT_EINVAL, "generate: n_predict %d < 0", p->n_predict);
    if (n_prompt >= gt_ctx_n_ctx(ctx))
        return gt_err_set(err, GT_ELIMIT, "prompt of %d tokens does not fit the context of %d",
                          n_prompt, gt_ctx_n_ctx(ctx));
    if (tok && gt_tokenizer_n_vocab(tok) > hp->n_vocab)
        return gt_err_set(err, GT_EINVAL, "tokenizer has %d tokens but the model only %d",
                          gt_tokenizer_n_vocab(tok), hp->n_vocab);
    gt_sampler *smp = NULL;
    int rc = gt_sampler_new(&p->sampling, hp->n_vocab, &smp, err);
    if (rc) return rc;
    float *logits = gt_malloc((size_t)hp->n_vocab * sizeof(float));
    res->tokens = gt_malloc(((size_t)p->n_predict + 1) * sizeof(int32_t));
    if (!logits || !res->tokens) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        goto done;
    }
    res->n_prompt = n_prompt;
    for (int i = 0; i < n_prompt; i++) gt_sampler_accept(smp, prompt[i]);
    double t0 = gt_gen_now_ms();
    rc = gt_ctx_eval(ctx, prompt, n_prompt, 0, logits, GT_EVAL_LAST, err);
    double t1 = gt_gen_now_ms();
    res->prompt_ms = t1 - t0;
    if (!rc) rc = check_logits(logits, hp->n_vocab, n_prompt - 1, err);
    if (rc) goto done;
    int pos = n_prompt;
    for (int i = 0; i < p->n_predict; i++) {
        int32_t t = gt_sampler_sample(smp, logits);
        if (tok && gt_tokenizer_is_eog(tok, t) && !p->keep_eog) {
            res->stopped_by_eog = 1;
            break;
        }
        res->tokens[res->n_tokens++] = t;
        gt_sampler_accept(smp, t);
        if (cb) {
            gt_gen_step st = {.index = i, .token = t, .logits = logits, .n_vocab = hp->n_vocab};
            st.piece = tok ? gt_token_to_piece(tok, t, 0, &st.piece_len) : NULL;
            if (!st.piece) st.piece = "", st.piece_len = 0;
            if (cb(user, &st)) break;
        }
        if (i + 1 == p->n_predict || pos >= gt_ctx_n_ctx(ctx)) break;
        if ((rc = gt_ctx_eval(ctx, &t, 1, pos, logits, GT_EVAL_LAST, err))) break;
        if ((rc = check_logits(logits, hp->n_vocab, pos, err))) break;
        pos++;
    }
    res->gen_ms = gt_gen_now_ms() - t1;
done:
    gt_free(logits);
    gt_sampler_free(smp);
    return rc;
}
