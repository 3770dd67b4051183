/* llm.c: loading a model for work, its file id, tokenising into scratch and
 * generating text (see llm.h). */
#include "work/llm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/sha256.h"
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
    rc = gt_generate(l->ctx, l->tok, ids, (int)n, p, NULL, NULL, &res, err);
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
