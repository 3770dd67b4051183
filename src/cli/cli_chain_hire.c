/* cli_chain_hire.c: `gotong chain hire`: an agent hires another across
 * nodes, on chain. With the wallet and the deployment of this home
 * (HOME/chain.json), it finds a worker and an evaluator offering the skill
 * through the agent registry and their agent cards, posts the job on the
 * escrow (budget escrowed, description = the input's keccak; with --fee the
 * evaluator's fee too, postWithFee), sends the input
 * to both agents' nodes (and to this wallet's own node when it runs an agent,
 * for judges of a dispute), waits until the evaluator's verdict settles the job
 * on chain, and prints the worker's result, checked against the deliverable
 * the worker submitted. Fails closed: no matching agents, a card that does
 * not check, a timeout or a rejection exit 1 (the budget is refunded on
 * chain by the rejection, or by claimRefund after the job expires). */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/json.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "chain/registry.h"
#include "cli/cli.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"

#define HIRE_CHAIN_JSON_MAX (64u << 10)
#define HIRE_INPUT_MAX (64u << 10)  /* a node's GT_CHAIN_INPUT_MAX */
#define HIRE_RESULT_MAX (1u << 20)
#define HIRE_AGENTS_MAX 256         /* registry entries looked at */
#define HIRE_POLL_MS 200

typedef struct hire {
    gt_chain c;
    gt_chain_account me;
    gt_addr token, escrow, registry;
    const char *skill;
    uint64_t budget, stake, fee, expires_s, wait_s, job; /* fee: the evaluator's, 0 none */
    gt_card worker, evaluator;
    uint8_t *input;
    size_t input_len;
} hire;

static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int get_addr(const json_t *j, const char *name, gt_addr *out, gt_err *err) {
    const char *s = NULL;
    int rc = gt_json_get_str(j, name, GT_ADDR_STR_BYTES - 1, &s, err);
    return rc ? rc : gt_addr_parse(s, out, err);
}

/* See cli.h: HOME/chain.json's chain, checked to be the recorded one, and its addresses. */
int gt_cli_chain_open(const char *home_path, const char *rpc, gt_chain *c, gt_addr *token, gt_addr *escrow,
                      gt_addr *registry, gt_err *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/chain.json", home_path);
    uint8_t *text = NULL;
    size_t len = 0;
    json_t *j = NULL;
    uint64_t chain_id = 0;
    int rc = gt_file_read(path, HIRE_CHAIN_JSON_MAX, &text, &len, err);
    if (!rc) rc = gt_json_parse((const char *)text, len, HIRE_CHAIN_JSON_MAX, &j, err);
    if (!rc) rc = gt_json_get_u64(j, "chain_id", &chain_id, err);
    if (!rc) rc = get_addr(j, "GotongToken", token, err);
    if (!rc) rc = get_addr(j, "JobEscrow", escrow, err);
    if (!rc && registry) rc = get_addr(j, "AgentRegistry", registry, err);
    if (!rc && !rpc) rc = gt_json_get_str(j, "rpc", 1024, &rpc, err);
    if (!rc) rc = gt_chain_open(rpc, c, err);
    if (!rc && c->chain_id != chain_id) {
        rc = gt_err_set(err, GT_ECHAIN, "%s is chain %llu, not the recorded %llu", rpc,
                        (unsigned long long)c->chain_id, (unsigned long long)chain_id);
        gt_chain_close(c);
    }
    json_decref(j);
    gt_free(text);
    return rc ? gt_err_wrap(err, "%s (written by gotong chain deploy)", path) : 0;
}

/* HOME/chain.json's chain (or rpc), token, escrow and registry. */
static int open_deployment(hire *h, const char *home_path, const char *rpc, gt_err *err) {
    return gt_cli_chain_open(home_path, rpc, &h->c, &h->token, &h->escrow, &h->registry, err);
}

/* Agent id's card if it checks; 1 when the agent is skipped (said on stderr). */
static int card_of(hire *h, uint64_t id, gt_card *card, gt_err *err) {
    gt_addr owner;
    char *uri = gt_malloc(GT_REGISTRY_URI_MAX + 1);
    if (!uri) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_err why;
    int rc = gt_registry_get(&h->c, &h->registry, id, &owner, uri, err);
    int skip = !rc && (gt_addr_eq(&owner, &h->me.addr) || gt_card_fetch(uri, card, &why) ||
                       gt_card_check(card, &owner, h->c.chain_id, &h->escrow, &why));
    if (skip && !gt_addr_eq(&owner, &h->me.addr))
        fprintf(stderr, "skipping agent %llu (%s): %s\n", (unsigned long long)id, uri, why.msg);
    gt_free(uri);
    return rc ? rc : skip;
}

