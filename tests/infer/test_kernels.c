/* test_kernels.c: number formats, weight packing and every SIMD kernel path
 * against the scalar reference (bit-exact: all paths follow one canonical
 * order, see kernels.h), and the scalar reference against plain math. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "infer/gguf.h"
#include "infer/kernels.h"
#include "infer/kquant.h"
#include "infer/pf_tune.h"
#include "infer/quantize_q32.h"
#include "infer/quantize.h"
#include "infer/kernels_impl.h" /* gt_kern_expf */

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* xorshift64*: reproducible test data. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}
static float rndf(void) { return (float)((double)rnd() / 4294967296.0 * 2.0 - 1.0); }

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) static uint16_t hw_f32_to_f16(float f) {
    return (uint16_t)_cvtss_sh(f, 0); /* round to nearest even */
}
__attribute__((target("f16c"))) static float hw_f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }
#endif

static void test_f16(void) {
    /* Every half widens and narrows back to itself (NaNs to a quiet NaN). */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = gt_f16_to_f32((gt_f16)h);
        gt_f16 back = gt_f32_to_f16(f);
        if (isnan(f)) bad += (back & 0x7e00) != 0x7e00;
        else bad += back != h;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(gt_f16_to_f32(0x3c00) == 1.0f);
    CHECK(gt_f16_to_f32(0xc000) == -2.0f);
    CHECK(gt_f16_to_f32(0x0001) == 0x1p-24f);
    CHECK_EQ_INT(gt_f32_to_f16(65520.0f), 0x7c00);  /* ties to even: rounds to inf */
    CHECK_EQ_INT(gt_f32_to_f16(65519.0f), 0x7bff);
    CHECK_EQ_INT(gt_f32_to_f16(0x1p-25f), 0);       /* tie with 0: even */
    CHECK_EQ_INT(gt_f32_to_f16(0x1.8p-25f), 1);
    CHECK(gt_bf16_to_f32(0x3f80) == 1.0f);
#if defined(__x86_64__)
    if (gt_kern_isa(GT_ISA_AVX2)) { /* implies F16C; clang 14 lacks the name "f16c" */
        int mism = 0;
        for (uint32_t h = 0; h < 65536; h++) {
            float a = gt_f16_to_f32((gt_f16)h), b = hw_f16_to_f32((uint16_t)h);
            mism += f32_bits(a) != f32_bits(b) && !(isnan(a) && isnan(b));
        }
        for (int i = 0; i < 2000000; i++) {
            uint32_t u = rnd();
            if (i < 1000000) u = (u & 0x807fffff) | ((100 + rnd() % 50) << 23); /* near half range */
            float f;
            memcpy(&f, &u, 4);
            mism += gt_f32_to_f16(f) != hw_f32_to_f16(f);
        }
        CHECK_EQ_INT(mism, 0);
    }
#endif
}

/* A random GGUF matrix of `type` (n_rows x n_cols); caller frees with gt_free. */
static void *make_gguf(uint32_t type, int n_rows, int n_cols) {
    size_t row_bytes = gt_ggml_row_bytes(type, (uint64_t)n_cols);
    uint8_t *m = gt_malloc(row_bytes * (size_t)n_rows);
    for (int r = 0; r < n_rows; r++) {
        uint8_t *row = m + row_bytes * (size_t)r;
        for (int c = 0; c < n_cols; c++) {
            float v = rndf();
            if (type == GT_TYPE_F32) memcpy(row + 4 * c, &v, 4);
            else if (type == GT_TYPE_F16) {
                gt_f16 h = gt_f32_to_f16(v);
                memcpy(row + 2 * c, &h, 2);
            } else if (type == GT_TYPE_BF16) {
                uint16_t h = (uint16_t)(f32_bits(v) >> 16);
                memcpy(row + 2 * c, &h, 2);
            }
        }
        if (type == GT_TYPE_Q8_0 || type == GT_TYPE_Q4_0) {
            for (int b = 0; b < n_cols / 32; b++) {
                gt_f16 d = gt_f32_to_f16(0.001f + 0.02f * (float)(rnd() % 1000) / 1000.0f);
                if (type == GT_TYPE_Q8_0) {
                    gt_block_q8_0 blk = {.d = d};
                    for (int i = 0; i < 32; i++) blk.qs[i] = (int8_t)(rnd() & 0xff); /* -128 too */
                    memcpy(row + b * sizeof blk, &blk, sizeof blk);
                } else {
                    gt_block_q4_0 blk = {.d = d};
                    for (int i = 0; i < 16; i++) blk.qs[i] = (uint8_t)rnd();
                    memcpy(row + b * sizeof blk, &blk, sizeof blk);
                }
            }
        }
    }
    return m;
}

/* Integer value of element e of a GGUF Q8_0/Q4_0 row, and its block scale. */
static int gguf_q(uint32_t type, const uint8_t *row, int e, float *d) {
    int b = e / 32, i = e % 32;
    if (type == GT_TYPE_Q8_0) {
        gt_block_q8_0 blk;
        memcpy(&blk, row + b * sizeof blk, sizeof blk);
        *d = gt_f16_to_f32(blk.d);
        return blk.qs[i];
    }
    gt_block_q4_0 blk;
    memcpy(&blk, row + b * sizeof blk, sizeof blk);
    *d = gt_f16_to_f32(blk.d);
    return (i < 16 ? (blk.qs[i] & 0xf) : (blk.qs[i - 16] >> 4)) - 8;
}

/* The canonical order of kernels.h written straight over the GGUF blocks,
 * independent of the packed layout: checks the packing. */
static float canonical_dot(uint32_t type, const uint8_t *row, const gt_act *a, int t,
                           int n_cols) {
    float acc = 0.0f;
    size_t off = (size_t)a->n_cols * (size_t)t;
    if (type == GT_TYPE_Q8_0 || type == GT_TYPE_Q4_0) {
        const int8_t *aq = a->qs + off;
        const float *ad = a->d + (size_t)a->n_blocks * (size_t)t;
        for (int b = 0; b < n_cols / 32; b++) {
            int p = 0;
            float d = 0;
            for (int i = 0; i < 32; i++) p += gguf_q(type, row, b * 32 + i, &d) * aq[b * 32 + i];
            acc = fmaf((float)p, d * ad[b], acc);
        }
    } else {
        float *w = gt_malloc((size_t)n_cols * sizeof(float));
        gt_dequant_row(type, row, w, n_cols);
        for (int k = 0; k < n_cols; k++) acc = fmaf(w[k], a->x[off + k], acc);
        gt_free(w);
    }
    return acc;
}

static const uint32_t types[] = {GT_TYPE_F32, GT_TYPE_F16, GT_TYPE_BF16, GT_TYPE_Q8_0, GT_TYPE_Q4_0};

/* Packs random matrices of awkward shapes and compares: scalar vs the
 * canonical GGUF walk (exact), scalar vs dequantized double math (close),
 * every SIMD path vs scalar (exact), act_set paths (exact). */
