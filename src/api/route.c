/* route.c: route matching and URL parameter parsing (see route.h). Nothing
 * here allocates: a match lives in the caller's gt_route_match. */
#include "api/route.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "crypto/addr.h"

/* Splits path ("/a/b/c") into segments pointing into path, lengths in len.
 * Returns the count, or -1 when there are too many or path does not start
 * with '/'. An empty path segment ("/a//b", "/a/") counts as a segment of
 * length 0, which no pattern matches. */
static int split(const char *path, const char *seg[], size_t len[], int max) {
    if (path[0] != '/') return -1;
    int n = 0;
    const char *p = path + 1;
    for (;;) {
        if (n == max) return -1;
        const char *slash = strchr(p, '/');
        seg[n] = p;
        len[n] = slash ? (size_t)(slash - p) : strlen(p);
        n++;
        if (!slash) break;
        p = slash + 1;
    }
    return n;
}

/* Does pattern match the split path? Captures "{}" segments into m. */
static int match_pattern(const char *pattern, const char *seg[], const size_t len[], int n, gt_route_match *m) {
    const char *pseg[GT_ROUTE_MAX_SEGMENTS];
    size_t plen[GT_ROUTE_MAX_SEGMENTS];
    int pn = split(pattern, pseg, plen, GT_ROUTE_MAX_SEGMENTS);
    assert(pn > 0); /* our own patterns are well formed */
    if (pn != n) return 0;
    int np = 0;
    for (int i = 0; i < n; i++) {
        if (plen[i] == 2 && !memcmp(pseg[i], "{}", 2)) {
            if (len[i] == 0 || len[i] > GT_ROUTE_PARAM_MAX) return 0;
            assert(np < GT_ROUTE_MAX_PARAMS);
            if (m) {
                memcpy(m->params[np], seg[i], len[i]);
                m->params[np][len[i]] = 0;
            }
            np++;
        } else if (plen[i] != len[i] || memcmp(pseg[i], seg[i], len[i])) {
            return 0;
        }
    }
    if (m) m->n_params = np;
    return 1;
}

/* Copies at most cap-1 bytes of s into out with anything but printable ASCII
 * as '?', so a message quoting a hostile path stays valid UTF-8. */
static const char *printable(const char *s, char *out, size_t cap) {
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[i] = 0;
    return out;
}

int gt_route_find(const gt_route *table, size_t n, const char *method, const char *path, gt_route_match *m,
                  gt_err *err) {
    char shown[201];
    memset(m, 0, sizeof *m);
    m->index = -1;
    size_t plen = strnlen(path, GT_ROUTE_PATH_MAX + 1);
    if (plen > GT_ROUTE_PATH_MAX) {
        gt_err_set(err, GT_ELIMIT, "path is longer than %d bytes", GT_ROUTE_PATH_MAX);
        return GT_ROUTE_BAD_PATH;
    }
    const char *seg[GT_ROUTE_MAX_SEGMENTS];
    size_t len[GT_ROUTE_MAX_SEGMENTS];
    int ns = split(path, seg, len, GT_ROUTE_MAX_SEGMENTS);
    if (ns < 0) {
        gt_err_set(err, GT_ENOTFOUND, "no route for %s", printable(path, shown, 65));
        return GT_ROUTE_NOT_FOUND;
    }
    int path_known = 0;
    for (size_t i = 0; i < n; i++) {
        gt_route_match tmp;
        if (!match_pattern(table[i].pattern, seg, len, ns, &tmp)) continue;
        if (!strcmp(table[i].method, method)) {
            *m = tmp;
            m->index = (int)i;
            return (int)i;
        }
        /* Same path, other method: remember it for the Allow header. */
        size_t used = strlen(m->allow);
        if (!strstr(m->allow, table[i].method) && used + strlen(table[i].method) + 3 < sizeof m->allow)
            snprintf(m->allow + used, sizeof m->allow - used, "%s%s", used ? ", " : "", table[i].method);
        path_known = 1;
    }
    if (path_known) {
        gt_err_set(err, GT_EUNSUPPORTED, "%s is not allowed on this path; use %s", printable(method, shown, 33),
                   m->allow);
        return GT_ROUTE_BAD_METHOD;
    }
    gt_err_set(err, GT_ENOTFOUND, "no route for %s (see docs/api.md)", printable(path, shown, sizeof shown));
    return GT_ROUTE_NOT_FOUND;
}

/* See route.h. */
int gt_param_hash(const char *s, const char *what, int allow_sha256_prefix, uint8_t out[32], gt_err *err) {
    const char *hex = NULL;
    if (!strncmp(s, "0x", 2)) hex = s + 2;
    else if (allow_sha256_prefix && !strncmp(s, "sha256:", 7)) hex = s + 7;
    if (!hex || strlen(hex) != 64 || gt_hex_decode(hex, out, 32, what, NULL))
        return gt_err_set(err, GT_EINVAL, "%s: expected %s64 hex digits, got \"%.80s\"", what,
                          allow_sha256_prefix ? "\"sha256:\" or \"0x\" and " : "\"0x\" and ", s);
    return 0;
}

/* See route.h; the message names the parameter. */
int gt_param_addr(const char *s, const char *what, gt_addr *out, gt_err *err) {
    gt_err e = {0};
    if (gt_addr_parse(s, out, &e)) return gt_err_set(err, GT_EINVAL, "%s: %s", what, e.msg);
    return 0;
}

/* See route.h: 1..max_len bytes of printable ASCII, no spaces. */
int gt_param_token(const char *s, const char *what, size_t max_len, gt_err *err) {
    size_t n = strlen(s);
    int ok = n > 0 && n <= max_len;
    for (size_t i = 0; ok && i < n; i++) ok = s[i] > 0x20 && s[i] < 0x7f;
    if (!ok)
        return gt_err_set(err, GT_EINVAL, "%s: expected 1..%zu printable characters without spaces, got \"%.40s\"",
                          what, max_len, s);
    return 0;
}
