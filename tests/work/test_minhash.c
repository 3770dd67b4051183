/* test_minhash.c: normalisation and exact-dedup hashes; MinHash estimates
 * against exact Jaccard on generated pairs across the whole range (each
 * within the error expected for k hashes); LSH recall above and precision
 * below the threshold; parameter checks; the near-dedup threshold measured
 * (precision and recall) on near-duplicate sets of family items and of
 * paragraphs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "work/data/families.h"
#include "work/data/minhash.h"
#include "work/data/rng.h"

static void norm(const char *in, const char *want) {
    gt_buf b = GT_BUF_INIT;
    CHECK_EQ_INT(gt_text_normalize(in, strlen(in), &b), 0);
    CHECK_STR(b.data ? (const char *)b.data : "", want);
    gt_buf_free(&b);
}

static void test_normalize(void) {
    norm("  Hello,\t\tWORLD \n", "hello, world");
    norm("caf\xc3\x89 \xc3\x80 la carte", "cafe a la carte");                             /* É -> e, À -> a */
    /* The copies an attacker makes look new (each was a distinct text before): */
    norm("ans\xc2\xadwer", "answer");                                                  /* soft hyphen */
    norm("a\xe2\x80\xae" "b\xe2\x80\xac" "c\xe2\x81\xa6" "d\xe2\x80\x8f", "abcd");                  /* bidi override, pop, isolate, RLM */
    norm("x\xef\xb8\x8fy\xf3\xa0\x84\x80z", "xyz");                                    /* variation selectors 16 and 17 */
    norm("\xd0\xb0n\xd1\x95w\xd0\xb5r", "answer");                                      /* Cyrillic а ѕ е */
    norm("\xce\x91\xce\xbd\xce\xbf", "avo");                                            /* Greek Α ν ο */
    norm("cafe\xcc\x81 cafe\xcc\x80\xcc\x82", "cafe cafe");                               /* combining acute, grave + circumflex */
    norm("\xc5\x81\xc3\xb3" "d\xc5\xba", "lodz");                                            /* Łódź */
    norm("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", "abc");                               /* full-width ABC */
    norm("a\xc2\xa0" "b\xe2\x80\x83" "c\xe3\x80\x80" "d", "a b c d");                 /* NBSP, em space, ideographic space */
    norm("zero\xe2\x80\x8bwidth", "zerowidth");
    norm("\xff bad \xc3", "\xff bad \xc3");                                           /* invalid bytes kept */
    norm("3\xc3\x97" "4", "3x4"); /* × is confusable with x (UTS #39), and means the same between numbers */
    norm("", "");
    uint8_t h1[32], h2[32], h3[32];
    CHECK_EQ_INT(gt_text_hash("The  answer is 42.", 18, h1), 0);
    CHECK_EQ_INT(gt_text_hash("the answer IS 42.\n", 18, h2), 0);
    CHECK_EQ_INT(gt_text_hash("the answer is 43.", 17, h3), 0);
    CHECK(!memcmp(h1, h2, 32));
    CHECK(memcmp(h1, h3, 32) != 0);
    /* A copy with a soft hyphen, a Cyrillic е and a combining accent hashes as the original. */
    const char *copy = "The an\xc2\xadsw\xd0\xb5r is 4\xe2\x80\x8b" "2.\xcc\x81";
    CHECK_EQ_INT(gt_text_hash(copy, strlen(copy), h2), 0);
    CHECK(!memcmp(h1, h2, 32));
}

/* The attacks that slipped past the hand-written folding (each was a new
 * text before NFKC and the confusables skeleton): every variant hashes as
 * the plain text. */
