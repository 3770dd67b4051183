/* test_ledger_payment.c: the `payment` action (a transfer with EIP-3009's
 * validAfter / validBefore, on block time; what x402 on the ledger signs).
 * The honest payment in its window moves the amount, the bounds included
 * and excluded as documented (validAfter <= t < validBefore); one applied in
 * a block stamped before its window, or at or after its end (a server that
 * held it), is refused with the reason, moves nothing and leaves the nonce
 * unused; an empty window is refused; the payer voids a held payment by
 * using its nonce; replay (`ledger verify`) agrees with every outcome. */
#include "../test.h"
#include "ledger_util.h"
#include "base/amount.h"

#define UNIT GT_AMOUNT_UNIT
#define T0 1700000000ull
#define PRICE 700

static gt_key K[3];
static gt_addr A[3];
static char dir[64], path[128];

static gt_ledger *fresh(void) {
    gt_ledger *l = tledger_fresh(dir, path, &A[0], T0);
    CHECK(l != NULL);
    return l;
}

/* Key 1 pays PRICE to key 2 with nonce, valid in [after, before). */
static void sign_payment(gt_action *a, const gt_domain *d, uint64_t nonce, uint64_t after, uint64_t before) {
    gt_action_init(a, &gt_kind_payment, d, &A[1], nonce);
    gt_action_set_addr(a, "to", &A[2]);
    gt_action_set_u64(a, "amount", PRICE);
    gt_action_set_u64(a, "validAfter", after);
    gt_action_set_u64(a, "validBefore", before);
    CHECK_EQ_INT(gt_action_sign(a, &K[1], NULL), 0);
}

static gt_account acct_of(gt_ledger *l, int i) {
    gt_account out = {0};
    CHECK_EQ_INT(gt_ledger_account(l, &A[i], &out, NULL), 0);
    return out;
}

/* Submits a at block time t; returns the result code, message in r. */
static int submit_at(gt_ledger *l, uint64_t t, gt_action *a, gt_result *r) {
    gt_ledger_set_time(l, t);
    return tsubmit(l, a, r);
}

static void test_window(void) {
    gt_ledger *l = fresh();
    const gt_domain *d = gt_ledger_domain(l);
    gt_action a;
    gt_result r;
    tsign(&a, &gt_kind_mint, d, &K[0], 0, &A[1], 10 * UNIT);
    CHECK_EQ_INT(submit_at(l, T0 + 1, &a, &r), 0);
    /* Before its window: refused, nothing moved, the nonce still unused. */
    sign_payment(&a, d, 0, T0 + 100, T0 + 200);
    CHECK_EQ_INT(submit_at(l, T0 + 99, &a, &r), GT_ESTATE);
    CHECK_CONTAINS(r.msg, "payment not yet valid: valid from 1700000100, the block's time is 1700000099");
    CHECK_EQ_U64(acct_of(l, 1).balance, 10 * UNIT);
    CHECK_EQ_U64(acct_of(l, 1).nonce, 0);
    CHECK_EQ_U64(acct_of(l, 2).balance, 0);
    /* The honest case, at the first second of the window: paid. */
    CHECK_EQ_INT(submit_at(l, T0 + 100, &a, &r), 0);
    CHECK_EQ_U64(acct_of(l, 1).balance, 10 * UNIT - PRICE);
    CHECK_EQ_U64(acct_of(l, 2).balance, PRICE);
    CHECK_EQ_U64(acct_of(l, 1).nonce, 1);
    /* Held until its window closed (validBefore itself is outside): refused. */
    sign_payment(&a, d, 1, T0 + 100, T0 + 200);
    CHECK_EQ_INT(submit_at(l, T0 + 200, &a, &r), GT_ESTATE);
    CHECK_CONTAINS(r.msg, "payment expired: valid before 1700000200, the block's time is 1700000200");
    CHECK_EQ_U64(acct_of(l, 1).balance, 10 * UNIT - PRICE);
    CHECK_EQ_U64(acct_of(l, 2).balance, PRICE);
    CHECK_EQ_U64(acct_of(l, 1).nonce, 1);
    /* The last second of a window still pays. */
    sign_payment(&a, d, 1, T0 + 150, T0 + 201);
    CHECK_EQ_INT(submit_at(l, T0 + 200, &a, &r), 0);
    CHECK_EQ_U64(acct_of(l, 2).balance, 2 * PRICE);
    /* An empty window is malformed whatever the time. */
    sign_payment(&a, d, 2, T0 + 300, T0 + 300);
    CHECK_EQ_INT(submit_at(l, T0 + 300, &a, &r), GT_EINVAL);
    CHECK_CONTAINS(r.msg, "validAfter 1700000300 must be before validBefore 1700000300");
    /* A held payment voided by its payer: the nonce used by another action. */
    sign_payment(&a, d, 2, T0 + 300, T0 + 400);
    gt_action v;
    tsign(&v, &gt_kind_transfer, d, &K[1], 2, &A[1], 1);
    CHECK_EQ_INT(submit_at(l, T0 + 310, &v, &r), 0);
    CHECK_EQ_INT(submit_at(l, T0 + 320, &a, &r), GT_ENONCE);
    CHECK_EQ_U64(acct_of(l, 2).balance, 2 * PRICE);
    gt_ledger_close(l);
    /* Replay applies the same rule on the same block times. */
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) == 0, "%s", err.msg);
    trm(dir);
}

/* The time a node checks a payment against: the fixed clock, never before the
 * head's time. */
static void test_now(void) {
    gt_ledger *l = fresh();
    gt_ledger_set_time(l, T0 + 50);
    CHECK_EQ_U64(gt_ledger_now_s(l), T0 + 50);
    CHECK_EQ_INT(gt_ledger_tick(l, NULL), 0);
    gt_ledger_set_time(l, T0 + 40); /* behind the head, within the drift bound */
    CHECK_EQ_U64(gt_ledger_now_s(l), T0 + 50);
    gt_ledger_close(l);
    trm(dir);
}

int main(void) {
    for (int i = 0; i < 3; i++) tkey(i, &K[i], &A[i]);
    RUN(test_window);
    RUN(test_now);
    return gt_test_finish();
}
