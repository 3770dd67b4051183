/* demo_rounds.c: the market rounds of the demo (1-4; demo_work.c has 5 and
 * 6), the director's waits on tasks, how it tells the end of each dispute,
 * and its pacing: blocks written when only a deadline is left.
 * The script decides only who is on line in each round; claims, work,
 * verdicts, disputes and votes are the agents' own decisions. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/skill_complete.h"
#include "api/api.h"
#include "base/amount.h"
#include "base/json.h"
#include "base/progress.h"
#include "crypto/addr.h"
#include "demo/demo_int.h"
#include "store/blob.h"
#include "work/data/families.h"
#include "market/market.h"

/* ---- pacing: the demo's block clock ----
 *
 * Deadlines (a dispute window, a vote) are seconds of block time: one
 * passes at the first block whose time is at or past it. Were block time the
 * host's clock, a validator slowed down by a busy machine could vote after a
 * 5 s window and the story would change with the load. So the demo drives
 * its own block clock (gt_node_set_time): it stands still while any party may
 * still act, and the director moves it on, a second a block, only once every
 * party that can act on a slot has acted (a worker that has not yet disputed
 * or conceded a rejection, a validator that has not voted or revealed hold
 * it) — never past the host's clock, so the blocks a later `gotong node`
 * writes on the same ledger follow on (ledger.h's drift bound). The idle
 * blocks of the node carry the clock's time too. A step in which nothing at
 * all moved for DEMO_STALL_S (someone who will not act) moves the clock on
 * as well, so the demo cannot hang on an absent party. */

#define DEMO_STALL_S 30 /* seconds of demo time with no change in a task before the clock moves on regardless */

static gt_node *pace_node; /* the in-process node, while the rounds run */
static demo *pace_demo;
static uint64_t pace_ticks; /* blocks the director wrote */

/* What an agent has decided about rejections so far (disputed + conceded). */
static uint64_t decisions(int who) {
    gt_agent_stats st;
    gt_agent_stats_get(pace_demo->ag[who], &st);
    return st.disputes_opened + st.conceded;
}

/* The persona holding address v, or -1. */
static int persona_of(const json_t *v) {
    gt_addr x;
    if (!json_is_string(v) || gt_addr_parse(json_string_value(v), &x, NULL)) return -1;
    for (int i = 0; i < N_PERSONAS; i++)
        if (gt_addr_eq(&x, gt_agent_address(pace_demo->ag[i]))) return i;
    return -1;
}

/* Validators who may vote on a dispute of this task: not its poster, worker
 * or verifier (the market refuses a party's vote). */
static size_t eligible_voters(const json_t *t, const json_t *sl) {
    size_t n = 0;
    int poster = persona_of(json_object_get(t, "poster")), worker = persona_of(json_object_get(sl, "worker"));
    int verifier = persona_of(json_object_get(t, "verifier"));
    for (int i = 0; i < N_PERSONAS; i++)
        if ((demo_cast[i].roles & GT_ROLE_VALIDATOR) && i != poster && i != worker && i != verifier) n++;
    return n;
}

/* 1 once block time is past a dispute's vote window (its commit window when
 * the votes are sealed): nobody can vote or commit any more. */
static int vote_window_over(const json_t *d) {
    json_t *end = json_object_get(d, "deadline");
    return json_is_integer(end) && pace_node && (json_int_t)gt_node_now_s(pace_node) >= json_integer_value(end);
}

/* 1 while a sealed round has a commitment not yet opened: its judge may
 * still reveal, and the reveal window must not pass under it. */
static int reveal_pending(const json_t *d) {
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(d, "commits"), i, c)
        if (!json_is_true(json_object_get(c, "revealed"))) return 1;
    return 0;
}

/* See demo_int.h. The host's clock caps the demo's: a block never carries a
 * time the host has not reached. */
int demo_clock_tick(gt_node *n, gt_err *err) {
    uint64_t now = gt_node_now_s(n), host = (uint64_t)time(NULL);
    if (now < host) gt_node_set_time(n, now + 1);
    return gt_node_tick(n, err);
}

/* 1 when every slot of t that waits on a deadline has heard from everyone
 * who may act on it: all eligible votes are in, or the rejected worker has
 * decided since base[] was taken. */
