/* agent_worker.c: the agent's worker role: on each pass it sees to the slots
 * it holds (runs the work of a claimed slot, uploads and submits the result,
 * answers a rejection by re-running the work and disputing when the re-run
 * reproduces what it submitted, else conceding) and, when it holds none in
 * flight and the role is on, claims an open slot worth it that it can do. Every move is a signed action through the
 * node's API, as a remote agent's would be (agent.c has the loop). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/log.h"
#include "base/progress.h"
#include "crypto/addr.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "market/market.h"
#include "work/work.h"

/* A field's amount in tokens for a log line ("?" when absent). */
static const char *ag_tokens(const json_t *o, const char *field, char out[GT_AMOUNT_STR_MAX]) {
    uint64_t u;
    return gt_agent_json_units(o, field, &u, NULL) ? "?" : gt_amount_format(u, out);
}

/* Forgets the kept result. */
static void kept_clear(ag_kept_result *k) {
    gt_buf_free(&k->bytes);
    memset(k, 0, sizeof *k);
}

/* Runs the job's work (or the garbage fault's) into the kept result for
 * (task, slot, attempt), written to disk too (agent_kept.c); counted in
 * work_runs, its time in job_ms_max (the claim policy's measure: a submit
 * tried again later is quick). */
static int make_result(gt_agent *a, const gt_skill *sk, const gt_job *job, uint64_t attempt, gt_err *e) {
    ag_kept_result *k = &a->kept;
    double t0 = gt_now_s();
    int rc;
    kept_clear(k);
    if (a->faults & GT_FAULT_GARBAGE) {
        rc = gt_buf_append_str(&k->bytes, "{\"garbage\":\"this worker did not run the model\"}");
    } else {
        rc = sk->work(a, job, &k->bytes, e);
        ag_count(a, &a->stats.work_runs);
    }
    uint64_t took_ms = (uint64_t)((gt_now_s() - t0) * 1000.0);
    if (took_ms > a->job_ms_max) a->job_ms_max = took_ms;
    if (rc) return kept_clear(k), rc;
    memcpy(k->task, job->task_id, 32);
    k->slot = job->slot, k->attempt = attempt, k->set = 1;
    /* On disk too (with a kept_dir), so a restart does not run it again;
     * never a made-up one (a reload is taken for the skill's own work). */
    gt_err se = {0};
    if (!(a->faults & GT_FAULT_GARBAGE) && ag_kept_save(a, job, attempt, &se))
        gt_agent_logf(a, "cannot keep its result on disk (kept in memory): %s", se.msg);
    return 0;
}

/* Makes the result of a loaded job and submits it: the skill's own action
 * (sk->submit), or its work uploaded and sent with task_submit. The work's
 * result is kept until it is submitted: a transient failure of the upload
 * or the submit is retried on a later pass with the same bytes, not a new
 * run of the work (which a train task's steps make long: it used to run it
 * all again, tests/agent/test_agent_faults.c test_submit_retried), and by a
 * restarted agent when it was kept on disk (test_restart_keeps_result). rid gets
 * the result blob's id, result its hash, *len its size. 0 or an error. */
static int make_and_submit(gt_agent *a, const gt_skill *sk, const gt_job *job, uint64_t attempt, char rid[72],
                           uint8_t result[32], size_t *len, gt_err *e) {
    ag_kept_result *k = &a->kept;
    int rc = 0;
    if (sk->submit && !(a->faults & GT_FAULT_GARBAGE)) {
        /* The skill's own action is the submission (eval: the attestation). */
        rc = sk->submit(a, job, rid, len, e);
        return rc ? rc : gt_blob_id_parse(rid, result, e);
    }
    if ((!k->set || memcmp(k->task, job->task_id, 32) || k->slot != job->slot || k->attempt != attempt) &&
        !ag_kept_load(a, job, attempt))
        rc = make_result(a, sk, job, attempt, e);
    if (!rc && !k->rid[0])
        rc = gt_client_blob_put(a->client, k->bytes.data ? k->bytes.data : (const uint8_t *)"", k->bytes.len, k->rid,
                                e);
    if (rc) k->rid[0] = 0;
    *len = k->bytes.len;
    if (!rc) memcpy(rid, k->rid, sizeof k->rid), rc = gt_blob_id_parse(rid, result, e);
    if (!rc) {
        slot_args s = {job->task_id, job->slot, result, NULL, 0, 0};
        rc = gt_agent_act(a, &gt_kind_task_submit, ag_fill_slot, &s, NULL, e);
    }
    if (!rc || !ag_transient(rc)) ag_kept_drop(a); /* submitted, or refused for good: nothing to send again */
    return rc;
}

