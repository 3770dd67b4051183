/* test_chain_escrow.c: gotong's contracts on a real anvil, driven by the C
 * chain client: the job escrow's full lifecycle post -> claim -> submit ->
 * verify and settle (its gas printed, and held to the goal of 300 k), the
 * ERC-8183 path (createJob, setBudget, fund, submit, complete), ERC-8183's
 * hooks (contracts/test: a recording hook sees each hookable action before
 * and after, in order, with its data; a reverting hook blocks them but not
 * claimRefund; a hook that is the evaluator re-enters and is paid once; no
 * stake on a hooked job; gas with a hook printed), a rejected
 * worker's stake slashed, refunds after expiry (a silent worker slashed, a
 * worker left unjudged not), per-phase deadlines (setPhases / timeout: a
 * missed submission slashed and the job reopened to other workers, a missed
 * verdict refunding everyone, each deadline and who may set or call what;
 * the timed lifecycle's gas, postTimed's held to the goal too; the packed
 * job's bounds: 64-bit amounts, 40-bit times), tasks of several slots
 * (postSlots, claimTask's lowest open slot and one seat per worker,
 * cancelTask), a per-unit verdict without a court (settled at once), the rules each caller could try to break, the
 * agent registry, and a Merkle airdrop claimed with a proof from src/fund
 * (once; a second claim and a forged amount refused). Skipped (exit 77) with
 * a message when anvil or the compiled contracts are missing. */
#include "../test.h"
#include "anvil.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "crypto/addr.h"
#include "fund/airdrop.h"

#define GAS_GOAL 300000 /* post + claim + submit + complete, the README's figure */

static gt_chain C;
static gt_chain_account DEPLOYER, CLIENT, WORKER, WORKER2, VERIFIER, STRANGER;
static gt_addr TOKEN, ESCROW, REGISTRY;
static const uint8_t NO_BYTES[1];

/* Sends sig(args) to contract from a; returns the client's code; r is freed
 * unless keep is given. */
static int tx(gt_chain_account *a, const gt_addr *contract, const char *sig, const gt_abi_val *args, size_t n,
              gt_chain_receipt *keep, gt_err *err) {
    gt_buf d = GT_BUF_INIT;
    gt_chain_receipt r = {0};
    if (keep) memset(keep, 0, sizeof *keep);
    int rc = gt_abi_calldata(sig, args, n, &d, err);
    if (!rc) rc = gt_chain_transact(&C, a, contract, d.data, d.len, &r, err);
    gt_buf_free(&d);
    if (keep && !rc) *keep = r;
    else gt_chain_receipt_free(&r);
    return rc;
}

/* Word `word` of sig(args)'s return data, as a 64-bit number. */
static uint64_t view_u64(const gt_addr *contract, const char *sig, const gt_abi_val *args, size_t n, size_t word) {
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    uint64_t v = UINT64_MAX;
    gt_err err;
    CHECK_EQ_INT(gt_abi_calldata(sig, args, n, &d, NULL), 0);
    CHECK_MSG(gt_chain_call(&C, NULL, contract, d.data, d.len, &out, &err) == 0, "%s: %s", sig, err.msg);
    CHECK_EQ_INT(gt_abi_get_u64(out.data, out.len, word, &v, NULL), 0);
    gt_buf_free(&d);
    gt_buf_free(&out);
    return v;
}

static uint64_t balance(const gt_addr *who) {
    gt_abi_val a[] = {gt_abi_address(who)};
    return view_u64(&TOKEN, "balanceOf(address)", a, 1, 0);
}

/* The job id in r's JobCreated event. */
static uint64_t job_id_of(const gt_chain_receipt *r) {
    uint8_t topic[32];
    uint64_t id = 0;
    gt_abi_event_topic("JobCreated(uint256,address,address,address,uint256)", topic);
    const gt_chain_log *l = gt_chain_find_log(r, &ESCROW, topic);
    CHECK(l && l->n_topics == 4);
    if (l) CHECK_EQ_INT(gt_abi_word_u64(l->topics[1], &id, "job id", NULL), 0);
    return id;
}

/* A one-byte-tagged bytes32 (deliverable, reason, description hash). */
static gt_abi_val tag32(const char *s) {
    uint8_t h[32];
    gt_keccak256(s, strlen(s), h);
    return gt_abi_bytes32(h);
}

/* post(...) by CLIENT with no named provider; returns the job id; gas added. */
static uint64_t post(uint64_t budget, uint64_t stake, uint64_t ttl_s, uint64_t *gas) {
    gt_abi_val a[] = {gt_abi_address(&(gt_addr){{0}}), gt_abi_address(&VERIFIER.addr), gt_abi_uint(anvil_now(&C) + ttl_s),
                      tag32("job spec"), gt_abi_uint(budget), gt_abi_uint(stake)};
    gt_chain_receipt r;
    gt_err err;
    uint64_t id = 0;
    int rc = tx(&CLIENT, &ESCROW, "post(address,address,uint256,bytes32,uint256,uint256)", a, 6, &r, &err);
    CHECK_MSG(rc == 0, "post: %s", err.msg);
    if (!rc) {
        id = job_id_of(&r);
        if (gas) *gas += r.gas_used;
        gt_chain_receipt_free(&r);
    }
    return id;
}

/* Calls sig(jobId[, bytes32 tag, bytes ""]) from a; the gas used is added to
 * *gas; returns the code. */
static int job_call(gt_chain_account *a, const char *sig, uint64_t id, const char *tag, uint64_t *gas, gt_err *err) {
    gt_abi_val args[] = {gt_abi_uint(id), tag32(tag ? tag : ""), gt_abi_bytes(NO_BYTES, 0)};
    gt_chain_receipt r;
    int rc = tx(a, &ESCROW, sig, args, tag ? 3 : 1, &r, err);
    if (!rc) {
        if (gas) *gas += r.gas_used;
        gt_chain_receipt_free(&r);
    }
    return rc;
}

#define OK_CALL(a, sig, id, tag, gas)                                                                   \
    do {                                                                                                \
        gt_err e_;                                                                                      \
        CHECK_MSG(job_call(a, sig, id, tag, gas, &e_) == 0, "%s: %s", sig, e_.msg);                     \
    } while (0)
#define REFUSED(a, sig, id, tag, reason)                                                                \
    do {                                                                                                \
        gt_err e_;                                                                                      \
        CHECK_EQ_INT(job_call(a, sig, id, tag, NULL, &e_), GT_ECHAIN);                                  \
        CHECK_CONTAINS(e_.msg, reason);                                                                 \
    } while (0)

#define CLAIM "claim(uint256)"
#define SUBMIT "submit(uint256,bytes32,bytes)"
#define COMPLETE "complete(uint256,bytes32,bytes)"
#define REJECT "reject(uint256,bytes32,bytes)"
#define REFUND "claimRefund(uint256)"
#define TIMEOUT "timeout(uint256)"
#define SUBMIT_S 100
#define VERIFY_S 50

/* setPhases(id, SUBMIT_S, VERIFY_S) from a; returns the code; gas added. */
static int set_phases(gt_chain_account *a, uint64_t id, uint64_t *gas, gt_err *err) {
    return gt_escrow_set_phases(&C, &ESCROW, a, id, SUBMIT_S, VERIFY_S, gas, err);
}

/* One lifecycle; prints its gas and returns it. */
static uint64_t lifecycle(const char *label) {
    uint64_t g_post = 0, g_claim = 0, g_submit = 0, g_complete = 0;
    uint64_t worker0 = balance(&WORKER.addr), client0 = balance(&CLIENT.addr);
    uint64_t id = post(1000, 100, 3600, &g_post);
    OK_CALL(&WORKER, CLAIM, id, NULL, &g_claim);
    OK_CALL(&WORKER, SUBMIT, id, "the result", &g_submit);
    OK_CALL(&VERIFIER, COMPLETE, id, "re-executed: equal", &g_complete);
    CHECK_EQ_U64(balance(&WORKER.addr), worker0 + 1000);
    CHECK_EQ_U64(balance(&CLIENT.addr), client0 - 1000);
    uint64_t total = g_post + g_claim + g_submit + g_complete;
    printf("gas per lifecycle (%s): %llu = post %llu + claim %llu + submit %llu + complete %llu\n", label,
           (unsigned long long)total, (unsigned long long)g_post, (unsigned long long)g_claim,
           (unsigned long long)g_submit, (unsigned long long)g_complete);
    return total;
}

/* Three figures: the escrow's first job (fresh storage), a job alone in the
 * escrow (its token balance goes 0 -> budget -> 0: the costliest steady
 * case, held to the goal) and a job while another is in flight (the
 * escrow's balance stays non-zero, as on a busy market). */
static void test_lifecycle_gas(void) {
    uint64_t first = lifecycle("first job of the escrow");
    uint64_t alone = lifecycle("one job alone in the escrow");
    uint64_t parked = post(5, 0, 86400, NULL);
    uint64_t busy = lifecycle("another job in flight");
    CHECK_MSG(alone <= GAS_GOAL, "a lifecycle costs %llu gas, over the goal of %d", (unsigned long long)alone,
              GAS_GOAL);
    CHECK(first >= alone && alone >= busy);
    OK_CALL(&VERIFIER, REJECT, parked, "withdrawn", NULL);
    CHECK_EQ_U64(balance(&ESCROW), 0);
}

