/* fund_util.h: the scaffolding of the fund module's tests on a ledger: the
 * market's test helpers (market_util.h) plus extra contributor keys, a
 * clock that can jump (skew), and a world with two published datasets whose
 * slots were paid. Include once, from a test's .c. */
#ifndef GT_TESTS_FUND_UTIL_H
#define GT_TESTS_FUND_UTIL_H

#define N_EXTRA 24
#include "../market/market_util.h"

#include "fund/fund.h"
#include "fund/qf.h"
#include "work/work.h"

#define TOKEN UNIT
enum { X0 = N_KEYS }; /* extra keys X0 .. X0+N_EXTRA-1: contributors */

/* Block times: the ledger's clock runs at genesis + height + 1 + skew, so a
 * test can jump past a window or an epoch (blocks stay monotonic). */
static uint64_t skew;
static void set_clock(gt_ledger *l) {
    gt_block head;
    if (gt_ledger_head(l, &head, NULL)) abort();
    gt_ledger_set_time(l, 1700000000 + skew + head.height + 1);
}
static uint64_t now_of(gt_ledger *l) {
    gt_block head;
    if (gt_ledger_head(l, &head, NULL)) abort();
    return head.time_s;
}

/* Signs and submits one action as its own block at the skewed clock. */
static int fa(gt_ledger *l, int who, uint8_t *id_out, gt_result *r, const char *type, const char *fmt, ...) {
    static gt_action a;
    va_list ap;
    va_start(ap, fmt);
    vbuild(&a, who, nonce_of(l, who), type, fmt, ap);
    va_end(ap);
    gt_result rr;
    if (!r) r = &rr;
    set_clock(l);
    gt_ledger_submit(l, &a, 1, r);
    if (id_out) memcpy(id_out, a.id, 32);
    if (r->code && getenv("FUND_TEST_VERBOSE")) fprintf(stderr, "  %s refused: %s\n", type, r->msg);
    return r->code;
}

static void extra_keys(void) {
    for (int i = X0; i < X0 + N_EXTRA; i++) {
        char seed[32];
        uint8_t priv[32];
        snprintf(seed, sizeof seed, "fund-test-%d", i);
        gt_keccak256(seed, strlen(seed), priv);
        gt_key_from_bytes(&K[i], priv, NULL);
        gt_key_address(&K[i], &A[i]);
    }
}

static uint64_t bal(gt_ledger *l, int who) { return acc_of(l, who).balance; }

/* Writes a block with no action at the skewed clock (a panel is drawn at
 * the start of a block after the one that opened it). */
static void idle_block(gt_ledger *l) {
    set_clock(l);
    CHECK(gt_ledger_tick(l, NULL) >= 0);
}

enum { DS_POSTER = -1, DS_QUORUM = -2 };

/* Poster posts a generate task of job `job_name`, verified by `verifier`
 * (by the poster itself when DS_POSTER; by a quorum of 2 of the drawn panel,
 * V1 and V2, the world's staked validators, when DS_QUORUM); worker works
 * its one slot, a batch of 7 samples, is accepted and paid, and the poster
 * publishes the dataset of those 7 rows (from ledger format 13 no more than
 * the paid batches hold): returns the job id (the project ref) and the task. */
static void publish_dataset_by(gt_ledger *l, int poster, int verifier, int worker, const char *job_name,
                               uint8_t job[32], uint8_t task[32]) {
    char v[128] = "";
    if (verifier >= 0) snprintf(v, sizeof v, "\"verifier\":\"%s\",\"fee\":%llu,", ad(verifier), TOKEN / 10);
    if (verifier == DS_QUORUM) snprintf(v, sizeof v, "\"quorum\":2,\"fee\":%llu,", TOKEN / 10);
    CHECK_EQ_INT(gt_hex_decode(blob(job_name), job, 32, "job", NULL), 0);
    CHECK_EQ_INT(fa(l, poster, task, NULL, "task_post",
                    "{\"kind\":\"generate\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,%s"
                    "\"batchItems\":7,\"claimSeconds\":50,\"submitSeconds\":50,\"verifySeconds\":50}",
                    hx(job), 3 * TOKEN, 1 * TOKEN, v),
                 0);
    CHECK_EQ_INT(fa(l, worker, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(task)), 0);
    CHECK_EQ_INT(fa(l, worker, NULL, NULL, "task_submit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(task),
                    blob(job_name)),
                 0);
    int from = verifier == DS_QUORUM ? V1 : verifier == DS_POSTER ? poster : verifier;
    if (verifier == DS_QUORUM) idle_block(l), idle_block(l);
    for (int who = from; who <= (verifier == DS_QUORUM ? V2 : from); who++)
        CHECK_EQ_INT(fa(l, who, NULL, NULL, "task_verify",
                        "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":90}", hx(task),
                        blob(job_name)),
                     0);
    CHECK_EQ_INT(fa(l, worker, NULL, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(task)), 0);
    CHECK_EQ_INT(fa(l, poster, NULL, NULL, "dataset_publish",
                    "{\"task\":\"%s\",\"job\":\"%s\",\"root\":\"%s\",\"rows\":7,\"manifest\":\"%s\"}", hx(task),
                    hx(job), blob("root"), blob("manifest")),
                 0);
}

