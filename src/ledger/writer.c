/* writer.c: the ledger's writer thread and the calls that feed it. Callers
 * verify signatures in their own threads and queue batches (submit, tick);
 * the writer takes everything queued, up to a block's worth, applies it as
 * one block in one SQLite transaction and commits it (group commit), then
 * hands its batches to the syncer (syncer.c), which wakes their callers once
 * the block is on disk; batches that made no block are answered at once. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/limits.h"
#include "base/progress.h"
#include "crypto/addr.h"
#include "ledger/block_rows.h"
#include "ledger/ledger_impl.h"

void gt_ledger_set_time(gt_ledger *l, uint64_t time_s) { __atomic_store_n(&l->fixed_time_s, time_s, __ATOMIC_RELAXED); }

/* The writer's clock for the next block: the fixed one, or the wall clock. */
static uint64_t clock_s(gt_ledger *l) {
    uint64_t fixed = __atomic_load_n(&l->fixed_time_s, __ATOMIC_RELAXED);
    return fixed ? fixed : (uint64_t)time(NULL);
}

uint64_t gt_ledger_now_s(gt_ledger *l) {
    gt_block head;
    gt_err err;
    uint64_t now = clock_s(l);
    if (!gt_ledger_head(l, &head, &err) && head.time_s > now) return head.time_s;
    return now;
}

/* Refuses every action of a batch list with the same code and message, and
 * fails its reservation requests. */
static void refuse_all(gt_ledger *l, gt_ledger_pending *list, int code, const char *msg) {
    for (gt_ledger_pending *p = list; p; p = p->next) {
        if (p->resv) gt_ledger_resv_fail(l, p->resv, code, msg);
        for (size_t i = 0; i < p->n; i++)
            if (!p->res[i].code) {
                p->res[i].code = code;
                snprintf(p->res[i].msg, sizeof p->res[i].msg, "%s", msg);
            }
    }
}

/* Takes entry i out of the reservation table (resv_mu held). */
static void resv_drop(gt_ledger *l, size_t i) {
    assert(i < l->n_resv && l->n_resv <= GT_LEDGER_RESERVE_MAX);
    l->resv[i] = l->resv[l->n_resv - 1];
    __atomic_store_n(&l->n_resv, l->n_resv - 1, __ATOMIC_RELEASE);
}

