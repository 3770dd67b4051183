/* test_serve_x402_chain.c: an inference route of `gotong node -m` priced
 * with x402 v2 and settled on a real anvil chain (the EVM "exact" scheme: an
 * EIP-3009 transferWithAuthorization of the test token). HOME/x402.json
 * prices POST /v1/completions; the agent's inference client (agent/oai.h)
 * without a payer is refused (402); with one it pays a completion within its
 * budget and gets its tokens, the merchant paid on chain; a completion the
 * model refuses (a token id outside the vocabulary) is not charged; a price
 * over what is left of the budget is refused before anything is signed.
 * Skipped (exit 77) without anvil or the contracts. */
#include <signal.h>
#include <sys/stat.h>

#include "../test.h"
#include "../api/api_util.h"
#include "../chain/anvil.h"
#include "agent/oai.h"
#include "agent/pay.h"
#include "api/ext.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "chain/x402.h"
#include "serve/serve.h"

#define PRICE 700
#define MODEL "models/tiny-llama-q8_0.gguf"
static gt_chain C;
static gt_chain_account DEPLOYER, PAYER, FACILITATOR, MERCHANT;
static gt_addr TOKEN;

/* The token balance of who. */
static uint64_t balance(const gt_addr *who) {
    uint64_t v;
    CHECK_EQ_INT(anvil_token_balance(&C, &TOKEN, who, &v), 0);
    return v;
}

/* HOME/x402.json pricing POST /v1/completions on the chain, and the facilitator's key. */
static void write_config(const char *home) {
    char path[128], token[GT_ADDR_STR_BYTES], to[GT_ADDR_STR_BYTES], hex[65];
    gt_addr_to_str(&TOKEN, token);
    gt_addr_to_str(&MERCHANT.addr, to);
    snprintf(path, sizeof path, "%s/x402.json", home);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"rpc\": \"%s\", \"token\": \"%s\", \"tokenName\": \"Gotong Test Token\", \"tokenVersion\": \"1\", "
               "\"payTo\": \"%s\", \"facilitatorKeyFile\": \"x402.key\", \"maxTimeoutSeconds\": 300, "
               "\"prices\": {\"POST /v1/completions\": \"%d\"}}\n", anvil_url, token, to, PRICE);
    fclose(f);
    snprintf(path, sizeof path, "%s/x402.key", home);
    gt_hex_encode(FACILITATOR.key.priv, 32, hex);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "%s\n", hex);
    fclose(f);
    CHECK_EQ_INT(chmod(path, 0600), 0);
}

/* The client's rent: refused unpaid, paid within the budget, not charged
 * for a refused request, refused over the budget. */
static void rent(const char *base) {
    gt_oai *o = NULL;
    gt_err err;
    gt_buf toks = GT_BUF_INIT;
    const int32_t prompt[] = {1, 450, 4996}, bad[] = {1, 40000};
    CHECK(gt_oai_new(base, "m", 0, &o, &err) == 0);
    if (!o) return;
    uint64_t p0 = balance(&PAYER.addr), m0 = balance(&MERCHANT.addr);
    CHECK_EQ_INT(gt_oai_complete_ids(o, prompt, 3, 4, 32000, &toks, &err), GT_EPERM);
    CHECK_CONTAINS(err.msg, "HTTP 402");
    gt_agent_payer ap = {.key = &PAYER.key, .budget = 2 * PRICE + PRICE / 2, .evm_chain_id = C.chain_id,
                         .evm_asset = TOKEN};
    gt_oai_set_payer(o, &ap);
    CHECK_MSG(gt_oai_complete_ids(o, prompt, 3, 4, 32000, &toks, &err) == 0, "%s", err.msg);
    CHECK(toks.len > 0 && toks.len <= 4 * sizeof(int32_t));
    const gt_agent_paid *paid = gt_oai_last_paid(o);
    CHECK(paid->paid && paid->amount == PRICE && ap.spent == PRICE);
    CHECK_EQ_U64(balance(&PAYER.addr), p0 - PRICE);
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0 + PRICE);
    /* Refused by the model after the payment was verified: not settled. */
    CHECK_EQ_INT(gt_oai_complete_ids(o, bad, 2, 4, 32000, &toks, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "outside this model's vocabulary");
    CHECK(!gt_oai_last_paid(o)->paid && ap.spent == 2 * PRICE); /* signed, so counted, but never settled */
    CHECK_EQ_U64(balance(&PAYER.addr), p0 - PRICE);
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0 + PRICE);
    /* What is left of the budget (350) is under the price: nothing signed. */
    CHECK_EQ_INT(gt_oai_complete_ids(o, prompt, 3, 4, 32000, &toks, &err), GT_EFUNDS);
    CHECK(ap.spent == 2 * PRICE);
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0 + PRICE);
    gt_buf_free(&toks);
    gt_oai_free(o);
}

static void test_paid_inference(void) {
    char dir[64], base[64];
    const char *home = thome(dir);
    write_config(home);
    gt_serve_config sc = gt_serve_defaults();
    sc.model_path = gt_fixture(MODEL), sc.model_id = "m";
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_open(&sc, &s, &err) == 0, "%s", err.msg);
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = home, c.listen = "127.0.0.1:0", c.threads = 0, c.block_interval_ms = 0, c.access_log = 0;
    c.ext = s ? gt_serve_ext(s) : NULL;
    gt_node *n = NULL;
    CHECK_MSG(s && gt_node_start(&c, &n, &err) == 0, "%s", err.msg);
    if (n) {
        snprintf(base, sizeof base, "http://127.0.0.1:%u/v1", gt_node_port(n));
        rent(base);
    }
    gt_node_stop(n);
    gt_serve_stop(s);
    trm(home);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    anvil_require(1);
    gt_err err;
    if (gt_client_global_init(&err) || anvil_start(&C)) return 1;
    const char *seeds[] = {"serve x402 deployer", "serve x402 payer", "serve x402 facilitator", "serve x402 merchant"};
    gt_chain_account *acct[] = {&DEPLOYER, &PAYER, &FACILITATOR, &MERCHANT};
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(anvil_account(&C, seeds[i], acct[i]), 0);
    uint64_t gas;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "GotongToken", NULL, 0, &TOKEN, &gas), 0);
    gt_abi_val mint[] = {gt_abi_address(&PAYER.addr), gt_abi_uint(1000000)};
    gt_chain_receipt r = {0};
    CHECK_EQ_INT(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "mint(address,uint256)", mint, 2, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    RUN(test_paid_inference);
    for (int i = 0; i < 4; i++) gt_chain_account_wipe(acct[i]);
    gt_chain_close(&C);
    return gt_test_finish();
}
