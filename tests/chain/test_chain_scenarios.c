/* test_chain_scenarios.c: the market scenarios of tests/scenarios (the files
 * tests/market/test_scenarios.c plays on the embedded ledger) played against
 * the contracts on a real anvil: GotongToken, DisputeCourt and JobEscrow,
 * deployed fresh for each file with the file's windows. Both runners check
 * the same expectations written in the file, so a scenario that passes here
 * and there has the same outcomes on both backends: who was paid, who was
 * slashed, each account's balance, stake and locked amounts, the task's and
 * its slot's state, and which actions were refused.
 *
 * How the scenario language maps to the chain (one job per task, one job per
 * slot for a task of several slots):
 *   task_post  -> post(provider 0, evaluator = verifier or the poster,
 *                 expiredAt = post time + claimSeconds, spec hash, bounty, stake),
 *                 postTimed(... submitSeconds, verifySeconds) for a timed task,
 *                 postWithFee with a fee (then setPhases for a timed one),
 *                 then setSeats for a timed task of 1 slot with seatsPerWorker,
 *                 postSubtask(parent's job, ...) for a subtask (a task_post with a parent),
 *                 postSlots(... fee, slots, seatsPerWorker, submitSeconds,
 *                 verifySeconds, batchItems, lastBatchItems) for a task of
 *                 several slots or one holding units, postQuorum(... fee,
 *                 submitSeconds, verifySeconds, quorum) for a quorum task
 *                 (1 slot, timed; the court is its evaluator),
 *                 postQuorumSlots(postSlots' terms, quorum) for a quorum task
 *                 of several slots (each slot its own round; no worker of the
 *                 task sits on a panel of it)
 *   task_claim -> claim (claimTask of a task of several slots: the contract
 *   picks the lowest open slot); task_submit -> submit(result) of the slot's
 *   job (a quorum task's claim opens the court's round: the runner, the
 *   court's deployer, reveals the seed links its draw waits for, and draws,
 *   at the start of the block the ledger draws it in, the claim's + 2, or
 *   before a court call on the round if one comes first, so the scenario's
 *   stake in the blocks between lands between the opening and the draw, as
 *   attack_late_stake's sybil's does);
 *   task_verify_partial -> verifyUnits
 *   (accepted, total, reason; part accepted: a rejection settled pro rata
 *   once it stands); task_verify -> complete
 *   (accept) or reject(reason), on a quorum task the court's open vote
 *   (vote(jobId, accept): the deciding vote completes or rejects the job
 *   through the court, a rejection reopening it while its claim window is
 *   open, as on the ledger; the settle that follows has nothing left to do
 *   on chain); task_dispute -> dispute (the runner reveals the
 *   court's seed links and draws); dispute_vote -> the court's open vote
 *   (vote(jobId, accept): the deciding vote settles the case at once, as on
 *   the ledger); task_settle ->
 *   finalize() of a rejection past its window, or at once by its worker
 *   (giving up its dispute; an acceptance was paid by
 *   complete: the settle that follows it has nothing left to do on chain);
 *   task_cancel -> reject by the poster (what ERC-8183 lets a client do),
 *   cancelTask for a task posted with postSlots;
 *   stake / unstake -> the court's stake / requestExit; transfer -> ERC-20
 *   transfer; flood -> its self-transfers, one chain block each, all in the
 *   last block's second; vote_commit ("commit:NAME:ACCEPT:ATTEMPT:SALT") /
 *   vote_reveal -> the court's commit / reveal, "vcommit:..." on a quorum task's
 *   round (the reveal that leaves nothing sealed may decide it, as on the
 *   ledger); agent_* -> nothing (registration has no bearing on the money,
 *   and the registry's rules are checked by test_chain_erc8004); grind ->
 *   the block after the judgement's opening made several ways from anvil's
 *   snapshot of it, each drawing the same panel (see grind()).
 * Time: block h of the ledger has a timestamp; each chain transaction of that
 * step is mined at the same offset from the chain's start (anvil lets blocks
 * share a second). The ledger's deadlines fire at a block's start (a block
 * of refusals only is made when a deadline fired in it); the
 * runner calls what a keeper would at that time: claimRefund when an
 * unclaimed task's claim window closes, timeout when a claim's submit
 * deadline (stake slashed, job reopened to other workers) or a submission's
 * verify deadline (everyone refunded) passes, and resolve when a dispute's
 * vote window (the court's commit window) closes with no decision; with
 * at a quorum round's deadline (the verify deadline, or once sealed its
 * reveal window's end) closeUnjudged alone tallies the votes or times the
 * job out.
 * Views: expectBalances compares balance (the token), locked (what the escrow
 * holds for the account, plus its court bonds), staked and unbonding (the
 * court); expectTask compares status, escrow, and each slot's state, worker
 * and rejectionBond; other keys, expectAgent, expectReputation and
 * expectHeight are not compared (said in the summary). After every step:
 * the token's supply is what was minted, and the escrow's token balance is
 * what the jobs hold.
 *
 * A rule the contracts do not have stops the scenario at that step, loudly,
 * with the reason (a settled rejection reopening the slot of a task with no
 * submit and verify windows...): the steps before it were compared, the
 * rest are listed as not run on chain. A refusal whose rule only the ledger
 * has (skill or registry names, window bounds, a verdict naming the
 * result...) is skipped and counted: a refusal changes nothing on the
 * ledger, so both states stay equal. A mismatch anywhere else fails the
 * test.
 *
 * usage: test_chain_scenarios [FILE.json ...]   (default: every file)
 * Skipped (exit 77) with a message when anvil or the contracts are missing. */
#include <dirent.h>

#include "../test.h"
#include "anvil.h"
#include "base/amount.h"
#include "base/json.h"
#include "chain/abi_decode.h"
#include "chain/court.h"
#include "chain/escrow.h"
#include "crypto/addr.h"
#include "crypto/sha256.h"
#include "market/market.h"

#define MAX_ACC 96
#define MAX_JOBS 64 /* slots of all the file's tasks */
#define GENESIS_TIME 1700000000
#define DEFAULT_WINDOW_S 5
#define DEFAULT_UNBONDING 10

typedef struct party { char name[32]; gt_chain_account ca; uint64_t mint; } party;

/* A slot of a task of the scenario (one job), and the ledger's clock for its
 * deadlines. A task of several slots is `slots` of these, one per slot, in
 * order, with the same tag; slot 0's id is the task's id (postSlots). */
typedef struct job {
    char tag[32];
    int slot, slots;
    uint64_t id, seats; /* seats: the task's seatsPerWorker (0 meaning 1) */
    uint64_t claim_close, claim_t, submit_t, submit_s, verify_s; /* scenario time */
    int settled_seen; /* a task_settle after an acceptance was played, or a dispute won (paid at once) */
    int timed;        /* the job has per-phase deadlines (setPhases) */
    int sealed;       /* a commitment sealed the job's dispute: it closes at the reveal window's end */
    int quorum;       /* a quorum task (postQuorum): the court's round judges it */
    int decided;      /* a quorum round decided the slot (paid at once; the ledger's settle follows) */
    int task;         /* posted with postSlots (several slots, or units): claimed with claimTask, cancelTask */
    char opened[80];  /* anvil's snapshot right after the job's latest judgement opened (a grind starts there) */
    uint64_t draw_h;  /* a quorum round waiting for its draw: the ledger's height that draws it (0: none waits) */
} job;

typedef struct run {
    const char *file;
    party acc[MAX_ACC];
    int n_acc;
    job jobs[MAX_JOBS];
    int n_jobs;
    gt_chain_account deployer;
    gt_addr token, court, escrow;
    uint64_t minted, height, last_t, base;
    int64_t offset;
    int step, failed;
    char stop[600];
    int not_compared; /* expectations skipped (views with no counterpart) */
    int refusals_skipped; /* the ledger's refusals with no counterpart (a refusal changes nothing) */
} run;

static gt_chain C;
static int n_full, n_part, n_none;
static char summary[64 * 1024];

#define FAIL(r, ...)                                                   \
    do {                                                               \
        gt_test_checks++;                                              \
        gt_test_failures++;                                            \
        fprintf(stderr, "%s: step %d: ", (r)->file, (r)->step);        \
        fprintf(stderr, __VA_ARGS__);                                  \
        fputc('\n', stderr);                                           \
        (r)->failed = 1;                                               \
    } while (0)
#define PASS() (gt_test_checks++)

/* Stops the scenario here: the rule of this step has no counterpart on chain. */
static void stop_at(run *r, const char *fmt, const char *detail) {
    if (r->stop[0]) return;
    char why[400];
    snprintf(why, sizeof why, fmt, detail ? detail : "");
    snprintf(r->stop, sizeof r->stop, "step %d: %s", r->step, why);
}

static party *find_acc(run *r, const char *name) {
    for (int i = 0; i < r->n_acc; i++)
        if (!strcmp(r->acc[i].name, name)) return &r->acc[i];
    return NULL;
}

/* The job of slot `slot` of the task saved as ref ("$TAG"), or NULL. */
static job *find_slot(run *r, const char *ref, uint64_t slot) {
    if (!ref || ref[0] != '$') return NULL;
    for (int i = 0; i < r->n_jobs; i++)
        if (!strcmp(r->jobs[i].tag, ref + 1) && (uint64_t)r->jobs[i].slot == slot) return &r->jobs[i];
    return NULL;
}

/* The task saved as ref: its slot 0. */
static job *find_job(run *r, const char *ref) { return find_slot(r, ref, 0); }

/* A bytes32 field: "blob:TEXT" is sha256(TEXT), absent is zero, else 0x-hex. */
static int get_b32(json_t *spec, const char *field, uint8_t out[32]) {
    const char *s = json_string_value(json_object_get(spec, field));
    memset(out, 0, 32);
    if (!s) return json_object_get(spec, field) ? -1 : 0;
    if (!strncmp(s, "blob:", 5)) return gt_sha256(s + 5, strlen(s + 5), out), 0;
    return gt_hex_decode(s, out, 32, field, NULL);
}

/* An amount field: a string is tokens, an integer base units; absent is 0. */
static int get_amount(json_t *spec, const char *field, uint64_t *out) {
    json_t *v = json_object_get(spec, field);
    *out = 0;
    if (!v) return 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0) return *out = (uint64_t)json_integer_value(v), 0;
    return json_is_string(v) ? gt_amount_parse(json_string_value(v), out, NULL) : -1;
}

