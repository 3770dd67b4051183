/* agent_verify.c: the agent's verifying roles: the poster judging results
 * of its own tasks (and settling rejections once the dispute window has
 * passed), the evaluator judging tasks that name it, and the validator
 * re-running disputed work and quorum tasks and voting. Every verdict is a
 * skill's verify function (re-execution for `complete`), unless the agent
 * was told to misbehave (GT_FAULT_REJECT_ALL). A panel member's vote is
 * always sealed (agent_seal.c); on an eval task it was a co-sign in the
 * clear until ledger format 11, whose rule takes an eval panel's votes only
 * sealed: from that height (GET /v1/chain's format11Height) the agent checks
 * the attestation, commits, and sends the co-sign with the reveal. From
 * format 12 (format12Height) a co-sign in the clear waits while the slot can
 * still come before a panel (eval_held): were it drawn onto a dispute's
 * panel later, its public co-sign would be a vote a lazy member could copy. */
#include <stdio.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/skill_eval.h"
#include "agent/skill_generate.h"
#include "base/alloc.h"
#include "base/limits.h"
#include "base/progress.h"
#include "store/blob.h"
#include "work/work.h"

/* ---- verifying: poster, evaluator, quorum validator ---- */

/* What a verifier does when checking a result failed with code rc (a
 * verdict was not sent). Fail closed, never silent:
 *   RETRY    the node or this machine failed (I/O, memory, store, nonce,
 *            funds for the rejection bond): try again next pass; nothing is
 *            marked handled, and until a verdict is on the ledger the verify
 *            deadline refunds the poster and pays nobody (verdict.c);
 *   REJECT   the result cannot be checked (blob never uploaded, over the
 *            shared limit, unparsable, another model): that is a rejection
 *            with the error as its reason; the worker may dispute it;
 *   ABSTAIN  a quorum panelist that cannot run this work (no model, no
 *            skill) gives no vote rather than a wrong one;
 *   GIVE_UP  the slot moved on (state, permission): nothing left to judge. */
enum { VF_RETRY, VF_REJECT, VF_ABSTAIN, VF_GIVE_UP };
static int verify_failure(int rc, int panel) {
    switch (rc) {
    case GT_EIO: case GT_ENOMEM: case GT_EDB: case GT_ENONCE: case GT_EFUNDS: return VF_RETRY;
    case GT_ENOTFOUND: case GT_ELIMIT: case GT_EINVAL: case GT_EOVERFLOW: return VF_REJECT;
    case GT_EUNSUPPORTED: return panel ? VF_ABSTAIN : VF_REJECT;
    default: return VF_GIVE_UP;
    }
}

/* The slot of task holding the same result as sl that came first, or -1: a
 * copy of another slot's public result (or one worker's single run sold
 * twice) earns nothing. First: a slot already judged, or one submitted
 * earlier (its verify deadline is earlier: same verifySeconds), the lower
 * slot on a tie. A spec with "sameResults": true allows identical results
 * (a poster who wants the same deterministic run confirmed several times). */
static int64_t copied_from(const json_t *task, const json_t *spec, const json_t *sl) {
    const char *mine = json_string_value(json_object_get(sl, "result"));
    if (!mine || json_is_true(json_object_get(spec, "sameResults"))) return -1;
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    json_int_t dl = json_integer_value(json_object_get(sl, "deadline"));
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(task, "slotList"), i, o) {
        uint64_t k = (uint64_t)json_integer_value(json_object_get(o, "slot"));
        const char *st = json_string_value(json_object_get(o, "state"));
        const char *r = json_string_value(json_object_get(o, "result"));
        if (k == slot || !st || !r || strcmp(r, mine) || !strcmp(st, "open") || !strcmp(st, "refunded")) continue;
        if (strcmp(st, "submitted")) return (int64_t)k; /* judged already */
        json_int_t odl = json_integer_value(json_object_get(o, "deadline"));
        if (odl < dl || (odl == dl && k < slot)) return (int64_t)k;
    }
    return -1;
}

/* ---- The reveal guard: a re-execution never runs past a reveal of this agent's sealed votes. */

/* Notes the time a re-execution started at t0 took (the guard's measure). */
static void rerun_took(gt_agent *a, double t0) {
    uint64_t ms = (uint64_t)((gt_now_s() - t0) * 1000.0);
    if (ms > a->rerun_ms_max) a->rerun_ms_max = ms;
}