static void test_matmul(void) {
    /* Rows around the 16-row tiles and the 4-tile register blocks; tokens
     * around the 6-token (AVX-512) and 4-token (AVX2) blocks. */
    const int shapes[][3] = {{1, 32, 1},   {5, 96, 3},    {7, 128, 6},  {13, 352, 9},
                             {4, 416, 4},  {9, 1024, 5},  {16, 64, 7},  {33, 160, 13},
                             {64, 96, 1},  {80, 64, 2},   {50, 224, 12}};
    const gt_kern *ref = gt_kern_isa(GT_ISA_SCALAR);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
            uint32_t type = types[ti];
            int n_rows = shapes[si][0], n_cols = shapes[si][1], n_tok = shapes[si][2];
            int quant = type == GT_TYPE_Q8_0 || type == GT_TYPE_Q4_0;
            void *g = make_gguf(type, n_rows, n_cols);
            gt_qmat m;
            gt_err err = {0};
            CHECK_EQ_INT(gt_qmat_pack(&m, type, g, n_rows, n_cols, &err), 0);
            {
                /* Packing into caller memory (one region per model) gives the same bytes. */
                size_t nb = gt_qmat_pack_bytes(type, n_rows, n_cols);
                CHECK(nb % 64 == 0 && nb >= gt_qmat_bytes(&m));
                void *own;
                uint8_t *reg = gt_kern_alloc(nb, &own);
                gt_qmat m2;
                CHECK_EQ_INT(gt_qmat_pack_into(&m2, type, g, n_rows, n_cols, reg, NULL, &err), 0);
                CHECK(memcmp(m2.qs, m.qs, m.qs_tile_bytes * (size_t)m.n_tiles) == 0);
                if (quant) CHECK(memcmp(m2.d, m.d, m.d_tile_bytes * (size_t)m.n_tiles) == 0);
                gt_qmat_free(&m2); /* frees nothing: the region is ours */
                gt_free(own);
            }
            float *x = gt_malloc((size_t)n_tok * n_cols * sizeof(float));
            for (int i = 0; i < n_tok * n_cols; i++) x[i] = rndf() * (i % 7 == 0 ? 4.0f : 1.0f);
            gt_act a;
            CHECK_EQ_INT(gt_act_init(&a, n_tok, n_cols), 0);
            a.n_tok = n_tok;
            for (int t = 0; t < n_tok; t++) ref->act_set(&a, t, x + (size_t)t * n_cols, 0, n_cols, quant);
            if (quant) {
                /* The block sums are the sums of the quants. */
                int sum_bad = 0;
                for (int t = 0; t < n_tok; t++)
                    for (int bl = 0; bl < n_cols / 32; bl++) {
                        int sm = 0;
                        for (int i = 0; i < 32; i++) sm += a.qs[(size_t)t * n_cols + bl * 32 + i];
                        sum_bad += sm != a.sum[(size_t)t * (n_cols / 32) + bl];
                    }
                CHECK_EQ_INT(sum_bad, 0);
            }
            size_t ny = (size_t)n_tok * n_rows;
            float *y_ref = gt_calloc(ny, sizeof(float)), *y = gt_calloc(ny, sizeof(float));
            ref->matmul(&m, 0, m.n_tiles, &a, y_ref, (size_t)n_rows);
            size_t row_bytes = gt_ggml_row_bytes(type, (uint64_t)n_cols);
            int exact_bad = 0, close_bad = 0;
            float *wrow = gt_malloc((size_t)n_cols * sizeof(float));
            for (int t = 0; t < n_tok; t++)
                for (int r = 0; r < n_rows; r++) {
                    const uint8_t *row = (const uint8_t *)g + row_bytes * (size_t)r;
                    float c = canonical_dot(type, row, &a, t, n_cols);
                    exact_bad += f32_bits(c) != f32_bits(y_ref[(size_t)t * n_rows + r]);
                    gt_dequant_row(type, row, wrow, n_cols);
                    double exact = 0, mag = 0;
                    for (int k = 0; k < n_cols; k++) {
                        exact += (double)wrow[k] * x[(size_t)t * n_cols + k];
                        mag += fabs((double)wrow[k] * x[(size_t)t * n_cols + k]);
                    }
                    /* 8-bit activations: error ~ 1/254 of the magnitude. Floats
                     * in one chain of n fmas: at most n * 2^-24 * sum |w x|. */
                    double tol = quant ? 0.01 * mag + 1e-4 : 0x1p-24 * n_cols * mag + 1e-6;
                    close_bad += fabs(exact - y_ref[(size_t)t * n_rows + r]) > tol;
                }
            CHECK_MSG(exact_bad == 0, "%s %dx%d: %d outputs differ from the canonical walk",
                      gt_ggml_type_name(type), n_rows, n_cols, exact_bad);
            CHECK_MSG(close_bad == 0, "%s %dx%d: %d outputs far from exact math",
                      gt_ggml_type_name(type), n_rows, n_cols, close_bad);
            for (int isa = GT_ISA_AVX2; isa < GT_ISA_COUNT; isa++) {
                const gt_kern *k = gt_kern_isa((gt_isa)isa);
                if (!k) {
                    fprintf(stderr, "  (no %s on this CPU: skipped)\n", isa == GT_ISA_AVX2 ? "avx2" : "avx512");
                    continue;
                }
                gt_act b;
                CHECK_EQ_INT(gt_act_init(&b, n_tok, n_cols), 0);
                b.n_tok = n_tok;
                /* In two column ranges, as the fused post-ops do. */
                int cmid = (n_cols / 32 / 2) * 32;
                for (int t = 0; t < n_tok; t++) {
                    k->act_set(&b, t, x + (size_t)t * n_cols, 0, cmid, quant);
                    k->act_set(&b, t, x + (size_t)t * n_cols, cmid, n_cols, quant);
                }
                size_t n_el = (size_t)n_cols * n_tok, n_bl = (size_t)(n_cols / 32) * n_tok;
                CHECK(memcmp(a.x, b.x, n_el * sizeof(float)) == 0);
                if (quant) {
                    CHECK_MSG(memcmp(a.qs, b.qs, n_el) == 0, "%s act quants", k->name);
                    CHECK_MSG(memcmp(a.d, b.d, n_bl * sizeof(float)) == 0, "%s act scales", k->name);
                    CHECK_MSG(memcmp(a.sum, b.sum, n_bl * sizeof(int32_t)) == 0, "%s act sums", k->name);
                }
                memset(y, 0, ny * sizeof(float));
                /* Split the tiles in two calls, as threads do; then token by
                 * token (decode's register blocks), which must agree too. */
                int mid = m.n_tiles / 2;
                k->matmul(&m, 0, mid, &b, y, (size_t)n_rows);
                k->matmul(&m, mid, m.n_tiles, &b, y, (size_t)n_rows);
                CHECK_MSG(memcmp(y, y_ref, ny * sizeof(float)) == 0, "%s matmul %s %dx%d x %d tok",
                          k->name, gt_ggml_type_name(type), n_rows, n_cols, n_tok);
                gt_act one;
                CHECK_EQ_INT(gt_act_init(&one, 1, n_cols), 0);
                one.n_tok = 1;
                int tok_bad = 0;
                float *y1 = gt_calloc((size_t)n_rows, sizeof(float));
                for (int t = 0; t < n_tok; t++) {
                    k->act_set(&one, 0, x + (size_t)t * n_cols, 0, n_cols, quant);
                    k->matmul(&m, 0, m.n_tiles, &one, y1, (size_t)n_rows);
                    tok_bad += memcmp(y1, y_ref + (size_t)t * n_rows, (size_t)n_rows * sizeof(float)) != 0;
                }
                CHECK_MSG(tok_bad == 0, "%s one token at a time: %d tokens differ", k->name, tok_bad);
                gt_free(y1);
                gt_act_free(&one);
                gt_act_free(&b);
            }
            gt_free(wrow);
            gt_free(y);
            gt_free(y_ref);
            gt_act_free(&a);
            gt_free(x);
            gt_qmat_free(&m);
            gt_free(g);
        }
}

