/* num.h: whole numbers from outside (command lines, query strings): one
 * strict parser, so every command and route refuses the same inputs. */
#ifndef GT_BASE_NUM_H
#define GT_BASE_NUM_H

#include <stdint.h>

#include "base/err.h"

#define GT_NUM_DIGITS_MAX 20 /* UINT64_MAX has 20 digits */

/* Parses a decimal integer in [min, max]: digits only (no sign, no spaces,
 * no hex, not empty), at most GT_NUM_DIGITS_MAX, no overflow. `what` names
 * the value in the message ("--rounds", "limit"). 0 or GT_EINVAL. */
int gt_parse_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out, gt_err *err);

#endif
