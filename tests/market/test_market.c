/* test_market.c: rules the scenario files do not reach, checked through the
 * C API: quorum rejections (fee shared from the stake), disputes with no
 * votes and a full panel closing early, the listing queries with filters and
 * pages, reputation totals, the audit catching books that disagree with the
 * locks, and replay of everything. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "base/amount.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/sha256.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "market/market.h"

#define CHAIN_ID 1337
/* The signing domain of the ledger under test (set by fresh). */
static gt_domain DOM;
#define CHAIN (&DOM)
#define UNIT GT_AMOUNT_UNIT
enum { AUTH, ALICE, BOB, CAROL, V1, V2, V3, V4, V5, N_KEYS };

static gt_key K[N_KEYS];
static gt_addr A[N_KEYS];
static char dir[64], path[128];

static gt_ledger *fresh(void) {
    strcpy(dir, "/tmp/gt_market_testXXXXXX");
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[AUTH], .unbonding_blocks = 10, .time_s = 1700000000};
    gt_err err = {0};
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    DOM = *gt_ledger_domain(l);
    gt_ledger_set_time(l, 1700000000);
    return l;
}

static void done(gt_ledger *l) {
    gt_ledger_close(l);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    if (err.code) fprintf(stderr, "verify: %s\n", err.msg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
}

static uint64_t nonce_of(gt_ledger *l, int who) {
    gt_account acc;
    gt_ledger_account(l, &A[who], &acc, NULL);
    return acc.nonce;
}

/* Builds and signs an action of `type` from key `who` with `nonce`; fields
 * as JSON text (printf-style) with final values: addresses "0x..", bytes32
 * "0x..", u64 integers, booleans. */
static void vbuild(gt_action *a, int who, uint64_t nonce, const char *type, const char *fmt, va_list ap) {
    char text[2048];
    vsnprintf(text, sizeof text, fmt, ap);
    json_error_t je;
    json_t *f = json_loads(text, 0, &je);
    if (!f) { fprintf(stderr, "bad test JSON: %s: %s\n", text, je.text); abort(); }
    const gt_action_kind *k = gt_action_kind_by_name(type);
    if (!k) abort();
    gt_action_init(a, k, CHAIN, &A[who], nonce);
    for (int i = 0; i < k->n_fields; i++) {
        json_t *v = json_object_get(f, k->fields[i].name);
        if (!v) continue;
        switch (k->fields[i].type) {
        case GT_F_ADDRESS: if (gt_addr_parse(json_string_value(v), &a->f[i].addr, NULL)) abort(); break;
        case GT_F_BYTES32: if (gt_hex_decode(json_string_value(v), a->f[i].b32, 32, "b32", NULL)) abort(); break;
        case GT_F_STRING: gt_action_set_str(a, k->fields[i].name, json_string_value(v), strlen(json_string_value(v)), NULL); break;
        case GT_F_BOOL: a->f[i].u64 = json_is_true(v); break;
        case GT_F_U64: a->f[i].u64 = (uint64_t)json_integer_value(v); break;
        }
    }
    json_decref(f);
    if (gt_action_sign(a, &K[who], NULL)) abort();
}

static void build(gt_action *a, int who, uint64_t nonce, const char *type, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vbuild(a, who, nonce, type, fmt, ap);
    va_end(ap);
}

/* Builds, signs and submits one action as its own block. Returns the result
 * code; the action's id into id_out if given. */
static int act(gt_ledger *l, int who, uint8_t *id_out, gt_result *r, const char *type, const char *fmt, ...) {
    static gt_action a;
    va_list ap;
    va_start(ap, fmt);
    vbuild(&a, who, nonce_of(l, who), type, fmt, ap);
    va_end(ap);
    gt_result rr;
    if (!r) r = &rr;
    gt_ledger_submit(l, &a, 1, r);
    if (id_out) memcpy(id_out, a.id, 32);
    return r->code;
}

static const char *hx(const uint8_t b[32]) {
    static char s[4][67];
    static int k;
    k = (k + 1) & 3;
    s[k][0] = '0', s[k][1] = 'x';
    gt_hex_encode(b, 32, s[k] + 2);
    return s[k];
}
static const char *ad(int who) {
    static char s[4][43];
    static int k;
    k = (k + 1) & 3;
    gt_addr_to_str(&A[who], s[k]);
    return s[k];
}
static const char *blob(const char *text) {
    uint8_t h[32];
    gt_sha256(text, strlen(text), h);
    return hx(h);
}

static gt_account acc_of(gt_ledger *l, int who) {
    gt_account a;
    gt_ledger_account(l, &A[who], &a, NULL);
    return a;
}

/* Mints and stakes: every key gets 100; validators stake `stake` units each. */
static void setup(gt_ledger *l, uint64_t validator_stake) {
    for (int i = 1; i < N_KEYS; i++)
        CHECK_EQ_INT(act(l, AUTH, NULL, NULL, "mint", "{\"to\":\"%s\",\"amount\":%llu}", ad(i), 100 * UNIT), 0);
    for (int v = V1; v <= V5; v++)
        CHECK_EQ_INT(act(l, v, NULL, NULL, "stake", "{\"amount\":%llu}", (unsigned long long)validator_stake), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "agent_register", "{\"name\":\"bob\",\"skills\":\"code,eval\"}"), 0);
    CHECK_EQ_INT(act(l, CAROL, NULL, NULL, "agent_register", "{\"name\":\"carol\",\"skills\":\"code,eval\"}"), 0);
}

