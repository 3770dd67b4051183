/* test_market_rows.c: a damaged row is a database error naming the table and
 * the column, never a zero and never a skipped row. A ledger with a row of
 * every kind is made once; each case copies it, damages one column by hand
 * (SQL, as a bad disk or a careless edit would) and reads it through the
 * reader the rules use. */
#include "market_util.h"

#include "ledger/block.h"
#include "ledger/digest.h"
#include "ledger/stmt_cache.h"

static char base_path[160];
static uint8_t t_disputed[32], t_quorum[32], t_paid[32], t_open[32];

/* A ledger holding accounts, locks, an unbonding entry, tasks, slots, a
 * dispute, votes, reputation flows and blocks. */
static void make_base(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    const char *post = "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,%s"
                       "\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":10}";
    CHECK_EQ_INT(act(l, ALICE, t_disputed, NULL, "task_post", post, blob("a"), 10 * UNIT, 2 * UNIT, ""), 0);
    claim_submit(l, t_disputed, BOB, "r");
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_verify",
                     "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,\"reason\":\"%s\"}",
                     hx(t_disputed), blob("r"), blob("no")), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}",
                     hx(t_disputed), blob("r")), 0);
    CHECK_EQ_INT(act(l, ALICE, t_quorum, NULL, "task_post", post, blob("b"), 10 * UNIT, 2 * UNIT,
                     "\"quorum\":2,\"fee\":1000000,"), 0);
    claim_submit(l, t_quorum, CAROL, "q");
    CHECK_EQ_INT(act(l, V1, NULL, NULL, "task_verify",
                     "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,\"reason\":\"%s\"}",
                     hx(t_quorum), blob("q"), blob("why")), 0);
    CHECK_EQ_INT(act(l, ALICE, t_paid, NULL, "task_post", post, blob("c"), 10 * UNIT, 2 * UNIT, ""), 0);
    claim_submit(l, t_paid, CAROL, "p");
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_verify",
                     "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":90}", hx(t_paid),
                     blob("p")), 0);
    CHECK_EQ_INT(act(l, CAROL, NULL, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(t_paid)), 0);
    CHECK_EQ_INT(act(l, ALICE, t_open, NULL, "task_post", post, blob("d"), 1 * UNIT, 1 * UNIT, ""), 0);
    CHECK_EQ_INT(act(l, V2, NULL, NULL, "unstake", "{\"amount\":%llu}", 1 * UNIT), 0);
    audit_ok(l);
    gt_ledger_close(l);
    snprintf(base_path, sizeof base_path, "%s", path);
}

/* A copy of the base ledger with sql applied to it, opened raw (with the
 * market's SQL function: VACUUM rebuilds the index on it, and the rules
 * write through the copy). */
static sqlite3 *damaged_copy(const char *sql, char *copy_path, size_t cap) {
    static int n;
    snprintf(copy_path, cap, "%s/case%d.db", dir, n++);
    sqlite3 *db;
    if (sqlite3_open(base_path, &db) || mk_connect(db, NULL)) abort();
    char vac[256];
    snprintf(vac, sizeof vac, "VACUUM INTO '%s'", copy_path);
    CHECK_EQ_INT(sqlite3_exec(db, vac, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    if (sqlite3_open(copy_path, &db) || mk_connect(db, NULL)) abort();
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "damage SQL failed: %s: %s\n", sql, msg);
        abort();
    }
    CHECK(sqlite3_changes(db) > 0 || !strncmp(sql, "ALTER", 5)); /* the damage took */
    return db;
}

/* A writer's tx over db at a late height (every deadline due). */
static gt_tx tx_over(sqlite3 *db) {
    gt_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.db = db;
    tx.state = gt_state_new();
    tx.domain = DOM;
    tx.height = 100000;
    tx.time_s = 1700000000 + 200000;
    tx.unbonding_blocks = 10;
    tx.authority = A[AUTH];
    gt_keccak_init(&tx.diff);
    return tx;
}

static void expect_damaged(int rc, const gt_err *err, const char *want) {
    CHECK_EQ_INT(rc, GT_EDB);
    CHECK_CONTAINS(err->msg, want);
}

static const char *hexq(const uint8_t id[32]) { return hx(id) + 2; }

