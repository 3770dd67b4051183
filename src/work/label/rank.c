/* rank.c: the tally of rankings with gold items, and their export as the
 * pairs each consensus order implies (rank.h). */
#include "work/label/rank.h"

#include <assert.h>
#include <string.h>

#include "base/alloc.h"

int gt_rank_decode(uint64_t code, int n, int order[GT_PREF_MAX_ANSWERS], gt_err *err) {
    assert(n >= 2 && n <= GT_PREF_MAX_ANSWERS);
    int seen = 0;
    uint64_t rest = code;
    for (int p = n - 1; p >= 0; p--, rest /= 10) {
        int d = (int)(rest % 10);
        if (d >= n || (seen & (1 << d))) break;
        seen |= 1 << d;
        order[p] = d;
    }
    if (rest == 0 && seen == (1 << n) - 1) return 0;
    return gt_err_set(err, GT_EINVAL,
                      "rank %llu: expected the %d answers' digits 0..%d, each once, best first (e.g. %s)",
                      (unsigned long long)code, n, n - 1, n == 2 ? "10" : n == 3 ? "201" : "2013");
}

uint64_t gt_rank_encode(const int *order, int n) {
    uint64_t code = 0;
    for (int p = 0; p < n; p++) {
        assert(order[p] >= 0 && order[p] < n);
        code = code * 10 + (uint64_t)order[p];
    }
    return code;
}

/* Checks the rules, every item's answers and gold and every code. */
static int check_input(const gt_pref_item *items, size_t n_items, const int *codes, int n_labellers,
                       const gt_pref_rules *r, gt_err *err) {
    int rc = gt_pref_rules_check(r, n_items, n_labellers, err), order[GT_PREF_MAX_ANSWERS];
    for (size_t i = 0; !rc && i < n_items; i++) {
        int g = items[i].gold, na = gt_pref_answers(&items[i]);
        if (na < 2 || na > GT_PREF_MAX_ANSWERS)
            return gt_err_set(err, GT_EINVAL, "item %zu: %d answers (expected 2..%d)", i, na, GT_PREF_MAX_ANSWERS);
        if (g != GT_PREF_NOT_GOLD && (g < 0 || gt_rank_decode((uint64_t)g, na, order, err)))
            return gt_err_set(err, GT_EINVAL, "item %zu: gold %d is not an order of its %d answers", i, g, na);
        for (int l = 0; l < n_labellers; l++) {
            int c = codes[i * (size_t)n_labellers + (size_t)l];
            if (c != GT_AGREE_MISSING && (c < 0 || gt_rank_decode((uint64_t)c, na, order, err)))
                return gt_err_set(err, GT_EINVAL, "item %zu, labeller %d: %d is not an order of the %d answers", i, l,
                                  c, na);
        }
    }
    return rc;
}

/* Each labeller's gold record (right: exactly the gold order) and whether
 * it is under the bar. */
static void judge_gold(const gt_pref_item *items, size_t n_items, const int *codes, int n_labellers,
                       const gt_pref_rules *r, gt_pref_tally *t) {
    for (size_t i = 0; i < n_items; i++) {
        if (items[i].gold == GT_PREF_NOT_GOLD) continue;
        for (int l = 0; l < n_labellers; l++) {
            int c = codes[i * (size_t)n_labellers + (size_t)l];
            if (c == GT_AGREE_MISSING) continue;
            t->gold_seen[l]++;
            t->gold_right[l] += c == items[i].gold;
        }
    }
    for (int l = 0; l < n_labellers; l++)
        t->careless[l] = t->gold_seen[l] >= r->min_gold &&
                         (int64_t)t->gold_right[l] * 100 < (int64_t)r->gold_bar_pct * t->gold_seen[l];
}

/* Plain item i's Borda consensus over the careful labellers, writing each
 * careful labeller's position of each answer into pos[(i * na_max + a) *
 * n_labellers + l] (missing otherwise) for the agreement figure. */
