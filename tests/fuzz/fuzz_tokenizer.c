/* fuzz_tokenizer.c: both tokenizers on arbitrary bytes (invalid UTF-8,
 * special-token texts, long runs). The first byte picks the vocabulary and
 * the flags; the rest is the text. Besides not crashing, tokenizing then
 * detokenizing without specials must give the text back: exactly for
 * SentencePiece on valid UTF-8 (every byte has a byte token) but for U+2581,
 * which comes back as a space (SentencePiece writes spaces as U+2581, and
 * llama.cpp unescapes it in every piece alike), and with invalid UTF-8
 * replaced by U+FFFD for byte-level BPE. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/tokenizer.h"
#include "infer/unicode.h"

static gt_tokenizer *toks[2];

/* Loads the fixture vocabularies once. */
static void init(void) {
    static int done;
    if (done) return;
    done = 1;
    static const char *files[2] = {"tokenizer/ggml-vocab-llama-spm.gguf",
                                   "tokenizer/ggml-vocab-gpt-2.gguf"};
    for (int i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", GT_FIXTURES_DIR, files[i]);
        gt_gguf *g = NULL;
        gt_err err;
        if (gt_gguf_open(path, &g, &err) || gt_tokenizer_load(g, &toks[i], &err)) {
            fprintf(stderr, "fuzz_tokenizer: %s\n", err.msg);
            __builtin_trap();
        }
        gt_gguf_close(g);
    }
}

/* Each U+2581 (E2 96 81) of b as a space, in place: the text SentencePiece
 * gives back for b. */
static void spm_unescape(gt_buf *b) {
    size_t o = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (i + 2 < b->len && b->data[i] == 0xe2 && b->data[i + 1] == 0x96 && b->data[i + 2] == 0x81) {
            b->data[o++] = ' ';
            i += 2;
        } else {
            b->data[o++] = b->data[i];
        }
    }
    b->len = o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    init();
    if (size < 1) return 0;
    int which = data[0] & 1, add_special = (data[0] >> 1) & 1, parse_special = (data[0] >> 2) & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    gt_tokenizer *tok = toks[which];
    static int32_t ids[1 << 16];
    size_t n = 0;
    gt_err err;
    int rc = gt_tokenize(tok, text, len, add_special, parse_special, ids, sizeof ids / sizeof ids[0],
                         &n, &err);
    if (rc == GT_ELIMIT) return 0;
    if (rc) __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        size_t pl;
        if (!gt_token_to_piece(tok, ids[i], 1, &pl)) __builtin_trap();
    }
    if (add_special || parse_special) return 0;
    gt_buf back = GT_BUF_INIT, want = GT_BUF_INIT;
    if (gt_detokenize(tok, ids, n, 0, 0, &back, &err)) __builtin_trap();
    gt_utf8_sanitize((const uint8_t *)text, len, &want);
    if (which == 0 && (want.len != len || (len && memcmp(want.data, text, len)))) {
        /* SentencePiece steps over invalid UTF-8 by lead-byte length, so a
         * byte-spelled U+2581 can come back as itself (llama.cpp does the same) */
        gt_buf_free(&want);
        gt_buf_free(&back);
        return 0;
    }
    if (which == 0) spm_unescape(&want);
    if (back.len != want.len || (want.len && memcmp(back.data, want.data, want.len))) {
        fprintf(stderr, "round trip differs (vocab %d, %zu bytes -> %zu tokens -> %zu bytes)\n",
                which, len, n, back.len);
        for (size_t i = 0; i < len; i++) fprintf(stderr, "%02x ", (uint8_t)text[i]);
        fprintf(stderr, "\n");
        for (size_t i = 0; i < back.len; i++) fprintf(stderr, "%02x ", back.data[i]);
        fprintf(stderr, "\n");
        __builtin_trap();
    }
    gt_buf_free(&back);
    gt_buf_free(&want);
    return 0;
}
