/* keccak.h: legacy Keccak-256, the hash Ethereum uses everywhere (addresses,
 * EIP-712, Merkle trees, keystore MACs).
 *
 * This is the original Keccak submission with 0x01 domain padding, not the
 * FIPS 202 SHA3-256 (0x06 padding) that OpenSSL ships; the two differ in every
 * output bit, so we carry our own permutation. Rate 136 bytes, capacity 512. */
#ifndef GT_CRYPTO_KECCAK_H
#define GT_CRYPTO_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define GT_KECCAK256_RATE_BYTES 136

/* Incremental state: 25 lanes, plus a partial block not yet absorbed. */
typedef struct gt_keccak {
    uint64_t st[25];
    uint8_t buf[GT_KECCAK256_RATE_BYTES];
    size_t pos; /* bytes in buf, always < rate */
} gt_keccak;

/* Starts a new Keccak-256 hash in k. */
void gt_keccak_init(gt_keccak *k);
/* Absorbs len bytes of data (any split of the input gives the same hash). */
void gt_keccak_update(gt_keccak *k, const void *data, size_t len);
/* Pads, squeezes the 32-byte digest into out; k must be re-initialised after. */
void gt_keccak_final(gt_keccak *k, uint8_t out[32]);
/* Pads like gt_keccak_final, then squeezes len bytes from the sponge (the
 * first 32 equal the digest); k must be re-initialised after. */
void gt_keccak_xof(gt_keccak *k, uint8_t *out, size_t len);
/* The same stream as n little-endian 64-bit words (word i is bytes
 * 8i..8i+7 of gt_keccak_xof's output), without the byte shuffling. */
void gt_keccak_xof_words(gt_keccak *k, uint64_t *out, size_t n);
/* One-shot legacy Keccak-256 (0x01 padding), as Ethereum uses. */
void gt_keccak256(const void *data, size_t len, uint8_t out[32]);

/* The Keccak-f[1600] permutation itself (24 rounds), for tests and callers
 * building other sponge modes. It runs a build for the CPU's instruction set
 * when it has one (BMI on x86-64); gt_keccak_f1600_portable is the plain
 * build of the same C, which tests compare it with: same lanes, bit for bit. */
void gt_keccak_f1600(uint64_t st[25]);
void gt_keccak_f1600_portable(uint64_t st[25]);

#endif
