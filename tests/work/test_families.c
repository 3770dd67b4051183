/* test_families.c: every procedural family on known good and bad answers,
 * answer extraction, determinism from (seed, index), distractors, and a sweep
 * of many items checking that each canonical answer passes and each
 * distractor fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "base/err.h"
#include "work/data/families.h"
#include "work/data/rng.h"

static int ok(const gt_family_item *it, const char *out) {
    gt_verdict v;
    gt_family_check(it, out, strlen(out), &v);
    return v.ok;
}

static void test_extract(void) {
    const char *s;
    int marked;
    size_t n = gt_answer_extract("Let me think.\n6*7 = 42\nAnswer: **42**.\n", 38, &s, &marked);
    CHECK_EQ_INT(n, 2);
    CHECK(!memcmp(s, "42", 2));
    CHECK_EQ_INT(marked, 1);
    const char *t = "first answer: 1\nthen ANSWER: \"abc\"\nmore text";
    n = gt_answer_extract(t, strlen(t), &s, &marked);
    CHECK_EQ_INT(n, 3);
    CHECK(!memcmp(s, "abc", 3));
    t = "no marker here\n  the result is 17  \n\n";
    n = gt_answer_extract(t, strlen(t), &s, &marked);
    CHECK_EQ_INT(marked, 0);
    CHECK(n == 16 && !memcmp(s, "the result is 17", 16));
    t = "Answer:   \nfallback line";
    n = gt_answer_extract(t, strlen(t), &s, &marked);
    CHECK_EQ_INT(marked, 0);
    CHECK(n == 13 && !memcmp(s, "fallback line", 13));
    n = gt_answer_extract(" \n\t ", 4, &s, &marked);
    CHECK_EQ_INT(n, 0);
    n = gt_answer_extract("", 0, &s, &marked);
    CHECK_EQ_INT(n, 0);
}

static void test_rng(void) {
    gt_rng a, b, c;
    gt_rng_seed(&a, 42, 7);
    gt_rng_seed(&b, 42, 7);
    gt_rng_seed(&c, 42, 8);
    int same = 1, diff = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = gt_rng_next(&a), y = gt_rng_next(&b), z = gt_rng_next(&c);
        same &= x == y;
        diff += x != z;
    }
    CHECK(same);
    CHECK(diff == 100);
    /* below() is in range and roughly uniform over 6 faces. */
    int counts[6] = {0};
    for (int i = 0; i < 60000; i++) counts[gt_rng_below(&a, 6)]++;
    for (int i = 0; i < 6; i++) CHECK_MSG(counts[i] > 9500 && counts[i] < 10500, "face %d: %d", i, counts[i]);
    double u = gt_rng_unit(&a);
    CHECK(u >= 0 && u < 1);
    /* Pinned values: the items of versioned benchmarks (arith-v1, ...) depend
     * on these bits, so a change here must come with new benchmark versions. */
    gt_rng_seed(&a, 0, 0);
    CHECK_EQ_U64(gt_rng_next(&a), 0xc127b9c72b087cd9ull);
    CHECK_EQ_U64(gt_rng_next(&a), 0x2261db7a4a106b14ull);
    CHECK_EQ_U64(gt_rng_next(&a), 0x6a444ac24ab90710ull);
}

/* Item 0 of seed 1 of every family, pinned for the same reason. */
static void test_pinned_items(void) {
    static const char *const want[][3] = {
        {"arith", "What is 4500064 * 2995531?", "13480081213984"},
        {"units", "Convert 238 kilograms (kg) to grams (g). Give the result rounded to 2 decimal places.", "238000.00"},
        {"sort",
         "Sort these words in alphabetical order: pencil, needle, tunnel, oyster, falcon, rabbit, umbrella, glacier, "
         "marble.",
         "falcon, glacier, marble, needle, oyster, pencil, rabbit, tunnel, umbrella"},
        {"logic", "Let A = false, B = true. Is ((A xor B) and not B) true or false?", "false"},
        {"strings", "Remove every vowel (a, e, i, o, u, either case) from the string \"atdxmjr\".", "tdxmjr"},
    };
    CHECK_EQ_INT(gt_family_count(), 5);
    for (int i = 0; i < 5; i++) {
        gt_family_item it;
        gt_family_generate(gt_family_by_name(want[i][0]), 1, 0, &it);
        CHECK_STR(it.question, want[i][1]);
        CHECK_STR(it.answer, want[i][2]);
    }
}

