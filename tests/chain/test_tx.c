/* test_tx.c: transactions against EIP-155's own worked example, round trips
 * of both types (with an access list and a contract creation), and the
 * inputs decoding must refuse: unprotected legacy, unknown types, high-s,
 * wrong field counts, trailing bytes, oversize data, tampering. */
#include "../test.h"
#include "base/hex.h"
#include "chain/rlp.h"
#include "chain/tx.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"

static const char *hex_of(const uint8_t *p, size_t n) {
    static char out[8192];
    gt_hex_encode(p, n, out);
    return out;
}

static void key46(gt_key *k) {
    uint8_t priv[32];
    memset(priv, 0x46, 32);
    CHECK_EQ_INT(gt_key_from_bytes(k, priv, NULL), 0);
}

/* EIP-155's example: nonce 9, 20 gwei, 21000 gas, to 0x3535.., 1 ether, chain 1. */
static void eip155_example(gt_tx *tx) {
    memset(tx, 0, sizeof *tx);
    tx->type = GT_TX_LEGACY, tx->chain_id = 1, tx->nonce = 9, tx->gas_limit = 21000;
    gt_u256_from_u64(20000000000ull, tx->gas_price);
    tx->has_to = 1;
    memset(tx->to.b, 0x35, 20);
    gt_u256_from_u64(1000000000000000000ull, tx->value);
}