/* How long a re-execution may take as the guard reckons it: twice the
 * larger of the longest so far and est_ms (the skill's estimate of this
 * one, 0 if none) plus a margin, at least GT_AGENT_CLAIM_MIN_MS. */
static uint64_t rerun_need_ms(const gt_agent *a, uint64_t est_ms) {
    uint64_t base = a->rerun_ms_max > est_ms ? a->rerun_ms_max : est_ms;
    uint64_t need_ms = 2 * base + GT_AGENT_SUBMIT_MARGIN_MS;
    return need_ms < GT_AGENT_CLAIM_MIN_MS ? GT_AGENT_CLAIM_MIN_MS : need_ms;
}

/* The skill's estimate of a re-run of the slot sl of task (its rerun_ms
 * hook on the task's spec), or 0 when it has none or the spec cannot be
 * read. Why: with no history the guard's bound was its 3 s floor, so an
 * agent's first long re-run (a train verification, an eval over many
 * items) could still run past a reveal. */
static uint64_t rerun_estimate_ms(gt_agent *a, const json_t *task, const json_t *sl) {
    const gt_skill *sk = gt_skill_find(json_string_value(json_object_get(task, "kind")));
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot")), ms = 0;
    gt_job job;
    json_t *spec = NULL;
    gt_err e = {0};
    if (!sk || !sk->rerun_ms || ag_load_job(a, task, slot, &job, &spec, &e)) return 0;
    ms = sk->rerun_ms(a, &job);
    json_decref(spec);
    return ms;
}

/* A round this agent just committed in: its reveal deadline is not known
 * until a pass reads the sealed round, but it is no earlier than the
 * round's deadline before the seal (its commit window's end), which the
 * guard takes meanwhile. */
static void seal_sent_in(gt_agent *a, const json_t *round_obj) {
    json_int_t by = json_integer_value(json_object_get(round_obj, "deadline"));
    if (by > 0 && (!a->reveal_by_seen || (uint64_t)by < a->reveal_by_seen)) a->reveal_by_seen = (uint64_t)by;
}

/* 1 when a re-execution of slot sl of task (id, slot, attempt) started now
 * could run past the earliest reveal deadline of this agent's sealed votes
 * (the last full pass's, or one this pass has read since): it is put off
 * to a later pass. Why: one thread re-executes and reveals, so a long
 * re-execution started while a commitment waited for its reveal window
 * left it unrevealed, slashed like a losing vote. Putting one off costs no
 * stake (a judge that has not committed has bonded nothing); the pass goes
 * on and reveals what is due, and a reveal not yet due waits for its
 * window. The skill's estimate is asked only when history alone lets the
 * re-run go (it may read the spec, or measure). Said once a slot. */
static int rerun_held(gt_agent *a, const json_t *task, const json_t *sl, const uint8_t id[32], uint64_t slot,
                      uint64_t attempt) {
    uint64_t by = a->reveal_by_s, height, now_s, est_ms = 0;
    char h[16];
    if (a->reveal_by_seen && (!by || a->reveal_by_seen < by)) by = a->reveal_by_seen;
    if (atomic_load(&a->seals_open) <= 0 || !by) return 0;
    int known = !gt_client_head(a->client, &height, &now_s, NULL);
    if (known && now_s >= by) return 0; /* past: nothing left to reveal */
    if (known && now_s + (rerun_need_ms(a, 0) + 999) / 1000 < by) {
        est_ms = rerun_estimate_ms(a, task, sl);
        if (now_s + (rerun_need_ms(a, est_ms) + 999) / 1000 < by) return 0; /* far enough */
    }
    if (!ag_memo_find(a, id, slot, attempt, MEMO_HELD)) {
        ag_memo_put(a, id, slot, attempt, MEMO_HELD, 0);
        gt_agent_logf(a, "puts off re-running task %s slot %llu: a re-run of up to %llu ms (estimated %llu ms, "
                      "longest so far %llu ms) could run past the reveal of its sealed vote due by block time %llu",
                      ag_short_id(id, h), (unsigned long long)slot, (unsigned long long)rerun_need_ms(a, est_ms),
                      (unsigned long long)est_ms, (unsigned long long)a->rerun_ms_max, (unsigned long long)by);
    }
    return 1;
}

