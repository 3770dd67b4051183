/* serve.c: the server's lifecycle and libmicrohttpd's request callback:
 * routing (api/route.h's matcher), request bodies read under a limit,
 * dispatch, OpenAI error bodies, the access log.
 *
 * MHD runs a thread per connection: a handler waits for its job, which the
 * batcher thread (batch.c) runs in the shared batch, and a stream's reader
 * waits inside MHD's callback, blocking that connection's thread only.
 * Embeddings use a second, one-sequence context, handed from request to
 * request by gt_serve_acquire/release (a flag under a mutex); while it is
 * held no new job is admitted to the batch. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/alloc.h"
#include "base/log.h"
#include "serve/serve_impl.h"

/* Grace for requests in flight at stop. */
#define GT_SERVE_STOP_GRACE_MS 5000
/* A chunked body over its limit is read and dropped up to this many bytes
 * past it, so its 413 can still be delivered (MHD cannot answer in the
 * middle of a body); beyond that the connection is cut (as api/http.c). */
#define GT_SERVE_DISCARD_MAX (1024 * 1024)

static const gt_route routes[] = {
    {"GET", "/health", 0},         {"GET", "/v1/models", 1},
    {"GET", "/v1/models/{}", 2},   {"POST", "/v1/completions", 3},
    {"POST", "/v1/chat/completions", 4}, {"POST", "/v1/embeddings", 5},
};
typedef void (*handler_fn)(gt_serve *, gt_serve_req *, gt_serve_resp *);
static const handler_fn handlers[] = {gt_serve_h_health, gt_serve_h_models, gt_serve_h_model,
                                      gt_serve_h_completions, gt_serve_h_chat,
                                      gt_serve_h_embeddings};
static const size_t body_limits[] = {0, 0, 0, GT_SERVE_MAX_BODY_BYTES, GT_SERVE_MAX_BODY_BYTES,
                                     GT_SERVE_MAX_BODY_BYTES};
#define N_ROUTES (sizeof routes / sizeof routes[0])
_Static_assert(sizeof handlers / sizeof handlers[0] == N_ROUTES, "one handler per route");
_Static_assert(sizeof body_limits / sizeof body_limits[0] == N_ROUTES, "one limit per route");

gt_serve_config gt_serve_defaults(void) {
    gt_serve_config c = {.listen = "127.0.0.1:8080", .n_threads = 1, .max_queue = GT_SERVE_DEFAULT_QUEUE};
    return c;
}

uint16_t gt_serve_port(const gt_serve *s) { return s->port; }
const char *gt_serve_model_id(const gt_serve *s) { return s->model_id; }

void gt_serve_acquire(gt_serve *s) {
    pthread_mutex_lock(&s->mu);
    while (s->busy) pthread_cond_wait(&s->cv, &s->mu);
    s->busy = 1;
    pthread_mutex_unlock(&s->mu);
}

