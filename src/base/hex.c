/* hex.c: hex encode/decode. */
#include "base/hex.h"

#include <string.h>

static const char digits[] = "0123456789abcdef";

void gt_hex_encode(const uint8_t *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int gt_hex_decode_var(const char *s, uint8_t *out, size_t cap, size_t *n_out, const char *what,
                      gt_err *err) {
    if (!s) return gt_err_set(err, GT_EINVAL, "%s: missing hex string", what);
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
    size_t len = strlen(s);
    if (len % 2) return gt_err_set(err, GT_EINVAL, "%s: odd number of hex digits (%zu)", what, len);
    if (len / 2 > cap)
        return gt_err_set(err, GT_ELIMIT, "%s: %zu bytes of hex, at most %zu expected", what,
                          len / 2, cap);
    for (size_t i = 0; i < len / 2; i++) {
        int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return gt_err_set(err, GT_EINVAL, "%s: invalid hex digit at position %zu", what,
                              2 * i + (hi < 0 ? 0 : 1));
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (n_out) *n_out = len / 2;
    return 0;
}

int gt_hex_decode(const char *s, uint8_t *out, size_t n, const char *what, gt_err *err) {
    size_t got = 0;
    int rc = gt_hex_decode_var(s, out, n, &got, what, err);
    if (rc) return rc;
    if (got != n)
        return gt_err_set(err, GT_EINVAL, "%s: expected %zu bytes (%zu hex digits), got %zu", what,
                          n, 2 * n, got);
    return 0;
}
