// SPDX-License-Identifier: MIT
// DisputeCourt: appeals of a JobEscrow rejection, judged by staked validators
// drawn by stake, under the embedded ledger's rules (src/market/dispute.c,
// panel.c, commit.c):
//   - validators stake the token here (at least MIN_STAKE); leaving takes
//     unbondingS seconds, so a judge cannot run from a slash;
//   - the list of validators holds MAX_VALIDATORS (a draw walks all of
//     them). When it is full, a newcomer whose stake is larger than the
//     smallest listed stake takes that validator's place (the first in list
//     order among equals); one not larger is refused. The evicted validator
//     keeps its stake (out of draws, still slashable for the seats it holds
//     on open cases) and may leave with requestExit, or stake more and
//     come back the same way. So nobody locks honest validators out with
//     128 minimal stakes: keeping a validator out costs more than 128 times
//     what it stakes, which is the stake weighting the draw already has;
//   - a rejected worker disputes through the escrow (which holds both
//     parties' bonds, each equal to the job's stake); the court opens a case
//     whose panel is drawn from link seedCount + DRAW_DELAY_LINKS of the
//     court's seed chain (below), unknown when the dispute was opened;
//   - eligible: validators with at least MIN_STAKE, the job's client, worker
//     and evaluator left out, each weighing the smaller of its stake when the
//     case opened and its stake at the draw (the ledger's mk_draw_cands):
//     stake bonded or raised after the opening buys nothing in that case, and
//     a validator first staked after it is not eligible (see stakeAt). At most
//     PANEL_SEATS eligible: all sit with their stake as weight. More: 63
//     seats, each to a validator with probability proportional to its stake
//     (keccak(seed ‖ seat) mod total, walked over the validators in list
//     order: mk_panel_draw_seats's rule), a member weighing its seats' share
//     of the eligible stake;
//   - votes are sealed: a member commits keccak(accept ‖ salt ‖ voter ‖ court
//     ‖ chainid ‖ jobId) in the commit window, bonding JUDGE_SLASH_PCT % of its
//     weight (at most its stake at the draw) out of its free stake; it reveals
//     after the commit window (or once every member committed), before the
//     reveal window ends. A reveal opens the sender's own commitment only;
//   - or votes are open (vote(), the ledger's dispute_vote): a member votes
//     in the clear in the commit window, bonding the same 20 %; the first
//     commitment seals the case (open votes refused from then on), as on the
//     ledger. A case with no commitment has nothing to reveal: it closes at
//     the end of its commit window (the ledger's vote window), and an open
//     vote that decides it (see below) settles it in the same transaction,
//     as the ledger settles a dispute at the deciding vote;
//   - the case resolves after the reveal window, or early once every
//     commitment is revealed and one side holds more than two thirds of the
//     panel's weight (or the whole panel voted). accept weight > reject
//     weight: the worker wins (paid in full, its bond back; the rejecter's
//     bond to the accepting judges by weight). reject > accept: the rejection
//     stands (stake slashed to the client, the worker's bond to the rejecting
//     judges). A tie or no vote: the rejection stands, nobody's bond is taken.
//     Judges on the losing side and judges who never revealed lose their bond
//     to the winning judges by weight, paid to their wallets (the winners'
//     own bonds go back into their stake: the ledger's mk_judges_settle);
//     rounding remainders go to the winning party;
//   - no stake moves while a case's seed link is revealed and its panel not
//     yet drawn (stake, requestExit and resolve are refused until someone
//     calls draw): nobody can reshape the stake a known seed is applied to.
//     Stake lowered after the opening (an exit, a slash) weighs what is left;
//     stake added then weighs nothing in the case.
//     A panel not drawn within SEED_WALK_MAX links of its own is rescheduled
//     on the next draw call (draw walks back from the latest link).
// The seed chain (the ledger's draw seed, src/ledger/seed.h, on chain):
//   - the deployer commits its anchor A = link 0 at bind; link i + 1 is a
//     preimage of link i (keccak256(link i+1) == link i), all of them fixed
//     by the anchor: a hash chain the deployer drew from a secret and walks
//     backwards. Anyone may reveal the next link (revealSeed checks it
//     against the last one); only the deployer can, knowing the secret;
//   - a case opened when seedCount links are revealed is drawn from link
//     seedCount + DRAW_DELAY_LINKS (its drawLink), hashed with the court and
//     the case key. So no party acting before the draw knows the seed (the
//     next link may sit in the mempool, the one after cannot while the
//     deployer reveals one at a time), and nothing a block holds enters it:
//     the maker of a block cannot grind a panel by choosing the block's
//     contents, as it could with blockhash. Fail closed: no link revealed,
//     no draw. A quorum round left undrawn closes with closeUnjudged at its
//     verify deadline; a dispute left undrawn has a deadline of its own,
//     commitWindowS + revealWindowS after its opening (what a drawn case's
//     vote lasts, as the ledger's dispute closes at its vote window's end),
//     stored in its revealEnd until the draw: after it, draw is refused and
//     anyone calls resolve, which closes the case undecided (the ledger's
//     no-decision rule: the rejection stands, the worker's bond back);
//   - segments (the ledger's seed segments, src/ledger/seed.h): the chain is
//     cut into segments of seedLinks links, each a hash chain of its own.
//     bind commits the first segment's anchor and the next one's; the link
//     after a spent segment must hash to that next anchor (seedNext), and
//     the deployer commits the following anchor (commitSeedAnchor) while at
//     least DRAW_DELAY_LINKS links of the current segment are unrevealed, so
//     no case already waiting can draw from a segment whose anchor the
//     deployer chose after the case opened. An anchor missed in time stops
//     the draws at the segment's end (fail closed, as above);
//   - what it trusts, as the ledger trusts its block-making node: the
//     deployer knows every future link, so it (or whoever it tells) knows
//     the panel a case opened now will get, and can time an opening; it can
//     also stall draws by not revealing. It cannot change a link once the
//     anchor is out.
// Quorum rounds (a job the escrow posted with postQuorum, the ledger's quorum
// policy: verdict.c's quorum_vote, mk_quorum_tally, mk_quorum_decide):
//   - the escrow sets the job's quorum at its post (setQuorum) and opens its
//     round when a worker claims it (openRound: the ledger fixes the panel at
//     the claim), the panel drawn as a dispute's, from validators with at
//     least the job's stake (the job's client and worker left out); the
//     submission opens the vote (setRoundEnd: until the verify deadline);
//   - members vote in the clear (vote(), bonding 20 % as above); a side
//     decides once it holds more than two thirds of the panel's weight, or
//     the most of it once the whole panel voted, and has at least `quorum`
//     voters; the deciding vote gives the escrow the verdict (complete or
//     reject as the job's evaluator: final, no dispute), the escrow pays the
//     fee here, and the fee and the losing voters' bonds go to the winning
//     voters by weight (remainder to the client);
//   - no decision before the verify deadline: at it anyone calls
//     closeUnjudged, which tallies the votes: a side holding more than half
//     of the panel's weight (not of the votes cast), with `quorum` voters,
//     decides, so members holding a third cannot withhold a majority's
//     verdict by staying silent; else the voters' bonds are freed and the
//     court times the job out at the escrow (everyone refunded);
//   - a reopened job's next claim opens a fresh round: a round's case, seats
//     and events are keyed jobId | round << 160 (caseKey; a dispute's by its
//     jobId), and the calls taking a jobId act on its latest round;
//   - or members seal their votes (commit.c's verify round): commit in the
//     verify window, bonding as a vote does; the first commitment seals the
//     round (open votes refused from then on), adds a reveal window of
//     revealWindowS after the verify deadline, and has the escrow leave the
//     job's verdict to the court (setVerifyDue: no verify deadline of its
//     own). A member reveals after the verify deadline, or once every member
//     committed or voted, before the reveal deadline; the reveal that leaves
//     nothing sealed decides the round when a side decides. At the reveal
//     deadline anyone calls closeUnjudged: the revealed votes are tallied
//     as above (a side deciding settles the round, an unrevealed commitment
//     absent and its bond paid to the winners like a losing vote's), else the
//     court times the job out at the escrow (everyone refunded, bonds freed).
pragma solidity 0.8.37;

