/* market_impl.h: what the market's files share and nobody else sees: the rows
 * of the market tables as structs, their load/store functions, the buffer of
 * state-commitment bytes of the action being applied, lock ids and the
 * payment and reputation helpers. */
#ifndef GT_MARKET_IMPL_H
#define GT_MARKET_IMPL_H

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "crypto/addr.h"
#include "market/market.h"
#include "ledger/digest.h"
#include "ledger/row.h"
#include "ledger/state.h"

/* The action (or block-start sweep) being applied. Row writes append their
 * canonical bytes to `diff`; only when the whole apply succeeds are they fed
 * to the block's state commitment (mk_finish), since a refused action leaves
 * no rows and must leave no bytes either (replay never sees it). */
/* Rows an action folds into the state digest, kept until it ends: hashed
 * together, four abreast (gt_digest_rows_fold), they cost about half of
 * one at a time (callgrind). */
#define MK_DIGEST_PENDING 8

typedef struct mk_ctx {
    gt_tx *tx;
    gt_buf diff;
    int changes; /* rows written, for begin_block's count */
    int n_pending;
    int pending_sign[MK_DIGEST_PENDING];
    gt_digest_row pending[MK_DIGEST_PENDING];
} mk_ctx;

void mk_ctx_init(mk_ctx *c, gt_tx *tx);

/* Declares an action kind's apply function NAME(tx, a, err) around a rule
 * NAME_rule(c, a, err): the rule runs with a context, its commitment bytes are
 * kept only if it succeeds, and supply is asserted unchanged (the market only
 * moves money between accounts and locks: it never mints or burns). */
#define MK_APPLY(name)                                                              \
    static int name##_rule(mk_ctx *c, const gt_action *a, gt_err *err);            \
    static int name(gt_tx *tx, const gt_action *a, gt_err *err) {                  \
        mk_ctx c;                                                                   \
        mk_ctx_init(&c, tx);                                                        \
        uint64_t supply0 = gt_state_supply(tx->state);                              \
        int rc = name##_rule(&c, a, err);                                           \
        assert(rc || gt_state_supply(tx->state) == supply0);                        \
        if (!rc) MK_INVARIANTS_AFTER(tx, a);                                        \
        return mk_finish(&c, rc);                                                   \
    }

/* Market invariants (invariants.c): the task an action touched, through the
 * block's cache, and the whole audit after a block's flush. 0, GT_EINVAL
 * naming the invariant, or the error that kept them from being read. */
int mk_check_task(gt_tx *tx, const uint8_t task[32], gt_err *err);
int mk_check_action(gt_tx *tx, const gt_action *a, gt_err *err);
int mk_check_books(gt_tx *tx, gt_err *err);
/* gt_market_audit, of the tasks still open or expired only when live_only
 * (a finished task's locks are empty and stay so; the totals still cover
 * them): the check run after every block. */
int mk_audit(sqlite3 *db, int live_only, uint64_t *locked_units, gt_err *err);
/* Readers' helpers (query.c). A gt_tx good for the row loaders on a plain
 * connection: they only use tx->db. */
gt_tx mk_read_tx(sqlite3 *db);
/* The amount lock id holds on db (0: no such lock). 0 or GT_EDB. */
int mk_lock_amount(sqlite3 *db, const uint8_t id[32], uint64_t *amount, gt_err *err);
/* Aborts naming the invariant when mk_check_action finds one broken. */
void mk_invariants_after(gt_tx *tx, const gt_action *a);
#ifdef GT_INVARIANTS
#define MK_INVARIANTS_AFTER(tx, a) mk_invariants_after(tx, a)
#else
#define MK_INVARIANTS_AFTER(tx, a) ((void)0)
#endif
/* Feeds the buffered bytes to the block commitment when rc == 0; frees. Returns rc. */
int mk_finish(mk_ctx *c, int rc);