/* The canonical K-quant order of kernels.h written over the unpacked
 * super-blocks (gt_kq_unpack is held to ggml's dequantization by
 * test_kquant), one product at a time. */
static float canonical_dot_k(uint32_t type, const uint8_t *row, const gt_act *a, int t, int n_cols) {
    float acc = 0.0f;
    for (int k = 0; k < n_cols / 256; k++) {
        gt_kq_sb sb;
        int8_t aq[256];
        gt_kq_unpack(type, row + (size_t)k * gt_ggml_block_bytes(type), &sb);
        float da = gt_kq_quant_act(a->x + (size_t)a->n_cols * (size_t)t + 256 * k, aq);
        int dot = 0, mins = 0, q;
        for (int i = 0; i < 256; i++) switch (type) {
            case GT_TYPE_Q6_K: dot += sb.sc[i / 16] * ((int)sb.q[i] - 32) * aq[i]; break;
            case GT_TYPE_Q3_K: dot += sb.sc[i / 16] * ((int)sb.q[i] - 4) * aq[i]; break;
            case GT_TYPE_IQ4_XS: dot += sb.sc[i / 32] * ((int)sb.q[i] - 128) * aq[i]; break;
            case GT_TYPE_Q2_K: dot += sb.sc[i / 16] * sb.q[i] * aq[i], mins += sb.m[i / 16] * aq[i]; break;
            default: q = sb.q[i], dot += sb.sc[i / 32] * q * aq[i], mins += sb.m[i / 32] * aq[i]; break;
            }
        acc = fmaf((float)dot, sb.d * da, acc);
        if (gt_kq_has_min(type)) acc = fmaf((float)mins, -(sb.dmin * da), acc);
    }
    return acc;
}

/* The canonical order for Q4_1, Q5_0, Q5_1, IQ4_NL: per block of 32 the
 * exact sum of decoded integer times Q8_0 activation quant, then
 * fma(p, d * da), and for Q4_1/Q5_1 fma(sum of the quants, m * da). */
static float canonical_dot_q32(uint32_t type, const uint8_t *row, const gt_act *a, int t, int n_cols) {
    float acc = 0.0f;
    for (int b = 0; b < n_cols / 32; b++) {
        int8_t v[32], aq[32];
        float d, m, da;
        gt_q32_decode(type, row + (size_t)b * gt_ggml_block_bytes(type), v, &d, &m);
        int32_t as = gt_kern_quant_block(a->x + (size_t)a->n_cols * (size_t)t + 32 * b, aq, &da), p = 0;
        for (int i = 0; i < 32; i++) p += v[i] * aq[i];
        acc = fmaf((float)p, d * da, acc);
        if (gt_q32_has_min(type)) acc = fmaf((float)as, m * da, acc);
    }
    return acc;
}

/* Q8_K activations, by hand: the signed value of largest magnitude maps to
 * -127 (its sign flips the scale), the rest round to nearest even, +127 is
 * the ceiling; an all-zero block has scale 0. */
static void test_q8_k_act(void) {
    float x[256] = {0};
    int8_t q[256];
    x[3] = -2.0f, x[4] = 2.0f, x[5] = 1.0f, x[6] = 0.5f / 63.5f, x[7] = 1.5f / 63.5f;
    float d = gt_kq_quant_act(x, q);
    CHECK(d == 1.0f / (-127.0f / -2.0f));
    CHECK_EQ_INT(q[3], -127);
    CHECK_EQ_INT(q[4], 127);
    CHECK_EQ_INT(q[5], 64); /* 63.5: tie to even */
    CHECK_EQ_INT(q[6], 0);  /* 0.5 -> 0 */
    CHECK_EQ_INT(q[7], 2);  /* 1.5 -> 2 */
    CHECK_EQ_INT(q[0], 0);
    memset(x, 0, sizeof x);
    CHECK(gt_kq_quant_act(x, q) == 0.0f && q[0] == 0 && q[255] == 0);
    if (!gt_kern_isa(GT_ISA_AVX2)) {
        fprintf(stderr, "  (no avx2 on this CPU: its Q8_K quantizer skipped)\n");
        return;
    }
    /* The AVX2 quantizer: the same bytes and scale on random blocks, blocks
     * whose largest magnitude appears with both signs (the first one rules),
     * values on rounding ties, and zeros. */
    int bad = 0;
    for (int it = 0; it < 2000; it++) {
        for (int i = 0; i < 256; i++) x[i] = rndf() * (it % 3 == 0 ? 1e-3f : 3.0f);
        if (it % 4 == 1) x[rnd() % 256] = 4.0f, x[rnd() % 256] = -4.0f;
        if (it % 4 == 2) /* ties: multiples of half a step */
            for (int i = 0; i < 256; i++) x[i] = (float)((int)(rnd() % 255) - 127) * 0.5f / 63.5f * 2.0f;
        if (it == 3) memset(x, 0, sizeof x);
        int8_t q2[256];
        float d1 = gt_kq_quant_act(x, q), d2 = gt_kq_quant_act_avx2(x, q2);
        bad += memcmp(q, q2, 256) != 0 || f32_bits(d1) != f32_bits(d2);
    }
    CHECK_EQ_INT(bad, 0);
}

/* Every ISA against scalar on one matrix made from GGUF rows (K-quant or
 * block-32 type): split across calls as threads split it, and token by
 * token. */
static void check_paths_rowwise(const gt_qmat *m, const float *x, int n_tok, const float *y_ref) {
    int n_rows = m->n_rows, n_cols = m->n_cols;
    size_t ny = (size_t)n_tok * n_rows;
    float *y = gt_calloc(ny, sizeof(float)), *y1 = gt_calloc((size_t)n_rows, sizeof(float));
    gt_act a, one;
    CHECK_EQ_INT(gt_act_init(&a, n_tok, n_cols), 0);
    CHECK_EQ_INT(gt_act_init(&one, 1, n_cols), 0);
    a.n_tok = n_tok;
    one.n_tok = 1;
    for (int isa = GT_ISA_AVX2; isa < GT_ISA_COUNT; isa++) {
        const gt_kern *k = gt_kern_isa((gt_isa)isa);
        if (!k) {
            fprintf(stderr, "  (no %s on this CPU: %s path SKIPPED)\n", isa == GT_ISA_AVX2 ? "avx2" : "avx512",
                    gt_ggml_type_name(m->type));
            continue;
        }
        for (int t = 0; t < n_tok; t++) k->act_set(&a, t, x + (size_t)t * n_cols, 0, n_cols, 1);
        memset(y, 0, ny * sizeof(float));
        int mid = m->n_tiles / 2;
        k->matmul(m, 0, mid, &a, y, (size_t)n_rows);
        k->matmul(m, mid, m->n_tiles, &a, y, (size_t)n_rows);
        CHECK_MSG(memcmp(y, y_ref, ny * sizeof(float)) == 0, "%s matmul %s %dx%d x %d tok", k->name,
                  gt_ggml_type_name(m->type), n_rows, n_cols, n_tok);
        /* One token at a time, with the K-quant tiles' prefetch on and off
         * (pf_tune.h chooses by timing: a hint, never the bytes). */
        for (int pf = 1; pf >= 0; pf--) {
            gt_pf_fix(pf);
            int tok_bad = 0;
            for (int t = 0; t < n_tok; t++) {
                k->act_set(&one, 0, x + (size_t)t * n_cols, 0, n_cols, 1);
                k->matmul(m, 0, m->n_tiles, &one, y1, (size_t)n_rows);
                tok_bad += memcmp(y1, y_ref + (size_t)t * n_rows, (size_t)n_rows * sizeof(float)) != 0;
            }
            CHECK_MSG(tok_bad == 0, "%s %s one token at a time, prefetch %s: %d tokens differ", k->name,
                      gt_ggml_type_name(m->type), pf ? "on" : "off", tok_bad);
        }
        gt_pf_fix(1);
    }
    gt_act_free(&one);
    gt_act_free(&a);
    gt_free(y1);
    gt_free(y);
}

