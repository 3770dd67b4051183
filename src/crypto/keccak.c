/* keccak.c: the Keccak-f[1600] permutation and the legacy Keccak-256 sponge.
 *
 * Written here rather than taken from a library because Debian has no legacy
 * Keccak and OpenSSL 3.0 only exposes FIPS SHA3 padding. The permutation is
 * the plain five-step round (theta, rho, pi, chi, iota) over 25 lanes, with
 * loops the compiler unrolls; lanes are little-endian 64-bit words. */
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

/* rho rotation amounts and pi destinations, walking the lane cycle that
 * starts at lane 1 (index x + 5y). */
static const unsigned rho_offsets[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                         27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned pi_lanes[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                      15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

static inline uint64_t rotl64(uint64_t x, unsigned n) {
    return (x << n) | (x >> ((64 - n) & 63));
}

/* Applies the 24-round Keccak-f[1600] permutation to st in place. */
void gt_keccak_f1600(uint64_t st[25]) {
    uint64_t bc[5];
    for (int round = 0; round < 24; round++) {
        /* theta: xor each column's parity into its neighbours */
        for (int x = 0; x < 5; x++) bc[x] = st[x] ^ st[x + 5] ^ st[x + 10] ^ st[x + 15] ^ st[x + 20];
        for (int x = 0; x < 5; x++) {
            uint64_t t = bc[(x + 4) % 5] ^ rotl64(bc[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5) st[y + x] ^= t;
        }
        /* rho and pi: rotate each lane and move it along the cycle */
        uint64_t carry = st[1];
        for (int i = 0; i < 24; i++) {
            unsigned j = pi_lanes[i];
            uint64_t next = st[j];
            st[j] = rotl64(carry, rho_offsets[i]);
            carry = next;
        }
        /* chi: the only non-linear step, row by row */
        for (int y = 0; y < 25; y += 5) {
            for (int x = 0; x < 5; x++) bc[x] = st[y + x];
            for (int x = 0; x < 5; x++) st[y + x] = bc[x] ^ (~bc[(x + 1) % 5] & bc[(x + 2) % 5]);
        }
        /* iota */
        st[0] ^= round_consts[round];
    }
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

/* One-shot Keccak-256 of data. */
void gt_keccak256(const void *data, size_t len, uint8_t out[32]) {
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, data, len);
    gt_keccak_final(&k, out);
}
