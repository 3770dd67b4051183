/* abi.c: contract ABI encoding (see abi.h). */
#include "chain/abi.h"

#include <assert.h>
#include <string.h>

#include "crypto/keccak.h"

gt_abi_val gt_abi_u256(const uint8_t be[32]) {
    gt_abi_val v = {.kind = GT_ABI_WORD};
    memcpy(v.word, be, 32);
    return v;
}

gt_abi_val gt_abi_uint(uint64_t x) {
    gt_abi_val v = {.kind = GT_ABI_WORD};
    for (int i = 0; i < 8; i++) v.word[31 - i] = (uint8_t)(x >> (8 * i));
    return v;
}

gt_abi_val gt_abi_address(const gt_addr *a) {
    gt_abi_val v = {.kind = GT_ABI_WORD};
    memcpy(v.word + 12, a->b, 20);
    return v;
}

gt_abi_val gt_abi_bool(int b) {
    return gt_abi_uint(b ? 1 : 0);
}

gt_abi_val gt_abi_bytes32(const uint8_t b[32]) {
    return gt_abi_u256(b);
}

gt_abi_val gt_abi_bytes(const void *p, size_t len) {
    gt_abi_val v = {.kind = GT_ABI_BYTES, .bytes = p, .len = len};
    assert(p || len == 0);
    return v;
}

gt_abi_val gt_abi_string(const char *s) {
    return gt_abi_bytes(s, strlen(s));
}

gt_abi_val gt_abi_array(const gt_abi_val *items, size_t n) {
    gt_abi_val v = {.kind = GT_ABI_ARRAY, .items = items, .n = n};
    assert(items || n == 0);
    return v;
}

static int is_dynamic(const gt_abi_val *v) {
    return v->kind != GT_ABI_WORD;
}

/* Writes x as a big-endian 32-byte word at p. */
static void put_word_at(uint8_t *p, uint64_t x) {
    memset(p, 0, 32);
    for (int i = 0; i < 8; i++) p[31 - i] = (uint8_t)(x >> (8 * i));
}

static int append_word(gt_buf *b, uint64_t x) {
    uint8_t w[32];
    put_word_at(w, x);
    return gt_buf_append(b, w, 32);
}

static int enc_tuple(const gt_abi_val *vals, size_t n, int depth, gt_buf *b, gt_err *err);

/* The tail of one dynamic value: bytes/string, or T[] as length + tuple. */
static int enc_dynamic(const gt_abi_val *v, int depth, gt_buf *b, gt_err *err) {
    static const uint8_t zeros[32];
    if (v->kind == GT_ABI_BYTES) {
        if (v->len > GT_ABI_MAX_BYTES)
            return gt_err_set(err, GT_ELIMIT, "abi: a bytes value of %zu bytes; the limit is %u", v->len,
                              GT_ABI_MAX_BYTES);
        int rc = append_word(b, v->len);
        if (rc == 0 && v->len) rc = gt_buf_append(b, v->bytes, v->len);
        if (rc == 0 && v->len % 32) rc = gt_buf_append(b, zeros, 32 - v->len % 32);
        return rc ? gt_err_set(err, rc, "abi: out of memory") : 0;
    }
    assert(v->kind == GT_ABI_ARRAY);
    for (size_t i = 1; i < v->n; i++)
        if (v->items[i].kind != v->items[0].kind)
            return gt_err_set(err, GT_EINVAL, "abi: array item %zu differs in kind from item 0; a T[] has one T",
                              i);
    if (append_word(b, v->n) != 0) return gt_err_set(err, GT_ENOMEM, "abi: out of memory");
    return enc_tuple(v->items, v->n, depth + 1, b, err);
}

/* Heads, then tails: a dynamic item's head is its tail's offset from the
 * tuple's first byte. Offsets are patched in place (b may move). */
static int enc_tuple(const gt_abi_val *vals, size_t n, int depth, gt_buf *b, gt_err *err) {
    if (depth > GT_ABI_MAX_DEPTH)
        return gt_err_set(err, GT_ELIMIT, "abi: values nest deeper than %d", GT_ABI_MAX_DEPTH);
    if (n > GT_ABI_MAX_ITEMS)
        return gt_err_set(err, GT_ELIMIT, "abi: %zu items; the limit is %d", n, GT_ABI_MAX_ITEMS);
    size_t start = b->len;
    if (gt_buf_reserve(b, 32 * n) != 0) return gt_err_set(err, GT_ENOMEM, "abi: out of memory");
    memset(b->data + start, 0, 32 * n);
    b->len += 32 * n;
    for (size_t i = 0; i < n; i++) {
        if (!is_dynamic(&vals[i])) {
            memcpy(b->data + start + 32 * i, vals[i].word, 32);
            continue;
        }
        put_word_at(b->data + start + 32 * i, (uint64_t)(b->len - start));
        int rc = enc_dynamic(&vals[i], depth, b, err);
        if (rc != 0) return rc;
    }
    return 0;
}

int gt_abi_encode(const gt_abi_val *args, size_t n, gt_buf *out, gt_err *err) {
    assert(args || n == 0);
    size_t before = out->len;
    int rc = enc_tuple(args, n, 0, out, err);
    if (rc != 0) out->len = before; /* leave nothing half-written */
    return rc;
}

void gt_abi_selector(const char *signature, uint8_t out[4]) {
    uint8_t h[32];
    gt_keccak256(signature, strlen(signature), h);
    memcpy(out, h, 4);
}

int gt_abi_calldata(const char *signature, const gt_abi_val *args, size_t n, gt_buf *out, gt_err *err) {
    uint8_t sel[4];
    gt_abi_selector(signature, sel);
    size_t before = out->len;
    if (gt_buf_append(out, sel, 4) != 0) return gt_err_set(err, GT_ENOMEM, "abi: out of memory");
    int rc = gt_abi_encode(args, n, out, err);
    if (rc != 0) out->len = before;
    return rc;
}
