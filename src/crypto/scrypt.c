/* scrypt.c: scrypt = PBKDF2-HMAC-SHA256(P, S, 1) -> ROMix per block ->
 * PBKDF2-HMAC-SHA256(P, B, 1) (RFC 7914). PBKDF2 is OpenSSL's; ROMix and its
 * BlockMix over Salsa20/8 are here (see scrypt.h for why).
 *
 * Words are kept as little-endian uint32 in memory order, converted once on
 * the way in and out, so the inner loops are plain integer arithmetic. */
#include "crypto/scrypt.h"

#include <assert.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "base/alloc.h"

#define ROTL32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

/* Salsa20/8 core: 4 double rounds (column then row) and the feed-forward. */
static void salsa20_8(uint32_t b[16]) {
    uint32_t x[16];
    memcpy(x, b, sizeof x);
    for (int i = 0; i < 8; i += 2) {
        x[4] ^= ROTL32(x[0] + x[12], 7);
        x[8] ^= ROTL32(x[4] + x[0], 9);
        x[12] ^= ROTL32(x[8] + x[4], 13);
        x[0] ^= ROTL32(x[12] + x[8], 18);
        x[9] ^= ROTL32(x[5] + x[1], 7);
        x[13] ^= ROTL32(x[9] + x[5], 9);
        x[1] ^= ROTL32(x[13] + x[9], 13);
        x[5] ^= ROTL32(x[1] + x[13], 18);
        x[14] ^= ROTL32(x[10] + x[6], 7);
        x[2] ^= ROTL32(x[14] + x[10], 9);
        x[6] ^= ROTL32(x[2] + x[14], 13);
        x[10] ^= ROTL32(x[6] + x[2], 18);
        x[3] ^= ROTL32(x[15] + x[11], 7);
        x[7] ^= ROTL32(x[3] + x[15], 9);
        x[11] ^= ROTL32(x[7] + x[3], 13);
        x[15] ^= ROTL32(x[11] + x[7], 18);
        x[1] ^= ROTL32(x[0] + x[3], 7);
        x[2] ^= ROTL32(x[1] + x[0], 9);
        x[3] ^= ROTL32(x[2] + x[1], 13);
        x[0] ^= ROTL32(x[3] + x[2], 18);
        x[6] ^= ROTL32(x[5] + x[4], 7);
        x[7] ^= ROTL32(x[6] + x[5], 9);
        x[4] ^= ROTL32(x[7] + x[6], 13);
        x[5] ^= ROTL32(x[4] + x[7], 18);
        x[11] ^= ROTL32(x[10] + x[9], 7);
        x[8] ^= ROTL32(x[11] + x[10], 9);
        x[9] ^= ROTL32(x[8] + x[11], 13);
        x[10] ^= ROTL32(x[9] + x[8], 18);
        x[12] ^= ROTL32(x[15] + x[14], 7);
        x[13] ^= ROTL32(x[12] + x[15], 9);
        x[14] ^= ROTL32(x[13] + x[12], 13);
        x[15] ^= ROTL32(x[14] + x[13], 18);
    }
    for (int i = 0; i < 16; i++) b[i] += x[i];
}

/* BlockMix of (in ^ mix) into out; in and out are 2r 64-byte blocks (32r
 * words), mix is NULL or another such block. out gets the even outputs
 * first, then the odd ones, and must not overlap in or mix. Always inlined,
 * so the two uses (mix NULL or not) each get a branch-free copy. */
static inline __attribute__((always_inline)) void block_mix(const uint32_t *in,
                                                            const uint32_t *mix, uint32_t *out,
                                                            uint32_t r) {
    uint32_t x[16];
    const uint32_t *last = in + (2 * r - 1) * 16;
    for (int w = 0; w < 16; w++) x[w] = last[w] ^ (mix ? mix[(2 * r - 1) * 16 + w] : 0);
    for (uint32_t i = 0; i < 2 * r; i++) {
        for (int w = 0; w < 16; w++) x[w] ^= in[i * 16 + w] ^ (mix ? mix[i * 16 + w] : 0);
        salsa20_8(x);
        memcpy(out + ((i & 1) * r + i / 2) * 16, x, 64);
    }
}

/* ROMix on one 128r-byte block b (as words), with v (n blocks) and the
 * scratch xy (two blocks) supplied by the caller. The first loop fills V by
 * mixing each block straight into the next; the second XORs V[j] in on the
 * fly and ping-pongs between the two scratch blocks, so no block is copied
 * more than the algorithm needs. */
