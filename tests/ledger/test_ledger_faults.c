/* test_ledger_faults.c: faults found by reading the ledger's code, each
 * pinned by a test that failed before its fix:
 *   - a refused action left a trace: unstake wrote its unbonding row outside
 *     any savepoint, and bytes fed to the block commitment stayed in it;
 *   - unstake fed host-byte-order integers to the state commitment;
 *   - the actions root did not commit to the order of the actions;
 *   - the state primitives dereferenced an error pointer callers may pass as
 *     NULL;
 *   - a transfer to a new account could use freed memory: finding a cached
 *     account grew the cache (moving every slot) while the rule still held
 *     a pointer to the recipient's slot;
 *   - an account row deleted behind the running ledger (the in-place
 *     update of a stored row must find it, or the block is refused). */
#include "../test.h"
#include "ledger_util.h"
#include "base/amount.h"
#include "crypto/merkle.h"

#define UNIT GT_AMOUNT_UNIT

static gt_key K[3];
static gt_addr A[3];

/* A rule that does what a real one may do before it finds a reason to
 * refuse: unstake, feed the commitment, then fail. It declares no SQL of its
 * own (uses_db 0), so no savepoint protects it: the primitives must. */
static int apply_unstake_then_refuse(gt_tx *tx, const gt_action *a, gt_err *err) {
    int rc = gt_state_unstake(tx, &a->from, a->f[0].u64, err);
    if (rc) return rc;
    gt_tx_commit(tx, "side effect", 11);
    return gt_err_set(err, GT_ESTATE, "refused on purpose after unstaking");
}

static const gt_field_def refuse_fields[] = {{"amount", GT_F_U64, 0}};
static gt_action_kind kind_refuse = {.name = "test_unstake_refuse", .struct_name = "TestUnstakeRefuse",
                                     .fields = refuse_fields, .n_fields = 1, .apply = apply_unstake_then_refuse};

/* A ledger with A1 funded and staked; fixed clock so two are identical. */
static gt_ledger *staked_ledger(char dir[64]) {
    const char *path = tledger_path(dir);
    gt_genesis g = {.chain_id = 9, .authority = A[0], .unbonding_blocks = 2, .time_s = 1700000000,
                    .seed_secret = {9}}; /* two ledgers of one network: the same seed chain */
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    gt_ledger_set_time(l, 1700000100);
    const gt_domain *d = gt_ledger_domain(l);
    gt_action a[2];
    gt_result r[2];
    tsign(&a[0], &gt_kind_mint, d, &K[0], 0, &A[1], 10 * UNIT);
    tsign(&a[1], &gt_kind_stake, d, &K[1], 0, NULL, 6 * UNIT);
    CHECK_EQ_INT(gt_ledger_submit(l, a, 2, r), 2);
    return l;
}

/* Counts rows of the unbonding table of the ledger at dir. */
static int64_t unbonding_rows(const char *dir) {
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    sqlite3 *db;
    sqlite3_stmt *q;
    int64_t n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM unbonding", -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return n;
}

