/* kernels_impl.h: what the per-ISA kernel files share with kernels.c (not a
 * public interface: the engine uses kernels.h). */
#ifndef GT_INFER_KERNELS_IMPL_H
#define GT_INFER_KERNELS_IMPL_H

#include <math.h>

#include "infer/gguf.h"
#include "infer/kernels.h"
#include "infer/kquant.h"

/* The tables defined by kernels_avx2.c and kernels_avx512.c. Only call their
 * functions after gt_kern_isa has checked the CPU. */
extern const gt_kern gt_kern_avx2;
extern const gt_kern gt_kern_avx512;
/* How far ahead in each of a tile's 16 source rows pack_q8_0 asks for bytes:
 * the 16 streams, 34 bytes a block each, are more than the hardware
 * prefetcher follows (measured on a Zen 5 class host, 71 MB of Q8_0 rows:
 * 128 bytes 12.5 GB/s, 192-256 bytes 13-15.5 GB/s, 1024 bytes 8.7, none 7). */
#define GT_PACK_AHEAD_BYTES 256
/* kernels.h's pack_q8_0 one block at a time (the scalar and AVX2 tables'). */
void gt_pack_q8_0_scalar(const uint8_t *rows, size_t row_bytes, int n_blocks, uint8_t *tq, gt_f16 *td);

/* K-quant products (kernels_kquant.c). The scalar table's row function:
 * nk consecutive super-blocks of one row (raw GGUF bytes) against nt
 * tokens: token t's Q8_K quants of block k at aq + t * aq_stride + 256 k,
 * the sums of its 16 groups of 16 quants at bs + t * bs_stride + GT_KQ_BS_N k
 * (then its 8 sub-block sums of 32, gt_kq_sub_sums), its
 * scale at da[t * da_stride + k]; acc[t] gets block after block added in
 * the canonical order (kernels.h). The integer parts are exact, so each
 * ISA computes them its own way; the float step is gt_kq_finish for all. */
typedef struct gt_kq_acts {
    const int8_t *aq;
    const int16_t *bs;
    const float *da;
    size_t aq_stride, bs_stride, da_stride;
} gt_kq_acts;
typedef void (*gt_kq_row_fn)(uint32_t type, const uint8_t *blocks, int nk, const gt_kq_acts *a, int nt,
                             float *acc);
void gt_kq_row_scalar(uint32_t type, const uint8_t *blocks, int nk, const gt_kq_acts *a, int nt, float *acc);

/* int16 sums a super-block of Q8_K activations keeps: its 16 groups of 16
 * quants (|sum| <= 16 * 127), then its 8 sub-blocks of 32 (|sum| <= 32 *
 * 127), so that the mins' kernels broadcast sub-blocks 2i and 2i + 1 as one
 * little-endian dword (bs + 16 + 2i) instead of adding pairs per token. */
#define GT_KQ_BS_N 24
static inline void gt_kq_sub_sums(int16_t bs[GT_KQ_BS_N]) {
    for (int j = 0; j < 8; j++) bs[16 + j] = (int16_t)(bs[2 * j] + bs[2 * j + 1]);
}

/* Q8_K quantization of 256 activations (kernels_kquant.c defines it; the
 * AVX2 one gives the same bytes and scale). */
float gt_kq_quant_act(const float *x, int8_t q[256]);
float gt_kq_quant_act_avx2(const float *x, int8_t q[256]);
/* A table's part: the same, plus the sums of the 16 groups of 16 quants
 * (|sum| <= 16 * 127: int16). */
typedef float (*gt_kq_quant_fn)(const float *x, int8_t q[256], int16_t bs[16]);
float gt_kq_quant_sb(const float *x, int8_t q[256], int16_t bs[16]);
float gt_kq_quant_sb_avx2(const float *x, int8_t q[256], int16_t bs[16]);
/* Q4_K matrices are tiled (kernels.h): one tile super-block of 16 rows is
 * GT_KQ4_SB_BYTES at these offsets: the quants as Q4_0's groups (group i of
 * 64 bytes holds, at 4r..4r+3, row r's qs[4i..4i+3]), then the 6-bit scales
 * (sub-block j of row r at byte 16j + r), the mins likewise, the 16 f16 d
 * and the 16 f16 dmin. */
#define GT_KQ4_OFF_SC 2048
#define GT_KQ4_OFF_M 2176
#define GT_KQ4_OFF_D 2304
#define GT_KQ4_OFF_DMIN 2336
#define GT_KQ4_SB_BYTES 2368
static_assert(GT_KQ4_SB_BYTES % 64 == 0, "tile super-blocks stay 64-byte aligned");
/* Packs tile rows (n_rows <= 16 GGUF rows of n_sb Q4_K super-blocks, row r
 * at rows + r * row_bytes) into the tile at dst (zeroed: missing rows stay
 * zero, so they add exact zeros). */
