/* bpe.c: training a byte-level BPE vocabulary and writing it as GGUF
 * tokenizer metadata (see bpe.h). */
#include "train/bpe.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/gguf.h"

#define EOT_TEXT "<|endoftext|>"

/* --- a map of byte strings to ints (open addressing, FNV-1a) --------------- */

typedef struct smap {
    const uint8_t **key;
    uint32_t *klen;
    int32_t *val;
    size_t cap, n; /* cap a power of two; n < cap / 2 */
} smap;

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void smap_free(smap *m) { gt_free(m->key), gt_free(m->klen), gt_free(m->val), memset(m, 0, sizeof *m); }

/* The slot of key (found, or the empty one where it goes). */
static size_t smap_slot(const smap *m, const uint8_t *k, size_t n) {
    size_t i = (size_t)fnv1a(k, n) & (m->cap - 1);
    while (m->key[i] && !(m->klen[i] == n && !memcmp(m->key[i], k, n))) i = (i + 1) & (m->cap - 1);
    return i;
}

static int smap_grow(smap *m) {
    smap g = {.cap = m->cap ? m->cap * 2 : 1024};
    g.key = gt_calloc(g.cap, sizeof *g.key), g.klen = gt_calloc(g.cap, sizeof *g.klen);
    g.val = gt_calloc(g.cap, sizeof *g.val);
    if (!g.key || !g.klen || !g.val) return smap_free(&g), GT_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->key[i]) {
            size_t j = smap_slot(&g, m->key[i], m->klen[i]);
            g.key[j] = m->key[i], g.klen[j] = m->klen[i], g.val[j] = m->val[i];
        }
    g.n = m->n;
    smap_free(m);
    *m = g;
    return 0;
}

/* The value of key, or -1. */
static int32_t smap_get(const smap *m, const uint8_t *k, size_t n) {
    if (!m->cap) return -1;
    size_t i = smap_slot(m, k, n);
    return m->key[i] ? m->val[i] : -1;
}

/* Adds key (kept by reference: it must outlive the map) with val. */
static int smap_put(smap *m, const uint8_t *k, size_t n, int32_t val) {
    if ((m->n + 1) * 2 > m->cap && smap_grow(m)) return GT_ENOMEM;
    size_t i = smap_slot(m, k, n);
    assert(!m->key[i]);
    m->key[i] = k, m->klen[i] = (uint32_t)n, m->val[i] = val, m->n++;
    return 0;
}

/* --- a map of token pairs to counts ------------------------------------------- */

typedef struct pmap {
    uint64_t *key; /* a << 32 | b, plus 1 so that 0 marks an empty slot */
    int64_t *count;
    size_t cap, n;
} pmap;

static size_t pmap_slot(const pmap *m, uint64_t k) {
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & (m->cap - 1);
    while (m->key[i] && m->key[i] != k) i = (i + 1) & (m->cap - 1);
    return i;
}

static int pmap_grow(pmap *m) {
    pmap g = {.cap = m->cap ? m->cap * 2 : 4096};
    g.key = gt_calloc(g.cap, sizeof *g.key), g.count = gt_calloc(g.cap, sizeof *g.count);
    if (!g.key || !g.count) return gt_free(g.key), gt_free(g.count), GT_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->key[i]) {
            size_t j = pmap_slot(&g, m->key[i]);
            g.key[j] = m->key[i], g.count[j] = m->count[i];
        }
    g.n = m->n;
    gt_free(m->key), gt_free(m->count);
    *m = g;
    return 0;
}

/* Adds delta to the count of pair (a, b). Entries that fall to 0 stay. */
static int pmap_add(pmap *m, int32_t a, int32_t b, int64_t delta) {
    if ((m->n + 1) * 2 > m->cap && pmap_grow(m)) return GT_ENOMEM;
    uint64_t k = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
    size_t i = pmap_slot(m, k);
    if (!m->key[i]) m->key[i] = k, m->n++;
    m->count[i] += delta;
    assert(m->count[i] >= 0);
    return 0;
}

/* --- pieces of the corpus ---------------------------------------------------------- */

/* 0 whitespace, 1 letter (bytes of UTF-8 sequences count as letters), 2
 * digit, 3 anything else: the classes of the gpt2 pre-tokenizer's regex,
 * read byte-wise. */
static int byte_class(uint8_t c) {
    if (c == ' ' || (c >= '\t' && c <= '\r')) return 0;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return 1;
    if (c >= 0x80) return 1;
    if (c >= '0' && c <= '9') return 2;
    return 3;
}

