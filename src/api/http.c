/* http.c: the HTTP side of the node: the route table, libmicrohttpd's request
 * callback (routing, request bodies read under a limit, dispatch, a submit's
 * deferred answer), request ids, the access log, and starting/stopping the
 * daemon. The helpers handlers build their answers with are in resp.c.
 *
 * A request body is refused as early as possible: a Content-Length over the
 * route's limit gets 413 before a byte of the body is read (MHD then closes
 * the connection rather than draining it); a chunked body is counted as it
 * arrives and dropped past the limit, and the connection is cut outright if
 * the client keeps sending far beyond it. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "api/api_impl.h"
#include "api/chain_market.h"
#include "api/ext.h"
#include "api/h_web_list.h"
#include "api/x402.h"
#include "base/num.h"
#include "base/alloc.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"

/* A chunked upload over its limit is discarded up to this many bytes past it,
 * so the 413 can still be delivered; beyond that the connection is closed. */
#define GT_API_DISCARD_MAX (1024 * 1024)

#define NO_BODY 0
static const gt_route routes[] = {
    {"POST", "/v1/actions", 0},      {"GET", "/v1/actions/{}", 1},   {"GET", "/v1/accounts/{}", 2},
    {"GET", "/v1/head", 3},          {"GET", "/v1/blocks", 4},       {"GET", "/v1/blocks/{}", 5},
    {"GET", "/v1/chain", 6},         {"POST", "/v1/blobs", 7},       {"GET", "/v1/blobs/{}", 8},
    {"GET", "/v1/tasks", 9},         {"GET", "/v1/tasks/{}", 10},    {"GET", "/v1/agents", 11},
    {"GET", "/v1/agents/{}", 12},    {"GET", "/v1/reputation/{}", 13}, {"GET", "/v1/events", 14},
    {"GET", "/metrics", 15},         {"GET", "/v1/leaderboard", 16}, {"GET", "/v1/attestations/{}", 17},
    {"GET", "/v1/datasets/{}", 18},  {"GET", "/health", 19},
    /* The web dashboard (h_web.c): / and its files, up to four segments deep. */
    {"GET", "/", 20}, {"GET", "/web/{}", 21}, {"GET", "/web/{}/{}", 22}, {"GET", "/web/{}/{}/{}", 23},
    {"GET", "/web/{}/{}/{}/{}", 24},
    {"GET", "/v1/actions", 25}, /* the index of actions by task and address (index.c) */
    /* Funding (h_fund.c): rounds, proof of human, airdrop epochs and claims. */
    {"GET", "/v1/fund/rounds", 26}, {"GET", "/v1/fund/rounds/{}", 27}, {"GET", "/v1/fund/humans/{}", 28},
    {"GET", "/v1/fund/epochs/{}", 29}, {"GET", "/v1/fund/epochs/{}/claims/{}", 30},
    {"GET", "/v1/supply", 31}, /* the supply check over the whole ledger (h_supply.c) */
    /* --chain (chain_agent.c): the agent's card, the chain index, a job's input and result. */
    {"GET", "/.well-known/agent-card.json", 32}, {"GET", "/v1/chain/jobs", 33}, {"GET", "/v1/chain/jobs/{}", 34},
    {"GET", "/v1/chain/agents", 35}, {"POST", "/v1/chain/jobs/{}/input", 36}, {"GET", "/v1/chain/jobs/{}/output", 37},
    /* Paid human feedback (h_label.c): label tasks, the next item to label, exports. */
    {"GET", "/v1/label/tasks", 38}, {"GET", "/v1/label/tasks/{}", 39}, {"GET", "/v1/label/tasks/{}/next", 40},
    {"GET", "/v1/label/tasks/{}/export", 41},
    /* The dashboard's lists (h_web_list.c): a round's contributions, a label task's labels. */
    {"GET", "/v1/fund/rounds/{}/contributions", 42}, {"GET", "/v1/label/tasks/{}/labels", 43},
    /* --chain: a disputed job's input, served to a judge of its panel (chain_agent.c, chain_judge.c). */
    {"GET", "/v1/chain/jobs/{}/input", 44},
};
static const gt_handler_fn handlers[] = {
    gt_h_actions_post, gt_h_action_get, gt_h_account, gt_h_head,  gt_h_blocks,     gt_h_block,
    gt_h_chain,        gt_h_blob_post,  gt_h_blob_get, gt_h_tasks, gt_h_task,       gt_h_agents,
    gt_h_agent,        gt_h_reputation, gt_h_events,   gt_h_metrics, gt_h_leaderboard, gt_h_attestation,
    gt_h_dataset,      gt_h_health,
    gt_h_web,          gt_h_web,        gt_h_web,      gt_h_web,     gt_h_web,
    gt_h_actions_get,
    gt_h_fund_rounds,  gt_h_fund_round, gt_h_fund_human, gt_h_fund_epoch, gt_h_fund_claim,
    gt_h_supply,
    gt_h_agent_card,   gt_h_chain_jobs, gt_h_chain_job, gt_h_chain_agents, gt_h_chain_input, gt_h_chain_output,
    gt_h_label_tasks,  gt_h_label_task, gt_h_label_next, gt_h_label_export,
    gt_h_web_contribs, gt_h_web_labels,
    gt_h_chain_input_get,
};
static const size_t body_limits[] = {
    GT_LIMIT_JSON_BYTES, NO_BODY, NO_BODY, NO_BODY, NO_BODY, NO_BODY, NO_BODY, GT_LIMIT_BLOB_BYTES,
    NO_BODY,             NO_BODY, NO_BODY, NO_BODY, NO_BODY, NO_BODY, NO_BODY, NO_BODY,
    NO_BODY,             NO_BODY, NO_BODY, NO_BODY,
    NO_BODY,             NO_BODY, NO_BODY, NO_BODY, NO_BODY,
    NO_BODY,
    NO_BODY,             NO_BODY, NO_BODY, NO_BODY, NO_BODY,
    NO_BODY,
    NO_BODY,             NO_BODY, NO_BODY, NO_BODY, GT_CHAIN_INPUT_MAX, NO_BODY,
    NO_BODY,             NO_BODY, NO_BODY, NO_BODY,
    NO_BODY,             NO_BODY,
    NO_BODY,
};
#define N_ROUTES (sizeof routes / sizeof routes[0])
_Static_assert(sizeof handlers / sizeof handlers[0] == N_ROUTES, "one handler per route");
_Static_assert(sizeof body_limits / sizeof body_limits[0] == N_ROUTES, "one body limit per route");
_Static_assert(N_ROUTES <= GT_METRICS_MAX_ROUTES, "metrics have room for every route");

