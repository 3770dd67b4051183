/* api_impl.h: what the node's files share and nobody else sees: the node
 * itself, one request and its response, the read connections, the handlers
 * of the route table, the event hub and the metrics. */
#ifndef GT_API_IMPL_H
#define GT_API_IMPL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>

#include "api/api.h"
#include "api/conns.h"
#include "api/route.h"
#include "base/buf.h"
#include "base/err.h"
#include "ledger/ledger.h"
#include "store/blob.h"

/* ---- Read connections: a read-only ledger handle (blocks, accounts, the
 * action log) and a read-only SQLite connection (market tables, lookups by
 * id) on the same file. A request borrows one for its lifetime; the pool
 * grows to the number of concurrent requests and is closed at stop. */
typedef struct gt_reader {
    gt_ledger *ro;
    sqlite3 *db;
    struct gt_reader *next;
} gt_reader;

/* ---- Events (events.c): a ring of recent SSE frames and the streams
 * reading it. */
typedef struct gt_events gt_events;

/* per_connection: 1 when MHD runs a thread per connection (streams wait on a
 * condition variable), 0 with a thread pool (streams suspend). */
gt_events *gt_events_new(int per_connection, unsigned keepalive_ms, unsigned max_clients);
void gt_events_free(gt_events *ev); /* accepts NULL; streams must be closed */
/* Appends one event (data: one line of JSON) and wakes every stream. */
void gt_events_publish(gt_events *ev, const char *event, const char *data);
/* Wakes suspended streams so those idle for keepalive_ms write a comment. */
void gt_events_wake(gt_events *ev);
/* Ends every stream and refuses new ones; returns once all have been freed
 * by MHD or wait_ms passed (returns the number still open). */
int gt_events_close(gt_events *ev, unsigned wait_ms);
unsigned gt_events_clients(gt_events *ev);
/* A response streaming events from after last_id (UINT64_MAX: only new ones), or NULL
 * with err (GT_ELIMIT: too many streams; GT_ESTATE: closing). */
struct MHD_Response *gt_events_response(gt_events *ev, struct MHD_Connection *conn, uint64_t last_id, gt_err *err);

/* ---- Metrics (metrics.c): counters updated with atomics from any thread. */
#define GT_METRICS_MAX_ROUTES 64 /* the node's routes and an extension's (api/ext.h) */
#define GT_METRICS_STATUSES 17  /* see metrics.c: 16 statuses and "other" */
#define GT_METRICS_BUCKETS 12
#define GT_METRICS_CODES 20     /* -GT_E* codes 0..19 */
typedef struct gt_metrics {
    _Atomic uint64_t requests[GT_METRICS_MAX_ROUTES + 1][GT_METRICS_STATUSES];
    _Atomic uint64_t latency_bucket[GT_METRICS_BUCKETS + 1]; /* last: +Inf */
    _Atomic uint64_t latency_sum_us, latency_count;
    _Atomic uint64_t actions[GT_METRICS_CODES];              /* [0]: accepted; [k]: refused with -k */
    _Atomic uint64_t blocks_written, head_height, ticks;
} gt_metrics;

void gt_metrics_request(gt_metrics *m, int route, int status, uint64_t elapsed_us);
void gt_metrics_action(gt_metrics *m, int code);

/* ---- The index of actions by task and by address (index.c). */
typedef struct gt_index gt_index;
/* Opens (creating, or rebuilding when unreadable) the index file at path. */
int gt_index_open(const char *path, gt_index **out, gt_err *err);
void gt_index_close(gt_index *ix); /* accepts NULL */
/* Indexes up to max_blocks more blocks of the log read through ro, toward
 * head, in one transaction. At the first call an index made from another
 * log starts over: one ahead of head (a ledger made anew, or restored from
 * an older backup) or whose last block's hash is not the log's at that
 * height. The watcher calls it round after round until caught up. */
