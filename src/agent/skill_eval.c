/* skill_eval.c: the `eval` skill (see skill_eval.h): attesting a benchmark
 * run as an eval task's submission, and checking and co-signing other
 * evaluators' attestations as their verifier, as a validator, or as a voter
 * in a dispute. Benchmarks are the built-in ones only: a spec from the
 * network must never make an agent open a path on its own disk. A drawn
 * (held-out) built-in's items are drawn from the draw seed of the block
 * `delay` after the one that posted the task (bench.h): an agent neither
 * claims, runs nor checks one before that block is on its node's ledger. */
#include "agent/skill_eval.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/progress.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "work/eval/check.h"
#include "work/work.h"

/* Tokens an eval item's re-execution is costed at when its bench generates
 * fewer (a scored item: its prompt and choices evaluated). */
#define GT_AGENT_EVAL_ITEM_TOKENS 16

/* The spec of an eval task, from the job's parsed spec (strict). */
static int eval_spec(const gt_job *job, gt_work_eval_spec *s, gt_err *err) {
    char *text = json_dumps(job->spec, JSON_COMPACT);
    if (!text) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = gt_work_eval_spec_parse(text, strlen(text), s, err);
    free(text);
    return rc;
}

/* The block whose draw seed draws drawn bench b's items for the job's
 * task (its posted height + the draw's delay) into *h, and the head's
 * height into *head. */
static int draw_block(gt_agent *a, const gt_job *job, const gt_bench *b, uint64_t *h, uint64_t *head, gt_err *err) {
    json_t *ph = job->task ? json_object_get(job->task, "postedHeight") : NULL;
    if (!json_is_integer(ph) || json_integer_value(ph) < 0)
        return gt_err_set(err, GT_EINVAL, "the task has no postedHeight: cannot tell which block draws %s's items",
                          b->name);
    *h = (uint64_t)json_integer_value(ph) + b->draw_delay;
    return gt_client_head_height(gt_agent_client(a), head, err);
}

/* GT_SKILL_LATER, err saying that drawn bench `name`'s block h is not yet
 * on the ledger (whose head is head). */
static int draw_later(const char *name, uint64_t h, uint64_t head, gt_err *err) {
    gt_err_set(err, GT_EINVAL, "%s's held-out items are drawn from block %" PRIu64 "'s seed; the head is block "
               "%" PRIu64, name, h, head);
    return GT_SKILL_LATER;
}

/* The draw seed of the block that draws drawn bench b's items for the job,
 * from the node's block view; GT_SKILL_LATER (err saying why) while that
 * block is not on the ledger: nobody knew the items when the task (and its
 * model) was posted, and nobody may run them before they are drawn. */
static int draw_seed(gt_agent *a, const gt_job *job, const gt_bench *b, uint8_t seed[32], gt_err *err) {
    uint64_t h = 0, head = 0;
    int rc = draw_block(a, job, b, &h, &head, err);
    if (rc) return rc;
    if (head < h) return draw_later(b->name, h, head, err);
    return gt_client_block_seed(gt_agent_client(a), h, seed, err);
}

/* Replaces drawn bench *b (its spec alone) with its draw for the job. */
static int open_draw(gt_agent *a, const gt_job *job, gt_bench **b, gt_err *err) {
    uint8_t seed[32];
    gt_bench *d = NULL;
    int rc = draw_seed(a, job, *b, seed, err);
    if (!rc) rc = gt_bench_draw(*b, seed, &d, err);
    gt_bench_free(*b);
    *b = d;
    return rc;
}

/* Opens the spec's benchmark: a built-in of that name whose bytes hash to
 * the spec's benchHash; a drawn one drawn for the job when draw is 1 (else
 * its spec alone). Caller frees *b with gt_bench_free. */
static int open_bench(gt_agent *a, const gt_job *job, const gt_work_eval_spec *s, int draw, gt_bench **b,
                      gt_err *err) {
    *b = NULL;
    int builtin = 0;
    for (int i = 0; gt_bench_builtins[i]; i++) builtin |= !strcmp(gt_bench_builtins[i], s->bench);
    if (!builtin)
        return gt_err_set(err, GT_EUNSUPPORTED, "bench \"%s\" is not a built-in benchmark of this build", s->bench);
    int rc = gt_bench_open(s->bench, b, err);
    if (rc) return rc;
    if (memcmp((*b)->hash, s->bench_hash, 32)) {
        gt_bench_free(*b);
        *b = NULL;
        return gt_err_set(err, GT_EUNSUPPORTED, "this build's %s has another hash than the task's benchHash", s->bench);
    }
    return draw && (*b)->drawn ? open_draw(a, job, b, err) : 0;
}