/* One matrix from GGUF rows (quantized from random floats, some rows zero):
 * scalar equals the canonical walk bit for bit and is within 1% of the
 * magnitude of double math over the dequantized weights; every SIMD path
 * equals scalar (check_paths_rowwise). */
static void check_rowwise(uint32_t type, int n_rows, int n_cols, int n_tok) {
    const gt_kern *ref = gt_kern_isa(GT_ISA_SCALAR);
    size_t rb = gt_ggml_row_bytes(type, (uint64_t)n_cols);
    uint8_t *g = gt_malloc(rb * (size_t)n_rows);
    float *wf = gt_malloc((size_t)n_rows * n_cols * sizeof(float));
    for (int i = 0; i < n_rows * n_cols; i++) wf[i] = (i / n_cols) % 5 == 4 ? 0.0f : rndf() * 0.3f;
    for (int r = 0; r < n_rows; r++) gt_quantize_row(type, wf + (size_t)r * n_cols, g + rb * (size_t)r, n_cols);
    gt_qmat m;
    gt_err err = {0};
    CHECK_EQ_INT(gt_qmat_pack(&m, type, g, n_rows, n_cols, &err), 0);
    float *x = gt_malloc((size_t)n_tok * n_cols * sizeof(float));
    for (int i = 0; i < n_tok * n_cols; i++) x[i] = rndf() * (i % 7 == 0 ? 4.0f : 1.0f);
    gt_act a;
    CHECK_EQ_INT(gt_act_init(&a, n_tok, n_cols), 0);
    a.n_tok = n_tok;
    for (int t = 0; t < n_tok; t++) ref->act_set(&a, t, x + (size_t)t * n_cols, 0, n_cols, 1);
    float *y_ref = gt_calloc((size_t)n_tok * n_rows, sizeof(float));
    ref->matmul(&m, 0, m.n_tiles, &a, y_ref, (size_t)n_rows);
    int exact_bad = 0, close_bad = 0;
    for (int t = 0; t < n_tok; t++)
        for (int r = 0; r < n_rows; r++) {
            const uint8_t *row = g + rb * (size_t)r;
            float c = gt_kq_is_k(type) ? canonical_dot_k(type, row, &a, t, n_cols)
                                       : canonical_dot_q32(type, row, &a, t, n_cols);
            exact_bad += f32_bits(c) != f32_bits(y_ref[(size_t)t * n_rows + r]);
            gt_dequant_row(type, row, wf, n_cols);
            double exact = 0, mag = 0;
            for (int k = 0; k < n_cols; k++) {
                exact += (double)wf[k] * x[(size_t)t * n_cols + k];
                mag += fabs((double)wf[k] * x[(size_t)t * n_cols + k]);
            }
            close_bad += fabs(exact - y_ref[(size_t)t * n_rows + r]) > 0.01 * mag + 1e-4;
        }
    CHECK_MSG(exact_bad == 0, "%s %dx%d: %d outputs differ from the canonical walk", gt_ggml_type_name(type),
              n_rows, n_cols, exact_bad);
    CHECK_MSG(close_bad == 0, "%s %dx%d: %d outputs far from exact math", gt_ggml_type_name(type), n_rows, n_cols,
              close_bad);
    check_paths_rowwise(&m, x, n_tok, y_ref);
    gt_free(y_ref);
    gt_act_free(&a);
    gt_free(x);
    gt_qmat_free(&m);
    gt_free(wf);
    gt_free(g);
}

/* Every K-quant type and the block-32 types Q4_1, Q5_0, Q5_1, IQ4_NL
 * (tiled like Q4_0), over shapes that cross the tiles, the register blocks
 * of tiles and tokens, the K-quants' 256-row blocks and 8-token blocks. */
