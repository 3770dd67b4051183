/* test_chain_index.c: the node's index of the chain's events
 * (src/api/chain_index.c) on a real anvil, at confirmation depth 3:
 *   - an agent's registration and a posted job are indexed only once three
 *     blocks stand on them (their own included), with the job's fields as
 *     the escrow emitted them;
 *   - a reorganisation shallower than the depth never reaches the index: a
 *     registration rolled back before it was deep enough is never indexed;
 *   - a reorganisation deeper than the depth (an indexed block replaced) is
 *     seen at the next round: the index starts over from the deployment
 *     block and holds only what the new chain has;
 *   - an index file made for another deployment is emptied when opened, one
 *     made before the deadline columns is made again with them;
 *   - the node's own work (a job's input) survives both, and a work table
 *     made before a slot's looks and waits gets their columns;
 *   - a slot's wait after a failed look: 10 s, doubled each look, capped at
 *     5 minutes, the looks counted; reopening the index ends every wait;
 *   - a judge's input request is checked without the chain: its expiry
 *     (past, or over 600 s ahead, refused) and its signature, bound to the
 *     chain, court, job and expiry (gt_chain_judge_signed).
 * Skipped (exit 77) with a message when anvil or the contracts are missing. */
#include <sqlite3.h>

#include "../test.h"
#include "../chain/anvil.h"
#include "api/chain_market.h"
#include "chain/court.h"
#include "chain/escrow.h"
#include "crypto/addr.h"

#define DEPTH 3

static gt_chain C;
static gt_chain_account DEPLOYER, ALICE, BOB;
static gt_addr TOKEN, ESCROW, REGISTRY;
static char DIR_[64], PATH[128];

/* One round of the index; returns how many agents it holds. */
static size_t round_agents(gt_cindex *ix) {
    int moved = 0;
    gt_err err;
    CHECK_MSG(gt_cindex_round(ix, &C, DEPTH, &moved, &err) == 0, "%s", err.msg);
    json_t *j = gt_cindex_agents(ix, 0, &err);
    CHECK(j != NULL);
    size_t n = json_array_size(json_object_get(j, "items"));
    json_decref(j);
    return n;
}

static void mine(int n) {
    CHECK_EQ_INT(anvil_rpc(&C, "anvil_mine", json_pack("[i]", n)), 0);
}

static void register_agent(gt_chain_account *a, const char *uri) {
    gt_abi_val args[] = {gt_abi_string(uri)};
    gt_chain_receipt r = {0};
    gt_err err;
    CHECK_MSG(gt_chain_invoke(&C, &REGISTRY, a, "register(string)", args, 1, &r, NULL, &err) == 0, "%s", err.msg);
    gt_chain_receipt_free(&r);
}

