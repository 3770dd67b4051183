/* chain_agent.c: `gotong node --chain URL` (see chain_market.h): the
 * deployment from HOME/chain.json, the watcher thread that keeps the chain
 * index, and the node's agent: its card, its registration, and the jobs it
 * works or judges.
 *
 * The agent's one skill is GT_CHAIN_SKILL (a text's bytes, lines and words
 * as JSON): deterministic, so an evaluator re-runs it and compares the
 * result's keccak with the deliverable the worker submitted. A job's input
 * travels off chain (POST /v1/chain/jobs/{id}/input, by the client), and is
 * taken only when its keccak is the description hash the job was posted
 * with; a seated judge of a disputed job gets it from here too (GET, signed:
 * chain_judge.c). With a court, the agent also works the quorum slots it can
 * do: it fetches a slot's input from the client's node first (signed as a
 * prospective worker, whose seats and free stake that node checks), and only
 * then claims it (claimTask; seek), so a client's node that is down or
 * refuses costs no stake; a claimed slot whose input is missing is fed later
 * (feed). A slot whose fetch or claim failed waits on its own, 10 s, then
 * twice as long each failed look up to 5 minutes, while the other slots are
 * still looked at; it is looked at again for as long as it is open (the
 * client's node may come back), and dropped once claimed by another or
 * closed. Every job step is checked against the chain (getJob) before its
 * transaction; a worker's or evaluator's step that fails is tried again on
 * the next rounds, then given up (GT_CHAIN_MAX_ATTEMPTS), the reason kept in
 * the index. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api_impl.h"
#include "api/chain_market.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/log.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "chain/registry.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"

#define CHAIN_JSON_MAX (64u << 10)
#define MARKET_POLL_MS 200 /* the watcher's pause when nothing moved */
#define KEEP_POLL_MS 1000  /* the keeper's rounds (each may ask the chain's time) at most this often */
#define MARKET_TODO_MAX 8  /* jobs acted on per round */
#define SLOT_RETRY_MS 10000      /* a slot's first wait after a failed look (seek, feed); doubled each failed look */
#define SLOT_RETRY_MAX_MS 300000 /* ... up to this */
#define CLAIM_MIN_S 60           /* a claim leaves at least this long to submit (claim_time_ok) ... */
#define CLAIM_S_PER_DEPTH 24     /* ... plus two 12-s blocks per confirmation (the claim's and the submission's) */
#define STAKE_LOCK_MAX_S 5184000 /* 60 days: the longest a claim may hold this node's stake (stake_lock_ok) */

struct gt_chain_market {
    gt_chain chain; /* the watcher thread's alone */
    gt_chain_account acct;
    int has_acct, published;
    gt_cindex *ix;
    gt_addr token, escrow, registry, court; /* court: zero when the deployment has none */
    int has_court;
    gt_addr deployer; /* chain.json's: when it is the agent's wallet, the keeper reveals the court's seed links */
    const char *chain_url; /* --chain (the node's config outlives the market): the input route's own connection */
    uint64_t chain_id, confirmations;
    uint64_t max_stake_pct; /* --max-stake-pct: the most stake a claim locks, in % of the job's budget */
    gt_card card;   /* served at /.well-known/agent-card.json (with the agent's id once registered) */
    pthread_mutex_t mu; /* card, stop */
    pthread_cond_t cv;
    int stop;
    pthread_t th;
    int has_thread;
    uint64_t keep_next_ms; /* CLOCK_MONOTONIC ms of the keeper's next round (watcher thread only) */
    char last_err[GT_ERR_MSG_MAX]; /* the watcher's last failure, logged once */
};

/* CLOCK_MONOTONIC in ms. */
static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Address field name of j into out. */
static int json_addr(const json_t *j, const char *name, gt_addr *out, gt_err *err) {
    const char *s = NULL;
    int rc = gt_json_get_str(j, name, GT_ADDR_STR_BYTES - 1, &s, err);
    return rc ? rc : gt_addr_parse(s, out, err);
}

/* HOME/chain.json: the chain id, the token, escrow and registry, and the block to index from. */
static int read_deployment(const char *home, gt_chain_market *m, uint64_t *from_block, gt_err *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/chain.json", home);
    uint8_t *text = NULL;
    size_t len = 0;
    json_t *j = NULL;
    int rc = gt_file_read(path, CHAIN_JSON_MAX, &text, &len, err);
    if (!rc) rc = gt_json_parse((const char *)text, len, CHAIN_JSON_MAX, &j, err);
    if (!rc) rc = gt_json_get_u64(j, "chain_id", &m->chain_id, err);
    if (!rc) rc = json_addr(j, "GotongToken", &m->token, err);
    if (!rc) rc = json_addr(j, "JobEscrow", &m->escrow, err);
    if (!rc) rc = json_addr(j, "AgentRegistry", &m->registry, err);
    m->has_court = !rc && json_object_get(j, "DisputeCourt");
    if (m->has_court) rc = json_addr(j, "DisputeCourt", &m->court, err);
    if (!rc && json_object_get(j, "deployer")) rc = json_addr(j, "deployer", &m->deployer, err);
    *from_block = 0;
    if (!rc && json_object_get(j, "from_block")) rc = gt_json_get_u64(j, "from_block", from_block, err);
    json_decref(j);
    gt_free(text);
    return rc ? gt_err_wrap(err, "%s (written by gotong chain deploy)", path) : 0;
}

/* See chain_market.h: GT_CHAIN_SKILL, bytes, lines and words of the input, as JSON. */
int gt_chain_skill_run(const gt_buf *in, gt_buf *out, gt_err *err) {
    uint64_t lines = 0, words = 0;
    int in_word = 0;
    for (size_t i = 0; i < in->len; i++) {
        uint8_t c = in->data[i];
        int space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
        lines += c == '\n';
        words += !space && !in_word;
        in_word = !space;
    }
    if (in->len && in->data[in->len - 1] != '\n') lines++;
    char text[128];
    int n = snprintf(text, sizeof text, "{\"bytes\":%zu,\"lines\":%llu,\"words\":%llu}", in->len,
                     (unsigned long long)lines, (unsigned long long)words);
    out->len = 0;
    return gt_buf_append(out, text, (size_t)n) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
}

