/* panel.c: who judges a result, with how much weight, and what a judge
 * risks.
 *
 * A panel opens with the judgement (a quorum task's slot is claimed, a
 * rejection is disputed). Eligible are the validators that then have at
 * least the round's minimum staked, the parties to the task (poster,
 * evaluator, whoever gave the verdict, anyone who ever claimed one of its
 * slots) left out; each weighs its stake at that moment: the smaller of its
 * stake at the start of the block (the accounts table, flushed at every block
 * end) and now (the state cache), so stake bonded inside the opening block
 * buys nothing. When no more than GT_MARKET_PANEL_SEATS are eligible they
 * all sit, at once. Otherwise the eligible set is recorded as it is then
 * (mk_draw_cands: who, in which order, with what weight) and the panel is
 * drawn from it at the start of block
 * open + GT_MARKET_DRAW_DELAY_BLOCKS, each candidate weighing the smaller of
 * its weight at the opening and its stake at the draw (stake bonded in
 * between, by anyone, buys nothing): GT_MARKET_PANEL_SEATS seats, each to an
 * eligible validator with probability proportional to its stake, seeded by
 * that block's draw seed (ledger/seed.h: a hash chain fixed at genesis and
 * revealed one block at a time, so nobody but the node knew it when the
 * judgement opened, and no choice of actions or order changes it) mixed with
 * the round's key; a member weighs its seats' share of the eligible stake.
 * Only members vote; a vote weighs the member's weight.
 *
 * The bound: with 63 seats, a party holding less than a third of the eligible
 * stake, however split, wins a majority of the seats with probability below
 * 0.32% and two thirds of them below 1e-7 (test_market measures it). The
 * seed cannot be ground by choosing a block's contents; the node, which knows
 * its own future seeds, can still choose in which block an opening lands.
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
 *  - Stake bought for one judgement: eligibility and weights are fixed when
 *    the judgement opens; stake added later does not count.
 *  - Choosing one's judges: nobody picks the panel; with many validators it
 *    is drawn from a block's seed, unknown when the judgement opened.
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

/* Is a one of the parties in x (NULL entries and zero addresses match nothing a validator has)? */
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

uint64_t mk_judge_bond_amount(uint64_t weight, uint64_t stake) {
    /* weight <= supply < 2^63, so the product fits 128 bits. A member drawn
     * for more seats than its stake covers bonds at most its stake. */
    uint64_t b = (uint64_t)((unsigned __int128)weight * GT_MARKET_JUDGE_SLASH_PCT / 100);
    return b < stake ? b : stake;
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
        if (gt_row_blob(q, 0, v[n].a.b, 20, "accounts", err) || gt_row_amount(q, 1, &v[n].staked, "accounts", err)) {
            gt_tx_stmt_done(tx, q);
            return GT_EDB;
        }
        n++;
    }
    int done = rc == SQLITE_DONE || rc == SQLITE_ROW;
    gt_tx_stmt_done(tx, q);
    if (!done) return gt_err_set(err, GT_EDB, "reading validators: %s", sqlite3_errmsg(tx->db));
    *n_out = n;
    return 0;
}

/* Keeps, in place and in order, the candidates v[0..*n) that may sit: not a
 * party to the task nor a worker of it (one party, one seat), each weighing
 * the smaller of v[i].staked (its stake at the block's start, or its weight
 * when the judgement opened) and its stake now, at least min_stake. */
static int keep_eligible(mk_ctx *c, const mk_task *t, const mk_slot *sl, uint64_t min_stake, cand *v, int *n,
                         uint64_t *total, gt_err *err) {
    panel_excl x = {{&t->poster, &sl->worker, &t->verifier, &sl->verdict_by}, 4};
    int k = 0, rc = 0;
    *total = 0;
    for (int i = 0; !rc && i < *n; i++) {
        uint64_t worked = 0;
        if (excluded(&x, &v[i].a) || (rc = mk_task_worker_claims(c->tx, t->id, &v[i].a, &worked, err)) || worked)
            continue;
        gt_account acc;
        if ((rc = gt_state_account(c->tx, &v[i].a, &acc, err))) break;
        uint64_t w = acc.staked < v[i].staked ? acc.staked : v[i].staked;
        if (w < min_stake) continue;
        v[k] = v[i];
        v[k++].staked = w;
        *total += w; /* stakes sum to at most the supply: no overflow */
    }
    *n = k;
    return rc;
}

