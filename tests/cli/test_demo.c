/* test_demo.c: `gotong demo` end to end, driving the binary: a fresh home
 * with the tiny fixture model, every scripted outcome checked in the --json
 * summary (accepted work, a rejection with slashing, a dispute decided by the
 * validators' votes, a subcontract, a data job paid and slashed sample by
 * sample with its dataset's root published and matching the exported files,
 * a second one verified by a quorum, whose dataset enters the funding round,
 * an evaluation co-signed by validators and a forged one disputed and lost,
 * the leaderboard, supply conserved, the market's books audited, the log
 * replayed), `gotong ledger verify` on the result, the same outcomes on a
 * second run stepped through with --step, and the refusals that protect a directory that is not a demo
 * home. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "base/amount.h"

static char tmp[256];

/* Runs a shell command; stdout into *out (caller frees), stderr into *errout;
 * returns the exit status. */
static int run(const char *cmd, char **out, char **errout) {
    char full[8192], errpath[512];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", tmp);
    snprintf(full, sizeof full, "%s 2>%s", cmd, errpath);
    FILE *p = popen(full, "r");
    if (!p) return -1;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 4096) buf = realloc(buf, cap *= 2);
    }
    buf[len] = 0;
    int st = pclose(p);
    *out = buf;
    if (errout) {
        FILE *f = fopen(errpath, "r");
        char *e = calloc(1, 1 << 16);
        if (f) {
            size_t m = fread(e, 1, (1 << 16) - 1, f);
            e[m] = 0;
            fclose(f);
        }
        *errout = e;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_t *agent_named(json_t *summary, const char *name) {
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(summary, "agents"), i, a) {
        const char *n = json_string_value(json_object_get(a, "name"));
        if (n && !strcmp(n, name)) return a;
    }
    return NULL;
}

static const char *str_at(json_t *o, const char *a, const char *b) {
    return json_string_value(json_object_get(b ? json_object_get(o, a) : o, b ? b : a));
}

static long long int_at(json_t *o, const char *a, const char *b) {
    return json_integer_value(json_object_get(json_object_get(o, a), b));
}

static json_t *first_summary;

/* What must be the same on every run: the agents (addresses, balances,
 * reputation) and the task outcomes. Heights and hashes depend on timing. */
static char *stable_part(json_t *s) {
    /* Of the work: counts, amounts, the dataset root, and per attestation
     * who, what score, what standing and how many co-signs (not heights). */
    json_t *data = json_object_get(s, "data"), *ev = json_object_get(s, "eval"), *atts = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(ev, "attestations"), i, a) {
        json_array_append_new(atts, json_pack("{s:O,s:O,s:O,s:O,s:O,s:O}", "attesterName",
                                              json_object_get(a, "attesterName"), "scorePpm", json_object_get(a, "scorePpm"),
                                              "status", json_object_get(a, "status"), "cosigns", json_object_get(a, "cosigns"),
                                              "resultsRoot", json_object_get(a, "resultsRoot"), "attestation",
                                              json_object_get(a, "attestation")));
    }
    json_t *job = json_array_get(json_object_get(data, "jobs"), 0);
    json_t *o = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:o}", "agents", json_object_get(s, "agents"), "tasks",
                          json_object_get(s, "tasks"), "supply", json_object_get(s, "supply"), "accepted",
                          json_object_get(data, "samplesAccepted"), "rejected", json_object_get(data, "samplesRejected"),
                          "paid", json_object_get(data, "paid"), "batches", json_object_get(job, "batches"), "root",
                          json_object_get(json_object_get(job, "dataset"), "root"), "attestations", atts);
    char *d = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return d;
}

/* The base units of a token string of the summary (UINT64_MAX when it is not one). */
static uint64_t units_of(const json_t *o, const char *key) {
    uint64_t u = UINT64_MAX;
    const char *t = json_string_value(json_object_get(o, key));
    if (!t || gt_amount_parse(t, &u, NULL)) return UINT64_MAX;
    return u;
}