/* postTimed(budget, stake, SUBMIT_S, VERIFY_S) by CLIENT, judged by
 * VERIFIER; returns the job id (0 on a failed check); gas added. */
static uint64_t post_timed(uint64_t budget, uint64_t stake, uint64_t ttl_s, uint64_t *gas) {
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + ttl_s, .budget = budget,
                         .stake = stake};
    gt_keccak256("timed job spec", 14, t.desc_hash);
    uint64_t id = 0, g = 0;
    gt_err err;
    CHECK_MSG(gt_escrow_post_timed(&C, &ESCROW, &CLIENT, &t, SUBMIT_S, VERIFY_S, &id, &g, &err) == 0, "%s",
              err.msg);
    if (gas) *gas += g;
    return id;
}

/* A timed job's lifecycle, both ways of making the job timed: postTimed
 * (one transaction, held to the goal) and post + setPhases (printed). */
static void test_timed_lifecycle_gas(void) {
    uint64_t g_post = 0, g_phases = 0, g_claim = 0, g_submit = 0, g_complete = 0, w0 = balance(&WORKER.addr);
    gt_err err;
    uint64_t id = post(1000, 100, 3600, &g_post);
    CHECK_MSG(set_phases(&CLIENT, id, &g_phases, &err) == 0, "%s", err.msg);
    OK_CALL(&WORKER, CLAIM, id, NULL, &g_claim);
    OK_CALL(&WORKER, SUBMIT, id, "the result", &g_submit);
    OK_CALL(&VERIFIER, COMPLETE, id, "re-executed: equal", &g_complete);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 1000);
    uint64_t two_tx = g_post + g_phases + g_claim + g_submit + g_complete;
    printf("gas per timed lifecycle (post + setPhases): %llu = post %llu + setPhases %llu + claim %llu + submit %llu"
           " + complete %llu\n", (unsigned long long)two_tx, (unsigned long long)g_post, (unsigned long long)g_phases,
           (unsigned long long)g_claim, (unsigned long long)g_submit, (unsigned long long)g_complete);
    g_post = g_claim = g_submit = g_complete = 0;
    id = post_timed(1000, 100, 3600, &g_post);
    OK_CALL(&WORKER, CLAIM, id, NULL, &g_claim);
    OK_CALL(&WORKER, SUBMIT, id, "the result", &g_submit);
    OK_CALL(&VERIFIER, COMPLETE, id, "re-executed: equal", &g_complete);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 2000);
    CHECK_EQ_U64(balance(&ESCROW), 0); /* a job alone in the escrow, as the untimed figure held to the goal */
    uint64_t one_tx = g_post + g_claim + g_submit + g_complete;
    printf("gas per timed lifecycle (postTimed): %llu = postTimed %llu + claim %llu + submit %llu + complete %llu\n",
           (unsigned long long)one_tx, (unsigned long long)g_post, (unsigned long long)g_claim,
           (unsigned long long)g_submit, (unsigned long long)g_complete);
    CHECK_MSG(one_tx <= GAS_GOAL, "a timed lifecycle costs %llu gas, over the goal of %d", (unsigned long long)one_tx,
              GAS_GOAL);
    CHECK(one_tx < two_tx);
}

/* postTimed's rules, and the packed job's bounds: amounts of 64 bits, times
 * of 40; each refused with the contract's reason, nothing escrowed. */
