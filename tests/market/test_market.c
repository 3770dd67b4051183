/* test_market.c: rules the scenario files do not reach, checked through the
 * C API: quorum rejections (fee shared from the stake), disputes with no
 * votes and a full panel closing early, the listing queries with filters and
 * pages, reputation totals, the audit catching books that disagree with the
 * locks, and replay of everything. */

/* Extra validators for the drawn panel: more than GT_MARKET_PANEL_SEATS. */
#define N_EXTRA 70
#include "market_util.h"

static void test_register_idempotent(void) {
    gt_err err = {0};
    CHECK_EQ_INT(gt_market_register(&err), 0);
    CHECK_EQ_INT(gt_market_register(&err), 0);
    CHECK(gt_action_kind_by_name("task_post") == &gt_kind_task_post);
    CHECK_STR(gt_kind_task_post.encode_type,
              "TaskPost(address from,uint64 nonce,string kind,bytes32 spec,bytes32 parent,uint64 slots,uint64 bounty,"
              "uint64 stake,address verifier,uint64 fee,uint64 quorum,uint64 claimSeconds,uint64 submitSeconds,"
              "uint64 verifySeconds,uint64 seatsPerWorker,uint64 batchItems,uint64 lastBatchItems)");
}

static void test_quorum_reject(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    uint8_t t[32];
    gt_result r;
    CHECK_EQ_INT(act(l, ALICE, t, &r, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,\"fee\":%llu,"
                     "\"quorum\":2,\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":10}",
                     blob("spec"), 10 * UNIT, 4 * UNIT, 3 * UNIT), 0);
    claim_submit(l, t, BOB, "bad");
    const char *vote = "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,\"reason\":\"%s\"}";
    /* The panel is V1..V5, 5 staked each (25): a side decides past 2/3 of it. */
    CHECK_EQ_INT(act(l, V1, NULL, NULL, "task_verify", vote, hx(t), blob("bad"), blob("why")), 0);
    CHECK_EQ_U64(acc_of(l, V1).staked, 4 * UNIT); /* 20% of its weight bonded while it judges */
    CHECK_EQ_U64(acc_of(l, V1).locked, 1 * UNIT);
    audit_ok(l);
    CHECK_EQ_INT(act(l, V2, NULL, NULL, "task_verify", vote, hx(t), blob("bad"), blob("why")), 0);
    CHECK_EQ_INT(act(l, V3, NULL, NULL, "task_verify", vote, hx(t), blob("bad"), blob("why")), 0);
    CHECK_EQ_INT(act(l, V4, NULL, NULL, "task_verify", vote, hx(t), blob("bad"), blob("why")), 0);
    /* decided at 20 of 25: a fifth vote finds no submitted result */
    CHECK_EQ_INT(act(l, V5, NULL, &r, "task_verify", vote, hx(t), blob("bad"), blob("why")), GT_ESTATE);
    CHECK_CONTAINS(r.msg, "is rejected");
    CHECK_EQ_U64(acc_of(l, V1).staked, 5 * UNIT); /* winners' bonds back into stake */
    CHECK_EQ_INT(act(l, BOB, NULL, &r, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob("bad")), GT_ESTATE);
    CHECK_CONTAINS(r.msg, "a quorum verdict is final");
    /* no dispute window: anyone settles at once. fee 3 from bob's stake of 4:
     * 0.75 to each rejecting voter (equal weights), the rest (1) to alice. */
    CHECK_EQ_INT(act(l, CAROL, NULL, &r, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(t)), 0);
    CHECK_EQ_U64(acc_of(l, V1).balance, 95 * UNIT + 750000);
    CHECK_EQ_U64(acc_of(l, V2).balance, 95 * UNIT + 750000);
    CHECK_EQ_U64(acc_of(l, V4).balance, 95 * UNIT + 750000);
    CHECK_EQ_U64(acc_of(l, V5).balance, 95 * UNIT);
    CHECK_EQ_U64(acc_of(l, ALICE).balance, 100 * UNIT - 13 * UNIT + 1 * UNIT);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 13 * UNIT); /* the slot reopened: escrow intact */
    CHECK_EQ_U64(acc_of(l, BOB).balance, 96 * UNIT);
    CHECK_EQ_U64(acc_of(l, BOB).locked, 0);
    audit_ok(l);
    /* the second attempt: a fresh panel and vote round (old votes do not count);
     * V2 votes against the outcome and loses its bond (1) to the four winners. */
    claim_submit(l, t, CAROL, "good");
    const char *yes = "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":99}";
    CHECK_EQ_INT(act(l, V2, NULL, NULL, "task_verify", vote, hx(t), blob("good"), blob("why")), 0);
    CHECK_EQ_INT(act(l, V1, NULL, NULL, "task_verify", yes, hx(t), blob("good")), 0);
    CHECK_EQ_INT(act(l, V3, NULL, NULL, "task_verify", yes, hx(t), blob("good")), 0);
    CHECK_EQ_INT(act(l, V4, NULL, NULL, "task_verify", yes, hx(t), blob("good")), 0);
    CHECK_EQ_U64(acc_of(l, V2).staked, 4 * UNIT); /* bonded, still open at 15 of 25 */
    CHECK_EQ_INT(act(l, V5, NULL, NULL, "task_verify", yes, hx(t), blob("good")), 0);
    CHECK_EQ_U64(acc_of(l, V2).staked, 4 * UNIT); /* slashed */
    CHECK_EQ_U64(acc_of(l, V2).locked, 0);
    CHECK_EQ_INT(act(l, CAROL, NULL, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(t)), 0);
    CHECK_EQ_U64(acc_of(l, CAROL).balance, 110 * UNIT);
    /* V3: 0.75 from each fee and a quarter of V2's bond */
    CHECK_EQ_U64(acc_of(l, V3).balance, 95 * UNIT + 1500000 + 250000);
    CHECK_EQ_U64(acc_of(l, V3).staked, 5 * UNIT);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 0);
    audit_ok(l);
    done(l);
}

