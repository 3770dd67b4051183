/* cli_node.c: `gotong node`: runs the HTTP JSON API (src/api) over
 * HOME/ledger.db until SIGINT or SIGTERM, then stops gracefully: no new
 * connections, in-flight requests finish, event streams end, the ledger
 * closes. Everything acknowledged before the signal is durable already. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/ext.h"
#include "api/route.h"
#include "base/log.h"
#include "cli/cli.h"
#include "crypto/key.h"
#include "serve/serve.h"

/* Prints `gotong node --help`. */
static void usage(FILE *f) {
    fprintf(f,
            "usage: gotong node [--home DIR] [--listen HOST:PORT] [options]\n\n"
            "Serves the HTTP JSON API (docs/api.md) over HOME/ledger.db as its only writer:\n"
            "signed actions in, accounts, blocks, tasks, agents, reputation, blobs out, an\n"
            "event stream (GET /v1/events) and Prometheus metrics (GET /metrics).\n"
            "Stops gracefully on SIGINT or SIGTERM.\n\n"
            "options:\n"
            "  --home DIR               data directory (default ~/.gotong or $GOTONG_HOME)\n"
            "  --listen HOST:PORT       IPv4 address and port (default %s; port 0 picks one)\n"
            "  --threads N              HTTP worker threads (default %d; 0: one per connection)\n"
            "  --block-interval-ms MS   write an empty block after MS idle, so deadlines pass\n"
            "                           (default %d; 0: never)\n"
            "  --max-connections N      open connections at most (default %d)\n"
            "  --timeout-s S            close idle connections after S seconds (default %d)\n"
            "  --quiet                  no access log (otherwise one line per request, logged at\n"
            "                           level info: seen with --log-level info or debug)\n"
            "  --log-level LEVEL        debug, info, warn or error (default $GOTONG_LOG, else warn)\n"
            "  --log-format FORMAT      text (default) or json: one JSON object a line; each request's\n"
            "                           line has request_id, method, path, status, bytes, duration_ms\n"
            "  --max-connections-per-ip N  open connections from one address (default %d)\n"
            "  --request-max-s S        cut a request (headers and body) not all in after S seconds\n"
            "                           (default %d)\n"
            "  --allow-host NAMES       Host names to answer to beside IP addresses and localhost,\n"
            "                           comma-separated (\"*\": any); a request for another name is\n"
            "                           refused (403), so a page whose name points here cannot use it\n"
            "  --blob-quota-bytes N     bytes of new blobs each account may upload (default %llu)\n"
            "  --blob-min-funds UNITS   balance + stake an uploader must hold, base units (default %llu)\n"
            "  --blob-store-max-bytes N bytes of new blobs all uploads together may bring in (default %llu)\n"
            "  --blob-min-free-bytes N  free disk an upload must leave for the ledger (default %llu)\n"
            "settling on a chain (HOME/chain.json from `gotong chain deploy`, copied to each node's home):\n"
            "  --chain URL              the chain's JSON-RPC endpoint: index the escrow's and the agent\n"
            "                           registry's events into HOME/chain_index.db (GET /v1/chain/jobs, /agents)\n"
            "  --chain-confirmations N  blocks on top of an event's (itself included) before it counts (default %d)\n"
            "  --chain-wallet ADDR      run this keystore wallet's agent: register its card\n"
            "                           (/.well-known/agent-card.json), work the jobs naming it as provider and\n"
            "                           judge those naming it as evaluator (skill text.wordcount)\n"
            "  --password-file F        that wallet's password (default: asked on the terminal)\n"
            "  --price UNITS            the least budget the agent works for (default 1)\n"
            "  --max-stake-pct P        the most stake the agent locks on a claim, in %% of the job's budget\n"
            "                           (default %d): a job asking more is not claimed\n"
            "  --public-url URL         the card's URL (default http://HOST:PORT of --listen)\n"
            "  --agent-name NAME        the card's name (default the wallet's address)\n"
            "serving a model on the same port (the OpenAI API of `gotong serve`, same code):\n"
            "  -m, --model FILE         a GGUF model: GET /v1/models, POST /v1/chat/completions (streams),\n"
            "                           /v1/completions, /v1/embeddings; GET /health gains \"model\" (its queue).\n"
            "                           Runs a thread per connection (--threads 0; another --threads is refused)\n"
            "  --model-threads N        evaluation threads (default 1)\n"
            "  --ctx N, --alias NAME, --chat-template FILE, --parallel N, --no-prefix-cache, --max-queue N,\n"
            "  --max-prompt-tokens N, --max-output-tokens N, --stream-lag-tokens N, --stream-idle-ms MS\n"
            "                           as for `gotong serve` (see gotong serve --help)\n"
            "The first line on stdout is \"listening on http://HOST:PORT\" once it serves.\n",
            GT_API_DEFAULT_LISTEN, GT_API_DEFAULT_THREADS, GT_API_DEFAULT_BLOCK_INTERVAL_MS, GT_API_MAX_CONNECTIONS,
            GT_API_TIMEOUT_S, GT_API_MAX_CONNECTIONS_PER_IP, GT_API_REQUEST_MAX_S,
            (unsigned long long)GT_API_BLOB_QUOTA_BYTES, (unsigned long long)GT_API_BLOB_MIN_FUNDS_UNITS,
            (unsigned long long)GT_API_BLOB_STORE_MAX_BYTES, (unsigned long long)GT_API_BLOB_MIN_FREE_BYTES,
            GT_API_CHAIN_CONFIRMATIONS, GT_API_CHAIN_MAX_STAKE_PCT);
}