interface IERC20Court {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

interface IEscrowCourt {
    // Pays the job's parties for the outcome; returns the loser's bond,
    // sent to the court for the winning judges (0 when there is none).
    function settleDispute(uint256 jobId, uint8 outcome) external returns (uint256 bondToJudges);
    function complete(uint256 jobId, bytes32 reason, bytes calldata) external;
    function reject(uint256 jobId, bytes32 reason, bytes calldata) external;
    // Claims of the job that ended with the job reopened, per worker.
    function hadSeat(uint256 jobId, address worker) external view returns (uint256);
    // A sealed quorum round moves the job's verify deadline (see commit, closeUnjudged).
    function setVerifyDue(uint256 jobId, uint256 due) external;
    function timeout(uint256 jobId) external;
}

contract DisputeCourt {
    uint256 public constant PANEL_SEATS = 63;
    uint256 public constant MAX_VALIDATORS = 128;
    uint256 public constant MIN_STAKE = 1_000_000; // one token (6 decimals)
    uint256 public constant JUDGE_SLASH_PCT = 20;
    uint256 public constant DRAW_DELAY_LINKS = 2; // the ledger's GT_MARKET_DRAW_DELAY_BLOCKS, in seed links
    uint256 public constant SEED_WALK_MAX = 256;  // links draw hashes back at most (else it reschedules)
    uint8 public constant OUTCOME_REJECTION_STANDS = 0;
    uint8 public constant OUTCOME_WORKER_WON = 1;
    uint8 public constant OUTCOME_NO_DECISION = 2;
    uint256 public constant MAX_QUORUM = 16; // the ledger's GT_MARKET_MAX_QUORUM
    uint256 private constant JOB_MASK = (1 << 160) - 1; // a case key's job (caseKey puts the round above it)

    enum CaseState { None, Drawing, Voting, Resolved }
    enum Vote { None, Committed, Accept, Reject }

    struct Validator {
        uint96 active;   // weighs in draws; bonds come out of it
        uint96 locked;   // judge bonds of open cases (part of active)
        uint32 index1;   // 1 + place in `validators`, 0 when not listed
        uint32 changedIn; // `openings` at active's last change while a case waited (in slot 0: a draw reads it)
        uint96 leaving;  // requested out, paid after leaveAt
        uint64 leaveAt;
    }

    struct Case {
        address client;      // slot 0
        uint64 drawLink;     // the seed chain's link that draws the panel
        CaseState state;
        bool isSealed;       // a commitment was made: open votes are refused (in slot 0, which commit reads)
        address provider;    // slot 1
        uint64 commitEnd;
        uint32 openedIn;     // `openings` counted this case's opening (its stake records: stakeAt)
        address evaluator;   // slot 2
        uint64 revealEnd;
        uint96 total;        // slot 3: the panel's weight
        uint96 acceptW;
        uint32 members;
        uint32 commits;
        uint96 rejectW;      // slot 4
        uint32 reveals;      // commitments revealed plus open votes
        uint96 minStake;     // slot 5, quorum rounds only: a member's least stake (the job's stake)
        uint8 quorum;        // 0: a dispute; else a quorum round, a side needs this many voters
        uint16 acceptN;      // voters on each side (quorum rounds)
        uint16 rejectN;
    }

    struct Seat {
        uint96 weight;
        uint96 stakeAtDraw;
        Vote vote;
        bytes32 commitment;
    }

    IERC20Court public immutable token;
    address public immutable deployer;
    uint256 public immutable disputeWindowS; // a rejected worker's time to dispute (read by the escrow)
    uint256 public immutable commitWindowS;
    uint256 public immutable revealWindowS;
    uint256 public immutable unbondingS;
    uint256 public immutable seedLinks; // links per segment of the seed chain
    address public escrow;
    bytes32 public seedTip;  // the seed chain's last link revealed (the anchor before any)
    uint64 public seedCount; // links revealed after the anchor
    uint64 public seedNeed;  // the link the latest scheduled draw waits for (reveal up to it)
    uint64 public seedBase;  // links revealed before the current segment's first
    uint32 public openings;  // cases opened so far (in the slot an opening writes anyway)
    bytes32 public seedNext; // the next segment's anchor (0: not committed yet)
    bytes32 private seedBaseLink; // link seedBase: the last of the previous segment (draw walks back across it)

    address[] public validators;
    mapping(address => Validator) private vals; // (validatorOf reads it)
    // Per validator, what its active stake was before its first change after an opening, noted only while a
    // case waits for its draw: (openings at the change) << 96 | stake before; opening counts increasing.
    mapping(address => uint256[]) private stakeNotes;
    mapping(uint256 => Case) private cases;
    mapping(uint256 => mapping(address => Seat)) private seats;
    mapping(uint256 => address[]) private committers;
    uint256[] private drawQueue; // (jobId << 64 | drawLink), drawLink non-decreasing
    uint256 private drawHead;
    mapping(uint256 => uint8) public quorumOf; // a quorum job's quorum (setQuorum)
    mapping(uint256 => uint32) public roundOf; // a quorum job's rounds opened (0: none, or not a quorum job)

    event Staked(address indexed validator, uint256 amount, uint256 active);
    event ExitRequested(address indexed validator, uint256 amount, uint256 leaveAt);
    event Withdrawn(address indexed validator, uint256 amount);
    event ValidatorEvicted(address indexed validator, address indexed by, uint256 active);
    event CaseOpened(uint256 indexed jobId, uint256 drawLink);
    event DrawRescheduled(uint256 indexed jobId, uint256 drawLink);
    event SeedRevealed(uint256 indexed index, bytes32 link);
    event PanelDrawn(uint256 indexed jobId, bytes32 seed, uint256 members, uint256 total, uint256 commitEnd,
                     uint256 revealEnd);
    event VoteCommitted(uint256 indexed jobId, address indexed judge, bytes32 commitment, uint256 bond);
    event VoteRevealed(uint256 indexed jobId, address indexed judge, bool accept, uint256 weight);
    event JudgeSlashed(uint256 indexed jobId, address indexed judge, uint256 amount);
    event JudgePaid(uint256 indexed jobId, address indexed judge, uint256 amount);
    event CaseResolved(uint256 indexed jobId, uint8 outcome, uint256 acceptWeight, uint256 rejectWeight);
    event RoundOpened(uint256 indexed jobId, uint256 drawLink, uint256 minStake, uint256 quorum);
    event RoundClosedUnjudged(uint256 indexed jobId);
    event SeedAnchorCommitted(uint256 indexed afterLink, bytes32 anchor);

    constructor(address token_, uint256 disputeWindowS_, uint256 commitWindowS_, uint256 revealWindowS_,
                uint256 unbondingS_, uint256 seedLinks_) {
        require(token_ != address(0), "court: token is the zero address");
        require(disputeWindowS_ > 0 && commitWindowS_ > 0 && revealWindowS_ > 0, "court: windows must be > 0");
        require(unbondingS_ >= commitWindowS_ + revealWindowS_, "court: unbonding must outlast a vote");
        require(seedLinks_ > DRAW_DELAY_LINKS && seedLinks_ <= type(uint32).max,
                "court: seedLinks must be 3 to 2^32 - 1");
        token = IERC20Court(token_);
        deployer = msg.sender;
        disputeWindowS = disputeWindowS_;
        commitWindowS = commitWindowS_;
        revealWindowS = revealWindowS_;
        unbondingS = unbondingS_;
        seedLinks = seedLinks_;
    }

    // The escrow whose disputes this court judges, the seed chain's anchor
    // and its second segment's (see the header), set once by the deployer.
    function bind(address escrow_, bytes32 seedAnchor, bytes32 nextAnchor) external {
        require(msg.sender == deployer, "court: only the deployer binds the escrow");
        require(escrow == address(0), "court: already bound");
        require(escrow_ != address(0) && seedAnchor != 0 && nextAnchor != 0, "court: escrow or seed anchor is zero");
        escrow = escrow_;
        seedTip = seedAnchor;
        seedNext = nextAnchor;
    }

    // The deployer: the anchor of the segment after the current one, while
    // DRAW_DELAY_LINKS of the current one's links are still unrevealed (no
    // case waits on a link of the next segment yet).
    function commitSeedAnchor(bytes32 anchor) external {
        require(msg.sender == deployer && seedNext == 0 && anchor != 0,
                "court: only the deployer commits the next seed anchor, once per segment, not zero");
        uint256 end = seedBase + seedLinks;
        require(seedCount + DRAW_DELAY_LINKS <= end, "court: too late for the next seed anchor: a case may wait on it");
        seedNext = anchor;
        emit SeedAnchorCommitted(end, anchor);
    }

    // Anyone: the seed chain's next link (keccak256(link) is the last one,
    // or the next segment's anchor once the current segment is spent).
    function revealSeed(bytes32 link) external {
        uint64 n = seedCount;
        bytes32 h = keccak256(abi.encodePacked(link));
        if (n == seedBase + seedLinks) { // the segment is spent: the next one starts
            require(h == seedNext && link != 0,
                    "court: not the seed chain's next link (keccak256(link) must be seedNext, the next anchor)");
            (seedBase, seedBaseLink, seedNext) = (n, seedTip, 0);
        } else {
            require(h == seedTip && link != 0,
                    "court: not the seed chain's next link (keccak256(link) must be seedTip)");
        }
        seedTip = link;
        seedCount = ++n;
        emit SeedRevealed(n, link);
    }

    // ---- validators ----

    function stake(uint256 amount) external {
        noSeedPending();
        Validator storage v = vals[msg.sender];
        uint256 active = uint256(v.active) + amount;
        require(amount > 0, "court: amount is zero");
        require(active >= MIN_STAKE, "court: a validator stakes at least 1 token (1000000 base units)");
        require(active <= type(uint96).max, "court: stake over 2^96 - 1");
        setActive(msg.sender, v, active);
        if (v.index1 == 0)
            require(list(msg.sender, v),
                    "court: the validator list is full (128): stake more than its smallest stake (smallestStake())");
        emit Staked(msg.sender, amount, active);
        require(token.transferFrom(msg.sender, address(this), amount), "court: token transferFrom failed");
    }

    // Moves amount of free stake out; withdraw() pays it after unbondingS.
    function requestExit(uint256 amount) external {
        noSeedPending();
        Validator storage v = vals[msg.sender];
        require(amount > 0 && amount + v.locked <= v.active, "court: amount is zero or over the free stake");
        require(v.leaving == 0, "court: an exit is already under way (withdraw it first)");
        uint256 rest = v.active - amount;
        require(rest == 0 || rest >= MIN_STAKE, "court: what stays staked must be 0 or at least 1 token");
        setActive(msg.sender, v, rest);
        v.leaving = uint96(amount);
        v.leaveAt = uint64(block.timestamp + unbondingS);
        if (rest == 0 && v.index1 != 0) unlist(v); // an evicted validator is not listed
        emit ExitRequested(msg.sender, amount, v.leaveAt);
    }

    function withdraw() external {
        Validator storage v = vals[msg.sender];
        uint256 amount = v.leaving;
        require(amount > 0, "court: nothing to withdraw");
        require(block.timestamp >= v.leaveAt, "court: still unbonding");
        v.leaving = 0;
        emit Withdrawn(msg.sender, amount);
        require(token.transfer(msg.sender, amount), "court: token transfer failed");
    }

    // A validator's record (the getter a public mapping had: the same words).
    function validatorOf(address who) external view returns (uint96 active, uint96 locked, uint32 index1,
                                                              uint96 leaving, uint64 leaveAt) {
        Validator storage v = vals[who];
        return (v.active, v.locked, v.index1, v.leaving, v.leaveAt);
    }

    function validatorCount() external view returns (uint256) {
        return validators.length;
    }

    // The stake a newcomer must exceed when the list is full (0 while there is room).
    function smallestStake() external view returns (uint256) {
        if (validators.length < MAX_VALIDATORS) return 0;
        (, uint256 least) = smallest();
        return least;
    }

    // ---- cases ----

    // Called by the escrow when the rejected worker disputes.
    function open(uint256 jobId, address client, address provider, address evaluator) external {
        require(msg.sender == escrow, "court: only the escrow opens cases");
        Case storage c = cases[jobId];
        require(c.state == CaseState.None, "court: the case exists");
        require(jobId < (uint256(1) << 192), "court: job id over 2^192");
        c.client = client;
        c.provider = provider;
        c.evaluator = evaluator;
        c.revealEnd = uint64(block.timestamp + commitWindowS + revealWindowS); // undrawn by then: closes undecided
        opening(c);
        schedule(jobId, c);
        emit CaseOpened(jobId, c.drawLink);
    }

    // ---- quorum rounds ----

    // The escrow, at a quorum job's post: its quorum (1 to MAX_QUORUM).
    function setQuorum(uint256 jobId, uint256 quorum) external {
        require(msg.sender == escrow, "court: only the escrow sets a quorum");
        require(quorum >= 1 && quorum <= MAX_QUORUM, "court: quorum must be 1 to 16");
        require(quorumOf[jobId] == 0, "court: the job's quorum is set");
        quorumOf[jobId] = uint8(quorum);
    }

    // The escrow, when a worker claims a quorum job: the round's panel is
    // drawn DRAW_DELAY_LINKS links later from validators with at least minStake.
    // Votes open when the result is submitted (setRoundEnd).
    function openRound(uint256 jobId, address client, address worker, uint256 minStake) external {
        require(msg.sender == escrow, "court: only the escrow opens rounds");
        require(jobId < (uint256(1) << 160), "court: job id over 2^160");
        require(quorumOf[jobId] != 0, "court: not a quorum job");
        uint256 round = roundOf[jobId];
        require(round < type(uint32).max, "court: too many rounds");
        if (round > 0) { // the last round was decided, or its worker missed the submit deadline (no vote opened)
            Case storage last = cases[caseKey(jobId)];
            require(last.state == CaseState.Resolved || last.commitEnd == 0, "court: the job's round is open");
            last.state = CaseState.Resolved; // an undrawn one no longer holds stakes (noSeedPending)
        }
        roundOf[jobId] = uint32(round + 1);
        uint256 key = caseKey(jobId);
        Case storage c = cases[key];
        require(minStake <= type(uint96).max, "court: stake over 2^96 - 1");
        c.client = client;
        c.provider = worker;
        c.evaluator = address(this);
        c.minStake = uint96(minStake);
        c.quorum = quorumOf[jobId];
        opening(c);
        schedule(key, c);
        emit RoundOpened(key, c.drawLink, minStake, c.quorum);
    }

    // The escrow, when the quorum job's result is submitted: the panel votes
    // until endS (the verify deadline).
    function setRoundEnd(uint256 jobId, uint256 endS) external {
        require(msg.sender == escrow, "court: only the escrow opens a round's vote");
        Case storage c = cases[caseKey(jobId)];
        require(c.quorum != 0 && c.commitEnd == 0, "court: no round waiting for its result");
        c.commitEnd = uint64(endS);
        c.revealEnd = uint64(endS);
    }

    // Anyone, once a quorum round's vote is over (an open round's at the
    // verify deadline, a sealed one's at its reveal deadline): the votes are
    // tallied (the ledger's verify_deadline) and a side holding more than
    // half of the panel's weight, with `quorum` voters, settles the round;
    // else the voters' bonds are freed and the court times the job out at
    // the escrow, which leaves a quorum job's deadline to it.
    function closeUnjudged(uint256 jobId) external {
        noSeedPending();
        jobId = caseKey(jobId);
        Case storage c = cases[jobId];
        require(c.quorum != 0 && (c.state == CaseState.Voting || c.state == CaseState.Drawing),
                "court: no open quorum round");
        require(c.commitEnd != 0 && block.timestamp >= c.revealEnd, "court: the round's vote is still open");
        uint256 job = jobId & JOB_MASK;
        if (quorumSide(c, true) >= 0) {
            // An open round's verdict comes after the escrow's verify window: the escrow takes it.
            if (!c.isSealed) IEscrowCourt(escrow).setVerifyDue(job, type(uint40).max);
            decideRound(jobId, c, true);
            return;
        }
        c.state = CaseState.Resolved;
        emit RoundClosedUnjudged(jobId);
        releaseAll(jobId);
        IEscrowCourt(escrow).setVerifyDue(job, block.timestamp);
        IEscrowCourt(escrow).timeout(job);
    }

    // Anyone: draws the panel once its seed link is revealed (see the header).
    function draw(uint256 jobId) external {
        Case storage c = cases[jobId];
        if (c.state == CaseState.None) c = cases[jobId = caseKey(jobId)]; // a quorum job's latest round
        require(c.state == CaseState.Drawing, "court: the case is not waiting for its draw");
        require(c.quorum != 0 || block.timestamp < c.revealEnd,
                "court: the dispute's draw deadline has passed (resolve closes it undecided)");
        uint256 have = seedCount;
        uint256 want = c.drawLink;
        uint256 base = seedBase;
        require(have >= want, "court: the case's seed link is not revealed yet (revealSeed)");
        // Left undrawn too long: a fresh link, as blockhash's 256 blocks did (or, with short segments, a link
        // two segments back, which no walk reaches).
        if (have - want > SEED_WALK_MAX || want + seedLinks <= base) {
            schedule(jobId, c);
            emit DrawRescheduled(jobId, c.drawLink);
            return;
        }
        bytes32 seed = keccak256(abi.encodePacked(linkAt(have, want, base), address(this), jobId));
        (address[] memory who, uint256[] memory w, uint256 n, uint256 total) = eligible(c, jobId & JOB_MASK);
        uint256 panel = n == 0 ? 0 : seat(jobId, seed, who, w, n, total);
        require(panel <= type(uint96).max, "court: panel weight over 2^96 - 1");
        c.total = uint96(panel);
        c.state = CaseState.Voting;
        if (c.quorum == 0) { // a quorum round's window is the job's verify window (setRoundEnd)
            c.commitEnd = uint64(block.timestamp + commitWindowS);
            c.revealEnd = uint64(block.timestamp + commitWindowS + revealWindowS);
        }
        emit PanelDrawn(jobId, seed, c.members, panel, c.commitEnd, c.revealEnd);
    }

    // A sealed vote on a dispute, or on a quorum job's latest round (see the
    // header); the commitment is commitmentOf(accept, salt, judge, case key).
    function commit(uint256 jobId, bytes32 commitment) external {
        Case storage c = cases[jobId];
        if (c.state == CaseState.None) c = cases[jobId = caseKey(jobId)]; // a quorum job's latest round
        (Seat storage s, uint256 bond) = bondSeat(jobId, c);
        s.vote = Vote.Committed;
        s.commitment = commitment;
        if (!c.isSealed) {
            c.isSealed = true;
            if (jobId > JOB_MASK) { // a quorum round's key (no slot read): a reveal window follows its verify window
                c.revealEnd = uint64(c.commitEnd + revealWindowS);
                IEscrowCourt(escrow).setVerifyDue(jobId & JOB_MASK, type(uint40).max);
            }
        }
        emit VoteCommitted(jobId, msg.sender, commitment, bond);
    }

    // An open vote (the ledger's dispute_vote): bonds as commit does, counts
    // at once, and settles the case when it decides it (mk_panel_decided).
    function vote(uint256 jobId, bool accept) external {
        Case storage c = cases[jobId];
        if (c.state == CaseState.None) c = cases[jobId = caseKey(jobId)]; // a quorum job's latest round
        require(!c.isSealed || c.state != CaseState.Voting,
                "court: votes on this case are sealed (commit, then reveal)");
        (Seat storage s, uint256 bond) = bondSeat(jobId, c);
        emit VoteCommitted(jobId, msg.sender, bytes32(0), bond);
        count(jobId, c, s, accept);
        if (c.quorum != 0) {
            decideRound(jobId, c, false);
        } else if (decided(c)) {
            noSeedPending();
            settle(jobId, c);
        }
    }

    // Opens the sender's own commitment. On a quorum round, the reveal that
    // leaves nothing sealed decides it when a side decides (the ledger's
    // reveal_quorum); a dispute's keeper calls resolve.
    function reveal(uint256 jobId, bool accept, bytes32 salt) external {
        Case storage c = cases[jobId];
        if (c.state == CaseState.None) c = cases[jobId = caseKey(jobId)]; // a quorum job's latest round
        require(c.state == CaseState.Voting, "court: the case is not voting");
        require(block.timestamp >= c.commitEnd || c.commits == c.members,
                "court: reveals open when the commit window closes (or every member committed)");
        require(block.timestamp < c.revealEnd, "court: the reveal window has closed");
        Seat storage s = seats[jobId][msg.sender];
        require(s.vote == Vote.Committed, "court: no sealed vote of yours to reveal");
        require(commitmentOf(accept, salt, msg.sender, jobId) == s.commitment,
                "court: accept and salt do not open your commitment");
        count(jobId, c, s, accept);
        if (jobId > JOB_MASK && c.reveals == c.commits) decideRound(jobId, c, false); // (a quorum round's key)
    }

    // Anyone, once the case can close: settles judges and parties. A dispute
    // still undrawn at its deadline closes undecided (no judge holds a seat,
    // so no stake moves and a known seed does not hold it up).
    function resolve(uint256 jobId) external {
        Case storage c = cases[jobId];
        bool undrawn = c.state == CaseState.Drawing;
        require((c.state == CaseState.Voting || undrawn) && c.quorum == 0, "court: the case is not voting");
        if (undrawn) {
            require(block.timestamp >= c.revealEnd, "court: the case is not drawn yet and its deadline has not passed");
        } else {
            noSeedPending();
            require(block.timestamp >= c.revealEnd || (!c.isSealed && block.timestamp >= c.commitEnd) ||
                    (c.reveals == c.commits && decided(c)), "court: the vote is still open");
        }
        settle(jobId, c);
    }

    // Closes a voting case: the parties through the escrow, then the judges.
    function settle(uint256 jobId, Case storage c) private {
        c.state = CaseState.Resolved;
        uint8 outcome = c.acceptW > c.rejectW ? OUTCOME_WORKER_WON
                      : c.rejectW > c.acceptW ? OUTCOME_REJECTION_STANDS : OUTCOME_NO_DECISION;
        emit CaseResolved(jobId, outcome, c.acceptW, c.rejectW);
        uint256 pot = IEscrowCourt(escrow).settleDispute(jobId, outcome);
        if (outcome == OUTCOME_NO_DECISION) {
            releaseAll(jobId);
            return;
        }
        Vote win = outcome == OUTCOME_WORKER_WON ? Vote.Accept : Vote.Reject;
        uint256 winW = outcome == OUTCOME_WORKER_WON ? c.acceptW : c.rejectW;
        pot += slashLosers(jobId, win);
        uint256 paid = payWinners(jobId, win, pot, winW);
        if (pot > paid)
            require(token.transfer(outcome == OUTCOME_WORKER_WON ? c.provider : c.client, pot - paid),
                    "court: token transfer failed");
    }

    // A quorum round's verdict: the escrow completes or rejects the job (the
    // court is its evaluator) and pays the fee here; the fee and the losing
    // voters' bonds go to the winning voters by weight, the remainder to the
    // client (the ledger's poster).
    function settleRound(uint256 jobId, Case storage c, bool accept) private {
        c.state = CaseState.Resolved;
        emit CaseResolved(jobId, accept ? OUTCOME_WORKER_WON : OUTCOME_REJECTION_STANDS, c.acceptW, c.rejectW);
        uint256 before = token.balanceOf(address(this));
        uint256 job = jobId & type(uint160).max; // jobId is the round's key
        if (accept) IEscrowCourt(escrow).complete(job, bytes32("quorum accepted"), "");
        else IEscrowCourt(escrow).reject(job, bytes32("quorum rejected"), "");
        uint256 pot = token.balanceOf(address(this)) - before; // the fee, if the job has one
        Vote win = accept ? Vote.Accept : Vote.Reject;
        pot += slashLosers(jobId, win);
        uint256 paid = payWinners(jobId, win, pot, accept ? c.acceptW : c.rejectW);
        if (pot > paid) require(token.transfer(c.client, pot - paid), "court: token transfer failed");
    }

    function commitmentOf(bool accept, bytes32 salt, address judge, uint256 jobId) public view returns (bytes32) {
        return keccak256(abi.encodePacked(accept ? uint8(1) : uint8(0), salt, judge, address(this), block.chainid,
                                          jobId));
    }

    function getCase(uint256 jobId) external view returns (CaseState state, uint256 drawLink, uint256 commitEnd,
            uint256 revealEnd, uint256 total, uint256 acceptW, uint256 rejectW, uint256 members) {
        Case storage c = cases[caseKey(jobId)];
        return (c.state, c.drawLink, c.commitEnd, c.revealEnd, c.total, c.acceptW, c.rejectW, c.members);
    }

    function seatOf(uint256 jobId, address judge) external view returns (uint256 weight, Vote choice) {
        Seat storage s = seats[caseKey(jobId)][judge];
        return (s.weight, s.vote);
    }

    // The key of a job's case: its jobId for a dispute, jobId | round << 160
    // for a quorum job's latest round.
    function caseKey(uint256 jobId) public view returns (uint256) {
        uint256 round = roundOf[jobId];
        return round == 0 ? jobId : jobId | round << 160;
    }

    // ---- internals ----

    // A panel member's vote bonded (commit or open vote): JUDGE_SLASH_PCT % of
    // its weight, at most its stake at the draw, out of its free stake.
    function bondSeat(uint256 jobId, Case storage c) private returns (Seat storage s, uint256 bond) {
        require(c.state == CaseState.Voting, "court: the case is not voting");
        require(block.timestamp < c.commitEnd, "court: the commit window has closed");
        s = seats[jobId][msg.sender];
        require(s.weight > 0, "court: not on this dispute's panel");
        require(s.vote == Vote.None, "court: already committed");
        bond = uint256(s.weight) * JUDGE_SLASH_PCT / 100;
        if (bond > s.stakeAtDraw) bond = s.stakeAtDraw;
        Validator storage v = vals[msg.sender];
        require(uint256(v.locked) + bond <= v.active, "court: a vote bonds 20% of the judge's weight from its free stake");
        v.locked += uint96(bond);
        c.commits++;
        committers[jobId].push(msg.sender);
    }

    // A vote opened (revealed, or cast in the clear) joins its side.
    function count(uint256 jobId, Case storage c, Seat storage s, bool accept) private {
        s.vote = accept ? Vote.Accept : Vote.Reject;
        if (accept) c.acceptW += s.weight;
        else c.rejectW += s.weight;
        if (c.quorum != 0) {
            if (accept) c.acceptN++;
            else c.rejectN++;
        }
        c.reveals++;
        emit VoteRevealed(jobId, msg.sender, accept, s.weight);
    }

    // Counts case c's opening: stake changes from now on are after it (setActive, stakeAt).
    function opening(Case storage c) private {
        uint32 n = openings;
        require(n < type(uint32).max, "court: too many cases opened");
        openings = c.openedIn = n + 1;
    }

    // Sets a validator's active stake. While a case may be waiting for its draw (one queued at or after
    // drawHead, which noSeedPending, run first on every path here, moved past the drawn ones; a stale head only
    // notes more), its first change since the latest opening notes the stake it replaces, which that case's draw
    // reads (stakeAt). With no case waiting nothing is noted, nor changedIn moved: every case opened later
    // opens after this change.
    function setActive(address who, Validator storage v, uint256 to) private {
        if (drawHead < drawQueue.length) {
            uint32 n = openings;
            if (v.changedIn != n) {
                stakeNotes[who].push(uint256(n) << 96 | v.active);
                v.changedIn = n;
            }
        }
        v.active = uint96(to);
    }

    // who's weight in a case opened as opening number `opened`: the smaller of its stake then and now. Unchanged
    // since (changedIn < opened): now. Else its first change after the opening noted the stake before it (the
    // case was waiting: setActive), the first note numbered `opened` or more: found galloping back from the
    // newest (the notes after an opening are the validator's own changes while the case waits: few), then
    // halving. A validator not staked at the opening weighs 0.
    function stakeAt(address who, Validator storage v, uint32 opened) private view returns (uint256 s) {
        s = v.active;
        if (v.changedIn < opened) return s;
        uint256[] storage h = stakeNotes[who];
        assert(h.length > 0); // the change after the opening was noted
        uint256 hi = h.length - 1; // h[hi] is numbered `opened` or more; so is every note after the answer
        uint256 lo = 0;
        for (uint256 step = 1; step <= hi; step <<= 1) {
            if (uint32(h[hi - step] >> 96) < opened) {
                lo = hi - step + 1;
                break;
            }
            hi -= step;
        }
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (uint32(h[mid] >> 96) < opened) lo = mid + 1;
            else hi = mid;
        }
        uint256 before = uint96(h[hi]);
        if (before < s) s = before;
    }

