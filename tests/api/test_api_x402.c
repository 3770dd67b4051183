/* test_api_x402.c: the node's paid routes (src/api/x402.c) end to end on a
 * real anvil: HOME/x402.json prices GET /v1/blobs/{}; a request without
 * payment gets 402 with PAYMENT-REQUIRED and no data; gotong's paying client
 * (gt_x402_get) pays within its budget and gets the blob with
 * PAYMENT-RESPONSE, the merchant paid on chain; a request for a blob that
 * does not exist is not charged; a payer without funds, and a node whose
 * chain went away, serve nothing; a config that is wrong (a key file others
 * can read, a route the node does not have, a chain that does not answer)
 * stops the node from starting. `gotong chain pay` pays from a keystore
 * wallet within --budget, and refuses a price over it without signing. Skipped (exit 77) without anvil or the
 * contracts. */
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../test.h"
#include "../chain/anvil.h"
#include "agent/pay.h"
#include "api/x402.h"
#include "api_util.h"
#include "base/hex.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "chain/x402.h"
#include "crypto/addr.h"

#define PRICE 700
static char dir[64];
static gt_chain C;
static gt_chain_account DEPLOYER, PAYER, POOR, FACILITATOR, MERCHANT;
static gt_addr TOKEN;

static uint64_t balance(const gt_addr *who) {
    uint64_t v;
    CHECK_EQ_INT(anvil_token_balance(&C, &TOKEN, who, &v), 0);
    return v;
}

/* Writes HOME/x402.json pricing route (and HOME/x402.key, mode key_mode). */
static void write_config(const char *home, const char *rpc, const char *route, mode_t key_mode) {
    char path[128], token[GT_ADDR_STR_BYTES], to[GT_ADDR_STR_BYTES], hex[65];
    gt_addr_to_str(&TOKEN, token);
    gt_addr_to_str(&MERCHANT.addr, to);
    snprintf(path, sizeof path, "%s/x402.json", home);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"rpc\": \"%s\", \"token\": \"%s\", \"tokenName\": \"Gotong Test Token\", \"tokenVersion\": \"1\", "
               "\"payTo\": \"%s\", \"facilitatorKeyFile\": \"x402.key\", \"maxTimeoutSeconds\": 300, "
               "\"prices\": {\"%s\": \"%d\", \"GET /\": \"%d\"}}\n", rpc, token, to, route, PRICE, PRICE);
    fclose(f);
    snprintf(path, sizeof path, "%s/x402.key", home);
    gt_hex_encode(FACILITATOR.key.priv, 32, hex);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "%s\n", hex);
    fclose(f);
    CHECK_EQ_INT(chmod(path, key_mode), 0);
}

