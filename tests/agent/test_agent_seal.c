/* test_agent_seal.c: the agents' sealed votes, with real agents against a
 * real node (`gotong node` in a child process) and the tiny fixture model.
 *  - a dispute: a poster that rejects everything (GT_FAULT_REJECT_ALL)
 *    rejects honest work, the worker disputes, three honest validators
 *    re-run it and each commits a sealed vote (no vote is public while the
 *    others decide: the dispute's view shows commitments, no votes), then
 *    reveals; the worker wins, is paid, the judges get the rejection bond;
 *    one validator is freed right after its commitment landed and a new
 *    agent with the same key (a restart: no memory of what it voted) still
 *    reveals it and is not slashed, also when restarted with no roles (off
 *    duty: it still opens what its run before committed);
 *  - a quorum task: three validators commit, then reveal; the slot is
 *    accepted by the revealed votes, the worker is paid, the fee shared;
 *  - a judge that also works, with slow jobs, claims nothing between its
 *    commit and its reveal (the job would run past the reveal deadline);
 *  - afterwards the ledger replays (`gt_ledger_verify`), the market's books
 *    balance (gt_market_audit) and every account adds up to what was minted:
 *    supply conserved. */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "../node_child.h"
#include "fault_proxy.h"
#include "agent/agent.h"
#include "agent/skill_complete.h"
#include "crypto/keccak.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "market/market.h"

static gt_agent_model *model;
static char home[64], url[128];
static pid_t node_pid;
static gt_client *dir;
static uint64_t minted;

static void key_for(const char *name, gt_key *k) {
    uint8_t h[32];
    gt_keccak256(name, strlen(name), h);
    gt_key_from_bytes(k, h, NULL);
}

/* mint / stake fields: the amount, then the recipient (mint only). */
typedef struct amount_args {
    uint64_t units;
    gt_addr to;
} amount_args;

static int fill_amount(void *arg, gt_action *a, gt_err *err) {
    const amount_args *x = arg;
    (void)err;
    gt_action_set_u64(a, "amount", x->units);
    if (gt_action_field(a->kind, "to") >= 0) gt_action_set_addr(a, "to", &x->to);
    return 0;
}

static int list_pages; /* gt_agent_config.list_pages of the agents made next (0: the default) */

/* An agent on the node (no funding). */
static gt_agent *agent_for(const char *name, int roles, int faults) {
    gt_key k;
    key_for(name, &k);
    gt_agent_config c = {.name = name, .skills = "complete", .price_units = 1, .roles = roles, .faults = faults,
                         .model = model, .poll_ms = 50, .list_pages = list_pages};
    gt_agent *a = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_agent_new(&c, &k, url, &a, &err) == 0, "agent: %s", err.msg);
    return a;
}

/* An agent funded with 20 tokens, 5 of them staked when it validates. */
static gt_agent *make(const char *name, int roles, int faults) {
    gt_key k, fk;
    key_for(name, &k);
    key_for("faucet", &fk);
    gt_agent *a = agent_for(name, roles, faults);
    if (!a) return NULL;
    gt_err err = {0};
    amount_args m = {20000000, *gt_agent_address(a)};
    CHECK(gt_client_act(dir, &fk, &gt_kind_mint, fill_amount, &m, NULL, NULL, &err) == 0);
    minted += m.units;
    if (roles & GT_ROLE_VALIDATOR) {
        amount_args s = {5000000, {{0}}};
        CHECK_MSG(gt_client_act(dir, &k, &gt_kind_stake, fill_amount, &s, NULL, NULL, &err) == 0, "stake: %s",
                  err.msg);
    }
    CHECK_MSG(gt_agent_register(a, &err) == 0, "register: %s", err.msg);
    return a;
}

static uint64_t total_of(const gt_agent *a) {
    gt_client_acct acc = {0};
    gt_client_account(dir, gt_agent_address(a), &acc, NULL);
    return acc.balance_units + acc.staked_units + acc.locked_units + acc.unbonding_units;
}

/* Slot 0 of the task (a new reference), or NULL. */
static json_t *slot0(const uint8_t id[32], json_t **task) {
    *task = NULL;
    if (gt_client_task(dir, id, task, NULL)) return NULL;
    return json_array_get(json_object_get(*task, "slotList"), 0);
}

/* Steps the agents once each. */
static void step_all(gt_agent **ag, int n) {
    for (int i = 0; i < n; i++) {
        gt_err err = {0};
        if (ag[i] && gt_agent_step(ag[i], NULL, &err)) fprintf(stderr, "step: %s\n", err.msg);
    }
}

