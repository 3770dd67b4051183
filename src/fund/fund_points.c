/* fund_points.c: points for verified work, and each epoch's airdrop.
 *
 * The published rules:
 *  - An epoch is GT_FUND_EPOCH_S seconds of block time: epoch e holds the
 *    blocks whose time is in [e*GT_FUND_EPOCH_S, (e+1)*GT_FUND_EPOCH_S).
 *  - points_record(task, slot): the worker of a slot the market paid
 *    (GT_SLOT_PAID) records its points in the epoch of the block: the slot's
 *    bounty in base units, times accepted/total units when the verdict was
 *    partial (what the poster actually paid for verified work). Once per
 *    slot; never for a slot whose worker is the task's poster (paying
 *    oneself is not work); only by the worker (nobody records for others).
 *    From format 15 a slot paid from format 15 on is recorded only in the
 *    epoch it was paid in or the next (check_paid_epoch): before, a worker
 *    kept its paid slots for whichever later epoch paid best per point.
 *    From format 16 such a slot's points go to the epoch it was paid in
 *    whenever they are recorded, until that epoch is closed (paid_epoch):
 *    the worker chooses no epoch at all, and has at least the close's grace.
 *  - airdrop_fund(epoch, amount): escrows the epoch's pool from the sender,
 *    before the epoch ends (so the pool is known before the last points are).
 *    Before format 14 one funder per epoch, who may add to it: anyone could
 *    squat every epoch up to a year ahead for 1 base unit each (returned at
 *    close when nobody earned points) and the airdrop's real funder was
 *    refused (test_fund_attacks test_epoch_squat). From format 14
 *    (format14_height) several funders may add to an epoch's pool, each
 *    funding at least GT_FUND_MIN_CONTRIBUTION (0.01 token) and at most
 *    GT_FUND_EPOCH_MAX_FUNDERS distinct funders an epoch (a funder already in
 *    may always add); what each put in is kept in fd_epoch_funds and the pool
 *    is their sum. fd_epochs.funder stays the epoch's first funder.
 *  - airdrop_close(epoch): anyone, once the epoch is over; from format 16
 *    only GT_AIRDROP_CLOSE_GRACE_S (a day) after its end (fund_airdrop.c
 *    check_grace), so a worker paid in its last moments records its points
 *    into it before another earner can close it to keep the pool. Accounts in
 *    address order get claim indexes 0, 1, ...; account i's amount is
 *    floor(pool * points_i / total_points); accounts whose share rounds to 0
 *    are left out. The leaves are Uniswap MerkleDistributor's
 *    (airdrop.h), the root is recorded; what rounding leaves and an epoch
 *    with no points return to the funder -- from format 14 to the funders
 *    pro rata: funder i gets floor(back * amount_i / pool) in address order,
 *    and the remainder of that rounding (fewer base units than funders) goes
 *    to the epoch's first funder (fund_airdrop.c pay_back).
 *  - airdrop_claim(epoch, index, amount, proof): the leaf's account only,
 *    once, with a proof that folds (index, sender, amount) to the root --
 *    the same check the on-chain distributor makes. Another's proof does
 *    not fold with the sender's address; a second claim is refused.
 *  - From ledger format 10 (gt_tx.format10_height) points come only from
 *    demand a human backs, at most GT_FUND_POINTS_PER_PAYER an epoch per
 *    person: the task's poster must hold a valid proof of human at the
 *    block (gt_fund_human_weight > 0), must not be attested as the same
 *    human as the worker (one issuer's person id, or a human_same pair), and
 *    one person pays for points from one address an epoch (its nullifiers
 *    in the epoch's scope, as a contributor's in a round). A slot's points
 *    are cut to what is left of its poster's budget, and refused once none
 *    is. Before, a poster paying a second wallet of its own (verifying the
 *    work itself, fee 0) minted points for free and as many as the bounty
 *    it moved between its own wallets: an epoch's pool went to whoever
 *    cycled the most tokens. Now such a ring earns at most the budget per
 *    attested person, each costing an issuer's bonded word. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "fund/airdrop.h"
#include "fund/fund.h"
#include "fund/fund_impl.h"
#include "ledger/row.h"
#include "market/market.h"

/* ---- points_record ---- */