int gt_index_catch_up(gt_index *ix, gt_ledger *ro, uint64_t head, unsigned max_blocks, gt_err *err);
/* Only that first check (and start over), indexing nothing: the node runs it
 * before it serves, so an index of this log answers from the first request
 * (an unchecked one answers nothing, and a client that asked at once, before
 * the watcher's first round, saw no actions at all). */
int gt_index_check(gt_index *ix, gt_ledger *ro, uint64_t head, gt_err *err);
uint64_t gt_index_height(gt_index *ix); /* every block up to here is indexed (0 until checked against the log) */
/* A round fed by the caller, who decodes the blocks anyway (the watcher, for
 * its task events): begin when the index is at block `after` (else
 * GT_ESTATE, and nothing is held), then gt_index_round_action for every
 * action of the blocks after it in order (gt_ledger_each_decoded's callback
 * shape, arg the index; nonzero once an insert failed), then end with the
 * last block fed and its hash: committed, or rolled back when ok is 0 or an insert
 * failed. The index is locked from begin to end. */
int gt_index_round_begin(gt_index *ix, uint64_t after, gt_err *err);
int gt_index_round_action(void *arg, uint64_t height, uint32_t index, const gt_action *a);
int gt_index_round_end(gt_index *ix, uint64_t to, const uint8_t to_hash[32], int ok, gt_err *err);

/* ---- The node. */
struct gt_node {
    gt_node_config cfg;
    char home[4096], db_path[4200], blob_dir[4200], listen[64];
    char allow_hosts[GT_API_ALLOW_HOSTS_MAX]; /* --allow-host, and --public-url's host: node_allow_hosts */
    int lock_fd;                    /* HOME/node.lock, flocked while the node runs; -1 none */
    gt_ledger *ledger;              /* the writer */
    gt_genesis genesis;
    gt_domain domain; /* what signers must sign under (chain id, genesis hash as salt) */
    struct MHD_Daemon *mhd;
    uint16_t port;
    pthread_mutex_t readers_mu;
    gt_reader *free_readers;
    /* The blob store's cap (cfg.blob_store_max_bytes) and free-space floor:
     * bytes new blobs brought in (the usage files' sum at start, then each
     * commit's), bytes reserved by uploads still arriving (the floor's) and
     * the part of those whose blob was not known at their start (the
     * cap's: a known blob brings nothing new); blob_mu. */
    pthread_mutex_t blob_mu;
    uint64_t blob_used, blob_in_flight, blob_in_flight_new;
    uint64_t blob_known_arriving; /* uploads of blobs stored whole, only hashed as they arrive (no room held) */
    struct gt_req *blob_new_uploads; /* the requests holding blob_in_flight_new: each account's quota counts its own */
    gt_events *events;
    gt_metrics metrics;
    _Atomic uint64_t next_req_id;
    uint32_t boot_id;               /* random per start: our request ids differ across restarts */
    _Atomic int in_flight;          /* requests being served (event streams excluded) */
    _Atomic int deferred_live;      /* of which deferred submits (h_ledger.c), until their request completes */
    _Atomic int resuming_live;      /* ledger callbacks inside MHD_resume_connection (they touch the daemon) */
    _Atomic int http_stopping;      /* gt_http_stop has begun: submits are not deferred any more */
    /* Open connections, for the limits per node and per address and the
     * time a request may take to come in (conns.h). */
    gt_conns conns;
    /* The chain watcher: publishes new blocks as events, ticks when idle. */
    pthread_t watcher;
    int has_watcher;
    pthread_mutex_t watch_mu;
    pthread_cond_t watch_cv;
    int watch_stop, kicked;
    uint64_t published_height;      /* watcher only */
    gt_index *index;                /* HOME/index.db: written by the watcher, read by GET /v1/actions */
    uint64_t last_block_ms;         /* watcher only: monotonic ms of the last new block seen */
    struct gt_api_x402 *x402;       /* paid routes (x402.c), NULL when off */
    /* --chain (chain_agent.c), NULL when off. HTTP serves before the market
     * is opened (its agent card names the node's port), so it is published
     * once, with release, and read through gt_node_chain_market. */
    struct gt_chain_market *chain_market;
};