static void test_ledger_rows(void) {
    char p[192], sql[256];
    gt_err err = {0};
    gt_account acc;
    sqlite3 *db = damaged_copy("UPDATE accounts SET balance='lots' WHERE balance>0", p, sizeof p);
    gt_tx tx = tx_over(db);
    /* every account with a balance is damaged: alice is one of them */
    expect_damaged(gt_state_account(&tx, &A[ALICE], &acc, &err), &err, "damaged row in table accounts, column balance");
    gt_state_free(tx.state);
    sqlite3_close(db);

    snprintf(sql, sizeof sql, "UPDATE accounts SET nonce=-3 WHERE addr=x'%s'", ad(BOB) + 2);
    db = damaged_copy(sql, p, sizeof p);
    tx = tx_over(db);
    expect_damaged(gt_state_account(&tx, &A[BOB], &acc, &err), &err, "damaged row in table accounts, column nonce");
    gt_state_free(tx.state);
    sqlite3_close(db);

    uint8_t escrow[32];
    gt_market_escrow_id(t_open, escrow);
    snprintf(sql, sizeof sql, "UPDATE locks SET owner=x'0102' WHERE id=x'%s'", hexq(escrow));
    db = damaged_copy(sql, p, sizeof p);
    tx = tx_over(db);
    gt_lock lk;
    expect_damaged(gt_state_lock_get(&tx, escrow, &lk, &err), &err, "damaged row in table locks, column owner");
    gt_state_free(tx.state);
    sqlite3_close(db);

    /* The unbonding payout: a damaged entry fails the block instead of
     * being skipped (which kept the stake from its owner for good). */
    db = damaged_copy("UPDATE unbonding SET addr=x'0102'", p, sizeof p);
    tx = tx_over(db);
    expect_damaged(gt_state_mature_unbonding(&tx, &err), &err, "damaged row in table unbonding, column addr");
    gt_state_free(tx.state);
    sqlite3_close(db);
    db = damaged_copy("UPDATE unbonding SET amount='all'", p, sizeof p);
    tx = tx_over(db);
    expect_damaged(gt_state_mature_unbonding(&tx, &err), &err, "damaged row in table unbonding, column amount");
    gt_state_free(tx.state);
    sqlite3_close(db);

    db = damaged_copy("UPDATE blocks SET prev=x'00' WHERE height=(SELECT max(height) FROM blocks)", p, sizeof p);
    sqlite3_close(db);
    gt_ledger *l = NULL;
    expect_damaged(gt_ledger_open(p, GT_LEDGER_READONLY, &l, &err), &err, "damaged row in table blocks, column prev");
    CHECK(l == NULL);
}

/* Loads through the market's row readers. */
static void test_market_rows(void) {
    char p[192], sql[256];
    gt_err err = {0};
    static const struct { const char *set, *want; } task_cases[] = {
        {"poster=x'01'", "damaged row in table mk_tasks, column poster"},
        {"kind=x'00ff'", "damaged row in table mk_tasks, column kind"},
        {"bounty='ten'", "damaged row in table mk_tasks, column bounty"},
        {"status=2.5", "damaged row in table mk_tasks, column status"},
        {"spec=x'1234'", "damaged row in table mk_tasks, column spec"},
    };
    for (size_t i = 0; i < sizeof task_cases / sizeof task_cases[0]; i++) {
        snprintf(sql, sizeof sql, "UPDATE mk_tasks SET %s WHERE id=x'%s'", task_cases[i].set, hexq(t_disputed));
        sqlite3 *db = damaged_copy(sql, p, sizeof p);
        gt_tx tx = tx_over(db);
        mk_task t;
        expect_damaged(mk_task_load(&tx, t_disputed, &t, &err), &err, task_cases[i].want);
        gt_state_free(tx.state);
        sqlite3_close(db);
    }
    static const struct { const char *set, *want; } slot_cases[] = {
        {"worker=x'01'", "damaged row in table mk_slots, column worker"},
        {"state='abc'", "damaged row in table mk_slots, column state"},
        {"result=x''", "damaged row in table mk_slots, column result"},
        {"rbond=1.5", "damaged row in table mk_slots, column rbond"},
    };
    for (size_t i = 0; i < sizeof slot_cases / sizeof slot_cases[0]; i++) {
        snprintf(sql, sizeof sql, "UPDATE mk_slots SET %s WHERE task=x'%s'", slot_cases[i].set, hexq(t_disputed));
        sqlite3 *db = damaged_copy(sql, p, sizeof p);
        gt_tx tx = tx_over(db);
        mk_slot sl;
        expect_damaged(mk_slot_load(&tx, t_disputed, 0, &sl, &err), &err, slot_cases[i].want);
        gt_state_free(tx.state);
        sqlite3_close(db);
    }
    snprintf(sql, sizeof sql, "UPDATE mk_disputes SET worker=x'01' WHERE task=x'%s'", hexq(t_disputed));
    sqlite3 *db = damaged_copy(sql, p, sizeof p);
    gt_tx tx = tx_over(db);
    mk_dispute d;
    expect_damaged(mk_dispute_load(&tx, t_disputed, 0, 0, &d, &err), &err,
                   "damaged row in table mk_disputes, column worker");
    gt_state_free(tx.state);
    sqlite3_close(db);
}