/* Runs the work for a claimed slot, uploads the result and submits it. A
 * skill's "not yet" (GT_SKILL_LATER: a held-out eval's draw block is not on
 * the ledger, the slot claimed before it by hand or by another process with
 * this key) is no failure: the slot is worked on a later pass, not given up
 * until its submit deadline takes the stake. Nor is a transient failure (the
 * node restarting between the claim and the submit, a lost answer the node
 * does not hold): marked failed for good, the slot sat claimed until its
 * deadline slashed the stake (tests/agent/test_agent_faults.c). */
static int do_work(gt_agent *a, const json_t *task, uint64_t slot, uint64_t attempt, int *acted) {
    gt_err e = {0};
    gt_job job;
    json_t *spec = NULL;
    char h[16], rid[72];
    uint8_t result[32];
    double t0 = gt_now_s();
    size_t len = 0;
    int rc = ag_load_job(a, task, slot, &job, &spec, &e);
    const gt_skill *sk = rc ? NULL : ag_my_skill(a, json_string_value(json_object_get(task, "kind")));
    if (!rc && !sk) rc = gt_err_set(&e, GT_EUNSUPPORTED, "no skill for this kind");
    if (!rc) rc = make_and_submit(a, sk, &job, attempt, rid, result, &len, &e);
    if (rc == GT_SKILL_LATER) { /* not yet (a held-out eval's draw block): next pass, said once */
        if (!ag_memo_find(a, job.task_id, slot, attempt, MEMO_WAIT)) {
            ag_memo_put(a, job.task_id, slot, attempt, MEMO_WAIT, 0);
            gt_agent_logf(a, "waits to work task %s slot %llu: %s", ag_short_id(job.task_id, h),
                          (unsigned long long)slot, e.msg);
        }
    } else if (rc) {
        uint8_t id[32] = {0};
        gt_agent_json_hash(task, "id", id, NULL);
        ag_action_failed(a, ag_transient(rc) ? "work (will retry)" : "work", id, slot, &e);
        if (!ag_transient(rc)) ag_memo_put(a, id, slot, attempt, MEMO_WORK, 0);
    } else {
        /* What the skill's own work produced: a rejection of it is disputed
         * without running it all again (the work is deterministic). */
        gt_agent_memo *m = ag_memo_put(a, job.task_id, slot, attempt, MEMO_SUBMITTED, 0);
        uint64_t took_ms = (uint64_t)((gt_now_s() - t0) * 1000.0);
        if (took_ms > a->job_ms_max) a->job_ms_max = took_ms;
        memcpy(m->ref, result, 32);
        m->value = !(a->faults & GT_FAULT_GARBAGE);
        (*acted)++;
        ag_count(a, &a->stats.submitted);
        gt_agent_logf(a, "submitted %s (%zu bytes) for task %s slot %llu%s", rid, len, ag_short_id(job.task_id, h),
                      (unsigned long long)slot, (a->faults & GT_FAULT_GARBAGE) ? " [garbage: did not run the model]" : "");
    }
    json_decref(spec);
    return 0;
}

/* Concedes a rejected result it cannot stand behind (or whose dispute was
 * refused): settles, the rejected share of the stake going to the poster,
 * and claims no more of the task. */
