/* x402_ledger.c: the "exact" scheme on the embedded ledger (see x402_ledger.h). */
#include "api/x402_ledger.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "base/num.h"
#include "crypto/addr.h"
#include "ledger/rules.h"

/* The one accepts entry: r's price on dom's ledger. */
static json_t *offer_json(const gt_x402_req *r, const gt_domain *dom) {
    char net[32], amount[24], to[GT_ADDR_STR_BYTES], salt[67] = "0x";
    gt_x402_ledger_network(dom->chain_id, net);
    snprintf(amount, sizeof amount, "%llu", (unsigned long long)r->amount);
    gt_addr_to_str(&r->pay_to, to);
    gt_hex_encode(dom->salt, 32, salt + 2);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:{s:s,s:s,s:s}}", "scheme", "exact", "network", net, "amount", amount,
                     "asset", GT_X402_LEDGER_ASSET, "payTo", to, "maxTimeoutSeconds", (json_int_t)r->max_timeout_s,
                     "extra", "name", "gotong", "version", "1", "salt", salt);
}

int gt_x402_ledger_required(const gt_x402_req *r, const gt_domain *dom, const char *error, char **out, gt_err *err) {
    json_t *j = json_pack("{s:i,s:{s:s},s:[o]}", "x402Version", GT_X402_VERSION, "resource", "url", r->url, "accepts",
                          offer_json(r, dom));
    if (j && error) json_object_set_new(j, "error", json_string(error));
    return gt_x402_b64_encode(j, out, err);
}

/* The payload's "accepted" must be the offer, field for field. */
static int accepted_check(const json_t *acc, const gt_x402_req *r, const gt_domain *dom, gt_err *err) {
    json_t *want = offer_json(r, dom);
    int same = want && json_equal(want, (json_t *)acc);
    json_decref(want);
    return same ? 0 : gt_err_set(err, GT_EINVAL, "PAYMENT-SIGNATURE: \"accepted\" is not the offer of this resource "
                                                 "(scheme, network, amount, asset, payTo, maxTimeoutSeconds, extra)");
}

/* The payment pays exactly r: kind, recipient, amount, signature under dom. */
static int payment_check(gt_action *a, const gt_x402_req *r, const gt_domain *dom, gt_err *err) {
    if (a->kind != &gt_kind_payment)
        return gt_err_set(err, GT_EINVAL, "PAYMENT-SIGNATURE: payload.action must be a payment (a transfer with "
                                          "validAfter and validBefore), not %s", a->kind->name);
    int to = gt_action_field(a->kind, "to"), amount = gt_action_field(a->kind, "amount");
    assert(to >= 0 && amount >= 0);
    if (!gt_addr_eq(&a->f[to].addr, &r->pay_to))
        return gt_err_set(err, GT_EINVAL, "PAYMENT-SIGNATURE: the payment is not to payTo");
    if (a->f[amount].u64 != r->amount)
        return gt_err_set(err, GT_EINVAL, "PAYMENT-SIGNATURE: the payment is of %llu base units, the price is %llu",
                          (unsigned long long)a->f[amount].u64, (unsigned long long)r->amount);
    if (!a->has_salt) return gt_err_set(err, GT_EINVAL, "PAYMENT-SIGNATURE: the payment names no salt (domain)");
    return gt_action_verify(a, dom, err) ? gt_err_wrap(err, "PAYMENT-SIGNATURE: the payment's signature") : 0;
}

/* The payment's window holds now_s (the node's time, the next block's) and
 * ends within maxTimeoutSeconds (+ the clock skew) of it: the server may
 * hold an authorization no longer than it offered to. */
static int window_check(const gt_action *a, const gt_x402_req *r, uint64_t now_s, gt_err *err) {
    int fa = gt_action_field(a->kind, "validAfter"), fb = gt_action_field(a->kind, "validBefore");
    assert(fa >= 0 && fb >= 0);
    uint64_t after = a->f[fa].u64, before = a->f[fb].u64;
    if (now_s < after)
        return gt_err_set(err, GT_ESTATE, "PAYMENT-SIGNATURE: the payment is not yet valid: validAfter %llu, the "
                                          "node's time is %llu", (unsigned long long)after, (unsigned long long)now_s);
    if (now_s >= before)
        return gt_err_set(err, GT_ESTATE, "PAYMENT-SIGNATURE: the payment expired: validBefore %llu, the node's "
                                          "time is %llu", (unsigned long long)before, (unsigned long long)now_s);
    if (before - now_s > r->max_timeout_s + GT_X402_CLOCK_SKEW_S)
        return gt_err_set(err, GT_EINVAL, "PAYMENT-SIGNATURE: the payment stays valid %llu s, over "
                                          "maxTimeoutSeconds %llu (+%d s of clock skew)",
                          (unsigned long long)(before - now_s), (unsigned long long)r->max_timeout_s,
                          GT_X402_CLOCK_SKEW_S);
    return 0;
}

int gt_x402_ledger_verify(const char *value, const gt_x402_req *r, const gt_domain *dom, uint64_t now_s, gt_action *out,
                          gt_err *err) {
    static const char *const top[] = {"x402Version", "accepted", "payload", "resource", "extensions", NULL};
    static const char *const inner[] = {"action", NULL};
    json_t *j = NULL;
    int rc = gt_x402_b64_decode(value, "PAYMENT-SIGNATURE", &j, err);
    json_t *payload = json_object_get(j, "payload"), *act = json_object_get(payload, "action");
    if (!rc) rc = gt_json_only_fields(j, top, "PAYMENT-SIGNATURE", err);
    if (!rc && json_integer_value(json_object_get(j, "x402Version")) != GT_X402_VERSION)
        rc = gt_err_set(err, GT_EINVAL, "PAYMENT-SIGNATURE: x402Version must be %d", GT_X402_VERSION);
    if (!rc) rc = accepted_check(json_object_get(j, "accepted"), r, dom, err);
    if (!rc && (!json_is_object(payload) || !json_is_object(act)))
        rc = gt_err_set(err, GT_EINVAL, "PAYMENT-SIGNATURE: expected payload {\"action\": a signed payment}");
    if (!rc) rc = gt_json_only_fields(payload, inner, "PAYMENT-SIGNATURE payload", err);
    if (!rc && (rc = gt_action_from_json(act, out, err))) gt_err_wrap(err, "PAYMENT-SIGNATURE: payload.action");
    if (!rc) rc = payment_check(out, r, dom, err);
    if (!rc) rc = window_check(out, r, now_s, err);
    json_decref(j);
    return rc;
}

int gt_x402_ledger_settle(gt_ledger *l, gt_action *a, gt_err *err) {
    gt_result res = {0};
    if (gt_ledger_submit(l, a, 1, &res) == 1) return 0;
    return gt_err_set(err, res.code ? res.code : GT_ESTATE, "the ledger refused the payment: %s", res.msg);
}

int gt_x402_ledger_response(const gt_x402_req *r, const gt_action *a, char **out, gt_err *err) {
    char net[32], id[67] = "0x", payer[GT_ADDR_STR_BYTES], amount[24];
    gt_x402_ledger_network(a->chain_id, net);
    gt_hex_encode(a->id, 32, id + 2);
    gt_addr_to_str(&a->from, payer);
    snprintf(amount, sizeof amount, "%llu", (unsigned long long)r->amount);
    return gt_x402_b64_encode(json_pack("{s:b,s:s,s:s,s:s,s:s}", "success", 1, "transaction", id, "network", net,
                                        "payer", payer, "amount", amount),
                              out, err);
}
