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
#include "base/unicode_norm.h"
#include "crypto/sha256.h"
#include "work/data/rng.h"

#define MERSENNE61 ((1ull << 61) - 1)

gt_minhash_params gt_minhash_defaults(void) {
    gt_minhash_params p = {GT_MINHASH_DEFAULT_HASHES, GT_SHINGLE_WORDS, GT_MINHASH_DEFAULT_WORDS, 1};
    return p;
}

/* ---- normalisation ---- */

/* The dedup key's steps, each on the previous one's output (see minhash.h):
 * drop Default_Ignorable code points, NFKC, full case folding, the UTS #39
 * skeleton, case folding again (a prototype may be a capital: Cherokee
 * U+13A0 is 'D'), NFD, and drop every combining mark (canonical combining
 * class above 0). a and b are scratch arrays that alternate as in and out. */
static int text_key_cps(const char *text, size_t n, gt_ucps *a, gt_ucps *b) {
    if (gt_uni_decode(text, n, a)) return GT_ENOMEM;
    size_t w = 0;
    for (size_t i = 0; i < a->len; i++)
        if (!gt_uni_is_ignorable(a->cp[i])) a->cp[w++] = a->cp[i];
    a->len = w;
    if (gt_uni_normalize(GT_UNI_NFKC, a->cp, a->len, b) || gt_uni_casefold(b->cp, b->len, a) ||
        gt_uni_skeleton(a->cp, a->len, b) || gt_uni_casefold(b->cp, b->len, a) ||
        gt_uni_normalize(GT_UNI_NFD, a->cp, a->len, b))
        return GT_ENOMEM;
    w = 0;
    for (size_t i = 0; i < b->len; i++)
        if (gt_uni_ccc(b->cp[i]) == 0) b->cp[w++] = b->cp[i];
    b->len = w;
    return 0;
}

/* Appends the key's code points to out with every run of White_Space as
 * one ' ' and none at either end. */
static int put_key(const gt_ucps *k, gt_buf *out) {
    size_t start = out->len;
    int pending_space = 0;
    for (size_t i = 0; i < k->len; i++) {
        if (gt_uni_is_space(k->cp[i])) {
            pending_space = 1;
            continue;
        }
        if (pending_space && out->len > start && gt_buf_putc(out, ' ')) return GT_ENOMEM;
        pending_space = 0;
        if (gt_uni_encode(&k->cp[i], 1, out)) return GT_ENOMEM;
    }
    return 0;
}

int gt_text_normalize(const char *text, size_t n, gt_buf *out) {
    gt_ucps a = GT_UCPS_INIT, b = GT_UCPS_INIT;
    int rc = text_key_cps(text, n, &a, &b);
    if (rc == 0) rc = put_key(&b, out);
    gt_ucps_free(&a);
    gt_ucps_free(&b);
    return rc ? GT_ENOMEM : 0;
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

/* Signature of already normalised text t[0..n) into sig. */
static void sign_normalized(const gt_minhash *mh, const uint8_t *t, size_t n, uint64_t *sig) {
    assert(mh->a);
    for (int i = 0; i < mh->p.n_hashes; i++) sig[i] = UINT64_MAX;
    sign_arg s = {mh, sig};
    each_shingle(&mh->p, t, n, sign_one, &s);
}

int gt_minhash_sign(const gt_minhash *mh, const char *text, size_t len, uint64_t *sig) {
    assert(mh->a);
    if (len > GT_MINHASH_MAX_TEXT) len = GT_MINHASH_MAX_TEXT;
    gt_buf t = GT_BUF_INIT;
    if (gt_text_normalize(text, len, &t)) {
        gt_buf_free(&t);
        return GT_ENOMEM;
    }
    sign_normalized(mh, t.data, t.len, sig);
    gt_buf_free(&t);
    return 0;
}

int gt_text_keys(const gt_minhash *mh, const char *text, size_t len, uint8_t hash[32], uint64_t *sig) {
    assert(!mh || sig);
    if (len > GT_MINHASH_MAX_TEXT) /* the signature reads a prefix: two texts */
        return (hash && gt_text_hash(text, len, hash)) || (mh && gt_minhash_sign(mh, text, len, sig)) ? GT_ENOMEM : 0;
    gt_buf t = GT_BUF_INIT;
    if (gt_text_normalize(text, len, &t)) {
        gt_buf_free(&t);
        return GT_ENOMEM;
    }
    if (hash) gt_sha256(t.data ? t.data : (const uint8_t *)"", t.len, hash);
    if (mh) sign_normalized(mh, t.data, t.len, sig);
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

/* x^n by n - 1 multiplications in order: the same bits everywhere (libm's
 * pow is not pinned, and the chosen bands decide which texts are compared). */
static double ipow(double x, int n) {
    assert(n >= 1);
    double y = x;
    for (int i = 1; i < n; i++) y *= x;
    return y;
}

/* Probability mass of false positives (below threshold, yet candidates) and
 * false negatives (above, yet not), by the midpoint rule on 200 steps. */
static double lsh_error(double t, int b, int r) {
    double fp = 0, fn = 0;
    const int steps = 200;
    for (int i = 0; i < steps; i++) {
        double s = (i + 0.5) / steps;
        double p = 1 - ipow(1 - ipow(s, r), b);
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
