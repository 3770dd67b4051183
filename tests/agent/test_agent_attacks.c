/* test_agent_attacks.c: attacks on the work layer, made by real agents
 * (the agent runtime: keys, cards, posting, the generate and validate skills,
 * the poster's dataset publication) against a real node (`gotong node` in a
 * child process) with the tiny fixture model. The ledger-level scenarios
 * (tests/scenarios: work/dataset_publish, partial_wash,
 * attack_impersonate_name) show the rules; these show the rules hold for
 * agents talking to a node:
 *  - dataset squatting: a squatter's poster agent posts a task of an honest
 *    poster's job (the same spec, so the same job id), has it worked and
 *    judged, and its runtime publishes a dataset root for the job first;
 *    then it publishes a bogus root through the honest task. Both are
 *    refused (only the job's poster publishes); the honest poster's agent
 *    then publishes, and the root on the ledger is the root of its files;
 *  - partial wash trading: a sybil pair (a poster agent, and its evaluator)
 *    try to mint reputation units for a worker of theirs: a batch of
 *    1,000,000 units declared on a few base units of bounty is refused at
 *    post; a per-unit verdict claiming 1,000,000 (or any total but the
 *    batch's real size) is refused; the worker's reputation counts only the
 *    samples its batches really hold;
 *  - front-running a shared spec: a user posting a job whose first task
 *    is another's is stopped by its runtime before it pays (the job, and
 *    its dataset, would be the other's);
 *  - benchmark laundering: a poster posts a data job with a built-in
 *    benchmark's family and seed (its items were the benchmark's): as spec
 *    version 1 a worker skips it, unclaimed; as version 2 it is worked and
 *    no prompt of the batch is a question any built-in asks;
 *  - name impersonation: agents whose names display like a registered
 *    agent's ("Paypal": a capital I, a Cyrillic а, a digit 1, full-width
 *    letters, another case, a bidi override, a zero-width joiner) cannot
 *    register; no card of theirs exists; a name that only contains it can. */
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "agent_net.h"
#include "agent/agent.h"
#include "agent/skill_generate.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "store/blob.h"
#include "market/market.h"
#include "work/data/batch.h"
#include "work/data/export.h"
#include "work/eval/bench.h"
#include "work/work.h"

static gt_agent_model *model;
static char home[64], url[128];
static pid_t node_pid;
static gt_client *dir;



/* The progress lines of the agents, kept (the last 16 KiB) so a test can
 * check what an agent's runtime did and was told. */
static char agent_log[16384];

static void log_line(void *arg, const char *agent_name, const char *line) {
    (void)arg;
    size_t n = strlen(agent_log), add = strlen(agent_name) + strlen(line) + 3;
    if (n + add >= sizeof agent_log) n = 0, agent_log[0] = 0;
    snprintf(agent_log + n, sizeof agent_log - n, "%s: %s\n", agent_name, line);
}

/* An agent under key `name` with card name `card`, funded with 20 tokens;
 * registered when reg is set. */
static gt_agent *make_as(const char *name, const char *card, const char *skills, int roles, const char *datasets,
                         int reg) {
    gt_key k;
    tnet_key(name, &k);
    gt_agent_config c = {.name = card, .skills = skills, .price_units = 1, .roles = roles, .model = model,
                         .poll_ms = 50, .datasets_dir = datasets, .log = log_line};
    gt_agent *a = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_agent_new(&c, &k, url, &a, &err) == 0, "agent: %s", err.msg);
    if (!a) return NULL;
    CHECK(tnet_mint(dir, gt_agent_address(a), 20000000, &err) == 0);
    if (reg) CHECK_MSG(gt_agent_register(a, &err) == 0, "register %s: %s", card, err.msg);
    return a;
}

static gt_agent *make(const char *name, const char *skills, int roles, const char *datasets) {
    return make_as(name, name, skills, roles, datasets, 1);
}


static int task_complete(const uint8_t id[32]) {
    json_t *t = NULL;
    gt_client_task(dir, id, &t, NULL);
    int done = t && !strcmp(json_string_value(json_object_get(t, "status")) ?: "", "complete");
    json_decref(t);
    return done;
}

