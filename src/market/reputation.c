/* reputation.c: counters per (address, skill) that anyone choosing whom to
 * hire can read: results accepted and rejected, submit deadlines missed,
 * disputes won and lost, and the amount slashed; and, per address, what its
 * accepted results earned, weighed by value and by distinct, independent
 * counterparties. They are written only by the settlement rules (never by
 * an action of their own), so they cannot be bought except by doing, or
 * pretending to do, real tasks with real stakes.
 *
 * Counting results is cheap to fake: a sybil poster pays its own worker a
 * base unit a round. So every payment for an accepted result is also kept
 * as a flow (payer, payee, value) in mk_rep_flows, and the address's total
 * shows:
 *  - paid: the value received for accepted results, gross;
 *  - earned: the value received from independent counterparties, net of
 *    what flowed back: from each payer, what it paid this address less what
 *    this address paid it (never below 0). Self-dealing (the same address
 *    on both sides) counts nothing; a circular flow (A pays B, B pays A)
 *    cancels out on both sides;
 *  - payers: how many distinct counterparties have a positive net flow;
 *  - standing: the sum over those payers of the integer square root of their
 *    net flow in base units, so that many distinct payers weigh more than
 *    one large one (one payer of 4 tokens: 2000; four payers of 1: 4000) and
 *    splitting a sybil's payment over more rounds adds nothing.
 *
 * What reputation is for: reading, not ruling. No rule of the ledger uses it:
 * claims are first come (limited per worker by seatsPerWorker), judges are
 * drawn by stake (panel.c), and nothing is paid or ranked by reputation. An
 * agent or a person may use it to choose whom to hire or trust, knowing its
 * limits: a wash trader with two funded wallets who never pays back through
 * the market still earns "earned" at the cost of its own bounty (which it
 * pays itself) plus fees; cycles longer than two (A pays B pays C pays A)
 * and value sent back by plain transfer are not seen. Only stake, which
 * a wrong judgement loses, decides anything. */
#include <string.h>

#include "base/amount.h"
#include "crypto/addr.h"
#include "market/market_impl.h"

static const mk_counters rep_counters = {
    "mk_reputation",
    "SELECT accepted,rejected,missed,disputes_won,disputes_lost,slashed FROM mk_reputation WHERE addr=?1 AND skill=?2",
    "INSERT INTO mk_reputation VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    "UPDATE mk_reputation SET accepted=?3, rejected=?4, missed=?5, disputes_won=?6, disputes_lost=?7, slashed=?8 "
    "WHERE addr=?1 AND skill=?2",
    6,
    "reputation",
};