/* 0 when the job's bench is no drawn one or its draw's block is on the
 * ledger; GT_SKILL_LATER (err saying why) while it is not. */
static int draw_ready(gt_agent *a, const gt_job *job, gt_err *err) {
    gt_work_eval_spec s;
    gt_bench *b = NULL;
    uint64_t h = 0, head = 0;
    int rc = eval_spec(job, &s, err);
    if (rc || !gt_bench_builtin_drawn(s.bench)) return rc;
    if (!(rc = open_bench(a, job, &s, 0, &b, err))) rc = draw_block(a, job, b, &h, &head, err);
    if (!rc && head < h) rc = draw_later(s.bench, h, head, err);
    gt_bench_free(b);
    return rc;
}

static int eval_fits(gt_agent *a, const gt_job *job, gt_err *err) {
    gt_work_eval_spec s;
    gt_bench *b = NULL;
    int rc = eval_spec(job, &s, err);
    if (rc) return rc;
    const gt_agent_model *m = gt_agent_get_model(a);
    if (!m) return gt_err_set(err, GT_EUNSUPPORTED, "this agent runs no model");
    if (memcmp(s.model, gt_agent_model_hash(m), 32))
        return gt_err_set(err, GT_EUNSUPPORTED, "the task evaluates another model than this agent runs (%.20s…)",
                          gt_agent_model_id(m));
    rc = open_bench(a, job, &s, 0, &b, err);
    /* The ledger takes an attestation only for a spec it can rebuild from
     * the attestation (attest.c): the canonical JSON, with a limit of 0 or
     * at most the bench's items. Refuse others before staking on them. */
    if (!rc && s.limit > gt_bench_items(b))
        rc = gt_err_set(err, GT_EUNSUPPORTED, "spec.limit %" PRIu64 " is over %s's %zu items", s.limit, s.bench,
                        gt_bench_items(b));
    gt_bench_free(b);
    char *canon = rc ? NULL : gt_work_eval_spec_json(&s), want[72];
    uint8_t h[32];
    if (!rc && !canon) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) {
        gt_sha256(canon, strlen(canon), h);
        gt_blob_id_format(h, want);
        if (strcmp(want, job->spec_id))
            rc = gt_err_set(err, GT_EUNSUPPORTED, "the task's spec is not the canonical eval spec JSON; an attestation "
                            "of it would be refused");
    }
    free(canon);
    return rc;
}

/* Whether a worker claims the eval task: only when its spec's check is at
 * least the floor min(items, GT_WORK_EVAL_CHECK_FLOOR). The ledger refuses
 * the attestation of a spec under it from format 10 (work/eval/attest.c),
 * so the claimant's stake would be lost at the submit deadline; the agent
 * skips such a task on any ledger (`gotong task post` does not post one).
 * A drawn bench's task not before its draw's block (GT_SKILL_LATER: asked
 * again next pass), so no stake waits on a block nobody can hurry. */
/* A prompt to time the model with (ag_token_probe) before an eval claim. */
static const char eval_probe_prompt[] = "Question: what is 12 + 30?\nAnswer:";

/* 0 when twice the run of every item of the spec's bench (each the longer of
 * its max_tokens, at least GT_AGENT_EVAL_ITEM_TOKENS, at a token's time and
 * the longest an item has taken this agent) plus GT_AGENT_SUBMIT_MARGIN_MS
 * fits the task's submit window; else EUNSUPPORTED saying why. The claim
 * policy's window (twice the longest job so far) knows nothing of the
 * bench's size: 200 items of a worked solution each in a window that fits
 * the agent's earlier small jobs took the stake of the worker that claimed
 * them. */
