/* test_chain_x402.c: x402 v2 pay-per-request end to end on a real anvil: a
 * resource server (libmicrohttpd, in this test) answers 402 with
 * PAYMENT-REQUIRED, verifies a PAYMENT-SIGNATURE, settles the EIP-3009
 * transfer through the token contract (chain/x402.h) and only then serves,
 * with PAYMENT-RESPONSE; gotong's client (gt_x402_get) pays automatically
 * within its budget. Attacks and failures, each serving nothing and moving
 * nothing: a price over the budget, a replayed signature, an authorization
 * for less than the price, to another payee, signed by another key, a payer
 * without the funds, a chain that does not answer. Skipped (exit 77) when
 * anvil or the contracts are missing. */
#include <curl/curl.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <time.h>

#include "../test.h"
#include "anvil.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "chain/x402.h"
#include "crypto/addr.h"

#define PRICE 2500
static gt_chain C, SERVER_CHAIN;
static gt_chain_account DEPLOYER, PAYER, POOR, FACILITATOR, MERCHANT;
static gt_addr TOKEN;
static gt_x402_req REQ;
static pthread_mutex_t SERVER_LOCK = PTHREAD_MUTEX_INITIALIZER; /* one settlement at a time (one nonce stream) */
static char LAST_SIG[GT_X402_HEADER_MAX + 1];                  /* what the last paid request carried */

static uint64_t balance(const gt_addr *who) {
    uint64_t v;
    CHECK_EQ_INT(anvil_token_balance(&C, &TOKEN, who, &v), 0);
    return v;
}

/* A 402 with PAYMENT-REQUIRED saying why. */
static enum MHD_Result answer_402(struct MHD_Connection *conn, const char *why) {
    char *hdr = NULL;
    static const char body[] = "{\"error\":\"payment required\"}";
    if (gt_x402_required_header(&REQ, why, &hdr, NULL)) return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "PAYMENT-REQUIRED", hdr);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, 402, resp);
    MHD_destroy_response(resp);
    gt_free(hdr);
    return rc;
}

/* The paid resource: verify, settle, and only then serve. */
static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                             const char *version, const char *data, size_t *size, void **state) {
    (void)cls, (void)url, (void)method, (void)version, (void)data, (void)size, (void)state;
    const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "PAYMENT-SIGNATURE");
    if (!sig) return answer_402(conn, "PAYMENT-SIGNATURE header is required");
    gt_x402_auth a;
    gt_err err;
    uint8_t tx[32];
    char *resp_hdr = NULL;
    snprintf(LAST_SIG, sizeof LAST_SIG, "%s", sig);
    pthread_mutex_lock(&SERVER_LOCK);
    int rc = gt_x402_verify(sig, &REQ, (uint64_t)time(NULL), &a, &err);
    if (!rc) rc = gt_x402_settle(&SERVER_CHAIN, &FACILITATOR, &REQ, &a, tx, &err);
    if (!rc) rc = gt_x402_response_header(&REQ, &a, tx, &resp_hdr, &err);
    pthread_mutex_unlock(&SERVER_LOCK);
    if (rc) return answer_402(conn, err.msg);
    static const char body[] = "the paid data";
    struct MHD_Response *resp = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "PAYMENT-RESPONSE", resp_hdr);
    enum MHD_Result q = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    gt_free(resp_hdr);
    return q;
}

static char URL[64];

/* A GET carrying sig (raw, not through the paying client); *why gets the 402's error. */
static long raw_get(const char *sig, char *why, size_t cap) {
    char line[GT_X402_HEADER_MAX + 32];
    snprintf(line, sizeof line, "PAYMENT-SIGNATURE: %s", sig);
    why[0] = 0;
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, line);
    gt_buf body = GT_BUF_INIT;
    static char required[GT_X402_HEADER_MAX + 64];
    required[0] = 0;
    curl_easy_setopt(h, CURLOPT_URL, URL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, NULL);
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    struct curl_header *ph = NULL;
    if (curl_easy_header(h, "PAYMENT-REQUIRED", 0, CURLH_HEADER, -1, &ph) == CURLHE_OK) {
        gt_x402_req r;
        gt_err err;
        snprintf(required, sizeof required, "%s", ph->value);
        /* The 402 must still offer the same requirement; its error says why. */
        CHECK_MSG(gt_x402_parse_required(required, C.chain_id, &TOKEN, &r, &err) == 0, "%s", err.msg);
        size_t n = strlen(required);
        unsigned char *raw = gt_malloc(n);
        int len = EVP_DecodeBlock(raw, (unsigned char *)required, (int)n);
        json_t *j = len > 0 ? json_loadb((char *)raw, strnlen((char *)raw, (size_t)len), 0, NULL) : NULL;
        const char *e = json_string_value(json_object_get(j, "error"));
        snprintf(why, cap, "%s", e ? e : "");
        json_decref(j);
        gt_free(raw);
    }
    fclose(sink);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    gt_buf_free(&body);
    return status;
}

