/* query.c: read-only views of the market for the node's API, the CLI and
 * tests: tasks with their slots, votes and disputes, agents, and the slot
 * refs other modules read (the audit of the books is audit.c). Everything
 * here only SELECTs, so it runs on a read-only connection beside the
 * writer. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/amount.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "market/market_impl.h"

static json_t *j_hex(const void *b, size_t n) {
    char s[2 + 64 + 1];
    s[0] = '0', s[1] = 'x';
    gt_hex_encode(b, n, s + 2);
    return json_string(s);
}
static json_t *j_blob(const uint8_t *b) {
    if (mk_is_zero32(b)) return json_null();
    char s[7 + 64 + 1];
    memcpy(s, "sha256:", 7);
    gt_hex_encode(b, 32, s + 7);
    return json_string(s);
}
static json_t *j_addr(const gt_addr *a) {
    char s[43];
    gt_addr_to_str(a, s);
    return json_string(s);
}
static json_t *j_units(uint64_t v) {
    char s[32];
    return json_string(gt_amount_format(v, s));
}
static json_t *j_u64(uint64_t v) { return json_integer((json_int_t)v); }

/* See market_impl.h. */
gt_tx mk_read_tx(sqlite3 *db) {
    gt_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.db = db;
    return tx;
}

/* A stored enumeration (a task's status or policy, a slot's state, a
 * dispute's outcome) outside its n values: the row is damaged, and a view
 * says so instead of showing "unknown". 0 or GT_EDB. */
static int view_enum(int v, int n, const char *table, const char *column, gt_err *err) {
    if (v >= 0 && v < n) return 0;
    return gt_err_set(err, GT_EDB, "damaged row in table %s, column %s: expected 0..%d, found the integer %d", table,
                      column, n - 1, v);
}

/* The task's terms; NULL (err set) when its row holds a damaged value. */
static json_t *task_terms(const mk_task *t, gt_err *err) {
    if (view_enum(t->status, GT_TASK_COMPLETE + 1, "mk_tasks", "status", err) ||
        view_enum(t->policy, GT_POLICY_QUORUM + 1, "mk_tasks", "policy", err))
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "id", j_hex(t->id, 32));
    json_object_set_new(o, "poster", j_addr(&t->poster));
    json_object_set_new(o, "kind", json_string(t->kind));
    json_object_set_new(o, "spec", j_blob(t->spec));
    json_object_set_new(o, "parent", mk_is_zero32(t->parent) ? json_null() : j_hex(t->parent, 32));
    json_object_set_new(o, "slots", j_u64(t->slots));
    json_object_set_new(o, "bounty", j_units(t->bounty));
    json_object_set_new(o, "stake", j_units(t->stake));
    json_object_set_new(o, "policy", json_string(gt_policy_name(t->policy)));
    json_object_set_new(o, "verifier", gt_addr_is_zero(&t->verifier) ? json_null() : j_addr(&t->verifier));
    json_object_set_new(o, "fee", j_units(t->fee));
    json_object_set_new(o, "quorum", j_u64(t->quorum));
    json_object_set_new(o, "submitSeconds", j_u64(t->submit_s));
    json_object_set_new(o, "verifySeconds", j_u64(t->verify_s));
    json_object_set_new(o, "postedHeight", j_u64(t->posted_height));
    json_object_set_new(o, "expiryHeight", j_u64(t->expiry_height));
    json_object_set_new(o, "expiryTime", j_u64(t->expiry_s));
    json_object_set_new(o, "status", json_string(gt_task_status_name(t->status)));
    json_object_set_new(o, "claims", j_u64(t->claims));
    json_object_set_new(o, "seatsPerWorker", j_u64(t->seats_per_worker));
    json_object_set_new(o, "batchItems", j_u64(t->batch_items));
    json_object_set_new(o, "lastBatchItems", j_u64(t->last_batch_items));
    return o;
}

/* mk_votes_each's callback for votes_json: appends one vote. */
static int vote_json(void *arg, const gt_addr *voter, int accept, uint64_t weight) {
    json_t *o = json_object();
    json_object_set_new(o, "voter", j_addr(voter));
    json_object_set_new(o, "accept", json_boolean(accept));
    json_object_set_new(o, "weight", j_units(weight));
    json_array_append_new(arg, o);
    return 0;
}

