/* quantize.c: f32 -> GGUF block formats, ggml's reference rounding (see
 * quantize.h). Scalar and simple on purpose: quantizing happens once per
 * weight when a model is written, and matching llama.cpp's bytes exactly
 * matters more than speed here. */
#include "infer/quantize.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "base/err.h"
#include "infer/gguf.h"
#include "infer/kquant.h"
#include "infer/quantize_q32.h"

#define QK 32 /* elements per Q8_0 / Q4_0 block */

/* Rounds to the nearest f16, ties to even; NaN stays NaN (quiet), values from
 * 65520 up become infinity, tiny ones go subnormal or to zero. */
uint16_t gt_quantize_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520: inf */
    if (ax < 0x38800000u) {                                   /* below 2^-14: subnormal */
        if (ax < 0x33000000u) return (uint16_t)sign;          /* <= 2^-25 rounds to 0 */
        uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* value / 2^-24 = m >> shift, 14 <= shift <= 24 */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q); /* q == 0x400 is the smallest normal: right */
    }
    uint32_t r = ax - 0x38000000u; /* exponent bias 127 -> 15 */
    uint32_t q = r >> 13, rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1))) q++; /* a carry bumps the exponent */
    return (uint16_t)(sign | q);
}

/* Exact widening of an f16. */
float gt_quantize_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ffu, x;
    if (e == 0x1f) {
        x = sign | 0x7f800000u | (m << 13);
    } else if (e) {
        x = sign | ((e + 112) << 23) | (m << 13);
    } else {
        float v = (float)m * 0x1p-24f; /* subnormal or zero: exact */
        memcpy(&x, &v, 4);
        x |= sign;
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* Rounds to the nearest bf16, ties to even; NaN stays NaN (quiet bit set). */
uint16_t gt_quantize_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 64);
    return (uint16_t)((x + (0x7fffu + ((x >> 16) & 1))) >> 16);
}

void gt_quantize_row_f16(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = gt_quantize_f32_to_f16(src[i]);
}

void gt_quantize_row_bf16(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = gt_quantize_f32_to_bf16(src[i]);
}

/* Q8_0 block: f16 d then 32 int8. Written bytewise (the output may be
 * unaligned inside a file buffer). */
void gt_quantize_row_q8_0(const float *src, void *dst, int64_t n) {
    assert(n % QK == 0);
    uint8_t *y = dst;
    for (int64_t b = 0; b < n / QK; b++, src += QK, y += 2 + QK) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(src[j]));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t dh = gt_quantize_f32_to_f16(d);
        memcpy(y, &dh, 2);
        for (int j = 0; j < QK; j++) y[2 + j] = (uint8_t)(int8_t)roundf(src[j] * id);
    }
}

/* Q4_0 block: f16 d then 16 bytes of nibble pairs (see quantize.h). */
void gt_quantize_row_q4_0(const float *src, void *dst, int64_t n) {
    assert(n % QK == 0);
    uint8_t *y = dst;
    for (int64_t b = 0; b < n / QK; b++, src += QK, y += 2 + QK / 2) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++)
            if (amax < fabsf(src[j])) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t dh = gt_quantize_f32_to_f16(d);
        memcpy(y, &dh, 2);
        for (int j = 0; j < QK / 2; j++) {
            int lo = (int)(int8_t)(src[j] * id + 8.5f), hi = (int)(int8_t)(src[j + QK / 2] * id + 8.5f);
            lo = lo < 15 ? lo : 15;
            hi = hi < 15 ? hi : 15;
            y[2 + j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

int gt_quantize_row(uint32_t type, const float *src, void *dst, int64_t n) {
    switch (type) {
    case GT_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); return 0;
    case GT_TYPE_F16: gt_quantize_row_f16(src, dst, n); return 0;
    case GT_TYPE_BF16: gt_quantize_row_bf16(src, dst, n); return 0;
    case GT_TYPE_Q8_0: gt_quantize_row_q8_0(src, dst, n); return 0;
    case GT_TYPE_Q4_0: gt_quantize_row_q4_0(src, dst, n); return 0;
    case GT_TYPE_Q4_K: gt_quantize_row_q4_k(src, dst, n); return 0;
    case GT_TYPE_Q5_K: gt_quantize_row_q5_k(src, dst, n); return 0;
    case GT_TYPE_Q6_K: gt_quantize_row_q6_k(src, dst, n); return 0;
    case GT_TYPE_Q2_K: gt_quantize_row_q2_k(src, dst, n); return 0;
    case GT_TYPE_Q3_K: gt_quantize_row_q3_k(src, dst, n); return 0;
    case GT_TYPE_IQ4_XS: gt_quantize_row_iq4_xs(src, dst, n); return 0;
    case GT_TYPE_Q4_1: gt_quantize_row_q4_1(src, dst, n); return 0;
    case GT_TYPE_Q5_0: gt_quantize_row_q5_0(src, dst, n); return 0;
    case GT_TYPE_Q5_1: gt_quantize_row_q5_1(src, dst, n); return 0;
    case GT_TYPE_IQ4_NL: gt_quantize_row_iq4_nl(src, dst, n); return 0;
    default: return GT_EUNSUPPORTED;
    }
}
