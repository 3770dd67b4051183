/* model.c: loading a llama / qwen2 / qwen3 / gemma3 model from GGUF: hyperparameters from the
 * metadata, every tensor checked for name, shape and type, weights packed
 * into the kernels' layout (all matrices in one huge-page region). The
 * forward pass is in forward.c, the contexts it runs in in ctx.c. */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "infer/model_impl.h"

/* Reads ARCH.suffix as u32 into *out; a missing key is an error unless
 * `fallback` >= 0, which is then used. */
static int hp_u32(const gt_gguf *g, const char *arch, const char *suffix, long fallback,
                  int *out, gt_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    uint32_t v;
    int rc = gt_gguf_get_u32(g, key, &v, err);
    if (rc == GT_ENOTFOUND && fallback >= 0) {
        *out = (int)fallback;
        return 0;
    }
    if (rc == GT_ENOTFOUND) return gt_err_set(err, GT_EINVAL, "model metadata lacks %s", key);
    if (rc) return rc;
    if (v > (uint32_t)GT_MODEL_MAX_FF * 4u)
        return gt_err_set(err, GT_ELIMIT, "%s = %u is out of range", key, v);
    *out = (int)v;
    return 0;
}

static int hp_f32(const gt_gguf *g, const char *arch, const char *suffix, double fallback,
                  float *out, gt_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int rc = gt_gguf_get_f32(g, key, out, err);
    if (rc == GT_ENOTFOUND && fallback >= 0) {
        *out = (float)fallback;
        return 0;
    }
    if (rc == GT_ENOTFOUND) return gt_err_set(err, GT_EINVAL, "model metadata lacks %s", key);
    return rc;
}

/* Checks a named value against [lo, hi]. */
static int in_range(const char *what, long v, long lo, long hi, gt_err *err) {
    if (v < lo || v > hi)
        return gt_err_set(err, GT_ELIMIT, "%s = %ld is out of range (expected %ld..%ld)", what, v,
                          lo, hi);
    return 0;
}

/* The architectures gotong runs: general.architecture, and what differs. */
static const struct arch_def {
    const char *name;
    gt_arch arch;
    int rope_neox, qk_norm, gemma, q_prescale;
} arch_defs[] = {
    {"llama", GT_ARCH_LLAMA, 0, 0, 0, 0},
    {"qwen2", GT_ARCH_QWEN2, 1, 0, 0, 0},
    {"qwen3", GT_ARCH_QWEN3, 1, 1, 0, 0},
    {"gemma3", GT_ARCH_GEMMA3, 1, 1, 1, 1},
    {"phi3", GT_ARCH_PHI3, 1, 0, 0, 1},
};

/* Sets hp's architecture from general.architecture; an architecture gotong
 * does not run is refused by name. */
static int load_arch(const gt_gguf *g, gt_hparams *hp, gt_err *err) {
    gt_gguf_str s;
    int rc = gt_gguf_get_str(g, "general.architecture", &s, err);
    if (rc == GT_ENOTFOUND) return gt_err_set(err, GT_EINVAL, "model metadata lacks general.architecture");
    if (rc) return rc;
    for (size_t i = 0; i < sizeof arch_defs / sizeof arch_defs[0]; i++) {
        const struct arch_def *d = &arch_defs[i];
        if (s.len != strlen(d->name) || memcmp(s.ptr, d->name, s.len)) continue;
        hp->arch = d->arch;
        hp->arch_name = d->name;
        hp->rope_neox = d->rope_neox;
        hp->qk_norm = d->qk_norm;
        hp->gemma = d->gemma;
        hp->q_prescale = d->q_prescale;
        return 0;
    }
    return gt_err_set(err, GT_EUNSUPPORTED,
                      "architecture \"%.*s\" is not supported (expected llama, qwen2, qwen3, gemma3 or phi3)",
                      (int)(s.len > 64 ? 64 : s.len), s.ptr);
}

/* The rope scaling of the file: none, or linear (ARCH.rope.scaling.factor,
 * angles times 1/factor, as llama.cpp applies it; Llama 3's frequency
 * scaling comes as the rope_freqs tensor). YaRN and LongRoPE are refused by
 * name; LongRoPE as phi3's converter writes it (no type, two factor tensors,
 * an original context and an attention factor) is read here and in
 * load_rope_factors. Gemma 3 scales only its global layers (rope_scale), as
 * llama.cpp. */
