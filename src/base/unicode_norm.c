/* unicode_norm.c: UAX #15 normalisation forms, full case folding and the
 * UTS #39 skeleton over the generated tables (see unicode_norm.h). */
#include "base/unicode_norm.h"

#include <assert.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/unicode_tables.h"

/* Hangul syllables compose and decompose by arithmetic (Unicode 3.12). */
#define HANGUL_S 0xAC00u
#define HANGUL_L 0x1100u
#define HANGUL_V 0x1161u
#define HANGUL_T 0x11A7u
#define HANGUL_LN 19u
#define HANGUL_VN 21u
#define HANGUL_TN 28u
#define HANGUL_NN (HANGUL_VN * HANGUL_TN)
#define HANGUL_SN (HANGUL_LN * HANGUL_NN)
/* Runs of combining marks up to this long are put in canonical order by
 * insertion sort; longer ones (only crafted text has them) by a stable
 * counting sort, so ordering stays linear whatever the input. */
#define SHORT_RUN 16
/* Below these code points nothing has a combining class or is the second of
 * a composing pair (U+0300 is the first combining mark), nothing decomposes
 * (U+00A0 is the first with a decomposition), and in ASCII only the capitals
 * fold and only these characters have confusables prototypes (checked
 * against the tables by test_unicode_norm): fast paths for Latin text. */
#define FIRST_MARK 0x300u
#define FIRST_DECOMP 0xA0u
#define ASCII_CONFUSABLES "`\"|1I0%m"

void gt_ucps_free(gt_ucps *u) {
    if (!u) return;
    gt_free(u->cp);
    u->cp = NULL;
    u->len = u->cap = 0;
}

/* Appends cp, growing by doubling. */
int gt_ucps_push(gt_ucps *u, uint32_t cp) {
    if (u->len == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *u->cp) return GT_ENOMEM;
        uint32_t *p = gt_realloc(u->cp, cap * sizeof *p);
        if (!p) return GT_ENOMEM;
        u->cp = p, u->cap = cap;
    }
    u->cp[u->len++] = cp;
    return 0;
}

static int push_slice(gt_ucps *u, uint32_t off, uint32_t len) {
    assert((size_t)off + len <= gt_uni_pool_len);
    for (uint32_t i = 0; i < len; i++)
        if (gt_ucps_push(u, gt_uni_pool[off + i])) return GT_ENOMEM;
    return 0;
}

/* ---- lookups (binary searches over the sorted tables) ---- */

static int in_ranges(const gt_uni_range *r, size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < r[mid].lo) hi = mid;
        else if (cp > r[mid].hi) lo = mid + 1;
        else return 1;
    }
    return 0;
}

int gt_uni_is_ignorable(uint32_t cp) { return in_ranges(gt_uni_ignorables, gt_uni_n_ignorables, cp); }
int gt_uni_is_space(uint32_t cp) { return in_ranges(gt_uni_spaces, gt_uni_n_spaces, cp); }

uint32_t gt_uni_ccc(uint32_t cp) {
    if (cp < FIRST_MARK) return 0; /* the fast path for Latin text */
    size_t lo = 0, hi = gt_uni_n_cccs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < gt_uni_cccs[mid].lo) hi = mid;
        else if (cp > gt_uni_cccs[mid].hi) lo = mid + 1;
        else return gt_uni_cccs[mid].ccc;
    }
    return 0;
}

static const gt_uni_map *find_map(const gt_uni_map *m, size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < m[mid].cp) hi = mid;
        else if (cp > m[mid].cp) lo = mid + 1;
        else return &m[mid];
    }
    return NULL;
}

static const gt_uni_decomp *find_decomp(uint32_t cp) {
    size_t lo = 0, hi = gt_uni_n_decomps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < gt_uni_decomps[mid].cp) hi = mid;
        else if (cp > gt_uni_decomps[mid].cp) lo = mid + 1;
        else return &gt_uni_decomps[mid];
    }
    return NULL;
}

