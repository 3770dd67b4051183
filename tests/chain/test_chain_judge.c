/* test_chain_judge.c: a `gotong node --chain` whose wallet is a validator
 * of the dispute court judges (src/api/chain_judge.c), on a real anvil.
 * Three operators: A deploys (`gotong chain deploy`, so its node reveals the
 * court's seed links), B works, C bonds into the court with `gotong chain
 * court stake` and is the court's only validator. Then:
 *   - a lying evaluator (a wallet driven here) rejects B's right result; B's
 *     node disputes and draws; C, the whole panel, fetches the input from B's
 *     node (found through the registry, the request signed by C's wallet and
 *     served because the court seats C), checks it against the job's
 *     description hash, re-runs the skill, commits accept and reveals it; B's
 *     node resolves the case the panel decided: B is paid, the liar's bond is
 *     C's; C's index notes the reveal;
 *   - B's node serves a disputed job's input to no one else: no signature,
 *     a request past its expiry or expiring more than 10 minutes on (400),
 *     a forged signature, a signature of a wallet the court did not seat (403);
 *   - a worker that runs no node (so no agent card: nobody serves its input)
 *     is wrongly rejected and disputes; C is seated and cannot get the
 *     input (the worker has no agent, A's node holds none): it does not vote,
 *     and its index says why; at the case's deadline A's node (the client)
 *     resolves it undecided: the rejection stands, C's stake untouched;
 *   - the same without nodes for worker and evaluator, but the input posted
 *     to A's node (the client's): C fetches it there, votes accept, and
 *     A's node resolves the case: the worker is paid;
 *   - quorum slots: A posts a task of two with `gotong chain post` (the
 *     input to A's node); B's node claims one, fetches the input from A's,
 *     works and submits it; C's node (a validator: it claims none) votes
 *     accept on its round and B is paid; a wallet driven here claims the
 *     other, is refused B's slot's input by A's node, and submits a wrong
 *     result: C votes reject, it loses its stake;
 *   - a quorum job of no task (postQuorum): B's node claims it with claim(),
 *     works it from A's node's input, C accepts, B is paid;
 *   - a quorum slot posted by a wallet that runs no node: B's node does not
 *     claim it (nobody would serve its input), C's (a validator) neither;
 *   - a quorum slot posted by A while A's node is down: B's node fetches the
 *     input before it claims, cannot, and does not claim: its stake stays
 *     free (before, it claimed first and lost its stake at the deadline);
 *     it looks again 10 s, then 20 s, 40 s later; A's node, started again
 *     after three failed looks, gets the input: B's node claims the slot on
 *     its next look (it used to give up after three) and is paid for it;
 *   - a slot whose client's node is down waits alone: ROGUE's slot (its card
 *     at a port nobody listens on) fails, A's slot posted after it is looked
 *     at by B's node while ROGUE's has had one look, and claimed (a failed
 *     look used to pause all seeking, the older slot first again);
 *   - a worker's seats on a task: ROGUE, allowed two claims on A's task of
 *     three slots, is served an open slot's input after one claim and
 *     refused it (403, its reason) after two: its claim would revert;
 *   - the reader is named by= (judge=, its older name, still served);
 *   - an open slot's input is served before any claim only to an agent that
 *     could claim it: a slot whose stake B's wallet cannot cover, its input
 *     held by A's node: B's node is refused (403, the reason in its note) and
 *     does not claim; signed requests of an unregistered wallet, of B's and
 *     of the client's own are refused with their reasons; a registered wallet
 *     whose balance and allowance cover the stake is served the input;
 *   - C's node stopped between its commit and its reveal (a second validator
 *     keeps the reveals closed), started again, reveals the vote it committed.
 * Each check fails if the node's judging is removed: no vote comes, so the
 * first case never settles and no note is written in the second.
 * Skipped (exit 77) with a message when anvil or the contracts are missing. */
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define N_NODES 3
#include "nodes_harness.h"

#include "api/chain_market.h"

#define BUDGET 1000
#define STAKE 200
#define VALIDATOR_STAKE 1000000 /* the court's least stake: 1 token */

static gt_chain_account ROGUE, LONER; /* a lying evaluator; a worker with no node */
static gt_addr REGISTRY_; /* the agent registry, from chain.json */

/* amount minted to w (A is the token's minter) and, when spender is not NULL, approved by w to it. */
static void fund(gt_chain_account *w, uint64_t amount, const gt_addr *spender) {
    mint(&w->addr, amount);
    if (spender) approve(w, spender, amount);
}

/* Polls node i's view of job id until its string field `field` holds want; 1 then (the value in FIELD_LAST). */
static int wait_field(int i, uint64_t id, const char *field, const char *want) {
    char url[256];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[i], (unsigned long long)id);
    return wait_field_at(url, field, want, 1);
}


/* Slot id claimed by B's node (polled), worked and accepted (completed on chain), and B's balance b0 plus the
 * budget: its stake back and the slot's pay. */
static void check_b_paid(uint64_t id, uint64_t b0) {
    gt_escrow_job job = wait_claimed(id);
    CHECK(job.claimed && gt_addr_eq(&job.provider, &OP[1].addr));
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED); /* worked by B, accepted by C */
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + BUDGET);
}

/* Into url: node i's input route for job id, the request signed by signer in the name of judge (by=), until
 * expires_s. */
static void input_url_at(int i, char *url, size_t cap, uint64_t id, const gt_chain_account *signer,
                         const gt_addr *judge, uint64_t expires_s) {
    char sig_hex[133], who[GT_ADDR_STR_BYTES];
    uint8_t digest[32];
    gt_sig sig;
    gt_court_input_digest(C.chain_id, &COURT, id, expires_s, digest);
    CHECK_EQ_INT(gt_sign_digest(&signer->key, digest, &sig, NULL), 0);
    gt_sig_to_hex(&sig, sig_hex);
    gt_addr_to_str(judge, who);
    snprintf(url, cap, "%s/v1/chain/jobs/%llu/input?by=%s&expires=%llu&sig=%s", URL[i], (unsigned long long)id,
             who, (unsigned long long)expires_s, sig_hex);
}