/* Sets rq's answer (code, printf message). */
static void resv_answer(gt_ledger_resv *rq, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void resv_answer(gt_ledger_resv *rq, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rq->res.code = code;
    vsnprintf(rq->res.msg, sizeof rq->res.msg, fmt, ap);
    va_end(ap);
}

/* Makes the reservation rq at its point of the queue: every action queued
 * before it is applied in tx's state (earlier blocks committed, this one's
 * so far), so its payer's next nonce there is exact; every action after it
 * meets the table in resv_refuses. Answers rq. state_mu held (writer). */
static void resv_take(gt_ledger *l, gt_tx *tx, gt_ledger_resv *rq) {
    assert(!rq->held && !rq->res.code);
    gt_account acct;
    gt_err err = {0};
    char who[GT_ADDR_STR_BYTES];
    gt_addr_to_str(&rq->from, who);
    if (gt_state_account(tx, &rq->from, &acct, &err)) {
        resv_answer(rq, err.code ? err.code : GT_EDB, "nonce %llu of %s not reserved: %s",
                    (unsigned long long)rq->nonce, who, err.msg);
        return;
    }
    if (acct.nonce != rq->nonce) {
        resv_answer(rq, GT_ENONCE, "nonce %llu of %s cannot be reserved: the account's next nonce is %llu%s",
                    (unsigned long long)rq->nonce, who, (unsigned long long)acct.nonce,
                    acct.nonce > rq->nonce ? " (an action of the account's used it first)" : "");
        return;
    }
    if (rq->until_s && tx->time_s >= rq->until_s) {
        resv_answer(rq, GT_ESTATE, "nonce %llu of %s not reserved: the action it is for is valid before %llu only, "
                    "and the next block's time is %llu", (unsigned long long)rq->nonce, who,
                    (unsigned long long)rq->until_s, (unsigned long long)tx->time_s);
        return;
    }
    pthread_mutex_lock(&l->resv_mu);
    for (size_t i = 0; i < l->n_resv;) /* lapsed ones make room: they block nothing any more */
        if (l->resv[i].until_s && tx->time_s >= l->resv[i].until_s) resv_drop(l, i);
        else i++;
    for (size_t i = 0; i < l->n_resv && !rq->res.code; i++)
        if (l->resv[i].nonce == rq->nonce && gt_addr_eq(&l->resv[i].from, &rq->from))
            resv_answer(rq, GT_EEXIST, "nonce %llu of %s is reserved by an x402 payment in flight already",
                        (unsigned long long)rq->nonce, who);
    if (!rq->res.code && l->n_resv == GT_LEDGER_RESERVE_MAX)
        resv_answer(rq, GT_ELIMIT, "nonce %llu of %s not reserved: %d payments are in flight, the most this "
                    "ledger reserves at once; try again once one ends", (unsigned long long)rq->nonce, who,
                    GT_LEDGER_RESERVE_MAX);
    if (!rq->res.code) {
        gt_ledger_resv *e = &l->resv[l->n_resv];
        *e = (gt_ledger_resv){.from = rq->from, .nonce = rq->nonce, .until_s = rq->until_s};
        memcpy(e->id, rq->id, 32);
        __atomic_store_n(&l->n_resv, l->n_resv + 1, __ATOMIC_RELEASE);
        rq->held = 1;
    }
    pthread_mutex_unlock(&l->resv_mu);
}

/* 1 when a reservation stands against a: another action than the one
 * reserved, with its payer's reserved nonce (then r says so). A lapsed one
 * (the block's time at its until_s) stands against nothing. Only the
 * writer's own submissions meet this: no replay calls it. state_mu held. */
static int resv_refuses(gt_ledger *l, const gt_tx *tx, const gt_action *a, gt_result *r) {
    if (!__atomic_load_n(&l->n_resv, __ATOMIC_ACQUIRE)) return 0; /* only the writer adds: none stands */
    int hit = 0;
    pthread_mutex_lock(&l->resv_mu);
    for (size_t i = 0; i < l->n_resv && !hit; i++) {
        const gt_ledger_resv *e = &l->resv[i];
        hit = e->nonce == a->nonce && gt_addr_eq(&e->from, &a->from) && memcmp(e->id, a->id, 32) != 0 &&
              (!e->until_s || tx->time_s < e->until_s);
    }
    pthread_mutex_unlock(&l->resv_mu);
    if (!hit) return 0;
    char who[GT_ADDR_STR_BYTES];
    gt_addr_to_str(&a->from, who);
    r->code = GT_ENONCE;
    snprintf(r->msg, sizeof r->msg, "nonce %llu of %s is reserved by an x402 payment in flight: the payment takes "
             "it once the route it pays for has answered (or the reservation ends); sign the next action after it",
             (unsigned long long)a->nonce, who);
    return 1;
}

void gt_ledger_resv_fail(gt_ledger *l, gt_ledger_resv *rq, int code, const char *msg) {
    if (rq->res.code) return;
    if (rq->held) gt_ledger_unreserve(l, &rq->from, rq->nonce, rq->id);
    rq->held = 0;
    resv_answer(rq, code, "nonce %llu not reserved: %s", (unsigned long long)rq->nonce, msg);
}

void gt_ledger_unreserve(gt_ledger *l, const gt_addr *from, uint64_t nonce, const uint8_t id[32]) {
    pthread_mutex_lock(&l->resv_mu);
    for (size_t i = 0; i < l->n_resv; i++)
        if (l->resv[i].nonce == nonce && gt_addr_eq(&l->resv[i].from, from) && !memcmp(l->resv[i].id, id, 32)) {
            resv_drop(l, i);
            break; /* (from, nonce) stands once at most */
        }
    pthread_mutex_unlock(&l->resv_mu);
}

size_t gt_ledger_reservations(gt_ledger *l) { return __atomic_load_n(&l->n_resv, __ATOMIC_ACQUIRE); }

/* Runs the writer's statement *q (prepared from sql on first use and kept:
 * one block per action is common, and parsing BEGIN and COMMIT each time was
 * a measurable part of such a block). */
static int run_kept(gt_ledger *l, sqlite3_stmt **q, const char *sql, gt_err *err) {
    if (!*q && sqlite3_prepare_v2(l->db, sql, -1, q, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "ledger store: %s", sqlite3_errmsg(l->db));
    assert(*q && !sqlite3_stmt_busy(*q));
    int rc = sqlite3_step(*q);
    if (rc != SQLITE_DONE) gt_err_set(err, GT_EDB, "ledger store: %s", sqlite3_errmsg(l->db));
    sqlite3_reset(*q);
    return rc == SQLITE_DONE ? 0 : GT_EDB;
}

/* Inserts one applied action into the log. */
static int put_action(gt_ledger *l, const gt_action *a, uint64_t height, uint32_t idx, gt_err *err) {
    if (!l->ins_action &&
        sqlite3_prepare_v2(l->db, "INSERT INTO actions(height,idx,id,sender,nonce,kind,body) VALUES(?,?,?,?,?,?,?)",
                           -1, &l->ins_action, NULL))
        return gt_err_set(err, GT_EDB, "actions: %s", sqlite3_errmsg(l->db));
    uint8_t body[GT_ACTION_BIN_MAX];
    size_t n = gt_action_encode(a, body);
    sqlite3_stmt *q = l->ins_action;
    sqlite3_bind_int64(q, 1, (int64_t)height);
    sqlite3_bind_int64(q, 2, idx);
    sqlite3_bind_blob(q, 3, a->id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, (int64_t)a->nonce);
    sqlite3_bind_text(q, 6, a->kind->name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 7, body, (int)n, SQLITE_STATIC); /* unbound below, before body goes */
    int rc = sqlite3_step(q);
    /* The message is read before the unbinding, which clears it. */
    rc = rc == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "writing action: %s", sqlite3_errmsg(l->db));
    sqlite3_reset(q);
    sqlite3_bind_null(q, 7);
    return rc;
}

/* Adds every action not yet indexed to action_ids as a new run of level 0,
 * in id order, and records how far it got. Runs inside the writer's block
 * transaction. A run's number is one more than any before it, so its rows
 * go at the end of the B-tree: each page written once, full, whatever the
 * size of the index (an index keyed by id alone took them at random). */
static int add_run(sqlite3 *db, gt_err *err) {
    return gt_ledger_exec(db,
                          "INSERT INTO id_runs(run,level,n) SELECT coalesce(max(run),0)+1, 0, 0 FROM id_runs;"
                          "INSERT INTO action_ids SELECT (SELECT max(run) FROM id_runs), id, seq FROM actions"
                          " WHERE seq > (SELECT value FROM meta WHERE key='ids_seq') ORDER BY id;"
                          "UPDATE id_runs SET n=changes() WHERE run=(SELECT max(run) FROM id_runs);"
                          "UPDATE meta SET value=(SELECT coalesce(max(seq),0) FROM actions) WHERE key='ids_seq';",
                          err);
}

/* Number of runs of the given level in id_runs, or -1 on an SQLite error. */
static int runs_at(sqlite3 *db, int level) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM id_runs WHERE level=?", -1, &q, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_int(q, 1, level);
    int n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
    sqlite3_finalize(q);
    return n;
}

