/* fuzz_model_load.c: a hostile GGUF model file (users run any GGUF they
 * downloaded) through what loading it does: the container (gt_gguf_parse),
 * the tokenizer (gt_tokenizer_load: vocabulary, scores, token types,
 * merges, specials), the chat template read from the file and rendered as
 * gotong serve's probe does (gt_chat_prompt), and the model (architecture,
 * hyperparameters, every tensor's name, shape and type, packing), then one
 * short forward pass.
 *
 * Two kinds of input. One starting "GGUF" is the file itself (raw bytes).
 * Any other is a recipe, so that mutations change the structure and not
 * just weight bytes: byte 0 picks one of the tiny valid models of
 * tiny_model.h, and each following 6 bytes are an edit (op, index, a 32-bit
 * value) made while the model is rewritten through gotong's GGUF writer: a
 * metadata value replaced (another type, a near value, an interesting
 * string or float), dropped, an array shortened or an element changed, a
 * tensor reshaped, retyped, renamed, dropped or its bytes set, a key or a
 * tensor added.
 *
 * Oracles: a base rewritten without edits loads; a refusal has a message; a
 * model that loads has hyperparameters its tensors' shapes agree with and a
 * vocabulary the size of its tokenizer's, and evaluates three tokens (a
 * batch of two, then one) without an error; the tokenizer's and the
 * template's ids are inside the vocabulary.
 *
 * GT_FUZZ_MODEL_SEEDS=DIR writes the seed corpus (the bases as files,
 * recipes, near-miss files) into DIR. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/chat_prompt.h"
#include "infer/chat_template.h"
#include "infer/gguf.h"
#include "infer/model.h"
#include "infer/tokenizer.h"
#include "tiny_model.h"

#define MAX_OPS 8
#define OP_BYTES 6
#define MAX_TENSOR_BYTES (1u << 20) /* a reshaped or retyped tensor's data, at most */

#define CHATML "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}" \
               "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
#define GEMMA_TMPL "{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content | trim }}" \
                   "<end_of_turn>\n{% endfor %}<start_of_turn>model\n"

/* The bases: the shapes gotong runs, types of a block of 32 and K-quants. */
static const tiny_spec specs[] = {
    {"llama", 0, GT_TYPE_Q8_0, GT_TYPE_Q8_0, 64, 1, 1, 0, 0, "[INST] {{ messages[0].content }} [/INST]"},
    {"qwen2", 1, GT_TYPE_Q8_0, GT_TYPE_Q4_K, 256, 1, 2, 1, 0, CHATML},
    {"qwen3", 1, GT_TYPE_F16, GT_TYPE_F16, 64, 1, 1, 1, 0, CHATML},
    {"gemma3", 0, GT_TYPE_Q4_0, GT_TYPE_Q6_K, 256, 2, 1, 1, 4, GEMMA_TMPL},
    {"phi3", 0, GT_TYPE_Q8_0, GT_TYPE_Q8_0, 64, 1, 2, 0, 0, NULL},
};
#define N_BASES ((int)TINY_N(specs))

typedef struct base {
    uint8_t *bytes;
    size_t len;
    gt_gguf *g;
} base;
static base bases[N_BASES];

/* Edits, by op % N_OPS; "index" is the key's (or tensor's) index modulo the
 * base's count. */
enum {
    KEY_U32, KEY_I32, KEY_F32, KEY_DROP, KEY_STR, KEY_BOOL, KEY_ARR_LEN, KEY_ARR_ELEM, KEY_NEAR,
    T_SHAPE, T_TYPE, T_DROP, T_RENAME, T_BYTES, ADD_KEY, ADD_TENSOR, N_OPS
};

typedef struct op {
    uint8_t code, idx;
    uint32_t v;
} op;

typedef struct recipe {
    int base, n;
    op ops[MAX_OPS];
} recipe;

