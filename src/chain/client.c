/* client.c: transactions, receipts and calls over JSON-RPC (see client.h). */
#include "chain/client.h"

#include <assert.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "chain/tx.h"
#include "crypto/addr.h"

int gt_chain_open(const char *url, gt_chain *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    int rc = gt_rpc_open(url, GT_RPC_TIMEOUT_MS_DEFAULT, &out->rpc, err);
    if (rc) return rc;
    json_t *res = NULL;
    if ((rc = gt_rpc_call(out->rpc, "eth_chainId", json_array(), &res, err)) ||
        (rc = gt_rpc_to_u64(res, &out->chain_id, "eth_chainId", err))) {
        json_decref(res);
        gt_chain_close(out);
        return rc;
    }
    json_decref(res);
    if (out->chain_id == 0 || out->chain_id > GT_TX_MAX_CHAIN_ID) {
        gt_chain_close(out);
        return gt_err_set(err, GT_ECHAIN, "%s: chain id %llu out of range", url, (unsigned long long)out->chain_id);
    }
    out->confirmations = 1;
    out->wait_ms = GT_CHAIN_WAIT_MS_DEFAULT;
    return 0;
}

void gt_chain_close(gt_chain *c) {
    gt_rpc_close(c->rpc);
    c->rpc = NULL;
}

int gt_chain_account_init(gt_chain_account *a, const gt_key *k, gt_err *err) {
    memset(a, 0, sizeof *a);
    a->key = *k;
    if (gt_key_address(k, &a->addr)) return gt_err_set(err, GT_EINVAL, "not a valid secp256k1 key");
    return 0;
}

void gt_chain_account_wipe(gt_chain_account *a) {
    gt_key_wipe(&a->key);
    memset(a, 0, sizeof *a);
}

void gt_chain_account_resync(gt_chain_account *a) { a->nonce_known = 0; }

/* Calls method and reads its result as a 64-bit quantity. */
static int call_u64(gt_chain *c, const char *method, json_t *params, uint64_t *out, gt_err *err) {
    json_t *res = NULL;
    int rc = gt_rpc_call(c->rpc, method, params, &res, err);
    if (!rc) rc = gt_rpc_to_u64(res, out, method, err);
    json_decref(res);
    return rc;
}

int gt_chain_block_number(gt_chain *c, uint64_t *out, gt_err *err) {
    return call_u64(c, "eth_blockNumber", json_array(), out, err);
}

static json_t *addr_json(const gt_addr *a) { return gt_rpc_data(a->b, 20); }

/* The call object of eth_call / eth_estimateGas. */
static json_t *call_object(const gt_addr *from, const gt_addr *to, const uint8_t value[32], const uint8_t *data,
                           size_t len) {
    json_t *o = json_object();
    if (from) json_object_set_new(o, "from", addr_json(from));
    if (to) json_object_set_new(o, "to", addr_json(to));
    if (value) json_object_set_new(o, "value", gt_rpc_u256(value));
    json_object_set_new(o, "input", gt_rpc_data(data, len));
    return o;
}

/* The account's next nonce: the node's pending count the first time. */
static int next_nonce(gt_chain *c, gt_chain_account *a, gt_err *err) {
    if (a->nonce_known) return 0;
    int rc = call_u64(c, "eth_getTransactionCount", json_pack("[o,s]", addr_json(&a->addr), "pending"),
                      &a->next_nonce, err);
    if (!rc) a->nonce_known = 1;
    return rc;
}

/* Fills the fee fields: tip from the node, max fee = 2 x base fee + tip. */
static int set_fees(gt_chain *c, gt_tx *tx, gt_err *err) {
    json_t *blk = NULL;
    uint64_t base = 0, tip = 0;
    int rc = gt_rpc_call(c->rpc, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0), &blk, err);
    if (!rc) rc = gt_rpc_to_u64(json_object_get(blk, "baseFeePerGas"), &base, "the latest block's base fee", err);
    json_decref(blk);
    if (!rc) rc = call_u64(c, "eth_maxPriorityFeePerGas", json_array(), &tip, err);
    if (rc) return rc;
    if (base > (UINT64_MAX - tip) / 2) return gt_err_set(err, GT_EOVERFLOW, "base fee %llu wei is absurd",
                                                         (unsigned long long)base);
    gt_u256_from_u64(tip, tx->max_priority_fee);
    gt_u256_from_u64(2 * base + tip, tx->max_fee);
    return 0;
}

/* The gas limit: the node's estimate plus the margin, within the cap. */
static int set_gas(gt_chain *c, const gt_chain_account *a, gt_tx *tx, gt_err *err) {
    uint64_t est;
    json_t *call = call_object(&a->addr, tx->has_to ? &tx->to : NULL, tx->value, tx->data, tx->data_len);
    int rc = call_u64(c, "eth_estimateGas", json_pack("[o]", call), &est, err);
    if (rc) return gt_err_wrap(err, "the transaction would fail, nothing sent");
    if (est > GT_CHAIN_MAX_GAS)
        return gt_err_set(err, GT_ELIMIT, "the transaction needs %llu gas, over the cap of %llu",
                          (unsigned long long)est, GT_CHAIN_MAX_GAS);
    tx->gas_limit = est + est * GT_CHAIN_GAS_MARGIN_PCT / 100;
    if (tx->gas_limit > GT_CHAIN_MAX_GAS) tx->gas_limit = GT_CHAIN_MAX_GAS;
    return 0;
}

/* Signs tx with a's key and sends it; hash gets the hash (checked against
 * the node's answer). */