int gt_api_n_routes(void) { return (int)N_ROUTES; }
const gt_route *gt_api_route(int i) { return i >= 0 && i < (int)N_ROUTES ? &routes[i] : NULL; }
_Static_assert(N_ROUTES + GT_API_EXT_MAX_ROUTES <= GT_METRICS_MAX_ROUTES, "metrics have room for an extension");

/* Route i of the node's table, then of its extension's (api/ext.h). */
const gt_route *gt_api_node_route(const gt_node *n, int i) {
    const gt_api_ext *x = n->cfg.ext;
    if (i < (int)N_ROUTES) return gt_api_route(i);
    return x && (size_t)i - N_ROUTES < x->n_routes ? &x->routes[i - (int)N_ROUTES] : NULL;
}

/* Monotonic milliseconds (for intervals, never for block times). */
uint64_t gt_api_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Monotonic microseconds (request latency). */
static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The request's id: the client's X-Request-Id when it is 1..64 characters
 * of [A-Za-z0-9._:-] (so it is safe to echo and to log), else ours: the
 * node's random boot id and a counter ("5f3a9c1e-42"). */
static void request_id(gt_node *n, gt_req *r) {
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Request-Id");
    size_t len = h ? strlen(h) : 0;
    int ok = len > 0 && len <= GT_API_REQUEST_ID_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = (h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') ||
             strchr("._:-", h[i]) != NULL;
    if (ok) memcpy(r->req_id, h, len + 1);
    else snprintf(r->req_id, sizeof r->req_id, "%08x-%llu", n->boot_id, (unsigned long long)r->id);
}

int gt_api_route_known(const char *method, const char *pattern) {
    for (size_t i = 0; i < N_ROUTES; i++)
        if (!strcmp(routes[i].method, method) && !strcmp(routes[i].pattern, pattern)) return 1;
    return 0;
}

/* See api_impl.h: the extension's routes, then the node's (x402.json may price either). */
int gt_api_node_route_known(void *node, const char *method, const char *pattern) {
    const gt_api_ext *x = ((gt_node *)node)->cfg.ext;
    for (size_t i = 0; x && i < x->n_routes; i++)
        if (!strcmp(x->routes[i].method, method) && !strcmp(x->routes[i].pattern, pattern)) return 1;
    return gt_api_route_known(method, pattern);
}

/* Queues o on the connection and frees what o owns. */
static enum MHD_Result send_resp(gt_req *r, gt_resp *o) {
    struct MHD_Response *resp = o->raw;
    if (!resp) {
        if (o->body)
            resp = MHD_create_response_from_buffer_with_free_callback(o->len, o->body, gt_free);
        else
            resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp) {
            gt_free(o->body);
            return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                o->content_type ? o->content_type : "application/json");
    }
    r->bytes_out = o->len;
    o->body = NULL;
    gt_api_guard_headers(resp);
    MHD_add_response_header(resp, "X-Request-Id", r->req_id);
    if (o->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, o->allow);
    if (o->close) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (o->extra_name && o->extra_value) MHD_add_response_header(resp, o->extra_name, o->extra_value);
    gt_free(o->extra_value);
    o->extra_value = NULL;
    int status = o->status ? o->status : 200;
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->responded = 1;
    r->status = status;
    return rc;
}

/* Sends an error response built from code and message. Refusals for a
 * limit (429) also close the connection. */
static enum MHD_Result send_error(gt_req *r, int status, int code, const char *msg, const char *allow) {
    gt_resp o = {0};
    gt_resp_error(&o, status, code, "%s", msg);
    o.allow = allow;
    o.close = status == 429;
    return send_resp(r, &o);
}