static int load_rope_scaling(const gt_gguf *g, gt_hparams *hp, gt_err *err) {
    char key[128];
    const char *a = hp->arch_name;
    gt_gguf_str type = {"linear", 6};
    snprintf(key, sizeof key, "%s.rope.scaling.type", a);
    int rc = gt_gguf_get_str(g, key, &type, err);
    if (rc == GT_ENOTFOUND) type = (gt_gguf_str){"linear", 6};
    else if (rc) return rc;
    int none = type.len == 4 && !memcmp(type.ptr, "none", 4);
    if (!none && !(type.len == 6 && !memcmp(type.ptr, "linear", 6)))
        return gt_err_set(err, GT_EUNSUPPORTED, "%s \"%.*s\" is not supported (expected none or linear)", key,
                          (int)(type.len > 32 ? 32 : type.len), type.ptr);
    float factor = 0.0f;
    if ((rc = hp_f32(g, a, "rope.scaling.factor", 0.0, &factor, err))) return rc;
    if (factor == 0.0f && (rc = hp_f32(g, a, "rope.scale_linear", 0.0, &factor, err))) return rc;
    if (!(factor >= 0.0f) || factor > 1e6f)
        return gt_err_set(err, GT_EINVAL, "%s.rope.scaling.factor %g is out of range (expected 0..1e6)", a,
                          (double)factor);
    hp->rope_scale = none || factor == 0.0f ? 1.0f : 1.0f / factor;
    if ((rc = hp_u32(g, a, "rope.scaling.original_context_length", hp->n_ctx_train, &hp->rope_orig_ctx, err)) ||
        (rc = in_range("rope.scaling.original_context_length", hp->rope_orig_ctx, 1, GT_CTX_MAX_POSITIONS, err)) ||
        (rc = hp_f32(g, a, "rope.scaling.attn_factor", 1.0, &hp->rope_attn_factor, err)))
        return rc;
    if (!(hp->rope_attn_factor > 0.0f && hp->rope_attn_factor <= 16.0f))
        return gt_err_set(err, GT_EINVAL, "%s.rope.scaling.attn_factor %g is out of range (expected (0, 16])", a,
                          (double)hp->rope_attn_factor);
    return hp_f32(g, a, "rope.freq_base_swa", 10000.0, &hp->rope_base_swa, err);
}

/* Gemma 3's extras: the sliding window and its pattern, the final logit
 * soft-capping. Absent keys mean no window and no capping, as in llama.cpp. */
static int load_gemma(const gt_gguf *g, gt_hparams *hp, gt_err *err) {
    const char *a = hp->arch_name;
    char key[128];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", a);
    const gt_gguf_kv *kv = gt_gguf_find(g, key);
    if (kv && kv->type == GT_GGUF_ARRAY)
        return gt_err_set(err, GT_EUNSUPPORTED, "%s as a per-layer array is not supported (expected a number)",
                          key);
    int rc;
    if ((rc = hp_u32(g, a, "attention.sliding_window", 0, &hp->n_swa, err)) ||
        (rc = hp_u32(g, a, "attention.sliding_window_pattern", 6, &hp->swa_pattern, err)) ||
        (rc = hp_f32(g, a, "final_logit_softcapping", 0.0, &hp->logit_softcap, err)))
        return rc;
    if ((rc = in_range("attention.sliding_window", hp->n_swa, 0, GT_MODEL_MAX_SWA, err)) ||
        (rc = in_range("attention.sliding_window_pattern", hp->swa_pattern, 0, GT_MODEL_MAX_LAYERS, err)))
        return rc;
    if (!(hp->logit_softcap >= 0.0f) || hp->logit_softcap > 1e6f)
        return gt_err_set(err, GT_EINVAL, "final_logit_softcapping %g is out of range (expected 0..1e6)",
                          (double)hp->logit_softcap);
    return 0;
}

int gt_hparams_is_swa(const gt_hparams *hp, int il) {
    assert(il >= 0 && il < hp->n_layer);
    if (hp->n_swa <= 0) return 0;
    return hp->swa_pattern == 0 || il % hp->swa_pattern < hp->swa_pattern - 1;
}

/* Head sizes: key_length (default n_embd / n_head; Qwen3 and Gemma 3 use
 * wider heads than that) equal to value_length, and the rope dimensions. */
static int load_heads(const gt_gguf *g, gt_hparams *hp, gt_err *err) {
    const char *a = hp->arch_name;
    int rc, v_len;
    if ((rc = hp_u32(g, a, "attention.head_count_kv", hp->n_head, &hp->n_head_kv, err))) return rc;
    if ((rc = in_range("attention.head_count_kv", hp->n_head_kv, 1, hp->n_head, err))) return rc;
    if (hp->n_head % hp->n_head_kv)
        return gt_err_set(err, GT_EINVAL, "head_count %d is not a multiple of head_count_kv %d",
                          hp->n_head, hp->n_head_kv);
    if ((rc = hp_u32(g, a, "attention.key_length", hp->n_embd / hp->n_head, &hp->head_dim, err)) ||
        (rc = hp_u32(g, a, "attention.value_length", hp->head_dim, &v_len, err)))
        return rc;
    if (v_len != hp->head_dim)
        return gt_err_set(err, GT_EUNSUPPORTED, "attention.value_length %d differs from key_length %d",
                          v_len, hp->head_dim);
    if (hp->head_dim < 16 || hp->head_dim % 16 || hp->head_dim > GT_MODEL_MAX_HEAD_DIM)
        return gt_err_set(err, GT_EUNSUPPORTED,
                          "head dimension %d is not supported (expected a multiple of 16 up to %d)",
                          hp->head_dim, GT_MODEL_MAX_HEAD_DIM);
    hp->q_dim = hp->n_head * hp->head_dim;
    if (hp->q_dim > GT_MODEL_MAX_EMBD)
        return gt_err_set(err, GT_ELIMIT, "head_count x key_length = %d is out of range (at most %d)",
                          hp->q_dim, GT_MODEL_MAX_EMBD);
    if ((rc = hp_u32(g, a, "rope.dimension_count", hp->head_dim, &hp->rope_dims, err))) return rc;
    if (hp->rope_dims < 2 || hp->rope_dims > hp->head_dim || hp->rope_dims % 2)
        return gt_err_set(err, GT_EINVAL, "rope.dimension_count %d: expected an even number up to %d",
                          hp->rope_dims, hp->head_dim);
    return 0;
}