/* Votes of one round of a slot's current attempt, as a JSON array, read by
 * the market's strict vote reader; NULL (err set) on a damaged row. */
static json_t *votes_json(sqlite3 *db, const mk_slot *sl, int round, gt_err *err) {
    json_t *arr = json_array();
    gt_tx tx = mk_read_tx(db);
    if (mk_votes_each(&tx, sl->task, sl->slot, sl->attempt, round, vote_json, arr, err)) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* The members of one round's drawn panel, largest weight first, appended to
 * arr. 0 or GT_EDB (a damaged row, or the read failed). */
static int panel_members(sqlite3 *db, const mk_slot *sl, int round, json_t *arr, gt_err *err) {
    sqlite3_stmt *q;
    int rc = mk_prepare(db, "SELECT member, weight FROM mk_panels WHERE task=? AND slot=? AND attempt=? AND round=? "
                            "ORDER BY weight DESC, member", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
    int step;
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        gt_addr m;
        uint64_t weight;
        if ((rc = gt_row_blob(q, 0, m.b, 20, "mk_panels", err)) || (rc = gt_row_amount(q, 1, &weight, "mk_panels", err)))
            break;
        json_t *o = json_object();
        json_object_set_new(o, "member", j_addr(&m));
        json_object_set_new(o, "weight", j_units(weight));
        json_array_append_new(arr, o);
    }
    if (!rc && step != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading mk_panels: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* Commitments of one round of a slot's current attempt into arr, as
 * {voter, commitment, revealed}. 0 or GT_EDB (a damaged row is an error). */
static int commits_json(sqlite3 *db, const mk_slot *sl, int round, json_t *arr, gt_err *err) {
    sqlite3_stmt *q;
    int rc = mk_prepare(db, "SELECT voter, commitment, revealed FROM mk_commits WHERE task=? AND slot=? AND attempt=? "
                            "AND round=? ORDER BY voter", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
    int step;
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        gt_addr v;
        uint8_t h[32];
        if ((rc = gt_row_blob(q, 0, v.b, 20, "mk_commits", err)) || (rc = gt_row_blob(q, 1, h, 32, "mk_commits", err)))
            break;
        json_t *o = json_object();
        json_object_set_new(o, "voter", j_addr(&v));
        json_object_set_new(o, "commitment", j_hex(h, 32));
        json_object_set_new(o, "revealed", json_boolean(sqlite3_column_int(q, 2)));
        json_array_append_new(arr, o);
    }
    if (!rc && step != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading mk_commits: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* The network's reveal window from meta (fixed at genesis): a view's tx
 * (mk_read_tx) carries no windows. 0 or GT_EDB. */
static int reveal_window(sqlite3 *db, uint64_t *reveal_s, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='reveal_window_s'", -1, &q, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "reading meta: %s", sqlite3_errmsg(db));
    int rc = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_INTEGER ? 0 : GT_EDB;
    if (!rc) *reveal_s = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc ? gt_err_set(err, GT_EDB, "meta: no reveal_window_s") : 0;
}

/* A sealed round's commitments and the block time its commit window closes
 * (commitDeadline: the round's deadline less the network's reveal window,
 * which agents wait for before they reveal), into the round's object;
 * nothing when unsealed. 0 or an error. */
static int sealed_json(sqlite3 *db, const mk_slot *sl, int round, json_t *into, gt_err *err) {
    gt_tx tx = mk_read_tx(db);
    int sealed = 0;
    uint64_t end_s = 0;
    int rc = reveal_window(db, &tx.windows.reveal_s, err);
    if (!rc) rc = mk_round_sealed(&tx, sl, round, &sealed, &end_s, err);
    if (rc || !sealed) return rc;
    json_t *arr = json_array();
    if ((rc = commits_json(db, sl, round, arr, err))) {
        json_decref(arr);
        return rc;
    }
    json_object_set_new(into, "commits", arr);
    json_object_set_new(into, "commitDeadline", j_u64(end_s));
    return 0;
}

/* The panel of one round of a slot's current attempt: [{member, weight}],
 * largest weight first; or, while it is still to be drawn, the draw height.
 * 0 or GT_EDB. */
static int panel_json(sqlite3 *db, const mk_slot *sl, int round, json_t *into, gt_err *err) {
    gt_tx tx = mk_read_tx(db);
    uint64_t at = mk_panel_draw_height(&tx, sl, round);
    if (at) {
        json_object_set_new(into, "panelDrawHeight", j_u64(at));
        return 0;
    }
    json_t *arr = json_array();
    int rc = panel_members(db, sl, round, arr, err);
    if (rc) json_decref(arr);
    else json_object_set_new(into, "panel", arr);
    return rc;
}

/* Earlier attempts of a slot whose disputes a view lists (a slot reopens at
 * most once per lost dispute or missed deadline; views stay bounded). */
#define MK_VIEW_MAX_PAST_ATTEMPTS 64

/* A dispute d of slot sl (sl->attempt is the dispute's attempt): bond,
 * heights, outcome, weights and votes. New reference; NULL (err set) on a
 * damaged row. */
static json_t *dispute_json(sqlite3 *db, const mk_slot *sl, const mk_dispute *d, gt_err *err) {
    static const char *const outcomes[] = {"open", "worker-won", "worker-lost", "no-decision"};
    _Static_assert(MK_DISPUTE_NO_DECISION + 1 == sizeof outcomes / sizeof outcomes[0], "a name for every outcome");
    assert(d->attempt == sl->attempt);
    if (view_enum(d->outcome, MK_DISPUTE_NO_DECISION + 1, "mk_disputes", "outcome", err)) return NULL;
    json_t *votes = votes_json(db, sl, MK_ROUND_DISPUTE, err);
    if (!votes) return NULL;
    json_t *dj = json_object();
    json_object_set_new(dj, "bond", j_units(d->bond));
    json_object_set_new(dj, "openedHeight", j_u64(d->opened_height));
    json_object_set_new(dj, "deadline", j_u64(d->deadline));
    json_object_set_new(dj, "outcome", json_string(outcomes[d->outcome]));
    json_object_set_new(dj, "acceptWeight", j_units(d->accept_weight));
    json_object_set_new(dj, "rejectWeight", j_units(d->reject_weight));
    json_object_set_new(dj, "votes", votes);
    return dj;
}

/* The slot's disputes into o: the current attempt's ("dispute", with its
 * panel while open) and earlier attempts' ("pastDisputes": a lost dispute
 * reopens the slot under the next attempt, and how each ended stays
 * readable). A missing dispute is no dispute; a damaged one is GT_EDB. */
static int slot_disputes(sqlite3 *db, const mk_slot *sl, json_t *o, gt_err *err) {
    gt_tx tx = mk_read_tx(db);
    mk_dispute d;
    int rc = mk_dispute_load(&tx, sl->task, sl->slot, sl->attempt, &d, err);
    if (rc && rc != GT_ENOTFOUND) return rc;
    if (!rc) {
        json_t *dj = dispute_json(db, sl, &d, err);
        if (!dj || (d.outcome == MK_DISPUTE_OPEN && ((rc = panel_json(db, sl, MK_ROUND_DISPUTE, dj, err)) ||
                                                     (rc = sealed_json(db, sl, MK_ROUND_DISPUTE, dj, err))))) {
            json_decref(dj);
            return dj ? rc : GT_EDB;
        }
        json_object_set_new(o, "dispute", dj);
    }
    json_t *past = json_array();
    rc = 0;
    for (uint64_t a = 0; !rc && a < sl->attempt && a < MK_VIEW_MAX_PAST_ATTEMPTS; a++) {
        mk_slot ps = *sl;
        ps.attempt = a;
        if ((rc = mk_dispute_load(&tx, sl->task, sl->slot, a, &d, err)) == GT_ENOTFOUND) {
            rc = 0;
            continue;
        }
        json_t *dj = rc ? NULL : dispute_json(db, &ps, &d, err);
        if (!dj) rc = rc ? rc : GT_EDB;
        if (rc) break;
        json_object_set_new(dj, "attempt", j_u64(a));
        json_object_set_new(dj, "worker", j_addr(&d.worker));
        json_array_append_new(past, dj);
    }
    if (!rc && json_array_size(past)) json_object_set_new(o, "pastDisputes", past);
    else json_decref(past);
    return rc;
}

/* The slot's verdict into o (once it has one): accept, score, reason, who
 * gave it, the rejection bond, and a per-unit verdict's counts. 0 or GT_EDB. */
static int slot_verdict(sqlite3 *db, const mk_slot *sl, json_t *o, gt_err *err) {
    json_object_set_new(o, "accept", json_boolean(sl->accept));
    json_object_set_new(o, "score", j_u64(sl->score));
    json_object_set_new(o, "reason", j_blob(sl->reason));
    json_object_set_new(o, "verdictBy", gt_addr_is_zero(&sl->verdict_by) ? json_null() : j_addr(&sl->verdict_by));
    json_object_set_new(o, "rejectionBond", j_units(sl->rbond));
    gt_tx tx = mk_read_tx(db);
    mk_partial p;
    int rc = mk_partial_load(&tx, sl->task, sl->slot, sl->attempt, &p, err);
    if (rc == GT_ENOTFOUND) return 0;
    if (rc) return rc;
    json_t *pj = json_object();
    json_object_set_new(pj, "accepted", j_u64(p.accepted));
    json_object_set_new(pj, "total", j_u64(p.total));
    json_object_set_new(o, "units", pj);
    return 0;
}

/* One slot of task t as JSON: state, worker, deadline, result, verdict,
 * votes and panel, disputes. NULL (err set, GT_EDB) when a row it reads is
 * damaged: a view shows what the ledger holds or fails, never a zero. */
static json_t *slot_json(sqlite3 *db, const mk_task *t, const mk_slot *sl, gt_err *err) {
    if (view_enum(sl->state, GT_SLOT_REFUNDED + 1, "mk_slots", "state", err)) return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "slot", j_u64(sl->slot));
    json_object_set_new(o, "state", json_string(gt_slot_state_name(sl->state)));
    json_object_set_new(o, "attempt", j_u64(sl->attempt));
    int held = sl->state >= GT_SLOT_CLAIMED && sl->state <= GT_SLOT_PAID;
    json_object_set_new(o, "worker", held ? j_addr(&sl->worker) : json_null());
    json_object_set_new(o, "claimedHeight", held ? j_u64(sl->claimed_height) : json_null());
    /* Deadlines are block times (seconds since the epoch): windows are seconds. */
    json_object_set_new(o, "deadline", sl->deadline ? j_u64(sl->deadline_s) : json_null());
    json_object_set_new(o, "result", j_blob(sl->result));
    int rc = 0;
    if (sl->state >= GT_SLOT_ACCEPTED && sl->state <= GT_SLOT_PAID) rc = slot_verdict(db, sl, o, err);
    if (!rc && t->policy == GT_POLICY_QUORUM && sl->state >= GT_SLOT_SUBMITTED) {
        json_t *votes = votes_json(db, sl, MK_ROUND_VERIFY, err);
        if (votes) json_object_set_new(o, "votes", votes);
        else rc = GT_EDB;
    }
    if (!rc && t->policy == GT_POLICY_QUORUM && sl->state >= GT_SLOT_CLAIMED && sl->state <= GT_SLOT_SUBMITTED)
        rc = panel_json(db, sl, MK_ROUND_VERIFY, o, err);
    if (!rc && t->policy == GT_POLICY_QUORUM && sl->state == GT_SLOT_SUBMITTED)
        rc = sealed_json(db, sl, MK_ROUND_VERIFY, o, err);
    if (!rc) rc = slot_disputes(db, sl, o, err);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The amount a lock holds (0: no such lock), through tx's statement cache.
 * 0 or GT_EDB (a damaged row, or the read failed). */
static int lock_amount_tx(gt_tx *tx, const uint8_t id[32], uint64_t *amount, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT amount FROM locks WHERE id=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    *amount = 0;
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) rc = gt_row_amount(q, 0, amount, "locks", err);
    else if (step != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading locks: %s", sqlite3_errmsg(tx->db));
    gt_tx_stmt_done(tx, q);
    return rc;
}

/* See market_impl.h. */
int mk_lock_amount(sqlite3 *db, const uint8_t id[32], uint64_t *amount, gt_err *err) {
    gt_tx tx = mk_read_tx(db);
    return lock_amount_tx(&tx, id, amount, err);
}

/* The task's escrow, read from the ledger's locks, into o. 0 or GT_EDB. */
static int escrow_json(gt_tx *tx, const mk_task *t, json_t *o, gt_err *err) {
    uint8_t escrow[32];
    uint64_t held;
    gt_market_escrow_id(t->id, escrow);
    int rc = lock_amount_tx(tx, escrow, &held, err);
    if (!rc) json_object_set_new(o, "escrow", j_units(held));
    return rc;
}

int gt_market_snapshot_begin(sqlite3 *db) {
    if (!sqlite3_get_autocommit(db)) return 0;
    /* Deferred: the snapshot is taken by the first read and held to the end.
     * If BEGIN fails the reads still run, one transaction each, as before. */
    return sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
}

void gt_market_snapshot_end(sqlite3 *db, int began) {
    if (began && !sqlite3_get_autocommit(db)) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

/* Sub-tasks a task view lists, at most (a task may have any number: the
 * rest are paged through GET /v1/tasks?parent=ID). */
#define MK_VIEW_MAX_SUBTASKS 100

/* The task's sub-tasks into o: "subtasks" (ids, oldest first, at most
 * MK_VIEW_MAX_SUBTASKS) and "subtasksMore" (true when there are more).
 * 0 or GT_EDB (a damaged row, or the read failed). */
static int subtasks_json(sqlite3 *db, const mk_task *t, json_t *o, gt_err *err) {
    sqlite3_stmt *q;
    int rc = mk_prepare(db, MK_SQL_SUBTASKS, &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, t->id, 32, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, MK_VIEW_MAX_SUBTASKS + 1);
    json_t *subs = json_array();
    int step, more = 0;
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        uint8_t id[32];
        if (json_array_size(subs) == MK_VIEW_MAX_SUBTASKS) {
            more = 1;
            break;
        }
        if (!(rc = gt_row_blob(q, 0, id, 32, "mk_tasks", err))) json_array_append_new(subs, j_hex(id, 32));
    }
    if (!rc && !more && step != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading mk_tasks: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    if (rc) {
        json_decref(subs);
        return rc;
    }
    json_object_set_new(o, "subtasks", subs);
    json_object_set_new(o, "subtasksMore", json_boolean(more));
    return 0;
}

/* The task view's queries (task, escrow, slots with their votes, panels and
 * disputes, sub-tasks), inside the caller's snapshot. NULL (err set) when
 * the task is missing or a row it reads is damaged. */
static json_t *task_get(sqlite3 *db, const uint8_t task_id[32], gt_err *err) {
    gt_tx tx = mk_read_tx(db);
    mk_task t;
    if (mk_task_load(&tx, task_id, &t, err)) return NULL;
    json_t *o = task_terms(&t, err);
    if (!o) return NULL;
    json_t *slots = json_array();
    int rc = escrow_json(&tx, &t, o, err);
    for (uint64_t i = 0; !rc && i < t.slots; i++) {
        mk_slot sl;
        json_t *sj = NULL;
        if (!(rc = mk_slot_load(&tx, t.id, i, &sl, err)) && !(sj = slot_json(db, &t, &sl, err))) rc = GT_EDB;
        if (sj) json_array_append_new(slots, sj);
    }
    if (!rc) {
        json_object_set_new(o, "slotList", slots);
        slots = NULL;
        rc = subtasks_json(db, &t, o, err);
    }
    if (rc) {
        json_decref(slots);
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *gt_market_task_get(sqlite3 *db, const uint8_t task_id[32], gt_err *err) {
    int began = gt_market_snapshot_begin(db);
    json_t *o = task_get(db, task_id, err);
    gt_market_snapshot_end(db, began);
    return o;
}

/* The listing's queries (ids, then each task's row and escrow), inside the
 * caller's snapshot. */
static json_t *tasks_list(sqlite3 *db, const gt_market_task_filter *f, uint64_t offset, uint64_t limit, gt_err *err) {
    if (limit == 0 || limit > GT_MARKET_PAGE_MAX) limit = GT_MARKET_PAGE_MAX;
    if (offset > INT64_MAX) offset = INT64_MAX;
    sqlite3_stmt *q;
    /* With a spec, the statement that searches mk_tasks_spec (market_impl.h). */
    if (mk_prepare(db, f && f->spec ? MK_SQL_TASKS_BY_SPEC : MK_SQL_TASKS_LIST, &q, err)) return NULL;
    sqlite3_bind_int(q, 1, f ? f->status : -1);
    if (f && f->kind) sqlite3_bind_text(q, 2, f->kind, -1, SQLITE_STATIC); else sqlite3_bind_null(q, 2);
    if (f && f->poster) sqlite3_bind_blob(q, 3, f->poster->b, 20, SQLITE_STATIC); else sqlite3_bind_null(q, 3);
    if (f && f->parent) sqlite3_bind_blob(q, 4, f->parent, 32, SQLITE_STATIC); else sqlite3_bind_null(q, 4);
    if (f && f->worker) sqlite3_bind_blob(q, 5, f->worker->b, 20, SQLITE_STATIC); else sqlite3_bind_null(q, 5);
    if (f && f->spec) sqlite3_bind_blob(q, 8, f->spec, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (int64_t)limit + 1); /* one more tells whether a next page exists */
    sqlite3_bind_int64(q, 7, (int64_t)offset);
    json_t *arr = json_array();
    gt_tx tx = mk_read_tx(db);
    /* A statement cache for this page: each row's task and escrow reads then
     * prepare once per page, not once per row. */
    tx.state = gt_state_new();
    uint64_t n = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n++ == limit) break;
        mk_task t;
        uint8_t tid[32];
        if ((rc = gt_row_blob(q, 0, tid, 32, "mk_tasks", err)) || (rc = mk_task_load(&tx, tid, &t, err))) break;
        json_t *o = task_terms(&t, err);
        if (!o || (rc = escrow_json(&tx, &t, o, err))) {
            json_decref(o);
            rc = GT_EDB;
            break;
        }
        json_array_append_new(arr, o);
    }
    gt_state_free(tx.state);
    sqlite3_finalize(q);
    if (rc < 0) { /* a damaged row: the message is set */
        json_decref(arr);
        return NULL;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        json_decref(arr);
        gt_err_set(err, GT_EDB, "listing tasks: %s", sqlite3_errmsg(db));
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "tasks", arr);
    json_object_set_new(o, "next", n > limit ? j_u64(offset + limit) : json_null());
    return o;
}

json_t *gt_market_tasks_list(sqlite3 *db, const gt_market_task_filter *f, uint64_t offset, uint64_t limit,
                             gt_err *err) {
    int began = gt_market_snapshot_begin(db);
    json_t *o = tasks_list(db, f, offset, limit, err);
    gt_market_snapshot_end(db, began);
    return o;
}

/* An agent's card as stored (the columns of mk_agents, in order). */
typedef struct view_agent {
    gt_addr addr;
    char name[GT_MARKET_NAME_MAX + 1], skills[GT_MARKET_SKILLS_BYTES + 1], endpoint[GT_MARKET_ENDPOINT_MAX + 1];
    uint8_t model[32], card[32];
    uint64_t price, registered_height, updated_height;
    int status;
} view_agent;

/* Reads the current row of q (SELECT * FROM mk_agents) strictly: 0, or
 * GT_EDB naming the damaged column. */
static int agent_read(sqlite3_stmt *q, view_agent *v, gt_err *err) {
    static const char *const t = "mk_agents";
    int rc = sqlite3_column_count(q) == 10 ? 0 : gt_err_set(err, GT_EDB, "damaged table mk_agents: %d columns, "
                                                                   "expected 10", sqlite3_column_count(q));
    if (!rc) rc = gt_row_blob(q, 0, v->addr.b, 20, t, err);
    if (!rc) rc = gt_row_text(q, 1, v->name, sizeof v->name, t, err);
    if (!rc) rc = gt_row_text(q, 2, v->skills, sizeof v->skills, t, err);
    if (!rc) rc = gt_row_blob(q, 3, v->model, 32, t, err);
    if (!rc) rc = gt_row_text(q, 4, v->endpoint, sizeof v->endpoint, t, err);
    if (!rc) rc = gt_row_amount(q, 5, &v->price, t, err);
    if (!rc) rc = gt_row_int(q, 6, &v->status, t, err);
    if (!rc && v->status != GT_AGENT_ACTIVE && v->status != GT_AGENT_RETIRED)
        rc = gt_row_damaged(q, 6, t, "0 (active) or 1 (retired)", err);
    if (!rc) rc = gt_row_blob(q, 7, v->card, 32, t, err);
    if (!rc) rc = gt_row_amount(q, 8, &v->registered_height, t, err);
    if (!rc) rc = gt_row_amount(q, 9, &v->updated_height, t, err);
    return rc;
}

/* One agent row (columns of mk_agents in order) as JSON; NULL (err set,
 * GT_EDB) when the row is damaged. */
static json_t *agent_row(sqlite3_stmt *q, gt_err *err) {
    view_agent v;
    if (agent_read(q, &v, err)) return NULL;
    json_t *name = json_string(v.name); /* NULL: not UTF-8, which registration checked */
    if (!name) {
        gt_row_damaged(q, 1, "mk_agents", "UTF-8 text", err);
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "address", j_addr(&v.addr));
    json_object_set_new(o, "name", name);
    json_t *skills = json_array();
    for (const char *p = v.skills; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(skills, json_stringn(p, len));
        if (!e) break;
        p = e + 1;
    }
    json_object_set_new(o, "skills", skills);
    json_object_set_new(o, "model", j_blob(v.model));
    json_object_set_new(o, "endpoint", json_string(v.endpoint));
    json_object_set_new(o, "price", j_units(v.price));
    json_object_set_new(o, "status", json_string(v.status == GT_AGENT_ACTIVE ? "active" : "retired"));
    json_object_set_new(o, "card", j_hex(v.card, 32));
    json_object_set_new(o, "registeredHeight", j_u64(v.registered_height));
    json_object_set_new(o, "updatedHeight", j_u64(v.updated_height));
    return o;
}

json_t *gt_market_agent_get(sqlite3 *db, const gt_addr *addr, gt_err *err) {
    sqlite3_stmt *q;
    if (mk_prepare(db, "SELECT * FROM mk_agents WHERE addr=?", &q, err)) return NULL;
    sqlite3_bind_blob(q, 1, addr->b, 20, SQLITE_STATIC);
    json_t *o = NULL;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) o = agent_row(q, err); /* NULL: damaged, err set */
    sqlite3_finalize(q);
    char s[43];
    if (rc == SQLITE_DONE) gt_err_set(err, GT_ENOTFOUND, "%s is not a registered agent", mk_addr(addr, s));
    else if (rc != SQLITE_ROW) gt_err_set(err, GT_EDB, "reading agent: %s", sqlite3_errmsg(db));
    return o;
}

json_t *gt_market_agents_list(sqlite3 *db, const char *skill, int active_only, uint64_t offset, uint64_t limit,
                              gt_err *err) {
    if (limit == 0 || limit > GT_MARKET_PAGE_MAX) limit = GT_MARKET_PAGE_MAX;
    if (offset > INT64_MAX) offset = INT64_MAX;
    sqlite3_stmt *q;
    if (mk_prepare(db,
                   "SELECT a.* FROM mk_agents a WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM mk_agent_skills s "
                   "WHERE s.skill=?1 AND s.addr=a.addr)) AND (?2 = 0 OR a.status=0) ORDER BY a.addr LIMIT ?3 OFFSET ?4",
                   &q, err))
        return NULL;
    if (skill) sqlite3_bind_text(q, 1, skill, -1, SQLITE_STATIC); else sqlite3_bind_null(q, 1);
    sqlite3_bind_int(q, 2, active_only ? 1 : 0);
    sqlite3_bind_int64(q, 3, (int64_t)limit + 1);
    sqlite3_bind_int64(q, 4, (int64_t)offset);
    json_t *arr = json_array();
    uint64_t n = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n++ == limit) break;
        json_t *o = agent_row(q, err);
        if (!o) {
            rc = GT_EDB; /* a damaged row: the message is set */
            break;
        }
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(q);
    if (rc == GT_EDB) {
        json_decref(arr);
        return NULL;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        json_decref(arr);
        gt_err_set(err, GT_EDB, "listing agents: %s", sqlite3_errmsg(db));
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "agents", arr);
    json_object_set_new(o, "next", n > limit ? j_u64(offset + limit) : json_null());
    return o;
}

int gt_market_slot_ref_get(sqlite3 *db, const uint8_t task_id[32], uint64_t slot, gt_market_slot_ref *out, gt_err *err) {
    gt_tx tx = mk_read_tx(db);
    mk_task t;
    mk_slot sl;
    int rc = mk_task_load(&tx, task_id, &t, err);
    if (rc || (rc = mk_slot_load(&tx, task_id, slot, &sl, err))) return rc;
    memset(out, 0, sizeof *out);
    memcpy(out->kind, t.kind, sizeof out->kind);
    memcpy(out->spec, t.spec, 32);
    out->poster = t.poster;
    out->verifier = t.verifier;
    out->policy = t.policy;
    out->task_status = t.status;
    out->bounty = t.bounty, out->stake = t.stake, out->fee = t.fee, out->quorum = t.quorum, out->slots = t.slots;
    out->state = sl.state;
    out->attempt = sl.attempt;
    out->deadline = sl.deadline_s;
    out->deadline_height = sl.deadline;
    out->worker = sl.worker;
    memcpy(out->result, sl.result, 32);
    out->accept = sl.accept;
    out->verdict_by = sl.verdict_by;
    out->posted_height = t.posted_height;
    return 0;
}

/* market.h: the units the task's paid slots bought. A paid slot has a
 * per-unit verdict's row of its attempt with accept unset only when it was
 * settled pro rata (partial.c); the units are bounded at post time, so the
 * sum of at most GT_MARKET_MAX_SLOTS of them cannot overflow. */
int gt_market_task_paid_units(sqlite3 *db, const uint8_t task_id[32], uint64_t *units, gt_err *err) {
    assert(db && task_id && units);
    gt_tx tx = mk_read_tx(db);
    mk_task t;
    sqlite3_stmt *q;
    *units = 0;
    int rc = mk_task_load(&tx, task_id, &t, err);
    if (rc || (rc = gt_tx_stmt(&tx, MK_SQL_PAID_UNITS, &q, err))) return rc;
    sqlite3_bind_blob(q, 1, task_id, 32, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, GT_SLOT_PAID);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        uint64_t slot = (uint64_t)sqlite3_column_int64(q, 0);
        int pro_rata = !sqlite3_column_int(q, 1) && sqlite3_column_type(q, 2) != SQLITE_NULL;
        uint64_t u = pro_rata ? (uint64_t)sqlite3_column_int64(q, 2) : mk_slot_units(&t, slot);
        if (slot >= t.slots || u > GT_MARKET_MAX_UNITS) { /* a damaged row: no sum of it */
            rc = SQLITE_CORRUPT;
            break;
        }
        *units += u;
    }
    gt_tx_stmt_done(&tx, q);
    if (rc != SQLITE_DONE)
        return gt_err_set(err, GT_EDB, "reading the task's paid slots: %s",
                          rc == SQLITE_CORRUPT ? "a slot or its verdict is damaged" : sqlite3_errmsg(db));
    return 0;
}

/* market.h: a quorum's accept, or a dispute the worker won, on the current attempt. */
int gt_market_slot_panel_accepted(sqlite3 *db, const uint8_t task_id[32], uint64_t slot, int *yes, gt_err *err) {
    gt_tx tx = mk_read_tx(db);
    mk_task t;
    mk_slot sl;
    mk_dispute d;
    *yes = 0;
    int rc = mk_task_load(&tx, task_id, &t, err);
    if (rc || (rc = mk_slot_load(&tx, task_id, slot, &sl, err))) return rc;
    if (sl.state != GT_SLOT_ACCEPTED && sl.state != GT_SLOT_PAID) return 0;
    /* A quorum's accept: the slot's verdict is the drawn panel's. A quorum
     * slot paid with accept unset was paid on no verdict (old ledgers). */
    if (t.policy == GT_POLICY_QUORUM) return *yes = sl.accept != 0, 0;
    /* Otherwise only a dispute of this attempt that the worker won: the
     * poster's or evaluator's own accept never went to a panel. */
    rc = mk_dispute_load(&tx, task_id, slot, sl.attempt, &d, err);
    if (rc == GT_ENOTFOUND) return 0;
    if (!rc) *yes = sl.state == GT_SLOT_PAID && sl.accept && d.outcome == MK_DISPUTE_WORKER_WON;
    return rc;
}
