/* tokenizer.c: loading a vocabulary from GGUF metadata, SentencePiece-style
 * tokenization, pieces and detokenization (special tokens are cut out of
 * text in tokenizer_special.c, byte-level BPE is in tokenizer_bpe.c).
 *
 * The rules follow llama.cpp's tokenizer so that a prompt gives the same ids
 * (the tests hold us to llama.cpp's own test cases): which tokens count as
 * special, the order they are cut out in, where the SentencePiece space
 * prefix goes, how merges are ordered and how ties break, and what the
 * defaults for BOS/EOS are when the file does not say. */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/tokenizer_impl.h"
#include "infer/unicode.h"

/* ---- small containers ---------------------------------------------------- */

int gt_tokvec_push(gt_tokvec *tv, int32_t id) {
    if (tv->n == tv->cap) {
        size_t cap = tv->cap ? 2 * tv->cap : 64;
        int32_t *v = gt_realloc(tv->v, cap * sizeof *v);
        if (!v) return GT_ENOMEM;
        tv->v = v;
        tv->cap = cap;
    }
    tv->v[tv->n++] = id;
    return 0;
}

/* FNV-1a, continued from h (so a pair can be hashed as two calls). */
uint64_t gt_tok_hash(const char *s, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

int gt_tok_heap_push(gt_tok_heap *h, gt_tok_bigram b) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        gt_tok_bigram *v = gt_realloc(h->v, cap * sizeof *v);
        if (!v) return GT_ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        gt_tok_bigram *q = &h->v[p];
        if (q->key < b.key || (q->key == b.key && q->left <= b.left)) break;
        h->v[i] = *q;
        i = p;
    }
    h->v[i] = b;
    return 0;
}

/* Lower key first, then lower left: the order llama.cpp's queues pop in. */
static int bigram_less(const gt_tok_bigram *a, const gt_tok_bigram *b) {
    return a->key < b->key || (a->key == b->key && a->left < b->left);
}

