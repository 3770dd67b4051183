/* kernels_kquant.c: matrix products with K-quant weights (Q2_K..Q6_K, IQ4_XS),
 * shared by every kernel table (see kernels.h for the canonical order).
 *
 * K-quant matrices are tiled at load as Q4_0 is (16 rows interleaved,
 * kernels_impl.h's layouts, as small as GGUF's rows or a few bytes more a
 * super-block: 2.6 to 6.6 bits per weight): an AVX2 or AVX-512 table's tile
 * function runs a tile's 16 rows in the lanes of its registers; the scalar
 * table reads each row back into GGUF bytes for its row function. The
 * activations are quantized as llama.cpp does for these types (Q8_K: one f32
 * scale per 256, from a->x), once per pass into a's shared copy (kernels.h),
 * and the product runs per block of 256 rows x 12 tokens, each super-block
 * decoded once for all the tokens. The integer parts of a super-block (sums
 * of 16 products, sums of 16 activation quants) are exact, so each ISA
 * computes them its own way; the float step that
 * fixes the result's bits is gt_kq_finish (kernels_impl.h) for all. */
#include <math.h>
#include <sched.h>
#include <string.h>

#include "infer/gguf.h"
#include "infer/kernels_impl.h"
#include "infer/kquant.h"

#define KQ_TILE_NT 8 /* tokens a gt_kq4_tile_fn takes at once */
#define KQ_NT 12  /* tokens per block: a row's decoded scales serve them all */
#define KQ_KC 16 /* super-blocks per pass: 4096 columns of quantized activations (48 KiB) */
#define KQ_NR 256 /* rows per block: the tokens' quantized activations serve them all */

/* The reference: the super-block unpacked, its integer parts summed
 * element by element, then the float step. */
static float sb_scalar(uint32_t type, const uint8_t *block, const gt_kq_sb *h, const int8_t *a, float da,
                       float acc) {
    gt_kq_sb u;
    gt_kq_unpack(type, block, &u);
    int32_t p[16], s[16];
    for (int g = 0; g < 16; g++) {
        int32_t pp = 0, ss = 0;
        for (int i = 16 * g; i < 16 * g + 16; i++) {
            pp += (int32_t)u.q[i] * a[i];
            ss += a[i];
        }
        p[g] = pp;
        s[g] = ss;
    }
    int32_t dot = 0, mins = 0;
    switch (type) {
    case GT_TYPE_Q6_K: for (int g = 0; g < 16; g++) dot += h->sc[g] * (p[g] - 32 * s[g]); break;
    case GT_TYPE_Q3_K: for (int g = 0; g < 16; g++) dot += h->sc[g] * (p[g] - 4 * s[g]); break;
    case GT_TYPE_Q2_K:
        for (int g = 0; g < 16; g++) {
            dot += h->sc[g] * p[g];
            mins += h->m[g] * s[g];
        }
        break;
    case GT_TYPE_IQ4_XS:
        for (int b = 0; b < 8; b++) dot += h->sc[b] * (p[2 * b] + p[2 * b + 1] - 128 * (s[2 * b] + s[2 * b + 1]));
        break;
    default:
        for (int b = 0; b < 8; b++) {
            dot += h->sc[b] * (p[2 * b] + p[2 * b + 1]);
            mins += h->m[b] * (s[2 * b] + s[2 * b + 1]);
        }
        break;
    }
    return gt_kq_finish(type, h, dot, mins, da, acc);
}

/* The reference row function (gt_kq_row_fn): block by block, token by
 * token, from the quants alone (the group sums are the other paths'
 * shortcut). */
void gt_kq_row_scalar(uint32_t type, const uint8_t *blocks, int nk, const gt_kq_acts *a, int nt, float *acc) {
    size_t bb = gt_ggml_block_bytes(type);
    gt_kq_sb h;
    for (int k = 0; k < nk; k++) {
        gt_kq_header(type, blocks + (size_t)k * bb, &h);
        for (int t = 0; t < nt; t++)
            acc[t] = sb_scalar(type, blocks + (size_t)k * bb, &h, a->aq + (size_t)t * a->aq_stride + (size_t)k * GT_QK_K,
                               a->da[(size_t)t * a->da_stride + (size_t)k], acc[t]);
    }
}

