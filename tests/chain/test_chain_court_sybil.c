/* test_chain_court_sybil.c: the attack on the court's validator list, on a
 * real anvil (contracts/DisputeCourt.sol, driven by chain/court.h).
 *
 * The list holds 128 validators (a draw walks all of them). A sybil fills it
 * with 128 wallets of one token each, the least a validator may stake. Then:
 *   - an honest validator staking 50 tokens still joins: it takes the place
 *     of the first smallest stake, which is evicted (ValidatorEvicted), the
 *     list staying at 128;
 *   - a newcomer staking exactly the smallest listed stake is refused with a
 *     message naming the rule, and smallestStake() says what to beat;
 *   - the evicted sybil keeps its token and can leave (requestExit of its
 *     whole stake, withdraw after unbonding), or stake more and come back by
 *     evicting the next smallest.
 * Before the eviction rule the honest validator was refused ("the validator
 * list is full"), which this test reports as a failure.
 * Then the draw's bound with a full list: two disputes open; between them
 * every listed validator stakes one base unit more. The first case's panel
 * weighs each at its stake at that opening (the court's stake notes read for
 * all 128, the draw's worst case), the second at its stake now; the gas of
 * both draws is printed. The court before stake notes weighed the raised
 * stake in both, which this test reports as a failure.
 * Skipped (exit 77) with a message when anvil or the contracts are missing. */
#include "../test.h"
#include "anvil.h"
#include "chain/abi_decode.h"
#include "chain/court.h"
#include "chain/escrow.h"

#define TOKEN_UNIT 1000000ull
#define LIST_MAX 128 /* DisputeCourt.MAX_VALIDATORS */
static const gt_court_windows WINDOWS = {600, 600, 600, 3600, GT_COURT_SEED_LINKS};

static gt_chain C;
static gt_chain_account DEPLOYER, HONEST, LATE;
static gt_chain_account SYBIL[LIST_MAX], PARTY[3]; /* a job's client, worker and evaluator, not validators */
static gt_addr TOKEN, ESCROW, COURT;

#define OK(call)                                                         \
    do {                                                                 \
        gt_err e_;                                                       \
        CHECK_MSG((call) == 0, "%s: %s", #call, e_.msg);                 \
    } while (0)

/* Word `word` of sig(args) on contract, as a 64-bit number. */
static uint64_t view_u64(const gt_addr *contract, const char *sig, const gt_abi_val *args, size_t n, size_t word) {
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    uint64_t v = UINT64_MAX;
    gt_err err;
    CHECK_EQ_INT(gt_abi_calldata(sig, args, n, &d, NULL), 0);
    CHECK_MSG(gt_chain_call(&C, NULL, contract, d.data, d.len, &out, &err) == 0, "%s: %s", sig, err.msg);
    CHECK_EQ_INT(gt_abi_get_u64(out.data, out.len, word, &v, NULL), 0);
    gt_buf_free(&d);
    gt_buf_free(&out);
    return v;
}

/* A validator's active stake (word 0) or its 1-based place in the list (word 2, 0: not listed). */
static uint64_t validator(const gt_addr *who, size_t word) {
    gt_abi_val a[] = {gt_abi_address(who)};
    return view_u64(&COURT, "validatorOf(address)", a, 1, word);
}

static uint64_t balance(const gt_addr *who) {
    gt_abi_val a[] = {gt_abi_address(who)};
    return view_u64(&TOKEN, "balanceOf(address)", a, 1, 0);
}

/* amount minted to a, and a's standing approval of spender. */
static void fund_for(gt_chain_account *a, uint64_t amount, const gt_addr *spender) {
    uint8_t max[32];
    memset(max, 0xff, 32);
    gt_abi_val mint[] = {gt_abi_address(&a->addr), gt_abi_uint(amount)};
    gt_abi_val approve[] = {gt_abi_address(spender), gt_abi_u256(max)};
    gt_chain_receipt r = {0};
    OK(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "mint(address,uint256)", mint, 2, &r, NULL, &e_));
    gt_chain_receipt_free(&r);
    OK(gt_chain_invoke(&C, &TOKEN, a, "approve(address,uint256)", approve, 2, &r, NULL, &e_));
    gt_chain_receipt_free(&r);
}

/* amount minted to a, and a's standing approval of the court. */
static void fund(gt_chain_account *a, uint64_t amount) { fund_for(a, amount, &COURT); }

