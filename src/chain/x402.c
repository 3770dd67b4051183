/* x402.c: x402 v2's "exact" scheme on an EVM chain (see x402.h): the
 * headers' JSON, the EIP-3009 authorization signed and checked, and its
 * settlement on chain. The HTTP client that pays is x402_client.c. */
#include "chain/x402.h"

#include <assert.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/num.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "crypto/addr.h"
#include "crypto/eip712.h"

#define X402_MAX_ACCEPTS 16

/* base64 (RFC 4648, padded) of json's compact text; *out (gt_free). */
void gt_x402_ledger_network(uint64_t chain_id, char out[32]) {
    snprintf(out, 32, "gotong:%llu", (unsigned long long)chain_id);
}

int gt_x402_b64_encode(json_t *j, char **out, gt_err *err) {
    char *text = j ? gt_json_dump(j) : NULL;
    json_decref(j);
    if (!text) return gt_err_set(err, GT_ENOMEM, "out of memory");
    size_t n = strlen(text), cap = 4 * ((n + 2) / 3) + 1;
    if (cap > GT_X402_HEADER_MAX) {
        free(text);
        return gt_err_set(err, GT_ELIMIT, "x402 header of %zu bytes, over %d", cap, GT_X402_HEADER_MAX);
    }
    *out = gt_malloc(cap);
    if (*out) EVP_EncodeBlock((unsigned char *)*out, (const unsigned char *)text, (int)n);
    free(text);
    return *out ? 0 : gt_err_set(err, GT_ENOMEM, "out of memory");
}

/* Decodes a base64 header value (strict: its alphabet, length a multiple of
 * 4, padding only at the end) and parses it as a JSON object. */