/* Steps agents until every task of ids is complete (600 passes at most). */
static int run_until_complete(gt_agent **ag, int n, const uint8_t (*ids)[32], int n_ids) {
    for (int pass = 0; pass < 600; pass++) {
        tnet_step(ag, n);
        int all = 1;
        for (int i = 0; i < n_ids && all; i++) all = task_complete(ids[i]);
        if (all) return 1;
        usleep(20000);
    }
    return 0;
}

static int start_node(void) {
    /* Long idle blocks: every deadline here passes by actions only. */
    return tnet_start("agent-attacks", gt_work_register, "60000", home, sizeof home, url, sizeof url, &node_pid,
                      &dir);
}

/* A job of 8 samples in batches of 4 (2 slots), for the tiny model. */
static char *job_spec(const char *model_id, const char *name) {
    json_t *o = json_pack("{s:i,s:s,s:s,s:{s:[s,s,s,s]},s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:{s:i,s:f},s:{s:b,s:f}}", "version",
                          1, "name", name, "template", "Write one line about {topic}.\n", "variables", "topic",
                          "rice terraces", "a ferry crossing", "the monsoon", "a night market", "seed", 7, "samples", 8,
                          "batch", 4, "reward", "0.5", "stake", "0.25", "license", "cc-by-4.0", "model", model_id,
                          "generation", "max_tokens", 8, "temp", 0.0, "pipeline", "near_dedup", 0, "spot_check", 0.5);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* The job's terms for a task of spec, judged by verifier v. */
static gt_task_terms job_terms(const char *spec, const gt_agent *v, gt_job_spec *js) {
    gt_work_terms terms;
    gt_err err = {0};
    if (gt_job_spec_parse(spec, strlen(spec), js, &err)) { /* no terms: a spec of zeros would divide by 0 */
        CHECK_MSG(0, "spec: %s", err.msg);
        return (gt_task_terms){0};
    }
    CHECK(gt_work_job_terms(js, &terms, &err) == 0);
    gt_task_terms t = {.kind = GT_WORK_KIND_GENERATE, .slots = terms.slots, .bounty_units = terms.bounty_units,
                       .stake_units = terms.stake_units, .fee_units = 100000,
                       .batch_items = terms.batch_items, .last_batch_items = terms.last_batch_items};
    t.verifier = *gt_agent_address(v);
    return t;
}

/* ---- dataset squatting ---- */

typedef struct publish_args {
    const uint8_t *task, *job, *root, *manifest;
    uint64_t rows;
} publish_args;

static int fill_publish(void *arg, gt_action *a, gt_err *err) {
    (void)err;
    const publish_args *x = arg;
    gt_action_set_b32(a, "task", x->task);
    gt_action_set_b32(a, "job", x->job);
    gt_action_set_b32(a, "root", x->root);
    gt_action_set_u64(a, "rows", x->rows);
    gt_action_set_b32(a, "manifest", x->manifest);
    return 0;
}

/* The dataset recorded for job (NULL when none), from the node's ledger file. */
static json_t *dataset_of(const uint8_t job[32]) {
    char db[128];
    snprintf(db, sizeof db, "%s/ledger.db", home);
    sqlite3 *h = NULL;
    gt_err err = {0};
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return NULL;
    }
    json_t *pub = gt_work_dataset_get(h, job, &err);
    sqlite3_close(h);
    return pub;
}

/* The squatter's two tries, both refused: its runtime's own publication
 * through its task of the job (run by stepping it once its task is done),
 * and a bogus root through the honest poster's task. */
static void squatter_tries(gt_agent *squatter, const uint8_t honest[32], const gt_job_spec *js) {
    gt_agent *one[] = {squatter};
    agent_log[0] = 0;
    for (int i = 0; i < 5; i++) tnet_step(one, 1);
    CHECK_CONTAINS(agent_log, "only the job's poster");
    gt_agent_stats st;
    gt_agent_stats_get(squatter, &st);
    CHECK_EQ_U64(st.datasets_published, 0);
    CHECK_MSG(st.errors >= 1, "the squatter's publication was not tried (errors %llu)", (unsigned long long)st.errors);
    uint8_t bogus[32], manifest[32];
    gt_keccak256("bogus root", 10, bogus);
    gt_keccak256("bogus manifest", 14, manifest);
    publish_args x = {honest, js->id, bogus, manifest, 8};
    gt_err err = {0};
    CHECK(gt_agent_act(squatter, &gt_kind_dataset_publish, fill_publish, &x, NULL, &err) != 0);
    CHECK_CONTAINS(err.msg, "only the job's poster");
    json_t *pub = dataset_of(js->id);
    CHECK_MSG(pub == NULL, "a dataset was recorded for the job before its poster published");
    json_decref(pub);
}