/* The first worker within the budget and the first other evaluator offering the skill. */
static int discover(hire *h, gt_err *err) {
    uint64_t n = 0;
    int have_w = 0, have_e = 0, rc = gt_registry_count(&h->c, &h->registry, &n, err);
    for (uint64_t id = 1; !rc && id <= n && id <= HIRE_AGENTS_MAX && !(have_w && have_e); id++) {
        gt_card card;
        if ((rc = card_of(h, id, &card, err)) || !gt_card_has_skill(&card, h->skill)) {
            rc = rc < 0 ? rc : 0;
            continue;
        }
        if (!have_w && (card.roles & GT_CARD_ROLE_WORKER) && card.price <= h->budget) {
            h->worker = card, have_w = 1;
            fprintf(stderr, "worker: agent %llu (%s) at %s, price %llu\n", (unsigned long long)id, card.name,
                    card.url, (unsigned long long)card.price);
        } else if (!have_e && (card.roles & GT_CARD_ROLE_EVALUATOR)) {
            h->evaluator = card, have_e = 1;
            fprintf(stderr, "evaluator: agent %llu (%s) at %s\n", (unsigned long long)id, card.name, card.url);
        }
    }
    if (!rc && (!have_w || !have_e))
        rc = gt_err_set(err, GT_ENOTFOUND, "no %s offering %s%s among %llu registered agents",
                        have_w ? "evaluator" : "worker", h->skill, have_w ? "" : " within the budget",
                        (unsigned long long)n);
    return rc;
}

/* post(), or postWithFee() when there is a fee, naming the worker and the
 * evaluator; expired_at is the job's expiry on chain time. */
static int post_job(hire *h, uint64_t expired_at, const uint8_t desc[32], gt_err *err) {
    if (!h->fee)
        return gt_escrow_post_for(&h->c, &h->escrow, &h->me, &h->worker.wallet, &h->evaluator.wallet, expired_at, desc,
                                  h->budget, h->stake, &h->job, NULL, err);
    gt_escrow_terms t = {.provider = h->worker.wallet, .evaluator = h->evaluator.wallet, .expired_at = expired_at,
                         .budget = h->budget, .stake = h->stake, .fee = h->fee};
    memcpy(t.desc_hash, desc, 32);
    return gt_escrow_post_fee(&h->c, &h->escrow, &h->me, &t, &h->job, NULL, err);
}

/* approve(escrow, budget + fee), then the job posted (post_job). */
static int post(hire *h, gt_err *err) {
    assert(h->fee <= h->stake && h->budget <= UINT64_MAX - h->fee); /* checked with the options */
    gt_abi_val approve[] = {gt_abi_address(&h->escrow), gt_abi_uint(h->budget + h->fee)};
    gt_chain_receipt r = {0};
    json_t *blk = NULL;
    uint64_t now = 0;
    uint8_t desc[32];
    int rc = gt_chain_invoke(&h->c, &h->token, &h->me, "approve(address,uint256)", approve, 2, &r, NULL, err);
    gt_chain_receipt_free(&r);
    if (!rc) rc = gt_rpc_call(h->c.rpc, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0), &blk, err);
    if (!rc) rc = gt_rpc_to_u64(json_object_get(blk, "timestamp"), &now, "the latest block's timestamp", err);
    json_decref(blk);
    gt_keccak256(h->input, h->input_len, desc);
    if (!rc) rc = post_job(h, now + h->expires_s, desc, err);
    if (!rc) fprintf(stderr, "posted job %llu: budget %llu, stake %llu, evaluator's fee %llu\n",
                     (unsigned long long)h->job, (unsigned long long)h->budget, (unsigned long long)h->stake,
                     (unsigned long long)h->fee);
    return rc;
}

/* POSTs the input to an agent's node until it takes it (its index may not
 * have reached the job yet: 404 means try again) or the deadline passes. */
static int deliver(hire *h, const gt_card *to, time_t deadline, gt_err *err) {
    char url[GT_CARD_URL_MAX + 64];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/input", to->url, (unsigned long long)h->job);
    gt_buf answer = GT_BUF_INIT;
    long status = 0;
    int rc;
    for (;;) {
        rc = gt_agent_http(url, h->input, h->input_len, 64u << 10, &status, &answer, err);
        if (rc || status != 404 || time(NULL) >= deadline) break;
        pause_ms(HIRE_POLL_MS);
    }
    if (!rc && status / 100 != 2)
        rc = gt_err_set(err, GT_EIO, "%s answered %ld: %.*s", url, status, (int)(answer.len > 300 ? 300 : answer.len),
                        answer.data ? (const char *)answer.data : "");
    gt_buf_free(&answer);
    return rc;
}

