/* sha256.h: SHA-256 through OpenSSL, for content-addressed blobs
 * ("sha256:<hex>") and anything that is not checked by an EVM contract. */
#ifndef GT_CRYPTO_SHA256_H
#define GT_CRYPTO_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* One-shot SHA-256 of len bytes of data into out. */
void gt_sha256(const void *data, size_t len, uint8_t out[32]);
/* The first 8 bytes of SHA-256(data) read as a little-endian number: a
 * seed or key that every machine derives alike. */
uint64_t gt_sha256_u64(const void *data, size_t len);

/* Incremental SHA-256, for bytes that arrive in pieces (a streamed blob
 * upload): init, any number of updates, final (which frees the state; a
 * context abandoned before final is freed with gt_sha256_free). */
typedef struct gt_sha256_ctx {
    void *md; /* OpenSSL's EVP_MD_CTX */
} gt_sha256_ctx;
/* GT_ENOMEM-style failure is OpenSSL's allocation failing: returns -1. */
int gt_sha256_init(gt_sha256_ctx *c);
void gt_sha256_update(gt_sha256_ctx *c, const void *data, size_t len);
void gt_sha256_final(gt_sha256_ctx *c, uint8_t out[32]);
void gt_sha256_free(gt_sha256_ctx *c); /* accepts a finished or zeroed context */

#endif