static int sign_and_send(gt_chain *c, gt_chain_account *a, gt_tx *tx, uint8_t hash[32], gt_err *err) {
    gt_buf raw = GT_BUF_INIT;
    json_t *res = NULL;
    uint8_t theirs[32];
    int rc = gt_tx_sign(tx, &a->key, err);
    if (!rc) rc = gt_tx_encode(tx, &raw, err);
    if (!rc) rc = gt_tx_hash(tx, hash, err);
    if (!rc) rc = gt_rpc_call(c->rpc, "eth_sendRawTransaction", json_pack("[o]", gt_rpc_data(raw.data, raw.len)),
                              &res, err);
    if (!rc) rc = gt_rpc_to_fixed(res, theirs, 32, "eth_sendRawTransaction's hash", err);
    if (!rc && memcmp(theirs, hash, 32))
        rc = gt_err_set(err, GT_ECHAIN, "the node reports another hash for the transaction than its bytes hash to");
    json_decref(res);
    gt_buf_free(&raw);
    return rc;
}

int gt_chain_send(gt_chain *c, gt_chain_account *a, const gt_addr *to, const uint8_t value[32], const uint8_t *data,
                  size_t len, uint8_t hash[32], gt_err *err) {
    assert(c && c->rpc && a);
    gt_tx tx = {.type = GT_TX_EIP1559, .chain_id = c->chain_id};
    if (to) tx.has_to = 1, tx.to = *to;
    if (value) memcpy(tx.value, value, 32);
    int rc = gt_tx_set_data(&tx, data, len, err);
    if (!rc) rc = set_gas(c, a, &tx, err);
    if (!rc) rc = set_fees(c, &tx, err);
    for (int attempt = 0; !rc; attempt++) {
        gt_err e = {0}; /* the node's message decides the retry, whether or not the caller wants it */
        if ((rc = next_nonce(c, a, err))) break;
        tx.nonce = a->next_nonce;
        rc = sign_and_send(c, a, &tx, hash, &e);
        if (!rc) {
            a->next_nonce++;
            break;
        }
        /* Someone else used the key: read the nonce again, once. */
        if (attempt > 0 || rc != GT_ECHAIN || !strstr(e.msg, "nonce too low")) {
            if (err) *err = e;
            break;
        }
        a->nonce_known = 0;
        rc = 0;
    }
    gt_tx_free(&tx);
    return rc;
}

/* v raised by GT_CHAIN_BUMP_PCT, and to at least floor; 64-bit fees only. */
static int bump(uint8_t fee[32], const uint8_t floor_fee[32], gt_err *err) {
    uint64_t v = 0, f = 0;
    for (int i = 0; i < 24; i++)
        if (fee[i] || floor_fee[i]) return gt_err_set(err, GT_EOVERFLOW, "a fee over 2^64 wei per gas");
    for (int i = 24; i < 32; i++) v = v << 8 | fee[i], f = f << 8 | floor_fee[i];
    if (v > UINT64_MAX / 200) return gt_err_set(err, GT_EOVERFLOW, "fee %llu wei per gas is absurd",
                                                (unsigned long long)v);
    v = v + v * GT_CHAIN_BUMP_PCT / 100 + 1;
    gt_u256_from_u64(v > f ? v : f, fee);
    return 0;
}

/* The signed bytes of a pending transaction, decoded; refuses a mined one. */
static int pending_tx(gt_chain *c, const uint8_t h[32], gt_tx *tx, gt_addr *from, gt_err *err) {
    json_t *res = NULL;
    gt_buf raw = GT_BUF_INIT;
    gt_chain_receipt r;
    int found = 0;
    int rc = gt_chain_receipt_get(c, h, &r, &found, err);
    gt_chain_receipt_free(&r);
    if (!rc && found) return gt_err_set(err, GT_ESTATE, "the transaction is already mined: nothing to replace");
    if (!rc) rc = gt_rpc_call(c->rpc, "eth_getRawTransactionByHash", json_pack("[o]", gt_rpc_data(h, 32)), &res, err);
    if (!rc && json_is_null(res)) rc = gt_err_set(err, GT_ENOTFOUND, "the node does not know the transaction");
    if (!rc) rc = gt_rpc_to_data(res, GT_TX_MAX_BYTES, &raw, "eth_getRawTransactionByHash", err);
    if (!rc) rc = gt_tx_decode(raw.data, raw.len, tx, from, err);
    json_decref(res);
    gt_buf_free(&raw);
    return rc;
}

int gt_chain_replace(gt_chain *c, gt_chain_account *a, const uint8_t stuck[32], uint8_t hash[32], gt_err *err) {
    gt_tx tx = {0}, now = {.type = GT_TX_EIP1559};
    gt_addr from;
    int rc = pending_tx(c, stuck, &tx, &from, err);
    if (rc) return rc;
    if (!gt_addr_eq(&from, &a->addr)) rc = gt_err_set(err, GT_EPERM, "the transaction is not this account's");
    else if (tx.type != GT_TX_EIP1559 || tx.chain_id != c->chain_id)
        rc = gt_err_set(err, GT_EUNSUPPORTED, "only this chain's EIP-1559 transactions are replaced");
    if (!rc) rc = set_fees(c, &now, err);
    if (!rc) rc = bump(tx.max_priority_fee, now.max_priority_fee, err);
    if (!rc) rc = bump(tx.max_fee, now.max_fee, err);
    if (!rc) {
        tx.is_signed = 0;
        rc = sign_and_send(c, a, &tx, hash, err);
    }
    gt_tx_free(&tx);
    return rc;
}