/* The input to this wallet's own node too, when the wallet runs an agent (its card checked): a judge of a dispute
 * asks the client's node when the worker's and the evaluator's do not serve it (chain_judge.c). Best effort: the
 * hire goes on without it, saying so on stderr. */
static void keep_own(hire *h, time_t deadline) {
    uint64_t agent = 0;
    gt_addr owner;
    gt_card card;
    gt_err err;
    char *uri = gt_malloc(GT_REGISTRY_URI_MAX + 1);
    int rc = uri ? gt_registry_agent_of(&h->c, &h->registry, &h->me.addr, &agent, &err)
                 : gt_err_set(&err, GT_ENOMEM, "out of memory");
    if (!rc && agent) rc = gt_registry_get(&h->c, &h->registry, agent, &owner, uri, &err);
    if (!rc && agent) rc = gt_card_fetch(uri, &card, &err);
    if (!rc && agent) rc = gt_card_check(&card, &h->me.addr, h->c.chain_id, &h->escrow, &err);
    if (!rc && agent) rc = deliver(h, &card, deadline, &err);
    gt_free(uri);
    if (rc) fprintf(stderr, "warning: the input did not reach this wallet's own node: %s\n", err.msg);
    else if (agent) fprintf(stderr, "the input is kept by this wallet's node at %s (for judges)\n", card.url);
}

/* Waits until the job leaves funded/submitted on chain; *job its state then. */
static int await_verdict(hire *h, time_t deadline, gt_escrow_job *job, gt_err *err) {
    for (;;) {
        int rc = gt_escrow_get(&h->c, &h->escrow, h->job, job, err);
        if (rc || (job->status != GT_ESCROW_FUNDED && job->status != GT_ESCROW_SUBMITTED)) return rc;
        if (time(NULL) >= deadline)
            return gt_err_set(err, GT_ESTATE, "job %llu still %s after %llu s (the budget comes back by claimRefund "
                              "once it expires)", (unsigned long long)h->job, gt_escrow_status_name(job->status),
                              (unsigned long long)h->wait_s);
        pause_ms(HIRE_POLL_MS);
    }
}

/* The deliverable the worker submitted for the job, from the escrow's logs. */
static int deliverable(hire *h, uint8_t out[32], gt_err *err) {
    uint8_t topic[32];
    uint64_t head = 0;
    gt_chain_receipt logs = {0};
    gt_abi_event_topic("JobSubmitted(uint256,address,bytes32)", topic);
    int rc = gt_chain_block_number(&h->c, &head, err), found = 0;
    uint64_t from = head > 2000 ? head - 2000 : 0;
    if (!rc) rc = gt_chain_get_logs(&h->c, &h->escrow, 1, from, head, &logs, err);
    for (size_t i = 0; !rc && i < logs.n_logs; i++) {
        const gt_chain_log *l = &logs.logs[i];
        uint64_t id = 0;
        if (l->n_topics == 3 && !memcmp(l->topics[0], topic, 32) && !gt_abi_word_u64(l->topics[1], &id, "id", NULL) &&
            id == h->job && !gt_abi_get_word(l->data, l->data_len, 0, out, NULL))
            found = 1;
    }
    gt_chain_receipt_free(&logs);
    if (!rc && !found) rc = gt_err_set(err, GT_ENOTFOUND, "no JobSubmitted of job %llu in the last 2000 blocks",
                                       (unsigned long long)h->job);
    return rc;
}

/* The worker's result from its node, checked against the deliverable; printed on stdout. */
static int fetch_result(hire *h, time_t deadline, gt_err *err) {
    char url[GT_CARD_URL_MAX + 64];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/output", h->worker.url, (unsigned long long)h->job);
    gt_buf body = GT_BUF_INIT;
    long status = 0;
    uint8_t want[32], got[32];
    int rc = deliverable(h, want, err);
    while (!rc) { /* the worker's index may lag the chain by its confirmation depth */
        rc = gt_agent_http(url, NULL, 0, HIRE_RESULT_MAX, &status, &body, err);
        if (rc || status != 409 || time(NULL) >= deadline) break;
        pause_ms(HIRE_POLL_MS);
    }
    if (!rc && status != 200) rc = gt_err_set(err, GT_EIO, "%s answered %ld", url, status);
    if (!rc) gt_keccak256(body.data, body.len, got);
    if (!rc && memcmp(got, want, 32))
        rc = gt_err_set(err, GT_ESIG, "%s: the result is not what the worker submitted (its keccak differs)", url);
    if (!rc && fwrite(body.data, 1, body.len, stdout) != body.len)
        rc = gt_err_set(err, GT_EIO, "writing the result to stdout failed");
    gt_buf_free(&body);
    return rc;
}