static void test_arith(void) {
    const gt_family *f = gt_family_by_name("arith");
    CHECK(f != NULL);
    gt_family_item it;
    gt_family_generate(f, 1, 0, &it);
    gt_family_item again;
    gt_family_generate(f, 1, 0, &again);
    CHECK_STR(it.question, again.question);
    CHECK_STR(it.answer, again.answer);
    char buf[600];
    snprintf(buf, sizeof buf, "Working it out...\nAnswer: %s", it.answer);
    CHECK(ok(&it, buf));
    snprintf(buf, sizeof buf, "so the result is %s", it.answer);
    CHECK(ok(&it, buf));
    CHECK(!ok(&it, "Answer: 0"));
    CHECK(!ok(&it, "I do not know"));
    CHECK(!ok(&it, "Answer: 123456789012345678901234"));
    /* Hand-made items through the same checker. */
    gt_family_item h = {.family = f};
    snprintf(h.answer, sizeof h.answer, "43729191");
    CHECK(ok(&h, "Answer: 43,729,191"));
    CHECK(ok(&h, "Answer: 43729191 (48213 * 907)"));  /* first number of a marked span */
    CHECK(!ok(&h, "48213 * 907 = 43729190"));          /* last number of an unmarked one */
    CHECK(ok(&h, "48213 * 907 = 43729191"));
    CHECK(!ok(&h, "Answer: -43729191"));
    snprintf(h.answer, sizeof h.answer, "-333");
    CHECK(ok(&h, "Answer: -333"));
    CHECK(!ok(&h, "Answer: 333"));
    CHECK(ok(&h, "12 - 345 = -333"));
    gt_verdict v;
    gt_family_check(&h, "Answer: 333", 11, &v);
    CHECK_CONTAINS(v.reason, "expected -333, got 333");
}

static void test_units(void) {
    const gt_family *f = gt_family_by_name("units");
    gt_family_item it = {.family = f};
    /* 10 mi = 16.09344 km exactly. */
    snprintf(it.meta, sizeof it.meta, "{\"tenths\":100,\"from\":\"mi\",\"to\":\"km\"}");
    snprintf(it.answer, sizeof it.answer, "16.09");
    CHECK(ok(&it, "Answer: 16.09"));
    CHECK(ok(&it, "Answer: 16.09344 km"));
    CHECK(ok(&it, "Answer: 16.0934"));
    CHECK(ok(&it, "Answer: 16.098"));    /* within 0.005 of 16.09344 */
    CHECK(!ok(&it, "Answer: 16.1"));     /* 0.00656 away */
    CHECK(!ok(&it, "Answer: 16"));
    CHECK(!ok(&it, "Answer: -16.09"));
    CHECK(!ok(&it, "Answer: miles"));
    /* 1 lb = 453.59237 g: the bound is exact, not floating point. */
    snprintf(it.meta, sizeof it.meta, "{\"tenths\":10,\"from\":\"lb\",\"to\":\"g\"}");
    CHECK(ok(&it, "Answer: 453.59"));
    CHECK(ok(&it, "Answer: 453.58737"));  /* exactly 0.005 below */
    CHECK(!ok(&it, "Answer: 453.587369"));
    CHECK(ok(&it, "Answer: 453.59737"));  /* exactly 0.005 above */
    CHECK(!ok(&it, "Answer: 453.597371"));
    gt_family_item g;
    gt_family_generate(f, 5, 3, &g);
    CHECK_CONTAINS(g.question, "rounded to 2 decimal places");
    CHECK(ok(&g, g.answer));
}

static void test_sort(void) {
    const gt_family *f = gt_family_by_name("sort");
    int seen_words = 0, seen_nums = 0;
    for (uint64_t i = 0; i < 40; i++) {
        gt_family_item it;
        gt_family_generate(f, 9, i, &it);
        char buf[700];
        snprintf(buf, sizeof buf, "Answer: %s", it.answer);
        CHECK(ok(&it, buf));
        if (strstr(it.question, "words")) {
            seen_words++;
            /* Upper case and other separators are fine; order is not. */
            char up[300];
            snprintf(up, sizeof up, "Answer: %s", it.answer);
            for (char *c = up + 8; *c; c++)
                if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 32);
                else if (*c == ',') *c = ' ';
            CHECK(ok(&it, up));
        } else {
            seen_nums++;
            /* Drop the last element: wrong count. */
            char *last = strrchr(buf, ',');
            if (last) {
                *last = 0;
                gt_verdict v;
                gt_family_check(&it, buf, strlen(buf), &v);
                CHECK(!v.ok);
                CHECK_CONTAINS(v.reason, "expected");
            }
        }
    }
    CHECK(seen_words > 5 && seen_nums > 5);
}

