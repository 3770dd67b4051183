/* agree.c: Cohen's kappa and Krippendorff's alpha in integers (agree.h). */
#include "work/label/agree.h"

#include <assert.h>
#include <string.h>

/* lcm(1..GT_AGREE_MAX_RATERS-1): every pair weight 1/(m-1) times this is a
 * whole number. */
#define AGREE_WEIGHT_SCALE 360360
_Static_assert(GT_AGREE_MAX_RATERS == 16, "AGREE_WEIGHT_SCALE is lcm(1..15)");

/* Checks the shape shared by both measures. */
static int check_shape(size_t n_items, int n_raters, int n_cat, gt_err *err) {
    if (n_items > GT_AGREE_MAX_ITEMS)
        return gt_err_set(err, GT_ELIMIT, "%zu items: at most %u are compared at once", n_items, GT_AGREE_MAX_ITEMS);
    if (n_raters < 2 || n_raters > GT_AGREE_MAX_RATERS)
        return gt_err_set(err, GT_ELIMIT, "%d labellers per item: expected 2..%d", n_raters, GT_AGREE_MAX_RATERS);
    if (n_cat < 2 || n_cat > GT_AGREE_MAX_CATEGORIES)
        return gt_err_set(err, GT_ELIMIT, "%d categories: expected 2..%d", n_cat, GT_AGREE_MAX_CATEGORIES);
    return 0;
}

/* Checks one label: a category or GT_AGREE_MISSING. */
static int check_label(int v, size_t item, int n_cat, gt_err *err) {
    if (v == GT_AGREE_MISSING || (v >= 0 && v < n_cat)) return 0;
    return gt_err_set(err, GT_EINVAL, "item %zu: label %d is not a category (expected 0..%d, or missing)", item, v,
                      n_cat - 1);
}

/* num / den in parts per million, truncated toward zero; den > 0. */
static int64_t ppm_of(__int128 num, __int128 den) {
    assert(den > 0);
    __int128 q = num * 1000000 / den;
    assert(q <= 1000000 && q >= (__int128)INT64_MIN); /* no measure exceeds 1 */
    return (int64_t)q;
}

int gt_agree_kappa(const int *a, const int *b, size_t n_items, int n_cat, gt_agree *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    int rc = check_shape(n_items, 2, n_cat, err);
    if (rc) return rc;
    int64_t ra[GT_AGREE_MAX_CATEGORIES] = {0}, rb[GT_AGREE_MAX_CATEGORIES] = {0};
    int64_t n = 0, same = 0;
    for (size_t i = 0; i < n_items; i++) {
        if ((rc = check_label(a[i], i, n_cat, err)) || (rc = check_label(b[i], i, n_cat, err))) return rc;
        if (a[i] == GT_AGREE_MISSING || b[i] == GT_AGREE_MISSING) continue;
        ra[a[i]]++, rb[b[i]]++, n++;
        same += a[i] == b[i];
    }
    __int128 chance = 0; /* S: sum of ra[c] * rb[c] */
    for (int c = 0; c < n_cat; c++) chance += (__int128)ra[c] * rb[c];
    __int128 den = (__int128)n * n - chance;
    assert(den >= 0 && chance <= (__int128)n * n);
    out->n = (uint64_t)n;
    if (den == 0) return 0; /* no items, or both labellers used one same category throughout */
    out->defined = 1;
    out->ppm = ppm_of((__int128)n * same - chance, den);
    return 0;
}

/* Adds one item's labels to the coincidence matrix o (scaled by
 * AGREE_WEIGHT_SCALE); returns how many labels were pairable (0 or >= 2). */
static int64_t add_unit(const int *v, int n_raters, int n_cat, __int128 *o) {
    int64_t count[GT_AGREE_MAX_CATEGORIES] = {0}, m = 0;
    for (int r = 0; r < n_raters; r++)
        if (v[r] != GT_AGREE_MISSING) count[v[r]]++, m++;
    if (m < 2) return 0;
    int64_t w = AGREE_WEIGHT_SCALE / (m - 1);
    assert(w * (m - 1) == AGREE_WEIGHT_SCALE);
    /* Ordered pairs of distinct labellers: c with k gives count[c] * count[k]
     * pairs, c with itself count[c] * (count[c] - 1). */
    for (int c = 0; c < n_cat; c++)
        for (int k = 0; k < n_cat; k++)
            o[c * n_cat + k] += (__int128)w * count[c] * (c == k ? count[c] - 1 : count[k]);
    return m;
}

/* The coincidence matrix o (scaled) of labels after checking them; *n gets
 * the pairable labels. */