gt_tok_bigram gt_tok_heap_pop(gt_tok_heap *h) {
    assert(h->n > 0);
    gt_tok_bigram top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && bigram_less(&h->v[c + 1], &h->v[c])) c++;
        if (!bigram_less(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

/* ---- the vocabulary table ---------------------------------------------- */

int32_t gt_tok_find(const gt_tokenizer *tok, const char *s, size_t n) {
    uint64_t h = gt_tok_hash(s, n, GT_TOK_HASH_SEED);
    for (uint32_t i = (uint32_t)h & tok->vocab.mask;; i = (i + 1) & tok->vocab.mask) {
        int32_t id = tok->vocab.slots[i];
        if (id < 0) return -1;
        if (tok->text_len[id] == n && !memcmp(tok->text + tok->text_off[id], s, n)) return id;
    }
}

/* Builds the text -> id table; a later token with the same text replaces the
 * earlier one, as llama.cpp's map assignment does. Empty texts are not
 * entered (nothing can match them). */
static int build_vocab_table(gt_tokenizer *tok) {
    uint32_t cap = 16;
    while (cap < 2u * (uint32_t)tok->n_vocab) cap <<= 1;
    tok->vocab.slots = gt_malloc(cap * sizeof(int32_t));
    if (!tok->vocab.slots) return GT_ENOMEM;
    memset(tok->vocab.slots, 0xff, cap * sizeof(int32_t));
    tok->vocab.mask = cap - 1;
    for (int32_t id = 0; id < tok->n_vocab; id++) {
        const char *s = tok->text + tok->text_off[id];
        size_t n = tok->text_len[id];
        if (!n) continue;
        uint64_t h = gt_tok_hash(s, n, GT_TOK_HASH_SEED);
        for (uint32_t i = (uint32_t)h & tok->vocab.mask;; i = (i + 1) & tok->vocab.mask) {
            int32_t o = tok->vocab.slots[i];
            if (o < 0 || (tok->text_len[o] == n && !memcmp(tok->text + tok->text_off[o], s, n))) {
                tok->vocab.slots[i] = id;
                break;
            }
        }
    }
    return 0;
}

/* ---- loading ------------------------------------------------------------- */

/* Fetches an optional array key of the expected element type and length.
 * *kv is NULL when absent. */
static int opt_array(const gt_gguf *g, const char *key, uint32_t type, int32_t n,
                     const gt_gguf_kv **kv, gt_err *err) {
    *kv = gt_gguf_find(g, key);
    if (!*kv) return 0;
    if ((*kv)->type != GT_GGUF_ARRAY || (*kv)->arr_type != type)
        return gt_err_set(err, GT_EINVAL, "%s must be an array of %s", key, gt_gguf_vtype_name(type));
    if (n >= 0 && (*kv)->arr_len != (uint64_t)n)
        return gt_err_set(err, GT_EINVAL, "%s has %llu entries; the vocabulary has %d", key,
                          (unsigned long long)(*kv)->arr_len, (int)n);
    return 0;
}

/* Reads an optional token id key into *id when it is present and in range
 * (llama.cpp ignores out-of-range ids and keeps its default). */
static int opt_id(const gt_gguf *g, const char *key, int32_t n_vocab, int32_t *id, gt_err *err) {
    uint32_t v;
    int rc = gt_gguf_get_u32(g, key, &v, err);
    if (rc == GT_ENOTFOUND) return 0;
    if (rc) return rc;
    if (v < (uint32_t)n_vocab) *id = (int32_t)v;
    return 0;
}

static int opt_bool(const gt_gguf *g, const char *key, int *v, gt_err *err) {
    int rc = gt_gguf_get_bool(g, key, v, err);
    return rc == GT_ENOTFOUND ? 0 : rc;
}

/* Reads the "<0xAB>" byte of a byte token, or -1. */
static int byte_of_token(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Computes what each token prints as (see gt_token_to_piece). */
static int build_pieces(gt_tokenizer *tok) {
    gt_buf b = GT_BUF_INIT;
    tok->piece_off = gt_malloc((size_t)tok->n_vocab * sizeof(uint32_t));
    tok->piece_len = gt_malloc((size_t)tok->n_vocab * sizeof(uint32_t));
    if (!tok->piece_off || !tok->piece_len) return GT_ENOMEM;
    for (int32_t id = 0; id < tok->n_vocab; id++) {
        const char *s = tok->text + tok->text_off[id];
        size_t n = tok->text_len[id];
        size_t start = b.len;
        int rc = 0;
        int a = tok->attr[id];
        if (a == GT_TOKEN_USER_DEFINED || a == GT_TOKEN_CONTROL || a == GT_TOKEN_UNKNOWN) {
            rc = gt_buf_append(&b, s, n); /* control/unknown print only when asked */
        } else if (a == GT_TOKEN_NORMAL && tok->type == GT_TOK_SPM) {
            for (size_t i = 0; i < n && !rc; i++) {
                if (i + 3 <= n && !memcmp(s + i, "\xe2\x96\x81", 3)) {
                    rc = gt_buf_putc(&b, ' ');
                    i += 2;
                } else {
                    rc = gt_buf_putc(&b, (uint8_t)s[i]);
                }
            }
        } else if (a == GT_TOKEN_BYTE && tok->type == GT_TOK_SPM) {
            int v = byte_of_token(s, n);
            if (v >= 0) rc = gt_buf_putc(&b, (uint8_t)v);
        } else if (a == GT_TOKEN_NORMAL) { /* byte-level BPE: map code points back to bytes */
            size_t i = 0;
            while (i < n && !rc) {
                uint32_t cp;
                size_t k = gt_utf8_decode((const uint8_t *)s + i, n - i, &cp);
                int byte = k && cp < 512 ? tok->cp_byte[cp] : -1;
                if (!k) k = 1;
                /* outside the alphabet: keep the text as it is */
                rc = byte >= 0 ? gt_buf_putc(&b, (uint8_t)byte) : gt_buf_append(&b, s + i, k);
                i += k;
            }
        }
        if (rc) {
            gt_buf_free(&b);
            return GT_ENOMEM;
        }
        tok->piece_off[id] = (uint32_t)start;
        tok->piece_len[id] = (uint32_t)(b.len - start);
    }
    if (gt_buf_putc(&b, 0)) {
        gt_buf_free(&b);
        return GT_ENOMEM;
    }
    tok->piece = (char *)gt_buf_take(&b, NULL);
    return 0;
}

/* Sort key for special tokens: longest text first, then lower id (a fixed
 * order for equal lengths, where llama.cpp's std::sort leaves it open). */
typedef struct len_id {
    uint32_t len;
    int32_t id;
} len_id;

static int by_len_desc(const void *a, const void *b) {
    const len_id *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Texts llama.cpp (v0.5.0's llama-vocab.cpp) treats as end of turn / end
 * of generation when present, making them control tokens whatever the file
 * says (Qwen's vocabulary has "</s>" as a normal token, for one). */
#define DEEPSEEK_EOS "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>"
static const char *const eot_texts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                        "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", DEEPSEEK_EOS,
                                        "<end_of_utterance>", NULL};
static const char *const eog_texts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
                                        "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>",
                                        "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
                                        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
                                        DEEPSEEK_EOS, "[e~[", NULL};
/* Fill-in-the-middle texts: control tokens too; the pad, repo and file
 * separator ones also end generation (llama.cpp's FIM_PAD/REP/SEP). */
static const char *const fim_texts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
    "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>",
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>",
    "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>",
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>",
    "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL};
static const char *const fim_eog_texts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
                                            "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
                                            "<reponame>", "<|file_sep|>", NULL};

static int add_eog(gt_tokenizer *tok, int32_t id) {
    if (id < 0) return 0;
    for (size_t i = 0; i < tok->n_eog; i++)
        if (tok->eog[i] == id) return 0;
    int32_t *e = gt_realloc(tok->eog, (tok->n_eog + 1) * sizeof *e);
    if (!e) return GT_ENOMEM;
    tok->eog = e;
    tok->eog[tok->n_eog++] = id;
    return 0;
}

/* llama.cpp's rule keyed on the model's name: in a Phi-3 model
 * (general.name holding "phi-3" or "phi3", any case) white space right of a
 * special token is stripped, except after <unk>, <s> and <|endoftext|>; "</s>"
 * strips too. tok->specials must be set. */
static int load_rstrip(gt_tokenizer *tok, const gt_gguf *g, gt_err *err) {
    tok->rstrip = gt_calloc((size_t)tok->n_vocab, 1);
    if (!tok->rstrip) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_gguf_str name;
    if (gt_gguf_get_str(g, "general.name", &name, NULL)) return 0;
    char low[256];
    size_t n = name.len < sizeof low - 1 ? (size_t)name.len : sizeof low - 1;
    for (size_t i = 0; i < n; i++) low[i] = (char)tolower((unsigned char)name.ptr[i]);
    low[n] = 0;
    if (!strstr(low, "phi-3") && !strstr(low, "phi3")) return 0;
    for (size_t i = 0; i < tok->n_specials; i++) tok->rstrip[tok->specials[i]] = 1;
    static const char *const set[] = {"</s>"}, *const unset[] = {"<unk>", "<s>", "<|endoftext|>"};
    int32_t id = gt_tok_find(tok, set[0], strlen(set[0]));
    if (id >= 0) tok->rstrip[id] = 1;
    for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++)
        if ((id = gt_tok_find(tok, unset[i], strlen(unset[i]))) >= 0) tok->rstrip[id] = 0;
    return 0;
}

/* Special ids, defaults and the end-of-generation set. */
static int load_specials(gt_tokenizer *tok, const gt_gguf *g, gt_err *err) {
    int rc;
    tok->eot = tok->eom = -1;
    if ((rc = opt_id(g, "tokenizer.ggml.bos_token_id", tok->n_vocab, &tok->bos, err)) ||
        (rc = opt_id(g, "tokenizer.ggml.eos_token_id", tok->n_vocab, &tok->eos, err)) ||
        (rc = opt_id(g, "tokenizer.ggml.unknown_token_id", tok->n_vocab, &tok->unk, err)) ||
        (rc = opt_id(g, "tokenizer.ggml.eot_token_id", tok->n_vocab, &tok->eot, err)) ||
        (rc = opt_id(g, "tokenizer.ggml.eom_token_id", tok->n_vocab, &tok->eom, err)) ||
        (rc = opt_bool(g, "tokenizer.ggml.add_bos_token", &tok->add_bos, err)) ||
        (rc = opt_bool(g, "tokenizer.ggml.add_eos_token", &tok->add_eos, err)) ||
        (rc = opt_bool(g, "tokenizer.ggml.add_space_prefix", &tok->add_space_prefix, err)))
        return rc;
    /* tokens found by their text are control tokens, whatever the file says */
    if (tok->eot < 0)
        for (int i = 0; eot_texts[i] && tok->eot < 0; i++)
            if ((tok->eot = gt_tok_find(tok, eot_texts[i], strlen(eot_texts[i]))) >= 0)
                tok->attr[tok->eot] = GT_TOKEN_CONTROL;
    if (tok->eom < 0 && (tok->eom = gt_tok_find(tok, "<|eom_id|>", 10)) >= 0)
        tok->attr[tok->eom] = GT_TOKEN_CONTROL;
    if ((rc = add_eog(tok, tok->eos)) || (rc = add_eog(tok, tok->eot)) ||
        (rc = add_eog(tok, tok->eom)))
        return gt_err_set(err, rc, "out of memory");
    for (int i = 0; fim_texts[i]; i++) {
        int32_t id = gt_tok_find(tok, fim_texts[i], strlen(fim_texts[i]));
        if (id >= 0) tok->attr[id] = GT_TOKEN_CONTROL;
    }
    for (int list = 0; list < 2; list++)
        for (const char *const *t = list ? fim_eog_texts : eog_texts; *t; t++) {
            int32_t id = gt_tok_find(tok, *t, strlen(*t));
            if (id < 0) continue;
            tok->attr[id] = GT_TOKEN_CONTROL;
            if ((rc = add_eog(tok, id))) return gt_err_set(err, rc, "out of memory");
        }

    len_id *sp = gt_malloc((size_t)tok->n_vocab * sizeof *sp);
    tok->specials = gt_malloc((size_t)tok->n_vocab * sizeof(int32_t));
    if (!sp || !tok->specials) {
        gt_free(sp);
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    for (int32_t id = 0; id < tok->n_vocab; id++) {
        int a = tok->attr[id];
        if ((a == GT_TOKEN_CONTROL || a == GT_TOKEN_USER_DEFINED || a == GT_TOKEN_UNKNOWN) &&
            tok->text_len[id] > 0)
            sp[tok->n_specials++] = (len_id){tok->text_len[id], id};
    }
    qsort(sp, tok->n_specials, sizeof *sp, by_len_desc);
    for (size_t i = 0; i < tok->n_specials; i++) tok->specials[i] = sp[i].id;
    gt_free(sp);
    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        tok->byte_token[b] = gt_tok_find(tok, hex, 6);
        if (tok->byte_token[b] < 0) { /* fall back to the byte itself as a token */
            char c = (char)b;
            tok->byte_token[b] = gt_tok_find(tok, &c, 1);
        }
    }
    return 0;
}

/* Copies the vocabulary texts, scores and types out of the file. */
static int load_vocab(gt_tokenizer *tok, const gt_gguf *g, gt_err *err) {
    const gt_gguf_kv *tk, *sc, *ty;
    int rc = opt_array(g, "tokenizer.ggml.tokens", GT_GGUF_STRING, -1, &tk, err);
    if (rc) return rc;
    if (!tk) return gt_err_set(err, GT_EINVAL, "no vocabulary: tokenizer.ggml.tokens is missing");
    if (tk->arr_len == 0 || tk->arr_len > GT_TOKENIZER_MAX_VOCAB)
        return gt_err_set(err, GT_ELIMIT, "tokenizer.ggml.tokens has %llu entries; expected 1..%u",
                          (unsigned long long)tk->arr_len, (unsigned)GT_TOKENIZER_MAX_VOCAB);
    tok->n_vocab = (int32_t)tk->arr_len;
    if ((rc = opt_array(g, "tokenizer.ggml.scores", GT_GGUF_F32, tok->n_vocab, &sc, err)) ||
        (rc = opt_array(g, "tokenizer.ggml.token_type", GT_GGUF_I32, tok->n_vocab, &ty, err)))
        return rc;
    size_t n = (size_t)tok->n_vocab, total = 0;
    for (size_t i = 0; i < n; i++) {
        gt_gguf_str s = gt_gguf_arr_str(tk, i);
        if (s.len > GT_TOKENIZER_MAX_TOKEN_BYTES)
            return gt_err_set(err, GT_ELIMIT, "token %zu is %llu bytes long; at most %u accepted",
                              i, (unsigned long long)s.len, (unsigned)GT_TOKENIZER_MAX_TOKEN_BYTES);
        total += (size_t)s.len;
    }
    tok->text = gt_malloc(total + 1);
    tok->text_off = gt_malloc(n * sizeof(uint32_t));
    tok->text_len = gt_malloc(n * sizeof(uint32_t));
    tok->scores = gt_calloc(n, sizeof(float));
    tok->attr = gt_malloc(n);
    if (!tok->text || !tok->text_off || !tok->text_len || !tok->scores || !tok->attr)
        return gt_err_set(err, GT_ENOMEM, "out of memory loading the vocabulary");
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        gt_gguf_str s = gt_gguf_arr_str(tk, i);
        memcpy(tok->text + off, s.ptr, (size_t)s.len);
        tok->text_off[i] = (uint32_t)off;
        tok->text_len[i] = (uint32_t)s.len;
        off += (size_t)s.len;
        if (sc) memcpy(&tok->scores[i], (const uint8_t *)sc->data + 4 * i, 4);
        int32_t t = GT_TOKEN_NORMAL;
        if (ty) memcpy(&t, (const uint8_t *)ty->data + 4 * i, 4);
        tok->attr[i] = (uint8_t)(t >= GT_TOKEN_UNDEFINED && t <= GT_TOKEN_BYTE ? t : GT_TOKEN_UNDEFINED);
    }
    tok->text[off] = 0;
    if (build_vocab_table(tok)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* The most bytes one token of gt_tokenize's output can stand for
 * (gt_tokenize_min_tokens), counted in input bytes for SentencePiece and in
 * bytes of BPE's byte-level alphabet (gt_tok_bpe_mapped_len) for BPE:
 *   - a special token cut out of the text stands for its text and, when
 *     marked rstrip, for white space after it (any amount: the bound then
 *     counts only the other bytes);
 *   - SentencePiece: a token's vocabulary text is the escaped input it
 *     covers, and escaping only lengthens text (a space becomes 3 bytes, a
 *     prefix space is added), so a token covers at most the longest
 *     vocabulary text in input bytes; byte fallback covers one byte per
 *     token, or none when the byte has no token and there is no unknown
 *     token: then no bound holds (0);
 *   - BPE: a merged token covers its vocabulary text, which is in the
 *     byte-level alphabet already; a special token covers its text mapped
 *     to it; the fallback to single-byte tokens covers one byte each, but
 *     drops bytes unless every byte's code point and every merge's result
 *     is a token (else 0).
 * BOS/EOS only add tokens, so they are left out. */
static void set_cover(gt_tokenizer *tok) {
    size_t longest = 1;
    for (int32_t id = 0; id < tok->n_vocab; id++) {
        size_t n = tok->text_len[id];
        if (tok->type == GT_TOK_BPE && tok->attr[id] != GT_TOKEN_NORMAL) { /* cut out of raw text: mapped */
            size_t mapped = gt_tok_bpe_mapped_len(tok, tok->text + tok->text_off[id], n, 0);
            n = mapped > n ? mapped : n; /* and as itself, should a merge spell it */
        }
        if (n > longest) longest = n;
        tok->any_rstrip |= tok->rstrip[id];
    }
    int lossless = 1;
    if (tok->type == GT_TOK_SPM)
        for (int b = 0; b < 256 && lossless; b++) lossless = tok->byte_token[b] >= 0 || tok->unk >= 0;
    else
        lossless = gt_tok_bpe_lossless(tok);
    tok->max_cover = lossless ? longest : 0;
}

int gt_tokenizer_load(const gt_gguf *g, gt_tokenizer **out, gt_err *err) {
    *out = NULL;
    gt_gguf_str model, pre = {"default", 7};
    int rc = gt_gguf_get_str(g, "tokenizer.ggml.model", &model, err);
    if (rc == GT_ENOTFOUND)
        return gt_err_set(err, GT_EINVAL, "no tokenizer: tokenizer.ggml.model is missing");
    if (rc) return rc;
    rc = gt_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err);
    if (rc == GT_ENOTFOUND) pre = (gt_gguf_str){"default", 7};
    else if (rc) return rc;
    int type = model.len == 5 && !memcmp(model.ptr, "llama", 5) ? GT_TOK_SPM
             : model.len == 4 && !memcmp(model.ptr, "gpt2", 4)  ? GT_TOK_BPE : 0;
    if (!type)
        return gt_err_set(err, GT_EUNSUPPORTED, "tokenizer model \"%.*s\" is not supported "
                          "(\"llama\" and \"gpt2\" are)", model.len > 32 ? 32 : (int)model.len,
                          model.ptr);
    gt_tokenizer *tok = gt_calloc(1, sizeof *tok);
    if (!tok) return gt_err_set(err, GT_ENOMEM, "out of memory");
    tok->type = type;
    snprintf(tok->model, sizeof tok->model, "%.*s", (int)model.len, model.ptr);
    snprintf(tok->pre, sizeof tok->pre, "%.*s", pre.len > 63 ? 63 : (int)pre.len, pre.ptr);
    if ((rc = load_vocab(tok, g, err))) goto fail;
    for (int b = 0; b < 256; b++) tok->byte_cp[b] = gt_unicode_byte_to_cp((uint8_t)b);
    for (uint32_t cp = 0; cp < 512; cp++) tok->cp_byte[cp] = (int16_t)gt_unicode_cp_to_byte(cp);
    if (type == GT_TOK_SPM) {
        tok->bos = 1, tok->eos = 2, tok->unk = 0;
        tok->add_bos = 1, tok->add_space_prefix = 1;
    } else {
        tok->bos = 11, tok->eos = 11, tok->unk = -1;
        if ((rc = gt_tok_bpe_load(tok, g, err))) goto fail; /* may set add_bos (llama3) */
    }
    if (tok->bos >= tok->n_vocab) tok->bos = -1;
    if (tok->eos >= tok->n_vocab) tok->eos = -1;
    if (tok->unk >= tok->n_vocab) tok->unk = -1;
    if ((rc = load_specials(tok, g, err)) || (rc = load_rstrip(tok, g, err))) goto fail;
    if (build_pieces(tok)) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        goto fail;
    }
    set_cover(tok);
    *out = tok;
    return 0;
fail:
    gt_tokenizer_free(tok);
    gt_err_wrap(err, "tokenizer");
    return rc;
}

void gt_tokenizer_free(gt_tokenizer *tok) {
    if (!tok) return;
    gt_tok_bpe_free(tok);
    gt_free(tok->text);
    gt_free(tok->text_off);
    gt_free(tok->text_len);
    gt_free(tok->scores);
    gt_free(tok->attr);
    gt_free(tok->piece);
    gt_free(tok->piece_off);
    gt_free(tok->piece_len);
    gt_free(tok->vocab.slots);
    gt_free(tok->specials);
    gt_free(tok->rstrip);
    gt_free(tok->eog);
    gt_free(tok);
}

/* ---- SentencePiece-style ------------------------------------------------- */

/* Queues the merge of symbols left and right when their text is a token. */
static int spm_try_bigram(const gt_tokenizer *tok, gt_tok_sym *sym, int left, int right,
                          gt_tok_heap *h) {
    if (left < 0 || right < 0) return 0;
    size_t n = sym[left].n + sym[right].n;
    int32_t id = gt_tok_find(tok, sym[left].text, n);
    if (id < 0) return 0;
    return gt_tok_heap_push(h, (gt_tok_bigram){-(double)tok->scores[id], left, right, n});
}

/* Tokenizes text (already escaped: spaces as U+2581): characters are merged
 * pairwise, best-scoring pair first (leftmost on ties); what is not a token
 * at the end is spelled in byte tokens. */
static int spm_encode(const gt_tokenizer *tok, const char *text, size_t len, gt_tokvec *out) {
    if (!len) return 0;
    gt_tok_sym *sym = gt_malloc(len * sizeof *sym);
    gt_tok_heap h = {0};
    int rc = GT_ENOMEM;
    if (!sym) return rc;
    int n = 0;
    for (size_t off = 0; off < len; n++) {
        size_t k = gt_utf8_len((uint8_t)text[off]);
        if (k > len - off) k = len - off;
        sym[n] = (gt_tok_sym){text + off, k, n - 1, off + k == len ? -1 : n + 1};
        off += k;
    }
    for (int i = 1; i < n; i++)
        if (spm_try_bigram(tok, sym, i - 1, i, &h)) goto done;
    while (h.n) {
        gt_tok_bigram bg = gt_tok_heap_pop(&h);
        gt_tok_sym *l = &sym[bg.left], *r = &sym[bg.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != bg.size) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = bg.left;
        if (spm_try_bigram(tok, sym, l->prev, bg.left, &h) ||
            spm_try_bigram(tok, sym, bg.left, l->next, &h))
            goto done;
    }
    for (int i = 0; i != -1; i = sym[i].next) {
        int32_t id = gt_tok_find(tok, sym[i].text, sym[i].n);
        if (id >= 0) {
            if (gt_tokvec_push(out, id)) goto done;
            continue;
        }
        for (size_t j = 0; j < sym[i].n; j++) {
            int32_t bt = tok->byte_token[(uint8_t)sym[i].text[j]];
            if (bt < 0) bt = tok->unk;
            if (bt >= 0 && gt_tokvec_push(out, bt)) goto done;
        }
    }
    rc = 0;
done:
    gt_free(sym);
    gt_free(h.v);
    return rc;
}

/* Escapes a fragment for SentencePiece (optional leading space, every space
 * as U+2581) into buf. */
static int spm_escape(const char *s, size_t n, int prefix_space, gt_buf *buf) {
    gt_buf_reset(buf);
    if (prefix_space && gt_buf_append(buf, "\xe2\x96\x81", 3)) return GT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = s[i] == ' ' ? gt_buf_append(buf, "\xe2\x96\x81", 3) : gt_buf_putc(buf, (uint8_t)s[i]);
        if (rc) return GT_ENOMEM;
    }
    return 0;
}