static void test_matmul_kquant(void) {
    const int shapes[][3] = {{1, 256, 1}, {5, 512, 3}, {17, 256, 33}, {33, 768, 7}, {16, 1024, 2}, {40, 256, 70}};
    const int shapes32[][3] = {{3, 96, 5}, {19, 4160, 9}, {270, 64, 2}};
    const uint32_t ktypes[] = {GT_TYPE_Q4_K, GT_TYPE_Q5_K, GT_TYPE_Q6_K, GT_TYPE_Q2_K,
                               GT_TYPE_Q3_K, GT_TYPE_IQ4_XS, GT_TYPE_Q4_1, GT_TYPE_Q5_0,
                               GT_TYPE_Q5_1, GT_TYPE_IQ4_NL};
    for (size_t ti = 0; ti < sizeof ktypes / sizeof ktypes[0]; ti++) {
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
            check_rowwise(ktypes[ti], shapes[si][0], shapes[si][1], shapes[si][2]);
        if (gt_q32_is(ktypes[ti]))
            for (size_t si = 0; si < sizeof shapes32 / sizeof shapes32[0]; si++)
                check_rowwise(ktypes[ti], shapes32[si][0], shapes32[si][1], shapes32[si][2]);
    }
    /* Every K-quant is tiled at load: rows past a 256-row block and more
     * super-blocks than one pass (16) of the activations. */
    const uint32_t tiled[] = {GT_TYPE_Q4_K, GT_TYPE_Q5_K, GT_TYPE_Q6_K, GT_TYPE_IQ4_XS, GT_TYPE_Q3_K, GT_TYPE_Q2_K};
    for (int i = 0; i < 6; i++) {
        check_rowwise(tiled[i], 270, 4352, 3);
        check_rowwise(tiled[i], 18, 4608, 9);
    }
/* Columns must fill super-blocks. */
    gt_qmat m;
    gt_err err = {0};
    uint8_t buf[512] = {0};
    CHECK_EQ_INT(gt_qmat_pack(&m, GT_TYPE_Q4_K, buf, 1, 128, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "multiple of 256");
}

/* The tiled K-quant layouts (Q2_K..Q6_K, IQ4_XS) move bytes only: every row of every
 * tile reads back into its GGUF bytes (random bytes, so every scale and
 * min bit is exercised), and padding rows of the last tile stay zero. */
static void check_tiles(uint32_t type, size_t sb_bytes, void (*untile)(const uint8_t *, int, int, uint8_t *)) {
    enum { n_rows = 21, n_sb = 3 };
    size_t rb = (size_t)n_sb * gt_ggml_block_bytes(type);
    uint8_t *g = gt_malloc(rb * n_rows), back[n_sb * sizeof(gt_block_q6_k)];
    for (size_t i = 0; i < rb * n_rows; i++) g[i] = (uint8_t)rnd();
    gt_qmat m;
    gt_err err = {0};
    CHECK_EQ_INT(gt_qmat_pack(&m, type, g, n_rows, n_sb * GT_QK_K, &err), 0);
    CHECK(m.qs_tile_bytes == (size_t)n_sb * sb_bytes && m.n_tiles == 2);
    int bad = 0;
    for (int r = 0; r < 2 * GT_KERN_TILE_ROWS; r++) {
        untile(m.qs + (size_t)(r / 16) * m.qs_tile_bytes, r % 16, n_sb, back);
        if (r < n_rows) bad += memcmp(back, g + rb * (size_t)r, rb) != 0;
        else /* IQ4_XS and Q3_K keep scales as ls - 32: a zero one reads back as 32 (high bits 0xaa..), d still 0 */
            for (size_t i = 0; i < rb; i++) {
                size_t at = i % gt_ggml_block_bytes(type);
                int high = (type == GT_TYPE_IQ4_XS && at / 2 == 1) || (type == GT_TYPE_Q3_K && at >= 104 && at < 108);
                bad += back[i] != (high ? 0xaa : 0);
            }
    }
    CHECK_MSG(bad == 0, "%s tiles: %d rows do not read back", gt_ggml_type_name(type), bad);
    gt_qmat_free(&m);
    gt_free(g);
}

/* The shared Q8_K copy in gt_act (kernels.h): filled by two threads at
 * once (each call claims its share), reused by later products, refreshed
 * for exactly the super-blocks act_set writes again, and bypassed when an
 * entry stays claimed (a parked thread): every way, the scalar bytes. */
typedef struct cache_job {
    const gt_kern *k;
    const gt_qmat *m;
    const gt_act *a;
    float *y;
    int tile0, tile1;
} cache_job;

static void *cache_thread(void *p) {
    const cache_job *j = p;
    j->k->matmul(j->m, j->tile0, j->tile1, j->a, j->y, (size_t)j->m->n_rows);
    return NULL;
}

/* y = m . x for n_tok tokens through table k on a fresh activation buffer. */
static void fresh_product(const gt_kern *k, const gt_qmat *m, const float *x, int n_tok, float *y) {
    gt_act a;
    CHECK_EQ_INT(gt_act_init(&a, n_tok, m->n_cols), 0);
    a.n_tok = n_tok;
    for (int t = 0; t < n_tok; t++) k->act_set(&a, t, x + (size_t)t * m->n_cols, 0, m->n_cols, 1);
    k->matmul(m, 0, m->n_tiles, &a, y, (size_t)m->n_rows);
    gt_act_free(&a);
}

static void check_act_cache(const gt_kern *k, const gt_qmat *m, float *x, int n_tok, const float *y_ref) {
    const int n_rows = m->n_rows, n_cols = m->n_cols;
    const size_t ny = (size_t)n_tok * n_rows;
    float *y = gt_calloc(ny, sizeof(float)), *y2 = gt_calloc(ny, sizeof(float));
    gt_act a;
    CHECK_EQ_INT(gt_act_init(&a, n_tok, n_cols), 0);
    a.n_tok = n_tok;
    for (int t = 0; t < n_tok; t++) k->act_set(&a, t, x + (size_t)t * n_cols, 0, n_cols, 1);
    int bad = 0;
    for (int it = 0; it < 8; it++) { /* odd rounds reuse the copy the even ones filled */
        if (it % 2 == 0)
            for (int t = 0; t < n_tok; t++) gt_act_stale(&a, t, 0, n_cols);
        memset(y, 0, ny * sizeof(float));
        cache_job j0 = {k, m, &a, y, 0, m->n_tiles / 2}, j1 = {k, m, &a, y, m->n_tiles / 2, m->n_tiles};
        pthread_t th;
        CHECK_EQ_INT(pthread_create(&th, NULL, cache_thread, &j1), 0);
        cache_thread(&j0);
        pthread_join(th, NULL);
        bad += memcmp(y, y_ref, ny * sizeof(float)) != 0;
    }
    CHECK_MSG(bad == 0, "%s: %d two-thread products differ", k->name, bad);
    /* New values in one super-block of token 1 (act_set) and in another
     * (x copied only, quant 0): both are quantized again, nothing else. */
    for (int c = 256; c < 512; c++) x[n_cols + c] = -x[n_cols + c] * 3.0f;
    for (int c = 0; c < 64; c++) x[n_cols + c] *= 0.25f;
    k->act_set(&a, 1, x + n_cols, 256, 512, 1);
    k->act_set(&a, 1, x + n_cols, 0, 64, 0);
    k->matmul(m, 0, m->n_tiles, &a, y, (size_t)n_rows);
    fresh_product(gt_kern_isa(GT_ISA_SCALAR), m, x, n_tok, y2);
    CHECK_MSG(memcmp(y, y2, ny * sizeof(float)) == 0, "%s: rewritten columns not requantized", k->name);
    /* An entry left claimed: the product quantizes its own copy. */
    atomic_store(&a.kq_state[a.n_sb + 1], 1);
    memset(y, 0, ny * sizeof(float));
    k->matmul(m, 0, m->n_tiles, &a, y, (size_t)n_rows);
    CHECK_MSG(memcmp(y, y2, ny * sizeof(float)) == 0, "%s: product with a claimed entry differs", k->name);
    CHECK(atomic_load(&a.kq_state[a.n_sb + 1]) == 1);
    gt_act_free(&a);
    gt_free(y2);
    gt_free(y);
}

static void test_act_cache(void) {
    const uint32_t kinds[] = {GT_TYPE_Q4_K, GT_TYPE_Q6_K, GT_TYPE_Q3_K, GT_TYPE_Q2_K};
    const int n_rows = 70, n_cols = 768, n_tok = 13;
    for (size_t ti = 0; ti < sizeof kinds / sizeof kinds[0]; ti++) {
        size_t rb = gt_ggml_row_bytes(kinds[ti], (uint64_t)n_cols);
        uint8_t *g = gt_malloc(rb * n_rows);
        float *w = gt_malloc((size_t)n_cols * sizeof(float)), *x = gt_malloc((size_t)n_tok * n_cols * sizeof(float));
        for (int r = 0; r < n_rows; r++) {
            for (int c = 0; c < n_cols; c++) w[c] = rndf() * 0.3f;
            gt_quantize_row(kinds[ti], w, g + rb * (size_t)r, n_cols);
        }
        for (int i = 0; i < n_tok * n_cols; i++) x[i] = rndf();
        gt_qmat m;
        gt_err err = {0};
        CHECK_EQ_INT(gt_qmat_pack(&m, kinds[ti], g, n_rows, n_cols, &err), 0);
        float *y_ref = gt_calloc((size_t)n_tok * n_rows, sizeof(float));
        fresh_product(gt_kern_isa(GT_ISA_SCALAR), &m, x, n_tok, y_ref);
        for (int isa = 0; isa < GT_ISA_COUNT; isa++) {
            const gt_kern *k = gt_kern_isa((gt_isa)isa);
            if (!k) {
                fprintf(stderr, "  (isa %d not on this CPU: its cache check SKIPPED)\n", isa);
                continue;
            }
            float *xc = gt_malloc((size_t)n_tok * n_cols * sizeof(float));
            memcpy(xc, x, (size_t)n_tok * n_cols * sizeof(float));
            check_act_cache(k, &m, xc, n_tok, y_ref);
            gt_free(xc);
        }
        gt_free(y_ref);
        gt_qmat_free(&m);
        gt_free(x);
        gt_free(w);
        gt_free(g);
    }
}

static void test_kq_tiles(void) {
    check_tiles(GT_TYPE_Q4_K, GT_KQ4_SB_BYTES, gt_kq4_untile);
    check_tiles(GT_TYPE_Q5_K, GT_KQ5_SB_BYTES, gt_kq5_untile);
    check_tiles(GT_TYPE_Q6_K, GT_KQ6_SB_BYTES, gt_kq6_untile);
    check_tiles(GT_TYPE_IQ4_XS, GT_KQX_SB_BYTES, gt_kqx_untile);
    check_tiles(GT_TYPE_Q3_K, GT_KQ3_SB_BYTES, gt_kq3_untile);
    check_tiles(GT_TYPE_Q2_K, GT_KQ2_SB_BYTES, gt_kq2_untile);
}

static void test_dot_axpy(void) {
    const gt_kern *ref = gt_kern_isa(GT_ISA_SCALAR);
    float a[256], b[256], y0[256], y1[256];
    for (int i = 0; i < 256; i++) a[i] = rndf(), b[i] = rndf() * 3, y0[i] = rndf();
    double exact = 0;
    for (int i = 0; i < 256; i++) exact += (double)a[i] * b[i];
    CHECK(fabs(ref->dot(a, b, 256) - exact) < 1e-4);
    for (int isa = GT_ISA_AVX2; isa < GT_ISA_COUNT; isa++) {
        const gt_kern *k = gt_kern_isa((gt_isa)isa);
        if (!k) continue;
        for (int n = 16; n <= 256; n += 48) {
            float r0 = ref->dot(a, b, n), r1 = k->dot(a, b, n);
            CHECK_MSG(f32_bits(r0) == f32_bits(r1), "%s dot n=%d: %.9g vs %.9g", k->name, n, r0, r1);
            memcpy(y1, y0, sizeof y0);
            float yr[256];
            memcpy(yr, y0, sizeof y0);
            ref->axpy(yr, 0.37f, a, n);
            k->axpy(y1, 0.37f, a, n);
            CHECK_MSG(memcmp(yr, y1, sizeof yr) == 0, "%s axpy n=%d", k->name, n);
        }
    }
}

/* The attention kernels over the f16 KV cache: scores and weighted sums
 * over many positions are exactly dot / axpy per position on the halves
 * widened to f32, on every path. */
static void test_attention(void) {
    const gt_kern *ref = gt_kern_isa(GT_ISA_SCALAR);
    const int dims[] = {16, 64, 80, 128, 144};
    size_t stride = 160;
    int n_pos = 37;
    gt_f16 *kv = gt_malloc((size_t)n_pos * stride * sizeof(gt_f16));
    float *kvf = gt_malloc((size_t)n_pos * stride * sizeof(float));
    float q[160], s[37], want[160], got[160], sc_want[37], sc_got[37];
    for (size_t i = 0; i < (size_t)n_pos * stride; i++) {
        kv[i] = gt_f32_to_f16(rndf());
        kvf[i] = gt_f16_to_f32(kv[i]);
    }
    kv[5] = 0x7bff, kvf[5] = 65504.0f;                  /* the largest half */
    kv[stride + 3] = 0x0001, kvf[stride + 3] = 0x1p-24f; /* the smallest subnormal */
    float q2[160], s2[37];
    for (int i = 0; i < 160; i++) q[i] = rndf(), q2[i] = rndf();
    for (int p = 0; p < n_pos; p++) s[p] = rndf() * 0.5f + 0.5f, s2[p] = rndf();
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        int n = dims[di];
        /* The reference itself is dot and axpy per position on the widened values. */
        float o[160] = {0};
        for (int p = 0; p < n_pos; p++) {
            sc_want[p] = ref->dot(q, kvf + (size_t)p * stride, n);
            ref->axpy(o, s[p], kvf + (size_t)p * stride, n);
        }
        ref->dots(sc_got, q, kv, stride, n_pos, n);
        ref->wsum(got, s, kv, stride, n_pos, n);
        CHECK(memcmp(sc_got, sc_want, (size_t)n_pos * 4) == 0);
        CHECK(memcmp(got, o, (size_t)n * 4) == 0);
        memcpy(want, o, sizeof o);
        for (int isa = GT_ISA_AVX2; isa < GT_ISA_COUNT; isa++) {
            const gt_kern *k = gt_kern_isa((gt_isa)isa);
            if (!k) continue;
            for (int np = 0; np <= n_pos; np += 3) { /* 0 positions too */
                float w2[160];
                ref->wsum(w2, s, kv, stride, np, n);
                k->wsum(got, s, kv, stride, np, n);
                CHECK_MSG(memcmp(got, w2, (size_t)n * 4) == 0, "%s wsum n=%d pos=%d", k->name, n, np);
                k->dots(sc_got, q, kv, stride, np, n); /* blocks of 16, 4 and 1 keys */
                CHECK_MSG(memcmp(sc_got, sc_want, (size_t)np * 4) == 0, "%s dots n=%d pos=%d", k->name, n, np);
            }
            k->dots(sc_got, q, kv, stride, n_pos, n);
            CHECK_MSG(memcmp(sc_got, sc_want, (size_t)n_pos * 4) == 0, "%s dots n=%d", k->name, n);
        }
        /* Two heads at once give what each gives alone, on every path (the scalar one included). */
        for (int isa = GT_ISA_SCALAR; isa < GT_ISA_COUNT; isa++) {
            const gt_kern *k = gt_kern_isa((gt_isa)isa);
            if (!k) continue;
            for (int np = 0; np <= n_pos; np++) { /* blocks of 8, 4 and 1 keys */
                float d0[37], d1[37], w0[37], w1[37], o0[160], o1[160], v0[160], v1[160];
                k->dots2(d0, d1, q, q2, kv, stride, np, n);
                k->dots(w0, q, kv, stride, np, n);
                k->dots(w1, q2, kv, stride, np, n);
                CHECK_MSG(!memcmp(d0, w0, (size_t)np * 4) && !memcmp(d1, w1, (size_t)np * 4), "%s dots2 n=%d pos=%d",
                          k->name, n, np);
                k->wsum2(o0, o1, s, s2, kv, stride, np, n);
                k->wsum(v0, s, kv, stride, np, n);
                k->wsum(v1, s2, kv, stride, np, n);
                CHECK_MSG(!memcmp(o0, v0, (size_t)n * 4) && !memcmp(o1, v1, (size_t)n * 4), "%s wsum2 n=%d pos=%d",
                          k->name, n, np);
            }
        }
    }
    gt_free(kv);
    gt_free(kvf);
}