typedef struct audit_arg { int rc; gt_err err; uint64_t locked; } audit_arg;
static int audit_fn(void *arg, gt_tx *tx, gt_err *err) {
    audit_arg *a = arg;
    (void)err;
    a->rc = gt_market_audit(tx->db, &a->locked, &a->err);
    return 0;
}
static void audit_ok(gt_ledger *l) {
    audit_arg a = {0};
    gt_ledger_read(l, audit_fn, &a, NULL);
    CHECK_EQ_INT(a.rc, 0);
    if (a.rc) fprintf(stderr, "audit: %s\n", a.err.msg);
}

/* Claims and submits `result` on task t by worker. */
static void claim_submit(gt_ledger *l, const uint8_t t[32], int worker, const char *result) {
    CHECK_EQ_INT(act(l, worker, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(t)), 0);
    CHECK_EQ_INT(act(l, worker, NULL, NULL, "task_submit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob(result)), 0);
}

static void test_register_idempotent(void) {
    gt_err err = {0};
    CHECK_EQ_INT(gt_market_register(&err), 0);
    CHECK_EQ_INT(gt_market_register(&err), 0);
    CHECK(gt_action_kind_by_name("task_post") == &gt_kind_task_post);
    CHECK_STR(gt_kind_task_post.encode_type,
              "TaskPost(address from,uint64 nonce,string kind,bytes32 spec,bytes32 parent,uint64 slots,uint64 bounty,"
              "uint64 stake,address verifier,uint64 fee,uint64 quorum,uint64 claimBlocks,uint64 submitBlocks,"
              "uint64 verifyBlocks)");
}

static void test_quorum_reject(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    uint8_t t[32];
    gt_result r;
    CHECK_EQ_INT(act(l, ALICE, t, &r, "task_post",
                     "{\"kind\":\"eval\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,\"fee\":%llu,"
                     "\"quorum\":2,\"claimBlocks\":50,\"submitBlocks\":5,\"verifyBlocks\":5}",
                     blob("spec"), 10 * UNIT, 4 * UNIT, 3 * UNIT), 0);
    claim_submit(l, t, BOB, "bad");
    const char *vote = "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,\"reason\":\"%s\"}";
    CHECK_EQ_INT(act(l, V1, NULL, NULL, "task_verify", vote, hx(t), blob("bad"), blob("why")), 0);
    CHECK_EQ_INT(act(l, V2, NULL, NULL, "task_verify", vote, hx(t), blob("bad"), blob("why")), 0);
    /* decided: a third vote finds no submitted result */
    CHECK_EQ_INT(act(l, V3, NULL, &r, "task_verify", vote, hx(t), blob("bad"), blob("why")), GT_ESTATE);
    CHECK_CONTAINS(r.msg, "is rejected");
    CHECK_EQ_INT(act(l, BOB, NULL, &r, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob("bad")), GT_ESTATE);
    CHECK_CONTAINS(r.msg, "a quorum verdict is final");
    /* no dispute window: anyone settles at once. fee 3 from bob's stake of 4:
     * 1.5 to each rejecting voter, the rest (1) to alice. */
    CHECK_EQ_INT(act(l, CAROL, NULL, &r, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(t)), 0);
    CHECK_EQ_U64(acc_of(l, V1).balance, 95 * UNIT + 1500000);
    CHECK_EQ_U64(acc_of(l, V2).balance, 95 * UNIT + 1500000);
    CHECK_EQ_U64(acc_of(l, V3).balance, 95 * UNIT);
    CHECK_EQ_U64(acc_of(l, ALICE).balance, 100 * UNIT - 13 * UNIT + 1 * UNIT);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 13 * UNIT); /* the slot reopened: escrow intact */
    CHECK_EQ_U64(acc_of(l, BOB).balance, 96 * UNIT);
    CHECK_EQ_U64(acc_of(l, BOB).locked, 0);
    audit_ok(l);
    /* the second attempt: a fresh vote round (old votes do not count) */
    claim_submit(l, t, CAROL, "good");
    const char *yes = "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":99}";
    CHECK_EQ_INT(act(l, V1, NULL, NULL, "task_verify", yes, hx(t), blob("good")), 0);
    CHECK_EQ_INT(act(l, V3, NULL, NULL, "task_verify", yes, hx(t), blob("good")), 0);
    CHECK_EQ_INT(act(l, CAROL, NULL, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(t)), 0);
    CHECK_EQ_U64(acc_of(l, CAROL).balance, 110 * UNIT);
    CHECK_EQ_U64(acc_of(l, V3).balance, 95 * UNIT + 1500000);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 0);
    audit_ok(l);
    done(l);
}

