/* market.c: registering the market with the ledger (kinds, tables, the
 * block-start sweep), the action context that buffers state-commitment bytes,
 * lock ids and small helpers the market's files share.
 *
 * Tables (all prefixed mk_, all WITHOUT ROWID keyed by what identifies a row,
 * so replay into a fresh store produces identical rows):
 *   mk_agents(addr) cards, indexed by their name's two impersonation keys
 *   (mk_agents_name_key, mk_agents_name_case_key); mk_agent_skills(skill,
 *   addr) for lookups, also indexed by addr;
 *   mk_tasks(id) terms and status, also indexed by spec (mk_tasks_spec);
 *   mk_slots(task, slot) the current attempt;
 *   mk_task_workers(task, worker) claims each worker ever made on a task;
 *   mk_votes(task, slot, attempt, round, voter); mk_commits(task, slot,
 *   attempt, round, voter) sealed votes (commit.c); mk_panels(task, slot, attempt,
 *   round, member) who may vote, by weight, mk_draws panels still to be
 *   drawn and mk_draw_cands their eligible sets, fixed at the opening
 *   (panel.c); mk_disputes(task, slot, attempt);
 *   mk_reputation(addr, skill) counters; mk_partials(task, slot, attempt)
 *   per-unit verdicts and mk_rep_units(addr, skill) per-unit counters
 *   (partial.c); mk_slot_paid(task, slot) the block time a slot was paid
 *   (format 15: the fund module's points are recorded near it). */
#include "market/market.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/amount.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "ledger/block.h"
#include "ledger/row.h"
#include "ledger/rules.h"
#include "market/market_impl.h"

