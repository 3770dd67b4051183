/* state.c: cached accounts and locks, the state primitives, undo and flush.
 *
 * Rows are read from SQLite once and then live in two hash maps (base/map.h)
 * for the life of the ledger (an account is ~64 bytes: millions fit).
 * Changes stay in the maps until the block ends, when gt_state_flush writes
 * the dirty rows in one go: a block touches each hot account once in SQL no
 * matter how many of its actions touched it. */
#include "ledger/state.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/amount.h"
#include "base/map.h"
#include "base/vec.h"
#include "crypto/addr.h"
#include "ledger/digest.h"
#include "ledger/invariants.h"
#include "ledger/row.h"
#include "ledger/state_impl.h"
#include "ledger/stmt_cache.h"

const char gt_state_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS accounts(addr BLOB PRIMARY KEY, balance INTEGER NOT NULL,"
    " staked INTEGER NOT NULL, locked INTEGER NOT NULL, unbonding INTEGER NOT NULL,"
    " nonce INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS locks(id BLOB PRIMARY KEY, owner BLOB NOT NULL,"
    " amount INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS unbonding(seq INTEGER PRIMARY KEY, addr BLOB NOT NULL,"
    " amount INTEGER NOT NULL, release_height INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS unbonding_release ON unbonding(release_height);";


gt_state *gt_state_new(void) {
    gt_state *s = gt_calloc(1, sizeof *s);
    if (!s) return NULL;
    gt_stmt_cache_init(&s->stmts);
    gt_map_init(&s->accts, sizeof(gt_addr), sizeof(acct_slot));
    gt_map_init(&s->locks, 32, sizeof(lock_slot));
    gt_map_init(&s->acct_h, sizeof(gt_addr), sizeof(acct_h));
    gt_digest_memo_init(&s->module_h);
    gt_vec_init(&s->dirty_accts, sizeof(gt_addr));
    gt_vec_init(&s->dirty_locks, 32);
    gt_vec_init(&s->undo, sizeof(undo_rec));
    gt_vec_init(&s->commit, 1);
    gt_vec_init(&s->unb, sizeof(unbond_rec));
    return s;
}

static void finalize_stmts(gt_state *s) {
    gt_stmt_cache_clear(&s->stmts);
    sqlite3_finalize(s->sel_acct);
    sqlite3_finalize(s->put_acct);
    sqlite3_finalize(s->upd_acct);
    sqlite3_finalize(s->sel_lock);
    sqlite3_finalize(s->put_lock);
    sqlite3_finalize(s->ins_unb);
    s->sel_acct = s->put_acct = s->upd_acct = s->sel_lock = s->put_lock = s->ins_unb = NULL;
    s->db = NULL;
}

void gt_state_free(gt_state *s) {
    if (!s) return;
    finalize_stmts(s);
    gt_map_free(&s->accts);
    gt_map_free(&s->locks);
    gt_map_free(&s->acct_h);
    gt_map_free(&s->module_h);
    gt_vec_free(&s->dirty_accts);
    gt_vec_free(&s->dirty_locks);
    gt_vec_free(&s->undo);
    gt_vec_free(&s->commit);
    gt_vec_free(&s->unb);
    gt_free(s);
}

void gt_state_reset(gt_state *s) {
    gt_map_free(&s->accts);
    gt_map_free(&s->locks);
    s->dirty_accts.n = s->dirty_locks.n = s->undo.n = 0;
    s->mark_dirty_accts = s->mark_dirty_locks = 0;
    s->supply_dirty = 0;
    s->commit.n = s->commit_mark = s->unb.n = s->mark_unb = 0;
    s->commit_oom = 0;
    s->digest = s->digest_at_block; /* the block's changes were not committed */
}

void gt_state_block_start(gt_state *s) {
    s->digest_at_block = s->digest;
    s->commit.n = s->commit_mark = s->unb.n = s->mark_unb = 0;
    s->commit_oom = 0;
}

void gt_state_set_digest(gt_state *s, const gt_digest_acc *acc) { s->digest = s->digest_at_block = *acc; }

gt_digest_acc *gt_state_digest_acc(gt_state *s) { return &s->digest; }

gt_map *gt_state_module_memo(gt_state *s) { return &s->module_h; }

void gt_state_digest(gt_state *s, uint8_t out[32]) { gt_digest_final(&s->digest, s->supply, out); }

uint64_t gt_state_supply(gt_state *s) { return s->supply; }
void gt_state_set_supply(gt_state *s, uint64_t supply) { s->supply = s->supply_at_mark = supply; }

/* Points the state at db; statements prepared for another connection go. */
static void use_db(gt_state *s, sqlite3 *db) {
    if (s->db == db) return;
    finalize_stmts(s);
    s->db = db;
}

/* Prepares the account and lock statements against db (once per db). */
static int bind_db(gt_state *s, sqlite3 *db, gt_err *err) {
    use_db(s, db);
    if (s->sel_acct) return 0;
    if (sqlite3_prepare_v2(db, "SELECT balance,staked,locked,unbonding,nonce FROM accounts WHERE addr=?", -1, &s->sel_acct, NULL) ||
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO accounts VALUES(?,?,?,?,?,?)", -1, &s->put_acct, NULL) ||
        sqlite3_prepare_v2(db, "UPDATE OR FAIL accounts SET balance=?2,staked=?3,locked=?4,unbonding=?5,nonce=?6"
                               " WHERE addr=?1", -1, &s->upd_acct, NULL) ||
        sqlite3_prepare_v2(db, "SELECT owner,amount FROM locks WHERE id=?", -1, &s->sel_lock, NULL) ||
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO locks VALUES(?,?,?)", -1, &s->put_lock, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO unbonding(addr,amount,release_height) VALUES(?,?,?)", -1, &s->ins_unb, NULL)) {
        s->last_code = gt_err_set(err, GT_EDB, "state: %s", sqlite3_errmsg(db));
        finalize_stmts(s);
        s->db = db;
        return GT_EDB;
    }
    return 0;
}