/* The primary composite of a + b, or 0 when they do not compose. */
static uint32_t compose_pair(uint32_t a, uint32_t b) {
    if (b < FIRST_MARK) return 0;
    if (a >= HANGUL_L && a < HANGUL_L + HANGUL_LN && b >= HANGUL_V && b < HANGUL_V + HANGUL_VN)
        return HANGUL_S + ((a - HANGUL_L) * HANGUL_VN + (b - HANGUL_V)) * HANGUL_TN;
    if (a >= HANGUL_S && a < HANGUL_S + HANGUL_SN && (a - HANGUL_S) % HANGUL_TN == 0 && b > HANGUL_T &&
        b < HANGUL_T + HANGUL_TN)
        return a + (b - HANGUL_T);
    size_t lo = 0, hi = gt_uni_n_comps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const gt_uni_comp *c = &gt_uni_comps[mid];
        if (a < c->first || (a == c->first && b < c->second)) hi = mid;
        else if (a > c->first || b > c->second) lo = mid + 1;
        else return c->composite;
    }
    return 0;
}

/* ---- decomposition and canonical ordering ---- */

/* Appends the full canonical (compat 0) or compatibility decomposition of cp. */
static int decompose_cp(uint32_t cp, int compat, gt_ucps *out) {
    if (cp < FIRST_DECOMP) return gt_ucps_push(out, cp);
    if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_SN) {
        uint32_t s = cp - HANGUL_S, t = s % HANGUL_TN;
        if (gt_ucps_push(out, HANGUL_L + s / HANGUL_NN) || gt_ucps_push(out, HANGUL_V + (s % HANGUL_NN) / HANGUL_TN))
            return GT_ENOMEM;
        return t ? gt_ucps_push(out, HANGUL_T + t) : 0;
    }
    const gt_uni_decomp *d = find_decomp(cp);
    if (d && compat) return push_slice(out, d->nfkd_off, d->nfkd_len);
    if (d && d->nfd_len) return push_slice(out, d->nfd_off, d->nfd_len);
    return gt_ucps_push(out, cp);
}

/* Stable sort of a[0..n) by combining class (n > SHORT_RUN): counting sort
 * through tmp[0..n). */
static int sort_long_run(uint32_t *a, size_t n) {
    uint32_t *tmp = gt_malloc(n * sizeof *tmp);
    size_t count[257] = {0};
    if (!tmp) return GT_ENOMEM;
    for (size_t i = 0; i < n; i++) count[gt_uni_ccc(a[i]) + 1]++;
    for (size_t c = 1; c < 257; c++) count[c] += count[c - 1];
    for (size_t i = 0; i < n; i++) tmp[count[gt_uni_ccc(a[i])]++] = a[i];
    memcpy(a, tmp, n * sizeof *tmp);
    gt_free(tmp);
    return 0;
}

/* Puts every run of non-starters of u in canonical order (stable by class). */
static int canonical_order(gt_ucps *u) {
    for (size_t i = 0; i < u->len;) {
        if (gt_uni_ccc(u->cp[i]) == 0) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < u->len && gt_uni_ccc(u->cp[j]) != 0) j++;
        if (j - i > SHORT_RUN) {
            if (sort_long_run(u->cp + i, j - i)) return GT_ENOMEM;
        } else {
            for (size_t k = i + 1; k < j; k++)
                for (size_t m = k; m > i && gt_uni_ccc(u->cp[m - 1]) > gt_uni_ccc(u->cp[m]); m--) {
                    uint32_t t = u->cp[m];
                    u->cp[m] = u->cp[m - 1], u->cp[m - 1] = t;
                }
        }
        i = j;
    }
    return 0;
}

/* ---- composition ---- */

/* Canonical composition of u in place (UAX #15's algorithm): each character
 * not blocked from the last starter and composing with it replaces it. */