/* Sets meta's format9_height of the ledger at path (closed). */
static void put_format9_height(unsigned long long height) {
    sqlite3 *db;
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET value=%llu WHERE key='format9_height'", height);
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_changes(db), 1);
    sqlite3_close(db);
}

/* A quorum round where V1..V3 of the panel V1..V5 (5 staked each: 25)
 * accept BOB's result, 15: not more than two thirds, so it stays open; V4
 * and V5 stay silent (the poster's, say) until the verify deadline passes. */
static void withheld_round(gt_ledger *l) {
    uint8_t t[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,\"fee\":%llu,"
                     "\"quorum\":2,\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":5}",
                     blob("spec"), 10 * UNIT, 4 * UNIT, 3 * UNIT), 0);
    claim_submit(l, t, BOB, "good");
    const char *yes = "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":90}";
    for (int v = V1; v <= V3; v++) CHECK_EQ_INT(act(l, v, NULL, NULL, "task_verify", yes, hx(t), blob("good")), 0);
    CHECK_EQ_U64(acc_of(l, BOB).locked, 4 * UNIT); /* still submitted: the stake held */
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(tick(l, NULL), 0);
    CHECK_EQ_INT(act(l, CAROL, NULL, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(t)),
                 gt_ledger_genesis(l)->format9_height ? GT_ESTATE : 0); /* a timeout leaves nothing to settle */
    CHECK_EQ_U64(acc_of(l, BOB).locked, 0);
    audit_ok(l);
}

/* At a quorum round's deadline a side holding more than half of the panel's
 * weight decides (format 9's rule: members holding a third who stay silent
 * no longer withhold the worker's pay), from format 9's height on; a round
 * whose deadline came before it was timed out and replays so, and the
 * replay fails if the rule is moved under it. */
static void test_quorum_deadline_majority(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    withheld_round(l);
    CHECK_EQ_U64(acc_of(l, BOB).balance, 110 * UNIT); /* accepted at the deadline: bounty 10, stake back */
    CHECK_EQ_U64(acc_of(l, ALICE).balance, 87 * UNIT);
    CHECK_EQ_U64(acc_of(l, V1).balance, 96 * UNIT); /* a third of the fee of 3 each */
    CHECK_EQ_U64(acc_of(l, V4).balance, 95 * UNIT);
    done(l);

    l = fresh();
    gt_ledger_close(l);
    put_format9_height(1000000); /* as if upgraded from format 8 far ahead */
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    setup(l, 5 * UNIT);
    withheld_round(l);
    CHECK_EQ_U64(acc_of(l, BOB).balance, 100 * UNIT); /* format 8's rule: timed out, everyone refunded */
    CHECK_EQ_U64(acc_of(l, ALICE).balance, 100 * UNIT);
    CHECK_EQ_U64(acc_of(l, V1).balance, 95 * UNIT);
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    put_format9_height(0);
    CHECK(gt_ledger_verify(path, &rep, NULL, NULL, &err) != 0); /* replayed under the new rule: another state */
    put_format9_height(1000000);
    done(NULL);
}

