/* test_chain_erc8004.c: ERC-8004's reputation and validation registries on a
 * real anvil, over gotong's agent registry, driven by chain/erc8004.h:
 * feedback under an owner-signed feedbackAuth (its index limit, expiry, chain
 * and registry binding), summaries filtered by client and tag (the answer to
 * Sybil raters), revocation by the client only, responses by anyone; and
 * validation asked by the owner only, answered by the named validator only,
 * updated in place. Every forgery a client or a stranger could try is
 * refused by the contract with its reason. The agent card a node serves (the
 * registry's agentURI) is the agent's ERC-8004 registration file too.
 * Skipped (exit 77) without anvil or the contracts. */
#include "../test.h"
#include "anvil.h"
#include "chain/abi_decode.h"
#include "chain/erc8004.h"
#include "chain/escrow.h"
#include "chain/registry.h"
#include "crypto/addr.h"

static gt_chain C;
static gt_chain_account DEPLOYER, AGENT, CLIENT, CLIENT2, FRIEND, VALIDATOR, STRANGER;
static gt_addr IDENTITY, REPUTATION, VALIDATION;
static uint64_t AGENT_ID;
static const uint8_t ZERO[32];

static void tag(const char *s, uint8_t out[32]) {
    memset(out, 0, 32);
    memcpy(out, s, strlen(s) < 32 ? strlen(s) : 32);
}

/* A feedbackAuth from AGENT's owner for client. */
static void auth_for(const gt_addr *client, uint64_t limit, uint64_t expiry, uint8_t out[GT_ERC8004_AUTH_BYTES]) {
    gt_erc8004_auth a = {AGENT_ID, *client, limit, expiry, C.chain_id, IDENTITY, AGENT.addr};
    CHECK_EQ_INT(gt_erc8004_sign_auth(&AGENT.key, &a, out, NULL), 0);
}

static int feedback(gt_chain_account *from, unsigned score, const char *t1, const uint8_t *auth, uint64_t *gas,
                    gt_err *err) {
    uint8_t a[32], h[32];
    tag(t1, a);
    gt_keccak256("feedback file", 13, h);
    return gt_erc8004_give_feedback(&C, &REPUTATION, from, AGENT_ID, score, a, ZERO, "ipfs://feedback", h, auth, gas,
                                    err);
}

#define REFUSED(call, reason)                          \
    do {                                               \
        gt_err e_;                                     \
        CHECK_EQ_INT((call), GT_ECHAIN);               \
        CHECK_CONTAINS(e_.msg, reason);                \
    } while (0)

static void summary(const gt_addr *filter, size_t n, const char *t1, uint64_t want_count, uint64_t want_avg) {
    uint64_t count = 99, avg = 99;
    uint8_t a[32];
    tag(t1 ? t1 : "", a);
    gt_err err;
    CHECK_MSG(gt_erc8004_summary(&C, &REPUTATION, 0, AGENT_ID, filter, n, a, NULL, &count, &avg, &err) == 0, "%s",
              err.msg);
    CHECK_EQ_U64(count, want_count);
    CHECK_EQ_U64(avg, want_avg);
}