/* 128 wallets of one token each fill the list. */
static void test_sybil_fills_the_list(void) {
    for (int i = 0; i < LIST_MAX; i++) {
        char seed[32];
        snprintf(seed, sizeof seed, "sybil %d", i);
        CHECK_EQ_INT(anvil_account(&C, seed, &SYBIL[i]), 0);
        fund(&SYBIL[i], TOKEN_UNIT);
        OK(gt_court_do(&C, &COURT, &SYBIL[i], GT_COURT_STAKE, TOKEN_UNIT, NULL, &e_));
    }
    CHECK_EQ_U64(view_u64(&COURT, "validatorCount()", NULL, 0, 0), LIST_MAX);
    CHECK_EQ_U64(view_u64(&COURT, "smallestStake()", NULL, 0, 0), TOKEN_UNIT);
}

/* The honest validator's larger stake evicts the first smallest: sybil 0. */
static void test_honest_validator_joins(void) {
    uint64_t gas = 0;
    fund(&HONEST, 50 * TOKEN_UNIT);
    OK(gt_court_do(&C, &COURT, &HONEST, GT_COURT_STAKE, 50 * TOKEN_UNIT, &gas, &e_));
    printf("a stake that evicts the smallest of 128: gas %llu\n", (unsigned long long)gas);
    CHECK_EQ_U64(view_u64(&COURT, "validatorCount()", NULL, 0, 0), LIST_MAX);
    CHECK_EQ_U64(validator(&HONEST.addr, 0), 50 * TOKEN_UNIT);
    CHECK_EQ_U64(validator(&HONEST.addr, 2), 1); /* sybil 0's place */
    CHECK_EQ_U64(validator(&SYBIL[0].addr, 2), 0);
    CHECK_EQ_U64(validator(&SYBIL[0].addr, 0), TOKEN_UNIT); /* its stake stays its own */
    CHECK_EQ_U64(validator(&SYBIL[1].addr, 2), 2);
}

/* Equal to the smallest stake is not enough; the refusal says what is. */
static void test_equal_stake_refused(void) {
    fund(&LATE, TOKEN_UNIT);
    gt_err e;
    CHECK_EQ_INT(gt_court_do(&C, &COURT, &LATE, GT_COURT_STAKE, TOKEN_UNIT, NULL, &e), GT_ECHAIN);
    CHECK_CONTAINS(e.msg, "stake more than its smallest stake");
    CHECK_EQ_U64(validator(&LATE.addr, 2), 0);
    CHECK_EQ_U64(balance(&LATE.addr), TOKEN_UNIT);
}

/* The evicted sybil leaves with its token after unbonding; another evicted
 * one stakes more and comes back in place of the next smallest. */
static void test_evicted_leave_or_return(void) {
    uint64_t b0 = balance(&SYBIL[0].addr);
    OK(gt_court_do(&C, &COURT, &SYBIL[0], GT_COURT_EXIT, TOKEN_UNIT, NULL, &e_));
    CHECK_EQ_U64(view_u64(&COURT, "validatorCount()", NULL, 0, 0), LIST_MAX); /* nothing unlisted twice */
    CHECK_EQ_INT(anvil_advance(&C, WINDOWS.unbonding_s), 0);
    OK(gt_court_do(&C, &COURT, &SYBIL[0], GT_COURT_WITHDRAW, 0, NULL, &e_));
    CHECK_EQ_U64(balance(&SYBIL[0].addr), b0 + TOKEN_UNIT);
    fund(&LATE, TOKEN_UNIT); /* LATE now stakes 2 tokens: evicts sybil 1 (place 2) */
    OK(gt_court_do(&C, &COURT, &LATE, GT_COURT_STAKE, 2 * TOKEN_UNIT, NULL, &e_));
    CHECK_EQ_U64(validator(&LATE.addr, 2), 2);
    CHECK_EQ_U64(validator(&SYBIL[1].addr, 2), 0);
    fund(&SYBIL[1], 2 * TOKEN_UNIT); /* 1 + 2 tokens: back, in place of sybil 2 */
    OK(gt_court_do(&C, &COURT, &SYBIL[1], GT_COURT_STAKE, 2 * TOKEN_UNIT, NULL, &e_));
    CHECK_EQ_U64(validator(&SYBIL[1].addr, 2), 3);
    CHECK_EQ_U64(validator(&SYBIL[2].addr, 2), 0);
    CHECK_EQ_U64(view_u64(&COURT, "validatorCount()", NULL, 0, 0), LIST_MAX);
}

/* A job of the escrow rejected by PARTY[2] and disputed by PARTY[1]: its id (its panel not drawn). */
static uint64_t disputed(uint8_t n) {
    uint8_t desc[32] = {n}, tag[32] = {n};
    uint64_t id = 0;
    OK(gt_escrow_post(&C, &ESCROW, &PARTY[0], &PARTY[2].addr, anvil_now(&C) + 86400, desc, 1000, 1000, &id, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &PARTY[1], GT_ESCROW_CLAIM, id, NULL, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &PARTY[1], GT_ESCROW_SUBMIT, id, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &PARTY[2], GT_ESCROW_REJECT, id, tag, NULL, &e_));
    OK(gt_escrow_do(&C, &ESCROW, &PARTY[1], GT_ESCROW_DISPUTE, id, NULL, NULL, &e_));
    return id;
}

