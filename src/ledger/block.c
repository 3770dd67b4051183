/* block.c: applying actions into a block and computing its roots and hash. */
#include "ledger/block.h"

#include <assert.h>
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "ledger/digest.h"
#include "ledger/invariants.h"

#define MAX_MODULES 16

static const gt_ledger_module *modules[MAX_MODULES];
static int n_modules;

int gt_ledger_register_module(const gt_ledger_module *m, gt_err *err) {
    assert(m && m->name);
    for (int i = 0; i < n_modules; i++)
        if (modules[i] == m) return 0;
    if (n_modules == MAX_MODULES) return gt_err_set(err, GT_ELIMIT, "too many ledger modules");
    modules[n_modules++] = m;
    return 0;
}

int gt_ledger_modules_connect(sqlite3 *db, gt_err *err) {
    int rc = 0;
    for (int i = 0; !rc && i < n_modules; i++)
        if (modules[i]->connect) rc = modules[i]->connect(db, err);
    return rc;
}

int gt_ledger_n_modules(void) { return n_modules; }
const gt_ledger_module *gt_ledger_module_at(int i) { return i >= 0 && i < n_modules ? modules[i] : NULL; }

/* Feeds the heights where format 9's and 10's rules start into the block's
 * state commitment, in every block from format 10's height on, from format
 * 11's height on format 11's too, from format 12's format 12's, from
 * format 13's format 13's, from format 14's format 14's, from format 15's
 * format 15's, and from format 16's format 16's. They
 * live in meta, under no hash, and decide how a replay judges the blocks
 * around them: committed here, a height moved under a ledger changes the
 * replayed state root of the first block at or after format10_height (a
 * height moved: the bytes differ; format10_height to format16_height
 * moved: the block they start in, or the bytes' length, differs), so
 * `ledger verify` refuses it. Blocks before format 10's height commit
 * nothing of it, blocks before format 11's the two heights only, blocks
 * before format 12's three, before format 13's four, before format 14's
 * five, before format 15's six and before format 16's seven, as they were
 * made. */
static void commit_rule_heights(gt_tx *tx) {
    if (tx->height < tx->format10_height) return;
    uint8_t buf[5 + 64] = {'r', 'u', 'l', 'e', 's'};
    for (int i = 0; i < 8; i++) {
        buf[5 + i] = (uint8_t)(tx->format9_height >> (56 - 8 * i));
        buf[13 + i] = (uint8_t)(tx->format10_height >> (56 - 8 * i));
        buf[21 + i] = (uint8_t)(tx->format11_height >> (56 - 8 * i));
        buf[29 + i] = (uint8_t)(tx->format12_height >> (56 - 8 * i));
        buf[37 + i] = (uint8_t)(tx->format13_height >> (56 - 8 * i));
        buf[45 + i] = (uint8_t)(tx->format14_height >> (56 - 8 * i));
        buf[53 + i] = (uint8_t)(tx->format15_height >> (56 - 8 * i));
        buf[61 + i] = (uint8_t)(tx->format16_height >> (56 - 8 * i));
    }
    size_t n = tx->height < tx->format11_height   ? 5 + 16
               : tx->height < tx->format12_height ? 5 + 24
               : tx->height < tx->format13_height ? 5 + 32
               : tx->height < tx->format14_height ? 5 + 40
               : tx->height < tx->format15_height ? 5 + 48
               : tx->height < tx->format16_height ? 5 + 56
                                                  : sizeof buf;
    gt_keccak_update(&tx->diff, buf, n);
}

int gt_block_begin(gt_tx *tx, gt_err *err) {
    gt_keccak_init(&tx->diff);
    commit_rule_heights(tx);
    gt_state_block_start(tx->state);
    int changes = 0;
    gt_tx_begin_action(tx);
    int rc = gt_state_mature_unbonding(tx, err);
    if (rc < 0) return rc;
    changes += rc;
    for (int i = 0; i < n_modules; i++) {
        if (!modules[i]->begin_block) continue;
        rc = modules[i]->begin_block(tx, err);
        if (rc < 0) return rc;
        changes += rc;
    }
    GT_INVARIANT_CHECK(gt_state_check_action); /* the sweeps are one action */
    return changes;
}

/* Runs one of the savepoint statements through the tx's statement cache:
 * every action of a module that writes SQL runs two of them, and parsing
 * them anew each time cost about as much as a small action's own SQL. */
static int savepoint_sql(gt_tx *tx, const char *sql, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, sql, &q, err);
    if (rc) return rc;
    assert(q);
    int s = sqlite3_step(q);
    if (s != SQLITE_DONE) gt_err_set(err, GT_EDB, "savepoint: %s", sqlite3_errmsg(tx->db));
    gt_tx_stmt_done(tx, q);
    return s == SQLITE_DONE ? 0 : GT_EDB;
}

