/* escrow.h: gotong's contracts (the Solidity files of contracts/) driven from C: deployment
 * from the compiled creation code, and the job escrow's calls, each one
 * transaction waited for at the chain's confirmation depth, with its gas.
 *
 * The escrow's rules live in contracts/JobEscrow.sol; this file only encodes
 * the calls and reads their results (the job id from JobCreated, a job's
 * fields from getJob). A call the contract would refuse is refused before
 * anything is sent, with the contract's reason (see client.h). */
#ifndef GT_CHAIN_ESCROW_H
#define GT_CHAIN_ESCROW_H
#include <stddef.h>
#include <stdint.h>
#include "base/err.h"
#include "chain/abi.h"
#include "chain/client.h"

#define GT_CHAIN_MAX_CODE_BYTES (48u << 10) /* EIP-3860's initcode limit: 49152 */
/* JobEscrow.MAX_EXPIRY_S: a job's expiry is at most this long after the block that opens it (366 days; the escrow
 * refuses a later one with ExpiryTooFar). `gotong chain post` and `hire` bound --expires-s by it. */
#define GT_ESCROW_MAX_EXPIRY_S 31622400u

/* Deploys creation code (hex, as solc writes it, in the file at path)
 * followed by the encoded constructor args; *at gets the address. */
int gt_chain_deploy_file(gt_chain *c, gt_chain_account *a, const char *path, const gt_abi_val *args, size_t n,
                         gt_addr *at, uint64_t *gas, gt_err *err);

/* Sends sig(args) to contract from a and waits for it (client.h's
 * gt_chain_transact); r keeps the receipt (the caller frees it), *gas (if not
 * NULL) its gas. A refusal names sig. */
int gt_chain_invoke(gt_chain *c, const gt_addr *contract, gt_chain_account *a, const char *sig, const gt_abi_val *args,
                    size_t n, gt_chain_receipt *r, uint64_t *gas, gt_err *err);
/* Calls the view sig(args) of contract at the latest block (client.h's
 * gt_chain_call); out gets the return data. A refusal names sig. */
int gt_chain_view(gt_chain *c, const gt_addr *contract, const char *sig, const gt_abi_val *args, size_t n, gt_buf *out,
                  gt_err *err);
/* Word `word` of that view's return data as a number under 2^64 (a larger
 * one, or data too short, is refused). */
int gt_chain_view_u64(gt_chain *c, const gt_addr *contract, const char *sig, const gt_abi_val *args, size_t n,
                      size_t word, uint64_t *out, gt_err *err);

typedef enum gt_escrow_status {
    GT_ESCROW_OPEN, GT_ESCROW_FUNDED, GT_ESCROW_SUBMITTED, GT_ESCROW_COMPLETED, GT_ESCROW_REJECTED,
    GT_ESCROW_EXPIRED, GT_ESCROW_DISPUTED
} gt_escrow_status;

typedef struct gt_escrow_job {
    gt_addr client, provider, evaluator;
    uint64_t budget, stake, expired_at;
    gt_escrow_status status;
    int claimed;
} gt_escrow_job;

/* The job's steps after post; tag is the deliverable (submit) or the reason
 * (complete, reject), ignored by the others. A reject without a reason (NULL
 * or zero) is refused here, sending nothing: the contract would take it, the
 * embedded ledger does not. With a court, reject of a
 * staked submission bonds the job's stake from the evaluator; dispute (the
 * worker, bonding as much) and finalize (anyone, after the dispute window)
 * follow it (contracts/DisputeCourt.sol, chain/court.h). TIMEOUT (anyone)
 * ends a timed job's running phase once its deadline passed (setPhases). */
typedef enum gt_escrow_step { GT_ESCROW_CLAIM, GT_ESCROW_SUBMIT, GT_ESCROW_COMPLETE, GT_ESCROW_REJECT,
                              GT_ESCROW_REFUND, GT_ESCROW_DISPUTE, GT_ESCROW_FINALIZE,
                              GT_ESCROW_TIMEOUT } gt_escrow_step;

/* post(): creates and funds a job open to any worker (the client must have
 * approved the escrow for budget); *job_id from its JobCreated event. */
int gt_escrow_post(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_addr *evaluator,
                   uint64_t expired_at, const uint8_t desc_hash[32], uint64_t budget, uint64_t stake, uint64_t *job_id,
                   uint64_t *gas, gt_err *err);
/* post() naming the provider (zero: anyone), the only worker that may claim it. */
int gt_escrow_post_for(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_addr *provider,
                       const gt_addr *evaluator, uint64_t expired_at, const uint8_t desc_hash[32], uint64_t budget,
                       uint64_t stake, uint64_t *job_id, uint64_t *gas, gt_err *err);
/* A job's terms for postWithFee: post()'s, and the evaluator's fee (> 0, at
 * most the stake; the evaluator must not be the client). The client must
 * have approved the escrow for budget + fee. */
typedef struct gt_escrow_terms {
    gt_addr provider, evaluator; /* provider zero: anyone */
    uint64_t expired_at, budget, stake, fee;
    uint8_t desc_hash[32];
} gt_escrow_terms;
/* postWithFee(): the fee is the evaluator's for a verdict (on completion, or
 * out of the stake on a final rejection), the client's back without one. */
int gt_escrow_post_fee(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_escrow_terms *t,
                       uint64_t *job_id, uint64_t *gas, gt_err *err);
/* setPhases(): the client makes a funded, unclaimed job naming no provider a
 * timed one (each claim submitted within submit_s, each submission judged
 * within verify_s; contracts/JobEscrow.sol). */
int gt_escrow_set_phases(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, uint64_t job_id,
                         uint64_t submit_s, uint64_t verify_s, uint64_t *gas, gt_err *err);
