/* test_abi.c: ABI encoding against the Solidity documentation's worked
 * examples (static and dynamic arguments, nested arrays), selectors of known
 * functions, and the bounds. */
#include "../test.h"
#include "base/hex.h"
#include "chain/abi.h"

static const char *hex_of(const gt_buf *b) {
    static char out[8192];
    gt_hex_encode(b->data, b->len, out);
    return out;
}

static void test_selectors(void) {
    uint8_t s[4];
    gt_abi_selector("transfer(address,uint256)", s);
    CHECK(s[0] == 0xa9 && s[1] == 0x05 && s[2] == 0x9c && s[3] == 0xbb);
    gt_abi_selector("baz(uint32,bool)", s);
    CHECK(s[0] == 0xcd && s[1] == 0xcd && s[2] == 0x77 && s[3] == 0xc0);
}

/* The docs' baz(69, true). */
static void test_static(void) {
    gt_buf b = GT_BUF_INIT;
    gt_abi_val args[] = {gt_abi_uint(69), gt_abi_bool(1)};
    CHECK_EQ_INT(gt_abi_calldata("baz(uint32,bool)", args, 2, &b, NULL), 0);
    CHECK_STR(hex_of(&b), "cdcd77c0"
                          "0000000000000000000000000000000000000000000000000000000000000045"
                          "0000000000000000000000000000000000000000000000000000000000000001");
    gt_buf_free(&b);
}

/* The docs' sam("dave", true, [1, 2, 3]). */
static void test_dynamic(void) {
    gt_buf b = GT_BUF_INIT;
    gt_abi_val nums[] = {gt_abi_uint(1), gt_abi_uint(2), gt_abi_uint(3)};
    gt_abi_val args[] = {gt_abi_string("dave"), gt_abi_bool(1), gt_abi_array(nums, 3)};
    CHECK_EQ_INT(gt_abi_calldata("sam(bytes,bool,uint256[])", args, 3, &b, NULL), 0);
    CHECK_STR(hex_of(&b), "a5643bf2"
                          "0000000000000000000000000000000000000000000000000000000000000060"
                          "0000000000000000000000000000000000000000000000000000000000000001"
                          "00000000000000000000000000000000000000000000000000000000000000a0"
                          "0000000000000000000000000000000000000000000000000000000000000004"
                          "6461766500000000000000000000000000000000000000000000000000000000"
                          "0000000000000000000000000000000000000000000000000000000000000003"
                          "0000000000000000000000000000000000000000000000000000000000000001"
                          "0000000000000000000000000000000000000000000000000000000000000002"
                          "0000000000000000000000000000000000000000000000000000000000000003");
    gt_buf_free(&b);
}

/* The docs' f(0x123, [0x456, 0x789], "1234567890", "Hello, world!"): a
 * bytes10 is a static word, left-aligned. */
static void test_mixed(void) {
    gt_buf b = GT_BUF_INIT;
    uint8_t b10[32] = {0};
    memcpy(b10, "1234567890", 10);
    gt_abi_val arr[] = {gt_abi_uint(0x456), gt_abi_uint(0x789)};
    gt_abi_val args[] = {gt_abi_uint(0x123), gt_abi_array(arr, 2), gt_abi_bytes32(b10),
                         gt_abi_string("Hello, world!")};
    CHECK_EQ_INT(gt_abi_calldata("f(uint256,uint32[],bytes10,bytes)", args, 4, &b, NULL), 0);
    CHECK_STR(hex_of(&b), "8be65246"
                          "0000000000000000000000000000000000000000000000000000000000000123"
                          "0000000000000000000000000000000000000000000000000000000000000080"
                          "3132333435363738393000000000000000000000000000000000000000000000"
                          "00000000000000000000000000000000000000000000000000000000000000e0"
                          "0000000000000000000000000000000000000000000000000000000000000002"
                          "0000000000000000000000000000000000000000000000000000000000000456"
                          "0000000000000000000000000000000000000000000000000000000000000789"
                          "000000000000000000000000000000000000000000000000000000000000000d"
                          "48656c6c6f2c20776f726c642100000000000000000000000000000000000000");
    gt_buf_free(&b);
}