/* input_url_at on node B. */
static void input_url(char *url, size_t cap, uint64_t id, const gt_chain_account *signer, const gt_addr *judge,
                      uint64_t expires_s) {
    input_url_at(1, url, cap, id, signer, judge, expires_s);
}

/* A staked job of A's naming worker and ROGUE as evaluator, 30 days to expiry. */
static uint64_t post_job(const gt_addr *worker, const char *input) {
    uint8_t desc[32];
    uint64_t id = 0;
    gt_err err;
    fund(&OP[0], BUDGET, &ESCROW);
    gt_keccak256(input, strlen(input), desc);
    CHECK_MSG(gt_escrow_post_for(&C, &ESCROW, &OP[0], worker, &ROGUE.addr, anvil_now(&C) + 30 * 86400, desc, BUDGET,
                                 STAKE, &id, NULL, &err) == 0, "%s", err.msg);
    return id;
}

/* The operators' homes and the deployment; C stakes into the court with the CLI; the nodes start. */
static void test_setup(void) {
    char cmd[2048], c[GT_ADDR_STR_BYTES];
    int st;
    static const nh_contract contracts[] = {{"GotongToken", &TOKEN}, {"JobEscrow", &ESCROW}, {"DisputeCourt", &COURT},
                                         {"AgentRegistry", &REGISTRY_}};
    for (int i = 0; i < N_NODES; i++) make_home(i, "chain judge");
    deploy(contracts, sizeof contracts / sizeof contracts[0]);
    fund(&OP[2], VALIDATOR_STAKE, NULL);
    gt_addr_to_str(&OP[2].addr, c);
    snprintf(cmd, sizeof cmd, "%s chain court stake --amount %d --home %s --from %s --password-file %s 2>&1", GT_CLI,
             VALIDATOR_STAKE, HOME_[2], c, PW[2]);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain court stake: %s", out);
    CHECK_EQ_U64(validator_word(&OP[2].addr, 0), VALIDATOR_STAKE);
    for (int i = 0; i < N_NODES; i++) start_node(i);
    miner_start();
}

/* B's right result rejected by ROGUE; C judges the dispute alone and accepts it; B is paid. */
static void test_node_judges_dispute(void) {
    static const char input[] = "a validator node\nre-runs this\n";
    uint8_t why[32] = {3};
    gt_err err;
    fund(&ROGUE, STAKE, &ESCROW);
    fund(&OP[1], 2 * STAKE, NULL); /* B's node approved the escrow at its start */
    uint64_t id = post_job(&OP[1].addr, input);
    CHECK_EQ_INT(post_input(1, id, input), 202);
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_SUBMITTED), GT_ESCROW_SUBMITTED); /* B's node worked it */
    uint64_t b0 = balance(&OP[1].addr), c0 = balance(&OP[2].addr), r0 = balance(&ROGUE.addr);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_REJECT, id, why, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_DISPUTED), GT_ESCROW_DISPUTED); /* B's node disputed */
    CHECK(wait_case(id, GT_COURT_VOTING));                                 /* A revealed, B drew */
    uint64_t weight = 0;
    gt_court_vote vote = GT_COURT_VOTE_NONE;
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_U64(weight, VALIDATOR_STAKE); /* C is the whole panel */
    /* Nobody else is served the input: no signature, out of time, forged, or a wallet the court did not seat. */
    const char *body;
    char url[512];
    uint64_t now_s = (uint64_t)time(NULL);
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/input", URL[1], (unsigned long long)id);
    CHECK_EQ_INT(http(url, NULL, &body), 400);
    CHECK_CONTAINS(body, "expected ?by=ADDR&expires=UNIX_S&sig=HEX");
    input_url(url, sizeof url, id, &OP[2], &OP[2].addr, now_s - 5); /* C's own, expired */
    CHECK_EQ_INT(http(url, NULL, &body), 400);
    CHECK_CONTAINS(body, "the request expired");
    input_url(url, sizeof url, id, &OP[2], &OP[2].addr, now_s + GT_CHAIN_INPUT_AHEAD_S + 60); /* C's, too far on */
    CHECK_EQ_INT(http(url, NULL, &body), 400);
    CHECK_CONTAINS(body, "more than the 600 s allowed");
    input_url(url, sizeof url, id, &ROGUE, &OP[2].addr, now_s + 60); /* ROGUE's signature under C's name */
    CHECK_EQ_INT(http(url, NULL, &body), 403);
    CHECK_CONTAINS(body, "signed by another wallet than judge");
    input_url(url, sizeof url, id, &ROGUE, &ROGUE.addr, now_s + 60); /* signed, and not seated */
    CHECK_EQ_INT(http(url, NULL, &body), 403);
    CHECK_CONTAINS(body, "has no seat on job");
    /* C's node: the input from B's node, re-executed, committed and revealed; B's node resolves. */
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED);
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_INT(vote, GT_COURT_ACCEPT);
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + BUDGET + STAKE); /* paid, its stake and its dispute bond back */
    CHECK_EQ_U64(balance(&OP[2].addr), c0 + STAKE);          /* the liar's bond, to the judge's wallet */
    CHECK_EQ_U64(balance(&ROGUE.addr), r0 - STAKE);          /* its bond, lost */
    CHECK_EQ_U64(validator_word(&OP[2].addr, 0), VALIDATOR_STAKE); /* C's stake whole, */
    CHECK_EQ_U64(validator_word(&OP[2].addr, 1), 0);               /* its own bond freed */
    CHECK(wait_field(2, id, "note", "revealed accept (gas "));
    printf("C's node judged job %llu: seat %llu; its note: %s\n", (unsigned long long)id, (unsigned long long)weight,
           FIELD_LAST);
}

