/* kernels_q32.c: matrix products with weights in Q4_1, Q5_0, Q5_1 or
 * IQ4_NL (quantize_q32.h), shared by every kernel table (see kernels.h for
 * the canonical order).
 *
 * These matrices keep their GGUF rows as they are (row r at r * row bytes),
 * as the K-quants do. The activations are quantized as llama.cpp pairs them
 * (Q8_0 for Q5_0 and IQ4_NL; Q8_1, which is Q8_0's quants and scale plus
 * their sum, for Q4_1 and Q5_1) by gt_kern_quant_block, from a->x, per
 * block of 256 rows x 8 tokens; within it the table's row function
 * (gt_q32_row_fn) walks each row's blocks, decoding each once for all the
 * tokens. The block's integer sum is exact, so each ISA computes it its own
 * way; the float step that fixes the result's bits is gt_q32_finish
 * (kernels_impl.h) for all. */
#include <string.h>

#include "infer/gguf.h"
#include "infer/kernels_impl.h"
#include "infer/quantize_q32.h"

#define Q32_NT 8     /* tokens per block: a row's decoded blocks serve them all */
#define Q32_KC 4096  /* columns per pass: 8 tokens' quantized activations stay in L1/L2 */
#define Q32_NR 256   /* rows per block: the tokens' quantized activations serve them all */

/* The reference row function: block by block, token by token, the integer
 * sum element by element, then the float step. */
void gt_q32_row_scalar(uint32_t type, const uint8_t *blocks, int nb, const gt_q32_acts *a, int nt, float *acc) {
    size_t bb = gt_ggml_block_bytes(type);
    int8_t v[GT_Q32];
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

/* Rows [row0, row0 + nr) against tokens [t0, t0 + nt), Q32_KC columns at a
 * time: the tokens' activations for them quantized once, then row by row
 * along its blocks through the table's row function. */
static void q32_block(const gt_qmat *w, int row0, int nr, const gt_act *a, int t0, int nt, float *y, size_t ldy,
                      gt_q32_row_fn row) {
    size_t bb = gt_ggml_block_bytes(w->type), rb = bb * (size_t)(w->n_cols / GT_Q32);
    float acc[Q32_NR][Q32_NT] = {{0}}, da[Q32_NT][Q32_KC / GT_Q32];
    int32_t as[Q32_NT][Q32_KC / GT_Q32];
    int8_t aq[Q32_NT][Q32_KC];
    const gt_q32_acts acts = {aq[0], da[0], as[0], Q32_KC, Q32_KC / GT_Q32};
    for (int c0 = 0; c0 < w->n_cols; c0 += Q32_KC) {
        int nc = w->n_cols - c0 < Q32_KC ? w->n_cols - c0 : Q32_KC, nb = nc / GT_Q32;
        for (int t = 0; t < nt; t++) {
            const float *x = a->x + (size_t)(t0 + t) * (size_t)a->n_cols + (size_t)c0;
            for (int b = 0; b < nb; b++) as[t][b] = gt_kern_quant_block(x + b * GT_Q32, aq[t] + b * GT_Q32, &da[t][b]);
        }
        for (int r = 0; r < nr; r++)
            row(w->type, w->qs + (size_t)(row0 + r) * rb + (size_t)(c0 / GT_Q32) * bb, nb, &acts, nt, acc[r]);
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
