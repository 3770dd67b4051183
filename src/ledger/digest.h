/* digest.h: a commitment to the whole core state (accounts, escrow locks,
 * unbonding entries, supply) that is cheap both to keep current block by
 * block and to recompute from the tables when a ledger is opened.
 *
 * It is a multiset hash: the sum, modulo 2^2048, of H(row) over every row,
 * where H(row) is the row's canonical bytes (a tag byte, then fixed-width
 * big-endian fields) squeezed to 2048 bits from the Keccak sponge. Adding a
 * row adds its H, removing one subtracts it, so the live ledger (which only
 * sees the rows a block changed) and a full scan agree whatever the order.
 * The 32-byte state digest a block header carries is
 *   keccak256("gotong-state-v1" ‖ sum (256 bytes, little-endian words) ‖ supply (be64)).
 *
 * What it guarantees: a change to any row of those tables (or to supply)
 * made outside the rules changes the digest unless the editor solves a
 * generalised birthday problem over 2048-bit sums (Wagner's k-tree: on the
 * order of 2^90 work).
 *
 * Modules' tables (the market's tasks, slots, panels, disputes ...) are in
 * the same sum (digest_tables.c): every row of every table that is not the
 * chain's or the core state's is hashed as H("M" ‖ table ‖ 0 ‖ its columns,
 * each a type byte and its value). The writer keeps that part current with
 * TEMP triggers on its own connection, which fold each row a statement
 * inserts, deletes or updates (old out, new in) as it happens, except on
 * the tables a module folds itself (gt_ledger_module.digest_self_folded:
 * the same bytes, built from its structs, gt_digest_row_*); a refused
 * action's rows are undone with the action (the state restores the sum it
 * had when the action began). So the open check compares one digest for the
 * whole state, and a hand edit of a market row is caught without a replay. */
#ifndef GT_LEDGER_DIGEST_H
#define GT_LEDGER_DIGEST_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"
#include "base/map.h"
#include "ledger/state.h"

#define GT_DIGEST_WORDS 32 /* 2048 bits */

typedef struct gt_digest_acc {
    uint64_t w[GT_DIGEST_WORDS]; /* little-endian limbs of the sum */
} gt_digest_acc;

/* sign: +1 adds the row, -1 removes it. */
void gt_digest_account(gt_digest_acc *acc, const gt_account *a, int sign);
/* H of an account row alone (what gt_digest_account adds or subtracts), as
 * little-endian words, and adding or subtracting a known H: for a caller
 * that keeps the H of rows it will take out again (state.c's memo). */
void gt_digest_account_h(const gt_account *a, uint64_t h[GT_DIGEST_WORDS]);
/* The H of four rows at once (gt_keccak_xof_words_x4): h[k] = H(a[k]). */
void gt_digest_account_h_x4(const gt_account *const a[4], uint64_t *const h[4]);
void gt_digest_add_h(gt_digest_acc *acc, const uint64_t h[GT_DIGEST_WORDS], int sign);
void gt_digest_lock(gt_digest_acc *acc, const gt_lock *l, int sign);
void gt_digest_unbonding(gt_digest_acc *acc, uint64_t seq, const gt_addr *a, uint64_t amount,
                         uint64_t release_height, int sign);
/* Squeezes H from a sponge that has absorbed a row's bytes, and adds or
 * subtracts it. */
void gt_digest_fold_sponge(gt_digest_acc *acc, gt_keccak *k, int sign);
/* The 32-byte digest a block header carries. */
void gt_digest_final(const gt_digest_acc *acc, uint64_t supply, uint8_t out[32]);

/* Recomputes the sum from the tables of db (every row of accounts, locks and
 * unbonding) and the sum of every account's four buckets into *buckets
 * (*overflow set when that sum does not fit in 64 bits or a stored value is
 * negative). GT_EDB on any SQLite error: a store that cannot be read is never
 * taken as consistent. */
int gt_digest_scan(sqlite3 *db, gt_digest_acc *acc, uint64_t *buckets, int *overflow, gt_err *err);

/* Is `name` a module's table (in the digest through digest_tables.c), not
 * the chain's (blocks, actions, action_ids, id_runs), the core state's
 * (accounts, locks, unbonding, meta) or SQLite's own? */
int gt_digest_is_module_table(const char *name);
/* Adds every row of every module table of db to acc. GT_EDB on any SQLite
 * error. */
int gt_digest_scan_tables(sqlite3 *db, gt_digest_acc *acc, gt_err *err);
/* Keeps acc current as module tables of db change: registers the function
 * the triggers call (user data acc, which must outlive db) and creates a
 * TEMP trigger per table and statement kind. Run on the writer's connection
 * (and the replay's) once every table exists. */
int gt_digest_track(sqlite3 *db, gt_digest_acc *acc, gt_err *err);

/* A module row's canonical bytes built from C values, for the tables a
 * module folds itself (gt_ledger_module.digest_self_folded): the same bytes
 * the triggers and gt_digest_scan_tables build from SQLite's values, so an
 * integer must be what SQLite stores (the int64 the caller binds), a blob
 * or a text its exact bytes. GT_DIGEST_ROW_MAX bounds a row (the modules'
 * rows are fixed-size structs: a longer one is a programming error). */
#define GT_DIGEST_ROW_MAX 1024
typedef struct gt_digest_row {
    size_t len;
    uint8_t b[GT_DIGEST_ROW_MAX];
} gt_digest_row;
/* Starts the row of `table` ("M", the name, 0). */
void gt_digest_row_begin(gt_digest_row *r, const char *table);
void gt_digest_row_int(gt_digest_row *r, int64_t v);
void gt_digest_row_blob(gt_digest_row *r, const void *p, size_t n);
void gt_digest_row_text(gt_digest_row *r, const char *s, size_t n);
/* H of the row built (what the sum gains or loses for it). */
void gt_digest_row_h(const gt_digest_row *r, uint64_t h[GT_DIGEST_WORDS]);
/* H of n rows: h[i] = H(*rows[i]), four abreast where two or more are left
 * (gt_keccak_f1600_x4: a lane costs under a third of a lone permutation). */
void gt_digest_rows_h(const gt_digest_row *const *rows, int n, uint64_t (*h)[GT_DIGEST_WORDS]);
/* Folds n module rows into the state's digest, rows[i] with sign signs[i]
 * (+1 in, -1 out): the H of a row the state's memo has seen (a row leaves
 * the sum with the bytes it entered with) is taken from there, the others
 * are hashed together (gt_digest_rows_h) and remembered. */
void gt_digest_rows_fold(gt_state *s, const gt_digest_row *const *rows, const int *signs, int n);
/* Sets up an empty memo of module rows' H (the state's; the triggers keep
 * their own). */
void gt_digest_memo_init(gt_map *m);
/* The state's memo for gt_digest_rows_fold (state.c). */
gt_map *gt_state_module_memo(gt_state *s);
/* Does a registered module fold `table` itself (no trigger on it)? */
int gt_digest_is_self_folded(const char *table);

#endif
