/* test_chain_cast.c: gotong's transactions and ABI encoding against Foundry's
 * cast (Rust, alloy), an independent implementation:
 *   - `cast mktx` given the same key and fields signs to the same bytes, for
 *     legacy EIP-155 and EIP-1559, with call data cast encodes itself;
 *   - `cast decode-transaction` reads gotong's bytes and reports the same
 *     signer, fields and hash; gotong decodes cast's bytes to the same sender;
 *   - `cast calldata` and `cast abi-encode` give gotong's ABI bytes;
 *   - what cast encodes, gotong's readers decode: a tuple of static and
 *     dynamic values, a revert's Error(string), an event's topic 0.
 * cast comes from npm via scripts/setup.sh into .cache/npm; if it is missing
 * the test fails (an interop test that skips would prove nothing). */
#include <jansson.h>
#include <unistd.h>

#include "../test.h"
#include "base/hex.h"
#include "chain/abi.h"
#include "chain/abi_decode.h"
#include "chain/tx.h"
#include "crypto/addr.h"

#define CAST GT_SOURCE_DIR "/.cache/npm/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"
#define SIG "f(uint256,string,address[])"

/* Runs a shell command; returns its whole output (static buffer, trailing
 * newline cut) and its exit status in *status. */
static const char *run(const char *cmd, int *status) {
    static char out[65536];
    size_t n = 0;
    out[0] = 0;
    FILE *f = popen(cmd, "r");
    if (!f) {
        *status = -1;
        return out;
    }
    n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    *status = pclose(f);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = 0;
    return out;
}

static gt_addr A1, A2;

/* Our encoding of f(7 + nonce, "hello gotong", [A1, A2]). */
static void our_calldata(uint64_t x, gt_buf *b) {
    gt_abi_val addrs[] = {gt_abi_address(&A1), gt_abi_address(&A2)};
    gt_abi_val args[] = {gt_abi_uint(x), gt_abi_string("hello gotong"), gt_abi_array(addrs, 2)};
    CHECK_EQ_INT(gt_abi_calldata(SIG, args, 3, b, NULL), 0);
}

/* Fields cast reports must match ours; `j` is cast's decoded JSON. */
static void check_decoded(json_t *j, const gt_tx *tx, const gt_key *k, const uint8_t hash[32]) {
    char want[256];
    gt_addr a;
    gt_key_address(k, &a);
    gt_addr_to_str(&a, want);
    const char *signer = json_string_value(json_object_get(j, "signer"));
    CHECK_MSG(signer && strcasecmp(signer, want) == 0, "signer %s, want %s", signer ? signer : "(none)", want);
    snprintf(want, sizeof want, "0x%llx", (unsigned long long)tx->nonce);
    CHECK_STR(json_string_value(json_object_get(j, "nonce")), want);
    snprintf(want, sizeof want, "0x%llx", (unsigned long long)tx->chain_id);
    CHECK_STR(json_string_value(json_object_get(j, "chainId")), want);
    snprintf(want, sizeof want, "0x%llx", (unsigned long long)tx->gas_limit);
    CHECK_STR(json_string_value(json_object_get(j, "gas")), want);
    snprintf(want, sizeof want, "0x%x", tx->type);
    CHECK_STR(json_string_value(json_object_get(j, "type")), want);
    CHECK_STR(json_string_value(json_object_get(j, "value")), "0x40112210f47de98115");
    want[0] = '0', want[1] = 'x';
    gt_hex_encode(hash, 32, want + 2);
    CHECK_STR(json_string_value(json_object_get(j, "hash")), want);
    static char input[8192] = "0x";
    gt_hex_encode(tx->data, tx->data_len, input + 2);
    CHECK_STR(json_string_value(json_object_get(j, "input")), input);
}

