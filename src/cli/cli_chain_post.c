/* cli_chain_post.c: `gotong chain post`: a client posts a quorum task of
 * several slots on chain (the escrow's postQuorumSlots), the embedded
 * ledger's quorum task. With the wallet and the deployment of this home
 * (HOME/chain.json) it approves the escrow for (budget + fee) x slots and
 * posts K slots open to any worker (claimTask, one claim per worker), each
 * timed (--submit-s, --verify-s) and judged by its own round of the dispute
 * court's validators, N of them at least on the deciding side; the fee, if
 * any, is the deciding voters'. The description hash is the input's keccak,
 * as `gotong chain hire` posts it. The input goes to the client's own node
 * (its wallet's agent in the registry), one POST per slot, where the workers
 * who claim a slot and the validators who judge its round fetch it (a wallet
 * with no agent is warned: nobody can serve it). It prints the task and slot ids and exits:
 * the rounds, claims and deadlines run on chain (a `--chain` node's keeper
 * keeps the client's). Every bound the escrow would refuse (slots 1 to 64,
 * quorum 1 to 16, a stake, the fee at most the stake) is checked before
 * anything is sent. */
#include <assert.h>
#include <stdio.h>
#include <time.h>

#include "base/alloc.h"
#include "base/file.h"
#include "chain/escrow.h"
#include "chain/registry.h"
#include "cli/cli.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"

#define POST_INPUT_MAX (64u << 10) /* a node's GT_CHAIN_INPUT_MAX, as hire's */
#define POST_MAX_SLOTS 64          /* JobEscrow.MAX_SLOTS */
#define POST_MAX_QUORUM 16         /* DisputeCourt.MAX_QUORUM */
#define POST_MIN_PHASE_S 2       /* the escrow's phase seconds (JobEscrow.MIN_PHASE_S, MAX_PHASE_S: the ledger's */
#define POST_MAX_PHASE_S 1000000 /* GT_MARKET_MIN_WINDOW_S and GT_MARKET_MAX_WINDOW_S) */
#define POST_DELIVER_S 60              /* how long the client's node may take to index the slots */
#define POST_POLL_MS 200

typedef struct post_args {
    gt_escrow_terms t;
    gt_escrow_slots s;
    uint64_t expires_s, task;
    const uint8_t *input;
    size_t input_len;
} post_args;

/* approve(escrow, total), then postQuorumSlots; prints the task. */
static int post_run(gt_chain *c, gt_chain_account *me, const gt_addr *token, const gt_addr *escrow, post_args *p,
                    gt_err *err) {
    uint64_t total = (p->t.budget + p->t.fee) * p->s.slots, now = 0, task = 0, gas = 0; /* checked not to overflow */
    gt_abi_val approve[] = {gt_abi_address(escrow), gt_abi_uint(total)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, token, me, "approve(address,uint256)", approve, 2, &r, NULL, err);
    gt_chain_receipt_free(&r);
    if (!rc) rc = gt_chain_block_time(c, &now, err);
    if (!rc) {
        p->t.expired_at = now + p->expires_s;
        rc = gt_escrow_post_slots(c, escrow, me, &p->t, &p->s, &task, &gas, err);
        p->task = task;
    }
    if (rc) return gt_err_wrap(err, "posting the quorum task");
    printf("posted quorum task %llu: slots %llu..%llu (%llu), quorum %llu, each budget %llu, stake %llu, fee %llu\n",
           (unsigned long long)task, (unsigned long long)task, (unsigned long long)(task + p->s.slots - 1),
           (unsigned long long)p->s.slots, (unsigned long long)p->s.quorum, (unsigned long long)p->t.budget,
           (unsigned long long)p->t.stake, (unsigned long long)p->t.fee);
    printf("escrowed %llu; submit window %llu s, verify window %llu s; claims until chain time %llu; gas %llu\n",
           (unsigned long long)total, (unsigned long long)p->s.submit_s, (unsigned long long)p->s.verify_s,
           (unsigned long long)p->t.expired_at, (unsigned long long)gas);
    return 0;
}