typedef struct mk_task {
    uint8_t id[32];
    gt_addr poster;
    char kind[GT_MARKET_SKILL_MAX + 1];
    uint8_t spec[32], parent[32];
    uint64_t slots, bounty, stake, fee, quorum;
    gt_addr verifier;
    int policy;
    uint64_t submit_s, verify_s; /* windows, seconds of block time */
    uint64_t posted_height, expiry_height;
    int status;
    uint64_t claims; /* claims ever made: cancel is refused once it is > 0 */
    uint64_t seats_per_worker; /* claims one worker may make over the task's life */
    uint64_t expiry_s;         /* claims close at this block time (expiry_height is only a floor) */
    uint64_t batch_items;      /* units in each slot (per-unit verdicts); 0: the task takes none */
    uint64_t last_batch_items; /* units in the last slot (the batch's remainder) */
} mk_task;
/* The units slot k of t holds, as the poster committed at post time: what a
 * per-unit verdict's total must be (0 when the task was posted without). */
static inline uint64_t mk_slot_units(const mk_task *t, uint64_t slot) {
    return slot + 1 == t->slots ? t->last_batch_items : t->batch_items;
}

typedef struct mk_slot {
    uint8_t task[32];
    uint64_t slot;
    int state;
    uint64_t attempt;  /* starts at 0, +1 each time the slot reopens */
    gt_addr worker;
    uint64_t claimed_height;
    uint64_t deadline; /* a floor in blocks under deadline_s (mk_deadline_set) */
    uint64_t deadline_s; /* CLAIMED: submit by; SUBMITTED: verify by; REJECTED:
                          * dispute by; DISPUTED: votes by (first block time too late) */
    uint8_t result[32];
    int accept;        /* the verdict, in ACCEPTED/REJECTED/DISPUTED/PAID */
    uint64_t score;
    uint8_t reason[32];
    gt_addr verdict_by; /* poster or evaluator who gave the verdict (zero for a quorum) */
    uint64_t rbond;     /* rejection bond locked by verdict_by */
} mk_slot;

typedef struct mk_dispute {
    uint8_t task[32];
    uint64_t slot, attempt;
    gt_addr worker;
    uint64_t bond, opened_height, deadline;
    int outcome; /* 0 open, 1 worker won, 2 worker lost, 3 no decision */
    uint64_t accept_weight, reject_weight, voters;
} mk_dispute;

enum { MK_DISPUTE_OPEN = 0, MK_DISPUTE_WORKER_WON = 1, MK_DISPUTE_WORKER_LOST = 2, MK_DISPUTE_NO_DECISION = 3 };
enum { MK_ROUND_VERIFY = 0, MK_ROUND_DISPUTE = 1 };

/* Canonical record bytes of a stored row (see rows.c): one tag byte, then
 * each column: integers 8 bytes big-endian, blobs raw, text length-prefixed.
 * Each returns 0 or GT_ENOMEM. */
enum { MK_REC_TASK = 1, MK_REC_SLOT = 2, MK_REC_VOTE = 3, MK_REC_DISPUTE = 4, MK_REC_AGENT = 5,
       MK_REC_AGENT_SKILL = 6, MK_REC_REPUTATION = 7, MK_REC_PARTIAL = 8, MK_REC_REP_UNITS = 9,
       MK_REC_PANEL = 10, MK_REC_TASK_WORKER = 11, MK_REC_DRAW = 12, MK_REC_REP_FLOW = 13,
       MK_REC_COMMIT = 14, MK_REC_DRAW_CAND = 15, MK_REC_PAID = 16 };
static inline int mk_rec_u64(mk_ctx *c, uint64_t v) {
    uint8_t b[8];
    for (int i = 7; i >= 0; i--) { b[i] = (uint8_t)v; v >>= 8; }
    return gt_buf_append(&c->diff, b, 8);
}
static inline int mk_rec_bytes(mk_ctx *c, const void *p, size_t n) { return gt_buf_append(&c->diff, p, n); }
static inline int mk_rec_text(mk_ctx *c, const char *s) {
    size_t n = strlen(s);
    return mk_rec_u64(c, n) || gt_buf_append(&c->diff, s, n);
}
static inline int mk_rec_tag(mk_ctx *c, uint8_t tag) { return gt_buf_putc(&c->diff, tag); }

