/* erc8004.c: ERC-8004's reputation and validation registries (see erc8004.h). */
#include "chain/erc8004.h"

#include <assert.h>
#include <string.h>

#include "base/alloc.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"

int gt_erc8004_sign_auth(const gt_key *k, const gt_erc8004_auth *a, uint8_t out[GT_ERC8004_AUTH_BYTES], gt_err *err) {
    gt_addr me;
    if (gt_key_address(k, &me) || !gt_addr_eq(&me, &a->signer))
        return gt_err_set(err, GT_EINVAL, "feedbackAuth: the signer field must be the signing key's address");
    gt_abi_val t[] = {gt_abi_uint(a->agent_id), gt_abi_address(&a->client), gt_abi_uint(a->index_limit),
                      gt_abi_uint(a->expiry),   gt_abi_uint(a->chain_id), gt_abi_address(&a->registry),
                      gt_abi_address(&a->signer)};
    gt_buf enc = GT_BUF_INIT;
    uint8_t h[32], d[32];
    gt_sig sig;
    int rc = gt_abi_encode(t, 7, &enc, err);
    assert(rc || enc.len == 7 * 32);
    if (!rc) {
        gt_keccak256(enc.data, enc.len, h);
        gt_personal_digest(h, 32, d);
        rc = gt_sign_digest(k, d, &sig, err);
    }
    if (!rc) {
        memcpy(out, enc.data, 7 * 32);
        gt_sig_to_bytes(&sig, out + 7 * 32);
    }
    gt_buf_free(&enc);
    return rc;
}

/* One transaction; the receipt is not kept. */
static int send(gt_chain *c, const gt_addr *to, gt_chain_account *a, const char *sig, const gt_abi_val *args, size_t n,
                uint64_t *gas, gt_err *err) {
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, to, a, sig, args, n, &r, gas, err);
    gt_chain_receipt_free(&r);
    return rc;
}

int gt_erc8004_give_feedback(gt_chain *c, const gt_addr *reputation, gt_chain_account *client, uint64_t agent_id,
                             unsigned score, const uint8_t tag1[32], const uint8_t tag2[32], const char *fileuri,
                             const uint8_t filehash[32], const uint8_t auth[GT_ERC8004_AUTH_BYTES], uint64_t *gas,
                             gt_err *err) {
    gt_abi_val a[] = {gt_abi_uint(agent_id), gt_abi_uint(score), gt_abi_bytes32(tag1), gt_abi_bytes32(tag2),
                      gt_abi_string(fileuri), gt_abi_bytes32(filehash), gt_abi_bytes(auth, GT_ERC8004_AUTH_BYTES)};
    return send(c, reputation, client, "giveFeedback(uint256,uint8,bytes32,bytes32,string,bytes32,bytes)", a, 7, gas,
                err);
}

int gt_erc8004_revoke(gt_chain *c, const gt_addr *reputation, gt_chain_account *client, uint64_t agent_id,
                      uint64_t index, gt_err *err) {
    gt_abi_val a[] = {gt_abi_uint(agent_id), gt_abi_uint(index)};
    return send(c, reputation, client, "revokeFeedback(uint256,uint64)", a, 2, NULL, err);
}

int gt_erc8004_summary(gt_chain *c, const gt_addr *registry, int validation, uint64_t agent_id, const gt_addr *filter,
                       size_t n, const uint8_t tag1[32], const uint8_t tag2[32], uint64_t *count, uint64_t *avg,
                       gt_err *err) {
    static const uint8_t zero[32];
    if (n > GT_ERC8004_MAX_FILTER)
        return gt_err_set(err, GT_ELIMIT, "a summary filters by at most %d addresses, got %zu", GT_ERC8004_MAX_FILTER,
                          n);
    gt_abi_val *items = gt_calloc(n ? n : 1, sizeof *items);
    if (!items) return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) items[i] = gt_abi_address(&filter[i]);
    gt_abi_val a[] = {gt_abi_uint(agent_id), gt_abi_array(items, n), gt_abi_bytes32(tag1 ? tag1 : zero),
                      gt_abi_bytes32(tag2 ? tag2 : zero)};
    gt_buf d = GT_BUF_INIT, res = GT_BUF_INIT;
    int rc = gt_abi_calldata(validation ? "getSummary(uint256,address[],bytes32)"
                                        : "getSummary(uint256,address[],bytes32,bytes32)",
                             a, validation ? 3 : 4, &d, err);
    if (!rc) rc = gt_chain_call(c, NULL, registry, d.data, d.len, &res, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 0, count, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 1, avg, err);
    gt_buf_free(&d);
    gt_buf_free(&res);
    gt_free(items);
    return rc;
}

int gt_erc8004_request(gt_chain *c, const gt_addr *validation, gt_chain_account *owner, const gt_addr *validator,
                       uint64_t agent_id, const char *uri, const uint8_t hash[32], uint64_t *gas, gt_err *err) {
    gt_abi_val a[] = {gt_abi_address(validator), gt_abi_uint(agent_id), gt_abi_string(uri), gt_abi_bytes32(hash)};
    return send(c, validation, owner, "validationRequest(address,uint256,string,bytes32)", a, 4, gas, err);
}

int gt_erc8004_respond(gt_chain *c, const gt_addr *validation, gt_chain_account *validator, const uint8_t hash[32],
                       unsigned response, const char *uri, const uint8_t evidence[32], const uint8_t tag[32],
                       uint64_t *gas, gt_err *err) {
    gt_abi_val a[] = {gt_abi_bytes32(hash), gt_abi_uint(response), gt_abi_string(uri), gt_abi_bytes32(evidence),
                      gt_abi_bytes32(tag)};
    return send(c, validation, validator, "validationResponse(bytes32,uint8,string,bytes32,bytes32)", a, 5, gas, err);
}

/* getValidationStatus's five words: validator, agentId, response, tag, lastUpdate. */
int gt_erc8004_status_get(gt_chain *c, const gt_addr *validation, const uint8_t hash[32], gt_erc8004_status *out,
                          gt_err *err) {
    gt_abi_val a[] = {gt_abi_bytes32(hash)};
    gt_buf d = GT_BUF_INIT, res = GT_BUF_INIT;
    memset(out, 0, sizeof *out);
    int rc = gt_abi_calldata("getValidationStatus(bytes32)", a, 1, &d, err);
    if (!rc) rc = gt_chain_call(c, NULL, validation, d.data, d.len, &res, err);
    if (!rc) rc = gt_abi_get_address(res.data, res.len, 0, &out->validator, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 1, &out->agent_id, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 2, &out->response, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 4, &out->last_update, err);
    if (!rc) memcpy(out->tag, res.data + 3 * 32, 32); /* five words read: the fourth is there */
    gt_buf_free(&d);
    gt_buf_free(&res);
    if (!rc && out->response > 100)
        rc = gt_err_set(err, GT_EINVAL, "getValidationStatus: response %llu over 100",
                        (unsigned long long)out->response);
    return rc;
}
