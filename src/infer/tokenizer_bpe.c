/* tokenizer_bpe.c: byte-level BPE (tokenizer.ggml.model = "gpt2").
 *
 * A fragment of text is made valid UTF-8 (llama.cpp turns undecodable bytes
 * into U+FFFD), split into pieces by the pre-tokenizer's regexes (PCRE2 with
 * UTF and Unicode properties; each regex splits the pieces the previous one
 * made, and text between matches stays a piece of its own), each piece's
 * bytes are mapped to GPT-2's printable alphabet, and adjacent symbols are
 * merged lowest merge rank first (leftmost on ties) while a merge applies.
 *
 * The regexes are the ones llama.cpp runs for each tokenizer.ggml.pre (its
 * rewrite of each model's tokenizer.json pattern); \s is widened to include
 * U+0085, which Unicode and llama.cpp count as white space and PCRE2's \s
 * does not. */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/tokenizer_impl.h"
#include "infer/unicode.h"

#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RE_LLAMA3_HEAD "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
#define RE_LLAMA3_TAIL "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

typedef struct pre_def {
    const char *names; /* '|'-separated tokenizer.ggml.pre values */
    int ignore_merges, add_bos;
    const char *re[GT_TOK_MAX_REGEX];
} pre_def;

static const pre_def pre_defs[] = {
    {"default|", 0, 0,
     {"[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"}},
    {"gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v1-en|jina-v2-es|jina-v2-de|jina-v2-code|"
     "roberta-bpe|mpt|olmo|jais|a.x-4.0|mellum|trillion|granite-docling", 0, 0, {RE_GPT2}},
    {"llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|midm-2.0|lfm2", 1, 1,
     {RE_LLAMA3_HEAD "\\p{N}{1,3}" RE_LLAMA3_TAIL}},
    {"dbrx|smaug-bpe", 0, 0, {RE_LLAMA3_HEAD "\\p{N}{1,3}" RE_LLAMA3_TAIL}},
    {"qwen2|deepseek-r1-qwen|kormo|stablelm2", 0, 0, {RE_LLAMA3_HEAD "\\p{N}" RE_LLAMA3_TAIL}},
    {"starcoder|refact|command-r|smollm|codeshell|exaone|minerva-7b", 0, 0, {"\\p{N}", RE_GPT2}},
};

/* Whether name is one of the '|'-separated names. */
static int name_in(const char *name, const char *names) {
    size_t n = strlen(name);
    for (const char *p = names;;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == n && !memcmp(p, name, n)) return 1;
        if (!bar) return 0;
        p = bar + 1;
    }
}

/* Rewrites \s as [\s\x{85}] (inside a class: \s\x{85}) and \S as
 * [^\s\x{85}] into out (cap bytes). */
static int widen_space(const char *re, char *out, size_t cap) {
    size_t o = 0;
    int in_class = 0;
    for (const char *p = re; *p; p++) {
        const char *add = NULL;
        char one[3] = {p[0], 0, 0};
        if (p[0] == '\\' && p[1]) {
            one[1] = p[1];
            add = one;
            if (p[1] == 's') add = in_class ? "\\s\\x{85}" : "[\\s\\x{85}]";
            else if (p[1] == 'S' && !in_class) add = "[^\\s\\x{85}]";
            p++;
        } else {
            if (p[0] == '[' && !in_class) in_class = 1;
            else if (p[0] == ']' && in_class) in_class = 0;
            add = one;
        }
        size_t l = strlen(add);
        if (o + l + 1 > cap) return GT_ELIMIT;
        memcpy(out + o, add, l);
        o += l;
    }
    out[o] = 0;
    return 0;
}

static void *pc_malloc(PCRE2_SIZE n, void *ud) {
    (void)ud;
    return gt_malloc(n);
}
static void pc_free(void *p, void *ud) {
    (void)ud;
    gt_free(p);
}