/* Time that cannot be bought: a window is seconds of block time, which only
 * the block maker's clock moves (monotonic, checked on replay); sending
 * actions makes blocks, not seconds. The deadline's height is only a floor
 * of min_blocks after this block: a deadline never passes in the block that
 * set it, and a window in which a drawn panel votes outlasts the draw
 * (MK_JUDGE_MIN_BLOCKS). Extra blocks never bring a deadline closer. */
#define MK_JUDGE_MIN_BLOCKS (GT_MARKET_DRAW_DELAY_BLOCKS + 1)
static inline void mk_deadline_set(const gt_tx *tx, uint64_t window_s, uint64_t min_blocks, uint64_t *height,
                                   uint64_t *time_s) {
    assert(window_s <= GT_MARKET_MAX_WINDOW_S && min_blocks >= 1);
    *height = tx->height + min_blocks;
    *time_s = tx->time_s + window_s;
}
/* Has a deadline (height floor, block time) passed in the block being built? */
static inline int mk_past(const gt_tx *tx, uint64_t height, uint64_t time_s) {
    return tx->height >= height && tx->time_s >= time_s;
}

/* Rows: load returns 0, GT_ENOTFOUND (with a message naming the task) or GT_EDB. */
int mk_task_load(gt_tx *tx, const uint8_t id[32], mk_task *t, gt_err *err);
int mk_task_store(mk_ctx *c, const mk_task *t, int insert, gt_err *err);
int mk_slot_load(gt_tx *tx, const uint8_t task[32], uint64_t slot, mk_slot *s, gt_err *err);
int mk_slot_store(mk_ctx *c, const mk_slot *s, int insert, gt_err *err);
int mk_dispute_load(gt_tx *tx, const uint8_t task[32], uint64_t slot, uint64_t attempt, mk_dispute *d, gt_err *err);
int mk_dispute_store(mk_ctx *c, const mk_dispute *d, int insert, gt_err *err);
/* Records a vote; GT_EEXIST when voter already voted in that round. */
int mk_vote_insert(mk_ctx *c, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round,
                   const gt_addr *voter, int accept, uint64_t weight, gt_err *err);
/* Calls fn for each vote of a round in vote order (stops on non-zero). */
typedef int (*mk_vote_fn)(void *arg, const gt_addr *voter, int accept, uint64_t weight);
int mk_votes_each(gt_tx *tx, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round, mk_vote_fn fn,
                  void *arg, gt_err *err);

/* Registers on a connection the SQL functions the market's schema names:
 * mk_name_key(name) and mk_name_case_key(name), the impersonation keys the
 * indexes mk_agents_name_key and mk_agents_name_case_key are built on
 * (registry.c; gt_ledger_module.connect). */
int mk_connect(sqlite3 *db, gt_err *err);
/* Another agent (?2 the sender, left out) whose name has the key ?1: one
 * search of mk_agents_name_key, the first by address. The expression must be
 * the index's, word for word, or SQLite would compute it for every card
 * (test_market_rows checks the plan). */
#define MK_SQL_NAME_TAKEN \
    "SELECT addr, name FROM mk_agents WHERE mk_name_key(name)=?1 AND addr<>?2 ORDER BY addr LIMIT 1"
/* The same for the second key, through mk_agents_name_case_key (format 9). */
#define MK_SQL_NAME_CASE_TAKEN \
    "SELECT addr, name FROM mk_agents WHERE mk_name_case_key(name)=?1 AND addr<>?2 ORDER BY addr LIMIT 1"

/* Deletes the skills rows of agent ?1 (a card being written): one search of
 * mk_agent_skills_addr (test_market_rows checks the plan). */
#define MK_SQL_SKILLS_DELETE "DELETE FROM mk_agent_skills WHERE addr=?1"

/* Agents (registry.c): 0 if addr has an active card listing skill, else
 * GT_EPERM with a message saying why not (or GT_EDB). */
int mk_agent_can_work(gt_tx *tx, const gt_addr *addr, const char *skill, gt_err *err);
/* Checks a skill / task kind name: 1-64 bytes of [a-z0-9._:-], starting alnum. */
int mk_skill_check(const char *s, size_t len, const char *what, gt_err *err);

