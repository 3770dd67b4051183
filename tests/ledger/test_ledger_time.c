/* test_ledger_time.c: block time. It is monotonic, traffic does not move it,
 * a writer whose clock is far behind the chain makes no block, modules see
 * the block's time in begin_block (live and in replay alike), and a ledger
 * whose block times go backwards is refused by the open check and by verify
 * even when every hash was recomputed to match. */
#include "../test.h"
#include "ledger_util.h"
#include "base/amount.h"

#define UNIT GT_AMOUNT_UNIT
#define T0 1700000000ull

static gt_key K[3];
static gt_addr A[3];
static char dir[64], path[128];

/* What the test module saw: the (height, time) of each begin_block. */
#define SEEN_MAX 64
static struct { uint64_t height, time_s; } seen[SEEN_MAX];
static int n_seen;

/* A module's block-start rule that only records what it is shown. */
static int record_begin(gt_tx *tx, gt_err *err) {
    (void)err;
    if (n_seen < SEEN_MAX) {
        seen[n_seen].height = tx->height;
        seen[n_seen].time_s = tx->time_s;
        n_seen++;
    }
    return 0;
}

static const gt_ledger_module time_module = {.name = "test_time", .begin_block = record_begin};

static gt_ledger *fresh(void) {
    gt_ledger *l = tledger_fresh(dir, path, &A[0], T0);
    CHECK(l != NULL);
    return l;
}

static uint64_t head_time(gt_ledger *l) {
    gt_block b;
    gt_ledger_head(l, &b, NULL);
    return b.time_s;
}

static void test_time_monotonic_and_not_bought(void) {
    gt_ledger *l = fresh();
    const gt_domain *d = gt_ledger_domain(l);
    gt_action a;
    gt_result r;
    gt_ledger_set_time(l, T0 + 100);
    tsign(&a, &gt_kind_mint, d, &K[0], 0, &A[1], 10 * UNIT);
    CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    CHECK_EQ_U64(head_time(l), T0 + 100);
    /* Many blocks of self-transfers in the same second: time stays put. */
    for (uint64_t i = 0; i < 20; i++) {
        tsign(&a, &gt_kind_transfer, d, &K[1], i, &A[1], 1);
        CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    }
    CHECK_EQ_U64(head_time(l), T0 + 100);
    /* The clock stepping back a little (within the bound): time does not. */
    gt_ledger_set_time(l, T0 + 100 - GT_LEDGER_MAX_CLOCK_DRIFT_S);
    CHECK_EQ_INT(gt_ledger_tick(l, NULL), 0);
    CHECK_EQ_U64(head_time(l), T0 + 100);
    /* Further back than the bound: no block, a clear refusal. */
    gt_ledger_set_time(l, T0 + 100 - GT_LEDGER_MAX_CLOCK_DRIFT_S - 1);
    tsign(&a, &gt_kind_transfer, d, &K[1], 20, &A[2], 1);
    gt_block before, after;
    gt_ledger_head(l, &before, NULL);
    CHECK_EQ_INT(tsubmit(l, &a, &r), GT_ESTATE);
    CHECK_CONTAINS(r.msg, "clock");
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_tick(l, &err), GT_ESTATE);
    CHECK_CONTAINS(err.msg, "behind the last block's time");
    gt_ledger_head(l, &after, NULL);
    CHECK_EQ_U64(after.height, before.height);
    /* The clock back on time: the same action goes through. */
    gt_ledger_set_time(l, T0 + 160);
    CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    CHECK_EQ_U64(head_time(l), T0 + 160);
    gt_ledger_close(l);
    trm(dir);
}

