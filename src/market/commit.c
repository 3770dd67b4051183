/* commit.c: sealed votes (commit, then reveal), so a judge cannot copy
 * another's vote: a dispute's panel, and the panel of a quorum task.
 *
 * Rule. In a round's commit window a panel member may send vote_commit
 * carrying
 *   commitment = keccak(accept ‖ salt ‖ voter ‖ task ‖ slot ‖ attempt ‖ round)
 * (accept one byte 0/1, salt 32 bytes, voter 20, task 32, slot and attempt
 * big-endian u64, round one byte: gt_market_vote_commitment). The round is
 * the slot's state: a disputed slot's dispute (round 1; the commit window is
 * the dispute's vote window, tx->windows.vote_s), or a submitted slot
 * of a quorum task (round 0; the commit window is the task's verify window).
 * A commitment bonds the judge bond at once, as a vote would. The first
 * commitment seals the round: from then on a plain dispute_vote or
 * task_verify is refused, and the round closes a reveal window
 * (the network's tx->windows.reveal_s, fixed at genesis) after the commit
 * window instead of at it. Once the commit window has closed, or every panel
 * member has acted (committed, or voted in the clear before the seal: then
 * nothing is left to copy), vote_reveal (the vote's fields plus salt) opens
 * the sender's own commitment and counts as its vote. A sealed round decides
 * early only when every commitment is revealed and the stake decides
 * (mk_panel_decided; a quorum side also needs `quorum` voters). An
 * unrevealed commitment counts as absent and its bond goes to the winning
 * side like a losing vote's; with no winning side it goes back to the
 * committer's stake, as every bond does then. A quorum round sealed and not
 * decided by its last reveal is tallied at its deadline (a side holding more
 * than half of the panel's weight decides, as in an unsealed round), else it
 * times out as an unjudged result does.
 *
 * What it defends against: a lazy judge that waits for a diligent one's vote
 * and copies it. A commitment reveals nothing (the salt is 32 secret bytes),
 * a reveal before the commit window closes is refused while a member may
 * still commit, so when the copier must decide nothing is public; a reveal
 * must open the sender's own commitment (the voter is in the preimage), so
 * copying another judge's commitment and replaying its reveal fails;
 * committing and then not revealing (to see the others first and stay out if
 * unsure) costs the bond when the round decides.
 * A plain vote is still accepted while the round is unsealed: a judge who
 * votes in the clear chooses to be copyable. The salt may be derived from the
 * judge's key and the judgement (the agent does so), so no storage is needed
 * between commit and reveal.
 * Eval tasks (kind GT_MARKET_KIND_COSIGNED). Before ledger format 11
 * (format11_height) their rounds are not sealable: their votes are co-signs
 * in the clear carrying the re-executed evidence, and a commitment would only
 * refuse the honest co-signs after it (the round then decided by the
 * committers alone, or timing out), so it is refused; the price was that a
 * lazy seated judge could wait for a diligent one's eval_cosign and copy
 * it. From format11_height they are sealed-only (mk_round_sealed_only): a
 * plain vote (dispute_vote, a panel's task_verify, and so an eval_cosign
 * that would be one) is refused even before any commitment, so every honest
 * judge commits and no commitment can strand a clear co-sign; the reveal is
 * the work layer's eval_reveal (work/eval/attest.c: the co-sign's fields and
 * the salt; its vote_reveal opens the same commitment, over accept = agree)
 * or a plain vote_reveal (a judge whose co-sign is already on record). */
#include <string.h>

#include "base/alloc.h"
#include "crypto/keccak.h"
#include "market/market_impl.h"

static const gt_field_def commit_fields[] = {
    {"task", GT_F_BYTES32, 0},
    {"slot", GT_F_U64, 0},
    {"result", GT_F_BYTES32, 0},
    {"commitment", GT_F_BYTES32, 0},
};
static const gt_field_def reveal_fields[] = {
    {"task", GT_F_BYTES32, 0},
    {"slot", GT_F_U64, 0},
    {"result", GT_F_BYTES32, 0},
    {"accept", GT_F_BOOL, 0},
    {"voteSalt", GT_F_BYTES32, 0},
};

