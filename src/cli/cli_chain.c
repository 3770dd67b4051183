/* cli_chain.c: `gotong chain deploy` deploys gotong's contracts with a
 * keystore wallet and records their addresses in HOME/chain.json.
 * `gotong chain demo`: gotong's contracts on a development EVM
 * chain (anvil), end to end from the C chain client: deploys the test token
 * and the job escrow, funds fresh wallets, and runs one job through post ->
 * claim -> submit -> complete, printing each transaction's gas and the
 * balances after. The wallets are fresh keys funded with anvil_setBalance,
 * so the demo refuses a chain that is not a development one. `chain pay`
 * is here too; `chain hire` (cli_chain_hire.c), `chain post`
 * (cli_chain_post.c) and `chain court` (cli_chain_court.c) are dispatched
 * from here with this usage text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/json.h"
#include "base/hex.h"
#include "chain/abi_decode.h"
#include "chain/court.h"
#include "chain/x402.h"
#include "chain/escrow.h"
#include "cli/cli.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"

#ifndef GT_CONTRACTS_DIR
#define GT_CONTRACTS_DIR "contracts-build"
#endif

static const char usage_text[] =
    "usage: gotong chain demo --rpc URL [--contracts DIR]\n"
    "       gotong chain deploy --rpc URL [--home DIR] [--from ADDR] [--password-file F] [--contracts DIR]\n"
    "       gotong chain pay URL --budget UNITS [--home DIR] [--from ADDR] [--password-file F]\n"
    "       gotong chain hire --input FILE --budget UNITS [--skill S] [--stake UNITS] [--fee UNITS]\n"
    "                         [--expires-s S] [--wait-s S] [--rpc URL] [--home DIR] [--from ADDR]\n"
    "                         [--password-file F]\n"
    "       gotong chain post --slots K --quorum N --input FILE --budget UNITS --stake UNITS [--fee UNITS]\n"
    "                         [--submit-s S] [--verify-s S] [--expires-s S] [--rpc URL] [--home DIR]\n"
    "                         [--from ADDR] [--password-file F]\n"
    "       gotong chain court stake|exit --amount UNITS [--rpc URL] [--home DIR] [--from ADDR] [--password-file F]\n"
    "       gotong chain court withdraw|status [--rpc URL] [--home DIR] [--from ADDR] [--password-file F]\n"
    "\n"
    "deploy: deploys gotong's token, dispute court, job escrow (bound to the court),\n"
    "agent registry and ERC-8004 reputation and validation registries with a\n"
    "wallet of HOME/keystore (which pays the gas) and records their addresses in\n"
    "HOME/chain.json; refuses when that file exists (delete it to deploy again).\n"
    "The court's windows: a rejected worker has one\n"
    "day to dispute, judges one day to commit and one to reveal, and leaving the\n"
    "validators takes 14 days.\n"
    "\n"
    "pay: GETs URL and, when it answers 402 (x402 v2, exact scheme), pays it from\n"
    "the wallet in the token and on the chain HOME/chain.json names, if the price\n"
    "is within --budget (base units); prints the body on stdout and the payment's\n"
    "transaction on stderr. A price over the budget is refused without signing.\n"
    "\n"
    "hire: finds a worker and an evaluator offering --skill (default text.wordcount)\n"
    "through the agent registry and their agent cards (/.well-known/agent-card.json),\n"
    "posts the job on the escrow with --budget (and --stake asked of the worker;\n"
    "--fee, at most the stake, is the evaluator's for its verdict, paid by you on\n"
    "completion or out of the worker's stake on a final rejection, refunded on expiry),\n"
    "sends FILE to both agents' nodes (gotong node --chain), waits up to --wait-s\n"
    "(default 120) for the evaluator's verdict on chain and prints the worker's result,\n"
    "checked against the hash it submitted. A rejection or a timeout exits 1.\n"
    "\n"
    "post: posts a quorum task (the escrow's postQuorumSlots): --slots K (1 to 64)\n"
    "jobs open to any worker, one claim per worker, each with --budget, --stake asked\n"
    "of its worker and --fee (0 to the stake) for the deciding voters, judged by its own\n"
    "round of the dispute court's validators (staking at least the stake) with\n"
    "--quorum N (1 to 16) voters at least on the deciding side. Each slot is timed:\n"
    "--submit-s (default 3600) from a claim to the submission, --verify-s (default\n"
    "3600) for the round's vote; claims until --expires-s (default 86400) from now.\n"
    "The description hash is FILE's keccak-256. (budget + fee) x slots is approved\n"
    "and escrowed at once; prints the task id (its first slot's job id) and exits.\n"
    "\n"
    "court: the wallet as a validator of the dispute court, drawn for panels by its\n"
    "stake; its `gotong node --chain` then judges the cases it sits on. stake\n"
    "approves the court for --amount (base units) and stakes it (1 token, 1000000,\n"
    "at least in all); exit requests --amount of the free stake out (what stays is\n"
    "0 or at least 1 token), paid by withdraw once the court's unbonding time (14\n"
    "days for `chain deploy`'s court) is over; status prints the stake. What the\n"
    "court would refuse is told before anything is sent.\n"
    "\n"
    "demo: "
    "runs one gotong job on a development EVM chain (anvil) through the chain\n"
    "client: deploys the test token and the job escrow, gives fresh wallets ETH\n"
    "(anvil_setBalance) and tokens, then post -> claim -> submit -> complete,\n"
    "printing each transaction's gas and the balances after.\n"
    "\n"
    "  --rpc URL        the chain's JSON-RPC endpoint, e.g. http://127.0.0.1:8545\n"
    "  --contracts DIR  the compiled contracts (<Name>.bin), default " GT_CONTRACTS_DIR "\n"
    "  --home DIR       data directory (default ~/.gotong or $GOTONG_HOME)\n"
    "  --from ADDR      the deploying wallet (default: the only one in the keystore)\n"
    "  --password-file F  its password (default: asked on the terminal)\n"
    "\n"
    "Start a chain with: .cache/npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil --max-persisted-states 0\n"
    "(without that option anvil keeps old states under ~/.foundry/anvil/tmp after it stops)\n";

enum { DEPLOYER, CLIENT, WORKER, VERIFIER, ROLES };
static const char *const ROLE_NAME[ROLES] = {"deployer", "client", "worker", "verifier"};

typedef struct demo {
    gt_chain c;
    gt_chain_account acct[ROLES];
    gt_addr token, escrow;
    const char *dir;
} demo;

/* Fresh keys, each given 10 ETH by the development chain. */
static int fund_wallets(demo *d, gt_err *err) {
    for (int i = 0; i < ROLES; i++) {
        gt_key k;
        json_t *res = NULL;
        int rc = gt_key_generate(&k, err);
        if (!rc) rc = gt_chain_account_init(&d->acct[i], &k, err);
        gt_key_wipe(&k);
        json_t *params = json_pack("[o,s]", gt_rpc_data(d->acct[i].addr.b, 20), "0x8ac7230489e80000"); /* 10 ETH */
        if (!rc) rc = gt_rpc_call(d->c.rpc, "anvil_setBalance", params, &res, err);
        else json_decref(params);
        json_decref(res);
        if (rc) return gt_err_wrap(err, "funding the %s's wallet (the demo needs a development chain such as anvil)",
                                   ROLE_NAME[i]);
    }
    return 0;
}

