// SPDX-License-Identifier: MIT
// MerkleDistributor: pays an airdrop whose claims are the leaves of a Merkle
// tree (the layout of Uniswap's distributor, which src/fund/airdrop.c builds):
//   leaf = keccak256(abi.encodePacked(uint256 index, address account, uint256 amount))
//   node = keccak256 of the sorted pair of its children
// Each index is claimed once (a bitmap); anyone may submit a claim, the tokens
// go to the account in the leaf. The distributor holds the airdrop's tokens.
pragma solidity 0.8.37;

interface IERC20Transfer {
    function transfer(address to, uint256 value) external returns (bool);
}

contract MerkleDistributor {
    address public immutable token;
    bytes32 public immutable merkleRoot;
    mapping(uint256 => uint256) private claimedBitMap;
    uint256 public constant MAX_PROOF = 64; // a tree of 2^64 leaves is more than enough

    event Claimed(uint256 index, address account, uint256 amount);

    constructor(address token_, bytes32 merkleRoot_) {
        token = token_;
        merkleRoot = merkleRoot_;
    }

    function isClaimed(uint256 index) public view returns (bool) {
        return claimedBitMap[index / 256] & (uint256(1) << (index % 256)) != 0;
    }

    function claim(uint256 index, address account, uint256 amount, bytes32[] calldata proof) external {
        require(!isClaimed(index), "distributor: already claimed");
        require(proof.length <= MAX_PROOF, "distributor: proof longer than 64");
        bytes32 node = keccak256(abi.encodePacked(index, account, amount));
        for (uint256 i = 0; i < proof.length; i++) {
            bytes32 p = proof[i];
            node = node < p ? keccak256(abi.encodePacked(node, p)) : keccak256(abi.encodePacked(p, node));
        }
        require(node == merkleRoot, "distributor: invalid proof");
        claimedBitMap[index / 256] |= uint256(1) << (index % 256);
        require(IERC20Transfer(token).transfer(account, amount), "distributor: transfer failed");
        emit Claimed(index, account, amount);
    }
}