static char long_token[5000];
static const char *const strs[] = {
    "llama", "qwen2", "qwen3", "gemma3", "phi3", "gpt2", "mamba2", "", "linear", "none", "yarn", "default",
    "llama3", "gpt-2", "bogus-pre", "<|im_end|>", "<0x41>", "\xe2\x96\x81", "a b", "ab", "H e", "\xff\xfe",
    CHATML, GEMMA_TMPL, "{{ raise_exception('no') }}", "{% for %}", "{{ messages[0].content[1:] }}",
    "{% for i in range(100000) %}{% endfor %}", "<s>", "</s>", "phi-3", long_token};
static const float floats[] = {0.0f, -1.0f, 1.0f, NAN, INFINITY, -INFINITY, 1e-30f, 1e30f, 0.5f,
                               16.5f, 1e6f, 2e6f, 1e-6f, 2e9f, -0.0f, 8.0f};
static const uint32_t types[] = {GT_TYPE_F32, GT_TYPE_F16, GT_TYPE_BF16, GT_TYPE_Q8_0, GT_TYPE_Q4_0, GT_TYPE_Q4_1,
                                 GT_TYPE_Q5_0, GT_TYPE_Q5_1, GT_TYPE_Q2_K, GT_TYPE_Q3_K, GT_TYPE_Q4_K, GT_TYPE_Q5_K,
                                 GT_TYPE_Q6_K, GT_TYPE_Q8_K, GT_TYPE_IQ4_NL, GT_TYPE_IQ4_XS, GT_TYPE_I8,
                                 GT_TYPE_I32, 39, 99};
static const char *const tensor_names[] = {
    "token_embd.weight", "output.weight", "output_norm.weight", "rope_freqs.weight", "rope_factors_long.weight",
    "rope_factors_short.weight", "blk.%u.attn_norm.weight", "blk.%u.attn_q.weight", "blk.%u.attn_k.weight",
    "blk.%u.attn_v.weight", "blk.%u.attn_qkv.weight", "blk.%u.attn_output.weight", "blk.%u.ffn_gate.weight",
    "blk.%u.ffn_up.weight", "blk.%u.ffn_down.weight", "blk.%u.ffn_norm.weight", "blk.%u.attn_q.bias",
    "blk.%u.attn_k.bias", "blk.%u.attn_v.bias", "blk.%u.attn_q_norm.weight", "blk.%u.attn_k_norm.weight",
    "blk.%u.post_attention_norm.weight", "blk.%u.post_ffw_norm.weight", "blk.%u.attn_output.bias"};
static const char *const extra_keys[] = {
    "%s.rope.scaling.type", "%s.rope.scaling.factor", "%s.rope.scale_linear",
    "%s.rope.scaling.original_context_length", "%s.rope.scaling.attn_factor", "%s.rope.freq_base_swa",
    "%s.attention.sliding_window", "%s.attention.sliding_window_pattern", "%s.final_logit_softcapping",
    "%s.attention.key_length", "%s.attention.value_length", "%s.rope.dimension_count", "%s.context_length",
    "general.alignment", "tokenizer.ggml.pre", "tokenizer.ggml.merges", "tokenizer.ggml.scores",
    "tokenizer.chat_template", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.add_bos_token",
    "tokenizer.ggml.add_eos_token", "general.name", "tokenizer.ggml.token_type", "tokenizer.ggml.eom_token_id"};

/* A refusal says why. */
static void refused(const gt_err *err) {
    if (!err->msg[0]) __builtin_trap();
}

/* ---- recipes -------------------------------------------------------------- */

/* Reads a recipe: byte 0 the base, then OP_BYTES per edit. */
static void read_recipe(const uint8_t *d, size_t n, recipe *r) {
    r->base = d[0] % N_BASES;
    r->n = 0;
    for (size_t o = 1; o + OP_BYTES <= n && r->n < MAX_OPS; o += OP_BYTES) {
        op *p = &r->ops[r->n++];
        p->code = d[o] % N_OPS;
        p->idx = d[o + 1];
        memcpy(&p->v, d + o + 2, 4);
    }
}

/* The first edit of r in codes [lo, hi] aimed at item i of n, or NULL. */
static const op *op_for(const recipe *r, int lo, int hi, uint64_t i, uint64_t n) {
    for (int k = 0; k < r->n; k++)
        if (r->ops[k].code >= lo && r->ops[k].code <= hi && n && r->ops[k].idx % n == i) return &r->ops[k];
    return NULL;
}

