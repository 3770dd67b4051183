/* h_ledger.c: the ledger's routes: submitting signed actions, and reading
 * actions, accounts, blocks and the chain's signing parameters.
 *
 * Submitting is all or nothing at the door: a batch with one malformed action
 * (bad JSON, unknown type, bad field) is refused whole with 400 before any of
 * it reaches the ledger, so a client never has to work out which half of a
 * batch went in. Well-formed actions are then judged one by one by the rules
 * (signature, nonce, funds...), each with its own result, exactly as the
 * ledger applies them. Amounts in responses are decimal strings of base units
 * (JSON numbers above 2^53 lose precision in most clients).
 *
 * A node started with --chain settles the market on the chain's contracts
 * (chain_market.h): its embedded ledger takes no action of the market's or
 * the work layer's kinds (gt_market_kind, gt_work_kind), which would open a
 * second market beside the chain's that nobody settles. Such an action is
 * refused at the door too, with 403, and a batch holding one is refused
 * whole: nothing of it is applied. Transfers, stakes, payments, funding and
 * labelling are taken as on any node. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_impl.h"
#include "api/chain_market.h"
#include "api/ext.h"
#include "base/num.h"
#include "base/alloc.h"
#include "base/json.h"
#include "base/limits.h"
#include "crypto/addr.h"
#include "ledger/seed.h"
#include "market/market.h"
#include "store/quota.h"
#include "work/work.h"

/* See api_impl.h. "seed" is the draw seed the block reveals (keccak256 of it
 * is the previous block's seed, or the anchor at the first block of a
 * segment: ledger/seed.h), "seedAnchor" the next segment's anchor it commits
 * to, so a client can check the chain of seeds itself. Written as text, not
 * built with jansson: the node's watcher publishes one per block, and
 * json_pack + json_dumps cost 60 K instructions a block (callgrind). */
size_t gt_block_text(const gt_block *b, char out[GT_BLOCK_TEXT_MAX]) {
    char hash[67], prev[67], aroot[67], sroot[67], seed[67], anchor[67];
    gt_api_hex(b->hash, 32, hash);
    gt_api_hex(b->prev, 32, prev);
    gt_api_hex(b->actions_root, 32, aroot);
    gt_api_hex(b->state_root, 32, sroot);
    gt_api_hex(b->seed, 32, seed);
    gt_api_hex(b->seed_anchor, 32, anchor);
    /* As json_pack's "I" writes them: heights, times and counts are int64 */
    int n = snprintf(out, GT_BLOCK_TEXT_MAX,
                     "{\"height\":%lld,\"hash\":\"%s\",\"prev\":\"%s\",\"actionsRoot\":\"%s\",\"stateRoot\":\"%s\","
                     "\"time\":%lld,\"nActions\":%lld,\"seed\":\"%s\",\"seedAnchor\":\"%s\"}",
                     (long long)b->height, hash, prev, aroot, sroot, (long long)b->time_s, (long long)b->n_actions,
                     seed, anchor);
    assert(n > 0 && n < GT_BLOCK_TEXT_MAX); /* every field has a fixed width but the three numbers */
    return (size_t)n;
}

/* A block as JSON (new reference): its text, parsed. */
json_t *gt_block_json(const gt_block *b) {
    char text[GT_BLOCK_TEXT_MAX];
    gt_block_text(b, text);
    return json_loads(text, 0, NULL);
}

/* A uint64 as a decimal JSON string (amounts: exact in every client). */
static json_t *u64_str(uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    return json_string(s);
}

/* The JSON of one action's outcome. */
static json_t *result_json(const gt_action *a, const gt_result *res) {
    char id[67];
    gt_api_hex(a->id, 32, id);
    if (res->code == 0)
        return json_pack("{s:s,s:b,s:I}", "id", id, "ok", 1, "height", (json_int_t)res->height);
    json_t *m = json_string(res->msg); /* invalid UTF-8 (a quoted field cut short): see gt_resp_error */
    return json_pack("{s:s,s:b,s:{s:s,s:o}}", "id", id, "ok", 0, "error", "code", gt_err_name(res->code), "message",
                     m ? m : gt_json_text_lossy(res->msg, strlen(res->msg)));
}