/* The docs' g([[1, 2], [3]], ["one", "two", "three"]): arrays of dynamic items. */
static void test_nested(void) {
    gt_buf b = GT_BUF_INIT;
    gt_abi_val a12[] = {gt_abi_uint(1), gt_abi_uint(2)}, a3[] = {gt_abi_uint(3)};
    gt_abi_val outer[] = {gt_abi_array(a12, 2), gt_abi_array(a3, 1)};
    gt_abi_val strs[] = {gt_abi_string("one"), gt_abi_string("two"), gt_abi_string("three")};
    gt_abi_val args[] = {gt_abi_array(outer, 2), gt_abi_array(strs, 3)};
    CHECK_EQ_INT(gt_abi_calldata("g(uint256[][],string[])", args, 2, &b, NULL), 0);
    CHECK_STR(hex_of(&b), "2289b18c"
                          "0000000000000000000000000000000000000000000000000000000000000040"
                          "0000000000000000000000000000000000000000000000000000000000000140"
                          "0000000000000000000000000000000000000000000000000000000000000002"
                          "0000000000000000000000000000000000000000000000000000000000000040"
                          "00000000000000000000000000000000000000000000000000000000000000a0"
                          "0000000000000000000000000000000000000000000000000000000000000002"
                          "0000000000000000000000000000000000000000000000000000000000000001"
                          "0000000000000000000000000000000000000000000000000000000000000002"
                          "0000000000000000000000000000000000000000000000000000000000000001"
                          "0000000000000000000000000000000000000000000000000000000000000003"
                          "0000000000000000000000000000000000000000000000000000000000000003"
                          "0000000000000000000000000000000000000000000000000000000000000060"
                          "00000000000000000000000000000000000000000000000000000000000000a0"
                          "00000000000000000000000000000000000000000000000000000000000000e0"
                          "0000000000000000000000000000000000000000000000000000000000000003"
                          "6f6e650000000000000000000000000000000000000000000000000000000000"
                          "0000000000000000000000000000000000000000000000000000000000000003"
                          "74776f0000000000000000000000000000000000000000000000000000000000"
                          "0000000000000000000000000000000000000000000000000000000000000005"
                          "7468726565000000000000000000000000000000000000000000000000000000");
    gt_buf_free(&b);
}

/* Bounds and mixed arrays are refused and leave the buffer as it was. */
static void test_refusals(void) {
    gt_buf b = GT_BUF_INIT;
    gt_err err = {0};
    gt_buf_append(&b, "x", 1);
    gt_abi_val mixed[] = {gt_abi_uint(1), gt_abi_string("a")};
    gt_abi_val args[] = {gt_abi_array(mixed, 2)};
    CHECK_EQ_INT(gt_abi_encode(args, 1, &b, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "one T");
    CHECK_EQ_INT(b.len, 1);
    gt_abi_val nest[GT_ABI_MAX_DEPTH + 2];
    nest[0] = gt_abi_uint(7);
    for (int i = 1; i < GT_ABI_MAX_DEPTH + 2; i++) nest[i] = gt_abi_array(&nest[i - 1], 1);
    CHECK_EQ_INT(gt_abi_encode(&nest[GT_ABI_MAX_DEPTH + 1], 1, &b, &err), GT_ELIMIT);
    CHECK_EQ_INT(gt_abi_encode(&nest[GT_ABI_MAX_DEPTH], 1, &b, &err), 0);
    gt_abi_val big = gt_abi_bytes(b.data, GT_ABI_MAX_BYTES + 1); /* never read: refused on length */
    CHECK_EQ_INT(gt_abi_encode(&big, 1, &b, &err), GT_ELIMIT);
    gt_buf_free(&b);
}

int main(void) {
    RUN(test_selectors);
    RUN(test_static);
    RUN(test_dynamic);
    RUN(test_mixed);
    RUN(test_nested);
    RUN(test_refusals);
    return gt_test_finish();
}
