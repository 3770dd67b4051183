/* test_eip712.c: EIP-712 against the specification's Mail example (type hash,
 * struct hashes, domain separator, digest and its signature by keccak("cow")),
 * the eth_signTypedData_v4 array example and a bytes8 example from wallet
 * test suites, integer encodings at their range limits, and error paths. */
#include <stdio.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/eip712.h"
#include "crypto/keccak.h"
#include "crypto/key.h"

static const char *hex32(const uint8_t h[32]) {
    static char s[4][67];
    static int i;
    char *o = s[i++ & 3];
    o[0] = '0';
    o[1] = 'x';
    gt_hex_encode(h, 32, o + 2);
    return o;
}

static const char *MAIL_JSON =
    "{\"types\":{"
    "\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\",\"type\":"
    "\"string\"},{\"name\":\"chainId\",\"type\":\"uint256\"},{\"name\":\"verifyingContract\","
    "\"type\":\"address\"}],"
    "\"Person\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"wallet\",\"type\":"
    "\"address\"}],"
    "\"Mail\":[{\"name\":\"from\",\"type\":\"Person\"},{\"name\":\"to\",\"type\":\"Person\"},"
    "{\"name\":\"contents\",\"type\":\"string\"}]},"
    "\"primaryType\":\"Mail\","
    "\"domain\":{\"name\":\"Ether Mail\",\"version\":\"1\",\"chainId\":1,"
    "\"verifyingContract\":\"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC\"},"
    "\"message\":{\"from\":{\"name\":\"Cow\",\"wallet\":"
    "\"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\"},"
    "\"to\":{\"name\":\"Bob\",\"wallet\":\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"},"
    "\"contents\":\"Hello, Bob!\"}}";

/* Level 1: the Mail example hashed with the fixed-struct encoder. */
static void test_mail_encoder(void) {
    uint8_t mail_th[32], person_th[32], from[32], to[32], mail[32], ds[32], dig[32];
    gt_eip712_type_hash("Mail(Person from,Person to,string contents)Person(string name,address "
                        "wallet)",
                        mail_th);
    CHECK_STR(hex32(mail_th), "0xa0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2");
    gt_eip712_type_hash("Person(string name,address wallet)", person_th);

    gt_addr cow, bob, contract;
    CHECK_EQ_INT(gt_addr_parse("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826", &cow, NULL), 0);
    CHECK_EQ_INT(gt_addr_parse("0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB", &bob, NULL), 0);
    CHECK_EQ_INT(gt_addr_parse("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC", &contract, NULL), 0);
    gt_eip712_enc e;
    gt_eip712_enc_init(&e, person_th);
    gt_eip712_enc_string(&e, "Cow", 3);
    gt_eip712_enc_address(&e, &cow);
    gt_eip712_enc_final(&e, from);
    CHECK_STR(hex32(from), "0xfc71e5fa27ff56c350aa531bc129ebdf613b772b6604664f5d8dbe21b85eb0c8");
    gt_eip712_enc_init(&e, person_th);
    gt_eip712_enc_string(&e, "Bob", 3);
    gt_eip712_enc_address(&e, &bob);
    gt_eip712_enc_final(&e, to);
    CHECK_STR(hex32(to), "0xcd54f074a4af31b4411ff6a60c9719dbd559c221c8ac3492d9d872b041d703d1");
    gt_eip712_enc_init(&e, mail_th);
    gt_eip712_enc_bytes32(&e, from);
    gt_eip712_enc_bytes32(&e, to);
    gt_eip712_enc_string(&e, "Hello, Bob!", 11);
    gt_eip712_enc_final(&e, mail);
    CHECK_STR(hex32(mail), "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e");
    gt_eip712_domain_separator("Ether Mail", "1", 1, &contract, ds);
    CHECK_STR(hex32(ds), "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f");
    gt_eip712_digest(ds, mail, dig);
    CHECK_STR(hex32(dig), "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2");

    /* and its signature by keccak256("cow"), from the EIP's reference test */
    uint8_t p[32];
    gt_keccak256("cow", 3, p);
    gt_key k;
    gt_sig s;
    char sh[133];
    CHECK_EQ_INT(gt_key_from_bytes(&k, p, NULL), 0);
    CHECK_EQ_INT(gt_sign_digest(&k, dig, &s, NULL), 0);
    gt_sig_to_hex(&s, sh);
    CHECK_STR(sh, "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d30"
                  "4c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c");
}

