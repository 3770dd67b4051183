/* test_agent_work.c: the agent skills for data jobs and evaluations, against
 * a real node (`gotong node` in a child process) with the tiny fixture model:
 *  - refusals before any work: an eval spec naming a benchmark that is not
 *    built in (a path on the agent's disk), another model; a job for another
 *    model; the `validate` skill takes no tasks;
 *  - a data job of 2 batches: the per-sample verdicts (3 of 4, 1 of 4:
 *    repeated greedy prompts are duplicates of the batch judged first), pay
 *    and slash pro rata, workers conceding, the poster's dataset exported
 *    (re-validated in the order the batches were judged) and its root on
 *    the ledger equal to the files' root, its first dataset_publish refused
 *    on the way (fault_proxy.h) and sent again on a later pass;
 *  - a data job verified by a quorum: the panel member votes on the whole
 *    batch (sealed), the worker is paid, the dataset published;
 *  - a stuck slot holds nothing up: batch 1 submitted while batch 0 is
 *    claimed and never worked on is judged at once (it used to wait for
 *    batch 0, past its own verify deadline, and be paid unverified);
 *  - a voter's spot draw is fresh on every attempt of a slot (it was fixed
 *    per slot, so a prober learnt which samples a voter re-runs);
 *  - the poster's re-validation before publishing draws the samples it
 *    re-runs from its own secret (the draw was the slot number's, so a
 *    worker kept its made-up samples out of it and they were published);
 *  - an honest worker skips an eval task whose spec's check is under the
 *    floor (its attestation would be refused, format 10), saying why, and
 *    a data job naming no model (a validator of another model refused its
 *    honest batch whole);
 *  - evaluation: an honest attestation accepted by the verifier's co-sign and
 *    co-signed by a staked validator, who holds its clear co-sign while the
 *    slot is submitted (ledger format 12); a forged score rejected, disputed
 *    by its author and lost on the validator's vote (sealed: format 11);
 *    the leaderboard;
 *  - a quorum eval task from ledger format 11: the seated validators check
 *    the attestation and commit sealed votes (nothing public to copy), then
 *    reveal with eval_reveal, their co-signs recorded as the panel's votes;
 *  - a held-out eval (held-arith-v1): the worker waits, unclaimed, until the
 *    block whose seed draws the items (posted + 2) is on the ledger, then
 *    runs the items that seed draws; its verifier draws the same and agrees;
 *    the leaderboard ranks it under held-arith-v1, naming the block (drawBlock). */
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "agent_net.h"
#include "fault_proxy.h"
#include "agent/agent.h"
#include "agent/agent_impl.h"
#include "agent/skill_generate.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "store/blob.h"
#include "market/market.h"
#include "work/data/batch.h"
#include "work/data/export.h"
#include "work/data/rng.h"
#include "work/eval/check.h"
#include "work/work.h"

static gt_agent_model *model;
static char home[64], url[128];
static pid_t node_pid;
static gt_client *dir;
static fpx proxy;                 /* in front of the node for agents made while via_proxy is set */
static int via_proxy;



/* The agents' progress lines, kept (the last 16 KiB) so a test can check
 * what an agent did and why, and echoed to stderr. */
static char agent_log[16384];

static void log_line(void *arg, const char *agent_name, const char *line) {
    (void)arg;
    size_t n = strlen(agent_log), add = strlen(agent_name) + strlen(line) + 3;
    if (n + add >= sizeof agent_log) n = 0, agent_log[0] = 0;
    snprintf(agent_log + n, sizeof agent_log - n, "%s: %s\n", agent_name, line);
    fprintf(stderr, "%s: %s\n", agent_name, line);
}

/* An agent funded with 20 tokens (and staked 2 when it validates). */
/* An agent running model m, funded and registered on the test node. */
static gt_agent *make_m(const char *name, const char *skills, int roles, int faults, const char *datasets,
                        gt_agent_model *m) {
    gt_key k;
    tnet_key(name, &k);
    gt_agent_config c = {.name = name, .skills = skills, .price_units = 1, .roles = roles, .faults = faults,
                         .model = m, .poll_ms = 50, .datasets_dir = datasets, .log = log_line};
    gt_agent *a = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_agent_new(&c, &k, via_proxy ? proxy.url : url, &a, &err) == 0, "agent: %s", err.msg);
    if (!a) return NULL;
    CHECK(tnet_mint(dir, gt_agent_address(a), 20000000, &err) == 0);
    if (roles & GT_ROLE_VALIDATOR) CHECK(tnet_stake(dir, &k, 2000000, &err) == 0);
    CHECK_MSG(gt_agent_register(a, &err) == 0, "register: %s", err.msg);
    return a;
}

/* An agent running the fixture model. */
static gt_agent *make(const char *name, const char *skills, int roles, int faults, const char *datasets) {
    return make_m(name, skills, roles, faults, datasets, model);
}

static int fill_claim(void *arg, gt_action *a, gt_err *err) {
    gt_action_set_b32(a, "task", arg);
    return 0;
}

static uint64_t balance(const gt_agent *a) {
    gt_client_acct acc = {0};
    gt_client_account(dir, gt_agent_address(a), &acc, NULL);
    return acc.balance_units;
}


static json_t *task_get(const uint8_t id[32]) {
    json_t *t = NULL;
    gt_client_task(dir, id, &t, NULL);
    return t;
}

static const char *slot_state(const uint8_t id[32], int slot, char *out, size_t cap) {
    json_t *t = task_get(id);
    const char *s = json_string_value(json_object_get(json_array_get(json_object_get(t, "slotList"), (size_t)slot), "state"));
    snprintf(out, cap, "%s", s ? s : "?");
    json_decref(t);
    return out;
}

/* Steps agents until the task is complete and pred (may be NULL) holds. */
static int run_until(gt_agent **ag, int n, const uint8_t id[32], int (*pred)(void *), void *arg) {
    for (int pass = 0; pass < 600; pass++) {
        tnet_step(ag, n);
        json_t *t = task_get(id);
        int done = t && !strcmp(json_string_value(json_object_get(t, "status")) ?: "", "complete");
        json_decref(t);
        if (done && (!pred || pred(arg))) return 1;
        usleep(20000);
    }
    return 0;
}

static int start_node(void) {
    /* Long idle blocks: every deadline here passes by actions only. */
    return tnet_start("agent-work", gt_work_register, "60000", home, sizeof home, url, sizeof url, &node_pid, &dir);
}

/* ---- refusals ---- */

static void test_fits_refusals(void) {
    const gt_skill *ev = gt_skill_find("eval"), *gen = gt_skill_find("generate"), *val = gt_skill_find("validate");
    CHECK(ev && gen && val && ev->fits && ev->submit && !val->work);
    if (!ev || !gen || !val) return;
    gt_agent *a = make("refuser", "eval,generate,validate", 0, 0, NULL);
    if (!a) return;
    /* An eval spec naming a file: never opened. */
    json_t *spec = json_pack("{s:s,s:i,s:s,s:s,s:s,s:i,s:i}", "type", "eval", "version", 1, "model",
                             gt_agent_model_id(model), "bench", "/etc/passwd", "benchHash",
                             "sha256:0000000000000000000000000000000000000000000000000000000000000001", "limit", 2,
                             "check", 1);
    gt_job job = {.spec = spec};
    gt_err err = {0};
    CHECK(ev->fits(a, &job, &err) == GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "not a built-in");
    /* Another model. */
    json_object_set_new(spec, "bench", json_string("logic-v1"));
    json_object_set_new(spec, "model", json_string("sha256:00000000000000000000000000000000000000000000000000000000000000aa"));
    CHECK(ev->fits(a, &job, &err) == GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "another model");
    /* A bench hash that is not this build's logic-v1. */
    json_object_set_new(spec, "model", json_string(gt_agent_model_id(model)));
    CHECK(ev->fits(a, &job, &err) == GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "benchHash");
    json_decref(spec);
    gt_agent_free(a);
}

/* ---- a data job ---- */


/* Parses the job spec text into *js (checked) and returns the terms of its
 * generate task as the poster posts them (the job's slots, bounty, stake and
 * batch sizes; no verifier, no fee). */
static gt_task_terms job_task_terms(const char *spec, gt_job_spec *js) {
    gt_work_terms terms = {0};
    gt_err err = {0};
    CHECK_MSG(gt_job_spec_parse(spec, strlen(spec), js, &err) == 0, "spec: %s", err.msg);
    CHECK_MSG(gt_work_job_terms(js, &terms, &err) == 0, "terms: %s", err.msg);
    return (gt_task_terms){.kind = GT_WORK_KIND_GENERATE, .slots = terms.slots, .bounty_units = terms.bounty_units,
                           .stake_units = terms.stake_units, .batch_items = terms.batch_items,
                           .last_batch_items = terms.last_batch_items};
}
/* A job of 8 samples in batches of 4 named `name`: each test's poster its
 * own job (a spec another address posted first is that address's job, and
 * gt_agent_post refuses it). */
static char *job_spec_of(const char *model_id, const char *name, int seed, int samples) {
    json_t *o = json_pack("{s:i,s:s,s:s,s:{s:[s,s,s,s]},s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:{s:i,s:f},s:{s:b,s:f}}", "version",
                          1, "name", name, "template", "Write one line about {topic}.\n", "variables", "topic",
                          "rice terraces", "a ferry crossing", "the monsoon", "a night market", "seed", seed, "samples",
                          samples,
                          "batch", 4, "reward", "0.5", "stake", "0.25", "license", "cc-by-4.0", "model", model_id,
                          "generation", "max_tokens", 8, "temp", 0.0, "pipeline", "near_dedup", 0, "spot_check", 0.5);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}
static char *job_spec(const char *model_id, const char *name) { return job_spec_of(model_id, name, 7, 8); }

static int published(void *arg) {
    gt_agent_stats st;
    gt_agent_stats_get(arg, &st);
    return st.datasets_published == 1;
}

