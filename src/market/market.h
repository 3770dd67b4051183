/* market.h: the market's rules on the ledger: the agent registry, tasks with
 * escrowed bounties and staked claims, verification by the poster, a named
 * evaluator or a quorum of staked validators, disputes decided by staked
 * validators who re-run the work, timeouts, subcontracting and reputation.
 *
 * Every change is a signed action (ledger/action.h) whose kind is declared in
 * this module; money moves only through ledger/state.h's primitives, so supply
 * is conserved by construction and every refusal undoes everything. Deadlines
 * fire at the start of the first block whose time is at or past them
 * (gt_ledger_module.begin_block): windows are seconds of block time.
 *
 * Action kinds (JSON "type", then fields beside chainId/from/nonce/sig):
 *   agent_register  name, skills, model, endpoint, price   the sender's card
 *   agent_update    name, skills, model, endpoint, price   replaces the card
 *   agent_retire    (none)                                 no new claims
 *   task_post       kind, spec, parent, slots, bounty, stake, verifier, fee,
 *                   quorum, claimSeconds, submitSeconds, verifySeconds,
 *                   seatsPerWorker (claims one worker may make over the
 *                   task's life; 0 means 1), batchItems (units each slot
 *                   holds, what a per-unit verdict's total must be; 0: the
 *                   task takes no per-unit verdict), lastBatchItems (units
 *                   of the last slot; 0 means batchItems)
 *   task_cancel     task                                   before any claim
 *   task_claim      task                                   takes the lowest open slot
 *   task_submit     task, slot, result
 *   task_verify     task, slot, result, accept, score, reason
 *   task_settle     task, slot
 *   task_dispute    task, slot, result
 *   dispute_vote    task, slot, result, accept          a vote in the clear (unsealed round)
 *   vote_commit     task, slot, result, commitment      a sealed vote (commit.c)
 *   vote_reveal     task, slot, result, accept, voteSalt  opens it, after the commit window
 *   task_verify_partial  task, slot, result, accepted, total, score, reason
 *                   a verdict on `accepted` of `total` units (partial.c)
 * Types: name/skills/endpoint/kind strings; model/spec/parent/task/result/
 * reason bytes32 (sha256 of the blob, see blob.h); verifier address; accept
 * bool; the rest uint64 (amounts in base units, windows in seconds of block
 * time).
 * The rules themselves and the attacks they answer are described at the top
 * of task.c (tasks), verdict.c (verification, settlement, timeouts) and
 * dispute.c (disputes). */
#ifndef GT_MARKET_MARKET_H
#define GT_MARKET_MARKET_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"
#include "ledger/action.h"

/* Limits on what comes from outside (each checked with a message). */
#define GT_MARKET_NAME_MAX 64          /* agent name, bytes */
#define GT_MARKET_SKILL_MAX 64         /* one skill / task kind, bytes */
#define GT_MARKET_SKILLS_MAX 16        /* skills on one card */
#define GT_MARKET_SKILLS_BYTES 512     /* the comma-separated skills field */
#define GT_MARKET_ENDPOINT_MAX 256     /* endpoint URL, bytes */
#define GT_MARKET_MAX_SLOTS 64         /* slots of one task: bounds the work of one settle sweep */
#define GT_MARKET_MAX_QUORUM 16        /* k of a quorum (panel of 2k-1) */
#define GT_MARKET_SCORE_MAX 100        /* verdict scores are 0..100 */
#define GT_MARKET_MAX_UNITS 1000000    /* units judged by one per-unit verdict (a data batch's samples) */
/* Windows in seconds of block time (the block timestamp: monotonic, never
 * ahead of the block maker's clock by construction, refused on replay when it
 * goes back): a floor so nobody can grief with deadlines that expire before
 * the other side can act, a ceiling so escrow is never locked for ever.
 * Anyone can make blocks by sending actions; nobody but the block maker sets
 * block time, so no amount of traffic moves a deadline. */
#define GT_MARKET_MIN_WINDOW_S 2
#define GT_MARKET_MAX_WINDOW_S 1000000
/* The windows a party must act within are the network's, fixed at genesis
 * (gt_windows, read from the open block as tx->windows):
 *   dispute_s  after a reject verdict by the poster or an evaluator, the
 *              worker may dispute this long;
 *   vote_s     a dispute's vote stays open this long;
 *   reveal_s   once a round's votes are sealed (a vote_commit landed), the
 *              commitments are opened in this long after its commit window
 *              (a dispute's vote window, or a quorum task's verify window).
 * A network made by `gotong init` gives people ten minutes
 * (GT_DEFAULT_PERSON_WINDOW_S); tests and the demo make networks of 5 s
 * (GT_LEDGER_SHORT_WINDOW_S). */
