/* test_chain_cli.c: `gotong chain demo` against a real anvil: the contracts
 * deployed, one job through post -> claim -> submit -> complete, the worker
 * paid and its stake back; refused without --rpc, with contracts missing,
 * and on a URL that is not http(s). Skipped (exit 77) with a message
 * when anvil or the compiled contracts are missing. */
#include "../test.h"
#include "anvil.h"

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

int main(void) {
    anvil_require(1);
    gt_chain c;
    if (anvil_start(&c)) return 1;
    RUN(test_demo_runs_a_job);
    RUN(test_demo_refusals);
    gt_chain_close(&c);
    anvil_stop();
    return gt_test_finish();
}