static void test_data_job(void) {
    char datasets[128];
    snprintf(datasets, sizeof datasets, "%s/datasets", home);
    via_proxy = 1; /* its first dataset_publish is refused on the way: it publishes on a later pass */
    gt_agent *poster = make("d-poster", "generate", GT_ROLE_POSTER, 0, datasets);
    via_proxy = 0;
    fpx_break(&proxy, "\"dataset_publish\"", FPX_REFUSE, 1);
    gt_agent *w0 = make("d-worker0", "generate", GT_ROLE_WORKER, 0, NULL);
    gt_agent *w1 = make("d-worker1", "generate", GT_ROLE_WORKER, 0, NULL);
    gt_agent *v = make("d-validator", "validate", GT_ROLE_EVALUATOR, 0, NULL);
    if (!poster || !w0 || !w1 || !v) return;
    char *spec = job_spec(gt_agent_model_id(model), "test-notes");
    gt_job_spec js;
    gt_err err = {0};
    gt_task_terms t = job_task_terms(spec, &js);
    CHECK_EQ_U64(t.slots, 2);
    t.fee_units = 100000;
    t.verifier = *gt_agent_address(v);
    uint8_t id[32];
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    free(spec);
    /* w0 takes batch 0 and w1 batch 1 in the same pass; the validator
     * judges batch 0 first (slot order within a pass) and batch 1 against
     * it on the next pass. */
    uint64_t w0_before = balance(w0), w1_before = balance(w1);
    gt_agent *all[] = {poster, w0, w1, v};
    CHECK(run_until(all, 4, id, published, poster));
    CHECK_EQ_INT(atomic_load(&proxy.hits), 1);
    json_t *task = task_get(id);
    json_t *u0 = json_object_get(json_array_get(json_object_get(task, "slotList"), 0), "units");
    json_t *u1 = json_object_get(json_array_get(json_object_get(task, "slotList"), 1), "units");
    CHECK_EQ_INT(json_integer_value(json_object_get(u0, "accepted")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(u0, "total")), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(u1, "accepted")), 1);
    json_decref(task);
    /* Pro rata: 3/4 of the bounty 2 and 1/4 of the stake 1; 1/4 and 3/4. */
    CHECK_EQ_U64(balance(w0), w0_before + 1500000 - 250000);
    CHECK_EQ_U64(balance(w1), w1_before + 500000 - 750000);
    gt_agent_stats ws;
    gt_agent_stats_get(w1, &ws);
    CHECK_EQ_U64(ws.conceded, 1);
    CHECK_EQ_U64(ws.disputes_opened, 0);
    /* The root on the ledger is the root of the exported files. */
    char db[128], ddir[256];
    snprintf(db, sizeof db, "%s/ledger.db", home);
    sqlite3 *h = NULL;
    CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    json_t *pub = gt_work_dataset_get(h, js.id, &err);
    CHECK_MSG(pub != NULL, "dataset: %s", err.msg);
    uint8_t root[32], got[32];
    size_t rows = 0;
    CHECK(pub && gt_agent_json_hash(pub, "root", root, &err) == 0);
    uint8_t manifest[32]; /* provenance.json's sha256, as the ledger records it */
    CHECK(pub && gt_agent_json_hash(pub, "manifest", manifest, &err) == 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(pub, "rows")), 4);
    gt_agent_dataset_dir(datasets, js.id, ddir, sizeof ddir);
    CHECK_MSG(gt_dataset_verify(ddir, root, manifest, got, &rows, &err) == 0, "verify: %s", err.msg);
    CHECK_EQ_INT((long long)rows, 4);
    json_decref(pub);
    sqlite3_close(h);
    gt_job_spec_free(&js);
    for (int i = 0; i < 4; i++) gt_agent_free(all[i]);
}

/* A data job verified by a quorum (quorum 1: a panel of one, drawn from the
 * staked validators, here q-validator alone): one batch of 4 samples whose
 * topics the seed (20) draws once each. The panel member re-runs the batch
 * and votes on the whole of it, sealed; the worker is paid in full and the
 * poster publishes the dataset, which a drawn, bonded panel accepted (what
 * a funding round requires from format 10). The old agent judged it with
 * the skill's per-sample verdict, which the ledger refuses on a quorum task
 * ("use task_verify"), and so voted against every honest batch ("the result
 * cannot be verified"): the slot was rejected and nothing was published. */
static void test_quorum_data_job(void) {
    char datasets[128];
    snprintf(datasets, sizeof datasets, "%s/datasets", home);
    gt_agent *poster = make("q-poster", "generate", GT_ROLE_POSTER, 0, datasets);
    gt_agent *w = make("q-worker", "generate", GT_ROLE_WORKER, 0, NULL);
    gt_agent *v = make("q-validator", "validate", GT_ROLE_VALIDATOR, 0, NULL);
    if (!poster || !w || !v) return;
    char *spec = job_spec_of(gt_agent_model_id(model), "quorum-notes", 20, 4);
    gt_job_spec js;
    gt_err err = {0};
    gt_task_terms t = job_task_terms(spec, &js);
    CHECK_EQ_U64(t.slots, 1);
    t.fee_units = 100000;
    t.quorum = 1;
    uint8_t id[32];
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    free(spec);
    uint64_t w_before = balance(w);
    gt_agent *all[] = {poster, w, v};
    CHECK(run_until(all, 3, id, published, poster));
    json_t *task = task_get(id);
    json_t *sl = json_array_get(json_object_get(task, "slotList"), 0);
    CHECK_STR(json_string_value(json_object_get(sl, "state")), "paid");
    CHECK(json_is_true(json_object_get(sl, "accept")));
    json_decref(task);
    CHECK_EQ_U64(balance(w), w_before + 2000000); /* the bounty, its stake back */
    char db[128];
    snprintf(db, sizeof db, "%s/ledger.db", home);
    sqlite3 *h = NULL;
    CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    json_t *pub = gt_work_dataset_get(h, js.id, &err);
    CHECK_MSG(pub != NULL, "dataset: %s", err.msg);
    CHECK_EQ_INT(json_integer_value(json_object_get(pub, "rows")), 4);
    json_decref(pub);
    int yes = 0;
    CHECK_EQ_INT(gt_market_slot_panel_accepted(h, id, 0, &yes, &err), 0);
    CHECK_EQ_INT(yes, 1);
    sqlite3_close(h);
    gt_job_spec_free(&js);
    for (int i = 0; i < 3; i++) gt_agent_free(all[i]);
}

/* A sybil claims batch 0 of a job and never submits: batch 1 is judged
 * without waiting (it used to stay unjudged until batch 0's deadline and
 * then past its own, which paid it unverified). */
static void test_stuck_slot(void) {
    gt_agent *poster = make("s-poster", "generate", GT_ROLE_POSTER, 0, NULL);
    gt_agent *w1 = make("s-worker", "generate", GT_ROLE_WORKER, 0, NULL);
    gt_agent *v = make("s-validator", "validate", GT_ROLE_EVALUATOR, 0, NULL);
    gt_agent *sybil = make("s-sybil", "generate", 0, 0, NULL);
    if (!poster || !w1 || !v || !sybil) return;
    char *spec = job_spec(gt_agent_model_id(model), "stuck-notes");
    gt_job_spec js;
    gt_err err = {0};
    gt_task_terms t = job_task_terms(spec, &js);
    t.fee_units = 100000;
    t.verifier = *gt_agent_address(v);
    uint8_t id[32];
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    free(spec);
    gt_key ks;
    tnet_key("s-sybil", &ks);
    CHECK(gt_client_act(dir, &ks, &gt_kind_task_claim, fill_claim, id, NULL, NULL, &err) == 0);
    char st[32];
    gt_agent *two[] = {w1, v};
    for (int i = 0; i < 10; i++) {
        slot_state(id, 1, st, sizeof st);
        if (strcmp(st, "open") && strcmp(st, "claimed") && strcmp(st, "submitted")) break;
        tnet_step(two, 2);
    }
    CHECK_MSG(!strcmp(st, "accepted") || !strcmp(st, "paid") || !strcmp(st, "rejected"),
              "batch 1 has no verdict while batch 0 is held: %s", st);
    CHECK_STR(slot_state(id, 0, st, sizeof st), "claimed");
    gt_job_spec_free(&js);
    gt_agent_free(poster);
    gt_agent_free(w1);
    gt_agent_free(v);
    gt_agent_free(sybil);
}

/* The batch of blob with the output of every sample whose bit is set in
 * `made_up` replaced by `text` (every other byte kept). */
static void fake_sample(const gt_buf *blob, uint64_t made_up, const char *text, gt_buf *out) {
    int k = 0;
    for (size_t i = 0; i < blob->len; k++) {
        size_t e = i;
        while (e < blob->len && blob->data[e] != '\n') e++;
        json_t *o = json_loadb((const char *)blob->data + i, e - i, 0, NULL);
        if (k < 64 && (made_up >> k & 1)) json_object_set_new(o, "output", json_string(text));
        char *line = gt_json_dump(o);
        json_decref(o);
        gt_buf_append_str(out, line);
        gt_buf_putc(out, '\n');
        free(line);
        i = e + 1;
    }
}

/* A voter's spot draw (the attack): a quorum or dispute voter re-generates
 * a secret draw of each batch's samples. It was seeded by (task, slot)
 * only, so the same voter re-ran the same samples on every attempt of the
 * slot: a worker, or its sybil on the reopened slot, probing with one
 * made-up sample learnt from the public votes which positions a voter
 * checks, then faked every other one. Cost: a slashed stake per probe
 * voted down. Here the voter judges batches of one slot, each with one
 * made-up sample, over eight attempts: with a draw fixed per slot its
 * verdict on each batch never changes; now every attempt draws anew. */
static void test_vote_draw(void) {
    gt_agent *poster = make("r-poster", "generate", GT_ROLE_POSTER, 0, NULL);
    gt_agent *w = make("r-worker", "generate", GT_ROLE_WORKER, 0, NULL);
    gt_agent *voter = make("r-voter", "generate", GT_ROLE_VALIDATOR, 0, NULL);
    if (!poster || !w || !voter) return;
    char *spec = job_spec(gt_agent_model_id(model), "vote-notes");
    gt_job_spec js;
    gt_err err = {0};
    gt_task_terms t = job_task_terms(spec, &js);
    uint8_t id[32];
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    gt_key kw;
    tnet_key("r-worker", &kw);
    CHECK(gt_client_act(dir, &kw, &gt_kind_task_claim, fill_claim, id, NULL, NULL, &err) == 0);
    gt_buf blob = GT_BUF_INIT;
    gt_llm *llm = gt_agent_llm(w, &err);
    CHECK_MSG(llm && gt_work_generate_batch(&js, llm, gt_agent_address(w), 0, &blob, &err) == 0, "batch: %s", err.msg);
    json_t *task = task_get(id), *spec_json = json_loads(spec, 0, NULL);
    const gt_skill *sk = gt_skill_find(GT_WORK_KIND_GENERATE);
    int varied = 0, judged = 0;
    for (int p = 0; p < 4 && task && sk; p++) {
        gt_buf faked = GT_BUF_INIT;
        fake_sample(&blob, 1ull << p, "a line nobody's model wrote", &faked);
        int first = -1;
        for (uint64_t attempt = 0; attempt < 8; attempt++) {
            json_t *tj = json_deep_copy(task);
            json_t *sl = json_array_get(json_object_get(tj, "slotList"), 0);
            json_object_set_new(sl, "attempt", json_integer((json_int_t)attempt));
            gt_job job = {.slot = 0, .task = tj, .spec = spec_json};
            memcpy(job.task_id, id, 32);
            gt_skill_verdict v = {0};
            int rc = sk->verify(voter, &job, faked.data, faked.len, &v, &err);
            CHECK_MSG(rc == 0, "vote: %s", err.msg);
            judged += rc == 0;
            if (first < 0) first = v.accept;
            varied |= v.accept != first;
            json_decref(tj);
        }
        gt_buf_free(&faked);
    }
    CHECK_EQ_INT(judged, 32);
    CHECK_MSG(varied, "each made-up batch got the same verdict on all 8 attempts: the draw is fixed per slot");
    /* A disputed slot whose verdict's reason (the batches its judge dedup'ed it against) cannot be fetched: no
     * vote (tried again later), not one judged against every slot judged by now, which could differ from the
     * judge's set and vote against an honest batch on a passing network fault (the old voter voted). */
    json_t *tj = task ? json_deep_copy(task) : NULL;
    json_t *sl = json_array_get(json_object_get(tj, "slotList"), 0);
    json_object_set_new(sl, "state", json_string("disputed"));
    json_object_set_new(sl, "reason", json_string("sha256:00000000000000000000000000000000000000000000000000000000"
                                                  "00000000"));
    gt_job job = {.slot = 0, .task = tj, .spec = spec_json};
    memcpy(job.task_id, id, 32);
    gt_skill_verdict v = {0};
    CHECK_MSG(sk && sk->verify(voter, &job, blob.data, blob.len, &v, &err) != 0, "voted without the judge's set");
    CHECK_CONTAINS(err.msg, "the verdict's reason");
    json_decref(tj);
    json_decref(task);
    json_decref(spec_json);
    gt_buf_free(&blob);
    free(spec);
    gt_job_spec_free(&js);
    gt_agent_free(poster);
    gt_agent_free(w);
    gt_agent_free(voter);
}