static int eval_window_fits(gt_agent *a, const gt_job *job, const gt_work_eval_spec *s, gt_err *err) {
    gt_bench *b = NULL;
    int rc = ag_token_probe(a, eval_probe_prompt, sizeof eval_probe_prompt - 1, 8, err);
    if (!rc) rc = open_bench(a, job, s, 0, &b, err);
    if (rc) return rc;
    uint64_t items = s->limit ? s->limit : (uint64_t)gt_bench_items(b), per = (uint64_t)b->max_tokens;
    gt_bench_free(b);
    if (per < GT_AGENT_EVAL_ITEM_TOKENS) per = GT_AGENT_EVAL_ITEM_TOKENS;
    uint64_t item_us = per * ag_token_us(a) > a->eval_item_us ? per * ag_token_us(a) : a->eval_item_us;
    json_int_t submit_s = json_integer_value(json_object_get(job->task, "submitSeconds"));
    double est_ms = (double)items * (double)item_us / 1000.0, need_ms = 2 * est_ms + GT_AGENT_SUBMIT_MARGIN_MS;
    if (submit_s > 0 && need_ms <= (double)submit_s * 1000.0) return 0;
    return gt_err_set(err, GT_EUNSUPPORTED, "running its %" PRIu64 " items of %s would take about %.0f ms at this "
                      "agent's measured speed (%" PRIu64 " us an item); twice that plus a margin, %.0f ms, is more "
                      "than its submit window of %lld s", items, s->bench, est_ms, item_us, need_ms,
                      (long long)submit_s);
}

static int eval_claimable(gt_agent *a, const gt_job *job, gt_err *err) {
    gt_work_eval_spec s;
    int rc = eval_spec(job, &s, err);
    if (!rc && !gt_work_eval_spec_floor_ok(&s, NULL)) {
        rc = draw_ready(a, job, err);
        return rc ? rc : eval_window_fits(a, job, &s, err);
    }
    if (rc) return rc;
    const gt_bench_ref *reg = gt_bench_registry_find(s.bench);
    uint64_t items = s.limit ? s.limit : reg ? reg->items : 0;
    return gt_err_set(err, GT_EUNSUPPORTED,
                      "its spec has each judge re-execute check %" PRIu64 " of %" PRIu64 " items, below the floor "
                      "min(items,%d)=%" PRIu64 ": the ledger refuses such an attestation (format 10), and the "
                      "claim's stake would be lost", s.check, items, GT_WORK_EVAL_CHECK_FLOOR,
                      gt_work_eval_check_floor(items));
}

/* Notes that n eval items run or checked from t0 (gt_now_s) on took their
 * mean each: the eval estimate's measure where no token was timed (the
 * work layer's in-process model calls are not). */
static void items_took(gt_agent *a, double t0, uint64_t n) {
    double us = (gt_now_s() - t0) * 1e6 / (double)(n ? n : 1);
    if (us > (double)a->eval_item_us) a->eval_item_us = (uint64_t)us;
}

/* Runs the benchmark: results appended to out, the attestation in att. */
static int run_eval(gt_agent *a, const gt_job *job, gt_buf *out, gt_work_attestation *att, gt_err *err) {
    gt_work_eval_spec s;
    gt_bench *b = NULL;
    gt_llm *llm = NULL;
    int rc = eval_fits(a, job, err);
    if (!rc) rc = eval_spec(job, &s, err);
    if (!rc) rc = open_bench(a, job, &s, 1, &b, err);
    if (!rc && !(llm = gt_agent_llm(a, err))) rc = err && err->code ? err->code : GT_ENOMEM;
    double t0 = gt_now_s();
    if (!rc && !(rc = gt_work_eval_attest(&s, b, llm, out, att, err))) items_took(a, t0, att->items);
    gt_bench_free(b);
    return rc;
}

/* The results file: what a re-run must reproduce (the default dispute rule). */
static int eval_work(gt_agent *a, const gt_job *job, gt_buf *out, gt_err *err) {
    gt_work_attestation att;
    return run_eval(a, job, out, &att, err);
}

typedef struct attest_args {
    const uint8_t *task;
    uint64_t slot;
    const gt_work_attestation *att;
} attest_args;

static int fill_attest(void *arg, gt_action *act, gt_err *err) {
    const attest_args *x = arg;
    gt_work_attest_fill(act, x->task, x->slot, x->att);
    return 0;
}

