/* quantize_model.h: rewrites a GGUF model file in a quantized type or one
 * of llama.cpp's mixes (`gotong model quantize`).
 *
 * The per-tensor choice follows llama.cpp's llama-quantize without an
 * importance matrix, so the output equals its file tensor for tensor (same
 * types, same bytes; tests/infer/test_quantize_model.c checks against
 * libllama's llama_model_quantize):
 *   - quantized: 2-D tensors whose name ends in "weight" and not
 *     "_norm.weight"; everything else (norms, biases) is copied unchanged;
 *   - the output matrix (token_embd when the model has no output.weight)
 *     becomes Q6_K unless the preset is Q8_0 (Q8_0 when its rows are not a
 *     multiple of the preset type's block);
 *   - attn_v: Q2_K Q3_K (Q4_K with 4+ query heads per KV head); Q3_K_M Q5_K
 *     on the first 2 layers, then Q4_K; Q3_K_L Q5_K; IQ4_NL/IQ4_XS Q5_K with
 *     4+ query heads per KV head; Q4_K_M/Q5_K_M Q6_K on "more bits" layers
 *     (the first and last eighth and every third between, counted in file
 *     order); Q4_K_S Q5_K on the first 4;
 *   - ffn_down: Q2_K Q3_K; Q3_K_M Q5_K on the first sixteenth, then Q4_K;
 *     Q3_K_L Q5_K; Q4_K_M/Q5_K_M Q6_K on "more bits" layers; Q4_K_S, IQ4_NL
 *     and IQ4_XS Q5_K on the first eighth;
 *   - attn_output: Q2_K Q3_K, Q3_K_M Q4_K, Q3_K_L Q5_K;
 *   - a row length the chosen type's blocks do not divide falls back as
 *     llama.cpp does (Q2_K/Q3_K to Q4_0, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to
 *     Q8_0, IQ4_XS to IQ4_NL; F16 when even that does not divide it).
 * llama.cpp's rules for MoE (8 experts), 70B and Falcon models are not
 * repeated: gotong runs neither.
 * Input tensors to quantize must be F32, F16 or BF16 (already quantized
 * ones are refused: requantizing loses precision twice). */
#ifndef GT_INFER_QUANTIZE_MODEL_H
#define GT_INFER_QUANTIZE_MODEL_H

#include <stdint.h>

#include "base/err.h"

typedef struct gt_qpreset {
    const char *name;     /* "q4_k_m" */
    uint32_t base_type;   /* most matrices */
    uint32_t file_type;   /* general.file_type, llama_ftype numbering */
} gt_qpreset;

/* The preset named name (gt_qpreset_names lists them), or NULL. */
const gt_qpreset *gt_qpreset_find(const char *name);
/* The names, comma-separated, for messages. */
const char *gt_qpreset_names(void);

/* Quantizes in_path into out_path (written whole to a temporary name, then
 * renamed) with n_threads threads (the bytes do not depend on it). */
int gt_quantize_model(const char *in_path, const char *out_path, const gt_qpreset *preset,
                      int n_threads, gt_err *err);

#endif
