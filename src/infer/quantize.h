/* quantize.h: f32 rows into GGUF weight formats (Q8_0, Q4_0, F16, BF16, F32;
 * the K-quants and IQ4_XS through kquant.h; Q4_1, Q5_0, Q5_1, IQ4_NL
 * through quantize_q32.h).
 *
 * The block layouts and rounding are ggml's reference ones, so a file we
 * write holds the same bytes llama.cpp's quantizer would produce from the
 * same floats: Q8_0 (f16 scale d = amax/127, int8 q = round(x/d)), Q4_0 (f16
 * scale d = -max/8 where max is the value of largest magnitude, nibble =
 * min(15, trunc(x/d + 8.5)), element i in the low nibble of byte i and
 * element i+16 in the high one), F16 rounded to nearest even (as F16C does),
 * BF16 rounded to nearest even with NaN kept quiet. Used by `gotong model
 * random`, and by the engine for anything it must quantize itself. */
#ifndef GT_INFER_QUANTIZE_H
#define GT_INFER_QUANTIZE_H

#include <stdint.h>

/* Quantizes n floats (a multiple of the type's block size) from src into dst
 * (gt_ggml_row_bytes(type, n) bytes). Returns 0, or GT_EUNSUPPORTED for a
 * type other than F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL,
 * Q2_K..Q6_K, IQ4_XS. */
int gt_quantize_row(uint32_t type, const float *src, void *dst, int64_t n);

void gt_quantize_row_q8_0(const float *src, void *dst, int64_t n);
void gt_quantize_row_q4_0(const float *src, void *dst, int64_t n);
void gt_quantize_row_f16(const float *src, uint16_t *dst, int64_t n);
void gt_quantize_row_bf16(const float *src, uint16_t *dst, int64_t n);

/* One value each way (exact: round to nearest even; f16 overflow -> inf). */
uint16_t gt_quantize_f32_to_f16(float f);
float gt_quantize_f16_to_f32(uint16_t h);
uint16_t gt_quantize_f32_to_bf16(float f);

#endif