/* Quantizes the 256 activations of one super-block as llama.cpp's Q8_K
 * does: with max the value of largest magnitude, iscale = -127 / max,
 * q = min(127, round-to-even(iscale * x)), scale 1 / iscale (kept in f32).
 * Returns the scale (0 for an all-zero block, whose quants are then 0). Not
 * finite activations (a model file's weights can make them) are defined, so
 * every path gives the same bytes: a NaN is passed over in finding max, and
 * a product that is NaN (a NaN, or an infinity times the zero iscale of an
 * infinite max) quantizes to 0 (llama.cpp's rounding gives 0 for the
 * default NaN too, but another payload's mantissa bits would leak in). */
float gt_kq_quant_act(const float *x, int8_t q[GT_QK_K]) {
    float max = 0, amax = 0;
    for (int i = 0; i < GT_QK_K; i++)
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    if (amax == 0.0f) {
        memset(q, 0, GT_QK_K);
        return 0.0f;
    }
    float iscale = -127.f / max;
    for (int i = 0; i < GT_QK_K; i++) {
        float p = iscale * x[i];
        if (p != p) { /* a NaN, or an infinity times the zero iscale of an infinite max */
            q[i] = 0;
            continue;
        }
        float v = p + 12582912.0f; /* round to nearest even through the mantissa */
        uint32_t bits;
        memcpy(&bits, &v, 4);
        int l = (int)(bits & 0x7fffffu) - 0x400000;
        q[i] = (int8_t)(l < 127 ? l : 127);
    }
    return 1 / iscale;
}

/* The scalar table's gt_kq_quant_fn: gt_kq_quant_act and the group sums. */
float gt_kq_quant_sb(const float *x, int8_t q[GT_QK_K], int16_t bs[16]) {
    float d = gt_kq_quant_act(x, q);
    for (int g = 0; g < 16; g++) {
        int sum = 0;
        for (int i = 0; i < 16; i++) sum += q[16 * g + i];
        bs[g] = (int16_t)sum;
    }
    return d;
}

/* The tiled Q4_K and Q5_K layouts (kernels_impl.h). Packing moves bytes
 * only: the quants' bytes (and Q5_K's qh) as Q4_0's tiles hold theirs, the
 * 12 packed scale bytes spread into one byte per 6-bit scale and min
 * (kquant.h's decoding), d and dmin as they are. q5 selects Q5_K, whose
 * GGUF block has qh (32 bytes) between the scales and the quants. */
static void kq45_pack_tile(int q5, const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst) {
    const size_t bb = q5 ? sizeof(gt_block_q5_k) : sizeof(gt_block_q4_k), sbb = q5 ? GT_KQ5_SB_BYTES : GT_KQ4_SB_BYTES;
    const int off_sc = q5 ? GT_KQ5_OFF_SC : GT_KQ4_OFF_SC, off_m = q5 ? GT_KQ5_OFF_M : GT_KQ4_OFF_M;
    const int off_d = q5 ? GT_KQ5_OFF_D : GT_KQ4_OFF_D, off_dmin = q5 ? GT_KQ5_OFF_DMIN : GT_KQ4_OFF_DMIN;
    assert(n_rows >= 1 && n_rows <= GT_KERN_TILE_ROWS && row_bytes == (size_t)n_sb * bb);
    for (int r = 0; r < n_rows; r++)
        for (int k = 0; k < n_sb; k++) {
            const uint8_t *blk = rows + (size_t)r * row_bytes + (size_t)k * bb, *qs = blk + (q5 ? 48 : 16);
            uint8_t *sb = dst + (size_t)k * sbb;
            gt_kq_sb h;
            gt_kq_header(q5 ? GT_TYPE_Q5_K : GT_TYPE_Q4_K, blk, &h);
            for (int j = 0; j < 8; j++) {
                sb[off_sc + 16 * j + r] = (uint8_t)h.sc[j];
                sb[off_m + 16 * j + r] = (uint8_t)h.m[j];
            }
            memcpy(sb + off_d + 2 * r, blk, 2);
            memcpy(sb + off_dmin + 2 * r, blk + 2, 2);
            for (int i = 0; i < GT_QK_K / 8; i++) memcpy(sb + 64 * i + 4 * r, qs + 4 * i, 4);
            if (q5)
                for (int i = 0; i < 8; i++) memcpy(sb + GT_KQ5_OFF_QH + 64 * i + 4 * r, blk + 16 + 4 * i, 4);
        }
}