static int count_vote(void *arg, const gt_addr *voter, int accept, uint64_t weight) {
    (void)voter, (void)accept, (void)weight;
    ++*(int *)arg;
    return 0;
}

/* Readers of lists: a damaged row fails the list, it is not left out. */
static void test_market_lists(void) {
    char p[192], sql[256];
    gt_err err = {0};
    snprintf(sql, sizeof sql, "UPDATE mk_votes SET voter=x'01' WHERE task=x'%s'", hexq(t_quorum));
    sqlite3 *db = damaged_copy(sql, p, sizeof p);
    gt_tx tx = tx_over(db);
    int n = 0;
    expect_damaged(mk_votes_each(&tx, t_quorum, 0, 0, MK_ROUND_VERIFY, count_vote, &n, &err), &err,
                   "damaged row in table mk_votes, column voter");
    CHECK_EQ_INT(n, 0);
    gt_state_free(tx.state);
    sqlite3_close(db);

    /* A task id of the wrong size: the audit, the task list and the expiry
     * sweep each refuse it instead of passing over the task. */
    snprintf(sql, sizeof sql, "UPDATE mk_tasks SET id=x'0102', expiry_height=0, expiry_s=0 WHERE id=x'%s'",
             hexq(t_open));
    db = damaged_copy(sql, p, sizeof p);
    expect_damaged(gt_market_audit(db, NULL, &err), &err, "damaged row in table mk_tasks, column id");
    memset(&err, 0, sizeof err);
    CHECK(gt_market_tasks_list(db, NULL, 0, 50, &err) == NULL);
    CHECK_CONTAINS(err.msg, "damaged row in table mk_tasks, column id");
    tx = tx_over(db);
    expect_damaged(mk_begin_block(&tx, &err), &err, "damaged row in table mk_tasks, column id");
    gt_state_free(tx.state);
    sqlite3_close(db);

    db = damaged_copy("UPDATE mk_rep_flows SET payer=x'01'", p, sizeof p);
    memset(&err, 0, sizeof err);
    CHECK(gt_market_reputation(db, &A[CAROL], NULL, &err) == NULL);
    CHECK_CONTAINS(err.msg, "damaged row in table mk_rep_flows, column payer");
    sqlite3_close(db);

    db = damaged_copy("INSERT INTO mk_draws VALUES(x'01', 0, 0, 1, 0, 0)", p, sizeof p);
    tx = tx_over(db);
    expect_damaged(mk_begin_block(&tx, &err), &err, "damaged row in table mk_draws, column task");
    gt_state_free(tx.state);
    sqlite3_close(db);
}

/* The row descriptions match the schema: a column added to a table and not
 * to its description is a damaged table, not a row read short. */