static const gt_field_def record_fields[] = {{"task", GT_F_BYTES32, 0}, {"slot", GT_F_U64, 0}};

/* The points of a paid slot: its bounty, scaled by a partial verdict. */
static int slot_points(sqlite3 *db, const uint8_t task[32], uint64_t slot, const gt_market_slot_ref *ref,
                       uint64_t *points, gt_err *err) {
    sqlite3_stmt *q;
    int rc =
        gt_fund_prepare(db, "SELECT accepted, total FROM mk_partials WHERE task=? AND slot=? AND attempt=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    sqlite3_bind_int64(q, 3, (int64_t)ref->attempt);
    *points = ref->bounty;
    if (sqlite3_step(q) == SQLITE_ROW) {
        uint64_t acc, tot;
        if (!(rc = gt_row_amount(q, 0, &acc, "mk_partials", err)) &&
            !(rc = gt_row_amount(q, 1, &tot, "mk_partials", err))) {
            if (tot == 0 || acc > tot)
                rc = gt_row_damaged(q, 1, "mk_partials", "0 <= accepted <= total, total > 0", err);
            else
                *points = (uint64_t)((unsigned __int128)ref->bounty * acc / tot);
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* Adds pts to (epoch, who) in fd_points; refuses a new account once the
 * epoch has GT_FUND_EPOCH_MAX_ACCOUNTS (its tree must stay closable). */
static int add_points(sqlite3 *db, uint64_t epoch, const gt_addr *who, uint64_t pts, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "SELECT (SELECT COUNT(*) FROM fd_points WHERE epoch=?1),"
                             " EXISTS(SELECT 1 FROM fd_points WHERE epoch=?1 AND account=?2)",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    sqlite3_bind_blob(q, 2, who->b, 20, SQLITE_STATIC);
    int full = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) >= GT_FUND_EPOCH_MAX_ACCOUNTS &&
               !sqlite3_column_int(q, 1);
    sqlite3_finalize(q);
    if (full)
        return gt_err_set(err, GT_ELIMIT, "epoch %llu already has %u accounts with points, the most its airdrop holds",
                          (unsigned long long)epoch, GT_FUND_EPOCH_MAX_ACCOUNTS);
    rc = gt_fund_prepare(db,
                         "INSERT INTO fd_points VALUES(?,?,?) ON CONFLICT(epoch, account)"
                         " DO UPDATE SET points=points+excluded.points",
                         &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    sqlite3_bind_blob(q, 2, who->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)pts);
    return gt_fund_exec_done(db, q, "adding points", err);
}

/* The scope of an epoch's payer nullifiers: keccak256("gotong.fund.points" ‖ epoch, big-endian). */
static void payer_scope(uint64_t epoch, uint8_t out[32]) {
    static const char tag[] = "gotong.fund.points";
    uint8_t b[sizeof tag - 1 + 8];
    memcpy(b, tag, sizeof tag - 1);
    for (int i = 0; i < 8; i++) b[sizeof tag - 1 + (size_t)i] = (uint8_t)(epoch >> (56 - 8 * i));
    gt_keccak256(b, sizeof b, out);
}

int gt_fund_same_human(gt_tx *tx, const gt_addr *worker, const gt_addr *poster, int any, int *same, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db,
                             "SELECT EXISTS(SELECT 1 FROM fd_humans w JOIN fd_humans p"
                             " ON p.issuer=w.issuer AND p.person=w.person WHERE w.subject=?1 AND p.subject=?2"
                             " AND (?4 OR (w.revoked=0 AND p.revoked=0 AND w.expires_s>?3 AND p.expires_s>?3)))"
                             " OR EXISTS(SELECT 1 FROM fd_human_same a JOIN fd_human_same b"
                             " ON b.addr=a.other AND b.other=a.addr WHERE a.addr=?1 AND a.other=?2)",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, worker->b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, poster->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)tx->time_s);
    sqlite3_bind_int(q, 4, any != 0);
    if (sqlite3_step(q) == SQLITE_ROW) *same = sqlite3_column_int(q, 0) != 0;
    else rc = gt_err_set(err, GT_EDB, "fund store: %s", sqlite3_errmsg(tx->db));
    sqlite3_finalize(q);
    return rc;
}

/* Format 10's payer rule (see the top of the file): checks the slot's
 * poster may pay for points and cuts *pts to what is left of its budget in
 * epoch, recording what it gave. */
static int payer_budget(fd_ctx *c, const gt_market_slot_ref *ref, uint64_t epoch, uint64_t *pts, gt_err *err) {
    gt_tx *tx = c->tx;
    char who[43];
    uint32_t weight = 0;
    int rc = gt_fund_human_weight_tx(tx, tx->db, &ref->poster, tx->time_s, &weight, err), same = 0;
    if (rc) return rc;
    if (weight == 0)
        return gt_err_set(err, GT_EPERM,
                          "the task's poster %s holds no valid proof of human: points come only from work a "
                          "human-attested poster paid for",
                          gt_fund_addr(&ref->poster, who));
    if ((rc = gt_fund_same_human(tx, &ref->worker, &ref->poster, 0, &same, err))) return rc;
    if (same) return gt_err_set(err, GT_EPERM, "the worker is attested as the same human as the task's poster");
    uint8_t scope[32];
    payer_scope(epoch, scope);
    if ((rc = gt_fund_use_nullifiers(c, scope, &ref->poster, "pays for points in epoch scope",
                                     "one person pays for points from one address an epoch", err)))
        return rc;
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "SELECT points FROM fd_payer_points WHERE epoch=? AND payer=?", &q, err)))
        return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    sqlite3_bind_blob(q, 2, ref->poster.b, 20, SQLITE_STATIC);
    uint64_t given = 0;
    if (sqlite3_step(q) == SQLITE_ROW) rc = gt_row_amount(q, 0, &given, "fd_payer_points", err);
    sqlite3_finalize(q);
    if (!rc && given > GT_FUND_POINTS_PER_PAYER)
        rc = gt_err_set(err, GT_EINVAL, "fund store: fd_payer_points holds more than the budget");
    if (rc) return rc;
    if (given == GT_FUND_POINTS_PER_PAYER)
        return gt_err_set(err, GT_ELIMIT,
                          "the task's poster %s has paid for its %llu points of epoch %llu (one person's budget "
                          "an epoch); a slot's points go to the epoch it was paid in (before ledger format 16 a"
                          " later epoch could take them)",
                          gt_fund_addr(&ref->poster, who), (unsigned long long)GT_FUND_POINTS_PER_PAYER,
                          (unsigned long long)epoch);
    if (*pts > GT_FUND_POINTS_PER_PAYER - given) *pts = GT_FUND_POINTS_PER_PAYER - given;
    if ((rc = gt_fund_prepare(tx->db,
                              "INSERT INTO fd_payer_points VALUES(?,?,?) ON CONFLICT(epoch, payer)"
                              " DO UPDATE SET points=excluded.points",
                              &q, err)))
        return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    sqlite3_bind_blob(q, 2, ref->poster.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)(given + *pts));
    if ((rc = gt_fund_exec_done(tx->db, q, "recording the payer's points", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_PAYER) || gt_fund_rec_u64(c, epoch) || gt_fund_rec_bytes(c, ref->poster.b, 20) ||
        gt_fund_rec_u64(c, given + *pts))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* The block time the slot was paid at (the market's mk_slot_paid, written
 * for slots paid from format 15 on): *found 0 for one paid before. */
static int paid_time(gt_tx *tx, const uint8_t task[32], uint64_t slot, int *found, uint64_t *paid_s, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db, "SELECT paid_s FROM mk_slot_paid WHERE task=? AND slot=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    *paid_s = 0;
    *found = sqlite3_step(q) == SQLITE_ROW;
    if (*found) rc = gt_row_amount(q, 0, paid_s, "mk_slot_paid", err);
    sqlite3_finalize(q);
    if (!rc && *paid_s > tx->time_s)
        rc = gt_err_set(err, GT_EDB, "damaged row in table mk_slot_paid: paid after this block");
    return rc;
}

/* Format 15's rule: a slot paid from format 15 on (its block time in the
 * market's mk_slot_paid) records its points only in the epoch it was paid
 * in or the next (one paid in an epoch's last block still has a day).
 * Before, a worker kept paid slots and recorded them in whichever later
 * epoch paid the most per point (the pool is known before the epoch ends;
 * the points recorded are public), diluting that epoch's own earners with
 * work of any age. A slot paid before format 15 has no time: any epoch. */
static int check_paid_epoch(gt_tx *tx, const uint8_t task[32], uint64_t slot, uint64_t epoch, gt_err *err) {
    uint64_t paid_s = 0;
    int found = 0, rc = paid_time(tx, task, slot, &found, &paid_s, err);
    if (rc || !found) return rc;
    uint64_t paid = gt_fund_epoch_of(paid_s);
    if (epoch <= paid + 1) return 0;
    return gt_err_set(err, GT_ESTATE,
                      "this slot was paid in epoch %llu: its points are recorded in that epoch or the next (%llu),"
                      " not in epoch %llu",
                      (unsigned long long)paid, (unsigned long long)(paid + 1), (unsigned long long)epoch);
}

/* Format 16's rule: a slot paid from format 15 on credits its points to the
 * epoch it was paid in (*epoch), whenever it is recorded, and is refused
 * once that epoch is closed (its tree is drawn). Why: format 15 still let
 * the worker choose between the epoch it was paid in and the next (record
 * then or wait a day), and take whichever paid more per point once both
 * pools and most of their points were public (test_fund_attacks
 * test_points_epoch_fixed). A slot paid before format 15 has no time: the
 * epoch of the recording block, as before. */
static int paid_epoch(gt_tx *tx, const uint8_t task[32], uint64_t slot, uint64_t *epoch, gt_err *err) {
    uint64_t paid_s = 0;
    int found = 0, rc = paid_time(tx, task, slot, &found, &paid_s, err);
    if (rc || !found) return rc;
    *epoch = gt_fund_epoch_of(paid_s);
    assert(*epoch <= gt_fund_epoch_of(tx->time_s));
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "SELECT status FROM fd_epochs WHERE epoch=?", &q, err))) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)*epoch);
    int status = GT_FUND_EPOCH_FUNDED;
    if (sqlite3_step(q) == SQLITE_ROW) rc = gt_row_int(q, 0, &status, "fd_epochs", err);
    sqlite3_finalize(q);
    if (rc || status == GT_FUND_EPOCH_FUNDED) return rc;
    return gt_err_set(err, GT_ESTATE,
                      "this slot was paid in epoch %llu, which is closed: a slot's points go to the epoch it was paid"
                      " in (ledger format 16) and are recorded before that epoch's airdrop is closed",
                      (unsigned long long)*epoch);
}