/* Element i of a string array as a NUL-terminated copy (gt_free). */
static char *arr_str_dup(const gt_gguf_kv *kv, uint64_t i) {
    gt_gguf_str s = gt_gguf_arr_str(kv, i);
    char *c = gt_malloc((size_t)s.len + 1);
    memcpy(c, s.ptr, (size_t)s.len);
    c[s.len] = 0;
    return c;
}

/* The edit's interesting string, as a copy (gt_free). */
static char *arr_str_dup_val(uint32_t v) {
    const char *t = strs[v % TINY_N(strs)];
    size_t n = strlen(t);
    char *c = gt_malloc(n + 1);
    memcpy(c, t, n + 1);
    return c;
}

/* Writes kv's array with n elements (cycling the old ones; element `at`
 * replaced by the edit's value when at < n). */
static void rewrite_array(gt_gguf_writer *w, const char *key, const gt_gguf_kv *kv, uint64_t n, uint64_t at,
                          uint32_t v) {
    if (kv->arr_type == GT_GGUF_STRING) {
        char **s = gt_calloc(n + 1, sizeof *s);
        for (uint64_t i = 0; i < n; i++)
            s[i] = i == at || !kv->arr_len ? arr_str_dup_val(v) : arr_str_dup(kv, i % kv->arr_len);
        gt_gguf_writer_set_arr_str(w, key, (const char *const *)s, n);
        for (uint64_t i = 0; i < n; i++) gt_free(s[i]);
        gt_free(s);
        return;
    }
    size_t eb = gt_gguf_value_bytes(kv->arr_type);
    if (!eb) {
        gt_gguf_writer_copy_kv(w, kv);
        return;
    }
    uint8_t *a = gt_calloc(n + 1, eb);
    for (uint64_t i = 0; i < n && kv->arr_len; i++) memcpy(a + i * eb, kv->data + (i % kv->arr_len) * eb, eb);
    if (at < n) {
        float f = floats[v % TINY_N(floats)];
        int32_t x = (int32_t)(v & 0xff) - 8; /* token types -8..247, ids */
        memcpy(a + at * eb, kv->arr_type == GT_GGUF_F32 ? (const void *)&f : (const void *)&x, eb < 4 ? eb : 4);
    }
    gt_gguf_writer_set_arr(w, key, kv->arr_type, a, n);
    gt_free(a);
}

/* Copies key kv into w, edited by o (may be NULL). */
static void copy_key(gt_gguf_writer *w, const gt_gguf_kv *kv, const op *o) {
    char key[GT_GGUF_MAX_NAME + 1];
    snprintf(key, sizeof key, "%.*s", (int)kv->key.len, kv->key.ptr);
    uint32_t v = o ? o->v : 0;
    switch (o ? o->code : -1) {
    case KEY_U32: gt_gguf_writer_set_u32(w, key, v); break;
    case KEY_I32: gt_gguf_writer_set_i32(w, key, (int32_t)v); break;
    case KEY_F32: gt_gguf_writer_set_f32(w, key, floats[v % TINY_N(floats)]); break;
    case KEY_DROP: break;
    case KEY_STR: gt_gguf_writer_set_str(w, key, strs[v % TINY_N(strs)]); break;
    case KEY_BOOL: gt_gguf_writer_set_bool(w, key, (int)(v & 1)); break;
    case KEY_ARR_LEN:
        if (kv->type != GT_GGUF_ARRAY) gt_gguf_writer_copy_kv(w, kv);
        else rewrite_array(w, key, kv, v % (kv->arr_len + 4), UINT64_MAX, 0);
        break;
    case KEY_ARR_ELEM:
        if (kv->type != GT_GGUF_ARRAY || !kv->arr_len) gt_gguf_writer_copy_kv(w, kv);
        else rewrite_array(w, key, kv, kv->arr_len, (v >> 8) % kv->arr_len, v);
        break;
    case KEY_NEAR: /* a number moved a little: one layer more, a width off by 16 */
        if (kv->type == GT_GGUF_U32 || kv->type == GT_GGUF_I32)
            gt_gguf_writer_set_u32(w, key, (uint32_t)kv->num.u + (uint32_t)(int8_t)(v & 0xff) * ((v & 0x100) ? 16 : 1));
        else gt_gguf_writer_copy_kv(w, kv);
        break;
    default: gt_gguf_writer_copy_kv(w, kv);
    }
}