void gt_kq4_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst) {
    kq45_pack_tile(0, rows, row_bytes, n_rows, n_sb, dst);
}

void gt_kq5_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst) {
    kq45_pack_tile(1, rows, row_bytes, n_rows, n_sb, dst);
}

/* Inverse of kq45_pack_tile for one row: the scales repacked as kquant.h
 * lays them out (all 96 bits carry a scale or min bit, so the bytes come
 * back exactly). */
static void kq45_untile(int q5, const uint8_t *sb, int r, int nk, uint8_t *out) {
    const size_t bb = q5 ? sizeof(gt_block_q5_k) : sizeof(gt_block_q4_k), sbb = q5 ? GT_KQ5_SB_BYTES : GT_KQ4_SB_BYTES;
    const int off_sc = q5 ? GT_KQ5_OFF_SC : GT_KQ4_OFF_SC, off_m = q5 ? GT_KQ5_OFF_M : GT_KQ4_OFF_M;
    const int off_d = q5 ? GT_KQ5_OFF_D : GT_KQ4_OFF_D, off_dmin = q5 ? GT_KQ5_OFF_DMIN : GT_KQ4_OFF_DMIN;
    assert(r >= 0 && r < GT_KERN_TILE_ROWS);
    for (int k = 0; k < nk; k++, sb += sbb, out += bb) {
        memcpy(out, sb + off_d + 2 * r, 2);
        memcpy(out + 2, sb + off_dmin + 2 * r, 2);
        uint8_t *s = out + 4;
        for (int j = 0; j < 4; j++) {
            int sc = sb[off_sc + 16 * j + r], m = sb[off_m + 16 * j + r];
            int sc4 = sb[off_sc + 16 * (j + 4) + r], m4 = sb[off_m + 16 * (j + 4) + r];
            s[j] = (uint8_t)(sc | (sc4 >> 4) << 6);
            s[j + 4] = (uint8_t)(m | (m4 >> 4) << 6);
            s[j + 8] = (uint8_t)((sc4 & 15) | (m4 & 15) << 4);
        }
        for (int i = 0; i < GT_QK_K / 8; i++) memcpy(out + (q5 ? 48 : 16) + 4 * i, sb + 64 * i + 4 * r, 4);
        if (q5)
            for (int i = 0; i < 8; i++) memcpy(out + 16 + 4 * i, sb + GT_KQ5_OFF_QH + 64 * i + 4 * r, 4);
    }
}

void gt_kq4_untile(const uint8_t *sb, int r, int nk, uint8_t *out) { kq45_untile(0, sb, r, nk, out); }

void gt_kq5_untile(const uint8_t *sb, int r, int nk, uint8_t *out) { kq45_untile(1, sb, r, nk, out); }

/* Q6_K's tile (kernels_impl.h): bytes moved only. */
void gt_kq6_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst) {
    assert(n_rows >= 1 && n_rows <= GT_KERN_TILE_ROWS && row_bytes == (size_t)n_sb * sizeof(gt_block_q6_k));
    for (int r = 0; r < n_rows; r++)
        for (int k = 0; k < n_sb; k++) {
            const uint8_t *blk = rows + (size_t)r * row_bytes + (size_t)k * sizeof(gt_block_q6_k);
            uint8_t *sb = dst + (size_t)k * GT_KQ6_SB_BYTES;
            for (int i = 0; i < 32; i++) memcpy(sb + 64 * i + 4 * r, blk + 4 * i, 4);
            for (int i = 0; i < 16; i++) memcpy(sb + GT_KQ6_OFF_QH + 64 * i + 4 * r, blk + 128 + 4 * i, 4);
            for (int g = 0; g < 16; g++) sb[GT_KQ6_OFF_SC + 16 * g + r] = blk[192 + g];
            memcpy(sb + GT_KQ6_OFF_D + 2 * r, blk + 208, 2);
        }
}