/* The length of the piece starting at text[i]: a run of whitespace (less
 * its last byte when a non-space follows: that byte, a space, leads the next
 * piece; another is a piece of its own), or an optional space and a run of
 * one class. At most GT_BPE_MAX_PIECE bytes. */
static size_t piece_len(const uint8_t *text, size_t len, size_t i) {
    size_t j = i;
    if (byte_class(text[i]) == 0) {
        while (j < len && byte_class(text[j]) == 0) j++;
        size_t n = j == len ? j - i : j - i > 1 ? j - 1 - i : text[i] != ' ' ? 1 : 0;
        if (n) return n > GT_BPE_MAX_PIECE ? GT_BPE_MAX_PIECE : n;
        j = i + 1; /* a single space before a run leads it */
    }
    int cls = byte_class(text[j]);
    while (j < len && byte_class(text[j]) == cls && j - i < GT_BPE_MAX_PIECE) j++;
    return j - i;
}

/* The training state: distinct pieces as token sequences with counts. */
typedef struct bpe_state {
    size_t n_words;
    int32_t *sym;     /* all words' symbols, word w at sym + start[w] */
    size_t *start;
    uint32_t *wlen;
    int64_t *wcount;
    pmap pairs;
    smap tokens;      /* token bytes -> id, for merges that make a string already made */
} bpe_state;

/* Counts the distinct pieces of text into st's words. */
static int collect_words(bpe_state *st, const uint8_t *text, size_t len, gt_err *err) {
    smap seen = {0};
    size_t cap = 0, total = 0;
    int rc = 0;
    const uint8_t **wtext = NULL;
    for (size_t i = 0; i < len && !rc;) {
        size_t n = piece_len(text, len, i);
        int32_t w = smap_get(&seen, text + i, n);
        if (w < 0) {
            if (st->n_words == GT_BPE_MAX_DISTINCT) {
                rc = gt_err_set(err, GT_ELIMIT, "more than %u distinct pieces", GT_BPE_MAX_DISTINCT);
                break;
            }
            if (st->n_words == cap) {
                cap = cap ? cap * 2 : 1024;
                const uint8_t **t = gt_realloc(wtext, cap * sizeof *t);
                uint32_t *l = gt_realloc(st->wlen, cap * sizeof *l);
                int64_t *c = l ? gt_realloc(st->wcount, cap * sizeof *c) : NULL;
                if (t) wtext = t;
                if (l) st->wlen = l;
                if (c) st->wcount = c;
                if (!t || !l || !c) { rc = gt_err_set(err, GT_ENOMEM, "out of memory"); break; }
            }
            w = (int32_t)st->n_words++;
            wtext[w] = text + i, st->wlen[w] = (uint32_t)n, st->wcount[w] = 0, total += n;
            if (smap_put(&seen, text + i, n, w)) { rc = gt_err_set(err, GT_ENOMEM, "out of memory"); break; }
        }
        st->wcount[w]++;
        i += n;
    }
    st->sym = rc ? NULL : gt_malloc((total ? total : 1) * sizeof(int32_t));
    st->start = rc ? NULL : gt_malloc((st->n_words ? st->n_words : 1) * sizeof(size_t));
    if (!rc && (!st->sym || !st->start)) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    for (size_t w = 0, at = 0; w < st->n_words && !rc; at += st->wlen[w], w++) {
        st->start[w] = at;
        for (uint32_t k = 0; k < st->wlen[w]; k++) st->sym[at + k] = wtext[w][k];
    }
    gt_free(wtext);
    smap_free(&seen);
    return rc;
}

/* Adds (sign +1) or removes (-1) the pairs of word w to the pair counts. */
static int count_word(bpe_state *st, size_t w, int sign) {
    const int32_t *s = st->sym + st->start[w];
    for (uint32_t k = 0; k + 1 < st->wlen[w]; k++)
        if (pmap_add(&st->pairs, s[k], s[k + 1], sign * st->wcount[w])) return GT_ENOMEM;
    return 0;
}

/* The most frequent pair (ties: the lowest key); its count, 0 when none. */
static int64_t best_pair(const pmap *m, int32_t *a, int32_t *b) {
    int64_t best = 0;
    uint64_t bk = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->key[i] && (m->count[i] > best || (m->count[i] == best && best > 0 && m->key[i] < bk)))
            best = m->count[i], bk = m->key[i];
    if (best) *a = (int32_t)((bk - 1) >> 32), *b = (int32_t)(uint32_t)(bk - 1);
    return best;
}

/* Replaces every (a, b) in the words by c, left to right, keeping the pair
 * counts true. */
