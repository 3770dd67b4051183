/* oai.h: the agent's client of an OpenAI-compatible inference server
 * (`gotong serve`, another agent's or a node's), so a worker can rent
 * inference and a verifier can re-execute on any server running the same
 * weights.
 *
 *   gt_oai *o;
 *   gt_oai_new("http://127.0.0.1:8080/v1", NULL, 0, &o, &err);
 *   gt_oai_check_model(o, "sha256:...", &err);     // the weights the work names
 *   gt_oai_complete_ids(o, ids, n, 32, n_vocab, &tokens, &err);
 *
 * Everything that decides the bytes travels in the request: the prompt as
 * token ids (tokenized by the agent, so server and agent cannot tokenize
 * differently), greedy decoding spelled out (temperature 0, top_k 0, top_p
 * 1, min_p 0, repeat_penalty 1), seed 0, max_tokens, no stop strings, and
 * "return_tokens": true (llama-server's extension, which gotong serve
 * implements) so the exact generated ids come back.
 *
 * Fail closed: a transport error, a timeout, a non-2xx status, a body over
 * the limit, malformed JSON, a missing or out-of-range token id, more tokens
 * than asked, an answer cut short by the server's context, or a server whose
 * model is not the named file's bytes is an error naming the URL and what
 * was wrong, never a result. */
#ifndef GT_AGENT_OAI_H
#define GT_AGENT_OAI_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "infer/sampler.h"

#define GT_OAI_URL_MAX 512                   /* base URL, bytes */
#define GT_OAI_MODEL_MAX 256                 /* a model's name, bytes */
#define GT_OAI_RESPONSE_MAX (4 * 1024 * 1024) /* one answer's body */
#define GT_OAI_MAX_MODELS 256                /* entries of /v1/models looked through */
#define GT_OAI_DEFAULT_TIMEOUT_MS 300000     /* one request, whole (a long completion on a busy CPU) */
#define GT_OAI_CONNECT_TIMEOUT_MS 5000

typedef struct gt_oai gt_oai;

/* A client of the server at base_url ("http(s)://HOST:PORT/v1": the prefix
 * the OpenAI paths go under). model: the name to ask for; NULL: the entry of
 * /v1/models whose "sha256" is the id gt_oai_check_model is given.
 * timeout_ms: per request (0: GT_OAI_DEFAULT_TIMEOUT_MS). Sends nothing yet.
 * Caller frees with gt_oai_free. */
int gt_oai_new(const char *base_url, const char *model, uint64_t timeout_ms, gt_oai **out, gt_err *err);
void gt_oai_free(gt_oai *o); /* accepts NULL */
const char *gt_oai_url(const gt_oai *o);
/* The model asked for (NULL until named or found by gt_oai_check_model). */
const char *gt_oai_model(const gt_oai *o);

/* Rents the inference it asks for (x402 v2, agent/pay.h): an answer 402
 * is paid from p, within what is left of its budget, and the request sent
 * once more with PAYMENT-SIGNATURE; the paid answer must be 2xx and carry
 * PAYMENT-RESPONSE, else it is an error (the payment counted spent either
 * way). p is borrowed; NULL (the default): a 402 is an error, nothing paid. */
struct gt_agent_payer;
struct gt_agent_paid;
void gt_oai_set_payer(gt_oai *o, struct gt_agent_payer *p);
/* What the last request paid (paid 0: nothing). */
const struct gt_agent_paid *gt_oai_last_paid(const gt_oai *o);

/* GET {base}/models: the model must be listed with "sha256" equal to
 * want_id ("sha256:<hex>" of the GGUF file); a server that does not say
 * which bytes it runs is refused. Without a name, takes the entry whose
 * "sha256" matches. */
int gt_oai_check_model(gt_oai *o, const char *want_id, gt_err *err);

/* POST {base}/completions: greedy continuation of prompt[0..n_prompt) (ids
 * of a vocabulary of n_vocab) for up to max_tokens (>= 1) tokens; appends
 * the generated ids (int32 each, the end-of-generation token not included)
 * to tokens. Fewer than max_tokens only when the model ended its answer
 * (finish_reason "stop"). tokens is unchanged on error. */
int gt_oai_complete_ids(gt_oai *o, const int32_t *prompt, size_t n_prompt, int max_tokens, int n_vocab,
                        gt_buf *tokens, gt_err *err);

/* The same with sampling: temperature, top_k, top_p, min_p, repeat_penalty
 * and seed (sent as the int64 of the same bits) spelled out from sp, the
 * server's sampler being this engine's (infer/sampler.h). A repetition
 * penalty over another window than the default is refused (the API has no
 * field for it). */
int gt_oai_generate_ids(gt_oai *o, const int32_t *prompt, size_t n_prompt, const gt_sampler_params *sp,
                        int max_tokens, int n_vocab, gt_buf *tokens, gt_err *err);

/* POST {base}/completions with "echo": true, "logprobs": 0, "max_tokens": 0
 * (scoring a prompt, as lm-evaluation-harness asks an OpenAI server):
 * lp[t - from] gets the log-probability of ids[t] after ids[0..t) for t in
 * [from, n) (1 <= from < n). Each must be a finite number <= 0; the server
 * must send exact doubles (gotong serve does: work/llm.h's formula), which
 * the caller's checks (a verifier's re-run on another server) rely on. */
int gt_oai_logprobs(gt_oai *o, const int32_t *ids, size_t n, size_t from, double *lp, gt_err *err);

#endif