static void test_normalize_attacks(void) {
    static const char *plain = "the office is fine";
    static const char *copies[] = {
        /* fullwidth letters and ideographic space */
        "\xef\xbd\x94\xef\xbd\x88\xef\xbd\x85 office\xe3\x80\x80is fine",
        "the o\xef\xac\x83" "ce is \xef\xac\x81ne",                                    /* ligatures ffi, fi */
        "the office is \xf0\x9d\x90\x9f\xf0\x9d\x90\xa2\xf0\x9d\x90\xa7\xf0\x9d\x90\x9e", /* math bold fine */
        "\xf0\x9d\x93\xbd\xf0\x9d\x93\xb1\xf0\x9d\x93\xae office is fine",     /* math script the */
        "th\xe1\xb5\x89 office is fine",                                             /* modifier small e */
        "the \xd6\x85" "ffice is fine",                                                  /* Armenian oh */
        "\xe1\x8e\xa2he office is fine",                                             /* Cherokee T */
        "the office is fin\xe2\x84\xaf",                                              /* script small e */
        "the off\xe2\x81\xa1ice\xe2\x80\x8d is f\xe1\xa0\x8eine",                     /* function app, ZWJ, Mongolian VS */
        "the \xc3\xb6" "ffice is fi\xcc\x88ne",                                         /* accents composed and not */
        "THE OFFICE IS FINE",
        "the \xe2\x84\xb4" "ffice is fine",                                             /* script small o */
    };
    uint8_t want[32], got[32];
    CHECK_EQ_INT(gt_text_hash(plain, strlen(plain), want), 0);
    for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++) {
        CHECK_EQ_INT(gt_text_hash(copies[i], strlen(copies[i]), got), 0);
        CHECK_MSG(!memcmp(want, got, 32), "copy %zu ('%s') hashes as a new text", i, copies[i]);
    }
    /* ... while texts that differ in what they say still differ. */
    static const char *different[] = {"the office is fire", "the office is fine.", "the office was fine", "42", "43"};
    uint8_t h[5][32];
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(gt_text_hash(different[i], strlen(different[i]), h[i]), 0);
    for (int i = 0; i < 5; i++) {
        CHECK(memcmp(h[i], want, 32) != 0);
        for (int j = i + 1; j < 5; j++) CHECK(memcmp(h[i], h[j], 32) != 0);
    }
    /* Digits stay distinct from one another (0 and 1 fold to letters, no digit to another digit). */
    char a[4], b[4];
    for (int i = 0; i < 100; i++)
        for (int j = i + 1; j < 100; j++) {
            snprintf(a, sizeof a, "%d", i), snprintf(b, sizeof b, "%d", j);
            CHECK_EQ_INT(gt_text_hash(a, strlen(a), h[0]), 0);
            CHECK_EQ_INT(gt_text_hash(b, strlen(b), h[1]), 0);
            CHECK_MSG(memcmp(h[0], h[1], 32) != 0, "%s and %s share a key", a, b);
        }
}

/* A text of n words drawn from a vocabulary of `vocab` made-up words. */
static void random_text(gt_rng *r, int n, int vocab, gt_buf *out) {
    for (int i = 0; i < n; i++) {
        uint64_t w = gt_rng_below(r, (uint64_t)vocab);
        gt_buf_printf(out, "%sw%llx", i ? " " : "", (unsigned long long)(w * 2654435761u % 1000003));
    }
}

/* Copy of words with a fraction p of them replaced by fresh ones. */
static void mutate(gt_rng *r, const char *src, double p, gt_buf *out) {
    const char *s = src;
    int first = 1;
    while (*s) {
        const char *e = strchr(s, ' ');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (!first) gt_buf_putc(out, ' ');
        first = 0;
        if (gt_rng_unit(r) < p) gt_buf_printf(out, "z%llx", (unsigned long long)gt_rng_next(r));
        else gt_buf_append(out, s, n);
        s += n;
        if (*s == ' ') s++;
    }
}

