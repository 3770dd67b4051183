/* http.c: the HTTP side of the node: the route table, libmicrohttpd's request
 * callback (routing, request bodies read under a limit, dispatch), JSON
 * responses and errors, request ids, the access log, and starting/stopping
 * the daemon.
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
#include <time.h>
#include <unistd.h>

#include "api/api_impl.h"
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
};
static const gt_handler_fn handlers[] = {
    gt_h_actions_post, gt_h_action_get, gt_h_account, gt_h_head,  gt_h_blocks,     gt_h_block,
    gt_h_chain,        gt_h_blob_post,  gt_h_blob_get, gt_h_tasks, gt_h_task,       gt_h_agents,
    gt_h_agent,        gt_h_reputation, gt_h_events,   gt_h_metrics, gt_h_leaderboard, gt_h_attestation,
    gt_h_dataset,      gt_h_health,
};
static const size_t body_limits[] = {
    GT_LIMIT_JSON_BYTES, NO_BODY, NO_BODY, NO_BODY, NO_BODY, NO_BODY, NO_BODY, GT_LIMIT_BLOB_BYTES,
    NO_BODY,             NO_BODY, NO_BODY, NO_BODY, NO_BODY, NO_BODY, NO_BODY, NO_BODY,
    NO_BODY,             NO_BODY, NO_BODY, NO_BODY,
};
#define N_ROUTES (sizeof routes / sizeof routes[0])
_Static_assert(sizeof handlers / sizeof handlers[0] == N_ROUTES, "one handler per route");
_Static_assert(sizeof body_limits / sizeof body_limits[0] == N_ROUTES, "one body limit per route");
_Static_assert(N_ROUTES <= GT_METRICS_MAX_ROUTES, "metrics have room for every route");

int gt_api_n_routes(void) { return (int)N_ROUTES; }
const gt_route *gt_api_route(int i) { return i >= 0 && i < (int)N_ROUTES ? &routes[i] : NULL; }

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
    /* Messages may quote client bytes: jansson refuses invalid UTF-8, so
     * fall back to a plain description rather than an empty error. */
    json_t *m = json_string(msg);
    json_object_set_new(e, "message", m ? m : json_string("(message not valid UTF-8)"));
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

typedef struct only_ctx {
    const char *const *allowed;
    char bad[80];
} only_ctx;

/* MHD_get_connection_values callback: stops at the first key not allowed. */
static enum MHD_Result only_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    only_ctx *c = cls;
    for (const char *const *a = c->allowed; *a; a++)
        if (!strcmp(*a, key)) return MHD_YES;
    snprintf(c->bad, sizeof c->bad, "%s", key);
    return MHD_NO;
}

/* Refuses the request's query if it has a parameter not in allowed. */
int gt_req_only_query(gt_req *r, const char *const *allowed, gt_err *err) {
    only_ctx c = {allowed, ""};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, only_iter, &c);
    if (!c.bad[0]) return 0;
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
    o->body = NULL;
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)r->id);
    MHD_add_response_header(resp, "X-Request-Id", id);
    if (o->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, o->allow);
    int status = o->status ? o->status : 200;
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->responded = 1;
    r->status = status;
    return rc;
}

/* Sends an error response built from code and message. */
static enum MHD_Result send_error(gt_req *r, int status, int code, const char *msg, const char *allow) {
    gt_resp o = {0};
    gt_resp_error(&o, status, code, "%s", msg);
    o.allow = allow;
    return send_resp(r, &o);
}