/* The same, verified by a quorum: a dataset that may enter a funding round. */
static void publish_dataset(gt_ledger *l, int poster, int worker, const char *job_name, uint8_t job[32],
                            uint8_t task[32]) {
    publish_dataset_by(l, poster, DS_QUORUM, worker, job_name, job, task);
}

/* On ledger l (fresh), a world with money for everyone, BOB and CAROL as
 * agents that generate, V1 and V2 staked 20 tokens, and two published
 * datasets, each task verified by a quorum (V1 and V2, its drawn panel):
 * BOB's (job_b, worked by CAROL) and CAROL's (job_c, worked by BOB). */
static uint8_t job_b[32], job_c[32], task_b[32], task_c[32];
static gt_ledger *world_on(gt_ledger *l) {
    skew = 0;
    for (int i = 1; i < X0 + N_EXTRA; i++)
        CHECK_EQ_INT(fa(l, AUTH, NULL, NULL, "mint", "{\"to\":\"%s\",\"amount\":%llu}", ad(i),
                        (i == ALICE ? 1000 : 100) * TOKEN),
                     0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "stake", "{\"amount\":%llu}", 20 * TOKEN), 0);
    CHECK_EQ_INT(fa(l, V2, NULL, NULL, "stake", "{\"amount\":%llu}", 20 * TOKEN), 0);
    CHECK_EQ_INT(fa(l, BOB, NULL, NULL, "agent_register", "{\"name\":\"bob\",\"skills\":\"generate\"}"), 0);
    CHECK_EQ_INT(fa(l, CAROL, NULL, NULL, "agent_register", "{\"name\":\"carol\",\"skills\":\"generate\"}"), 0);
    publish_dataset(l, BOB, CAROL, "job-b", job_b, task_b);
    publish_dataset(l, CAROL, BOB, "job-c", job_c, task_c);
    return l;
}
/* The world above on a fresh ledger. */
static gt_ledger *world(void) { return world_on(fresh()); }

/* Opens a round by ALICE: [now, now + window) and returns its id. */
static void round_open(gt_ledger *l, int rule, uint64_t pool, uint64_t m, uint64_t window, uint8_t id[32]) {
    uint64_t t = now_of(l) + 1;
    CHECK_EQ_INT(fa(l, ALICE, id, NULL, "fund_round_create",
                    "{\"pool\":%llu,\"startS\":%llu,\"endS\":%llu,\"rule\":%d,\"pairwiseM\":%llu,\"name\":\"r\"}", pool,
                    t, t + window, rule, m),
                 0);
    CHECK_EQ_INT(fa(l, BOB, NULL, NULL, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":1,\"ref\":\"%s\"}",
                    hx(id), hx(job_b)),
                 0);
    CHECK_EQ_INT(fa(l, CAROL, NULL, NULL, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":1,\"ref\":\"%s\"}",
                    hx(id), hx(job_c)),
                 0);
}

static int give(gt_ledger *l, int who, const uint8_t round[32], int project, uint64_t amount) {
    return fa(l, who, NULL, NULL, "fund_contribute", "{\"round\":\"%s\",\"project\":%d,\"amount\":%llu}", hx(round),
              project, amount);
}

/* Moves the clock past the round's window and finalizes it. */
static int finalize(gt_ledger *l, const uint8_t round[32], uint64_t window) {
    skew += window + 10;
    return fa(l, CAROL, NULL, NULL, "fund_round_finalize", "{\"round\":\"%s\"}", hx(round));
}

#endif
