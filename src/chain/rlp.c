/* rlp.c: RLP encoding and strict decoding (see rlp.h for the rules). */
#include "chain/rlp.h"

#include <assert.h>
#include <string.h>

/* Writes the big-endian bytes of v without leading zeros into out (8 bytes
 * of room); returns how many (0 for v == 0). */
static size_t be_min(uint64_t v, uint8_t out[8]) {
    size_t n = 0;
    for (uint64_t t = v; t; t >>= 8) n++;
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return n;
}

/* Builds the header of a payload of len bytes (offset 0x80 for a string,
 * 0xc0 for a list) into hdr (9 bytes of room); returns its length. */
static size_t header(uint8_t offset, size_t len, uint8_t hdr[9]) {
    if (len < 56) {
        hdr[0] = (uint8_t)(offset + len);
        return 1;
    }
    size_t nl = be_min((uint64_t)len, hdr + 1);
    assert(nl >= 1 && nl <= 8);
    hdr[0] = (uint8_t)(offset + 55 + nl);
    return 1 + nl;
}

/* A byte string: one byte under 0x80 is its own encoding, else header + bytes. */
int gt_rlp_put_bytes(gt_buf *b, const void *p, size_t n) {
    assert(p || n == 0);
    if (n == 1 && ((const uint8_t *)p)[0] < 0x80) return gt_buf_putc(b, ((const uint8_t *)p)[0]);
    uint8_t hdr[9];
    size_t hl = header(0x80, n, hdr);
    int rc = gt_buf_append(b, hdr, hl);
    if (rc == 0 && n) rc = gt_buf_append(b, p, n);
    return rc;
}

/* An integer is the string of its minimal big-endian bytes. */
int gt_rlp_put_uint(gt_buf *b, uint64_t v) {
    uint8_t be[8];
    size_t n = be_min(v, be);
    return gt_rlp_put_bytes(b, be, n);
}

/* Same for 256 bits: skip the leading zero bytes. */
int gt_rlp_put_u256(gt_buf *b, const uint8_t be[32]) {
    size_t i = 0;
    while (i < 32 && be[i] == 0) i++;
    return gt_rlp_put_bytes(b, be + i, 32 - i);
}

int gt_rlp_put_raw(gt_buf *b, const void *p, size_t n) {
    return n ? gt_buf_append(b, p, n) : 0;
}

void gt_rlp_list_begin(const gt_buf *b, size_t *mark) {
    *mark = b->len;
}

/* Inserts the list header at mark, moving the payload up by its length. */
int gt_rlp_list_end(gt_buf *b, size_t mark) {
    assert(mark <= b->len);
    size_t len = b->len - mark;
    uint8_t hdr[9];
    size_t hl = header(0xc0, len, hdr);
    if (gt_buf_reserve(b, hl) != 0) return GT_ENOMEM;
    if (len) memmove(b->data + mark + hl, b->data + mark, len);
    memcpy(b->data + mark, hdr, hl);
    b->len += hl;
    b->data[b->len] = 0; /* gt_buf keeps a NUL after the data */
    return 0;
}

/* Reads the header of the item at in[0, n): fills *it (payload within in) and
 * refuses every non-canonical or truncated form. `at` is the item's offset in
 * the whole input, for the message. */
static int read_header(const uint8_t *in, size_t n, size_t at, gt_rlp_item *it, gt_err *err) {
    if (n == 0) return gt_err_set(err, GT_EINVAL, "rlp: input ends at byte %zu; expected an item", at);
    uint8_t h = in[0];
    size_t hl = 1, len;
    it->is_list = h >= 0xc0;
    if (h < 0x80) {
        it->payload = in, it->payload_len = 1, it->raw = in, it->raw_len = 1;
        return 0;
    }
    uint8_t base = it->is_list ? 0xc0 : 0x80;
    if (h - base < 56) {
        len = (size_t)(h - base);
    } else {
        size_t nl = (size_t)(h - base - 55);
        if (n < 1 + nl)
            return gt_err_set(err, GT_EINVAL, "rlp: length at byte %zu is truncated", at);
        if (in[1] == 0)
            return gt_err_set(err, GT_EINVAL, "rlp: length at byte %zu has a leading zero", at);
        uint64_t l = 0;
        for (size_t i = 0; i < nl; i++) l = (l << 8) | in[1 + i];
        if (l < 56)
            return gt_err_set(err, GT_EINVAL,
                              "rlp: item at byte %zu uses the long form for %llu bytes; "
                              "under 56 takes the short form", at, (unsigned long long)l);
        if (l > GT_RLP_MAX_BYTES)
            return gt_err_set(err, GT_ELIMIT, "rlp: item at byte %zu claims %llu bytes; the limit is %u",
                              at, (unsigned long long)l, GT_RLP_MAX_BYTES);
        len = (size_t)l, hl = 1 + nl;
    }
    if (n - hl < len)
        return gt_err_set(err, GT_EINVAL, "rlp: item at byte %zu claims %zu bytes; only %zu remain", at,
                          len, n - hl);
    if (!it->is_list && len == 1 && in[1] < 0x80)
        return gt_err_set(err, GT_EINVAL,
                          "rlp: byte 0x%02x at byte %zu is wrapped in a header; a byte under 0x80 "
                          "encodes as itself", in[1], at);
    it->payload = in + hl, it->payload_len = len, it->raw = in, it->raw_len = hl + len;
    return 0;
}

