/* fund_human.c: proof of human -- issuers and their attestations.
 *
 * An attestation is a human_attest action: EIP-712 typed data signed by the
 * issuer (every action is), saying "subject is a human I know as person,
 * weight w, until expiresS". Rules and the attacks they answer:
 *  - Only a registered issuer attests, and only while its bond holds at
 *    least GT_FUND_ISSUER_MIN_STAKE: registering moves that much from the
 *    sender's stake into a lock of its own (gt_fund_issuer_bond_id), as a
 *    judge's vote moves its bond out of stake (market/panel.c), so an issuer
 *    that vouches for sybils has something to lose that a plain `unstake`
 *    cannot take away. An unregistered or unbonded sender is refused.
 *  - Leaving takes time, and the bond stays slashable through it. Without
 *    that, an issuer that sold attestations to sybils would unstake the day
 *    before the duplicates are proven and keep everything. human_issuer_leave
 *    stops its attestations counting at once (gt_fund_human_weight reads the
 *    standing when it is read, not when the attestation was made), but the
 *    bond stays in its lock for the ledger's unbonding period, where a
 *    proven duplicate pair (fund_sybil.c) still burns it; only then does
 *    human_issuer_withdraw give the remainder back -- from format 16 only
 *    once every pairwise round whose window ended before the leave (where
 *    its attestations still count) is finalized. A bond slashed under the
 *    minimum stops every attestation of the issuer counting until it
 *    registers again, which tops the bond up from its stake.
 *  - Attestations expire (expiresS, at most GT_FUND_ATTEST_MAX_S ahead) and
 *    the issuer may revoke one at any time; an expired or revoked one weighs
 *    nothing and yields no nullifier.
 *  - person is the issuer's opaque id of the human (not personal data: a hash
 *    the issuer keeps). Attesting two addresses with the same person says
 *    they are one human: in a funding round the nullifier of (issuer, person,
 *    round) lets only the first of them contribute (fund_round.c).
 *  - weightPpm in 1 .. 1000000: an issuer may vouch with less than full
 *    confidence; the matching takes the largest valid weight. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>

#include "base/amount.h"
#include "crypto/addr.h"
#include "fund/fund.h"
#include "fund/fund_impl.h"
#include "fund/qf.h"
#include "ledger/row.h"

/* ---- human_issuer_register, human_issuer_leave, human_issuer_withdraw ---- */

static const gt_field_def issuer_fields[] = {{"name", GT_F_STRING, GT_FUND_NAME_MAX}};

/* Moves amount from who's stake into its issuer bond lock (stake -> balance
 * -> lock in one action, as market/panel.c bonds a judge); GT_EPERM when
 * its stake is short. */
static int bond_from_stake(gt_tx *tx, const gt_addr *who, uint64_t amount, gt_err *err) {
    uint64_t staked;
    uint8_t id[32];
    int rc = gt_fund_staked(tx, NULL, who, &staked, err);
    if (rc) return rc;
    if (staked < amount)
        return gt_err_set(err, GT_EPERM,
                          "an issuer of proof of human bonds %u base units from its stake (%llu needed now),"
                          " has %llu staked",
                          GT_FUND_ISSUER_MIN_STAKE, (unsigned long long)amount, (unsigned long long)staked);
    gt_fund_issuer_bond_id(who, id);
    if ((rc = gt_state_slash_stake(tx, who, who, amount, err))) return rc;
    return gt_state_lock(tx, who, id, amount, err);
}

