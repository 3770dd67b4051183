/* test_market_plans.c: the market's queries that name a worker or a parent
 * use the indexes format 6 left (ledger_impl.h): the sub-task list searches
 * the partial index mk_subtasks in its order (no sort), and the queries
 * that name a worker search the slots' primary key by task, never scan, as
 * does the read of a task's paid units (dataset_publish, format 13) --
 * on a store with tasks, sub-tasks and a paid task, and on a new one.
 * (Format 5 stores, which had full indexes of slots by worker and of tasks
 * by parent, are refused since format 7: test_ledger_ids.) */
#include "market_util.h"

#include "ledger/ledger_impl.h"
#include "market/market_impl.h"

static uint8_t t_parent[32], t_sub[32], t_paid[32];

/* A ledger with a task, a sub-task of it posted by its worker, and a task
 * paid to the end: rows in every index the plans below search. */
static void make_ledger(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    const char *post = "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,%s"
                       "\"claimSeconds\":50,\"submitSeconds\":50,\"verifySeconds\":50}";
    CHECK_EQ_INT(act(l, ALICE, t_parent, NULL, "task_post", post, blob("a"), 10 * UNIT, 1 * UNIT, ""), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(t_parent)), 0);
    char parent_field[96];
    snprintf(parent_field, sizeof parent_field, "\"parent\":\"%s\",", hx(t_parent));
    CHECK_EQ_INT(act(l, BOB, t_sub, NULL, "task_post", post, blob("b"), 1 * UNIT, 1 * UNIT, parent_field), 0);
    CHECK_EQ_INT(act(l, ALICE, t_paid, NULL, "task_post", post, blob("c"), 10 * UNIT, 1 * UNIT, ""), 0);
    claim_submit(l, t_paid, CAROL, "p");
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_verify",
                     "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":90}", hx(t_paid),
                     blob("p")), 0);
    CHECK_EQ_INT(act(l, CAROL, NULL, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(t_paid)), 0);
    audit_ok(l);
    gt_ledger_close(l);
}

/* Runs EXPLAIN QUERY PLAN of sql on the file at p; its details into out. */
static void plan_of(const char *p, const char *sql, char *out, size_t cap) {
    sqlite3 *db;
    sqlite3_stmt *q;
    char ex[1024];
    snprintf(ex, sizeof ex, "EXPLAIN QUERY PLAN %s", sql);
    if (sqlite3_open(p, &db)) abort();
    CHECK_EQ_INT(sqlite3_prepare_v2(db, ex, -1, &q, NULL), SQLITE_OK);
    size_t len = 0;
    out[0] = 0;
    while (sqlite3_step(q) == SQLITE_ROW && len < cap) {
        int w = snprintf(out + len, cap - len, "%s\n", (const char *)sqlite3_column_text(q, 3));
        if (w < 0) break;
        len += (size_t)w;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* On a store with rows and on a new one: the sub-task query searches the
 * partial index, in its order (no sort); the queries that name a worker
 * (the sub-task rule's check, the task list's filter) search the slots'
 * primary key by task, never scan. */
static void test_plans(void) {
    char fresh_path[160], plan[2048];
    snprintf(fresh_path, sizeof fresh_path, "%s/new.db", dir);
    gt_genesis g = {.chain_id = 7, .unbonding_blocks = 10, .time_s = 1};
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_create(fresh_path, &g, NULL), 0);
    CHECK_EQ_INT(gt_ledger_open(fresh_path, 0, &l, NULL), 0); /* makes the market's tables */
    gt_ledger_close(l);
    const char *paths[2] = {path, fresh_path};
    for (int i = 0; i < 2; i++) {
        plan_of(paths[i], MK_SQL_SUBTASKS, plan, sizeof plan);
        CHECK_CONTAINS(plan, "USING COVERING INDEX mk_subtasks (parent=?)");
        CHECK(!strstr(plan, "TEMP B-TREE"));
        plan_of(paths[i], "SELECT count(*) FROM mk_slots WHERE task=? AND worker=? AND state=?", plan, sizeof plan);
        CHECK_CONTAINS(plan, "SEARCH mk_slots USING PRIMARY KEY (task=?)");
        plan_of(paths[i], "SELECT id FROM mk_tasks t WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM mk_slots s "
                "WHERE s.task=t.id AND s.worker=?1)) ORDER BY posted_height DESC, id", plan, sizeof plan);
        CHECK_CONTAINS(plan, "SEARCH s USING PRIMARY KEY (task=?)");
        plan_of(paths[i], MK_SQL_PAID_UNITS, plan, sizeof plan);
        CHECK_CONTAINS(plan, "SEARCH s USING PRIMARY KEY (task=?)");
        CHECK_CONTAINS(plan, "SEARCH p USING PRIMARY KEY (task=? AND slot=? AND attempt=?)");
    }
}

int main(void) {
    make_keys();
    make_ledger();
    RUN(test_plans);
    return gt_test_finish();
}