    // The case waits for link seedCount + DRAW_DELAY_LINKS (the queue stays in
    // order: seedCount never goes down).
    function schedule(uint256 jobId, Case storage c) private {
        c.state = CaseState.Drawing;
        uint64 link = uint64(seedCount + DRAW_DELAY_LINKS);
        c.drawLink = link;
        seedNeed = link;
        drawQueue.push(jobId << 64 | link);
    }

    // Link `want` of the seed chain, hashed back from the latest (link
    // `have`); across one segment's start (link base + 1, which hashes to
    // the segment's anchor) the previous segment's last link takes over.
    function linkAt(uint256 have, uint256 want, uint256 base) private view returns (bytes32 link) {
        link = seedTip;
        bytes32 baseLink = want <= base ? seedBaseLink : bytes32(0);
        for (; have > want; have--) link = have == base + 1 ? baseLink : keccak256(abi.encodePacked(link));
    }

    // Refuses while a case's seed link is revealed and its panel not drawn.
    function noSeedPending() private {
        uint256 head = drawHead;
        while (head < drawQueue.length) {
            uint256 e = drawQueue[head];
            Case storage c = cases[e >> 64];
            // (a dispute past its draw deadline is never drawn: it only waits for resolve)
            if (c.state == CaseState.Drawing && c.drawLink == uint64(e) &&
                (c.quorum != 0 || block.timestamp < c.revealEnd)) {
                require(seedCount < uint64(e), "court: a panel's seed is known and not yet drawn: call draw first");
                break;
            }
            head++; // drawn, or rescheduled (a later entry stands for it)
        }
        drawHead = head;
    }