/* Reads the hyperparameters of a supported file into hp. */
static int load_hparams(const gt_gguf *g, gt_hparams *hp, gt_err *err) {
    int rc = load_arch(g, hp, err);
    if (rc) return rc;
    const char *a = hp->arch_name;
    if ((rc = hp_u32(g, a, "embedding_length", -1, &hp->n_embd, err)) ||
        (rc = hp_u32(g, a, "block_count", -1, &hp->n_layer, err)) ||
        (rc = hp_u32(g, a, "attention.head_count", -1, &hp->n_head, err)) ||
        (rc = hp_u32(g, a, "feed_forward_length", -1, &hp->n_ff, err)) ||
        (rc = hp_u32(g, a, "context_length", 2048, &hp->n_ctx_train, err)) ||
        (rc = hp_f32(g, a, "rope.freq_base", 10000.0, &hp->rope_base, err)) ||
        (rc = hp_f32(g, a, "attention.layer_norm_rms_epsilon", -1, &hp->rms_eps, err)))
        return rc;
    if ((rc = in_range("embedding_length", hp->n_embd, 32, GT_MODEL_MAX_EMBD, err)) ||
        (rc = in_range("block_count", hp->n_layer, 1, GT_MODEL_MAX_LAYERS, err)) ||
        (rc = in_range("attention.head_count", hp->n_head, 1, GT_MODEL_MAX_HEADS, err)) ||
        (rc = in_range("feed_forward_length", hp->n_ff, 32, GT_MODEL_MAX_FF, err)))
        return rc;
    if ((rc = load_heads(g, hp, err)) || (rc = load_rope_scaling(g, hp, err))) return rc;
    if (hp->gemma && (rc = load_gemma(g, hp, err))) return rc;
    if (hp->n_embd % 32 || hp->n_ff % 32)
        return gt_err_set(err, GT_EUNSUPPORTED,
                          "embedding_length %d and feed_forward_length %d must be multiples of 32",
                          hp->n_embd, hp->n_ff);
    if ((rc = in_range("context_length", hp->n_ctx_train, 1, GT_CTX_MAX_POSITIONS, err))) return rc;
    if (!(hp->rope_base > 0.0f) || !(hp->rope_base_swa > 0.0f) || !(hp->rms_eps > 0.0f) || hp->rms_eps > 1.0f)
        return gt_err_set(err, GT_EINVAL, "rope.freq_base %g (swa %g) and rms epsilon %g must be positive",
                          (double)hp->rope_base, (double)hp->rope_base_swa, (double)hp->rms_eps);
    return 0;
}

/* The weight types the kernels run, by name ("f32, f16, ..."), for
 * messages: follows gt_kern_type_ok as types are added. */
static void supported_types(char *out, size_t cap) {
    size_t o = 0;
    out[0] = 0;
    for (uint32_t t = 0; t < GT_TYPE_COUNT && o < cap; t++)
        if (gt_kern_type_ok(t)) {
            int n = snprintf(out + o, cap - o, "%s%s", o ? ", " : "", gt_ggml_type_name(t));
            if (n < 0) break;
            o += (size_t)n;
        }
}

/* Finds a tensor and checks its shape [ne0] or [ne0, ne1] and its type.
 * Optional tensors that are absent give *out = NULL. */
