/* h_web_list.c: the rows behind the dashboard's round and label-task pages
 * (fund/fund_list.h): a round's contributions one by one (who gave what to
 * which project, with the proof-of-human weight the sybil rule gives them)
 * and a label task's labels (committed; choice and reason once revealed).
 * The totals are h_fund.c's and h_label.c's. Amounts are base units as
 * decimal strings already, so these replies are not passed through
 * gt_api_units. */
#include "api/h_web_list.h"

#include "base/num.h"
#include "fund/fund_list.h"
#include "market/market.h"

/* GET /v1/fund/rounds/{id}/contributions?limit=&cursor= : {"round",
 * "contributions": [...], "next"}, a page of the round's contributions
 * (limit 1..500, default 200; cursor: "next" of the page before). */
void gt_h_web_contribs(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {"limit", "cursor", NULL};
    gt_err err = {0};
    uint8_t id[32];
    uint64_t limit = 200, cursor = 0, now = 0;
    const char *lim = gt_req_query(r, "limit"), *cur = gt_req_query(r, "cursor");
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || gt_param_hash(r->m.params[0], "round id", 0, id, &err) ||
        (lim && gt_parse_u64(lim, "limit", 1, GT_FUND_LIST_PAGE_MAX, &limit, &err)) ||
        (cur && gt_parse_u64(cur, "cursor", 0, GT_FUND_LIST_CURSOR_MAX, &cursor, &err)) ||
        !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    int began = gt_market_snapshot_begin(rd->db);
    json_t *j = gt_api_head_time(rd->db, &now, &err) ? NULL
                                                      : gt_fund_list_contribs(rd->db, id, cursor, limit, now, &err);
    gt_market_snapshot_end(rd->db, began);
    gt_api_reply(o, j, &err);
}

/* GET /v1/label/tasks/{id}/labels : {"task", "labels": [...]}, every label
 * committed in the task, by item then labeller. */
void gt_h_web_labels(gt_req *r, gt_resp *o) {
    gt_api_get_one(r, o, "task id", 0, gt_fund_list_labels, gt_api_reply);
}
