/* test_ledger_reserve.c: nonce reservations (gt_ledger_reserve), what lets
 * the node run a route paid with x402 on its ledger without the payer voiding
 * the payment in between. A reservation is exact against the writer's queue:
 * one made while an action of the payer's with that nonce is queued (not yet
 * applied, so a read of the applied state still shows the nonce free) fails,
 * saying the nonce was used; once made, the writer refuses any other action
 * of the payer's with that nonce, saying it is reserved, and lets the
 * payment through; unreserving lets such an action through again (the
 * payment is then voided, as before reservations); the same nonce cannot be
 * reserved twice; the table holds GT_LEDGER_RESERVE_MAX and refuses the next
 * (fail closed) until one ends; a reservation lapses at its until_s (the
 * payment's validBefore) and cannot be made after it; a read-only ledger
 * makes none. Reservations are no rule: `ledger verify` replays the ledger
 * with reservations standing, and supply is conserved throughout. */
#include "../test.h"
#include "ledger_util.h"
#include "base/amount.h"

#define UNIT GT_AMOUNT_UNIT
#define T0 1700000000ull
#define PRICE 700
#define MINTED (10 * UNIT)

static gt_key K[3];
static gt_addr A[3];
static char dir[64], path[128];

/* A fresh ledger at block time T0 + 1 where key 1 holds MINTED. */
static gt_ledger *fresh(void) {
    gt_ledger *l = tledger_fresh(dir, path, &A[0], T0);
    CHECK(l != NULL);
    gt_ledger_set_time(l, T0 + 1);
    gt_action a;
    gt_result r;
    tsign(&a, &gt_kind_mint, gt_ledger_domain(l), &K[0], 0, &A[1], MINTED);
    CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    return l;
}

/* Key 1 pays PRICE to key 2 with nonce, valid in [T0, T0 + 300). */
static void sign_payment(gt_ledger *l, gt_action *a, uint64_t nonce) {
    gt_action_init(a, &gt_kind_payment, gt_ledger_domain(l), &A[1], nonce);
    gt_action_set_addr(a, "to", &A[2]);
    gt_action_set_u64(a, "amount", PRICE);
    gt_action_set_u64(a, "validAfter", T0);
    gt_action_set_u64(a, "validBefore", T0 + 300);
    CHECK_EQ_INT(gt_action_sign(a, &K[1], NULL), 0);
}

/* Key 1's self-transfer of 1 with nonce: what a payer sends to void its payment. */
static void sign_void(gt_ledger *l, gt_action *a, uint64_t nonce) {
    tsign(a, &gt_kind_transfer, gt_ledger_domain(l), &K[1], nonce, &A[1], 1);
}

static gt_account acct_of(gt_ledger *l, int i) {
    gt_account out = {0};
    CHECK_EQ_INT(gt_ledger_account(l, &A[i], &out, NULL), 0);
    return out;
}

/* Nothing minted or burnt: keys 1 and 2 hold all of MINTED, the supply. */
static void check_supply(gt_ledger *l) {
    CHECK_EQ_U64(gt_ledger_supply(l), MINTED);
    CHECK_EQ_U64(acct_of(l, 1).balance + acct_of(l, 2).balance, MINTED);
}

/* Closes l, replays it (reservations are no rule: the log verifies as it
 * is) and removes it. */
static void close_verify(gt_ledger *l) {
    gt_ledger_close(l);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(rep.supply, MINTED);
    trm(dir);
}

/* The payer's action with the payment's nonce queued before the reservation
 * (not yet applied when the caller read the state): the reservation fails. */