static int find_tensor(const gt_gguf *g, const char *name, int64_t ne0, int64_t ne1, int optional,
                       const gt_gguf_tensor **out, gt_err *err) {
    const gt_gguf_tensor *t = gt_gguf_find_tensor(g, name);
    *out = NULL;
    if (!t) {
        if (optional) return 0;
        return gt_err_set(err, GT_EINVAL, "model lacks tensor %s", name);
    }
    uint64_t want[GT_GGUF_MAX_DIMS] = {(uint64_t)ne0, ne1 ? (uint64_t)ne1 : 1, 1, 1};
    for (uint32_t i = 0; i < GT_GGUF_MAX_DIMS; i++) {
        uint64_t have = i < t->n_dims ? t->ne[i] : 1;
        if (have != want[i])
            return gt_err_set(err, GT_EINVAL,
                              "tensor %s has shape [%llu, %llu], expected [%lld, %lld]", name,
                              (unsigned long long)t->ne[0],
                              (unsigned long long)(t->n_dims > 1 ? t->ne[1] : 1), (long long)ne0,
                              (long long)(ne1 ? ne1 : 1));
    }
    if (!gt_kern_type_ok(t->type)) {
        char ok[256];
        supported_types(ok, sizeof ok);
        return gt_err_set(err, GT_EUNSUPPORTED, "tensor %s has type %s, which is not supported (expected %s)", name,
                          gt_ggml_type_name(t->type), ok);
    }
    if (!t->data || t->nbytes < gt_ggml_row_bytes(t->type, t->ne[0]) * (ne1 ? (uint64_t)ne1 : 1))
        return gt_err_set(err, GT_EINVAL, "tensor %s has no data of the right size", name);
    *out = t;
    return 0;
}

/* Loads a 1-D tensor (norm weights, biases) as f32. *out is NULL when
 * optional and absent; caller frees with gt_free. */
static int load_vec(const gt_gguf *g, const char *name, int n, int optional, float **out,
                    gt_err *err) {
    const gt_gguf_tensor *t;
    *out = NULL;
    int rc = find_tensor(g, name, n, 0, optional, &t, err);
    if (rc || !t) return rc;
    if (n % (int)gt_ggml_block_elems(t->type))
        return gt_err_set(err, GT_EINVAL, "tensor %s: %d elements do not fill %s blocks", name, n,
                          gt_ggml_type_name(t->type));
    *out = gt_malloc((size_t)n * sizeof(float));
    if (!*out) return gt_err_set(err, GT_ENOMEM, "out of memory loading %s", name);
    gt_dequant_row(t->type, t->data, *out, n);
    return 0;
}

/* Where packed matrices go: one region for the whole model (huge pages),
 * filled in two passes over the same calls: the first (base NULL) checks
 * every matrix and sums their sizes, the second packs them. */
typedef struct arena {
    uint8_t *base;
    size_t used, cap;
} arena;

/* Source bytes read by the packer but not yet dropped: one contiguous run
 * of a mapped tensor, dropped from memory every DROP_EVERY bytes so a large
 * matrix's file pages and its packed copy are never resident whole at once. */
typedef struct pack_drop {
    const gt_gguf *g;
    const uint8_t *start;
    size_t n;
} pack_drop;
#define DROP_EVERY ((size_t)8 << 20)

static void pack_drop_consumed(void *ctx, const void *src, size_t n) {
    pack_drop *d = ctx;
    if (d->start + d->n != (const uint8_t *)src) { /* not contiguous: start a new run */
        gt_gguf_drop(d->g, d->start, d->n);
        d->start = src, d->n = 0;
    }
    d->n += n;
    if (d->n >= DROP_EVERY) {
        gt_gguf_drop(d->g, d->start, d->n);
        d->start += d->n, d->n = 0;
    }
}

/* Checks a matrix of total_rows x n_cols and (second pass) packs its rows
 * [row0, row0 + n_rows) into ar: a whole matrix, or one part of a fused one
 * (phi3's attn_qkv, its gate|up; GGUF rows are contiguous, so a part is a
 * plain slice of the bytes). */
static int load_mat_rows(const gt_gguf *g, const char *name, int total_rows, int row0, int n_rows, int n_cols,
                         gt_qmat *m, arena *ar, gt_err *err) {
    const gt_gguf_tensor *t;
    int rc = find_tensor(g, name, n_cols, total_rows, 0, &t, err);
    if (rc) return rc;
    assert(row0 >= 0 && row0 + n_rows <= total_rows);
    const uint8_t *data = (const uint8_t *)t->data + gt_ggml_row_bytes(t->type, t->ne[0]) * (size_t)row0;
    size_t need = gt_qmat_pack_bytes(t->type, n_rows, n_cols);
    if (!need) { /* refused: let the packer say why */
        gt_qmat tmp;
        rc = gt_qmat_pack(&tmp, t->type, data, n_rows, n_cols, err);
        gt_qmat_free(&tmp);
        assert(rc);
        return gt_err_wrap(err, "tensor %s", name);
    }
    if (ar->base) {
        assert(ar->used + need <= ar->cap);
        /* The packed copy is what runs: the file's pages of it need not stay
         * resident beside it (token rows are read back on demand). Dropped
         * as packing goes, then whole (the page edges of each run). */
        pack_drop d = {.g = g, .start = data};
        gt_pack_progress progress = {pack_drop_consumed, &d};
        rc = gt_qmat_pack_into(m, t->type, data, n_rows, n_cols, ar->base + ar->used, &progress, err);
        if (rc) return gt_err_wrap(err, "tensor %s", name);
        gt_gguf_drop(g, data, gt_ggml_row_bytes(t->type, t->ne[0]) * (size_t)n_rows);
    }
    ar->used += need;
    return 0;
}

