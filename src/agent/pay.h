/* pay.h: an agent's paying HTTP client (x402 v2, "exact" scheme): GETs a
 * resource and, when it answers 402, pays it within a budget and retries once,
 * on whichever of the agent's networks the server offers: gotong's embedded
 * ledger (network "gotong:<chainId>", a signed payment valid for the offer's
 * maxTimeoutSeconds, api/x402_ledger.h)
 * or an EVM chain's token (an EIP-3009 authorization, chain/x402.h).
 *
 * Fail closed: it pays only an offer on a network it was given (the ledger's
 * chain id and genesis salt must be those of its own node; the chain's id and
 * token those of its wallet), never more than what is left of the budget
 * (refused with GT_EFUNDS before anything is signed), and counts a payment as
 * spent once its signature leaves (the server may settle it whatever it
 * answers). A paid request that is not answered 2xx is an error. */
#ifndef GT_AGENT_PAY_H
#define GT_AGENT_PAY_H
#include <stdint.h>
#include "agent/client.h"
#include "base/buf.h"
#include "chain/x402.h"

typedef struct gt_agent_payer {
    const gt_key *key;      /* pays on both networks */
    uint64_t budget, spent; /* base units, all networks together */
    gt_client *ledger;      /* the node keeping the agent's ledger account; NULL: none */
    uint64_t evm_chain_id;  /* 0: no EVM chain */
    gt_addr evm_asset;      /* the token paid with on it */
} gt_agent_payer;

/* What one request paid. */
typedef struct gt_agent_paid {
    int paid;
    uint64_t amount;
    char network[32]; /* "gotong:<id>" or "eip155:<id>" */
    uint8_t tx[32];   /* the ledger action's id, or the chain transaction's hash */
} gt_agent_paid;

/* Chooses an offer of a PAYMENT-REQUIRED value the payer can pay (the
 * ledger's first, then the chain's), checks the budget, signs it and counts
 * it spent: *sig (gt_free) is the PAYMENT-SIGNATURE value. */
int gt_agent_pay_sign(gt_agent_payer *p, const char *required, char **sig, gt_agent_paid *out, gt_err *err);
/* The settlement's id (transaction) of a PAYMENT-RESPONSE value, which
 * must say success: true; an error otherwise. */
int gt_agent_pay_response(const char *value, uint8_t tx[32], gt_err *err);
/* GETs url; on 402 pays (gt_agent_pay_sign) and retries once. *status gets
 * the final status, body the final body, out what was paid. */
int gt_agent_pay_get(gt_agent_payer *p, const char *url, long *status, gt_buf *body, gt_agent_paid *out,
                     gt_err *err);
#endif
