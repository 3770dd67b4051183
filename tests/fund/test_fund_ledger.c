/* test_fund_ledger.c: the fund module on a real ledger -- funding rounds
 * (hand-computed matches, the window, projects and their owners, finalize),
 * proof of human (issuers, attestations, revocation, expiry, nullifiers, an
 * unstaked issuer), the sybil split under the pairwise rule, and every
 * ledger replayed by gt_ledger_verify at the end (done()). A row edited by
 * hand is refused by the state digest when the ledger opens. */
#include "fund_util.h"
#include "work/eval/bench.h"
#include "work/eval/check.h"

/* Reads the round's JSON (gt_fund_round_get) through a reader's tx. */
typedef struct rd_arg {
    const uint8_t *id;
    json_t *out;
} rd_arg;
static int read_round(void *arg, gt_tx *tx, gt_err *err) {
    rd_arg *a = arg;
    a->out = gt_fund_round_get(tx->db, a->id, err);
    return a->out ? 0 : -1;
}
static json_t *round_view(gt_ledger *l, const uint8_t id[32]) {
    rd_arg a = {id, NULL};
    gt_err err = {0};
    gt_ledger_read(l, read_round, &a, &err);
    if (!a.out) fprintf(stderr, "round view: %s\n", err.msg);
    return a.out;
}
typedef struct w_arg {
    const gt_addr *who;
    uint64_t at;
    uint32_t w;
} w_arg;
static int read_weight(void *arg, gt_tx *tx, gt_err *err) {
    w_arg *a = arg;
    return gt_fund_human_weight(tx->db, a->who, a->at, &a->w, err);
}
/* who's proof-of-human weight at time at, as the matching reads it. */
static uint64_t weight_of(gt_ledger *l, int who, uint64_t at) {
    w_arg a = {&A[who], at, 7};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_read(l, read_weight, &a, &err), 0);
    return a.w;
}
static uint64_t jamt(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? strtoull(s, NULL, 10) : UINT64_MAX;
}
/* Project p's match, as the ledger recorded it. */
static uint64_t match_of(gt_ledger *l, const uint8_t id[32], int p) {
    json_t *r = round_view(l, id);
    uint64_t m = jamt(json_array_get(json_object_get(r, "projects"), (size_t)p), "match");
    json_decref(r);
    return m;
}

/* Plain QF by hand. Project 0 (BOB): X0 gives 1, X1 gives 4 tokens:
 * (sqrt 1 + sqrt 4)^2 - 5 = 9 - 5 = 4 tokens. Project 1 (CAROL): X2 and X3
 * give 1 each: (1 + 1)^2 - 2 = 2 tokens. Ideal total 6 <= pool 10: the
 * matches are 4 and 2, and 4 go back to ALICE. In a second round with a
 * pool of 3 the same contributions scale: 4*3/6 = 2 and 2*3/6 = 1. */
static void test_plain_by_hand(void) {
    gt_ledger *l = world();
    uint8_t r[32], r2[32];
    round_open(l, GT_FUND_QF, 10 * TOKEN, 0, 100, r);
    round_open(l, GT_FUND_QF, 3 * TOKEN, 0, 100, r2);
    uint64_t bob0 = bal(l, BOB), carol0 = bal(l, CAROL), alice0 = bal(l, ALICE);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 13 * TOKEN);
    const uint8_t *rs[2] = {r, r2};
    for (int k = 0; k < 2; k++) {
        CHECK_EQ_INT(give(l, X0, rs[k], 0, 1 * TOKEN), 0);
        CHECK_EQ_INT(give(l, X0 + 1, rs[k], 0, 4 * TOKEN), 0);
        CHECK_EQ_INT(give(l, X0 + 2, rs[k], 1, 1 * TOKEN), 0);
        CHECK_EQ_INT(give(l, X0 + 3, rs[k], 1, 1 * TOKEN), 0);
    }
    /* contributions are paid to the owners at once */
    CHECK_EQ_U64(bal(l, BOB) - bob0, 10 * TOKEN);
    CHECK_EQ_U64(bal(l, CAROL) - carol0, 4 * TOKEN);
    gt_result res;
    CHECK_EQ_INT(fa(l, CAROL, NULL, &res, "fund_round_finalize", "{\"round\":\"%s\"}", hx(r)), GT_ESTATE);
    CHECK_CONTAINS(res.msg, "takes contributions until");
    CHECK_EQ_INT(finalize(l, r, 100), 0);
    CHECK_EQ_INT(fa(l, CAROL, NULL, NULL, "fund_round_finalize", "{\"round\":\"%s\"}", hx(r2)), 0);
    CHECK_EQ_U64(match_of(l, r, 0), 4 * TOKEN);
    CHECK_EQ_U64(match_of(l, r, 1), 2 * TOKEN);
    CHECK_EQ_U64(match_of(l, r2, 0), 2 * TOKEN);
    CHECK_EQ_U64(match_of(l, r2, 1), 1 * TOKEN);
    CHECK_EQ_U64(bal(l, BOB) - bob0, 10 * TOKEN + 6 * TOKEN);
    CHECK_EQ_U64(bal(l, CAROL) - carol0, 4 * TOKEN + 3 * TOKEN);
    CHECK_EQ_U64(bal(l, ALICE) - alice0, 4 * TOKEN); /* the first round's remainder */
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 0);
    json_t *v = round_view(l, r);
    CHECK_STR(json_string_value(json_object_get(v, "status")), "finalized");
    CHECK_EQ_U64(jamt(v, "matched"), 6 * TOKEN);
    CHECK_EQ_U64(jamt(v, "remainder"), 4 * TOKEN);
    json_decref(v);
    /* once only */
    CHECK_EQ_INT(fa(l, CAROL, NULL, &res, "fund_round_finalize", "{\"round\":\"%s\"}", hx(r)), GT_ESTATE);
    CHECK_CONTAINS(res.msg, "already finalized");
    audit_ok(l);
    done(l);
}

