/* dataset.c: a data job's exported rows as training text, checked against
 * the Merkle root the caller names, and their tokens (see dataset.h). */
#include "train/dataset.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"

void gt_train_rows_free(gt_train_rows *r) {
    if (!r) return;
    gt_free(r->text), gt_free(r->start), gt_free(r->len), gt_free(r->plen);
    memset(r, 0, sizeof *r);
}

/* The lines of data[0..len) (a last line without a newline counts, as
 * gt_dataset_verify counts it): their number, or their Merkle root. */
static size_t count_lines(const uint8_t *data, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += data[i] == '\n';
    return n + (len && data[len - 1] != '\n');
}

static int merkle_root_of_lines(const uint8_t *data, size_t len, size_t n, uint8_t root[32], gt_err *err) {
    uint8_t (*leaves)[32] = gt_malloc(sizeof *leaves * (n ? n : 1));
    if (!leaves) return gt_err_set(err, GT_ENOMEM, "out of memory for %zu rows", n);
    size_t k = 0;
    for (size_t a = 0; a < len; k++) {
        const uint8_t *nl = memchr(data + a, '\n', len - a);
        size_t b = nl ? (size_t)(nl - data) : len;
        gt_keccak256(data + a, b - a, leaves[k]);
        a = b + 1;
    }
    assert(k == n);
    gt_merkle_root((const uint8_t(*)[32])leaves, n, root);
    gt_free(leaves);
    return 0;
}

/* Parses one line into its prompt and completion, appended to out's text
 * (whose row arrays have room for row i). */
static int parse_row(const uint8_t *line, size_t len, size_t i, gt_train_rows *out, size_t *used, gt_err *err) {
    json_t *o = NULL;
    const char *prompt, *completion;
    int rc = gt_json_parse((const char *)line, len, GT_TRAIN_DATASET_MAX_BYTES, &o, err);
    if (!rc && !json_is_object(o)) rc = gt_err_set(err, GT_EINVAL, "expected an object");
    if (!rc) rc = gt_json_get_str(o, "prompt", GT_TRAIN_DATASET_MAX_FIELD, &prompt, err);
    if (!rc) rc = gt_json_get_str(o, "completion", GT_TRAIN_DATASET_MAX_FIELD, &completion, err);
    if (!rc) {
        size_t lp = strlen(prompt), lc = strlen(completion);
        out->start[i] = *used, out->len[i] = lp + lc, out->plen[i] = lp;
        memcpy(out->text + *used, prompt, lp);
        memcpy(out->text + *used + lp, completion, lc);
        *used += lp + lc;
    }
    json_decref(o);
    return rc;
}

/* The rows of the checked bytes; a line's text is never longer than the
 * line itself (JSON escapes only lengthen), so len bytes hold them all. */
static int parse_rows(const char *path, const uint8_t *data, size_t len, size_t n, gt_train_rows *out, gt_err *err) {
    out->text = gt_malloc(len ? len : 1);
    out->start = gt_calloc(n ? n : 1, sizeof(size_t)), out->len = gt_calloc(n ? n : 1, sizeof(size_t));
    out->plen = gt_calloc(n ? n : 1, sizeof(size_t));
    if (!out->text || !out->start || !out->len || !out->plen)
        return gt_err_set(err, GT_ENOMEM, "out of memory for %zu rows", n);
    size_t used = 0, i = 0;
    for (size_t a = 0; a < len; i++) {
        const uint8_t *nl = memchr(data + a, '\n', len - a);
        size_t b = nl ? (size_t)(nl - data) : len;
        int rc = parse_row(data + a, b - a, i, out, &used, err);
        if (rc) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            return gt_err_set(err, rc, "%s row %zu: %s; expected a data job's row with prompt and completion",
                              path, i + 1, why);
        }
        a = b + 1;
    }
    out->n = i;
    return 0;
}

int gt_train_rows_parse(const uint8_t *data, size_t len, const uint8_t root[32], const char *what,
                        const char *root_what, gt_train_rows *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    uint8_t got[32];
    int rc = 0;
    if (len > GT_TRAIN_DATASET_MAX_BYTES)
        return gt_err_set(err, GT_ELIMIT, "%s is %zu bytes: expected at most %u", what, len,
                          GT_TRAIN_DATASET_MAX_BYTES);
    size_t n = count_lines(data, len);
    if (!n || n > GT_TRAIN_DATASET_MAX_ROWS)
        rc = gt_err_set(err, GT_EINVAL, "%s holds %zu rows: expected 1..%u", what, n, GT_TRAIN_DATASET_MAX_ROWS);
    if (!rc) rc = merkle_root_of_lines(data, len, n, got, err);
    if (!rc && memcmp(got, root, 32)) {
        char gh[65], wh[65];
        gt_hex_encode(got, 32, gh);
        gt_hex_encode(root, 32, wh);
        rc = gt_err_set(err, GT_EINVAL, "%s has the Merkle root 0x%s, not %s 0x%s: refused (a dataset trains "
                        "only when its rows are the ones the network accepted)", what, gh, root_what, wh);
    }
    if (!rc) rc = parse_rows(what, data, len, n, out, err);
    if (rc) gt_train_rows_free(out);
    return rc;
}

