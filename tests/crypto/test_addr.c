/* test_addr.c: EIP-55 checksums against the EIP's own examples, and the
 * parser's case rules and error messages. */
#include "../test.h"
#include "crypto/addr.h"

/* The examples listed in EIP-55 (all caps, all lower, normal). */
static const char *const eip55[] = {
    "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

static void test_eip55_examples(void) {
    for (size_t i = 0; i < sizeof eip55 / sizeof eip55[0]; i++) {
        gt_addr a;
        gt_err err;
        CHECK_EQ_INT(gt_addr_parse(eip55[i], &a, &err), 0);
        char s[43];
        gt_addr_to_str(&a, s);
        CHECK_STR(s, eip55[i]);
    }
}

static void test_case_rules(void) {
    gt_addr a, b;
    gt_err err;
    CHECK_EQ_INT(gt_addr_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", &a, &err), 0);
    CHECK_EQ_INT(gt_addr_parse("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", &b, &err), 0);
    CHECK(gt_addr_eq(&a, &b));
    CHECK_EQ_INT(gt_addr_parse("0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", &b, &err), 0);
    /* one letter's case flipped: refused, with the right form suggested */
    CHECK_EQ_INT(gt_addr_parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", &b, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "bad EIP-55 checksum; did you mean 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed?");
}

static void test_malformed(void) {
    gt_addr a;
    gt_err err;
    memset(&a, 0x11, sizeof a);
    CHECK_EQ_INT(gt_addr_parse("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", &a, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "\"0x\" followed by 40 hex digits");
    CHECK_EQ_INT(gt_addr_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", &a, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_addr_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed0", &a, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_addr_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", &a, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "invalid hex digit 'g'");
    CHECK_EQ_INT(gt_addr_parse("", &a, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_addr_parse(NULL, &a, &err), GT_EINVAL);
    gt_addr untouched;
    memset(&untouched, 0x11, sizeof untouched);
    CHECK(gt_addr_eq(&a, &untouched)); /* no partial write on error */
}

static void test_zero_and_eq(void) {
    gt_addr z, a;
    gt_err err;
    CHECK_EQ_INT(gt_addr_parse("0x0000000000000000000000000000000000000000", &z, &err), 0);
    CHECK(gt_addr_is_zero(&z));
    CHECK_EQ_INT(gt_addr_parse(eip55[0], &a, &err), 0);
    CHECK(!gt_addr_is_zero(&a));
    CHECK(!gt_addr_eq(&a, &z));
    char s[43];
    gt_addr_to_str(&z, s);
    CHECK_STR(s, "0x0000000000000000000000000000000000000000");
}

int main(void) {
    RUN(test_eip55_examples);
    RUN(test_case_rules);
    RUN(test_malformed);
    RUN(test_zero_and_eq);
    return gt_test_finish();
}
