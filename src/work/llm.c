/* llm.c: loading a model for work, its file id, tokenising into scratch and
 * generating text (see llm.h). */
#include "work/llm.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "base/progress.h"
#include "crypto/sha256.h"
#include "infer/dmath.h"
#include "infer/unicode.h"

int gt_llm_file_id(const char *path, uint8_t out[32], gt_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gt_err_set(err, GT_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return gt_err_set(err, GT_EIO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        gt_sha256("", 0, out);
        close(fd);
        return 0;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return gt_err_set(err, GT_EIO, "%s: cannot map the file", path);
    gt_sha256(p, (size_t)st.st_size, out);
    munmap(p, (size_t)st.st_size);
    return 0;
}

void gt_llm_id_str(const uint8_t id[32], char out[72]) {
    memcpy(out, "sha256:", 7);
    gt_hex_encode(id, 32, out + 7);
}

int gt_llm_open(const char *path, int n_threads, int n_ctx, gt_llm **out, gt_err *err) {
    *out = NULL;
    gt_llm *l = gt_calloc(1, sizeof *l);
    if (!l) return gt_err_set(err, GT_ENOMEM, "out of memory");
    l->n_threads = n_threads < 1 ? 1 : n_threads;
    if (gt_llm_file_id(path, l->id, err) || gt_model_load(path, &l->model, err) ||
        gt_tokenizer_load(gt_model_gguf(l->model), &l->tok, err))
        goto fail;
    int train = gt_model_hparams(l->model)->n_ctx_train;
    if (n_ctx <= 0) n_ctx = GT_LLM_DEFAULT_CTX;
    if (train > 0 && n_ctx > train) n_ctx = train;
    gt_ctx_params cp = {.n_ctx = n_ctx, .n_threads = l->n_threads};
    if (gt_ctx_new(l->model, &cp, &l->ctx, err)) goto fail;
    *out = l;
    return 0;
fail:
    gt_llm_free(l);
    return err && err->code ? err->code : GT_EINVAL;
}

void gt_llm_free(gt_llm *l) {
    if (!l) return;
    gt_ctx_free(l->ctx);
    gt_tokenizer_free(l->tok);
    gt_model_free(l->model);
    gt_free(l->ids);
    gt_free(l);
}

int gt_llm_tokenize(gt_llm *l, const char *text, size_t len, int add_special, const int32_t **ids, size_t *n,
                    gt_err *err) {
    size_t need = len + 8; /* never more tokens than bytes, plus BOS/EOS */
    if (len > GT_TOKENIZER_MAX_TEXT_BYTES)
        return gt_err_set(err, GT_ELIMIT, "text of %zu bytes is over the tokenizer's limit of %u", len,
                          GT_TOKENIZER_MAX_TEXT_BYTES);
    if (need > l->ids_cap) {
        int32_t *p = gt_realloc(l->ids, need * sizeof *p);
        if (!p) return gt_err_set(err, GT_ENOMEM, "out of memory");
        l->ids = p, l->ids_cap = need;
    }
    int rc = gt_tokenize(l->tok, text, len, add_special, 0, l->ids, l->ids_cap, n, err);
    if (rc) return rc;
    *ids = l->ids;
    return 0;
}

/* The remote half of gt_llm_gen: the tokens first, then replayed through
 * cb. The in-process engine makes at most n_ctx - n + 1 tokens (the last
 * one is sampled, never evaluated), so that is the most asked for. */
static int gen_remote(gt_llm *l, const int32_t *ids, int n, const gt_gen_params *p, gt_gen_cb cb, void *user,
                      gt_gen_result *res, gt_err *err) {
    if (p->keep_eog) return gt_err_set(err, GT_EUNSUPPORTED, "keep_eog: an inference server drops the end token");
    int max = gt_ctx_n_ctx(l->ctx) - n + 1;
    if (p->n_predict < max) max = p->n_predict;
    res->tokens = gt_malloc(((size_t)max + 1) * sizeof(int32_t));
    if (!res->tokens) return gt_err_set(err, GT_ENOMEM, "out of memory");
    res->n_prompt = n;
    gt_buf got = GT_BUF_INIT;
    int rc = max > 0 ? l->remote->generate(l->remote->arg, ids, (size_t)n, &p->sampling, max, &got, err) : 0;
    size_t n_got = got.len / sizeof(int32_t);
    assert(rc || n_got <= (size_t)max);
    const int32_t *t = (const int32_t *)(const void *)got.data;
    int stopped = 0;
    for (size_t i = 0; !rc && i < n_got && !stopped; i++) {
        res->tokens[res->n_tokens++] = t[i];
        if (!cb) continue;
        gt_gen_step st = {.index = (int)i, .token = t[i], .n_vocab = gt_tokenizer_n_vocab(l->tok)};
        st.piece = gt_token_to_piece(l->tok, t[i], 0, &st.piece_len);
        if (!st.piece) st.piece = "", st.piece_len = 0;
        stopped = cb(user, &st);
    }
    if (!rc) res->stopped_by_eog = !stopped && res->n_tokens < max;
    gt_buf_free(&got);
    return rc;
}

int gt_llm_gen(gt_llm *l, const int32_t *ids, int n, const gt_gen_params *p, gt_gen_cb cb, void *user,
               gt_gen_result *res, gt_err *err) {
    if (!l->remote) {
        int rc = gt_generate(l->ctx, l->tok, ids, n, p, cb, user, res, err);
        if (!rc) { /* the engine's own timings: no clock read here */
            double us = (res->prompt_ms + res->gen_ms) * 1000.0;
            l->local_us += us > 0 ? (uint64_t)us : 0;
            l->local_tokens += res->n_tokens > 0 ? (uint64_t)res->n_tokens : 1;
            l->prompt_us += res->prompt_ms > 0 ? (uint64_t)(res->prompt_ms * 1000.0) : 0;
            l->prompt_tokens += (uint64_t)n;
        }
        return rc;
    }
    memset(res, 0, sizeof *res);
    if (n < 1) return gt_err_set(err, GT_EINVAL, "generate: the prompt has no tokens");
    if (p->n_predict < 0) return gt_err_set(err, GT_EINVAL, "generate: n_predict %d < 0", p->n_predict);
    if (n >= gt_ctx_n_ctx(l->ctx))
        return gt_err_set(err, GT_ELIMIT, "prompt of %d tokens does not fit the context of %d", n,
                          gt_ctx_n_ctx(l->ctx));
    return gen_remote(l, ids, n, p, cb, user, res, err);
}

void gt_llm_row_norm(const float *row, int n_vocab, double *mx, double *log_z) {
    assert(n_vocab >= 1);
    double m = row[0], z = 0;
    for (int v = 1; v < n_vocab; v++) m = row[v] > m ? row[v] : m;
    for (int v = 0; v < n_vocab; v++) z += gt_dmath_exp((double)row[v] - m);
    *mx = m, *log_z = gt_dmath_log(z);
}

/* log-softmax of row[token]: the one formula both paths and the server use. */
static double row_logprob(const float *row, int n_vocab, int32_t token) {
    double mx, log_z;
    gt_llm_row_norm(row, n_vocab, &mx, &log_z);
    return (double)row[token] - mx - log_z;
}

int gt_llm_logprobs(gt_llm *l, const int32_t *ids, size_t n, size_t from, double *lp, gt_err *err) {
    assert(from >= 1 && from < n);
    if ((int)n > gt_ctx_n_ctx(l->ctx))
        return gt_err_set(err, GT_ELIMIT, "%zu tokens do not fit the context of %d", n, gt_ctx_n_ctx(l->ctx));
    if (l->remote) return l->remote->logprobs(l->remote->arg, ids, n, from, lp, err);
    int n_vocab = gt_model_hparams(l->model)->n_vocab;
    float *logits = gt_malloc(sizeof(float) * (size_t)n_vocab * n);
    if (!logits) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = gt_ctx_eval(l->ctx, ids, (int)n, 0, logits, GT_EVAL_ALL, err);
    for (size_t t = from; !rc && t < n; t++) /* row t - 1 predicts token t */
        lp[t - from] = row_logprob(logits + (size_t)n_vocab * (t - 1), n_vocab, ids[t]);
    gt_free(logits);
    return rc;
}

int gt_llm_next_logprobs(gt_llm *l, const int32_t *ids, size_t n, const int32_t *cands, int k, double *lp,
                         gt_err *err) {
    assert(n >= 1 && k >= 1);
    if ((int)n > gt_ctx_n_ctx(l->ctx))
        return gt_err_set(err, GT_ELIMIT, "%zu tokens do not fit the context of %d", n, gt_ctx_n_ctx(l->ctx));
    int n_vocab = gt_model_hparams(l->model)->n_vocab, rc = 0;
    if (l->remote) {
        int32_t *seq = gt_malloc((n + 1) * sizeof *seq);
        if (!seq) return gt_err_set(err, GT_ENOMEM, "out of memory");
        memcpy(seq, ids, n * sizeof *seq);
        for (int c = 0; c < k && !rc; c++) {
            seq[n] = cands[c];
            rc = l->remote->logprobs(l->remote->arg, seq, n + 1, n, &lp[c], err);
        }
        gt_free(seq);
        return rc;
    }
    float *row = gt_malloc(sizeof(float) * (size_t)n_vocab);
    if (!row) return gt_err_set(err, GT_ENOMEM, "out of memory");
    double t0 = gt_now_s();
    rc = gt_ctx_eval(l->ctx, ids, (int)n, 0, row, GT_EVAL_LAST, err);
    double us = (gt_now_s() - t0) * 1e6;
    if (!rc) l->prompt_us += us > 0 ? (uint64_t)us : 0, l->prompt_tokens += n;
    for (int c = 0; c < k && !rc; c++) {
        assert(cands[c] >= 0 && cands[c] < n_vocab);
        lp[c] = row_logprob(row, n_vocab, cands[c]);
    }
    gt_free(row);
    return rc;
}

int gt_llm_generate(gt_llm *l, const char *prompt, size_t len, const gt_gen_params *p, gt_buf *out,
                    int *n_tokens, gt_err *err) {
    const int32_t *ids;
    size_t n;
    int rc = gt_llm_tokenize(l, prompt, len, 1, &ids, &n, err);
    if (rc) return rc;
    if (n == 0) return gt_err_set(err, GT_EINVAL, "the prompt gives no tokens");
    if ((int)n >= gt_ctx_n_ctx(l->ctx))
        return gt_err_set(err, GT_ELIMIT, "prompt of %zu tokens does not fit the context of %d", n,
                          gt_ctx_n_ctx(l->ctx));
    gt_gen_result res = {0};
    gt_buf raw = GT_BUF_INIT;
    rc = gt_llm_gen(l, ids, (int)n, p, NULL, NULL, &res, err);
    if (!rc) rc = gt_detokenize(l->tok, res.tokens, (size_t)res.n_tokens, 0, 0, &raw, err);
    /* NUL bytes (a byte token <0x00>) are dropped: outputs travel as C and JSON strings. */
    size_t w = 0;
    for (size_t i = 0; i < raw.len; i++)
        if (raw.data[i]) raw.data[w++] = raw.data[i];
    raw.len = w;
    if (!rc && gt_utf8_sanitize(raw.data, raw.len, out)) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc && n_tokens) *n_tokens = res.n_tokens;
    gt_buf_free(&raw);
    gt_gen_result_free(&res);
    return rc;
}