static void test_refused_action_leaves_no_trace(void) {
    char dx[64], dy[64];
    gt_ledger *x = staked_ledger(dx), *y = staked_ledger(dy);
    const gt_domain *d = gt_ledger_domain(y);
    gt_action a[2];
    gt_result r[2];
    /* y: the refused rule, then a transfer with the same nonce; x: the transfer alone. */
    gt_action_init(&a[0], &kind_refuse, d, &A[1], 1);
    gt_action_set_u64(&a[0], "amount", 4 * UNIT);
    CHECK_EQ_INT(gt_action_sign(&a[0], &K[1], NULL), 0);
    tsign(&a[1], &gt_kind_transfer, d, &K[1], 1, &A[2], 1 * UNIT);
    CHECK_EQ_INT(gt_ledger_submit(y, a, 2, r), 1);
    CHECK_EQ_INT(r[0].code, GT_ESTATE);
    CHECK_EQ_INT(r[1].code, 0);
    CHECK_EQ_INT(gt_ledger_submit(x, &a[1], 1, r), 1);
    gt_block hx, hy;
    gt_ledger_head(x, &hx, NULL);
    gt_ledger_head(y, &hy, NULL);
    CHECK_EQ_U64(hx.height, hy.height);
    CHECK(memcmp(hx.state_root, hy.state_root, 32) == 0); /* no bytes of the refused rule */
    CHECK(memcmp(hx.state_digest, hy.state_digest, 32) == 0);
    CHECK(memcmp(hx.hash, hy.hash, 32) == 0);
    gt_account acc;
    CHECK_EQ_INT(gt_ledger_account(y, &A[1], &acc, NULL), 0);
    CHECK_EQ_U64(acc.staked, 6 * UNIT);
    CHECK_EQ_U64(acc.unbonding, 0);
    /* Let any unbonding mature: nothing may appear from the refused unstake. */
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(gt_ledger_tick(y, NULL), 0);
    CHECK_EQ_INT(gt_ledger_account(y, &A[1], &acc, NULL), 0);
    CHECK_EQ_U64(acc.balance, 3 * UNIT);
    CHECK_EQ_U64(gt_ledger_supply(y), 10 * UNIT);
    gt_ledger_close(x);
    gt_ledger_close(y);
    CHECK_EQ_U64(unbonding_rows(dy), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", dy);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) == 0, "%s", err.msg);
    gt_ledger *again = NULL;
    CHECK_MSG(gt_ledger_open(path, 0, &again, &err) == 0, "%s", err.msg);
    gt_ledger_close(again);
    trm(dx);
    trm(dy);
}

/* Big-endian u64, as block.h specifies the commitment's integers. */
static void put_be64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; }
}

/* The state root of an unstake block, recomputed from block.h's definition:
 * keccak(prev_root ‖ keccak(rules' heights ‖ unbonding entry ‖ changed
 * account rows ‖ supply)), every integer big-endian whatever the host (the
 * rules' heights, "rules" ‖ format9_height ‖ format10_height ‖
 * format11_height ‖ format12_height ‖ format13_height ‖ format14_height ‖
 * format15_height ‖ format16_height, all 0 on a ledger made at format 16,
 * open every block from format 16's height). */
static void test_unstake_commitment_is_big_endian(void) {
    char dir[64];
    gt_ledger *l = staked_ledger(dir);
    gt_block prev, head;
    gt_ledger_head(l, &prev, NULL);
    gt_action a;
    gt_result r;
    tsign(&a, &gt_kind_unstake, gt_ledger_domain(l), &K[1], 1, NULL, 4 * UNIT);
    CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    gt_ledger_head(l, &head, NULL);
    uint64_t release = head.height + 2;
    uint8_t all[69 + 36 + 60 + 8] = {'r', 'u', 'l', 'e', 's'}, *diff = all + 69; /* eight heights, all 0 */
    memcpy(diff, A[1].b, 20);
    put_be64(diff + 20, 4 * UNIT);
    put_be64(diff + 28, release);
    uint8_t *row = diff + 36; /* A1: balance 4, staked 2, locked 0, unbonding 4, nonce 2 */
    memcpy(row, A[1].b, 20);
    put_be64(row + 20, 4 * UNIT);
    put_be64(row + 28, 2 * UNIT);
    put_be64(row + 36, 0);
    put_be64(row + 44, 4 * UNIT);
    put_be64(row + 52, 2);
    put_be64(diff + 96, 10 * UNIT);
    uint8_t buf[64], root[32];
    memcpy(buf, prev.state_root, 32);
    gt_keccak256(all, sizeof all, buf + 32);
    gt_keccak256(buf, 64, root);
    CHECK(memcmp(root, head.state_root, 32) == 0);
    gt_ledger_close(l);
    trm(dir);
}