/* Discover, post, deliver, wait, print. */
static int hire_run(hire *h, gt_err *err) {
    time_t deadline = time(NULL) + (time_t)h->wait_s;
    gt_escrow_job job;
    int rc = discover(h, err);
    if (!rc) rc = post(h, err);
    if (!rc) rc = deliver(h, &h->worker, deadline, err);
    if (!rc) rc = deliver(h, &h->evaluator, deadline, err);
    if (!rc) keep_own(h, deadline);
    if (!rc) rc = await_verdict(h, deadline, &job, err);
    if (!rc && job.status != GT_ESCROW_COMPLETED)
        rc = gt_err_set(err, GT_ESTATE, "job %llu was %s by the evaluator: not paid", (unsigned long long)h->job,
                        gt_escrow_status_name(job.status));
    if (!rc) rc = fetch_result(h, deadline, err);
    char w[GT_ADDR_STR_BYTES];
    gt_addr_to_str(&h->worker.wallet, w);
    if (!rc) fprintf(stderr, "job %llu completed on chain: %s paid %llu base units\n", (unsigned long long)h->job, w,
                     (unsigned long long)h->budget);
    return rc;
}

int gt_cli_chain_hire(int argc, char **argv, const char *usage) {
    const char *rpc = NULL, *home = NULL, *from = NULL, *pw = NULL, *input = NULL;
    hire h = {.skill = "text.wordcount", .expires_s = 3600, .wait_s = 120};
    const gt_cli_opt opts[] = {{"--skill", NULL, GT_CLI_OPT_STR, &h.skill, 0, 0, NULL},
                               {"--input", NULL, GT_CLI_OPT_STR, &input, 0, 0, NULL},
                               {"--budget", NULL, GT_CLI_OPT_U64, &h.budget, 1, UINT64_MAX, NULL},
                               {"--stake", NULL, GT_CLI_OPT_U64, &h.stake, 0, UINT64_MAX, NULL},
                               {"--fee", NULL, GT_CLI_OPT_U64, &h.fee, 0, UINT64_MAX, NULL},
                               {"--expires-s", NULL, GT_CLI_OPT_U64, &h.expires_s, 60, GT_ESCROW_MAX_EXPIRY_S, NULL},
                               {"--wait-s", NULL, GT_CLI_OPT_U64, &h.wait_s, 1, 86400, NULL},
                               GT_CLI_CHAIN_WALLET_OPTS(rpc, home, from, pw),
                               {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse_text("chain hire", argc - 1, argv + 1, 1, opts, NULL, 0, NULL, usage);
    if (rc >= 0) return rc;
    if (!input || !h.budget) return gt_cli_usage_error("chain hire", "--input FILE and --budget UNITS are required");
    if (h.fee > h.stake) /* the escrow's rule too: checked before anything is sent */
        return gt_cli_usage_error("chain hire", "--fee is over --stake: a rejected worker pays the evaluator's fee "
                                                "out of its stake, so the stake must cover it");
    if (h.budget > UINT64_MAX - h.fee) return gt_cli_usage_error("chain hire", "--budget + --fee overflows 64 bits");
    gt_err err;
    char home_path[4096];
    gt_key k;
    if (gt_cli_home(home, home_path, sizeof home_path, &err) ||
        gt_file_read(input, HIRE_INPUT_MAX, &h.input, &h.input_len, &err))
        return gt_cli_fail(&err);
    rc = gt_cli_load_key(home, from, pw, &k, NULL, &err);
    if (!rc) rc = gt_chain_account_init(&h.me, &k, &err), gt_key_wipe(&k);
    int opened = !rc && !(rc = open_deployment(&h, home_path, rpc, &err));
    if (!rc) rc = hire_run(&h, &err);
    if (opened) gt_chain_close(&h.c);
    gt_chain_account_wipe(&h.me);
    gt_free(h.input);
    return rc ? gt_cli_fail(&err) : GT_CLI_EXIT_OK;
}
