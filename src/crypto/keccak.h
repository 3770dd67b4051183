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
/* Four independent permutations, st[k] being state k: the lanes each would
 * get from gt_keccak_f1600 alone, bit for bit, at about a quarter of the
 * instructions where the CPU has 256-bit vectors (AVX2; AVX-512VL's rotate
 * and three-input logic take off another ~40 %). */
void gt_keccak_f1600_x4(uint64_t st[4][25]);
/* The same through one named build, for tests that must run each: 0, or -1
 * (st untouched) when this CPU or compiler has no such build. */
typedef enum gt_keccak_isa { GT_KECCAK_ISA_BASE, GT_KECCAK_ISA_AVX2, GT_KECCAK_ISA_AVX512 } gt_keccak_isa;
int gt_keccak_f1600_x4_isa(uint64_t st[4][25], gt_keccak_isa isa);

/* Four sponges at once over messages of one length: msg[k] (len bytes
 * each) padded and squeezed as gt_keccak_xof_words does, n words into
 * out[k]; and as gt_keccak256 does, 32 bytes into out[k]. For callers with
 * many short independent hashes (a block's account rows, Merkle nodes,
 * EIP-712 digests). out may be where msg is: every input is read before
 * any output is written. */
void gt_keccak_xof_words_x4(const uint8_t *const msg[4], size_t len, uint64_t *const out[4], size_t n);
void gt_keccak256_x4(const uint8_t *const msg[4], size_t len, uint8_t *const out[4]);
/* The same for m (1..4) messages of any lengths, msg[k] len[k] bytes: a lane
 * whose message ends first keeps its state aside while the longer ones
 * absorb on (a block's market rows, gt_digest_rows_h). */
void gt_keccak_xof_words_x4n(const uint8_t *const msg[], const size_t len[], int m, uint64_t *const out[],
                             size_t n);

#endif
