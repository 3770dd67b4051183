/* kernels.h: the numeric kernels of the inference engine, one table per ISA.
 *
 * Weights are block formats exactly as GGUF defines them (gt_block_q8_0,
 * gt_block_q4_0, f16, bf16, f32). At load, gt_qmat_pack copies a GGUF matrix
 * out of the file mapping into a tiled layout (anonymous memory, huge pages
 * where the kernel allows): GT_KERN_TILE_ROWS = 16 rows interleaved so that
 * one 512-bit register holds the same column position of 16 rows. The values
 * are unchanged (Q8_0 quants are stored offset by +128, see gt_qmat); only
 * their place in memory moves.
 *
 * Activations feeding a quantized matrix are quantized to 8-bit blocks of 32
 * (scale = amax/127 rounded to f16, kept in f32), and the matrix product is
 * integer dot products per block, scaled in f32 (K-quant matrices: blocks of
 * 256 as llama.cpp's Q8_K, see below).
 *
 * Determinism. Every kernel follows one canonical order of operations, so the
 * scalar reference and every SIMD path give bit-identical results, and a
 * result does not depend on the tiling, the batch or the thread count. Each
 * output (one row against one token) is a single accumulator, acc = 0, then:
 *
 *   Quantized weights: for each block b of 32 columns, ascending,
 *     p = the sum of the 32 integer products w * a (exact in int32),
 *     acc = fma((float)p, dw * da, acc), where dw * da is one f32 product.
 *   Float weights: for each column k, ascending, acc = fma(w[k], x[k], acc).
 *   K-quant weights (kquant.h): the activations are quantized per super-block
 *     of 256 as llama.cpp's Q8_K (one f32 scale da = 1/iscale, iscale =
 *     -127/max), then for each super-block, ascending, with P_g the exact
 *     integer sum of q * a over the 16 columns of group g and A_g that of a:
 *     Q4_K, Q5_K (scales sc_j, mins m_j of the 8 sub-blocks; d, dmin):
 *       acc = fma((float)(sum_j sc_j (P_2j + P_2j+1)), d * da, acc);
 *       acc = fma((float)(sum_j m_j (A_2j + A_2j+1)), -(dmin * da), acc);
 *     Q6_K (scales sc_g of the 16 groups; d):
 *       acc = fma((float)(sum_g sc_g (P_g - 32 A_g)), d * da, acc);
 *     Q3_K likewise with (sc_g - 32) and P_g - 4 A_g; Q2_K as Q4_K with
 *     its 16 groups' own scales and mins; IQ4_XS with P_g over the table
 *     values and its 8 scales (ls_j - 32), no min.
 *     The integer sums are exact (int32); their conversion rounds to f32.
 *   Q4_1, Q5_0, Q5_1, IQ4_NL (quantize_q32.h): the activations quantized
 *     in blocks of 32 as for Q8_0 (scale da, quants summing to A), then for
 *     each block, ascending, with p the exact sum of v * a (v the decoded
 *     integer: q, q - 16 or the table value):
 *       acc = fma((float)p, d * da, acc);
 *       Q4_1, Q5_1 only: acc = fma((float)A, m * da, acc).
 *
 * The result is acc. SIMD paths vectorise across rows (one lane per row of a
 * tile) and tokens, never a float sum inside one dot product, so no lane
 * split or reduction tree enters the order (the K-quant paths vectorise
 * inside a super-block, but only its integer sums, which are exact in any
 * order). fma is a fused multiply-add (fmaf in the
 * scalar path), so no compiler contraction can change a result. */
#ifndef GT_INFER_KERNELS_H
#define GT_INFER_KERNELS_H

#include <assert.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* --- GGUF block formats ------------------------------------------------- */

#define GT_QK 32 /* elements per Q8_0 / Q4_0 block */

typedef uint16_t gt_f16;
typedef uint16_t gt_bf16;

typedef struct gt_block_q8_0 {
    gt_f16 d;          /* scale */
    int8_t qs[GT_QK];  /* value = d * qs[i] */
} gt_block_q8_0;

typedef struct gt_block_q4_0 {
    gt_f16 d;                /* scale */
    uint8_t qs[GT_QK / 2];   /* element i in the low nibble of qs[i], element
                                i+16 in the high one; value = d * (nibble - 8) */
} gt_block_q4_0;

