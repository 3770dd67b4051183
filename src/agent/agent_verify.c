/* agent_verify.c: the agent's verifying roles: the poster judging results
 * of its own tasks (and settling rejections once the dispute window has
 * passed), the evaluator judging tasks that name it, and the validator
 * re-running disputed work and quorum tasks and voting. Every verdict is a
 * skill's verify function (re-execution for `complete`), unless the agent
 * was told to misbehave (GT_FAULT_REJECT_ALL). */
#include <stdio.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/skill_eval.h"
#include "agent/skill_generate.h"
#include "base/alloc.h"
#include "market/blob.h"
#include "work/work.h"

/* ---- verifying: poster, evaluator, quorum validator ---- */

/* Judges the slot's result with the skill (or the reject-all fault) and
 * sends the verdict. */
static void verify_slot(gt_agent *a, const json_t *task, const json_t *sl, int honest_only, int *acted) {
    uint8_t id[32], result[32];
    gt_err e = {0};
    char h[16];
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    if (gt_agent_json_hash(task, "id", id, &e) || gt_agent_json_hash(sl, "result", result, &e)) return;
    if (ag_memo_find(a, id, slot, attempt, MEMO_VERIFY)) return;
    ag_memo_put(a, id, slot, attempt, MEMO_VERIFY, 0);
    gt_skill_verdict v = {0};
    int rc = 0, sent = 0;
    if (!honest_only && (a->faults & GT_FAULT_REJECT_ALL)) {
        v.accept = 0;
        v.score = 0;
        snprintf(v.reason, sizeof v.reason, "the output looks wrong to me");
    } else {
        const gt_skill *sk = gt_skill_find(json_string_value(json_object_get(task, "kind")));
        gt_job job;
        json_t *spec = NULL;
        uint8_t *bytes = NULL;
        size_t len = 0;
        char rid[72];
        gt_blob_id_format(result, rid);
        if (!sk || (!sk->verify && !sk->judge)) rc = gt_err_set(&e, GT_EUNSUPPORTED, "no skill to verify this kind");
        if (!rc) rc = ag_load_job(a, task, slot, &job, &spec, &e);
        if (!rc) rc = gt_client_blob_get(a->client, rid, GT_AGENT_RESULT_MAX_BYTES, &bytes, &len, &e);
        if (!rc && sk->judge) {
            /* The skill sends its own verdict (a per-sample count, a co-sign). */
            rc = sk->judge(a, &job, result, bytes, len, &v, &e);
            sent = 1;
        } else if (!rc) {
            rc = sk->verify(a, &job, bytes, len, &v, &e);
        }
        gt_free(bytes);
        json_decref(spec);
        if (rc == GT_SKILL_LATER) {
            ag_memo_find(a, id, slot, attempt, MEMO_VERIFY)->what = 0; /* ask again next pass */
            return;
        }
        if (rc) {
            ag_action_failed(a, "verify", id, slot, &e);
            return;
        }
    }
    if (!sent && (rc = gt_agent_send_verdict(a, id, slot, result, &v, &e))) {
        ag_action_failed(a, "verdict", id, slot, &e);
        return;
    }
    (*acted)++;
    ag_count(a, &a->stats.verified);
    ag_count(a, v.accept ? &a->stats.accepted_given : &a->stats.rejected_given);
    gt_agent_logf(a, "%s the result of task %s slot %llu (score %d): %s", v.accept ? "accepted" : "rejected",
                  ag_short_id(id, h), (unsigned long long)slot, v.score, v.reason);
}

/* The poster's slots: verify submissions (poster policy), settle rejections
 * whose dispute window has passed. */
