/* rules.h: the core action kinds of rules v1: transfer, mint, stake, unstake,
 * payment.
 * (Escrow locks are not actions of their own: higher-layer rules such as the
 * market's tasks open and settle them through state.h's primitives.) */
#ifndef GT_LEDGER_RULES_H
#define GT_LEDGER_RULES_H

#include "ledger/action.h"

extern gt_action_kind gt_kind_transfer; /* to, amount */
extern gt_action_kind gt_kind_mint;     /* to, amount; only the genesis authority */
extern gt_action_kind gt_kind_stake;    /* amount: balance -> staked */
extern gt_action_kind gt_kind_unstake;  /* amount: staked -> unbonding, back after a delay */
/* to, amount, validAfter, validBefore: a transfer applied only in a block whose
 * time t has validAfter <= t < validBefore (x402 on the ledger, api/x402_ledger.h) */
extern gt_action_kind gt_kind_payment;

/* Registers the core kinds (idempotent). */
int gt_rules_register(gt_err *err);

#endif
