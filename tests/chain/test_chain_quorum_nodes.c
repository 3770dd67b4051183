/* test_chain_quorum_nodes.c: quorum tasks worked and judged by `gotong node
 * --chain` nodes with several court validators, on a real anvil. Five
 * operators: A deploys and posts (its node, the client's, holds the inputs),
 * B works, C, D and E bond into the court with `gotong chain court stake`
 * and judge (a validator's node claims no slot). Then:
 *   - the escrow hands B another slot than the one B fetched: A posts a task
 *     of two slots (quorum 2, two claims per worker) and gives A's node the
 *     second slot's input only; B's node cannot fetch the first slot's (its
 *     look fails, the slot waits), fetches the second's and claims with
 *     claimTask, which gives the lowest open slot: the first. B's node keeps
 *     the input for the slot the receipt's JobClaimed names (every slot of a
 *     task has the task's description hash), works that slot, and C, D and
 *     E, who fetch the input from B's node (A's holds none for it), all vote
 *     accept; B's node then claims the second slot with its second seat and
 *     works it: B is paid for both, its results served;
 *   - three slots (quorum 2) posted with `gotong chain post`, judged by a
 *     panel of four: C, D, E and LIAR, a validator wallet driven here that
 *     votes against every re-execution. B's node claims one slot, HONEST (a
 *     wallet driven here) another and submits the right result, ROGUE the
 *     third and submits a wrong one. Each round follows the three honest
 *     validators (75 % of the weight, quorum 2): B and HONEST are paid,
 *     ROGUE's stake goes to the client and its slot reopens; C, D and E each
 *     vote as their re-execution says; LIAR's 20 % bond is slashed from its
 *     stake on each round and paid to the three by weight (the remainder of
 *     the division to the client).
 * Each scenario checks the token's supply unchanged and the balances of every
 * party, the escrow and the court summing to what they held before.
 * Skipped (exit 77) with a message when anvil or the contracts are missing. */
#include <time.h>

#define N_NODES 5
#include "nodes_harness.h"

#include "api/chain_market.h"

#define BUDGET 1000
#define STAKE 200
#define VALIDATOR_STAKE 1000000 /* the court's least stake: 1 token */
#define JUDGE_BOND (VALIDATOR_STAKE * 20 / 100) /* DisputeCourt's JUDGE_SLASH_PCT of a seat's weight */
#define N_JUDGES 3 /* nodes C, D and E */

static gt_chain_account HONEST, ROGUE, LIAR; /* an honest worker, a lying worker, a lying judge: no nodes */
static gt_addr REGISTRY_;

/* amount minted to w (A is the token's minter) and, when spender is not NULL, approved by w to it. */
static void fund(gt_chain_account *w, uint64_t amount, const gt_addr *spender) {
    mint(&w->addr, amount);
    if (spender) approve(w, spender, amount);
}

/* The token's totalSupply(). */
static uint64_t supply(void) {
    uint64_t v = 0;
    gt_err err;
    CHECK_MSG(gt_chain_view_u64(&C, &TOKEN, "totalSupply()", NULL, 0, 0, &v, &err) == 0, "%s", err.msg);
    return v;
}

/* The token balances of every party of these scenarios, the escrow and the court, summed. */
static uint64_t held(void) {
    const gt_addr *who[] = {&HONEST.addr, &ROGUE.addr, &LIAR.addr, &ESCROW, &COURT};
    uint64_t sum = 0;
    for (int i = 0; i < N_NODES; i++) sum += balance(&OP[i].addr);
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) sum += balance(who[i]);
    return sum;
}



/* Polls node i's view of job id until its string field `field` holds want; 1 then (the value in FIELD_LAST). */
static int wait_field(int i, uint64_t id, const char *field, const char *want) {
    char url[256];
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[i], (unsigned long long)id);
    return wait_field_at(url, field, want, 1);
}

