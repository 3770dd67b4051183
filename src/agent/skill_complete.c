/* skill_complete.c: the `complete` skill (see skill_complete.h): greedy
 * completions, re-execution as the check, and subcontracting part of a spec
 * that is bigger than the agent wants to handle. */
#include "agent/skill_complete.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_impl.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/hex.h"
#include "base/json.h"
#include "infer/unicode.h"
#include "store/blob.h"

/* The spec, checked (skill_complete.h); cs points into it. */
int gt_complete_spec_parse(const json_t *spec, gt_complete_job *cs, gt_err *err) {
    /* sameResults (bool): the poster allows identical results in several
     * slots (agent_verify.c refuses a copy of another slot's otherwise). */
    static const char *const allowed[] = {"model", "prompts", "n_predict", "sameResults", NULL};
    uint64_t np;
    int rc;
    if ((rc = gt_json_only_fields(spec, allowed, "spec", err)) ||
        (rc = gt_json_get_str(spec, "model", 71, &cs->model, err)) || (rc = gt_json_get_u64(spec, "n_predict", &np, err)))
        return rc;
    json_t *same = json_object_get(spec, "sameResults");
    if (same && !json_is_boolean(same)) return gt_err_set(err, GT_EINVAL, "spec.sameResults: expected true or false");
    if (np > GT_AGENT_MAX_PREDICT)
        return gt_err_set(err, GT_ELIMIT, "spec.n_predict must be 0..%d, got %llu", GT_AGENT_MAX_PREDICT,
                          (unsigned long long)np);
    cs->n_predict = (int)np;
    cs->prompts = json_object_get(spec, "prompts");
    size_t n = json_array_size(cs->prompts);
    if (!json_is_array(cs->prompts) || n < 1 || n > GT_AGENT_MAX_PROMPTS)
        return gt_err_set(err, GT_EINVAL, "spec.prompts: expected an array of 1 to %d strings", GT_AGENT_MAX_PROMPTS);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(cs->prompts, i);
        if (!json_is_string(p) || json_string_length(p) > GT_AGENT_PROMPT_MAX_BYTES)
            return gt_err_set(err, GT_EINVAL, "spec.prompts[%zu]: expected a string of at most %d bytes", i,
                              GT_AGENT_PROMPT_MAX_BYTES);
    }
    cs->n_prompts = (int)n;
    return 0;
}

char *gt_complete_spec(const char *model_id, const char *const *prompts, int n_prompts, int n_predict) {
    json_t *arr = json_array();
    for (int i = 0; i < n_prompts; i++) json_array_append_new(arr, json_string(prompts[i]));
    json_t *o = json_pack("{s:s,s:o,s:i}", "model", model_id, "prompts", arr, "n_predict", n_predict);
    char *s = o ? gt_json_dump(o) : NULL;
    json_decref(o);
    return s;
}

/* One output object for prompt p. */
static int run_prompt(gt_agent *a, const char *p, int n_predict, json_t **out, gt_err *err) {
    gt_buf toks = GT_BUF_INIT, text = GT_BUF_INIT, clean = GT_BUF_INIT;
    int rc = gt_agent_complete(a, p, strlen(p), n_predict, &toks, &text, err);
    if (!rc && gt_utf8_sanitize(text.data ? text.data : (const uint8_t *)"", text.len, &clean))
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) {
        json_t *ids = json_array();
        const int32_t *t = (const int32_t *)toks.data;
        for (size_t i = 0; i < toks.len / sizeof(int32_t); i++) json_array_append_new(ids, json_integer(t[i]));
        *out = json_pack("{s:s,s:s%,s:o}", "prompt", p, "text", clean.data ? (const char *)clean.data : "", clean.len,
                         "tokens", ids);
        if (!*out) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    gt_buf_free(&toks);
    gt_buf_free(&text);
    gt_buf_free(&clean);
    return rc;
}