/* A config that is wrong stops the node, saying why. */
static void test_bad_config_refused(void) {
    const char *home = thome(dir);
    gt_node_config c;
    gt_node *n = NULL;
    gt_err err;
    gt_node_config_default(&c);
    c.home = home;
    c.listen = "127.0.0.1:0";
    write_config(home, anvil_url, "GET /v1/blobs/{}", 0644);
    CHECK_EQ_INT(gt_node_start(&c, &n, &err), GT_EPERM);
    CHECK_CONTAINS(err.msg, "chmod 600");
    write_config(home, anvil_url, "GET /v1/secrets/{}", 0600);
    CHECK(gt_node_start(&c, &n, &err) != 0);
    CHECK_CONTAINS(err.msg, "no route GET /v1/secrets/{}");
    char dead[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d", free_port());
    write_config(home, anvil_url, "GET /v1/events", 0600);
    CHECK(gt_node_start(&c, &n, &err) != 0);
    CHECK_CONTAINS(err.msg, "event stream and cannot be priced");
    write_config(home, dead, "GET /v1/blobs/{}", 0600);
    CHECK(gt_node_start(&c, &n, &err) != 0);
    CHECK_CONTAINS(err.msg, "the chain at");
    CHECK(n == NULL);
    trm(home);
}

/* Runs cmd; its stdout (static) and exit status. */
static const char *run(const char *cmd, int *status) {
    static char out[8192];
    out[0] = 0;
    FILE *f = popen(cmd, "r");
    if (!f) return *status = -1, out;
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    int st = pclose(f);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* `gotong chain pay URL --budget N` from a fresh keystore wallet holding tokens. */
static void cli_pays(const char *url, const char *data) {
    char home[] = "/tmp/gt-x402-cli-XXXXXX", pw[128], cmd[1024], path[128], token[GT_ADDR_STR_BYTES];
    int st;
    CHECK(mkdtemp(home) != NULL);
    snprintf(pw, sizeof pw, "%s/pw", home);
    FILE *f = fopen(pw, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("x402 cli password\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s wallet new --home %s --password-file %s --light --json 2>&1", GT_CLI, home, pw);
    json_t *w = json_loads(run(cmd, &st), 0, NULL);
    gt_addr who;
    const char *addr = json_string_value(json_object_get(w, "address"));
    CHECK_MSG(st == 0 && addr && !gt_addr_parse(addr, &who, NULL), "wallet new failed (exit %d)", st);
    json_decref(w);
    if (st || !addr) return;
    gt_abi_val mint[] = {gt_abi_address(&who), gt_abi_uint(10 * PRICE)};
    gt_chain_receipt r = {0};
    CHECK_EQ_INT(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "mint(address,uint256)", mint, 2, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    gt_addr_to_str(&TOKEN, token);
    snprintf(path, sizeof path, "%s/chain.json", home);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"chain_id\": %llu, \"GotongToken\": \"%s\"}\n", (unsigned long long)C.chain_id, token);
    fclose(f);
    uint64_t m0 = balance(&MERCHANT.addr);
    snprintf(cmd, sizeof cmd, "%s chain pay %s --budget %d --home %s --password-file %s 2>&1", GT_CLI, url, PRICE - 1,
             home, pw);
    CHECK_CONTAINS(run(cmd, &st), "the budget has 699 left: not paid");
    CHECK_EQ_INT(st, 1);
    snprintf(cmd, sizeof cmd, "%s chain pay %s --budget %d --home %s --password-file %s 2>/dev/null", GT_CLI, url,
             PRICE, home, pw);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0 && !strcmp(out, data), "chain pay: exit %d, %s", st, out);
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0 + PRICE);
    CHECK_EQ_U64(balance(&who), 9 * PRICE);
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    CHECK_EQ_INT(system(cmd), 0);
}

/* Paid data: 402 first, then paid within the budget; absent data is not charged. */
static void test_paid_blob(void) {
    const char *home = thome(dir);
    write_config(home, anvil_url, "GET /v1/blobs/{}", 0600);
    gt_node *n = tnode(home, 4, 0);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    static const char data[] = "a dataset row worth paying for";
    uint8_t hash[32];
    gt_sha256(data, sizeof data - 1, hash);
    char path[200] = "/v1/blobs/sha256:", url[300];
    gt_hex_encode(hash, 32, path + strlen(path));
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    CHECK_EQ_INT(tmint(c, port, 0, 1, 5000000), 200);
    CHECK_EQ_INT(tupload(c, port, 1, data, sizeof data - 1, &h), 201);
    thttp_free(&h);
    /* Unpaid: 402, PAYMENT-REQUIRED, and none of the data. */
    CHECK_EQ_INT(tget(c, port, path, &h), 402);
    CHECK(!strstr(h.body, "worth paying"));
    thttp_free(&h);
    uint64_t p0 = balance(&PAYER.addr), m0 = balance(&MERCHANT.addr);
    gt_x402_wallet w = {&PAYER.key, C.chain_id, TOKEN, 10 * PRICE, 0};
    gt_buf body = GT_BUF_INIT;
    long status = 0;
    int paid = 0;
    uint8_t tx[32];
    gt_err err;
    CHECK_MSG(gt_x402_get(url, &w, &status, &body, &paid, tx, &err) == 0, "%s", err.msg);
    CHECK(status == 200 && paid);
    CHECK(body.len == sizeof data - 1 && !memcmp(body.data, data, body.len));
    CHECK_EQ_U64(balance(&PAYER.addr), p0 - PRICE);
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0 + PRICE);
    /* The agent's paying client (agent/pay.h) pays on the chain the same way,
     * and refuses a second price its budget no longer covers, signing nothing. */
    gt_agent_payer ap = {.key = &PAYER.key, .budget = PRICE, .evm_chain_id = C.chain_id, .evm_asset = TOKEN};
    gt_agent_paid ad;
    body.len = 0;
    CHECK_MSG(gt_agent_pay_get(&ap, url, &status, &body, &ad, &err) == 0, "%s", err.msg);
    CHECK(status == 200 && ad.paid && ad.amount == PRICE && ap.spent == PRICE);
    CHECK(body.len == sizeof data - 1 && !memcmp(body.data, data, body.len));
    CHECK_EQ_U64(balance(&PAYER.addr), p0 - 2 * PRICE);
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0 + 2 * PRICE);
    CHECK_EQ_INT(gt_agent_pay_get(&ap, url, &status, &body, &ad, &err), GT_EFUNDS);
    CHECK(!ad.paid && status == 402 && ap.spent == PRICE);
    p0 -= PRICE;
    /* A blob the node does not have: 404, and the payment is not settled. */
    char missing[300];
    snprintf(missing, sizeof missing, "http://127.0.0.1:%u/v1/blobs/sha256:%064d", port, 0);
    CHECK_EQ_INT(gt_x402_get(missing, &w, &status, &body, &paid, tx, &err), GT_EIO);
    CHECK(status == 404 && !paid);
    CHECK_EQ_U64(balance(&PAYER.addr), p0 - PRICE);
    /* A payer without funds gets nothing. */
    gt_x402_wallet poor = {&POOR.key, C.chain_id, TOKEN, 10 * PRICE, 0};
    body.len = 0;
    CHECK_EQ_INT(gt_x402_get(url, &poor, &status, &body, &paid, tx, &err), GT_EPERM);
    CHECK_CONTAINS(err.msg, "holds 0 base units");
    CHECK(status == 402 && !paid && !(body.len == sizeof data - 1 && !memcmp(body.data, data, body.len)));
    /* Nor does it make the node run the route: refused before it (402), not
     * after it (the missing blob's 404 showed the route had run). */
    CHECK_EQ_INT(gt_x402_get(missing, &poor, &status, &body, &paid, tx, &err), GT_EPERM);
    CHECK(status == 402 && !paid);
    CHECK_CONTAINS(err.msg, "holds 0 base units");
    cli_pays(url, data);
    /* A handler-built answer (the dashboard's page) is paid for and sent the same way. */
    char page[100];
    snprintf(page, sizeof page, "http://127.0.0.1:%u/", port);
    body.len = 0;
    CHECK_MSG(gt_x402_get(page, &w, &status, &body, &paid, tx, &err) == 0, "%s", err.msg);
    CHECK(status == 200 && paid && body.len > 0 && body.data[0] == '<');
    /* The chain goes away: nothing settles, so nothing is served. */
    anvil_stop();
    body.len = 0;
    CHECK_EQ_INT(gt_x402_get(url, &w, &status, &body, &paid, tx, &err), GT_EPERM);
    CHECK(status == 402 && !paid && !(body.len == sizeof data - 1 && !memcmp(body.data, data, body.len)));
    /* The dashboard's page (a handler-built answer) is withheld the same way. */
    body.len = 0;
    CHECK_EQ_INT(gt_x402_get(page, &w, &status, &body, &paid, tx, &err), GT_EPERM);
    CHECK(status == 402 && !paid && body.len > 0 && body.data[0] == '{');
    gt_buf_free(&body);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(home);
}

