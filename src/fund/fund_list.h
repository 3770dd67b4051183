/* fund_list.h: lists the dashboard reads row by row (web/): a funding
 * round's individual contributions (who gave what to which project) and a
 * label task's labels (committed, and once revealed their choice and
 * reason). The per-round and per-task totals are fund_query.c's and
 * label_query.c's; these are the rows behind them. Amounts are base units as
 * decimal strings, addresses EIP-55, ids 0x hex (the API's conventions). */
#ifndef GT_FUND_LIST_H
#define GT_FUND_LIST_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"

#define GT_FUND_LIST_PAGE_MAX 500u     /* rows one call returns at most */
#define GT_FUND_LIST_CURSOR_MAX 100000u /* the furthest row a cursor may point at */

/* The contributions of round (one row per contributor and project, summed
 * as the ledger keeps them), ordered by contributor then project, from row
 * `cursor` on, at most `limit` (1..GT_FUND_LIST_PAGE_MAX): {"round",
 * "contributions": [{contributor, project, amount, weightPpm}], "next"}.
 * weightPpm is the contributor's proof-of-human weight at now_s (the head
 * block's time), which the sybil rule weighs it by. "next" is the cursor of
 * the following page, or null. GT_ENOTFOUND when there is no such round. */
json_t *gt_fund_list_contribs(sqlite3 *db, const uint8_t round[32], uint64_t cursor, uint64_t limit, uint64_t now_s,
                              gt_err *err);

/* The labels of a label task, ordered by item then labeller: {"task",
 * "labels": [{item, labeller, revealed, choice, reason, commitment}]}
 * (choice null and reason "" until revealed: the commitment shows nothing). At most
 * GT_LABEL_MAX_ITEMS * GT_AGREE_MAX_RATERS rows, so no paging.
 * GT_ENOTFOUND when there is no such task. */
json_t *gt_fund_list_labels(sqlite3 *db, const uint8_t task[32], gt_err *err);

#endif
