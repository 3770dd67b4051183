/* rows.c: the market tables' rows as structs: load, store, and the canonical
 * bytes of each stored row fed (through mk_ctx) into the block's state
 * commitment, so replay verification covers the market's tables exactly as it
 * covers balances. Record = one tag byte, then every column in table order:
 * integers as 8 bytes big-endian, blobs as they are, text length-prefixed. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "market/market_impl.h"

/* Column getters that tolerate a damaged row (wrong blob size: zeros). */
static void col_blob(sqlite3_stmt *q, int i, void *out, int n) {
    if (sqlite3_column_bytes(q, i) == n) memcpy(out, sqlite3_column_blob(q, i), (size_t)n);
    else memset(out, 0, (size_t)n);
}
static uint64_t col_u64(sqlite3_stmt *q, int i) { return (uint64_t)sqlite3_column_int64(q, i); }

/* Steps an INSERT/UPDATE statement and finalizes it. */
static int step_done(gt_tx *tx, sqlite3_stmt *q, const char *what, gt_err *err) {
    int rc = sqlite3_step(q);
    /* the message first: handing the statement back resets its error */
    if (rc == SQLITE_CONSTRAINT) rc = gt_err_set(err, GT_EEXIST, "%s already exists", what);
    else if (rc != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "writing %s: %s", what, sqlite3_errmsg(tx->db));
    else rc = 0;
    gt_tx_stmt_done(tx, q);
    return rc;
}

int mk_task_load(gt_tx *tx, const uint8_t id[32], mk_task *t, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx,
                        "SELECT poster,kind,spec,parent,slots,bounty,stake,verifier,fee,quorum,policy,"
                        "submit_s,verify_s,posted_height,expiry_height,status,claims,seats_per_worker,expiry_s,"
                        "batch_items,last_batch_items "
                        "FROM mk_tasks WHERE id=?",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        gt_tx_stmt_done(tx, q);
        char s[19];
        if (rc == SQLITE_DONE) return gt_err_set(err, GT_ENOTFOUND, "no task %s… on this ledger", mk_short(id, s));
        return gt_err_set(err, GT_EDB, "reading task: %s", sqlite3_errmsg(tx->db));
    }
    memset(t, 0, sizeof *t);
    memcpy(t->id, id, 32);
    col_blob(q, 0, t->poster.b, 20);
    const char *kind = (const char *)sqlite3_column_text(q, 1);
    snprintf(t->kind, sizeof t->kind, "%s", kind ? kind : "");
    col_blob(q, 2, t->spec, 32);
    col_blob(q, 3, t->parent, 32);
    t->slots = col_u64(q, 4);
    t->bounty = col_u64(q, 5);
    t->stake = col_u64(q, 6);
    col_blob(q, 7, t->verifier.b, 20);
    t->fee = col_u64(q, 8);
    t->quorum = col_u64(q, 9);
    t->policy = (int)col_u64(q, 10);
    t->submit_s = col_u64(q, 11);
    t->verify_s = col_u64(q, 12);
    t->posted_height = col_u64(q, 13);
    t->expiry_height = col_u64(q, 14);
    t->status = (int)col_u64(q, 15);
    t->claims = col_u64(q, 16);
    t->seats_per_worker = col_u64(q, 17);
    t->expiry_s = col_u64(q, 18);
    t->batch_items = col_u64(q, 19);
    t->last_batch_items = col_u64(q, 20);
    gt_tx_stmt_done(tx, q);
    return 0;
}

int mk_task_store(mk_ctx *c, const mk_task *t, int insert, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx,
                        insert ? "INSERT INTO mk_tasks VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                               : "INSERT OR REPLACE INTO mk_tasks VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, t->id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, t->poster.b, 20, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, t->kind, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, t->spec, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 5, t->parent, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (int64_t)t->slots);
    sqlite3_bind_int64(q, 7, (int64_t)t->bounty);
    sqlite3_bind_int64(q, 8, (int64_t)t->stake);
    sqlite3_bind_blob(q, 9, t->verifier.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 10, (int64_t)t->fee);
    sqlite3_bind_int64(q, 11, (int64_t)t->quorum);
    sqlite3_bind_int64(q, 12, t->policy);
    sqlite3_bind_int64(q, 13, (int64_t)t->submit_s);
    sqlite3_bind_int64(q, 14, (int64_t)t->verify_s);
    sqlite3_bind_int64(q, 15, (int64_t)t->posted_height);
    sqlite3_bind_int64(q, 16, (int64_t)t->expiry_height);
    sqlite3_bind_int64(q, 17, t->status);
    sqlite3_bind_int64(q, 18, (int64_t)t->claims);
    sqlite3_bind_int64(q, 19, (int64_t)t->seats_per_worker);
    sqlite3_bind_int64(q, 20, (int64_t)t->expiry_s);
    sqlite3_bind_int64(q, 21, (int64_t)t->batch_items);
    sqlite3_bind_int64(q, 22, (int64_t)t->last_batch_items);
    if ((rc = step_done(c->tx, q, "task", err))) return rc;
    c->changes++;
    if (mk_rec_tag(c, MK_REC_TASK) || mk_rec_bytes(c, t->id, 32) || mk_rec_bytes(c, t->poster.b, 20) || mk_rec_text(c, t->kind) ||
        mk_rec_bytes(c, t->spec, 32) || mk_rec_bytes(c, t->parent, 32) || mk_rec_u64(c, t->slots) ||
        mk_rec_u64(c, t->bounty) || mk_rec_u64(c, t->stake) || mk_rec_bytes(c, t->verifier.b, 20) || mk_rec_u64(c, t->fee) ||
        mk_rec_u64(c, t->quorum) || mk_rec_u64(c, (uint64_t)t->policy) || mk_rec_u64(c, t->submit_s) ||
        mk_rec_u64(c, t->verify_s) || mk_rec_u64(c, t->posted_height) || mk_rec_u64(c, t->expiry_height) ||
        mk_rec_u64(c, (uint64_t)t->status) || mk_rec_u64(c, t->claims) || mk_rec_u64(c, t->seats_per_worker) ||
        mk_rec_u64(c, t->expiry_s) || mk_rec_u64(c, t->batch_items) || mk_rec_u64(c, t->last_batch_items))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