/* Checks that a list's payload is exactly a sequence of valid items, each
 * checked in turn, nesting at most GT_RLP_MAX_DEPTH. */
static int check_tree(const gt_rlp_item *it, const uint8_t *base, int depth, gt_err *err) {
    if (!it->is_list) return 0;
    if (depth >= GT_RLP_MAX_DEPTH)
        return gt_err_set(err, GT_ELIMIT, "rlp: lists nest deeper than %d at byte %zu", GT_RLP_MAX_DEPTH,
                          (size_t)(it->raw - base));
    size_t off = 0;
    while (off < it->payload_len) {
        gt_rlp_item sub;
        const uint8_t *p = it->payload + off;
        int rc = read_header(p, it->payload_len - off, (size_t)(p - base), &sub, err);
        if (rc == 0) rc = check_tree(&sub, base, depth + 1, err);
        if (rc != 0) return rc;
        off += sub.raw_len;
    }
    return 0;
}

int gt_rlp_decode(const uint8_t *in, size_t n, gt_rlp_item *out, gt_err *err) {
    if (n > GT_RLP_MAX_BYTES)
        return gt_err_set(err, GT_ELIMIT, "rlp: input of %zu bytes; the limit is %u", n, GT_RLP_MAX_BYTES);
    int rc = read_header(in, n, 0, out, err);
    if (rc != 0) return rc;
    if (out->raw_len != n)
        return gt_err_set(err, GT_EINVAL, "rlp: %zu bytes follow the item that ends at byte %zu",
                          n - out->raw_len, out->raw_len);
    return check_tree(out, in, 0, err);
}

/* The list was checked by gt_rlp_decode, so its items parse; asserted. */
int gt_rlp_list_items(const gt_rlp_item *list, gt_rlp_item *items, size_t cap, size_t *n_out,
                      gt_err *err) {
    if (!list->is_list) return gt_err_set(err, GT_EINVAL, "rlp: expected a list, got a byte string");
    size_t off = 0, n = 0;
    while (off < list->payload_len) {
        if (n == cap) return gt_err_set(err, GT_ELIMIT, "rlp: list has more than %zu items", cap);
        int rc = read_header(list->payload + off, list->payload_len - off, off, &items[n], err);
        assert(rc == 0);
        if (rc != 0) return rc;
        off += items[n++].raw_len;
    }
    *n_out = n;
    return 0;
}

/* The list was checked by gt_rlp_decode, so its items parse; asserted. */
int gt_rlp_next(const gt_rlp_item *list, size_t *off, gt_rlp_item *out) {
    assert(list->is_list && *off <= list->payload_len);
    if (*off >= list->payload_len) return 0;
    int rc = read_header(list->payload + *off, list->payload_len - *off, *off, out, NULL);
    assert(rc == 0);
    if (rc != 0) return 0;
    *off += out->raw_len;
    return 1;
}

/* Shared by the integer readers: a string of at most max bytes, no leading zero. */
static int check_int(const gt_rlp_item *it, size_t max, const char *what, gt_err *err) {
    if (it->is_list) return gt_err_set(err, GT_EINVAL, "rlp: %s is a list; expected an integer", what);
    if (it->payload_len > max)
        return gt_err_set(err, GT_EINVAL, "rlp: %s has %zu bytes; at most %zu fit", what, it->payload_len,
                          max);
    if (it->payload_len && it->payload[0] == 0)
        return gt_err_set(err, GT_EINVAL, "rlp: %s has a leading zero byte; integers are minimal", what);
    return 0;
}

int gt_rlp_to_uint(const gt_rlp_item *it, uint64_t *v, const char *what, gt_err *err) {
    int rc = check_int(it, 8, what, err);
    if (rc != 0) return rc;
    uint64_t x = 0;
    for (size_t i = 0; i < it->payload_len; i++) x = (x << 8) | it->payload[i];
    *v = x;
    return 0;
}

int gt_rlp_to_u256(const gt_rlp_item *it, uint8_t out[32], const char *what, gt_err *err) {
    int rc = check_int(it, 32, what, err);
    if (rc != 0) return rc;
    memset(out, 0, 32);
    if (it->payload_len) memcpy(out + 32 - it->payload_len, it->payload, it->payload_len);
    return 0;
}
