/* test_label.c: agreement measures and the preference tally (work/label):
 * Cohen's kappa and Krippendorff's alpha on the textbook examples (exact
 * values), against a floating-point computation of the same formula on random
 * label sets, their undefined cases and refusals; the tally with gold items
 * (a careless labeller's votes do not count), ties, and the DPO and HH-RLHF
 * lines byte for byte. */
#include <math.h>
#include <string.h>

#include "../test.h"
#include "work/data/rng.h"
#include "work/label/agree.h"
#include "work/label/pref.h"
#include "work/label/rank.h"

/* The usual example: 50 items, both yes 20, A yes B no 5, A no B yes 10,
 * both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4 exactly. Missing items do
 * not count. */
static void test_kappa(void) {
    int a[52], b[52];
    int n = 0;
    for (int i = 0; i < 20; i++) a[n] = 1, b[n++] = 1;
    for (int i = 0; i < 5; i++) a[n] = 1, b[n++] = 0;
    for (int i = 0; i < 10; i++) a[n] = 0, b[n++] = 1;
    for (int i = 0; i < 15; i++) a[n] = 0, b[n++] = 0;
    a[n] = GT_AGREE_MISSING, b[n++] = 1;
    a[n] = 0, b[n++] = GT_AGREE_MISSING;
    gt_agree r;
    gt_err err = {0};
    CHECK_EQ_INT(gt_agree_kappa(a, b, (size_t)n, 2, &r, &err), 0);
    CHECK(r.defined);
    CHECK_EQ_INT(r.ppm, 400000);
    CHECK_EQ_INT(r.n, 50);
    /* Perfect agreement is 1; both always "yes" has no kappa at all. */
    CHECK_EQ_INT(gt_agree_kappa(a, a, 50, 2, &r, &err), 0);
    CHECK_EQ_INT(r.ppm, 1000000);
    int ones[4] = {1, 1, 1, 1};
    CHECK_EQ_INT(gt_agree_kappa(ones, ones, 4, 2, &r, &err), 0);
    CHECK(!r.defined);
    /* Refusals name what was wrong. */
    b[3] = 2;
    CHECK_EQ_INT(gt_agree_kappa(a, b, 50, 2, &r, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "item 3: label 2 is not a category");
    CHECK_EQ_INT(gt_agree_kappa(a, a, 50, 17, &r, &err), GT_ELIMIT);
}

/* Krippendorff's own nominal example (4 observers, 12 units, gaps;
 * categories 1..5 here 0..4): alpha = 113/152 = 0.743421..., from 40
 * pairable values (unit 12 has one value and does not count). */
static void test_alpha_example(void) {
    const int M = GT_AGREE_MISSING;
    const int obs[4][12] = {{1, 2, 3, 3, 2, 1, 4, 1, 2, M, M, M},
                            {1, 2, 3, 3, 2, 2, 4, 1, 2, 5, M, 3},
                            {M, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, M},
                            {1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, M}};
    int labels[12 * 4];
    for (int u = 0; u < 12; u++)
        for (int r = 0; r < 4; r++) labels[u * 4 + r] = obs[r][u] == M ? M : obs[r][u] - 1;
    gt_agree a;
    gt_err err = {0};
    CHECK_EQ_INT(gt_agree_alpha(labels, 12, 4, 5, &a, &err), 0);
    CHECK(a.defined);
    CHECK_EQ_INT(a.n, 40);
    CHECK_EQ_INT(a.ppm, 743421);
    /* One category throughout: no alpha; nothing pairable: none either. */
    int same[6] = {1, 1, 1, M, 1, 1};
    CHECK_EQ_INT(gt_agree_alpha(same, 3, 2, 2, &a, &err), 0);
    CHECK(!a.defined);
    int lone[4] = {0, M, M, 1};
    CHECK_EQ_INT(gt_agree_alpha(lone, 2, 2, 2, &a, &err), 0);
    CHECK(!a.defined && a.n == 0);
    CHECK_EQ_INT(gt_agree_alpha(labels, 12, 1, 5, &a, &err), GT_ELIMIT);
    CHECK_EQ_INT(gt_agree_alpha(labels, 12, 4, 4, &a, &err), GT_EINVAL); /* a label 4 with 4 categories */
    CHECK_CONTAINS(err.msg, "is not a category");
}

/* alpha from the same formula in doubles: the reference for random sets. */
/* Krippendorff's ordinal distance of categories c and k (squared) from the
 * marginals nc, in floating point. */
static double ordinal_d2(const double *nc, int c, int k) {
    int lo = c < k ? c : k, hi = c < k ? k : c;
    double s = 0;
    for (int g = lo; g <= hi; g++) s += nc[g];
    s -= (nc[c] + nc[k]) / 2;
    return s * s;
}

static double alpha_float_m(const int *v, int n_items, int n_raters, int n_cat, int ordinal);
static double alpha_float(const int *v, int n_items, int n_raters, int n_cat) {
    return alpha_float_m(v, n_items, n_raters, n_cat, 0);
}
static double alpha_float_m(const int *v, int n_items, int n_raters, int n_cat, int ordinal) {
    double o[GT_AGREE_MAX_CATEGORIES][GT_AGREE_MAX_CATEGORIES] = {{0}}, nc[GT_AGREE_MAX_CATEGORIES] = {0};
    double n = 0, dis = 0, chance = 0;
    for (int u = 0; u < n_items; u++) {
        int m = 0;
        for (int r = 0; r < n_raters; r++) m += v[u * n_raters + r] != GT_AGREE_MISSING;
        if (m < 2) continue;
        for (int i = 0; i < n_raters; i++)
            for (int j = 0; j < n_raters; j++) {
                int a = v[u * n_raters + i], b = v[u * n_raters + j];
                if (i != j && a != GT_AGREE_MISSING && b != GT_AGREE_MISSING) o[a][b] += 1.0 / (m - 1);
            }
    }
    for (int c = 0; c < n_cat; c++)
        for (int k = 0; k < n_cat; k++) nc[c] += o[c][k];
    for (int c = 0; c < n_cat; c++) {
        n += nc[c];
        for (int k = 0; k < n_cat; k++) {
            double w = c == k ? 0 : ordinal ? ordinal_d2(nc, c, k) : 1;
            chance += nc[c] * nc[k] * w;
            dis += o[c][k] * w;
        }
    }
    return 1.0 - (n - 1) * dis / chance;
}

/* 200 random label sets (2..16 labellers, 2..6 categories, a quarter
 * missing, labellers who mostly agree): the integer alpha is the float one
 * to within a part per million. */
static void test_alpha_random(void) {
    gt_rng g;
    gt_rng_seed(&g, 11, 0);
    static int v[300 * 16];
    int checked = 0;
    for (int round = 0; round < 200; round++) {
        int n_items = 1 + (int)gt_rng_below(&g, 300), n_raters = 2 + (int)gt_rng_below(&g, 15);
        int n_cat = 2 + (int)gt_rng_below(&g, 5);
        for (int u = 0; u < n_items; u++) {
            int truth = (int)gt_rng_below(&g, (uint64_t)n_cat);
            for (int r = 0; r < n_raters; r++) {
                uint64_t x = gt_rng_below(&g, 8);
                v[u * n_raters + r] = x < 2 ? GT_AGREE_MISSING : x < 6 ? truth : (int)gt_rng_below(&g, (uint64_t)n_cat);
            }
        }
        gt_agree a;
        gt_err err = {0};
        CHECK_EQ_INT(gt_agree_alpha(v, (size_t)n_items, n_raters, n_cat, &a, &err), 0);
        if (!a.defined) continue;
        double want = alpha_float(v, n_items, n_raters, n_cat) * 1e6;
        CHECK_MSG(fabs((double)a.ppm - want) <= 1.0, "round %d: %lld ppm, float %.3f", round, (long long)a.ppm, want);
        checked++;
    }
    CHECK(checked > 150);
}

/* The ordinal alpha against the float formula on 200 random sets of
 * positions (as test_alpha_random), and its bound on labels. */
static void test_alpha_ordinal_random(void) {
    gt_rng g;
    gt_rng_seed(&g, 12, 0);
    static int v[300 * 16];
    int checked = 0;
    for (int round = 0; round < 200; round++) {
        int n_items = 1 + (int)gt_rng_below(&g, 300), n_raters = 2 + (int)gt_rng_below(&g, 15);
        int n_cat = 2 + (int)gt_rng_below(&g, 3);
        for (int u = 0; u < n_items; u++) {
            int truth = (int)gt_rng_below(&g, (uint64_t)n_cat);
            for (int r = 0; r < n_raters; r++) {
                uint64_t x = gt_rng_below(&g, 8);
                v[u * n_raters + r] = x < 2 ? GT_AGREE_MISSING : x < 6 ? truth : (int)gt_rng_below(&g, (uint64_t)n_cat);
            }
        }
        gt_agree a;
        gt_err err = {0};
        CHECK_EQ_INT(gt_agree_alpha_ordinal(v, (size_t)n_items, n_raters, n_cat, &a, &err), 0);
        if (!a.defined) continue;
        double want = alpha_float_m(v, n_items, n_raters, n_cat, 1) * 1e6;
        CHECK_MSG(fabs((double)a.ppm - want) <= 1.0, "round %d: %lld ppm, float %.3f", round, (long long)a.ppm, want);
        checked++;
    }
    CHECK(checked > 150);
    gt_agree a;
    gt_err err = {0};
    CHECK_EQ_INT(gt_agree_alpha_ordinal(v, GT_AGREE_ORDINAL_MAX_LABELS / 2 + 1, 2, 3, &a, &err), GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "at most 65536 labels");
}

/* Rank codes: the digits of the order, best first; the item's answer count
 * gives the leading zero. */
static void test_rank_codes(void) {
    int order[GT_PREF_MAX_ANSWERS];
    gt_err err = {0};
    CHECK_EQ_INT(gt_rank_decode(21, 3, order, &err), 0);
    CHECK(order[0] == 0 && order[1] == 2 && order[2] == 1);
    CHECK_EQ_U64(gt_rank_encode(order, 3), 21);
    CHECK_EQ_INT(gt_rank_decode(3120, 4, order, &err), 0);
    CHECK(order[0] == 3 && order[1] == 1 && order[2] == 2 && order[3] == 0);
    CHECK_EQ_INT(gt_rank_decode(10, 2, order, &err), 0);
    CHECK(order[0] == 1 && order[1] == 0);
    static const uint64_t bad[][2] = {{11, 2}, {2, 2}, {12, 2}, {0, 3}, {3120, 3}, {1023, 3}, {30120, 4}, {4012, 4}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(gt_rank_decode(bad[i][0], (int)bad[i][1], order, &err) == GT_EINVAL, "%llu of %llu accepted",
                  (unsigned long long)bad[i][0], (unsigned long long)bad[i][1]);
        CHECK_CONTAINS(err.msg, "each once, best first");
    }
}

/* Rankings by hand: answers A, B, C (0, 1, 2); four labellers, labeller 3
 * careless (gold 1 2 0, it gave 0 2 1; the bar 100 %, min_gold 1).
 *   item 0: 012, 012, 102 (and 210 by labeller 3)
 *     Borda (2 for first, 1 for second): A 2+2+1 = 5, B 1+1+2 = 4, C 0:
 *     A > B > C, code 12. With labeller 3 counted, A 5 and B 5 tie: none.
 *   item 1: 210, 201, 210 (and 012): C 6, B 1+0+1 = 2, A 0+1+0 = 1:
 *     C > B > A, code 210.
 * Ordinal alpha over the six units (item, answer), each careful labeller's
 * value the position it gave: (0,A) 0 0 1, (0,B) 1 1 0, (0,C) 2 2 2,
 * (1,A) 2 1 2, (1,B) 1 2 1, (1,C) 0 0 0; n = 18, n_0 = n_1 = n_2 = 6.
 * Coincidences (each unit's ordered pairs weigh 1/2): o00 4, o01 = o10 2,
 * o11 2, o12 = o21 2, o22 4, o02 = o20 0. Ordinal deltas: d01 = d12 =
 * (6+6) - (6+6)/2 = 6, d02 = 18 - 6 = 12. Observed sum_{c!=k} o d^2 =
 * 4 * 2 * 36 = 288; expected sum_{c!=k} n_c n_k d^2 = 4 * 36 * 36 + 2 * 36 *
 * 144 = 15552; alpha = 1 - 17 * 288 / 15552 = 0.685185185... (685185 ppm).
 * The export: three pairs per item, in the order's pairs (first over
 * second, first over third, second over third). */
static void test_rank_by_hand(void) {
    const int M = GT_AGREE_MISSING;
    gt_pref_item items[3] = {
        {"P0", {"a", "b", "c"}, GT_PREF_NOT_GOLD, 3},
        {"P1", {"a", "b", "c"}, GT_PREF_NOT_GOLD, 3},
        {"G", {"x", "y", "z"}, 120, 3},
    };
    int codes[3 * 4] = {12, 12, 102, 210, 210, 201, 210, 12, 120, 120, 120, 21};
    gt_pref_rules rules = {.min_labels = 2, .gold_bar_pct = 100, .min_gold = 1};
    gt_pref_tally t;
    gt_err err = {0};
    CHECK_EQ_INT(gt_rank_tally_run(items, 3, codes, 4, &rules, &t, &err), 0);
    CHECK(t.careless[3] && !t.careless[0] && !t.careless[1] && !t.careless[2]);
    CHECK_EQ_INT(t.gold_right[0], 1);
    CHECK_EQ_INT(t.gold_right[3], 0);
    CHECK_EQ_INT(t.label[0], 12);
    CHECK_EQ_INT(t.label[1], 210);
    CHECK_EQ_INT(t.label[2], 120);
    CHECK_EQ_INT(t.n_labelled, 2);
    CHECK(t.alpha.defined);
    CHECK_EQ_INT(t.alpha.ppm, 685185);
    CHECK_EQ_U64(t.alpha.n, 18);
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(gt_rank_export(items, 3, &t, GT_PREF_DPO, &out, &err), 0);
    CHECK_EQ_INT(gt_buf_putc(&out, 0), 0);
    CHECK_STR((const char *)out.data, "{\"chosen\":\"a\",\"prompt\":\"P0\",\"rejected\":\"b\"}\n"
                                      "{\"chosen\":\"a\",\"prompt\":\"P0\",\"rejected\":\"c\"}\n"
                                      "{\"chosen\":\"b\",\"prompt\":\"P0\",\"rejected\":\"c\"}\n"
                                      "{\"chosen\":\"c\",\"prompt\":\"P1\",\"rejected\":\"b\"}\n"
                                      "{\"chosen\":\"c\",\"prompt\":\"P1\",\"rejected\":\"a\"}\n"
                                      "{\"chosen\":\"b\",\"prompt\":\"P1\",\"rejected\":\"a\"}\n");
    gt_buf_reset(&out);
    CHECK_EQ_INT(gt_rank_export(items, 3, &t, GT_PREF_HH, &out, &err), 0);
    CHECK_EQ_INT(gt_buf_putc(&out, 0), 0);
    CHECK(strncmp((const char *)out.data,
                  "{\"chosen\":\"\\n\\nHuman: P0\\n\\nAssistant: a\",\"rejected\":\"\\n\\nHuman: P0\\n\\nAssistant: b\"}\n",
                  71) == 0);
    gt_buf_free(&out);
    gt_pref_tally_free(&t);
    /* With the bar at 0 labeller 3 counts: item 0 ties (A 5, B 5). */
    rules.gold_bar_pct = 0;
    CHECK_EQ_INT(gt_rank_tally_run(items, 3, codes, 4, &rules, &t, &err), 0);
    CHECK_EQ_INT(t.label[0], M);
    gt_pref_tally_free(&t);
    rules.gold_bar_pct = 100;
    codes[1] = 11; /* not an order */
    CHECK_EQ_INT(gt_rank_tally_run(items, 3, codes, 4, &rules, &t, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "item 0, labeller 1: 11 is not an order of the 3 answers");
    codes[1] = 12;
    items[2].gold = 2; /* a best-of gold is not an order */
    CHECK_EQ_INT(gt_rank_tally_run(items, 3, codes, 4, &rules, &t, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "item 2: gold 2 is not an order");
}

/* Six items, two of them gold, four labellers. Labeller 3 gets both gold
 * items wrong (under a 50 % bar): careless, so its votes do not count; with
 * them item 1 would flip to answer 0. Item 2 is a tie, item 3 has too few
 * labels: neither is exported. */
static void test_tally_and_export(void) {
    const int M = GT_AGREE_MISSING;
    const gt_pref_item items[6] = {
        {"What is 2+2?", {"4", "5"}, GT_PREF_NOT_GOLD, 2},
        {"Say hi", {"hello", "Hi! \xf0\x9f\x91\x8b"}, GT_PREF_NOT_GOLD, 2},
        {"Tie", {"a", "b"}, GT_PREF_NOT_GOLD, 2},
        {"Few", {"a", "b"}, GT_PREF_NOT_GOLD, 2},
        {"Gold 1", {"right", "wrong"}, 0, 2},
        {"Gold 2", {"wrong", "right"}, 1, 2},
    };
    const int choices[6 * 4] = {
        0, 0, 0, 1, /* item 0: answer 0 */
        1, 1, 0, 0, /* item 1: 1 by the careful 2-1; 0 by 2-2 with labeller 3 */
        0, 1, M, 0, /* item 2: a tie among the careful */
        1, M, M, M, /* item 3: one label, two needed */
        0, 0, 0, 1, /* gold 1: labeller 3 wrong */
        1, 1, 0, 0, /* gold 2: labellers 2 and 3 wrong */
    };
    gt_pref_rules rules = {.min_labels = 2, .gold_bar_pct = 50, .min_gold = 2};
    gt_pref_tally t;
    gt_err err = {0};
    CHECK_EQ_INT(gt_pref_tally_run(items, 6, choices, 4, &rules, &t, &err), 0);
    CHECK(!t.careless[0] && !t.careless[1] && !t.careless[2] && t.careless[3]);
    CHECK_EQ_INT(t.gold_seen[2], 2);
    CHECK_EQ_INT(t.gold_right[2], 1); /* 50 %: at the bar, not under it */
    CHECK_EQ_INT(t.label[0], 0);
    CHECK_EQ_INT(t.label[1], 1);
    CHECK_EQ_INT(t.label[2], M);
    CHECK_EQ_INT(t.label[3], M);
    CHECK_EQ_INT(t.n_labelled, 2);
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(gt_pref_export(items, 6, &t, GT_PREF_DPO, &out, &err), 0);
    CHECK_EQ_INT(gt_buf_putc(&out, 0), 0);
    CHECK_STR((const char *)out.data,
              "{\"chosen\":\"4\",\"prompt\":\"What is 2+2?\",\"rejected\":\"5\"}\n"
              "{\"chosen\":\"Hi! \xf0\x9f\x91\x8b\",\"prompt\":\"Say hi\",\"rejected\":\"hello\"}\n");
    gt_buf_reset(&out);
    CHECK_EQ_INT(gt_pref_export(items, 6, &t, GT_PREF_HH, &out, &err), 0);
    CHECK_EQ_INT(gt_buf_putc(&out, 0), 0);
    CHECK_STR((const char *)out.data,
              "{\"chosen\":\"\\n\\nHuman: What is 2+2?\\n\\nAssistant: 4\","
              "\"rejected\":\"\\n\\nHuman: What is 2+2?\\n\\nAssistant: 5\"}\n"
              "{\"chosen\":\"\\n\\nHuman: Say hi\\n\\nAssistant: Hi! \xf0\x9f\x91\x8b\","
              "\"rejected\":\"\\n\\nHuman: Say hi\\n\\nAssistant: hello\"}\n");
    gt_buf_free(&out);
    gt_pref_tally_free(&t);
    /* With the bar at 0 nobody is careless and item 1 becomes a 2-2 tie. */
    rules.gold_bar_pct = 0;
    CHECK_EQ_INT(gt_pref_tally_run(items, 6, choices, 4, &rules, &t, &err), 0);
    CHECK(!t.careless[3]);
    CHECK_EQ_INT(t.label[1], M);
    gt_pref_tally_free(&t);
}

/* Best of three: the plurality wins (2-1-0 over three careful labellers,
 * the careless one's vote not counted), a 1-1-1 split is a tie, and the
 * export pairs the chosen answer with each other answer in answer order. A
 * choice of 3 on a three-answer item and an item of five answers are
 * refused. */
static void test_best_of_n(void) {
    const int M = GT_AGREE_MISSING;
    gt_pref_item items[3] = {
        {"Pick", {"x", "y", "z"}, GT_PREF_NOT_GOLD, 3},
        {"Split", {"x", "y", "z"}, GT_PREF_NOT_GOLD, 3},
        {"Gold", {"no", "no", "yes"}, 2, 3},
    };
    int choices[3 * 4] = {
        2, 2, 0, 0, /* 2 by 2-1 among the careful (labeller 3 careless) */
        0, 1, 2, M, /* a three-way tie */
        2, 2, 2, 0, /* gold: labeller 3 wrong */
    };
    gt_pref_rules rules = {.min_labels = 2, .gold_bar_pct = 100, .min_gold = 1};
    gt_pref_tally t;
    gt_err err = {0};
    CHECK_EQ_INT(gt_pref_tally_run(items, 3, choices, 4, &rules, &t, &err), 0);
    CHECK(t.careless[3] && !t.careless[0]);
    CHECK_EQ_INT(t.label[0], 2);
    CHECK_EQ_INT(t.label[1], M);
    CHECK_EQ_INT(t.n_labelled, 1);
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(gt_pref_export(items, 3, &t, GT_PREF_DPO, &out, &err), 0);
    CHECK_EQ_INT(gt_buf_putc(&out, 0), 0);
    CHECK_STR((const char *)out.data, "{\"chosen\":\"z\",\"prompt\":\"Pick\",\"rejected\":\"x\"}\n"
                                      "{\"chosen\":\"z\",\"prompt\":\"Pick\",\"rejected\":\"y\"}\n");
    gt_buf_free(&out);
    gt_pref_tally_free(&t);
    choices[1] = 3;
    CHECK_EQ_INT(gt_pref_tally_run(items, 3, choices, 4, &rules, &t, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "item 0, labeller 1: choice 3 (expected 0..2");
    choices[1] = 2;
    items[1].n_answers = 5;
    CHECK_EQ_INT(gt_pref_tally_run(items, 3, choices, 4, &rules, &t, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "item 1: 5 answers");
}

/* Bad input is refused, naming it; a failed export leaves the buffer. */
static void test_refusals(void) {
    gt_pref_item items[2] = {{"p", {"a", "b"}, GT_PREF_NOT_GOLD, 2}, {"p", {"a\xff", "b"}, GT_PREF_NOT_GOLD, 2}};
    int choices[4] = {0, 0, 0, 0};
    gt_pref_rules rules = {.min_labels = 1, .gold_bar_pct = 50, .min_gold = 1};
    gt_pref_tally t;
    gt_err err = {0};
    choices[1] = 2;
    CHECK_EQ_INT(gt_pref_tally_run(items, 2, choices, 2, &rules, &t, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "item 0, labeller 1: choice 2");
    choices[1] = 0;
    rules.gold_bar_pct = 101;
    CHECK_EQ_INT(gt_pref_tally_run(items, 2, choices, 2, &rules, &t, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "gold_bar_pct 101");
    rules.gold_bar_pct = 50;
    items[0].gold = 2;
    CHECK_EQ_INT(gt_pref_tally_run(items, 2, choices, 2, &rules, &t, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "item 0: gold 2");
    items[0].gold = GT_PREF_NOT_GOLD;
    CHECK_EQ_INT(gt_pref_tally_run(items, 2, choices, 2, &rules, &t, &err), 0);
    gt_buf out = GT_BUF_INIT;
    CHECK_EQ_INT(gt_buf_append_str(&out, "kept"), 0);
    CHECK_EQ_INT(gt_pref_export(items, 2, &t, GT_PREF_DPO, &out, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "item 1: the chosen answer is not valid UTF-8");
    CHECK_EQ_INT(out.len, 4);
    gt_buf_free(&out);
    gt_pref_tally_free(&t);
}

int main(void) {
    RUN(test_kappa);
    RUN(test_alpha_example);
    RUN(test_alpha_random);
    RUN(test_tally_and_export);
    RUN(test_refusals);
    RUN(test_best_of_n);
    RUN(test_alpha_ordinal_random);
    RUN(test_rank_codes);
    RUN(test_rank_by_hand);
    return gt_test_finish();
}