/* A worker with no node (so no agent, nobody serves its input): C cannot judge and does not vote. */
static void test_no_input_no_vote(void) {
    static const char input[] = "nobody serves this input";
    static const char right[] = "{\"bytes\":24,\"lines\":1,\"words\":4}";
    uint8_t why[32] = {4}, result[32];
    gt_err err;
    fund(&ROGUE, STAKE, &ESCROW);
    fund(&LONER, 2 * STAKE, &ESCROW);
    uint64_t id = post_job(&LONER.addr, input);
    gt_keccak256(right, strlen(right), result);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &LONER, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &LONER, GT_ESCROW_SUBMIT, id, result, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_REJECT, id, why, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &LONER, GT_ESCROW_DISPUTE, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(wait_case(id, GT_COURT_VOTING)); /* A revealed the links and drew (the client) */
    CHECK(wait_field(2, id, "note", "no vote: no input: from the worker's node:"));
    CHECK(wait_field(2, id, "note", "has no agent in the registry"));
    CHECK(wait_field(2, id, "note", "holds no input of job")); /* A's node, the client's, was asked too */
    uint64_t weight = 0;
    gt_court_vote vote = GT_COURT_COMMITTED;
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_U64(weight, VALIDATOR_STAKE); /* seated */
    CHECK_EQ_INT(vote, GT_COURT_VOTE_NONE); /* and no vote */
    gt_court_case cs;
    CHECK_EQ_INT(gt_court_get(&C, &COURT, id, &cs, NULL), 0);
    uint64_t now = anvil_now(&C), a0 = balance(&OP[0].addr), l0 = balance(&LONER.addr);
    CHECK_EQ_INT(anvil_advance(&C, cs.reveal_end + 31 - now), 0); /* past the deadline and the client's grace */
    CHECK(wait_case(id, GT_COURT_RESOLVED));                       /* by A's node, the client */
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_REJECTED), GT_ESCROW_REJECTED); /* no vote: the rejection stands */
    CHECK_EQ_U64(balance(&OP[0].addr), a0 + BUDGET + STAKE); /* the budget back, the worker's stake */
    CHECK_EQ_U64(balance(&LONER.addr), l0 + STAKE);          /* its bond back */
    CHECK_EQ_U64(validator_word(&OP[2].addr, 0), VALIDATOR_STAKE); /* C's stake untouched */
}

/* The judge's third source: a worker with no node and an evaluator with none, the input held by the client's node
 * alone (A's, posted by the test as the client); C fetches it from A's node and votes accept; A's node resolves
 * the case after its reveal window (the worker, who resolves at once, runs no node): the worker is paid. */
static void test_client_serves_input(void) {
    static const char input[] = "the client's node keeps this\n";
    static const char right[] = "{\"bytes\":29,\"lines\":1,\"words\":5}";
    uint8_t why[32] = {6}, result[32];
    gt_err err;
    fund(&ROGUE, STAKE, &ESCROW);
    fund(&LONER, 2 * STAKE, &ESCROW);
    uint64_t id = post_job(&LONER.addr, input);
    CHECK_EQ_INT(post_input(0, id, input), 202); /* A's node: the job's client */
    CHECK_EQ_INT(post_input(2, id, input), 403); /* C's node: no party */
    gt_keccak256(right, strlen(right), result);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &LONER, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &LONER, GT_ESCROW_SUBMIT, id, result, NULL, &err) == 0, "%s", err.msg);
    uint64_t l0 = balance(&LONER.addr);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_REJECT, id, why, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &LONER, GT_ESCROW_DISPUTE, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(wait_case(id, GT_COURT_VOTING));
    uint64_t weight = 0;
    gt_court_vote vote = GT_COURT_VOTE_NONE;
    for (int k = 0; k < WAIT_S * 5 && vote != GT_COURT_ACCEPT; k++) { /* C's node: fetched from A's, revealed */
        CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
        pause_ms(200);
    }
    CHECK_EQ_INT(vote, GT_COURT_ACCEPT);
    gt_court_case cs;
    CHECK_EQ_INT(gt_court_get(&C, &COURT, id, &cs, NULL), 0);
    uint64_t now = anvil_now(&C); /* the worker runs no node: the client resolves, after the vote and its grace */
    if (cs.reveal_end + 31 > now) CHECK_EQ_INT(anvil_advance(&C, cs.reveal_end + 31 - now), 0);
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED); /* resolved by A's node */
    CHECK_EQ_U64(balance(&LONER.addr), l0 + BUDGET + STAKE); /* paid, its stake and its dispute bond back */
    CHECK(wait_field(2, id, "note", "revealed accept (gas "));
}

/* A quorum task of two slots, posted by A with `gotong chain post` (the input goes to A's node); returns the task id
 * (its first slot). Quorum 1: C, the court's only validator, decides each slot's round. */
static uint64_t post_quorum_task(const char *input) {
    const char *said;
    fund(&OP[0], 2 * BUDGET, NULL);
    uint64_t task = chain_post_slots("quorum-input.txt", input, 2, 1, BUDGET, STAKE, &said);
    printf("gotong chain post said:\n%s", said);
    return task;
}


/* Quorum slots on the nodes: A posts a task of two slots with `gotong chain post`; B's node claims one (claimTask),
 * fetches the input from A's node as its worker, works and submits it; C's node, seated on the slot's round,
 * fetches the input, re-runs it, commits accept and reveals: the round decides, the court completes the job and B
 * is paid. The attack: ROGUE claims the other slot and submits a wrong result; C votes reject (the input from A's
 * node, ROGUE running none), the court rejects: ROGUE loses its stake to the client and is not paid. */