/* Bytes of a tensor of type t and shape ne (n_dims), or 0 when the shape
 * does not fill whole blocks or is over MAX_TENSOR_BYTES. */
static size_t tensor_bytes(uint32_t t, uint32_t n_dims, const uint64_t *ne) {
    uint32_t be = gt_ggml_block_elems(t), bb = gt_ggml_block_bytes(t);
    if (!be || !bb || !ne[0] || ne[0] % be || ne[0] > MAX_TENSOR_BYTES) return 0;
    uint64_t n = ne[0] / be * bb;
    for (uint32_t d = 1; d < n_dims; d++) {
        if (!ne[d] || ne[d] > MAX_TENSOR_BYTES || n * ne[d] > MAX_TENSOR_BYTES) return 0;
        n *= ne[d];
    }
    return (size_t)n;
}

/* Adds tensor name with shape ne and type t, its bytes from src (n of
 * them; zeros past them). */
static void put_tensor(gt_gguf_writer *w, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t t,
                       const void *src, size_t n) {
    size_t nb = tensor_bytes(t, n_dims, ne);
    if (!nb) return;
    uint8_t *d = gt_calloc(1, nb);
    memcpy(d, src, n < nb ? n : nb);
    gt_gguf_writer_add_tensor(w, name, n_dims, ne, t, d, nb);
    gt_free(d);
}

/* A tensor name from the list (layer (v >> 8) % 4 for per-layer ones). */
static void pick_tensor_name(uint32_t v, char *out, size_t cap) {
    snprintf(out, cap, tensor_names[v % TINY_N(tensor_names)], (v >> 8) % 4);
}

/* Copies tensor t into w, edited by o (may be NULL). */
static void copy_tensor(gt_gguf_writer *w, const gt_gguf_tensor *t, const op *o) {
    char name[GT_GGUF_MAX_NAME + 1];
    snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
    uint64_t ne[GT_GGUF_MAX_DIMS];
    memcpy(ne, t->ne, sizeof ne);
    uint32_t n_dims = t->n_dims, type = t->type, v = o ? o->v : 0;
    uint8_t patch[4];
    switch (o ? o->code : -1) {
    case T_SHAPE: /* one dimension moved, by whole blocks (bit 1) or by one */
        if (n_dims == 1 && (v & 4)) n_dims = 2, ne[1] = 1;
        ne[(v & 1) && n_dims > 1] += (uint64_t)(int64_t)(int8_t)(v >> 8) * ((v & 2) ? 32 : 1);
        break;
    case T_TYPE: type = types[v % TINY_N(types)]; break;
    case T_DROP: return;
    case T_RENAME: pick_tensor_name(v, name, sizeof name); break;
    case T_BYTES: { /* a NaN or infinity (f32, f16 halves) or a huge scale in the bytes */
        static const uint32_t pats[] = {0x7fc00000u, 0x7f800000u, 0xff80ffffu, 0x7c007c00u, 0x7bff7bffu};
        uint32_t pat = pats[(v & 0xff) % TINY_N(pats)];
        memcpy(patch, &pat, 4);
        size_t at = t->nbytes >= 4 ? (v >> 8) % (t->nbytes - 3) : 0;
        uint8_t *d = gt_malloc(t->nbytes + 1);
        memcpy(d, t->data, t->nbytes);
        if (t->nbytes >= 4) memcpy(d + at, patch, 4);
        gt_gguf_writer_add_tensor(w, name, n_dims, ne, type, d, t->nbytes);
        gt_free(d);
        return;
    }
    default: break;
    }
    put_tensor(w, name, n_dims, ne, type, t->data, t->nbytes);
}

/* The additions of r: keys (u32, string, f32 or a 2-element array) and
 * f32 tensors. */