/* Inverse of gt_kq6_pack_tile for one row. */
void gt_kq6_untile(const uint8_t *sb, int r, int nk, uint8_t *out) {
    assert(r >= 0 && r < GT_KERN_TILE_ROWS);
    for (int k = 0; k < nk; k++, sb += GT_KQ6_SB_BYTES, out += sizeof(gt_block_q6_k)) {
        for (int i = 0; i < 32; i++) memcpy(out + 4 * i, sb + 64 * i + 4 * r, 4);
        for (int i = 0; i < 16; i++) memcpy(out + 128 + 4 * i, sb + GT_KQ6_OFF_QH + 64 * i + 4 * r, 4);
        for (int g = 0; g < 16; g++) out[192 + g] = sb[GT_KQ6_OFF_SC + 16 * g + r];
        memcpy(out + 208, sb + GT_KQ6_OFF_D + 2 * r, 2);
    }
}

/* IQ4_XS's tile (kernels_impl.h): the indices' bytes moved, each 6-bit
 * scale (4 bits in scales_l, 2 in scales_h) spread into an int8 ls - 32. */
void gt_kqx_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst) {
    assert(n_rows >= 1 && n_rows <= GT_KERN_TILE_ROWS && row_bytes == (size_t)n_sb * sizeof(gt_block_iq4_xs));
    for (int r = 0; r < n_rows; r++)
        for (int k = 0; k < n_sb; k++) {
            const uint8_t *blk = rows + (size_t)r * row_bytes + (size_t)k * sizeof(gt_block_iq4_xs);
            uint8_t *sb = dst + (size_t)k * GT_KQX_SB_BYTES;
            gt_kq_sb h;
            gt_kq_low_header(GT_TYPE_IQ4_XS, blk, &h);
            for (int i = 0; i < 32; i++) memcpy(sb + 64 * i + 4 * r, blk + offsetof(gt_block_iq4_xs, qs) + 4 * i, 4);
            for (int j = 0; j < 8; j++) {
                assert(h.sc[j] >= -32 && h.sc[j] <= 31);
                sb[GT_KQX_OFF_SC + 16 * j + r] = (uint8_t)(int8_t)h.sc[j];
            }
            memcpy(sb + GT_KQX_OFF_D + 2 * r, blk, 2);
        }
}

/* Inverse of gt_kqx_pack_tile for one row (all 16 scale bits of scales_h
 * and 32 of scales_l carry a scale bit, so the bytes come back exactly). */
void gt_kqx_untile(const uint8_t *sb, int r, int nk, uint8_t *out) {
    assert(r >= 0 && r < GT_KERN_TILE_ROWS);
    for (int k = 0; k < nk; k++, sb += GT_KQX_SB_BYTES, out += sizeof(gt_block_iq4_xs)) {
        uint16_t sh = 0;
        memcpy(out, sb + GT_KQX_OFF_D + 2 * r, 2);
        memset(out + 4, 0, GT_QK_K / 64);
        for (int j = 0; j < 8; j++) {
            int ls = (int8_t)sb[GT_KQX_OFF_SC + 16 * j + r] + 32;
            out[4 + j / 2] |= (uint8_t)((ls & 15) << (4 * (j % 2)));
            sh |= (uint16_t)((ls >> 4) << (2 * j));
        }
        memcpy(out + 2, &sh, 2);
        for (int i = 0; i < 32; i++) memcpy(out + offsetof(gt_block_iq4_xs, qs) + 4 * i, sb + 64 * i + 4 * r, 4);
    }
}