/* Finds (loading from the db if needed) the cached slot of an account.
 * Finding a cached row never moves slots; loading a new one may (callers
 * that hold a slot across a load look it up again). */
static acct_slot *acct_slot_get(gt_tx *tx, const gt_addr *a, gt_err *err) {
    gt_state *s = tx->state;
    if (bind_db(s, tx->db, err)) return NULL;
    acct_slot *slot = gt_map_get(&s->accts, a->b);
    if (slot) return slot;
    acct_slot row = {0};
    row.a.addr = *a;
    sqlite3_stmt *q = s->sel_acct;
    sqlite3_bind_blob(q, 1, a->b, 20, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (gt_row_amount(q, 0, &row.a.balance, "accounts", err) ||
            gt_row_amount(q, 1, &row.a.staked, "accounts", err) ||
            gt_row_amount(q, 2, &row.a.locked, "accounts", err) ||
            gt_row_amount(q, 3, &row.a.unbonding, "accounts", err) ||
            gt_row_amount(q, 4, &row.a.nonce, "accounts", err)) {
            sqlite3_reset(q);
            s->last_code = GT_EDB;
            return NULL;
        }
        row.in_db = 1;
    } else if (rc != SQLITE_DONE) {
        sqlite3_reset(q);
        s->last_code = gt_err_set(err, GT_EDB, "reading account: %s", sqlite3_errmsg(s->db));
        return NULL;
    }
    row.base = row.a;
    sqlite3_reset(q);
    void *v;
    if (gt_map_put(&s->accts, a->b, &v, NULL)) {
        s->last_code = gt_err_set(err, GT_ENOMEM, "out of memory (accounts)");
        return NULL;
    }
    slot = v;
    *slot = row;
    assert(gt_addr_eq(&slot->a.addr, a) && !slot->dirty);
    return slot;
}

static lock_slot *lock_slot_get(gt_tx *tx, const uint8_t id[32], gt_err *err) {
    gt_state *s = tx->state;
    if (bind_db(s, tx->db, err)) return NULL;
    lock_slot *slot = gt_map_get(&s->locks, id); /* as acct_slot_get */
    if (slot) return slot;
    lock_slot row = {0};
    memcpy(row.l.id, id, 32);
    sqlite3_stmt *q = s->sel_lock;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (gt_row_blob(q, 0, row.l.owner.b, 20, "locks", err) || gt_row_amount(q, 1, &row.l.amount, "locks", err)) {
            sqlite3_reset(q);
            s->last_code = GT_EDB;
            return NULL;
        }
        row.exists = row.in_db = 1;
    } else if (rc != SQLITE_DONE) {
        sqlite3_reset(q);
        s->last_code = gt_err_set(err, GT_EDB, "reading lock: %s", sqlite3_errmsg(s->db));
        return NULL;
    }
    row.base = row.l;
    sqlite3_reset(q);
    void *v;
    if (gt_map_put(&s->locks, id, &v, NULL)) {
        s->last_code = gt_err_set(err, GT_ENOMEM, "out of memory (locks)");
        return NULL;
    }
    slot = v;
    *slot = row;
    assert(!memcmp(slot->l.id, id, 32) && !slot->dirty);
    return slot;
}

