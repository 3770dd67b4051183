/* hex.h: lowercase hex encoding and strict decoding ("0x" prefix optional). */
#ifndef GT_BASE_HEX_H
#define GT_BASE_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Writes 2*n lowercase hex chars plus NUL into out (size >= 2*n+1). */
void gt_hex_encode(const uint8_t *in, size_t n, char *out);

/* Decodes exactly `n` bytes from hex string s (optional 0x prefix; length must
 * be exactly 2*n digits). Returns 0 or GT_EINVAL with a message naming `what`. */
int gt_hex_decode(const char *s, uint8_t *out, size_t n, const char *what, gt_err *err);

/* Decodes a variable-length hex string (optional 0x) into out (capacity cap);
 * *n_out gets the byte count. */
int gt_hex_decode_var(const char *s, uint8_t *out, size_t cap, size_t *n_out, const char *what,
                      gt_err *err);

#endif