/* Counts a round's commitments and how many of them are still sealed. */
static void count_commits(const json_t *round_obj, size_t *all, size_t *sealed) {
    size_t i;
    json_t *c;
    *all = *sealed = 0;
    json_array_foreach(json_object_get(round_obj, "commits"), i, c) {
        (*all)++;
        if (!json_is_true(json_object_get(c, "revealed"))) (*sealed)++;
    }
}

/* 1 when every vote of the array accepts and there are n of them. */
static int all_accept(const json_t *votes, size_t n) {
    size_t i;
    json_t *v;
    if (json_array_size(votes) != n) return 0;
    json_array_foreach(votes, i, v) if (!json_is_true(json_object_get(v, "accept"))) return 0;
    return 1;
}

static const char *const prompts[] = {"Hello"};

/* Posts one `complete` slot of bounty 3, stake 1 (fee and quorum as given). */
static int post(gt_agent *poster, uint64_t fee, uint64_t quorum, uint8_t id[32]) {
    char *spec = gt_complete_spec(gt_agent_model_id(model), prompts, 1, 8);
    gt_task_terms t = {.kind = "complete", .slots = 1, .bounty_units = 3000000, .stake_units = 1000000,
                       .fee_units = fee, .quorum = quorum, .verify_s = 30};
    gt_err err = {0};
    int rc = gt_agent_post(poster, &t, spec, strlen(spec), id, &err);
    CHECK_MSG(rc == 0, "post: %s", err.msg);
    free(spec);
    return rc;
}

static gt_agent *val[3]; /* honest validators, shared: every staked validator sits on every panel */

#define MAX_FILLERS (GT_AGENT_TASKS_PAGE + 1)
static uint8_t filler_ids[MAX_FILLERS][32];

/* n open tasks of a kind nobody works ("filler"), from poster; ids in filler_ids. */
static void post_fillers(gt_agent *poster, int n) {
    assert(n <= MAX_FILLERS);
    char *spec = gt_complete_spec(gt_agent_model_id(model), prompts, 1, 8);
    gt_task_terms t = {.kind = "filler", .slots = 1, .bounty_units = 10000, .stake_units = 1};
    for (int i = 0; i < n; i++) {
        gt_err err = {0};
        CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), filler_ids[i], &err) == 0, "filler %d: %s", i,
                  err.msg);
    }
    free(spec);
}

static int fill_task(void *arg, gt_action *a, gt_err *err) {
    (void)err;
    gt_action_set_b32(a, "task", arg);
    return 0;
}

/* Cancels the n fillers (their escrow back to the poster named name). */
static void cancel_fillers(const char *name, int n) {
    gt_key k;
    key_for(name, &k);
    for (int i = 0; i < n; i++) {
        gt_err err = {0};
        CHECK_MSG(gt_client_act(dir, &k, &gt_kind_task_cancel, fill_task, filler_ids[i], NULL, NULL, &err) == 0,
                  "cancel filler %d: %s", i, err.msg);
    }
}

/* A dispute judged by sealed votes, one judge restarted between its commit
 * and its reveal with roles `roles` (the parties' names start with tag);
 * with fillers, that many open tasks are posted after its commit and the
 * restarted judge lists one page of tasks (listings are newest first: it
 * cannot see the task it committed on in them). */
