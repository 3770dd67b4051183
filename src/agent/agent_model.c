/* agent_model.c: the model side of an agent: loading a GGUF once for every
 * agent that shares it, naming it by the SHA-256 of the file (what cards and
 * specs carry, so a validator knows it runs the very same weights), and the
 * greedy completion the skills build on. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "agent/agent_impl.h"
#include "base/alloc.h"
#include "base/progress.h"
#include "crypto/keccak.h"
#include "infer/generate.h"
#include "store/blob.h"
#include "work/llm.h"

/* SHA-256 of a whole file, streamed (models are gigabytes). */
static int hash_file(const char *path, uint8_t out[32], gt_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return gt_err_set(err, GT_EIO, "cannot open %s to hash it", path);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t *buf = gt_malloc(1 << 20);
    int rc = 0;
    if (!md || !buf || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        goto out;
    }
    size_t n;
    while ((n = fread(buf, 1, 1 << 20, f)) > 0) EVP_DigestUpdate(md, buf, n);
    if (ferror(f)) {
        rc = gt_err_set(err, GT_EIO, "reading %s failed", path);
        goto out;
    }
    unsigned len = 32;
    EVP_DigestFinal_ex(md, out, &len);
out:
    gt_free(buf);
    EVP_MD_CTX_free(md);
    fclose(f);
    return rc;
}

int gt_agent_file_id(const char *path, char id[72], gt_err *err) {
    uint8_t h[32];
    int rc = hash_file(path, h, err);
    if (!rc) gt_blob_id_format(h, id);
    return rc;
}

int gt_agent_model_load(const char *path, gt_agent_model **out, gt_err *err) {
    *out = NULL;
    gt_agent_model *m = gt_calloc(1, sizeof *m);
    if (!m) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc;
    if ((rc = hash_file(path, m->hash, err)) || (rc = gt_model_load(path, &m->model, err)) ||
        (rc = gt_tokenizer_load(gt_model_gguf(m->model), &m->tok, err))) {
        gt_agent_model_free(m);
        return rc;
    }
    gt_blob_id_format(m->hash, m->id);
    *out = m;
    return 0;
}

void gt_agent_model_free(gt_agent_model *m) {
    if (!m) return;
    gt_tokenizer_free(m->tok);
    gt_model_free(m->model);
    gt_free(m);
}

const char *gt_agent_model_id(const gt_agent_model *m) { return m->id; }
const uint8_t *gt_agent_model_hash(const gt_agent_model *m) { return m->hash; }

/* The generated ids of prompt ids[0..n_ids) in-process: greedy, n_predict
 * tokens or fewer when the model ends its answer. */
static int complete_local(gt_agent *a, const int32_t *ids, size_t n_ids, int n_predict, gt_buf *tokens, gt_err *err) {
    gt_gen_params gp = gt_gen_defaults();
    gp.n_predict = n_predict;
    gp.sampling.temp = 0; /* greedy: the one answer every honest re-run gives */
    gt_gen_result res = {0};
    int rc = gt_generate(a->ctx, a->model->tok, ids, (int)n_ids, &gp, NULL, NULL, &res, err);
    if (!rc && gt_buf_append(tokens, res.tokens, (size_t)res.n_tokens * sizeof(int32_t)))
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_gen_result_free(&res);
    return rc;
}

/* Checks once that the server runs this model's bytes (oai.h). */
static int remote_ready(gt_agent *a, gt_err *err) {
    if (a->oai_checked) return 0;
    int rc = gt_oai_check_model(a->oai, a->model->id, err);
    if (rc) return gt_err_wrap(err, "inference server");
    a->oai_checked = 1;
    gt_agent_logf(a, "inference over %s/completions, model \"%s\" (%.20s…)", gt_oai_url(a->oai), gt_oai_model(a->oai),
                  a->model->id);
    return 0;
}

/* The same over the OpenAI API (oai.h): the server is checked once to run
 * this model's bytes; the request carries the ids and every sampling choice. */
static int complete_remote(gt_agent *a, const int32_t *ids, size_t n_ids, int n_predict, gt_buf *tokens,
                           gt_err *err) {
    int rc = remote_ready(a, err);
    if (rc) return rc;
    int n_vocab = gt_tokenizer_n_vocab(a->model->tok);
    if ((rc = gt_oai_complete_ids(a->oai, ids, n_ids, n_predict, n_vocab, tokens, err)))
        return gt_err_wrap(err, "inference server");
    return 0;
}

/* The work layer's model calls (work/llm.h's gt_llm_remote) over the API:
 * data generation, judging and spot checks (`generate`), benchmark
 * scoring (`eval`). */
