/* minhash.c: text normalisation, exact-dedup hashes, MinHash signatures and
 * the LSH banding index (see minhash.h). */
#include "work/data/minhash.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/map.h"
#include "base/vec.h"
#include "crypto/sha256.h"
#include "work/data/rng.h"

#define MERSENNE61 ((1ull << 61) - 1)

gt_minhash_params gt_minhash_defaults(void) {
    gt_minhash_params p = {GT_MINHASH_DEFAULT_HASHES, GT_SHINGLE_WORDS, GT_MINHASH_DEFAULT_WORDS, 1};
    return p;
}

/* ---- normalisation ---- */

/* Decodes one UTF-8 sequence (strict: shortest form, no surrogates); returns
 * its length or 0 when s does not start a valid one. */
static size_t utf8_next(const uint8_t *s, size_t n, uint32_t *cp) {
    uint8_t c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) return *cp = c, 1;
    if ((c & 0xE0) == 0xC0) len = 2, v = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, v = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

static int is_uspace(uint32_t cp) {
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}
/* Characters that change how text looks or reads without changing what it
 * says, dropped so they cannot make a copy look new (Unicode's Default
 * Ignorable format characters): zero-width space/joiners, word joiner and
 * invisible operators, BOM, soft hyphen, combining grapheme joiner, Arabic
 * letter mark, Mongolian selectors, bidi marks, embeddings, overrides and
 * isolates, interlinear annotation marks, variation selectors, tags. */
static int is_format(uint32_t cp) {
    return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
           (cp >= 0x2066 && cp <= 0x206F) || cp == 0xFEFF || cp == 0x00AD || cp == 0x034F || cp == 0x061C ||
           (cp >= 0x180B && cp <= 0x180F) || (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
           (cp >= 0xE0100 && cp <= 0xE01EF) || (cp >= 0xE0000 && cp <= 0xE007F);
}

/* Combining marks (accents written as a separate code point after the
 * letter): dropped, as the accents of precomposed letters are (fold_cp), so
 * "e" + U+0301 and U+00E9 both read "e". */
static int is_combining(uint32_t cp) {
    return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
           (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F);
}

/* The base Latin letter of each code point U+00C0..U+017F (Latin-1 and
 * Latin Extended-A letters with diacritics, from their canonical
 * decompositions, plus ø đ ħ ı ŀ ł ŧ), or '.' for none. */
static const char latin_base[] =
    "aaaaaa.ceeeeiiii.nooooo.ouuuuy..aaaaaa.ceeeeiiii.nooooo.ouuuuy.y"
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii..jjkk.lllllll"
    "lllnnnnnn...oooooo..rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzz.";

/* Cyrillic and Greek letters that look like Latin ones (Unicode's
 * confusables for the common cases), lower and upper case. */
static const struct { uint16_t cp; char latin; } homoglyphs[] = {
    {0x0430, 'a'}, {0x0410, 'a'}, {0x0412, 'b'}, {0x0441, 'c'}, {0x0421, 'c'}, {0x0501, 'd'}, {0x0435, 'e'},
    {0x0415, 'e'}, {0x04BB, 'h'}, {0x041D, 'h'}, {0x0456, 'i'}, {0x0406, 'i'}, {0x04CF, 'l'}, {0x0458, 'j'},
    {0x0408, 'j'}, {0x041A, 'k'}, {0x041C, 'm'}, {0x043E, 'o'}, {0x041E, 'o'}, {0x0440, 'p'}, {0x0420, 'p'},
    {0x051B, 'q'}, {0x0455, 's'}, {0x0405, 's'}, {0x0422, 't'}, {0x0443, 'y'}, {0x0423, 'y'}, {0x051D, 'w'},
    {0x0445, 'x'}, {0x0425, 'x'}, {0x03B1, 'a'}, {0x0391, 'a'}, {0x0392, 'b'}, {0x0395, 'e'}, {0x0396, 'z'},
    {0x0397, 'h'}, {0x03B9, 'i'}, {0x0399, 'i'}, {0x03BA, 'k'}, {0x039A, 'k'}, {0x039C, 'm'}, {0x03BD, 'v'},
    {0x039D, 'n'}, {0x03BF, 'o'}, {0x039F, 'o'}, {0x03C1, 'p'}, {0x03A1, 'p'}, {0x03A4, 't'}, {0x03C5, 'u'},
    {0x03A5, 'y'}, {0x03C7, 'x'}, {0x03A7, 'x'},
};

/* One code point folded: full-width ASCII to ASCII, case, accents and
 * look-alikes to the plain lower-case Latin letter. */
static uint32_t fold_cp(uint32_t cp) {
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0; /* full-width ASCII */
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp >= 0xC0 && cp <= 0x17F && latin_base[cp - 0xC0] != '.') return (uint32_t)latin_base[cp - 0xC0];
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32; /* Latin-1 capitals without a base (Æ, Þ) */
    if (cp >= 0x0391 && cp <= 0x051D)
        for (size_t i = 0; i < sizeof homoglyphs / sizeof homoglyphs[0]; i++)
            if (homoglyphs[i].cp == cp) return (uint32_t)homoglyphs[i].latin;
    return cp;
}

