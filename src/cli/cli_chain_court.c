/* cli_chain_court.c: `gotong chain court stake|exit|withdraw|status`: a
 * wallet bonds into the dispute court (contracts/DisputeCourt.sol) as a
 * validator, so that its `gotong node --chain` sits on the panels drawn from
 * the court's stake and judges (src/api/chain_judge.c). With the wallet and
 * the deployment of this home (HOME/chain.json):
 *   - stake --amount UNITS: approves the court for the amount, then stake();
 *   - exit --amount UNITS: requestExit(), the amount leaves after the court's
 *     unbonding time (withdraw);
 *   - withdraw: pays out an exit whose unbonding time is over;
 *   - status: the wallet's stake as the court holds it.
 * Every rule the court would refuse (the least stake of one token, what stays
 * staked, the free stake, an exit under way, the unbonding time, the wallet's
 * token balance) is read from the chain and told before anything is sent,
 * with the numbers, so a refused command sends nothing. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/json.h"
#include "chain/abi.h"
#include "chain/abi_decode.h"
#include "chain/client.h"
#include "chain/court.h"
#include "chain/escrow.h"
#include "cli/cli.h"
#include "crypto/addr.h"

#define COURT_CHAIN_JSON_MAX (64u << 10)
#define COURT_MIN_STAKE 1000000ull /* DisputeCourt.MIN_STAKE: one token of 6 decimals */
#define COURT_MAX_STAKE 0xffffffffffffffffull /* the court takes 2^96 - 1; the C side's amounts are 64-bit */

enum { ACT_STAKE, ACT_EXIT, ACT_WITHDRAW, ACT_STATUS };

/* A validator as validatorOf(addr) returns it. */
typedef struct validator {
    uint64_t active, locked, index1, leaving, leave_at;
} validator;

/* One wallet's session with the court: the chain, the wallet, the contracts. */
typedef struct court_cli {
    gt_chain c;
    gt_chain_account me;
    gt_addr token, escrow, court;
} court_cli;

/* HOME/chain.json's DisputeCourt (absent: a deployment without a court, refused). */
static int read_court(const char *home_path, gt_addr *court, gt_err *err) {
    char path[4200];
    uint8_t *text = NULL;
    size_t len = 0;
    json_t *j = NULL;
    const char *s = NULL;
    snprintf(path, sizeof path, "%s/chain.json", home_path);
    int rc = gt_file_read(path, COURT_CHAIN_JSON_MAX, &text, &len, err);
    if (!rc) rc = gt_json_parse((const char *)text, len, COURT_CHAIN_JSON_MAX, &j, err);
    if (!rc) rc = gt_json_get_str(j, "DisputeCourt", GT_ADDR_STR_BYTES - 1, &s, err);
    if (!rc) rc = gt_addr_parse(s, court, err);
    json_decref(j);
    gt_free(text);
    return rc ? gt_err_wrap(err, "%s (written by gotong chain deploy)", path) : 0;
}

/* Word i of the view sig(who) on contract at (who NULL: a view of no argument), as a u64 (a value over 64 bits
 * is refused by the decoder). */
static int view_word(gt_chain *c, const gt_addr *at, const char *sig, const gt_addr *who, size_t i, uint64_t *out,
                     gt_err *err) {
    static const gt_addr none;
    gt_abi_val a[] = {gt_abi_address(who ? who : &none)};
    int rc = gt_chain_view_u64(c, at, sig, a, who ? 1 : 0, i, out, err);
    return rc ? gt_err_wrap(err, "reading") : 0;
}

/* validatorOf(who): active, locked, index1 (0: not listed), leaving, leaveAt. */
static int read_validator(court_cli *k, const gt_addr *who, validator *v, gt_err *err) {
    uint64_t *w[] = {&v->active, &v->locked, &v->index1, &v->leaving, &v->leave_at};
    for (size_t i = 0; i < 5; i++)
        if (view_word(&k->c, &k->court, "validatorOf(address)", who, i, w[i], err)) return -1;
    return 0;
}