/* Feedback counts once per authorised index; a summary filters by client and tag. */
static void test_feedback(void) {
    uint8_t auth[GT_ERC8004_AUTH_BYTES];
    uint64_t gas = 0, now = anvil_now(&C);
    gt_err err;
    auth_for(&CLIENT.addr, 1, now + 3600, auth);
    CHECK_MSG(feedback(&CLIENT, 90, "quality", auth, &gas, &err) == 0, "%s", err.msg);
    printf("gas of giveFeedback (first of a client): %llu\n", (unsigned long long)gas);
    REFUSED(feedback(&CLIENT, 100, "quality", auth, NULL, &e_), "indexLimit is used up");
    auth_for(&CLIENT.addr, 3, now + 3600, auth); /* two more tasks done */
    CHECK_MSG(feedback(&CLIENT, 60, "speed", auth, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(feedback(&CLIENT, 30, "quality", auth, NULL, &err) == 0, "%s", err.msg);
    REFUSED(feedback(&CLIENT, 30, "quality", auth, NULL, &e_), "indexLimit is used up");
    summary(NULL, 0, NULL, 3, 60);
    summary(NULL, 0, "quality", 2, 60);
    /* The owner's friend, authorised by the owner, inflates the unfiltered
     * average; a reader who counts only clients it trusts is unmoved. */
    auth_for(&FRIEND.addr, 5, now + 3600, auth);
    for (int i = 0; i < 5; i++) CHECK_MSG(feedback(&FRIEND, 100, "quality", auth, NULL, &err) == 0, "%s", err.msg);
    summary(NULL, 0, NULL, 8, 85);
    summary(&CLIENT.addr, 1, NULL, 3, 60);
}

/* What a client, a stranger or the owner might forge. */
static void test_forged_feedback_refused(void) {
    uint8_t auth[GT_ERC8004_AUTH_BYTES];
    uint64_t now = anvil_now(&C);
    auth_for(&CLIENT2.addr, 1, now + 3600, auth);
    REFUSED(feedback(&CLIENT, 100, "", auth, NULL, &e_), "another agent or client"); /* someone else's auth */
    REFUSED(feedback(&CLIENT2, 101, "", auth, NULL, &e_), "0..100");
    auth_for(&CLIENT2.addr, 1, now - 1, auth);
    REFUSED(feedback(&CLIENT2, 50, "", auth, NULL, &e_), "expired");
    gt_erc8004_auth a = {AGENT_ID, CLIENT2.addr, 1, now + 3600, C.chain_id + 1, IDENTITY, AGENT.addr};
    CHECK_EQ_INT(gt_erc8004_sign_auth(&AGENT.key, &a, auth, NULL), 0);
    REFUSED(feedback(&CLIENT2, 50, "", auth, NULL, &e_), "another chain");
    a.chain_id = C.chain_id;
    a.signer = STRANGER.addr; /* a stranger authorises feedback on an agent it does not own */
    CHECK_EQ_INT(gt_erc8004_sign_auth(&STRANGER.key, &a, auth, NULL), 0);
    REFUSED(feedback(&CLIENT2, 50, "", auth, NULL, &e_), "signed by the agent's owner");
    a.signer = AGENT.addr;
    CHECK_EQ_INT(gt_erc8004_sign_auth(&AGENT.key, &a, auth, NULL), 0);
    auth[7 * 32 + 5] ^= 1; /* the signature no longer the owner's */
    CHECK(feedback(&CLIENT2, 50, "", auth, NULL, NULL) == GT_ECHAIN);
    auth[7 * 32 + 5] ^= 1;
    auth[31] ^= 1; /* the tuple changed under the signature: another agent id */
    REFUSED(feedback(&CLIENT2, 50, "", auth, NULL, &e_), "another agent or client");
    auth[31] ^= 1;
    auth_for(&AGENT.addr, 1, now + 3600, auth);
    REFUSED(feedback(&AGENT, 100, "", auth, NULL, &e_), "cannot rate its own agent");
    CHECK_EQ_INT(gt_erc8004_give_feedback(&C, &REPUTATION, &CLIENT2, 999, 50, ZERO, ZERO, "", ZERO, auth, NULL, NULL),
                 GT_ECHAIN);
}

/* Only the client revokes its own feedback, once; revoked feedback leaves the summary. */
static void test_revoke(void) {
    REFUSED(gt_erc8004_revoke(&C, &REPUTATION, &CLIENT2, AGENT_ID, 1, &e_), "no such feedback of yours");
    gt_err err;
    CHECK_MSG(gt_erc8004_revoke(&C, &REPUTATION, &CLIENT, AGENT_ID, 1, &err) == 0, "%s", err.msg);
    REFUSED(gt_erc8004_revoke(&C, &REPUTATION, &CLIENT, AGENT_ID, 1, &e_), "already revoked");
    summary(&CLIENT.addr, 1, NULL, 2, 45);
    gt_abi_val a[] = {gt_abi_uint(AGENT_ID), gt_abi_address(&CLIENT.addr), gt_abi_uint(2), gt_abi_string("ipfs://refund"),
                      gt_abi_bytes32(ZERO)};
    gt_chain_receipt r = {0};
    CHECK_MSG(gt_chain_invoke(&C, &REPUTATION, &AGENT, "appendResponse(uint256,address,uint64,string,bytes32)", a, 5,
                              &r, NULL, &err) == 0, "%s", err.msg);
    gt_chain_receipt_free(&r);
    a[2] = gt_abi_uint(9);
    REFUSED(gt_chain_invoke(&C, &REPUTATION, &AGENT, "appendResponse(uint256,address,uint64,string,bytes32)", a, 5,
                            &r, NULL, &e_), "no such feedback");
}

/* Validation: asked by the owner, answered by the named validator, updated in place. */
static void test_validation(void) {
    uint8_t h[32], soft[32], hard[32], ev[32] = {7};
    uint64_t g_req = 0, g_resp = 0;
    gt_err err;
    gt_keccak256("request file: inputs, outputs", 29, h);
    tag("soft", soft);
    tag("hard", hard);
    REFUSED(gt_erc8004_request(&C, &VALIDATION, &STRANGER, &VALIDATOR.addr, AGENT_ID, "ipfs://req", h, NULL, &e_),
            "only the agent's owner");
    REFUSED(gt_erc8004_request(&C, &VALIDATION, &AGENT, &AGENT.addr, AGENT_ID, "ipfs://req", h, NULL, &e_),
            "cannot validate its own work");
    CHECK_MSG(gt_erc8004_request(&C, &VALIDATION, &AGENT, &VALIDATOR.addr, AGENT_ID, "ipfs://req", h, &g_req, &err) ==
              0, "%s", err.msg);
    REFUSED(gt_erc8004_request(&C, &VALIDATION, &AGENT, &STRANGER.addr, AGENT_ID, "ipfs://req", h, NULL, &e_),
            "already used");
    REFUSED(gt_erc8004_respond(&C, &VALIDATION, &STRANGER, h, 100, "", ev, soft, NULL, &e_), "only the named validator");
    REFUSED(gt_erc8004_respond(&C, &VALIDATION, &VALIDATOR, h, 101, "", ev, soft, NULL, &e_), "0..100");
    CHECK_MSG(gt_erc8004_respond(&C, &VALIDATION, &VALIDATOR, h, 100, "ipfs://ev", ev, soft, &g_resp, &err) == 0, "%s",
              err.msg);
    gt_erc8004_status st;
    CHECK_EQ_INT(gt_erc8004_status_get(&C, &VALIDATION, h, &st, NULL), 0);
    CHECK(gt_addr_eq(&st.validator, &VALIDATOR.addr) && st.agent_id == AGENT_ID && st.response == 100);
    CHECK(!memcmp(st.tag, soft, 32) && st.last_update > 0);
    CHECK_MSG(gt_erc8004_respond(&C, &VALIDATION, &VALIDATOR, h, 0, "ipfs://ev2", ev, hard, NULL, &err) == 0, "%s",
              err.msg);
    CHECK_EQ_INT(gt_erc8004_status_get(&C, &VALIDATION, h, &st, NULL), 0);
    CHECK(st.response == 0 && !memcmp(st.tag, hard, 32));
    uint64_t count = 9, avg = 9;
    CHECK_EQ_INT(gt_erc8004_summary(&C, &VALIDATION, 1, AGENT_ID, NULL, 0, NULL, NULL, &count, &avg, NULL), 0);
    CHECK(count == 1 && avg == 0);
    CHECK_EQ_INT(gt_erc8004_summary(&C, &VALIDATION, 1, AGENT_ID, &STRANGER.addr, 1, NULL, NULL, &count, &avg, NULL), 0);
    CHECK_EQ_U64(count, 0);
    CHECK_EQ_INT(gt_erc8004_summary(&C, &VALIDATION, 1, AGENT_ID, NULL, 0, soft, NULL, &count, &avg, NULL), 0);
    CHECK_EQ_U64(count, 0); /* the answer was updated to "hard" */
    printf("gas of validationRequest %llu, validationResponse %llu\n", (unsigned long long)g_req,
           (unsigned long long)g_resp);
}

/* The card the agent registered is its ERC-8004 registration file: type,
 * name, description, image, services (the A2A card), x402Support, active,
 * registrations (this agent id in eip155:CHAIN:REGISTRY), supportedTrust;
 * and still the A2A card gotong reads back. */
static void test_registration_file(void) {
    gt_card card;
    memset(&card, 0, sizeof card);
    snprintf(card.name, sizeof card.name, "agent");
    snprintf(card.url, sizeof card.url, "https://agent.example");
    snprintf(card.skills[0], sizeof card.skills[0], "text.wordcount");
    card.n_skills = 1, card.wallet = AGENT.addr, card.registry = IDENTITY, card.chain_id = C.chain_id;
    card.agent_id = AGENT_ID, card.price = 5, card.roles = GT_CARD_ROLE_WORKER;
    gt_addr owner;
    char uri[GT_REGISTRY_URI_MAX + 1], want[96], reg[GT_ADDR_STR_BYTES];
    gt_err err;
    CHECK_MSG(gt_registry_get(&C, &IDENTITY, AGENT_ID, &owner, uri, &err) == 0, "%s", err.msg);
    json_t *j = gt_card_to_json(&card);
    CHECK(j != NULL);
    if (!j) return;
    CHECK_STR(json_string_value(json_object_get(j, "type")), GT_CARD_REGISTRATION_TYPE);
    static const char *const fields[] = {"name", "description", "image", "services", "x402Support", "active",
                                         "registrations", "supportedTrust"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        CHECK_MSG(json_object_get(j, fields[i]) != NULL, "the registration file has no %s", fields[i]);
    json_t *svc = json_array_get(json_object_get(j, "services"), 0);
    CHECK_STR(json_string_value(json_object_get(svc, "name")), "A2A");
    CHECK_STR(json_string_value(json_object_get(svc, "endpoint")), uri); /* what the registry points at */
    json_t *r0 = json_array_get(json_object_get(j, "registrations"), 0);
    gt_addr_to_str(&IDENTITY, reg);
    snprintf(want, sizeof want, "eip155:%llu:%s", (unsigned long long)C.chain_id, reg);
    CHECK_STR(json_string_value(json_object_get(r0, "agentRegistry")), want);
    CHECK_EQ_U64((uint64_t)json_integer_value(json_object_get(r0, "agentId")), AGENT_ID);
    CHECK(json_is_true(json_object_get(j, "active")) && json_is_false(json_object_get(j, "x402Support")));
    char *text = json_dumps(j, JSON_COMPACT);
    gt_card back;
    CHECK_MSG(text && gt_card_parse(text, strlen(text), &back, &err) == 0, "%s", err.msg);
    CHECK(text && back.agent_id == AGENT_ID && gt_addr_eq(&back.registry, &IDENTITY) && gt_card_has_skill(&back,
                                                                                                        "text.wordcount"));
    free(text);
    json_decref(j);
    card.agent_id = 0; /* not registered yet: no registration listed */
    j = gt_card_to_json(&card);
    CHECK(j && json_array_size(json_object_get(j, "registrations")) == 0);
    json_decref(j);
}

int main(void) {
    anvil_require(1);
    if (access(CONTRACTS "ReputationRegistry.bin", R_OK)) {
        fprintf(stderr, "SKIP: %sReputationRegistry.bin missing: build the contracts\n", CONTRACTS);
        return 77;
    }
    if (anvil_start(&C)) return 1;
    const char *seeds[] = {"8004 deployer", "8004 agent", "8004 client", "8004 client2", "8004 friend",
                           "8004 validator", "8004 stranger"};
    gt_chain_account *acct[] = {&DEPLOYER, &AGENT, &CLIENT, &CLIENT2, &FRIEND, &VALIDATOR, &STRANGER};
    for (int i = 0; i < 7; i++) CHECK_EQ_INT(anvil_account(&C, seeds[i], acct[i]), 0);
    uint64_t gas;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "AgentRegistry", NULL, 0, &IDENTITY, &gas), 0);
    gt_abi_val id[] = {gt_abi_address(&IDENTITY)};
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "ReputationRegistry", id, 1, &REPUTATION, &gas), 0);
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "ValidationRegistry", id, 1, &VALIDATION, &gas), 0);
    gt_abi_val reg[] = {gt_abi_string("https://agent.example/.well-known/agent-card.json")};
    gt_chain_receipt r = {0};
    CHECK_EQ_INT(gt_chain_invoke(&C, &IDENTITY, &AGENT, "register(string)", reg, 1, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    AGENT_ID = 1;
    RUN(test_feedback);
    RUN(test_forged_feedback_refused);
    RUN(test_revoke);
    RUN(test_validation);
    RUN(test_registration_file);
    for (int i = 0; i < 7; i++) gt_chain_account_wipe(acct[i]);
    gt_chain_close(&C);
    anvil_stop();
    return gt_test_finish();
}