/* postSubtask(): the worker holding claimed job parent_id posts a job of its
 * own naming it as parent (the ledger's subtask), funded from its wallet,
 * timed when submit_s and verify_s are given (both or neither); t's provider
 * must be zero and its fee 0 (refused here otherwise, sending nothing). */
int gt_escrow_post_subtask(gt_chain *c, const gt_addr *escrow, gt_chain_account *worker, uint64_t parent_id,
                           const gt_escrow_terms *t, uint64_t submit_s, uint64_t verify_s, uint64_t *job_id,
                           uint64_t *gas, gt_err *err);
/* setSeats(): the client lets each worker claim a funded, never-claimed timed
 * job up to seats_per_worker times over its life (1 to 64; a claim after the
 * job reopened under that worker), the embedded ledger's seatsPerWorker. */
int gt_escrow_set_seats(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, uint64_t job_id,
                        uint64_t seats_per_worker, uint64_t *gas, gt_err *err);
/* postTimed(): post() and setPhases(submit_s, verify_s) in one transaction
 * (the cheaper timed job); t's provider must be zero and its fee 0 (refused
 * here otherwise, sending nothing). */
int gt_escrow_post_timed(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_escrow_terms *t,
                         uint64_t submit_s, uint64_t verify_s, uint64_t *job_id, uint64_t *gas, gt_err *err);
/* postQuorum(): a timed job (submit_s, verify_s) judged by a round of the
 * court's validators (contracts/DisputeCourt.sol): `quorum` (1 to 16) voters
 * at least on the deciding side; the fee (0, or at most the stake) is the
 * deciding voters'. t's provider and evaluator must be zero (anyone works;
 * the court is the evaluator): refused here otherwise, sending nothing. The
 * client must have approved the escrow for budget + fee. */
int gt_escrow_post_quorum(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_escrow_terms *t,
                          uint64_t submit_s, uint64_t verify_s, uint64_t quorum, uint64_t *job_id, uint64_t *gas,
                          gt_err *err);
/* A task's slots for postSlots: how many (1 to 64), the claims one worker
 * may make over the task's life (0 meaning 1, at most 64), the phase
 * windows (0, 0: untimed), and the units of each slot for per-unit verdicts
 * (batch_items; 0: none) with those of the last one (last_batch_items; 0:
 * batch_items), the embedded ledger's batchItems and lastBatchItems; a
 * quorum (1 to 16; 0: none) makes it a quorum task (postQuorumSlots): each
 * slot timed and judged by the court's round, t's evaluator unused. */
typedef struct gt_escrow_slots {
    uint64_t slots, seats_per_worker, submit_s, verify_s, batch_items, last_batch_items, quorum;
} gt_escrow_slots;
/* postSlots() (postQuorumSlots() with s->quorum): a task of s->slots jobs with consecutive ids, each with t's
 * budget, stake and fee (0, or at most the stake; the evaluator must not be
 * the client then); *task_id is the first job's id. t's provider must be
 * zero. The client must have approved the escrow for (budget + fee) *
 * slots. */
int gt_escrow_post_slots(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_escrow_terms *t,
                         const gt_escrow_slots *s, uint64_t *task_id, uint64_t *gas, gt_err *err);
/* verifyUnits(): the evaluator's per-unit verdict on a submitted slot posted
 * with units (the embedded ledger's task_verify_partial): accepted of total,
 * total exactly the slot's units; all accepted completes the job, none
 * rejects it, part of them is a rejection bonding the rejected units' share
 * of the stake that settles pro rata once it stands (contracts/JobEscrow.sol).
 * reason (NULL: zero) is needed when any unit is rejected. */
int gt_escrow_verify_units(gt_chain *c, const gt_addr *escrow, gt_chain_account *evaluator, uint64_t job_id,
                           uint64_t accepted, uint64_t total, const uint8_t reason[32], uint64_t *gas, gt_err *err);
/* unitsOf(): a slot's units (0: posted without) and the units accepted by a
 * per-unit verdict that accepted part of them (0: none). */
int gt_escrow_units(gt_chain *c, const gt_addr *escrow, uint64_t job_id, uint64_t *total, uint64_t *accepted,
                    gt_err *err);
/* claimTask() (cancel 0: a worker takes the task's lowest open slot, within
 * its seats on the task) or cancelTask() (cancel 1: the client ends a task
 * no one ever claimed, every funded slot's budget back). */
int gt_escrow_task_do(gt_chain *c, const gt_addr *escrow, gt_chain_account *a, int cancel, uint64_t task_id,
                      uint64_t *gas, gt_err *err);
int gt_escrow_do(gt_chain *c, const gt_addr *escrow, gt_chain_account *a, gt_escrow_step step, uint64_t job_id,
                 const uint8_t tag[32], uint64_t *gas, gt_err *err);
int gt_escrow_get(gt_chain *c, const gt_addr *escrow, uint64_t job_id, gt_escrow_job *out, gt_err *err);
const char *gt_escrow_status_name(gt_escrow_status s);
/* A job's phase deadlines (phasesOf): zero seconds for an untimed job; due_s
 * the running phase's end (0: none running). */
typedef struct gt_escrow_phase { uint64_t submit_s, verify_s, due_s; } gt_escrow_phase;
int gt_escrow_phases(gt_chain *c, const gt_addr *escrow, uint64_t job_id, gt_escrow_phase *out, gt_err *err);
/* The end of a rejection's dispute window (appealUntil; 0: no rejection open
 * to a dispute or to finalize). */
int gt_escrow_appeal_until(gt_chain *c, const gt_addr *escrow, uint64_t job_id, uint64_t *until_s, gt_err *err);
#endif
