/* test_unicode_norm.c: the normalisation forms against Unicode's own
 * conformance file (NormalizationTest.txt of the same version as the tables,
 * fetched by scripts/setup.sh test into .cache/fixtures/unicode): for every
 * line c1..c5, NFC, NFD, NFKC and NFKD of each column equal the columns the
 * standard says (UAX #15's conformance rules). Then case folding, the
 * skeleton, UTF-8 with invalid bytes, and the linear bound on long runs of
 * combining marks. Without the file the conformance part fails loudly,
 * naming the command that fetches it (a missing check is not a passed one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "base/unicode_norm.h"
#include "base/unicode_tables.h"

#define MAX_COL 64 /* code points per column; the file's longest is under 20 */

typedef struct col {
    uint32_t cp[MAX_COL];
    size_t n;
} col;

/* Parses "1E0A 0323" into c; 0 on success. */
static int parse_col(const char *s, const char *end, col *c) {
    c->n = 0;
    while (s < end) {
        char *next;
        unsigned long v = strtoul(s, &next, 16);
        if (next == s) return -1;
        if (c->n == MAX_COL) return -1;
        c->cp[c->n++] = (uint32_t)v;
        s = next;
        while (s < end && *s == ' ') s++;
    }
    return 0;
}

static int same(const gt_ucps *u, const col *c) {
    return u->len == c->n && (c->n == 0 || !memcmp(u->cp, c->cp, c->n * sizeof c->cp[0]));
}

/* Checks one line's five columns; returns the number of failures. */
static int check_line(const col c[5], long line_no) {
    /* c2 = NFC(c1..c3), c4 = NFC(c4..c5); c3 = NFD(c1..c3), c5 = NFD(c4..c5);
     * c4 = NFKC(all), c5 = NFKD(all). */
    static const int want[4][5] = {{1, 1, 1, 3, 3}, {2, 2, 2, 4, 4}, {3, 3, 3, 3, 3}, {4, 4, 4, 4, 4}};
    static const gt_uni_form forms[4] = {GT_UNI_NFC, GT_UNI_NFD, GT_UNI_NFKC, GT_UNI_NFKD};
    static const char *names[4] = {"NFC", "NFD", "NFKC", "NFKD"};
    gt_ucps out = GT_UCPS_INIT;
    int bad = 0;
    for (int f = 0; f < 4; f++)
        for (int k = 0; k < 5; k++) {
            if (gt_uni_normalize(forms[f], c[k].cp, c[k].n, &out)) return 1;
            if (!same(&out, &c[want[f][k]])) {
                if (bad++ < 3)
                    fprintf(stderr, "NormalizationTest.txt line %ld: %s(c%d) differs from c%d\n", line_no, names[f],
                            k + 1, want[f][k] + 1);
            }
        }
    gt_ucps_free(&out);
    return bad;
}

static void test_conformance(void) {
    const char *path = gt_fixture("unicode/NormalizationTest.txt");
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "%s is missing: run `bash scripts/setup.sh test` (Debian's unicode-data %s)", path,
              gt_uni_version);
    if (!f) return;
    char line[1024];
    long no = 0, lines = 0, failures = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        if (line[0] == '#' || line[0] == '@' || line[0] == '\n') continue;
        col c[5];
        const char *s = line;
        int ok = 1;
        for (int k = 0; k < 5 && ok; k++) {
            const char *semi = strchr(s, ';');
            ok = semi && parse_col(s, semi, &c[k]) == 0;
            s = semi ? semi + 1 : s;
        }
        CHECK_MSG(ok, "line %ld does not parse", no);
        if (!ok) continue;
        lines++;
        failures += check_line(c, no);
    }
    fclose(f);
    fprintf(stderr, "NormalizationTest.txt (Unicode %s): %ld lines, %ld failures\n", gt_uni_version, lines,
            failures);
    CHECK(lines > 19000); /* the file has ~19k cases: a short read is not a pass */
    CHECK_EQ_INT(failures, 0);
}

/* Normalises UTF-8 `in` with form and compares the UTF-8 result. */
static void form_utf8(gt_uni_form form, const char *in, const char *want) {
    gt_ucps a = GT_UCPS_INIT, b = GT_UCPS_INIT;
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(gt_uni_decode(in, strlen(in), &a), 0);
    CHECK_EQ_INT(gt_uni_normalize(form, a.cp, a.len, &b), 0);
    CHECK_EQ_INT(gt_uni_encode(b.cp, b.len, &out), 0);
    CHECK_MSG(out.len == strlen(want) && !memcmp(out.data, want, out.len), "form %d of '%s'", (int)form, in);
    gt_ucps_free(&a), gt_ucps_free(&b), gt_buf_free(&out);
}