static uint64_t get_u64(json_t *spec, const char *field) {
    json_t *v = json_object_get(spec, field);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* Word `word` of a view call's answer. */
static uint64_t view_u64(run *r, const gt_addr *to, const char *sig, const gt_abi_val *a, size_t n, size_t word) {
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    uint64_t v = UINT64_MAX;
    gt_err err;
    if (gt_abi_calldata(sig, a, n, &d, &err) || gt_chain_call(&C, NULL, to, d.data, d.len, &out, &err) ||
        gt_abi_get_u64(out.data, out.len, word, &v, &err))
        FAIL(r, "%s: %s", sig, err.msg);
    gt_buf_free(&d);
    gt_buf_free(&out);
    return v;
}

static uint64_t token_balance(run *r, const gt_addr *who) {
    gt_abi_val a[] = {gt_abi_address(who)};
    return view_u64(r, &r->token, "balanceOf(address)", a, 1, 0);
}

/* ---- the chain's clock ---- */

/* The ledger's time of its next block (test_scenarios.c's next_block_time):
 * one second after the last block plus extra_s, never back in time. */
static uint64_t next_time(run *r, int64_t extra_s) {
    r->offset += extra_s;
    int64_t t = GENESIS_TIME + (int64_t)r->height + 1 + r->offset;
    if (t < (int64_t)r->last_t) t = (int64_t)r->last_t, r->offset = t - GENESIS_TIME - (int64_t)r->height - 1;
    return (uint64_t)t;
}

/* Mines an empty chain block at scenario time t; the blocks after it share
 * it (the chain was told a block interval of 0 s), so the calls of the step
 * are estimated and mined at the time of the ledger's block. */
static void chain_at(run *r, uint64_t t) {
    uint64_t ts = r->base + (t - GENESIS_TIME);
    if (anvil_rpc(&C, "evm_mine", json_pack("[o]", gt_rpc_u64(ts))))
        FAIL(r, "cannot set the chain's time to %llu", (unsigned long long)ts);
}

static uint64_t appeal_until(run *r, uint64_t id) {
    gt_abi_val a[] = {gt_abi_uint(id)};
    return view_u64(r, &r->escrow, "appealUntil(uint256)", a, 1, 0);
}

static uint64_t fee_of(run *r, uint64_t id) {
    gt_abi_val a[] = {gt_abi_uint(id)};
    return view_u64(r, &r->escrow, "feeOf(uint256)", a, 1, 0);
}

/* A timed job's phase deadline passed at scenario time t: the chain is
 * brought to t and timeout() called, as a keeper would. */
static void time_out(run *r, job *jb, uint64_t t) {
    gt_err err;
    chain_at(r, t);
    if (gt_escrow_do(&C, &r->escrow, &r->deployer, GT_ESCROW_TIMEOUT, jb->id, NULL, NULL, &err))
        FAIL(r, "timeout of %s: %s", jb->tag, err.msg);
}

/* Would a rejection of jb that stands at t reopen the slot on the ledger and
 * end the job on chain? (JobEscrow reopens a timed job, with a fee or not.) */
static int reopens(const job *jb, uint64_t t) {
    return t < jb->claim_close && !jb->timed;
}

/* After a court call that may have closed jb's dispute: a dispute the
 * worker won pays the slot at once on the ledger (no settle follows). */
static int court_closed(run *r, job *jb, gt_err *err) {
    gt_escrow_job j;
    int rc = gt_escrow_get(&C, &r->escrow, jb->id, &j, err);
    if (!rc && j.status == GT_ESCROW_COMPLETED) jb->settled_seen = 1;
    return rc;
}

/* A dispute's vote deadline at scenario time t: the ledger closes the vote
 * (the court's commit window with no commitment, nothing to reveal; its
 * reveal window's end once a commitment sealed it); resolve()
 * is called as a keeper would. Returns 1 when it fired. */
static int vote_deadline(run *r, job *jb, uint64_t t) {
    gt_court_case cs;
    gt_err err;
    if (gt_court_get(&C, &r->court, jb->id, &cs, &err)) { FAIL(r, "getCase: %s", err.msg); return 0; }
    if (cs.state != GT_COURT_VOTING || r->base + (t - GENESIS_TIME) < (jb->sealed ? cs.reveal_end : cs.commit_end))
        return 0;
    if (cs.accept_w <= cs.reject_w && reopens(jb, t)) { /* the rejection stands */
        stop_at(r, "the vote deadline of %s's dispute: a lost dispute reopens the slot on the ledger (its claim window "
                   "is open); on chain a rejection that stands ends the job unless it is timed", jb->tag);
        return 0;
    }
    chain_at(r, t);
    if (gt_court_do(&C, &r->court, &r->deployer, GT_COURT_RESOLVE, jb->id, NULL, &err) ||
        court_closed(r, jb, &err))
        FAIL(r, "resolve of %s's dispute at its deadline: %s", jb->tag, err.msg);
    return 1;
}

/* A quorum round's call that may have decided it: the escrow's job was
 * completed, or rejected (reopened when its claim window is open). */
static int round_closed(run *r, job *jb, gt_err *err) {
    gt_escrow_job j;
    int rc = gt_escrow_get(&C, &r->escrow, jb->id, &j, err);
    if (!rc && (j.status == GT_ESCROW_COMPLETED || j.status == GT_ESCROW_REJECTED || j.status == GT_ESCROW_FUNDED))
        jb->decided = 1;
    return rc;
}

/* A quorum round's deadline at scenario time t: the ledger's verify deadline
 * (moved by the reveal window once sealed: the court's revealEnd, which is
 * the verify deadline for an open round). The ledger tallies the votes (a
 * side holding more than half of the panel decides), else times the slot
 * out; the court's closeUnjudged does both (the escrow leaves it a quorum
 * job's deadline). Returns 1 when it fired. */
static int round_deadline(run *r, job *jb, uint64_t t) {
    gt_court_case cs;
    gt_err err;
    if (gt_court_get(&C, &r->court, jb->id, &cs, &err)) { FAIL(r, "getCase: %s", err.msg); return 0; }
    if ((cs.state != GT_COURT_VOTING && cs.state != GT_COURT_DRAWING) || !cs.commit_end ||
        r->base + (t - GENESIS_TIME) < cs.reveal_end)
        return 0;
    chain_at(r, t);
    if (gt_court_do(&C, &r->court, &r->deployer, GT_COURT_CLOSE_UNJUDGED, jb->id, NULL, &err) ||
        round_closed(r, jb, &err))
        FAIL(r, "closeUnjudged of %s's quorum round at its deadline: %s", jb->tag, err.msg);
    return 1;
}

/* The ledger's deadlines at the start of a block at time t: an unclaimed
 * task's claim window closing is refunded (claimRefund, as a keeper would);
 * a timed job's submit deadline (the stake slashed, the job reopened) or
 * verify deadline (everyone refunded) is timeout(); an untimed job's has no
 * counterpart (one expiry, no reopening): the scenario stops there.
 * Returns how many deadlines fired (the ledger makes a block for them). */
static int deadlines(run *r, uint64_t t) {
    int fired = 0;
    for (int i = 0; i < r->n_jobs && !r->stop[0] && !r->failed; i++) {
        job *jb = &r->jobs[i];
        gt_escrow_job j;
        gt_err err;
        if (gt_escrow_get(&C, &r->escrow, jb->id, &j, &err)) { FAIL(r, "getJob: %s", err.msg); return fired; }
        if (j.status == GT_ESCROW_FUNDED && !j.claimed && t >= jb->claim_close) {
            chain_at(r, t);
            if (gt_escrow_do(&C, &r->escrow, &r->deployer, GT_ESCROW_REFUND, jb->id, NULL, NULL, &err))
                FAIL(r, "claimRefund of the expired job %s: %s", jb->tag, err.msg);
            fired++;
        } else if (j.status == GT_ESCROW_FUNDED && j.claimed && t >= jb->claim_t + jb->submit_s && jb->timed) {
            time_out(r, jb, t), fired++;
        } else if (j.status == GT_ESCROW_SUBMITTED && jb->quorum) {
            fired += round_deadline(r, jb, t);
        } else if (j.status == GT_ESCROW_SUBMITTED && t >= jb->submit_t + jb->verify_s && jb->timed) {
            time_out(r, jb, t), fired++;
        } else if (j.status == GT_ESCROW_DISPUTED) {
            fired += vote_deadline(r, jb, t);
        } else if (j.status == GT_ESCROW_FUNDED && j.claimed && t >= jb->claim_t + jb->submit_s) {
            stop_at(r, "the submit deadline of %s passes: the ledger slashes the stake and reopens the slot at the "
                       "block's start; JobEscrow has one expiry per job and no reopening", jb->tag);
        } else if (j.status == GT_ESCROW_SUBMITTED && t >= jb->submit_t + jb->verify_s) {
            stop_at(r, "the verify deadline of %s passes: the ledger refunds at once; JobEscrow refunds after its "
                       "single expiry (claimRefund)", jb->tag);
        }
    }
    return fired;
}

/* ---- actions ---- */

/* Refusals of the ledger with no counterpart on chain (the message it gives,
 * why the contracts do not): the scenario stops before such a step. */
static const struct { const char *says, *why; } GAPS[] = {
    {"does not match the one submitted", "a verdict naming another result than the submitted one: JobEscrow's "
                                         "complete/reject carry a reason, not the result"},
    {"score must be", "a verdict's score (0 to 100): JobEscrow's verdict has none"},
    {"does not match the one rejected", "a dispute naming another result: JobEscrow's dispute(jobId) names none"},
    {"not registered", "only a registered agent may claim on the ledger; JobEscrow takes any wallet"},
    {"is not a registered agent", "only a registered agent may claim on the ledger; JobEscrow takes any wallet"},
    {"does not list skill", "only an agent listing the task's skill may claim on the ledger"},
    {"is retired", "a retired agent takes no work on the ledger; JobEscrow does not read the registry"},
    {"Seconds must be", "the ledger's window bounds: a JobEscrow job has one expiry"},
    {"spec: expected the sha256", "the ledger's check of a spec blob id"},
    {"stake must be greater than 0", "the ledger asks every task a stake; JobEscrow also takes a job without one "
                                     "(ERC-8183's plain job)"},
    {"verifier is the poster", "the ledger wants a poster-judged task to name no verifier; on chain such a job "
                               "names its client as evaluator"},
    {"kind \"", "the task's kind (a skill name) is the ledger's: a JobEscrow job carries a description hash only"},
    {"result: expected the sha256", "the ledger's check of a result blob id"},
    {"a quorum task has no single verifier", "postQuorum names no verifier (the court's panel judges)"},
};

/* The fields of a task_post with no counterpart; NULL when it maps. */
static const char *post_gap(json_t *spec) {
    json_t *slots = json_object_get(spec, "slots");
    uint64_t fee = 0;
    if (!json_is_integer(slots) || json_integer_value(slots) < 1 || json_integer_value(slots) > 64)
        return "a task of other than 1 to 64 slots";
    if (get_amount(spec, "fee", &fee)) return "a fee that is not an amount";
    if (get_u64(spec, "quorum") && (!get_u64(spec, "submitSeconds") || !get_u64(spec, "verifySeconds")))
        return "a quorum task without both phase windows: postQuorum's jobs are timed";
    if (get_u64(spec, "quorum") && json_object_get(spec, "parent"))
        return "a quorum subtask: postSubtask's jobs have an evaluator";
    if (json_object_get(spec, "parent") && (json_integer_value(json_object_get(spec, "slots")) > 1 || fee ||
                                            json_object_get(spec, "batchItems")))
        return "a subtask of several slots, with a fee or with units: postSubtask posts one job without them";
    return NULL;
}

/* Why one {as, action, expect} has no counterpart on chain, or NULL. With
 * r NULL, only what the file says is looked at (no task is known yet). */
static const char *item_gap(run *r, json_t *it) {
    json_t *spec = json_object_get(it, "action"), *expect = json_object_get(it, "expect");
    const char *type = json_string_value(json_object_get(spec, "type"));
    const char *msg = json_string_value(json_object_get(expect, "message"));
    static char why[300];
    if (!type) return "an action without a type";
    if (json_object_get(it, "nonce")) return "an explicit nonce: the ledger's replay rules are not the chain's";
    for (size_t i = 0; msg && i < sizeof GAPS / sizeof GAPS[0]; i++)
        if (strstr(msg, GAPS[i].says)) return GAPS[i].why;
    if (!strcmp(type, "task_post")) return post_gap(spec);
    if (!strcmp(type, "task_verify_partial") && msg && strstr(msg, "does not match"))
        return "a verdict naming another result than the submitted one: JobEscrow's verifyUnits carries a reason, "
               "not the result";
    if (!strcmp(type, "task_submit") || !strcmp(type, "task_verify") || !strcmp(type, "task_settle") ||
        !strcmp(type, "task_dispute") || !strcmp(type, "task_verify_partial")) {
        const char *task = json_string_value(json_object_get(spec, "task"));
        if (r && !find_job(r, task)) return "a task the runner did not post";
        if (r && !find_slot(r, task, get_u64(spec, "slot"))) return "a slot the task does not have";
    }
    if (!strcmp(type, "task_claim") || !strcmp(type, "task_cancel"))
        if (r && !find_job(r, json_string_value(json_object_get(spec, "task")))) return "a task the runner did not post";
    job *qj = r ? find_job(r, json_string_value(json_object_get(spec, "task"))) : NULL;
    const char *cm = json_string_value(json_object_get(spec, "commitment"));
    if (qj && !qj->quorum && !strcmp(type, "vote_commit") && cm && !strncmp(cm, "vcommit:", 8))
        return "a verify round's commitment on a task no quorum judges: the court has no such round";
    if (!strncmp(type, "agent_", 6)) return expect ? "the registry's rules (names, skills, retiring) are the "
                                                     "ledger's; AgentRegistry is a directory of card URIs" : NULL;
    if (!strcmp(type, "vote_commit") && (!cm || (strncmp(cm, "commit:", 7) && strncmp(cm, "vcommit:", 8))))
        return "a sealed vote given as the ledger's commitment bytes (its preimage names the task, slot and attempt; "
               "the court's names the court, the chain and the case): only \"commit:NAME:ACCEPT:ATTEMPT:SALT\" and "
               "\"vcommit:...\" map";
    if ((!strcmp(type, "dispute_vote") || !strcmp(type, "vote_commit") || !strcmp(type, "vote_reveal")) && r &&
        !find_slot(r, json_string_value(json_object_get(spec, "task")), get_u64(spec, "slot")))
        return "a slot the task does not have";
    static const char *const mapped[] = {"task_post", "task_claim", "task_submit", "task_verify",
                                         "task_verify_partial", "task_settle",
                                         "task_dispute", "task_cancel", "stake", "unstake", "transfer",
                                         "dispute_vote", "vote_commit", "vote_reveal"};
    for (size_t i = 0; i < sizeof mapped / sizeof mapped[0]; i++)
        if (!strcmp(type, mapped[i])) return NULL;
    snprintf(why, sizeof why, "the action %s has no counterpart on chain", type);
    return why;
}

/* A settle after the ledger's dispute window reopens the slot while the
 * task's claim window is open; a JobEscrow rejection ends the job. A cancel
 * the ledger takes: JobEscrow lets a client take a funded job's budget back
 * only when it is the job's evaluator (or after expiry). */
static const char *settle_gap(run *r, json_t *it, job *jb, uint64_t t) {
    gt_escrow_job j;
    json_t *e = json_object_get(it, "expect");
    const char *type = json_string_value(json_object_get(json_object_get(it, "action"), "type"));
    if (!jb || gt_escrow_get(&C, &r->escrow, jb->id, &j, NULL)) return NULL;
    if (!strcmp(type, "task_cancel") && !e && !jb->task && !gt_addr_eq(&j.client, &j.evaluator))
        return "a poster's cancel of a funded task another evaluator judges: JobEscrow gives the budget back only "
               "after expiry (claimRefund)";
    if (!strcmp(type, "dispute_vote") && !e && j.status == GT_ESCROW_DISPUTED && reopens(jb, t))
        return "a vote that may close a dispute: a lost dispute reopens the slot on the ledger (its claim window is "
               "open); on chain a rejection that stands ends the job unless the job is timed";
    if (strcmp(type, "task_settle") || j.status != GT_ESCROW_REJECTED) return NULL;
    if (reopens(jb, t))
        return "a settled rejection reopens the slot on the ledger (its claim window is open); a JobEscrow "
               "rejection ends the job unless the job is timed";
    return NULL;
}

static int do_post(run *r, party *a, json_t *spec, uint64_t t, const char *save, gt_err *err) {
    gt_escrow_terms tm = {.evaluator = a->ca.addr};
    uint64_t id = 0;
    const char *v = json_string_value(json_object_get(spec, "verifier"));
    if (v) {
        party *e = v[0] == '@' ? find_acc(r, v + 1) : NULL;
        if (!e) return gt_err_set(err, GT_EINVAL, "unknown verifier %s", v);
        tm.evaluator = e->ca.addr;
    }
    if (get_b32(spec, "spec", tm.desc_hash) || get_amount(spec, "bounty", &tm.budget) ||
        get_amount(spec, "stake", &tm.stake) || get_amount(spec, "fee", &tm.fee))
        return gt_err_set(err, GT_EINVAL, "task_post: a bad spec, bounty, stake or fee");
    uint64_t close = t + get_u64(spec, "claimSeconds");
    uint64_t submit_s = get_u64(spec, "submitSeconds"), verify_s = get_u64(spec, "verifySeconds");
    uint64_t slots = get_u64(spec, "slots");
    int timed = save && submit_s && verify_s;
    uint64_t quorum = get_u64(spec, "quorum");
    /* (a quorum task's slots are timed: postQuorumSlots refuses them untimed) */
    gt_escrow_slots ts = {slots, get_u64(spec, "seatsPerWorker"), timed || quorum ? submit_s : 0,
                          timed || quorum ? verify_s : 0, get_u64(spec, "batchItems"), get_u64(spec, "lastBatchItems"),
                          0};
    tm.expired_at = r->base + (close - GENESIS_TIME);
    const char *parent = json_string_value(json_object_get(spec, "parent"));
    job *pj = parent ? find_job(r, parent) : NULL;
    if (parent && !pj) return gt_err_set(err, GT_EINVAL, "task_post: the parent %s is not a task of the file", parent);
    /* A task of several slots, or one holding units, is postSlots' (a quorum task's units are the ledger's
     * view only: a quorum votes on whole results on both backends); a quorum task of several slots is
     * postQuorumSlots'. */
    int task = !pj && (quorum ? slots > 1 : slots > 1 || ts.batch_items || ts.last_batch_items);
    int rc = 0;
    if (quorum && task) {
        memset(&tm.evaluator, 0, sizeof tm.evaluator); /* the court's panel judges */
        ts.quorum = quorum, ts.batch_items = ts.last_batch_items = 0;
        rc = gt_escrow_post_slots(&C, &r->escrow, &a->ca, &tm, &ts, &id, NULL, err);
    } else if (quorum) {
        memset(&tm.evaluator, 0, sizeof tm.evaluator); /* the court's panel judges */
        rc = gt_escrow_post_quorum(&C, &r->escrow, &a->ca, &tm, submit_s, verify_s, quorum, &id, NULL, err);
    } else
        rc = pj        ? gt_escrow_post_subtask(&C, &r->escrow, &a->ca, pj->id, &tm, timed ? submit_s : 0,
                                                timed ? verify_s : 0, &id, NULL, err)
             : task     ? gt_escrow_post_slots(&C, &r->escrow, &a->ca, &tm, &ts, &id, NULL, err)
             : tm.fee   ? gt_escrow_post_fee(&C, &r->escrow, &a->ca, &tm, &id, NULL, err)
             : timed ? gt_escrow_post_timed(&C, &r->escrow, &a->ca, &tm, submit_s, verify_s, &id, NULL, err)
                     : gt_escrow_post_for(&C, &r->escrow, &a->ca, &tm.provider, &tm.evaluator, tm.expired_at,
                                          tm.desc_hash, tm.budget, tm.stake, &id, NULL, err);
    if (rc || !save) return rc;
    if (slots < 1) slots = 1;
    if (r->n_jobs + (int)slots > MAX_JOBS) return gt_err_set(err, GT_ELIMIT, "more than %d slots", MAX_JOBS);
    job *jb = NULL;
    for (uint64_t i = 0; i < slots; i++) {
        jb = &r->jobs[r->n_jobs++];
        memset(jb, 0, sizeof *jb);
        snprintf(jb->tag, sizeof jb->tag, "%s", save);
        jb->id = id + i, jb->claim_close = close, jb->slot = (int)i, jb->slots = (int)slots;
        jb->submit_s = submit_s, jb->verify_s = verify_s, jb->timed = timed, jb->seats = ts.seats_per_worker;
        jb->quorum = quorum != 0, jb->task = task;
    }
    if (timed && tm.fee && !task && !quorum && /* postTimed, postQuorum or postSlots made the others timed */
        (rc = gt_escrow_set_phases(&C, &r->escrow, &a->ca, id, jb->submit_s, jb->verify_s, NULL, err)))
        return rc;
    if (timed && !task && ts.seats_per_worker > 1) /* seats of a 1-slot job: setSeats (postSlots takes them) */
        return gt_escrow_set_seats(&C, &r->escrow, &a->ca, id, ts.seats_per_worker, NULL, err);
    return 0;
}

static int do_court(run *r, party *a, gt_court_step step, json_t *spec, gt_err *err) {
    uint64_t amount = 0;
    if (get_amount(spec, "amount", &amount)) return gt_err_set(err, GT_EINVAL, "a bad amount");
    return gt_court_do(&C, &r->court, &a->ca, step, amount, NULL, err);
}

static int do_transfer(run *r, party *a, json_t *spec, gt_err *err) {
    uint64_t amount = 0;
    const char *to = json_string_value(json_object_get(spec, "to"));
    party *b = to && to[0] == '@' ? find_acc(r, to + 1) : NULL;
    if (!b || get_amount(spec, "amount", &amount)) return gt_err_set(err, GT_EINVAL, "transfer: a bad to or amount");
    gt_abi_val args[] = {gt_abi_address(&b->ca.addr), gt_abi_uint(amount)};
    gt_chain_receipt rc_ = {0};
    int rc = gt_chain_invoke(&C, &r->token, &a->ca, "transfer(address,uint256)", args, 2, &rc_, NULL, err);
    gt_chain_receipt_free(&rc_);
    return rc;
}

/* A task_settle: finalize() a rejection; after an acceptance (complete paid
 * already) the first settle has nothing to do, a second one is refused as the
 * ledger refuses it: finalize() of a completed job reverts. */
static int do_settle(run *r, party *a, job *jb, gt_err *err) {
    gt_escrow_job j;
    int rc = gt_escrow_get(&C, &r->escrow, jb->id, &j, err);
    if (rc) return rc;
    if (jb->quorum && jb->decided) { /* the round's verdict paid (or reopened) it */
        jb->decided = 0;
        if (j.status == GT_ESCROW_COMPLETED) jb->settled_seen = 1;
        return 0;
    }
    if (j.status == GT_ESCROW_COMPLETED && !jb->settled_seen && !jb->quorum) return jb->settled_seen = 1, 0;
    rc = gt_escrow_do(&C, &r->escrow, &a->ca, GT_ESCROW_FINALIZE, jb->id, NULL, NULL, err);
    /* (a per-unit verdict that accepted part of the units completes the job pro rata: the ledger's PAID) */
    return rc ? rc : court_closed(r, jb, err);
}

/* anvil's snapshot of the chain now, into jb->opened (a grind of the
 * judgement just opened starts from it). */
static int snapshot(job *jb, gt_err *err) {
    json_t *id = NULL;
    int rc = gt_rpc_call(C.rpc, "evm_snapshot", json_array(), &id, err);
    if (!rc && !json_is_string(id)) rc = gt_err_set(err, GT_ECHAIN, "evm_snapshot: no id");
    if (!rc) snprintf(jb->opened, sizeof jb->opened, "%s", json_string_value(id));
    json_decref(id);
    return rc;
}

/* The court's deployer reveals the seed links the waiting draws need (what
 * its node's keeper does), then the panel of jb's latest judgement is drawn,
 * as any keeper may. The ledger draws two blocks after the opening, with
 * that block's draw seed; the court two seed links after it. */
static int seed_and_draw(run *r, job *jb, gt_err *err) {
    int rc = gt_court_seed_reveal(&C, &r->court, &r->deployer, NULL, NULL, err);
    return rc ? rc : gt_court_do(&C, &r->court, &r->deployer, GT_COURT_DRAW, jb->id, NULL, err);
}

/* Every quorum round waiting for its draw drawn now (seed_and_draw): its
 * claim's block + GT_MARKET_DRAW_DELAY_BLOCKS came, when due_h is the block
 * being made, or a court call on one of them needs its panel (due_h
 * UINT64_MAX). All of them, not only those due: the reveal covers every
 * waiting link, and while a revealed one is undrawn no stake may move. */
static int draw_waiting(run *r, uint64_t due_h, gt_err *err) {
    int due = 0, rc = 0;
    for (int i = 0; i < r->n_jobs; i++) due |= r->jobs[i].draw_h && r->jobs[i].draw_h <= due_h;
    for (int i = 0; due && !rc && i < r->n_jobs; i++) {
        if (!r->jobs[i].draw_h) continue;
        r->jobs[i].draw_h = 0;
        rc = seed_and_draw(r, &r->jobs[i], err);
    }
    return rc;
}

/* The draws due at the start of ledger block h (draw_waiting), as a keeper makes them. */
static void draws_due(run *r, uint64_t h) {
    gt_err err;
    if (draw_waiting(r, h, &err)) FAIL(r, "the draw of a quorum round at block %llu: %s", (unsigned long long)h,
                                       err.msg);
}

/* A dispute: the ledger fixes its panel when the dispute opens; the court
 * draws it from its seed chain's link two after the opening, and until then
 * no stake may move. The runner reveals the links and draws (seed_and_draw),
 * so the stakes are free again as on the ledger. */
static int do_dispute(run *r, party *a, job *jb, gt_err *err) {
    int rc = gt_escrow_do(&C, &r->escrow, &a->ca, GT_ESCROW_DISPUTE, jb->id, NULL, NULL, err);
    if (!rc) rc = snapshot(jb, err);
    return rc ? rc : seed_and_draw(r, jb, err);
}

/* A dispute_vote: the court's open vote (the deciding one settles the case). */
static int do_vote(run *r, party *a, job *jb, json_t *spec, gt_err *err) {
    int rc = gt_court_vote_open(&C, &r->court, &a->ca, jb->id, json_is_true(json_object_get(spec, "accept")), NULL,
                                err);
    return rc ? rc : court_closed(r, jb, err);
}

/* A vote_commit written "commit:NAME:ACCEPT:ATTEMPT:SALT" (item_gap let
 * no other form through): the court's commitment of NAME's vote with salt
 * sha256(SALT), which "voteSalt": "blob:SALT" gives the reveal; sent by the
 * acting account (a copier sends another judge's commitment). ATTEMPT is the
 * ledger's: one job has one case on chain. "vcommit:..." is the same on a
 * quorum task's verify round: the court's round ATTEMPT + 1 (one round per
 * claim, as the ledger has one attempt per claim), its case key in the
 * preimage as the ledger's attempt is in its own. */
static int do_commit(run *r, party *a, job *jb, json_t *spec, gt_err *err) {
    const char *s = json_string_value(json_object_get(spec, "commitment"));
    char name[64];
    int accept = 0, used = 0, verify = s && s[0] == 'v';
    unsigned long long attempt = 0;
    if (verify) s++;
    if (!s || sscanf(s, "commit:%63[^:]:%d:%llu:%n", name, &accept, &attempt, &used) != 3 || !used ||
        !find_acc(r, name) || (accept != 0 && accept != 1) || attempt >= UINT32_MAX)
        return gt_err_set(err, GT_EINVAL, "vote_commit: a bad commitment");
    uint8_t salt[32], h[32];
    gt_sha256(s + used, strlen(s + used), salt);
    gt_court_round_commitment(accept, salt, &find_acc(r, name)->ca.addr, &r->court, C.chain_id, jb->id,
                              verify ? (uint32_t)attempt + 1 : 0, h);
    gt_abi_val args[] = {gt_abi_uint(jb->id), gt_abi_bytes32(h)};
    gt_chain_receipt rc_ = {0};
    int rc = gt_chain_invoke(&C, &r->court, &a->ca, "commit(uint256,bytes32)", args, 2, &rc_, NULL, err);
    gt_chain_receipt_free(&rc_);
    if (!rc) jb->sealed = 1;
    return rc;
}

/* A vote_reveal with its "voteSalt"; then, as a keeper, resolve() the case
 * if it may close now (every commitment revealed and decided: the ledger
 * settles at that reveal); a refusal of that resolve sends nothing. A quorum
 * round's reveal decides it itself (the reveal that leaves nothing sealed). */
static int do_reveal(run *r, party *a, job *jb, json_t *spec, gt_err *err) {
    uint8_t salt[32];
    if (get_b32(spec, "voteSalt", salt)) return gt_err_set(err, GT_EINVAL, "vote_reveal: a bad voteSalt");
    gt_abi_val args[] = {gt_abi_uint(jb->id), gt_abi_bool(json_is_true(json_object_get(spec, "accept"))),
                         gt_abi_bytes32(salt)};
    gt_chain_receipt rc_ = {0};
    int rc = gt_chain_invoke(&C, &r->court, &a->ca, "reveal(uint256,bool,bytes32)", args, 3, &rc_, NULL, err);
    gt_chain_receipt_free(&rc_);
    if (rc) return rc;
    if (jb->quorum) return round_closed(r, jb, err);
    gt_err quiet;
    (void)gt_court_do(&C, &r->court, &r->deployer, GT_COURT_RESOLVE, jb->id, NULL, &quiet);
    return court_closed(r, jb, err);
}

/* A task_claim: claim() of a job, claimTask() of a task of several slots (the
 * contract picks the slot: the one now claimed by a, a's only seat on it); a
 * quorum job's or quorum task slot's claim opens the court's round, drawn. */
static int do_claim(run *r, party *a, job *jb, uint64_t t, gt_err *err) {
    if (!jb->task) {
        int rc = gt_escrow_do(&C, &r->escrow, &a->ca, GT_ESCROW_CLAIM, jb->id, NULL, NULL, err);
        if (!rc) jb->claim_t = t, jb->sealed = 0; /* a quorum job's claim opens a fresh round */
        if (rc || !jb->quorum) return rc;
        /* The claim opened the court's round: its panel is drawn from the seed link two after; the
         * runner reveals and draws, as keepers would, when the ledger draws it (draw_waiting). */
        jb->draw_h = r->height + 1 + GT_MARKET_DRAW_DELAY_BLOCKS;
        return snapshot(jb, err);
    }
    int rc = gt_escrow_task_do(&C, &r->escrow, &a->ca, 0, jb->id, NULL, err);
    for (int i = 0; !rc && i < jb->slots; i++) {
        gt_escrow_job j;
        if ((rc = gt_escrow_get(&C, &r->escrow, jb[i].id, &j, err))) break;
        if (!(j.status == GT_ESCROW_FUNDED && j.claimed && gt_addr_eq(&j.provider, &a->ca.addr))) continue;
        jb[i].claim_t = t, jb[i].sealed = 0;
        /* a quorum task's slot: its claim opened the court's round, drawn as a quorum job's is */
        if (jb[i].quorum) jb[i].draw_h = r->height + 1 + GT_MARKET_DRAW_DELAY_BLOCKS;
        return !jb[i].quorum ? 0 : snapshot(&jb[i], err);
    }
    return rc ? rc : gt_err_set(err, GT_ECHAIN, "claimTask: no slot of the task is claimed by the worker");
}

/* A court call (a vote, a commitment, a reveal) on a quorum round still
 * waiting for its draw: the waiting rounds drawn first (the ledger's panel
 * sits at once when the eligible fit in its seats). 0 or the failure. */
static int panel_first(run *r, const char *type, job *jb, gt_err *err) {
    int court_call = !strcmp(type, "task_verify") || !strcmp(type, "dispute_vote") || !strcmp(type, "vote_commit") ||
                     !strcmp(type, "vote_reveal");
    return jb && jb->draw_h && court_call ? draw_waiting(r, UINT64_MAX, err) : 0;
}

/* Plays one mapped action at scenario time t; 0 or the chain's refusal. */
static int play(run *r, json_t *it, uint64_t t, gt_err *err) {
    json_t *spec = json_object_get(it, "action");
    const char *type = json_string_value(json_object_get(spec, "type"));
    party *a = find_acc(r, json_string_value(json_object_get(it, "as")) ? json_string_value(json_object_get(it, "as"))
                                                                       : "");
    const char *task = json_string_value(json_object_get(spec, "task"));
    job *jb = find_slot(r, task, get_u64(spec, "slot"));
    uint8_t tag[32];
    if (!a) return gt_err_set(err, GT_EINVAL, "an action without a known \"as\"");
    int undrawn = panel_first(r, type, jb, err);
    if (undrawn) return undrawn;
    if (!strcmp(type, "task_post")) return do_post(r, a, spec, t, json_string_value(json_object_get(it, "save")), err);
    if (!strcmp(type, "stake")) return do_court(r, a, GT_COURT_STAKE, spec, err);
    if (!strcmp(type, "unstake")) return do_court(r, a, GT_COURT_EXIT, spec, err);
    if (!strcmp(type, "transfer")) return do_transfer(r, a, spec, err);
    if (!strncmp(type, "agent_", 6)) return 0;
    if (!strcmp(type, "task_claim")) return do_claim(r, a, jb, t, err);
    if (!strcmp(type, "task_submit")) {
        if (get_b32(spec, "result", tag)) return gt_err_set(err, GT_EINVAL, "a bad result");
        int rc = gt_escrow_do(&C, &r->escrow, &a->ca, GT_ESCROW_SUBMIT, jb->id, tag, NULL, err);
        if (!rc) jb->submit_t = t;
        return rc;
    }
    if (!strcmp(type, "task_verify") && jb->quorum) { /* a panel member's open vote on the court's round */
        /* (the deciding vote pays the slot; the ledger's settle that follows has nothing left to do on chain) */
        int rc = gt_court_vote_open(&C, &r->court, &a->ca, jb->id, json_is_true(json_object_get(spec, "accept")),
                                    NULL, err);
        gt_escrow_job j;
        /* (a rejection in the claim window reopens the job for a fresh round, as the ledger reopens the slot) */
        if (!rc && (rc = gt_escrow_get(&C, &r->escrow, jb->id, &j, err)) == 0 && j.status != GT_ESCROW_SUBMITTED)
            jb->decided = 1;
        return rc;
    }
    if (!strcmp(type, "task_verify")) {
        int accept = json_is_true(json_object_get(spec, "accept"));
        if (get_b32(spec, accept ? "result" : "reason", tag)) return gt_err_set(err, GT_EINVAL, "a bad tag");
        return gt_escrow_do(&C, &r->escrow, &a->ca, accept ? GT_ESCROW_COMPLETE : GT_ESCROW_REJECT, jb->id, tag, NULL,
                            err);
    }
    if (!strcmp(type, "task_verify_partial")) {
        if (get_b32(spec, "reason", tag)) return gt_err_set(err, GT_EINVAL, "a bad reason");
        json_t *acc = json_object_get(spec, "accepted"), *tot = json_object_get(spec, "total");
        return gt_escrow_verify_units(&C, &r->escrow, &a->ca, jb->id, (uint64_t)json_integer_value(acc),
                                      (uint64_t)json_integer_value(tot), tag, NULL, err);
    }
    if (!strcmp(type, "task_dispute")) return do_dispute(r, a, jb, err);
    if (!strcmp(type, "dispute_vote")) return do_vote(r, a, jb, spec, err);
    if (!strcmp(type, "vote_commit")) return do_commit(r, a, jb, spec, err);
    if (!strcmp(type, "vote_reveal")) return do_reveal(r, a, jb, spec, err);
    if (!strcmp(type, "task_cancel") && jb->task)
        return gt_escrow_task_do(&C, &r->escrow, &a->ca, 1, jb->id, NULL, err);
    if (!strcmp(type, "task_cancel")) {
        gt_keccak256("cancelled", 9, tag);
        return gt_escrow_do(&C, &r->escrow, &a->ca, GT_ESCROW_REJECT, jb->id, tag, NULL, err);
    }
    if (!strcmp(type, "task_settle")) return do_settle(r, a, jb, err);
    return gt_err_set(err, GT_EINVAL, "%s is not mapped", type);
}

/* Compares a chain outcome with "expect" ("ok" when absent). A refusal must
 * be the contract's or the client's (not a dead chain). */
static void check_outcome(run *r, json_t *it, int rc, const gt_err *err) {
    json_t *expect = json_object_get(it, "expect");
    const char *type = json_string_value(json_object_get(json_object_get(it, "action"), "type"));
    int want_ok = !expect || (json_is_string(expect) && !strcmp(json_string_value(expect), "ok"));
    if (want_ok && rc) FAIL(r, "%s refused on chain: %s", type, err->msg);
    else if (!want_ok && !rc) FAIL(r, "%s applied on chain; the ledger refuses it (%s)", type,
                                   json_string_value(json_object_get(expect, "message")));
    else if (!want_ok && rc != GT_ECHAIN && rc != GT_EINVAL) FAIL(r, "%s failed, not refused: %s", type, err->msg);
    else PASS();
}

static int expects_ok(json_t *it) {
    json_t *e = json_object_get(it, "expect");
    return !e || (json_is_string(e) && !strcmp(json_string_value(e), "ok"));
}

/* One block of the ledger: items played in order at its time (extra_s
 * after the ledger's next: -1 is the last block's second), after its
 * deadlines; the block is made when one of them is expected to apply. A
 * refusal whose rule has no counterpart is skipped (on the ledger it changed
 * nothing); an applied action whose rule has none stops the scenario. */
static void run_block(run *r, json_t *items, int64_t extra_s) {
    size_t n = json_array_size(items);
    int makes = 0;
    char skip[16] = {0};
    for (size_t i = 0; i < n && i < sizeof skip; i++) {
        json_t *it = json_array_get(items, i);
        const char *why = item_gap(r, it);
        if (why && expects_ok(it)) { stop_at(r, "%s", why); return; }
        if (why) skip[i] = 1, r->refusals_skipped++;
        if (expects_ok(it)) makes = 1;
    }
    uint64_t t = next_time(r, extra_s);
    draws_due(r, r->height + 1);
    if (deadlines(r, t)) makes = 1; /* the ledger's block holds what its deadlines did */
    for (size_t i = 0; i < n && !r->stop[0]; i++) {
        json_t *it = json_array_get(items, i), *spec = json_object_get(it, "action");
        if (i < sizeof skip && skip[i]) continue;
        const char *why =
            settle_gap(r, it, find_slot(r, json_string_value(json_object_get(spec, "task")), get_u64(spec, "slot")), t);
        if (why) { stop_at(r, "%s", why); return; }
    }
    if (r->stop[0] || r->failed) return;
    chain_at(r, t);
    for (size_t i = 0; i < n && !r->failed; i++) {
        gt_err err = {0};
        json_t *it = json_array_get(items, i);
        if (i < sizeof skip && skip[i]) continue;
        int rc = play(r, it, t, &err);
        check_outcome(r, it, rc, &err);
    }
    if (makes) r->height++, r->last_t = t;
}

/* n empty blocks of the ledger, s seconds apart: each one's deadlines. */
static void run_ticks(run *r, json_int_t n, int64_t extra_s) {
    for (json_int_t k = 0; k < n && !r->stop[0] && !r->failed; k++) {
        uint64_t t = next_time(r, extra_s);
        draws_due(r, r->height + 1);
        (void)deadlines(r, t);
        if (r->stop[0]) return;
        chain_at(r, t);
        r->height++, r->last_t = t;
    }
}

/* ---- what the chain holds, in the ledger's terms ---- */

/* One account's buckets: the token, what the escrow holds for it (budgets,
 * stakes, rejection and dispute bonds) and its court stake. */
typedef struct buckets { uint64_t balance, locked, staked, unbonding; } buckets;

/* Is the job's money still in the escrow? */
static int held(run *r, uint64_t id, const gt_escrow_job *j, int *appeal) {
    *appeal = j->status == GT_ESCROW_REJECTED && appeal_until(r, id) != 0;
    return j->status == GT_ESCROW_FUNDED || j->status == GT_ESCROW_SUBMITTED || j->status == GT_ESCROW_DISPUTED ||
           *appeal;
}

/* The rejecter's bond the escrow holds for a job under appeal or dispute:
 * the stake, or a per-unit verdict's rejected units' share of it. */
static uint64_t rejection_bond(run *r, uint64_t id, const gt_escrow_job *j) {
    uint64_t total = 0, accepted = 0;
    gt_err err;
    if (gt_escrow_units(&C, &r->escrow, id, &total, &accepted, &err)) FAIL(r, "unitsOf: %s", err.msg);
    if (!accepted || accepted >= total) return j->stake;
    return (uint64_t)((unsigned __int128)j->stake * (total - accepted) / total);
}

/* What the escrow holds for who (NULL: for everyone). */
static uint64_t escrow_holds(run *r, const gt_addr *who) {
    uint64_t sum = 0;
    for (int i = 0; i < r->n_jobs; i++) {
        gt_escrow_job j;
        gt_err err;
        int appeal;
        if (gt_escrow_get(&C, &r->escrow, r->jobs[i].id, &j, &err)) { FAIL(r, "getJob: %s", err.msg); return 0; }
        if (!held(r, r->jobs[i].id, &j, &appeal)) continue;
        int bonds = (appeal || j.status == GT_ESCROW_DISPUTED);
        if (!who || gt_addr_eq(who, &j.client)) sum += j.budget + fee_of(r, r->jobs[i].id);
        if (j.claimed && (!who || gt_addr_eq(who, &j.provider)))
            sum += j.stake * (j.status == GT_ESCROW_DISPUTED ? 2 : 1);
        if (bonds && (!who || gt_addr_eq(who, &j.evaluator))) sum += rejection_bond(r, r->jobs[i].id, &j);
    }
    return sum;
}

static buckets buckets_of(run *r, const gt_addr *who) {
    gt_abi_val a[] = {gt_abi_address(who)};
    buckets b = {.balance = token_balance(r, who), .locked = escrow_holds(r, who)};
    uint64_t active = view_u64(r, &r->court, "validatorOf(address)", a, 1, 0);
    uint64_t bonded = view_u64(r, &r->court, "validatorOf(address)", a, 1, 1);
    b.staked = active - bonded, b.locked += bonded;
    b.unbonding = view_u64(r, &r->court, "validatorOf(address)", a, 1, 3);
    return b;
}

static void check_balances(run *r, json_t *want) {
    const char *name, *k;
    json_t *v, *x;
    json_object_foreach(want, name, v) {
        party *a = find_acc(r, name);
        if (!a) { FAIL(r, "expectBalances: unknown account %s", name); return; }
        buckets b = buckets_of(r, &a->ca.addr);
        json_object_foreach(v, k, x) {
            uint64_t w = 0, got = !strcmp(k, "balance") ? b.balance : !strcmp(k, "locked") ? b.locked
                               : !strcmp(k, "staked") ? b.staked : !strcmp(k, "unbonding") ? b.unbonding : UINT64_MAX;
            char gs[GT_AMOUNT_STR_MAX];
            if (!json_is_string(x) || gt_amount_parse(json_string_value(x), &w, NULL) || got == UINT64_MAX)
                FAIL(r, "expectBalances %s.%s: not a bucket amount", name, k);
            else if (got != w)
                FAIL(r, "%s.%s is %s on chain, expected %s", name, k, gt_amount_format(got, gs), json_string_value(x));
            else PASS();
        }
    }
}

/* The ledger's names of a job's task status and slot state. */
static void view_of(run *r, job *jb, const gt_escrow_job *j, const char **status, const char **state, uint64_t *escrow,
                    uint64_t *bond) {
    int appeal, h = held(r, jb->id, j, &appeal);
    *escrow = h ? j->budget + fee_of(r, jb->id) : 0;
    *bond = appeal ? rejection_bond(r, jb->id, j) : 0;
    *status = h ? (r->last_t >= jb->claim_close ? "expired" : "open") : "complete";
    switch (j->status) {
    case GT_ESCROW_FUNDED: *state = j->claimed ? "claimed" : "open"; break;
    case GT_ESCROW_SUBMITTED: *state = "submitted"; break;
    case GT_ESCROW_COMPLETED:
        *state = jb->settled_seen ? "paid" : "accepted";
        if (!jb->settled_seen) *status = "open";
        break;
    case GT_ESCROW_REJECTED: *state = appeal ? "rejected" : "refunded"; break;
    case GT_ESCROW_DISPUTED: *state = "disputed"; break;
    default: *state = "refunded"; break;
    }
}

static int same_amount(json_t *want, uint64_t got) {
    uint64_t w = 0;
    return json_is_string(want) && !gt_amount_parse(json_string_value(want), &w, NULL) && w == got;
}

/* The slot's worker: null, or "@name" of the provider that claimed. */
static int same_worker(run *r, json_t *want, const gt_escrow_job *j) {
    if (json_is_null(want)) return !j->claimed;
    const char *s = json_string_value(want);
    party *a = s && s[0] == '@' ? find_acc(r, s + 1) : NULL;
    return a && j->claimed && gt_addr_eq(&a->ca.addr, &j->provider);
}

static void check_slot(run *r, job *jb, const gt_escrow_job *j, json_t *want, const char *state, uint64_t bond) {
    const char *k;
    json_t *v;
    json_object_foreach(want, k, v) {
        int ok = 1;
        if (!strcmp(k, "state")) ok = json_is_string(v) && !strcmp(json_string_value(v), state);
        else if (!strcmp(k, "worker")) ok = same_worker(r, v, j);
        else if (!strcmp(k, "rejectionBond")) ok = same_amount(v, bond);
        else { r->not_compared++; continue; }
        if (ok) PASS();
        else FAIL(r, "task %s slot %d %s differs on chain (state %s, job %s)", jb->tag, jb->slot, k, state,
                  gt_escrow_status_name(j->status));
    }
}

/* A task's view over its slots: the escrow summed; the status the first
 * unfinished slot's (all slots share the claim window), else complete; a
 * cancelled task of several slots is cancelled. */
typedef struct task_view {
    gt_escrow_job j[64];
    const char *state[64];
    uint64_t bond[64];
    const char *status;
    uint64_t escrow;
} task_view;

static int task_view_of(run *r, job *jb, task_view *tv) {
    gt_err err;
    tv->status = "complete", tv->escrow = 0;
    for (int i = 0; i < jb->slots && i < 64; i++) {
        const char *status;
        uint64_t escrow;
        if (gt_escrow_get(&C, &r->escrow, jb[i].id, &tv->j[i], &err)) {
            FAIL(r, "getJob: %s", err.msg);
            return -1;
        }
        view_of(r, &jb[i], &tv->j[i], &status, &tv->state[i], &escrow, &tv->bond[i]);
        tv->escrow += escrow;
        if (strcmp(status, "complete") && !strcmp(tv->status, "complete")) tv->status = status;
    }
    if (jb->task) {
        gt_abi_val a[] = {gt_abi_uint(jb->id)};
        if (view_u64(r, &r->escrow, "tasks(uint256)", a, 1, 1)) tv->status = "cancelled";
    }
    return 0;
}

static void check_task(run *r, json_t *want) {
    job *jb = find_job(r, json_string_value(json_object_get(want, "task")));
    if (!jb) { FAIL(r, "expectTask: a task the runner did not post"); return; }
    task_view *tv = calloc(1, sizeof *tv);
    if (!tv || task_view_of(r, jb, tv)) { free(tv); return; }
    const char *status = tv->status, *k;
    uint64_t escrow = tv->escrow;
    gt_escrow_job j = tv->j[0];
    json_t *v;
    json_object_foreach(want, k, v) {
        if (!strcmp(k, "task")) continue;
        if (!strcmp(k, "status")) {
            if (json_is_string(v) && !strcmp(json_string_value(v), status)) PASS();
            else FAIL(r, "task %s is %s on chain (job %s), expected %s", jb->tag, status,
                      gt_escrow_status_name(j.status), json_string_value(v));
        } else if (!strcmp(k, "escrow")) {
            if (same_amount(v, escrow)) PASS();
            else FAIL(r, "task %s holds %llu on chain, expected %s", jb->tag, (unsigned long long)escrow,
                      json_string_value(v));
        } else if (!strcmp(k, "slotList") && json_array_size(v) == (size_t)jb->slots) {
            for (int i = 0; i < jb->slots; i++) check_slot(r, &jb[i], &tv->j[i], json_array_get(v, i), tv->state[i],
                                                          tv->bond[i]);
        } else {
            r->not_compared++;
        }
    }
    free(tv);
}

/* After every step: the token's supply is what was minted and all of it is
 * with the accounts, the escrow or the court; the escrow holds exactly what
 * its jobs say it holds. */
static void check_books(run *r) {
    uint64_t sum = token_balance(r, &r->escrow) + token_balance(r, &r->court);
    for (int i = 0; i < r->n_acc; i++) sum += token_balance(r, &r->acc[i].ca.addr);
    uint64_t in_escrow = token_balance(r, &r->escrow), owed = escrow_holds(r, NULL);
    if (sum != r->minted) FAIL(r, "the token's holders have %llu, %llu were minted", (unsigned long long)sum,
                               (unsigned long long)r->minted);
    else if (in_escrow != owed) FAIL(r, "the escrow has %llu, its jobs hold %llu", (unsigned long long)in_escrow,
                                     (unsigned long long)owed);
    else PASS();
}

/* ---- a scenario ---- */

static int add_acct(run *r, const char *name, const char *key, uint64_t mint) {
    if (r->n_acc == MAX_ACC) { FAIL(r, "more than %d accounts", MAX_ACC); return -1; }
    party *a = &r->acc[r->n_acc++];
    uint8_t priv[32];
    gt_key k;
    snprintf(a->name, sizeof a->name, "%s", name);
    a->mint = mint;
    if (!key || gt_hex_decode(key, priv, 32, "key", NULL)) gt_keccak256(key ? key : name, strlen(key ? key : name), priv);
    if (gt_key_from_bytes(&k, priv, NULL) || gt_chain_account_init(&a->ca, &k, NULL)) {
        FAIL(r, "bad key for %s", name);
        return -1;
    }
    gt_key_wipe(&k);
    return anvil_rpc(&C, "anvil_setBalance", json_pack("[o,s]", gt_rpc_data(a->ca.addr.b, 20), "0x56bc75e2d63100000"));
}

static int token_call(run *r, gt_chain_account *from, const char *sig, const gt_addr *to, const gt_abi_val *amount) {
    gt_abi_val args[] = {gt_abi_address(to), *amount};
    gt_chain_receipt rc_ = {0};
    gt_err err;
    int rc = gt_chain_invoke(&C, &r->token, from, sig, args, 2, &rc_, NULL, &err);
    if (rc) FAIL(r, "%s: %s", sig, err.msg);
    gt_chain_receipt_free(&rc_);
    return rc;
}

/* The genesis: accounts (and validators val0.. with their stakes), the
 * contracts with the file's windows, each account's mint and its standing
 * approvals of the escrow and the court. Block 1 (and 2) of the ledger. */
static int genesis(run *r, json_t *g) {
    const char *name;
    json_t *v, *vals = json_object_get(g, "validators"), *win = json_object_get(g, "windows");
    json_object_foreach(json_object_get(g, "accounts"), name, v) {
        uint64_t m = 0;
        get_amount(v, "mint", &m);
        if (add_acct(r, name, json_string_value(json_object_get(v, "key")), m)) return -1;
    }
    uint64_t vm = 0, vs = 0;
    get_amount(vals, "mint", &vm), get_amount(vals, "stake", &vs);
    for (json_int_t i = 0; i < json_integer_value(json_object_get(vals, "count")); i++) {
        char vn[16];
        snprintf(vn, sizeof vn, "val%d", (int)i);
        if (add_acct(r, vn, NULL, vm)) return -1;
    }
    uint64_t ub = get_u64(g, "unbondingBlocks");
    gt_court_windows w = {get_u64(win, "disputeS"), get_u64(win, "voteS"), get_u64(win, "revealS"),
                          ub ? ub : DEFAULT_UNBONDING, GT_COURT_SEED_LINKS};
    if (!w.dispute_s) w.dispute_s = DEFAULT_WINDOW_S;
    if (!w.commit_s) w.commit_s = DEFAULT_WINDOW_S;
    if (!w.reveal_s) w.reveal_s = DEFAULT_WINDOW_S;
    if (w.unbonding_s < w.commit_s + w.reveal_s) w.unbonding_s = w.commit_s + w.reveal_s; /* the court's floor */
    uint64_t gas;
    gt_err err;
    if (anvil_deploy(&C, &r->deployer, "GotongToken", NULL, 0, &r->token, &gas) ||
        gt_court_deploy(&C, &r->deployer, CONTRACTS, &r->token, &w, &r->court, &r->escrow, &gas, &err)) {
        FAIL(r, "deploying the contracts failed: %s", err.msg);
        return -1;
    }
    uint8_t max[32];
    memset(max, 0xff, 32);
    gt_abi_val all = gt_abi_u256(max);
    for (int i = 0; i < r->n_acc; i++) {
        party *a = &r->acc[i];
        gt_abi_val m = gt_abi_uint(a->mint);
        if (a->mint && token_call(r, &r->deployer, "mint(address,uint256)", &a->ca.addr, &m)) return -1;
        if (token_call(r, &a->ca, "approve(address,uint256)", &r->escrow, &all) ||
            token_call(r, &a->ca, "approve(address,uint256)", &r->court, &all))
            return -1;
        r->minted += a->mint;
        if (!strncmp(a->name, "val", 3) && vs && gt_court_do(&C, &r->court, &a->ca, GT_COURT_STAKE, vs, NULL, &err)) {
            FAIL(r, "%s's stake: %s", a->name, err.msg);
            return -1;
        }
    }
    r->height = vs ? 2 : 1, r->last_t = GENESIS_TIME + r->height;
    r->base = anvil_now(&C) + 100;
    return 0;
}

/* Sends `as`'s self-transfer of one base unit through the node as `as`
 * (anvil_impersonateAccount: no signing here, one call, so floods of 1000
 * blocks stay quick); automining puts it in a block of its own. */
static int flood_tx(run *r, party *a, json_t **hash) {
    gt_abi_val args[] = {gt_abi_address(&a->ca.addr), gt_abi_uint(1)};
    gt_buf d = GT_BUF_INIT;
    gt_err err;
    int rc = gt_abi_calldata("transfer(address,uint256)", args, 2, &d, &err);
    json_t *tx = rc ? NULL : json_pack("[{s:o, s:o, s:o, s:o}]", "from", gt_rpc_data(a->ca.addr.b, 20), "to",
                                       gt_rpc_data(r->token.b, 20), "data", gt_rpc_data(d.data, d.len), "gas",
                                       gt_rpc_u64(100000));
    gt_buf_free(&d);
    json_decref(*hash);
    *hash = NULL;
    if (!rc) rc = gt_rpc_call(C.rpc, "eth_sendTransaction", tx, hash, &err);
    if (rc) FAIL(r, "flood: a self-transfer of %s was not taken: %s", a->name, rc ? err.msg : "");
    return rc;
}

/* The Transfer events of the token from `who` since block `from`. */
static uint64_t transfers_since(run *r, const gt_addr *who, uint64_t from) {
    uint8_t sig[32], topic[32] = {0};
    json_t *logs = NULL;
    gt_keccak256("Transfer(address,address,uint256)", 33, sig);
    memcpy(topic + 12, who->b, 20);
    json_t *q = json_pack("[{s:o, s:s, s:o, s:[o,o]}]", "fromBlock", gt_rpc_u64(from), "toBlock", "latest", "address",
                          gt_rpc_data(r->token.b, 20), "topics", gt_rpc_data(sig, 32), gt_rpc_data(topic, 32));
    gt_err err;
    uint64_t n = gt_rpc_call(C.rpc, "eth_getLogs", q, &logs, &err) ? UINT64_MAX : json_array_size(logs);
    json_decref(logs);
    return n;
}

/* An attacker's traffic (the ledger's flood): n self-transfers of one base
 * unit by `as`, one block each, all in the last block's second, the ledger's
 * deadlines checked at the first one's start. The chain's blocks share that
 * second: afterwards its clock has not moved and all n transfers applied. */
static void run_flood(run *r, const char *as, json_int_t n) {
    party *a = as ? find_acc(r, as) : NULL;
    if (!a || n < 1 || n > 100000) { FAIL(r, "flood: needs \"as\" and 1 to 100000"); return; }
    uint64_t b0 = 0;
    json_t *hash = NULL;
    gt_err err;
    if (gt_chain_block_number(&C, &b0, &err) ||
        anvil_rpc(&C, "anvil_impersonateAccount", json_pack("[o]", gt_rpc_data(a->ca.addr.b, 20)))) {
        FAIL(r, "flood: cannot send as %s", as);
        return;
    }
    uint64_t t = 0, got;
    for (json_int_t k = 0; k < n && !r->failed && !r->stop[0]; k++) {
        t = next_time(r, -1);
        /* Deadlines are times: the first block of the flood fires what is due
         * in this second; the next ones share it and a self-transfer sets none. */
        if (k == 0) (void)deadlines(r, t);
        if (r->stop[0] || flood_tx(r, a, &hash)) break;
        r->height++, r->last_t = t;
    }
    /* The node mines them in nonce order: the last one's receipt means all are in. */
    uint8_t last[32];
    gt_chain_receipt rc_ = {0};
    if (hash && (gt_rpc_to_fixed(hash, last, 32, "hash", &err) || gt_chain_wait(&C, last, &rc_, &err)))
        FAIL(r, "flood: the last self-transfer was not mined: %s", err.msg);
    gt_chain_receipt_free(&rc_);
    json_decref(hash);
    anvil_rpc(&C, "anvil_stopImpersonatingAccount", json_pack("[o]", gt_rpc_data(a->ca.addr.b, 20)));
    gt_chain_account_resync(&a->ca);
    if (r->failed || r->stop[0]) return;
    if (anvil_now(&C) != r->base + (t - GENESIS_TIME)) FAIL(r, "flood: the chain's clock moved");
    else if ((got = transfers_since(r, &a->ca.addr, b0 + 1)) != (uint64_t)n)
        FAIL(r, "flood: %llu of %lld self-transfers applied", (unsigned long long)got, (long long)n);
    else PASS();
}

/* ---- the block maker's grind ---- */

/* The panel of jb's latest judgement as "name:weight ..." of every seated
 * account (validators are accounts too), in the runner's account order. */
static void panel_text(run *r, job *jb, char *out, size_t cap) {
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < r->n_acc && !r->failed; i++) {
        uint64_t w = 0;
        gt_court_vote v;
        gt_err err;
        if (gt_court_seat(&C, &r->court, jb->id, &r->acc[i].ca.addr, &w, &v, &err)) FAIL(r, "seatOf: %s", err.msg);
        else if (w && len < cap) len += (size_t)snprintf(out + len, cap - len, "%s:%llu ", r->acc[i].name,
                                                         (unsigned long long)w);
    }
}