    function unlist(Validator storage v) private {
        uint256 i = v.index1 - 1;
        address last = validators[validators.length - 1];
        validators[i] = last;
        vals[last].index1 = uint32(i + 1);
        validators.pop();
        v.index1 = 0;
    }

    // The validators who may sit on case c of job `job`: staked enough, not
    // a party, and no worker the job ever had (one party, one seat: a worker
    // whose claim ended with the job reopened does not judge the next one,
    // as the ledger keeps every worker of a task off its panels).
    function eligible(Case storage c, uint256 job) private view returns (address[] memory who, uint256[] memory w,
                                                                         uint256 n, uint256 total) {
        uint256 len = validators.length;
        uint256 least = c.minStake < MIN_STAKE ? MIN_STAKE : c.minStake;
        uint32 opened = c.openedIn;
        who = new address[](len);
        w = new uint256[](len);
        for (uint256 i = 0; i < len; i++) {
            address a = validators[i];
            if (a == c.client || a == c.provider || a == c.evaluator) continue;
            uint256 s = stakeAt(a, vals[a], opened);
            if (s < least || IEscrowCourt(escrow).hadSeat(job, a) != 0) continue;
            who[n] = a;
            w[n++] = s;
            total += s;
        }
    }

    // Seats the panel; returns its weight.
    function seat(uint256 jobId, bytes32 seed, address[] memory who, uint256[] memory w, uint256 n, uint256 total)
            private returns (uint256 panel) {
        Case storage c = cases[jobId];
        uint256[] memory won = new uint256[](n);
        if (n <= PANEL_SEATS) {
            for (uint256 i = 0; i < n; i++) won[i] = PANEL_SEATS;
        } else {
            for (uint256 s = 0; s < PANEL_SEATS; s++) {
                uint256 r = uint256(uint128(bytes16(keccak256(abi.encodePacked(seed, uint32(s)))))) % total;
                uint256 i = 0;
                while (r >= w[i]) r -= w[i++];
                won[i]++;
            }
        }
        for (uint256 i = 0; i < n; i++) {
            if (won[i] == 0) continue;
            uint256 weight = n <= PANEL_SEATS ? w[i] : total * won[i] / PANEL_SEATS;
            seats[jobId][who[i]] = Seat(uint96(weight), uint96(w[i]), Vote.None, bytes32(0));
            panel += weight;
            c.members++;
        }
    }