static void test_queued_first(void) {
    gt_ledger *l = fresh();
    gt_action pay, v;
    gt_result r = {0};
    gt_err err = {0};
    sign_payment(l, &pay, 0);
    sign_void(l, &v, 0);
    gt_ledger_ticket *t = NULL;
    CHECK_EQ_INT(gt_ledger_submit_async(l, &v, 1, &r, &t), 0); /* queued: the writer meets it first */
    CHECK_EQ_INT(gt_ledger_reserve(l, &A[1], 0, pay.id, T0 + 300, &err), GT_ENONCE);
    CHECK_CONTAINS(err.msg, "cannot be reserved: the account's next nonce is 1 (an action of the account's used "
                            "it first)");
    gt_ledger_wait(l, t);
    CHECK_EQ_INT(r.code, 0);
    CHECK_EQ_U64(gt_ledger_reservations(l), 0);
    /* A nonce ahead of the payer's next cannot be reserved either. */
    CHECK_EQ_INT(gt_ledger_reserve(l, &A[1], 5, pay.id, T0 + 300, &err), GT_ENONCE);
    CHECK_CONTAINS(err.msg, "the account's next nonce is 1");
    check_supply(l);
    close_verify(l);
}

/* Reserved: the payer's self-transfer with that nonce is refused, saying
 * why; the payment goes through; unreserving after it is harmless. */
