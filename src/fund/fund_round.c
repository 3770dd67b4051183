/* fund_round.c: funding rounds on the ledger -- create, enter, contribute,
 * finalize -- matched by quadratic funding (qf.h).
 *
 * Rules and the attacks they answer:
 *  - The matching pool is escrowed from the creator when the round opens (a
 *    lock whose id is the round's id): a creator cannot promise a pool it
 *    does not hold, nor take it back while the round runs.
 *  - Only published work can be funded, and only its owner can enter it and
 *    be paid: a dataset's job (its publisher, wk_datasets), an evaluation's
 *    attestation (its attester, wk_attestations) or a model trained on
 *    gotong (its `train` task, whose poster committed the base, data and
 *    settings and paid for the run; the model is the last checkpoint of the
 *    task's manifest, the same bytes from every slot, since training is
 *    byte-identical). Anyone entering someone else's work to collect its
 *    matches is refused; a project is entered once per round.
 *  - A model is eligible only when a drawn, bonded panel accepted a run of
 *    it: a slot of its train task accepted by the panel of a quorum task, or
 *    paid after its worker won a dispute (gt_market_slot_panel_accepted),
 *    whose members re-executed stretches of the run (work/train_task.h). A
 *    task with no such slot is refused, and so is one accepted only by its
 *    own poster or by an evaluator: the poster is the model's owner and names
 *    the evaluator, so a poster naming its own sybil could have made-up
 *    checkpoints accepted and collect matching funds for them. (Format 9's
 *    rule, from format9_height; blocks before it replay under the old one,
 *    which took an evaluator's verdict too.)
 *  - A dataset is eligible only when a drawn, bonded panel accepted the
 *    batches it was made of: every slot of the task it was published
 *    through (wk_datasets.task: its rows are that task's paid batches) that
 *    was accepted or paid stands accepted on a panel's verdict (a quorum
 *    task's, or a dispute its worker won), and at least one does. Before,
 *    a complete task was enough, even one whose slots all expired unclaimed
 *    (a "1000 rows" dataset of nothing), and batches were bought on the
 *    poster's word or an evaluator's it named, so a poster with a sybil
 *    evaluator collected matching funds for garbage. Every paid batch, not
 *    one: one honest batch won in a dispute must not carry a hundred its
 *    sybil accepted; an honest quorum task passes, since its panel gave
 *    every verdict that paid a batch. (Format 10's rule, from
 *    format10_height; earlier blocks replay under the old one.)
 *  - An evaluation is eligible only when a drawn, bonded panel accepted it:
 *    its eval slot accepted or paid, on this attestation's attempt and
 *    results (the leaderboard's "accepted", gt_work_attestation_status), on
 *    a quorum's verdict or after a dispute the attester won. A forged score
 *    that its verifier rejected, one still pending or disputed, one accepted
 *    only by the eval task's own poster and one accepted by the evaluator the
 *    poster named (either may be the attester's sybil) are refused (the
 *    evaluator's verdict: from format 9, as above). Counting co-signs
 *    instead would not do: any address with the validator minimum staked
 *    may co-sign, so a forger's two sybils agreeing would outvote the
 *    verifier's one rejection. An accepted slot only ever
 *    becomes paid, so the standing cannot be lost after the entry.
 *  - Contributions count only inside [startS, endS) of block time (the only
 *    clock): one after the window is refused, so nobody tops up a project
 *    once the others' contributions are known. A contribution is paid to
 *    the project's owner at once; a project's owner may not contribute to
 *    its own project. Each is at least GT_FUND_MIN_CONTRIBUTION, so a wallet
 *    split into dust pays a floor per piece. From format 14 a contribution
 *    that would take the round's total past GT_SUPPLY_MAX is refused: paid
 *    out at once, the same tokens can be given again, and a total past
 *    INT64_MAX became a real number in the store, after which every
 *    contribution to the round was refused as a damaged row (a frozen
 *    round; test_fund_attacks test_recycled_total).
 *  - One human, one contributor per round: a contribution records the
 *    nullifier of each valid attestation of its sender for the round
 *    (gt_fund_nullifier: the issuer's person id and the round); the same human
 *    contributing from a second address is refused.
 *  - Finalize, by anyone at or after endS, once: the matches come from
 *    gt_fund_match over the round's rows, under the round's rule. Under
 *    GT_FUND_PAIRWISE each contributor is weighted by its proof-of-human
 *    weight (gt_fund_human_weight at endS, with issuers' stakes as they are
 *    at finalize): an unattested, revoked or expired address, or one vouched
 *    for only by an issuer that unstaked, adds nothing to any match, and a
 *    pair of contributors that funds the same projects together is
 *    discounted. From format 14 only the attestations whose nullifiers the
 *    contributor recorded in the round count (fund_finalize.c): one made
 *    after it gave -- one human's second wallet, attested as the same
 *    person once its money was in -- adds nothing; and an issuer's revocation
 *    counts only when made before endS (a revoke in the gap between endS and
 *    finalize, undone after, took a project's match), while a revoked
 *    (issuer, subject) cannot be attested again by that issuer for the
 *    ledger's unbonding period (fund_human.c); from format 15 an issuer's
 *    leave too counts only when made before endS (fund.c issuer_good). Plain GT_FUND_QF is open to
 *    sybils (qf.h) and is there for rounds among known contributors. Matches round down; the remainder goes
 *    back to the creator. A round whose matching would exceed the library's
 *    work limit fails closed: nothing is matched, the pool goes back.
 *  - Everything is integers over the log's rows, so `gotong ledger verify`
 *    recomputes every match on replay and any edit to the rows is refused
 *    by the state digest. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "crypto/addr.h"
#include "fund/fund.h"
#include "fund/fund_impl.h"
#include "fund/qf.h"
#include "ledger/row.h"
#include "work/train_task.h"
#include "work/work.h"

typedef struct fd_round {
    gt_addr creator;
    int rule, status;
    uint64_t pool, pairwise_m, start_s, end_s, projects, contribs, contributed;
} fd_round;

/* Loads round id; GT_ENOTFOUND naming it. */
static int round_load(sqlite3 *db, const uint8_t id[32], fd_round *r, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "SELECT creator, rule, pool, pairwise_m, start_s, end_s, status, projects, contribs,"
                             " contributed FROM fd_rounds WHERE id=?",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    int s = sqlite3_step(q);
    const char *T = "fd_rounds";
    if (s == SQLITE_ROW) {
        if ((rc = gt_row_blob(q, 0, r->creator.b, 20, T, err)) || (rc = gt_row_int(q, 1, &r->rule, T, err)) ||
            (rc = gt_row_amount(q, 2, &r->pool, T, err)) || (rc = gt_row_amount(q, 3, &r->pairwise_m, T, err)) ||
            (rc = gt_row_amount(q, 4, &r->start_s, T, err)) || (rc = gt_row_amount(q, 5, &r->end_s, T, err)) ||
            (rc = gt_row_int(q, 6, &r->status, T, err)) || (rc = gt_row_amount(q, 7, &r->projects, T, err)) ||
            (rc = gt_row_amount(q, 8, &r->contribs, T, err)) || (rc = gt_row_amount(q, 9, &r->contributed, T, err))) {}
    } else {
        char h[19];
        rc = s == SQLITE_DONE ? gt_err_set(err, GT_ENOTFOUND, "no funding round %s…", gt_fund_short(id, h))
                              : gt_err_set(err, GT_EDB, "reading rounds: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(q);
    return rc;
}

/* ---- fund_round_create ---- */

static const gt_field_def create_fields[] = {
    {"pool", GT_F_U64, 0}, {"startS", GT_F_U64, 0},    {"endS", GT_F_U64, 0},
    {"rule", GT_F_U64, 0}, {"pairwiseM", GT_F_U64, 0}, {"name", GT_F_STRING, GT_FUND_NAME_MAX},
};
enum { RC_POOL, RC_START, RC_END, RC_RULE, RC_M, RC_NAME };

/* Checks a round's terms against the block time; 0 or GT_EINVAL saying what. */
static int create_check(const gt_tx *tx, const gt_action *a, gt_err *err) {
    uint64_t start = a->f[RC_START].u64, end = a->f[RC_END].u64, rule = a->f[RC_RULE].u64, m = a->f[RC_M].u64;
    if (a->f[RC_NAME].str_len == 0) return gt_err_set(err, GT_EINVAL, "name: expected 1 to %d bytes", GT_FUND_NAME_MAX);
    if (rule != GT_FUND_QF && rule != GT_FUND_PAIRWISE)
        return gt_err_set(err, GT_EINVAL,
                          "rule must be 1 (plain quadratic funding) or 2 (pairwise, weighted by"
                          " proof of human), got %llu",
                          (unsigned long long)rule);
    if (rule == GT_FUND_PAIRWISE && (m == 0 || m > GT_SUPPLY_MAX))
        return gt_err_set(err, GT_EINVAL, "pairwiseM: the pairwise rule needs a bound of 1 to %llu base units",
                          (unsigned long long)GT_SUPPLY_MAX);
    if (rule == GT_FUND_QF && m) return gt_err_set(err, GT_EINVAL, "pairwiseM: only the pairwise rule (2) takes one");
    if (a->f[RC_POOL].u64 == 0 || a->f[RC_POOL].u64 > GT_SUPPLY_MAX)
        return gt_err_set(err, GT_EINVAL, "pool must be greater than 0 and within the supply");
    if (start >= end || end - start > GT_FUND_MAX_WINDOW_S)
        return gt_err_set(err, GT_EINVAL, "the window [startS, endS) must be 1 to %u seconds long, got %llu..%llu",
                          GT_FUND_MAX_WINDOW_S, (unsigned long long)start, (unsigned long long)end);
    if (end <= tx->time_s)
        return gt_err_set(err, GT_EINVAL, "endS %llu is not after the block's time %llu", (unsigned long long)end,
                          (unsigned long long)tx->time_s);
    if (start > tx->time_s + GT_FUND_MAX_LEAD_S)
        return gt_err_set(err, GT_EINVAL, "startS may be at most %u seconds after the block's time",
                          GT_FUND_MAX_LEAD_S);
    return 0;
}

static int create_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    int rc = create_check(tx, a, err);
    assert(rc || (a->f[RC_POOL].u64 > 0 && a->f[RC_START].u64 < a->f[RC_END].u64));
    if (rc || (rc = gt_state_lock(tx, &a->from, a->id, a->f[RC_POOL].u64, err))) return rc;
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "INSERT INTO fd_rounds VALUES(?,?,?,?,?,?,?,?,?,0,0,0,0,0,0,0)", &q, err)))
        return rc;
    sqlite3_bind_blob(q, 1, a->id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, gt_action_str(a, RC_NAME), (int)a->f[RC_NAME].str_len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (int64_t)a->f[RC_RULE].u64);
    sqlite3_bind_int64(q, 5, (int64_t)a->f[RC_POOL].u64);
    sqlite3_bind_int64(q, 6, (int64_t)a->f[RC_M].u64);
    sqlite3_bind_int64(q, 7, (int64_t)a->f[RC_START].u64);
    sqlite3_bind_int64(q, 8, (int64_t)a->f[RC_END].u64);
    sqlite3_bind_int64(q, 9, (int64_t)tx->height);
    if ((rc = gt_fund_exec_done(tx->db, q, "writing the round", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_ROUND) || gt_fund_rec_bytes(c, a->id, 32) || gt_fund_rec_bytes(c, a->from.b, 20) ||
        gt_fund_rec_u64(c, a->f[RC_POOL].u64) || gt_fund_rec_u64(c, a->f[RC_START].u64) ||
        gt_fund_rec_u64(c, a->f[RC_END].u64))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_create(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, create_rule(&c, a, err));
}