static int llm_remote_generate(void *arg, const int32_t *ids, size_t n, const gt_sampler_params *p, int max_tokens,
                               gt_buf *tokens, gt_err *err) {
    gt_agent *a = arg;
    int rc = remote_ready(a, err);
    if (rc) return rc;
    int n_vocab = gt_tokenizer_n_vocab(a->model->tok);
    size_t had = tokens->len;
    double t0 = gt_now_s();
    if ((rc = gt_oai_generate_ids(a->oai, ids, n, p, max_tokens, n_vocab, tokens, err)))
        return gt_err_wrap(err, "inference server");
    ag_token_took(a, t0, (tokens->len - had) / sizeof(int32_t));
    return 0;
}

static int llm_remote_logprobs(void *arg, const int32_t *ids, size_t n, size_t from, double *lp, gt_err *err) {
    gt_agent *a = arg;
    int rc = remote_ready(a, err);
    if (rc) return rc;
    if ((rc = gt_oai_logprobs(a->oai, ids, n, from, lp, err))) return gt_err_wrap(err, "inference server");
    return 0;
}

int gt_agent_complete(gt_agent *a, const char *prompt, size_t prompt_len, int n_predict, gt_buf *tokens,
                      gt_buf *text, gt_err *err) {
    if (!a->model) return gt_err_set(err, GT_EUNSUPPORTED, "%s runs no model", a->name);
    if (n_predict < 0 || n_predict > GT_AGENT_MAX_PREDICT)
        return gt_err_set(err, GT_ELIMIT, "n_predict must be 0..%d, got %d", GT_AGENT_MAX_PREDICT, n_predict);
    if (prompt_len > GT_AGENT_PROMPT_MAX_BYTES)
        return gt_err_set(err, GT_ELIMIT, "prompt of %zu bytes is over the limit of %d", prompt_len,
                          GT_AGENT_PROMPT_MAX_BYTES);
    if (!a->ctx && !a->oai) {
        gt_ctx_params cp = {.n_ctx = GT_AGENT_CTX_POSITIONS, .n_threads = a->n_threads};
        int rc = gt_ctx_new(a->model->model, &cp, &a->ctx, err);
        if (rc) return rc;
    }
    /* A SentencePiece prompt may take a token per byte plus BOS/EOS. */
    size_t cap = prompt_len + 8, n_ids = 0;
    int32_t *ids = gt_malloc(cap * sizeof *ids);
    if (!ids) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_buf gen = GT_BUF_INIT;
    int rc = gt_tokenize(a->model->tok, prompt, prompt_len, 1, 0, ids, cap, &n_ids, err);
    if (rc) goto out;
    if (n_ids == 0) {
        rc = gt_err_set(err, GT_EINVAL, "the prompt gives no tokens");
        goto out;
    }
    /* The same bound in-process and over HTTP, so both refuse the same work. */
    if ((int)n_ids + n_predict > GT_AGENT_CTX_POSITIONS) {
        rc = gt_err_set(err, GT_ELIMIT, "prompt of %zu tokens plus %d to generate does not fit the context of %d",
                        n_ids, n_predict, GT_AGENT_CTX_POSITIONS);
        goto out;
    }
    double t0 = gt_now_s();
    if (n_predict > 0)
        rc = a->oai ? complete_remote(a, ids, n_ids, n_predict, &gen, err)
                    : complete_local(a, ids, n_ids, n_predict, &gen, err);
    if (rc) goto out;
    if (n_predict > 0) ag_token_took(a, t0, gen.len / sizeof(int32_t));
    const int32_t *g = (const int32_t *)(const void *)gen.data;
    size_t n_gen = gen.len / sizeof(int32_t);
    if ((tokens && gt_buf_append(tokens, g, n_gen * sizeof(int32_t))) ||
        (text && (rc = gt_detokenize(a->model->tok, g, n_gen, 0, 0, text, err)))) {
        if (!rc) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    }
out:
    gt_buf_free(&gen);
    gt_free(ids);
    return rc;
}

uint64_t ag_token_us(const gt_agent *a) {
    /* With the work layer's model running here, its generations (generate
     * and eval work, spot re-runs) are timed by the gt_llm itself: a
     * generate-only agent had no measure at all. A rented server's calls
     * are timed in llm_remote_generate, so nothing is counted twice. */
    uint64_t us_all = a->gen_us, tokens = a->gen_tokens;
    if (a->llm && !a->llm->remote) us_all += a->llm->local_us, tokens += a->llm->local_tokens;
    if (!tokens) return 0;
    uint64_t us = us_all / tokens;
    return us ? us : 1;
}

