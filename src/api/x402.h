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
 * Fail closed: money moves only for a 2xx answer, settled after its route
 * ran and before a byte of the answer leaves (a stream: by how it ends,
 * below); the settlement is the last step that can fail, so a settled
 * answer is always sent (its receipt left out only if it cannot be made
 * after a chain's transfer); an error, a refusal (429), a
 * client gone (499), a route that outlasts its payment's window (the
 * settlement then finds it expired: a 402, the answer withheld) never takes
 * the client's money. A payment is never settled before its route: one
 * whose window leaves less than twice GT_API_X402_SETTLE_MARGIN_S (+ the
 * receipt's wait on a chain) when it is checked is refused with a 402 that
 * says what to sign. The node settled such payments first, and watched the
 * longer ones (settling them as their window neared its end while the route
 * still ran): both charged for a route that then failed. What that bought
 * (a payment expiring while its route ran left the route's work unpaid, the
 * nonce free for the payer to sign again) a client gets anyway by hanging
 * up just before its answer (499, not charged): no protection was lost.
 *
 * An extension's routes (api/ext.h: the OpenAI routes of `gotong node -m`)
 * are priced the same way ("POST /v1/chat/completions": "1000", per
 * request): the payment is verified from the headers, before the extension
 * sees the request; its answer is settled when the extension hands it to
 * gt_api_ext_respond, before a byte of it leaves, and only when it is 2xx: a
 * request refused (400, 404, 429) or failing before it generated is not
 * charged. A stream (stream: true) is answered once its first token is made
 * (serve/routes.c) and settled by how it ends, by whose side it ended on
 * (fail closed for both): ended normally (stop or length), its text
 * buffered to go out, it is settled then (gt_api_ext_settle), its
 * PAYMENT-RESPONSE in its last chunk ("payment_response"); a settlement
 * that fails is an error event in its place, the rest withheld. Ended by
 * the server (an engine error, a grammar dead end, the node stopping, an
 * answer it could not build) it is released unsettled: nothing charged.
 * Ended by its client (gone, hung up, a reset connection, cancelled for
 * not reading: lag) it is settled all the same, at once (the lag's error
 * event then carries the receipt) or when its request completes: the
 * client had the service it paid for up to where it left, and the
 * "exact" scheme has no partial price. Released, a client's hang-up was
 * free: it read nearly all of a stream (it knows max_tokens) and hung up
 * before the end, and the same signature, its nonce unused, bought the
 * next stream, without end. A stream still running when its window leaves
 * under the least window a payment needs (gt_api_x402_settle_due: 10 s on
 * the ledger, 70 s on a chain) is settled then, between two chunks, so it
 * cannot outlast its window unpaid: its receipt still goes in its last
 * chunk, and a settlement that fails there cuts it with the error event.
 * One whose window closed before its first token is answered 402 instead
 * (gt_api_x402_stream_begin). Residual: the settlement due by the window
 * is made between chunks, so on the reader's turn: a client that stops
 * reading before then and holds its connection past the window's end
 * (its stream held by back-pressure, then cancelled for lag) is settled
 * only when the node sees it gone, too late; it keeps what it read. */
#ifndef GT_API_X402_H
#define GT_API_X402_H
#include "api/api_impl.h"
#include "api/x402_ledger.h"
#include "chain/x402.h"

#define GT_API_X402_MAX_PRICES 16
#define GT_API_X402_CONFIG_MAX (16u << 10)
#define GT_API_X402_WAIT_MS 30000 /* a settlement's receipt, usually; a later one until validBefore */
/* A settlement's own time (a block of the node's ledger; + a chain's
 * receipt, GT_API_X402_WAIT_MS): a payment whose window leaves under twice
 * this when it is checked is refused (x402.h, fail closed). */
#define GT_API_X402_SETTLE_MARGIN_S 5

typedef struct gt_api_x402 gt_api_x402; /* defined in x402.c */

#define GT_API_X402_HELD_MAX 256 /* payments in flight at once; one more is refused (402) until one ends */
#define GT_API_X402_HELD_KEY 52  /* a payment in flight: its payer (20 bytes) and nonce (32) */
/* Payments of one payer in flight at once; one more is refused (402) until
 * one ends. On a chain an authorization's nonce is random, and each is
 * prechecked against the same balance, so one funded payer could hold
 * every payment slot with requests it never lets finish (a model's queue,
 * a stream it does not read); with this a payer holds 8 at most, and
 * filling the table takes 32 funded payers. On the ledger a payer has one
 * in flight anyway: its payments carry its consecutive nonces, and only
 * the next one is taken. */
#define GT_API_X402_HELD_PER_PAYER 8

/* One request's payment, between the check and the settlement. */
typedef struct gt_api_x402_pay {
    int priced;
    int held; /* its key is among the payments in flight (gt_api_x402_release takes it out) */
    int reserved; /* on the embedded ledger: its nonce is reserved for it (gt_api_x402_release ends that) */
    uint8_t held_key[GT_API_X402_HELD_KEY];
    gt_x402_req req;
    gt_x402_auth auth; /* on an EVM chain */
    gt_node *node;     /* on the embedded ledger: its ledger settles act */
    uint64_t valid_before; /* its window's end, on the node's clock (x402_now_s) */
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
 * route not run. A payment whose window leaves too little time for the route
 * and a settlement after it is a 402 too (fail closed, above): nothing is
 * ever settled here. */
int gt_api_x402_check(gt_api_x402 *x, gt_req *r, const char *method, const char *pattern, gt_api_x402_pay *p,
                      gt_resp *o);
/* gt_api_x402_check in two steps, for an extension's request (api/ext.h),
 * whose body comes after its headers: check_headers verifies the payment
 * from the headers (0 to go on, p->priced whether a verified payment
 * waits; 1 with o the 402), and take, once the request is whole, puts it
 * among the payments in flight and reserves its nonce (0 to run the route;
 * 1 with o the 402, the payment released). Taken at the headers, a payment
 * held its slot while its body trickled in (up to the node's request_max_s,
 * 120 s): 256 funded payers sending slow bodies kept every honest payment
 * out. A payment never taken is never settled. */
int gt_api_x402_check_headers(gt_api_x402 *x, gt_req *r, const char *method, const char *pattern,
                              gt_api_x402_pay *p, gt_resp *o);
int gt_api_x402_take(gt_api_x402 *x, gt_api_x402_pay *p, gt_resp *o);
/* After the handler, for a priced request: settles a 2xx answer and adds
 * PAYMENT-RESPONSE, or replaces o with a 402; any other answer is sent
 * as it is, nothing charged. */
void gt_api_x402_settle(gt_api_x402 *x, gt_api_x402_pay *p, gt_resp *o);
/* Takes a checked payment out of those in flight and ends its nonce's
 * reservation (settling does both too): for a request that ends without
 * being settled. Idempotent; accepts x and p NULL. */
void gt_api_x402_release(gt_api_x402 *x, gt_api_x402_pay *p);
/* The same for an answer the node did not build (an extension's) whose
 * status is `status`: 0 to send it, with *hdr (gt_free; NULL when nothing
 * was settled: not a 2xx) as PAYMENT-RESPONSE; 1 when o holds the 402 to
 * send instead (the settlement failed). */
int gt_api_x402_settle_status(gt_api_x402 *x, gt_api_x402_pay *p, int status, char **hdr, gt_resp *o);
/* Before a paid stream's head goes out (its first token made, nothing
 * settled): 0 to begin it, its payment left for gt_api_x402_settle_end; 1
 * when its window has closed meanwhile (or leaves under
 * GT_API_X402_SETTLE_MARGIN_S), the payment released and o the 402 to send
 * instead: a stream begun then could only end unpaid, its text given away. */
int gt_api_x402_stream_begin(gt_api_x402 *x, gt_api_x402_pay *p, gt_resp *o);
/* 1 when p (a stream's payment, not yet settled) must be settled now,
 * while it still can: its window leaves under the least window a payment
 * needs when checked (10 s on the ledger, 70 s on a chain). */
int gt_api_x402_settle_due(gt_api_x402 *x, const gt_api_x402_pay *p);
/* Settles a checked payment whose answer (a stream) ended normally, by its
 * client, or is due by its window (gt_api_x402_settle_due), then
 * releases it: 0 with *hdr its PAYMENT-RESPONSE (gt_free; NULL when nothing
 * was priced, or on a chain when the receipt could not be made after the
 * transfer), else an error saying why, nothing moved. Accepts p NULL. */
int gt_api_x402_settle_end(gt_api_x402 *x, gt_api_x402_pay *p, char **hdr, gt_err *err);
#endif