/* Merges every run of `level` into one new run of level + 1, written in id
 * order at the end of the B-tree, and deletes them (their pages are
 * contiguous, so each is freed once). */
static int merge_runs(sqlite3 *db, int level, gt_err *err) {
    assert(level >= 0 && level < GT_LEDGER_ID_LEVEL_TOP);
    char *sql = sqlite3_mprintf(
        "INSERT INTO id_runs(run,level,n) SELECT max(run)+1, %d, (SELECT sum(n) FROM id_runs WHERE level=%d)"
        " FROM id_runs;"
        "INSERT INTO action_ids SELECT (SELECT max(run) FROM id_runs), id, seq FROM action_ids"
        " WHERE run IN (SELECT run FROM id_runs WHERE level=%d) ORDER BY id;"
        "DELETE FROM action_ids WHERE run IN (SELECT run FROM id_runs WHERE level=%d);"
        "DELETE FROM id_runs WHERE level=%d;",
        level + 1, level, level, level, level);
    if (!sql) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = gt_ledger_exec(db, sql, err);
    sqlite3_free(sql);
    return rc;
}

/* Brings the id index up to date (one new run), then merges each level
 * that has GT_LEDGER_ID_FANOUT runs into the next, up to the top level,
 * whose runs stay. */
static int index_ids(sqlite3 *db, gt_err *err) {
    int rc = add_run(db, err);
    for (int level = 0; !rc && level < GT_LEDGER_ID_LEVEL_TOP; level++) {
        int n = runs_at(db, level);
        if (n < 0) rc = gt_err_set(err, GT_EDB, "ledger store: %s", sqlite3_errmsg(db));
        else if (n < GT_LEDGER_ID_FANOUT) break;
        else rc = merge_runs(db, level, err);
    }
    return rc ? gt_err_wrap(err, "indexing action ids") : 0;
}