static void test_quorum_slots(void) {
    static const char input[] = "a quorum slot\nworked on a node\n";
    static const char lie[] = "{\"bytes\":31,\"lines\":2,\"words\":99}";
    uint8_t wrong[32];
    gt_err err;
    fund(&OP[1], STAKE, NULL);
    fund(&ROGUE, STAKE, &ESCROW);
    uint64_t b0 = balance(&OP[1].addr), r0 = balance(&ROGUE.addr), a0 = balance(&OP[0].addr);
    uint64_t task = post_quorum_task(input);
    if (!task) return;
    gt_abi_val args[] = {gt_abi_uint(task)};
    gt_chain_receipt r = {0};
    CHECK_MSG(gt_chain_invoke(&C, &ESCROW, &ROGUE, "claimTask(uint256)", args, 1, &r, NULL, &err) == 0, "%s",
              err.msg);
    gt_chain_receipt_free(&r);
    gt_escrow_job s0 = wait_claimed(task), s1 = wait_claimed(task + 1);
    int rogue_first = gt_addr_eq(&s0.provider, &ROGUE.addr);
    uint64_t good = rogue_first ? task + 1 : task, bad = rogue_first ? task : task + 1;
    CHECK(gt_addr_eq(rogue_first ? &s1.provider : &s0.provider, &OP[1].addr)); /* B's node claimed the other */
    char url[512];
    const char *body;
    input_url_at(0, url, sizeof url, good, &ROGUE, &ROGUE.addr, (uint64_t)time(NULL) + 60); /* not its slot */
    long st = http(url, NULL, &body);
    CHECK_MSG(st == 403 || st == 409, "ROGUE read B's slot's input from A's node: %ld %s", st, body);
    CHECK(!strstr(body, "worked on a node"));
    gt_keccak256(lie, strlen(lie), wrong);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_SUBMIT, bad, wrong, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(wait_status(good, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED); /* B worked it, C accepted */
    uint64_t weight = 0;
    gt_court_vote vote = GT_COURT_VOTE_NONE;
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, good, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_INT(vote, GT_COURT_ACCEPT);
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + BUDGET); /* paid, its stake back */
    for (int k = 0; k < WAIT_S * 5 && vote != GT_COURT_REJECT; k++) { /* C's vote on the wrong result */
        CHECK_EQ_INT(gt_court_seat(&C, &COURT, bad, &OP[2].addr, &weight, &vote, NULL), 0);
        pause_ms(200);
    }
    CHECK_EQ_INT(vote, GT_COURT_REJECT);
    gt_escrow_job job = {.status = GT_ESCROW_SUBMITTED};
    for (int k = 0; k < WAIT_S * 5 && job.status == GT_ESCROW_SUBMITTED; k++) {
        CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, bad, &job, NULL), 0);
        pause_ms(200);
    }
    CHECK_EQ_INT(job.status, GT_ESCROW_FUNDED); /* rejected for good, and reopened (the claim window is open) */
    CHECK(!job.claimed);
    CHECK_EQ_U64(balance(&ROGUE.addr), r0 - STAKE); /* its stake lost, nothing paid */
    CHECK_EQ_U64(balance(&OP[0].addr), a0 + STAKE);  /* A: two budgets minted and escrowed; ROGUE's stake */
    CHECK(wait_field(2, good, "note", "revealed accept (gas "));
    printf("quorum task %llu: slot %llu worked by B and accepted; C's note: %s\n", (unsigned long long)task,
           (unsigned long long)good, FIELD_LAST);
    CHECK(wait_field(2, bad, "note", "revealed reject (gas "));
    printf("slot %llu's wrong result rejected; C's note: %s\n", (unsigned long long)bad, FIELD_LAST);
}

/* A quorum job no task holds (postQuorum), posted by A's wallet with the input given to A's node: B's node claims it
 * (claim, not claimTask), fetches the input from A's node, works it; C accepts on its round; B is paid. */
static void test_quorum_job(void) {
    static const char input[] = "one quorum job\n";
    gt_escrow_terms t = {.budget = BUDGET, .stake = STAKE, .expired_at = anvil_now(&C) + 86400};
    uint64_t id = 0;
    gt_err err;
    fund(&OP[0], BUDGET, &ESCROW);
    fund(&OP[1], STAKE, NULL);
    uint64_t b0 = balance(&OP[1].addr);
    gt_keccak256(input, strlen(input), t.desc_hash);
    CHECK_MSG(gt_escrow_post_quorum(&C, &ESCROW, &OP[0], &t, 3600, 3600, 1, &id, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(post_input(0, id, input), 202); /* A's node: the client's */
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED);
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &job, NULL), 0);
    CHECK(gt_addr_eq(&job.provider, &OP[1].addr));
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + BUDGET);
    CHECK(wait_field(2, id, "note", "revealed accept (gas "));
}

/* A quorum slot of a client that runs no node (LONER): nobody could serve its input, so B's node does not claim it
 * (its stake would be lost at the submit deadline) and says why; the slot stays open. */
static void test_slot_of_client_without_node(void) {
    static const char input[] = "nobody holds this";
    gt_escrow_terms t = {.budget = BUDGET, .stake = STAKE, .expired_at = anvil_now(&C) + 86400};
    gt_escrow_slots sl = {.slots = 1, .quorum = 1, .submit_s = 3600, .verify_s = 3600};
    uint64_t task = 0;
    gt_err err;
    fund(&LONER, BUDGET, &ESCROW);
    gt_keccak256(input, strlen(input), t.desc_hash);
    CHECK_MSG(gt_escrow_post_slots(&C, &ESCROW, &LONER, &t, &sl, &task, NULL, &err) == 0, "%s", err.msg);
    CHECK(wait_field(1, task, "note", "no claim (look "));
    CHECK(wait_field(1, task, "note", "the client runs no agent"));
    CHECK(wait_field(2, task, "note", "no claim: this wallet is a court validator")); /* C judges, never works */
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, task, &job, NULL), 0);
    CHECK_EQ_INT(job.status, GT_ESCROW_FUNDED);
    CHECK(!job.claimed);
}