/* The window, the projects and their owners. */
static void test_round_rules(void) {
    gt_ledger *l = world();
    gt_result res;
    uint64_t t = now_of(l);
    uint8_t r[32];
    /* a round must hold its pool, have a sane window and a known rule */
    CHECK_EQ_INT(fa(l, X0, NULL, &res, "fund_round_create",
                    "{\"pool\":%llu,\"startS\":%llu,\"endS\":%llu,\"rule\":1,\"pairwiseM\":0,\"name\":\"r\"}",
                    1000 * TOKEN, t, t + 100),
                 GT_EFUNDS);
    CHECK_EQ_INT(fa(l, X0, NULL, &res, "fund_round_create",
                    "{\"pool\":%llu,\"startS\":%llu,\"endS\":%llu,\"rule\":3,\"pairwiseM\":0,\"name\":\"r\"}", TOKEN, t,
                    t + 100),
                 GT_EINVAL);
    CHECK_EQ_INT(fa(l, X0, NULL, &res, "fund_round_create",
                    "{\"pool\":%llu,\"startS\":%llu,\"endS\":%llu,\"rule\":2,\"pairwiseM\":0,\"name\":\"r\"}", TOKEN, t,
                    t + 100),
                 GT_EINVAL);
    CHECK_EQ_INT(fa(l, X0, NULL, &res, "fund_round_create",
                    "{\"pool\":%llu,\"startS\":%llu,\"endS\":%llu,\"rule\":1,\"pairwiseM\":0,\"name\":\"r\"}", TOKEN,
                    t - 50, t - 10),
                 GT_EINVAL);
    /* the window opens later: too early to contribute */
    CHECK_EQ_INT(fa(l, ALICE, r, NULL, "fund_round_create",
                    "{\"pool\":%llu,\"startS\":%llu,\"endS\":%llu,\"rule\":1,\"pairwiseM\":0,\"name\":\"later\"}",
                    5 * TOKEN, t + 50, t + 150),
                 0);
    /* only the owner enters published work, once */
    CHECK_EQ_INT(fa(l, ALICE, NULL, &res, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":1,\"ref\":\"%s\"}",
                    hx(r), hx(job_b)),
                 GT_EPERM);
    CHECK_CONTAINS(res.msg, "only its owner");
    CHECK_EQ_INT(fa(l, BOB, NULL, &res, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":1,\"ref\":\"%s\"}",
                    hx(r), blob("never published")),
                 GT_ENOTFOUND);
    CHECK_EQ_INT(fa(l, BOB, NULL, &res, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":2,\"ref\":\"%s\"}",
                    hx(r), hx(job_b)),
                 GT_ENOTFOUND); /* a dataset is not an evaluation */
    CHECK_EQ_INT(fa(l, BOB, NULL, NULL, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":1,\"ref\":\"%s\"}",
                    hx(r), hx(job_b)),
                 0);
    CHECK_EQ_INT(fa(l, BOB, NULL, &res, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":1,\"ref\":\"%s\"}",
                    hx(r), hx(job_b)),
                 GT_EEXIST);
    CHECK_EQ_INT(give(l, X0, r, 0, TOKEN), GT_ESTATE); /* before the window */
    skew += 60;
    CHECK_EQ_INT(give(l, X0, r, 0, TOKEN), 0);
    CHECK_EQ_INT(give(l, X0, r, 1, TOKEN), GT_EINVAL);                        /* no project 1 */
    CHECK_EQ_INT(give(l, X0, r, 0, GT_FUND_MIN_CONTRIBUTION - 1), GT_EINVAL); /* dust */
    CHECK_EQ_INT(give(l, BOB, r, 0, TOKEN), GT_EPERM);                        /* its own project */
    CHECK_EQ_INT(give(l, X0 + 1, r, 0, 1000 * TOKEN), GT_EFUNDS);
    skew += 100; /* after the window: contributing and entering are closed */
    CHECK_EQ_INT(
        fa(l, X0 + 1, NULL, &res, "fund_contribute", "{\"round\":\"%s\",\"project\":0,\"amount\":%llu}", hx(r), TOKEN),
        GT_ESTATE);
    CHECK_CONTAINS(res.msg, "only in [");
    CHECK_EQ_INT(fa(l, CAROL, NULL, &res, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":1,\"ref\":\"%s\"}",
                    hx(r), hx(job_c)),
                 GT_ESTATE);
    /* one contributor: no match; the whole pool goes back */
    uint64_t alice0 = bal(l, ALICE);
    CHECK_EQ_INT(fa(l, CAROL, NULL, NULL, "fund_round_finalize", "{\"round\":\"%s\"}", hx(r)), 0);
    CHECK_EQ_U64(match_of(l, r, 0), 0);
    CHECK_EQ_U64(bal(l, ALICE) - alice0, 5 * TOKEN);
    done(l);
}

/* ---- datasets as projects ---- */

enum { DS_SYBIL = X0 + 12, DS_WORKER = X0 + 13 };

static int enter_dataset(gt_ledger *l, int who, const uint8_t round[32], const uint8_t job[32], gt_result *res) {
    return fa(l, who, NULL, res, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":1,\"ref\":\"%s\"}",
              hx(round), hx(job));
}

/* Sets meta's format<format>_height of the ledger at path (closed). */
static void put_format_height(int format, unsigned long long height) {
    sqlite3 *db;
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET value=%llu WHERE key='format%d_height'", height, format);
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_changes(db), 1);
    sqlite3_close(db);
}
static void put_format10_height(unsigned long long height) { put_format_height(10, height); }

/* V5 posts a one-slot generate task of job `name` that nobody claims; once
 * it expires the task is complete and V5 publishes a dataset of 1000 rows
 * of it: a dataset of nothing, which a ledger takes only before format 13's
 * height (from it a dataset's rows are at most what its task paid for). */
static void publish_unworked(gt_ledger *l, const char *name, uint8_t job[32]) {
    uint8_t task[32];
    CHECK_EQ_INT(gt_hex_decode(blob(name), job, 32, "job", NULL), 0);
    CHECK_EQ_INT(fa(l, V5, task, NULL, "task_post",
                    "{\"kind\":\"generate\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                    "\"claimSeconds\":2,\"submitSeconds\":50,\"verifySeconds\":50}",
                    hx(job), TOKEN, TOKEN),
                 0);
    skew += 5;
    idle_block(l);
    CHECK_EQ_INT(fa(l, V5, NULL, NULL, "dataset_publish",
                    "{\"task\":\"%s\",\"job\":\"%s\",\"root\":\"%s\",\"rows\":1000,\"manifest\":\"%s\"}",
                    hx(task), hx(job), blob("root"), blob("manifest")),
                 0);
}

/* A dataset enters a round only when a drawn, bonded panel accepted its
 * task's batches (format 10): the world's two, verified by a quorum, enter;
 * one whose batch its poster accepted, one whose batch the evaluator the
 * poster named (its sybil) accepted -- the attack: garbage bought on a
 * sybil's word, then matched -- and one of a task nobody worked are
 * refused, saying what is required. On the old rule all three entered
 * (0 != GT_EPERM, 3 checks, and their messages). The ledger's format 13
 * starts far ahead: a dataset of a task nobody worked could be published
 * before it, and such a dataset must still be kept out of a round. */
