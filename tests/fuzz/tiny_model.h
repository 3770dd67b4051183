/* tiny_model.h: tiny valid model files made with gotong's GGUF writer, for
 * fuzz_model_load's bases and seeds: llama, qwen2, qwen3, gemma3 and phi3
 * shapes at width 32 (two heads of 16), a SentencePiece or byte-level BPE
 * vocabulary of a few dozen tokens, a chat template, weights of a chosen
 * type (a K-quant ffn_down needs n_ff 256, its block) from a fixed
 * generator. A few KiB to ~40 KiB each, so a fuzzer runs thousands a second. */
#ifndef GT_FUZZ_TINY_MODEL_H
#define GT_FUZZ_TINY_MODEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/gguf.h"
#include "infer/quantize.h"

#define TINY_EMBD 32
#define TINY_HEAD_DIM 16

typedef struct tiny_spec {
    const char *arch;       /* llama, qwen2, qwen3, gemma3, phi3 */
    int bpe;                /* 1: byte-level BPE vocabulary (gpt2); 0: SentencePiece (llama) */
    uint32_t type;          /* the matrices' type (block of 32) */
    uint32_t down_type;     /* ffn_down's: a K-quant when n_ff is 256 */
    int n_ff, n_layer, n_head_kv, tied, swa;
    const char *chat_template; /* NULL: none */
} tiny_spec;

/* The SentencePiece vocabulary: specials, pieces, byte tokens; types as GGUF numbers them. */
static const char *const tiny_spm_tokens[] = {
    "<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<start_of_turn>", "<end_of_turn>", "\xe2\x96\x81",
    "\xe2\x96\x81H", "H", "e", "l", "o", "i", "\xe2\x96\x81w", "w", "r", "d", "ll", "\xe2\x96\x81Hello", "user",
    "<0x0A>", "<0x20>", "<0x21>", "<0x3C>", "<0x3E>", "<0x7C>", "<0xC3>", "<0xA9>", "a", "s", "t"};
static const int32_t tiny_spm_types[] = {2, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                         1, 1, 1, 1, 6, 6, 6, 6, 6, 6, 6, 6, 1, 1, 1};
/* The byte-level BPE vocabulary (U+0120 is a space, U+010A a newline) and its merges. */
static const char *const tiny_bpe_tokens[] = {
    "H", "e", "l", "o", "i", "w", "r", "d", "\xc4\xa0", "\xc4\x8a", "<", ">", "|", "_", "a", "s", "t", "u",
    "He", "ll", "Hell", "Hello", "\xc4\xa0w", "or", "\xc4\xa0wor", "<|endoftext|>", "<|im_start|>", "<|im_end|>"};
static const int32_t tiny_bpe_types[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                         1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3};
static const char *const tiny_bpe_merges[] = {"H e", "l l", "He ll", "Hell o", "\xc4\xa0 w", "o r", "\xc4\xa0w or"};

#define TINY_N(a) (sizeof a / sizeof a[0])

/* The next value of a fixed generator: uniform in [-0.1, 0.1). */
static float tiny_rand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffffff) / 16777216.0f * 0.2f - 0.1f;
}

/* Adds a ne0 x ne1 tensor of generated values (norms: near 1) in type. */
static void tiny_tensor(gt_gguf_writer *w, const char *name, uint64_t ne0, uint64_t ne1, uint32_t type,
                        int norm) {
    static uint64_t seed = 1;
    size_t row = gt_ggml_row_bytes(type, ne0);
    uint8_t *data = gt_calloc(1, row * ne1 + 1);
    float *vals = gt_malloc(ne0 * sizeof(float));
    for (uint64_t r = 0; r < ne1; r++) {
        for (uint64_t i = 0; i < ne0; i++) vals[i] = tiny_rand(&seed) + (norm ? 1.0f : 0.0f);
        gt_quantize_row(type, vals, data + r * row, (int64_t)ne0);
    }
    uint64_t ne[2] = {ne0, ne1};
    gt_gguf_writer_add_tensor(w, name, ne1 > 1 ? 2 : 1, ne, type, data, row * ne1);
    gt_free(vals);
    gt_free(data);
}

/* The tokenizer keys: vocabulary, scores, types, merges, specials, template. */
static void tiny_vocab(gt_gguf_writer *w, const tiny_spec *s) {
    size_t n = s->bpe ? TINY_N(tiny_bpe_tokens) : TINY_N(tiny_spm_tokens);
    float scores[64];
    for (size_t i = 0; i < n; i++) scores[i] = -(float)i;
    gt_gguf_writer_set_str(w, "tokenizer.ggml.model", s->bpe ? "gpt2" : "llama");
    gt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", s->bpe ? tiny_bpe_tokens : tiny_spm_tokens, n);
    gt_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GT_GGUF_I32, s->bpe ? tiny_bpe_types : tiny_spm_types, n);
    if (s->bpe) {
        gt_gguf_writer_set_str(w, "tokenizer.ggml.pre", !strcmp(s->arch, "qwen2") ? "qwen2" : "default");
        gt_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", tiny_bpe_merges, TINY_N(tiny_bpe_merges));
        gt_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 27);
        gt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 25);
        gt_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 0);
    } else {
        gt_gguf_writer_set_arr(w, "tokenizer.ggml.scores", GT_GGUF_F32, scores, n);
        gt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
        gt_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
        gt_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
        gt_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", strcmp(s->arch, "gemma3") != 0);
    }
    if (s->chat_template) gt_gguf_writer_set_str(w, "tokenizer.chat_template", s->chat_template);
}