    // mk_panel_decided: more than two thirds on one side, or the whole panel voted.
    function decided(Case storage c) private view returns (bool) {
        uint256 t2 = uint256(c.total) * 2;
        return uint256(c.acceptW) * 3 > t2 || uint256(c.rejectW) * 3 > t2 || c.acceptW + c.rejectW == c.total;
    }

    // mk_quorum_tally: before the deadline the side mk_panel_decided gives
    // (more than two thirds, or the most once the whole panel voted), at it
    // (atDeadline) the side holding more than half of the panel's weight
    // (mk_panel_majority), if it has at least `quorum` voters; -1 when undecided.
    function quorumSide(Case storage c, bool atDeadline) private view returns (int256) {
        uint256 t2 = uint256(c.total) * 2;
        int256 d;
        if (atDeadline) {
            d = uint256(c.acceptW) * 2 > c.total ? int256(1) : uint256(c.rejectW) * 2 > c.total ? int256(0) : -1;
        } else {
            d = uint256(c.acceptW) * 3 > t2 ? int256(1) : uint256(c.rejectW) * 3 > t2 ? int256(0)
              : c.acceptW + c.rejectW < c.total ? -1 : c.acceptW > c.rejectW ? int256(1)
              : c.rejectW > c.acceptW ? int256(0) : -1;
        }
        if (d < 0 || (d == 1 ? c.acceptN : c.rejectN) < c.quorum) return -1;
        return d;
    }