/* Q3_K's tile (kernels_impl.h): qs and hmask moved, each 6-bit scale
 * (kquant.h's 12 packed bytes) spread into an int8. */
void gt_kq3_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst) {
    assert(n_rows >= 1 && n_rows <= GT_KERN_TILE_ROWS && row_bytes == (size_t)n_sb * sizeof(gt_block_q3_k));
    for (int r = 0; r < n_rows; r++)
        for (int k = 0; k < n_sb; k++) {
            const uint8_t *blk = rows + (size_t)r * row_bytes + (size_t)k * sizeof(gt_block_q3_k);
            uint8_t *sb = dst + (size_t)k * GT_KQ3_SB_BYTES;
            gt_kq_sb h;
            gt_kq_low_header(GT_TYPE_Q3_K, blk, &h);
            for (int i = 0; i < 16; i++) memcpy(sb + 64 * i + 4 * r, blk + offsetof(gt_block_q3_k, qs) + 4 * i, 4);
            for (int i = 0; i < 8; i++) memcpy(sb + GT_KQ3_OFF_HM + 64 * i + 4 * r, blk + 4 * i, 4);
            for (int g = 0; g < 16; g++) {
                assert(h.sc[g] >= -32 && h.sc[g] <= 31);
                sb[GT_KQ3_OFF_SC + 16 * g + r] = (uint8_t)(int8_t)h.sc[g];
            }
            memcpy(sb + GT_KQ3_OFF_D + 2 * r, blk + offsetof(gt_block_q3_k, d), 2);
        }
}

/* Inverse of gt_kq3_pack_tile for one row: scale g's 6 bits, + 32, back as
 * 4 low bits (bytes 0-7, low then high nibbles) and 2 high ones (bytes 8-11). */
void gt_kq3_untile(const uint8_t *sb, int r, int nk, uint8_t *out) {
    assert(r >= 0 && r < GT_KERN_TILE_ROWS);
    for (int k = 0; k < nk; k++, sb += GT_KQ3_SB_BYTES, out += sizeof(gt_block_q3_k)) {
        uint8_t *s = out + offsetof(gt_block_q3_k, scales);
        memset(s, 0, 12);
        for (int g = 0; g < 16; g++) {
            int v = (int8_t)sb[GT_KQ3_OFF_SC + 16 * g + r] + 32;
            s[g % 8] |= (uint8_t)((v & 15) << (g < 8 ? 0 : 4));
            s[8 + g % 4] |= (uint8_t)((v >> 4) << (2 * (g / 4)));
        }
        for (int i = 0; i < 16; i++) memcpy(out + offsetof(gt_block_q3_k, qs) + 4 * i, sb + 64 * i + 4 * r, 4);
        for (int i = 0; i < 8; i++) memcpy(out + 4 * i, sb + GT_KQ3_OFF_HM + 64 * i + 4 * r, 4);
        memcpy(out + offsetof(gt_block_q3_k, d), sb + GT_KQ3_OFF_D + 2 * r, 2);
    }
}

/* Q2_K's tile (kernels_impl.h): bytes moved only. */
void gt_kq2_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst) {
    assert(n_rows >= 1 && n_rows <= GT_KERN_TILE_ROWS && row_bytes == (size_t)n_sb * sizeof(gt_block_q2_k));
    for (int r = 0; r < n_rows; r++)
        for (int k = 0; k < n_sb; k++) {
            const uint8_t *blk = rows + (size_t)r * row_bytes + (size_t)k * sizeof(gt_block_q2_k);
            uint8_t *sb = dst + (size_t)k * GT_KQ2_SB_BYTES;
            for (int i = 0; i < 16; i++) memcpy(sb + 64 * i + 4 * r, blk + offsetof(gt_block_q2_k, qs) + 4 * i, 4);
            for (int g = 0; g < 16; g++) sb[GT_KQ2_OFF_SC + 16 * g + r] = blk[g];
            memcpy(sb + GT_KQ2_OFF_D + 2 * r, blk + offsetof(gt_block_q2_k, d), 2);
            memcpy(sb + GT_KQ2_OFF_DMIN + 2 * r, blk + offsetof(gt_block_q2_k, dmin), 2);
        }
}