static int apply_merge(bpe_state *st, int32_t a, int32_t b, int32_t c) {
    for (size_t w = 0; w < st->n_words; w++) {
        int32_t *s = st->sym + st->start[w];
        uint32_t n = st->wlen[w], k = 0;
        while (k + 1 < n && !(s[k] == a && s[k + 1] == b)) k++;
        if (k + 1 >= n) continue;
        if (count_word(st, w, -1)) return GT_ENOMEM;
        uint32_t out = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (i + 1 < n && s[i] == a && s[i + 1] == b) s[out++] = c, i++;
            else s[out++] = s[i];
        }
        st->wlen[w] = out;
        if (count_word(st, w, +1)) return GT_ENOMEM;
    }
    return 0;
}

/* --- the vocabulary ----------------------------------------------------------------- */

void gt_bpe_free(gt_bpe_vocab *v) {
    if (!v) return;
    for (int i = 0; v->bytes && i < v->n_tokens; i++) gt_free(v->bytes[i]);
    gt_free(v->bytes), gt_free(v->len), gt_free(v->merges), gt_free(v->merged);
    memset(v, 0, sizeof *v);
}

/* Appends a token of bytes p[0..n) (copied); its id. */
static int32_t add_token(gt_bpe_vocab *v, const uint8_t *p, size_t n) {
    uint8_t *b = gt_malloc(n ? n : 1);
    if (!b) return -1;
    memcpy(b, p, n);
    v->bytes[v->n_tokens] = b, v->len[v->n_tokens] = (uint32_t)n;
    return v->n_tokens++;
}

/* Makes the token of merge (a, b) (or finds the same string already made)
 * and records the merge; its id, or -1 out of memory. */
static int32_t make_merge(gt_bpe_vocab *v, bpe_state *st, int32_t a, int32_t b) {
    uint8_t buf[2 * GT_BPE_MAX_PIECE];
    size_t n = v->len[a] + v->len[b];
    assert(n <= sizeof buf);
    memcpy(buf, v->bytes[a], v->len[a]);
    memcpy(buf + v->len[a], v->bytes[b], v->len[b]);
    int32_t c = smap_get(&st->tokens, buf, n);
    if (c < 0 && ((c = add_token(v, buf, n)) < 0 || smap_put(&st->tokens, v->bytes[c], n, c))) return -1;
    v->merges[v->n_merges][0] = a, v->merges[v->n_merges][1] = b, v->merged[v->n_merges++] = c;
    return c;
}

