/* test_ledger_network.c: an action signed for one gotong network is refused
 * by every other. The EIP-712 domain is {name:"gotong", version:"1", chainId,
 * salt} with salt = the network's genesis hash; the id a wallet computes from
 * the typed data (standard EIP-712, no gotong code) is the action's id. */
#include "../test.h"
#include "ledger_util.h"
#include "base/amount.h"
#include "base/hex.h"
#include "crypto/eip712.h"

#define UNIT GT_AMOUNT_UNIT

static gt_key K[3];
static gt_addr A[3];

/* A fresh ledger with genesis g (authority key 0), opened for writing. */
static gt_ledger *make(char dir[64], gt_genesis *g) {
    const char *path = tledger_path(dir);
    g->authority = A[0];
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(path, g, &err), 0);
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    gt_ledger_set_time(l, g->time_s + 10);
    return l;
}

/* Submits the JSON text of a through the codec (the API's path). */
static int submit_json(gt_ledger *l, const char *text, gt_result *r) {
    gt_action a;
    gt_err err = {0};
    int rc = gt_action_from_json_text(text, strlen(text), &a, &err);
    if (rc) {
        r->code = rc;
        snprintf(r->msg, sizeof r->msg, "%s", err.msg);
        return rc;
    }
    return tsubmit(l, &a, r);
}

static void test_replay_across_networks(void) {
    char da[64], db[64], dc[64];
    gt_genesis ga = {.chain_id = 1337, .unbonding_blocks = 2, .time_s = 1700000000, .seed_secret = {7}};
    gt_genesis gb = ga;
    gb.time_s = 1700000001; /* same chain id, another network */
    gt_genesis gc = ga;
    gc.chain_id = 4242;
    gt_ledger *la = make(da, &ga), *lb = make(db, &gb), *lc = make(dc, &gc);
    const gt_domain *dA = gt_ledger_domain(la), *dB = gt_ledger_domain(lb);
    CHECK(memcmp(dA->salt, dB->salt, 32) != 0);
    gt_domain calc;
    gt_genesis_domain(&ga, &calc);
    CHECK(memcmp(calc.salt, dA->salt, 32) == 0 && calc.chain_id == 1337);
    gt_action a;
    gt_result r;
    /* The same mint, signed for network A, applied there ... */
    tsign(&a, &gt_kind_mint, dA, &K[0], 0, &A[1], 5 * UNIT);
    json_t *j = gt_action_to_json(&a, 1);
    char *text = json_dumps(j, JSON_COMPACT);
    CHECK_CONTAINS(text, "\"salt\":\"0x");
    CHECK_EQ_INT(tsubmit(la, &a, &r), 0);
    /* ... and refused by network B (same chain id, same authority key, same
     * nonce: only the genesis differs), with a message saying why. */
    CHECK_EQ_INT(submit_json(lb, text, &r), GT_ECHAIN);
    CHECK_CONTAINS(r.msg, "signed for another network");
    /* Without the "salt" field the signature is checked under B's domain
     * and recovers another address. */
    json_object_del(j, "salt");
    json_object_del(j, "id");
    free(text);
    text = json_dumps(j, JSON_COMPACT);
    CHECK_EQ_INT(submit_json(lb, text, &r), GT_ESIG);
    CHECK_CONTAINS(r.msg, "signed for another network");
    /* A network with another chain id refuses it on the chain id. */
    CHECK_EQ_INT(submit_json(lc, text, &r), GT_ECHAIN);
    CHECK_CONTAINS(r.msg, "this ledger is chain 4242");
    /* Without the salt, network A still takes an action of its own. */
    tsign(&a, &gt_kind_mint, dA, &K[0], 1, &A[1], 1 * UNIT);
    json_decref(j);
    j = gt_action_to_json(&a, 1);
    json_object_del(j, "salt");
    json_object_del(j, "id");
    free(text);
    text = json_dumps(j, JSON_COMPACT);
    CHECK_EQ_INT(submit_json(la, text, &r), 0);
    gt_account acc;
    CHECK_EQ_INT(gt_ledger_account(lb, &A[1], &acc, NULL), 0);
    CHECK_EQ_U64(acc.balance, 0);
    CHECK_EQ_U64(gt_ledger_supply(lb), 0);
    CHECK_EQ_U64(gt_ledger_supply(la), 6 * UNIT);
    free(text);
    json_decref(j);
    gt_ledger_close(la);
    gt_ledger_close(lb);
    gt_ledger_close(lc);
    trm(da);
    trm(db);
    trm(dc);
}

/* The id is the standard EIP-712 digest of the typed data a wallet would be
 * asked to sign (eth_signTypedData_v4 JSON, hashed by the generic encoder). */
static void test_id_is_standard_eip712(void) {
    gt_domain d = {.chain_id = 77};
    for (int i = 0; i < 32; i++) d.salt[i] = (uint8_t)(0xA0 + i);
    gt_action a;
    tsign(&a, &gt_kind_transfer, &d, &K[1], 9, &A[2], 123456789);
    char from[43], to[43], salt[67] = "0x", json[2048];
    gt_addr_to_str(&A[1], from);
    gt_addr_to_str(&A[2], to);
    gt_hex_encode(d.salt, 32, salt + 2);
    snprintf(json, sizeof json,
             "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\",\"type\":\"string\"},"
             "{\"name\":\"chainId\",\"type\":\"uint256\"},{\"name\":\"salt\",\"type\":\"bytes32\"}],"
             "\"Transfer\":[{\"name\":\"from\",\"type\":\"address\"},{\"name\":\"nonce\",\"type\":\"uint64\"},"
             "{\"name\":\"to\",\"type\":\"address\"},{\"name\":\"amount\",\"type\":\"uint64\"}]},"
             "\"primaryType\":\"Transfer\",\"domain\":{\"name\":\"gotong\",\"version\":\"1\",\"chainId\":77,\"salt\":\"%s\"},"
             "\"message\":{\"from\":\"%s\",\"nonce\":9,\"to\":\"%s\",\"amount\":\"123456789\"}}",
             salt, from, to);
    CHECK_STR(gt_kind_transfer.encode_type, "Transfer(address from,uint64 nonce,address to,uint64 amount)");
    uint8_t digest[32];
    gt_err err = {0};
    CHECK_MSG(gt_eip712_hash_json(json, strlen(json), digest, &err) == 0, "%s", err.msg);
    CHECK(memcmp(digest, a.id, 32) == 0);
    /* The salt is part of it: another salt, another id. */
    d.salt[0] ^= 1;
    gt_action b;
    tsign(&b, &gt_kind_transfer, &d, &K[1], 9, &A[2], 123456789);
    CHECK(memcmp(a.id, b.id, 32) != 0);
}

int main(void) {
    for (int i = 0; i < 3; i++) tkey(i, &K[i], &A[i]);
    RUN(test_replay_across_networks);
    RUN(test_id_is_standard_eip712);
    return gt_test_finish();
}
