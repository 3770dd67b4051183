/* h_work.c: the routes of synthetic data and evaluation work: the
 * leaderboard of attested model scores, one attestation with its co-signs,
 * and the dataset published for a data job (its Merkle root on the ledger).
 * Every reader is src/work's; these handlers only check parameters. */
#include <string.h>

#include "api/api_impl.h"
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

/* GET /v1/datasets/{job}: the dataset published for a data job. */
void gt_h_dataset(gt_req *r, gt_resp *o) {
    gt_api_get_one(r, o, "job id", 1, gt_work_dataset_get, gt_api_reply_units);
}