int mk_slot_load(gt_tx *tx, const uint8_t task[32], uint64_t slot, mk_slot *s, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx,
                        "SELECT state,attempt,worker,claimed_height,deadline,result,accept,score,reason,"
                        "verdict_by,rbond,deadline_s FROM mk_slots WHERE task=? AND slot=?",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)(slot > INT64_MAX ? INT64_MAX : slot));
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        gt_tx_stmt_done(tx, q);
        char h[19];
        if (rc == SQLITE_DONE)
            return gt_err_set(err, GT_ENOTFOUND, "task %s… has no slot %llu", mk_short(task, h),
                              (unsigned long long)slot);
        return gt_err_set(err, GT_EDB, "reading slot: %s", sqlite3_errmsg(tx->db));
    }
    memset(s, 0, sizeof *s);
    memcpy(s->task, task, 32);
    s->slot = slot;
    s->state = (int)col_u64(q, 0);
    s->attempt = col_u64(q, 1);
    col_blob(q, 2, s->worker.b, 20);
    s->claimed_height = col_u64(q, 3);
    s->deadline = col_u64(q, 4);
    col_blob(q, 5, s->result, 32);
    s->accept = (int)col_u64(q, 6);
    s->score = col_u64(q, 7);
    col_blob(q, 8, s->reason, 32);
    col_blob(q, 9, s->verdict_by.b, 20);
    s->rbond = col_u64(q, 10);
    s->deadline_s = col_u64(q, 11);
    gt_tx_stmt_done(tx, q);
    return 0;
}

int mk_slot_store(mk_ctx *c, const mk_slot *s, int insert, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx,
                        insert ? "INSERT INTO mk_slots VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                               : "INSERT OR REPLACE INTO mk_slots VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, s->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)s->slot);
    sqlite3_bind_int64(q, 3, s->state);
    sqlite3_bind_int64(q, 4, (int64_t)s->attempt);
    sqlite3_bind_blob(q, 5, s->worker.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (int64_t)s->claimed_height);
    sqlite3_bind_int64(q, 7, (int64_t)s->deadline);
    sqlite3_bind_blob(q, 8, s->result, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, s->accept);
    sqlite3_bind_int64(q, 10, (int64_t)s->score);
    sqlite3_bind_blob(q, 11, s->reason, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 12, s->verdict_by.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 13, (int64_t)s->rbond);
    sqlite3_bind_int64(q, 14, (int64_t)s->deadline_s);
    if ((rc = step_done(c->tx, q, "slot", err))) return rc;
    c->changes++;
    if (mk_rec_tag(c, MK_REC_SLOT) || mk_rec_bytes(c, s->task, 32) || mk_rec_u64(c, s->slot) || mk_rec_u64(c, (uint64_t)s->state) ||
        mk_rec_u64(c, s->attempt) || mk_rec_bytes(c, s->worker.b, 20) || mk_rec_u64(c, s->claimed_height) ||
        mk_rec_u64(c, s->deadline) || mk_rec_bytes(c, s->result, 32) || mk_rec_u64(c, (uint64_t)s->accept) ||
        mk_rec_u64(c, s->score) || mk_rec_bytes(c, s->reason, 32) || mk_rec_bytes(c, s->verdict_by.b, 20) ||
        mk_rec_u64(c, s->rbond) || mk_rec_u64(c, s->deadline_s))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