void gt_market_vote_commitment(int accept, const uint8_t salt[32], const gt_addr *voter, const uint8_t task[32],
                               uint64_t slot, uint64_t attempt, int round, uint8_t out[32]) {
    assert(round == 0 || round == 1);
    uint8_t pre[1 + 32 + 20 + 32 + 8 + 8 + 1];
    pre[0] = accept ? 1 : 0;
    memcpy(pre + 1, salt, 32);
    memcpy(pre + 33, voter->b, 20);
    memcpy(pre + 53, task, 32);
    mk_be64(pre + 85, slot);
    mk_be64(pre + 93, attempt);
    pre[101] = (uint8_t)round;
    gt_keccak256(pre, sizeof pre, out);
}

void gt_market_vote_salt(const gt_key *key, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round,
                         uint8_t out[32]) {
    assert(round == 0 || round == 1);
    static const char tag[] = "gotong vote salt v1";
    uint8_t n[17];
    mk_be64(n, slot);
    mk_be64(n + 8, attempt);
    n[16] = (uint8_t)round;
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, tag, sizeof tag - 1);
    gt_keccak_update(&k, key->priv, 32);
    gt_keccak_update(&k, task, 32);
    gt_keccak_update(&k, n, sizeof n);
    gt_keccak_final(&k, out);
}

/* Binds the key of a round (task, slot, attempt, round) to q's first four
 * parameters. */
static void bind_round(sqlite3_stmt *q, const mk_slot *sl, int round) {
    sqlite3_bind_blob(q, 1, sl->task, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)sl->slot);
    sqlite3_bind_int64(q, 3, (int64_t)sl->attempt);
    sqlite3_bind_int(q, 4, round);
}

/* Runs a statement that returns one integer; *out gets it. */
static int one_int(gt_tx *tx, sqlite3_stmt *q, uint64_t *out, gt_err *err) {
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *out = (uint64_t)sqlite3_column_int64(q, 0);
    gt_tx_stmt_done(tx, q);
    if (rc != SQLITE_ROW) return gt_err_set(err, GT_EDB, "reading commitments: %s", sqlite3_errmsg(tx->db));
    return 0;
}

int mk_commits_count(gt_tx *tx, const mk_slot *sl, int round, int unrevealed_only, uint64_t *n, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx,
                        unrevealed_only ? "SELECT count(*) FROM mk_commits WHERE task=?1 AND slot=?2 AND attempt=?3 "
                                          "AND round=?4 AND revealed=0"
                                        : "SELECT count(*) FROM mk_commits WHERE task=?1 AND slot=?2 AND attempt=?3 "
                                          "AND round=?4",
                        &q, err);
    if (rc) return rc;
    bind_round(q, sl, round);
    return one_int(tx, q, n, err);
}

/* Has voter a plain (or revealed) vote in the round? */
static int has_vote(gt_tx *tx, const mk_slot *sl, int round, const gt_addr *voter, uint64_t *n, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT count(*) FROM mk_votes WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4 "
                            "AND voter=?5", &q, err);
    if (rc) return rc;
    bind_round(q, sl, round);
    sqlite3_bind_blob(q, 5, voter->b, 20, SQLITE_STATIC);
    return one_int(tx, q, n, err);
}

/* Stores a new commitment (GT_EEXIST when voter already committed). */
static int commit_insert(mk_ctx *c, const mk_slot *sl, int round, const gt_addr *voter, const uint8_t h[32],
                         uint64_t weight, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx, "INSERT INTO mk_commits VALUES(?1,?2,?3,?4,?5,?6,?7,0)", &q, err);
    if (rc) return rc;
    bind_round(q, sl, round);
    sqlite3_bind_blob(q, 5, voter->b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 6, h, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, (int64_t)weight);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(c->tx, q);
    char s[43];
    if (rc == SQLITE_CONSTRAINT)
        return gt_err_set(err, GT_EEXIST, "%s has already committed a vote on this dispute", mk_addr(voter, s));
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing commitment: %s", sqlite3_errmsg(c->tx->db));
    c->changes++;
    if (mk_rec_tag(c, MK_REC_COMMIT) || mk_rec_bytes(c, sl->task, 32) || mk_rec_u64(c, sl->slot) ||
        mk_rec_u64(c, sl->attempt) || mk_rec_u64(c, (uint64_t)round) || mk_rec_bytes(c, voter->b, 20) ||
        mk_rec_bytes(c, h, 32) || mk_rec_u64(c, weight))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* Loads voter's commitment: 0, or GT_ENOTFOUND (no message) when none. */
