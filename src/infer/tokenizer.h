/* tokenizer.h: text <-> token ids, from a GGUF file's tokenizer metadata,
 * giving the ids llama.cpp gives.
 *
 * Two families, chosen by tokenizer.ggml.model:
 *   "llama": SentencePiece-style. Spaces become U+2581, a space is prefixed
 *     (tokenizer.ggml.add_space_prefix, default on), then characters are
 *     merged pairwise, highest vocabulary score first; what is left that is
 *     not a token falls back to byte tokens <0xXX>.
 *   "gpt2": byte-level BPE. The text is split by the pre-tokenizer regex
 *     that tokenizer.ggml.pre names (PCRE2, Unicode classes), each piece's
 *     bytes mapped to printable code points, then merged by the rank of
 *     tokenizer.ggml.merges.
 * Special tokens (control, user-defined, unknown) are cut out of the text
 * first: user-defined ones always, control and unknown ones when
 * parse_special is set. BOS/EOS are added when add_special is set and the
 * vocabulary asks for them (tokenizer.ggml.add_bos_token / add_eos_token,
 * defaulting as llama.cpp does: BOS for "llama" and for llama3-style BPE).
 *
 * A gt_tokenizer is immutable after load and owns copies of everything it
 * needs (the gt_gguf may be closed); all calls may run concurrently. */
#ifndef GT_INFER_TOKENIZER_H
#define GT_INFER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "infer/gguf.h"

/* Longest text gt_tokenize accepts: 1 MiB is ~250k tokens, past any context
 * window, and bounds the per-call working memory (~40 bytes per byte). */
#define GT_TOKENIZER_MAX_TEXT_BYTES (1u << 20)
/* Largest vocabulary and longest token text accepted from a file. */
#define GT_TOKENIZER_MAX_VOCAB (1u << 21)
#define GT_TOKENIZER_MAX_TOKEN_BYTES 4096

/* Token attributes, numbered as GGUF's tokenizer.ggml.token_type. */
enum {
    GT_TOKEN_UNDEFINED = 0,
    GT_TOKEN_NORMAL = 1,
    GT_TOKEN_UNKNOWN = 2,
    GT_TOKEN_CONTROL = 3,
    GT_TOKEN_USER_DEFINED = 4,
    GT_TOKEN_UNUSED = 5,
    GT_TOKEN_BYTE = 6,
};

typedef struct gt_tokenizer gt_tokenizer;

/* Builds the tokenizer described by g's metadata. Fails with a message naming
 * the key for a missing or malformed vocabulary, and names an unsupported
 * tokenizer model or pre-tokenizer. Caller frees with gt_tokenizer_free. */
int gt_tokenizer_load(const gt_gguf *g, gt_tokenizer **out, gt_err *err);
void gt_tokenizer_free(gt_tokenizer *tok); /* accepts NULL */

/* Tokenizes len bytes of text (any bytes: invalid UTF-8 is handled as
 * llama.cpp does, never refused) into out[0..cap). add_special: add BOS/EOS
 * as the vocabulary asks; parse_special: turn control-token texts such as
 * "<|im_end|>" into their ids. *n_out gets the number of tokens; when cap is
 * too small nothing past cap is written, *n_out is the count needed and the
 * call returns GT_ELIMIT. Text over GT_TOKENIZER_MAX_TEXT_BYTES: GT_ELIMIT. */
int gt_tokenize(const gt_tokenizer *tok, const char *text, size_t len, int add_special,
                int parse_special, int32_t *out, size_t cap, size_t *n_out, gt_err *err);

/* gt_tokenize for text from outside, with a budget: appends the ids to ids
 * (int32_t each) and sets *n_out to their count when there are at most
 * max_tokens of them. A text with more fails with GT_ELIMIT, nothing
 * appended and *n_out set to a count over max_tokens that the whole text
 * has at least (a lower bound, not its full count), having
 * done as little work as it could: none when its length alone shows it
 * cannot fit (gt_tokenize_min_tokens), else it stops after the fragment (or
 * BPE word) whose tokens passed the budget. */
int gt_tokenize_max(const gt_tokenizer *tok, const char *text, size_t len, int add_special, int parse_special,
                    size_t max_tokens, gt_buf *ids, size_t *n_out, gt_err *err);
/* A lower bound on the number of tokens gt_tokenize makes of text, from its
 * length alone (O(len), no tokenizing): every token stands for at most as
 * many bytes as the longest vocabulary text (input bytes for SentencePiece,
 * bytes of the byte-level alphabet for BPE), white space after an rstrip
 * special token aside; 0 for a vocabulary that can drop input bytes (a byte
 * with no token and no unknown token). */
size_t gt_tokenize_min_tokens(const gt_tokenizer *tok, const char *text, size_t len);

/* The bytes a token stands for in generated text (not NUL-terminated; *len
 * gets the length; owned by tok). Control and unknown tokens give "" unless
 * special is set, then their text. NULL for an id out of range. A piece may
 * be part of a UTF-8 character (byte tokens): streamers must buffer. */
const char *gt_token_to_piece(const gt_tokenizer *tok, int32_t id, int special, size_t *len);

/* Appends the text of n tokens to out. remove_special drops a leading BOS and
 * trailing EOS that add_special would have added; the space SentencePiece
 * prefixed is dropped from the first piece unless a BOS was dropped (both as
 * llama_detokenize does); unparse_special writes control tokens' texts.
 * Unlike llama_detokenize, spaces before punctuation are never "cleaned up"
 * (GPT-2 vocabularies): the result is exactly the pieces, so the text of
 * tokenize(text) comes back unchanged. Fails (GT_EINVAL, nothing appended)
 * on an id out of range. */
int gt_detokenize(const gt_tokenizer *tok, const int32_t *ids, size_t n, int remove_special,
                  int unparse_special, gt_buf *out, gt_err *err);

/* The token's text as stored in the vocabulary (owned by tok, *len bytes;
 * NULL when out of range), its attribute (GT_TOKEN_*), and the id of an
 * exact text (-1 when none). */
const char *gt_token_text(const gt_tokenizer *tok, int32_t id, size_t *len);
int gt_token_attr(const gt_tokenizer *tok, int32_t id);
/* 1 when special parsing drops the white space after special token id
 * (Phi-3's turn markers, as llama.cpp does), else 0. */
int gt_token_rstrip(const gt_tokenizer *tok, int32_t id);
int32_t gt_tokenizer_find(const gt_tokenizer *tok, const char *text, size_t len);

int32_t gt_tokenizer_n_vocab(const gt_tokenizer *tok);
/* Special ids; -1 when the vocabulary has none. */
int32_t gt_tokenizer_bos(const gt_tokenizer *tok);
int32_t gt_tokenizer_eos(const gt_tokenizer *tok);
int32_t gt_tokenizer_eot(const gt_tokenizer *tok);
/* Whether add_special adds BOS / EOS. */
int gt_tokenizer_add_bos(const gt_tokenizer *tok);
int gt_tokenizer_add_eos(const gt_tokenizer *tok);
/* End of generation: EOS, EOT and the end-of-turn tokens llama.cpp knows by
 * text ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", ...). */
int gt_tokenizer_is_eog(const gt_tokenizer *tok, int32_t id);
/* "llama" or "gpt2", and the pre-tokenizer name as in the file ("default"
 * when absent). Owned by tok. */
const char *gt_tokenizer_model(const gt_tokenizer *tok);
const char *gt_tokenizer_pre(const gt_tokenizer *tok);

#endif
