/* cli_node.c: `gotong node`: runs the HTTP JSON API (src/api) over
 * HOME/ledger.db until SIGINT or SIGTERM, then stops gracefully: no new
 * connections, in-flight requests finish, event streams end, the ledger
 * closes. Everything acknowledged before the signal is durable already. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/route.h"
#include "base/log.h"
#include "cli/cli.h"
#include "crypto/key.h"

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
            "  --quiet                  no access log (one line per request otherwise)\n"
            "  --log-level LEVEL        debug, info, warn or error (default info, or $GOTONG_LOG)\n"
            "  --log-format FORMAT      text (default) or json: one JSON object a line; each request's\n"
            "                           line has request_id, method, path, status, bytes, duration_ms\n"
            "  --max-connections-per-ip N  open connections from one address (default %d)\n"
            "  --request-max-s S        cut a request still sending after S seconds (default %d)\n"
            "  --blob-quota-bytes N     bytes of new blobs each account may upload (default %llu)\n"
            "  --blob-min-funds UNITS   balance + stake an uploader must hold, base units (default %llu)\n"
            "settling on a chain (HOME/chain.json from `gotong chain deploy`, copied to each node's home):\n"
            "  --chain URL              the chain's JSON-RPC endpoint: index the escrow's and the agent\n"
            "                           registry's events into HOME/chain_index.db (GET /v1/chain/jobs, /agents)\n"
            "  --chain-confirmations N  blocks on top of an event's (itself included) before it counts (default %d)\n"
            "  --chain-wallet ADDR      run this keystore wallet's agent: register its card\n"
            "                           (/.well-known/agent-card.json), work the jobs naming it as provider and\n"
            "                           judge those naming it as evaluator (skill text.wordcount)\n"
            "  --password-file F        that wallet's password (default: asked on the terminal)\n"
            "  --price UNITS            the least budget the agent works for (default 1)\n"
            "  --public-url URL         the card's URL (default http://HOST:PORT of --listen)\n"
            "  --agent-name NAME        the card's name (default the wallet's address)\n"
            "The first line on stdout is \"listening on http://HOST:PORT\" once it serves.\n",
            GT_API_DEFAULT_LISTEN, GT_API_DEFAULT_THREADS, GT_API_DEFAULT_BLOCK_INTERVAL_MS, GT_API_MAX_CONNECTIONS,
            GT_API_TIMEOUT_S, GT_API_MAX_CONNECTIONS_PER_IP, GT_API_REQUEST_MAX_S,
            (unsigned long long)GT_API_BLOB_QUOTA_BYTES, (unsigned long long)GT_API_BLOB_MIN_FUNDS_UNITS,
            GT_API_CHAIN_CONFIRMATIONS);
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

/* `gotong node`: parses options, starts the node, waits for SIGINT/SIGTERM
 * in this thread (blocked in all others), stops gracefully. Exit 0 after a
 * clean stop, 1 when it cannot start, 2 on a usage error. */
static int cmd_node(int argc, char **argv) {
    gt_node_config cfg;
    gt_node_config_default(&cfg);
    const char *home = NULL, *level = NULL, *format = NULL, *wallet = NULL, *pw = NULL;
    cfg.chain_price = 1;
    uint64_t threads = cfg.threads, interval_ms = cfg.block_interval_ms, max_conn = cfg.max_connections;
    uint64_t timeout_s = cfg.timeout_s, per_ip = cfg.max_connections_per_ip, request_max_s = cfg.request_max_s;
    int quiet = 0;
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &home, 0, 0, NULL},
        {"--listen", NULL, GT_CLI_OPT_STR, &cfg.listen, 0, 0, NULL},
        {"--threads", NULL, GT_CLI_OPT_U64, &threads, 0, 1024, NULL},
        {"--block-interval-ms", NULL, GT_CLI_OPT_U64, &interval_ms, 0, 86400000, NULL},
        {"--max-connections", NULL, GT_CLI_OPT_U64, &max_conn, 1, 100000, NULL},
        {"--timeout-s", NULL, GT_CLI_OPT_U64, &timeout_s, 1, 86400, NULL},
        {"--quiet", NULL, GT_CLI_OPT_FLAG, &quiet, 0, 0, NULL},
        {"--log-level", NULL, GT_CLI_OPT_STR, &level, 0, 0, NULL},
        {"--log-format", NULL, GT_CLI_OPT_STR, &format, 0, 0, NULL},
        {"--max-connections-per-ip", NULL, GT_CLI_OPT_U64, &per_ip, 1, 100000, NULL},
        {"--request-max-s", NULL, GT_CLI_OPT_U64, &request_max_s, 1, 86400, NULL},
        {"--blob-quota-bytes", NULL, GT_CLI_OPT_U64, &cfg.blob_quota_bytes, 0, UINT64_MAX, NULL},
        {"--blob-min-funds", NULL, GT_CLI_OPT_U64, &cfg.blob_min_funds_units, 0, UINT64_MAX, NULL},
        {"--chain", NULL, GT_CLI_OPT_STR, &cfg.chain_url, 0, 0, NULL},
        {"--chain-confirmations", NULL, GT_CLI_OPT_U64, &cfg.chain_confirmations, 1, 1000, NULL},
        {"--chain-wallet", NULL, GT_CLI_OPT_STR, &wallet, 0, 0, NULL},
        {"--password-file", NULL, GT_CLI_OPT_STR, &pw, 0, 0, NULL},
        {"--price", NULL, GT_CLI_OPT_U64, &cfg.chain_price, 0, UINT64_MAX, NULL},
        {"--public-url", NULL, GT_CLI_OPT_STR, &cfg.chain_public_url, 0, 0, NULL},
        {"--agent-name", NULL, GT_CLI_OPT_STR, &cfg.chain_name, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("node", argc, argv, 1, opts, NULL, 0, NULL, usage);
    if (rc >= 0) return rc;
    if (level && (rc = log_level(level))) return rc;
    if (format && (rc = log_format(format))) return rc;
    cfg.threads = (unsigned)threads, cfg.block_interval_ms = interval_ms, cfg.max_connections = (unsigned)max_conn;
    cfg.timeout_s = (unsigned)timeout_s, cfg.max_connections_per_ip = (unsigned)per_ip;
    cfg.request_max_s = (unsigned)request_max_s;
    if (quiet) cfg.access_log = 0;
    gt_err err = {0};
    char home_path[4096];
    if (gt_cli_home(home, home_path, sizeof home_path, &err)) return gt_cli_fail(&err);
    cfg.home = home_path;
    if ((wallet || pw || cfg.chain_public_url || cfg.chain_name) && !cfg.chain_url)
        return gt_cli_usage_error("node", "--chain-wallet, --password-file, --public-url, --agent-name: need --chain");
    gt_key key;
    if (wallet && gt_cli_load_key(home, wallet, pw, &key, NULL, &err)) return gt_cli_fail(&err);
    if (wallet) cfg.chain_key = &key;

    /* Signals go to this thread only (sigwait below): block them before any
     * thread starts, so the server's threads inherit the mask. */
    gt_cli_block_stop_signals();

    gt_node *node = NULL;
    rc = gt_node_start(&cfg, &node, &err);
    if (wallet) gt_key_wipe(&key); /* the node keeps its own copy */
    if (rc) return gt_cli_fail(&err);
    gt_cli_serve_until_signal("node", cfg.listen, gt_node_port(node), NULL);
    gt_node_stop(node);
    return 0;
}

GT_CLI_COMMAND(node_cmd, "node", "serve the HTTP JSON API over this home's ledger", cmd_node)
