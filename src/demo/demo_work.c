/* demo_work.c: the rounds of `gotong demo` where agents do the work the
 * market exists for: a synthetic-data job and a model evaluation.
 *
 * Data job. ayu posts a job of 8 samples in 2 batches (one task slot each)
 * whose template draws a topic per sample from a list of 4, generated
 * greedily (temp 0): a repeated topic gives a repeated sample, which the
 * validation pipeline's exact dedup rejects. So the outcome does not depend
 * on what the model says (with the random-weight default model nothing it
 * says is language), only on the job's seed: batch 0 has 3 of 4 samples
 * accepted, batch 1 only 1 of 4, the rest being repeats of earlier topics.
 * ana and citra generate a batch each, eko (skill validate, the task's
 * named verifier) judges every sample and gives a per-sample verdict; the
 * accepted samples' share of the bounty is paid, the rejected ones' share of
 * the stake slashed to ayu; each worker checks its batch itself and, finding
 * the same repeats, concedes instead of disputing. ayu then re-validates the
 * batches, exports the accepted samples to HOME/datasets/ and records the
 * dataset's Merkle root on the ledger; the summary checks the exported
 * files against that root. A second job of ayu's, one batch of 4 samples
 * whose topics do not repeat, is verified by a quorum of the validators'
 * drawn panel (val-1, val-2, val-3 re-run samples and vote on the whole
 * batch): ana generates it, the panel accepts, ayu publishes it. Only that
 * dataset may enter the funding round (fund/fund_round.c, format 10: a
 * dataset stands on a drawn, bonded panel's verdicts, not on an evaluator
 * its poster named, as eko is).
 *
 * Evaluation. ayu posts an eval task (the demo model on the built-in
 * logic-v1, or worker-arith-v1 with the worker model: its questions in its
 * own format, judged by the arith checker; 8 items, 15 with the worker
 * model, each judge re-executing all of them: the check floor
 * min(items, GT_WORK_EVAL_CHECK_FLOOR) below which the leaderboard ranks no
 * score) verified by a quorum: the panel drawn
 * from the staked validators (val-1, val-2, val-3) when fajar claims it.
 * fajar attests its run; each validator re-executes items and co-signs (on
 * a quorum task the co-sign is its bonded panel vote: from ledger format 11
 * committed sealed first and sent with the reveal, eval_reveal), so the evaluation
 * stands on a panel's verdict, which a funding round requires
 * (fund/fund_round.c). Then gita, who forges a perfect score over honest
 * results, takes a second such task, verified by val-1 for a fee: val-1's
 * check recomputes the score from gita's own lines and disagrees (rejected);
 * gita's re-run reproduces its results, so it disputes; val-2 and val-3
 * vote against it, sealed, with what their checks found (from ledger format
 * 12 they hold their co-signs while the slot can still be disputed, so
 * their co-signs come with the reveals, eval_reveal; before it they
 * co-signed in the clear first); gita loses stake and bond, the slot
 * reopens and fajar does it honestly (val-2 and val-3 co-sign it once val-1
 * accepted it). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/skill_generate.h"
#include "base/amount.h"
#include "base/hex.h"
#include "base/progress.h"
#include "demo/demo_int.h"
#include "crypto/addr.h"
#include "market/market.h"
#include "work/data/batch.h"
#include "work/data/export.h"
#include "work/eval/check.h"
#include "work/work.h"

#define DEMO_DATA_FEE_UNITS 200000ull  /* 0.2 to the data validator per batch */
#define DEMO_EVAL_BOUNTY_UNITS 2000000ull
#define DEMO_EVAL_STAKE_UNITS 1000000ull
#define DEMO_EVAL_FEE_UNITS 200000ull
#define DEMO_EVAL_BENCH "logic-v1"
/* With the worker model: + - * up to 3 digits, asked as it was trained,
 * 15 items. The forged round needs an honest score under 100 %: the worker
 * model (sha256 1c6db47c..., as 231b2f7e... and 43f6aacf... before it) gets the first 14 right and misses item 14 (a
 * 3-digit product: 329*317 written as 104193; 43f6aacf... wrote 104393); a model that gets all 15
 * right needs more items here. */