/* The first call of a request: its record, id and route. */
static gt_req *req_new(gt_node *n, struct MHD_Connection *conn, const char *url, const char *method) {
    gt_req *r = gt_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->node = n;
    r->conn = conn;
    r->method = method;
    r->url = url;
    r->route = -1;
    r->id = atomic_fetch_add(&n->next_req_id, 1) + 1;
    r->start_us = now_us();
    request_id(n, r);
    atomic_fetch_add(&n->in_flight, 1);
    return r;
}

/* What the headers alone decide for a routed request: a body on a route
 * that takes none, a Content-Length over the route's limit, an upload's
 * permit. Returns 0 to go on, or sends the refusal and returns 1 (*ret set). */
static int req_check_body(gt_req *r, enum MHD_Result *ret) {
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *pattern = routes[r->route].pattern;
    char msg[GT_ERR_MSG_MAX];
    uint64_t len = 0;
    if (cl && gt_parse_u64(cl, "Content-Length", 0, UINT64_MAX, &len, NULL)) {
        *ret = send_error(r, 400, GT_EINVAL, "Content-Length: expected a decimal byte count", NULL);
        return 1;
    }
    if (cl && r->body_limit == NO_BODY && len > 0) {
        snprintf(msg, sizeof msg, "%s %s takes no request body", r->method, pattern);
        *ret = send_error(r, 400, GT_EINVAL, msg, NULL);
        return 1;
    }
    if (cl && len > r->body_limit) {
        snprintf(msg, sizeof msg, "request body of %llu bytes is over this route's limit of %zu bytes",
                 (unsigned long long)len, r->body_limit);
        *ret = send_error(r, 413, GT_ELIMIT, msg, NULL);
        return 1;
    }
    if (handlers[r->route] == gt_h_blob_post) {
        /* Uploads stream to disk: the size must be known and paid for first. */
        gt_err err = {0};
        int status = cl ? gt_blob_upload_begin(r, len, &err)
                        : (gt_err_set(&err, GT_EINVAL, "POST /v1/blobs needs a Content-Length (no chunked bodies)"),
                           411);
        if (status) {
            *ret = send_error(r, status, err.code ? err.code : GT_EIO, err.msg, NULL);
            return 1;
        }
        return 0;
    }
    /* Reserve once: the body then arrives without reallocations. */
    if (len && gt_buf_reserve(&r->body, (size_t)len + 1)) {
        *ret = MHD_NO;
        return 1;
    }
    return 0;
}

/* Hands the request to the extension (api/ext.h): its callback gets every
 * call from here on, and gt_api_ext_respond finds the request on its
 * connection. */
static enum MHD_Result ext_take(gt_req *r) {
    gt_conn *c = gt_conns_of(r->conn);
    assert(c); /* a request without a slot was told 429 above */
    r->is_ext = 1;
    c->ext_req = r;
    return MHD_YES;
}

/* The end of an extension's paid request (its body all in): its payment
 * is taken now (gt_api_x402_take), not at its headers, so a body that
 * trickles in holds no payment slot. 0 to hand the end to the extension;
 * 1 when the node answered 402 instead (*ret set): the route never runs. */
static int ext_pay_take(gt_req *r, enum MHD_Result *ret) {
    if (!r->ext_pay || r->ext_pay->held || !r->ext_pay->priced) return 0;
    gt_resp o = {0};
    if (!gt_api_x402_take(r->node->x402, r->ext_pay, &o)) return 0;
    *ret = send_resp(r, &o);
    r->ext_status = r->status;
    return 1;
}

/* An extension's route that x402.json prices: its payment is verified now,
 * before the extension sees a byte, and kept for gt_api_ext_respond; a
 * request without a valid one is answered 402 by the node (now when a body
 * is coming, which MHD then drops, else at the end) and never reaches it. */
static enum MHD_Result ext_pay_check(gt_req *r, const char *method, const char *pattern) {
    gt_node *n = r->node;
    if (!n->x402) return ext_take(r);
    gt_resp o = {0};
    gt_api_x402_pay *pay = gt_calloc(1, sizeof *pay);
    if (!pay) return MHD_NO;
    if (!gt_api_x402_check_headers(n->x402, r, method, pattern, pay, &o)) {
        if (pay->priced) r->ext_pay = pay; /* taken once the request is whole (ext_pay_take) */
        else gt_free(pay);
        return ext_take(r);
    }
    gt_free(pay);
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if ((cl && strcmp(cl, "0")) || te) return send_resp(r, &o);
    r->early_resp = gt_malloc(sizeof o);
    if (!r->early_resp) {
        gt_free(o.body);
        gt_free(o.extra_value);
        return MHD_NO;
    }
    *r->early_resp = o;
    return MHD_YES;
}

/* The extension's request on conn (its connection thread runs one request
 * at a time, so its slot's ext_req is the one answered). */