/* The element-wise steps: gt_kern_expf close to exp; silu_mul, exp_shift
 * and f16_store bit-identical on every path, tails included. */
static void test_elementwise(void) {
    double worst = 0;
    for (int i = 0; i <= 200000; i++) {
        float x = -86.9f + 174.8f * (float)i / 200000.0f;
        double e = exp((double)x), got = gt_kern_expf(x);
        double rel = fabs(got - e) / e;
        worst = rel > worst ? rel : worst;
    }
    fprintf(stderr, "  exp: worst relative error %.3g on [-86.9, 87.9]\n", worst);
    CHECK(worst < 3e-7); /* about 2 ulp */
    CHECK(gt_kern_expf(-87.0f) == 0.0f && gt_kern_expf(-1000.0f) == 0.0f && gt_kern_expf(NAN) == 0.0f);
    CHECK(isfinite(gt_kern_expf(1000.0f)) && gt_kern_expf(0.0f) == 1.0f);
    enum { N = 203 };
    float g0[N], u[N], s0[N], want[N], got[N];
    for (int i = 0; i < N; i++) {
        g0[i] = rndf() * (i % 5 == 0 ? 120.0f : 8.0f);
        u[i] = rndf();
        s0[i] = -fabsf(rndf()) * (i % 7 == 0 ? 200.0f : 20.0f);
    }
    g0[3] = 0.0f, g0[4] = -0.0f, g0[5] = 95.0f, g0[6] = -95.0f;
    const gt_kern *ref = gt_kern_isa(GT_ISA_SCALAR);
    for (int isa = GT_ISA_AVX2; isa < GT_ISA_COUNT; isa++) {
        const gt_kern *k = gt_kern_isa((gt_isa)isa);
        if (!k) continue;
        for (int n = 0; n <= N; n += 29) {
            memcpy(want, g0, sizeof g0);
            memcpy(got, g0, sizeof g0);
            ref->silu_mul(want, u, n);
            k->silu_mul(got, u, n);
            CHECK_MSG(memcmp(want, got, sizeof want) == 0, "%s silu_mul n=%d", k->name, n);
            memcpy(want, s0, sizeof s0);
            memcpy(got, s0, sizeof s0);
            ref->exp_shift(want, -3.5f, n);
            k->exp_shift(got, -3.5f, n);
            CHECK_MSG(memcmp(want, got, sizeof want) == 0, "%s exp_shift n=%d", k->name, n);
            gt_f16 hw[N], hg[N];
            ref->f16_store(hw, g0, n);
            k->f16_store(hg, g0, n);
            CHECK_MSG(memcmp(hw, hg, (size_t)n * sizeof(gt_f16)) == 0, "%s f16_store n=%d", k->name, n);
        }
    }
    /* And the reference means what it says. */
    memcpy(got, g0, sizeof g0);
    ref->silu_mul(got, u, N);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        double e = (double)g0[i] / (1.0 + exp(-(double)g0[i])) * u[i];
        bad += fabs(got[i] - e) > 1e-6 * (fabs(e) + 1e-30) + 1e-30;
    }
    CHECK_EQ_INT(bad, 0);
}

