/* test_chain_nodes.c: three nodes trade on one chain (issue 16's "done
 * when"). On a real anvil, three operators each make a home (`gotong
 * init`) with their own wallet; operator A deploys gotong's contracts
 * (`gotong chain deploy`) and hands the record (chain.json) to B and C; each
 * runs `gotong node --chain URL --chain-wallet ADDR` (depth 2), whose agent
 * registers its card in the agent registry. Then:
 *   - A's agent hires across nodes (`gotong chain hire`): it finds B (worker)
 *     and C (evaluator) through the registry and their
 *     /.well-known/agent-card.json, posts a staked job with the evaluator's
 *     fee (--fee: postWithFee), sends the input; B claims, runs the skill and
 *     submits; C re-runs it and completes; B is paid on chain (budget in,
 *     stake back), C is paid the fee, A gets the result, checked
 *     against B's deliverable; all three nodes' indexes show the job
 *     completed, and each card names its own wallet; a fee over the stake
 *     is refused before anything is sent;
 *   - a worker that submits a wrong result (a wallet driven by this test)
 *     is rejected by C's re-execution: the client is refunded, nobody paid;
 *   - a node takes a job's input only with the job's description hash and
 *     only for a job that names its agent (422 and 403 otherwise); a job id
 *     that is not a number is refused (400);
 *   - each node keeps the deadlines of its own jobs (chain_keeper.c): as the
 *     client it calls claimRefund once a job's expiry passed and timeout once
 *     a timed job's worker missed its submit deadline (the job reopens, the
 *     stake is the client's) or nobody judged a submission in time; as the
 *     worker of a submitted job nobody judged it takes its stake back after
 *     the expiry and a grace left to the client; nothing is called early;
 *   - the nodes drive disputes: a worker node whose right result a lying
 *     evaluator rejected disputes it, draws the panel and resolves the case
 *     once the judges (wallets driven here) decided, and is paid; an
 *     evaluator node whose rejection nobody disputed finalizes it after the
 *     window and gets its bond back;
 *   - node A, the court's deployer, reveals the court's seed links the
 *     draws wait for (no other wallet can); as the client of a quorum job
 *     it draws the round's panel once its link is out and, when the round's
 *     vote ends undecided, calls closeUnjudged before the escrow's timeout,
 *     so the voter's bond is freed and the job refunded;
 *   - the stalled deployer: with node A down, no dispute's panel can be
 *     drawn; the disputing worker's node (B) resolves the case once its
 *     deadline is past, not before: closed undecided, the rejection stands;
 *   - a node whose chain does not answer, or is not the recorded chain, does
 *     not start.
 * Skipped (exit 77) with a message when anvil or the contracts are missing. */
#include <sqlite3.h>
#include <sys/stat.h>

#define N_NODES 3
#include "nodes_harness.h"

#define BUDGET 1000
#define STAKE 200
#define PRICE 100
#define FEE 60     /* the evaluator's, at most STAKE */
#define DAY_S 86400 /* `gotong chain deploy`'s court: a day to dispute, a day to commit, a day to reveal */
#define N_JUDGES 3
#define JUDGE_STAKE 1000000 /* the court's least stake: 1 token */

static gt_chain_account ROGUE;  /* a worker or evaluator driven by this test */
static gt_addr REGISTRY; /* read back from chain.json with the others */
static gt_chain_account JUDGE[N_JUDGES]; /* validators in the court, driven by this test */

/* Polls url until its JSON field `field` (a string, or an array read as its size) reads want. */
static int wait_field(const char *url, const char *field, const char *want) {
    return wait_field_at(url, field, want, 0);
}

/* The nodes start one after the other, each once the last one's agent is in
 * the registry (so the registry's order, A, B, C, is known). */
static void test_nodes_register(void) {
    char url[512];
    for (int i = 0; i < N_NODES; i++) {
        char want[4];
        start_node(i);
        snprintf(url, sizeof url, "%s/v1/chain/agents", URL[0][0] ? URL[0] : URL[i]);
        snprintf(want, sizeof want, "%d", i + 1);
        CHECK(wait_field(url, "items", want));
    }
    for (int i = 0; i < N_NODES; i++) { /* each card names its own wallet, chain and escrow */
        gt_card card;
        gt_err err;
        snprintf(url, sizeof url, "%s/.well-known/agent-card.json", URL[i]);
        /* The registry lists the agent before its own node has seen its id confirmed: wait for the card to name it. */
        int rc = gt_card_fetch(url, &card, &err);
        for (int k = 0; k < WAIT_S * 5 && (rc || !card.agent_id); k++) {
            pause_ms(200);
            rc = gt_card_fetch(url, &card, &err);
        }
        CHECK_MSG(rc == 0, "%s", err.msg);
        CHECK_MSG(gt_card_check(&card, &OP[i].addr, C.chain_id, &ESCROW, &err) == 0, "%s", err.msg);
        CHECK_EQ_U64(card.agent_id, (uint64_t)i + 1);
        CHECK(gt_card_has_skill(&card, "text.wordcount"));
    }
}

