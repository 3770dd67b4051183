/* test_api_supply.c: GET /v1/supply, the supply check over the whole ledger.
 * On a ledger longer than the 2000 blocks the dashboard used to read, with
 * money in every bucket (balance, stake, escrow lock, unbonding), the figures
 * are exact and agree. Damage made by hand while the node runs (a balance
 * raised, a lock or an unbonding entry changed) is reported as a
 * disagreement naming what does not add up; an amount that is not a number
 * is a 500 EDB naming the table and column. A query parameter is refused. */
#include <sqlite3.h>

#include "../test.h"
#include "api_util.h"
#include "ledger/rules.h"
#include "market/market.h"

static char dir[64];

/* Submits one action; expects 200. */
static void submit(CURL *c, uint16_t port, const gt_action *a) {
    thttp h;
    char *s = tjson(a);
    long st = tpost(c, port, "/v1/actions", s, &h);
    CHECK_MSG(st == 200, "submit: %ld %s", st, h.body);
    free(s);
    thttp_free(&h);
}

/* Runs sql on the node's ledger from a connection of the test's own. */
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

/* GET /v1/supply: expects status; returns the parsed body (json_decref it). */
static json_t *supply(CURL *c, uint16_t port, long status) {
    thttp h;
    long st = tget(c, port, "/v1/supply", &h);
    CHECK_MSG(st == status, "GET /v1/supply: %ld %s", st, h.body);
    json_t *j = json_loads(h.body ? h.body : "null", 0, NULL);
    CHECK(j != NULL);
    thttp_free(&h);
    return j;
}

static const char *str(json_t *j, const char *k) {
    const char *s = json_string_value(json_object_get(j, k));
    return s ? s : "(none)";
}

static const char *sub(json_t *j, const char *k, const char *k2) { return str(json_object_get(j, k), k2); }

/* Expects the check to fail with one problem containing want. */
static void expect_problem(CURL *c, uint16_t port, const char *want) {
    json_t *j = supply(c, port, 200);
    json_t *p = json_object_get(j, "problems");
    CHECK(json_is_false(json_object_get(j, "conserved")));
    CHECK_EQ_INT((int)json_array_size(p), 1);
    const char *msg = json_string_value(json_array_get(p, 0));
    CHECK_MSG(msg && strstr(msg, want), "expected \"%s\" in %s", want, msg ? msg : "(none)");
    json_decref(j);
}

/* Mints to keys 1 and 2 and key 1 transfers to key 3; then 2001 empty
 * blocks; then key 1 stakes, unstakes part and posts a task (its bounty
 * locked in escrow). */
static void fill(CURL *c, gt_node *n) {
    uint16_t port = gt_node_port(n);
    gt_key k;
    gt_addr a1, a2, a3;
    tkey(1, &k, &a1);
    tkey(2, &k, &a2);
    tkey(3, &k, &a3);
    gt_action a;
    tcore(&a, &gt_kind_mint, 0, 0, &a1, 1000000);
    submit(c, port, &a);
    tcore(&a, &gt_kind_mint, 0, 1, &a2, 500000);
    submit(c, port, &a);
    tcore(&a, &gt_kind_transfer, 1, 0, &a3, 200000);
    submit(c, port, &a);
    gt_err err = {0};
    for (int i = 0; i < 2001; i++) CHECK_MSG(gt_node_tick(n, &err) == 0, "tick: %s", err.msg);
    tcore(&a, &gt_kind_stake, 1, 1, NULL, 100000);
    submit(c, port, &a);
    tcore(&a, &gt_kind_unstake, 1, 2, NULL, 40000);
    submit(c, port, &a);
    ttask_post(&a, 1, 3, "echo", 1); /* bounty 1000 x 1 slot, locked */
    submit(c, port, &a);
}

static void test_whole_ledger(void) {
    CURL *c = curl_easy_init();
    gt_node *n = tnode(thome(dir), 2, 0);
    uint16_t port = gt_node_port(n);
    fill(c, n);
    json_t *j = supply(c, port, 200);
    CHECK(json_integer_value(json_object_get(j, "height")) > 2000); /* the mints are in blocks 1..3 */
    CHECK_STR(str(j, "supply"), "1500000");
    CHECK_STR(str(j, "held"), "1500000");
    CHECK_STR(str(j, "balance"), "1399000"); /* 1500000 - staked - unbonding - locked */
    CHECK_STR(str(j, "staked"), "60000");
    CHECK_STR(str(j, "locked"), "1000");
    CHECK_STR(str(j, "unbonding"), "40000");
    CHECK_STR(sub(j, "locks", "total"), "1000");
    CHECK_STR(sub(j, "unbondingEntries", "total"), "40000");
    CHECK_EQ_INT((int)json_integer_value(json_object_get(json_object_get(j, "locks"), "count")), 1);
    CHECK_EQ_INT((int)json_integer_value(json_object_get(j, "accounts")), 4); /* the authority's nonce too */
    CHECK(json_is_true(json_object_get(j, "conserved")));
    CHECK_EQ_INT((int)json_array_size(json_object_get(j, "problems")), 0);
    json_decref(j);

    /* a balance raised by hand: more held than supplied */
    damage("UPDATE accounts SET balance=balance+5 WHERE balance=200000");
    expect_problem(c, port, "the accounts hold 1500005 base units in all, but the supply is 1500000");
    damage("UPDATE accounts SET balance=balance-5 WHERE balance=200005");
    /* an escrow lock changed: locked no longer matches the locks (and the supply) */
    damage("UPDATE locks SET amount=amount+1");
    expect_problem(c, port, "1000 base units locked, but their escrow locks hold 1001");
    damage("UPDATE locks SET amount=amount-1");
    damage("UPDATE unbonding SET amount=amount-1");
    expect_problem(c, port, "40000 base units unbonding, but their unbonding entries hold 39999");
    damage("UPDATE unbonding SET amount=amount+1");
    /* an amount that is text: an error naming it, never a zero */
    damage("UPDATE accounts SET staked='lots' WHERE staked=60000");
    j = supply(c, port, 500);
    CHECK_STR(sub(j, "error", "code"), "EDB");
    CHECK_MSG(strstr(sub(j, "error", "message"), "damaged row in table accounts, column staked"), "%s",
              sub(j, "error", "message"));
    json_decref(j);
    damage("UPDATE accounts SET staked=60000 WHERE staked='lots'");
    j = supply(c, port, 200);
    CHECK(json_is_true(json_object_get(j, "conserved")));
    json_decref(j);

    thttp h;
    CHECK_EQ_INT((int)tget(c, port, "/v1/supply?from=0", &h), 400);
    thttp_free(&h);
    gt_node_stop(n);
    curl_easy_cleanup(c);
    trm(dir);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_whole_ledger);
    curl_global_cleanup();
    return gt_test_finish();
}
