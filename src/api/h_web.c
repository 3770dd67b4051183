/* h_web.c: the web dashboard (issue 18), served from the node's own binary.
 *
 * web/embed.cmake turns web/'s pages and the in-browser signing library
 * (@noble/curves and @noble/hashes) into the arrays below at build time, so
 * `gotong node` needs no files beside itself and the page needs no network.
 * `/` is web/index.html; `/web/NAME` (up to four segments) any embedded file.
 * The dashboard only reads the JSON API of this node and never sends it a key:
 * actions are signed in the browser (web/sign.js) and POSTed as any client's.
 *
 * Every answer carries a Content-Security-Policy that lets the page load
 * scripts, styles and data only from this node: no inline script, no
 * framing, no other origin, so an agent's name or a task's kind shown in the
 * page cannot run as code even if the page's own escaping failed. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "api/api_impl.h"

/* The embedded files (web_assets.c, generated). */
extern const size_t gt_web_count;
extern const int gt_web_has_signer;
extern const char *const gt_web_paths[];
extern const unsigned char *const gt_web_data[];
extern const size_t gt_web_sizes[];
extern const char *const gt_web_etags[]; /* quoted strong validators */

/* The longest embedded path this handler looks up (four route segments). */
#define GT_WEB_PATH_MAX (4 * (GT_ROUTE_PARAM_MAX + 1))

static const char web_csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                              "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/* The media type of an embedded file, from its extension (only the kinds
 * embed.cmake takes). */
static const char *web_type(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot) return "application/octet-stream";
    if (!strcmp(dot, ".html")) return "text/html; charset=utf-8";
    if (!strcmp(dot, ".js")) return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css")) return "text/css; charset=utf-8";
    if (!strcmp(dot, ".svg")) return "image/svg+xml";
    return "application/octet-stream";
}

/* Joins the route's captured segments with '/' into out ("lib/curves/x.js");
 * "/" (no captures) is index.html. Returns 0, or -1 when a segment could step
 * out of the tree ("..", a leading dot): such a name is never embedded. */
static int web_path(const gt_route_match *m, char *out, size_t cap) {
    assert(cap >= GT_WEB_PATH_MAX);
    if (m->n_params == 0) {
        snprintf(out, cap, "index.html");
        return 0;
    }
    size_t used = 0;
    for (int i = 0; i < m->n_params; i++) {
        if (m->params[i][0] == '.') return -1;
        int n = snprintf(out + used, cap - used, "%s%s", i ? "/" : "", m->params[i]);
        assert(n > 0 && (size_t)n < cap - used);
        used += (size_t)n;
    }
    return 0;
}

/* Index of the embedded file named path, or -1. */
static long web_find(const char *path) {
    for (size_t i = 0; i < gt_web_count; i++)
        if (!strcmp(gt_web_paths[i], path)) return (long)i;
    return -1;
}

/* Whether an If-None-Match value (a comma-separated list of entity tags, or
 * "*") names etag. The comparison is the weak one RFC 9110 asks for here, so
 * W/"x" matches "x". A value too long to hold a sane list matches nothing. */
static int web_etag_listed(const char *inm, const char *etag) {
    enum { INM_MAX = 1024 };
    size_t n = strnlen(inm, INM_MAX + 1), elen = strlen(etag);
    if (n > INM_MAX) return 0;
    for (size_t at = 0; at < n;) {
        while (at < n && (inm[at] == ' ' || inm[at] == '\t' || inm[at] == ',')) at++;
        size_t end = at;
        while (end < n && inm[end] != ',') end++;
        size_t tag = at, tag_end = end;
        while (tag_end > tag && (inm[tag_end - 1] == ' ' || inm[tag_end - 1] == '\t')) tag_end--;
        if (tag_end - tag >= 2 && inm[tag] == 'W' && inm[tag + 1] == '/') tag += 2;
        if (tag_end - tag == 1 && inm[tag] == '*') return 1;
        if (tag_end - tag == elen && !memcmp(inm + tag, etag, elen)) return 1;
        at = end;
    }
    return 0;
}

/* GET / and GET /web/...: an embedded file, with its type and the page's
 * security headers; 404 naming what is embedded when it is not; 304 with no
 * body when the browser's copy (If-None-Match) is this build's. */
void gt_h_web(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    if (gt_req_only_query(r, allowed, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    char path[GT_WEB_PATH_MAX];
    long i = web_path(&r->m, path, sizeof path) ? -1 : web_find(path);
    if (i < 0) {
        gt_resp_error(o, 404, GT_ENOTFOUND, "no dashboard file %.200s%s (the dashboard is at /)", r->url,
                      gt_web_has_signer ? "" : "; this build has no signing library: run scripts/setup.sh test");
        return;
    }
    const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    int fresh = inm && web_etag_listed(inm, gt_web_etags[i]);
    struct MHD_Response *resp = MHD_create_response_from_buffer(fresh ? 0 : gt_web_sizes[i], (void *)gt_web_data[i],
                                                                MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        gt_resp_error(o, 500, GT_ENOMEM, "out of memory building a response");
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, web_type(path));
    MHD_add_response_header(resp, "Content-Security-Policy", web_csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    /* The files change with the binary: revalidate rather than trust a cache. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, gt_web_etags[i]);
    o->status = fresh ? 304 : 200;
    o->len = fresh ? 0 : gt_web_sizes[i];
    o->raw = resp;
}