void gt_kq4_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst);
/* The GGUF bytes of nk super-blocks of row r (< 16) of a tile, from the
 * tile super-block at sb: the exact inverse of the packing. */
void gt_kq4_untile(const uint8_t *sb, int r, int nk, uint8_t *out);

/* A table's tiled Q4_K part (optional): nk super-blocks of one tile (at
 * sb, GT_KQ4_SB_BYTES apart) against nt tokens as gt_kq_row_fn's, row r's
 * token t accumulator at acc[16 t + r], in the canonical order. */
/* Q6_K likewise, GT_KQ6_SB_BYTES per tile super-block: ql as Q4_K's
 * quants (group i holds row r's ql[4i..4i+3]), qh the same way (16
 * groups), the int8 scales (group g of row r at 16g + r), the 16 f16 d,
 * 32 bytes of zeros. */
#define GT_KQ6_OFF_QH 2048
#define GT_KQ6_OFF_SC 3072
#define GT_KQ6_OFF_D 3328
#define GT_KQ6_SB_BYTES 3392
static_assert(GT_KQ6_SB_BYTES % 64 == 0, "tile super-blocks stay 64-byte aligned");
void gt_kq6_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst);
void gt_kq6_untile(const uint8_t *sb, int r, int nk, uint8_t *out);
/* Q5_K likewise, GT_KQ5_SB_BYTES per tile super-block: the low nibbles as
 * Q4_K's quants (group i holds row r's qs[4i..4i+3]), qh the same way (8
 * groups: group i holds row r's qh[4i..4i+3], the fifth bits of the
 * elements the quant groups i, 8 + i, 16 + i and 24 + i hold), then the
 * scales, mins, d and dmin as Q4_K's. */
#define GT_KQ5_OFF_QH 2048
#define GT_KQ5_OFF_SC 2560
#define GT_KQ5_OFF_M 2688
#define GT_KQ5_OFF_D 2816
#define GT_KQ5_OFF_DMIN 2848
#define GT_KQ5_SB_BYTES 2880
static_assert(GT_KQ5_SB_BYTES % 64 == 0, "tile super-blocks stay 64-byte aligned");
void gt_kq5_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst);
void gt_kq5_untile(const uint8_t *sb, int r, int nk, uint8_t *out);
/* IQ4_XS likewise, GT_KQX_SB_BYTES per tile super-block: the 4-bit
 * indices as Q4_K's quants (group i holds row r's qs[4i..4i+3]: sub-block
 * j is groups 4j..4j+3, low nibbles its elements 0-15, high ones 16-31),
 * the sub-blocks' scales as int8 ls - 32 (sub-block j of row r at 16j + r),
 * the 16 f16 d, 32 bytes of zeros. */
#define GT_KQX_OFF_SC 2048
#define GT_KQX_OFF_D 2176
#define GT_KQX_SB_BYTES 2240
static_assert(GT_KQX_SB_BYTES % 64 == 0, "tile super-blocks stay 64-byte aligned");
void gt_kqx_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst);
void gt_kqx_untile(const uint8_t *sb, int r, int nk, uint8_t *out);
/* Q3_K likewise, GT_KQ3_SB_BYTES per tile super-block: qs as Q4_K's
 * quants (16 groups: group i holds row r's qs[4i..4i+3]), hmask the same
 * way (8 groups), the 16 scales of 16 elements as int8 (group g of row r at
 * 16g + r), the 16 f16 d, 32 bytes of zeros. Element e of a row is
 * (qs[32h + l] >> 2s) & 3 | ((hmask[l] >> (4h + s)) & 1) << 2, minus 4,
 * with h = e / 128, s = e % 128 / 32, l = e % 32 (kquant.h). */
#define GT_KQ3_OFF_HM 1024
#define GT_KQ3_OFF_SC 1536
#define GT_KQ3_OFF_D 1792
#define GT_KQ3_SB_BYTES 1856
static_assert(GT_KQ3_SB_BYTES % 64 == 0, "tile super-blocks stay 64-byte aligned");
void gt_kq3_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst);
void gt_kq3_untile(const uint8_t *sb, int r, int nk, uint8_t *out);
/* Q2_K likewise, GT_KQ2_SB_BYTES per tile super-block (84 bytes a row's
 * super-block, as in GGUF): qs as Q3_K's (16 groups), the 16 scale bytes as
 * they are (sub-block g of row r at 16g + r: scale in the low nibble, min in
 * the high one), the 16 f16 d, the 16 f16 dmin. */
#define GT_KQ2_OFF_SC 1024
#define GT_KQ2_OFF_D 1280
#define GT_KQ2_OFF_DMIN 1312
#define GT_KQ2_SB_BYTES 1344
static_assert(GT_KQ2_SB_BYTES % 64 == 0, "tile super-blocks stay 64-byte aligned");
void gt_kq2_pack_tile(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst);
void gt_kq2_untile(const uint8_t *sb, int r, int nk, uint8_t *out);