/* Sets the log level from its name; a usage error for any other word. */
static int log_level(const char *s) {
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            gt_log_set_level(GT_LOG_DEBUG + i);
            return 0;
        }
    return gt_cli_usage_error("node", "--log-level %s: expected debug, info, warn or error", s);
}

/* Sets the log format from its name; a usage error for any other word. */
static int log_format(const char *s) {
    if (strcmp(s, "text") && strcmp(s, "json"))
        return gt_cli_usage_error("node", "--log-format %s: expected text or json", s);
    gt_log_set_format(strcmp(s, "json") ? GT_LOG_TEXT : GT_LOG_JSON);
    return 0;
}

/* What `gotong node` is told: the node's settings and a model to serve. */
typedef struct node_args {
    gt_node_config cfg;
    const char *home, *level, *format, *wallet, *pw;
    int threads_given;
    gt_serve_config model;       /* model.model_path NULL: none */
} node_args;

/* Parses argv into a (the node's options, then a model's). Returns -1 to
 * go on, or the exit status (help, a usage error). */
static int parse_node(int argc, char **argv, node_args *a) {
    gt_node_config *cfg = &a->cfg;
    gt_node_config_default(cfg);
    cfg->chain_price = 1;
    a->model = gt_serve_defaults();
    uint64_t threads = cfg->threads, interval_ms = cfg->block_interval_ms, max_conn = cfg->max_connections;
    uint64_t timeout_s = cfg->timeout_s, per_ip = cfg->max_connections_per_ip, request_max_s = cfg->request_max_s;
    uint64_t m_threads = 1, n_ctx = 0, queue = GT_SERVE_DEFAULT_QUEUE, parallel = GT_SERVE_DEFAULT_PARALLEL;
    uint64_t max_prompt = 0, max_output = 0, lag = GT_SERVE_DEFAULT_STREAM_LAG, idle_ms = 0;
    int quiet = 0, no_cache = 0;
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &a->home, 0, 0, NULL},
        {"--listen", NULL, GT_CLI_OPT_STR, &cfg->listen, 0, 0, NULL},
        {"--threads", NULL, GT_CLI_OPT_U64, &threads, 0, 1024, &a->threads_given},
        {"--block-interval-ms", NULL, GT_CLI_OPT_U64, &interval_ms, 0, 86400000, NULL},
        {"--max-connections", NULL, GT_CLI_OPT_U64, &max_conn, 1, 100000, NULL},
        {"--timeout-s", NULL, GT_CLI_OPT_U64, &timeout_s, 1, 86400, NULL},
        {"--quiet", NULL, GT_CLI_OPT_FLAG, &quiet, 0, 0, NULL},
        {"--log-level", NULL, GT_CLI_OPT_STR, &a->level, 0, 0, NULL},
        {"--log-format", NULL, GT_CLI_OPT_STR, &a->format, 0, 0, NULL},
        {"--max-connections-per-ip", NULL, GT_CLI_OPT_U64, &per_ip, 1, 100000, NULL},
        {"--request-max-s", NULL, GT_CLI_OPT_U64, &request_max_s, 1, 86400, NULL},
        {"--allow-host", NULL, GT_CLI_OPT_STR, &cfg->allow_hosts, 0, 0, NULL},
        {"--blob-quota-bytes", NULL, GT_CLI_OPT_U64, &cfg->blob_quota_bytes, 0, UINT64_MAX, NULL},
        {"--blob-min-funds", NULL, GT_CLI_OPT_U64, &cfg->blob_min_funds_units, 0, UINT64_MAX, NULL},
        {"--blob-store-max-bytes", NULL, GT_CLI_OPT_U64, &cfg->blob_store_max_bytes, 0, UINT64_MAX, NULL},
        {"--blob-min-free-bytes", NULL, GT_CLI_OPT_U64, &cfg->blob_min_free_bytes, 0, UINT64_MAX, NULL},
        {"--chain", NULL, GT_CLI_OPT_STR, &cfg->chain_url, 0, 0, NULL},
        {"--chain-confirmations", NULL, GT_CLI_OPT_U64, &cfg->chain_confirmations, 1, 1000, NULL},
        {"--chain-wallet", NULL, GT_CLI_OPT_STR, &a->wallet, 0, 0, NULL},
        {"--password-file", NULL, GT_CLI_OPT_STR, &a->pw, 0, 0, NULL},
        {"--price", NULL, GT_CLI_OPT_U64, &cfg->chain_price, 0, UINT64_MAX, NULL},
        {"--max-stake-pct", NULL, GT_CLI_OPT_U64, &cfg->chain_max_stake_pct, 0, 1000000, NULL},
        {"--public-url", NULL, GT_CLI_OPT_STR, &cfg->chain_public_url, 0, 0, NULL},
        {"--agent-name", NULL, GT_CLI_OPT_STR, &cfg->chain_name, 0, 0, NULL},
        {"--model", "-m", GT_CLI_OPT_STR, &a->model.model_path, 0, 0, NULL},
        {"--model-threads", NULL, GT_CLI_OPT_U64, &m_threads, 1, 1024, NULL},
        {"--ctx", NULL, GT_CLI_OPT_U64, &n_ctx, 2, 1 << 20, NULL},
        {"--alias", NULL, GT_CLI_OPT_STR, &a->model.model_id, 0, 0, NULL},
        {"--chat-template", NULL, GT_CLI_OPT_STR, &a->model.chat_template_file, 0, 0, NULL},
        {"--max-queue", NULL, GT_CLI_OPT_U64, &queue, 1, GT_SERVE_MAX_QUEUE, NULL},
        {"--no-prefix-cache", NULL, GT_CLI_OPT_FLAG, &no_cache, 0, 0, NULL},
        {"--parallel", NULL, GT_CLI_OPT_U64, &parallel, 1, GT_SERVE_MAX_PARALLEL, NULL},
        {"--max-prompt-tokens", NULL, GT_CLI_OPT_U64, &max_prompt, 1, 1 << 20, NULL},
        {"--max-output-tokens", NULL, GT_CLI_OPT_U64, &max_output, 1, 1 << 20, NULL},
        {"--stream-lag-tokens", NULL, GT_CLI_OPT_U64, &lag, 1, GT_SERVE_MAX_STREAM_LAG, NULL},
        {"--stream-idle-ms", NULL, GT_CLI_OPT_U64, &idle_ms, 1, GT_SERVE_MAX_STREAM_IDLE_MS, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("node", argc, argv, 1, opts, NULL, 0, NULL, usage);
    if (rc >= 0) return rc;
    cfg->threads = (unsigned)threads, cfg->block_interval_ms = interval_ms, cfg->max_connections = (unsigned)max_conn;
    cfg->timeout_s = (unsigned)timeout_s, cfg->max_connections_per_ip = (unsigned)per_ip;
    cfg->request_max_s = (unsigned)request_max_s;
    if (quiet) cfg->access_log = 0;
    gt_serve_config *m = &a->model;
    m->n_threads = (int)m_threads, m->n_ctx = (int)n_ctx, m->max_queue = (int)queue, m->n_parallel = (int)parallel;
    m->no_prefix_cache = no_cache, m->max_prompt_tokens = (int)max_prompt, m->max_output_tokens = (int)max_output;
    m->stream_lag_tokens = (int)lag, m->stream_idle_ms = (int)idle_ms, m->access_log = 0; /* the node logs requests */
    return -1;
}

