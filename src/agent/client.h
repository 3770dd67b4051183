/* client.h: an HTTP client for a gotong node (docs/api.md), the one every
 * agent, `gotong task ...` and `gotong demo` talk through.
 *
 * One gt_client is one libcurl easy handle: it keeps its connection alive
 * between requests, so an agent polling every few hundred milliseconds does
 * not reconnect each time. A client is used by one thread at a time (each
 * agent thread owns its own); any number of clients may run concurrently.
 *
 * Errors carry what the node said: a refused action's
 * {"error":{"code","message"}} becomes a gt_err with the GT_E* code named by
 * "code" and the node's message, so a caller can tell a nonce race (ENONCE)
 * from a rule refusal (ESTATE, EPERM, EFUNDS) and the user reads the rule's
 * own words. Transport failures (refused connection, timeout) are GT_EIO
 * naming the URL. */
#ifndef GT_AGENT_CLIENT_H
#define GT_AGENT_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"
#include "ledger/action.h"

/* Limits on what comes back from a node. */
#define GT_CLIENT_URL_MAX 512                    /* base URL, bytes */
#define GT_CLIENT_RESPONSE_MAX (17 * 1024 * 1024) /* a blob (16 MiB) plus headers' worth */
#define GT_CLIENT_JSON_MAX (4 * 1024 * 1024)     /* a JSON response (a page of 200 tasks) */
#define GT_CLIENT_DEFAULT_TIMEOUT_MS 30000       /* whole request */
#define GT_CLIENT_CONNECT_TIMEOUT_MS 5000
#define GT_CLIENT_DEFAULT_URL "http://127.0.0.1:8645"
/* Submitting retries a nonce race (another action from the same key landed
 * first) this many times, re-reading the nonce each time. */
#define GT_CLIENT_NONCE_RETRIES 4

typedef struct gt_client gt_client;

/* Makes a client for the node at base_url ("http://HOST:PORT", no trailing
 * path). Checks the URL's shape only; nothing is sent yet. Caller frees with
 * gt_client_free. */
int gt_client_new(const char *base_url, gt_client **out, gt_err *err);
void gt_client_free(gt_client *c); /* accepts NULL */
const char *gt_client_url(const gt_client *c);

/* GET path (e.g. "/v1/head"); *out gets the parsed JSON body (caller
 * json_decref's). A non-2xx status becomes an error carrying the node's
 * message and code (GT_ENOTFOUND for 404 whatever the body says). */
int gt_client_get_json(gt_client *c, const char *path, json_t **out, gt_err *err);
/* POST a JSON body; *status gets the HTTP status (may be NULL). Non-2xx is
 * an error as for GET, except that *out is still filled when the body is
 * JSON, so a caller can read per-action results. */
int gt_client_post_json(gt_client *c, const char *path, const json_t *body, int *status, json_t **out,
                        gt_err *err);

/* ---- Chain and accounts. */

/* The signing domain of the node's network: chain id and salt (its genesis
 * hash), read once from GET /v1/chain, then cached. */
int gt_client_domain(gt_client *c, gt_domain *dom, gt_err *err);
/* The first block of the node's ledger under format 11's rule (eval panel
 * votes sealed-only), read with the domain (GET /v1/chain's format11Height):
 * UINT64_MAX when the node names none (an older node, or an older ledger
 * read as it is), and on an error. */
int gt_client_format11_height(gt_client *c, uint64_t *height, gt_err *err);
/* The same for format 12's rule (an eval_cosign in the clear waits until
 * its slot can no longer be disputed): GET /v1/chain's format12Height. */
int gt_client_format12_height(gt_client *c, uint64_t *height, gt_err *err);

typedef struct gt_client_acct {
    uint64_t balance_units, staked_units, locked_units, unbonding_units;
    uint64_t nonce;
    /* The node's blob store: bytes of new blobs this account has uploaded there (counted over its whole
     * life) and the quota they count against; blob_known 0 when the node does not say (an older node). */
    uint64_t blob_used_bytes, blob_quota_bytes;
    int blob_known;
} gt_client_acct;
int gt_client_account(gt_client *c, const gt_addr *a, gt_client_acct *out, gt_err *err);
/* Height of the newest block. */
int gt_client_head_height(gt_client *c, uint64_t *height, gt_err *err);
/* Height and time (seconds since the epoch: the clock deadlines count in) of
 * the newest block. */
