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

/* The Keccak-f[1600] permutation, 24 rounds, on the 25 lanes of st in place.
 *
 * One round, lane (x, y) being a[x + 5y]:
 *   theta: c[x] = xor of column x;  d[x] = c[x-1] ^ rotl(c[x+1], 1)
 *   rho+pi: b[y + 5((2x + 3y) mod 5)] = rotl(a[x + 5y] ^ d[x], r[x][y])
 *   chi:   a[x + 5y] = b[x + 5y] ^ (~b[x+1 + 5y] & b[x+2 + 5y])
 *   iota:  a[0] ^= RC[round]
 * (r[x][y]: the Keccak reference rotation offsets.) KECCAK_ROUND computes
 * the round of lanes A0..A24 into lanes E0..E24 one output row at a time
 * (five b lanes, then their chi), so only five b lanes are live at once.
 * The state lives in 50 named locals and two rounds run per loop step, a
 * into e and e back into a: no lane is copied between rounds and the
 * compiler keeps what it can in registers. (The former version, one round
 * per step over an array written back each round, took 7.4 K instructions
 * per permutation; this one 6.1 K, 5.0 K with BMI: see gt_keccak_f1600.) */
#define KECCAK_CHI(E0, E1, E2, E3, E4)                                                                  \
    E0 = b0 ^ (~b1 & b2), E1 = b1 ^ (~b2 & b3), E2 = b2 ^ (~b3 & b4), E3 = b3 ^ (~b4 & b0), \
    E4 = b4 ^ (~b0 & b1)