/* libmicrohttpd's request callback: called once with the headers, once per
 * piece of body, once at the end (see microhttpd.h). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    gt_node *n = cls;
    gt_req *r = *con_cls;
    if (!r) {
        r = gt_calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->node = n;
        r->conn = conn;
        r->method = method;
        r->url = url;
        r->route = -1;
        r->id = atomic_fetch_add(&n->next_req_id, 1) + 1;
        r->start_us = now_us();
        *con_cls = r;
        atomic_fetch_add(&n->in_flight, 1);
        gt_err err = {0};
        /* HEAD is GET without the body (MHD drops it). */
        int idx = gt_route_find(routes, N_ROUTES, strcmp(method, "HEAD") ? method : "GET", url, &r->m, &err);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        int has_body = (cl && strcmp(cl, "0")) || te;
        if (idx < 0) {
            r->early_status = idx == GT_ROUTE_BAD_METHOD ? 405 : idx == GT_ROUTE_BAD_PATH ? 414 : 404;
            r->early_code = idx == GT_ROUTE_BAD_METHOD ? GT_EUNSUPPORTED : idx == GT_ROUTE_BAD_PATH ? GT_ELIMIT
                                                                                                   : GT_ENOTFOUND;
            snprintf(r->early_msg, sizeof r->early_msg, "%s", err.msg);
            /* With a body coming, answer now and let MHD drop the body and
             * the connection; without one, answer at the end of the request
             * so the connection stays open for the next. */
            if (has_body) return send_error(r, r->early_status, r->early_code, r->early_msg, r->m.allow[0] ? r->m.allow : NULL);
            return MHD_YES;
        }
        r->route = idx;
        r->body_limit = body_limits[idx];
        if (cl) {
            char *end;
            unsigned long long len = strtoull(cl, &end, 10);
            if (r->body_limit == NO_BODY && len > 0) {
                char msg[160];
                snprintf(msg, sizeof msg, "%s %s takes no request body", method, routes[idx].pattern);
                return send_error(r, 400, GT_EINVAL, msg, NULL);
            }
            if (len > r->body_limit) {
                char msg[160];
                snprintf(msg, sizeof msg, "request body of %llu bytes is over this route's limit of %zu bytes",
                         len, r->body_limit);
                return send_error(r, 413, GT_ELIMIT, msg, NULL);
            }
            /* Reserve once: the body then arrives without reallocations. */
            if (len && gt_buf_reserve(&r->body, (size_t)len + 1)) return MHD_NO;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t sz = *upload_data_size;
        *upload_data_size = 0;
        if (r->responded) return MHD_YES;
        if (r->too_big || r->body.len + sz > r->body_limit) {
            r->too_big = 1;
            r->discarded = r->discarded + sz < r->discarded ? SIZE_MAX : r->discarded + sz;
            return r->discarded > GT_API_DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        return gt_buf_append(&r->body, upload_data, sz) ? MHD_NO : MHD_YES;
    }
    if (r->responded) return MHD_YES;
    if (r->early_status)
        return send_error(r, r->early_status, r->early_code, r->early_msg, r->m.allow[0] ? r->m.allow : NULL);
    if (r->too_big) {
        char msg[160];
        if (r->body_limit == NO_BODY)
            snprintf(msg, sizeof msg, "%s %s takes no request body", method, routes[r->route].pattern);
        else
            snprintf(msg, sizeof msg, "request body is over this route's limit of %zu bytes", r->body_limit);
        return send_error(r, r->body_limit == NO_BODY ? 400 : 413, r->body_limit == NO_BODY ? GT_EINVAL : GT_ELIMIT,
                          msg, NULL);
    }
    gt_resp o = {0};
    handlers[r->route](r, &o);
    if (r->rd) {
        gt_node_reader_put(n, r->rd);
        r->rd = NULL;
    }
    if (o.raw && !r->is_stream) r->is_stream = 1;
    if (r->is_stream) atomic_fetch_sub(&n->in_flight, 1); /* streams do not hold up a stop */
    return send_resp(r, &o);
}

/* Called by MHD when a request is done (sent, failed or cut): metrics, the
 * access log line, and freeing the request. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    gt_node *n = cls;
    gt_req *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    uint64_t us = now_us() - r->start_us;
    int status = r->responded ? r->status : 0;
    gt_metrics_request(&n->metrics, r->route, status, us);
    if (n->cfg.access_log)
        GT_INFO("req=%llu %s %s -> %d %.2fms%s", (unsigned long long)r->id, r->method, r->url, status,
                (double)us / 1000.0, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (cut)");
    if (r->rd) gt_node_reader_put(n, r->rd);
    gt_buf_free(&r->body);
    if (!r->is_stream) atomic_fetch_sub(&n->in_flight, 1);
    gt_free(r);
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
    else flags |= MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, n}, /* first, or MHD warns */
        {MHD_OPTION_LISTEN_SOCKET, lfd, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, n->cfg.max_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, n->cfg.timeout_s, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, n},
        /* A pool of 1 is MHD's single internal thread (it refuses the option). */
        {n->cfg.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, n->cfg.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    n->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, n, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!n->mhd) {
        close(lfd);
        return gt_err_set(err, GT_EIO, "cannot start the HTTP server on %s (see the log above)", n->cfg.listen);
    }
    n->port = ntohs(bound.sin_port);
    return 0;
}

/* Graceful stop of the HTTP side; see api.h, gt_node_stop. No request runs
 * once it returns. */
void gt_http_stop(gt_node *n) {
    if (!n->mhd) return;
    /* 1. Stop accepting: new connections are refused from here on. */
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
    if (atomic_load(&n->in_flight) > 0)
        GT_WARN("node: stopping with %d request(s) still in flight", atomic_load(&n->in_flight));
    /* 4. Close idle keep-alive connections and join MHD's threads. */
    MHD_stop_daemon(n->mhd);
    if (lsock != MHD_INVALID_SOCKET) close(lsock);
    n->mhd = NULL;
}