/* ---- the public entry points -------------------------------------------- */

size_t gt_tokenize_min_tokens(const gt_tokenizer *tok, const char *text, size_t len) {
    if (!tok->max_cover) return 0;
    size_t counted = len; /* set_cover's unit: input bytes, or BPE's mapped bytes */
    if (tok->type == GT_TOK_BPE) counted = gt_tok_bpe_mapped_len(tok, text, len, tok->any_rstrip);
    else if (tok->any_rstrip) /* white space may vanish after a special token (set_cover) */
        for (size_t i = 0; i < len; i++) counted -= text[i] && strchr(" \t\n\v\f\r", text[i]) != NULL;
    return (counted + tok->max_cover - 1) / tok->max_cover;
}

/* Tokenizes text into tv (as gt_tokenize), stopping with GT_ELIMIT once tv
 * holds more than max ids (after the fragment or BPE word that passed it). */
static int tokenize_vec(const gt_tokenizer *tok, const char *text, size_t len, int add_special, int parse_special,
                        size_t max, gt_tokvec *tv, gt_err *err) {
    gt_tok_fragvec fv = {0};
    gt_buf esc = GT_BUF_INIT;
    int rc = 0;
    if (add_special && tok->add_bos && tok->bos >= 0) rc = gt_tokvec_push(tv, tok->bos);
    if (!rc && len) rc = gt_tok_partition(tok, text, len, parse_special, &fv);
    int prev_special = 1; /* SentencePiece: a space goes before the first text */
    for (size_t i = 0; i < fv.n && !rc; i++) {
        gt_tok_frag f = fv.v[i];
        if (f.id >= 0) {
            rc = gt_tokvec_push(tv, f.id);
            prev_special = 1;
        } else if (tok->type == GT_TOK_SPM) {
            rc = spm_escape(text + f.off, f.len, tok->add_space_prefix && prev_special, &esc);
            if (!rc) rc = spm_encode(tok, (const char *)esc.data, esc.len, tv);
            prev_special = 0;
        } else {
            rc = gt_tok_bpe_encode(tok, text + f.off, f.len, max, tv, err);
        }
        if (!rc && tv->n > max) rc = GT_ELIMIT;
    }
    if (!rc && add_special && tok->add_eos && tok->eos >= 0) rc = gt_tokvec_push(tv, tok->eos);
    if (!rc && tv->n > max) rc = GT_ELIMIT;
    gt_free(fv.v);
    gt_buf_free(&esc);
    if (rc == GT_ENOMEM) return gt_err_set(err, rc, "out of memory tokenizing %zu bytes", len);
    return rc;
}

