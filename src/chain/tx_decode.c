/* tx_decode.c: strict decoding of signed transactions and sender recovery
 * (see tx.h). Every field is checked for canonical form and range; the
 * signature is checked by gt_recover_digest (low-s, r and s in range). */
#include <assert.h>
#include <string.h>

#include "base/alloc.h"
#include "chain/rlp.h"
#include "chain/tx.h"

#define LEGACY_FIELDS 9
#define EIP1559_FIELDS 12
#define MAX_ACCESS_ENTRIES 4096 /* addresses in one access list */
#define MAX_ACCESS_KEYS 65536   /* storage keys in one access list, all addresses */

/* `to`: 20 bytes, or empty for a contract creation. */
static int read_to(const gt_rlp_item *it, gt_tx *tx, gt_err *err) {
    if (it->is_list || (it->payload_len != 0 && it->payload_len != 20))
        return gt_err_set(err, GT_EINVAL, "tx: 'to' must be 20 bytes or empty (creation)");
    tx->has_to = it->payload_len == 20;
    if (tx->has_to) memcpy(tx->to.b, it->payload, 20);
    return 0;
}

/* One access list entry: [address (20 bytes), [storage key (32 bytes), ...]];
 * *n_keys counts keys across entries, bounded. */
static int check_access_entry(const gt_rlp_item *e, size_t idx, size_t *n_keys, gt_err *err) {
    gt_rlp_item f[2], k;
    size_t nf = 0, off = 0;
    if (!e->is_list || gt_rlp_list_items(e, f, 2, &nf, NULL) != 0 || nf != 2 || f[0].is_list ||
        f[0].payload_len != 20 || !f[1].is_list)
        return gt_err_set(err, GT_EINVAL, "tx: access list entry %zu must be [address, [storage keys]]", idx);
    while (gt_rlp_next(&f[1], &off, &k)) {
        if (k.is_list || k.payload_len != 32)
            return gt_err_set(err, GT_EINVAL, "tx: access list entry %zu has a storage key that is not 32 bytes",
                              idx);
        if (++*n_keys > MAX_ACCESS_KEYS)
            return gt_err_set(err, GT_ELIMIT, "tx: access list has more than %d storage keys", MAX_ACCESS_KEYS);
    }
    return 0;
}

/* Checks an access list's shape and bounds, then keeps its raw RLP. */
static int read_access_list(const gt_rlp_item *al, gt_tx *tx, gt_err *err) {
    if (!al->is_list) return gt_err_set(err, GT_EINVAL, "tx: access list must be a list");
    size_t off = 0, n = 0, n_keys = 0;
    gt_rlp_item e;
    while (gt_rlp_next(al, &off, &e)) {
        if (n == MAX_ACCESS_ENTRIES)
            return gt_err_set(err, GT_ELIMIT, "tx: access list has more than %d entries", MAX_ACCESS_ENTRIES);
        int rc = check_access_entry(&e, n++, &n_keys, err);
        if (rc != 0) return rc;
    }
    if (n == 0) return 0; /* NULL stands for the empty list */
    tx->access_list = gt_malloc(al->raw_len);
    if (!tx->access_list) return gt_err_set(err, GT_ENOMEM, "tx: out of memory for the access list");
    memcpy(tx->access_list, al->raw, al->raw_len);
    tx->access_list_len = al->raw_len;
    return 0;
}

/* to, value, data: f points at `to`. */
static int read_to_value_data(const gt_rlp_item *f, gt_tx *tx, gt_err *err) {
    int rc = read_to(&f[0], tx, err);
    if (rc == 0) rc = gt_rlp_to_u256(&f[1], tx->value, "value", err);
    if (rc != 0) return rc;
    if (f[2].is_list) return gt_err_set(err, GT_EINVAL, "tx: data must be a byte string");
    return gt_tx_set_data(tx, f[2].payload, f[2].payload_len, err);
}

/* r and s into tx->sig (ranges are checked at recovery). */
static int read_rs(const gt_rlp_item *f, gt_tx *tx, gt_err *err) {
    int rc = gt_rlp_to_u256(&f[0], tx->sig.r, "r", err);
    if (rc == 0) rc = gt_rlp_to_u256(&f[1], tx->sig.s, "s", err);
    return rc;
}