static void test_post_timed_rules(void) {
    gt_err err;
    uint64_t id = 0, c0 = balance(&CLIENT.addr);
    gt_escrow_terms t = {.provider = WORKER.addr, .evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + 3600,
                         .budget = 10, .stake = 1};
    CHECK_EQ_INT(gt_escrow_post_timed(&C, &ESCROW, &CLIENT, &t, SUBMIT_S, VERIFY_S, &id, NULL, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "names no provider");
    memset(&t.provider, 0, sizeof t.provider);
    CHECK_EQ_INT(gt_escrow_post_timed(&C, &ESCROW, &CLIENT, &t, 0, VERIFY_S, &id, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "phase seconds must be 2 to 1000000");
    CHECK_EQ_INT(gt_escrow_post_timed(&C, &ESCROW, &CLIENT, &t, SUBMIT_S, 1ull << 32, &id, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "phase seconds must be 2 to 1000000");
    /* The ledger's window bounds: a 1-s submit window no worker meets (its stake slashed by timeout), a verify
     * window over 1,000,000 s holding a worker's stake that long behind a silent evaluator (before: both taken). */
    CHECK_EQ_INT(gt_escrow_post_timed(&C, &ESCROW, &CLIENT, &t, 1, VERIFY_S, &id, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "phase seconds must be 2 to 1000000");
    CHECK_EQ_INT(gt_escrow_post_timed(&C, &ESCROW, &CLIENT, &t, SUBMIT_S, 1000001, &id, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "phase seconds must be 2 to 1000000");
    uint8_t big[32] = {0};
    big[23] = 1; /* 2^64 */
    gt_abi_val over[] = {gt_abi_address(&(gt_addr){{0}}), gt_abi_address(&VERIFIER.addr),
                         gt_abi_uint(anvil_now(&C) + 3600), tag32("too much"), gt_abi_u256(big), gt_abi_uint(0)};
    const char *post_sig = "post(address,address,uint256,bytes32,uint256,uint256)";
    CHECK_EQ_INT(tx(&CLIENT, &ESCROW, post_sig, over, 6, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "amount over 2^64 - 1");
    over[4] = gt_abi_uint(10), over[5] = gt_abi_u256(big);
    CHECK_EQ_INT(tx(&CLIENT, &ESCROW, post_sig, over, 6, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "amount over 2^64 - 1");
    over[5] = gt_abi_uint(0), over[2] = gt_abi_uint(1ull << 40);
    CHECK_EQ_INT(tx(&CLIENT, &ESCROW, post_sig, over, 6, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "expiredAt must be a future unix time");
    CHECK_EQ_U64(balance(&CLIENT.addr), c0);
    /* The largest amount that fits is taken and read back whole. */
    over[2] = gt_abi_uint(anvil_now(&C) + 3600), over[4] = gt_abi_uint(UINT64_MAX);
    gt_abi_val mint[] = {gt_abi_address(&CLIENT.addr), gt_abi_uint(UINT64_MAX)};
    CHECK_EQ_INT(tx(&DEPLOYER, &TOKEN, "mint(address,uint256)", mint, 2, NULL, NULL), 0);
    gt_chain_receipt r;
    CHECK_MSG(tx(&CLIENT, &ESCROW, post_sig, over, 6, &r, &err) == 0, "%s", err.msg);
    id = job_id_of(&r);
    gt_chain_receipt_free(&r);
    gt_escrow_job j;
    CHECK_MSG(gt_escrow_get(&C, &ESCROW, id, &j, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(j.budget, UINT64_MAX);
    OK_CALL(&VERIFIER, REJECT, id, "withdrawn", NULL);
    gt_abi_val burn[] = {gt_abi_address(&DEPLOYER.addr), gt_abi_uint(UINT64_MAX)};
    CHECK_EQ_INT(tx(&CLIENT, &TOKEN, "transfer(address,uint256)", burn, 2, NULL, NULL), 0);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0);
}

/* A job's expiry has a ceiling (JobEscrow.MAX_EXPIRY_S, 366 days after the block that opens it): an untimed job's
 * claim holds the worker's stake until its expiry behind a silent evaluator, so a poster could lock a stake (or its
 * escrow) until the year 36812. Refused for a job and for a task's slots, nothing escrowed; the ceiling itself is
 * taken. Before: every expiry under 2^40 was taken. */
static void test_expiry_max(void) {
    gt_err err;
    uint64_t c0 = balance(&CLIENT.addr), id = 0;
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .budget = 10, .stake = 1,
                         .expired_at = anvil_now(&C) + GT_ESCROW_MAX_EXPIRY_S + 3600};
    gt_keccak256("a job for a year and a day", 26, t.desc_hash);
    int rc = gt_escrow_post(&C, &ESCROW, &CLIENT, &VERIFIER.addr, t.expired_at, t.desc_hash, 10, 1, &id, NULL, &err);
    CHECK_EQ_INT(rc, GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "expiredAt must be at most 31622400 s (366 days) after the block's time");
    gt_escrow_slots sl = {.slots = 2, .submit_s = SUBMIT_S, .verify_s = VERIFY_S};
    CHECK_EQ_INT(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &t, &sl, &id, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "expiredAt must be at most 31622400 s (366 days) after the block's time");
    CHECK_EQ_U64(balance(&CLIENT.addr), c0);
    /* The ceiling from the chain's latest block: the next block is later, so this is within it. */
    t.expired_at = anvil_now(&C) + GT_ESCROW_MAX_EXPIRY_S;
    CHECK_MSG(gt_escrow_post(&C, &ESCROW, &CLIENT, &VERIFIER.addr, t.expired_at, t.desc_hash, 10, 1, &id, NULL,
                             &err) == 0, "%s", err.msg);
    OK_CALL(&VERIFIER, REJECT, id, "withdrawn", NULL);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0);
}

/* Who may make a job timed, and when. */
static void test_phases_rules(void) {
    gt_err err;
    uint64_t id = post(10, 1, 3600, NULL);
    CHECK_EQ_INT(set_phases(&STRANGER, id, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "only the client sets the phases");
    CHECK_EQ_INT(gt_escrow_set_phases(&C, &ESCROW, &CLIENT, id, 0, VERIFY_S, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "phase seconds must be 2 to 1000000");
    CHECK_EQ_INT(gt_escrow_set_phases(&C, &ESCROW, &CLIENT, id, SUBMIT_S, 1ull << 32, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "phase seconds must be 2 to 1000000");
    REFUSED(&STRANGER, TIMEOUT, id, NULL, "no phase deadlines");
    OK_CALL(&WORKER, CLAIM, id, NULL, NULL);
    CHECK_EQ_INT(set_phases(&CLIENT, id, NULL, &err), GT_ECHAIN); /* the worker took the job on other terms */
    CHECK_CONTAINS(err.msg, "not funded and unclaimed");
    OK_CALL(&VERIFIER, REJECT, id, "withdrawn", NULL);
    uint8_t desc[32];
    gt_keccak256("named", 5, desc);
    uint64_t named = 0;
    CHECK_MSG(gt_escrow_post_for(&C, &ESCROW, &CLIENT, &WORKER.addr, &VERIFIER.addr, anvil_now(&C) + 3600, desc, 10, 1,
                                 &named, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(set_phases(&CLIENT, named, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "naming its provider");
    OK_CALL(&VERIFIER, REJECT, named, "withdrawn", NULL);
}

/* A claim not submitted in time: anyone may time it out once the deadline
 * passed; the stake goes to the client, the job reopens to any other worker
 * (the one that missed may not claim it again); the late submission is
 * refused. The next worker's claim runs its own deadline. */
static void test_submit_deadline(void) {
    gt_err err;
    uint64_t w0 = balance(&WORKER.addr), w2 = balance(&WORKER2.addr), c0 = balance(&CLIENT.addr);
    uint64_t id = post(1000, 100, 3600, NULL);
    CHECK_MSG(set_phases(&CLIENT, id, NULL, &err) == 0, "%s", err.msg);
    OK_CALL(&WORKER, CLAIM, id, NULL, NULL);
    CHECK_EQ_INT(anvil_advance(&C, SUBMIT_S - 10), 0);
    REFUSED(&STRANGER, TIMEOUT, id, NULL, "no phase deadline has passed");
    CHECK_EQ_INT(anvil_advance(&C, 10), 0);
    REFUSED(&WORKER, SUBMIT, id, "late", "the submit deadline has passed");
    OK_CALL(&STRANGER, TIMEOUT, id, NULL, NULL);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 100);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 1000 + 100);
    gt_escrow_job j;
    CHECK_MSG(gt_escrow_get(&C, &ESCROW, id, &j, &err) == 0, "%s", err.msg);
    CHECK(j.status == GT_ESCROW_FUNDED && !j.claimed && gt_addr_is_zero(&j.provider));
    REFUSED(&STRANGER, TIMEOUT, id, NULL, "no phase deadline has passed"); /* nothing runs until the next claim */
    REFUSED(&WORKER, CLAIM, id, NULL, "already had its seat");
    OK_CALL(&WORKER2, CLAIM, id, NULL, NULL);
    OK_CALL(&WORKER2, SUBMIT, id, "on time", NULL);
    OK_CALL(&VERIFIER, COMPLETE, id, "ok", NULL);
    CHECK_EQ_U64(balance(&WORKER2.addr), w2 + 1000);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 1000 + 100);
}

/* WORKER's subtask of parent (postSubtask): budget 40, stake 5, judged by
 * VERIFIER, timed; its id, or 0 with err set. */
static uint64_t subtask(gt_chain_account *who, uint64_t parent, gt_err *err) {
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + 3600, .budget = 40, .stake = 5};
    gt_keccak256("a part of the job", 17, t.desc_hash);
    uint64_t id = 0;
    return gt_escrow_post_subtask(&C, &ESCROW, who, parent, &t, SUBMIT_S, VERIFY_S, &id, NULL, err) ? 0 : id;
}

/* A subtask (the ledger's subcontract): only the worker holding the parent's
 * claim may post one, and only before it submits; it is funded from that
 * worker's wallet, names its parent, and lives its own life. */
static void test_subtask(void) {
    gt_err err;
    uint64_t id = post(1000, 100, 3600, NULL), w0 = balance(&WORKER.addr), w2 = balance(&WORKER2.addr);
    CHECK_EQ_U64(subtask(&WORKER, id, &err), 0); /* nobody holds the parent yet */
    CHECK_CONTAINS(err.msg, "holds no claimed slot of the parent job");
    OK_CALL(&WORKER, CLAIM, id, NULL, NULL);
    CHECK_EQ_U64(subtask(&WORKER2, id, &err), 0); /* not the parent's worker */
    CHECK_CONTAINS(err.msg, "holds no claimed slot of the parent job");
    CHECK_EQ_U64(subtask(&WORKER, 999999, &err), 0);
    CHECK_CONTAINS(err.msg, "no such job");
    uint64_t sub = subtask(&WORKER, id, &err);
    CHECK_MSG(sub != 0, "postSubtask: %s", err.msg);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 100 - 40);
    gt_abi_val arg[] = {gt_abi_uint(sub)};
    CHECK_EQ_U64(view_u64(&ESCROW, "parentOf(uint256)", arg, 1, 0), id);
    OK_CALL(&WORKER2, CLAIM, sub, NULL, NULL);
    OK_CALL(&WORKER2, SUBMIT, sub, "the part", NULL);
    OK_CALL(&VERIFIER, COMPLETE, sub, "ok", NULL);
    CHECK_EQ_U64(balance(&WORKER2.addr), w2 + 40);
    OK_CALL(&WORKER, SUBMIT, id, "the whole", NULL);
    CHECK_EQ_U64(subtask(&WORKER, id, &err), 0); /* submitted: it holds no claim any more */
    CHECK_CONTAINS(err.msg, "holds no claimed slot of the parent job");
    OK_CALL(&VERIFIER, COMPLETE, id, "ok", NULL);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 40 + 1000);
}

/* A task of `slots` slots (postSlots, timed) by CLIENT judged by VERIFIER; its id. */
static uint64_t post_task(uint64_t slots, uint64_t budget, uint64_t stake, uint64_t ttl_s, gt_err *err) {
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + ttl_s, .budget = budget,
                         .stake = stake};
    gt_keccak256("a task of slots", 15, t.desc_hash);
    uint64_t id = 0;
    gt_escrow_slots s = {.slots = slots, .submit_s = SUBMIT_S, .verify_s = VERIFY_S};
    return gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &t, &s, &id, NULL, err) ? 0 : id;
}

#define TASK_CLAIM(a, id) gt_escrow_task_do(&C, &ESCROW, a, 0, id, NULL, &err)
#define TASK_CANCEL(a, id) gt_escrow_task_do(&C, &ESCROW, a, 1, id, NULL, &err)

/* A task of several slots: funded at once (budget * slots), a claim takes
 * the lowest open slot, one seat per worker over the task's life, every slot
 * taken refuses the next claimant, each slot judged and paid on its own;
 * claim() of a slot is refused. */
static void test_task_slots(void) {
    gt_err err;
    uint64_t c0 = balance(&CLIENT.addr), w0 = balance(&WORKER.addr), w2 = balance(&WORKER2.addr);
    CHECK_EQ_U64(post_task(0, 100, 10, 3600, &err), 0);
    CHECK_CONTAINS(err.msg, "1 to 64 slots");
    CHECK_EQ_U64(post_task(65, 100, 10, 3600, &err), 0);
    CHECK_CONTAINS(err.msg, "1 to 64 slots");
    uint64_t id = post_task(2, 100, 10, 3600, &err);
    CHECK_MSG(id != 0, "postSlots: %s", err.msg);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 200);
    REFUSED(&WORKER, CLAIM, id + 1, NULL, "claimed with claimTask");
    CHECK_MSG(TASK_CLAIM(&WORKER, id) == 0, "%s", err.msg);
    CHECK_EQ_INT(TASK_CLAIM(&WORKER, id), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "already had its seats on the task");
    CHECK_MSG(TASK_CLAIM(&WORKER2, id) == 0, "%s", err.msg);
    CHECK_EQ_INT(TASK_CLAIM(&STRANGER, id), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "all slots of the task are taken");
    gt_escrow_job j0, j1;
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &j0, &err), 0);
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id + 1, &j1, &err), 0);
    CHECK(j0.claimed && gt_addr_eq(&j0.provider, &WORKER.addr)); /* the lowest open slot first */
    CHECK(j1.claimed && gt_addr_eq(&j1.provider, &WORKER2.addr));
    CHECK_EQ_INT(TASK_CANCEL(&CLIENT, id), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "has been claimed");
    OK_CALL(&WORKER2, SUBMIT, id + 1, "slot 1", NULL);
    OK_CALL(&VERIFIER, COMPLETE, id + 1, "ok", NULL); /* slot 1 paid while slot 0 still runs */
    CHECK_EQ_U64(balance(&WORKER2.addr), w2 + 100);
    OK_CALL(&WORKER, SUBMIT, id, "slot 0", NULL);
    OK_CALL(&VERIFIER, REJECT, id, "wrong", NULL); /* no court: final, budget and stake to the client */
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 10);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 100 + 10);
    CHECK_EQ_INT(TASK_CLAIM(&STRANGER, id), GT_ECHAIN); /* both slots settled */
    CHECK_CONTAINS(err.msg, "taken or settled");
}