static const char market_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS mk_agents(addr BLOB PRIMARY KEY, name TEXT NOT NULL, skills TEXT NOT NULL,"
    " model BLOB NOT NULL, endpoint TEXT NOT NULL, price INTEGER NOT NULL, status INTEGER NOT NULL,"
    " card_id BLOB NOT NULL, registered_height INTEGER NOT NULL, updated_height INTEGER NOT NULL) WITHOUT ROWID;"
    /* Cards by the impersonation key of their name (registry.c: name_key_of),
     * for the check that a new name looks like no other agent's: one search
     * instead of a read of every card (registering is free, so that read was
     * a cost anyone could make the writer pay per action, O(agents)).
     * A derived index, not state: the key is a function of the name alone,
     * which the digest already commits to, and SQLite keeps the index in the
     * same transaction as the card, so it is never out of step with it (a
     * refused action's rollback included). Folding it into the digest too
     * would change the state roots of every block already committed with a
     * card in it. Ledgers of formats 6 and 7 get it from this statement at a
     * writer's open (the backfill: SQLite computes every stored card's key);
     * `ledger verify` checks it against the cards (verify.c). A connection
     * must have mk_name_key (mk_connect) to write mk_agents. */
    "CREATE INDEX IF NOT EXISTS mk_agents_name_key ON mk_agents(mk_name_key(name));"
    /* The same for the name's second key, case folded before the skeleton
     * (registry.c: name_key_of; format 9): "ALICE" beside "Alice". A
     * format 6 to 8 store gets it, computed from its cards, at a writer's
     * open, as format 8's index above. A connection must have
     * mk_name_case_key too to write mk_agents. */
    "CREATE INDEX IF NOT EXISTS mk_agents_name_case_key ON mk_agents(mk_name_case_key(name));"
    "CREATE TABLE IF NOT EXISTS mk_agent_skills(skill TEXT NOT NULL, addr BLOB NOT NULL,"
    " PRIMARY KEY(skill, addr)) WITHOUT ROWID;"
    /* An agent's skills, for card_store's DELETE ... WHERE addr=? when a card
     * is written: the key starts with the skill, so without this that
     * delete read every agent's skills at every (free) registration. */
    "CREATE INDEX IF NOT EXISTS mk_agent_skills_addr ON mk_agent_skills(addr);"
    "CREATE TABLE IF NOT EXISTS mk_tasks(id BLOB PRIMARY KEY, poster BLOB NOT NULL, kind TEXT NOT NULL,"
    " spec BLOB NOT NULL, parent BLOB NOT NULL, slots INTEGER NOT NULL, bounty INTEGER NOT NULL,"
    " stake INTEGER NOT NULL, verifier BLOB NOT NULL, fee INTEGER NOT NULL, quorum INTEGER NOT NULL,"
    " policy INTEGER NOT NULL, submit_s INTEGER NOT NULL, verify_s INTEGER NOT NULL,"
    " posted_height INTEGER NOT NULL, expiry_height INTEGER NOT NULL, status INTEGER NOT NULL,"
    " claims INTEGER NOT NULL, seats_per_worker INTEGER NOT NULL, expiry_s INTEGER NOT NULL,"
    " batch_items INTEGER NOT NULL, last_batch_items INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS mk_tasks_expiry ON mk_tasks(expiry_s) WHERE status=0;"
    /* Sub-tasks by parent, oldest first. Partial: most tasks have no parent
     * (all zero), and a full index put every post's entry at a random place
     * among theirs: one more page a post's block wrote. A query that uses it
     * repeats the predicate (MK_SQL_HAS_PARENT). */
    "CREATE INDEX IF NOT EXISTS mk_subtasks ON mk_tasks(parent, posted_height) WHERE " MK_SQL_HAS_PARENT ";"
    "CREATE INDEX IF NOT EXISTS mk_tasks_posted ON mk_tasks(posted_height);"
    /* Tasks by spec, in the task list's order (newest first, then by id):
     * GET /v1/tasks?spec= (an agent asks it before posting a data job, and
     * anyone may ask any node) is one search that stops at the page's end,
     * where it read every task (bench_task_spec, a listing at 100,000
     * tasks: 346 ms before, 0.07 to 0.18 ms with it). Format 9; a format 6 to 8 store gets it from this statement at
     * a writer's open. An index, outside the state digest. */
    "CREATE INDEX IF NOT EXISTS mk_tasks_spec ON mk_tasks(spec, posted_height DESC, id);"
    "CREATE TABLE IF NOT EXISTS mk_slots(task BLOB NOT NULL, slot INTEGER NOT NULL, state INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL, worker BLOB NOT NULL, claimed_height INTEGER NOT NULL,"
    " deadline INTEGER NOT NULL, result BLOB NOT NULL, accept INTEGER NOT NULL, score INTEGER NOT NULL,"
    " reason BLOB NOT NULL, verdict_by BLOB NOT NULL, rbond INTEGER NOT NULL, deadline_s INTEGER NOT NULL,"
    " PRIMARY KEY(task, slot)) WITHOUT ROWID;"
    /* OR, not IN (1,2,5): SQLite evaluates a constant IN list of three or
     * more by building a temporary B-tree, and it evaluates this predicate
     * for the old and the new row at every write of a slot (two temporary
     * B-trees an update: about a third of a slot write, callgrind). */
    "CREATE INDEX IF NOT EXISTS mk_slots_deadline ON mk_slots(deadline_s) WHERE (state=1 OR state=2 OR state=5);"
    /* No index of slots by worker: every query naming a worker names the
     * task too, which the primary key finds; one cost 0.43 WAL pages a
     * market block (bench_market_pages). */
    "CREATE TABLE IF NOT EXISTS mk_votes(task BLOB NOT NULL, slot INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    " round INTEGER NOT NULL, voter BLOB NOT NULL, accept INTEGER NOT NULL, weight INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, PRIMARY KEY(task, slot, attempt, round, voter)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS mk_commits(task BLOB NOT NULL, slot INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    " round INTEGER NOT NULL, voter BLOB NOT NULL, commitment BLOB NOT NULL, weight INTEGER NOT NULL,"
    " revealed INTEGER NOT NULL, PRIMARY KEY(task, slot, attempt, round, voter)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS mk_task_workers(task BLOB NOT NULL, worker BLOB NOT NULL,"
    " claims INTEGER NOT NULL, PRIMARY KEY(task, worker)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS mk_panels(task BLOB NOT NULL, slot INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    " round INTEGER NOT NULL, member BLOB NOT NULL, weight INTEGER NOT NULL, stake INTEGER NOT NULL,"
    " PRIMARY KEY(task, slot, attempt, round, member)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS mk_draws(task BLOB NOT NULL, slot INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    " round INTEGER NOT NULL, draw_height INTEGER NOT NULL, min_stake INTEGER NOT NULL,"
    " PRIMARY KEY(task, slot, attempt, round)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS mk_draws_height ON mk_draws(draw_height);"
    /* A drawn panel's eligible set, fixed when its judgement opened (panel.c). */
    "CREATE TABLE IF NOT EXISTS mk_draw_cands(task BLOB NOT NULL, slot INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    " round INTEGER NOT NULL, ord INTEGER NOT NULL, addr BLOB NOT NULL, weight INTEGER NOT NULL,"
    " PRIMARY KEY(task, slot, attempt, round, ord)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS mk_disputes(task BLOB NOT NULL, slot INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    " worker BLOB NOT NULL, bond INTEGER NOT NULL, opened_height INTEGER NOT NULL, deadline INTEGER NOT NULL,"
    " outcome INTEGER NOT NULL, accept_weight INTEGER NOT NULL, reject_weight INTEGER NOT NULL,"
    " voters INTEGER NOT NULL, PRIMARY KEY(task, slot, attempt)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS mk_reputation(addr BLOB NOT NULL, skill TEXT NOT NULL,"
    " accepted INTEGER NOT NULL, rejected INTEGER NOT NULL, missed INTEGER NOT NULL,"
    " disputes_won INTEGER NOT NULL, disputes_lost INTEGER NOT NULL, slashed INTEGER NOT NULL,"
    " PRIMARY KEY(addr, skill)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS mk_partials(task BLOB NOT NULL, slot INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    " accepted INTEGER NOT NULL, total INTEGER NOT NULL, PRIMARY KEY(task, slot, attempt)) WITHOUT ROWID;"
    /* Format 15: empty on every older store (a table the digest folds by
     * trigger; no older block's root moves). */
    "CREATE TABLE IF NOT EXISTS mk_slot_paid(task BLOB NOT NULL, slot INTEGER NOT NULL, paid_s INTEGER NOT NULL,"
    " PRIMARY KEY(task, slot)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS mk_rep_units(addr BLOB NOT NULL, skill TEXT NOT NULL,"
    " accepted INTEGER NOT NULL, rejected INTEGER NOT NULL, PRIMARY KEY(addr, skill)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS mk_rep_flows(payer BLOB NOT NULL, payee BLOB NOT NULL, value INTEGER NOT NULL,"
    " results INTEGER NOT NULL, PRIMARY KEY(payer, payee)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS mk_rep_flows_payee ON mk_rep_flows(payee);";

/* The schema's partial indexes and the sweeps' SQL name states by number. */
_Static_assert(GT_TASK_OPEN == 0, "mk_tasks_expiry and the expiry sweep say status=0");
_Static_assert(GT_SLOT_CLAIMED == 1 && GT_SLOT_SUBMITTED == 2 && GT_SLOT_DISPUTED == 5,
               "mk_slots_deadline and the deadline sweep say (state=1 OR state=2 OR state=5)");
_Static_assert(GT_AGENT_ACTIVE == 0 && GT_AGENT_RETIRED == 1, "the registry's SQL says status=0 / status=1");

/* Tables whose every write folds the row replaced and the new one into the
 * state digest itself, with no triggers (block.h): tasks, slots and disputes
 * through rows.c's row_store, the counters through mk_counters_add, a
 * worker's claims through task.c's worker_claims_store. */
static const char *const self_folded[] = {"mk_tasks",      "mk_slots",     "mk_disputes",     "mk_task_workers",
                                          "mk_reputation", "mk_rep_flows", "mk_rep_units", NULL};
/* No upgrade_sql: format 7 (ledger_impl.h) changed the core's id index
 * only, format 8 adds mk_agents_name_key and mk_agent_skills_addr and
 * format 9 mk_agents_name_case_key and mk_tasks_spec, which schema_sql's
 * CREATE INDEX IF NOT EXISTS builds at a writer's open; nothing of formats 6 to 8 goes, and
 * format 8's key function is unchanged, so its index stays as it is. */
static const gt_ledger_module market_module = {"market", market_schema_sql, mk_begin_block, mk_check_books,
                                               self_folded, NULL, mk_connect};

/* The market's kinds: what gt_market_register registers, and what
 * gt_market_kind answers for (one list, so the two cannot drift apart). */
static gt_action_kind *const market_kinds[] = {
    &gt_kind_agent_register, &gt_kind_agent_update, &gt_kind_agent_retire, &gt_kind_task_post,
    &gt_kind_task_cancel,    &gt_kind_task_claim,   &gt_kind_task_submit,  &gt_kind_task_verify,
    &gt_kind_task_settle,    &gt_kind_task_dispute, &gt_kind_dispute_vote, &gt_kind_task_verify_partial,
    &gt_kind_vote_commit,    &gt_kind_vote_reveal,
};
#define N_MARKET_KINDS (sizeof market_kinds / sizeof market_kinds[0])

int gt_market_register(gt_err *err) {
    int rc = gt_rules_register(err);
    for (size_t i = 0; !rc && i < N_MARKET_KINDS; i++) rc = gt_action_register(market_kinds[i], err);
    return rc ? rc : gt_ledger_register_module(&market_module, err);
}

/* See market.h. By pointer: a kind is registered once, at its own address. */
int gt_market_kind(const gt_action_kind *k) {
    for (size_t i = 0; k && i < N_MARKET_KINDS; i++)
        if (market_kinds[i] == k) return 1;
    return 0;
}

const char *gt_slot_state_name(int state) {
    static const char *const names[] = {"open", "claimed", "submitted", "accepted",
                                        "rejected", "disputed", "paid", "refunded"};
    _Static_assert(sizeof names / sizeof names[0] == GT_SLOT_REFUNDED + 1, "a name for every slot state");
    return state >= 0 && state < 8 ? names[state] : "unknown";
}

const char *gt_task_status_name(int status) {
    static const char *const names[] = {"open", "expired", "cancelled", "complete"};
    _Static_assert(sizeof names / sizeof names[0] == GT_TASK_COMPLETE + 1, "a name for every task status");
    return status >= 0 && status < 4 ? names[status] : "unknown";
}

const char *gt_policy_name(int policy) {
    static const char *const names[] = {"poster", "evaluator", "quorum"};
    return policy >= 0 && policy < 3 ? names[policy] : "unknown";
}

void mk_ctx_init(mk_ctx *c, gt_tx *tx) {
    /* not the kept rows' buffers: a few KiB cleared at every action for nothing */
    c->tx = tx;
    c->diff = (gt_buf)GT_BUF_INIT;
    c->changes = 0;
    c->n_pending = 0;
}

int mk_finish(mk_ctx *c, int rc) {
    /* A refused action's rows are dropped: the state restores its digest. */
    if (!rc) mk_digest_flush(c);
    c->n_pending = 0;
    if (!rc && c->diff.len) gt_tx_commit(c->tx, c->diff.data, c->diff.len);
    gt_buf_free(&c->diff);
    return rc;
}

void mk_lock_id(const char *tag, const uint8_t task[32], uint64_t slot, uint64_t attempt, uint8_t out[32]) {
    uint8_t buf[64 + 32 + 16];
    size_t n = strlen(tag);
    assert(n <= 64);
    memcpy(buf, tag, n);
    memcpy(buf + n, task, 32);
    mk_be64(buf + n + 32, slot);
    mk_be64(buf + n + 40, attempt);
    gt_keccak256(buf, n + 48, out);
}

void gt_market_escrow_id(const uint8_t task_id[32], uint8_t out[32]) { mk_lock_id(MK_TAG_ESCROW, task_id, 0, 0, out); }

void gt_market_stake_id(const uint8_t task_id[32], uint64_t slot, uint64_t attempt, uint8_t out[32]) {
    mk_lock_id(MK_TAG_STAKE, task_id, slot, attempt, out);
}

const char *mk_short(const uint8_t id[32], char out[19]) {
    out[0] = '0', out[1] = 'x';
    gt_hex_encode(id, 8, out + 2);
    return out;
}

const char *mk_addr(const gt_addr *a, char out[43]) {
    gt_addr_to_str(a, out);
    return out;
}

const char *mk_units(uint64_t units, char out[32]) { return gt_amount_format(units, out); }

int mk_is_zero32(const uint8_t b[32]) {
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++) acc |= b[i];
    return acc == 0;
}

