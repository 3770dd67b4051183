/* state_impl.h: the state's private types, shared by state.c (the cached
 * rows, the primitives, undo and flush) and state_check.c (the per-action
 * invariants): the cached slots, the undo records, the row-hash memo and
 * struct gt_state itself. Nothing outside src/ledger includes it. */
#ifndef GT_LEDGER_STATE_IMPL_H
#define GT_LEDGER_STATE_IMPL_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/map.h"
#include "base/vec.h"
#include "ledger/digest.h"
#include "ledger/state.h"
#include "ledger/stmt_cache.h"

/* base is the row as the store holds it (in_db: it holds one at all): the
 * state digest subtracts it and adds the new row when the block is flushed. */
typedef struct acct_slot {
    gt_account a, base;
    uint8_t dirty, in_db;
} acct_slot;

typedef struct lock_slot {
    gt_lock l, base;
    uint8_t dirty, exists, in_db;
} lock_slot;

/* An unbonding entry made by an action of the open block: written to the
 * store when the block is flushed, so a refused action leaves no row. */
typedef struct unbond_rec {
    gt_addr addr;
    uint64_t amount, release_height;
} unbond_rec;

/* The memo of account row hashes: H (digest.h) of the row an account's
 * entry was last folded in with. Flushing an account takes its old row out
 * of the state digest, and that row is almost always the one the previous
 * flush put in, so its H comes from here instead of from two more Keccak
 * permutations. An entry is used only when its row equals the row being
 * taken out, field by field: the memo can be stale or dropped at any time
 * and the digest is the same. Bounded: at GT_STATE_HASH_MEMO_MAX entries it
 * starts over empty. */
#define GT_STATE_HASH_MEMO_MAX 16384
typedef struct acct_h {
    gt_account row;
    uint64_t h[GT_DIGEST_WORDS];
} acct_h;

/* One undo record: the whole previous row (rows are small). */
typedef struct undo_rec {
    uint8_t is_lock, was_dirty;
    acct_slot acct;
    lock_slot lock;
} undo_rec;

/* Amounts are stored as SQLite's signed 64-bit integers: the supply bound
 * keeps every one of them non-negative there. */
_Static_assert(GT_SUPPLY_MAX <= (uint64_t)INT64_MAX, "amounts fit SQLite's INTEGER");
_Static_assert(sizeof(gt_addr) == 20, "accounts are keyed by 20-byte addresses");

struct gt_state {
    gt_stmt_cache stmts; /* the modules' statements (gt_tx_stmt) */
    gt_map accts;       /* address (20 bytes) -> acct_slot */
    gt_map locks;       /* lock id (32 bytes) -> lock_slot */
    gt_map acct_h;      /* address -> acct_h: the memo of row hashes (above) */
    gt_map module_h;    /* the memo of module rows' H (gt_digest_rows_fold) */
    gt_vec dirty_accts; /* gt_addr: accounts changed in this block */
    gt_vec dirty_locks; /* uint8_t[32]: locks changed in this block */
    gt_vec undo;        /* undo_rec: the open action's old rows */
    size_t mark_dirty_accts, mark_dirty_locks; /* dirty list lengths at action start */
    uint64_t supply, supply_at_mark;
    int supply_dirty;
    /* Bytes fed to the block commitment (gt_tx_commit) and unbonding entries
     * of this block; an action's own are dropped when it is refused. */
    gt_vec commit; /* bytes */
    size_t commit_mark;
    gt_vec unb; /* unbond_rec */
    size_t mark_unb;
    gt_digest_acc digest, digest_at_block; /* see digest.h */
    gt_digest_acc digest_at_action; /* module rows fold in as they are written */
    int commit_oom; /* a gt_tx_commit could not be held: the block must fail */
    int last_code; /* code of the last failed row load (err may be NULL) */
    sqlite3 *db;
    sqlite3_stmt *sel_acct, *put_acct, *upd_acct, *sel_lock, *put_lock, *ins_unb;
};

#endif