/* One token call (mint, approve) from a, waited for. */
static int token_call(demo *d, gt_chain_account *a, const char *sig, const gt_abi_val *args, size_t n, gt_err *err) {
    gt_buf data = GT_BUF_INIT;
    gt_chain_receipt r = {0};
    int rc = gt_abi_calldata(sig, args, n, &data, err);
    if (!rc) rc = gt_chain_transact(&d->c, a, &d->token, data.data, data.len, &r, err);
    gt_chain_receipt_free(&r);
    gt_buf_free(&data);
    return rc ? gt_err_wrap(err, "%s", sig) : 0;
}

/* Token and escrow deployed; client and worker hold tokens and have approved the escrow. */
static int deploy(demo *d, gt_err *err) {
    char path[4200], addr[GT_ADDR_STR_BYTES];
    uint64_t gas = 0;
    snprintf(path, sizeof path, "%s/GotongToken.bin", d->dir);
    int rc = gt_chain_deploy_file(&d->c, &d->acct[DEPLOYER], path, NULL, 0, &d->token, &gas, err);
    if (rc) return rc;
    gt_addr_to_str(&d->token, addr);
    printf("deployed GotongToken  %s  gas %llu\n", addr, (unsigned long long)gas);
    static const gt_addr no_court; /* the demo's job is accepted: no dispute court */
    gt_abi_val ctor[] = {gt_abi_address(&d->token), gt_abi_address(&no_court)};
    snprintf(path, sizeof path, "%s/JobEscrow.bin", d->dir);
    if ((rc = gt_chain_deploy_file(&d->c, &d->acct[DEPLOYER], path, ctor, 2, &d->escrow, &gas, err))) return rc;
    gt_addr_to_str(&d->escrow, addr);
    printf("deployed JobEscrow    %s  gas %llu\n", addr, (unsigned long long)gas);
    uint8_t max[32];
    memset(max, 0xff, sizeof max);
    for (int i = CLIENT; i <= WORKER && !rc; i++) {
        gt_abi_val mint[] = {gt_abi_address(&d->acct[i].addr), gt_abi_uint(10000)};
        gt_abi_val approve[] = {gt_abi_address(&d->escrow), gt_abi_u256(max)};
        rc = token_call(d, &d->acct[DEPLOYER], "mint(address,uint256)", mint, 2, err);
        if (!rc) rc = token_call(d, &d->acct[i], "approve(address,uint256)", approve, 2, err);
    }
    return rc;
}