int mk_dispute_load(gt_tx *tx, const uint8_t task[32], uint64_t slot, uint64_t attempt, mk_dispute *d,
                    gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx,
                        "SELECT worker,bond,opened_height,deadline,outcome,accept_weight,reject_weight,voters "
                        "FROM mk_disputes WHERE task=? AND slot=? AND attempt=?",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    sqlite3_bind_int64(q, 3, (int64_t)attempt);
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        gt_tx_stmt_done(tx, q);
        char h[19];
        if (rc == SQLITE_DONE)
            return gt_err_set(err, GT_ENOTFOUND, "slot %llu of task %s… has no dispute", (unsigned long long)slot,
                              mk_short(task, h));
        return gt_err_set(err, GT_EDB, "reading dispute: %s", sqlite3_errmsg(tx->db));
    }
    memset(d, 0, sizeof *d);
    memcpy(d->task, task, 32);
    d->slot = slot;
    d->attempt = attempt;
    col_blob(q, 0, d->worker.b, 20);
    d->bond = col_u64(q, 1);
    d->opened_height = col_u64(q, 2);
    d->deadline = col_u64(q, 3);
    d->outcome = (int)col_u64(q, 4);
    d->accept_weight = col_u64(q, 5);
    d->reject_weight = col_u64(q, 6);
    d->voters = col_u64(q, 7);
    gt_tx_stmt_done(tx, q);
    return 0;
}

int mk_dispute_store(mk_ctx *c, const mk_dispute *d, int insert, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx,
                        insert ? "INSERT INTO mk_disputes VALUES(?,?,?,?,?,?,?,?,?,?,?)"
                               : "INSERT OR REPLACE INTO mk_disputes VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, d->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)d->slot);
    sqlite3_bind_int64(q, 3, (int64_t)d->attempt);
    sqlite3_bind_blob(q, 4, d->worker.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, (int64_t)d->bond);
    sqlite3_bind_int64(q, 6, (int64_t)d->opened_height);
    sqlite3_bind_int64(q, 7, (int64_t)d->deadline);
    sqlite3_bind_int64(q, 8, d->outcome);
    sqlite3_bind_int64(q, 9, (int64_t)d->accept_weight);
    sqlite3_bind_int64(q, 10, (int64_t)d->reject_weight);
    sqlite3_bind_int64(q, 11, (int64_t)d->voters);
    if ((rc = step_done(c->tx, q, "dispute", err))) return rc;
    c->changes++;
    if (mk_rec_tag(c, MK_REC_DISPUTE) || mk_rec_bytes(c, d->task, 32) || mk_rec_u64(c, d->slot) || mk_rec_u64(c, d->attempt) ||
        mk_rec_bytes(c, d->worker.b, 20) || mk_rec_u64(c, d->bond) || mk_rec_u64(c, d->opened_height) ||
        mk_rec_u64(c, d->deadline) || mk_rec_u64(c, (uint64_t)d->outcome) || mk_rec_u64(c, d->accept_weight) ||
        mk_rec_u64(c, d->reject_weight) || mk_rec_u64(c, d->voters))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

int mk_vote_insert(mk_ctx *c, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round,
                   const gt_addr *voter, int accept, uint64_t weight, gt_err *err) {
    /* seq orders votes (fee shares go to voters in vote order); it is the
     * number of votes already cast in this round. */
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx,
                        "INSERT INTO mk_votes SELECT ?1,?2,?3,?4,?5,?6,?7,count(*) FROM mk_votes "
                        "WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    sqlite3_bind_int64(q, 3, (int64_t)attempt);
    sqlite3_bind_int64(q, 4, round);
    sqlite3_bind_blob(q, 5, voter->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, accept ? 1 : 0);
    sqlite3_bind_int64(q, 7, (int64_t)weight);
    if ((rc = step_done(c->tx, q, "vote", err))) {
        if (rc == GT_EEXIST) {
            char s[43];
            return gt_err_set(err, GT_EEXIST, "%s has already voted on this %s", mk_addr(voter, s),
                              round == MK_ROUND_VERIFY ? "result" : "dispute");
        }
        return rc;
    }
    c->changes++;
    if (mk_rec_tag(c, MK_REC_VOTE) || mk_rec_bytes(c, task, 32) || mk_rec_u64(c, slot) || mk_rec_u64(c, attempt) ||
        mk_rec_u64(c, (uint64_t)round) || mk_rec_bytes(c, voter->b, 20) || mk_rec_u64(c, accept ? 1 : 0) ||
        mk_rec_u64(c, weight))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

int mk_votes_each(gt_tx *tx, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round, mk_vote_fn fn,
                  void *arg, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx,
                        "SELECT voter,accept,weight FROM mk_votes WHERE task=? AND slot=? AND attempt=? "
                        "AND round=? ORDER BY seq",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    sqlite3_bind_int64(q, 3, (int64_t)attempt);
    sqlite3_bind_int64(q, 4, round);
    int stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        gt_addr v;
        col_blob(q, 0, v.b, 20);
        stop = fn(arg, &v, (int)col_u64(q, 1), col_u64(q, 2));
    }
    gt_tx_stmt_done(tx, q);
    if (stop < 0) return stop;
    if (!stop && rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "reading votes: %s", sqlite3_errmsg(tx->db));
    return 0;
}
