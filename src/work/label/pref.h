/* pref.h: people's preference labels turned into training data.
 *
 * An item shows a prompt and two to GT_PREF_MAX_ANSWERS answers; each of up
 * to GT_AGREE_MAX_RATERS labellers picks the best answer (0 .. n_answers-1),
 * or leaves it (GT_AGREE_MISSING). Some items
 * are gold: their right choice is known to the job and hidden from
 * labellers. The tally, all in integers so that verifiers get the same:
 *
 *   - a labeller's gold record is the gold items it labelled and how many it
 *     got right; one that labelled at least min_gold of them and got fewer
 *     than gold_bar_pct percent right is careless: none of its labels count
 *     (and the job slashes it);
 *   - a plain item's label is the answer the most careful labellers chose
 *     (with two answers: the strict majority), when at least min_labels of
 *     them chose; a tie for the most or too few leaves it unlabelled, and it
 *     is not exported;
 *   - agreement is Krippendorff's alpha over the plain items, careful
 *     labellers only (agree.h).
 *
 * Export, one JSON object per line, for the labelled plain items only (an
 * item of n answers gives n-1 lines: the chosen answer against each other
 * answer, in answer order):
 * DPO ({"prompt", "chosen", "rejected"}, as TRL's DPOTrainer reads it) or
 * Anthropic's HH-RLHF layout ({"chosen", "rejected"}, each the whole
 * conversation "\n\nHuman: PROMPT\n\nAssistant: ANSWER"). */
#ifndef GT_WORK_LABEL_PREF_H
#define GT_WORK_LABEL_PREF_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "work/label/agree.h"

#define GT_PREF_MAX_TEXT (64 * 1024) /* bytes of a prompt or an answer */
#define GT_PREF_NOT_GOLD (-1)
#define GT_PREF_MAX_ANSWERS 4 /* answers of one item (a best-of-n choice) */

typedef struct gt_pref_item {
    const char *prompt;
    const char *answer[GT_PREF_MAX_ANSWERS];
    int gold;      /* the right choice (0 .. answers-1), or GT_PREF_NOT_GOLD */
    int n_answers; /* 2 .. GT_PREF_MAX_ANSWERS; 0 is read as 2 */
} gt_pref_item;

/* The answers of an item (n_answers, or 2 when it is 0). */
static inline int gt_pref_answers(const gt_pref_item *it) { return it->n_answers ? it->n_answers : 2; }

typedef struct gt_pref_rules {
    int min_labels;   /* careful labels a plain item needs, >= 1 */
    int gold_bar_pct; /* percent of gold right a labeller needs, 0..100 */
    int min_gold;     /* gold items a labeller must have labelled to be judged, >= 1 */
} gt_pref_rules;

typedef struct gt_pref_tally {
    int *label;                  /* per item: the majority (plain) or the gold, or GT_AGREE_MISSING */
    int *careless;               /* per labeller: 1 when under the gold bar */
    int *gold_seen, *gold_right; /* per labeller */
    size_t n_labelled;           /* plain items with a label */
    gt_agree alpha;              /* agreement over the plain items, careful labellers */
} gt_pref_tally;

/* Tallies choices[item * n_labellers + labeller] over n_items items by the
 * rules. Refuses a count of answers out of 2 .. GT_PREF_MAX_ANSWERS, a choice
 * other than an answer or missing, a gold other than an answer or
 * GT_PREF_NOT_GOLD, rules out of range and counts over agree.h's limits,
 * naming the item or the rule. Free with gt_pref_tally_free. */
int gt_pref_tally_run(const gt_pref_item *items, size_t n_items, const int *choices, int n_labellers,
                      const gt_pref_rules *rules, gt_pref_tally *out, gt_err *err);
void gt_pref_tally_free(gt_pref_tally *t);

typedef enum gt_pref_format { GT_PREF_DPO = 0, GT_PREF_HH = 1 } gt_pref_format;

/* Appends the labelled plain items of a tally to out as JSON lines in format.
 * Refuses text that is not UTF-8 or is over GT_PREF_MAX_TEXT, naming the item
 * and the field; out is then left as it was. */
int gt_pref_export(const gt_pref_item *items, size_t n_items, const gt_pref_tally *t, gt_pref_format format,
                   gt_buf *out, gt_err *err);

/* Checks rules against the counts as gt_pref_tally_run does (the items'
 * answers and choices aside): 0 or the refusal naming the rule or count. */
int gt_pref_rules_check(const gt_pref_rules *rules, size_t n_items, int n_labellers, gt_err *err);
/* Appends one export line of item it (index i, for messages): answer chosen
 * over answer rejected, in format. Refusals as gt_pref_export's; out may then
 * hold part of a line (the caller cuts it back). */
int gt_pref_pair_line(const gt_pref_item *it, int chosen, int rejected, size_t i, gt_pref_format format,
                      gt_buf *out, gt_err *err);

#endif
