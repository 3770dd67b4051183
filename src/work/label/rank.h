/* rank.h: people's rankings of two to four answers turned into training data.
 *
 * An item shows a prompt and 2..GT_PREF_MAX_ANSWERS answers; a labeller
 * orders them, best first. An order is written as its answers' digits, best
 * first, read as a decimal number (the rank code): answers 2, 0, 1 in that
 * order are "201" (code 201), and 0, 2, 1 are "021" (code 21: the item's
 * answer count says how many digits, so the leading zero is implied). A code
 * is valid for an item of n answers when its n digits are each of 0..n-1
 * once. The tally, all in integers so that verifiers get the same:
 *
 *   - gold: a gold item's right order is known to the job (its gold is a
 *     rank code); a labeller is right on it when its order is exactly the
 *     gold order. The careless rule is pref.h's (min_gold, gold_bar_pct);
 *   - consensus (Borda): each careful labeller gives an answer n-1-p points
 *     for position p; a plain item's order is its answers by points, most
 *     first, when at least min_labels careful labellers ordered it and no two
 *     answers have the same points (a tie leaves it unlabelled: not exported);
 *   - agreement: Krippendorff's alpha with the ordinal metric
 *     (gt_agree_alpha_ordinal), over the units (plain item, answer), each
 *     careful labeller's value the position it gave that answer.
 *
 * Export: a labelled plain item of n answers gives n(n-1)/2 lines, one per
 * pair the consensus order implies -- for positions i < j, the answer at i
 * chosen over the answer at j -- in that order (i, then j), as DPO or HH-RLHF
 * lines (pref.h's formats). */
#ifndef GT_WORK_LABEL_RANK_H
#define GT_WORK_LABEL_RANK_H

#include "work/label/pref.h"

/* The order of a valid rank code for n answers into order[0..n-1] (best
 * first); GT_EINVAL saying what a valid code is otherwise. */
int gt_rank_decode(uint64_t code, int n, int order[GT_PREF_MAX_ANSWERS], gt_err *err);
/* The rank code of order[0..n-1] (assumed a permutation of 0..n-1). */
uint64_t gt_rank_encode(const int *order, int n);

/* Tallies codes[item * n_labellers + labeller] (rank codes, or
 * GT_AGREE_MISSING) over n_items items whose gold is a rank code or
 * GT_PREF_NOT_GOLD. out->label[i] is the consensus rank code (the gold's for
 * a gold item) or GT_AGREE_MISSING; alpha is the ordinal alpha (undefined
 * with one labeller). Refuses what gt_pref_tally_run refuses, and a code or a
 * gold that is not an order of its item's answers, naming the item. Free
 * with gt_pref_tally_free. */
int gt_rank_tally_run(const gt_pref_item *items, size_t n_items, const int *codes, int n_labellers,
                      const gt_pref_rules *rules, gt_pref_tally *out, gt_err *err);

/* Appends the pairs implied by each labelled plain item's consensus order to
 * out as JSON lines in format; refusals as gt_pref_export's. */
int gt_rank_export(const gt_pref_item *items, size_t n_items, const gt_pref_tally *t, gt_pref_format format,
                   gt_buf *out, gt_err *err);

#endif