static int consensus(const gt_pref_item *it, size_t i, const int *codes, int n_labellers, const gt_pref_rules *r,
                     const gt_pref_tally *t, int na_max, int *pos) {
    int na = gt_pref_answers(it), points[GT_PREF_MAX_ANSWERS] = {0}, order[GT_PREF_MAX_ANSWERS], n = 0;
    for (int l = 0; l < n_labellers; l++) {
        int c = codes[i * (size_t)n_labellers + (size_t)l];
        if (t->careless[l] || c == GT_AGREE_MISSING) continue;
        int ok = gt_rank_decode((uint64_t)c, na, order, &(gt_err){0});
        assert(ok == 0);
        (void)ok;
        n++;
        for (int p = 0; p < na; p++) {
            points[order[p]] += na - 1 - p;
            pos[(i * (size_t)na_max + (size_t)order[p]) * (size_t)n_labellers + (size_t)l] = p;
        }
    }
    if (n < r->min_labels) return GT_AGREE_MISSING;
    int best[GT_PREF_MAX_ANSWERS];
    for (int p = 0; p < na; p++) { /* the answer with the most points not yet placed; a tie leaves no order */
        int pick = -1, tie = 0;
        for (int a = 0; a < na; a++) {
            int placed = 0;
            for (int q = 0; q < p; q++) placed |= best[q] == a;
            if (placed) continue;
            if (pick >= 0 && points[a] == points[pick]) tie = 1;
            if (pick < 0 || points[a] > points[pick]) pick = a, tie = 0;
        }
        if (tie) return GT_AGREE_MISSING;
        best[p] = pick;
    }
    return (int)gt_rank_encode(best, na);
}

int gt_rank_tally_run(const gt_pref_item *items, size_t n_items, const int *codes, int n_labellers,
                      const gt_pref_rules *rules, gt_pref_tally *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    int rc = check_input(items, n_items, codes, n_labellers, rules, err), na_max = 2;
    if (rc) return rc;
    for (size_t i = 0; i < n_items; i++)
        if (gt_pref_answers(&items[i]) > na_max) na_max = gt_pref_answers(&items[i]);
    size_t nl = (size_t)n_labellers, units = (n_items ? n_items : 1) * (size_t)na_max;
    out->label = gt_malloc((n_items ? n_items : 1) * sizeof(int));
    out->careless = gt_calloc(nl, sizeof(int));
    out->gold_seen = gt_calloc(nl, sizeof(int));
    out->gold_right = gt_calloc(nl, sizeof(int));
    int *pos = gt_malloc(units * nl * sizeof(int));
    if (!out->label || !out->careless || !out->gold_seen || !out->gold_right || !pos) {
        gt_free(pos);
        gt_pref_tally_free(out);
        return gt_err_set(err, GT_ENOMEM, "out of memory tallying %zu items", n_items);
    }
    for (size_t u = 0; u < units * nl; u++) pos[u] = GT_AGREE_MISSING;
    judge_gold(items, n_items, codes, n_labellers, rules, out);
    for (size_t i = 0; i < n_items; i++) {
        if (items[i].gold != GT_PREF_NOT_GOLD) {
            out->label[i] = items[i].gold;
            continue;
        }
        out->label[i] = consensus(&items[i], i, codes, n_labellers, rules, out, na_max, pos);
        out->n_labelled += out->label[i] != GT_AGREE_MISSING;
    }
    if (n_labellers >= 2) rc = gt_agree_alpha_ordinal(pos, units, n_labellers, na_max, &out->alpha, err);
    gt_free(pos);
    if (rc) gt_pref_tally_free(out);
    return rc;
}

int gt_rank_export(const gt_pref_item *items, size_t n_items, const gt_pref_tally *t, gt_pref_format format,
                   gt_buf *out, gt_err *err) {
    assert(err && (format == GT_PREF_DPO || format == GT_PREF_HH));
    size_t start = out->len;
    for (size_t i = 0; i < n_items; i++) {
        if (items[i].gold != GT_PREF_NOT_GOLD || t->label[i] == GT_AGREE_MISSING) continue;
        int na = gt_pref_answers(&items[i]), order[GT_PREF_MAX_ANSWERS], rc;
        rc = gt_rank_decode((uint64_t)t->label[i], na, order, err);
        for (int p = 0; !rc && p < na; p++)
            for (int q = p + 1; !rc && q < na; q++)
                rc = gt_pref_pair_line(&items[i], order[p], order[q], i, format, out, err);
        if (rc) {
            out->len = start;
            return rc;
        }
    }
    return 0;
}
