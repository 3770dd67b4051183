/* guard.c: what a browser must not do in the node's name or with its
 * answers (api/ext.h: gt_api_cross_origin_check, gt_api_guard_headers).
 *
 * The node has no sessions or cookies: a write is authorised by its
 * signature. Yet a page of any site a user visits can still send the user's
 * browser at a node it reaches and the site does not (one on 127.0.0.1): a
 * form or a no-cors fetch POSTs a text/plain body with no preflight, so the
 * site could submit actions it signed into that node's ledger, or make a
 * node serving a model (-m) spend its compute, blind but effective. Browsers
 * say where such a request comes from (Origin, Sec-Fetch-Site); clients that
 * are not browsers (the CLI, agents, curl) send neither and are not
 * concerned.
 *
 * Every answer is also marked so that a browser neither guesses its type
 * (a blob or a label export read as HTML) nor runs it as a page of the
 * node's origin, whose storage holds the labellers' unrevealed openings. */
#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/ext.h"

/* The policy of every answer that is not a dashboard file: nothing loads,
 * nothing frames it, and a document made of it is sandboxed (an opaque
 * origin, no script), whatever a browser takes it for. */
static const char guard_csp[] = "default-src 'none'; frame-ancestors 'none'; sandbox";

/* Whether origin (an Origin header: scheme://host[:port], or "null") names
 * the authority host (a Host header). Only http and https are taken: the
 * scheme may differ behind a proxy that ends TLS, the authority may not. */
static int guard_same_authority(const char *origin, const char *host) {
    assert(origin && host);
    const char *rest = NULL;
    if (!strncasecmp(origin, "http://", 7)) rest = origin + 7;
    else if (!strncasecmp(origin, "https://", 8)) rest = origin + 8;
    return rest && rest[0] && !strcasecmp(rest, host);
}

/* See api/ext.h. Sec-Fetch-Site, which a page cannot set, decides when the
 * browser sent it (a proxy that rewrites Host cannot mislead it); else the
 * Origin, when there is one, must name the Host the request was sent to. */
int gt_api_cross_origin_check(struct MHD_Connection *conn, const char *method, char *msg, size_t cap) {
    assert(conn && method && msg && cap > 0);
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) return 0;
    const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (site && (!strcasecmp(site, "same-origin") || !strcasecmp(site, "none"))) return 0;
    if (!site && (!origin || (host && guard_same_authority(origin, host)))) return 0;
    snprintf(msg, cap,
             "cross-origin %.16s refused: a page of another site sent it (Origin %.100s, Sec-Fetch-Site %.32s, "
             "Host %.100s); this node takes writes from its own dashboard or from clients that are not browsers "
             "(which send no Origin)",
             method, origin ? origin : "absent", site ? site : "absent", host ? host : "absent");
    return 403;
}

/* Whether name (a Host's host part, port and brackets gone) is in allow, a
 * comma-separated list of names ("*": any). */
static int guard_listed(const char *allow, const char *name, size_t len) {
    for (const char *p = allow; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if ((n == 1 && *p == '*') || (n == len && !strncasecmp(p, name, len))) return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* See api/ext.h. The host part of a Host header: [v6]:port, v4:port or
 * name:port (the port optional). */
int gt_api_host_check(struct MHD_Connection *conn, const char *allow, const char *option, char *msg, size_t cap) {
    assert(conn && option && msg && cap > 0);
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host || host[0] == '[') return 0; /* none, or an IPv6 literal */
    const char *colon = strrchr(host, ':');
    size_t len = colon ? (size_t)(colon - host) : strlen(host);
    char name[256];
    if (len > 0 && len < sizeof name) {
        memcpy(name, host, len);
        name[len] = 0;
        struct in_addr v4;
        if (inet_pton(AF_INET, name, &v4) == 1 || !strcasecmp(name, "localhost")) return 0;
        if (len > 10 && !strcasecmp(name + len - 10, ".localhost")) return 0;
        if (guard_listed(allow, name, len)) return 0;
    }
    snprintf(msg, cap,
             "Host %.100s refused: this server answers to IP addresses, localhost and the names it is given "
             "(%s NAME[,NAME...]), so that a page of a name pointed at it (DNS rebinding) can neither read it nor "
             "write to it; connect by its address, or start it with %s %.100s",
             host, option, option, len > 0 && len < sizeof name ? name : "NAME");
    return 403;
}

/* See api/ext.h. A dashboard file keeps the stricter page policy it was
 * given (h_web.c); two policies would both apply and block its scripts. */
void gt_api_guard_headers(struct MHD_Response *resp) {
    assert(resp);
    if (!MHD_get_response_header(resp, "X-Content-Type-Options"))
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (!MHD_get_response_header(resp, "Content-Security-Policy"))
        MHD_add_response_header(resp, "Content-Security-Policy", guard_csp);
}
