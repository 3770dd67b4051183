/* bpe.h: training a byte-level BPE vocabulary (the "gpt2" tokenizer model
 * of GGUF) from a corpus, and writing it as GGUF tokenizer metadata that
 * gotong's tokenizer (infer/tokenizer.h) and llama.cpp both read.
 *
 * The vocabulary: the 256 bytes (as GPT-2 spells them: printable bytes as
 * themselves, the others as U+0100 onwards), then one token per merge, then
 * "<|endoftext|>" (a control token, BOS and EOS). Training splits the
 * corpus into pieces roughly as the "gpt2" pre-tokenizer does (an optional
 * space, then a run of letters, of digits or of other symbols; runs of
 * whitespace), counts each distinct piece once with its frequency, then
 * repeatedly merges the most frequent adjacent pair of tokens inside the
 * pieces (ties to the lowest pair of ids) until the vocabulary is full or no
 * pair occurs twice. Everything is integer counting in one thread: the same
 * corpus and size give the same file, byte for byte. */
#ifndef GT_TRAIN_BPE_H
#define GT_TRAIN_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/progress.h"

#define GT_BPE_MAX_CORPUS (64u << 20) /* bytes of corpus */
#define GT_BPE_MIN_VOCAB 257          /* the bytes and <|endoftext|> */
#define GT_BPE_MAX_VOCAB 65536
#define GT_BPE_MAX_PIECE 256          /* bytes: longer pieces are cut (merges never span a cut) */
#define GT_BPE_MAX_DISTINCT (1u << 22) /* distinct pieces */

typedef struct gt_bpe_vocab {
    int n_tokens;      /* 256 + n_merges + 1 */
    int n_merges;
    uint8_t **bytes;   /* token i's bytes ... */
    uint32_t *len;     /* ... and their count (the special token: its text) */
    int32_t (*merges)[2]; /* merge k: the pair of token ids it joins (rank k) */
    int32_t *merged;   /* merge k: the token it makes */
    int eot;           /* id of <|endoftext|> */
} gt_bpe_vocab;

/* Trains a vocabulary of at most n_vocab tokens (GT_BPE_MIN_VOCAB..
 * GT_BPE_MAX_VOCAB; fewer when the corpus runs out of pairs) from
 * text[0..len) (at most GT_BPE_MAX_CORPUS bytes; any bytes). Caller frees
 * with gt_bpe_free. */
int gt_bpe_train(const uint8_t *text, size_t len, int n_vocab, gt_bpe_vocab *out, gt_err *err);
/* The same, with the merges made counted on progress (started by the
 * caller, its total n_vocab - 257 merges; finished here; NULL: none). */
int gt_bpe_train_progress(const uint8_t *text, size_t len, int n_vocab, gt_progress *progress, gt_bpe_vocab *out,
                          gt_err *err);
void gt_bpe_free(gt_bpe_vocab *v); /* accepts NULL and a zeroed struct */

/* Writes v as a GGUF file holding the tokenizer.* keys (model "gpt2", pre
 * "gpt2", tokens, token types, merges, BOS = EOS = <|endoftext|>, a BOS
 * added, none at the end) and general.name; `gotong train --vocab` takes
 * them into the model it trains. */
int gt_bpe_write_gguf(const gt_bpe_vocab *v, const char *name, const char *path, gt_err *err);

#endif
