/* rules.c: rules v1 for the core action kinds. Each apply function checks what
 * it needs and calls state.h's primitives, which check again and undo cleanly.
 * The nonce is consumed by the ledger before apply runs (and restored with
 * everything else when apply refuses). */
#include "ledger/rules.h"

#include "crypto/addr.h"
#include "ledger/state.h"

static const gt_field_def transfer_fields[] = {
    {"to", GT_F_ADDRESS, 0},
    {"amount", GT_F_U64, 0},
};
static const gt_field_def payment_fields[] = {
    {"to", GT_F_ADDRESS, 0},
    {"amount", GT_F_U64, 0},
    {"validAfter", GT_F_U64, 0},
    {"validBefore", GT_F_U64, 0},
};
static const gt_field_def amount_fields[] = {
    {"amount", GT_F_U64, 0},
};

/* Refuses zero amounts: they would only burn a nonce and clutter the log. */
static int positive(uint64_t amount, gt_err *err) {
    if (!amount) return gt_err_set(err, GT_EINVAL, "amount must be greater than 0");
    return 0;
}

static int apply_transfer(gt_tx *tx, const gt_action *a, gt_err *err) {
    int rc = positive(a->f[1].u64, err);
    if (rc) return rc;
    if (gt_addr_is_zero(&a->f[0].addr))
        return gt_err_set(err, GT_EINVAL, "cannot transfer to the zero address");
    return gt_state_transfer(tx, &a->from, &a->f[0].addr, a->f[1].u64, err);
}

/* A transfer good only in blocks stamped validAfter <= time < validBefore
 * (EIP-3009's window, on block time): one signed to pay for a request (x402)
 * and never submitted cannot be spent later than its payer allowed. */
static int apply_payment(gt_tx *tx, const gt_action *a, gt_err *err) {
    uint64_t after = a->f[2].u64, before = a->f[3].u64;
    if (after >= before)
        return gt_err_set(err, GT_EINVAL, "payment: validAfter %llu must be before validBefore %llu",
                          (unsigned long long)after, (unsigned long long)before);
    if (tx->time_s < after)
        return gt_err_set(err, GT_ESTATE, "payment not yet valid: valid from %llu, the block's time is %llu",
                          (unsigned long long)after, (unsigned long long)tx->time_s);
    if (tx->time_s >= before)
        return gt_err_set(err, GT_ESTATE, "payment expired: valid before %llu, the block's time is %llu",
                          (unsigned long long)before, (unsigned long long)tx->time_s);
    return apply_transfer(tx, a, err);
}

static int apply_mint(gt_tx *tx, const gt_action *a, gt_err *err) {
    if (!gt_addr_eq(&a->from, &tx->authority)) {
        char s[43];
        gt_addr_to_str(&tx->authority, s);
        return gt_err_set(err, GT_EPERM, "only the genesis authority %s may mint", s);
    }
    int rc = positive(a->f[1].u64, err);
    if (rc) return rc;
    if (gt_addr_is_zero(&a->f[0].addr))
        return gt_err_set(err, GT_EINVAL, "cannot mint to the zero address");
    return gt_state_mint(tx, &a->f[0].addr, a->f[1].u64, err);
}

static int apply_stake(gt_tx *tx, const gt_action *a, gt_err *err) {
    int rc = positive(a->f[0].u64, err);
    return rc ? rc : gt_state_stake(tx, &a->from, a->f[0].u64, err);
}

static int apply_unstake(gt_tx *tx, const gt_action *a, gt_err *err) {
    int rc = positive(a->f[0].u64, err);
    return rc ? rc : gt_state_unstake(tx, &a->from, a->f[0].u64, err);
}

gt_action_kind gt_kind_transfer = {"transfer", "Transfer", transfer_fields, 2, apply_transfer, 0, {0}, {0}, 0};
gt_action_kind gt_kind_payment = {"payment", "Payment", payment_fields, 4, apply_payment, 0, {0}, {0}, 0};
gt_action_kind gt_kind_mint = {"mint", "Mint", transfer_fields, 2, apply_mint, 0, {0}, {0}, 0};
gt_action_kind gt_kind_stake = {"stake", "Stake", amount_fields, 1, apply_stake, 0, {0}, {0}, 0};
gt_action_kind gt_kind_unstake = {"unstake", "Unstake", amount_fields, 1, apply_unstake, 0, {0}, {0}, 0};

int gt_rules_register(gt_err *err) {
    int rc;
    if ((rc = gt_action_register(&gt_kind_transfer, err))) return rc;
    if ((rc = gt_action_register(&gt_kind_mint, err))) return rc;
    if ((rc = gt_action_register(&gt_kind_stake, err))) return rc;
    if ((rc = gt_action_register(&gt_kind_unstake, err))) return rc;
    return gt_action_register(&gt_kind_payment, err);
}