/* Back to the chain as it was right after jb's judgement opened (a fresh
 * snapshot of it kept: anvil's revert spends the one it reverts to); every
 * account's nonce read again. *block gets the opening's block number. */
static int back_to_opening(run *r, job *jb, uint64_t *block, gt_err *err) {
    json_t *ok = NULL;
    int rc = gt_rpc_call(C.rpc, "evm_revert", json_pack("[s]", jb->opened), &ok, err);
    if (!rc && !json_is_true(ok)) rc = gt_err_set(err, GT_ECHAIN, "evm_revert to %s refused", jb->opened);
    json_decref(ok);
    if (!rc) rc = snapshot(jb, err);
    for (int i = 0; i < r->n_acc; i++) gt_chain_account_resync(&r->acc[i].ca);
    gt_chain_account_resync(&r->deployer);
    return rc ? rc : gt_chain_block_number(&C, block, err);
}

/* Block opening + 1 made the k-th way: empty (k == 0) or holding k
 * self-transfers of 1, 2, ... base units by `as` (sent as `as` through anvil,
 * mined together); then the blocks up to `blocks` after the opening. */
static int grind_blocks(run *r, party *as, int k, json_int_t blocks, gt_err *err) {
    int rc = 0;
    json_t *hash = NULL;
    if (k && (anvil_rpc(&C, "evm_setAutomine", json_pack("[b]", 0)) ||
              anvil_rpc(&C, "anvil_impersonateAccount", json_pack("[o]", gt_rpc_data(as->ca.addr.b, 20)))))
        return gt_err_set(err, GT_ECHAIN, "grind: cannot queue transactions as %s", as->name);
    for (int i = 0; i < k && !rc; i++) {
        gt_abi_val args[] = {gt_abi_address(&as->ca.addr), gt_abi_uint((uint64_t)i + 1)};
        gt_buf d = GT_BUF_INIT;
        rc = gt_abi_calldata("transfer(address,uint256)", args, 2, &d, err);
        json_t *tx = rc ? NULL : json_pack("[{s:o, s:o, s:o, s:o}]", "from", gt_rpc_data(as->ca.addr.b, 20), "to",
                                           gt_rpc_data(r->token.b, 20), "data", gt_rpc_data(d.data, d.len), "gas",
                                           gt_rpc_u64(100000));
        gt_buf_free(&d);
        json_decref(hash);
        hash = NULL;
        if (!rc) rc = gt_rpc_call(C.rpc, "eth_sendTransaction", tx, &hash, err);
    }
    json_decref(hash);
    if (k) {
        anvil_rpc(&C, "anvil_stopImpersonatingAccount", json_pack("[o]", gt_rpc_data(as->ca.addr.b, 20)));
        if (anvil_rpc(&C, "evm_mine", json_array()) || anvil_rpc(&C, "evm_setAutomine", json_pack("[b]", 1)))
            return rc ? rc : gt_err_set(err, GT_ECHAIN, "grind: cannot mine the block");
        gt_chain_account_resync(&as->ca);
    } else if (anvil_rpc(&C, "anvil_mine", json_pack("[i]", 1))) {
        return gt_err_set(err, GT_ECHAIN, "grind: cannot mine the block");
    }
    if (!rc && blocks > 1 && anvil_rpc(&C, "anvil_mine", json_pack("[I]", (json_int_t)(blocks - 1))))
        rc = gt_err_set(err, GT_ECHAIN, "grind: cannot mine the blocks after");
    return rc;
}

