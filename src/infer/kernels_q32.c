/* kernels_q32.c: matrix products with weights in Q4_1, Q5_0, Q5_1 or
 * IQ4_NL (quantize_q32.h), shared by every kernel table (see kernels.h for
 * the canonical order).
 *
 * These matrices keep their GGUF rows as they are (row r at r * row bytes),
 * as the K-quants do. The activations are the ones the engine quantized for
 * Q8_0/Q4_0 weights (a->qs, d, sum: blocks of 32, the format llama.cpp
 * pairs with Q5_0 and IQ4_NL; with the sum they are its Q8_1, paired with
 * Q4_1 and Q5_1). Per block of 256 rows x 8 tokens the table's row function
 * (gt_q32_row_fn) walks groups of rows along their blocks, decoding each
 * block once for all the tokens. The block's integer sum is exact, so each ISA computes it its own
 * way; the float step that fixes the result's bits is gt_q32_finish
 * (kernels_impl.h) for all. */
#include <string.h>

#include "infer/gguf.h"
#include "infer/kernels_impl.h"
#include "infer/quantize_q32.h"

#define Q32_NT 8     /* tokens per block: a row's decoded blocks serve them all */
#define Q32_KC 4096  /* columns per pass: 8 tokens' quantized activations (32 KiB) stay in cache */
#define Q32_NR 256   /* rows per block: the tokens' quantized activations serve them all */

/* The reference row function: row by row, block by block, token by token,
 * the integer sum element by element, then the float step. */
void gt_q32_row_scalar(uint32_t type, const uint8_t *rows, size_t row_bytes, int nr, int nb, const gt_q32_acts *a,
                       int nt, float *accs, size_t acc_stride) {
    size_t bb = gt_ggml_block_bytes(type);
    int8_t v[GT_Q32];
    for (int r = 0; r < nr; r++) {
        const uint8_t *blocks = rows + (size_t)r * row_bytes;
        float *acc = accs + (size_t)r * acc_stride;
        for (int b = 0; b < nb; b++) {
            float d, m;
            gt_q32_decode(type, blocks + (size_t)b * bb, v, &d, &m);
            for (int t = 0; t < nt; t++) {
                const int8_t *aq = a->aq + (size_t)t * a->aq_stride + (size_t)b * GT_Q32;
                int32_t p = 0;
                for (int i = 0; i < GT_Q32; i++) p += (int32_t)v[i] * aq[i];
                size_t ib = (size_t)t * a->d_stride + (size_t)b;
                acc[t] = gt_q32_finish(type, p, a->as[ib], d, m, a->da[ib], acc[t]);
            }
        }
    }
}

/* Rows [row0, row0 + nr) against tokens [t0, t0 + nt), Q32_KC columns at a
 * time (the tokens' quantized activations for them stay in cache), row
 * group by row group along its blocks through the table's row function. */
static void q32_block(const gt_qmat *w, int row0, int nr, const gt_act *a, int t0, int nt, float *y, size_t ldy,
                      gt_q32_row_fn row) {
    size_t bb = gt_ggml_block_bytes(w->type), rb = bb * (size_t)(w->n_cols / GT_Q32);
    float acc[Q32_NR][Q32_NT] = {{0}};
    for (int c0 = 0; c0 < w->n_cols; c0 += Q32_KC) {
        int nc = w->n_cols - c0 < Q32_KC ? w->n_cols - c0 : Q32_KC, nb = nc / GT_Q32;
        size_t ib0 = (size_t)t0 * (size_t)a->n_blocks + (size_t)(c0 / GT_Q32);
        const gt_q32_acts acts = {a->qs + (size_t)t0 * (size_t)a->n_cols + (size_t)c0, a->d + ib0, a->sum + ib0,
                                  (size_t)a->n_cols, (size_t)a->n_blocks};
        for (int r = 0; r < nr; r += GT_Q32_ROWS)
            row(w->type, w->qs + (size_t)(row0 + r) * rb + (size_t)(c0 / GT_Q32) * bb, rb,
                nr - r < GT_Q32_ROWS ? nr - r : GT_Q32_ROWS, nb, &acts, nt, acc[r], Q32_NT);
    }
    for (int r = 0; r < nr; r++)
        for (int t = 0; t < nt; t++) y[(size_t)(t0 + t) * ldy + (size_t)(row0 + r)] = acc[r][t];
}

void gt_q32_matmul(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y, size_t ldy,
                   gt_q32_row_fn row) {
    assert(gt_q32_is(w->type) && a->n_cols == w->n_cols && w->n_cols % GT_Q32 == 0);
    int row1 = tile1 * GT_KERN_TILE_ROWS;
    if (row1 > w->n_rows) row1 = w->n_rows;
    for (int r0 = tile0 * GT_KERN_TILE_ROWS; r0 < row1; r0 += Q32_NR) {
        int nr = row1 - r0 < Q32_NR ? row1 - r0 : Q32_NR;
        for (int t0 = 0; t0 < a->n_tok; t0 += Q32_NT)
            q32_block(w, r0, nr, a, t0, a->n_tok - t0 < Q32_NT ? a->n_tok - t0 : Q32_NT, y, ldy, row);
    }
}
