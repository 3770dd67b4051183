/* test_keccak.c: Keccak-256 against published vectors, every way of splitting
 * the input, and the permutation cross-checked through SHA3-256 (same
 * permutation, 0x06 padding) against OpenSSL. */
#include <openssl/evp.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/keccak.h"
#include "../test.h"

static void hex32(const uint8_t h[32], char out[65]) {
    gt_hex_encode(h, 32, out);
}

/* Hashes hex-encoded input and compares with the expected digest (any case). */
static void check_vector(const char *in_hex, const char *want) {
    uint8_t in[256], h[32];
    size_t n = 0;
    CHECK_EQ_INT(gt_hex_decode_var(in_hex, in, sizeof in, &n, "input", NULL), 0);
    gt_keccak256(in, n, h);
    char got[65], w[65];
    hex32(h, got);
    for (int i = 0; i < 64; i++) w[i] = (char)(want[i] >= 'A' && want[i] <= 'F' ? want[i] + 32 : want[i]);
    w[64] = 0;
    CHECK_STR(got, w);
}

static void test_published_vectors(void) {
    uint8_t h[32];
    char got[65];
    gt_keccak256("", 0, h);
    hex32(h, got);
    CHECK_STR(got, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    gt_keccak256("abc", 3, h);
    hex32(h, got);
    CHECK_STR(got, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    /* Keccak team KATs (ShortMsgKAT_256, as in Go's x/crypto/sha3 tests). */
    check_vector("CC", "EEAD6DBFC7340A56CAEDC044696A168870549A6A7F6F56961E84A54BD9970B8A");
    check_vector("84FB51B517DF6C5ACCB5D022F8F28DA09B10232D42320FFC32DBECC3835B29",
                 "D477FB02CAAA95B3280EC8EE882C29D9E8A654B21EF178E0F97571BF9D4D3C1C");
    check_vector("DE8F1B3FAA4B7040ED4563C3B8E598253178E87E4D0DF75E4FF2F2DEDD5A0BE046",
                 "E78C421E6213AFF8DE1F025759A4F2C943DB62BBDE359C8737E19B3776ED2DD2");
}

/* The truncated ExtremelyLongMsgKAT: a 64-byte string repeated 2^20 times
 * (64 MiB), hashed incrementally. */
static void test_long_message(void) {
    static const char piece[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno";
    gt_keccak k;
    gt_keccak_init(&k);
    for (int i = 0; i < 1024 * 1024; i++) gt_keccak_update(&k, piece, 64);
    uint8_t h[32];
    char got[65];
    gt_keccak_final(&k, h);
    hex32(h, got);
    CHECK_STR(got, "5015a4935f0b51e091c6550a94dcd262c08998232ccaa22e7f0756deac0dc0d0");
}

/* Every split point of a 3-block input, plus byte-at-a-time and an uneven
 * 137-byte stride, must give the one-shot digest. */
static void test_incremental_splits(void) {
    uint8_t msg[3 * GT_KECCAK256_RATE_BYTES + 17], want[32], got[32];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 3);
    gt_keccak256(msg, sizeof msg, want);
    int bad = 0;
    for (size_t cut = 0; cut <= sizeof msg; cut++) {
        gt_keccak k;
        gt_keccak_init(&k);
        gt_keccak_update(&k, msg, cut);
        gt_keccak_update(&k, msg + cut, sizeof msg - cut);
        gt_keccak_final(&k, got);
        bad += memcmp(got, want, 32) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    for (size_t a = 0; a <= sizeof msg; a += 5)
        for (size_t b = a; b <= sizeof msg; b += 11) {
            gt_keccak k;
            gt_keccak_init(&k);
            gt_keccak_update(&k, msg, a);
            gt_keccak_update(&k, msg + a, b - a);
            gt_keccak_update(&k, msg + b, sizeof msg - b);
            gt_keccak_final(&k, got);
            bad += memcmp(got, want, 32) != 0;
        }
    CHECK_EQ_INT(bad, 0);
    gt_keccak k;
    gt_keccak_init(&k);
    for (size_t i = 0; i < sizeof msg; i++) gt_keccak_update(&k, msg + i, 1);
    gt_keccak_final(&k, got);
    CHECK(memcmp(got, want, 32) == 0);
}

/* SHA3-256 built from our sponge state with FIPS 202 padding (0x06). */
static void sha3_with_our_permutation(const uint8_t *msg, size_t n, uint8_t out[32]) {
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, msg, n);
    memset(k.buf + k.pos, 0, GT_KECCAK256_RATE_BYTES - k.pos);
    k.buf[k.pos] ^= 0x06;
    k.buf[GT_KECCAK256_RATE_BYTES - 1] ^= 0x80;
    for (int i = 0; i < GT_KECCAK256_RATE_BYTES / 8; i++) {
        uint64_t lane = 0;
        for (int b = 0; b < 8; b++) lane |= (uint64_t)k.buf[8 * i + b] << (8 * b);
        k.st[i] ^= lane;
    }
    gt_keccak_f1600(k.st);
    for (int i = 0; i < 32; i++) out[i] = (uint8_t)(k.st[i / 8] >> (8 * (i % 8)));
}

/* The permutation the CPU's build runs (BMI on x86-64 when present) and the
 * portable build give the same lanes, bit for bit, on states of every kind:
 * the all-zero state against the Keccak reference's first lane, then
 * pseudo-random ones. */
static void test_permutation_builds_agree(void) {
    uint64_t a[25] = {0}, b[25] = {0};
    gt_keccak_f1600(a);
    CHECK(a[0] == 0xf1258f7940e1dde7ull); /* Keccak-f[1600] of zero, lane 0 (the team's KeccakF-1600 vectors) */
    gt_keccak_f1600_portable(b);
    CHECK(!memcmp(a, b, sizeof a));
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int bad = 0;
    for (int t = 0; t < 2000; t++) {
        for (int i = 0; i < 25; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            a[i] = b[i] = t % 3 ? x : (t % 2 ? ~0ull : 0) ^ (uint64_t)i;
        }
        gt_keccak_f1600(a);
        gt_keccak_f1600_portable(b);
        bad += memcmp(a, b, sizeof a) != 0;
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_permutation_vs_openssl_sha3(void) {
    uint8_t msg[700], ours[32], theirs[32];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 131 + 17);
    int bad = 0;
    for (size_t n = 0; n <= sizeof msg; n++) {
        unsigned len = 0;
        sha3_with_our_permutation(msg, n, ours);
        EVP_Digest(msg, n, theirs, &len, EVP_sha3_256(), NULL);
        bad += len != 32 || memcmp(ours, theirs, 32) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    /* FIPS 202 example: SHA3-256 of 200 bytes of 0xa3 (1600 bits). */
    uint8_t a3[200];
    memset(a3, 0xa3, sizeof a3);
    sha3_with_our_permutation(a3, sizeof a3, ours);
    char got[65];
    hex32(ours, got);
    CHECK_STR(got, "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787");
}

/* The wide output as words is the byte stream's little-endian words: over
 * three permutations' worth (the state digest squeezes 256 bytes), and its
 * first 32 bytes are the Keccak-256 digest. */
static void test_xof_words(void) {
    uint8_t msg[300], bytes[400], digest[32];
    uint64_t words[50];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 1);
    for (size_t len = 0; len <= sizeof msg; len += 61) {
        gt_keccak a, b;
        gt_keccak_init(&a);
        gt_keccak_update(&a, msg, len);
        b = a;
        gt_keccak_xof(&a, bytes, sizeof bytes);
        gt_keccak_xof_words(&b, words, 50);
        for (int w = 0; w < 50; w++) {
            uint64_t x = 0;
            for (int j = 0; j < 8; j++) x |= (uint64_t)bytes[8 * w + j] << (8 * j);
            CHECK(x == words[w]);
        }
        gt_keccak256(msg, len, digest);
        CHECK(memcmp(digest, bytes, 32) == 0);
    }
}

/* Each build of the four-abreast permutation this CPU can run (the plain
 * vector one, AVX2, AVX-512VL) gives every state the portable permutation's
 * lanes; a build the CPU lacks is said, loudly, not passed over. */
static void test_four_abreast_each_isa(void) {
    static const char *names[] = {"base", "avx2", "avx512vl"};
    for (int isa = GT_KECCAK_ISA_BASE; isa <= GT_KECCAK_ISA_AVX512; isa++) {
        uint64_t st[4][25], one[4][25];
        uint64_t x = 0x9e3779b97f4a7c15ull + (uint64_t)isa;
        int bad = 0, ran = 1;
        for (int t = 0; t < 200 && ran; t++) {
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < 25; i++) {
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
                    st[k][i] = one[k][i] = t % 7 ? x : ~(uint64_t)0 * (uint64_t)(i & 1);
                }
            ran = gt_keccak_f1600_x4_isa(st, (gt_keccak_isa)isa) == 0;
            for (int k = 0; k < 4 && ran; k++) gt_keccak_f1600_portable(one[k]);
            bad += ran && memcmp(st, one, sizeof st) != 0;
        }
        if (!ran) fprintf(stderr, "SKIPPED: keccak x4 %s build: this CPU or compiler has none\n", names[isa]);
        CHECK_EQ_INT(bad, 0);
    }
}

/* Four permutations at once give each state what gt_keccak_f1600 gives it
 * alone; the four-abreast sponges give gt_keccak_xof_words' and
 * gt_keccak256's output for every length up to three blocks, and may write
 * over their input. */
static void test_four_abreast(void) {
    uint64_t st[4][25], one[4][25];
    uint64_t x = 0x0123456789abcdefull;
    int bad = 0;
    for (int t = 0; t < 500; t++) {
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < 25; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
                st[k][i] = one[k][i] = t % 5 ? x : (uint64_t)(k * 25 + i);
            }
        gt_keccak_f1600_x4(st);
        for (int k = 0; k < 4; k++) gt_keccak_f1600_portable(one[k]);
        bad += memcmp(st, one, sizeof st) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    test_four_abreast_each_isa();
    uint8_t msg[4][3 * GT_KECCAK256_RATE_BYTES], digest[4][32], want[32];
    uint64_t words[4][40], want_w[40];
    const uint8_t *mp[4] = {msg[0], msg[1], msg[2], msg[3]};
    uint8_t *dp[4] = {digest[0], digest[1], digest[2], digest[3]};
    uint64_t *wp[4] = {words[0], words[1], words[2], words[3]};
    for (size_t i = 0; i < sizeof msg; i++) msg[i / sizeof msg[0]][i % sizeof msg[0]] = (uint8_t)(i * 29 + 3);
    for (size_t len = 0; len <= sizeof msg[0]; len++) { /* one, two, three blocks and their edges */
        gt_keccak256_x4(mp, len, dp);
        gt_keccak_xof_words_x4(mp, len, wp, 40); /* three permutations' worth of output */
        for (int k = 0; k < 4; k++) {
            gt_keccak256(msg[k], len, want);
            bad += memcmp(digest[k], want, 32) != 0;
            gt_keccak kk;
            gt_keccak_init(&kk);
            gt_keccak_update(&kk, msg[k], len);
            gt_keccak_xof_words(&kk, want_w, 40);
            bad += memcmp(words[k], want_w, sizeof want_w) != 0;
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* Lanes of different lengths (1..4 of them): each ends, and is set aside, at its own block. */
    for (size_t len0 = 0; len0 <= sizeof msg[0]; len0 += 7)
        for (int m = 1; m <= 4; m++) {
            size_t lens[4];
            for (int k = 0; k < 4; k++) lens[k] = (len0 + (size_t)k * 61) % (sizeof msg[0] + 1);
            gt_keccak_xof_words_x4n(mp, lens, m, wp, 40);
            for (int k = 0; k < m; k++) {
                gt_keccak kk;
                gt_keccak_init(&kk);
                gt_keccak_update(&kk, msg[k], lens[k]);
                gt_keccak_xof_words(&kk, want_w, 40);
                bad += memcmp(words[k], want_w, sizeof want_w) != 0;
            }
        }
    CHECK_EQ_INT(bad, 0);
    uint8_t inplace[4][64];
    uint8_t *ip[4] = {inplace[0], inplace[1], inplace[2], inplace[3]};
    memcpy(inplace, msg, sizeof inplace); /* msg[0..1] as four 64-byte messages */
    gt_keccak256_x4((const uint8_t *const *)ip, 64, ip);
    for (int k = 0; k < 4; k++) {
        gt_keccak256((const uint8_t *)msg + 64 * k, 64, want);
        CHECK(memcmp(inplace[k], want, 32) == 0);
    }
}

int main(void) {
    RUN(test_published_vectors);
    RUN(test_incremental_splits);
    RUN(test_permutation_vs_openssl_sha3);
    RUN(test_permutation_builds_agree);
    RUN(test_long_message);
    RUN(test_xof_words);
    RUN(test_four_abreast);
    return gt_test_finish();
}
