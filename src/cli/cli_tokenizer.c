/* cli_tokenizer.c: `gotong tokenizer train`: a byte-level BPE vocabulary
 * trained from a corpus (train/bpe.h), written as a GGUF file of tokenizer
 * metadata that `gotong train --vocab` takes into the model it trains, and
 * that gotong's tokenizer and llama.cpp both read. */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "infer/gguf.h"
#include "infer/tokenizer.h"
#include "train/bpe.h"

static const char usage_text[] =
    "usage: gotong tokenizer train --corpus FILE (-o | --out) VOCAB.gguf [--vocab-size N] [--name NAME]\n"
    "Trains a byte-level BPE vocabulary (GGUF tokenizer model \"gpt2\", pre-tokenizer\n"
    "\"gpt-2\") of at most N tokens from the bytes of FILE: the 256 bytes, one token per\n"
    "merge of the most frequent adjacent pair (ties to the lowest ids) until N tokens or\n"
    "no pair occurs twice, and <|endoftext|> (BOS and EOS). The same corpus and N give\n"
    "the same file, byte for byte. Use it with `gotong train --vocab VOCAB.gguf`.\n"
    "Defaults: --vocab-size 4096.\n";

/* Tokenizes the corpus with the written vocabulary, line by line, as a
 * check that it loads and to tell the compression; *tokens gets the count. */
static int count_tokens(const char *path, const uint8_t *text, size_t len, size_t *tokens, gt_err *err) {
    gt_gguf *g = NULL;
    gt_tokenizer *tok = NULL;
    int32_t *ids = NULL;
    int rc = gt_gguf_open(path, &g, err);
    if (!rc) rc = gt_tokenizer_load(g, &tok, err);
    *tokens = 0;
    for (size_t at = 0; at < len && !rc;) {
        const uint8_t *nl = memchr(text + at, '\n', len - at);
        size_t line = nl ? (size_t)(nl - (text + at)) + 1 : len - at, n = 0;
        if (line > GT_TOKENIZER_MAX_TEXT_BYTES) line = GT_TOKENIZER_MAX_TEXT_BYTES;
        int32_t *p = gt_realloc(ids, (line + 2) * sizeof(int32_t));
        if (!p) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        else ids = p, rc = gt_tokenize(tok, (const char *)text + at, line, 0, 0, ids, line + 2, &n, err);
        *tokens += n, at += line;
    }
    gt_free(ids);
    gt_tokenizer_free(tok);
    gt_gguf_close(g);
    return rc;
}

/* Reads the corpus, trains, writes, and tells what it made. */
static int run(const char *corpus, const char *out, const char *name, int n_vocab, gt_err *err) {
    uint8_t *text = NULL;
    size_t len = 0, tokens = 0;
    gt_bpe_vocab v = {0};
    double t0 = gt_now_s();
    int rc = gt_file_read(corpus, GT_BPE_MAX_CORPUS, &text, &len, err);
    if (!rc && !len) rc = gt_err_set(err, GT_EINVAL, "%s is empty: expected text to learn from", corpus);
    if (!rc) rc = gt_bpe_train(text, len, n_vocab, &v, err);
    if (!rc) rc = gt_bpe_write_gguf(&v, name, out, err);
    if (!rc) rc = count_tokens(out, text, len, &tokens, err);
    if (!rc)
        printf("wrote %s: %d tokens (256 bytes, %d merges, <|endoftext|>); %s: %zu bytes in %zu tokens "
               "(%.2f bytes a token), %.1f s\n", out, v.n_tokens, v.n_merges, corpus, len, tokens,
               tokens ? (double)len / (double)tokens : 0.0, gt_now_s() - t0);
    gt_bpe_free(&v);
    gt_free(text);
    return rc;
}

/* `gotong tokenizer train`, found with the one dispatcher (cli_opt.c), its
 * options parsed with the one parser (argv[0] the subcommand). */
static int cmd_tokenizer(int argc, char **argv) {
    static const char *const subs[] = {"train", NULL};
    int which;
    int rc = gt_cli_subcommand_text("tokenizer", argc, argv, subs, usage_text, &which);
    if (rc >= 0) return rc;
    const char *corpus = NULL, *out = NULL, *name = "gotong-bpe";
    uint64_t n_vocab = 4096;
    const gt_cli_opt opts[] = {
        {"--corpus", NULL, GT_CLI_OPT_STR, &corpus, 0, 0, NULL},
        {"--out", "-o", GT_CLI_OPT_STR, &out, 0, 0, NULL},
        {"--name", NULL, GT_CLI_OPT_STR, &name, 0, 0, NULL},
        {"--vocab-size", NULL, GT_CLI_OPT_U64, &n_vocab, GT_BPE_MIN_VOCAB, GT_BPE_MAX_VOCAB, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL},
    };
    rc = gt_cli_parse_text("tokenizer train", argc - 1, argv + 1, 1, opts, NULL, 0, NULL, usage_text);
    if (rc >= 0) return rc;
    if (!corpus || !out) return gt_cli_usage_error("tokenizer train", "--corpus and -o are required");
    gt_err err = {0};
    if (run(corpus, out, name, (int)n_vocab, &err)) return gt_cli_fail(&err);
    return GT_CLI_EXIT_OK;
}

GT_CLI_COMMAND(cmd_tokenizer_def, "tokenizer", "train a byte-level BPE vocabulary from a corpus", cmd_tokenizer)