/* A hires B (worker) and C (evaluator) across nodes; B is paid on chain. */
static void test_hire_across_nodes(void) {
    static const char input[] = "three nodes trade\non one chain\n  and settle  there\n";
    char cmd[2048], path[256], url[512];
    int st;
    snprintf(path, sizeof path, "%s/input.txt", ROOT);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(input, f);
    fclose(f);
    mint(&OP[0].addr, 10 * BUDGET);
    mint(&OP[1].addr, 10 * STAKE);
    uint64_t a0 = balance(&OP[0].addr), b0 = balance(&OP[1].addr), c0 = balance(&OP[2].addr);
    char from[GT_ADDR_STR_BYTES];
    gt_addr_to_str(&OP[0].addr, from);
    char errs[4096] = "";
    /* A fee the stake does not cover: refused before any transaction. */
    snprintf(cmd, sizeof cmd, "%s chain hire --home %s --password-file %s --from %s --input %s --budget %d --stake %d "
             "--fee %d 2>&1", GT_CLI, HOME_[0], PW[0], from, path, BUDGET, STAKE, STAKE + 1);
    CHECK_CONTAINS(run(cmd, &st), "--fee is over --stake");
    CHECK(st != 0);
    CHECK_EQ_U64(balance(&OP[0].addr), a0);
    snprintf(cmd, sizeof cmd, "%s chain hire --home %s --password-file %s --from %s --input %s --budget %d --stake %d "
             "--fee %d --wait-s %d 2>%s/hire.err", GT_CLI, HOME_[0], PW[0], from, path, BUDGET, STAKE, FEE, WAIT_S,
             ROOT);
    const char *out = run(cmd, &st);
    snprintf(path, sizeof path, "%s/hire.err", ROOT);
    f = fopen(path, "r");
    if (f) errs[fread(errs, 1, sizeof errs - 1, f)] = 0, fclose(f);
    printf("gotong chain hire said:\n%s", errs);
    CHECK_MSG(st == 0, "hire failed (%d): %s", st, errs);
    /* 51 bytes; 3 lines; words: three nodes trade on one chain and settle there = 9 */
    CHECK_STR(out, "{\"bytes\":51,\"lines\":3,\"words\":9}");
    CHECK_CONTAINS(errs, "worker: agent 2 (node B)");
    CHECK_CONTAINS(errs, "evaluator: agent 3 (node C)");
    CHECK_CONTAINS(errs, "posted job 1: budget 1000, stake 200, evaluator's fee 60");
    CHECK_CONTAINS(errs, "the input is kept by this wallet's node at"); /* A's own, for judges */
    gt_escrow_job job;
    gt_err err;
    CHECK_MSG(gt_escrow_get(&C, &ESCROW, 1, &job, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(job.status, GT_ESCROW_COMPLETED);
    CHECK(gt_addr_eq(&job.provider, &OP[1].addr) && gt_addr_eq(&job.evaluator, &OP[2].addr));
    CHECK_EQ_U64(balance(&OP[0].addr), a0 - BUDGET - FEE);
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + BUDGET); /* paid, and its stake back */
    CHECK_EQ_U64(balance(&OP[2].addr), c0 + FEE);    /* the evaluator's fee for its verdict */
    CHECK_EQ_U64(balance(&ESCROW), 0);
    for (int i = 0; i < N_NODES; i++) { /* every node's index reaches the outcome */
        snprintf(url, sizeof url, "%s/v1/chain/jobs/1", URL[i]);
        CHECK(wait_field(url, "status", "completed"));
    }
    const char *body;
    snprintf(url, sizeof url, "%s/v1/chain/jobs/1/input", URL[1]); /* too late for an input now */
    CHECK_EQ_INT(http(url, input, &body), 409);
}

/* A job of A's wallet (driven here) naming provider and evaluator C, expiring at chain time expired_at. */
static uint64_t post_job_until(const gt_addr *provider, const char *input, uint64_t stake, uint64_t expired_at) {
    uint8_t desc[32];
    uint64_t id = 0;
    gt_err err;
    approve(&OP[0], &ESCROW, BUDGET);
    gt_keccak256(input, strlen(input), desc);
    CHECK_MSG(gt_escrow_post_for(&C, &ESCROW, &OP[0], provider, &OP[2].addr, expired_at, desc, BUDGET, stake, &id,
                                 NULL, &err) == 0, "%s", err.msg);
    return id;
}

/* post_job_until 30 days ahead (past every window the tests below move the clock through). */
static uint64_t post_job(const gt_addr *provider, const char *input, uint64_t stake) {
    return post_job_until(provider, input, stake, anvil_now(&C) + 30 * DAY_S);
}

/* A worker that submits a wrong result: C's re-execution rejects it; A is refunded. */
static void test_wrong_result_rejected(void) {
    static const char input[] = "count these words, honestly";
    uint8_t wrong[32];
    gt_err err;
    uint64_t a0 = balance(&OP[0].addr);
    uint64_t id = post_job(&ROGUE.addr, input, 0);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    static const char lie[] = "{\"bytes\":27,\"lines\":1,\"words\":5}"; /* it has 4 words */
    gt_keccak256(lie, strlen(lie), wrong);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_SUBMIT, id, wrong, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(post_input(2, id, input), 202);
    CHECK_EQ_INT(post_input(1, id, input), 403); /* B's agent is no party of the job */
    gt_escrow_job job = {0};
    for (int k = 0; k < WAIT_S * 5; k++) {
        CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &job, NULL), 0);
        if (job.status != GT_ESCROW_SUBMITTED) break;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ_INT(job.status, GT_ESCROW_REJECTED);
    CHECK_EQ_U64(balance(&OP[0].addr), a0);
    CHECK_EQ_U64(balance(&ROGUE.addr), 0);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[2], (unsigned long long)id);
    CHECK(wait_field(url, "status", "rejected"));
}