int ag_rerun_held(gt_agent *a, const json_t *task, const json_t *sl) {
    uint8_t id[32];
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    if (gt_agent_json_hash(task, "id", id, NULL)) return 0; /* nothing the caller can run either */
    return rerun_held(a, task, sl, id, slot, attempt);
}

void ag_rerun_took(gt_agent *a, double t0) { rerun_took(a, t0); }

/* Runs the skill on the slot's result: v gets the verdict, *sent is 1 when
 * the skill's judge sent it itself. A quorum panel's member (panel) votes
 * yes or no on the whole result, sealed: the skill's verify decides, never
 * its judge, whose verdict (generate: a per-sample count) the ledger refuses
 * on a quorum task. 0, GT_SKILL_LATER or an error. */
static int check_slot(gt_agent *a, const json_t *task, const json_t *sl, const uint8_t result[32], int panel,
                      gt_skill_verdict *v, int *sent, gt_err *e) {
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    const gt_skill *sk = gt_skill_find(json_string_value(json_object_get(task, "kind")));
    gt_job job;
    json_t *spec = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char rid[72];
    int rc = 0;
    double t0 = gt_now_s();
    *sent = 0;
    gt_blob_id_format(result, rid);
    if (!sk || (!sk->verify && (panel || !sk->judge)))
        rc = gt_err_set(e, GT_EUNSUPPORTED, "no skill to verify this kind");
    if (!rc) rc = ag_load_job(a, task, slot, &job, &spec, e);
    int64_t first = rc ? -1 : copied_from(task, spec, sl);
    if (first >= 0) {
        memset(v, 0, sizeof *v);
        snprintf(v->reason, sizeof v->reason,
                 "the result is identical to slot %lld's, which came first: a copy earns nothing (the task's spec "
                 "does not allow identical results)",
                 (long long)first);
        json_decref(spec);
        return 0;
    }
    /* The same limit the node accepts blobs under: whatever a worker could
     * upload, a verifier can download and judge. */
    if (!rc) rc = gt_client_blob_get(a->client, rid, GT_AGENT_RESULT_MAX_BYTES, &bytes, &len, e);
    if (!rc && sk->judge && !panel) {
        /* The skill sends its own verdict (a per-sample count, a co-sign). */
        rc = sk->judge(a, &job, result, bytes, len, v, e);
        *sent = rc == 0;
    } else if (!rc) {
        rc = sk->verify(a, &job, bytes, len, v, e);
    }
    rerun_took(a, t0);
    gt_free(bytes);
    json_decref(spec);
    return rc;
}

/* Judges the slot's result with the skill (or the reject-all fault) and
 * sends the verdict. The slot is marked handled only once a verdict is on
 * the ledger (the node applies an action before it answers), or when there
 * is nothing left to judge; see verify_failure for what an error does. */