int gt_tokenize(const gt_tokenizer *tok, const char *text, size_t len, int add_special,
                int parse_special, int32_t *out, size_t cap, size_t *n_out, gt_err *err) {
    *n_out = 0;
    if (len > GT_TOKENIZER_MAX_TEXT_BYTES)
        return gt_err_set(err, GT_ELIMIT, "text to tokenize is %zu bytes; at most %u accepted",
                          len, (unsigned)GT_TOKENIZER_MAX_TEXT_BYTES);
    gt_tokvec tv = {0};
    int rc = tokenize_vec(tok, text, len, add_special, parse_special, SIZE_MAX, &tv, err);
    if (rc) {
        gt_free(tv.v);
        return rc;
    }
    *n_out = tv.n;
    if (tv.n > cap) {
        gt_free(tv.v);
        return gt_err_set(err, GT_ELIMIT, "the text is %zu tokens; room for %zu", *n_out, cap);
    }
    if (tv.n) memcpy(out, tv.v, tv.n * sizeof *out);
    gt_free(tv.v);
    return 0;
}

int gt_tokenize_max(const gt_tokenizer *tok, const char *text, size_t len, int add_special, int parse_special,
                    size_t max_tokens, gt_buf *ids, size_t *n_out, gt_err *err) {
    *n_out = 0;
    if (len > GT_TOKENIZER_MAX_TEXT_BYTES)
        return gt_err_set(err, GT_ELIMIT, "text to tokenize is %zu bytes; at most %u accepted",
                          len, (unsigned)GT_TOKENIZER_MAX_TEXT_BYTES);
    size_t least = gt_tokenize_min_tokens(tok, text, len);
    if (least > max_tokens) { /* too long whatever its tokens: nothing tokenized */
        *n_out = least;
        return gt_err_set(err, GT_ELIMIT, "the text is at least %zu tokens; at most %zu allowed", least, max_tokens);
    }
    gt_tokvec tv = {0};
    int rc = tokenize_vec(tok, text, len, add_special, parse_special, max_tokens, &tv, err);
    if (rc == GT_ELIMIT) {
        assert(tv.n > max_tokens);
        *n_out = tv.n;
        gt_free(tv.v);
        return gt_err_set(err, GT_ELIMIT, "the text is more than %zu tokens; at most %zu allowed", max_tokens,
                          max_tokens);
    }
    if (!rc && tv.n && gt_buf_append(ids, tv.v, tv.n * sizeof *tv.v))
        rc = gt_err_set(err, GT_ENOMEM, "out of memory tokenizing %zu bytes", len);
    if (!rc) *n_out = tv.n;
    gt_free(tv.v);
    return rc;
}

