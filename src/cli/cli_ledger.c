/* cli_ledger.c: the money commands: init, balance, send, mint, stake, unstake,
 * and `ledger log|verify|head|submit`. They open HOME/ledger.db directly (the
 * embedded default); keys come from HOME/keystore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/amount.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/progress.h"
#include "agent/client.h"
#include "cli/cli.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"

/* Options most money commands share. */
typedef struct common_opts {
    const char *cmd; /* the command's name, for messages */
    const char *home, *password_file, *from, *node;
    int json, light;
    char home_path[4096], db_path[4200];
} common_opts;

static int resolve_home(common_opts *o, gt_err *err) {
    int rc = gt_cli_home(o->home, o->home_path, sizeof o->home_path, err);
    if (rc) return rc;
    snprintf(o->db_path, sizeof o->db_path, "%s/ledger.db", o->home_path);
    return 0;
}

/* Prints one applied/refused action in human or JSON form. */
static void print_result(const common_opts *o, const gt_action *a, const gt_result *r) {
    char id[67] = "0x";
    gt_hex_encode(a->id, 32, id + 2);
    if (o->json) {
        json_t *j = json_object();
        json_object_set_new(j, "id", json_string(id));
        json_object_set_new(j, "ok", json_boolean(r->code == 0));
        if (r->code) {
            json_object_set_new(j, "error", json_string(gt_err_name(r->code)));
            json_object_set_new(j, "message", json_string(r->msg));
        } else {
            json_object_set_new(j, "height", json_integer((json_int_t)r->height));
        }
        gt_cli_json_out(j); /* an error here is said on stderr; the action's result stands */
    } else if (r->code) {
        fprintf(stderr, "error: %s\n", r->msg);
    } else {
        printf("%s %s applied in block %llu\n", a->kind->name, id, (unsigned long long)r->height);
    }
}

/* The fields of a core action, for the node client's fill callback. */
typedef struct core_fields {
    const gt_addr *to;
    uint64_t amount;
} core_fields;

static int fill_core(void *arg, gt_action *a, gt_err *err) {
    const core_fields *f = arg;
    if (f->to) gt_action_set_addr(a, "to", f->to);
    gt_action_set_u64(a, "amount", f->amount);
    return 0;
}

/* Signs and submits one core action through a running node (--node URL):
 * the way to act while the node holds the ledger. */
static int submit_via_node(common_opts *o, const gt_action_kind *kind, const gt_addr *to, uint64_t amount) {
    gt_err err = {0};
    gt_key key;
    gt_client *c = NULL;
    if (gt_cli_load_key(o->home, o->from, o->password_file, &key, NULL, &err)) return gt_cli_fail(&err);
    core_fields f = {to, amount};
    gt_action a;
    uint64_t height = 0;
    int rc = gt_client_new(gt_cli_node(o->node), &c, &err);
    if (!rc) rc = gt_client_act(c, &key, kind, fill_core, &f, a.id, &height, &err);
    gt_key_wipe(&key);
    gt_client_free(c);
    if (rc) return gt_cli_fail(&err);
    a.kind = kind;
    gt_result r = {.code = 0, .height = height};
    print_result(o, &a, &r);
    return 0;
}

/* Signs and submits one core action from the --from key. */
static int sign_and_submit(common_opts *o, const gt_action_kind *kind, const gt_addr *to, uint64_t amount) {
    if (gt_cli_node(o->node)) return submit_via_node(o, kind, to, amount);
    gt_err err = {0};
    gt_addr from;
    gt_key key;
    gt_ledger *l = NULL;
    int rc;
    if ((rc = resolve_home(o, &err)) || (rc = gt_cli_load_key(o->home, o->from, o->password_file, &key, &from, &err)))
        return gt_cli_fail(&err);
    gt_account acc;
    if ((rc = gt_ledger_open(o->db_path, 0, &l, &err)) || (rc = gt_ledger_account(l, &from, &acc, &err))) {
        gt_ledger_close(l);
        gt_key_wipe(&key);
        return gt_cli_fail(&err);
    }
    gt_action *a = gt_malloc(sizeof *a);
    if (!a) { gt_ledger_close(l); gt_key_wipe(&key); return gt_cli_fail(NULL); }
    gt_action_init(a, kind, gt_ledger_domain(l), &from, acc.nonce);
    if (to) gt_action_set_addr(a, "to", to);
    gt_action_set_u64(a, "amount", amount);
    rc = gt_action_sign(a, &key, &err);
    gt_key_wipe(&key);
    if (rc) { gt_free(a); gt_ledger_close(l); return gt_cli_fail(&err); }
    gt_result r;
    gt_ledger_submit(l, a, 1, &r);
    print_result(o, a, &r);
    gt_free(a);
    gt_ledger_close(l);
    return r.code ? 1 : 0;
}