#define DEMO_EVAL_WORKER_BENCH "worker-arith-v1"
#define DEMO_EVAL_WORKER_LIMIT 15
#define DEMO_EVAL_LIMIT 8
#define DEMO_STATS_WAIT_S 120

/* Slot `slot` is held (or was submitted) by addr. */
typedef struct slot_by {
    uint64_t slot;
    const gt_addr *addr;
} slot_by;

static int pred_slot_claimed_by(const json_t *t, const void *arg) {
    const slot_by *x = arg;
    const json_t *sl = json_array_get(json_object_get(t, "slotList"), x->slot);
    const char *st = json_string_value(json_object_get(sl, "state"));
    const char *w = json_string_value(json_object_get(sl, "worker"));
    gt_addr a;
    return st && strcmp(st, "open") && w && !gt_addr_parse(w, &a, NULL) && gt_addr_eq(&a, x->addr);
}

/* The slot x->slot has a verdict (or is settled). */
static int pred_slot_judged(const json_t *t, const void *arg) {
    const slot_by *x = arg;
    const json_t *sl = json_array_get(json_object_get(t, "slotList"), x->slot);
    const char *st = json_string_value(json_object_get(sl, "state"));
    return st && strcmp(st, "open") && strcmp(st, "claimed") && strcmp(st, "submitted");
}