typedef struct raw_args {
    const gt_task_terms *t;
    const uint8_t *spec;
} raw_args;

/* A task_post of terms t for spec, as any key may sign it (no client check). */
static int fill_raw_post(void *arg, gt_action *a, gt_err *err) {
    const raw_args *r = arg;
    int rc = gt_action_set_str(a, "kind", r->t->kind, strlen(r->t->kind), err);
    gt_action_set_b32(a, "spec", r->spec);
    gt_action_set_u64(a, "slots", r->t->slots);
    gt_action_set_u64(a, "bounty", r->t->bounty_units);
    gt_action_set_u64(a, "stake", r->t->stake_units);
    gt_action_set_addr(a, "verifier", &r->t->verifier);
    gt_action_set_u64(a, "fee", r->t->fee_units);
    gt_action_set_u64(a, "claimSeconds", 600);
    gt_action_set_u64(a, "submitSeconds", 300);
    gt_action_set_u64(a, "verifySeconds", 300);
    gt_action_set_u64(a, "batchItems", r->t->batch_items);
    gt_action_set_u64(a, "lastBatchItems", r->t->last_batch_items);
    return rc;
}

/* Front-running a shared spec (the attack): a job is its first generate
 * task's poster's, and a spec from a README or a shared file has the same id
 * for everyone. A squatter posts it first (a one-slot task it may let
 * expire: a fee); a user posting the same spec later used to be let through,
 * paid every batch, and only at publication learnt that the dataset was
 * the squatter's to publish. Now the poster's runtime refuses the post
 * (EEXIST, naming the owner) before any money moves; the job's own poster
 * may still post more tasks of it. */
static void test_job_front_run(void) {
    gt_agent *front = make("q-front", "generate", GT_ROLE_POSTER, NULL);
    gt_agent *user = make("q-user", "generate", GT_ROLE_POSTER, NULL);
    gt_agent *v = make("q-judge", "validate", GT_ROLE_EVALUATOR, NULL);
    if (!front || !user || !v) return;
    char *spec = job_spec(gt_agent_model_id(model), "readme-notes");
    gt_job_spec js;
    gt_task_terms t = job_terms(spec, v, &js), one = t;
    one.slots = 1, one.last_batch_items = 0;
    uint8_t id[32];
    gt_err err = {0};
    CHECK_MSG(gt_agent_post(front, &one, spec, strlen(spec), id, &err) == 0, "front post: %s", err.msg);
    gt_client_acct before, after;
    CHECK(gt_client_account(dir, gt_agent_address(user), &before, &err) == 0);
    CHECK_MSG(gt_agent_post(user, &t, spec, strlen(spec), id, &err) == GT_EEXIST,
              "the user's post of another's job was let through (%s)", err.msg);
    char fs[43];
    gt_addr_to_str(gt_agent_address(front), fs);
    CHECK_CONTAINS(err.msg, fs);
    CHECK(gt_client_account(dir, gt_agent_address(user), &after, &err) == 0);
    CHECK_EQ_U64(after.balance_units, before.balance_units); /* nothing paid, nothing locked */
    err = (gt_err){0};
    CHECK_MSG(gt_agent_post(front, &one, spec, strlen(spec), id, &err) == 0, "the owner's second task: %s", err.msg);
    free(spec);
    gt_job_spec_free(&js);
    gt_agent *all[] = {front, user, v};
    for (int i = 0; i < 3; i++) gt_agent_free(all[i]);
}

