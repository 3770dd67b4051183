/* fund_list.c: the rows behind a round's and a label task's totals, for the
 * dashboard (fund_list.h): who contributed what to which project, and who
 * labelled which item how. Read-only; every column goes through
 * ledger/row.h, so a damaged row is GT_EDB naming it, never a zero. */
#include "fund/fund_list.h"

#include <assert.h>

#include "crypto/addr.h"
#include "fund/fund.h"
#include "fund/fund_impl.h"
#include "fund/label.h"
#include "fund/label_impl.h"
#include "ledger/row.h"

/* GT_ENOTFOUND naming the round unless fd_rounds holds it. */
static int round_exists(sqlite3 *db, const uint8_t round[32], gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT 1 FROM fd_rounds WHERE id=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, round, 32, SQLITE_STATIC);
    int s = sqlite3_step(q);
    char h[19];
    if (s == SQLITE_DONE) rc = gt_err_set(err, GT_ENOTFOUND, "no funding round %s…", gt_fund_short(round, h));
    else if (s != SQLITE_ROW) rc = gt_err_set(err, GT_EDB, "reading funding rounds: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* One fd_contribs row (contributor, project, amount) as JSON, with the
 * contributor's weight at now_s; NULL with err set. */
static json_t *contrib_json(sqlite3 *db, sqlite3_stmt *q, uint64_t now_s, gt_err *err) {
    const char *T = "fd_contribs";
    gt_addr who;
    uint64_t project, amount;
    uint32_t w = 0;
    if (gt_row_blob(q, 0, who.b, 20, T, err) || gt_row_amount(q, 1, &project, T, err) ||
        gt_row_amount(q, 2, &amount, T, err) || gt_fund_human_weight(db, &who, now_s, &w, err))
        return NULL;
    json_t *o = json_object();
    int bad = !o;
    gt_fund_j_put(o, "contributor", gt_fund_j_addr(&who), &bad);
    gt_fund_j_put(o, "project", json_integer((json_int_t)project), &bad);
    gt_fund_j_put(o, "amount", gt_fund_j_amt(amount), &bad);
    gt_fund_j_put(o, "weightPpm", json_integer((json_int_t)w), &bad);
    if (bad) {
        json_decref(o);
        gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    return o;
}

json_t *gt_fund_list_contribs(sqlite3 *db, const uint8_t round[32], uint64_t cursor, uint64_t limit, uint64_t now_s,
                              gt_err *err) {
    assert(limit >= 1 && limit <= GT_FUND_LIST_PAGE_MAX && cursor <= GT_FUND_LIST_CURSOR_MAX);
    sqlite3_stmt *q;
    if (round_exists(db, round, err) ||
        gt_fund_prepare(db,
                        "SELECT contributor, project, amount FROM fd_contribs WHERE round=?"
                        " ORDER BY contributor, project LIMIT ? OFFSET ?",
                        &q, err))
        return NULL;
    sqlite3_bind_blob(q, 1, round, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)limit + 1); /* one more says whether a next page exists */
    sqlite3_bind_int64(q, 3, (int64_t)cursor);
    json_t *arr = json_array();
    uint64_t n = 0;
    int s = SQLITE_DONE, more = 0;
    while (arr && (s = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == limit) {
            more = 1;
            break;
        }
        json_t *c = contrib_json(db, q, now_s, err);
        if (!c || json_array_append_new(arr, c)) json_decref(arr), arr = NULL;
        n++;
    }
    if (arr && s != SQLITE_ROW && s != SQLITE_DONE)
        json_decref(arr), arr = NULL, gt_err_set(err, GT_EDB, "reading contributions: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    if (!arr) {
        if (!err->code) gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    json_t *o = json_pack("{s:o,s:o,s:o}", "round", gt_fund_j_hex(round, 32), "contributions", arr, "next",
                          more ? json_integer((json_int_t)(cursor + n)) : json_null());
    if (!o) gt_err_set(err, GT_ENOMEM, "out of memory");
    return o;
}

/* One fd_label_votes row (item, labeller, choice, reason, commitment, and
 * the item's answers) as JSON; ranking: the choice is a rank code. The
 * commitment is public (it is in the label_commit action); a page holding
 * the opening checks it against this before revealing. */
static json_t *label_json(sqlite3_stmt *q, int ranking, gt_err *err) {
    const char *T = "fd_label_votes";
    gt_addr who;
    uint64_t item;
    uint8_t commitment[32];
    char reason[GT_LABEL_REASON_MAX + 1];
    if (gt_row_amount(q, 0, &item, T, err) || gt_row_blob(q, 1, who.b, 20, T, err) ||
        gt_row_text(q, 3, reason, sizeof reason, T, err) || gt_row_blob(q, 4, commitment, 32, T, err))
        return NULL;
    int64_t choice = sqlite3_column_int64(q, 2); /* -1 until revealed */
    int answers = sqlite3_column_int(q, 5);
    if (sqlite3_column_type(q, 2) != SQLITE_INTEGER ||
        (choice != -1 && !gt_fund_label_valid(ranking, answers, choice))) {
        gt_row_damaged(q, 2, T, "-1 (not revealed), an answer's index or a ranking's code", err);
        return NULL;
    }
    json_t *o = json_object();
    int bad = !o;
    gt_fund_j_put(o, "item", json_integer((json_int_t)item), &bad);
    gt_fund_j_put(o, "labeller", gt_fund_j_addr(&who), &bad);
    gt_fund_j_put(o, "revealed", json_boolean(choice >= 0), &bad);
    gt_fund_j_put(o, "choice", choice >= 0 ? json_integer((json_int_t)choice) : json_null(), &bad);
    gt_fund_j_put(o, "reason", json_string(reason), &bad);
    gt_fund_j_put(o, "commitment", gt_fund_j_hex(commitment, 32), &bad);
    if (bad) {
        json_decref(o);
        gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    return o;
}

json_t *gt_fund_list_labels(sqlite3 *db, const uint8_t task[32], gt_err *err) {
    fd_ltask t;
    sqlite3_stmt *q;
    if (gt_fund_ltask_load(db, task, &t, err) ||
        gt_fund_prepare(db,
                        "SELECT v.item, v.labeller, v.choice, v.reason, v.commitment, i.answers"
                        " FROM fd_label_votes v JOIN fd_label_items i ON i.task=v.task AND i.idx=v.item"
                        " WHERE v.task=? ORDER BY v.item, v.labeller",
                        &q, err))
        return NULL;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    json_t *arr = json_array();
    int s = SQLITE_DONE;
    while (arr && (s = sqlite3_step(q)) == SQLITE_ROW) {
        json_t *l = label_json(q, t.ranking, err);
        if (!l || json_array_append_new(arr, l)) json_decref(arr), arr = NULL;
    }
    if (arr && s != SQLITE_DONE)
        json_decref(arr), arr = NULL, gt_err_set(err, GT_EDB, "reading labels: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    if (!arr) {
        if (!err->code) gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    json_t *o = json_pack("{s:o,s:o}", "task", gt_fund_j_hex(task, 32), "labels", arr);
    if (!o) gt_err_set(err, GT_ENOMEM, "out of memory");
    return o;
}