/* Inputs are taken only with the job's description hash, by its named agents. */
static void test_inputs_refused(void) {
    uint64_t id = post_job(&OP[1].addr, "the right input", 0);
    const char *body;
    char url[512];
    CHECK_EQ_INT(post_input(1, id, "a different input"), 422);
    CHECK_EQ_INT(post_input(0, id, "the right input"), 202); /* A's agent, the client: its node holds it for judges */
    snprintf(url, sizeof url, "%s/v1/chain/jobs/1x/input", URL[1]);
    CHECK_EQ_INT(http(url, "x", &body), 400);
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/input", URL[1], (unsigned long long)id);
    CHECK_EQ_INT(http(url, "", &body), 400); /* an empty input */
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/output", URL[1], (unsigned long long)id);
    CHECK_EQ_INT(http(url, NULL, &body), 409); /* no result of an unfinished job */
}

/* ---- the keeper: each node calls the deadlines of its own jobs ---- */

/* Wallet w gets amount tokens and approves the escrow for them (stakes). */
static void fund_wallet(gt_chain_account *w, uint64_t amount) {
    mint(&w->addr, amount);
    approve(w, &ESCROW, amount);
}

/* Polls job id on chain until ready(job) (WAIT_S at most); the last read. */
static gt_escrow_job wait_job(uint64_t id, int (*ready)(const gt_escrow_job *)) {
    gt_escrow_job job = {0};
    for (int k = 0; k < WAIT_S * 5; k++) {
        CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &job, NULL), 0);
        if (ready(&job)) break;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return job;
}

/* Moves the chain's clock just past at_s (a block stamped at_s + 1 or later). */
static void advance_past(uint64_t at_s) {
    uint64_t now = anvil_now(&C);
    if (now <= at_s) CHECK_EQ_INT(anvil_advance(&C, at_s + 1 - now), 0);
}

static int is_submitted(const gt_escrow_job *j) { return j->status == GT_ESCROW_SUBMITTED; }
static int is_expired(const gt_escrow_job *j) { return j->status == GT_ESCROW_EXPIRED; }
static int is_reopened(const gt_escrow_job *j) { return j->status == GT_ESCROW_FUNDED && !j->claimed; }

/* A worker that claims a job of A's and never submits: once the job's
 * expiry is behind the chain's clock, node A (its client) calls
 * claimRefund by itself: A gets its budget back and the worker's stake. */
static void test_keeper_refunds_expired(void) {
    gt_err err;
    fund_wallet(&ROGUE, STAKE);
    uint64_t expiry = anvil_now(&C) + 600;
    uint64_t id = post_job_until(&ROGUE.addr, "a job nobody finishes", STAKE, expiry);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    uint64_t a0 = balance(&OP[0].addr), r0 = balance(&ROGUE.addr);
    sleep(2); /* nothing is due yet: node A must not have called */
    gt_escrow_job early;
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &early, NULL), 0);
    CHECK_EQ_INT(early.status, GT_ESCROW_FUNDED);
    advance_past(expiry);
    CHECK_EQ_INT(wait_job(id, is_expired).status, GT_ESCROW_EXPIRED);
    CHECK_EQ_U64(balance(&OP[0].addr), a0 + BUDGET + STAKE); /* the late worker's stake is the client's */
    CHECK_EQ_U64(balance(&ROGUE.addr), r0);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[1], (unsigned long long)id);
    CHECK(wait_field(url, "status", "expired"));
}

/* A timed job of A's (postTimed: open to any worker, SUBMIT_S to submit a
 * claim, VERIFY_S to judge a submission): a worker claims and misses its
 * submit deadline: node A calls timeout, the stake is A's and the job is
 * open again; a second worker submits and nobody judges (C never gets the
 * input): node A calls timeout again, the job ends, A gets its budget and
 * the second worker its stake. */
static void test_keeper_times_out_phases(void) {
    enum { SUBMIT_S = 60, VERIFY_S = 60 };
    gt_chain_account late;
    gt_escrow_terms t = {.evaluator = OP[2].addr, .budget = BUDGET, .stake = STAKE};
    gt_err err;
    uint64_t id = 0;
    uint8_t done[32] = {1};
    CHECK_EQ_INT(anvil_account(&C, "chain nodes second worker", &late), 0);
    fund_wallet(&ROGUE, STAKE);
    fund_wallet(&late, STAKE);
    approve(&OP[0], &ESCROW, BUDGET);
    t.expired_at = anvil_now(&C) + 3600;
    gt_keccak256("a timed job", 11, t.desc_hash);
    CHECK_MSG(gt_escrow_post_timed(&C, &ESCROW, &OP[0], &t, SUBMIT_S, VERIFY_S, &id, NULL, &err) == 0, "%s",
              err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    uint64_t a0 = balance(&OP[0].addr), r0 = balance(&ROGUE.addr), l0 = balance(&late.addr);
    CHECK_EQ_INT(anvil_advance(&C, SUBMIT_S + 1), 0);
    gt_escrow_job job = wait_job(id, is_reopened);
    CHECK_MSG(is_reopened(&job), "job %llu was not reopened after its submit deadline (status %s)",
              (unsigned long long)id, gt_escrow_status_name(job.status));
    CHECK_EQ_U64(balance(&OP[0].addr), a0 + STAKE); /* the missed claim's stake */
    CHECK_EQ_U64(balance(&ROGUE.addr), r0);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[2], (unsigned long long)id);
    CHECK(wait_field(url, "provider", "0x0000000000000000000000000000000000000000"));
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &late, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &late, GT_ESCROW_SUBMIT, id, done, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(anvil_advance(&C, VERIFY_S + 1), 0);
    CHECK_EQ_INT(wait_job(id, is_expired).status, GT_ESCROW_EXPIRED);
    CHECK_EQ_U64(balance(&OP[0].addr), a0 + STAKE + BUDGET);
    CHECK_EQ_U64(balance(&late.addr), l0); /* its stake back: the missed verdict was not its fault */
    CHECK(wait_field(url, "status", "expired"));
    gt_chain_account_wipe(&late);
}

