/* api.h: the node: gotong's HTTP/1.1 JSON API over the embedded ledger and
 * the market, on libmicrohttpd.
 *
 * A node owns HOME/ledger.db as its single writer and its port alone: a
 * second node on the same home is refused by HOME/node.lock (an flock; the
 * file names the running node's pid and port for the refusal), and a port in
 * use is an error (no SO_REUSEPORT). It serves:
 *   - writes: POST /v1/actions (signed actions; each acknowledged action is
 *     durable when the response is sent), POST /v1/blobs (streamed to disk,
 *     each upload with a permit signed by a funded account, under a
 *     per-account quota: store/permit.h, store/quota.h);
 *   - reads: accounts, head, blocks, actions, chain parameters, tasks, agents,
 *     reputation, blobs -- each request borrows a read-only SQLite connection
 *     of its own (WAL lets readers run beside the writer), so reads never wait
 *     for a block's fsync;
 *   - GET /v1/events: Server-Sent Events for new blocks and task actions;
 *   - GET /metrics: Prometheus text.
 * docs/api.md is the reference for every route, shape and error.
 *
 * Blocks: every write makes a block (group commit). Besides, a chain-watcher
 * thread writes an empty block when none was written for block_interval_ms,
 * so market deadlines (counted in blocks) pass at a bounded pace even when
 * nobody submits anything; an idle node adds one small block per interval.
 *
 * Threads: a libmicrohttpd thread pool of `threads` threads (each serves many
 * connections with poll; SSE streams wait suspended, costing no thread), or
 * with threads = 0 one thread per connection. */
#ifndef GT_API_API_H
#define GT_API_API_H

#include <stdint.h>

#include "base/err.h"

/* Limits and defaults for what comes from outside. */
#define GT_API_MAX_BATCH 256             /* actions in one POST /v1/actions */
#define GT_API_MAX_CONNECTIONS 1024      /* open connections (SSE included) */
#define GT_API_MAX_SSE_CLIENTS 256       /* concurrent /v1/events streams */
#define GT_API_TIMEOUT_S 30              /* idle connection timeout */
#define GT_API_SSE_KEEPALIVE_MS 15000    /* comment line on idle event streams */
#define GT_API_INDEX_ROUND_BLOCKS 2000   /* action index: blocks a catch-up round takes (one transaction) */
#define GT_API_SSE_RING 1024             /* recent events kept for slow/reconnecting clients */
#define GT_API_BLOCKS_PAGE_MAX 100       /* blocks per GET /v1/blocks page */
#define GT_API_BLOCK_ACTIONS_MAX 4096    /* actions listed with one block (= a block's limit) */
#define GT_API_DEFAULT_THREADS 8
#define GT_API_DEFAULT_BLOCK_INTERVAL_MS 1000
#define GT_API_DEFAULT_LISTEN "127.0.0.1:8645"
#define GT_API_CHAIN_CONFIRMATIONS 3 /* --chain-confirmations' default */
#define GT_API_CHAIN_MAX_STAKE_PCT 100 /* --max-stake-pct's default: the agent stakes at most a job's budget */
#define GT_API_SHUTDOWN_GRACE_MS 10000   /* longest wait for in-flight requests at stop */
#define GT_API_EVENT_BATCH_MS 10         /* events of new blocks go out at most this late */
#define GT_API_MAX_CONNECTIONS_PER_IP 128 /* open connections from one client address */
/* Connections over either limit are still accepted, up to this many more,
 * to be told why (429 with a JSON body) before they are closed; past that
 * the kernel's accept is all they get. */
#define GT_API_CONNECTION_HEADROOM 32
#define GT_API_REQUEST_MAX_S 120         /* a whole request, first byte to last: slow senders are cut */
/* A connection over a limit has this long to send its request and be told
 * 429, then it is cut: held open it would keep a slot of MHD's headroom. */
#define GT_API_OVER_LIMIT_S 2
/* How often the node looks for requests past their time (http.c's reaper). */
#define GT_API_REAP_MS 250
/* Uploads: each account may bring at most this many bytes of new blobs into
 * the store, and must hold at least this much (balance + stake) to upload. */
#define GT_API_BLOB_QUOTA_BYTES (256ull * 1024 * 1024)
#define GT_API_BLOB_MIN_FUNDS_UNITS 1000000ull /* one token */
/* The whole store: uploads together may bring in at most this many bytes of
 * new blobs (a token moved between accounts buys each a fresh quota, so the
 * quotas alone do not bound the disk), and an upload must leave at least
 * this much free on the filesystem holding the store: ledger.db and its WAL
 * live beside it, and a full disk would stop every block. */