int gt_serve_enter(gt_serve *s, gt_serve_error *e) {
    pthread_mutex_lock(&s->mu);
    if (s->busy && s->waiting + gt_serve_queued(s) >= s->cfg.max_queue) {
        s->n_rejected++;
        int waiting = s->waiting + gt_serve_queued(s);
        pthread_mutex_unlock(&s->mu);
        gt_serve_fail(e, 429, NULL, "rate_limit_exceeded",
                      "the server is busy: the model is held and %d requests are waiting (the most it queues, "
                      "--max-queue); retry after %d s", waiting, GT_SERVE_RETRY_AFTER_S);
        e->type = "requests";
        return -1;
    }
    s->waiting++;
    while (s->busy) pthread_cond_wait(&s->cv, &s->mu);
    s->waiting--;
    s->busy = 1;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* Sends peer its one interim 100 (Continue), once nothing of an earlier
 * answer waits unsent (so the 25 bytes go whole, never cut into another
 * answer): 1 when the send found the connection already reset. */
static int probe(gt_serve_peer *peer) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    int queued = 0;
    if (ioctl(peer->fd, SIOCOUTQ, &queued) != 0 || queued != 0) return 0; /* not yet: looked at again later */
    peer->probe = 0;
    ssize_t n = send(peer->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    return n < 0 && (errno == EPIPE || errno == ECONNRESET);
}

int gt_serve_client_gone(gt_serve_peer *peer) {
    if (!peer || peer->fd < 0) return 0;
    struct pollfd q = {.fd = peer->fd, .events = POLLIN};
    if (poll(&q, 1, 0) <= 0) return 0;
    if (q.revents & (POLLHUP | POLLERR | POLLNVAL)) return 1; /* reset (or shut both ways, as the reaper does) */
    char c;
    ssize_t n = recv(peer->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    /* An EOF: half-closed, or closed. Only the probe's answer tells them
     * apart; an HTTP/1.0 client, which has no probe, counts as closed. */
    if (n == 0 && peer->eof_gone) return 1;
    return n == 0 && peer->probe && probe(peer);
}

uint64_t gt_serve_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void gt_serve_note_cancel(const char *id, int n_gen) {
    GT_INFO("serve: %s cancelled after %d generated tokens: the client went away", id, n_gen);
}

int gt_serve_held_gone(gt_serve *s, gt_serve_peer *peer, const char *what) {
    if (!gt_serve_client_gone(peer)) return 0;
    pthread_mutex_lock(&s->mu);
    assert(s->busy); /* counted while it still holds the model: /health never shows it done and not counted */
    s->n_cancelled++;
    pthread_mutex_unlock(&s->mu);
    GT_INFO("serve: %s stopped: the client went away", what);
    return 1;
}

gt_ctx *gt_serve_ctx(gt_serve *s, gt_err *err) {
    pthread_mutex_lock(&s->lazy_mu);
    gt_ctx_params cp = {.n_ctx = s->cfg.n_ctx, .n_threads = s->cfg.n_threads};
    if (!s->ctx && gt_ctx_new(s->model, &cp, &s->ctx, err) == 0)
        GT_INFO("serve: the one-sequence context (embeddings, prompt scoring) is made (%d positions)",
                gt_ctx_n_ctx(s->ctx));
    gt_ctx *c = s->ctx;
    pthread_mutex_unlock(&s->lazy_mu);
    return c;
}

int gt_serve_gvocab(gt_serve *s, const gt_gvocab **out, gt_err *err) {
    pthread_mutex_lock(&s->lazy_mu);
    int rc = 0;
    if (!s->gvocab && !(rc = gt_gvocab_new(s->tok, gt_model_hparams(s->model)->n_vocab, &s->gvocab, err)))
        GT_INFO("serve: the vocabulary's grammar index is made: %d trie nodes", gt_gvocab_nodes(s->gvocab));
    *out = s->gvocab;
    pthread_mutex_unlock(&s->lazy_mu);
    return rc;
}

void gt_serve_release(gt_serve *s) {
    pthread_mutex_lock(&s->mu);
    assert(s->busy);
    s->busy = 0;
    pthread_cond_signal(&s->cv);
    pthread_cond_signal(&s->bcv); /* jobs may be admitted again */
    pthread_mutex_unlock(&s->mu);
}

void gt_serve_resp_error(gt_serve_resp *o, const gt_serve_error *e) {
    json_decref(o->json);
    o->status = e->status;
    o->json = gt_serve_error_json(e);
}

/* Queues o (JSON or a stream) on the connection. */
static enum MHD_Result send_resp(gt_serve_req *r, struct MHD_Connection *conn, gt_serve_resp *o) {
    struct MHD_Response *resp = o->raw;
    if (!resp) {
        char *s = o->json ? json_dumps(o->json, JSON_COMPACT) : NULL;
        json_decref(o->json);
        o->json = NULL;
        if (!s) {
            o->status = 500;
            s = strdup("{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\",\"param\":null,\"code\":null}}");
            if (!s) return MHD_NO;
        }
        resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
            free(s);
            return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    }
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)r->id);
    if (!r->on_node) MHD_add_response_header(resp, "X-Request-Id", id); /* on a node: the node's id */
    if (!r->on_node) gt_api_guard_headers(resp);                          /* on a node: the node marks it */
    if (o->close) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (o->status == 405 && r->m.allow[0]) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->m.allow);
    if (o->status == 429) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", GT_SERVE_RETRY_AFTER_S);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    int status = o->status ? o->status : 200;
    /* On a node the node sends it: its request id, and a paid route's settlement (api/ext.h). */
    enum MHD_Result rc = !r->on_node ? MHD_queue_response(conn, (unsigned)status, resp)
                         : o->stream ? gt_api_ext_respond_stream(conn, (unsigned)status, resp)
                                     : gt_api_ext_respond(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->responded = 1;
    r->status = status;
    return rc;
}