static int commit_get(gt_tx *tx, const mk_slot *sl, int round, const gt_addr *voter, uint8_t h[32], int *revealed,
                      gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT commitment, revealed FROM mk_commits WHERE task=?1 AND slot=?2 AND attempt=?3 "
                            "AND round=?4 AND voter=?5", &q, err);
    if (rc) return rc;
    bind_round(q, sl, round);
    sqlite3_bind_blob(q, 5, voter->b, 20, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        rc = gt_row_blob(q, 0, h, 32, "mk_commits", err);
        if (!rc) rc = gt_row_int(q, 1, revealed, "mk_commits", err);
        gt_tx_stmt_done(tx, q);
        return rc;
    }
    gt_tx_stmt_done(tx, q);
    if (rc == SQLITE_DONE) return GT_ENOTFOUND;
    return gt_err_set(err, GT_EDB, "reading commitment: %s", sqlite3_errmsg(tx->db));
}

/* Marks voter's commitment opened. */
static int commit_reveal_mark(mk_ctx *c, const mk_slot *sl, int round, const gt_addr *voter, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(c->tx, "UPDATE mk_commits SET revealed=1 WHERE task=?1 AND slot=?2 AND attempt=?3 "
                               "AND round=?4 AND voter=?5", &q, err);
    if (rc) return rc;
    bind_round(q, sl, round);
    sqlite3_bind_blob(q, 5, voter->b, 20, SQLITE_STATIC);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(c->tx, q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing commitment: %s", sqlite3_errmsg(c->tx->db));
    c->changes++;
    if (mk_rec_tag(c, MK_REC_COMMIT) || mk_rec_bytes(c, sl->task, 32) || mk_rec_u64(c, sl->slot) ||
        mk_rec_u64(c, sl->attempt) || mk_rec_u64(c, (uint64_t)round) || mk_rec_bytes(c, voter->b, 20) ||
        mk_rec_u64(c, 1))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* The unrevealed commitments of a round, collected (a panel bounds them). */
typedef struct sealed_list { gt_addr v[GT_MARKET_PANEL_MAX]; int n; } sealed_list;

/* Collects the voters whose commitment in the round is still sealed. */
static int sealed_collect(gt_tx *tx, const mk_slot *sl, int round, sealed_list *l, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT voter FROM mk_commits WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4 "
                            "AND revealed=0 ORDER BY voter", &q, err);
    if (rc) return rc;
    bind_round(q, sl, round);
    l->n = 0;
    while (!rc && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (l->n == GT_MARKET_PANEL_MAX) { rc = -1; break; }
        rc = gt_row_blob(q, 0, l->v[l->n].b, 20, "mk_commits", err);
        l->n++;
    }
    int step = rc;
    gt_tx_stmt_done(tx, q);
    if (step == -1) return gt_err_set(err, GT_ELIMIT, "more commitments than panel seats");
    if (step > 0 && step != SQLITE_DONE) return gt_err_set(err, GT_EDB, "reading commitments: %s",
                                                            sqlite3_errmsg(tx->db));
    return step == SQLITE_DONE ? 0 : step;
}

int mk_commits_settle(mk_ctx *c, const mk_slot *sl, int round, int side, const gt_addr *rest_to, gt_err *err) {
    assert(side >= -1 && side <= 1);
    sealed_list *l = gt_calloc(1, sizeof *l);
    if (!l) return gt_err_set(err, GT_ENOMEM, "out of memory");
    uint64_t win_weight = 0, winners = 0;
    int rc = sealed_collect(c->tx, sl, round, l, err);
    if (!rc && side >= 0) rc = mk_votes_side(c->tx, sl, round, side, &win_weight, &winners, err);
    for (int i = 0; !rc && i < l->n; i++) {
        uint8_t lock[32];
        gt_lock lk;
        mk_judge_lock_id(sl, round, &l->v[i], lock);
        rc = gt_state_lock_get(c->tx, lock, &lk, err);
        if (rc == GT_ENOTFOUND) { rc = 0; continue; } /* a bond of zero (a tiny weight) */
        if (rc || !lk.amount) continue;
        /* Absent, and paid for like a losing vote: to the winners by weight. */
        if (side >= 0 && win_weight) rc = mk_pay_voters(c, sl, round, side, lock, lk.amount, win_weight, rest_to, err);
        else if (!(rc = gt_state_release(c->tx, lock, &l->v[i], lk.amount, err)))
            rc = gt_state_stake(c->tx, &l->v[i], lk.amount, err);
    }
    gt_free(l);
    return rc;
}

/* Votes of a round (plain or revealed). */
static int votes_count(gt_tx *tx, const mk_slot *sl, int round, uint64_t *n, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT count(*) FROM mk_votes WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4",
                        &q, err);
    if (rc) return rc;
    bind_round(q, sl, round);
    return one_int(tx, q, n, err);
}