/* A job of `samples` samples in batches of 16, half of each re-run by every
 * spot check, and no dedup: every sample of an honest batch is accepted,
 * and so is a made-up one that no draw re-runs. */
static char *reval_spec(const char *model_id, int samples) {
    json_t *o = json_pack("{s:i,s:s,s:s,s:{s:[s,s]},s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:{s:i,s:f},s:{s:b,s:b,s:f}}",
                          "version", 1, "name", "reval-notes", "template", "Write one line about {topic}.\n",
                          "variables", "topic", "rice terraces", "a ferry crossing", "seed", 7, "samples", samples, "batch",
                          16, "reward", "0.5", "stake", "0.25", "license", "cc-by-4.0", "model", model_id,
                          "generation", "max_tokens", 8, "temp", 0.0, "pipeline", "dedup", 0, "near_dedup", 0,
                          "spot_check", 0.5);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* The positions of a batch of n that a draw seeded (seed, stream) re-runs
 * first m of, as bits: stage_spot's partial Fisher-Yates, which the old
 * re-validation ran with seed = stream = the slot, numbers anyone knows. */
static uint64_t public_draw(uint64_t slot, size_t n, size_t m) {
    size_t order[64];
    gt_rng r;
    gt_rng_seed(&r, slot, slot);
    for (size_t i = 0; i < n; i++) order[i] = i;
    uint64_t bits = 0;
    for (size_t i = 0; i < m; i++) {
        size_t j = i + (size_t)gt_rng_below(&r, n - i), t = order[i];
        order[i] = order[j];
        order[j] = t;
        bits |= 1ull << order[i];
    }
    return bits;
}

/* Has the poster publish `task` (a copy of the open task whose slots 0 to
 * n-1 are made paid in full to worker w for batches[0..n-1], which w uploads
 * through its client wc): 1 when it left every batch out (its
 * re-validation accepted other than was paid: nothing to publish), 0 when
 * it went on to export and publish (which the ledger refuses: the task is
 * not complete), -1 on any other failure (in err). */
static int publish_batches(gt_agent *poster, const json_t *task, const gt_agent *w, gt_client *wc,
                           const gt_buf *batches, size_t n, gt_err *err) {
    char rid[72], wa[43];
    gt_addr_to_str(gt_agent_address(w), wa);
    json_t *tj = json_deep_copy(task);
    for (size_t k = 0; k < n; k++) {
        if (gt_client_blob_put(wc, batches[k].data, batches[k].len, rid, err)) {
            json_decref(tj);
            return -1;
        }
        json_t *sl = json_array_get(json_object_get(tj, "slotList"), k);
        json_object_set_new(sl, "state", json_string("paid"));
        json_object_set_new(sl, "accept", json_true());
        json_object_set_new(sl, "worker", json_string(wa));
        json_object_set_new(sl, "result", json_string(rid));
    }
    int published = 0;
    int rc = ag_data_publish(poster, tj, &published, err);
    json_decref(tj);
    if (!rc && !published) return 1;
    return rc && strstr(err->msg, "is not complete") ? 0 : -1;
}

/* The one-batch case of publish_batches. */
static int publish_refused(gt_agent *poster, const json_t *task, const gt_agent *w, gt_client *wc,
                           const gt_buf *batch, gt_err *err) {
    return publish_batches(poster, task, w, wc, batch, 1, err);
}

/* A poster (exporting under HOME/<tag>-datasets), a worker with its own
 * signed client, and a reval_spec job of `samples` posted by the poster. */
typedef struct reval_job {
    gt_agent *poster, *w;
    gt_client *wc;
    gt_job_spec js;
    uint8_t id[32];
    char datasets[128];
} reval_job;

/* Sets up r (names "<tag>-poster", "<tag>-worker"); 0 when every part is
 * there, the failure checked. reval_job_free undoes it either way. */
static int reval_job_new(reval_job *r, const char *tag, int samples, uint64_t slots) {
    char pn[32], wn[32];
    gt_key kw;
    gt_err err = {0};
    memset(r, 0, sizeof *r);
    snprintf(r->datasets, sizeof r->datasets, "%s/%s-datasets", home, tag);
    snprintf(pn, sizeof pn, "%s-poster", tag);
    snprintf(wn, sizeof wn, "%s-worker", tag);
    r->poster = make(pn, "generate", GT_ROLE_POSTER, 0, r->datasets);
    r->w = make(wn, "generate", GT_ROLE_WORKER, 0, NULL);
    tnet_key(wn, &kw);
    CHECK_MSG(gt_client_new(url, &r->wc, &err) == 0, "client: %s", err.msg);
    if (!r->poster || !r->w || !r->wc) return -1;
    gt_client_set_signer(r->wc, &kw);
    char *spec = reval_spec(gt_agent_model_id(model), samples);
    gt_task_terms t = job_task_terms(spec, &r->js);
    CHECK_EQ_U64(t.slots, slots);
    int rc = gt_agent_post(r->poster, &t, spec, strlen(spec), r->id, &err);
    CHECK_MSG(rc == 0, "post: %s", err.msg);
    free(spec);
    return rc;
}

static void reval_job_free(reval_job *r) {
    gt_job_spec_free(&r->js);
    gt_client_free(r->wc);
    gt_agent_free(r->poster);
    gt_agent_free(r->w);
}

/* The poster's re-validation draw (the attack): before publishing, the
 * poster re-runs a spot draw of every paid batch and refuses to publish
 * when it accepts other than was paid. The draw was seeded by the slot
 * number, so a worker knew which samples it re-runs: made-up samples kept
 * out of it passed (and, paid by a validator's draw that missed them, were
 * published under the poster's root), and one put in it made the poster
 * refuse a dataset a validator had paid. Here the worker fakes the 8 of 16
 * samples outside that public draw, in 4 batches: the old re-validation
 * accepted all 4 (and exported them); the poster's secret draw misses all 8
 * with probability 1/C(16,8) = 1/12870 a batch. An honest batch still
 * passes. */
static void test_publish_draw(void) {
    reval_job r;
    gt_err err = {0};
    if (reval_job_new(&r, "p", 16, 1)) {
        reval_job_free(&r);
        return;
    }
    gt_agent *poster = r.poster, *w = r.w;
    gt_client *wc = r.wc;
    const gt_job_spec js = r.js;
    const uint8_t *id = r.id;
    gt_buf blob = GT_BUF_INIT;
    gt_llm *llm = gt_agent_llm(w, &err);
    CHECK_MSG(llm && gt_work_generate_batch(&js, llm, gt_agent_address(w), 0, &blob, &err) == 0, "batch: %s", err.msg);
    json_t *task = task_get(id);
    CHECK(task != NULL);
    int honest = task ? publish_refused(poster, task, w, wc, &blob, &err) : -1;
    CHECK_MSG(honest == 0, "an honest batch: %d (%s)", honest, err.msg);
    uint64_t outside = ~public_draw(0, 16, 8) & 0xffff;
    int refused = 0;
    for (int round = 0; round < 4 && task; round++) {
        char text[64];
        snprintf(text, sizeof text, "a line nobody's model wrote, round %d", round);
        gt_buf faked = GT_BUF_INIT;
        fake_sample(&blob, outside, text, &faked);
        int got = publish_refused(poster, task, w, wc, &faked, &err);
        CHECK_MSG(got >= 0, "round %d: %s", round, err.msg);
        refused += got == 1;
        gt_buf_free(&faked);
    }
    /* The task id (so the draw) differs from run to run: at least 3 of 4
     * fails once in about 27 million runs (6 / 12870^2); the old draw let
     * all 4 through. */
    CHECK_MSG(refused >= 3, "the poster's re-validation refused %d of 4 batches faked outside the public draw",
              refused);
    json_decref(task);
    gt_buf_free(&blob);
    reval_job_free(&r);
}

/* Lines of the file at path, -1 when it cannot be read. */
static long file_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long n = 0;
    for (int c; (c = fgetc(f)) != EOF;) n += c == '\n';
    fclose(f);
    return n;
}

/* One paid batch that fails the poster's re-validation is left out, and the
 * others are published: it used to stop the whole publication, so a worker
 * whose made-up sample a validator's draw missed and the poster's caught
 * kept the job's dataset from ever being published (the poster publishes
 * once). Here batch 0 is honest and batch 1 made up in all 16 samples: the
 * dataset holds batch 0's 16 (the ledger then refuses the publication, the
 * task being left open by the test). */
static void test_publish_left_out(void) {
    char ds_dir[512], path[560];
    reval_job r;
    gt_err err = {0};
    if (reval_job_new(&r, "l", 32, 2)) {
        reval_job_free(&r);
        return;
    }
    gt_agent *w = r.w;
    gt_buf b[2] = {GT_BUF_INIT, GT_BUF_INIT}, honest1 = GT_BUF_INIT;
    gt_llm *llm = gt_agent_llm(w, &err);
    CHECK_MSG(llm && gt_work_generate_batch(&r.js, llm, gt_agent_address(w), 0, &b[0], &err) == 0 &&
                  gt_work_generate_batch(&r.js, llm, gt_agent_address(w), 1, &honest1, &err) == 0,
              "batch: %s", err.msg);
    fake_sample(&honest1, 0xffff, "a line nobody's model wrote", &b[1]);
    json_t *task = task_get(r.id);
    CHECK(task != NULL);
    int got = task ? publish_batches(r.poster, task, w, r.wc, b, 2, &err) : -1;
    CHECK_MSG(got == 0, "publication with one batch made up: %d (%s)", got, err.msg);
    gt_agent_dataset_dir(r.datasets, r.js.id, ds_dir, sizeof ds_dir);
    snprintf(path, sizeof path, "%s/data.jsonl", ds_dir);
    CHECK_EQ_INT((int)file_lines(path), 16); /* batch 0's samples only */
    json_decref(task);
    gt_buf_free(&b[0]);
    gt_buf_free(&b[1]);
    gt_buf_free(&honest1);
    reval_job_free(&r);
}