static void test_eip155_example(void) {
    gt_key k;
    key46(&k);
    gt_tx tx;
    eip155_example(&tx);
    uint8_t d[32];
    CHECK_EQ_INT(gt_tx_signing_hash(&tx, d, NULL), 0);
    CHECK_STR(hex_of(d, 32), "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
    gt_buf b = GT_BUF_INIT;
    gt_err err = {0};
    CHECK_EQ_INT(gt_tx_encode(&tx, &b, &err), GT_ESTATE); /* unsigned */
    CHECK_EQ_INT(gt_tx_sign(&tx, &k, NULL), 0);
    CHECK_EQ_INT(gt_tx_encode(&tx, &b, NULL), 0);
    CHECK_STR(hex_of(b.data, b.len),
              "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a7640000"
              "8025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb7"
              "03304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
    gt_tx back;
    gt_addr from;
    char fs[43];
    CHECK_EQ_INT(gt_tx_decode(b.data, b.len, &back, &from, &err), 0);
    gt_addr_to_str(&from, fs);
    CHECK_STR(fs, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
    CHECK_EQ_U64(back.chain_id, 1);
    CHECK_EQ_U64(back.nonce, 9);
    CHECK(memcmp(back.value, tx.value, 32) == 0 && memcmp(back.gas_price, tx.gas_price, 32) == 0);
    gt_tx_free(&back);
    gt_buf_free(&b);
}

/* Encodes, decodes, and checks that every field and the sender survive. */
static void round_trip(gt_tx *tx, const gt_key *k) {
    gt_buf b = GT_BUF_INIT;
    gt_err err = {0};
    gt_addr want, from;
    gt_key_address(k, &want);
    CHECK_EQ_INT(gt_tx_sign(tx, k, &err), 0);
    CHECK_EQ_INT(gt_tx_encode(tx, &b, &err), 0);
    gt_tx back;
    int rc = gt_tx_decode(b.data, b.len, &back, &from, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc != 0) return;
    CHECK(gt_addr_eq(&from, &want));
    CHECK(back.type == tx->type && back.chain_id == tx->chain_id && back.nonce == tx->nonce);
    CHECK(back.gas_limit == tx->gas_limit && back.has_to == tx->has_to && back.data_len == tx->data_len);
    CHECK(back.data_len == 0 || memcmp(back.data, tx->data, back.data_len) == 0);
    CHECK(memcmp(back.max_fee, tx->max_fee, 32) == 0 && memcmp(back.max_priority_fee, tx->max_priority_fee, 32) == 0);
    CHECK(back.access_list_len == tx->access_list_len);
    uint8_t h1[32], h2[32];
    CHECK_EQ_INT(gt_tx_hash(&back, h1, NULL), 0);
    gt_keccak256(b.data, b.len, h2);
    CHECK(memcmp(h1, h2, 32) == 0);
    gt_tx_free(&back);
    gt_buf_free(&b);
}

static void test_round_trips(void) {
    gt_key k;
    CHECK_EQ_INT(gt_key_generate(&k, NULL), 0);
    gt_tx tx = {.type = GT_TX_EIP1559, .chain_id = 31337, .nonce = 0, .gas_limit = 1000000};
    gt_u256_from_u64(1000000000, tx.max_priority_fee);
    gt_u256_from_u64(30000000000ull, tx.max_fee);
    memset(tx.max_fee, 0xff, 8); /* a fee over 64 bits */
    uint8_t code[300];
    for (size_t i = 0; i < sizeof code; i++) code[i] = (uint8_t)(i * 7);
    CHECK_EQ_INT(gt_tx_set_data(&tx, code, sizeof code, NULL), 0);
    round_trip(&tx, &k); /* a creation: no `to` */
    /* with an access list: [[0x11..(20), [0x22..(32)]]] */
    gt_buf al = GT_BUF_INIT;
    size_t m, m1, m2;
    uint8_t a20[20], k32[32];
    memset(a20, 0x11, 20), memset(k32, 0x22, 32);
    gt_rlp_list_begin(&al, &m);
    gt_rlp_list_begin(&al, &m1);
    gt_rlp_put_bytes(&al, a20, 20);
    gt_rlp_list_begin(&al, &m2);
    gt_rlp_put_bytes(&al, k32, 32);
    gt_rlp_list_end(&al, m2);
    gt_rlp_list_end(&al, m1);
    gt_rlp_list_end(&al, m);
    tx.access_list = gt_buf_take(&al, &tx.access_list_len);
    tx.has_to = 1;
    memset(tx.to.b, 0xab, 20);
    round_trip(&tx, &k);
    gt_tx_free(&tx);
    gt_tx legacy;
    eip155_example(&legacy);
    legacy.chain_id = GT_TX_MAX_CHAIN_ID; /* v takes 8 bytes */
    round_trip(&legacy, &k);
    gt_tx_free(&legacy);
    gt_key_wipe(&k);
}

/* Decoding b (hex) must fail with code and a message containing why. */
static void refuse(const char *hex, int code, const char *why) {
    static uint8_t buf[GT_TX_MAX_BYTES + 16];
    size_t n;
    CHECK_EQ_INT(gt_hex_decode_var(hex, buf, sizeof buf, &n, "vector", NULL), 0);
    gt_tx tx;
    gt_addr from;
    gt_err err = {0};
    CHECK_EQ_INT(gt_tx_decode(buf, n, &tx, &from, &err), code);
    CHECK_MSG(strstr(err.msg, why) != NULL, "message \"%s\" lacks \"%s\"", err.msg, why);
}

static void test_refusals(void) {
    const char *ok = "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a7640000"
                     "8025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb7"
                     "03304b3800ccf555c9f3dc64214b297fb1966a3b6d83";
    char h[1024];
    snprintf(h, sizeof h, "%s00", ok); /* trailing byte */
    refuse(h, GT_EINVAL, "follow");
    snprintf(h, sizeof h, "%s", ok);   /* v = 27: replayable on any chain */
    memcpy(strstr(h, "8025a0") + 2, "1b", 2);
    refuse(h, GT_ECHAIN, "replayed");
    snprintf(h, sizeof h, "%s", ok);   /* v = 0x24 is chain 0 */
    memcpy(strstr(h, "8025a0") + 2, "24", 2);
    refuse(h, GT_EINVAL, "EIP-155");
    refuse("01c0", GT_EUNSUPPORTED, "type 0x01");
    refuse("", GT_EINVAL, "empty");
    refuse("c0", GT_EINVAL, "0 fields");
    refuse("02c0", GT_EINVAL, "0 fields");
    /* high s: s' = n - s of the example, same r, flipped v: EIP-2 refuses it */
    snprintf(h, sizeof h, "%s", ok);
    char *s = strstr(h, "a067cbe9");
    memcpy(s + 2, "98341627668089e51348fccfb4c7ff31c55912f2d2e47ef09652acf665fad3be", 64);
    memcpy(strstr(h, "8025a0") + 2, "26", 2);
    refuse(h, GT_ESIG, "high-s");
    /* a changed value recovers a different sender (the signature binds it) */
    snprintf(h, sizeof h, "%s", ok);
    memcpy(strstr(h, "880de0b6") + 2, "1d", 2);
    static uint8_t buf[512];
    size_t n;
    gt_hex_decode_var(h, buf, sizeof buf, &n, "vector", NULL);
    gt_tx tx;
    gt_addr from;
    char fs[43] = "";
    if (gt_tx_decode(buf, n, &tx, &from, NULL) == 0) {
        gt_addr_to_str(&from, fs);
        gt_tx_free(&tx);
    }
    CHECK(strcmp(fs, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F") != 0);
    gt_tx big = {.type = GT_TX_EIP1559, .chain_id = 1};
    CHECK_EQ_INT(gt_tx_set_data(&big, buf, GT_TX_MAX_DATA_BYTES + 1, NULL), GT_ELIMIT);
    gt_err err = {0};
    big.chain_id = 0;
    uint8_t d[32];
    CHECK_EQ_INT(gt_tx_signing_hash(&big, d, &err), GT_EINVAL);
}

/* A type 2 transaction with an access list and call data, signed by cast
 * (`cast mktx --access-list ...` with the EIP-155 example's key): gotong
 * decodes it to the same sender and re-encodes it to the same bytes. */
static void test_cast_access_list_vector(void) {
    const char *hex =
        "02f8e90501843b9aca0084b2d05e0083015f9094353535353535353535353535353535353535353580b844a9059cbb0000000000"
        "0000000000000035353535353535353535353535353535353535350000000000000000000000000000000000000000000000"
        "000000000000000005f838f7941111111111111111111111111111111111111111e1a0222222222222222222222222222222"
        "222222222222222222222222222222222280a0c44fc649e569a866fa5981c91949428924bf2148ef298e074374bd6af17d6a"
        "d7a06fbd0013f19dd0455cb5bc8918558a79fecf9a6686cb94b9655ddcf824236a24";
    static uint8_t raw[512];
    size_t n;
    CHECK_EQ_INT(gt_hex_decode_var(hex, raw, sizeof raw, &n, "vector", NULL), 0);
    gt_tx tx;
    gt_addr from;
    gt_err err = {0};
    char fs[43] = "";
    int rc = gt_tx_decode(raw, n, &tx, &from, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc != 0) return;
    gt_addr_to_str(&from, fs);
    CHECK_STR(fs, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
    CHECK(tx.access_list_len == 58 && tx.data_len == 68 && tx.chain_id == 5 && tx.nonce == 1);
    gt_buf b = GT_BUF_INIT;
    CHECK_EQ_INT(gt_tx_encode(&tx, &b, NULL), 0);
    CHECK(b.len == n && memcmp(b.data, raw, n) == 0);
    gt_buf_free(&b);
    gt_tx_free(&tx);
    /* an access list entry whose address has 19 bytes is refused */
    char bad[128];
    snprintf(bad, sizeof bad, "02e201%s" "d6d593%s" "c0808080", "80808080808080",
             "11111111111111111111111111111111111111");
    refuse(bad, GT_EINVAL, "access list entry 0");
}

int main(void) {
    RUN(test_eip155_example);
    RUN(test_round_trips);
    RUN(test_refusals);
    RUN(test_cast_access_list_vector);
    return gt_test_finish();
}