/* The funding act in the --json summary: the round over the agents'
 * published work (the dataset of the job a drawn panel verified, fajar's
 * evaluation its drawn panel accepted: the other dataset and his other
 * evaluation, accepted by an evaluator alone, may not enter), its books
 * (matched + remainder = pool, the matches summing to matched); the
 * feedback task as demo_fund.c works it out by hand (alpha 0.444444, kappa
 * 0.4, two DPO lines, wati careless); the points and the airdrop claimed
 * once on the copy of the ledger a day ahead. */
static void check_fund(json_t *f) {
    CHECK_MSG(json_is_object(f), "no \"fund\" object in the summary");
    json_t *r = json_object_get(f, "round"), *fb = json_object_get(f, "feedback");
    json_t *pts = json_object_get(f, "points"), *ad = json_object_get(f, "airdrop");
    CHECK(json_is_object(r) && json_is_object(fb) && json_is_object(pts) && json_is_object(ad));
    if (!json_is_object(r) || !json_is_object(fb) || !json_is_object(pts) || !json_is_object(ad)) return;
    CHECK_STR(str_at(r, "rule", NULL), "pairwise");
    CHECK_STR(str_at(r, "pool", NULL), "4");
    CHECK(units_of(r, "matched") + units_of(r, "remainder") == units_of(r, "pool"));
    json_t *ps = json_object_get(r, "projects"), *p;
    size_t i;
    uint64_t sum = 0;
    int datasets = 0, evals = 0;
    json_array_foreach(ps, i, p) {
        const char *kind = str_at(p, "kind", NULL), *owner = str_at(p, "owner", NULL);
        sum += units_of(p, "match");
        datasets += kind && !strcmp(kind, "dataset");
        evals += kind && owner && !strcmp(kind, "evaluation") && !strcmp(owner, "fajar");
    }
    CHECK_EQ_INT(datasets, 1); /* the panel's data job: eko, whom ayu named, judged the other */
    CHECK_EQ_INT(evals, 1);
    CHECK(sum == units_of(r, "matched"));
    CHECK(units_of(json_array_get(ps, 0), "match") > 0); /* sari and tono together */
    CHECK_STR(str_at(fb, "status", NULL), "closed");
    CHECK_EQ_INT(json_integer_value(json_object_get(fb, "alphaPpm")), 444444);
    CHECK_EQ_INT(json_integer_value(json_object_get(fb, "kappaPpm")), 400000);
    CHECK_EQ_INT(json_integer_value(json_object_get(fb, "exportLines")), 2);
    CHECK_STR(str_at(fb, "burned", NULL), "0.08"); /* wati's bond and pay, 0.04 + 0.04 */
    CHECK_STR(str_at(json_array_get(json_object_get(fb, "seats"), 2), "outcome", NULL), "careless");
    CHECK(str_at(fb, "dpoRoot", NULL) && strlen(str_at(fb, "dpoRoot", NULL)) == 66);
    CHECK(json_integer_value(json_object_get(pts, "slotsRecorded")) > 0);
    /* every paid slot's points counted: its poster's operator attested first (format 10) */
    CHECK_EQ_INT(json_integer_value(json_object_get(pts, "slotsRefused")), 0);
    CHECK(json_integer_value(json_object_get(pts, "payersAttested")) > 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(ad, "epoch")), json_integer_value(json_object_get(pts, "epoch")));
    CHECK(units_of(ad, "claimed") > 0 && units_of(ad, "claimed") <= units_of(pts, "airdropPool"));
    CHECK(json_is_true(json_object_get(ad, "secondClaimRefused")));
    CHECK(json_integer_value(json_object_get(ad, "copyReplayedBlocks")) > 0);
}