/* On a --chain node: 1 with o set to the 403 when one of the n actions is
 * of the market's or the work layer's kinds (the first one found is named),
 * else 0. 403 (not 409): no state of the node's the client could change
 * makes it take the action, so it must not be sent again here, and 409 is
 * this route's nonce race, which clients retry. */
static int refuse_market(gt_req *r, gt_resp *o, const gt_action *acts, size_t n, int is_array) {
    const gt_node *node = r->node;
    if (!node->cfg.chain_url) return 0;
    size_t i = 0;
    while (i < n && !gt_market_kind(acts[i].kind) && !gt_work_kind(acts[i].kind)) i++;
    if (i == n) return 0;
    char where[32] = "", chain[32] = "";
    if (is_array) snprintf(where, sizeof where, "actions[%zu]: ", i);
    /* The market is set once the node has read HOME/chain.json, just after it began to listen. */
    const struct gt_chain_market *cm = gt_node_chain_market(node);
    if (cm) snprintf(chain, sizeof chain, " %llu", (unsigned long long)gt_chain_market_chain_id(cm));
    /* Not opened by the kind's name: clients put it before a refusal's message (agent/client.c). */
    gt_resp_error(o, 403, GT_EUNSUPPORTED,
                  "%sthis node settles the market on chain%s at %s; its embedded ledger takes no %s nor any other "
                  "market or work action (tasks, slots, votes, agent cards, attestations, datasets): post and hire "
                  "with `gotong chain post` / `gotong chain hire`%s",
                  where, chain, node->cfg.chain_url, acts[i].kind->name,
                  is_array ? " (nothing of this batch was applied)" : "");
    return 1;
}

/* The status of one submitted action's result (docs/api.md, POST
 * /v1/actions): 200; 409 for a nonce, the one refusal a client retries
 * (with the next nonce); 500 for the node's own failure; 422 for every
 * refusal by the rules, whatever its code. Why not gt_http_status: its 400,
 * 404, 409 and 413 say the request was malformed, named nothing, hit a nonce
 * or was too large, while an action the ledger read and refused (a zero
 * amount, an unknown parent task, a second registration, too many skills)
 * is none of those; a client retrying on 409 would send EEXIST forever. */
static int action_status(int code) {
    if (!code) return 200;
    if (code == GT_ENONCE) return 409;
    if (code == GT_ENOMEM || code == GT_EIO || code == GT_EDB) return 500;
    return 422;
}

/* Answers with the results of n submitted actions: the one action's
 * result, or (is_array) the list with the counts; counts them in the
 * metrics and wakes the watcher when any was applied. */
static void reply_results(gt_req *r, gt_resp *o, const gt_action *acts, const gt_result *res, size_t n,
                          int is_array) {
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        gt_metrics_action(&r->node->metrics, res[i].code);
        ok += res[i].code == 0;
    }
    if (ok) gt_node_kick(r->node);
    if (!is_array) {
        gt_resp_json(o, action_status(res[0].code), result_json(&acts[0], &res[0]));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(list, result_json(&acts[i], &res[i]));
    gt_resp_json(o, 200, json_pack("{s:o,s:I,s:I}", "results", list, "accepted", (json_int_t)ok, "refused",
                                   (json_int_t)(n - ok)));
}

/* A submit answered once the ledger calls back (r->deferred). */
typedef struct gt_deferred {
    gt_action *acts;
    gt_result *res;
    size_t n;
    int is_array;
    _Atomic int done;     /* the ledger called back */
    gt_node *node;        /* for the counts of deferred submits */
    struct MHD_Connection *conn;
} gt_deferred;

/* The ledger's callback: every result is final; resumes the connection (MHD
 * then calls the request callback again, which answers). d may be freed as
 * soon as done is set and MHD's thread runs, but MHD_resume_connection
 * still writes to the daemon after that: resuming_live keeps the daemon
 * from being stopped until it returns. */
static void deferred_ready(void *arg) {
    gt_deferred *d = arg;
    gt_node *node = d->node;
    struct MHD_Connection *conn = d->conn;
    atomic_fetch_add(&node->resuming_live, 1);
    atomic_store(&d->done, 1);
    MHD_resume_connection(conn);
    atomic_fetch_sub(&node->resuming_live, 1);
}