/* cast decode-transaction prints a JSON string holding JSON; returns the object. */
static json_t *cast_decode(const char *tx_hex) {
    char cmd[8192];
    int st;
    snprintf(cmd, sizeof cmd, "%s decode-transaction 0x%s 2>&1", CAST, tx_hex);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0, "cast decode-transaction: %s", out);
    json_t *outer = json_loads(out, JSON_DECODE_ANY, NULL);
    const char *inner = json_string_value(outer);
    json_t *j = inner ? json_loads(inner, 0, NULL) : NULL;
    json_decref(outer);
    CHECK_MSG(j != NULL, "cast printed no JSON: %s", out);
    return j;
}

/* One transaction both ways: ours equals cast mktx's, cast reads ours. */
static void interop(int type) {
    gt_key k;
    CHECK_EQ_INT(gt_key_generate(&k, NULL), 0);
    gt_tx tx = {.type = type, .chain_id = type == GT_TX_LEGACY ? 1 : 31337, .gas_limit = 150000};
    tx.nonce = k.priv[0] | (uint64_t)k.priv[1] << 8; /* varies run to run */
    gt_u256_from_u64(30000000000ull, tx.max_fee);
    gt_u256_from_u64(1500000000ull, tx.max_priority_fee);
    gt_u256_from_u64(21000000000ull, tx.gas_price);
    gt_u256_from_u64(1234567890123456789ull, tx.value);
    tx.value[23] = 0x40; /* + 2^70: a value over 64 bits */
    tx.has_to = 1;
    tx.to = A2;
    gt_buf cd = GT_BUF_INIT, ours = GT_BUF_INIT;
    our_calldata(7 + tx.nonce, &cd);
    CHECK_EQ_INT(gt_tx_set_data(&tx, cd.data, cd.len, NULL), 0);
    CHECK_EQ_INT(gt_tx_sign(&tx, &k, NULL), 0);
    CHECK_EQ_INT(gt_tx_encode(&tx, &ours, NULL), 0);
    static char ours_hex[16384], cmd[4096], kh[65], a1[43], a2[43];
    gt_hex_encode(ours.data, ours.len, ours_hex);
    gt_hex_encode(k.priv, 32, kh);
    gt_addr_to_str(&A1, a1), gt_addr_to_str(&A2, a2);
    const char *fees = type == GT_TX_LEGACY ? "--legacy --gas-price 21000000000"
                                            : "--gas-price 30000000000 --priority-gas-price 1500000000";
    snprintf(cmd, sizeof cmd,
             "%s mktx --private-key 0x%s --chain %llu --nonce %llu --gas-limit 150000 %s "
             "--value 1181826188607534760213 %s '" SIG "' %llu 'hello gotong' '[%s,%s]' 2>&1",
             CAST, kh, (unsigned long long)tx.chain_id, (unsigned long long)tx.nonce, fees, a2,
             (unsigned long long)(7 + tx.nonce), a1, a2);
    int st;
    const char *theirs = run(cmd, &st);
    CHECK_MSG(st == 0, "cast mktx: %s", theirs);
    CHECK_MSG(!strncmp(theirs, "0x", 2) && !strcmp(theirs + 2, ours_hex), "type %d:\n cast %s\n ours 0x%s", type,
              theirs, ours_hex);
    /* gotong reads cast's bytes: same sender */
    static uint8_t raw[16384];
    size_t n = 0;
    gt_tx back;
    gt_addr from, want;
    gt_err err = {0};
    CHECK_EQ_INT(gt_hex_decode_var(theirs, raw, sizeof raw, &n, "cast tx", &err), 0);
    CHECK_MSG(gt_tx_decode(raw, n, &back, &from, &err) == 0, "%s", err.msg);
    gt_key_address(&k, &want);
    CHECK(gt_addr_eq(&from, &want));
    gt_tx_free(&back);
    /* cast reads gotong's bytes */
    uint8_t h[32];
    CHECK_EQ_INT(gt_tx_hash(&tx, h, NULL), 0);
    json_t *j = cast_decode(ours_hex);
    if (j) check_decoded(j, &tx, &k, h);
    json_decref(j);
    gt_tx_free(&tx);
    gt_buf_free(&cd), gt_buf_free(&ours);
    gt_key_wipe(&k);
}