/* POSTs the input as slot id's to the node at url until its index has the slot (404 meanwhile) or time runs out. */
static int deliver_slot(const char *url, uint64_t id, const post_args *p, time_t deadline, gt_err *err) {
    char to[GT_CARD_URL_MAX + 64];
    gt_buf answer = GT_BUF_INIT;
    long status = 0;
    int rc;
    snprintf(to, sizeof to, "%s/v1/chain/jobs/%llu/input", url, (unsigned long long)id);
    for (;;) {
        rc = gt_agent_http(to, p->input, p->input_len, 4096, &status, &answer, err);
        if (rc || status != 404 || time(NULL) >= deadline) break;
        struct timespec ts = {0, POST_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!rc && status / 100 != 2)
        rc = gt_err_set(err, GT_EIO, "%s answered %ld: %.*s", to, status, (int)(answer.len > 300 ? 300 : answer.len),
                        answer.data ? (const char *)answer.data : "");
    gt_buf_free(&answer);
    return rc;
}

/* The input to the client's own node (its wallet's agent in the registry, the card checked), one POST per slot:
 * the workers who claim a slot and the validators who judge its round fetch it there (chain_judge.c). A wallet
 * with no agent is told so (the task stands; nobody can serve its input); a node that does not take it fails. */
static int deliver_own(gt_chain *c, gt_chain_account *me, const gt_addr *escrow, const gt_addr *registry,
                       const post_args *p, gt_err *err) {
    uint64_t agent = 0;
    gt_card card;
    gt_addr owner;
    char *uri = NULL;
    int rc = gt_registry_agent_of(c, registry, &me->addr, &agent, err);
    if (!rc && !agent) {
        fprintf(stderr, "warning: this wallet runs no agent (no `gotong node --chain` registered it): no node holds "
                        "the task's input, so no worker or validator can get it\n");
        return 0;
    }
    if (!rc && !(uri = gt_malloc(GT_REGISTRY_URI_MAX + 1))) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) rc = gt_registry_get(c, registry, agent, &owner, uri, err);
    if (!rc) rc = gt_card_fetch(uri, &card, err);
    gt_free(uri);
    if (!rc) rc = gt_card_check(&card, &me->addr, c->chain_id, escrow, err);
    time_t deadline = time(NULL) + POST_DELIVER_S;
    for (uint64_t i = 0; !rc && i < p->s.slots; i++) rc = deliver_slot(card.url, p->task + i, p, deadline, err);
    if (!rc) printf("the input is held by this wallet's node at %s for the task's %llu slots\n", card.url,
                    (unsigned long long)p->s.slots);
    return rc ? gt_err_wrap(err, "the task is posted, but its input did not reach this wallet's node") : 0;
}

/* The options' rules the escrow would refuse, told before anything is sent; -1 when they hold. */
static int check_args(const post_args *p, const char *input, int slots_given, int quorum_given) {
    const char *cmd = "chain post";
    if (quorum_given && !slots_given)
        return gt_cli_usage_error(cmd, "--quorum without --slots: give the task's number of slots, --slots K "
                                       "(1 to %d)", POST_MAX_SLOTS);
    if (slots_given && !quorum_given)
        return gt_cli_usage_error(cmd, "--slots without --quorum: chain post posts quorum tasks (each slot judged "
                                       "by the court's validators); give --quorum N (1 to %d)", POST_MAX_QUORUM);
    if (!slots_given)
        return gt_cli_usage_error(cmd, "--slots K (1 to %d) and --quorum N (1 to %d) are required", POST_MAX_SLOTS,
                                  POST_MAX_QUORUM);
    if (!input || !p->t.budget) return gt_cli_usage_error(cmd, "--input FILE and --budget UNITS are required");
    if (!p->t.stake)
        return gt_cli_usage_error(cmd, "--stake UNITS (at least 1) is required: a quorum job's panel is drawn from "
                                       "validators staking at least the job's stake");
    if (p->t.fee > p->t.stake)
        return gt_cli_usage_error(cmd, "--fee is over --stake: a rejected worker pays the voters' fee out of its "
                                       "stake, so the stake must cover it");
    if (p->t.budget > (UINT64_MAX - p->t.fee) / p->s.slots)
        return gt_cli_usage_error(cmd, "(--budget + --fee) x --slots overflows 64 bits");
    return -1;
}

