/* label_vote.c: a labeller's labels, committed then revealed (label.h).
 *
 * Rules and the attacks they answer:
 *  - Labels are committed first (a hash binding the task, the item, the
 *    labeller, the choice, the reason and a secret salt) and revealed only
 *    when every seat has committed every item or the commit window is over:
 *    a labeller who waits to copy the others' labels sees only hashes, and
 *    copying a hash is useless -- it binds the address that made it, and
 *    opening it needs the salt.
 *  - A commit needs a seat, once per item. Before ledger format 10 it also
 *    needed a still valid attestation (one revoked or expired since the
 *    seat was taken stopped its holder labelling): an issuer revoking, or
 *    letting lapse, a seated labeller's attestation made the seat
 *    incomplete -- bond burned, pay back to the poster. From format 10 the
 *    attestation is checked at join only (label_task.c): the seat, bound to
 *    one person by its nullifiers there, is that person's until close,
 *    bonded and judged on the gold like any other. A seat released without
 *    its bond on a lapse instead would be a free exit for a labeller with a
 *    complicit issuer (or an attestation chosen to expire mid-task). A
 *    reveal must open the labeller's own commitment exactly, with a
 *    choice among the item's answers -- on a ranking task an order of all of
 *    them, each once (rank.h): a digit twice, one missing, one the item
 *    lacks or one too many is refused, and the seat, unable to reveal that
 *    item, ends incomplete.
 *  - A labeller that commits and does not reveal (to hide a bad label) or
 *    labels only part of the items loses its bond at close (label_close.c). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "crypto/addr.h"
#include "fund/fund.h"
#include "fund/label.h"
#include "fund/label_impl.h"
#include "ledger/row.h"
#include "work/label/rank.h"

/* Refuses a sender without a seat in task. */
static int seat_check(sqlite3 *db, const uint8_t task[32], const gt_addr *who, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT 1 FROM fd_label_seats WHERE task=? AND addr=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, who->b, 20, SQLITE_STATIC);
    int s = sqlite3_step(q);
    sqlite3_finalize(q);
    if (s == SQLITE_ROW) return 0;
    if (s != SQLITE_DONE) return gt_err_set(err, GT_EDB, "reading seats: %s", sqlite3_errmsg(db));
    return gt_err_set(err, GT_EPERM, "this address has no seat in the task (label_join first)");
}

/* Adds one to the seat's column col ("commits" or "reveals"). */
static int seat_bump(sqlite3 *db, const uint8_t task[32], const gt_addr *who, const char *col, gt_err *err) {
    assert(!strcmp(col, "commits") || !strcmp(col, "reveals"));
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE fd_label_seats SET %s=%s+1 WHERE task=? AND addr=?", col, col);
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, sql, &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, who->b, 20, SQLITE_STATIC);
    return gt_fund_exec_done(db, q, "updating the seat", err);
}

/* ---- label_commit ---- */

static const gt_field_def commit_fields[] = {
    {"task", GT_F_BYTES32, 0}, {"item", GT_F_U64, 0}, {"commitment", GT_F_BYTES32, 0}};
enum { LC_TASK, LC_ITEM, LC_COMMITMENT };

/* Before format 10 (blocks below format10_height replay as they were
 * decided) a commit needed the labeller's attestation valid at the block's
 * time; from format 10 the join's check stands for the seat (see above). */
static int still_human(gt_tx *tx, const gt_addr *who, gt_err *err) {
    uint32_t w = 0;
    if (tx->height >= tx->format10_height) return 0;
    int rc = gt_fund_human_weight_tx(tx, tx->db, who, tx->time_s, &w, err);
    if (rc) return rc;
    if (w == 0)
        return gt_err_set(err, GT_EPERM, "this address's proof of human is no longer valid (revoked or expired)");
    return 0;
}