static int coincidences(const int *labels, size_t n_items, int n_raters, int n_cat, __int128 *o, int64_t *n,
                        gt_err *err) {
    int rc = check_shape(n_items, n_raters, n_cat, err);
    *n = 0;
    for (size_t i = 0; !rc && i < n_items; i++) {
        const int *v = labels + i * (size_t)n_raters;
        for (int r = 0; !rc && r < n_raters; r++) rc = check_label(v[r], i, n_cat, err);
        if (!rc) *n += add_unit(v, n_raters, n_cat, o);
    }
    return rc;
}

int gt_agree_alpha(const int *labels, size_t n_items, int n_raters, int n_cat, gt_agree *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    __int128 o[GT_AGREE_MAX_CATEGORIES * GT_AGREE_MAX_CATEGORIES] = {0};
    int64_t n = 0; /* pairable labels */
    int rc = coincidences(labels, n_items, n_raters, n_cat, o, &n, err);
    if (rc) return rc;
    /* With O = scale * o and N_c = scale * n_c:
     * alpha = 1 - (n - 1) * scale * Do / De, Do = sum_{c!=k} O_ck, De = sum_{c!=k} N_c N_k. */
    __int128 nc[GT_AGREE_MAX_CATEGORIES] = {0}, total = 0, disagree = 0, chance = 0;
    for (int c = 0; c < n_cat; c++)
        for (int k = 0; k < n_cat; k++) {
            nc[c] += o[c * n_cat + k];
            if (c != k) disagree += o[c * n_cat + k];
        }
    for (int c = 0; c < n_cat; c++) {
        total += nc[c];
        for (int k = 0; k < n_cat; k++)
            if (c != k) chance += nc[c] * nc[k];
    }
    assert(total == (__int128)n * AGREE_WEIGHT_SCALE); /* each pairable label weighs 1 in all */
    out->n = (uint64_t)n;
    if (chance == 0) return 0; /* nothing pairable, or every label in one category */
    out->defined = 1;
    out->ppm = ppm_of(chance - (__int128)(n - 1) * AGREE_WEIGHT_SCALE * disagree, chance);
    return 0;
}

/* The ordinal distance of categories c and k, times 2: 2 * sum_{g=c..k} n_g
 * - n_c - n_k (Krippendorff's ordinal metric is its square over 4). */
static int64_t ordinal_gap2(const int64_t *nc, int c, int k) {
    if (c > k) {
        int t = c;
        c = k, k = t;
    }
    int64_t sum = 0;
    for (int g = c; g <= k; g++) sum += nc[g];
    return 2 * sum - nc[c] - nc[k];
}

int gt_agree_alpha_ordinal(const int *labels, size_t n_items, int n_raters, int n_cat, gt_agree *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    if (n_items * (size_t)(n_raters > 0 ? n_raters : 1) > GT_AGREE_ORDINAL_MAX_LABELS)
        return gt_err_set(err, GT_ELIMIT, "%zu items of %d labels: at most %u labels in an ordinal alpha", n_items,
                          n_raters, GT_AGREE_ORDINAL_MAX_LABELS);
    __int128 o[GT_AGREE_MAX_CATEGORIES * GT_AGREE_MAX_CATEGORIES] = {0};
    int64_t n = 0;
    int rc = coincidences(labels, n_items, n_raters, n_cat, o, &n, err);
    if (rc) return rc;
    /* n_c is a whole number (each pairable label weighs 1 in all), so with O
     * = scale * o and D = 2 * delta: alpha = 1 - (n - 1) * Do / (scale * De),
     * Do = sum_{c!=k} O_ck D_ck^2, De = sum_{c!=k} n_c n_k D_ck^2 (the 1/4s
     * cancel). Within GT_AGREE_ORDINAL_MAX_LABELS every product fits. */
    int64_t nc[GT_AGREE_MAX_CATEGORIES] = {0};
    for (int c = 0; c < n_cat; c++) {
        __int128 row = 0;
        for (int k = 0; k < n_cat; k++) row += o[c * n_cat + k];
        assert(row % AGREE_WEIGHT_SCALE == 0);
        nc[c] = (int64_t)(row / AGREE_WEIGHT_SCALE);
    }
    __int128 disagree = 0, chance = 0;
    for (int c = 0; c < n_cat; c++)
        for (int k = 0; k < n_cat; k++) {
            if (c == k) continue;
            __int128 d2 = (__int128)ordinal_gap2(nc, c, k) * ordinal_gap2(nc, c, k);
            disagree += o[c * n_cat + k] * d2;
            chance += (__int128)nc[c] * nc[k] * d2;
        }
    out->n = (uint64_t)n;
    if (chance == 0) return 0; /* nothing pairable, or every label in one category */
    out->defined = 1;
    chance *= AGREE_WEIGHT_SCALE;
    out->ppm = ppm_of(chance - (__int128)(n - 1) * disagree, chance);
    return 0;
}
