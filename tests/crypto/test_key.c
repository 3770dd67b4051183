/* test_key.c: secp256k1 keys, signing and ecrecover: known Ethereum vectors,
 * random round trips, every rejection rule, and concurrent recovery. */
#include <pthread.h>

#include "../test.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/key.h"

static void from_hex32(const char *h, uint8_t out[32]) {
    CHECK_EQ_INT(gt_hex_decode(h, out, 32, "test", NULL), 0);
}

static const char *addr_of(const gt_key *k) {
    static char s[43];
    gt_addr a;
    CHECK_EQ_INT(gt_key_address(k, &a), 0);
    gt_addr_to_str(&a, s);
    return s;
}

static void test_known_addresses(void) {
    uint8_t p[32] = {0};
    gt_key k;
    p[31] = 1;
    CHECK_EQ_INT(gt_key_from_bytes(&k, p, NULL), 0);
    CHECK_STR(addr_of(&k), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    /* The Web3 Secret Storage test vector's secret and address. */
    from_hex32("7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d", p);
    CHECK_EQ_INT(gt_key_from_bytes(&k, p, NULL), 0);
    CHECK_STR(addr_of(&k), "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b");
    /* EIP-712's example signer: keccak256("cow"). */
    gt_keccak256("cow", 3, p);
    CHECK_EQ_INT(gt_key_from_bytes(&k, p, NULL), 0);
    CHECK_STR(addr_of(&k), "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826");
}

/* The EIP-712 Mail digest signed by keccak("cow"), as published in the EIP's
 * reference tests (v=28, r and s below). RFC 6979 makes it deterministic. */
static void test_known_signature_eip712(void) {
    uint8_t p[32], d[32], r[32], s[32];
    gt_keccak256("cow", 3, p);
    gt_key k;
    CHECK_EQ_INT(gt_key_from_bytes(&k, p, NULL), 0);
    from_hex32("be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2", d);
    from_hex32("4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d", r);
    from_hex32("07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562", s);
    gt_sig sig;
    CHECK_EQ_INT(gt_sign_digest(&k, d, &sig, NULL), 0);
    CHECK_EQ_INT(sig.v, 28);
    CHECK(memcmp(sig.r, r, 32) == 0);
    CHECK(memcmp(sig.s, s, 32) == 0);
    gt_addr a;
    char as[43];
    CHECK_EQ_INT(gt_recover_digest(d, &sig, &a, NULL), 0);
    gt_addr_to_str(&a, as);
    CHECK_STR(as, "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826");
}

/* ethers' signMessage test vector (EIP-191 personal_sign of "hello world"). */
static void test_known_signature_personal(void) {
    uint8_t p[32], d[32];
    from_hex32("0123456789012345678901234567890123456789012345678901234567890123", p);
    gt_key k;
    CHECK_EQ_INT(gt_key_from_bytes(&k, p, NULL), 0);
    CHECK_STR(addr_of(&k), "0x14791697260E4c9A71f18484C9f997B308e59325");
    gt_personal_digest("hello world", 11, d);
    char dh[65];
    gt_hex_encode(d, 32, dh);
    CHECK_STR(dh, "d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68");
    gt_sig sig;
    char sh[133];
    CHECK_EQ_INT(gt_sign_digest(&k, d, &sig, NULL), 0);
    gt_sig_to_hex(&sig, sh);
    CHECK_STR(sh, "0xddd0a7290af9526056b4e35a077b9a11b513aa0028ec6c9880948544508f3c63265e99e47ad31bb"
                  "2cab9646c504576b3abc6939a1710afc08cbf3034d73214b81c");
    /* and back: parse the published hex, recover the published address */
    gt_sig back;
    gt_addr a;
    char as[43];
    CHECK_EQ_INT(gt_sig_from_hex(&back, sh, NULL), 0);
    CHECK_EQ_INT(gt_recover_digest(d, &back, &a, NULL), 0);
    gt_addr_to_str(&a, as);
    CHECK_STR(as, "0x14791697260E4c9A71f18484C9f997B308e59325");
}

static const uint8_t half_n[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};
static const char *n_hex = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

static void test_round_trips(void) {
    int bad = 0;
    for (int i = 0; i < 64; i++) {
        gt_key k;
        gt_addr a, b;
        gt_sig s;
        uint8_t d[32];
        CHECK_EQ_INT(gt_key_generate(&k, NULL), 0);
        CHECK_EQ_INT(gt_key_address(&k, &a), 0);
        gt_keccak256(&i, sizeof i, d);
        CHECK_EQ_INT(gt_sign_digest(&k, d, &s, NULL), 0);
        bad += memcmp(s.s, half_n, 32) > 0;           /* always low-s */
        bad += s.v != 27 && s.v != 28;
        bad += gt_recover_digest(d, &s, &b, NULL) != 0 || !gt_addr_eq(&a, &b);
        uint8_t raw[65];
        gt_sig t;
        gt_sig_to_bytes(&s, raw);
        bad += gt_sig_from_bytes(&t, raw, NULL) != 0 || memcmp(&t, &s, sizeof s) != 0;
        d[0] ^= 1; /* another digest recovers someone else */
        bad += gt_recover_digest(d, &s, &b, NULL) == 0 && gt_addr_eq(&a, &b);
        gt_key_wipe(&k);
        uint8_t zero[32] = {0};
        bad += memcmp(k.priv, zero, 32) != 0;
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_key_range(void) {
    uint8_t p[32] = {0};
    gt_key k;
    gt_err err;
    CHECK_EQ_INT(gt_key_from_bytes(&k, p, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "zero");
    from_hex32(n_hex, p);
    CHECK_EQ_INT(gt_key_from_bytes(&k, p, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "group order");
    memset(p, 0xff, 32);
    CHECK_EQ_INT(gt_key_from_bytes(&k, p, &err), GT_EINVAL);
    from_hex32(n_hex, p);
    p[31]--; /* n - 1 is the largest valid key */
    CHECK_EQ_INT(gt_key_from_bytes(&k, p, &err), 0);
    gt_addr a;
    CHECK_EQ_INT(gt_key_address(&k, &a), 0);
}

/* Subtracts s from n (both big-endian): the high-s twin of a signature. */
static void n_minus(const uint8_t s[32], uint8_t out[32]) {
    uint8_t n[32];
    from_hex32(n_hex, n);
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int v = n[i] - s[i] - borrow;
        borrow = v < 0;
        out[i] = (uint8_t)(v + (borrow ? 256 : 0));
    }
}

static void test_rejections(void) {
    gt_key k;
    uint8_t d[32];
    gt_sig s, t;
    gt_addr a, b;
    gt_err err;
    CHECK_EQ_INT(gt_key_generate(&k, NULL), 0);
    gt_key_address(&k, &a);
    gt_keccak256("msg", 3, d);
    CHECK_EQ_INT(gt_sign_digest(&k, d, &s, NULL), 0);

    t = s; /* high-s: mathematically valid, refused per EIP-2 */
    n_minus(s.s, t.s);
    t.v = (uint8_t)(s.v == 27 ? 28 : 27);
    CHECK_EQ_INT(gt_recover_digest(d, &t, &b, &err), GT_ESIG);
    CHECK_CONTAINS(err.msg, "high-s");

    for (int v = 0; v < 256; v++) {
        t = s;
        t.v = (uint8_t)v;
        int rc = gt_recover_digest(d, &t, &b, &err);
        if (v == 27 || v == 28 || v == 0 || v == 1) {
            CHECK_EQ_INT(rc, 0);
            int recid = v >= 27 ? v - 27 : v; /* 0 is 27, 1 is 28 */
            if (recid == s.v - 27) CHECK(gt_addr_eq(&a, &b));
            else CHECK(!gt_addr_eq(&a, &b));
        } else if (rc != GT_ESIG) {
            CHECK_MSG(0, "v=%d accepted", v);
        }
    }
    t = s;
    t.v = 29;
    CHECK_EQ_INT(gt_recover_digest(d, &t, &b, &err), GT_ESIG);
    CHECK_CONTAINS(err.msg, "expected 27 or 28");

    t = s;
    memset(t.r, 0, 32);
    CHECK_EQ_INT(gt_recover_digest(d, &t, &b, &err), GT_ESIG);
    CHECK_CONTAINS(err.msg, "r is zero");
    t = s;
    memset(t.s, 0, 32);
    CHECK_EQ_INT(gt_recover_digest(d, &t, &b, &err), GT_ESIG);
    CHECK_CONTAINS(err.msg, "s is zero");
    t = s;
    from_hex32(n_hex, t.r);
    CHECK_EQ_INT(gt_recover_digest(d, &t, &b, &err), GT_ESIG);
    CHECK_CONTAINS(err.msg, "r is not below");
    t = s;
    memset(t.r, 0xff, 32);
    CHECK_EQ_INT(gt_recover_digest(d, &t, &b, &err), GT_ESIG);

    /* byte and hex forms */
    uint8_t raw[65];
    gt_sig_to_bytes(&s, raw);
    raw[64] = 1;
    CHECK_EQ_INT(gt_sig_from_bytes(&t, raw, NULL), 0);
    CHECK_EQ_INT(t.v, 28);
    raw[64] = 35;
    CHECK_EQ_INT(gt_sig_from_bytes(&t, raw, &err), GT_ESIG);
    CHECK_CONTAINS(err.msg, "v is 35");
    CHECK_EQ_INT(gt_sig_from_hex(&t, "0x1234", &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "signature");
    char h[133];
    gt_sig_to_hex(&s, h);
    CHECK_EQ_INT((int)strlen(h), 132);
    h[10] = 'g';
    CHECK_EQ_INT(gt_sig_from_hex(&t, h, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "invalid hex digit");
}

/* Two threads recovering at once on the shared context (the ledger does). */
typedef struct job {
    uint8_t d[32];
    gt_sig s[200];
    gt_addr want;
    int bad;
} job;

static void *recover_all(void *arg) {
    job *j = arg;
    for (int i = 0; i < 200; i++) {
        gt_addr a;
        uint8_t d[32];
        memcpy(d, j->d, 32);
        d[0] = (uint8_t)i;
        if (gt_recover_digest(d, &j->s[i], &a, NULL) || !gt_addr_eq(&a, &j->want)) j->bad++;
    }
    return NULL;
}

static void test_concurrent_recover(void) {
    static job jobs[2];
    for (int t = 0; t < 2; t++) {
        gt_key k;
        CHECK_EQ_INT(gt_key_generate(&k, NULL), 0);
        gt_key_address(&k, &jobs[t].want);
        gt_keccak256(&t, sizeof t, jobs[t].d);
        for (int i = 0; i < 200; i++) {
            uint8_t d[32];
            memcpy(d, jobs[t].d, 32);
            d[0] = (uint8_t)i;
            CHECK_EQ_INT(gt_sign_digest(&k, d, &jobs[t].s[i], NULL), 0);
        }
    }
    pthread_t th[2];
    for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, recover_all, &jobs[t]);
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    CHECK_EQ_INT(jobs[0].bad + jobs[1].bad, 0);
}

int main(void) {
    RUN(test_known_addresses);
    RUN(test_known_signature_eip712);
    RUN(test_known_signature_personal);
    RUN(test_round_trips);
    RUN(test_key_range);
    RUN(test_rejections);
    RUN(test_concurrent_recover);
    return gt_test_finish();
}