/* A job naming B as worker, posted by a client that is no node and never
 * judged (its evaluator is that client's second wallet): B works it; once
 * the job's expiry and the grace left to its client are behind the chain's
 * clock, node B calls claimRefund itself and gets its stake back. */
static void test_keeper_worker_takes_stake_back(void) {
    static const char input[] = "work that nobody judges";
    gt_chain_account client, judge;
    gt_err err;
    uint64_t id = 0;
    uint8_t desc[32];
    CHECK_EQ_INT(anvil_account(&C, "chain nodes outside client", &client), 0);
    CHECK_EQ_INT(anvil_account(&C, "chain nodes absent judge", &judge), 0);
    mint(&client.addr, BUDGET);
    approve(&client, &ESCROW, BUDGET);
    mint(&OP[1].addr, STAKE);
    gt_keccak256(input, strlen(input), desc);
    uint64_t expiry = anvil_now(&C) + 600;
    CHECK_MSG(gt_escrow_post_for(&C, &ESCROW, &client, &OP[1].addr, &judge.addr, expiry, desc, BUDGET, STAKE, &id,
                                 NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(post_input(1, id, input), 202);
    gt_escrow_job job = wait_job(id, is_submitted); /* B's node worked it */
    CHECK_EQ_INT(job.status, GT_ESCROW_SUBMITTED);
    uint64_t b0 = balance(&OP[1].addr);
    advance_past(expiry); /* past the expiry, not past the grace the worker leaves its client (30 s) */
    sleep(2);
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &job, NULL), 0);
    CHECK_EQ_INT(job.status, GT_ESCROW_SUBMITTED);
    CHECK_EQ_INT(anvil_advance(&C, 30), 0);
    CHECK_EQ_INT(wait_job(id, is_expired).status, GT_ESCROW_EXPIRED);
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + STAKE);
    CHECK_EQ_U64(balance(&client.addr), BUDGET);
    gt_chain_account_wipe(&client);
    gt_chain_account_wipe(&judge);
}

/* A staked job naming B that expires 40 s on, too soon for a node at depth 2 (108 s) to claim and submit: B's node
 * does not claim it and says why; its stake stays free. Before, it claimed whatever time was left, and a claim whose
 * submission lands after the expiry is slashed to the client (claimRefund): a client posting jobs about to expire
 * took the stake of the nodes it named. */
static void test_claim_needs_time(void) {
    static const char input[] = "too little time to submit this\n";
    mint(&OP[1].addr, STAKE); /* B's node approved the escrow when it registered */
    uint64_t b0 = balance(&OP[1].addr);
    uint64_t id = post_job_until(&OP[1].addr, input, STAKE, anvil_now(&C) + 40);
    CHECK_EQ_INT(post_input(1, id, input), 202);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[1], (unsigned long long)id);
    CHECK(wait_field_at(url, "note", "s to submit after a claim, under the 108 s this node needs at depth 2", 1));
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &job, NULL), 0);
    CHECK_EQ_INT(job.status, GT_ESCROW_FUNDED);
    CHECK(!job.claimed);
    CHECK_EQ_U64(balance(&OP[1].addr), b0);
}

/* A staked job naming B that expires a year on: with a silent evaluator its stake would come back only then (the
 * escrow allows expiries to 2^40 - 1 and phases of 2^32 - 1 s), so B's node, which stakes for 60 days at most, does
 * not claim it and says why. Before, it claimed any expiry. */
static void test_claim_lock_bounded(void) {
    static const char input[] = "a year of stake\n";
    mint(&OP[1].addr, STAKE);
    uint64_t b0 = balance(&OP[1].addr);
    uint64_t id = post_job_until(&OP[1].addr, input, STAKE, anvil_now(&C) + 365 * DAY_S);
    CHECK_EQ_INT(post_input(1, id, input), 202);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[1], (unsigned long long)id);
    CHECK(wait_field_at(url, "note", "before a deadline frees it, over the 5184000 s it stakes for: not claimed", 1));
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &job, NULL), 0);
    CHECK_EQ_INT(job.status, GT_ESCROW_FUNDED);
    CHECK(!job.claimed);
    CHECK_EQ_U64(balance(&OP[1].addr), b0);
}

/* A staked job naming B whose stake is five times its budget: a rejection that stands gives the client the stake,
 * so a poster asking a huge stake for a tiny payment takes far more by the slash than it pays. B's node (default
 * --max-stake-pct 100) does not claim it and says why, for good; its stake stays free. Before, it staked whatever its
 * balance covered for any budget at or over its price. */