/* A batch whose per-sample verdict accepted 1 of 8 and whose worker won
 * the dispute was paid in full: the node's view keeps the verdict's "units"
 * (1 of 8) beside "accept": true. The old poster took the paid count from
 * units, so its re-validation (8 good) differed and the batch it paid for
 * in full was left out of the dataset. gt_agent_slot_paid reads accept
 * first; checked on its own too. */
static void test_publish_dispute_won(void) {
    json_t *sl = json_pack("{s:b,s:{s:i,s:i}}", "accept", 1, "units", "accepted", 1, "total", 16);
    CHECK_EQ_U64(gt_agent_slot_paid(sl, 16), 16);
    json_object_set_new(sl, "accept", json_false()); /* settled pro rata */
    CHECK_EQ_U64(gt_agent_slot_paid(sl, 16), 1);
    json_object_del(sl, "units"); /* rejected whole */
    CHECK_EQ_U64(gt_agent_slot_paid(sl, 16), 0);
    json_object_set_new(sl, "accept", json_true()); /* accepted whole (a quorum) */
    CHECK_EQ_U64(gt_agent_slot_paid(sl, 16), 16);
    json_decref(sl);
    char ds_dir[512], path[560];
    reval_job r;
    gt_err err = {0};
    if (reval_job_new(&r, "dw", 8, 1)) { /* 8: another job than test_publish_draw's 16 */
        reval_job_free(&r);
        return;
    }
    gt_buf b = GT_BUF_INIT;
    gt_llm *llm = gt_agent_llm(r.w, &err);
    CHECK_MSG(llm && gt_work_generate_batch(&r.js, llm, gt_agent_address(r.w), 0, &b, &err) == 0, "batch: %s",
              err.msg);
    json_t *task = task_get(r.id);
    CHECK(task != NULL);
    if (task)
        json_object_set_new(json_array_get(json_object_get(task, "slotList"), 0), "units",
                            json_pack("{s:i,s:i}", "accepted", 1, "total", 8));
    int got = task ? publish_batches(r.poster, task, r.w, r.wc, &b, 1, &err) : -1;
    CHECK_MSG(got == 0, "publication after a dispute won: %d (%s)", got, err.msg);
    gt_agent_dataset_dir(r.datasets, r.js.id, ds_dir, sizeof ds_dir);
    snprintf(path, sizeof path, "%s/data.jsonl", ds_dir);
    CHECK_EQ_INT((int)file_lines(path), 8); /* the whole batch, as paid */
    json_decref(task);
    gt_buf_free(&b);
    reval_job_free(&r);
}

/* A poster commits twice the job's real batch size (batchItems): its
 * evaluator could then judge every sample good and still pay half and slash
 * half the stake (accepted 4 of 8). The worker checks the committed size
 * against the spec and does not claim. */
static void test_wrong_batch_size(void) {
    gt_agent *poster = make("b-poster", "generate", GT_ROLE_POSTER, 0, NULL);
    gt_agent *w = make("b-worker", "generate", GT_ROLE_WORKER, 0, NULL);
    gt_agent *v = make("b-validator", "validate", GT_ROLE_EVALUATOR, 0, NULL);
    if (!poster || !w || !v) return;
    char *spec = job_spec(gt_agent_model_id(model), "batch-notes");
    gt_job_spec js;
    gt_err err = {0};
    gt_task_terms t = job_task_terms(spec, &js);
    t.fee_units = 100000;
    t.batch_items *= 2; /* twice the job's real batch size */
    t.last_batch_items *= 2;
    t.verifier = *gt_agent_address(v);
    uint8_t id[32];
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    free(spec);
    gt_agent *one[] = {w};
    for (int i = 0; i < 5; i++) tnet_step(one, 1);
    char st[32];
    CHECK_STR(slot_state(id, 0, st, sizeof st), "open");
    CHECK_STR(slot_state(id, 1, st, sizeof st), "open");
    gt_agent_stats ws;
    gt_agent_stats_get(w, &ws);
    CHECK_EQ_U64(ws.claimed, 0);
    gt_job_spec_free(&js);
    gt_agent_free(poster);
    gt_agent_free(w);
    gt_agent_free(v);
}

/* A job of one batch of `batch` samples of up to max_tokens tokens each. */
static char *big_job_spec(const char *model_id, const char *name, int batch, int max_tokens) {
    json_t *o = json_pack("{s:i,s:s,s:s,s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:{s:i,s:f},s:{s:b,s:f}}", "version", 1, "name",
                          name, "template", "Write a long story about sample {index}.\n", "seed", 3, "samples", batch,
                          "batch", batch, "reward", "0.01", "stake", "0.01", "license", "cc-by-4.0", "model", model_id,
                          "generation", "max_tokens", max_tokens, "temp", 0.0, "pipeline", "near_dedup", 0,
                          "spot_check", 0.5);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* A poster's batch far larger than the submit window allows at the
 * worker's speed: 64 samples of up to 256 tokens (16 384 tokens: tens of
 * seconds on this model here) in a 6 s window, which the claim policy's own
 * floor (3 s, twice the longest job so far) let through. The old worker
 * claimed it, locked its stake and could not submit in time (the stake
 * slashed to the poster); now it times its model, estimates the batch and
 * skips it, saying why. */
static void test_big_batch_window(void) {
    gt_agent *poster = make("g-poster", "generate", GT_ROLE_POSTER, 0, NULL);
    gt_agent *w = make("g-worker", "generate", GT_ROLE_WORKER, 0, NULL);
    gt_agent *v = make("g-validator", "validate", GT_ROLE_EVALUATOR, 0, NULL);
    if (!poster || !w || !v) return;
    char *spec = big_job_spec(gt_agent_model_id(model), "big-batch", 64, 256);
    gt_job_spec js;
    gt_err err = {0};
    gt_task_terms t = job_task_terms(spec, &js);
    t.fee_units = 100000, t.submit_s = 6;
    t.verifier = *gt_agent_address(v);
    uint8_t id[32];
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    free(spec);
    uint64_t before = balance(w);
    agent_log[0] = 0;
    gt_agent *one[] = {w};
    for (int i = 0; i < 3; i++) tnet_step(one, 1);
    char st[32];
    CHECK_STR(slot_state(id, 0, st, sizeof st), "open");
    gt_agent_stats ws;
    gt_agent_stats_get(w, &ws);
    CHECK_EQ_U64(ws.claimed, 0);
    CHECK_EQ_U64(balance(w), before);
    CHECK_CONTAINS(agent_log, "is more than its submit window of 6 s");
    gt_job_spec_free(&js);
    gt_agent_free(poster), gt_agent_free(w), gt_agent_free(v);
}

/* Posts a job of model m named `name` with a judge stage of `judge`, judged
 * by v, and steps w and v 30 passes; w's balance before into *before. */
static void post_judged(gt_agent *poster, gt_agent *w, gt_agent *v, gt_agent_model *m, const char *name,
                        const char *judge, uint8_t id[32], uint64_t *before) {
    char *base = job_spec(gt_agent_model_id(m), name);
    json_t *o = json_loads(base, 0, NULL);
    free(base);
    json_object_set_new(json_object_get(o, "pipeline"), "judge", json_pack("{s:f,s:s}", "threshold", 0.0, "prompt",
                                                                           judge));
    char *spec = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    gt_job_spec js;
    gt_err err = {0};
    gt_task_terms t = job_task_terms(spec, &js);
    t.fee_units = 100000;
    t.verifier = *gt_agent_address(v);
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    free(spec);
    gt_job_spec_free(&js);
    *before = balance(w);
    agent_log[0] = 0;
    gt_agent *both[] = {w, v};
    for (int i = 0; i < 30; i++) tnet_step(both, 2);
}

/* w never claimed task id (its slot 0 open, its balance `before`) and said why. */
static void never_claimed(gt_agent *w, const uint8_t id[32], uint64_t before, const char *why) {
    char st[32];
    gt_agent_stats ws;
    CHECK_STR(slot_state(id, 0, st, sizeof st), "open");
    gt_agent_stats_get(w, &ws);
    CHECK_EQ_U64(ws.claimed, 0);
    CHECK_EQ_U64(balance(w), before);
    CHECK_CONTAINS(agent_log, why);
}

/* A job whose judge prompt, with a sample's prompt and output in it, is
 * longer than the model's context (2048 tokens; tiny-qwen2, whose " Yes"
 * and " No" are tokens): no validator can judge a batch of it (the judge
 * stage refuses the prompt, ELIMIT), and a batch it cannot verify is a
 * rejection. The old worker claimed it, generated and submitted, and its
 * named validator rejected the honest batch ("the result cannot be
 * verified: judge prompt of N tokens does not fit the context"): the stake
 * went to the poster. Now the worker renders its batch's judge prompts
 * before the claim and skips the job, saying why. */
static void test_judge_over_context(void) {
    gt_agent_model *qwen = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_agent_model_load(gt_fixture("models/tiny-qwen2-q8_0.gguf"), &qwen, &err) == 0, "model: %s", err.msg);
    if (!qwen) return;
    gt_agent *poster = make_m("jc-poster", "generate", GT_ROLE_POSTER, 0, NULL, qwen);
    gt_agent *w = make_m("jc-worker", "generate", GT_ROLE_WORKER, 0, NULL, qwen);
    gt_agent *v = make_m("jc-validator", "validate", GT_ROLE_EVALUATOR, 0, NULL, qwen);
    if (poster && w && v) {
        char judge[8192] = "{prompt}\n{output}\nIs it good? ";
        while (strlen(judge) + 4 < sizeof judge) strcat(judge, "zq ");
        uint8_t id[32];
        uint64_t before = 0;
        post_judged(poster, w, v, qwen, "judge-long", judge, id, &before);
        never_claimed(w, id, before, "judge prompt takes");
        CHECK_CONTAINS(agent_log, "more than the model's context of 2048");
        /* A template whose prompt alone is over the context: the worker's generation would fail. */
        char tmpl[8192] = "Write one line about {topic}: ";
        while (strlen(tmpl) + 4 < sizeof tmpl) strcat(tmpl, "zq ");
        char *base = job_spec(gt_agent_model_id(qwen), "prompt-long");
        json_t *o = json_loads(base, 0, NULL);
        free(base);
        json_object_set_new(o, "template", json_string(tmpl));
        char *spec = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        gt_job_spec js;
        gt_task_terms t = job_task_terms(spec, &js);
        t.fee_units = 100000, t.verifier = *gt_agent_address(v);
        CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
        free(spec), gt_job_spec_free(&js);
        agent_log[0] = 0;
        gt_agent *one[] = {w};
        for (int i = 0; i < 3; i++) tnet_step(one, 1);
        never_claimed(w, id, before, "its generation would fail after the claim");
    }
    gt_agent_free(poster), gt_agent_free(w), gt_agent_free(v);
    gt_agent_model_free(qwen);
}