static int eval_submit(gt_agent *a, const gt_job *job, char rid[72], size_t *len, gt_err *err) {
    gt_buf out = GT_BUF_INIT;
    gt_work_attestation att;
    int rc = run_eval(a, job, &out, &att, err);
    uint64_t honest = att.score_ppm;
    if (!rc && (gt_agent_faults(a) & GT_FAULT_FORGE_SCORE)) att.score_ppm = GT_WORK_SCORE_PPM_MAX;
    if (!rc) rc = gt_client_blob_put(gt_agent_client(a), out.data ? out.data : (const uint8_t *)"", out.len, rid, err);
    attest_args x = {job->task_id, job->slot, &att};
    if (!rc) rc = gt_agent_act(a, &gt_kind_eval_attest, fill_attest, &x, NULL, err);
    if (!rc) {
        *len = out.len;
        gt_agent_logf(a, "ran %s on %" PRIu64 " items: score %.1f%%; attested %.1f%%%s", att.bench, att.items,
                      honest / 1e4, att.score_ppm / 1e4,
                      att.score_ppm != honest ? " [forged: more than its own results show]" : "");
    }
    gt_buf_free(&out);
    return rc;
}

/* ---- finding and checking an attestation ---- */

/* 1 when the action JSON is the eval_attest of (task, slot) with `result`. */
static int is_the_attestation(const json_t *act, const uint8_t task[32], uint64_t slot, const uint8_t result[32]) {
    const char *type = json_string_value(json_object_get(act, "type"));
    uint8_t t[32], r[32];
    uint64_t s;
    return type && !strcmp(type, "eval_attest") && !gt_agent_json_hash(act, "task", t, NULL) && !memcmp(t, task, 32) &&
           !gt_json_get_u64(act, "slot", &s, NULL) && s == slot && !gt_agent_json_hash(act, "results", r, NULL) &&
           !memcmp(r, result, 32);
}

/* The attestation that submitted the slot's current result: its id and its
 * action JSON (*view: caller json_decref's). Reads blocks from the slot's
 * claim height on; the find is remembered per (task, slot, attempt). */
static int find_attestation(gt_agent *a, const uint8_t task[32], const json_t *sl, uint8_t id[32], json_t **view,
                            gt_err *err) {
    *view = NULL;
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    uint8_t result[32];
    char path[96], idhex[67];
    int rc = gt_agent_json_hash(sl, "result", result, err);
    if (rc) return rc;
    gt_agent_memo *m = ag_memo_find(a, task, slot, attempt, MEMO_ATTEST);
    int found = m != NULL;
    if (found) memcpy(id, m->ref, 32);
    json_t *ch = json_object_get(sl, "claimedHeight");
    uint64_t from = json_is_integer(ch) ? (uint64_t)json_integer_value(ch) : 0, head = 0;
    if (!found && (rc = gt_client_head_height(gt_agent_client(a), &head, err))) return rc;
    for (uint64_t h = from; !found && h <= head && h < from + GT_AGENT_ATTEST_SCAN_BLOCKS; h++) {
        json_t *blk = NULL;
        snprintf(path, sizeof path, "/v1/blocks/%" PRIu64, h);
        if ((rc = gt_client_get_json(gt_agent_client(a), path, &blk, err))) return rc;
        size_t i;
        json_t *act;
        json_array_foreach(json_object_get(blk, "actions"), i, act) {
            if (is_the_attestation(act, task, slot, result) && !gt_agent_json_hash(act, "id", id, NULL)) {
                found = 1;
                break;
            }
        }
        json_decref(blk);
    }
    if (!found)
        return gt_err_set(err, GT_ENOTFOUND, "no eval_attest for slot %" PRIu64 " in blocks %" PRIu64 "..%" PRIu64, slot,
                          from, head);
    memcpy(ag_memo_put(a, task, slot, attempt, MEMO_ATTEST, 0)->ref, id, 32);
    idhex[0] = '0', idhex[1] = 'x';
    gt_hex_encode(id, 32, idhex + 2);
    snprintf(path, sizeof path, "/v1/actions/%s", idhex);
    return gt_client_get_json(gt_agent_client(a), path, view, err);
}

/* A validator's check of the slot's attestation: *agree, the evidence blob
 * uploaded (evidence), the attestation id, items re-executed, and why. */
typedef struct check_out {
    uint8_t att[32], evidence[32];
    int agree;
    uint64_t checked;
    char why[GT_ERR_MSG_MAX];
    uint64_t score_ppm;
} check_out;