static void test_logic(void) {
    const gt_family *f = gt_family_by_name("logic");
    gt_family_item it;
    gt_family_generate(f, 3, 11, &it);
    CHECK(strstr(it.question, "true or false") != NULL);
    int t = !strcmp(it.answer, "true");
    CHECK(ok(&it, t ? "It is true." : "It is false."));
    CHECK(ok(&it, t ? "Answer: YES" : "Answer: No"));
    CHECK(!ok(&it, t ? "Answer: false" : "Answer: true"));
    CHECK(!ok(&it, "Answer: maybe"));
    /* The last truth word counts. */
    CHECK(ok(&it, t ? "A is false, so the formula is true" : "A is true, so the formula is false"));
}

/* Evaluates the formula in the question independently (a small recursive
 * parser), so the generator's own evaluation is checked against another. */
typedef struct lp {
    const char *s;
    int vals[26];
} lp;
static void lp_ws(lp *p) {
    while (*p->s == ' ') p->s++;
}
static int lp_expr(lp *p);
static int lp_atom(lp *p) {
    lp_ws(p);
    if (!strncmp(p->s, "not ", 4)) {
        p->s += 4;
        return !lp_atom(p);
    }
    if (*p->s == '(') {
        p->s++;
        int v = lp_expr(p);
        lp_ws(p);
        if (*p->s == ')') p->s++;
        return v;
    }
    int v = p->vals[*p->s - 'A'];
    p->s++;
    return v;
}
static int lp_expr(lp *p) {
    int a = lp_atom(p);
    lp_ws(p);
    if (!strncmp(p->s, "and ", 4)) return p->s += 4, a & lp_atom(p);
    if (!strncmp(p->s, "or ", 3)) return p->s += 3, a | lp_atom(p);
    if (!strncmp(p->s, "xor ", 4)) return p->s += 4, a ^ lp_atom(p);
    return a;
}

static void test_logic_independent(void) {
    const gt_family *f = gt_family_by_name("logic");
    for (uint64_t i = 0; i < 500; i++) {
        gt_family_item it;
        gt_family_generate(f, 77, i, &it);
        lp p;
        memset(&p, 0, sizeof p);
        const char *q = it.question + 4; /* "Let " */
        while (*q >= 'A' && *q <= 'Z' && q[1] == ' ') {
            p.vals[*q - 'A'] = !strncmp(q + 4, "true", 4);
            q = strchr(q, ',') && strchr(q, ',') < strstr(q, ". Is ") ? strchr(q, ',') + 2 : strstr(q, ". Is ");
            if (!strncmp(q, ". Is ", 5)) break;
        }
        p.s = strstr(it.question, ". Is ") + 5;
        int v = lp_expr(&p);
        CHECK_MSG(v == !strcmp(it.answer, "true"), "item %d: %s -> %s", (int)i, it.question, it.answer);
    }
}

static void test_strings(void) {
    const gt_family *f = gt_family_by_name("strings");
    gt_family_item it;
    int seen[6] = {0};
    for (uint64_t i = 0; i < 200; i++) {
        gt_family_generate(f, 4, i, &it);
        char buf[400];
        snprintf(buf, sizeof buf, "Answer: \"%s\"", it.answer);
        CHECK(ok(&it, buf));
        if (strstr(it.question, "Reverse")) {
            seen[0]++;
            const char *in = strchr(it.question, '"') + 1;
            size_t n = (size_t)(strchr(in, '"') - in);
            CHECK_EQ_INT(strlen(it.answer), n);
            for (size_t k = 0; k < n; k++) CHECK(it.answer[k] == in[n - 1 - k]);
        }
        if (strstr(it.question, "rot13")) {
            seen[1]++;
            const char *in = strchr(it.question, '"') + 1;
            for (size_t k = 0; it.answer[k]; k++) {
                int a = in[k] | 32, b = it.answer[k] | 32;
                CHECK((a - 'a' + 13) % 26 == b - 'a');
            }
        }
    }
    CHECK(seen[0] > 10 && seen[1] > 10);
    gt_family_item h = {.family = f};
    snprintf(h.answer, sizeof h.answer, "tneqra");
    CHECK(ok(&h, "Answer: tneqra"));
    CHECK(ok(&h, "Answer: `tneqra`."));
    CHECK(!ok(&h, "Answer: Tneqra"));
    CHECK(!ok(&h, "Answer: tneqr"));
}