int ag_poster_task(gt_agent *a, const json_t *task, void *arg, int *acted, gt_err *err) {
    const char *policy = json_string_value(json_object_get(task, "policy"));
    uint64_t head = *(const uint64_t *)arg;
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
            verify_slot(a, task, sl, 0, acted);
        } else if (!strcmp(state, "rejected") && ag_is_me(a, json_object_get(sl, "verdictBy"))) {
            /* The worker may dispute until the deadline; after it the poster
             * collects the stake and the slot reopens. */
            json_t *dl = json_object_get(sl, "deadline");
            uint64_t deadline = json_is_integer(dl) ? (uint64_t)json_integer_value(dl) : 0;
            gt_agent_memo *m = ag_memo_find(a, id, slot, attempt, MEMO_SETTLE);
            if (head + 1 < deadline || (m && head < m->until_height)) continue;
            gt_err e = {0};
            if (gt_agent_settle(a, id, slot, &e)) {
                ag_memo_put(a, id, slot, attempt, MEMO_SETTLE, head + 1);
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
        if (state && !strcmp(state, "submitted")) verify_slot(a, task, sl, 0, acted);
    }
    json_decref(task);
    return 0;
}

/* Re-runs the slot's work with the skill: its verify function (v gets the
 * verdict), or with use_vote its vote hook, which sends the vote itself. */