static int only_deadline_left(const json_t *t, const uint64_t base[N_PERSONAS]) {
    size_t i;
    const json_t *sl;
    int waiting = 0;
    json_array_foreach(json_object_get(t, "slotList"), i, sl) {
        const char *st = json_string_value(json_object_get(sl, "state"));
        if (!st) return 0;
        if (!strcmp(st, "disputed")) {
            const json_t *d = json_object_get(sl, "dispute");
            if (json_array_size(json_object_get(d, "votes")) < eligible_voters(t, sl) && !vote_window_over(d))
                return 0;
            if (reveal_pending(d)) return 0;
            waiting = 1;
        } else if (!strcmp(st, "rejected")) {
            int w = persona_of(json_object_get(sl, "worker"));
            if (w < 0 || decisions(w) <= base[w]) return 0;
            waiting = 1;
        } else if (strcmp(st, "paid") && strcmp(st, "refunded") && strcmp(st, "accepted")) {
            return 0; /* open, claimed or submitted: someone is at work */
        }
    }
    return waiting;
}

/* ---- telling how disputes end ----
 *
 * A dispute may open and close between two looks at its task (a panel
 * closes as soon as its stake has voted), and a lost one reopens the slot
 * under the next attempt. So the director reads how disputes ended from the
 * task's view: the current attempt's "dispute" and the earlier attempts'
 * "pastDisputes", and tells each decided one once. */

#define DEMO_MAX_DISPUTES 64 /* decided disputes told in one demo */

typedef struct told_dispute {
    uint8_t task[32];
    int64_t slot, attempt;
} told_dispute;

static told_dispute told[DEMO_MAX_DISPUTES];
static int n_told;

/* 1 if the dispute of (task, slot, attempt) was told already; else notes it
 * (when there is room) and returns 0. */
static int already_told(const uint8_t task[32], int64_t slot, int64_t attempt) {
    for (int k = 0; k < n_told; k++)
        if (!memcmp(told[k].task, task, 32) && told[k].slot == slot && told[k].attempt == attempt) return 1;
    if (n_told == DEMO_MAX_DISPUTES) return 1; /* more than the script makes: not told */
    memcpy(told[n_told].task, task, 32);
    told[n_told].slot = slot, told[n_told].attempt = attempt;
    n_told++;
    return 0;
}

/* Says in plain words how dispute dj (a view's dispute object, decided) of
 * task id's slot ended: who was right, and where the bonds went. */
static void tell_dispute(const uint8_t id[32], int64_t slot, const json_t *dj, int worker, int poster) {
    const char *w = worker >= 0 ? demo_cast[worker].name : "the worker";
    const char *p = poster >= 0 ? demo_cast[poster].name : "the poster";
    const char *outcome = json_string_value(json_object_get(dj, "outcome"));
    char for_w[GT_AMOUNT_TOKENS_MAX], against_w[GT_AMOUNT_TOKENS_MAX], bond[GT_AMOUNT_TOKENS_MAX];
    gt_json_tokens(dj, "acceptWeight", for_w);
    gt_json_tokens(dj, "rejectWeight", against_w);
    gt_json_tokens(dj, "bond", bond);
    size_t votes = json_array_size(json_object_get(dj, "votes"));
    demo_say("  %6.1fs  dispute over task 0x%02x%02x%02x%02x… slot %lld decided: %zu validator%s re-ran the work, "
             "stake %s for %s, %s against",
             demo_elapsed(), id[0], id[1], id[2], id[3], (long long)slot, votes, votes == 1 ? "" : "s", for_w, w,
             against_w);
    if (outcome && !strcmp(outcome, "worker-won"))
        demo_say("           %s WINS: paid as if accepted, bond back; the rejecter's bond (%s) goes to the "
                 "validators who voted for %s", w, bond, w);
    else if (outcome && !strcmp(outcome, "worker-lost"))
        demo_say("           %s LOSES: the rejection stands; its dispute bond (%s) goes to the validators who voted "
                 "against it, its stake is slashed (to %s, less any verifier's fee), and the slot opens again",
                 w, bond, p);
    else
        demo_say("           no decision: the panel did not reach a verdict by its deadline (%s)", outcome ? outcome : "?");
}