/* Inverse of gt_kq2_pack_tile for one row. */
void gt_kq2_untile(const uint8_t *sb, int r, int nk, uint8_t *out) {
    assert(r >= 0 && r < GT_KERN_TILE_ROWS);
    for (int k = 0; k < nk; k++, sb += GT_KQ2_SB_BYTES, out += sizeof(gt_block_q2_k)) {
        for (int i = 0; i < 16; i++) memcpy(out + offsetof(gt_block_q2_k, qs) + 4 * i, sb + 64 * i + 4 * r, 4);
        for (int g = 0; g < 16; g++) out[g] = sb[GT_KQ2_OFF_SC + 16 * g + r];
        memcpy(out + offsetof(gt_block_q2_k, d), sb + GT_KQ2_OFF_D + 2 * r, 2);
        memcpy(out + offsetof(gt_block_q2_k, dmin), sb + GT_KQ2_OFF_DMIN + 2 * r, 2);
    }
}

const gt_kq_layout gt_kq_layouts[GT_KQT_N] = {
    [GT_KQT_Q2] = {GT_KQ2_SB_BYTES, gt_kq2_pack_tile, gt_kq2_untile},
    [GT_KQT_Q3] = {GT_KQ3_SB_BYTES, gt_kq3_pack_tile, gt_kq3_untile},
    [GT_KQT_Q4] = {GT_KQ4_SB_BYTES, gt_kq4_pack_tile, gt_kq4_untile},
    [GT_KQT_Q5] = {GT_KQ5_SB_BYTES, gt_kq5_pack_tile, gt_kq5_untile},
    [GT_KQT_Q6] = {GT_KQ6_SB_BYTES, gt_kq6_pack_tile, gt_kq6_untile},
    [GT_KQT_IQ4XS] = {GT_KQX_SB_BYTES, gt_kqx_pack_tile, gt_kqx_untile},
};

/* The rows of kq_block: the table's tile function for the type when it
 * has one (accumulators per tile, token-major, moved back into
 * acc[row][token] at the end), else each row read back into GGUF bytes and
 * given to the row function. */
static void kq_tiled_rows(const gt_qmat *w, int row0, int nr, int k0, int nk, const gt_kq_acts *acts, int nt,
                          float (*acc)[KQ_NT], float (*tacc)[KQ_NT * GT_KERN_TILE_ROWS], const gt_kq_fns *fns) {
    const int R = GT_KERN_TILE_ROWS, ti = gt_kq_index(w->type);
    assert(row0 % R == 0 && ti >= 0);
    const gt_kq4_tile_fn tile = fns->tile[ti];
    /* Decode (one token) streams weights from memory: the tile functions ask ahead for them, one tile at a time. */
    const gt_kq_pair_fn pair = tile && nt > 1 ? fns->pair[ti] : NULL;
    const size_t sbb = gt_kq_layouts[ti].sb_bytes;
    assert(tile || fns->row);
    for (int i = 0; i * R < nr; i++) {
        const uint8_t *sb = w->qs + (size_t)(row0 / R + i) * w->qs_tile_bytes + (size_t)k0 * sbb;
        if (pair && (i + 1) * R < nr) {
            pair(sb, w->qs_tile_bytes, nk, acts, nt, tacc[i], sizeof tacc[0] / sizeof tacc[0][0]);
            i++;
            continue;
        }
        if (tile) { /* a tile function takes at most KQ_TILE_NT tokens: 12 as 6 + 6, its weights serving each half */
            for (int t0 = 0, n; t0 < nt; t0 += n) {
                n = nt - t0 > KQ_TILE_NT ? (nt - t0 + 1) / 2 : nt - t0;
                const gt_kq_acts at = {acts->aq + (size_t)t0 * acts->aq_stride, acts->bs + (size_t)t0 * acts->bs_stride,
                                       acts->da + (size_t)t0 * acts->da_stride, acts->aq_stride, acts->bs_stride,
                                       acts->da_stride};
                tile(sb, nk, &at, n, tacc[i] + R * t0);
            }
            continue;
        }
        uint8_t blocks[KQ_KC * sizeof(gt_block_q6_k)]; /* the largest block */
        for (int r = 0; r < R && i * R + r < nr; r++) {
            gt_kq_layouts[ti].untile(sb, r, nk, blocks);
            fns->row(w->type, blocks, nk, acts, nt, acc[i * R + r]);
        }
    }
}