/* Runs prompts [from, to) into outputs. */
static int run_prompts(gt_agent *a, const gt_complete_job *cs, int from, int to, json_t *outputs, gt_err *err) {
    for (int i = from; i < to; i++) {
        if (gt_agent_stopping(a)) return gt_err_set(err, GT_ESTATE, "stopping");
        json_t *o;
        int rc = run_prompt(a, json_string_value(json_array_get(cs->prompts, (size_t)i)), cs->n_predict, &o, err);
        if (rc) return rc;
        json_array_append_new(outputs, o);
    }
    return 0;
}

/* The canonical result bytes. */
static int result_bytes(const char *model, json_t *outputs, json_t *cites, gt_buf *out, gt_err *err) {
    json_t *o = json_pack("{s:s,s:O}", "model", model, "outputs", outputs);
    if (o && cites && json_array_size(cites)) json_object_set(o, "cites", cites);
    char *s = o ? gt_json_dump(o) : NULL;
    json_decref(o);
    if (!s) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = gt_buf_append_str(out, s);
    free(s);
    return rc ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
}

static int complete_fits(gt_agent *a, const gt_job *job, gt_err *err) {
    gt_complete_job cs;
    int rc = gt_complete_spec_parse(job->spec, &cs, err);
    if (rc) return rc;
    const gt_agent_model *m = gt_agent_get_model(a);
    if (!m) return gt_err_set(err, GT_EUNSUPPORTED, "this agent runs no model");
    if (strcmp(cs.model, gt_agent_model_id(m)))
        return gt_err_set(err, GT_EUNSUPPORTED, "the spec asks for model %.20s…, this agent runs %.20s…", cs.model,
                          gt_agent_model_id(m));
    return 0;
}