/* Where the packer says it has read: each run follows the last, and the
 * runs cover the source rows exactly. */
typedef struct consumed_log {
    const uint8_t *base, *next;
    size_t calls;
    int out_of_order;
} consumed_log;

static void log_consumed(void *ctx, const void *src, size_t n) {
    consumed_log *l = ctx;
    l->out_of_order += (const uint8_t *)src != l->next || n == 0;
    l->next = (const uint8_t *)src + n;
    l->calls++;
}

/* gt_qmat_pack_into's progress: every layout (floats, block-32 tiles,
 * tiled K-quants) reports its whole source, in
 * order, at least once a tile; the bytes packed are the same with it. */
static void test_pack_progress(void) {
    const uint32_t kinds[] = {GT_TYPE_F32, GT_TYPE_F16, GT_TYPE_Q8_0, GT_TYPE_Q4_0, GT_TYPE_Q4_K,
                              GT_TYPE_Q6_K, GT_TYPE_Q2_K, GT_TYPE_IQ4_XS};
    const int rows[] = {1, 16, 37, 300};
    for (size_t ki = 0; ki < sizeof kinds / sizeof kinds[0]; ki++)
        for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
            uint32_t type = kinds[ki];
            int n_rows = rows[ri], n_cols = 512;
            size_t rb = gt_ggml_row_bytes(type, (uint64_t)n_cols), total = rb * (size_t)n_rows;
            uint8_t *src = gt_malloc(total);
            for (size_t i = 0; i < total; i++) src[i] = (uint8_t)(rnd() >> 7);
            if (type == GT_TYPE_F32) /* finite floats: the bytes are compared, not the values */
                for (size_t i = 3; i < total; i += 4) src[i] &= 0x3f;
            size_t nb = gt_qmat_pack_bytes(type, n_rows, n_cols);
            void *own1, *own2;
            uint8_t *r1 = gt_kern_alloc(nb, &own1), *r2 = gt_kern_alloc(nb, &own2);
            gt_qmat m1, m2;
            gt_err err = {0};
            consumed_log log = {src, src, 0, 0};
            gt_pack_progress pp = {log_consumed, &log};
            CHECK_EQ_INT(gt_qmat_pack_into(&m1, type, src, n_rows, n_cols, r1, &pp, &err), 0);
            CHECK_EQ_INT(gt_qmat_pack_into(&m2, type, src, n_rows, n_cols, r2, NULL, &err), 0);
            CHECK_MSG(memcmp(r1, r2, nb) == 0, "%s rows=%d: progress changed the bytes", gt_ggml_type_name(type), n_rows);
            CHECK_MSG(log.out_of_order == 0 && log.next == src + total, "%s rows=%d: runs out of order or short",
                      gt_ggml_type_name(type), n_rows);
            size_t want = (size_t)(n_rows + GT_KERN_TILE_ROWS - 1) / GT_KERN_TILE_ROWS; /* once a tile */
            CHECK_MSG(log.calls == want, "%s rows=%d: %zu reports, expected %zu", gt_ggml_type_name(type), n_rows,
                      log.calls, want);
            gt_free(own1), gt_free(own2), gt_free(src);
        }
}

