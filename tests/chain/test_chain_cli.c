/* test_chain_cli.c: `gotong chain deploy` with a keystore wallet (the
 * addresses recorded in HOME/chain.json, code at each, a second deploy
 * refused, each contract's runtime code within EIP-170's 24,576 bytes), and
 * `gotong chain demo` against a real anvil: the contracts
 * deployed, one job through post -> claim -> submit -> complete, the worker
 * paid and its stake back; refused without --rpc, with contracts missing,
 * and on a URL that is not http(s); `gotong chain post` posting a quorum
 * task of three slots, each slot's terms, quorum and phases read back from
 * the chain, and its bad inputs (slots 0 or over 64, a quorum without
 * slots, slots without a quorum, a quorum over 16, no stake, a fee over the
 * stake, more than the wallet holds) refused, nothing posted; `gotong chain
 * court` bonding a wallet into the court (stake, status, exit, withdraw after
 * the unbonding time; its bad inputs refused, nothing sent). Skipped (exit 77) with a message
 * when anvil or the compiled contracts are missing. */
#include "../test.h"
#include "anvil.h"
#include "chain/escrow.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"

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

/* Word `word` of the view sig(args) on contract at, as a u64 (UINT64_MAX when unread). */
static uint64_t view_u64(gt_chain *c, const gt_addr *at, const char *sig, const gt_abi_val *args, size_t n,
                         size_t word) {
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    uint64_t v = UINT64_MAX;
    gt_err err;
    int rc = gt_abi_calldata(sig, args, n, &d, &err);
    if (!rc) rc = gt_chain_call(c, NULL, at, d.data, d.len, &out, &err);
    if (!rc) rc = gt_abi_get_u64(out.data, out.len, word, &v, &err);
    CHECK_MSG(rc == 0, "%s: %s", sig, err.msg);
    gt_buf_free(&d);
    gt_buf_free(&out);
    return v;
}

static void read_addr(const json_t *j, const char *name, gt_addr *out) {
    const char *s = json_string_value(json_object_get(j, name));
    CHECK_MSG(s && !gt_addr_parse(s, out, NULL), "chain.json: %s", name);
}

/* A client's wallet (the deployer, so the token's minter) deploys, mints
 * itself tokens and posts a quorum task of 3 slots with `gotong chain post`;
 * the chain holds 3 funded slots of the task, each with the budget, stake,
 * fee, phases and quorum asked, judged by the court; bad inputs are usage
 * errors (exit 2) and a task over the wallet's balance the token's refusal
 * (exit 1), none of them posting anything. */