/* Block `number`'s hash and transaction count. */
static int block_of(uint64_t number, char hash[67], size_t *txs, gt_err *err) {
    json_t *b = NULL;
    int rc = gt_rpc_call(C.rpc, "eth_getBlockByNumber", json_pack("[o,b]", gt_rpc_u64(number), 0), &b, err);
    const char *h = rc ? NULL : json_string_value(json_object_get(b, "hash"));
    if (!rc && (!h || strlen(h) != 66)) rc = gt_err_set(err, GT_ECHAIN, "block %llu: no hash", (unsigned long long)number);
    if (!rc) snprintf(hash, 67, "%s", h), *txs = json_array_size(json_object_get(b, "transactions"));
    json_decref(b);
    return rc;
}

/* The block maker's grind (test_scenarios.c's): from the chain right after
 * the judgement opened (jb->opened), block opening + 1 is made `tries` ways
 * -- empty, or with 1, 2, ... self-transfers by `as` -- then the blocks up to
 * `blocks` after the opening, then the court's deployer reveals the seed
 * links and the panel is drawn. Each way makes another block (its hash, what
 * blockhash seeding drew from, differs), and every way must draw the same
 * panel. The scenario then goes on from the chain as the opening's step left
 * it: back to the opening, the links revealed and the panel drawn again. */