/* A dispute nobody votes on: the rejection stands, nobody's bond is taken. */
static void test_dispute_no_votes(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    uint8_t t[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                     "\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":5}", blob("s"), 10 * UNIT, 2 * UNIT), 0);
    claim_submit(l, t, BOB, "r");
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,\"reason\":\"%s\"}",
                     hx(t), blob("r"), blob("no")), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob("r")), 0);
    CHECK_EQ_U64(acc_of(l, BOB).locked, 4 * UNIT);
    for (int i = 0; i < GT_LEDGER_SHORT_WINDOW_S; i++) CHECK_EQ_INT(tick(l, NULL), 0);
    CHECK_EQ_U64(acc_of(l, BOB).locked, 0);
    CHECK_EQ_U64(acc_of(l, BOB).balance, 98 * UNIT);               /* bond back, stake lost */
    CHECK_EQ_U64(acc_of(l, ALICE).balance, 90 * UNIT + 2 * UNIT);  /* stake + own bond back */
    audit_ok(l);
    done(l);
}

/* A dispute closes without waiting for its deadline once one side holds more
 * than half of the panel's stake; votes weigh stake, so one big validator
 * outweighs four small ones, and the small ones lose their judge bonds. */
static int read_task(void *arg, gt_tx *tx, gt_err *err) {
    void **a = arg;
    a[1] = gt_market_task_get(tx->db, a[0], err);
    return 0;
}

/* A sealed round's view says when its commit window closes (commitDeadline):
 * agents reveal from then on (agent_seal.c), so it must be the round's
 * deadline less the network's reveal window, on the slot (a quorum round)
 * as on its dispute. The view was read with no windows (mk_read_tx), so
 * it said the round's end: an agent whose panel had a silent member
 * revealed in the reveal window's last second, and a block a second late
 * left its commitment unrevealed and its bond slashed. */
static void test_commit_deadline_view(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    uint8_t t[32], salt[32] = {1}, cm[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,\"fee\":%llu,"
                     "\"quorum\":2,\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":10}",
                     blob("spec"), 10 * UNIT, 4 * UNIT, 3 * UNIT), 0);
    claim_submit(l, t, BOB, "good");
    gt_market_vote_commitment(1, salt, &A[V1], t, 0, 0, GT_MARKET_ROUND_VERIFY, cm);
    char c[67];
    snprintf(c, sizeof c, "%s", hx(cm));
    CHECK_EQ_INT(act(l, V1, NULL, NULL, "vote_commit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"commitment\":\"%s\"}",
                     hx(t), blob("good"), c), 0);
    void *a[2] = {t, NULL};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_read(l, read_task, a, &err), 0);
    json_t *sl = json_array_get(json_object_get(a[1], "slotList"), 0);
    json_int_t end = json_integer_value(json_object_get(sl, "deadline"));
    json_int_t commit_end = json_integer_value(json_object_get(sl, "commitDeadline"));
    CHECK(json_is_integer(json_object_get(sl, "commitDeadline")));
    CHECK_EQ_U64((uint64_t)(end - commit_end), gt_ledger_genesis(l)->windows.reveal_s);
    json_decref(a[1]);
    done(l);
}

static void test_dispute_early_close_weights(void) {
    gt_ledger *l = fresh();
    setup(l, 2 * UNIT);
    CHECK_EQ_INT(act(l, V5, NULL, NULL, "stake", "{\"amount\":%llu}", 20 * UNIT), 0); /* V5: 22 staked */
    uint8_t t[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                     "\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":5}", blob("s"), 10 * UNIT, 3 * UNIT), 0);
    claim_submit(l, t, BOB, "r");
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,\"reason\":\"%s\"}",
                     hx(t), blob("r"), blob("no")), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob("r")), 0);
    const char *v = "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":%s}";
    /* All five in one block: V5's vote (22 of 30) resolves it there and then. */
    static gt_action votes[5];
    gt_result res[5];
    for (int i = V1; i <= V5; i++)
        build(&votes[i - V1], i, nonce_of(l, i), "dispute_vote", v, hx(t), blob("r"), i == V5 ? "true" : "false");
    CHECK_EQ_INT(submit(l, votes, 5, res), 5);
    void *q[2] = {t, NULL};
    gt_ledger_read(l, read_task, q, NULL);
    json_t *task = q[1];
    CHECK(task != NULL);
    json_t *slot = json_array_get(json_object_get(task, "slotList"), 0);
    CHECK_STR(json_string_value(json_object_get(slot, "state")), "paid");
    CHECK_STR(json_string_value(json_object_get(json_object_get(slot, "dispute"), "outcome")), "worker-won");
    CHECK_STR(json_string_value(json_object_get(json_object_get(slot, "dispute"), "acceptWeight")), "22");
    CHECK_STR(json_string_value(json_object_get(json_object_get(slot, "dispute"), "rejectWeight")), "8");
    json_decref(task);
    /* V5 alone voted with the majority: it takes alice's whole bond (3) and
     * the four losers' judge bonds (20% of 2 each). */
    CHECK_EQ_U64(acc_of(l, V5).balance, 78 * UNIT + 3 * UNIT + 4 * 400000);
    CHECK_EQ_U64(acc_of(l, V5).staked, 22 * UNIT);
    CHECK_EQ_U64(acc_of(l, V1).balance, 98 * UNIT);
    CHECK_EQ_U64(acc_of(l, V1).staked, 2 * UNIT - 400000);
    CHECK_EQ_U64(acc_of(l, BOB).balance, 110 * UNIT);
    CHECK_EQ_U64(acc_of(l, ALICE).balance, 87 * UNIT);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 0);
    audit_ok(l);
    done(l);
}