/* Members of a round's panel. */
static int members_count(gt_tx *tx, const mk_slot *sl, int round, uint64_t *n, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT count(*) FROM mk_panels WHERE task=?1 AND slot=?2 AND attempt=?3 AND round=?4",
                        &q, err);
    if (rc) return rc;
    bind_round(q, sl, round);
    return one_int(tx, q, n, err);
}

/* The judgement a sealed action addresses: a disputed slot (the dispute's
 * round) or a submitted slot of a quorum task (the verify round). */
typedef struct sealed_at {
    mk_task t;
    mk_slot sl;
    mk_dispute d;          /* the dispute round only */
    int round;
    uint64_t commit_end_s; /* block time the commit window closes */
    uint64_t reveal_s;     /* length of the reveal window the first commitment adds */
    uint64_t commits;      /* commitments so far */
    uint64_t w, stake;     /* the sender's panel weight, and its stake when seated */
} sealed_at;

/* Which round the slot's state opens to sealed votes, with its parties'
 * refusal; loads the dispute. */
static int sealed_round(gt_tx *tx, const gt_action *a, sealed_at *s, gt_err *err) {
    mk_task *t = &s->t;
    mk_slot *sl = &s->sl;
    char h[19], x[43];
    if (!strcmp(t->kind, GT_MARKET_KIND_COSIGNED) && !mk_round_sealed_only(tx, t))
        return gt_err_set(err, GT_EPERM, "task %s… is of kind %s: before ledger format 11 (block %llu) its votes are "
                          "co-signs carrying re-executed evidence, cast in the clear; send eval_cosign (or a plain "
                          "vote), not vote_commit", mk_short(t->id, h), t->kind,
                          (unsigned long long)tx->format11_height);
    if (sl->state == GT_SLOT_DISPUTED) {
        s->round = MK_ROUND_DISPUTE;
        s->reveal_s = tx->windows.reveal_s;
        if (gt_addr_eq(&a->from, &t->poster) || gt_addr_eq(&a->from, &sl->worker) ||
            gt_addr_eq(&a->from, &sl->verdict_by))
            return gt_err_set(err, GT_EPERM, "%s is a party to this dispute and cannot vote on it",
                              mk_addr(&a->from, x));
        int rc = mk_dispute_load(tx, t->id, sl->slot, sl->attempt, &s->d, err);
        s->commit_end_s = s->d.deadline;
        return rc;
    }
    if (sl->state != GT_SLOT_SUBMITTED || t->policy != GT_POLICY_QUORUM)
        return gt_err_set(err, GT_ESTATE, "slot %llu of task %s… is %s: sealed votes judge a disputed slot, or a "
                          "submitted slot of a quorum task", (unsigned long long)sl->slot, mk_short(t->id, h),
                          gt_slot_state_name(sl->state));
    s->round = MK_ROUND_VERIFY;
    s->reveal_s = tx->windows.reveal_s;
    if (gt_addr_eq(&a->from, &t->poster) || gt_addr_eq(&a->from, &sl->worker))
        return gt_err_set(err, GT_EPERM, "%s is the %s of this task and cannot vote on it", mk_addr(&a->from, x),
                          gt_addr_eq(&a->from, &t->poster) ? "poster" : "worker");
    return 0;
}

/* Refusals every commit and reveal shares: a round open to sealed votes, the
 * result is the one judged, the sender sits on the round's drawn panel. */
