/* test_quantize.c: the row quantizers: f16 conversion against the CPU's F16C
 * instructions on millions of values and every half round-tripped; Q8_0 and
 * Q4_0 blocks checked byte by byte on hand-worked cases and within half a
 * step after dequantizing random rows. */
#include <cpuid.h>
#include <immintrin.h>
#include <math.h>

#include "../test.h"
#include "infer/gguf.h"
#include "infer/quantize.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

__attribute__((target("f16c"))) static uint16_t hw_f16(float f) {
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}

static void test_f16(void) {
    /* every half widens and narrows back to itself (NaNs stay NaN) */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = gt_quantize_f16_to_f32((uint16_t)h);
        uint16_t back = gt_quantize_f32_to_f16(f);
        int is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (is_nan ? !isnan(f) || (back & 0x7fff) <= 0x7c00 : back != h) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(gt_quantize_f16_to_f32(0x3c00) == 1.0f);
    CHECK(gt_quantize_f16_to_f32(0x0001) == 0x1p-24f);
    CHECK_EQ_INT(gt_quantize_f32_to_f16(65504.0f), 0x7bff);
    CHECK_EQ_INT(gt_quantize_f32_to_f16(65519.0f), 0x7bff);
    CHECK_EQ_INT(gt_quantize_f32_to_f16(65520.0f), 0x7c00);
    CHECK_EQ_INT(gt_quantize_f32_to_f16(-INFINITY), 0xfc00);
    CHECK_EQ_INT(gt_quantize_f32_to_f16(0x1p-25f), 0);      /* tie to even: 0 */
    CHECK_EQ_INT(gt_quantize_f32_to_f16(0x1.8p-25f), 1);    /* above the tie */
    CHECK_EQ_INT(gt_quantize_f32_to_f16(0x1.8p-24f), 2);    /* 1.5 units: tie to even */
    unsigned ca, cb, cc, cd; /* F16C: CPUID leaf 1, ECX bit 29 (clang 14 lacks the name "f16c") */
    if (!__get_cpuid(1, &ca, &cb, &cc, &cd) || !((cc >> 29) & 1)) return;
    /* random bit patterns and values near f16's range, against F16C */
    int mismatch = 0;
    for (int i = 0; i < 2000000; i++) {
        uint32_t x = (uint32_t)next();
        if (i & 1) x = (x & 0x8fffffffu) | 0x30000000u; /* exponents around f16's */
        float f;
        memcpy(&f, &x, 4);
        uint16_t a = gt_quantize_f32_to_f16(f), b = hw_f16(f);
        if (a != b && !(isnan(f) && (a & 0x7c00) == 0x7c00 && (b & 0x7c00) == 0x7c00)) {
            if (mismatch++ < 5) fprintf(stderr, "f16 of %a: %04x vs F16C %04x\n", f, a, b);
        }
    }
    CHECK_EQ_INT(mismatch, 0);
}

static void test_bf16(void) {
    CHECK_EQ_INT(gt_quantize_f32_to_bf16(1.0f), 0x3f80);
    CHECK_EQ_INT(gt_quantize_f32_to_bf16(-2.0f), 0xc000);
    uint32_t x = 0x3f808000u; /* exactly between 0x3f80 and 0x3f81: to even */
    float f;
    memcpy(&f, &x, 4);
    CHECK_EQ_INT(gt_quantize_f32_to_bf16(f), 0x3f80);
    x = 0x3f818000u;
    memcpy(&f, &x, 4);
    CHECK_EQ_INT(gt_quantize_f32_to_bf16(f), 0x3f82);
    CHECK(isnan(NAN) && (gt_quantize_f32_to_bf16(NAN) & 0x7fc0) == 0x7fc0);
}