gt_action_kind gt_kind_fund_round_create = {
    "fund_round_create", "FundRoundCreate", create_fields, 6, apply_create, 1, {0}, {0}, 0};

/* ---- fund_round_enter ---- */

static const gt_field_def enter_fields[] = {
    {"round", GT_F_BYTES32, 0}, {"projectKind", GT_F_U64, 0}, {"ref", GT_F_BYTES32, 0}};
enum { RE_ROUND, RE_KIND, RE_REF };

/* The owner of published work ref of kind: the dataset's publisher or the
 * attestation's attester. GT_ENOTFOUND when nothing of that kind is published. */
static int project_owner(sqlite3 *db, uint64_t kind, const uint8_t ref[32], gt_addr *owner, gt_err *err) {
    const char *sql = kind == GT_FUND_PROJECT_DATASET ? "SELECT publisher FROM wk_datasets WHERE job=?"
                                                      : "SELECT attester FROM wk_attestations WHERE id=?";
    const char *what = kind == GT_FUND_PROJECT_DATASET ? "dataset published for job" : "evaluation attestation";
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, sql, &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, ref, 32, SQLITE_STATIC);
    int s = sqlite3_step(q);
    char h[19];
    if (s == SQLITE_ROW)
        rc = gt_row_blob(q, 0, owner->b, 20, kind == GT_FUND_PROJECT_DATASET ? "wk_datasets" : "wk_attestations", err);
    else if (s == SQLITE_DONE)
        rc = gt_err_set(err, GT_ENOTFOUND, "no %s %s… on this ledger", what, gt_fund_short(ref, h));
    else
        rc = gt_err_set(err, GT_EDB, "reading published work: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* Format 9's rule: whether the tx's block takes only a bonded panel's
 * verdict as the market's acceptance (gt_market_slot_panel_accepted).
 * Blocks before format9_height replay under the rule that made them. */
static int panel_rule(const gt_tx *tx) { return tx->height >= tx->format9_height; }

/* Format 10's rule: whether the tx's block enters a dataset only when a
 * bonded panel accepted its task's batches (gt_fund_dataset_panel_accepted).
 * Blocks before format10_height replay under the rule that made them. */
static int dataset_panel_rule(const gt_tx *tx) { return tx->height >= tx->format10_height; }

/* The task dataset_publish recorded for the dataset of job (its rows are
 * that task's paid batches). */
static int dataset_task(sqlite3 *db, const uint8_t job[32], uint8_t task[32], gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT task FROM wk_datasets WHERE job=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, job, 32, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) rc = gt_row_blob(q, 0, task, 32, "wk_datasets", err);
    else rc = gt_err_set(err, GT_EDB, "reading the dataset: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* The data task of the dataset of job has a batch a drawn, bonded panel
 * accepted and no batch bought on anyone else's word: every slot accepted
 * or paid stands accepted on a panel's verdict (a quorum's, or a dispute its
 * worker won; gt_market_slot_panel_accepted), and one at the least (fund.h). */
int gt_fund_dataset_panel_accepted(sqlite3 *db, const uint8_t job[32], gt_err *err) {
    uint8_t task[32];
    gt_market_slot_ref r;
    int rc = dataset_task(db, job, task, err), panel = 0;
    if (rc || (rc = gt_market_slot_ref_get(db, task, 0, &r, err))) return rc;
    char h[19], t[19];
    for (uint64_t i = 0, slots = r.slots; i < slots; i++) {
        int yes = 0;
        if ((i && (rc = gt_market_slot_ref_get(db, task, i, &r, err))) ||
            (rc = gt_market_slot_panel_accepted(db, task, i, &yes, err)))
            return rc;
        if (yes) panel++;
        else if (r.state == GT_SLOT_ACCEPTED || r.state == GT_SLOT_PAID)
            return gt_err_set(err, GT_EPERM,
                              "the dataset of job %s…: batch %llu of its task %s… was accepted by the task's poster"
                              " or the evaluator it named, not by a drawn, bonded panel: only a dataset whose every"
                              " paid batch a panel accepted (a task verified by a quorum, or a dispute its worker"
                              " won) can be entered",
                              gt_fund_short(job, h), (unsigned long long)i, gt_fund_short(task, t));
    }
    if (panel) return 0;
    return gt_err_set(err, GT_EPERM,
                      "the dataset of job %s…: no batch of its task %s… was accepted by a drawn, bonded panel (a"
                      " quorum's verdict, or a dispute its worker won): only such a dataset can be entered",
                      gt_fund_short(job, h), gt_fund_short(task, t));
}

/* 0 when the eval slot that attestation ref names stands accepted on a
 * bonded panel's verdict (a quorum's, or a dispute its attester won);
 * GT_EPERM saying what is required otherwise. Assumes the attestation is
 * "accepted", so the slot's current attempt is the attestation's. */
static int eval_panel_accepted(sqlite3 *db, const uint8_t ref[32], gt_err *err) {
    sqlite3_stmt *q;
    uint8_t task[32];
    uint64_t slot = 0;
    int rc = gt_fund_prepare(db, "SELECT task, slot FROM wk_attestations WHERE id=?", &q, err), yes = 0;
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, ref, 32, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_ROW)
        rc = gt_err_set(err, GT_EDB, "reading attestation: %s", sqlite3_errmsg(db));
    else if (!(rc = gt_row_blob(q, 0, task, 32, "wk_attestations", err)))
        rc = gt_row_amount(q, 1, &slot, "wk_attestations", err);
    sqlite3_finalize(q);
    if (rc || (rc = gt_market_slot_panel_accepted(db, task, slot, &yes, err)) || yes) return rc;
    char h[19];
    return gt_err_set(err, GT_EPERM,
                      "evaluation attestation %s… was accepted by its task's evaluator or poster, whom the poster"
                      " chose: only an evaluation a drawn, bonded panel accepted (an eval task verified by a quorum,"
                      " or a dispute its attester won) can be entered",
                      gt_fund_short(ref, h));
}