/* A quorum slot whose verify window is too short for the court's panel to vote in (20 s; a node at depth 2 needs
 * 108 s to see a submission and have a vote mined): B's node does not claim it and says why, for good. Before, it
 * claimed and worked it, and the round closed unjudged at its deadline: the work unpaid, the stake held until then. */
static void test_short_verify_window(void) {
    static const char input[] = "a window too short to vote in\n";
    gt_escrow_terms t = {.budget = BUDGET, .stake = STAKE, .expired_at = anvil_now(&C) + 86400};
    gt_escrow_slots sl = {.slots = 1, .quorum = 1, .submit_s = 3600, .verify_s = 20};
    uint64_t task = 0;
    gt_err err;
    fund(&OP[0], BUDGET, &ESCROW);
    fund(&OP[1], STAKE, NULL);
    uint64_t b0 = balance(&OP[1].addr);
    gt_keccak256(input, strlen(input), t.desc_hash);
    CHECK_MSG(gt_escrow_post_slots(&C, &ESCROW, &OP[0], &t, &sl, &task, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(post_input(0, task, input), 202); /* A's node serves it: only the window stops B */
    CHECK(wait_field(1, task, "note", "no claim: job "));
    CHECK_CONTAINS(FIELD_LAST, "leaves 20 s to judge a submission, under the 108 s a verdict or a panel's vote needs");
    pause_ms(2000); /* a claim sent after the note would show by now */
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, task, &job, NULL), 0);
    CHECK_EQ_INT(job.status, GT_ESCROW_FUNDED);
    CHECK(!job.claimed);
    CHECK_EQ_U64(balance(&OP[1].addr), b0);
}

/* A quorum slot whose submit window is too short for a node (20 s; a node at depth 2 needs 108 s): B's node does not
 * claim it and says why, for good (the window never grows); its stake stays free. Before, it claimed any window: a
 * client posting 1-s slots took the stake of every node that claimed one (the submission missed the deadline, the
 * client's timeout slashed the claim and reopened the slot for the next node). */
static void test_short_submit_window(void) {
    static const char input[] = "a window too short to submit in\n";
    gt_escrow_terms t = {.budget = BUDGET, .stake = STAKE, .expired_at = anvil_now(&C) + 86400};
    gt_escrow_slots sl = {.slots = 1, .quorum = 1, .submit_s = 20, .verify_s = 3600};
    uint64_t task = 0;
    gt_err err;
    fund(&OP[0], BUDGET, &ESCROW);
    fund(&OP[1], STAKE, NULL);
    uint64_t b0 = balance(&OP[1].addr);
    gt_keccak256(input, strlen(input), t.desc_hash);
    CHECK_MSG(gt_escrow_post_slots(&C, &ESCROW, &OP[0], &t, &sl, &task, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(post_input(0, task, input), 202); /* A's node serves it: only the window stops B */
    CHECK(wait_field(1, task, "note", "no claim: job "));
    CHECK_CONTAINS(FIELD_LAST, "leaves 20 s to submit after a claim, under the 108 s");
    pause_ms(2000); /* a claim sent after the note would show by now */
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, task, &job, NULL), 0);
    CHECK_EQ_INT(job.status, GT_ESCROW_FUNDED);
    CHECK(!job.claimed);
    CHECK_EQ_U64(balance(&OP[1].addr), b0);
}

/* A quorum task of client w's (quorum 1, an hour per phase) of slots slots, seats claims per worker (0: one), each
 * slot asking stake of its worker; the task's id (its first slot's). */
static uint64_t post_slots_of(gt_chain_account *w, const char *input, uint64_t stake, uint64_t slots, uint64_t seats) {
    gt_escrow_terms t = {.budget = BUDGET, .stake = stake, .expired_at = anvil_now(&C) + 86400};
    gt_escrow_slots sl = {.slots = slots, .seats_per_worker = seats, .quorum = 1, .submit_s = 3600, .verify_s = 3600};
    uint64_t task = 0;
    gt_err err;
    fund(w, BUDGET * slots, &ESCROW);
    gt_keccak256(input, strlen(input), t.desc_hash);
    CHECK_MSG(gt_escrow_post_slots(&C, &ESCROW, w, &t, &sl, &task, NULL, &err) == 0, "%s", err.msg);
    return task;
}

/* One quorum slot of A's wallet whose worker stakes stake; the slot's job id. */
static uint64_t post_slot_of_a(const char *input, uint64_t stake) { return post_slots_of(&OP[0], input, stake, 1, 0); }

/* Input before claim, and a client's node that comes back: A's node (the client's) is down when A posts a quorum
 * slot, so nobody serves its input. B's node asks before it claims, gets nothing, and does not claim (it used to
 * claim first and lose its stake at the submit deadline): the slot stays open, B's balance whole. B's node looks
 * again after 10 s, then 20 s (each wait twice the last); after its third failed look A's node is started again
 * and given the input: B's node (which used to give a slot up after three failed tries) looks a fourth time, 40 s
 * on, claims the slot and works it, and is paid on C's accept. */