/* The node's chain market, or NULL: off, or (cfg.chain_url set) still opening. */
static inline struct gt_chain_market *gt_node_chain_market(const gt_node *n) {
    return __atomic_load_n(&n->chain_market, __ATOMIC_ACQUIRE);
}
/* Does the node have route method + pattern (http.c's table)? */
int gt_api_route_known(const char *method, const char *pattern);
/* The same over the node's routes and its extension's (n: a gt_node). */
int gt_api_node_route_known(void *n, const char *method, const char *pattern);

/* Borrows a reader (opening one if the pool is empty); gt_node_reader_put gives it back. */
gt_reader *gt_node_reader_get(gt_node *n, gt_err *err);
void gt_node_reader_put(gt_node *n, gt_reader *r);
/* Tells the watcher a block may have been written (after a submit). */
void gt_node_kick(gt_node *n);
uint64_t gt_api_now_ms(void); /* monotonic clock */

/* ---- One request. */
/* The longest X-Request-Id taken from a client (longer or odd ones are
 * replaced by one of ours). */
#define GT_API_REQUEST_ID_MAX 64

typedef struct gt_req {
    gt_node *node;
    struct MHD_Connection *conn;
    const char *method, *url;
    gt_route_match m;
    int route;                /* index into the table, or -1 */
    uint64_t id;              /* request id (X-Request-Id) */
    uint64_t start_us;
    gt_buf body;
    size_t body_limit, discarded;
    int too_big, responded, status, is_stream;
    gt_reader *rd;            /* borrowed on first use */
    int early_status, early_code; /* an error known from the headers alone */
    char early_msg[GT_ERR_MSG_MAX];
    char req_id[GT_API_REQUEST_ID_MAX + 1]; /* X-Request-Id: the client's, or ours */
    uint64_t bytes_in, bytes_out;           /* body bytes received and sent */
    int cut;                                /* 408: the request ran past request_max_s */
    /* A blob upload streamed to disk (h_blobs.c). */
    struct gt_blob_writer *upload;
    gt_addr uploader;
    uint64_t upload_reserved; /* bytes of node->blob_in_flight this upload holds */
    int upload_new;           /* and of blob_in_flight_new too (its blob was not known at the start) */
    int upload_known;         /* counted in node->blob_known_arriving (the blob was stored whole at the start) */
    struct gt_req *up_prev, *up_next; /* upload_new: in node->blob_new_uploads (blob_mu) */
    gt_err upload_err;        /* the first failure while the body arrived */
    /* A request on one of the extension's routes (api/ext.h): route is then
     * the node's table size plus the extension's index. */
    int is_ext;
    void *ext_ctx;            /* the extension's own request context */
    struct gt_api_x402_pay *ext_pay; /* its verified payment, settled by gt_api_ext_respond; NULL: unpriced */
    struct gt_resp *early_resp;      /* an answer known from the headers, sent at the end (x402's 402) */
    int ext_status;           /* the status the node sent for the extension instead of its answer; 0: none */
    int ext_settle_at_end;    /* ext_pay waits for its stream's end (settled or released by how it ends) */
    int ext_first;            /* the call being handed to the extension is the headers' (on_request) */
    /* POST /v1/actions with a thread pool: the connection is suspended while
     * the ledger writes the block (the thread serves other connections) and
     * answered when it is durable (h_ledger.c). may_defer: the handler may. */
    int may_defer;
    struct gt_deferred *deferred;
} gt_req;

/* Blob uploads (h_blobs.c), driven by http.c: begin with the headers (a
 * permit, funds, quota, the size from Content-Length), each piece of body,
 * and gt_h_blob_post at the end. begin returns 0 or an HTTP status with err
 * set; chunk failures are kept in r->upload_err for the end. abort drops an
 * unfinished upload (the connection was cut). */
int gt_blob_upload_begin(gt_req *r, uint64_t content_length, gt_err *err);
void gt_blob_upload_chunk(gt_req *r, const void *data, size_t len);
void gt_blob_upload_abort(gt_req *r);

