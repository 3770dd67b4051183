/* x402.h: x402 v2 pay-per-request over HTTP, "exact" scheme on an EVM chain
 * (an EIP-3009 transferWithAuthorization of exactly the price).
 *
 * The wire: a resource answers 402 with a PAYMENT-REQUIRED header (base64 of
 * the PaymentRequired JSON: x402Version 2, resource {url}, accepts [{scheme
 * "exact", network "eip155:<chainId>", amount, asset, payTo,
 * maxTimeoutSeconds, extra {name, version}}]); the client retries with
 * PAYMENT-SIGNATURE (base64 of the PaymentPayload JSON: x402Version, accepted
 * (the requirement it chose, as given), payload {signature, authorization
 * {from, to, value, validAfter, validBefore, nonce}}); the server verifies,
 * settles the transfer on chain, and answers with PAYMENT-RESPONSE (base64 of
 * {success, transaction, network, payer, amount}).
 *
 * Fail closed: the server serves nothing unless the transfer's receipt is
 * confirmed (a failed RPC, a revert, a timeout, a used nonce, a short balance
 * all answer 402 again); a client pays only a requirement on its own chain and
 * token, of at most what is left of its budget, counting a payment as spent
 * as soon as its signature leaves (the server may settle it whatever it
 * answers). Every header from outside is bounded (GT_X402_HEADER_MAX) and
 * parsed strictly (unknown fields of the authorization refused). */
#ifndef GT_CHAIN_X402_H
#define GT_CHAIN_X402_H
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "chain/client.h"
#include "crypto/key.h"

#define GT_X402_VERSION 2
#define GT_X402_HEADER_MAX 8192         /* bytes of one PAYMENT-* header value */
#define GT_X402_MAX_TIMEOUT_S 3600      /* the longest authorization a server offers or accepts */
#define GT_X402_CLOCK_SKEW_S 60         /* client and chain clocks may differ by this much */
#define GT_X402_URL_MAX 512
#define GT_X402_BODY_MAX (16u << 20)    /* a paid resource's body, client side */

/* One payment requirement ("exact" on an EVM chain). */
typedef struct gt_x402_req {
    uint64_t chain_id;
    gt_addr asset, pay_to;
    uint64_t amount, max_timeout_s;
    char name[64], version[16]; /* the token's EIP-712 domain (extra.name, extra.version) */
    char url[GT_X402_URL_MAX];  /* the resource */
} gt_x402_req;

/* A signed EIP-3009 authorization. */
typedef struct gt_x402_auth {
    gt_addr from, to;
    uint64_t value, valid_after, valid_before;
    uint8_t nonce[32];
    gt_sig sig;
} gt_x402_auth;

/* Server: the PAYMENT-REQUIRED value for r (error may be NULL); *out is
 * freed with gt_free. */
int gt_x402_required_header(const gt_x402_req *r, const char *error, char **out, gt_err *err);
/* Client: parses a PAYMENT-REQUIRED value; *out gets the first accepts entry
 * that is "exact" on chain_id in asset (anything else is skipped, none is an
 * error naming what was offered). */
int gt_x402_parse_required(const char *value, uint64_t chain_id, const gt_addr *asset, gt_x402_req *out,
                           gt_err *err);
/* Client: signs r's amount to r's payTo, valid from now_s - GT_X402_CLOCK_SKEW_S
 * to now_s + r's maxTimeoutSeconds, with a random nonce; *out (gt_free) is the
 * PAYMENT-SIGNATURE value, a the authorization. */
int gt_x402_sign(const gt_key *k, const gt_x402_req *r, uint64_t now_s, gt_x402_auth *a, char **out, gt_err *err);
/* Server: parses a PAYMENT-SIGNATURE value and checks it pays exactly r (the
 * scheme, network, asset, payTo and amount it accepted, the authorization's
 * recipient and value, the signature recovering `from`, a validity window
 * open at now_s and no longer than r's maxTimeoutSeconds). */