/* Checks a matrix of n_rows x n_cols and (second pass) packs it into ar. */
static int load_mat(const gt_gguf *g, const char *name, int n_rows, int n_cols, gt_qmat *m,
                    arena *ar, gt_err *err) {
    return load_mat_rows(g, name, n_rows, 0, n_rows, n_cols, m, ar, err);
}

/* A layer with the fused attn_qkv.weight must not also hold attn_q, attn_k
 * or attn_v: the fused one is what runs, so another would be ignored (as
 * check_no_unknown_tensors refuses any tensor the forward pass would not
 * use), whatever its shape. */
static int check_no_split_qkv(const gt_gguf *g, int il, gt_err *err) {
    static const char *const split[] = {"attn_q.weight", "attn_k.weight", "attn_v.weight"};
    char name[96];
    for (size_t i = 0; i < sizeof split / sizeof split[0]; i++) {
        snprintf(name, sizeof name, "blk.%d.%s", il, split[i]);
        if (gt_gguf_find_tensor(g, name))
            return gt_err_set(err, GT_EUNSUPPORTED, "tensor %s is not supported beside blk.%d.attn_qkv.weight (it "
                              "would be ignored and the results would differ from the model's)", name, il);
    }
    return 0;
}

/* The attention and FFN matrices of layer il: separate (attn_q/k/v,
 * ffn_gate/up), or fused as phi3 stores them: attn_qkv (q, k, v rows one
 * after the other) and ffn_up of 2 n_ff rows (gate first, as ggml's SwiGLU
 * splits it). */
static int load_layer_mats(const gt_gguf *g, const gt_hparams *hp, int il, gt_layer *L, arena *ar, gt_err *err) {
    char name[96];
    int kvd = hp->n_head_kv * hp->head_dim, E = hp->n_embd, Q = hp->q_dim, F = hp->n_ff, rc;
#define NAME(suffix) (snprintf(name, sizeof name, "blk.%d.%s", il, suffix), name)
    if (gt_gguf_find_tensor(g, NAME("attn_qkv.weight"))) {
        int R = Q + 2 * kvd;
        if ((rc = check_no_split_qkv(g, il, err))) return rc;
        NAME("attn_qkv.weight");
        if ((rc = load_mat_rows(g, name, R, 0, Q, E, &L->wq, ar, err)) ||
            (rc = load_mat_rows(g, name, R, Q, kvd, E, &L->wk, ar, err)) ||
            (rc = load_mat_rows(g, name, R, Q + kvd, kvd, E, &L->wv, ar, err)))
            return rc;
    } else if ((rc = load_mat(g, NAME("attn_q.weight"), Q, E, &L->wq, ar, err)) ||
               (rc = load_mat(g, NAME("attn_k.weight"), kvd, E, &L->wk, ar, err)) ||
               (rc = load_mat(g, NAME("attn_v.weight"), kvd, E, &L->wv, ar, err)))
        return rc;
    if (hp->arch == GT_ARCH_PHI3) {
        if ((rc = load_mat_rows(g, NAME("ffn_up.weight"), 2 * F, 0, F, E, &L->wgate, ar, err)) ||
            (rc = load_mat_rows(g, name, 2 * F, F, F, E, &L->wup, ar, err)))
            return rc;
    } else if ((rc = load_mat(g, NAME("ffn_gate.weight"), F, E, &L->wgate, ar, err)) ||
               (rc = load_mat(g, NAME("ffn_up.weight"), F, E, &L->wup, ar, err)))
        return rc;
    if ((rc = load_mat(g, NAME("attn_output.weight"), E, Q, &L->wo, ar, err)) ||
        (rc = load_mat(g, NAME("ffn_down.weight"), E, F, &L->wdown, ar, err)))
        return rc;
#undef NAME
    return 0;
}

/* First pass (ar->base NULL): checks the layer's matrices and counts their
 * bytes. Second pass: loads the vectors and packs the matrices. */
static int load_layer(const gt_gguf *g, const gt_hparams *hp, int il, gt_layer *L, arena *ar,
                      gt_err *err) {
    char name[96];
    int kv_dim = hp->n_head_kv * hp->head_dim, E = hp->n_embd, Q = hp->q_dim, rc;
    int qwen = hp->arch == GT_ARCH_QWEN2, hd = hp->head_dim;
#define NAME(suffix) (snprintf(name, sizeof name, "blk.%d.%s", il, suffix), name)
    if (ar->base &&
        ((rc = load_vec(g, NAME("attn_norm.weight"), E, 0, &L->attn_norm, err)) ||
         (rc = load_vec(g, NAME("ffn_norm.weight"), E, 0, &L->ffn_norm, err)) ||
         (rc = load_vec(g, NAME("attn_q.bias"), Q, !qwen, &L->bq, err)) ||
         (rc = load_vec(g, NAME("attn_k.bias"), kv_dim, !qwen, &L->bk, err)) ||
         (rc = load_vec(g, NAME("attn_v.bias"), kv_dim, !qwen, &L->bv, err))))
        return rc;
    if (ar->base && hp->qk_norm &&
        ((rc = load_vec(g, NAME("attn_q_norm.weight"), hd, 0, &L->q_norm, err)) ||
         (rc = load_vec(g, NAME("attn_k_norm.weight"), hd, 0, &L->k_norm, err))))
        return rc;
    if (ar->base && hp->gemma &&
        ((rc = load_vec(g, NAME("post_attention_norm.weight"), E, 0, &L->attn_post_norm, err)) ||
         (rc = load_vec(g, NAME("post_ffw_norm.weight"), E, 0, &L->ffn_post_norm, err))))
        return rc;
#undef NAME
    return load_layer_mats(g, hp, il, L, ar, err);
}