static void sleep_ms(uint64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int complete_verify(gt_agent *a, const gt_job *job, const uint8_t *result, size_t len, gt_skill_verdict *v,
                           gt_err *err);

uint64_t gt_complete_sub_units(uint64_t units, uint64_t part, uint64_t whole) {
    assert(part > 0 && part <= whole);
    uint64_t share = (uint64_t)((unsigned __int128)units * part / whole); /* <= units: no overflow */
    return share ? share : 1;
}

/* Posts prompts [from, n) as a sub-task of job's task, waits for its result,
 * verifies it by re-execution and appends its outputs; cite gets the
 * sub-result's id. When the sub-task fails (rejected, nobody came) the
 * agent does those prompts itself and cite stays empty. */
static int subcontract(gt_agent *a, const gt_job *job, const gt_complete_job *cs, int from, json_t *outputs,
                       json_t *cites, gt_err *err) {
    int n = cs->n_prompts, rest = n - from;
    const char **ps = gt_calloc((size_t)rest, sizeof *ps);
    if (!ps) return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (int i = 0; i < rest; i++) ps[i] = json_string_value(json_array_get(cs->prompts, (size_t)(from + i)));
    char *spec = gt_complete_spec(cs->model, ps, rest, cs->n_predict);
    gt_free(ps);
    if (!spec) return gt_err_set(err, GT_ENOMEM, "out of memory");
    uint64_t bounty = 0, stake = 0;
    gt_agent_json_units(job->task, "bounty", &bounty, NULL);
    gt_agent_json_units(job->task, "stake", &stake, NULL);
    gt_task_terms t = {.kind = "complete", .slots = 1};
    /* In proportion to the prompts handed on: the subcontractor keeps the rest. */
    t.bounty_units = gt_complete_sub_units(bounty, (uint64_t)rest, (uint64_t)n);
    t.stake_units = gt_complete_sub_units(stake, (uint64_t)rest, (uint64_t)n);
    memcpy(t.parent, job->task_id, 32);
    t.claim_s = 200, t.submit_s = 100, t.verify_s = 100;
    uint8_t sub[32];
    int rc = gt_agent_post(a, &t, spec, strlen(spec), sub, err);
    free(spec);
    if (rc) return gt_err_wrap(err, "posting the sub-task");
    gt_agent_count_subcontract(a);
    char amt[GT_AMOUNT_STR_MAX];
    gt_agent_logf(a, "spec has %d prompts, more than the %d it takes on: subcontracted prompts %d..%d as sub-task "
                     "0x%02x%02x%02x%02x… (bounty %s from its own wallet)",
                  n, from, from + 1, n, sub[0], sub[1], sub[2], sub[3], gt_amount_format(t.bounty_units, amt));
    /* Our own share first, while the sub-worker works. */
    if ((rc = run_prompts(a, cs, 0, from, outputs, err))) return rc;
    int have = 0;
    for (uint64_t waited = 0; waited < GT_AGENT_SUB_WAIT_MS && !gt_agent_stopping(a) && !have; waited += 100) {
        json_t *task = NULL;
        gt_err e = {0};
        if (gt_client_task(gt_agent_client(a), sub, &task, &e)) {
            sleep_ms(100);
            continue;
        }
        json_t *sl = json_array_get(json_object_get(task, "slotList"), 0);
        const char *state = json_string_value(json_object_get(sl, "state"));
        uint8_t rh[32];
        if (state && !strcmp(state, "submitted") && !gt_agent_json_hash(sl, "result", rh, &e)) {
            char rid[72];
            uint8_t *bytes = NULL;
            size_t len = 0;
            gt_skill_verdict v = {0};
            gt_job sj = {.slot = 0, .task = task};
            gt_blob_id_format(rh, rid);
            memcpy(sj.task_id, sub, 32);
            int ok = 0;
            if (gt_client_blob_get(gt_agent_client(a), rid, GT_AGENT_RESULT_MAX_BYTES, &bytes, &len, &e))
                gt_agent_logf(a, "cannot read its sub-task's result: %s", e.msg);
            /* The sub-task's spec is ours: verify against it. */
            json_t *myspec = json_pack("{s:s,s:o,s:i}", "model", cs->model, "prompts", json_array(), "n_predict",
                                       cs->n_predict);
            for (int i = from; i < n; i++)
                json_array_append(json_object_get(myspec, "prompts"), json_array_get(cs->prompts, (size_t)i));
            sj.spec = myspec;
            if (bytes && !complete_verify(a, &sj, bytes, len, &v, &e)) {
                ok = 1;
                if (gt_agent_send_verdict(a, sub, 0, rh, &v, &e))
                    gt_agent_logf(a, "verdict on its sub-task failed: %s", e.msg);
                else
                    gt_agent_logf(a, "%s the sub-task's result (re-ran it: %s)", v.accept ? "accepted" : "rejected",
                                  v.reason);
            }
            if (ok && v.accept) {
                json_t *r = NULL;
                if (!gt_json_parse((const char *)bytes, len, GT_AGENT_RESULT_MAX_BYTES, &r, &e)) {
                    size_t i;
                    json_t *o;
                    json_array_foreach(json_object_get(r, "outputs"), i, o) json_array_append(outputs, o);
                    json_array_append_new(cites, json_string(rid));
                    have = 1;
                }
                json_decref(r);
            }
            json_decref(myspec);
            gt_free(bytes);
            json_decref(task);
            if (!have) break; /* rejected: do it ourselves */
            continue;
        }
        json_decref(task);
        sleep_ms(100);
    }
    if (have) return 0;
    gt_agent_logf(a, "no acceptable sub-result: doing prompts %d..%d itself", from + 1, n);
    return run_prompts(a, cs, from, n, outputs, err);
}

static int complete_work(gt_agent *a, const gt_job *job, gt_buf *out, gt_err *err) {
    gt_complete_job cs;
    int rc = complete_fits(a, job, err);
    if (rc || (rc = gt_complete_spec_parse(job->spec, &cs, err))) return rc;
    json_t *outputs = json_array(), *cites = json_array();
    int max = gt_agent_max_prompts(a);
    int is_task = 0;
    for (int i = 0; i < 32; i++) is_task |= job->task_id[i];
    if (max > 0 && cs.n_prompts > max && is_task && job->task)
        rc = subcontract(a, job, &cs, max, outputs, cites, err);
    else
        rc = run_prompts(a, &cs, 0, cs.n_prompts, outputs, err);
    if (!rc) rc = result_bytes(cs.model, outputs, cites, out, err);
    json_decref(outputs);
    json_decref(cites);
    return rc;
}

/* Cites in one result at most (each costs the verifier a look-up). */
#define GT_COMPLETE_CITES_MAX 16
/* Sub-tasks of one worker under one task that a verifier looks through. */
#define GT_COMPLETE_SUBTASKS_MAX 100

/* Adds to results the ids ("sha256:<hex>") of the accepted or paid results
 * of sub-task tid. A node that cannot answer is an error (retried), never a
 * verdict. */
static int sub_results(gt_agent *a, const uint8_t tid[32], json_t *results, gt_err *err) {
    json_t *task = NULL;
    int rc = gt_client_task(gt_agent_client(a), tid, &task, err);
    if (rc) return rc;
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        const char *st = json_string_value(json_object_get(sl, "state"));
        uint8_t rh[32];
        char rid[72];
        if (!st || (strcmp(st, "accepted") && strcmp(st, "paid")) || gt_agent_json_hash(sl, "result", rh, NULL))
            continue;
        gt_blob_id_format(rh, rid);
        json_array_append_new(results, json_string(rid));
    }
    json_decref(task);
    return 0;
}