static void test_dataset_projects(void) {
    gt_ledger *l = fresh();
    gt_err err = {0};
    gt_ledger_close(l);
    put_format_height(13, 1000000);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    world_on(l);
    gt_result res;
    uint8_t r[32], own[32], sybil[32], empty[32], task[32];
    CHECK_EQ_INT(fa(l, DS_WORKER, NULL, NULL, "agent_register", "{\"name\":\"dsw\",\"skills\":\"generate\"}"), 0);
    publish_dataset_by(l, V5, DS_POSTER, DS_WORKER, "job-own", own, task);
    publish_dataset_by(l, V5, DS_SYBIL, DS_WORKER, "job-sybil", sybil, task);
    publish_unworked(l, "job-empty", empty);
    round_open(l, GT_FUND_QF, 10 * TOKEN, 0, 400, r); /* job_b and job_c enter: quorum-verified */
    CHECK_EQ_INT(enter_dataset(l, V5, r, own, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "batch 0 of its task");
    CHECK_CONTAINS(res.msg, "accepted by the task's poster or the evaluator it named, not by a drawn, bonded panel");
    CHECK_EQ_INT(enter_dataset(l, V5, r, sybil, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "only a dataset whose every paid batch a panel accepted");
    CHECK_EQ_INT(enter_dataset(l, V5, r, empty, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "no batch of its task");
    json_t *rv = round_view(l, r);
    CHECK_EQ_INT(json_array_size(json_object_get(rv, "projects")), 2);
    json_decref(rv);
    done(l);
}

/* A ledger upgraded to format 10 far ahead of its blocks: they are format
 * 9's, whose rule took any complete task, so the poster-accepted dataset
 * enters as it did then; the replay agrees, and fails once the height is
 * moved under those blocks (at block 1 now: every block from format 10's
 * height commits it, so the state roots differ before the rule is met). */
static void test_dataset_before_format10(void) {
    gt_ledger *l = fresh();
    gt_err err = {0};
    gt_ledger_close(l);
    put_format10_height(1000000);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    world_on(l);
    gt_result res;
    uint8_t r[32], own[32], task[32];
    CHECK_EQ_INT(fa(l, DS_WORKER, NULL, NULL, "agent_register", "{\"name\":\"dsw\",\"skills\":\"generate\"}"), 0);
    publish_dataset_by(l, V5, DS_POSTER, DS_WORKER, "job-own", own, task);
    round_open(l, GT_FUND_QF, 10 * TOKEN, 0, 400, r);
    CHECK_EQ_INT(enter_dataset(l, V5, r, own, &res), 0);
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    put_format10_height(0);
    CHECK(gt_ledger_verify(path, &rep, NULL, NULL, &err) != 0);
    CHECK_CONTAINS(err.msg, "block 1: replayed state root"); /* the heights are committed from format 10 on */
    put_format10_height(1000000);
    done(NULL);
}

/* ---- evaluations as projects ---- */

/* The arith-v1 eval spec the tests' eval tasks name (6 items, all 6 checked: the floor;
 * the model a made-up hash: the ledger never runs it) and its hash. */
static gt_work_eval_spec eval_spec(uint8_t spec_hash[32]) {
    gt_work_eval_spec es = {.limit = 6, .check = 6};
    const gt_bench_ref *ref = gt_bench_registry_find("arith-v1");
    CHECK(ref != NULL);
    snprintf(es.bench, sizeof es.bench, "arith-v1");
    if (ref) CHECK_EQ_INT(gt_hex_decode(ref->hash_hex, es.bench_hash, 32, "benchHash", NULL), 0);
    gt_sha256("a model", 7, es.model);
    char *text = gt_work_eval_spec_json(&es);
    gt_sha256(text, strlen(text), spec_hash);
    free(text);
    return es;
}

enum { EV_POSTER = -1, EV_QUORUM = -2 };

/* poster posts an eval task of 3 slots, verified by the evaluator verifier
 * (or, EV_POSTER, by the poster itself; EV_QUORUM, by a quorum of 2 of the
 * panel drawn from the staked validators). */
static void eval_task(gt_ledger *l, int poster, int verifier, uint8_t task[32]) {
    uint8_t spec[32];
    eval_spec(spec);
    char v[128] = "";
    if (verifier >= 0) snprintf(v, sizeof v, "\"verifier\":\"%s\",\"fee\":%llu,", ad(verifier), TOKEN / 10);
    if (verifier == EV_QUORUM) snprintf(v, sizeof v, "\"quorum\":2,\"fee\":%llu,", TOKEN / 10);
    CHECK_EQ_INT(fa(l, poster, task, NULL, "task_post",
                    "{\"kind\":\"eval\",\"spec\":\"%s\",\"slots\":3,\"bounty\":%llu,\"stake\":%llu,%s"
                    "\"claimSeconds\":500,\"submitSeconds\":500,\"verifySeconds\":500}",
                    hx(spec), 2 * TOKEN, TOKEN, v),
                 0);
}

/* who claims a slot of task and attests the results blob `results` (its
 * sha256; the ledger checks the terms, validators the lines): the
 * attestation's id. */
static int eval_attest(gt_ledger *l, int who, const uint8_t task[32], uint64_t slot, const char *results,
                       uint8_t id[32]) {
    uint8_t spec[32];
    gt_work_eval_spec es = eval_spec(spec);
    char bh[67], model[67];
    snprintf(bh, sizeof bh, "%s", hx(es.bench_hash));
    snprintf(model, sizeof model, "%s", hx(es.model));
    if (fa(l, who, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(task))) return -1;
    return fa(l, who, id, NULL, "eval_attest",
              "{\"task\":\"%s\",\"slot\":%llu,\"model\":\"%s\",\"bench\":\"arith-v1\",\"benchHash\":\"%s\","
              "\"resultsRoot\":\"%s\",\"scorePpm\":1000000,\"items\":6,\"results\":\"%s\"}",
              hx(task), slot, model, bh, blob(results), blob(results));
}

static int eval_cosign(gt_ledger *l, int who, const uint8_t att[32], int agree) {
    return fa(l, who, NULL, NULL, "eval_cosign",
              "{\"attestation\":\"%s\",\"itemsChecked\":3,\"agree\":%s,\"evidence\":\"%s\"}", hx(att),
              agree ? "true" : "false", blob("re-executed lines"));
}

/* who's sealed vote `agree` on slot 0 of quorum eval task (its result the
 * blob of `results`): from ledger format 11 an eval panel votes only sealed.
 * The salt is the sha256 of "salt" and who's address. */
static void eval_salt(int who, uint8_t salt[32]) {
    char t[64];
    snprintf(t, sizeof t, "salt %s", ad(who));
    gt_sha256(t, strlen(t), salt);
}
static int eval_commit(gt_ledger *l, int who, const uint8_t task[32], const char *results, int agree) {
    uint8_t salt[32], cm[32];
    eval_salt(who, salt);
    gt_market_vote_commitment(agree, salt, &A[who], task, 0, 0, GT_MARKET_ROUND_VERIFY, cm);
    char c[67];
    snprintf(c, sizeof c, "%s", hx(cm));
    return fa(l, who, NULL, NULL, "vote_commit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"commitment\":\"%s\"}",
              hx(task), blob(results), c);
}

/* who opens its sealed vote with eval_reveal: its co-sign of att. */
static int eval_reveal(gt_ledger *l, int who, const uint8_t att[32], int agree) {
    uint8_t salt[32];
    eval_salt(who, salt);
    char sa[67];
    snprintf(sa, sizeof sa, "%s", hx(salt));
    return fa(l, who, NULL, NULL, "eval_reveal",
              "{\"attestation\":\"%s\",\"itemsChecked\":3,\"agree\":%s,\"evidence\":\"%s\",\"voteSalt\":\"%s\"}",
              hx(att), agree ? "true" : "false", blob("re-executed lines"), sa);
}

static int enter_eval(gt_ledger *l, int who, const uint8_t round[32], const uint8_t att[32], gt_result *res) {
    return fa(l, who, NULL, res, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":2,\"ref\":\"%s\"}",
              hx(round), hx(att));
}

/* Only an evaluation a drawn, bonded panel accepted is a project. V3
 * attests honestly on a quorum task and V1 and V2, its drawn panel (with
 * V4's sybils), accept by sealed votes opened with their co-signs (format
 * 11): it enters (and still does once paid). V3's same honest
 * score on a task whose evaluator V1 accepted is refused (format 9: the
 * poster names the evaluator). V4 forges a score: pending, it is refused;
 * V1 rejects it; V4's two sybils (staked the validator minimum) co-sign it
 * agreeing (from format 12 only once V4's dispute window closed), so more
 * co-signers agree (2) than disagree (1): still refused
 * -- on the old rule (any attestation row) it entered, and could collect
 * contributions and a match. V5 posts its own eval task verified by itself
 * and accepts its sybil X0+5's attestation: "unverified", refused. V5 posts
 * another naming its sybil X0+8 as the evaluator, which accepts X0+5's
 * made-up score: "accepted" on the leaderboard, and entered by format 8's
 * rule (the attack), refused by format 9's. */
static void test_eval_projects(void) {
    gt_ledger *l = world();
    gt_result res;
    static const int evals[] = {V3, V4, X0 + 5};
    for (size_t i = 0; i < sizeof evals / sizeof evals[0]; i++)
        CHECK_EQ_INT(fa(l, evals[i], NULL, NULL, "agent_register", "{\"name\":\"e%zu\",\"skills\":\"eval\"}", i), 0);
    for (int i = X0 + 6; i < X0 + 8; i++) CHECK_EQ_INT(fa(l, i, NULL, NULL, "stake", "{\"amount\":%llu}", TOKEN), 0);
    uint8_t task[32], qtask[32], own_task[32], syb_task[32], honest[32], judged[32], forged[32], self[32], syb[32],
        r[32];
    eval_task(l, ALICE, V1, task);
    eval_task(l, ALICE, EV_QUORUM, qtask);
    CHECK_EQ_INT(eval_attest(l, V3, task, 0, "honest lines", honest), 0);
    CHECK_EQ_INT(eval_cosign(l, V1, honest, 1), 0); /* the evaluator's verdict: accept */
    CHECK_EQ_INT(eval_cosign(l, V2, honest, 1), 0);
    CHECK_EQ_INT(eval_attest(l, V3, qtask, 0, "honest lines", judged), 0);
    CHECK_EQ_INT(eval_attest(l, V4, task, 1, "every item marked right", forged), 0);
    round_open(l, GT_FUND_QF, 10 * TOKEN, 0, 400, r);
    CHECK_EQ_INT(enter_eval(l, V4, r, forged, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "is pending");
    CHECK_EQ_INT(eval_cosign(l, V1, forged, 0), 0); /* the verdict: reject */
    /* From format 12 a clear co-sign waits while V4 may still dispute. */
    CHECK_EQ_INT(eval_cosign(l, X0 + 6, forged, 1), GT_ESTATE);
    for (int i = 0; i <= GT_LEDGER_SHORT_WINDOW_S; i++) idle_block(l);
    CHECK_EQ_INT(eval_cosign(l, X0 + 6, forged, 1), 0);
    CHECK_EQ_INT(eval_cosign(l, X0 + 7, forged, 1), 0);
    CHECK_EQ_INT(enter_eval(l, V4, r, forged, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "is rejected");
    CHECK_CONTAINS(res.msg, "only an evaluation the market accepted");
    eval_task(l, V5, EV_POSTER, own_task);
    CHECK_EQ_INT(eval_attest(l, X0 + 5, own_task, 0, "made up", self), 0);
    CHECK_EQ_INT(fa(l, V5, NULL, NULL, "task_verify",
                    "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":100}", hx(own_task),
                    blob("made up")),
                 0);
    CHECK_EQ_INT(enter_eval(l, X0 + 5, r, self, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "is unverified");
    eval_task(l, V5, X0 + 8, syb_task);
    CHECK_EQ_INT(eval_attest(l, X0 + 5, syb_task, 0, "made up too", syb), 0);
    CHECK_EQ_INT(eval_cosign(l, X0 + 8, syb, 1), 0); /* the sybil evaluator's verdict: accept */
    CHECK_EQ_INT(enter_eval(l, X0 + 5, r, syb, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "only an evaluation a drawn, bonded panel accepted");
    CHECK_EQ_INT(enter_eval(l, V3, r, honest, &res), GT_EPERM); /* its evaluator's word only */
    CHECK_CONTAINS(res.msg, "accepted by its task's evaluator or poster");
    /* The panel's votes, sealed (format 11): V1, V2 and V4's two sybils (all
     * seated) commit, so the reveals need not wait for the commit window. */
    static const int panel[] = {V1, V2, X0 + 6, X0 + 7};
    for (size_t i = 0; i < 4; i++) CHECK_EQ_INT(eval_commit(l, panel[i], qtask, "honest lines", 1), 0);
    for (size_t i = 0; i < 4; i++) CHECK_EQ_INT(eval_reveal(l, panel[i], judged, 1), 0);
    CHECK_EQ_INT(enter_eval(l, V4, r, judged, &res), GT_EPERM); /* not its owner */
    CHECK_CONTAINS(res.msg, "only its owner");
    CHECK_EQ_INT(enter_eval(l, V3, r, judged, &res), 0);
    CHECK_EQ_INT(enter_eval(l, V3, r, judged, &res), GT_EEXIST);
    /* paid, it stays accepted: a second round takes it */
    CHECK_EQ_INT(fa(l, V3, NULL, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(qtask)), 0);
    uint8_t r2[32];
    round_open(l, GT_FUND_QF, 10 * TOKEN, 0, 400, r2);
    CHECK_EQ_INT(enter_eval(l, V3, r2, judged, &res), 0);
    skew += 2;
    CHECK_EQ_INT(give(l, X0, r, 2, TOKEN), 0);
    CHECK_EQ_INT(give(l, X0 + 1, r, 2, TOKEN), 0);
    CHECK_EQ_INT(finalize(l, r, 400), 0);
    CHECK_EQ_U64(match_of(l, r, 2), 2 * TOKEN); /* (1 + 1)^2 - 2 */
    done(l);
}

/* The issuer's id of the human behind key who (0x hex). */
static const char *person_of(int who) {
    char p[16];
    snprintf(p, sizeof p, "person-%d", who);
    return blob(p);
}

/* V1 registers as an issuer and attests each of who[] as a distinct human
 * (person = keccak of its index) with full weight until `until`. */
static void attest_all(gt_ledger *l, int issuer, const int *who, int n, uint64_t until) {
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(fa(l, issuer, NULL, NULL, "human_attest",
                        "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(who[i]),
                        person_of(who[i]), until),
                     0);
}

/* Issuers: only a staked, registered sender attests (registering bonds
 * the minimum out of its stake); an attestation's weight reads the
 * issuer's standing when it is used. */
static void test_issuers(void) {
    gt_ledger *l = world();
    gt_result res;
    uint64_t until = now_of(l) + 100000;
    /* unstaked: X0 holds tokens but has none staked */
    CHECK_EQ_INT(fa(l, X0, NULL, &res, "human_issuer_register", "{\"name\":\"nobody\"}"), GT_EPERM);
    CHECK_CONTAINS(res.msg, "staked");
    /* unregistered: V1 is staked but not an issuer yet */
    CHECK_EQ_INT(fa(l, V1, NULL, &res, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(X0), blob("p"),
                    until),
                 GT_EPERM);
    CHECK_CONTAINS(res.msg, "registered issuer");
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_register", "{\"name\":\"v1 humans\"}"), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_register", "{\"name\":\"again\"}"), GT_EEXIST);
    CHECK_EQ_INT(fa(l, V1, NULL, &res, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000001,\"expiresS\":%llu}", ad(X0), blob("p"),
                    until),
                 GT_EINVAL);
    CHECK_EQ_INT(fa(l, V1, NULL, &res, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(X0), blob("p"),
                    now_of(l)),
                 GT_EINVAL); /* already expired */
    int who[] = {X0};
    attest_all(l, V1, who, 1, until);
    CHECK_EQ_U64(weight_of(l, X0, now_of(l)), 1000000);
    CHECK_EQ_U64(weight_of(l, X0, until), 0);         /* expired then */
    CHECK_EQ_U64(weight_of(l, X0 + 1, now_of(l)), 0); /* never attested */
    /* unstaking what is left staked does not touch the bond: it still counts */
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "unstake", "{\"amount\":%llu}", 15 * TOKEN), GT_EFUNDS);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "unstake", "{\"amount\":%llu}", 10 * TOKEN), 0);
    CHECK_EQ_U64(weight_of(l, X0, now_of(l)), 1000000);
    /* the issuer leaves: its word no longer counts */
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_leave", "{}"), 0);
    CHECK_EQ_U64(weight_of(l, X0, now_of(l)), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, &res, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(X0 + 1),
                    blob("q"), until),
                 GT_EPERM);
    /* revoking: only the issuer's own, unrevoked attestation */
    CHECK_EQ_INT(fa(l, V2, NULL, &res, "human_revoke", "{\"subject\":\"%s\"}", ad(X0)), GT_ENOTFOUND);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_revoke", "{\"subject\":\"%s\"}", ad(X0)), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_revoke", "{\"subject\":\"%s\"}", ad(X0)), GT_ENOTFOUND);
    done(l);
}