static gt_req *ext_req_of(struct MHD_Connection *conn) {
    gt_conn *c = gt_conns_of(conn);
    gt_req *r = c ? c->ext_req : NULL;
    assert(r && r->is_ext && r->conn == conn);
    return r;
}

/* Queues the extension's answer (gt_api_ext_respond); at_end: a stream,
 * whose payment is left for gt_api_ext_settle. The node's headers go on
 * before the settlement, the last step that can fail: a settled answer is
 * sent, its receipt left out only if it cannot be added (out of memory). */
static enum MHD_Result ext_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp,
                                 int at_end) {
    gt_req *r = ext_req_of(conn);
    if (!r) return MHD_NO;
    gt_api_guard_headers(resp);
    MHD_add_response_header(resp, "X-Request-Id", r->req_id);
    char *hdr = NULL;
    gt_resp o = {0};
    if (at_end && r->ext_pay && status / 100 == 2 && !gt_api_x402_stream_begin(r->node->x402, r->ext_pay, &o)) {
        r->ext_settle_at_end = 1; /* settled or released by how it ends (api/ext.h) */
        return MHD_queue_response(conn, status, resp);
    }
    if (o.status || (r->ext_pay && gt_api_x402_settle_status(r->node->x402, r->ext_pay, (int)status, &hdr, &o))) {
        enum MHD_Result rc = send_resp(r, &o); /* the 402 instead of the unpaid answer */
        r->ext_status = r->status;
        return rc;
    }
    if (hdr && MHD_add_response_header(resp, "PAYMENT-RESPONSE", hdr) != MHD_YES)
        GT_WARN("node: x402 settled, but PAYMENT-RESPONSE could not be added: answered without it");
    gt_free(hdr);
    return MHD_queue_response(conn, status, resp);
}

/* See api/ext.h. */
enum MHD_Result gt_api_ext_respond(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp) {
    return ext_queue(conn, status, resp, 0);
}

/* See api/ext.h. */
enum MHD_Result gt_api_ext_respond_stream(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp) {
    return ext_queue(conn, status, resp, 1);
}

/* See api/ext.h. A request with no payment left to settle (unpriced, or
 * its payment already settled or released) has nothing to pay: 0. */
int gt_api_ext_settle(struct MHD_Connection *conn, char **hdr, char *why, size_t cap) {
    gt_req *r = ext_req_of(conn);
    gt_err err = {0};
    *hdr = NULL;
    if (!r) return snprintf(why, cap, "the stream's request is not known"), 1; /* fail closed: not settled */
    if (!r->ext_settle_at_end) return 0;
    r->ext_settle_at_end = 0;
    if (!gt_api_x402_settle_end(r->node->x402, r->ext_pay, hdr, &err)) return 0;
    snprintf(why, cap, "%s", err.msg);
    return 1;
}

/* See api/ext.h. */
int gt_api_ext_settle_due(struct MHD_Connection *conn) {
    gt_req *r = ext_req_of(conn);
    return r && r->ext_settle_at_end && gt_api_x402_settle_due(r->node->x402, r->ext_pay);
}

/* See api/ext.h. */
void gt_api_ext_release(struct MHD_Connection *conn) {
    gt_req *r = ext_req_of(conn);
    if (!r || !r->ext_settle_at_end) return;
    r->ext_settle_at_end = 0;
    gt_api_x402_release(r->node->x402, r->ext_pay); /* on_completed frees it */
}

/* A paid stream that completes neither settled nor released by its reader
 * (api/ext.h): its client left (a hang-up, a reset while a send waited, a
 * timeout for not reading), so it is settled: it had the text it paid for
 * up to there, and released, its signature would buy the next stream too.
 * The node stopping is the server's doing: released. */
static void ext_settle_left(gt_req *r, enum MHD_RequestTerminationCode toe) {
    assert(r->ext_settle_at_end && r->ext_pay);
    r->ext_settle_at_end = 0;
    if (toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN) return; /* released by on_completed */
    char *hdr = NULL;
    gt_err err = {0};
    if (!gt_api_x402_settle_end(r->node->x402, r->ext_pay, &hdr, &err))
        GT_INFO("node: x402 stream %s settled as its client left", r->req_id);
    gt_free(hdr); /* nobody to send it to */
}

/* A refusal known from the headers alone: with a body coming, answered now
 * (MHD then drops the body and the connection); without one, at the end of
 * the request, so the connection stays open for the next. */
static enum MHD_Result refuse_early(gt_req *r, int status, int code, const char *msg) {
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    r->early_status = status;
    r->early_code = code;
    snprintf(r->early_msg, sizeof r->early_msg, "%s", msg);
    if ((cl && strcmp(cl, "0")) || te)
        return send_error(r, r->early_status, r->early_code, r->early_msg, r->m.allow[0] ? r->m.allow : NULL);
    return MHD_YES;
}

/* The framing headers of a request, every line of them: MHD keeps each
 * header line, but MHD_lookup_connection_value answers only the first. */
typedef struct framing {
    unsigned n_length, n_coding; /* Content-Length and Transfer-Encoding lines */
    const char *coding;          /* the last Transfer-Encoding value */
} framing;

