/* kernels.c: number formats, weight packing, activation buffers, the scalar
 * reference kernels and run-time dispatch among ISAs (see kernels.h for the
 * canonical order every path follows). The SIMD tables live in
 * kernels_avx2.c and kernels_avx512.c; they are tested against this file. */
#include "infer/kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/alloc.h"
#include "infer/gguf.h"
#include "infer/kernels_impl.h"

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
    default: assert(!"gt_dequant_row: unsupported type"); break;
    }
}

/* --- aligned, huge-page friendly allocation -------------------------------- */

#define HUGE_BYTES (2u << 20)

/* Allocates n zeroed bytes aligned to 64 (to 2 MiB, advised as huge pages,
 * when n is large: weights are streamed once per token and TLB misses show).
 * *mem receives the pointer to free with gt_free. */
static void *alloc_aligned(size_t n, void **mem) {
    size_t align = n >= HUGE_BYTES ? HUGE_BYTES : 64;
    uint8_t *raw = gt_malloc(n + align);
    *mem = raw;
    if (!raw) return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
#ifdef MADV_HUGEPAGE
    if (align == HUGE_BYTES) madvise(p, n & ~(size_t)(HUGE_BYTES - 1), MADV_HUGEPAGE);
#endif
    memset(p, 0, n);
    return p;
}

/* --- packed matrices ------------------------------------------------------ */

int gt_kern_type_ok(uint32_t type) {
    return type == GT_TYPE_F32 || type == GT_TYPE_F16 || type == GT_TYPE_BF16 ||
           type == GT_TYPE_Q8_0 || type == GT_TYPE_Q4_0;
}

static size_t elem_bytes(uint32_t type) { return type == GT_TYPE_F32 ? 4 : 2; }