/* [nonce, gasPrice, gas, to, value, data, v, r, s] with EIP-155's v. */
static int read_legacy(const gt_rlp_item *f, gt_tx *tx, gt_err *err) {
    uint64_t v = 0;
    tx->type = GT_TX_LEGACY;
    int rc = gt_rlp_to_uint(&f[0], &tx->nonce, "nonce", err);
    if (rc == 0) rc = gt_rlp_to_u256(&f[1], tx->gas_price, "gasPrice", err);
    if (rc == 0) rc = gt_rlp_to_uint(&f[2], &tx->gas_limit, "gas", err);
    if (rc == 0) rc = read_to_value_data(&f[3], tx, err);
    if (rc == 0) rc = gt_rlp_to_uint(&f[6], &v, "v", err);
    if (rc != 0) return rc;
    if (v == 27 || v == 28)
        return gt_err_set(err, GT_ECHAIN, "tx: legacy transaction without a chain id (v = %llu) could be "
                          "replayed on any chain; expected EIP-155's v = chainId * 2 + 35 + {0,1}",
                          (unsigned long long)v);
    if (v < 37 || (v - 35) / 2 > GT_TX_MAX_CHAIN_ID)
        return gt_err_set(err, GT_EINVAL, "tx: v = %llu is not an EIP-155 value for a chain id from 1 to %llu",
                          (unsigned long long)v, (unsigned long long)GT_TX_MAX_CHAIN_ID);
    tx->chain_id = (v - 35) / 2;
    tx->sig.v = (uint8_t)(27 + (v - 35) % 2);
    return read_rs(&f[7], tx, err);
}

/* [chainId, nonce, tip, maxFee, gas, to, value, data, accessList, yParity, r, s]. */
static int read_1559(const gt_rlp_item *f, gt_tx *tx, gt_err *err) {
    uint64_t y = 0;
    tx->type = GT_TX_EIP1559;
    int rc = gt_rlp_to_uint(&f[0], &tx->chain_id, "chainId", err);
    if (rc == 0) rc = gt_rlp_to_uint(&f[1], &tx->nonce, "nonce", err);
    if (rc == 0) rc = gt_rlp_to_u256(&f[2], tx->max_priority_fee, "maxPriorityFeePerGas", err);
    if (rc == 0) rc = gt_rlp_to_u256(&f[3], tx->max_fee, "maxFeePerGas", err);
    if (rc == 0) rc = gt_rlp_to_uint(&f[4], &tx->gas_limit, "gas", err);
    if (rc == 0) rc = read_to_value_data(&f[5], tx, err);
    if (rc == 0) rc = read_access_list(&f[8], tx, err);
    if (rc == 0) rc = gt_rlp_to_uint(&f[9], &y, "yParity", err);
    if (rc != 0) return rc;
    if (y > 1) return gt_err_set(err, GT_EINVAL, "tx: yParity is %llu; expected 0 or 1", (unsigned long long)y);
    tx->sig.v = (uint8_t)(27 + y);
    return read_rs(&f[10], tx, err);
}

/* Splits the envelope: a list is legacy; 0x02 then a list is type 2. */
static int read_fields(const uint8_t *in, size_t n, gt_tx *tx, gt_err *err) {
    int typed = n > 0 && in[0] < 0xc0;
    if (typed && in[0] != GT_TX_EIP1559)
        return gt_err_set(err, GT_EUNSUPPORTED, "tx: type 0x%02x; expected a legacy (EIP-155) or type 2 "
                          "(EIP-1559) transaction", in[0]);
    gt_rlp_item top, f[EIP1559_FIELDS];
    size_t nf = 0, want = typed ? EIP1559_FIELDS : LEGACY_FIELDS;
    int rc = gt_rlp_decode(in + typed, n - (size_t)typed, &top, err);
    if (rc == 0 && !top.is_list) rc = gt_err_set(err, GT_EINVAL, "tx: expected a list of fields");
    if (rc == 0) rc = gt_rlp_list_items(&top, f, EIP1559_FIELDS, &nf, err);
    if (rc == 0 && nf != want)
        rc = gt_err_set(err, GT_EINVAL, "tx: %zu fields; a %s transaction has %zu", nf,
                        typed ? "type 2" : "legacy", want);
    if (rc != 0) return rc;
    return typed ? read_1559(f, tx, err) : read_legacy(f, tx, err);
}

int gt_tx_decode(const uint8_t *in, size_t n, gt_tx *tx, gt_addr *from, gt_err *err) {
    memset(tx, 0, sizeof *tx);
    if (n == 0) return gt_err_set(err, GT_EINVAL, "tx: empty input; expected a signed transaction");
    if (n > GT_TX_MAX_BYTES)
        return gt_err_set(err, GT_ELIMIT, "tx: %zu bytes; the limit is %u", n, GT_TX_MAX_BYTES);
    int rc = read_fields(in, n, tx, err);
    uint8_t d[32];
    if (rc == 0) rc = gt_tx_signing_hash(tx, d, err);
    if (rc == 0) rc = gt_recover_digest(d, &tx->sig, from, err);
    if (rc != 0) {
        gt_tx_free(tx);
        return rc;
    }
    tx->is_signed = 1;
    return 0;
}
