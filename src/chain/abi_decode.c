/* abi_decode.c: strict ABI decoding (see abi_decode.h). */
#include "chain/abi_decode.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "chain/abi.h"
#include "chain/escrow_errors.h"
#include "crypto/keccak.h"

int gt_abi_get_word(const uint8_t *d, size_t n, size_t i, uint8_t out[32], gt_err *err) {
    if (i >= n / 32)
        return gt_err_set(err, GT_EINVAL, "ABI data of %zu bytes has no word %zu (head words: %zu)", n, i, n / 32);
    memcpy(out, d + 32 * i, 32);
    return 0;
}

int gt_abi_word_u64(const uint8_t w[32], uint64_t *out, const char *what, gt_err *err) {
    for (int k = 0; k < 24; k++)
        if (w[k]) return gt_err_set(err, GT_EOVERFLOW, "%s does not fit 64 bits", what);
    uint64_t v = 0;
    for (int k = 24; k < 32; k++) v = v << 8 | w[k];
    *out = v;
    return 0;
}

int gt_abi_word_address(const uint8_t w[32], gt_addr *out, const char *what, gt_err *err) {
    for (int k = 0; k < 12; k++)
        if (w[k]) return gt_err_set(err, GT_EINVAL, "%s is not an address (its 12 high bytes are not zero)", what);
    memcpy(out->b, w + 12, 20);
    return 0;
}

int gt_abi_get_u64(const uint8_t *d, size_t n, size_t i, uint64_t *out, gt_err *err) {
    uint8_t w[32];
    char what[48];
    int rc = gt_abi_get_word(d, n, i, w, err);
    snprintf(what, sizeof what, "ABI word %zu", i);
    return rc ? rc : gt_abi_word_u64(w, out, what, err);
}

int gt_abi_get_address(const uint8_t *d, size_t n, size_t i, gt_addr *out, gt_err *err) {
    uint8_t w[32];
    char what[48];
    int rc = gt_abi_get_word(d, n, i, w, err);
    snprintf(what, sizeof what, "ABI word %zu", i);
    return rc ? rc : gt_abi_word_address(w, out, what, err);
}

int gt_abi_get_bool(const uint8_t *d, size_t n, size_t i, int *out, gt_err *err) {
    uint64_t v;
    int rc = gt_abi_get_u64(d, n, i, &v, err);
    if (rc) return rc;
    if (v > 1) return gt_err_set(err, GT_EINVAL, "ABI word %zu is not a bool (%llu)", i, (unsigned long long)v);
    *out = (int)v;
    return 0;
}

/* The length word at the offset in head word i, and where the payload starts. */
static int dynamic_at(const uint8_t *d, size_t n, size_t i, size_t *start, uint64_t *len, gt_err *err) {
    uint64_t off;
    int rc = gt_abi_get_u64(d, n, i, &off, err);
    if (rc) return rc;
    if (off % 32 || off > n || n - off < 32)
        return gt_err_set(err, GT_EINVAL, "ABI word %zu: offset %llu outside the %zu bytes of data", i,
                          (unsigned long long)off, n);
    if ((rc = gt_abi_word_u64(d + off, len, "an ABI length", err))) return rc;
    *start = (size_t)off + 32;
    return 0;
}

int gt_abi_get_bytes(const uint8_t *d, size_t n, size_t i, const uint8_t **p, size_t *len, gt_err *err) {
    size_t start;
    uint64_t l;
    int rc = dynamic_at(d, n, i, &start, &l, err);
    if (rc) return rc;
    if (l > GT_ABI_MAX_BYTES) return gt_err_set(err, GT_ELIMIT, "ABI bytes of %llu, at most %u", (unsigned long long)l,
                                                GT_ABI_MAX_BYTES);
    if (l > n - start)
        return gt_err_set(err, GT_EINVAL, "ABI bytes of %llu run past the data's end", (unsigned long long)l);
    *p = d + start;
    *len = (size_t)l;
    return 0;
}

int gt_abi_get_words(const uint8_t *d, size_t n, size_t i, const uint8_t **items, size_t *count, gt_err *err) {
    size_t start;
    uint64_t l;
    int rc = dynamic_at(d, n, i, &start, &l, err);
    if (rc) return rc;
    if (l > GT_ABI_MAX_ITEMS)
        return gt_err_set(err, GT_ELIMIT, "ABI array of %llu items, at most %d", (unsigned long long)l,
                          GT_ABI_MAX_ITEMS);
    if (l * 32 > n - start)
        return gt_err_set(err, GT_EINVAL, "ABI array of %llu words runs past the data's end", (unsigned long long)l);
    *items = d + start;
    *count = (size_t)l;
    return 0;
}

void gt_abi_event_topic(const char *signature, uint8_t out[32]) {
    assert(signature);
    gt_keccak256(signature, strlen(signature), out);
}

int gt_abi_revert_reason(const uint8_t *d, size_t n, char *out, size_t cap) {
    assert(out && cap > 0);
    uint8_t sel_error[4], sel_panic[4];
    gt_abi_selector("Error(string)", sel_error);
    gt_abi_selector("Panic(uint256)", sel_panic);
    const uint8_t *p;
    size_t len;
    uint64_t code;
    if (n >= 4 && !memcmp(d, sel_error, 4) && !gt_abi_get_bytes(d + 4, n - 4, 0, &p, &len, NULL)) {
        size_t k = 0;
        for (; k < len && k + 1 < cap; k++) out[k] = p[k] >= 0x20 && p[k] < 0x7f ? (char)p[k] : '?';
        out[k] = 0;
        return 1;
    }
    if (n >= 4 && !memcmp(d, sel_panic, 4) && !gt_abi_get_u64(d + 4, n - 4, 0, &code, NULL)) {
        snprintf(out, cap, "panic 0x%llx", (unsigned long long)code);
        return 1;
    }
    /* A custom error: JobEscrow's are read as the message they stand for;
     * another contract's is named by its selector (its arguments unread). */
    if (n >= 4 && memcmp(d, sel_error, 4) && memcmp(d, sel_panic, 4)) {
        const char *msg = gt_escrow_error_message(d);
        if (msg) {
            snprintf(out, cap, "%s", msg);
            return 1;
        }
        snprintf(out, cap, "custom error 0x%02x%02x%02x%02x (%zu bytes of revert data)", d[0], d[1], d[2], d[3], n);
        return 0;
    }
    snprintf(out, cap, "%zu bytes of revert data", n);
    return 0;
}
