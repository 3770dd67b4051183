/* test_market_invariants.c: each market invariant check (market/invariants.c)
 * passes on a state the rules made and fires on one corrupted by hand; in a
 * GT_INVARIANTS build a broken one after a market action aborts, naming it. */
#include "market_util.h"

#include <signal.h>
#include <sys/wait.h>

static uint8_t task[32];

/* alice posts a 2-slot task; bob claims slot 0. */
static gt_ledger *make(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    CHECK_EQ_INT(act(l, ALICE, task, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":2,\"bounty\":%llu,\"stake\":%llu,"
                     "\"claimSeconds\":50,\"submitSeconds\":50,\"verifySeconds\":50}", blob("s"), 10 * UNIT, 2 * UNIT), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(task)), 0);
    return l;
}

/* A writer's tx over the closed ledger's store, inside BEGIN (not committed). */
static gt_tx raw_tx(sqlite3 **db) {
    if (sqlite3_open(path, db) || sqlite3_exec(*db, "BEGIN", NULL, NULL, NULL)) abort();
    gt_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.db = *db;
    tx.state = gt_state_new();
    tx.domain = DOM;
    gt_keccak_init(&tx.diff);
    return tx;
}

static void drop_tx(gt_tx *tx, sqlite3 *db) {
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    gt_state_free(tx->state);
    sqlite3_close(db);
}

static void expect_fires(int rc, const gt_err *err, const char *name) {
    CHECK_EQ_INT(rc, GT_EINVAL);
    CHECK_CONTAINS(err->msg, name);
}

static void test_checks_fire(void) {
    gt_ledger *l = make();
    gt_ledger_close(l);
    sqlite3 *db;
    gt_err err = {0};
    uint8_t escrow[32], stake[32];
    gt_market_escrow_id(task, escrow);
    mk_lock_id(MK_TAG_STAKE, task, 0, 0, stake);

    gt_tx tx = raw_tx(&db);
    CHECK_EQ_INT(mk_check_task(&tx, task, &err), 0);
    CHECK_EQ_INT(mk_check_books(&tx, &err), 0);
    /* The escrow pays out a unit it still owes (a rule's bug, in the cache). */
    CHECK_EQ_INT(gt_state_release(&tx, escrow, &A[ALICE], 1, &err), 0);
    expect_fires(mk_check_task(&tx, task, &err), &err, "invariant escrow-owed");
    drop_tx(&tx, db);

    tx = raw_tx(&db);
    CHECK_EQ_INT(gt_state_release(&tx, stake, &A[BOB], 1, &err), 0); /* part of a held stake let go */
    expect_fires(mk_check_task(&tx, task, &err), &err, "invariant stakes-match-slots");
    drop_tx(&tx, db);

    tx = raw_tx(&db);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE mk_tasks SET slots=3 WHERE id=x'%s'", hx(task) + 2);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    expect_fires(mk_check_task(&tx, task, &err), &err, "invariant slots-within-count");
    drop_tx(&tx, db);

    tx = raw_tx(&db);
    snprintf(sql, sizeof sql, "UPDATE mk_tasks SET slots=1 WHERE id=x'%s'", hx(task) + 2);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    expect_fires(mk_check_task(&tx, task, &err), &err, "invariant slots-within-count"); /* slot 1 is extra */
    drop_tx(&tx, db);

    tx = raw_tx(&db);
    snprintf(sql, sizeof sql, "UPDATE locks SET amount=amount-1 WHERE id=x'%s'", hx(escrow) + 2);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    expect_fires(mk_check_books(&tx, &err), &err, "invariant market-books");
    drop_tx(&tx, db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
}

/* In a child: a market action whose task's escrow was short-changed. */
static void child(void) {
    sqlite3 *db;
    gt_tx tx = raw_tx(&db);
    uint8_t escrow[32];
    gt_market_escrow_id(task, escrow);
    gt_err err = {0};
    if (gt_state_release(&tx, escrow, &A[ALICE], 1, &err)) _exit(3);
    gt_action a;
    build(&a, CAROL, 0, "task_claim", "{\"task\":\"%s\"}", hx(task));
    mk_invariants_after(&tx, &a);
}

static void test_abort_after_action(void) {
    gt_ledger *l = make();
    gt_ledger_close(l);
    int fds[2];
    if (pipe(fds)) abort();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        child();
        _exit(0);
    }
    close(fds[1]);
    char out[2048];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0) n += (size_t)r;
    out[n] = 0;
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK_CONTAINS(out, "invariant broken: invariant escrow-owed");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
}

int main(void) {
    make_keys();
    RUN(test_checks_fire);
    RUN(test_abort_after_action);
    return gt_test_finish();
}