const char *gt_token_to_piece(const gt_tokenizer *tok, int32_t id, int special, size_t *len) {
    *len = 0;
    if (id < 0 || id >= tok->n_vocab) return NULL;
    int a = tok->attr[id];
    if (!special && (a == GT_TOKEN_CONTROL || a == GT_TOKEN_UNKNOWN)) return "";
    *len = tok->piece_len[id];
    return tok->piece + tok->piece_off[id];
}

int gt_detokenize(const gt_tokenizer *tok, const int32_t *ids, size_t n, int remove_special,
                  int unparse_special, gt_buf *out, gt_err *err) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= tok->n_vocab)
            return gt_err_set(err, GT_EINVAL, "token %zu is id %d; the vocabulary has 0..%d", i,
                              (int)ids[i], (int)tok->n_vocab - 1);
    /* llama.cpp: the SentencePiece prefix space is dropped from the first
     * piece unless a BOS was stripped before it. */
    int remove_space = tok->add_space_prefix;
    if (remove_special && tok->add_bos && n > 0 && ids[0] == tok->bos) {
        remove_space = 0;
        ids++;
        n--;
    }
    if (remove_special && tok->add_eos && n > 0 && ids[n - 1] == tok->eos) n--;
    size_t start = out->len;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *p = gt_token_to_piece(tok, ids[i], unparse_special, &len);
        if (remove_space && len && p[0] == ' ') {
            p++;
            len--;
        }
        remove_space = 0;
        if (gt_buf_append(out, p, len)) {
            out->len = start;
            return gt_err_set(err, GT_ENOMEM, "out of memory");
        }
    }
    return 0;
}