/* The second pass of a model's matrices, shared out among threads: item 0
 * is the output matrix (the largest, so it is claimed first), item 1 + il
 * is layer il. Each item packs at the place the first pass gave it, so the
 * bytes do not depend on which thread packs what. Why threads: packing
 * copies every weight into fresh memory, and that copy and the first touch
 * of the memory are nearly all of a load (llama3.2-1b Q8_0: the kernel
 * clearing new pages 42 % of the samples, the packing 48 %). */
typedef struct load_job {
    const gt_gguf *g;
    gt_model *m;
    const char *out_name;
    uint8_t *base;
    size_t cap;
    const size_t *start, *stop; /* item i fills [start[i], stop[i]) of the region */
    int n_items;
    _Atomic int next;           /* next item to claim */
    int *rc;                    /* per item */
    gt_err *errs;               /* per item */
} load_job;

#define LOAD_MAX_THREADS 4

/* Packs item i of j (see load_job) into its place of the region. */
static int load_item(load_job *j, int i, gt_err *err) {
    const gt_hparams *hp = &j->m->hp;
    arena ar = {j->base, j->start[i], j->cap};
    int rc = i == 0 ? load_mat(j->g, j->out_name, hp->n_vocab, hp->n_embd, &j->m->out, &ar, err)
                    : load_layer(j->g, hp, i - 1, &j->m->layers[i - 1], &ar, err);
    assert(rc || ar.used == j->stop[i]); /* the sizes of the first pass */
    return rc;
}

/* A loading thread: claims items until none is left. */
static void *load_worker(void *arg) {
    load_job *j = arg;
    for (int i; (i = atomic_fetch_add(&j->next, 1)) < j->n_items;) j->rc[i] = load_item(j, i, &j->errs[i]);
    return NULL;
}

/* Packs the items of j on up to LOAD_MAX_THREADS threads, this one among
 * them (fewer on fewer cores, or when a thread cannot start: the others
 * claim its items). Returns the first failure in the file's order (the
 * layers, then the output matrix), whichever thread met it. */
static int load_items(load_job *j, gt_err *err) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = cores < 1 ? 1 : cores > LOAD_MAX_THREADS ? LOAD_MAX_THREADS : (int)cores;
    pthread_t th[LOAD_MAX_THREADS];
    int started = 0;
    while (started < nt - 1 && pthread_create(&th[started], NULL, load_worker, j) == 0) started++;
    load_worker(j);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    for (int k = 1; k <= j->n_items; k++) {
        int i = k % j->n_items; /* items 1 .. n_items - 1, then 0 */
        if (j->rc[i]) {
            *err = j->errs[i];
            return j->rc[i];
        }
    }
    return 0;
}

/* The model's matrices, output matrix out_name included: a first pass
 * checks and sizes every one in the file's order (the layers, then the
 * output matrix), noting where each item goes in one region (see arena);
 * then load_items packs them there. */
static int load_weights(const gt_gguf *g, gt_model *m, const char *out_name, gt_err *err) {
    const gt_hparams *hp = &m->hp;
    int n_items = hp->n_layer + 1, rc = 0;
    size_t *start = gt_calloc((size_t)n_items, sizeof *start), *stop = gt_calloc((size_t)n_items, sizeof *stop);
    int *rcs = gt_calloc((size_t)n_items, sizeof *rcs);
    gt_err *errs = gt_calloc((size_t)n_items, sizeof *errs);
    if (!start || !stop || !rcs || !errs) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        goto done;
    }
    arena ar = {0};
    for (int k = 1; k <= n_items && !rc; k++) {
        int i = k % n_items; /* the file's order: layers, then the output matrix */
        start[i] = ar.used;
        rc = i == 0 ? load_mat(g, out_name, hp->n_vocab, hp->n_embd, &m->out, &ar, err)
                    : load_layer(g, hp, i - 1, &m->layers[i - 1], &ar, err);
        stop[i] = ar.used;
    }
    if (rc) goto done;
    uint8_t *base = gt_kern_alloc(ar.used, &m->weights_mem);
    if (!base) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory for %zu MiB of weights", ar.used >> 20);
        goto done;
    }
    load_job j = {.g = g, .m = m, .out_name = out_name, .base = base, .cap = ar.used, .start = start,
                  .stop = stop, .n_items = n_items, .rc = rcs, .errs = errs};
    rc = load_items(&j, err);
