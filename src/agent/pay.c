/* pay.c: an agent's paying HTTP client (see pay.h). */
#include "agent/pay.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/num.h"
#include "crypto/addr.h"
#include "ledger/rules.h"

#define PAY_MAX_ACCEPTS 16

/* The first "exact" offer of the embedded ledger of dom (network, asset and
 * the domain's salt); NULL when none. *amount, *pay_to and *timeout_s (its
 * maxTimeoutSeconds, 1 to GT_X402_MAX_TIMEOUT_S) from it. */
static const json_t *ledger_offer(const json_t *accepts, const gt_domain *dom, uint64_t *amount, gt_addr *pay_to,
                                  uint64_t *timeout_s) {
    char net[32], salt[67] = "0x";
    gt_x402_ledger_network(dom->chain_id, net);
    gt_hex_encode(dom->salt, 32, salt + 2);
    for (size_t i = 0; i < json_array_size(accepts) && i < PAY_MAX_ACCEPTS; i++) {
        const json_t *o = json_array_get(accepts, i), *extra = json_object_get(o, "extra");
        const char *s = json_string_value(json_object_get(o, "scheme"));
        const char *n = json_string_value(json_object_get(o, "network"));
        const char *a = json_string_value(json_object_get(o, "asset"));
        const char *to = json_string_value(json_object_get(o, "payTo"));
        const char *amt = json_string_value(json_object_get(o, "amount"));
        const char *sa = json_string_value(json_object_get(extra, "salt"));
        json_int_t t = json_integer_value(json_object_get(o, "maxTimeoutSeconds"));
        if (t < 1 || t > GT_X402_MAX_TIMEOUT_S) continue;
        *timeout_s = (uint64_t)t;
        if (!s || !n || !a || !to || !amt || !sa || strcmp(s, "exact") || strcmp(n, net) ||
            strcmp(a, GT_X402_LEDGER_ASSET) || strcasecmp(sa, salt) || gt_addr_parse(to, pay_to, NULL) ||
            gt_parse_u64(amt, "amount", 1, UINT64_MAX, amount, NULL))
            continue;
        return o;
    }
    return NULL;
}

/* The budget allows amount, or GT_EFUNDS saying so (nothing signed). */
static int budget_check(const gt_agent_payer *p, uint64_t amount, gt_err *err) {
    if (amount <= p->budget - p->spent) return 0;
    return gt_err_set(err, GT_EFUNDS, "the price is %llu base units; the budget has %llu left: not paid",
                      (unsigned long long)amount, (unsigned long long)(p->budget - p->spent));
}

/* Signs a payment of the offer to its payTo with the account's next nonce,
 * valid from now - GT_X402_CLOCK_SKEW_S until now + the offer's timeout_s:
 * held longer by the server, the ledger refuses it. */
static int sign_ledger(gt_agent_payer *p, const json_t *offer, uint64_t amount, const gt_addr *to, uint64_t timeout_s,
                       const gt_domain *dom, char **sig, gt_agent_paid *out, gt_err *err) {
    gt_addr from;
    gt_client_acct acct;
    gt_action *a = gt_calloc(1, sizeof *a);
    if (!a) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_key_address(p->key, &from);
    int rc = gt_client_account(p->ledger, &from, &acct, err);
    if (!rc) {
        uint64_t now_s = (uint64_t)time(NULL);
        gt_action_init(a, &gt_kind_payment, dom, &from, acct.nonce);
        gt_action_set_addr(a, "to", to);
        gt_action_set_u64(a, "amount", amount);
        gt_action_set_u64(a, "validAfter", now_s > GT_X402_CLOCK_SKEW_S ? now_s - GT_X402_CLOCK_SKEW_S : 0);
        gt_action_set_u64(a, "validBefore", now_s + timeout_s);
        rc = gt_action_sign(a, p->key, err);
    }
    if (!rc) rc = gt_x402_b64_encode(json_pack("{s:i,s:O,s:{s:o}}", "x402Version", GT_X402_VERSION, "accepted", offer,
                                               "payload", "action", gt_action_to_json(a, 1)),
                                     sig, err);
    if (!rc) {
        memcpy(out->tx, a->id, 32);
        gt_x402_ledger_network(dom->chain_id, out->network);
    }
    gt_free(a);
    return rc;
}