/* CPU seconds the calling thread has used. */
static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Counts the refused actions of a batch list in the stats (state_mu held). */
static void count_refused(gt_ledger *l, gt_ledger_pending *list) {
    for (gt_ledger_pending *p = list; p; p = p->next)
        for (size_t i = 0; i < p->n; i++) l->stats.actions_refused += p->res[i].code != 0;
}

/* Refuses the whole list when this node's clock `now` is further behind
 * the head's time than a block may be ahead of its maker's clock: 1 when
 * refused, 0 when a block may be made. state_mu held. */
static int clock_behind(gt_ledger *l, gt_ledger_pending *list, uint64_t now) {
    if (!(l->head.time_s > now && l->head.time_s - now > GT_LEDGER_MAX_CLOCK_DRIFT_S)) return 0;
    char msg[GT_ERR_MSG_MAX];
    snprintf(msg, sizeof msg,
             "no block made: this node's clock (%llu) is %llu s behind the last block's time (%llu), more than "
             "the %d s a block time may be ahead of the clock that makes it; fix the node's clock",
             (unsigned long long)now, (unsigned long long)(l->head.time_s - now),
             (unsigned long long)l->head.time_s, GT_LEDGER_MAX_CLOCK_DRIFT_S);
    refuse_all(l, list, GT_ESTATE, msg);
    count_refused(l, list);
    return 1;
}

/* Applies every action of the list not refused yet to the block being
 * built in tx, logs the applied ones and keeps their ids in l->ids; sets
 * *applied. A rule's refusal marks that action only; a store failure
 * (GT_EDB, GT_ENOMEM) stops and is returned, and the caller abandons the
 * block. */
static int apply_list(gt_ledger *l, gt_tx *tx, gt_ledger_pending *list, uint32_t *applied, gt_err *err) {
    uint32_t k = 0;
    int rc = 0;
    for (gt_ledger_pending *p = list; p && !rc; p = p->next) {
        if (p->resv) resv_take(l, tx, p->resv);
        for (size_t i = 0; i < p->n; i++) {
            gt_result *r = &p->res[i];
            if (r->code) continue; /* refused before queueing (signature) */
            gt_action *a = &p->acts[i];
            if (resv_refuses(l, tx, a, r)) continue;
            gt_err aerr = {0};
            tx->action_seq = k;
            int arc = gt_block_apply_action(tx, a, &aerr);
            if (arc) {
                r->code = arc;
                snprintf(r->msg, sizeof r->msg, "%s", aerr.msg);
                if (arc == GT_EDB || arc == GT_ENOMEM) { rc = arc; *err = aerr; break; }
                continue;
            }
            /* Nonces make ids unique, so a failed insert is a store failure:
             * the whole block is abandoned below. */
            if ((rc = put_action(l, a, tx->height, k, err))) break;
            assert(k < l->ids_cap);
            memcpy(l->ids[k], a->id, 32);
            r->height = tx->height;
            k++;
        }
    }
    *applied = k;
    return rc;
}

/* Ends the block: on rc != 0 rolls it back as a whole (the store is the
 * truth again, the state cache is dropped) and fails every action that was
 * applied with the store's message; on 0 makes b the head. state_mu held. */