static void dispute_sealed(const char *tag, int roles, int fillers) {
    char pn[32], wn[32];
    snprintf(pn, sizeof pn, "%s-poster", tag);
    snprintf(wn, sizeof wn, "%s-worker", tag);
    gt_agent *poster = make(pn, GT_ROLE_POSTER, GT_FAULT_REJECT_ALL);
    gt_agent *worker = make(wn, GT_ROLE_WORKER, 0);
    gt_agent *ag[] = {poster, worker, val[0], val[1], val[2]};
    uint64_t before[5];
    for (int i = 0; i < 5; i++) before[i] = total_of(ag[i]);
    uint8_t id[32];
    if (post(poster, 0, 0, id)) return;
    int restarted = 0, saw_sealed = 0, complete = 0;
    gt_agent_stats base; /* the judge's counts from a test before */
    gt_agent_stats_get(ag[4], &base);
    for (int pass = 0; pass < 1200 && !complete; pass++) {
        step_all(ag, 5);
        gt_agent_stats st;
        gt_agent_stats_get(ag[4], &st);
        if (!restarted && st.votes == base.votes + 1) {
            /* Its commitment is on the ledger (the node answers once applied),
             * its reveal not yet sent: stop it, start it again from the key. */
            CHECK_EQ_U64(st.reveals, base.reveals);
            gt_agent_free(ag[4]);
            post_fillers(poster, fillers); /* newer tasks: the listings (newest first) now begin with them */
            list_pages = fillers ? 1 : 0;
            ag[4] = val[2] = agent_for("s-v3", roles, 0);
            list_pages = 0;
            restarted = 1;
        }
        json_t *task = NULL, *sl = slot0(id, &task);
        const char *state = json_string_value(json_object_get(sl, "state"));
        size_t all = 0, sealed = 0;
        json_t *d = json_object_get(sl, "dispute");
        count_commits(d, &all, &sealed);
        if (state && !strcmp(state, "disputed") && all == 3 && sealed == 3)
            saw_sealed += json_array_size(json_object_get(d, "votes")) == 0;
        complete = !strcmp(json_string_value(json_object_get(task, "status")) ?: "", "complete");
        json_decref(task);
        usleep(50000);
    }
    CHECK(restarted);
    CHECK_MSG(saw_sealed > 0, "never saw the three commitments sealed with no public vote");
    CHECK(complete);
    json_t *task = NULL, *sl = slot0(id, &task);
    json_t *d = json_object_get(sl, "dispute");
    CHECK_STR(json_string_value(json_object_get(sl, "state")), "paid");
    CHECK_STR(json_string_value(json_object_get(d, "outcome")), "worker-won");
    CHECK_MSG(all_accept(json_object_get(d, "votes"), 3), "votes: %s", json_dumps(d, JSON_COMPACT));
    json_decref(task);
    gt_agent_stats st;
    gt_agent_stats_get(ag[4], &st);
    CHECK_EQ_U64(st.reveals, 1); /* the restarted judge opened what the first run committed */
    /* The worker is paid the bounty; the poster loses it and its rejection
     * bond (1), shared by the three judges (the rounding rest to the worker). */
    CHECK_EQ_U64(total_of(worker), before[1] + 3000000 + 1);
    CHECK_EQ_U64(total_of(poster), before[0] - 3000000 - 1000000);
    for (int i = 2; i < 5; i++) CHECK_EQ_U64(total_of(ag[i]), before[i] + 333333);
    gt_agent_set_roles(val[2], GT_ROLE_VALIDATOR);
    cancel_fillers(pn, fillers);
    gt_agent_free(poster);
    gt_agent_free(worker);
}

static void test_dispute_sealed(void) { dispute_sealed("s", GT_ROLE_VALIDATOR, 0); }

/* The judge restarted off duty (no roles: its operator stops it validating)
 * between its commit and its reveal still reveals what the run before
 * committed, and is not slashed: it used to scan for its commitments only
 * with the validator role on or after a commit of its own run, so the
 * restarted agent never looked and lost its vote's stake. */
static void test_dispute_restart_off_duty(void) { dispute_sealed("r", 0, 0); }

/* The restarted judge's listings stop before the task it committed on (a
 * market with more open tasks than its pages: GT_AGENT_LIST_PAGES of
 * GT_AGENT_TASKS_PAGE, one page here, 101 newer tasks): it still reveals,
 * finding its commitment among its own actions (the node's index), and is
 * not slashed; it used to look only through the listings. */
static void test_dispute_commit_past_listing(void) { dispute_sealed("p", GT_ROLE_VALIDATOR, GT_AGENT_TASKS_PAGE + 1); }