static int put_cp(gt_buf *out, uint32_t cp) {
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) b[0] = (uint8_t)cp, n = 1;
    else if (cp < 0x800) b[0] = (uint8_t)(0xC0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        b[0] = (uint8_t)(0xE0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), b[2] = (uint8_t)(0x80 | (cp & 0x3F)),
        n = 3;
    else
        b[0] = (uint8_t)(0xF0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)),
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (uint8_t)(0x80 | (cp & 0x3F)), n = 4;
    return gt_buf_append(out, b, n);
}

int gt_text_normalize(const char *text, size_t n, gt_buf *out) {
    const uint8_t *s = (const uint8_t *)text;
    size_t start = out->len;
    int pending_space = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_next(s + i, n - i, &cp);
        if (k == 0) { /* an invalid byte stays as it is */
            if (pending_space && out->len > start && gt_buf_putc(out, ' ')) return GT_ENOMEM;
            pending_space = 0;
            if (gt_buf_putc(out, s[i])) return GT_ENOMEM;
            i++;
            continue;
        }
        i += k;
        if (is_format(cp) || is_combining(cp)) continue;
        if (is_uspace(cp)) {
            pending_space = 1;
            continue;
        }
        cp = fold_cp(cp);
        if (pending_space && out->len > start && gt_buf_putc(out, ' ')) return GT_ENOMEM;
        pending_space = 0;
        if (put_cp(out, cp)) return GT_ENOMEM;
    }
    return 0;
}

int gt_text_hash(const char *s, size_t n, uint8_t out[32]) {
    gt_buf b = GT_BUF_INIT;
    if (gt_text_normalize(s, n, &b)) {
        gt_buf_free(&b);
        return GT_ENOMEM;
    }
    gt_sha256(b.data ? b.data : (const uint8_t *)"", b.len, out);
    gt_buf_free(&b);
    return 0;
}

/* ---- shingles ---- */

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Calls fn for the 64-bit hash of every shingle of normalised text t[0..n).
 * Word shingles: k consecutive words (a text of fewer words is one shingle). */
typedef int (*shingle_fn)(void *arg, uint64_t h);

static int each_shingle(const gt_minhash_params *p, const uint8_t *t, size_t n, shingle_fn fn, void *arg) {
    if (n == 0) return 0;
    size_t k = (size_t)p->shingle_size;
    if (p->kind == GT_SHINGLE_CHARS) {
        if (n <= k) return fn(arg, gt_mix64(fnv1a(t, n)));
        for (size_t i = 0; i + k <= n; i++) {
            int rc = fn(arg, gt_mix64(fnv1a(t + i, k)));
            if (rc) return rc;
        }
        return 0;
    }
    /* Word starts; normalised text has single spaces and no ends. */
    size_t starts[GT_MINHASH_MAX_SHINGLE + 1];
    size_t nw = 0, head = 0; /* ring of the last k+1 word starts */
    int emitted = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == 0 || (i < n && t[i - 1] == ' ')) {
            starts[head] = i;
            head = (head + 1) % (k + 1);
            nw++;
        }
        /* At each word end (a space or the end), emit the window of the last k words. */
        if ((i == n || t[i] == ' ') && nw >= k) {
            size_t first = starts[(head + (k + 1) - k) % (k + 1)];
            int rc = fn(arg, gt_mix64(fnv1a(t + first, i - first)));
            if (rc) return rc;
            emitted = 1;
        }
    }
    if (!emitted) return fn(arg, gt_mix64(fnv1a(t, n)));
    return 0;
}