/* A dispute nobody votes on: the rejection stands, nobody's bond is taken. */
static void test_dispute_no_votes(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    uint8_t t[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                     "\"claimBlocks\":50,\"submitBlocks\":5,\"verifyBlocks\":5}", blob("s"), 10 * UNIT, 2 * UNIT), 0);
    claim_submit(l, t, BOB, "r");
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,\"reason\":\"%s\"}",
                     hx(t), blob("r"), blob("no")), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob("r")), 0);
    CHECK_EQ_U64(acc_of(l, BOB).locked, 4 * UNIT);
    for (int i = 0; i < GT_MARKET_DISPUTE_VOTE_BLOCKS; i++) CHECK_EQ_INT(gt_ledger_tick(l, NULL), 0);
    CHECK_EQ_U64(acc_of(l, BOB).locked, 0);
    CHECK_EQ_U64(acc_of(l, BOB).balance, 98 * UNIT);               /* bond back, stake lost */
    CHECK_EQ_U64(acc_of(l, ALICE).balance, 90 * UNIT + 2 * UNIT);  /* stake + own bond back */
    audit_ok(l);
    done(l);
}

/* Five voters close a dispute at once, without waiting for the deadline;
 * votes weigh stake, so one big validator outweighs three small ones. */
static int read_task(void *arg, gt_tx *tx, gt_err *err) {
    void **a = arg;
    a[1] = gt_market_task_get(tx->db, a[0], err);
    return 0;
}

static void test_dispute_early_close_weights(void) {
    gt_ledger *l = fresh();
    setup(l, 2 * UNIT);
    CHECK_EQ_INT(act(l, V5, NULL, NULL, "stake", "{\"amount\":%llu}", 20 * UNIT), 0); /* V5: 22 staked */
    uint8_t t[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                     "\"claimBlocks\":50,\"submitBlocks\":5,\"verifyBlocks\":5}", blob("s"), 10 * UNIT, 3 * UNIT), 0);
    claim_submit(l, t, BOB, "r");
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_verify", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":false,\"reason\":\"%s\"}",
                     hx(t), blob("r"), blob("no")), 0);
    CHECK_EQ_INT(act(l, BOB, NULL, NULL, "task_dispute", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(t), blob("r")), 0);
    const char *v = "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":%s}";
    /* All five in one block: the fifth vote resolves the dispute there and then. */
    static gt_action votes[5];
    gt_result res[5];
    for (int i = V1; i <= V5; i++)
        build(&votes[i - V1], i, nonce_of(l, i), "dispute_vote", v, hx(t), blob("r"), i == V5 ? "true" : "false");
    CHECK_EQ_INT(gt_ledger_submit(l, votes, 5, res), 5);
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
    /* V5 alone voted with the majority: it takes alice's whole bond (3). */
    CHECK_EQ_U64(acc_of(l, V5).balance, 78 * UNIT + 3 * UNIT);
    CHECK_EQ_U64(acc_of(l, V1).balance, 98 * UNIT);
    CHECK_EQ_U64(acc_of(l, BOB).balance, 110 * UNIT);
    CHECK_EQ_U64(acc_of(l, ALICE).balance, 87 * UNIT);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 0);
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
                       "\"claimBlocks\":50,\"submitBlocks\":5,\"verifyBlocks\":5}";
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

/* The audit notices books that disagree with the locks. */
static void test_audit_detects(void) {
    gt_ledger *l = fresh();
    setup(l, 2 * UNIT);
    uint8_t t[32];
    CHECK_EQ_INT(act(l, ALICE, t, NULL, "task_post",
                     "{\"kind\":\"code\",\"spec\":\"%s\",\"slots\":2,\"bounty\":%llu,\"stake\":%llu,"
                     "\"claimBlocks\":50,\"submitBlocks\":5,\"verifyBlocks\":5}", blob("s"), 10 * UNIT, 2 * UNIT), 0);
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
    for (int i = 0; i < N_KEYS; i++) {
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
    RUN(test_dispute_no_votes);
    RUN(test_dispute_early_close_weights);
    RUN(test_queries);
    RUN(test_audit_detects);
    return gt_test_finish();
}