/* Judges are bonded for an unbonding period: a genesis without one is refused. */
static void test_unbonding_floor(void) {
    char d[64], p[128];
    strcpy(d, "/tmp/gt_market_testXXXXXX");
    if (!mkdtemp(d)) abort();
    snprintf(p, sizeof p, "%s/ledger.db", d);
    gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[AUTH], .unbonding_blocks = 0, .time_s = 1700000000};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(p, &g, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "unbonding period must be at least 1 block, got 0");
    CHECK(access(p, F_OK) != 0);
    rmdir(d);
}

/* Splitting one stake over many addresses buys no weight: five validators of
 * 2 each weigh what one of 10 weighs, and neither decides alone against an
 * honest 10 (the early close needs two thirds of the panel's stake). */
static void test_split_stake_no_gain(void) {
    gt_ledger *l = fresh();
    setup(l, 2 * UNIT); /* V1..V5: 2 each, one party split five ways */
    CHECK_EQ_INT(act(l, CAROL, NULL, NULL, "stake", "{\"amount\":%llu}", 10 * UNIT), 0); /* the honest 10 */
    uint8_t t[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                     "\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":5}", blob("s"), 10 * UNIT, 2 * UNIT), 0);
    claim_submit(l, t, BOB, "r");
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,\"reason\":\"%s\"}",
                     hx(t), blob("r"), blob("no")), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob("r")), 0);
    const char *v = "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":%s}";
    /* The five in one block (a dispute's vote stays open only a few blocks). */
    static gt_action votes[5];
    gt_result res[5];
    for (int i = V1; i <= V5; i++) build(&votes[i - V1], i, nonce_of(l, i), "dispute_vote", v, hx(t), blob("r"), "false");
    CHECK_EQ_INT(submit(l, votes, 5, res), 5);
    void *q[2] = {t, NULL};
    gt_ledger_read(l, read_task, q, NULL);
    json_t *slot = json_array_get(json_object_get(q[1], "slotList"), 0);
    CHECK_STR(json_string_value(json_object_get(slot, "state")), "disputed"); /* 10 of 20: open */
    CHECK_STR(json_string_value(json_object_get(json_object_get(slot, "dispute"), "rejectWeight")), "10");
    json_decref(q[1]);
    CHECK_EQ_INT(act(l, CAROL, NULL, NULL, "dispute_vote", v, hx(t), blob("r"), "true"), 0);
    /* The whole panel voted, 10 to 10: no decision; the rejection stands, no bond is taken. */
    q[1] = NULL;
    gt_ledger_read(l, read_task, q, NULL);
    slot = json_array_get(json_object_get(q[1], "slotList"), 0);
    CHECK_STR(json_string_value(json_object_get(slot, "state")), "open"); /* the slot reopened */
    CHECK_EQ_INT(json_integer_value(json_object_get(slot, "attempt")), 1);
    CHECK_EQ_U64(acc_of(l, BOB).balance, 98 * UNIT); /* stake lost, dispute bond back */
    json_decref(q[1]);
    for (int i = V1; i <= V5; i++) CHECK_EQ_U64(acc_of(l, i).staked, 2 * UNIT);
    CHECK_EQ_U64(acc_of(l, CAROL).staked, 10 * UNIT);
    CHECK_EQ_U64(acc_of(l, BOB).locked, 0);
    audit_ok(l);
    done(l);
}

/* Sends acts[0..n) in blocks of up to 16 actions; each must succeed. */
static void submit_all(gt_ledger *l, gt_action *acts, size_t n) {
    static gt_result res[16];
    for (size_t i = 0; i < n; i += 16) {
        size_t k = n - i < 16 ? n - i : 16;
        CHECK_EQ_INT(submit(l, acts + i, k, res), (int)k);
    }
}

typedef struct panel_row { gt_addr member; uint64_t weight; } panel_row;
typedef struct panel_arg { panel_row rows[GT_MARKET_PANEL_SEATS + 1]; int n; uint64_t total; } panel_arg;
static int read_panel(void *arg, gt_tx *tx, gt_err *err) {
    panel_arg *p = arg;
    (void)err;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(tx->db, "SELECT member, weight FROM mk_panels WHERE round=1 ORDER BY member", -1, &q, NULL))
        return 0;
    while (sqlite3_step(q) == SQLITE_ROW && p->n <= GT_MARKET_PANEL_SEATS) {
        memcpy(p->rows[p->n].member.b, sqlite3_column_blob(q, 0), 20);
        p->rows[p->n].weight = (uint64_t)sqlite3_column_int64(q, 1);
        p->total += p->rows[p->n++].weight;
    }
    sqlite3_finalize(q);
    return 0;
}