static void test_stake_over_budget(void) {
    static const char input[] = "five times the pay at stake\n";
    mint(&OP[1].addr, 5 * BUDGET);
    uint64_t b0 = balance(&OP[1].addr);
    uint64_t id = post_job(&OP[1].addr, input, 5 * BUDGET);
    CHECK_EQ_INT(post_input(1, id, input), 202);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[1], (unsigned long long)id);
    CHECK(wait_field_at(url, "note", "asks a stake of 5000 base units for a budget of 1000, over the 100 % of its "
                        "budget this node stakes (--max-stake-pct): not claimed", 1));
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &job, NULL), 0);
    CHECK_EQ_INT(job.status, GT_ESCROW_FUNDED);
    CHECK(!job.claimed);
    CHECK_EQ_U64(balance(&OP[1].addr), b0);
}

/* C's index altered under it: ROGUE submits the right result of a job C judges, and once C's node has indexed
 * the submission its chain_index.db is given another deliverable (what an altered file, or a reorganisation deeper
 * than the depth, would show). C's node judges the deliverable the chain holds (its JobSubmitted log, read from the
 * chain in the block the index names) and completes the job. Before, it judged the index's copy and rejected the
 * right work. */
static void test_evaluator_reads_chain_deliverable(void) {
    static const char input[] = "judge what the chain holds\n", result[] = "{\"bytes\":27,\"lines\":1,\"words\":5}";
    uint8_t right[32];
    gt_err err;
    gt_keccak256(result, strlen(result), right);
    uint64_t r0 = balance(&ROGUE.addr), id = post_job(&ROGUE.addr, input, 0);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_SUBMIT, id, right, NULL, &err) == 0, "%s", err.msg);
    char url[512], path[300];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[2], (unsigned long long)id);
    CHECK(wait_field_at(url, "status", "submitted", 0));
    snprintf(path, sizeof path, "%s/chain_index.db", HOME_[2]);
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE jobs SET deliverable='0x%064d' WHERE id=%llu", 7, (unsigned long long)id);
    CHECK_MSG(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK && sqlite3_changes(db) == 1, "%s",
              sqlite3_errmsg(db));
    sqlite3_close(db);
    CHECK_EQ_INT(post_input(2, id, input), 202);
    gt_escrow_job job = {0};
    for (int k = 0; k < WAIT_S * 5; k++) {
        CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &job, NULL), 0);
        if (job.status != GT_ESCROW_SUBMITTED) break;
        pause_ms(200);
    }
    CHECK_MSG(job.status == GT_ESCROW_COMPLETED, "job %llu is %s: C's node judged the index's deliverable, not the "
              "chain's", (unsigned long long)id, gt_escrow_status_name(job.status));
    CHECK_EQ_U64(balance(&ROGUE.addr), r0 + BUDGET);
}

/* ---- disputes driven by the nodes ---- */

/* The judges: three validators of the court with the least stake each. */
static void stake_judges(void) {
    gt_err err;
    for (int i = 0; i < N_JUDGES; i++) {
        char seed[32];
        snprintf(seed, sizeof seed, "chain nodes judge %d", i);
        CHECK_EQ_INT(anvil_account(&C, seed, &JUDGE[i]), 0);
        mint(&JUDGE[i].addr, JUDGE_STAKE);
        approve(&JUDGE[i], &COURT, JUDGE_STAKE);
        CHECK_MSG(gt_court_do(&C, &COURT, &JUDGE[i], GT_COURT_STAKE, JUDGE_STAKE, NULL, &err) == 0, "%s", err.msg);
    }
}

static int is_disputed(const gt_escrow_job *j) { return j->status == GT_ESCROW_DISPUTED; }
static int is_completed(const gt_escrow_job *j) { return j->status == GT_ESCROW_COMPLETED; }
static int is_rejected(const gt_escrow_job *j) { return j->status == GT_ESCROW_REJECTED; }

/* A staked job of A's with input `input`, naming B as worker and ROGUE as
 * evaluator, worked by B's node; returns its id once it is submitted. */