/* One wallet split into ten does not raise its project's match under the
 * pairwise rule, where it does under plain QF; the same human acting from
 * a second address in a round is refused (its nullifier is taken). */
static void test_sybil_split(void) {
    gt_ledger *l = world();
    uint64_t until = now_of(l) + 100000;
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_register", "{\"name\":\"v1\"}"), 0);
    int honest[] = {X0 + 1, X0 + 2, X0 + 3, X0 + 4};
    attest_all(l, V1, honest, 4, until);
    /* the whale's one human attestation goes to its first split wallet too */
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(X0 + 10),
                    person_of(X0 + 4), until),
                 0); /* the whale's person */
    uint8_t s1[32], s2[32], q1[32], q2[32];
    round_open(l, GT_FUND_PAIRWISE, 100 * TOKEN, 10 * TOKEN, 1000, s1);
    round_open(l, GT_FUND_PAIRWISE, 100 * TOKEN, 10 * TOKEN, 1000, s2);
    round_open(l, GT_FUND_QF, 100 * TOKEN, 0, 1000, q1);
    round_open(l, GT_FUND_QF, 100 * TOKEN, 0, 1000, q2);
    const uint8_t *all[4] = {s1, s2, q1, q2};
    for (int k = 0; k < 4; k++) {
        CHECK_EQ_INT(give(l, X0 + 1, all[k], 0, TOKEN), 0);
        CHECK_EQ_INT(give(l, X0 + 2, all[k], 1, TOKEN), 0);
        CHECK_EQ_INT(give(l, X0 + 3, all[k], 1, TOKEN), 0);
    }
    CHECK_EQ_INT(give(l, X0 + 4, s1, 0, 10 * TOKEN), 0); /* one wallet */
    CHECK_EQ_INT(give(l, X0 + 4, q1, 0, 10 * TOKEN), 0);
    for (int i = 0; i < 10; i++) { /* the same 10 tokens from ten wallets */
        CHECK_EQ_INT(give(l, X0 + 10 + i, s2, 0, TOKEN), 0);
        CHECK_EQ_INT(give(l, X0 + 10 + i, q2, 0, TOKEN), 0);
    }
    /* the whale's human again, from a wallet attested with the same person */
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(X0 + 20),
                    person_of(X0 + 4), until),
                 0);
    gt_result res;
    CHECK_EQ_INT(fa(l, X0 + 20, NULL, &res, "fund_contribute", "{\"round\":\"%s\",\"project\":0,\"amount\":%llu}",
                    hx(s1), TOKEN),
                 GT_EPERM);
    CHECK_CONTAINS(res.msg, "one person, one contributor per round");
    CHECK_EQ_INT(give(l, X0 + 20, s2, 1, TOKEN), GT_EPERM); /* X0+10 acts as that human in s2 */
    CHECK_EQ_INT(finalize(l, s1, 1000), 0);
    for (int k = 1; k < 4; k++)
        CHECK_EQ_INT(fa(l, CAROL, NULL, NULL, "fund_round_finalize", "{\"round\":\"%s\"}", hx(all[k])), 0);
    uint64_t m_s1 = match_of(l, s1, 0), m_s2 = match_of(l, s2, 0), m_q1 = match_of(l, q1, 0), m_q2 = match_of(l, q2, 0);
    fprintf(stderr, "  project 0's match: pairwise one wallet %llu, split %llu; plain QF one wallet %llu, split %llu\n",
            (unsigned long long)m_s1, (unsigned long long)m_s2, (unsigned long long)m_q1, (unsigned long long)m_q2);
    CHECK(m_s2 <= m_s1);
    CHECK(m_q2 > m_q1); /* why the pairwise rule exists */
    CHECK(m_s1 > 0);
    done(l);
}