/* Every family: canonical answers pass, distractors fail, choices hold the
 * gold answer once, generation is a pure function of (seed, index). */
static void test_sweep(void) {
    for (int fi = 0; fi < gt_family_count(); fi++) {
        const gt_family *f = gt_family_at(fi);
        int bad = 0, distinct_q = 0;
        char prev[GT_FAMILY_QUESTION_MAX] = "";
        for (uint64_t i = 0; i < 1000; i++) {
            gt_family_item it;
            gt_family_generate(f, 2024, i, &it);
            CHECK(strlen(it.question) < GT_FAMILY_QUESTION_MAX - 1);
            distinct_q += strcmp(prev, it.question) != 0;
            snprintf(prev, sizeof prev, "%s", it.question);
            gt_verdict v;
            gt_family_check(&it, it.answer, strlen(it.answer), &v);
            if (!v.ok) {
                bad++;
                if (bad < 4) fprintf(stderr, "%s item %d: answer %s judged wrong: %s\n", f->name, (int)i, it.answer, v.reason);
            }
            char ch[GT_FAMILY_MAX_CHOICES][GT_FAMILY_ANSWER_MAX];
            int gold = -1;
            int n = gt_family_choices(&it, 4, ch, &gold);
            CHECK(n >= 2 && gold >= 0 && gold < n);
            int golds = 0;
            for (int c = 0; c < n; c++) {
                gt_family_check(&it, ch[c], strlen(ch[c]), &v);
                golds += v.ok;
                if (c == gold) CHECK(v.ok);
                for (int d = 0; d < c; d++) CHECK(strcmp(ch[c], ch[d]) != 0);
            }
            CHECK_MSG(golds == 1, "%s item %d: %d choices judged correct", f->name, (int)i, golds);
            if (!strcmp(f->name, "logic")) CHECK_EQ_INT(n, 2);
            else CHECK_MSG(n == 4, "%s item %d: %d choices", f->name, (int)i, n);
        }
        CHECK_MSG(bad == 0, "%s: %d canonical answers judged wrong", f->name, bad);
        CHECK(distinct_q > 900);
    }
    CHECK(gt_family_by_name("nope") == NULL);
    CHECK(gt_family_at(-1) == NULL && gt_family_at(gt_family_count()) == NULL);
}

static void test_limits(void) {
    gt_family_item it;
    gt_family_generate(gt_family_by_name("arith"), 1, 1, &it);
    static char big[GT_FAMILY_CANDIDATE_MAX + 2];
    memset(big, '7', sizeof big - 1);
    gt_verdict v;
    gt_family_check(&it, big, sizeof big - 1, &v);
    CHECK(!v.ok);
    CHECK_CONTAINS(v.reason, "over the limit");
    /* A long run of digits is refused, not overflowed. */
    gt_family_check(&it, big, 4000, &v);
    CHECK(!v.ok);
    CHECK_CONTAINS(v.reason, "digits");
}

/* Difficulty levels: level 0 is the default mix (the same items), arith's
 * level d gives d-digit operands, sort's n items, logic's depth d; other
 * levels are refused. */
