/* tokenizer_hf.h: a Hugging Face tokenizer.json (and optionally its
 * tokenizer_config.json) turned into GGUF tokenizer metadata that gotong's
 * tokenizer and llama.cpp read: tokenizer.ggml.model "llama" (SentencePiece).
 *
 * Accepted: the SentencePiece-derived kind (Gemma, Llama 2, Mistral's
 * older files): model "BPE" with byte_fallback, spaces replaced by U+2581
 * in the normalizer (optionally with a U+2581 prepended: the space prefix).
 * Byte-level BPE (GPT-2 style), Unigram, WordPiece and other pre-tokenizers or
 * normalizers are refused with the name of what is not supported.
 *
 * SentencePiece merges by score where Hugging Face's BPE merges by rank, so
 * each token's score is minus the rank of the first merge that makes it
 * (tokens no merge makes get the lowest score, minus the merge count): the
 * highest-scoring pair is then the lowest-ranked merge. Token types: the 256
 * <0xXX> tokens BYTE, the unknown token UNKNOWN, added tokens CONTROL when
 * "special" else USER_DEFINED, the rest NORMAL. BOS/EOS and whether they are
 * added come from the post-processor's TemplateProcessing; the config's
 * bos/eos/unk/pad_token and add_bos/add_eos_token override, and its
 * chat_template becomes tokenizer.chat_template. */
#ifndef GT_INFER_TOKENIZER_HF_H
#define GT_INFER_TOKENIZER_HF_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "infer/gguf.h"

/* Largest files read: Gemma 3's tokenizer.json is 33 MB (262k tokens, 515k
 * merges), its config 1.2 MB. */
#define GT_TOKENIZER_HF_MAX_JSON_BYTES (128u << 20)
#define GT_TOKENIZER_HF_MAX_CONFIG_BYTES (16u << 20)
/* Most merges: scores are exact in a float up to 2^24. */
#define GT_TOKENIZER_HF_MAX_MERGES (1u << 24)

/* What a conversion made, for the CLI to tell. Ids are -1 when none. */
typedef struct gt_tokenizer_hf_info {
    int32_t n_tokens, n_merges, n_control, n_user_defined, n_byte;
    int32_t bos, eos, unk, pad;
    int add_bos, add_eos, add_space_prefix;
    size_t chat_template_bytes; /* 0: none */
} gt_tokenizer_hf_info;

/* Converts tokenizer.json's text (json, json_len) and optionally the
 * config's (config may be NULL) into tokenizer.* keys (plus
 * general.architecture "llama" and general.name = name, so llama.cpp loads
 * the file as a vocabulary) set on w. Fails with GT_EINVAL or
 * GT_EUNSUPPORTED and a message naming the field, GT_ELIMIT past the limits
 * above or the tokenizer's (tokenizer.h), GT_ENOMEM. */
int gt_tokenizer_hf_convert(const char *json, size_t json_len, const char *config, size_t config_len,
                            const char *name, gt_gguf_writer *w, gt_tokenizer_hf_info *info, gt_err *err);

/* Reads the files (config_path may be NULL), converts and writes the GGUF
 * vocabulary to out_path (atomically). */
int gt_tokenizer_hf_write(const char *json_path, const char *config_path, const char *name, const char *out_path,
                          gt_tokenizer_hf_info *info, gt_err *err);

#endif