static_assert(sizeof(gt_block_q8_0) == 34, "Q8_0 block is 34 bytes in GGUF");
static_assert(sizeof(gt_block_q4_0) == 18, "Q4_0 block is 18 bytes in GGUF");

/* Exact conversions (f32 -> f16 rounds to nearest even, as F16C does). */
float gt_f16_to_f32(gt_f16 h);
gt_f16 gt_f32_to_f16(float f);
float gt_bf16_to_f32(gt_bf16 h);

/* Dequantizes one row of n elements of a GGUF type into f32 (n a multiple of
 * the type's block size; type one gt_kern_type_ok accepts). */
void gt_dequant_row(uint32_t type, const void *row, float *out, int64_t n);

/* --- Packed weight matrices ------------------------------------------------ */

#define GT_KERN_TILE_ROWS 16  /* rows interleaved per tile (lanes of a zmm) */

/* A weight matrix of n_rows x n_cols in the tiled layout. Tile i holds rows
 * 16i..16i+15 (rows past n_rows are zero, with zero scales); within a tile,
 * "row r, bytes i" means bytes 4r+i of a 64-byte group, so a 64-byte load
 * gives lane r the 4 bytes of row r:
 *   float types: column k of the 16 rows at k*16 (in the file's type);
 *   Q8_0: per block b, 8 groups of 64 bytes: group j holds row r's elements
 *         32b+4j..32b+4j+3 as unsigned bytes q + 128 (vpdpbusd takes them as
 *         they are; the kernel subtracts 128 * the activation block sum);
 *   Q4_0: per block b, 4 groups of 64 bytes: group j holds row r's GGUF bytes
 *         qs[4j..4j+3], i.e. elements 4j+i in the low nibbles and 16+4j+i in
 *         the high ones (value nibble - 8);
 *   Q4_1, IQ4_NL: as Q4_0 (the GGUF qs bytes; value nibble, or the IQ4_NL
 *         table's value at the nibble);
 *   Q5_0, Q5_1: as Q4_0, then a fifth group of 64 bytes: row r's 32 fifth
 *         bits at 4r..4r+3, rearranged (gt_qt_qh_tile, kernels_impl.h) so
 *         that one shift brings a nibble group's bits to bit 4 of its bytes;
 *   scales (block-32 quantized types): per block b, the 16 rows' f16 d,
 *         then (Q4_1, Q5_1) their 16 f16 m;
 *   Q4_K: per super-block of 256 columns, 2368 bytes: the 16 rows' 128
 *         quant bytes as Q4_0's groups (group i holds row r's qs[4i..4i+3]),
 *         then their 6-bit scales and mins one byte each (sub-block j of row
 *         r at 16j + r) and their f16 d and dmin (kernels_impl.h, GT_KQ4_*);
 *         the GGUF bytes come back exactly (gt_kq4_untile);
 *   Q5_K: per super-block, 2880 bytes: as Q4_K with qh's 32 bytes per row
 *         in such groups between the quants and the scales (GT_KQ5_*);
 *   Q6_K: per super-block, 3392 bytes: ql's bytes, then qh's, in such
 *         groups, the int8 scales one byte each, the f16 d (GT_KQ6_*);
 *   Q3_K (1856 bytes), Q2_K (1344) and IQ4_XS (2240): likewise, their
 *         quants' bytes in such groups, then scales one byte each and the f16
 *         d (and Q2_K's dmin) (GT_KQ3_*, GT_KQ2_*, GT_KQX_*); every K-quant
 *         type is tiled (no scales array: each tile carries its own).
 * Blocks are contiguous per tile, tiles one after the other, so a tile's
 * weights are one sequential stream. */
typedef struct gt_qmat {
    uint32_t type;      /* GT_TYPE_F32, F16, BF16, a block-32 type, or a K-quant type (above) */
    int n_rows, n_cols;
    int n_tiles;        /* ceil(n_rows / 16) */
    int n_blocks;       /* n_cols / 32 */
    size_t qs_tile_bytes, d_tile_bytes; /* per tile */
    uint8_t *qs;        /* n_tiles * qs_tile_bytes, 64-byte aligned */
    gt_f16 *d;          /* n_tiles * d_tile_bytes (quantized types only) */
    void *mem;          /* the allocation behind qs and d */
} gt_qmat;

