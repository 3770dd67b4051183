/* sha256.c: SHA-256 via OpenSSL's one-shot EVP digest (it picks the SHA-NI or
 * AVX2 code path for the CPU, so there is no reason to carry our own). */
#include "crypto/sha256.h"

#include <assert.h>
#include <openssl/evp.h>

/* Hashes len bytes of data into out. OpenSSL can only fail here on allocation
 * failure inside its provider, which we treat as fatal (assert). */
void gt_sha256(const void *data, size_t len, uint8_t out[32]) {
    unsigned int n = 0;
    int ok = EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
    assert(ok == 1 && n == 32);
    (void)ok;
}
