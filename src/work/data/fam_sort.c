/* fam_sort.c: the "sort" family: put 5..9 integers (0..999) or distinct words
 * in ascending or descending order (difficulty level n: n items, 2..9). The answer lists them separated by ", ";
 * the checker reads every number (or every word) of the answer in order and
 * wants exactly the sorted list, so a missing, extra or misplaced element is
 * wrong and the reason says where. A worked solution is a selection sort
 * written out, a line per item taken (sort_scratchpad). */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "work/data/families_impl.h"

#define SORT_MAX_N 9

typedef struct sort_params {
    int words, desc, n;
    int v[SORT_MAX_N];  /* numbers, or indexes into fam_words */
} sort_params;

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_word(const void *a, const void *b) {
    return strcmp(fam_words[*(const int *)a], fam_words[*(const int *)b]);
}

/* The list p->v in the order given, formatted "a, b, c". */
static void format_list(const sort_params *p, const int *v, char *out, size_t cap) {
    size_t off = 0;
    out[0] = 0;
    for (int i = 0; i < p->n; i++) {
        if (p->words) fam_cat(out, cap, &off, "%s%s", i ? ", " : "", fam_words[v[i]]);
        else fam_cat(out, cap, &off, "%s%d", i ? ", " : "", v[i]);
    }
}

static void sorted(const sort_params *p, int *out) {
    memcpy(out, p->v, sizeof(int) * (size_t)p->n);
    qsort(out, (size_t)p->n, sizeof(int), p->words ? cmp_word : cmp_int);
    if (p->desc)
        for (int i = 0; i < p->n / 2; i++) {
            int t = out[i];
            out[i] = out[p->n - 1 - i];
            out[p->n - 1 - i] = t;
        }
}

/* The list: at level 0, 5..9 items; at level n, n items. */
static void draw(gt_rng *r, int level, sort_params *p) {
    memset(p, 0, sizeof *p);
    p->words = (int)gt_rng_below(r, 2);
    p->desc = (int)gt_rng_below(r, 2);
    p->n = level ? level : (int)gt_rng_range(r, 5, SORT_MAX_N);
    if (p->words) { /* distinct words: a partial Fisher-Yates over the list */
        int idx[64];
        for (int i = 0; i < fam_n_words; i++) idx[i] = i;
        for (int i = 0; i < p->n; i++) {
            int j = i + (int)gt_rng_below(r, (uint64_t)(fam_n_words - i));
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
            p->v[i] = idx[i];
        }
    } else {
        for (int i = 0; i < p->n; i++) p->v[i] = (int)gt_rng_below(r, 1000);
    }
}

static void sort_generate(gt_rng *r, gt_family_item *it) {
    sort_params p;
    draw(r, it->level, &p);
    char list[GT_FAMILY_ANSWER_MAX];
    format_list(&p, p.v, list, sizeof list);
    snprintf(it->question, sizeof it->question, "Sort these %s in %s order: %s.", p.words ? "words" : "numbers",
             p.desc ? (p.words ? "reverse alphabetical" : "descending") : (p.words ? "alphabetical" : "ascending"),
             list);
    int s[SORT_MAX_N];
    sorted(&p, s);
    format_list(&p, s, it->answer, sizeof it->answer);
    size_t off = 0;
    fam_cat(it->meta, sizeof it->meta, &off, "{\"kind\":\"%s\",\"order\":\"%s\",\"items\":[",
            p.words ? "words" : "numbers", p.desc ? "desc" : "asc");
    for (int i = 0; i < p.n; i++) {
        if (p.words) fam_cat(it->meta, sizeof it->meta, &off, "%s\"%s\"", i ? "," : "", fam_words[p.v[i]]);
        else fam_cat(it->meta, sizeof it->meta, &off, "%s%d", i ? "," : "", p.v[i]);
    }
    fam_cat(it->meta, sizeof it->meta, &off, "]}");
}

/* The item's parameters again: regenerated from its seed and index (cheaper
 * and safer than parsing the question back). */