static void test_demo_run(void) {
    char cmd[2048], *out = NULL, *err = NULL;
    snprintf(cmd, sizeof cmd, "%s demo --home %s/home --model %s --json", GT_CLI, tmp,
             gt_fixture("models/tiny-llama-q8_0.gguf"));
    int rc = run(cmd, &out, &err);
    CHECK_MSG(rc == 0, "demo exited %d; stderr tail: %s", rc, err ? err + (strlen(err) > 3000 ? strlen(err) - 3000 : 0) : "");
    /* The story, told plainly (progress goes to stderr with --json): how
     * each dispute ended, partial verdicts in words, deadlines passed by
     * the director's blocks once everyone had acted. */
    CHECK(err && strstr(err, "ana WINS: paid as if accepted") != NULL);
    CHECK(err && strstr(err, "gita LOSES: the rejection stands") != NULL);
    CHECK(err && strstr(err, "in part: 3 of 4 samples good and paid, 1 bad") != NULL);
    CHECK(err && strstr(err, "REJECTED") == NULL);
    /* Panels close as soon as their whole stake has voted, so the director
     * rarely has a deadline to hurry; when it writes blocks it says so. */
    const char *w = err ? strstr(err, "the director wrote ") : NULL;
    CHECK(!w || atoi(w + 19) > 0);
    json_error_t je;
    json_t *s = json_loads(out, 0, &je);
    CHECK_MSG(s != NULL, "summary is not JSON: %s", out);
    if (!s) goto out;
    CHECK(json_is_true(json_object_get(s, "ok")));
    CHECK(json_is_false(json_object_get(json_object_get(s, "model"), "randomWeights")));
    /* Outcomes. */
    CHECK(int_at(s, "tasks", "total") == 9); /* 4 scenes + a sub-task, two data jobs, two eval tasks */
    CHECK(int_at(s, "tasks", "complete") == 9);
    CHECK(int_at(s, "tasks", "subcontracts") >= 1);
    CHECK(int_at(s, "tasks", "accepted") >= 1);
    CHECK(int_at(s, "tasks", "rejected") >= 1);
    CHECK(int_at(s, "tasks", "disputesWon") >= 1);
    /* budi's stake 2, dewi's bond 2, the data job's 1, gita's stake 1 and bond 1. */
    CHECK_STR(str_at(s, "tasks", "slashed"), "7");
    /* Books. */
    CHECK(json_is_true(json_object_get(json_object_get(s, "supply"), "conserved")));
    /* the feedback task burns its careless labeller's bond and pay (0.04 + 0.04) */
    CHECK_STR(str_at(s, "supply", "burned"), "0.08");
    CHECK_STR(str_at(s, "supply", "ledger"), str_at(s, "supply", "heldByAgents"));
    CHECK(json_is_true(json_object_get(json_object_get(s, "audit"), "ok")));
    CHECK(json_is_true(json_object_get(json_object_get(s, "verify"), "ok")));
    CHECK(int_at(s, "verify", "blocks") == int_at(s, "head", "height"));
    /* Who got what: the garbage worker was slashed its stake of 2; the
     * poster who rejected good work lost its bond of 2 to the validators,
     * who each re-ran the work and voted for the worker. */
    json_t *budi = agent_named(s, "budi"), *dewi = agent_named(s, "dewi"), *ana = agent_named(s, "ana");
    json_t *citra = agent_named(s, "citra"), *eko = agent_named(s, "eko"), *v1 = agent_named(s, "val-1");
    CHECK(budi && dewi && ana && citra && eko && v1);
    if (budi && dewi && ana && citra && eko && v1) {
        json_t *rb = json_object_get(budi, "reputation"), *rd = json_object_get(dewi, "reputation");
        json_t *ra = json_object_get(ana, "reputation");
        CHECK_EQ_INT(json_integer_value(json_object_get(rb, "rejected")), 1);
        CHECK_STR(json_string_value(json_object_get(rb, "slashed")), "2");
        CHECK_STR(str_at(budi, "after", "balance"), "8");
        CHECK_EQ_INT(json_integer_value(json_object_get(rd, "disputesLost")), 1);
        CHECK_STR(json_string_value(json_object_get(rd, "slashed")), "2");
        CHECK_EQ_INT(json_integer_value(json_object_get(ra, "disputesWon")), 1);
        /* rounds 1, 2, 3, the sub-task, and the batch of the panel's data job */
        CHECK_EQ_INT(json_integer_value(json_object_get(ra, "accepted")), 5);
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(citra, "reputation"), "accepted")), 1);
        /* The evaluator's fee 0.5, and 0.2 for each data batch it validated. */
        CHECK_STR(str_at(eko, "after", "balance"), "5.9");
        /* 5 + a third of dewi's bond + 2 eval verdict fees of 0.2 (one from gita's slashed stake) + a
         * third of each quorum's fee of 0.2, the eval task's and the panel's data job's (0.066666 each;
         * the rounding's 0.000002 to the poster). */
        CHECK_STR(str_at(v1, "after", "balance"), "6.199998");
        CHECK_STR(str_at(v1, "after", "staked"), "5");
        /* Data: ana's batch had 3 of 4 samples accepted (paid 1.5 of 2, 0.25 of
         * her stake of 1 slashed), citra's 1 of 4 (paid 0.5, slashed 0.75);
         * ana's batch of the panel's job all 4 (paid 2: a whole-batch verdict,
         * which counts no units). */
        CHECK_STR(json_string_value(json_object_get(ra, "slashed")), "0.25");
        CHECK_EQ_INT(json_integer_value(json_object_get(ra, "unitsAccepted")), 3);
        CHECK_EQ_INT(json_integer_value(json_object_get(ra, "unitsRejected")), 1);
        CHECK_STR(str_at(ana, "after", "balance"), "32.250002");
        json_t *rc_ = json_object_get(citra, "reputation");
        CHECK_EQ_INT(json_integer_value(json_object_get(rc_, "unitsAccepted")), 1);
        CHECK_EQ_INT(json_integer_value(json_object_get(rc_, "unitsRejected")), 3);
        CHECK_STR(json_string_value(json_object_get(rc_, "slashed")), "0.75");
        CHECK_STR(str_at(citra, "after", "balance"), "13.75");
        /* Nothing is left locked once every task is complete, but today's
         * airdrop pool (3), closed a day after it ends, and the faucet's issuer
         * bond (10, moved out of its stake; demo_fund.c). */
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(s, "agents"), i, a) CHECK_STR(
            str_at(a, "after", "locked"), strcmp(json_string_value(json_object_get(a, "name")), "faucet") ? "0" : "13");
    }
    /* The data jobs as the summary reads them from the ledger (eko's, 4 of 8
     * samples accepted; the panel's, all 4), and their datasets: the root
     * published on the ledger is the root of the exported files. */
    json_t *data = json_object_get(s, "data");
    CHECK_EQ_INT(json_integer_value(json_object_get(data, "samplesAccepted")), 8);
    CHECK_EQ_INT(json_integer_value(json_object_get(data, "samplesRejected")), 4);
    CHECK_STR(str_at(s, "data", "paid"), "4");
    CHECK_STR(str_at(s, "data", "slashed"), "1");
    CHECK_EQ_INT(json_array_size(json_object_get(data, "jobs")), 2);
    for (size_t j = 0; j < 2; j++) {
        json_t *ds = json_object_get(json_array_get(json_object_get(data, "jobs"), j), "dataset");
        CHECK(json_is_true(json_object_get(ds, "published")));
        CHECK(json_is_true(json_object_get(ds, "matches")));
        CHECK_EQ_INT(json_integer_value(json_object_get(ds, "rows")), 4);
        CHECK_EQ_INT(json_integer_value(json_object_get(ds, "exportedRows")), 4);
        CHECK(str_at(ds, "root", NULL) && strlen(str_at(ds, "root", NULL)) == 66);
        CHECK_STR(str_at(ds, "root", NULL), str_at(ds, "exportedRoot", NULL));
    }
    /* Evaluation: fajar's attestations co-signed by all three validators;
     * gita's forged one rejected by all three, disputed and lost. */
    json_t *ev = json_object_get(s, "eval");
    CHECK_EQ_INT(json_integer_value(json_object_get(ev, "accepted")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(ev, "rejected")), 1);
    size_t i;
    json_t *a;
    int forged = 0, honest = 0;
    json_array_foreach(json_object_get(ev, "attestations"), i, a) {
        const char *by = str_at(a, "attesterName", NULL), *st = str_at(a, "status", NULL);
        json_t *c = json_object_get(a, "cosigns");
        if (by && !strcmp(by, "gita")) {
            forged++;
            CHECK_STR(st, "rejected");
            CHECK_EQ_INT(json_integer_value(json_object_get(a, "scorePpm")), 1000000);
            CHECK_EQ_INT(json_integer_value(json_object_get(c, "disagreed")), 3);
            CHECK_EQ_INT(json_integer_value(json_object_get(c, "agreed")), 0);
        } else if (by && !strcmp(by, "fajar")) {
            honest++;
            CHECK_STR(st, "accepted");
            CHECK_EQ_INT(json_integer_value(json_object_get(c, "agreed")), 3);
            CHECK_EQ_INT(json_integer_value(json_object_get(c, "disagreed")), 0);
            CHECK(json_integer_value(json_object_get(a, "scorePpm")) < 1000000);
        }
    }
    CHECK_EQ_INT(forged, 1);
    CHECK_EQ_INT(honest, 2);
    /* The leaderboard: the model once, by an accepted attestation. */
    json_t *board = json_object_get(ev, "leaderboard");
    CHECK_EQ_INT(json_array_size(board), 1);
    CHECK_STR(str_at(json_array_get(board, 0), "attesterName", NULL), "fajar");
    CHECK_STR(str_at(json_array_get(board, 0), "status", NULL), "accepted");
    /* Accepted by the quorum of its drawn panel, whose co-signs were bonded
     * votes: ranked 1 (his run accepted by the task's evaluator alone, with
     * plain co-signs, would be listed unranked). */
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(board, 0), "rank")), 1);
    CHECK(json_is_true(json_object_get(json_array_get(board, 0), "ranked")));
    json_t *gita = agent_named(s, "gita"), *fajar = agent_named(s, "fajar");
    CHECK(gita && fajar);
    if (gita && fajar) {
        json_t *rg = json_object_get(gita, "reputation");
        CHECK_EQ_INT(json_integer_value(json_object_get(rg, "disputesLost")), 1);
        CHECK_STR(json_string_value(json_object_get(rg, "slashed")), "2"); /* stake 1 + dispute bond 1 */
        CHECK_STR(str_at(gita, "after", "balance"), "8");
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(fajar, "reputation"), "accepted")), 2);
        /* 14, and the humans' 0.5 and 0.25 to his panel-accepted evaluation in the funding round, and
         * its match (two backers) */
        json_t *fr = json_object_get(json_object_get(s, "fund"), "round");
        uint64_t match = units_of(json_array_get(json_object_get(fr, "projects"), 1), "match");
        CHECK(match > 0 && match != UINT64_MAX);
        CHECK_EQ_U64(units_of(json_object_get(fajar, "after"), "balance"), 14750000 + match);
    }
    check_fund(json_object_get(s, "fund"));
    first_summary = s;
    s = NULL;