/* A job with a judge stage on a model whose vocabulary cannot answer it
 * (tiny-llama's SentencePiece vocabulary: " Yes" and " No" both begin with
 * the space token): the judge stage errors on every sample, so the named
 * validator rejected the old worker's honest batch ("the result cannot be
 * verified: judge vocabulary has no Yes/No tokens") and the worker, whose
 * own check agreed, conceded its stake (19 of 20 tokens left). Now the
 * worker skips the job before the claim. */
static void test_judge_no_answers(void) {
    gt_agent *poster = make("jn-poster", "generate", GT_ROLE_POSTER, 0, NULL);
    gt_agent *w = make("jn-worker", "generate", GT_ROLE_WORKER, 0, NULL);
    gt_agent *v = make("jn-validator", "validate", GT_ROLE_EVALUATOR, 0, NULL);
    if (poster && w && v) {
        uint8_t id[32];
        uint64_t before = 0;
        post_judged(poster, w, v, model, "judge-none", "{prompt}\n{output}\nIs it good?", id, &before);
        never_claimed(w, id, before, "the job's judge stage cannot score on its model");
    }
    gt_agent_free(poster), gt_agent_free(w), gt_agent_free(v);
}

/* A poster's batch whose prompts are past the model's context (8 KiB of
 * "zq " against tiny-qwen2's 2,048 tokens, as test_judge_over_context) in
 * a 6 s window no agent could meet. The old claim check tokenized every
 * prompt of the batch (to see it fit the context) before it weighed the
 * batch's time against the window, so a batch of thousands of prompts that
 * each fit cost every agent megabytes of tokenizing per task (6.46 s for
 * 4,096 prompts of 3.6 KB, sanitized). The window is now weighed first,
 * from the prompts' bytes: which refusal comes back says which check ran
 * first (the old order refused for the context), with no clock in the test. */
static void test_claim_check_cheap(void) {
    gt_agent_model *qwen = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_agent_model_load(gt_fixture("models/tiny-qwen2-q8_0.gguf"), &qwen, &err) == 0, "model: %s", err.msg);
    if (!qwen) return;
    gt_agent *w = make_m("cc-worker", "generate", GT_ROLE_WORKER, 0, NULL, qwen);
    static const char probe[] = "Write one line about rice terraces.";
    CHECK(w != NULL);
    if (w) CHECK_MSG(ag_token_probe(w, probe, sizeof probe - 1, 8, &err) == 0, "probe: %s", err.msg);
    char tmpl[8192] = "Sample {index}: ";
    while (strlen(tmpl) + 4 < sizeof tmpl) strcat(tmpl, "zq ");
    json_t *spec = json_pack("{s:i,s:s,s:s,s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:{s:i,s:f},s:{s:b,s:f}}", "version", 1, "name",
                             "cheap-check", "template", tmpl, "seed", 3, "samples", 64, "batch", 64, "reward",
                             "0.01", "stake", "0.01", "license", "cc-by-4.0", "model", gt_agent_model_id(qwen),
                             "generation", "max_tokens", 256, "temp", 0.0, "pipeline", "near_dedup", 0, "spot_check",
                             0.5);
    json_t *task = json_pack("{s:i,s:[{s:i,s:s}]}", "submitSeconds", 6, "slotList", "slot", 0, "state", "open");
    gt_job job = {.spec = spec, .task = task};
    const gt_skill *gen = gt_skill_find(GT_WORK_KIND_GENERATE);
    CHECK(gen && gen->claimable && spec && task);
    if (w && gen && gen->claimable && spec && task) {
        int rc = gen->claimable(w, &job, &err);
        fprintf(stderr, "  refused: %s\n", err.msg);
        CHECK_EQ_INT(rc, GT_EUNSUPPORTED);
        CHECK_CONTAINS(err.msg, "is more than its submit window of 6 s");
    }
    json_decref(spec), json_decref(task);
    gt_agent_free(w);
    gt_agent_model_free(qwen);
}

/* A data job whose spec names no model: validators re-run samples with the
 * model they run. On the old agent the worker (tiny-llama-q8_0) claimed it
 * and its named evaluator, an honest validator running tiny-llama-f16,
 * refused the batch whole (the spot check's sample names another model than
 * the one it re-runs with): the worker lost its stake for honest work, the
 * poster took it. Now the worker skips the job, saying it names no model. */
static void test_model_less_job(void) {
    gt_agent_model *other = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_agent_model_load(gt_fixture("models/tiny-llama-f16.gguf"), &other, &err) == 0, "model: %s", err.msg);
    gt_agent *poster = make("m-poster", "generate", GT_ROLE_POSTER, 0, NULL);
    gt_agent *w = make("m-worker", "generate", GT_ROLE_WORKER, 0, NULL);
    gt_agent *v = other ? make_m("m-validator", "validate", GT_ROLE_EVALUATOR, 0, NULL, other) : NULL;
    if (!poster || !w || !v) return;
    char *full = job_spec(gt_agent_model_id(model), "any-model-notes");
    json_t *o = json_loads(full, 0, NULL);
    free(full);
    json_object_del(o, "model");
    char *spec = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    gt_job_spec js;
    gt_task_terms t = job_task_terms(spec, &js);
    t.fee_units = 100000;
    t.verifier = *gt_agent_address(v);
    uint8_t id[32];
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    json_t *spec_json = json_loads(spec, 0, NULL);
    free(spec);
    gt_agent *all[] = {w, v, poster};
    char st[32] = "open";
    for (int pass = 0; pass < 100 && (!strcmp(st, "open") || !strcmp(st, "claimed") || !strcmp(st, "submitted"));
         pass++) {
        tnet_step(all, 3);
        slot_state(id, 0, st, sizeof st);
        if (pass >= 10 && !strcmp(st, "open")) break; /* nobody claimed it */
        usleep(20000);
    }
    gt_agent_stats ws;
    gt_agent_stats_get(w, &ws);
    CHECK_MSG(ws.claimed == 0 && !strcmp(st, "open"), "the worker claimed a job naming no model (claimed %llu, slot "
              "0 %s): a validator of another model refuses its honest batch", (unsigned long long)ws.claimed, st);
    CHECK_MSG(balance(w) == 20000000, "the worker holds %llu base units of the 20000000 minted",
              (unsigned long long)balance(w));
    /* Its validator, of another model, given an honest batch made with the workers' model: it cannot re-run
     * it, and says so, rather than refusing it (the old spot check's verdict: "0 of 4 samples good"); so a
     * worker that is not an agent, or a dispute voter's batch, is not slashed for the job's missing model. */
    gt_buf blob = GT_BUF_INIT;
    gt_llm *llm = gt_agent_llm(w, &err);
    CHECK_MSG(llm && gt_work_generate_batch(&js, llm, gt_agent_address(w), 0, &blob, &err) == 0, "batch: %s", err.msg);
    json_t *task = task_get(id);
    char wa[43];
    gt_addr_to_str(gt_agent_address(w), wa);
    json_object_set_new(json_array_get(json_object_get(task, "slotList"), 0), "worker", json_string(wa)); /* as if */
    gt_job job = {.slot = 0, .task = task, .spec = spec_json};
    memcpy(job.task_id, id, 32);
    gt_skill_verdict verdict = {0};
    const gt_skill *sk = gt_skill_find(GT_WORK_KIND_GENERATE);
    CHECK_MSG(sk && task && sk->verify(v, &job, blob.data, blob.len, &verdict, &err) == GT_EUNSUPPORTED,
              "the validator of another model judged a model-less job's batch (%s)", err.msg);
    CHECK_CONTAINS(err.msg, "names no model");
    json_decref(task);
    json_decref(spec_json);
    gt_buf_free(&blob);
    gt_job_spec_free(&js);
    gt_agent_free(poster);
    gt_agent_free(w);
    gt_agent_free(v);
    gt_agent_model_free(other);
}

/* ---- evaluation ---- */

/* An eval spec of the fixture model on logic-v1's first 4 items, `check`
 * of them re-executed by each judge (4: all of them, the floor). */
static char *eval_spec_checked(uint64_t check) {
    gt_work_eval_spec s = {.limit = 4, .check = check};
    gt_bench *b = NULL;
    gt_err err = {0};
    if (gt_bench_open("logic-v1", &b, &err)) return NULL;
    memcpy(s.model, gt_agent_model_hash(model), 32);
    memcpy(s.bench_hash, b->hash, 32);
    snprintf(s.bench, sizeof s.bench, "logic-v1");
    gt_bench_free(b);
    return gt_work_eval_spec_json(&s);
}

static char *eval_spec(void) { return eval_spec_checked(4); }

/* An eval task whose spec has each judge re-execute 2 of its 4 items, below
 * the floor min(items, 16) = 4: the node's ledger (format 10) refuses its
 * attestation, so an honest worker that claimed it would lose its stake.
 * The worker skips it, saying why, and never claims (on the old agent it
 * claimed: claimed 1, the slot claimed). The skill's claimable hook takes
 * the same spec at check 4. */
static void test_eval_under_floor(void) {
    gt_agent *poster = make("f-poster", "eval", GT_ROLE_POSTER, 0, NULL);
    gt_agent *w = make("f-worker", "eval", GT_ROLE_WORKER, 0, NULL);
    if (!poster || !w) return;
    char *spec = eval_spec_checked(2);
    CHECK(spec != NULL);
    gt_task_terms t = {.kind = GT_WORK_KIND_EVAL, .slots = 1, .bounty_units = 2000000, .stake_units = 1000000};
    uint8_t id[32];
    gt_err err = {0};
    agent_log[0] = 0;
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    gt_agent *all[] = {poster, w};
    for (int i = 0; i < 20; i++) tnet_step(all, 2);
    char st[32];
    CHECK_STR(slot_state(id, 0, st, sizeof st), "open");
    gt_agent_stats ws;
    gt_agent_stats_get(w, &ws);
    CHECK_EQ_U64(ws.claimed, 0);
    CHECK_CONTAINS(agent_log, "f-worker: skips task");
    CHECK_CONTAINS(agent_log, "its spec has each judge re-execute check 2 of 4 items, below the floor min(items,16)=4");
    const gt_skill *ev = gt_skill_find("eval");
    char *ok = eval_spec_checked(4);
    json_t *js = ok ? json_loads(ok, 0, NULL) : NULL, *task = json_pack("{s:i}", "submitSeconds", 300);
    gt_job job = {.spec = js, .task = task}; /* the window too: claimable weighs the bench against it */
    CHECK(ev && ev->claimable && js);
    if (ev && ev->claimable && js) CHECK_MSG(ev->claimable(w, &job, &err) == 0, "%s", err.msg);
    json_decref(js), json_decref(task);
    free(ok);
    free(spec);
    gt_agent_free(poster);
    gt_agent_free(w);
}

