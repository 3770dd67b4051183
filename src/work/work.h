/* work.h: the work layer's rules on the ledger: evaluation attestations and
 * their co-signatures, and dataset roots, as signed actions beside the
 * market's, plus the readers the CLI and the node use (the leaderboard).
 *
 * Action kinds (JSON "type", then fields beside chainId/from/nonce/sig):
 *   eval_attest      task, slot, model, bench, benchHash, resultsRoot,
 *                    scorePpm, items, results
 *       An evaluator holding a claimed slot of an `eval` task attests a
 *       benchmark run; the same action submits the results blob (`results`)
 *       as the slot's result. Rules in eval/attest.c.
 *   eval_cosign      attestation, itemsChecked, agree, evidence
 *       A validator re-executed `itemsChecked` items of an attestation and
 *       says whether every one matched byte for byte; `evidence` is the
 *       sha256 of a blob with its re-executed lines (required when it
 *       disagrees). When the co-signer is the one who verifies the task slot
 *       (the poster, the evaluator, or any staked validator of a quorum), the
 *       co-sign is also the verdict; while the slot is under dispute, it is
 *       also the validator's dispute vote (from ledger format 11 a panel's
 *       vote is refused in the clear: see eval_reveal). Rules in
 *       eval/attest.c.
 *   eval_reveal      attestation, itemsChecked, agree, evidence, voteSalt
 *       From format 11: the reveal of a panel member's sealed vote on an
 *       eval task (a quorum's verify round or a dispute), which is also its
 *       co-sign; it opens the sender's vote_commit over accept = agree with
 *       voteSalt (the market's vote_reveal). Rules in eval/attest.c.
 *   dataset_publish  task, job, root, rows, manifest
 *       The poster of a data-job task records the Merkle root of the dataset
 *       exported from its accepted samples (export.h), once per job; from
 *       ledger format 13 rows are at most the samples the task's paid
 *       batches hold. Rules in work.c.
 * Types: task, model, benchHash, resultsRoot, results, attestation,
 * evidence, voteSalt, job, root, manifest bytes32 (model/results/evidence/job/
 * manifest: sha256 of a file or blob; resultsRoot/root: keccak Merkle roots);
 * bench string; agree bool; the rest uint64.
 *
 * Market task kinds the work layer posts and serves (agent skills of the
 * same names): GT_WORK_KIND_GENERATE (a data job: one slot per batch,
 * verified sample by sample with task_verify_partial by a validator agent,
 * whose skill is GT_WORK_SKILL_VALIDATE) and GT_WORK_KIND_EVAL (an
 * evaluation: one slot per evaluator, the result an attestation). */
#ifndef GT_WORK_WORK_H
#define GT_WORK_WORK_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"
#include "ledger/action.h"
#include "market/market.h"

#define GT_WORK_KIND_GENERATE "generate"
#define GT_WORK_SKILL_VALIDATE "validate"
#define GT_WORK_KIND_EVAL GT_MARKET_KIND_COSIGNED /* "eval": its rounds are voted in the clear */

#define GT_WORK_SCORE_PPM_MAX 1000000ull
#define GT_WORK_ATTEST_MAX_ITEMS 100000   /* = GT_BENCH_MAX_ITEMS */
#define GT_WORK_BENCH_NAME_MAX 64         /* = GT_BENCH_NAME_MAX */
#define GT_WORK_DATASET_MAX_ROWS (1u << 24) /* = GT_DATASET_MAX_ROWS */
#define GT_WORK_LEADERBOARD_MAX 1000      /* entries returned */
/* The least `check` (items each judge re-executes under an eval task's
 * spec) under which the leaderboard ranks a score: min(items,
 * GT_WORK_EVAL_CHECK_FLOOR). The poster picks check (1 to 1000) and the
 * ledger takes any, so a promoter who makes up 10 of 50 result lines and
 * posts with check 1 survives a quorum of 2 with probability 0.90 (computed
 * from the voting rule; docs/security.md): 0.056 at check 8, 0.0005 at 16.
 * At 16 it is below one in a thousand while a judge still re-executes a
 * small share of a large run (16 of up to 100000 items); a run of fewer
 * items is re-executed whole. A read-side rule: the ledger's rules are unchanged, an
 * entry under it is listed unranked with the reason, and `gotong task post`
 * refuses such an eval spec (gt_work_eval_spec_floor_ok, check.h). */
#define GT_WORK_EVAL_CHECK_FLOOR 16

extern gt_action_kind gt_kind_eval_attest, gt_kind_eval_cosign, gt_kind_eval_reveal, gt_kind_dataset_publish;