#define KECCAK_ROUND(T, A, E, rc)                                                                     \
    do {                                                                                              \
        T c0 = A##0 ^ A##5 ^ A##10 ^ A##15 ^ A##20, c1 = A##1 ^ A##6 ^ A##11 ^ A##16 ^ A##21;  \
        T c2 = A##2 ^ A##7 ^ A##12 ^ A##17 ^ A##22, c3 = A##3 ^ A##8 ^ A##13 ^ A##18 ^ A##23;  \
        T c4 = A##4 ^ A##9 ^ A##14 ^ A##19 ^ A##24;                                            \
        T d0 = c4 ^ ROTL64(c1, 1), d1 = c0 ^ ROTL64(c2, 1), d2 = c1 ^ ROTL64(c3, 1);         \
        T d3 = c2 ^ ROTL64(c4, 1), d4 = c3 ^ ROTL64(c0, 1);                                   \
        T b0 = A##0 ^ d0, b1 = ROTL64(A##6 ^ d1, 44), b2 = ROTL64(A##12 ^ d2, 43);            \
        T b3 = ROTL64(A##18 ^ d3, 21), b4 = ROTL64(A##24 ^ d4, 14);                           \
        KECCAK_CHI(E##0, E##1, E##2, E##3, E##4);                                                     \
        E##0 ^= (rc);                                                                                 \
        b0 = ROTL64(A##3 ^ d3, 28), b1 = ROTL64(A##9 ^ d4, 20), b2 = ROTL64(A##10 ^ d0, 3);          \
        b3 = ROTL64(A##16 ^ d1, 45), b4 = ROTL64(A##22 ^ d2, 61);                                    \
        KECCAK_CHI(E##5, E##6, E##7, E##8, E##9);                                                     \
        b0 = ROTL64(A##1 ^ d1, 1), b1 = ROTL64(A##7 ^ d2, 6), b2 = ROTL64(A##13 ^ d3, 25);           \
        b3 = ROTL64(A##19 ^ d4, 8), b4 = ROTL64(A##20 ^ d0, 18);                                     \
        KECCAK_CHI(E##10, E##11, E##12, E##13, E##14);                                                \
        b0 = ROTL64(A##4 ^ d4, 27), b1 = ROTL64(A##5 ^ d0, 36), b2 = ROTL64(A##11 ^ d1, 10);         \
        b3 = ROTL64(A##17 ^ d2, 15), b4 = ROTL64(A##23 ^ d3, 56);                                    \
        KECCAK_CHI(E##15, E##16, E##17, E##18, E##19);                                               \
        b0 = ROTL64(A##2 ^ d2, 62), b1 = ROTL64(A##8 ^ d3, 55), b2 = ROTL64(A##14 ^ d4, 39);         \
        b3 = ROTL64(A##15 ^ d0, 41), b4 = ROTL64(A##21 ^ d1, 2);                                     \
        KECCAK_CHI(E##20, E##21, E##22, E##23, E##24);                                                \
    } while (0)

/* The body of a permutation function named NAME (the same C compiled for
 * two instruction sets, below). */
#define KECCAK_F1600_DEFINE(ATTR, NAME)                                                                \
    ATTR void NAME(uint64_t st[25]) {                                                                 \
        uint64_t a0 = st[0], a1 = st[1], a2 = st[2], a3 = st[3], a4 = st[4], a5 = st[5], a6 = st[6];  \
        uint64_t a7 = st[7], a8 = st[8], a9 = st[9], a10 = st[10], a11 = st[11], a12 = st[12];        \
        uint64_t a13 = st[13], a14 = st[14], a15 = st[15], a16 = st[16], a17 = st[17], a18 = st[18];  \
        uint64_t a19 = st[19], a20 = st[20], a21 = st[21], a22 = st[22], a23 = st[23], a24 = st[24];  \
        uint64_t e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15, e16, e17;      \
        uint64_t e18, e19, e20, e21, e22, e23, e24;                                                   \
        for (int round = 0; round < 24; round += 2) {                                                 \
            KECCAK_ROUND(uint64_t, a, e, round_consts[round]);                                        \
            KECCAK_ROUND(uint64_t, e, a, round_consts[round + 1]);                                    \
        }                                                                                             \
        st[0] = a0, st[1] = a1, st[2] = a2, st[3] = a3, st[4] = a4, st[5] = a5, st[6] = a6;           \
        st[7] = a7, st[8] = a8, st[9] = a9, st[10] = a10, st[11] = a11, st[12] = a12, st[13] = a13;   \
        st[14] = a14, st[15] = a15, st[16] = a16, st[17] = a17, st[18] = a18, st[19] = a19;           \
        st[20] = a20, st[21] = a21, st[22] = a22, st[23] = a23, st[24] = a24;                         \
    }

KECCAK_F1600_DEFINE(, gt_keccak_f1600_portable)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same permutation built for CPUs with BMI1/BMI2 (x86-64 since 2013):
 * chi's ~x & y is one instruction (andn) there and rotations need no copy
 * (rorx), about 17 % fewer instructions than the portable build. Integer
 * operations only: both give the same lanes, bit for bit (tested). */
KECCAK_F1600_DEFINE(__attribute__((target("bmi,bmi2"))) static, f1600_bmi)

/* 1 when this CPU has BMI1 and BMI2. Asked once; the answer is the same
 * from every thread, so racing first calls store the same value. */
static int have_bmi(void) {
    static int known = -1; /* -1: not asked yet */
    int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
        __atomic_store_n(&known, v, __ATOMIC_RELAXED);
    }
    return v;
}

void gt_keccak_f1600(uint64_t st[25]) {
    if (have_bmi()) f1600_bmi(st);
    else gt_keccak_f1600_portable(st);
}
#else
void gt_keccak_f1600(uint64_t st[25]) { gt_keccak_f1600_portable(st); }
#endif

/* ---- Four permutations at once ----
 * Independent hashes (a block's account H's, the actions root's leaves and
 * Merkle nodes) run four abreast: the same round over lanes that are vectors
 * of four 64-bit words (GCC/clang vector extensions), state k in element k.
 * Integer operations only, so each element ends with exactly the lanes
 * gt_keccak_f1600 gives that state alone (tested). Built for the baseline
 * instruction set and for AVX2 (a lane per 256-bit register), picked at run
 * time as the BMI build is; and for AVX-512VL where the CPU has it. */
#if defined(__GNUC__) || defined(__clang__)
typedef uint64_t keccak_v4 __attribute__((vector_size(32)));
#define KECCAK_LOAD4(i) keccak_v4 a##i = {st[0][i], st[1][i], st[2][i], st[3][i]}, e##i
#define KECCAK_STORE4(i) st[0][i] = a##i[0], st[1][i] = a##i[1], st[2][i] = a##i[2], st[3][i] = a##i[3]
#define KECCAK_F1600_X4_DEFINE(ATTR, NAME)                                                             \
    ATTR void NAME(uint64_t st[4][25]) {                                                              \
        KECCAK_LOAD4(0); KECCAK_LOAD4(1); KECCAK_LOAD4(2); KECCAK_LOAD4(3); KECCAK_LOAD4(4);          \
        KECCAK_LOAD4(5); KECCAK_LOAD4(6); KECCAK_LOAD4(7); KECCAK_LOAD4(8); KECCAK_LOAD4(9);          \
        KECCAK_LOAD4(10); KECCAK_LOAD4(11); KECCAK_LOAD4(12); KECCAK_LOAD4(13); KECCAK_LOAD4(14);     \
        KECCAK_LOAD4(15); KECCAK_LOAD4(16); KECCAK_LOAD4(17); KECCAK_LOAD4(18); KECCAK_LOAD4(19);     \
        KECCAK_LOAD4(20); KECCAK_LOAD4(21); KECCAK_LOAD4(22); KECCAK_LOAD4(23); KECCAK_LOAD4(24);     \
        for (int round = 0; round < 24; round += 2) {                                                 \
            KECCAK_ROUND(keccak_v4, a, e, round_consts[round]);                                       \
            KECCAK_ROUND(keccak_v4, e, a, round_consts[round + 1]);                                   \
        }                                                                                             \
        KECCAK_STORE4(0), KECCAK_STORE4(1), KECCAK_STORE4(2), KECCAK_STORE4(3), KECCAK_STORE4(4);     \
        KECCAK_STORE4(5), KECCAK_STORE4(6), KECCAK_STORE4(7), KECCAK_STORE4(8), KECCAK_STORE4(9);     \
        KECCAK_STORE4(10), KECCAK_STORE4(11), KECCAK_STORE4(12), KECCAK_STORE4(13);                   \
        KECCAK_STORE4(14), KECCAK_STORE4(15), KECCAK_STORE4(16), KECCAK_STORE4(17);                   \
        KECCAK_STORE4(18), KECCAK_STORE4(19), KECCAK_STORE4(20), KECCAK_STORE4(21);                   \
        KECCAK_STORE4(22), KECCAK_STORE4(23), KECCAK_STORE4(24);                                      \
    }

KECCAK_F1600_X4_DEFINE(static, f1600_x4_vec)
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
KECCAK_F1600_X4_DEFINE(__attribute__((target("avx2"))) static, f1600_x4_avx2)
/* AVX-512VL on the same 256-bit lanes: a native 64-bit rotate (vprolq) for
 * AVX2's shift-shift-or, and three-input logic (vpternlogq) for chi and the
 * column parities. */
KECCAK_F1600_X4_DEFINE(__attribute__((target("avx2,avx512f,avx512vl"))) static, f1600_x4_avx512)

/* 1 when this CPU has AVX-512F and VL (asked once, as have_bmi). */
static int have_avx512vl(void) {
    static int known = -1; /* -1: not asked yet */
    int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
        __atomic_store_n(&known, v, __ATOMIC_RELAXED);
    }
    return v;
}

/* 1 when this CPU has AVX2 (asked once, as have_bmi). */
static int have_avx2(void) {
    static int known = -1; /* -1: not asked yet */
    int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2");
        __atomic_store_n(&known, v, __ATOMIC_RELAXED);
    }
    return v;
}

void gt_keccak_f1600_x4(uint64_t st[4][25]) {
    if (have_avx512vl()) f1600_x4_avx512(st);
    else if (have_avx2()) f1600_x4_avx2(st);
    else f1600_x4_vec(st);
}

int gt_keccak_f1600_x4_isa(uint64_t st[4][25], gt_keccak_isa isa) {
    switch (isa) {
    case GT_KECCAK_ISA_BASE: f1600_x4_vec(st); return 0;
    case GT_KECCAK_ISA_AVX2: if (!have_avx2()) return -1; f1600_x4_avx2(st); return 0;
    case GT_KECCAK_ISA_AVX512: if (!have_avx512vl()) return -1; f1600_x4_avx512(st); return 0;
    }
    return -1;
}
#elif defined(__GNUC__) || defined(__clang__)
void gt_keccak_f1600_x4(uint64_t st[4][25]) { f1600_x4_vec(st); }

int gt_keccak_f1600_x4_isa(uint64_t st[4][25], gt_keccak_isa isa) {
    if (isa != GT_KECCAK_ISA_BASE) return -1;
    f1600_x4_vec(st);
    return 0;
}
#else
void gt_keccak_f1600_x4(uint64_t st[4][25]) {
    for (int k = 0; k < 4; k++) gt_keccak_f1600(st[k]);
}

int gt_keccak_f1600_x4_isa(uint64_t st[4][25], gt_keccak_isa isa) {
    if (isa != GT_KECCAK_ISA_BASE) return -1;
    gt_keccak_f1600_x4(st);
    return 0;
}
#endif

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

void gt_keccak_xof_words_x4n(const uint8_t *const msg[], const size_t len[], int m, uint64_t *const out[],
                             size_t n) {
    enum { RATE = GT_KECCAK256_RATE_BYTES, LANES = RATE / 8 };
    assert(m >= 1 && m <= 4 && n > 0);
    uint64_t st[4][25], done[4][25];
    uint8_t last[4][RATE]; /* each message's last, padded block, as pad_absorb pads it */
    size_t blocks[4] = {0}, most = 0;
    memset(st, 0, sizeof st);
    memset(done, 0, sizeof done);
    for (int k = 0; k < m; k++) {
        size_t full = len[k] / RATE, tail = len[k] % RATE;
        blocks[k] = full + 1;
        memset(last[k], 0, RATE);
        memcpy(last[k], msg[k] + full * RATE, tail);
        last[k][tail] |= 0x01;
        last[k][RATE - 1] |= 0x80;
        if (blocks[k] > most) most = blocks[k];
    }
    for (size_t b = 0; b < most; b++) { /* a lane whose message has ended is set aside in done */
        for (int k = 0; k < m; k++) {
            if (b >= blocks[k]) continue;
            const uint8_t *in = b + 1 == blocks[k] ? last[k] : msg[k] + b * RATE;
            for (int i = 0; i < LANES; i++) st[k][i] ^= load64_le(in + 8 * i);
        }
        gt_keccak_f1600_x4(st);
        for (int k = 0; k < m; k++)
            if (b + 1 == blocks[k]) memcpy(done[k], st[k], sizeof done[k]);
    }
    for (size_t o = 0;;) {
        size_t take = n - o < LANES ? n - o : LANES;
        for (int k = 0; k < m; k++) memcpy(out[k] + o, done[k], take * 8);
        o += take;
        if (o == n) break;
        gt_keccak_f1600_x4(done);
    }
}

void gt_keccak_xof_words_x4(const uint8_t *const msg[4], size_t len, uint64_t *const out[4], size_t n) {
    const size_t lens[4] = {len, len, len, len};
    gt_keccak_xof_words_x4n(msg, lens, 4, out, n);
}

void gt_keccak256_x4(const uint8_t *const msg[4], size_t len, uint8_t *const out[4]) {
    uint64_t w[4][4];
    uint64_t *const wp[4] = {w[0], w[1], w[2], w[3]};
    gt_keccak_xof_words_x4(msg, len, wp, 4);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 4; i++)
            for (int b = 0; b < 8; b++) out[k][8 * i + b] = (uint8_t)(w[k][i] >> (8 * b));
}