/* The paid results of the sub-tasks that the worker of job->slot posted
 * under job's task (GET /v1/tasks?parent=TASK&poster=WORKER): what it may
 * cite. Only the worker's own sub-tasks, so others posting sub-tasks under
 * the task cannot crowd them out. */
static int citable(gt_agent *a, const gt_job *job, json_t *results, gt_err *err) {
    const json_t *sl = json_array_get(json_object_get(job->task, "slotList"), job->slot);
    const char *worker = json_string_value(json_object_get(sl, "worker"));
    if (!worker || strlen(worker) != 42) return gt_err_set(err, GT_EINVAL, "slot %llu has no worker to cite for",
                                                          (unsigned long long)job->slot);
    char q[256], parent[67];
    parent[0] = '0', parent[1] = 'x';
    gt_hex_encode(job->task_id, 32, parent + 2);
    snprintf(q, sizeof q, "parent=%s&poster=%s&limit=%d", parent, worker, GT_COMPLETE_SUBTASKS_MAX);
    json_t *page = NULL;
    int rc = gt_client_tasks(gt_agent_client(a), q, &page, err);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(page, "tasks"), i, t) {
        uint8_t tid[32];
        if (!rc) rc = gt_agent_json_hash(t, "id", tid, err);
        if (!rc) rc = sub_results(a, tid, results, err);
    }
    json_decref(page);
    return rc;
}

/* Checks a result's cites: at most GT_COMPLETE_CITES_MAX blob ids, each the
 * accepted or paid result of a sub-task the worker posted under this task,
 * and on the node. *ok = 0 with v->reason set on a cite that fails; an error
 * reaching the node is returned (retried), never a verdict. */