/* Submits without holding the thread: suspends the connection, queues the
 * actions and returns; takes acts. 0 when it did, -1 (nothing done, acts
 * still the caller's) when out of memory. */
static int submit_deferred(gt_req *r, gt_action *acts, gt_result *res, size_t n, int is_array) {
    gt_deferred *d = gt_calloc(1, sizeof *d);
    if (!d) return -1;
    *d = (gt_deferred){.acts = acts, .res = res, .n = n, .is_array = is_array, .node = r->node, .conn = r->conn};
    r->deferred = d;
    atomic_fetch_add(&r->node->deferred_live, 1);
    /* Suspended before queueing: the callback may come at once. */
    MHD_suspend_connection(r->conn);
    if (!gt_ledger_submit_cb(r->node->ledger, acts, n, res, deferred_ready, d)) deferred_ready(d);
    return 0;
}

/* Submits n decoded actions and answers with their results, or defers the
 * answer (returns 1: acts is the deferred submit's now). */
static int submit_and_reply(gt_req *r, gt_resp *o, gt_action *acts, size_t n, int is_array) {
    assert(n >= 1 && (is_array || n == 1));
    if (refuse_market(r, o, acts, n, is_array)) return 0;
    gt_result *res = gt_calloc(n, sizeof *res);
    if (!res) {
        gt_resp_error(o, 500, GT_ENOMEM, "out of memory");
        return 0;
    }
    if (r->may_defer && submit_deferred(r, acts, res, n, is_array) == 0) return 1;
    gt_ledger_submit(r->node->ledger, acts, n, res);
    reply_results(r, o, acts, res, n, is_array);
    gt_free(res);
    return 0;
}

void gt_h_actions_post_done(gt_req *r, gt_resp *o) {
    gt_deferred *d = r->deferred;
    assert(d && atomic_load(&d->done));
    reply_results(r, o, d->acts, d->res, d->n, d->is_array);
}

void gt_h_actions_deferred_free(gt_req *r) {
    gt_deferred *d = r->deferred;
    if (!d) return;
    assert(atomic_load(&d->done)); /* the ledger holds acts and res until it calls back */
    r->deferred = NULL;
    atomic_fetch_sub(&d->node->deferred_live, 1);
    gt_free(d->acts);
    gt_free(d->res);
    gt_free(d);
}

