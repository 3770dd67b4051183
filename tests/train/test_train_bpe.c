/* test_train_bpe: the byte-level BPE trainer -- its merges on a corpus
 * worked out by hand, the written vocabulary read back by gotong's
 * tokenizer (the merged tokens, a lossless round trip, fewer tokens than
 * bytes), the same file from the same corpus, and its limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/file.h"
#include "infer/gguf.h"
#include "infer/tokenizer.h"
#include "train/bpe.h"

#define DIR GT_BINARY_DIR "/test_train_bpe.d"

static int token_is(const gt_bpe_vocab *v, int id, const char *s) {
    return id >= 0 && id < v->n_tokens && v->len[id] == strlen(s) && !memcmp(v->bytes[id], s, v->len[id]);
}

/* "abababab cd cd": pieces "abababab", " cd", " cd". Pairs: ab x4, ba x3,
 * " c" x2, cd x2 -> "ab"; then (ab, ab) x3 -> "abab"; then " c" and "cd"
 * both x2, the lower pair (32, 99) first -> " c"; then (" c", d) x2 ->
 * " cd"; then no pair occurs twice. */
static void test_merges_by_hand(void) {
    const char *text = "abababab cd cd";
    gt_bpe_vocab v;
    gt_err err = {0};
    CHECK_MSG(gt_bpe_train((const uint8_t *)text, strlen(text), 300, &v, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(v.n_merges, 4);
    CHECK_EQ_INT(v.n_tokens, 256 + 4 + 1);
    CHECK(token_is(&v, 256, "ab") && token_is(&v, 257, "abab") && token_is(&v, 258, " c") && token_is(&v, 259, " cd"));
    CHECK(v.merges[0][0] == 'a' && v.merges[0][1] == 'b');
    CHECK(v.merges[1][0] == 256 && v.merges[1][1] == 256);
    CHECK(v.merges[2][0] == ' ' && v.merges[2][1] == 'c' && v.merges[3][0] == 258 && v.merges[3][1] == 'd');
    CHECK_EQ_INT(v.eot, 260);
    CHECK(token_is(&v, 260, "<|endoftext|>"));
    /* gotong's tokenizer applies them: "abababab cd" is abab abab " cd". */
    CHECK_EQ_INT(gt_bpe_write_gguf(&v, "hand", DIR "/hand.gguf", &err), 0);
    gt_bpe_free(&v);
    gt_gguf *g = NULL;
    gt_tokenizer *tok = NULL;
    CHECK_MSG(gt_gguf_open(DIR "/hand.gguf", &g, &err) == 0 && gt_tokenizer_load(g, &tok, &err) == 0, "%s", err.msg);
    int32_t ids[16];
    size_t n = 0;
    if (tok) {
        CHECK_STR(gt_tokenizer_model(tok), "gpt2");
        CHECK_EQ_INT(gt_tokenize(tok, "abababab cd", 11, 1, 0, ids, 16, &n, &err), 0);
        CHECK_EQ_INT((int)n, 4);
        CHECK(ids[0] == 260 && ids[1] == 257 && ids[2] == 257 && ids[3] == 259);
        CHECK_EQ_INT(gt_tokenizer_bos(tok), 260);
        CHECK_EQ_INT(gt_tokenizer_eos(tok), 260);
    }
    gt_tokenizer_free(tok);
    gt_gguf_close(g);
}

/* A corpus with newlines, digits, punctuation and UTF-8. */
static void make_corpus(gt_buf *b) {
    static const char *lines[] = {
        "The verifier re-executes the work and compares the bytes.\n",
        "Workers stake 12 tokens; a wrong answer loses 3.5 of them!\n",
        "  Indented: café, naïve, 東京 and ümlauts\ttabs.\n",
        "\n",
        "sum 123 + 456 = 579; sorted: [1, 2, 3]\n",
    };
    for (int r = 0; r < 40; r++)
        for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) gt_buf_append_str(b, lines[i]);
}

/* Trained on the corpus, the vocabulary tokenizes it back to the same bytes
 * in fewer tokens; trained twice, it is the same file. */
static void test_round_trip_and_determinism(void) {
    gt_buf corpus = GT_BUF_INIT, back = GT_BUF_INIT;
    make_corpus(&corpus);
    gt_bpe_vocab v;
    gt_err err = {0};
    CHECK_EQ_INT(gt_bpe_train(corpus.data, corpus.len, 1000, &v, &err), 0);
    CHECK_MSG(v.n_tokens > 300 && v.n_tokens < 1000, "%d tokens", v.n_tokens); /* the corpus runs out of pairs */
    CHECK_EQ_INT(gt_bpe_write_gguf(&v, "c", DIR "/a.gguf", &err), 0);
    gt_bpe_free(&v);
    CHECK_EQ_INT(gt_bpe_train(corpus.data, corpus.len, 1000, &v, &err), 0);
    CHECK_EQ_INT(gt_bpe_write_gguf(&v, "c", DIR "/b.gguf", &err), 0);
    gt_bpe_free(&v);
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    CHECK_EQ_INT(gt_file_read(DIR "/a.gguf", 1 << 24, &a, &la, &err), 0);
    CHECK_EQ_INT(gt_file_read(DIR "/b.gguf", 1 << 24, &b, &lb, &err), 0);
    CHECK(la == lb && la > 0 && a && b && !memcmp(a, b, la));
    gt_free(a), gt_free(b);
    gt_gguf *g = NULL;
    gt_tokenizer *tok = NULL;
    CHECK_MSG(gt_gguf_open(DIR "/a.gguf", &g, &err) == 0 && gt_tokenizer_load(g, &tok, &err) == 0, "%s", err.msg);
    size_t n = 0;
    int32_t *ids = gt_malloc(corpus.len * sizeof(int32_t));
    if (tok && ids) {
        CHECK_EQ_INT(gt_tokenize(tok, (const char *)corpus.data, corpus.len, 0, 0, ids, corpus.len, &n, &err), 0);
        CHECK_MSG(n * 3 < corpus.len, "%zu tokens for %zu bytes", n, corpus.len);
        CHECK_EQ_INT(gt_detokenize(tok, ids, n, 0, 0, &back, &err), 0);
        CHECK(back.len == corpus.len && !memcmp(back.data, corpus.data, corpus.len));
    }
    gt_free(ids);
    gt_buf_free(&back);
    gt_buf_free(&corpus);
    gt_tokenizer_free(tok);
    gt_gguf_close(g);
}

static void test_limits(void) {
    gt_bpe_vocab v;
    gt_err err = {0};
    CHECK_EQ_INT(gt_bpe_train((const uint8_t *)"ab", 2, 256, &v, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "expected 257..65536");
    CHECK_EQ_INT(gt_bpe_train((const uint8_t *)"ab", 2, 70000, &v, &err), GT_EINVAL);
    /* Nothing to merge: the bytes and <|endoftext|>. */
    CHECK_EQ_INT(gt_bpe_train((const uint8_t *)"abc", 3, 1000, &v, &err), 0);
    CHECK_EQ_INT(v.n_tokens, 257);
    gt_bpe_free(&v);
    /* A piece longer than GT_BPE_MAX_PIECE is cut: merges stay within it. */
    uint8_t big[3 * GT_BPE_MAX_PIECE];
    memset(big, 'x', sizeof big);
    CHECK_EQ_INT(gt_bpe_train(big, sizeof big, 2000, &v, &err), 0);
    for (int i = 0; i < v.n_tokens; i++) CHECK(v.len[i] <= GT_BPE_MAX_PIECE);
    gt_bpe_free(&v);
}

/* Training counts its merges on a progress that prints lines to a pipe
 * (`gotong tokenizer train` asks one every 5 s; here at every merge): one
 * line a merge, the last at the total made, each "LABEL: DONE/TOTAL".
 * Before, tokenizer train showed nothing until it was done. */
static void test_progress_on_pipe(void) {
    char path[] = "/tmp/gt-bpe-progress-XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    CHECK(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2); /* no terminal: the bar stays quiet, the pipe lines are what is asked */
    const char *text = "abababab cd cd";
    gt_bpe_vocab v;
    gt_err err = {0};
    gt_progress pr;
    gt_progress_start(&pr, "merges", 300 - 257);
    gt_progress_pipe_every(&pr, 1e-9);
    int rc = gt_bpe_train_progress((const uint8_t *)text, strlen(text), 300, &pr, &v, &err);
    fflush(stderr);
    dup2(saved, 2), close(saved), close(fd);
    CHECK_MSG(rc == 0, "%s", err.msg);
    char *log = NULL;
    size_t n = 0;
    CHECK(gt_file_read(path, 1 << 16, (uint8_t **)&log, &n, NULL) == 0);
    unlink(path);
    CHECK_EQ_INT(v.n_merges, 4);
    CHECK_CONTAINS(log ? log : "", "merges: 1/43 (2%), ");
    CHECK_CONTAINS(log ? log : "", "merges: 4/43 (9%), ");
    CHECK(log && !strstr(log, "\r")); /* lines, not a redrawn bar */
    gt_free(log);
    gt_bpe_free(&v);
}

int main(void) {
    gt_err err = {0};
    CHECK_EQ_INT(gt_mkdir_p(DIR, 0755, &err), 0);
    RUN(test_merges_by_hand);
    RUN(test_round_trip_and_determinism);
    RUN(test_limits);
    RUN(test_progress_on_pipe);
    return gt_test_finish();
}