/* The architecture's hyperparameters, as llama.cpp names them. */
static void tiny_hparams(gt_gguf_writer *w, const tiny_spec *s) {
    char key[96];
#define TKEY(suffix) (snprintf(key, sizeof key, "%s.%s", s->arch, suffix), key)
    gt_gguf_writer_set_str(w, "general.architecture", s->arch);
    gt_gguf_writer_set_str(w, "general.name", !strcmp(s->arch, "phi3") ? "tiny phi3" : "tiny");
    gt_gguf_writer_set_u32(w, TKEY("context_length"), 64);
    gt_gguf_writer_set_u32(w, TKEY("embedding_length"), TINY_EMBD);
    gt_gguf_writer_set_u32(w, TKEY("block_count"), (uint32_t)s->n_layer);
    gt_gguf_writer_set_u32(w, TKEY("feed_forward_length"), (uint32_t)s->n_ff);
    gt_gguf_writer_set_u32(w, TKEY("attention.head_count"), TINY_EMBD / TINY_HEAD_DIM);
    gt_gguf_writer_set_u32(w, TKEY("attention.head_count_kv"), (uint32_t)s->n_head_kv);
    gt_gguf_writer_set_f32(w, TKEY("attention.layer_norm_rms_epsilon"), 1e-6f);
    gt_gguf_writer_set_f32(w, TKEY("rope.freq_base"), 10000.0f);
    gt_gguf_writer_set_u32(w, TKEY("rope.dimension_count"), TINY_HEAD_DIM);
    if (s->swa) {
        gt_gguf_writer_set_u32(w, TKEY("attention.sliding_window"), (uint32_t)s->swa);
        gt_gguf_writer_set_u32(w, TKEY("attention.sliding_window_pattern"), 2);
        gt_gguf_writer_set_f32(w, TKEY("final_logit_softcapping"), 30.0f);
    }
#undef TKEY
}

/* One layer's tensors, in llama.cpp's names. */
static void tiny_layer(gt_gguf_writer *w, const tiny_spec *s, int il) {
    char nm[64];
    int E = TINY_EMBD, kv = s->n_head_kv * TINY_HEAD_DIM, qwen3 = !strcmp(s->arch, "qwen3");
    int gemma = !strcmp(s->arch, "gemma3"), phi3 = !strcmp(s->arch, "phi3");
#define BLK(suffix) (snprintf(nm, sizeof nm, "blk.%d.%s", il, suffix), nm)
    tiny_tensor(w, BLK("attn_norm.weight"), E, 1, GT_TYPE_F32, 1);
    if (phi3) tiny_tensor(w, BLK("attn_qkv.weight"), E, E + 2 * kv, s->type, 0);
    else {
        tiny_tensor(w, BLK("attn_q.weight"), E, E, s->type, 0);
        tiny_tensor(w, BLK("attn_k.weight"), E, kv, s->type, 0);
        tiny_tensor(w, BLK("attn_v.weight"), E, kv, s->type, 0);
    }
    if (!strcmp(s->arch, "qwen2")) {
        tiny_tensor(w, BLK("attn_q.bias"), E, 1, GT_TYPE_F32, 0);
        tiny_tensor(w, BLK("attn_k.bias"), kv, 1, GT_TYPE_F32, 0);
        tiny_tensor(w, BLK("attn_v.bias"), kv, 1, GT_TYPE_F32, 0);
    }
    if (qwen3 || gemma) {
        tiny_tensor(w, BLK("attn_q_norm.weight"), TINY_HEAD_DIM, 1, GT_TYPE_F32, 1);
        tiny_tensor(w, BLK("attn_k_norm.weight"), TINY_HEAD_DIM, 1, GT_TYPE_F32, 1);
    }
    tiny_tensor(w, BLK("attn_output.weight"), E, E, s->type, 0);
    if (gemma) tiny_tensor(w, BLK("post_attention_norm.weight"), E, 1, GT_TYPE_F32, 1);
    tiny_tensor(w, BLK("ffn_norm.weight"), E, 1, GT_TYPE_F32, 1);
    if (!phi3) tiny_tensor(w, BLK("ffn_gate.weight"), E, s->n_ff, s->type, 0);
    tiny_tensor(w, BLK("ffn_up.weight"), E, phi3 ? 2 * s->n_ff : s->n_ff, s->type, 0);
    tiny_tensor(w, BLK("ffn_down.weight"), s->n_ff, E, s->down_type, 0);
    if (gemma) tiny_tensor(w, BLK("post_ffw_norm.weight"), E, 1, GT_TYPE_F32, 1);
#undef BLK
}

/* The whole file of s into *out (gt_free); 0 or the writer's error. */
static int tiny_model(const tiny_spec *s, uint8_t **out, size_t *len, gt_err *err) {
    gt_gguf_writer *w = gt_gguf_writer_new();
    int n_vocab = (int)(s->bpe ? TINY_N(tiny_bpe_tokens) : TINY_N(tiny_spm_tokens));
    tiny_hparams(w, s);
    tiny_vocab(w, s);
    tiny_tensor(w, "token_embd.weight", TINY_EMBD, (uint64_t)n_vocab, s->type, 0);
    tiny_tensor(w, "output_norm.weight", TINY_EMBD, 1, GT_TYPE_F32, 1);
    if (!s->tied) tiny_tensor(w, "output.weight", TINY_EMBD, (uint64_t)n_vocab, s->type, 0);
    for (int il = 0; il < s->n_layer; il++) tiny_layer(w, s, il);
    int rc = gt_gguf_writer_to_mem(w, out, len, err);
    gt_gguf_writer_free(w);
    return rc;
}

#endif