/* 0 when a claim of job id asking stake holds it at most STAKE_LOCK_MAX_S (lock_s: a timed job's submitSeconds +
 * verifySeconds, else the time to its expiry): a claim's stake comes back by a verdict or only after the job's last
 * deadline, so a silent evaluator (or a client judging its own job) with a deadline years on holds it that long (the
 * escrow allows phases of 2^32 - 1 s and expiries to 2^40 - 1; the ledger bounds each window by
 * GT_MARKET_MAX_WINDOW_S). GT_ESTATE, for good, otherwise. */
static int stake_lock_ok(uint64_t id, uint64_t stake, uint64_t lock_s, gt_err *err) {
    if (!stake || lock_s <= STAKE_LOCK_MAX_S) return 0;
    return gt_err_set(err, GT_ESTATE, "job %llu could hold this node's stake %llu s before a deadline frees it, over "
                      "the %d s it stakes for: not claimed", (unsigned long long)id, (unsigned long long)lock_s,
                      STAKE_LOCK_MAX_S);
}

/* 0 when job id's stake is at most max_stake_pct % of its budget (--max-stake-pct, default 100: a worker never risks
 * more than the job pays). A claim's stake goes to the client on a rejection that stands, so a poster asking a huge
 * stake for a tiny budget (and rejecting, or naming an evaluator that does) takes far more by the slash than it
 * pays for the work; before, the agent staked whatever its balance covered for any budget at its price. GT_EFUNDS,
 * for good (a funded job's terms do not change), otherwise. */
static int stake_ratio_ok(const gt_chain_market *m, uint64_t id, uint64_t budget, uint64_t stake, gt_err *err) {
    if ((unsigned __int128)stake * 100 <= (unsigned __int128)budget * m->max_stake_pct) return 0;
    return gt_err_set(err, GT_EFUNDS, "job %llu asks a stake of %llu base units for a budget of %llu, over the %llu %% "
                      "of its budget this node stakes (--max-stake-pct): not claimed", (unsigned long long)id,
                      (unsigned long long)stake, (unsigned long long)budget, (unsigned long long)m->max_stake_pct);
}

/* 0 when job id (expiring at expired_at) leaves this agent time to submit after a claim sent now: the submit window
 * (a timed job's submitSeconds, the claim's block on; else the expiry less the chain's time) at least
 * CLAIM_MIN_S plus CLAIM_S_PER_DEPTH per confirmation (the claim and the submission each confirmed at the node's
 * depth, the index seeing the claim between them). A claim that cannot be submitted in time forfeits the stake to
 * the client (timeout or claimRefund), so a client that posts a window too short for any node would take the stake
 * of every node that claims: GT_ESTATE, for good (the window never grows), and nothing is claimed; nor when the
 * stake could be held too long (stake_lock_ok). */
static int claim_time_ok(gt_chain_market *m, uint64_t id, uint64_t expired_at, uint64_t stake, gt_err *err) {
    uint64_t now = 0, need = CLAIM_MIN_S + CLAIM_S_PER_DEPTH * m->confirmations;
    gt_escrow_phase ph;
    int rc = gt_chain_block_time(&m->chain, &now, err);
    if (!rc) rc = gt_escrow_phases(&m->chain, &m->escrow, id, &ph, err);
    if (rc) return rc;
    uint64_t left = ph.submit_s ? ph.submit_s : expired_at > now ? expired_at - now : 0;
    if (left < need)
        return gt_err_set(err, GT_ESTATE, "job %llu leaves %llu s to submit after a claim, under the %llu s this node "
                          "needs at depth %llu: not claimed (its stake would be lost)", (unsigned long long)id,
                          (unsigned long long)left, (unsigned long long)need, (unsigned long long)m->confirmations);
    /* A verify window too short for a verdict or a panel's vote (the submission seen at the depth, a vote or verdict
     * sent and mined: the same time a submission needs) ends the job unjudged: the work unpaid, the stake held until
     * the timeout. */
    if (ph.verify_s && ph.verify_s < need)
        return gt_err_set(err, GT_ESTATE, "job %llu leaves %llu s to judge a submission, under the %llu s a verdict "
                          "or a panel's vote needs at depth %llu: not claimed (it would close unjudged, the work "
                          "unpaid)", (unsigned long long)id, (unsigned long long)ph.verify_s, (unsigned long long)need,
                          (unsigned long long)m->confirmations);
    return stake_lock_ok(id, stake, ph.submit_s ? ph.submit_s + ph.verify_s : left, err);
}

/* The worker's steps on job j (named provider): claim unless claimed (only with time left to submit,
 * claim_time_ok), run the skill, submit the result's keccak. */
static int work_job(gt_chain_market *m, const gt_cjob *j, const gt_buf *in, gt_err *err) {
    gt_escrow_job now;
    gt_buf out = GT_BUF_INIT;
    uint8_t h[32];
    if (j->budget < m->card.price)
        return gt_err_set(err, GT_EFUNDS, "job %llu budgets %llu base units, under this agent's price %llu",
                          (unsigned long long)j->id, (unsigned long long)j->budget,
                          (unsigned long long)m->card.price);
    int rc = gt_escrow_get(&m->chain, &m->escrow, j->id, &now, err);
    if (!rc && now.status != GT_ESCROW_FUNDED)
        rc = gt_err_set(err, GT_ESTATE, "job %llu is %s on chain, not funded", (unsigned long long)j->id,
                        gt_escrow_status_name(now.status));
    if (!rc && !now.claimed) rc = stake_ratio_ok(m, j->id, now.budget, now.stake, err);
    if (!rc && !now.claimed) rc = claim_time_ok(m, j->id, now.expired_at, now.stake, err);
    if (!rc && !now.claimed)
        rc = gt_escrow_do(&m->chain, &m->escrow, &m->acct, GT_ESCROW_CLAIM, j->id, NULL, NULL, err);
    if (!rc) rc = gt_chain_skill_run(in, &out, err);
    if (!rc) rc = gt_cindex_put_output(m->ix, j->id, out.data, out.len, err);
    if (!rc) gt_keccak256(out.data, out.len, h);
    if (!rc) rc = gt_escrow_do(&m->chain, &m->escrow, &m->acct, GT_ESCROW_SUBMIT, j->id, h, NULL, err);
    if (!rc) GT_INFO("node: job %llu worked and submitted (%zu bytes of result)", (unsigned long long)j->id, out.len);
    gt_buf_free(&out);
    return rc;
}