/* Packs a GGUF matrix into the tiled layout (see kernels.h). */
int gt_qmat_pack(gt_qmat *m, uint32_t type, const void *data, int n_rows, int n_cols,
                 gt_err *err) {
    memset(m, 0, sizeof *m);
    if (!gt_kern_type_ok(type))
        return gt_err_set(err, GT_EUNSUPPORTED,
                          "weight type %s is not supported (expected f32, f16, bf16, q8_0 "
                          "or q4_0)",
                          gt_ggml_type_name(type));
    if (n_rows < 1 || n_cols < GT_QK || n_cols % GT_QK)
        return gt_err_set(err, GT_EINVAL,
                          "matrix %d x %d: rows must be >= 1 and columns a multiple of %d",
                          n_rows, n_cols, GT_QK);
    m->type = type;
    m->n_rows = n_rows;
    m->n_cols = n_cols;
    m->n_tiles = (n_rows + GT_KERN_TILE_ROWS - 1) / GT_KERN_TILE_ROWS;
    m->n_sb = (n_cols + GT_KERN_SB - 1) / GT_KERN_SB;
    const int R = GT_KERN_TILE_ROWS;
    int quant = type == GT_TYPE_Q8_0 || type == GT_TYPE_Q4_0;
    if (type == GT_TYPE_Q8_0) m->qs_tile_bytes = (size_t)m->n_sb * R * GT_KERN_SB;
    else if (type == GT_TYPE_Q4_0) m->qs_tile_bytes = (size_t)m->n_sb * R * GT_KERN_SB / 2;
    else m->qs_tile_bytes = (size_t)m->n_sb * R * GT_KERN_SB * elem_bytes(type);
    m->d_tile_bytes = quant ? (size_t)m->n_sb * R * 4 * sizeof(gt_f16) : 0;
    size_t qs_bytes = m->qs_tile_bytes * (size_t)m->n_tiles;
    size_t d_off = (qs_bytes + 63) & ~(size_t)63;
    m->qs = alloc_aligned(d_off + m->d_tile_bytes * (size_t)m->n_tiles, &m->mem);
    if (!m->qs) return gt_err_set(err, GT_ENOMEM, "out of memory packing a %d x %d matrix",
                                  n_rows, n_cols);
    m->d = quant ? (gt_f16 *)(m->qs + d_off) : NULL;
    size_t row_bytes = gt_ggml_row_bytes(type, (uint64_t)n_cols);
    int nb = n_cols / GT_QK;
    for (int row = 0; row < n_rows; row++) {
        const uint8_t *src = (const uint8_t *)data + (size_t)row * row_bytes;
        int tile = row / R, r = row % R;
        uint8_t *tq = m->qs + (size_t)tile * m->qs_tile_bytes;
        gt_f16 *td = quant ? m->d + (size_t)tile * (m->d_tile_bytes / 2) : NULL;
        if (!quant) {
            size_t eb = elem_bytes(type);
            for (int c = 0; c < n_cols; c++) {
                int s = c / GT_KERN_SB, e = c % GT_KERN_SB;
                memcpy(tq + (((size_t)s * R + r) * GT_KERN_SB + e) * eb, src + (size_t)c * eb, eb);
            }
            continue;
        }
        for (int b = 0; b < nb; b++) {
            int s = b / 4, bs = b % 4; /* superblock, block within it */
            gt_f16 d;
            memcpy(&d, src + (size_t)b * gt_ggml_block_bytes(type), 2);
            td[s * R * 4 + r * 4 + bs] = d;
            if (type == GT_TYPE_Q8_0) {
                gt_block_q8_0 blk;
                memcpy(&blk, src + (size_t)b * sizeof blk, sizeof blk);
                memcpy(tq + ((size_t)s * R + r) * GT_KERN_SB + bs * GT_QK, blk.qs, GT_QK);
            } else {
                gt_block_q4_0 blk;
                memcpy(&blk, src + (size_t)b * sizeof blk, sizeof blk);
                uint8_t *dst = tq + ((size_t)s * R + r) * (GT_KERN_SB / 2);
                for (int i = 0; i < GT_QK; i++) {
                    uint8_t nib = i < 16 ? (blk.qs[i] & 0xf) : (blk.qs[i - 16] >> 4);
                    int e = bs * GT_QK + i; /* element within the superblock */
                    if (e < 64) dst[e] = (uint8_t)((dst[e] & 0xf0) | nib);
                    else dst[e - 64] = (uint8_t)((dst[e - 64] & 0x0f) | (nib << 4));
                }
            }
        }
    }
    if (type == GT_TYPE_Q4_0) {
        /* Padding (columns past n_cols, rows past n_rows) holds nibble 8, value 0. */
        for (int tile = 0; tile < m->n_tiles; tile++)
            for (int r = 0; r < R; r++) {
                int row = tile * R + r;
                for (int e = row < n_rows ? n_cols : 0; e < m->n_sb * GT_KERN_SB; e++) {
                    int s = e / GT_KERN_SB, es = e % GT_KERN_SB;
                    uint8_t *p = m->qs + (size_t)tile * m->qs_tile_bytes +
                                 ((size_t)s * R + r) * (GT_KERN_SB / 2) + es % 64;
                    *p = es < 64 ? (uint8_t)((*p & 0xf0) | 8) : (uint8_t)((*p & 0x0f) | 0x80);
                }
            }
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
    return (m->qs_tile_bytes + m->d_tile_bytes) * (size_t)m->n_tiles;
}

/* --- activations ------------------------------------------------------------ */

int gt_act_init(gt_act *a, int max_tok, int n_cols) {
    memset(a, 0, sizeof *a);
    assert(max_tok >= 1 && n_cols >= 1);
    a->n_cols = n_cols;
    a->n_sb = (n_cols + GT_KERN_SB - 1) / GT_KERN_SB;
    size_t per_tok = (size_t)a->n_sb * GT_KERN_SB;
    a->x = gt_malloc(per_tok * (size_t)max_tok * sizeof(float));
    a->qs = gt_malloc(per_tok * (size_t)max_tok);
    a->d = gt_malloc((size_t)a->n_sb * 4 * (size_t)max_tok * sizeof(float));
    if (!a->x || !a->qs || !a->d) {
        gt_act_free(a);
        return GT_ENOMEM;
    }
    /* Padding stays zero: act_set writes only the first n_cols of a token. */
    memset(a->x, 0, per_tok * (size_t)max_tok * sizeof(float));
    memset(a->qs, 0, per_tok * (size_t)max_tok);
    memset(a->d, 0, (size_t)a->n_sb * 4 * (size_t)max_tok * sizeof(float));
    return 0;
}

void gt_act_free(gt_act *a) {
    if (!a) return;
    gt_free(a->x);
    gt_free(a->qs);
    gt_free(a->d);
    memset(a, 0, sizeof *a);
}

/* Quantizes one block of 32 floats: scale amax/127, values rounded to nearest
 * even (the SIMD paths round the same way). */
void gt_kern_quant_block(const float *x, int8_t *q, float *d) {
    float amax = 0.0f;
    for (int i = 0; i < GT_QK; i++) {
        float v = fabsf(x[i]);
        amax = v > amax ? v : amax;
    }
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    *d = gt_f16_to_f32(gt_f32_to_f16(amax / 127.0f));
    for (int i = 0; i < GT_QK; i++) q[i] = (int8_t)(int)nearbyintf(x[i] * id);
}

static void act_set_scalar(gt_act *a, int t, const float *x, int quant) {
    size_t per_tok = (size_t)a->n_sb * GT_KERN_SB;
    float *dst = a->x + per_tok * (size_t)t;
    memcpy(dst, x, (size_t)a->n_cols * sizeof(float));
    if (!quant) return;
    for (int b = 0; b < a->n_cols / GT_QK; b++)
        gt_kern_quant_block(dst + b * GT_QK, a->qs + per_tok * (size_t)t + b * GT_QK,
                            a->d + (size_t)a->n_sb * 4 * (size_t)t + b);
}

/* --- scalar reference kernels ------------------------------------------------- */

/* Weight element e (< 128) of row r in superblock s of a tile, as an integer
 * (quantized types). */
static int wq_at(const gt_qmat *w, const uint8_t *tq, int s, int r, int e) {
    const int R = GT_KERN_TILE_ROWS;
    if (w->type == GT_TYPE_Q8_0) return ((const int8_t *)tq)[((size_t)s * R + r) * GT_KERN_SB + e];
    uint8_t byte = tq[((size_t)s * R + r) * (GT_KERN_SB / 2) + e % 64];
    return (e < 64 ? (byte & 0xf) : (byte >> 4)) - 8;
}

/* Weight element e of row r in superblock s of a tile, as a float (float types). */
static float wf_at(const gt_qmat *w, const uint8_t *tq, int s, int r, int e) {
    size_t idx = ((size_t)s * GT_KERN_TILE_ROWS + r) * GT_KERN_SB + (size_t)e;
    if (w->type == GT_TYPE_F32) {
        float f;
        memcpy(&f, tq + idx * 4, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, tq + idx * 2, 2);
    return w->type == GT_TYPE_F16 ? gt_f16_to_f32(h) : gt_bf16_to_f32(h);
}

/* One output: row r of tile `tile` against token t, in the canonical order. */
static float dot_row_scalar(const gt_qmat *w, int tile, int r, const gt_act *a, int t) {
    const uint8_t *tq = w->qs + (size_t)tile * w->qs_tile_bytes;
    float acc[16] = {0};
    size_t per_tok = (size_t)a->n_sb * GT_KERN_SB;
    if (w->type == GT_TYPE_Q8_0 || w->type == GT_TYPE_Q4_0) {
        const gt_f16 *td = w->d + (size_t)tile * (w->d_tile_bytes / 2);
        const int8_t *aq = a->qs + per_tok * (size_t)t;
        const float *ad = a->d + (size_t)a->n_sb * 4 * (size_t)t;
        for (int s = 0; s < w->n_sb; s++)
            for (int pair = 0; pair < 2; pair++)
                for (int l = 0; l < 16; l++) {
                    int bs = pair * 2 + l / 8, j = l % 8; /* block in superblock, lane */
                    int p = 0;
                    for (int i = 0; i < 4; i++) {
                        int e = bs * GT_QK + 4 * j + i;
                        p += wq_at(w, tq, s, r, e) * aq[(size_t)s * GT_KERN_SB + e];
                    }
                    float scale =
                        gt_f16_to_f32(td[s * GT_KERN_TILE_ROWS * 4 + r * 4 + bs]) * ad[s * 4 + bs];
                    acc[l] = fmaf((float)p, scale, acc[l]);
                }
    } else {
        const float *x = a->x + per_tok * (size_t)t;
        for (int s = 0; s < w->n_sb; s++)
            for (int e = 0; e < GT_KERN_SB; e++)
                acc[e % 16] = fmaf(wf_at(w, tq, s, r, e), x[(size_t)s * GT_KERN_SB + e], acc[e % 16]);
    }
    return gt_kern_tree16(acc);
}

static void matmul_scalar(const gt_qmat *w, int tile0, int tile1, const gt_act *a, float *y,
                          size_t ldy) {
    assert(a->n_sb == w->n_sb);
    for (int tile = tile0; tile < tile1; tile++)
        for (int r = 0; r < GT_KERN_TILE_ROWS; r++) {
            int row = tile * GT_KERN_TILE_ROWS + r;
            if (row >= w->n_rows) break;
            for (int t = 0; t < a->n_tok; t++) y[(size_t)t * ldy + row] = dot_row_scalar(w, tile, r, a, t);
        }
}

static float dot_scalar(const float *a, const float *b, int n) {
    assert(n % 16 == 0);
    float acc[16] = {0};
    for (int i = 0; i < n; i++) acc[i % 16] = fmaf(a[i], b[i], acc[i % 16]);
    return gt_kern_tree16(acc);
}

static void axpy_scalar(float *y, float s, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = fmaf(s, x[i], y[i]);
}

static const gt_kern kern_scalar = {
    .name = "scalar",
    .act_set = act_set_scalar,
    .matmul = matmul_scalar,
    .dot = dot_scalar,
    .axpy = axpy_scalar,
};

/* --- dispatch ----------------------------------------------------------------- */

const gt_kern *gt_kern_isa(gt_isa isa) {
    switch (isa) {
    case GT_ISA_SCALAR: return &kern_scalar;
#if defined(__x86_64__)
    case GT_ISA_AVX2:
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
            __builtin_cpu_supports("f16c"))
            return &gt_kern_avx2;
        return NULL;
    case GT_ISA_AVX512:
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
            __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
            return &gt_kern_avx512;
        return NULL;
#endif
    default: return NULL;
    }
}

/* Picks the widest ISA the CPU has, once. GOTONG_ISA=scalar|avx2|avx512 caps
 * it (for measurements and for checking a path on a wider machine). */
const gt_kern *gt_kern_best(void) {
    static const gt_kern *best;
    if (best) return best;
    int cap = GT_ISA_COUNT - 1;
    const char *env = getenv("GOTONG_ISA");
    if (env) {
        if (!strcmp(env, "scalar")) cap = GT_ISA_SCALAR;
        else if (!strcmp(env, "avx2")) cap = GT_ISA_AVX2;
    }
    const gt_kern *k = NULL;
    for (int i = cap; i >= 0 && !k; i--) k = gt_kern_isa((gt_isa)i);
    best = k;
    return best;
}
