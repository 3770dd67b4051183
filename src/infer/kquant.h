/* kquant.h: the K-quant weight formats of GGUF (Q2_K, Q3_K, Q4_K, Q5_K,
 * Q6_K, and IQ4_XS, which shares their super-blocks and Q8_K activations):
 * block layouts, quantizers, dequantization, and the super-block unpacking
 * the kernels use.
 *
 * A K-quant row is made of super-blocks of 256 weights (GT_QK_K):
 *   Q4_K (144 bytes): f16 d, f16 dmin, 12 bytes of 6-bit scales and mins for
 *     8 sub-blocks of 32, 128 bytes of nibbles. Weight = d*sc*q - dmin*m,
 *     q in 0..15. Sub-blocks 2c and 2c+1 share bytes qs[32c..32c+31]: the
 *     low nibbles hold sub-block 2c, the high ones 2c+1.
 *   Q5_K (176 bytes): as Q4_K plus 32 bytes qh of fifth bits: bit c of
 *     qh[i] is the high bit of element 32c+i, so q in 0..31.
 *   Q6_K (210 bytes): 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits),
 *     16 int8 scales for sub-blocks of 16, f16 d. Weight = d*sc*(q-32). In
 *     each half of 128 (h = 0, 1; ql + 64h, qh + 32h), for l < 32: element
 *     l from ql[l] low | qh[l] bits 0-1, l+32 from ql[l+32] low | bits 2-3,
 *     l+64 from ql[l] high | bits 4-5, l+96 from ql[l+32] high | bits 6-7.
 *   Q2_K (84 bytes): 16 bytes scales (sub-block g of 16: scale = low
 *     nibble, min = high nibble), 64 bytes qs, f16 d, f16 dmin. Weight =
 *     d*sc*q - dmin*m, q in 0..3: element 128h + 32s + l (l < 32) is bits
 *     2s..2s+1 of qs[32h + l].
 *   Q3_K (110 bytes): 32 bytes hmask, 64 bytes qs, 12 bytes of 6-bit
 *     scales, f16 d. Weight = d*(sc-32)*(q-4), q in 0..7: low two bits as
 *     Q2_K's, the third is bit e/32 of hmask[e % 32]. Scale g: low nibble of
 *     scales[g] (g < 8) or high nibble of scales[g-8], high two bits from
 *     scales[8 + g%4] >> 2(g/4).
 *   IQ4_XS (136 bytes): f16 d, u16 scales_h, 4 bytes scales_l, 128 bytes
 *     qs. Sub-block j of 32: 6-bit ls = nibble j%2 of scales_l[j/2] | bits
 *     2j..2j+1 of scales_h << 4; weight = d*(ls-32)*kvalues[nibble], the
 *     nibbles of qs[16j..16j+15] as in IQ4_NL (quantize_q32.h).
 * The 6-bit scales and mins of Q4_K/Q5_K (sub-block j): for j < 4, sc =
 * scales[j] & 63 and m = scales[j+4] & 63; for j >= 4, sc = (scales[j+4] &
 * 15) | (scales[j-4] >> 6) << 4 and m = (scales[j+4] >> 4) | (scales[j] >>
 * 6) << 4.
 *
 * The quantizers follow ggml's reference (non-imatrix) search, operation by
 * operation in f32, so their bytes equal llama.cpp's on the same floats
 * (tests/infer/test_kquant.c checks it against libggml). */
#ifndef GT_INFER_KQUANT_H
#define GT_INFER_KQUANT_H

#include <assert.h>
#include <stdint.h>

#include "infer/gguf.h"

#define GT_QK_K 256 /* weights per super-block */

typedef struct gt_block_q4_k {
    uint16_t d, dmin;      /* f16 super-block scales */
    uint8_t scales[12];    /* 8 x (6-bit scale, 6-bit min), packed (above) */
    uint8_t qs[GT_QK_K / 2];
} gt_block_q4_k;

typedef struct gt_block_q5_k {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qh[GT_QK_K / 8];
    uint8_t qs[GT_QK_K / 2];
} gt_block_q5_k;

typedef struct gt_block_q6_k {
    uint8_t ql[GT_QK_K / 2];
    uint8_t qh[GT_QK_K / 4];
    int8_t scales[GT_QK_K / 16];
    uint16_t d;
} gt_block_q6_k;