static void test_refusals(void) {
    gt_qmat m;
    gt_err err = {0};
    uint8_t buf[64] = {0};
    CHECK_EQ_INT(gt_qmat_pack(&m, 16 /* IQ2_XXS */, buf, 1, 256, &err), GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "iq2_xxs");
    CHECK_EQ_INT(gt_qmat_pack(&m, GT_TYPE_F32, buf, 1, 33, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "multiple of 32");
    CHECK(gt_qmat_pack_bytes(16, 1, 256) == 0 && gt_qmat_pack_bytes(GT_TYPE_F32, 1, 33) == 0);
    gt_qmat_free(&m);
    const gt_kern *best = gt_kern_best();
    CHECK(best != NULL);
    fprintf(stderr, "  best kernels here: %s\n", best ? best->name : "?");
}

/* Activations holding NaN, infinities and huge values (a model file's
 * weights can make them): every path stores the same quants, scales and
 * block sums, each sum that of its quants; no path converts a float out of
 * int range or overflows an int summing (the AVX-512 path did: UBSan). */
static void test_act_nonfinite(void) {
    enum { COLS = 128 };
    float x[COLS];
    for (int i = 0; i < COLS; i++) x[i] = rndf();
    x[3] = NAN, x[40] = INFINITY, x[41] = -INFINITY, x[70] = 3e38f, x[71] = -3e38f, x[100] = NAN, x[101] = NAN;
    gt_act ref = {0};
    CHECK_EQ_INT(gt_act_init(&ref, 1, COLS), 0);
    gt_kern_isa(GT_ISA_SCALAR)->act_set(&ref, 0, x, 0, COLS, 1);
    for (int b = 0; b < COLS / 32; b++) {
        int32_t s = 0;
        for (int i = 0; i < 32; i++) s += ref.qs[b * 32 + i];
        CHECK_MSG(s == ref.sum[b], "block %d: sum %d, quants sum to %d", b, (int)ref.sum[b], (int)s);
    }
    CHECK_EQ_INT(ref.qs[3], 0); /* a NaN's quant (not -128: the AVX2 dot's sign trick cannot negate it) */
    for (int isa = 1; isa < GT_ISA_COUNT; isa++) {
        const gt_kern *k = gt_kern_isa((gt_isa)isa);
        if (!k) continue;
        gt_act a = {0};
        CHECK_EQ_INT(gt_act_init(&a, 1, COLS), 0);
        k->act_set(&a, 0, x, 0, COLS, 1);
        CHECK_MSG(!memcmp(a.qs, ref.qs, COLS), "isa %d: quants differ from the scalar path", isa);
        CHECK_MSG(!memcmp(a.sum, ref.sum, COLS / 32 * sizeof(int32_t)), "isa %d: block sums differ", isa);
        CHECK_MSG(!memcmp(a.d, ref.d, COLS / 32 * sizeof(float)), "isa %d: scales differ", isa);
        gt_act_free(&a);
    }
    gt_act_free(&ref);
}

/* A NaN or an infinity at every position of a block: every path must give
 * the scalar path's scale, quants and sums (a SIMD max returns its second
 * operand when one is NaN, so a NaN in a later lane could become the
 * block's scale on one path and be passed over on another), for Q8_0's
 * blocks of 32 and Q8_K's super-blocks of 256. A model file can make such
 * activations, and verification re-runs on whatever CPU the verifier has. */
static void test_act_nonfinite_positions(void) {
    static const float bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    float x[256];
    int diff_q8_0 = 0, diff_q8_k = 0, checked_k = 0;
    for (int vi = 0; vi < 4; vi++)
        for (int pos = 0; pos < 256; pos++) {
            for (int i = 0; i < 256; i++) x[i] = rndf();
            x[pos] = bad[vi];
            gt_act ref = {0};
            CHECK_EQ_INT(gt_act_init(&ref, 1, 256), 0);
            gt_kern_isa(GT_ISA_SCALAR)->act_set(&ref, 0, x, 0, 256, 1);
            for (int isa = 1; isa < GT_ISA_COUNT; isa++) {
                const gt_kern *k = gt_kern_isa((gt_isa)isa);
                if (!k) continue;
                gt_act a = {0};
                CHECK_EQ_INT(gt_act_init(&a, 1, 256), 0);
                k->act_set(&a, 0, x, 0, 256, 1);
                diff_q8_0 += memcmp(a.qs, ref.qs, 256) || memcmp(a.sum, ref.sum, 8 * sizeof(int32_t)) ||
                             memcmp(a.d, ref.d, 8 * sizeof(float));
                gt_act_free(&a);
            }
            gt_act_free(&ref);
            int8_t q1[256], q2[256];
            int16_t s1[16], s2[16];
            if (!gt_kern_isa(GT_ISA_AVX2)) continue;
            float d1 = gt_kq_quant_sb(x, q1, s1), d2 = gt_kq_quant_sb_avx2(x, q2, s2);
            diff_q8_k += memcmp(q1, q2, 256) || memcmp(s1, s2, sizeof s1) || f32_bits(d1) != f32_bits(d2);
            checked_k++;
        }
    CHECK_MSG(diff_q8_0 == 0, "%d of 1024 placements quantize to Q8_0 differently on some path", diff_q8_0);
    CHECK_MSG(diff_q8_k == 0, "%d of %d placements quantize to Q8_K differently on AVX2", diff_q8_k, checked_k);
    if (!checked_k) fprintf(stderr, "  (no avx2 on this CPU: its Q8_K quantizer skipped)\n");
}

/* Every path's pack_q8_0 writes a full tile as kernels.h lays it out,
 * byte for byte, from rows with a stride wider than a row (a matrix's rows
 * inside a larger one), including q = -128 and every scale bit pattern. */
static void test_pack_q8_0_paths(void) {
    const int R = GT_KERN_TILE_ROWS, n_blocks = 37;
    const size_t row_bytes = (size_t)(n_blocks + 3) * 34;
    uint8_t *rows = gt_malloc(row_bytes * (size_t)R), *want = gt_malloc((size_t)n_blocks * 512);
    void *own;
    uint8_t *mem = gt_kern_alloc((size_t)n_blocks * 512 + 64, &own); /* 64-byte aligned */
    gt_f16 want_d[37 * 16], got_d[37 * 16];
    for (size_t i = 0; i < row_bytes * (size_t)R; i++) rows[i] = (uint8_t)rnd();
    for (int b = 0; b < n_blocks; b++)
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = rows + (size_t)r * row_bytes + (size_t)b * 34;
            memcpy(&want_d[b * 16 + r], blk, 2);
            for (int k = 0; k < 32; k++) /* byte k of the row: group k / 4, row r, byte k % 4 */
                want[(size_t)b * 512 + (size_t)(k / 4) * 64 + (size_t)r * 4 + (size_t)(k % 4)] = (uint8_t)(blk[2 + k] ^ 0x80);
        }
    for (int isa = 0; isa < GT_ISA_COUNT; isa++) {
        const gt_kern *k = gt_kern_isa((gt_isa)isa);
        if (!k) {
            fprintf(stderr, "  (isa %d not on this CPU: its Q8_0 pack SKIPPED)\n", isa);
            continue;
        }
        for (int off = 0; off < 2; off++) { /* a model's aligned tiles (streamed stores), and not */
            uint8_t *got = mem + off;
            memset(mem, 0x5a, (size_t)n_blocks * 512 + 64);
            memset(got_d, 0x5a, sizeof got_d);
            k->pack_q8_0(rows, row_bytes, n_blocks, got, got_d);
            CHECK_MSG(memcmp(got, want, (size_t)n_blocks * 512) == 0, "%s at +%d: quants", k->name, off);
            CHECK_MSG(memcmp(got_d, want_d, sizeof want_d) == 0, "%s at +%d: scales", k->name, off);
        }
    }
    gt_free(rows);
    gt_free(want);
    gt_free(own);
}

int main(void) {
    RUN(test_f16);
    RUN(test_pack_q8_0_paths);
    RUN(test_matmul);
    RUN(test_q8_k_act);
    RUN(test_kq_tiles);
    RUN(test_matmul_kquant);
    RUN(test_act_cache);
    RUN(test_act_nonfinite);
    RUN(test_act_nonfinite_positions);
    RUN(test_dot_axpy);
    RUN(test_attention);
    RUN(test_elementwise);
    RUN(test_pack_progress);
    RUN(test_refusals);
    return gt_test_finish();
}