static void test_levels(void) {
    const gt_family *ar = gt_family_by_name("arith"), *so = gt_family_by_name("sort");
    const gt_family *lo = gt_family_by_name("logic"), *un = gt_family_by_name("units");
    gt_family_item a, b;
    for (uint64_t i = 0; i < 20; i++) {
        gt_family_generate(ar, 9, i, &a);
        CHECK_EQ_INT(gt_family_generate_level(ar, 9, i, 0, &b), 0);
        CHECK(!strcmp(a.question, b.question) && !strcmp(a.answer, b.answer) && !strcmp(a.meta, b.meta));
    }
    for (int d = 1; d <= 9; d++)
        for (uint64_t i = 0; i < 30; i++) {
            CHECK_EQ_INT(gt_family_generate_level(ar, 5, i, d, &a), 0);
            long long x = -1, y = -1;
            char op = 0;
            CHECK(sscanf(a.question, "What is %lld %c %lld?", &x, &op, &y) == 3);
            char bx[32], by[32];
            snprintf(bx, sizeof bx, "%lld", x), snprintf(by, sizeof by, "%lld", y);
            CHECK_MSG((int)strlen(bx) == d && (int)strlen(by) == d, "level %d: %s", d, a.question);
            CHECK(ok(&a, a.answer));
        }
    for (int n = 2; n <= 9; n++) {
        CHECK_EQ_INT(gt_family_generate_level(so, 5, (uint64_t)n, n, &a), 0);
        int commas = 0;
        for (const char *c = a.answer; *c; c++) commas += *c == ',';
        CHECK_MSG(commas == n - 1, "sort level %d: %s", n, a.answer);
        CHECK(ok(&a, a.answer));
    }
    for (int d = 1; d <= 3; d++) {
        char want[32];
        snprintf(want, sizeof want, "\"depth\":%d", d);
        CHECK_EQ_INT(gt_family_generate_level(lo, 5, 1, d, &a), 0);
        CHECK_CONTAINS(a.meta, want);
        CHECK(ok(&a, a.answer));
    }
    CHECK_EQ_INT(gt_family_generate_level(ar, 5, 1, 10, &a), GT_EINVAL);
    CHECK_EQ_INT(gt_family_generate_level(so, 5, 1, 1, &a), GT_EINVAL);
    CHECK_EQ_INT(gt_family_generate_level(lo, 5, 1, 4, &a), GT_EINVAL);
    CHECK_EQ_INT(gt_family_generate_level(un, 5, 1, 1, &a), GT_EINVAL);
}

/* The digits a worked +/- solution writes -- the last character of each
 * "d+d+c=cd" / "d-d-b=bd" line, units first, and the last line's carry --
 * read back into the number they make (its columns must spell the answer). */
static long long written_number(const char *pad) {
    long long v = 0, place = 1;
    int carry = 0;
    if (!strncmp(pad, "cmp ", 4)) pad = strchr(pad, '\n') + 1; /* a difference's comparison line first */
    for (const char *p = strchr(pad, '='); p && p[1] >= '0' && p[1] <= '9'; p = strchr(p + 1, '=')) {
        v += (p[2] - '0') * place;
        place *= 10;
        carry = p[1] == '1' && p[-4] != '-' ? 1 : 0; /* a sum's carry out; a borrow leaves nothing */
    }
    return v + carry * place;
}

/* The worked solution pad with its marked answer replaced by each of the
 * item's distractors must be judged wrong: what the steps show cannot make a
 * wrong final answer pass. */
static void check_wrong_answer_fails(const gt_family_item *it, const char *pad) {
    char alt[GT_FAMILY_MAX_CHOICES][GT_FAMILY_ANSWER_MAX], bad[GT_FAMILY_SCRATCHPAD_MAX + GT_FAMILY_ANSWER_MAX];
    int gold, n = gt_family_choices(it, GT_FAMILY_MAX_CHOICES, alt, &gold);
    const char *mark = strstr(pad, "Answer: ");
    CHECK(mark != NULL);
    for (int k = 0; mark && k < n; k++) {
        if (k == gold) continue;
        snprintf(bad, sizeof bad, "%.*sAnswer: %s", (int)(mark - pad), pad, alt[k]);
        CHECK_MSG(!ok(it, bad), "%s: a pad ending in %s passed\n%s", it->question, alt[k], bad);
    }
}

/* A difference's comparison line and digit line: "cmp A B: ... so
 * [negate ]X-Y" negates exactly when a < b, and "= 0375" holds the
 * difference's digits, leading zeros kept. */
static void check_sub_lines(const char *pad, long long a, long long b) {
    CHECK_MSG(!strncmp(pad, "cmp ", 4), "%s", pad);
    const char *nl = strchr(pad, '\n'), *neg = strstr(pad, "negate");
    CHECK_MSG((neg && neg < nl) == (a < b), "%lld - %lld\n%s", a, b, pad);
    const char *eq = strstr(pad, "\n= ");
    CHECK_MSG(eq && atoll(eq + 3) == (a < b ? b - a : a - b), "%lld - %lld\n%s", a, b, pad);
}

/* Worked solutions: each ends with the marked answer the checker accepts,
 * fits, and its steps compute it (the written column digits of + and -
 * spell the answer; the last running sum of * is the product). */
