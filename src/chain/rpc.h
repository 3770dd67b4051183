/* rpc.h: Ethereum JSON-RPC 2.0 over HTTP (libcurl), and the hex encodings
 * its answers use ("quantities": 0x-prefixed, no leading zeros; "data": 0x
 * and an even number of hex digits).
 *
 * One gt_rpc is one endpoint and one connection (not thread-safe: one thread
 * uses it at a time). Every call is bounded: the answer at most
 * GT_RPC_MAX_BYTES, the whole request at most timeout_ms. A JSON-RPC error
 * answer becomes GT_ECHAIN with the node's code, message and, for a revert,
 * the decoded Error(string) reason. */
#ifndef GT_CHAIN_RPC_H
#define GT_CHAIN_RPC_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"
#include "base/err.h"

#define GT_RPC_MAX_BYTES (16u << 20)      /* one answer (a block's logs fit) */
#define GT_RPC_URL_MAX 512
#define GT_RPC_TIMEOUT_MS_DEFAULT 30000
#define GT_RPC_CONNECT_TIMEOUT_MS 5000

typedef struct gt_rpc gt_rpc;

/* Opens a client for url (http or https, at most GT_RPC_URL_MAX bytes). */
int gt_rpc_open(const char *url, long timeout_ms, gt_rpc **out, gt_err *err);
void gt_rpc_close(gt_rpc *r);
/* Calls method with params (a JSON array; the call takes the reference) and
 * returns the result (caller decrefs; JSON null is returned as json_null()). */
int gt_rpc_call(gt_rpc *r, const char *method, json_t *params, json_t **result, gt_err *err);
/* Reads the node's answer (len bytes of body) to a call of method: what
 * gt_rpc_call does with the bytes, on its own (no connection; fuzzing, tests).
 * The answer's result (JSON null as json_null(); caller decrefs), or
 * GT_ECHAIN with the node's message and *code its error code (-1 when it
 * gives none), or GT_EINVAL when the body is not JSON or holds neither result
 * nor error. *code is 0 unless the node answered an error. */
int gt_rpc_answer(const char *method, const void *body, size_t len, json_t **result, long *code, gt_err *err);
/* The last JSON-RPC error's code (0 if the last call did not fail that way). */
long gt_rpc_last_code(const gt_rpc *r);

/* Quantities and data. Each refuses anything not in canonical form, with a
 * message naming `what`. */
int gt_rpc_to_u64(const json_t *q, uint64_t *out, const char *what, gt_err *err);
int gt_rpc_to_u256(const json_t *q, uint8_t out[32], const char *what, gt_err *err);
/* Data of at most cap bytes appended to out. */
int gt_rpc_to_data(const json_t *d, size_t cap, gt_buf *out, const char *what, gt_err *err);
/* Exactly n bytes (an address, a hash). */
int gt_rpc_to_fixed(const json_t *d, uint8_t *out, size_t n, const char *what, gt_err *err);
json_t *gt_rpc_u64(uint64_t v);
json_t *gt_rpc_u256(const uint8_t be[32]);
json_t *gt_rpc_data(const void *p, size_t n);
#endif