static enum MHD_Result send_error(gt_serve_req *r, struct MHD_Connection *conn, const gt_serve_error *e) {
    gt_serve_resp o = {0};
    gt_serve_resp_error(&o, e);
    return send_resp(r, conn, &o);
}

/* First call of a request: check the body's framing, route it and check
 * what the headers say of the body. Returns MHD_YES to go on (r->has_early may be set). */
static enum MHD_Result on_headers(gt_serve *s, gt_serve_req *r, struct MHD_Connection *conn, const char *url,
                                  const char *method) {
    gt_err err = {0};
    gt_conn *c = r->on_node ? NULL : gt_conns_of(conn);
    if (!r->on_node && (!c || c->over)) { /* on a node's port the node has told it already */
        gt_serve_error e;
        gt_serve_fail(&e, 429, NULL, "rate_limit_exceeded", "too many open connections (at most %d, and %d from one "
                      "address); close some and retry", GT_SERVE_MAX_CONNECTIONS, GT_SERVE_MAX_CONNECTIONS_PER_IP);
        e.type = "requests";
        gt_serve_resp o = {.close = 1};
        gt_serve_resp_error(&o, &e);
        return send_resp(r, conn, &o);
    }
    char why[GT_ERR_MSG_MAX];
    int framing_status = gt_api_framing_check(conn, why, sizeof why);
    if (framing_status) { /* answered at once: MHD closes the connection, never reading the body */
        gt_serve_error e;
        gt_serve_fail(&e, framing_status, NULL, "invalid_request", "%s", why);
        return send_error(r, conn, &e);
    }
    /* Another site's page must not spend this server's compute through a visitor's browser, nor read it by a
     * name pointed at this address (DNS rebinding); a node checked both. */
    if (!r->on_node && (gt_api_host_check(conn, s->cfg.allow_hosts, "--allow-host", why, sizeof why) ||
                        gt_api_cross_origin_check(conn, method, why, sizeof why))) {
        gt_serve_error e;
        gt_serve_fail(&e, 403, NULL, "cross_origin", "%s", why);
        return send_error(r, conn, &e);
    }
    int idx = gt_route_find(routes, N_ROUTES, strcmp(method, "HEAD") ? method : "GET", url, &r->m, &err);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    int has_body = (cl && strcmp(cl, "0")) || te;
    if (idx < 0) {
        r->has_early = 1;
        if (idx == GT_ROUTE_BAD_METHOD)
            gt_serve_fail(&r->early, 405, NULL, "method_not_allowed", "%s %s: this path takes %s", method, url, r->m.allow);
        else if (idx == GT_ROUTE_BAD_PATH)
            gt_serve_fail(&r->early, 414, NULL, "invalid_path", "%s", err.msg);
        else
            gt_serve_fail(&r->early, 404, NULL, "not_found",
                          "no route %s %.200s; routes: GET /health, GET /v1/models, POST /v1/completions, "
                          "POST /v1/chat/completions, POST /v1/embeddings", method, url);
        return has_body ? send_error(r, conn, &r->early) : MHD_YES;
    }
    r->route = idx;
    if (cl) {
        unsigned long long len = strtoull(cl, NULL, 10);
        if (len > body_limits[idx]) {
            gt_serve_error e;
            if (body_limits[idx] == 0) gt_serve_fail(&e, 400, NULL, "invalid_request", "%s %s takes no request body", method, url);
            else gt_serve_fail(&e, 413, NULL, "request_too_large", "request body of %llu bytes is over the limit of %zu bytes",
                               len, body_limits[idx]);
            return send_error(r, conn, &e);
        }
        if (len && gt_buf_reserve(&r->body, (size_t)len + 1)) return MHD_NO;
    }
    (void)s;
    return MHD_YES;
}

/* The answer to a chunked body found over its route's limit once all in:
 * what a Content-Length over it gets from the headers (on_headers). */
static enum MHD_Result send_too_big(gt_serve_req *r, struct MHD_Connection *conn, const char *method,
                                    const char *url) {
    gt_serve_error e;
    size_t limit = body_limits[r->route];
    if (limit == 0) gt_serve_fail(&e, 400, NULL, "invalid_request", "%s %s takes no request body", method, url);
    else gt_serve_fail(&e, 413, NULL, "request_too_large", "request body is over the limit of %zu bytes", limit);
    return send_error(r, conn, &e);
}