int gt_block_apply_action(gt_tx *tx, const gt_action *a, gt_err *err) {
    assert(tx->state && tx->db && a->kind && a->kind->apply);
    gt_tx_begin_action(tx);
    int savepoint = a->kind->uses_db, rc;
    if (savepoint && (rc = savepoint_sql(tx, "SAVEPOINT act", err))) return rc;
    rc = gt_state_use_nonce(tx, &a->from, a->nonce, err);
    if (!rc) rc = a->kind->apply(tx, a, err);
    if (rc) {
        gt_tx_rollback_action(tx);
        if (savepoint) {
            savepoint_sql(tx, "ROLLBACK TO act", NULL);
            savepoint_sql(tx, "RELEASE act", NULL);
        }
        return rc;
    }
    if (savepoint && (rc = savepoint_sql(tx, "RELEASE act", err))) return rc;
    GT_INVARIANT_CHECK(gt_state_check_action);
    return 0;
}

/* Writes v big-endian into the last 8 bytes of a 32-byte word. */
static void word_u64(uint8_t w[32], uint64_t v) {
    memset(w, 0, 32);
    for (int i = 31; i >= 24; i--) { w[i] = (uint8_t)v; v >>= 8; }
}

void gt_block_hash(gt_block *b) {
    uint8_t buf[8 * 32];
    memcpy(buf, b->prev, 32);
    memcpy(buf + 32, b->actions_root, 32);
    memcpy(buf + 64, b->state_root, 32);
    memcpy(buf + 96, b->state_digest, 32);
    memcpy(buf + 128, b->seed, 32);
    memcpy(buf + 160, b->seed_anchor, 32);
    word_u64(buf + 192, b->height);
    word_u64(buf + 224, b->time_s);
    gt_keccak256(buf, sizeof buf, b->hash);
}

void gt_block_empty_digest(uint8_t out[32]) {
    gt_digest_acc zero = {{0}};
    gt_digest_final(&zero, 0, out);
}

/* Leaves carry their index (see block.h): the order actions ran in is what
 * decides the state, so the root must commit to it. The ids are turned into
 * leaves and then tree nodes in place (callers pass scratch), so nothing is
 * allocated; leaves and nodes are hashed four at a time (two permutations
 * an action: the ledger's largest hashing cost after the account rows). */
void gt_block_actions_root(uint8_t (*ids)[32], uint32_t n, uint8_t root[32]) {
    for (uint32_t i = 0; i < n; i += 4) {
        if (i + 1 == n) { /* a lone leaf: four abreast would cost more than one */
            uint8_t buf[64];
            word_u64(buf, i);
            memcpy(buf + 32, ids[i], 32);
            gt_keccak256(buf, 64, ids[i]);
            break;
        }
        uint8_t buf[4][64], spare[32];
        const uint8_t *msg[4];
        uint8_t *out[4];
        for (uint32_t k = 0; k < 4; k++) {
            uint32_t at = i + k < n ? i + k : i; /* past the end: a copy, its hash dropped */
            word_u64(buf[k], at);
            memcpy(buf[k] + 32, ids[at], 32);
            msg[k] = buf[k];
            out[k] = i + k < n ? ids[i + k] : spare;
        }
        gt_keccak256_x4(msg, 64, out);
    }
    gt_merkle_root_scratch(ids, n, root);
}

/* The genesis state root: each parameter one 32-byte word (the authority
 * right-aligned), hashed. Assumes the windows were resolved (none 0). */
void gt_genesis_state_root(uint64_t chain_id, const gt_addr *authority, uint64_t unbonding_blocks,
                           uint64_t time_s, const gt_windows *windows, uint8_t out[32]) {
    assert(windows->dispute_s && windows->vote_s && windows->reveal_s);
    uint8_t buf[7 * 32];
    word_u64(buf, chain_id);
    memset(buf + 32, 0, 12);
    memcpy(buf + 44, authority->b, 20);
    word_u64(buf + 64, unbonding_blocks);
    word_u64(buf + 96, time_s);
    word_u64(buf + 128, windows->dispute_s);
    word_u64(buf + 160, windows->vote_s);
    word_u64(buf + 192, windows->reveal_s);
    gt_keccak256(buf, sizeof buf, out);
}

int gt_block_finish(gt_tx *tx, const uint8_t prev_state_root[32], gt_block *b, gt_err *err) {
    assert(tx->state && b);
    int rc = gt_state_flush(tx, err);
    if (rc) return rc;
#ifdef GT_INVARIANTS
    GT_INVARIANT_CHECK(gt_ledger_check_books);
    for (int i = 0; i < n_modules; i++)
        if (modules[i]->check) GT_INVARIANT_CHECK(modules[i]->check);
#endif
    uint8_t diff[32], buf[64];
    gt_keccak_final(&tx->diff, diff);
    memcpy(buf, prev_state_root, 32);
    memcpy(buf + 32, diff, 32);
    gt_keccak256(buf, 64, b->state_root);
    gt_state_digest(tx->state, b->state_digest);
    gt_block_hash(b);
    return 0;
}