/* Loads the model of `gotong node -m` and hands its routes to the node
 * (which then runs a thread per connection). 0, or the exit status. */
static int node_model(node_args *a, gt_serve **out, gt_err *err) {
    *out = NULL;
    if (!a->model.model_path) return 0;
    if (a->threads_given && a->cfg.threads != 0)
        return gt_cli_usage_error("node", "--threads %u: a node serving a model (-m) runs a thread per connection "
                                  "(its requests wait for the model there): give --threads 0 or leave it out",
                                  a->cfg.threads);
    a->cfg.threads = 0;
    if (gt_serve_open(&a->model, out, err)) return gt_cli_fail(err);
    fprintf(stderr, "model \"%s\", chat template: %s\n", gt_serve_model_id(*out), gt_serve_template_desc(*out));
    a->cfg.ext = gt_serve_ext(*out);
    return 0;
}

/* `gotong node`: parses options, starts the node, waits for SIGINT/SIGTERM
 * in this thread (blocked in all others), stops gracefully. Exit 0 after a
 * clean stop, 1 when it cannot start, 2 on a usage error. */
static int cmd_node(int argc, char **argv) {
    node_args a = {0};
    int rc = parse_node(argc, argv, &a);
    if (rc >= 0) return rc;
    gt_node_config *cfg = &a.cfg;
    if (a.level && (rc = log_level(a.level))) return rc;
    if (a.format && (rc = log_format(a.format))) return rc;
    gt_err err = {0};
    char home_path[4096];
    if (gt_cli_home(a.home, home_path, sizeof home_path, &err)) return gt_cli_fail(&err);
    cfg->home = home_path;
    if ((a.wallet || a.pw || cfg->chain_public_url || cfg->chain_name) && !cfg->chain_url)
        return gt_cli_usage_error("node", "--chain-wallet, --password-file, --public-url, --agent-name: need --chain");
    gt_key key;
    if (a.wallet && gt_cli_load_key(a.home, a.wallet, a.pw, &key, NULL, &err)) return gt_cli_fail(&err);
    if (a.wallet) cfg->chain_key = &key;
    /* Signals go to this thread only (sigwait below): block them before any
     * thread starts (the model's batcher too), so the threads inherit the mask. */
    gt_cli_block_stop_signals();
    gt_serve *model = NULL;
    if ((rc = node_model(&a, &model, &err))) {
        if (a.wallet) gt_key_wipe(&key);
        return rc;
    }
    gt_node *node = NULL;
    rc = gt_node_start(cfg, &node, &err);
    if (a.wallet) gt_key_wipe(&key); /* the node keeps its own copy */
    if (rc) {
        gt_serve_stop(model);
        return gt_cli_fail(&err);
    }
    char extra[300] = "";
    if (model) snprintf(extra, sizeof extra, " (model \"%s\")", gt_serve_model_id(model));
    gt_cli_serve_until_signal("node", cfg->listen, gt_node_port(node), extra);
    gt_node_stop(node); /* first: no request of the model's runs after this */
    gt_serve_stop(model);
    return 0;
}

GT_CLI_COMMAND(node_cmd, "node", "serve the HTTP JSON API over this home's ledger", cmd_node)
