/* test_ledger_invariants.c: each of the ledger's invariant checks
 * (ledger/invariants.h) passes on a state the rules made and fires on one
 * corrupted by hand; in a GT_INVARIANTS build a broken invariant at an action
 * boundary or a block's end aborts, naming it (seen from a forked child). */
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "../test.h"
#include "ledger/block.h"
#include "ledger/invariants.h"
#include "ledger_util.h"

static char dir[64];
static const char *path;
static gt_addr X, Y;
static const uint8_t LOCK_ID[32] = {7};

/* A raw writer's tx over the ledger's store, inside BEGIN. */
static gt_tx open_tx(sqlite3 **db) {
    if (sqlite3_open(path, db)) abort();
    CHECK_EQ_INT(sqlite3_exec(*db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    gt_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.db = *db;
    tx.state = gt_state_new();
    tx.height = 1;
    tx.unbonding_blocks = 10;
    gt_keccak_init(&tx.diff);
    sqlite3_stmt *q;
    uint64_t supply = 0;
    if (!sqlite3_prepare_v2(*db, "SELECT value FROM meta WHERE key='supply'", -1, &q, NULL) &&
        sqlite3_step(q) == SQLITE_ROW)
        supply = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    gt_state_set_supply(tx.state, supply);
    return tx;
}

static void close_tx(gt_tx *tx, sqlite3 *db, int commit) {
    gt_err err = {0};
    if (commit) CHECK_EQ_INT(gt_state_flush(tx, &err), 0);
    CHECK_EQ_INT(sqlite3_exec(db, commit ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    gt_state_free(tx->state);
    sqlite3_close(db);
}

/* X gets 100 (minted), stakes 20, unstakes 5, locks 10; Y gets 30. */
static void make_state(void) {
    gt_genesis g = {.chain_id = 1, .unbonding_blocks = 10, .time_s = 1700000000};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    sqlite3 *db;
    gt_tx tx = open_tx(&db);
    gt_tx_begin_action(&tx);
    CHECK_EQ_INT(gt_state_mint(&tx, &X, 100, &err), 0);
    CHECK_EQ_INT(gt_state_transfer(&tx, &X, &Y, 30, &err), 0);
    CHECK_EQ_INT(gt_state_stake(&tx, &X, 20, &err), 0);
    CHECK_EQ_INT(gt_state_unstake(&tx, &X, 5, &err), 0);
    CHECK_EQ_INT(gt_state_lock(&tx, &X, LOCK_ID, 10, &err), 0);
    CHECK_EQ_INT(gt_state_check_action(&tx, &err), 0);
    if (err.code) fprintf(stderr, "check: %s\n", err.msg);
    CHECK_EQ_INT(gt_state_flush(&tx, &err), 0);
    CHECK_EQ_INT(gt_ledger_check_books(&tx, &err), 0);
    close_tx(&tx, db, 1);
}

/* The per-action check: conservation of holdings against supply. */
static void test_action_check(void) {
    sqlite3 *db;
    gt_err err = {0};
    gt_tx tx = open_tx(&db);
    gt_tx_begin_action(&tx);
    CHECK_EQ_INT(gt_state_transfer(&tx, &X, &Y, 7, &err), 0);
    CHECK_EQ_INT(gt_state_slash_stake(&tx, &X, NULL, 3, &err), 0); /* a burn lowers supply with holdings */
    CHECK_EQ_INT(gt_state_release(&tx, LOCK_ID, &Y, 4, &err), 0);
    CHECK_EQ_INT(gt_state_check_action(&tx, &err), 0);
    gt_state_corrupt_for_test(&tx, &Y, 1); /* one unit from nowhere */
    CHECK_EQ_INT(gt_state_check_action(&tx, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "invariant supply-conserved");
    gt_tx_rollback_action(&tx);
    gt_tx_begin_action(&tx);
    CHECK_EQ_INT(gt_state_check_action(&tx, &err), 0); /* rolled back: nothing changed */
    gt_state_corrupt_for_test(&tx, &X, -(int64_t)200); /* below zero: wraps to a huge amount */
    CHECK_EQ_INT(gt_state_check_action(&tx, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "invariant amounts-in-range");
    close_tx(&tx, db, 0);
}

/* The whole-store check, against tables edited by hand. */
static void test_books_check(void) {
    static const struct { const char *sql, *want; } cases[] = {
        {"UPDATE locks SET amount=amount+1", "invariant locks-match-locked"},
        {"DELETE FROM locks", "invariant locks-match-locked"},
        {"UPDATE unbonding SET amount=amount+1", "invariant unbonding-entries"},
        {"UPDATE accounts SET balance=-1 WHERE balance=30", "invariant amounts-in-range"},
        {"UPDATE accounts SET balance=balance+1 WHERE balance=30", "invariant supply-conserved"},
        {"UPDATE meta SET value=value+1 WHERE key='supply'", "invariant supply-conserved"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sqlite3 *db;
        gt_err err = {0};
        gt_tx tx = open_tx(&db);
        CHECK_EQ_INT(gt_ledger_check_books(&tx, &err), 0);
        CHECK_EQ_INT(sqlite3_exec(db, cases[i].sql, NULL, NULL, NULL), SQLITE_OK);
        CHECK(sqlite3_changes(db) > 0);
        gt_state_free(tx.state);
        tx.state = gt_state_new(); /* the supply as the store now says */
        sqlite3_stmt *q;
        sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='supply'", -1, &q, NULL);
        if (sqlite3_step(q) == SQLITE_ROW) gt_state_set_supply(tx.state, (uint64_t)sqlite3_column_int64(q, 0));
        sqlite3_finalize(q);
        CHECK_EQ_INT(gt_ledger_check_books(&tx, &err), GT_EINVAL);
        CHECK_CONTAINS(err.msg, cases[i].want);
        close_tx(&tx, db, 0);
    }
}

/* A rule with a bug: it credits a unit that came from nowhere. */
static int apply_corrupt(gt_tx *tx, const gt_action *a, gt_err *err) {
    (void)a, (void)err;
    gt_state_corrupt_for_test(tx, &Y, 1);
    return 0;
}
static gt_action_kind corrupt_kind = {"test_corrupt", "TestCorrupt", NULL, 0, apply_corrupt, 0, {0}, {0}, 0};

/* Runs fn in a child; returns its stderr (static) and whether it aborted. */
static const char *in_child(void (*fn)(void), int *aborted) {
    static char out[4096];
    int fds[2];
    if (pipe(fds)) abort();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0) n += (size_t)r;
    out[n] = 0;
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    *aborted = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
    return out;
}

static void child_action(void) {
    sqlite3 *db;
    gt_tx tx = open_tx(&db);
    gt_action a;
    gt_action_init(&a, &corrupt_kind, &tx.domain, &X, 0);
    gt_err err = {0};
    gt_block_apply_action(&tx, &a, &err); /* the boundary: aborts here */
}

static void child_block(void) {
    sqlite3 *db;
    gt_tx tx = open_tx(&db);
    sqlite3_exec(db, "UPDATE locks SET amount=amount+1", NULL, NULL, NULL);
    gt_block b;
    memset(&b, 0, sizeof b);
    gt_err err = {0};
    uint8_t prev[32] = {0};
    gt_block_finish(&tx, prev, &b, &err); /* the block's end: aborts here */
}

static void test_boundaries_abort(void) {
    int aborted;
    const char *out = in_child(child_action, &aborted);
#ifdef GT_INVARIANTS
    CHECK(aborted);
    CHECK_CONTAINS(out, "invariant broken: invariant supply-conserved");
    out = in_child(child_block, &aborted);
    CHECK(aborted);
    CHECK_CONTAINS(out, "invariant broken: invariant locks-match-locked");
#else
    CHECK(!aborted); /* Release: the checks are compiled out */
    (void)out;
    (void)child_block;
#endif
}

int main(void) {
    gt_key k;
    tkey(1, &k, &X);
    tkey(2, &k, &Y);
    if (gt_rules_register(NULL) || gt_action_register(&corrupt_kind, NULL)) return 1;
    path = tledger_path(dir);
    make_state();
    RUN(test_action_check);
    RUN(test_books_check);
    RUN(test_boundaries_abort);
    trm(dir);
    return gt_test_finish();
}
