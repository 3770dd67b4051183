/* test_chain_anvil.c: the chain client (JSON-RPC, nonces, gas, EIP-1559
 * sending, receipts, logs, ABI decoding of calls and events, confirmation
 * depth, reorgs, replacement of a stuck transaction) and the test token's
 * EIP-2612 permit and EIP-3009 transferWithAuthorization signed with gotong's
 * EIP-712 code, against a real anvil started here; and what Foundry's cast
 * sends to that chain, gotong's client reads. Skipped (exit 77) with a
 * message when anvil or the compiled contracts are missing. */
#include "../test.h"
#include "anvil.h"
#include "chain/abi_decode.h"
#include "crypto/addr.h"
#include "crypto/eip712.h"

static gt_chain C;
static gt_chain_account ALICE, BOB;
static gt_addr TOKEN;

/* Call data of signature with up to three arguments. */
static void calldata(const char *sig, const gt_abi_val *args, size_t n, gt_buf *b) {
    gt_buf_reset(b);
    CHECK_EQ_INT(gt_abi_calldata(sig, args, n, b, NULL), 0);
}

/* balanceOf(who) on the token, by eth_call and ABI decoding. */
static uint64_t token_balance(const gt_addr *who) {
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    gt_abi_val a[] = {gt_abi_address(who)};
    uint64_t v = UINT64_MAX;
    gt_err err;
    calldata("balanceOf(address)", a, 1, &d);
    CHECK_MSG(gt_chain_call(&C, NULL, &TOKEN, d.data, d.len, &out, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(gt_abi_get_u64(out.data, out.len, 0, &v, NULL), 0);
    gt_buf_free(&d);
    gt_buf_free(&out);
    return v;
}

/* Sends call data to the token from a; returns the receipt's status code. */
static int token_tx(gt_chain_account *a, const char *sig, const gt_abi_val *args, size_t n, gt_chain_receipt *r,
                    gt_err *err) {
    gt_buf d = GT_BUF_INIT;
    calldata(sig, args, n, &d);
    int rc = gt_chain_transact(&C, a, &TOKEN, d.data, d.len, r, err);
    gt_buf_free(&d);
    return rc;
}

static void test_chain_id_and_value_transfer(void) {
    CHECK_EQ_U64(C.chain_id, 31337); /* anvil's default */
    gt_addr to;
    memset(to.b, 0x42, 20);
    uint8_t value[32] = {0}, hash[32];
    value[31] = 123;
    gt_err err;
    gt_chain_receipt r;
    CHECK_MSG(gt_chain_send(&C, &ALICE, &to, value, NULL, 0, hash, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_chain_wait(&C, hash, &r, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(r.status, 1);
    CHECK_EQ_U64(r.gas_used, 21000);
    CHECK(!memcmp(r.tx_hash, hash, 32));
    gt_chain_receipt_free(&r);
    json_t *bal = NULL;
    uint64_t got = 0;
    CHECK_EQ_INT(gt_rpc_call(C.rpc, "eth_getBalance", json_pack("[o,s]", gt_rpc_data(to.b, 20), "latest"), &bal,
                             NULL), 0);
    CHECK_EQ_INT(gt_rpc_to_u64(bal, &got, "balance", NULL), 0);
    CHECK_EQ_U64(got, 123);
    json_decref(bal);
}

static void test_deploy_mint_and_read(void) {
    uint64_t gas = 0;
    CHECK_EQ_INT(anvil_deploy(&C, &ALICE, "GotongToken", NULL, 0, &TOKEN, &gas), 0);
    CHECK(gas > 100000);
    gt_abi_val mint[] = {gt_abi_address(&ALICE.addr), gt_abi_uint(1000000)};
    gt_chain_receipt r;
    gt_err err;
    CHECK_MSG(token_tx(&ALICE, "mint(address,uint256)", mint, 2, &r, &err) == 0, "%s", err.msg);
    gt_chain_receipt_free(&r);
    CHECK_EQ_U64(token_balance(&ALICE.addr), 1000000);
    /* A string return value: name(). */
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    calldata("name()", NULL, 0, &d);
    CHECK_EQ_INT(gt_chain_call(&C, NULL, &TOKEN, d.data, d.len, &out, NULL), 0);
    const uint8_t *p = NULL;
    size_t len = 0;
    CHECK_EQ_INT(gt_abi_get_bytes(out.data, out.len, 0, &p, &len, NULL), 0);
    CHECK(len == 17 && !memcmp(p, "Gotong Test Token", 17));
    gt_buf_free(&d);
    gt_buf_free(&out);
}

/* A Transfer event read back from the receipt: indexed from/to in topics,
 * the value in data. */
static void test_transfer_event(void) {
    gt_abi_val args[] = {gt_abi_address(&BOB.addr), gt_abi_uint(2500)};
    gt_chain_receipt r;
    gt_err err;
    CHECK_MSG(token_tx(&ALICE, "transfer(address,uint256)", args, 2, &r, &err) == 0, "%s", err.msg);
    uint8_t topic[32];
    gt_abi_event_topic("Transfer(address,address,uint256)", topic);
    const gt_chain_log *l = gt_chain_find_log(&r, &TOKEN, topic);
    CHECK(l != NULL);
    if (l) {
        gt_addr from, to;
        uint64_t v = 0;
        CHECK_EQ_INT((int)l->n_topics, 3);
        CHECK_EQ_INT(gt_abi_word_address(l->topics[1], &from, "from", NULL), 0);
        CHECK_EQ_INT(gt_abi_word_address(l->topics[2], &to, "to", NULL), 0);
        CHECK(gt_addr_eq(&from, &ALICE.addr) && gt_addr_eq(&to, &BOB.addr));
        CHECK_EQ_INT(gt_abi_get_u64(l->data, l->data_len, 0, &v, NULL), 0);
        CHECK_EQ_U64(v, 2500);
    }
    gt_chain_receipt_free(&r);
    CHECK_EQ_U64(token_balance(&BOB.addr), 2500);
}

/* A call that would revert sends nothing: the error carries the contract's
 * reason and the nonce is not used up. */
static void test_revert_sends_nothing(void) {
    uint64_t nonce_before = ALICE.next_nonce;
    gt_abi_val args[] = {gt_abi_address(&ALICE.addr), gt_abi_uint(1)};
    gt_chain_receipt r;
    gt_err err;
    int rc = token_tx(&BOB, "mint(address,uint256)", args, 2, &r, &err);
    CHECK_EQ_INT(rc, GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "only the minter mints");
    CHECK_CONTAINS(err.msg, "nothing sent");
    gt_abi_val too_much[] = {gt_abi_address(&BOB.addr), gt_abi_uint(1u << 30)};
    CHECK_EQ_INT(token_tx(&ALICE, "transfer(address,uint256)", too_much, 2, &r, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "balance too small");
    CHECK_EQ_U64(ALICE.next_nonce, nonce_before);
}

/* Two transactions in flight at once get consecutive nonces; a second wallet
 * process using the same key makes the first re-read the nonce, once. */
static void test_nonces(void) {
    gt_abi_val args[] = {gt_abi_address(&BOB.addr), gt_abi_uint(1)};
    gt_buf d = GT_BUF_INIT;
    uint8_t h1[32], h2[32];
    gt_err err;
    gt_chain_receipt r1, r2;
    calldata("transfer(address,uint256)", args, 2, &d);
    uint64_t n0 = ALICE.next_nonce;
    CHECK_MSG(gt_chain_send(&C, &ALICE, &TOKEN, NULL, d.data, d.len, h1, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_chain_send(&C, &ALICE, &TOKEN, NULL, d.data, d.len, h2, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(ALICE.next_nonce, n0 + 2);
    CHECK_EQ_INT(gt_chain_wait(&C, h1, &r1, NULL), 0);
    CHECK_EQ_INT(gt_chain_wait(&C, h2, &r2, NULL), 0);
    CHECK(r1.status == 1 && r2.status == 1);
    gt_chain_receipt_free(&r1);
    gt_chain_receipt_free(&r2);
    gt_chain_account other;
    CHECK_EQ_INT(gt_chain_account_init(&other, &ALICE.key, NULL), 0);
    CHECK_MSG(gt_chain_transact(&C, &other, &TOKEN, d.data, d.len, &r1, &err) == 0, "%s", err.msg);
    gt_chain_receipt_free(&r1);
    /* ALICE's count is now stale by one: the node says "nonce too low". */
    CHECK_MSG(gt_chain_transact(&C, &ALICE, &TOKEN, d.data, d.len, &r1, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(ALICE.next_nonce, n0 + 4);
    gt_chain_receipt_free(&r1);
    gt_buf_free(&d);
    CHECK_EQ_U64(token_balance(&BOB.addr), 2504);
}

/* Depth 3: a receipt in the latest block is not confirmed until two more
 * blocks are mined on it. */
static void test_confirmation_depth(void) {
    gt_abi_val args[] = {gt_abi_address(&BOB.addr), gt_abi_uint(1)};
    gt_buf d = GT_BUF_INIT;
    uint8_t h[32];
    gt_err err;
    gt_chain_receipt r;
    calldata("transfer(address,uint256)", args, 2, &d);
    CHECK_EQ_INT(gt_chain_send(&C, &ALICE, &TOKEN, NULL, d.data, d.len, h, NULL), 0);
    C.confirmations = 3;
    C.wait_ms = 200;
    CHECK_EQ_INT(gt_chain_wait(&C, h, &r, &err), GT_ESTATE);
    CHECK_CONTAINS(err.msg, "not confirmed at depth 3");
    CHECK_EQ_INT(anvil_rpc(&C, "anvil_mine", json_pack("[o]", gt_rpc_u64(2))), 0);
    CHECK_MSG(gt_chain_wait(&C, h, &r, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(r.status, 1);
    gt_chain_receipt_free(&r);
    C.confirmations = 1;
    C.wait_ms = GT_CHAIN_WAIT_MS_DEFAULT;
    gt_buf_free(&d);
}

/* A receipt whose block was reorganised away is not confirmed, whatever the
 * depth of the new chain: the wait goes on until it is mined again. */
static void test_reorg(void) {
    gt_abi_val args[] = {gt_abi_address(&BOB.addr), gt_abi_uint(1)};
    gt_buf d = GT_BUF_INIT;
    uint8_t h[32];
    gt_err err;
    gt_chain_receipt before, after;
    calldata("transfer(address,uint256)", args, 2, &d);
    CHECK_EQ_INT(gt_chain_send(&C, &ALICE, &TOKEN, NULL, d.data, d.len, h, NULL), 0);
    CHECK_EQ_INT(gt_chain_wait(&C, h, &before, NULL), 0);
    uint64_t bal = token_balance(&BOB.addr);
    /* anvil_rollback drops the latest block; the transaction is gone. */
    CHECK_EQ_INT(anvil_rpc(&C, "anvil_rollback", json_pack("[i]", 1)), 0);
    CHECK_EQ_INT(anvil_rpc(&C, "evm_mine", json_array()), 0);
    CHECK_EQ_U64(token_balance(&BOB.addr), bal - 1);
    C.wait_ms = 200;
    int rc = gt_chain_wait(&C, h, &after, &err);
    CHECK_MSG(rc == GT_ESTATE || (rc == 0 && memcmp(after.block_hash, before.block_hash, 32)),
              "the reorganised-away receipt still reads as confirmed (rc %d)", rc);
    if (!rc) gt_chain_receipt_free(&after);
    C.wait_ms = GT_CHAIN_WAIT_MS_DEFAULT;
    /* Given up, its nonce is free again: the account reads it afresh and the
     * next transaction is mined (it would wait behind a gap otherwise). */
    if (rc == GT_ESTATE) {
        gt_chain_account_resync(&ALICE);
        gt_chain_receipt r;
        CHECK_MSG(gt_chain_transact(&C, &ALICE, &TOKEN, d.data, d.len, &r, &err) == 0, "%s", err.msg);
        gt_chain_receipt_free(&r);
        CHECK_EQ_U64(token_balance(&BOB.addr), bal);
    }
    gt_chain_receipt_free(&before);
    gt_buf_free(&d);
}

/* With mining paused, a sent transaction is stuck; its replacement (same
 * nonce, fees raised) is the one mined, and only once. */
static void test_replace_stuck(void) {
    gt_abi_val args[] = {gt_abi_address(&BOB.addr), gt_abi_uint(7)};
    gt_buf d = GT_BUF_INIT;
    uint8_t h1[32], h2[32];
    gt_err err;
    gt_chain_receipt r;
    int found = 1;
    uint64_t bal = token_balance(&BOB.addr);
    calldata("transfer(address,uint256)", args, 2, &d);
    CHECK_EQ_INT(anvil_rpc(&C, "evm_setAutomine", json_pack("[b]", 0)), 0);
    CHECK_MSG(gt_chain_send(&C, &ALICE, &TOKEN, NULL, d.data, d.len, h1, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(gt_chain_replace(&C, &BOB, h1, h2, &err), GT_EPERM); /* not BOB's to replace */
    CHECK_MSG(gt_chain_replace(&C, &ALICE, h1, h2, &err) == 0, "%s", err.msg);
    CHECK(memcmp(h1, h2, 32) != 0);
    CHECK_EQ_INT(anvil_rpc(&C, "evm_mine", json_array()), 0);
    CHECK_EQ_INT(anvil_rpc(&C, "evm_setAutomine", json_pack("[b]", 1)), 0);
    CHECK_MSG(gt_chain_wait(&C, h2, &r, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(r.status, 1);
    gt_chain_receipt_free(&r);
    CHECK_EQ_INT(gt_chain_receipt_get(&C, h1, &r, &found, NULL), 0);
    CHECK_EQ_INT(found, 0);
    CHECK_EQ_U64(token_balance(&BOB.addr), bal + 7);
    CHECK_EQ_INT(gt_chain_replace(&C, &ALICE, h2, h1, &err), GT_ESTATE); /* mined: nothing to replace */
    gt_buf_free(&d);
}

/* The token's EIP-712 digest of struct_hash, signed by ALICE. */
static void alice_signs(const uint8_t struct_hash[32], gt_sig *sig) {
    uint8_t dom[32], digest[32];
    gt_eip712_domain_separator("Gotong Test Token", "1", C.chain_id, &TOKEN, dom);
    gt_eip712_digest(dom, struct_hash, digest);
    CHECK_EQ_INT(gt_sign_digest(&ALICE.key, digest, sig, NULL), 0);
}

/* EIP-2612: ALICE signs an approval off chain, BOB sends it and spends it;
 * the same signature again, or one past its deadline, is refused. */
static void test_permit(void) {
    uint8_t th[32], sh[32];
    gt_sig sig;
    gt_eip712_enc e;
    uint64_t deadline = anvil_now(&C) + 3600, nonce = 0;
    gt_eip712_type_hash("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)", th);
    gt_eip712_enc_init(&e, th);
    gt_eip712_enc_address(&e, &ALICE.addr), gt_eip712_enc_address(&e, &BOB.addr), gt_eip712_enc_uint(&e, 500);
    gt_eip712_enc_uint(&e, nonce), gt_eip712_enc_uint(&e, deadline);
    gt_eip712_enc_final(&e, sh);
    alice_signs(sh, &sig);
    gt_abi_val p[] = {gt_abi_address(&ALICE.addr), gt_abi_address(&BOB.addr), gt_abi_uint(500), gt_abi_uint(deadline),
                      gt_abi_uint(sig.v), gt_abi_bytes32(sig.r), gt_abi_bytes32(sig.s)};
    const char *permit = "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)";
    gt_chain_receipt r;
    gt_err err;
    uint64_t bob = token_balance(&BOB.addr);
    CHECK_MSG(token_tx(&BOB, permit, p, 7, &r, &err) == 0, "%s", err.msg);
    gt_chain_receipt_free(&r);
    gt_abi_val t[] = {gt_abi_address(&ALICE.addr), gt_abi_address(&BOB.addr), gt_abi_uint(500)};
    CHECK_MSG(token_tx(&BOB, "transferFrom(address,address,uint256)", t, 3, &r, &err) == 0, "%s", err.msg);
    gt_chain_receipt_free(&r);
    CHECK_EQ_U64(token_balance(&BOB.addr), bob + 500);
    CHECK_EQ_INT(token_tx(&BOB, permit, p, 7, &r, &err), GT_ECHAIN); /* its nonce is used */
    CHECK_CONTAINS(err.msg, "permit not signed by the owner");
    p[3] = gt_abi_uint(anvil_now(&C) - 1);
    CHECK_EQ_INT(token_tx(&BOB, permit, p, 7, &r, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "permit expired");
}

/* EIP-3009 (x402's "exact" scheme): a transfer ALICE signed, sent by BOB,
 * pays once; its nonce cannot pay again. */
static void test_transfer_with_authorization(void) {
    uint8_t th[32], sh[32], nonce[32];
    gt_sig sig;
    gt_eip712_enc e;
    uint64_t before = anvil_now(&C) + 3600;
    gt_keccak256("x402 payment 1", 14, nonce);
    gt_eip712_type_hash("TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,"
                        "uint256 validBefore,bytes32 nonce)", th);
    gt_eip712_enc_init(&e, th);
    gt_eip712_enc_address(&e, &ALICE.addr), gt_eip712_enc_address(&e, &BOB.addr), gt_eip712_enc_uint(&e, 42);
    gt_eip712_enc_uint(&e, 0), gt_eip712_enc_uint(&e, before), gt_eip712_enc_bytes32(&e, nonce);
    gt_eip712_enc_final(&e, sh);
    alice_signs(sh, &sig);
    gt_abi_val a[] = {gt_abi_address(&ALICE.addr), gt_abi_address(&BOB.addr), gt_abi_uint(42), gt_abi_uint(0),
                      gt_abi_uint(before), gt_abi_bytes32(nonce), gt_abi_uint(sig.v), gt_abi_bytes32(sig.r),
                      gt_abi_bytes32(sig.s)};
    const char *sig_text =
        "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)";
    gt_chain_receipt r;
    gt_err err;
    uint64_t bob = token_balance(&BOB.addr);
    CHECK_MSG(token_tx(&BOB, sig_text, a, 9, &r, &err) == 0, "%s", err.msg);
    gt_chain_receipt_free(&r);
    CHECK_EQ_U64(token_balance(&BOB.addr), bob + 42);
    CHECK_EQ_INT(token_tx(&BOB, sig_text, a, 9, &r, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "authorization already used");
    a[2] = gt_abi_uint(4200); /* a changed amount is not what ALICE signed */
    a[5] = gt_abi_bytes32(sh);
    CHECK_EQ_INT(token_tx(&BOB, sig_text, a, 9, &r, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "not signed by the holder");
}

/* What another client sends, gotong reads: cast (Foundry's, alloy) signs
 * and sends a token transfer from its own key to the chain; gotong reads the
 * receipt by the hash cast printed, finds and decodes the Transfer log, the
 * transaction's sender and nonce as the node reports them, and the balance
 * after. */
#define CAST GT_SOURCE_DIR "/.cache/npm/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"
static void test_cast_sends_gotong_reads(void) {
    if (access(CAST, X_OK)) {
        fprintf(stderr, "SKIP test_cast_sends_gotong_reads: cast not found at %s (bash scripts/setup.sh test)\n", CAST);
        return;
    }
    gt_chain_account carol;
    uint8_t priv[32];
    char priv_hex[65], token[43], bob[43], cmd[1024], out[4096];
    static const char seed[] = "gotong chain test carol (cast)";
    gt_keccak256(seed, strlen(seed), priv); /* anvil_account's key of the same seed */
    gt_hex_encode(priv, 32, priv_hex);
    CHECK_EQ_INT(anvil_account(&C, seed, &carol), 0);
    gt_abi_val mint[] = {gt_abi_address(&carol.addr), gt_abi_uint(900)};
    gt_chain_receipt r;
    gt_err err;
    CHECK_MSG(token_tx(&ALICE, "mint(address,uint256)", mint, 2, &r, &err) == 0, "%s", err.msg);
    gt_chain_receipt_free(&r);
    uint64_t bob_before = token_balance(&BOB.addr);
    gt_addr_to_str(&TOKEN, token);
    gt_addr_to_str(&BOB.addr, bob);
    snprintf(cmd, sizeof cmd, "%s send --json --private-key 0x%s --rpc-url %s %s 'transfer(address,uint256)' %s 321 "
             "2>&1", CAST, priv_hex, anvil_url, token, bob);
    FILE *f = popen(cmd, "r");
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = 0;
    int st = f ? pclose(f) : -1;
    CHECK_MSG(st == 0, "cast send: %s", out);
    json_t *j = json_loads(out, 0, NULL);
    const char *h = json_string_value(json_object_get(j, "transactionHash"));
    uint8_t hash[32];
    CHECK_MSG(h && gt_hex_decode(h, hash, 32, "transactionHash", &err) == 0, "cast printed %s", out);
    int found = 0;
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(h ? gt_chain_receipt_get(&C, hash, &r, &found, &err) : -1, 0);
    CHECK(found && r.status == 1 && !memcmp(r.tx_hash, hash, 32));
    uint8_t topic[32];
    gt_abi_event_topic("Transfer(address,address,uint256)", topic);
    const gt_chain_log *l = gt_chain_find_log(&r, &TOKEN, topic);
    CHECK(l != NULL && l->n_topics == 3);
    if (l && l->n_topics == 3) {
        gt_addr from, to;
        uint64_t v = 0;
        CHECK(gt_abi_word_address(l->topics[1], &from, "from", NULL) == 0 && gt_addr_eq(&from, &carol.addr));
        CHECK(gt_abi_word_address(l->topics[2], &to, "to", NULL) == 0 && gt_addr_eq(&to, &BOB.addr));
        CHECK(gt_abi_get_u64(l->data, l->data_len, 0, &v, NULL) == 0 && v == 321);
    }
    gt_chain_receipt_free(&r);
    /* the transaction as the node holds it: cast's key signed it, nonce 0 */
    json_t *tx = NULL;
    uint64_t nonce = 99;
    gt_addr from;
    CHECK_EQ_INT(gt_rpc_call(C.rpc, "eth_getTransactionByHash", json_pack("[o]", gt_rpc_data(hash, 32)), &tx, &err), 0);
    const char *fs = json_string_value(json_object_get(tx, "from"));
    CHECK(fs && gt_addr_parse(fs, &from, NULL) == 0 && gt_addr_eq(&from, &carol.addr));
    CHECK(gt_rpc_to_u64(json_object_get(tx, "nonce"), &nonce, "nonce", NULL) == 0 && nonce == 0);
    json_decref(tx);
    json_decref(j);
    CHECK_EQ_U64(token_balance(&BOB.addr), bob_before + 321);
    CHECK_EQ_U64(token_balance(&carol.addr), 900 - 321);
    gt_chain_account_wipe(&carol);
}

int main(void) {
    anvil_require(1);
    if (anvil_start(&C)) return 1;
    CHECK_EQ_INT(anvil_account(&C, "gotong chain test alice", &ALICE), 0);
    CHECK_EQ_INT(anvil_account(&C, "gotong chain test bob", &BOB), 0);
    RUN(test_chain_id_and_value_transfer);
    RUN(test_deploy_mint_and_read);
    RUN(test_transfer_event);
    RUN(test_revert_sends_nothing);
    RUN(test_nonces);
    RUN(test_confirmation_depth);
    RUN(test_reorg);
    RUN(test_replace_stuck);
    RUN(test_permit);
    RUN(test_transfer_with_authorization);
    RUN(test_cast_sends_gotong_reads);
    gt_chain_account_wipe(&ALICE);
    gt_chain_account_wipe(&BOB);
    gt_chain_close(&C);
    anvil_stop();
    return gt_test_finish();
}