static int commit_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    const uint8_t *task = a->f[LC_TASK].b32;
    uint64_t item = a->f[LC_ITEM].u64;
    fd_ltask t;
    char h[19];
    int rc = gt_fund_ltask_load(tx->db, task, &t, err);
    if (rc || (rc = seat_check(tx->db, task, &a->from, err))) return rc;
    if (t.status != GT_LABEL_OPEN || tx->time_s >= t.commit_end_s)
        return gt_err_set(err, GT_ESTATE, "task %s… takes labels until %llu of block time; it is %llu",
                          gt_fund_short(task, h), (unsigned long long)t.commit_end_s, (unsigned long long)tx->time_s);
    if (item >= t.n_items)
        return gt_err_set(err, GT_EINVAL, "item must be 0 to %llu, got %llu", (unsigned long long)t.n_items - 1,
                          (unsigned long long)item);
    if (gt_fund_is_zero32(a->f[LC_COMMITMENT].b32))
        return gt_err_set(err, GT_EINVAL, "commitment: expected the label's hash, got zero");
    if ((rc = still_human(tx, &a->from, err))) return rc;
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "INSERT OR IGNORE INTO fd_label_votes VALUES(?,?,?,?,-1,'')", &q, err)))
        return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)item);
    sqlite3_bind_blob(q, 3, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, a->f[LC_COMMITMENT].b32, 32, SQLITE_STATIC);
    if ((rc = gt_fund_exec_done(tx->db, q, "writing the label", err))) return rc;
    if (sqlite3_changes(tx->db) != 1)
        return gt_err_set(err, GT_EEXIST, "item %llu is already labelled by this address (once per item)",
                          (unsigned long long)item);
    if ((rc = seat_bump(tx->db, task, &a->from, "commits", err)) ||
        (rc = gt_fund_ltask_bump(tx->db, task, "commits", err)))
        return rc;
    if (gt_buf_putc(&c->diff, FD_REC_LVOTE) || gt_fund_rec_bytes(c, task, 32) || gt_fund_rec_u64(c, item) ||
        gt_fund_rec_bytes(c, a->from.b, 20) || gt_fund_rec_bytes(c, a->f[LC_COMMITMENT].b32, 32))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_commit(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, commit_rule(&c, a, err));
}

gt_action_kind gt_kind_label_commit = {"label_commit", "LabelCommit", commit_fields, 3, apply_commit, 1, {0}, {0}, 0};

/* ---- label_reveal ---- */

static const gt_field_def reveal_fields[] = {{"task", GT_F_BYTES32, 0},
                                             {"item", GT_F_U64, 0},
                                             {"choice", GT_F_U64, 0},
                                             {"reason", GT_F_STRING, GT_LABEL_REASON_MAX},
                                             {"secret", GT_F_BYTES32, 0}};
enum { LR_TASK, LR_ITEM, LR_CHOICE, LR_REASON, LR_SALT };

/* The stored commitment of (task, item, who) and the item's answers;
 * GT_ENOTFOUND when who committed no label there, GT_EEXIST when revealed. */
