/* state.h: the ledger's state and the primitives every rule is built from.
 *
 * Accounts hold four buckets of one token: balance (spendable), staked (bonded
 * for validation), locked (in escrow locks) and unbonding (unstaked, released
 * after a delay in blocks). Supply = sum of all buckets over all accounts;
 * only mint and burn change it. A lock is escrow with a 32-byte id chosen by the
 * rule that opens it (a task's bounty, a worker's stake): funds move from the
 * owner's balance into the lock and leave it by release (to anyone, usually the
 * owner or the worker) or slash (to a named account, or burned).
 *
 * Rules see state only through a gt_tx: the open block's transaction. Every
 * primitive checks before it changes anything and records what it changed, so
 * the ledger can undo a refused action exactly (gt_tx_rollback_action).
 * Integers are checked for overflow; supply is capped at INT64_MAX so every
 * value also fits SQLite's signed integers. */
#ifndef GT_LEDGER_STATE_H
#define GT_LEDGER_STATE_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/keccak.h"
#include "crypto/key.h"
#include "ledger/action.h"

#define GT_SUPPLY_MAX ((uint64_t)INT64_MAX)

typedef struct gt_account {
    gt_addr addr;
    uint64_t balance, staked, locked, unbonding;
    uint64_t nonce; /* next nonce this account must use */
} gt_account;

typedef struct gt_lock {
    uint8_t id[32];
    gt_addr owner;
    uint64_t amount;
} gt_lock;

typedef struct gt_state gt_state; /* caches + dirty sets, owned by the ledger */

/* The windows, in seconds of block time, within which a party must act,
 * fixed per network at genesis (ledger.h: gt_genesis) so that every node and
 * every replay closes them alike; the market reads them from the open block. */
typedef struct gt_windows {
    uint64_t dispute_s; /* a worker may dispute a rejection for this long */
    uint64_t vote_s;    /* a dispute's panel votes for this long */
    uint64_t reveal_s;  /* sealed votes are opened this long after their commit window */
} gt_windows;

/* The open block. Rules read height/time from here: the only clock rules see. */
typedef struct gt_tx {
    gt_state *state;
    sqlite3 *db;          /* the block's SQLite transaction; modules may add rows */
    gt_domain domain;     /* the network's signing domain (chain id, genesis hash) */
    uint64_t height;      /* height of the block being built */
    uint64_t time_s;      /* its timestamp (seconds since the epoch) */
    uint8_t prev_hash[32]; /* hash of the block before it */
    uint8_t seed[32];     /* this block's draw seed (seed.h): the only randomness
                           * rules may use; fixed at genesis, so the block maker
                           * cannot choose it, and revealed only with this block */
    uint64_t unbonding_blocks;
    gt_windows windows;   /* the network's, from genesis */
    gt_addr authority;    /* may mint */
    /* The first height under format 9's rules (ledger.h: gt_genesis), where
     * rules that format made stricter start: 0 (what a zeroed tx says) for a
     * ledger made at format 9. A replay decides older blocks as they were. */
    uint64_t format9_height;
    /* The same for format 10's rules (ledger.h: gt_genesis.format10_height). */
    uint64_t format10_height;
    /* The same for format 11's rule (ledger.h: gt_genesis.format11_height). */
    uint64_t format11_height;
    /* The same for format 12's rule (ledger.h: gt_genesis.format12_height). */
    uint64_t format12_height;
    /* The same for format 13's rule (ledger.h: gt_genesis.format13_height). */
    uint64_t format13_height;
    /* The same for format 14's rule (ledger.h: gt_genesis.format14_height). */
    uint64_t format14_height;
    /* The same for format 15's rule (ledger.h: gt_genesis.format15_height). */
    uint64_t format15_height;
    /* The same for format 16's rules (ledger.h: gt_genesis.format16_height). */
    uint64_t format16_height;
    uint64_t action_seq;  /* sequence number of the action being applied */
    gt_keccak diff;       /* modules feed the bytes of rows they change (see gt_tx_commit) */
} gt_tx;

/* State caches: created empty, filled from the db on demand. */
gt_state *gt_state_new(void);
void gt_state_free(gt_state *s); /* accepts NULL */
/* Forgets all cached rows (after a failed commit, the db is the truth again). */
void gt_state_reset(gt_state *s);
uint64_t gt_state_supply(gt_state *s);
void gt_state_set_supply(gt_state *s, uint64_t supply);

/* Block boundaries for the state digest (digest.h): block_start remembers
 * the digest so that gt_state_reset can return to it when a block is not
 * committed; set_digest installs one computed by a scan (at open);
 * gt_state_digest gives the 32 bytes a block header carries. */
struct gt_digest_acc;
void gt_state_block_start(gt_state *s);
void gt_state_set_digest(gt_state *s, const struct gt_digest_acc *acc);
void gt_state_digest(gt_state *s, uint8_t out[32]);
/* The live sum itself, for the triggers that fold module rows into it
 * (gt_digest_track); it lives as long as s. */