/* Waits until an agent's counter (read with get) reaches want. */
static int wait_stat(gt_agent *a, uint64_t (*get)(const gt_agent_stats *), uint64_t want, const char *what,
                     gt_err *err) {
    for (double until = gt_now_s() + DEMO_STATS_WAIT_S; gt_now_s() < until;) {
        gt_agent_stats st;
        gt_agent_stats_get(a, &st);
        if (get(&st) >= want) return 0;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return gt_err_set(err, GT_ESTATE, "%s: %s did not get there in %d s", what, gt_agent_name(a), DEMO_STATS_WAIT_S);
}

static uint64_t st_published(const gt_agent_stats *s) { return s->datasets_published; }
static uint64_t st_cosigns(const gt_agent_stats *s) { return s->cosigns; }

/* The job spec of round r named demo-`what`-r<r> (its name makes each
 * round's job a new one), `samples` samples in batches of 4 whose topics
 * the seed draws. With the recipe's worker model the four topics are
 * questions of its task families, asked as it was trained ("Q: ...\nA: "),
 * and a sample is its worked solution; the repeats, and so the outcome, are
 * the same. */
static char *data_spec(const demo *d, int r, const char *what, int seed, int samples) {
    json_t *topics =
        d->worker_model
            ? json_pack("[s,s,s,s]", "What is 436 - 481?", "Sort these numbers in ascending order: 392, 61.",
                        "Let A = true, B = false. Is (A xor not B) true or false?", "Reverse the string \"harbor\".")
            : json_pack("[s,s,s,s]", "rice terraces", "a ferry crossing", "the monsoon", "a night market");
    const char *tmpl = d->worker_model ? "Q: {topic}\nA: " : "Write one line about {topic}.\n";
    char name[32];
    snprintf(name, sizeof name, "demo-%s-r%d", what, r);
    json_t *o = json_pack("{s:i,s:s,s:s,s:{s:o},s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:{s:i,s:f},s:{s:b,s:f}}", "version", 1,
                          "name", name, "template", tmpl, "variables", "topic", topics, "seed", seed, "samples",
                          samples, "batch", 4, "reward", "0.5", "stake", "0.25", "license", "cc-by-4.0", "model",
                          d->model_id, "generation", "max_tokens",
                          d->worker_model ? DEMO_WORKER_N_PREDICT : 16, "temp", 0.0, "pipeline", "near_dedup", 0,
                          "spot_check", 0.5);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

/* The terms of a data job's generate task from its spec text (slots,
 * bounty, stake and batch sizes as the job sets them, the demo's
 * validator fee); the caller names the verifier or the quorum. */
static int spec_task_terms(const char *spec, const char *what, gt_task_terms *t, gt_err *err) {
    gt_job_spec js;
    gt_work_terms terms;
    if (gt_job_spec_parse(spec, strlen(spec), &js, err)) return gt_err_wrap(err, what);
    int rc = gt_work_job_terms(&js, &terms, err);
    gt_job_spec_free(&js);
    if (rc) return gt_err_wrap(err, what);
    *t = (gt_task_terms){.kind = GT_WORK_KIND_GENERATE, .slots = terms.slots, .bounty_units = terms.bounty_units,
                         .stake_units = terms.stake_units, .fee_units = DEMO_DATA_FEE_UNITS,
                         .batch_items = terms.batch_items, .last_batch_items = terms.last_batch_items};
    return 0;
}

/* The seed of the panel's job: its one batch draws the four topics once
 * each (seed 7 repeats one in each batch), so every sample is new. */
#define DEMO_PANEL_JOB_SEED 20

/* Posts one of ayu's data jobs (data_spec's seed and samples; verified by
 * `verifier`, or by a quorum of 2 of the drawn panel when it is NULL) with
 * ana on line to claim the first batch: the task id into id, terms into *t
 * and ayu's counters before it into *before (to wait for the publication). */
static int post_data_job(demo *d, int r, const char *what, int seed, int samples, const gt_addr *verifier,
                         gt_task_terms *t, uint8_t id[32], gt_agent_stats *before, gt_err *err) {
    char *spec = data_spec(d, r, what, seed, samples);
    if (!spec) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = spec_task_terms(spec, "the demo's data job spec", t, err);
    if (verifier) t->verifier = *verifier;
    else t->quorum = 2;
    gt_agent_stats_get(d->ag[P_AYU], before);
    if (!rc) {
        demo_online(d, P_ANA, 1);
        rc = gt_agent_post(d->ag[P_AYU], t, spec, strlen(spec), id, err);
        if (rc) gt_err_wrap(err, "ayu posting the %s data job", what);
    }
    free(spec);
    return rc;
}

/* A second data job of ayu's, one batch of 4 samples without repeats,
 * verified by a quorum of the validators' drawn panel (val-1, val-2, val-3
 * each re-run samples and vote on the whole batch): ana generates it, the
 * panel accepts, ayu publishes. Only a dataset whose batches a drawn,
 * bonded panel accepted may enter a funding round (fund/fund_round.c,
 * format 10); eko's per-sample verdicts are the evaluator ayu named. */
static int panel_data_job(demo *d, int r, gt_err *err) {
    demo_say("   a second job, one batch of 4 new samples, verified by a quorum of the validators' drawn panel\n"
             "   (a dataset enters a funding round only on a panel's verdict): ana generates it");
    gt_task_terms t;
    uint8_t id[32];
    gt_agent_stats before;
    int rc = post_data_job(d, r, "panel", DEMO_PANEL_JOB_SEED, 4, NULL, &t, id, &before, err);
    if (rc) return rc;
    demo_say("  %6.1fs  ayu    posted data job task 0x%02x%02x%02x%02x… (1 batch, verified by a quorum of the "
             "validators' drawn panel)", demo_elapsed(), id[0], id[1], id[2], id[3]);
    slot_by s0 = {0, gt_agent_address(d->ag[P_ANA])};
    if ((rc = demo_wait_task(d->dir, id, pred_slot_claimed_by, &s0, "panel job: ana claims its batch", err))) return rc;
    demo_online(d, P_ANA, 0);
    if ((rc = demo_wait_task(d->dir, id, demo_pred_complete, NULL, "panel job: its batch settled", err)) ||
        (rc = wait_stat(d->ag[P_AYU], st_published, before.datasets_published + 1, "panel job: dataset published",
                        err)))
        return rc;
    return 0;
}

int demo_data_round(demo *d, int r, gt_err *err) {
    demo_say("\n== round %d.5: a data job: two workers generate, a validator judges every sample ==", r);
    demo_say("   8 samples in 2 batches; each picks one of 4 topics and is generated greedily, so a repeated\n"
             "   topic is a repeated sample: dedup rejects those, whatever the model says. On line: ana for\n"
             "   batch 0, then (once it is judged) citra for batch 1; eko validates for 0.2 a batch; ayu\n"
             "   publishes the dataset");
    gt_task_terms t;
    uint8_t id[32];
    gt_agent_stats before;
    int rc = post_data_job(d, r, "notes", 7, 8, gt_agent_address(d->ag[P_EKO]), &t, id, &before, err);
    if (rc) return rc;
    char a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX];
    demo_say("  %6.1fs  ayu    posted data job task 0x%02x%02x%02x%02x… (%" PRIu64 " batches, bounty %s and stake %s a "
             "batch, verified by eko)", demo_elapsed(), id[0], id[1], id[2], id[3], t.slots,
             gt_amount_format(t.bounty_units, a1), gt_amount_format(t.stake_units, a2));
    slot_by s0 = {0, gt_agent_address(d->ag[P_ANA])}, s1 = {1, gt_agent_address(d->ag[P_CITRA])};
    if ((rc = demo_wait_task(d->dir, id, pred_slot_claimed_by, &s0, "data round: ana claims batch 0", err))) return rc;
    demo_online(d, P_ANA, 0);
    /* Batches are judged as they arrive, each against those judged before:
     * citra comes on line once batch 0 is judged, so the story (and the
     * figures the demo's test checks) do not depend on who is faster. */
    if ((rc = demo_wait_task(d->dir, id, pred_slot_judged, &s0, "data round: batch 0 judged", err))) return rc;
    demo_online(d, P_CITRA, 1);
    if ((rc = demo_wait_task(d->dir, id, pred_slot_claimed_by, &s1, "data round: citra claims batch 1", err))) return rc;
    demo_online(d, P_CITRA, 0);
    if ((rc = demo_wait_task(d->dir, id, demo_pred_complete, NULL, "data round: both batches settled", err)) ||
        (rc = wait_stat(d->ag[P_AYU], st_published, before.datasets_published + 1, "data round: dataset published", err)))
        return rc;
    return panel_data_job(d, r, err);
}

/* Posts an eval task of the demo model from ayu, verified by val-1 for a
 * fee, or (quorum) by a quorum of the drawn panel of validators. */
static int post_eval(demo *d, int quorum, const char *who_for, uint8_t id[32], gt_err *err) {
    int limit = d->worker_model ? DEMO_EVAL_WORKER_LIMIT : DEMO_EVAL_LIMIT;
    gt_work_eval_spec s = {.limit = (uint64_t)limit, .check = gt_work_eval_check_floor((uint64_t)limit)};
    gt_bench *b = NULL;
    const char *bench = d->worker_model ? DEMO_EVAL_WORKER_BENCH : DEMO_EVAL_BENCH;
    int rc = gt_bench_open(bench, &b, err);
    if (rc) return rc;
    memcpy(s.model, d->model_hash, 32);
    memcpy(s.bench_hash, b->hash, 32);
    snprintf(s.bench, sizeof s.bench, "%s", bench);
    gt_bench_free(b);
    char *spec = gt_work_eval_spec_json(&s);
    if (!spec) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_task_terms t = {.kind = GT_WORK_KIND_EVAL, .slots = 1, .bounty_units = DEMO_EVAL_BOUNTY_UNITS,
                       .stake_units = DEMO_EVAL_STAKE_UNITS, .fee_units = DEMO_EVAL_FEE_UNITS};
    if (quorum) t.quorum = 2; /* the three validators sit; a side decides past two thirds: all three */
    else t.verifier = *gt_agent_address(d->ag[P_V1]);
    rc = gt_agent_post(d->ag[P_AYU], &t, spec, strlen(spec), id, err);
    free(spec);
    if (rc) return gt_err_wrap(err, "ayu posting an eval task");
    demo_say("  %6.1fs  ayu    posted eval task 0x%02x%02x%02x%02x… (%s, %d items, %d re-executed per check; bounty 2, "
             "stake 1, verified by %s) %s", demo_elapsed(), id[0], id[1], id[2], id[3], bench, limit,
             (int)s.check, quorum ? "a quorum of the validators' drawn panel" : "val-1", who_for);
    return 0;
}

int demo_eval_round(demo *d, int r, gt_err *err) {
    uint8_t id[32];
    int rc;
    /* Each validator co-signs three attestations a round: fajar's (its
     * sealed panel vote's reveal), gita's (from format 12 its sealed dispute
     * vote's reveal; before it a clear co-sign, before or during the
     * dispute) and fajar's redo of gita's slot (once accepted, from format
     * 12). */
    uint64_t want = 3 * (uint64_t)(r - 1);
    demo_say("\n== round %d.6: an evaluation: attested, re-executed by validators, co-signed ==", r);
    demo_say("   on line: fajar (model evaluator); val-1, val-2 and val-3, the task's drawn panel, re-execute items "
             "and co-sign: their votes");
    demo_online(d, P_FAJAR, 1);
    if ((rc = post_eval(d, 1, "for fajar", id, err)) ||
        (rc = demo_wait_task(d->dir, id, demo_pred_complete, NULL, "eval round: fajar's attestation", err)))
        return rc;
    demo_online(d, P_FAJAR, 0);
    if ((rc = wait_stat(d->ag[P_V2], st_cosigns, want + 1, "eval round: val-2 co-signs", err)) ||
        (rc = wait_stat(d->ag[P_V3], st_cosigns, want + 1, "eval round: val-3 co-signs", err)))
        return rc;

    demo_say("\n== round %d.7: a forged score: caught, disputed, slashed ==", r);
    demo_say("   on line: gita (attests a perfect score over its honest results); later fajar");
    demo_online(d, P_GITA, 1);
    if ((rc = post_eval(d, 0, "for gita", id, err)) ||
        (rc = demo_wait_task(d->dir, id, demo_pred_submitted_by, gt_agent_address(d->ag[P_GITA]),
                             "forged round: gita attests", err)))
        return rc;
    demo_online(d, P_GITA, 0);
    if ((rc = demo_wait_task(d->dir, id, demo_pred_reopened, NULL, "forged round: dispute decided", err))) return rc;
    demo_say("   the slot is open again: fajar comes on line");
    demo_online(d, P_FAJAR, 1);
    if ((rc = demo_wait_task(d->dir, id, demo_pred_complete, NULL, "forged round: redone by fajar", err))) return rc;
    demo_online(d, P_FAJAR, 0);
    if ((rc = wait_stat(d->ag[P_V2], st_cosigns, want + 3, "forged round: val-2 co-signs", err)) ||
        (rc = wait_stat(d->ag[P_V3], st_cosigns, want + 3, "forged round: val-3 co-signs", err)))
        return rc;
    return 0;
}

/* ---- what the summary says about them ---- */

/* floor(v x num / den): the market's pro rata share (market/partial.c). */
static uint64_t share(uint64_t v, uint64_t num, uint64_t den) {
    return den ? (uint64_t)((unsigned __int128)v * num / den) : 0;
}

/* The samples slot i of a data task holds (its batchItems, lastBatchItems
 * for the last when set; 1 for a task posted without them): what a
 * whole-slot verdict, a quorum's, accepts. */
static uint64_t whole_slot_units(const json_t *task, size_t i) {
    size_t last = json_array_size(json_object_get(task, "slotList")) - 1;
    uint64_t n = i == last ? (uint64_t)json_integer_value(json_object_get(task, "lastBatchItems")) : 0;
    if (!n) n = (uint64_t)json_integer_value(json_object_get(task, "batchItems"));
    return n ? n : 1;
}

/* One data job: its batches' verdicts, what they paid and slashed, and its
 * dataset checked against the root on the ledger. Adds to the totals. */
static json_t *data_job(sqlite3 *db, const char *home, const json_t *task, uint64_t tot[4], int *ok, FILE *f,
                        gt_err *err) {
    uint8_t job[32];
    uint64_t bounty = 0, stake = 0, acc = 0, rej = 0, paid = 0, slashed = 0;
    /* The task comes from the market's reader (not the API): token decimals. */
    if (gt_agent_json_hash(task, "spec", job, err) ||
        gt_amount_parse(json_string_value(json_object_get(task, "bounty")), &bounty, err) ||
        gt_amount_parse(json_string_value(json_object_get(task, "stake")), &stake, err))
        return NULL;
    json_t *batches = json_array();
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        /* A per-sample verdict's counts, or a quorum's whole-slot acceptance. */
        const json_t *u = json_object_get(sl, "units");
        uint64_t t = u ? (uint64_t)json_integer_value(json_object_get(u, "total"))
                       : json_is_true(json_object_get(sl, "accept")) ? whole_slot_units(task, i) : 0;
        uint64_t a = gt_agent_slot_paid(sl, t);
        acc += a, rej += t - a;
        uint64_t p = share(bounty, a, t), s = share(stake, t - a, t);
        paid += p, slashed += s;
        json_array_append_new(batches, json_pack("{s:O,s:O,s:O,s:I,s:I,s:o,s:o}", "slot", json_object_get(sl, "slot"),
                                                 "worker", json_object_get(sl, "worker"), "state",
                                                 json_object_get(sl, "state"), "accepted", (json_int_t)a, "total",
                                                 (json_int_t)t, "paid", demo_json_tokens(p), "slashed", demo_json_tokens(s)));
    }
    tot[0] += acc, tot[1] += rej, tot[2] += paid, tot[3] += slashed;
    /* The dataset: the root on the ledger, and the exported files rehashed. */
    char dir[4200], root_hex[67] = "", exported_hex[67] = "";
    char dsdir[4200];
    snprintf(dsdir, sizeof dsdir, "%s/datasets", home);
    gt_agent_dataset_dir(dsdir, job, dir, sizeof dir);
    gt_err e = {0};
    json_t *pub = gt_work_dataset_get(db, job, &e), *ds;
    uint8_t root[32], exported[32];
    size_t rows = 0;
    if (!pub) {
        ds = json_pack("{s:b,s:s}", "published", 0, "message", e.msg);
        *ok = 0;
    } else {
        snprintf(root_hex, sizeof root_hex, "%s", json_string_value(json_object_get(pub, "root")));
        uint8_t manifest[32];
        int have_root = !gt_agent_json_hash(pub, "root", root, &e) &&
                        !gt_agent_json_hash(pub, "manifest", manifest, &e); /* provenance.json's sha256 */
        int verified = have_root && !gt_dataset_verify(dir, root, manifest, exported, &rows, &e);
        json_int_t claimed = json_integer_value(json_object_get(pub, "rows"));
        if (verified && (json_int_t)rows != claimed) /* the root commits to the count; the ledger's claim must too */
            verified = 0, snprintf(e.msg, sizeof e.msg, "the export has %zu rows; the ledger records %lld", rows,
                                   (long long)claimed);
        if (verified) {
            exported_hex[0] = '0', exported_hex[1] = 'x';
            gt_hex_encode(exported, 32, exported_hex + 2);
        }
        ds = json_pack("{s:b,s:s,s:O,s:s,s:I,s:s,s:b,s:s}", "published", 1, "root", root_hex, "rows",
                       json_object_get(pub, "rows"), "exportedRoot", exported_hex, "exportedRows", (json_int_t)rows,
                       "dir", dir, "matches", verified, "message", verified ? "" : e.msg);
        if (!verified) *ok = 0;
    }
    json_decref(pub);
    if (f) {
        char a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX];
        fprintf(f, "data job        task %.10s…: %" PRIu64 " samples accepted, %" PRIu64 " rejected; paid %s, slashed %s\n",
                json_string_value(json_object_get(task, "id")), acc, rej, gt_amount_format(paid, a1),
                gt_amount_format(slashed, a2));
        if (root_hex[0])
            fprintf(f, "  dataset       %s: %zu rows; root on the ledger %.18s…, recomputed from the files %s\n", dir,
                    rows, root_hex, exported_hex[0] ? "MATCHES" : "DOES NOT MATCH");
        else
            fprintf(f, "  dataset       NOT PUBLISHED: %s\n", e.msg);
    }
    json_t *o = json_pack("{s:O,s:s,s:o,s:I,s:I,s:o,s:o,s:o}", "task", json_object_get(task, "id"), "job",
                          json_string_value(json_object_get(task, "spec")), "batches", batches, "samplesAccepted",
                          (json_int_t)acc, "samplesRejected", (json_int_t)rej, "paid", demo_json_tokens(paid), "slashed",
                          demo_json_tokens(slashed), "dataset", ds);
    return o;
}