/* Registers the sender, or tops up the bond of one slashed under the minimum. */
static int issuer_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    fd_issuer is;
    if (a->f[0].str_len == 0) return gt_err_set(err, GT_EINVAL, "name: expected 1 to %d bytes", GT_FUND_NAME_MAX);
    int rc = gt_fund_issuer_read(tx, NULL, &a->from, &is, err);
    if (rc) return rc;
    if (is.left)
        return gt_err_set(err, GT_ESTATE, "this address left as an issuer at block %llu; register from another one",
                          (unsigned long long)is.leave_height);
    if (is.registered && is.bond >= GT_FUND_ISSUER_MIN_STAKE)
        return gt_err_set(err, GT_EEXIST, "this address is already a registered issuer");
    if ((rc = bond_from_stake(tx, &a->from, GT_FUND_ISSUER_MIN_STAKE - is.bond, err))) return rc;
    if (!is.registered) {
        sqlite3_stmt *q;
        if ((rc = gt_fund_prepare(tx->db, "INSERT INTO fd_issuers VALUES(?,?,?)", &q, err))) return rc;
        sqlite3_bind_blob(q, 1, a->from.b, 20, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, gt_action_str(a, 0), (int)a->f[0].str_len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, (int64_t)tx->height);
        if ((rc = gt_fund_exec_done(tx->db, q, "writing the issuer", err))) return rc;
    }
    if (gt_buf_putc(&c->diff, FD_REC_ISSUER) || gt_fund_rec_bytes(c, a->from.b, 20) || gt_fund_rec_u64(c, tx->height))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_issuer(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, issuer_rule(&c, a, err));
}

gt_action_kind gt_kind_human_issuer_register = {
    "human_issuer_register", "HumanIssuerRegister", issuer_fields, 1, apply_issuer, 1, {0}, {0}, 0};

/* From format 15 keeps the leave's block time (fd_issuer_left): a round
 * counts a leave only when made before its endS (fund.c issuer_good). */
static int leave_time(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    assert(tx->height >= tx->format15_height && tx->time_s <= (uint64_t)INT64_MAX);
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db, "INSERT INTO fd_issuer_left VALUES(?,?)", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)tx->time_s);
    if ((rc = gt_fund_exec_done(tx->db, q, "writing the issuer's leave time", err))) return rc;
    return gt_fund_rec_u64(c, tx->time_s) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
}

/* Records the sender leaving: its attestations stop counting now (in a
 * round whose window ended before the leave, from format 15, not: that
 * round keeps the weights of its window's end), its bond is free (and
 * slashable until then) after the ledger's unbonding period. */
static int leave_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    fd_issuer is;
    uint64_t release;
    int rc = gt_fund_issuer_read(tx, NULL, &a->from, &is, err);
    if (rc) return rc;
    if (!is.registered) return gt_err_set(err, GT_ENOTFOUND, "this address is not a registered issuer");
    if (is.left) return gt_err_set(err, GT_ESTATE, "this issuer already left at block %llu",
                                   (unsigned long long)is.leave_height);
    if (gt_add_u64(tx->height, tx->unbonding_blocks, &release) || release > (uint64_t)INT64_MAX)
        return gt_err_set(err, GT_EOVERFLOW, "the bond's release height overflows");
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "INSERT INTO fd_issuer_exits VALUES(?,?,?,0)", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)tx->height);
    sqlite3_bind_int64(q, 3, (int64_t)release);
    if ((rc = gt_fund_exec_done(tx->db, q, "writing the issuer's exit", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_EXIT) || gt_fund_rec_bytes(c, a->from.b, 20) || gt_fund_rec_u64(c, release))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return tx->height >= tx->format15_height ? leave_time(c, a, err) : 0;
}

/* Format 16's rule: refuses the withdrawal of issuer's bond while a
 * pairwise round whose window ended at or before its leave (fd_issuer_left:
 * format 15 keeps its attestations counting there) is not finalized. Why:
 * a leave in the gap between a round's endS and its finalize kept the
 * subjects' weight (format 15), but a withdrawal then emptied the bond and
 * finalize weighed the issuer's subjects 0 (issuer_good reads the bond):
 * the gap attack by leaving again, one unbonding period later, and the
 * round counted the word of an issuer with nothing at stake
 * (test_fund_attacks test_withdraw_in_gap). Anyone may finalize a round
 * whose window is over, the issuer too, so the bond is never held for
 * good. A leave before format 15 (no time) counts everywhere: no round. */