/* 0 when evaluation attestation ref is one the market accepted (from
 * format 9, on a bonded panel's verdict: panel); GT_EPERM naming its
 * standing otherwise (see the rules above). */
static int eval_accepted(sqlite3 *db, const uint8_t ref[32], int panel, gt_err *err) {
    const char *status = NULL;
    int rc = gt_work_attestation_status(db, ref, &status, err);
    if (rc) return rc;
    assert(status != NULL);
    if (!strcmp(status, "accepted")) return panel ? eval_panel_accepted(db, ref, err) : 0;
    char h[19];
    return gt_err_set(err, GT_EPERM,
                      "evaluation attestation %s… is %s: only an evaluation the market accepted (its eval slot"
                      " accepted or paid on %s) can be entered",
                      gt_fund_short(ref, h), status,
                      panel ? "a drawn, bonded panel's verdict: a quorum's, or a dispute its attester won"
                            : "an evaluator's, a quorum's or a dispute's verdict");
}

/* Whether slot r of a train task stands accepted on someone's verdict other
 * than the poster's own (the leaderboard's "accepted", work/eval/leaderboard.c). */
static int slot_verified(const gt_market_slot_ref *r) {
    int own = r->policy == GT_POLICY_POSTER && gt_addr_eq(&r->verdict_by, &r->poster);
    if (own) return 0;
    if (r->state == GT_SLOT_ACCEPTED) return 1;
    return r->state == GT_SLOT_PAID && (r->accept || !gt_addr_is_zero(&r->verdict_by) || r->policy == GT_POLICY_QUORUM);
}