/* The demo name of an address string, or the string. */
static const char *who(const demo_report *r, const char *addr) {
    gt_addr a;
    if (!addr || gt_addr_parse(addr, &a, NULL)) return addr ? addr : "?";
    for (int i = 0; i < r->n_parties; i++)
        if (gt_addr_eq(&a, &r->parties[i].addr)) return r->parties[i].name;
    return addr;
}

/* Adds "attesterName" to every entry. */
static void name_attesters(const demo_report *r, json_t *entries) {
    size_t i;
    json_t *t;
    json_array_foreach(entries, i, t) {
        json_object_set_new(t, "attesterName", json_string(who(r, json_string_value(json_object_get(t, "attester")))));
    }
}

/* The evaluations as people read them: every attestation (all), then the
 * leaderboard proper (board), attesters named. */
static void print_evals(FILE *f, const json_t *all, const json_t *board, uint64_t n_acc, uint64_t n_rej,
                        uint64_t n_other) {
    size_t i;
    const json_t *t;
    fprintf(f, "evaluations     %" PRIu64 " attestations: %" PRIu64 " accepted, %" PRIu64 " rejected, %" PRIu64
               " other\n", n_acc + n_rej + n_other, n_acc, n_rej, n_other);
    json_array_foreach(json_object_get(all, "entries"), i, t) {
        const json_t *c = json_object_get(t, "cosigns");
        fprintf(f, "  by %-6s %s %5.1f%% on %lld items: %s; co-signs %lld agree, %lld disagree (%lld items checked)\n",
                json_string_value(json_object_get(t, "attesterName")), json_string_value(json_object_get(t, "bench")),
                (double)json_integer_value(json_object_get(t, "scorePpm")) / 1e4,
                (long long)json_integer_value(json_object_get(t, "items")),
                json_string_value(json_object_get(t, "status")),
                (long long)json_integer_value(json_object_get(c, "agreed")),
                (long long)json_integer_value(json_object_get(c, "disagreed")),
                (long long)json_integer_value(json_object_get(c, "itemsChecked")));
    }
    fprintf(f, "leaderboard     models ranked by the scores drawn, bonded judges accepted (rank -: listed, no bonded "
               "verifier accepted it or its check is under min(items,%d); rejected attestations left out):\n",
            GT_WORK_EVAL_CHECK_FLOOR);
    fprintf(f, "  %-4s %-10s %-26s %7s %6s  %-8s %s\n", "rank", "bench", "model", "score", "items", "attester",
            "co-signs agreeing (items re-executed)");
    json_array_foreach(json_object_get(board, "entries"), i, t) {
        const json_t *c = json_object_get(t, "cosigns");
        char rank[24] = "-";
        if (json_is_integer(json_object_get(t, "rank")))
            snprintf(rank, sizeof rank, "%lld", (long long)json_integer_value(json_object_get(t, "rank")));
        fprintf(f, "  %-4s %-10s %-.24s… %6.1f%% %6lld  %-8s %lld (%lld)\n", rank,
                json_string_value(json_object_get(t, "bench")), json_string_value(json_object_get(t, "model")),
                (double)json_integer_value(json_object_get(t, "scorePpm")) / 1e4,
                (long long)json_integer_value(json_object_get(t, "items")),
                json_string_value(json_object_get(t, "attesterName")),
                (long long)json_integer_value(json_object_get(c, "agreed")),
                (long long)json_integer_value(json_object_get(c, "itemsChecked")));
    }
}

