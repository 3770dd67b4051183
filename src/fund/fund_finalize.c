/* fund_finalize.c: closing a funding round (fund_round_finalize): the
 * round's rows into gt_fund_match, the matches paid from the pool's lock,
 * the remainder back to the creator. See fund_round.c for the rules. */
#include <assert.h>
#include <stdio.h>

#include "base/alloc.h"
#include "base/vec.h"
#include "crypto/addr.h"
#include "fund/fund.h"
#include "fund/fund_impl.h"
#include "fund/qf.h"
#include "ledger/row.h"

/* What finalize reads: the round's terms, contributions, weights, payees. */
typedef struct fin {
    gt_addr creator;
    gt_fund_round round;
    uint64_t end_s;
    int status;
    gt_fund_contribution *c;
    size_t n;
    gt_fund_human *h;
    size_t nh;
    gt_addr *payee;
    uint64_t *match;
} fin;

static void fin_free(fin *f) {
    gt_free(f->c);
    gt_free(f->h);
    gt_free(f->payee);
    gt_free(f->match);
}

static int fin_terms(sqlite3 *db, const uint8_t id[32], fin *f, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "SELECT creator, rule, pool, pairwise_m, end_s, status, projects, contribs"
                             " FROM fd_rounds WHERE id=?",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    const char *T = "fd_rounds";
    int rule = 0;
    uint64_t projects = 0, contribs = 0;
    if (sqlite3_step(q) != SQLITE_ROW) {
        char h[19];
        rc = gt_err_set(err, GT_ENOTFOUND, "no funding round %s…", gt_fund_short(id, h));
    } else if (!(rc = gt_row_blob(q, 0, f->creator.b, 20, T, err)) && !(rc = gt_row_int(q, 1, &rule, T, err)) &&
               !(rc = gt_row_amount(q, 2, &f->round.pool, T, err)) &&
               !(rc = gt_row_amount(q, 3, &f->round.pairwise_m, T, err)) &&
               !(rc = gt_row_amount(q, 4, &f->end_s, T, err)) && !(rc = gt_row_int(q, 5, &f->status, T, err)) &&
               !(rc = gt_row_amount(q, 6, &projects, T, err)) && !(rc = gt_row_amount(q, 7, &contribs, T, err))) {
        f->n = (size_t)contribs;
        if (projects > GT_FUND_ROUND_MAX_PROJECTS || f->n > GT_FUND_ROUND_MAX_CONTRIBUTIONS ||
            (rule != GT_FUND_QF && rule != GT_FUND_PAIRWISE))
            rc = gt_row_damaged(q, 1, T, "a rule of 1 or 2 and counts within the round's limits", err);
    }
    sqlite3_finalize(q);
    f->round.rule = (gt_fund_rule)rule;
    f->round.n_projects = (uint32_t)projects;
    return rc;
}

/* The round's contributions (ordered by contributor) and, under the pairwise
 * rule, each distinct contributor's weight at the window's end: from format
 * 14 (format14_height) only through the attestations whose nullifiers it
 * recorded in the round when it contributed. Before, any attestation valid
 * at endS counted, so one human gave from a wallet not yet attested (no
 * nullifier to collide with its first wallet's) and had it attested as the
 * same person afterwards, in the window or after it: two weighted wallets,
 * a pair of one human (test_fund_attacks test_late_attestation). And from
 * format 14 a revocation made at or after endS does not count here: the
 * round is settled by the state at its window's end, not by when someone
 * finalizes (test_revoke_in_gap); from format 15 the same for an issuer's
 * leave (fund.c issuer_good, test_leave_in_gap). Older blocks replay under
 * the rule that made them. */
static int fin_rows(gt_tx *tx, const uint8_t id[32], fin *f, gt_err *err) {
    const uint8_t *scope = tx->height >= tx->format14_height ? id : NULL;
    size_t cap = f->n;
    f->c = gt_calloc(cap ? cap : 1, sizeof *f->c);
    f->h = gt_calloc(cap ? cap : 1, sizeof *f->h);
    if (!f->c || !f->h) return gt_err_set(err, GT_ENOMEM, "out of memory");
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db,
                             "SELECT contributor, project, amount FROM fd_contribs WHERE round=?"
                             " ORDER BY contributor, project",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    size_t n = 0;
    int s = SQLITE_DONE;
    while (!rc && (s = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            rc = gt_err_set(err, GT_EDB, "damaged row in table fd_rounds: more contributions than its count");
            break;
        }
        gt_fund_contribution *c = &f->c[n];
        uint64_t p;
        if ((rc = gt_row_blob(q, 0, c->from.b, 20, "fd_contribs", err)) ||
            (rc = gt_row_amount(q, 1, &p, "fd_contribs", err)) ||
            (rc = gt_row_amount(q, 2, &c->amount, "fd_contribs", err)))
            break;
        c->project = (uint32_t)p;
        if (p >= f->round.n_projects) rc = gt_row_damaged(q, 1, "fd_contribs", "a project of the round", err);
        if (!rc && f->round.rule == GT_FUND_PAIRWISE && (n == 0 || !gt_addr_eq(&f->c[n - 1].from, &c->from))) {
            f->h[f->nh].who = c->from;
            rc = gt_fund_human_weight_in(tx, tx->db, &c->from, f->end_s, scope, &f->h[f->nh].weight_ppm, err);
            f->nh++;
        }
        n++;
    }
    if (!rc && s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading contributions: %s", sqlite3_errmsg(tx->db));
    sqlite3_finalize(q);
    f->n = n;
    return rc;
}

/* Each project's payee, in project order. */
static int fin_payees(sqlite3 *db, const uint8_t id[32], fin *f, gt_err *err) {
    size_t np = f->round.n_projects;
    f->payee = gt_calloc(np ? np : 1, sizeof *f->payee);
    f->match = gt_calloc(np ? np : 1, sizeof *f->match);
    if (!f->payee || !f->match) return gt_err_set(err, GT_ENOMEM, "out of memory");
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT idx, payee FROM fd_projects WHERE round=? ORDER BY idx", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    size_t k = 0;
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        uint64_t idx;
        if ((rc = gt_row_amount(q, 0, &idx, "fd_projects", err))) break;
        if (idx != k || k >= np) {
            rc = gt_row_damaged(q, 0, "fd_projects", "project indexes 0, 1, ... up to the round's count", err);
            break;
        }
        rc = gt_row_blob(q, 1, f->payee[k++].b, 20, "fd_projects", err);
    }
    sqlite3_finalize(q);
    if (!rc && k != np)
        rc = gt_err_set(err, GT_EDB, "damaged table fd_projects: %zu projects, the round says %zu", k, np);
    return rc;
}