/* POST /v1/actions: one action object, or an array of them. */
void gt_h_actions_post(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    json_t *body = NULL;
    gt_action *acts = NULL;
    if (gt_req_only_query(r, allowed, &err)) goto bad;
    if (r->body.len == 0) {
        gt_resp_error(o, 400, GT_EINVAL, "empty body; expected a signed action object or an array of them "
                                         "(see docs/api.md)");
        return;
    }
    /* One action of plain values (what clients send) is read in place;
     * anything else is parsed whole, and its faults named, below. */
    acts = gt_malloc(sizeof *acts);
    if (acts && gt_action_from_flat_text((const char *)r->body.data, r->body.len, acts)) {
        if (!submit_and_reply(r, o, acts, 1, 0)) gt_free(acts);
        return;
    }
    gt_free(acts);
    acts = NULL;
    if (gt_json_parse((const char *)r->body.data, r->body.len, GT_LIMIT_JSON_BYTES, &body, &err)) {
        gt_err_wrap(&err, "request body");
        goto bad;
    }
    int is_array = json_is_array(body);
    size_t n = is_array ? json_array_size(body) : 1;
    if (!is_array && !json_is_object(body)) {
        gt_err_set(&err, GT_EINVAL, "expected a signed action object or an array of them");
        goto bad;
    }
    if (n == 0) {
        gt_err_set(&err, GT_EINVAL, "empty array: nothing to submit");
        goto bad;
    }
    if (n > GT_API_MAX_BATCH) {
        json_decref(body);
        gt_resp_error(o, 413, GT_ELIMIT, "%zu actions in one request; at most %d accepted", n, GT_API_MAX_BATCH);
        return;
    }
    acts = gt_malloc(n * sizeof *acts);
    if (!acts) {
        gt_err_set(&err, GT_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *elem = is_array ? json_array_get(body, i) : body;
        if (!json_is_object(elem)) {
            gt_err_set(&err, GT_EINVAL, "actions[%zu]: expected an object", i);
            goto bad;
        }
        if (gt_action_from_json(elem, &acts[i], &err)) {
            if (is_array) gt_err_wrap(&err, "actions[%zu]", i);
            err.code = GT_EINVAL; /* malformed, whatever the reason: 400 */
            goto bad;
        }
    }
    json_decref(body);
    body = NULL;
    if (!submit_and_reply(r, o, acts, n, is_array)) gt_free(acts);
    return;
bad:
    if (err.code == 0) err.code = GT_EINVAL;
fail:
    json_decref(body);
    gt_free(acts);
    gt_resp_err(o, &err);
}

/* GET /v1/actions/{id}: an applied action with the block it is in. */
void gt_h_action_get(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    uint8_t id[32];
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || gt_param_hash(r->m.params[0], "action id", 0, id, &err) ||
        !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    gt_action *a = gt_malloc(sizeof *a);
    if (!a) {
        gt_resp_error(o, 500, GT_ENOMEM, "out of memory");
        return;
    }
    uint64_t height = 0;
    uint32_t idx = 0;
    int rc = gt_ledger_find_action(rd->db, id, a, &height, &idx, &err);
    if (rc) {
        gt_free(a);
        if (rc == GT_ENOTFOUND)
            gt_resp_error(o, 404, GT_ENOTFOUND, "no applied action with id %s (refused actions are not kept)",
                          r->m.params[0]);
        else
            gt_resp_error(o, 500, GT_EDB, "%s", err.msg);
        return;
    }
    json_t *j = gt_action_to_json(a, 1);
    gt_free(a);
    json_object_set_new(j, "height", json_integer((json_int_t)height));
    json_object_set_new(j, "index", json_integer((json_int_t)idx));
    if (gt_api_units(j, &err)) { /* amounts as everywhere: base units, decimal strings */
        json_decref(j);
        gt_resp_error(o, 500, GT_EDB, "%s", err.msg);
        return;
    }
    gt_resp_json(o, 200, j);
}

/* A byte count as a JSON integer (INT64_MAX at most: the quota may be set to UINT64_MAX). */
static json_t *bytes_json(uint64_t n) { return json_integer(n > INT64_MAX ? INT64_MAX : (json_int_t)n); }

/* GET /v1/accounts/{address}. An address never seen reads as all zero.
 * blobBytes and blobQuota are this node's blob store's count of the
 * account's uploads and the quota they count against: a worker checks
 * before it stakes on work whose results it must upload (a train task's
 * checkpoints) that they fit (agent/skill_train.c). */
void gt_h_account(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    gt_addr addr;
    gt_account acc;
    gt_reader *rd;
    uint64_t blob_used = 0;
    if (gt_req_only_query(r, allowed, &err) || gt_param_addr(r->m.params[0], "address", &addr, &err) ||
        !(rd = gt_req_reader(r, &err)) || gt_ledger_account(rd->ro, &addr, &acc, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    char as[43];
    gt_addr_to_str(&addr, as);
    json_t *j = json_pack("{s:s,s:o,s:o,s:o,s:o,s:I}", "address", as, "balance", u64_str(acc.balance), "staked",
                          u64_str(acc.staked), "locked", u64_str(acc.locked), "unbonding", u64_str(acc.unbonding),
                          "nonce", (json_int_t)acc.nonce);
    /* A usage file the store cannot read leaves the two out (the ledger's answer stands; an upload says why). */
    if (j && !gt_blob_usage(r->node->blob_dir, &addr, &blob_used, NULL)) {
        json_object_set_new(j, "blobBytes", bytes_json(blob_used));
        json_object_set_new(j, "blobQuota", bytes_json(r->node->cfg.blob_quota_bytes));
    }
    gt_resp_json(o, 200, j);
}

/* GET /v1/head: the newest block. */
void gt_h_head(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    gt_block b;
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || !(rd = gt_req_reader(r, &err)) || gt_ledger_head(rd->ro, &b, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    gt_resp_json(o, 200, gt_block_json(&b));
}

/* GET /health: for load balancers and scripts: 200 {"status":"ok",...} when
 * the node reads its ledger (the head block and chain id); 503 with the
 * reason when it cannot. */
void gt_h_health(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    gt_block b;
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    if (!(rd = gt_req_reader(r, &err)) || gt_ledger_head(rd->ro, &b, &err)) {
        gt_resp_json(o, 503, json_pack("{s:s,s:s}", "status", "error", "message", err.msg));
        return;
    }
    json_t *j = json_pack("{s:s,s:I,s:I,s:I}", "status", "ok", "chainId", (json_int_t)r->node->genesis.chain_id,
                          "head", (json_int_t)b.height, "time", (json_int_t)b.time_s);
    const gt_api_ext *x = r->node->cfg.ext;
    if (j && x && x->health && x->health_key) { /* the extension's state (a served model's queue) */
        json_t *xh = x->health(x->cls);
        if (xh) json_object_set_new(j, x->health_key, xh);
    }
    gt_resp_json(o, 200, j);
}

/* GET /v1/blocks?from=H&limit=N: blocks from H upwards (default: the newest
 * `limit` blocks), with "next" the height to ask for next (null at the head). */
void gt_h_blocks(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {"from", "limit", NULL};
    gt_err err = {0};
    uint64_t from = 0, limit = 20;
    const char *fs = gt_req_query(r, "from"), *ls = gt_req_query(r, "limit");
    gt_block head;
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) ||
        (fs && gt_parse_u64(fs, "from", 0, INT64_MAX, &from, &err)) ||
        (ls && gt_parse_u64(ls, "limit", 1, GT_API_BLOCKS_PAGE_MAX, &limit, &err)) ||
        !(rd = gt_req_reader(r, &err)) || gt_ledger_head(rd->ro, &head, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    if (!fs) from = head.height + 1 > limit ? head.height + 1 - limit : 0;
    json_t *list = json_array();
    uint64_t h = from;
    for (; h <= head.height && h < from + limit; h++) {
        gt_block b;
        if (gt_ledger_block(rd->ro, h, &b, &err)) {
            json_decref(list);
            gt_resp_err(o, &err);
            return;
        }
        json_array_append_new(list, gt_block_json(&b));
    }
    gt_resp_json(o, 200, json_pack("{s:o,s:o,s:I}", "blocks", list, "next",
                                   h <= head.height ? json_integer((json_int_t)h) : json_null(), "head",
                                   (json_int_t)head.height));
}

/* See api_impl.h. A block is shown whole or not at all, never with fewer
 * actions than it has. */
int gt_api_collect_action(void *arg, uint64_t height, uint32_t index, const char *json) {
    gt_api_block_actions *ba = arg;
    assert(ba && ba->arr && ba->err && json);
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    if (!j)
        return gt_err_set(ba->err, GT_EDB, "block %llu: action %u is stored damaged (not JSON: %.80s)",
                          (unsigned long long)height, (unsigned)index, jerr.text);
    if (json_array_append_new(ba->arr, j)) return gt_err_set(ba->err, GT_ENOMEM, "out of memory");
    return 0;
}

/* GET /v1/blocks/{height}: one block with its actions. */
void gt_h_block(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    uint64_t h;
    gt_block b;
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || gt_parse_u64(r->m.params[0], "height", 0, INT64_MAX, &h, &err) ||
        !(rd = gt_req_reader(r, &err)) || gt_ledger_block(rd->ro, h, &b, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    json_t *j = gt_block_json(&b), *acts = json_array();
    gt_api_block_actions ba = {acts, &err};
    int rc = gt_ledger_each_action(rd->ro, h, h, gt_api_collect_action, &ba, &err);
    if (rc || err.code) {
        json_decref(j);
        json_decref(acts);
        if (err.code == GT_EDB) gt_resp_error(o, 500, GT_EDB, "%s", err.msg);
        else gt_resp_err(o, &err);
        return;
    }
    json_object_set_new(j, "actions", acts);
    if (gt_api_units(j, &err)) { /* amounts as everywhere: base units, decimal strings */
        json_decref(j);
        gt_resp_error(o, 500, GT_EDB, "%s", err.msg);
        return;
    }
    gt_resp_json(o, 200, j);
}

/* A format's first height as GET /v1/chain names it: null when never
 * (UINT64_MAX: an older ledger read as it is). */
static json_t *height_json(uint64_t h) {
    return h == UINT64_MAX ? json_null() : json_integer((json_int_t)h);
}

/* GET /v1/chain: what a client needs to sign actions: chain id, the EIP-712
 * domain (with the network's genesis hash as salt) and every action kind's
 * fields and type string; the head block's draw seed; format11Height,
 * the first block whose eval panel votes must be sealed, format12Height,
 * the first whose clear eval co-signs wait until their slot can no longer
 * be disputed, format13Height, the first whose dataset_publish rows are
 * bounded by the samples its task paid for, format14Height, the first
 * whose pairwise rounds weigh a contributor only through the nullifiers it
 * recorded, format15Height, the first whose pairwise rounds count an
 * issuer's leave only when made before endS and whose paid slots record
 * points only in the epoch they were paid in or the next, and
 * format16Height, the first whose left issuers withdraw only once the
 * rounds they still weigh in are finalized and whose paid slots credit
 * their points to the epoch of their payment (each null when
 * never: an older ledger read as it is), which agents read to seal their
 * votes and hold their co-signs. */
void gt_h_chain(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    if (gt_req_only_query(r, allowed, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    gt_block head;
    gt_reader *rd = gt_req_reader(r, &err);
    if (!rd || gt_ledger_head(rd->ro, &head, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    const gt_genesis *g = &r->node->genesis;
    char auth[43];
    gt_addr_to_str(&g->authority, auth);
    json_t *kinds = json_array();
    for (int i = 0;; i++) {
        const gt_action_kind *k = gt_action_kind_by_id(i);
        if (!k) break;
        json_t *fields = json_pack("[{s:s,s:s},{s:s,s:s}]", "name", "from", "type", "address", "name", "nonce",
                                   "type", "uint64");
        for (int f = 0; f < k->n_fields; f++) {
            json_t *fd = json_pack("{s:s,s:s}", "name", k->fields[f].name, "type",
                                   gt_action_ftype_name(k->fields[f].type));
            if (k->fields[f].type == GT_F_STRING) json_object_set_new(fd, "maxBytes", json_integer(k->fields[f].max_len));
            json_array_append_new(fields, fd);
        }
        json_array_append_new(kinds, json_pack("{s:s,s:s,s:s,s:o}", "type", k->name, "primaryType", k->struct_name,
                                               "encodeType", k->encode_type, "fields", fields));
    }
    char salt[67], seed[67], anchor[67];
    gt_api_hex(r->node->domain.salt, 32, salt);
    gt_api_hex(head.seed, 32, seed);
    gt_api_hex(head.seed_anchor, 32, anchor);
    /* The draw seed: the head block's (what the next draws build on) and the
     * segment length, so a client can check keccak256(seed) against the
     * block before (ledger/seed.h). */
    json_t *seed_j = json_pack("{s:I,s:I,s:s,s:s}", "segmentBlocks", (json_int_t)GT_SEED_CHAIN_BLOCKS, "height",
                               (json_int_t)head.height, "seed", seed, "anchor", anchor);
    gt_resp_json(o, 200,
                 json_pack("{s:I,s:s,s:s,s:I,s:I,s:{s:I,s:I,s:I},s:{s:s,s:s,s:I,s:s},s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
                           "chainId",
                           (json_int_t)g->chain_id, "genesisHash", salt, "authority", auth, "unbondingBlocks",
                           (json_int_t)g->unbonding_blocks, "genesisTime", (json_int_t)g->time_s, "windows",
                           "disputeS", (json_int_t)g->windows.dispute_s, "voteS", (json_int_t)g->windows.vote_s,
                           "revealS", (json_int_t)g->windows.reveal_s, "domain", "name", "gotong", "version", "1",
                           "chainId", (json_int_t)g->chain_id, "salt", salt, "kinds", kinds, "seed", seed_j,
                           "format11Height", height_json(g->format11_height), "format12Height",
                           height_json(g->format12_height), "format13Height", height_json(g->format13_height),
                           "format14Height", height_json(g->format14_height), "format15Height",
                           height_json(g->format15_height), "format16Height", height_json(g->format16_height)));
}