int demo_work_summary(sqlite3 *db, const demo_report *r, FILE *f, json_t **out, int *ok, gt_err *err) {
    const char *home = r->home;
    *out = NULL;
    gt_market_task_filter flt = {.status = -1, .kind = GT_WORK_KIND_GENERATE};
    json_t *page = gt_market_tasks_list(db, &flt, 0, GT_MARKET_PAGE_MAX, err);
    if (!page) return err->code;
    json_t *jobs = json_array();
    uint64_t tot[4] = {0};
    size_t i;
    json_t *t;
    int rc = 0;
    if (f) fprintf(f, "\n");
    json_array_foreach(json_object_get(page, "tasks"), i, t) {
        uint8_t id[32];
        json_t *full = NULL, *j = NULL;
        if ((rc = gt_agent_json_hash(t, "id", id, err)) || !(full = gt_market_task_get(db, id, err)) ||
            !(j = data_job(db, home, full, tot, ok, f, err))) {
            json_decref(full);
            rc = rc ? rc : err->code ? err->code : GT_EINVAL;
            break;
        }
        json_array_append_new(jobs, j);
        json_decref(full);
    }
    json_decref(page);
    /* Every attestation (rejected ones too), and the leaderboard proper:
     * each (bench, model) once, by its best-standing attestation. */
    json_t *all = rc ? NULL : gt_work_leaderboard(db, NULL, 1, err);
    json_t *board = all ? gt_work_leaderboard(db, NULL, 0, err) : NULL;
    if (!board) {
        json_decref(all);
        json_decref(jobs);
        return rc ? rc : err->code;
    }
    name_attesters(r, json_object_get(all, "entries"));
    name_attesters(r, json_object_get(board, "entries"));
    uint64_t n_acc = 0, n_rej = 0, n_other = 0;
    json_array_foreach(json_object_get(all, "entries"), i, t) {
        const char *st = json_string_value(json_object_get(t, "status"));
        if (st && !strcmp(st, "accepted")) n_acc++;
        else if (st && !strcmp(st, "rejected")) n_rej++;
        else n_other++;
    }
    if (f) print_evals(f, all, board, n_acc, n_rej, n_other);
    *out = json_pack("{s:{s:o,s:I,s:I,s:o,s:o},s:{s:I,s:I,s:I,s:O,s:O}}", "data", "jobs", jobs, "samplesAccepted",
                     (json_int_t)tot[0], "samplesRejected", (json_int_t)tot[1], "paid", demo_json_tokens(tot[2]), "slashed",
                     demo_json_tokens(tot[3]), "eval", "total", (json_int_t)(n_acc + n_rej + n_other), "accepted",
                     (json_int_t)n_acc, "rejected", (json_int_t)n_rej, "attestations",
                     json_object_get(all, "entries"), "leaderboard", json_object_get(board, "entries"));
    json_decref(all);
    json_decref(board);
    return *out ? 0 : gt_err_set(err, GT_ENOMEM, "out of memory");
}