static void grind(run *r, json_t *spec) {
    const char *as = json_string_value(json_object_get(spec, "as"));
    const char *round = json_string_value(json_object_get(spec, "round"));
    job *jb = find_slot(r, json_string_value(json_object_get(spec, "task")), get_u64(spec, "slot"));
    party *m = as ? find_acc(r, as) : NULL;
    json_int_t tries = json_integer_value(json_object_get(spec, "tries")), blocks = 2;
    if (json_object_get(spec, "blocks")) blocks = json_integer_value(json_object_get(spec, "blocks"));
    if (!m || !jb || !round || tries < 2 || tries > 16 || blocks < 1 || blocks > 16) {
        FAIL(r, "grind: needs \"as\", a task and slot the runner posted, a round, 2 to 16 tries and 1 to 16 blocks");
        return;
    }
    if ((!strcmp(round, "verify") && !jb->quorum) || !jb->opened[0]) {
        stop_at(r, "grind: %s", "a round whose judgement the court did not open (a quorum task's claim, a dispute)");
        return;
    }
    char first[4096] = "", panel[4096], hashes[16][67];
    gt_err err = {0};
    for (json_int_t k = 0; k < tries && !r->failed; k++) {
        uint64_t b0 = 0;
        size_t txs = 0;
        if (back_to_opening(r, jb, &b0, &err) || grind_blocks(r, m, (int)k, blocks, &err) ||
            block_of(b0 + 1, hashes[k], &txs, &err) || seed_and_draw(r, jb, &err)) {
            FAIL(r, "grind: way %lld: %s", (long long)k, err.msg);
            break;
        }
        if (txs != (size_t)k) FAIL(r, "grind: way %lld: block %llu holds %zu transactions", (long long)k,
                                   (unsigned long long)(b0 + 1), txs);
        for (json_int_t i = 0; i < k; i++)
            if (!strcmp(hashes[i], hashes[k])) FAIL(r, "grind: ways %lld and %lld made the same block", (long long)i,
                                                   (long long)k);
        panel_text(r, jb, panel, sizeof panel);
        if (!panel[0]) FAIL(r, "grind: way %lld drew no panel", (long long)k);
        else if (!first[0]) snprintf(first, sizeof first, "%s", panel);
        else if (strcmp(first, panel))
            FAIL(r, "grind: the block maker chose the panel: with %lld more transactions in the block after the "
                    "opening it drew\n  %s\n  instead of\n  %s", (long long)k, panel, first);
        else PASS();
    }
    uint64_t b0;
    jb->draw_h = 0; /* drawn here (the chain back to the opening) */
    if (!r->failed && (back_to_opening(r, jb, &b0, &err) || seed_and_draw(r, jb, &err)))
        FAIL(r, "grind: back to the scenario: %s", err.msg);
}

