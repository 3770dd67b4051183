/* label.h: paid human feedback as a ledger task -- a poster pays attested
 * humans to pick the best of two to four answers to each prompt; the ledger
 * tallies them (work/label/pref.h), slashes careless labellers, pays the
 * accepted labels and records the agreement and the export's Merkle roots.
 * A ranking task (label_rank_post) asks instead for an order of each item's
 * answers, best first (work/label/rank.h).
 *
 * Action kinds (JSON "type"; times are seconds of block time, amounts base
 * units; the task's id is the id of its label_task_post action):
 *   label_task_post  name, items, labellers, payPerLabel, bond, goldBarPct,
 *                    minGold, minLabels, commitEndS, revealEndS, goldCommit
 *       escrows payPerLabel * items * labellers from the poster. From ledger
 *       format 10 each window (the block's time to commitEndS, commitEndS to
 *       revealEndS) is at least GT_LABEL_MIN_WINDOW_S, and the bond at most
 *       2 * payPerLabel * items (it is at least payPerLabel * items). goldCommit =
 *       gt_fund_label_gold_commit(salt, gold): which items are gold and their
 *       right answers stay hidden until close.
 *   label_rank_post  the same fields: a ranking task. A label is then an
 *       order of the item's answers as a rank code (rank.h: the answers'
 *       digits best first, "201" is 201, "021" is 21), gold items have a
 *       right order (a labeller is right only on exactly that order), the
 *       consensus is the Borda order, agreement Krippendorff's alpha with
 *       the ordinal metric, and the export the n(n-1)/2 pairs each order
 *       implies. A kind of its own, so that the comparison kind's signed
 *       type, the clients that sign it and the logs that hold it are as
 *       they were.
 *   label_item_add   task, prompt, answers, answer0 .. answer3
 *       the poster, item by item (in order) until `items` are in; answers
 *       2..4, the unused answer fields empty.
 *   label_join       task
 *       an attested human (gt_fund_human_weight > 0 at the block's time) who
 *       is not the poster takes one of the `labellers` seats, staking `bond`;
 *       records its nullifiers for the task (one human, one seat).
 *   label_commit     task, item, commitment
 *       a seated labeller, before commitEndS, once per item (before ledger
 *       format 10 only while its attestation is still valid; from format 10
 *       the join's check stands for the seat): commitment =
 *       gt_fund_label_commitment(task, item, labeller, choice, reason, secret).
 *   label_reveal     task, item, choice, reason, secret
 *       choice: an answer (0..answers-1), or on a ranking task a rank code
 *       of the item's answers;
 *       (the field is not called "salt": an action's JSON uses that key for
 *       the network's signing salt)
 *       once every seat has committed every item, or from commitEndS, until
 *       revealEndS: opens a commitment.
 *   label_task_close task, gold, goldSalt
 *       the poster with the gold opening (gold: one character per item, '-'
 *       for a plain item or the right answer's digit; on a ranking task '-'
 *       or the right order's n digits for an item of n answers, so the
 *       string reads unambiguously item by item) once everything is
 *       revealed or revealEndS has passed, until GT_LABEL_CLOSE_GRACE_S after
 *       it; after that anyone, with gold "" (closed by rule, no gold).
 *
 * The outcome of each seat at close:
 *   accepted   revealed every item and is not under the gold bar: bond back,
 *              paid payPerLabel per item;
 *   careless   revealed every item but is under the gold bar (pref.h):
 *              bond burned, its pay burned too (not refunded: a poster gains
 *              nothing by committing wrong gold);
 *   incomplete missed a commit or a reveal: bond burned, its pay back to the
 *              poster (a seat is a promise to label every item: a labeller
 *              that reveals only what suits it gains nothing); from ledger
 *              format 10 the pay of an incomplete seat that revealed a label
 *              is burned instead (the poster read those labels: it must not
 *              also get their pay back for the seat's failure).
 * Empty seats' pay goes back to the poster. The tally counts accepted
 * labellers only. */
#ifndef GT_FUND_LABEL_H
#define GT_FUND_LABEL_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"
#include "ledger/action.h"
#include "work/label/pref.h"

