/* test_market_alloc.c: "succeeds fully or changes nothing" under memory
 * exhaustion. For one action of every kind the ledger and the market know,
 * applied at the block level to a copy of the same ledger, the k-th
 * allocation (base/alloc.h's hook) fails, for every k from the first until
 * the action no longer allocates: each time the action either is refused
 * with GT_ENOMEM and the store (every table, supply included) is exactly as
 * before, or it succeeds and the store is exactly as when nothing failed. */
#include "market_util.h"

#include "base/alloc.h"
#include "ledger/block.h"

static char base_path[160];
static uint8_t t_open[32], t_claimed[32], t_sub[32], t_rej[32], t_acc[32], t_disp[32], t_part[32];

typedef struct acase { int who; const char *type; char fields[512]; gt_action a; } acase;
static acase cases[24];
static int n_cases;

static void add_case(gt_ledger *l, int who, const char *type, const char *fmt, ...) {
    acase *c = &cases[n_cases++];
    c->who = who;
    c->type = type;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->fields, sizeof c->fields, fmt, ap);
    va_end(ap);
    build(&c->a, who, nonce_of(l, who), type, "%s", c->fields);
}

static const char *post_fmt = "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                              "\"claimSeconds\":80,\"submitSeconds\":80,\"verifySeconds\":80%s}";

static void post(gt_ledger *l, uint8_t id[32], const char *spec, const char *extra) {
    CHECK_EQ_INT(act(l, ALICE, id, NULL, "task_post", post_fmt, blob(spec), 10 * UNIT, 2 * UNIT, extra), 0);
}

static void verify(gt_ledger *l, int who, const uint8_t t[32], const char *result, int accept) {
    if (accept)
        CHECK_EQ_INT(act(l, who, NULL, NULL, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\","
                         "\"accept\":true,\"score\":90}", hx(t), blob(result)), 0);
    else
        CHECK_EQ_INT(act(l, who, NULL, NULL, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\","
                         "\"accept\":false,\"reason\":\"%s\"}", hx(t), blob(result), blob("no")), 0);
}

/* A ledger where one action of every kind is valid, and those actions. */
static void make_base(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    CHECK_EQ_INT(act(l, V2, NULL, NULL, "agent_register", "{\"name\":\"v2\",\"skills\":\"code\"}"), 0);
    post(l, t_open, "open", "");
    post(l, t_claimed, "claimed", "");
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(t_claimed)), 0);
    post(l, t_sub, "sub", "");
    claim_submit(l, t_sub, BOB, "s");
    post(l, t_acc, "acc", "");
    claim_submit(l, t_acc, CAROL, "a");
    verify(l, ALICE, t_acc, "a", 1);
    char extra[96];
    snprintf(extra, sizeof extra, ",\"verifier\":\"%s\",\"fee\":1000000,\"batchItems\":4", ad(V2));
    post(l, t_part, "part", extra);
    claim_submit(l, t_part, CAROL, "p");
    /* Last: a dispute window and a vote window are a few blocks long. */
    post(l, t_rej, "rej", "");
    post(l, t_disp, "disp", "");
    claim_submit(l, t_rej, BOB, "r");
    claim_submit(l, t_disp, BOB, "d");
    verify(l, ALICE, t_disp, "d", 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}",
                     hx(t_disp), blob("d")), 0);
    verify(l, ALICE, t_rej, "r", 0);
    audit_ok(l);

    add_case(l, AUTH, "mint", "{\"to\":\"%s\",\"amount\":1}", ad(ALICE));
    add_case(l, ALICE, "transfer", "{\"to\":\"%s\",\"amount\":1}", ad(BOB));
    add_case(l, ALICE, "stake", "{\"amount\":1}");
    add_case(l, V1, "unstake", "{\"amount\":1}");
    add_case(l, ALICE, "agent_register", "{\"name\":\"alice\",\"skills\":\"code,eval\"}");
    add_case(l, BOB, "agent_update", "{\"name\":\"bob\",\"skills\":\"code\",\"model\":\"%s\"}", blob("m"));
    add_case(l, V2, "agent_retire", "{}");
    add_case(l, ALICE, "task_post", post_fmt, blob("new"), 10 * UNIT, 2 * UNIT, "");
    add_case(l, ALICE, "task_cancel", "{\"task\":\"%s\"}", hx(t_open));
    add_case(l, CAROL, "task_claim", "{\"task\":\"%s\"}", hx(t_open));
    add_case(l, BOB, "task_submit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t_claimed), blob("c"));
    add_case(l, ALICE, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":80}",
             hx(t_sub), blob("s"));
    add_case(l, ALICE, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,"
             "\"reason\":\"%s\"}", hx(t_sub), blob("s"), blob("bad"));
    add_case(l, BOB, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t_rej), blob("r"));
    add_case(l, V1, "dispute_vote", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true}", hx(t_disp),
             blob("d"));
    add_case(l, V1, "vote_commit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"commitment\":\"%s\"}",
             hx(t_disp), blob("d"), blob("sealed"));
    add_case(l, CAROL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(t_acc));
    add_case(l, V2, "task_verify_partial", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accepted\":3,"
             "\"total\":4,\"score\":75,\"reason\":\"%s\"}", hx(t_part), blob("p"), blob("r"));
    gt_ledger_close(l);
    snprintf(base_path, sizeof base_path, "%s", path);
}