/* One step of the file (a stop or a failure is left in r). */
static void run_step(run *r, json_t *st) {
    json_t *v;
    if ((v = json_object_get(st, "action"))) {
        json_t *one = json_array();
        json_array_append(one, st);
        run_block(r, one, 0);
        json_decref(one);
    } else if ((v = json_object_get(st, "batch"))) {
        run_block(r, v, 0);
    } else if ((v = json_object_get(st, "tick"))) {
        json_t *spb = json_object_get(st, "secondsPerBlock");
        run_ticks(r, json_integer_value(v), spb ? (int64_t)json_integer_value(spb) - 1 : 0);
    } else if (json_object_get(st, "block")) {
        run_ticks(r, 1, 0);
    } else if ((v = json_object_get(st, "expectBalances"))) {
        check_balances(r, v);
    } else if ((v = json_object_get(st, "expectTask"))) {
        check_task(r, v);
    } else if (json_object_get(st, "expectAgent") || json_object_get(st, "expectReputation") ||
               json_object_get(st, "expectHeight")) {
        r->not_compared++;
    } else if ((v = json_object_get(st, "flood"))) {
        run_flood(r, json_string_value(json_object_get(st, "as")), json_integer_value(v));
    } else if ((v = json_object_get(st, "grind"))) {
        grind(r, v);
    } else {
        FAIL(r, "unknown step kind");
    }
}

