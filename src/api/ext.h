/* ext.h: routes an upper layer adds to the node's port (the extension
 * point). The api layer sits below serve, so it cannot call the model
 * server; instead `gotong node -m MODEL` (cli_node.c) asks serve for one of
 * these and hands it to gt_node_start in gt_node_config.ext.
 *
 * The node keeps what it owns: its own routes come first (an extension
 * cannot shadow /health, /metrics or the market API), a connection over the
 * node's limits is told 429 before the extension sees it, a body still
 * arriving after request_max_s is cut, and every request is counted in
 * /metrics under the extension's route pattern and in the access log. A
 * matched request is then the extension's: its MHD callback gets every call
 * of the request (headers, body pieces, end) with a context of its own, and
 * its completion callback the end; it reads its body under its own limits
 * and queues its own response. Its part of GET /health comes from health().
 *
 * An extension's handlers may block (a request waits for a model), so the
 * node refuses one unless it runs a thread per connection (threads 0).
 *
 * It queues every answer through gt_api_ext_respond, so its answers are the
 * node's: they carry the node's X-Request-Id (the client's when valid, else
 * the node's own, as for the node's routes), and a route HOME/x402.json
 * prices is paid before the extension sees the request (a request without a
 * valid payment is answered 402 by the node) and settled as its answer goes
 * out (api/x402.h). */
#ifndef GT_API_EXT_H
#define GT_API_EXT_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "api/route.h"

typedef struct gt_api_ext {
    const gt_route *routes;   /* what it answers (method + pattern), after the node's own */
    size_t n_routes;
    void *cls;                /* its state, passed to each callback */
    /* MHD's request callback for a matched request; *con_cls is the
     * extension's own, NULL on the first call. */
    MHD_AccessHandlerCallback on_request;
    /* The request is done: frees what on_request made in *con_cls and
     * returns the HTTP status it answered (0: none, cut). */
    int (*on_completed)(void *cls, void **con_cls, enum MHD_RequestTerminationCode toe);
    const char *health_key;   /* its member of GET /health ("model") */
    json_t *(*health)(void *cls); /* a new reference, or NULL (left out) */
} gt_api_ext;

/* Queues the extension's answer resp with status on conn (the connection
 * of a request the node handed it): adds the node's X-Request-Id; on a paid
 * route settles a 2xx answer and adds PAYMENT-RESPONSE, or, when the
 * settlement fails, sends the node's 402 instead of resp (which the caller
 * destroys either way, as after MHD_queue_response). */
enum MHD_Result gt_api_ext_respond(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp);
/* The same for a stream's head (status and headers, its body to come from
 * resp's reader): a paid 2xx stream is not settled now but by how it ends:
 * by gt_api_ext_settle from the reader (its normal end, a lagging client,
 * its window's end near), released by gt_api_ext_release (the server's
 * fault), or, left neither, settled when its request completes (its client
 * left) unless the node is stopping (api/x402.h). */
enum MHD_Result gt_api_ext_respond_stream(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp);
/* From a stream's reader once it ended normally (its text buffered), its
 * client was cancelled for not reading, or its payment is due by its window
 * (gt_api_ext_settle_due): settles its payment, once. 0 to go on, *hdr
 * (gt_free) its PAYMENT-RESPONSE to put in its last chunk (NULL: nothing
 * left to settle, or no receipt made); 1 when the settlement failed,
 * nothing charged, why (cap bytes) saying why: the stream ends with an
 * error instead. */
int gt_api_ext_settle(struct MHD_Connection *conn, char **hdr, char *why, size_t cap);
/* From a stream's reader: 1 when its payment, not yet settled, must be
 * settled now (its window nears its end: api/x402.h). */
int gt_api_ext_settle_due(struct MHD_Connection *conn);
/* From a stream's reader as it ends by the server's fault (an engine
 * error, an answer it cannot build): its payment is released unsettled,
 * nothing charged. A stream's payment neither settled nor released when
 * its request completes is settled (its client left: hung up, reset)
 * unless the node is stopping (api/x402.h). */
void gt_api_ext_release(struct MHD_Connection *conn);

/* Checks that a request's body has one framing only, from every header line
 * (MHD_lookup_connection_value sees only the first of a repeated header): not
 * two Content-Length lines (MHD reads the first), not a Content-Length beside
 * a Transfer-Encoding, not two Transfer-Encoding lines (400), and no coding
 * but chunked (501; MHD would wait for such a body until its idle timeout).
 * Returns 0, or the status to refuse with, msg (cap bytes) saying why. The
 * node checks its own requests and an extension's before routing; a server
 * of its own (gotong serve) calls it from its first call of a request. */
int gt_api_framing_check(struct MHD_Connection *conn, char *msg, size_t cap);

/* Refuses a write a browser sends on behalf of another site's page: a
 * method other than GET and HEAD whose Sec-Fetch-Site is neither
 * same-origin nor none, or, from a browser that sends no Sec-Fetch-Site,
 * whose Origin is not http(s)://HOST of the request's Host ("null"
 * included). A request with neither header (not a browser's) passes.
 * Returns 0, or 403 with msg (cap bytes) naming what was sent and what is
 * taken. The node checks its own requests and an extension's before
 * routing; gotong serve calls it from its first call of a request. */
int gt_api_cross_origin_check(struct MHD_Connection *conn, const char *method, char *msg, size_t cap);

/* Refuses a request whose Host names a host this server was not told it
 * is (DNS rebinding: a site whose name an attacker points at 127.0.0.1
 * makes its page same-origin with a local node, so the cross-origin check
 * passes, and the page reads the node's answers and spends a model's
 * compute). Taken: no Host (not a browser's request), an IP address
 * (v4, or v6 in brackets), localhost and names under .localhost (browsers
 * resolve those to the loopback themselves), and the names in allow
 * (comma-separated, case-insensitive; "*" takes any; NULL: none more).
 * Returns 0, or 403 with msg (cap bytes) naming the Host and the option
 * that would take it. For every method: a read is what rebinding is for. */
int gt_api_host_check(struct MHD_Connection *conn, const char *allow, const char *option, char *msg, size_t cap);

/* Marks an answer for browsers: X-Content-Type-Options: nosniff, and,
 * unless it has a policy of its own (a dashboard file's), the
 * Content-Security-Policy "default-src 'none'; frame-ancestors 'none';
 * sandbox": a blob, a label export or a JSON error that reflects the URL is
 * never read as a page of the node's origin, run or framed. The node calls
 * it on every answer it queues, an extension's included; gotong serve on
 * its own. */
void gt_api_guard_headers(struct MHD_Response *resp);

/* The node's table holds this many routes at most beside an extension's. */
#define GT_API_EXT_MAX_ROUTES 16

#endif
