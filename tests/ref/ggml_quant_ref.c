/* ggml_quant_ref.c: ggml's own quantization of a fixed set of rows, for
 * tests/infer/test_kquant.c to compare gotong's quantizers against.
 *
 *   ggml_quant_ref OUT.bin
 *
 * Built by scripts/fixtures.sh against llama.cpp's prebuilt libggml-base
 * (scripts/setup.sh test). For each type (Q4_K, Q5_K, Q6_K, Q8_0, Q4_0,
 * Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K, Q3_K, IQ4_XS) and
 * each of N_ROWS rows of N_COLS floats (seeded, in kinds chosen to reach
 * the quantizers' corner cases), writes the input floats, ggml_quantize_chunk's
 * bytes (no importance matrix: the reference quantizers) and the type's
 * to_float of those bytes. File layout, little-endian:
 *   "GTKQREF1", u32 n_types, u32 n_rows, u32 n_cols, then per type: u32 ggml
 *   type id, u32 row bytes, then per row: f32[n_cols] input, row bytes,
 *   f32[n_cols] dequantized. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml.h"

#define N_ROWS 96
#define N_COLS 1024

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: the same stream on every machine. */
static uint64_t next_u64(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static double uniform01(void) { return (double)(next_u64() >> 11) * 0x1p-53; }

static float normal(double sigma) {
    double u = uniform01(), v = uniform01();
    if (u < 1e-300) u = 1e-300;
    return (float)(sigma * sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}

/* Row r of the input: the kind cycles through 12 shapes of data. */
static void make_row(int r, float *x) {
    int kind = r % 12;
    double sigma = pow(10.0, (double)(r % 7) - 3.0); /* 1e-3 .. 1e3 */
    for (int i = 0; i < N_COLS; i++) {
        float v = normal(sigma);
        switch (kind) {
        case 0: case 1: case 2: break;                              /* normal */
        case 3: v = fabsf(v); break;                                 /* all positive */
        case 4: v = -fabsf(v); break;                                /* all negative */
        case 5: v = (float)(sigma * (2 * uniform01() - 1)); break;   /* uniform */
        case 6: v = (i % 64 < 32) ? 0.0f : v; break;                 /* zero sub-blocks */
        case 7: v = (next_u64() % 50 == 0) ? v * 40 : v; break;      /* outliers */
        case 8: v = (float)sigma; break;                             /* constant */
        case 9: v = (i % 256 < 16) ? 0.0f : v * 1e-18f; break;       /* tiny, near the eps */
        case 10: v = (float)((int)(v * 4)) / 4; break;               /* on a grid */
        default: v = (i % 16 == 3) ? v : 0.0f; break;                /* sparse */
        }
        x[i] = v;
    }
}

static void put_u32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: ggml_quant_ref OUT.bin\n");
        return 2;
    }
    const enum ggml_type types[] = {GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K,  GGML_TYPE_Q8_0,
                                    GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,  GGML_TYPE_Q5_1,
                                    GGML_TYPE_IQ4_NL, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_IQ4_XS};
    const int n_types = (int)(sizeof types / sizeof types[0]);
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fwrite("GTKQREF1", 8, 1, f);
    put_u32(f, (uint32_t)n_types);
    put_u32(f, N_ROWS);
    put_u32(f, N_COLS);
    static float x[N_COLS], y[N_COLS];
    static uint8_t q[N_COLS * 2];
    for (int ti = 0; ti < n_types; ti++) {
        enum ggml_type t = types[ti];
        size_t rb = ggml_row_size(t, N_COLS);
        put_u32(f, (uint32_t)t);
        put_u32(f, (uint32_t)rb);
        rng_state = 0x9e3779b97f4a7c15ull; /* the same rows for every type */
        for (int r = 0; r < N_ROWS; r++) {
            make_row(r, x);
            memset(q, 0, sizeof q);
            size_t got = ggml_quantize_chunk(t, x, q, 0, 1, N_COLS, NULL);
            if (got != rb) {
                fprintf(stderr, "ggml_quantize_chunk(%s) wrote %zu bytes, expected %zu\n", ggml_type_name(t), got, rb);
                return 1;
            }
            ggml_get_type_traits(t)->to_float(q, y, N_COLS);
            fwrite(x, sizeof(float), N_COLS, f);
            fwrite(q, 1, rb, f);
            fwrite(y, sizeof(float), N_COLS, f);
        }
    }
    if (fclose(f)) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
