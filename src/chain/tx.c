/* tx.c: building, signing, serialising and decoding Ethereum transactions
 * (legacy EIP-155 and EIP-1559; see tx.h). */
#include "chain/tx.h"

#include <assert.h>
#include <string.h>

#include "base/alloc.h"
#include "chain/rlp.h"
#include "crypto/keccak.h"


void gt_u256_from_u64(uint64_t v, uint8_t out[32]) {
    memset(out, 0, 32);
    for (int i = 0; i < 8; i++) out[31 - i] = (uint8_t)(v >> (8 * i));
}

int gt_tx_set_data(gt_tx *tx, const void *data, size_t len, gt_err *err) {
    if (len > GT_TX_MAX_DATA_BYTES)
        return gt_err_set(err, GT_ELIMIT, "tx: %zu bytes of data; the limit is %u", len, GT_TX_MAX_DATA_BYTES);
    uint8_t *copy = NULL;
    if (len) {
        copy = gt_malloc(len);
        if (!copy) return gt_err_set(err, GT_ENOMEM, "tx: out of memory for %zu bytes of data", len);
        memcpy(copy, data, len);
    }
    gt_free(tx->data);
    tx->data = copy, tx->data_len = len;
    return 0;
}

/* The fields both types share, in order: to (empty for a creation), value, data. */
static int put_to_value_data(const gt_tx *tx, gt_buf *b) {
    int rc = gt_rlp_put_bytes(b, tx->to.b, tx->has_to ? 20 : 0);
    if (rc == 0) rc = gt_rlp_put_u256(b, tx->value);
    if (rc == 0) rc = gt_rlp_put_bytes(b, tx->data, tx->data_len);
    return rc;
}

/* The fields after data: signed, [yParity, r, s] (type 2) or [v, r, s] with
 * EIP-155's v = chainId * 2 + 35 + recid (legacy); unsigned, nothing (type 2)
 * or [chainId, 0, 0] (legacy, EIP-155). */
static int put_tail(const gt_tx *tx, int sig, gt_buf *b) {
    int legacy = tx->type == GT_TX_LEGACY, rc;
    if (!sig) {
        if (!legacy) return 0;
        rc = gt_rlp_put_uint(b, tx->chain_id);
        if (rc == 0) rc = gt_rlp_put_uint(b, 0);
        if (rc == 0) rc = gt_rlp_put_uint(b, 0);
        return rc;
    }
    uint64_t recid = (uint64_t)(tx->sig.v - 27);
    assert(recid <= 1);
    rc = gt_rlp_put_uint(b, legacy ? tx->chain_id * 2 + 35 + recid : recid);
    if (rc == 0) rc = gt_rlp_put_u256(b, tx->sig.r);
    if (rc == 0) rc = gt_rlp_put_u256(b, tx->sig.s);
    return rc;
}

/* The list body of a transaction; with `sig` the signature fields end it,
 * without it (signing) legacy ends with EIP-155's [chainId, 0, 0]. */
static int put_body(const gt_tx *tx, int sig, gt_buf *b) {
    size_t mark;
    int rc = 0;
    if (tx->type == GT_TX_EIP1559) rc = gt_buf_putc(b, GT_TX_EIP1559);
    gt_rlp_list_begin(b, &mark);
    if (tx->type == GT_TX_EIP1559) {
        if (rc == 0) rc = gt_rlp_put_uint(b, tx->chain_id);
        if (rc == 0) rc = gt_rlp_put_uint(b, tx->nonce);
        if (rc == 0) rc = gt_rlp_put_u256(b, tx->max_priority_fee);
        if (rc == 0) rc = gt_rlp_put_u256(b, tx->max_fee);
    } else {
        if (rc == 0) rc = gt_rlp_put_uint(b, tx->nonce);
        if (rc == 0) rc = gt_rlp_put_u256(b, tx->gas_price);
    }
    if (rc == 0) rc = gt_rlp_put_uint(b, tx->gas_limit);
    if (rc == 0) rc = put_to_value_data(tx, b);
    if (tx->type == GT_TX_EIP1559 && rc == 0)
        rc = tx->access_list ? gt_rlp_put_raw(b, tx->access_list, tx->access_list_len) : gt_buf_putc(b, 0xc0);
    if (rc == 0) rc = put_tail(tx, sig, b);
    if (rc == 0) rc = gt_rlp_list_end(b, mark);
    return rc;
}

/* Refuses a transaction the encoder cannot represent faithfully. */
static int check_fields(const gt_tx *tx, gt_err *err) {
    if (tx->type != GT_TX_LEGACY && tx->type != GT_TX_EIP1559)
        return gt_err_set(err, GT_EUNSUPPORTED, "tx: type %d; expected 0 (legacy) or 2 (EIP-1559)", tx->type);
    if (tx->chain_id == 0 || tx->chain_id > GT_TX_MAX_CHAIN_ID)
        return gt_err_set(err, GT_EINVAL, "tx: chain id %llu; expected 1 to %llu",
                          (unsigned long long)tx->chain_id, (unsigned long long)GT_TX_MAX_CHAIN_ID);
    if (tx->data_len > GT_TX_MAX_DATA_BYTES || (tx->data_len && !tx->data))
        return gt_err_set(err, GT_ELIMIT, "tx: %zu bytes of data; the limit is %u", tx->data_len,
                          GT_TX_MAX_DATA_BYTES);
    return 0;
}

int gt_tx_signing_hash(const gt_tx *tx, uint8_t out[32], gt_err *err) {
    int rc = check_fields(tx, err);
    if (rc != 0) return rc;
    gt_buf b = GT_BUF_INIT;
    rc = put_body(tx, 0, &b);
    if (rc == 0) gt_keccak256(b.data, b.len, out);
    gt_buf_free(&b);
    return rc ? gt_err_set(err, rc, "tx: out of memory encoding the signing payload") : 0;
}

int gt_tx_sign(gt_tx *tx, const gt_key *k, gt_err *err) {
    uint8_t d[32];
    int rc = gt_tx_signing_hash(tx, d, err);
    if (rc == 0) rc = gt_sign_digest(k, d, &tx->sig, err);
    if (rc != 0) return rc;
    assert(tx->sig.v == 27 || tx->sig.v == 28);
    tx->is_signed = 1;
    return 0;
}

int gt_tx_encode(const gt_tx *tx, gt_buf *out, gt_err *err) {
    int rc = check_fields(tx, err);
    if (rc != 0) return rc;
    if (!tx->is_signed) return gt_err_set(err, GT_ESTATE, "tx: not signed; sign it before encoding");
    rc = put_body(tx, 1, out);
    return rc ? gt_err_set(err, rc, "tx: out of memory encoding the transaction") : 0;
}

int gt_tx_hash(const gt_tx *tx, uint8_t out[32], gt_err *err) {
    gt_buf b = GT_BUF_INIT;
    int rc = gt_tx_encode(tx, &b, err);
    if (rc == 0) gt_keccak256(b.data, b.len, out);
    gt_buf_free(&b);
    return rc;
}

void gt_tx_free(gt_tx *tx) {
    if (!tx) return;
    gt_free(tx->data);
    gt_free(tx->access_list);
    memset(tx, 0, sizeof *tx);
}