/* Reputation (reputation.c): adds to the counters of (addr, skill). */
typedef struct mk_rep_delta {
    uint64_t accepted, rejected, missed, disputes_won, disputes_lost, slashed;
} mk_rep_delta;
int mk_rep_add(mk_ctx *c, const gt_addr *addr, const char *skill, const mk_rep_delta *d, gt_err *err);
/* Records that payer paid payee `value` base units for an accepted result
 * (reputation.c: the flows that weigh reputation by value and counterparty). */
int mk_rep_paid(mk_ctx *c, const gt_addr *payer, const gt_addr *payee, uint64_t value, gt_err *err);

/* Lock ids. */
void mk_lock_id(const char *tag, const uint8_t task[32], uint64_t slot, uint64_t attempt, uint8_t out[32]);
#define MK_TAG_ESCROW "gotong.market.escrow"
#define MK_TAG_STAKE "gotong.market.stake"
#define MK_TAG_RBOND "gotong.market.rejection-bond"
#define MK_TAG_DBOND "gotong.market.dispute-bond"
#define MK_TAG_JBOND "gotong.market.judge-bond"

/* Claims addr ever made on a task (0 when none); task.c. */
int mk_task_worker_claims(gt_tx *tx, const uint8_t task[32], const gt_addr *addr, uint64_t *claims, gt_err *err);

/* Judging panels (panel.c). Opens the panel of a round of the slot's current
 * attempt: the validators with at least min_stake staked (now and at block
 * start), the task's parties and workers left out. When they are no more than
 * GT_MARKET_PANEL_SEATS they all sit at once; otherwise the panel is drawn
 * by stake at the start of block height + GT_MARKET_DRAW_DELAY_BLOCKS. */
int mk_panel_open(mk_ctx *c, const mk_task *t, const mk_slot *sl, int round, uint64_t min_stake, gt_err *err);
/* Draws the panels due at tx->height (begin_block). */
int mk_panel_sweep(mk_ctx *c, gt_err *err);
/* The height whose start draws the round's panel, 0 when none is pending. */
uint64_t mk_panel_draw_height(gt_tx *tx, const mk_slot *sl, int round);
/* GT_MARKET_PANEL_SEATS draws from n stakes (their sum > 0) by seed: seats[i]
 * is how many seats stake i won. Pure: the simulation test calls it too. */
void mk_panel_draw_seats(const uint8_t seed[32], const uint64_t *stakes, size_t n, uint32_t *seats);
/* Is a judgement decided before its deadline? 1 (accept) or 0 (reject) when
 * that side holds more than two thirds of the panel's weight, or when the
 * whole panel has voted and that side holds more; -2 when the whole panel
 * voted to a tie; -1 while it stays open. */
int mk_panel_decided(uint64_t total, uint64_t yes, uint64_t no);
/* Is a quorum round decided at its deadline? 1 or 0 when that side holds
 * more than half of the panel's weight (not of the votes cast), else -1. */
int mk_panel_majority(uint64_t total, uint64_t yes, uint64_t no);
/* A member's weight (who != NULL) or the panel's total (who == NULL).
 * GT_ENOTFOUND, with no message, when who is not on the panel. */
int mk_panel_weight(gt_tx *tx, const mk_slot *sl, int round, const gt_addr *who, uint64_t *weight, gt_err *err);
/* The same with the member's stake when it was seated. */
int mk_panel_member(gt_tx *tx, const mk_slot *sl, int round, const gt_addr *who, uint64_t *weight, uint64_t *stake,
                    gt_err *err);
/* The bond a vote locks: GT_MARKET_JUDGE_SLASH_PCT of its weight, at most
 * the member's stake when seated. */
uint64_t mk_judge_bond_amount(uint64_t weight, uint64_t stake);
/* The judge-bond lock of voter in a round of the slot's current attempt. */
void mk_judge_lock_id(const mk_slot *sl, int round, const gt_addr *voter, uint8_t out[32]);
/* Moves a voter's bond from its stake into its judge-bond lock. */
int mk_judge_bond(mk_ctx *c, const mk_slot *sl, int round, const gt_addr *voter, uint64_t weight, uint64_t stake,
                  gt_err *err);
