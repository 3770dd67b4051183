/* test_api_damaged.c: the market's JSON views (GET /v1/tasks, /v1/tasks/ID,
 * /v1/agents, /v1/agents/ADDR) read their rows as strictly as the rules do.
 * A row damaged by hand while the node runs (a blob of the wrong size, an
 * amount that is text, a state out of range) is an HTTP 500 with a JSON
 * error EDB naming the table and the column -- never a page of zeros, a
 * skipped row or "unknown". Each damage is undone before the next, and the
 * view is shown to be whole again. Also: a task view lists a bounded number
 * of sub-tasks and says when there are more. */
#include <sqlite3.h>

#include "../test.h"
#include "api_util.h"

static char dir[64];
static gt_key K[8];
static gt_addr A[8];
static char AS[8][43];

/* Submits one action; returns the HTTP status. */
static long submit(CURL *c, uint16_t port, const gt_action *a) {
    thttp h;
    char *s = tjson(a);
    long st = tpost(c, port, "/v1/actions", s, &h);
    if (st != 200) fprintf(stderr, "submit: %ld %s\n", st, h.body);
    free(s);
    thttp_free(&h);
    return st;
}

/* Runs sql on the node's ledger from a connection of the test's own, as a
 * hand (or a disk) would. */
static void damage(const char *sql) {
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    CHECK_MSG(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
}

/* GET path: expects 500 with error code EDB and a message containing want. */
static void expect_damaged(CURL *c, uint16_t port, const char *path, const char *want) {
    thttp h;
    long st = tget(c, port, path, &h);
    CHECK_MSG(st == 500, "GET %s: %ld %s", path, st, h.body);
    json_t *j = json_loads(h.body, 0, NULL);
    json_t *e = json_object_get(j, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    CHECK_MSG(code && !strcmp(code, "EDB"), "GET %s: %s", path, h.body);
    CHECK_MSG(msg && strstr(msg, want), "GET %s: expected \"%s\" in %s", path, want, h.body);
    json_decref(j);
    thttp_free(&h);
}

/* GET path: expects 200; returns the body (free it). */
static char *expect_ok(CURL *c, uint16_t port, const char *path) {
    thttp h;
    long st = tget(c, port, path, &h);
    CHECK_MSG(st == 200, "GET %s: %ld %s", path, st, h.body);
    char *body = h.body;
    h.body = NULL;
    thttp_free(&h);
    return body;
}

/* A node with a registered agent (2) and two tasks of poster 1, the first
 * claimed, submitted and accepted. */
static gt_node *market(CURL *c, uint8_t task[32], uint8_t task2[32]) {
    gt_node *n = tnode(thome(dir), 2, 0);
    uint16_t port = gt_node_port(n);
    gt_action a;
    tcore(&a, &gt_kind_mint, 0, 0, &A[1], 1000000);
    CHECK_EQ_INT(submit(c, port, &a), 200);
    tcore(&a, &gt_kind_mint, 0, 1, &A[2], 1000000);
    CHECK_EQ_INT(submit(c, port, &a), 200);
    tagent_register(&a, 2, 0, "echo");
    CHECK_EQ_INT(submit(c, port, &a), 200);
    ttask_post(&a, 1, 0, "echo", 1);
    CHECK_EQ_INT(submit(c, port, &a), 200);
    memcpy(task, a.id, 32);
    ttask_post(&a, 1, 1, "echo", 2);
    CHECK_EQ_INT(submit(c, port, &a), 200);
    memcpy(task2, a.id, 32);
    uint8_t result[32];
    memset(result, 7, 32);
    ttask_ref(&a, &gt_kind_task_claim, 2, 1, task, -1);
    CHECK_EQ_INT(submit(c, port, &a), 200);
    ttask_submit(&a, 2, 2, task, result);
    CHECK_EQ_INT(submit(c, port, &a), 200);
    ttask_verify(&a, 1, 2, task, result);
    CHECK_EQ_INT(submit(c, port, &a), 200);
    return n;
}

static void test_damaged_rows_are_errors(void) {
    CURL *c = curl_easy_init();
    uint8_t task[32], task2[32];
    gt_node *n = market(c, task, task2);
    uint16_t port = gt_node_port(n);
    char tid[65], tid2[65], tpath[128], apath[128], sql[512];
    gt_hex_encode(task, 32, tid);
    gt_hex_encode(task2, 32, tid2);
    snprintf(tpath, sizeof tpath, "/v1/tasks/0x%s", tid);
    snprintf(apath, sizeof apath, "/v1/agents/%s", AS[2]);
    /* whole: every view answers */
    const char *views[] = {tpath, "/v1/tasks", apath, "/v1/agents"};
    for (int i = 0; i < 4; i++) free(expect_ok(c, port, views[i]));
    /* an agent's model blob of 1 byte (was read as zeros: "model": null) */
    damage("UPDATE mk_agents SET model=x'01'");
    expect_damaged(c, port, apath, "damaged row in table mk_agents, column model");
    expect_damaged(c, port, "/v1/agents", "damaged row in table mk_agents, column model");
    damage("UPDATE mk_agents SET model=zeroblob(32)");
    /* its address (was the zero address) and its card id */
    damage("UPDATE mk_agents SET card_id=x'0102'");
    expect_damaged(c, port, "/v1/agents", "damaged row in table mk_agents, column card_id");
    damage("UPDATE mk_agents SET card_id=zeroblob(32)");
    damage("UPDATE mk_agents SET price='cheap'");
    expect_damaged(c, port, apath, "damaged row in table mk_agents, column price");
    damage("UPDATE mk_agents SET price=1");
    damage("UPDATE mk_agents SET status=7");
    expect_damaged(c, port, "/v1/agents", "damaged row in table mk_agents, column status");
    damage("UPDATE mk_agents SET status=0");
    /* the escrow's lock amount as text (was shown as "0") */
    snprintf(sql, sizeof sql, "UPDATE locks SET amount='much' WHERE amount=%d", 1000);
    damage(sql);
    expect_damaged(c, port, tpath, "damaged row in table locks, column amount");
    expect_damaged(c, port, "/v1/tasks", "damaged row in table locks, column amount");
    damage("UPDATE locks SET amount=1000 WHERE amount='much'");
    /* a slot state and a task status out of range (were "unknown") */
    snprintf(sql, sizeof sql, "UPDATE mk_slots SET state=42 WHERE task=x'%s'", tid);
    damage(sql);
    expect_damaged(c, port, tpath, "damaged row in table mk_slots, column state");
    snprintf(sql, sizeof sql, "UPDATE mk_slots SET state=%d WHERE task=x'%s'", GT_SLOT_ACCEPTED, tid);
    damage(sql);
    snprintf(sql, sizeof sql, "UPDATE mk_tasks SET status=9 WHERE id=x'%s'", tid2);
    damage(sql);
    expect_damaged(c, port, "/v1/tasks", "damaged row in table mk_tasks, column status");
    snprintf(sql, sizeof sql, "UPDATE mk_tasks SET status=0 WHERE id=x'%s'", tid2);
    damage(sql);
    /* a sub-task whose id is 1 byte (was skipped from "subtasks") */
    snprintf(sql, sizeof sql, "UPDATE mk_tasks SET parent=x'%s', id=x'03' WHERE id=x'%s'", tid, tid2);
    damage(sql);
    expect_damaged(c, port, tpath, "damaged row in table mk_tasks, column id");
    snprintf(sql, sizeof sql, "UPDATE mk_tasks SET parent=zeroblob(32), id=x'%s' WHERE id=x'03'", tid2);
    damage(sql);
    /* whole again, and showing what was there */
    char *body = expect_ok(c, port, tpath);
    CHECK_CONTAINS(body, "\"state\":\"accepted\"");
    CHECK_CONTAINS(body, "\"escrow\":\"1000\"");
    CHECK_CONTAINS(body, "\"subtasksMore\":false");
    free(body);
    for (int i = 0; i < 4; i++) free(expect_ok(c, port, views[i]));
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

/* A task with more sub-tasks than a view lists (rows copied by hand: the
 * rules bound nothing here, so the view must): the first 100, oldest first,
 * and "subtasksMore": true; GET /v1/tasks?parent= pages through all. */
static void test_subtasks_bounded(void) {
    CURL *c = curl_easy_init();
    uint8_t task[32], task2[32];
    gt_node *n = market(c, task, task2);
    uint16_t port = gt_node_port(n);
    char tid[65], tid2[65], sql[1024], path[256];
    gt_hex_encode(task, 32, tid);
    gt_hex_encode(task2, 32, tid2);
    snprintf(sql, sizeof sql,
             "CREATE TEMP TABLE c AS SELECT * FROM mk_tasks WHERE id=x'%s'; UPDATE c SET parent=x'%s';"
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM k WHERE i<150) "
             "INSERT INTO c SELECT randomblob(32), poster, kind, spec, parent, slots, bounty, stake, verifier, fee, "
             "quorum, policy, submit_s, verify_s, posted_height, expiry_height, status, claims, seats_per_worker, "
             "expiry_s, batch_items, last_batch_items FROM c, k; DELETE FROM c WHERE id=x'%s';"
             "INSERT INTO mk_tasks SELECT * FROM c",
             tid2, tid, tid2);
    damage(sql);
    snprintf(path, sizeof path, "/v1/tasks/0x%s", tid);
    char *body = expect_ok(c, port, path);
    json_t *j = json_loads(body, 0, NULL);
    CHECK_EQ_INT((int)json_array_size(json_object_get(j, "subtasks")), 100);
    CHECK(json_is_true(json_object_get(j, "subtasksMore")));
    json_decref(j);
    free(body);
    snprintf(path, sizeof path, "/v1/tasks?parent=0x%s&limit=100&cursor=100", tid);
    body = expect_ok(c, port, path);
    j = json_loads(body, 0, NULL);
    CHECK_EQ_INT((int)json_array_size(json_object_get(j, "tasks")), 50);
    json_decref(j);
    free(body);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

int main(void) {
    for (int i = 0; i < 8; i++) {
        tkey(i, &K[i], &A[i]);
        gt_addr_to_str(&A[i], AS[i]);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_damaged_rows_are_errors);
    RUN(test_subtasks_bounded);
    curl_global_cleanup();
    return gt_test_finish();
}