#define GT_LABEL_MAX_ITEMS 64                 /* items of one task (a comparison gold string's length) */
#define GT_LABEL_GOLD_MAX (GT_LABEL_MAX_ITEMS * GT_PREF_MAX_ANSWERS) /* bytes of a ranking task's gold */
#define GT_LABEL_PROMPT_MAX 4096              /* bytes of a prompt */
#define GT_LABEL_ANSWER_MAX 4096              /* bytes of one answer (an item at its bounds fits one action) */
#define GT_LABEL_REASON_MAX 280               /* bytes of a labeller's reason */
#define GT_LABEL_MAX_WINDOW_S (30u * 86400u)  /* post to revealEndS at most */
/* The commit window (post to commitEndS) and the reveal window (commitEndS to
 * revealEndS) at least, from ledger format 10: a person's time to label and
 * to reveal (a poster choosing seconds made honest seats fail). */
#define GT_LABEL_MIN_WINDOW_S 300u
#define GT_LABEL_CLOSE_GRACE_S (2u * 86400u)  /* the poster's time to close after revealEndS */
#define GT_LABEL_MIN_PAY 1000u                /* base units per label */

enum { GT_LABEL_OPEN = 0, GT_LABEL_CLOSED = 1, GT_LABEL_CLOSED_NO_GOLD = 2 };
enum { GT_LABEL_SEATED = 0, GT_LABEL_ACCEPTED = 1, GT_LABEL_CARELESS = 2, GT_LABEL_INCOMPLETE = 3 };

extern gt_action_kind gt_kind_label_task_post, gt_kind_label_rank_post, gt_kind_label_item_add, gt_kind_label_join,
    gt_kind_label_commit, gt_kind_label_reveal, gt_kind_label_task_close;

/* Registers the label kinds and tables (called by gt_fund_register). */
int gt_fund_label_register(gt_err *err);

/* The commitment of a label: keccak256("gotong.label.vote" ‖ task ‖
 * item (be64) ‖ labeller ‖ choice (be64) ‖ keccak256(reason) ‖ salt). */
void gt_fund_label_commitment(const uint8_t task[32], uint64_t item, const gt_addr *labeller, uint64_t choice,
                              const char *reason, size_t reason_len, const uint8_t salt[32], uint8_t out[32]);
/* The gold commitment: keccak256("gotong.label.gold" ‖ salt ‖ gold). */
void gt_fund_label_gold_commit(const uint8_t salt[32], const char *gold, size_t gold_len, uint8_t out[32]);
/* Reads a gold opening: for each of n items (answers[i] answers) '-' (a
 * plain item), or the right answer's digit, or on a ranking task the right
 * order's answers[i] digits (rank.h); gold[i] gets GT_PREF_NOT_GOLD, the
 * answer or the rank code. GT_EINVAL naming the item and what is expected
 * otherwise; *n_gold counts the gold items. */
int gt_fund_label_gold_parse(const char *text, size_t len, int ranking, const int *answers, size_t n, int *gold,
                             size_t *n_gold, gt_err *err);
/* The lock holding labeller's bond in task. */
void gt_fund_label_bond_lock(const uint8_t task[32], const gt_addr *labeller, uint8_t out[32]);

/* The Merkle root (crypto/merkle.h) of an export's lines: each leaf the
 * keccak256 of one line without its newline, in file order; zero when empty. */
int gt_fund_label_lines_root(const gt_buf *jsonl, uint8_t root[32], uint64_t *lines, gt_err *err);
/* The dataset card of a closed task from its JSON (gt_fund_label_task_get's). */
int gt_fund_label_card_json(const json_t *task, gt_buf *out, gt_err *err);

/* Readers (db: a ledger connection; new references, NULL with err set;
 * GT_ENOTFOUND when there is no such task). */
json_t *gt_fund_label_tasks(sqlite3 *db, uint64_t limit, gt_err *err);
/* A task: terms, counts, seats, items (texts; the gold once closed) and the outcome. */
json_t *gt_fund_label_task_get(sqlite3 *db, const uint8_t task[32], gt_err *err);
/* The next item who should label in task: {"item": {...}} or {"done": true,
 * "why": ...} when it has nothing to do there (with the reason). */
json_t *gt_fund_label_next(sqlite3 *db, const uint8_t task[32], const gt_addr *who, uint64_t now_s, gt_err *err);
/* A closed task's export rebuilt from the ledger's rows into out (format
 * GT_PREF_DPO or GT_PREF_HH) and checked against the root recorded at
 * close: GT_ESTATE when it does not match (nothing is handed out). */
int gt_fund_label_export(sqlite3 *db, const uint8_t task[32], gt_pref_format format, gt_buf *out, gt_err *err);
/* The dataset card (Markdown with a YAML header) of a closed task. */
int gt_fund_label_card(sqlite3 *db, const uint8_t task[32], gt_buf *out, gt_err *err);

#endif