/* The first step (1-based) whose rule the file alone shows has no
 * counterpart, if no action with money in it comes before it (then the
 * chain is not even set up); 0 otherwise. *why gets the reason. */
static int stops_before_money(json_t *steps, const char **why) {
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i), *items = json_object_get(st, "batch");
        if (json_object_get(st, "action")) items = NULL;
        for (size_t k = 0; k < (items ? json_array_size(items) : json_object_get(st, "action") ? 1 : 0); k++) {
            json_t *it = items ? json_array_get(items, k) : st;
            const char *type = json_string_value(json_object_get(json_object_get(it, "action"), "type"));
            if ((*why = item_gap(NULL, it)) && expects_ok(it)) return (int)i + 1;
            if (*why) continue; /* a refusal with no counterpart: skipped */
            if (type && strncmp(type, "agent_", 6)) return 0;
        }
    }
    return 0;
}

static void report(run *r, size_t n) {
    size_t len = strlen(summary);
    int ran = r->stop[0] ? r->step - 1 : (int)n;
    if (r->failed) {
        snprintf(summary + len, sizeof summary - len, "FAIL              %s\n", r->file);
    } else if (!r->stop[0]) {
        n_full++;
        snprintf(summary + len, sizeof summary - len, "both backends     %s: all %zu steps (not compared: %d "
                 "expectations of views with no chain counterpart, %d refusals of ledger-only rules)\n", r->file, n,
                 r->not_compared, r->refusals_skipped);
    } else {
        ran > 0 ? n_part++ : n_none++;
        snprintf(summary + len, sizeof summary - len, "NOT RUN ON CHAIN  %s: %d of %zu steps compared, not from %s\n",
                 r->file, ran, n, r->stop);
    }
}