typedef struct gt_resp {
    int status;
    uint8_t *body;            /* owned (gt_malloc), or NULL */
    size_t len;               /* body's bytes; with raw, its size when known (for the log), else 0 */
    const char *content_type; /* default application/json */
    const char *allow;        /* Allow header for 405 */
    struct MHD_Response *raw; /* a handler-built response (event stream, dashboard file) */
    int close;                /* 1: Connection: close (the client is over a limit) */
    const char *extra_name;   /* one more header (x402.c: PAYMENT-REQUIRED or PAYMENT-RESPONSE) */
    char *extra_value;        /* its value, owned (gt_free) */
} gt_resp;

typedef void (*gt_handler_fn)(gt_req *r, gt_resp *out);

/* Response helpers (http.c). */
/* Serialises j (stolen reference) as the body with status. */
void gt_resp_json(gt_resp *o, int status, json_t *j);

/* Rewrites the market's amount fields (token decimals) in place to the API's
 * base units as decimal strings (units.c); an amount that does not parse is
 * an error. gt_api_is_amount_field names those fields. */
int gt_api_units(json_t *j, gt_err *err);
/* Replies with j (owned) after gt_api_units, a 500 when an amount cannot be
 * converted, or err's error when j is NULL (GT_ENOTFOUND becomes 404). */
void gt_api_reply_units(gt_resp *o, json_t *j, const gt_err *err);
int gt_api_is_amount_field(const char *key);

/* GET /v1/blocks/{height} (h_ledger.c): the array a block's actions are
 * collected into, and where the collector says why it stopped. */
typedef struct gt_api_block_actions {
    json_t *arr;
    gt_err *err;
} gt_api_block_actions;
/* gt_ledger_each_action callback: parses json and appends it to arg's array
 * (arg: a gt_api_block_actions). JSON that does not parse stops the walk:
 * returns GT_EDB with a message naming the block and the action. */