static void test_dataset_squat(void) {
    char datasets[128], sq_datasets[128];
    snprintf(datasets, sizeof datasets, "%s/datasets", home);
    snprintf(sq_datasets, sizeof sq_datasets, "%s/squatter-datasets", home);
    gt_agent *poster = make("q-poster", "generate", GT_ROLE_POSTER, datasets);
    gt_agent *squatter = make("q-squatter", "generate", GT_ROLE_POSTER, sq_datasets);
    gt_agent *w0 = make("q-worker0", "generate", GT_ROLE_WORKER, NULL);
    gt_agent *w1 = make("q-worker1", "generate", GT_ROLE_WORKER, NULL);
    gt_agent *v = make("q-validator", "validate", GT_ROLE_EVALUATOR, NULL);
    if (!poster || !squatter || !w0 || !w1 || !v) return;
    char *spec = job_spec(gt_agent_model_id(model), "squatted-notes");
    gt_job_spec js;
    gt_task_terms t = job_terms(spec, v, &js);
    uint8_t ids[2][32];
    gt_err err = {0};
    CHECK_MSG(gt_agent_post(poster, &t, spec, strlen(spec), ids[0], &err) == 0, "post: %s", err.msg);
    /* The squatter posts the same spec: a task of the same job. Its own
     * runtime would refuse (the job is the poster's), so it signs the
     * task_post itself. */
    raw_args r = {&t, js.id};
    CHECK_MSG(gt_agent_act(squatter, &gt_kind_task_post, fill_raw_post, &r, ids[1], &err) == 0, "squat post: %s",
              err.msg);
    free(spec);
    /* Both tasks are worked and judged; neither poster agent steps yet. */
    gt_agent *workers[] = {w0, w1, v};
    CHECK(run_until_complete(workers, 3, (const uint8_t(*)[32])ids, 2));
    squatter_tries(squatter, ids[0], &js);
    /* The honest poster's agent publishes; the root is its files' root. */
    gt_agent *one[] = {poster};
    gt_agent_stats st = {0};
    for (int i = 0; i < 50 && !st.datasets_published; i++) {
        tnet_step(one, 1);
        gt_agent_stats_get(poster, &st);
    }
    CHECK_EQ_U64(st.datasets_published, 1);
    json_t *pub = dataset_of(js.id);
    CHECK_MSG(pub != NULL, "the poster's dataset is not on the ledger");
    uint8_t root[32], got[32];
    char ddir[256];
    size_t rows = 0;
    CHECK(pub && gt_agent_json_hash(pub, "root", root, &err) == 0);
    uint8_t manifest[32]; /* provenance.json's sha256, as the ledger records it */
    CHECK(pub && gt_agent_json_hash(pub, "manifest", manifest, &err) == 0);
    gt_agent_dataset_dir(datasets, js.id, ddir, sizeof ddir);
    CHECK_MSG(gt_dataset_verify(ddir, root, manifest, got, &rows, &err) == 0, "verify: %s", err.msg);
    CHECK(rows >= 1);
    json_decref(pub);
    gt_job_spec_free(&js);
    gt_agent *all[] = {poster, squatter, w0, w1, v};
    for (int i = 0; i < 5; i++) gt_agent_free(all[i]);
}

/* ---- partial wash trading ---- */

typedef struct partial_args {
    const uint8_t *task, *result, *reason;
    uint64_t slot, accepted, total;
} partial_args;

static int fill_partial(void *arg, gt_action *a, gt_err *err) {
    (void)err;
    const partial_args *x = arg;
    gt_action_set_b32(a, "task", x->task);
    gt_action_set_u64(a, "slot", x->slot);
    gt_action_set_b32(a, "result", x->result);
    gt_action_set_u64(a, "accepted", x->accepted);
    gt_action_set_u64(a, "total", x->total);
    gt_action_set_u64(a, "score", 100);
    gt_action_set_b32(a, "reason", x->reason);
    return 0;
}

/* Steps the worker until slot 0 of task id is submitted; fills its result. */
static int submitted(gt_agent *w, const uint8_t id[32], uint8_t result[32]) {
    gt_agent *one[] = {w};
    for (int pass = 0; pass < 200; pass++) {
        tnet_step(one, 1);
        json_t *t = NULL;
        gt_client_task(dir, id, &t, NULL);
        json_t *sl = json_array_get(json_object_get(t, "slotList"), 0);
        int ok = !strcmp(json_string_value(json_object_get(sl, "state")) ?: "", "submitted") &&
                 gt_agent_json_hash(sl, "result", result, NULL) == 0;
        json_decref(t);
        if (ok) return 1;
        usleep(20000);
    }
    return 0;
}

