/* num.c: see num.h. */
#include "base/num.h"

#include <assert.h>
#include <stddef.h>

/* See num.h. Reads digit by digit so an overflow is caught before it
 * happens, not guessed from errno; s NULL is refused like an empty string. */
int gt_parse_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out, gt_err *err) {
    assert(min <= max && what);
    uint64_t v = 0;
    size_t i = 0;
    if (!s) s = "";
    for (; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= GT_NUM_DIGITS_MAX) goto bad;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) goto bad;
        v = v * 10 + d;
    }
    if (i == 0 || v < min || v > max) goto bad;
    *out = v;
    return 0;
bad:
    return gt_err_set(err, GT_EINVAL, "%s: expected an integer %llu..%llu, got \"%.40s\"", what,
                      (unsigned long long)min, (unsigned long long)max, s);
}