static void concede(gt_agent *a, const gt_skill *sk, const uint8_t id[32], uint64_t slot, int *acted) {
    gt_err e = {0};
    char h[16];
    if (gt_agent_settle(a, id, slot, &e)) {
        ag_action_failed(a, "settle (concede)", id, slot, &e);
        return;
    }
    ag_count(a, &a->stats.conceded);
    ag_memo_put(a, id, UINT64_MAX, 0, MEMO_SKIP, 0); /* no second try at a task it could not do */
    (*acted)++;
    gt_agent_logf(a, "result for task %s slot %llu was rejected and %s: conceding (the rejected share of the stake "
                     "goes to the poster)", ag_short_id(id, h), (unsigned long long)slot,
                  sk && sk->stands_by ? "its own check agrees that not all of it was good"
                                      : "a re-run does not reproduce it");
}

/* Whether the worker stands behind its rejected result `submitted`: *stand
 * 1 when its memo says its own work made it, the skill's own check holds
 * (stands_by) or a re-run reproduces it byte for byte; *remembered 1 when
 * the memo said so. 0, or the error that kept it from telling (a transient
 * one: it asks again on a later pass rather than concede). */
static int judge_own(gt_agent *a, const json_t *task, const gt_skill *sk, const uint8_t id[32], uint64_t slot,
                     uint64_t attempt, const uint8_t submitted[32], int *stand, int *remembered, gt_err *e) {
    gt_job job;
    json_t *spec = NULL;
    gt_buf out = GT_BUF_INIT;
    uint8_t again[32];
    int rc = 0;
    *stand = *remembered = 0;
    gt_agent_memo *mine = ag_memo_find(a, id, slot, attempt, MEMO_SUBMITTED);
    if (!sk) return 0;
    if (!sk->stands_by && mine && mine->value && !memcmp(mine->ref, submitted, 32)) {
        *stand = *remembered = 1;
    } else if (sk->stands_by && !(rc = ag_load_job(a, task, slot, &job, &spec, e))) {
        /* The skill's own judgement of its result (generate: validate the batch). */
        char rid[72];
        uint8_t *bytes = NULL;
        size_t len = 0;
        gt_blob_id_format(submitted, rid);
        rc = gt_client_blob_get(a->client, rid, GT_AGENT_RESULT_MAX_BYTES, &bytes, &len, e);
        if (!rc && (rc = sk->stands_by(a, &job, bytes, len, stand, e))) *stand = 0;
        gt_free(bytes);
    } else if (!sk->stands_by && !(rc = ag_load_job(a, task, slot, &job, &spec, e)) &&
               !(rc = sk->work(a, &job, &out, e))) {
        gt_sha256(out.data ? out.data : (const uint8_t *)"", out.len, again);
        *stand = !memcmp(again, submitted, 32);
    }
    gt_buf_free(&out);
    json_decref(spec);
    return rc;
}

/* A rejected result: re-run the work honestly; dispute when the re-run
 * reproduces what was submitted, else concede (settle). A transient failure
 * on the way (the spec or result unreadable, the dispute not delivered)
 * concedes nothing: it is tried again on a later pass (it used to concede,
 * handing an honest worker's stake to the poster, tests/agent/test_agent_faults.c). */