/* The slot of eval task id submitted and its verifier (all[3]) off line:
 * the validator (all[4]) passes over it several times and, from format 12
 * (the node's format12Height is 0), sends no clear co-sign, which would be
 * refused while a rejection could still be disputed (and show a future
 * panel its vote): no action failed, no co-sign. The verifier comes back on
 * line. On format 11's agents the validator co-signed at once, the ledger
 * refused it, and the agent, which tries once per attempt, never co-signed
 * the accepted slot (test_eval's wait for its co-sign fails). */
static void held_until_verdict(gt_agent **all, const uint8_t id[32]) {
    char st[32] = "";
    gt_agent_stats before, after;
    gt_agent_stats_get(all[4], &before);
    gt_agent_set_roles(all[3], 0);
    for (int i = 0; i < 200 && strcmp(slot_state(id, 0, st, sizeof st), "submitted"); i++) {
        tnet_step(all, 5);
        usleep(20000);
    }
    CHECK_STR(st, "submitted");
    for (int i = 0; i < 10; i++) tnet_step(all, 5);
    gt_agent_stats_get(all[4], &after);
    CHECK_EQ_U64(after.errors, before.errors);
    CHECK_EQ_U64(after.cosigns, before.cosigns);
    CHECK_STR(slot_state(id, 0, st, sizeof st), "submitted");
    gt_agent_set_roles(all[3], GT_ROLE_EVALUATOR | GT_ROLE_VALIDATOR);
}

static void test_eval(void) {
    gt_agent *poster = make("e-poster", "eval", GT_ROLE_POSTER, 0, NULL);
    gt_agent *honest = make("e-honest", "eval", GT_ROLE_WORKER, 0, NULL);
    gt_agent *forger = make("e-forger", "eval", 0, GT_FAULT_FORGE_SCORE, NULL);
    gt_agent *verifier = make("e-verifier", "eval", GT_ROLE_EVALUATOR | GT_ROLE_VALIDATOR, 0, NULL);
    gt_agent *val = make("e-validator", "eval", GT_ROLE_VALIDATOR, 0, NULL);
    if (!poster || !honest || !forger || !verifier || !val) return;
    char *spec = eval_spec();
    CHECK(spec != NULL);
    gt_task_terms t = {.kind = GT_WORK_KIND_EVAL, .slots = 1, .bounty_units = 2000000, .stake_units = 1000000,
                       .fee_units = 100000};
    t.verifier = *gt_agent_address(verifier);
    uint8_t a_id[32], b_id[32];
    gt_err err = {0};
    CHECK(gt_agent_post(poster, &t, spec, strlen(spec), a_id, &err) == 0);
    gt_agent *all[] = {poster, honest, forger, verifier, val};
    held_until_verdict(all, a_id);
    CHECK(run_until(all, 5, a_id, NULL, NULL));
    /* The validator co-signs even after the task is complete (from format
     * 12 only then: no panel can judge the slot any more). */
    gt_agent_stats vst = {0};
    for (int i = 0; i < 50; i++) {
        gt_agent_stats_get(val, &vst);
        if (vst.cosigns >= 1) break;
        tnet_step(all, 5);
    }
    CHECK_EQ_U64(vst.cosigns, 1);
    /* The forger takes the next one alone. */
    gt_agent_set_roles(honest, 0);
    gt_agent_set_roles(forger, GT_ROLE_WORKER);
    uint64_t forger_before = balance(forger);
    CHECK(gt_agent_post(poster, &t, spec, strlen(spec), b_id, &err) == 0);
    char st_s[32];
    /* Until it has submitted: a dispute decided at once by the only validator
     * on its panel can reopen the slot within two steps, so stop at any state
     * past "claimed" or at the next attempt, before the forger claims again. */
    for (int i = 0; i < 20; i++) {
        slot_state(b_id, 0, st_s, sizeof st_s);
        json_t *tb0 = task_get(b_id);
        json_int_t att = json_integer_value(json_object_get(json_array_get(json_object_get(tb0, "slotList"), 0), "attempt"));
        json_decref(tb0);
        if (att >= 1 || (strcmp(st_s, "open") && strcmp(st_s, "claimed"))) break;
        tnet_step(all, 5);
    }
    gt_agent_set_roles(forger, 0);
    /* Verdict, dispute, the validator's vote; the vote closes after 5 blocks:
     * the empty blocks come from the poster's settles and everyone's acts,
     * so step until the slot reopens. */
    json_t *tb = NULL;
    for (int i = 0; i < 400; i++) {
        tnet_step(all, 5);
        json_decref(tb);
        tb = task_get(b_id);
        json_t *sl = json_array_get(json_object_get(tb, "slotList"), 0);
        if (json_integer_value(json_object_get(sl, "attempt")) >= 1) break;
        /* A block per pass so the vote's deadline passes. */
        tnet_mint(dir, gt_agent_address(poster), 1, NULL);
        usleep(20000);
    }
    json_t *sl = json_array_get(json_object_get(tb, "slotList"), 0);
    CHECK_MSG(json_integer_value(json_object_get(sl, "attempt")) >= 1, "forged slot not reopened: %s",
              json_string_value(json_object_get(sl, "state")));
    json_decref(tb);
    gt_agent_stats fs;
    gt_agent_stats_get(forger, &fs);
    CHECK_EQ_U64(fs.disputes_opened, 1);
    CHECK_EQ_U64(balance(forger), forger_before - 2000000); /* its stake and its dispute bond */
    /* The leaderboard: the honest attestation only, co-signed twice. */
    char db[128];
    snprintf(db, sizeof db, "%s/ledger.db", home);
    sqlite3 *h = NULL;
    CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    json_t *board = gt_work_leaderboard(h, "logic-v1", 0, &err), *all_b = gt_work_leaderboard(h, "logic-v1", 1, &err);
    CHECK(board && all_b);
    json_t *e0 = json_array_get(json_object_get(board, "entries"), 0);
    CHECK_EQ_INT(json_array_size(json_object_get(board, "entries")), 1);
    CHECK_STR(json_string_value(json_object_get(e0, "status")), "accepted");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(e0, "cosigns"), "agreed")), 2);
    int rejected = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(all_b, "entries"), i, e) {
        const char *s = json_string_value(json_object_get(e, "status"));
        if (s && !strcmp(s, "rejected")) {
            rejected++;
            CHECK_EQ_INT(json_integer_value(json_object_get(e, "scorePpm")), 1000000);
            CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(e, "cosigns"), "disagreed")), 2);
        }
    }
    CHECK_EQ_INT(rejected, 1);
    json_decref(board);
    json_decref(all_b);
    sqlite3_close(h);
    free(spec);
    for (int k = 0; k < 5; k++) gt_agent_free(all[k]);
}

/* The view of slot 0 of task id while its verify round is sealed: 1 when it
 * shows `commits` commitments and no public vote yet. */
static int sealed_unvoted(const uint8_t id[32], size_t commits) {
    json_t *t = task_get(id);
    json_t *sl = json_array_get(json_object_get(t, "slotList"), 0);
    int yes = json_array_size(json_object_get(sl, "commits")) == commits &&
              json_array_size(json_object_get(sl, "votes")) == 0;
    json_decref(t);
    return yes;
}

/* A quorum eval task (quorum 2) on a ledger made at format 11 (the node's
 * format11Height is 0): its panel, two validators staked above every earlier
 * one so they alone are eligible, may only vote sealed. Real agents check
 * the attestation and commit (the view shows two commitments and no vote:
 * a lazy judge has nothing to copy), then open their votes with eval_reveal;
 * the slot is accepted and paid, and the attestation is backed
 * by both judges (their co-signs, recorded at the reveal, agree with their
 * accepting votes). On format 10's code the agents co-signed in the clear
 * (each co-sign its public vote) and no commitment was ever seen. */
static void test_eval_quorum_sealed(void) {
    gt_agent *poster = make("s-poster", "eval", GT_ROLE_POSTER, 0, NULL);
    gt_agent *worker = make("s-worker", "eval", GT_ROLE_WORKER, 0, NULL);
    gt_agent *v1 = make("s-val1", "eval", GT_ROLE_VALIDATOR, 0, NULL);
    gt_agent *v2 = make("s-val2", "eval", GT_ROLE_VALIDATOR, 0, NULL);
    if (!poster || !worker || !v1 || !v2) return;
    gt_err err = {0};
    gt_key k;
    for (int i = 0; i < 2; i++) { /* 4 tokens staked: over the task's stake (3), which no earlier validator has */
        tnet_key(i ? "s-val2" : "s-val1", &k);
        CHECK(tnet_stake(dir, &k, 2000000, &err) == 0);
    }
    char *spec = eval_spec();
    gt_task_terms t = {.kind = GT_WORK_KIND_EVAL, .slots = 1, .bounty_units = 2000000, .stake_units = 3000000,
                       .fee_units = 100000, .quorum = 2};
    uint8_t id[32];
    CHECK(spec && gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0);
    gt_agent *all[] = {poster, worker, v1, v2};
    int seen_sealed = 0;
    for (int pass = 0; pass < 600; pass++) {
        tnet_step(all, 4);
        seen_sealed |= sealed_unvoted(id, 2);
        json_t *tv = task_get(id);
        int done = tv && !strcmp(json_string_value(json_object_get(tv, "status")) ?: "", "complete");
        json_decref(tv);
        if (done) break;
        usleep(20000);
    }
    CHECK_MSG(seen_sealed, "no view showed the two sealed votes before any was public");
    char st[32];
    CHECK_STR(slot_state(id, 0, st, sizeof st), "paid");
    gt_agent_stats s1, s2;
    gt_agent_stats_get(v1, &s1);
    gt_agent_stats_get(v2, &s2);
    CHECK_EQ_U64(s1.reveals + s2.reveals, 2);
    char db[128], me[67] = "0x"; /* the task's id, as the board names it */
    snprintf(db, sizeof db, "%s/ledger.db", home);
    gt_hex_encode(id, 32, me + 2);
    sqlite3 *h = NULL;
    CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    json_t *board = gt_work_leaderboard(h, "logic-v1", 1, &err), *e;
    size_t i;
    int found = 0;
    json_array_foreach(json_object_get(board, "entries"), i, e) {
        if (strcmp(json_string_value(json_object_get(e, "task")) ?: "", me)) continue;
        found = 1;
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(e, "cosigns"), "backed")), 2);
    }
    CHECK(found);
    json_decref(board);
    sqlite3_close(h);
    free(spec);
    for (int j = 0; j < 4; j++) gt_agent_free(all[j]);
}