/* Records the old row and marks it dirty: call before changing a slot. */
static int touch_acct(gt_state *s, acct_slot *slot) {
    undo_rec u = {0};
    u.is_lock = 0;
    u.was_dirty = slot->dirty;
    u.acct = *slot;
    if (gt_vec_push(&s->undo, &u)) return GT_ENOMEM;
    if (!slot->dirty) {
        if (gt_vec_push(&s->dirty_accts, &slot->a.addr)) return GT_ENOMEM;
        slot->dirty = 1;
    }
    return 0;
}

static int touch_lock(gt_state *s, lock_slot *slot) {
    undo_rec u = {0};
    u.is_lock = 1;
    u.was_dirty = slot->dirty;
    u.lock = *slot;
    if (gt_vec_push(&s->undo, &u)) return GT_ENOMEM;
    if (!slot->dirty) {
        if (gt_vec_push(&s->dirty_locks, slot->l.id)) return GT_ENOMEM;
        slot->dirty = 1;
    }
    return 0;
}

void gt_tx_begin_action(gt_tx *tx) {
    gt_state *s = tx->state;
    /* A statement a refused rule did not hand back is reset here, so no
     * read stays open across actions. */
    gt_stmt_cache_release_all(&s->stmts);
    assert(s->commit_mark <= s->commit.n && s->mark_unb <= s->unb.n);
    s->undo.n = 0;
    s->mark_dirty_accts = s->dirty_accts.n;
    s->mark_dirty_locks = s->dirty_locks.n;
    s->supply_at_mark = s->supply;
    s->commit_mark = s->commit.n;
    s->mark_unb = s->unb.n;
    s->digest_at_action = s->digest;
}

void gt_tx_rollback_action(gt_tx *tx) {
    gt_state *s = tx->state;
    s->digest = s->digest_at_action; /* the module rows it wrote are rolled back too */
    gt_err err;
    /* Undo newest first so the oldest record of a row wins. */
    for (size_t i = s->undo.n; i-- > 0;) {
        undo_rec *u = gt_vec_at(&s->undo, i);
        if (u->is_lock) {
            lock_slot *slot = lock_slot_get(tx, u->lock.l.id, &err);
            assert(slot); /* it is cached: no db access, cannot fail */
            *slot = u->lock;
            slot->dirty = u->was_dirty;
        } else {
            acct_slot *slot = acct_slot_get(tx, &u->acct.a.addr, &err);
            assert(slot);
            *slot = u->acct;
            slot->dirty = u->was_dirty;
        }
    }
    s->undo.n = 0;
    gt_vec_truncate(&s->dirty_accts, s->mark_dirty_accts);
    gt_vec_truncate(&s->dirty_locks, s->mark_dirty_locks);
    s->supply = s->supply_at_mark;
    gt_vec_truncate(&s->commit, s->commit_mark); /* a refused action leaves no trace in the state root */
    gt_vec_truncate(&s->unb, s->mark_unb);
}

int gt_state_account(gt_tx *tx, const gt_addr *a, gt_account *out, gt_err *err) {
    acct_slot *slot = acct_slot_get(tx, a, err);
    if (!slot) return tx->state->last_code;
    *out = slot->a;
    return 0;
}

int gt_state_lock_get(gt_tx *tx, const uint8_t id[32], gt_lock *out, gt_err *err) {
    lock_slot *slot = lock_slot_get(tx, id, err);
    if (!slot) return tx->state->last_code;
    if (!slot->exists) return gt_err_set(err, GT_ENOTFOUND, "no such escrow lock");
    *out = slot->l;
    return 0;
}

static const char *addr_str(const gt_addr *a, char buf[43]) {
    gt_addr_to_str(a, buf);
    return buf;
}

#define GET_ACCT(var, addr)                                   \
    acct_slot *var = acct_slot_get(tx, (addr), err);          \
    if (!var) return tx->state->last_code