/* Polls the court until judge's seat on job id's latest round holds a revealed vote; that vote. */
static gt_court_vote wait_vote(uint64_t id, const gt_addr *judge) {
    uint64_t weight = 0;
    gt_court_vote vote = GT_COURT_VOTE_NONE;
    for (int k = 0; k < WAIT_S * 5 && vote != GT_COURT_ACCEPT && vote != GT_COURT_REJECT; k++) {
        CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, judge, &weight, &vote, NULL), 0);
        if (vote != GT_COURT_ACCEPT && vote != GT_COURT_REJECT) pause_ms(200);
    }
    return vote;
}

/* Each validator node's vote on job id's round is want (each re-ran the work), and its note says it revealed. */
static void judges_voted(uint64_t id, gt_court_vote want) {
    for (int i = 2; i < 2 + N_JUDGES; i++) {
        CHECK_MSG(wait_vote(id, &OP[i].addr) == want, "node %c's vote on job %llu", 'A' + i, (unsigned long long)id);
        CHECK(wait_field(i, id, "note", want == GT_COURT_ACCEPT ? "revealed accept (gas " : "revealed reject (gas "));
    }
}

/* The operators' homes and the deployment; C, D and E stake into the court with the CLI; the nodes start. */
static void test_setup(void) {
    char cmd[2048], w[GT_ADDR_STR_BYTES];
    int st;
    static const nh_contract contracts[] = {{"GotongToken", &TOKEN}, {"JobEscrow", &ESCROW}, {"DisputeCourt", &COURT},
                                            {"AgentRegistry", &REGISTRY_}};
    for (int i = 0; i < N_NODES; i++) make_home(i, "chain quorum nodes");
    deploy(contracts, sizeof contracts / sizeof contracts[0]);
    for (int i = 2; i < 2 + N_JUDGES; i++) {
        fund(&OP[i], VALIDATOR_STAKE, NULL);
        gt_addr_to_str(&OP[i].addr, w);
        snprintf(cmd, sizeof cmd, "%s chain court stake --amount %d --home %s --from %s --password-file %s 2>&1",
                 GT_CLI, VALIDATOR_STAKE, HOME_[i], w, PW[i]);
        const char *out = run(cmd, &st);
        CHECK_MSG(st == 0, "chain court stake: %s", out);
        CHECK_EQ_U64(validator_word(&OP[i].addr, 0), VALIDATOR_STAKE);
    }
    for (int i = 0; i < N_NODES; i++) start_node(i);
    miner_start();
}

/* B's node's result on slot id, as its output route serves it once its index has the slot completed. */
static void served_result(uint64_t id, const char *right) {
    char url[256];
    const char *body;
    CHECK(wait_field(1, id, "status", "completed")); /* B's index (2 blocks deep) */
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/output", URL[1], (unsigned long long)id);
    long st = http(url, NULL, &body);
    CHECK_EQ_INT(st, 200);
    CHECK_MSG(!strcmp(body, right), "B's result on job %llu: %s", (unsigned long long)id, body);
    if (st != 200) { /* what B's node says of the job, to tell why */
        snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[1], (unsigned long long)id);
        http(url, NULL, &body);
        printf("B's node on job %llu: %s\n", (unsigned long long)id, body);
    }
}

/* The escrow hands B's node another slot than the one it fetched: A posts a task of two slots allowing two claims
 * per worker and gives A's node the input of slot task + 1 only. B's node's look at slot task fails (A's node holds
 * no input of it); it fetches slot task + 1's and claims, and claimTask gives it slot task, the lowest open one.
 * B's node works the slot it got, from the input it fetched (the task's: every slot has the task's description
 * hash), and serves it to the three judges (A's node holds none for that slot); it then claims slot task + 1 with
 * its second seat (it used to keep the fetched input under the slot it looked at too, and never looked at that slot
 * again: a seat left unused and the slot left open) and works it. Both are accepted by C, D and E and paid. */
