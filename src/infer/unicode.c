/* unicode.c: UTF-8 decoding as llama.cpp does it, and GPT-2's byte-level
 * alphabet (see unicode.h). */
#include "infer/unicode.h"

#include "base/err.h"

size_t gt_utf8_len(uint8_t lead) {
    static const uint8_t by_high_nibble[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return by_high_nibble[lead >> 4];
}

size_t gt_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp) {
    uint8_t c = s[0];
    size_t len;
    uint32_t v;
    if (!(c & 0x80)) {
        *cp = c;
        return 1;
    }
    if (!(c & 0x40)) return 0; /* continuation byte */
    if (!(c & 0x20)) len = 2, v = c & 0x1f;
    else if (!(c & 0x10)) len = 3, v = c & 0x0f;
    else if (!(c & 0x08)) len = 4, v = c & 0x07;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return len;
}

size_t gt_utf8_encode(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

int gt_utf8_sanitize(const uint8_t *s, size_t n, gt_buf *out) {
    if (gt_buf_reserve(out, n + n / 2 + 4)) return GT_ENOMEM;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = gt_utf8_decode(s + i, n - i, &cp);
        if (k == 0) {
            cp = GT_UNICODE_REPLACEMENT;
            k = 1;
        } else if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            cp = GT_UNICODE_REPLACEMENT; /* PCRE2 refuses these; llama.cpp has no rule */
        }
        uint8_t enc[4];
        if (gt_buf_append(out, enc, gt_utf8_encode(cp, enc))) return GT_ENOMEM;
        i += k;
    }
    return 0;
}

size_t gt_utf8_first_invalid(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t k = gt_utf8_decode(s + i, n - i, &cp);
        if (!k || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i; /* as gt_utf8_sanitize */
        i += k;
    }
    return n;
}

/* Bytes that stand for themselves: '!'..'~', U+00A1..U+00AC, U+00AE..U+00FF. */
static int byte_is_printable(unsigned b) {
    return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
}

uint32_t gt_unicode_byte_to_cp(uint8_t b) {
    if (byte_is_printable(b)) return b;
    /* the others take U+0100 + their rank among non-printable bytes */
    uint32_t rank = 0;
    for (unsigned x = 0; x < b; x++) rank += !byte_is_printable(x);
    return 0x100 + rank;
}

int gt_unicode_cp_to_byte(uint32_t cp) {
    if (cp < 0x100) return byte_is_printable(cp) ? (int)cp : -1;
    uint32_t rank = cp - 0x100;
    for (unsigned x = 0; x < 256; x++)
        if (!byte_is_printable(x) && rank-- == 0) return (int)x;
    return -1;
}
