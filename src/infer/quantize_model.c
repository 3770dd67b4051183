/* quantize_model.c: GGUF in, GGUF out, each tensor in the type llama.cpp's
 * quantizer would give it (see quantize_model.h). Metadata is copied, with
 * general.file_type and general.quantization_version set; tensors are
 * produced one at a time at write time, rows spread over a thread pool. */
#include "infer/quantize_model.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/progress.h"
#include "base/pool.h"
#include "infer/gguf.h"
#include "infer/kernels.h"
#include "infer/quantize.h"

#define QM_MAX_NAME 256

/* llama_ftype numbers (general.file_type) of the presets. */
enum {
    FT_Q4_0 = 2, FT_Q4_1 = 3, FT_Q8_0 = 7, FT_Q5_0 = 8, FT_Q5_1 = 9, FT_Q2_K = 10, FT_Q3_K_S = 11,
    FT_Q3_K_M = 12, FT_Q3_K_L = 13, FT_Q4_K_S = 14, FT_Q4_K_M = 15, FT_Q5_K_S = 16, FT_Q5_K_M = 17,
    FT_Q6_K = 18, FT_IQ4_NL = 25, FT_IQ4_XS = 30,
};

static const gt_qpreset presets[] = {
    {"q8_0", GT_TYPE_Q8_0, FT_Q8_0},       {"q4_0", GT_TYPE_Q4_0, FT_Q4_0},
    {"q4_1", GT_TYPE_Q4_1, FT_Q4_1},       {"q5_0", GT_TYPE_Q5_0, FT_Q5_0},
    {"q5_1", GT_TYPE_Q5_1, FT_Q5_1},       {"q2_k", GT_TYPE_Q2_K, FT_Q2_K},
    {"q3_k_s", GT_TYPE_Q3_K, FT_Q3_K_S},   {"q3_k_m", GT_TYPE_Q3_K, FT_Q3_K_M},
    {"q3_k_l", GT_TYPE_Q3_K, FT_Q3_K_L},   {"q4_k_s", GT_TYPE_Q4_K, FT_Q4_K_S},
    {"q4_k_m", GT_TYPE_Q4_K, FT_Q4_K_M},   {"q5_k_s", GT_TYPE_Q5_K, FT_Q5_K_S},
    {"q5_k_m", GT_TYPE_Q5_K, FT_Q5_K_M},   {"q6_k", GT_TYPE_Q6_K, FT_Q6_K},
    {"iq4_nl", GT_TYPE_IQ4_NL, FT_IQ4_NL}, {"iq4_xs", GT_TYPE_IQ4_XS, FT_IQ4_XS},
};

/* Looks a preset up by its exact name. */
const gt_qpreset *gt_qpreset_find(const char *name) {
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].name, name)) return &presets[i];
    return NULL;
}

const char *gt_qpreset_names(void) {
    return "q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k_s, q3_k_m, q3_k_l, q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k, "
           "iq4_nl, iq4_xs";
}

/* One output tensor: where it comes from and what it becomes. */
typedef struct qm_tensor {
    const gt_gguf_tensor *src;
    uint32_t type;
    uint64_t rows;
    uint8_t *dst;
    size_t src_row, dst_row;
    float *scratch; /* per thread: one row */
    gt_pool *pool;
    gt_progress *progress; /* tensors written, on a terminal */
    uint64_t index;
} qm_tensor;

/* Name tests on a tensor name (not NUL-terminated in the file). */
static int ends_with(const gt_gguf_str *s, const char *suffix) {
    size_t n = strlen(suffix);
    return s->len >= n && !memcmp(s->ptr + s->len - n, suffix, n);
}

static int contains(const gt_gguf_str *s, const char *part) {
    size_t n = strlen(part);
    for (uint64_t i = 0; i + n <= s->len; i++)
        if (!memcmp(s->ptr + i, part, n)) return 1;
    return 0;
}

