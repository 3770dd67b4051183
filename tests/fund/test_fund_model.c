/* test_fund_model.c: a model trained on gotong as a funding round's project
 * (projectKind 3, fund_round.c): the ref is its `train` task, the owner the
 * task's poster, and it enters only once a drawn, bonded panel accepted a
 * run of it (a quorum task's panel, or a dispute its worker won), whose
 * members re-executed stretches of the run. Checked on a ledger: a task
 * still waiting for its verdict, one whose run the evaluator rejected, one
 * accepted only by its own poster (its owner, vouching for its sybil's
 * made-up checkpoints), one accepted by an evaluator the poster named (its
 * sybil: the attack format 9 closes), a task of another kind and an unknown
 * id are refused with what is missing; the worker, not the owner, is
 * refused; the owner enters once; a run won in a dispute enters;
 * contributions pay the owner and the match is the hand-computed one; the
 * round's JSON names the project a "model". The ledger replays at the end
 * (done()). On a ledger whose format9_height is ahead the sybil-accepted
 * model still enters (blocks made before the upgrade replay as decided),
 * and the replay fails with the height moved under it. */
#include "fund_util.h"

enum { TRAINER = X0 + 10, TRAINER2 = X0 + 11, EVALUATOR = V2, SYBIL = X0 + 12 };
enum { BY_POSTER = -1, BY_QUORUM = -2 };

/* poster posts a train task of one slot (verified by `verifier`, by the
 * poster itself when BY_POSTER, by a quorum of 2 of the drawn panel -- V1
 * and V2, the world's staked validators -- when BY_QUORUM); worker claims
 * it and submits a manifest. */
static void train_run(gt_ledger *l, int poster, int verifier, int worker, const char *manifest, uint8_t task[32]) {
    char v[128] = "";
    if (verifier >= 0) snprintf(v, sizeof v, "\"verifier\":\"%s\",\"fee\":%llu,", ad(verifier), TOKEN / 10);
    if (verifier == BY_QUORUM) snprintf(v, sizeof v, "\"quorum\":2,\"fee\":%llu,", TOKEN / 10);
    CHECK_EQ_INT(fa(l, poster, task, NULL, "task_post",
                    "{\"kind\":\"train\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,%s"
                    "\"claimSeconds\":500,\"submitSeconds\":500,\"verifySeconds\":500}",
                    blob(manifest), 2 * TOKEN, TOKEN, v),
                 0);
    CHECK_EQ_INT(fa(l, worker, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(task)), 0);
    CHECK_EQ_INT(fa(l, worker, NULL, NULL, "task_submit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(task),
                    blob(manifest)),
                 0);
}

static int verdict(gt_ledger *l, int who, const uint8_t task[32], const char *manifest, int accept) {
    char reason[96] = "";
    if (!accept) snprintf(reason, sizeof reason, ",\"reason\":\"%s\"", blob("a re-run stretch differs"));
    return fa(l, who, NULL, NULL, "task_verify",
              "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":%s,\"score\":%d%s}", hx(task),
              blob(manifest), accept ? "true" : "false", accept ? 100 : 0, reason);
}

/* worker, rejected by the poster of task, disputes; V1 and V2 (the dispute's
 * panel: the world's staked validators) re-run and vote accept: the worker
 * wins and is paid on the panel's verdict. */
static void dispute_won(gt_ledger *l, int poster, int worker, const uint8_t task[32], const char *manifest) {
    CHECK_EQ_INT(verdict(l, poster, task, manifest, 0), 0);
    CHECK_EQ_INT(fa(l, worker, NULL, NULL, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}",
                    hx(task), blob(manifest)),
                 0);
    idle_block(l);
    idle_block(l);
    for (int v = V1; v <= V2; v++)
        CHECK_EQ_INT(fa(l, v, NULL, NULL, "dispute_vote",
                        "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true}", hx(task),
                        blob(manifest)),
                     0);
}

static int enter_model(gt_ledger *l, int who, const uint8_t round[32], const uint8_t task[32], gt_result *res) {
    return fa(l, who, NULL, res, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":3,\"ref\":\"%s\"}",
              hx(round), hx(task));
}

typedef struct round_arg {
    const uint8_t *id;
    json_t *out;
} round_arg;
static int read_round(void *arg, gt_tx *tx, gt_err *err) {
    round_arg *a = arg;
    return (a->out = gt_fund_round_get(tx->db, a->id, err)) ? 0 : -1;
}