/* Fills a's Q8_K copy (kernels.h) of tokens [0, n_tok): each (token,
 * super-block) not ready is claimed (0 -> 1) and filled by one thread, so
 * the threads of a matmul share the work and later matmuls on the same
 * activations find it done (kq_ready: without scanning). A caller starts
 * at the token `hint` picks (its first tile), so two threads filling at
 * once mostly claim different cache lines of kq_state. Returns 1 once
 * every entry is ready; 0 when a has no copy or an entry another thread
 * holds did not become ready within KQ_WAIT yields (a parked thread): the
 * caller then quantizes its own copy, the same bytes. */
#define KQ_WAIT 64
static int kq_cache_ready(const gt_act *a, const gt_kq_fns *fns, int hint) {
    if (!a->kq_state) return 0;
    if (atomic_load_explicit(a->kq_ready, memory_order_acquire)) return 1;
    const size_t n = (size_t)a->n_tok * (size_t)a->n_sb;
    const size_t start = a->n_tok > 0 ? (size_t)(hint % a->n_tok) * (size_t)a->n_sb : 0;
    int busy = 0;
    for (size_t j = 0; j < n; j++) {
        size_t i = start + j < n ? start + j : start + j - n;
        int st = atomic_load_explicit(&a->kq_state[i], memory_order_acquire), zero = 0;
        if (st == 2) continue;
        if (st == 1 || !atomic_compare_exchange_strong_explicit(&a->kq_state[i], &zero, 1, memory_order_acquire,
                                                                memory_order_relaxed)) {
            busy = 1;
            continue;
        }
        size_t t = i / (size_t)a->n_sb, k = i % (size_t)a->n_sb;
        a->kq_d[i] = fns->quant(a->x + t * (size_t)a->n_cols + k * GT_QK_K, a->kq_qs + i * GT_QK_K,
                                 a->kq_bs + i * GT_KQ_BS_N);
        gt_kq_sub_sums(a->kq_bs + i * GT_KQ_BS_N);
        atomic_store_explicit(&a->kq_state[i], 2, memory_order_release);
    }
    for (int tries = 0; busy && tries < KQ_WAIT; tries++) {
        size_t i = 0;
        while (i < n && atomic_load_explicit(&a->kq_state[i], memory_order_acquire) == 2) i++;
        if (i == n) busy = 0;
        else sched_yield();
    }
    if (busy) return 0;
    atomic_store_explicit(a->kq_ready, 1, memory_order_release);
    return 1;
}

/* Rows [row0, row0 + nr) against tokens [t0, t0 + nt), KQ_KC super-blocks
 * at a time: the tokens' Q8_K activations for them from a's shared copy
 * (cached) or quantized here, then tile by tile along its super-blocks (a
 * sequential stream of weights): kq_tiled_rows. */