static int check_slot(gt_agent *a, const gt_job *job, const json_t *sl, const uint8_t *results, size_t len,
                      check_out *co, gt_err *err) {
    gt_work_eval_spec s;
    gt_work_attestation att;
    gt_work_check chk;
    gt_bench *b = NULL;
    json_t *view = NULL;
    gt_buf ev = GT_BUF_INIT;
    gt_llm *llm = NULL;
    char eid[72];
    memset(co, 0, sizeof *co);
    int rc = eval_spec(job, &s, err);
    if (!rc) rc = find_attestation(a, job->task_id, sl, co->att, &view, err);
    if (!rc) rc = gt_work_attestation_from_json(view, &att, err);
    if (!rc) rc = open_bench(a, job, &s, 1, &b, err);
    if (!rc && !(llm = gt_agent_llm(a, err))) rc = err && err->code ? err->code : GT_ENOMEM;
    /* Which items to re-execute: chosen now, after the results were
     * committed, from a seed the attester cannot compute. */
    double t0 = gt_now_s();
    if (!rc &&
        !(rc = gt_work_eval_check(&s, b, llm, &att, results, len, gt_agent_secret_seed(a, co->att), &chk, &ev, err)))
        items_took(a, t0, chk.items_checked);
    if (!rc) rc = gt_client_blob_put(gt_agent_client(a), ev.data, ev.len, eid, err);
    if (!rc) rc = gt_blob_id_parse(eid, co->evidence, err);
    if (!rc) {
        co->agree = chk.agree;
        co->checked = chk.items_checked ? chk.items_checked : 1;
        co->score_ppm = att.score_ppm;
        snprintf(co->why, sizeof co->why, "%s", chk.agree ? "" : chk.why);
    }
    gt_buf_free(&ev);
    gt_bench_free(b);
    json_decref(view);
    return rc;
}

typedef struct cosign_args {
    const check_out *co;
} cosign_args;

static int fill_cosign(void *arg, gt_action *act, gt_err *err) {
    const check_out *co = ((const cosign_args *)arg)->co;
    gt_work_cosign_fill(act, co->att, co->checked, co->agree, co->evidence);
    return 0;
}

/* Checks and sends eval_cosign; remembers what it said for a later vote. */
static int cosign(gt_agent *a, const gt_job *job, const json_t *sl, const uint8_t *results, size_t len,
                  gt_skill_verdict *v, gt_err *err) {
    check_out co;
    int rc = check_slot(a, job, sl, results, len, &co, err);
    if (rc) return rc;
    cosign_args x = {&co};
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    rc = gt_agent_act(a, &gt_kind_eval_cosign, fill_cosign, &x, NULL, err);
    if (rc == GT_EEXIST || !rc) {
        ag_memo_put(a, job->task_id, job->slot, attempt, MEMO_COSIGNED, 0)->value = co.agree;
    }
    if (rc) return rc;
    ag_count(a, &a->stats.cosigns);
    v->accept = co.agree;
    v->score = (int)(co.score_ppm / 10000);
    if (co.agree)
        snprintf(v->reason, sizeof v->reason, "co-signed AGREE: root and score recomputed, %" PRIu64
                 " random item%s re-executed, each matched byte for byte", co.checked, co.checked == 1 ? "" : "s");
    else
        snprintf(v->reason, sizeof v->reason, "co-signed DISAGREE: %.400s", co.why);
    return 0;
}

/* The task's verifier: its co-sign is the verdict. */
static int eval_judge(gt_agent *a, const gt_job *job, const uint8_t result_id[32], const uint8_t *result, size_t len,
                      gt_skill_verdict *v, gt_err *err) {
    const json_t *sl = ag_job_slot(job);
    if (!sl) return gt_err_set(err, GT_EINVAL, "task has no slot %" PRIu64, job->slot);
    return cosign(a, job, sl, result, len, v, err);
}

/* A dispute: a validator who has not co-signed yet co-signs (that is its
 * vote); one who already did votes what it found then, without re-running. */
static int eval_vote(gt_agent *a, const gt_job *job, const uint8_t result_id[32], const uint8_t *result, size_t len,
                     gt_skill_verdict *v, gt_err *err) {
    const json_t *sl = ag_job_slot(job);
    if (!sl) return gt_err_set(err, GT_EINVAL, "task has no slot %" PRIu64, job->slot);
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    gt_agent_memo *m = ag_memo_find(a, job->task_id, job->slot, attempt, MEMO_COSIGNED);
    if (!m) {
        int rc = cosign(a, job, sl, result, len, v, err);
        if (rc != GT_EEXIST) return rc;
        m = ag_memo_find(a, job->task_id, job->slot, attempt, MEMO_COSIGNED);
        if (!m) return rc;
    }
    v->accept = m->value;
    snprintf(v->reason, sizeof v->reason, "had co-signed it before the dispute (%s)", m->value ? "agree" : "disagree");
    slot_args s = {job->task_id, job->slot, result_id, NULL, m->value, 0};
    return gt_agent_act(a, &gt_kind_dispute_vote, ag_fill_slot, &s, NULL, err);
}