/* MHD's request callback, on our port (on_node 0) or a node's: headers,
 * then body pieces, then the end. */
static enum MHD_Result serve_request(gt_serve *s, int on_node, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version, const char *upload_data,
                                     size_t *upload_data_size, void **con_cls) {
    gt_serve_req *r = *con_cls;
    if (!r) {
        r = gt_calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->srv = s;
        r->on_node = on_node;
        r->conn = conn;
        r->route = -1;
        r->id = atomic_fetch_add(&s->next_id, 1) + 1;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        r->peer.fd = ci ? (int)ci->connect_fd : -1;
        /* An HTTP/1.0 client may not be sent an interim answer (RFC 9110 15.2). */
        r->peer.probe = version && !strcmp(version, MHD_HTTP_VERSION_1_1);
        r->peer.eof_gone = version && !strcmp(version, MHD_HTTP_VERSION_1_0);
        *con_cls = r;
        atomic_fetch_add(&s->in_flight, 1);
        return on_headers(s, r, conn, url, method);
    }
    if (*upload_data_size) {
        size_t sz = *upload_data_size;
        *upload_data_size = 0;
        if (r->responded || r->has_early) return MHD_YES;
        if (r->too_big || r->body.len + sz > body_limits[r->route]) { /* chunked: no length said up front */
            r->too_big = 1;
            r->discarded = r->discarded + sz < r->discarded ? SIZE_MAX : r->discarded + sz;
            return r->discarded > GT_SERVE_DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        return gt_buf_append(&r->body, upload_data, sz) ? MHD_NO : MHD_YES;
    }
    if (!on_node) gt_conns_reading(conn, 0); /* all in: the reaper leaves it be (a generation may take long) */
    if (r->responded) return MHD_YES;
    if (r->has_early) return send_error(r, conn, &r->early);
    if (r->too_big) return send_too_big(r, conn, method, url);
    gt_serve_resp o = {0};
    handlers[r->route](s, r, &o);
    return send_resp(r, conn, &o);
}

/* MHD's request callback on our own port. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    return serve_request(cls, 0, conn, url, method, version, upload_data, upload_data_size, con_cls);
}

/* Called by MHD when a request is done: the access log, freeing it. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    gt_serve *s = cls;
    gt_serve_req *r = *con_cls;
    if (conn) gt_conns_reading(conn, 1); /* on our port: the next request is timed from now */
    if (!r) return;
    *con_cls = NULL;
    if (s->cfg.access_log)
        GT_INFO("serve: req=%llu route=%d -> %d%s", (unsigned long long)r->id, r->route, r->responded ? r->status : 0,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (cut)");
    gt_buf_free(&r->body);
    atomic_fetch_sub(&s->in_flight, 1);
    gt_free(r);
}

/* MHD's error log, into ours at info level (mostly clients hanging up). */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t len = strlen(msg);
    while (len && msg[len - 1] == '\n') msg[--len] = 0;
    GT_INFO("serve: http: %s", msg);
}

/* Parses "A.B.C.D:PORT", binds and listens; returns the socket or -1. */
static int listen_on(const char *listen_s, gt_err *err) {
    const char *colon = strrchr(listen_s, ':');
    char host[64];
    uint64_t port;
    struct sockaddr_in addr = {.sin_family = AF_INET};
    if (!colon || (size_t)(colon - listen_s) >= sizeof host) {
        gt_err_set(err, GT_EINVAL, "--listen: expected HOST:PORT such as 127.0.0.1:8080, got \"%.80s\"", listen_s);
        return -1;
    }
    memcpy(host, listen_s, (size_t)(colon - listen_s));
    host[colon - listen_s] = 0;
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        gt_err_set(err, GT_EINVAL, "--listen: \"%s\" is not an IPv4 address such as 127.0.0.1", host);
        return -1;
    }
    if (gt_parse_u64(colon + 1, "--listen port", 0, 65535, &port, err)) return -1;
    addr.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0) {
        gt_err_set(err, GT_EIO, "cannot open a socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) || listen(fd, SOMAXCONN)) {
        gt_err_set(err, GT_EIO, "cannot listen on %s: %s", listen_s, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The model's name: the file name without its directory and ".gguf". */
static void default_model_id(const char *path, char *out, size_t cap) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".gguf")) n -= 5;
    snprintf(out, cap, "%.*s", (int)n, base);
}