/* Registration and job at depth 1 and 2: not indexed; at depth 3: indexed. */
static void test_depth(gt_cindex *ix) {
    uint8_t desc[32], max[32];
    uint64_t id = 0;
    gt_err err;
    register_agent(&ALICE, "http://alice.example/.well-known/agent-card.json");
    CHECK_EQ_U64(round_agents(ix), 0);
    mine(1);
    CHECK_EQ_U64(round_agents(ix), 0);
    mine(1);
    CHECK_EQ_U64(round_agents(ix), 1);
    memset(max, 0xff, 32);
    gt_abi_val mint[] = {gt_abi_address(&DEPLOYER.addr), gt_abi_uint(5000)};
    gt_abi_val approve[] = {gt_abi_address(&ESCROW), gt_abi_u256(max)};
    gt_chain_receipt r = {0};
    CHECK_EQ_INT(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "mint(address,uint256)", mint, 2, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    CHECK_EQ_INT(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "approve(address,uint256)", approve, 2, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    gt_keccak256("a job", 5, desc);
    CHECK_MSG(gt_escrow_post_for(&C, &ESCROW, &DEPLOYER, &ALICE.addr, &BOB.addr, anvil_now(&C) + 3600, desc, 1234,
                                 56, &id, NULL, &err) == 0, "%s", err.msg);
    gt_cjob j;
    round_agents(ix);
    CHECK_EQ_INT(gt_cindex_job(ix, id, &j, &err), GT_ENOTFOUND);
    mine(2);
    round_agents(ix);
    CHECK_MSG(gt_cindex_job(ix, id, &j, &err) == 0, "%s", err.msg);
    CHECK_STR(j.status, "funded");
    CHECK_EQ_U64(j.budget, 1234);
    CHECK_EQ_U64(j.stake, 56);
    CHECK(gt_addr_eq(&j.client, &DEPLOYER.addr) && gt_addr_eq(&j.provider, &ALICE.addr) &&
          gt_addr_eq(&j.evaluator, &BOB.addr));
    CHECK(!memcmp(j.description, desc, 32));
    CHECK_EQ_INT(gt_cindex_put_input(ix, id, "the input", 9, &err), 0);
}

/* Bob's registration is rolled back at depth 2: the index never sees it. */
static void test_shallow_reorg(gt_cindex *ix) {
    register_agent(&BOB, "http://bob.example/.well-known/agent-card.json");
    mine(1);
    CHECK_EQ_U64(round_agents(ix), 1);
    CHECK_EQ_INT(anvil_rpc(&C, "anvil_rollback", json_pack("[i]", 2)), 0);
    gt_chain_account_resync(&BOB);
    mine(DEPTH + 1);
    CHECK_EQ_U64(round_agents(ix), 1); /* alice only */
}

/* Blocks the index holds are replaced: it starts over; alice's registration is gone. */
static void test_deep_reorg(gt_cindex *ix) {
    uint64_t h0 = gt_cindex_height(ix), head = 0;
    CHECK_EQ_INT(gt_chain_block_number(&C, &head, NULL), 0);
    CHECK(h0 + DEPTH - 1 == head);
    /* roll back to before alice registered (the deployments stay), then a longer chain */
    CHECK_EQ_INT(anvil_rpc(&C, "anvil_rollback", json_pack("[I]", (json_int_t)(head - 3))), 0);
    gt_chain_account_resync(&ALICE);
    gt_chain_account_resync(&DEPLOYER);
    mine((int)(head + 2));
    CHECK_EQ_U64(round_agents(ix), 0);
    for (int i = 0; i < 20 && gt_cindex_height(ix) + DEPTH - 1 < head + 2; i++) round_agents(ix);
    CHECK_EQ_U64(round_agents(ix), 0);
    gt_buf in = GT_BUF_INIT;
    int found = 0;
    CHECK_EQ_INT(gt_cindex_work(ix, 1, &in, NULL, &found, NULL), 0);
    CHECK(found && in.len == 9); /* this node's own data is kept */
    gt_buf_free(&in);
}

/* After the deep reorganisation the escrow gives id 1 to a new job (its own description, naming alice as worker);
 * this node still holds the old job 1's input ("the input", kept as its own work). Listed as alice's work, it would
 * have her node work the new job from another job's input: a wrong result submitted, her stake lost (an evaluator
 * would reject good work). The list leaves the job out and drops the stale input; the job's own input lists it. */
static void test_reused_id(gt_cindex *ix) {
    static const char input[] = "the second job";
    uint8_t desc[32], max[32];
    uint64_t id = 0, ids[4];
    size_t got = 0;
    gt_err err;
    memset(max, 0xff, 32);
    gt_abi_val mint[] = {gt_abi_address(&DEPLOYER.addr), gt_abi_uint(5000)}; /* rolled back with the first job */
    gt_abi_val approve[] = {gt_abi_address(&ESCROW), gt_abi_u256(max)};
    gt_chain_receipt r = {0};
    CHECK_EQ_INT(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "mint(address,uint256)", mint, 2, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    CHECK_EQ_INT(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "approve(address,uint256)", approve, 2, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    gt_keccak256(input, strlen(input), desc);
    CHECK_MSG(gt_escrow_post_for(&C, &ESCROW, &DEPLOYER, &ALICE.addr, &BOB.addr, anvil_now(&C) + 3600, desc, 1000, 0,
                                 &id, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(id, 1); /* the id the rolled-back job had */
    mine(DEPTH);
    for (int i = 0; i < 20 && gt_cindex_job(ix, id, &(gt_cjob){0}, NULL) != 0; i++) round_agents(ix);
    CHECK_EQ_INT(gt_cindex_todo(ix, &ALICE.addr, NULL, ids, 4, &got, &err), 0);
    CHECK_EQ_U64(got, 0); /* the old job's input is not this job's */
    gt_buf in = GT_BUF_INIT;
    int found = 1;
    CHECK_EQ_INT(gt_cindex_work(ix, id, &in, NULL, &found, NULL), 0);
    CHECK_EQ_INT(found, 0); /* dropped */
    CHECK_EQ_INT(gt_cindex_put_input(ix, id, input, strlen(input), &err), 0);
    CHECK_EQ_INT(gt_cindex_todo(ix, &ALICE.addr, NULL, ids, 4, &got, &err), 0);
    CHECK_EQ_U64(got, 1);
    CHECK_EQ_U64(ids[0], id);
    gt_buf_free(&in);
}

/* An index file from before the keeper's columns (its jobs table as it was
 * made then): opened, it is indexed again from the deployment block with
 * them, and this node's own work is kept. */
static void test_old_index(void) {
    sqlite3 *db = NULL;
    gt_cindex *ix = NULL;
    gt_err err;
    CHECK_EQ_INT(sqlite3_open(PATH, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "DROP TABLE jobs; CREATE TABLE jobs(id INTEGER PRIMARY KEY, client TEXT,"
                                  " provider TEXT, evaluator TEXT, budget INTEGER NOT NULL DEFAULT 0, stake INTEGER"
                                  " NOT NULL DEFAULT 0, expired_at INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL"
                                  " DEFAULT 'open', description TEXT, deliverable TEXT, reason TEXT, claimed INTEGER"
                                  " NOT NULL DEFAULT 0, block INTEGER NOT NULL);"
                                  " DROP TABLE work; CREATE TABLE work(job INTEGER PRIMARY KEY, input BLOB,"
                                  " output BLOB, step INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
                                  " note TEXT);" /* before looks and retry_ms */
                                  " INSERT INTO work(job, input) VALUES(77, x'6f6c64');", NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    CHECK_MSG(gt_cindex_open(PATH, C.chain_id, &ESCROW, &REGISTRY, 1, &ix, &err) == 0, "%s", err.msg);
    if (!ix) return;
    CHECK_EQ_U64(gt_cindex_height(ix), 0); /* starts over */
    uint64_t ids[1];
    size_t n = 9;
    CHECK_MSG(gt_cindex_due(ix, &ALICE.addr, 0, ids, 1, &n, &err) == 0, "%s", err.msg); /* the new columns read */
    CHECK_EQ_U64(n, 0);
    for (int i = 0; i < 20 && round_agents(ix) == 0; i++) continue;
    CHECK_EQ_U64(round_agents(ix), 1);
    gt_buf in = GT_BUF_INIT;
    int found = 0;
    CHECK_EQ_INT(gt_cindex_work(ix, 77, &in, NULL, &found, NULL), 0);
    CHECK(found && in.len == 3);
    gt_buf_free(&in);
    gt_cindex_close(ix);
}

/* retry_ms of job's work row, read from the file itself (the index closed). */
static int64_t retry_ms_of(uint64_t job) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    CHECK_EQ_INT(sqlite3_open(PATH, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, "SELECT retry_ms FROM work WHERE job=?1", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, (int64_t)job) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* A slot's waits after failed looks (gt_cindex_look_later), on the work table test_old_index made before the looks
 * and retry_ms columns (added at its open): 10 s, then twice the last wait each failed look, up to 5 minutes, the
 * looks counted (a job with no work row starts at one look); the index reopened, every wait has ended (retry_ms is
 * on the monotonic clock of the process that wrote it). */
static void test_look_later(void) {
    static const uint64_t want_ms[] = {10000, 20000, 40000, 80000, 160000, 300000, 300000};
    const uint64_t now_ms = 5000;
    uint64_t looks = 0, wait_ms = 0;
    gt_cindex *ix = NULL;
    gt_err err;
    CHECK_MSG(gt_cindex_open(PATH, C.chain_id, &ESCROW, &REGISTRY, 1, &ix, &err) == 0, "%s", err.msg);
    if (!ix) return;
    for (size_t i = 0; i < sizeof want_ms / sizeof want_ms[0]; i++) {
        CHECK_MSG(gt_cindex_look_later(ix, 77, now_ms, 10000, 300000, &looks, &wait_ms, &err) == 0, "%s", err.msg);
        CHECK_EQ_U64(looks, i + 1);
        CHECK_EQ_U64(wait_ms, want_ms[i]);
    }
    CHECK_MSG(gt_cindex_look_later(ix, 78, now_ms, 10000, 300000, &looks, &wait_ms, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(looks, 1);
    CHECK_EQ_U64(wait_ms, 10000);
    gt_cindex_close(ix);
    CHECK_EQ_INT(retry_ms_of(77), (int64_t)(now_ms + 300000));
    CHECK_MSG(gt_cindex_open(PATH, C.chain_id, &ESCROW, &REGISTRY, 1, &ix, &err) == 0, "%s", err.msg);
    gt_cindex_close(ix);
    CHECK_EQ_INT(retry_ms_of(77), 0);
    CHECK_EQ_INT(retry_ms_of(78), 0);
}

/* A judge's input request (gt_chain_judge_signed, chain_judge.c) is checked with no chain at all: the expiry's
 * bounds against the given clock, then the signature over chain, court, job and expiry. */
static void test_judge_signed(void) {
    const uint64_t now = 1800000000, job = 7;
    const gt_addr *court = &TOKEN; /* any address: the digest binds it */
    uint8_t digest[32];
    char hex[133];
    gt_sig sig;
    gt_err err;
    gt_court_input_digest(C.chain_id, court, job, now + 300, digest);
    CHECK_EQ_INT(gt_sign_digest(&ALICE.key, digest, &sig, NULL), 0);
    gt_sig_to_hex(&sig, hex);
    CHECK_EQ_INT(gt_chain_judge_signed(C.chain_id, court, job, &ALICE.addr, now + 300, now, hex, &err), 0);
    CHECK_EQ_INT(gt_chain_judge_signed(C.chain_id, court, job, &ALICE.addr, now + 300, now + 301, hex, &err),
                 GT_EINVAL); /* expired one second ago */
    CHECK_CONTAINS(err.msg, "the request expired 1 s ago");
    CHECK_EQ_INT(gt_chain_judge_signed(C.chain_id, court, job, &ALICE.addr, now + 300, now - 300, hex, &err), 0);
    CHECK_EQ_INT(gt_chain_judge_signed(C.chain_id, court, job, &ALICE.addr, now + 300, now - 301, hex, &err),
                 GT_EINVAL); /* 601 s ahead of the serving clock */
    CHECK_CONTAINS(err.msg, "601 s ahead of this node's clock, more than the 600 s allowed");
    CHECK_EQ_INT(gt_chain_judge_signed(C.chain_id, court, job, &BOB.addr, now + 300, now, hex, &err), GT_EPERM);
    CHECK_EQ_INT(gt_chain_judge_signed(C.chain_id, court, job + 1, &ALICE.addr, now + 300, now, hex, &err), GT_EPERM);
    CHECK_EQ_INT(gt_chain_judge_signed(C.chain_id, court, job, &ALICE.addr, now + 299, now, hex, &err), GT_EPERM);
    CHECK_EQ_INT(gt_chain_judge_signed(C.chain_id + 1, court, job, &ALICE.addr, now + 300, now, hex, &err),
                 GT_EPERM);
    CHECK(gt_chain_judge_signed(C.chain_id, court, job, &ALICE.addr, now + 300, now, "zz", &err) != 0);
}

int main(void) {
    anvil_require(1);
    if (anvil_start(&C)) return 1;
    const char *seeds[] = {"index deployer", "index alice", "index bob"};
    gt_chain_account *acct[] = {&DEPLOYER, &ALICE, &BOB};
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(anvil_account(&C, seeds[i], acct[i]), 0);
    uint64_t gas;
    static const gt_addr no_court;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "GotongToken", NULL, 0, &TOKEN, &gas), 0);
    gt_abi_val ctor[] = {gt_abi_address(&TOKEN), gt_abi_address(&no_court)};
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "JobEscrow", ctor, 2, &ESCROW, &gas), 0);
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "AgentRegistry", NULL, 0, &REGISTRY, &gas), 0);
    snprintf(DIR_, sizeof DIR_, "/tmp/gt-chain-index-XXXXXX");
    CHECK(mkdtemp(DIR_) != NULL);
    snprintf(PATH, sizeof PATH, "%s/chain_index.db", DIR_);
    gt_cindex *ix = NULL;
    gt_err err;
    CHECK_MSG(gt_cindex_open(PATH, C.chain_id, &ESCROW, &REGISTRY, 1, &ix, &err) == 0, "%s", err.msg);
    if (!ix) return gt_test_finish();
    test_depth(ix);
    test_shallow_reorg(ix);
    test_deep_reorg(ix);
    test_reused_id(ix);
    gt_cindex_close(ix);
    /* another deployment (the token as "escrow"): the file is emptied when opened */
    CHECK_MSG(gt_cindex_open(PATH, C.chain_id, &ESCROW, &REGISTRY, 1, &ix, &err) == 0, "%s", err.msg);
    register_agent(&ALICE, "http://alice.example/.well-known/agent-card.json");
    mine(DEPTH);
    for (int i = 0; i < 20 && round_agents(ix) == 0; i++) continue;
    CHECK_EQ_U64(round_agents(ix), 1);
    gt_cindex_close(ix);
    test_old_index();
    test_look_later();
    test_judge_signed();
    CHECK_MSG(gt_cindex_open(PATH, C.chain_id, &TOKEN, &REGISTRY, 1, &ix, &err) == 0, "%s", err.msg);
    json_t *j = gt_cindex_agents(ix, 0, &err);
    CHECK_EQ_U64(json_array_size(json_object_get(j, "items")), 0);
    CHECK_EQ_U64(gt_cindex_height(ix), 0);
    json_decref(j);
    gt_cindex_close(ix);
    for (int i = 0; i < 3; i++) gt_chain_account_wipe(acct[i]);
    gt_chain_close(&C);
    anvil_stop();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", DIR_);
    CHECK_EQ_INT(system(cmd), 0);
    return gt_test_finish();
}