done:
    gt_free(start);
    gt_free(stop);
    gt_free(rcs);
    gt_free(errs);
    return rc;
}

/* Whether a per-layer tensor suffix is one this architecture reads. */
static int layer_suffix_known(const gt_hparams *hp, const char *suffix) {
    static const char *const common[] = {"attn_norm.weight", "ffn_norm.weight", "attn_q.weight", "attn_k.weight",
                                         "attn_v.weight", "attn_output.weight", "ffn_up.weight", "ffn_down.weight"};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (!strcmp(suffix, common[i])) return 1;
    if (!strcmp(suffix, "attn_qkv.weight")) return 1;
    if (hp->arch == GT_ARCH_PHI3) return 0; /* its gate is the first half of ffn_up */
    if (!strcmp(suffix, "ffn_gate.weight")) return 1;
    if (hp->arch == GT_ARCH_QWEN2 && (!strcmp(suffix, "attn_q.bias") || !strcmp(suffix, "attn_k.bias") ||
                                      !strcmp(suffix, "attn_v.bias")))
        return 1;
    if (hp->qk_norm && (!strcmp(suffix, "attn_q_norm.weight") || !strcmp(suffix, "attn_k_norm.weight")))
        return 1;
    return hp->gemma && (!strcmp(suffix, "post_attention_norm.weight") || !strcmp(suffix, "post_ffw_norm.weight"));
}

/* Refuses a file holding a tensor the forward pass would not use (a bias,
 * an expert, a vision tower...): ignoring it would compute something else
 * than the model, so the error names it. */
static int check_no_unknown_tensors(const gt_gguf *g, const gt_hparams *hp, gt_err *err) {
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_str *nm = &g->tensors[i].name;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(nm->len > 120 ? 120 : nm->len), nm->ptr);
        if (!strcmp(name, "token_embd.weight") || !strcmp(name, "output_norm.weight") ||
            !strcmp(name, "output.weight") || (hp->arch == GT_ARCH_LLAMA && !strcmp(name, "rope_freqs.weight")) ||
            (hp->arch == GT_ARCH_PHI3 &&
             (!strcmp(name, "rope_factors_long.weight") || !strcmp(name, "rope_factors_short.weight"))))
            continue;
        int il, off = 0;
        if (sscanf(name, "blk.%d.%n", &il, &off) == 1 && off > 0 && il >= 0 && il < hp->n_layer &&
            layer_suffix_known(hp, name + off))
            continue;
        return gt_err_set(err, GT_EUNSUPPORTED, "tensor %s is not supported by gotong's %s (it would be "
                          "ignored and the results would differ from the model's)", name, hp->arch_name);
    }
    return 0;
}

/* One optional tensor of rope_dims/2 positive divisors of the rotary
 * angles into *out (NULL when absent). */
static int load_rope_divisors(const gt_gguf *g, const gt_hparams *hp, const char *name, float **out, gt_err *err) {
    int rc = load_vec(g, name, hp->rope_dims / 2, 1, out, err);
    if (rc || !*out) return rc;
    for (int i = 0; i < hp->rope_dims / 2; i++)
        if (!((*out)[i] > 0.0f) || (*out)[i] > 1e9f)
            return gt_err_set(err, GT_EINVAL, "%s[%d] = %g: expected a positive factor", name, i, (double)(*out)[i]);
    return 0;
}

/* The divisors of the rotary angles (llama.cpp's freq_factors), where the
 * file has them: Llama 3's rope_freqs.weight (llama.cpp reads it for llama
 * only), or phi3's LongRoPE pair rope_factors_long/short.weight, one of which
 * a context picks by its length (gt_ctx_new). Elsewhere such a tensor is an
 * unknown one (check_no_unknown_tensors). */
static int load_rope_factors(const gt_gguf *g, gt_model *m, gt_err *err) {
    const gt_hparams *hp = &m->hp;
    if (hp->arch == GT_ARCH_LLAMA) return load_rope_divisors(g, hp, "rope_freqs.weight", &m->rope_freqs, err);
    if (hp->arch != GT_ARCH_PHI3) return 0;
    int rc = load_rope_divisors(g, hp, "rope_factors_long.weight", &m->rope_long, err);
    if (!rc) rc = load_rope_divisors(g, hp, "rope_factors_short.weight", &m->rope_short, err);
    if (!rc && !m->rope_long != !m->rope_short)
        return gt_err_set(err, GT_EINVAL, "LongRoPE needs both rope_factors_long.weight and rope_factors_short.weight; "
                          "the file has only %s", m->rope_long ? "the long one" : "the short one");
    return rc;
}

/* The file's vocabulary (tokenizer.ggml.tokens, when it has one) must be
 * as long as the embedding: a token id of the one must be a row of the
 * other (llama.cpp refuses such a file the same way). A longer vocabulary
 * gives ids the model cannot evaluate, a shorter one logits the tokenizer
 * has no text for (the grammar index asserted on that). */
