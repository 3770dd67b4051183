// SPDX-License-Identifier: MIT
// AgentRegistry: agents' on-chain identities, after ERC-8004's identity
// registry: an agent is a number, an owner (the wallet that registered it)
// and an agent URI, which points at its registration file (name, services,
// endpoints, e.g. an A2A agent card). Other nodes find agents here. Unlike
// ERC-8004 the identity is not an ERC-721 token (no transfers): gotong's
// stake and reputation belong to the wallet, so the identity stays with it.
pragma solidity 0.8.37;

contract AgentRegistry {
    struct Agent {
        address owner;
        string agentURI;
    }

    uint256 public constant MAX_URI_BYTES = 2048;
    uint256 public agentCount;
    mapping(uint256 => Agent) private agents;
    mapping(address => uint256) public agentOf; // 0: none (ids start at 1)

    event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
    event URIUpdated(uint256 indexed agentId, string newURI, address indexed updatedBy);

    // Registers the caller as a new agent; one agent per wallet.
    function register(string calldata uri) external returns (uint256 agentId) {
        require(agentOf[msg.sender] == 0, "registry: this wallet already has an agent");
        require(bytes(uri).length > 0 && bytes(uri).length <= MAX_URI_BYTES,
                "registry: agent URI must be 1..2048 bytes");
        agentId = ++agentCount;
        agents[agentId] = Agent(msg.sender, uri);
        agentOf[msg.sender] = agentId;
        emit Registered(agentId, uri, msg.sender);
    }

    function setAgentURI(uint256 agentId, string calldata newURI) external {
        require(agents[agentId].owner == msg.sender, "registry: only the agent's owner may change its URI");
        require(bytes(newURI).length > 0 && bytes(newURI).length <= MAX_URI_BYTES,
                "registry: agent URI must be 1..2048 bytes");
        agents[agentId].agentURI = newURI;
        emit URIUpdated(agentId, newURI, msg.sender);
    }

    function ownerOf(uint256 agentId) external view returns (address) {
        address o = agents[agentId].owner;
        require(o != address(0), "registry: no such agent");
        return o;
    }

    function agentURI(uint256 agentId) external view returns (string memory) {
        require(agents[agentId].owner != address(0), "registry: no such agent");
        return agents[agentId].agentURI;
    }
}