/* The eligible validators for a panel now: candidates less the parties and
 * the task's workers, each weighing min(stake at block start, stake now). */
static int eligible(mk_ctx *c, const mk_task *t, const mk_slot *sl, uint64_t min_stake, cand *v, int *n_out,
                    uint64_t *total, gt_err *err) {
    *total = 0;
    int rc = candidates(c->tx, min_stake, v, GT_MARKET_PANEL_SCAN, n_out, err);
    return rc ? rc : keep_eligible(c, t, sl, min_stake, v, n_out, total, err);
}

void mk_panel_draw_seats(const uint8_t seed[32], const uint64_t *stakes, size_t n, uint32_t *seats) {
    assert(n > 0);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) seats[i] = 0, total += stakes[i];
    assert(total > 0);
    for (uint32_t s = 0; s < GT_MARKET_PANEL_SEATS; s++) {
        /* r uniform in [0, total): 128 random bits mod a total < 2^63 (bias < 2^-64). */
        uint8_t buf[36], h[32];
        memcpy(buf, seed, 32);
        for (int b = 0; b < 4; b++) buf[32 + b] = (uint8_t)(s >> (24 - 8 * b));
        gt_keccak256(buf, sizeof buf, h);
        unsigned __int128 r = 0;
        for (int b = 0; b < 16; b++) r = r << 8 | h[b];
        uint64_t x = (uint64_t)(r % total);
        size_t i = 0;
        while (x >= stakes[i]) x -= stakes[i++];
        assert(i < n);
        seats[i]++;
    }
}