static int sealed_load(mk_ctx *c, const gt_action *a, sealed_at *s, gt_err *err) {
    gt_tx *tx = c->tx;
    memset(s, 0, sizeof *s);
    int rc = mk_task_load(tx, a->f[0].b32, &s->t, err);
    if (rc || (rc = mk_slot_load(tx, s->t.id, a->f[1].u64, &s->sl, err))) return rc;
    if ((rc = sealed_round(tx, a, s, err))) return rc;
    if (memcmp(a->f[2].b32, s->sl.result, 32))
        return gt_err_set(err, GT_ESTATE, "result does not match the one judged in slot %llu",
                          (unsigned long long)s->sl.slot);
    uint64_t at = mk_panel_draw_height(tx, &s->sl, s->round);
    if (at)
        return gt_err_set(err, GT_ESTATE, "this %s's panel is drawn at the start of block %llu; only its members "
                          "may vote, after that", s->round == MK_ROUND_DISPUTE ? "dispute" : "result",
                          (unsigned long long)at);
    rc = mk_panel_member(tx, &s->sl, s->round, &a->from, &s->w, &s->stake, err);
    char x[43], u[32];
    if (rc == GT_ENOTFOUND)
        return gt_err_set(err, GT_EPERM, "%s is not on this %s's panel: only validators seated from those that had "
                          "at least %s staked when it opened may vote on it", mk_addr(&a->from, x),
                          s->round == MK_ROUND_DISPUTE ? "dispute" : "result",
                          mk_units(s->round == MK_ROUND_DISPUTE ? GT_MARKET_VALIDATOR_MIN_STAKE
                                                                : mk_quorum_min_stake(&s->t), u));
    if (rc || (rc = mk_commits_count(tx, &s->sl, s->round, 0, &s->commits, err))) return rc;
    /* The verify round's window was lengthened by the reveal window when it
     * was sealed; the commit window is what came before. */
    if (s->round == MK_ROUND_VERIFY)
        s->commit_end_s = s->sl.deadline_s - (s->commits ? s->reveal_s : 0);
    return 0;
}

int mk_round_sealed_only(const gt_tx *tx, const mk_task *t) {
    return !strcmp(t->kind, GT_MARKET_KIND_COSIGNED) && tx->height >= tx->format11_height;
}

int mk_round_sealed(gt_tx *tx, const mk_slot *sl, int round, int *sealed, uint64_t *commit_end_s, gt_err *err) {
    uint64_t n = 0;
    int rc = mk_commits_count(tx, sl, round, 0, &n, err);
    if (rc) return rc;
    *sealed = n > 0;
    uint64_t reveal_s = tx->windows.reveal_s; /* the network's, the same for both rounds */
    if (commit_end_s) *commit_end_s = n && sl->deadline_s >= reveal_s ? sl->deadline_s - reveal_s : 0;
    return 0;
}

/* Has every member of the panel acted (committed, or voted in the clear
 * before the round was sealed)? Then nothing is left to copy, and the
 * reveals need not wait for the commit window's end. */
static int all_acted(gt_tx *tx, const sealed_at *s, int *all, gt_err *err) {
    uint64_t votes = 0, sealed = 0, members = 0;
    int rc;
    if ((rc = votes_count(tx, &s->sl, s->round, &votes, err)) ||
        (rc = mk_commits_count(tx, &s->sl, s->round, 1, &sealed, err)) ||
        (rc = members_count(tx, &s->sl, s->round, &members, err)))
        return rc;
    *all = members > 0 && votes + sealed >= members;
    return 0;
}

MK_APPLY(apply_commit)
static int apply_commit_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    sealed_at s;
    uint64_t n = 0;
    int rc = sealed_load(c, a, &s, err);
    if (rc) return rc;
    if (mk_past(tx, s.sl.deadline, s.commit_end_s))
        return gt_err_set(err, GT_ESTATE, "the commit window of this %s closed at block time %llu",
                          s.round == MK_ROUND_DISPUTE ? "dispute" : "result", (unsigned long long)s.commit_end_s);
    if ((rc = has_vote(tx, &s.sl, s.round, &a->from, &n, err))) return rc;
    char x[43];
    if (n) return gt_err_set(err, GT_EEXIST, "%s has already voted on this %s", mk_addr(&a->from, x),
                             s.round == MK_ROUND_DISPUTE ? "dispute" : "result");
    if ((rc = commit_insert(c, &s.sl, s.round, &a->from, a->f[3].b32, s.w, err)) ||
        (rc = mk_judge_bond(c, &s.sl, s.round, &a->from, s.w, s.stake, err)))
        return rc;
    if (s.commits) return 0;
    /* The first commitment seals the round: it now closes after a reveal
     * window that follows the commit window. */
    assert(s.commit_end_s == s.sl.deadline_s);
    s.sl.deadline_s = s.commit_end_s + s.reveal_s;
    return mk_slot_store(c, &s.sl, 0, err);
}

/* The reveal's own refusals: inside the reveal window, opening the sender's
 * own sealed commitment. */