static int is_named(const gt_gguf_str *s, const char *name) {
    return s->len == strlen(name) && !memcmp(s->ptr, name, s->len);
}

/* llama.cpp's "more bits" layers: the first and last eighth, every third
 * between. */
static int more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* Counters of the tensors seen so far (the rules count in file order), and
 * the model's query heads per KV head. */
typedef struct qm_count {
    int n_attn_v, n_ffn_down, i_attn_v, i_ffn_down, has_output, n_gqa;
} qm_count;

/* attn_v (and a fused attn_qkv): more bits, by preset. */
static uint32_t pick_attn_v(uint32_t ft, uint32_t ty, qm_count *c) {
    int i = c->i_attn_v++;
    switch (ft) {
    case FT_Q2_K: return c->n_gqa >= 4 ? GT_TYPE_Q4_K : GT_TYPE_Q3_K;
    case FT_Q3_K_M: return i < 2 ? GT_TYPE_Q5_K : GT_TYPE_Q4_K;
    case FT_Q3_K_L: return GT_TYPE_Q5_K;
    case FT_IQ4_NL:
    case FT_IQ4_XS: return c->n_gqa >= 4 ? GT_TYPE_Q5_K : ty;
    case FT_Q4_K_M:
    case FT_Q5_K_M: return more_bits(i, c->n_attn_v) ? GT_TYPE_Q6_K : ty;
    case FT_Q4_K_S: return i < 4 ? GT_TYPE_Q5_K : ty;
    default: return ty;
    }
}

/* ffn_down: more bits on the layers each preset picks. */
static uint32_t pick_ffn_down(uint32_t ft, uint32_t ty, qm_count *c) {
    int i = c->i_ffn_down++, n = c->n_ffn_down;
    switch (ft) {
    case FT_Q2_K: return GT_TYPE_Q3_K;
    case FT_Q3_K_M: return i < n / 16 ? GT_TYPE_Q5_K : GT_TYPE_Q4_K;
    case FT_Q3_K_L: return GT_TYPE_Q5_K;
    case FT_Q4_K_M:
    case FT_Q5_K_M: return more_bits(i, n) ? GT_TYPE_Q6_K : ty;
    case FT_IQ4_NL:
    case FT_IQ4_XS:
    case FT_Q4_K_S: return i < n / 8 ? GT_TYPE_Q5_K : ty;
    default: return ty;
    }
}

/* llama.cpp's fallback when a row length is not a multiple of the chosen
 * type's block: a 32-block type of about as many bits, or F16 when even
 * that does not divide it. */
static uint32_t fallback(uint32_t ty, uint64_t ncols) {
    if (ncols % gt_ggml_block_elems(ty) == 0) return ty;
    switch (ty) {
    case GT_TYPE_Q2_K:
    case GT_TYPE_Q3_K: ty = GT_TYPE_Q4_0; break;
    case GT_TYPE_Q4_K: ty = GT_TYPE_Q5_0; break;
    case GT_TYPE_Q5_K: ty = GT_TYPE_Q5_1; break;
    case GT_TYPE_Q6_K: ty = GT_TYPE_Q8_0; break;
    case GT_TYPE_IQ4_XS: ty = GT_TYPE_IQ4_NL; break;
    default: break;
    }
    return ncols % gt_ggml_block_elems(ty) == 0 ? ty : GT_TYPE_F16;
}

/* The type tensor t gets under preset p (t's own type when it is not
 * quantized); advances the counters. */