/* 1 for the weight types the kernels take. */
int gt_kern_type_ok(uint32_t type);

/* Packs a GGUF matrix (rows of n_cols elements of `type`, n_cols a multiple
 * of 32) into m, in memory of its own. Caller frees with gt_qmat_free. */
int gt_qmat_pack(gt_qmat *m, uint32_t type, const void *data, int n_rows, int n_cols,
                 gt_err *err);
/* Bytes gt_qmat_pack_into needs for such a matrix (a multiple of 64), or 0
 * when the type or shape is refused (gt_qmat_pack says why). */
size_t gt_qmat_pack_bytes(uint32_t type, int n_rows, int n_cols);
/* The same into mem: gt_qmat_pack_bytes zeroed bytes, 64-byte aligned, that
 * the caller owns and keeps while m is used (gt_qmat_free then frees
 * nothing). Lets a model put all its matrices in one huge-page region:
 * streaming weights through 4 KiB pages costs decode ~15-40% (measured). */
typedef struct gt_pack_progress {
    /* Called as packing goes with source bytes [src, src + n) read for the
     * last time (a loader may drop them from memory). */
    void (*consumed)(void *ctx, const void *src, size_t n);
    void *ctx;
} gt_pack_progress;
int gt_qmat_pack_into(gt_qmat *m, uint32_t type, const void *data, int n_rows, int n_cols,
                      void *mem, const gt_pack_progress *progress, gt_err *err);
/* n zeroed bytes, 64-byte aligned, or (n >= 2 MiB) 2 MiB aligned and advised
 * as huge pages. *mem receives what to pass to gt_free; NULL when out of
 * memory. */
void *gt_kern_alloc(size_t n, void **mem);
void gt_qmat_free(gt_qmat *m); /* accepts a zeroed or freed matrix */
size_t gt_qmat_bytes(const gt_qmat *m); /* weight bytes read per full product */

/* --- Activations ----------------------------------------------------------- */

/* Activations for n_tok tokens of n_cols values (n_cols a multiple of 32),
 * laid out for the kernels: x: f32 (float weights); qs/d/sum: the same
 * quantized in blocks of 32 (quantized weights): per token n_cols int8,
 * n_cols/32 f32 scales and n_cols/32 int32 sums of the block's quants. */
typedef struct gt_act {
    int n_tok, n_cols, n_blocks;
    /* 1 (gt_act_init's default) when a matrix that reads these activations
     * takes their Q8_0 copy (the block-32 types, gt_kern_reads_q8): callers
     * pass it as act_set's quant, so models of K-quants and floats alone
     * skip a quantization nothing reads. */
    int q8;
    float *x;
    int8_t *qs;
    float *d;
    int32_t *sum;
    /* The same quantized for K-quant weights (Q8_K, kernels_kquant.c), per
     * token and super-block of 256 columns (n_sb per token): 256 int8 at
     * kq_qs, the sums of its 16 groups of 16 at kq_bs, the scale at kq_d.
     * Filled by the first matmul that needs it, shared by every later one
     * and every thread until act_set writes those columns again: kq_state
     * 0 stale, 1 being filled, 2 ready. NULL when n_cols % 256 != 0.
     * *kq_ready: 1 once a matmul saw every entry of the n_tok tokens ready
     * (later ones skip the scan), 0 again when act_set marks any stale; it
     * lives behind a pointer because matmuls take the activations const. */
    int n_sb;
    int8_t *kq_qs;
    int16_t *kq_bs;
    float *kq_d;
    atomic_int *kq_state;
    atomic_int *kq_ready; /* kq_state's last entry */
} gt_act;

/* Allocates for up to max_tok tokens of n_cols (a multiple of 32). Caller
 * frees with gt_act_free. */
int gt_act_init(gt_act *a, int max_tok, int n_cols);
/* 1 when a matrix of this type reads the activations' Q8_0 copy (qs, d,
 * sum): Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL. */
int gt_kern_reads_q8(uint32_t type);
void gt_act_free(gt_act *a);
/* Marks token t's Q8_K copies of the super-blocks overlapping columns
 * [col0, col1) stale, so the next K-quant matmul quantizes them again
 * (every act_set calls it; a caller writing a->x itself must too). */
