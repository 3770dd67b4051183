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
 *     multiple of 256);
 *   - Q4_K_M / Q5_K_M: attn_v and ffn_down in Q6_K on "more bits" layers
 *     (the first and last eighth and every third between, counted in file
 *     order); Q4_K_S: attn_v of the first 4 layers and ffn_down of the first
 *     eighth in Q5_K;
 *   - a row length that the chosen type's blocks do not divide is refused
 *     (llama.cpp would fall back to Q5_0/Q5_1, which gotong lacks).
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

/* The preset named name (q8_0, q4_0, q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k),
 * or NULL. */
const gt_qpreset *gt_qpreset_find(const char *name);
/* The names, comma-separated, for messages. */
const char *gt_qpreset_names(void);

/* Quantizes in_path into out_path (written whole to a temporary name, then
 * renamed) with n_threads threads (the bytes do not depend on it). */
int gt_quantize_model(const char *in_path, const char *out_path, const gt_qpreset *preset,
                      int n_threads, gt_err *err);

#endif