/* Steps the worker until slot 0 of task id is paid (it settles). */
static int slot0_paid(gt_agent *w, const uint8_t id[32]) {
    gt_agent *one[] = {w};
    for (int pass = 0; pass < 200; pass++) {
        tnet_step(one, 1);
        json_t *t = NULL;
        gt_client_task(dir, id, &t, NULL);
        json_t *sl = json_array_get(json_object_get(t, "slotList"), 0);
        int paid = !strcmp(json_string_value(json_object_get(sl, "state")) ?: "", "paid");
        json_decref(t);
        if (paid) return 1;
        usleep(20000);
    }
    return 0;
}

/* The units of reputation worker w holds for `generate`. */
static long long units_accepted(const gt_agent *w) {
    json_t *rep = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_client_reputation(dir, gt_agent_address(w), &rep, &err) == 0, "reputation: %s", err.msg);
    long long n = json_integer_value(json_object_get(json_object_get(rep, "total"), "unitsAccepted"));
    json_decref(rep);
    return n;
}

static void test_partial_wash(void) {
    gt_agent *sybil = make("w-sybil-poster", "generate", 0, NULL);
    gt_agent *judge = make("w-sybil-judge", "validate", 0, NULL);
    gt_agent *w = make("w-sybil-worker", "generate", GT_ROLE_WORKER, NULL);
    if (!sybil || !judge || !w) return;
    char *spec = job_spec(gt_agent_model_id(model), "washed-notes");
    gt_job_spec js;
    gt_task_terms t = job_terms(spec, judge, &js);
    /* One base unit a sample, the least the market takes; a batch of a
     * million declared on it is refused. */
    t.bounty_units = t.stake_units = t.batch_items;
    t.fee_units = 1;
    gt_task_terms inflated = t;
    inflated.batch_items = GT_MARKET_MAX_UNITS;
    uint8_t id[32], result[32], reason[32];
    gt_err err = {0};
    CHECK(gt_agent_post(sybil, &inflated, spec, strlen(spec), id, &err) != 0);
    CHECK_CONTAINS(err.msg, "batchItems must be at most");
    CHECK_MSG(gt_agent_post(sybil, &t, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    free(spec);
    CHECK(submitted(w, id, result));
    gt_keccak256("all good", 8, reason);
    static const uint64_t lies[] = {GT_MARKET_MAX_UNITS, 5, 8};
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        partial_args x = {id, result, reason, 0, lies[i], lies[i]};
        err = (gt_err){0};
        CHECK_MSG(gt_agent_act(judge, &gt_kind_task_verify_partial, fill_partial, &x, NULL, &err) != 0,
                  "a total of %llu units was taken", (unsigned long long)lies[i]);
        CHECK_CONTAINS(err.msg, "total must be the 4 units slot 0 holds");
    }
    partial_args x = {id, result, reason, 0, t.batch_items, t.batch_items};
    CHECK_MSG(gt_agent_act(judge, &gt_kind_task_verify_partial, fill_partial, &x, NULL, &err) == 0,
              "the batch's real size: %s", err.msg);
    CHECK(slot0_paid(w, id));
    CHECK_EQ_INT(units_accepted(w), (long long)t.batch_items);
    gt_job_spec_free(&js);
    gt_agent_free(sybil);
    gt_agent_free(judge);
    gt_agent_free(w);
}

/* ---- name impersonation ---- */

/* Tries to register key `key` as card `card`: refused, the message holding
 * `why`, and no card for the key. */
static void impersonator(const char *key, const char *card, const char *why) {
    gt_agent *m = make_as(key, card, "complete", 0, NULL, 0);
    if (!m) return;
    gt_err err = {0};
    CHECK_MSG(gt_agent_register(m, &err) != 0, "%s registered as %s", key, card);
    CHECK_CONTAINS(err.msg, why);
    char path[96], a[43];
    gt_addr_to_str(gt_agent_address(m), a);
    snprintf(path, sizeof path, "/v1/agents/%s", a);
    json_t *j = NULL;
    err = (gt_err){0};
    CHECK_MSG(gt_client_get_json(dir, path, &j, &err) != 0, "%s has a card", key);
    json_decref(j);
    gt_agent_free(m);
}

static void test_name_impersonation(void) {
    gt_agent *alice = make_as("n-alice", "Paypal", "complete", 0, NULL, 1);
    if (!alice) return;
    impersonator("n-mallory-1", "PaypaI", "looks like the name \"Paypal\" of agent");
    impersonator("n-mallory-2", "P\xd0\xb0yp\xd0\xb0l", "looks like the name \"Paypal\"");
    impersonator("n-mallory-3", "Paypa1", "looks like the name \"Paypal\"");
    impersonator("n-mallory-4", "\xef\xbc\xb0\xef\xbd\x81\xef\xbd\x99\xef\xbd\x90\xef\xbd\x81\xef\xbd\x8c",
                 "looks like the name \"Paypal\"");
    impersonator("n-mallory-5", "PAYPAL", "looks like the name \"Paypal\"");
    impersonator("n-mallory-6", "\xe2\x80\xae" "lapyaP", "U+202E at byte 0 is a bidirectional control");
    impersonator("n-mallory-7", "Pay\xe2\x80\x8dpal", "U+200D at byte 3 is an invisible character");
    /* One card looks like "Paypal" on the node; a name that only contains it is fine. */
    gt_agent *fan = make_as("n-mallory-8", "Paypal fan club", "complete", 0, NULL, 1);
    json_t *list = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_client_agents(dir, NULL, &list, &err) == 0, "agents: %s", err.msg);
    json_t *items = json_is_array(list) ? list : json_object_get(list, "agents");
    int paypal = 0, club = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(items, i), "name")) ?: "";
        paypal += !strcmp(n, "Paypal");
        club += !strcmp(n, "Paypal fan club");
        CHECK_MSG(strcmp(n, "PaypaI") && strcmp(n, "PAYPAL") && strcmp(n, "Paypa1"), "an impersonator's card: %s", n);
    }
    CHECK_EQ_INT(paypal, 1);
    CHECK_EQ_INT(club, 1);
    json_decref(list);
    gt_agent_free(fan);
    gt_agent_free(alice);
}