/* See chain_market.h. One eth_getLogs of the escrow over one block (the index's submitted_block), so the work is
 * bounded by that block's logs (GT_CHAIN_MAX_LOGS; more: GT_ELIMIT, tried again). */
int gt_chain_submitted(gt_chain *c, const gt_addr *escrow, const gt_cjob *j, uint8_t out[32], gt_err *err) {
    static const char sig[] = "JobSubmitted(uint256,address,bytes32)";
    uint8_t topic[32], id_word[32] = {0};
    gt_chain_receipt logs = {0};
    int found = 0, rc = 0;
    gt_keccak256(sig, strlen(sig), topic);
    for (int i = 0; i < 8; i++) id_word[31 - i] = (uint8_t)(j->id >> (8 * i));
    if (j->submitted_block) rc = gt_chain_get_logs(c, escrow, 1, j->submitted_block, j->submitted_block, &logs, err);
    for (size_t i = 0; !rc && i < logs.n_logs; i++) { /* the block's last submission of the job: its latest */
        const gt_chain_log *l = &logs.logs[i];
        if (l->n_topics < 2 || memcmp(l->topics[0], topic, 32) || memcmp(l->topics[1], id_word, 32)) continue;
        rc = gt_abi_get_word(l->data, l->data_len, 0, out, err);
        found = !rc;
    }
    gt_chain_receipt_free(&logs);
    if (rc || found) return rc;
    return gt_err_set(err, GT_ESTATE, "job %llu: the chain holds no submission of it in block %llu, where the index "
                      "took one: not judged", (unsigned long long)j->id, (unsigned long long)j->submitted_block);
}

/* The evaluator's step on job j: re-run the skill; complete when the result's keccak is the deliverable the chain
 * holds (gt_chain_submitted; the index's copy is only where to look), reject otherwise. */
static int judge_job(gt_chain_market *m, const gt_cjob *j, const gt_buf *in, gt_err *err) {
    gt_buf out = GT_BUF_INIT;
    uint8_t h[32], reason[32], deliverable[32];
    int rc = gt_chain_submitted(&m->chain, &m->escrow, j, deliverable, err);
    if (!rc && memcmp(deliverable, j->deliverable, 32))
        GT_WARN("node: job %llu: the index's deliverable is not the one the chain holds: judging the chain's",
                (unsigned long long)j->id);
    if (!rc) rc = gt_chain_skill_run(in, &out, err);
    if (rc) return rc;
    gt_keccak256(out.data, out.len, h);
    int equal = !memcmp(h, deliverable, 32);
    const char *why = equal ? "gotong: re-executed, the result matches" : "gotong: re-executed, the result differs";
    gt_keccak256(why, strlen(why), reason);
    rc = gt_escrow_do(&m->chain, &m->escrow, &m->acct, equal ? GT_ESCROW_COMPLETE : GT_ESCROW_REJECT, j->id, reason,
                      NULL, err);
    if (!rc) GT_INFO("node: job %llu re-executed: %s", (unsigned long long)j->id, equal ? "completed" : "rejected");
    gt_buf_free(&out);
    return rc;
}

/* One job this agent may act on now, acted on and marked. */
static void act_one(gt_chain_market *m, uint64_t id) {
    gt_cjob j;
    gt_buf in = GT_BUF_INIT;
    gt_err err = {0};
    int found = 0;
    int rc = gt_cindex_job(m->ix, id, &j, &err);
    if (!rc) rc = gt_cindex_work(m->ix, id, &in, NULL, &found, &err);
    if (!rc && found) {
        rc = gt_addr_eq(&j.provider, &m->acct.addr) ? work_job(m, &j, &in, &err) : judge_job(m, &j, &in, &err);
        gt_err merr;
        int step = !rc ? 1 : rc == GT_EFUNDS ? -1 : 0; /* claim_time_ok's GT_ESTATE: given up after the attempts */
        if (rc) GT_WARN("node: job %llu: %s", (unsigned long long)id, err.msg);
        if (gt_cindex_mark(m->ix, id, step, rc ? err.msg : "done", &merr)) GT_WARN("node: %s", merr.msg);
    }
    gt_buf_free(&in);
}

/* 0 when job j's client runs an agent (registered), whose node could serve the input: a slot of a client with
 * none is not claimed, as nobody would serve its input (checked before the fetch, for a plainer reason). */
static int client_serves(gt_chain_market *m, const gt_cjob *j, gt_err *err) {
    uint64_t agent = 0;
    int rc = gt_registry_agent_of(&m->chain, &m->registry, &j->client, &agent, err);
    if (!rc && !agent)
        rc = gt_err_set(err, GT_ENOTFOUND, "the client runs no agent: no node of its would serve the slot's input");
    return rc;
}

/* Open slot id's input, fetched from its client's node BEFORE any claim (the request signed by this agent's wallet;
 * that node serves an open slot's input to an agent that could claim it, its seats and free stake read from the
 * chain, gt_chain_prospect_ok), checked against the description hash, into *j and in (kept in the index once the
 * claim succeeds: claim_slot). A node that cannot get it does not claim: an honest worker never has its stake locked
 * on a slot it could not work. */
static int prefetch(gt_chain_market *m, uint64_t id, gt_cjob *j, gt_buf *in, gt_err *err) {
    gt_chain_deploy d = {.court = &m->court, .escrow = &m->escrow, .registry = &m->registry};
    int rc = gt_cindex_job(m->ix, id, j, err);
    if (!rc) rc = client_serves(m, j, err);
    if (!rc) rc = gt_chain_fetch_input(&m->chain, &m->acct, &d, j, &j->client, in, err);
    return rc;
}

/* The claim of open slot id, whose input in is held: claimTask on its task (the escrow gives the task's lowest free
 * slot, *got, read from the receipt's JobClaimed; every slot of a task has the task's description hash, so in is its
 * input too), or claim() of a quorum job no task holds (postQuorum). Once claimed, in is kept for *got: act() works
 * it, and seek looks at it no more while the index has not yet seen the claim. Not for id when the escrow gave
 * another slot: id is still open, and this agent may hold another seat on the task (its seatsPerWorker); kept for
 * id too, the input made seek pass id over for good, so the seat went unused and id stayed open
 * (test_chain_quorum_nodes' test_other_slot_claimed). Looked at again, id is fetched and claimed as any open slot,
 * or its client's node refuses this agent once its seats are used. A failed claim keeps nothing, so the slot is
 * looked at again. */
