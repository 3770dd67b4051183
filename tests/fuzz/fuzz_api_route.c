/* fuzz_api_route.c: the node's route matching and URL parameter parsers on
 * hostile paths. Input: "METHOD\nPATH". Properties beyond not crashing: a
 * match is for that method, its captures are non-empty single segments within
 * the limit, and putting the captures back into the pattern rebuilds the path
 * exactly; every parameter parser that accepts a capture gives a value that
 * prints back to the same thing. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_impl.h"
#include "base/num.h"
#include "api/route.h"
#include "base/hex.h"
#include "crypto/addr.h"

/* Runs every parameter parser on p and checks what they accept round-trips. */
static void check_params(const char *p) {
    uint64_t v;
    if (gt_parse_u64(p, "x", 0, UINT64_MAX, &v, NULL) == 0) {
        /* digits only; equal to the value modulo leading zeros */
        while (p[0] == '0' && p[1]) p++;
        char back[24];
        snprintf(back, sizeof back, "%llu", (unsigned long long)v);
        assert(!strcmp(back, p));
    }
    uint8_t h[32];
    if (gt_param_hash(p, "x", 1, h, NULL) == 0) {
        char hex[65];
        gt_hex_encode(h, 32, hex);
        const char *in = p + (p[0] == '0' ? 2 : 7);
        assert(strlen(in) == 64);
        for (int i = 0; i < 64; i++) assert(hex[i] == (in[i] >= 'A' && in[i] <= 'F' ? in[i] + 32 : in[i]));
    }
    gt_addr a, b;
    if (gt_param_addr(p, "x", &a, NULL) == 0) {
        char s[43];
        gt_addr_to_str(&a, s);
        assert(gt_param_addr(s, "x", &b, NULL) == 0 && gt_addr_eq(&a, &b));
    }
    gt_param_token(p, "x", 64, NULL);
}

/* One input: "METHOD\nPATH" (no newline: GET). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static gt_route table[GT_METRICS_MAX_ROUTES];
    static size_t n;
    if (!n)
        for (int i = 0; i < gt_api_n_routes(); i++) table[n++] = *gt_api_route(i);
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = 0;
    char *nl = strchr(in, '\n');
    const char *method = nl ? in : "GET";
    const char *path = nl ? nl + 1 : in;
    if (nl) *nl = 0;
    gt_route_match m;
    gt_err err = {0};
    int rc = gt_route_find(table, n, method, path, &m, &err);
    if (rc >= 0) {
        assert((size_t)rc < n && !strcmp(table[rc].method, method));
        /* rebuild the path from the pattern and the captures */
        char rebuilt[GT_ROUTE_PATH_MAX + 64] = "";
        const char *pat = table[rc].pattern;
        int k = 0;
        for (const char *q = pat; *q;) {
            if (q[0] == '{' && q[1] == '}') {
                assert(k < m.n_params);
                size_t pl = strlen(m.params[k]);
                assert(pl > 0 && pl <= GT_ROUTE_PARAM_MAX && !strchr(m.params[k], '/'));
                strcat(rebuilt, m.params[k++]);
                q += 2;
            } else {
                size_t l = strlen(rebuilt);
                rebuilt[l] = *q++;
                rebuilt[l + 1] = 0;
            }
        }
        assert(k == m.n_params);
        assert(!strcmp(rebuilt, path));
        for (int i = 0; i < m.n_params; i++) check_params(m.params[i]);
    } else if (rc == GT_ROUTE_BAD_METHOD) {
        assert(m.allow[0] && err.msg[0]);
    } else {
        assert(rc == GT_ROUTE_NOT_FOUND || rc == GT_ROUTE_BAD_PATH);
        assert(err.msg[0]);
    }
    /* the raw path as a parameter too (query values arrive the same way) */
    if (strlen(path) <= GT_ROUTE_PARAM_MAX) check_params(path);
    free(in);
    return 0;
}