/* Pairwise by hand: two humans give 1 token each to project 0, M = 10
 * tokens: k = floor(sqrt(1e6 * 1e6)) = 1e6 base units, the pair's term is
 * 2 * floor(1e6 * 1e7 / (1e7 + 1e6)) = 2 * 909090 = 1818180 base units.
 * The same round where one of the two was revoked, had expired by the
 * window's end, or was vouched for by an issuer that then left: 0. */
static void test_weights_by_hand(void) {
    gt_ledger *l = world();
    uint64_t t = now_of(l);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_register", "{\"name\":\"v1\"}"), 0);
    CHECK_EQ_INT(fa(l, V2, NULL, NULL, "human_issuer_register", "{\"name\":\"v2\"}"), 0);
    int humans[] = {X0, X0 + 1, X0 + 2, X0 + 3, X0 + 4, X0 + 5, X0 + 6};
    attest_all(l, V1, humans, 6, t + 100000);
    attest_all(l, V1, humans + 6, 1, t + 200); /* X0+6 expires before the windows end */
    int by_v2[] = {X0 + 7};
    attest_all(l, V2, by_v2, 1, t + 100000);
    uint8_t r[4][32];
    for (int k = 0; k < 4; k++) round_open(l, GT_FUND_PAIRWISE, 100 * TOKEN, 10 * TOKEN, 1000, r[k]);
    int pairs[4][2] = {{X0, X0 + 1}, {X0 + 2, X0 + 3}, {X0 + 4, X0 + 6}, {X0 + 5, X0 + 7}};
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 2; j++) CHECK_EQ_INT(give(l, pairs[k][j], r[k], 0, TOKEN), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_revoke", "{\"subject\":\"%s\"}", ad(X0 + 3)), 0);
    CHECK_EQ_INT(fa(l, V2, NULL, NULL, "human_issuer_leave", "{}"), 0);
    CHECK_EQ_INT(finalize(l, r[0], 1000), 0);
    for (int k = 1; k < 4; k++)
        CHECK_EQ_INT(fa(l, CAROL, NULL, NULL, "fund_round_finalize", "{\"round\":\"%s\"}", hx(r[k])), 0);
    CHECK_EQ_U64(match_of(l, r[0], 0), 1818180);
    CHECK_EQ_U64(match_of(l, r[1], 0), 0); /* revoked */
    CHECK_EQ_U64(match_of(l, r[2], 0), 0); /* expired */
    CHECK_EQ_U64(match_of(l, r[3], 0), 0); /* its issuer left */
    done(l);
}