static int claim_slot(gt_chain_market *m, uint64_t id, uint64_t task, const gt_buf *in, uint64_t *got, uint64_t *gas,
                      gt_err *err) {
    static const char claimed_sig[] = "JobClaimed(uint256,address,uint256)";
    uint8_t topic[32];
    *got = id;
    gt_abi_val args[] = {gt_abi_uint(task)};
    gt_chain_receipt r = {0};
    int rc = task ? gt_chain_invoke(&m->chain, &m->escrow, &m->acct, "claimTask(uint256)", args, 1, &r, gas, err)
                  : gt_escrow_do(&m->chain, &m->escrow, &m->acct, GT_ESCROW_CLAIM, id, NULL, gas, err);
    gt_keccak256(claimed_sig, strlen(claimed_sig), topic);
    for (size_t i = 0; !rc && i < r.n_logs; i++) {
        const gt_chain_log *l = &r.logs[i];
        if (!gt_addr_eq(&l->address, &m->escrow) || l->n_topics < 2 || memcmp(l->topics[0], topic, 32)) continue;
        rc = gt_abi_get_u64(l->topics[1], 32, 0, got, err);
    }
    gt_chain_receipt_free(&r);
    if (!rc) rc = gt_cindex_put_input(m->ix, *got, in->data, in->len, err);
    return rc;
}

/* Slot id's note after a look, kept (and logged): what (a claim, or why not: no_what), what as is when no_what is
 * NULL; a failed look that is not final waits on its own (gt_cindex_look_later: SLOT_RETRY_MS doubled each failed
 * look, up to SLOT_RETRY_MAX_MS; the other slots are looked at meanwhile), and the note counts the looks and the
 * wait; a final one (this node will never claim it) is refused for good (gt_cindex_mark -1). */
static void slot_note(gt_chain_market *m, uint64_t id, const char *no_what, int final, const char *what) {
    gt_err err;
    char note[GT_ERR_MSG_MAX + 160];
    uint64_t looks = 0, wait_ms = 0;
    int bad = 0;
    if (!no_what) snprintf(note, sizeof note, "%s", what);
    else if (final) snprintf(note, sizeof note, "%s: %s", no_what, what);
    else if (!(bad = gt_cindex_look_later(m->ix, id, mono_ms(), SLOT_RETRY_MS, SLOT_RETRY_MAX_MS, &looks, &wait_ms,
                                          &err)))
        snprintf(note, sizeof note, "%s (look %llu, again in %llu s): %s", no_what, (unsigned long long)looks,
                 (unsigned long long)(wait_ms / 1000), what);
    if (!bad) {
        GT_INFO("node: job %llu: %s", (unsigned long long)id, note);
        bad = gt_cindex_note(m->ix, id, note, &err);
    }
    if (!bad && no_what && final) bad = gt_cindex_mark(m->ix, id, -1, note, &err);
    if (bad) GT_WARN("node: %s", err.msg);
}

/* After a look at open slot id whose client's node did not answer (j: the slot): the client's other open slots
 * wait as long as id (gt_cindex_client_later), each noted with why. A client posting N junk slots whose node hangs
 * cost the watcher N looks of up to a card's and an input's timeout each (about 5 s) every wait; now one. */
static void client_waits(gt_chain_market *m, uint64_t id, const gt_cjob *j, const char *why) {
    char note[GT_ERR_MSG_MAX + 160];
    size_t n = 0;
    gt_err err = {0};
    snprintf(note, sizeof note, "no claim yet: waits with slot %llu of the same client, whose node failed: %s",
             (unsigned long long)id, why);
    if (gt_cindex_client_later(m->ix, id, j, &m->court, note, &n, &err)) {
        GT_WARN("node: %s", err.msg);
        return;
    }
    if (n) GT_INFO("node: %zu other open slot(s) of job %llu's client wait with it", n, (unsigned long long)id);
}

/* A quorum slot this agent could work (the index's oldest whose wait after a failed look ended), unless its wallet
 * is a court validator (it judges the rounds instead) or has used its seats on the slot's task (both refused for
 * good, with no request to the client's node): its input fetched first (prefetch), then
 * claimed (claim_slot); no input, no claim (the client's node down, refusing, or not holding it yet: the slot waits
 * on its own and is looked at again while it is open, slot_note). */
static void seek(gt_chain_market *m) {
    uint64_t id = 0, task = 0, gas = 0, got = 0, staked = 0;
    size_t n = 0;
    gt_err err;
    gt_cjob j;
    gt_buf in = GT_BUF_INIT;
    char note[GT_ERR_MSG_MAX + 64];
    int rc = gt_cindex_open_slots(m->ix, &m->acct.addr, &m->court, m->card.price, mono_ms(), &id, 1, &n, &err);
    if (!rc && n) rc = gt_chain_view_u64(&m->chain, &m->court, "validatorOf(address)",
                                          (gt_abi_val[]){gt_abi_address(&m->acct.addr)}, 1, 0, &staked, &err);
    if (rc) GT_WARN("node: %s", err.msg);
    if (rc || !n) return;
    if (staked) {
        return slot_note(m, id, "no claim", 1, "this wallet is a court validator: it judges quorum rounds (a claim "
                         "would keep it off the task's panels)");
    }
    /* Its own seats first: a wallet whose seats on the task are used would be refused the input (and its claim
     * would revert) on every look while the slot is open; seats are never given back, so that is final. */
    if ((rc = gt_chain_seat_left(&m->chain, &m->escrow, id, &m->acct.addr, &err)))
        return slot_note(m, id, "no claim", rc == GT_EPERM, err.msg);
    /* A window too short to submit in is for good too (the slot's submitSeconds never change), as is a stake too
     * large for the slot's budget (its terms never change). */
    if ((rc = gt_cindex_job(m->ix, id, &j, &err)) || (rc = stake_ratio_ok(m, id, j.budget, j.stake, &err)) ||
        (rc = claim_time_ok(m, id, j.expired_at, j.stake, &err)))
        return slot_note(m, id, "no claim", rc == GT_ESTATE || rc == GT_EFUNDS, err.msg);
    if ((rc = prefetch(m, id, &j, &in, &err))) {
        gt_buf_free(&in);
        slot_note(m, id, "no claim", 0, err.msg);
        /* The client's node did not answer (its card or the input request: GT_EIO, or an answer over its bound):
         * its other slots would fail the same way. An answer about this slot (404: not held yet; a wrong hash)
         * leaves them alone: another slot's input may be there (test_chain_quorum_nodes' test_other_slot_claimed). */
        if (rc == GT_EIO || rc == GT_ELIMIT) client_waits(m, id, &j, err.msg);
        return;
    }
    rc = gt_chain_task_of(&m->chain, &m->escrow, id, &task, &err);
    if (!rc) rc = claim_slot(m, id, task, &in, &got, &gas, &err);
    gt_buf_free(&in);
    if (rc) return slot_note(m, id, "no claim", 0, err.msg);
    if (!task) snprintf(note, sizeof note, "claimed quorum job %llu, its input fetched first (gas %llu)",
                        (unsigned long long)id, (unsigned long long)gas);
    else snprintf(note, sizeof note, "claimed slot %llu of quorum task %llu (looked at slot %llu), its input fetched "
                  "first (gas %llu)", (unsigned long long)got, (unsigned long long)task, (unsigned long long)id,
                  (unsigned long long)gas);
    slot_note(m, got, NULL, 0, note); /* on the slot claimed: id, when another, is looked at again */
}