static int vote_load(sqlite3 *db, const uint8_t task[32], uint64_t item, const gt_addr *who, uint8_t commitment[32],
                     uint64_t *answers, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "SELECT v.commitment, v.choice, i.answers FROM fd_label_votes v JOIN fd_label_items i"
                             " ON i.task=v.task AND i.idx=v.item WHERE v.task=? AND v.item=? AND v.labeller=?",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)item);
    sqlite3_bind_blob(q, 3, who->b, 20, SQLITE_STATIC);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        rc = gt_row_blob(q, 0, commitment, 32, "fd_label_votes", err) ||
                     gt_row_amount(q, 2, answers, "fd_label_items", err)
                 ? GT_EDB
                 : 0;
        if (!rc && sqlite3_column_int64(q, 1) >= 0)
            rc = gt_err_set(err, GT_EEXIST, "item %llu's label is already revealed", (unsigned long long)item);
    } else {
        rc = s == SQLITE_DONE ? gt_err_set(err, GT_ENOTFOUND, "this address committed no label for item %llu",
                                           (unsigned long long)item)
                              : gt_err_set(err, GT_EDB, "reading labels: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(q);
    return rc;
}

/* Refuses a reveal outside the reveal window. */
static int reveal_window(const gt_tx *tx, const fd_ltask *t, const uint8_t task[32], gt_err *err) {
    char h[19];
    if (t->status != GT_LABEL_OPEN || tx->time_s >= t->reveal_end_s)
        return gt_err_set(err, GT_ESTATE, "task %s… took reveals until %llu of block time; it is %llu",
                          gt_fund_short(task, h), (unsigned long long)t->reveal_end_s, (unsigned long long)tx->time_s);
    if (tx->time_s < t->commit_end_s && !gt_fund_ltask_all_committed(t))
        return gt_err_set(err, GT_ESTATE,
                          "task %s… is still taking labels (%llu of %llu committed): reveals open at %llu or"
                          " once every seat has labelled every item",
                          gt_fund_short(task, h), (unsigned long long)t->commits,
                          (unsigned long long)(t->k * t->n_items), (unsigned long long)t->commit_end_s);
    return 0;
}

/* Refuses a choice that is not a label of the item: an answer, or on a
 * ranking task an order of its answers. */
static int choice_check(const fd_ltask *t, uint64_t item, uint64_t choice, uint64_t answers, gt_err *err) {
    int order[GT_PREF_MAX_ANSWERS];
    if (answers < 2 || answers > GT_PREF_MAX_ANSWERS)
        return gt_err_set(err, GT_EDB, "item %llu's row is damaged: %llu answers", (unsigned long long)item,
                          (unsigned long long)answers);
    if (t->ranking && gt_rank_decode(choice, (int)answers, order, err))
        return gt_err_wrap(err, "item %llu of this ranking task has %llu answers", (unsigned long long)item,
                           (unsigned long long)answers);
    if (!t->ranking && choice >= answers)
        return gt_err_set(err, GT_EINVAL, "choice must be 0 to %llu (item %llu has %llu answers), got %llu",
                          (unsigned long long)answers - 1, (unsigned long long)item, (unsigned long long)answers,
                          (unsigned long long)choice);
    return 0;
}

static int reveal_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    const uint8_t *task = a->f[LR_TASK].b32;
    uint64_t item = a->f[LR_ITEM].u64, choice = a->f[LR_CHOICE].u64, answers = 0;
    fd_ltask t;
    uint8_t want[32], got[32];
    int rc = gt_fund_ltask_load(tx->db, task, &t, err);
    if (rc || (rc = reveal_window(tx, &t, task, err))) return rc;
    if ((rc = vote_load(tx->db, task, item, &a->from, want, &answers, err))) return rc;
    if ((rc = choice_check(&t, item, choice, answers, err))) return rc;
    gt_fund_label_commitment(task, item, &a->from, choice, gt_action_str(a, LR_REASON), a->f[LR_REASON].str_len,
                             a->f[LR_SALT].b32, got);
    if (memcmp(want, got, 32))
        return gt_err_set(err, GT_EINVAL,
                          "the choice, reason and salt do not open this address's commitment for item %llu",
                          (unsigned long long)item);
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db,
                              "UPDATE fd_label_votes SET choice=?, reason=? WHERE task=? AND item=? AND labeller=?",
                              &q, err)))
        return rc;
    sqlite3_bind_int64(q, 1, (int64_t)choice);
    sqlite3_bind_text(q, 2, gt_action_str(a, LR_REASON), (int)a->f[LR_REASON].str_len, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (int64_t)item);
    sqlite3_bind_blob(q, 5, a->from.b, 20, SQLITE_STATIC);
    if ((rc = gt_fund_exec_done(tx->db, q, "revealing the label", err))) return rc;
    if ((rc = seat_bump(tx->db, task, &a->from, "reveals", err)) ||
        (rc = gt_fund_ltask_bump(tx->db, task, "reveals", err)))
        return rc;
    if (gt_buf_putc(&c->diff, FD_REC_LVOTE) || gt_fund_rec_bytes(c, task, 32) || gt_fund_rec_u64(c, item) ||
        gt_fund_rec_bytes(c, a->from.b, 20) || gt_fund_rec_u64(c, choice))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_reveal(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, reveal_rule(&c, a, err));
}

gt_action_kind gt_kind_label_reveal = {"label_reveal", "LabelReveal", reveal_fields, 5, apply_reveal, 1, {0}, {0}, 0};