int gt_minhash_init(gt_minhash *mh, const gt_minhash_params *p, gt_err *err) {
    memset(mh, 0, sizeof *mh);
    if (p->n_hashes < 1 || p->n_hashes > GT_MINHASH_MAX_HASHES)
        return gt_err_set(err, GT_EINVAL, "minhash hashes %d: expected 1..%d", p->n_hashes, GT_MINHASH_MAX_HASHES);
    if (p->shingle_size < 1 || p->shingle_size > GT_MINHASH_MAX_SHINGLE)
        return gt_err_set(err, GT_EINVAL, "minhash shingle size %d: expected 1..%d", p->shingle_size,
                          GT_MINHASH_MAX_SHINGLE);
    if (p->kind != GT_SHINGLE_WORDS && p->kind != GT_SHINGLE_CHARS)
        return gt_err_set(err, GT_EINVAL, "minhash shingles: expected words or chars");
    mh->p = *p;
    mh->a = gt_malloc(sizeof(uint64_t) * (size_t)p->n_hashes);
    mh->b = gt_malloc(sizeof(uint64_t) * (size_t)p->n_hashes);
    if (!mh->a || !mh->b) {
        gt_minhash_free(mh);
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    gt_rng r;
    gt_rng_seed(&r, p->seed, 0x6d696e68617368ull /* "minhash" */);
    for (int i = 0; i < p->n_hashes; i++) {
        mh->a[i] = gt_rng_range(&r, 1, MERSENNE61 - 1);
        mh->b[i] = gt_rng_range(&r, 0, MERSENNE61 - 1);
    }
    return 0;
}

void gt_minhash_free(gt_minhash *mh) {
    if (!mh) return;
    gt_free(mh->a);
    gt_free(mh->b);
    mh->a = mh->b = NULL;
}

/* (a*x + b) mod 2^61-1 for x, a, b < 2^61. */
static inline uint64_t perm(uint64_t a, uint64_t b, uint64_t x) {
    unsigned __int128 v = (unsigned __int128)a * x + b;
    uint64_t r = (uint64_t)(v & MERSENNE61) + (uint64_t)(v >> 61);
    r = (r & MERSENNE61) + (r >> 61);
    return r >= MERSENNE61 ? r - MERSENNE61 : r;
}

typedef struct sign_arg {
    const gt_minhash *mh;
    uint64_t *sig;
} sign_arg;

static int sign_one(void *arg, uint64_t h) {
    sign_arg *s = arg;
    const gt_minhash *mh = s->mh;
    uint64_t x = h & MERSENNE61;
    if (x == MERSENNE61) x = 0;
    for (int i = 0; i < mh->p.n_hashes; i++) {
        uint64_t v = perm(mh->a[i], mh->b[i], x);
        if (v < s->sig[i]) s->sig[i] = v;
    }
    return 0;
}

int gt_minhash_sign(const gt_minhash *mh, const char *text, size_t len, uint64_t *sig) {
    assert(mh->a);
    for (int i = 0; i < mh->p.n_hashes; i++) sig[i] = UINT64_MAX;
    if (len > GT_MINHASH_MAX_TEXT) len = GT_MINHASH_MAX_TEXT;
    gt_buf t = GT_BUF_INIT;
    if (gt_text_normalize(text, len, &t)) {
        gt_buf_free(&t);
        return GT_ENOMEM;
    }
    sign_arg s = {mh, sig};
    each_shingle(&mh->p, t.data, t.len, sign_one, &s);
    gt_buf_free(&t);
    return 0;
}

double gt_minhash_similarity(const uint64_t *a, const uint64_t *b, int n) {
    int eq = 0;
    for (int i = 0; i < n; i++) eq += a[i] == b[i];
    return n ? (double)eq / n : 0;
}

/* Appends a shingle hash to a gt_vec of uint64_t. */
static int set_add(void *arg, uint64_t h) { return gt_vec_push(arg, &h); }

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorted, deduplicated shingle hashes of a text into s (a gt_vec of
 * uint64_t made by the caller, who frees it). */
static int shingle_set(const gt_minhash *mh, const char *text, size_t len, gt_vec *s) {
    gt_buf t = GT_BUF_INIT;
    int rc = gt_text_normalize(text, len, &t);
    if (!rc) rc = each_shingle(&mh->p, t.data, t.len, set_add, s);
    gt_buf_free(&t);
    if (rc) return rc;
    uint64_t *v = GT_VEC_DATA(s, uint64_t);
    if (s->n) qsort(v, s->n, sizeof *v, cmp_u64);
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++)
        if (w == 0 || v[i] != v[w - 1]) v[w++] = v[i];
    gt_vec_truncate(s, w);
    return 0;
}

