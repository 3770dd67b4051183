/* test_chain_cli.c: `gotong chain deploy` with a keystore wallet (the
 * addresses recorded in HOME/chain.json, code at each, a second deploy
 * refused, each contract's runtime code within EIP-170's 24,576 bytes), and
 * `gotong chain demo` against a real anvil: the contracts
 * deployed, one job through post -> claim -> submit -> complete, the worker
 * paid and its stake back; refused without --rpc, with contracts missing,
 * and on a URL that is not http(s). Skipped (exit 77) with a message
 * when anvil or the compiled contracts are missing. */
#include "../test.h"
#include "anvil.h"
#include "crypto/addr.h"

/* Runs cmd; returns its output (static) and exit status in *status. */
static const char *run(const char *cmd, int *status) {
    static char out[16384];
    size_t n = 0;
    out[0] = 0;
    FILE *f = popen(cmd, "r");
    if (!f) {
        *status = -1;
        return out;
    }
    n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    int st = pclose(f);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

static void test_demo_runs_a_job(void) {
    char cmd[512];
    int st;
    snprintf(cmd, sizeof cmd, "%s chain demo --rpc %s 2>&1", GT_CLI, anvil_url);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0, "exit %d: %s", st, out);
    CHECK_CONTAINS(out, "deployed JobEscrow");
    CHECK_CONTAINS(out, "job 1: completed; gas for the lifecycle:");
    CHECK_CONTAINS(out, "client   balance 9000 (of 10000 minted)");
    CHECK_CONTAINS(out, "worker   balance 11000 (of 10000 minted)");
}

static void test_demo_refusals(void) {
    char cmd[512];
    int st;
    snprintf(cmd, sizeof cmd, "%s chain demo 2>&1", GT_CLI);
    CHECK_CONTAINS(run(cmd, &st), "--rpc URL is required");
    CHECK_EQ_INT(st, 2);
    snprintf(cmd, sizeof cmd, "%s chain demo --rpc %s --contracts /nonexistent-gotong 2>&1", GT_CLI, anvil_url);
    CHECK_CONTAINS(run(cmd, &st), "/nonexistent-gotong/GotongToken.bin");
    CHECK_EQ_INT(st, 1);
    snprintf(cmd, sizeof cmd, "%s chain demo --rpc ftp://127.0.0.1:1 2>&1", GT_CLI);
    CHECK_CONTAINS(run(cmd, &st), "must start with http:// or https://");
    CHECK_EQ_INT(st, 1);
}

/* A wallet made by `gotong wallet new`, funded by anvil, deploys the three
 * contracts; chain.json names them and each holds code. */
static void test_deploy_with_wallet(void) {
    char home[] = "/tmp/gt-chain-cli-XXXXXX", cmd[1024], pw[600];
    int st;
    CHECK(mkdtemp(home) != NULL);
    snprintf(pw, sizeof pw, "%s/pw", home);
    FILE *f = fopen(pw, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("chain test password\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s wallet new --home %s --password-file %s --light --json 2>&1", GT_CLI, home, pw);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0, "wallet new: %s", out);
    json_t *w = json_loads(out, 0, NULL);
    const char *addr = json_string_value(json_object_get(w, "address"));
    CHECK_MSG(addr != NULL, "wallet new --json: %s", out);
    gt_chain c;
    gt_addr who;
    CHECK_EQ_INT(gt_chain_open(anvil_url, &c, NULL), 0);
    if (addr && !gt_addr_parse(addr, &who, NULL))
        CHECK_EQ_INT(anvil_rpc(&c, "anvil_setBalance", json_pack("[o,s]", gt_rpc_data(who.b, 20), "0xde0b6b3a7640000")), 0);
    snprintf(cmd, sizeof cmd, "%s chain deploy --rpc %s --home %s --password-file %s 2>&1", GT_CLI, anvil_url, home, pw);
    out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain deploy: %s", out);
    CHECK_CONTAINS(out, "deployed JobEscrow");
    char path[700];
    snprintf(path, sizeof path, "%s/chain.json", home);
    json_t *j = json_load_file(path, 0, NULL);
    CHECK(j != NULL);
    CHECK_EQ_U64((uint64_t)json_integer_value(json_object_get(j, "chain_id")), 31337);
    CHECK_STR(json_string_value(json_object_get(j, "deployer")), addr ? addr : "?");
    const char *names[] = {"GotongToken", "DisputeCourt", "JobEscrow", "AgentRegistry", "ReputationRegistry",
                           "ValidationRegistry"};
    for (int i = 0; i < 6; i++) {
        gt_addr at;
        json_t *code = NULL;
        const char *s = json_string_value(json_object_get(j, names[i]));
        CHECK_MSG(s && !gt_addr_parse(s, &at, NULL), "chain.json has no %s", names[i]);
        if (!s) continue;
        CHECK_EQ_INT(gt_rpc_call(c.rpc, "eth_getCode", json_pack("[s,s]", s, "latest"), &code, NULL), 0);
        CHECK_MSG(json_string_value(code) && strlen(json_string_value(code)) > 100, "no code at %s", s);
        /* EIP-170: a contract's runtime code is at most 24,576 bytes (anvil enforces it too). */
        size_t bytes = json_string_value(code) ? (strlen(json_string_value(code)) - 2) / 2 : 0;
        CHECK_MSG(bytes <= 24576, "%s's runtime code is %zu bytes, over EIP-170's 24,576", names[i], bytes);
        printf("runtime code of %s: %zu bytes (EIP-170: 24,576)\n", names[i], bytes);
        json_decref(code);
    }
    out = run(cmd, &st);
    CHECK_EQ_INT(st, 1);
    CHECK_CONTAINS(out, "already deployed");
    json_decref(j);
    json_decref(w);
    gt_chain_close(&c);
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void) {
    anvil_require(1);
    gt_chain c;
    if (anvil_start(&c)) return 1;
    RUN(test_demo_runs_a_job);
    RUN(test_demo_refusals);
    RUN(test_deploy_with_wallet);
    gt_chain_close(&c);
    anvil_stop();
    return gt_test_finish();
}
