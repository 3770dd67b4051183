/* h_fund.c: the routes of funding (src/fund): rounds with their projects and
 * matches, an address's proof-of-human status, an epoch's points or airdrop
 * leaves, and one account's claim with its Merkle proof. Actions (creating
 * rounds, contributing, attesting, claiming) go through POST /v1/actions
 * like every other kind. Amounts are base units as decimal strings already
 * (the fund readers write them so), so these replies are not passed through
 * gt_api_units. Every reader is src/fund's; these handlers check parameters. */
#include <string.h>

#include "api/api_impl.h"
#include "base/num.h"
#include "fund/fund.h"
#include "market/market.h"

/* Replies with j (200) or err (h_fund.c and h_label.c). */
void gt_api_reply(gt_resp *o, json_t *j, const gt_err *err) {
    if (j)
        gt_resp_json(o, 200, j);
    else
        gt_resp_err(o, err);
}

/* The head block's time: "now" for an attestation's expiry or a label
 * task's commit window (h_fund.c and h_label.c). */
int gt_api_head_time(sqlite3 *db, uint64_t *out, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT time FROM blocks ORDER BY height DESC LIMIT 1", -1, &q, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "reading the head: %s", sqlite3_errmsg(db));
    int rc = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) >= 0
                 ? (*out = (uint64_t)sqlite3_column_int64(q, 0), 0)
                 : gt_err_set(err, GT_EDB, "the ledger has no head block");
    sqlite3_finalize(q);
    return rc;
}

/* GET /v1/fund/rounds?limit= : the newest rounds. */
void gt_h_fund_rounds(gt_req *r, gt_resp *o) {
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
    json_t *j = gt_fund_rounds_list(rd->db, limit, &err);
    gt_market_snapshot_end(rd->db, began);
    gt_api_reply(o, j, &err);
}

/* GET /v1/fund/rounds/{id}: a round, its projects, contributions and matches. */
void gt_h_fund_round(gt_req *r, gt_resp *o) {
    gt_api_get_one(r, o, "round id", 0, gt_fund_round_get, gt_api_reply);
}

/* GET /v1/fund/humans/{address}: its attestations and its weight now. */
void gt_h_fund_human(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    gt_addr who;
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || gt_param_addr(r->m.params[0], "address", &who, &err) ||
        !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    int began = gt_market_snapshot_begin(rd->db);
    uint64_t now = 0;
    json_t *j = gt_api_head_time(rd->db, &now, &err) ? NULL : gt_fund_human_get(rd->db, &who, now, &err);
    gt_market_snapshot_end(rd->db, began);
    gt_api_reply(o, j, &err);
}

/* GET /v1/fund/epochs/{n}: an epoch's pool and points, or its leaves once closed. */
void gt_h_fund_epoch(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    uint64_t epoch;
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || gt_parse_u64(r->m.params[0], "epoch", 0, UINT32_MAX, &epoch, &err) ||
        !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    int began = gt_market_snapshot_begin(rd->db);
    json_t *j = gt_fund_epoch_get(rd->db, epoch, &err);
    gt_market_snapshot_end(rd->db, began);
    gt_api_reply(o, j, &err);
}

/* GET /v1/fund/epochs/{n}/claims/{address}: the claim and its Merkle proof. */
void gt_h_fund_claim(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    uint64_t epoch;
    gt_addr who;
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || gt_parse_u64(r->m.params[0], "epoch", 0, UINT32_MAX, &epoch, &err) ||
        gt_param_addr(r->m.params[1], "address", &who, &err) || !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    int began = gt_market_snapshot_begin(rd->db);
    json_t *j = gt_fund_claim_get(rd->db, epoch, &who, &err);
    gt_market_snapshot_end(rd->db, began);
    gt_api_reply(o, j, &err);
}