const char *gt_token_text(const gt_tokenizer *tok, int32_t id, size_t *len) {
    *len = 0;
    if (id < 0 || id >= tok->n_vocab) return NULL;
    *len = tok->text_len[id];
    return tok->text + tok->text_off[id];
}

int gt_token_attr(const gt_tokenizer *tok, int32_t id) {
    return id >= 0 && id < tok->n_vocab ? tok->attr[id] : GT_TOKEN_UNDEFINED;
}

int gt_token_rstrip(const gt_tokenizer *tok, int32_t id) {
    return id >= 0 && id < tok->n_vocab && tok->rstrip[id];
}

int32_t gt_tokenizer_find(const gt_tokenizer *tok, const char *text, size_t len) {
    return len ? gt_tok_find(tok, text, len) : -1;
}

int32_t gt_tokenizer_n_vocab(const gt_tokenizer *tok) { return tok->n_vocab; }
int32_t gt_tokenizer_bos(const gt_tokenizer *tok) { return tok->bos; }
int32_t gt_tokenizer_eos(const gt_tokenizer *tok) { return tok->eos; }
int32_t gt_tokenizer_eot(const gt_tokenizer *tok) { return tok->eot; }
int gt_tokenizer_add_bos(const gt_tokenizer *tok) { return tok->add_bos && tok->bos >= 0; }
int gt_tokenizer_add_eos(const gt_tokenizer *tok) { return tok->add_eos && tok->eos >= 0; }
const char *gt_tokenizer_model(const gt_tokenizer *tok) { return tok->model; }
const char *gt_tokenizer_pre(const gt_tokenizer *tok) { return tok->pre; }

int gt_tokenizer_is_eog(const gt_tokenizer *tok, int32_t id) {
    for (size_t i = 0; i < tok->n_eog; i++)
        if (tok->eog[i] == id) return 1;
    return 0;
}