static void test_scratchpad(void) {
    const gt_family *ar = gt_family_by_name("arith");
    char pad[GT_FAMILY_SCRATCHPAD_MAX];
    gt_family_item it;
    for (int d = 0; d <= 9; d++)
        for (uint64_t i = 0; i < 40; i++) {
            CHECK_EQ_INT(gt_family_generate_level(ar, 3, i, d, &it), 0);
            CHECK_EQ_INT(gt_family_scratchpad(&it, pad, sizeof pad), 0);
            CHECK(ok(&it, pad));
            long long x, y, ans = atoll(it.answer);
            char op;
            if (sscanf(it.question, "What is %lld %c %lld?", &x, &op, &y) != 3) continue;
            check_wrong_answer_fails(&it, pad);
            if (op == '-') check_sub_lines(pad, x, y);
            if (op == '*') {
                const char *last = strrchr(pad, 'm'); /* "sum S" of the last partial product */
                CHECK_MSG(last && atoll(last + 2) == ans, "%s\n%s", it.question, pad);
            } else {
                long long w = written_number(pad);
                CHECK_MSG(w == (ans < 0 ? -ans : ans), "%s: columns spell %lld\n%s", it.question, w, pad);
            }
        }
    CHECK_EQ_INT(gt_family_generate_level(ar, 3, 7, 3, &it), 0);
    CHECK_EQ_INT(gt_family_scratchpad(&it, pad, 8), GT_ELIMIT);
    gt_family_generate(gt_family_by_name("units"), 3, 1, &it);
    CHECK_EQ_INT(gt_family_scratchpad(&it, pad, sizeof pad), GT_EUNSUPPORTED);
}

/* The letters of the line starting with `tag` ("map: V E L"), '-' dropped. */
static void line_letters(const char *pad, const char *tag, char *out, size_t cap) {
    const char *p = strstr(pad, tag);
    size_t n = 0;
    out[0] = 0;
    if (!p) return;
    for (p += strlen(tag); *p && *p != '\n' && n + 1 < cap; p++)
        if (*p != ' ' && *p != '-') out[n++] = *p;
    out[n] = 0;
}

/* Sort's selection lines: line k ("< 007: 392 361;", "> riv: app;")
 * takes the answer's k-th item (a number zero-padded, a word by its first
 * three letters) and restates one item fewer each time, every list ending in
 * ';' (the last line "< 392;"); the keys of one item's words are distinct, so
 * they sort as the words do. */
static void check_sort_lines(const gt_family_item *it, const char *pad) {
    int words = it->question[11] == 'w', desc = strstr(it->question, "descending") || strstr(it->question, "reverse");
    int k = 0, n = 1;
    const char *want = it->answer, *line = strchr(pad, '\n');
    for (const char *c = it->answer; *c; c++) n += *c == ',';
    CHECK_MSG(!strncmp(pad, "pad:", 4) && line && line - pad == 5 + 4 * n && line[-1] == ';', "%s", pad);
    for (const char *q = pad + 5; line && q < line - 1; q += 4) /* the keys of the pad line are distinct */
        for (const char *r = q + 4; r < line - 1; r += 4) CHECK_MSG(strncmp(q, r, 3), "two keys alike\n%s", pad);
    for (; line && (line[1] == '<' || line[1] == '>') && line[2] == ' '; line = strchr(line + 1, '\n')) {
        const char *key = line + 3, *end = strchr(key, '\n');
        int rest = 0;
        for (const char *c = key; end && c < end; c++) rest += *c == ' ';
        CHECK_MSG(line[1] == (desc ? '>' : '<'), "line %d: the sign of the order\n%s", k + 1, pad);
        CHECK_MSG(rest == n - 1 - k, "line %d restates %d items\n%s", k + 1, rest, pad);
        CHECK_MSG(key[3] == (k == n - 1 ? ';' : ':') && end && end[-1] == ';', "%s", pad);
        if (words) CHECK_MSG(!strncmp(key, want, 3), "line %d: want %.3s\n%s", k + 1, want, pad);
        else CHECK_MSG(atoi(key) == atoi(want), "line %d: want %d\n%s", k + 1, atoi(want), pad);
        want = strchr(want, ',') ? strchr(want, ',') + 2 : want + strlen(want);
        k++;
    }
    CHECK_MSG(k == n, "%d selection lines for %d items\n%s", k, n, pad);
}

