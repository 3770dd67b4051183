/* amount.h: money is an unsigned 64-bit count of base units; the token has 6
 * decimals, so "1.5" is 1 500 000 units. Parsing is strict and overflow-checked. */
#ifndef GT_BASE_AMOUNT_H
#define GT_BASE_AMOUNT_H

#include <stdint.h>

#include "base/err.h"

#define GT_AMOUNT_DECIMALS 6
#define GT_AMOUNT_UNIT 1000000ull /* base units in one token */
#define GT_AMOUNT_STR_MAX 32      /* "18446744073709.551615" + NUL fits */

/* Parses "12", "12.5", "0.000001" into base units. Refuses signs, exponents,
 * more than 6 decimals, empty strings and values over UINT64_MAX. */
int gt_amount_parse(const char *s, uint64_t *units, gt_err *err);

/* Formats units as a decimal with trailing zeros trimmed ("1.5", "3", "0.000001").
 * out must hold GT_AMOUNT_STR_MAX bytes. Returns out. */
char *gt_amount_format(uint64_t units, char *out);

/* Amounts as people read them: tokens with up to 6 decimals and the token's
 * symbol ("1.5 GOT"). Machine output (--json, the API) carries base units as
 * decimal strings ("1500000") instead. out must hold GT_AMOUNT_TOKENS_MAX
 * bytes. Returns out. */
#define GT_AMOUNT_SYMBOL "GOT"
#define GT_AMOUNT_TOKENS_MAX 40
const char *gt_amount_tokens(uint64_t units, char out[GT_AMOUNT_TOKENS_MAX]);

/* Checked arithmetic: 0 or GT_EOVERFLOW. */
static inline int gt_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_add_overflow(a, b, out) ? GT_EOVERFLOW : 0;
}
static inline int gt_sub_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_sub_overflow(a, b, out) ? GT_EOVERFLOW : 0;
}
static inline int gt_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_mul_overflow(a, b, out) ? GT_EOVERFLOW : 0;
}

#endif