static void verify_slot(gt_agent *a, const json_t *task, const json_t *sl, int honest_only, int *acted) {
    uint8_t id[32], result[32];
    gt_err e = {0};
    char h[16];
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    if (gt_agent_json_hash(task, "id", id, &e) || gt_agent_json_hash(sl, "result", result, &e)) return;
    if (ag_memo_find(a, id, slot, attempt, MEMO_VERIFY)) return;
    gt_skill_verdict v = {0};
    int rc = 0, sent = 0;
    if (!honest_only && (a->faults & GT_FAULT_REJECT_ALL)) {
        v.accept = 0;
        v.score = 0;
        snprintf(v.reason, sizeof v.reason, "the output looks wrong to me");
    } else if (rerun_held(a, task, sl, id, slot, attempt)) {
        return; /* asked again next pass */
    } else if ((rc = check_slot(a, task, sl, result, honest_only, &v, &sent, &e))) {
        if (rc == GT_SKILL_LATER) return; /* asked again next pass */
        switch (verify_failure(rc, honest_only)) {
        case VF_RETRY:
            ag_action_failed(a, "verify (will retry)", id, slot, &e);
            return;
        case VF_ABSTAIN:
        case VF_GIVE_UP:
            ag_memo_put(a, id, slot, attempt, MEMO_VERIFY, 0);
            ag_action_failed(a, "verify", id, slot, &e);
            return;
        }
        memset(&v, 0, sizeof v);
        snprintf(v.reason, sizeof v.reason, "the result cannot be verified: %.440s", e.msg);
        sent = 0;
    }
    /* A panel member's vote is sealed (revealed by ag_seal_reveal later). */
    if (!sent && (rc = honest_only ? ag_seal_commit(a, id, slot, attempt, GT_MARKET_ROUND_VERIFY, result, v.accept, &e)
                                   : gt_agent_send_verdict(a, id, slot, result, &v, &e))) {
        if (verify_failure(rc, honest_only) != VF_RETRY) ag_memo_put(a, id, slot, attempt, MEMO_VERIFY, 0);
        ag_action_failed(a, honest_only ? "sealed vote" : "verdict", id, slot, &e);
        return;
    }
    if (honest_only && !sent) seal_sent_in(a, sl);
    ag_memo_put(a, id, slot, attempt, MEMO_VERIFY, 0);
    (*acted)++;
    ag_count(a, &a->stats.verified);
    ag_count(a, v.accept ? &a->stats.accepted_given : &a->stats.rejected_given);
    gt_agent_logf(a, "%s the result of task %s slot %llu (score %d)%s: %s",
                  v.accept ? "accepted" : "rejected", ag_short_id(id, h), (unsigned long long)slot, v.score,
                  honest_only && !sent ? ", a sealed vote" : "", v.reason);
}

/* The poster's slots: verify submissions (poster policy), settle rejections
 * whose dispute window has passed. */
int ag_poster_task(gt_agent *a, const json_t *task, void *arg, int *acted, gt_err *err) {
    const char *policy = json_string_value(json_object_get(task, "policy"));
    const ag_head *head = arg;
    uint8_t id[32];
    char h[16];
    if (gt_agent_json_hash(task, "id", id, NULL)) return 0;
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        const char *state = json_string_value(json_object_get(sl, "state"));
        uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
        uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
        if (!state) continue;
        if (!strcmp(state, "submitted") && policy && !strcmp(policy, "poster")) {
            int before = *acted;
            verify_slot(a, task, sl, 0, acted);
            if (*acted != before) break; /* task is stale now (dedup reads verdicts): next pass */
        } else if (!strcmp(state, "rejected") && ag_is_me(a, json_object_get(sl, "verdictBy"))) {
            /* The worker may dispute until the deadline; after it the poster
             * collects the stake and the slot reopens. */
            json_t *dl = json_object_get(sl, "deadline");
            uint64_t deadline = json_is_integer(dl) ? (uint64_t)json_integer_value(dl) : 0;
            gt_agent_memo *m = ag_memo_find(a, id, slot, attempt, MEMO_SETTLE);
            /* The deadline is a block time: the next block can pass it once
             * the head's time is within a second of it. */
            if (head->time_s + 1 < deadline || (m && head->height < m->until_height)) continue;
            gt_err e = {0};
            if (gt_agent_settle(a, id, slot, &e)) {
                ag_memo_put(a, id, slot, attempt, MEMO_SETTLE, head->height + 1);
                continue; /* the worker settled first, or the window is still open: next block */
            }
            (*acted)++;
            ag_count(a, &a->stats.settled);
            gt_agent_logf(a, "dispute window over: settled the rejection of task %s slot %llu (stake slashed to us, "
                             "slot reopened)", ag_short_id(id, h), (unsigned long long)slot);
        }
    }
    return 0;
}

int ag_evaluator_task(gt_agent *a, const json_t *summary, void *arg, int *acted, gt_err *err) {
    if (!ag_is_me(a, json_object_get(summary, "verifier"))) return 0;
    const char *policy = json_string_value(json_object_get(summary, "policy"));
    if (!policy || strcmp(policy, "evaluator")) return 0;
    uint8_t id[32];
    json_t *task = NULL;
    if (gt_agent_json_hash(summary, "id", id, NULL) || gt_client_task(a->client, id, &task, err)) return 0;
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        const char *state = json_string_value(json_object_get(sl, "state"));
        if (!state || strcmp(state, "submitted")) continue;
        int before = *acted;
        verify_slot(a, task, sl, 0, acted);
        /* One verdict per task per pass: the next slot is judged against
         * this verdict (dedup), which the task fetched above does not show. */
        if (*acted != before) break;
    }
    json_decref(task);
    return 0;
}

