/* kernels.c: number formats, weight packing, activation buffers, the scalar
 * reference kernels and run-time dispatch among ISAs (see kernels.h for the
 * canonical order every path follows). The SIMD tables live in
 * kernels_avx2.c and kernels_avx512.c; they are tested against this file. */
#include "infer/kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/alloc.h"
#include "infer/gguf.h"
#include "infer/kernels_impl.h"
#include "infer/kquant.h"
#include "infer/quantize_q32.h"

/* --- number formats -------------------------------------------------------- */

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Widens an IEEE half to float (exact for every value, NaN payloads kept). */
float gt_f16_to_f32(gt_f16 h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000 | (man << 13));
    if (exp == 0) {
        if (man == 0) return bits_f32(sign);
        /* Subnormal half: man * 2^-24, exact in f32. */
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

/* Rounds a float to the nearest half, ties to even, as F16C's vcvtps2ph does
 * (NaNs become quiet NaNs keeping the top payload bits). */
gt_f16 gt_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000;
    x &= 0x7fffffff;
    if (x > 0x7f800000) return (gt_f16)(sign | 0x7e00 | ((x >> 13) & 0x3ff));
    if (x >= 0x47800000) return (gt_f16)(sign | 0x7c00); /* >= 65536 (and inf) */
    if (x < 0x38800000) {                                 /* below 2^-14: subnormal */
        uint32_t e = x >> 23;
        if (e < 102) return (gt_f16)sign; /* below 2^-25 rounds to zero */
        uint32_t m = (x & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14..24 */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (gt_f16)(sign | q);
    }
    uint32_t h = (x >> 13) - (112u << 10), rem = x & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* may carry into inf: right */
    return (gt_f16)(sign | h);
}

/* Widens a bfloat16 (the top half of an f32). */
float gt_bf16_to_f32(gt_bf16 h) { return bits_f32((uint32_t)h << 16); }

/* Dequantizes one GGUF row; the caller checked type and n (see kernels.h). */
void gt_dequant_row(uint32_t type, const void *row, float *out, int64_t n) {
    switch (type) {
    case GT_TYPE_F32: memcpy(out, row, (size_t)n * 4); break;
    case GT_TYPE_F16: {
        const uint8_t *p = row;
        for (int64_t i = 0; i < n; i++) {
            gt_f16 h;
            memcpy(&h, p + 2 * i, 2);
            out[i] = gt_f16_to_f32(h);
        }
        break;
    }
    case GT_TYPE_BF16: {
        const uint8_t *p = row;
        for (int64_t i = 0; i < n; i++) {
            gt_bf16 h;
            memcpy(&h, p + 2 * i, 2);
            out[i] = gt_bf16_to_f32(h);
        }
        break;
    }
    case GT_TYPE_Q8_0: {
        const uint8_t *p = row;
        for (int64_t b = 0; b < n / GT_QK; b++) {
            gt_block_q8_0 blk;
            memcpy(&blk, p + b * (int64_t)sizeof blk, sizeof blk);
            float d = gt_f16_to_f32(blk.d);
            for (int i = 0; i < GT_QK; i++) out[b * GT_QK + i] = d * (float)blk.qs[i];
        }
        break;
    }
    case GT_TYPE_Q4_0: {
        const uint8_t *p = row;
        for (int64_t b = 0; b < n / GT_QK; b++) {
            gt_block_q4_0 blk;
            memcpy(&blk, p + b * (int64_t)sizeof blk, sizeof blk);
            float d = gt_f16_to_f32(blk.d);
            for (int i = 0; i < GT_QK / 2; i++) {
                out[b * GT_QK + i] = d * (float)((blk.qs[i] & 0xf) - 8);
                out[b * GT_QK + i + 16] = d * (float)((blk.qs[i] >> 4) - 8);
            }
        }
        break;
    }
    case GT_TYPE_Q4_K: gt_dequant_row_q4_k(row, out, n); break;
    case GT_TYPE_Q5_K: gt_dequant_row_q5_k(row, out, n); break;
    case GT_TYPE_Q6_K: gt_dequant_row_q6_k(row, out, n); break;
    case GT_TYPE_Q2_K:
    case GT_TYPE_Q3_K:
    case GT_TYPE_IQ4_XS: gt_kq_low_dequant_row(type, row, out, n); break;
    case GT_TYPE_Q4_1:
    case GT_TYPE_Q5_0:
    case GT_TYPE_Q5_1:
    case GT_TYPE_IQ4_NL: gt_q32_dequant_row(type, row, out, n); break;
    default: assert(!"gt_dequant_row: unsupported type"); break;
    }
}

/* --- aligned, huge-page friendly allocation -------------------------------- */

#define HUGE_BYTES (2u << 20)

/* Allocates n zeroed bytes aligned to 64 (to 2 MiB, advised as huge pages,
 * when n is large: weights are streamed once per token, and on 4 KiB pages
 * the hardware prefetchers stop at every page). *mem receives the pointer to
 * free with gt_free. Zeroed by calloc, which leaves memory fresh from the
 * kernel untouched (it is zero already): its first touch, dear on a virtual
 * machine, then falls to whoever fills it (the model's loading threads). */
void *gt_kern_alloc(size_t n, void **mem) {
    size_t align = n >= HUGE_BYTES ? HUGE_BYTES : 64;
    /* Large: whole huge pages, so the tail is advised too. */
    size_t span = align == HUGE_BYTES ? (n + HUGE_BYTES - 1) & ~(size_t)(HUGE_BYTES - 1) : n;
    uint8_t *raw = gt_calloc(1, span + align);
    *mem = raw;
    if (!raw) return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
#ifdef MADV_HUGEPAGE
    if (align == HUGE_BYTES) madvise(p, span, MADV_HUGEPAGE);
#endif
    return p;
}

/* --- packed matrices ------------------------------------------------------ */

int gt_kern_type_ok(uint32_t type) {
    return type == GT_TYPE_F32 || type == GT_TYPE_F16 || type == GT_TYPE_BF16 ||
           type == GT_TYPE_Q8_0 || type == GT_TYPE_Q4_0 || gt_kq_is_k(type) || gt_q32_is(type);
}

int gt_kern_reads_q8(uint32_t type) { return gt_qt_is(type); }

static size_t elem_bytes(uint32_t type) { return type == GT_TYPE_F32 ? 4 : 2; }

/* Checks type and shape and fills m's geometry (no memory yet). */
static int qmat_shape(gt_qmat *m, uint32_t type, int n_rows, int n_cols, gt_err *err) {
    memset(m, 0, sizeof *m);
    if (!gt_kern_type_ok(type))
        return gt_err_set(err, GT_EUNSUPPORTED,
                          "weight type %s is not supported (expected f32, f16, bf16, q8_0, "
                          "q4_0, q4_1, q5_0, q5_1, iq4_nl, q2_K, q3_K, q4_K, q5_K, q6_K or iq4_xs)",
                          gt_ggml_type_name(type));
    if (n_rows < 1 || n_cols < GT_QK || n_cols % GT_QK)
        return gt_err_set(err, GT_EINVAL,
                          "matrix %d x %d: rows must be >= 1 and columns a multiple of %d",
                          n_rows, n_cols, GT_QK);
    if (gt_kq_is_k(type) && n_cols % GT_QK_K)
        return gt_err_set(err, GT_EINVAL, "matrix %d x %d in %s: columns must be a multiple of %d",
                          n_rows, n_cols, gt_ggml_type_name(type), GT_QK_K);
    const int R = GT_KERN_TILE_ROWS;
    m->type = type;
    m->n_rows = n_rows;
    m->n_cols = n_cols;
    m->n_tiles = (n_rows + R - 1) / R;
    m->n_blocks = n_cols / GT_QK;
    int quant = gt_qt_is(type);
    if (quant) m->qs_tile_bytes = (size_t)m->n_blocks * gt_qt_blk_bytes(type);
    else if (gt_kq_is_k(type))
        m->qs_tile_bytes = (size_t)(n_cols / GT_QK_K) * gt_kq_layouts[gt_kq_index(type)].sb_bytes;
    else m->qs_tile_bytes = (size_t)n_cols * R * elem_bytes(type);
    m->d_tile_bytes = quant ? (size_t)m->n_blocks * (size_t)gt_qt_scales(type) * sizeof(gt_f16) : 0;
    return 0;
}

/* Offset of the scales behind the quants, and the total, both multiples of 64. */
static size_t qmat_d_off(const gt_qmat *m) {
    return (m->qs_tile_bytes * (size_t)m->n_tiles + 63) & ~(size_t)63;
}
static size_t qmat_total(const gt_qmat *m) {
    return (qmat_d_off(m) + m->d_tile_bytes * (size_t)m->n_tiles + 63) & ~(size_t)63;
}

size_t gt_qmat_pack_bytes(uint32_t type, int n_rows, int n_cols) {
    gt_qmat m;
    gt_err err = {0};
    return qmat_shape(&m, type, n_rows, n_cols, &err) ? 0 : qmat_total(&m);
}

/* Packs a GGUF matrix into the tiled layout (see kernels.h), in its own memory. */
int gt_qmat_pack(gt_qmat *m, uint32_t type, const void *data, int n_rows, int n_cols,
                 gt_err *err) {
    int rc = qmat_shape(m, type, n_rows, n_cols, err);
    if (rc) return rc;
    void *own;
    uint8_t *p = gt_kern_alloc(qmat_total(m), &own);
    if (!p) return gt_err_set(err, GT_ENOMEM, "out of memory packing a %d x %d matrix", n_rows, n_cols);
    rc = gt_qmat_pack_into(m, type, data, n_rows, n_cols, p, NULL, err);
    m->mem = own;
    return rc;
}

/* Puts one GGUF block of a block-32 quantized type (src, NULL for a padding
 * row) at row r of a tile block: dst the block's quants, td its scales (layout
 * in kernels.h). A padding row gets value 0 and scale 0 (stored 128 for Q8_0,
 * nibble 8 for Q4_0; the other types' zero scales and mins make any value add
 * exact zeros). The quants move in groups of 4 bytes (one lane's dword): group
 * g of the row goes to bytes g * 64 + r * 4 of the tile block. */
static inline __attribute__((always_inline)) void qt_pack_block(uint32_t type, uint8_t *dst, gt_f16 *td, int r,
                                                                 const uint8_t *src) {
    /* Padding: all-zero blocks (the largest is Q8_0's 34 bytes), Q4_0's nibbles 8. */
    static const uint8_t zero_blk[34] = {0};
    static const uint8_t q4_0_zero_blk[18] = {0, 0, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88,
                                              0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88};
    const int R = GT_KERN_TILE_ROWS;
    assert(gt_ggml_block_bytes(type) <= sizeof zero_blk);
    const uint8_t *blk = src ? src : type == GT_TYPE_Q4_0 ? q4_0_zero_blk : zero_blk;
    memcpy(&td[r], blk, 2);
    uint32_t v;
    if (type == GT_TYPE_Q8_0) { /* int8 q stored as q + 128 (a byte's top bit flipped) */
        for (int g = 0; g < GT_QK / 4; g++) {
            memcpy(&v, blk + 2 + 4 * g, 4);
            v ^= 0x80808080u;
            memcpy(dst + g * 64 + r * 4, &v, 4);
        }
        return;
    }
    if (gt_qt_has_min(type)) memcpy(&td[R + r], blk + 2, 2);
    size_t qs_off = type == GT_TYPE_Q4_1 ? 4 : type == GT_TYPE_Q5_0 ? 6 : type == GT_TYPE_Q5_1 ? 8 : 2;
    for (int g = 0; g < GT_QK / 8; g++) memcpy(dst + g * 64 + r * 4, blk + qs_off + 4 * g, 4);
    if (gt_qt_has_qh(type)) {
        memcpy(&v, blk + qs_off - 4, 4);
        v = gt_qt_qh_tile(v);
        memcpy(dst + GT_QT_QH_OFF + 4 * r, &v, 4);
    }
}

/* kernels.h's pack_q8_0, a block of the 16 rows at a time: qt_pack_block
 * with the type known, so the 1.3 GB of a 1B model's Q8_0 move as words
 * without a test of the type per block. */
void gt_pack_q8_0_scalar(const uint8_t *rows, size_t row_bytes, int n_blocks, uint8_t *tq, gt_f16 *td) {
    const int R = GT_KERN_TILE_ROWS;
    for (int b = 0; b < n_blocks; b++)
        for (int r = 0; r < R; r++) {
            const uint8_t *src = rows + (size_t)r * row_bytes + (size_t)b * 34;
            __builtin_prefetch(src + GT_PACK_AHEAD_BYTES);
            qt_pack_block(GT_TYPE_Q8_0, tq + (size_t)b * 512, td + (size_t)b * 16, r, src);
        }
}

/* Packs tile `tile` of a block-32 quantized matrix: its nr real rows (from
 * rows, row_bytes apart) and padding rows up to the tile's 16, block by
 * block, so the tile's bytes are written in order. A full Q8_0 tile goes
 * through the widest pack_q8_0 this CPU has (the same bytes on every path):
 * at load it is most of a Q8_0 model's CPU time. */
static void qt_pack_tile(gt_qmat *m, int tile, const uint8_t *rows, size_t row_bytes, int nr) {
    const int R = GT_KERN_TILE_ROWS, ns = gt_qt_scales(m->type);
    const size_t bb = gt_ggml_block_bytes(m->type), qb = gt_qt_blk_bytes(m->type);
    uint8_t *tq = m->qs + (size_t)tile * m->qs_tile_bytes;
    gt_f16 *td = m->d + (size_t)tile * (m->d_tile_bytes / sizeof(gt_f16));
    if (m->type == GT_TYPE_Q8_0 && nr == R) {
        assert(qb == 512 && ns == 16 && bb == 34);
        gt_kern_best()->pack_q8_0(rows, row_bytes, m->n_blocks, tq, td);
        return;
    }
    for (int b = 0; b < m->n_blocks; b++)
        for (int r = 0; r < R; r++)
            qt_pack_block(m->type, tq + (size_t)b * qb, td + (size_t)b * (size_t)ns, r,
                          r < nr ? rows + (size_t)r * row_bytes + (size_t)b * bb : NULL);
}

/* Packs tile `tile` of an F32/F16/BF16 matrix: element c of row r goes to
 * (c * 16 + r) of the tile, written in order; padding rows stay zero (the
 * memory comes zeroed). */
static void float_pack_tile(gt_qmat *m, int tile, const uint8_t *rows, size_t row_bytes, int nr) {
    const int R = GT_KERN_TILE_ROWS;
    const size_t eb = elem_bytes(m->type);
    uint8_t *tq = m->qs + (size_t)tile * m->qs_tile_bytes;
    for (int c = 0; c < m->n_cols; c++)
        for (int r = 0; r < nr; r++) {
            uint8_t *dst = tq + ((size_t)c * R + (size_t)r) * eb;
            const uint8_t *src = rows + (size_t)r * row_bytes + (size_t)c * eb;
            if (eb == 2) /* sizes the compiler knows: moves, not a library call per element */
                memcpy(dst, src, 2);
            else
                memcpy(dst, src, 4);
        }
}

/* Tells progress (if any) that n source bytes at src are read for good. */
static void pack_consumed(const gt_pack_progress *progress, const void *src, size_t n) {
    if (progress && progress->consumed && n) progress->consumed(progress->ctx, src, n);
}


/* Packs into the caller's zeroed, 64-byte aligned memory (see kernels.h). */
int gt_qmat_pack_into(gt_qmat *m, uint32_t type, const void *data, int n_rows, int n_cols,
                      void *mem, const gt_pack_progress *progress, gt_err *err) {
    int rc = qmat_shape(m, type, n_rows, n_cols, err);
    if (rc) return rc;
    assert(((uintptr_t)mem & 63) == 0);
    const int R = GT_KERN_TILE_ROWS;
    int quant = gt_qt_is(type);
    m->qs = mem;
    m->d = quant ? (gt_f16 *)(m->qs + qmat_d_off(m)) : NULL;
    size_t row_bytes = gt_ggml_row_bytes(type, (uint64_t)n_cols);
    /* Tile by tile, each tile's bytes written in order (kernels.h, kernels_impl.h). */
    for (int tile = 0; tile < m->n_tiles; tile++) {
        int nr = n_rows - tile * R < R ? n_rows - tile * R : R;
        const uint8_t *rows = (const uint8_t *)data + row_bytes * (size_t)tile * R;
        if (gt_kq_is_k(type)) /* padding rows stay zero */
            gt_kq_layouts[gt_kq_index(type)].pack(rows, row_bytes, nr, n_cols / GT_QK_K,
                                                  m->qs + (size_t)tile * m->qs_tile_bytes);
        else if (quant)
            qt_pack_tile(m, tile, rows, row_bytes, nr);
        else
            float_pack_tile(m, tile, rows, row_bytes, nr);
        pack_consumed(progress, rows, row_bytes * (size_t)nr);
    }
    return 0;
}

void gt_qmat_free(gt_qmat *m) {
    if (!m) return;
    gt_free(m->mem);
    memset(m, 0, sizeof *m);
}

/* Bytes of weights a full product streams (quants plus scales). */
size_t gt_qmat_bytes(const gt_qmat *m) {
    /* Per tile: quants plus scales. */
    return (m->qs_tile_bytes + m->d_tile_bytes) * (size_t)m->n_tiles;
}

/* --- activations ------------------------------------------------------------ */

int gt_act_init(gt_act *a, int max_tok, int n_cols) {
    memset(a, 0, sizeof *a);
    assert(max_tok >= 1 && n_cols >= GT_QK && n_cols % GT_QK == 0);
    a->n_cols = n_cols;
    a->n_blocks = n_cols / GT_QK;
    a->q8 = 1;
    size_t n = (size_t)n_cols * (size_t)max_tok, nb = (size_t)a->n_blocks * (size_t)max_tok;
    a->x = gt_calloc(n, sizeof(float));
    a->qs = gt_calloc(n, 1);
    a->d = gt_calloc(nb, sizeof(float));
    a->sum = gt_calloc(nb, sizeof(int32_t));
    if (!a->x || !a->qs || !a->d || !a->sum) {
        gt_act_free(a);
        return GT_ENOMEM;
    }
    if (n_cols % GT_QK_K) return 0; /* no K-quant matrix takes these */
    a->n_sb = n_cols / GT_QK_K;
    size_t ns = (size_t)a->n_sb * (size_t)max_tok;
    a->kq_qs = gt_calloc(n, 1);
    a->kq_bs = gt_calloc(ns * GT_KQ_BS_N, sizeof(int16_t));
    a->kq_d = gt_calloc(ns, sizeof(float));
    a->kq_state = gt_calloc(ns + 1, sizeof(atomic_int)); /* zero: stale; one more for kq_ready */
    if (!a->kq_qs || !a->kq_bs || !a->kq_d || !a->kq_state) {
        gt_act_free(a);
        return GT_ENOMEM;
    }
    a->kq_ready = a->kq_state + ns;
    return 0;
}

/* Marks the Q8_K copies of token t's super-blocks that overlap columns
 * [col0, col1) stale. act_set runs in a step of its own (the pool's barrier
 * orders it before any matmul reading a), so a relaxed store suffices. */
void gt_act_stale(gt_act *a, int t, int col0, int col1) {
    if (!a->kq_state || col0 >= col1) return;
    atomic_store_explicit(a->kq_ready, 0, memory_order_relaxed);
    for (int k = col0 / GT_QK_K; k <= (col1 - 1) / GT_QK_K; k++)
        atomic_store_explicit(&a->kq_state[(size_t)t * (size_t)a->n_sb + (size_t)k], 0, memory_order_relaxed);
}

void gt_act_free(gt_act *a) {
    if (!a) return;
    gt_free(a->x);
    gt_free(a->qs);
    gt_free(a->d);
    gt_free(a->sum);
    gt_free(a->kq_qs);
    gt_free(a->kq_bs);
    gt_free(a->kq_d);
    gt_free(a->kq_state);
    memset(a, 0, sizeof *a);
}

/* Quantizes one block of 32 floats: scale amax/127 (rounded to f16), values
 * rounded to nearest even (the SIMD paths round the same way); returns the
 * sum of the quants. A value whose scaled quant is not in [-127, 127] (not
 * finite: a NaN or an infinity in the activations, which a model file's
 * weights can make, or a finite value times the infinite id of a subnormal
 * block) becomes 0 on every path: no float-to-int conversion out of range,
 * and no -128, which the AVX2 dot's sign trick cannot negate (it would give
 * another product there than here); a NaN is passed over in amax. */
int32_t gt_kern_quant_block(const float *x, int8_t *q, float *d) {
    float amax = 0.0f;
    for (int i = 0; i < GT_QK; i++) {
        float v = fabsf(x[i]);
        amax = v > amax ? v : amax;
    }
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    *d = gt_f16_to_f32(gt_f32_to_f16(amax / 127.0f));
    int32_t sum = 0;
    for (int i = 0; i < GT_QK; i++) {
        float r = nearbyintf(x[i] * id);
        q[i] = fabsf(r) <= 127.0f ? (int8_t)r : (int8_t)0;
        sum += q[i];
    }
    return sum;
}

static void act_set_scalar(gt_act *a, int t, const float *x, int col0, int col1, int quant) {
    assert(col0 % GT_QK == 0 && col1 % GT_QK == 0 && col0 <= col1 && col1 <= a->n_cols);
    size_t off = (size_t)a->n_cols * (size_t)t;
    memcpy(a->x + off + col0, x + col0, (size_t)(col1 - col0) * sizeof(float));
    gt_act_stale(a, t, col0, col1);
    if (!quant) return;
    for (int b = col0 / GT_QK; b < col1 / GT_QK; b++) {
        size_t ib = (size_t)a->n_blocks * (size_t)t + (size_t)b;
        a->sum[ib] = gt_kern_quant_block(x + b * GT_QK, a->qs + off + (size_t)b * GT_QK, a->d + ib);
    }
}

/* --- scalar reference kernels ------------------------------------------------- */

/* Weight element e (< 32) of block b, row r of a tile, as the integer the
 * canonical order multiplies (block-32 quantized types; layout in
 * kernels.h): Q8_0 q, Q4_0 nibble - 8, Q4_1 nibble, Q5_0 q - 16, Q5_1 q,
 * IQ4_NL the table's value. Read bit by bit, apart from the SIMD paths. */
static int wq_at(const gt_qmat *w, const uint8_t *tq, int b, int r, int e) {
    const uint8_t *blk = tq + (size_t)b * gt_qt_blk_bytes(w->type);
    if (w->type == GT_TYPE_Q8_0) return (int)blk[(e / 4) * 64 + r * 4 + e % 4] - 128;
    int i = e % 16; /* GGUF byte: element i in the low nibble, i + 16 in the high one */
    uint8_t byte = blk[(i / 4) * 64 + r * 4 + i % 4];
    int q = e < 16 ? (byte & 0xf) : (byte >> 4);
    if (gt_qt_has_qh(w->type)) {
        uint32_t h;
        memcpy(&h, blk + GT_QT_QH_OFF + 4 * r, 4);
        int bit = e < 16 ? 8 * (i % 4) + i / 4 : 8 * (i % 4) + 4 + i / 4; /* gt_qt_qh_tile */
        q |= (int)((h >> bit) & 1u) << 4;
    }
    switch (w->type) {
    case GT_TYPE_Q4_0: return q - 8;
    case GT_TYPE_Q5_0: return q - 16;
    case GT_TYPE_IQ4_NL: return gt_iq4nl_values[q];
    default: return q; /* Q4_1, Q5_1 */
    }
}

/* Weight element k of row r of a tile, as a float (float types). */
static float wf_at(const gt_qmat *w, const uint8_t *tq, int r, int k) {
    size_t idx = (size_t)k * GT_KERN_TILE_ROWS + (size_t)r;
    if (w->type == GT_TYPE_F32) {
        float f;
        memcpy(&f, tq + idx * 4, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, tq + idx * 2, 2);
    return w->type == GT_TYPE_F16 ? gt_f16_to_f32(h) : gt_bf16_to_f32(h);
}

/* One output: row r of tile `tile` against token t, in the canonical order
 * of kernels.h. */
static float dot_row_scalar(const gt_qmat *w, int tile, int r, const gt_act *a, int t) {
    const uint8_t *tq = w->qs + (size_t)tile * w->qs_tile_bytes;
    float acc = 0.0f;
    if (gt_qt_is(w->type)) {
        const int ns = gt_qt_scales(w->type);
        const gt_f16 *td = w->d + (size_t)tile * (w->d_tile_bytes / sizeof(gt_f16));
        const int8_t *aq = a->qs + (size_t)a->n_cols * (size_t)t;
        const float *ad = a->d + (size_t)a->n_blocks * (size_t)t;
        const int32_t *as = a->sum + (size_t)a->n_blocks * (size_t)t;
        for (int b = 0; b < w->n_blocks; b++) {
            int32_t p = 0;
            for (int e = 0; e < GT_QK; e++) p += wq_at(w, tq, b, r, e) * aq[b * GT_QK + e];
            acc = fmaf((float)p, gt_f16_to_f32(td[b * ns + r]) * ad[b], acc);
            if (gt_qt_has_min(w->type))
                acc = fmaf((float)as[b], gt_f16_to_f32(td[b * ns + GT_KERN_TILE_ROWS + r]) * ad[b], acc);
        }
    } else {
        const float *x = a->x + (size_t)a->n_cols * (size_t)t;
        for (int k = 0; k < w->n_cols; k++) acc = fmaf(wf_at(w, tq, r, k), x[k], acc);
    }
    return acc;
}

static void matmul_scalar(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y,
                          size_t ldy) {
    assert(a->n_cols == w->n_cols);
    if (gt_kq_is_k(w->type)) {
        static const gt_kq_fns fns = {.row = gt_kq_row_scalar, .quant = gt_kq_quant_sb}; /* tiles read back */
        gt_kq_matmul(w, tile0, tile1, a, y, ldy, &fns);
        return;
    }
    for (int tile = tile0; tile < tile1; tile++)
        for (int r = 0; r < GT_KERN_TILE_ROWS; r++) {
            int row = tile * GT_KERN_TILE_ROWS + r;
            if (row >= w->n_rows) break;
            for (int t = 0; t < a->n_tok; t++) y[(size_t)t * ldy + row] = dot_row_scalar(w, tile, r, a, t);
        }
}

/* The halving-tree sum of 16 lanes that ends the attention dot. */
static float tree16(const float acc[16]) {
    float s[8];
    for (int i = 0; i < 8; i++) s[i] = acc[i] + acc[i + 8];
    for (int i = 0; i < 4; i++) s[i] += s[i + 4];
    for (int i = 0; i < 2; i++) s[i] += s[i + 2];
    return s[0] + s[1];
}

static float dot_scalar(const float *a, const float *b, int n) {
    assert(n % 16 == 0);
    float acc[16] = {0};
    for (int i = 0; i < n; i++) acc[i % 16] = fmaf(a[i], b[i], acc[i % 16]);
    return tree16(acc);
}

static void axpy_scalar(float *y, float s, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = fmaf(s, x[i], y[i]);
}

/* dot_scalar against a row of halves, each widened exactly. */
static float dot_f16_scalar(const float *a, const gt_f16 *b, int n) {
    assert(n % 16 == 0);
    float acc[16] = {0};
    for (int i = 0; i < n; i++) acc[i % 16] = fmaf(a[i], gt_f16_to_f32(b[i]), acc[i % 16]);
    return tree16(acc);
}

static void dots_scalar(float *out, const float *q, const gt_f16 *k, size_t stride, int n_pos, int n) {
    for (int p = 0; p < n_pos; p++) out[p] = dot_f16_scalar(q, k + (size_t)p * stride, n);
}

static void wsum_scalar(float *o, const float *s, const gt_f16 *v, size_t stride, int n_pos, int n) {
    memset(o, 0, (size_t)n * sizeof(float));
    for (int p = 0; p < n_pos; p++)
        for (int i = 0; i < n; i++) o[i] = fmaf(s[p], gt_f16_to_f32(v[(size_t)p * stride + (size_t)i]), o[i]);
}

static void dots2_scalar(float *out0, float *out1, const float *q0, const float *q1, const gt_f16 *k, size_t stride,
                         int n_pos, int n) {
    dots_scalar(out0, q0, k, stride, n_pos, n);
    dots_scalar(out1, q1, k, stride, n_pos, n);
}

static void wsum2_scalar(float *o0, float *o1, const float *s0, const float *s1, const gt_f16 *v, size_t stride,
                         int n_pos, int n) {
    wsum_scalar(o0, s0, v, stride, n_pos, n);
    wsum_scalar(o1, s1, v, stride, n_pos, n);
}

/* See kernels_impl.h for the sequence; every path repeats it exactly. */
float gt_kern_expf(float x) { return gt_kern_expf_inline(x); }

void gt_kern_silu_mul_scalar(float *g, const float *u, int n) {
    for (int i = 0; i < n; i++) g[i] = g[i] / (1.0f + gt_kern_expf(-g[i])) * u[i];
}

void gt_kern_exp_shift_scalar(float *s, float mx, int n) {
    for (int i = 0; i < n; i++) s[i] = gt_kern_expf(s[i] - mx);
}

static void f16_store_scalar(gt_f16 *dst, const float *src, int n) {
    for (int i = 0; i < n; i++) dst[i] = gt_f32_to_f16(src[i]);
}

static const gt_kern kern_scalar = {
    .name = "scalar",
    .act_set = act_set_scalar,
    .matmul = matmul_scalar,
    .dot = dot_scalar,
    .axpy = axpy_scalar,
    .dots = dots_scalar,
    .wsum = wsum_scalar,
    .dots2 = dots2_scalar,
    .wsum2 = wsum2_scalar,
    .silu_mul = gt_kern_silu_mul_scalar,
    .exp_shift = gt_kern_exp_shift_scalar,
    .f16_store = f16_store_scalar,
    .pack_q8_0 = gt_pack_q8_0_scalar,
};

/* --- dispatch ----------------------------------------------------------------- */

#if defined(__x86_64__)
/* F16C, read from CPUID leaf 1 (ECX bit 29) directly: clang 14's
 * __builtin_cpu_supports does not know the name "f16c". */
static int cpu_has_f16c(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c >> 29) & 1;
}
#endif

const gt_kern *gt_kern_isa(gt_isa isa) {
    switch (isa) {
    case GT_ISA_SCALAR: return &kern_scalar;
#if defined(__x86_64__)
    case GT_ISA_AVX2:
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c())
            return &gt_kern_avx2;
        return NULL;
    case GT_ISA_AVX512:
        /* AVX2 too: the K-quant products use its Q8_K quantizer. */
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx2") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
            __builtin_cpu_supports("fma") && cpu_has_f16c())
            return &gt_kern_avx512;
        return NULL;
#endif
    default: return NULL;
    }
}

static const gt_kern *kern_best;
static pthread_once_t kern_best_once = PTHREAD_ONCE_INIT;

/* Runs once (pthread_once): several threads may ask for the kernels at the
 * same time, and the choice must be made and published exactly once. */
static void kern_choose(void) {
    int cap = GT_ISA_COUNT - 1;
    const char *env = getenv("GOTONG_ISA");
    if (env) {
        if (!strcmp(env, "scalar")) cap = GT_ISA_SCALAR;
        else if (!strcmp(env, "avx2")) cap = GT_ISA_AVX2;
    }
    const gt_kern *k = NULL;
    for (int i = cap; i >= 0 && !k; i--) k = gt_kern_isa((gt_isa)i);
    assert(k); /* scalar is always there */
    kern_best = k;
}

/* Picks the widest ISA the CPU has, once. GOTONG_ISA=scalar|avx2|avx512 caps
 * it (for measurements and for checking a path on a wider machine). */
const gt_kern *gt_kern_best(void) {
    pthread_once(&kern_best_once, kern_choose);
    return kern_best;
}
