/* sha256.h: SHA-256 through OpenSSL, for content-addressed blobs
 * ("sha256:<hex>") and anything that is not checked by an EVM contract. */
#ifndef GT_CRYPTO_SHA256_H
#define GT_CRYPTO_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* One-shot SHA-256 of len bytes of data into out. */
void gt_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