/* What the court would refuse of action `act` with amount, told with the numbers; 0 when it would take it. */
static int refused(court_cli *k, int act, uint64_t amount, const validator *v, gt_err *err) {
    uint64_t bal = 0, now = 0;
    if (act == ACT_STAKE) {
        if (view_word(&k->c, &k->token, "balanceOf(address)", &k->me.addr, 0, &bal, err)) return -1;
        if (amount > COURT_MAX_STAKE - v->active)
            return gt_err_set(err, GT_EINVAL, "the stake would pass 2^64 - 1 base units");
        if (v->active + amount < COURT_MIN_STAKE)
            return gt_err_set(err, GT_EINVAL, "a validator stakes at least %llu base units (1 token): %llu staked "
                              "+ %llu is %llu", COURT_MIN_STAKE, (unsigned long long)v->active,
                              (unsigned long long)amount, (unsigned long long)(v->active + amount));
        if (bal < amount)
            return gt_err_set(err, GT_EFUNDS, "the wallet holds %llu base units of the token, under --amount %llu",
                              (unsigned long long)bal, (unsigned long long)amount);
        return 0;
    }
    if (act == ACT_EXIT) {
        uint64_t free_units = v->active - v->locked; /* locked is part of active */
        if (v->leaving)
            return gt_err_set(err, GT_ESTATE, "an exit of %llu base units is under way (withdraw it first, after "
                              "chain time %llu)", (unsigned long long)v->leaving, (unsigned long long)v->leave_at);
        if (amount > free_units)
            return gt_err_set(err, GT_EINVAL, "--amount %llu is over the free stake %llu (staked %llu, %llu bonded "
                              "on open cases)", (unsigned long long)amount, (unsigned long long)free_units,
                              (unsigned long long)v->active, (unsigned long long)v->locked);
        if (v->active - amount && v->active - amount < COURT_MIN_STAKE)
            return gt_err_set(err, GT_EINVAL, "what stays staked (%llu) must be 0 or at least %llu base units",
                              (unsigned long long)(v->active - amount), COURT_MIN_STAKE);
        return 0;
    }
    assert(act == ACT_WITHDRAW);
    if (!v->leaving) return gt_err_set(err, GT_ESTATE, "nothing to withdraw: no exit was requested (chain court exit)");
    if (gt_chain_block_time(&k->c, &now, err)) return -1;
    if (now < v->leave_at)
        return gt_err_set(err, GT_ESTATE, "still unbonding: %llu base units leave at chain time %llu (now %llu, "
                          "%llu s to go)", (unsigned long long)v->leaving, (unsigned long long)v->leave_at,
                          (unsigned long long)now, (unsigned long long)(v->leave_at - now));
    return 0;
}

/* Prints the wallet's stake in the court. */
static int print_status(court_cli *k, gt_err *err) {
    validator v;
    uint64_t count = 0, bal = 0;
    char who[GT_ADDR_STR_BYTES], court[GT_ADDR_STR_BYTES];
    if (read_validator(k, &k->me.addr, &v, err) ||
        view_word(&k->c, &k->court, "validatorCount()", NULL, 0, &count, err) ||
        view_word(&k->c, &k->token, "balanceOf(address)", &k->me.addr, 0, &bal, err))
        return -1;
    gt_addr_to_str(&k->me.addr, who);
    gt_addr_to_str(&k->court, court);
    printf("validator %s in court %s\n", who, court);
    printf("staked %llu (%llu bonded on open cases), %s (%llu validators listed)\n", (unsigned long long)v.active,
           (unsigned long long)v.locked, v.index1 ? "listed: drawn for panels" : "not listed: drawn for no panel",
           (unsigned long long)count);
    if (v.leaving)
        printf("leaving %llu, withdrawable from chain time %llu\n", (unsigned long long)v.leaving,
               (unsigned long long)v.leave_at);
    printf("token balance %llu\n", (unsigned long long)bal);
    return 0;
}