static int balance(demo *d, const gt_addr *who, uint64_t *out, gt_err *err) {
    gt_abi_val a[] = {gt_abi_address(who)};
    gt_buf data = GT_BUF_INIT, res = GT_BUF_INIT;
    int rc = gt_abi_calldata("balanceOf(address)", a, 1, &data, err);
    if (!rc) rc = gt_chain_call(&d->c, NULL, &d->token, data.data, data.len, &res, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 0, out, err);
    gt_buf_free(&data);
    gt_buf_free(&res);
    return rc;
}

/* The latest block's timestamp. */
static int chain_time(demo *d, uint64_t *out, gt_err *err) {
    json_t *blk = NULL;
    int rc = gt_rpc_call(d->c.rpc, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0), &blk, err);
    if (!rc) rc = gt_rpc_to_u64(json_object_get(blk, "timestamp"), out, "the latest block's timestamp", err);
    json_decref(blk);
    return rc;
}

/* post -> claim -> submit -> complete, each printed with its gas. */
static int run_job(demo *d, gt_err *err) {
    uint8_t desc[32], result[32], verdict[32];
    uint64_t now = 0, id = 0, g[4] = {0};
    gt_keccak256("demo job: say hello", 19, desc);
    gt_keccak256("hello", 5, result);
    gt_keccak256("re-executed: equal", 18, verdict);
    int rc = chain_time(d, &now, err);
    if (!rc) rc = gt_escrow_post(&d->c, &d->escrow, &d->acct[CLIENT], &d->acct[VERIFIER].addr, now + 3600, desc,
                                 1000, 100, &id, &g[0], err);
    if (!rc) printf("post      job %llu, budget 1000, stake 100   gas %llu\n", (unsigned long long)id,
                    (unsigned long long)g[0]);
    if (!rc) rc = gt_escrow_do(&d->c, &d->escrow, &d->acct[WORKER], GT_ESCROW_CLAIM, id, NULL, &g[1], err);
    if (!rc) printf("claim     by the worker, stake locked       gas %llu\n", (unsigned long long)g[1]);
    if (!rc) rc = gt_escrow_do(&d->c, &d->escrow, &d->acct[WORKER], GT_ESCROW_SUBMIT, id, result, &g[2], err);
    if (!rc) printf("submit    the result's hash                 gas %llu\n", (unsigned long long)g[2]);
    if (!rc) rc = gt_escrow_do(&d->c, &d->escrow, &d->acct[VERIFIER], GT_ESCROW_COMPLETE, id, verdict, &g[3], err);
    if (!rc) printf("complete  by the verifier, worker paid      gas %llu\n", (unsigned long long)g[3]);
    gt_escrow_job job;
    if (!rc) rc = gt_escrow_get(&d->c, &d->escrow, id, &job, err);
    if (!rc) printf("job %llu: %s; gas for the lifecycle: %llu\n", (unsigned long long)id,
                    gt_escrow_status_name(job.status), (unsigned long long)(g[0] + g[1] + g[2] + g[3]));
    return rc;
}