static int check_rounds_settled(gt_tx *tx, const gt_addr *issuer, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db,
                             "SELECT r.id, r.end_s FROM fd_issuer_left l JOIN fd_rounds r ON r.status=? AND r.rule=?"
                             " AND r.end_s<=l.left_s WHERE l.addr=? ORDER BY r.end_s, r.id LIMIT 1",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_int(q, 1, GT_FUND_ROUND_OPEN);
    sqlite3_bind_int(q, 2, GT_FUND_PAIRWISE);
    sqlite3_bind_blob(q, 3, issuer->b, 20, SQLITE_STATIC);
    uint8_t id[32];
    uint64_t end_s = 0;
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW && !(rc = gt_row_blob(q, 0, id, 32, "fd_rounds", err)))
        rc = gt_row_amount(q, 1, &end_s, "fd_rounds", err);
    else if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = gt_err_set(err, GT_EDB, "reading rounds: %s", sqlite3_errmsg(tx->db));
    sqlite3_finalize(q);
    if (rc || s != SQLITE_ROW) return rc;
    char h[19];
    return gt_err_set(err, GT_ESTATE,
                      "round %s… ended (endS %llu) before this issuer left and is not finalized: its attestations"
                      " still count there, so its bond stays at stake until the round is finalized (anyone may"
                      " finalize it)",
                      gt_fund_short(id, h), (unsigned long long)end_s);
}

/* Gives a left issuer's bond back once its release height is reached (from
 * format 16 and once the rounds it still weighs in are finalized). */
static int withdraw_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    fd_issuer is;
    uint8_t id[32];
    int rc = gt_fund_issuer_read(tx, NULL, &a->from, &is, err);
    if (rc) return rc;
    if (!is.left) return gt_err_set(err, GT_ESTATE, "an issuer withdraws its bond only after human_issuer_leave");
    if (is.withdrawn) return gt_err_set(err, GT_ESTATE, "this issuer's bond was already withdrawn");
    if (tx->height < is.release_height)
        return gt_err_set(err, GT_ESTATE,
                          "the bond stays locked (and slashable for proven duplicates) until block %llu; this is"
                          " block %llu",
                          (unsigned long long)is.release_height, (unsigned long long)tx->height);
    if (tx->height >= tx->format16_height && (rc = check_rounds_settled(tx, &a->from, err))) return rc;
    gt_fund_issuer_bond_id(&a->from, id);
    if (is.bond && (rc = gt_state_release(tx, id, &a->from, is.bond, err))) return rc;
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "UPDATE fd_issuer_exits SET withdrawn=1 WHERE addr=?", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->from.b, 20, SQLITE_STATIC);
    if ((rc = gt_fund_exec_done(tx->db, q, "recording the withdrawal", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_EXIT) || gt_fund_rec_bytes(c, a->from.b, 20) || gt_fund_rec_u64(c, is.bond))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_leave(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, leave_rule(&c, a, err));
}
static int apply_withdraw(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, withdraw_rule(&c, a, err));
}

gt_action_kind gt_kind_human_issuer_leave = {"human_issuer_leave", "HumanIssuerLeave", NULL, 0, apply_leave, 1,
                                             {0}, {0}, 0};
gt_action_kind gt_kind_human_issuer_withdraw = {
    "human_issuer_withdraw", "HumanIssuerWithdraw", NULL, 0, apply_withdraw, 1, {0}, {0}, 0};

/* ---- human_attest ---- */

static const gt_field_def attest_fields[] = {
    {"subject", GT_F_ADDRESS, 0}, {"person", GT_F_BYTES32, 0}, {"weightPpm", GT_F_U64, 0}, {"expiresS", GT_F_U64, 0}};
enum { HA_SUBJECT, HA_PERSON, HA_WEIGHT, HA_EXPIRES };

