/* x402.h: the node's paid routes (x402 v2, "exact" scheme, settled on an
 * EVM chain through chain/x402.h, or on the node's own ledger through
 * api/x402_ledger.h).
 *
 * Off unless HOME/x402.json exists. It names the chain and the token, who is
 * paid, the node's facilitator key (a file holding its hex secret, mode 0600:
 * the hot wallet that pays the settlement's gas) and the price of each route:
 *   {"rpc": "http://127.0.0.1:8545", "token": "0x…", "tokenName": "Gotong Test Token",
 *    "tokenVersion": "1", "payTo": "0x…", "facilitatorKeyFile": "x402.key",
 *    "maxTimeoutSeconds": 300, "prices": {"GET /v1/blobs/{}": "2500"}}
 * (a relative key file is under HOME; prices in base units). With
 *   {"settle": "ledger", "payTo": "0x…", "maxTimeoutSeconds": 300, "prices": {…}}
 * payments settle on the node's embedded ledger instead (network
 * "gotong:<chainId>": a signed payment of the price, x402_ledger.h), with no
 * chain, token or facilitator key. A file that does
 * not parse, names an unknown route, or a chain that does not answer stops the
 * node from starting: a paid route is never served free by mistake.
 *
 * A request to a priced route: without PAYMENT-SIGNATURE, 402 with
 * PAYMENT-REQUIRED and nothing done; with one, it is verified first (a bad
 * one: 402 saying why), the handler runs, and only a 2xx answer is settled
 * (transferWithAuthorization, waited for) and sent with PAYMENT-RESPONSE; a
 * settlement that fails turns the answer into a 402 and its body is dropped.
 * Settlements go one at a time (one facilitator nonce stream).
 *
 * The watch and pay first: a payment settled after its route could expire
 * while the route ran (a model's long answer, a queue: nothing bounds how
 * long a handler runs once its request is in), the answer withheld but the
 * work done, and the payment's nonce (or, on a chain, its authorization)
 * left unused for the payer to sign again: free work as often as it liked.
 * So every payment settled after its route is watched: a thread settles one
 * whose window ends within GT_API_X402_SETTLE_MARGIN_S (+ the receipt's
 * wait on a chain) while its route still runs, and its answer then carries
 * PAYMENT-RESPONSE whatever its status. A payment too short to be watched
 * (a window under twice that margin when it is checked, or the watch's
 * table full) is settled before the route runs, which runs only once it
 * applied; a failed settlement is a 402 saying why. A floor on the window
 * would refuse honest clients whose clocks lag the node's by up to
 * GT_X402_CLOCK_SKEW_S. Either way the route's work is paid for, once, as
 * soon as its window could end before the settlement; a payment with a
 * longer window whose route fails early pays nothing.
 *
 * An extension's routes (api/ext.h: the OpenAI routes of `gotong node -m`)
 * are priced the same way ("POST /v1/chat/completions": "1000", per
 * request): the payment is verified from the headers, before the extension
 * sees the request; its answer is settled when the extension hands it to
 * gt_api_ext_respond, before a byte of it leaves, and only when it is 2xx: a
 * request refused (400, 404, 429) or failing before it generated is not
 * charged (unless its payment was settled first or by the watch, above).
 * A stream (stream: true) is answered once its first token is made
 * (serve/routes.c), so it is settled then, with its status. */
#ifndef GT_API_X402_H
#define GT_API_X402_H
#include "api/api_impl.h"
#include "api/x402_ledger.h"
#include "chain/x402.h"

#define GT_API_X402_MAX_PRICES 16
#define GT_API_X402_CONFIG_MAX (16u << 10)
#define GT_API_X402_WAIT_MS 30000 /* a settlement's receipt, at most: then the answer is a 402 */
/* How long before a watched payment's window ends it is settled (+ a
 * chain's receipt, GT_API_X402_WAIT_MS): the settlement's own time (a block
 * of the node's ledger) and the watch's lateness on a loaded machine. A
 * window under twice this (+ the receipt) is settled before its route. */