static int demo_run(demo *d, const char *rpc, gt_err *err) {
    int rc = gt_chain_open(rpc, &d->c, err);
    if (rc) return rc;
    printf("chain %s, id %llu\n", rpc, (unsigned long long)d->c.chain_id);
    if (!(rc = fund_wallets(d, err)) && !(rc = deploy(d, err))) rc = run_job(d, err);
    for (int i = CLIENT; i <= WORKER && !rc; i++) {
        uint64_t b = 0;
        if (!(rc = balance(d, &d->acct[i].addr, &b, err)))
            printf("%-8s balance %llu (of 10000 minted)\n", ROLE_NAME[i], (unsigned long long)b);
    }
    for (int i = 0; i < ROLES; i++) gt_chain_account_wipe(&d->acct[i]);
    gt_chain_close(&d->c);
    return rc;
}

/* Deploys name with args from a; prints and records its address in j. */
static int deploy_one(gt_chain *c, gt_chain_account *a, const char *dir, const char *name, const gt_abi_val *args,
                      size_t n, gt_addr *at, json_t *j, gt_err *err) {
    char path[4200], text[GT_ADDR_STR_BYTES];
    uint64_t gas = 0;
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    int rc = gt_chain_deploy_file(c, a, path, args, n, at, &gas, err);
    if (rc) return gt_err_wrap(err, "deploying %s", name);
    gt_addr_to_str(at, text);
    printf("deployed %-18s %s  gas %llu\n", name, text, (unsigned long long)gas);
    json_object_set_new(j, name, json_string(text));
    return 0;
}

/* Court and escrow, bound to each other; prints and records both in j. */
static int deploy_court(gt_chain *c, gt_chain_account *a, const char *dir, const gt_addr *token, json_t *j,
                        gt_err *err) {
    static const gt_court_windows w = {86400, 86400, 86400, 14 * 86400, GT_COURT_SEED_LINKS};
    char text[GT_ADDR_STR_BYTES];
    gt_addr court, escrow;
    uint64_t gas = 0;
    int rc = gt_court_deploy(c, a, dir, token, &w, &court, &escrow, &gas, err);
    if (rc) return gt_err_wrap(err, "deploying the dispute court and the job escrow");
    gt_addr_to_str(&court, text);
    printf("deployed %-18s %s\n", "DisputeCourt", text);
    json_object_set_new(j, "DisputeCourt", json_string(text));
    gt_addr_to_str(&escrow, text);
    printf("deployed %-18s %s  gas %llu (both, and the court bound to the escrow)\n", "JobEscrow", text,
           (unsigned long long)gas);
    json_object_set_new(j, "JobEscrow", json_string(text));
    return 0;
}

/* Token, court, escrow, the agent registry and ERC-8004's reputation and
 * validation registries over it, from the wallet; j gets their addresses. */
static int deploy_all(gt_chain *c, gt_chain_account *a, const char *dir, json_t *j, gt_err *err) {
    gt_addr token, registry;
    int rc = deploy_one(c, a, dir, "GotongToken", NULL, 0, &token, j, err);
    if (!rc) rc = deploy_court(c, a, dir, &token, j, err);
    if (!rc) rc = deploy_one(c, a, dir, "AgentRegistry", NULL, 0, &registry, j, err);
    gt_abi_val id[] = {gt_abi_address(&registry)}; /* ERC-8004's registries over the identity registry */
    gt_addr reputation, validation;
    if (!rc) rc = deploy_one(c, a, dir, "ReputationRegistry", id, 1, &reputation, j, err);
    if (!rc) rc = deploy_one(c, a, dir, "ValidationRegistry", id, 1, &validation, j, err);
    return rc;
}