int gt_x402_b64_decode(const char *value, const char *what, json_t **out, gt_err *err) {
    size_t n = value ? strnlen(value, GT_X402_HEADER_MAX + 1) : 0;
    if (n == 0 || n > GT_X402_HEADER_MAX || n % 4)
        return gt_err_set(err, GT_EINVAL, "%s: expected base64 of 4 to %d characters (a multiple of 4)", what,
                          GT_X402_HEADER_MAX);
    size_t pad = value[n - 1] == '=' ? (value[n - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < n - pad; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", value[i]) || !value[i])
            return gt_err_set(err, GT_EINVAL, "%s: character %zu is not base64", what, i);
    unsigned char *raw = gt_malloc(n / 4 * 3 + 1);
    if (!raw) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int len = EVP_DecodeBlock(raw, (const unsigned char *)value, (int)n);
    int rc = len < 0 ? gt_err_set(err, GT_EINVAL, "%s: not base64", what)
                     : gt_json_parse((const char *)raw, (size_t)len - pad, GT_X402_HEADER_MAX, out, err);
    gt_free(raw);
    if (!rc && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = gt_err_set(err, GT_EINVAL, "%s: expected a JSON object", what);
    }
    return rc ? gt_err_wrap(err, "%s", what) : 0;
}

/* "eip155:<id>" */
static void network_of(uint64_t chain_id, char out[32]) {
    snprintf(out, 32, "eip155:%llu", (unsigned long long)chain_id);
}

/* A requirement as x402's PaymentRequirements object. */
static json_t *req_json(const gt_x402_req *r) {
    char net[32], asset[GT_ADDR_STR_BYTES], to[GT_ADDR_STR_BYTES];
    network_of(r->chain_id, net);
    gt_addr_to_str(&r->asset, asset);
    gt_addr_to_str(&r->pay_to, to);
    return json_pack("{s:s,s:s,s:o,s:s,s:s,s:I,s:{s:s,s:s}}", "scheme", "exact", "network", net, "amount",
                     gt_json_units(r->amount), "asset", asset, "payTo", to, "maxTimeoutSeconds",
                     (json_int_t)r->max_timeout_s, "extra", "name", r->name, "version", r->version);
}

int gt_x402_required_header(const gt_x402_req *r, const char *error, char **out, gt_err *err) {
    assert(r->max_timeout_s > 0 && r->max_timeout_s <= GT_X402_MAX_TIMEOUT_S);
    json_t *j = json_pack("{s:i,s:{s:s},s:[o]}", "x402Version", GT_X402_VERSION, "resource", "url", r->url,
                          "accepts", req_json(r));
    if (j && error) json_object_set_new(j, "error", json_string(error));
    return gt_x402_b64_encode(j, out, err);
}

/* A decimal-string amount field of o. */
static int get_amount(const json_t *o, const char *field, uint64_t *out, gt_err *err) {
    const char *s;
    int rc = gt_json_get_str(o, field, GT_NUM_DIGITS_MAX, &s, err);
    return rc ? rc : gt_parse_u64(s, field, 0, UINT64_MAX, out, err);
}

static int get_addr(const json_t *o, const char *field, gt_addr *out, gt_err *err) {
    const char *s;
    int rc = gt_json_get_str(o, field, 42, &s, err);
    return rc ? rc : gt_addr_parse(s, out, err) ? gt_err_wrap(err, "%s", field) : 0;
}

/* One PaymentRequirements object into r (the url is the caller's). */
static int req_parse(const json_t *o, gt_x402_req *r, char *scheme, char *network, gt_err *err) {
    const char *s, *n, *name, *version;
    const json_t *extra = json_object_get(o, "extra");
    int rc;
    if ((rc = gt_json_get_str(o, "scheme", 31, &s, err)) || (rc = gt_json_get_str(o, "network", 31, &n, err)) ||
        (rc = get_amount(o, "amount", &r->amount, err)) || (rc = get_addr(o, "asset", &r->asset, err)) ||
        (rc = get_addr(o, "payTo", &r->pay_to, err)) ||
        (rc = gt_json_get_u64(o, "maxTimeoutSeconds", &r->max_timeout_s, err)))
        return rc;
    strcpy(scheme, s);
    strcpy(network, n);
    if (!json_is_object(extra) || gt_json_get_str(extra, "name", sizeof r->name - 1, &name, NULL) ||
        gt_json_get_str(extra, "version", sizeof r->version - 1, &version, NULL))
        return gt_err_set(err, GT_EINVAL, "extra: expected {name, version} of the token's EIP-712 domain");
    if (r->max_timeout_s == 0 || r->max_timeout_s > GT_X402_MAX_TIMEOUT_S)
        return gt_err_set(err, GT_EINVAL, "maxTimeoutSeconds: expected 1 to %d", GT_X402_MAX_TIMEOUT_S);
    strcpy(r->name, name);
    strcpy(r->version, version);
    return 0;
}

int gt_x402_parse_required(const char *value, uint64_t chain_id, const gt_addr *asset, gt_x402_req *out,
                           gt_err *err) {
    json_t *j = NULL, *acc;
    uint64_t ver = 0;
    char want[32], scheme[32], net[32], seen[256] = "";
    int rc = gt_x402_b64_decode(value, "PAYMENT-REQUIRED", &j, err);
    if (!rc && (rc = gt_json_get_u64(j, "x402Version", &ver, err)) == 0 && ver != GT_X402_VERSION)
        rc = gt_err_set(err, GT_EINVAL, "PAYMENT-REQUIRED: x402Version %llu, expected 2", (unsigned long long)ver);
    acc = rc ? NULL : json_object_get(j, "accepts");
    if (!rc && (!json_is_array(acc) || json_array_size(acc) == 0 || json_array_size(acc) > X402_MAX_ACCEPTS))
        rc = gt_err_set(err, GT_EINVAL, "PAYMENT-REQUIRED: accepts must be an array of 1 to %d", X402_MAX_ACCEPTS);
    network_of(chain_id, want);
    int found = 0;
    for (size_t i = 0; !rc && !found && i < json_array_size(acc); i++) {
        memset(out, 0, sizeof *out);
        if (req_parse(json_array_get(acc, i), out, scheme, net, NULL)) continue; /* a form we do not read */
        size_t used = strlen(seen);
        snprintf(seen + used, sizeof seen - used, "%s%s on %s", used ? ", " : "", scheme, net);
        found = !strcmp(scheme, "exact") && !strcmp(net, want) && gt_addr_eq(&out->asset, asset);
        out->chain_id = chain_id;
    }
    if (!rc && !found)
        rc = gt_err_set(err, GT_ENOTFOUND, "the server accepts no \"exact\" payment in this wallet's token on %s "
                        "(offered: %s)", want, seen[0] ? seen : "nothing readable");
    const json_t *res = rc ? NULL : json_object_get(j, "resource");
    const char *url = res ? json_string_value(json_object_get(res, "url")) : NULL;
    if (!rc && url) snprintf(out->url, sizeof out->url, "%s", url);
    json_decref(j);
    return rc;
}

/* The EIP-712 digest the payer signs: TransferWithAuthorization under the
 * token's domain (r's name, version, chain and asset). */
static void auth_digest(const gt_x402_req *r, const gt_x402_auth *a, uint8_t out[32]) {
    uint8_t th[32], sh[32], dom[32];
    gt_eip712_enc e;
    gt_eip712_type_hash("TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,"
                        "uint256 validBefore,bytes32 nonce)", th);
    gt_eip712_enc_init(&e, th);
    gt_eip712_enc_address(&e, &a->from);
    gt_eip712_enc_address(&e, &a->to);
    gt_eip712_enc_uint(&e, a->value);
    gt_eip712_enc_uint(&e, a->valid_after);
    gt_eip712_enc_uint(&e, a->valid_before);
    gt_eip712_enc_bytes32(&e, a->nonce);
    gt_eip712_enc_final(&e, sh);
    gt_eip712_domain_separator(r->name, r->version, r->chain_id, &r->asset, dom);
    gt_eip712_digest(dom, sh, out);
}

/* The PaymentPayload for a signed authorization. */
static json_t *payload_json(const gt_x402_req *r, const gt_x402_auth *a) {
    char from[GT_ADDR_STR_BYTES], to[GT_ADDR_STR_BYTES], nonce[67], sig[133];
    gt_addr_to_str(&a->from, from);
    gt_addr_to_str(&a->to, to);
    nonce[0] = '0', nonce[1] = 'x';
    gt_hex_encode(a->nonce, 32, nonce + 2);
    gt_sig_to_hex(&a->sig, sig);
    return json_pack("{s:i,s:{s:s},s:o,s:{s:s,s:{s:s,s:s,s:o,s:o,s:o,s:s}}}", "x402Version", GT_X402_VERSION,
                     "resource", "url", r->url, "accepted", req_json(r), "payload", "signature", sig,
                     "authorization", "from", from, "to", to, "value", gt_json_units(a->value), "validAfter",
                     gt_json_units(a->valid_after), "validBefore", gt_json_units(a->valid_before), "nonce", nonce);
}

int gt_x402_sign(const gt_key *k, const gt_x402_req *r, uint64_t now_s, gt_x402_auth *a, char **out, gt_err *err) {
    memset(a, 0, sizeof *a);
    if (gt_key_address(k, &a->from)) return gt_err_set(err, GT_EINVAL, "the paying key is not a valid key");
    if (RAND_bytes(a->nonce, 32) != 1) return gt_err_set(err, GT_EIO, "no randomness for the payment's nonce");
    a->to = r->pay_to;
    a->value = r->amount;
    a->valid_after = now_s > GT_X402_CLOCK_SKEW_S ? now_s - GT_X402_CLOCK_SKEW_S : 0;
    a->valid_before = now_s + r->max_timeout_s;
    uint8_t d[32];
    auth_digest(r, a, d);
    int rc = gt_sign_digest(k, d, &a->sig, err);
    return rc ? rc : gt_x402_b64_encode(payload_json(r, a), out, err);
}

/* The payload's authorization and signature into a (strict: no other field). */
static int auth_parse(const json_t *p, gt_x402_auth *a, gt_err *err) {
    static const char *const pfields[] = {"signature", "authorization", NULL};
    static const char *const afields[] = {"from", "to", "value", "validAfter", "validBefore", "nonce", NULL};
    const json_t *au = json_object_get(p, "authorization");
    const char *sig, *nonce;
    int rc;
    if (!json_is_object(p) || !json_is_object(au))
        return gt_err_set(err, GT_EINVAL, "payload: expected {signature, authorization}");
    if ((rc = gt_json_only_fields(p, pfields, "payload", err)) ||
        (rc = gt_json_only_fields(au, afields, "authorization", err)) ||
        (rc = gt_json_get_str(p, "signature", 132, &sig, err)) || (rc = gt_sig_from_hex(&a->sig, sig, err)) ||
        (rc = get_addr(au, "from", &a->from, err)) || (rc = get_addr(au, "to", &a->to, err)) ||
        (rc = get_amount(au, "value", &a->value, err)) || (rc = get_amount(au, "validAfter", &a->valid_after, err)) ||
        (rc = get_amount(au, "validBefore", &a->valid_before, err)) ||
        (rc = gt_json_get_str(au, "nonce", 66, &nonce, err)) ||
        (rc = gt_hex_decode(nonce, a->nonce, 32, "nonce", err)))
        return rc;
    return 0;
}

/* The requirement the payer says it accepted must be r, field for field. */
static int accepted_check(const json_t *acc, const gt_x402_req *r, gt_err *err) {
    gt_x402_req got;
    char scheme[32], net[32], want[32];
    memset(&got, 0, sizeof got);
    if (!json_is_object(acc)) return gt_err_set(err, GT_EINVAL, "accepted: expected the PaymentRequirements chosen");
    int rc = req_parse(acc, &got, scheme, net, err);
    if (rc) return gt_err_wrap(err, "accepted");
    network_of(r->chain_id, want);
    if (strcmp(scheme, "exact") || strcmp(net, want) || !gt_addr_eq(&got.asset, &r->asset) ||
        !gt_addr_eq(&got.pay_to, &r->pay_to) || got.amount != r->amount)
        return gt_err_set(err, GT_EINVAL, "accepted: not this resource's requirement (exact, %s, %llu base units "
                          "of the asset to payTo)", want, (unsigned long long)r->amount);
    return 0;
}

/* What the authorization must say: r's payTo and amount, a window open now and no longer than r allows. */
static int auth_check(const gt_x402_req *r, const gt_x402_auth *a, uint64_t now_s, gt_err *err) {
    if (!gt_addr_eq(&a->to, &r->pay_to)) return gt_err_set(err, GT_EINVAL, "authorization.to is not payTo");
    if (a->value != r->amount)
        return gt_err_set(err, GT_EINVAL, "authorization.value %llu is not the price %llu (scheme exact)",
                          (unsigned long long)a->value, (unsigned long long)r->amount);
    if (a->valid_after >= now_s || a->valid_before <= now_s)
        return gt_err_set(err, GT_EINVAL, "the authorization is valid from %llu to %llu, not now (%llu)",
                          (unsigned long long)a->valid_after, (unsigned long long)a->valid_before,
                          (unsigned long long)now_s);
    if (a->valid_before - now_s > r->max_timeout_s + GT_X402_CLOCK_SKEW_S)
        return gt_err_set(err, GT_EINVAL, "the authorization stays valid %llu s, over maxTimeoutSeconds %llu",
                          (unsigned long long)(a->valid_before - now_s), (unsigned long long)r->max_timeout_s);
    uint8_t d[32];
    gt_addr signer;
    auth_digest(r, a, d);
    int rc = gt_recover_digest(d, &a->sig, &signer, err);
    if (rc) return gt_err_wrap(err, "signature");
    if (!gt_addr_eq(&signer, &a->from))
        return gt_err_set(err, GT_ESIG, "the signature is not authorization.from's (over these fields)");
    return 0;
}

int gt_x402_verify(const char *value, const gt_x402_req *r, uint64_t now_s, gt_x402_auth *out, gt_err *err) {
    json_t *j = NULL;
    uint64_t ver = 0;
    memset(out, 0, sizeof *out);
    int rc = gt_x402_b64_decode(value, "PAYMENT-SIGNATURE", &j, err);
    if (!rc && (rc = gt_json_get_u64(j, "x402Version", &ver, err)) == 0 && ver != GT_X402_VERSION)
        rc = gt_err_set(err, GT_EINVAL, "x402Version %llu, expected 2", (unsigned long long)ver);
    if (!rc) rc = accepted_check(json_object_get(j, "accepted"), r, err);
    if (!rc) rc = auth_parse(json_object_get(j, "payload"), out, err);
    if (!rc) rc = auth_check(r, out, now_s, err);
    json_decref(j);
    return rc ? gt_err_wrap(err, "PAYMENT-SIGNATURE") : 0;
}

/* One word of a view call on the token (balanceOf, authorizationState). */
static int token_word(gt_chain *c, const gt_x402_req *r, const char *sig, const gt_abi_val *args, size_t n,
                      uint64_t *out, gt_err *err) {
    gt_buf d = GT_BUF_INIT, res = GT_BUF_INIT;
    uint8_t w[32];
    int rc = gt_abi_calldata(sig, args, n, &d, err);
    if (!rc) rc = gt_chain_call(c, NULL, &r->asset, d.data, d.len, &res, err);
    if (!rc && res.len != 32) rc = gt_err_set(err, GT_ECHAIN, "%s: expected one word back", sig);
    if (!rc) memcpy(w, res.data, 32);
    gt_buf_free(&d);
    gt_buf_free(&res);
    if (rc) return rc;
    for (int i = 0; i < 24; i++) /* a balance past 2^64 is more than any price: cap it */
        if (w[i]) return *out = UINT64_MAX, 0;
    return gt_abi_word_u64(w, out, sig, err);
}

/* A sent settlement (hash) whose receipt did not come within the chain's
 * wait (a slow block, an RPC error): waits for its fate, 0 with *rec once
 * it is mined at the chain's depth, GT_ESTATE once the chain's time has
 * reached the authorization's validBefore with no receipt (it can never
 * succeed from then on). Giving up at the first timeout withheld the
 * answer while the transfer could still be mined: the payer charged, its
 * answer never sent. Bounded on the local clock by validBefore + the clock
 * skew + one wait: past that, the fate unknown is an error too. */
static int settle_fate(gt_chain *c, const gt_x402_auth *a, const uint8_t hash[32], gt_chain_receipt *rec,
                       gt_err *err) {
    uint64_t give_up = a->valid_before + GT_X402_CLOCK_SKEW_S + (uint64_t)c->wait_ms / 1000;
    for (;;) {
        uint64_t chain_s = 0;
        int found = 0, late = !gt_chain_block_time(c, &chain_s, NULL) && chain_s >= a->valid_before;
        gt_chain_receipt_free(rec);
        int got = !gt_chain_receipt_get(c, hash, rec, &found, NULL) && found;
        gt_chain_receipt_free(rec);
        if (got) return gt_chain_wait(c, hash, rec, err); /* mined: now to the chain's depth */
        if (late) /* every block from now on is at or past validBefore: the transfer reverts there */
            return gt_err_set(err, GT_ESTATE, "the settlement was not mined before the authorization expired");
        if ((uint64_t)time(NULL) > give_up)
            return gt_err_set(err, GT_ESTATE, "the settlement's fate is unknown: the chain does not answer");
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
}

int gt_x402_precheck(gt_chain *c, const gt_x402_req *r, const gt_x402_auth *a, gt_err *err) {
    uint64_t bal = 0, used = 0;
    gt_abi_val who[] = {gt_abi_address(&a->from)}, st[] = {gt_abi_address(&a->from), gt_abi_bytes32(a->nonce)};
    int rc = token_word(c, r, "balanceOf(address)", who, 1, &bal, err);
    if (!rc && bal < a->value)
        rc = gt_err_set(err, GT_EFUNDS, "the payer holds %llu base units, the price is %llu", (unsigned long long)bal,
                        (unsigned long long)a->value);
    if (!rc) rc = token_word(c, r, "authorizationState(address,bytes32)", st, 2, &used, err);
    if (!rc && used) rc = gt_err_set(err, GT_EEXIST, "this authorization's nonce was already used");
    return rc;
}

int gt_x402_settle(gt_chain *c, gt_chain_account *facilitator, const gt_x402_req *r, const gt_x402_auth *a,
                   uint8_t tx[32], gt_err *err) {
    int rc = gt_x402_precheck(c, r, a, err);
    if (rc) return gt_err_wrap(err, "x402 settlement refused");
    gt_abi_val args[] = {gt_abi_address(&a->from), gt_abi_address(&a->to), gt_abi_uint(a->value),
                         gt_abi_uint(a->valid_after), gt_abi_uint(a->valid_before), gt_abi_bytes32(a->nonce),
                         gt_abi_uint(a->sig.v), gt_abi_bytes32(a->sig.r), gt_abi_bytes32(a->sig.s)};
    gt_chain_receipt rec = {0};
    gt_buf d = GT_BUF_INIT;
    uint8_t hash[32];
    rc = gt_abi_calldata("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,"
                         "bytes32)", args, 9, &d, err);
    if (!rc) rc = gt_chain_send(c, facilitator, &r->asset, NULL, d.data, d.len, hash, err);
    gt_buf_free(&d);
    if (!rc && gt_chain_wait(c, hash, &rec, err)) rc = settle_fate(c, a, hash, &rec, err);
    if (!rc && rec.status != 1)
        rc = gt_err_set(err, GT_ECHAIN, "the transaction reverted in block %llu", (unsigned long long)rec.block_number);
    if (!rc) memcpy(tx, hash, 32);
    gt_chain_receipt_free(&rec);
    return rc ? gt_err_wrap(err, "x402 settlement failed") : 0;
}

int gt_x402_response_header(const gt_x402_req *r, const gt_x402_auth *a, const uint8_t tx[32], char **out,
                            gt_err *err) {
    char net[32], payer[GT_ADDR_STR_BYTES], hash[67];
    network_of(r->chain_id, net);
    gt_addr_to_str(&a->from, payer);
    hash[0] = '0', hash[1] = 'x';
    gt_hex_encode(tx, 32, hash + 2);
    json_t *j = json_pack("{s:b,s:s,s:s,s:s,s:o}", "success", 1, "transaction", hash, "network", net, "payer", payer,
                          "amount", gt_json_units(a->value));
    return gt_x402_b64_encode(j, out, err);
}

int gt_x402_parse_response(const char *value, uint8_t tx[32], gt_addr *payer, gt_err *err) {
    json_t *j = NULL;
    int ok = 0;
    const char *hash;
    int rc = gt_x402_b64_decode(value, "PAYMENT-RESPONSE", &j, err);
    if (!rc) rc = gt_json_get_bool(j, "success", &ok, err);
    if (!rc && !ok) rc = gt_err_set(err, GT_ECHAIN, "PAYMENT-RESPONSE: the server says the settlement failed");
    if (!rc) rc = gt_json_get_str(j, "transaction", 66, &hash, err);
    if (!rc) rc = gt_hex_decode(hash, tx, 32, "transaction", err);
    if (!rc && payer) rc = get_addr(j, "payer", payer, err);
    json_decref(j);
    return rc;
}