/* A paid request for url from PAYER, run in a thread (slow_settlement). */
typedef struct slow_get {
    const char *url;
    long status;
    int paid, rc;
    gt_buf body;
} slow_get;

static void *slow_get_run(void *arg) {
    slow_get *g = arg;
    gt_x402_wallet w = {&PAYER.key, C.chain_id, TOKEN, 10 * PRICE, 0};
    uint8_t tx[32];
    gt_err err;
    g->rc = gt_x402_get(g->url, &w, &g->status, &g->body, &g->paid, tx, &err);
    return NULL;
}

/* A settlement mined after the node's wait for its receipt (30 s): the
 * node waits for its fate and sends the answer it was paid for. It gave up
 * at the first timeout (402, the answer withheld) while the transfer stayed
 * in the chain's pool and was mined later: the payer charged for nothing. */
static void test_slow_settlement(void) {
    const char *home = thome(dir);
    write_config(home, anvil_url, "GET /v1/blobs/{}", 0600);
    gt_node *n = tnode(home, 4, 0);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    static const char data[] = "a row settled in a slow block";
    uint8_t hash[32];
    gt_sha256(data, sizeof data - 1, hash);
    char url[300];
    int at = snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/blobs/sha256:", port);
    gt_hex_encode(hash, 32, url + at);
    CHECK_EQ_INT(tmint(c, port, 0, 1, 5000000), 200);
    CHECK_EQ_INT(tupload(c, port, 1, data, sizeof data - 1, &h), 201);
    thttp_free(&h);
    uint64_t p0 = balance(&PAYER.addr), m0 = balance(&MERCHANT.addr);
    CHECK_EQ_INT(anvil_rpc(&C, "evm_setAutomine", json_pack("[b]", 0)), 0);
    slow_get g = {url, 0, 0, 0, GT_BUF_INIT};
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, slow_get_run, &g), 0);
    sleep(GT_API_X402_WAIT_MS / 1000 + 6); /* past the node's wait for the receipt (its send takes well under 6 s) */
    CHECK_EQ_INT(anvil_rpc(&C, "evm_mine", json_array()), 0);
    CHECK_EQ_INT(anvil_rpc(&C, "evm_setAutomine", json_pack("[b]", 1)), 0);
    pthread_join(t, NULL);
    int charged = balance(&PAYER.addr) == p0 - PRICE && balance(&MERCHANT.addr) == m0 + PRICE;
    int answered = g.rc == 0 && g.status == 200 && g.paid && g.body.len == sizeof data - 1 &&
                   !memcmp(g.body.data, data, g.body.len);
    CHECK_MSG(charged == answered, "charged %d, answered %d (status %ld)", charged, answered, g.status);
    CHECK(charged && answered);
    gt_buf_free(&g.body);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(home);
}

int main(void) {
    anvil_require(1);
    if (anvil_start(&C)) return 1;
    const char *seeds[] = {"api x402 deployer", "api x402 payer", "api x402 poor", "api x402 facilitator",
                           "api x402 merchant"};
    gt_chain_account *acct[] = {&DEPLOYER, &PAYER, &POOR, &FACILITATOR, &MERCHANT};
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(anvil_account(&C, seeds[i], acct[i]), 0);
    uint64_t gas;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "GotongToken", NULL, 0, &TOKEN, &gas), 0);
    gt_abi_val mint[] = {gt_abi_address(&PAYER.addr), gt_abi_uint(1000000)};
    gt_chain_receipt r = {0};
    CHECK_EQ_INT(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "mint(address,uint256)", mint, 2, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    RUN(test_bad_config_refused);
    RUN(test_slow_settlement);
    RUN(test_paid_blob);
    for (int i = 0; i < 5; i++) gt_chain_account_wipe(acct[i]);
    gt_chain_close(&C);
    return gt_test_finish();
}
