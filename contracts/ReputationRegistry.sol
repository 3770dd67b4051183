// SPDX-License-Identifier: MIT
// ReputationRegistry: ERC-8004's reputation registry over gotong's
// AgentRegistry (the identity registry). A client rates an agent 0..100 with
// two tags and an off-chain file (its URI and keccak hash), under a
// feedbackAuth the agent's owner signed when it took the client's task:
//   feedbackAuth = abi.encode(agentId, clientAddress, indexLimit, expiry,
//                  chainId, identityRegistry, signerAddress) ‖ 65-byte
//                  signature (EIP-191 personal_sign of the keccak of the
//                  encoded tuple),
// valid only for that agent, that client, this chain and this identity
// registry, before expiry, and while the client's feedback count for the
// agent is below indexLimit (so an owner can allow one rating per task, or
// several). gotong's extensions: the signer must be the agent's owner (the
// identity registry has no operators), an owner cannot rate its own agent,
// and only EOA signatures are accepted (no ERC-1271). Feedback can be revoked
// by its client and answered by anyone; summaries filter by client (the only
// defence against Sybil raters: choose whose ratings count) and tags.
pragma solidity 0.8.37;

interface IIdentityRegistry {
    function ownerOf(uint256 agentId) external view returns (address);
}

contract ReputationRegistry {
    struct Feedback {
        uint8 score;
        bool revoked;
        bytes32 tag1;
        bytes32 tag2;
    }

    uint256 public constant MAX_URI_BYTES = 2048;
    uint256 public constant MAX_SUMMARY_CLIENTS = 256;
    uint256 private constant AUTH_BYTES = 7 * 32 + 65;
    IIdentityRegistry private immutable identity;

    // agentId => client => feedback, index 1..lastIndex
    mapping(uint256 => mapping(address => mapping(uint64 => Feedback))) private feedback;
    mapping(uint256 => mapping(address => uint64)) private lastIndex;
    mapping(uint256 => address[]) private clients;
    // agentId => client => index => responder => responses
    mapping(uint256 => mapping(address => mapping(uint64 => mapping(address => uint64)))) private responses;
    mapping(uint256 => mapping(address => mapping(uint64 => uint64))) private responseTotal;

    event NewFeedback(uint256 indexed agentId, address indexed clientAddress, uint8 score, bytes32 indexed tag1,
                      bytes32 tag2, string fileuri, bytes32 filehash);
    event FeedbackRevoked(uint256 indexed agentId, address indexed clientAddress, uint64 indexed feedbackIndex);
    event ResponseAppended(uint256 indexed agentId, address indexed clientAddress, uint64 feedbackIndex,
                           address indexed responder, string responseUri);

    constructor(address identityRegistry) {
        require(identityRegistry != address(0), "reputation: identity registry is the zero address");
        identity = IIdentityRegistry(identityRegistry);
    }

    function getIdentityRegistry() external view returns (address) {
        return address(identity);
    }

    function giveFeedback(uint256 agentId, uint8 score, bytes32 tag1, bytes32 tag2, string calldata fileuri,
                          bytes32 filehash, bytes calldata feedbackAuth) external {
        require(score <= 100, "reputation: score must be 0..100");
        require(bytes(fileuri).length <= MAX_URI_BYTES, "reputation: file URI over 2048 bytes");
        address owner = identity.ownerOf(agentId); // reverts for an unknown agent
        require(msg.sender != owner, "reputation: an agent's owner cannot rate its own agent");
        uint64 index = lastIndex[agentId][msg.sender] + 1;
        checkAuth(agentId, owner, index, feedbackAuth);
        if (index == 1) clients[agentId].push(msg.sender);
        lastIndex[agentId][msg.sender] = index;
        feedback[agentId][msg.sender][index] = Feedback(score, false, tag1, tag2);
        emit NewFeedback(agentId, msg.sender, score, tag1, tag2, fileuri, filehash);
    }

    function revokeFeedback(uint256 agentId, uint64 feedbackIndex) external {
        require(feedbackIndex >= 1 && feedbackIndex <= lastIndex[agentId][msg.sender],
                "reputation: no such feedback of yours");
        Feedback storage f = feedback[agentId][msg.sender][feedbackIndex];
        require(!f.revoked, "reputation: already revoked");
        f.revoked = true;
        emit FeedbackRevoked(agentId, msg.sender, feedbackIndex);
    }

    function appendResponse(uint256 agentId, address clientAddress, uint64 feedbackIndex, string calldata responseUri,
                            bytes32 /* responseHash: the response file's commitment, kept in the calldata */)
            external {
        require(feedbackIndex >= 1 && feedbackIndex <= lastIndex[agentId][clientAddress],
                "reputation: no such feedback");
        require(bytes(responseUri).length > 0 && bytes(responseUri).length <= MAX_URI_BYTES,
                "reputation: response URI must be 1..2048 bytes");
        responses[agentId][clientAddress][feedbackIndex][msg.sender]++;
        responseTotal[agentId][clientAddress][feedbackIndex]++;
        emit ResponseAppended(agentId, clientAddress, feedbackIndex, msg.sender, responseUri);
    }

    // ---- reads ----

    function getSummary(uint256 agentId, address[] calldata clientAddresses, bytes32 tag1, bytes32 tag2)
            external view returns (uint64 count, uint8 averageScore) {
        address[] memory who = clientAddresses;
        if (who.length == 0) who = clients[agentId];
        require(who.length <= MAX_SUMMARY_CLIENTS, "reputation: over 256 clients: filter or page off chain");
        uint256 sum;
        for (uint256 i = 0; i < who.length; i++) {
            uint64 last = lastIndex[agentId][who[i]];
            for (uint64 k = 1; k <= last; k++) {
                Feedback storage f = feedback[agentId][who[i]][k];
                if (f.revoked || (tag1 != 0 && f.tag1 != tag1) || (tag2 != 0 && f.tag2 != tag2)) continue;
                count++;
                sum += f.score;
            }
        }
        averageScore = count == 0 ? 0 : uint8(sum / count);
    }

    function readFeedback(uint256 agentId, address clientAddress, uint64 index)
            external view returns (uint8 score, bytes32 tag1, bytes32 tag2, bool isRevoked) {
        require(index >= 1 && index <= lastIndex[agentId][clientAddress], "reputation: no such feedback");
        Feedback storage f = feedback[agentId][clientAddress][index];
        return (f.score, f.tag1, f.tag2, f.revoked);
    }

    function getResponseCount(uint256 agentId, address clientAddress, uint64 feedbackIndex,
                              address[] calldata responders) external view returns (uint64 n) {
        if (responders.length == 0) return responseTotal[agentId][clientAddress][feedbackIndex];
        for (uint256 i = 0; i < responders.length; i++)
            n += responses[agentId][clientAddress][feedbackIndex][responders[i]];
    }

    function getClients(uint256 agentId) external view returns (address[] memory) {
        return clients[agentId];
    }

    function getLastIndex(uint256 agentId, address clientAddress) external view returns (uint64) {
        return lastIndex[agentId][clientAddress];
    }

    // ---- internals ----

    // The feedbackAuth names this agent, this client, this chain and registry,
    // is unexpired, allows feedback number `index`, and is signed by the owner.
    function checkAuth(uint256 agentId, address owner, uint64 index, bytes calldata auth) private view {
        require(auth.length == AUTH_BYTES, "reputation: feedbackAuth must be 7 words and a 65-byte signature");
        (uint256 aId, address client, uint64 indexLimit, uint256 expiry, uint256 chainId, address registry,
         address signer) = abi.decode(auth[:224], (uint256, address, uint64, uint256, uint256, address, address));
        require(aId == agentId && client == msg.sender, "reputation: feedbackAuth is for another agent or client");
        require(chainId == block.chainid && registry == address(identity),
                "reputation: feedbackAuth is for another chain or identity registry");
        require(block.timestamp < expiry, "reputation: feedbackAuth expired");
        require(index <= indexLimit, "reputation: feedbackAuth's indexLimit is used up");
        require(signer == owner, "reputation: feedbackAuth must be signed by the agent's owner");
        bytes32 h = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", keccak256(auth[:224])));
        require(recover(h, auth[224:]) == signer, "reputation: feedbackAuth's signature is not its signer's");
    }

    function recover(bytes32 h, bytes calldata sig) private pure returns (address a) {
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v < 27) v += 27;
        require(uint256(s) <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0, "reputation: high s");
        a = ecrecover(h, v, r, s);
        require(a != address(0), "reputation: bad signature");
    }
}