static int reveal_check(gt_tx *tx, const gt_action *a, const sealed_at *s, gt_err *err) {
    const mk_slot *sl = &s->sl;
    int all = 0, rc = all_acted(tx, s, &all, err);
    if (rc) return rc;
    if (!all && !mk_past(tx, sl->deadline, s->commit_end_s))
        return gt_err_set(err, GT_ESTATE, "a reveal is accepted only after the commit window closes at block time %llu "
                          "(now %llu) or once every panel member has committed", (unsigned long long)s->commit_end_s,
                          (unsigned long long)tx->time_s);
    if (mk_past(tx, sl->deadline, sl->deadline_s))
        return gt_err_set(err, GT_ESTATE, "the reveal window closed at block time %llu",
                          (unsigned long long)sl->deadline_s);
    uint8_t have[32], want[32];
    int revealed = 0;
    char x[43];
    rc = commit_get(tx, sl, s->round, &a->from, have, &revealed, err);
    if (rc == GT_ENOTFOUND)
        return gt_err_set(err, GT_ENOTFOUND, "%s committed no vote on this %s; a reveal opens its sender's own "
                          "commitment", mk_addr(&a->from, x), s->round == MK_ROUND_DISPUTE ? "dispute" : "result");
    if (rc) return rc;
    if (revealed) return gt_err_set(err, GT_EEXIST, "%s has already revealed its vote", mk_addr(&a->from, x));
    gt_market_vote_commitment((int)a->f[3].u64, a->f[4].b32, &a->from, sl->task, sl->slot, sl->attempt, s->round,
                              want);
    if (memcmp(have, want, 32))
        return gt_err_set(err, GT_EPERM, "this reveal does not open the commitment of %s: keccak(accept, salt, "
                          "voter, task, slot, attempt, round) differs", mk_addr(&a->from, x));
    return 0;
}

/* A revealed dispute vote counts; the dispute closes early only once nothing
 * is left sealed (nobody is slashed for not revealing while its window is
 * still open) and the stake decides. */
static int reveal_dispute(mk_ctx *c, sealed_at *s, int accept, gt_err *err) {
    uint64_t total = 0, sealed = 0;
    if (accept) s->d.accept_weight += s->w; else s->d.reject_weight += s->w;
    s->d.voters++;
    int rc;
    if ((rc = mk_dispute_store(c, &s->d, 0, err)) ||
        (rc = mk_panel_weight(c->tx, &s->sl, MK_ROUND_DISPUTE, NULL, &total, err)) ||
        (rc = mk_commits_count(c->tx, &s->sl, MK_ROUND_DISPUTE, 1, &sealed, err)))
        return rc;
    if (!sealed && mk_panel_decided(total, s->d.accept_weight, s->d.reject_weight) != -1)
        return mk_dispute_resolve(c, &s->t, &s->sl, err);
    return 0;
}

/* A revealed quorum vote counts; the slot is decided early only once nothing
 * is left sealed and a side decides as a plain quorum vote would. */
static int reveal_quorum(mk_ctx *c, sealed_at *s, gt_err *err) {
    uint64_t sealed = 0;
    int side = -1;
    int rc = mk_commits_count(c->tx, &s->sl, MK_ROUND_VERIFY, 1, &sealed, err);
    if (rc || sealed || (rc = mk_quorum_tally(c->tx, &s->t, &s->sl, 0, &side, err)) || side < 0) return rc;
    return mk_quorum_decide(c, &s->t, &s->sl, side, err);
}

MK_APPLY(apply_reveal)
static int apply_reveal_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    sealed_at s;
    int rc = sealed_load(c, a, &s, err);
    if (rc || (rc = reveal_check(c->tx, a, &s, err))) return rc;
    int accept = (int)a->f[3].u64;
    /* The bond was locked by the commitment; the reveal only counts the vote. */
    if ((rc = mk_vote_insert(c, s.t.id, s.sl.slot, s.sl.attempt, s.round, &a->from, accept, s.w, err)) ||
        (rc = commit_reveal_mark(c, &s.sl, s.round, &a->from, err)))
        return rc;
    return s.round == MK_ROUND_DISPUTE ? reveal_dispute(c, &s, accept, err) : reveal_quorum(c, &s, err);
}

gt_action_kind gt_kind_vote_commit = {"vote_commit", "VoteCommit", commit_fields, 4, apply_commit, 1, {0}, {0}, 0};
gt_action_kind gt_kind_vote_reveal = {"vote_reveal", "VoteReveal", reveal_fields, 5, apply_reveal, 1, {0}, {0}, 0};