/* Re-runs the slot's work with the skill: its verify function (v gets the
 * verdict), or with use_vote its vote hook, which sends the vote itself
 * (*sent = 1). A copy of another slot's result (copied_from) is a verdict
 * against it without a re-run. */
static int rerun(gt_agent *a, const json_t *task, const json_t *sl, const gt_skill *sk, const uint8_t result[32],
                 int use_vote, gt_skill_verdict *v, int *sent, gt_err *e) {
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    gt_job job;
    json_t *spec = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char rid[72];
    int rc = 0;
    double t0 = gt_now_s();
    if (!sk->verify && !(use_vote && sk->vote)) return gt_err_set(e, GT_EUNSUPPORTED, "no skill to re-run this kind");
    *sent = 0;
    if (!rc) rc = ag_load_job(a, task, slot, &job, &spec, e);
    int64_t first = rc ? -1 : copied_from(task, spec, sl);
    if (first >= 0) {
        v->accept = 0;
        snprintf(v->reason, sizeof v->reason, "the result is identical to slot %lld's, which came first", (long long)first);
        json_decref(spec);
        return 0;
    }
    if (!rc && sk->fits) rc = sk->fits(a, &job, e);
    if (!rc) {
        gt_blob_id_format(result, rid);
        rc = gt_client_blob_get(a->client, rid, GT_AGENT_RESULT_MAX_BYTES, &bytes, &len, e);
    }
    if (!rc && use_vote && sk->vote) {
        rc = sk->vote(a, &job, result, bytes, len, v, e);
        *sent = rc == 0;
    } else if (!rc) {
        rc = sk->verify(a, &job, bytes, len, v, e);
    }
    rerun_took(a, t0);
    gt_free(bytes);
    json_decref(spec);
    return rc;
}

/* 1 if addr appears as "voter" in the array of votes. */
static int voted(const gt_agent *a, const json_t *votes) {
    size_t i;
    json_t *v;
    json_array_foreach(votes, i, v) if (ag_is_me(a, json_object_get(v, "voter"))) return 1;
    return 0;
}

/* May this agent vote in the round (a quorum slot, or a dispute object) as
 * far as the view shows: its panel is drawn and lists it. A panel still to
 * be drawn is waited for; without a panel in the view the ledger decides. */
static int on_panel(const gt_agent *a, const json_t *round_obj) {
    if (json_object_get(round_obj, "panelDrawHeight")) return 0;
    json_t *panel = json_object_get(round_obj, "panel");
    if (!panel) return 1;
    size_t i;
    json_t *m;
    json_array_foreach(panel, i, m) if (ag_is_me(a, json_object_get(m, "member"))) return 1;
    return 0;
}

/* A rejected slot: the worker may dispute within a few seconds, and then the
 * vote is open only a few seconds more: re-run now, while the worker
 * decides, so a vote is ready the moment a dispute opens. */
static void precheck_slot(gt_agent *a, const json_t *task, const json_t *sl, const gt_skill *sk,
                          const uint8_t id[32], const uint8_t result[32]) {
    const char *policy = json_string_value(json_object_get(task, "policy"));
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    if (sk->vote || !sk->verify || (policy && !strcmp(policy, "quorum")) ||
        ag_memo_find(a, id, slot, attempt, MEMO_PRECHECK) || rerun_held(a, task, sl, id, slot, attempt))
        return;
    ag_memo_put(a, id, slot, attempt, MEMO_PRECHECK, 0);
    gt_skill_verdict v = {0};
    gt_err e = {0};
    int unused;
    if (rerun(a, task, sl, sk, result, 0, &v, &unused, &e)) return; /* tried again if a dispute opens */
    /* The re-run may have put other memos: find it again (NULL when the ring
     * forgot it; then the dispute, if any, re-runs). */
    gt_agent_memo *m = ag_memo_find(a, id, slot, attempt, MEMO_PRECHECK);
    if (m) m->value = v.accept ? 2 : 1, memcpy(m->ref, result, 32);
}

/* The vote on a dispute: from the pre-check, else a re-run. 0 with v filled;
 * GT_SKILL_LATER or a retryable error (the caller asks again next pass); an
 * error to abstain on. A result nobody can check does not reproduce. */