/* The seed block `h` of the test node reveals. */
static void block_seed(uint64_t h, uint8_t seed[32]) {
    char path[48];
    json_t *blk = NULL;
    gt_err err = {0};
    memset(seed, 0, 32);
    snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)h);
    CHECK_MSG(gt_client_get_json(dir, path, &blk, &err) == 0, "%s", err.msg);
    const char *hex = json_string_value(json_object_get(blk, "seed"));
    CHECK(hex && gt_hex_decode(hex, seed, 32, "seed", &err) == 0);
    json_decref(blk);
}

/* The doc_hash of the first line of the slot's results blob, as item 0 of
 * held-arith-v1 drawn from block h's seed would have it: 1 when they match. */
static int results_drawn_from(const char *rid, uint64_t h) {
    uint8_t seed[32], *bytes = NULL;
    size_t len = 0;
    gt_bench *spec = NULL, *b = NULL;
    gt_err err = {0};
    char want[67] = "0x";
    block_seed(h, seed);
    CHECK_MSG(gt_client_blob_get(dir, rid, 1 << 20, &bytes, &len, &err) == 0, "%s", err.msg);
    CHECK(gt_bench_open("held-arith-v1", &spec, &err) == 0 && gt_bench_draw(spec, seed, &b, &err) == 0);
    int same = 0;
    if (b && bytes) {
        gt_hex_encode(b->items[0].doc_hash, 32, want + 2);
        json_t *o = json_loadb((const char *)bytes, (size_t)((uint8_t *)memchr(bytes, '\n', len) - bytes), 0, NULL);
        same = o && !strcmp(json_string_value(json_object_get(o, "doc_hash")) ?: "", want);
        json_decref(o);
    }
    gt_free(bytes);
    gt_bench_free(spec);
    gt_bench_free(b);
    return same;
}

/* An eval spec of the fixture model on held-arith-v1's first 2 items. */
static char *held_spec(void) {
    gt_work_eval_spec s = {.limit = 2, .check = 2};
    gt_bench *b = NULL;
    gt_err err = {0};
    if (gt_bench_open("held-arith-v1", &b, &err)) return NULL;
    memcpy(s.model, gt_agent_model_hash(model), 32);
    memcpy(s.bench_hash, b->hash, 32);
    snprintf(s.bench, sizeof s.bench, "held-arith-v1");
    gt_bench_free(b);
    return gt_work_eval_spec_json(&s);
}

/* A held-out eval task: nobody knows its items when it is posted. The
 * worker does not claim it while the block that draws them (posted + 2) is
 * not on the ledger, and says why once; then it claims, runs the items
 * block posted + 2's seed draws (item 0's doc_hash is that draw's, not the
 * block before's), and the verifier, drawing the same, agrees; the
 * leaderboard ranks the score under held-arith-v1 with drawBlock posted +
 * 2 (null on a fixed benchmark's entry). The old agent had no
 * drawn benchmarks: it skipped the task ("not a built-in benchmark"). */
static void test_eval_held_out(void) {
    gt_agent *poster = make("h-poster", "eval", GT_ROLE_POSTER, 0, NULL);
    gt_agent *w = make("h-worker", "eval", GT_ROLE_WORKER, 0, NULL);
    gt_agent *verifier = make("h-verifier", "eval", GT_ROLE_EVALUATOR | GT_ROLE_VALIDATOR, 0, NULL);
    char *spec = held_spec();
    if (!poster || !w || !verifier || !spec) goto out;
    gt_task_terms t = {.kind = GT_WORK_KIND_EVAL, .slots = 1, .bounty_units = 2000000, .stake_units = 1000000};
    t.verifier = *gt_agent_address(verifier);
    uint8_t id[32];
    gt_err err = {0};
    agent_log[0] = 0;
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    json_t *task = task_get(id);
    uint64_t posted = (uint64_t)json_integer_value(json_object_get(task, "postedHeight")), head = 0;
    json_decref(task);
    gt_agent *all[] = {poster, w, verifier};
    char st[32], want[160];
    for (int i = 0; i < 10; i++) {
        tnet_step(all, 2); /* not the verifier: it co-signs the tasks of the tests before, which makes blocks */
        CHECK(gt_client_head_height(dir, &head, &err) == 0);
        if (head >= posted + 2) break;
        CHECK_STR(slot_state(id, 0, st, sizeof st), "open");
    }
    CHECK_MSG(head < posted + 2, "blocks were made while the task waited: head %llu", (unsigned long long)head);
    gt_agent_stats ws;
    gt_agent_stats_get(w, &ws);
    CHECK_EQ_U64(ws.claimed, 0);
    snprintf(want, sizeof want, "h-worker: waits to claim task");
    CHECK_CONTAINS(agent_log, want);
    snprintf(want, sizeof want, "held-arith-v1's held-out items are drawn from block %llu's seed",
             (unsigned long long)(posted + 2));
    CHECK_CONTAINS(agent_log, want);
    for (int k = 0; k < 2; k++) CHECK(tnet_mint(dir, gt_agent_address(poster), 1, &err) == 0); /* two blocks */
    CHECK(run_until(all, 3, id, NULL, NULL));
    slot_state(id, 0, st, sizeof st);
    CHECK_MSG(!strcmp(st, "accepted") || !strcmp(st, "paid"), "slot %s", st);
    task = task_get(id);
    const char *rid = json_string_value(json_object_get(json_array_get(json_object_get(task, "slotList"), 0), "result"));
    CHECK(rid && results_drawn_from(rid, posted + 2) && !results_drawn_from(rid, posted + 1));
    json_decref(task);
    char db[128];
    snprintf(db, sizeof db, "%s/ledger.db", home);
    sqlite3 *h = NULL;
    CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    json_t *board = gt_work_leaderboard(h, "held-arith-v1", 0, &err);
    json_t *e0 = json_array_get(json_object_get(board, "entries"), 0);
    CHECK_EQ_INT(json_array_size(json_object_get(board, "entries")), 1);
    CHECK_STR(json_string_value(json_object_get(e0, "status")), "accepted");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(e0, "cosigns"), "agreed")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(e0, "drawBlock")), (json_int_t)(posted + 2));
    json_decref(board);
    board = gt_work_leaderboard(h, "logic-v1", 1, &err); /* a fixed benchmark's: no draw */
    CHECK(json_is_null(json_object_get(json_array_get(json_object_get(board, "entries"), 0), "drawBlock")));
    json_decref(board);
    sqlite3_close(h);
out:
    free(spec);
    gt_agent_free(poster);
    gt_agent_free(w);
    gt_agent_free(verifier);
}

/* A held-out eval task claimed for the worker's key before its draw's block
 * (by hand, `gotong task claim`, or a second process with the same key):
 * the agent finds its slot claimed while the head is below posted + 2, and
 * its run cannot draw the items yet. It waits (says so once) and runs them
 * once the block is on the ledger: the slot is accepted, its results block
 * posted + 2's draw. The old agent took "not yet" for a failed run,
 * remembered it and never worked the slot: it missed the submit deadline
 * and lost its stake (the slot stayed "claimed"). */
static void test_eval_held_out_early_claim(void) {
    gt_agent *poster = make("hc-poster", "eval", GT_ROLE_POSTER, 0, NULL);
    gt_agent *w = make("hc-worker", "eval", GT_ROLE_WORKER, 0, NULL);
    gt_agent *verifier = make("hc-verifier", "eval", GT_ROLE_EVALUATOR | GT_ROLE_VALIDATOR, 0, NULL);
    char *spec = held_spec();
    if (!poster || !w || !verifier || !spec) goto out;
    gt_task_terms t = {.kind = GT_WORK_KIND_EVAL, .slots = 1, .bounty_units = 2000000, .stake_units = 1000000};
    t.verifier = *gt_agent_address(verifier);
    uint8_t id[32];
    gt_err err = {0};
    gt_key kw;
    tnet_key("hc-worker", &kw);
    agent_log[0] = 0;
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    json_t *task = task_get(id);
    uint64_t posted = (uint64_t)json_integer_value(json_object_get(task, "postedHeight")), head = 0;
    json_decref(task);
    CHECK_MSG(gt_client_act(dir, &kw, &gt_kind_task_claim, fill_claim, id, NULL, NULL, &err) == 0, "%s", err.msg);
    gt_agent *all[] = {poster, w, verifier};
    char st[32], want[160];
    for (int i = 0; i < 5; i++) tnet_step(&w, 1); /* the worker alone: its waiting makes no block */
    CHECK(gt_client_head_height(dir, &head, &err) == 0);
    CHECK_MSG(head < posted + 2, "head %llu reached the draw's block", (unsigned long long)head);
    CHECK_STR(slot_state(id, 0, st, sizeof st), "claimed");
    snprintf(want, sizeof want, "held-arith-v1's held-out items are drawn from block %llu's seed",
             (unsigned long long)(posted + 2));
    CHECK_CONTAINS(agent_log, want);
    for (int k = 0; k < 2; k++) CHECK(tnet_mint(dir, gt_agent_address(poster), 1, &err) == 0); /* two blocks */
    CHECK(run_until(all, 3, id, NULL, NULL));
    slot_state(id, 0, st, sizeof st);
    CHECK_MSG(!strcmp(st, "accepted") || !strcmp(st, "paid"), "slot %s", st);
    task = task_get(id);
    const char *rid = json_string_value(json_object_get(json_array_get(json_object_get(task, "slotList"), 0), "result"));
    CHECK(rid && results_drawn_from(rid, posted + 2));
    json_decref(task);
out:
    free(spec);
    gt_agent_free(poster);
    gt_agent_free(w);
    gt_agent_free(verifier);
}

/* Signs and sends a claim of slot 0 of task id and the eval_attest att in
 * one batch from key k: one block. 0 when both were applied. */
static int claim_and_attest(const gt_key *k, const uint8_t id[32], const gt_work_attestation *att) {
    gt_domain dom;
    gt_addr from;
    gt_client_acct acc;
    gt_err err = {0};
    gt_action *a = gt_calloc(2, sizeof *a);
    json_t *arr = json_array(), *resp = NULL;
    int status = 0, rc = gt_client_domain(dir, &dom, &err);
    if (!rc && gt_key_address(k, &from)) rc = GT_EINVAL;
    if (!rc) rc = gt_client_account(dir, &from, &acc, &err);
    if (!rc) {
        gt_action_init(&a[0], &gt_kind_task_claim, &dom, &from, acc.nonce);
        gt_action_set_b32(&a[0], "task", id);
        gt_action_init(&a[1], &gt_kind_eval_attest, &dom, &from, acc.nonce + 1);
        gt_work_attest_fill(&a[1], id, 0, att);
    }
    for (int i = 0; i < 2 && !rc; i++)
        if (!(rc = gt_action_sign(&a[i], k, &err))) json_array_append_new(arr, gt_action_to_json(&a[i], 1));
    if (!rc) rc = gt_client_post_json(dir, "/v1/actions", arr, &status, &resp, &err);
    CHECK_MSG(rc == 0, "batch: %s", err.msg);
    if (!rc) rc = json_integer_value(json_object_get(resp, "accepted")) != 2;
    json_decref(arr);
    json_decref(resp);
    gt_free(a);
    return rc;
}