/* A per-unit verdict with no court (contracts/JobEscrow.sol, verifyUnits):
 * final at once, settled pro rata: 1 of 4 units accepted pays a quarter of
 * the budget and the stake less three quarters; a task of one slot
 * (postSlots) is claimed with claimTask. */
static void test_units_no_court(void) {
    gt_err err;
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + 3600, .budget = 1000, .stake = 400};
    gt_escrow_slots s = {.slots = 1, .batch_items = 4};
    uint8_t why[32] = {1};
    uint64_t id = 0, c0 = balance(&CLIENT.addr), w0 = balance(&WORKER.addr);
    CHECK_MSG(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &t, &s, &id, NULL, &err) == 0, "%s", err.msg);
    REFUSED(&WORKER, CLAIM, id, NULL, "claimed with claimTask");
    CHECK_MSG(TASK_CLAIM(&WORKER, id) == 0, "%s", err.msg);
    OK_CALL(&WORKER, SUBMIT, id, "a batch of 4", NULL);
    CHECK_MSG(gt_escrow_verify_units(&C, &ESCROW, &VERIFIER, id, 1, 4, why, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 250 - 300);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 - 250 + 300);
    gt_escrow_job j;
    CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &j, &err), 0);
    CHECK_EQ_INT(j.status, GT_ESCROW_COMPLETED);
}

/* seatsPerWorker: a client may let one worker take more slots (0 meaning 1,
 * at most 64, the ledger's bound). */
static void test_task_seats(void) {
    gt_err err;
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + 3600, .budget = 20, .stake = 2};
    gt_escrow_slots sl = {.slots = 3, .seats_per_worker = 65};
    uint64_t id = 0;
    CHECK_EQ_INT(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &t, &sl, &id, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "seatsPerWorker must be 0 (meaning 1) to 64");
    sl.seats_per_worker = 2;
    CHECK_MSG(gt_escrow_post_slots(&C, &ESCROW, &CLIENT, &t, &sl, &id, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(TASK_CLAIM(&WORKER, id) == 0, "%s", err.msg);
    CHECK_MSG(TASK_CLAIM(&WORKER, id) == 0, "%s", err.msg); /* its second seat: slot 1 */
    CHECK_EQ_INT(TASK_CLAIM(&WORKER, id), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "already had its seats on the task");
    CHECK_MSG(TASK_CLAIM(&WORKER2, id) == 0, "%s", err.msg);
    for (uint64_t i = 0; i < 3; i++) OK_CALL(&VERIFIER, REJECT, id + i, "withdrawn", NULL); /* claimed, unsubmitted */
}

/* The client cancels a task no one claimed: every slot's budget back, no
 * claim after; only the client, once. */
static void test_task_cancel(void) {
    gt_err err;
    uint64_t c0 = balance(&CLIENT.addr);
    uint64_t id = post_task(3, 50, 5, 3600, &err);
    CHECK_MSG(id != 0, "postSlots: %s", err.msg);
    CHECK_EQ_INT(TASK_CANCEL(&WORKER, id), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "only the client cancels");
    CHECK_MSG(TASK_CANCEL(&CLIENT, id) == 0, "%s", err.msg);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0);
    CHECK_EQ_INT(TASK_CLAIM(&WORKER, id), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "it is cancelled");
    CHECK_EQ_INT(TASK_CANCEL(&CLIENT, id), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "the task is cancelled");
    CHECK_EQ_INT(TASK_CLAIM(&WORKER, id + 3), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "no such task");
}

/* A claim of a timed job that misses its submit deadline after the job's
 * expiry ends the job at once (no claim could follow): stake slashed to the
 * client, budget back; not reopened. */
static void test_submit_missed_after_expiry(void) {
    uint64_t w0 = balance(&WORKER.addr), c0 = balance(&CLIENT.addr);
    uint64_t id = post_timed(300, 30, 20, NULL);
    OK_CALL(&WORKER, CLAIM, id, NULL, NULL);
    CHECK_EQ_INT(anvil_advance(&C, SUBMIT_S), 0);
    OK_CALL(&STRANGER, TIMEOUT, id, NULL, NULL);
    gt_escrow_job j;
    gt_err err;
    CHECK_MSG(gt_escrow_get(&C, &ESCROW, id, &j, &err) == 0, "%s", err.msg);
    CHECK(j.status == GT_ESCROW_EXPIRED);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 30);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 + 30);
    REFUSED(&WORKER2, CLAIM, id, NULL, "not funded");
}

/* A timed job's expiry bounds only the claim: past it, a claimed job is not
 * refunded (its phases run) and the worker still submits in time. */
static void test_expiry_bounds_claim(void) {
    uint64_t w0 = balance(&WORKER.addr);
    uint64_t id = post_timed(500, 50, 60, NULL); /* postTimed: timed as setPhases makes it */
    OK_CALL(&WORKER, CLAIM, id, NULL, NULL);
    CHECK_EQ_INT(anvil_advance(&C, 61), 0);
    REFUSED(&STRANGER, REFUND, id, NULL, "ends by its phase deadlines");
    OK_CALL(&WORKER, SUBMIT, id, "within its phase", NULL);
    OK_CALL(&VERIFIER, COMPLETE, id, "ok", NULL);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 500);
}

/* A submission not judged in time: anyone times it out; nobody is paid: the
 * budget and the evaluator's fee back to the client, the stake to the
 * worker; a late verdict is refused. */