#define GT_API_BLOB_STORE_MAX_BYTES (16ull * 1024 * 1024 * 1024)
#define GT_API_BLOB_MIN_FREE_BYTES (256ull * 1024 * 1024)

/* Bytes of the Host names a node answers to (--allow-host, and the host of
 * its --public-url), the commas included. */
#define GT_API_ALLOW_HOSTS_MAX 1024

typedef struct gt_node_config {
    const char *home;              /* data directory holding ledger.db (and blobs/) */
    const char *listen;            /* "HOST:PORT" (IPv4 literal); port 0 picks a free one */
    unsigned threads;              /* MHD pool size; 0: one thread per connection */
    uint64_t block_interval_ms;    /* empty block after this much idle time; 0: never */
    unsigned max_connections;
    unsigned timeout_s;            /* idle connection timeout */
    unsigned sse_keepalive_ms;
    int access_log;                /* 1: one info line per request (JSON with gt_log_set_format) */
    unsigned max_connections_per_ip;
    unsigned request_max_s;        /* reading a whole request; past it the connection is cut (not the handler) */
    uint64_t blob_quota_bytes;     /* new blob bytes per uploading account */
    uint64_t blob_min_funds_units; /* balance + stake an uploader must hold */
    uint64_t blob_store_max_bytes; /* new blob bytes all uploads together (the store's usage files) */
    uint64_t blob_min_free_bytes;  /* bytes an upload must leave free on the store's filesystem */
    unsigned index_round_blocks;   /* blocks the action index takes per round while catching up; 0: default */
    const char *allow_hosts;       /* Host names answered beside IP addresses and localhost (ext.h's
                                    * gt_api_host_check: comma-separated, "*" any); NULL: none */
    /* --chain (chain_market.h): settle the market on gotong's contracts. */
    const char *chain_url;            /* JSON-RPC endpoint; NULL: no chain */
    uint64_t chain_confirmations;     /* the index takes a block this deep (itself included) */
    const struct gt_key *chain_key;   /* the node's agent's wallet (copied); NULL: an index, no agent */
    const char *chain_public_url;     /* the agent card's url; NULL: http://LISTEN */
    const char *chain_name;           /* the card's name; NULL: the wallet's address */
    uint64_t chain_price;             /* base units a job must budget for this agent to work it */
    uint64_t chain_max_stake_pct;     /* the most stake, in % of a job's budget, the agent locks on a claim */
    /* Routes an upper layer adds (api/ext.h: `gotong node -m MODEL`'s OpenAI
     * API); NULL: none. Borrowed: it must outlive the node. Needs threads 0. */
    const struct gt_api_ext *ext;
} gt_node_config;

typedef struct gt_node gt_node;

/* Fills c with the defaults above (home NULL: the caller must set it). */
void gt_node_config_default(gt_node_config *c);

/* Registers the market's action kinds and module, opens HOME/ledger.db as its
 * writer, binds the listening socket and starts serving. Fails without side
 * effects left behind (ledger closed, socket released). Caller stops and frees
 * with gt_node_stop. */
int gt_node_start(const gt_node_config *c, gt_node **out, gt_err *err);

/* Writes an empty block now, as the idle watcher does after
 * block_interval_ms: for a director (the demo) that knows every party has
 * acted and only a deadline counted in blocks is left. 0 or the ledger's
 * error. */
int gt_node_tick(gt_node *n, gt_err *err);

/* Fixes the clock that stamps the node's next blocks at time_s (Unix
 * seconds; 0: the host's clock again), for a director (the demo) that moves
 * block time itself so that no deadline passes while a party may still act.
 * Block times never go backwards whatever it is set to (ledger.h). */
void gt_node_set_time(gt_node *n, uint64_t time_s);
/* The time the node's next block would carry (gt_ledger_now_s). */
uint64_t gt_node_now_s(gt_node *n);

/* The TCP port actually bound (useful with port 0). */
uint16_t gt_node_port(const gt_node *n);

/* Graceful stop: stops accepting connections, ends event streams, lets
 * in-flight requests finish (up to GT_API_SHUTDOWN_GRACE_MS), stops the
 * chain watcher, closes the ledger (everything acknowledged is durable
 * already) and frees n. Accepts NULL. */
void gt_node_stop(gt_node *n);

#endif