/* Most addresses one `gotong balance` line names. */
#define LEDGER_MAX_ADDRESSES 256

/* Parses the options send/mint/stake/unstake share into o (and --to into
 * *to when to is not NULL: send and mint) with the CLI's option table;
 * AMOUNT, the one positional argument, into *amount_s. Returns -1 to go on,
 * else the exit code. */
static int parse_common(int argc, char **argv, common_opts *o, const char **to, const char **amount_s,
                        const char *usage) {
    o->cmd = argv[0];
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &o->home, 0, 0, NULL},
        {"--password-file", NULL, GT_CLI_OPT_STR, &o->password_file, 0, 0, NULL},
        {"--from", NULL, GT_CLI_OPT_STR, &o->from, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &o->json, 0, 0, NULL},
        {"--node", NULL, GT_CLI_OPT_STR, &o->node, 0, 0, NULL},
        {to ? "--to" : NULL, NULL, GT_CLI_OPT_STR, to, 0, 0, NULL}, /* the last: NULL ends the table */
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int n_pos = 0, rc = gt_cli_parse_text(o->cmd, argc, argv, 1, opts, amount_s, 1, &n_pos, usage);
    if (rc >= 0) return rc;
    if (n_pos != 1) return gt_cli_usage_error(o->cmd, "expected one AMOUNT");
    return -1;
}

static const char send_usage[] =
    "usage: gotong send --to ADDRESS AMOUNT [--from ADDRESS] [--home DIR] [--password-file F] [--node URL] [--json]\n"
    "Transfers AMOUNT tokens (decimal, up to 6 places: 1.5 = 1500000 units) from --from\n"
    "(default: the only key in the keystore) to --to, signed with --from's keystore key.\n"
    "With --node URL the signed action goes through a running node (gotong node holds\n"
    "the ledger while it runs); without it, HOME/ledger.db is written directly.\n";

/* Parses "--to ADDRESS AMOUNT" and the common options of send and mint.
 * Returns -1 to go on, else the exit code (help printed, usage or input error). */
static int parse_to_amount(int argc, char **argv, const char *name, const char *usage, common_opts *o,
                           gt_addr *to, uint64_t *amount) {
    const char *to_s = NULL, *amount_s = NULL;
    int rc = parse_common(argc, argv, o, &to_s, &amount_s, usage);
    if (rc >= 0) return rc;
    if (!to_s) return gt_cli_usage_error(name, "--to ADDRESS is required");
    gt_err err = {0};
    if (gt_addr_parse(to_s, to, &err)) return gt_cli_usage_error(name, "--to: %s", err.msg);
    if (gt_cli_amount("AMOUNT", amount_s, amount, &err)) return gt_cli_usage_error(name, "%s", err.msg);
    return -1;
}

static int cmd_send(int argc, char **argv) {
    common_opts o = {0};
    gt_addr to;
    uint64_t amount;
    int rc = parse_to_amount(argc, argv, "send", send_usage, &o, &to, &amount);
    return rc >= 0 ? rc : sign_and_submit(&o, &gt_kind_transfer, &to, amount);
}
GT_CLI_COMMAND(cli_send, "send", "transfer tokens to an address", cmd_send)