/* A quorum task judged by sealed votes. */
static void test_quorum_sealed(void) {
    gt_agent *poster = make("q-poster", GT_ROLE_POSTER, 0);
    gt_agent *worker = make("q-worker", GT_ROLE_WORKER, 0);
    gt_agent *ag[] = {poster, worker, val[0], val[1], val[2]};
    uint64_t before[5];
    for (int i = 0; i < 5; i++) before[i] = total_of(ag[i]);
    uint8_t id[32];
    if (post(poster, 900000, 2, id)) return;
    int saw_sealed = 0, complete = 0;
    for (int pass = 0; pass < 1200 && !complete; pass++) {
        step_all(ag, 5);
        json_t *task = NULL, *sl = slot0(id, &task);
        const char *state = json_string_value(json_object_get(sl, "state"));
        size_t all = 0, sealed = 0;
        count_commits(sl, &all, &sealed);
        if (state && !strcmp(state, "submitted") && all == 3 && sealed == 3)
            saw_sealed += json_array_size(json_object_get(sl, "votes")) == 0;
        complete = !strcmp(json_string_value(json_object_get(task, "status")) ?: "", "complete");
        json_decref(task);
        usleep(50000);
    }
    CHECK_MSG(saw_sealed > 0, "never saw the three commitments sealed with no public vote");
    CHECK(complete);
    json_t *task = NULL, *sl = slot0(id, &task);
    CHECK_STR(json_string_value(json_object_get(sl, "state")), "paid");
    CHECK_MSG(all_accept(json_object_get(sl, "votes"), 3), "votes: %s", json_dumps(sl, JSON_COMPACT));
    json_decref(task);
    for (int i = 2; i < 5; i++) {
        gt_agent_stats st;
        gt_agent_stats_get(ag[i], &st);
        CHECK(st.reveals >= 1);
        CHECK_EQ_U64(total_of(ag[i]), before[i] + 300000); /* a third of the fee each */
    }
    CHECK_EQ_U64(total_of(worker), before[1] + 3000000);
    CHECK_EQ_U64(total_of(poster), before[0] - 3000000 - 900000);
    gt_agent_free(poster);
    gt_agent_free(worker);
}

static fpx proxy; /* in front of the node for the slow judge (test_slow_judge_claims_after_reveal) */

/* Steps the agents until task id is complete (or 60 s); 1 if it is. */
static int until_complete(gt_agent **ag, int n, const uint8_t id[32]) {
    int complete = 0;
    for (int pass = 0; pass < 1200 && !complete; pass++) {
        step_all(ag, n);
        json_t *task = NULL;
        slot0(id, &task);
        complete = !strcmp(json_string_value(json_object_get(task, "status")) ?: "", "complete");
        json_decref(task);
        usleep(50000);
    }
    return complete;
}

/* A judge that also works, and whose jobs are slow (11 s: its submits held
 * by the proxy), commits a sealed vote on a dispute while a task it could
 * claim is open: it claims nothing until it has revealed (twice its longest
 * job would run past the reveal deadline, 10 s of windows away), then
 * works. It used to claim at once, work through the reveal window and be
 * slashed (one thread works the claim before the reveals). */
static void test_slow_judge_claims_after_reveal(void) {
    gt_key k;
    key_for("s-v3", &k);
    gt_agent_config c = {.name = "s-v3", .skills = "complete", .price_units = 1, .roles = GT_ROLE_WORKER,
                         .model = model, .poll_ms = 50};
    gt_agent *slow = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_agent_new(&c, &k, proxy.url, &slow, &err) == 0, "agent: %s", err.msg);
    gt_agent *honest = make("w-poster", GT_ROLE_POSTER, 0);
    gt_agent *rejecter = make("w-rejecter", GT_ROLE_POSTER, GT_FAULT_REJECT_ALL);
    gt_agent *worker = make("w-worker", 0, 0);
    if (!slow) return;
    gt_agent_free(val[2]);
    val[2] = slow;
    gt_agent *ag[] = {honest, rejecter, worker, val[0], val[1], slow};
    uint8_t first[32], disputed[32], second[32];
    /* Its first job, slow: it learns how long its jobs take. */
    proxy.delay_ms = 11000;
    fpx_break(&proxy, "\"task_submit\"", FPX_DELAY, 1);
    if (post(honest, 0, 0, first)) return;
    CHECK(until_complete(ag, 6, first));
    gt_agent_set_roles(slow, GT_ROLE_VALIDATOR);
    gt_agent_set_roles(worker, GT_ROLE_WORKER);
    uint64_t before = total_of(slow);
    gt_agent_stats base, st;
    gt_agent_stats_get(slow, &base);
    if (post(rejecter, 0, 0, disputed)) return;
    int posted = 0;
    for (int pass = 0; pass < 1200 && !posted; pass++) {
        step_all(ag, 6);
        gt_agent_stats_get(slow, &st);
        if (st.votes == base.votes + 1) { /* committed: now a task to claim, and a slow job for it */
            gt_agent_set_roles(worker, 0);
            gt_agent_set_roles(slow, GT_ROLE_VALIDATOR | GT_ROLE_WORKER);
            fpx_break(&proxy, "\"task_submit\"", FPX_DELAY, 1);
            posted = post(honest, 0, 0, second) == 0;
        }
        usleep(50000);
    }
    CHECK(posted);
    CHECK(until_complete(ag, 6, disputed));
    json_t *task = NULL, *sl = slot0(disputed, &task);
    CHECK_MSG(all_accept(json_object_get(json_object_get(sl, "dispute"), "votes"), 3), "votes: %s",
              json_dumps(sl, JSON_COMPACT));
    json_decref(task);
    gt_agent_stats_get(slow, &st);
    CHECK_EQ_U64(st.reveals, base.reveals + 1);
    CHECK_EQ_U64(total_of(slow), before + 333333); /* its share of the rejection bond, no slash */
    CHECK(until_complete(ag, 6, second));
    fpx_break(&proxy, "", 0, 0);
    gt_agent_free(honest);
    gt_agent_free(rejecter);
    gt_agent_free(worker);
}

