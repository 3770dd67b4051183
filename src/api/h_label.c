/* h_label.c: the routes of paid human feedback (fund/label.h): label tasks,
 * the next item an address should label, and a closed task's export (DPO or
 * HH-RLHF JSON lines) and dataset card. Labelling itself -- label_join,
 * label_commit, label_reveal -- goes through POST /v1/actions signed by the
 * labeller's wallet, like every other action (a web page signs the EIP-712
 * typed data in the browser). Amounts are base units as decimal strings
 * already, so these replies are not passed through gt_api_units. */
#include <string.h>

#include "api/api_impl.h"
#include "base/num.h"
#include "fund/label.h"
#include "market/market.h"

/* GET /v1/label/tasks?limit= : {"tasks": [...]}, the newest label tasks. */
void gt_h_label_tasks(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {"limit", NULL};
    gt_err err = {0};
    const char *lim = gt_req_query(r, "limit");
    uint64_t limit = 20;
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || (lim && gt_parse_u64(lim, "limit", 1, 100, &limit, &err)) ||
        !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    int began = gt_market_snapshot_begin(rd->db);
    json_t *j = gt_fund_label_tasks(rd->db, limit, &err);
    gt_market_snapshot_end(rd->db, began);
    if (j) j = json_pack("{s:o}", "tasks", j); /* as /v1/fund/rounds: room for paging later */
    if (!j && !err.code) gt_err_set(&err, GT_ENOMEM, "out of memory");
    gt_api_reply(o, j, &err);
}

/* GET /v1/label/tasks/{id}: terms, items, seats and, once closed, the outcome. */
void gt_h_label_task(gt_req *r, gt_resp *o) {
    gt_api_get_one(r, o, "task id", 0, gt_fund_label_task_get, gt_api_reply);
}

/* GET /v1/label/tasks/{id}/next?address=0x.. : the next item that address
 * should label ({"done": false, "item": {index, prompt, answers}}), or
 * {"done": true, "why": ...}. */
void gt_h_label_next(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {"address", NULL};
    gt_err err = {0};
    uint8_t id[32];
    gt_addr who;
    uint64_t now = 0;
    const char *addr = gt_req_query(r, "address");
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || gt_param_hash(r->m.params[0], "task id", 0, id, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    if (!addr) {
        gt_resp_error(o, 400, GT_EINVAL, "address: expected ?address=0x... (the labeller's address)");
        return;
    }
    if (gt_param_addr(addr, "address", &who, &err) || !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    int began = gt_market_snapshot_begin(rd->db);
    json_t *j = gt_api_head_time(rd->db, &now, &err) ? NULL : gt_fund_label_next(rd->db, id, &who, now, &err);
    gt_market_snapshot_end(rd->db, began);
    gt_api_reply(o, j, &err);
}

/* GET /v1/label/tasks/{id}/export?format=dpo|hh|card : a closed task's DPO
 * or HH-RLHF JSON lines (application/jsonl), rebuilt from the ledger and
 * checked against the Merkle root recorded at close, or its dataset card
 * (text/markdown). */
void gt_h_label_export(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {"format", NULL};
    gt_err err = {0};
    uint8_t id[32];
    const char *fmt = gt_req_query(r, "format");
    gt_reader *rd;
    if (!fmt) fmt = "dpo";
    if (gt_req_only_query(r, allowed, &err) || gt_param_hash(r->m.params[0], "task id", 0, id, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    int card = !strcmp(fmt, "card"), hh = !strcmp(fmt, "hh");
    if (!card && !hh && strcmp(fmt, "dpo")) {
        gt_resp_error(o, 400, GT_EINVAL, "format: expected dpo, hh or card, got \"%.32s\"", fmt);
        return;
    }
    if (!(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    gt_buf b = GT_BUF_INIT;
    int began = gt_market_snapshot_begin(rd->db);
    int rc = card ? gt_fund_label_card(rd->db, id, &b, &err)
                  : gt_fund_label_export(rd->db, id, hh ? GT_PREF_HH : GT_PREF_DPO, &b, &err);
    gt_market_snapshot_end(rd->db, began);
    if (rc) {
        gt_buf_free(&b);
        gt_resp_err(o, &err);
        return;
    }
    o->status = 200;
    o->body = b.data;
    o->len = b.len;
    o->content_type = card ? "text/markdown; charset=utf-8" : "application/jsonl";
}