static void test_other_slot_claimed(void) {
    static const char input[] = "the escrow picks the slot\n";
    static const char right[] = "{\"bytes\":26,\"lines\":1,\"words\":5}";
    gt_escrow_terms t = {.budget = BUDGET, .stake = STAKE, .expired_at = anvil_now(&C) + 86400};
    gt_escrow_slots sl = {.slots = 2, .seats_per_worker = 2, .quorum = 2, .submit_s = 3600, .verify_s = 3600};
    uint64_t task = 0;
    gt_err err;
    fund(&OP[0], 2 * BUDGET, &ESCROW);
    fund(&OP[1], 2 * STAKE, NULL); /* B's node approved the escrow at its start */
    uint64_t s0 = supply(), h0 = held(), a0 = balance(&OP[0].addr), b0 = balance(&OP[1].addr), e0 = balance(&ESCROW);
    gt_keccak256(input, strlen(input), t.desc_hash);
    gt_chain_account_resync(&OP[0]); /* A's node sends from this wallet too */
    CHECK_MSG(gt_escrow_post_slots(&C, &ESCROW, &OP[0], &t, &sl, &task, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(post_input(0, task + 1, input), 202); /* the second slot's alone */
    gt_escrow_job got = wait_claimed(task);
    CHECK(got.claimed && gt_addr_eq(&got.provider, &OP[1].addr)); /* from a look at task + 1: task's fails */
    got = wait_claimed(task + 1);
    CHECK(got.claimed && gt_addr_eq(&got.provider, &OP[1].addr)); /* its second seat */
    char url[256];
    const char *body;
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[0], (unsigned long long)task);
    CHECK_EQ_INT(http(url, NULL, &body), 200);
    CHECK_CONTAINS(body, "\"inputHeld\":false"); /* the judges can get slot task's input from B's node alone */
    for (uint64_t id = task; id <= task + 1; id++) {
        CHECK_EQ_INT(wait_status(id, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED);
        judges_voted(id, GT_COURT_ACCEPT);
        printf("slot %llu: worked by B, accepted by C, D and E; E's note: %s\n", (unsigned long long)id, FIELD_LAST);
        served_result(id, right); /* the task's input, worked */
    }
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + 2 * BUDGET); /* paid twice, its stakes back */
    CHECK_EQ_U64(balance(&OP[0].addr), a0 - 2 * BUDGET);
    CHECK_EQ_U64(balance(&ESCROW), e0);
    for (int i = 2; i < 2 + N_JUDGES; i++) CHECK_EQ_U64(validator_word(&OP[i].addr, 1), 0); /* bonds freed */
    CHECK_EQ_U64(supply(), s0);
    CHECK_EQ_U64(held(), h0);
}

/* Posts a quorum task of three slots (quorum 2) with `gotong chain post` from A (the inputs to A's node); the task
 * id (its first slot's). */
static uint64_t post_three(const char *input) {
    const char *said;
    return chain_post_slots("three.txt", input, 3, 2, BUDGET, STAKE, &said);
}

/* w claims a slot of task (claimTask) and submits keccak(result) on the slot it got; that slot's id. */
static uint64_t claim_and_submit(gt_chain_account *w, uint64_t task, const char *result) {
    gt_abi_val args[] = {gt_abi_uint(task)};
    gt_chain_receipt r = {0};
    gt_err err;
    uint8_t h[32];
    uint64_t slot = 0;
    CHECK_MSG(gt_chain_invoke(&C, &ESCROW, w, "claimTask(uint256)", args, 1, &r, NULL, &err) == 0, "%s", err.msg);
    gt_chain_receipt_free(&r);
    for (uint64_t s = task; s < task + 3 && !slot; s++) {
        gt_escrow_job j = {0};
        CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, s, &j, NULL), 0);
        if (j.claimed && gt_addr_eq(&j.provider, &w->addr)) slot = s;
    }
    CHECK(slot != 0);
    gt_keccak256(result, strlen(result), h);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, w, GT_ESCROW_SUBMIT, slot, h, NULL, &err) == 0, "%s", err.msg);
    return slot;
}