/* Pays the matches and the remainder from the pool's lock; records them. */
static int fin_pay(fd_ctx *c, const uint8_t id[32], fin *f, const gt_fund_result *res, int status, gt_err *err) {
    gt_tx *tx = c->tx;
    int rc = 0;
    sqlite3_stmt *q;
    uint64_t sum = 0;
    for (uint32_t p = 0; p < f->round.n_projects; p++) sum += f->match[p];
    assert(sum == res->matched_total && sum <= f->round.pool); /* qf.h: matches never exceed the pool */
    for (uint32_t p = 0; !rc && p < f->round.n_projects; p++) {
        if (!f->match[p]) continue;
        if ((rc = gt_state_release(tx, id, &f->payee[p], f->match[p], err))) break;
        if ((rc = gt_fund_prepare(tx->db, "UPDATE fd_projects SET match=? WHERE round=? AND idx=?", &q, err))) break;
        sqlite3_bind_int64(q, 1, (int64_t)f->match[p]);
        sqlite3_bind_blob(q, 2, id, 32, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, p);
        rc = gt_fund_exec_done(tx->db, q, "recording a match", err);
        if (!rc && (gt_buf_putc(&c->diff, FD_REC_PROJECT) || gt_fund_rec_bytes(c, id, 32) || gt_fund_rec_u64(c, p) ||
                    gt_fund_rec_u64(c, f->match[p])))
            rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    assert(res->matched_total + res->remainder == f->round.pool);
    if (!rc && res->remainder) rc = gt_state_release(tx, id, &f->creator, res->remainder, err);
    if (rc || (rc = gt_fund_prepare(tx->db,
                                    "UPDATE fd_rounds SET status=?, matched=?, remainder=?, finalized_height=?"
                                    " WHERE id=?",
                                    &q, err)))
        return rc;
    sqlite3_bind_int(q, 1, status);
    sqlite3_bind_int64(q, 2, (int64_t)res->matched_total);
    sqlite3_bind_int64(q, 3, (int64_t)res->remainder);
    sqlite3_bind_int64(q, 4, (int64_t)tx->height);
    sqlite3_bind_blob(q, 5, id, 32, SQLITE_STATIC);
    if ((rc = gt_fund_exec_done(tx->db, q, "finalizing the round", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_ROUND) || gt_fund_rec_bytes(c, id, 32) || gt_fund_rec_u64(c, (uint64_t)status) ||
        gt_fund_rec_u64(c, res->matched_total) || gt_fund_rec_u64(c, res->remainder))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static const gt_field_def finalize_fields[] = {{"round", GT_F_BYTES32, 0}};

static int finalize_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    const uint8_t *id = a->f[0].b32;
    fin f;
    memset(&f, 0, sizeof f);
    char h[19];
    int rc = fin_terms(tx->db, id, &f, err);
    if (!rc && f.status != GT_FUND_ROUND_OPEN)
        rc = gt_err_set(err, GT_ESTATE, "round %s… is already finalized", gt_fund_short(id, h));
    else if (!rc && tx->time_s < f.end_s)
        rc = gt_err_set(err, GT_ESTATE, "round %s… takes contributions until %llu; the block's time is %llu",
                        gt_fund_short(id, h), (unsigned long long)f.end_s, (unsigned long long)tx->time_s);
    if (!rc) rc = fin_rows(tx, id, &f, err);
    if (!rc) rc = fin_payees(tx->db, id, &f, err);
    gt_fund_result res = {0};
    int status = GT_FUND_ROUND_FINALIZED;
    if (!rc && f.round.n_projects == 0) {
        res.remainder = f.round.pool; /* nothing to match: the pool goes back */
    } else if (!rc) {
        gt_err e = {0};
        int m = gt_fund_match(&f.round, f.c, f.n, f.h, f.nh, f.match, &res, &e);
        if (m == GT_ELIMIT) { /* fail closed: nothing matched, the pool goes back */
            memset(f.match, 0, f.round.n_projects * sizeof *f.match);
            memset(&res, 0, sizeof res);
            res.remainder = f.round.pool;
            status = GT_FUND_ROUND_FAILED;
        } else if (m) {
            rc = gt_err_set(err, m, "matching: %s", e.msg);
        }
    }
    assert(rc || res.matched_total + res.remainder == f.round.pool);
    if (!rc) rc = fin_pay(c, id, &f, &res, status, err);
    fin_free(&f);
    return rc;
}

static int apply_finalize(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, finalize_rule(&c, a, err));
}

gt_action_kind gt_kind_fund_round_finalize = {
    "fund_round_finalize", "FundRoundFinalize", finalize_fields, 1, apply_finalize, 1, {0}, {0}, 0};