static void react_rejected(gt_agent *a, const json_t *task, const json_t *sl, uint64_t slot, uint64_t attempt,
                           int *acted) {
    uint8_t id[32], submitted[32];
    gt_err e = {0};
    char h[16];
    if (gt_agent_json_hash(task, "id", id, &e) || gt_agent_json_hash(sl, "result", submitted, &e)) return;
    if (ag_memo_find(a, id, slot, attempt, MEMO_REACT)) return;
    ag_memo_put(a, id, slot, attempt, MEMO_REACT, 0);
    const gt_skill *sk = ag_my_skill(a, json_string_value(json_object_get(task, "kind")));
    int reproduces = 0, remembered = 0;
    int rc = judge_own(a, task, sk, id, slot, attempt, submitted, &reproduces, &remembered, &e);
    if (!rc && reproduces) {
        slot_args s = {id, slot, submitted, NULL, 0, 0};
        rc = gt_agent_act(a, &gt_kind_task_dispute, ag_fill_slot, &s, NULL, &e);
        if (!rc) {
            ag_count(a, &a->stats.disputes_opened);
            gt_agent_logf(a, "result for task %s slot %llu was rejected, but %s: disputing (bond locked)",
                          ag_short_id(id, h), (unsigned long long)slot,
                          sk->stands_by ? "it checked its result again and stands by all of it"
                          : remembered  ? "it made this result by running the work itself (deterministic)"
                                        : "a re-run reproduces it byte for byte");
            (*acted)++;
            return;
        }
    }
    if (rc && ag_transient(rc)) {
        gt_agent_memo *m = ag_memo_find(a, id, slot, attempt, MEMO_REACT); /* NULL if the ring forgot it */
        if (m) m->what = 0;
        ag_action_failed(a, reproduces ? "dispute (will retry)" : "checking its rejected result (will retry)", id,
                         slot, &e);
        return;
    }
    if (rc && reproduces) ag_action_failed(a, "dispute", id, slot, &e);
    concede(a, sk, id, slot, acted);
}

typedef struct worker_pass {
    int in_flight;
} worker_pass;

/* My slots in a task I work on. */
static int worker_task(gt_agent *a, const json_t *task, void *arg, int *acted, gt_err *err) {
    worker_pass *wp = arg;
    size_t i;
    json_t *sl;
    uint8_t id[32];
    char h[16];
    if (gt_agent_json_hash(task, "id", id, NULL)) return 0;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        if (!ag_is_me(a, json_object_get(sl, "worker"))) continue;
        const char *state = json_string_value(json_object_get(sl, "state"));
        uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
        uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
        if (!state) continue;
        if (!strcmp(state, "claimed")) {
            wp->in_flight++;
            if (!ag_memo_find(a, id, slot, attempt, MEMO_WORK)) do_work(a, task, slot, attempt, acted);
        } else if (!strcmp(state, "submitted") || !strcmp(state, "disputed")) {
            wp->in_flight++;
        } else if (!strcmp(state, "accepted")) {
            if (ag_memo_find(a, id, slot, attempt, MEMO_SETTLE)) continue;
            gt_err e = {0};
            int src = gt_agent_settle(a, id, slot, &e);
            if (src) {
                /* Refused for good: not again this run; a transient failure: next pass. */
                if (!ag_transient(src)) ag_memo_put(a, id, slot, attempt, MEMO_SETTLE, 0);
                ag_action_failed(a, ag_transient(src) ? "settle (will retry)" : "settle", id, slot, &e);
                continue;
            }
            (*acted)++;
            ag_count(a, &a->stats.settled);
            gt_agent_logf(a, "accepted: settled task %s slot %llu (bounty %s paid, stake back)", ag_short_id(id, h),
                          (unsigned long long)slot, ag_tokens(task, "bounty", (char[GT_AMOUNT_STR_MAX]){0}));
        } else if (!strcmp(state, "rejected")) {
            react_rejected(a, task, sl, slot, attempt, acted);
        }
    }
    return 0;
}

typedef struct claim_pass {
    int claimed;
} claim_pass;

/* 0 when a slot of task (spec: its spec) may be claimed for the skill's
 * work; else EUNSUPPORTED saying why. The verifier and dispute voters reject
 * a result identical to another slot's that came first (agent_verify.c,
 * copied_from), so on a task of several slots that all ask for one
 * deterministic result (sk->own_slot_work 0) an honest result is paid only
 * if it is first: two honest workers claimed such a task's two slots and the
 * later lost its stake to the poster (tests/agent/test_agent.c
 * same_work_trap), a profit for a poster posting a stake above the bounty.
 * Coming first is not in the worker's hands (the poster can run the work
 * itself and submit in another slot), so it claims no slot of such a task
 * unless the spec allows identical results. */