static void add_extras(gt_gguf_writer *w, const recipe *r, const char *arch) {
    for (int k = 0; k < r->n; k++) {
        const op *o = &r->ops[k];
        char name[GT_GGUF_MAX_NAME + 1];
        if (o->code == ADD_KEY) {
            snprintf(name, sizeof name, extra_keys[o->idx % TINY_N(extra_keys)], arch);
            uint32_t x = o->v >> 2, pair[2] = {x, x + 1};
            switch (o->v & 3) {
            case 0: gt_gguf_writer_set_u32(w, name, x); break;
            case 1: gt_gguf_writer_set_str(w, name, strs[x % TINY_N(strs)]); break;
            case 2: gt_gguf_writer_set_f32(w, name, floats[x % TINY_N(floats)]); break;
            default: gt_gguf_writer_set_arr(w, name, GT_GGUF_U32, pair, 2);
            }
        } else if (o->code == ADD_TENSOR) {
            pick_tensor_name((uint32_t)o->idx | (o->v & 0x300), name, sizeof name);
            uint64_t ne[2] = {(o->v >> 16) % 4 ? 32u * ((o->v >> 16) % 4) : 8, 1 + ((o->v >> 24) % 2) * 31};
            put_tensor(w, name, ne[1] > 1 ? 2 : 1, ne, GT_TYPE_F32, "", 0);
        }
    }
}

/* The file of recipe r (a base rewritten with its edits) into *out (gt_free);
 * 0, or non-zero when the writer refused the edits. */
static int apply_recipe(const recipe *r, uint8_t **out, size_t *len) {
    const gt_gguf *g = bases[r->base].g;
    gt_gguf_writer *w = gt_gguf_writer_new();
    for (uint64_t i = 0; i < g->n_kv; i++) copy_key(w, &g->kv[i], op_for(r, KEY_U32, KEY_NEAR, i, g->n_kv));
    for (uint64_t i = 0; i < g->n_tensors; i++)
        copy_tensor(w, &g->tensors[i], op_for(r, T_SHAPE, T_BYTES, i, g->n_tensors));
    add_extras(w, r, specs[r->base].arch);
    gt_err err = {0};
    int rc = gt_gguf_writer_to_mem(w, out, len, &err);
    gt_gguf_writer_free(w);
    return rc;
}

/* ---- the checks ----------------------------------------------------------- */

/* Ids from the tokenizer or the template: inside the vocabulary, each with a piece. */
static void check_ids(const gt_tokenizer *tok, const int32_t *ids, size_t n) {
    size_t len;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= gt_tokenizer_n_vocab(tok) || !gt_token_to_piece(tok, ids[i], 1, &len))
            __builtin_trap();
}

/* The tokenizer on a short text with specials, and back. */
static void check_tokenizer(const gt_tokenizer *tok) {
    static const char text[] = "Hello world<|im_end|>\n\xc3\xa9! <s>";
    int32_t ids[256];
    size_t n = 0;
    gt_err err = {0};
    if (gt_tokenize(tok, text, sizeof text - 1, 1, 1, ids, TINY_N(ids), &n, &err)) {
        refused(&err);
        return;
    }
    check_ids(tok, ids, n);
    gt_buf back = GT_BUF_INIT;
    if (gt_detokenize(tok, ids, n, 1, 1, &back, &err)) __builtin_trap(); /* every id is in range */
    gt_buf_free(&back);
}

/* The file's chat template as gotong serve takes it: read, parsed, and a
 * one-message conversation rendered into ids (chat_tmpl.c's probe). */
static void check_template(const gt_gguf *g, const gt_tokenizer *tok) {
    gt_gguf_str src;
    gt_err err = {0};
    if (!gt_gguf_find(g, "tokenizer.chat_template")) return;
    if (gt_gguf_get_str(g, "tokenizer.chat_template", &src, &err)) {
        refused(&err);
        return;
    }
    gt_chat_tmpl *t = NULL;
    gt_chat_prompt *p = NULL;
    if (gt_chat_tmpl_parse(src.ptr, (size_t)src.len, &t, &err)) {
        refused(&err);
        return;
    }
    if (gt_chat_prompt_new(t, tok, &p, &err)) {
        refused(&err);
    } else {
        json_t *msgs = json_pack("[{s:s,s:s}]", "role", "user", "content", "Hello");
        gt_buf ids = GT_BUF_INIT;
        if (gt_chat_prompt_tokens(p, msgs, NULL, 0, &ids, &err)) refused(&err);
        else check_ids(tok, (const int32_t *)(void *)ids.data, ids.len / sizeof(int32_t));
        gt_buf_free(&ids);
        json_decref(msgs);
    }
    gt_chat_prompt_free(p);
    gt_chat_tmpl_free(t);
}