int ag_eval_cosign_slot(gt_agent *a, const json_t *task, const json_t *sl, int *acted) {
    const char *state = json_string_value(json_object_get(sl, "state"));
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    uint8_t id[32], result[32];
    if (!state || gt_agent_json_hash(task, "id", id, NULL) || gt_agent_json_hash(sl, "result", result, NULL)) return 0;
    /* Submitted or judged, not under dispute (the vote path has those). */
    if (strcmp(state, "submitted") && strcmp(state, "accepted") && strcmp(state, "rejected") && strcmp(state, "paid"))
        return 0;
    if (ag_is_me(a, json_object_get(sl, "worker")) || ag_is_me(a, json_object_get(task, "poster")) ||
        ag_is_me(a, json_object_get(task, "verifier")))
        return 0;
    if (ag_memo_find(a, id, slot, attempt, MEMO_COSIGNED) || ag_memo_find(a, id, slot, attempt, MEMO_CHECK)) return 0;
    /* Its check re-executes items on the thread that reveals: not while it
     * could run past a reveal of this agent's sealed votes (asked again next pass). */
    if (ag_rerun_held(a, task, sl)) return 0;
    gt_job job;
    json_t *spec = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char rid[72], h[16];
    gt_err e = {0};
    gt_skill_verdict v = {0};
    gt_blob_id_format(result, rid);
    int rc = ag_load_job(a, task, slot, &job, &spec, &e);
    if (!rc && draw_ready(a, &job, &e) == GT_SKILL_LATER) { /* a held-out draw not drawn yet: next pass */
        json_decref(spec);
        return 0;
    }
    ag_memo_put(a, id, slot, attempt, MEMO_CHECK, 0); /* one try per attempt, whatever happens */
    if (!rc) rc = eval_fits(a, &job, &e);
    if (!rc) rc = gt_client_blob_get(gt_agent_client(a), rid, GT_WORK_RESULTS_MAX_BYTES < GT_AGENT_RESULT_MAX_BYTES
                                                                ? GT_WORK_RESULTS_MAX_BYTES
                                                                : GT_AGENT_RESULT_MAX_BYTES,
                                     &bytes, &len, &e);
    double t0 = gt_now_s();
    if (!rc) rc = cosign(a, &job, sl, bytes, len, &v, &e);
    ag_rerun_took(a, t0); /* the guard's measure */
    gt_free(bytes);
    json_decref(spec);
    if (rc == GT_EEXIST) return 0;
    if (rc) {
        ag_action_failed(a, "co-sign", id, slot, &e);
        return 0;
    }
    (*acted)++;
    gt_agent_logf(a, "attestation on task %s slot %" PRIu64 ": %s", ag_short_id(id, h), slot, v.reason);
    return 0;
}

/* The verdict of a sealed vote from a co-sign's content (agree, items). */
static void sealed_reason(gt_skill_verdict *v, int agree, uint64_t checked, const char *why) {
    v->accept = agree;
    if (agree)
        snprintf(v->reason, sizeof v->reason, "checked AGREE (sealed): root and score recomputed, %" PRIu64
                 " random item%s re-executed, each matched byte for byte", checked, checked == 1 ? "" : "s");
    else
        snprintf(v->reason, sizeof v->reason, "checked DISAGREE (sealed): %.400s", why);
}