/* sig with its decoded JSON changed by edit, encoded again (out: gt_free). */
static char *tamper(const char *sig, void (*edit)(json_t *)) {
    size_t n = strlen(sig);
    unsigned char *raw = gt_malloc(n);
    int len = EVP_DecodeBlock(raw, (const unsigned char *)sig, (int)n);
    json_t *j = json_loadb((char *)raw, strnlen((char *)raw, (size_t)len), 0, NULL);
    CHECK(j != NULL);
    edit(j);
    char *text = json_dumps(j, JSON_COMPACT);
    char *out = gt_malloc(4 * strlen(text) / 3 + 8);
    EVP_EncodeBlock((unsigned char *)out, (unsigned char *)text, (int)strlen(text));
    free(text);
    json_decref(j);
    gt_free(raw);
    return out;
}

static gt_x402_wallet wallet(gt_chain_account *a, uint64_t budget) {
    gt_x402_wallet w = {&a->key, C.chain_id, TOKEN, budget, 0};
    return w;
}

/* The client pays a 402 within its budget and gets the data; the merchant
 * is paid exactly the price, by a transaction mined on chain. */
static void test_pays_within_budget(void) {
    uint64_t p0 = balance(&PAYER.addr), m0 = balance(&MERCHANT.addr);
    gt_x402_wallet w = wallet(&PAYER, 6000);
    gt_buf body = GT_BUF_INIT;
    long status = 0;
    int paid = 0, found = 0;
    uint8_t tx[32];
    gt_err err;
    CHECK_MSG(gt_x402_get(URL, &w, &status, &body, &paid, tx, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(status, 200);
    CHECK(paid && body.len == 13 && !memcmp(body.data, "the paid data", 13));
    CHECK_EQ_U64(balance(&PAYER.addr), p0 - PRICE);
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0 + PRICE);
    gt_chain_receipt r = {0};
    CHECK_EQ_INT(gt_chain_receipt_get(&C, tx, &r, &found, NULL), 0);
    CHECK(found && r.status == 1);
    gt_chain_receipt_free(&r);
    /* A second request pays again; the third is over the budget: nothing is sent. */
    CHECK_MSG(gt_x402_get(URL, &w, &status, &body, &paid, tx, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(w.spent, 2 * PRICE);
    CHECK_EQ_INT(gt_x402_get(URL, &w, &status, &body, &paid, tx, &err), GT_EFUNDS);
    CHECK_CONTAINS(err.msg, "budget has 1000 left");
    CHECK(!paid && status == 402);
    CHECK_EQ_U64(balance(&PAYER.addr), p0 - 2 * PRICE);
    gt_buf_free(&body);
}

/* The signature of a paid request, sent again, pays nothing and gets nothing. */
static void test_replay_refused(void) {
    char why[512];
    uint64_t m0 = balance(&MERCHANT.addr);
    CHECK(LAST_SIG[0]);
    CHECK_EQ_INT(raw_get(LAST_SIG, why, sizeof why), 402);
    CHECK_CONTAINS(why, "already used");
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0);
}

static void less_in_authorization(json_t *j) {
    json_object_set_new(json_object_get(json_object_get(j, "payload"), "authorization"), "value", json_string("1"));
}
static void other_payer(json_t *j) {
    char s[GT_ADDR_STR_BYTES];
    gt_addr_to_str(&POOR.addr, s);
    json_object_set_new(json_object_get(json_object_get(j, "payload"), "authorization"), "from", json_string(s));
}
static void extra_field(json_t *j) {
    json_object_set_new(json_object_get(json_object_get(j, "payload"), "authorization"), "memo", json_string("x"));
}

/* Forged and underpaid signatures: refused before anything reaches the chain. */
static void test_forgeries_refused(void) {
    gt_x402_req cheap = REQ, elsewhere = REQ;
    gt_x402_auth a;
    char *sig = NULL, why[512];
    uint64_t p0 = balance(&PAYER.addr);
    cheap.amount = PRICE - 1;
    CHECK_EQ_INT(gt_x402_sign(&PAYER.key, &cheap, (uint64_t)time(NULL), &a, &sig, NULL), 0);
    CHECK_EQ_INT(raw_get(sig, why, sizeof why), 402);
    CHECK_CONTAINS(why, "not this resource's requirement");
    gt_free(sig);
    elsewhere.pay_to = PAYER.addr; /* paying oneself */
    CHECK_EQ_INT(gt_x402_sign(&PAYER.key, &elsewhere, (uint64_t)time(NULL), &a, &sig, NULL), 0);
    CHECK_EQ_INT(raw_get(sig, why, sizeof why), 402);
    CHECK_CONTAINS(why, "not this resource's requirement");
    gt_free(sig);
    CHECK_EQ_INT(gt_x402_sign(&PAYER.key, &REQ, (uint64_t)time(NULL), &a, &sig, NULL), 0);
    void (*edits[])(json_t *) = {less_in_authorization, other_payer, extra_field};
    const char *reason[] = {"is not the price", "not authorization.from's", "memo"};
    for (int i = 0; i < 3; i++) {
        char *t = tamper(sig, edits[i]);
        CHECK_EQ_INT(raw_get(t, why, sizeof why), 402);
        CHECK_CONTAINS(why, reason[i]);
        gt_free(t);
    }
    gt_free(sig);
    /* An authorization already expired, and one valid for longer than offered. */
    CHECK_EQ_INT(gt_x402_sign(&PAYER.key, &REQ, (uint64_t)time(NULL) - 2 * REQ.max_timeout_s, &a, &sig, NULL), 0);
    CHECK_EQ_INT(raw_get(sig, why, sizeof why), 402);
    CHECK_CONTAINS(why, "not now");
    gt_free(sig);
    gt_x402_req lasting = REQ;
    lasting.max_timeout_s = 3 * REQ.max_timeout_s;
    CHECK_EQ_INT(gt_x402_sign(&PAYER.key, &lasting, (uint64_t)time(NULL), &a, &sig, NULL), 0);
    CHECK_EQ_INT(raw_get(sig, why, sizeof why), 402);
    CHECK_CONTAINS(why, "over maxTimeoutSeconds");
    gt_free(sig);
    CHECK_EQ_INT(raw_get("not base64!", why, sizeof why), 402);
    CHECK_CONTAINS(why, "base64");
    CHECK_EQ_U64(balance(&PAYER.addr), p0);
}

/* A payer without the funds: the server refuses to serve. */
static void test_unfunded_payer(void) {
    gt_x402_wallet w = wallet(&POOR, 100000);
    gt_buf body = GT_BUF_INIT;
    long status = 0;
    int paid = 1;
    uint8_t tx[32];
    gt_err err;
    CHECK_EQ_INT(gt_x402_get(URL, &w, &status, &body, &paid, tx, &err), GT_EPERM);
    CHECK_CONTAINS(err.msg, "holds 0 base units");
    CHECK(!paid && status == 402);
    CHECK(!(body.len == 13 && !memcmp(body.data, "the paid data", 13)));
    gt_buf_free(&body);
}

/* The chain goes away: a valid payment cannot settle, so nothing is served. */
static void test_chain_down(void) {
    anvil_stop();
    gt_x402_wallet w = wallet(&PAYER, 100000);
    gt_buf body = GT_BUF_INIT;
    long status = 0;
    int paid = 1;
    uint8_t tx[32];
    gt_err err;
    CHECK_EQ_INT(gt_x402_get(URL, &w, &status, &body, &paid, tx, &err), GT_EPERM);
    CHECK_CONTAINS(err.msg, "refused the payment");
    CHECK(!paid && status == 402);
    CHECK(!(body.len == 13 && !memcmp(body.data, "the paid data", 13)));
    gt_buf_free(&body);
}

int main(void) {
    anvil_require(1);
    if (anvil_start(&C)) return 1;
    gt_err err;
    CHECK_MSG(gt_chain_open(anvil_url, &SERVER_CHAIN, &err) == 0, "%s", err.msg);
    SERVER_CHAIN.wait_ms = 5000;
    const char *seeds[] = {"x402 deployer", "x402 payer", "x402 poor", "x402 facilitator", "x402 merchant"};
    gt_chain_account *acct[] = {&DEPLOYER, &PAYER, &POOR, &FACILITATOR, &MERCHANT};
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(anvil_account(&C, seeds[i], acct[i]), 0);
    uint64_t gas;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "GotongToken", NULL, 0, &TOKEN, &gas), 0);
    gt_abi_val mint[] = {gt_abi_address(&PAYER.addr), gt_abi_uint(1000000)};
    gt_chain_receipt r = {0};
    CHECK_EQ_INT(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "mint(address,uint256)", mint, 2, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    int port = free_port();
    snprintf(URL, sizeof URL, "http://127.0.0.1:%d/v1/data", port);
    REQ = (gt_x402_req){.chain_id = C.chain_id, .asset = TOKEN, .pay_to = MERCHANT.addr, .amount = PRICE,
                        .max_timeout_s = 300, .name = "Gotong Test Token", .version = "1"};
    snprintf(REQ.url, sizeof REQ.url, "%s", URL);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                            (uint16_t)port, NULL, NULL, serve, NULL, MHD_OPTION_END);
    CHECK(d != NULL);
    if (d) {
        RUN(test_pays_within_budget);
        RUN(test_replay_refused);
        RUN(test_forgeries_refused);
        RUN(test_unfunded_payer);
        RUN(test_chain_down);
        MHD_stop_daemon(d);
    }
    for (int i = 0; i < 5; i++) gt_chain_account_wipe(acct[i]);
    gt_chain_close(&SERVER_CHAIN);
    gt_chain_close(&C);
    return gt_test_finish();
}