static void test_verify_deadline(void) {
    gt_err err;
    uint64_t w0 = balance(&WORKER.addr), c0 = balance(&CLIENT.addr), v0 = balance(&VERIFIER.addr), id = 0;
    gt_escrow_terms t = {.evaluator = VERIFIER.addr, .expired_at = anvil_now(&C) + 3600, .budget = 1000,
                         .stake = 100, .fee = 30};
    gt_keccak256("timed with a fee", 16, t.desc_hash);
    CHECK_MSG(gt_escrow_post_fee(&C, &ESCROW, &CLIENT, &t, &id, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(set_phases(&CLIENT, id, NULL, &err) == 0, "%s", err.msg);
    OK_CALL(&WORKER, CLAIM, id, NULL, NULL);
    OK_CALL(&WORKER, SUBMIT, id, "done", NULL);
    CHECK_EQ_INT(anvil_advance(&C, VERIFY_S - 10), 0);
    REFUSED(&STRANGER, TIMEOUT, id, NULL, "no phase deadline has passed");
    CHECK_EQ_INT(anvil_advance(&C, 10), 0);
    REFUSED(&VERIFIER, COMPLETE, id, "late", "the verify deadline has passed");
    REFUSED(&VERIFIER, REJECT, id, "late", "the verify deadline has passed");
    OK_CALL(&STRANGER, TIMEOUT, id, NULL, NULL);
    REFUSED(&STRANGER, TIMEOUT, id, NULL, "not waiting on a phase");
    REFUSED(&VERIFIER, COMPLETE, id, "late", "not submitted");
    CHECK_EQ_U64(balance(&WORKER.addr), w0);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0);
    CHECK_EQ_U64(balance(&VERIFIER.addr), v0);
}

/* ERC-8183 as the standard writes it: createJob naming the provider, then
 * setBudget, fund (with the expected budget), submit, complete. */
static void test_erc8183_path(void) {
    gt_err err;
    gt_chain_receipt r;
    uint64_t gas = 0, worker0 = balance(&WORKER.addr);
    gt_abi_val create[] = {gt_abi_address(&WORKER.addr), gt_abi_address(&VERIFIER.addr),
                           gt_abi_uint(anvil_now(&C) + 3600), gt_abi_string("summarise the attached paper"),
                           gt_abi_address(&(gt_addr){{0}})};
    const char *create_sig = "createJob(address,address,uint256,string,address)";
    CHECK_MSG(tx(&CLIENT, &ESCROW, create_sig, create, 5, &r, &err) == 0, "createJob: %s", err.msg);
    uint64_t id = job_id_of(&r);
    gas += r.gas_used;
    gt_chain_receipt_free(&r);
    gt_abi_val budget[] = {gt_abi_uint(id), gt_abi_uint(500), gt_abi_bytes(NO_BYTES, 0)};
    CHECK_MSG(tx(&CLIENT, &ESCROW, "setBudget(uint256,uint256,bytes)", budget, 3, &r, &err) == 0, "%s", err.msg);
    gas += r.gas_used;
    gt_chain_receipt_free(&r);
    /* The client funds what it agreed to, not a budget changed under it. */
    gt_abi_val wrong[] = {gt_abi_uint(id), gt_abi_uint(499), gt_abi_bytes(NO_BYTES, 0)};
    CHECK_EQ_INT(tx(&CLIENT, &ESCROW, "fund(uint256,uint256,bytes)", wrong, 3, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "not the expected one");
    CHECK_MSG(tx(&CLIENT, &ESCROW, "fund(uint256,uint256,bytes)", budget, 3, &r, &err) == 0, "%s", err.msg);
    gas += r.gas_used;
    gt_chain_receipt_free(&r);
    REFUSED(&WORKER2, SUBMIT, id, "not mine", "only the provider submits");
    OK_CALL(&WORKER, SUBMIT, id, "summary", &gas);
    OK_CALL(&VERIFIER, COMPLETE, id, "ok", &gas);
    CHECK_EQ_U64(balance(&WORKER.addr), worker0 + 500);
    printf("gas per lifecycle (ERC-8183 path, no stake): %llu\n", (unsigned long long)gas);
    /* A hook must be a contract: an address with no code would block every hooked action. */
    create[4] = gt_abi_address(&STRANGER.addr);
    CHECK_EQ_INT(tx(&CLIENT, &ESCROW, create_sig, create, 5, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "the hook has no code");
}

/* createJob by CLIENT naming provider (zero: none), VERIFIER or evaluator,
 * and hook; returns the job id; gas added. */
static uint64_t create_hooked(const gt_addr *provider, const gt_addr *evaluator, const gt_addr *hook, uint64_t *gas) {
    gt_abi_val a[] = {gt_abi_address(provider), gt_abi_address(evaluator), gt_abi_uint(anvil_now(&C) + 3600),
                      gt_abi_string("a hooked job"), gt_abi_address(hook)};
    gt_chain_receipt r;
    gt_err err;
    uint64_t id = 0;
    int rc = tx(&CLIENT, &ESCROW, "createJob(address,address,uint256,string,address)", a, 5, &r, &err);
    CHECK_MSG(rc == 0, "createJob: %s", err.msg);
    if (!rc) {
        id = job_id_of(&r);
        if (gas) *gas += r.gas_used;
        gt_chain_receipt_free(&r);
    }
    return id;
}

/* sig(id, word, optParams) from a (word: an address, amount or bytes32); gas added; returns the code. */
static int hooked_call(gt_chain_account *a, const char *sig, uint64_t id, gt_abi_val word, const char *opt,
                       uint64_t *gas, gt_err *err) {
    gt_abi_val args[] = {gt_abi_uint(id), word, gt_abi_bytes((const uint8_t *)opt, strlen(opt))};
    gt_chain_receipt r;
    int rc = tx(a, &ESCROW, sig, args, 3, &r, err);
    if (!rc) {
        if (gas) *gas += r.gas_used;
        gt_chain_receipt_free(&r);
    }
    return rc;
}

#define SET_PROVIDER "setProvider(uint256,address,bytes)"
#define SET_BUDGET "setBudget(uint256,uint256,bytes)"
#define FUND "fund(uint256,uint256,bytes)"

/* A job's status (getJob's seventh word: 0 Open, 1 Funded, 2 Submitted, 3 Completed, 4 Rejected, 5 Expired). */
static uint64_t status_of(uint64_t id) {
    gt_abi_val a[] = {gt_abi_uint(id)};
    return view_u64(&ESCROW, "getJob(uint256)", a, 1, 6);
}

/* hookOf(id): the job's hook (zero: none). */
static gt_addr hook_of(uint64_t id) {
    gt_abi_val a[] = {gt_abi_uint(id)};
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    gt_addr h = {{0xff}};
    gt_err err;
    CHECK_EQ_INT(gt_abi_calldata("hookOf(uint256)", a, 1, &d, NULL), 0);
    CHECK_MSG(gt_chain_call(&C, NULL, &ESCROW, d.data, d.len, &out, &err) == 0, "hookOf: %s", err.msg);
    CHECK_EQ_INT(gt_abi_get_address(out.data, out.len, 0, &h, NULL), 0);
    gt_buf_free(&d);
    gt_buf_free(&out);
    return h;
}

static int addr_eq(gt_addr a, gt_addr b) {
    return !memcmp(&a, &b, sizeof a);
}

/* Deploys a test hook (contracts/test) built for ESCROW. */
static gt_addr deploy_hook(const char *name) {
    gt_abi_val a[] = {gt_abi_address(&ESCROW)};
    gt_addr at = {{0}};
    uint64_t gas;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, name, a, 1, &at, &gas), 0);
    return at;
}

/* Checks the hook's call i: before or after, job id, the action's selector,
 * the job's status as the hook saw it, and data == want (n bytes). */
static void check_hook_call(const gt_addr *hook, uint64_t i, int before, uint64_t id, const char *sig,
                            uint64_t status, const uint8_t *want, size_t n) {
    gt_abi_val a[] = {gt_abi_uint(i)};
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    gt_err err;
    CHECK_EQ_INT(gt_abi_calldata("callAt(uint256)", a, 1, &d, NULL), 0);
    CHECK_MSG(gt_chain_call(&C, NULL, hook, d.data, d.len, &out, &err) == 0, "callAt: %s", err.msg);
    int b = -1;
    uint64_t job = 0, st = 99;
    uint8_t sel[32], want_sel[4];
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK_EQ_INT(gt_abi_get_bool(out.data, out.len, 0, &b, NULL), 0);
    CHECK_EQ_INT(gt_abi_get_u64(out.data, out.len, 1, &job, NULL), 0);
    CHECK_EQ_INT(gt_abi_get_word(out.data, out.len, 2, sel, NULL), 0);
    CHECK_EQ_INT(gt_abi_get_u64(out.data, out.len, 3, &st, NULL), 0);
    CHECK_EQ_INT(gt_abi_get_bytes(out.data, out.len, 4, &data, &len, NULL), 0);
    gt_abi_selector(sig, want_sel);
    CHECK_MSG(b == before, "call %llu of %s: before %d", (unsigned long long)i, sig, b);
    CHECK_EQ_U64(job, id);
    CHECK_MSG(!memcmp(sel, want_sel, 4), "call %llu: not %s's selector", (unsigned long long)i, sig);
    CHECK_MSG(st == status, "call %llu of %s: status %llu, not %llu", (unsigned long long)i, sig,
              (unsigned long long)st, (unsigned long long)status);
    CHECK_MSG(len == n && data && !memcmp(data, want, n), "call %llu of %s: data differs", (unsigned long long)i, sig);
    gt_buf_free(&d);
    gt_buf_free(&out);
}

/* Checks the hook's calls 2k (before, status s0) and 2k + 1 (after, status
 * s1) for sig with data abi.encode(word, bytes opt), or opt raw when word is NULL. */
static void check_hook_pair(const gt_addr *hook, uint64_t k, uint64_t id, const char *sig, const gt_abi_val *word,
                            const char *opt, uint64_t s0, uint64_t s1) {
    gt_buf want = GT_BUF_INIT;
    if (word) {
        gt_abi_val v[] = {*word, gt_abi_bytes((const uint8_t *)opt, strlen(opt))};
        CHECK_EQ_INT(gt_abi_encode(v, 2, &want, NULL), 0);
    } else {
        CHECK_EQ_INT(gt_buf_append(&want, opt, strlen(opt)), 0);
    }
    check_hook_call(hook, 2 * k, 1, id, sig, s0, want.data, want.len);
    check_hook_call(hook, 2 * k + 1, 0, id, sig, s1, want.data, want.len);
    gt_buf_free(&want);
}

/* ERC-8183's hook: a job created with a recording hook; each hookable action
 * calls beforeAction (seeing the job before it) then afterAction (after its
 * effects and transfers), in order, with the action's selector and its
 * arguments encoded as the standard says; gas with the hook printed. A job
 * with a hook takes no stake. */
static void test_hook_records(void) {
    gt_addr hook = deploy_hook("RecordingHook"), none = {{0}};
    gt_err err;
    uint64_t gas = 0, g_set_provider = 0, worker0 = balance(&WORKER.addr);
    uint64_t id = create_hooked(&none, &VERIFIER.addr, &hook, &gas);
    CHECK(addr_eq(hook_of(id), hook));
    gt_abi_val w_provider = gt_abi_address(&WORKER.addr), w_budget = gt_abi_uint(500);
    gt_abi_val w_deliv = tag32("the result"), w_reason = tag32("re-executed: equal");
    CHECK_MSG(hooked_call(&CLIENT, SET_PROVIDER, id, w_provider, "bid #7", &g_set_provider, &err) == 0, "%s", err.msg);
    CHECK_MSG(hooked_call(&CLIENT, SET_BUDGET, id, w_budget, "", &gas, &err) == 0, "%s", err.msg);
    CHECK_MSG(hooked_call(&CLIENT, FUND, id, w_budget, "kyc:ok", &gas, &err) == 0, "%s", err.msg);
    CHECK_MSG(hooked_call(&WORKER, SUBMIT, id, w_deliv, "", &gas, &err) == 0, "%s", err.msg);
    CHECK_MSG(hooked_call(&VERIFIER, COMPLETE, id, w_reason, "rep", &gas, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(balance(&WORKER.addr), worker0 + 500);
    CHECK_EQ_U64(view_u64(&hook, "calls()", NULL, 0, 0), 10);
    check_hook_pair(&hook, 0, id, SET_PROVIDER, &w_provider, "bid #7", 0, 0);
    check_hook_pair(&hook, 1, id, SET_BUDGET, &w_budget, "", 0, 0);
    check_hook_pair(&hook, 2, id, FUND, NULL, "kyc:ok", 0, 1);
    check_hook_pair(&hook, 3, id, SUBMIT, &w_deliv, "", 1, 2);
    check_hook_pair(&hook, 4, id, COMPLETE, &w_reason, "rep", 2, 3);
    printf("gas per lifecycle (ERC-8183 path, recording hook): %llu (+ setProvider %llu)\n",
           (unsigned long long)gas, (unsigned long long)g_set_provider);
    /* The client rejects an open hooked job: hooked too. */
    uint64_t open_id = create_hooked(&WORKER.addr, &VERIFIER.addr, &hook, NULL);
    CHECK_MSG(hooked_call(&CLIENT, REJECT, open_id, tag32("changed my mind"), "x", NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(view_u64(&hook, "calls()", NULL, 0, 0), 12);
    gt_abi_val w_no = tag32("changed my mind");
    check_hook_pair(&hook, 5, open_id, REJECT, &w_no, "x", 0, 4);
    /* No stake on a hooked job: its hook could block the worker's submit and the claim would then be slashed. */
    uint64_t staked = create_hooked(&none, &VERIFIER.addr, &hook, NULL);
    CHECK(addr_eq(hook_of(staked), hook));
    gt_abi_val st[] = {gt_abi_uint(staked), gt_abi_uint(10)};
    CHECK_EQ_INT(tx(&CLIENT, &ESCROW, "setStake(uint256,uint256)", st, 2, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "takes no stake");
}

/* A hook that reverts blocks the action (before it, or after it: the whole
 * transaction rolls back), but never claimRefund: after expiry the client's
 * money comes back whatever the hook does. */
static void test_hook_blocks_not_refund(void) {
    gt_addr hook = deploy_hook("RecordingHook");
    gt_err err;
    uint64_t client0 = balance(&CLIENT.addr), worker0 = balance(&WORKER.addr);
    uint64_t id = create_hooked(&WORKER.addr, &VERIFIER.addr, &hook, NULL);
    CHECK_MSG(hooked_call(&CLIENT, SET_BUDGET, id, gt_abi_uint(300), "", NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(hooked_call(&CLIENT, FUND, id, gt_abi_uint(300), "", NULL, &err) == 0, "%s", err.msg);
    uint8_t sel[4];
    gt_abi_selector(SUBMIT, sel);
    gt_abi_val block_submit[] = {gt_abi_bytes32((uint8_t[32]){sel[0], sel[1], sel[2], sel[3]}), gt_abi_bool(0)};
    CHECK_EQ_INT(tx(&DEPLOYER, &hook, "setBlock(bytes4,bool)", block_submit, 2, NULL, NULL), 0);
    CHECK_EQ_INT(hooked_call(&WORKER, SUBMIT, id, tag32("r"), "", NULL, &err), GT_ECHAIN); /* before: blocked */
    CHECK_EQ_U64(status_of(id), 1);
    gt_abi_selector(COMPLETE, sel);
    gt_abi_val block_complete[] = {gt_abi_bytes32((uint8_t[32]){sel[0], sel[1], sel[2], sel[3]}), gt_abi_bool(1)};
    CHECK_EQ_INT(tx(&DEPLOYER, &hook, "setBlock(bytes4,bool)", block_complete, 2, NULL, NULL), 0);
    CHECK_MSG(hooked_call(&WORKER, SUBMIT, id, tag32("r"), "", NULL, &err) == 0, "%s", err.msg);
    uint64_t calls = view_u64(&hook, "calls()", NULL, 0, 0);
    CHECK_EQ_INT(hooked_call(&VERIFIER, COMPLETE, id, tag32("ok"), "", NULL, &err), GT_ECHAIN); /* after: rolled back */
    CHECK_EQ_U64(status_of(id), 2);
    CHECK_EQ_U64(balance(&WORKER.addr), worker0);
    CHECK_EQ_U64(view_u64(&hook, "calls()", NULL, 0, 0), calls); /* its before-call rolled back too */
    REFUSED(&STRANGER, REFUND, id, NULL, "not expired yet");
    CHECK_EQ_INT(anvil_advance(&C, 3601), 0);
    OK_CALL(&STRANGER, REFUND, id, NULL, NULL);
    CHECK_EQ_U64(status_of(id), 5);
    CHECK_EQ_U64(balance(&CLIENT.addr), client0);
    CHECK_EQ_U64(view_u64(&hook, "calls()", NULL, 0, 0), calls); /* claimRefund never calls the hook */
}

/* Tells hook to revert on sig's beforeAction (in_after 0) or afterAction
 * (1); sig NULL: on nothing. */
static void hook_block(const gt_addr *hook, const char *sig, int in_after) {
    uint8_t sel[4] = {0};
    if (sig) gt_abi_selector(sig, sel);
    gt_abi_val a[] = {gt_abi_bytes32((uint8_t[32]){sel[0], sel[1], sel[2], sel[3]}), gt_abi_bool(in_after)};
    CHECK_EQ_INT(tx(&DEPLOYER, hook, "setBlock(bytes4,bool)", a, 2, NULL, NULL), 0);
}

/* A hook that reverts blocks the terms too: setProvider, setBudget and fund
 * (before, or after its transfer: the whole transaction rolls back), each
 * leaving the job and every balance as they were; once it stops blocking,
 * the same calls go through. */
static void test_hook_blocks_terms(void) {
    gt_addr hook = deploy_hook("RecordingHook"), none = {{0}};
    gt_err err;
    gt_abi_val a_job[1];
    uint64_t client0 = balance(&CLIENT.addr), escrow0 = balance(&ESCROW);
    /* setProvider, blocked before: the job keeps no provider. */
    uint64_t open_id = create_hooked(&none, &VERIFIER.addr, &hook, NULL);
    hook_block(&hook, SET_PROVIDER, 0);
    CHECK_EQ_INT(hooked_call(&CLIENT, SET_PROVIDER, open_id, gt_abi_address(&WORKER.addr), "", NULL, &err), GT_ECHAIN);
    a_job[0] = gt_abi_uint(open_id);
    CHECK_EQ_U64(view_u64(&ESCROW, "getJob(uint256)", a_job, 1, 1), 0); /* provider still zero */
    /* setBudget, blocked before and after: the budget stays 0. */
    uint64_t id = create_hooked(&WORKER.addr, &VERIFIER.addr, &hook, NULL);
    a_job[0] = gt_abi_uint(id);
    uint64_t calls = view_u64(&hook, "calls()", NULL, 0, 0);
    for (int after = 0; after < 2; after++) {
        hook_block(&hook, SET_BUDGET, after);
        CHECK_EQ_INT(hooked_call(&CLIENT, SET_BUDGET, id, gt_abi_uint(300), "", NULL, &err), GT_ECHAIN);
        CHECK_EQ_U64(view_u64(&ESCROW, "getJob(uint256)", a_job, 1, 3), 0);
    }
    hook_block(&hook, NULL, 0);
    CHECK_MSG(hooked_call(&CLIENT, SET_BUDGET, id, gt_abi_uint(300), "", NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(view_u64(&ESCROW, "getJob(uint256)", a_job, 1, 3), 300);
    /* fund, blocked before and after its transfer: no money moves, the job stays Open. */
    for (int after = 0; after < 2; after++) {
        hook_block(&hook, FUND, after);
        CHECK_EQ_INT(hooked_call(&CLIENT, FUND, id, gt_abi_uint(300), "", NULL, &err), GT_ECHAIN);
        CHECK_EQ_U64(status_of(id), 0);
        CHECK_EQ_U64(balance(&CLIENT.addr), client0);
        CHECK_EQ_U64(balance(&ESCROW), escrow0);
    }
    CHECK_EQ_U64(view_u64(&hook, "calls()", NULL, 0, 0), calls + 2); /* only the unblocked setBudget's pair */
    hook_block(&hook, NULL, 0);
    CHECK_MSG(hooked_call(&CLIENT, FUND, id, gt_abi_uint(300), "", NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(status_of(id), 1);
    CHECK_EQ_U64(balance(&CLIENT.addr), client0 - 300);
    CHECK_EQ_U64(balance(&ESCROW), escrow0 + 300);
    CHECK_EQ_INT(anvil_advance(&C, 3601), 0); /* the budget back: this test leaves no money in the escrow */
    OK_CALL(&STRANGER, REFUND, id, NULL, NULL);
    CHECK_EQ_U64(balance(&CLIENT.addr), client0);
}

/* A hook that is also the job's evaluator re-enters the escrow from its
 * callbacks: from complete's beforeAction it rejects the job (the client's
 * refund) and completes it again; a second payment out of other jobs'
 * escrow must never follow. The re-entrant reject succeeds but complete,
 * checking after the hook, then finds the job rejected and the whole
 * transaction reverts; from afterAction both re-entrant calls are refused.
 * Either way the escrow pays the budget once. */
static void test_hook_reentrancy(void) {
    gt_addr hook = deploy_hook("ReentrantHook");
    gt_err err;
    uint64_t other = post(2000, 0, 3600, NULL); /* other money in the escrow, the prize of a double payment */
    uint64_t client0 = balance(&CLIENT.addr), worker0 = balance(&WORKER.addr), escrow0 = balance(&ESCROW);
    uint64_t id = create_hooked(&WORKER.addr, &hook, &hook, NULL);
    CHECK_MSG(hooked_call(&CLIENT, SET_BUDGET, id, gt_abi_uint(400), "", NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(hooked_call(&CLIENT, FUND, id, gt_abi_uint(400), "", NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(hooked_call(&WORKER, SUBMIT, id, tag32("r"), "", NULL, &err) == 0, "%s", err.msg);
    gt_abi_val on[] = {gt_abi_bool(1)}, off[] = {gt_abi_bool(0)}, job[] = {gt_abi_uint(id)};
    CHECK_EQ_INT(tx(&DEPLOYER, &hook, "setReenterBefore(bool)", on, 1, NULL, NULL), 0);
    CHECK_EQ_INT(tx(&STRANGER, &hook, "judge(uint256)", job, 1, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "not submitted");
    CHECK_EQ_U64(status_of(id), 2);
    CHECK_EQ_U64(balance(&ESCROW), escrow0 + 400);
    CHECK_EQ_U64(balance(&CLIENT.addr), client0 - 400);
    CHECK_EQ_INT(tx(&DEPLOYER, &hook, "setReenterBefore(bool)", off, 1, NULL, NULL), 0);
    CHECK_MSG(tx(&STRANGER, &hook, "judge(uint256)", job, 1, NULL, &err) == 0, "judge: %s", err.msg);
    CHECK_EQ_U64(view_u64(&hook, "reentries()", NULL, 0, 0), 0);
    CHECK_EQ_U64(view_u64(&hook, "refused()", NULL, 0, 0), 2);
    CHECK_EQ_U64(status_of(id), 3);
    CHECK_EQ_U64(balance(&WORKER.addr), worker0 + 400);
    CHECK_EQ_U64(balance(&CLIENT.addr), client0 - 400);
    CHECK_EQ_U64(balance(&ESCROW), escrow0);
    CHECK(addr_eq(hook_of(other), (gt_addr){{0}})); /* post takes no hook */
    OK_CALL(&VERIFIER, REJECT, other, "not needed", NULL); /* its budget back to the client */
}

/* The evaluator rejects a submission: the budget goes back and the worker's
 * stake is slashed to the client; the event says so. */
static void test_reject_slashes_stake(void) {
    uint64_t worker0 = balance(&WORKER.addr), client0 = balance(&CLIENT.addr);
    uint64_t id = post(1000, 100, 3600, NULL);
    OK_CALL(&WORKER, CLAIM, id, NULL, NULL);
    CHECK_EQ_U64(balance(&WORKER.addr), worker0 - 100);
    OK_CALL(&WORKER, SUBMIT, id, "a wrong result", NULL);
    REFUSED(&CLIENT, REJECT, id, "no", "only the evaluator rejects");
    REFUSED(&WORKER, COMPLETE, id, "pay me", "only the evaluator completes");
    gt_abi_val args[] = {gt_abi_uint(id), tag32("re-executed: differs"), gt_abi_bytes(NO_BYTES, 0)};
    gt_chain_receipt r;
    gt_err err;
    CHECK_MSG(tx(&VERIFIER, &ESCROW, REJECT, args, 3, &r, &err) == 0, "%s", err.msg);
    uint8_t topic[32];
    gt_abi_event_topic("StakeSlashed(uint256,address,uint256)", topic);
    const gt_chain_log *l = gt_chain_find_log(&r, &ESCROW, topic);
    uint64_t slashed = 0;
    gt_addr who;
    CHECK(l && l->n_topics == 3);
    if (l) {
        CHECK_EQ_INT(gt_abi_word_address(l->topics[2], &who, "provider", NULL), 0);
        CHECK(gt_addr_eq(&who, &WORKER.addr));
        CHECK_EQ_INT(gt_abi_get_u64(l->data, l->data_len, 0, &slashed, NULL), 0);
    }
    CHECK_EQ_U64(slashed, 100);
    gt_chain_receipt_free(&r);
    CHECK_EQ_U64(balance(&WORKER.addr), worker0 - 100);
    CHECK_EQ_U64(balance(&CLIENT.addr), client0 + 100);
    REFUSED(&VERIFIER, COMPLETE, id, "changed my mind", "not submitted");
    gt_abi_val get[] = {gt_abi_uint(id)};
    CHECK_EQ_U64(view_u64(&ESCROW, "getJob(uint256)", get, 1, 6), 4); /* Status.Rejected */
}

/* What each party might try outside its turn. */
static void test_rules_hold(void) {
    uint64_t id = post(1000, 100, 3600, NULL);
    REFUSED(&CLIENT, CLAIM, id, NULL, "client or the evaluator may not work");
    REFUSED(&VERIFIER, CLAIM, id, NULL, "client or the evaluator may not work");
    REFUSED(&WORKER, SUBMIT, id, "early", "only the provider submits");
    OK_CALL(&WORKER, CLAIM, id, NULL, NULL);
    REFUSED(&WORKER2, CLAIM, id, NULL, "already claimed");
    REFUSED(&WORKER2, SUBMIT, id, "steal", "only the provider submits");
    REFUSED(&VERIFIER, COMPLETE, id, "too soon", "not submitted");
    REFUSED(&STRANGER, REFUND, id, NULL, "not expired yet");
    OK_CALL(&WORKER, SUBMIT, id, "the result", NULL);
    REFUSED(&WORKER, SUBMIT, id, "again", "not funded");
    OK_CALL(&VERIFIER, COMPLETE, id, "ok", NULL);
    REFUSED(&VERIFIER, COMPLETE, id, "twice", "not submitted");
    REFUSED(&VERIFIER, REJECT, id, "after paying", "already settled");
    REFUSED(&STRANGER, CLAIM, 999, NULL, "no such job");
    /* A client judging its own job could reject good work and keep the
     * stake: no worker may stake on such a job. */
    gt_abi_val a[] = {gt_abi_address(&(gt_addr){{0}}), gt_abi_address(&CLIENT.addr), gt_abi_uint(anvil_now(&C) + 3600),
                      tag32("self-judged"), gt_abi_uint(10), gt_abi_uint(5)};
    gt_chain_receipt r;
    gt_err err;
    CHECK_MSG(tx(&CLIENT, &ESCROW, "post(address,address,uint256,bytes32,uint256,uint256)", a, 6, &r, &err) == 0, "%s",
              err.msg);
    uint64_t self = job_id_of(&r);
    gt_chain_receipt_free(&r);
    REFUSED(&WORKER, CLAIM, self, NULL, "needs an evaluator other than its client");
    OK_CALL(&CLIENT, REJECT, self, "withdrawn", NULL);
}

/* After expiry anyone may refund: a worker that claimed and never submitted
 * loses its stake to the client; one that submitted but was never judged
 * gets it back. Nothing is paid twice. */
static void test_refund_after_expiry(void) {
    uint64_t w0 = balance(&WORKER.addr), w2 = balance(&WORKER2.addr), c0 = balance(&CLIENT.addr);
    uint64_t silent = post(1000, 100, 600, NULL), unjudged = post(700, 50, 600, NULL);
    OK_CALL(&WORKER, CLAIM, silent, NULL, NULL);
    OK_CALL(&WORKER2, CLAIM, unjudged, NULL, NULL);
    OK_CALL(&WORKER2, SUBMIT, unjudged, "done, nobody looked", NULL);
    CHECK_EQ_INT(anvil_advance(&C, 601), 0);
    REFUSED(&WORKER, SUBMIT, silent, "late", "expired");
    OK_CALL(&STRANGER, REFUND, silent, NULL, NULL);
    OK_CALL(&STRANGER, REFUND, unjudged, NULL, NULL);
    REFUSED(&STRANGER, REFUND, silent, NULL, "nothing to refund");
    REFUSED(&VERIFIER, COMPLETE, unjudged, "too late", "not submitted");
    CHECK_EQ_U64(balance(&WORKER.addr), w0 - 100);
    CHECK_EQ_U64(balance(&WORKER2.addr), w2);
    CHECK_EQ_U64(balance(&CLIENT.addr), c0 + 100);
    /* A job past its time can no longer be claimed. */
    uint64_t id = post(10, 1, 60, NULL);
    CHECK_EQ_INT(anvil_advance(&C, 61), 0);
    REFUSED(&WORKER, CLAIM, id, NULL, "expired");
    OK_CALL(&CLIENT, REFUND, id, NULL, NULL);
}

/* The registry: one agent per wallet, its URI readable by anyone, changed
 * only by its owner. */
static void test_registry(void) {
    const char *uri = "https://worker.example/.well-known/agent-card.json";
    gt_abi_val reg[] = {gt_abi_string(uri)};
    gt_chain_receipt r;
    gt_err err;
    CHECK_MSG(tx(&WORKER, &REGISTRY, "register(string)", reg, 1, &r, &err) == 0, "%s", err.msg);
    uint8_t topic[32];
    gt_abi_event_topic("Registered(uint256,string,address)", topic);
    const gt_chain_log *l = gt_chain_find_log(&r, &REGISTRY, topic);
    const uint8_t *p = NULL;
    size_t len = 0;
    CHECK(l != NULL);
    if (l) CHECK_EQ_INT(gt_abi_get_bytes(l->data, l->data_len, 0, &p, &len, NULL), 0);
    CHECK(len == strlen(uri) && !memcmp(p, uri, len));
    gt_chain_receipt_free(&r);
    gt_abi_val who[] = {gt_abi_address(&WORKER.addr)};
    uint64_t id = view_u64(&REGISTRY, "agentOf(address)", who, 1, 0);
    CHECK_EQ_U64(id, 1);
    CHECK_EQ_INT(tx(&WORKER, &REGISTRY, "register(string)", reg, 1, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "already has an agent");
    gt_abi_val set[] = {gt_abi_uint(id), gt_abi_string("https://evil.example/")};
    CHECK_EQ_INT(tx(&STRANGER, &REGISTRY, "setAgentURI(uint256,string)", set, 2, NULL, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "only the agent's owner");
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    gt_abi_val q[] = {gt_abi_uint(id)};
    CHECK_EQ_INT(gt_abi_calldata("agentURI(uint256)", q, 1, &d, NULL), 0);
    CHECK_EQ_INT(gt_chain_call(&C, NULL, &REGISTRY, d.data, d.len, &out, NULL), 0);
    CHECK_EQ_INT(gt_abi_get_bytes(out.data, out.len, 0, &p, &len, NULL), 0);
    CHECK(len == strlen(uri) && !memcmp(p, uri, len));
    gt_buf_free(&d);
    gt_buf_free(&out);
}

/* claim(index, account, amount, proof) from `from`; returns the code. */
static int airdrop_claim(const gt_addr *dist, gt_chain_account *from, uint64_t index, const gt_addr *account,
                         uint64_t amount, const uint8_t (*proof)[32], size_t len, gt_err *err) {
    gt_abi_val items[64];
    for (size_t i = 0; i < len && i < 64; i++) items[i] = gt_abi_bytes32(proof[i]);
    gt_abi_val a[] = {gt_abi_uint(index), gt_abi_address(account), gt_abi_uint(amount), gt_abi_array(items, len)};
    return tx(from, dist, "claim(uint256,address,uint256,bytes32[])", a, 4, NULL, err);
}

/* An airdrop tree built by src/fund, paid by the Merkle distributor: a claim
 * with its proof pays once, whoever sends it; a second claim and a forged
 * amount are refused. */
static void test_airdrop(void) {
    gt_fund_claim claims[] = {{WORKER.addr, 300}, {WORKER2.addr, 200}, {STRANGER.addr, 500}, {VERIFIER.addr, 7}};
    gt_fund_airdrop tree;
    gt_err err;
    CHECK_EQ_INT(gt_fund_airdrop_build(claims, 4, &tree, &err), 0);
    gt_abi_val ctor[] = {gt_abi_address(&TOKEN), gt_abi_bytes32(tree.root)};
    gt_addr dist;
    uint64_t gas;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "MerkleDistributor", ctor, 2, &dist, &gas), 0);
    gt_abi_val mint[] = {gt_abi_address(&dist), gt_abi_uint(1007)};
    CHECK_EQ_INT(tx(&DEPLOYER, &TOKEN, "mint(address,uint256)", mint, 2, NULL, &err), 0);
    uint8_t (*proof)[32] = NULL;
    size_t len = 0;
    CHECK_EQ_INT(gt_fund_airdrop_proof(&tree, 1, &proof, &len, &err), 0);
    uint64_t w2 = balance(&WORKER2.addr);
    CHECK_MSG(airdrop_claim(&dist, &STRANGER, 1, &WORKER2.addr, 200, proof, len, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(balance(&WORKER2.addr), w2 + 200);
    gt_abi_val idx[] = {gt_abi_uint(1)};
    CHECK_EQ_U64(view_u64(&dist, "isClaimed(uint256)", idx, 1, 0), 1);
    CHECK_EQ_INT(airdrop_claim(&dist, &WORKER2, 1, &WORKER2.addr, 200, proof, len, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "already claimed");
    gt_free(proof);
    proof = NULL;
    /* Index 0 with ten times its amount: the proof no longer folds to the root. */
    CHECK_EQ_INT(gt_fund_airdrop_proof(&tree, 0, &proof, &len, &err), 0);
    CHECK_EQ_INT(airdrop_claim(&dist, &WORKER, 0, &WORKER.addr, 3000, proof, len, &err), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "invalid proof");
    uint64_t w = balance(&WORKER.addr);
    CHECK_MSG(airdrop_claim(&dist, &WORKER, 0, &WORKER.addr, 300, proof, len, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(balance(&WORKER.addr), w + 300);
    CHECK_EQ_U64(balance(&dist), 1007 - 500);
    gt_free(proof);
    gt_fund_airdrop_free(&tree);
}

/* A free claim of a job open to anyone holds it until its deadline, and fresh addresses cost nothing: one party
 * could squat every open job and slot. As on the embedded ledger (every task asks a stake), a job open to any worker
 * (post, a task's slots) must ask a stake to be claimed; a job naming its worker may ask none. Before, the claims
 * below went through. */
static void test_open_job_needs_stake(void) {
    gt_err err;
    uint64_t open = post(10, 0, 3600, NULL);
    REFUSED(&WORKER, CLAIM, open, NULL, "a job open to any worker asks a stake");
    OK_CALL(&VERIFIER, REJECT, open, "withdrawn", NULL);
    uint64_t task = post_task(2, 10, 0, 3600, &err);
    CHECK_MSG(task != 0, "postSlots: %s", err.msg);
    CHECK_EQ_INT(TASK_CLAIM(&WORKER, task), GT_ECHAIN);
    CHECK_CONTAINS(err.msg, "a job open to any worker asks a stake");
    CHECK_MSG(gt_escrow_task_do(&C, &ESCROW, &CLIENT, 1, task, NULL, &err) == 0, "cancelTask: %s", err.msg);
    uint8_t desc[32];
    uint64_t named = 0, w0 = balance(&WORKER.addr);
    gt_keccak256("named, no stake", 15, desc);
    CHECK_MSG(gt_escrow_post_for(&C, &ESCROW, &CLIENT, &WORKER.addr, &VERIFIER.addr, anvil_now(&C) + 3600, desc, 10, 0,
                                 &named, NULL, &err) == 0, "%s", err.msg);
    OK_CALL(&WORKER, CLAIM, named, NULL, NULL); /* its named worker: no stake asked */
    OK_CALL(&WORKER, SUBMIT, named, "done", NULL);
    OK_CALL(&VERIFIER, COMPLETE, named, "ok", NULL);
    CHECK_EQ_U64(balance(&WORKER.addr), w0 + 10);
}

int main(void) {
    anvil_require(1);
    if (anvil_start(&C)) return 1;
    const char *seeds[] = {"deployer", "client", "worker", "worker2", "verifier", "stranger"};
    gt_chain_account *acct[] = {&DEPLOYER, &CLIENT, &WORKER, &WORKER2, &VERIFIER, &STRANGER};
    for (int i = 0; i < 6; i++) CHECK_EQ_INT(anvil_account(&C, seeds[i], acct[i]), 0);
    uint64_t gas;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "GotongToken", NULL, 0, &TOKEN, &gas), 0);
    /* No court: a rejection is final at once (test_chain_dispute has the court). */
    gt_abi_val tok[] = {gt_abi_address(&TOKEN), gt_abi_address(&(gt_addr){{0}})};
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "JobEscrow", tok, 2, &ESCROW, &gas), 0);
    printf("gas to deploy JobEscrow: %llu\n", (unsigned long long)gas);
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "AgentRegistry", NULL, 0, &REGISTRY, &gas), 0);
    uint8_t max[32];
    memset(max, 0xff, 32);
    for (int i = 1; i < 4; i++) { /* client and workers: tokens and a standing approval of the escrow */
        gt_abi_val mint[] = {gt_abi_address(&acct[i]->addr), gt_abi_uint(1000000)};
        gt_abi_val approve[] = {gt_abi_address(&ESCROW), gt_abi_u256(max)};
        CHECK_EQ_INT(tx(&DEPLOYER, &TOKEN, "mint(address,uint256)", mint, 2, NULL, NULL), 0);
        CHECK_EQ_INT(tx(acct[i], &TOKEN, "approve(address,uint256)", approve, 2, NULL, NULL), 0);
    }
    RUN(test_lifecycle_gas);
    RUN(test_erc8183_path);
    RUN(test_hook_records);
    RUN(test_hook_blocks_not_refund);
    RUN(test_hook_blocks_terms);
    RUN(test_hook_reentrancy);
    RUN(test_reject_slashes_stake);
    RUN(test_rules_hold);
    RUN(test_refund_after_expiry);
    RUN(test_timed_lifecycle_gas);
    RUN(test_phases_rules);
    RUN(test_post_timed_rules);
    RUN(test_expiry_max);
    RUN(test_task_slots);
    RUN(test_task_seats);
    RUN(test_units_no_court);
    RUN(test_subtask);
    RUN(test_task_cancel);
    RUN(test_open_job_needs_stake);
    RUN(test_submit_missed_after_expiry);
    RUN(test_submit_deadline);
    RUN(test_verify_deadline);
    RUN(test_expiry_bounds_claim);
    RUN(test_registry);
    RUN(test_airdrop);
    for (int i = 0; i < 6; i++) gt_chain_account_wipe(acct[i]);
    gt_chain_close(&C);
    anvil_stop();
    return gt_test_finish();
}