/* A match edited by hand in the store: the ledger refuses to open and
 * verify fails (the fund tables are in the state digest). */
static void test_hand_edit_refused(void) {
    gt_ledger *l = world();
    uint8_t r[32];
    round_open(l, GT_FUND_QF, 10 * TOKEN, 0, 100, r);
    CHECK_EQ_INT(give(l, X0, r, 0, TOKEN), 0);
    CHECK_EQ_INT(give(l, X0 + 1, r, 0, TOKEN), 0);
    CHECK_EQ_INT(finalize(l, r, 100), 0);
    CHECK_EQ_U64(match_of(l, r, 0), 2 * TOKEN);
    gt_ledger_close(l);
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE fd_projects SET match=match+1000000 WHERE idx=0", NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_changes(db), 1);
    sqlite3_close(db);
    gt_err err = {0};
    gt_ledger *again = NULL;
    CHECK(gt_ledger_open(path, 0, &again, &err) != 0);
    CHECK_CONTAINS(err.msg, "not the state it commits to");
    gt_ledger_close(again);
    gt_verify_report rep;
    memset(&err, 0, sizeof err);
    CHECK(gt_ledger_verify(path, &rep, NULL, NULL, &err) != 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* Reads an epoch (gt_fund_epoch_get) or a claim (gt_fund_claim_get). */
typedef struct ep_arg {
    uint64_t epoch;
    const gt_addr *who;
    json_t *out;
} ep_arg;
static int read_epoch(void *arg, gt_tx *tx, gt_err *err) {
    ep_arg *a = arg;
    a->out = a->who ? gt_fund_claim_get(tx->db, a->epoch, a->who, err) : gt_fund_epoch_get(tx->db, a->epoch, err);
    return a->out ? 0 : -1;
}
static json_t *epoch_view(gt_ledger *l, uint64_t epoch, int who) {
    ep_arg a = {epoch, who >= 0 ? &A[who] : NULL, NULL};
    gt_err err = {0};
    gt_ledger_read(l, read_epoch, &a, &err);
    if (!a.out) fprintf(stderr, "epoch view: %s\n", err.msg);
    return a.out;
}

/* keccak256(abi.encodePacked(uint256 index, address account, uint256 amount)),
 * written out here byte by byte, apart from airdrop.c. */
static void leaf_by_hand(uint64_t index, const gt_addr *acct, uint64_t amount, uint8_t out[32]) {
    uint8_t b[84] = {0};
    for (int i = 0; i < 8; i++) b[31 - i] = (uint8_t)(index >> (8 * i));
    memcpy(b + 32, acct->b, 20);
    for (int i = 0; i < 8; i++) b[83 - i] = (uint8_t)(amount >> (8 * i));
    gt_keccak256(b, sizeof b, out);
}

static int claim(gt_ledger *l, int who, uint64_t epoch, uint64_t index, uint64_t amount, const char *proof,
                 gt_result *res) {
    return fa(l, who, NULL, res, "airdrop_claim", "{\"epoch\":%llu,\"index\":%llu,\"amount\":%llu,\"proof\":\"%s\"}",
              epoch, index, amount, proof);
}

/* Points for paid slots, an epoch closed into Uniswap's Merkle leaves
 * (checked against a keccak computation written here), claims with
 * proofs: once each, only by the leaf's account. */
static void test_points_airdrop(void) {
    gt_ledger *l = world();
    gt_result res;
    uint64_t e = gt_fund_epoch_of(now_of(l));
    /* points come only from work a human-attested poster paid for */
    CHECK_EQ_INT(fa(l, CAROL, NULL, &res, "points_record", "{\"task\":\"%s\",\"slot\":0}", hx(task_b)), GT_EPERM);
    CHECK_CONTAINS(res.msg, "holds no valid proof of human");
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_register", "{\"name\":\"v1\"}"), 0);
    const int posters[] = {BOB, CAROL};
    attest_all(l, V1, posters, 2, now_of(l) + 10 * GT_FUND_EPOCH_S);
    CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "airdrop_fund", "{\"epoch\":%llu,\"amount\":%llu}", e, 7 * TOKEN), 0);
    /* from format 14 several funders may add (test_fund_attacks test_epoch_squat), each 0.01 token at least */
    CHECK_EQ_INT(fa(l, BOB, NULL, &res, "airdrop_fund", "{\"epoch\":%llu,\"amount\":9999}", e), GT_EINVAL);
    CHECK_EQ_INT(fa(l, BOB, NULL, &res, "airdrop_fund", "{\"epoch\":%llu,\"amount\":%llu}", e - 1, TOKEN), GT_ESTATE);
    /* points: the worker of a paid slot, once */
    CHECK_EQ_INT(fa(l, BOB, NULL, &res, "points_record", "{\"task\":\"%s\",\"slot\":0}", hx(task_b)), GT_EPERM);
    CHECK_EQ_INT(fa(l, CAROL, NULL, NULL, "points_record", "{\"task\":\"%s\",\"slot\":0}", hx(task_b)), 0);
    CHECK_EQ_INT(fa(l, CAROL, NULL, &res, "points_record", "{\"task\":\"%s\",\"slot\":0}", hx(task_b)), GT_EEXIST);
    CHECK_EQ_INT(fa(l, BOB, NULL, NULL, "points_record", "{\"task\":\"%s\",\"slot\":0}", hx(task_c)), 0);
    uint8_t t_open[32];
    CHECK_EQ_INT(fa(l, BOB, t_open, NULL, "task_post",
                    "{\"kind\":\"generate\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                    "\"claimSeconds\":50,\"submitSeconds\":50,\"verifySeconds\":50}",
                    blob("unpaid"), TOKEN, TOKEN),
                 0);
    CHECK_EQ_INT(fa(l, CAROL, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(t_open)), 0);
    CHECK_EQ_INT(fa(l, CAROL, NULL, &res, "points_record", "{\"task\":\"%s\",\"slot\":0}", hx(t_open)), GT_ESTATE);
    CHECK_CONTAINS(res.msg, "not paid");
    CHECK_EQ_INT(fa(l, CAROL, NULL, &res, "airdrop_close", "{\"epoch\":%llu}", e), GT_ESTATE); /* not over */
    skew += (e + 1) * GT_FUND_EPOCH_S - now_of(l) + 10;
    CHECK_EQ_INT(fa(l, CAROL, NULL, &res, "airdrop_close", "{\"epoch\":%llu}", e), GT_ESTATE); /* format 16's grace */
    CHECK_CONTAINS(res.msg, "may be closed from block time");
    skew += GT_AIRDROP_CLOSE_GRACE_S;
    CHECK_EQ_INT(fa(l, CAROL, NULL, NULL, "airdrop_close", "{\"epoch\":%llu}", e), 0);
    CHECK_EQ_INT(fa(l, CAROL, NULL, &res, "airdrop_close", "{\"epoch\":%llu}", e), GT_ESTATE);
    /* the tree by hand: 3 points each of 6, pool 7 -> 3.5 tokens each, indexes in address order */
    int first = memcmp(A[BOB].b, A[CAROL].b, 20) < 0 ? BOB : CAROL, second = first == BOB ? CAROL : BOB;
    uint64_t amt = 7 * TOKEN / 2;
    uint8_t l0[32], l1[32], root[32], pair[64];
    leaf_by_hand(0, &A[first], amt, l0);
    leaf_by_hand(1, &A[second], amt, l1);
    int lo = memcmp(l0, l1, 32) < 0;
    memcpy(pair, lo ? l0 : l1, 32);
    memcpy(pair + 32, lo ? l1 : l0, 32);
    gt_keccak256(pair, 64, root);
    json_t *ep = epoch_view(l, e, -1);
    CHECK_STR(json_string_value(json_object_get(ep, "status")), "closed");
    CHECK_STR(json_string_value(json_object_get(ep, "root")), hx(root));
    json_decref(ep);
    json_t *c0 = epoch_view(l, e, first), *c1 = epoch_view(l, e, second);
    CHECK_EQ_INT(json_integer_value(json_object_get(c0, "index")), 0);
    CHECK_EQ_U64(jamt(c0, "amount"), amt);
    char p0[65], p1[65];
    snprintf(p0, sizeof p0, "%s", json_string_value(json_object_get(c0, "proofHex")));
    snprintf(p1, sizeof p1, "%s", json_string_value(json_object_get(c1, "proofHex")));
    CHECK_STR(p0, hx(l1) + 2); /* the sibling of leaf 0 is leaf 1 */
    json_decref(c0);
    json_decref(c1);
    /* claims: another's proof, a wrong amount, then the real one once */
    uint64_t b0 = bal(l, first);
    CHECK_EQ_INT(claim(l, first, e, 1, amt, p1, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "not the sender's claim");
    CHECK_EQ_INT(claim(l, first, e, 0, amt + 1, p0, &res), GT_EPERM);
    CHECK_EQ_INT(claim(l, first, e, 0, amt, "00", &res), GT_EINVAL);
    CHECK_EQ_INT(claim(l, first, e, 0, amt, p0, &res), 0);
    CHECK_EQ_U64(bal(l, first) - b0, amt);
    CHECK_EQ_INT(claim(l, first, e, 0, amt, p0, &res), GT_EEXIST);
    CHECK_EQ_INT(claim(l, second, e, 1, amt, p1, &res), 0);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 0); /* 7 = 3.5 + 3.5: nothing left */
    /* an epoch without points gives its pool back */
    uint64_t e2 = gt_fund_epoch_of(now_of(l)), a0 = bal(l, ALICE);
    CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "airdrop_fund", "{\"epoch\":%llu,\"amount\":%llu}", e2, 2 * TOKEN), 0);
    skew += GT_FUND_EPOCH_S + GT_AIRDROP_CLOSE_GRACE_S;
    CHECK_EQ_INT(fa(l, BOB, NULL, NULL, "airdrop_close", "{\"epoch\":%llu}", e2), 0);
    CHECK_EQ_U64(bal(l, ALICE), a0);
    audit_ok(l);
    done(l);
}

