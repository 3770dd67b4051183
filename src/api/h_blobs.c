/* h_blobs.c: content-addressed blobs over HTTP (task specs, results,
 * reasons): POST the raw bytes, get back their id "sha256:<hex>"; GET the
 * bytes by id. The store (market/blob.h) re-hashes on every read, so a damaged
 * file is reported as our failure (500), never served as the blob. */
#include <string.h>

#include "api/api_impl.h"
#include "base/alloc.h"
#include "market/blob.h"

/* POST /v1/blobs: raw body (any bytes, at most GT_LIMIT_BLOB_BYTES). */
void gt_h_blob_post(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    char id[GT_BLOB_ID_BYTES];
    if (gt_req_only_query(r, allowed, &err) ||
        gt_blob_put(r->node->blob_dir, r->body.data ? r->body.data : (const uint8_t *)"", r->body.len, id, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    gt_resp_json(o, 201, json_pack("{s:s,s:I}", "id", id, "size", (json_int_t)r->body.len));
}

/* GET /v1/blobs/{id}: the bytes, as application/octet-stream. */
void gt_h_blob_get(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    uint8_t hash[32];
    if (gt_req_only_query(r, allowed, &err) || gt_param_hash(r->m.params[0], "blob id", 1, hash, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    char id[GT_BLOB_ID_BYTES];
    gt_blob_id_format(hash, id);
    uint8_t *data;
    size_t len;
    int rc = gt_blob_get(r->node->blob_dir, id, &data, &len, &err);
    if (rc == GT_ENOTFOUND) {
        gt_resp_err(o, &err);
        return;
    }
    if (rc) {
        /* The id parsed, so anything else is the store's fault (damage, I/O). */
        gt_resp_error(o, 500, rc, "%s", err.msg);
        return;
    }
    o->status = 200;
    o->content_type = "application/octet-stream";
    o->body = data;
    o->len = len;
}