static void test_table_shape(void) {
    char p[192];
    gt_err err = {0};
    sqlite3 *db = damaged_copy("ALTER TABLE mk_slots ADD COLUMN extra INTEGER NOT NULL DEFAULT 0", p, sizeof p);
    gt_tx tx = tx_over(db);
    mk_slot sl;
    expect_damaged(mk_slot_load(&tx, t_disputed, 0, &sl, &err), &err, "damaged table mk_slots: 15 columns, expected 14");
    gt_state_free(tx.state);
    sqlite3_close(db);
    /* The shape is checked once per prepared statement, not at every row: a
     * table changed after the reader's statement was checked and cached
     * makes SQLite prepare it again, and the check runs again. */
    db = damaged_copy("ALTER TABLE mk_disputes ADD COLUMN extra INTEGER NOT NULL DEFAULT 0", p, sizeof p);
    tx = tx_over(db);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(mk_slot_load(&tx, t_disputed, 0, &sl, &err), 0);
    CHECK_EQ_INT(mk_slot_load(&tx, t_disputed, 0, &sl, &err), 0); /* the cached, checked statement */
    CHECK_EQ_INT(sqlite3_exec(db, "ALTER TABLE mk_slots ADD COLUMN extra INTEGER NOT NULL DEFAULT 0", NULL, NULL, NULL),
                 SQLITE_OK);
    expect_damaged(mk_slot_load(&tx, t_disputed, 0, &sl, &err), &err, "damaged table mk_slots: 15 columns, expected 14");
    gt_state_free(tx.state);
    sqlite3_close(db);
}

/* The integer in the first row of sql's result (-1: no row). */
static int count_of(sqlite3 *db, const char *sql) {
    sqlite3_stmt *q;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    int n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
    sqlite3_finalize(q);
    return n;
}

/* The tracked state digest equals a full scan of the module tables. */
static void digest_matches_scan(sqlite3 *db, const gt_digest_acc *tracked) {
    gt_digest_acc scan;
    gt_err err = {0};
    memset(&scan, 0, sizeof scan); /* the scan adds to it */
    CHECK_EQ_INT(gt_digest_scan_tables(db, &scan, &err), 0);
    CHECK(!memcmp(&scan, tracked, sizeof scan));
}

/* A row written back after a load is updated in place, only its changed
 * columns (no delete, so no index entry is rewritten), when the stored row
 * is still the one loaded; when it changed behind the loader's back (or the
 * load belonged to a refused action) the update writes nothing and the row
 * is written whole, as before. Either way the stored row is the one given
 * and the store keeps the state digest equal to a full scan: mk_slots has
 * no digest triggers (the market folds its rows itself), so an edit behind
 * the rules' back is seen by no one but the open check (here: a rescan). */
