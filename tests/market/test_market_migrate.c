/* test_market_migrate.c: a ledger of the previous format (5: the market's
 * full indexes of slots by worker and of tasks by parent) opens read-only as
 * it is, and for writing is upgraded in place to format 6 (no worker index,
 * a partial index of sub-tasks) with the same rows, digest and replay; the
 * queries that used the dropped indexes find their rows through the ones
 * that are left. The format 5 store is made the way the previous binary
 * wrote it: its schema's two index statements and version 5 in meta (a
 * ledger written by that binary itself was checked by hand the same way:
 * docs/benchmarks.md, session 33). */
#include "market_util.h"

#include "ledger/ledger_impl.h"
#include "market/market_impl.h"

static uint8_t t_parent[32], t_sub[32], t_paid[32];

/* Runs sql on the file at p (raw SQLite, as an older binary or an edit). */
static void exec_on(const char *p, const char *sql) {
    sqlite3 *db;
    if (sqlite3_open(p, &db)) abort();
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "SQL failed: %s: %s\n", sql, msg);
        abort();
    }
    sqlite3_close(db);
}

/* The first column of sql's first row on the file at p, as an integer. */
static long long int_of(const char *p, const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *q;
    if (sqlite3_open(p, &db) || sqlite3_prepare_v2(db, sql, -1, &q, NULL)) abort();
    long long v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

/* 1 when the file at p has an index named name. */
static int has_index(const char *p, const char *name) {
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type='index' AND name='%s'", name);
    return int_of(p, sql) == 1;
}

/* A ledger with a task, a sub-task of it posted by its worker, and a task
 * paid to the end: rows in every index the upgrade touches. */
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

/* What the previous format's schema had in place of this one's. */
static const char to_format5_sql[] = "DROP INDEX mk_subtasks;"
                                     "CREATE INDEX mk_tasks_parent ON mk_tasks(parent);"
                                     "CREATE INDEX mk_slots_worker ON mk_slots(worker);"
                                     "UPDATE meta SET value=5 WHERE key='version';";

/* gt_ledger_read's callback: 0 when the parent's view lists exactly the
 * sub-task. */
static int subtask_in_view(void *arg, gt_tx *tx, gt_err *err) {
    (void)arg;
    json_t *v = gt_market_task_get(tx->db, t_parent, err);
    if (!v) return GT_EDB;
    json_t *subs = json_object_get(v, "subtasks");
    const char *first = json_string_value(json_array_get(subs, 0));
    int ok = json_array_size(subs) == 1 && first && !strcmp(first, hx(t_sub));
    json_decref(v);
    return ok ? 0 : gt_err_set(err, GT_ESTATE, "the parent's view does not list the sub-task");
}

/* The parent's view lists the sub-task (through whichever index of parents
 * the store has). */
static void subtask_listed(gt_ledger *l) {
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_read(l, subtask_in_view, NULL, &err), 0);
}

/* The head's state digest, read from the file. */
static void head_digest(gt_ledger *l, uint8_t out[32]) {
    gt_block h;
    CHECK_EQ_INT(gt_ledger_head(l, &h, NULL), 0);
    memcpy(out, h.state_digest, 32);
}

static void test_upgrade(void) {
    make_ledger();
    gt_ledger *l = NULL;
    gt_err err = {0};
    uint8_t before[32], after[32];
    exec_on(path, to_format5_sql);
    CHECK(has_index(path, "mk_slots_worker") && has_index(path, "mk_tasks_parent") && !has_index(path, "mk_subtasks"));
    /* read-only: as it is */
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    head_digest(l, before);
    subtask_listed(l);
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    CHECK_EQ_INT((int)int_of(path, "SELECT value FROM meta WHERE key='version'"), 5);
    CHECK(has_index(path, "mk_slots_worker"));
    /* for writing: upgraded, the same state */
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    head_digest(l, after);
    CHECK(!memcmp(before, after, 32));
    audit_ok(l);
    subtask_listed(l);
    /* and it goes on: a block on the upgraded store */
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_submit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}",
                     hx(t_parent), blob("r")), 0);
    audit_ok(l);
    gt_ledger_close(l);
    CHECK_EQ_INT((int)int_of(path, "SELECT value FROM meta WHERE key='version'"), GT_LEDGER_FORMAT);
    CHECK(!has_index(path, "mk_slots_worker") && !has_index(path, "mk_tasks_parent") && has_index(path, "mk_subtasks"));
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    /* a second open finds nothing to do */
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    subtask_listed(l);
    gt_ledger_close(l);
    /* older and newer formats are refused, read-only too */
    for (int v = 3; v <= 7; v += 4) {
        char sql[64];
        snprintf(sql, sizeof sql, "UPDATE meta SET value=%d WHERE key='version'", v);
        exec_on(path, sql);
        CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), GT_EUNSUPPORTED);
        CHECK_CONTAINS(err.msg, "format 6 drops two of the market's indexes");
        CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), GT_EUNSUPPORTED);
    }
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

/* On an upgraded store and on a new one: the sub-task query searches the
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
    }
}

int main(void) {
    make_keys();
    RUN(test_upgrade);
    RUN(test_plans);
    return gt_test_finish();
}