/* Tasks of this kind are judged by the work layer's co-signs (an eval
 * attestation's re-executed evidence). Before ledger format 11 their votes
 * are co-signs in the clear (the inner task_verify / dispute_vote is the
 * vote) and vote_commit is refused on them: were a round sealable while
 * clear votes were the rule, one panel member's commitment would refuse
 * every honest co-sign after it. From format11_height their panel votes are
 * sealed-only (commit.c: mk_round_sealed_only): vote_commit, then a reveal
 * (the work layer's eval_reveal, carrying the co-sign). The work layer posts
 * evaluations under this kind (GT_WORK_KIND_EVAL). */
#define GT_MARKET_KIND_COSIGNED "eval"
/* Judging panels (panel.c): a panel has at most this many seats. When no
 * more validators are eligible they all sit; otherwise the seats are drawn by
 * stake, GT_MARKET_DRAW_DELAY_BLOCKS after the judgement opened, from the draw
 * seed of that block (ledger/seed.h), which nobody but the node knew then. With 63 seats a party holding
 * under a third of the eligible stake wins a majority of them with
 * probability under 0.32% (binomial tail; the simulation in test_market
 * measures it), and two thirds of them (an early close) under 1e-7. */
#define GT_MARKET_PANEL_SEATS 63
#define GT_MARKET_PANEL_MAX GT_MARKET_PANEL_SEATS /* members of one panel, at most */
#define GT_MARKET_DRAW_DELAY_BLOCKS 2
/* The largest stakes considered for a draw (bounds one draw's work). */
#define GT_MARKET_PANEL_SCAN 4096
/* A vote bonds this percentage of the voter's panel weight out of its stake;
 * a judge on the losing side of the outcome loses it to the winning side. */
#define GT_MARKET_JUDGE_SLASH_PCT 20
/* Least stake (ledger `stake` action) that makes an address a validator. */
#define GT_MARKET_VALIDATOR_MIN_STAKE 1000000ull /* 1 token */
/* Listing pages. */
#define GT_MARKET_PAGE_MAX 200

/* Verifier policies, derived from task_post's fields:
 *   quorum > 0           QUORUM: the panel of validators fixed at submission
 *                        votes by stake; a side decides once it holds more
 *                        than half of the panel's weight and at least
 *                        `quorum` voters (panel.c, verdict.c)
 *   verifier != 0        EVALUATOR: that address verifies for `fee` per slot
 *   otherwise            POSTER: the poster verifies */
typedef enum gt_market_policy {
    GT_POLICY_POSTER = 0,
    GT_POLICY_EVALUATOR = 1,
    GT_POLICY_QUORUM = 2,
} gt_market_policy;

/* Slot states. OPEN -> CLAIMED -> SUBMITTED -> ACCEPTED -> PAID
 *                                           -> REJECTED -> (DISPUTED) -> back to OPEN
 * plus REFUNDED (expired or cancelled before a claim). PAID and REFUNDED are final. */
typedef enum gt_slot_state {
    GT_SLOT_OPEN = 0,
    GT_SLOT_CLAIMED = 1,
    GT_SLOT_SUBMITTED = 2,
    GT_SLOT_ACCEPTED = 3,
    GT_SLOT_REJECTED = 4,
    GT_SLOT_DISPUTED = 5,
    GT_SLOT_PAID = 6,
    GT_SLOT_REFUNDED = 7,
} gt_slot_state;

typedef enum gt_task_status {
    GT_TASK_OPEN = 0,      /* accepting claims */
    GT_TASK_EXPIRED = 1,   /* past its claim window; claimed slots run to the end */
    GT_TASK_CANCELLED = 2,
    GT_TASK_COMPLETE = 3,  /* every slot paid or refunded */
} gt_task_status;

typedef enum gt_agent_status { GT_AGENT_ACTIVE = 0, GT_AGENT_RETIRED = 1 } gt_agent_status;