static const char mint_usage[] =
    "usage: gotong mint --to ADDRESS AMOUNT [--from AUTHORITY] [--home DIR] [--password-file F] [--node URL] [--json]\n"
    "Creates AMOUNT new tokens for --to. Only the genesis authority (the local\n"
    "network's faucet, made by `gotong init`) may mint. --node URL: through a running node.\n";

static int cmd_mint(int argc, char **argv) {
    common_opts o = {0};
    gt_addr to;
    uint64_t amount;
    int rc = parse_to_amount(argc, argv, "mint", mint_usage, &o, &to, &amount);
    if (rc >= 0) return rc;
    gt_err err = {0};
    if (!o.from) {
        /* default to the authority */
        if (resolve_home(&o, &err)) return gt_cli_fail(&err);
        gt_ledger *l;
        if (gt_ledger_open(o.db_path, GT_LEDGER_READONLY, &l, &err)) return gt_cli_fail(&err);
        static char auth[43];
        gt_addr_to_str(&gt_ledger_genesis(l)->authority, auth);
        gt_ledger_close(l);
        o.from = auth;
    }
    return sign_and_submit(&o, &gt_kind_mint, &to, amount);
}
GT_CLI_COMMAND(cli_mint, "mint", "create tokens (genesis authority only: the faucet)", cmd_mint)

static const char stake_usage[] =
    "usage: gotong stake AMOUNT [--from ADDRESS] [--home DIR] [--password-file F] [--node URL] [--json]\n"
    "Bonds AMOUNT of --from's balance as stake (validators need stake).\n"
    "--node URL: through a running node.\n";
static const char unstake_usage[] =
    "usage: gotong unstake AMOUNT [--from ADDRESS] [--home DIR] [--password-file F] [--node URL] [--json]\n"
    "Unbonds AMOUNT of stake; it returns to the balance after the ledger's\n"
    "unbonding delay (in blocks, set at genesis). --node URL: through a running node.\n";

static int stake_common(int argc, char **argv, const gt_action_kind *kind, const char *usage, const char *name) {
    common_opts o = {0};
    const char *amount_s = NULL;
    int rc = parse_common(argc, argv, &o, NULL, &amount_s, usage);
    if (rc >= 0) return rc;
    gt_err err = {0};
    uint64_t amount;
    if (gt_cli_amount("AMOUNT", amount_s, &amount, &err)) return gt_cli_usage_error(name, "%s", err.msg);
    return sign_and_submit(&o, kind, NULL, amount);
}
static int cmd_stake(int argc, char **argv) { return stake_common(argc, argv, &gt_kind_stake, stake_usage, "stake"); }
static int cmd_unstake(int argc, char **argv) { return stake_common(argc, argv, &gt_kind_unstake, unstake_usage, "unstake"); }
GT_CLI_COMMAND(cli_stake, "stake", "bond tokens as stake", cmd_stake)
GT_CLI_COMMAND(cli_unstake, "unstake", "unbond stake (returns after a delay in blocks)", cmd_unstake)

static const char init_usage[] =
    "usage: gotong init [--home DIR] [--chain-id N] [--unbonding-blocks N] [--dispute-window S]\n"
    "                   [--vote-window S] [--reveal-window S] [--password-file F] [--light] [--json]\n"
    "Creates the data directory (default ~/.gotong), a new key for the genesis\n"
    "authority (the local network's faucet: it alone may mint) in HOME/keystore,\n"
    "and HOME/ledger.db with its genesis block. --light uses scrypt n=4096 for\n"
    "the key file (fast; for tests and demos, not for real funds). Without\n"
    "--chain-id the network gets a random chain id of its own; either way every\n"
    "signature also binds the network's genesis hash, so an action signed for\n"
    "one network is refused by every other.\n"
    "The windows, in seconds of block time, are the network's for good (the\n"
    "genesis block commits to them): how long a worker may dispute a\n"
    "rejection (--dispute-window), a dispute's panel votes (--vote-window)\n"
    "and sealed votes are opened after their commit window (--reveal-window).\n"
    "Each is 600 (ten minutes: time for a person to read and answer) unless\n"
    "given, and must be 2 to 604800 (a week). Scripted networks may use 5.\n";