/* A quorum held-out eval task, its panel seated at the claim (fewer
 * validators than seats), attested in the block after the post, before its
 * draw's block: the worker ran block posted's draw, not posted + 2's. The
 * panel cannot check it yet; it waits for the block, then finds the wrong
 * items and rejects (sealed votes): the worker loses its stake. The old
 * agent took "not yet" for a failure it never retried, the panel never
 * voted, and the slot was refunded at its verify deadline: the worker's
 * stake back and the slot closed to honest workers. */
static void test_eval_held_out_quorum_early(void) {
    gt_agent *poster = make("hq-poster", "eval", GT_ROLE_POSTER, 0, NULL);
    gt_agent *x = make("hq-worker", "eval", 0, 0, NULL); /* not run: its actions are sent by hand */
    gt_agent *v1 = make("hq-val1", "eval", GT_ROLE_VALIDATOR, 0, NULL);
    gt_agent *v2 = make("hq-val2", "eval", GT_ROLE_VALIDATOR, 0, NULL);
    char *spec = held_spec();
    gt_err err = {0};
    gt_key k;
    if (!poster || !x || !v1 || !v2 || !spec) goto out;
    for (int i = 0; i < 2; i++) { /* 6 tokens: over the task's stake (5), which no earlier validator has */
        tnet_key(i ? "hq-val2" : "hq-val1", &k);
        CHECK(tnet_stake(dir, &k, 4000000, &err) == 0);
    }
    gt_task_terms t = {.kind = GT_WORK_KIND_EVAL, .slots = 1, .bounty_units = 2000000, .stake_units = 5000000,
                       .fee_units = 100000, .quorum = 2};
    uint8_t id[32], seed[32];
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    json_t *task = task_get(id);
    uint64_t posted = (uint64_t)json_integer_value(json_object_get(task, "postedHeight")), head = 0;
    json_decref(task);
    gt_work_eval_spec es = {.limit = 2, .check = 2};
    CHECK(gt_work_eval_spec_parse(spec, strlen(spec), &es, &err) == 0);
    gt_bench *sb = NULL, *b = NULL;
    gt_buf res = GT_BUF_INIT;
    gt_work_attestation att;
    char rid[72], st[32];
    block_seed(posted, seed); /* the one a worker knows before the draw */
    gt_llm *l = gt_agent_llm(x, &err);
    CHECK(l && gt_bench_open("held-arith-v1", &sb, &err) == 0 && gt_bench_draw(sb, seed, &b, &err) == 0);
    CHECK_MSG(b && gt_work_eval_attest(&es, b, l, &res, &att, &err) == 0, "%s", err.msg);
    CHECK(gt_client_blob_put(gt_agent_client(x), res.data, res.len, rid, &err) == 0);
    gt_bench_free(sb), gt_bench_free(b), gt_buf_free(&res);
    tnet_key("hq-worker", &k);
    uint64_t before = balance(x);
    CHECK(claim_and_attest(&k, id, &att) == 0);
    CHECK(gt_client_head_height(dir, &head, &err) == 0);
    CHECK_MSG(head < posted + 2, "head %llu reached the draw's block", (unsigned long long)head);
    CHECK_STR(slot_state(id, 0, st, sizeof st), "submitted");
    gt_agent *all[] = {poster, v1, v2};
    tnet_step(all, 3);
    CHECK(tnet_mint(dir, gt_agent_address(poster), 1, &err) == 0); /* block posted + 2 */
    for (int pass = 0; pass < 300; pass++) {
        tnet_step(all, 3);
        json_t *tv = task_get(id);
        json_t *sl = json_array_get(json_object_get(tv, "slotList"), 0);
        int moved = json_integer_value(json_object_get(sl, "attempt")) >= 1 ||
                    strcmp(json_string_value(json_object_get(sl, "state")) ?: "", "submitted");
        json_decref(tv);
        if (moved) break;
        usleep(20000);
    }
    json_t *tv = task_get(id);
    json_t *sl = json_array_get(json_object_get(tv, "slotList"), 0);
    const char *state = json_string_value(json_object_get(sl, "state")) ?: "?";
    CHECK_MSG(json_integer_value(json_object_get(sl, "attempt")) >= 1 || !strcmp(state, "rejected"),
              "slot %s, attempt %lld", state, (long long)json_integer_value(json_object_get(sl, "attempt")));
    json_decref(tv);
    CHECK_MSG(balance(x) + 5000000 <= before, "the worker kept its stake: %llu of %llu",
              (unsigned long long)balance(x), (unsigned long long)before);
out:
    free(spec);
    gt_agent_free(poster);
    gt_agent_free(x);
    gt_agent_free(v1);
    gt_agent_free(v2);
}

/* What the reveal guard would read after a judging pass that saw one
 * sealed vote of a's due by block time `by` (a fake: none is on the
 * ledger; every judging pass recounts them, so it is set before each step). */
static void fake_seal(gt_agent *a, uint64_t by) {
    a->seals_known = 1;
    atomic_store(&a->seals_open, 1);
    a->reveal_by_s = by, a->reveal_by_seen = 0, a->reveal_unknown = 0;
}

/* A validator that has never re-executed anything holds a sealed vote due
 * in 30 s of block time, and a paid eval slot to co-sign in the clear,
 * whose check at its measured per-token time (a fake: 1000 s a token)
 * would take far longer: it puts the co-sign off (said with the estimate),
 * then, with no seal open, co-signs. The clear co-sign path had no reveal
 * guard: it ran the check at once (cosigns 1 after the first pass). Its
 * check, in-process, times its items: the eval estimate's measure after. */
static void test_eval_cosign_held(void) {
    gt_agent *poster = make("h-poster", "eval", GT_ROLE_POSTER, 0, NULL);
    gt_agent *w = make("h-worker", "eval", GT_ROLE_WORKER, 0, NULL);
    gt_agent *verifier = make("h-verifier", "eval", GT_ROLE_EVALUATOR, 0, NULL);
    gt_agent *val = make("h-validator", "eval", GT_ROLE_VALIDATOR, 0, NULL);
    if (!poster || !w || !verifier || !val) return;
    gt_agent_set_roles(val, 0); /* until the slot is paid */
    char *spec = eval_spec();
    gt_task_terms t = {.kind = GT_WORK_KIND_EVAL, .slots = 1, .bounty_units = 2000000, .stake_units = 1000000,
                       .fee_units = 100000};
    t.verifier = *gt_agent_address(verifier);
    uint8_t id[32];
    uint64_t height = 0, now_s = 0;
    gt_err err = {0};
    gt_agent_stats st;
    CHECK_MSG(spec && gt_agent_post(poster, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    gt_agent *all[] = {poster, w, verifier}, *vs[1] = {val};
    CHECK(run_until(all, 3, id, NULL, NULL));
    gt_agent_set_roles(val, GT_ROLE_VALIDATOR);
    val->gen_us = 1000000000ull, val->gen_tokens = 1;
    agent_log[0] = 0;
    for (int i = 0; i < 3; i++) {
        CHECK(gt_client_head(dir, &height, &now_s, NULL) == 0);
        fake_seal(val, now_s + 30);
        if (gt_agent_step(val, NULL, &err)) fprintf(stderr, "step: %s\n", err.msg);
    }
    gt_agent_stats_get(val, &st);
    CHECK_EQ_U64(st.cosigns, 0); /* none: the paid slots of the tests above are held too */
    gt_bench *b = NULL;
    char sid[16], want[192], done[96];
    CHECK(gt_bench_open("logic-v1", &b, &err) == 0);
    uint64_t per = b && b->max_tokens > 16 ? (uint64_t)b->max_tokens : 16; /* its items' tokens, 16 at least */
    uint64_t est = 4 * per * 1000000 + 1;                                  /* 4 items checked at 1000 s a token */
    gt_bench_free(b);
    snprintf(want, sizeof want, "h-validator: puts off re-running task %s slot 0: a re-run of up to %llu ms (estimated "
             "%llu ms", ag_short_id(id, sid), (unsigned long long)(2 * est + 1000), (unsigned long long)est);
    CHECK_CONTAINS(agent_log, want);
    snprintf(done, sizeof done, "h-validator: attestation on task %s slot 0: co-signed", sid);
    CHECK(!strstr(agent_log, done));
    val->gen_us = 0, val->gen_tokens = 0;
    for (int i = 0; i < 20 && !strstr(agent_log, done); i++) tnet_step(vs, 1);
    CHECK_CONTAINS(agent_log, done);
    gt_agent_stats_get(val, &st);
    CHECK(st.cosigns >= 1);
    /* Its check (and the worker's run) timed their items: the next estimate
     * needs no per-token time (none was timed: the model ran in-process). */
    const gt_skill *ev = gt_skill_find("eval");
    json_t *js = spec ? json_loads(spec, 0, NULL) : NULL;
    gt_job job = {.spec = js};
    CHECK(ev && ev->rerun_ms && js && val->eval_item_us > 0 && w->eval_item_us > 0);
    if (ev && ev->rerun_ms && js) CHECK_EQ_U64(ev->rerun_ms(val, &job), 4 * val->eval_item_us / 1000 + 1);
    json_decref(js);
    free(spec);
    gt_agent_free(poster), gt_agent_free(w), gt_agent_free(verifier), gt_agent_free(val);
}

int main(void) {
    gt_err err = {0};
    signal(SIGPIPE, SIG_IGN);
    if (gt_agent_model_load(gt_fixture("models/tiny-llama-q8_0.gguf"), &model, &err)) {
        fprintf(stderr, "fixture model: %s\n", err.msg);
        return 1;
    }
    if (start_node() || fpx_start(&proxy, url)) {
        fprintf(stderr, "could not start %s node\n", GT_CLI);
        return 1;
    }
    RUN(test_fits_refusals);
    RUN(test_quorum_data_job); /* first: its panel is drawn from the only staked validator */
    RUN(test_data_job);
    RUN(test_stuck_slot);
    RUN(test_wrong_batch_size);
    RUN(test_big_batch_window);
    RUN(test_judge_over_context);
    RUN(test_judge_no_answers);
    RUN(test_claim_check_cheap);
    RUN(test_model_less_job);
    RUN(test_vote_draw);
    RUN(test_publish_draw);
    RUN(test_publish_left_out);
    RUN(test_publish_dispute_won);
    RUN(test_eval_under_floor);
    RUN(test_eval);
    RUN(test_eval_quorum_sealed);
    RUN(test_eval_held_out);
    RUN(test_eval_held_out_early_claim);
    RUN(test_eval_held_out_quorum_early);
    RUN(test_eval_cosign_held); /* last: its staked validator would sit on the panels of those above */
    fpx_stop(&proxy);
    tnet_stop(home, node_pid, dir);
    gt_agent_model_free(model);
    return gt_test_finish();
}