/* More eligible validators than seats: the dispute's panel is drawn by stake
 * two blocks after it opened, from the hash of the block in between; nobody
 * votes before; only the drawn members vote; replay draws the same panel. */
static void test_panel_drawn(void) {
    gt_ledger *l = fresh();
    setup(l, 2 * UNIT);
    static gt_action acts[2 * N_EXTRA];
    for (int i = 0; i < N_EXTRA; i++)
        build(&acts[i], AUTH, nonce_of(l, AUTH) + (uint64_t)i, "mint", "{\"to\":\"%s\",\"amount\":%llu}", ad(N_KEYS + i),
              100 * UNIT);
    submit_all(l, acts, N_EXTRA);
    for (int i = 0; i < N_EXTRA; i++) /* stakes 1..70 tokens */
        build(&acts[i], N_KEYS + i, 0, "stake", "{\"amount\":%llu}", (unsigned long long)(i + 1) * UNIT);
    submit_all(l, acts, N_EXTRA);
    uint8_t t[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                     "\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":5}", blob("s"), 10 * UNIT, 2 * UNIT), 0);
    claim_submit(l, t, BOB, "r");
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,\"reason\":\"%s\"}",
                     hx(t), blob("r"), blob("no")), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob("r")), 0);
    const char *v = "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":%s}";
    gt_result r;
    int big = N_KEYS + N_EXTRA - 1; /* 70 staked: the likeliest member */
    CHECK_EQ_INT(act(l, big, NULL, &r, "dispute_vote", v, hx(t), blob("r"), "true"), GT_ESTATE);
    CHECK_CONTAINS(r.msg, "panel is drawn at the start of block");
    panel_arg p;
    memset(&p, 0, sizeof p);
    gt_ledger_read(l, read_panel, &p, NULL);
    CHECK_EQ_INT(p.n, 0);
    CHECK_EQ_INT(tick(l, NULL), 0);
    CHECK_EQ_INT(tick(l, NULL), 0);
    memset(&p, 0, sizeof p);
    gt_ledger_read(l, read_panel, &p, NULL);
    /* Eligible: V1..V5 (2 each) and the extras (1..70): 2495 tokens. */
    uint64_t eligible = 10 * UNIT + (uint64_t)N_EXTRA * (N_EXTRA + 1) / 2 * UNIT;
    CHECK(p.n >= 1 && p.n <= GT_MARKET_PANEL_SEATS);
    CHECK(p.total <= eligible && p.total + GT_MARKET_PANEL_SEATS >= eligible); /* seats x share, rounded down */
    int member = -1, outsider = -1;
    for (int i = N_KEYS; i < N_KEYS + N_EXTRA; i++) {
        int on = 0;
        for (int k = 0; k < p.n; k++) on |= gt_addr_eq(&p.rows[k].member, &A[i]);
        if (on && member < 0) member = i;
        if (!on && outsider < 0) outsider = i;
    }
    CHECK(member >= 0 && outsider >= 0);
    if (member >= 0) CHECK_EQ_INT(act(l, member, NULL, NULL, "dispute_vote", v, hx(t), blob("r"), "true"), 0);
    if (outsider >= 0) {
        CHECK_EQ_INT(act(l, outsider, NULL, &r, "dispute_vote", v, hx(t), blob("r"), "true"), GT_EPERM);
        CHECK_CONTAINS(r.msg, "is not on this dispute's panel");
    }
    audit_ok(l);
    for (int i = 0; i < GT_LEDGER_SHORT_WINDOW_S; i++) CHECK_EQ_INT(tick(l, NULL), 0);
    CHECK_EQ_U64(acc_of(l, BOB).locked, 0); /* resolved at its deadline: the only vote was for the worker */
    CHECK_EQ_U64(acc_of(l, BOB).balance, 110 * UNIT);
    audit_ok(l);
    done(l); /* replays the log: the same draws from the same block hashes */
}

/* The bound, measured: a party holding just under a third of the eligible
 * stake, split over 50 addresses, against 150 honest validators of assorted
 * stakes. Over 20000 seeds it must win a majority of the 63 seats (the
 * judgement, if every honest member votes) in at most 0.5% of draws (the
 * binomial tail is 0.31%) and two thirds of them (an early close) in none;
 * splitting its stake gains it no seats against holding it in one address. */