out:
    json_decref(s);
    free(out);
    free(err);
}

/* The ledger the demo leaves behind replays with the CLI too. */
static void test_ledger_verify_after(void) {
    char cmd[1024], *out = NULL, *err = NULL;
    snprintf(cmd, sizeof cmd, "%s ledger verify --home %s/home", GT_CLI, tmp);
    int rc = run(cmd, &out, &err);
    CHECK_MSG(rc == 0, "ledger verify exited %d: %s %s", rc, out, err);
    CHECK_CONTAINS(out, "ok");
    free(out);
    free(err);
}

/* The progress of a --step run fed "", "", "x", "c": four prompts, each
 * after an event and answered by the line read (echoed, as stdin is not a
 * terminal), then none: "c" ran the rest without stopping. */
static void check_steps(const char *progress) {
    static const char *const answers[] = {"\"\"", "\"\"", "\"x\"", "\"c\""};
    const char *p = progress;
    for (int k = 1; k <= 4; k++) {
        char prompt[64];
        snprintf(prompt, sizeof prompt, "  [step %d: Enter for the next event", k);
        const char *at = strstr(p, prompt);
        CHECK_MSG(at != NULL, "no prompt %d in the progress: %.2000s", k, progress);
        if (!at) return;
        /* an event (a non-empty line) before the prompt */
        CHECK_MSG(at - p > 1 && at[-1] == '\n', "prompt %d follows no event", k);
        const char *echo = strstr(at, "<- ");
        CHECK_MSG(echo && !strncmp(echo + 3, answers[k - 1], strlen(answers[k - 1])), "prompt %d: answer not echoed", k);
        p = strchr(at, '\n');
        if (!p) return;
    }
    CHECK_CONTAINS(p, "(running to the end)");
    CHECK_MSG(strstr(p, "[step ") == NULL, "a prompt after \"c\"");
    CHECK_CONTAINS(progress, "no idle blocks while stepping");
}