static uint64_t post_rogue_job(const char *input) {
    uint8_t desc[32];
    uint64_t id = 0;
    gt_err err;
    fund_wallet(&ROGUE, STAKE);
    mint(&OP[1].addr, 2 * STAKE);
    approve(&OP[0], &ESCROW, BUDGET);
    gt_keccak256(input, strlen(input), desc);
    CHECK_MSG(gt_escrow_post_for(&C, &ESCROW, &OP[0], &OP[1].addr, &ROGUE.addr, anvil_now(&C) + 30 * DAY_S, desc,
                                 BUDGET, STAKE, &id, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(post_input(1, id, input), 202);
    CHECK_EQ_INT(wait_job(id, is_submitted).status, GT_ESCROW_SUBMITTED); /* B's node worked it */
    return id;
}

/* A staked job of A's naming B as worker and a lying evaluator (ROGUE):
 * B works it, ROGUE rejects B's right result (bonding the stake). B's node
 * disputes it by itself (the deliverable is the keccak of what it computed)
 * and draws the panel once the draw block is mined; the judges re-run and
 * accept; B's node resolves the case as soon as the panel decided. B is
 * paid the budget and gets its stake and bond back; ROGUE's bond is lost. */
static void test_keeper_dispute_won(void) {
    uint8_t why[32] = {7};
    gt_err err;
    uint64_t id = post_rogue_job("a right answer, wrongly rejected");
    uint64_t b0 = balance(&OP[1].addr), r0 = balance(&ROGUE.addr);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_REJECT, id, why, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(wait_job(id, is_disputed).status, GT_ESCROW_DISPUTED);
    CHECK(wait_case(id, GT_COURT_VOTING));
    for (int i = 0; i < N_JUDGES; i++)
        CHECK_MSG(gt_court_commit(&C, &COURT, &JUDGE[i], id, 1, NULL, &err) == 0, "commit: %s", err.msg);
    CHECK_EQ_INT(anvil_advance(&C, DAY_S), 0); /* the commit window */
    for (int i = 0; i < N_JUDGES; i++)
        CHECK_MSG(gt_court_reveal(&C, &COURT, &JUDGE[i], id, 1, NULL, &err) == 0, "reveal: %s", err.msg);
    CHECK_EQ_INT(wait_job(id, is_completed).status, GT_ESCROW_COMPLETED); /* resolved by B's node */
    uint64_t b1 = balance(&OP[1].addr); /* budget, stake back, bond back, and the judges' rounding dust */
    CHECK_MSG(b1 >= b0 + BUDGET + STAKE && b1 < b0 + BUDGET + STAKE + N_JUDGES, "worker's balance %llu, from %llu",
              (unsigned long long)b1, (unsigned long long)b0);
    CHECK_EQ_U64(balance(&ROGUE.addr), r0 - STAKE);          /* its bond went to the judges */
    char url[512];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[1], (unsigned long long)id);
    CHECK(wait_field(url, "status", "completed"));
}

/* A quorum job of A's (the court its evaluator, quorum 2): ROGUE claims;
 * node A, the court's deployer, reveals the round's seed links and draws its
 * panel (the three judges); ROGUE submits; one judge votes (its bond
 * locked), nobody else: no side decides. Once the verify deadline is behind
 * the chain's clock, node A closes the round unjudged (the judge's bond
 * freed) and times the job out (A's budget back, ROGUE's stake back). */
static void test_keeper_closes_quorum_round(void) {
    enum { SUBMIT_S = 600, VERIFY_S = 60 };
    gt_escrow_terms t = {.budget = BUDGET, .stake = STAKE};
    gt_err err;
    uint64_t id = 0;
    uint8_t done[32] = {2};
    fund_wallet(&ROGUE, STAKE);
    approve(&OP[0], &ESCROW, BUDGET);
    t.expired_at = anvil_now(&C) + 3600;
    gt_keccak256("a quorum job", 12, t.desc_hash);
    CHECK_MSG(gt_escrow_post_quorum(&C, &ESCROW, &OP[0], &t, SUBMIT_S, VERIFY_S, 2, &id, NULL, &err) == 0, "%s",
              err.msg);
    uint64_t a0 = balance(&OP[0].addr), r0 = balance(&ROGUE.addr);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(wait_case(id, GT_COURT_VOTING)); /* the seed links revealed and the panel drawn by node A */
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_SUBMIT, id, done, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_court_vote_open(&C, &COURT, &JUDGE[0], id, 1, NULL, &err) == 0, "vote: %s", err.msg);
    CHECK_EQ_U64(validator_word(&JUDGE[0].addr, 1), JUDGE_STAKE / 5); /* 20 % of its weight, its stake */
    gt_court_case cs;
    CHECK_EQ_INT(gt_court_get(&C, &COURT, id, &cs, NULL), 0);
    CHECK_EQ_INT(cs.state, GT_COURT_VOTING); /* one voter of the two the quorum asks: undecided */
    sleep(2); /* nothing is due yet: node A must not have called */
    CHECK_EQ_INT(gt_court_get(&C, &COURT, id, &cs, NULL), 0);
    CHECK_EQ_INT(cs.state, GT_COURT_VOTING);
    advance_past(cs.reveal_end);
    CHECK(wait_case(id, GT_COURT_RESOLVED)); /* closeUnjudged by node A */
    CHECK_EQ_INT(wait_job(id, is_expired).status, GT_ESCROW_EXPIRED); /* then the escrow's timeout */
    CHECK_EQ_U64(validator_word(&JUDGE[0].addr, 1), 0);
    CHECK_EQ_U64(balance(&OP[0].addr), a0 + BUDGET);
    CHECK_EQ_U64(balance(&ROGUE.addr), r0); /* its stake back: the missed verdict was not its fault */
}

/* The stalled deployer: node A, the court's deployer (its wallet alone
 * reveals the court's seed links), stops. A job of A's names B as worker and
 * a lying evaluator (ROGUE), who rejects B's right result; B's node disputes
 * it, and no panel can ever be drawn. B's keeper leaves the case alone up to
 * a minute before its deadline (its opening + the commit and reveal
 * windows: the court refuses a resolve before it, and three refused calls
 * would make the keeper give the job up) and, once the chain's clock is past
 * it, resolves it by itself: closed undecided, the ledger's dispute with no
 * decision: the rejection stands (B's stake to A, B's bond back, ROGUE's
 * bond back). Runs last of the nodes' tests: A stays down. */