static void test_panel_bound(void) {
    enum { HONEST = 150, SYBILS = 50, TRIALS = 20000 };
    static uint64_t split[HONEST + SYBILS], single[HONEST + 1];
    static uint32_t seats[HONEST + SYBILS];
    uint64_t honest = 0, x = 12345;
    for (int i = 0; i < HONEST; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull; /* LCG: assorted stakes, 1..64 tokens */
        split[i] = single[i] = ((x >> 33) % 64 + 1) * UNIT;
        honest += split[i];
    }
    /* attacker = just under half of honest = just under a third of all */
    uint64_t attacker = honest / 2 - SYBILS;
    for (int i = 0; i < SYBILS; i++) split[HONEST + i] = attacker / SYBILS;
    single[HONEST] = attacker / SYBILS * SYBILS;
    CHECK(3 * single[HONEST] < honest + single[HONEST]);
    int wins = 0, closes = 0;
    uint64_t seats_split = 0, seats_single = 0;
    for (int t = 0; t < TRIALS; t++) {
        uint8_t seed[32];
        char buf[32];
        snprintf(buf, sizeof buf, "panel-bound-%d", t);
        gt_keccak256(buf, strlen(buf), seed);
        mk_panel_draw_seats(seed, split, HONEST + SYBILS, seats);
        uint32_t a = 0, all = 0;
        for (int i = 0; i < HONEST + SYBILS; i++) all += seats[i], a += i >= HONEST ? seats[i] : 0;
        CHECK_EQ_INT((int)all, GT_MARKET_PANEL_SEATS);
        wins += 2 * a > GT_MARKET_PANEL_SEATS;
        closes += 3 * a > 2 * GT_MARKET_PANEL_SEATS;
        seats_split += a;
        seed[0] ^= 0x5a; /* an independent draw for the single-address attacker */
        mk_panel_draw_seats(seed, single, HONEST + 1, seats);
        seats_single += seats[HONEST];
    }
    fprintf(stderr, "panel bound: attacker with %.2f%% of the stake won a majority of seats in %d of %d draws "
                    "(%.3f%%), two thirds in %d; mean seats split %.2f, single %.2f\n",
            100.0 * (double)single[HONEST] / (double)(honest + single[HONEST]), wins, TRIALS,
            100.0 * wins / TRIALS, closes, (double)seats_split / TRIALS, (double)seats_single / TRIALS);
    CHECK(wins * 200 <= TRIALS); /* <= 0.5% */
    CHECK_EQ_INT(closes, 0);
    /* Same expected seats (21 = 63/3 at most): the difference of two means
     * of 20000 draws (sd of a mean ~0.03 seats) stays well under 0.25. */
    double d = (double)seats_split / TRIALS - (double)seats_single / TRIALS;
    CHECK(d < 0.25 && d > -0.25);
}

/* Property: an honest worker that claims never loses its stake, whatever the
 * poster's windows and whatever others send. The worker takes J seconds of
 * block time to do the work and claims only when the submit window (seconds
 * of block time) exceeds J, as the agent's claim policy does.
 * Between its claim and its submission an adversary makes F blocks (0..40)
 * at times of its choosing within those J seconds. 120 random cases. */
static void test_honest_worker_never_slashed(void) {
    gt_ledger *l = fresh();
    setup(l, 2 * UNIT);
    uint64_t now = 1700000000 + 100, x = 777;
    gt_ledger_set_time(l, now);
    int claimed = 0, skipped = 0;
    for (int c = 0; c < 120; c++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t submit_s = GT_MARKET_MIN_WINDOW_S + (x >> 33) % 30; /* the poster's choice */
        uint64_t verify_s = GT_MARKET_MIN_WINDOW_S + (x >> 40) % 10;
        uint64_t job_s = 1 + (x >> 45) % 20;                                    /* the worker's speed */
        uint64_t floods = (x >> 50) % 41;
        uint8_t t[32];
        gt_ledger_set_time(l, ++now);
        CHECK_EQ_INT(act_at(l, ALICE, t, "task_post",
                            "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                            "\"claimSeconds\":%llu,\"submitSeconds\":%llu,\"verifySeconds\":%llu}",
                            blob("p"), 1 * UNIT, 1 * UNIT, (unsigned long long)submit_s + 50,
                            (unsigned long long)submit_s, (unsigned long long)verify_s), 0);
        if (submit_s <= job_s) { skipped++; continue; } /* the policy: no claim */
        claimed++;
        uint64_t before = acc_of(l, BOB).balance + acc_of(l, BOB).locked;
        gt_ledger_set_time(l, ++now);
        uint64_t claim_t = now;
        CHECK_EQ_INT(act_at(l, BOB, NULL, "task_claim", "{\"task\":\"%s\"}", hx(t)), 0);
        for (uint64_t f = 0; f < floods; f++) {
            /* the adversary's blocks: any times from the claim to just before the submission */
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t at = claim_t + (x >> 33) % job_s;
            if (at > now) now = at;
            gt_ledger_set_time(l, now);
            CHECK_EQ_INT(gt_ledger_tick(l, NULL), 0);
        }
        now = claim_t + job_s > now ? claim_t + job_s : now;
        gt_ledger_set_time(l, now);
        gt_result r;
        int rc = act_at_r(l, BOB, &r, "task_submit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob("w"));
        CHECK_MSG(rc == 0, "case %d: submitSeconds %llu, job %llu s, %llu flood blocks: %s", c,
                  (unsigned long long)submit_s, (unsigned long long)job_s, (unsigned long long)floods, r.msg);
        gt_ledger_set_time(l, ++now);
        CHECK_EQ_INT(act_at(l, ALICE, NULL, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true}",
                            hx(t), blob("w")), 0);
        gt_ledger_set_time(l, ++now);
        CHECK_EQ_INT(act_at(l, BOB, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(t)), 0);
        CHECK_EQ_U64(acc_of(l, BOB).balance + acc_of(l, BOB).locked, before + 1 * UNIT); /* bounty in, stake back */
    }
    fprintf(stderr, "honest worker: %d claims (%d tasks skipped as too short), none slashed\n", claimed, skipped);
    CHECK(claimed > 30 && skipped > 5);
    audit_ok(l);
    done(l);
}

