/* addr.h: Ethereum addresses as text: EIP-55 mixed-case checksums.
 *
 * We always print the checksummed form, and accept all-lower or all-upper hex
 * as is; mixed case is a checksum and must match, since a single mistyped
 * letter in a checksummed address is exactly what EIP-55 exists to catch. */
#ifndef GT_CRYPTO_ADDR_H
#define GT_CRYPTO_ADDR_H

#include "base/err.h"
#include "crypto/key.h"

#define GT_ADDR_STR_BYTES 43 /* "0x" + 40 hex + NUL */

/* Writes the EIP-55 checksummed "0x..." form of a into out. */
void gt_addr_to_str(const gt_addr *a, char out[43]);
/* Parses "0x" + 40 hex digits. All-lower and all-upper are accepted; mixed
 * case must match EIP-55 or it is refused with the corrected address. */
int gt_addr_parse(const char *s, gt_addr *out, gt_err *err);
/* 1 if a and b are the same address, else 0. */
int gt_addr_eq(const gt_addr *a, const gt_addr *b);
/* 1 if a is the zero address. */
int gt_addr_is_zero(const gt_addr *a);

#endif