uint64_t ag_prompt_us(const gt_agent *a) {
    /* Measured where the model runs here; a rented server's prompt time is
     * folded into its generated tokens' (llm_remote_generate), so it takes
     * that, which is more. */
    if (a->llm && !a->llm->remote && a->llm->prompt_tokens) {
        uint64_t us = a->llm->prompt_us / a->llm->prompt_tokens;
        return us ? us : 1;
    }
    return ag_token_us(a);
}

int ag_token_probe(gt_agent *a, const char *prompt, size_t len, int n, gt_err *err) {
    assert(n >= 1);
    if (ag_token_us(a)) return 0;
    gt_llm *llm = gt_agent_llm(a, err);
    if (!llm) return err->code;
    gt_buf out = GT_BUF_INIT;
    gt_gen_params gp = gt_gen_defaults();
    gp.n_predict = n, gp.sampling.temp = 0;
    int rc = gt_llm_generate(llm, prompt, len, &gp, &out, NULL, err);
    gt_buf_free(&out);
    return rc ? gt_err_wrap(err, "timing this agent's model before a claim") : 0;
}

/* Why a call that generated nothing counts as one token: its time (a
 * prompt evaluated, an answer ended at once) is spent all the same. */
void ag_token_took(gt_agent *a, double t0, size_t n) {
    double us = (gt_now_s() - t0) * 1e6;
    a->gen_us += us > 0 ? (uint64_t)us : 0;
    a->gen_tokens += n ? n : 1;
}

/* The work layer's gt_llm over the shared weights: its model and tokenizer
 * are borrowed (llm.h has no constructor for an already-loaded model, so the
 * public fields are filled here and ag_llm_free frees only what is ours:
 * the context and the tokenizer scratch). */
struct gt_llm *gt_agent_llm(gt_agent *a, gt_err *err) {
    if (!a->model) {
        gt_err_set(err, GT_EUNSUPPORTED, "%s runs no model", a->name);
        return NULL;
    }
    if (a->llm) return a->llm;
    gt_llm *l = gt_calloc(1, sizeof *l);
    if (!l) {
        gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    l->model = a->model->model;
    l->tok = a->model->tok;
    memcpy(l->id, a->model->hash, 32);
    l->n_threads = a->n_threads;
    int n_ctx = GT_LLM_DEFAULT_CTX, train = gt_model_hparams(l->model)->n_ctx_train;
    if (train > 0 && n_ctx > train) n_ctx = train;
    gt_ctx_params cp = {.n_ctx = n_ctx, .n_threads = a->n_threads};
    /* With a model server the context only bounds lengths (llm.h): it is
     * made all the same so both paths refuse the same requests. */
    if (gt_ctx_new(l->model, &cp, &l->ctx, err)) {
        gt_free(l);
        return NULL;
    }
    if (a->oai) {
        a->llm_remote = (gt_llm_remote){.arg = a, .generate = llm_remote_generate, .logprobs = llm_remote_logprobs};
        l->remote = &a->llm_remote;
    }
    a->llm = l;
    return l;
}

void ag_llm_free(struct gt_llm *l) {
    if (!l) return;
    gt_ctx_free(l->ctx);
    gt_free(l->ids);
    gt_free(l);
}

uint64_t gt_agent_secret_seed(const gt_agent *a, const uint8_t what[32]) {
    uint8_t buf[64], h[32];
    memcpy(buf, a->key.priv, 32);
    memcpy(buf + 32, what, 32);
    gt_keccak256(buf, sizeof buf, h);
    memset(buf, 0, sizeof buf);
    uint64_t s = 0;
    for (int i = 0; i < 8; i++) s = s << 8 | h[i];
    return s;
}

/* Inference over HTTP when the config names a model URL: the client, made
 * now (nothing is sent until the first completion). */
int ag_remote_model(gt_agent *a, const gt_agent_config *cfg, gt_err *err) {
    if (!cfg->model_url)
        return cfg->model_budget_units ? gt_err_set(err, GT_EINVAL, "a budget for rented inference needs a model URL")
                                       : 0;
    if (!cfg->model)
        return gt_err_set(err, GT_EINVAL, "a model URL needs the model file too (its sha256 names the weights the "
                                          "server must run, and its tokenizer makes the prompt's ids)");
    int rc = gt_oai_new(cfg->model_url, cfg->model_name, cfg->model_timeout_ms, &a->oai, err);
    if (rc || !cfg->model_budget_units) return rc;
    /* Paid from the agent's account on its own node's ledger (the payer refuses an offer on any other). */
    a->payer = (gt_agent_payer){.key = &a->key, .budget = cfg->model_budget_units, .ledger = a->client};
    gt_oai_set_payer(a->oai, &a->payer);
    return 0;
}

uint64_t gt_agent_model_spent(const gt_agent *a) { return a->payer.spent; }