/* The action, checked against the chain first; stake approves the court for the amount before. */
static int court_run(court_cli *k, int act, uint64_t amount, gt_err *err) {
    validator v;
    uint64_t gas = 0, gas_approve = 0;
    if (act == ACT_STATUS) return print_status(k, err);
    if (read_validator(k, &k->me.addr, &v, err) || refused(k, act, amount, &v, err)) return -1;
    if (act == ACT_STAKE) {
        gt_abi_val approve[] = {gt_abi_address(&k->court), gt_abi_uint(amount)};
        gt_chain_receipt r = {0};
        int rc = gt_chain_invoke(&k->c, &k->token, &k->me, "approve(address,uint256)", approve, 2, &r, &gas_approve,
                                 err);
        gt_chain_receipt_free(&r);
        if (rc) return gt_err_wrap(err, "approving the court");
    }
    gt_court_step step = act == ACT_STAKE ? GT_COURT_STAKE : act == ACT_EXIT ? GT_COURT_EXIT : GT_COURT_WITHDRAW;
    if (gt_court_do(&k->c, &k->court, &k->me, step, amount, &gas, err)) return -1;
    validator after;
    if (read_validator(k, &k->me.addr, &after, err)) return -1;
    if (act == ACT_STAKE)
        printf("staked %llu: %llu staked in the court; gas approve %llu + stake %llu\n", (unsigned long long)amount,
               (unsigned long long)after.active, (unsigned long long)gas_approve, (unsigned long long)gas);
    else if (act == ACT_EXIT)
        printf("exit of %llu requested: %llu stays staked, withdrawable from chain time %llu; gas %llu\n",
               (unsigned long long)amount, (unsigned long long)after.active, (unsigned long long)after.leave_at,
               (unsigned long long)gas);
    else
        printf("withdrew %llu; %llu stays staked; gas %llu\n", (unsigned long long)v.leaving,
               (unsigned long long)after.active, (unsigned long long)gas);
    return 0;
}

int gt_cli_chain_court(int argc, char **argv, const char *usage) {
    static const char *const subs[] = {"stake", "exit", "withdraw", "status", NULL};
    static const char *const names[] = {"chain court stake", "chain court exit", "chain court withdraw",
                                        "chain court status"};
    const char *rpc = NULL, *home = NULL, *from = NULL, *pw = NULL;
    uint64_t amount = 0;
    int which, given = 0;
    int rc = gt_cli_subcommand_text("chain court", argc, argv, subs, usage, &which);
    if (rc >= 0) return rc;
    const gt_cli_opt with_amount[] = {{"--amount", NULL, GT_CLI_OPT_U64, &amount, 1, COURT_MAX_STAKE, &given},
                                      GT_CLI_CHAIN_WALLET_OPTS(rpc, home, from, pw),
                                      {NULL, NULL, 0, NULL, 0, 0, NULL}};
    const gt_cli_opt bare[] = {GT_CLI_CHAIN_WALLET_OPTS(rpc, home, from, pw), {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int needs_amount = which == ACT_STAKE || which == ACT_EXIT;
    rc = gt_cli_parse_text(names[which], argc - 1, argv + 1, 1, needs_amount ? with_amount : bare, NULL, 0, NULL,
                           usage);
    if (rc >= 0) return rc;
    if (needs_amount && !given) return gt_cli_usage_error(names[which], "--amount UNITS (base units) is required");
    gt_err err;
    char home_path[4096];
    court_cli k;
    gt_key key;
    memset(&k, 0, sizeof k);
    if (gt_cli_home(home, home_path, sizeof home_path, &err) || read_court(home_path, &k.court, &err))
        return gt_cli_fail(&err);
    if ((rc = gt_cli_load_key(home, from, pw, &key, NULL, &err))) return gt_cli_fail(&err);
    rc = gt_chain_account_init(&k.me, &key, &err);
    gt_key_wipe(&key);
    if (rc) return gt_cli_fail(&err);
    if (!(rc = gt_cli_chain_open(home_path, rpc, &k.c, &k.token, &k.escrow, NULL, &err))) {
        rc = court_run(&k, which, amount, &err);
        gt_chain_close(&k.c);
    }
    gt_chain_account_wipe(&k.me);
    return rc ? gt_cli_fail(&err) : GT_CLI_EXIT_OK;
}