/* Whether tensor name is in g with shape [ne0] / [ne0, ne1]. */
static int has_shape(const gt_gguf *g, const char *name, uint64_t ne0, uint64_t ne1) {
    const gt_gguf_tensor *t = gt_gguf_find_tensor(g, name);
    if (!t || t->ne[0] != ne0 || (t->n_dims > 1 ? t->ne[1] : 1) != ne1) return 0;
    for (uint32_t d = 2; d < t->n_dims; d++)
        if (t->ne[d] != 1) return 0;
    return 1;
}

/* The hyperparameters the loader reports are in range and agree with every
 * tensor the forward pass reads. */
static void check_shapes(const gt_model *m) {
    const gt_hparams *hp = gt_model_hparams(m);
    const gt_gguf *g = gt_model_gguf(m);
    uint64_t E = (uint64_t)hp->n_embd, V = (uint64_t)hp->n_vocab, Q = (uint64_t)hp->q_dim, F = (uint64_t)hp->n_ff;
    uint64_t KV = (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
    if (hp->n_layer < 1 || hp->n_layer > GT_MODEL_MAX_LAYERS || hp->n_head_kv < 1 || hp->n_head % hp->n_head_kv ||
        hp->head_dim < 16 || hp->head_dim % 16 || Q != (uint64_t)hp->n_head * (uint64_t)hp->head_dim ||
        hp->rope_dims < 2 || hp->rope_dims > hp->head_dim || hp->rope_dims % 2 || E % 32 || F % 32 || V < 1)
        __builtin_trap();
    if (!has_shape(g, "token_embd.weight", E, V) || !has_shape(g, "output_norm.weight", E, 1) ||
        (!hp->tied_output && !has_shape(g, "output.weight", E, V)))
        __builtin_trap();
    for (int il = 0; il < hp->n_layer; il++) {
        char nm[3][64];
        snprintf(nm[0], sizeof nm[0], "blk.%d.attn_output.weight", il);
        snprintf(nm[1], sizeof nm[1], "blk.%d.ffn_down.weight", il);
        snprintf(nm[2], sizeof nm[2], "blk.%d.attn_qkv.weight", il);
        if (!has_shape(g, nm[0], Q, E) || !has_shape(g, nm[1], F, E)) __builtin_trap();
        if (gt_gguf_find_tensor(g, nm[2]) ? !has_shape(g, nm[2], E, Q + 2 * KV) : 0) __builtin_trap();
        snprintf(nm[2], sizeof nm[2], "blk.%d.attn_k.weight", il);
        if (gt_gguf_find_tensor(g, nm[2]) && !has_shape(g, nm[2], E, KV)) __builtin_trap();
    }
}

/* A model that loaded: shapes, the tokenizer's vocabulary size, and three
 * tokens through a small context (a batch of two, then one). */
static void check_model(const gt_model *m, const gt_tokenizer *tok) {
    check_shapes(m);
    const gt_hparams *hp = gt_model_hparams(m);
    if (tok && gt_tokenizer_n_vocab(tok) != hp->n_vocab) __builtin_trap(); /* ids of one would index the other */
    gt_ctx_params cp = {.n_ctx = 4, .n_threads = 1, .n_batch = 2};
    gt_ctx *c = NULL;
    gt_err err = {0};
    if (gt_ctx_new(m, &cp, &c, &err)) __builtin_trap(); /* a 4-position context of a model that fits memory */
    float *logits = gt_malloc(2 * (size_t)hp->n_vocab * sizeof(float));
    int32_t toks[3] = {0, hp->n_vocab - 1, hp->n_vocab / 2};
    if (!logits || gt_ctx_eval(c, toks, 2, 0, logits, GT_EVAL_ALL, &err) ||
        gt_ctx_eval(c, toks + 2, 1, 2, logits, GT_EVAL_LAST, &err))
        __builtin_trap();
    gt_free(logits);
    gt_ctx_free(c);
}

/* One file through everything loading it does; must_load (a base without
 * edits): the tokenizer and the model must load. */
static void check_file(const uint8_t *data, size_t size, int must_load) {
    gt_gguf *g = NULL;
    gt_err err = {0};
    if (gt_gguf_parse(data, size, &g, &err)) {
        refused(&err);
        if (must_load) __builtin_trap();
        return;
    }
    gt_tokenizer *tok = NULL;
    if (gt_tokenizer_load(g, &tok, &err)) {
        refused(&err);
        if (must_load) __builtin_trap();
    } else {
        check_tokenizer(tok);
        check_template(g, tok);
    }
    gt_model *m = NULL;
    gt_err merr = {0};
    if (gt_model_from_gguf(g, &m, &merr)) { /* g is the model's now, closed on failure */
        refused(&merr);
        if (must_load) __builtin_trap();
    } else {
        check_model(m, tok);
    }
    gt_model_free(m);
    gt_tokenizer_free(tok);
}

/* ---- bases and seeds ------------------------------------------------------ */

/* An edit of a seed recipe, its target by name (a key, a tensor, or for
 * additions an entry of extra_keys / tensor_names). */
typedef struct seed_edit {
    int code;
    const char *target;
    uint32_t v;
} seed_edit;

typedef struct seed_recipe {
    const char *name;
    int base, near_miss; /* near_miss: also written as the file it makes */
    seed_edit e[3];
} seed_recipe;

static const seed_recipe seed_recipes[] = {
    {"vocab_more_rows", 1, 1, {{T_SHAPE, "token_embd.weight", 0x101}}},
    {"vocab_tokens_short", 0, 1,
     {{KEY_ARR_LEN, "tokenizer.ggml.tokens", 31}, {KEY_ARR_LEN, "tokenizer.ggml.scores", 31},
      {KEY_ARR_LEN, "tokenizer.ggml.token_type", 31}}},
    {"wrong_shape", 0, 1, {{T_SHAPE, "blk.0.attn_k.weight", 0x101}}},
    {"missing_key", 2, 1, {{KEY_DROP, "qwen3.block_count", 0}}},
    {"head_count_3", 0, 0, {{KEY_U32, "llama.attention.head_count", 3}}},
    {"arch_mamba", 3, 0, {{KEY_STR, "general.architecture", 6}}},
    {"template_raise", 1, 0, {{KEY_STR, "tokenizer.chat_template", 24}}},
    {"token_type_bad", 0, 0, {{KEY_ARR_ELEM, "tokenizer.ggml.token_type", 0x3ff}}},
    {"kquant_retype", 3, 0, {{T_TYPE, "blk.0.ffn_down.weight", 11}}},
    {"rope_yarn", 0, 0, {{ADD_KEY, "%s.rope.scaling.type", (10 << 2) | 1}}},
    {"swa_pattern_array", 3, 0, {{ADD_KEY, "%s.attention.sliding_window_pattern", 3}}},
    {"extra_tensor", 2, 0, {{ADD_TENSOR, "blk.%u.attn_output.bias", 1 << 16}}},
    {"merge_bad", 2, 0, {{KEY_ARR_ELEM, "tokenizer.ggml.merges", (2 << 8) | 19}}},
    {"phi3_layers", 4, 0, {{KEY_NEAR, "phi3.block_count", 1}}},
    {"pre_unknown", 1, 0, {{KEY_STR, "tokenizer.ggml.pre", 14}}},
    {"alignment_64", 0, 0, {{ADD_KEY, "general.alignment", 64 << 2}}},
    {"nan_norm", 3, 0, {{T_BYTES, "blk.1.attn_norm.weight", 0}}},
};

/* Builds and parses the bases once. */
static void init(void) {
    static int done;
    if (done) return;
    done = 1;
    memset(long_token, 'x', sizeof long_token - 1);
    for (int b = 0; b < N_BASES; b++) {
        gt_err err = {0};
        if (tiny_model(&specs[b], &bases[b].bytes, &bases[b].len, &err) ||
            gt_gguf_parse(bases[b].bytes, bases[b].len, &bases[b].g, &err)) {
            fprintf(stderr, "fuzz_model_load: base %d: %s\n", b, err.msg);
            __builtin_trap();
        }
    }
}

/* Whether a name in the file is s. */
static int same_name(gt_gguf_str n, const char *s) {
    return n.len == strlen(s) && !memcmp(n.ptr, s, n.len);
}

/* The index of a seed edit's target (see seed_edit); traps on a name not there. */
static uint8_t seed_index(const gt_gguf *g, const seed_edit *e) {
    const char *const *list = e->code == ADD_KEY ? extra_keys : tensor_names;
    size_t n = e->code == ADD_KEY ? TINY_N(extra_keys) : TINY_N(tensor_names);
    if (e->code == ADD_KEY || e->code == ADD_TENSOR) {
        for (size_t i = 0; i < n; i++)
            if (!strcmp(list[i], e->target)) return (uint8_t)i;
    } else if (e->code >= T_SHAPE) {
        for (uint64_t i = 0; i < g->n_tensors; i++)
            if (same_name(g->tensors[i].name, e->target)) return (uint8_t)i;
    } else {
        for (uint64_t i = 0; i < g->n_kv; i++)
            if (same_name(g->kv[i].key, e->target)) return (uint8_t)i;
    }
    fprintf(stderr, "fuzz_model_load: seed target %s not found\n", e->target);
    __builtin_trap();
}

/* Writes n bytes to dir/name. */
static void write_seed(const char *dir, const char *name, const void *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) __builtin_trap();
    fclose(f);
}