static int same_work_ok(const gt_skill *sk, const json_t *task, const json_t *spec, gt_err *err) {
    assert(sk);
    size_t slots = json_array_size(json_object_get(task, "slotList"));
    if (sk->own_slot_work || slots < 2 || json_is_true(json_object_get(spec, "sameResults"))) return 0;
    return gt_err_set(err, GT_EUNSUPPORTED,
                      "its %zu slots all ask for the same %s result and its spec does not allow identical results "
                      "(\"sameResults\": true): every result after the first is rejected as a copy, its stake lost",
                      slots, sk->name);
}

/* Whether skill sk would claim the task (its spec loaded): 0, an error
 * saying why not, or GT_SKILL_LATER (not yet; claimable's answer). */
static int claim_fits(gt_agent *a, const gt_skill *sk, const json_t *task, gt_err *e) {
    gt_job job;
    json_t *spec = NULL;
    int rc = ag_load_job(a, task, 0, &job, &spec, e);
    if (!rc) rc = same_work_ok(sk, task, spec, e);
    if (!rc && sk->fits) rc = sk->fits(a, &job, e);
    if (!rc && sk->claimable) rc = sk->claimable(a, &job, e);
    json_decref(spec);
    return rc;
}

/* How long a job may take as the claim policy reckons it: twice the longest
 * so far plus a margin, at least GT_AGENT_CLAIM_MIN_MS. */
static uint64_t claim_need_ms(const gt_agent *a) {
    uint64_t need_ms = 2 * a->job_ms_max + GT_AGENT_SUBMIT_MARGIN_MS;
    return need_ms < GT_AGENT_CLAIM_MIN_MS ? GT_AGENT_CLAIM_MIN_MS : need_ms;
}

/* 1 when a claim now could make this agent miss a reveal of its sealed
 * votes: one thread works a claimed job in the pass of its claim and reveals
 * after it, so a job running past the earliest reveal deadline (the block
 * time the last judging pass read) left the commitment to be slashed. Also
 * while that deadline is unknown (a commitment sent since, or none read
 * yet). The claim waits for the reveal; held slots are worked all the same. */
static int reveal_at_risk(gt_agent *a) {
    uint64_t height, now_s;
    if (atomic_load(&a->seals_open) <= 0) return 0;
    if (a->reveal_unknown || !a->reveal_by_s || gt_client_head(a->client, &height, &now_s, NULL)) return 1;
    return now_s + (claim_need_ms(a) + 999) / 1000 >= a->reveal_by_s;
}