static void test_keeper_closes_undrawn_dispute(void) {
    uint8_t why[32] = {9};
    gt_err err;
    stop_node(0);
    uint64_t id = post_rogue_job("a dispute nobody can draw");
    uint64_t a0 = balance(&OP[0].addr), b0 = balance(&OP[1].addr), r0 = balance(&ROGUE.addr);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_REJECT, id, why, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(wait_job(id, is_disputed).status, GT_ESCROW_DISPUTED); /* B's node disputed */
    CHECK_EQ_U64(balance(&OP[1].addr), b0 - STAKE);                      /* its bond */
    gt_court_case cs;
    CHECK_EQ_INT(gt_court_get(&C, &COURT, id, &cs, NULL), 0);
    CHECK_EQ_INT(cs.state, GT_COURT_DRAWING);
    uint64_t deadline = cs.reveal_end, now = anvil_now(&C);
    CHECK(deadline >= now + 2 * DAY_S - 60 && deadline <= now + 2 * DAY_S); /* the commit and reveal windows */
    CHECK_EQ_INT(anvil_advance(&C, deadline - 60 - now), 0);
    sleep(3); /* B's keeper looks at the case every 10 chain seconds: it must not have closed it */
    CHECK_EQ_INT(gt_court_get(&C, &COURT, id, &cs, NULL), 0);
    CHECK_EQ_INT(cs.state, GT_COURT_DRAWING);
    CHECK_EQ_INT(wait_job(id, is_disputed).status, GT_ESCROW_DISPUTED);
    CHECK_EQ_INT(anvil_advance(&C, 30), 0); /* still 30 s before it */
    sleep(2);
    CHECK_EQ_INT(gt_court_get(&C, &COURT, id, &cs, NULL), 0);
    CHECK_EQ_INT(cs.state, GT_COURT_DRAWING);
    advance_past(deadline);
    CHECK(wait_case(id, GT_COURT_RESOLVED)); /* resolved by B's node: nobody else is a party that runs */
    CHECK_EQ_INT(gt_court_get(&C, &COURT, id, &cs, NULL), 0);
    CHECK_EQ_U64(cs.members, 0); /* never drawn */
    CHECK_EQ_INT(wait_job(id, is_rejected).status, GT_ESCROW_REJECTED);
    CHECK_EQ_U64(balance(&OP[1].addr), b0);                   /* its bond back, its stake (locked at the claim) lost */
    CHECK_EQ_U64(balance(&OP[0].addr), a0 + BUDGET + STAKE);   /* the budget back and the worker's stake */
    CHECK_EQ_U64(balance(&ROGUE.addr), r0);                    /* the evaluator's bond back */
}

/* ROGUE works a staked job of A's and submits a wrong result; C's node
 * re-runs it and rejects it (C bonds the stake); ROGUE does not dispute.
 * Nothing is finalized inside the window; once it is over, C's node
 * finalizes by itself: C's bond comes back, ROGUE's stake is A's. */
static void test_keeper_finalizes_rejection(void) {
    static const char input[] = "count these words, really";
    static const char lie[] = "{\"bytes\":25,\"lines\":1,\"words\":9}";
    uint8_t wrong[32];
    gt_err err;
    fund_wallet(&ROGUE, STAKE);
    mint(&OP[2].addr, STAKE);
    uint64_t id = post_job(&ROGUE.addr, input, STAKE);
    gt_keccak256(lie, strlen(lie), wrong);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_SUBMIT, id, wrong, NULL, &err) == 0, "%s", err.msg);
    uint64_t r0 = balance(&ROGUE.addr);
    CHECK_EQ_INT(post_input(2, id, input), 202);
    CHECK_EQ_INT(wait_job(id, is_rejected).status, GT_ESCROW_REJECTED);
    uint64_t until = 0, a0 = balance(&OP[0].addr), c0 = balance(&OP[2].addr);
    CHECK_EQ_INT(gt_escrow_appeal_until(&C, &ESCROW, id, &until, NULL), 0);
    CHECK(until > 0); /* open to a dispute */
    sleep(2);
    CHECK_EQ_INT(gt_escrow_appeal_until(&C, &ESCROW, id, &until, NULL), 0);
    CHECK(until > 0); /* nobody finalized inside the window */
    advance_past(until);
    for (int k = 0; k < WAIT_S * 5 && until; k++) {
        CHECK_EQ_INT(gt_escrow_appeal_until(&C, &ESCROW, id, &until, NULL), 0);
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ_U64(until, 0); /* finalized */
    CHECK_EQ_U64(balance(&OP[2].addr), c0 + STAKE);         /* the evaluator's bond back */
    CHECK_EQ_U64(balance(&OP[0].addr), a0 + BUDGET + STAKE); /* the budget back and the wrong worker's stake */
    CHECK_EQ_U64(balance(&ROGUE.addr), r0);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[0], (unsigned long long)id);
    CHECK(wait_field(url, "status", "rejected"));
}

/* A timed job of A's judged by C's node: ROGUE claims and submits a wrong result, C's node rejects it; nobody
 * disputes, A's node finalizes after the window and the job reopens (its claim window still open). A second worker
 * claims and submits the right result: C's node judges again and completes it, the worker is paid. Before, C's
 * mark on its first verdict kept it from ever judging the job again: one wrong submission left every later worker
 * unjudged (its verify deadline passed, nobody paid). */