static void compose(gt_ucps *u) {
    if (u->len == 0) return;
    size_t starter = 0, w = 1;
    int have_starter = gt_uni_ccc(u->cp[0]) == 0;
    uint32_t last_ccc = have_starter ? 0 : 256;
    for (size_t r = 1; r < u->len; r++) {
        uint32_t cp = u->cp[r], ccc = gt_uni_ccc(cp);
        int blocked = w - 1 != starter && (last_ccc == 0 || last_ccc >= ccc);
        uint32_t c = have_starter && !blocked ? compose_pair(u->cp[starter], cp) : 0;
        if (c) {
            u->cp[starter] = c;
            continue;
        }
        if (ccc == 0) starter = w, have_starter = 1;
        last_ccc = ccc;
        u->cp[w++] = cp;
    }
    u->len = w;
}

int gt_uni_normalize(gt_uni_form form, const uint32_t *in, size_t n, gt_ucps *out) {
    int compat = form == GT_UNI_NFKD || form == GT_UNI_NFKC;
    out->len = 0;
    for (size_t i = 0; i < n; i++)
        if (decompose_cp(in[i], compat, out)) return GT_ENOMEM;
    if (canonical_order(out)) return GT_ENOMEM;
    if (form == GT_UNI_NFC || form == GT_UNI_NFKC) compose(out);
    return 0;
}

int gt_uni_casefold(const uint32_t *in, size_t n, gt_ucps *out) {
    out->len = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] < 0x80) {
            if (gt_ucps_push(out, in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i])) return GT_ENOMEM;
            continue;
        }
        const gt_uni_map *m = find_map(gt_uni_folds, gt_uni_n_folds, in[i]);
        if (m ? push_slice(out, m->off, m->len) : gt_ucps_push(out, in[i])) return GT_ENOMEM;
    }
    return 0;
}

int gt_uni_skeleton(const uint32_t *in, size_t n, gt_ucps *out) {
    gt_ucps a = GT_UCPS_INIT, b = GT_UCPS_INIT;
    int rc = gt_uni_normalize(GT_UNI_NFD, in, n, &a);
    for (size_t i = 0; rc == 0 && i < a.len; i++) {
        uint32_t cp = a.cp[i];
        if (cp < 0x80 && (cp == 0 || !strchr(ASCII_CONFUSABLES, (int)cp))) {
            rc = gt_ucps_push(&b, cp);
            continue;
        }
        const gt_uni_map *m = find_map(gt_uni_confusables, gt_uni_n_confusables, cp);
        rc = m ? push_slice(&b, m->off, m->len) : gt_ucps_push(&b, a.cp[i]);
    }
    if (rc == 0) rc = gt_uni_normalize(GT_UNI_NFD, b.cp, b.len, out);
    gt_ucps_free(&a);
    gt_ucps_free(&b);
    return rc;
}

/* ---- UTF-8 ---- */

/* Decodes one strict UTF-8 sequence; its length, or 0 when s does not start one. */
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

int gt_uni_decode(const char *text, size_t n, gt_ucps *out) {
    const uint8_t *s = (const uint8_t *)text;
    out->len = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_next(s + i, n - i, &cp);
        if (k == 0) cp = GT_UNI_RAW(s[i]), k = 1;
        if (gt_ucps_push(out, cp)) return GT_ENOMEM;
        i += k;
    }
    return 0;
}

int gt_uni_encode(const uint32_t *in, size_t n, gt_buf *out) {
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = in[i];
        uint8_t b[4];
        size_t k;
        if (cp > 0x10FFFF) b[0] = (uint8_t)(cp - GT_UNI_RAW(0)), k = 1;
        else if (cp < 0x80) b[0] = (uint8_t)cp, k = 1;
        else if (cp < 0x800) b[0] = (uint8_t)(0xC0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3F)), k = 2;
        else if (cp < 0x10000)
            b[0] = (uint8_t)(0xE0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)),
            b[2] = (uint8_t)(0x80 | (cp & 0x3F)), k = 3;
        else
            b[0] = (uint8_t)(0xF0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)),
            b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (uint8_t)(0x80 | (cp & 0x3F)), k = 4;
        assert(cp <= GT_UNI_RAW(0xFF));
        if (gt_buf_append(out, b, k)) return GT_ENOMEM;
    }
    return 0;
}