static uint32_t pick_type(const gt_gguf_tensor *t, const gt_qpreset *p, qm_count *c) {
    const gt_gguf_str *nm = &t->name;
    if (!ends_with(nm, "weight") || t->n_dims < 2 || ends_with(nm, "_norm.weight")) return t->type;
    uint32_t ty = p->base_type, ft = p->file_type;
    if (is_named(nm, "output.weight") || (!c->has_output && is_named(nm, "token_embd.weight"))) {
        if (t->ne[0] % gt_ggml_block_elems(ty)) ty = GT_TYPE_Q8_0;
        else if (ty != GT_TYPE_Q8_0) ty = GT_TYPE_Q6_K;
    } else if (is_named(nm, "token_embd.weight")) {
        /* the preset's type */
    } else if (contains(nm, "attn_v.weight") || contains(nm, "attn_qkv.weight")) {
        ty = pick_attn_v(ft, ty, c);
    } else if (contains(nm, "ffn_down")) {
        ty = pick_ffn_down(ft, ty, c);
    } else if (contains(nm, "attn_output.weight")) {
        if (ft == FT_Q2_K) ty = GT_TYPE_Q3_K;
        else if (ft == FT_Q3_K_M) ty = GT_TYPE_Q4_K;
        else if (ft == FT_Q3_K_L) ty = GT_TYPE_Q5_K;
    }
    return fallback(ty, t->ne[0]);
}

/* Rows ith, ith + nth, ...: widened to f32, quantized. */
static void fill_rows(void *arg, int ith, int nth) {
    qm_tensor *q = arg;
    float *row = q->scratch + (size_t)ith * q->src->ne[0];
    const uint8_t *src = q->src->data;
    for (uint64_t r = (uint64_t)ith; r < q->rows; r += (uint64_t)nth) {
        gt_dequant_row(q->src->type, src + r * q->src_row, row, (int64_t)q->src->ne[0]);
        int rc = gt_quantize_row(q->type, row, q->dst + r * q->dst_row, (int64_t)q->src->ne[0]);
        assert(rc == 0);
        (void)rc;
    }
}

/* The writer's callback: produces one tensor into dst. */
static int fill_tensor(void *ctx, void *dst, size_t nbytes, gt_err *err) {
    qm_tensor *q = ctx;
    gt_progress_update(q->progress, q->index); /* the tensors before this one: the writer fills them in order */
    if (q->type == q->src->type) {
        assert(nbytes == q->src->nbytes);
        memcpy(dst, q->src->data, nbytes);
        return 0;
    }
    q->dst = dst;
    int nth = gt_pool_size(q->pool);
    q->scratch = gt_malloc((size_t)nth * q->src->ne[0] * sizeof(float));
    if (!q->scratch) return gt_err_set(err, GT_ENOMEM, "out of memory quantizing %.*s", (int)q->src->name.len, q->src->name.ptr);
    gt_pool_run(q->pool, fill_rows, q);
    gt_free(q->scratch);
    q->scratch = NULL;
    return 0;
}

/* Decides every tensor's type and checks it can be made; fills qs. */
/* Query heads per KV head from the architecture's metadata (1 when it does
 * not say: the presets then take the non-GQA choice). */
static int model_gqa(const gt_gguf *g) {
    gt_gguf_str arch;
    gt_err err = {0};
    uint32_t nh = 0, nkv = 0;
    char key[QM_MAX_NAME];
    if (gt_gguf_get_str(g, "general.architecture", &arch, &err) || arch.len > 64) return 1;
    snprintf(key, sizeof key, "%.*s.attention.head_count", (int)arch.len, arch.ptr);
    if (gt_gguf_get_u32(g, key, &nh, &err) || nh == 0) return 1;
    snprintf(key, sizeof key, "%.*s.attention.head_count_kv", (int)arch.len, arch.ptr);
    if (gt_gguf_get_u32(g, key, &nkv, &err) || nkv == 0 || nkv > nh) nkv = nh;
    return (int)(nh / nkv);
}

