// SPDX-License-Identifier: MIT
// JobEscrow: gotong's market on an EVM chain. A job is an escrowed budget in
// one ERC-20 token, with the ERC-8183 (Agentic Commerce) interface: createJob,
// setProvider, setBudget, fund, submit, complete / reject with a reason, and
// claimRefund after expiry. gotong's rules extend it:
//   - the worker stakes: a job may ask for a stake (setStake, or post's
//     argument); the worker locks it when it claims the job (claim), and only a
//     worker that claimed may submit;
//   - verification: the evaluator (gotong's verifier, which re-executes the
//     work) completes the job, paying the worker the budget and its stake
//     back, or rejects it; a rejected submission's stake is slashed to the
//     client with the budget refunded (the embedded ledger's rule); so a job
//     that asks a stake must have an evaluator other than its client, unless
//     the escrow has a court (then, as on the embedded ledger, a poster may
//     judge its own job: its rejection bonds the stake and may be disputed);
//   - timeouts: after expiredAt anyone may call claimRefund; the client gets
//     the budget back; a worker that claimed and never submitted loses its
//     stake to the client (timeouts slash), one that submitted and was never
//     judged gets its stake back (the silence was not its fault);
//   - per-phase deadlines (setPhases, the embedded ledger's submit and verify
//     windows, for a funded job naming no provider): each claim must be
//     submitted within submitSeconds, each submission judged within
//     verifySeconds; once a phase's end passes anyone may call timeout: a
//     missed submission slashes the stake to the client and reopens the job
//     to any worker but the one that missed it (or to it too, while it has
//     seats left: setSeats, the ledger's seatsPerWorker); a missed verdict
//     ends the job with nobody paid (budget and fee back to the client, stake
//     back to the worker). expiredAt then bounds only the claim. A rejection
//     of a timed job that stands (finalized, or upheld by the court) while
//     expiredAt is still ahead reopens it the same way (the ledger's slot
//     reopening): the stake slashed, the evaluator's fee (if any) out of it
//     and the rest to the client, the budget and the escrowed fee kept for
//     the next worker;
//   - post: create and fund in one transaction, the description kept off
//     chain (its hash in the event), the cheap path the gas figure is for.
//   - the evaluator's fee (postWithFee, the embedded ledger's evaluator
//     policy): escrowed with the budget, at most the stake; paid to the
//     evaluator for a verdict: on completion from the escrow, on a final
//     rejection out of the slashed stake (the escrowed fee then goes back to
//     the client with the budget, or stays for the next verdict when the job
//     reopens); no verdict (an expiry), no fee; an
//     evaluator whose rejection the court overturns forfeits it to the client.
//   - disputes (when the escrow was deployed with a DisputeCourt): the
//     evaluator's rejection of a staked, submitted job bonds the job's stake
//     from the evaluator and holds the money for the court's dispute window;
//     the worker may dispute in it (bonding the same amount), and the court's
//     drawn panel decides (contracts/DisputeCourt.sol); undisputed, anyone
//     finalises the rejection after the window (stake slashed to the client,
//     the evaluator's bond back). With no court a rejection is final at once.
//   - postTimed: post and setPhases in one transaction (the timed lifecycle's
//     gas figure is for it).
//   - postSubtask: the worker holding a claimed job posts a job of its own
//     (funded from its wallet) naming that job as its parent: the ledger's
//     subtask, refused to anyone else.
//   - tasks of slots (postSlots, the embedded ledger's multi-slot task, 1
//     to 64 slots): slots jobs with consecutive ids, the first one's id the
//     task's, funded in one transaction (budget + fee each), each one
//     worker's, judged and paid on its own, each with the evaluator's fee
//     (if any) under postWithFee's rules, and each holding the units its
//     client committed (batchItems, lastBatchItems for the last slot). A
//     worker takes the lowest open slot with claimTask (claim() of a slot
//     is refused) and has seatsPerWorker seats (claims) on a task over
//     the task's whole life, 1 unless the client allows more (up to 64, the
//     embedded ledger's rule); with every slot taken a claim is refused. The client may cancel a task
//     no one ever claimed (cancelTask): every slot's budget back.
//   - quorum jobs (postQuorum, the embedded ledger's quorum policy; needs a
//     court): a timed job whose evaluator is the court: a claim opens the
//     court's round (its panel of validators with at least the job's stake),
//     the submission opens its vote until the verify deadline, and the
//     panel's deciding vote completes or rejects the job through the court.
//     A quorum rejection is final (no dispute): the worker's stake pays the
//     fee to the court (for the winning voters) and the rest to the client;
//     while the claim window (expiredAt) is open the job reopens to other
//     workers with its escrowed fee for the next round (the ledger's slot
//     reopening), else it ends with budget and fee back to the client.
//     The verify deadline is the court's: its closeUnjudged tallies the
//     votes (a side holding more than half of the panel's weight decides)
//     and gives the verdict, or the timeout (refused from anyone else),
//     itself; a sealed round (the court's commit and reveal) runs past the
//     verify deadline to its reveal deadline (setVerifyDue). A quorum task of several
//     slots (postQuorumSlots) is a task whose every slot is such a job, and
//     no worker the task ever had sits on a panel of its slots (hadSeat).
//   - per-unit verdicts (verifyUnits, the embedded ledger's
//     task_verify_partial): the evaluator of a slot posted with units names
//     accepted of its total units (total exactly the committed units;
//     rejecting any needs a reason). All accepted: complete(). None: reject().
//     Otherwise a rejection whose bond is the rejected units' share of the
//     stake, floor(stake x rejected / total), disputable as any; once it
//     stands (finalize, or a dispute lost or undecided) the job completes
//     pro rata and for good: the worker gets floor(budget x accepted / total)
//     and its stake less the bond's amount, the client the rest of the
//     budget and that amount, the evaluator its fee and its bond back. A
//     dispute won pays the worker in full, as after a reject().
//   - the worker may finalize its own rejection before the dispute window
//     closes (giving up its dispute), as on the embedded ledger.
// Hooks (ERC-8183's optional extension): createJob may name a hook contract
// (IACPHook; zero: none), kept for the job (hookOf). setProvider, setBudget,
// fund, submit, complete and reject call its beforeAction first (before any
// check reads the job, so a hook that re-enters the escrow changes nothing
// the action then relies on: the checks see what it did) and its afterAction
// last (after every effect and transfer), with the function's selector and
// its arguments encoded as ERC-8183 says; either may revert, and so block
// the action (the hook is the client's policy). claimRefund and timeout
// (anyone's recovery of escrowed money) and gotong's own steps (claim,
// dispute, finalize, the court's) never call it, so a hook cannot keep a
// client's money past expiry. A job with a hook takes no stake (setStake is
// refused): its hook could block the worker's submit, and a claim that is
// never submitted loses its stake to the client.
// Storage: a job, timed or not, packs into three slots, each step reading or
// writing only slots it already touches (the gas goal of 300 k per timed
// lifecycle): amounts fit 64 bits (1.8e19 base units: 1.8e13 tokens of 6
// decimals, the embedded ledger's unit; gotong's C client holds 64-bit
// amounts too), times 40 bits (unix seconds to the year 36812), and the phase
// seconds sit in the slot of the step that needs them (submitSeconds with the
// evaluator, read by claim; verifySeconds with the provider, read by submit).
// A fee, an open appeal, the seats already had and a per-unit verdict's
// count live in their own mappings, read only when a flag of the job's first
// slot says they are there (a slot's units: read by verifyUnits only).
pragma solidity 0.8.37;