/* Every K-quant type is tiled at load; its place in the per-type tables
 * (gt_kq_layouts, gt_kq_fns' tile and pair). */
enum { GT_KQT_Q2, GT_KQT_Q3, GT_KQT_Q4, GT_KQT_Q5, GT_KQT_Q6, GT_KQT_IQ4XS, GT_KQT_N };
static inline int gt_kq_index(uint32_t type) {
    switch (type) {
    case GT_TYPE_Q2_K: return GT_KQT_Q2;
    case GT_TYPE_Q3_K: return GT_KQT_Q3;
    case GT_TYPE_Q4_K: return GT_KQT_Q4;
    case GT_TYPE_Q5_K: return GT_KQT_Q5;
    case GT_TYPE_Q6_K: return GT_KQT_Q6;
    case GT_TYPE_IQ4_XS: return GT_KQT_IQ4XS;
    default: return -1;
    }
}
/* A tiled type's layout: bytes per tile super-block, its packing and its
 * exact inverse for one row (kernels_kquant.c). */
typedef struct gt_kq_layout {
    size_t sb_bytes;
    void (*pack)(const uint8_t *rows, size_t row_bytes, int n_rows, int n_sb, uint8_t *dst);
    void (*untile)(const uint8_t *sb, int r, int nk, uint8_t *out);
} gt_kq_layout;
extern const gt_kq_layout gt_kq_layouts[GT_KQT_N];