/* The owner (the poster) of the model trained by train task ref; GT_ENOTFOUND
 * when ref is no train task, GT_EPERM when no run of it was verified: from
 * format 9 (panel) on a drawn, bonded panel's verdict, before it on anyone's
 * but the poster's own (slot_verified). */
static int model_owner(sqlite3 *db, const uint8_t ref[32], int panel, gt_addr *owner, gt_err *err) {
    gt_market_slot_ref r;
    char h[19];
    int rc = gt_market_slot_ref_get(db, ref, 0, &r, err);
    if (rc == GT_ENOTFOUND)
        return gt_err_set(err, GT_ENOTFOUND, "no train task %s… on this ledger (a model is entered by its task)",
                          gt_fund_short(ref, h));
    if (rc) return rc;
    if (strcmp(r.kind, GT_WORK_KIND_TRAIN))
        return gt_err_set(err, GT_EINVAL, "task %s… is a %s task, not a train task: only a trained model enters as one",
                          gt_fund_short(ref, h), r.kind);
    *owner = r.poster;
    uint64_t slots = r.slots;
    for (uint64_t i = 0; i < slots; i++) {
        int yes = 0;
        if (panel && (rc = gt_market_slot_panel_accepted(db, ref, i, &yes, err))) return rc;
        if (panel && yes) return 0;
        if (panel) continue;
        if (i && (rc = gt_market_slot_ref_get(db, ref, i, &r, err))) return rc;
        if (slot_verified(&r)) return 0;
    }
    if (panel)
        return gt_err_set(err, GT_EPERM,
                          "the model of train task %s… has no run a bonded panel accepted: only a slot accepted by"
                          " the drawn panel of a quorum task, or one whose worker won a dispute, counts; an"
                          " evaluator's or the poster's own acceptance does not (the poster chose them)",
                          gt_fund_short(ref, h));
    return gt_err_set(err, GT_EPERM,
                      "the model of train task %s… has no run the market accepted: a slot accepted or paid on an"
                      " evaluator's, a quorum's or a dispute's verdict (re-executed), not on its poster's own word",
                      gt_fund_short(ref, h));
}