/* Closes the bonds of a round: side 1/0 won (the other side's bonds are shared
 * by the winners by weight, the rounding rest to rest_to), -1 no decision.
 * Bonds still locked go back into their owners' stake. Idempotent. */
int mk_judges_settle(mk_ctx *c, const mk_slot *sl, int round, int side, const gt_addr *rest_to, gt_err *err);
/* Least stake of a quorum task's panel members. */
static inline uint64_t mk_quorum_min_stake(const mk_task *t) {
    return t->stake > GT_MARKET_VALIDATOR_MIN_STAKE ? t->stake : GT_MARKET_VALIDATOR_MIN_STAKE;
}
/* Sealed votes (commit.c). Number of commitments of a round (only the
 * unrevealed ones when unrevealed_only). */
int mk_commits_count(gt_tx *tx, const mk_slot *sl, int round, int unrevealed_only, uint64_t *n, gt_err *err);
/* Settles the bonds of a closing round's unrevealed commitments: to the voters
 * of `side` by weight (the rest to rest_to) like a losing vote's; back to the
 * committer's stake when side is -1 or nobody won. */
int mk_commits_settle(mk_ctx *c, const mk_slot *sl, int round, int side, const gt_addr *rest_to, gt_err *err);
/* Is a round sealed (a commitment landed)? *sealed 1 or 0; *commit_end_s
 * (when sealed) the block time its commit window closed or closes. */
int mk_round_sealed(gt_tx *tx, const mk_slot *sl, int round, int *sealed, uint64_t *commit_end_s, gt_err *err);
/* 1 when t's panel votes may only be sealed (commit, then reveal) in this
 * block: a task of kind GT_MARKET_KIND_COSIGNED (eval) from format 11's
 * height on; a plain vote is then refused as in a sealed round. */
int mk_round_sealed_only(const gt_tx *tx, const mk_task *t);
/* Quorum rounds (verdict.c). *side: the side the votes cast so far decide,
 * or -1. Before the deadline (at_deadline 0): more than two thirds of the
 * panel's weight, or the most once the whole panel voted; at it: more than
 * half of the panel's weight. Either way with at least `quorum` voters. */
int mk_quorum_tally(gt_tx *tx, const mk_task *t, const mk_slot *sl, int at_deadline, int *side, gt_err *err);
/* Gives a quorum slot the panel's verdict `side`: unrevealed commitments and
 * the losing side's bonds to the winners, the slot accepted or rejected. */
int mk_quorum_decide(mk_ctx *c, const mk_task *t, mk_slot *sl, int side, gt_err *err);
/* Weight and number of the votes of a round on one side. */
int mk_votes_side(gt_tx *tx, const mk_slot *sl, int round, int side, uint64_t *weight, uint64_t *voters, gt_err *err);

/* Settlement steps shared by verdict.c and dispute.c. Each moves money with
 * state.h primitives and writes the slot; the caller writes nothing after. */
/* Pays an accepted slot: bounty and stake to the worker, the fee to the
 * evaluator or the accepting voters (or back to the poster when fee_to_poster). */
int mk_pay_accepted(mk_ctx *c, const mk_task *t, mk_slot *s, int fee_to_poster, gt_err *err);
/* From format 15 records the block time a slot is paid (mk_slot_paid), what
 * the fund module bounds the epoch of its points by; before, nothing. */
int mk_slot_paid_store(mk_ctx *c, const mk_slot *s, gt_err *err);
/* Settles a rejected slot: the stake pays the verification fee and the rest
 * goes to the poster; the rejection bond goes back; the slot reopens (or is
 * refunded when the task no longer takes claims). */
int mk_settle_rejected(mk_ctx *c, mk_task *t, mk_slot *s, gt_err *err);
/* Shares amount from lock among the voters of a round who voted `side`, by
 * weight over total_weight, in vote order; the rounding rest to rest_to. */
int mk_pay_voters(mk_ctx *c, const mk_slot *sl, int round, int side, const uint8_t lock[32], uint64_t amount,
                  uint64_t total_weight, const gt_addr *rest_to, gt_err *err);
/* Reopens a slot after a failed attempt (or refunds it when the task is
 * expired), and marks the task complete when no slot is left unfinished. */
