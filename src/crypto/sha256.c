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

uint64_t gt_sha256_u64(const void *data, size_t len) {
    uint8_t h[32];
    gt_sha256(data, len, h);
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = x << 8 | h[i];
    return x;
}

/* Starts an incremental hash; -1 when OpenSSL cannot allocate its state. */
int gt_sha256_init(gt_sha256_ctx *c) {
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (!m || EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(m);
        c->md = NULL;
        return -1;
    }
    c->md = m;
    return 0;
}

/* Feeds len more bytes; the context must be initialised and not finished. */
void gt_sha256_update(gt_sha256_ctx *c, const void *data, size_t len) {
    assert(c->md);
    int ok = EVP_DigestUpdate(c->md, data, len);
    assert(ok == 1);
    (void)ok;
}

/* Writes the digest of everything fed and frees the state. */
void gt_sha256_final(gt_sha256_ctx *c, uint8_t out[32]) {
    assert(c->md);
    unsigned int n = 0;
    int ok = EVP_DigestFinal_ex(c->md, out, &n);
    assert(ok == 1 && n == 32);
    (void)ok;
    gt_sha256_free(c);
}

/* Frees the state of an unfinished hash (no-op once finished). */
void gt_sha256_free(gt_sha256_ctx *c) {
    EVP_MD_CTX_free(c->md);
    c->md = NULL;
}
