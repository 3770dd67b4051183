/* block.h: building a block -- the one code path that applies actions, shared
 * by the live ledger and by replay (`gotong ledger verify`), so replay checks
 * exactly the rules that ran.
 *
 *   block hash   = keccak256(prev_hash ‖ actions_root ‖ state_root ‖
 *                            state_digest ‖ seed ‖ seed_anchor ‖ height ‖ time)
 *                  (eight 32-byte words, integers big-endian: abi.encode layout)
 *   actions_root = Merkle root (keccak, sorted pairs, as OpenZeppelin's
 *                  MerkleProof) of leaf_i = keccak256(i ‖ id_i) (two words,
 *                  abi.encode(uint256, bytes32)) for the block's actions in
 *                  order: sorted pairs alone commit to the set of ids, the
 *                  index in each leaf commits to their order too
 *   state_root   = keccak256(prev_state_root ‖ keccak256(changes)): a chained
 *                  commitment to every state row the block changed, in sorted
 *                  order, so two replays agree iff every intermediate state does.
 *   state_digest = the multiset hash of the whole core state after the block
 *                  (digest.h): what lets a node check, when it opens a ledger,
 *                  that the state on disk is the one the head block commits to,
 *                  without replaying the log.
 *   seed, seed_anchor = the block's draw seed and the anchor of the next
 *                  segment of the seed chain (seed.h): randomness fixed at
 *                  genesis, revealed one block at a time.
 * Genesis (height 0): prev = 0, actions_root = 0, state_digest = that of the
 *   empty state, state_root = keccak256(chain_id ‖ authority ‖ unbonding_blocks ‖ time ‖
 *   dispute window ‖ vote window ‖ reveal window), so the windows cannot be changed after genesis,
 *   seed = A_0, seed_anchor = A_1 of the node's secret (seed.h). */
#ifndef GT_LEDGER_BLOCK_H
#define GT_LEDGER_BLOCK_H

#include <stdint.h>

#include "ledger/action.h"
#include "ledger/state.h"

typedef struct gt_block {
    uint64_t height;
    uint64_t time_s;
    uint32_t n_actions;
    uint8_t prev[32], actions_root[32], state_root[32], state_digest[32], hash[32];
    uint8_t seed[32], seed_anchor[32]; /* seed.h */
} gt_block;

/* Outcome of one submitted action. */
typedef struct gt_result {
    int code;           /* 0: applied; else GT_E* */
    uint64_t height;    /* block it landed in (when code == 0) */
    char msg[GT_ERR_MSG_MAX]; /* why it was refused */
} gt_result;

/* A module adds rules that run at the start of every block (the market's
 * deadlines) and tables of its own. Registered once, like action kinds. */
typedef struct gt_ledger_module {
    const char *name;
    const char *schema_sql; /* CREATE TABLE IF NOT EXISTS ... */
    /* Runs after unbonding matures, before the block's actions. tx->height
     * and tx->time_s are the block's height and timestamp (monotonic, within
     * GT_LEDGER_MAX_CLOCK_DRIFT_S of the maker's clock, the same in replay):
     * the only clock a deadline may use. Returns the number of changes it
     * made (>= 0) or a negative GT_E* code. */
    int (*begin_block)(gt_tx *tx, gt_err *err);
    /* Optional: checks the module's invariants against the store after a
     * block's flush (invariants.h); 0, or an error naming the invariant. Run
     * only in builds with GT_INVARIANTS. */
    int (*check)(gt_tx *tx, gt_err *err);
    /* Optional, NULL-terminated: tables of the module whose every write the
     * module folds into the state digest itself (gt_digest_row_*, digest.h),
     * so the digest puts no triggers on them: a trigger's sub-program and
     * its two calls with every old and new column cost about a third of a
     * row's write (callgrind). The bytes folded are the ones a trigger and
     * a scan would fold, so the digest's value does not depend on which. */
    const char *const *digest_self_folded;
    /* Optional: SQL the writer runs once, after schema_sql, when it opens a
     * store of an older format (GT_LEDGER_FORMAT_OLDEST on, ledger_impl.h),
     * in the transaction that moves it to this one: dropping what that
     * format had and this one does not. Indexes only: the rows, and so the
     * state digest, are the same in both. */
    const char *upgrade_sql;
    /* Optional: registers on a connection the SQL functions the module's
     * schema names (an index on an expression: SQLite computes it at every
     * write of the table, so a connection without the function cannot write
     * it). Called for every store the ledger opens, before schema_sql: the
     * writer's and readers' (gt_ledger_open), a new ledger's, and the
     * replay store of `ledger verify`. 0 or GT_EDB. */
    int (*connect)(sqlite3 *db, gt_err *err);
} gt_ledger_module;

int gt_ledger_register_module(const gt_ledger_module *m, gt_err *err);
/* Runs every registered module's connect on db (0, or the first error). */
int gt_ledger_modules_connect(sqlite3 *db, gt_err *err);
int gt_ledger_n_modules(void);
const gt_ledger_module *gt_ledger_module_at(int i);

/* Runs the block-start rules (unbonding, modules) for tx->height, after
 * feeding the rules' heights to the commitment from format 10 on. Returns the
 * number of changes (>= 0) or a negative code. */
int gt_block_begin(gt_tx *tx, gt_err *err);

/* Applies one action whose signature has been verified: consumes its nonce and
 * runs its kind's rule; on refusal everything it did is undone. */
int gt_block_apply_action(gt_tx *tx, const gt_action *a, gt_err *err);

/* The actions root of a block from its action ids in block order. Turns
 * ids[] into the tree's leaves in place: pass scratch. */
void gt_block_actions_root(uint8_t (*ids)[32], uint32_t n, uint8_t root[32]);

/* Finishes the block: flushes state, computes state_root, state_digest and hash into b
 * (b->height, time_s, prev, actions_root, seed and seed_anchor must be set). */
int gt_block_finish(gt_tx *tx, const uint8_t prev_state_root[32], gt_block *b, gt_err *err);

void gt_block_hash(gt_block *b);
/* The state digest of the empty state (genesis). */
void gt_block_empty_digest(uint8_t out[32]);
void gt_genesis_state_root(uint64_t chain_id, const gt_addr *authority, uint64_t unbonding_blocks,
                           uint64_t time_s, const gt_windows *windows, uint8_t out[32]);

#endif