/* gt_agent_run in a thread of its own (the judge below: its slow re-runs hold up no one else). */
typedef struct runner {
    gt_agent *a;
    volatile int stop;
    int rc;
} runner;

static void *run_agent(void *arg) {
    runner *r = arg;
    gt_err err = {0};
    r->rc = gt_agent_run(r->a, &r->stop, &err);
    if (r->rc) fprintf(stderr, "gt_agent_run: %s\n", err.msg);
    return NULL;
}

/* Steps ag[0..n) until slot 0 of id is in state want (or 30 s); 1 if it is. */
static int until_state(gt_agent **ag, int n, const uint8_t id[32], const char *want) {
    int there = 0;
    for (int pass = 0; pass < 600 && !there; pass++) {
        step_all(ag, n);
        json_t *task = NULL, *sl = slot0(id, &task);
        there = !strcmp(json_string_value(json_object_get(sl, "state")) ?: "", want);
        json_decref(task);
        if (!there) usleep(50000);
    }
    return there;
}

/* Steps ag[0..n) until the judge's stats count one more vote than base's (or 30 s); 1 if they do. */
static int until_voted(gt_agent **ag, int n, gt_agent *judge, const gt_agent_stats *base) {
    gt_agent_stats st = *base;
    for (int pass = 0; pass < 600 && st.votes == base->votes; pass++) {
        step_all(ag, n);
        gt_agent_stats_get(judge, &st);
        usleep(50000);
    }
    return st.votes > base->votes;
}

/* A judge whose re-runs are slow (its blob reads held by the proxy; it
 * learns so on a first dispute, 6 s) commits a sealed vote on dispute d1,
 * whose reveal is not due before its commit window ends (a staked member
 * never acts); task d2 is rejected right after, and its re-run (the
 * validators' pre-check, or the dispute's) would take 12 s, longer than
 * what is left of d1's windows (10 s in all). The judge puts it off,
 * reveals when d1's window opens, then re-runs (too late to vote on d2: it
 * bonds nothing there). It used to re-run at once, its one thread held past
 * d1's reveal deadline: the commitment was left unrevealed and its bond
 * lost. */
static void test_judge_reveals_before_slow_rerun(void) {
    gt_agent *judge = val[2]; /* s-v3, through the proxy */
    gt_agent *r1 = make("j-rejecter1", GT_ROLE_POSTER, GT_FAULT_REJECT_ALL);
    gt_agent *r2 = make("j-rejecter2", GT_ROLE_POSTER, GT_FAULT_REJECT_ALL);
    gt_agent *w1 = make("j-worker1", GT_ROLE_WORKER, 0), *w2 = make("j-worker2", GT_ROLE_WORKER, 0);
    gt_agent *idle = make("j-idle", 0, 0);
    gt_agent *all[] = {r1, r2, w1, w2, val[0], val[1]}, *d1_side[] = {w1, val[0], val[1]};
    gt_key ik;
    gt_err err = {0};
    key_for("j-idle", &ik);
    amount_args stake = {2000000, {{0}}}; /* a small weight: the others' votes still decide */
    CHECK_MSG(gt_client_act(dir, &ik, &gt_kind_stake, fill_amount, &stake, NULL, NULL, &err) == 0, "stake: %s",
              err.msg);
    gt_agent_set_roles(judge, GT_ROLE_VALIDATOR);
    runner r = {.a = judge};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, run_agent, &r) == 0);
    uint8_t d0[32], d1[32], d2[32];
    proxy.delay_ms = 6000;
    fpx_break(&proxy, "GET /v1/blobs/", FPX_DELAY, 1);
    if (!post(r1, 0, 0, d0)) CHECK(until_complete(all, 6, d0));
    uint64_t before = total_of(judge);
    gt_agent_stats base, st;
    gt_agent_stats_get(judge, &base);
    /* d2 worked, not judged yet; d1 worked, rejected, disputed, up to the judge's commitment. */
    if (post(r2, 0, 0, d2)) return;
    CHECK(until_state(&w2, 1, d2, "submitted"));
    if (post(r1, 0, 0, d1)) return;
    CHECK(until_state(&w1, 1, d1, "submitted"));
    CHECK(until_state(&r1, 1, d1, "rejected"));
    CHECK(until_voted(d1_side, 3, judge, &base));
    proxy.delay_ms = 12000; /* its next re-run */
    fpx_break(&proxy, "GET /v1/blobs/", FPX_DELAY, 1);
    CHECK(until_complete(all, 6, d1));
    CHECK(until_complete(all, 6, d2));
    r.stop = 1;
    pthread_join(th, NULL);
    fpx_break(&proxy, "", 0, 0);
    gt_agent_stats_get(judge, &st);
    CHECK_EQ_U64(st.reveals, base.reveals + 1);
    CHECK_MSG(total_of(judge) > before, "the judge holds %llu, had %llu", (unsigned long long)total_of(judge),
              (unsigned long long)before); /* its share of d1's rejection bond, no bond lost */
    gt_agent_free(r1), gt_agent_free(r2), gt_agent_free(w1), gt_agent_free(w2), gt_agent_free(idle);
}