/* Level 2: the same example as wallet JSON. */
static void test_mail_json(void) {
    uint8_t ds[32], sh[32], dig[32];
    gt_err err = {0};
    int rc = gt_eip712_hash_json_parts(MAIL_JSON, strlen(MAIL_JSON), ds, sh, dig, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_STR(hex32(ds), "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f");
    CHECK_STR(hex32(sh), "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e");
    CHECK_STR(hex32(dig), "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2");
    /* chainId as a hex string hashes the same */
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", MAIL_JSON);
    char *at = strstr(buf, "\"chainId\":1,");
    CHECK(at != NULL);
    if (at) {
        memmove(at + 16, at + 12, strlen(at + 12) + 1);
        memcpy(at, "\"chainId\":\"0x1\",", 16);
        uint8_t d2[32];
        rc = gt_eip712_hash_json(buf, strlen(buf), d2, &err);
        CHECK_MSG(rc == 0, "%s: %s", err.msg, buf);
        CHECK(memcmp(d2, dig, 32) == 0);
    }
}

/* eth_signTypedData_v4's array example (Person[] and address[]), as used in
 * MetaMask's eth-sig-util, Trust Wallet core and ethers' tests. */
static const char *ARRAYS_JSON =
    "{\"types\":{"
    "\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\",\"type\":"
    "\"string\"},{\"name\":\"chainId\",\"type\":\"uint256\"},{\"name\":\"verifyingContract\","
    "\"type\":\"address\"}],"
    "\"Person\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"wallets\",\"type\":"
    "\"address[]\"}],"
    "\"Mail\":[{\"name\":\"from\",\"type\":\"Person\"},{\"name\":\"to\",\"type\":\"Person[]\"},"
    "{\"name\":\"contents\",\"type\":\"string\"}]},"
    "\"primaryType\":\"Mail\","
    "\"domain\":{\"name\":\"Ether Mail\",\"version\":\"1\",\"chainId\":1,"
    "\"verifyingContract\":\"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC\"},"
    "\"message\":{\"from\":{\"name\":\"Cow\",\"wallets\":["
    "\"CD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\",\"DeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF\"]},"
    "\"to\":[{\"name\":\"Bob\",\"wallets\":[\"bBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\","
    "\"B0BdaBea57B0BDABeA57b0bdABEA57b0BDabEa57\",\"B0B0b0b0b0b0B000000000000000000000000000\"]}],"
    "\"contents\":\"Hello, Bob!\"}}";

static void test_arrays_json(void) {
    uint8_t th[32], sh[32], dig[32];
    gt_eip712_type_hash("Person(string name,address[] wallets)", th);
    CHECK_STR(hex32(th), "0xfabfe1ed996349fc6027709802be19d047da1aa5d6894ff5f6486d92db2e6860");
    gt_eip712_type_hash("Mail(Person from,Person[] to,string contents)Person(string name,address[] "
                        "wallets)",
                        th);
    CHECK_STR(hex32(th), "0x4bd8a9a2b93427bb184aca81e24beb30ffa3c747e2a33d4225ec08bf12e2e753");
    gt_err err = {0};
    int rc = gt_eip712_hash_json_parts(ARRAYS_JSON, strlen(ARRAYS_JSON), NULL, sh, dig, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_STR(hex32(sh), "0xeb4221181ff3f1a83ea7313993ca9218496e424604ba9492bb4052c03d5c3df8");
    CHECK_STR(hex32(dig), "0xa85c2e2b118698e88db68a8105b794a8cc7cec074e89ef991cb4f5f533819cc2");
}

/* A bytesN field (from a hardware-wallet EIP-712 test suite). */
static void test_bytes8_json(void) {
    const char *j =
        "{\"types\":{"
        "\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\","
        "\"type\":\"string\"},{\"name\":\"chainId\",\"type\":\"uint256\"},{\"name\":"
        "\"verifyingContract\",\"type\":\"address\"}],"
        "\"Person\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"wallet\",\"type\":"
        "\"address\"},{\"name\":\"count\",\"type\":\"bytes8\"}]},"
        "\"primaryType\":\"Person\","
        "\"domain\":{\"name\":\"Ether Mail\",\"version\":\"1\",\"chainId\":1,"
        "\"verifyingContract\":\"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC\"},"
        "\"message\":{\"name\":\"Bob\",\"wallet\":\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\","
        "\"count\":\"0x1122334455667788\"}}";
    uint8_t dig[32];
    gt_err err = {0};
    int rc = gt_eip712_hash_json(j, strlen(j), dig, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_STR(hex32(dig), "0x2a3e64893ed4ba30ea34dbff3b0aa08c7677876cfdf7112362eccf3111f58d1d");
}

/* Hashes {"T": fields} with message value and an empty domain; returns rc and
 * the struct hash. */
static int struct_of(const char *fields, const char *value, uint8_t sh[32], gt_err *err) {
    char j[4096];
    snprintf(j, sizeof j,
             "{\"types\":{\"EIP712Domain\":[],\"T\":%s},\"primaryType\":\"T\",\"domain\":{},"
             "\"message\":%s}",
             fields, value);
    uint8_t dig[32];
    return gt_eip712_hash_json_parts(j, strlen(j), NULL, sh, dig, err);
}

/* Expected struct hash of T(<type> x) with one given 32-byte word. */
static void expect_word(const char *type, const char *value, const uint8_t word[32]) {
    char fields[256], v[256], ts[128];
    snprintf(fields, sizeof fields, "[{\"name\":\"x\",\"type\":\"%s\"}]", type);
    snprintf(v, sizeof v, "{\"x\":%s}", value);
    snprintf(ts, sizeof ts, "T(%s x)", type);
    uint8_t th[32], want[32], got[32];
    gt_eip712_type_hash(ts, th);
    gt_eip712_enc e;
    gt_eip712_enc_init(&e, th);
    gt_eip712_enc_bytes32(&e, word);
    gt_eip712_enc_final(&e, want);
    gt_err err = {0};
    int rc = struct_of(fields, v, got, &err);
    CHECK_MSG(rc == 0, "%s %s: %s", type, value, err.msg);
    CHECK_MSG(memcmp(got, want, 32) == 0, "%s %s encodes wrongly", type, value);
}

static void expect_error(const char *type, const char *value, int code, const char *msg) {
    char fields[256], v[512];
    snprintf(fields, sizeof fields, "[{\"name\":\"x\",\"type\":\"%s\"}]", type);
    snprintf(v, sizeof v, "{\"x\":%s}", value);
    uint8_t sh[32];
    gt_err err = {0};
    int rc = struct_of(fields, v, sh, &err);
    CHECK_MSG(rc == code, "%s %s: rc %d (%s)", type, value, rc, err.msg);
    CHECK_CONTAINS(err.msg, msg);
}

static void test_integers(void) {
    uint8_t w[32];
    memset(w, 0xff, 32);
    expect_word("int8", "-1", w);
    expect_word("int256", "\"-1\"", w);
    expect_word("uint256", "\"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"", w);
    memset(w, 0, 32);
    w[31] = 127;
    expect_word("int8", "127", w);
    expect_word("uint", "\"0x7f\"", w);
    memset(w, 0xff, 32);
    w[31] = 0x80;
    expect_word("int8", "-128", w);
    memset(w, 0, 32);
    w[31] = 255;
    expect_word("uint8", "\"255\"", w);
    memset(w, 0, 32);
    w[0] = 0x80; /* int256 minimum: -2^255 */
    expect_word("int256",
                "\"-57896044618658097711785492504343953926634992332820282019728792003956564819968\"",
                w);
    memset(w, 0, 32);
    w[24] = 0x0d, w[25] = 0xe0, w[26] = 0xb6, w[27] = 0xb3, w[28] = 0xa7, w[29] = 0x64;
    expect_word("uint256", "\"1000000000000000000\"", w); /* 1e18 = 0x0de0b6b3a7640000 */
    memset(w, 0, 32);
    w[31] = 1;
    expect_word("bool", "true", w);

    expect_error("int8", "128", GT_EOVERFLOW, "out of range for int8");
    expect_error("int8", "-129", GT_EOVERFLOW, "out of range for int8");
    expect_error("uint8", "256", GT_EOVERFLOW, "out of range for uint8");
    expect_error("uint8", "-1", GT_EINVAL, "must not be negative");
    expect_error("uint256",
                 "\"0x10000000000000000000000000000000000000000000000000000000000000000\"",
                 GT_EOVERFLOW, "256 bits");
    expect_error("int256",
                 "\"57896044618658097711785492504343953926634992332820282019728792003956564819968\"",
                 GT_EOVERFLOW, "out of range for int256");
    expect_error("uint64", "1.5", GT_EINVAL, "expected an integer");
    expect_error("uint64", "\"12a\"", GT_EINVAL, "not a decimal or 0x-hex integer");
    expect_error("bool", "1", GT_EINVAL, "expected true or false");
}

static void test_bytes_and_strings(void) {
    uint8_t w[32] = {0};
    w[0] = 0xde, w[1] = 0xad;
    expect_word("bytes2", "\"0xdead\"", w);
    gt_keccak256("\xde\xad\xbe\xef", 4, w);
    expect_word("bytes", "\"0xdeadbeef\"", w);
    gt_keccak256("", 0, w);
    expect_word("string", "\"\"", w);
    expect_word("bytes", "\"0x\"", w);
    /* the JSON layer refuses NUL inside strings, with a clear message */
    expect_error("string", "\"a\\u0000b\"", GT_EINVAL, "\\u0000 is not allowed");
    expect_error("bytes4", "\"0xdead\"", GT_EINVAL, "bytes4 needs exactly 4 bytes, got 2");
    expect_error("bytes", "\"dead\"", GT_EINVAL, "expected a 0x-hex string");
    expect_error("bytes", "\"0xdeadb\"", GT_EINVAL, "odd number");
    expect_error("string", "5", GT_EINVAL, "expected a string");
    expect_error("address", "\"0xcD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\"", GT_EINVAL,
                 "bad EIP-55 checksum");
    expect_error("address", "42", GT_EINVAL, "expected an address");
}

static void test_arrays(void) {
    /* uint8[2] of [1, 2]: keccak(word(1) || word(2)) */
    uint8_t words[64] = {0}, w[32];
    words[31] = 1;
    words[63] = 2;
    gt_keccak256(words, 64, w);
    expect_word("uint8[2]", "[1,2]", w);
    expect_word("uint8[]", "[1,2]", w);
    gt_keccak256("", 0, w);
    expect_word("string[]", "[]", w);
    /* nested: uint8[][] of [[1,2]] is keccak(keccak(words)) */
    uint8_t inner[32];
    gt_keccak256(words, 64, inner);
    gt_keccak256(inner, 32, w);
    expect_word("uint8[][]", "[[1,2]]", w);
    expect_error("uint8[3]", "[1,2]", GT_EINVAL, "needs exactly 3");
    expect_error("uint8[]", "5", GT_EINVAL, "expected an array");
    expect_error("uint8[]", "[1,\"x\"]", GT_EINVAL, "message.x[1]");
}

static void expect_doc_error(const char *j, int code, const char *msg) {
    uint8_t d[32];
    gt_err err = {0};
    int rc = gt_eip712_hash_json(j, strlen(j), d, &err);
    CHECK_MSG(rc == code, "rc %d (%s) for %s", rc, err.msg, j);
    CHECK_CONTAINS(err.msg, msg);
}

static void test_document_errors(void) {
    expect_doc_error("{", GT_EINVAL, "malformed JSON");
    expect_doc_error("[]", GT_EINVAL, "expected a JSON object");
    expect_doc_error("{\"types\":{},\"domain\":{},\"message\":{}}", GT_EINVAL, "primaryType");
    expect_doc_error("{\"types\":{},\"primaryType\":\"X\",\"domain\":{},\"message\":{}}",
                     GT_EINVAL, "primaryType \"X\" is not declared");
    expect_doc_error("{\"types\":{},\"primaryType\":\"X\",\"domain\":{},\"message\":{},\"x\":1}",
                     GT_EINVAL, "unknown field \"x\"");
    expect_doc_error("{\"types\":{\"T\":[{\"name\":\"a\",\"type\":\"Persn\"}]},\"primaryType\":"
                     "\"T\",\"domain\":{},\"message\":{}}",
                     GT_EINVAL, "types.T.a: unknown type \"Persn\"");
    expect_doc_error("{\"types\":{\"T\":[{\"name\":\"a\",\"type\":\"uint7\"}]},\"primaryType\":"
                     "\"T\",\"domain\":{},\"message\":{}}",
                     GT_EINVAL, "unknown type \"uint7\"");
    expect_doc_error("{\"types\":{\"T\":[{\"name\":\"a\",\"type\":\"uint8[0]\"}]},"
                     "\"primaryType\":\"T\",\"domain\":{},\"message\":{}}",
                     GT_EINVAL, "malformed array type");
    expect_doc_error("{\"types\":{\"T\":[{\"name\":\"a\",\"type\":\"bool\"},{\"name\":\"a\","
                     "\"type\":\"bool\"}]},\"primaryType\":\"T\",\"domain\":{},\"message\":{}}",
                     GT_EINVAL, "declared twice");
    expect_doc_error("{\"types\":{\"T\":[{\"name\":\"a\",\"type\":\"bool\"}]},\"primaryType\":"
                     "\"T\",\"domain\":{},\"message\":{}}",
                     GT_EINVAL, "message.a: missing");
    expect_doc_error("{\"types\":{\"T\":[{\"name\":\"a\",\"type\":\"bool\"}]},\"primaryType\":"
                     "\"T\",\"domain\":{},\"message\":{\"a\":true,\"b\":1}}",
                     GT_EINVAL, "field \"b\" is not declared in type T");
    expect_doc_error("{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"}]},"
                     "\"primaryType\":\"EIP712Domain\",\"domain\":{\"name\":7}}",
                     GT_EINVAL, "domain.name: expected a string");
    expect_doc_error("{\"types\":{\"uint8\":[]},\"primaryType\":\"uint8\",\"domain\":{},"
                     "\"message\":{}}",
                     GT_EINVAL, "atomic type name");
}

/* Recursive types are allowed; values are bounded by the depth limit. */
static void test_recursion_and_depth(void) {
    const char *fields = "[{\"name\":\"v\",\"type\":\"string\"},{\"name\":\"kids\",\"type\":\"T[]\"}]";
    uint8_t sh[32];
    gt_err err = {0};
    int rc = struct_of(fields, "{\"v\":\"root\",\"kids\":[{\"v\":\"leaf\",\"kids\":[]}]}", sh,
                       &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    /* check against the encoder: T(string v,T[] kids) */
    uint8_t th[32], leaf[32], arr[32], want[32];
    gt_eip712_type_hash("T(string v,T[] kids)", th);
    gt_eip712_enc e;
    uint8_t empty[32];
    gt_keccak256("", 0, empty);
    gt_eip712_enc_init(&e, th);
    gt_eip712_enc_string(&e, "leaf", 4);
    gt_eip712_enc_bytes32(&e, empty);
    gt_eip712_enc_final(&e, leaf);
    gt_keccak256(leaf, 32, arr);
    gt_eip712_enc_init(&e, th);
    gt_eip712_enc_string(&e, "root", 4);
    gt_eip712_enc_bytes32(&e, arr);
    gt_eip712_enc_final(&e, want);
    CHECK(memcmp(sh, want, 32) == 0);

    char deep[4096] = "";
    for (int i = 0; i < 40; i++) strcat(deep, "{\"v\":\"x\",\"kids\":[");
    strcat(deep, "{\"v\":\"x\",\"kids\":[]}");
    for (int i = 0; i < 40; i++) strcat(deep, "]}");
    rc = struct_of(fields, deep, sh, &err);
    CHECK_EQ_INT(rc, GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "levels deep");
}

/* Without EIP712Domain in types the domain type follows the domain's keys,
 * which must agree with the level-1 domain separator. */
static void test_implicit_domain(void) {
    const char *j = "{\"types\":{\"T\":[{\"name\":\"a\",\"type\":\"uint64\"}]},\"primaryType\":"
                    "\"T\",\"domain\":{\"chainId\":31337,\"version\":\"1\",\"name\":\"gotong\"},"
                    "\"message\":{\"a\":5}}";
    uint8_t ds[32], want[32], sh[32], dig[32], want_dig[32];
    gt_err err = {0};
    int rc = gt_eip712_hash_json_parts(j, strlen(j), ds, sh, dig, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    gt_eip712_domain_separator("gotong", "1", 31337, NULL, want);
    CHECK(memcmp(ds, want, 32) == 0);
    uint8_t th[32], ws[32];
    gt_eip712_type_hash("T(uint64 a)", th);
    gt_eip712_enc e;
    gt_eip712_enc_init(&e, th);
    gt_eip712_enc_uint(&e, 5);
    gt_eip712_enc_final(&e, ws);
    CHECK(memcmp(sh, ws, 32) == 0);
    gt_eip712_digest(want, ws, want_dig);
    CHECK(memcmp(dig, want_dig, 32) == 0);
    /* primaryType EIP712Domain: the digest covers the domain alone */
    const char *d = "{\"types\":{},\"primaryType\":\"EIP712Domain\",\"domain\":{\"name\":\"gotong\","
                    "\"version\":\"1\",\"chainId\":31337}}";
    rc = gt_eip712_hash_json(d, strlen(d), dig, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    gt_eip712_digest(want, NULL, want_dig);
    CHECK(memcmp(dig, want_dig, 32) == 0);
}

/* Each of our allocations failing in turn gives GT_ENOMEM or the right
 * digest, never a crash or a leak (LeakSanitizer checks at exit). */
static void test_out_of_memory(void) {
    uint8_t want[32], got[32];
    CHECK_EQ_INT(gt_eip712_hash_json(ARRAYS_JSON, strlen(ARRAYS_JSON), want, NULL), 0);
    int ok_seen = 0, bad = 0;
    for (long k = 0; k < 200 && !ok_seen; k++) {
        gt_err err = {0};
        gt_alloc_fail_after(k);
        int rc = gt_eip712_hash_json(ARRAYS_JSON, strlen(ARRAYS_JSON), got, &err);
        gt_alloc_fail_after(-1);
        if (rc == 0) ok_seen = 1, bad += memcmp(got, want, 32) != 0;
        else bad += rc != GT_ENOMEM;
    }
    CHECK(ok_seen);
    CHECK_EQ_INT(bad, 0);
}

int main(void) {
    RUN(test_mail_encoder);
    RUN(test_mail_json);
    RUN(test_arrays_json);
    RUN(test_bytes8_json);
    RUN(test_integers);
    RUN(test_bytes_and_strings);
    RUN(test_arrays);
    RUN(test_document_errors);
    RUN(test_recursion_and_depth);
    RUN(test_implicit_domain);
    RUN(test_out_of_memory);
    return gt_test_finish();
}
