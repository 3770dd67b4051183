/* cli_node.c: `gotong node`: runs the HTTP JSON API (src/api) over
 * HOME/ledger.db until SIGINT or SIGTERM, then stops gracefully: no new
 * connections, in-flight requests finish, event streams end, the ledger
 * closes. Everything acknowledged before the signal is durable already. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "base/num.h"
#include "api/route.h"
#include "base/log.h"
#include "cli/cli.h"

enum { OPT_HOME = 1000, OPT_LISTEN, OPT_THREADS, OPT_INTERVAL, OPT_MAXCONN, OPT_TIMEOUT, OPT_QUIET, OPT_LOG_LEVEL,
       OPT_HELP, OPT_LOG_FORMAT, OPT_MAXCONN_IP, OPT_REQUEST_MAX, OPT_BLOB_QUOTA, OPT_BLOB_MIN_FUNDS };

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
            "The first line on stdout is \"listening on http://HOST:PORT\" once it serves.\n",
            GT_API_DEFAULT_LISTEN, GT_API_DEFAULT_THREADS, GT_API_DEFAULT_BLOCK_INTERVAL_MS, GT_API_MAX_CONNECTIONS,
            GT_API_TIMEOUT_S, GT_API_MAX_CONNECTIONS_PER_IP, GT_API_REQUEST_MAX_S,
            (unsigned long long)GT_API_BLOB_QUOTA_BYTES, (unsigned long long)GT_API_BLOB_MIN_FUNDS_UNITS);
}

/* Parses an option's integer value in [min, max]. */
static int opt_u64(const char *s, const char *name, uint64_t min, uint64_t max, uint64_t *out) {
    gt_err err = {0};
    if (gt_parse_u64(s, name, min, max, out, &err)) return gt_cli_usage_error("node", "%s", err.msg);
    return 0;
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

/* The node's resource limits and log format (options of cmd_node). */
static int limit_option(int opt, const char *s, gt_node_config *cfg) {
    uint64_t v;
    int rc = 0;
    switch (opt) {
    case OPT_LOG_FORMAT:
        if (strcmp(s, "text") && strcmp(s, "json"))
            return gt_cli_usage_error("node", "--log-format %s: expected text or json", s);
        gt_log_set_format(strcmp(s, "json") ? GT_LOG_TEXT : GT_LOG_JSON);
        break;
    case OPT_MAXCONN_IP:
        if (!(rc = opt_u64(s, "--max-connections-per-ip", 1, 100000, &v))) cfg->max_connections_per_ip = (unsigned)v;
        break;
    case OPT_REQUEST_MAX:
        if (!(rc = opt_u64(s, "--request-max-s", 1, 86400, &v))) cfg->request_max_s = (unsigned)v;
        break;
    case OPT_BLOB_QUOTA:
        if (!(rc = opt_u64(s, "--blob-quota-bytes", 0, UINT64_MAX, &v))) cfg->blob_quota_bytes = v;
        break;
    default:
        if (!(rc = opt_u64(s, "--blob-min-funds", 0, UINT64_MAX, &v))) cfg->blob_min_funds_units = v;
        break;
    }
    return rc;
}

/* `gotong node`: parses options, starts the node, waits for SIGINT/SIGTERM
 * in this thread (blocked in all others), stops gracefully. Exit 0 after a
 * clean stop, 1 when it cannot start, 2 on a usage error. */
static int cmd_node(int argc, char **argv) {
    static const struct option opts[] = {
        {"home", required_argument, 0, OPT_HOME},
        {"listen", required_argument, 0, OPT_LISTEN},
        {"threads", required_argument, 0, OPT_THREADS},
        {"block-interval-ms", required_argument, 0, OPT_INTERVAL},
        {"max-connections", required_argument, 0, OPT_MAXCONN},
        {"timeout-s", required_argument, 0, OPT_TIMEOUT},
        {"quiet", no_argument, 0, OPT_QUIET},
        {"log-level", required_argument, 0, OPT_LOG_LEVEL},
        {"log-format", required_argument, 0, OPT_LOG_FORMAT},
        {"max-connections-per-ip", required_argument, 0, OPT_MAXCONN_IP},
        {"request-max-s", required_argument, 0, OPT_REQUEST_MAX},
        {"blob-quota-bytes", required_argument, 0, OPT_BLOB_QUOTA},
        {"blob-min-funds", required_argument, 0, OPT_BLOB_MIN_FUNDS},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0}};
    gt_node_config cfg;
    gt_node_config_default(&cfg);
    const char *home = NULL;
    uint64_t v;
    int c, rc;
    optind = 1;
    opterr = 0; /* our own messages, naming the closest option */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_HOME: home = optarg; break;
        case OPT_LISTEN: cfg.listen = optarg; break;
        case OPT_THREADS:
            if ((rc = opt_u64(optarg, "--threads", 0, 1024, &v))) return rc;
            cfg.threads = (unsigned)v;
            break;
        case OPT_INTERVAL:
            if ((rc = opt_u64(optarg, "--block-interval-ms", 0, 86400000, &v))) return rc;
            cfg.block_interval_ms = v;
            break;
        case OPT_MAXCONN:
            if ((rc = opt_u64(optarg, "--max-connections", 1, 100000, &v))) return rc;
            cfg.max_connections = (unsigned)v;
            break;
        case OPT_TIMEOUT:
            if ((rc = opt_u64(optarg, "--timeout-s", 1, 86400, &v))) return rc;
            cfg.timeout_s = (unsigned)v;
            break;
        case OPT_QUIET: cfg.access_log = 0; break;
        case OPT_LOG_LEVEL:
            if ((rc = log_level(optarg))) return rc;
            break;
        case OPT_LOG_FORMAT:
        case OPT_MAXCONN_IP:
        case OPT_REQUEST_MAX:
        case OPT_BLOB_QUOTA:
        case OPT_BLOB_MIN_FUNDS:
            if ((rc = limit_option(c, optarg, &cfg))) return rc;
            break;
        case OPT_HELP: case 'h': usage(stdout); return 0;
        case ':': return gt_cli_usage_error("node", "%s needs a value", argv[optind - 1]);
        default: return gt_cli_unknown_option("node", argv[optind - 1], usage);
        }
    }
    if (optind < argc) return gt_cli_usage_error("node", "unexpected argument \"%s\"", argv[optind]);
    gt_err err = {0};
    char home_path[4096];
    if (gt_cli_home(home, home_path, sizeof home_path, &err)) return gt_cli_fail(&err);
    cfg.home = home_path;

    /* Signals go to this thread only (sigwait below): block them before any
     * thread starts, so the server's threads inherit the mask. */
    gt_cli_block_stop_signals();

    gt_node *node = NULL;
    if (gt_node_start(&cfg, &node, &err)) return gt_cli_fail(&err);
    gt_cli_serve_until_signal("node", cfg.listen, gt_node_port(node), NULL);
    gt_node_stop(node);
    return 0;
}

GT_CLI_COMMAND(node_cmd, "node", "serve the HTTP JSON API over this home's ledger", cmd_node)