/* MHD's header iterator: counts the framing lines. */
static enum MHD_Result framing_count(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    framing *f = cls;
    (void)kind;
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) f->n_length++;
    if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) f->n_coding++, f->coding = value;
    return MHD_YES;
}

/* See api/ext.h. A proxy in front that read the other framing would see
 * another request where this one's body ends (request smuggling). */
int gt_api_framing_check(struct MHD_Connection *conn, char *msg, size_t cap) {
    framing f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_count, &f);
    if (f.n_length > 1) snprintf(msg, cap, "Content-Length given %u times: expected it once", f.n_length);
    else if (f.n_length && f.n_coding)
        snprintf(msg, cap, "both Content-Length and Transfer-Encoding given: expected one of them");
    else if (f.n_coding > 1)
        snprintf(msg, cap, "Transfer-Encoding given %u times: expected it once, as chunked", f.n_coding);
    else if (f.n_coding && strcasecmp(f.coding, "chunked")) {
        snprintf(msg, cap, "Transfer-Encoding \"%.64s\" is not supported: expected chunked or a Content-Length",
                 f.coding);
        return 501;
    } else
        return 0;
    return 400;
}

/* The first call of a request, with its headers: refusals known now (a
 * connection over a limit, a %00 in the URI, no route, a body it cannot
 * take, a body framed two ways). */
static enum MHD_Result req_headers(gt_req *r) {
    gt_err err = {0};
    gt_conn *c = gt_conns_of(r->conn);
    if (!c || c->over) {
        const gt_node_config *cfg = &r->node->cfg;
        char msg[200];
        snprintf(msg, sizeof msg, "too many open connections (at most %u, and %u from one address); close some "
                 "and retry", cfg->max_connections, cfg->max_connections_per_ip);
        return send_error(r, 429, GT_ELIMIT, msg, NULL);
    }
    char why[GT_ERR_MSG_MAX];
    int framing_status = gt_api_framing_check(r->conn, why, sizeof why);
    if (framing_status) /* answered at once: MHD closes the connection, never reading the body */
        return send_error(r, framing_status, framing_status == 501 ? GT_EUNSUPPORTED : GT_EINVAL, why, NULL);
    if (atomic_exchange(&c->nul_in_uri, 0))
        return refuse_early(r, 400, GT_EINVAL, "the path or query holds an encoded NUL byte (%00): expected none");
    /* Before any route, the extension's too: a model's compute is spent as surely as a ledger is written. */
    if (gt_api_host_check(r->conn, r->node->cfg.allow_hosts, "--allow-host", why, sizeof why) ||
        gt_api_cross_origin_check(r->conn, r->method, why, sizeof why))
        return refuse_early(r, 403, GT_EPERM, why);
    /* HEAD is GET without the body (MHD drops it). */
    const char *m = strcmp(r->method, "HEAD") ? r->method : "GET";
    int idx = gt_route_find(routes, N_ROUTES, m, r->url, &r->m, &err);
    const gt_api_ext *x = r->node->cfg.ext;
    if (idx == GT_ROUTE_NOT_FOUND && x) {
        /* Not the node's: maybe the extension's (whose callback takes it from here). */
        int xi = gt_route_find(x->routes, x->n_routes, m, r->url, &r->m, &err);
        if (xi >= 0 || xi == GT_ROUTE_BAD_METHOD) { /* its 405 too: in its own error format */
            r->route = xi >= 0 ? (int)N_ROUTES + xi : -1;
            return xi >= 0 ? ext_pay_check(r, m, x->routes[xi].pattern) : ext_take(r);
        }
    }
    if (idx < 0)
        return refuse_early(r, idx == GT_ROUTE_BAD_METHOD ? 405 : idx == GT_ROUTE_BAD_PATH ? 414 : 404,
                            idx == GT_ROUTE_BAD_METHOD ? GT_EUNSUPPORTED : idx == GT_ROUTE_BAD_PATH ? GT_ELIMIT
                                                                                                  : GT_ENOTFOUND,
                            err.msg);
    r->route = idx;
    r->body_limit = body_limits[idx];
    enum MHD_Result ret = MHD_YES;
    req_check_body(r, &ret);
    return ret;
}

/* One piece of request body: into the upload's file or the body buffer,
 * counted against the route's limit and the request's time limit. */