/* The ledger replays, the market's books balance, supply is what was minted. */
static void check_ledger(void) {
    char db[128];
    snprintf(db, sizeof db, "%s/ledger.db", home);
    gt_verify_report rep = {0};
    gt_err err = {0};
    CHECK_MSG(gt_ledger_verify(db, &rep, NULL, NULL, &err) == 0, "verify: %s", err.msg);
    CHECK_EQ_U64(rep.supply, minted);
    sqlite3 *h = NULL;
    CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    uint64_t locked = 1;
    CHECK_MSG(gt_market_audit(h, &locked, &err) == 0, "audit: %s", err.msg);
    CHECK_EQ_U64(locked, 0); /* every task finished: nothing left locked */
    sqlite3_stmt *q = NULL;
    CHECK(sqlite3_prepare_v2(h, "SELECT sum(balance + staked + locked + unbonding) FROM accounts", -1, &q, NULL) ==
          SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_EQ_U64((uint64_t)sqlite3_column_int64(q, 0), minted);
    sqlite3_finalize(q);
    sqlite3_close(h);
}

int main(void) {
    gt_err err = {0};
    signal(SIGPIPE, SIG_IGN);
    if (gt_agent_model_load(gt_fixture("models/tiny-llama-q8_0.gguf"), &model, &err)) {
        fprintf(stderr, "fixture model: %s\n", err.msg);
        return 1;
    }
    if (gt_market_register(&err)) return 1;
    snprintf(home, sizeof home, "/tmp/gt-test-seal-XXXXXX");
    if (!mkdtemp(home)) return 1;
    char db[128];
    snprintf(db, sizeof db, "%s/ledger.db", home);
    gt_key fk;
    key_for("faucet", &fk);
    gt_genesis g = {.chain_id = 1337, .unbonding_blocks = 10, .time_s = 1700000000};
    gt_key_address(&fk, &g.authority);
    if (gt_ledger_create(db, &g, &err)) {
        fprintf(stderr, "genesis: %s\n", err.msg);
        return 1;
    }
    node_pid = gt_test_node_start(home, "200", url, sizeof url);
    if (node_pid < 0 || gt_client_new(url, &dir, &err) || fpx_start(&proxy, url)) return 1;
    val[0] = make("s-v1", GT_ROLE_VALIDATOR, 0);
    val[1] = make("s-v2", GT_ROLE_VALIDATOR, 0);
    val[2] = make("s-v3", GT_ROLE_VALIDATOR, 0);
    RUN(test_dispute_sealed);
    RUN(test_dispute_restart_off_duty);
    RUN(test_dispute_commit_past_listing);
    RUN(test_quorum_sealed);
    RUN(test_slow_judge_claims_after_reveal);
    RUN(test_judge_reveals_before_slow_rerun);
    for (int i = 0; i < 3; i++) gt_agent_free(val[i]);
    fpx_stop(&proxy);
    gt_client_free(dir);
    gt_test_node_stop(node_pid);
    RUN(check_ledger);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", home);
    gt_agent_model_free(model);
    return gt_test_finish();
}
