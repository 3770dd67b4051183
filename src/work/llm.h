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

/* Another place the model runs (an agent renting inference from a server
 * over the OpenAI API, agent/oai.h). When a gt_llm has one, every model
 * call of the work layer goes through it instead of the in-process engine
 * and must give the same bytes; the local context then only bounds
 * lengths, so a request refused in-process is refused remotely too. An
 * error names the server and what was wrong: never a result. */
typedef struct gt_llm_remote {
    void *arg;
    /* Appends to tokens (int32 each) the ids gt_generate would make after
     * ids[0..n) with p's sampling, at most max_tokens (>= 1) of them, the
     * end-of-generation token not included. */
    int (*generate)(void *arg, const int32_t *ids, size_t n, const gt_sampler_params *p, int max_tokens,
                    gt_buf *tokens, gt_err *err);
    /* lp[t - from] = log P(ids[t] | ids[0..t)) for t in [from, n), computed
     * as gt_llm_logprobs does (1 <= from < n). */
    int (*logprobs)(void *arg, const int32_t *ids, size_t n, size_t from, double *lp, gt_err *err);
} gt_llm_remote;

typedef struct gt_llm {
    gt_model *model;
    gt_tokenizer *tok;
    gt_ctx *ctx;
    uint8_t id[32];     /* sha256 of the GGUF file */
    int n_threads;
    int32_t *ids;       /* scratch for tokenised text */
    size_t ids_cap;
    const gt_llm_remote *remote; /* NULL: the model runs here; borrowed */
    /* The generations run here (gt_llm_gen without a remote): their time,
     * prompt evaluation included, and tokens (a call that made none counts
     * one), so an owner can tell its time a token (agent/agent_model.c). */
    uint64_t local_us, local_tokens;
    /* The prompt evaluations run here (a generation's prompt, a judge's
     * look at the next token): their time and tokens, a prompt token's time
     * (several times below a generated one's: the tokens go in one batch). */
    uint64_t prompt_us, prompt_tokens;
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

/* gt_generate on l's context, or through l->remote: the same tokens. cb
 * (may be NULL) sees each token; remotely its logits are NULL (the tokens
 * come first and are replayed through cb, which stops them as it would
 * have stopped the engine). keep_eog is refused remotely. */
int gt_llm_gen(gt_llm *l, const int32_t *ids, int n, const gt_gen_params *p, gt_gen_cb cb, void *user,
               gt_gen_result *res, gt_err *err);

/* Log-probabilities of ids[from..n) each after the ids before it (1 <= from
 * < n <= the context): lp[t - from] = logit(ids[t]) - max - log(sum over
 * the vocabulary of exp(logit - max)), in double, summed in index order
 * with infer/dmath (the same bits on every machine and thread count). ids
 * may point into l's tokenizer scratch. */
int gt_llm_logprobs(gt_llm *l, const int32_t *ids, size_t n, size_t from, double *lp, gt_err *err);

/* The log-softmax normaliser of one row of logits: *mx its largest value
 * and *log_z = log(sum over v of exp(row[v] - mx)), in double, summed in
 * index order with infer/dmath. A token's log-probability is then
 * (double)row[t] - mx - log_z (gotong serve's prompt scoring uses this very
 * function, so an agent renting inference gets the same bits). */
void gt_llm_row_norm(const float *row, int n_vocab, double *mx, double *log_z);

/* Log-probabilities of each of cands[0..k) as the token after ids[0..n)
 * (n <= the context), by gt_llm_logprobs's formula: one evaluation here,
 * k scorings of ids + cand remotely. */
int gt_llm_next_logprobs(gt_llm *l, const int32_t *ids, size_t n, const int32_t *cands, int k, double *lp,
                         gt_err *err);

/* "sha256:<hex>" of a 32-byte hash into out (72 bytes). */
void gt_llm_id_str(const uint8_t id[32], char out[72]);

#endif
