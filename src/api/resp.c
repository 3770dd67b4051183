/* resp.c: what handlers build their answers with (api_impl.h): JSON
 * responses and errors with the HTTP status of a GT_E* code, hex, the
 * request's query parameters and its borrowed ledger reader. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_impl.h"
#include "base/alloc.h"
#include "base/json.h"
#include "market/market.h"

/* Writes "0x" and the lowercase hex of b into out (2n + 3 bytes). */
void gt_api_hex(const uint8_t *b, size_t n, char *out) {
    out[0] = '0';
    out[1] = 'x';
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = digits[b[i] >> 4];
        out[3 + 2 * i] = digits[b[i] & 15];
    }
    out[2 + 2 * n] = 0;
}

/* The HTTP status of a GT_E* code (see docs/api.md, Errors). */
int gt_http_status(int code) {
    switch (code) {
    case 0: return 200;
    case GT_EINVAL: return 400;
    case GT_ENOTFOUND: return 404;
    case GT_ENONCE: return 409;
    case GT_EEXIST: return 409;
    case GT_ELIMIT: return 413;
    case GT_ESIG: case GT_ECHAIN: case GT_EFUNDS: case GT_EPERM: case GT_ESTATE: case GT_EOVERFLOW:
        return 422;
    case GT_EUNSUPPORTED: return 400;
    default: return 500; /* ENOMEM, EIO, EDB: our failure, not the client's */
    }
}

/* Sets o to status with j (stolen) as a compact JSON body and a newline;
 * 500 with no body if memory runs out. */
void gt_resp_json(gt_resp *o, int status, json_t *j) {
    o->status = status;
    o->content_type = "application/json";
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    size_t n = s ? strlen(s) : 0;
    /* Bodies end with a newline: friendlier to curl on a terminal. */
    o->body = s ? gt_malloc(n + 1) : NULL;
    if (!o->body) {
        free(s);
        o->status = 500;
        o->len = 0;
        return;
    }
    memcpy(o->body, s, n);
    o->body[n] = '\n';
    o->len = n + 1;
    free(s);
}

/* Sets o to an error response {"error":{"code","message"}}. */
void gt_resp_error(gt_resp *o, int status, int code, const char *fmt, ...) {
    char msg[GT_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(gt_err_name(code)));
    /* Messages may quote client bytes, or be cut inside a character:
     * jansson refuses invalid UTF-8, so the bad bytes are replaced (U+FFFD)
     * and the rest of what was wrong still reaches the client. */
    json_t *m = json_string(msg);
    json_object_set_new(e, "message", m ? m : gt_json_text_lossy(msg, strlen(msg)));
    gt_resp_json(o, status, json_pack("{s:o}", "error", e));
}

/* Sets o to the error in e, with the status its code implies. */
void gt_resp_err(gt_resp *o, const gt_err *e) {
    int code = e->code ? e->code : GT_EIO;
    gt_resp_error(o, gt_http_status(code), code, "%s", e->msg[0] ? e->msg : gt_err_name(code));
}

/* The first value of query parameter name (MHD owns it), or NULL. */
const char *gt_req_query(gt_req *r, const char *name) {
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* The most parameters a route takes (gt_req_only_query's allowed list). */
#define ONLY_MAX_ALLOWED 16

typedef struct only_ctx {
    const char *const *allowed;
    unsigned seen[ONLY_MAX_ALLOWED]; /* how often each allowed key came */
    const char *why;                 /* what is wrong with key bad; NULL: nothing yet */
    int unknown;                     /* bad is not in allowed */
    char bad[80];
} only_ctx;

/* MHD_get_connection_values callback: stops at the first key not allowed,
 * given twice, or without a value ("?limit", which MHD reads as absent). */
static enum MHD_Result only_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    only_ctx *c = cls;
    (void)kind;
    size_t i = 0;
    while (c->allowed[i] && strcmp(c->allowed[i], key)) i++;
    if (!c->allowed[i]) c->why = "unknown query parameter", c->unknown = 1;
    else if (i < ONLY_MAX_ALLOWED && ++c->seen[i] > 1) c->why = "repeated query parameter";
    else if (!value) c->why = "query parameter without a value";
    else return MHD_YES;
    snprintf(c->bad, sizeof c->bad, "%s", key);
    return MHD_NO;
}

/* Refuses the request's query if it has a parameter not in allowed, one
 * given twice (which of the values was meant?) or one without "=value". */
int gt_req_only_query(gt_req *r, const char *const *allowed, gt_err *err) {
    only_ctx c = {.allowed = allowed};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, only_iter, &c);
    if (!c.why) return 0;
    if (!c.unknown) /* a known one, misused */
        return gt_err_set(err, GT_EINVAL, "%s \"%s\": expected it once, as %s=VALUE", c.why, c.bad, c.bad);
    char list[256] = "";
    for (const char *const *a = allowed; *a; a++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", a == allowed ? "" : ", ", *a);
    return gt_err_set(err, GT_EINVAL, "unknown query parameter \"%s\"; this route takes: %s", c.bad,
                      list[0] ? list : "none");
}

/* Borrows the request's reader on first use; NULL with err if none can open. */
gt_reader *gt_req_reader(gt_req *r, gt_err *err) {
    if (!r->rd) r->rd = gt_node_reader_get(r->node, err);
    return r->rd;
}

/* See api_impl.h. The snapshot: a getter reads several tables (a task and
 * its slots), which a block committed between two of its queries would
 * otherwise show half-applied. */
void gt_api_get_one(gt_req *r, gt_resp *o, const char *what, int allow_sha256, gt_api_get_fn get,
                    void (*reply)(gt_resp *o, json_t *j, const gt_err *err)) {
    static const char *const allowed[] = {NULL};
    assert(r->m.n_params >= 1 && what && get && reply);
    gt_err err = {0};
    uint8_t id[32];
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || gt_param_hash(r->m.params[0], what, allow_sha256, id, &err) ||
        !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    int began = gt_market_snapshot_begin(rd->db);
    json_t *j = get(rd->db, id, &err);
    gt_market_snapshot_end(rd->db, began);
    reply(o, j, &err);
}