/* Modules read the block's time in begin_block; replay shows them the same. */
static void test_modules_see_block_time(void) {
    gt_ledger *l = fresh();
    n_seen = 0;
    uint64_t times[4] = {T0 + 5, T0 + 5, T0 + 70, T0 + 3600};
    for (int i = 0; i < 4; i++) {
        gt_ledger_set_time(l, times[i]);
        CHECK_EQ_INT(gt_ledger_tick(l, NULL), 0);
    }
    CHECK_EQ_INT(n_seen, 4);
    for (int i = 0; i < 4 && i < n_seen; i++) {
        gt_block b;
        CHECK_EQ_INT(gt_ledger_block(l, (uint64_t)i + 1, &b, NULL), 0);
        CHECK_EQ_U64(seen[i].height, b.height);
        CHECK_EQ_U64(seen[i].time_s, b.time_s);
        CHECK_EQ_U64(seen[i].time_s, times[i]);
    }
    gt_ledger_close(l);
    n_seen = 0;
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    CHECK_EQ_INT(n_seen, 4);
    for (int i = 0; i < 4 && i < n_seen; i++) CHECK_EQ_U64(seen[i].time_s, times[i]);
    trm(dir);
}

/* Rewrites the chain from block `from` on so every hash and link matches
 * again (what an editor who knows the format would do). */
static void rehash_from(sqlite3 *db, uint64_t from) {
    gt_block prev;
    sqlite3_stmt *q, *u;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT height,hash,prev,actions_root,state_root,time,n_actions,state_digest,"
                                        "seed,seed_anchor FROM blocks WHERE height>=? ORDER BY height", -1, &q, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "UPDATE blocks SET hash=?, prev=? WHERE height=?", -1, &u, NULL), SQLITE_OK);
    sqlite3_stmt *p;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT hash FROM blocks WHERE height=?", -1, &p, NULL), SQLITE_OK);
    sqlite3_bind_int64(p, 1, (int64_t)from - 1);
    CHECK_EQ_INT(sqlite3_step(p), SQLITE_ROW);
    memcpy(prev.hash, sqlite3_column_blob(p, 0), 32);
    sqlite3_finalize(p);
    sqlite3_bind_int64(q, 1, (int64_t)from);
    while (sqlite3_step(q) == SQLITE_ROW) {
        gt_block b = {0};
        b.height = (uint64_t)sqlite3_column_int64(q, 0);
        memcpy(b.prev, prev.hash, 32);
        memcpy(b.actions_root, sqlite3_column_blob(q, 3), 32);
        memcpy(b.state_root, sqlite3_column_blob(q, 4), 32);
        b.time_s = (uint64_t)sqlite3_column_int64(q, 5);
        memcpy(b.state_digest, sqlite3_column_blob(q, 7), 32);
        memcpy(b.seed, sqlite3_column_blob(q, 8), 32);
        memcpy(b.seed_anchor, sqlite3_column_blob(q, 9), 32);
        gt_block_hash(&b);
        sqlite3_bind_blob(u, 1, b.hash, 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(u, 2, b.prev, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(u, 3, (int64_t)b.height);
        CHECK_EQ_INT(sqlite3_step(u), SQLITE_DONE);
        sqlite3_reset(u);
        prev = b;
    }
    sqlite3_finalize(q);
    sqlite3_finalize(u);
}

static void test_backwards_time_refused(void) {
    gt_ledger *l = fresh();
    const gt_domain *d = gt_ledger_domain(l);
    gt_action a;
    gt_result r;
    for (uint64_t i = 0; i < 3; i++) {
        gt_ledger_set_time(l, T0 + 100 * (i + 1));
        tsign(&a, &gt_kind_mint, d, &K[0], i, &A[1], UNIT);
        CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    }
    gt_ledger_close(l);
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE blocks SET time = time - 150 WHERE height = 2", NULL, NULL, NULL), SQLITE_OK);
    rehash_from(db, 2);
    sqlite3_close(db);
    gt_err err = {0};
    CHECK(gt_ledger_open(path, 0, &l, &err) != 0);
    CHECK_CONTAINS(err.msg, "block 2: its time");
    gt_verify_report rep;
    gt_err verr = {0};
    CHECK(gt_ledger_verify(path, &rep, NULL, NULL, &verr) != 0);
    CHECK_CONTAINS(verr.msg, "block 2: time goes backwards");
    trm(dir);
}

int main(void) {
    for (int i = 0; i < 3; i++) tkey(i, &K[i], &A[i]);
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_register_module(&time_module, &err), 0);
    RUN(test_time_monotonic_and_not_bought);
    RUN(test_modules_see_block_time);
    RUN(test_backwards_time_refused);
    return gt_test_finish();
}