double gt_jaccard_exact(const gt_minhash *mh, const char *a, size_t alen, const char *b, size_t blen) {
    gt_vec x, y;
    gt_vec_init(&x, sizeof(uint64_t));
    gt_vec_init(&y, sizeof(uint64_t));
    double j = -1;
    if (shingle_set(mh, a, alen, &x) == 0 && shingle_set(mh, b, blen, &y) == 0) {
        const uint64_t *xv = GT_VEC_DATA(&x, uint64_t), *yv = GT_VEC_DATA(&y, uint64_t);
        size_t i = 0, k = 0, inter = 0;
        while (i < x.n && k < y.n) {
            if (xv[i] == yv[k]) inter++, i++, k++;
            else if (xv[i] < yv[k]) i++;
            else k++;
        }
        size_t uni = x.n + y.n - inter;
        j = uni ? (double)inter / (double)uni : 1.0; /* two empty texts are identical */
    }
    gt_vec_free(&x);
    gt_vec_free(&y);
    return j;
}

/* ---- LSH ---- */

/* Probability mass of false positives (below threshold, yet candidates) and
 * false negatives (above, yet not), by the midpoint rule on 200 steps. */
static double lsh_error(double t, int b, int r) {
    double fp = 0, fn = 0;
    const int steps = 200;
    for (int i = 0; i < steps; i++) {
        double s = (i + 0.5) / steps;
        double p = 1 - pow(1 - pow(s, r), b);
        if (s < t) fp += p / steps;
        else fn += (1 - p) / steps;
    }
    return 0.5 * fp + 0.5 * fn;
}

void gt_lsh_params(double threshold, int n_hashes, int *bands, int *rows) {
    double best = 2;
    *bands = 1, *rows = n_hashes;
    for (int b = 1; b <= n_hashes; b++)
        for (int r = 1; r * b <= n_hashes; r++) {
            double e = lsh_error(threshold, b, r);
            if (e < best) best = e, *bands = b, *rows = r;
        }
}

typedef struct lsh_entry {
    uint64_t key;   /* band hash mixed with the band number */
    uint32_t item;  /* index into sigs */
    int32_t next;   /* chain in the bucket, -1 ends */
} lsh_entry;

struct gt_lsh {
    int n_hashes, bands, rows;
    gt_vec sigs;    /* one item per signature: n_hashes uint64_t */
    gt_vec ids;     /* uint64_t, one per signature */
    gt_vec entries; /* lsh_entry, bands per signature */
    gt_map heads;   /* band key (8 bytes) -> int32_t index of the newest entry with it */
};

int gt_lsh_new(int n_hashes, int bands, int rows, gt_lsh **out, gt_err *err) {
    *out = NULL;
    if (n_hashes < 1 || n_hashes > GT_MINHASH_MAX_HASHES || bands < 1 || rows < 1 || bands * rows > n_hashes)
        return gt_err_set(err, GT_EINVAL, "LSH with %d bands of %d rows needs %d hashes; the signature has %d", bands,
                          rows, bands * rows, n_hashes);
    gt_lsh *l = gt_calloc(1, sizeof *l);
    if (!l) return gt_err_set(err, GT_ENOMEM, "out of memory");
    l->n_hashes = n_hashes, l->bands = bands, l->rows = rows;
    gt_vec_init(&l->sigs, (size_t)n_hashes * sizeof(uint64_t));
    gt_vec_init(&l->ids, sizeof(uint64_t));
    gt_vec_init(&l->entries, sizeof(lsh_entry));
    gt_map_init(&l->heads, sizeof(uint64_t), sizeof(int32_t));
    *out = l;
    return 0;
}

