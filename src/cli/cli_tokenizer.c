/* cli_tokenizer.c: `gotong tokenizer train`: a byte-level BPE vocabulary
 * trained from a corpus (train/bpe.h), written as a GGUF file of tokenizer
 * metadata that `gotong train --vocab` takes into the model it trains, and
 * that gotong's tokenizer and llama.cpp both read; `gotong tokenizer import`:
 * the same kind of file from a Hugging Face tokenizer.json
 * (infer/tokenizer_hf.h), for `gotong model random --like`. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "infer/gguf.h"
#include "infer/tokenizer.h"
#include "infer/tokenizer_hf.h"
#include "train/bpe.h"

static const char usage_text[] =
    "usage: gotong tokenizer train --corpus FILE (-o | --out) VOCAB.gguf [--vocab-size N] [--name NAME]\n"
    "Trains a byte-level BPE vocabulary (GGUF tokenizer model \"gpt2\", pre-tokenizer\n"
    "\"gpt-2\") of at most N tokens from the bytes of FILE: the 256 bytes, one token per\n"
    "merge of the most frequent adjacent pair (ties to the lowest ids) until N tokens or\n"
    "no pair occurs twice, and <|endoftext|> (BOS and EOS). The same corpus and N give\n"
    "the same file, byte for byte. Use it with `gotong train --vocab VOCAB.gguf`.\n"
    "Defaults: --vocab-size 4096.\n"
    "\n"
    "usage: gotong tokenizer import --tokenizer-json tokenizer.json [--config tokenizer_config.json]\n"
    "                               (-o | --out) VOCAB.gguf [--name NAME]\n"
    "Converts a Hugging Face tokenizer.json of SentencePiece's kind (BPE with byte\n"
    "fallback: Gemma, Llama 2) into a GGUF vocabulary (tokenizer model \"llama\") that\n"
    "gotong and llama.cpp tokenize alike: tokens, scores (from the merge ranks), token\n"
    "types, BOS/EOS/UNK/PAD and whether BOS/EOS are added; --config adds the special\n"
    "tokens and chat template of tokenizer_config.json. Other kinds are refused with\n"
    "what is not supported. Use it with `gotong model random --like VOCAB.gguf`.\n"
    "Defaults: --name tokenizer-json.\n";

/* Tokenizes the corpus with the written vocabulary, line by line, as a
 * check that it loads and to tell the compression; *tokens gets the count.
 * The ids go to a buffer that grows as it must (no bound of tokens a byte). */
static int count_tokens(const char *path, const uint8_t *text, size_t len, size_t *tokens, gt_err *err) {
    gt_gguf *g = NULL;
    gt_tokenizer *tok = NULL;
    gt_buf ids = GT_BUF_INIT;
    int rc = gt_gguf_open(path, &g, err);
    if (!rc) rc = gt_tokenizer_load(g, &tok, err);
    *tokens = 0;
    for (size_t at = 0; at < len && !rc;) {
        const uint8_t *nl = memchr(text + at, '\n', len - at);
        size_t line = nl ? (size_t)(nl - (text + at)) + 1 : len - at, n = 0;
        if (line > GT_TOKENIZER_MAX_TEXT_BYTES) line = GT_TOKENIZER_MAX_TEXT_BYTES;
        gt_buf_reset(&ids);
        rc = gt_tokenize_max(tok, (const char *)text + at, line, 0, 0, SIZE_MAX, &ids, &n, err);
        *tokens += n, at += line;
    }
    gt_buf_free(&ids);
    gt_tokenizer_free(tok);
    gt_gguf_close(g);
    return rc;
}

#define TOKENIZER_PIPE_PROGRESS_S 5.0 /* the longest a pipe waits for a progress line (as train's) */