static enum MHD_Result req_body(gt_req *r, const char *data, size_t sz) {
    r->bytes_in += sz;
    if (now_us() - r->start_us > (uint64_t)r->node->cfg.request_max_s * 1000000u) {
        /* MHD cannot answer in the middle of a body: cut it (logged as 408). */
        r->cut = 1;
        return MHD_NO;
    }
    if (r->responded) return MHD_YES;
    if (r->upload || r->upload_err.code) {
        gt_blob_upload_chunk(r, data, sz);
        return MHD_YES;
    }
    if (r->too_big || r->body.len + sz > r->body_limit) {
        r->too_big = 1;
        r->discarded = r->discarded + sz < r->discarded ? SIZE_MAX : r->discarded + sz;
        return r->discarded > GT_API_DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    return gt_buf_append(&r->body, data, sz) ? MHD_NO : MHD_YES;
}

/* The end of the request: the answer known from the headers, or the
 * handler's. */
static enum MHD_Result req_end(gt_node *n, gt_req *r) {
    if (r->early_resp) {
        gt_resp o = *r->early_resp;
        gt_free(r->early_resp);
        r->early_resp = NULL;
        return send_resp(r, &o);
    }
    if (r->early_status)
        return send_error(r, r->early_status, r->early_code, r->early_msg, r->m.allow[0] ? r->m.allow : NULL);
    if (r->too_big) {
        char msg[160];
        if (r->body_limit == NO_BODY)
            snprintf(msg, sizeof msg, "%s %s takes no request body", r->method, routes[r->route].pattern);
        else
            snprintf(msg, sizeof msg, "request body is over this route's limit of %zu bytes", r->body_limit);
        return send_error(r, r->body_limit == NO_BODY ? 400 : 413, r->body_limit == NO_BODY ? GT_EINVAL : GT_ELIMIT,
                          msg, NULL);
    }
    gt_resp o = {0};
    gt_api_x402_pay pay; /* a priced route is paid for, or answered 402 */
    if (!gt_api_x402_check(n->x402, r, routes[r->route].method, routes[r->route].pattern, &pay, &o)) {
        /* A paid answer is settled right after the handler: not deferred.
         * Without a pool (a thread per connection) nothing is to gain. */
        r->may_defer = n->cfg.threads > 0 && !pay.priced && !atomic_load(&n->http_stopping);
        handlers[r->route](r, &o);
        if (!r->deferred) gt_api_x402_settle(n->x402, &pay, &o);
    }
    if (r->rd) {
        gt_node_reader_put(n, r->rd);
        r->rd = NULL;
    }
    if (r->deferred) return MHD_YES; /* suspended: answered when the ledger calls back */
    if (o.raw && !r->is_stream) r->is_stream = 1;
    if (r->is_stream) atomic_fetch_sub(&n->in_flight, 1); /* streams do not hold up a stop */
    return send_resp(r, &o);
}

/* libmicrohttpd's request callback: called once with the headers, once per
 * piece of body, once at the end (see microhttpd.h). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    gt_node *n = cls;
    gt_req *r = *con_cls;
    (void)version;
    if (r && !*upload_data_size) { /* the request is all in: the reaper leaves it be from here on */
        gt_conns_reading(conn, 0);
    }
    if (!r) {
        if (!(r = req_new(n, conn, url, method))) return MHD_NO;
        *con_cls = r;
        enum MHD_Result ret = req_headers(r);
        if (!r->is_ext) return ret;
        r->ext_first = 1; /* the headers' call, handed on below: not the end of the request */
    } else if (r->is_ext && *upload_data_size &&
               now_us() - r->start_us > (uint64_t)n->cfg.request_max_s * 1000000u) {
        r->cut = 1; /* the node's time limit on a whole request holds for the extension's too */
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_YES;
    if (r->is_ext && !*upload_data_size && !r->ext_first && ext_pay_take(r, &ret)) return ret;
    r->ext_first = 0;
    if (r->is_ext) return n->cfg.ext->on_request(n->cfg.ext->cls, conn, url, method, version, upload_data,
                                                 upload_data_size, &r->ext_ctx);
    if (*upload_data_size) {
        size_t sz = *upload_data_size;
        *upload_data_size = 0;
        return req_body(r, upload_data, sz);
    }
    if (r->responded) return MHD_YES;
    if (r->deferred) { /* resumed: the ledger has every result (freed when the request completes) */
        gt_resp o = {0};
        gt_h_actions_post_done(r, &o);
        return send_resp(r, &o);
    }
    return req_end(n, r);
}

/* The access log line of a finished request: text, or JSON with the
 * request id, method, path, status, bytes and duration. The path is the
 * decoded one, so its bytes outside printable ASCII are written '?' in both:
 * a %0a in a URL would otherwise start a line of the client's making in the
 * text log (a forged "req=... POST /v1/actions -> 200"). */
static void access_log(const gt_req *r, int status, uint64_t us, enum MHD_RequestTerminationCode toe) {
    int cut = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK;
    char path[GT_ROUTE_PATH_MAX + 1];
    size_t i = 0;
    for (; r->url[i] && i < GT_ROUTE_PATH_MAX; i++) path[i] = r->url[i] >= 0x20 && r->url[i] < 0x7f ? r->url[i] : '?';
    path[i] = 0;
    assert(!strpbrk(path, "\r\n"));
    if (gt_log_format() != GT_LOG_JSON) {
        GT_INFO("req=%s %s %s -> %d %.2fms%s", r->req_id, r->method, path, status, (double)us / 1000.0,
                cut ? " (cut)" : "");
        return;
    }
    json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:I,s:f}", "msg", "request", "request_id", r->req_id, "method",
                          r->method, "path", path, "status", status, "bytes", (json_int_t)r->bytes_out, "bytes_in",
                          (json_int_t)r->bytes_in, "duration_ms", (double)(us / 10) / 100.0);
    if (f && cut) json_object_set_new(f, "cut", json_true());
    gt_log_json(GT_LOG_INFO, f);
}

