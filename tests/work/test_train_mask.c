/* test_train_mask: a completion-only loss (`gotong train --completion-loss`):
 * the masked token stream of a dataset's rows (each prompt's tokens stored
 * as ~id, then the completion and EOS as they are) and the windows
 * gt_train_fill_batch cuts from it (a masked token is an input, never a
 * target), against the same rows unmasked. It lives under tests/work because
 * gt_train alone does not link the crypto its dataset reader uses.  */
#include <stdio.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/file.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "infer/gguf.h"
#include "infer/tokenizer.h"
#include "train/bpe.h"
#include "train/dataset.h"
#include "train/run.h"

#define DIR GT_BINARY_DIR "/test_train_mask.d"

static const char *const lines[] = {
    "{\"completion\":\"Answer: 12\",\"prompt\":\"Q: What is 9 + 3?\\nA: \"}",
    "{\"completion\":\"spell: a b\\nAnswer: ba\",\"prompt\":\"Q: Reverse the string \\\"ab\\\".\\nA: \"}",
    "{\"completion\":\"Answer: true\",\"prompt\":\"Q: Let A = true. Is A true or false?\\nA: \"}",
};
#define N_LINES 3

/* The rows above, read through the Merkle root check as `gotong train` does. */
static int read_rows(gt_train_rows *rows, gt_err *err) {
    char data[1024] = "";
    uint8_t leaves[N_LINES][32], root[32];
    for (int i = 0; i < N_LINES; i++) {
        gt_keccak256(lines[i], strlen(lines[i]), leaves[i]);
        strcat(data, lines[i]), strcat(data, "\n");
    }
    gt_merkle_root((const uint8_t(*)[32])leaves, N_LINES, root);
    return gt_train_rows_parse((const uint8_t *)data, strlen(data), root, "rows", "root", rows, err);
}

/* --row-windows: the starts are exactly the rows' (masked) BOS positions
 * with a whole window after them, and every window is the tokens from one
 * of them on. */
static void check_row_windows(const int32_t *ids, size_t n, int32_t bos) {
    gt_err err = {0};
    size_t *starts = NULL, n_starts = 0, want = 0;
    gt_train_run run = {.seq = 16, .batch = 4, .accum = 1, .seed = 7};
    CHECK_EQ_INT(gt_train_row_starts(ids, n, run.seq, bos, &starts, &n_starts, &err), 0);
    for (size_t i = 0; i + (size_t)run.seq < n; i++) want += ids[i] == GT_TRAIN_MASKED(bos);
    CHECK_EQ_U64(n_starts, want);
    CHECK(n_starts >= 2);
    run.starts = starts, run.n_starts = n_starts;
    int32_t tok[64], tgt[64];
    for (uint64_t d = 0; d < 20 && starts; d++) {
        gt_train_fill_batch(&run, ids, n, d, tok, tgt);
        for (int b = 0; b < run.batch; b++) {
            int from_a_start = 0;
            for (size_t k = 0; k < n_starts && !from_a_start; k++) {
                int same = 1;
                for (int i = 0; i < run.seq && same; i++) {
                    int32_t x = ids[starts[k] + (size_t)i];
                    same = tok[b * run.seq + i] == (x < 0 ? ~x : x);
                }
                from_a_start = same;
            }
            CHECK_EQ_INT(tok[b * run.seq], bos);
            CHECK_MSG(from_a_start, "window %d of draw %d does not start at a row", b, (int)d);
        }
    }
    /* A window as long as the stream leaves no start: refused. */
    size_t *none = NULL, n_none = 0;
    CHECK(gt_train_row_starts(ids, n, (int)n, bos, &none, &n_none, &err) != 0);
    CHECK(none == NULL && n_none == 0);
    gt_free(starts);
}

static void test_mask(void) {
    gt_err err = {0};
    gt_bpe_vocab v;
    const char *corpus = "every byte is a token here";
    CHECK_EQ_INT(gt_mkdir_p(DIR, 0755, &err), 0);
    CHECK_EQ_INT(gt_bpe_train((const uint8_t *)corpus, strlen(corpus), 257, &v, &err), 0);
    CHECK_EQ_INT(gt_bpe_write_gguf(&v, "bytes", DIR "/v.gguf", &err), 0);
    gt_bpe_free(&v);
    gt_gguf *g = NULL;
    gt_tokenizer *tok = NULL;
    gt_train_rows rows;
    int32_t *plain = NULL, *masked = NULL;
    size_t np = 0, nm = 0;
    CHECK_MSG(gt_gguf_open(DIR "/v.gguf", &g, &err) == 0 && gt_tokenizer_load(g, &tok, &err) == 0, "%s", err.msg);
    CHECK_MSG(read_rows(&rows, &err) == 0, "%s", err.msg);
    if (!tok || rows.n != N_LINES) return;
    CHECK_EQ_INT(gt_train_rows_tokenize(&rows, tok, "rows", &plain, &np, &err), 0);
    CHECK_EQ_INT(gt_train_rows_tokenize_masked(&rows, tok, "rows", &masked, &nm, &err), 0);
    /* Byte-level: the same tokens either way, the prompts' (and BOS) negated. */
    CHECK_EQ_U64(nm, np);
    size_t at = 0, n_masked = 0;
    for (size_t r = 0; r < rows.n && nm == np; r++) {
        size_t row_tokens = 1 + rows.len[r] + 1, prompt_tokens = 1 + rows.plen[r]; /* BOS, bytes, EOS */
        for (size_t k = 0; k < row_tokens; k++, at++) {
            int want_masked = k < prompt_tokens;
            CHECK_MSG((masked[at] < 0) == want_masked, "row %zu token %zu", r, k);
            CHECK_EQ_INT(masked[at] < 0 ? ~masked[at] : masked[at], plain[at]);
            n_masked += (size_t)want_masked;
        }
    }
    CHECK_EQ_U64(at, np);
    /* Every window: the inputs are the plain tokens; a target is -1 exactly
     * where the next token is a prompt's, else the plain next token. */
    gt_train_run run = {.seq = 16, .batch = 4, .accum = 1, .seed = 7};
    int32_t tok_p[64], tgt_p[64], tok_m[64], tgt_m[64];
    size_t skipped = 0;
    for (uint64_t d = 0; d < 20 && nm == np; d++) {
        gt_train_fill_batch(&run, plain, np, d, tok_p, tgt_p);
        gt_train_fill_batch(&run, masked, nm, d, tok_m, tgt_m);
        CHECK(!memcmp(tok_p, tok_m, sizeof tok_p));
        for (int i = 0; i < 64; i++) {
            CHECK(tgt_p[i] >= 0);
            CHECK(tgt_m[i] == -1 || tgt_m[i] == tgt_p[i]);
            skipped += tgt_m[i] == -1;
        }
    }
    CHECK(skipped > 0 && skipped < 20 * 64);
    CHECK(n_masked > 0 && n_masked < np);
    check_row_windows(masked, nm, gt_tokenizer_bos(tok));
    gt_free(plain), gt_free(masked);
    gt_train_rows_free(&rows);
    gt_tokenizer_free(tok);
    gt_gguf_close(g);
}

int main(void) {
    RUN(test_mask);
    return gt_test_finish();
}
