// SPDX-License-Identifier: MIT
// GotongToken: the payment token of gotong's chain tests. ERC-20, with
// EIP-2612 permit (approve by signature) and EIP-3009 transferWithAuthorization
// (what x402's "exact" scheme settles with). The deployer may mint: this is a
// test token, not a currency. Domain: name "Gotong Test Token", version "1".
pragma solidity 0.8.37;

contract GotongToken {
    string public constant name = "Gotong Test Token";
    string public constant symbol = "GTT";
    uint8 public constant decimals = 18;
    address public immutable minter;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    mapping(address => uint256) public nonces;                          // EIP-2612
    mapping(address => mapping(bytes32 => bool)) public authorizationState; // EIP-3009

    bytes32 public constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)");
    uint256 private immutable chainIdAtDeploy;
    bytes32 private immutable separatorAtDeploy;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);

    constructor() {
        minter = msg.sender;
        chainIdAtDeploy = block.chainid;
        separatorAtDeploy = computeSeparator();
    }

    // The EIP-712 domain separator; recomputed if the chain forked to a new id.
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return block.chainid == chainIdAtDeploy ? separatorAtDeploy : computeSeparator();
    }

    function computeSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(
            keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
            keccak256(bytes(name)), keccak256(bytes("1")), block.chainid, address(this)));
    }

    function mint(address to, uint256 value) external {
        require(msg.sender == minter, "token: only the minter mints");
        totalSupply += value;
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    // An allowance of type(uint256).max is never decreased (a standing approval).
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= value, "token: allowance too small");
            allowance[from][msg.sender] = allowed - value;
        }
        move(from, to, value);
        return true;
    }

    function move(address from, address to, uint256 value) private {
        require(to != address(0), "token: transfer to the zero address");
        uint256 have = balanceOf[from];
        require(have >= value, "token: balance too small");
        unchecked { balanceOf[from] = have - value; }
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }

    // EIP-2612: owner's signed approval, used once (its nonce), before deadline.
    function permit(address owner, address spender, uint256 value, uint256 deadline,
                    uint8 v, bytes32 r, bytes32 s) external {
        require(block.timestamp <= deadline, "token: permit expired");
        bytes32 h = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonces[owner]++, deadline));
        require(recover(h, v, r, s) == owner, "token: permit not signed by the owner");
        allowance[owner][spender] = value;
        emit Approval(owner, spender, value);
    }

    // EIP-3009: a transfer the holder signed, valid in (validAfter, validBefore),
    // its random nonce used once.
    function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter,
                                       uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        require(block.timestamp > validAfter, "token: authorization not yet valid");
        require(block.timestamp < validBefore, "token: authorization expired");
        require(!authorizationState[from][nonce], "token: authorization already used");
        bytes32 h = keccak256(abi.encode(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value,
                                         validAfter, validBefore, nonce));
        require(recover(h, v, r, s) == from, "token: authorization not signed by the holder");
        authorizationState[from][nonce] = true;
        emit AuthorizationUsed(from, nonce);
        move(from, to, value);
    }

    // The EIP-712 signer of struct hash h; refuses high s (EIP-2) and a failed recovery.
    function recover(bytes32 h, uint8 v, bytes32 r, bytes32 s) private view returns (address) {
        require(uint256(s) <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0, "token: high s");
        address a = ecrecover(keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), h)), v, r, s);
        require(a != address(0), "token: bad signature");
        return a;
    }
}
