/* scrypt.h: the scrypt password-based KDF (RFC 7914).
 *
 * Ours rather than OpenSSL's EVP_PBE_scrypt because OpenSSL enforces RFC
 * 7914's N < 2^(128r/8), which refuses r = 1 with N = 2^18: exactly the
 * parameters of the Web3 Secret Storage test vector, and of keystores written
 * by tools that followed it. geth accepts them, so we must too. The memory
 * comes from gt_malloc, so its failure is an error, not an abort. */
#ifndef GT_CRYPTO_SCRYPT_H
#define GT_CRYPTO_SCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Bytes of memory scrypt(N, r, p) needs: V (128*r*N) plus B (128*r*p) plus
 * the BlockMix scratch (256*r). Callers bound this before calling. */
uint64_t gt_scrypt_mem_bytes(uint64_t n, uint64_t r, uint64_t p);

/* Derives out_len bytes from password and salt. n must be a power of two
 * >= 2, r and p >= 1, with 128*r*p and 128*r*n fitting in memory (the caller
 * checks its own limits first). Returns 0, GT_EINVAL for bad parameters or
 * GT_ENOMEM. */
int gt_scrypt(const void *password, size_t password_len, const uint8_t *salt, size_t salt_len,
              uint64_t n, uint32_t r, uint32_t p, uint8_t *out, size_t out_len, gt_err *err);

#endif