/* An existing demo home needs --fresh; with it, a second run gives the same
 * outcomes (same addresses, balances, reputation). */
static void test_rerun(void) {
    char cmd[2048], *out = NULL, *err = NULL;
    snprintf(cmd, sizeof cmd, "%s demo --home %s/home --model %s --json", GT_CLI, tmp,
             gt_fixture("models/tiny-llama-q8_0.gguf"));
    int rc = run(cmd, &out, &err);
    CHECK(rc == 1);
    CHECK_CONTAINS(err, "--fresh");
    free(out);
    free(err);
    if (!first_summary) return;
    /* this run steps through its first events, driven by lines on stdin
     * (one line per event; "c" runs the rest), and must end the same */
    snprintf(cmd, sizeof cmd, "printf '\\n\\nx\\nc\\n' | %s demo --home %s/home --fresh --step --model %s --json",
             GT_CLI, tmp, gt_fixture("models/tiny-llama-q8_0.gguf"));
    rc = run(cmd, &out, &err);
    CHECK_MSG(rc == 0, "second demo exited %d", rc);
    if (rc) fprintf(stderr, "---- the second demo's stderr:\n%s\n---- end\n", err ? err : "");
    check_steps(err);
    json_t *s = json_loads(out, 0, NULL);
    CHECK(s != NULL);
    if (s) {
        char *a = stable_part(first_summary), *b = stable_part(s);
        CHECK_MSG(a && b && !strcmp(a, b), "outcomes differ between runs:\n%s\n%s", a, b);
        free(a);
        free(b);
    }
    json_decref(s);
    free(out);
    free(err);
}

