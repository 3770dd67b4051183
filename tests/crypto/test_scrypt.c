/* test_scrypt.c: our scrypt against RFC 7914's test vectors, against OpenSSL's
 * EVP_PBE_scrypt on every parameter set both accept, and on the r = 1,
 * N = 2^18 case OpenSSL refuses (through the keystore vector in
 * test_keystore.c). */
#include <openssl/evp.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/scrypt.h"

static void check_rfc(const char *pw, const char *salt, uint64_t n, uint32_t r, uint32_t p,
                      const char *want_hex) {
    uint8_t out[64];
    char got[129];
    gt_err err = {0};
    int rc = gt_scrypt(pw, strlen(pw), (const uint8_t *)salt, strlen(salt), n, r, p, out, 64, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    gt_hex_encode(out, 64, got);
    CHECK_STR(got, want_hex);
}

/* RFC 7914 section 12 (the two vectors cheap enough for every test run). */
static void test_rfc7914(void) {
    check_rfc("", "", 16, 1, 1,
              "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
              "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
    check_rfc("password", "NaCl", 1024, 8, 16,
              "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
              "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

static void test_vs_openssl(void) {
    static const struct { uint64_t n; uint32_t r, p; } ps[] = {
        {2, 1, 1}, {4, 2, 1}, {16, 1, 3}, {64, 3, 2}, {256, 8, 1}, {1024, 4, 2}, {32, 16, 1},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        for (size_t out_len = 1; out_len <= 80; out_len += 37) {
            uint8_t ours[80], theirs[80];
            const char *pw = "pässwörd";
            uint8_t salt[19];
            for (size_t k = 0; k < sizeof salt; k++) salt[k] = (uint8_t)(i * 31 + k);
            int rc = gt_scrypt(pw, strlen(pw), salt, sizeof salt, ps[i].n, ps[i].r, ps[i].p, ours,
                               out_len, NULL);
            int ok = EVP_PBE_scrypt(pw, strlen(pw), salt, sizeof salt, ps[i].n, ps[i].r, ps[i].p,
                                    64u << 20, theirs, out_len);
            if (rc != 0 || ok != 1 || memcmp(ours, theirs, out_len) != 0) {
                bad++;
                fprintf(stderr, "mismatch n=%llu r=%u p=%u len=%zu (rc %d, openssl %d)\n",
                        (unsigned long long)ps[i].n, ps[i].r, ps[i].p, out_len, rc, ok);
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_bad_params(void) {
    uint8_t out[32];
    gt_err err = {0};
    CHECK_EQ_INT(gt_scrypt("a", 1, NULL, 0, 3, 1, 1, out, 32, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "power of two");
    CHECK_EQ_INT(gt_scrypt("a", 1, NULL, 0, 0, 1, 1, out, 32, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_scrypt("a", 1, NULL, 0, 16, 0, 1, out, 32, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_scrypt("a", 1, NULL, 0, 16, 1, 0, out, 32, &err), GT_EINVAL);
    /* each allocation failing in turn is reported, not a crash */
    for (long k = 0; k < 4; k++) {
        gt_alloc_fail_after(k);
        int rc = gt_scrypt("a", 1, NULL, 0, 16, 1, 1, out, 32, &err);
        gt_alloc_fail_after(-1);
        CHECK_EQ_INT(rc, GT_ENOMEM);
    }
}

int main(void) {
    RUN(test_rfc7914);
    RUN(test_vs_openssl);
    RUN(test_bad_params);
    return gt_test_finish();
}