static void test_slot_of_client_node_down(void) {
    static const char input[] = "the client's node is down\n";
    fund(&OP[1], STAKE, NULL);
    uint64_t b0 = balance(&OP[1].addr);
    stop_node(0);
    uint64_t slot = post_slot_of_a(input, STAKE);
    CHECK(wait_field(1, slot, "note", "no claim (look 1, again in 10 s): "));
    printf("B's node on slot %llu, A's node down: %s\n", (unsigned long long)slot, FIELD_LAST);
    CHECK_CONTAINS(FIELD_LAST, "the agent of"); /* the fetch from the client's agent failed */
    pause_ms(2000); /* a claim sent after the note would show by now */
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, slot, &job, NULL), 0);
    CHECK_EQ_INT(job.status, GT_ESCROW_FUNDED);
    CHECK(!job.claimed);
    CHECK_EQ_U64(balance(&OP[1].addr), b0); /* no stake locked */
    CHECK(wait_field(1, slot, "note", "no claim (look 3, again in 40 s): ")); /* 30 s after the first */
    printf("B's node on slot %llu, three looks on: %s\n", (unsigned long long)slot, FIELD_LAST);
    start_node(0);
    CHECK_EQ_INT(post_input(0, slot, input), 202); /* A's node back, with the input */
    check_b_paid(slot, b0);
}

/* An open slot's input before any claim, served only to an agent that could claim it: A posts a slot asking more
 * stake than B's wallet holds and gives A's node its input; B's node, whose stake cap the slot is over, asks nothing
 * and does not claim; an unregistered wallet, B's (403: its free stake) and the client's own are refused, each with
 * its reason; ROGUE, registered here and funded to the stake, is served the exact input. */
static void test_open_slot_input(void) {
    static const char input[] = "an open slot's input\n";
    const uint64_t big = 1000000000000ull; /* more than B's wallet holds */
    char url[512];
    const char *body;
    uint64_t agent = 0;
    gt_err err;
    CHECK(balance(&OP[1].addr) < big);
    uint64_t slot = post_slot_of_a(input, big);
    CHECK_EQ_INT(post_input(0, slot, input), 202); /* A's node: the client's */
    /* B's node asks nothing: a stake a billion times the budget is over its --max-stake-pct (default 100), for good
     * (before, it asked A's node, was refused for its free stake and looked again at every backoff). */
    CHECK(wait_field(1, slot, "note", "no claim: job"));
    CHECK(wait_field(1, slot, "note", "over the 100 % of its budget this node stakes (--max-stake-pct): not claimed"));
    printf("B's node on slot %llu, asked a stake over its budget: %s\n", (unsigned long long)slot, FIELD_LAST);
    uint64_t now_s = (uint64_t)time(NULL);
    input_url_at(0, url, sizeof url, slot, &LONER, &LONER.addr, now_s + 60); /* no agent */
    CHECK_EQ_INT(http(url, NULL, &body), 403);
    CHECK_CONTAINS(body, "has no agent in the registry: an open slot's input is served to a registered agent");
    input_url_at(0, url, sizeof url, slot, &OP[1], &OP[1].addr, now_s + 60); /* B's wallet: registered, short */
    CHECK_EQ_INT(http(url, NULL, &body), 403);
    CHECK_CONTAINS(body, "free stake (its token balance) is under job");
    input_url_at(0, url, sizeof url, slot, &OP[0], &OP[0].addr, now_s + 60); /* the client */
    CHECK_EQ_INT(http(url, NULL, &body), 403);
    CHECK_CONTAINS(body, "may not claim job");
    CHECK_MSG(gt_registry_publish(&C, &REGISTRY_, &ROGUE, "http://127.0.0.1:9/card.json", &agent, &err) == 0, "%s",
              err.msg);
    fund(&ROGUE, big, NULL); /* a balance to cover the stake, no allowance yet */
    input_url_at(0, url, sizeof url, slot, &ROGUE, &ROGUE.addr, now_s + 60);
    CHECK_EQ_INT(http(url, NULL, &body), 403);
    CHECK_CONTAINS(body, "free stake (its token allowance to the escrow) is under job");
    approve(&ROGUE, &ESCROW, big);
    CHECK_EQ_INT(http(url, NULL, &body), 200);
    CHECK_MSG(!strcmp(body, input), "served %s", body);
    char *by = strstr(url, "?by="); /* judge=, the older name of by=, is still taken; both at once are not */
    CHECK(by != NULL);
    if (by) {
        char old[1100], both[700];
        snprintf(old, sizeof old, "%.*s?judge=%s", (int)(by - url), url, by + 4);
        CHECK_EQ_INT(http(old, NULL, &body), 200);
        CHECK_MSG(!strcmp(body, input), "served %s", body);
        snprintf(both, sizeof both, "%s&judge=%.42s", url, by + 4);
        CHECK_EQ_INT(http(both, NULL, &body), 400);
        CHECK_CONTAINS(body, "not both");
    }
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, slot, &job, NULL), 0);
    CHECK(!job.claimed); /* B's node did not claim */
}

/* Polls node i's view of job id until it has a note (WAIT_S at most); 1 then (the note in FIELD_LAST). */
static int wait_note(int i, uint64_t id) {
    char url[256];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[i], (unsigned long long)id);
    for (int k = 0; k < WAIT_S * 5; k++) {
        const char *body;
        json_t *j = http(url, NULL, &body) == 200 ? json_loads(body, 0, NULL) : NULL;
        const char *note = json_string_value(json_object_get(j, "note"));
        int found = note && note[0];
        if (found) snprintf(FIELD_LAST, sizeof FIELD_LAST, "%s", note);
        json_decref(j);
        if (found) return 1;
        pause_ms(200);
    }
    fprintf(stderr, "%s: no note\n", url);
    return 0;
}

/* A slot waits alone: ROGUE (registered with a card at a port nobody listens on: a client whose node is down) posts
 * a slot, then A posts one and gives A's node its input. B's node fails on ROGUE's slot, which then waits on its own
 * (its second look 10 s after the first), and looks at A's slot meanwhile: B's first note on A's slot (a claim, or
 * why not yet: A's node may not hold the input yet) is written while ROGUE's slot has had one look (before, a failed
 * look paused all seeking for 10 s and the older slot came first again: A's slot was looked at only after three
 * failed looks at ROGUE's, 20 s or more); B's node then claims A's slot, works it and is paid. */