extern gt_action_kind gt_kind_agent_register, gt_kind_agent_update, gt_kind_agent_retire;
extern gt_action_kind gt_kind_task_post, gt_kind_task_cancel, gt_kind_task_claim, gt_kind_task_submit;
extern gt_action_kind gt_kind_task_verify, gt_kind_task_settle, gt_kind_task_dispute, gt_kind_dispute_vote;
extern gt_action_kind gt_kind_task_verify_partial, gt_kind_vote_commit, gt_kind_vote_reveal;

/* The commitment a vote_commit carries: keccak(accept ‖ salt ‖ voter ‖ task ‖
 * slot ‖ attempt ‖ round) with accept one byte (0/1), salt 32 bytes, voter 20,
 * task 32, slot and attempt big-endian u64, round one byte (0: a quorum
 * task's vote on a submitted result, 1: a dispute). */
#define GT_MARKET_ROUND_VERIFY 0
#define GT_MARKET_ROUND_DISPUTE 1
void gt_market_vote_commitment(int accept, const uint8_t salt[32], const gt_addr *voter, const uint8_t task[32],
                               uint64_t slot, uint64_t attempt, int round, uint8_t out[32]);
/* A salt nobody can guess without the judge's key, the same each time for one
 * judgement: keccak("gotong vote salt v1" ‖ private key ‖ task ‖ slot ‖
 * attempt ‖ round), so a judge needs no storage between commit and reveal. */
void gt_market_vote_salt(const gt_key *key, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round,
                         uint8_t out[32]);

/* Registers the ledger rules v1 (gt_rules_register), every market kind and the
 * market's ledger module (tables + deadlines). Call before gt_ledger_create /
 * gt_ledger_open / gt_ledger_verify. Idempotent; not thread-safe (call at start). */
int gt_market_register(gt_err *err);
/* 1 when k is one of the kinds gt_market_register registers (agents' cards,
 * tasks, slots, verdicts, disputes, votes; not the core rules' transfer,
 * mint, stake, unstake, payment), 0 otherwise (NULL included). */
int gt_market_kind(const gt_action_kind *k);

/* Names of states and policies ("open", "claimed", ..., "poster", ...), for JSON. */
const char *gt_slot_state_name(int state);
const char *gt_task_status_name(int status);
const char *gt_policy_name(int policy);

/* ---- Readers (query.c). Each takes a connection to the ledger's SQLite file
 * (a read-only one on HOME/ledger.db, or tx->db inside gt_ledger_read) and
 * returns a new JSON reference the caller json_decref's, or NULL with err set
 * (GT_ENOTFOUND when there is no such row). Amounts are decimal strings of base
 * units; hashes "0x"+hex; blob hashes also as "sha256:<hex>" ids. */

/* One snapshot for a read that runs several queries: on a connection in
 * autocommit mode each statement is its own read transaction, so a block
 * committed between two of them gives a view no block ever had (a slot paid
 * beside the escrow that still holds its bounty). begin opens a read
 * transaction and returns 1 (0 when db is already in one, e.g. tx->db:
 * nothing to do); end closes what begin opened. The readers below use them;
 * higher layers' readers are wrapped by their callers (api/h_work.c). */
int gt_market_snapshot_begin(sqlite3 *db);
void gt_market_snapshot_end(sqlite3 *db, int began);

/* One task: its terms, status, escrow, every slot (with votes and dispute),
 * and the ids of its sub-tasks. */
json_t *gt_market_task_get(sqlite3 *db, const uint8_t task_id[32], gt_err *err);

typedef struct gt_market_task_filter {
    int status;            /* -1: any; else gt_task_status */
    const char *kind;      /* NULL: any */
    const gt_addr *poster; /* NULL: any */
    const gt_addr *worker; /* NULL: any; tasks where it holds or held a slot */
    const uint8_t *parent; /* NULL: any; 32 bytes: sub-tasks of that task */
    const uint8_t *spec;   /* NULL: any; 32 bytes: tasks posted with that spec (a data job's tasks) */
} gt_market_task_filter;
/* Tasks matching f, newest first: {"tasks":[...summaries...],"next":offset|null}.
 * limit is capped at GT_MARKET_PAGE_MAX. */
json_t *gt_market_tasks_list(sqlite3 *db, const gt_market_task_filter *f, uint64_t offset, uint64_t limit,
                             gt_err *err);