#define GT_API_X402_SETTLE_MARGIN_S 5
#define GT_API_X402_WATCH_MS 250 /* how often the watch looks for windows about to end */

typedef struct gt_api_x402 gt_api_x402; /* defined in x402.c */

#define GT_API_X402_HELD_MAX 256 /* payments in flight at once; one more is refused (402) until one ends */
#define GT_API_X402_HELD_KEY 52  /* a payment in flight: its payer (20 bytes) and nonce (32) */

/* One request's payment, between the check and the settlement. */
typedef struct gt_api_x402_pay {
    int priced;
    int held; /* its key is among the payments in flight (gt_api_x402_release takes it out) */
    int reserved; /* on the embedded ledger: its nonce is reserved for it (gt_api_x402_release ends that) */
    uint8_t held_key[GT_API_X402_HELD_KEY];
    gt_x402_req req;
    gt_x402_auth auth; /* on an EVM chain */
    gt_node *node;     /* on the embedded ledger: its ledger settles act */
    char *paid_first;  /* settled before its route ended (pay first, the watch): its PAYMENT-RESPONSE, else NULL */
    uint64_t valid_before; /* its window's end, on the node's clock (x402_now_s) */
    int watched;       /* in the watch's table (the request's own flag: the watcher reads the table) */
    int settling;      /* the watcher is settling it now (the watch's lock) */
    int watch_failed;  /* the watcher tried and failed (then settled as if unwatched) */
    gt_action act;
} gt_api_x402_pay;

/* Reads HOME/x402.json; *out NULL (x402 off) when there is none.
 * known(cls, method, pattern) says whether the node has that route (its own
 * or its extension's). */
typedef int (*gt_api_x402_known_fn)(void *cls, const char *method, const char *pattern);
int gt_api_x402_open(const char *home, gt_api_x402_known_fn known, void *cls, gt_api_x402 **out, gt_err *err);
void gt_api_x402_close(gt_api_x402 *x); /* accepts NULL */
/* Before the handler: 0 to run it (p->priced says whether a verified
 * payment waits), 1 when o holds the 402 to send instead. On the embedded
 * ledger a payment is run for only once its payer's nonce is reserved for
 * it (gt_ledger_reserve): from then until it is settled or released, the
 * ledger refuses any other action of the payer's with that nonce, so the
 * payer cannot void a payment whose route has run (nonces go in order:
 * only that nonce could get in ahead of it). A reservation refused (the
 * nonce used meanwhile, the ledger's table full) is a 402 saying why, the
 * route not run. A payment whose window ends before the route may finish is
 * settled here (pay first, above); its settlement failing is a 402 too. */
int gt_api_x402_check(gt_api_x402 *x, gt_req *r, const char *method, const char *pattern, gt_api_x402_pay *p,
                      gt_resp *o);
/* After the handler, for a priced request: settles a 2xx answer and adds
 * PAYMENT-RESPONSE, or replaces o with a 402; a payment settled first adds
 * its PAYMENT-RESPONSE to any answer. */
void gt_api_x402_settle(gt_api_x402 *x, gt_api_x402_pay *p, gt_resp *o);
/* Takes a checked payment out of those in flight and ends its nonce's
 * reservation (settling does both too): for a request that ends without
 * being settled. Idempotent; accepts x and p NULL. */
void gt_api_x402_release(gt_api_x402 *x, gt_api_x402_pay *p);
/* The same for an answer the node did not build (an extension's) whose
 * status is `status`: 0 to send it, with *hdr (gt_free; NULL when nothing
 * was settled) as PAYMENT-RESPONSE (a payment settled first: whatever the
 * status); 1 when o holds the 402 to send instead (the settlement failed). */
int gt_api_x402_settle_status(gt_api_x402 *x, gt_api_x402_pay *p, int status, char **hdr, gt_resp *o);
#endif