static int rerun(gt_agent *a, const json_t *task, const json_t *sl, const gt_skill *sk, const uint8_t result[32],
                 int use_vote, gt_skill_verdict *v, gt_err *e) {
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    gt_job job;
    json_t *spec = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char rid[72];
    int rc = 0;
    if (!sk->verify && !(use_vote && sk->vote)) return gt_err_set(e, GT_EUNSUPPORTED, "no skill to re-run this kind");
    if (!rc) rc = ag_load_job(a, task, slot, &job, &spec, e);
    if (!rc && sk->fits) rc = sk->fits(a, &job, e);
    if (!rc) {
        gt_blob_id_format(result, rid);
        rc = gt_client_blob_get(a->client, rid, GT_AGENT_RESULT_MAX_BYTES, &bytes, &len, e);
    }
    if (!rc) rc = use_vote && sk->vote ? sk->vote(a, &job, result, bytes, len, v, e) : sk->verify(a, &job, bytes, len, v, e);
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

/* Disputes: re-run and vote whether the result is reproduced. Quorum tasks:
 * re-run and give a verdict as one of the panel. */
int ag_validator_task(gt_agent *a, const json_t *task, void *arg, int *acted, gt_err *err) {
    uint8_t id[32];
    char h[16];
    if (gt_agent_json_hash(task, "id", id, NULL)) return 0;
    if (ag_is_me(a, json_object_get(task, "poster")) || ag_is_me(a, json_object_get(task, "verifier"))) return 0;
    const char *policy = json_string_value(json_object_get(task, "policy"));
    const char *kind = json_string_value(json_object_get(task, "kind"));
    int is_eval = kind && !strcmp(kind, GT_WORK_KIND_EVAL);
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        const char *state = json_string_value(json_object_get(sl, "state"));
        uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
        uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
        if (!state || ag_is_me(a, json_object_get(sl, "worker"))) continue;
        /* Attestations are co-signed by every validator who checks them (on
         * a quorum task the co-sign of a submitted one is the panel vote). */
        if (is_eval && strcmp(state, "disputed")) {
            ag_eval_cosign_slot(a, task, sl, acted);
            continue;
        }
        if (!strcmp(state, "submitted") && policy && !strcmp(policy, "quorum")) {
            if (!voted(a, json_object_get(sl, "votes"))) verify_slot(a, task, sl, 1, acted);
            continue;
        }
        if (ag_is_me(a, json_object_get(sl, "verdictBy"))) continue;
        const gt_skill *sk = gt_skill_find(kind);
        uint8_t result[32];
        gt_err e = {0};
        gt_skill_verdict v = {0};
        if (!sk || gt_agent_json_hash(sl, "result", result, NULL)) continue;
        if (!strcmp(state, "rejected")) {
            /* The worker may dispute within a few blocks, and then the vote
             * is open only a few blocks more: re-run now, while the worker
             * decides, so a vote is ready the moment a dispute opens. */
            if (sk->vote || !sk->verify || (policy && !strcmp(policy, "quorum")) ||
                ag_memo_find(a, id, slot, attempt, MEMO_PRECHECK))
                continue;
            ag_memo_put(a, id, slot, attempt, MEMO_PRECHECK, 0);
            int rc = rerun(a, task, sl, sk, result, 0, &v, &e);
            if (rc) continue; /* tried again if a dispute opens */
            gt_agent_memo *m = ag_memo_find(a, id, slot, attempt, MEMO_PRECHECK);
            m->value = v.accept ? 2 : 1;
            memcpy(m->ref, result, 32);
            continue;
        }
        if (strcmp(state, "disputed")) continue;
        json_t *d = json_object_get(sl, "dispute");
        if (voted(a, json_object_get(d, "votes")) || ag_memo_find(a, id, slot, attempt, MEMO_VOTE)) continue;
        ag_memo_put(a, id, slot, attempt, MEMO_VOTE, 0);
        gt_agent_memo *pre = ag_memo_find(a, id, slot, attempt, MEMO_PRECHECK);
        int rc = 0, sent = 0;
        if (pre && pre->value && !memcmp(pre->ref, result, 32)) {
            v.accept = pre->value == 2;
            snprintf(v.reason, sizeof v.reason, "re-ran it when it was rejected: %s",
                     v.accept ? "it reproduces" : "it does not reproduce");
        } else {
            rc = rerun(a, task, sl, sk, result, 1, &v, &e);
            sent = sk->vote != NULL;
        }
        if (rc == GT_SKILL_LATER) {
            ag_memo_find(a, id, slot, attempt, MEMO_VOTE)->what = 0;
            continue;
        }
        if (rc) {
            gt_agent_logf(a, "abstains on the dispute of task %s slot %llu: %s", ag_short_id(id, h),
                          (unsigned long long)slot, e.msg);
            continue;
        }
        slot_args s = {id, slot, result, NULL, v.accept, 0};
        if (!sent && (rc = gt_agent_act(a, &gt_kind_dispute_vote, ag_fill_slot, &s, NULL, &e))) {
            ag_action_failed(a, "vote", id, slot, &e);
            continue;
        }
        (*acted)++;
        ag_count(a, &a->stats.votes);
        /* How close to the end of the vote it came: the window is counted in
         * blocks, and the node writes blocks on its own when idle. */
        uint64_t head = 0;
        json_t *dl = json_object_get(d, "deadline");
        char left[64] = "";
        if (json_is_integer(dl) && !gt_client_head_height(a->client, &head, NULL))
            snprintf(left, sizeof left, " (%lld block%s of the vote left)",
                     (long long)json_integer_value(dl) - (long long)head,
                     json_integer_value(dl) - (long long)head == 1 ? "" : "s");
        gt_agent_logf(a, "re-ran the disputed task %s slot %llu: %s; voted %s%s", ag_short_id(id, h),
                      (unsigned long long)slot, v.reason, v.accept ? "for the worker" : "against the worker", left);
    }
    return 0;
}


/* A complete task of the poster's: a data job's dataset to publish. */
int ag_poster_done_task(gt_agent *a, const json_t *summary, void *arg, int *acted, gt_err *err) {
    uint8_t id[32];
    json_t *task = NULL;
    gt_err e = {0};
    int published = 0;
    const char *kind = json_string_value(json_object_get(summary, "kind"));
    if (!kind || strcmp(kind, GT_WORK_KIND_GENERATE) || gt_agent_json_hash(summary, "id", id, NULL)) return 0;
    if (ag_memo_find(a, id, UINT64_MAX, 0, MEMO_PUBLISH)) return 0;
    /* One try per job: a refusal (already published) or a mismatch is final. */
    ag_memo_put(a, id, UINT64_MAX, 0, MEMO_PUBLISH, 0);
    if (gt_client_task(a->client, id, &task, err)) return err ? err->code : GT_EIO;
    if (ag_data_publish(a, task, &published, &e)) {
        if (e.code == GT_EEXIST) gt_agent_logf(a, "dataset already published: %s", e.msg);
        else ag_action_failed(a, "dataset publish", id, 0, &e);
    } else if (published) {
        (*acted)++;
        ag_count(a, &a->stats.datasets_published);
    }
    json_decref(task);
    return 0;
}
