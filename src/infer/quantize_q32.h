/* quantize_q32.h: the GGUF weight formats in blocks of 32 beyond Q8_0/Q4_0:
 * Q4_1, Q5_0, Q5_1 and IQ4_NL (block layouts, ggml's reference quantizers,
 * dequantization, and the decoding the kernels use).
 *
 * Layouts (little-endian, no padding):
 *   Q4_1 (20 bytes): f16 d, f16 m, 16 bytes qs; element j < 16 is the low
 *     nibble of qs[j], element j + 16 its high nibble; weight = q*d + m.
 *   Q5_0 (22 bytes): f16 d, 4 bytes qh (a u32), 16 bytes qs; element j's
 *     fifth bit is bit j of qh (j < 32), its low four bits as Q4_1's;
 *     weight = (q - 16)*d.
 *   Q5_1 (24 bytes): f16 d, f16 m, 4 bytes qh, 16 bytes qs; q as Q5_0's,
 *     weight = q*d + m.
 *   IQ4_NL (18 bytes): f16 d, 16 bytes qs (nibbles as Q4_1's); weight =
 *     d * kvalues[nibble], kvalues the non-linear table below.
 * The quantizers repeat ggml's f32 arithmetic operation by operation, so
 * the bytes equal llama.cpp's on the same floats (IQ4_NL: the search
 * llama.cpp's quantizer runs, quantize_iq4_nl with 7 trial scales each
 * side; tests/infer/test_kquant.c checks every type against libggml). */
#ifndef GT_INFER_QUANTIZE_Q32_H
#define GT_INFER_QUANTIZE_Q32_H

#include <stdint.h>

#define GT_Q32 32 /* weights per block */

/* The 16 values of IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl). */
extern const int8_t gt_iq4nl_values[16];

/* 1 for Q4_1, Q5_0, Q5_1 and IQ4_NL. */
int gt_q32_is(uint32_t type);
/* 1 for the types whose weights carry an offset m (Q4_1, Q5_1). */
int gt_q32_has_min(uint32_t type);

/* Quantize n floats (a multiple of 32) into dst (n / 32 blocks, any
 * alignment). */
void gt_quantize_row_q4_1(const float *src, void *dst, int64_t n);
void gt_quantize_row_q5_0(const float *src, void *dst, int64_t n);
void gt_quantize_row_q5_1(const float *src, void *dst, int64_t n);
void gt_quantize_row_iq4_nl(const float *src, void *dst, int64_t n);

/* One block decoded: v[i] the integer of element i (Q4_1 0..15, Q5_1
 * 0..31, Q5_0 -16..15, IQ4_NL a table value), so weight = v*d (+ m for
 * Q4_1/Q5_1; *m = 0 for the others). */
void gt_q32_decode(uint32_t type, const uint8_t *block, int8_t v[GT_Q32], float *d, float *m);

/* IQ4's search for one block of 32 (shared with IQ4_XS, kquant_low.c):
 * the scale llama.cpp's quantizer picks (0 for a block of magnitudes under
 * 1e-15), and the nibbles of x against a scale d (d = 0: all index 8). */
float gt_iq4_block_scale(const float *x);
void gt_iq4_pack(const float *x, float d, uint8_t qs[GT_Q32 / 2]);

/* Dequantizes n weights (a multiple of 32) of a row with ggml's f32
 * operations (so the same bits). */
void gt_q32_dequant_row(uint32_t type, const void *row, float *out, int64_t n);

#endif