/* The quorum slots this agent claimed whose input it lacks (seek keeps the input once it claims, so only a claim
 * made elsewhere with this wallet, or an input lost after the claim), each whose wait after a failed fetch ended:
 * fetched from the client's node (the worker's request signed; chain_judge.c), kept, then worked by act(); a failed
 * fetch makes that slot alone wait (slot_note), and it is fetched again while it is claimed and funded (its stake
 * is at stake until the slot's submit deadline). */
static void feed(gt_chain_market *m) {
    uint64_t ids[MARKET_TODO_MAX];
    size_t n = 0;
    gt_err err;
    gt_chain_deploy d = {.court = &m->court, .escrow = &m->escrow, .registry = &m->registry};
    if (gt_cindex_slots_unfed(m->ix, &m->acct.addr, &m->court, mono_ms(), ids, MARKET_TODO_MAX, &n, &err))
        GT_WARN("node: %s", err.msg);
    for (size_t i = 0; i < n; i++) {
        gt_cjob j;
        gt_buf in = GT_BUF_INIT;
        int rc = gt_cindex_job(m->ix, ids[i], &j, &err);
        if (!rc) rc = gt_chain_fetch_input(&m->chain, &m->acct, &d, &j, &j.client, &in, &err);
        if (!rc) rc = gt_cindex_put_input(m->ix, ids[i], in.data, in.len, &err);
        gt_buf_free(&in);
        if (rc) slot_note(m, ids[i], "no input from the client's node", 0, err.msg);
    }
}

/* The jobs this agent may act on now, acted on; with a court, the quorum slots it claims and feeds first. */
static void act(gt_chain_market *m) {
    uint64_t ids[MARKET_TODO_MAX];
    size_t n = 0;
    gt_err err;
    if (m->has_court) seek(m), feed(m);
    if (gt_cindex_todo(m->ix, &m->acct.addr, m->has_court ? &m->court : NULL, ids, MARKET_TODO_MAX, &n, &err))
        GT_WARN("node: %s", err.msg);
    for (size_t i = 0; i < n; i++) act_one(m, ids[i]);
}

/* A keeper round (chain_keeper.c), then a judge's (chain_judge.c), once KEEP_POLL_MS passed since the last:
 * the watcher wakes every MARKET_POLL_MS, and a round with a job of this
 * agent open asks the chain for its time. */
static void keep(gt_chain_market *m) {
    uint64_t now_ms = mono_ms();
    if (now_ms < m->keep_next_ms) return;
    m->keep_next_ms = now_ms + KEEP_POLL_MS;
    int seeder = m->has_court && gt_addr_eq(&m->deployer, &m->acct.addr);
    gt_chain_keep(&m->chain, &m->acct, &m->escrow, m->has_court ? &m->court : NULL, seeder, m->ix);
    if (m->has_court) gt_chain_judge(&m->chain, &m->acct, &m->court, &m->escrow, &m->registry, m->ix);
}

/* The agent's standing approval of the escrow (stakes and bonds), then its card's URI in the registry. */
static int publish(gt_chain_market *m, gt_err *err) {
    uint8_t max[32];
    memset(max, 0xff, 32);
    gt_abi_val approve[] = {gt_abi_address(&m->escrow), gt_abi_u256(max)};
    gt_chain_receipt r = {0};
    char uri[GT_CARD_URL_MAX + 64];
    uint64_t id = 0;
    int rc = gt_chain_invoke(&m->chain, &m->token, &m->acct, "approve(address,uint256)", approve, 2, &r, NULL, err);
    gt_chain_receipt_free(&r);
    snprintf(uri, sizeof uri, "%s" GT_CARD_PATH, m->card.url);
    if (!rc) rc = gt_registry_publish(&m->chain, &m->registry, &m->acct, uri, &id, err);
    if (rc) return rc;
    pthread_mutex_lock(&m->mu);
    m->card.agent_id = id;
    pthread_mutex_unlock(&m->mu);
    GT_INFO("node: agent %llu registered at %s", (unsigned long long)id, uri);
    return 0;
}

/* Logs a watcher failure once (not again while it repeats). */
static void warn_once(gt_chain_market *m, int rc, const gt_err *err) {
    if (!rc) {
        m->last_err[0] = 0;
        return;
    }
    if (strcmp(m->last_err, err->msg)) GT_WARN("node: chain: %s", err->msg);
    snprintf(m->last_err, sizeof m->last_err, "%s", err->msg);
}

static void *watcher_main(void *arg) {
    gt_chain_market *m = arg;
    for (;;) {
        gt_err err = {0};
        int moved = 0, rc = 0;
        if (m->has_acct && !m->published) rc = publish(m, &err), m->published = !rc;
        if (rc) warn_once(m, rc, &err); /* tried again next round; the index goes on */
        rc = gt_cindex_round(m->ix, &m->chain, m->confirmations, &moved, &err);
        if (rc || m->published || !m->has_acct) warn_once(m, rc, &err); /* a failing publish stays logged once */
        if (m->has_acct && m->published) {
            act(m);
            keep(m);
        }
        pthread_mutex_lock(&m->mu);
        if (!moved && !m->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += MARKET_POLL_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&m->cv, &m->mu, &ts);
        }
        int stop = m->stop;
        pthread_mutex_unlock(&m->mu);
        if (stop) return NULL;
    }
}