    // Settles a quorum round when a side decides it (quorumSide); false when none does.
    function decideRound(uint256 jobId, Case storage c, bool atDeadline) private returns (bool) {
        int256 side = quorumSide(c, atDeadline);
        if (side < 0) return false;
        noSeedPending();
        settleRound(jobId, c, side == 1);
        return true;
    }

    function bondOf(uint256 jobId, address judge) private view returns (uint256 bond) {
        Seat storage s = seats[jobId][judge];
        bond = uint256(s.weight) * JUDGE_SLASH_PCT / 100;
        if (bond > s.stakeAtDraw) bond = s.stakeAtDraw;
    }

    function releaseAll(uint256 jobId) private {
        address[] storage l = committers[jobId];
        for (uint256 i = 0; i < l.length; i++) vals[l[i]].locked -= uint96(bondOf(jobId, l[i]));
    }

    // Losing and unrevealed judges' bonds leave their stake; returns their sum.
    function slashLosers(uint256 jobId, Vote win) private returns (uint256 taken) {
        address[] storage l = committers[jobId];
        for (uint256 i = 0; i < l.length; i++) {
            address a = l[i];
            uint256 bond = bondOf(jobId, a);
            Validator storage v = vals[a];
            v.locked -= uint96(bond);
            if (seats[jobId][a].vote == win || bond == 0) continue;
            setActive(a, v, v.active - bond);
            taken += bond;
            emit JudgeSlashed(jobId, a, bond);
            if (v.active == 0 && v.index1 != 0) unlist(v);
        }
    }

