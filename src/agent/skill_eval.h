/* skill_eval.h: the `eval` skill: evaluating a model on a benchmark as market
 * work (work/eval/check.h has the spec and the checks, work.h the actions).
 *
 *   evaluator (worker with skill eval)  claims a slot of an `eval` task, runs
 *       the benchmark with its model, uploads the per-item results and sends
 *       eval_attest (model, bench, results root, score): the attestation is
 *       the slot's submission, backed by its stake.
 *   the task's verifier                 re-checks the attestation (root and
 *       score recomputed from the lines, `check` random items re-executed
 *       and compared byte for byte) and co-signs it: its co-sign is the verdict.
 *   validators                          co-sign every attestation they see
 *       the same way (the leaderboard counts agreeing co-signs); while the
 *       slot is under dispute their co-sign is their vote, and one who
 *       co-signed before the dispute votes with what it found then, at once.
 *       From ledger format 11 a panel's votes are sealed (market/commit.c):
 *       a seated validator checks the attestation, commits its vote with
 *       vote_commit, and sends the co-sign with the reveal (eval_reveal)
 *       once the commit window is over, so nobody can copy it.
 * A rejected evaluator re-runs the benchmark; if the results reproduce it
 * disputes (the market's default for skills). An evaluator told to forge
 * (GT_FAULT_FORGE_SCORE) attests a perfect score over honest results: the
 * score recomputed from its own lines gives it away.
 *
 * Attestations are found over the node's HTTP API by their slot: the blocks
 * from the slot's claim height on are read for the eval_attest naming the
 * slot and its result (GT_AGENT_ATTEST_SCAN_BLOCKS at most). */
#ifndef GT_AGENT_SKILL_EVAL_H
#define GT_AGENT_SKILL_EVAL_H

#include "agent/agent.h"

#define GT_AGENT_ATTEST_SCAN_BLOCKS 4096 /* blocks read to find one attestation */

extern const gt_skill gt_skill_eval;

/* Validator pass over one slot of an eval task (any status): co-signs the
 * slot's current attestation once, unless this agent is a party to it; not
 * while its check could run past a reveal of this agent's sealed votes
 * (ag_rerun_held: asked again next pass). */
int ag_eval_cosign_slot(gt_agent *a, const json_t *task, const json_t *slot, int *acted);
/* From ledger format 11 an eval task's panel votes are sealed: the vote a
 * panel member commits on the slot's current attestation, into v (accept,
 * reason). What it co-signed before (in the clear, before the round) when
 * it did; else the attestation is checked now (items re-executed, the
 * evidence uploaded) and the co-sign's content kept in memory (MEMO_SEALED)
 * for the reveal. Sends nothing. 0 or an error (the caller retries a
 * transient one). */
int ag_eval_seal_verdict(gt_agent *a, const json_t *task, const json_t *slot, gt_skill_verdict *v, gt_err *err);
/* Opens this agent's sealed vote `accept` (salt) on the slot's attestation
 * with eval_reveal, carrying the co-sign kept by ag_eval_seal_verdict: 0
 * once sent; GT_ENOTFOUND when no co-sign is kept for it (a restarted
 * agent, or one whose co-sign is already on the ledger), which the caller
 * opens with a plain vote_reveal; or the node's refusal. */
int ag_eval_reveal(gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, int accept,
                   const uint8_t salt[32], gt_err *err);

#endif