/* keccak of every row of every table (and so of supply, in meta). */
static void store_hash(sqlite3 *db, uint8_t out[32]) {
    gt_keccak k;
    gt_keccak_init(&k);
    sqlite3_stmt *tables;
    if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name", -1, &tables, NULL))
        abort();
    while (sqlite3_step(tables) == SQLITE_ROW) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", (const char *)sqlite3_column_text(tables, 0));
        gt_keccak_update(&k, sql, strlen(sql));
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL)) abort();
        while (sqlite3_step(q) == SQLITE_ROW)
            for (int c = 0; c < sqlite3_column_count(q); c++) {
                uint8_t type = (uint8_t)sqlite3_column_type(q, c);
                const void *p = sqlite3_column_blob(q, c);
                uint32_t n = (uint32_t)sqlite3_column_bytes(q, c);
                gt_keccak_update(&k, &type, 1);
                gt_keccak_update(&k, &n, 4);
                if (n) gt_keccak_update(&k, p, n);
            }
        sqlite3_finalize(q);
    }
    sqlite3_finalize(tables);
    gt_keccak_final(&k, out);
}

/* A fresh copy of the base store with a writer's tx over it, inside BEGIN
 * (both connections with the market's SQL function, which its index needs). */
static gt_tx copy_tx(sqlite3 **db) {
    static int n;
    char copy[192], vac[256];
    snprintf(copy, sizeof copy, "%s/alloc%d.db", dir, n++);
    if (sqlite3_open(base_path, db) || mk_connect(*db, NULL)) abort();
    snprintf(vac, sizeof vac, "VACUUM INTO '%s'", copy);
    if (sqlite3_exec(*db, vac, NULL, NULL, NULL)) abort();
    sqlite3_close(*db);
    if (sqlite3_open(copy, db) || mk_connect(*db, NULL) || sqlite3_exec(*db, "BEGIN", NULL, NULL, NULL)) abort();
    gt_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.db = *db;
    tx.state = gt_state_new();
    tx.domain = DOM;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(*db, "SELECT max(height), max(time) FROM blocks", -1, &q, NULL) ||
        sqlite3_step(q) != SQLITE_ROW)
        abort();
    tx.height = (uint64_t)sqlite3_column_int64(q, 0) + 1;
    tx.time_s = (uint64_t)sqlite3_column_int64(q, 1) + 1;
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(*db, "SELECT value FROM meta WHERE key='supply'", -1, &q, NULL) ||
        sqlite3_step(q) != SQLITE_ROW)
        abort();
    gt_state_set_supply(tx.state, (uint64_t)sqlite3_column_int64(q, 0));
    sqlite3_finalize(q);
    tx.unbonding_blocks = 10;
    tx.authority = A[AUTH];
    gt_keccak_init(&tx.diff);
    gt_state_block_start(tx.state);
    return tx;
}

/* Applies c's action with the k-th allocation failing (k < 0: none). Returns
 * the action's code; the store's hash after in `after`, before in `before`. */
static int apply_once(const acase *c, long k, uint8_t before[32], uint8_t after[32], gt_err *err) {
    sqlite3 *db;
    gt_tx tx = copy_tx(&db);
    store_hash(db, before);
    gt_alloc_fail_after(k);
    int rc = gt_block_apply_action(&tx, &c->a, err);
    gt_alloc_fail_after(-1);
    int frc = gt_state_flush(&tx, err);
    if (!rc && frc) rc = frc; /* the block commitment lost bytes: the block fails */
    sqlite3_exec(db, frc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    store_hash(db, after);
    gt_state_free(tx.state);
    char copy[512];
    snprintf(copy, sizeof copy, "%s", sqlite3_db_filename(db, "main"));
    sqlite3_close(db);
    unlink(copy);
    return rc;
}

static void test_each_kind(void) {
    for (int i = 0; i < n_cases; i++) {
        const acase *c = &cases[i];
        uint8_t ref[32], before[32], after[32];
        gt_err err = {0};
        int rc = apply_once(c, -1, before, ref, &err);
        CHECK_MSG(rc == 0, "%s as key %d: %s", c->type, c->who, err.msg);
        if (rc) continue;
        CHECK(memcmp(before, ref, 32) != 0); /* it changes something */
        long k = 0;
        int refused = 0;
        for (;; k++) {
            memset(&err, 0, sizeof err);
            rc = apply_once(c, k, before, after, &err);
            if (rc == 0) {
                CHECK_MSG(!memcmp(after, ref, 32), "%s with allocation %ld failing: succeeded differently", c->type, k);
                break;
            }
            refused++;
            CHECK_MSG(rc == GT_ENOMEM, "%s with allocation %ld failing: code %d (%s)", c->type, k, rc, err.msg);
            CHECK_MSG(!memcmp(after, before, 32), "%s with allocation %ld failing: refused but changed the store",
                      c->type, k);
            if (k > 2000) { CHECK_MSG(0, "%s never succeeds", c->type); break; }
        }
        printf("  %-20s %ld allocation points, each refused cleanly\n", c->type, k);
        CHECK_MSG(refused > 0, "%s: no allocation failed, so the hook never reached it", c->type);
    }
}

int main(void) {
    make_keys();
    make_base();
    CHECK(n_cases >= 16);
    RUN(test_each_kind);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
    return gt_test_finish();
}