static void test_slot_waits_alone(void) {
    static const char input[] = "a slot of a client whose node is up\n", down[] = "its client's node is down\n";
    uint64_t agent = 0;
    gt_err err;
    CHECK_MSG(gt_registry_publish(&C, &REGISTRY_, &ROGUE, "http://127.0.0.1:9/card.json", &agent, &err) == 0, "%s",
              err.msg);
    fund(&OP[1], STAKE, NULL);
    uint64_t b0 = balance(&OP[1].addr);
    uint64_t stuck = post_slots_of(&ROGUE, down, STAKE, 1, 0);
    CHECK(wait_field(1, stuck, "note", "no claim (look 1, again in 10 s): "));
    printf("B's node on ROGUE's slot %llu: %s\n", (unsigned long long)stuck, FIELD_LAST);
    uint64_t slot = post_slot_of_a(input, STAKE);
    CHECK_EQ_INT(post_input(0, slot, input), 202);
    CHECK(wait_note(1, slot));
    printf("B's first note on A's slot %llu: %s\n", (unsigned long long)slot, FIELD_LAST);
    CHECK(wait_field(1, stuck, "note", "no claim (look ")); /* B's note on ROGUE's slot, read now */
    printf("B's note on ROGUE's slot then: %s\n", FIELD_LAST);
    CHECK_CONTAINS(FIELD_LAST, "(look 1,");
    check_b_paid(slot, b0); /* settled before the next test */
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, stuck, &job, NULL), 0);
    CHECK(!job.claimed);
}

/* A card server that answers nothing: each connection counted (JUNK_LOOKS) and closed. */
static atomic_int JUNK_LOOKS;
static void *junk_server(void *arg) {
    int s = *(int *)arg, c;
    while ((c = accept(s, NULL, NULL)) >= 0) {
        atomic_fetch_add(&JUNK_LOOKS, 1);
        close(c);
    }
    return NULL;
}

/* Junk slots cost one look: a client registered with a card at a server that answers nothing (a node that is down,
 * hangs or refuses: each look of a node waits for it on the watcher thread, up to a card's and an input's timeout,
 * ~5 s) posts a task of JUNK slots. A's and B's nodes (C's wallet is a validator: it seeks no slots) each look at the
 * first, fail, and every other open slot of that client waits with it, each noted so: one connection to the card
 * server per node for the JUNK slots, counted when every slot has its note on both. Before, each slot was looked at
 * on its own: JUNK connections per node (JUNK looks of up to ~5 s each, every wait). */
static void test_junk_slots_one_look(void) {
    enum { JUNK = 6 };
    static const char input[] = "junk nobody serves\n";
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(s, 16) == 0 &&
          getsockname(s, (struct sockaddr *)&sa, &len) == 0);
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, junk_server, &s), 0);
    gt_chain_account junk;
    char uri[64];
    uint64_t agent = 0;
    gt_err err;
    snprintf(uri, sizeof uri, "http://127.0.0.1:%u/card.json", (unsigned)ntohs(sa.sin_port));
    CHECK_EQ_INT(anvil_account(&C, "chain judge junk client", &junk), 0);
    CHECK_MSG(gt_registry_publish(&C, &REGISTRY_, &junk, uri, &agent, &err) == 0, "%s", err.msg);
    uint64_t task = post_slots_of(&junk, input, STAKE, JUNK, 0);
    for (int node = 0; node < 2; node++) { /* every slot noted by both nodes (before too: each after its own look) */
        CHECK(wait_field(node, task, "note", "no claim (look 1, again in 10 s): "));
        for (uint64_t i = 1; i < JUNK; i++) {
            CHECK(wait_field(node, task + i, "note", "no claim"));
            CHECK_CONTAINS(FIELD_LAST, "no claim yet: waits with slot ");
        }
    }
    int looks = atomic_load(&JUNK_LOOKS);
    printf("A's and B's nodes on %d junk slots of one client: %d look(s) at its card; slot %llu: %s\n", JUNK, looks,
           (unsigned long long)(task + JUNK - 1), FIELD_LAST);
    CHECK_MSG(looks <= 2, "%d looks at the junk client's card: more than one per node", looks);
    shutdown(s, SHUT_RDWR);
    close(s);
    pthread_join(th, NULL);
    gt_chain_account_wipe(&junk);
}

/* A worker's seats on a task, read by the client's node: A posts a task of three slots allowing two claims per
 * worker, asking more stake than B's wallet holds (B's node never claims), and gives A's node the third slot's input.
 * ROGUE (registered, funded and approved to the stake before each request) is served it before any claim and after
 * its first claim (a seat left); once it claimed twice, it is refused it (403) with its reason: its claim would
 * revert (SeatsOnTaskUsed). */
static void test_seat_used_input(void) {
    static const char input[] = "two seats a worker\n";
    const uint64_t big = 1000000000000ull; /* more than B's wallet holds */
    char url[512];
    const char *body;
    uint64_t agent = 0;
    gt_err err;
    CHECK_MSG(gt_registry_publish(&C, &REGISTRY_, &ROGUE, "http://127.0.0.1:9/card.json", &agent, &err) == 0, "%s",
              err.msg);
    uint64_t task = post_slots_of(&OP[0], input, big, 3, 2);
    CHECK_EQ_INT(post_input(0, task + 2, input), 202);
    for (int claims = 0; claims <= 2; claims++) {
        fund(&ROGUE, big, &ESCROW); /* its free stake covers the slot's: only its seats decide */
        input_url_at(0, url, sizeof url, task + 2, &ROGUE, &ROGUE.addr, (uint64_t)time(NULL) + 60);
        long st = http(url, NULL, &body);
        printf("ROGUE after %d claim(s) on task %llu: %ld %s\n", claims, (unsigned long long)task, st,
               claims < 2 ? "" : body);
        CHECK_EQ_INT(st, claims < 2 ? 200 : 403);
        if (claims == 2) {
            CHECK_CONTAINS(body, "already used its 2 seat(s) on quorum task");
            CHECK_CONTAINS(body, "its claim of slot");
            break;
        }
        CHECK_MSG(!strcmp(body, input), "served %s", body);
        gt_abi_val args[] = {gt_abi_uint(task)};
        gt_chain_receipt r = {0};
        CHECK_MSG(gt_chain_invoke(&C, &ESCROW, &ROGUE, "claimTask(uint256)", args, 1, &r, NULL, &err) == 0, "%s",
                  err.msg);
        gt_chain_receipt_free(&r);
    }
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, task + 2, &job, NULL), 0);
    CHECK(!job.claimed); /* the third slot: open, its input refused to ROGUE only for its seats */
}