static void test_estimate(void) {
    gt_err err = {0};
    gt_minhash mh;
    gt_minhash_params p = gt_minhash_defaults();
    p.shingle_size = 3;
    CHECK_EQ_INT(gt_minhash_init(&mh, &p, &err), 0);
    gt_rng r;
    gt_rng_seed(&r, 99, 0);
    int pairs = 0, within2 = 0, within4 = 0;
    double sum_abs = 0, sum_sigma = 0;
    int bins[10] = {0};
    uint64_t sa[GT_MINHASH_DEFAULT_HASHES], sb[GT_MINHASH_DEFAULT_HASHES];
    for (int t = 0; t < 400; t++) {
        gt_buf a = GT_BUF_INIT, b = GT_BUF_INIT;
        random_text(&r, 60 + (int)gt_rng_below(&r, 100), 5000, &a);
        double frac = gt_rng_unit(&r) * 0.6; /* 0..60% words replaced: Jaccard ~0..1 */
        mutate(&r, (const char *)a.data, frac, &b);
        double j = gt_jaccard_exact(&mh, (const char *)a.data, a.len, (const char *)b.data, b.len);
        CHECK(gt_minhash_sign(&mh, (const char *)a.data, a.len, sa) == 0);
        CHECK(gt_minhash_sign(&mh, (const char *)b.data, b.len, sb) == 0);
        double est = gt_minhash_similarity(sa, sb, p.n_hashes);
        double sigma = sqrt(j * (1 - j) / p.n_hashes);
        double d = fabs(est - j);
        pairs++;
        within2 += d <= 2 * sigma + 1.0 / p.n_hashes;
        within4 += d <= 4 * sigma + 1.0 / p.n_hashes;
        sum_abs += d, sum_sigma += sigma;
        bins[j >= 1 ? 9 : (int)(j * 10)]++;
        gt_buf_free(&a);
        gt_buf_free(&b);
    }
    /* Estimates are unbiased with binomial error: ~95% within 2 sigma, all within 4. */
    fprintf(stderr, "  minhash: %d pairs, %.1f%% within 2 sigma, mean |err| %.4f vs mean sigma %.4f\n", pairs,
            100.0 * within2 / pairs, sum_abs / pairs, sum_sigma / pairs);
    CHECK_MSG(within2 >= pairs * 90 / 100, "%d of %d within 2 sigma", within2, pairs);
    CHECK_EQ_INT(within4, pairs);
    CHECK(sum_abs / pairs < sum_sigma / pairs * 1.1); /* E|err| ~ 0.8 sigma for a binomial */
    int covered = 0;
    for (int i = 0; i < 10; i++) covered += bins[i] > 0;
    CHECK_MSG(covered >= 8, "Jaccard range covered by %d of 10 bins", covered);
    /* Identical texts match exactly; texts with nothing in common nearly never. */
    CHECK_EQ_INT(gt_minhash_sign(&mh, "a b c d e f", 11, sa), 0);
    CHECK_EQ_INT(gt_minhash_sign(&mh, "A  b c D e f", 12, sb), 0);
    CHECK(gt_minhash_similarity(sa, sb, p.n_hashes) == 1.0);
    CHECK(gt_jaccard_exact(&mh, "a b c d e f", 11, "A  b c D e f", 12) == 1.0);
    CHECK(gt_jaccard_exact(&mh, "a b c d e f", 11, "u v w x y z", 11) == 0.0);
    CHECK_EQ_INT(gt_minhash_sign(&mh, "", 0, sa), 0);
    CHECK(sa[0] == UINT64_MAX);
    gt_minhash_free(&mh);
}

static void test_chars(void) {
    gt_err err = {0};
    gt_minhash mh;
    gt_minhash_params p = {64, GT_SHINGLE_CHARS, 4, 7};
    CHECK_EQ_INT(gt_minhash_init(&mh, &p, &err), 0);
    /* "abcdef": abcd bcde cdef; "abcdeg": abcd bcde cdeg -> 2 / 4 */
    CHECK(fabs(gt_jaccard_exact(&mh, "abcdef", 6, "abcdeg", 6) - 0.5) < 1e-12);
    /* Shorter than a shingle: the whole text is one shingle. */
    CHECK(gt_jaccard_exact(&mh, "ab", 2, "AB", 2) == 1.0);
    gt_minhash_free(&mh);
}