/* Reads the corpus, trains, writes, and tells what it made. */
static int run(const char *corpus, const char *out, const char *name, int n_vocab, gt_err *err) {
    uint8_t *text = NULL;
    size_t len = 0, tokens = 0;
    gt_bpe_vocab v = {0};
    double t0 = gt_now_s();
    int rc = gt_file_read(corpus, GT_BPE_MAX_CORPUS, &text, &len, err);
    if (!rc && !len) rc = gt_err_set(err, GT_EINVAL, "%s is empty: expected text to learn from", corpus);
    if (!rc) rc = gt_cli_check_text(corpus, text, len, err);
    gt_progress pr; /* seconds for megabytes: a bar on a terminal, a line every few seconds on a pipe */
    gt_progress_start(&pr, "tokenizer train: merges", (uint64_t)(n_vocab - 257));
    gt_progress_pipe_every(&pr, TOKENIZER_PIPE_PROGRESS_S);
    if (!rc) rc = gt_bpe_train_progress(text, len, n_vocab, &pr, &v, err);
    if (!rc) rc = gt_bpe_write_gguf(&v, name, out, err);
    if (!rc && (rc = count_tokens(out, text, len, &tokens, err))) unlink(out); /* not a vocabulary to keep */
    if (!rc)
        printf("wrote %s: %d tokens (256 bytes, %d merges, <|endoftext|>); %s: %zu bytes in %zu tokens "
               "(%.2f bytes a token), %.1f s\n", out, v.n_tokens, v.n_merges, corpus, len, tokens,
               tokens ? (double)len / (double)tokens : 0.0, gt_now_s() - t0);
    gt_bpe_free(&v);
    gt_free(text);
    return rc;
}

/* `gotong tokenizer import`: converts and tells what the file holds. */
static int cmd_import(int argc, char **argv) {
    const char *json = NULL, *config = NULL, *out = NULL, *name = "tokenizer-json";
    const gt_cli_opt opts[] = {
        {"--tokenizer-json", NULL, GT_CLI_OPT_STR, &json, 0, 0, NULL},
        {"--config", NULL, GT_CLI_OPT_STR, &config, 0, 0, NULL},
        {"--out", "-o", GT_CLI_OPT_STR, &out, 0, 0, NULL},
        {"--name", NULL, GT_CLI_OPT_STR, &name, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL},
    };
    int rc = gt_cli_parse_text("tokenizer import", argc - 1, argv + 1, 1, opts, NULL, 0, NULL, usage_text);
    if (rc >= 0) return rc;
    if (!json || !out) return gt_cli_usage_error("tokenizer import", "--tokenizer-json and -o are required");
    const gt_cli_input ins[] = {{"--tokenizer-json", json}, {"--config", config}};
    if ((rc = gt_cli_check_out("tokenizer import", "-o", out, ins, 2))) return rc;
    gt_err err = {0};
    gt_tokenizer_hf_info in;
    if (gt_tokenizer_hf_write(json, config, name, out, &in, &err)) return gt_cli_fail(&err);
    printf("wrote %s: %d tokens (%d control, %d user-defined, %d bytes), scores from %d merges; BOS %d%s, EOS %d%s, "
           "UNK %d, PAD %d; space prefix %s; chat template %s\n", out, in.n_tokens, in.n_control, in.n_user_defined,
           in.n_byte, in.n_merges, in.bos, in.add_bos ? " (added)" : "", in.eos, in.add_eos ? " (added)" : "", in.unk,
           in.pad, in.add_space_prefix ? "on" : "off", in.chat_template_bytes ? "kept" : "none");
    return GT_CLI_EXIT_OK;
}

/* `gotong tokenizer train|import`, found with the one dispatcher
 * (cli_opt.c), options parsed with the one parser (argv[0] the subcommand). */
static int cmd_tokenizer(int argc, char **argv) {
    static const char *const subs[] = {"train", "import", NULL};
    int which;
    int rc = gt_cli_subcommand_text("tokenizer", argc, argv, subs, usage_text, &which);
    if (rc >= 0) return rc;
    if (which == 1) return cmd_import(argc, argv);
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
    const gt_cli_input ins[] = {{"--corpus", corpus}};
    if ((rc = gt_cli_check_out("tokenizer train", "-o", out, ins, 1))) return rc;
    gt_err err = {0};
    if (run(corpus, out, name, (int)n_vocab, &err)) return gt_cli_fail(&err);
    return GT_CLI_EXIT_OK;
}

GT_CLI_COMMAND(cmd_tokenizer_def, "tokenizer", "train a byte-level BPE vocabulary, or import a tokenizer.json",
               cmd_tokenizer)