static void test_q8_0(void) {
    float x[32];
    for (int i = 0; i < 32; i++) x[i] = (float)(i - 16) / 16.0f * 1.27f; /* amax 1.27 at -16 */
    uint8_t y[34];
    CHECK_EQ_INT(gt_quantize_row(GT_TYPE_Q8_0, x, y, 32), 0);
    uint16_t d;
    memcpy(&d, y, 2);
    CHECK_EQ_INT(d, gt_quantize_f32_to_f16(0.01f));
    CHECK_EQ_INT((int8_t)y[2], -127);       /* x[0] = -1.27 */
    CHECK_EQ_INT((int8_t)y[2 + 16], 0);     /* x[16] = 0 */
    CHECK_EQ_INT((int8_t)y[2 + 24], 64);    /* 0.635 / 0.01 = 63.5 rounds away from 0 */
    /* random rows: dequantized within half a step (plus f16 scale error) */
    float r[256];
    uint8_t q[8 * 34];
    double worst = 0;
    for (int t = 0; t < 50; t++) {
        for (int i = 0; i < 256; i++) r[i] = (float)((double)(next() % 20001) / 10000.0 - 1.0);
        gt_quantize_row_q8_0(r, q, 256);
        for (int b = 0; b < 8; b++) {
            uint16_t dh;
            memcpy(&dh, q + b * 34, 2);
            float dd = gt_quantize_f16_to_f32(dh);
            for (int j = 0; j < 32; j++) {
                double e = fabs(dd * (int8_t)q[b * 34 + 2 + j] - r[b * 32 + j]) / dd;
                if (e > worst) worst = e;
            }
        }
    }
    /* half a step, plus the f16 rounding of d times up to 127 steps */
    CHECK_MSG(worst <= 0.5 + 127.0 / 2048, "worst error %.3f steps", worst);
    memset(x, 0, sizeof x);
    gt_quantize_row_q8_0(x, y, 32);
    for (int i = 0; i < 34; i++) CHECK_EQ_INT(y[i], 0);
}

static void test_q4_0(void) {
    float x[32] = {0};
    x[0] = -8.0f; /* largest magnitude, negative: d = 1 */
    x[1] = 7.0f;
    x[16] = 3.4f;
    x[17] = -0.6f;
    x[31] = 8.0f; /* equal magnitude later: the first one sets the scale */
    uint8_t y[18];
    CHECK_EQ_INT(gt_quantize_row(GT_TYPE_Q4_0, x, y, 32), 0);
    uint16_t d;
    memcpy(&d, y, 2);
    CHECK_EQ_INT(d, 0x3c00); /* 1.0 */
    /* nibble = min(15, trunc(x/d + 8.5)) */
    CHECK_EQ_INT(y[2 + 0] & 15, 0);   /* -8 */
    CHECK_EQ_INT(y[2 + 0] >> 4, 11);  /* 3.4 -> 11.9 -> 11 */
    CHECK_EQ_INT(y[2 + 1] & 15, 15);  /* 7 -> 15.5 -> 15 */
    CHECK_EQ_INT(y[2 + 1] >> 4, 7);   /* -0.6 -> 7.9 -> 7 */
    CHECK_EQ_INT(y[2 + 15] >> 4, 15); /* 8 -> 16.5 -> clamped to 15 */
    CHECK_EQ_INT(y[2 + 5], 0x88);     /* zeros are nibble 8 */
    /* the sign flips with the largest value: d = -max/8 */
    for (int i = 0; i < 32; i++) x[i] = -x[i];
    x[31] = 0;
    gt_quantize_row_q4_0(x, y, 32);
    memcpy(&d, y, 2);
    CHECK_EQ_INT(d, 0xbc00); /* -1.0 */
    CHECK_EQ_INT(y[2 + 0] & 15, 0);
    CHECK_EQ_INT(gt_quantize_row(16 /* IQ2_XXS: needs an importance matrix */, x, y, 256), GT_EUNSUPPORTED);
}

int main(void) {
    RUN(test_f16);
    RUN(test_bf16);
    RUN(test_q8_0);
    RUN(test_q4_0);
    return gt_test_finish();
}