static void test_update_in_place(void) {
    char p[192];
    gt_err err = {0};
    sqlite3 *db = damaged_copy("UPDATE mk_slots SET score=score", p, sizeof p);
    gt_tx tx = tx_over(db);
    gt_digest_acc *acc = gt_state_digest_acc(tx.state), scan;
    memset(acc, 0, sizeof *acc);
    CHECK_EQ_INT(gt_digest_scan_tables(db, acc, &err), 0);
    CHECK_EQ_INT(gt_digest_track(db, acc, &err), 0);
    CHECK_EQ_INT(count_of(db, "SELECT count(*) FROM sqlite_temp_master WHERE type='trigger' AND tbl_name='mk_slots'"),
                 0);
    CHECK_EQ_INT(sqlite3_exec(db, "CREATE TEMP TABLE deleted(n); CREATE TEMP TRIGGER count_deletes AFTER DELETE ON "
                                  "main.mk_slots BEGIN INSERT INTO deleted VALUES(1); END;", NULL, NULL, NULL),
                 SQLITE_OK);
    mk_ctx c;
    mk_ctx_init(&c, &tx);
    mk_slot sl, back;
    /* In place: loaded, changed, stored. */
    CHECK_EQ_INT(mk_slot_load(&tx, t_open, 0, &sl, &err), 0);
    sl.state = GT_SLOT_CLAIMED;
    sl.deadline_s = 123456;
    CHECK_EQ_INT(mk_slot_store(&c, &sl, 0, &err), 0);
    CHECK_EQ_INT(count_of(db, "SELECT count(*) FROM deleted"), 0);
    CHECK_EQ_INT(mk_slot_load(&tx, t_open, 0, &back, &err), 0);
    CHECK(back.state == GT_SLOT_CLAIMED && back.deadline_s == 123456 && back.score == sl.score);
    mk_digest_flush(&c); /* the rows an action keeps until it ends */
    digest_matches_scan(db, acc);
    /* Stale: a column changed after the load; the store still writes sl. */
    CHECK_EQ_INT(mk_slot_load(&tx, t_open, 0, &sl, &err), 0);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE mk_slots SET score=77 WHERE task=x'%s' AND slot=0", hexq(t_open));
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    memset(&scan, 0, sizeof scan); /* the edit, unseen by the sum: start it again from a scan */
    CHECK_EQ_INT(gt_digest_scan_tables(db, &scan, &err), 0);
    CHECK(memcmp(&scan, acc, sizeof scan)); /* the edit changed the rows' sum */
    *acc = scan;
    sl.deadline_s = 654321;
    CHECK_EQ_INT(mk_slot_store(&c, &sl, 0, &err), 0);
    CHECK_EQ_INT(count_of(db, "SELECT count(*) FROM deleted"), 1); /* written whole: REPLACE deleted it */
    CHECK_EQ_INT(mk_slot_load(&tx, t_open, 0, &back, &err), 0);
    CHECK(back.deadline_s == 654321 && back.score == sl.score && back.score != 77);
    mk_digest_flush(&c); /* the rows an action keeps until it ends */
    digest_matches_scan(db, acc);
    /* A row stored twice without a load in between: the memo follows the writes. */
    sl.score = 5;
    CHECK_EQ_INT(mk_slot_store(&c, &sl, 0, &err), 0);
    CHECK_EQ_INT(count_of(db, "SELECT count(*) FROM deleted"), 1);
    CHECK_EQ_INT(mk_slot_load(&tx, t_open, 0, &back, &err), 0);
    CHECK(back.score == 5);
    mk_digest_flush(&c); /* the rows an action keeps until it ends */
    digest_matches_scan(db, acc);
    /* The same columns changed again, twice: the UPDATE kept under its
     * column mask is run again with new values (its old ones unbound). */
    for (uint64_t score = 6; score <= 7; score++) {
        CHECK_EQ_INT(mk_slot_load(&tx, t_open, 0, &sl, &err), 0);
        sl.score = score;
        CHECK_EQ_INT(mk_slot_store(&c, &sl, 0, &err), 0);
        CHECK_EQ_INT(count_of(db, "SELECT count(*) FROM deleted"), 1); /* in place both times */
        CHECK_EQ_INT(mk_slot_load(&tx, t_open, 0, &back, &err), 0);
        CHECK(back.score == score && back.deadline_s == 654321);
        mk_digest_flush(&c); /* the rows an action keeps until it ends */
        digest_matches_scan(db, acc);
    }
    mk_finish(&c, 0);
    gt_state_free(tx.state);
    sqlite3_close(db);
}

/* Statements kept under a caller's key (stmt_cache.h): found by the key
 * alone while free, never handed out twice at once, and apart from the
 * statements kept by their text. */
static void test_stmt_keys(void) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
    gt_stmt_cache sc;
    gt_stmt_cache_init(&sc);
    gt_err err = {0};
    const char *sql = "SELECT ?1 + 1";
    sqlite3_stmt *q = NULL, *q2 = NULL, *q3 = NULL;
    CHECK_EQ_INT(gt_stmt_cache_find_key(&sc, 42, &q), 0); /* nothing kept yet */
    CHECK(q == NULL);
    CHECK_EQ_INT(gt_stmt_cache_get_key(&sc, db, 42, sql, &q, &err), 0);
    sqlite3_bind_int64(q, 1, 41);
    CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) == 42);
    CHECK_EQ_INT(gt_stmt_cache_find_key(&sc, 42, &q2), 0); /* in use: not handed out again */
    CHECK_EQ_INT(gt_stmt_cache_get_key(&sc, db, 42, sql, &q2, &err), 0);
    CHECK(q2 && q2 != q); /* a second, uncached one */
    gt_stmt_cache_done(&sc, q2);
    gt_stmt_cache_done(&sc, q);
    CHECK_EQ_INT(gt_stmt_cache_find_key(&sc, 42, &q2), 1);
    CHECK(q2 == q);
    /* handed back reset and unbound: the parameter reads NULL */
    CHECK(sqlite3_step(q2) == SQLITE_ROW && sqlite3_column_type(q2, 0) == SQLITE_NULL);
    CHECK_EQ_INT(gt_stmt_cache_get(&sc, db, sql, &q3, &err), 0); /* by text: its own statement */
    CHECK(q3 && q3 != q);
    gt_stmt_cache_done(&sc, q3);
    gt_stmt_cache_done(&sc, q2);
    CHECK_EQ_INT(gt_stmt_cache_find_key(&sc, 43, &q), 0);
    CHECK_EQ_INT(gt_stmt_cache_get_key(&sc, db, 43, "SELECT nosuchcolumn", &q, &err), GT_EDB);
    CHECK(q == NULL && strstr(err.msg, "nosuchcolumn"));
    gt_stmt_cache_clear(&sc);
    sqlite3_close(db);
}