static void settle_block(gt_ledger *l, gt_ledger_pending *list, const gt_block *b, int rc, const gt_err *err) {
    if (rc) {
        gt_ledger_exec(l->db, "ROLLBACK", NULL);
        gt_state_reset(l->state);
        uint64_t supply = 0;
        gt_ledger_meta_get(l, "supply", &supply, NULL, 0, NULL);
        gt_state_set_supply(l->state, supply);
        char msg[GT_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "block not committed: %.400s", err->msg);
        for (gt_ledger_pending *p = list; p; p = p->next) {
            if (p->resv) gt_ledger_resv_fail(l, p->resv, rc, msg); /* its state is gone: not exact any more */
            for (size_t i = 0; i < p->n; i++)
                if (!p->res[i].code) {
                    p->res[i].code = rc;
                    snprintf(p->res[i].msg, sizeof p->res[i].msg, "%s", msg);
                }
        }
    } else {
        uint32_t k = b->n_actions;
        l->head = *b;
        l->stats.blocks++;
        l->stats.actions_applied += k;
        l->unindexed = l->unindexed + k >= l->id_batch ? 0 : l->unindexed + k;
    }
    count_refused(l, list);
}

/* Makes room for the ids of `total` actions in l->ids; on failure refuses
 * the list (out of memory) and returns GT_ENOMEM. state_mu held. */
static int reserve_ids(gt_ledger *l, gt_ledger_pending *list, size_t total) {
    if (total <= l->ids_cap) return 0;
    void *ids = gt_realloc(l->ids, total * 32);
    if (!ids) {
        refuse_all(l, list, GT_ENOMEM, "out of memory");
        return GT_ENOMEM;
    }
    l->ids = ids;
    l->ids_cap = total;
    return 0;
}

/* Builds, writes and commits one block from a list of pending batches
 * (state_mu held, l->mu not). Returns 1 when a block was committed (its
 * applied actions wait for the syncer), 0 when none was (every action has
 * its answer). */
static int build_block(gt_ledger *l, gt_ledger_pending *list) {
    gt_err err = {0};
    size_t total = 0;
    int tick = 0;
    for (gt_ledger_pending *p = list; p; p = p->next) total += p->n, tick |= p->tick;
    if (reserve_ids(l, list, total)) return 0;
    double t_start = gt_now_s();
    uint64_t now = clock_s(l);
    if (clock_behind(l, list, now)) return 0;
    gt_tx tx = {.state = l->state, .db = l->db, .domain = l->dom, .height = l->head.height + 1,
                .time_s = now > l->head.time_s ? now : l->head.time_s,
                .unbonding_blocks = l->g.unbonding_blocks, .windows = l->g.windows, .authority = l->g.authority,
                .format9_height = l->g.format9_height, .format10_height = l->g.format10_height,
                .format11_height = l->g.format11_height, .format12_height = l->g.format12_height,
                .format13_height = l->g.format13_height, .format14_height = l->g.format14_height,
                .format15_height = l->g.format15_height, .format16_height = l->g.format16_height};
    gt_block b = {.height = tx.height, .time_s = tx.time_s};
    memcpy(b.prev, l->head.hash, 32);
    memcpy(tx.prev_hash, l->head.hash, 32);
    gt_seed_for_block(&l->seed, b.height, b.seed, b.seed_anchor);
    memcpy(tx.seed, b.seed, 32);
    int rc = run_kept(l, &l->begin, "BEGIN IMMEDIATE", &err);
    int changes = rc ? rc : gt_block_begin(&tx, &err);
    if (changes < 0) rc = changes;
    uint32_t k = 0;
    if (!rc) rc = apply_list(l, &tx, list, &k, &err);
    if (!rc && k == 0 && changes == 0 && !tick) {
        /* Nothing was applied: no block. Every change was rolled back already. */
        gt_ledger_exec(l->db, "ROLLBACK", NULL);
        return 0;
    }
    if (!rc) {
        b.n_actions = k;
        gt_block_actions_root(l->ids, k, b.actions_root);
        rc = gt_block_finish(&tx, l->head.state_root, &b, &err);
    }
    if (!rc && l->unindexed + k >= l->id_batch) rc = index_ids(l->db, &err);
    if (!rc) rc = gt_block_row_put(l->db, &l->ins_block, &b, &err);
    double t_commit = gt_now_s();
    l->stats.apply_s += t_commit - t_start;
    if (!rc) rc = run_kept(l, &l->commit, "COMMIT", &err);
    double t_end = gt_now_s();
    l->stats.commit_s += t_end - t_commit;
    if (t_end - t_start > l->stats.block_max_s) l->stats.block_max_s = t_end - t_start;
    int pages = 0, hi = 0; /* read and reset: what this block's commit wrote (the WAL frames it added) */
    sqlite3_db_status(l->db, SQLITE_DBSTATUS_CACHE_WRITE, &pages, &hi, 1);
    l->stats.pages_written += (uint64_t)pages;
    settle_block(l, list, &b, rc, &err);
    return rc == 0;
}