/* Reads the merges into a (left, right) -> rank table. */
static int load_merges(gt_tokenizer *tok, const gt_gguf *g, gt_err *err) {
    const gt_gguf_kv *kv = gt_gguf_find(g, "tokenizer.ggml.merges");
    if (!kv) return gt_err_set(err, GT_EINVAL, "a gpt2 tokenizer needs tokenizer.ggml.merges");
    if (kv->type != GT_GGUF_ARRAY || kv->arr_type != GT_GGUF_STRING)
        return gt_err_set(err, GT_EINVAL, "tokenizer.ggml.merges must be an array of strings");
    size_t n = (size_t)kv->arr_len, total = 0;
    for (size_t i = 0; i < n; i++) {
        gt_gguf_str s = gt_gguf_arr_str(kv, i);
        if (s.len > 2 * GT_TOKENIZER_MAX_TOKEN_BYTES + 1)
            return gt_err_set(err, GT_ELIMIT, "merge %zu is %llu bytes long; at most %u accepted",
                              i, (unsigned long long)s.len, 2 * GT_TOKENIZER_MAX_TOKEN_BYTES + 1);
        total += (size_t)s.len;
    }
    tok->merge_text = gt_malloc(total + 1);
    tok->merge_off = gt_malloc((n ? n : 1) * sizeof(uint32_t));
    tok->merge_left_len = gt_malloc((n ? n : 1) * sizeof(uint32_t));
    tok->merge_len = gt_malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    tok->merges.slots = gt_malloc(cap * sizeof(int32_t));
    if (!tok->merge_text || !tok->merge_off || !tok->merge_left_len || !tok->merge_len ||
        !tok->merges.slots)
        return gt_err_set(err, GT_ENOMEM, "out of memory loading merges");
    memset(tok->merges.slots, 0xff, cap * sizeof(int32_t));
    tok->merges.mask = cap - 1;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        gt_gguf_str s = gt_gguf_arr_str(kv, i);
        /* "left right", split at the first space after the first byte */
        const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', (size_t)s.len - 1) : NULL;
        int32_t m = tok->n_merges;
        tok->merge_off[m] = (uint32_t)off;
        if (!sp) continue; /* malformed: matches nothing, as in llama.cpp */
        size_t ll = (size_t)(sp - s.ptr), rl = (size_t)s.len - ll - 1;
        memcpy(tok->merge_text + off, s.ptr, ll);
        memcpy(tok->merge_text + off + ll, sp + 1, rl);
        tok->merge_left_len[m] = (uint32_t)ll;
        tok->merge_len[m] = (uint32_t)(ll + rl);
        uint64_t h = gt_tok_hash(sp + 1, rl, gt_tok_hash(s.ptr, ll, GT_TOK_HASH_SEED) * 31 + ll);
        for (uint32_t j = (uint32_t)h & tok->merges.mask;; j = (j + 1) & tok->merges.mask) {
            int32_t o = tok->merges.slots[j];
            if (o < 0) {
                tok->merges.slots[j] = m; /* the rank: order in the file's list */
                tok->n_merges++;
                off += ll + rl;
                break;
            }
            if (tok->merge_left_len[o] == ll && tok->merge_len[o] == ll + rl &&
                !memcmp(tok->merge_text + tok->merge_off[o], tok->merge_text + off, ll + rl))
                break; /* a repeated pair keeps its first (best) rank */
        }
    }
    return 0;
}

int gt_tok_bpe_load(gt_tokenizer *tok, const gt_gguf *g, gt_err *err) {
    const pre_def *def = NULL;
    for (size_t i = 0; i < sizeof pre_defs / sizeof pre_defs[0] && !def; i++)
        if (name_in(tok->pre, pre_defs[i].names)) def = &pre_defs[i];
    if (!def)
        return gt_err_set(err, GT_EUNSUPPORTED, "pre-tokenizer \"%s\" (tokenizer.ggml.pre) is not "
                          "supported; known: default, gpt-2, llama3, qwen2, starcoder, smollm and "
                          "their aliases", tok->pre);
    tok->ignore_merges = def->ignore_merges;
    tok->add_bos = def->add_bos;
    int rc = load_merges(tok, g, err);
    if (rc) return rc;
    tok->pcre_ctx = pcre2_general_context_create(pc_malloc, pc_free, NULL);
    pcre2_compile_context *cc = tok->pcre_ctx ? pcre2_compile_context_create(tok->pcre_ctx) : NULL;
    if (!cc) return gt_err_set(err, GT_ENOMEM, "out of memory compiling the pre-tokenizer");
    for (int i = 0; i < GT_TOK_MAX_REGEX && def->re[i]; i++) {
        char pat[1024];
        int ec;
        PCRE2_SIZE eo;
        if (widen_space(def->re[i], pat, sizeof pat)) {
            rc = gt_err_set(err, GT_ELIMIT, "pre-tokenizer regex too long");
            break;
        }
        tok->re[i] = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                   &ec, &eo, cc);
        if (!tok->re[i]) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof msg);
            rc = gt_err_set(err, GT_EINVAL, "pre-tokenizer regex %d: %s at %zu", i, (char *)msg,
                            (size_t)eo);
            break;
        }
        tok->n_re = i + 1;
        pcre2_jit_compile(tok->re[i], PCRE2_JIT_COMPLETE); /* interpreted if JIT is missing */
    }
    pcre2_compile_context_free(cc);
    return rc;
}