/* An agent's card (name, skills, model, endpoint, price, status, card id). */
json_t *gt_market_agent_get(sqlite3 *db, const gt_addr *addr, gt_err *err);
/* Agents, optionally only those listing `skill` and only active ones:
 * {"agents":[...],"next":offset|null}. */
json_t *gt_market_agents_list(sqlite3 *db, const char *skill, int active_only, uint64_t offset, uint64_t limit,
                              gt_err *err);
/* Reputation of addr: {"address":..,"skills":[{skill, accepted, rejected,
 * missed, disputesWon, disputesLost, slashed}], "total":{... and paid,
 * earned, payers, standing: the value weights, reputation.c}}; skill NULL:
 * all. */
json_t *gt_market_reputation(sqlite3 *db, const gt_addr *addr, const char *skill, gt_err *err);

/* A slot and its task's terms as plain values, for the rules of higher
 * layers that build on tasks (work's attestations name a task slot) and for
 * tools. db: the ledger's connection (tx->db inside a rule). 0, GT_ENOTFOUND
 * naming the missing task or slot, or GT_EDB. */
typedef struct gt_market_slot_ref {
    char kind[GT_MARKET_SKILL_MAX + 1];
    uint8_t spec[32];
    gt_addr poster, verifier;
    int policy, task_status;
    uint64_t bounty, stake, fee, quorum, slots;
    int state;               /* gt_slot_state */
    uint64_t attempt, deadline; /* deadline: block time (seconds), 0 when none */
    uint64_t deadline_height;   /* its height floor: it has passed once both have (mk_past) */
    gt_addr worker;          /* zero when open */
    uint8_t result[32];      /* zero before a submission */
    int accept;              /* the verdict, once there is one */
    gt_addr verdict_by;
    uint64_t posted_height;  /* the block that posted the task */
} gt_market_slot_ref;
int gt_market_slot_ref_get(sqlite3 *db, const uint8_t task_id[32], uint64_t slot, gt_market_slot_ref *out, gt_err *err);
/* Whether slot `slot` of task_id stands accepted on the verdict of a drawn,
 * bonded panel (*yes = 1): a quorum task's panel accepted its current
 * attempt, or its worker won a dispute of it (paid on the dispute panel's
 * verdict). An evaluator's or the poster's own acceptance is not a panel's:
 * the poster picks the evaluator, and may be the worker's sybil (*yes = 0).
 * For rules that let accepted work count for more than its bounty (a
 * funding round's projects, fund_round.c). 0, GT_ENOTFOUND or GT_EDB. */
int gt_market_slot_panel_accepted(sqlite3 *db, const uint8_t task_id[32], uint64_t slot, int *yes, gt_err *err);
/* The units (a data job's samples) task_id's paid slots bought, into
 * *units: a slot settled pro rata (a per-unit verdict that accepted some of
 * its units, upheld) the units that verdict accepted; any other paid slot
 * (accepted whole, a dispute won, or paid on an older rule) the units the
 * poster committed at post time (batchItems, lastBatchItems for the last
 * slot: 0 when it committed none). Slots not paid hold none. For rules that
 * bound what a poster may claim of the work it bought (work.c's
 * dataset_publish, ledger format 13): one search of the task's own slots
 * (at most GT_MARKET_MAX_SLOTS) by key, each verdict's units by key.
 * 0, GT_ENOTFOUND or GT_EDB. */
int gt_market_task_paid_units(sqlite3 *db, const uint8_t task_id[32], uint64_t *units, gt_err *err);

/* Checks the market's books against the ledger's escrow locks: every task's
 * escrow holds exactly (bounty + fee) for each unfinished slot, every claim's
 * stake, rejection bond and dispute bond is locked in full, and no market lock
 * holds anything else; the accounts' locked buckets sum to the locks. Fills
 * *locked_units (may be NULL) with what the market holds in all its locks.
 * 0, or GT_EINVAL naming the first discrepancy. The scenario tests run it
 * after every step. */
int gt_market_audit(sqlite3 *db, uint64_t *locked_units, gt_err *err);

/* Lock ids (keccak256 of a tag, the task id and the slot/attempt), exposed so
 * tools can read the escrow of a task with gt_state_lock_get. */
void gt_market_escrow_id(const uint8_t task_id[32], uint8_t out[32]);
void gt_market_stake_id(const uint8_t task_id[32], uint64_t slot, uint64_t attempt, uint8_t out[32]);

#endif