int gt_api_collect_action(void *arg, uint64_t height, uint32_t index, const char *json);
/* {"error":{"code":"EINVAL","message":"..."}} with status. */
void gt_resp_error(gt_resp *o, int status, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same from a gt_err, with the status its code implies (gt_http_status). */
void gt_resp_err(gt_resp *o, const gt_err *e);
/* HTTP status for a GT_E* code: 400 malformed, 404 missing, 409 nonce,
 * 413 too large, 422 refused by the rules, 500 our failure. */
int gt_http_status(int code);

/* Request helpers (http.c). */
/* Query parameter value (percent-decoded) or NULL. */
const char *gt_req_query(gt_req *r, const char *name);
/* Refuses query parameters outside `allowed` (NULL-terminated). */
int gt_req_only_query(gt_req *r, const char *const *allowed, gt_err *err);
/* The request's reader, borrowed on first use (returned when it completes). */
gt_reader *gt_req_reader(gt_req *r, gt_err *err);
/* The shape of every GET /v1/<things>/{id}: no query parameters, the path's
 * first parameter a 32-byte hash naming `what` (sha256: accepted when
 * allow_sha256), `get` run in one read snapshot, and `reply` (gt_api_reply or
 * gt_api_reply_units) with its JSON or its error. */
typedef json_t *(*gt_api_get_fn)(sqlite3 *db, const uint8_t id[32], gt_err *err);
void gt_api_get_one(gt_req *r, gt_resp *o, const char *what, int allow_sha256, gt_api_get_fn get,
                    void (*reply)(gt_resp *o, json_t *j, const gt_err *err));

/* Handlers (h_ledger.c, h_market.c, h_blobs.c, http.c). */
void gt_h_actions_post(gt_req *r, gt_resp *o);
/* The answer of a POST /v1/actions the handler deferred (r->deferred), once
 * the connection is resumed: its results. */
void gt_h_actions_post_done(gt_req *r, gt_resp *o);
/* Frees a request's deferred submit (none: nothing), when it completes:
 * the ledger has called back by then (a suspended connection is not
 * closed). */
void gt_h_actions_deferred_free(gt_req *r);
void gt_h_action_get(gt_req *r, gt_resp *o);
void gt_h_actions_get(gt_req *r, gt_resp *o); /* index.c */
void gt_h_account(gt_req *r, gt_resp *o);
void gt_h_head(gt_req *r, gt_resp *o);
void gt_h_health(gt_req *r, gt_resp *o);
void gt_h_blocks(gt_req *r, gt_resp *o);
void gt_h_block(gt_req *r, gt_resp *o);
void gt_h_chain(gt_req *r, gt_resp *o);
void gt_h_blob_post(gt_req *r, gt_resp *o);
void gt_h_blob_get(gt_req *r, gt_resp *o);
void gt_h_tasks(gt_req *r, gt_resp *o);
void gt_h_task(gt_req *r, gt_resp *o);
void gt_h_agents(gt_req *r, gt_resp *o);
void gt_h_agent(gt_req *r, gt_resp *o);
void gt_h_reputation(gt_req *r, gt_resp *o);
void gt_h_events(gt_req *r, gt_resp *o);
void gt_h_metrics(gt_req *r, gt_resp *o);
void gt_h_leaderboard(gt_req *r, gt_resp *o);
void gt_h_attestation(gt_req *r, gt_resp *o);
void gt_h_dataset(gt_req *r, gt_resp *o);
void gt_h_web(gt_req *r, gt_resp *o); /* h_web.c: the dashboard */
/* chain_agent.c: --chain's index and agent */
void gt_h_agent_card(gt_req *r, gt_resp *o);
void gt_h_chain_jobs(gt_req *r, gt_resp *o);
void gt_h_chain_job(gt_req *r, gt_resp *o);
void gt_h_chain_agents(gt_req *r, gt_resp *o);
void gt_h_chain_input(gt_req *r, gt_resp *o);
void gt_h_chain_output(gt_req *r, gt_resp *o);
void gt_h_chain_input_get(gt_req *r, gt_resp *o); /* a disputed job's input, to a seated judge (chain_judge.c) */
/* h_fund.c: funding rounds, proof of human, airdrops */
void gt_h_fund_rounds(gt_req *r, gt_resp *o);
void gt_h_fund_round(gt_req *r, gt_resp *o);
void gt_h_fund_human(gt_req *r, gt_resp *o);
void gt_h_fund_epoch(gt_req *r, gt_resp *o);
void gt_h_fund_claim(gt_req *r, gt_resp *o);
void gt_api_reply(gt_resp *o, json_t *j, const gt_err *err); /* j (200) or err; consumes j */
int gt_api_head_time(sqlite3 *db, uint64_t *out, gt_err *err); /* the head block's time: "now" for reads */
void gt_h_supply(gt_req *r, gt_resp *o);  /* h_supply.c: the supply check over the whole ledger */
/* h_label.c: paid human feedback */
void gt_h_label_tasks(gt_req *r, gt_resp *o);
void gt_h_label_task(gt_req *r, gt_resp *o);
void gt_h_label_next(gt_req *r, gt_resp *o);
void gt_h_label_export(gt_req *r, gt_resp *o);

/* The route table (http.c), for metrics labels. */
int gt_api_n_routes(void);
const gt_route *gt_api_route(int i);
/* The same over the node's routes and then its extension's (for /metrics). */
const gt_route *gt_api_node_route(const gt_node *n, int i);

/* A block's header as JSON, shared by /v1/head, /v1/blocks and the block
 * event: as text into out (its length returned), or parsed (new reference). */
#define GT_BLOCK_TEXT_MAX 640 /* six 66-character hashes, three int64s and the names */
size_t gt_block_text(const gt_block *b, char out[GT_BLOCK_TEXT_MAX]);
json_t *gt_block_json(const gt_block *b);
/* "0x" + hex of n bytes into out (size >= 2n+3). */
void gt_api_hex(const uint8_t *b, size_t n, char *out);

/* HTTP server lifecycle (http.c). */
int gt_http_start(gt_node *n, gt_err *err);
void gt_http_stop(gt_node *n);

#endif