    // pot to the winning judges by weight, to their wallets (the ledger pays
    // a judge's share to its balance); returns what was paid.
    function payWinners(uint256 jobId, Vote win, uint256 pot, uint256 winW) private returns (uint256 paid) {
        address[] storage l = committers[jobId];
        for (uint256 i = 0; i < l.length && winW > 0; i++) {
            Seat storage s = seats[jobId][l[i]];
            if (s.vote != win) continue;
            uint256 share = pot * s.weight / winW;
            paid += share;
            emit JudgePaid(jobId, l[i], share);
            if (share > 0) require(token.transfer(l[i], share), "court: token transfer failed");
        }
    }

    // Lists who (not listed, its active stake set): at the end while there is
    // room, else in the place of the smallest stake if who's is larger
    // (that validator unlisted, its stake kept). False: the list is full and
    // who's stake is not larger than the smallest.
    function list(address who, Validator storage v) private returns (bool) {
        assert(v.index1 == 0);
        if (validators.length < MAX_VALIDATORS) {
            validators.push(who);
            v.index1 = uint32(validators.length);
            return true;
        }
        (uint256 i, uint256 least) = smallest();
        if (v.active <= least) return false;
        address out = validators[i];
        vals[out].index1 = 0;
        validators[i] = who;
        v.index1 = uint32(i + 1);
        emit ValidatorEvicted(out, who, least);
        return true;
    }

    // The first listed validator with the smallest active stake: its place and stake.
    function smallest() private view returns (uint256 place, uint256 least) {
        least = type(uint256).max;
        for (uint256 i = 0; i < validators.length; i++) {
            uint256 a = vals[validators[i]].active;
            if (a < least) (place, least) = (i, a);
        }
    }
}