static void params_of(const gt_family_item *it, sort_params *p) {
    gt_rng r;
    fam_item_rng(it, &r); /* the generator sort_generate saw: draw() comes first there */
    draw(&r, it->level, p);
}

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static void sort_check(const gt_family_item *it, const char *ans, size_t n, int marked, gt_verdict *v) {
    (void)marked;
    sort_params p;
    params_of(it, &p);
    int want[SORT_MAX_N];
    sorted(&p, want);
    if (!p.words) {
        fam_num got[SORT_MAX_N + 1];
        int k = fam_nums(ans, n, 0, got, SORT_MAX_N + 1);
        if (k == -2) return fam_verdict(v, 0, "a number in the answer is too long");
        if (k != p.n) return fam_verdict(v, 0, "expected %d numbers, got %d", p.n, k);
        for (int i = 0; i < p.n; i++)
            if (got[i].neg || got[i].mant != (uint64_t)want[i])
                return fam_verdict(v, 0, "position %d: expected %d, got %s%" PRIu64, i + 1, want[i],
                                   got[i].neg ? "-" : "", got[i].mant);
        return fam_verdict(v, 1, "correct");
    }
    int k = 0;
    size_t i = 0;
    while (i < n) {
        if (!is_alpha((unsigned char)ans[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && is_alpha((unsigned char)ans[j])) j++;
        if (k < p.n) {
            const char *w = fam_words[want[k]];
            size_t wl = strlen(w);
            int same = wl == j - i;
            for (size_t q = 0; same && q < wl; q++) same = (ans[i + q] | 32) == w[q];
            if (!same)
                return fam_verdict(v, 0, "position %d: expected %s, got %.*s", k + 1, w, (int)(j - i < 32 ? j - i : 32),
                                   ans + i);
        }
        k++;
        i = j;
    }
    if (k != p.n) return fam_verdict(v, 0, "expected %d words, got %d", p.n, k);
    fam_verdict(v, 1, "correct");
}

static int sort_distract(const gt_family_item *it, gt_rng *r, char (*out)[GT_FAMILY_ANSWER_MAX], int k) {
    sort_params p;
    params_of(it, &p);
    int s[SORT_MAX_N];
    sorted(&p, s);
    int got = 0;
    for (int tries = 0; got < k && tries < 64; tries++) {
        int c[SORT_MAX_N];
        memcpy(c, s, sizeof c);
        int kind = (int)gt_rng_below(r, 3);
        if (kind == 0) { /* one adjacent pair swapped */
            int i = (int)gt_rng_below(r, (uint64_t)p.n - 1);
            int t = c[i];
            c[i] = c[i + 1];
            c[i + 1] = t;
        } else if (kind == 1) { /* the wrong direction */
            for (int i = 0; i < p.n; i++) c[i] = s[p.n - 1 - i];
        } else { /* left as given */
            memcpy(c, p.v, sizeof(int) * (size_t)p.n);
        }
        char buf[GT_FAMILY_ANSWER_MAX];
        format_list(&p, c, buf, sizeof buf);
        int dup = !strcmp(buf, it->answer);
        for (int j = 0; j < got && !dup; j++) dup = !strcmp(out[j], buf);
        if (!dup) memcpy(out[got++], buf, sizeof buf);
    }
    return got;
}

/* One item as the worked solution writes it: a number zero-padded to three
 * digits (so that comparing two is comparing digits in the same places), a
 * word as its first three letters (unique in fam_words, test_families
 * checks: the keys sort as the words do, and every line stays short enough
 * for five items in the recipe's 256-token windows). */
static void pad_item(const sort_params *p, int v, char *out, size_t cap, size_t *off) {
    if (p->words) fam_cat(out, cap, off, "%.3s", fam_words[v]);
    else fam_cat(out, cap, off, "%03d", v);
}

/* A selection sort written out: "pad: 392 361 007;\n< 007: 392 361;\n
 * < 361: 392;\n< 392;\nAnswer: 7, 361, 392" ('<' takes the smallest; '>'
 * the largest, descending; words by their keys: "pad: riv app;"). Each line
 * takes the first item in order of what is left and restates the rest in
 * their given order, so every step is one choice among a few items a line
 * away, and the answer is the lines' first items read top down. Every list
 * ends in ';': restating the rest is copying the line above, skipping the
 * item taken, and when that item is the last one the copy goes on to the
 * ';' like any other (without it, the model the recipe trained kept the
 * taken item and dropped another in most of its misses at 4-5 items: the
 * item taken was the line's last). '<' rather than "min" keeps five words'
 * rows inside the recipe's 256-token windows. */
static int sort_scratchpad(const gt_family_item *it, char *out, size_t cap) {
    sort_params p;
    params_of(it, &p);
    int s[SORT_MAX_N], left[SORT_MAX_N], nl = p.n;
    sorted(&p, s);
    memcpy(left, p.v, sizeof(int) * (size_t)p.n);
    size_t off = 0;
    out[0] = 0;
    fam_cat(out, cap, &off, "pad:");
    for (int i = 0; i < p.n; i++) fam_cat(out, cap, &off, " "), pad_item(&p, p.v[i], out, cap, &off);
    fam_cat(out, cap, &off, ";");
    for (int k = 0; k < p.n; k++) {
        fam_cat(out, cap, &off, "\n%c ", p.desc ? '>' : '<');
        pad_item(&p, s[k], out, cap, &off);
        int at = 0; /* the first of the items left equal to s[k] (numbers may repeat) */
        while (at < nl && left[at] != s[k]) at++;
        assert(at < nl);
        memmove(left + at, left + at + 1, sizeof(int) * (size_t)(nl - at - 1)), nl--;
        if (nl) fam_cat(out, cap, &off, ":");
        for (int i = 0; i < nl; i++) fam_cat(out, cap, &off, " "), pad_item(&p, left[i], out, cap, &off);
        fam_cat(out, cap, &off, ";");
    }
    fam_cat(out, cap, &off, "\nAnswer: %s", it->answer);
    return off + 1 >= cap ? -1 : 0;
}

const gt_family gt_family_sort = {
    "sort", "sort integers or words ascending or descending", "the items in order, separated by \", \"",
    sort_generate, sort_check, sort_distract, 2, SORT_MAX_N, sort_scratchpad,
};