int gt_cli_chain_post(int argc, char **argv, const char *usage) {
    const char *rpc = NULL, *home = NULL, *from = NULL, *pw = NULL, *input = NULL;
    post_args p = {.s = {.submit_s = 3600, .verify_s = 3600}, .expires_s = 86400};
    int slots_given = 0, quorum_given = 0;
    const gt_cli_opt opts[] = {
        {"--slots", NULL, GT_CLI_OPT_U64, &p.s.slots, 1, POST_MAX_SLOTS, &slots_given},
        {"--quorum", NULL, GT_CLI_OPT_U64, &p.s.quorum, 1, POST_MAX_QUORUM, &quorum_given},
        {"--input", NULL, GT_CLI_OPT_STR, &input, 0, 0, NULL},
        {"--budget", NULL, GT_CLI_OPT_U64, &p.t.budget, 1, UINT64_MAX, NULL},
        {"--stake", NULL, GT_CLI_OPT_U64, &p.t.stake, 1, UINT64_MAX, NULL},
        {"--fee", NULL, GT_CLI_OPT_U64, &p.t.fee, 0, UINT64_MAX, NULL},
        {"--submit-s", NULL, GT_CLI_OPT_U64, &p.s.submit_s, POST_MIN_PHASE_S, POST_MAX_PHASE_S, NULL},
        {"--verify-s", NULL, GT_CLI_OPT_U64, &p.s.verify_s, POST_MIN_PHASE_S, POST_MAX_PHASE_S, NULL},
        {"--expires-s", NULL, GT_CLI_OPT_U64, &p.expires_s, 60, GT_ESCROW_MAX_EXPIRY_S, NULL},
        GT_CLI_CHAIN_WALLET_OPTS(rpc, home, from, pw),
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse_text("chain post", argc - 1, argv + 1, 1, opts, NULL, 0, NULL, usage);
    if (rc >= 0) return rc;
    if ((rc = check_args(&p, input, slots_given, quorum_given)) >= 0) return rc;
    assert(p.s.slots >= 1 && p.s.quorum >= 1 && p.t.stake >= p.t.fee);
    gt_err err;
    char home_path[4096];
    uint8_t *text = NULL;
    size_t len = 0;
    if (gt_cli_home(home, home_path, sizeof home_path, &err) || gt_file_read(input, POST_INPUT_MAX, &text, &len, &err))
        return gt_cli_fail(&err);
    gt_keccak256(text, len, p.t.desc_hash);
    p.input = text, p.input_len = len;
    gt_key k;
    gt_chain_account me;
    gt_chain c;
    gt_addr token, escrow, registry;
    if ((rc = gt_cli_load_key(home, from, pw, &k, NULL, &err))) return gt_free(text), gt_cli_fail(&err);
    rc = gt_chain_account_init(&me, &k, &err);
    gt_key_wipe(&k);
    if (rc) return gt_free(text), gt_cli_fail(&err);
    if (!(rc = gt_cli_chain_open(home_path, rpc, &c, &token, &escrow, &registry, &err))) {
        rc = post_run(&c, &me, &token, &escrow, &p, &err);
        if (!rc) rc = deliver_own(&c, &me, &escrow, &registry, &p, &err);
        gt_chain_close(&c);
    }
    gt_chain_account_wipe(&me);
    gt_free(text);
    return rc ? gt_cli_fail(&err) : GT_CLI_EXIT_OK;
}