/* Logic's first line restates the question's values, "A1 B0"; the next
 * writes the formula with each letter's value after it. */
static void check_logic_values(const gt_family_item *it, const char *pad) {
    char want[32];
    size_t off = 0;
    const char *is = strstr(it->question, ". Is ");
    for (const char *c = it->question; is && c < is; c++)
        if (c[1] == ' ' && c[2] == '=' && off + 5 < sizeof want)
            off += (size_t)snprintf(want + off, sizeof want - off, "%s%c%d", off ? " " : "", *c, c[4] == 't');
    CHECK_MSG(!strncmp(pad, want, off) && pad[off] == '\n', "%s\n%s", it->question, pad);
    char formula[256];
    size_t m = 0;
    const char *line = pad + off + 1, *end = strchr(line, '\n');
    for (const char *c = line; end && c < end && m + 1 < sizeof formula; c++) {
        formula[m++] = *c;
        if (*c >= 'A' && *c <= 'D') { /* the letter's value follows it, as in the first line */
            const char *v = strchr(pad, *c);
            CHECK_MSG(v && v < pad + off && c[1] == v[1], "%c\n%s", *c, pad);
            c++;
        }
    }
    formula[m] = 0;
    const char *q = strstr(it->question, ". Is "), *qe = strstr(it->question, " true or false?");
    CHECK_MSG(q && qe && (size_t)(qe - q - 5) == m && !strncmp(q + 5, formula, m), "%s\n%s", it->question, pad);
}

/* The other worked solutions: sort's padded lists hold the item's numbers in
 * order, logic's last reduced line is the value, strings' letter line spells
 * the answer; each ends in a marked answer its checker accepts. */
static void test_scratchpad_more(void) {
    char pad[GT_FAMILY_SCRATCHPAD_MAX], got[64];
    gt_family_item it;
    for (int l = 0; l <= 9; l++)
        for (uint64_t i = 0; i < 40; i++) {
            CHECK_EQ_INT(gt_family_generate_level(gt_family_by_name("sort"), 5, i, l, &it), l == 1 ? GT_EINVAL : 0);
            if (l == 1) continue;
            CHECK_EQ_INT(gt_family_scratchpad(&it, pad, sizeof pad), 0);
            CHECK_MSG(ok(&it, pad), "%s\n%s", it.question, pad);
            check_wrong_answer_fails(&it, pad);
            check_sort_lines(&it, pad);
        }
    for (int l = 0; l <= 3; l++)
        for (uint64_t i = 0; i < 200; i++) {
            CHECK_EQ_INT(gt_family_generate_level(gt_family_by_name("logic"), 5, i, l, &it), 0);
            CHECK_EQ_INT(gt_family_scratchpad(&it, pad, sizeof pad), 0);
            CHECK_MSG(ok(&it, pad), "%s\n%s", it.question, pad);
            check_wrong_answer_fails(&it, pad);
            check_logic_values(&it, pad);
            const char *ans = strstr(pad, "\nAnswer: ");
            CHECK_MSG(ans && ans - pad >= 1 && ans[-1] == (it.answer[0] == 't' ? '1' : '0') &&
                          (ans - pad == 1 || ans[-2] == '\n'),
                      "%s\n%s", it.question, pad);
        }
    for (uint64_t i = 0; i < 300; i++) {
        gt_family_generate(gt_family_by_name("strings"), 5, i, &it);
        CHECK_EQ_INT(gt_family_scratchpad(&it, pad, sizeof pad), 0);
        CHECK_MSG(ok(&it, pad), "%s\n%s", it.question, pad);
        const char *tag = strstr(pad, "\nmap:") ? "\nmap:" : strstr(pad, "\nback:") ? "\nback:" : "\nkeep:";
        line_letters(pad, tag, got, sizeof got);
        CHECK_MSG(!strcmp(got, it.answer), "%s: the letters spell %s\n%s", it.question, got, pad);
    }
}

int main(void) {
    RUN(test_extract);
    RUN(test_rng);
    RUN(test_pinned_items);
    RUN(test_arith);
    RUN(test_units);
    RUN(test_sort);
    RUN(test_logic);
    RUN(test_logic_independent);
    RUN(test_strings);
    RUN(test_sweep);
    RUN(test_limits);
    RUN(test_levels);
    RUN(test_scratchpad);
    RUN(test_scratchpad_more);
    return gt_test_finish();
}
