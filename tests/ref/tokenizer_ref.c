/* tokenizer_ref.c: llama.cpp's tokenization of test texts with one GGUF
 * vocabulary, the reference tests/infer/test_tokenizer_gemma3.c compares
 * gotong's tokenizer with.
 *
 *   tokenizer_ref VOCAB.gguf OUT CASES.inp...
 *
 * Each CASES.inp is in the format of llama.cpp's own tokenizer tests: every
 * case followed by "\n__ggml_vocab_test__\n". For each case OUT gets three
 * lines: the ids of llama_tokenize with add_special and parse_special off,
 * the ids with both on, and the hex bytes of llama_detokenize of the first
 * ids (remove_special and unparse_special off). Then, when the vocabulary
 * has a tokenizer.chat_template, "chat" and two lines: the hex bytes of
 * llama_chat_apply_template on the fixed conversation below (the one of
 * tests/ref/chat_template_ref.c) with the generation prompt, and the ids of
 * that text tokenized with add_special and parse_special on. Built and run by
 * scripts/fixtures.sh against .cache/libllama; loads the vocabulary only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml-backend.h"
#include "llama.h"

#define MAX_IDS (1 << 16)
#define MAX_TEXT (1 << 20)
static const char SEP[] = "\n__ggml_vocab_test__\n";

static llama_token ids[MAX_IDS];
static char text[MAX_TEXT];

/* Reads a whole file; *len gets its length. NULL when it cannot. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) free(s), s = NULL;
    fclose(f);
    if (s) s[n] = 0, *len = (size_t)n;
    return s;
}

/* Writes the ids of s[0..len) tokenized with the given flags, one line. */
static int write_ids(FILE *out, const struct llama_vocab *vocab, const char *s, size_t len, int special, int *n_out) {
    int n = llama_tokenize(vocab, s, (int32_t)len, ids, MAX_IDS, special, special);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) fprintf(out, "%s%d", i ? " " : "", ids[i]);
    fputc('\n', out);
    if (n_out) *n_out = n;
    return 0;
}

/* Writes len bytes as hex, one line ("-" when empty, so no line is blank). */
static void write_hex(FILE *out, const char *s, int len) {
    for (int i = 0; i < len; i++) fprintf(out, "%02x", (unsigned char)s[i]);
    fputs(len ? "\n" : "-\n", out);
}

/* The three lines of every case of one .inp file. */
static int run_cases(FILE *out, const struct llama_vocab *vocab, const char *path) {
    size_t len;
    char *inp = slurp(path, &len);
    if (!inp) return fprintf(stderr, "tokenizer_ref: cannot read %s\n", path), -1;
    int rc = 0;
    for (char *p = inp, *end = inp + len, *m; !rc && p < end; p = m + sizeof SEP - 1) {
        if (!(m = strstr(p, SEP))) break;
        int n = 0;
        rc = write_ids(out, vocab, p, (size_t)(m - p), 0, &n);
        if (!rc) {
            int32_t w = llama_detokenize(vocab, ids, n, text, MAX_TEXT, false, false);
            if (w < 0) rc = -1;
            else write_hex(out, text, w);
        }
        if (!rc) rc = write_ids(out, vocab, p, (size_t)(m - p), 1, NULL);
    }
    free(inp);
    return rc;
}

/* The chat lines, when the vocabulary has a template. */
static int run_chat(FILE *out, const struct llama_model *model) {
    const char *tmpl = llama_model_chat_template(model, NULL);
    if (!tmpl) return 0;
    const struct llama_chat_message chat[] = {
        {"system", "Be brief."},
        {"user", "Hello,\nworld \xc3\xa9\xc3\xa8"},
        {"assistant", "Hi."},
        {"user", "2+2?"},
    };
    int32_t n = llama_chat_apply_template(tmpl, chat, 4, true, text, MAX_TEXT);
    if (n < 0 || n >= MAX_TEXT) return fprintf(stderr, "tokenizer_ref: llama.cpp cannot apply the template\n"), -1;
    fputs("chat\n", out);
    write_hex(out, text, n);
    return write_ids(out, llama_model_get_vocab(model), text, (size_t)n, 1, NULL);
}

/* Quiet unless llama.cpp reports an error. */
static void log_errors(enum ggml_log_level level, const char *msg, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(msg, stderr);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: tokenizer_ref VOCAB.gguf OUT CASES.inp...\n");
        return 2;
    }
    llama_log_set(log_errors, NULL);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) return fprintf(stderr, "tokenizer_ref: llama.cpp cannot load %s\n", argv[1]), 1;
    FILE *out = fopen(argv[2], "w");
    int rc = out ? 0 : -1;
    for (int i = 3; i < argc && !rc; i++) rc = run_cases(out, llama_model_get_vocab(model), argv[i]);
    if (!rc) rc = run_chat(out, model);
    if (out && fclose(out)) rc = -1;
    if (rc) fprintf(stderr, "tokenizer_ref: failed writing %s\n", argv[2]);
    llama_model_free(model);
    llama_backend_free();
    return rc ? 1 : 0;
}