/* Hashes the model file (its id for agents, /v1/models' "sha256"), loads
 * the model, its tokenizer, the chat template and the batch. */
static int load(gt_serve *s, gt_err *err) {
    int rc = gt_agent_file_id(s->cfg.model_path, s->model_sha256, err);
    if (!rc) rc = gt_model_load(s->cfg.model_path, &s->model, err);
    if (!rc) rc = gt_tokenizer_load(gt_model_gguf(s->model), &s->tok, err);
    if (rc) return rc;
    if ((rc = gt_serve_template_load(s, err))) return rc;
    return gt_serve_batch_start(s, err); /* the embeddings' context comes on first use (gt_serve_ctx) */
}

/* Checks c's settings from outside (the CLI's options) before anything is
 * loaded; 0 or GT_EINVAL naming the setting. */
static int check_config(const gt_serve_config *c, gt_err *err) {
    if (!c->model_path) return gt_err_set(err, GT_EINVAL, "no model: give -m MODEL.gguf");
    if (c->n_threads < 1 || c->n_threads > 1024) return gt_err_set(err, GT_EINVAL, "--threads: expected 1..1024, got %d", c->n_threads);
    if (c->model_id && (!c->model_id[0] || strlen(c->model_id) > GT_SERVE_MAX_MODEL_ID))
        return gt_err_set(err, GT_EINVAL, "--alias: expected 1..%d bytes", GT_SERVE_MAX_MODEL_ID);
    if (c->max_queue < 0 || c->max_queue > GT_SERVE_MAX_QUEUE)
        return gt_err_set(err, GT_EINVAL, "--max-queue: expected 0..%d, got %d", GT_SERVE_MAX_QUEUE, c->max_queue);
    if (c->n_parallel < 0 || c->n_parallel > GT_SERVE_MAX_PARALLEL)
        return gt_err_set(err, GT_EINVAL, "--parallel: expected 1..%d, got %d", GT_SERVE_MAX_PARALLEL, c->n_parallel);
    if (c->stream_lag_tokens < 0 || c->stream_lag_tokens > GT_SERVE_MAX_STREAM_LAG)
        return gt_err_set(err, GT_EINVAL, "--stream-lag-tokens: expected 1..%d, got %d", GT_SERVE_MAX_STREAM_LAG,
                          c->stream_lag_tokens);
    if (c->stream_idle_ms < 0 || c->stream_idle_ms > GT_SERVE_MAX_STREAM_IDLE_MS)
        return gt_err_set(err, GT_EINVAL, "--stream-idle-ms: expected 1..%d, got %d", GT_SERVE_MAX_STREAM_IDLE_MS,
                          c->stream_idle_ms);
    if (c->stream_sndbuf_bytes < 0 || c->stream_sndbuf_bytes > GT_SERVE_MAX_STREAM_SNDBUF)
        return gt_err_set(err, GT_EINVAL, "stream send buffer: expected 0..%d bytes, got %d",
                          GT_SERVE_MAX_STREAM_SNDBUF, c->stream_sndbuf_bytes);
    if (c->max_prompt_tokens < 0 || c->max_output_tokens < 0)
        return gt_err_set(err, GT_EINVAL, "--max-prompt-tokens, --max-output-tokens: expected 0 (no limit) or more");
    return 0;
}

int gt_serve_open(const gt_serve_config *c, gt_serve **out, gt_err *err) {
    *out = NULL;
    int rc = check_config(c, err);
    if (rc) return rc;
    gt_serve *s = gt_calloc(1, sizeof *s);
    if (!s) return gt_err_set(err, GT_ENOMEM, "out of memory");
    s->cfg = *c;
    if (!s->cfg.max_queue) s->cfg.max_queue = GT_SERVE_DEFAULT_QUEUE;
    if (!s->cfg.stream_lag_tokens) s->cfg.stream_lag_tokens = GT_SERVE_DEFAULT_STREAM_LAG;
    if (!s->cfg.stream_idle_ms) s->cfg.stream_idle_ms = GT_SERVE_DEFAULT_STREAM_IDLE_MS;
    if (!s->cfg.stream_sndbuf_bytes) s->cfg.stream_sndbuf_bytes = GT_SERVE_STREAM_SNDBUF;
    snprintf(s->listen, sizeof s->listen, "%s", c->listen ? c->listen : "127.0.0.1:8080");
    s->cfg.listen = s->listen;
    if (c->model_id) snprintf(s->model_id, sizeof s->model_id, "%s", c->model_id);
    else default_model_id(c->model_path, s->model_id, sizeof s->model_id);
    s->cfg.model_id = s->model_id;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->lazy_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->bcv, NULL);
    pthread_cond_init(&s->pcv, NULL);
    pthread_cond_init(&s->lcv, NULL);
    s->created = (uint64_t)time(NULL);
    if ((rc = load(s, err))) {
        gt_serve_stop(s);
        return rc;
    }
    *out = s;
    return 0;
}

