// SPDX-License-Identifier: MIT
// Test-only ERC-8183 hook for the chain tests (tests/chain/test_chain_escrow.c),
// never deployed by gotong: a job's evaluator and hook at once, it re-enters
// the escrow from its callbacks (reject for the client's refund, complete for
// a second payment): the attack a hook's place in an action must not allow.
pragma solidity 0.8.37;

interface IHookedEscrow {
    function complete(uint256 jobId, bytes32 reason, bytes calldata optParams) external;
    function reject(uint256 jobId, bytes32 reason, bytes calldata optParams) external;
}

contract ReentrantHook {
    IHookedEscrow public immutable escrow;
    bool public reenterBefore;   // reject the job from complete's beforeAction
    uint256 public reentries;    // re-entrant calls the escrow accepted
    uint256 public refused;      // re-entrant calls the escrow refused
    bool private busy;           // attacking: the escrow's nested calls back are let through

    constructor(address escrow_) {
        escrow = IHookedEscrow(escrow_);
    }

    function setReenterBefore(bool on) external {
        reenterBefore = on;
    }

    // As the job's evaluator: complete it (the hook then runs inside this call).
    function judge(uint256 jobId) external {
        escrow.complete(jobId, bytes32("ok"), "");
    }

    function beforeAction(uint256 jobId, bytes4 selector, bytes calldata) external {
        if (selector == IHookedEscrow.complete.selector && reenterBefore) attack(jobId);
    }

    function afterAction(uint256 jobId, bytes4 selector, bytes calldata) external {
        if (selector == IHookedEscrow.complete.selector) attack(jobId);
    }

    // Reject the job (the client's refund) and complete it again (a second
    // payment), each counted as accepted or refused.
    function attack(uint256 jobId) private {
        if (busy) return;
        busy = true;
        try escrow.reject(jobId, bytes32("twice"), "") { reentries++; } catch { refused++; }
        try escrow.complete(jobId, bytes32("twice"), "") { reentries++; } catch { refused++; }
        busy = false;
    }
}