/* Refuses a sender that is not a registered issuer vouching now. */
static int check_issuer(gt_tx *tx, const gt_addr *who, gt_err *err) {
    fd_issuer is;
    int rc = gt_fund_issuer_read(tx, NULL, who, &is, err);
    if (rc) return rc;
    if (!is.registered)
        return gt_err_set(err, GT_EPERM, "only a registered issuer may attest (human_issuer_register first)");
    if (is.left) return gt_err_set(err, GT_EPERM, "this issuer left at block %llu: it attests no more",
                                   (unsigned long long)is.leave_height);
    if (is.bond < GT_FUND_ISSUER_MIN_STAKE)
        return gt_err_set(err, GT_EPERM,
                          "an issuer's bond must hold at least %u base units to attest, holds %llu (slashed);"
                          " human_issuer_register tops it up",
                          GT_FUND_ISSUER_MIN_STAKE, (unsigned long long)is.bond);
    return 0;
}

/* Format 14's rule: refuses issuer attesting subject again while its
 * format-14 revocation of it (revoked > 1, height the revoking block) is
 * younger than the ledger's unbonding period, so a revoke cannot be undone
 * once a round is settled: the revoked humans stay unvouched by this issuer
 * everywhere (rounds, label seats, points) for that long. A row revoked by
 * a human_same slash or before format 14 (revoked 1) may be attested again. */
static int check_not_revoked(gt_tx *tx, const gt_addr *issuer, const gt_addr *subject, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db, "SELECT revoked, height FROM fd_humans WHERE subject=? AND issuer=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, subject->b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, issuer->b, 20, SQLITE_STATIC);
    uint64_t revoked = 0, at = 0, until;
    if (sqlite3_step(q) == SQLITE_ROW && !(rc = gt_row_amount(q, 0, &revoked, "fd_humans", err)))
        rc = gt_row_amount(q, 1, &at, "fd_humans", err);
    sqlite3_finalize(q);
    if (rc || revoked <= 1) return rc;
    if (gt_add_u64(at, tx->unbonding_blocks, &until)) until = UINT64_MAX;
    if (tx->height >= until) return 0;
    char s[43];
    return gt_err_set(err, GT_EPERM,
                      "this issuer revoked its attestation of %s at block %llu: it may attest that address again"
                      " from block %llu (a revocation stands for the ledger's unbonding period)",
                      gt_fund_addr(subject, s), (unsigned long long)at, (unsigned long long)until);
}

/* Format 14's rule: an issuer's attestation of a subject it vouches for
 * (an unrevoked row) only renews it -- the same person and weight, any
 * expiry. Why: human_attest replaces the row, so after a round's window
 * an issuer attested another project's backers again at 1 ppm, the round
 * was finalized at that weight and the issuer restored them (the gap
 * attack the revocation rule closed, without a revocation;
 * test_fund_attacks test_reweight_in_gap). A change of weight or person
 * goes through human_revoke, stamped with its time. */
static int check_renewal(gt_tx *tx, const gt_action *a, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db,
                             "SELECT 1 FROM fd_humans WHERE subject=? AND issuer=? AND revoked=0"
                             " AND (person!=? OR weight_ppm!=?)",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, a->f[HA_SUBJECT].addr.b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, a->f[HA_PERSON].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (int64_t)a->f[HA_WEIGHT].u64);
    int s = sqlite3_step(q);
    sqlite3_finalize(q);
    if (s == SQLITE_DONE) return 0;
    if (s != SQLITE_ROW) return gt_err_set(err, GT_EDB, "reading the attestation: %s", sqlite3_errmsg(tx->db));
    char w[43];
    return gt_err_set(err, GT_EPERM,
                      "this issuer already attests %s with another person or weight: an attestation of it only renews"
                      " (the same person and weight); revoke it first to change them",
                      gt_fund_addr(&a->f[HA_SUBJECT].addr, w));
}