static void test_actions_root_commits_order(void) {
    uint8_t ids[2][32], swapped[2][32], r1[32], r2[32];
    for (int i = 0; i < 32; i++) ids[0][i] = (uint8_t)i, ids[1][i] = (uint8_t)(200 - i);
    memcpy(swapped[0], ids[1], 32);
    memcpy(swapped[1], ids[0], 32);
    uint8_t a[2][32], b[2][32];
    memcpy(a, ids, sizeof a);
    memcpy(b, swapped, sizeof b);
    gt_block_actions_root(a, 2, r1);
    gt_block_actions_root(b, 2, r2);
    CHECK(memcmp(r1, r2, 32) != 0);
    /* Plain sorted-pair trees cannot tell the two orders apart: */
    uint8_t p1[32], p2[32];
    gt_merkle_root((const uint8_t(*)[32])ids, 2, p1);
    gt_merkle_root((const uint8_t(*)[32])swapped, 2, p2);
    CHECK(memcmp(p1, p2, 32) == 0);
    /* A leaf is keccak(index word ‖ id). */
    uint8_t one[1][32], leaf_in[64] = {0}, leaf[32], r3[32];
    memcpy(one[0], ids[0], 32);
    gt_block_actions_root(one, 1, r3);
    memcpy(leaf_in + 32, ids[0], 32);
    gt_keccak256(leaf_in, 64, leaf);
    CHECK(memcmp(r3, leaf, 32) == 0);
}

/* A store without the state tables: every read fails. Callers may pass no
 * gt_err; the primitives must still return the real code, not crash. */
static void test_state_with_null_err(void) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
    gt_state *s = gt_state_new();
    gt_tx tx = {.state = s, .db = db, .height = 1};
    gt_keccak_init(&tx.diff);
    gt_account acc;
    CHECK_EQ_INT(gt_state_account(&tx, &A[1], &acc, NULL), GT_EDB);
    CHECK_EQ_INT(gt_state_transfer(&tx, &A[1], &A[2], 1, NULL), GT_EDB);
    CHECK_EQ_INT(gt_state_unstake(&tx, &A[1], 1, NULL), GT_EDB);
    CHECK_EQ_INT(gt_state_flush(&tx, NULL), GT_EDB);
    gt_err err = {0};
    CHECK_EQ_INT(gt_state_flush(&tx, &err), GT_EDB);
    CHECK_CONTAINS(err.msg, "no such table");
    gt_state_free(s);
    sqlite3_close(db);
}

/* Transfers to more new accounts than the cache holds before it grows (it
 * grows at 512, 1024, ... entries), so that some transfer crosses each
 * threshold; ASan reports the use of a moved slot if lookups grow it. */
static void test_transfers_to_many_new_accounts(void) {
    char dir[64];
    gt_ledger *l = staked_ledger(dir);
    enum { N = 1500 };
    gt_action *acts = malloc(N * sizeof *acts);
    gt_result *res = malloc(N * sizeof *res);
    for (int i = 0; i < N; i++) {
        gt_addr to = {{0}};
        to.b[0] = 0xAB;
        to.b[18] = (uint8_t)(i >> 8);
        to.b[19] = (uint8_t)i;
        tsign(&acts[i], &gt_kind_transfer, gt_ledger_domain(l), &K[1], (uint64_t)i + 1, &to, 1);
    }
    CHECK_EQ_INT((int)gt_ledger_submit(l, acts, N, res), N);
    gt_account acc;
    CHECK_EQ_INT(gt_ledger_account(l, &A[1], &acc, NULL), 0);
    CHECK_EQ_U64(acc.balance, 4 * UNIT - N);
    CHECK_EQ_U64(gt_ledger_supply(l), 10 * UNIT);
    gt_ledger_close(l);
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) == 0, "%s", err.msg);
    free(acts);
    free(res);
    trm(dir);
}

/* An account row the ledger has stored is updated in place; if the row was
 * deleted behind the running ledger's back (another process writing the
 * file), the next block that changes the account is refused whole, not
 * written as if the row were there, and nothing of it is applied. */
