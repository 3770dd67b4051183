/* keccak.c: the Keccak-f[1600] permutation and the legacy Keccak-256 sponge.
 *
 * Written here rather than taken from a library because Debian has no legacy
 * Keccak and OpenSSL 3.0 only exposes FIPS SHA3 padding. The permutation is
 * the five-step round (theta, rho, pi, chi, iota) written out over the 25
 * lanes; lanes are little-endian 64-bit words. */
#include "crypto/keccak.h"

#include <assert.h>
#include <string.h>

static const uint64_t round_consts[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull,
    0x000000000000808bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
    0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

#define ROTL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/* Applies the 24-round Keccak-f[1600] permutation to st in place.
 *
 * One round, written out lane by lane (lane (x, y) is a[x + 5y]):
 *   theta: c[x] = xor of column x;  d[x] = c[x-1] ^ rotl(c[x+1], 1)
 *   rho+pi: b[y + 5((2x + 3y) mod 5)] = rotl(a[x + 5y] ^ d[x], r[x][y])
 *   chi:   a[x + 5y] = b[x + 5y] ^ (~b[x+1 + 5y] & b[x+2 + 5y])
 *   iota:  a[0] ^= RC[round]
 * With every index a constant the compiler keeps the lanes in registers;
 * the looped version with computed indices ran about 6x slower. The
 * rotation amounts r[x][y] are the Keccak reference offsets. */
void gt_keccak_f1600(uint64_t st[25]) {
    uint64_t a[25];
    memcpy(a, st, sizeof a);
    for (int round = 0; round < 24; round++) {
        uint64_t c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];
        uint64_t c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];
        uint64_t c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];
        uint64_t c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];
        uint64_t c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];
        uint64_t d0 = c4 ^ ROTL64(c1, 1);
        uint64_t d1 = c0 ^ ROTL64(c2, 1);
        uint64_t d2 = c1 ^ ROTL64(c3, 1);
        uint64_t d3 = c2 ^ ROTL64(c4, 1);
        uint64_t d4 = c3 ^ ROTL64(c0, 1);
        uint64_t b0 = a[0] ^ d0;
        uint64_t b1 = ROTL64(a[6] ^ d1, 44);
        uint64_t b2 = ROTL64(a[12] ^ d2, 43);
        uint64_t b3 = ROTL64(a[18] ^ d3, 21);
        uint64_t b4 = ROTL64(a[24] ^ d4, 14);
        uint64_t b5 = ROTL64(a[3] ^ d3, 28);
        uint64_t b6 = ROTL64(a[9] ^ d4, 20);
        uint64_t b7 = ROTL64(a[10] ^ d0, 3);
        uint64_t b8 = ROTL64(a[16] ^ d1, 45);
        uint64_t b9 = ROTL64(a[22] ^ d2, 61);
        uint64_t b10 = ROTL64(a[1] ^ d1, 1);
        uint64_t b11 = ROTL64(a[7] ^ d2, 6);
        uint64_t b12 = ROTL64(a[13] ^ d3, 25);
        uint64_t b13 = ROTL64(a[19] ^ d4, 8);
        uint64_t b14 = ROTL64(a[20] ^ d0, 18);
        uint64_t b15 = ROTL64(a[4] ^ d4, 27);
        uint64_t b16 = ROTL64(a[5] ^ d0, 36);
        uint64_t b17 = ROTL64(a[11] ^ d1, 10);
        uint64_t b18 = ROTL64(a[17] ^ d2, 15);
        uint64_t b19 = ROTL64(a[23] ^ d3, 56);
        uint64_t b20 = ROTL64(a[2] ^ d2, 62);
        uint64_t b21 = ROTL64(a[8] ^ d3, 55);
        uint64_t b22 = ROTL64(a[14] ^ d4, 39);
        uint64_t b23 = ROTL64(a[15] ^ d0, 41);
        uint64_t b24 = ROTL64(a[21] ^ d1, 2);
        a[0] = b0 ^ (~b1 & b2);
        a[1] = b1 ^ (~b2 & b3);
        a[2] = b2 ^ (~b3 & b4);
        a[3] = b3 ^ (~b4 & b0);
        a[4] = b4 ^ (~b0 & b1);
        a[5] = b5 ^ (~b6 & b7);
        a[6] = b6 ^ (~b7 & b8);
        a[7] = b7 ^ (~b8 & b9);
        a[8] = b8 ^ (~b9 & b5);
        a[9] = b9 ^ (~b5 & b6);
        a[10] = b10 ^ (~b11 & b12);
        a[11] = b11 ^ (~b12 & b13);
        a[12] = b12 ^ (~b13 & b14);
        a[13] = b13 ^ (~b14 & b10);
        a[14] = b14 ^ (~b10 & b11);
        a[15] = b15 ^ (~b16 & b17);
        a[16] = b16 ^ (~b17 & b18);
        a[17] = b17 ^ (~b18 & b19);
        a[18] = b18 ^ (~b19 & b15);
        a[19] = b19 ^ (~b15 & b16);
        a[20] = b20 ^ (~b21 & b22);
        a[21] = b21 ^ (~b22 & b23);
        a[22] = b22 ^ (~b23 & b24);
        a[23] = b23 ^ (~b24 & b20);
        a[24] = b24 ^ (~b20 & b21);
        a[0] ^= round_consts[round];
    }
    memcpy(st, a, sizeof a);
}