/* A chain id for a new network when --chain-id is not given: random in
 * [2^20, 2^52) (clear of the small ids public chains use, exact in JSON), so
 * two networks made by `gotong init` do not share one. The genesis hash (the
 * signing salt) separates them even if they did. */
static int pick_chain_id(uint64_t *out, gt_err *err) {
    uint64_t r;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        return gt_err_set(err, GT_EIO, "cannot read random bytes for a chain id; pass --chain-id N");
    *out = (1ull << 20) + r % ((1ull << 52) - (1ull << 20));
    return 0;
}

static int cmd_init(int argc, char **argv) {
    common_opts o = {0};
    gt_genesis g = {.chain_id = 0, .unbonding_blocks = GT_DEFAULT_UNBONDING_BLOCKS,
                    .windows = {GT_DEFAULT_PERSON_WINDOW_S, GT_DEFAULT_PERSON_WINDOW_S, GT_DEFAULT_PERSON_WINDOW_S}};
    const uint64_t wlo = GT_LEDGER_WINDOW_MIN_S, whi = GT_LEDGER_WINDOW_MAX_S;
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &o.home, 0, 0, NULL},
        {"--password-file", NULL, GT_CLI_OPT_STR, &o.password_file, 0, 0, NULL},
        {"--chain-id", NULL, GT_CLI_OPT_U64, &g.chain_id, 1, UINT64_MAX, NULL},
        {"--unbonding-blocks", NULL, GT_CLI_OPT_U64, &g.unbonding_blocks, 0, UINT64_MAX, NULL},
        {"--dispute-window", NULL, GT_CLI_OPT_U64, &g.windows.dispute_s, wlo, whi, NULL},
        {"--vote-window", NULL, GT_CLI_OPT_U64, &g.windows.vote_s, wlo, whi, NULL},
        {"--reveal-window", NULL, GT_CLI_OPT_U64, &g.windows.reveal_s, wlo, whi, NULL},
        {"--light", NULL, GT_CLI_OPT_FLAG, &o.light, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &o.json, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse_text("init", argc, argv, 1, opts, NULL, 0, NULL, init_usage);
    if (rc >= 0) return rc;
    gt_err err = {0};
    if (!g.chain_id && pick_chain_id(&g.chain_id, &err)) return gt_cli_fail(&err);
    if (resolve_home(&o, &err)) return gt_cli_fail(&err);
    if (gt_file_exists(o.db_path))
        return gt_err_set(&err, GT_EEXIST, "%s already holds a ledger; use another --home", o.home_path), gt_cli_fail(&err);
    if (gt_mkdir_p(o.home_path, 0700, &err)) return gt_cli_fail(&err);
    char pw[GT_LIMIT_PASSWORD_BYTES];
    if (gt_cli_password(o.password_file, "Password for the new authority key: ", 1, pw, sizeof pw, &err))
        return gt_cli_fail(&err);
    gt_key key;
    char key_path[4400];
    gt_kdf_params light = {4096, 8, 1};
    rc = gt_key_generate(&key, &err);
    if (!rc) rc = gt_keystore_save(o.home_path, &key, pw, o.light ? &light : NULL, key_path, sizeof key_path, &err);
    memset(pw, 0, sizeof pw);
    if (!rc) gt_key_address(&key, &g.authority);
    gt_key_wipe(&key);
    if (rc) return gt_cli_fail(&err);
    g.time_s = (uint64_t)time(NULL);
    if (gt_ledger_create(o.db_path, &g, &err)) return gt_cli_fail(&err);
    char as[43];
    gt_addr_to_str(&g.authority, as);
    if (o.json) {
        printf("{\"home\":\"%s\",\"chainId\":%llu,\"authority\":\"%s\",\"keyfile\":\"%s\","
               "\"windows\":{\"disputeS\":%llu,\"voteS\":%llu,\"revealS\":%llu}}\n",
               o.home_path, (unsigned long long)g.chain_id, as, key_path,
               (unsigned long long)g.windows.dispute_s, (unsigned long long)g.windows.vote_s,
               (unsigned long long)g.windows.reveal_s);
    } else {
        printf("initialised %s\n  chain id   %llu\n  authority  %s (the faucet: `gotong mint --to ADDR AMOUNT`)\n"
               "  key file   %s\n  ledger     %s\n  windows    dispute %llu s, vote %llu s, reveal %llu s\n",
               o.home_path, (unsigned long long)g.chain_id, as, key_path, o.db_path,
               (unsigned long long)g.windows.dispute_s, (unsigned long long)g.windows.vote_s,
               (unsigned long long)g.windows.reveal_s);
    }
    return 0;
}
GT_CLI_COMMAND(cli_init, "init", "create a data directory with a genesis ledger and faucet key", cmd_init)