int gt_state_use_nonce(gt_tx *tx, const gt_addr *a, uint64_t nonce, gt_err *err) {
    GET_ACCT(slot, a);
    char s[43];
    if (nonce < slot->a.nonce)
        return gt_err_set(err, GT_ENONCE, "nonce %llu already used by %s; next is %llu",
                          (unsigned long long)nonce, addr_str(a, s),
                          (unsigned long long)slot->a.nonce);
    if (nonce > slot->a.nonce)
        return gt_err_set(err, GT_ENONCE, "nonce %llu skips ahead for %s; next is %llu",
                          (unsigned long long)nonce, addr_str(a, s),
                          (unsigned long long)slot->a.nonce);
    if (touch_acct(tx->state, slot)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    slot->a.nonce++;
    return 0;
}

/* The message for a balance that does not cover an amount. */
static int no_funds(gt_err *err, const gt_addr *a, const char *what, uint64_t have, uint64_t need) {
    char s[43], h[GT_AMOUNT_STR_MAX], n[GT_AMOUNT_STR_MAX];
    return gt_err_set(err, GT_EFUNDS, "insufficient %s: %s has %s, needs %s", what, addr_str(a, s),
                      gt_amount_format(have, h), gt_amount_format(need, n));
}

int gt_state_transfer(gt_tx *tx, const gt_addr *from, const gt_addr *to, uint64_t amount, gt_err *err) {
    GET_ACCT(src, from);
    if (src->a.balance < amount) return no_funds(err, from, "balance", src->a.balance, amount);
    if (gt_addr_eq(from, to)) return 0; /* a self-transfer moves nothing */
    /* Load the destination before touching the source: loading may grow the
     * map and move slots. */
    GET_ACCT(dst, to);
    src = acct_slot_get(tx, from, err);
    assert(src);
    /* Supply <= INT64_MAX bounds every balance, so this add cannot overflow. */
    assert(dst->a.balance + amount >= dst->a.balance);
    if (touch_acct(tx->state, src) || touch_acct(tx->state, dst))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    src->a.balance -= amount;
    dst->a.balance += amount;
    return 0;
}

int gt_state_mint(gt_tx *tx, const gt_addr *to, uint64_t amount, gt_err *err) {
    gt_state *s = tx->state;
    uint64_t supply;
    if (gt_add_u64(s->supply, amount, &supply) || supply > GT_SUPPLY_MAX)
        return gt_err_set(err, GT_EOVERFLOW, "minting this would exceed the maximum supply");
    GET_ACCT(dst, to);
    if (touch_acct(s, dst)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    dst->a.balance += amount;
    s->supply = supply;
    s->supply_dirty = 1;
    assert(s->supply <= GT_SUPPLY_MAX && dst->a.balance <= s->supply);
    return 0;
}

int gt_state_stake(gt_tx *tx, const gt_addr *a, uint64_t amount, gt_err *err) {
    GET_ACCT(slot, a);
    if (slot->a.balance < amount) return no_funds(err, a, "balance", slot->a.balance, amount);
    if (touch_acct(tx->state, slot)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    slot->a.balance -= amount;
    slot->a.staked += amount;
    return 0;
}

int gt_state_unstake(gt_tx *tx, const gt_addr *a, uint64_t amount, gt_err *err) {
    gt_state *s = tx->state;
    GET_ACCT(slot, a);
    if (slot->a.staked < amount) return no_funds(err, a, "stake", slot->a.staked, amount);
    uint64_t release;
    if (gt_add_u64(tx->height, tx->unbonding_blocks, &release) || release > (uint64_t)INT64_MAX)
        return gt_err_set(err, GT_EOVERFLOW, "unbonding height overflows");
    /* The entry is written at flush (gt_state_flush), not here: a rule that
     * fails after this call must leave no row behind, savepoint or not. */
    unbond_rec u = {.addr = *a, .amount = amount, .release_height = release};
    if (gt_vec_push(&s->unb, &u) || touch_acct(s, slot))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    slot->a.staked -= amount;
    slot->a.unbonding += amount;
    return 0;
}

int gt_state_slash_stake(gt_tx *tx, const gt_addr *a, const gt_addr *to, uint64_t amount, gt_err *err) {
    gt_state *s = tx->state;
    GET_ACCT(src, a);
    if (src->a.staked < amount) return no_funds(err, a, "stake", src->a.staked, amount);
    acct_slot *dst = NULL;
    if (to) {
        dst = acct_slot_get(tx, to, err);
        if (!dst) return tx->state->last_code;
        src = acct_slot_get(tx, a, err);
        assert(src);
    }
    if (touch_acct(s, src) || (dst && dst != src && touch_acct(s, dst)))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    src->a.staked -= amount;
    if (dst) {
        dst->a.balance += amount;
    } else {
        assert(s->supply >= amount); /* the stake is part of supply */
        s->supply -= amount;
        s->supply_dirty = 1;
    }
    return 0;
}

int gt_state_lock(gt_tx *tx, const gt_addr *owner, const uint8_t id[32], uint64_t amount, gt_err *err) {
    gt_state *s = tx->state;
    lock_slot *l = lock_slot_get(tx, id, err);
    if (!l) return tx->state->last_code;
    if (l->exists && !gt_addr_eq(&l->l.owner, owner))
        return gt_err_set(err, GT_EPERM, "escrow lock belongs to another account");
    GET_ACCT(src, owner);
    l = lock_slot_get(tx, id, err); /* the account load may have moved nothing, but be exact */
    assert(l);
    if (src->a.balance < amount) return no_funds(err, owner, "balance", src->a.balance, amount);
    if (touch_acct(s, src) || touch_lock(s, l)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    src->a.balance -= amount;
    src->a.locked += amount;
    l->l.owner = *owner;
    l->l.amount += amount;
    l->exists = 1;
    return 0;
}

/* Moves amount out of a lock: to `to`'s balance, or burned when to is NULL. */
static int unlock_to(gt_tx *tx, const uint8_t id[32], const gt_addr *to, uint64_t amount, gt_err *err) {
    gt_state *s = tx->state;
    lock_slot *l = lock_slot_get(tx, id, err);
    if (!l) return tx->state->last_code;
    if (!l->exists) return gt_err_set(err, GT_ENOTFOUND, "no such escrow lock");
    if (l->l.amount < amount) {
        char h[GT_AMOUNT_STR_MAX], n[GT_AMOUNT_STR_MAX];
        return gt_err_set(err, GT_EFUNDS, "escrow lock holds %s, cannot release %s",
                          gt_amount_format(l->l.amount, h), gt_amount_format(amount, n));
    }
    gt_addr owner_addr = l->l.owner;
    GET_ACCT(owner, &owner_addr);
    acct_slot *dst = NULL;
    if (to) {
        dst = acct_slot_get(tx, to, err);
        if (!dst) return tx->state->last_code;
        owner = acct_slot_get(tx, &owner_addr, err);
    }
    l = lock_slot_get(tx, id, err);
    assert(owner && l);
    assert(owner->a.locked >= amount);
    if (touch_lock(s, l) || touch_acct(s, owner) || (dst && dst != owner && touch_acct(s, dst)))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    l->l.amount -= amount;
    owner->a.locked -= amount;
    if (dst) {
        dst->a.balance += amount;
    } else {
        assert(s->supply >= amount); /* the lock is part of supply */
        s->supply -= amount;
        s->supply_dirty = 1;
    }
    return 0;
}

int gt_state_release(gt_tx *tx, const uint8_t id[32], const gt_addr *to, uint64_t amount, gt_err *err) {
    assert(to);
    return unlock_to(tx, id, to, amount, err);
}

int gt_state_slash(gt_tx *tx, const uint8_t id[32], const gt_addr *to, uint64_t amount, gt_err *err) {
    return unlock_to(tx, id, to, amount, err);
}

int gt_state_mature_unbonding(gt_tx *tx, gt_err *err) {
    sqlite3_stmt *q;
    /* Kept prepared (the statement cache): this runs at every block, and a
     * block is often one action. */
    int prc = gt_tx_stmt(tx,
                         "SELECT seq,addr,amount,release_height FROM unbonding WHERE release_height<=? ORDER BY seq",
                         &q, err);
    if (prc) return prc;
    assert(q);
    sqlite3_bind_int64(q, 1, (int64_t)tx->height);
    int rc, n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        gt_addr a;
        uint64_t seq, amount, release;
        /* A damaged entry fails the block: skipping it would keep someone's
         * unbonded stake from them for good. */
        if (gt_row_amount(q, 0, &seq, "unbonding", err) || gt_row_blob(q, 1, a.b, 20, "unbonding", err) ||
            gt_row_amount(q, 2, &amount, "unbonding", err) || gt_row_amount(q, 3, &release, "unbonding", err)) {
            gt_tx_stmt_done(tx, q);
            return GT_EDB;
        }
        /* The row leaves the store (below): out of the state digest too. */
        gt_digest_unbonding(&tx->state->digest, seq, &a, amount, release, -1);
        acct_slot *slot = acct_slot_get(tx, &a, err);
        if (!slot) { gt_tx_stmt_done(tx, q); return tx->state->last_code; }
        if (slot->a.unbonding < amount) { /* the entries sum to the account's unbonding */
            gt_tx_stmt_done(tx, q);
            return gt_err_set(err, GT_EDB, "damaged row in table unbonding: entry %llu releases more than its "
                              "account is unbonding", (unsigned long long)seq);
        }
        if (touch_acct(tx->state, slot)) { gt_tx_stmt_done(tx, q); return gt_err_set(err, GT_ENOMEM, "out of memory"); }
        slot->a.unbonding -= amount;
        slot->a.balance += amount;
        n++;
    }
    gt_tx_stmt_done(tx, q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "unbonding: %s", sqlite3_errmsg(tx->db));
    if (n) {
        char sql[96];
        snprintf(sql, sizeof sql, "DELETE FROM unbonding WHERE release_height<=%lld", (long long)tx->height);
        if (sqlite3_exec(tx->db, sql, NULL, NULL, NULL))
            return gt_err_set(err, GT_EDB, "unbonding: %s", sqlite3_errmsg(tx->db));
    }
    tx->state->undo.n = 0; /* maturing is not part of any action */
    return n;
}

int gt_tx_stmt(gt_tx *tx, const char *sql, sqlite3_stmt **out, gt_err *err) {
    gt_state *s = tx->state;
    *out = NULL;
    if (!s) { /* a reader's bare tx (db only): nothing to cache in */
        if (sqlite3_prepare_v2(tx->db, sql, -1, out, NULL) != SQLITE_OK)
            return gt_err_set(err, GT_EDB, "store: %s", sqlite3_errmsg(tx->db));
        return 0;
    }
    use_db(s, tx->db);
    return gt_stmt_cache_get(&s->stmts, tx->db, sql, out, err);
}

int gt_tx_stmt_find_key(gt_tx *tx, uint64_t key, sqlite3_stmt **out) {
    gt_state *s = tx->state;
    *out = NULL;
    if (!s || s->db != tx->db) return 0; /* gt_tx_stmt_key moves the cache to tx->db */
    return gt_stmt_cache_find_key(&s->stmts, key, out);
}

int gt_tx_stmt_key(gt_tx *tx, uint64_t key, const char *sql, sqlite3_stmt **out, gt_err *err) {
    gt_state *s = tx->state;
    if (!s) return gt_tx_stmt(tx, sql, out, err);
    use_db(s, tx->db);
    return gt_stmt_cache_get_key(&s->stmts, tx->db, key, sql, out, err);
}

void gt_tx_stmt_done(gt_tx *tx, sqlite3_stmt *q) {
    gt_stmt_cache_done(tx->state ? &tx->state->stmts : NULL, q);
}

int gt_tx_stmt_checked(gt_tx *tx, sqlite3_stmt *q) {
    return tx->state ? gt_stmt_cache_checked(&tx->state->stmts, q) : 0;
}

void gt_tx_stmt_set_checked(gt_tx *tx, sqlite3_stmt *q) {
    if (tx->state) gt_stmt_cache_set_checked(&tx->state->stmts, q);
}

void gt_tx_commit(gt_tx *tx, const void *data, size_t len) {
    gt_state *s = tx->state;
    if (!s) { gt_keccak_update(&tx->diff, data, len); return; }
    /* Held until the block is flushed, so that a refused action's bytes can
     * be dropped (gt_tx_rollback_action). If memory runs out the bytes go to
     * the hash at once: the root is still deterministic, and an action that
     * is later refused then fails the block (checked in gt_state_flush). */
    if (gt_vec_append(&s->commit, data, len)) s->commit_oom = 1;
}

static int cmp_addr(const void *a, const void *b) { return memcmp(a, b, 20); }
static int cmp_b32(const void *a, const void *b) { return memcmp(a, b, 32); }

/* Big-endian u64 into 8 bytes (the commitment's byte order is fixed). */
static void put_be64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; }
}

/* Writes the block's unbonding entries and feeds them (big-endian, in the
 * order their actions ran) to the commitment and the digest. */
static int flush_unbonding(gt_tx *tx, gt_err *err) {
    gt_state *s = tx->state;
    for (size_t i = 0; i < s->unb.n; i++) {
        const unbond_rec *u = gt_vec_at(&s->unb, i);
        sqlite3_stmt *q = s->ins_unb;
        sqlite3_bind_blob(q, 1, u->addr.b, 20, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, (int64_t)u->amount);
        sqlite3_bind_int64(q, 3, (int64_t)u->release_height);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing unbonding: %s", sqlite3_errmsg(s->db));
        uint64_t seq = (uint64_t)sqlite3_last_insert_rowid(s->db);
        gt_digest_unbonding(&s->digest, seq, &u->addr, u->amount, u->release_height, 1);
        uint8_t rec[20 + 16];
        memcpy(rec, u->addr.b, 20);
        put_be64(rec + 20, u->amount);
        put_be64(rec + 28, u->release_height);
        gt_keccak_update(&tx->diff, rec, sizeof rec);
    }
    s->unb.n = s->mark_unb = 0;
    return 0;
}

/* Are two account rows the same, field by field (a struct compare would
 * read its padding)? */
static int acct_eq(const gt_account *x, const gt_account *y) {
    return gt_addr_eq(&x->addr, &y->addr) && x->balance == y->balance && x->staked == y->staked &&
           x->locked == y->locked && x->unbonding == y->unbonding && x->nonce == y->nonce;
}

/* Replaces account row `old` (NULL: there was none) by `now`, whose H the
 * caller computed (four at a time), in the state digest, taking old's H
 * from the memo when it holds that very row, and keeps now's H there for
 * the next flush. */
static void digest_account_swap(gt_state *s, const gt_account *old, const gt_account *now,
                                const uint64_t h[GT_DIGEST_WORDS]) {
    assert(!old || gt_addr_eq(&old->addr, &now->addr));
    acct_h *m = gt_map_get(&s->acct_h, now->addr.b);
    if (old && m && acct_eq(&m->row, old)) gt_digest_add_h(&s->digest, m->h, -1);
    else if (old) gt_digest_account(&s->digest, old, -1);
    gt_digest_add_h(&s->digest, h, 1);
    if (!m) {
        if (s->acct_h.n >= GT_STATE_HASH_MEMO_MAX) gt_map_clear(&s->acct_h);
        void *v;
        if (gt_map_put(&s->acct_h, now->addr.b, &v, NULL)) return; /* out of memory: no memo, same digest */
        m = v;
    }
    m->row = *now;
    memcpy(m->h, h, sizeof m->h);
}

/* Writes one dirty account (its H given) to the store, the commitment and
 * the digest, and marks it clean. */
static int flush_account(gt_tx *tx, acct_slot *slot, const uint64_t h[GT_DIGEST_WORDS], gt_err *err) {
    gt_state *s = tx->state;
    assert(slot && slot->dirty);
    gt_account *a = &slot->a;
    /* A row already stored is updated in place: UPDATE OR FAIL writes one
     * B-tree cell, where INSERT OR REPLACE deletes and reinserts it (14 %
     * fewer instructions in a transfer block's flush, callgrind), and FAIL
     * needs no statement journal (the values are never NULL). */
    sqlite3_stmt *q = slot->in_db ? s->upd_acct : s->put_acct;
    sqlite3_bind_blob(q, 1, a->addr.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)a->balance);
    sqlite3_bind_int64(q, 3, (int64_t)a->staked);
    sqlite3_bind_int64(q, 4, (int64_t)a->locked);
    sqlite3_bind_int64(q, 5, (int64_t)a->unbonding);
    sqlite3_bind_int64(q, 6, (int64_t)a->nonce);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE) gt_err_set(err, GT_EDB, "writing account: %s", sqlite3_errmsg(s->db));
    else if (slot->in_db && sqlite3_changes(s->db) != 1) { /* the row read earlier is gone: the store was changed */
        gt_err_set(err, GT_EDB, "writing account: its row is missing from the store");
        rc = SQLITE_ERROR;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) return GT_EDB;
    uint8_t rec[20 + 5 * 8];
    memcpy(rec, a->addr.b, 20);
    put_be64(rec + 20, a->balance);
    put_be64(rec + 28, a->staked);
    put_be64(rec + 36, a->locked);
    put_be64(rec + 44, a->unbonding);
    put_be64(rec + 52, a->nonce);
    gt_keccak_update(&tx->diff, rec, sizeof rec);
    digest_account_swap(s, slot->in_db ? &slot->base : NULL, a, h);
    slot->base = *a;
    slot->in_db = 1;
    slot->dirty = 0;
    return 0;
}