static void test_legacy(void) {
    interop(GT_TX_LEGACY);
}

static void test_eip1559(void) {
    interop(GT_TX_EIP1559);
}

/* cast abi-encode of static and dynamic types, arrays of strings included. */
static void test_abi_encode(void) {
    uint8_t w[32];
    for (int i = 0; i < 32; i++) w[i] = (uint8_t)(0xa0 + i);
    const uint8_t blob[] = {0xde, 0xad, 0xbe, 0xef};
    gt_abi_val strs[] = {gt_abi_string("a"), gt_abi_string(""), gt_abi_string("a string longer than one word, "
                                                                              "so that it takes two")};
    gt_abi_val nums[] = {gt_abi_uint(UINT64_MAX), gt_abi_uint(0)};
    gt_abi_val args[] = {gt_abi_bytes(blob, 4), gt_abi_bool(1), gt_abi_bytes32(w), gt_abi_array(strs, 3),
                         gt_abi_address(&A1), gt_abi_array(nums, 2), gt_abi_bytes(NULL, 0)};
    gt_buf b = GT_BUF_INIT;
    CHECK_EQ_INT(gt_abi_encode(args, 7, &b, NULL), 0);
    static char ours[8192], wh[65], cmd[4096], a1[43];
    gt_hex_encode(b.data, b.len, ours);
    gt_hex_encode(w, 32, wh);
    gt_addr_to_str(&A1, a1);
    snprintf(cmd, sizeof cmd,
             "%s abi-encode 'f(bytes,bool,bytes32,string[],address,uint256[],bytes)' 0xdeadbeef true 0x%s "
             "'[\"a\",\"\",\"a string longer than one word, so that it takes two\"]' %s "
             "'[18446744073709551615,0]' 0x 2>&1", CAST, wh, a1);
    int st;
    const char *theirs = run(cmd, &st);
    CHECK_EQ_INT(st, 0);
    CHECK_MSG(!strncmp(theirs, "0x", 2) && !strcmp(theirs + 2, ours), "\n cast %s\n ours 0x%s", theirs, ours);
    /* and cast calldata for the selector + arguments used in the transactions */
    gt_buf_reset(&b);
    our_calldata(99, &b);
    gt_hex_encode(b.data, b.len, ours);
    char a2[43];
    gt_addr_to_str(&A2, a2);
    snprintf(cmd, sizeof cmd, "%s calldata '" SIG "' 99 'hello gotong' '[%s,%s]' 2>&1", CAST, a1, a2);
    theirs = run(cmd, &st);
    CHECK_EQ_INT(st, 0);
    CHECK_MSG(!strncmp(theirs, "0x", 2) && !strcmp(theirs + 2, ours), "\n cast %s\n ours 0x%s", theirs, ours);
    gt_buf_free(&b);
}

/* The other way: cast abi-encode's bytes read back by gotong's decoders
 * (return data and log data are such tuples); cast's Error(string) calldata
 * is a revert reason gotong reads; cast keccak of an event's signature is
 * gotong's topic 0. */
