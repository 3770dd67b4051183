// SPDX-License-Identifier: MIT
// ValidationRegistry: ERC-8004's validation registry over gotong's
// AgentRegistry. An agent's owner asks a validator (a wallet or a contract:
// gotong's verifier, a DisputeCourt panel's executor, a zkML or TEE checker)
// to check a piece of work, committing to it by requestHash (the keccak of
// the request file at requestUri); only that validator answers, 0..100, as
// often as it likes (progressive finality via the tag). gotong's extensions:
// a request hash is used once, and an agent cannot name its own owner as
// validator. Incentives and slashing belong to the validation protocol, not
// to this registry (gotong's: the escrow's stake and the court's bonds).
pragma solidity 0.8.37;

interface IIdentityRegistryV {
    function ownerOf(uint256 agentId) external view returns (address);
}

contract ValidationRegistry {
    struct Validation {
        address validator;  // slot 0
        uint8 response;
        bool responded;
        uint64 lastUpdate;
        uint256 agentId;    // slot 1
        bytes32 tag;        // slot 2
    }

    uint256 public constant MAX_URI_BYTES = 2048;
    uint256 public constant MAX_SUMMARY_REQUESTS = 1024;
    IIdentityRegistryV private immutable identity;
    mapping(bytes32 => Validation) private validations;
    mapping(uint256 => bytes32[]) private byAgent;
    mapping(address => bytes32[]) private byValidator;

    event ValidationRequest(address indexed validatorAddress, uint256 indexed agentId, string requestUri,
                            bytes32 indexed requestHash);
    event ValidationResponse(address indexed validatorAddress, uint256 indexed agentId, bytes32 indexed requestHash,
                             uint8 response, string responseUri, bytes32 tag);

    constructor(address identityRegistry) {
        require(identityRegistry != address(0), "validation: identity registry is the zero address");
        identity = IIdentityRegistryV(identityRegistry);
    }

    function getIdentityRegistry() external view returns (address) {
        return address(identity);
    }

    function validationRequest(address validatorAddress, uint256 agentId, string calldata requestUri,
                               bytes32 requestHash) external {
        address owner = identity.ownerOf(agentId); // reverts for an unknown agent
        require(msg.sender == owner, "validation: only the agent's owner requests its validation");
        require(validatorAddress != address(0), "validation: validator is the zero address");
        require(validatorAddress != owner, "validation: an agent cannot validate its own work");
        require(requestHash != 0, "validation: requestHash (the request file's keccak) is required");
        require(bytes(requestUri).length > 0 && bytes(requestUri).length <= MAX_URI_BYTES,
                "validation: request URI must be 1..2048 bytes");
        require(validations[requestHash].validator == address(0), "validation: this request hash was already used");
        validations[requestHash] = Validation(validatorAddress, 0, false, 0, agentId, 0);
        byAgent[agentId].push(requestHash);
        byValidator[validatorAddress].push(requestHash);
        emit ValidationRequest(validatorAddress, agentId, requestUri, requestHash);
    }

    function validationResponse(bytes32 requestHash, uint8 response, string calldata responseUri,
                                bytes32 /* responseHash: the evidence file's commitment, kept in the calldata */,
                                bytes32 tag) external {
        Validation storage v = validations[requestHash];
        require(v.validator != address(0), "validation: no such request");
        require(msg.sender == v.validator, "validation: only the named validator responds");
        require(response <= 100, "validation: response must be 0..100");
        require(bytes(responseUri).length <= MAX_URI_BYTES, "validation: response URI over 2048 bytes");
        v.response = response;
        v.responded = true;
        v.lastUpdate = uint64(block.timestamp);
        v.tag = tag;
        emit ValidationResponse(msg.sender, v.agentId, requestHash, response, responseUri, tag);
    }

    function getValidationStatus(bytes32 requestHash) external view returns (address validatorAddress,
            uint256 agentId, uint8 response, bytes32 tag, uint256 lastUpdate) {
        Validation storage v = validations[requestHash];
        require(v.validator != address(0), "validation: no such request");
        return (v.validator, v.agentId, v.response, v.tag, v.lastUpdate);
    }

    // Answered requests of the agent (by the given validators, with the tag, when given).
    function getSummary(uint256 agentId, address[] calldata validatorAddresses, bytes32 tag)
            external view returns (uint64 count, uint8 avgResponse) {
        bytes32[] storage hs = byAgent[agentId];
        require(hs.length <= MAX_SUMMARY_REQUESTS, "validation: over 1024 requests: page off chain");
        uint256 sum;
        for (uint256 i = 0; i < hs.length; i++) {
            Validation storage v = validations[hs[i]];
            if (!v.responded || (tag != 0 && v.tag != tag) || !named(v.validator, validatorAddresses)) continue;
            count++;
            sum += v.response;
        }
        avgResponse = count == 0 ? 0 : uint8(sum / count);
    }

    function getAgentValidations(uint256 agentId) external view returns (bytes32[] memory) {
        return byAgent[agentId];
    }

    function getValidatorRequests(address validatorAddress) external view returns (bytes32[] memory) {
        return byValidator[validatorAddress];
    }

    function named(address a, address[] calldata list) private pure returns (bool) {
        if (list.length == 0) return true;
        for (uint256 i = 0; i < list.length; i++)
            if (list[i] == a) return true;
        return false;
    }
}