static int check_vocab_size(const gt_gguf *g, int n_vocab, gt_err *err) {
    const gt_gguf_kv *tk = gt_gguf_find(g, "tokenizer.ggml.tokens");
    if (!tk || tk->type != GT_GGUF_ARRAY || tk->arr_len == (uint64_t)n_vocab) return 0;
    return gt_err_set(err, GT_EINVAL, "tokenizer.ggml.tokens has %llu tokens but token_embd.weight %d rows: "
                      "the vocabulary and the model disagree", (unsigned long long)tk->arr_len, n_vocab);
}

int gt_model_from_gguf(gt_gguf *g, gt_model **out, gt_err *err) {
    *out = NULL;
    gt_model *m = gt_calloc(1, sizeof *m);
    if (!m) {
        gt_gguf_close(g);
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    m->gguf = g;
    gt_hparams *hp = &m->hp;
    int rc = load_hparams(g, hp, err);
    if (rc) goto fail;
    const gt_gguf_tensor *te = gt_gguf_find_tensor(g, "token_embd.weight");
    if (!te) {
        rc = gt_err_set(err, GT_EINVAL, "model lacks tensor token_embd.weight");
        goto fail;
    }
    if (te->n_dims != 2 || te->ne[1] < 1 || te->ne[1] > GT_MODEL_MAX_VOCAB) {
        rc = gt_err_set(err, GT_EINVAL, "token_embd.weight: expected [%d, n_vocab] with n_vocab up to %d",
                        hp->n_embd, GT_MODEL_MAX_VOCAB);
        goto fail;
    }
    hp->n_vocab = (int)te->ne[1];
    if ((rc = find_tensor(g, "token_embd.weight", hp->n_embd, hp->n_vocab, 0, &m->tok_embd, err)) ||
        (rc = check_vocab_size(g, hp->n_vocab, err)))
        goto fail;
    m->layers = gt_calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        goto fail;
    }
    const gt_gguf_tensor *to;
    if ((rc = find_tensor(g, "output.weight", hp->n_embd, hp->n_vocab, 1, &to, err))) goto fail;
    hp->tied_output = to == NULL;
    if ((rc = load_weights(g, m, to ? "output.weight" : "token_embd.weight", err))) goto fail;
    hp->weight_type = m->layers[0].wq.type;
    if ((rc = load_vec(g, "output_norm.weight", hp->n_embd, 0, &m->out_norm, err))) goto fail;
    if ((rc = load_rope_factors(g, m, err)) || (rc = check_no_unknown_tensors(g, hp, err))) goto fail;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        uint64_t n = 1;
        for (uint32_t d = 0; d < g->tensors[i].n_dims; d++) n *= g->tensors[i].ne[d];
        m->n_params += n;
    }
    *out = m;
    return 0;
fail:
    gt_model_free(m);
    return rc;
}

int gt_model_load(const char *path, gt_model **out, gt_err *err) {
    gt_gguf *g;
    *out = NULL;
    int rc = gt_gguf_open(path, &g, err);
    if (rc) return rc;
    rc = gt_model_from_gguf(g, out, err);
    if (rc) gt_err_wrap(err, "%s", path);
    return rc;
}

void gt_model_free(gt_model *m) {
    if (!m) return;
    if (m->layers)
        for (int il = 0; il < m->hp.n_layer; il++) {
            gt_layer *L = &m->layers[il];
            gt_free(L->attn_norm);
            gt_free(L->ffn_norm);
            gt_free(L->bq);
            gt_free(L->bk);
            gt_free(L->bv);
            gt_free(L->q_norm);
            gt_free(L->k_norm);
            gt_free(L->attn_post_norm);
            gt_free(L->ffn_post_norm);
            gt_qmat *mats[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->wgate, &L->wup, &L->wdown};
            for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) gt_qmat_free(mats[i]);
        }
    gt_free(m->layers);
    gt_free(m->out_norm);
    gt_free(m->rope_freqs);
    gt_free(m->rope_long);
    gt_free(m->rope_short);
    gt_qmat_free(&m->out);
    gt_free(m->weights_mem);
    gt_gguf_close(m->gguf);
    gt_free(m);
}

const gt_hparams *gt_model_hparams(const gt_model *m) { return &m->hp; }
const gt_gguf *gt_model_gguf(const gt_model *m) { return m->gguf; }
uint64_t gt_model_n_params(const gt_model *m) { return m->n_params; }

size_t gt_model_weight_bytes(const gt_model *m) {
    size_t n = gt_qmat_bytes(&m->out);
    for (int il = 0; il < m->hp.n_layer; il++) {
        const gt_layer *L = &m->layers[il];
        n += gt_qmat_bytes(&L->wq) + gt_qmat_bytes(&L->wk) + gt_qmat_bytes(&L->wv) +
             gt_qmat_bytes(&L->wo) + gt_qmat_bytes(&L->wgate) + gt_qmat_bytes(&L->wup) +
             gt_qmat_bytes(&L->wdown);
    }
    return n;
}