static void test_post_quorum_task(void) {
    static const gt_kdf_params light = {GT_KDF_LIGHT_N, 8, GT_KDF_LIGHT_P};
    enum { SLOTS = 3, QUORUM = 2, BUDGET = 700, STAKE = 300, FEE = 40, SUBMIT_S = 900, VERIFY_S = 1200 };
    char home[] = "/tmp/gt-chain-post-XXXXXX", cmd[2048], pw[600], input[600], path[700], base[1800];
    int st;
    gt_chain c;
    gt_chain_account me;
    gt_err err;
    CHECK(mkdtemp(home) != NULL);
    snprintf(pw, sizeof pw, "%s/pw", home);
    snprintf(input, sizeof input, "%s/input.txt", home);
    FILE *f = fopen(pw, "w"), *g = fopen(input, "w");
    CHECK(f != NULL && g != NULL);
    if (!f || !g) return;
    fputs("quorum client's password", f);
    fputs("label these three batches\n", g);
    fclose(f);
    fclose(g);
    CHECK_EQ_INT(gt_chain_open(anvil_url, &c, NULL), 0);
    CHECK_EQ_INT(anvil_account(&c, "chain cli quorum client", &me), 0);
    CHECK_MSG(gt_keystore_save(home, &me.key, "quorum client's password", &light, path, sizeof path, &err) == 0, "%s",
              err.msg);
    snprintf(cmd, sizeof cmd, "%s chain deploy --rpc %s --home %s --password-file %s 2>&1", GT_CLI, anvil_url, home,
             pw);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain deploy: %s", out);
    snprintf(path, sizeof path, "%s/chain.json", home);
    json_t *j = json_load_file(path, 0, NULL);
    CHECK(j != NULL);
    gt_addr token, escrow, court;
    read_addr(j, "GotongToken", &token);
    read_addr(j, "JobEscrow", &escrow);
    read_addr(j, "DisputeCourt", &court);
    json_decref(j);
    const uint64_t minted = (BUDGET + FEE) * SLOTS + 5;
    gt_abi_val mint[] = {gt_abi_address(&me.addr), gt_abi_uint(minted)};
    gt_chain_receipt r = {0};
    gt_chain_account_resync(&me); /* `gotong chain deploy` used this key */
    CHECK_MSG(gt_chain_invoke(&c, &token, &me, "mint(address,uint256)", mint, 2, &r, NULL, &err) == 0, "mint: %s",
              err.msg);
    gt_chain_receipt_free(&r);
    snprintf(base, sizeof base, "%s chain post --home %s --password-file %s --input %s", GT_CLI, home, pw, input);

    /* Bad inputs: a usage error naming what was wrong and what is expected; nothing sent. */
    static const struct {
        const char *args, *says;
    } bad[] = {
        {"--slots 0 --quorum 2 --budget 700 --stake 300", "--slots: expected an integer 1..64, got \"0\""},
        {"--slots 65 --quorum 2 --budget 700 --stake 300", "--slots: expected an integer 1..64, got \"65\""},
        {"--quorum 2 --budget 700 --stake 300", "--quorum without --slots: give the task's number of slots"},
        {"--slots 3 --budget 700 --stake 300", "--slots without --quorum"},
        {"--slots 3 --quorum 17 --budget 700 --stake 300", "--quorum: expected an integer 1..16, got \"17\""},
        {"--slots 3 --quorum 2 --budget 700", "--stake UNITS (at least 1) is required"},
        {"--slots 3 --quorum 2 --budget 700 --stake 300 --fee 301", "--fee is over --stake"},
        {"--slots 3 --quorum 2 --budget 700 --stake 300 --submit-s 0",
         "--submit-s: expected an integer 2..1000000"},
        {"--slots 64 --quorum 2 --budget 18446744073709551615 --stake 300", "overflows 64 bits"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s %s 2>&1", base, bad[i].args);
        out = run(cmd, &st);
        CHECK_MSG(st == 2, "chain post %s: exit %d: %s", bad[i].args, st, out);
        CHECK_MSG(strstr(out, bad[i].says) != NULL, "chain post %s: no \"%s\" in: %s", bad[i].args, bad[i].says, out);
    }
    CHECK_EQ_U64(view_u64(&c, &escrow, "jobCount()", NULL, 0, 0), 0);
    /* More than the wallet holds: the token's refusal, before anything is sent. */
    snprintf(cmd, sizeof cmd, "%s --slots %d --quorum %d --budget %d --stake %d --fee %d 2>&1", base, SLOTS + 1,
             QUORUM, BUDGET, STAKE, FEE);
    out = run(cmd, &st);
    CHECK_MSG(st == 1, "chain post over the balance: exit %d: %s", st, out);
    CHECK_CONTAINS(out, "token: balance too small");
    CHECK_EQ_U64(view_u64(&c, &escrow, "jobCount()", NULL, 0, 0), 0);

    uint64_t b0 = 0, e0 = 0, t0 = anvil_now(&c);
    CHECK_EQ_INT(anvil_token_balance(&c, &token, &me.addr, &b0), 0);
    CHECK_EQ_INT(anvil_token_balance(&c, &token, &escrow, &e0), 0);
    snprintf(cmd, sizeof cmd, "%s --slots %d --quorum %d --budget %d --stake %d --fee %d --submit-s %d --verify-s %d "
             "--expires-s 7200 2>&1", base, SLOTS, QUORUM, BUDGET, STAKE, FEE, SUBMIT_S, VERIFY_S);
    out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain post: exit %d: %s", st, out);
    printf("gotong chain post said:\n%s", out);
    CHECK_CONTAINS(out, "posted quorum task 1: slots 1..3 (3), quorum 2, each budget 700, stake 300, fee 40");
    CHECK_CONTAINS(out, "warning: this wallet runs no agent"); /* no node here: nobody can serve the input */
    uint64_t b1 = 0, e1 = 0;
    CHECK_EQ_INT(anvil_token_balance(&c, &token, &me.addr, &b1), 0);
    CHECK_EQ_INT(anvil_token_balance(&c, &token, &escrow, &e1), 0);
    CHECK_EQ_U64(b1, b0 - (BUDGET + FEE) * SLOTS);
    CHECK_EQ_U64(e1, e0 + (BUDGET + FEE) * SLOTS);
    CHECK_EQ_U64(view_u64(&c, &escrow, "jobCount()", NULL, 0, 0), SLOTS);
    gt_abi_val task[] = {gt_abi_uint(1)};
    CHECK_EQ_U64(view_u64(&c, &escrow, "tasks(uint256)", task, 1, 0), SLOTS); /* its slots */
    CHECK_EQ_U64(view_u64(&c, &escrow, "tasks(uint256)", task, 1, 3), 1);     /* one claim per worker */
    uint8_t desc[32];
    gt_keccak256("label these three batches\n", 26, desc);
    uint8_t topic[32];
    uint64_t head = 0, posted = 0;
    gt_chain_receipt logs = {0};
    gt_abi_event_topic("JobPosted(uint256,bytes32,uint256)", topic);
    CHECK_EQ_INT(gt_chain_block_number(&c, &head, NULL), 0);
    CHECK_MSG(gt_chain_get_logs(&c, &escrow, 1, 0, head, &logs, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < logs.n_logs; i++) { /* each slot posted with the input's keccak as its description */
        const gt_chain_log *l = &logs.logs[i];
        uint8_t d[32];
        if (l->n_topics == 2 && !memcmp(l->topics[0], topic, 32) && !gt_abi_get_word(l->data, l->data_len, 0, d, NULL))
            posted += !memcmp(d, desc, 32);
    }
    gt_chain_receipt_free(&logs);
    CHECK_EQ_U64(posted, SLOTS);
    for (uint64_t id = 1; id <= SLOTS; id++) {
        gt_escrow_job job;
        gt_escrow_phase ph;
        gt_abi_val a[] = {gt_abi_uint(id)};
        static const gt_addr nobody;
        CHECK_MSG(gt_escrow_get(&c, &escrow, id, &job, &err) == 0, "%s", err.msg);
        CHECK_EQ_INT(job.status, GT_ESCROW_FUNDED);
        CHECK(!job.claimed);
        CHECK(gt_addr_eq(&job.client, &me.addr));
        CHECK(gt_addr_eq(&job.evaluator, &court)); /* judged by the court's round */
        CHECK(gt_addr_eq(&job.provider, &nobody)); /* open to any worker */
        CHECK_EQ_U64(job.budget, BUDGET);
        CHECK_EQ_U64(job.stake, STAKE);
        CHECK(job.expired_at > t0 + 7200 - 60 && job.expired_at <= anvil_now(&c) + 7200);
        CHECK_MSG(gt_escrow_phases(&c, &escrow, id, &ph, &err) == 0, "%s", err.msg);
        CHECK_EQ_U64(ph.submit_s, SUBMIT_S);
        CHECK_EQ_U64(ph.verify_s, VERIFY_S);
        CHECK_EQ_U64(view_u64(&c, &escrow, "feeOf(uint256)", a, 1, 0), FEE);
        CHECK_EQ_U64(view_u64(&c, &court, "quorumOf(uint256)", a, 1, 0), QUORUM);
    }
    gt_chain_account_wipe(&me);
    gt_chain_close(&c);
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    CHECK_EQ_INT(system(cmd), 0);
}

/* The wallet's transactions sent so far (its nonce at the latest block). */
static uint64_t sent_count(gt_chain *c, const gt_addr *who) {
    json_t *res = NULL;
    uint64_t n = UINT64_MAX;
    CHECK_EQ_INT(gt_rpc_call(c->rpc, "eth_getTransactionCount", json_pack("[o,s]", gt_rpc_data(who->b, 20), "latest"),
                             &res, NULL), 0);
    gt_rpc_to_u64(res, &n, "nonce", NULL);
    json_decref(res);
    return n;
}

/* A wallet bonds into the court with `gotong chain court`: bad inputs are
 * refused with what the court would say, nothing sent (the wallet's nonce and
 * its stake unchanged); stake 1.5 tokens (the court approved for it, the
 * stake read back from validatorOf), status, an exit of what leaves at least
 * a token staked, a second exit and an early withdraw refused, the withdraw
 * after the court's 14 days of unbonding pays the exit back. */
static void test_court_stake(void) {
    static const gt_kdf_params light = {GT_KDF_LIGHT_N, 8, GT_KDF_LIGHT_P};
    enum { STAKE = 1500000, OUT = 500000, MINTED = 2000000 };
    char home[] = "/tmp/gt-chain-court-XXXXXX", cmd[2048], pw[600], path[700], wallet[1800];
    int st;
    gt_chain c;
    gt_chain_account me;
    gt_err err;
    CHECK(mkdtemp(home) != NULL);
    snprintf(pw, sizeof pw, "%s/pw", home);
    FILE *f = fopen(pw, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("validator's password", f);
    fclose(f);
    CHECK_EQ_INT(gt_chain_open(anvil_url, &c, NULL), 0);
    CHECK_EQ_INT(anvil_account(&c, "chain cli validator", &me), 0);
    CHECK_MSG(gt_keystore_save(home, &me.key, "validator's password", &light, path, sizeof path, &err) == 0, "%s",
              err.msg);
    snprintf(cmd, sizeof cmd, "%s chain deploy --rpc %s --home %s --password-file %s 2>&1", GT_CLI, anvil_url, home,
             pw);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain deploy: %s", out);
    snprintf(path, sizeof path, "%s/chain.json", home);
    json_t *j = json_load_file(path, 0, NULL);
    CHECK(j != NULL);
    gt_addr token, court;
    read_addr(j, "GotongToken", &token);
    read_addr(j, "DisputeCourt", &court);
    json_decref(j);
    gt_abi_val mint[] = {gt_abi_address(&me.addr), gt_abi_uint(MINTED)};
    gt_chain_receipt r = {0};
    gt_chain_account_resync(&me);
    CHECK_MSG(gt_chain_invoke(&c, &token, &me, "mint(address,uint256)", mint, 2, &r, NULL, &err) == 0, "mint: %s",
              err.msg);
    gt_chain_receipt_free(&r);
    gt_abi_val who[] = {gt_abi_address(&me.addr)};
    snprintf(wallet, sizeof wallet, "--home %s --password-file %s", home, pw);

    /* Refused before anything is sent: usage errors (2) and what the court would refuse (1). */
    static const struct {
        const char *args, *says;
        int exit;
    } bad[] = {
        {"stake", "--amount UNITS (base units) is required", 2},
        {"stake --amount 0", "--amount: expected an integer 1..", 2},
        {"stake --amount -5", "--amount", 2},
        {"stake --amount 999999", "a validator stakes at least 1000000 base units (1 token)", 1},
        {"stake --amount 2000001", "the wallet holds 2000000 base units of the token, under --amount 2000001", 1},
        {"exit --amount 1", "--amount 1 is over the free stake 0", 1},
        {"withdraw", "nothing to withdraw", 1},
        {"withdraw --amount 5", "unknown option", 2},
        {"bond --amount 5", "unknown chain court command \"bond\"", 2},
    };
    uint64_t nonce0 = sent_count(&c, &me.addr);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s chain court %s %s 2>&1", GT_CLI, bad[i].args, wallet);
        out = run(cmd, &st);
        CHECK_MSG(st == bad[i].exit, "chain court %s: exit %d: %s", bad[i].args, st, out);
        CHECK_MSG(strstr(out, bad[i].says) != NULL, "chain court %s: no \"%s\" in: %s", bad[i].args, bad[i].says,
                  out);
    }
    CHECK_EQ_U64(sent_count(&c, &me.addr), nonce0); /* nothing sent */
    CHECK_EQ_U64(view_u64(&c, &court, "validatorOf(address)", who, 1, 0), 0);

    snprintf(cmd, sizeof cmd, "%s chain court stake --amount %d %s 2>&1", GT_CLI, STAKE, wallet);
    out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain court stake: exit %d: %s", st, out);
    printf("gotong chain court stake said: %s", out);
    CHECK_CONTAINS(out, "staked 1500000: 1500000 staked in the court; gas approve ");
    CHECK_EQ_U64(view_u64(&c, &court, "validatorOf(address)", who, 1, 0), STAKE); /* active */
    CHECK_EQ_U64(view_u64(&c, &court, "validatorOf(address)", who, 1, 2), 1);     /* listed first */
    CHECK_EQ_U64(view_u64(&c, &court, "validatorCount()", NULL, 0, 0), 1);
    uint64_t bal = 0;
    CHECK_EQ_INT(anvil_token_balance(&c, &token, &me.addr, &bal), 0);
    CHECK_EQ_U64(bal, MINTED - STAKE);
    snprintf(cmd, sizeof cmd, "%s chain court status %s 2>&1", GT_CLI, wallet);
    out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain court status: exit %d: %s", st, out);
    CHECK_CONTAINS(out, "staked 1500000 (0 bonded on open cases), listed: drawn for panels (1 validators listed)");
    CHECK_CONTAINS(out, "token balance 500000");

    nonce0 = sent_count(&c, &me.addr);
    /* An exit that would leave 900000 staked: under the least stake, and not 0. */
    snprintf(cmd, sizeof cmd, "%s chain court exit --amount 600000 %s 2>&1", GT_CLI, wallet);
    out = run(cmd, &st);
    CHECK_EQ_INT(st, 1);
    CHECK_CONTAINS(out, "what stays staked (900000) must be 0 or at least 1000000 base units");
    CHECK_EQ_U64(sent_count(&c, &me.addr), nonce0);
    uint64_t t0 = anvil_now(&c);
    snprintf(cmd, sizeof cmd, "%s chain court exit --amount %d %s 2>&1", GT_CLI, OUT, wallet);
    out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain court exit: exit %d: %s", st, out);
    printf("gotong chain court exit said: %s", out);
    CHECK_CONTAINS(out, "exit of 500000 requested: 1000000 stays staked");
    CHECK_EQ_U64(view_u64(&c, &court, "validatorOf(address)", who, 1, 0), STAKE - OUT);
    CHECK_EQ_U64(view_u64(&c, &court, "validatorOf(address)", who, 1, 3), OUT); /* leaving */
    uint64_t leave_at = view_u64(&c, &court, "validatorOf(address)", who, 1, 4);
    CHECK(leave_at >= t0 + 14 * 86400 && leave_at <= anvil_now(&c) + 14 * 86400);
    nonce0 = sent_count(&c, &me.addr);
    snprintf(cmd, sizeof cmd, "%s chain court exit --amount 1 %s 2>&1", GT_CLI, wallet);
    CHECK_CONTAINS(run(cmd, &st), "an exit of 500000 base units is under way");
    CHECK_EQ_INT(st, 1);
    snprintf(cmd, sizeof cmd, "%s chain court withdraw %s 2>&1", GT_CLI, wallet);
    CHECK_CONTAINS(run(cmd, &st), "still unbonding: 500000 base units leave at chain time");
    CHECK_EQ_INT(st, 1);
    CHECK_EQ_U64(sent_count(&c, &me.addr), nonce0);
    CHECK_EQ_INT(anvil_advance(&c, leave_at - anvil_now(&c)), 0);
    out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain court withdraw: exit %d: %s", st, out);
    printf("gotong chain court withdraw said: %s", out);
    CHECK_CONTAINS(out, "withdrew 500000; 1000000 stays staked");
    CHECK_EQ_INT(anvil_token_balance(&c, &token, &me.addr, &bal), 0);
    CHECK_EQ_U64(bal, MINTED - STAKE + OUT);
    CHECK_EQ_U64(view_u64(&c, &court, "validatorOf(address)", who, 1, 3), 0);
    gt_chain_account_wipe(&me);
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
    RUN(test_post_quorum_task);
    RUN(test_court_stake);
    gt_chain_close(&c);
    anvil_stop();
    return gt_test_finish();
}