static int cites_check(gt_agent *a, const gt_job *job, const json_t *cites, int *ok, gt_skill_verdict *v,
                       gt_err *err) {
    *ok = 0;
    size_t n = json_array_size(cites);
    if (cites && (!json_is_array(cites) || n > GT_COMPLETE_CITES_MAX)) {
        snprintf(v->reason, sizeof v->reason, "\"cites\" must be an array of at most %d blob ids",
                 GT_COMPLETE_CITES_MAX);
        return 0;
    }
    json_t *results = json_array();
    int rc = n ? citable(a, job, results, err) : 0;
    for (size_t i = 0; !rc && i < n; i++) {
        const char *c = json_string_value(json_array_get(cites, i));
        uint8_t h[32], *bytes = NULL;
        size_t len = 0, k, paid = 0;
        json_t *r;
        if (!c || gt_blob_id_parse(c, h, NULL)) {
            snprintf(v->reason, sizeof v->reason, "cites[%zu]: expected a blob id \"sha256:<64 hex>\"", i);
            goto out;
        }
        json_array_foreach(results, k, r) paid |= !strcmp(json_string_value(r), c);
        if (!paid) {
            snprintf(v->reason, sizeof v->reason, "cites[%zu] %.20s… is not the accepted or paid result of a "
                     "sub-task this worker posted under the task", i, c);
            goto out;
        }
        gt_err e = {0};
        rc = gt_client_blob_get(gt_agent_client(a), c, GT_AGENT_RESULT_MAX_BYTES, &bytes, &len, &e);
        gt_free(bytes);
        if (rc == GT_ENOTFOUND) {
            snprintf(v->reason, sizeof v->reason, "cites[%zu] %.20s… is not on the node", i, c);
            rc = 0;
            goto out;
        }
        if (rc) *err = e;
    }
    *ok = !rc;
out:
    json_decref(results);
    return rc;
}

/* Re-runs the spec and compares the canonical result with the submission. */
static int complete_verify(gt_agent *a, const gt_job *job, const uint8_t *result, size_t len, gt_skill_verdict *v,
                           gt_err *err) {
    gt_complete_job cs;
    int rc = complete_fits(a, job, err);
    if (rc || (rc = gt_complete_spec_parse(job->spec, &cs, err))) return rc;
    json_t *sub = NULL, *cites = NULL;
    v->accept = 0;
    v->score = 0;
    if (gt_json_parse((const char *)result, len, GT_AGENT_RESULT_MAX_BYTES, &sub, NULL) || !json_is_object(sub)) {
        json_decref(sub);
        snprintf(v->reason, sizeof v->reason, "the result is not a JSON object of a `complete` result");
        return 0;
    }
    cites = json_object_get(sub, "cites");
    int cites_ok = 0;
    if ((rc = cites_check(a, job, cites, &cites_ok, v, err)) || !cites_ok) {
        json_decref(sub);
        return rc;
    }
    json_t *outputs = json_array();
    gt_buf want = GT_BUF_INIT;
    if ((rc = run_prompts(a, &cs, 0, cs.n_prompts, outputs, err)) ||
        (rc = result_bytes(cs.model, outputs, cites, &want, err)))
        goto out;
    if (want.len == len && !memcmp(want.data, result, len)) {
        v->accept = 1;
        v->score = 100;
        snprintf(v->reason, sizeof v->reason, "re-ran %d prompt%s with model %.20s…: identical output", cs.n_prompts,
                 cs.n_prompts == 1 ? "" : "s", cs.model);
        goto out;
    }
    /* Say where it differs: the first prompt whose output is not ours. */
    json_t *got = json_object_get(sub, "outputs");
    int matched = 0;
    for (int k = 0; k < cs.n_prompts; k++) {
        char *x = gt_json_dump(json_array_get(outputs, (size_t)k));
        char *y = json_array_get(got, (size_t)k) ? gt_json_dump(json_array_get(got, (size_t)k)) : NULL;
        int same = x && y && !strcmp(x, y);
        free(x);
        free(y);
        if (!same) {
            const char *t = json_string_value(json_object_get(json_array_get(outputs, (size_t)k), "text"));
            snprintf(v->reason, sizeof v->reason, "re-ran prompt %d with model %.20s…: output differs (expected \"%.60s\")",
                     k + 1, cs.model, t ? t : "");
            break;
        }
        matched++;
    }
    if (matched == cs.n_prompts)
        snprintf(v->reason, sizeof v->reason, "outputs match but the result is not in canonical form");
    v->score = cs.n_prompts ? 100 * matched / cs.n_prompts : 0;
out:
    gt_buf_free(&want);
    json_decref(outputs);
    json_decref(sub);
    return rc;
}