typedef void (*gt_kq4_tile_fn)(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kq6_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kq6_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kq4_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kq4_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kq5_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kq5_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kqx_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kqx_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kq3_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kq3_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kq2_tile_avx2(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
void gt_kq2_tile_avx512(const uint8_t *sb, int nk, const gt_kq_acts *a, int nt, float *acc);
/* The same for two neighbouring tiles at once (the second's super-blocks
 * tile_bytes after the first's, its accumulators acc_stride floats after):
 * each activation broadcast then serves 32 rows. */
typedef void (*gt_kq_pair_fn)(const uint8_t *sb, size_t tile_bytes, int nk, const gt_kq_acts *a, int nt, float *acc,
                              size_t acc_stride);
void gt_kq4_pair_avx512(const uint8_t *sb, size_t tile_bytes, int nk, const gt_kq_acts *a, int nt, float *acc,
                        size_t acc_stride);
void gt_kq5_pair_avx512(const uint8_t *sb, size_t tile_bytes, int nk, const gt_kq_acts *a, int nt, float *acc,
                        size_t acc_stride);
void gt_kq6_pair_avx512(const uint8_t *sb, size_t tile_bytes, int nk, const gt_kq_acts *a, int nt, float *acc,
                        size_t acc_stride);
typedef struct gt_kq_fns {
    gt_kq_row_fn row;     /* a row's super-blocks in GGUF bytes: for types without a tile function */
    gt_kq_quant_fn quant;
    gt_kq4_tile_fn tile[GT_KQT_N]; /* per type (gt_kq_index); NULL: tiles read back row by row through row */
    gt_kq_pair_fn pair[GT_KQT_N];  /* two tiles at once; NULL: pairs one tile at a time */
} gt_kq_fns;
void gt_kq_matmul(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y, size_t ldy,
                  const gt_kq_fns *fns);

/* The float step of kernels.h's K-quant order, from the super-block's two
 * exact integers: dot = sum over sub-blocks of scale * (sum of q * a) (Q6_K,
 * Q3_K, IQ4_XS: of the signed quant, q - 32, q - 4, value), mins = sum of
 * min * (sum of a) (Q2_K, Q4_K, Q5_K; 0 for the others). Inline so each ISA's file compiles it with its own fma (the same
 * correctly rounded operation as libm's fmaf). */
static inline float gt_kq_finish(uint32_t type, const gt_kq_sb *h, int32_t dot, int32_t mins, float da,
                                 float acc) {
    acc = fmaf((float)dot, h->d * da, acc);
    if (!gt_kq_has_min(type)) return acc;
    return fmaf((float)mins, -(h->dmin * da), acc);
}

/* The block-32 quantized types kept in 16-row tiles (kernels.h): Q8_0,
 * Q4_0 and, in Q4_0's nibble groups, Q4_1, Q5_0, Q5_1 and IQ4_NL. */
static inline int gt_qt_is(uint32_t type) {
    return type == GT_TYPE_Q8_0 || type == GT_TYPE_Q4_0 || type == GT_TYPE_Q4_1 || type == GT_TYPE_Q5_0 ||
           type == GT_TYPE_Q5_1 || type == GT_TYPE_IQ4_NL;
}
/* 1 for the tiled types whose weights carry an offset m (Q4_1, Q5_1). */
static inline int gt_qt_has_min(uint32_t type) { return type == GT_TYPE_Q4_1 || type == GT_TYPE_Q5_1; }
/* 1 for the tiled types with a fifth bit per weight (Q5_0, Q5_1). */
static inline int gt_qt_has_qh(uint32_t type) { return type == GT_TYPE_Q5_0 || type == GT_TYPE_Q5_1; }
/* Bytes of one block of 32 columns of a tile: Q8_0 8 groups of 64, the
 * nibble types 4, Q5_0/Q5_1 one more for the fifth bits. */
#define GT_QT_QH_OFF 256 /* where a Q5_0/Q5_1 tile block keeps its fifth bits */
static inline size_t gt_qt_blk_bytes(uint32_t type) {
    return type == GT_TYPE_Q8_0 ? 512 : gt_qt_has_qh(type) ? GT_QT_QH_OFF + 64 : 256;
}
/* f16 values per block of a tile's scales: the 16 d, then (Q4_1, Q5_1)
 * the 16 m. */
static inline int gt_qt_scales(uint32_t type) { return gt_qt_has_min(type) ? 32 : 16; }
/* A row's 32 fifth bits (bit e = element e, GGUF's qh) rearranged for the
 * tile: bit 8i + j holds element 4j + i's and bit 8i + 4 + j element
 * 16 + 4j + i's (i, j < 4), so nibble group j's bits come to bit 4 of
 * bytes 0..3 by one shift of the word, left by 4 - j for the low nibbles,
 * right by j for the high ones. */
static inline uint32_t gt_qt_qh_tile(uint32_t qh) {
    uint32_t out = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            out |= ((qh >> (4 * j + i)) & 1u) << (8 * i + j);
            out |= ((qh >> (16 + 4 * j + i)) & 1u) << (8 * i + 4 + j);
        }
    return out;
}

/* Scalar quantization of one block of 32 (the reference the SIMD paths
 * match); returns the sum of the quants. */
int32_t gt_kern_quant_block(const float *x, int8_t *q, float *d);

/* exp(x) in the engine's own fixed sequence of operations, so the SIMD
 * paths can repeat it bit for bit: 0 for x <= -87 (and NaN); otherwise
 * x' = min(x, 88), n = round-to-even(x' * log2(e)), r = x' - n ln2 in two
 * fmas (ln2 split as 0.693359375 - 2.12194440e-4), y = 1 + r + r^2 P(r)
 * with the degree-5 Cephes polynomial by fmas (y = fma(P, r^2, r) + 1),
 * result y * 2^n. Measured within 8.2e-8 relative of exp (test_kernels). */
#define GT_EXP_LO -87.0f
#define GT_EXP_HI 88.0f
#define GT_EXP_LOG2E 1.44269504088896341f
#define GT_EXP_C1 0.693359375f
#define GT_EXP_C2 -2.12194440e-4f
#define GT_EXP_P0 1.9875691500e-4f
#define GT_EXP_P1 1.3981999507e-3f
#define GT_EXP_P2 8.3334519073e-3f
#define GT_EXP_P3 4.1665795894e-2f
#define GT_EXP_P4 1.6666665459e-1f
#define GT_EXP_P5 5.0000001201e-1f

/* The sequence above, inline: a caller compiled for a wider target (the
 * trainer's FMA clones) runs the fmas as instructions; fmaf is exactly
 * rounded either way, so every caller gets the same bits. */
static inline __attribute__((always_inline)) float gt_kern_expf_inline(float x) {
    if (!(x > GT_EXP_LO)) return 0.0f;
    x = x < GT_EXP_HI ? x : GT_EXP_HI;
    float n = __builtin_nearbyintf(x * GT_EXP_LOG2E);
    float r = __builtin_fmaf(n, -GT_EXP_C1, x);
    r = __builtin_fmaf(n, -GT_EXP_C2, r);
    float p = GT_EXP_P0;
    p = __builtin_fmaf(p, r, GT_EXP_P1);
    p = __builtin_fmaf(p, r, GT_EXP_P2);
    p = __builtin_fmaf(p, r, GT_EXP_P3);
    p = __builtin_fmaf(p, r, GT_EXP_P4);
    p = __builtin_fmaf(p, r, GT_EXP_P5);
    float y = __builtin_fmaf(p, r * r, r) + 1.0f;
    union { uint32_t u; float f; } scale = {.u = (uint32_t)((int32_t)n + 127) << 23}; /* n in -126..127 */
    return y * scale.f;
}
float gt_kern_expf(float x);
/* The scalar element-wise steps (the reference table's entries). */
void gt_kern_silu_mul_scalar(float *g, const float *u, int n);
void gt_kern_exp_shift_scalar(float *s, float mx, int n);

#endif