int gt_serve_start(const gt_serve_config *c, gt_serve **out, gt_err *err) {
    gt_serve *s;
    int rc = gt_serve_open(c, &s, err);
    if (rc) return rc;
    int lfd = listen_on(s->listen, err);
    if (lfd < 0) {
        gt_serve_stop(s);
        return err ? err->code : GT_EIO;
    }
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    getsockname(lfd, (struct sockaddr *)&bound, &blen);
    s->port = ntohs(bound.sin_port);
    unsigned request_max_s = c->request_max_s > 0 ? (unsigned)c->request_max_s : GT_SERVE_REQUEST_MAX_S;
    if (gt_conns_start(&s->conns, GT_SERVE_MAX_CONNECTIONS, GT_SERVE_MAX_CONNECTIONS_PER_IP, request_max_s, err)) {
        close(lfd);
        gt_serve_stop(s);
        return GT_ENOMEM;
    }
    s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG |
                                  MHD_USE_ITC,
                              0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_LISTEN_SOCKET, lfd,
                              MHD_OPTION_CONNECTION_LIMIT, gt_conns_cap(GT_SERVE_MAX_CONNECTIONS),
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)GT_SERVE_TIMEOUT_S,
                              MHD_OPTION_NOTIFY_CONNECTION, gt_conns_notify, &s->conns,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->mhd) {
        close(lfd);
        gt_serve_stop(s);
        return gt_err_set(err, GT_EIO, "cannot start the HTTP server on %s", c->listen);
    }
    *out = s;
    return 0;
}

/* ---- On the node's port (api/ext.h): every route of ours but /health,
 * which the node answers with ours inside it. */

/* ext's completion callback: on_completed, returning the status sent. */
static int ext_completed(void *cls, void **con_cls, enum MHD_RequestTerminationCode toe) {
    gt_serve_req *r = *con_cls;
    int status = r && r->responded ? r->status : 0;
    on_completed(cls, NULL, con_cls, toe);
    return status;
}

static json_t *ext_health(void *cls) { return gt_serve_health_json(cls); }

/* ext's request callback: the same, with answers sent through the node. */
static enum MHD_Result ext_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                   const char *version, const char *upload_data, size_t *upload_data_size,
                                   void **con_cls) {
    return serve_request(cls, 1, conn, url, method, version, upload_data, upload_data_size, con_cls);
}

const gt_api_ext *gt_serve_ext(gt_serve *s) {
    assert(!strcmp(routes[0].pattern, "/health"));
    s->ext = (gt_api_ext){.routes = routes + 1, .n_routes = N_ROUTES - 1, .cls = s, .on_request = ext_request,
                          .on_completed = ext_completed, .health_key = "model", .health = ext_health};
    return &s->ext;
}

void gt_serve_stop(gt_serve *s) {
    if (!s) return;
    if (s->mhd) {
        MHD_socket lsock = MHD_quiesce_daemon(s->mhd);
        if (lsock != MHD_INVALID_SOCKET) shutdown(lsock, SHUT_RDWR);
        for (int waited_ms = 0; atomic_load(&s->in_flight) > 0 && waited_ms < GT_SERVE_STOP_GRACE_MS; waited_ms += 5) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        MHD_stop_daemon(s->mhd);
        if (lsock != MHD_INVALID_SOCKET) close(lsock);
    }
    gt_conns_stop(&s->conns); /* after MHD: no notification comes any more */
    gt_serve_batch_stop(s);
    gt_ctx_free(s->ctx);
    gt_chat_prompt_free(s->prompt); /* borrows tmpl */
    gt_chat_tmpl_free(s->tmpl);
    gt_tokenizer_free(s->tok);
    gt_model_free(s->model);
    gt_gvocab_free(s->gvocab);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->lazy_mu);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->bcv);
    pthread_cond_destroy(&s->pcv);
    pthread_cond_destroy(&s->lcv);
    gt_free(s);
}