/* A worker's own seats, read before it asks for an input: A posts a task of three slots allowing two claims a
 * worker, at a stake B's wallet covers twice, and gives A's node the input of each. B's node claims two slots (each
 * input fetched first) and works them; at the third it reads its seats on the task first and gives the slot up for
 * good, asking A's node nothing: its note says why, with no further look (it used to ask, be refused with 403, and
 * look again at every backoff while the slot was open). The two slots worked are paid; the third stays open. */
static void test_own_seats_first(void) {
    static const char input[] = "a worker counts its seats\n";
    fund(&OP[1], 2 * STAKE, NULL);
    uint64_t b0 = balance(&OP[1].addr);
    uint64_t task = post_slots_of(&OP[0], input, STAKE, 3, 2);
    for (uint64_t k = 0; k < 3; k++) CHECK_EQ_INT(post_input(0, task + k, input), 202);
    CHECK(wait_field(1, task + 2, "note", "no claim: "));
    printf("B's node on the third slot %llu: %s\n", (unsigned long long)(task + 2), FIELD_LAST);
    CHECK_CONTAINS(FIELD_LAST, "already used its 2 seat(s) on quorum task");
    CHECK_EQ_INT(wait_status(task, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED);
    CHECK_EQ_INT(wait_status(task + 1, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED);
    gt_escrow_job job = {0};
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, task + 2, &job, NULL), 0);
    CHECK(!job.claimed);
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + 2 * BUDGET);
}

/* A restart between commit and reveal: a second validator (a wallet driven here) sits with C, so reveals open
 * only once both committed. C's node commits and is stopped; the other validator commits (reveals open) and
 * reveals; C's node, started again on the same home, reveals the vote it committed (the input kept in its index,
 * the salt derived from its key), and B's node resolves the case: B is paid. */
static void test_restart_reveals(void) {
    static const char input[] = "judged across a restart\n";
    uint8_t why[32] = {5};
    gt_chain_account other;
    gt_err err;
    CHECK_EQ_INT(anvil_account(&C, "chain judge second validator", &other), 0);
    fund(&other, VALIDATOR_STAKE, &COURT);
    CHECK_MSG(gt_court_do(&C, &COURT, &other, GT_COURT_STAKE, VALIDATOR_STAKE, NULL, &err) == 0, "%s", err.msg);
    fund(&ROGUE, STAKE, &ESCROW);
    fund(&OP[1], 2 * STAKE, NULL);
    uint64_t id = post_job(&OP[1].addr, input);
    CHECK_EQ_INT(post_input(1, id, input), 202);
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_SUBMITTED), GT_ESCROW_SUBMITTED);
    uint64_t b0 = balance(&OP[1].addr);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_REJECT, id, why, NULL, &err) == 0, "%s", err.msg);
    CHECK(wait_case(id, GT_COURT_VOTING)); /* disputed and drawn by B's node */
    uint64_t weight = 0;
    gt_court_vote vote = GT_COURT_VOTE_NONE;
    for (int k = 0; k < WAIT_S * 5 && vote != GT_COURT_COMMITTED; k++) {
        CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
        pause_ms(200);
    }
    CHECK_EQ_INT(vote, GT_COURT_COMMITTED); /* C's node committed, and cannot reveal yet */
    stop_node(2);
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_INT(vote, GT_COURT_COMMITTED);
    CHECK_MSG(gt_court_commit(&C, &COURT, &other, id, 1, NULL, &err) == 0, "commit: %s", err.msg);
    CHECK_MSG(gt_court_reveal(&C, &COURT, &other, id, 1, NULL, &err) == 0, "reveal: %s", err.msg);
    start_node(2);
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED); /* B's node resolved */
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_INT(vote, GT_COURT_ACCEPT); /* revealed by the restarted node */
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + BUDGET + STAKE);
    gt_chain_account_wipe(&other);
}

int main(void) {
    if (nodes_begin("chain-judge")) return 1;
    CHECK_EQ_INT(anvil_account(&C, "chain judge rogue evaluator", &ROGUE), 0);
    CHECK_EQ_INT(anvil_account(&C, "chain judge worker without a node", &LONER), 0);
    RUN(test_setup);
    if (NODE[2] > 0) { /* the scenarios need the three nodes */
        RUN(test_node_judges_dispute);
        RUN(test_no_input_no_vote);
        RUN(test_client_serves_input);
        RUN(test_quorum_slots);
        RUN(test_quorum_job);
        RUN(test_slot_of_client_without_node);
        RUN(test_short_submit_window);
        RUN(test_short_verify_window);
        RUN(test_slot_of_client_node_down);
        RUN(test_open_slot_input);
        RUN(test_slot_waits_alone);
        RUN(test_junk_slots_one_look);
        RUN(test_seat_used_input);
        RUN(test_own_seats_first);
        RUN(test_restart_reveals);
    }
    stop_nodes();
    miner_stop();
    gt_chain_account_wipe(&ROGUE);
    gt_chain_account_wipe(&LONER);
    nodes_end();
    return gt_test_finish();
}