/* Registers the market (gt_market_register, which registers the core
 * rules), the work kinds and the work module's tables. Call before
 * gt_ledger_create / open / verify. Idempotent; not thread-safe. */
int gt_work_register(gt_err *err);
/* 1 when k is one of the work layer's own kinds (eval_attest, eval_cosign,
 * dataset_publish: not the market's, see gt_market_kind), 0 otherwise. */
int gt_work_kind(const gt_action_kind *k);

/* ---- readers (leaderboard.c): db is a connection to the ledger's SQLite
 * file (read-only on HOME/ledger.db, or tx->db in gt_ledger_read). Each
 * returns a new reference (caller json_decref's) or NULL with err set. */

/* Models ranked by attested score:
 *   {"bench": NAME|null, "entries": [{rank, ranked, unranked, bench, benchHash, model,
 *     scorePpm, score, items, check, attester, attestation, task, slot,
 *     height, status, results, resultsRoot, drawBlock, cosigns: {agreed, backed,
 *     backedStake, backedItemsChecked, disagreed, itemsChecked}, others
 *     (without `all`)}]}
 * drawBlock: a held-out (drawn) benchmark's score, the block whose draw
 * seed drew its items (the task's postedHeight + GT_BENCH_DRAW_DELAY);
 * null for a fixed benchmark or when the task is gone;
 * check: the items each validator re-executes under the eval task's spec
 * (its poster chose 1 to GT_WORK_EVAL_MAX_CHECK; null when the task is gone
 * or the ledger predates the rule binding attestations to specs);
 * backedItemsChecked: the items the backing judges' co-signs say they
 * re-executed, summed; itemsChecked: the same over every co-sign. A score
 * backed by one judge's one item is shown as that, beside one backed by
 * several judges' eight; it ranks only when check is at least
 * gt_work_eval_check_floor(items), otherwise (or with check null) it is
 * listed unranked. unranked: null on a ranked entry, else why it is not
 * ranked ("check 1 is below the floor min(items,16)=16", "status pending",
 * "no drawn, bonded judge's vote backs it").
 * status: "accepted" (the eval task's slot was accepted or paid on an
 * evaluator's, a quorum's or a dispute's verdict), "pending" (submitted, no
 * verdict yet), "disputed", "rejected" (the verdict went against it),
 * "unverified" (paid with nobody's verdict on an old ledger, or accepted
 * only by the task's own poster, who may be the attester's sybil).
 * backed: agreeing co-signs that were also accepting votes of a drawn,
 * bonded judging panel on the slot (leaderboard.c, att_backed). Without `all`,
 * rejected attestations are not ranked and each (bench, items, model)
 * appears once: its best-standing attestation (accepted first, then most
 * backed, then most agreeing co-signs; on a tie the earlier stands, so a
 * later one replaces it only by being better backed); every other
 * attestation of the (bench, items, model) is listed in its `others`
 * ({attestation, attester, scorePpm, status, backed}). Sorted by bench, then
 * items (most first), then score (highest first); rank counts within a
 * (bench, items): a run of the first N items is compared only with runs of
 * the same N (a poster picks N, so a best prefix must not outrank a longer
 * run). bench NULL: all. */
json_t *gt_work_leaderboard(sqlite3 *db, const char *bench, int all, gt_err *err);
/* The least check under which an attestation of `items` items ranks:
 * min(items, GT_WORK_EVAL_CHECK_FLOOR), and 1 at the least. */
uint64_t gt_work_eval_check_floor(uint64_t items);
/* One attestation with its co-signs (cosignList: cosigner, itemsChecked,
 * agree, evidence, height, role: "cosign"|"verdict"|"dispute-vote"). */
json_t *gt_work_attestation_get(sqlite3 *db, const uint8_t id[32], gt_err *err);
/* The market's standing of attestation id, as the leaderboard's `status`
 * says it ("accepted", "pending", "disputed", "unverified", "rejected"; a
 * static string) into *status: what a rule that needs an accepted
 * evaluation (a funding round's project) reads. GT_ENOTFOUND when there is
 * no such attestation, GT_EDB when a row it reads is damaged. */
int gt_work_attestation_status(sqlite3 *db, const uint8_t id[32], const char **status, gt_err *err);
/* The dataset published for a job: {job, task, publisher, root, rows,
 * manifest, height}; GT_ENOTFOUND when none. */
json_t *gt_work_dataset_get(sqlite3 *db, const uint8_t job[32], gt_err *err);

#endif