/* Runs `PREFIX sql` on db and writes column col of each row, one a line,
 * into out: EXPLAIN QUERY PLAN's details (col 3) or EXPLAIN's opcodes (col 1). */
static void explain_into(sqlite3 *db, const char *prefix, int col, const char *sql, char *out, size_t cap) {
    char ex[1024];
    snprintf(ex, sizeof ex, "%s %s", prefix, sql);
    sqlite3_stmt *q;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, ex, -1, &q, NULL), SQLITE_OK);
    size_t len = 0;
    out[0] = 0;
    while (sqlite3_step(q) == SQLITE_ROW && len < cap) {
        int w = snprintf(out + len, cap - len, "%s\n", (const char *)sqlite3_column_text(q, col));
        if (w < 0) break;
        len += (size_t)w;
    }
    sqlite3_finalize(q);
}

/* The query plan of sql on db, one detail line after another. */
static void plan_of(sqlite3 *db, const char *sql, char *out, size_t cap) {
    explain_into(db, "EXPLAIN QUERY PLAN", 3, sql, out, cap);
}

/* The block-start sweeps search their partial indexes, never scan: a scan at
 * every block would cost more with every task ever posted. Checked on a
 * ledger that holds tasks and slots in every state, and on an empty one
 * (where SQLite's planner, with no statistics, picked the scan). */
static void test_sweep_plans(void) {
    char plan[2048];
    const char *paths[2] = {base_path, NULL};
    char empty[192];
    snprintf(empty, sizeof empty, "%s/empty.db", dir);
    gt_ledger *l = NULL;
    gt_genesis g = {.chain_id = 7, .unbonding_blocks = 10, .time_s = 1};
    CHECK_EQ_INT(gt_ledger_create(empty, &g, NULL), 0);
    CHECK_EQ_INT(gt_ledger_open(empty, 0, &l, NULL), 0); /* makes the market's tables */
    gt_ledger_close(l);
    paths[1] = empty;
    for (int i = 0; i < 2; i++) {
        sqlite3 *db;
        if (sqlite3_open(paths[i], &db)) abort();
        plan_of(db, MK_SQL_DUE_SLOTS, plan, sizeof plan);
        CHECK_CONTAINS(plan, "USING INDEX mk_slots_deadline");
        CHECK(!strstr(plan, "SCAN mk_slots"));
        plan_of(db, MK_SQL_DUE_TASKS, plan, sizeof plan);
        CHECK_CONTAINS(plan, "USING INDEX mk_tasks_expiry");
        CHECK(!strstr(plan, "SCAN mk_tasks"));
        sqlite3_close(db);
    }
}

/* The name check searches the indexes of cards by key, never reads every card,
 * and writing a card deletes its old skills through the index by agent,
 * never reads every agent's (registering is free: a scan would let anyone
 * make the writer pay for every card at every registration); on the base
 * ledger and an empty one. */