static void ro_mix(uint32_t *b, uint64_t n, uint32_t r, uint32_t *v, uint32_t *xy) {
    size_t words = 32 * (size_t)r;
    uint32_t *x = xy, *y = xy + words, *t;
    memcpy(v, b, words * 4);
    for (uint64_t i = 0; i + 1 < n; i++) block_mix(v + i * words, NULL, v + (i + 1) * words, r);
    block_mix(v + (n - 1) * words, NULL, x, r);
    for (uint64_t i = 0; i < n; i++) {
        /* Integerify: the first word of the last 64-byte block, mod n. */
        uint64_t j = x[(2 * r - 1) * 16] & (n - 1);
        block_mix(x, v + j * words, y, r);
        t = x, x = y, y = t;
    }
    memcpy(b, x, words * 4);
}

/* V, B and the two scratch blocks, as gt_scrypt allocates them. */
uint64_t gt_scrypt_mem_bytes(uint64_t n, uint64_t r, uint64_t p) {
    return 128 * r * n + 128 * r * p + 256 * r;
}

/* B = PBKDF2(P, S, 1, p*128r); ROMix each block; DK = PBKDF2(P, B, 1).
 * All scratch memory is wiped before it is freed. */
int gt_scrypt(const void *password, size_t password_len, const uint8_t *salt, size_t salt_len,
              uint64_t n, uint32_t r, uint32_t p, uint8_t *out, size_t out_len, gt_err *err) {
    if (n < 2 || (n & (n - 1)) || r == 0 || p == 0)
        return gt_err_set(err, GT_EINVAL, "scrypt: n must be a power of two >= 2, r and p >= 1");
    /* RFC 7914's own bounds: p <= (2^32-1)*32/(128r), and V addressable. */
    if ((uint64_t)r * p >= (1u << 30) || n > (SIZE_MAX / 128) / r || out_len > INT32_MAX ||
        password_len > INT32_MAX || salt_len > INT32_MAX)
        return gt_err_set(err, GT_EINVAL, "scrypt: parameters too large");
    size_t block_bytes = 128 * (size_t)r, b_bytes = block_bytes * p;
    uint8_t *b = gt_malloc(b_bytes);
    uint32_t *words = gt_malloc(block_bytes);
    uint32_t *v = gt_malloc(block_bytes * (size_t)n);
    uint32_t *xy = gt_malloc(2 * block_bytes);
    int rc = 0;
    if (!b || !words || !v || !xy) {
        rc = gt_err_set(err, GT_ENOMEM, "scrypt: cannot allocate %llu MiB",
                        (unsigned long long)(gt_scrypt_mem_bytes(n, r, p) >> 20));
        goto done;
    }
    if (PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, 1, EVP_sha256(),
                          (int)b_bytes, b) != 1) {
        rc = gt_err_set(err, GT_ENOMEM, "scrypt: PBKDF2 failed in OpenSSL");
        goto done;
    }
    for (uint32_t i = 0; i < p; i++) {
        uint8_t *blk = b + i * block_bytes;
        for (size_t w = 0; w < block_bytes / 4; w++)
            words[w] = (uint32_t)blk[4 * w] | (uint32_t)blk[4 * w + 1] << 8 |
                       (uint32_t)blk[4 * w + 2] << 16 | (uint32_t)blk[4 * w + 3] << 24;
        ro_mix(words, n, r, v, xy);
        for (size_t w = 0; w < block_bytes / 4; w++) {
            blk[4 * w] = (uint8_t)words[w];
            blk[4 * w + 1] = (uint8_t)(words[w] >> 8);
            blk[4 * w + 2] = (uint8_t)(words[w] >> 16);
            blk[4 * w + 3] = (uint8_t)(words[w] >> 24);
        }
    }
    if (PKCS5_PBKDF2_HMAC(password, (int)password_len, b, (int)b_bytes, 1, EVP_sha256(),
                          (int)out_len, out) != 1)
        rc = gt_err_set(err, GT_ENOMEM, "scrypt: PBKDF2 failed in OpenSSL");
done:
    /* V and B are derived from the password: clear them before freeing. */
    if (v) OPENSSL_cleanse(v, block_bytes * (size_t)n);
    if (b) OPENSSL_cleanse(b, b_bytes);
    if (words) OPENSSL_cleanse(words, block_bytes);
    if (xy) OPENSSL_cleanse(xy, 2 * block_bytes);
    gt_free(v);
    gt_free(b);
    gt_free(words);
    gt_free(xy);
    return rc;
}
