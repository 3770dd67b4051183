/* test_chain_node_ledger.c: what the embedded ledger of a `--chain` node
 * takes (src/api/h_ledger.c), on a real anvil with the contracts deployed
 * and the node started in-process with --chain (an index, no wallet):
 *   - a signed task_post (the market's) and an eval_attest (the work
 *     layer's) are refused with 403 EUNSUPPORTED, the message naming the
 *     kind, the chain id, the RPC URL and `gotong chain post` / `gotong
 *     chain hire`; the ledger's head and the sender's balance and nonce stay;
 *   - an array holding a transfer and a task_post is refused whole: the
 *     transfer is not applied either;
 *   - a mint and a transfer alone are taken as on any node;
 *   - `gotong task claim` against the node prints the node's message as is
 *     and exits 1.
 * Skipped (exit 77) with a message when anvil or the contracts are missing. */
#include <sys/wait.h>

#include "../test.h"
#include "../chain/anvil.h"
#include "api_util.h"
#include "crypto/keystore.h"
#include "work/work.h"

static gt_chain C;
static gt_chain_account DEPLOYER;
static char DIR_[64];
static CURL *H;
static uint16_t PORT;

/* Deploys the token, escrow (no court) and registry, and writes HOME/chain.json as `gotong chain deploy` does. */
static void deploy(const char *home) {
    static const gt_addr no_court;
    gt_addr token, escrow, registry;
    uint64_t gas;
    char t[GT_ADDR_STR_BYTES], e[GT_ADDR_STR_BYTES], r[GT_ADDR_STR_BYTES], path[128];
    CHECK_EQ_INT(anvil_account(&C, "ledger deployer", &DEPLOYER), 0);
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "GotongToken", NULL, 0, &token, &gas), 0);
    gt_abi_val ctor[] = {gt_abi_address(&token), gt_abi_address(&no_court)};
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "JobEscrow", ctor, 2, &escrow, &gas), 0);
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "AgentRegistry", NULL, 0, &registry, &gas), 0);
    gt_addr_to_str(&token, t);
    gt_addr_to_str(&escrow, e);
    gt_addr_to_str(&registry, r);
    snprintf(path, sizeof path, "%s/chain.json", home);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"chain_id\": %llu, \"GotongToken\": \"%s\", \"JobEscrow\": \"%s\", \"AgentRegistry\": \"%s\"}\n",
            (unsigned long long)C.chain_id, t, e, r);
    fclose(f);
}

/* POSTs body to /v1/actions; the status, the answer in *out (caller thttp_free's). */
static long post(const char *body, thttp *out) { return tpost(H, PORT, "/v1/actions", body, out); }

/* a (signed) as JSON, posted; the status, the answer in *out. */
static long post_action(const gt_action *a, thttp *out) {
    char *body = tjson(a);
    long st = post(body, out);
    free(body);
    return st;
}

/* Key number key's balance (base units) and nonce on the node's ledger. */
static void account(int key, uint64_t *balance, uint64_t *nonce) {
    gt_key k;
    gt_addr a;
    char as[GT_ADDR_STR_BYTES], path[80];
    thttp h;
    tkey(key, &k, &a);
    gt_addr_to_str(&a, as);
    snprintf(path, sizeof path, "/v1/accounts/%s", as);
    CHECK_EQ_INT(tget(H, PORT, path, &h), 200);
    json_t *j = json_loads(h.body ? h.body : "", 0, NULL);
    const char *b = json_string_value(json_object_get(j, "balance"));
    *balance = b ? strtoull(b, NULL, 10) : UINT64_MAX;
    *nonce = (uint64_t)json_integer_value(json_object_get(j, "nonce"));
    json_decref(j);
    thttp_free(&h);
}

/* The ledger's head height. */
static uint64_t head(void) {
    thttp h;
    CHECK_EQ_INT(tget(H, PORT, "/v1/head", &h), 200);
    json_t *j = json_loads(h.body ? h.body : "", 0, NULL);
    uint64_t v = (uint64_t)json_integer_value(json_object_get(j, "height"));
    json_decref(j);
    thttp_free(&h);
    return v;
}

/* The answer is the --chain refusal of kind (at element `at` of a batch, or alone when at < 0). */
static void check_refusal(long status, const thttp *h, const char *kind, int at) {
    char want[400], where[32] = "";
    CHECK_EQ_INT(status, 403);
    CHECK_CONTAINS(h->body, "\"code\":\"EUNSUPPORTED\"");
    if (at >= 0) snprintf(where, sizeof where, "actions[%d]: ", at);
    snprintf(want, sizeof want, "\"message\":\"%sthis node settles the market on chain %llu at %s; its embedded "
             "ledger takes no %s nor any other market or work action (tasks, slots, votes, agent cards, "
             "attestations, datasets): post and hire with `gotong chain post` / `gotong chain hire`%s\"",
             where, (unsigned long long)C.chain_id, anvil_url, kind,
             at >= 0 ? " (nothing of this batch was applied)" : "");
    CHECK_CONTAINS(h->body, want);
}