void gt_act_stale(gt_act *a, int t, int col0, int col1);

/* --- Kernel table ------------------------------------------------------------ */

typedef enum gt_isa {
    GT_ISA_SCALAR = 0,
    GT_ISA_AVX2 = 1,    /* AVX2 + FMA + F16C */
    GT_ISA_AVX512 = 2,  /* AVX-512 F/BW/VL + VNNI + F16C + FMA */
    GT_ISA_COUNT
} gt_isa;

typedef struct gt_kern {
    const char *name;
    /* Sets columns [col0, col1) of token t of a (t < max_tok) from the same
     * columns of x (x is the whole row): copies them into a->x and, when
     * quant, quantizes their blocks into a->qs / d / sum. col0 and col1 are
     * multiples of 32 (col1 <= n_cols). */
    void (*act_set)(gt_act *a, int t, const float *x, int col0, int col1, int quant);
    /* y[t * ldy + r] = row r of w . token t of a, for rows of tiles
     * [tile0, tile1) (rows past n_rows are not written) and t < a->n_tok. */
    void (*matmul)(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y,
                   size_t ldy);
    /* Dot of two f32 vectors (n a multiple of 16, used by attention) in its
     * own fixed order: element k into lane k % 16 by fma, k ascending, then
     * the halving tree acc[i] += acc[i+8] (i < 8), then +4, +2, +1. */
    float (*dot)(const float *a, const float *b, int n);
    /* y[i] = fma(s, x[i], y[i]) for i < n (n a multiple of 16). */
    void (*axpy)(float *y, float s, const float *x, int n);
    /* Attention over the f16 KV cache (keys and values stored as halves,
     * widened exactly to f32 on load, so the sums are those of the f32
     * values): scores out[p] = dot(q, f32(k + p * stride), n) for p <
     * n_pos, each in dot's order (n a multiple of 16). */
    void (*dots)(float *out, const float *q, const gt_f16 *k, size_t stride, int n_pos, int n);
    /* Attention output: o[i] = 0, then o[i] = fma(s[p], f32(v[p * stride +
     * i]), o[i]) for p ascending (axpy's order), for i < n (a multiple of 16). */
    void (*wsum)(float *o, const float *s, const gt_f16 *v, size_t stride, int n_pos, int n);
    /* Two query heads that share the keys and values (grouped-query
     * attention): out0/o0 and out1/o1 exactly as dots / wsum give them for
     * each head alone; each key and value is widened once for both. */
    void (*dots2)(float *out0, float *out1, const float *q0, const float *q1, const gt_f16 *k, size_t stride,
                  int n_pos, int n);
    void (*wsum2)(float *o0, float *o1, const float *s0, const float *s1, const gt_f16 *v, size_t stride, int n_pos,
                  int n);
    /* Element-wise steps, all through gt_kern_expf's exact sequence of
     * operations (kernels_impl.h), for any n:
     * silu_mul: g[i] = g[i] / (1 + exp(-g[i])) * u[i] (SwiGLU);
     * exp_shift: s[i] = exp(s[i] - mx) (softmax);
     * f16_store: dst[i] = src[i] rounded to the nearest f16, ties to even
     * (the KV cache's entries). */
    void (*silu_mul)(float *g, const float *u, int n);
    void (*exp_shift)(float *s, float mx, int n);
    void (*f16_store)(gt_f16 *dst, const float *src, int n);
    /* Packs one full tile of a Q8_0 matrix at load: 16 GGUF rows, row_bytes
     * apart, of n_blocks blocks each. Block b's quants go to tq + 512 b
     * (row r's bytes 4g..4g+3 at g * 64 + r * 4, each stored q + 128), its
     * 16 scales to td + 16 b (row r's at r). Data movement only, so every
     * path writes the same bytes (test_kernels compares them). */
    void (*pack_q8_0)(const uint8_t *rows, size_t row_bytes, int n_blocks, uint8_t *tq, gt_f16 *td);
} gt_kern;

/* The best table this CPU runs (chosen once, by cpuid). */
const gt_kern *gt_kern_best(void);
/* The table for one ISA, or NULL when this CPU or build lacks it. */
const gt_kern *gt_kern_isa(gt_isa isa);

#endif