interface IDisputeCourt {
    function disputeWindowS() external view returns (uint256);
    function open(uint256 jobId, address client, address provider, address evaluator) external;
    function setQuorum(uint256 jobId, uint256 quorum) external;
    function openRound(uint256 jobId, address client, address worker, uint256 minStake) external;
    function setRoundEnd(uint256 jobId, uint256 endS) external;
}

// ERC-8183's hook interface.
interface IACPHook {
    function beforeAction(uint256 jobId, bytes4 selector, bytes calldata data) external;
    function afterAction(uint256 jobId, bytes4 selector, bytes calldata data) external;
}

interface IERC20 {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

contract JobEscrow {
    enum Status { Open, Funded, Submitted, Completed, Rejected, Expired, Disputed }

    struct Job {
        address client;        // slot 0
        uint40 expiredAt;
        Status status;
        uint8 flags;           // CLAIMED | TIMED | HAS_FEE | RESEATED | SLOT | QUORUM | PARTIAL | HOOKED
        uint40 due;            // a timed job's running phase's end (0: none running)
        address provider;      // slot 1
        uint64 budget;
        uint32 verifySeconds;  // a timed job's verify window (0: untimed)
        address evaluator;     // slot 2
        uint64 stake;
        uint32 submitSeconds;  // a timed job's submit window (0: untimed)
    }
    uint8 private constant CLAIMED = 1;  // the worker locked its stake
    uint8 private constant TIMED = 2;    // per-phase deadlines (setPhases / postTimed)
    uint8 private constant HAS_FEE = 4;  // feeOf holds the evaluator's fee
    uint8 private constant RESEATED = 8; // seatsHad holds a worker for this job
    uint8 private constant SLOT = 16;    // a slot of a task (postSlots): claimed through claimTask
    uint8 private constant QUORUM = 32;  // the court's quorum round judges it (postQuorum)
    uint8 private constant PARTIAL = 64; // a per-unit verdict that accepted some units is its rejection (unitsOf)
    uint8 private constant HOOKED = 128; // hookOf holds its ERC-8183 hook (createJob)

    uint256 public constant MAX_SLOTS = 64; // the embedded ledger's bound too
    uint256 public constant MAX_UNITS = 1000000; // units of one per-unit verdict (GT_MARKET_MAX_UNITS)
    // A phase's seconds, as the embedded ledger bounds its windows (GT_MARKET_MIN_WINDOW_S, GT_MARKET_MAX_WINDOW_S):
    // a 1-s submit window no worker meets (its stake slashed by timeout), a verify window of years holding a
    // worker's stake that long behind a silent evaluator (a claimed timed job ends only by its phases).
    uint256 public constant MIN_PHASE_S = 2;
    uint256 public constant MAX_PHASE_S = 1000000;
    // A job's expiry at most this far after the block that opens it (366 days, `gotong chain post/hire`'s
    // --expires-s bound): an untimed job's claim holds the worker's stake until its expiry when the evaluator is
    // silent, and the budget sits in escrow until then; uncapped, a poster could lock either until the year 36812.
    uint256 public constant MAX_EXPIRY_S = 31622400;
    // postSlots' terms (a struct: one stack slot for twelve arguments). The
    // fee (0, or at most the stake; none when the client judges) is each
    // slot's; batchItems the units of each slot (0: no per-unit verdicts),
    // lastBatchItems those of the last one (0: batchItems).
    struct SlotTerms {
        address evaluator;
        uint256 expiredAt;
        bytes32 descriptionHash;
        uint256 budget;
        uint256 stake;
        uint256 fee;
        uint256 slots;
        uint256 seatsPerWorker;
        uint256 submitSeconds;
        uint256 verifySeconds;
        uint256 batchItems;
        uint256 lastBatchItems;
    }
    // A slot's units (total, committed at post; 0: none) and how many a
    // per-unit verdict that accepted part of them accepted (0: none; kept as a
    // record once the job completes, in part or, after a dispute won, in full).
    struct Units {
        uint64 total;
        uint64 accepted;
    }
    mapping(uint256 => Units) public unitsOf;
    // A task of several slots, keyed by its first job's id.
    struct Task {
        uint32 slots;
        bool cancelled;
        bool claimedOnce;      // a cancel is refused once any slot was claimed
        uint32 seatsPerWorker; // claims one worker may make over the task's life
    }
    mapping(uint256 => Task) public tasks;
    // The claims each worker made on a task.
    mapping(uint256 => mapping(address => uint256)) public seats;

    uint256 public constant MAX_DESCRIPTION_BYTES = 4096;
    IERC20 public immutable token;
    IDisputeCourt public immutable court; // zero: rejections are final
    uint256 public jobCount;
    mapping(uint256 => Job) private jobs;
    // A rejection waiting for its dispute window: when the window closes.
    mapping(uint256 => uint256) public appealUntil;
    // The evaluator's fee of a job posted with one (postWithFee); zero otherwise.
    mapping(uint256 => uint256) public feeOf;
    // The seats (claims) each worker had on a timed job that reopened under it
    // (it missed its submit deadline, or its rejection stood): one claim each
    // per job unless the client allowed more (seatsOf, setSeats).
    mapping(uint256 => mapping(address => uint256)) private seatsHad;
    // The task of a quorum task's slot (postQuorumSlots); zero: none.
    mapping(uint256 => uint256) private taskOf;
    // The claims one worker may make on a timed job over its life (0: one),
    // the embedded ledger's seatsPerWorker for a task of one slot.
    mapping(uint256 => uint256) public seatsOf;
    // The ERC-8183 hook of a job created with one (createJob); zero: none.
    mapping(uint256 => address) public hookOf;
    // The parent job of a subtask (postSubtask); zero: none.
    mapping(uint256 => uint256) public parentOf;

    // ERC-8183's events.
    event JobCreated(uint256 indexed jobId, address indexed client, address indexed provider,
                     address evaluator, uint256 expiredAt);
    event ProviderSet(uint256 indexed jobId, address indexed provider);
    event BudgetSet(uint256 indexed jobId, uint256 amount);
    event JobFunded(uint256 indexed jobId, address indexed client, uint256 amount);
    event JobSubmitted(uint256 indexed jobId, address indexed provider, bytes32 deliverable);
    event JobCompleted(uint256 indexed jobId, address indexed evaluator, bytes32 reason);
    event JobRejected(uint256 indexed jobId, address indexed rejector, bytes32 reason);
    event JobExpired(uint256 indexed jobId);
    event PaymentReleased(uint256 indexed jobId, address indexed provider, uint256 amount);
    event Refunded(uint256 indexed jobId, address indexed client, uint256 amount);
    // gotong's extension.
    event JobPosted(uint256 indexed jobId, bytes32 descriptionHash, uint256 stake);
    event StakeSet(uint256 indexed jobId, uint256 amount);
    event JobClaimed(uint256 indexed jobId, address indexed provider, uint256 stake);
    event StakeSlashed(uint256 indexed jobId, address indexed provider, uint256 amount);
    event StakeReturned(uint256 indexed jobId, address indexed provider, uint256 amount);
    event AppealOpened(uint256 indexed jobId, address indexed rejecter, uint256 bond, uint256 until);
    event JobDisputed(uint256 indexed jobId, address indexed provider, uint256 bond);
    event DisputeSettled(uint256 indexed jobId, uint8 outcome);
    event FeeSet(uint256 indexed jobId, uint256 fee);
    event FeePaid(uint256 indexed jobId, address indexed evaluator, uint256 fee);
    event PhasesSet(uint256 indexed jobId, uint256 submitSeconds, uint256 verifySeconds);
    event SubmitMissed(uint256 indexed jobId, address indexed provider, uint256 slashed);
    event VerifyMissed(uint256 indexed jobId, address indexed evaluator);
    event JobReopened(uint256 indexed jobId, address indexed previousProvider);
    event SeatsSet(uint256 indexed jobId, uint256 seatsPerWorker);
    event SubtaskPosted(uint256 indexed parentId, uint256 indexed jobId, address indexed worker);
    event TaskPosted(uint256 indexed taskId, uint256 slots);
    event TaskCancelled(uint256 indexed taskId);

    // Its refusals: one custom error each, 4 bytes of selector where a string
    // cost its length in code. The comment above each is the message a user
    // reads: src/chain/escrow_errors.c maps the selector back to it, and
    // test_abi_decode checks that the two agree.
    /// escrow: token is the zero address
    error TokenIsZeroAddress();
    /// escrow: the hook has no code (a contract implementing IACPHook, or the zero address)
    error HookHasNoCode();
    /// escrow: a job with a hook takes no stake (its hook could block the worker's submit)
    error HookedJobTakesNoStake();
    /// escrow: description over 4096 bytes
    error DescriptionTooLong();
    /// escrow: only the client sets the provider
    error OnlyClientSetsProvider();
    /// escrow: the job is not open
    error JobNotOpen();
    /// escrow: the provider is already set
    error ProviderAlreadySet();
    /// escrow: provider is the zero address
    error ProviderIsZeroAddress();
    /// escrow: only the client or the provider sets the budget
    error OnlyClientOrProviderSetsBudget();
    /// escrow: only the client funds the job
    error OnlyClientFunds();
    /// escrow: the budget is not the expected one
    error BudgetNotExpected();
    /// escrow: the budget is zero
    error BudgetIsZero();
    /// escrow: the job has expired
    error JobHasExpired();
    /// escrow: the job is not funded
    error JobNotFunded();
    /// escrow: only the provider submits
    error OnlyProviderSubmits();
    /// escrow: the provider has not claimed the job with its stake
    error ProviderNotClaimed();
    /// escrow: the submit deadline has passed
    error SubmitDeadlinePassed();
    /// escrow: only the evaluator completes
    error OnlyEvaluatorCompletes();
    /// escrow: the job is not submitted
    error JobNotSubmitted();
    /// escrow: only the client rejects an open job
    error OnlyClientRejectsOpenJob();
    /// escrow: the job is already settled
    error JobAlreadySettled();
    /// escrow: only the evaluator rejects a funded job
    error OnlyEvaluatorRejectsFundedJob();
    /// escrow: a quorum votes on whole results (the court's vote), not per unit
    error QuorumVotesWholeResults();
    /// escrow: only the evaluator verifies
    error OnlyEvaluatorVerifies();
    /// escrow: the job was posted without batchItems, so it takes no per-unit verdict
    error JobHasNoUnits();
    /// escrow: total must be the units the slot holds (batchItems of the task)
    error TotalNotSlotUnits();
    /// escrow: accepted is more than total
    error AcceptedOverTotal();
    /// escrow: rejecting units needs a reason (the hash of a reason blob)
    error RejectingUnitsNeedsReason();
    /// escrow: no rejection open to dispute
    error NoRejectionToDispute();
    /// escrow: only the rejected worker disputes
    error OnlyRejectedWorkerDisputes();
    /// escrow: the dispute window has closed
    error DisputeWindowClosed();
    /// escrow: no rejection waiting for its window
    error NoRejectionWaiting();
    /// escrow: the dispute window is still open (only the worker may settle before it closes)
    error DisputeWindowStillOpen();
    /// escrow: only the court settles disputes
    error OnlyCourtSettlesDisputes();
    /// escrow: the job is not disputed
    error JobNotDisputed();
    /// escrow: unknown outcome
    error UnknownOutcome();
    /// escrow: nothing to refund (not funded, or settled)
    error NothingToRefund();
    /// escrow: the job has not expired yet
    error JobNotExpiredYet();
    /// escrow: a claimed timed job ends by its phase deadlines (timeout), not its expiry
    error ClaimedTimedJobEndsByPhases();
    /// escrow: the job has no phase deadlines
    error JobHasNoPhases();
    /// escrow: no phase deadline has passed
    error NoPhaseDeadlinePassed();
    /// escrow: the job is not waiting on a phase
    error JobNotWaitingOnPhase();
    /// escrow: only the court, on a submitted quorum job
    error OnlyCourtOnSubmittedQuorumJob();
    /// escrow: a submitted quorum job's deadline is the court's (closeUnjudged)
    error QuorumDeadlineIsCourts();
    /// escrow: only the client sets the phases
    error OnlyClientSetsPhases();
    /// escrow: the job is not funded and unclaimed
    error JobNotFundedAndUnclaimed();
    /// escrow: only the client sets the seats
    error OnlyClientSetsSeats();
    /// escrow: the job is not funded and never claimed
    error JobNotFundedAndNeverClaimed();
    /// escrow: seats are for a timed job (a task's slots: postSlots)
    error SeatsNeedTimedJob();
    /// escrow: seatsPerWorker must be 1 to 64
    error SeatsPerWorkerOutOfRange();
    /// escrow: the sender holds no claimed slot of the parent job
    error NoClaimedSlotOfParent();
    /// escrow: the fee is zero (use post)
    error FeeIsZero();
    /// escrow: the stake must cover the fee (a rejected worker pays it from its stake)
    error StakeBelowFee();
    /// escrow: a job its client judges has no fee
    error SelfJudgedJobHasNoFee();
    /// escrow: quorum jobs need a court
    error QuorumNeedsCourt();
    /// escrow: a quorum job asks a stake (its panel's least stake)
    error QuorumNeedsStake();
    /// escrow: only the client sets the stake
    error OnlyClientSetsStake();
    /// escrow: a task has 1 to 64 slots
    error SlotsOutOfRange();
    /// escrow: seatsPerWorker must be 0 (meaning 1) to 64
    error TaskSeatsPerWorkerOutOfRange();
    /// escrow: lastBatchItems needs batchItems (the units of every other slot)
    error LastBatchItemsNeedsBatchItems();
    /// escrow: batchItems must be at most MAX_UNITS, and a unit at least a base unit of budget and stake
    error BatchItemsOutOfRange();
    /// escrow: lastBatchItems must be 1 to batchItems, or 0 meaning batchItems
    error LastBatchItemsOutOfRange();
    /// escrow: no such task
    error NoSuchTask();
    /// escrow: the task takes no claims: it is cancelled
    error TaskCancelledTakesNoClaims();
    /// escrow: this worker already had its seats on the task (seatsPerWorker claims over its life)
    error SeatsOnTaskUsed();
    /// escrow: all slots of the task are taken or settled
    error NoFreeSlot();
    /// escrow: only the client cancels the task
    error OnlyClientCancelsTask();
    /// escrow: the task is cancelled
    error TaskAlreadyCancelled();
    /// escrow: the task has been claimed: it cannot be cancelled
    error TaskClaimedCannotCancel();
    /// escrow: a slot of a task is claimed with claimTask
    error SlotNeedsClaimTask();
    /// escrow: the job is already claimed
    error JobAlreadyClaimed();
    /// escrow: the job names another provider
    error JobNamesAnotherProvider();
    /// escrow: the client or the evaluator may not work on the job
    error ClientOrEvaluatorMayNotWork();
    /// escrow: a job that asks a stake needs an evaluator other than its client (or a court)
    error StakedJobNeedsEvaluator();
    /// escrow: a job open to any worker asks a stake (a free claim could squat on it)
    error OpenJobNeedsStake();
    /// escrow: this worker already had its seats on the job (one claim each unless setSeats)
    error SeatsOnJobUsed();
    /// escrow: the verify deadline has passed
    error VerifyDeadlinePassed();
    /// escrow: a job naming its provider has its single expiry
    error NamedProviderHasSingleExpiry();
    /// escrow: phase seconds must be 2 to 1000000 (the embedded ledger's windows)
    error PhaseSecondsOutOfRange();
    /// escrow: evaluator is the zero address
    error EvaluatorIsZeroAddress();
    /// escrow: the client may not be its own worker
    error ClientIsOwnWorker();
    /// escrow: expiredAt must be a future unix time
    error ExpiredAtNotFuture();
    /// escrow: expiredAt must be at most 31622400 s (366 days) after the block's time
    error ExpiryTooFar();
    /// escrow: no such job
    error NoSuchJob();
    /// escrow: amount over 2^64 - 1
    error AmountOver64Bits();
    /// escrow: token transferFrom failed
    error TokenTransferFromFailed();
    /// escrow: token transfer failed
    error TokenTransferFailed();

    constructor(address token_, address court_) {
        require(token_ != address(0), TokenIsZeroAddress());
        token = IERC20(token_);
        court = IDisputeCourt(court_);
    }

    // The claims `worker` had on job jobId that ended with it reopened, plus,
    // on a quorum task's slot, its claims on the task: the court seats no
    // worker the job or its task ever had.
    function hadSeat(uint256 jobId, address worker) external view returns (uint256) {
        uint256 task = taskOf[jobId];
        return seatsHad[jobId][worker] + (task == 0 ? 0 : seats[task][worker]);
    }

    function getJob(uint256 jobId) external view returns (address client, address provider, address evaluator,
            uint256 budget, uint256 stake, uint256 expiredAt, Status status, bool claimed) {
        Job storage j = known(jobId);
        return (j.client, j.provider, j.evaluator, j.budget, j.stake, j.expiredAt, j.status, isSet(j, CLAIMED));
    }

    // A timed job's per-phase deadlines (zero: untimed, the job's single
    // expiry governs): a claim must be submitted within submitSeconds, a
    // submission judged within verifySeconds; due is the running phase's end.
    function phasesOf(uint256 jobId) external view returns (uint32 submitSeconds, uint32 verifySeconds, uint64 due) {
        Job storage j = known(jobId);
        return (j.submitSeconds, j.verifySeconds, j.due);
    }

    // ---- ERC-8183 ----

    function createJob(address provider, address evaluator, uint256 expiredAt, string calldata description,
                       address hook) external returns (uint256 jobId) {
        require(bytes(description).length <= MAX_DESCRIPTION_BYTES, DescriptionTooLong());
        jobId = open(provider, evaluator, expiredAt);
        if (hook != address(0)) {
            require(hook.code.length > 0, HookHasNoCode());
            hookOf[jobId] = hook;
            jobs[jobId].flags = HOOKED;
        }
    }

    function setProvider(uint256 jobId, address provider, bytes calldata optParams) external {
        Job storage j = known(jobId);
        address hook = hookOfJob(jobId, j);
        bytes memory data;
        if (hook != address(0)) data = hookBefore(jobId, hook, abi.encode(provider, optParams));
        require(msg.sender == j.client, OnlyClientSetsProvider());
        require(j.status == Status.Open, JobNotOpen());
        require(j.provider == address(0), ProviderAlreadySet());
        require(provider != address(0), ProviderIsZeroAddress());
        j.provider = provider;
        emit ProviderSet(jobId, provider);
        hookAfter(jobId, hook, data);
    }

    function setBudget(uint256 jobId, uint256 amount, bytes calldata optParams) external {
        Job storage j = known(jobId);
        address hook = hookOfJob(jobId, j);
        bytes memory data;
        if (hook != address(0)) data = hookBefore(jobId, hook, abi.encode(amount, optParams));
        require(msg.sender == j.client || (msg.sender == j.provider && j.provider != address(0)),
                OnlyClientOrProviderSetsBudget());
        require(j.status == Status.Open, JobNotOpen());
        j.budget = fit64(amount);
        emit BudgetSet(jobId, amount);
        hookAfter(jobId, hook, data);
    }

    function fund(uint256 jobId, uint256 expectedBudget, bytes calldata optParams) external {
        Job storage j = known(jobId);
        address hook = hookOfJob(jobId, j);
        bytes memory data;
        if (hook != address(0)) data = hookBefore(jobId, hook, optParams);
        require(msg.sender == j.client, OnlyClientFunds());
        require(j.status == Status.Open, JobNotOpen());
        require(j.budget == expectedBudget, BudgetNotExpected());
        require(j.budget > 0, BudgetIsZero());
        require(block.timestamp < j.expiredAt, JobHasExpired());
        j.status = Status.Funded;
        pull(msg.sender, j.budget);
        emit JobFunded(jobId, msg.sender, j.budget);
        hookAfter(jobId, hook, data);
    }

    function submit(uint256 jobId, bytes32 deliverable, bytes calldata optParams) external {
        Job storage j = known(jobId);
        address hook = hookOfJob(jobId, j);
        bytes memory data;
        if (hook != address(0)) data = hookBefore(jobId, hook, abi.encode(deliverable, optParams));
        require(j.status == Status.Funded, JobNotFunded());
        require(msg.sender == j.provider, OnlyProviderSubmits());
        uint8 flags = j.flags; // read once: the quorum check below costs no storage read
        require(flags & CLAIMED != 0 || j.stake == 0, ProviderNotClaimed());
        if (flags & TIMED == 0) {
            require(block.timestamp < j.expiredAt, JobHasExpired());
        } else {
            require(block.timestamp < j.due, SubmitDeadlinePassed());
            j.due = uint40(block.timestamp + j.verifySeconds);
        }
        j.status = Status.Submitted;
        emit JobSubmitted(jobId, msg.sender, deliverable);
        if (flags & QUORUM != 0) court.setRoundEnd(jobId, j.due);
        hookAfter(jobId, hook, data);
    }

    // The evaluator accepts the submission: the provider gets the budget and its stake.
    function complete(uint256 jobId, bytes32 reason, bytes calldata optParams) external {
        Job storage j = known(jobId);
        address hook = hookOfJob(jobId, j);
        bytes memory data;
        if (hook != address(0)) data = hookBefore(jobId, hook, abi.encode(reason, optParams));
        require(msg.sender == j.evaluator, OnlyEvaluatorCompletes());
        require(j.status == Status.Submitted, JobNotSubmitted());
        if (isSet(j, TIMED)) inVerifyPhase(j);
        completed(jobId, j, reason);
        hookAfter(jobId, hook, data);
    }

    // complete()'s effects (the caller checked who, the state and the phase).
    function completed(uint256 jobId, Job storage j, bytes32 reason) private {
        j.status = Status.Completed;
        address provider = j.provider;
        uint256 paid = uint256(j.budget) + (isSet(j, CLAIMED) ? j.stake : 0);
        emit JobCompleted(jobId, msg.sender, reason);
        emit PaymentReleased(jobId, provider, j.budget);
        push(provider, paid);
        payFee(jobId, j, msg.sender);
    }

    // The client rejects an open job (nothing escrowed), or the evaluator a
    // funded or submitted one: the budget goes back to the client; a rejected
    // submission's stake is slashed to the client, a claim not yet submitted
    // gets its stake back.
    function reject(uint256 jobId, bytes32 reason, bytes calldata optParams) external {
        Job storage j = known(jobId);
        address hook = hookOfJob(jobId, j);
        bytes memory data;
        if (hook != address(0)) data = hookBefore(jobId, hook, abi.encode(reason, optParams));
        Status s = j.status;
        if (s == Status.Open) {
            require(msg.sender == j.client, OnlyClientRejectsOpenJob());
        } else {
            require(s == Status.Funded || s == Status.Submitted, JobAlreadySettled());
            require(msg.sender == j.evaluator, OnlyEvaluatorRejectsFundedJob());
            if (s == Status.Submitted && isSet(j, TIMED)) inVerifyPhase(j);
        }
        rejected(jobId, j, s, reason);
        hookAfter(jobId, hook, data);
    }

    // reject()'s effects from state s (the caller checked who, the state and
    // the phase).
    function rejected(uint256 jobId, Job storage j, Status s, bytes32 reason) private {
        j.status = Status.Rejected;
        emit JobRejected(jobId, msg.sender, reason);
        if (s == Status.Submitted && isSet(j, CLAIMED) && j.stake > 0 && address(court) != address(0) &&
            !isSet(j, QUORUM)) { // a quorum verdict is final
            uint256 until = block.timestamp + court.disputeWindowS();
            appealUntil[jobId] = until;
            emit AppealOpened(jobId, msg.sender, j.stake, until);
            pull(msg.sender, j.stake); // the rejecter's bond, lost if the worker wins its dispute
            return;
        }
        // A quorum rejection stands at once: a timed job whose claim window is open reopens (the stake pays
        // the fee to the court for the winning voters), any other ends.
        if (s == Status.Submitted && isSet(j, QUORUM)) return rejectionStands(jobId, j);
        if (s != Status.Open) unwind(jobId, j, s == Status.Submitted, s == Status.Submitted);
    }

    // The evaluator's per-unit verdict on a submitted slot posted with units
    // (the embedded ledger's task_verify_partial; see the header): accepted
    // of total, total exactly the units the client committed at post.
    function verifyUnits(uint256 jobId, uint256 accepted, uint256 total, bytes32 reason) external {
        Job storage j = known(jobId);
        require(!isSet(j, QUORUM), QuorumVotesWholeResults());
        require(msg.sender == j.evaluator, OnlyEvaluatorVerifies());
        require(j.status == Status.Submitted, JobNotSubmitted());
        if (isSet(j, TIMED)) inVerifyPhase(j);
        Units storage u = unitsOf[jobId];
        uint256 units = u.total;
        require(units != 0, JobHasNoUnits());
        require(total == units, TotalNotSlotUnits());
        require(accepted <= total, AcceptedOverTotal());
        if (accepted == total) return completed(jobId, j, reason);
        require(reason != 0, RejectingUnitsNeedsReason());
        if (accepted == 0) return rejected(jobId, j, Status.Submitted, reason);
        u.accepted = uint64(accepted);
        j.flags |= PARTIAL;
        j.status = Status.Rejected;
        emit JobRejected(jobId, msg.sender, reason);
        if (address(court) == address(0)) return settlePartial(jobId, j); // no court: final at once
        uint256 bond = rejectionBond(jobId, j);
        uint256 until = block.timestamp + court.disputeWindowS();
        appealUntil[jobId] = until;
        emit AppealOpened(jobId, msg.sender, bond, until);
        pull(msg.sender, bond); // the rejected units' share of the stake, lost if the worker wins its dispute
    }

    // The rejected worker appeals to the court, bonding the job's stake.
    function dispute(uint256 jobId) external {
        Job storage j = known(jobId);
        uint256 until = appealUntil[jobId];
        require(j.status == Status.Rejected && until != 0, NoRejectionToDispute());
        require(msg.sender == j.provider, OnlyRejectedWorkerDisputes());
        require(block.timestamp < until, DisputeWindowClosed());
        appealUntil[jobId] = 0;
        j.status = Status.Disputed;
        emit JobDisputed(jobId, msg.sender, j.stake);
        pull(msg.sender, j.stake);
        court.open(jobId, j.client, j.provider, j.evaluator);
    }

    // Anyone, after an undisputed dispute window, or the rejected worker at
    // once (giving up its dispute, as on the embedded ledger): the rejection
    // settles, the rejecter's bond back.
    function finalize(uint256 jobId) external {
        Job storage j = known(jobId);
        uint256 until = appealUntil[jobId];
        require(j.status == Status.Rejected && until != 0, NoRejectionWaiting());
        require(block.timestamp >= until || msg.sender == j.provider,
                DisputeWindowStillOpen());
        appealUntil[jobId] = 0;
        uint256 bond = rejectionBond(jobId, j);
        rejectionStands(jobId, j);
        push(j.evaluator, bond);
    }

    // The court's outcome (DisputeCourt.OUTCOME_*): 1 the worker won, 0 the
    // rejection stands, 2 no decision. Returns the loser's bond, sent to the
    // court for the winning judges.
    function settleDispute(uint256 jobId, uint8 outcome) external returns (uint256 bondToJudges) {
        Job storage j = known(jobId);
        require(msg.sender == address(court), OnlyCourtSettlesDisputes());
        require(j.status == Status.Disputed, JobNotDisputed());
        require(outcome <= 2, UnknownOutcome());
        uint256 bond = j.stake; // the worker's dispute bond
        uint256 rbond = rejectionBond(jobId, j);
        emit DisputeSettled(jobId, outcome);
        if (outcome == 1) { // paid in full as if completed, its bond back; the rejecter's bond to the judges
            j.status = Status.Completed;
            emit JobCompleted(jobId, msg.sender, bytes32("dispute won"));
            emit PaymentReleased(jobId, j.provider, j.budget);
            push(j.provider, uint256(j.budget) + 2 * bond);
            push(msg.sender, rbond);
            refundFee(jobId, j); // the wrongful rejecter forfeits its fee
            return rbond;
        }
        address provider = j.provider;
        j.status = Status.Rejected;
        rejectionStands(jobId, j); // a per-unit verdict's: settled pro rata
        push(j.evaluator, rbond);
        if (outcome == 0) {
            push(msg.sender, bond);
            return bond;
        }
        push(provider, bond);
        return 0;
    }

    // After expiry, anyone may return an unsettled job's budget to its client.
    function claimRefund(uint256 jobId) external {
        Job storage j = known(jobId);
        Status s = j.status;
        require(s == Status.Funded || s == Status.Submitted, NothingToRefund());
        require(block.timestamp >= j.expiredAt, JobNotExpiredYet());
        require(!isSet(j, CLAIMED) || !isSet(j, TIMED),
                ClaimedTimedJobEndsByPhases());
        j.status = Status.Expired;
        emit JobExpired(jobId);
        unwind(jobId, j, s == Status.Funded, false);
    }

    // A timed job's running phase ended (anyone may call, as a keeper). A
    // claim not submitted in time: the stake is slashed to the client and the
    // job reopens to any other worker. A submission not judged in time: the
    // job ends with nobody paid: budget and fee back to the client, the stake
    // back to the worker.
    function timeout(uint256 jobId) external {
        Job storage j = known(jobId);
        require(isSet(j, TIMED), JobHasNoPhases());
        require(j.due != 0 && block.timestamp >= j.due, NoPhaseDeadlinePassed());
        if (j.status == Status.Submitted) {
            // A quorum round's votes are tallied at its deadline first (a side holding more than half of the
            // panel decides), so only the court, finding no such side, times the job out.
            require(!isSet(j, QUORUM) || msg.sender == address(court), QuorumDeadlineIsCourts());
            j.status = Status.Expired;
            emit VerifyMissed(jobId, j.evaluator);
            unwind(jobId, j, false, false);
            return;
        }
        require(j.status == Status.Funded && isSet(j, CLAIMED), JobNotWaitingOnPhase());
        emit SubmitMissed(jobId, j.provider, j.stake);
        if (block.timestamp >= j.expiredAt) { // no claim could follow: the slot ends, stake slashed
            j.status = Status.Expired;
            emit JobExpired(jobId);
            return unwind(jobId, j, true, false);
        }
        reopen(jobId, j, false);
    }

    // The court, on a submitted quorum job whose round a commitment sealed:
    // the verify deadline becomes `due`. Never (2^40 - 1) while the court's
    // reveal window follows the verify window (the court gives the verdict);
    // the time of the close when the sealed round ended undecided, so that
    // the court's timeout call refunds the job.
    function setVerifyDue(uint256 jobId, uint256 due) external {
        Job storage j = known(jobId);
        require(msg.sender == address(court) && isSet(j, QUORUM) && j.status == Status.Submitted,
                OnlyCourtOnSubmittedQuorumJob());
        j.due = uint40(due);
    }

    // Makes a funded, unclaimed job naming no provider a timed one: each claim
    // must be submitted within submitSeconds and each submission judged within
    // verifySeconds (the job's expiry then bounds only the claim).
    function setPhases(uint256 jobId, uint256 submitSeconds, uint256 verifySeconds) external {
        Job storage j = known(jobId);
        require(msg.sender == j.client, OnlyClientSetsPhases());
        require(j.status == Status.Funded && !isSet(j, CLAIMED), JobNotFundedAndUnclaimed());
        makeTimed(jobId, j, submitSeconds, verifySeconds);
    }

    // Lets each worker claim a funded, unclaimed timed job up to seatsPerWorker
    // times over its life (a claim after its seat reopened: a rejection that
    // stood, a missed submit deadline), 1 to MAX_SLOTS; without it, once.
    function setSeats(uint256 jobId, uint256 seatsPerWorker) external {
        Job storage j = known(jobId);
        require(msg.sender == j.client, OnlyClientSetsSeats());
        require(j.status == Status.Funded && !isSet(j, CLAIMED) && !isSet(j, RESEATED),
                JobNotFundedAndNeverClaimed());
        require(isSet(j, TIMED) && !isSet(j, SLOT), SeatsNeedTimedJob());
        require(seatsPerWorker >= 1 && seatsPerWorker <= MAX_SLOTS, SeatsPerWorkerOutOfRange());
        seatsOf[jobId] = seatsPerWorker;
        emit SeatsSet(jobId, seatsPerWorker);
    }

    // ---- gotong's extension ----

    // createJob + setBudget + setStake + fund in one: the description lives off chain.
    function post(address provider, address evaluator, uint256 expiredAt, bytes32 descriptionHash,
                  uint256 budget, uint256 stake) external returns (uint256 jobId) {
        jobId = posted(provider, evaluator, expiredAt, descriptionHash, budget, stake);
    }

    // post() of a timed job: setPhases(submitSeconds, verifySeconds) in the
    // same transaction (so the job names no provider).
    function postTimed(address evaluator, uint256 expiredAt, bytes32 descriptionHash, uint256 budget,
                       uint256 stake, uint256 submitSeconds, uint256 verifySeconds) external returns (uint256 jobId) {
        jobId = posted(address(0), evaluator, expiredAt, descriptionHash, budget, stake);
        makeTimed(jobId, jobs[jobId], submitSeconds, verifySeconds);
    }

    // A worker holding a claimed, unsubmitted job subcontracts part of it (the
    // embedded ledger's subtask): a job it posts and funds from its own wallet,
    // timed when the phase seconds are given (both or neither), that names
    // the parent (parentOf, SubtaskPosted); the parent's client pays nothing
    // more and the parent's rules do not change. Only the parent's current
    // worker may, and only while it holds the claim.
    function postSubtask(uint256 parentId, address evaluator, uint256 expiredAt, bytes32 descriptionHash,
                         uint256 budget, uint256 stake, uint256 submitSeconds, uint256 verifySeconds)
            external returns (uint256 jobId) {
        Job storage p = known(parentId);
        require(p.status == Status.Funded && isSet(p, CLAIMED) && p.provider == msg.sender,
                NoClaimedSlotOfParent());
        jobId = posted(address(0), evaluator, expiredAt, descriptionHash, budget, stake);
        if (submitSeconds != 0 || verifySeconds != 0) makeTimed(jobId, jobs[jobId], submitSeconds, verifySeconds);
        parentOf[jobId] = parentId;
        emit SubtaskPosted(parentId, jobId, msg.sender);
    }

    function posted(address provider, address evaluator, uint256 expiredAt, bytes32 descriptionHash,
                    uint256 budget, uint256 stake) private returns (uint256 jobId) {
        require(budget > 0, BudgetIsZero());
        jobId = open(provider, evaluator, expiredAt);
        Job storage j = jobs[jobId];
        j.budget = fit64(budget);
        j.stake = fit64(stake);
        j.status = Status.Funded;
        emit JobPosted(jobId, descriptionHash, stake);
        emit JobFunded(jobId, msg.sender, budget);
        pull(msg.sender, budget);
    }

    // post() with the evaluator's fee, escrowed with the budget (budget + fee
    // pulled); the fee is at most the stake (a rejected worker pays for its
    // evaluation from it) and a job its client judges has none.
    function postWithFee(address provider, address evaluator, uint256 expiredAt, bytes32 descriptionHash,
                         uint256 budget, uint256 stake, uint256 fee) external returns (uint256 jobId) {
        require(fee > 0, FeeIsZero());
        require(fee <= stake, StakeBelowFee());
        require(evaluator != msg.sender, SelfJudgedJobHasNoFee());
        jobId = posted(provider, evaluator, expiredAt, descriptionHash, budget, stake);
        feeOf[jobId] = fee;
        jobs[jobId].flags |= HAS_FEE;
        emit FeeSet(jobId, fee);
        pull(msg.sender, fee);
    }

    // A timed job judged by a quorum of the court's validators (see the
    // header): budget + fee pulled; the fee (0 or at most the stake) goes to
    // the deciding voters; quorum 1 to 16 voters on the deciding side.
    function postQuorum(uint256 expiredAt, bytes32 descriptionHash, uint256 budget, uint256 stake, uint256 fee,
                        uint256 submitSeconds, uint256 verifySeconds, uint256 quorum)
            external returns (uint256 jobId) {
        require(address(court) != address(0), QuorumNeedsCourt());
        require(stake > 0, QuorumNeedsStake());
        require(fee <= stake, StakeBelowFee());
        jobId = posted(address(0), address(court), expiredAt, descriptionHash, budget, stake);
        Job storage j = jobs[jobId];
        makeTimed(jobId, j, submitSeconds, verifySeconds);
        j.flags |= QUORUM;
        court.setQuorum(jobId, quorum);
        if (fee == 0) return jobId;
        feeOf[jobId] = fee;
        j.flags |= HAS_FEE;
        emit FeeSet(jobId, fee);
        pull(msg.sender, fee);
    }

    function setStake(uint256 jobId, uint256 amount) external {
        Job storage j = known(jobId);
        require(msg.sender == j.client, OnlyClientSetsStake());
        require(j.status == Status.Open, JobNotOpen());
        require(!isSet(j, HOOKED) || amount == 0, HookedJobTakesNoStake());
        j.stake = fit64(amount);
        emit StakeSet(jobId, amount);
    }

    // A task of t.slots jobs (1 to MAX_SLOTS) open to any worker, each with
    // t's budget, stake and fee, timed when the phase seconds are given (both
    // or neither); (budget + fee) * slots pulled at once. seatsPerWorker: the
    // claims one worker may make over the task's life (0 meaning 1, at most
    // MAX_SLOTS). batchItems: the units of each slot for per-unit verdicts
    // (verifyUnits; 0: none), at most MAX_UNITS and the budget and the stake
    // in base units (no units without value locked for them), the last slot
    // holding lastBatchItems (1 to batchItems; 0: batchItems), the embedded
    // ledger's rules. Returns the task id (its first job's id).
    function postSlots(SlotTerms calldata t) external returns (uint256 taskId) {
        return postTask(t, t.evaluator, 0);
    }

    // A task of quorum jobs: postSlots' terms (t.evaluator unused) with each
    // slot timed and judged by its own round of the court's quorum
    // (postQuorum's rules). The court keeps every worker the task ever had
    // off its slots' panels (hadSeat), as the embedded ledger does.
    function postQuorumSlots(SlotTerms calldata t, uint256 quorum) external returns (uint256 taskId) {
        require(address(court) != address(0), QuorumNeedsCourt());
        require(t.stake > 0, QuorumNeedsStake());
        return postTask(t, address(court), quorum);
    }

    // postSlots' rules and effects; quorum 0: no quorum.
    function postTask(SlotTerms calldata t, address evaluator, uint256 quorum) private returns (uint256 taskId) {
        uint256 slots = t.slots;
        require(slots >= 1 && slots <= MAX_SLOTS, SlotsOutOfRange());
        require(t.seatsPerWorker <= MAX_SLOTS, TaskSeatsPerWorkerOutOfRange());
        require(t.budget > 0, BudgetIsZero());
        require(t.fee <= t.stake, StakeBelowFee());
        require(t.fee == 0 || evaluator != msg.sender, SelfJudgedJobHasNoFee());
        require(t.batchItems != 0 || t.lastBatchItems == 0,
                LastBatchItemsNeedsBatchItems());
        require(t.batchItems <= MAX_UNITS && t.batchItems <= t.budget && t.batchItems <= t.stake,
                BatchItemsOutOfRange());
        require(t.lastBatchItems <= t.batchItems,
                LastBatchItemsOutOfRange());
        taskId = jobCount + 1;
        for (uint256 i = 0; i < slots; i++)
            postSlot(t, i + 1 == slots && t.lastBatchItems != 0 ? t.lastBatchItems : t.batchItems, evaluator, quorum,
                     taskId);
        tasks[taskId] = Task(uint32(slots), false, false, uint32(t.seatsPerWorker == 0 ? 1 : t.seatsPerWorker));
        emit TaskPosted(taskId, slots);
        pull(msg.sender, (t.budget + t.fee) * slots);
    }

    // One slot of postSlots, holding `units`: a funded job open to any worker,
    // claimed through claimTask; with a quorum, the court's round judges it.
    function postSlot(SlotTerms calldata t, uint256 units, address evaluator, uint256 quorum, uint256 taskId)
            private {
        uint256 id = open(address(0), evaluator, t.expiredAt);
        Job storage j = jobs[id];
        j.budget = fit64(t.budget);
        j.stake = fit64(t.stake);
        j.status = Status.Funded;
        j.flags = SLOT;
        emit JobPosted(id, t.descriptionHash, t.stake);
        emit JobFunded(id, msg.sender, t.budget);
        if (quorum != 0 || t.submitSeconds != 0 || t.verifySeconds != 0)
            makeTimed(id, j, t.submitSeconds, t.verifySeconds);
        if (quorum != 0) {
            j.flags |= QUORUM;
            court.setQuorum(id, quorum);
            taskOf[id] = taskId;
        }
        if (t.fee != 0) {
            feeOf[id] = t.fee;
            j.flags |= HAS_FEE;
            emit FeeSet(id, t.fee);
        }
        if (units != 0) unitsOf[id].total = uint64(units);
    }

    // A worker takes the lowest open slot of a task (seatsPerWorker claims per
    // worker over the task's life); returns the slot's job id.
    function claimTask(uint256 taskId) external returns (uint256 jobId) {
        Task storage t = tasks[taskId];
        require(t.slots != 0, NoSuchTask());
        require(!t.cancelled, TaskCancelledTakesNoClaims());
        require(seats[taskId][msg.sender] < t.seatsPerWorker,
                SeatsOnTaskUsed());
        for (uint256 i = 0; i < t.slots && jobId == 0; i++) {
            Job storage s = jobs[taskId + i];
            if (s.status == Status.Funded && !isSet(s, CLAIMED)) jobId = taskId + i;
        }
        require(jobId != 0, NoFreeSlot());
        seats[taskId][msg.sender] += 1;
        t.claimedOnce = true;
        take(jobId, jobs[jobId]);
    }

    // The client cancels a task no worker ever claimed: every slot still
    // funded ends, its budget back to the client.
    function cancelTask(uint256 taskId) external {
        Task storage t = tasks[taskId];
        require(t.slots != 0, NoSuchTask());
        require(msg.sender == jobs[taskId].client, OnlyClientCancelsTask());
        require(!t.cancelled, TaskAlreadyCancelled());
        require(!t.claimedOnce, TaskClaimedCannotCancel());
        t.cancelled = true;
        emit TaskCancelled(taskId);
        for (uint256 i = 0; i < t.slots; i++) {
            Job storage j = jobs[taskId + i];
            if (j.status != Status.Funded) continue; // refunded after its expiry already
            j.status = Status.Rejected;
            emit JobRejected(taskId + i, msg.sender, bytes32("cancelled"));
            unwind(taskId + i, j, false, false);
        }
    }

    // A worker takes a funded job by locking its stake (the named provider
    // only, if the client named one).
    function claim(uint256 jobId) external {
        Job storage j = known(jobId);
        require(!isSet(j, SLOT), SlotNeedsClaimTask());
        take(jobId, j);
    }

    // claim()'s rules and effects, for a job or a task's slot.
    function take(uint256 jobId, Job storage j) private {
        require(j.status == Status.Funded, JobNotFunded());
        uint8 flags = j.flags; // read once (the quorum check below costs no storage read)
        require(flags & CLAIMED == 0, JobAlreadyClaimed());
        require(j.provider == address(0) || j.provider == msg.sender, JobNamesAnotherProvider());
        // A claim open to anyone must cost its claimer something, as on the embedded ledger (every task asks a
        // stake): a free claim holds the job until its submit deadline or expiry, and fresh addresses cost
        // nothing, so one party could hold every open job and slot forever. A job naming its worker may ask none.
        require(j.stake != 0 || j.provider != address(0), OpenJobNeedsStake());
        require(msg.sender != j.client && msg.sender != j.evaluator,
                ClientOrEvaluatorMayNotWork());
        // A client judging its own job could reject good work and take the
        // stake: only a court makes that safe (the rejection then bonds the
        // stake and the worker may dispute it), as on the embedded ledger.
        require(j.stake == 0 || j.evaluator != j.client || address(court) != address(0),
                StakedJobNeedsEvaluator());
        require(block.timestamp < j.expiredAt, JobHasExpired());
        if (flags & TIMED != 0) {
            // (a task's slot: the task's seats per worker rule instead, in claimTask)
            require(flags & RESEATED == 0 || flags & SLOT != 0 || seatsHad[jobId][msg.sender] == 0 ||
                    seatsHad[jobId][msg.sender] < seatsOf[jobId],
                    SeatsOnJobUsed());
            j.due = uint40(block.timestamp + j.submitSeconds);
        }
        j.provider = msg.sender;
        j.flags = flags | CLAIMED;
        emit JobClaimed(jobId, msg.sender, j.stake);
        if (flags & QUORUM != 0) court.openRound(jobId, j.client, msg.sender, j.stake);
        if (j.stake > 0) pull(msg.sender, j.stake);
    }

    // ---- internals ----

    // A rejection that stands: the stake is slashed; a timed job whose claim
    // window (expiredAt) is still open reopens to other workers (the embedded
    // ledger's rule), the fee, if any, paid to the evaluator out of the stake
    // and the rest to the client, the escrowed fee kept for the next verdict;
    // any other ends with the budget back to the client (and the fee to the
    // evaluator).
    function rejectionStands(uint256 jobId, Job storage j) private {
        if (isSet(j, PARTIAL)) return settlePartial(jobId, j);
        if (!isSet(j, TIMED) || block.timestamp >= j.expiredAt) return unwind(jobId, j, true, true);
        emit StakeSlashed(jobId, j.provider, j.stake);
        j.status = Status.Funded;
        reopen(jobId, j, true);
    }

    // A per-unit verdict that accepted part of the units stands: the job
    // completes pro rata, for good (the embedded ledger's partial
    // settlement: the accepted units bought, the rest refunded, so a client
    // posts anew for the units it still wants). Rounding never takes from the
    // party whose money it is: the budget's remainder stays with the client,
    // the stake's with the worker. The fee is the evaluator's (its verdict
    // accepted work).
    function settlePartial(uint256 jobId, Job storage j) private {
        Units storage u = unitsOf[jobId];
        uint256 total = u.total;
        uint256 paid = uint256(j.budget) * u.accepted / total;
        uint256 slash = uint256(j.stake) * (total - u.accepted) / total;
        address provider = j.provider;
        j.status = Status.Completed;
        emit JobCompleted(jobId, j.evaluator, bytes32("in part"));
        emit PaymentReleased(jobId, provider, paid);
        emit StakeSlashed(jobId, provider, slash);
        push(provider, paid + j.stake - slash);
        push(j.client, j.budget - paid + slash);
        payFee(jobId, j, j.evaluator);
    }

    // What the rejecter bonded: the stake, or a per-unit verdict's rejected
    // units' share of it, floor(stake x rejected / total).
    function rejectionBond(uint256 jobId, Job storage j) private view returns (uint256) {
        if (!isSet(j, PARTIAL)) return j.stake;
        Units storage u = unitsOf[jobId];
        return uint256(j.stake) * (u.total - u.accepted) / u.total;
    }

    // A claimed timed job open again to other workers (and to this one while
    // it has seats left: setSeats); its stake goes to the client, less the
    // evaluator's fee when a verdict earned it.
    function reopen(uint256 jobId, Job storage j, bool verdict) private {
        address worker = j.provider;
        uint256 stake = j.stake;
        uint256 fee = verdict && isSet(j, HAS_FEE) ? feeOf[jobId] : 0;
        if (fee > stake) fee = stake; // never: postWithFee makes the stake cover it; a revert here would lock the job
        seatsHad[jobId][worker] += 1;
        j.flags = (j.flags & ~CLAIMED) | RESEATED;
        j.provider = address(0);
        j.due = 0;
        emit JobReopened(jobId, worker);
        if (fee > 0) {
            emit FeePaid(jobId, j.evaluator, fee);
            push(j.evaluator, fee);
        }
        if (stake > fee) push(j.client, stake - fee);
    }

    // A timed job's verdict comes before its verify deadline.
    function inVerifyPhase(Job storage j) private view {
        require(block.timestamp < j.due, VerifyDeadlinePassed());
    }

    // Makes a funded, unclaimed job naming no provider a timed one (setPhases,
    // postTimed); the caller checked who asks and the job's state.
    function makeTimed(uint256 jobId, Job storage j, uint256 submitSeconds, uint256 verifySeconds) private {
        require(j.provider == address(0), NamedProviderHasSingleExpiry());
        require(submitSeconds >= MIN_PHASE_S && submitSeconds <= MAX_PHASE_S && verifySeconds >= MIN_PHASE_S &&
                verifySeconds <= MAX_PHASE_S, PhaseSecondsOutOfRange());
        j.flags |= TIMED;
        j.submitSeconds = uint32(submitSeconds);
        j.verifySeconds = uint32(verifySeconds);
        emit PhasesSet(jobId, submitSeconds, verifySeconds);
    }

    // The job's hook (zero: none), read only when its flag says there is one.
    function hookOfJob(uint256 jobId, Job storage j) private view returns (address) {
        return isSet(j, HOOKED) ? hookOf[jobId] : address(0);
    }

    // A hooked action's first step, before the caller checks anything: the
    // hook's beforeAction with the caller's selector and `data` (encoded by
    // the caller only when there is a hook), which it returns for the after.
    function hookBefore(uint256 jobId, address hook, bytes memory data) private returns (bytes memory) {
        IACPHook(hook).beforeAction(jobId, msg.sig, data);
        return data;
    }

    // A hooked action's last step, after every effect and transfer: the
    // hook's afterAction (none without a hook).
    function hookAfter(uint256 jobId, address hook, bytes memory data) private {
        if (hook != address(0)) IACPHook(hook).afterAction(jobId, msg.sig, data);
    }

    function isSet(Job storage j, uint8 flag) private view returns (bool) {
        return j.flags & flag != 0;
    }

    function open(address provider, address evaluator, uint256 expiredAt) private returns (uint256 jobId) {
        require(evaluator != address(0), EvaluatorIsZeroAddress());
        require(evaluator != msg.sender || provider != msg.sender, ClientIsOwnWorker());
        require(expiredAt > block.timestamp && expiredAt < type(uint40).max,
                ExpiredAtNotFuture());
        require(expiredAt - block.timestamp <= MAX_EXPIRY_S, ExpiryTooFar());
        jobId = ++jobCount;
        jobs[jobId] = Job(msg.sender, uint40(expiredAt), Status.Open, 0, 0, provider, 0, 0, evaluator, 0, 0);
        emit JobCreated(jobId, msg.sender, provider, evaluator, expiredAt);
    }

    // Budget back to the client; the stake slashed to the client or returned.
    // The escrowed fee goes back to the client too, unless a verdict earned
    // it (a final rejection): then the evaluator is paid it out of the slashed
    // stake, which comes to the same sums.
    function unwind(uint256 jobId, Job storage j, bool slash, bool verdict) private {
        address client = j.client;
        uint256 budget = j.budget;
        uint256 stake = isSet(j, CLAIMED) ? j.stake : 0;
        uint256 fee = isSet(j, HAS_FEE) ? feeOf[jobId] : 0;
        uint256 earned = verdict && slash && stake > 0 ? fee : 0;
        emit Refunded(jobId, client, budget);
        if (stake > 0 && slash) {
            emit StakeSlashed(jobId, j.provider, stake);
            push(client, budget + stake + fee - earned);
            if (earned > 0) payFee(jobId, j, j.evaluator);
            return;
        }
        if (stake > 0) {
            emit StakeReturned(jobId, j.provider, stake);
            push(j.provider, stake);
        }
        push(client, budget + fee);
    }

    function payFee(uint256 jobId, Job storage j, address evaluator) private {
        if (!isSet(j, HAS_FEE)) return;
        uint256 fee = feeOf[jobId];
        emit FeePaid(jobId, evaluator, fee);
        push(evaluator, fee);
    }

    function refundFee(uint256 jobId, Job storage j) private {
        if (isSet(j, HAS_FEE)) push(j.client, feeOf[jobId]);
    }

    function known(uint256 jobId) private view returns (Job storage j) {
        j = jobs[jobId];
        require(j.client != address(0), NoSuchJob());
    }

    function fit64(uint256 v) private pure returns (uint64) {
        require(v <= type(uint64).max, AmountOver64Bits());
        return uint64(v);
    }

    function pull(address from, uint256 amount) private {
        require(token.transferFrom(from, address(this), amount), TokenTransferFromFailed());
    }

    function push(address to, uint256 amount) private {
        require(token.transfer(to, amount), TokenTransferFailed());
    }
}