/* Merges until n_vocab tokens (with <|endoftext|>) or no pair occurs twice. */
static int train_merges(gt_bpe_vocab *v, bpe_state *st, int n_vocab, gt_progress *pr, gt_err *err) {
    for (size_t w = 0; w < st->n_words; w++)
        if (count_word(st, w, +1)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (int i = 0; i < 256; i++) {
        uint8_t byte = (uint8_t)i;
        if (add_token(v, &byte, 1) < 0 || smap_put(&st->tokens, v->bytes[i], 1, i))
            return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    while (v->n_tokens + 1 < n_vocab && v->n_merges < n_vocab) {
        int32_t a = 0, b = 0;
        if (best_pair(&st->pairs, &a, &b) < 2) break;
        int32_t c = make_merge(v, st, a, b);
        if (c < 0 || apply_merge(st, a, b, c)) return gt_err_set(err, GT_ENOMEM, "out of memory");
        if (pr) gt_progress_update(pr, (uint64_t)v->n_merges);
    }
    v->eot = add_token(v, (const uint8_t *)EOT_TEXT, strlen(EOT_TEXT));
    return v->eot < 0 ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
}

int gt_bpe_train(const uint8_t *text, size_t len, int n_vocab, gt_bpe_vocab *out, gt_err *err) {
    return gt_bpe_train_progress(text, len, n_vocab, NULL, out, err);
}

int gt_bpe_train_progress(const uint8_t *text, size_t len, int n_vocab, gt_progress *pr, gt_bpe_vocab *out,
                          gt_err *err) {
    memset(out, 0, sizeof *out);
    if (n_vocab < (int)GT_BPE_MIN_VOCAB || n_vocab > GT_BPE_MAX_VOCAB)
        return gt_err_set(err, GT_EINVAL, "a vocabulary of %d tokens: expected %u..%u", n_vocab, GT_BPE_MIN_VOCAB,
                          GT_BPE_MAX_VOCAB);
    if (len > GT_BPE_MAX_CORPUS)
        return gt_err_set(err, GT_ELIMIT, "a corpus of %zu bytes: expected at most %u", len, GT_BPE_MAX_CORPUS);
    bpe_state st = {0};
    out->bytes = gt_calloc((size_t)n_vocab, sizeof *out->bytes);
    out->len = gt_calloc((size_t)n_vocab, sizeof *out->len);
    out->merges = gt_calloc((size_t)n_vocab, sizeof *out->merges);
    out->merged = gt_calloc((size_t)n_vocab, sizeof *out->merged);
    int rc = out->bytes && out->len && out->merges && out->merged ? 0 : gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) rc = collect_words(&st, text, len, err);
    if (!rc) rc = train_merges(out, &st, n_vocab, pr, err);
    if (pr) gt_progress_finish(pr);
    gt_free(st.sym), gt_free(st.start), gt_free(st.wlen), gt_free(st.wcount);
    gt_free(st.pairs.key), gt_free(st.pairs.count);
    smap_free(&st.tokens);
    if (rc) gt_bpe_free(out);
    return rc;
}

/* --- the GGUF file -------------------------------------------------------------------- */

/* GPT-2's spelling of a byte: printable bytes (! to ~, ¡ to ¬, ® to ÿ) as
 * the code point of the same number, the other 68 as U+0100 onwards in
 * byte order. Writes its UTF-8 (2 bytes at most) into out; the length. */
static int byte_utf8(uint8_t b, char *out) {
    unsigned cp = b;
    if (!((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE))) {
        unsigned n = 0;
        for (unsigned x = 0; x < b; x++) n += !((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE);
        cp = 256 + n;
    }
    if (cp < 0x80) return out[0] = (char)cp, 1;
    out[0] = (char)(0xC0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

/* Token i's text as the file spells it (NUL-terminated; caller frees with
 * gt_free): its bytes in GPT-2's spelling, the special token as it is. */
static char *token_text(const gt_bpe_vocab *v, int i) {
    char *s = gt_malloc((size_t)v->len[i] * 2 + 1);
    if (!s) return NULL;
    size_t n = 0;
    if (i == v->eot) memcpy(s, v->bytes[i], v->len[i]), n = v->len[i];
    else
        for (uint32_t k = 0; k < v->len[i]; k++) n += (size_t)byte_utf8(v->bytes[i][k], s + n);
    s[n] = 0;
    return s;
}

/* The token texts, types and merges ("LEFT RIGHT") as the writer takes them. */
static int set_vocab_arrays(gt_gguf_writer *w, const gt_bpe_vocab *v) {
    char **tok = gt_calloc((size_t)v->n_tokens, sizeof *tok), **mer = gt_calloc((size_t)v->n_merges + 1, sizeof *mer);
    int32_t *type = gt_calloc((size_t)v->n_tokens, sizeof *type);
    int rc = tok && mer && type ? 0 : GT_ENOMEM;
    for (int i = 0; i < v->n_tokens && !rc; i++) {
        type[i] = i == v->eot ? 3 : 1; /* control, normal (llama.cpp's token types) */
        if (!(tok[i] = token_text(v, i))) rc = GT_ENOMEM;
    }
    for (int k = 0; k < v->n_merges && !rc; k++) {
        const char *a = tok[v->merges[k][0]], *b = tok[v->merges[k][1]];
        size_t la = strlen(a), lb = strlen(b);
        if (!(mer[k] = gt_malloc(la + lb + 2))) rc = GT_ENOMEM;
        else memcpy(mer[k], a, la), mer[k][la] = ' ', memcpy(mer[k] + la + 1, b, lb + 1);
    }
    if (!rc) rc = gt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok, (size_t)v->n_tokens);
    if (!rc) rc = gt_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GT_GGUF_I32, type, (size_t)v->n_tokens);
    if (!rc) rc = gt_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)mer, (size_t)v->n_merges);
    for (int i = 0; tok && i < v->n_tokens; i++) gt_free(tok[i]);
    for (int k = 0; mer && k < v->n_merges; k++) gt_free(mer[k]);
    gt_free(tok), gt_free(mer), gt_free(type);
    return rc;
}

int gt_bpe_write_gguf(const gt_bpe_vocab *v, const char *name, const char *path, gt_err *err) {
    gt_gguf_writer *w = gt_gguf_writer_new();
    if (!w) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_gguf_writer_set_str(w, "general.name", name ? name : "gotong-bpe");
    gt_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
    gt_gguf_writer_set_str(w, "tokenizer.ggml.pre", "gpt-2");
    gt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)v->eot);
    gt_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)v->eot);
    gt_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 1);
    gt_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", 0);
    int rc = set_vocab_arrays(w, v);
    rc = rc ? gt_err_set(err, rc, "out of memory writing %d tokens", v->n_tokens) : gt_gguf_writer_write(w, path, err);
    gt_gguf_writer_free(w);
    return rc;
}
