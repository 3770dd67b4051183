/* test_kquant.c: the K-quant formats against ggml itself. The fixture
 * quant/ggml_quant_ref.bin (written by tests/ref/ggml_quant_ref.c linked
 * against llama.cpp's libggml-base, see scripts/fixtures.sh) holds rows of
 * many kinds (normal at scales 1e-3..1e3, one-signed, constant, zero
 * sub-blocks, outliers, tiny values near ggml's epsilon, sparse, on a grid),
 * ggml's quantized bytes for each and its dequantization of those bytes.
 * gotong's quantizer must give the same bytes, and gotong's dequantization
 * of ggml's bytes the same float bits. Also: the block layouts by hand (one
 * super-block built field by field), and the kernels' unpacking against
 * dequantization. */
#include <math.h>

#include "../test.h"
#include "base/alloc.h"
#include "infer/gguf.h"
#include "infer/kernels.h"
#include "infer/kquant.h"
#include "infer/quantize.h"
#include "infer/quantize_q32.h"

#define MAX_COLS 4096

static uint32_t rd_u32(FILE *f, int *ok) {
    uint32_t v = 0;
    if (fread(&v, 4, 1, f) != 1) *ok = 0;
    return v;
}

/* One type's rows from the fixture: quantize, compare bytes; dequantize
 * ggml's bytes, compare bits. Returns the rows checked. */
static int check_type(FILE *f, uint32_t type, uint32_t rb, uint32_t n_rows, uint32_t n_cols) {
    static float x[MAX_COLS], y_ref[MAX_COLS], y[MAX_COLS];
    static uint8_t q_ref[MAX_COLS * 2], q[MAX_COLS * 2];
    int rows = 0, byte_bad = 0, deq_bad = 0;
    CHECK_EQ_U64(rb, gt_ggml_row_bytes(type, n_cols));
    for (uint32_t r = 0; r < n_rows; r++) {
        int ok = fread(x, 4, n_cols, f) == n_cols && fread(q_ref, 1, rb, f) == rb &&
                 fread(y_ref, 4, n_cols, f) == n_cols;
        CHECK_MSG(ok, "fixture truncated in %s row %u", gt_ggml_type_name(type), r);
        if (!ok) return rows;
        memset(q, 0xa5, rb);
        CHECK_EQ_INT(gt_quantize_row(type, x, q, n_cols), 0);
        if (memcmp(q, q_ref, rb)) {
            uint32_t i = 0;
            while (q[i] == q_ref[i]) i++;
            if (byte_bad++ < 5)
                fprintf(stderr, "  %s row %u (kind %u): byte %u (block %u) is %02x, ggml %02x\n",
                        gt_ggml_type_name(type), r, r % 12, i, i / (uint32_t)gt_ggml_block_bytes(type), q[i], q_ref[i]);
        }
        gt_dequant_row(type, q_ref, y, n_cols);
        if (memcmp(y, y_ref, (size_t)n_cols * 4)) {
            uint32_t i = 0;
            while (!memcmp(&y[i], &y_ref[i], 4)) i++;
            if (deq_bad++ < 5)
                fprintf(stderr, "  %s row %u: dequantized [%u] %a, ggml %a\n", gt_ggml_type_name(type), r,
                        i, (double)y[i], (double)y_ref[i]);
        }
        rows++;
    }
    CHECK_MSG(byte_bad == 0, "%s: %d of %u rows differ from ggml's bytes", gt_ggml_type_name(type), byte_bad, n_rows);
    CHECK_MSG(deq_bad == 0, "%s: %d of %u rows dequantize differently", gt_ggml_type_name(type), deq_bad, n_rows);
    return rows;
}

static void test_against_ggml(void) {
    const char *path = gt_fixture("quant/ggml_quant_ref.bin");
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f, "%s missing: run scripts/fixtures.sh (ctest's fixtures test)", path);
    if (!f) return;
    char magic[8];
    int ok = fread(magic, 8, 1, f) == 1 && !memcmp(magic, "GTKQREF1", 8);
    uint32_t n_types = rd_u32(f, &ok), n_rows = rd_u32(f, &ok), n_cols = rd_u32(f, &ok);
    CHECK(ok && n_types >= 3 && n_rows > 0 && n_cols % 256 == 0 && n_cols <= MAX_COLS);
    int seen_k = 0, seen_q32 = 0;
    for (uint32_t t = 0; ok && t < n_types; t++) {
        uint32_t type = rd_u32(f, &ok), rb = rd_u32(f, &ok);
        CHECK(ok && rb <= sizeof(float) * MAX_COLS);
        if (!ok) break;
        int rows = check_type(f, type, rb, n_rows, n_cols);
        CHECK_EQ_INT(rows, (int)n_rows);
        seen_k += gt_kq_is_k(type);
        seen_q32 += gt_q32_is(type);
        fprintf(stderr, "  %s: %d rows of %u identical to ggml's bytes and dequantization\n",
                gt_ggml_type_name(type), rows, n_cols);
    }
    CHECK_EQ_INT(seen_k, 6);   /* Q2_K..Q6_K, IQ4_XS */
    CHECK_EQ_INT(seen_q32, 4); /* Q4_1, Q5_0, Q5_1, IQ4_NL */
    fclose(f);
}