/* Inserts one member row and feeds its bytes to the commitment. */
static int member_insert(mk_ctx *c, const mk_slot *sl, int round, const gt_addr *m, uint64_t weight, uint64_t stake,
                         gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx, "INSERT INTO mk_panels VALUES(?,?,?,?,?,?,?)", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
    sqlite3_bind_blob(q, 5, m->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (int64_t)weight);
    sqlite3_bind_int64(q, 7, (int64_t)stake);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(c->tx, q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing panel: %s", sqlite3_errmsg(c->tx->db));
    c->changes++;
    if (mk_rec_tag(c, MK_REC_PANEL) || mk_rec_bytes(c, sl->task, 32) || mk_rec_u64(c, sl->slot) ||
        mk_rec_u64(c, sl->attempt) || mk_rec_u64(c, (uint64_t)round) || mk_rec_bytes(c, m->b, 20) ||
        mk_rec_u64(c, weight) || mk_rec_u64(c, stake))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* Seats the panel from the eligible set: all of it when it has no more
 * members than GT_MARKET_PANEL_SEATS, else GT_MARKET_PANEL_SEATS seats drawn by
 * stake from seed (which must not be known when the judgement opened). */
static int seat(mk_ctx *c, const mk_slot *sl, int round, cand *v, int n, uint64_t total, const uint8_t *seed,
                gt_err *err) {
    int rc = 0;
    if (n <= GT_MARKET_PANEL_SEATS) {
        for (int i = 0; !rc && i < n; i++) rc = member_insert(c, sl, round, &v[i].a, v[i].staked, v[i].staked, err);
        return rc;
    }
    assert(seed);
    uint64_t *stakes = gt_calloc((size_t)n, sizeof *stakes);
    uint32_t *seats = gt_calloc((size_t)n, sizeof *seats);
    if (!stakes || !seats) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    for (int i = 0; !rc && i < n; i++) stakes[i] = v[i].staked;
    if (!rc) mk_panel_draw_seats(seed, stakes, (size_t)n, seats);
    /* A seat stands for an equal share of the eligible stake. */
    for (int i = 0; !rc && i < n; i++)
        if (seats[i])
            rc = member_insert(c, sl, round, &v[i].a,
                               (uint64_t)((unsigned __int128)total * seats[i] / GT_MARKET_PANEL_SEATS), v[i].staked, err);
    gt_free(stakes);
    gt_free(seats);
    return rc;
}

/* Schedules a panel draw for the start of block `at`. */
static int draw_store(mk_ctx *c, const mk_slot *sl, int round, uint64_t at, uint64_t min_stake, int insert,
                      gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx,
                        insert ? "INSERT INTO mk_draws VALUES(?1,?2,?3,?4,?5,?6)"
                               : "DELETE FROM mk_draws WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
    if (insert) sqlite3_bind_int64(q, 5, (int64_t)at), sqlite3_bind_int64(q, 6, (int64_t)min_stake);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(c->tx, q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing panel draw: %s", sqlite3_errmsg(c->tx->db));
    c->changes++;
    if (mk_rec_tag(c, MK_REC_DRAW) || mk_rec_bytes(c, sl->task, 32) || mk_rec_u64(c, sl->slot) ||
        mk_rec_u64(c, sl->attempt) || mk_rec_u64(c, (uint64_t)round) || mk_rec_u64(c, insert ? at : 0) ||
        mk_rec_u64(c, insert ? min_stake : 0))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* Binds the round's key (task, slot, attempt, round) to ?1 .. ?4 of q. */
static void bind_round(sqlite3_stmt *q, const mk_slot *sl, int round) {
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
}

/* Records the eligible set v[0..n) of a judgement whose panel is drawn
 * later, in eligible()'s order (the order the draw walks). Why: the draw is
 * GT_MARKET_DRAW_DELAY_BLOCKS later, and stake bonded in between (a sybil's
 * 99,000 tokens in the block after a claim) would otherwise count there. */
static int cands_store(mk_ctx *c, const mk_slot *sl, int round, const cand *v, int n, gt_err *err) {
    int rc = 0;
    for (int i = 0; !rc && i < n; i++) {
        sqlite3_stmt *q;
        if ((rc = gt_tx_stmt(c->tx, "INSERT INTO mk_draw_cands VALUES(?1,?2,?3,?4,?5,?6,?7)", &q, err))) break;
        bind_round(q, sl, round);
        sqlite3_bind_int(q, 5, i);
        sqlite3_bind_blob(q, 6, v[i].a.b, 20, SQLITE_STATIC);
        sqlite3_bind_int64(q, 7, (int64_t)v[i].staked);
        int st = sqlite3_step(q);
        if (st != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "writing panel candidates: %s", sqlite3_errmsg(c->tx->db));
        gt_tx_stmt_done(c->tx, q);
        if (!rc && (mk_rec_tag(c, MK_REC_DRAW_CAND) || mk_rec_bytes(c, sl->task, 32) || mk_rec_u64(c, sl->slot) ||
                    mk_rec_u64(c, sl->attempt) || mk_rec_u64(c, (uint64_t)round) || mk_rec_u64(c, (uint64_t)i) ||
                    mk_rec_bytes(c, v[i].a.b, 20) || mk_rec_u64(c, v[i].staked)))
            rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    if (!rc) c->changes++;
    return rc;
}

/* Reads and deletes the candidates cands_store recorded for the round, in
 * their order, into v (at most GT_MARKET_PANEL_SCAN: as many as were
 * stored); *n_out 0 when none were (a draw scheduled before they were). */
static int cands_take(mk_ctx *c, const mk_slot *sl, int round, cand *v, int *n_out, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx,
                        "SELECT addr, weight FROM mk_draw_cands WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4 "
                        "ORDER BY ord",
                        &q, err);
    if (rc) return rc;
    bind_round(q, sl, round);
    int n = 0, st;
    while (!rc && (st = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == GT_MARKET_PANEL_SCAN)
            rc = gt_err_set(err, GT_EDB, "mk_draw_cands: more candidates than a panel scans");
        else if (!(rc = gt_row_blob(q, 0, v[n].a.b, 20, "mk_draw_cands", err)))
            rc = gt_row_u64(q, 1, &v[n++].staked, "mk_draw_cands", err);
    }
    if (!rc && st != SQLITE_DONE)
        rc = gt_err_set(err, GT_EDB, "reading panel candidates: %s", sqlite3_errmsg(c->tx->db));
    gt_tx_stmt_done(c->tx, q);
    if (rc || !n) return rc;
    if ((rc = gt_tx_stmt(c->tx, "DELETE FROM mk_draw_cands WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4", &q,
                         err)))
        return rc;
    bind_round(q, sl, round);
    st = sqlite3_step(q);
    if (st != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "deleting panel candidates: %s", sqlite3_errmsg(c->tx->db));
    gt_tx_stmt_done(c->tx, q);
    if (rc) return rc;
    c->changes++;
    if (mk_rec_tag(c, MK_REC_DRAW_CAND) || mk_rec_bytes(c, sl->task, 32) || mk_rec_u64(c, sl->slot) ||
        mk_rec_u64(c, sl->attempt) || mk_rec_u64(c, (uint64_t)round) || mk_rec_u64(c, (uint64_t)n))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    *n_out = n;
    return 0;
}

int mk_panel_open(mk_ctx *c, const mk_task *t, const mk_slot *sl, int round, uint64_t min_stake, gt_err *err) {
    assert(round == MK_ROUND_VERIFY || round == MK_ROUND_DISPUTE);
    cand *v = gt_calloc(GT_MARKET_PANEL_SCAN, sizeof *v);
    if (!v) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int n = 0;
    uint64_t total = 0;
    int rc = eligible(c, t, sl, min_stake, v, &n, &total, err);
    /* Few enough to seat them all: nothing to draw, nothing to predict. */
    if (!rc && n <= GT_MARKET_PANEL_SEATS) rc = seat(c, sl, round, v, n, total, NULL, err);
    else if (!rc && !(rc = draw_store(c, sl, round, c->tx->height + GT_MARKET_DRAW_DELAY_BLOCKS, min_stake, 1, err)))
        rc = cands_store(c, sl, round, v, n, err);
    gt_free(v);
    return rc;
}

uint64_t mk_panel_draw_height(gt_tx *tx, const mk_slot *sl, int round) {
    sqlite3_stmt *q;
    if (gt_tx_stmt(tx, "SELECT draw_height FROM mk_draws WHERE task=? AND slot=? AND attempt=? AND round=?", &q, NULL))
        return 0;
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
    uint64_t h = sqlite3_step(q) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(q, 0) : 0;
    gt_tx_stmt_done(tx, q);
    return h;
}

/* Draws one due panel: the seed is this block's draw seed (fixed at genesis,
 * revealed only now, the same whatever the block holds), mixed with the
 * round's key. */
static int draw_one(mk_ctx *c, const mk_slot *key, int round, uint64_t min_stake, gt_err *err) {
    mk_task t;
    mk_slot sl;
    int rc = mk_task_load(c->tx, key->task, &t, err);
    if (rc || (rc = mk_slot_load(c->tx, key->task, key->slot, &sl, err))) return rc;
    if ((rc = draw_store(c, key, round, 0, 0, 0, err))) return rc;
    cand *v = gt_calloc(GT_MARKET_PANEL_SCAN, sizeof *v);
    if (!v) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int n = 0;
    if ((rc = cands_take(c, key, round, v, &n, err))) {
        gt_free(v);
        return rc;
    }
    int live = sl.attempt == key->attempt &&
               (round == MK_ROUND_DISPUTE ? sl.state == GT_SLOT_DISPUTED
                                          : sl.state == GT_SLOT_CLAIMED || sl.state == GT_SLOT_SUBMITTED);
    if (!live) { /* the judgement ended before its panel was drawn */
        gt_free(v);
        return 0;
    }
    uint8_t buf[32 + 32 + 8 + 8 + 1], seed[32];
    memcpy(buf, c->tx->seed, 32);
    memcpy(buf + 32, sl.task, 32);
    for (int b = 0; b < 8; b++) buf[64 + b] = (uint8_t)(sl.slot >> (56 - 8 * b)), buf[72 + b] = (uint8_t)(sl.attempt >> (56 - 8 * b));
    buf[80] = (uint8_t)round;
    gt_keccak256(buf, sizeof buf, seed);
    uint64_t total = 0;
    /* The recorded candidates, at the smaller of their weight at the opening
     * and their stake now (at a block's start, before any action, the state
     * and the accounts table agree). None recorded: a draw scheduled by a
     * ledger from before the record, whose eligible set is read now, as it
     * then was. */
    rc = n ? keep_eligible(c, &t, &sl, min_stake, v, &n, &total, err)
           : eligible(c, &t, &sl, min_stake, v, &n, &total, err);
    if (!rc) rc = seat(c, &sl, round, v, n, total, seed, err);
    gt_free(v);
    return rc;
}

int mk_panel_sweep(mk_ctx *c, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx,
                        "SELECT task, slot, attempt, round, min_stake FROM mk_draws WHERE draw_height<=? "
                        "ORDER BY task, slot, attempt, round LIMIT 1",
                        &q, err);
    /* One at a time: each draw deletes its row, and a query must not stay
     * open across the writes. */
    while (!rc) {
        sqlite3_bind_int64(q, 1, (int64_t)c->tx->height);
        int st = sqlite3_step(q);
        if (st != SQLITE_ROW) {
            gt_tx_stmt_done(c->tx, q);
            return st == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "panel draws: %s", sqlite3_errmsg(c->tx->db));
        }
        mk_slot key;
        memset(&key, 0, sizeof key);
        int round;
        uint64_t min_stake;
        if (gt_row_blob(q, 0, key.task, 32, "mk_draws", err) || gt_row_u64(q, 1, &key.slot, "mk_draws", err) ||
            gt_row_u64(q, 2, &key.attempt, "mk_draws", err) || gt_row_int(q, 3, &round, "mk_draws", err) ||
            gt_row_u64(q, 4, &min_stake, "mk_draws", err)) {
            gt_tx_stmt_done(c->tx, q);
            return GT_EDB;
        }
        sqlite3_reset(q);
        rc = draw_one(c, &key, round, min_stake, err);
    }
    gt_tx_stmt_done(c->tx, q);
    return rc;
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

int mk_panel_majority(uint64_t total, uint64_t yes, uint64_t no) {
    assert(yes <= total && no <= total - yes);
    /* Half of the panel, not of the votes cast: with honest members offline,
     * a minority that voted must not decide; and members holding a third
     * (who need not vote) must not keep a majority from deciding. */
    if (yes > total - yes) return 1;
    if (no > total - no) return 0;
    return -1;
}

int mk_panel_weight(gt_tx *tx, const mk_slot *sl, int round, const gt_addr *who, uint64_t *weight, gt_err *err) {
    uint64_t stake;
    return mk_panel_member(tx, sl, round, who, weight, &stake, err);
}

int mk_panel_member(gt_tx *tx, const mk_slot *sl, int round, const gt_addr *who, uint64_t *weight, uint64_t *stake,
                    gt_err *err) {
    sqlite3_stmt *q;
    const char *sql = who ? "SELECT weight, stake FROM mk_panels WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4 AND member=?5"
                          : "SELECT coalesce(sum(weight),0), 0 FROM mk_panels WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4";
    int rc = gt_tx_stmt(tx, sql, &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
    if (who) sqlite3_bind_blob(q, 5, who->b, 20, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *weight = (uint64_t)sqlite3_column_int64(q, 0), *stake = (uint64_t)sqlite3_column_int64(q, 1);
    gt_tx_stmt_done(tx, q);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return GT_ENOTFOUND; /* not a member; the caller says why */
    return gt_err_set(err, GT_EDB, "reading panel: %s", sqlite3_errmsg(tx->db));
}

int mk_judge_bond(mk_ctx *c, const mk_slot *sl, int round, const gt_addr *voter, uint64_t weight, uint64_t stake,
                  gt_err *err) {
    assert(round == MK_ROUND_VERIFY || round == MK_ROUND_DISPUTE);
    uint64_t bond = mk_judge_bond_amount(weight, stake);
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
/* mk_votes_each callback: appends a vote; stops (and flags) past the panel's size. */
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
    assert(round == MK_ROUND_VERIFY || round == MK_ROUND_DISPUTE);
    assert(side >= -1 && side <= 1);
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