/* ---- benchmark laundering ---- */

/* A job of 4 samples of family arith under seed 1 (arith-v1's family and
 * seed), each prompt the bare question, in spec version `version`; with
 * family NULL the free-form job of the same terms. */
static char *bench_job_spec(const char *model_id, int version, const char *family) {
    json_t *o = json_pack("{s:i,s:s,s:s,s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:{s:i,s:f},s:{s:b,s:f}}", "version", version,
                          "name", "arith-traces", "template", family ? "{question}" : "{index}", "seed", 1, "samples",
                          4, "batch", 4, "reward", "0.5", "stake", "0.25", "license", "cc-by-4.0", "model", model_id,
                          "generation", "max_tokens", 8, "temp", 0.0, "pipeline", "near_dedup", 0, "spot_check", 0.5);
    if (family) json_object_set_new(o, "family", json_string(family));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* The number of samples of result blob `result` whose prompt a built-in
 * benchmark asks; -1 when the blob cannot be read. */
static int bench_prompts(const uint8_t result[32]) {
    char id[72] = "0x";
    gt_hex_encode(result, 32, id + 2);
    uint8_t *blob = NULL;
    size_t len = 0, n = 0;
    gt_sample *smp = NULL;
    gt_err err = {0};
    if (gt_client_blob_get(dir, id, 1 << 20, &blob, &len, &err) ||
        gt_batch_parse((const char *)blob, len, &smp, &n, &err)) {
        gt_free(blob);
        return -1;
    }
    int asked = 0;
    for (size_t i = 0; i < n; i++)
        for (int b = 0; gt_bench_builtins[b]; b++) asked += gt_bench_builtin_asks(gt_bench_builtins[b], smp[i].prompt);
    gt_samples_free(smp, n);
    gt_free(blob);
    return n == 4 ? asked : -1;
}

/* Posts spec on terms t as key `name`, around gt_agent_post's checks (what a
 * poster not running gotong's agent can do): the task's id into id. */
static int post_raw(const char *name, const gt_task_terms *t, const char *spec, uint8_t id[32], gt_err *err) {
    gt_key k;
    tnet_key(name, &k);
    gt_client *c = NULL;
    char sid[72];
    uint8_t blob[32];
    raw_args r = {t, blob};
    int rc = gt_client_new(url, &c, err);
    if (!rc) gt_client_set_signer(c, &k);
    if (!rc) rc = gt_client_blob_put(c, spec, strlen(spec), sid, err);
    if (!rc) rc = gt_blob_id_parse(sid, blob, err);
    if (!rc) rc = gt_client_act(c, &k, &gt_kind_task_post, fill_raw_post, &r, id, NULL, err);
    gt_client_free(c);
    return rc;
}

/* Benchmark laundering (the attack): a data job with a built-in
 * benchmark's family and seed ("family":"arith","seed":1) rendered that
 * benchmark's items, so a poster could pay the market for its test set,
 * train on it and top the leaderboard. The market takes any spec blob, so
 * the refusal is the workers' and validators': a version-1 spec with a
 * family does not parse: gotong's agent refuses to post it, and posted around
 * that, the worker skips the task, never claiming it;
 * the same job as version 2 is worked, and none of its prompts is a
 * question any built-in asks. */
static void test_bench_laundering(void) {
    gt_agent *poster = make("b-poster", "generate", GT_ROLE_POSTER, NULL);
    gt_agent *v = make("b-judge", "validate", GT_ROLE_EVALUATOR, NULL);
    gt_agent *w = make("b-worker", "generate", GT_ROLE_WORKER, NULL);
    if (!poster || !v || !w) return;
    char *v1 = bench_job_spec(gt_agent_model_id(model), 1, "arith");
    char *v2 = bench_job_spec(gt_agent_model_id(model), 2, "arith");
    char *ff = bench_job_spec(gt_agent_model_id(model), 1, NULL);
    gt_job_spec js;
    gt_task_terms t = job_terms(ff, v, &js); /* the terms of all three (a free-form spec parses in any version) */
    gt_job_spec_free(&js);
    free(ff);
    uint8_t old[32], id[32], result[32];
    gt_err err = {0};
    /* gotong's own agent refuses to post it (it would lock the bounty in a task nobody takes)... */
    CHECK(gt_agent_post(poster, &t, v1, strlen(v1), old, &err) != 0);
    CHECK_CONTAINS(err.msg, "workers and validators would refuse this data job's spec");
    CHECK_CONTAINS(err.msg, "job.version 1 with a \"family\"");
    /* ...and a job posted around it is left unclaimed. */
    CHECK_MSG(post_raw("b-poster", &t, v1, old, &err) == 0, "raw post: %s", err.msg);
    agent_log[0] = 0;
    gt_agent *one[] = {w};
    for (int i = 0; i < 10; i++) tnet_step(one, 1);
    CHECK_CONTAINS(agent_log, "job.version 1 with a \"family\"");
    json_t *task = NULL;
    CHECK(gt_client_task(dir, old, &task, &err) == 0);
    json_t *sl = json_array_get(json_object_get(task, "slotList"), 0);
    CHECK_STR(json_string_value(json_object_get(sl, "state")) ?: "", "open");
    json_decref(task);
    CHECK_MSG(gt_job_spec_parse(v2, strlen(v2), &js, &err) == 0, "version 2: %s", err.msg);
    CHECK_MSG(gt_agent_post(poster, &t, v2, strlen(v2), id, &err) == 0, "post: %s", err.msg);
    CHECK(submitted(w, id, result));
    CHECK_EQ_INT(bench_prompts(result), 0);
    free(v1);
    free(v2);
    gt_job_spec_free(&js);
    gt_agent_free(poster);
    gt_agent_free(v);
    gt_agent_free(w);
}

int main(void) {
    gt_err err = {0};
    signal(SIGPIPE, SIG_IGN);
    if (gt_agent_model_load(gt_fixture("models/tiny-llama-q8_0.gguf"), &model, &err)) {
        fprintf(stderr, "fixture model: %s\n", err.msg);
        return 1;
    }
    if (start_node()) {
        fprintf(stderr, "could not start %s node\n", GT_CLI);
        return 1;
    }
    RUN(test_name_impersonation);
    /* Before the tests that leave tasks open: its worker takes the first task it can. */
    RUN(test_bench_laundering);
    RUN(test_partial_wash);
    RUN(test_dataset_squat);
    RUN(test_job_front_run);
    tnet_stop(home, node_pid, dir);
    gt_agent_model_free(model);
    return gt_test_finish();
}