typedef struct list_arg { json_t *tasks, *sub, *bob, *page1, *page2, *agents, *active, *rep; } list_arg;
static uint8_t parent_id[32];
static int lists(void *arg, gt_tx *tx, gt_err *err) {
    list_arg *a = arg;
    gt_market_task_filter f = {.status = -1};
    a->tasks = gt_market_tasks_list(tx->db, &f, 0, 0, err);
    f.parent = parent_id;
    a->sub = gt_market_tasks_list(tx->db, &f, 0, 0, err);
    gt_market_task_filter fw = {.status = -1, .worker = &A[BOB]};
    a->bob = gt_market_tasks_list(tx->db, &fw, 0, 0, err);
    gt_market_task_filter fo = {.status = GT_TASK_OPEN, .kind = "code", .poster = &A[ALICE]};
    a->page1 = gt_market_tasks_list(tx->db, &fo, 0, 2, err);
    a->page2 = gt_market_tasks_list(tx->db, &fo, 2, 2, err);
    a->agents = gt_market_agents_list(tx->db, "code", 0, 0, 0, err);
    a->active = gt_market_agents_list(tx->db, "eval", 1, 0, 0, err);
    a->rep = gt_market_reputation(tx->db, &A[BOB], NULL, err);
    return 0;
}

static void test_queries(void) {
    gt_ledger *l = fresh();
    setup(l, 2 * UNIT);
    const char *post = "{\"kind\":\"%s\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,\"parent\":\"%s\","
                       "\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":5}";
    const char *zero = "0x0000000000000000000000000000000000000000000000000000000000000000";
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(act(l, ALICE, i == 0 ? parent_id : NULL, NULL, "task_post", post, "code", blob("s"), UNIT, UNIT, zero), 0);
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_post", post, "eval", blob("s"), UNIT, UNIT, zero), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(parent_id)), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_post", post, "code", blob("sub"), UNIT, UNIT, hx(parent_id)), 0);
    CHECK_EQ_INT(act(l, CAROL, NULL, NULL, "agent_retire", "{}"), 0);
    list_arg a = {0};
    gt_ledger_read(l, lists, &a, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(a.tasks, "tasks")), 5);
    CHECK_EQ_INT(json_array_size(json_object_get(a.sub, "tasks")), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(a.sub, "tasks"), 0), "poster")), ad(BOB));
    CHECK_EQ_INT(json_array_size(json_object_get(a.bob, "tasks")), 1);
    /* alice's open code tasks: 3, two per page, newest first */
    CHECK_EQ_INT(json_array_size(json_object_get(a.page1, "tasks")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(a.page1, "next")), 2);
    CHECK_EQ_INT(json_array_size(json_object_get(a.page2, "tasks")), 1);
    CHECK(json_is_null(json_object_get(a.page2, "next")));
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(a.page2, "tasks"), 0), "id")), hx(parent_id));
    CHECK_EQ_INT(json_array_size(json_object_get(a.agents, "agents")), 2);
    CHECK_EQ_INT(json_array_size(json_object_get(a.active, "agents")), 1);
    CHECK(json_is_object(a.rep) && json_array_size(json_object_get(a.rep, "skills")) == 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(a.rep, "total"), "accepted")), 0);
    json_decref(a.tasks), json_decref(a.sub), json_decref(a.bob), json_decref(a.page1), json_decref(a.page2);
    json_decref(a.agents), json_decref(a.active), json_decref(a.rep);
    audit_ok(l);
    done(l);
}