/* The agent's card from the node's settings (its id once registered). */
static int make_card(gt_node *n, gt_chain_market *m, gt_err *err) {
    const gt_node_config *cfg = &n->cfg;
    gt_card *c = &m->card;
    if (cfg->chain_public_url) snprintf(c->url, sizeof c->url, "%s", cfg->chain_public_url);
    else { /* --listen's host (an IPv4 literal) and the port it got */
        const char *colon = strrchr(n->listen, ':');
        int host_len = colon ? (int)(colon - n->listen) : (int)strlen(n->listen);
        snprintf(c->url, sizeof c->url, "http://%.*s:%u", host_len, n->listen, (unsigned)n->port);
    }
    size_t len = strlen(c->url);
    if (len && c->url[len - 1] == '/') c->url[--len] = 0;
    if (strncmp(c->url, "http://", 7) && strncmp(c->url, "https://", 8))
        return gt_err_set(err, GT_EINVAL, "--public-url %s: expected an http:// or https:// URL", c->url);
    char wallet[GT_ADDR_STR_BYTES];
    gt_addr_to_str(&m->acct.addr, wallet);
    snprintf(c->name, sizeof c->name, "%s", cfg->chain_name ? cfg->chain_name : wallet);
    snprintf(c->skills[0], sizeof c->skills[0], "%s", GT_CHAIN_SKILL);
    c->n_skills = 1;
    c->wallet = m->acct.addr, c->escrow = m->escrow, c->registry = m->registry;
    c->chain_id = m->chain_id, c->price = cfg->chain_price;
    c->roles = GT_CARD_ROLE_WORKER | GT_CARD_ROLE_EVALUATOR;
    return 0;
}

/* The chain (its id the recorded one), the index, the agent's account and card. */
static int market_open(gt_node *n, gt_chain_market *m, gt_err *err) {
    uint64_t from_block = 0;
    char path[4300];
    int rc = read_deployment(n->home, m, &from_block, err);
    if (!rc) rc = gt_chain_open(n->cfg.chain_url, &m->chain, err);
    if (rc) return rc;
    m->chain.confirmations = m->confirmations;
    if (m->chain.chain_id != m->chain_id)
        return gt_err_set(err, GT_ECHAIN, "%s is chain %llu; HOME/chain.json records chain %llu", n->cfg.chain_url,
                          (unsigned long long)m->chain.chain_id, (unsigned long long)m->chain_id);
    snprintf(path, sizeof path, "%s/chain_index.db", n->home);
    if ((rc = gt_cindex_open(path, m->chain_id, &m->escrow, &m->registry, from_block, &m->ix, err))) return rc;
    if (!n->cfg.chain_key) return 0;
    if ((rc = gt_chain_account_init(&m->acct, n->cfg.chain_key, err))) return rc;
    m->has_acct = 1;
    return make_card(n, m, err);
}

int gt_chain_market_start(gt_node *n, gt_chain_market **out, gt_err *err) {
    assert(n->cfg.chain_url && n->cfg.chain_confirmations >= 1);
    gt_chain_market *m = gt_calloc(1, sizeof *m);
    if (!m) return gt_err_set(err, GT_ENOMEM, "out of memory");
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    m->confirmations = n->cfg.chain_confirmations;
    m->chain_url = n->cfg.chain_url;
    m->max_stake_pct = n->cfg.chain_max_stake_pct;
    int rc = market_open(n, m, err);
    if (!rc && pthread_create(&m->th, NULL, watcher_main, m) != 0)
        rc = gt_err_set(err, GT_ENOMEM, "cannot start the chain market's watcher thread");
    m->has_thread = !rc;
    if (rc) {
        gt_chain_market_stop(m);
        return gt_err_wrap(err, "--chain %s", n->cfg.chain_url);
    }
    GT_INFO("node: settling on chain %llu at %s (escrow indexed at depth %llu)%s", (unsigned long long)m->chain_id,
            n->cfg.chain_url, (unsigned long long)m->confirmations, m->has_acct ? ", with an agent" : "");
    *out = m;
    return 0;
}

void gt_chain_market_stop(gt_chain_market *m) {
    if (!m) return;
    if (m->has_thread) {
        pthread_mutex_lock(&m->mu);
        m->stop = 1;
        pthread_cond_signal(&m->cv);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->th, NULL);
    }
    gt_cindex_close(m->ix);
    if (m->chain.rpc) gt_chain_close(&m->chain);
    if (m->has_acct) gt_chain_account_wipe(&m->acct);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    gt_free(m);
}

/* See chain_market.h. Set before the market is handed to the node, never changed. */
uint64_t gt_chain_market_chain_id(const gt_chain_market *m) {
    assert(m);
    return m->chain_id;
}

/* ---- HTTP (routes in http.c) ---- */

/* The node's market, or a 404 saying how to get one (503 while a --chain
 * node is still opening it: its HTTP serves first). */
static gt_chain_market *market_of(gt_req *r, gt_resp *o) {
    gt_chain_market *m = gt_node_chain_market(r->node);
    if (!m && r->node->cfg.chain_url)
        gt_resp_error(o, 503, GT_ESTATE, "this node is still opening its chain market at %s: try again in a moment",
                      r->node->cfg.chain_url);
    else if (!m)
        gt_resp_error(o, 404, GT_ENOTFOUND, "this node does not settle on a chain (start it with --chain URL)");
    return m;
}

/* Route parameter 0 as a job id (decimal, 1..2^63 - 1). */
static int job_param(gt_req *r, gt_resp *o, uint64_t *id) {
    const char *s = r->m.params[0];
    char *end = NULL;
    unsigned long long v = s[0] >= '1' && s[0] <= '9' && strlen(s) <= 19 ? strtoull(s, &end, 10) : 0;
    if (!v || *end || v > INT64_MAX) {
        gt_resp_error(o, 400, GT_EINVAL, "job id %.40s: expected a decimal number from 1 to 2^63 - 1", s);
        return -1;
    }
    *id = v;
    return 0;
}