int gt_x402_verify(const char *value, const gt_x402_req *r, uint64_t now_s, gt_x402_auth *out, gt_err *err);
/* Server: what the token says of a verified authorization now: GT_EFUNDS
 * when its payer holds less than its value, GT_EEXIST when its nonce was
 * used (a replay), else 0 (an RPC error: its code). gt_x402_settle checks
 * the same again before it sends. */
int gt_x402_precheck(gt_chain *c, const gt_x402_req *r, const gt_x402_auth *a, gt_err *err);
/* Server: settles a verified authorization on chain from the facilitator's
 * account (which pays the gas): checks the payer's balance and the nonce
 * unused, sends transferWithAuthorization, waits for its receipt at the
 * chain's confirmation depth; tx gets its hash. A receipt that does not
 * come within the chain's wait is waited for until the chain's time passes
 * the authorization's validBefore (then it can never be mined): a transfer
 * mined after the answer was withheld charged the payer for nothing. Any
 * failure: nothing served. */
int gt_x402_settle(gt_chain *c, gt_chain_account *facilitator, const gt_x402_req *r, const gt_x402_auth *a,
                   uint8_t tx[32], gt_err *err);
/* Server: the PAYMENT-RESPONSE value of a settled payment; *out (gt_free). */
int gt_x402_response_header(const gt_x402_req *r, const gt_x402_auth *a, const uint8_t tx[32], char **out,
                            gt_err *err);
/* Client: parses a PAYMENT-RESPONSE value: success, and the transaction hash. */
int gt_x402_parse_response(const char *value, uint8_t tx[32], gt_addr *payer, gt_err *err);

/* gotong's embedded ledger as an x402 network (its scheme is served by
 * api/x402_ledger.h and paid by agent/pay.h): "gotong:<chainId>" into out (32
 * bytes), its asset the ledger's token. */
#define GT_X402_LEDGER_ASSET "GOT"
void gt_x402_ledger_network(uint64_t chain_id, char out[32]);

/* The header codec shared by every network's scheme: base64 of a JSON
 * object's compact text (j is consumed; *out freed with gt_free), and its
 * strict decoding (the base64 alphabet, a length a multiple of 4, at most
 * GT_X402_HEADER_MAX; the result must be an object). */
int gt_x402_b64_encode(json_t *j, char **out, gt_err *err);
int gt_x402_b64_decode(const char *value, const char *what, json_t **out, gt_err *err);

/* One HTTP exchange of a paying client: status, body (bounded by
 * GT_X402_BODY_MAX) and the two x402 headers ("" when absent or too long). */
typedef struct gt_x402_answer {
    long status;
    gt_buf *body; /* the caller's */
    int over;
    char required[GT_X402_HEADER_MAX + 1], response[GT_X402_HEADER_MAX + 1];
} gt_x402_answer;
/* libcurl's header callback (CURLOPT_HEADERDATA: a gt_x402_answer): keeps
 * PAYMENT-REQUIRED and PAYMENT-RESPONSE in it, for clients of other methods. */
size_t gt_x402_on_header(char *p, size_t size, size_t n, void *answer);
/* GETs url, with a PAYMENT-SIGNATURE header when sig is not NULL. */
int gt_x402_exchange(const char *url, const char *sig, gt_x402_answer *a, gt_err *err);
/* The server's reason for a 402 (PAYMENT-REQUIRED's "error"), or "". */
void gt_x402_refusal(const char *required, char *out, size_t cap);

/* The client's wallet: who pays, on which chain and token, and how much it
 * may still spend. */
typedef struct gt_x402_wallet {
    const gt_key *key;
    uint64_t chain_id;
    gt_addr asset;
    uint64_t budget; /* base units; lowered by each payment sent */
    uint64_t spent;
} gt_x402_wallet;

/* Client: GETs url; on 402 pays within w's budget and retries once. *status
 * gets the final HTTP status, body the final body, tx (if not NULL) the
 * settlement's hash when one was paid (*paid 1). Refuses (GT_EFUNDS) a price
 * over what is left of the budget, sending nothing. */
int gt_x402_get(const char *url, gt_x402_wallet *w, long *status, gt_buf *body, int *paid, uint8_t tx[32],
                gt_err *err);
#endif
