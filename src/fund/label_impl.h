/* label_impl.h: what the label task's rules (label_task.c, label_vote.c,
 * label_close.c) and its readers (label_query.c) share: the task row. */
#ifndef GT_FUND_LABEL_IMPL_H
#define GT_FUND_LABEL_IMPL_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"
#include "fund/fund_impl.h"
#include "fund/label.h"

/* Record tags of the label tables' rows in the block commitment. */
enum { FD_REC_LTASK = 0x6a, FD_REC_LITEM = 0x6b, FD_REC_LSEAT = 0x6c, FD_REC_LVOTE = 0x6d, FD_REC_LCLOSE = 0x6e };
enum { FD_REC_LRANK = 0x6f }; /* a ranking task posted (FD_REC_LTASK's fields) */

typedef struct fd_ltask {
    gt_addr poster;
    uint64_t n_items, k, pay, bond, gold_bar_pct, min_gold, min_labels, commit_end_s, reveal_end_s;
    uint8_t gold_commit[32];
    uint64_t items, joined, commits, reveals;
    int status;
    int ranking; /* 1: labels are orders (label_rank_post) */
} fd_ltask;

/* Loads task id; GT_ENOTFOUND naming it. */
int gt_fund_ltask_load(sqlite3 *db, const uint8_t id[32], fd_ltask *t, gt_err *err);
/* Every seat has committed every item: reveals may start before commitEndS. */
static inline int gt_fund_ltask_all_committed(const fd_ltask *t) {
    return t->joined == t->k && t->commits == t->k * t->n_items;
}
/* Adds d to column col ("joined", "commits", ...) of task id. */
int gt_fund_ltask_bump(sqlite3 *db, const uint8_t id[32], const char *col, gt_err *err);

/* A task's items as the tally and the export read them, with the gold and
 * the label recorded at close (GT_PREF_NOT_GOLD / GT_AGREE_MISSING before). */
typedef struct fd_litems {
    size_t n;
    gt_pref_item it[GT_LABEL_MAX_ITEMS];
    int label[GT_LABEL_MAX_ITEMS];
    char *text[GT_LABEL_MAX_ITEMS * (1 + GT_PREF_MAX_ANSWERS)];
} fd_litems;
/* Loads the n items of task in order (ranking: gold and label are rank
 * codes); GT_EDB when one is missing or damaged. */
int gt_fund_litems_load(sqlite3 *db, const uint8_t task[32], size_t n, int ranking, fd_litems *out, gt_err *err);
/* Whether v is a label of an item of n_answers answers: an answer, or on a
 * ranking task a rank code of them. */
int gt_fund_label_valid(int ranking, int n_answers, int64_t v);
void gt_fund_litems_free(fd_litems *l);

#endif
