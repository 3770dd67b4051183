/* agree.h: how far labellers agree, in exact integer arithmetic.
 *
 * Human-feedback datasets report their labellers' agreement in the dataset
 * card, which verifiers recompute by replay: so the figures come from integer
 * counts and one rounding, never from floats. Two measures:
 *
 *   - Cohen's kappa for two labellers over the same items:
 *       kappa = (N*a - S) / (N*N - S), a the items both gave the same
 *       category, S = sum over categories of the two labellers' counts
 *       multiplied; items either left unlabelled are not counted.
 *   - Krippendorff's alpha (nominal) for any number of labellers with gaps:
 *       alpha = 1 - (n - 1) * sum_{c!=k} o_ck / sum_{c!=k} n_c n_k, from the
 *       coincidence matrix o (each ordered pair of labels within an item
 *       weighs 1 / (labels of that item - 1)); items with fewer than two
 *       labels are not pairable and do not count. The 1/(m-1) weights are
 *       scaled by lcm(1..GT_AGREE_MAX_RATERS-1) so every sum stays an integer.
 *
 * Both are given in parts per million, truncated toward zero (1.0 is
 * 1000000; they can be negative). When the measure has no value (every label
 * in one category, so chance agreement is total; or nothing pairable) the
 * result says so instead of inventing one. */
#ifndef GT_WORK_LABEL_AGREE_H
#define GT_WORK_LABEL_AGREE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GT_AGREE_MAX_CATEGORIES 16 /* a comparison has 2-3, a ranking's positions at most this */
#define GT_AGREE_MAX_RATERS 16     /* labels per item */
#define GT_AGREE_MAX_ITEMS (1u << 20)
#define GT_AGREE_MISSING (-1)      /* an item this labeller did not label */

typedef struct gt_agree {
    int defined;   /* 0: no value (see above); ppm is then 0 */
    int64_t ppm;   /* the measure times 1e6, truncated toward zero */
    uint64_t n;    /* items (kappa) or pairable labels (alpha) that counted */
} gt_agree;

/* Cohen's kappa of labellers a and b over n_items (labels in 0..n_cat-1 or
 * GT_AGREE_MISSING). Refuses (GT_EINVAL, naming the item) a label out of
 * range, and (GT_ELIMIT) counts over the limits above. */
int gt_agree_kappa(const int *a, const int *b, size_t n_items, int n_cat, gt_agree *out, gt_err *err);

/* Krippendorff's alpha (nominal) of labels[item * n_raters + rater], each in
 * 0..n_cat-1 or GT_AGREE_MISSING. Same refusals as gt_agree_kappa. */
int gt_agree_alpha(const int *labels, size_t n_items, int n_raters, int n_cat, gt_agree *out, gt_err *err);

/* Krippendorff's alpha with the ordinal metric, for ranks: a label is a
 * position 0..n_cat-1 (0 the best), and two labels differ by
 * delta_ck = sum_{g=c..k} n_g - (n_c + n_k) / 2 (n_g: pairable labels of
 * position g), squared: alpha = 1 - (n - 1) * sum_{c!=k} o_ck delta_ck^2 /
 * sum_{c!=k} n_c n_k delta_ck^2. A ranking task's units are (item, answer)
 * and each labeller's label the position it gave the answer. Same refusals
 * as gt_agree_alpha, and (GT_ELIMIT) more than GT_AGREE_ORDINAL_MAX_LABELS
 * labels (n_items * n_raters), the bound under which its sums fit 128 bits. */
#define GT_AGREE_ORDINAL_MAX_LABELS (1u << 16)
int gt_agree_alpha_ordinal(const int *labels, size_t n_items, int n_raters, int n_cat, gt_agree *out, gt_err *err);

#endif