static void test_evaluator_judges_reopened(void) {
    static const char input[] = "judge me twice\n";
    static const char lie[] = "{\"bytes\":15,\"lines\":1,\"words\":9}";
    static const char right[] = "{\"bytes\":15,\"lines\":1,\"words\":3}";
    enum { PHASE_S = 3600 };
    gt_chain_account second;
    gt_escrow_terms t = {.evaluator = OP[2].addr, .budget = BUDGET, .stake = STAKE};
    gt_err err;
    uint64_t id = 0, until = 0;
    uint8_t wrong[32], good[32];
    gt_keccak256(lie, strlen(lie), wrong);
    gt_keccak256(right, strlen(right), good);
    CHECK_EQ_INT(anvil_account(&C, "chain nodes reopened job's second worker", &second), 0);
    fund_wallet(&ROGUE, STAKE);
    fund_wallet(&second, STAKE);
    mint(&OP[2].addr, STAKE); /* C's rejection bonds the stake */
    approve(&OP[0], &ESCROW, BUDGET);
    t.expired_at = anvil_now(&C) + 30 * DAY_S;
    gt_keccak256(input, strlen(input), t.desc_hash);
    CHECK_MSG(gt_escrow_post_timed(&C, &ESCROW, &OP[0], &t, PHASE_S, PHASE_S, &id, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(post_input(2, id, input), 202);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_SUBMIT, id, wrong, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(wait_job(id, is_rejected).status, GT_ESCROW_REJECTED);
    CHECK_EQ_INT(gt_escrow_appeal_until(&C, &ESCROW, id, &until, NULL), 0);
    advance_past(until);
    CHECK_EQ_INT(wait_job(id, is_reopened).status, GT_ESCROW_FUNDED); /* finalized by A's node: open again */
    uint64_t s0 = balance(&second.addr);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &second, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &second, GT_ESCROW_SUBMIT, id, good, NULL, &err) == 0, "%s", err.msg);
    gt_escrow_job job = wait_job(id, is_completed);
    CHECK_MSG(job.status == GT_ESCROW_COMPLETED, "job %llu: %s, not completed: C's node did not judge the second "
              "submission", (unsigned long long)id, gt_escrow_status_name(job.status));
    CHECK_EQ_U64(balance(&second.addr), s0 + BUDGET); /* paid, its stake back */
    gt_chain_account_wipe(&second);
}

/* A node whose chain does not answer, or is another chain than its record's, does not start. */
static void test_wrong_chain_refused(void) {
    char cmd[2048], path[256];
    int st;
    snprintf(cmd, sizeof cmd, "timeout 60 %s node --home %s --listen 127.0.0.1:0 --chain http://127.0.0.1:1 2>&1",
             GT_CLI, HOME_[0]);
    const char *out = run(cmd, &st);
    CHECK_EQ_INT(st, 1);
    CHECK_CONTAINS(out, "--chain http://127.0.0.1:1");
    snprintf(path, sizeof path, "%s/chain.json", HOME_[2]);
    json_t *j = json_load_file(path, 0, NULL);
    json_object_set_new(j, "chain_id", json_integer((json_int_t)C.chain_id + 1));
    CHECK_EQ_INT(json_dump_file(j, path, 0), 0);
    json_decref(j);
    snprintf(cmd, sizeof cmd, "timeout 60 %s node --home %s --listen 127.0.0.1:0 --chain %s 2>&1", GT_CLI, HOME_[2],
             anvil_url);
    out = run(cmd, &st);
    CHECK_EQ_INT(st, 1);
    CHECK_CONTAINS(out, "HOME/chain.json records chain");
    snprintf(cmd, sizeof cmd, "%s node --home %s --chain-wallet 0x%040d 2>&1", GT_CLI, HOME_[2], 0);
    out = run(cmd, &st);
    CHECK_EQ_INT(st, 2); /* a usage error: no --chain */
}

int main(void) {
    static const nh_contract contracts[] = {
        {"GotongToken", &TOKEN}, {"JobEscrow", &ESCROW}, {"AgentRegistry", &REGISTRY}, {"DisputeCourt", &COURT}};
    if (nodes_begin("chain-nodes")) return 1;
    CHECK_EQ_INT(anvil_account(&C, "chain nodes rogue worker", &ROGUE), 0);
    for (int i = 0; i < N_NODES; i++) make_home(i, "chain nodes");
    deploy(contracts, sizeof contracts / sizeof contracts[0]);
    miner_start();
    RUN(test_nodes_register);
    RUN(test_hire_across_nodes);
    RUN(test_wrong_result_rejected);
    RUN(test_inputs_refused);
    RUN(test_keeper_refunds_expired);
    RUN(test_keeper_times_out_phases);
    RUN(test_keeper_worker_takes_stake_back);
    RUN(test_claim_needs_time);
    RUN(test_claim_lock_bounded);
    RUN(test_stake_over_budget);
    RUN(test_evaluator_reads_chain_deliverable);
    stake_judges();
    RUN(test_keeper_dispute_won);
    RUN(test_keeper_finalizes_rejection);
    RUN(test_evaluator_judges_reopened);
    RUN(test_keeper_closes_quorum_round);
    RUN(test_keeper_closes_undrawn_dispute);
    stop_nodes();
    RUN(test_wrong_chain_refused);
    miner_stop();
    for (int i = 0; i < N_JUDGES; i++) gt_chain_account_wipe(&JUDGE[i]);
    gt_chain_account_wipe(&ROGUE);
    nodes_end();
    return gt_test_finish();
}