static int enter_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    fd_round r;
    gt_addr owner;
    char h[19], s[43];
    uint64_t kind = a->f[RE_KIND].u64;
    int rc = round_load(tx->db, a->f[RE_ROUND].b32, &r, err);
    if (rc) return rc;
    if (r.status != GT_FUND_ROUND_OPEN || tx->time_s >= r.end_s)
        return gt_err_set(err, GT_ESTATE, "round %s… is closed to new projects (its window ended at %llu)",
                          gt_fund_short(a->f[RE_ROUND].b32, h), (unsigned long long)r.end_s);
    if (kind != GT_FUND_PROJECT_DATASET && kind != GT_FUND_PROJECT_EVAL && kind != GT_FUND_PROJECT_MODEL)
        return gt_err_set(err, GT_EINVAL,
                          "projectKind must be 1 (a published dataset), 2 (an evaluation) or 3 (a model trained by a"
                          " train task), got %llu",
                          (unsigned long long)kind);
    if (r.projects >= GT_FUND_ROUND_MAX_PROJECTS) /* h filled here: the refusals above fill it only when they fire */
        return gt_err_set(err, GT_ELIMIT, "round %s… already has %d projects",
                          gt_fund_short(a->f[RE_ROUND].b32, h), GT_FUND_ROUND_MAX_PROJECTS);
    rc = kind == GT_FUND_PROJECT_MODEL ? model_owner(tx->db, a->f[RE_REF].b32, panel_rule(tx), &owner, err)
                                       : project_owner(tx->db, kind, a->f[RE_REF].b32, &owner, err);
    if (rc) return rc;
    if (!gt_addr_eq(&owner, &a->from))
        return gt_err_set(err, GT_EPERM, "only its owner %s may enter this work in a round", gt_fund_addr(&owner, s));
    if (kind == GT_FUND_PROJECT_EVAL && (rc = eval_accepted(tx->db, a->f[RE_REF].b32, panel_rule(tx), err)))
        return rc;
    if (kind == GT_FUND_PROJECT_DATASET && dataset_panel_rule(tx) &&
        (rc = gt_fund_dataset_panel_accepted(tx->db, a->f[RE_REF].b32, err)))
        return rc;
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "SELECT idx FROM fd_projects WHERE round=? AND ref=?", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->f[RE_ROUND].b32, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->f[RE_REF].b32, 32, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        rc = gt_err_set(err, GT_EEXIST, "this work is already project %lld of the round",
                        (long long)sqlite3_column_int64(q, 0));
    sqlite3_finalize(q);
    if (rc) return rc;
    if ((rc = gt_fund_prepare(tx->db, "INSERT INTO fd_projects VALUES(?,?,?,?,?,0,0,0)", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->f[RE_ROUND].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)r.projects);
    sqlite3_bind_int64(q, 3, (int64_t)kind);
    sqlite3_bind_blob(q, 4, a->f[RE_REF].b32, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 5, a->from.b, 20, SQLITE_STATIC);
    if ((rc = gt_fund_exec_done(tx->db, q, "writing the project", err))) return rc;
    if ((rc = gt_fund_prepare(tx->db, "UPDATE fd_rounds SET projects=projects+1 WHERE id=?", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->f[RE_ROUND].b32, 32, SQLITE_STATIC);
    if ((rc = gt_fund_exec_done(tx->db, q, "updating the round", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_PROJECT) || gt_fund_rec_bytes(c, a->f[RE_ROUND].b32, 32) ||
        gt_fund_rec_u64(c, r.projects) || gt_fund_rec_u64(c, kind) || gt_fund_rec_bytes(c, a->f[RE_REF].b32, 32) ||
        gt_fund_rec_bytes(c, a->from.b, 20))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_enter(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, enter_rule(&c, a, err));
}

gt_action_kind gt_kind_fund_round_enter = {
    "fund_round_enter", "FundRoundEnter", enter_fields, 3, apply_enter, 1, {0}, {0}, 0};

/* ---- fund_contribute ---- */

static const gt_field_def contribute_fields[] = {
    {"round", GT_F_BYTES32, 0}, {"project", GT_F_U64, 0}, {"amount", GT_F_U64, 0}};
enum { CO_ROUND, CO_PROJECT, CO_AMOUNT };

int gt_fund_use_nullifiers(fd_ctx *c, const uint8_t round[32], const gt_addr *who, const char *acts, const char *rule,
                           gt_err *err) {
    gt_tx *tx = c->tx;
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db,
                             "SELECT h.issuer, h.person FROM fd_humans h JOIN fd_issuers i ON i.addr=h.issuer"
                             " WHERE h.subject=? AND h.revoked=0 AND h.expires_s>? ORDER BY h.issuer",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, who->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)tx->time_s);
    int s;
    while (!rc && (s = sqlite3_step(q)) == SQLITE_ROW) {
        gt_addr issuer, other;
        uint8_t person[32], nul[32];
        if ((rc = gt_row_blob(q, 0, issuer.b, 20, "fd_humans", err)) ||
            (rc = gt_row_blob(q, 1, person, 32, "fd_humans", err)))
            break;
        gt_fund_nullifier(&issuer, person, round, nul);
        sqlite3_stmt *w;
        if ((rc = gt_fund_prepare(tx->db, "SELECT addr FROM fd_nullifiers WHERE round=? AND nullifier=?", &w, err)))
            break;
        sqlite3_bind_blob(w, 1, round, 32, SQLITE_STATIC);
        sqlite3_bind_blob(w, 2, nul, 32, SQLITE_STATIC);
        int found = sqlite3_step(w) == SQLITE_ROW;
        if (found) rc = gt_row_blob(w, 0, other.b, 20, "fd_nullifiers", err);
        sqlite3_finalize(w);
        if (rc) break;
        if (found && !gt_addr_eq(&other, who)) {
            char o[43], h[19];
            rc = gt_err_set(err, GT_EPERM, "the human attested for this address already %s %s… as %s (%s)", acts,
                            gt_fund_short(round, h), gt_fund_addr(&other, o), rule);
            break;
        }
        if (found) continue;
        if ((rc = gt_fund_prepare(tx->db, "INSERT INTO fd_nullifiers VALUES(?,?,?)", &w, err))) break;
        sqlite3_bind_blob(w, 1, round, 32, SQLITE_STATIC);
        sqlite3_bind_blob(w, 2, nul, 32, SQLITE_STATIC);
        sqlite3_bind_blob(w, 3, who->b, 20, SQLITE_STATIC);
        if ((rc = gt_fund_exec_done(tx->db, w, "writing a nullifier", err))) break;
        if (gt_buf_putc(&c->diff, FD_REC_NULLIFIER) || gt_fund_rec_bytes(c, round, 32) ||
            gt_fund_rec_bytes(c, nul, 32) || gt_fund_rec_bytes(c, who->b, 20))
            rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    sqlite3_finalize(q);
    return rc;
}

/* The payee of project idx of round. */
static int project_payee(sqlite3 *db, const uint8_t round[32], uint64_t idx, gt_addr *payee, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT payee FROM fd_projects WHERE round=? AND idx=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, round, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)idx);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW)
        rc = gt_row_blob(q, 0, payee->b, 20, "fd_projects", err);
    else
        rc = gt_err_set(err, GT_EDB, "project %llu of the round is missing", (unsigned long long)idx);
    sqlite3_finalize(q);
    return rc;
}