int mk_slot_reopen(mk_ctx *c, mk_task *t, mk_slot *s, gt_err *err);
/* Marks the task complete if every slot is PAID or REFUNDED. */
int mk_task_maybe_complete(mk_ctx *c, mk_task *t, gt_err *err);
/* Resolves an open dispute (dispute.c): at its deadline or when full. */
int mk_dispute_resolve(mk_ctx *c, mk_task *t, mk_slot *s, gt_err *err);

/* Loads a task and slot for a verdict and checks what every verdict needs:
 * the slot is SUBMITTED, result is the one submitted, the verify deadline has
 * not passed, score <= GT_MARKET_SCORE_MAX (verdict.c). */
int mk_verdict_load(gt_tx *tx, const uint8_t task[32], uint64_t slot, const uint8_t result[32], uint64_t score,
                    mk_task *t, mk_slot *sl, gt_err *err);

/* Per-unit verdicts (partial.c): one row per (task, slot, attempt). */
typedef struct mk_partial {
    uint8_t task[32];
    uint64_t slot, attempt, accepted, total;
} mk_partial;
/* 0; GT_ENOTFOUND when the attempt had no per-unit verdict, which is no
 * failure, so err is left as it was; or GT_EDB (err set). */
int mk_partial_load(gt_tx *tx, const uint8_t task[32], uint64_t slot, uint64_t attempt, mk_partial *p, gt_err *err);
/* Settles a slot whose per-unit verdict accepted some but not all units. */
int mk_settle_partial(mk_ctx *c, mk_task *t, mk_slot *sl, const mk_partial *p, gt_err *err);
/* Adds to the per-unit reputation counters of (addr, skill). */
int mk_rep_units_add(mk_ctx *c, const gt_addr *addr, const char *skill, uint64_t accepted, uint64_t rejected,
                     gt_err *err);

/* The paid slots of a task (?1) and the units a per-unit verdict of their
 * attempt accepted (NULL when none): gt_market_task_paid_units. Searches
 * the slots' and the verdicts' primary keys (test_market_plans). */
#define MK_SQL_PAID_UNITS                                                                      \
    "SELECT s.slot, s.accept, p.accepted FROM mk_slots s LEFT JOIN mk_partials p"              \
    " ON p.task=s.task AND p.slot=s.slot AND p.attempt=s.attempt WHERE s.task=?1 AND s.state=?2"

/* Block-start sweeps (verdict.c): timeouts due at tx->height. */
int mk_begin_block(gt_tx *tx, gt_err *err);
/* The sweeps' queries (?1 the block's height, ?2 its time). Each names its
 * partial index: with no statistics SQLite would rather scan the whole table
 * in key order than sort the few rows that are due, and a scan at every block
 * grows with every task ever posted. The ORDER BY alone fixes the order the
 * rules see. test_market_rows checks the plans. */
#define MK_SQL_DUE_SLOTS                                                                      \
    "SELECT task, slot FROM mk_slots INDEXED BY mk_slots_deadline WHERE (state=1 OR state=2 OR " \
    "state=5) AND deadline_s<=?2 AND deadline<=?1 ORDER BY task, slot"
#define MK_SQL_DUE_TASKS                                                                         \
    "SELECT id, 0 FROM mk_tasks INDEXED BY mk_tasks_expiry WHERE status=0 AND expiry_s<=?2 AND " \
    "expiry_height<=?1 ORDER BY id"

/* A task with a parent: the predicate of the partial index mk_subtasks
 * (market.c). SQLite uses a partial index only for a query whose WHERE has
 * the same term, so the sub-task query repeats it (a parent's id is a hash,
 * never all zero, so the term removes no row). */
#define MK_SQL_HAS_PARENT "parent<>x'0000000000000000000000000000000000000000000000000000000000000000'"
/* A task's sub-tasks, oldest first (?1 the parent's id, ?2 the limit). */
#define MK_SQL_SUBTASKS \
    "SELECT id FROM mk_tasks WHERE parent=?1 AND " MK_SQL_HAS_PARENT " ORDER BY posted_height, id LIMIT ?2"