static void run_file(const char *path) {
    run *r = calloc(1, sizeof *r);
    json_t *doc = NULL;
    uint8_t *text = NULL;
    size_t len = 0;
    gt_err err = {0};
    const char *why = NULL;
    r->file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (gt_file_read(path, 1u << 20, &text, &len, &err) || gt_json_parse((const char *)text, len, 1u << 20, &doc, &err)) {
        FAIL(r, "cannot read %s: %s", path, err.msg);
    } else if ((r->step = stops_before_money(json_object_get(doc, "steps"), &why)) != 0) {
        stop_at(r, "%s", why);
        r->step = 1; /* nothing with money in it came before: nothing compared */
        report(r, json_array_size(json_object_get(doc, "steps")));
    } else if (anvil_account(&C, "scenario deployer", &r->deployer) == 0 &&
               genesis(r, json_object_get(doc, "genesis")) == 0) {
        json_t *steps = json_object_get(doc, "steps");
        size_t n = json_array_size(steps);
        for (size_t i = 0; i < n && !r->failed && !r->stop[0]; i++) {
            r->step = (int)i + 1;
            run_step(r, json_array_get(steps, i));
            if (!r->failed && !r->stop[0]) check_books(r);
        }
        report(r, n);
    }
    for (int i = 0; i < r->n_acc; i++) gt_chain_account_wipe(&r->acc[i].ca);
    gt_chain_account_wipe(&r->deployer);
    json_decref(doc);
    gt_free(text);
    free(r);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    anvil_require(1);
    if (access(CONTRACTS "DisputeCourt.bin", R_OK)) {
        fprintf(stderr, "SKIP: %sDisputeCourt.bin missing: build the contracts\n", CONTRACTS);
        return 77;
    }
    if (anvil_start(&C)) return 1;
    if (anvil_rpc(&C, "anvil_setBlockTimestampInterval", json_pack("[i]", 0))) return 1;
    char *names[256];
    int n = 0;
    if (argc > 1) {
        for (int i = 1; i < argc && n < 256; i++) names[n++] = strdup(argv[i]);
    } else {
        DIR *d = opendir(GT_SOURCE_DIR "/tests/scenarios");
        struct dirent *e;
        while (d && (e = readdir(d)) && n < 256) {
            size_t len = strlen(e->d_name);
            if (len > 5 && !strcmp(e->d_name + len - 5, ".json")) {
                char p[512];
                snprintf(p, sizeof p, "%s/tests/scenarios/%s", GT_SOURCE_DIR, e->d_name);
                names[n++] = strdup(p);
            }
        }
        if (d) closedir(d);
    }
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    CHECK(n > 0);
    for (int i = 0; i < n; i++) {
        run_file(names[i]);
        free(names[i]);
    }
    printf("%s", summary);
    printf("scenarios: %d on both backends with the same outcomes, %d compared in part, %d not run on chain\n",
           n_full, n_part, n_none);
    gt_chain_close(&C);
    anvil_stop();
    return gt_test_finish();
}