/* Tells the disputes of task t (id) decided since the last look. */
static void watch_disputes(const uint8_t id[32], const json_t *t) {
    int poster = persona_of(json_object_get(t, "poster"));
    size_t i, k;
    const json_t *sl, *dj;
    json_array_foreach(json_object_get(t, "slotList"), i, sl) {
        int64_t slot = json_integer_value(json_object_get(sl, "slot"));
        dj = json_object_get(sl, "dispute");
        const char *outcome = json_string_value(json_object_get(dj, "outcome"));
        if (dj && outcome && strcmp(outcome, "open") &&
            !already_told(id, slot, json_integer_value(json_object_get(sl, "attempt"))))
            tell_dispute(id, slot, dj, persona_of(json_object_get(sl, "worker")), poster);
        json_array_foreach(json_object_get(sl, "pastDisputes"), k, dj) {
            outcome = json_string_value(json_object_get(dj, "outcome"));
            if (outcome && strcmp(outcome, "open") &&
                !already_told(id, slot, json_integer_value(json_object_get(dj, "attempt"))))
                tell_dispute(id, slot, dj, persona_of(json_object_get(dj, "worker")), poster);
        }
    }
}

int demo_wait_task(gt_client *c, const uint8_t id[32], demo_task_pred pred, const void *arg, const char *what,
                   gt_err *err) {
    double until = gt_now_s() - demo_paused_s() + DEMO_WAIT_S; /* the demo's own time: --step pauses do not count */
    json_t *t = NULL;
    uint64_t base[N_PERSONAS] = {0};
    for (int i = 0; pace_demo && i < N_PERSONAS; i++) base[i] = decisions(i);
    int told_stall = 0;
    char *seen = NULL; /* the task's view when it last changed, and when (demo time) */
    double seen_at = gt_now_s() - demo_paused_s();
    while (gt_now_s() - demo_paused_s() < until) {
        json_decref(t);
        t = NULL;
        int rc = gt_client_task(c, id, &t, err);
        if (rc) {
            free(seen);
            return rc;
        }
        if (pace_demo) watch_disputes(id, t);
        int p = pred(t, arg);
        if (p) {
            free(seen);
            json_decref(t);
            return p > 0 ? 0 : gt_err_set(err, GT_ESTATE, "%s: the task went another way than scripted", what);
        }
        char *view = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
        if (!seen || !view || strcmp(seen, view)) {
            free(seen);
            seen = view, seen_at = gt_now_s() - demo_paused_s();
        } else {
            free(view);
        }
        int stalled = gt_now_s() - demo_paused_s() - seen_at >= DEMO_STALL_S, deadline = 0;
        if (pace_node && pace_demo) deadline = only_deadline_left(t, base);
        if (stalled && !deadline && !told_stall++)
            demo_say("  (%s: nothing moved for %d s; the block clock moves on without the party still due to act)",
                     what, DEMO_STALL_S);
        gt_err terr = {0};
        if (pace_node && pace_demo && (stalled || deadline)) {
            if (demo_clock_tick(pace_node, &terr))
                demo_say("  (could not write a block: %s; waiting for the node's idle blocks)", terr.msg);
            else
                pace_ticks++;
        }
        struct timespec ts = {0, DEMO_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    free(seen);
    char *s = t ? json_dumps(t, JSON_COMPACT) : NULL;
    gt_err_set(err, GT_ESTATE, "%s: not done after %d s; task: %.300s", what, DEMO_WAIT_S, s ? s : "?");
    free(s);
    json_decref(t);
    return GT_ESTATE;
}

static const json_t *slot0(const json_t *t) { return json_array_get(json_object_get(t, "slotList"), 0); }

static int is_addr(const json_t *v, const gt_addr *a) {
    gt_addr x;
    return json_is_string(v) && !gt_addr_parse(json_string_value(v), &x, NULL) && gt_addr_eq(&x, a);
}

int demo_pred_complete(const json_t *t, const void *arg) {
    const char *s = json_string_value(json_object_get(t, "status"));
    if (s && !strcmp(s, "complete")) return 1;
    return s && (!strcmp(s, "cancelled") || !strcmp(s, "expired")) ? -1 : 0;
}

/* The first slot has been submitted by (or is held by) the given worker. */
int demo_pred_submitted_by(const json_t *t, const void *arg) {
    const json_t *sl = slot0(t);
    const char *st = json_string_value(json_object_get(sl, "state"));
    return st && strcmp(st, "open") && strcmp(st, "claimed") && is_addr(json_object_get(sl, "worker"), arg);
}

int demo_pred_claimed_by(const json_t *t, const void *arg) {
    const json_t *sl = slot0(t);
    const char *st = json_string_value(json_object_get(sl, "state"));
    return st && strcmp(st, "open") && is_addr(json_object_get(sl, "worker"), arg);
}

/* The first slot was reopened after a settled rejection. */
int demo_pred_reopened(const json_t *t, const void *arg) {
    const json_t *sl = slot0(t);
    const char *st = json_string_value(json_object_get(sl, "state"));
    return json_integer_value(json_object_get(sl, "attempt")) >= 1 && st && !strcmp(st, "open");
}

/* ---- the rounds ---- */

void demo_online(demo *d, int who, int on) {
    gt_agent_set_roles(d->ag[who], on ? demo_cast[who].roles | GT_ROLE_WORKER : demo_cast[who].roles);
}

/* Part i of round r for the recipe's worker model: a task family's question
 * as the recipe asked them ("Q: ...\nA: "), at a level it was trained on;
 * arith's + and - only (it has not learnt multi-digit products:
 * recipes/worker/README.md). */
static void worker_prompt(int round, int i, char *out, size_t cap) {
    static const struct { const char *family; int level; } asks[] = {
        {"arith", 3}, {"logic", 2}, {"sort", 2}, {"strings", 0}, {"arith", 2}, {"logic", 1}};
    int k = (round * 3 + i) % (int)(sizeof asks / sizeof asks[0]);
    gt_family_item it;
    uint64_t index = (uint64_t)i * 64;
    for (int tries = 0; tries < 64; tries++, index++) { /* a third of arith's items are products */
        int rc = gt_family_generate_level(gt_family_by_name(asks[k].family), (uint64_t)round, index, asks[k].level,
                                          &it);
        assert(!rc);
        (void)rc;
        if (!strstr(it.meta, "\"op\":\"*\"")) break;
    }
    snprintf(out, cap, "Q: %s\nA: ", it.question);
}

/* Posts a `complete` task from poster with n prompts. */
static int post(demo *d, int poster, int round, int n_prompts, uint64_t bounty, uint64_t stake, int evaluator,
                uint64_t fee, uint8_t id[32], gt_err *err) {
    static const char *const topics[] = {"a lighthouse keeper", "rice terraces at dawn", "a market in Yogyakarta",
                                         "the first rain of the season", "a ferry crossing", "a village meeting"};
    char prompts[8][GT_FAMILY_QUESTION_MAX + 16];
    const char *ps[8];
    for (int i = 0; i < n_prompts && i < 8; i++) {
        if (d->worker_model) worker_prompt(round, i, prompts[i], sizeof prompts[i]);
        else snprintf(prompts[i], sizeof prompts[i], "Round %d, part %d: write one sentence about %s.", round, i + 1,
                      topics[(round * 3 + i) % 6]);
        ps[i] = prompts[i];
    }
    char *spec = gt_complete_spec(d->model_id, ps, n_prompts, d->worker_model ? DEMO_WORKER_N_PREDICT : DEMO_N_PREDICT);
    if (!spec) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_task_terms t = {.kind = "complete", .slots = 1, .bounty_units = bounty, .stake_units = stake};
    if (evaluator >= 0) {
        t.verifier = *gt_agent_address(d->ag[evaluator]);
        t.fee_units = fee;
    }
    int rc = gt_agent_post(d->ag[poster], &t, spec, strlen(spec), id, err);
    free(spec);
    if (rc) return gt_err_wrap(err, "%s posting a task", demo_cast[poster].name);
    char a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX];
    demo_say("  %6.1fs  %-6s posted task 0x%02x%02x%02x%02x… (%d prompt%s, bounty %s, stake %s%s%s)", demo_elapsed(),
        demo_cast[poster].name, id[0], id[1], id[2], id[3], n_prompts, n_prompts > 1 ? "s" : "", gt_amount_format(bounty, a1),
        gt_amount_format(stake, a2), evaluator >= 0 ? ", verified by " : "", evaluator >= 0 ? demo_cast[evaluator].name : "");
    return 0;
}

/* The first four scenes of round r, then the data job and the evaluation. */
static int run_rounds(demo *d, int rounds, gt_err *err) {
    uint8_t t[32], sub[32];
    int rc;
    for (int r = 1; r <= rounds; r++) {
        demo_say("\n== round %d.1: accepted work, verified by an evaluator who re-runs it ==", r);
        demo_say("   on line: ana (worker); eko re-runs the result for a fee of 0.5");
        demo_online(d, P_ANA, 1);
        if ((rc = post(d, P_AYU, r, 1, 5000000, 1000000, P_EKO, 500000, t, err)) ||
            (rc = demo_wait_task(d->dir, t, demo_pred_complete, NULL, "round 1: accepted work", err)))
            return rc;
        demo_online(d, P_ANA, 0);

        demo_say("\n== round %d.2: garbage rejected, stake slashed, slot reopened ==", r);
        demo_say("   on line: budi (submits garbage without running the model); later ana");
        demo_online(d, P_BUDI, 1);
        if ((rc = post(d, P_AYU, r, 1, 5000000, 2000000, -1, 0, t, err)) ||
            (rc = demo_wait_task(d->dir, t, demo_pred_submitted_by, gt_agent_address(d->ag[P_BUDI]), "round 2: budi submits", err)))
            return rc;
        demo_online(d, P_BUDI, 0);
        if ((rc = demo_wait_task(d->dir, t, demo_pred_reopened, NULL, "round 2: rejection settled", err))) return rc;
        demo_say("   the slot is open again: ana comes on line");
        demo_online(d, P_ANA, 1);
        if ((rc = demo_wait_task(d->dir, t, demo_pred_complete, NULL, "round 2: redone by ana", err))) return rc;
        demo_online(d, P_ANA, 0);

        demo_say("\n== round %d.3: good work wrongly rejected, disputed, settled by validators re-running it ==", r);
        demo_say("   on line: ana; dewi rejects everything; val-1..3 re-run disputed work and vote sealed (commit, "
                 "then reveal: no judge can copy another's vote)");
        demo_online(d, P_ANA, 1);
        if ((rc = post(d, P_DEWI, r, 1, 5000000, 2000000, -1, 0, t, err)) ||
            (rc = demo_wait_task(d->dir, t, demo_pred_complete, NULL, "round 3: dispute", err)))
            return rc;
        demo_online(d, P_ANA, 0);

        demo_say("\n== round %d.4: a subcontract ==", r);
        demo_say("   on line: citra (takes 2 prompts, subcontracts the rest); ana once citra has claimed");
        demo_online(d, P_CITRA, 1);
        if ((rc = post(d, P_AYU, r, 4, 8000000, 2000000, -1, 0, t, err)) ||
            (rc = demo_wait_task(d->dir, t, demo_pred_claimed_by, gt_agent_address(d->ag[P_CITRA]), "round 4: citra claims", err)))
            return rc;
        demo_online(d, P_CITRA, 0);
        demo_online(d, P_ANA, 1);
        if ((rc = demo_wait_task(d->dir, t, demo_pred_complete, NULL, "round 4: parent task", err))) return rc;
        json_t *task = NULL;
        if ((rc = gt_client_task(d->dir, t, &task, err))) return rc;
        json_t *subs = json_object_get(task, "subtasks");
        for (size_t i = 0; i < json_array_size(subs) && !rc; i++) {
            rc = gt_blob_id_parse(json_string_value(json_array_get(subs, i)), sub, err);
            if (!rc) rc = demo_wait_task(d->dir, sub, demo_pred_complete, NULL, "round 4: sub-task", err);
        }
        if (!rc && json_array_size(subs) == 0) rc = gt_err_set(err, GT_ESTATE, "round 4: citra did not subcontract");
        json_decref(task);
        demo_online(d, P_ANA, 0);
        if (rc || (rc = demo_data_round(d, r, err)) || (rc = demo_eval_round(d, r, err))) return rc;
    }
    return 0;
}

int demo_run_rounds(demo *d, gt_node *node, int rounds, uint64_t *ticks, gt_err *err) {
    assert(!pace_node && !pace_demo); /* one run at a time */
    pace_node = node, pace_demo = d, pace_ticks = 0; /* from here on the director may write blocks */
    int rc = run_rounds(d, rounds, err);
    *ticks = pace_ticks;
    pace_node = NULL, pace_demo = NULL;
    return rc;
}
