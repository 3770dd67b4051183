/* test_rlp.c: RLP against the Ethereum wiki's and the yellow paper's
 * examples, round trips, and the non-canonical and malformed forms the strict
 * decoder must refuse (each with the reason in its message). */
#include "../test.h"
#include "base/hex.h"
#include "chain/rlp.h"

/* The hex of b's contents (static buffer). */
static const char *hex_of(const gt_buf *b) {
    static char out[4096];
    gt_hex_encode(b->data, b->len, out);
    return out;
}

static void test_wiki_strings_and_ints(void) {
    gt_buf b = GT_BUF_INIT;
    gt_rlp_put_bytes(&b, "dog", 3);
    CHECK_STR(hex_of(&b), "83646f67");
    gt_buf_reset(&b);
    gt_rlp_put_bytes(&b, "", 0);
    CHECK_STR(hex_of(&b), "80");
    gt_buf_reset(&b);
    gt_rlp_put_uint(&b, 0);
    CHECK_STR(hex_of(&b), "80");
    gt_buf_reset(&b);
    gt_rlp_put_bytes(&b, "\x00", 1); /* the byte 0x00 is itself */
    CHECK_STR(hex_of(&b), "00");
    gt_buf_reset(&b);
    gt_rlp_put_uint(&b, 15);
    CHECK_STR(hex_of(&b), "0f");
    gt_buf_reset(&b);
    gt_rlp_put_uint(&b, 1024);
    CHECK_STR(hex_of(&b), "820400");
    gt_buf_reset(&b);
    gt_rlp_put_uint(&b, 100000);
    CHECK_STR(hex_of(&b), "830186a0");
    gt_buf_reset(&b);
    gt_rlp_put_uint(&b, UINT64_MAX);
    CHECK_STR(hex_of(&b), "88ffffffffffffffff");
    gt_buf_reset(&b);
    gt_rlp_put_bytes(&b, "\x80", 1); /* 0x80 needs a header */
    CHECK_STR(hex_of(&b), "8180");
    gt_buf_reset(&b);
    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    gt_rlp_put_bytes(&b, lorem, strlen(lorem));
    CHECK(b.len == 58 && b.data[0] == 0xb8 && b.data[1] == 0x38 && memcmp(b.data + 2, lorem, 56) == 0);
    uint8_t u[32] = {0};
    u[30] = 0x04;
    gt_buf_reset(&b);
    gt_rlp_put_u256(&b, u);
    CHECK_STR(hex_of(&b), "820400");
    gt_buf_free(&b);
}

static void test_wiki_lists(void) {
    gt_buf b = GT_BUF_INIT;
    size_t m, m1, m2, m3;
    gt_rlp_list_begin(&b, &m);
    gt_rlp_put_bytes(&b, "cat", 3);
    gt_rlp_put_bytes(&b, "dog", 3);
    gt_rlp_list_end(&b, m);
    CHECK_STR(hex_of(&b), "c88363617483646f67");
    gt_buf_reset(&b);
    gt_rlp_list_begin(&b, &m);
    gt_rlp_list_end(&b, m);
    CHECK_STR(hex_of(&b), "c0");
    /* the set-theoretic three: [ [], [[]], [ [], [[]] ] ] */
    gt_buf_reset(&b);
    gt_rlp_list_begin(&b, &m);
    gt_buf_putc(&b, 0xc0);
    gt_rlp_list_begin(&b, &m1);
    gt_buf_putc(&b, 0xc0);
    gt_rlp_list_end(&b, m1);
    gt_rlp_list_begin(&b, &m2);
    gt_buf_putc(&b, 0xc0);
    gt_rlp_list_begin(&b, &m3);
    gt_buf_putc(&b, 0xc0);
    gt_rlp_list_end(&b, m3);
    gt_rlp_list_end(&b, m2);
    gt_rlp_list_end(&b, m);
    CHECK_STR(hex_of(&b), "c7c0c1c0c3c0c1c0");
    /* a list whose payload is 56 bytes or more takes the long form */
    gt_buf_reset(&b);
    gt_rlp_list_begin(&b, &m);
    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    gt_rlp_put_bytes(&b, lorem, strlen(lorem));
    gt_rlp_list_end(&b, m);
    CHECK(b.len == 60 && b.data[0] == 0xf8 && b.data[1] == 58 && b.data[2] == 0xb8);
    gt_buf_free(&b);
}

/* Decodes hex, expecting success. */
static int decode_hex(const char *h, uint8_t *buf, size_t cap, gt_rlp_item *it, gt_err *err) {
    size_t n;
    CHECK_EQ_INT(gt_hex_decode_var(h, buf, cap, &n, "vector", NULL), 0);
    return gt_rlp_decode(buf, n, it, err);
}