static void kq_block(const gt_qmat *w, int row0, int nr, const gt_act *a, int t0, int nt, float *y,
                     size_t ldy, const gt_kq_fns *fns, int cached) {
    int n_sb = w->n_cols / GT_QK_K;
    const int R = GT_KERN_TILE_ROWS, by_tile = fns->tile[gt_kq_index(w->type)] != NULL;
    float acc[KQ_NR][KQ_NT], da[KQ_NT][KQ_KC];
    float tacc[KQ_NR / GT_KERN_TILE_ROWS][KQ_NT * GT_KERN_TILE_ROWS];
    /* A tile's accumulators for nt tokens are the first nt * R of its row:
     * clearing whole rows cost decoding (nt = 1) 12 KiB of stores a block,
     * 1.4 % of a qwen3-0.6b Q4_K_M step (perf). */
    if (by_tile)
        for (int i = 0; i * R < nr; i++) memset(tacc[i], 0, (size_t)nt * R * sizeof tacc[0][0]);
    else memset(acc, 0, (size_t)nr * sizeof acc[0]);
    int8_t aq[KQ_NT][KQ_KC * GT_QK_K];
    int16_t bs[KQ_NT][KQ_KC * GT_KQ_BS_N];
    /* One token from the shared Q8_K copy (decoding): the whole row in one
     * pass, so that each tile streams from memory as one run. In passes of
     * KQ_KC, a tile wider than 4,096 columns was read half at a time,
     * jumping, and its prefetch ran 4 KiB past the end of every run. */
    const int kc = cached && by_tile && nt == 1 ? n_sb : KQ_KC;
    assert(cached || kc == KQ_KC); /* quantized here: into aq and bs, KQ_KC super-blocks at most */
    for (int k0 = 0; k0 < n_sb; k0 += kc) {
        int nk = n_sb - k0 < kc ? n_sb - k0 : kc;
        gt_kq_acts acts = {aq[0], bs[0], da[0], sizeof aq[0], KQ_KC * GT_KQ_BS_N, KQ_KC};
        if (cached) {
            size_t i0 = (size_t)t0 * (size_t)n_sb + (size_t)k0;
            acts = (gt_kq_acts){a->kq_qs + i0 * GT_QK_K, a->kq_bs + i0 * GT_KQ_BS_N, a->kq_d + i0, (size_t)a->n_cols,
                                (size_t)n_sb * GT_KQ_BS_N, (size_t)n_sb};
        } else
            for (int t = 0; t < nt; t++)
                for (int k = 0; k < nk; k++) {
                    da[t][k] = fns->quant(a->x + (size_t)(t0 + t) * (size_t)a->n_cols + (size_t)(k0 + k) * GT_QK_K,
                                           aq[t] + k * GT_QK_K, bs[t] + GT_KQ_BS_N * k);
                    gt_kq_sub_sums(bs[t] + GT_KQ_BS_N * k);
                }
        kq_tiled_rows(w, row0, nr, k0, nk, &acts, nt, acc, tacc, fns);
    }
    if (by_tile) { /* a tile's accumulators are token-major, as y is: 16 rows at a time */
        for (int i = 0; i * R < nr; i++)
            for (int t = 0; t < nt; t++) {
                float *dst = y + (size_t)(t0 + t) * ldy + (size_t)(row0 + i * R);
                /* A whole tile's row of 16 as a constant size: a variable one became rep movsq, 5 % of prefill. */
                if (nr - i * R >= GT_KERN_TILE_ROWS) memcpy(dst, tacc[i] + R * t, GT_KERN_TILE_ROWS * sizeof(float));
                else memcpy(dst, tacc[i] + R * t, (size_t)(nr - i * R) * sizeof(float));
            }
        return;
    }
    for (int r = 0; r < nr; r++)
        for (int t = 0; t < nt; t++) y[(size_t)(t0 + t) * ldy + (size_t)(row0 + r)] = acc[r][t];
}

void gt_kq_matmul(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y, size_t ldy,
                  const gt_kq_fns *fns) {
    assert(gt_kq_is_k(w->type) && a->n_cols == w->n_cols && w->n_cols % GT_QK_K == 0);
    int row1 = tile1 * GT_KERN_TILE_ROWS, cached = kq_cache_ready(a, fns, tile0);
    if (row1 > w->n_rows) row1 = w->n_rows;
    for (int r0 = tile0 * GT_KERN_TILE_ROWS; r0 < row1; r0 += KQ_NR) {
        int nr = row1 - r0 < KQ_NR ? row1 - r0 : KQ_NR;
        for (int t0 = 0; t0 < a->n_tok; t0 += KQ_NT)
            kq_block(w, r0, nr, a, t0, a->n_tok - t0 < KQ_NT ? a->n_tok - t0 : KQ_NT, y, ldy, fns, cached);
    }
}