/* build_block under state_mu, its CPU counted in the stats before the lock
 * is let go: the writer then hands the block to the syncer without taking
 * state_mu again, which a reader (or nobody, usually) may hold. Under
 * ck_hold too, which the checkpointer takes to copy the WAL's last frames
 * between two blocks (checkpoint.c). Called by the writer only, without
 * l->mu held. */
static int write_block(gt_ledger *l, gt_ledger_pending *list) {
    pthread_mutex_lock(&l->ck_hold);
    pthread_mutex_lock(&l->state_mu);
    double c0 = thread_cpu_s();
    int committed = build_block(l, list);
    l->stats.cpu_s += thread_cpu_s() - c0;
    pthread_mutex_unlock(&l->state_mu);
    pthread_mutex_unlock(&l->ck_hold);
    return committed;
}

void gt_ledger_set_id_batch(gt_ledger *l, uint32_t n) {
    assert(n >= 1 && n <= GT_LEDGER_ID_BATCH);
    pthread_mutex_lock(&l->state_mu);
    l->id_batch = n;
    pthread_mutex_unlock(&l->state_mu);
}

void gt_ledger_stats_get(gt_ledger *l, gt_ledger_stats *out) {
    pthread_mutex_lock(&l->state_mu);
    *out = l->stats;
    pthread_mutex_unlock(&l->state_mu);
    pthread_mutex_lock(&l->mu); /* the syncer's counters (taken apart: neither lock is held under the other) */
    out->syncs = l->syncs;
    out->sync_s = l->sync_s;
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_lock(&l->ck_mu); /* the checkpointer's (checkpoint.c) */
    out->checkpoints = l->ck_stats.checkpoints;
    out->checkpoint_s = l->ck_stats.checkpoint_s;
    out->checkpoint_holds = l->ck_stats.checkpoint_holds;
    out->checkpoint_hold_s = l->ck_stats.checkpoint_hold_s;
    out->wal_frames_max = l->ck_stats.wal_frames_max;
    pthread_mutex_unlock(&l->ck_mu);
}

/* Marks every batch of list done and wakes the threads waiting (l->mu
 * held). Returns the submits with a callback that this completed, linked by
 * next_fire, to be fired once l->mu is released. */
static gt_ledger_ticket *mark_done(gt_ledger *l, gt_ledger_pending *list) {
    gt_ledger_ticket *fire = NULL;
    for (gt_ledger_pending *p = list; p; p = p->next) {
        assert(!p->done);
        p->done = 1;
        gt_ledger_ticket *t = p->ticket;
        if (!t || !t->on_done) continue;
        assert(t->parts_left > 0);
        if (--t->parts_left == 0) {
            t->next_fire = fire;
            fire = t;
        }
    }
    pthread_cond_broadcast(&l->done_cv);
    return fire;
}

/* Calls each completed submit's callback and frees it (l->mu not held). */
static void fire_all(gt_ledger_ticket *fire) {
    while (fire) {
        gt_ledger_ticket *next = fire->next_fire;
        fire->on_done(fire->on_done_arg);
        gt_free(fire->parts);
        gt_free(fire);
        fire = next;
    }
}

void gt_ledger_finish(gt_ledger *l, gt_ledger_pending *list) {
    gt_ledger_ticket *fire = mark_done(l, list);
    if (!fire) return;
    pthread_mutex_unlock(&l->mu);
    fire_all(fire);
    pthread_mutex_lock(&l->mu);
}

/* The writer thread: takes up to a block's worth of queued batches, writes
 * them as one block, hands them to the syncer (or marks them done when no
 * block was made), repeats. After a failed sync it refuses everything. */
