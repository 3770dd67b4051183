/* test_fund_model.c: a model trained on gotong as a funding round's project
 * (projectKind 3, fund_round.c): the ref is its `train` task, the owner the
 * task's poster, and it enters only once the market accepted a run of it on
 * the verdict of someone other than the poster (who re-executed stretches of
 * the run). Checked on a ledger: a task still waiting for its verdict, one
 * whose run the evaluator rejected, one accepted only by its own poster (its
 * owner, vouching for its sybil's made-up checkpoints), a task of another
 * kind and an unknown id are refused with what is missing; the worker, not
 * the owner, is refused; the owner enters once; contributions pay the owner
 * and the match is the hand-computed one; the round's JSON names the
 * project a "model". The ledger replays at the end (done()). */
#include "fund_util.h"

enum { TRAINER = X0 + 10, TRAINER2 = X0 + 11, EVALUATOR = V2 };

/* poster posts a train task of one slot (verified by `verifier`, or by the
 * poster itself when verifier < 0); worker claims it and submits a manifest. */
static void train_run(gt_ledger *l, int poster, int verifier, int worker, const char *manifest, uint8_t task[32]) {
    char v[128] = "";
    if (verifier >= 0) snprintf(v, sizeof v, "\"verifier\":\"%s\",\"fee\":%llu,", ad(verifier), TOKEN / 10);
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
    uint8_t honest[32], rejected[32], own[32], r[32];
    train_run(l, ALICE, EVALUATOR, TRAINER, "manifest: trained as committed", honest);
    train_run(l, ALICE, EVALUATOR, TRAINER2, "manifest: steps skipped", rejected);
    train_run(l, V5, -1, TRAINER2, "manifest: made up", own);
    round_open(l, GT_FUND_QF, 10 * TOKEN, 0, 400, r);
    /* submitted, no verdict yet */
    CHECK_EQ_INT(enter_model(l, ALICE, r, honest, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "no run the market accepted");
    /* the evaluator re-ran stretches and rejected the run */
    CHECK_EQ_INT(verdict(l, EVALUATOR, rejected, "manifest: steps skipped", 0), 0);
    CHECK_EQ_INT(enter_model(l, ALICE, r, rejected, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "no run the market accepted");
    /* accepted by the poster (the model's owner) alone */
    CHECK_EQ_INT(verdict(l, V5, own, "manifest: made up", 1), 0);
    CHECK_EQ_INT(enter_model(l, V5, r, own, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "not on its poster's own word");
    /* not a train task; no task at all */
    CHECK_EQ_INT(enter_model(l, BOB, r, task_b, &res), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "not a train task");
    CHECK_EQ_INT(enter_model(l, ALICE, r, job_b, &res), GT_ENOTFOUND);
    CHECK_CONTAINS(res.msg, "no train task");
    /* accepted by the evaluator: the owner (the poster) enters, the worker may not */
    CHECK_EQ_INT(verdict(l, EVALUATOR, honest, "manifest: trained as committed", 1), 0);
    CHECK_EQ_INT(enter_model(l, TRAINER, r, honest, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "only its owner");
    CHECK_EQ_INT(enter_model(l, ALICE, r, honest, &res), 0);
    CHECK_EQ_INT(enter_model(l, ALICE, r, honest, &res), GT_EEXIST);
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
    json_decref(ra.out);
    done(l);
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
    return gt_test_finish();
}