int mk_rep_add(mk_ctx *c, const gt_addr *addr, const char *skill, const mk_rep_delta *d, gt_err *err) {
    /* Counters saturate at INT64_MAX (mk_counters_add): recycled stake can
     * be slashed again and again, so slashed is not bounded by the supply. */
    const uint64_t delta[6] = {d->accepted, d->rejected, d->missed, d->disputes_won, d->disputes_lost, d->slashed};
    uint64_t v[6];
    mk_key2 key = {.k1 = addr->b, .k1_len = 20, .k2_text = skill};
    int rc = mk_counters_add(c, &rep_counters, &key, delta, v, err);
    if (rc) return rc;
    c->changes++;
    if (mk_rec_tag(c, MK_REC_REPUTATION) || mk_rec_bytes(c, addr->b, 20) || mk_rec_text(c, skill))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (int i = 0; i < 6; i++)
        if (mk_rec_u64(c, v[i])) return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static const mk_counters flow_counters = {
    "mk_rep_flows",
    "SELECT value, results FROM mk_rep_flows WHERE payer=?1 AND payee=?2",
    "INSERT INTO mk_rep_flows VALUES(?1,?2,?3,?4)",
    "UPDATE mk_rep_flows SET value=?3, results=?4 WHERE payer=?1 AND payee=?2",
    2,
    "a reputation flow",
};

int mk_rep_paid(mk_ctx *c, const gt_addr *payer, const gt_addr *payee, uint64_t value, gt_err *err) {
    /* Payments out of escrow; recycled tokens can be paid again and again,
     * so the sum saturates (mk_counters_add). */
    const uint64_t delta[2] = {value, 1};
    uint64_t vn[2];
    mk_key2 key = {.k1 = payer->b, .k1_len = 20, .k2_blob = payee->b, .k2_len = 20};
    int rc = mk_counters_add(c, &flow_counters, &key, delta, vn, err);
    if (rc) return rc;
    c->changes++;
    if (mk_rec_tag(c, MK_REC_REP_FLOW) || mk_rec_bytes(c, payer->b, 20) || mk_rec_bytes(c, payee->b, 20) ||
        mk_rec_u64(c, vn[0]) || mk_rec_u64(c, vn[1]))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* floor(sqrt(v)) in integers (Newton's method from above; no floating point
 * in anything the ledger reports). */
static uint64_t isqrt_u64(uint64_t v) {
    if (v < 2) return v;
    uint64_t x = v, y = (x + 1) / 2;
    while (y < x) x = y, y = (x + v / x) / 2;
    assert(x * x <= v && (x + 1) > v / (x + 1));
    return x;
}

/* The value weights of addr's reputation (see the top of the file): gross
 * paid, net earned from independent payers, their number, and the standing. */
typedef struct rep_value { uint64_t paid, earned, payers, standing; } rep_value;
static int rep_value_get(sqlite3 *db, const gt_addr *addr, rep_value *rv, gt_err *err) {
    sqlite3_stmt *q;
    memset(rv, 0, sizeof *rv);
    if (mk_prepare(db,
                   "SELECT f.payer, f.value, coalesce(b.value,0) FROM mk_rep_flows f LEFT JOIN mk_rep_flows b "
                   "ON b.payer=f.payee AND b.payee=f.payer WHERE f.payee=?1",
                   &q, err))
        return GT_EDB;
    sqlite3_bind_blob(q, 1, addr->b, 20, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        gt_addr payer;
        uint64_t in, back;
        if (gt_row_blob(q, 0, payer.b, 20, "mk_rep_flows", err) || gt_row_u64(q, 1, &in, "mk_rep_flows", err) ||
            gt_row_u64(q, 2, &back, "mk_rep_flows", err)) {
            sqlite3_finalize(q);
            return GT_EDB;
        }
        rv->paid += in;
        int self = gt_addr_eq(&payer, addr);
        if (self || in <= back) continue;
        rv->earned += in - back;
        rv->payers++;
        rv->standing += isqrt_u64(in - back);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "reading reputation flows: %s", sqlite3_errmsg(db));
    return 0;
}

/* One row as JSON (v: the six counters of mk_reputation, then the two of
 * mk_rep_units). */
static json_t *rep_row(const char *skill, const uint64_t v[8]) {
    char u[32];
    json_t *o = json_object();
    if (skill) json_object_set_new(o, "skill", json_string(skill));
    json_object_set_new(o, "accepted", json_integer((json_int_t)v[0]));
    json_object_set_new(o, "rejected", json_integer((json_int_t)v[1]));
    json_object_set_new(o, "missed", json_integer((json_int_t)v[2]));
    json_object_set_new(o, "disputesWon", json_integer((json_int_t)v[3]));
    json_object_set_new(o, "disputesLost", json_integer((json_int_t)v[4]));
    json_object_set_new(o, "slashed", json_string(gt_amount_format(v[5], u)));
    json_object_set_new(o, "unitsAccepted", json_integer((json_int_t)v[6]));
    json_object_set_new(o, "unitsRejected", json_integer((json_int_t)v[7]));
    return o;
}

/* The reputation view's queries (rows by skill, then the value flows),
 * inside the caller's snapshot. */
static json_t *reputation_get(sqlite3 *db, const gt_addr *addr, const char *skill, gt_err *err) {
    sqlite3_stmt *q;
    if (mk_prepare(db,
                   "SELECT r.skill,r.accepted,r.rejected,r.missed,r.disputes_won,r.disputes_lost,r.slashed,"
                   "coalesce(u.accepted,0),coalesce(u.rejected,0) FROM mk_reputation r "
                   "LEFT JOIN mk_rep_units u ON u.addr=r.addr AND u.skill=r.skill "
                   "WHERE r.addr=?1 AND (?2 IS NULL OR r.skill=?2) ORDER BY r.skill",
                   &q, err))
        return NULL;
    sqlite3_bind_blob(q, 1, addr->b, 20, SQLITE_STATIC);
    if (skill) sqlite3_bind_text(q, 2, skill, -1, SQLITE_STATIC);
    else sqlite3_bind_null(q, 2);
    json_t *rows = json_array();
    uint64_t total[8] = {0};
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        uint64_t v[8];
        for (int i = 0; i < 8; i++) {
            v[i] = (uint64_t)sqlite3_column_int64(q, i + 1);
            total[i] += v[i];
        }
        json_array_append_new(rows, rep_row((const char *)sqlite3_column_text(q, 0), v));
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        json_decref(rows);
        gt_err_set(err, GT_EDB, "reading reputation: %s", sqlite3_errmsg(db));
        return NULL;
    }
    char s[43];
    gt_addr_to_str(addr, s);
    json_t *o = json_object();
    json_object_set_new(o, "address", json_string(s));
    rep_value rv;
    if (rep_value_get(db, addr, &rv, err)) {
        json_decref(rows);
        json_decref(o);
        return NULL;
    }
    char u[32];
    json_t *tot = rep_row(NULL, total);
    json_object_set_new(tot, "paid", json_string(gt_amount_format(rv.paid, u)));
    json_object_set_new(tot, "earned", json_string(gt_amount_format(rv.earned, u)));
    json_object_set_new(tot, "payers", json_integer((json_int_t)rv.payers));
    json_object_set_new(tot, "standing", json_integer((json_int_t)rv.standing));
    json_object_set_new(o, "skills", rows);
    json_object_set_new(o, "total", tot);
    return o;
}

json_t *gt_market_reputation(sqlite3 *db, const gt_addr *addr, const char *skill, gt_err *err) {
    int began = gt_market_snapshot_begin(db);
    json_t *o = reputation_get(db, addr, skill, err);
    gt_market_snapshot_end(db, began);
    return o;
}
