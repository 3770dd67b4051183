/* escrow_errors.c: JobEscrow's custom errors to their messages (see escrow_errors.h). */
#include "chain/escrow_errors.h"

#include <assert.h>
#include <string.h>

#include "chain/abi.h"

/* One row per `error` in contracts/JobEscrow.sol; the message is the comment
 * above its declaration, word for word. */
static const gt_escrow_error ERRORS[] = {
    {"TokenIsZeroAddress()", "escrow: token is the zero address"},
    {"HookHasNoCode()", "escrow: the hook has no code (a contract implementing IACPHook, or the zero address)"},
    {"HookedJobTakesNoStake()", "escrow: a job with a hook takes no stake (its hook could block the worker's submit)"},
    {"DescriptionTooLong()", "escrow: description over 4096 bytes"},
    {"OnlyClientSetsProvider()", "escrow: only the client sets the provider"},
    {"JobNotOpen()", "escrow: the job is not open"},
    {"ProviderAlreadySet()", "escrow: the provider is already set"},
    {"ProviderIsZeroAddress()", "escrow: provider is the zero address"},
    {"OnlyClientOrProviderSetsBudget()", "escrow: only the client or the provider sets the budget"},
    {"OnlyClientFunds()", "escrow: only the client funds the job"},
    {"BudgetNotExpected()", "escrow: the budget is not the expected one"},
    {"BudgetIsZero()", "escrow: the budget is zero"},
    {"JobHasExpired()", "escrow: the job has expired"},
    {"JobNotFunded()", "escrow: the job is not funded"},
    {"OnlyProviderSubmits()", "escrow: only the provider submits"},
    {"ProviderNotClaimed()", "escrow: the provider has not claimed the job with its stake"},
    {"SubmitDeadlinePassed()", "escrow: the submit deadline has passed"},
    {"OnlyEvaluatorCompletes()", "escrow: only the evaluator completes"},
    {"JobNotSubmitted()", "escrow: the job is not submitted"},
    {"OnlyClientRejectsOpenJob()", "escrow: only the client rejects an open job"},
    {"JobAlreadySettled()", "escrow: the job is already settled"},
    {"OnlyEvaluatorRejectsFundedJob()", "escrow: only the evaluator rejects a funded job"},
    {"QuorumVotesWholeResults()", "escrow: a quorum votes on whole results (the court's vote), not per unit"},
    {"OnlyEvaluatorVerifies()", "escrow: only the evaluator verifies"},
    {"JobHasNoUnits()", "escrow: the job was posted without batchItems, so it takes no per-unit verdict"},
    {"TotalNotSlotUnits()", "escrow: total must be the units the slot holds (batchItems of the task)"},
    {"AcceptedOverTotal()", "escrow: accepted is more than total"},
    {"RejectingUnitsNeedsReason()", "escrow: rejecting units needs a reason (the hash of a reason blob)"},
    {"NoRejectionToDispute()", "escrow: no rejection open to dispute"},
    {"OnlyRejectedWorkerDisputes()", "escrow: only the rejected worker disputes"},
    {"DisputeWindowClosed()", "escrow: the dispute window has closed"},
    {"NoRejectionWaiting()", "escrow: no rejection waiting for its window"},
    {"DisputeWindowStillOpen()",
     "escrow: the dispute window is still open (only the worker may settle before it closes)"},
    {"OnlyCourtSettlesDisputes()", "escrow: only the court settles disputes"},
    {"JobNotDisputed()", "escrow: the job is not disputed"},
    {"UnknownOutcome()", "escrow: unknown outcome"},
    {"NothingToRefund()", "escrow: nothing to refund (not funded, or settled)"},
    {"JobNotExpiredYet()", "escrow: the job has not expired yet"},
    {"ClaimedTimedJobEndsByPhases()",
     "escrow: a claimed timed job ends by its phase deadlines (timeout), not its expiry"},
    {"JobHasNoPhases()", "escrow: the job has no phase deadlines"},
    {"NoPhaseDeadlinePassed()", "escrow: no phase deadline has passed"},
    {"JobNotWaitingOnPhase()", "escrow: the job is not waiting on a phase"},
    {"OnlyCourtOnSubmittedQuorumJob()", "escrow: only the court, on a submitted quorum job"},
    {"QuorumDeadlineIsCourts()", "escrow: a submitted quorum job's deadline is the court's (closeUnjudged)"},
    {"OnlyClientSetsPhases()", "escrow: only the client sets the phases"},
    {"JobNotFundedAndUnclaimed()", "escrow: the job is not funded and unclaimed"},
    {"OnlyClientSetsSeats()", "escrow: only the client sets the seats"},
    {"JobNotFundedAndNeverClaimed()", "escrow: the job is not funded and never claimed"},
    {"SeatsNeedTimedJob()", "escrow: seats are for a timed job (a task's slots: postSlots)"},
    {"SeatsPerWorkerOutOfRange()", "escrow: seatsPerWorker must be 1 to 64"},
    {"NoClaimedSlotOfParent()", "escrow: the sender holds no claimed slot of the parent job"},
    {"FeeIsZero()", "escrow: the fee is zero (use post)"},
    {"StakeBelowFee()", "escrow: the stake must cover the fee (a rejected worker pays it from its stake)"},
    {"SelfJudgedJobHasNoFee()", "escrow: a job its client judges has no fee"},
    {"QuorumNeedsCourt()", "escrow: quorum jobs need a court"},
    {"QuorumNeedsStake()", "escrow: a quorum job asks a stake (its panel's least stake)"},
    {"OnlyClientSetsStake()", "escrow: only the client sets the stake"},
    {"SlotsOutOfRange()", "escrow: a task has 1 to 64 slots"},
    {"TaskSeatsPerWorkerOutOfRange()", "escrow: seatsPerWorker must be 0 (meaning 1) to 64"},
    {"LastBatchItemsNeedsBatchItems()", "escrow: lastBatchItems needs batchItems (the units of every other slot)"},
    {"BatchItemsOutOfRange()",
     "escrow: batchItems must be at most MAX_UNITS, and a unit at least a base unit of budget and stake"},
    {"LastBatchItemsOutOfRange()", "escrow: lastBatchItems must be 1 to batchItems, or 0 meaning batchItems"},
    {"NoSuchTask()", "escrow: no such task"},
    {"TaskCancelledTakesNoClaims()", "escrow: the task takes no claims: it is cancelled"},
    {"SeatsOnTaskUsed()",
     "escrow: this worker already had its seats on the task (seatsPerWorker claims over its life)"},
    {"NoFreeSlot()", "escrow: all slots of the task are taken or settled"},
    {"OnlyClientCancelsTask()", "escrow: only the client cancels the task"},
    {"TaskAlreadyCancelled()", "escrow: the task is cancelled"},
    {"TaskClaimedCannotCancel()", "escrow: the task has been claimed: it cannot be cancelled"},
    {"SlotNeedsClaimTask()", "escrow: a slot of a task is claimed with claimTask"},
    {"JobAlreadyClaimed()", "escrow: the job is already claimed"},
    {"JobNamesAnotherProvider()", "escrow: the job names another provider"},
    {"ClientOrEvaluatorMayNotWork()", "escrow: the client or the evaluator may not work on the job"},
    {"StakedJobNeedsEvaluator()",
     "escrow: a job that asks a stake needs an evaluator other than its client (or a court)"},
    {"OpenJobNeedsStake()", "escrow: a job open to any worker asks a stake (a free claim could squat on it)"},
    {"SeatsOnJobUsed()", "escrow: this worker already had its seats on the job (one claim each unless setSeats)"},
    {"VerifyDeadlinePassed()", "escrow: the verify deadline has passed"},
    {"NamedProviderHasSingleExpiry()", "escrow: a job naming its provider has its single expiry"},
    {"PhaseSecondsOutOfRange()", "escrow: phase seconds must be 2 to 1000000 (the embedded ledger's windows)"},
    {"EvaluatorIsZeroAddress()", "escrow: evaluator is the zero address"},
    {"ClientIsOwnWorker()", "escrow: the client may not be its own worker"},
    {"ExpiredAtNotFuture()", "escrow: expiredAt must be a future unix time"},
    {"ExpiryTooFar()", "escrow: expiredAt must be at most 31622400 s (366 days) after the block's time"},
    {"NoSuchJob()", "escrow: no such job"},
    {"AmountOver64Bits()", "escrow: amount over 2^64 - 1"},
    {"TokenTransferFromFailed()", "escrow: token transferFrom failed"},
    {"TokenTransferFailed()", "escrow: token transfer failed"},
};

const gt_escrow_error *gt_escrow_errors(size_t *n) {
    /* The table and its length; nothing to assume. */
    assert(n);
    *n = sizeof ERRORS / sizeof ERRORS[0];
    return ERRORS;
}

const char *gt_escrow_error_message(const uint8_t sel[4]) {
    /* Hashes each signature as it looks (a revert is rare, and ~80 keccaks of
     * short strings cost microseconds): no cached state, nothing to share
     * between threads, and a row added is a row found. */
    assert(sel);
    for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++) {
        uint8_t s[4];
        gt_abi_selector(ERRORS[i].signature, s);
        if (!memcmp(s, sel, 4)) return ERRORS[i].message;
    }
    return NULL;
}