/* Checks case id's panel against an eligible stake of `total`: each seat's
 * weight is total * seats / 63 (rounded down) for a whole number of seats,
 * 63 in all, among the validators v[0..n). */
static void panel_from(uint64_t id, gt_chain_account *const *v, int n, uint64_t total) {
    uint64_t seats = 0;
    for (int i = 0; i < n; i++) {
        uint64_t w = 1;
        gt_court_vote vote;
        OK(gt_court_seat(&C, &COURT, id, &v[i]->addr, &w, &vote, &e_));
        uint64_t k = 0;
        while (k <= 63 && (uint64_t)((unsigned __int128)total * k / 63) < w) k++;
        CHECK_MSG(k <= 63 && (uint64_t)((unsigned __int128)total * k / 63) == w,
                  "weight %llu is no whole number of seats of %llu", (unsigned long long)w, (unsigned long long)total);
        seats += k;
    }
    CHECK_EQ_U64(seats, 63);
}

/* The draw's worst case: 128 eligible validators, each changed its stake
 * after the case opened (the first dispute), against the same list unchanged
 * since the opening (the second). */
static void test_draw_after_stake_changes(void) {
    static gt_chain_account *v[LIST_MAX + 2];
    gt_chain_account *all[LIST_MAX + 2];
    int n = 0, n_all = 0;
    uint64_t before = 0, gas[2] = {0};
    all[n_all++] = &HONEST, all[n_all++] = &LATE;
    for (int i = 0; i < LIST_MAX; i++) all[n_all++] = &SYBIL[i];
    for (int i = 0; i < n_all; i++)
        if (validator(&all[i]->addr, 2)) v[n++] = all[i], before += validator(&all[i]->addr, 0);
    CHECK_EQ_INT(n, LIST_MAX);
    const char *names[3] = {"client", "worker", "evaluator"};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(anvil_account(&C, names[i], &PARTY[i]), 0);
        fund_for(&PARTY[i], 1000000, &ESCROW);
    }
    uint64_t ids[2];
    ids[0] = disputed(1);
    for (int i = 0; i < n; i++) {
        fund(v[i], 1);
        OK(gt_court_do(&C, &COURT, v[i], GT_COURT_STAKE, 1, NULL, &e_));
    }
    ids[1] = disputed(2);
    OK(gt_court_seed_reveal(&C, &COURT, &DEPLOYER, NULL, NULL, &e_));
    for (int k = 0; k < 2; k++) OK(gt_court_do(&C, &COURT, &PARTY[0], GT_COURT_DRAW, ids[k], &gas[k], &e_));
    panel_from(ids[0], v, n, before);
    panel_from(ids[1], v, n, before + LIST_MAX);
    printf("draw of 63 seats among 128 eligible validators, every one staked more after the opening: gas %llu; "
           "none since the opening: gas %llu\n", (unsigned long long)gas[0], (unsigned long long)gas[1]);
}

int main(void) {
    anvil_require(1);
    if (access(CONTRACTS "DisputeCourt.bin", R_OK)) {
        fprintf(stderr, "SKIP: %sDisputeCourt.bin missing: build the contracts\n", CONTRACTS);
        return 77;
    }
    if (anvil_start(&C)) return 1;
    CHECK_EQ_INT(anvil_account(&C, "deployer", &DEPLOYER), 0);
    CHECK_EQ_INT(anvil_account(&C, "honest validator", &HONEST), 0);
    CHECK_EQ_INT(anvil_account(&C, "late validator", &LATE), 0);
    uint64_t gas;
    gt_err err;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "GotongToken", NULL, 0, &TOKEN, &gas), 0);
    CHECK_MSG(gt_court_deploy(&C, &DEPLOYER, CONTRACTS, &TOKEN, &WINDOWS, &COURT, &ESCROW, &gas, &err) == 0, "%s",
              err.msg);
    RUN(test_sybil_fills_the_list);
    RUN(test_honest_validator_joins);
    RUN(test_equal_stake_refused);
    RUN(test_evicted_leave_or_return);
    RUN(test_draw_after_stake_changes);
    for (int i = 0; i < LIST_MAX; i++) gt_chain_account_wipe(&SYBIL[i]);
    gt_chain_account_wipe(&DEPLOYER);
    gt_chain_account_wipe(&HONEST);
    gt_chain_account_wipe(&LATE);
    for (int i = 0; i < 3; i++) gt_chain_account_wipe(&PARTY[i]);
    gt_chain_close(&C);
    anvil_stop();
    return gt_test_finish();
}