static void test_abi_decode(void) {
    char a1[43], cmd[4096];
    gt_addr_to_str(&A1, a1);
    snprintf(cmd, sizeof cmd,
             "%s abi-encode 'f(uint256,address,bool,bytes32,string,bytes,uint256[],address[])' 18446744073709551615 "
             "%s true 0x%064x 'a string longer than one word, so that it takes two' 0xc0ffee '[1,2,3]' '[%s]' 2>&1",
             CAST, a1, 0x5eed, a1);
    int st;
    const char *theirs = run(cmd, &st);
    CHECK_MSG(st == 0 && !strncmp(theirs, "0x", 2), "cast abi-encode: %s", theirs);
    static uint8_t d[4096];
    size_t n = 0;
    gt_err err = {0};
    CHECK_EQ_INT(gt_hex_decode_var(theirs, d, sizeof d, &n, "cast tuple", &err), 0);
    uint64_t u = 0;
    gt_addr a;
    int b = 0;
    uint8_t w[32], want[32] = {0};
    want[30] = 0x5e, want[31] = 0xed;
    CHECK(gt_abi_get_u64(d, n, 0, &u, &err) == 0 && u == UINT64_MAX);
    CHECK(gt_abi_get_address(d, n, 1, &a, &err) == 0 && gt_addr_eq(&a, &A1));
    CHECK(gt_abi_get_bool(d, n, 2, &b, &err) == 0 && b == 1);
    CHECK(gt_abi_get_word(d, n, 3, w, &err) == 0 && !memcmp(w, want, 32));
    const uint8_t *p = NULL, *items = NULL;
    size_t len = 0, count = 0;
    static const char longer[] = "a string longer than one word, so that it takes two";
    CHECK(gt_abi_get_bytes(d, n, 4, &p, &len, &err) == 0 && len == strlen(longer) && !memcmp(p, longer, len));
    CHECK(gt_abi_get_bytes(d, n, 5, &p, &len, &err) == 0 && len == 3 && p[0] == 0xc0 && p[2] == 0xee);
    CHECK(gt_abi_get_words(d, n, 6, &items, &count, &err) == 0 && count == 3);
    for (size_t i = 0; i < count && count == 3; i++)
        CHECK(gt_abi_word_u64(items + 32 * i, &u, "item", &err) == 0 && u == i + 1);
    CHECK(gt_abi_get_words(d, n, 7, &items, &count, &err) == 0 && count == 1 &&
          gt_abi_word_address(items, &a, "item", &err) == 0 && gt_addr_eq(&a, &A1));
    /* the tuple cut short by a byte: every reader of a tail refuses it */
    CHECK(gt_abi_get_bytes(d, n - 1, 5, &p, &len, &err) != 0 || gt_abi_get_words(d, n - 1, 7, &items, &count, &err));
    /* a revert: cast's Error(string) calldata is the reason gotong reports */
    theirs = run(CAST " calldata 'Error(string)' 'court: the vote is still open' 2>&1", &st);
    CHECK_MSG(st == 0 && gt_hex_decode_var(theirs, d, sizeof d, &n, "cast error", &err) == 0, "%s", theirs);
    char why[128];
    CHECK_EQ_INT(gt_abi_revert_reason(d, n, why, sizeof why), 1);
    CHECK_STR(why, "court: the vote is still open");
    /* an event's topic 0 */
    theirs = run(CAST " keccak 'JobPosted(uint256,address,bytes32)' 2>&1", &st);
    gt_abi_event_topic("JobPosted(uint256,address,bytes32)", w);
    char ours[65];
    gt_hex_encode(w, 32, ours);
    CHECK_MSG(st == 0 && !strncmp(theirs, "0x", 2) && !strcmp(theirs + 2, ours), "\n cast %s\n ours 0x%s", theirs,
              ours);
}

int main(void) {
    if (access(CAST, X_OK) != 0) {
        fprintf(stderr, "cast not found at %s: run scripts/setup.sh test (it installs "
                        "@foundry-rs/cast-linux-amd64 into .cache/npm)\n", CAST);
        CHECK_MSG(0, "cast is required for the interop test");
        return gt_test_finish();
    }
    memset(A1.b, 0x35, 20);
    for (int i = 0; i < 20; i++) A2.b[i] = (uint8_t)(0x9d + 13 * i);
    RUN(test_legacy);
    RUN(test_eip1559);
    RUN(test_abi_encode);
    RUN(test_abi_decode);
    return gt_test_finish();
}