static int plan(const gt_gguf *g, const gt_qpreset *p, qm_tensor *qs, gt_err *err) {
    qm_count c = {0};
    c.n_gqa = model_gqa(g);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_str *nm = &g->tensors[i].name;
        c.n_attn_v += contains(nm, "attn_v.weight") || contains(nm, "attn_qkv.weight");
        c.n_ffn_down += contains(nm, "ffn_down");
        c.has_output |= is_named(nm, "output.weight");
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_tensor *t = &g->tensors[i];
        uint32_t ty = pick_type(t, p, &c);
        qs[i] = (qm_tensor){.src = t, .type = ty, .rows = t->nbytes / gt_ggml_row_bytes(t->type, t->ne[0])};
        if (t->name.len >= QM_MAX_NAME)
            return gt_err_set(err, GT_EINVAL, "tensor name of %llu bytes (at most %d)", (unsigned long long)t->name.len, QM_MAX_NAME - 1);
        if (ty == t->type) continue;
        if (t->type != GT_TYPE_F32 && t->type != GT_TYPE_F16 && t->type != GT_TYPE_BF16)
            return gt_err_set(err, GT_EUNSUPPORTED, "tensor %.*s is %s: only f32, f16 and bf16 tensors can be "
                              "quantized (requantizing loses precision twice)", (int)t->name.len, t->name.ptr,
                              gt_ggml_type_name(t->type));
        assert(t->ne[0] % gt_ggml_block_elems(ty) == 0); /* fallback() made sure */
    }
    return 0;
}

/* Refuses a file that is no model: no tensors (a vocabulary from `gotong
 * tokenizer`), no general.architecture, or a training checkpoint (its
 * weights are written as a model by the run that resumes it). These were
 * "quantized" into a file named like a model that nothing loads as one. */
static int check_model(const gt_gguf *g, gt_err *err) {
    gt_gguf_str arch = {0};
    gt_err e2 = {0};
    if (!g->n_tensors) return gt_err_set(err, GT_EINVAL, "no tensors: expected a model (a vocabulary has none)");
    if (gt_gguf_get_str(g, "general.architecture", &arch, &e2))
        return gt_err_set(err, GT_EINVAL, "no general.architecture: expected a model");
    if (arch.len == 23 && !memcmp(arch.ptr, "gotong-train-checkpoint", 23))
        return gt_err_set(err, GT_EINVAL, "a training checkpoint, not a model: expected the model a run wrote "
                          "(gotong train --resume it to write one)");
    return 0;
}

int gt_quantize_model(const char *in_path, const char *out_path, const gt_qpreset *p, int n_threads,
                      gt_err *err) {
    assert(p && n_threads >= 1);
    gt_gguf *g = NULL;
    int rc = gt_gguf_open(in_path, &g, err);
    if (rc) return rc;
    if ((rc = check_model(g, err))) {
        gt_gguf_close(g);
        return gt_err_wrap(err, "%s", in_path);
    }
    gt_progress progress = {0};
    qm_tensor *qs = gt_calloc(g->n_tensors ? g->n_tensors : 1, sizeof *qs);
    gt_pool *pool = gt_pool_new(n_threads);
    gt_gguf_writer *w = gt_gguf_writer_new();
    if (!qs || !pool || !w) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = plan(g, p, qs, err))) goto done;
    for (uint64_t i = 0; i < g->n_kv; i++) gt_gguf_writer_copy_kv(w, &g->kv[i]);
    gt_gguf_writer_set_u32(w, "general.quantization_version", 2);
    gt_gguf_writer_set_u32(w, "general.file_type", p->file_type);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_tensor *t = &g->tensors[i];
        char name[QM_MAX_NAME];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        qs[i].pool = pool, qs[i].progress = &progress, qs[i].index = i;
        qs[i].src_row = gt_ggml_row_bytes(t->type, t->ne[0]);
        qs[i].dst_row = gt_ggml_row_bytes(qs[i].type, t->ne[0]);
        gt_gguf_writer_add_tensor_fill(w, name, t->n_dims, t->ne, qs[i].type, fill_tensor, &qs[i]);
    }
    gt_progress_start(&progress, "quantizing tensors", g->n_tensors); /* minutes for a large model */
    rc = gt_gguf_writer_write(w, out_path, err);
    gt_progress_finish(&progress);
done:
    gt_gguf_writer_free(w);
    gt_pool_free(pool);
    gt_free(qs);
    gt_gguf_close(g);
    return rc;
}
