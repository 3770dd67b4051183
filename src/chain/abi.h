/* abi.h: the Solidity contract ABI's encoding of call arguments.
 *
 * A value is a small tree: static words (uint256, address, bool, bytes32) and
 * the dynamic types bytes, string and T[] (an array whose items are values of
 * one type, static or dynamic). Encoding follows the ABI specification: a
 * tuple is the heads of its items (a static item's word, or a dynamic item's
 * byte offset from the tuple's start) followed by the tails of the dynamic
 * ones; bytes and string are their length then the bytes padded to 32; T[] is
 * its length then the tuple of its items. Values borrow their bytes and items
 * from the caller; nothing is copied until encoding. */
#ifndef GT_CHAIN_ABI_H
#define GT_CHAIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/key.h"

#define GT_ABI_MAX_DEPTH 8            /* arrays in arrays */
#define GT_ABI_MAX_ITEMS 65536        /* items in one tuple or array */
#define GT_ABI_MAX_BYTES (1u << 20)   /* one bytes or string value */

typedef enum gt_abi_kind {
    GT_ABI_WORD,   /* a static 32-byte word: uint256, address, bool, bytes32 */
    GT_ABI_BYTES,  /* bytes or string */
    GT_ABI_ARRAY,  /* T[] */
} gt_abi_kind;

typedef struct gt_abi_val {
    gt_abi_kind kind;
    uint8_t word[32];                /* GT_ABI_WORD */
    const uint8_t *bytes;            /* GT_ABI_BYTES */
    size_t len;
    const struct gt_abi_val *items;  /* GT_ABI_ARRAY */
    size_t n;
} gt_abi_val;

gt_abi_val gt_abi_uint(uint64_t v);
gt_abi_val gt_abi_u256(const uint8_t be[32]);
gt_abi_val gt_abi_address(const gt_addr *a);   /* left-padded with zeros */
gt_abi_val gt_abi_bool(int v);
gt_abi_val gt_abi_bytes32(const uint8_t b[32]);
gt_abi_val gt_abi_bytes(const void *p, size_t len);
gt_abi_val gt_abi_string(const char *s);        /* UTF-8, no NUL */
gt_abi_val gt_abi_array(const gt_abi_val *items, size_t n);

/* Appends the encoding of the tuple (args[0], ..., args[n-1]) to out.
 * Refuses trees deeper than GT_ABI_MAX_DEPTH, wider than GT_ABI_MAX_ITEMS or
 * with a value over GT_ABI_MAX_BYTES, and arrays whose items differ in kind. */
int gt_abi_encode(const gt_abi_val *args, size_t n, gt_buf *out, gt_err *err);
/* The 4-byte function selector: keccak256 of the canonical signature
 * ("transfer(address,uint256)", no spaces) cut to its first 4 bytes. */
void gt_abi_selector(const char *signature, uint8_t out[4]);
/* Call data: the selector of signature followed by the encoded arguments. */
int gt_abi_calldata(const char *signature, const gt_abi_val *args, size_t n, gt_buf *out, gt_err *err);

#endif