/* The chain's offer, signed as an EIP-3009 authorization. */
static int sign_evm(gt_agent_payer *p, const char *required, char **sig, gt_agent_paid *out, gt_err *err) {
    gt_x402_req r;
    gt_x402_auth au;
    int rc = gt_x402_parse_required(required, p->evm_chain_id, &p->evm_asset, &r, err);
    if (!rc) rc = budget_check(p, r.amount, err);
    if (!rc) rc = gt_x402_sign(p->key, &r, (uint64_t)time(NULL), &au, sig, err);
    if (!rc) {
        out->amount = r.amount;
        snprintf(out->network, sizeof out->network, "eip155:%llu", (unsigned long long)p->evm_chain_id);
    }
    return rc;
}

int gt_agent_pay_sign(gt_agent_payer *p, const char *required, char **sig, gt_agent_paid *out, gt_err *err) {
    json_t *j = NULL;
    gt_domain dom;
    gt_addr to;
    uint64_t amount = 0, timeout_s = 0;
    memset(out, 0, sizeof *out);
    *sig = NULL;
    int rc = gt_x402_b64_decode(required, "PAYMENT-REQUIRED", &j, err);
    const json_t *offer = NULL;
    if (!rc && p->ledger && !(rc = gt_client_domain(p->ledger, &dom, err)))
        offer = ledger_offer(json_object_get(j, "accepts"), &dom, &amount, &to, &timeout_s);
    if (!rc && offer && !(rc = budget_check(p, amount, err))) {
        rc = sign_ledger(p, offer, amount, &to, timeout_s, &dom, sig, out, err);
        out->amount = amount;
    } else if (!rc && !offer && p->evm_chain_id) {
        rc = sign_evm(p, required, sig, out, err);
    } else if (!rc && !offer) {
        rc = gt_err_set(err, GT_ENOTFOUND, "the server offers no \"exact\" payment on this agent's networks");
    }
    json_decref(j);
    if (!rc) p->spent += out->amount; /* spent once the signature leaves */
    return rc;
}

/* The settlement's id from PAYMENT-RESPONSE ({success, transaction}). */
int gt_agent_pay_response(const char *value, uint8_t tx[32], gt_err *err) {
    json_t *j = NULL;
    int rc = gt_x402_b64_decode(value, "PAYMENT-RESPONSE", &j, err);
    const char *t = rc ? NULL : json_string_value(json_object_get(j, "transaction"));
    if (!rc && !json_is_true(json_object_get(j, "success")))
        rc = gt_err_set(err, GT_EINVAL, "PAYMENT-RESPONSE: success is not true");
    if (!rc && (!t || strncmp(t, "0x", 2) || gt_hex_decode(t + 2, tx, 32, "PAYMENT-RESPONSE transaction", err)))
        rc = gt_err_set(err, GT_EINVAL, "PAYMENT-RESPONSE: transaction must be 0x and 64 hex digits");
    json_decref(j);
    return rc;
}

int gt_agent_pay_get(gt_agent_payer *p, const char *url, long *status, gt_buf *body, gt_agent_paid *out,
                     gt_err *err) {
    gt_x402_answer *a = gt_calloc(1, sizeof *a); /* two 8 KB headers: not on the stack */
    char *sig = NULL;
    if (!a) return gt_err_set(err, GT_ENOMEM, "out of memory");
    memset(out, 0, sizeof *out);
    a->body = body;
    int rc = gt_x402_exchange(url, NULL, a, err);
    int asked = !rc && a->status == 402;
    if (asked && (rc = gt_agent_pay_sign(p, a->required, &sig, out, err))) gt_err_wrap(err, "%s answered 402", url);
    if (asked && !rc) {
        body->len = 0;
        memset(a, 0, sizeof *a);
        a->body = body;
        rc = gt_x402_exchange(url, sig, a, err);
    }
    *status = a->status;
    if (!rc && asked && a->status == 402) {
        char why[256];
        gt_x402_refusal(a->required, why, sizeof why);
        rc = gt_err_set(err, GT_EPERM, "%s refused the payment: %s", url, why[0] ? why : "no reason given");
    } else if (!rc && asked && a->status / 100 != 2) {
        rc = gt_err_set(err, GT_EIO, "%s answered %ld to the paid request", url, a->status);
    } else if (!rc && asked && !(rc = gt_agent_pay_response(a->response, out->tx, err))) {
        out->paid = 1;
    }
    gt_free(sig);
    gt_free(a);
    return rc;
}