/* The authority mints to itself (taken as on any node); then a task_post it could pay for and an eval_attest, each
 * alone, are refused before the ledger: head, balance and nonce unchanged. */
static void test_market_refused(void) {
    gt_action a;
    thttp h;
    uint64_t h0, bal, nonce;
    CHECK_EQ_INT(tmint(H, PORT, 0, 0, 5000), 200);
    h0 = head();
    ttask_post(&a, 0, 1, "complete", 1);
    check_refusal(post_action(&a, &h), &h, "task_post", -1);
    thttp_free(&h);
    tinit(&a, &gt_kind_eval_attest, 0, 1);
    gt_action_set_str(&a, "bench", "arith-v1", 8, NULL);
    gt_action_set_u64(&a, "items", 1);
    tsign(&a, 0);
    check_refusal(post_action(&a, &h), &h, "eval_attest", -1);
    thttp_free(&h);
    CHECK_EQ_U64(head(), h0);
    account(0, &bal, &nonce);
    CHECK_EQ_U64(bal, 5000);
    CHECK_EQ_U64(nonce, 1);
}

/* [transfer, task_post] is refused whole, the transfer with it; the same transfer alone is taken. */
static void test_batch_and_transfer(void) {
    gt_action *acts = gt_malloc(2 * sizeof *acts);
    gt_key k;
    gt_addr to;
    thttp h;
    uint64_t bal, nonce, to_bal, to_nonce;
    tkey(1, &k, &to);
    uint64_t h1 = head();
    tcore(&acts[0], &gt_kind_transfer, 0, 1, &to, 700);
    ttask_post(&acts[1], 0, 2, "complete", 2);
    char *one = tjson(&acts[0]), *two = tjson(&acts[1]), body[8192];
    snprintf(body, sizeof body, "[%s,%s]", one, two);
    check_refusal(post(body, &h), &h, "task_post", 1);
    thttp_free(&h);
    CHECK_EQ_U64(head(), h1);
    account(0, &bal, &nonce);
    account(1, &to_bal, &to_nonce);
    CHECK_EQ_U64(bal, 5000);
    CHECK_EQ_U64(nonce, 1);
    CHECK_EQ_U64(to_bal, 0);
    CHECK_EQ_INT(post(one, &h), 200); /* the transfer alone */
    CHECK_CONTAINS(h.body, "\"ok\":true");
    thttp_free(&h);
    account(0, &bal, &nonce);
    account(1, &to_bal, &to_nonce);
    CHECK_EQ_U64(bal, 4300);
    CHECK_EQ_U64(nonce, 2);
    CHECK_EQ_U64(to_bal, 700);
    free(one);
    free(two);
    gt_free(acts);
}

/* `gotong task claim` signs with key 0 from the home's keystore: it prints the node's refusal as is, exits 1. */
static void test_cli_shows_refusal(const char *home) {
    static const gt_kdf_params light = {GT_KDF_LIGHT_N, 8, GT_KDF_LIGHT_P};
    char path[256], cmd[1024], out[4096] = "", as[GT_ADDR_STR_BYTES];
    gt_key k;
    gt_addr a;
    tkey(0, &k, &a);
    gt_addr_to_str(&a, as);
    CHECK_EQ_INT(gt_keystore_save(home, &k, "pw", &light, path, sizeof path, NULL), 0);
    snprintf(path, sizeof path, "%s/pw", home);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("pw", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s task claim 0x%064d --node http://127.0.0.1:%u --home %s --from %s "
             "--password-file %s 2>&1", GT_CLI, 7, (unsigned)PORT, home, as, path);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) return;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 1, "gotong task claim exited with %d: %s", st, out);
    char want[400]; /* the node's message, after the kind the client puts before every refusal */
    snprintf(want, sizeof want, "error: task_claim: this node settles the market on chain %llu at %s; its embedded "
             "ledger takes no task_claim nor any other market or work action (tasks, slots, votes, agent cards, "
             "attestations, datasets): post and hire with `gotong chain post` / `gotong chain hire`\n",
             (unsigned long long)C.chain_id, anvil_url);
    CHECK_CONTAINS(out, want);
}

int main(void) {
    anvil_require(1);
    if (anvil_start(&C)) return 1;
    gt_err err = {0};
    CHECK_EQ_INT(gt_work_register(&err), 0); /* eval_attest, besides the market's kinds */
    const char *home = thome(DIR_);
    deploy(home);
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = home;
    c.listen = "127.0.0.1:0";
    c.block_interval_ms = 0;
    c.access_log = 0;
    c.chain_url = anvil_url;
    gt_node *n = NULL;
    CHECK_MSG(gt_node_start(&c, &n, &err) == 0, "%s", err.msg);
    if (!n) return gt_test_finish();
    PORT = gt_node_port(n);
    H = curl_easy_init();
    test_market_refused();
    test_batch_and_transfer();
    test_cli_shows_refusal(home);
    curl_easy_cleanup(H);
    gt_node_stop(n);
    trm(DIR_);
    gt_chain_account_wipe(&DEPLOYER);
    gt_chain_close(&C);
    anvil_stop();
    return gt_test_finish();
}
