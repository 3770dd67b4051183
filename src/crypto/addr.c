/* addr.c: EIP-55 checksummed address text. The checksum capitalises hex
 * letter i when nibble i of keccak(lowercase hex) is >= 8. */
#include "crypto/addr.h"

#include <string.h>

#include "base/hex.h"
#include "crypto/keccak.h"

/* Writes "0x" + EIP-55 mixed-case hex of a. */
void gt_addr_to_str(const gt_addr *a, char out[43]) {
    char lower[41];
    gt_hex_encode(a->b, 20, lower);
    uint8_t h[32];
    gt_keccak256(lower, 40, h);
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        char c = lower[i];
        int nib = (i % 2) ? (h[i / 2] & 15) : (h[i / 2] >> 4);
        if (c >= 'a' && c <= 'f' && nib >= 8) c = (char)(c - 'a' + 'A');
        out[2 + i] = c;
    }
    out[42] = 0;
}

/* Parses an address; see addr.h for the case rules. out is untouched on error. */
int gt_addr_parse(const char *s, gt_addr *out, gt_err *err) {
    if (!s) return gt_err_set(err, GT_EINVAL, "address is missing");
    size_t len = strlen(s);
    if (len != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return gt_err_set(err, GT_EINVAL,
                          "address \"%.64s%s\" is not \"0x\" followed by 40 hex digits", s,
                          len > 64 ? "..." : "");
    int lower = 0, upper = 0;
    for (int i = 2; i < 42; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'f') lower = 1;
        else if (c >= 'A' && c <= 'F') upper = 1;
        else if (!(c >= '0' && c <= '9'))
            return gt_err_set(err, GT_EINVAL, "address %s: invalid hex digit '%c' at position %d",
                              s, c, i);
    }
    gt_addr a;
    int rc = gt_hex_decode(s + 2, a.b, 20, "address", err);
    if (rc) return rc;
    if (lower && upper) {
        char good[43];
        gt_addr_to_str(&a, good);
        if (memcmp(good + 2, s + 2, 40) != 0)
            return gt_err_set(err, GT_EINVAL, "address %s: bad EIP-55 checksum; did you mean %s?",
                              s, good);
    }
    *out = a;
    return 0;
}

/* 1 if the 20 bytes are equal (addresses are public: no constant time). */
int gt_addr_eq(const gt_addr *a, const gt_addr *b) {
    return memcmp(a->b, b->b, 20) == 0;
}

/* 1 for 0x000...0, which the ledger treats as "no address". */
int gt_addr_is_zero(const gt_addr *a) {
    static const gt_addr zero;
    return memcmp(a->b, zero.b, 20) == 0;
}
