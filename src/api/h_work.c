/* h_work.c: the routes of synthetic data and evaluation work: the
 * leaderboard of attested model scores, one attestation with its co-signs,
 * and the dataset published for a data job (its Merkle root on the ledger,
 * and whether a funding round would take it). Every reader is src/work's or
 * src/fund's; these handlers only check parameters. */
#include <string.h>

#include "api/api_impl.h"
#include "fund/fund.h"
#include "market/market.h"
#include "work/work.h"

/* GET /v1/leaderboard?bench=&all= : models ranked by attested score. */
void gt_h_leaderboard(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {"bench", "all", NULL};
    gt_err err = {0};
    const char *bench = gt_req_query(r, "bench"), *all_s = gt_req_query(r, "all");
    int all = 0;
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || (bench && gt_param_token(bench, "bench", 64, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    if (all_s) {
        if (!strcmp(all_s, "true") || !strcmp(all_s, "1")) all = 1;
        else if (strcmp(all_s, "false") && strcmp(all_s, "0")) {
            gt_err_set(&err, GT_EINVAL, "all: expected true or false, got \"%.32s\"", all_s);
            gt_resp_err(o, &err);
            return;
        }
    }
    if (!(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    int began = gt_market_snapshot_begin(rd->db); /* several queries: one snapshot */
    json_t *j = gt_work_leaderboard(rd->db, bench, all, &err);
    gt_market_snapshot_end(rd->db, began);
    gt_api_reply_units(o, j, &err);
}

/* GET /v1/attestations/{id}: one eval attestation with its co-signs. */
void gt_h_attestation(gt_req *r, gt_resp *o) {
    gt_api_get_one(r, o, "attestation id", 0, gt_work_attestation_get, gt_api_reply_units);
}

/* The dataset of job with its standing for funding rounds: "fundable" true
 * when fund_round_enter would take it (a drawn, bonded panel accepted its
 * task's batches, gt_fund_dataset_panel_accepted), else false with the
 * rule's refusal as "notFundable". A published dataset is not a funded one:
 * a reader should not have to enter a round to learn which it is. A damaged
 * row is an error, not a "no" (fail closed: nothing is shown as decided). */
static json_t *dataset_with_standing(sqlite3 *db, const uint8_t job[32], gt_err *err) {
    json_t *j = gt_work_dataset_get(db, job, err);
    if (!j) return NULL;
    gt_err why = {0};
    int rc = gt_fund_dataset_panel_accepted(db, job, &why);
    if (rc && rc != GT_EPERM) {
        json_decref(j);
        *err = why;
        return NULL;
    }
    json_object_set_new(j, "fundable", json_boolean(rc == 0));
    if (rc) json_object_set_new(j, "notFundable", json_string(why.msg));
    return j;
}

/* GET /v1/datasets/{job}: the dataset published for a data job. */
void gt_h_dataset(gt_req *r, gt_resp *o) {
    gt_api_get_one(r, o, "job id", 1, dataset_with_standing, gt_api_reply_units);
}
