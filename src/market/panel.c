/* panel.c: who judges a result, with how much weight, and what a judge
 * risks.
 *
 * A panel is fixed when a judgement opens (a quorum task's result is
 * submitted, a rejection is disputed): the validators that then have at least
 * the round's minimum staked, the parties to the task (poster, evaluator,
 * anyone who ever claimed one of its slots) left out, at most
 * GT_MARKET_PANEL_MAX of them (the largest stakes, ties by address). Each
 * member's weight is its stake at that moment: the smaller of its stake at the
 * start of the block (the accounts table, flushed at every block end) and now
 * (the state cache), so stake bonded inside the opening block, after the
 * panel could be foreseen, buys nothing. Only members vote; a vote weighs the
 * member's panel weight.
 *
 * Judges are bonded. A vote moves GT_MARKET_JUDGE_SLASH_PCT percent of the
 * voter's weight out of its stake into a judge-bond lock (one per voter and
 * round) for as long as the judgement is open. When it closes, the bonds of
 * the losing side are slashed and shared by the winning side by weight; the
 * winners' bonds go back into their stake, from where leaving takes the
 * ledger's unbonding period. With no decision (a tie, or nobody voted) every
 * bond goes back into stake.
 *
 * What each rule defends against:
 *  - Sybil judges: weight is stake, one address one seat, so splitting a
 *    stake over many addresses adds no weight; a judgement closes before its
 *    deadline only on stake (mk_panel_decided), never on a number of voters.
 *  - A race to vote first: the early close needs more than two thirds of the
 *    panel's weight on one side (or the whole panel to have voted), so the
 *    fastest bare majority cannot shut out the members still re-running the
 *    work and take the losing side's bonds alone.
 *  - Stake bought for one judgement: the panel and its weights are fixed when
 *    the judgement opens; stake added later does not count.
 *  - Voting with stake that has left: the bond is taken from the stake the
 *    voter has when it votes; a member that unstaked cannot vote.
 *  - Voting against the re-executed outcome for free: a judge on the losing
 *    side loses its bond (GT_MARKET_JUDGE_SLASH_PCT of its weight). */
#include <string.h>

#include "base/alloc.h"
#include "crypto/keccak.h"
#include "market/market_impl.h"

/* Keys of the panel's parties, left out of it. */
typedef struct panel_excl {
    const gt_addr *a[4];
    int n;
} panel_excl;

static int excluded(const panel_excl *x, const gt_addr *a) {
    for (int i = 0; i < x->n; i++)
        if (x->a[i] && gt_addr_eq(x->a[i], a)) return 1;
    return 0;
}

void mk_judge_lock_id(const mk_slot *sl, int round, const gt_addr *voter, uint8_t out[32]) {
    /* The lock is keyed by the voter too: one lock per judge and round. */
    uint8_t key[32 + 20 + 1];
    memcpy(key, sl->task, 32);
    memcpy(key + 32, voter->b, 20);
    key[52] = (uint8_t)round;
    uint8_t k[32];
    gt_keccak256(key, sizeof key, k);
    mk_lock_id(MK_TAG_JBOND, k, sl->slot, sl->attempt, out);
}

uint64_t mk_judge_bond_amount(uint64_t weight) {
    /* weight <= supply < 2^63, so the product fits 128 bits. */
    return (uint64_t)((unsigned __int128)weight * GT_MARKET_JUDGE_SLASH_PCT / 100);
}

/* Reads up to cap candidates (addr, staked at block start) with at least min staked. */
typedef struct cand { gt_addr a; uint64_t staked; } cand;
static int candidates(gt_tx *tx, uint64_t min_stake, cand *v, int cap, int *n_out, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT addr, staked FROM accounts WHERE staked>=? ORDER BY staked DESC, addr LIMIT ?", &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)min_stake);
    sqlite3_bind_int(q, 2, cap);
    int n = 0;
    while (n < cap && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(q, 0) != 20) continue;
        memcpy(v[n].a.b, sqlite3_column_blob(q, 0), 20);
        v[n].staked = (uint64_t)sqlite3_column_int64(q, 1);
        n++;
    }
    int done = rc == SQLITE_DONE || rc == SQLITE_ROW;
    gt_tx_stmt_done(tx, q);
    if (!done) return gt_err_set(err, GT_EDB, "reading validators: %s", sqlite3_errmsg(tx->db));
    *n_out = n;
    return 0;
}