/* A block committed while a view is being read: the view's queries run in
 * one snapshot. A trace hook commits a write (on another connection) right
 * after the view's first SELECT; each later query of the view used to be its
 * own read transaction and saw it (a task whose claims predate the write
 * beside slots whose attempts follow it). */
typedef struct snap_arg {
    sqlite3 *writer;
    int fired;
} snap_arg;
static int snap_trace(unsigned what, void *arg, void *p, void *x) {
    snap_arg *s = arg;
    (void)x;
    const char *sql = sqlite3_sql((sqlite3_stmt *)p);
    if (what == SQLITE_TRACE_PROFILE && !s->fired && sql && !strncmp(sql, "SELECT", 6)) {
        s->fired = 1;
        CHECK_EQ_INT(sqlite3_exec(s->writer, "BEGIN IMMEDIATE; UPDATE mk_tasks SET claims=claims+100; "
                                             "UPDATE mk_slots SET attempt=attempt+100; COMMIT", NULL, NULL, NULL),
                     SQLITE_OK);
    }
    return 0;
}

static void test_view_one_snapshot(void) {
    gt_ledger *l = fresh();
    setup(l, 2 * UNIT);
    uint8_t t[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":2,\"bounty\":%llu,\"stake\":%llu,"
                     "\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":5}", blob("s"), 10 * UNIT, 2 * UNIT), 0);
    gt_ledger_close(l);
    sqlite3 *rdb, *wdb;
    CHECK_EQ_INT(sqlite3_open_v2(path, &rdb, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_open(path, &wdb), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(wdb, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
    snap_arg s = {wdb, 0};
    sqlite3_trace_v2(rdb, SQLITE_TRACE_PROFILE, snap_trace, &s);
    gt_err err = {0};
    json_t *v = gt_market_task_get(rdb, t, &err);
    CHECK_MSG(v != NULL, "%s", err.msg);
    CHECK_EQ_INT(s.fired, 1);
    json_int_t claims = json_integer_value(json_object_get(v, "claims"));
    json_int_t attempt = json_integer_value(json_object_get(json_array_get(json_object_get(v, "slotList"), 1), "attempt"));
    CHECK_MSG(claims == attempt, "one snapshot: claims %lld beside attempt %lld", (long long)claims, (long long)attempt);
    json_decref(v);
    sqlite3_trace_v2(rdb, 0, NULL, NULL);
    v = gt_market_task_get(rdb, t, &err); /* after the read: the write is seen in full */
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "claims")), 100);
    json_decref(v);
    sqlite3_close(rdb);
    sqlite3_close(wdb);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
}

/* The audit notices books that disagree with the locks. */
static void test_audit_detects(void) {
    gt_ledger *l = fresh();
    setup(l, 2 * UNIT);
    uint8_t t[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":2,\"bounty\":%llu,\"stake\":%llu,"
                     "\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":5}", blob("s"), 10 * UNIT, 2 * UNIT), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(t)), 0);
    audit_ok(l);
    gt_ledger_close(l);
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    gt_err err = {0};
    CHECK_EQ_INT(gt_market_audit(db, NULL, &err), 0);
    /* pretend slot 1 was paid: the escrow now holds one slot too many */
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE mk_slots SET state=6 WHERE slot=1", NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(gt_market_audit(db, NULL, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "the escrow of task");
    CHECK_CONTAINS(err.msg, "holds 20, expected 10");
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE mk_slots SET state=0 WHERE slot=1; UPDATE mk_slots SET state=0 WHERE slot=0",
                              NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(gt_market_audit(db, NULL, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "the worker's stake");
    sqlite3_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
}

int main(void) {
    for (int i = 0; i < N_KEYS + N_EXTRA; i++) {
        char seed[32];
        uint8_t priv[32];
        snprintf(seed, sizeof seed, "market-test-%d", i);
        gt_keccak256(seed, strlen(seed), priv);
        gt_key_from_bytes(&K[i], priv, NULL);
        gt_key_address(&K[i], &A[i]);
    }
    if (gt_market_register(NULL)) return 1;
    RUN(test_register_idempotent);
    RUN(test_quorum_reject);
    RUN(test_quorum_deadline_majority);
    RUN(test_dispute_no_votes);
    RUN(test_dispute_early_close_weights);
    RUN(test_commit_deadline_view);
    RUN(test_unbonding_floor);
    RUN(test_split_stake_no_gain);
    RUN(test_panel_drawn);
    RUN(test_panel_bound);
    RUN(test_honest_worker_never_slashed);
    RUN(test_queries);
    RUN(test_audit_detects);
    RUN(test_view_one_snapshot);
    return gt_test_finish();
}