static void test_model_projects(void) {
    gt_ledger *l = world(); /* BOB's and CAROL's datasets are projects 0 and 1 of every round_open */
    gt_result res;
    for (int i = TRAINER; i <= TRAINER2; i++)
        CHECK_EQ_INT(fa(l, i, NULL, NULL, "agent_register", "{\"name\":\"t%d\",\"skills\":\"train\"}", i), 0);
    uint8_t honest[32], rejected[32], own[32], sybil[32], disputed[32], r[32];
    train_run(l, ALICE, BY_QUORUM, TRAINER, "manifest: trained as committed", honest);
    train_run(l, ALICE, EVALUATOR, TRAINER2, "manifest: steps skipped", rejected);
    train_run(l, V5, BY_POSTER, TRAINER2, "manifest: made up", own);
    train_run(l, V5, SYBIL, TRAINER2, "manifest: made up too", sybil);
    train_run(l, ALICE, BY_POSTER, TRAINER2, "manifest: wrongly rejected", disputed);
    round_open(l, GT_FUND_QF, 10 * TOKEN, 0, 400, r);
    /* submitted, no verdict yet */
    CHECK_EQ_INT(enter_model(l, ALICE, r, honest, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "no run a bonded panel accepted");
    /* the evaluator re-ran stretches and rejected the run */
    CHECK_EQ_INT(verdict(l, EVALUATOR, rejected, "manifest: steps skipped", 0), 0);
    CHECK_EQ_INT(enter_model(l, ALICE, r, rejected, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "no run a bonded panel accepted");
    /* accepted by the poster (the model's owner) alone */
    CHECK_EQ_INT(verdict(l, V5, own, "manifest: made up", 1), 0);
    CHECK_EQ_INT(enter_model(l, V5, r, own, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "the poster's own acceptance does not");
    /* the attack: accepted by the evaluator the poster named, its sybil;
     * format 8's rule took it (the old code entered it, and its owner
     * collected contributions and a match for made-up checkpoints) */
    CHECK_EQ_INT(verdict(l, SYBIL, sybil, "manifest: made up too", 1), 0);
    CHECK_EQ_INT(fa(l, SYBIL, NULL, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(sybil)), 0);
    CHECK_EQ_INT(enter_model(l, V5, r, sybil, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "only a slot accepted by the drawn panel of a quorum task, or one whose worker won a "
                            "dispute, counts; an evaluator's");
    /* not a train task; no task at all */
    CHECK_EQ_INT(enter_model(l, BOB, r, task_b, &res), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "not a train task");
    CHECK_EQ_INT(enter_model(l, ALICE, r, job_b, &res), GT_ENOTFOUND);
    CHECK_CONTAINS(res.msg, "no train task");
    /* accepted by the quorum's drawn panel: the owner (the poster) enters, the worker may not */
    for (int v = V1; v <= V2; v++) CHECK_EQ_INT(verdict(l, v, honest, "manifest: trained as committed", 1), 0);
    CHECK_EQ_INT(enter_model(l, TRAINER, r, honest, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "only its owner");
    CHECK_EQ_INT(enter_model(l, ALICE, r, honest, &res), 0);
    CHECK_EQ_INT(enter_model(l, ALICE, r, honest, &res), GT_EEXIST);
    /* rejected by its poster, the worker won the dispute: the panel's verdict counts */
    CHECK_EQ_INT(enter_model(l, ALICE, r, disputed, &res), GT_EPERM);
    dispute_won(l, ALICE, TRAINER2, disputed, "manifest: wrongly rejected");
    CHECK_EQ_INT(enter_model(l, ALICE, r, disputed, &res), 0);
    /* a bad kind names the three */
    CHECK_EQ_INT(fa(l, ALICE, NULL, &res, "fund_round_enter", "{\"round\":\"%s\",\"projectKind\":4,\"ref\":\"%s\"}",
                    hx(r), hx(honest)),
                 GT_EINVAL);
    CHECK_CONTAINS(res.msg, "3 (a model trained by a train task)");
    /* funded: contributions go to the owner at once; by hand (1 + 1)^2 - 2 = 2 tokens of match */
    skew += 2;
    uint64_t alice0 = bal(l, ALICE);
    CHECK_EQ_INT(give(l, X0, r, 2, TOKEN), 0);
    CHECK_EQ_INT(give(l, X0 + 1, r, 2, TOKEN), 0);
    CHECK_EQ_U64(bal(l, ALICE) - alice0, 2 * TOKEN);
    CHECK_EQ_INT(finalize(l, r, 400), 0);
    round_arg ra = {r, NULL};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_read(l, read_round, &ra, &err), 0);
    json_t *p = json_array_get(json_object_get(ra.out, "projects"), 2);
    CHECK_STR(json_string_value(json_object_get(p, "kind")), "model");
    CHECK_STR(json_string_value(json_object_get(p, "ref")), hx(honest));
    CHECK_STR(json_string_value(json_object_get(p, "payee")), ad(ALICE));
    CHECK_STR(json_string_value(json_object_get(p, "match")), "2000000");
    p = json_array_get(json_object_get(ra.out, "projects"), 3);
    CHECK_STR(json_string_value(json_object_get(p, "ref")), hx(disputed));
    json_decref(ra.out);
    done(l);
}

/* Sets meta's format9_height of the ledger at path (closed). */
static void put_format9_height(unsigned long long height) {
    sqlite3 *db;
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET value=%llu WHERE key='format9_height'", height);
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_changes(db), 1);
    sqlite3_close(db);
}

/* A ledger upgraded to format 9 far ahead of its blocks: they are format
 * 8's, whose rule took an evaluator's verdict, so the model its poster's
 * sybil evaluator accepted enters as it did then; the replay agrees, and
 * fails once the height is moved under those blocks (the new rule refuses
 * the entry: another state). */
static void test_model_before_format9(void) {
    gt_ledger *l = fresh();
    gt_err err = {0};
    gt_ledger_close(l);
    put_format9_height(1000000);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    world_on(l);
    gt_result res;
    uint8_t sybil[32], r[32];
    CHECK_EQ_INT(fa(l, TRAINER2, NULL, NULL, "agent_register", "{\"name\":\"t\",\"skills\":\"train\"}"), 0);
    train_run(l, V5, SYBIL, TRAINER2, "manifest: made up", sybil);
    CHECK_EQ_INT(verdict(l, SYBIL, sybil, "manifest: made up", 1), 0);
    round_open(l, GT_FUND_QF, 10 * TOKEN, 0, 400, r);
    CHECK_EQ_INT(enter_model(l, V5, r, sybil, &res), 0);
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    put_format9_height(0);
    CHECK(gt_ledger_verify(path, &rep, NULL, NULL, &err) != 0);
    put_format9_height(1000000);
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
    RUN(test_model_projects);
    RUN(test_model_before_format9);
    return gt_test_finish();
}