/* Adds amount to the (round, who, project) row; *is_new when it was not there. */
static int add_contrib(sqlite3 *db, const uint8_t round[32], const gt_addr *who, uint64_t project, uint64_t amount,
                       int *is_new, gt_err *err) {
    sqlite3_stmt *q;
    int rc =
        gt_fund_prepare(db, "SELECT amount FROM fd_contribs WHERE round=? AND contributor=? AND project=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, round, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, who->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)project);
    uint64_t had = 0;
    *is_new = sqlite3_step(q) != SQLITE_ROW;
    if (!*is_new) rc = gt_row_amount(q, 0, &had, "fd_contribs", err);
    sqlite3_finalize(q);
    if (rc) return rc;
    if (had + amount > GT_SUPPLY_MAX || had + amount < had)
        return gt_err_set(err, GT_EOVERFLOW, "contribution overflows");
    if ((rc = gt_fund_prepare(db, "INSERT OR REPLACE INTO fd_contribs VALUES(?,?,?,?)", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, round, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, who->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)project);
    sqlite3_bind_int64(q, 4, (int64_t)(had + amount));
    return gt_fund_exec_done(db, q, "writing the contribution", err);
}

/* Adds a contribution to the project's and the round's totals. */
static int add_totals(sqlite3 *db, const uint8_t round[32], uint64_t project, uint64_t amount, int is_new,
                      gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "UPDATE fd_projects SET contributed=contributed+?, contributors=contributors+?"
                             " WHERE round=? AND idx=?",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)amount);
    sqlite3_bind_int(q, 2, is_new);
    sqlite3_bind_blob(q, 3, round, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (int64_t)project);
    if ((rc = gt_fund_exec_done(db, q, "updating the project", err))) return rc;
    if ((rc = gt_fund_prepare(db, "UPDATE fd_rounds SET contributed=contributed+?, contribs=contribs+? WHERE id=?", &q,
                              err)))
        return rc;
    sqlite3_bind_int64(q, 1, (int64_t)amount);
    sqlite3_bind_int(q, 2, is_new);
    sqlite3_bind_blob(q, 3, round, 32, SQLITE_STATIC);
    return gt_fund_exec_done(db, q, "updating the round", err);
}