void gt_lsh_free(gt_lsh *l) {
    if (!l) return;
    gt_vec_free(&l->sigs);
    gt_vec_free(&l->ids);
    gt_vec_free(&l->entries);
    gt_map_free(&l->heads);
    gt_free(l);
}

size_t gt_lsh_size(const gt_lsh *l) { return l->ids.n; }

static uint64_t band_key(const gt_lsh *l, const uint64_t *sig, int band) {
    uint64_t h = gt_mix64(0x62616e64ull + (uint64_t)band); /* "band" */
    for (int i = 0; i < l->rows; i++) h = gt_mix64(h ^ sig[band * l->rows + i]);
    return h;
}

/* Links a new entry for key to the chain of its band key. The map is
 * grown before anything changes, so a failure leaves the index as it was. */
static int lsh_link(gt_lsh *l, uint64_t key, uint32_t item) {
    void *head;
    int added;
    if (gt_map_put(&l->heads, &key, &head, &added)) return GT_ENOMEM;
    lsh_entry *e = gt_vec_push_zero(&l->entries);
    assert(e); /* room was reserved by gt_lsh_insert */
    e->key = key;
    e->item = item;
    e->next = added ? -1 : *(int32_t *)head;
    *(int32_t *)head = (int32_t)(l->entries.n - 1);
    return 0;
}

int gt_lsh_insert(gt_lsh *l, uint64_t id, const uint64_t *sig) {
    size_t bands = (size_t)l->bands;
    if (l->ids.n >= UINT32_MAX || l->entries.n + bands > INT32_MAX) return GT_ENOMEM;
    if (gt_vec_reserve(&l->sigs, l->sigs.n + 1) || gt_vec_reserve(&l->ids, l->ids.n + 1) ||
        gt_vec_reserve(&l->entries, l->entries.n + bands))
        return GT_ENOMEM;
    /* Grow the band map for all this item's keys at once, so that no item
     * is left half linked. */
    size_t n_entries = l->entries.n;
    uint32_t item = (uint32_t)l->ids.n;
    for (size_t b = 0; b < bands; b++) {
        if (lsh_link(l, band_key(l, sig, (int)b), item)) {
            /* Unlink what this item linked, newest first. */
            while (l->entries.n > n_entries) {
                lsh_entry *e = gt_vec_at(&l->entries, l->entries.n - 1);
                int32_t *head = gt_map_get(&l->heads, &e->key);
                assert(head && *head == (int32_t)(l->entries.n - 1));
                *head = e->next; /* a key left with -1 chains nothing */
                gt_vec_truncate(&l->entries, l->entries.n - 1);
            }
            return GT_ENOMEM;
        }
    }
    int rc = gt_vec_push(&l->sigs, sig);
    assert(!rc); /* reserved above */
    rc = gt_vec_push(&l->ids, &id);
    assert(!rc);
    (void)rc;
    return 0;
}

/* The entry chained after entry i (-1 ends the chain). */
static int32_t e_next(const gt_lsh *l, int32_t i) { return GT_VEC_DATA(&l->entries, lsh_entry)[i].next; }

int gt_lsh_query(const gt_lsh *l, const uint64_t *sig, double threshold, uint64_t *id, double *sim) {
    int found = 0;
    double best = -1;
    uint32_t best_item = 0;
    for (int b = 0; b < l->bands; b++) {
        uint64_t key = band_key(l, sig, b);
        const int32_t *head = gt_map_get(&l->heads, &key);
        for (int32_t i = head ? *head : -1; i >= 0; i = e_next(l, i)) {
            const lsh_entry *e = gt_vec_at(&l->entries, (size_t)i);
            assert(e->key == key);
            double s = gt_minhash_similarity(sig, gt_vec_at(&l->sigs, e->item), l->n_hashes);
            /* Ties go to the earliest item, so the answer does not depend on band order. */
            if (s >= threshold && (s > best || (s == best && e->item < best_item))) {
                best = s, best_item = e->item;
                found = 1;
            }
        }
    }
    if (found) {
        if (id) *id = GT_VEC_DATA(&l->ids, uint64_t)[best_item];
        if (sim) *sim = best;
    }
    return found;
}