/* A Q4_K super-block built by hand: scales/mins of sub-blocks 0..7 set to
 * distinct 6-bit values through the packed layout of kquant.h, quants
 * q = element % 16; the dequantized values follow d*sc*q - dmin*m. */
static void test_q4_k_layout(void) {
    gt_block_q4_k b;
    memset(&b, 0, sizeof b);
    b.d = gt_quantize_f32_to_f16(0.5f);
    b.dmin = gt_quantize_f32_to_f16(0.25f);
    int sc[8] = {1, 2, 3, 63, 17, 33, 48, 62}, mn[8] = {0, 5, 9, 40, 63, 16, 31, 1};
    for (int j = 0; j < 4; j++) {
        b.scales[j] = (uint8_t)(sc[j] | ((sc[j + 4] >> 4) << 6));
        b.scales[j + 4] = (uint8_t)(mn[j] | ((mn[j + 4] >> 4) << 6));
        b.scales[j + 8] = (uint8_t)((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
    }
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) b.qs[32 * c + l] = (uint8_t)((l % 16) | (((l + 3) % 16) << 4));
    float y[256];
    gt_dequant_row(GT_TYPE_Q4_K, &b, y, 256);
    int bad = 0;
    for (int i = 0; i < 256; i++) {
        int j = i / 32, l = i % 32, q = j % 2 ? (l + 3) % 16 : l % 16;
        float want = 0.5f * (float)sc[j] * (float)q - 0.25f * (float)mn[j];
        bad += y[i] != want;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(offsetof(gt_block_q4_k, qs), 16);
    CHECK_EQ_INT(offsetof(gt_block_q5_k, qh), 16);
    CHECK_EQ_INT(offsetof(gt_block_q5_k, qs), 48);
    CHECK_EQ_INT(offsetof(gt_block_q6_k, scales), 192);
    CHECK_EQ_INT(offsetof(gt_block_q6_k, d), 208);
}

/* A Q6_K super-block by hand: quant of element i is i % 64, scale of
 * sub-block j is j - 8; values d*sc*(q-32). */
static void test_q6_k_layout(void) {
    gt_block_q6_k b;
    memset(&b, 0, sizeof b);
    b.d = gt_quantize_f32_to_f16(0.125f);
    for (int j = 0; j < 16; j++) b.scales[j] = (int8_t)(j - 8);
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            int e[4];
            for (int k = 0; k < 4; k++) e[k] = (128 * h + l + 32 * k) % 64;
            b.ql[64 * h + l] = (uint8_t)((e[0] & 15) | ((e[2] & 15) << 4));
            b.ql[64 * h + l + 32] = (uint8_t)((e[1] & 15) | ((e[3] & 15) << 4));
            b.qh[32 * h + l] = (uint8_t)((e[0] >> 4) | ((e[1] >> 4) << 2) | ((e[2] >> 4) << 4) | ((e[3] >> 4) << 6));
        }
    float y[256];
    gt_dequant_row(GT_TYPE_Q6_K, &b, y, 256);
    int bad = 0;
    for (int i = 0; i < 256; i++) bad += y[i] != 0.125f * (float)(i / 16 - 8) * (float)(i % 64 - 32);
    CHECK_EQ_INT(bad, 0);
}

/* Quantize then dequantize random rows: every value within a step of the
 * input (a bound that holds for any sane scale choice), and the kernels'
 * unpacking gives the same values as dequantization. */
static void test_roundtrip_unpack(void) {
    static float x[1024], y[1024];
    static uint8_t q[1024];
    uint64_t s = 12345;
    const uint32_t types[3] = {GT_TYPE_Q4_K, GT_TYPE_Q5_K, GT_TYPE_Q6_K};
    for (int ti = 0; ti < 3; ti++) {
        uint32_t type = types[ti];
        double worst = 0;
        int unpack_bad = 0;
        for (int r = 0; r < 20; r++) {
            for (int i = 0; i < 1024; i++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                x[i] = (float)((double)(s >> 11) * 0x1p-53 - 0.5);
            }
            gt_quantize_row(type, x, q, 1024);
            gt_dequant_row(type, q, y, 1024);
            for (int i = 0; i < 1024; i++) worst = fmax(worst, fabs((double)x[i] - y[i]));
            size_t bb = gt_ggml_block_bytes(type);
            for (int b = 0; b < 4; b++) {
                gt_kq_sb sb;
                gt_kq_unpack(type, q + b * bb, &sb);
                for (int i = 0; i < 256; i++) {
                    float v = type == GT_TYPE_Q6_K
                                  ? sb.d * (float)sb.sc[i / 16] * (float)((int)sb.q[i] - 32)
                                  : sb.d * (float)sb.sc[i / 32] * (float)sb.q[i] - sb.dmin * (float)sb.m[i / 32];
                    unpack_bad += v != y[256 * b + i];
                }
            }
        }
        double step = type == GT_TYPE_Q4_K ? 1.0 / 15 : type == GT_TYPE_Q5_K ? 1.0 / 31 : 1.0 / 31;
        CHECK_MSG(worst <= step, "%s: worst round-trip error %g > %g", gt_ggml_type_name(type), worst, step);
        CHECK_EQ_INT(unpack_bad, 0);
    }
}

int main(void) {
    RUN(test_q4_k_layout);
    RUN(test_q6_k_layout);
    RUN(test_roundtrip_unpack);
    RUN(test_against_ggml);
    return gt_test_finish();
}