static void test_compatibility(void) {
    form_utf8(GT_UNI_NFKC, "\xef\xbc\xa8\xef\xbd\x85\xef\xbd\x8c\xef\xbd\x8c\xef\xbd\x8f", "Hello"); /* fullwidth */
    form_utf8(GT_UNI_NFKC, "\xef\xac\x81ne \xef\xac\x80", "fine ff");                  /* ligatures fi, ff */
    form_utf8(GT_UNI_NFKC, "x\xc2\xb2+y\xe2\x82\x83", "x2+y3");                         /* superscript, subscript */
    form_utf8(GT_UNI_NFKC, "\xf0\x9d\x90\x80\xf0\x9d\x90\x9b\xf0\x9d\x90\x9c", "Abc"); /* math bold */
    form_utf8(GT_UNI_NFKC, "\xe2\x91\xa0\xe3\x8e\x8f", "1kg");                          /* circled 1, square kg */
    form_utf8(GT_UNI_NFC, "e\xcc\x81", "\xc3\xa9");                                     /* e + acute composes */
    form_utf8(GT_UNI_NFD, "\xc3\xa9", "e\xcc\x81");
    form_utf8(GT_UNI_NFC, "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", "\xed\x95\x9c");      /* Hangul jamo to 한 */
    form_utf8(GT_UNI_NFD, "\xed\x95\x9c", "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab");
    form_utf8(GT_UNI_NFC, "\xff" "a\xcc\x81", "\xff\xc3\xa1");                          /* a stray byte passes */
}

static void test_fold_and_skeleton(void) {
    gt_ucps a = GT_UCPS_INIT, b = GT_UCPS_INIT;
    gt_buf out = GT_BUF_INIT;
    /* ß folds to ss (full folding), Σ and ς to σ. */
    const char *street = "Stra\xc3\x9f" "e \xce\xa3\xcf\x82";
    CHECK_EQ_INT(gt_uni_decode(street, strlen(street), &a), 0);
    CHECK_EQ_INT(gt_uni_casefold(a.cp, a.len, &b), 0);
    CHECK_EQ_INT(gt_uni_encode(b.cp, b.len, &out), 0);
    CHECK(out.len == 12 && !memcmp(out.data, "strasse \xcf\x83\xcf\x83", 12));
    gt_buf_reset(&out);
    /* Cyrillic р а у р а l and Latin paypal share a skeleton. */
    CHECK_EQ_INT(gt_uni_decode("\xd1\x80\xd0\xb0\xd1\x83\xd1\x80\xd0\xb0l", 11, &a), 0);
    CHECK_EQ_INT(gt_uni_skeleton(a.cp, a.len, &b), 0);
    CHECK_EQ_INT(gt_uni_encode(b.cp, b.len, &out), 0);
    CHECK(out.len == 6 && !memcmp(out.data, "paypal", 6));
    CHECK(gt_uni_is_ignorable(0x200B) && gt_uni_is_ignorable(0xAD) && !gt_uni_is_ignorable('a'));
    CHECK(gt_uni_is_space(0x3000) && !gt_uni_is_space(0x200B));
    CHECK_EQ_INT(gt_uni_ccc(0x301), 230);
    gt_ucps_free(&a), gt_ucps_free(&b), gt_buf_free(&out);
}

/* 200 000 combining marks after one letter, in descending class order: the
 * counting sort orders them (an insertion sort would take ~10^10 steps). */
static void test_long_mark_run(void) {
    enum { N = 200000 };
    gt_ucps in = GT_UCPS_INIT, out = GT_UCPS_INIT;
    CHECK_EQ_INT(gt_ucps_push(&in, 'a'), 0);
    for (int i = 0; i < N; i++) CHECK_EQ_INT(gt_ucps_push(&in, i % 2 ? 0x0316 /* 220 */ : 0x0301 /* 230 */), 0);
    CHECK_EQ_INT(gt_uni_normalize(GT_UNI_NFD, in.cp, in.len, &out), 0);
    CHECK_EQ_INT(out.len, N + 1);
    int sorted = 1;
    for (size_t i = 2; i < out.len; i++) sorted &= gt_uni_ccc(out.cp[i - 1]) <= gt_uni_ccc(out.cp[i]);
    CHECK(sorted);
    CHECK_EQ_INT(out.cp[1], 0x0316);
    gt_ucps_free(&in), gt_ucps_free(&out);
}

/* The fast paths of unicode_norm.c assume facts of the tables: check them. */
static void test_fast_path_facts(void) {
    for (size_t i = 0; i < gt_uni_n_cccs; i++) CHECK(gt_uni_cccs[i].lo >= 0x300);
    for (size_t i = 0; i < gt_uni_n_decomps; i++) CHECK(gt_uni_decomps[i].cp >= 0xA0);
    for (size_t i = 0; i < gt_uni_n_comps; i++) CHECK(gt_uni_comps[i].second >= 0x300);
    int folds = 0, confusables = 0;
    for (size_t i = 0; i < gt_uni_n_folds && gt_uni_folds[i].cp < 0x80; i++) {
        uint32_t cp = gt_uni_folds[i].cp;
        CHECK(cp >= 'A' && cp <= 'Z' && gt_uni_folds[i].len == 1 && gt_uni_pool[gt_uni_folds[i].off] == cp + 32);
        folds++;
    }
    for (size_t i = 0; i < gt_uni_n_confusables && gt_uni_confusables[i].cp < 0x80; i++) {
        CHECK(strchr("`\"|1I0%m", (int)gt_uni_confusables[i].cp) != NULL);
        confusables++;
    }
    CHECK_EQ_INT(folds, 26);
    CHECK_EQ_INT(confusables, 8);
}

int main(void) {
    test_fast_path_facts();
    test_conformance();
    test_compatibility();
    test_fold_and_skeleton();
    test_long_mark_run();
    return gt_test_finish();
}