/* GET /.well-known/agent-card.json: the agent's card (A2A-style). */
void gt_h_agent_card(gt_req *r, gt_resp *o) {
    gt_chain_market *m = market_of(r, o);
    if (!m) return;
    if (!m->has_acct) {
        gt_resp_error(o, 404, GT_ENOTFOUND, "this node runs no agent (start it with --chain-wallet ADDR)");
        return;
    }
    pthread_mutex_lock(&m->mu);
    json_t *j = gt_card_to_json(&m->card);
    pthread_mutex_unlock(&m->mu);
    gt_resp_json(o, 200, j);
}

/* GET /v1/chain/jobs?limit=N and GET /v1/chain/agents?limit=N: the index, newest jobs first. */
static void list(gt_req *r, gt_resp *o, json_t *(*read)(gt_cindex *, uint64_t, gt_err *)) {
    static const char *const allowed[] = {"limit", NULL};
    gt_chain_market *m = market_of(r, o);
    gt_err err;
    if (!m) return;
    if (gt_req_only_query(r, allowed, &err)) return gt_resp_err(o, &err);
    const char *l = gt_req_query(r, "limit");
    char *end = NULL;
    unsigned long long limit = l ? strtoull(l, &end, 10) : GT_CINDEX_PAGE_MAX;
    if (l && (!*l || *end || limit == 0 || limit > GT_CINDEX_PAGE_MAX))
        return gt_resp_error(o, 400, GT_EINVAL, "limit: expected 1..%d", GT_CINDEX_PAGE_MAX);
    json_t *j = read(m->ix, limit, &err);
    if (!j) return gt_resp_err(o, &err);
    json_object_set_new(j, "confirmations", json_integer((json_int_t)m->confirmations));
    gt_resp_json(o, 200, j);
}

void gt_h_chain_jobs(gt_req *r, gt_resp *o) { list(r, o, gt_cindex_jobs); }
void gt_h_chain_agents(gt_req *r, gt_resp *o) { list(r, o, gt_cindex_agents); }

/* GET /v1/chain/jobs/{id}: the indexed job, whether this node holds its input and output, and its note. */
void gt_h_chain_job(gt_req *r, gt_resp *o) {
    gt_chain_market *m = market_of(r, o);
    uint64_t id;
    gt_cjob j;
    gt_err err;
    int found = 0;
    gt_buf out = GT_BUF_INIT;
    if (!m || job_param(r, o, &id)) return;
    if (gt_cindex_job(m->ix, id, &j, &err) || gt_cindex_work(m->ix, id, NULL, &out, &found, &err))
        return gt_resp_err(o, &err);
    json_t *js = gt_cindex_job_json(&j);
    json_object_set_new(js, "inputHeld", json_boolean(found));
    json_object_set_new(js, "outputHeld", json_boolean(out.len > 0));
    json_object_set_new(js, "indexedHeight", json_integer((json_int_t)gt_cindex_height(m->ix)));
    char note[GT_ERR_MSG_MAX + 64];
    if (!gt_cindex_get_note(m->ix, id, note, sizeof note, &err) && note[0])
        json_object_set_new(js, "note", json_string(note)); /* this node's last step on the job, or why not */
    gt_buf_free(&out);
    gt_resp_json(o, 200, js);
}

/* Checks a posted input against job j; 0 or an answer already written. The worker's node takes it while the job
 * is funded, the evaluator's while funded or submitted (to act on it); the client's while the job is open (funded
 * to disputed), to serve it to judges (chain_judge.c's third source). */
static int input_refused(gt_chain_market *m, const gt_cjob *j, const gt_buf *body, gt_resp *o) {
    uint8_t h[32];
    int worker = gt_addr_eq(&j->provider, &m->acct.addr), judge = gt_addr_eq(&j->evaluator, &m->acct.addr);
    int client = gt_addr_eq(&j->client, &m->acct.addr);
    static const char *const open_states[] = {"funded", "submitted", "rejected", "disputed", NULL};
    int open = 0;
    for (size_t i = 0; open_states[i]; i++) open |= !strcmp(j->status, open_states[i]);
    if (!worker && !judge && !client) {
        gt_resp_error(o, 403, GT_EPERM, "job %llu names this agent neither as client, provider nor evaluator",
                      (unsigned long long)j->id);
        return 1;
    }
    if (strcmp(j->status, "funded") && !(judge && !strcmp(j->status, "submitted")) && !(client && open)) {
        gt_resp_error(o, 409, GT_ESTATE, "job %llu is %s: an input is taken while it is funded (or submitted, "
                      "for its evaluator; until it is settled, for its client)", (unsigned long long)j->id,
                      j->status);
        return 1;
    }
    gt_keccak256(body->data, body->len, h);
    if (memcmp(h, j->description, 32)) {
        gt_resp_error(o, 422, GT_EINVAL, "the input's keccak-256 is not job %llu's description hash: send the "
                      "exact bytes the job was posted with", (unsigned long long)j->id);
        return 1;
    }
    return 0;
}

/* POST /v1/chain/jobs/{id}/input: the job's input, from its client (to the worker's, the evaluator's and the
 * client's own node). */
void gt_h_chain_input(gt_req *r, gt_resp *o) {
    gt_chain_market *m = market_of(r, o);
    uint64_t id;
    gt_cjob j;
    gt_err err;
    if (!m || job_param(r, o, &id)) return;
    if (!m->has_acct)
        return gt_resp_error(o, 404, GT_ENOTFOUND, "this node runs no agent (start it with --chain-wallet ADDR)");
    if (gt_cindex_job(m->ix, id, &j, &err)) {
        if (err.code != GT_ENOTFOUND) return gt_resp_err(o, &err);
        return gt_resp_error(o, 404, GT_ENOTFOUND, "%s: it is taken %llu block(s) deep; retry later", err.msg,
                             (unsigned long long)m->confirmations);
    }
    if (r->body.len == 0)
        return gt_resp_error(o, 400, GT_EINVAL, "empty body: expected the job's input (1 to %u bytes)",
                             GT_CHAIN_INPUT_MAX);
    if (input_refused(m, &j, &r->body, o)) return;
    if (gt_cindex_put_input(m->ix, id, r->body.data, r->body.len, &err)) return gt_resp_err(o, &err);
    gt_resp_json(o, 202, json_pack("{s:I,s:b}", "job", (json_int_t)id, "accepted", 1));
    pthread_mutex_lock(&m->mu);
    pthread_cond_signal(&m->cv); /* the watcher acts on it now */
    pthread_mutex_unlock(&m->mu);
}