/* Loads 8 little-endian bytes. */
static inline uint64_t load64_le(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* XORs one full rate-sized block into the state and permutes. */
static void absorb_block(uint64_t st[25], const uint8_t *block) {
    for (int i = 0; i < GT_KECCAK256_RATE_BYTES / 8; i++) st[i] ^= load64_le(block + 8 * i);
    gt_keccak_f1600(st);
}

/* Starts a new Keccak-256 hash in k. */
void gt_keccak_init(gt_keccak *k) {
    memset(k, 0, sizeof *k);
}

/* Absorbs len bytes: tops up a pending partial block, then whole blocks
 * straight from data, then keeps the tail. */
void gt_keccak_update(gt_keccak *k, const void *data, size_t len) {
    const uint8_t *p = data;
    assert(k->pos < GT_KECCAK256_RATE_BYTES);
    if (len == 0) return;
    if (k->pos) {
        size_t take = GT_KECCAK256_RATE_BYTES - k->pos;
        if (take > len) take = len;
        memcpy(k->buf + k->pos, p, take);
        k->pos += take;
        p += take;
        len -= take;
        if (k->pos < GT_KECCAK256_RATE_BYTES) return;
        absorb_block(k->st, k->buf);
        k->pos = 0;
    }
    while (len >= GT_KECCAK256_RATE_BYTES) {
        absorb_block(k->st, p);
        p += GT_KECCAK256_RATE_BYTES;
        len -= GT_KECCAK256_RATE_BYTES;
    }
    if (len) {
        memcpy(k->buf, p, len);
        k->pos = len;
    }
}

/* Pads with the legacy Keccak rule (0x01 ... 0x80) and squeezes 32 bytes. */
void gt_keccak_final(gt_keccak *k, uint8_t out[32]) {
    assert(k->pos < GT_KECCAK256_RATE_BYTES);
    memset(k->buf + k->pos, 0, GT_KECCAK256_RATE_BYTES - k->pos);
    k->buf[k->pos] |= 0x01;
    k->buf[GT_KECCAK256_RATE_BYTES - 1] |= 0x80;
    absorb_block(k->st, k->buf);
    for (int i = 0; i < 4; i++) {
        uint64_t lane = k->st[i];
        for (int b = 0; b < 8; b++) out[8 * i + b] = (uint8_t)(lane >> (8 * b));
    }
    memset(k, 0, sizeof *k); /* leave no partial secret input behind */
}

/* Pads the pending input with the legacy Keccak rule (0x01 ... 0x80) and
 * absorbs it: the sponge is ready to be squeezed. */
static void pad_absorb(gt_keccak *k) {
    assert(k->pos < GT_KECCAK256_RATE_BYTES);
    memset(k->buf + k->pos, 0, GT_KECCAK256_RATE_BYTES - k->pos);
    k->buf[k->pos] |= 0x01;
    k->buf[GT_KECCAK256_RATE_BYTES - 1] |= 0x80;
    absorb_block(k->st, k->buf);
}

/* Pads as gt_keccak_final does, then squeezes len bytes: the first 32 are
 * the Keccak-256 digest, the rest continue the same sponge (a permutation
 * per 136 bytes). For commitments that need a wide hash (state.c's multiset
 * digest); k must be re-initialised after. */
void gt_keccak_xof(gt_keccak *k, uint8_t *out, size_t len) {
    pad_absorb(k);
    size_t o = 0;
    for (;;) {
        for (size_t i = 0; i < GT_KECCAK256_RATE_BYTES && o < len; i++, o++)
            out[o] = (uint8_t)(k->st[i / 8] >> (8 * (i % 8)));
        if (o == len) break;
        gt_keccak_f1600(k->st);
    }
    memset(k, 0, sizeof *k);
}

/* gt_keccak_xof's stream as n 64-bit words (word i = its bytes 8i..8i+7,
 * little-endian), read straight from the lanes: the bytes are the lanes'
 * little-endian encoding, so no byte is taken apart and put back. */
void gt_keccak_xof_words(gt_keccak *k, uint64_t *out, size_t n) {
    pad_absorb(k);
    size_t o = 0;
    for (;;) {
        for (size_t i = 0; i < GT_KECCAK256_RATE_BYTES / 8 && o < n; i++, o++) out[o] = k->st[i];
        if (o == n) break;
        gt_keccak_f1600(k->st);
    }
    memset(k, 0, sizeof *k);
}

/* One-shot Keccak-256 of data. */
void gt_keccak256(const void *data, size_t len, uint8_t out[32]) {
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, data, len);
    gt_keccak_final(&k, out);
}
