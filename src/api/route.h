/* route.h: the node's route table and the parsing of what a URL carries.
 *
 * A route is a method plus a path pattern whose segments are literals or "{}"
 * (one captured segment: an address, a height, a hash). Matching is pure (no
 * server state), so the fuzz target can drive it with hostile paths, and the
 * server can tell "no such path" (404) from "path exists, wrong method" (405,
 * with the methods that would work for an Allow header).
 *
 * The parameter parsers turn captured segments and query values into typed
 * values, each refusing bad input with a message naming the parameter and
 * what was expected ("limit: expected an integer 1..200, got \"x\""). */
#ifndef GT_API_ROUTE_H
#define GT_API_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/num.h"
#include "crypto/key.h"

/* Limits on URLs from outside. */
#define GT_ROUTE_PATH_MAX 512    /* bytes of the path (without the query) */
#define GT_ROUTE_MAX_PARAMS 4    /* "{}" captures in one pattern */
#define GT_ROUTE_PARAM_MAX 128   /* bytes of one captured segment */
#define GT_ROUTE_MAX_SEGMENTS 16 /* segments in one path */

typedef struct gt_route {
    const char *method;  /* "GET", "POST" */
    const char *pattern; /* "/v1/blocks/{}" */
    int id;              /* caller's handler index */
} gt_route;

typedef struct gt_route_match {
    int index;                                   /* into the table */
    int n_params;
    char params[GT_ROUTE_MAX_PARAMS][GT_ROUTE_PARAM_MAX + 1];
    char allow[64];                              /* for 405: "GET, POST" */
} gt_route_match;

enum { GT_ROUTE_NOT_FOUND = -1, GT_ROUTE_BAD_METHOD = -2, GT_ROUTE_BAD_PATH = -3 };

/* Finds the route for method + path (path without query, already
 * percent-decoded). Returns the table index (>= 0, m filled), or
 * GT_ROUTE_NOT_FOUND, GT_ROUTE_BAD_METHOD (m->allow lists the methods the path
 * accepts), or GT_ROUTE_BAD_PATH (over a limit; err says which). A trailing
 * slash is not ignored: "/v1/head/" is not "/v1/head". */
int gt_route_find(const gt_route *table, size_t n, const char *method, const char *path, gt_route_match *m,
                  gt_err *err);

/* Typed parameter parsers. `what` names the parameter in messages. */
/* Decimal integers: gt_parse_u64 (base/num.h), the one parser every route
 * and command uses. */
/* 32-byte hash: "0x"+64 hex, or "sha256:"+64 hex when allow_sha256_prefix. */
int gt_param_hash(const char *s, const char *what, int allow_sha256_prefix, uint8_t out[32], gt_err *err);
/* Ethereum address (EIP-55 checked when mixed case). */
int gt_param_addr(const char *s, const char *what, gt_addr *out, gt_err *err);
/* A short token of printable ASCII without spaces (task kinds, skills, statuses). */
int gt_param_token(const char *s, const char *what, size_t max_len, gt_err *err);

#endif