/* A directory that is not a demo home is never wiped, even with --fresh. */
static void test_refuses_foreign_dir(void) {
    char dir[512], file[600], cmd[2048], *out = NULL, *err = NULL;
    snprintf(dir, sizeof dir, "%s/precious", tmp);
    mkdir(dir, 0700);
    snprintf(file, sizeof file, "%s/keep.txt", dir);
    FILE *f = fopen(file, "w");
    if (f) {
        fputs("keep me\n", f);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "%s demo --home %s --fresh --model %s", GT_CLI, dir,
             gt_fixture("models/tiny-llama-q8_0.gguf"));
    int rc = run(cmd, &out, &err);
    CHECK(rc == 1);
    CHECK_CONTAINS(err, "not a demo home");
    CHECK(access(file, F_OK) == 0);
    free(out);
    free(err);
    /* Usage errors. */
    snprintf(cmd, sizeof cmd, "%s demo --rounds 0", GT_CLI);
    rc = run(cmd, &out, &err);
    CHECK(rc == 2);
    CHECK_CONTAINS(err, "--rounds");
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s demo --home %s/missing-model --model /nonexistent.gguf", GT_CLI, tmp);
    rc = run(cmd, &out, &err);
    CHECK(rc == 1);
    CHECK_CONTAINS(err, "nonexistent.gguf");
    free(out);
    free(err);
}