void gt_tok_bpe_free(gt_tokenizer *tok) {
    for (int i = 0; i < tok->n_re; i++) pcre2_code_free(tok->re[i]);
    pcre2_general_context_free(tok->pcre_ctx);
    gt_free(tok->merge_text);
    gt_free(tok->merge_off);
    gt_free(tok->merge_left_len);
    gt_free(tok->merge_len);
    gt_free(tok->merges.slots);
}

/* Rank of merging the adjacent spans left (ll bytes) and the ln - ll bytes
 * after it, or -1. */
static int32_t merge_rank(const gt_tokenizer *tok, const char *left, size_t ll, size_t n) {
    uint64_t h = gt_tok_hash(left + ll, n - ll, gt_tok_hash(left, ll, GT_TOK_HASH_SEED) * 31 + ll);
    for (uint32_t j = (uint32_t)h & tok->merges.mask;; j = (j + 1) & tok->merges.mask) {
        int32_t m = tok->merges.slots[j];
        if (m < 0) return -1;
        if (tok->merge_left_len[m] == ll && tok->merge_len[m] == n &&
            !memcmp(tok->merge_text + tok->merge_off[m], left, n))
            return m;
    }
}

/* A span of the sanitized text. */
typedef struct span {
    size_t off, len;
} span;

typedef struct spanvec {
    span *v;
    size_t n, cap;
} spanvec;

static int span_push(spanvec *sv, size_t off, size_t len) {
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? 2 * sv->cap : 64;
        span *v = gt_realloc(sv->v, cap * sizeof *v);
        if (!v) return GT_ENOMEM;
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = (span){off, len};
    return 0;
}

/* Splits each span of in with regex re into out: the matches, and the text
 * between them as spans of their own. The regex sees one span at a time. */
static int regex_split(const pcre2_code *re, const uint8_t *s, const spanvec *in, spanvec *out,
                       pcre2_match_data *md, gt_err *err) {
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        const uint8_t *subj = s + in->v[i].off;
        size_t n = in->v[i].len, pos = 0, gap = 0;
        while (pos < n) {
            int rc = pcre2_match(re, subj, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
            if (rc == PCRE2_ERROR_NOMATCH) break;
            if (rc < 0)
                return gt_err_set(err, GT_EINVAL, "pre-tokenizer regex failed (PCRE2 error %d)", rc);
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t ms = ov[0], me = ov[1];
            if (me == ms) { /* empty match: step over one character */
                pos = ms + gt_utf8_len(subj[ms]);
                continue;
            }
            if (ms > gap && span_push(out, in->v[i].off + gap, ms - gap)) return GT_ENOMEM;
            if (span_push(out, in->v[i].off + ms, me - ms)) return GT_ENOMEM;
            gap = pos = me;
        }
        if (gap < n && span_push(out, in->v[i].off + gap, n - gap)) return GT_ENOMEM;
    }
    return 0;
}

/* Merges one word (already in the byte-level alphabet) and appends its ids. */
static int bpe_word(const gt_tokenizer *tok, const char *w, size_t n, gt_tok_sym **sym,
                    size_t *sym_cap, gt_tok_heap *h, gt_tokvec *out) {
    if (tok->ignore_merges) {
        int32_t id = gt_tok_find(tok, w, n);
        if (id >= 0) return gt_tokvec_push(out, id);
    }
    if (n > *sym_cap) {
        gt_tok_sym *s = gt_realloc(*sym, n * sizeof *s);
        if (!s) return GT_ENOMEM;
        *sym = s;
        *sym_cap = n;
    }
    gt_tok_sym *sy = *sym;
    int count = 0;
    for (size_t off = 0; off < n; count++) {
        size_t k = gt_utf8_len((uint8_t)w[off]);
        if (k > n - off) k = n - off;
        sy[count] = (gt_tok_sym){w + off, k, count - 1, off + k == n ? -1 : count + 1};
        off += k;
    }
    h->n = 0;
    for (int i = 1; i < count; i++) {
        int32_t r = merge_rank(tok, sy[i - 1].text, sy[i - 1].n, sy[i - 1].n + sy[i].n);
        if (r >= 0 && gt_tok_heap_push(h, (gt_tok_bigram){r, i - 1, i, sy[i - 1].n + sy[i].n}))
            return GT_ENOMEM;
    }
    while (h->n) {
        gt_tok_bigram bg = gt_tok_heap_pop(h);
        gt_tok_sym *l = &sy[bg.left], *r = &sy[bg.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != bg.size) continue; /* outdated */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) sy[r->next].prev = bg.left;
        int nb[2][2] = {{l->prev, bg.left}, {bg.left, l->next}};
        for (int k = 0; k < 2; k++) {
            int a = nb[k][0], b = nb[k][1];
            if (a < 0 || b < 0) continue;
            int32_t rk = merge_rank(tok, sy[a].text, sy[a].n, sy[a].n + sy[b].n);
            if (rk >= 0 && gt_tok_heap_push(h, (gt_tok_bigram){rk, a, b, sy[a].n + sy[b].n}))
                return GT_ENOMEM;
        }
    }
    for (int i = 0; i != -1 && count; i = sy[i].next) {
        int32_t id = gt_tok_find(tok, sy[i].text, sy[i].n);
        if (id >= 0) {
            if (gt_tokvec_push(out, id)) return GT_ENOMEM;
            continue;
        }
        for (size_t j = 0; j < sy[i].n; j++) { /* llama.cpp: single bytes that are tokens */
            int32_t b = gt_tok_find(tok, sy[i].text + j, 1);
            if (b >= 0 && gt_tokvec_push(out, b)) return GT_ENOMEM;
        }
    }
    return 0;
}