struct gt_digest_acc *gt_state_digest_acc(gt_state *s);

/* Reads an account (all zero when it never appeared). */
int gt_state_account(gt_tx *tx, const gt_addr *a, gt_account *out, gt_err *err);
/* Reads a lock; GT_ENOTFOUND when no such lock exists. */
int gt_state_lock_get(gt_tx *tx, const uint8_t id[32], gt_lock *out, gt_err *err);

/* Primitives. Each either succeeds fully or changes nothing. */
int gt_state_use_nonce(gt_tx *tx, const gt_addr *a, uint64_t nonce, gt_err *err);
int gt_state_transfer(gt_tx *tx, const gt_addr *from, const gt_addr *to, uint64_t amount, gt_err *err);
int gt_state_mint(gt_tx *tx, const gt_addr *to, uint64_t amount, gt_err *err);
int gt_state_stake(gt_tx *tx, const gt_addr *a, uint64_t amount, gt_err *err);
/* Moves amount from staked to unbonding; it returns to balance at block
 * height + tx->unbonding_blocks (see gt_state_mature_unbonding). */
int gt_state_unstake(gt_tx *tx, const gt_addr *a, uint64_t amount, gt_err *err);
/* Takes staked funds as a penalty: to `to` (balance) or burned when to is NULL. */
int gt_state_slash_stake(gt_tx *tx, const gt_addr *a, const gt_addr *to, uint64_t amount, gt_err *err);
/* Escrow: balance -> lock. Opening a lock id that exists adds to it if the owner matches. */
int gt_state_lock(gt_tx *tx, const gt_addr *owner, const uint8_t id[32], uint64_t amount, gt_err *err);
/* lock -> to's balance. */
int gt_state_release(gt_tx *tx, const uint8_t id[32], const gt_addr *to, uint64_t amount, gt_err *err);
/* lock -> to's balance as a penalty, or burned when to is NULL. */
int gt_state_slash(gt_tx *tx, const uint8_t id[32], const gt_addr *to, uint64_t amount, gt_err *err);

/* Credits every unbonding entry due at tx->height back to balances (the
 * ledger calls this at the start of every block). Returns how many matured
 * (>= 0) or a negative GT_E* code. */
int gt_state_mature_unbonding(gt_tx *tx, gt_err *err);

/* Prepared statements for rules that keep tables of their own, cached with
 * the state for the life of its connection: preparing a statement costs more
 * than running most of them. The SQL text is the key. Every statement
 * gt_tx_stmt hands out must go back through gt_tx_stmt_done (which resets
 * it) before the action ends; a statement still out when the same SQL is
 * asked for again (a nested loop) is simply prepared once more, uncached.
 * A tx without state (a reader's, db only) gets uncached statements. */
int gt_tx_stmt(gt_tx *tx, const char *sql, sqlite3_stmt **out, gt_err *err);
void gt_tx_stmt_done(gt_tx *tx, sqlite3_stmt *q);
/* The same, for SQL a rule builds at run time, kept under the rule's own
 * 64-bit key (one key, one text: stmt_cache.h), so a hit needs no text:
 * gt_tx_stmt_find_key gives 1 and *out when the statement kept under key is
 * free, else 0; then the caller builds the text and calls gt_tx_stmt_key.
 * A tx without state finds nothing and gets uncached statements. */
int gt_tx_stmt_find_key(gt_tx *tx, uint64_t key, sqlite3_stmt **out);
int gt_tx_stmt_key(gt_tx *tx, uint64_t key, const char *sql, sqlite3_stmt **out, gt_err *err);
/* Whether a statement from gt_tx_stmt had its result columns checked since
 * it was prepared, and marking it so (stmt_cache.h): a reader that checks a
 * row's shape does it once per statement, not at every row. */
int gt_tx_stmt_checked(gt_tx *tx, sqlite3_stmt *q);
void gt_tx_stmt_set_checked(gt_tx *tx, sqlite3_stmt *q);

/* Feeds bytes describing a change into the block's state commitment. Modules
 * call it for each row they write, in a deterministic order. Inside an action
 * the bytes are held until the block ends and dropped if the action is
 * refused: a refused action leaves no trace in the state root. */
void gt_tx_commit(gt_tx *tx, const void *data, size_t len);

/* Action boundaries: the ledger marks where an action starts, and rolls back
 * the cached changes of a refused one. */
void gt_tx_begin_action(gt_tx *tx);
void gt_tx_rollback_action(gt_tx *tx);

/* Block end: writes dirty accounts/locks/supply to the db inside the open
 * transaction and feeds their bytes (sorted) into tx->diff. */
int gt_state_flush(gt_tx *tx, gt_err *err);

/* Schema of the state tables (accounts, locks, unbonding, meta). */
extern const char gt_state_schema_sql[];

#endif
