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
static double alpha_float(const int *v, int n_items, int n_raters, int n_cat) {
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
        for (int k = 0; k < n_cat; k++) nc[c] += o[c][k], dis += c != k ? o[c][k] : 0;
    for (int c = 0; c < n_cat; c++) {
        n += nc[c];
        for (int k = 0; k < n_cat; k++) chance += c != k ? nc[c] * nc[k] : 0;
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
    return gt_test_finish();
}