typedef struct gt_block_q2_k {
    uint8_t scales[GT_QK_K / 16];
    uint8_t qs[GT_QK_K / 4];
    uint16_t d, dmin;
} gt_block_q2_k;

typedef struct gt_block_q3_k {
    uint8_t hmask[GT_QK_K / 8];
    uint8_t qs[GT_QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
} gt_block_q3_k;

typedef struct gt_block_iq4_xs {
    uint16_t d, scales_h;
    uint8_t scales_l[GT_QK_K / 64];
    uint8_t qs[GT_QK_K / 2];
} gt_block_iq4_xs;

static_assert(sizeof(gt_block_q2_k) == 84, "Q2_K block is 84 bytes in GGUF");
static_assert(sizeof(gt_block_q3_k) == 110, "Q3_K block is 110 bytes in GGUF");
static_assert(sizeof(gt_block_iq4_xs) == 136, "IQ4_XS block is 136 bytes in GGUF");
static_assert(sizeof(gt_block_q4_k) == 144, "Q4_K block is 144 bytes in GGUF");
static_assert(sizeof(gt_block_q5_k) == 176, "Q5_K block is 176 bytes in GGUF");
static_assert(sizeof(gt_block_q6_k) == 210, "Q6_K block is 210 bytes in GGUF");

/* 1 for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS. */
int gt_kq_is_k(uint32_t type);
/* 1 for the types with mins (Q2_K, Q4_K, Q5_K); inline: the kernels ask
 * per super-block. */
static inline int gt_kq_has_min(uint32_t type) {
    return type == GT_TYPE_Q4_K || type == GT_TYPE_Q5_K || type == GT_TYPE_Q2_K;
}

/* Quantize n floats (a multiple of 256) into dst (n / 256 blocks, any
 * alignment). */
void gt_quantize_row_q4_k(const float *src, void *dst, int64_t n);
void gt_quantize_row_q5_k(const float *src, void *dst, int64_t n);
void gt_quantize_row_q6_k(const float *src, void *dst, int64_t n);
void gt_quantize_row_q2_k(const float *src, void *dst, int64_t n);
void gt_quantize_row_q3_k(const float *src, void *dst, int64_t n);
void gt_quantize_row_iq4_xs(const float *src, void *dst, int64_t n);

/* Dequantize n weights (a multiple of 256) of a row, as ggml does (the same
 * f32 operations, so the same bits). */
void gt_dequant_row_q4_k(const void *row, float *out, int64_t n);
void gt_dequant_row_q5_k(const void *row, float *out, int64_t n);
void gt_dequant_row_q6_k(const void *row, float *out, int64_t n);
/* Q2_K, Q3_K, IQ4_XS (kquant_low.c). */
void gt_kq_low_dequant_row(uint32_t type, const void *row, float *out, int64_t n);

/* One super-block unpacked for the kernels: q[i] the quant of element i as
 * an unsigned byte (Q2_K 0..3, Q3_K 0..7 meaning q - 4, Q4_K 0..15, Q5_K
 * 0..31, Q6_K 0..63 meaning q - 32, IQ4_XS the table value + 128);
 * Q4_K/Q5_K: sc[j], m[j] the 6-bit scale and min of sub-block j < 8, d and
 * dmin; Q2_K: sc[g], m[g] the 4-bit scale and min of sub-block g < 16 (of
 * 16); Q6_K: sc[g] the scale of sub-block g < 16, d; Q3_K: sc[g] = 6-bit
 * scale - 32 (g < 16), d; IQ4_XS: sc[j] = ls - 32 (j < 8), d. */
typedef struct gt_kq_sb {
    float d, dmin;
    int32_t sc[16], m[16];
    uint8_t q[GT_QK_K];
} gt_kq_sb;

void gt_kq_unpack(uint32_t type, const void *block, gt_kq_sb *out);
/* The same without the quants (d, dmin, sc, m only). */
void gt_kq_header(uint32_t type, const void *block, gt_kq_sb *out);
/* Both for Q2_K, Q3_K, IQ4_XS (kquant_low.c; the two above call them). */
void gt_kq_low_header(uint32_t type, const uint8_t *block, gt_kq_sb *out);
void gt_kq_low_quants(uint32_t type, const uint8_t *block, uint8_t q[GT_QK_K]);

#endif