/* `chain deploy`: the wallet's key, the deployments, HOME/chain.json. */
static int deploy_run(const char *rpc, const char *home, const char *from, const char *pw, const char *dir,
                      gt_err *err) {
    char home_path[4096], out[4200], text[GT_ADDR_STR_BYTES];
    int rc = gt_cli_home(home, home_path, sizeof home_path, err);
    if (rc) return rc;
    snprintf(out, sizeof out, "%s/chain.json", home_path);
    if (gt_file_exists(out))
        return gt_err_set(err, GT_EEXIST, "%s exists: the contracts are already deployed (delete it to deploy again)",
                          out);
    gt_key k;
    gt_chain c;
    gt_chain_account a;
    if ((rc = gt_cli_load_key(home, from, pw, &k, NULL, err))) return rc;
    rc = gt_chain_account_init(&a, &k, err);
    gt_key_wipe(&k);
    if (rc || (rc = gt_chain_open(rpc, &c, err))) return rc;
    json_t *j = json_object();
    gt_addr_to_str(&a.addr, text);
    json_object_set_new(j, "chain_id", json_integer((json_int_t)c.chain_id));
    json_object_set_new(j, "rpc", json_string(rpc));
    json_object_set_new(j, "deployer", json_string(text));
    uint64_t first = 0; /* the chain index starts at the block after this one */
    if (!(rc = gt_chain_block_number(&c, &first, err)))
        json_object_set_new(j, "from_block", json_integer((json_int_t)first + 1));
    if (!rc && !(rc = deploy_all(&c, &a, dir, j, err))) {
        char *body = gt_json_dump(j);
        rc = body ? gt_file_write_atomic(out, body, strlen(body), 0644, err)
                  : gt_err_set(err, GT_ENOMEM, "out of memory");
        free(body);
        if (!rc) printf("recorded in %s (chain %llu)\n", out, (unsigned long long)c.chain_id);
    }
    json_decref(j);
    gt_chain_account_wipe(&a);
    gt_chain_close(&c);
    return rc;
}

#define CHAIN_JSON_MAX (64u << 10) /* HOME/chain.json, at most */

/* The chain id and token HOME/chain.json records (after `chain deploy`). */
static int read_deployment(const char *home, uint64_t *chain_id, gt_addr *token, gt_err *err) {
    char home_path[4096], path[4200];
    int rc = gt_cli_home(home, home_path, sizeof home_path, err);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/chain.json", home_path);
    uint8_t *text = NULL;
    size_t len = 0;
    json_t *j = NULL;
    const char *t = NULL;
    if (!(rc = gt_file_read(path, CHAIN_JSON_MAX, &text, &len, err)))
        rc = gt_json_parse((const char *)text, len, CHAIN_JSON_MAX, &j, err);
    if (!rc) rc = gt_json_get_u64(j, "chain_id", chain_id, err);
    if (!rc) rc = gt_json_get_str(j, "GotongToken", 42, &t, err);
    if (!rc) rc = gt_addr_parse(t, token, err);
    json_decref(j);
    gt_free(text);
    return rc ? gt_err_wrap(err, "%s (written by gotong chain deploy)", path) : 0;
}

/* `chain pay`: one GET, paid within the budget when it answers 402. */
static int pay_run(const char *url, uint64_t budget, const char *home, const char *from, const char *pw,
                   gt_err *err) {
    gt_x402_wallet w = {.budget = budget};
    gt_key k;
    int rc = read_deployment(home, &w.chain_id, &w.asset, err);
    if (rc || (rc = gt_cli_load_key(home, from, pw, &k, NULL, err))) return rc;
    w.key = &k;
    gt_buf body = GT_BUF_INIT;
    long status = 0;
    int paid = 0;
    uint8_t tx[32];
    rc = gt_x402_get(url, &w, &status, &body, &paid, tx, err);
    gt_key_wipe(&k);
    if (!rc && status / 100 != 2) rc = gt_err_set(err, GT_EIO, "%s answered %ld", url, status);
    if (!rc && body.len && fwrite(body.data, 1, body.len, stdout) != body.len)
        rc = gt_err_set(err, GT_EIO, "writing the body to stdout failed");
    if (!rc && paid) {
        char h[67] = "0x";
        gt_hex_encode(tx, 32, h + 2);
        fprintf(stderr, "paid %llu base units (budget %llu), transaction %s\n", (unsigned long long)w.spent,
                (unsigned long long)budget, h);
    }
    gt_buf_free(&body);
    return rc;
}

