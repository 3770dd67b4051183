/* kernels.h: the numeric kernels of the inference engine, one table per ISA.
 *
 * Weights are block formats exactly as GGUF defines them (gt_block_q8_0,
 * gt_block_q4_0, f16, bf16, f32). At load, gt_qmat_pack copies a GGUF matrix
 * out of the file mapping into a tiled layout (anonymous memory, huge pages
 * where the kernel allows): GT_KERN_TILE_ROWS rows interleaved per
 * superblock of GT_KERN_SB columns, quants and scales in separate aligned
 * streams. The values are unchanged; only their place in memory moves.
 *
 * Activations feeding a quantized matrix are quantized to 8-bit blocks of 32
 * (scale = amax/127, kept in f32), and the matrix product is integer dot
 * products per block, scaled in f32.
 *
 * Determinism. Every kernel follows one canonical order of operations, so the
 * scalar reference and every SIMD path give bit-identical results, and a
 * result does not depend on the tiling, the batch or the thread count:
 *
 *   acc[16] = 0. Float weights: element k goes to lane k % 16,
 *     acc[l] = fma(w[k], x[k], acc[l]), k ascending.
 *   Quantized weights: blocks go in pairs (2i, 2i+1); lane l < 8 belongs to
 *     the even block, l >= 8 to the odd one, with j = l % 8 covering elements
 *     4j..4j+3 of its block: p = sum of those 4 integer products (exact),
 *     acc[l] = fma((float)p, dw * da, acc[l]) where dw * da is one f32
 *     product, pairs ascending.
 *   Result = halving tree: acc[i] += acc[i+8] (i<8), then +4, +2, +1.
 *
 * fma is a fused multiply-add (fmaf in the scalar path), so no compiler
 * contraction can change a result. */
#ifndef GT_INFER_KERNELS_H
#define GT_INFER_KERNELS_H

#include <assert.h>
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
 * the type's block size; type one of F32, F16, BF16, Q8_0, Q4_0). */
void gt_dequant_row(uint32_t type, const void *row, float *out, int64_t n);

/* --- Packed weight matrices ------------------------------------------------ */

#define GT_KERN_SB 128        /* columns per superblock (4 blocks of 32) */
#define GT_KERN_TILE_ROWS 4   /* rows interleaved per tile */

/* A weight matrix of n_rows x n_cols in the tiled layout. Per tile (4 rows,
 * the last one padded with zero rows) and superblock s:
 *   float types: 4 rows x 128 values (row r at r*128), in the file's type;
 *   Q8_0: qs   4 x 128 int8, scales 4 x 4 f16 (separate stream);
 *   Q4_0: qs   4 x 64 bytes, byte i holding element i in its low nibble and
 *              element 64+i in its high one; scales as Q8_0.
 * Columns past n_cols are zero (so are their scales). */
typedef struct gt_qmat {
    uint32_t type;      /* GT_TYPE_F32, F16, BF16, Q8_0 or Q4_0 */
    int n_rows, n_cols;
    int n_tiles;        /* ceil(n_rows / 4) */
    int n_sb;           /* ceil(n_cols / 128) */
    size_t qs_tile_bytes, d_tile_bytes; /* per tile */
    uint8_t *qs;        /* n_tiles * qs_tile_bytes, 64-byte aligned */
    gt_f16 *d;          /* n_tiles * d_tile_bytes (quantized types only) */
    void *mem;          /* the allocation behind qs and d */
} gt_qmat;

/* 1 for the weight types the kernels take. */
int gt_kern_type_ok(uint32_t type);

/* Packs a GGUF matrix (rows of n_cols elements of `type`, n_cols a multiple
 * of 32) into m. Caller frees with gt_qmat_free. */
int gt_qmat_pack(gt_qmat *m, uint32_t type, const void *data, int n_rows, int n_cols,
                 gt_err *err);
void gt_qmat_free(gt_qmat *m); /* accepts a zeroed or freed matrix */
size_t gt_qmat_bytes(const gt_qmat *m); /* weight bytes read per full product */

/* --- Activations ----------------------------------------------------------- */

/* Activations for n_tok tokens of n_cols values, laid out for the kernels:
 * x: f32, each token padded with zeros to n_sb * 128 (float weights);
 * qs/d: the same quantized in blocks of 32 (quantized weights): per token
 * n_sb * 128 int8 and n_sb * 4 f32 scales. */
typedef struct gt_act {
    int n_tok, n_cols, n_sb;
    float *x;
    int8_t *qs;
    float *d;
} gt_act;

/* Allocates for up to max_tok tokens of n_cols. Caller frees with gt_act_free. */
int gt_act_init(gt_act *a, int max_tok, int n_cols);
void gt_act_free(gt_act *a);

/* --- Kernel table ------------------------------------------------------------ */

typedef enum gt_isa {
    GT_ISA_SCALAR = 0,
    GT_ISA_AVX2 = 1,    /* AVX2 + FMA + F16C */
    GT_ISA_AVX512 = 2,  /* AVX-512 F/BW/VL + VNNI + F16C + FMA */
    GT_ISA_COUNT
} gt_isa;

typedef struct gt_kern {
    const char *name;
    /* Sets token t of a (t < max_tok) from x[0..n_cols): pads into a->x and,
     * when quant, quantizes into a->qs / a->d. */
    void (*act_set)(gt_act *a, int t, const float *x, int quant);
    /* y[t * ldy + r] = row r of w . token t of a, for rows of tiles
     * [tile0, tile1) (rows past n_rows are skipped) and t < a->n_tok. */
    void (*matmul)(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y,
                   size_t ldy);
    /* Canonical 16-lane dot of two f32 vectors (n a multiple of 16). */
    float (*dot)(const float *a, const float *b, int n);
    /* y[i] = fma(s, x[i], y[i]) for i < n (n a multiple of 16). */
    void (*axpy)(float *y, float s, const float *x, int n);
} gt_kern;

/* The best table this CPU runs (chosen once, by cpuid). */
const gt_kern *gt_kern_best(void);
/* The table for one ISA, or NULL when this CPU or build lacks it. */
const gt_kern *gt_kern_isa(gt_isa isa);

/* The halving-tree sum of 16 lanes that ends every canonical dot. */
static inline float gt_kern_tree16(const float acc[16]) {
    float s[8];
    for (int i = 0; i < 8; i++) s[i] = acc[i] + acc[i + 8];
    for (int i = 0; i < 4; i++) s[i] += s[i + 4];
    for (int i = 0; i < 2; i++) s[i] += s[i + 2];
    return s[0] + s[1];
}

#endif