/* poster posts a generate task of one slot with `bounty`, worker works it,
 * the poster accepts and the worker is paid; returns the task. */
static void paid_slot(gt_ledger *l, int poster, int worker, uint64_t bounty, const char *name, uint8_t task[32]) {
    CHECK_EQ_INT(fa(l, poster, task, NULL, "task_post",
                    "{\"kind\":\"generate\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                    "\"claimSeconds\":50,\"submitSeconds\":50,\"verifySeconds\":50}",
                    blob(name), bounty, TOKEN),
                 0);
    CHECK_EQ_INT(fa(l, worker, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(task)), 0);
    CHECK_EQ_INT(fa(l, worker, NULL, NULL, "task_submit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}",
                    hx(task), blob(name)),
                 0);
    CHECK_EQ_INT(fa(l, poster, NULL, NULL, "task_verify",
                    "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":90}", hx(task),
                    blob(name)),
                 0);
    CHECK_EQ_INT(fa(l, worker, NULL, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(task)), 0);
}

static int record(gt_ledger *l, int who, const uint8_t task[32], gt_result *res) {
    return fa(l, who, NULL, res, "points_record", "{\"task\":\"%s\",\"slot\":0}", hx(task));
}

/* The points (fd_slot_points) recorded for task's slot 0, -1 when none. */
static long long slot_points_of(gt_ledger *l, const uint8_t task[32]) {
    (void)l;
    sqlite3 *db;
    sqlite3_stmt *q;
    long long v = -1;
    CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT points FROM fd_slot_points WHERE task=? AND slot=0", -1, &q, NULL),
                 SQLITE_OK);
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