/* Writes every dirty account, in address order, their H's four at a time
 * (a block's largest hashing cost: two permutations an account). Dirty
 * accounts are cached, so looking them up loads nothing and moves no slot. */
static int flush_accounts(gt_tx *tx, gt_err *err) {
    gt_state *s = tx->state;
    size_t n = s->dirty_accts.n;
    if (n) qsort(s->dirty_accts.data, n, sizeof(gt_addr), cmp_addr);
    for (size_t i = 0; i < n; i += 4) {
        acct_slot *slot[4];
        const gt_account *rows[4];
        uint64_t h[4][GT_DIGEST_WORDS];
        uint64_t *hp[4] = {h[0], h[1], h[2], h[3]};
        for (size_t k = 0; k < 4; k++) { /* past the end: a copy, its H dropped */
            slot[k] = acct_slot_get(tx, gt_vec_at(&s->dirty_accts, i + k < n ? i + k : i), err);
            assert(slot[k] && slot[k]->dirty);
            rows[k] = &slot[k]->a;
        }
        if (i + 1 == n) gt_digest_account_h(rows[0], h[0]); /* a lone row: four abreast would cost more */
        else gt_digest_account_h_x4(rows, hp);
        for (size_t k = 0; k < 4 && i + k < n; k++) {
            int rc = flush_account(tx, slot[k], h[k], err);
            if (rc) return rc;
        }
    }
    return 0;
}