static int record_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    const uint8_t *task = a->f[0].b32;
    uint64_t slot = a->f[1].u64, pts, epoch = gt_fund_epoch_of(tx->time_s);
    gt_market_slot_ref ref;
    int rc = gt_market_slot_ref_get(tx->db, task, slot, &ref, err);
    if (rc) return rc;
    if (ref.state != GT_SLOT_PAID)
        return gt_err_set(err, GT_ESTATE, "the slot is not paid: only verified, paid work earns points");
    if (!gt_addr_eq(&ref.worker, &a->from))
        return gt_err_set(err, GT_EPERM, "only the slot's worker records its points");
    if (gt_addr_eq(&ref.worker, &ref.poster))
        return gt_err_set(err, GT_EPERM, "a slot worked by its own poster earns no points");
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "SELECT epoch FROM fd_slot_points WHERE task=? AND slot=?", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    if (sqlite3_step(q) == SQLITE_ROW)
        rc = gt_err_set(err, GT_EEXIST, "this slot's points were already recorded in epoch %lld",
                        (long long)sqlite3_column_int64(q, 0));
    sqlite3_finalize(q);
    if (!rc && tx->height >= tx->format16_height) rc = paid_epoch(tx, task, slot, &epoch, err);
    else if (!rc && tx->height >= tx->format15_height) rc = check_paid_epoch(tx, task, slot, epoch, err);
    if (rc || (rc = slot_points(tx->db, task, slot, &ref, &pts, err))) return rc;
    assert(pts <= ref.bounty);
    if (pts == 0) return gt_err_set(err, GT_EINVAL, "the slot was paid nothing: no points");
    if (tx->height >= tx->format10_height && (rc = payer_budget(c, &ref, epoch, &pts, err))) return rc;
    assert(pts > 0);
    if ((rc = gt_fund_prepare(tx->db, "INSERT INTO fd_slot_points VALUES(?,?,?,?,?)", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)slot);
    sqlite3_bind_blob(q, 3, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (int64_t)epoch);
    sqlite3_bind_int64(q, 5, (int64_t)pts);
    if ((rc = gt_fund_exec_done(tx->db, q, "recording the slot", err)) ||
        (rc = add_points(tx->db, epoch, &a->from, pts, err)))
        return rc;
    if (gt_buf_putc(&c->diff, FD_REC_POINTS) || gt_fund_rec_bytes(c, task, 32) || gt_fund_rec_u64(c, slot) ||
        gt_fund_rec_bytes(c, a->from.b, 20) || gt_fund_rec_u64(c, epoch) || gt_fund_rec_u64(c, pts))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_record(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, record_rule(&c, a, err));
}