/* LIAR, seated on slot's round once it is submitted, commits `accept` there (sealed). */
static void liar_commits(uint64_t slot, int accept) {
    uint64_t weight = 0;
    gt_court_vote vote = GT_COURT_VOTE_NONE;
    uint32_t round = 0;
    gt_err err;
    CHECK_EQ_INT(wait_status(slot, GT_ESCROW_SUBMITTED), GT_ESCROW_SUBMITTED);
    for (int k = 0; k < WAIT_S * 5 && !weight; k++) { /* the panel is drawn two blocks after the claim */
        CHECK_EQ_INT(gt_court_seat(&C, &COURT, slot, &LIAR.addr, &weight, &vote, NULL), 0);
        if (!weight) pause_ms(200);
    }
    CHECK_EQ_U64(weight, VALIDATOR_STAKE); /* four eligible validators: all sit, weighing their stake */
    CHECK_EQ_INT(gt_court_round_of(&C, &COURT, slot, &round, &err), 0);
    CHECK_MSG(gt_court_commit_round(&C, &COURT, &LIAR, slot, round, accept, NULL, &err) == 0, "commit: %s", err.msg);
}

/* LIAR reveals its vote on slot's round once reveals open (every member committed). */
static void liar_reveals(uint64_t slot, int accept) {
    uint32_t round = 0;
    gt_err err = {0};
    int rc = -1;
    CHECK_EQ_INT(gt_court_round_of(&C, &COURT, slot, &round, &err), 0);
    for (int k = 0; k < WAIT_S * 2 && rc; k++) {
        gt_chain_account_resync(&LIAR);
        rc = gt_court_reveal_round(&C, &COURT, &LIAR, slot, round, accept, NULL, &err);
        if (rc) pause_ms(500);
    }
    CHECK_MSG(rc == 0, "reveal on slot %llu: %s", (unsigned long long)slot, err.msg);
}

/* A task of three slots judged by C, D, E and LIAR (who votes against every re-execution): B's node and HONEST
 * submit the right result, ROGUE a wrong one; each round goes the honest validators' way. */