static int dispute_verdict(gt_agent *a, const json_t *task, const json_t *sl, const gt_skill *sk,
                           const uint8_t id[32], const uint8_t result[32], gt_skill_verdict *v, int *sent,
                           gt_err *e) {
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    gt_agent_memo *pre = ag_memo_find(a, id, slot, attempt, MEMO_PRECHECK);
    if (pre && pre->value && !memcmp(pre->ref, result, 32)) {
        v->accept = pre->value == 2;
        snprintf(v->reason, sizeof v->reason, "re-ran it when it was rejected: %s",
                 v->accept ? "it reproduces" : "it does not reproduce");
        return 0;
    }
    int rc = rerun(a, task, sl, sk, result, 1, v, sent, e);
    if (rc && rc != GT_SKILL_LATER && verify_failure(rc, 1) == VF_REJECT) {
        *sent = 0;
        v->accept = 0;
        snprintf(v->reason, sizeof v->reason, "the result cannot be verified: %.440s", e->msg);
        return 0;
    }
    return rc;
}

/* A disputed slot: re-run, then commit a sealed vote (revealed later by
 * ag_seal_reveal); an eval task's from format 11 (sealed_eval) too, its
 * attestation checked by ag_eval_seal_verdict, where before the skill's vote
 * hook co-signed in the clear. A transient failure is tried again next pass. */
static void dispute_slot(gt_agent *a, const json_t *task, const json_t *sl, const gt_skill *sk,
                         const uint8_t id[32], const uint8_t result[32], int sealed_eval, int *acted) {
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    json_t *d = json_object_get(sl, "dispute");
    char h[16];
    if (voted(a, json_object_get(d, "votes")) || ag_seal_has(a, d) || !on_panel(a, d) ||
        ag_memo_find(a, id, slot, attempt, MEMO_VOTE) || rerun_held(a, task, sl, id, slot, attempt))
        return;
    ag_memo_put(a, id, slot, attempt, MEMO_VOTE, 0);
    gt_skill_verdict v = {0};
    gt_err e = {0};
    double t0 = gt_now_s();
    int sent = 0, rc = sealed_eval ? ag_eval_seal_verdict(a, task, sl, &v, &e)
                                   : dispute_verdict(a, task, sl, sk, id, result, &v, &sent, &e);
    if (sealed_eval) rerun_took(a, t0); /* dispute_verdict's re-run notes its own */
    /* A skill whose vote hook sent the vote (eval: the co-sign) voted in the clear. */
    if (!rc && !sent && !(rc = ag_seal_commit(a, id, slot, attempt, GT_MARKET_ROUND_DISPUTE, result, v.accept, &e)))
        seal_sent_in(a, d);
    if (rc == GT_SKILL_LATER || (rc && verify_failure(rc, 1) == VF_RETRY)) {
        gt_agent_memo *mv = ag_memo_find(a, id, slot, attempt, MEMO_VOTE); /* NULL if the ring forgot it */
        if (mv) mv->what = 0; /* again next pass */
        if (rc != GT_SKILL_LATER) ag_action_failed(a, "sealed vote (will retry)", id, slot, &e);
        return;
    }
    if (rc) {
        gt_agent_logf(a, "abstains on the dispute of task %s slot %llu: %s", ag_short_id(id, h),
                      (unsigned long long)slot, e.msg);
        return;
    }
    (*acted)++;
    ag_count(a, &a->stats.votes);
    json_t *dl = json_object_get(d, "deadline");
    if (sent)
        gt_agent_logf(a, "re-ran the disputed task %s slot %llu: %s; voted %s", ag_short_id(id, h),
                      (unsigned long long)slot, v.reason, v.accept ? "for the worker" : "against the worker");
    else
        gt_agent_logf(a, "re-ran the disputed task %s slot %llu: %s; committed a sealed vote %s (opened once every "
                      "judge has committed, or after block time %lld)", ag_short_id(id, h), (unsigned long long)slot,
                      v.reason, v.accept ? "for the worker" : "against the worker", (long long)json_integer_value(dl));
}

/* Does the node's ledger take an eval task's panel votes only sealed in the
 * block after head (format 11's rule)? Not when the node names no height. */