int ag_eval_seal_verdict(gt_agent *a, const json_t *task, const json_t *sl, gt_skill_verdict *v, gt_err *err) {
    uint64_t slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
    uint64_t attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    uint8_t id[32], result[32];
    int rc = gt_agent_json_hash(task, "id", id, err);
    if (!rc) rc = gt_agent_json_hash(sl, "result", result, err);
    if (rc) return rc;
    gt_agent_memo *m = ag_memo_find(a, id, slot, attempt, MEMO_COSIGNED);
    if (m) { /* on the ledger already: the reveal is a plain vote_reveal */
        v->accept = m->value;
        snprintf(v->reason, sizeof v->reason, "had co-signed it before (%s)", m->value ? "agree" : "disagree");
        return 0;
    }
    if ((m = ag_memo_find(a, id, slot, attempt, MEMO_SEALED))) { /* checked for an earlier round of this attempt */
        sealed_reason(v, m->value & 1, (uint64_t)(m->value >> 1), "as found in the earlier round");
        return 0;
    }
    gt_job job;
    json_t *spec = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char rid[72];
    check_out co;
    gt_blob_id_format(result, rid);
    rc = ag_load_job(a, task, slot, &job, &spec, err);
    if (!rc) rc = eval_fits(a, &job, err);
    if (!rc) rc = gt_client_blob_get(gt_agent_client(a), rid, GT_WORK_RESULTS_MAX_BYTES < GT_AGENT_RESULT_MAX_BYTES
                                                                ? GT_WORK_RESULTS_MAX_BYTES
                                                                : GT_AGENT_RESULT_MAX_BYTES,
                                     &bytes, &len, err);
    if (!rc) rc = check_slot(a, &job, sl, bytes, len, &co, err);
    gt_free(bytes);
    json_decref(spec);
    if (rc) return rc;
    m = ag_memo_put(a, id, slot, attempt, MEMO_SEALED, 0);
    m->value = (int)(co.checked << 1) | (co.agree ? 1 : 0); /* checked <= GT_WORK_ATTEST_MAX_ITEMS */
    memcpy(m->ref, co.evidence, 32);
    sealed_reason(v, co.agree, co.checked, co.why);
    return 0;
}

/* The fields of eval_reveal. */
typedef struct reveal_args {
    const uint8_t *att, *evidence, *salt;
    uint64_t checked;
    int agree;
} reveal_args;

static int fill_reveal(void *arg, gt_action *act, gt_err *err) {
    const reveal_args *x = arg;
    (void)err;
    gt_work_cosign_fill(act, x->att, x->checked, x->agree, x->evidence);
    gt_action_set_b32(act, "voteSalt", x->salt);
    return 0;
}

int ag_eval_reveal(gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, int accept,
                   const uint8_t salt[32], gt_err *err) {
    gt_agent_memo *ms = ag_memo_find(a, task, slot, attempt, MEMO_SEALED);
    gt_agent_memo *ma = ag_memo_find(a, task, slot, attempt, MEMO_ATTEST);
    if (!ms || !ma || (ms->value & 1) != accept || ag_memo_find(a, task, slot, attempt, MEMO_COSIGNED))
        return GT_ENOTFOUND;
    reveal_args x = {ma->ref, ms->ref, salt, (uint64_t)(ms->value >> 1), accept};
    int rc = gt_agent_act(a, &gt_kind_eval_reveal, fill_reveal, &x, NULL, err);
    if (!rc) {
        ag_memo_put(a, task, slot, attempt, MEMO_COSIGNED, 0)->value = accept; /* on the ledger now */
        ag_count(a, &a->stats.cosigns);
    }
    return rc;
}

/* Milliseconds a check of an attestation of the job takes at most at this
 * agent's measured speeds: min(check, items) items re-executed, each the
 * longer of the bench's max_tokens (at least GT_AGENT_EVAL_ITEM_TOKENS: a
 * scored item's prompt and choices) at its per-token time (ag_token_us)
 * and the longest an eval item has taken it (eval_item_us); 0 before it has
 * timed either, or for a spec or bench it cannot open. */
static uint64_t eval_rerun_ms(gt_agent *a, const gt_job *job) {
    gt_work_eval_spec s;
    gt_bench *b = NULL;
    gt_err e = {0};
    uint64_t tok_us = ag_token_us(a);
    if ((!tok_us && !a->eval_item_us) || eval_spec(job, &s, &e) || open_bench(a, job, &s, 0, &b, &e)) return 0;
    uint64_t items = s.limit ? s.limit : (uint64_t)gt_bench_items(b), per = (uint64_t)b->max_tokens;
    uint64_t k = s.check < items ? s.check : items;
    gt_bench_free(b);
    if (per < GT_AGENT_EVAL_ITEM_TOKENS) per = GT_AGENT_EVAL_ITEM_TOKENS;
    uint64_t item_us = per * tok_us > a->eval_item_us ? per * tok_us : a->eval_item_us;
    return k * item_us / 1000 + 1;
}

const gt_skill gt_skill_eval = {
    .rerun_ms = eval_rerun_ms,
    .name = "eval",
    .fits = eval_fits,
    .claimable = eval_claimable,
    .work = eval_work,
    .submit = eval_submit,
    .judge = eval_judge,
    .vote = eval_vote,
};