/* Inserts one member row and feeds its bytes to the commitment. */
static int member_insert(mk_ctx *c, const mk_slot *sl, int round, const gt_addr *m, uint64_t weight, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx, "INSERT INTO mk_panels VALUES(?,?,?,?,?,?)", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
    sqlite3_bind_blob(q, 5, m->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (int64_t)weight);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(c->tx, q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing panel: %s", sqlite3_errmsg(c->tx->db));
    c->changes++;
    if (mk_rec_tag(c, MK_REC_PANEL) || mk_rec_bytes(c, sl->task, 32) || mk_rec_u64(c, sl->slot) ||
        mk_rec_u64(c, sl->attempt) || mk_rec_u64(c, (uint64_t)round) || mk_rec_bytes(c, m->b, 20) ||
        mk_rec_u64(c, weight))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

int mk_panel_open(mk_ctx *c, const mk_task *t, const mk_slot *sl, int round, uint64_t min_stake, uint64_t *total,
                  gt_err *err) {
    assert(round == MK_ROUND_VERIFY || round == MK_ROUND_DISPUTE);
    panel_excl x = {{&t->poster, &sl->worker, &t->verifier, &sl->verdict_by}, 4};
    cand v[GT_MARKET_PANEL_MAX + 4];
    int n = 0;
    int rc = candidates(c->tx, min_stake, v, GT_MARKET_PANEL_MAX + 4, &n, err);
    if (rc) return rc;
    int members = 0;
    *total = 0;
    for (int i = 0; i < n && members < GT_MARKET_PANEL_MAX; i++) {
        if (excluded(&x, &v[i].a)) continue;
        uint64_t worked = 0; /* one party, one seat: no worker of the task judges it */
        if ((rc = mk_task_worker_claims(c->tx, t->id, &v[i].a, &worked, err))) return rc;
        if (worked) continue;
        gt_account acc;
        if ((rc = gt_state_account(c->tx, &v[i].a, &acc, err))) return rc;
        uint64_t w = acc.staked < v[i].staked ? acc.staked : v[i].staked;
        if (w < min_stake) continue;
        if ((rc = member_insert(c, sl, round, &v[i].a, w, err))) return rc;
        *total += w; /* stakes sum to at most the supply: no overflow */
        members++;
    }
    return 0;
}

int mk_panel_decided(uint64_t total, uint64_t yes, uint64_t no) {
    assert(yes <= total && no <= total - yes);
    /* 3x of a sum of stakes (< 2^63) fits 128 bits. */
    unsigned __int128 t2 = (unsigned __int128)total * 2;
    if ((unsigned __int128)yes * 3 > t2) return 1;
    if ((unsigned __int128)no * 3 > t2) return 0;
    if (yes + no < total) return -1;
    return yes > no ? 1 : no > yes ? 0 : -2;
}

int mk_panel_weight(gt_tx *tx, const mk_slot *sl, int round, const gt_addr *who, uint64_t *weight, gt_err *err) {
    sqlite3_stmt *q;
    const char *sql = who ? "SELECT weight FROM mk_panels WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4 AND member=?5"
                          : "SELECT coalesce(sum(weight),0) FROM mk_panels WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4";
    int rc = gt_tx_stmt(tx, sql, &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
    if (who) sqlite3_bind_blob(q, 5, who->b, 20, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *weight = (uint64_t)sqlite3_column_int64(q, 0);
    gt_tx_stmt_done(tx, q);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return GT_ENOTFOUND; /* not a member; the caller says why */
    return gt_err_set(err, GT_EDB, "reading panel: %s", sqlite3_errmsg(tx->db));
}

int mk_judge_bond(mk_ctx *c, const mk_slot *sl, int round, const gt_addr *voter, uint64_t weight, gt_err *err) {
    uint64_t bond = mk_judge_bond_amount(weight);
    if (!bond) return 0;
    gt_account acc;
    int rc = gt_state_account(c->tx, voter, &acc, err);
    if (rc) return rc;
    char s[43], u1[32], u2[32];
    if (acc.staked < bond)
        return gt_err_set(err, GT_EFUNDS, "a vote bonds %d%% of the voter's panel weight (%s) from its stake; %s has %s staked",
                          GT_MARKET_JUDGE_SLASH_PCT, mk_units(bond, u1), mk_addr(voter, s), mk_units(acc.staked, u2));
    uint8_t lock[32];
    mk_judge_lock_id(sl, round, voter, lock);
    /* staked -> the voter's balance -> the judge-bond lock, in one action. */
    if ((rc = gt_state_slash_stake(c->tx, voter, voter, bond, err))) return rc;
    return gt_state_lock(c->tx, voter, lock, bond, err);
}

/* The votes of a round, collected (a panel bounds them). */
typedef struct vote_row { gt_addr voter; int accept; uint64_t weight; } vote_row;
typedef struct vote_list { vote_row v[GT_MARKET_PANEL_MAX]; int n, over; } vote_list;
static int collect_vote(void *arg, const gt_addr *voter, int accept, uint64_t weight) {
    vote_list *l = arg;
    if (l->n == GT_MARKET_PANEL_MAX) { l->over = 1; return 1; }
    l->v[l->n++] = (vote_row){*voter, accept, weight};
    return 0;
}

/* What is left in a judge's bond lock (0 once settled). */
static int bond_left(gt_tx *tx, const uint8_t lock[32], uint64_t *left, gt_err *err) {
    gt_lock l;
    int rc = gt_state_lock_get(tx, lock, &l, err);
    if (rc == GT_ENOTFOUND) { *left = 0; return 0; }
    if (rc) return rc;
    *left = l.amount;
    return 0;
}

int mk_judges_settle(mk_ctx *c, const mk_slot *sl, int round, int side, const gt_addr *rest_to, gt_err *err) {
    gt_tx *tx = c->tx;
    vote_list *l = gt_calloc(1, sizeof *l);
    if (!l) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = mk_votes_each(tx, sl->task, sl->slot, sl->attempt, round, collect_vote, l, err);
    if (!rc && l->over) rc = gt_err_set(err, GT_ELIMIT, "more votes than panel seats");
    uint64_t win_weight = 0;
    for (int i = 0; !rc && i < l->n; i++)
        if (side >= 0 && l->v[i].accept == side) win_weight += l->v[i].weight;
    /* Losers first: their bonds go to the winners by weight. */
    for (int i = 0; !rc && i < l->n; i++) {
        if (side < 0 || l->v[i].accept == side || !win_weight) continue;
        uint8_t lock[32];
        uint64_t left;
        mk_judge_lock_id(sl, round, &l->v[i].voter, lock);
        if ((rc = bond_left(tx, lock, &left, err)) || !left) continue;
        rc = mk_pay_voters(c, sl, round, side, lock, left, win_weight, rest_to, err);
    }
    /* Everyone else gets the bond back into its stake. */
    for (int i = 0; !rc && i < l->n; i++) {
        uint8_t lock[32];
        uint64_t left;
        mk_judge_lock_id(sl, round, &l->v[i].voter, lock);
        if ((rc = bond_left(tx, lock, &left, err)) || !left) continue;
        if (!(rc = gt_state_release(tx, lock, &l->v[i].voter, left, err)))
            rc = gt_state_stake(tx, &l->v[i].voter, left, err);
    }
    gt_free(l);
    return rc;
}

int mk_votes_side(gt_tx *tx, const mk_slot *sl, int round, int side, uint64_t *weight, uint64_t *voters, gt_err *err) {
    vote_list *l = gt_calloc(1, sizeof *l);
    if (!l) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = mk_votes_each(tx, sl->task, sl->slot, sl->attempt, round, collect_vote, l, err);
    if (!rc && l->over) rc = gt_err_set(err, GT_ELIMIT, "more votes than panel seats");
    *weight = *voters = 0;
    for (int i = 0; !rc && i < l->n; i++)
        if (l->v[i].accept == side) *weight += l->v[i].weight, (*voters)++;
    gt_free(l);
    return rc;
}