static void test_account_row_deleted_behind_ledger(void) {
    char dir[64];
    gt_ledger *l = staked_ledger(dir);
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *q;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "DELETE FROM accounts WHERE addr=?", -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_blob(q, 1, A[1].b, 20, SQLITE_STATIC);
    CHECK_EQ_INT(sqlite3_step(q), SQLITE_DONE);
    CHECK_EQ_INT(sqlite3_changes(db), 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
    gt_block before, after;
    CHECK_EQ_INT(gt_ledger_head(l, &before, NULL), 0);
    gt_action a;
    gt_result r;
    tsign(&a, &gt_kind_transfer, gt_ledger_domain(l), &K[1], 1, &A[2], 1);
    CHECK_EQ_INT(tsubmit(l, &a, &r), GT_EDB);
    CHECK_MSG(strstr(r.msg, "row is missing") != NULL, "%s", r.msg);
    CHECK_EQ_INT(gt_ledger_head(l, &after, NULL), 0);
    CHECK_EQ_U64(after.height, before.height);
    gt_ledger_close(l);
    trm(dir);
}

/* A kind declaring a field named like an envelope key (a "salt" field would
 * be read as the network's signing salt and break signing through JSON) or
 * two fields of one name is refused at registration, with a message naming
 * the field; nothing is registered. */
static void test_reserved_field_names_refused(void) {
    static const char *const names[] = {"salt", "type", "chainId", "from", "nonce", "sig", "id"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        gt_field_def fields[2] = {{"amount", GT_F_U64, 0}, {names[i], GT_F_BYTES32, 0}};
        gt_action_kind k = {.name = "test_reserved_field", .struct_name = "TestReservedField", .fields = fields,
                            .n_fields = 2, .apply = apply_unstake_then_refuse};
        gt_err err = {0};
        CHECK_EQ_INT(gt_action_register(&k, &err), GT_EINVAL);
        char want[64];
        snprintf(want, sizeof want, "may not be named \"%s\"", names[i]);
        CHECK_MSG(strstr(err.msg, want) != NULL, "%s", err.msg);
        CHECK(gt_action_kind_by_name("test_reserved_field") == NULL);
    }
    gt_field_def twice[2] = {{"amount", GT_F_U64, 0}, {"amount", GT_F_U64, 0}};
    gt_action_kind k = {.name = "test_twice_field", .struct_name = "TestTwiceField", .fields = twice, .n_fields = 2,
                        .apply = apply_unstake_then_refuse};
    gt_err err = {0};
    CHECK_EQ_INT(gt_action_register(&k, &err), GT_EINVAL);
    CHECK_MSG(strstr(err.msg, "field \"amount\" declared twice") != NULL, "%s", err.msg);
    CHECK(gt_action_kind_by_name("test_twice_field") == NULL);
    /* a field merely containing a reserved word is fine */
    static const gt_field_def ok_fields[] = {{"salty", GT_F_U64, 0}};
    static gt_action_kind ok = {.name = "test_salty_field", .struct_name = "TestSaltyField", .fields = ok_fields,
                                .n_fields = 1, .apply = apply_unstake_then_refuse};
    CHECK_EQ_INT(gt_action_register(&ok, &err), 0);
}

int main(void) {
    for (int i = 0; i < 3; i++) tkey(i, &K[i], &A[i]);
    gt_err err = {0};
    CHECK_EQ_INT(gt_rules_register(&err), 0);
    CHECK_EQ_INT(gt_action_register(&kind_refuse, &err), 0);
    RUN(test_refused_action_leaves_no_trace);
    RUN(test_unstake_commitment_is_big_endian);
    RUN(test_actions_root_commits_order);
    RUN(test_state_with_null_err);
    RUN(test_transfers_to_many_new_accounts);
    RUN(test_account_row_deleted_behind_ledger);
    RUN(test_reserved_field_names_refused);
    return gt_test_finish();
}