/* The task list (query.c's tasks_list, GET /v1/tasks): ?1 status (-1 any),
 * ?2 kind, ?3 poster, ?4 parent, ?5 a worker who held a slot (each NULL:
 * any), ?6 the limit, ?7 the offset; newest first. A filter written
 * `?N IS NULL OR col=?N` cannot use an index (SQLite plans the statement
 * before it sees the value), so the spec filter has its own statement whose
 * `spec=?8` searches mk_tasks_spec, which also gives the order, so no sort
 * and no row past the page is read (test_market_rows checks the plan). */
#define MK_SQL_TASKS_WHERE                                                                        \
    "(?1 < 0 OR status=?1) AND (?2 IS NULL OR kind=?2) AND (?3 IS NULL OR poster=?3) AND "        \
    "(?4 IS NULL OR parent=?4) AND "                                                              \
    "(?5 IS NULL OR EXISTS (SELECT 1 FROM mk_slots s WHERE s.task=t.id AND s.worker=?5)) "
#define MK_SQL_TASKS_ORDER "ORDER BY posted_height DESC, id LIMIT ?6 OFFSET ?7"
#define MK_SQL_TASKS_LIST "SELECT id FROM mk_tasks t WHERE " MK_SQL_TASKS_WHERE MK_SQL_TASKS_ORDER
/* The same with ?8 the spec (32 bytes). */
#define MK_SQL_TASKS_BY_SPEC "SELECT id FROM mk_tasks t WHERE spec=?8 AND " MK_SQL_TASKS_WHERE MK_SQL_TASKS_ORDER

/* Messages: "task 0x1234abcd" / short hex of an id, an address. */
const char *mk_short(const uint8_t id[32], char out[19]);
const char *mk_addr(const gt_addr *a, char out[43]);
const char *mk_units(uint64_t units, char out[32]);

/* Is the 32-byte value all zero? */
int mk_is_zero32(const uint8_t b[32]);

/* Runs SQL with no result rows; GT_EDB with the store's message. */
int mk_exec(gt_tx *tx, const char *sql, gt_err *err);

/* A key of two columns: ?1 the blob k1 (k1_len bytes), ?2 the text k2_text
 * or else the blob k2_blob (k2_len bytes). */
typedef struct mk_key2 {
    const void *k1;
    int k1_len;
    const char *k2_text;
    const void *k2_blob;
    int k2_len;
} mk_key2;

/* A table of counters under a two-column key (reputation, flows, unit
 * reputation): its columns are the key's two, then n integers. Such tables
 * are folded into the state digest by mk_counters_add, not by triggers
 * (market.c's self_folded list): every write of them must go through it. */
#define MK_COUNTERS_MAX 8
typedef struct mk_counters {
    const char *table;
    const char *select_sql; /* SELECT the n counters WHERE key ?1, ?2 */
    const char *insert_sql; /* INSERT INTO table VALUES(?1, ?2, the n counters from ?3) */
    const char *update_sql; /* UPDATE table SET the n counters from ?3 WHERE key ?1, ?2 */
    int n;
    const char *what; /* the row in messages */
} mk_counters;

/* Adds delta[i] to counter i of the row with key (a row of delta when there
 * is none) in int64 arithmetic, a sum past INT64_MAX held at INT64_MAX
 * (counters are statistics, never money; see market.c), writes it, and
 * folds the old row out of and the new one into the state digest. The new
 * counters in v. One read, one write: an upsert's read-back cost as much
 * and its trigger fold more (callgrind). */
int mk_counters_add(mk_ctx *c, const mk_counters *t, const mk_key2 *key, const uint64_t *delta, uint64_t *v,
                    gt_err *err);

/* The row to build (gt_digest_row_begin ...) that a self-folded table's
 * write (market.c) folds into the state digest (sign +1) or out of it (-1)
 * when the action ends (mk_finish) or the rows kept are many. */
gt_digest_row *mk_digest_row(mk_ctx *c, int sign);
/* Folds the rows kept into the state digest now. */
void mk_digest_flush(mk_ctx *c);
int mk_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, gt_err *err);

/* Big-endian u64 into p: the preimage layouts of lock ids and vote
 * commitments are fixed for other clients (the EVM mirror, cast). */
static inline void mk_be64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

#endif
