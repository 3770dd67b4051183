/* fuzz_tokenizer_hf.c: `gotong tokenizer import` on arbitrary bytes (a
 * tokenizer.json is outside input: whoever published it wrote it). The bytes
 * up to the first NUL are the tokenizer.json, those after it the
 * tokenizer_config.json (none without a NUL). A conversion ends in a
 * vocabulary within the tokenizer's limits, with its special ids inside it,
 * that the GGUF writer writes, or in an error; never a crash, leak or hang. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/tokenizer.h"
#include "infer/tokenizer_hf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t json_len = nul ? (size_t)(nul - data) : size;
    const char *config = nul ? (const char *)nul + 1 : NULL;
    size_t config_len = nul ? size - json_len - 1 : 0;
    gt_gguf_writer *w = gt_gguf_writer_new();
    gt_tokenizer_hf_info in;
    gt_err err;
    if (!w) return 0;
    if (!gt_tokenizer_hf_convert((const char *)data, json_len, config, config_len, "fuzz", w, &in, &err)) {
        if (in.n_tokens < 256 || (uint32_t)in.n_tokens > GT_TOKENIZER_MAX_VOCAB || in.n_byte != 256) __builtin_trap();
        if (in.bos >= in.n_tokens || in.eos >= in.n_tokens || in.unk >= in.n_tokens || in.pad >= in.n_tokens)
            __builtin_trap();
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (gt_gguf_writer_to_mem(w, &bytes, &len, &err)) __builtin_trap();
        gt_free(bytes);
    }
    gt_gguf_writer_free(w);
    return 0;
}