int gt_train_rows_read(const char *path, const char *root_hex, gt_train_rows *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    uint8_t want[32], *data = NULL;
    size_t len = 0;
    char file[4096];
    struct stat st;
    int rc = gt_hex_decode(root_hex, want, 32, "--root", err);
    if (rc) return rc;
    if (!stat(path, &st) && S_ISDIR(st.st_mode)) gt_path_join(file, sizeof file, path, "data.jsonl");
    else snprintf(file, sizeof file, "%s", path);
    if ((rc = gt_file_read(file, GT_TRAIN_DATASET_MAX_BYTES, &data, &len, err))) return rc;
    rc = gt_train_rows_parse(data, len, want, file, "--root", out, err);
    gt_free(data);
    return rc;
}

/* The token stream being built: ids[0..n) of room cap. */
typedef struct token_stream {
    int32_t *ids;
    size_t n, cap;
} token_stream;

/* Makes room in s for k more ids. */
static int stream_reserve(token_stream *s, size_t k, gt_err *err) {
    if (s->n + k <= s->cap) return 0;
    size_t ncap = (s->n + k) * 2;
    int32_t *p = gt_realloc(s->ids, ncap * sizeof(int32_t));
    if (!p) return gt_err_set(err, GT_ENOMEM, "out of memory for %zu tokens", ncap);
    s->ids = p, s->cap = ncap;
    return 0;
}

/* Appends the tokens of text[0..len) (BOS and EOS as the vocabulary asks
 * when special), then eos when it is >= 0. what and at name the text in a
 * message. Most texts make at most a token a byte, so len + 16 slots are
 * tried first; a byte that is not UTF-8 becomes U+FFFD (up to 3 byte-level
 * tokens), so a text that needs more is tokenized again with the room its
 * count asks for. */
static int stream_add(token_stream *s, const gt_tokenizer *tok, const uint8_t *text, size_t len, int special,
                      int32_t eos, const char *what, size_t at, gt_err *err) {
    if (len > GT_TOKENIZER_MAX_TEXT_BYTES)
        return gt_err_set(err, GT_ELIMIT, "%s: a text of %zu bytes at %zu; expected up to %u bytes", what, len, at,
                          GT_TOKENIZER_MAX_TEXT_BYTES);
    size_t got = 0;
    int rc = stream_reserve(s, len + 16, err);
    if (!rc) rc = gt_tokenize(tok, (const char *)text, len, special, 0, s->ids + s->n, s->cap - s->n - 1, &got, err);
    if (rc == GT_ELIMIT && got > s->cap - s->n - 1) { /* more tokens than bytes: room for the count */
        rc = stream_reserve(s, got + 1, err);
        if (!rc) rc = gt_tokenize(tok, (const char *)text, len, special, 0, s->ids + s->n, s->cap - s->n - 1, &got,
                                  err);
    }
    if (rc) return rc;
    s->n += got;
    if (eos >= 0) s->ids[s->n++] = eos;
    return 0;
}

int gt_train_text_tokenize(const uint8_t *text, size_t len, const gt_tokenizer *tok, const char *what,
                           int32_t **ids, size_t *n, gt_err *err) {
    token_stream s = {0};
    int rc = 0;
    for (size_t at = 0; at < len && !rc;) {
        const uint8_t *nl = memchr(text + at, '\n', len - at);
        size_t line = nl ? (size_t)(nl - (text + at)) + 1 : len - at;
        rc = stream_add(&s, tok, text + at, line, at == 0, -1, what, at, err);
        at += line;
    }
    if (rc) return gt_free(s.ids), rc;
    *ids = s.ids, *n = s.n;
    return 0;
}

int gt_train_rows_tokenize(const gt_train_rows *rows, const gt_tokenizer *tok, const char *what, int32_t **ids,
                           size_t *n, gt_err *err) {
    token_stream s = {0};
    int32_t eos = gt_tokenizer_add_eos(tok) ? -1 : gt_tokenizer_eos(tok);
    int rc = 0;
    for (size_t i = 0; i < rows->n && !rc; i++)
        rc = stream_add(&s, tok, rows->text + rows->start[i], rows->len[i], 1, eos, what, i + 1, err);
    if (rc) return gt_free(s.ids), rc;
    *ids = s.ids, *n = s.n;
    return 0;
}

int gt_train_rows_tokenize_masked(const gt_train_rows *rows, const gt_tokenizer *tok, const char *what,
                                  int32_t **ids, size_t *n, gt_err *err) {
    if (gt_tokenizer_add_eos(tok))
        return gt_err_set(err, GT_EINVAL, "%s: the vocabulary adds EOS to every text; a completion-only loss "
                          "needs one that does not (a prompt would end in EOS)", what);
    token_stream s = {0};
    int32_t eos = gt_tokenizer_eos(tok);
    int rc = 0;
    for (size_t i = 0; i < rows->n && !rc; i++) {
        const uint8_t *row = rows->text + rows->start[i];
        assert(rows->plen[i] <= rows->len[i]);
        size_t from = s.n;
        rc = stream_add(&s, tok, row, rows->plen[i], 1, -1, what, i + 1, err);
        for (size_t k = from; !rc && k < s.n; k++) s.ids[k] = GT_TRAIN_MASKED(s.ids[k]);
        if (!rc) rc = stream_add(&s, tok, row + rows->plen[i], rows->len[i] - rows->plen[i], 0, eos, what, i + 1, err);
    }
    if (rc) return gt_free(s.ids), rc;
    *ids = s.ids, *n = s.n;
    return 0;
}
