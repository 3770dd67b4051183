/* x402_ledger.h: x402 v2's "exact" scheme settled on the node's own embedded
 * ledger (network "gotong:<chainId>", the asset the ledger's token "GOT").
 *
 * The EVM "exact" scheme pays with an EIP-3009 authorization the token
 * contract checks; on the embedded ledger the same part is played by a
 * signed `payment` action (ledger/rules.h: a transfer with validAfter and
 * validBefore; EIP-712 under the ledger's domain {name "gotong", version "1",
 * chainId, salt = the genesis hash}): signed by the payer, of exactly the
 * price to payTo, spent once (its nonce is the payer's next one, so a replay
 * is refused by the ledger), and submitted by the server only after the
 * handler answered 2xx, never before (api/x402.h, fail closed: a window
 * too short to settle after the route is refused). Its window is EIP-3009's, on
 * block time: the ledger
 * refuses it in a block stamped before validAfter or at/after validBefore,
 * so a server that holds a payment and never serves cannot spend it later;
 * the node also refuses one outside the window or valid for longer than
 * maxTimeoutSeconds (+ GT_X402_CLOCK_SKEW_S) when it arrives. The wire:
 *   PAYMENT-REQUIRED  accepts [{scheme "exact", network "gotong:<id>", amount,
 *                     asset "GOT", payTo, maxTimeoutSeconds, extra {name,
 *                     version, salt}}]
 *   PAYMENT-SIGNATURE {x402Version 2, accepted (as offered), payload {action:
 *                     the signed payment, as POST /v1/actions takes it}}
 *   PAYMENT-RESPONSE  {success, transaction (the action's id), network, payer,
 *                     amount}
 * Within its window the payer can still void a payment by sending any
 * action with its nonce, but not while the node runs the route it pays
 * for: the node reserves the nonce for the payment from its check to its
 * settlement (api/x402.h, gt_ledger_reserve), and the ledger's writer
 * refuses the payer's other actions with that nonce meanwhile. */
#ifndef GT_API_X402_LEDGER_H
#define GT_API_X402_LEDGER_H
#include "chain/x402.h"
#include "ledger/ledger.h"

/* Server: the PAYMENT-REQUIRED value offering r's price on dom's ledger. */
int gt_x402_ledger_required(const gt_x402_req *r, const gt_domain *dom, const char *error, char **out, gt_err *err);
/* Server: parses a PAYMENT-SIGNATURE value; checks it accepted exactly what
 * r offers and carries a payment of exactly r's amount to r's payTo, signed
 * under dom, whose window holds now_s (the node's time: gt_ledger_now_s) and
 * ends within r's maxTimeoutSeconds + GT_X402_CLOCK_SKEW_S of it. *out gets
 * the action (not yet submitted). */
int gt_x402_ledger_verify(const char *value, const gt_x402_req *r, const gt_domain *dom, uint64_t now_s, gt_action *out,
                          gt_err *err);
/* Server: submits the payment to l (one block); a refusal (a used nonce, a
 * short balance, a window the block's time is outside) is an error saying why. */
int gt_x402_ledger_settle(gt_ledger *l, gt_action *a, gt_err *err);
/* Server: the PAYMENT-RESPONSE value of a settled payment. */
int gt_x402_ledger_response(const gt_x402_req *r, const gt_action *a, char **out, gt_err *err);
#endif