static void test_name_check_plan(void) {
    char plan[2048], empty[192];
    snprintf(empty, sizeof empty, "%s/empty.db", dir); /* test_sweep_plans made it */
    const char *paths[2] = {base_path, empty};
    for (int i = 0; i < 2; i++) {
        sqlite3 *db;
        if (sqlite3_open(paths[i], &db)) abort();
        CHECK_EQ_INT(mk_connect(db, NULL), 0);
        plan_of(db, MK_SQL_NAME_TAKEN, plan, sizeof plan);
        CHECK_CONTAINS(plan, "SEARCH mk_agents USING INDEX mk_agents_name_key (<expr>=?)");
        CHECK(!strstr(plan, "SCAN") && !strstr(plan, "TEMP B-TREE")); /* nor a sort for its ORDER BY */
        plan_of(db, MK_SQL_NAME_CASE_TAKEN, plan, sizeof plan);
        CHECK_CONTAINS(plan, "SEARCH mk_agents USING INDEX mk_agents_name_case_key (<expr>=?)");
        CHECK(!strstr(plan, "SCAN") && !strstr(plan, "TEMP B-TREE"));
        plan_of(db, MK_SQL_SKILLS_DELETE, plan, sizeof plan);
        CHECK_CONTAINS(plan, "SEARCH mk_agent_skills USING COVERING INDEX mk_agent_skills_addr (addr=?)");
        CHECK(!strstr(plan, "SCAN"));
        sqlite3_close(db);
    }
}

/* The task list filtered by spec (GET /v1/tasks?spec=, which anyone may ask
 * any node) is one search of mk_tasks_spec that also gives the list's order:
 * no scan of every task, no sort of the matches (a spec any number of tasks
 * share would otherwise be sorted whole for each page). The list without a
 * spec is unchanged: it walks mk_tasks_posted. On the base ledger and an
 * empty one. */
static void test_task_list_plans(void) {
    char plan[2048], empty[192];
    snprintf(empty, sizeof empty, "%s/empty.db", dir); /* test_sweep_plans made it */
    const char *paths[2] = {base_path, empty};
    for (int i = 0; i < 2; i++) {
        sqlite3 *db;
        if (sqlite3_open(paths[i], &db)) abort();
        plan_of(db, MK_SQL_TASKS_BY_SPEC, plan, sizeof plan);
        CHECK_CONTAINS(plan, "SEARCH t USING INDEX mk_tasks_spec (spec=?)");
        CHECK(!strstr(plan, "SCAN t") && !strstr(plan, "TEMP B-TREE"));
        plan_of(db, MK_SQL_TASKS_LIST, plan, sizeof plan);
        CHECK_CONTAINS(plan, "SCAN t USING INDEX mk_tasks_posted");
        sqlite3_close(db);
    }
}

/* The opcodes of sql's program on db, one name a line, into out. */
static void opcodes_of(sqlite3 *db, const char *sql, char *out, size_t cap) { explain_into(db, "EXPLAIN", 1, sql, out, cap); }

/* Writing a slot builds no temporary B-tree: the predicate of its partial
 * index, evaluated for the old and the new row of every write, was once a
 * constant IN list, which SQLite evaluates through one (two of them cost
 * about a third of a slot's update). A control shows the check would see
 * one: the same predicate written as IN. */
static void test_slot_write_no_temp_btree(void) {
    char ops[16384];
    sqlite3 *db;
    if (sqlite3_open(base_path, &db)) abort();
    opcodes_of(db, "UPDATE mk_slots SET state=?3, deadline_s=?4 WHERE task=?1 AND slot=?2", ops, sizeof ops);
    CHECK_CONTAINS(ops, "IdxInsert"); /* the partial index is maintained... */
    CHECK(!strstr(ops, "OpenEphemeral")); /* ...without a temporary B-tree */
    opcodes_of(db, "INSERT INTO mk_slots VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", ops, sizeof ops);
    CHECK(!strstr(ops, "OpenEphemeral"));
    opcodes_of(db, "SELECT count(*) FROM mk_slots WHERE state IN (1,2,5)", ops, sizeof ops);
    CHECK_CONTAINS(ops, "OpenEphemeral"); /* the control */
    sqlite3_close(db);
}

int main(void) {
    make_keys();
    make_base();
    RUN(test_ledger_rows);
    RUN(test_market_rows);
    RUN(test_market_lists);
    RUN(test_table_shape);
    RUN(test_update_in_place);
    RUN(test_slot_write_no_temp_btree);
    RUN(test_stmt_keys);
    RUN(test_sweep_plans);
    RUN(test_name_check_plan);
    RUN(test_task_list_plans);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
    return gt_test_finish();
}