static void test_lsh(void) {
    gt_err err = {0};
    int b, r;
    gt_lsh_params(0.8, 128, &b, &r);
    fprintf(stderr, "  lsh params for 0.8 / 128: %d bands x %d rows\n", b, r);
    CHECK(b * r <= 128 && b > 1 && r > 1);
    /* The S-curve's midpoint (1/b)^(1/r) lies near the threshold. */
    double mid = pow(1.0 / b, 1.0 / r);
    CHECK_MSG(mid > 0.65 && mid < 0.9, "midpoint %.3f", mid);

    gt_minhash mh;
    gt_minhash_params p = gt_minhash_defaults();
    p.shingle_size = 2;
    CHECK_EQ_INT(gt_minhash_init(&mh, &p, &err), 0);
    gt_lsh *l = NULL;
    CHECK_EQ_INT(gt_lsh_new(p.n_hashes, b, r, &l, &err), 0);
    gt_rng g;
    gt_rng_seed(&g, 5, 0);
    int hi_n = 0, hi_found = 0, lo_n = 0, lo_found = 0;
    uint64_t sig[GT_MINHASH_DEFAULT_HASHES], sig2[GT_MINHASH_DEFAULT_HASHES];
    for (int t = 0; t < 300; t++) {
        gt_buf a = GT_BUF_INIT, c = GT_BUF_INIT;
        random_text(&g, 200, 100000, &a);
        CHECK_EQ_INT(gt_minhash_sign(&mh, (const char *)a.data, a.len, sig), 0);
        CHECK_EQ_INT(gt_lsh_insert(l, (uint64_t)t, sig), 0);
        double frac = t % 2 ? 0.02 : 0.25; /* J ~ 0.92 or ~ 0.45 with 2-word shingles */
        mutate(&g, (const char *)a.data, frac, &c);
        double j = gt_jaccard_exact(&mh, (const char *)a.data, a.len, (const char *)c.data, c.len);
        CHECK_EQ_INT(gt_minhash_sign(&mh, (const char *)c.data, c.len, sig2), 0);
        uint64_t id = 0;
        double sim = 0;
        int found = gt_lsh_query(l, sig2, 0.8, &id, &sim);
        if (found) CHECK(sim >= 0.8);
        if (j >= 0.88) {
            hi_n++;
            hi_found += found && id == (uint64_t)t;
        } else if (j <= 0.6) {
            lo_n++;
            lo_found += found;
        }
        gt_buf_free(&a);
        gt_buf_free(&c);
    }
    fprintf(stderr, "  lsh: recall %d/%d above 0.88, false positives %d/%d below 0.6\n", hi_found, hi_n, lo_found, lo_n);
    CHECK(hi_n > 100 && lo_n > 100);
    CHECK(hi_found >= hi_n * 95 / 100);
    CHECK(lo_found <= lo_n / 100);
    CHECK_EQ_INT(gt_lsh_size(l), 300);
    gt_lsh_free(l);
    gt_minhash_free(&mh);

    CHECK(gt_lsh_new(128, 20, 13, &l, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "260 hashes");
}

static void test_params(void) {
    gt_err err = {0};
    gt_minhash mh;
    gt_minhash_params p = gt_minhash_defaults();
    p.n_hashes = 0;
    CHECK(gt_minhash_init(&mh, &p, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "hashes 0");
    p = gt_minhash_defaults();
    p.shingle_size = 1000;
    CHECK(gt_minhash_init(&mh, &p, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "shingle size");
    /* Out of memory on either coefficient array: clean failure. */
    p = gt_minhash_defaults();
    for (int k = 0; k < 2; k++) {
        gt_alloc_fail_after(k);
        int rc = gt_minhash_init(&mh, &p, &err);
        gt_alloc_fail_after(-1);
        CHECK(rc == GT_ENOMEM);
    }
}

/* One edit of the kind a copier makes so that exact dedup misses the copy:
 * a word replaced, a word inserted, a word dropped, or a short sentence
 * appended; `edits` of them. */
static void near_copy(gt_rng *r, const char *src, int edits, gt_buf *out) {
    gt_buf cur = GT_BUF_INIT;
    gt_buf_append_str(&cur, src);
    for (int e = 0; e < edits; e++) {
        int words = 1;
        for (size_t i = 0; i < cur.len; i++) words += cur.data[i] == ' ';
        int at = (int)gt_rng_below(r, (uint64_t)words), kind = (int)gt_rng_below(r, 4), w = 0;
        gt_buf next = GT_BUF_INIT;
        const char *s = (const char *)cur.data;
        while (*s) {
            const char *end = strchr(s, ' ');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            int here = w++ == at && kind < 3;
            if (here && kind == 1) gt_buf_printf(&next, "%sreally", next.len ? " " : "");
            if (!(here && kind == 2)) {
                if (next.len) gt_buf_putc(&next, ' ');
                if (here && kind == 0) gt_buf_printf(&next, "q%llx", (unsigned long long)gt_rng_below(r, 1u << 20));
                else gt_buf_append(&next, s, n);
            }
            s += n;
            if (*s == ' ') s++;
        }
        if (kind == 3) gt_buf_append_str(&next, " Hope this helps.");
        gt_buf_free(&cur);
        cur = next;
    }
    gt_buf_append(out, cur.data, cur.len);
    gt_buf_free(&cur);
}

/* Precision and recall of near-dedup as the pipeline runs it (MinHash under
 * p, LSH banded for the threshold, confirmed by estimated similarity) on a
 * labelled set: n originals indexed; for each, a near copy (a duplicate,
 * should be caught) and a different text of the same kind (should not).
 * texts[0..2n): originals then the siblings. */
static void near_pr(const gt_minhash_params *p, double threshold, char **texts, int n, int edits, double *prec,
                    double *rec) {
    gt_err err = {0};
    gt_minhash mh;
    int b, r;
    CHECK_EQ_INT(gt_minhash_init(&mh, p, &err), 0);
    gt_lsh_params(threshold, p->n_hashes, &b, &r);
    gt_lsh *l = NULL;
    CHECK_EQ_INT(gt_lsh_new(p->n_hashes, b, r, &l, &err), 0);
    uint64_t sig[GT_MINHASH_DEFAULT_HASHES];
    for (int i = 0; i < n; i++) {
        CHECK_EQ_INT(gt_minhash_sign(&mh, texts[i], strlen(texts[i]), sig), 0);
        CHECK_EQ_INT(gt_lsh_insert(l, (uint64_t)i, sig), 0);
    }
    gt_rng g;
    gt_rng_seed(&g, 77, (uint64_t)edits);
    int tp = 0, fp = 0;
    for (int i = 0; i < n; i++) {
        gt_buf c = GT_BUF_INIT;
        near_copy(&g, texts[i], edits, &c);
        gt_buf_putc(&c, 0);
        uint64_t id = 0;
        double sim = 0;
        CHECK_EQ_INT(gt_minhash_sign(&mh, (const char *)c.data, strlen((const char *)c.data), sig), 0);
        tp += gt_lsh_query(l, sig, threshold, &id, &sim) && id == (uint64_t)i;
        CHECK_EQ_INT(gt_minhash_sign(&mh, texts[n + i], strlen(texts[n + i]), sig), 0);
        fp += gt_lsh_query(l, sig, threshold, &id, &sim);
        gt_buf_free(&c);
    }
    *prec = tp + fp ? (double)tp / (tp + fp) : 1.0;
    *rec = (double)tp / n;
    gt_lsh_free(l);
    gt_minhash_free(&mh);
}

/* The near-dedup threshold measured on near-duplicate sets. Two sets of
 * 2 x 250 texts: "items", generated questions with their answers from the
 * five task families (the samples a data job produces: short, one template
 * per family, so different items share most words), and "paragraphs", 60 to
 * 160 words of prose-like text. Duplicates are copies with 1 edit (items)
 * or 3 edits (paragraphs); non-duplicates are other texts of the same set.
 * Printed: precision and recall per threshold, for the default 5-word
 * shingles and for 4-character shingles. Asserted at the default 0.8 (the
 * figures the README states): no false duplicate on paragraphs with either
 * shingling; 4-character shingles catch >= 95% of the paragraph copies and
 * 5-word shingles under 60% (three edits in ~110 words are under 0.8 in
 * 5-word-shingle Jaccard); on short items 5-word shingles catch under half
 * the one-edit copies, character shingles more. */
static void test_threshold_measured(void) {
    enum { N = 250 };
    char *items[2 * N], *paras[2 * N];
    gt_rng g;
    gt_rng_seed(&g, 31, 0);
    for (int i = 0; i < 2 * N; i++) {
        gt_family_item it;
        gt_family_generate(gt_family_at(i % gt_family_count()), 11, (uint64_t)(i / gt_family_count()), &it);
        gt_buf t = GT_BUF_INIT;
        gt_buf_printf(&t, "%s Answer: %s", it.question, it.answer);
        gt_buf_putc(&t, 0);
        items[i] = (char *)t.data;
        gt_buf pbuf = GT_BUF_INIT;
        random_text(&g, 60 + (int)gt_rng_below(&g, 100), 5000, &pbuf);
        gt_buf_putc(&pbuf, 0);
        paras[i] = (char *)pbuf.data;
    }
    static const double th[] = {0.5, 0.6, 0.7, 0.8, 0.9};
    gt_minhash_params words = gt_minhash_defaults(), chars = {GT_MINHASH_DEFAULT_HASHES, GT_SHINGLE_CHARS, 4, 1};
    double at_default[4][2] = {{0}};
    for (int k = 0; k < 5; k++) {
        double pr[4][2];
        near_pr(&words, th[k], items, N, 1, &pr[0][0], &pr[0][1]);
        near_pr(&chars, th[k], items, N, 1, &pr[1][0], &pr[1][1]);
        near_pr(&words, th[k], paras, N, 3, &pr[2][0], &pr[2][1]);
        near_pr(&chars, th[k], paras, N, 3, &pr[3][0], &pr[3][1]);
        fprintf(stderr,
                "  near-dedup at %.1f: items words5 P %.3f R %.3f, chars4 P %.3f R %.3f; paragraphs words5 P %.3f R "
                "%.3f, chars4 P %.3f R %.3f\n",
                th[k], pr[0][0], pr[0][1], pr[1][0], pr[1][1], pr[2][0], pr[2][1], pr[3][0], pr[3][1]);
        if (th[k] == GT_DEDUP_DEFAULT_THRESHOLD) memcpy(at_default, pr, sizeof pr);
    }
    /* Never a false duplicate on prose; character shingles catch the copies
     * that 5-word shingles miss (three edits in ~110 words leave a Jaccard of
     * 5-word shingles near 0.75, under the threshold). */
    CHECK_MSG(at_default[2][0] >= 0.99 && at_default[3][0] >= 0.99, "paragraphs: precision %.3f / %.3f",
              at_default[2][0], at_default[3][0]);
    CHECK_MSG(at_default[3][1] >= 0.95, "paragraphs, chars4: recall %.3f", at_default[3][1]);
    CHECK_MSG(at_default[2][1] < 0.6, "paragraphs, words5: recall %.3f", at_default[2][1]);
    /* Short items: 5-word shingles catch few one-edit copies. */
    CHECK_MSG(at_default[0][1] < 0.5 && at_default[1][1] > at_default[0][1], "items: recall %.3f (words5), %.3f (chars4)",
              at_default[0][1], at_default[1][1]);
    for (int i = 0; i < 2 * N; i++) gt_free(items[i]), gt_free(paras[i]);
}

/* gt_text_keys (one normalisation for both keys) gives the bytes of
 * gt_text_hash and gt_minhash_sign, with either key left out, and on a text
 * longer than GT_MINHASH_MAX_TEXT (whose signature reads only a prefix). */
static void keys_match(const gt_minhash *mh, const char *t, size_t n) {
    uint8_t h1[32], h2[32];
    uint64_t s1[GT_MINHASH_DEFAULT_HASHES], s2[GT_MINHASH_DEFAULT_HASHES];
    CHECK_EQ_INT(gt_text_hash(t, n, h1), 0);
    CHECK_EQ_INT(gt_minhash_sign(mh, t, n, s1), 0);
    memset(h2, 0, sizeof h2), memset(s2, 0, sizeof s2);
    CHECK_EQ_INT(gt_text_keys(mh, t, n, h2, s2), 0);
    CHECK(memcmp(h1, h2, 32) == 0 && memcmp(s1, s2, sizeof s1) == 0);
    memset(h2, 0, sizeof h2), memset(s2, 0, sizeof s2);
    CHECK_EQ_INT(gt_text_keys(NULL, t, n, h2, s2), 0);
    CHECK(memcmp(h1, h2, 32) == 0);
    CHECK_EQ_INT(s2[0], 0); /* no signature asked, none written */
    CHECK_EQ_INT(gt_text_keys(mh, t, n, NULL, s2), 0);
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
}

static void test_text_keys(void) {
    gt_minhash mh;
    gt_minhash_params p = gt_minhash_defaults();
    gt_err err = {0};
    CHECK_EQ_INT(gt_minhash_init(&mh, &p, &err), 0);
    const char *texts[] = {"", "  Hello,\t\tWORLD \n", "caf\xc3\x89 \xc3\x80 la carte and five more words here",
                           "ans\xc2\xadwer"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) keys_match(&mh, texts[i], strlen(texts[i]));
    /* Past the bound the hash reads the whole text and the signature a prefix. */
    size_t n = GT_MINHASH_MAX_TEXT + 64;
    char *big = gt_malloc(n);
    CHECK(big != NULL);
    for (size_t i = 0; i < n; i++) big[i] = (i % 7 == 6) ? ' ' : (char)('a' + i % 26);
    keys_match(&mh, big, n);
    gt_free(big);
    gt_minhash_free(&mh);
}

int main(void) {
    RUN(test_normalize);
    RUN(test_normalize_attacks);
    RUN(test_text_keys);
    RUN(test_estimate);
    RUN(test_chars);
    RUN(test_lsh);
    RUN(test_params);
    RUN(test_threshold_measured);
    return gt_test_finish();
}
