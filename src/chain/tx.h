/* tx.h: Ethereum transactions: legacy with EIP-155 replay protection (type 0)
 * and EIP-1559 fee-market transactions (type 2, EIP-2718 envelope).
 *
 * Built from fields, signed with a gotong secp256k1 key (low-s, RFC 6979),
 * serialised to the bytes eth_sendRawTransaction takes, hashed (the
 * transaction hash is keccak256 of those bytes). Decoding is strict (canonical
 * RLP, no trailing bytes, bounded data) and recovers the sender from the
 * signature. Amounts (value, fees) are 256-bit big-endian integers. A type 2
 * access list is kept as its raw RLP (built transactions have an empty one);
 * decoding accepts one only if it is a well-formed list of [address,
 * [storage keys]] pairs. Unprotected legacy transactions (v = 27/28, no chain
 * id) are refused: they could be replayed on any chain. */
#ifndef GT_CHAIN_TX_H
#define GT_CHAIN_TX_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/key.h"

#define GT_TX_MAX_DATA_BYTES (128u * 1024)  /* geth's transaction size limit */
#define GT_TX_MAX_BYTES (GT_TX_MAX_DATA_BYTES + 64u * 1024)  /* data + fields + access list */
#define GT_TX_MAX_CHAIN_ID ((1ull << 53) - 1)  /* EIP-2294's bound, so v fits 64 bits */

enum { GT_TX_LEGACY = 0, GT_TX_EIP1559 = 2 };

typedef struct gt_tx {
    int type;                   /* GT_TX_LEGACY or GT_TX_EIP1559 */
    uint64_t chain_id, nonce, gas_limit;
    uint8_t gas_price[32];      /* legacy only */
    uint8_t max_priority_fee[32], max_fee[32]; /* type 2 only, per gas, wei */
    int has_to;                 /* 0: contract creation */
    gt_addr to;
    uint8_t value[32];          /* wei */
    uint8_t *data;              /* owned (gt_free via gt_tx_free); may be NULL when data_len is 0 */
    size_t data_len;
    uint8_t *access_list;       /* owned raw RLP; NULL means the empty list */
    size_t access_list_len;
    int is_signed;
    gt_sig sig;                 /* v is 27/28 (recovery id + 27) */
} gt_tx;

/* Writes v as a 256-bit big-endian integer. */
void gt_u256_from_u64(uint64_t v, uint8_t out[32]);
/* Copies len bytes of call data into the transaction (at most
 * GT_TX_MAX_DATA_BYTES). */
int gt_tx_set_data(gt_tx *tx, const void *data, size_t len, gt_err *err);
/* The digest the sender signs: keccak256 of the unsigned payload. */
int gt_tx_signing_hash(const gt_tx *tx, uint8_t out[32], gt_err *err);
/* Signs tx with k (sets sig and is_signed). */
int gt_tx_sign(gt_tx *tx, const gt_key *k, gt_err *err);
/* Appends the signed transaction's wire bytes to out. */
int gt_tx_encode(const gt_tx *tx, gt_buf *out, gt_err *err);
/* keccak256 of the wire bytes: the hash a node reports. */
int gt_tx_hash(const gt_tx *tx, uint8_t out[32], gt_err *err);
/* Decodes signed wire bytes into *tx (caller frees with gt_tx_free) and
 * recovers the sender into *from. Refuses anything not canonical. */
int gt_tx_decode(const uint8_t *in, size_t n, gt_tx *tx, gt_addr *from, gt_err *err);
/* Frees what tx owns and zeroes it. */
void gt_tx_free(gt_tx *tx);

#endif