static int contribute_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    const uint8_t *round = a->f[CO_ROUND].b32;
    uint64_t project = a->f[CO_PROJECT].u64, amount = a->f[CO_AMOUNT].u64;
    fd_round r;
    gt_addr payee;
    char h[19];
    int rc = round_load(tx->db, round, &r, err), is_new;
    if (rc) return rc;
    if (r.status != GT_FUND_ROUND_OPEN || tx->time_s < r.start_s || tx->time_s >= r.end_s)
        return gt_err_set(err, GT_ESTATE,
                          "round %s… takes contributions only in [%llu, %llu) of block time; the block's"
                          " time is %llu",
                          gt_fund_short(round, h), (unsigned long long)r.start_s, (unsigned long long)r.end_s,
                          (unsigned long long)tx->time_s);
    if (project >= r.projects)
        return gt_err_set(err, GT_EINVAL, "project must be 0 to %lld (the round has %llu), got %llu",
                          (long long)r.projects - 1, (unsigned long long)r.projects, (unsigned long long)project);
    if (amount < GT_FUND_MIN_CONTRIBUTION || amount > GT_SUPPLY_MAX)
        return gt_err_set(err, GT_EINVAL, "amount must be at least %u base units", GT_FUND_MIN_CONTRIBUTION);
    assert(amount >= GT_FUND_MIN_CONTRIBUTION && project < r.projects);
    if ((rc = project_payee(tx->db, round, project, &payee, err))) return rc;
    if (gt_addr_eq(&payee, &a->from))
        return gt_err_set(err, GT_EPERM, "a project's owner may not contribute to its own project");
    if ((rc = gt_fund_use_nullifiers(c, round, &a->from, "contributes to round",
                                     "one person, one contributor per round", err)))
        return rc;
    if (tx->height >= tx->format14_height && amount > GT_SUPPLY_MAX - r.contributed) /* r.contributed <= MAX */
        return gt_err_set(err, GT_EOVERFLOW,
                          "round %s… has taken %llu base units: %llu more would pass %llu, the most its books hold"
                          " (contributions are paid out at once, so the same tokens can be given again)",
                          gt_fund_short(round, h), (unsigned long long)r.contributed, (unsigned long long)amount,
                          (unsigned long long)GT_SUPPLY_MAX);
    if ((rc = add_contrib(tx->db, round, &a->from, project, amount, &is_new, err))) return rc;
    if (is_new && r.contribs >= GT_FUND_ROUND_MAX_CONTRIBUTIONS)
        return gt_err_set(err, GT_ELIMIT, "round %s… already has %d contributions (contributor, project)",
                          gt_fund_short(round, h), GT_FUND_ROUND_MAX_CONTRIBUTIONS);
    if ((rc = add_totals(tx->db, round, project, amount, is_new, err))) return rc;
    if ((rc = gt_state_transfer(tx, &a->from, &payee, amount, err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_CONTRIB) || gt_fund_rec_bytes(c, round, 32) ||
        gt_fund_rec_bytes(c, a->from.b, 20) || gt_fund_rec_u64(c, project) || gt_fund_rec_u64(c, amount))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_contribute(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, contribute_rule(&c, a, err));
}

gt_action_kind gt_kind_fund_contribute = {
    "fund_contribute", "FundContribute", contribute_fields, 3, apply_contribute, 1, {0}, {0}, 0};