static void test_several_judges_one_liar(void) {
    static const char input[] = "three slots\nfour judges\none of them lies\n";
    static const char right[] = "{\"bytes\":41,\"lines\":3,\"words\":8}", lie[] = "{\"bytes\":41,\"lines\":3,\"words\":9}";
    gt_err err;
    fund(&LIAR, VALIDATOR_STAKE, &COURT);
    CHECK_MSG(gt_court_do(&C, &COURT, &LIAR, GT_COURT_STAKE, VALIDATOR_STAKE, NULL, &err) == 0, "%s", err.msg);
    fund(&OP[0], 3 * BUDGET, NULL); /* `gotong chain post` approves the escrow */
    fund(&OP[1], STAKE, NULL);
    fund(&HONEST, STAKE, &ESCROW);
    fund(&ROGUE, STAKE, &ESCROW);
    uint64_t s0 = supply(), h0 = held(), a0 = balance(&OP[0].addr), b0 = balance(&OP[1].addr);
    uint64_t e0 = balance(&ESCROW), w0 = balance(&HONEST.addr), r0 = balance(&ROGUE.addr), c0[N_NODES];
    for (int i = 2; i < 2 + N_JUDGES; i++) c0[i] = balance(&OP[i].addr);
    uint64_t task = post_three(input);
    if (!task) return;
    uint64_t good = claim_and_submit(&HONEST, task, right), bad = claim_and_submit(&ROGUE, task, lie);
    uint64_t mine = 3 * task + 3 - good - bad; /* the third slot (task + 0, 1 and 2 sum to 3 task + 3): B's */
    gt_escrow_job j = wait_claimed(mine);
    CHECK(j.claimed && gt_addr_eq(&j.provider, &OP[1].addr));
    uint64_t slots[3] = {mine, good, bad};
    for (int k = 0; k < 3; k++) liar_commits(slots[k], slots[k] == bad); /* against the work, each time */
    for (int k = 0; k < 3; k++) liar_reveals(slots[k], slots[k] == bad);
    CHECK_EQ_INT(wait_status(mine, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED);
    CHECK_EQ_INT(wait_status(good, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED);
    gt_escrow_job rb = {.status = GT_ESCROW_SUBMITTED};
    for (int k = 0; k < WAIT_S * 5 && rb.status == GT_ESCROW_SUBMITTED; k++) {
        CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, bad, &rb, NULL), 0);
        if (rb.status == GT_ESCROW_SUBMITTED) pause_ms(200);
    }
    CHECK_EQ_INT(rb.status, GT_ESCROW_FUNDED); /* rejected, and reopened (the claim window is open) */
    CHECK(!rb.claimed);
    judges_voted(mine, GT_COURT_ACCEPT);
    judges_voted(good, GT_COURT_ACCEPT);
    judges_voted(bad, GT_COURT_REJECT);
    printf("task %llu: B's slot %llu and HONEST's %llu accepted, ROGUE's %llu rejected by C, D and E over LIAR\n",
           (unsigned long long)task, (unsigned long long)mine, (unsigned long long)good, (unsigned long long)bad);
    for (int k = 0; k < 3; k++)
        CHECK_EQ_INT(wait_vote(slots[k], &LIAR.addr), slots[k] == bad ? GT_COURT_ACCEPT : GT_COURT_REJECT);
    const uint64_t share = JUDGE_BOND / N_JUDGES, rest = JUDGE_BOND - N_JUDGES * share; /* payWinners' division */
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + BUDGET);
    CHECK_EQ_U64(balance(&HONEST.addr), w0 + BUDGET);
    CHECK_EQ_U64(balance(&ROGUE.addr), r0 - STAKE); /* its stake lost, nothing paid */
    CHECK_EQ_U64(balance(&OP[0].addr), a0 - 3 * BUDGET + STAKE + 3 * rest); /* ROGUE's stake, the remainders */
    for (int i = 2; i < 2 + N_JUDGES; i++) {
        CHECK_EQ_U64(balance(&OP[i].addr), c0[i] + 3 * share); /* a third of LIAR's bond, each round */
        CHECK_EQ_U64(validator_word(&OP[i].addr, 0), VALIDATOR_STAKE);
        CHECK_EQ_U64(validator_word(&OP[i].addr, 1), 0);
    }
    CHECK_EQ_U64(validator_word(&LIAR.addr, 0), VALIDATOR_STAKE - 3 * JUDGE_BOND); /* slashed on each round */
    CHECK_EQ_U64(validator_word(&LIAR.addr, 1), 0);
    CHECK_EQ_U64(balance(&ESCROW), e0 + BUDGET); /* the reopened slot's budget */
    CHECK_EQ_U64(supply(), s0);
    CHECK_EQ_U64(held(), h0);
}

int main(void) {
    if (nodes_begin("chain-quorum")) return 1;
    CHECK_EQ_INT(anvil_account(&C, "chain quorum honest worker", &HONEST), 0);
    CHECK_EQ_INT(anvil_account(&C, "chain quorum rogue worker", &ROGUE), 0);
    CHECK_EQ_INT(anvil_account(&C, "chain quorum lying judge", &LIAR), 0);
    RUN(test_setup);
    if (NODE[N_NODES - 1] > 0) { /* the scenarios need every node */
        RUN(test_other_slot_claimed);
        RUN(test_several_judges_one_liar);
    }
    stop_nodes();
    miner_stop();
    gt_chain_account_wipe(&HONEST);
    gt_chain_account_wipe(&ROGUE);
    gt_chain_account_wipe(&LIAR);
    nodes_end();
    return gt_test_finish();
}