/* The node for test_cli_on_demo_home: web_clock_node (tests/web/clock_node.c,
 * the node itself with a block clock the test sets) on the demo's home, its
 * clock fixed at now, so the demo's 5 s dispute window cannot close between
 * the by-hand reject and dispute however slow each command is (at load ~13
 * under ASan `task dispute` was refused: the window had passed). Its stdin
 * is *in (closing it stops it); its URL goes to url. Returns its pid or -1. */
static pid_t start_clock_node(char *url, size_t url_cap, FILE **in) {
    int to[2], from[2];
    char home[600], line[256] = "";
    *in = NULL, url[0] = 0;
    if (pipe(to)) return -1;
    if (pipe(from)) {
        close(to[0]), close(to[1]);
        return -1;
    }
    snprintf(home, sizeof home, "%s/home", tmp);
    pid_t pid = fork();
    if (pid < 0) {
        close(to[0]), close(to[1]), close(from[0]), close(from[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(to[0], 0), dup2(from[1], 1);
        close(to[1]), close(from[0]);
        execl(GT_BINARY_DIR "/web_clock_node", "web_clock_node", home, (char *)NULL);
        _exit(127);
    }
    close(to[0]), close(from[1]);
    FILE *out = fdopen(from[0], "r");
    *in = fdopen(to[1], "w");
    if (out && fgets(line, sizeof line, out)) {
        char *u = strstr(line, "http://");
        if (u) snprintf(url, url_cap, "%.*s", (int)strcspn(u, "\r\n"), u);
    }
    CHECK_MSG(url[0], "node did not start: %s", line);
    if (url[0] && *in) {
        fprintf(*in, "clock %llu\n", (unsigned long long)time(NULL));
        fflush(*in);
        CHECK_MSG(out && fgets(line, sizeof line, out) && !strncmp(line, "ok ", 3), "clock: %s", line);
    }
    if (out) fclose(out);
    return pid;
}

/* The people's CLI on what the demo left: a node over the demo home, then
 * `gotong task list|show|post|claim|submit|verify|dispute`, `gotong agents`
 * and `gotong data verify` of the datasets the demo published. */
static void test_cli_on_demo_home(void) {
    if (!first_summary) return;
    char cmd[4096], *out = NULL, *err = NULL, url[128] = "";
    FILE *node_in = NULL;
    pid_t pid = start_clock_node(url, sizeof url, &node_in);
    if (pid < 0) return;
    if (!url[0]) goto out;
    snprintf(cmd, sizeof cmd, "%s task list --node %s --json", GT_CLI, url);
    CHECK(run(cmd, &out, &err) == 0);
    json_t *list = json_loads(out, 0, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(list, "tasks")), 9); /* test_demo_run's total */
    const char *id = NULL;
    size_t k;
    json_t *tk;
    json_array_foreach(json_object_get(list, "tasks"), k, tk) {
        if (!json_is_null(json_object_get(tk, "parent"))) id = json_string_value(json_object_get(tk, "id"));
    }
    CHECK(id != NULL);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s task show %s --node %s", GT_CLI, id ? id : "0x", url);
    CHECK(run(cmd, &out, &err) == 0);
    CHECK_CONTAINS(out, "paid");
    CHECK_CONTAINS(out, "a subcontract");
    json_decref(list);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s agents --node %s --json", GT_CLI, url);
    CHECK(run(cmd, &out, &err) == 0);
    json_t *ag = json_loads(out, 0, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(ag, "agents")), 11);
    CHECK(json_object_get(json_array_get(json_object_get(ag, "agents"), 0), "reputation") != NULL);
    json_decref(ag);
    free(out);
    free(err);
    /* The datasets the agents exported and published, checked against the node's record. */
    int verified = 0;
    json_array_foreach(json_object_get(json_object_get(first_summary, "data"), "jobs"), k, tk) {
        const char *ds = str_at(tk, "dataset", "dir"), *job = str_at(tk, "job", NULL);
        snprintf(cmd, sizeof cmd, "%s data verify %s --job %s --node %s", GT_CLI, ds ? ds : "-", job ? job : "-", url);
        CHECK(run(cmd, &out, &err) == 0);
        CHECK_CONTAINS(out, "ok: 4 rows, Merkle root 0x");
        verified += !strncmp(out, "ok: ", 4);
        free(out);
        free(err);
    }
    CHECK_EQ_INT(verified, 2);
    /* A task by hand: ayu posts, ana claims and submits, ayu rejects, ana disputes. */
    json_t *ayu = agent_named(first_summary, "ayu"), *ana = agent_named(first_summary, "ana");
    const char *ayu_a = str_at(ayu, "address", NULL), *ana_a = str_at(ana, "address", NULL);
    char common[1200];
    snprintf(common, sizeof common, "--node %s --home %s/home --password-file %s/home/password.txt", url, tmp, tmp);
    snprintf(cmd, sizeof cmd, "%s task post %s --from %s --bounty 2 --stake 1 --prompt hi --model %s --json", GT_CLI,
             common, ayu_a, gt_fixture("models/tiny-llama-q8_0.gguf"));
    CHECK(run(cmd, &out, &err) == 0);
    json_t *posted = json_loads(out, 0, NULL);
    char task[80];
    snprintf(task, sizeof task, "%s", json_string_value(json_object_get(posted, "task")) ? json_string_value(json_object_get(posted, "task")) : "0x");
    json_decref(posted);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s task claim %s %s --from %s", GT_CLI, task, common, ana_a);
    CHECK(run(cmd, &out, &err) == 0);
    CHECK_CONTAINS(out, "task_claim");
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s task submit %s --slot 0 --result-text 'my answer' %s --from %s", GT_CLI, task, common, ana_a);
    CHECK(run(cmd, &out, &err) == 0);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s task verify %s --slot 0 --reject %s --from %s", GT_CLI, task, common, ayu_a);
    CHECK(run(cmd, &out, &err) == 2);
    CHECK_CONTAINS(err, "--reason");
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s task verify %s --slot 0 --reject --reason 'not what I asked' %s --from %s", GT_CLI, task,
             common, ayu_a);
    CHECK(run(cmd, &out, &err) == 0);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s task settle %s --slot 0 %s --from %s", GT_CLI, task, common, ayu_a);
    CHECK(run(cmd, &out, &err) == 1);
    CHECK_CONTAINS(err, "disputed"); /* the rule's own words: the worker may still dispute */
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s task dispute %s --slot 0 %s --from %s", GT_CLI, task, common, ana_a);
    CHECK(run(cmd, &out, &err) == 0);
    CHECK_CONTAINS(out, "task_dispute");
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s task show %s --node %s", GT_CLI, task, url);
    CHECK(run(cmd, &out, &err) == 0);
    CHECK_CONTAINS(out, "dispute open");
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s task show 0x1234 --node %s", GT_CLI, url);
    CHECK(run(cmd, &out, &err) == 2);
    CHECK_CONTAINS(err, "task id");
    free(out);
    free(err);
out:
    if (node_in) fclose(node_in); /* the clock node stops at the end of its stdin */
    else kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/gt-test-demo-XXXXXX");
    if (!mkdtemp(tmp)) return 1;
    RUN(test_refuses_foreign_dir);
    RUN(test_demo_run);
    RUN(test_ledger_verify_after);
    RUN(test_rerun);
    RUN(test_cli_on_demo_home);
    json_decref(first_summary);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp);
    return gt_test_finish();
}