int gt_state_flush(gt_tx *tx, gt_err *err) {
    gt_state *s = tx->state;
    if (bind_db(s, tx->db, err)) return GT_EDB;
    if (s->commit_oom) return gt_err_set(err, GT_ENOMEM, "out of memory (block commitment)");
    gt_keccak_update(&tx->diff, s->commit.data, s->commit.n);
    s->commit.n = s->commit_mark = 0;
    int frc = flush_unbonding(tx, err);
    if (!frc) frc = flush_accounts(tx, err);
    if (frc) return frc;
    if (s->dirty_locks.n) qsort(s->dirty_locks.data, s->dirty_locks.n, 32, cmp_b32);
    for (size_t i = 0; i < s->dirty_locks.n; i++) {
        lock_slot *slot = lock_slot_get(tx, gt_vec_at(&s->dirty_locks, i), err);
        assert(slot && slot->dirty && slot->exists);
        sqlite3_stmt *q = s->put_lock;
        sqlite3_bind_blob(q, 1, slot->l.id, 32, SQLITE_STATIC);
        sqlite3_bind_blob(q, 2, slot->l.owner.b, 20, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, (int64_t)slot->l.amount);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing lock: %s", sqlite3_errmsg(s->db));
        uint8_t rec[32 + 20 + 8];
        memcpy(rec, slot->l.id, 32);
        memcpy(rec + 32, slot->l.owner.b, 20);
        put_be64(rec + 52, slot->l.amount);
        gt_keccak_update(&tx->diff, rec, sizeof rec);
        if (slot->in_db) gt_digest_lock(&s->digest, &slot->base, -1);
        gt_digest_lock(&s->digest, &slot->l, 1);
        slot->base = slot->l;
        slot->in_db = 1;
        slot->dirty = 0;
    }
    if (s->supply_dirty) {
        sqlite3_stmt *q; /* kept: most blocks change supply (fees), and a block may be one action */
        if (gt_tx_stmt(tx, "INSERT OR REPLACE INTO meta VALUES('supply',?)", &q, err))
            return gt_err_wrap(err, "writing supply");
        sqlite3_bind_int64(q, 1, (int64_t)s->supply);
        int rc = sqlite3_step(q);
        /* the message first: handing the statement back resets its error */
        if (rc != SQLITE_DONE) gt_err_set(err, GT_EDB, "writing supply: %s", sqlite3_errmsg(s->db));
        gt_tx_stmt_done(tx, q);
        if (rc != SQLITE_DONE) return GT_EDB;
    }
    uint8_t sup[8];
    put_be64(sup, s->supply);
    gt_keccak_update(&tx->diff, sup, 8);
    s->supply_dirty = 0;
    s->dirty_accts.n = s->dirty_locks.n = s->undo.n = 0;
    s->mark_dirty_accts = s->mark_dirty_locks = 0;
    s->supply_at_mark = s->supply;
    return 0;
}

void gt_state_corrupt_for_test(gt_tx *tx, const gt_addr *a, int64_t d_balance) {
    acct_slot *slot = acct_slot_get(tx, a, NULL);
    assert(slot);
    if (touch_acct(tx->state, slot)) abort();
    slot->a.balance = (uint64_t)((int64_t)slot->a.balance + d_balance);
}