/* An open task of one of my kinds: claim it if it is worth it and I can do it. */
static int maybe_claim(gt_agent *a, const json_t *summary, void *arg, int *acted, gt_err *err) {
    claim_pass *cp = arg;
    if (cp->claimed) return 0;
    uint8_t id[32];
    uint64_t bounty = 0;
    char h[16];
    if (gt_agent_json_hash(summary, "id", id, NULL) || gt_agent_json_units(summary, "bounty", &bounty, NULL)) return 0;
    if (bounty < a->price_units || ag_is_me(a, json_object_get(summary, "poster")) ||
        ag_is_me(a, json_object_get(summary, "verifier")) || ag_memo_find(a, id, UINT64_MAX, 0, MEMO_SKIP))
        return 0;
    json_t *task = NULL;
    gt_err e = {0};
    if (gt_client_task(a->client, id, &task, &e)) return 0;
    /* An open slot, and none held by me (one slot per worker per task). */
    size_t i;
    json_t *sl;
    int open = 0, mine = 0;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        const char *state = json_string_value(json_object_get(sl, "state"));
        if (state && !strcmp(state, "open")) open++;
        if (ag_is_me(a, json_object_get(sl, "worker"))) mine++;
    }
    const gt_skill *sk = ag_my_skill(a, json_string_value(json_object_get(task, "kind")));
    if (!open || mine || !sk) {
        json_decref(task);
        return 0;
    }
    /* Never claim a window it cannot meet: the submit window is seconds of
     * block time, which no traffic shortens; a poster who sets it too short
     * for this agent's measured speed gets no claim (and no stake). */
    json_int_t submit_s = json_integer_value(json_object_get(task, "submitSeconds"));
    uint64_t window_ms = submit_s > 0 && submit_s <= GT_MARKET_MAX_WINDOW_S ? (uint64_t)submit_s * 1000 : 0;
    uint64_t need_ms = claim_need_ms(a);
    if (window_ms < need_ms) {
        ag_memo_put(a, id, UINT64_MAX, 0, MEMO_SKIP, 0);
        gt_agent_logf(a, "skips task %s: its submit window is sure to last only %llu ms; this agent needs %llu ms "
                      "(twice its longest job, %llu ms, plus a margin)", ag_short_id(id, h),
                      (unsigned long long)window_ms, (unsigned long long)need_ms, (unsigned long long)a->job_ms_max);
        json_decref(task);
        return 0;
    }
    int rc = claim_fits(a, sk, task, &e);
    if (rc == GT_SKILL_LATER) { /* not yet (a held-out eval's block): asked again next pass, said once */
        if (!ag_memo_find(a, id, UINT64_MAX, 0, MEMO_WAIT)) {
            ag_memo_put(a, id, UINT64_MAX, 0, MEMO_WAIT, 0);
            gt_agent_logf(a, "waits to claim task %s: %s", ag_short_id(id, h), e.msg);
        }
        json_decref(task);
        return 0;
    }
    if (rc) {
        ag_memo_put(a, id, UINT64_MAX, 0, MEMO_SKIP, 0);
        gt_agent_logf(a, "skips task %s: %s", ag_short_id(id, h), e.msg);
        json_decref(task);
        return 0;
    }
    slot_args s = {id, 0, NULL, NULL, 0, 0};
    if (gt_agent_act(a, &gt_kind_task_claim, ag_fill_slot, &s, NULL, &e)) {
        ag_memo_put(a, id, UINT64_MAX, 0, MEMO_SKIP, 0);
        gt_agent_logf(a, "could not claim task %s: %s", ag_short_id(id, h), e.msg);
        json_decref(task);
        return 0;
    }
    json_decref(task);
    cp->claimed = 1;
    (*acted)++;
    ag_count(a, &a->stats.claimed);
    gt_agent_logf(a, "claimed task %s (%s, bounty %s, stake %s locked)", ag_short_id(id, h),
                  json_string_value(json_object_get(summary, "kind")), ag_tokens(summary, "bounty", (char[GT_AMOUNT_STR_MAX]){0}),
                  ag_tokens(summary, "stake", (char[GT_AMOUNT_STR_MAX]){0}));
    /* Work at once: the claim's submit window is running. */
    if ((rc = gt_client_task(a->client, id, &task, &e))) return 0;
    worker_pass wp = {0};
    worker_task(a, task, &wp, acted, err);
    json_decref(task);
    return 0;
}

int ag_worker_step(gt_agent *a, int *acted, gt_err *err) {
    char q[160];
    worker_pass wp = {0};
    int rc = 0;
    for (int k = 0; k < 2 && !rc; k++) {
        snprintf(q, sizeof q, "worker=%s&status=%s", a->addr_s, k ? "expired" : "open");
        rc = ag_each_task(a, q, 1, worker_task, &wp, acted, err);
    }
    if (rc || wp.in_flight) return rc;
    if (!(atomic_load(&a->roles) & GT_ROLE_WORKER)) return 0;
    gt_agent_stats st;
    gt_agent_stats_get(a, &st);
    if (a->max_tasks && st.submitted >= a->max_tasks) return 0;
    int held = reveal_at_risk(a);
    if (held && !a->claim_held)
        gt_agent_logf(a, "claims nothing until its sealed votes are revealed: a job of up to %llu ms could run past "
                      "the reveal", (unsigned long long)claim_need_ms(a));
    a->claim_held = held;
    if (held) return 0;
    claim_pass cp = {0};
    for (int i = 0; i < a->n_skills && !rc && !cp.claimed; i++) {
        snprintf(q, sizeof q, "status=open&kind=%s", a->skill_tab[i]->name);
        rc = ag_each_task(a, q, 0, maybe_claim, &cp, acted, err);
    }
    return rc;
}