gt_action_kind gt_kind_points_record = {
    "points_record", "PointsRecord", record_fields, 2, apply_record, 1, {0}, {0}, 0};

/* ---- airdrop_fund ---- */

static const gt_field_def fund_fields[] = {{"epoch", GT_F_U64, 0}, {"amount", GT_F_U64, 0}};

/* Reads an epoch's row; *found 0 when there is none. */
static int epoch_load(sqlite3 *db, uint64_t epoch, int *found, gt_addr *funder, uint64_t *pool, int *status,
                      uint8_t root[32], gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT funder, pool, status, root FROM fd_epochs WHERE epoch=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    *found = sqlite3_step(q) == SQLITE_ROW;
    const char *T = "fd_epochs";
    if (*found && !(rc = gt_row_blob(q, 0, funder->b, 20, T, err)) && !(rc = gt_row_amount(q, 1, pool, T, err)) &&
        !(rc = gt_row_int(q, 2, status, T, err)))
        rc = gt_row_blob(q, 3, root, 32, T, err);
    sqlite3_finalize(q);
    return rc;
}

/* Adds amount to who's row of epoch in fd_epoch_funds; feeds the commitment. */
static int funder_put(fd_ctx *c, uint64_t epoch, const gt_addr *who, uint64_t amount, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(c->tx->db,
                             "INSERT INTO fd_epoch_funds VALUES(?,?,?) ON CONFLICT(epoch, funder)"
                             " DO UPDATE SET amount=amount+excluded.amount",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    sqlite3_bind_blob(q, 2, who->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)amount);
    if ((rc = gt_fund_exec_done(c->tx->db, q, "recording the epoch's funder", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_EPOCH_FUND) || gt_fund_rec_u64(c, epoch) || gt_fund_rec_bytes(c, who->b, 20) ||
        gt_fund_rec_u64(c, amount))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* Format 14: records that from put amount in epoch's pool (which held pool,
 * first funded by first). An epoch funded before format 14 has no rows: its
 * one funder's row for the whole pool is written first, so the rows always
 * add up to the pool. A new funder is refused once the epoch has
 * GT_FUND_EPOCH_MAX_FUNDERS (its close pays each back). */
static int funder_add(fd_ctx *c, uint64_t epoch, const gt_addr *first, uint64_t pool, const gt_addr *from,
                      uint64_t amount, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(c->tx->db,
                             "SELECT COUNT(*), COALESCE(SUM(funder=?2),0) FROM fd_epoch_funds WHERE epoch=?1", &q,
                             err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    sqlite3_bind_blob(q, 2, from->b, 20, SQLITE_STATIC);
    int64_t n = 0, mine = 0;
    if (sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int64(q, 0), mine = sqlite3_column_int64(q, 1);
    else rc = gt_err_set(err, GT_EDB, "reading the epoch's funders: %s", sqlite3_errmsg(c->tx->db));
    sqlite3_finalize(q);
    if (!rc && n == 0 && pool > 0) { /* funded before format 14: its one funder holds the whole pool */
        rc = funder_put(c, epoch, first, pool, err);
        n = 1, mine = gt_addr_eq(first, from);
    }
    if (rc) return rc;
    if (!mine && n >= GT_FUND_EPOCH_MAX_FUNDERS)
        return gt_err_set(err, GT_ELIMIT, "epoch %llu already has %u funders: only they may add to its pool",
                          (unsigned long long)epoch, GT_FUND_EPOCH_MAX_FUNDERS);
    return funder_put(c, epoch, from, amount, err);
}

static int fund_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    uint64_t epoch = a->f[0].u64, amount = a->f[1].u64, pool = 0;
    gt_addr funder;
    uint8_t root[32], lock[32];
    int found, status, rc, f14 = tx->height >= tx->format14_height;
    if (amount == 0 || amount > GT_SUPPLY_MAX) return gt_err_set(err, GT_EINVAL, "amount must be greater than 0");
    if (f14 && amount < GT_FUND_MIN_CONTRIBUTION)
        return gt_err_set(err, GT_EINVAL, "an epoch is funded with at least %u base units (0.01 token) at a time",
                          GT_FUND_MIN_CONTRIBUTION);
    if (epoch < gt_fund_epoch_of(tx->time_s))
        return gt_err_set(err, GT_ESTATE,
                          "epoch %llu is over (the block is in epoch %llu): fund an epoch before it ends",
                          (unsigned long long)epoch, (unsigned long long)gt_fund_epoch_of(tx->time_s));
    if (epoch > gt_fund_epoch_of(tx->time_s) + 366)
        return gt_err_set(err, GT_EINVAL, "epoch is more than a year ahead");
    if ((rc = epoch_load(tx->db, epoch, &found, &funder, &pool, &status, root, err))) return rc;
    if (found && !f14 && !gt_addr_eq(&funder, &a->from)) {
        char s[43];
        return gt_err_set(err, GT_EPERM, "epoch %llu is funded by %s: one funder per epoch", (unsigned long long)epoch,
                          gt_fund_addr(&funder, s));
    }
    if (pool + amount > GT_SUPPLY_MAX) return gt_err_set(err, GT_EOVERFLOW, "the pool would overflow");
    gt_fund_epoch_lock_id(epoch, lock);
    if (f14 && (rc = funder_add(c, epoch, found ? &funder : &a->from, pool, &a->from, amount, err))) return rc;
    /* a lock has one owner: the epoch's stays its first funder's, a later
     * funder's amount passes through that balance into it in this action
     * (fd_epoch_funds says whose each part is; close pays them back) */
    const gt_addr *owner = found ? &funder : &a->from;
    if (!gt_addr_eq(owner, &a->from) && (rc = gt_state_transfer(tx, &a->from, owner, amount, err))) return rc;
    if ((rc = gt_state_lock(tx, owner, lock, amount, err))) return rc;
    sqlite3_stmt *q; /* the first funder's row stays the epoch's funder; an open epoch's other columns are 0 */
    if ((rc = gt_fund_prepare(tx->db,
                              "INSERT INTO fd_epochs VALUES(?,?,?,0,zeroblob(32),0,0,0) ON CONFLICT(epoch)"
                              " DO UPDATE SET pool=excluded.pool",
                              &q, err)))
        return rc;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)(pool + amount));
    if ((rc = gt_fund_exec_done(tx->db, q, "funding the epoch", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_EPOCH) || gt_fund_rec_u64(c, epoch) || gt_fund_rec_bytes(c, a->from.b, 20) ||
        gt_fund_rec_u64(c, pool + amount))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_fund(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, fund_rule(&c, a, err));
}

gt_action_kind gt_kind_airdrop_fund = {"airdrop_fund", "AirdropFund", fund_fields, 2, apply_fund, 1, {0}, {0}, 0};