static int cmd_chain(int argc, char **argv) {
    static const char *const subs[] = {"demo", "deploy", "pay", "hire", "post", "court", NULL};
    int which;
    int rc = gt_cli_subcommand_text("chain", argc, argv, subs, usage_text, &which);
    if (rc >= 0) return rc;
    if (which == 3) return gt_cli_chain_hire(argc, argv, usage_text);
    if (which == 4) return gt_cli_chain_post(argc, argv, usage_text);
    if (which == 5) return gt_cli_chain_court(argc - 1, argv + 1, usage_text);
    const char *rpc = NULL, *dir = GT_CONTRACTS_DIR, *home = NULL, *from = NULL, *pw = NULL;
    const char *name = which == 0 ? "chain demo" : which == 1 ? "chain deploy" : "chain pay";
    uint64_t budget = 0;
    const gt_cli_opt demo_opts[] = {{"--rpc", NULL, GT_CLI_OPT_STR, &rpc, 0, 0, NULL},
                                    {"--contracts", NULL, GT_CLI_OPT_STR, &dir, 0, 0, NULL},
                                    {NULL, NULL, 0, NULL, 0, 0, NULL}};
    const gt_cli_opt deploy_opts[] = {{"--rpc", NULL, GT_CLI_OPT_STR, &rpc, 0, 0, NULL},
                                      {"--contracts", NULL, GT_CLI_OPT_STR, &dir, 0, 0, NULL},
                                      {"--home", NULL, GT_CLI_OPT_STR, &home, 0, 0, NULL},
                                      {"--from", NULL, GT_CLI_OPT_STR, &from, 0, 0, NULL},
                                      {"--password-file", NULL, GT_CLI_OPT_STR, &pw, 0, 0, NULL},
                                      {NULL, NULL, 0, NULL, 0, 0, NULL}};
    const gt_cli_opt pay_opts[] = {{"--budget", NULL, GT_CLI_OPT_U64, &budget, 1, UINT64_MAX, NULL},
                                   {"--home", NULL, GT_CLI_OPT_STR, &home, 0, 0, NULL},
                                   {"--from", NULL, GT_CLI_OPT_STR, &from, 0, 0, NULL},
                                   {"--password-file", NULL, GT_CLI_OPT_STR, &pw, 0, 0, NULL},
                                   {NULL, NULL, 0, NULL, 0, 0, NULL}};
    const char *pos[1] = {NULL};
    int n_pos = 0;
    const gt_cli_opt *opts = which == 0 ? demo_opts : which == 1 ? deploy_opts : pay_opts;
    rc = gt_cli_parse_text(name, argc - 1, argv + 1, 1, opts, which == 2 ? pos : NULL, which == 2 ? 1 : 0,
                           which == 2 ? &n_pos : NULL, usage_text);
    if (rc >= 0) return rc;
    gt_err err;
    if (which == 2) {
        if (n_pos != 1 || !budget)
            return gt_cli_usage_error(name, "a URL and --budget UNITS (at least 1) are required");
        return pay_run(pos[0], budget, home, from, pw, &err) ? gt_cli_fail(&err) : GT_CLI_EXIT_OK;
    }
    if (!rpc) return gt_cli_usage_error(name, "--rpc URL is required");
    if (which == 1) return deploy_run(rpc, home, from, pw, dir, &err) ? gt_cli_fail(&err) : GT_CLI_EXIT_OK;
    demo d = {.dir = dir};
    if (demo_run(&d, rpc, &err)) return gt_cli_fail(&err);
    return GT_CLI_EXIT_OK;
}

GT_CLI_COMMAND(chain_cmd, "chain", "gotong's contracts on an EVM chain: deploy them, or run one job on anvil (demo)",
               cmd_chain)