int mk_exec(gt_tx *tx, const char *sql, gt_err *err) {
    if (sqlite3_exec(tx->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "market store: %s", sqlite3_errmsg(tx->db));
    return 0;
}

/* Binds key's two columns to ?1 and ?2 of q. */
static void bind_key2(sqlite3_stmt *q, const mk_key2 *key) {
    sqlite3_bind_blob(q, 1, key->k1, key->k1_len, SQLITE_STATIC);
    if (key->k2_text) sqlite3_bind_text(q, 2, key->k2_text, -1, SQLITE_STATIC);
    else sqlite3_bind_blob(q, 2, key->k2_blob, key->k2_len, SQLITE_STATIC);
}

/* The digest's bytes of a counters row (as bound: the key, then the
 * counters as int64). */
static void counters_row(const mk_counters *t, const mk_key2 *key, const uint64_t *v, gt_digest_row *r) {
    gt_digest_row_begin(r, t->table);
    gt_digest_row_blob(r, key->k1, (size_t)key->k1_len);
    if (key->k2_text) gt_digest_row_text(r, key->k2_text, strlen(key->k2_text));
    else gt_digest_row_blob(r, key->k2_blob, (size_t)key->k2_len);
    for (int i = 0; i < t->n; i++) gt_digest_row_int(r, (int64_t)v[i]);
}

gt_digest_row *mk_digest_row(mk_ctx *c, int sign) {
    assert(sign == 1 || sign == -1);
    if (c->n_pending == MK_DIGEST_PENDING) mk_digest_flush(c);
    c->pending_sign[c->n_pending] = sign;
    return &c->pending[c->n_pending++];
}

void mk_digest_flush(mk_ctx *c) {
    const gt_digest_row *rows[MK_DIGEST_PENDING];
    for (int i = 0; i < c->n_pending; i++) rows[i] = &c->pending[i];
    gt_digest_rows_fold(c->tx->state, rows, c->pending_sign, c->n_pending);
    c->n_pending = 0;
}

int mk_counters_add(mk_ctx *c, const mk_counters *t, const mk_key2 *key, const uint64_t *delta, uint64_t *v,
                    gt_err *err) {
    assert(key->k1 && (key->k2_text || key->k2_blob) && t->n > 0 && t->n <= MK_COUNTERS_MAX);
    gt_tx *tx = c->tx;
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, t->select_sql, &q, err);
    if (rc) return rc;
    assert(sqlite3_column_count(q) == t->n);
    bind_key2(q, key);
    uint64_t old[MK_COUNTERS_MAX];
    int s = sqlite3_step(q), found = s == SQLITE_ROW;
    for (int i = 0; found && !rc && i < t->n; i++) rc = gt_row_u64(q, i, &old[i], t->table, err);
    if (!found && s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading %s: %s", t->what, sqlite3_errmsg(tx->db));
    gt_tx_stmt_done(tx, q);
    if (rc) return rc;
    for (int i = 0; i < t->n; i++) {
        assert(delta[i] <= (uint64_t)INT64_MAX);
        int64_t sum = (int64_t)delta[i];
        /* Saturates: the same tokens can be slashed and paid round and round
         * (a worker and its own poster), so a total is not bounded by the
         * supply; an error here would refuse every block whose sweep adds to
         * it (a halt bought with a few million actions). */
        if (found && __builtin_add_overflow((int64_t)old[i], (int64_t)delta[i], &sum)) sum = INT64_MAX;
        v[i] = (uint64_t)sum;
    }
    if ((rc = gt_tx_stmt(tx, found ? t->update_sql : t->insert_sql, &q, err))) return rc;
    assert(sqlite3_bind_parameter_count(q) == 2 + t->n);
    bind_key2(q, key);
    for (int i = 0; i < t->n; i++) sqlite3_bind_int64(q, 3 + i, (int64_t)v[i]);
    s = sqlite3_step(q);
    /* the message first: handing the statement back resets its error */
    if (s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "writing %s: %s", t->what, sqlite3_errmsg(tx->db));
    gt_tx_stmt_done(tx, q);
    if (rc) return rc;
    if (found) counters_row(t, key, old, mk_digest_row(c, -1));
    counters_row(t, key, v, mk_digest_row(c, 1));
    return 0;
}

int mk_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, gt_err *err) {
    if (sqlite3_prepare_v2(db, sql, -1, q, NULL) != SQLITE_OK) {
        *q = NULL;
        return gt_err_set(err, GT_EDB, "market store: %s", sqlite3_errmsg(db));
    }
    return 0;
}