static void test_decode_round_trip(void) {
    uint8_t buf[256];
    gt_rlp_item it, items[4];
    size_t n;
    gt_err err = {0};
    CHECK_EQ_INT(decode_hex("c88363617483646f67", buf, sizeof buf, &it, &err), 0);
    CHECK(it.is_list && it.payload_len == 8 && it.raw_len == 9);
    CHECK_EQ_INT(gt_rlp_list_items(&it, items, 4, &n, &err), 0);
    CHECK_EQ_INT(n, 2);
    CHECK(!items[1].is_list && items[1].payload_len == 3 && memcmp(items[1].payload, "dog", 3) == 0);
    CHECK_EQ_INT(gt_rlp_list_items(&it, items, 1, &n, &err), GT_ELIMIT);
    CHECK_EQ_INT(decode_hex("c7c0c1c0c3c0c1c0", buf, sizeof buf, &it, &err), 0);
    uint64_t v;
    CHECK_EQ_INT(decode_hex("830186a0", buf, sizeof buf, &it, &err), 0);
    CHECK_EQ_INT(gt_rlp_to_uint(&it, &v, "x", &err), 0);
    CHECK_EQ_U64(v, 100000);
    CHECK_EQ_INT(decode_hex("80", buf, sizeof buf, &it, &err), 0);
    CHECK_EQ_INT(gt_rlp_to_uint(&it, &v, "x", &err), 0);
    CHECK_EQ_U64(v, 0);
    CHECK_EQ_INT(decode_hex("0f", buf, sizeof buf, &it, &err), 0);
    CHECK_EQ_INT(gt_rlp_to_uint(&it, &v, "x", &err), 0);
    CHECK_EQ_U64(v, 15);
    CHECK_EQ_INT(decode_hex("89010000000000000000", buf, sizeof buf, &it, &err), 0);
    CHECK_EQ_INT(gt_rlp_to_uint(&it, &v, "x", &err), GT_EINVAL); /* 2^64 does not fit 64 bits */
    uint8_t u[32];
    CHECK_EQ_INT(gt_rlp_to_u256(&it, u, "x", &err), 0);
    CHECK(u[23] == 1 && u[31] == 0);
}

/* Each malformed or non-canonical input, and a word its message must carry. */
static void test_refusals(void) {
    static const struct {
        const char *hex, *why;
    } bad[] = {
        {"", "ends"},
        {"8100", "encodes as itself"},       /* 0x00 wrapped */
        {"817f", "encodes as itself"},       /* 0x7f wrapped */
        {"b80100", "long form"},             /* 1 byte in the long form */
        {"b90038", "leading zero"},          /* length with a leading zero */
        {"f800", "leading zero"},            /* length 0 in the long form */
        {"f801c0", "long form"},             /* 1-byte list, long form */
        {"83646f", "only 2 remain"},         /* truncated string */
        {"c883636174", "only 4 remain"},     /* truncated list */
        {"8000", "follow"},                  /* trailing byte */
        {"c0c0", "follow"},
        {"c28204", "remain"},                /* inner item longer than its list */
        {"c281", "remain"},
        {"bf0100000000000000", "limit"},     /* 2^56 claimed */
        {"b8", "truncated"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[64];
        size_t n;
        gt_rlp_item it;
        gt_err err = {0};
        CHECK_EQ_INT(gt_hex_decode_var(bad[i].hex, buf, sizeof buf, &n, "vector", NULL), 0);
        CHECK_MSG(gt_rlp_decode(buf, n, &it, &err) != 0, "accepted %s", bad[i].hex);
        CHECK_MSG(strstr(err.msg, bad[i].why) != NULL, "%s: message \"%s\" lacks \"%s\"", bad[i].hex, err.msg,
                  bad[i].why);
    }
    /* integers with a leading zero are refused by the integer readers */
    uint8_t buf[8] = {0x82, 0x00, 0x01};
    gt_rlp_item it;
    uint64_t v;
    gt_err err = {0};
    CHECK_EQ_INT(gt_rlp_decode(buf, 3, &it, &err), 0);
    CHECK_EQ_INT(gt_rlp_to_uint(&it, &v, "nonce", &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "nonce has a leading zero");
}

/* Nesting beyond the bound is refused, at the bound accepted. */
static void test_depth(void) {
    uint8_t buf[64];
    memset(buf, 0, sizeof buf);
    for (int d = GT_RLP_MAX_DEPTH - 1; d <= GT_RLP_MAX_DEPTH + 1; d++) {
        /* d nested lists around an empty one: c? c? ... c0 */
        for (int i = 0; i < d; i++) buf[i] = (uint8_t)(0xc0 + (d - i));
        buf[d] = 0xc0;
        gt_rlp_item it;
        gt_err err = {0};
        int rc = gt_rlp_decode(buf, (size_t)d + 1, &it, &err);
        CHECK_MSG(rc == (d + 1 > GT_RLP_MAX_DEPTH ? GT_ELIMIT : 0), "depth %d: %s", d + 1, err.msg);
    }
}

int main(void) {
    RUN(test_wiki_strings_and_ints);
    RUN(test_wiki_lists);
    RUN(test_decode_round_trip);
    RUN(test_refusals);
    RUN(test_depth);
    return gt_test_finish();
}