/* Called by MHD when a request is done (sent, failed or cut): metrics, the
 * access log line, and freeing the request. An upload not committed is
 * dropped here, so a cut upload leaves no file. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    gt_node *n = cls;
    gt_req *r = *con_cls;
    gt_conn *c = gt_conns_of(conn);
    gt_conns_reading(conn, 1); /* the next request on this connection is timed from now */
    if (!r) return;
    *con_cls = NULL;
    uint64_t us = now_us() - r->start_us;
    /* Cut for time (ours, the reaper's or MHD's idle timeout): logged and counted as 408. */
    int timed_out = r->cut || (c && atomic_load(&c->cut)) || toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED;
    if (r->is_ext) { /* the extension answered (or not): it says with what, unless the node answered for it */
        int st = n->cfg.ext->on_completed(n->cfg.ext->cls, &r->ext_ctx, toe);
        r->status = r->ext_status ? r->ext_status : st;
        r->responded = r->status != 0;
        if (c && c->ext_req == r) c->ext_req = NULL;
    }
    if (r->ext_settle_at_end) ext_settle_left(r, toe);
    gt_api_x402_release(n->x402, r->ext_pay); /* one the extension never answered: free for another request */
    gt_free(r->ext_pay); /* a payment never settled is never submitted: the payer keeps it */
    if (r->early_resp) {
        gt_free(r->early_resp->body);
        gt_free(r->early_resp->extra_value);
        gt_free(r->early_resp);
    }
    int status = r->responded ? r->status : timed_out ? 408 : 0;
    gt_metrics_request(&n->metrics, r->route, status, us);
    if (n->cfg.access_log) access_log(r, status, us, toe);
    gt_blob_upload_abort(r);
    gt_h_actions_deferred_free(r); /* an answer not sent (none: a suspended connection is not closed) */
    if (r->rd) gt_node_reader_put(n, r->rd);
    gt_buf_free(&r->body);
    if (!r->is_stream) atomic_fetch_sub(&n->in_flight, 1);
    gt_free(r);
}

/* MHD's unescaping of the path and of each query key and value, with a
 * check: a %00 would silently cut the string short (/v1/blocks/1%00junk
 * read as block 1), so the connection's slot remembers it and the request
 * is refused (req_headers). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s) {
    (void)cls;
    size_t len = MHD_http_unescape(s);
    gt_conn *c = gt_conns_of(conn);
    if (c && strlen(s) != len) atomic_store(&c->nul_in_uri, 1);
    return len;
}

/* MHD's error log, into ours (one line, no trailing newline). */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t len = strlen(msg);
    while (len && msg[len - 1] == '\n') msg[--len] = 0;
    GT_INFO("http: %s", msg); /* mostly clients hanging up: not worth a warning */
}

/* Parses "A.B.C.D:PORT" into addr. */
static int parse_listen(const char *s, struct sockaddr_in *addr, gt_err *err) {
    const char *colon = strrchr(s, ':');
    char host[64];
    uint64_t port;
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return gt_err_set(err, GT_EINVAL, "--listen: expected HOST:PORT such as 127.0.0.1:8645, got \"%.80s\"", s);
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &addr->sin_addr) != 1)
        return gt_err_set(err, GT_EINVAL, "--listen: \"%s\" is not an IPv4 address such as 127.0.0.1", host);
    if (gt_parse_u64(colon + 1, "--listen port", 0, 65535, &port, err)) return GT_EINVAL;
    addr->sin_port = htons((uint16_t)port);
    return 0;
}

/* Opens, binds and listens on addr with our own socket so a refusal has its
 * real reason (errno): an address in use is an error, never shared. Only
 * SO_REUSEADDR is set (a restart may rebind over TIME_WAIT connections; on
 * Linux it never lets two listeners share a port, as SO_REUSEPORT, which
 * MHD's LISTENING_ADDRESS_REUSE sets, would). Returns the socket or -1. */