size_t gt_tok_bpe_mapped_len(const gt_tokenizer *tok, const char *text, size_t len, int skip_space) {
    const uint8_t *s = (const uint8_t *)text;
    size_t total = 0;
    for (size_t i = 0; i < len;) { /* gt_utf8_sanitize's steps, counted instead of written */
        uint32_t cp;
        size_t k = gt_utf8_decode(s + i, len - i, &cp);
        if (k == 0) cp = GT_UNICODE_REPLACEMENT, k = 1;
        else if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) cp = GT_UNICODE_REPLACEMENT;
        if (!(skip_space && cp < 0x80 && strchr(" \t\n\v\f\r", (int)cp) && cp)) {
            uint8_t enc[4], mapped[4];
            size_t n = gt_utf8_encode(cp, enc);
            for (size_t j = 0; j < n; j++) total += gt_utf8_encode(tok->byte_cp[enc[j]], mapped);
        }
        i += k;
    }
    return total;
}

/* Whether bpe_word's fallback (single bytes that are tokens) can be
 * reached with a byte that is not one: only when a byte's code point or a
 * merge's result is missing from the vocabulary. */
int gt_tok_bpe_lossless(const gt_tokenizer *tok) {
    for (int b = 0; b < 256; b++) {
        uint8_t enc[4];
        size_t k = gt_utf8_encode(tok->byte_cp[b], enc);
        if (gt_tok_find(tok, (const char *)enc, k) < 0) return 0;
    }
    for (int32_t m = 0; m < tok->n_merges; m++)
        if (gt_tok_find(tok, tok->merge_text + tok->merge_off[m], tok->merge_len[m]) < 0) return 0;
    return 1;
}

int gt_tok_bpe_encode(const gt_tokenizer *tok, const char *text, size_t len, size_t max, gt_tokvec *out,
                      gt_err *err) {
    gt_buf s = GT_BUF_INIT, word = GT_BUF_INIT;
    spanvec a = {0}, b = {0};
    gt_tok_sym *sym = NULL;
    size_t sym_cap = 0;
    gt_tok_heap h = {0};
    pcre2_match_data *md = pcre2_match_data_create(1, tok->pcre_ctx);
    int rc = GT_ENOMEM;
    if (!md || gt_utf8_sanitize((const uint8_t *)text, len, &s) || span_push(&a, 0, s.len))
        goto done;
    for (int i = 0; i < tok->n_re; i++) {
        if ((rc = regex_split(tok->re[i], s.data, &a, &b, md, err))) goto done;
        spanvec t = a;
        a = b;
        b = t;
    }
    rc = GT_ENOMEM;
    for (size_t i = 0; i < a.n; i++) {
        gt_buf_reset(&word);
        for (size_t j = 0; j < a.v[i].len; j++) {
            uint8_t enc[4];
            size_t k = gt_utf8_encode(tok->byte_cp[s.data[a.v[i].off + j]], enc);
            if (gt_buf_append(&word, enc, k)) goto done;
        }
        if (bpe_word(tok, (const char *)word.data, word.len, &sym, &sym_cap, &h, out)) goto done;
        if (out->n > max) { /* over the caller's budget: the rest would not change that */
            rc = GT_ELIMIT;
            goto done;
        }
    }
    rc = 0;
done:
    if (rc == GT_ENOMEM) gt_err_set(err, rc, "out of memory tokenizing");
    pcre2_match_data_free(md);
    gt_buf_free(&s);
    gt_buf_free(&word);
    gt_free(a.v);
    gt_free(b.v);
    gt_free(sym);
    gt_free(h.v);
    return rc;
}
