// SPDX-License-Identifier: MIT
// Test-only ERC-8183 hook for the chain tests (tests/chain/test_chain_escrow.c),
// never deployed by gotong: it logs each call it gets, with the job's status
// as it saw it, and may be told to revert on one action, before or after.
pragma solidity 0.8.37;

interface IHookedEscrow {
    function complete(uint256 jobId, bytes32 reason, bytes calldata optParams) external;
    function reject(uint256 jobId, bytes32 reason, bytes calldata optParams) external;
    function getJob(uint256 jobId) external view returns (address client, address provider, address evaluator,
            uint256 budget, uint256 stake, uint256 expiredAt, uint8 status, bool claimed);
}

contract RecordingHook {
    error NotTheEscrow();
    error HookBlocked(bytes4 selector);

    struct Call {
        bool before;
        uint256 jobId;
        bytes4 selector;
        uint8 status; // the job's status as the hook saw it
        bytes data;
    }
    address public immutable escrow;
    Call[] private log;
    bytes4 public blockSelector; // revert on this action (zero: none)
    bool public blockAfter;      // in afterAction (else beforeAction)

    constructor(address escrow_) {
        escrow = escrow_;
    }

    // Revert on `selector`'s beforeAction, or its afterAction when inAfter.
    function setBlock(bytes4 selector, bool inAfter) external {
        blockSelector = selector;
        blockAfter = inAfter;
    }

    function calls() external view returns (uint256) {
        return log.length;
    }

    function callAt(uint256 i) external view returns (bool, uint256, bytes4, uint8, bytes memory) {
        Call storage c = log[i];
        return (c.before, c.jobId, c.selector, c.status, c.data);
    }

    function beforeAction(uint256 jobId, bytes4 selector, bytes calldata data) external {
        record(true, jobId, selector, data);
    }

    function afterAction(uint256 jobId, bytes4 selector, bytes calldata data) external {
        record(false, jobId, selector, data);
    }

    // Only the escrow may call (ERC-8183's recommended onlyACP).
    function record(bool before, uint256 jobId, bytes4 selector, bytes calldata data) private {
        require(msg.sender == escrow, NotTheEscrow());
        require(selector != blockSelector || blockAfter == before, HookBlocked(selector));
        (,,,,,, uint8 status,) = IHookedEscrow(escrow).getJob(jobId);
        log.push(Call(before, jobId, selector, status, data));
    }
}