static int eval_sealed(gt_agent *a, const ag_head *head) {
    uint64_t from = UINT64_MAX;
    gt_client_format11_height(a->client, &from, NULL);
    return from != UINT64_MAX && head->height + 1 >= from;
}

/* Does format 12's rule hold back a clear co-sign of eval slot sl in the
 * block after head? It does from that height while the slot is submitted,
 * or rejected (not by a quorum) before its dispute window closes (the
 * ledger's test also wants the deadline's height floor, which is never
 * later than the block after the rejection's). Held, the agent asks again
 * next pass: it co-signs once the slot is accepted or past its window, and
 * votes sealed if a dispute seats it. Not when the node names no height. */
static int eval_held(gt_agent *a, const ag_head *head, const json_t *sl, int quorum) {
    uint64_t from = UINT64_MAX;
    gt_client_format12_height(a->client, &from, NULL);
    if (from == UINT64_MAX || head->height + 1 < from) return 0;
    const char *state = json_string_value(json_object_get(sl, "state"));
    json_int_t deadline = json_integer_value(json_object_get(sl, "deadline"));
    if (!state) return 0;
    return !strcmp(state, "submitted") ||
           (!quorum && !strcmp(state, "rejected") && deadline >= 0 && head->time_s < (uint64_t)deadline);
}

/* A quorum eval task's submitted result with this agent on its panel, from
 * format 11: checks the attestation (the co-sign kept for the reveal) and
 * commits the vote sealed. Tried again next pass after a transient failure
 * or before a held-out draw's block; once per attempt otherwise, as a
 * co-sign is. */
static void eval_seal_slot(gt_agent *a, const json_t *task, const json_t *sl, int *acted) {
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    uint8_t id[32], result[32];
    char h[16];
    if (gt_agent_json_hash(task, "id", id, NULL) || gt_agent_json_hash(sl, "result", result, NULL) ||
        ag_memo_find(a, id, slot, attempt, MEMO_CHECK) || rerun_held(a, task, sl, id, slot, attempt))
        return;
    ag_memo_put(a, id, slot, attempt, MEMO_CHECK, 0);
    gt_skill_verdict v = {0};
    gt_err e = {0};
    double t0 = gt_now_s();
    int rc = ag_eval_seal_verdict(a, task, sl, &v, &e);
    rerun_took(a, t0);
    if (!rc && !(rc = ag_seal_commit(a, id, slot, attempt, GT_MARKET_ROUND_VERIFY, result, v.accept, &e)))
        seal_sent_in(a, sl);
    if (rc) {
        gt_agent_memo *m = ag_memo_find(a, id, slot, attempt, MEMO_CHECK); /* NULL if the ring forgot it */
        /* Not yet (a held-out draw's block: the panel is seated at the claim,
         * which may come before it) or a transient failure: next pass. */
        if (m && (rc == GT_SKILL_LATER || verify_failure(rc, 1) == VF_RETRY)) m->what = 0;
        if (rc != GT_SKILL_LATER) ag_action_failed(a, "sealed eval vote", id, slot, &e);
        return;
    }
    (*acted)++;
    ag_count(a, &a->stats.verified);
    ag_count(a, v.accept ? &a->stats.accepted_given : &a->stats.rejected_given);
    gt_agent_logf(a, "attestation on task %s slot %llu: %s; committed a sealed vote (co-signed with the reveal)",
                  ag_short_id(id, h), (unsigned long long)slot, v.reason);
}

/* Disputes: re-run and commit a sealed vote on whether the result is
 * reproduced. Quorum tasks: re-run and commit a sealed verdict as one of the
 * panel. Either way, reveal this agent's commitments once their commit
 * window closes. Eval tasks: co-sign attestations; a panel's vote is a
 * co-sign in the clear before format 11 and sealed from it (eval_sealed);
 * from format 12 a plain co-sign waits while a panel may still judge the
 * slot (eval_held).
 * arg: the head (ag_head). */