/* The seed corpus into dir: each base as a file and as a one-byte recipe,
 * the seed recipes, and the files of the near-miss ones. */
static void write_seeds(const char *dir) {
    char name[128];
    for (int b = 0; b < N_BASES; b++) {
        uint8_t r = (uint8_t)b;
        snprintf(name, sizeof name, "base_%s.gguf", specs[b].arch);
        write_seed(dir, name, bases[b].bytes, bases[b].len);
        snprintf(name, sizeof name, "recipe_%s", specs[b].arch);
        write_seed(dir, name, &r, 1);
    }
    for (size_t s = 0; s < TINY_N(seed_recipes); s++) {
        const seed_recipe *sr = &seed_recipes[s];
        uint8_t buf[1 + 3 * OP_BYTES] = {(uint8_t)sr->base};
        size_t n = 1;
        for (int k = 0; k < 3 && sr->e[k].target; k++, n += OP_BYTES) {
            buf[n] = (uint8_t)sr->e[k].code;
            buf[n + 1] = seed_index(bases[sr->base].g, &sr->e[k]);
            memcpy(buf + n + 2, &sr->e[k].v, 4);
        }
        snprintf(name, sizeof name, "recipe_%s", sr->name);
        write_seed(dir, name, buf, n);
        recipe r;
        uint8_t *file = NULL;
        size_t len = 0;
        read_recipe(buf, n, &r);
        if (sr->near_miss && !apply_recipe(&r, &file, &len)) {
            snprintf(name, sizeof name, "near_%s.gguf", sr->name);
            write_seed(dir, name, file, len);
        }
        gt_free(file);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    init();
    static int seeds_written;
    if (!seeds_written++ && getenv("GT_FUZZ_MODEL_SEEDS")) write_seeds(getenv("GT_FUZZ_MODEL_SEEDS"));
    if (size >= 4 && !memcmp(data, "GGUF", 4)) {
        check_file(data, size, 0);
        return 0;
    }
    if (size < 1) return 0;
    recipe r;
    uint8_t *file = NULL;
    size_t len = 0;
    read_recipe(data, size, &r);
    if (!apply_recipe(&r, &file, &len)) check_file(file, len, r.n == 0);
    else if (r.n == 0) __builtin_trap(); /* a base rewritten unchanged */
    gt_free(file);
    return 0;
}