int gt_client_head(gt_client *c, uint64_t *height, uint64_t *time_s, gt_err *err);
/* The draw seed of block `height` (GET /v1/blocks/{height}'s "seed"):
 * what a held-out benchmark's items are drawn from. GT_ENOTFOUND when the
 * block is not on the ledger yet. */
int gt_client_block_seed(gt_client *c, uint64_t height, uint8_t seed[32], gt_err *err);

/* ---- Actions. */

/* Fills the action's fields: called with a fresh action (kind, chain id,
 * sender and nonce set) each time the client (re)builds it. */
typedef int (*gt_client_fill_fn)(void *arg, gt_action *a, gt_err *err);

/* Builds an action of `kind` from key's address with the account's next
 * nonce, lets fill set its fields, signs it and submits it; on a nonce race
 * re-reads the nonce and tries again (GT_CLIENT_NONCE_RETRIES). On success
 * id_out (may be NULL) gets the action id (for task_post: the task id) and
 * *height (may be NULL) the block it landed in. A refusal is an error with
 * the rule's message. When the answer is lost (a transport error) or the
 * send is refused for its nonce, the ledger is asked whether it holds the
 * action (GET /v1/actions/{id}): if it does, that is success (a resent
 * action the node had applied reads "nonce already used"; signed again it
 * would be applied twice). */
int gt_client_act(gt_client *c, const gt_key *key, const gt_action_kind *kind, gt_client_fill_fn fill, void *arg,
                  uint8_t id_out[32], uint64_t *height, gt_err *err);
/* Called with each signed action just before it is sent, its id final: a
 * caller saves there what it must not lose whether or not an answer comes
 * back (a label task's gold, kept under the task's id). An error stops the
 * send. */
typedef int (*gt_client_keep_fn)(void *arg, const gt_action *a, gt_err *err);
/* gt_client_act calling keep (may be NULL) before each send. */
int gt_client_act_keep(gt_client *c, const gt_key *key, const gt_action_kind *kind, gt_client_fill_fn fill,
                       void *arg, gt_client_keep_fn keep, void *keep_arg, uint8_t id_out[32], uint64_t *height,
                       gt_err *err);
/* Submits one already signed action as is (no retry). */
int gt_client_submit(gt_client *c, const gt_action *a, uint64_t *height, gt_err *err);

/* ---- Blobs. */

/* The key whose signed permit (store/permit.h) goes with every upload: a
 * node refuses uploads without one. The client keeps a copy, wiped at free;
 * NULL forgets it. */
void gt_client_set_signer(gt_client *c, const gt_key *key);
/* Uploads len bytes with a permit signed by the client's signer; id_out gets "sha256:<hex>" (checked against our own
 * hash of the bytes, so a node cannot make us cite something else). */
int gt_client_blob_put(gt_client *c, const void *data, size_t len, char id_out[72], gt_err *err);
/* Downloads blob `id` ("sha256:<hex>" or "0x<hex>") of at most max_bytes and
 * checks its SHA-256 against the id: a node serving other bytes is an error
 * (GT_EINVAL), never data. *data is NUL-terminated; caller frees with gt_free. */
int gt_client_blob_get(gt_client *c, const char *id, size_t max_bytes, uint8_t **data, size_t *len, gt_err *err);

/* ---- Market reads (shapes as in market.h's readers). */

/* GET /v1/tasks/{0x id}. */
int gt_client_task(gt_client *c, const uint8_t task_id[32], json_t **out, gt_err *err);
/* GET /v1/tasks?QUERY (query without "?", e.g. "status=open&kind=complete";
 * NULL for none). */
int gt_client_tasks(gt_client *c, const char *query, json_t **out, gt_err *err);
/* GET /v1/agents?QUERY. */
int gt_client_agents(gt_client *c, const char *query, json_t **out, gt_err *err);
/* GET /v1/reputation/{addr}. */
int gt_client_reputation(gt_client *c, const gt_addr *a, json_t **out, gt_err *err);

/* libcurl's process-wide set-up, once, whoever comes first (curl_global_init
 * is not thread-safe); every libcurl user of this layer calls it first. */
int gt_client_global_init(gt_err *err);

/* Maps an error code name from a node ("ENONCE") to its GT_E* code; unknown
 * names map to GT_EINVAL. */
int gt_client_code_from_name(const char *name);

#endif