static int attest_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    gt_addr zero = {{0}};
    uint64_t w = a->f[HA_WEIGHT].u64, exp = a->f[HA_EXPIRES].u64;
    if (gt_addr_eq(&a->f[HA_SUBJECT].addr, &zero)) return gt_err_set(err, GT_EINVAL, "subject: the zero address");
    if (gt_fund_is_zero32(a->f[HA_PERSON].b32))
        return gt_err_set(err, GT_EINVAL, "person: expected the issuer's id of the human (32 bytes), got zero");
    if (w == 0 || w > GT_FUND_WEIGHT_ONE)
        return gt_err_set(err, GT_EINVAL, "weightPpm must be 1 to %u, got %llu", GT_FUND_WEIGHT_ONE,
                          (unsigned long long)w);
    if (exp <= tx->time_s || exp - tx->time_s > GT_FUND_ATTEST_MAX_S)
        return gt_err_set(err, GT_EINVAL, "expiresS must be after the block's time %llu and at most %u seconds later",
                          (unsigned long long)tx->time_s, GT_FUND_ATTEST_MAX_S);
    int rc = check_issuer(tx, &a->from, err);
    if (!rc && tx->height >= tx->format14_height) rc = check_not_revoked(tx, &a->from, &a->f[HA_SUBJECT].addr, err);
    if (!rc && tx->height >= tx->format14_height) rc = check_renewal(tx, a, err);
    if (rc) return rc;
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "INSERT OR REPLACE INTO fd_humans VALUES(?,?,?,?,?,0,?)", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->f[HA_SUBJECT].addr.b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, a->f[HA_PERSON].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (int64_t)w);
    sqlite3_bind_int64(q, 5, (int64_t)exp);
    sqlite3_bind_int64(q, 6, (int64_t)tx->height);
    if ((rc = gt_fund_exec_done(tx->db, q, "writing the attestation", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_HUMAN) || gt_fund_rec_bytes(c, a->f[HA_SUBJECT].addr.b, 20) ||
        gt_fund_rec_bytes(c, a->from.b, 20) || gt_fund_rec_bytes(c, a->f[HA_PERSON].b32, 32) || gt_fund_rec_u64(c, w) ||
        gt_fund_rec_u64(c, exp))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_attest(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, attest_rule(&c, a, err));
}

gt_action_kind gt_kind_human_attest = {"human_attest", "HumanAttest", attest_fields, 4, apply_attest, 1, {0}, {0}, 0};

/* ---- human_revoke ---- */

static const gt_field_def revoke_fields[] = {{"subject", GT_F_ADDRESS, 0}};

/* Revokes the sender's attestation of the subject. Before format 14 the
 * row's revoked is 1; from format 14 (format14_height) it is the block's
 * time (> 1) and the row's height the revoking block's: finalize counts a
 * revocation only when made before a round's endS (fund_finalize.c), and
 * human_attest refuses the same (issuer, subject) again for the ledger's
 * unbonding period (attest_rule). Why: an issuer allied with one project
 * revoked another project's backers after the window and attested them
 * again after finalize, taking that project's match at no cost
 * (test_fund_attacks test_revoke_in_gap). The human_same slash still
 * writes 1: a proven duplicate stops weighing whenever it is proven. */
static int revoke_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    int f14 = tx->height >= tx->format14_height;
    assert(tx->time_s > 1); /* a format-14 revocation's time is told apart from the old 1 */
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db,
                             "UPDATE fd_humans SET revoked=?, height=CASE WHEN ? THEN ? ELSE height END"
                             " WHERE subject=? AND issuer=? AND revoked=0",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, f14 ? (int64_t)tx->time_s : 1);
    sqlite3_bind_int(q, 2, f14);
    sqlite3_bind_int64(q, 3, (int64_t)tx->height);
    sqlite3_bind_blob(q, 4, a->f[0].addr.b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 5, a->from.b, 20, SQLITE_STATIC);
    if ((rc = gt_fund_exec_done(tx->db, q, "revoking", err))) return rc;
    if (sqlite3_changes(tx->db) != 1)
        return gt_err_set(err, GT_ENOTFOUND, "the sender has no unrevoked attestation of that subject");
    if (gt_buf_putc(&c->diff, FD_REC_HUMAN) || gt_fund_rec_bytes(c, a->f[0].addr.b, 20) ||
        gt_fund_rec_bytes(c, a->from.b, 20) || (f14 && gt_fund_rec_u64(c, tx->time_s)))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_revoke(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, revoke_rule(&c, a, err));
}

gt_action_kind gt_kind_human_revoke = {"human_revoke", "HumanRevoke", revoke_fields, 1, apply_revoke, 1, {0}, {0}, 0};