/* Format 10's payer rule, as an attacker farming an airdrop meets it: a
 * poster paying its own second wallet (attested as the same human, or
 * under the same person by the issuer) earns it nothing; one person's paid
 * work gives at most GT_FUND_POINTS_PER_PAYER an epoch, the slot that
 * crosses it cut, the next refused; a second address of the same person
 * cannot pay for more in that epoch; the next epoch has a fresh budget for
 * the work paid in it (a slot's points go to the epoch it was paid in). */
static void test_points_payers(void) {
    gt_ledger *l = world();
    gt_result res;
    uint8_t t[6][32];
    const uint64_t half = GT_FUND_POINTS_PER_PAYER * 3 / 5; /* 60 tokens: two cross the budget */
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_register", "{\"name\":\"v1\"}"), 0);
    const int humans[] = {ALICE, CAROL};
    uint64_t until = now_of(l) + 10 * GT_FUND_EPOCH_S;
    attest_all(l, V1, humans, 2, until);
    /* BOB is ALICE's second wallet, and the issuer knows it: the same person */
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(BOB),
                    person_of(ALICE), until),
                 0);
    paid_slot(l, ALICE, BOB, half, "self-paid", t[0]);
    CHECK_EQ_INT(record(l, BOB, t[0], &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "same human as the task's poster");
    /* honest work for ALICE: 60, then 40 of 60 (the budget of 100), then none */
    paid_slot(l, ALICE, CAROL, half, "work-1", t[1]);
    paid_slot(l, ALICE, CAROL, half, "work-2", t[2]);
    paid_slot(l, ALICE, CAROL, TOKEN, "work-3", t[3]);
    uint64_t e = gt_fund_epoch_of(now_of(l));
    CHECK_EQ_INT(record(l, CAROL, t[1], NULL), 0);
    CHECK_EQ_INT(record(l, CAROL, t[2], NULL), 0);
    CHECK_EQ_INT(slot_points_of(l, t[1]), (long long)half);
    CHECK_EQ_INT(slot_points_of(l, t[2]), (long long)(GT_FUND_POINTS_PER_PAYER - half));
    CHECK_EQ_INT(record(l, CAROL, t[3], &res), GT_ELIMIT);
    CHECK_CONTAINS(res.msg, "one person's budget an epoch");
    /* V2, attested as ALICE's person too, pays CAROL in the same epoch */
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(V2),
                    person_of(ALICE), until),
                 0);
    paid_slot(l, V2, CAROL, TOKEN, "work-4", t[4]);
    CHECK_EQ_INT(record(l, CAROL, t[4], &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "one person pays for points from one address an epoch");
    CHECK_EQ_INT(gt_fund_epoch_of(now_of(l)), (long long)e); /* all of it within one epoch */
    /* the next epoch: ALICE's budget is whole again for the work paid in
     * it; t[3], paid in e, still counts against e's (from ledger format 16
     * a slot's points go to the epoch it was paid in) */
    skew += (e + 1) * GT_FUND_EPOCH_S - now_of(l) + 10;
    CHECK_EQ_INT(record(l, CAROL, t[3], &res), GT_ELIMIT);
    CHECK_CONTAINS(res.msg, "a slot's points go to the epoch it was paid in");
    paid_slot(l, ALICE, CAROL, TOKEN, "work-5", t[5]);
    CHECK_EQ_INT(record(l, CAROL, t[5], NULL), 0);
    CHECK_EQ_INT(slot_points_of(l, t[5]), (long long)TOKEN);
    audit_ok(l);
    done(l);
}

/* Below format 10's height the old rule holds: an unattested poster's
 * paid slot earns its worker the whole bounty, and the replay agrees. */
static void test_points_before_format10(void) {
    gt_ledger *l = fresh();
    gt_err err = {0};
    gt_ledger_close(l);
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE meta SET value=1000000 WHERE key='format10_height'", NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    world_on(l);
    CHECK_EQ_INT(record(l, CAROL, task_b, NULL), 0);
    CHECK_EQ_INT(slot_points_of(l, task_b), (long long)(3 * TOKEN));
    done(l);
}

/* The module's invariants hold on a real ledger and fire on a store
 * corrupted by hand (a match inflated, a round's escrow drained). */
static int check_fn(void *arg, gt_tx *tx, gt_err *err) {
    (void)arg;
    return gt_fund_check(tx, err);
}
static int check_raw(const char *sql, gt_err *err) {
    sqlite3 *db;
    if (sqlite3_open(path, &db) || sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) abort();
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK(sqlite3_changes(db) > 0);
    gt_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.db = db;
    int rc = gt_fund_check(&tx, err);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}
static void test_invariants(void) {
    gt_ledger *l = world();
    uint8_t r[32], open_r[32];
    round_open(l, GT_FUND_QF, 10 * TOKEN, 0, 100, r);
    round_open(l, GT_FUND_QF, 5 * TOKEN, 0, 1000, open_r);
    CHECK_EQ_INT(give(l, X0, r, 0, TOKEN), 0);
    CHECK_EQ_INT(give(l, X0 + 1, r, 0, TOKEN), 0);
    CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "airdrop_fund", "{\"epoch\":%llu,\"amount\":%llu}",
                    gt_fund_epoch_of(now_of(l)), TOKEN),
                 0);
    CHECK_EQ_INT(finalize(l, r, 100), 0);
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_read(l, check_fn, NULL, &err), 0);
    gt_ledger_close(l);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(check_raw("UPDATE fd_projects SET match=match+1 WHERE idx=0 AND match>0", &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "fund-round-books");
    memset(&err, 0, sizeof err);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE locks SET amount=amount-1 WHERE id=x'%s'", hx(open_r) + 2);
    CHECK_EQ_INT(check_raw(sql, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "fund-round-escrow");
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(check_raw("UPDATE fd_epochs SET pool=pool+1", &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "fund-epoch-escrow");
    done(NULL);
}

int main(void) {
    make_keys();
    extra_keys();
    gt_err err = {0};
    if (gt_fund_register(&err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    RUN(test_plain_by_hand);
    RUN(test_round_rules);
    RUN(test_dataset_projects);
    RUN(test_dataset_before_format10);
    RUN(test_eval_projects);
    RUN(test_issuers);
    RUN(test_sybil_split);
    RUN(test_weights_by_hand);
    RUN(test_hand_edit_refused);
    RUN(test_points_airdrop);
    RUN(test_points_payers);
    RUN(test_points_before_format10);
    RUN(test_invariants);
    return gt_test_finish();
}