static int listen_socket(const char *listen_s, const struct sockaddr_in *addr, gt_err *err) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        gt_err_set(err, GT_EIO, "cannot open a socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) {
        int e = errno;
        close(fd);
        if (e == EADDRINUSE)
            gt_err_set(err, GT_EIO,
                       "cannot listen on %s: the address is in use (another gotong node, or another "
                       "program); stop it or choose another --listen HOST:PORT",
                       listen_s);
        else
            gt_err_set(err, GT_EIO, "cannot listen on %s: %s", listen_s, strerror(e));
        return -1;
    }
    if (listen(fd, SOMAXCONN) != 0) {
        gt_err_set(err, GT_EIO, "cannot listen on %s: %s", listen_s, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Binds cfg.listen and starts MHD in the configured threading mode on that
 * socket; n->port gets the bound port. */
int gt_http_start(gt_node *n, gt_err *err) {
    struct sockaddr_in addr;
    const gt_api_ext *x = n->cfg.ext;
    if (x && n->cfg.threads != 0)
        return gt_err_set(err, GT_EINVAL, "the node's extra routes (a model's OpenAI API) wait for the model in "
                          "their connection's thread: they need one thread per connection (--threads 0), got %u",
                          n->cfg.threads);
    if (x && (x->n_routes > GT_API_EXT_MAX_ROUTES || !x->on_request || !x->on_completed))
        return gt_err_set(err, GT_EINVAL, "the node's extension: expected 0..%d routes and both callbacks",
                          GT_API_EXT_MAX_ROUTES);
    int rc = parse_listen(n->cfg.listen, &addr, err);
    if (rc) return rc;
    int lfd = listen_socket(n->cfg.listen, &addr, err);
    if (lfd < 0) return GT_EIO;
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    if (getsockname(lfd, (struct sockaddr *)&bound, &blen) != 0) {
        close(lfd);
        return gt_err_set(err, GT_EIO, "cannot read the bound port of %s: %s", n->cfg.listen, strerror(errno));
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (n->cfg.threads == 0) flags |= MHD_USE_THREAD_PER_CONNECTION;
    /* poll, not epoll: libmicrohttpd 0.9.75 can abort the process when an
     * epoll daemon with its own threads is quiesced (see gt_http_stop). */
    else flags |= MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME;
    /* MHD's own limits sit GT_API_CONNECTION_HEADROOM above ours, so a
     * connection over ours is still read and told 429 (conns.h). */
    unsigned hard = gt_conns_cap(n->cfg.max_connections);
    if (gt_conns_start(&n->conns, n->cfg.max_connections, n->cfg.max_connections_per_ip, n->cfg.request_max_s, err)) {
        close(lfd);
        return GT_ENOMEM;
    }
    if (getrandom(&n->boot_id, sizeof n->boot_id, 0) != sizeof n->boot_id) n->boot_id = (uint32_t)getpid();
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, n}, /* first, or MHD warns */
        {MHD_OPTION_LISTEN_SOCKET, lfd, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, hard, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, n->cfg.max_connections_per_ip + GT_API_CONNECTION_HEADROOM, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, n->cfg.timeout_s, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, n},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)gt_conns_notify, &n->conns},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, n},
        /* A pool of 1 is MHD's single internal thread (it refuses the option). */
        {n->cfg.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, n->cfg.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    n->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, n, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!n->mhd) {
        close(lfd);
        gt_conns_stop(&n->conns);
        return gt_err_set(err, GT_EIO, "cannot start the HTTP server on %s (see the log above)", n->cfg.listen);
    }
    n->port = ntohs(bound.sin_port);
    return 0;
}

/* Graceful stop of the HTTP side; see api.h, gt_node_stop. No request runs
 * once it returns. */
void gt_http_stop(gt_node *n) {
    if (!n->mhd) return;
    /* 0. Submits from here on hold their thread (so none is left suspended). */
    atomic_store(&n->http_stopping, 1);
    /* 1. Stop accepting: new connections are refused from here on. (An
     * epoll daemon must not be quiesced: in libmicrohttpd 0.9.75 a worker
     * thread may take the listen socket out of its epoll set between
     * MHD_quiesce_daemon's check and its own removal, and the loser calls
     * MHD_PANIC, "Failed to remove listen FD from epoll set"; that killed
     * `make run` at a node's stop. With poll, quiescing only signals.) */
    MHD_socket lsock = MHD_quiesce_daemon(n->mhd);
    /* MHD no longer polls the socket but the kernel would still complete
     * connections into its backlog, never to be served: refuse them now.
     * (Closing must wait until MHD_stop_daemon; shutdown does not free the fd.) */
    if (lsock != MHD_INVALID_SOCKET) shutdown(lsock, SHUT_RDWR);
    /* 2. End event streams (MHD must not be stopped with suspended ones). */
    int left = gt_events_close(n->events, 3000);
    if (left) GT_WARN("node: %d event stream(s) did not close in time", left);
    /* 3. Let requests in flight finish. */
    uint64_t t0 = gt_api_now_ms();
    while (atomic_load(&n->in_flight) > 0 && gt_api_now_ms() - t0 < GT_API_SHUTDOWN_GRACE_MS) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* A submit waiting for the ledger always gets its answer (the writer and
     * the syncer do not depend on HTTP), and MHD must not be stopped with
     * its connection suspended: wait for it, however long the disk takes. */
    uint64_t said = gt_api_now_ms();
    while (atomic_load(&n->deferred_live) > 0 || atomic_load(&n->resuming_live) > 0) {
        if (gt_api_now_ms() - said >= 5000) {
            GT_WARN("node: waiting for %d submit(s) the ledger has not answered yet", atomic_load(&n->deferred_live));
            said = gt_api_now_ms();
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&n->in_flight) > 0)
        GT_WARN("node: stopping with %d request(s) still in flight", atomic_load(&n->in_flight));
    /* 4. Close idle keep-alive connections and join MHD's threads. */
    MHD_stop_daemon(n->mhd);
    if (lsock != MHD_INVALID_SOCKET) close(lsock);
    n->mhd = NULL;
    gt_conns_stop(&n->conns); /* no notification comes after MHD_stop_daemon */
}