/* Milliseconds a re-run of the job's prompts takes at most at this agent's
 * measured per-token time (ag_token_us, its prompt evaluations counted in):
 * every prompt generating its whole n_predict, as verify re-runs them all;
 * 0 before the agent has timed a token, or for a spec it cannot read. */
static uint64_t complete_rerun_ms(gt_agent *a, const gt_job *job) {
    gt_complete_job cs;
    gt_err e = {0};
    uint64_t tok_us = ag_token_us(a);
    if (!tok_us || gt_complete_spec_parse(job->spec, &cs, &e)) return 0;
    uint64_t tokens = (uint64_t)cs.n_prompts * (uint64_t)(cs.n_predict ? cs.n_predict : 1);
    return tokens * tok_us / 1000 + 1;
}

/* Times a short completion of the spec's first prompt (at most 8 tokens)
 * when this agent has timed no token yet (gt_agent_complete counts its
 * own time), so complete_claimable has a measure. */
static int complete_probe(gt_agent *a, const gt_complete_job *cs, gt_err *err) {
    if (ag_token_us(a) || !cs->n_predict) return 0;
    gt_buf toks = GT_BUF_INIT;
    const char *p = json_string_value(json_array_get(cs->prompts, 0));
    int rc = gt_agent_complete(a, p, strlen(p), cs->n_predict < 8 ? cs->n_predict : 8, &toks, NULL, err);
    gt_buf_free(&toks);
    return rc ? gt_err_wrap(err, "timing this agent's model before a claim") : 0;
}

/* Whether this agent would stake on the task: twice the time its own share
 * of the prompts takes at most (each prompt's bytes read, no token shorter
 * than a byte, within the context; n_predict tokens generated; the share is
 * max_prompts when it subcontracts the rest) plus GT_AGENT_SUBMIT_MARGIN_MS
 * must fit the submit window. The claim policy's window (twice the longest
 * job so far) knows nothing of this job's size: 64 prompts of 512 tokens in
 * a window that fits the agent's earlier one-prompt jobs took the stake of
 * the worker that claimed them. */
static int complete_claimable(gt_agent *a, const gt_job *job, gt_err *err) {
    gt_complete_job cs;
    int rc = gt_complete_spec_parse(job->spec, &cs, err);
    if (!rc) rc = complete_probe(a, &cs, err);
    if (rc) return rc;
    int max = gt_agent_max_prompts(a), own = max > 0 && cs.n_prompts > max ? max : cs.n_prompts;
    double us = 0;
    for (int i = 0; i < own; i++) {
        size_t read = json_string_length(json_array_get(cs.prompts, (size_t)i)) + 1;
        if (read > GT_AGENT_CTX_POSITIONS) read = GT_AGENT_CTX_POSITIONS;
        us += (double)read * (double)ag_prompt_us(a) + (double)cs.n_predict * (double)ag_token_us(a);
    }
    json_int_t submit_s = json_integer_value(json_object_get(job->task, "submitSeconds"));
    double est_ms = us / 1000.0, need_ms = 2 * est_ms + GT_AGENT_SUBMIT_MARGIN_MS;
    if (submit_s > 0 && need_ms <= (double)submit_s * 1000.0) return 0;
    return gt_err_set(err, GT_EUNSUPPORTED, "completing its %d prompts of up to %d tokens would take about %.0f ms "
                      "at this agent's measured speed (%llu us a token); twice that plus a margin, %.0f ms, is more "
                      "than its submit window of %lld s", own, cs.n_predict, est_ms,
                      (unsigned long long)ag_token_us(a), need_ms, (long long)submit_s);
}

const gt_skill gt_skill_complete = {.name = "complete",
                                    .claimable = complete_claimable,
                                    .fits = complete_fits,
                                    .work = complete_work,
                                    .verify = complete_verify,
                                    .rerun_ms = complete_rerun_ms};