int ag_validator_task(gt_agent *a, const json_t *task, void *arg, int *acted, gt_err *err) {
    const ag_head *head = arg;
    uint8_t id[32], result[32];
    if (gt_agent_json_hash(task, "id", id, NULL)) return 0;
    if (ag_is_me(a, json_object_get(task, "poster")) || ag_is_me(a, json_object_get(task, "verifier"))) return 0;
    const char *policy = json_string_value(json_object_get(task, "policy"));
    const char *kind = json_string_value(json_object_get(task, "kind"));
    int is_eval = kind && !strcmp(kind, GT_WORK_KIND_EVAL), quorum = policy && !strcmp(policy, "quorum");
    int sealed_eval = is_eval && eval_sealed(a, head);
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        const char *state = json_string_value(json_object_get(sl, "state"));
        if (!state || ag_is_me(a, json_object_get(sl, "worker"))) continue;
        /* First what was promised: a sealed vote is opened whatever else happens. */
        if (!strcmp(state, "submitted") && quorum)
            ag_seal_reveal(a, task, sl, sl, GT_MARKET_ROUND_VERIFY, head, acted);
        else if (!strcmp(state, "disputed"))
            ag_seal_reveal(a, task, sl, json_object_get(sl, "dispute"), GT_MARKET_ROUND_DISPUTE, head, acted);
        if (head->reveal_only || !(atomic_load(&a->roles) & GT_ROLE_VALIDATOR)) continue; /* off duty: reveals */
        /* Attestations are co-signed by every validator who checks them (on
         * a quorum task the co-sign of a submitted one is the panel vote). */
        if (sealed_eval && quorum && !strcmp(state, "submitted")) {
            /* The co-sign of a submitted result is a panel vote: sealed. */
            if (!voted(a, json_object_get(sl, "votes")) && !ag_seal_has(a, sl) && on_panel(a, sl))
                eval_seal_slot(a, task, sl, acted);
            continue;
        }
        if (is_eval && strcmp(state, "disputed")) {
            if (!eval_held(a, head, sl, quorum)) ag_eval_cosign_slot(a, task, sl, acted);
            continue;
        }
        if (!strcmp(state, "submitted") && quorum) {
            if (!voted(a, json_object_get(sl, "votes")) && !ag_seal_has(a, sl) && on_panel(a, sl))
                verify_slot(a, task, sl, 1, acted);
            continue;
        }
        if (ag_is_me(a, json_object_get(sl, "verdictBy"))) continue;
        const gt_skill *sk = gt_skill_find(kind);
        if (!sk || gt_agent_json_hash(sl, "result", result, NULL)) continue;
        if (!strcmp(state, "rejected")) precheck_slot(a, task, sl, sk, id, result);
        else if (!strcmp(state, "disputed")) dispute_slot(a, task, sl, sk, id, result, sealed_eval, acted);
    }
    return 0;
}


/* A complete task of the poster's: a data job's dataset to publish. One
 * try per job: a refusal (already published) or a mismatch is final; a
 * transient failure (the node unreachable, an answer lost) is tried again
 * next pass (it used to be final too: the dataset stayed unpublished until
 * the agent restarted, tests/agent/test_agent_work.c test_data_job). */
int ag_poster_done_task(gt_agent *a, const json_t *summary, void *arg, int *acted, gt_err *err) {
    uint8_t id[32];
    json_t *task = NULL;
    gt_err e = {0};
    int published = 0, rc;
    const char *kind = json_string_value(json_object_get(summary, "kind"));
    if (!kind || strcmp(kind, GT_WORK_KIND_GENERATE) || gt_agent_json_hash(summary, "id", id, NULL)) return 0;
    if (ag_memo_find(a, id, UINT64_MAX, 0, MEMO_PUBLISH)) return 0;
    if (gt_client_task(a->client, id, &task, err)) return err ? err->code : GT_EIO;
    if ((rc = ag_data_publish(a, task, &published, &e)) && ag_transient(rc)) {
        ag_action_failed(a, "dataset publish (will retry)", id, 0, &e);
    } else if (rc) {
        ag_memo_put(a, id, UINT64_MAX, 0, MEMO_PUBLISH, 0);
        if (e.code == GT_EEXIST) gt_agent_logf(a, "dataset already published: %s", e.msg);
        else ag_action_failed(a, "dataset publish", id, 0, &e);
    } else {
        ag_memo_put(a, id, UINT64_MAX, 0, MEMO_PUBLISH, 0);
        if (published) (*acted)++, ag_count(a, &a->stats.datasets_published);
    }
    json_decref(task);
    return 0;
}