/* GET /v1/chain/jobs/{id}/output: the result this node submitted, once the job is completed (paid). */
void gt_h_chain_output(gt_req *r, gt_resp *o) {
    gt_chain_market *m = market_of(r, o);
    uint64_t id;
    gt_cjob j;
    gt_err err;
    gt_buf out = GT_BUF_INIT;
    int found = 0;
    if (!m || job_param(r, o, &id)) return;
    if (gt_cindex_job(m->ix, id, &j, &err) || gt_cindex_work(m->ix, id, NULL, &out, &found, &err))
        return gt_buf_free(&out), gt_resp_err(o, &err);
    if (strcmp(j.status, "completed") || !out.len) {
        gt_buf_free(&out);
        return gt_resp_error(o, 409, GT_ESTATE, "job %llu is %s in the index%s: its result is served once the job "
                             "is completed", (unsigned long long)id, j.status,
                             out.len ? "" : " (and this node holds none)");
    }
    o->status = 200;
    o->body = gt_buf_take(&out, &o->len);
}

/* The query of an input request (a judge's, or a worker's), checked without the chain (gt_chain_judge_signed): 0,
 * *by the reader's wallet, or an answer already written (400 malformed or out of time, 403 a signature not the
 * reader's). The reader is named by= (judge=, its older name, still taken from nodes that send it; not both). */
static int input_request_refused(gt_chain_market *m, gt_req *r, gt_resp *o, uint64_t id, gt_addr *by) {
    static const char *const allowed[] = {"by", "judge", "expires", "sig", NULL};
    gt_err err;
    if (gt_req_only_query(r, allowed, &err)) return gt_resp_err(o, &err), 1;
    const char *by_s = gt_req_query(r, "by"), *judge_s = gt_req_query(r, "judge");
    const char *who = by_s ? by_s : judge_s, *exp = gt_req_query(r, "expires"), *sig = gt_req_query(r, "sig");
    char *end = NULL;
    unsigned long long expires_s = exp && exp[0] >= '0' && exp[0] <= '9' ? strtoull(exp, &end, 10) : 0;
    if ((by_s && judge_s) || !who || !sig || !exp || !end || *end || gt_addr_parse(who, by, &err)) {
        gt_resp_error(o, 400, GT_EINVAL, "expected ?by=ADDR&expires=UNIX_S&sig=HEX: the reader (a judge of the job's "
                      "panel, or a quorum slot's worker or prospective worker), when its request expires, and its "
                      "signature of the request (judge=ADDR, the older name of by=, is taken too; not both)");
        return 1;
    }
    if (!m->has_court) return gt_resp_error(o, 404, GT_ENOTFOUND, "this deployment has no dispute court"), 1;
    if (!gt_chain_judge_signed(m->chain_id, &m->court, id, by, expires_s, (uint64_t)time(NULL), sig, &err))
        return 0;
    gt_resp_error(o, err.code == GT_EPERM || err.code == GT_ESIG ? 403 : 400, err.code, "%s", err.msg);
    return 1;
}

/* Whether the signer of a checked request may read job id's input, from the chain: a prospective worker of an open
 * quorum slot (judged by the court) that could claim it (gt_chain_prospect_ok: a seat left on it, registered, its
 * free stake covering the slot's), the worker of a claimed one, or a member of the panel the court seated on the
 * job's dispute or quorum round. 0, or GT_EPERM / GT_ESTATE / the read's error. */
static int reader_allowed(gt_chain_market *m, gt_chain *c, uint64_t id, const gt_addr *who, gt_err *err) {
    gt_escrow_job j;
    gt_chain_deploy d = {.court = &m->court, .escrow = &m->escrow, .registry = &m->registry};
    int rc = gt_escrow_get(c, &m->escrow, id, &j, err);
    if (rc) return rc;
    int quorum = gt_addr_eq(&j.evaluator, &m->court);
    if (quorum && j.status == GT_ESCROW_FUNDED && !j.claimed) return gt_chain_prospect_ok(c, &m->token, &d, id, &j,
                                                                                          who, err);
    if (quorum && j.status == GT_ESCROW_FUNDED && j.claimed && gt_addr_eq(&j.provider, who)) return 0;
    if (j.status != GT_ESCROW_DISPUTED && !(quorum && j.status == GT_ESCROW_SUBMITTED))
        return gt_err_set(err, GT_ESTATE, "job %llu is %s on chain: an input is served to judges while the job is "
                          "disputed (or a quorum job submitted), and to a quorum slot's worker while it is open or "
                          "claimed", (unsigned long long)id, gt_escrow_status_name(j.status));
    return gt_chain_judge_seated(c, &m->court, id, who, err);
}

/* GET /v1/chain/jobs/{id}/input?by=ADDR&expires=UNIX_S&sig=HEX: the input this node holds of a job, served to a
 * judge the court seated on its dispute's or quorum round's panel, to the worker of a quorum slot it claimed, or to
 * an agent that could claim an open one (before it claims: seek), who signed the request (gt_court_input_digest)
 * with its wallet (chain_judge.c). A bad request is refused before any chain read; who may read is then read from
 * the chain through a connection of this request's own (the watcher's is its thread's alone). */
void gt_h_chain_input_get(gt_req *r, gt_resp *o) {
    gt_chain_market *m = market_of(r, o);
    uint64_t id;
    gt_cjob j;
    gt_err err;
    gt_addr by;
    gt_chain c;
    int found = 0;
    if (!m || job_param(r, o, &id) || input_request_refused(m, r, o, id, &by)) return;
    if (gt_cindex_job(m->ix, id, &j, &err)) return gt_resp_err(o, &err);
    if (gt_chain_open(m->chain_url, &c, &err)) return gt_resp_err(o, &err);
    int rc = reader_allowed(m, &c, id, &by, &err); /* before saying whether this node holds it */
    gt_chain_close(&c);
    if (rc) return gt_resp_error(o, rc == GT_EPERM ? 403 : rc == GT_ESTATE ? 409 : 502, rc, "%s", err.msg);
    gt_buf in = GT_BUF_INIT;
    if (gt_cindex_work(m->ix, id, &in, NULL, &found, &err)) return gt_buf_free(&in), gt_resp_err(o, &err);
    if (!found) {
        gt_buf_free(&in);
        return gt_resp_error(o, 404, GT_ENOTFOUND, "this node holds no input of job %llu", (unsigned long long)id);
    }
    o->status = 200;
    o->body = gt_buf_take(&in, &o->len);
}