static const char balance_usage[] =
    "usage: gotong balance [ADDRESS...] [--home DIR] [--json]\n"
    "Shows balance, stake, escrowed and unbonding amounts and the next nonce of\n"
    "each ADDRESS (default: every key in the keystore).\n";

static int cmd_balance(int argc, char **argv) {
    common_opts o = {0};
    const char *pos[LEDGER_MAX_ADDRESSES];
    int n_pos = 0;
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &o.home, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &o.json, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse_text("balance", argc, argv, 1, opts, pos, LEDGER_MAX_ADDRESSES, &n_pos, balance_usage);
    if (rc >= 0) return rc;
    gt_err err = {0};
    if (resolve_home(&o, &err)) return gt_cli_fail(&err);
    gt_addr *addrs = NULL;
    size_t n = 0;
    if (n_pos > 0) {
        n = (size_t)n_pos;
        addrs = gt_calloc(n, sizeof *addrs);
        if (!addrs) return gt_cli_fail(NULL);
        for (size_t i = 0; i < n; i++)
            if (gt_addr_parse(pos[i], &addrs[i], &err)) { gt_free(addrs); return gt_cli_fail(&err); }
    } else if (gt_keystore_list(o.home_path, &addrs, &n, &err)) {
        return gt_cli_fail(&err);
    }
    gt_ledger *l;
    if (gt_ledger_open(o.db_path, GT_LEDGER_READONLY, &l, &err)) { gt_free(addrs); return gt_cli_fail(&err); }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        gt_account a;
        if (gt_ledger_account(l, &addrs[i], &a, &err)) { rc = gt_cli_fail(&err); break; }
        char as[43], b[GT_AMOUNT_TOKENS_MAX], s[GT_AMOUNT_TOKENS_MAX], lk[GT_AMOUNT_TOKENS_MAX], u[GT_AMOUNT_TOKENS_MAX];
        gt_addr_to_str(&addrs[i], as);
        if (o.json) { /* as GET /v1/accounts: base units, decimal strings */
            json_array_append_new(arr, json_pack("{s:s,s:o,s:o,s:o,s:o,s:I}", "address", as, "balance",
                                                 gt_json_units(a.balance), "staked", gt_json_units(a.staked),
                                                 "locked", gt_json_units(a.locked), "unbonding",
                                                 gt_json_units(a.unbonding), "nonce", (json_int_t)a.nonce));
        } else {
            gt_amount_tokens(a.balance, b), gt_amount_tokens(a.staked, s);
            gt_amount_tokens(a.locked, lk), gt_amount_tokens(a.unbonding, u);
            printf("%s  balance %s  staked %s  escrow %s  unbonding %s  nonce %llu\n", as, b, s, lk, u,
                   (unsigned long long)a.nonce);
        }
    }
    if (rc < 0) rc = 0;
    if (o.json && !rc) rc = gt_cli_json_out(json_incref(arr));
    json_decref(arr);
    gt_ledger_close(l);
    gt_free(addrs);
    return rc;
}
GT_CLI_COMMAND(cli_balance, "balance", "show balances, stake and nonces", cmd_balance)
