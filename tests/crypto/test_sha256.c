/* test_sha256.c: gt_sha256 against the FIPS 180-2 example vectors. */
#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/sha256.h"
#include "../test.h"

static const char *sha_hex(const void *d, size_t n) {
    static char out[65];
    uint8_t h[32];
    gt_sha256(d, n, h);
    gt_hex_encode(h, 32, out);
    return out;
}

static void test_vectors(void) {
    CHECK_STR(sha_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_STR(sha_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_EQ_U64(gt_sha256_u64("abc", 3), 0xeacf018fbf1678baull); /* its first 8 bytes, little-endian */
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK_STR(sha_hex(m, strlen(m)),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *a = gt_malloc(1000000);
    CHECK(a != NULL);
    if (!a) return;
    memset(a, 'a', 1000000);
    CHECK_STR(sha_hex(a, 1000000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    gt_free(a);
}

int main(void) {
    RUN(test_vectors);
    return gt_test_finish();
}