static void test_reserved(void) {
    gt_ledger *l = fresh();
    gt_action pay, v;
    gt_result r;
    gt_err err = {0};
    sign_payment(l, &pay, 0);
    sign_void(l, &v, 0);
    CHECK_MSG(gt_ledger_reserve(l, &A[1], 0, pay.id, T0 + 300, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(gt_ledger_reservations(l), 1);
    char who[GT_ADDR_STR_BYTES], want[160];
    gt_addr_to_str(&A[1], who);
    snprintf(want, sizeof want, "nonce 0 of %s is reserved by an x402 payment in flight", who);
    CHECK_EQ_INT(tsubmit(l, &v, &r), GT_ENONCE);
    CHECK_CONTAINS(r.msg, want);
    CHECK_EQ_U64(acct_of(l, 1).nonce, 0);
    /* Another payment with the same nonce (another request's) is refused too. */
    gt_action other;
    gt_action_init(&other, &gt_kind_payment, gt_ledger_domain(l), &A[1], 0);
    gt_action_set_addr(&other, "to", &A[2]);
    gt_action_set_u64(&other, "amount", PRICE + 1);
    gt_action_set_u64(&other, "validAfter", T0);
    gt_action_set_u64(&other, "validBefore", T0 + 300);
    CHECK_EQ_INT(gt_action_sign(&other, &K[1], NULL), 0);
    CHECK_EQ_INT(tsubmit(l, &other, &r), GT_ENONCE);
    CHECK_CONTAINS(r.msg, want);
    /* The same nonce cannot be reserved twice, for this payment or another. */
    CHECK_EQ_INT(gt_ledger_reserve(l, &A[1], 0, other.id, T0 + 300, &err), GT_EEXIST);
    CHECK_CONTAINS(err.msg, "is reserved by an x402 payment in flight already");
    CHECK_EQ_INT(gt_ledger_reserve(l, &A[1], 0, pay.id, T0 + 300, &err), GT_EEXIST);
    gt_ledger_unreserve(l, &A[1], 0, other.id); /* not its reservation: it stands */
    CHECK_EQ_INT(tsubmit(l, &v, &r), GT_ENONCE);
    /* The reserved payment itself goes through. */
    CHECK_MSG(tsubmit(l, &pay, &r) == 0, "%s", r.msg);
    CHECK_EQ_U64(acct_of(l, 1).balance, MINTED - PRICE);
    CHECK_EQ_U64(acct_of(l, 2).balance, PRICE);
    CHECK_EQ_U64(acct_of(l, 1).nonce, 1);
    gt_ledger_unreserve(l, &A[1], 0, pay.id);
    gt_ledger_unreserve(l, &A[1], 0, pay.id); /* idempotent */
    CHECK_EQ_U64(gt_ledger_reservations(l), 0);
    sign_void(l, &v, 1);
    CHECK_EQ_INT(tsubmit(l, &v, &r), 0); /* the next nonce was never reserved */
    check_supply(l);
    close_verify(l);
}

/* Unreserved (the route failed, the client left): the nonce is the
 * payer's again, and its own action with it applies. */
static void test_unreserve(void) {
    gt_ledger *l = fresh();
    gt_action pay, v;
    gt_result r;
    gt_err err = {0};
    sign_payment(l, &pay, 0);
    sign_void(l, &v, 0);
    CHECK_MSG(gt_ledger_reserve(l, &A[1], 0, pay.id, T0 + 300, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(tsubmit(l, &v, &r), GT_ENONCE);
    gt_ledger_unreserve(l, &A[1], 0, pay.id);
    CHECK_EQ_U64(gt_ledger_reservations(l), 0);
    CHECK_MSG(tsubmit(l, &v, &r) == 0, "%s", r.msg);
    CHECK_EQ_INT(tsubmit(l, &pay, &r), GT_ENONCE); /* voided: the node ran nothing for it unreserved */
    CHECK_EQ_U64(acct_of(l, 2).balance, 0);
    check_supply(l);
    close_verify(l);
}

/* The table's bound: GT_LEDGER_RESERVE_MAX reservations (fresh accounts,
 * nonce 0), then the next is refused, saying so, until one ends. */
static void test_bound(void) {
    gt_ledger *l = fresh();
    gt_err err = {0};
    uint8_t id[32] = {1};
    gt_addr a = {{0}};
    for (int i = 0; i < GT_LEDGER_RESERVE_MAX; i++) {
        a.b[0] = (uint8_t)(i >> 8), a.b[1] = (uint8_t)i, a.b[19] = 0xee;
        CHECK_MSG(gt_ledger_reserve(l, &a, 0, id, T0 + 300, &err) == 0, "reservation %d: %s", i, err.msg);
    }
    CHECK_EQ_U64(gt_ledger_reservations(l), GT_LEDGER_RESERVE_MAX);
    gt_action pay;
    sign_payment(l, &pay, 0);
    CHECK_EQ_INT(gt_ledger_reserve(l, &A[1], 0, pay.id, T0 + 300, &err), GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "256 payments are in flight, the most this ledger reserves at once");
    a.b[0] = 0, a.b[1] = 7;
    gt_ledger_unreserve(l, &a, 0, id);
    CHECK_EQ_U64(gt_ledger_reservations(l), GT_LEDGER_RESERVE_MAX - 1);
    CHECK_MSG(gt_ledger_reserve(l, &A[1], 0, pay.id, T0 + 300, &err) == 0, "%s", err.msg);
    gt_result r;
    CHECK_MSG(tsubmit(l, &pay, &r) == 0, "%s", r.msg);
    check_supply(l);
    close_verify(l);
}

/* A reservation lapses at its until_s (the payment's validBefore: the
 * payment cannot apply from then on), and none is made at or after it. */
static void test_lapse(void) {
    gt_ledger *l = fresh();
    gt_action pay, v;
    gt_result r;
    gt_err err = {0};
    sign_payment(l, &pay, 0);
    sign_void(l, &v, 0);
    CHECK_MSG(gt_ledger_reserve(l, &A[1], 0, pay.id, T0 + 300, &err) == 0, "%s", err.msg);
    gt_ledger_set_time(l, T0 + 299);
    CHECK_EQ_INT(tsubmit(l, &v, &r), GT_ENONCE); /* the last second of the window: still reserved */
    gt_ledger_set_time(l, T0 + 300);
    CHECK_MSG(tsubmit(l, &v, &r) == 0, "%s", r.msg);
    CHECK_EQ_INT(gt_ledger_reserve(l, &A[1], 1, pay.id, T0 + 300, &err), GT_ESTATE);
    CHECK_CONTAINS(err.msg, "valid before 1700000300 only, and the next block's time is 1700000300");
    check_supply(l);
    close_verify(l);
}

/* A read-only ledger has no writer: it reserves nothing. */
static void test_readonly(void) {
    gt_ledger *l = fresh();
    gt_ledger_close(l);
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    uint8_t id[32] = {0};
    CHECK_EQ_INT(gt_ledger_reserve(l, &A[1], 0, id, 0, &err), GT_EPERM);
    CHECK_CONTAINS(err.msg, "read-only");
    close_verify(l);
}

int main(void) {
    for (int i = 0; i < 3; i++) tkey(i, &K[i], &A[i]);
    RUN(test_queued_first);
    RUN(test_reserved);
    RUN(test_unreserve);
    RUN(test_bound);
    RUN(test_lapse);
    RUN(test_readonly);
    return gt_test_finish();
}