void *gt_ledger_writer_main(void *arg) {
    gt_ledger *l = arg;
    pthread_setname_np(pthread_self(), "gt-ledger"); /* how top -H and perf name it */
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->q_head && !l->stop) pthread_cond_wait(&l->cv, &l->mu);
        if (!l->q_head) break; /* stop requested and nothing left */
        gt_ledger_pending *list = l->q_head, *last = list;
        size_t total = last->n;
        while (last->next && total + last->next->n <= GT_LIMIT_BLOCK_ACTIONS) {
            last = last->next;
            total += last->n;
        }
        l->q_head = last->next;
        if (!l->q_head) l->q_tail = NULL;
        last->next = NULL;
        if (l->sync_failed) {
            refuse_all(l, list, GT_EIO, l->sync_msg);
            gt_ledger_finish(l, list);
            continue;
        }
        l->writer_active = 1;
        pthread_mutex_unlock(&l->mu);
        int committed = write_block(l, list);
        pthread_mutex_lock(&l->mu);
        l->writer_active = 0;
        /* A refusal (a nonce, funds) may rest on a block not yet on disk:
         * answered after its sync too. */
        if (committed || l->s_head || l->syncing) gt_ledger_sync_push(l, list);
        else gt_ledger_finish(l, list);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void enqueue(gt_ledger *l, gt_ledger_pending *p) {
    pthread_mutex_lock(&l->mu);
    if (l->q_tail) l->q_tail->next = p; else l->q_head = p;
    l->q_tail = p;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* Sets r to refused with err's code and message. */
static void refuse(gt_result *r, const gt_err *err) {
    r->code = err->code;
    snprintf(r->msg, sizeof r->msg, "%s", err->msg);
}

/* Verifies acts[0..n) as gt_action_verify does each (results into res),
 * their digests computed four at a time (gt_action_digest_many), a chunk
 * of VERIFY_CHUNK actions at a time. */
#define VERIFY_CHUNK 64
static void verify_all(gt_ledger *l, gt_action *acts, size_t n, gt_result *res) {
    for (size_t at = 0; at < n; at += VERIFY_CHUNK) {
        size_t m = n - at < VERIFY_CHUNK ? n - at : VERIFY_CHUNK, ok = 0;
        gt_action *pass[VERIFY_CHUNK];
        for (size_t i = at; i < at + m; i++) {
            gt_err err = {0};
            res[i].code = 0;
            res[i].height = 0;
            res[i].msg[0] = 0;
            if (gt_action_check_domain(&acts[i], &l->dom, &err)) refuse(&res[i], &err);
            else pass[ok++] = &acts[i];
        }
        assert(ok <= m);
        gt_action_digest_many(pass, ok);
        for (size_t i = at; i < at + m; i++) {
            gt_err err = {0};
            if (!res[i].code && gt_action_check_signer(&acts[i], &err)) refuse(&res[i], &err);
        }
    }
}

/* Verifies and queues a submit (see gt_ledger_submit_async and _cb); *out
 * is NULL when nothing was queued, and *queued says whether anything was (t
 * may be gone by then when it has a callback). */
static int submit_queue(gt_ledger *l, gt_action *acts, size_t n, gt_result *res, gt_ledger_done_fn done, void *arg,
                        gt_ledger_ticket **out, int *queued) {
    *out = NULL;
    *queued = 0;
    if (l->readonly) {
        for (size_t i = 0; i < n; i++) {
            res[i] = (gt_result){.code = GT_EPERM};
            snprintf(res[i].msg, sizeof res[i].msg, "ledger is open read-only");
        }
        return 0;
    }
    verify_all(l, acts, n, res);
    if (n == 0) return 0;
    size_t parts = (n + GT_LIMIT_BLOCK_ACTIONS - 1) / GT_LIMIT_BLOCK_ACTIONS;
    gt_ledger_ticket *t = gt_calloc(1, sizeof *t);
    gt_ledger_pending *p = gt_calloc(parts, sizeof *p);
    if (!t || !p) {
        gt_free(t);
        gt_free(p);
        for (size_t i = 0; i < n; i++)
            if (!res[i].code) res[i].code = GT_ENOMEM, snprintf(res[i].msg, sizeof res[i].msg, "out of memory");
        return GT_ENOMEM;
    }
    t->parts = p;
    t->n_parts = t->parts_left = parts;
    t->on_done = done;
    t->on_done_arg = arg;
    *out = done ? NULL : t; /* with a callback, t may be freed once the last part is queued */
    *queued = 1;
    for (size_t k = 0; k < parts; k++) {
        size_t off = k * GT_LIMIT_BLOCK_ACTIONS;
        p[k].acts = acts + off;
        p[k].res = res + off;
        p[k].n = n - off < GT_LIMIT_BLOCK_ACTIONS ? n - off : GT_LIMIT_BLOCK_ACTIONS;
        p[k].ticket = t;
        enqueue(l, &p[k]);
    }
    return 0;
}

int gt_ledger_submit_async(gt_ledger *l, gt_action *acts, size_t n, gt_result *res, gt_ledger_ticket **out) {
    int queued;
    return submit_queue(l, acts, n, res, NULL, NULL, out, &queued);
}

int gt_ledger_submit_cb(gt_ledger *l, gt_action *acts, size_t n, gt_result *res, gt_ledger_done_fn done, void *arg) {
    assert(done);
    gt_ledger_ticket *t;
    int queued;
    submit_queue(l, acts, n, res, done, arg, &t, &queued);
    assert(!t);
    return queued;
}

void gt_ledger_wait(gt_ledger *l, gt_ledger_ticket *t) {
    if (!t) return;
    pthread_mutex_lock(&l->mu);
    for (size_t k = 0; k < t->n_parts; k++)
        while (!t->parts[k].done) pthread_cond_wait(&l->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    gt_free(t->parts);
    gt_free(t);
}

size_t gt_ledger_submit(gt_ledger *l, gt_action *acts, size_t n, gt_result *res) {
    gt_ledger_ticket *t;
    gt_ledger_submit_async(l, acts, n, res, &t);
    gt_ledger_wait(l, t);
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) ok += res[i].code == 0;
    return ok;
}

int gt_ledger_reserve(gt_ledger *l, const gt_addr *from, uint64_t nonce, const uint8_t id[32], uint64_t until_s,
                      gt_err *err) {
    if (l->readonly) return gt_err_set(err, GT_EPERM, "ledger is open read-only");
    gt_ledger_resv rq = {.from = *from, .nonce = nonce, .until_s = until_s};
    memcpy(rq.id, id, 32);
    gt_ledger_pending me = {.resv = &rq};
    enqueue(l, &me); /* behind everything queued now: the writer checks the nonce after applying it */
    pthread_mutex_lock(&l->mu);
    while (!me.done) pthread_cond_wait(&l->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    assert(rq.held == (rq.res.code == 0));
    if (!rq.res.code) return 0;
    return gt_err_set(err, rq.res.code, "%s", rq.res.msg);
}

int gt_ledger_tick(gt_ledger *l, gt_err *err) {
    if (l->readonly) return gt_err_set(err, GT_EPERM, "ledger is open read-only");
    pthread_mutex_lock(&l->state_mu);
    uint64_t before = l->head.height;
    pthread_mutex_unlock(&l->state_mu);
    gt_ledger_pending me = {.tick = 1};
    enqueue(l, &me);
    pthread_mutex_lock(&l->mu);
    while (!me.done) pthread_cond_wait(&l->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    if (__atomic_load_n(&l->sync_failed, __ATOMIC_ACQUIRE)) { /* its block, or one before, is not on disk */
        pthread_mutex_lock(&l->mu);
        gt_err_set(err, GT_EIO, "%s", l->sync_msg);
        pthread_mutex_unlock(&l->mu);
        return GT_EIO;
    }
    pthread_mutex_lock(&l->state_mu);
    int ok = l->head.height > before;
    uint64_t head_time = l->head.time_s, now = clock_s(l);
    pthread_mutex_unlock(&l->state_mu);
    if (ok) return 0;
    if (head_time > now && head_time - now > GT_LEDGER_MAX_CLOCK_DRIFT_S)
        return gt_err_set(err, GT_ESTATE,
                          "no block made: this node's clock is %llu s behind the last block's time; fix it",
                          (unsigned long long)(head_time - now));
    return gt_err_set(err, GT_EDB, "could not write an empty block");
}
