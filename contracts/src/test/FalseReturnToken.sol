// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title FalseReturnToken
 * @notice Test token whose `transfer` returns `false` (instead of reverting) when the recipient is
 * blocklisted, like some older tokens. 18 decimals, open mint. Test-only.
 */
contract FalseReturnToken is ERC20 {
    mapping(address => bool) public isBlocked;

    constructor() ERC20("False Return Token", "FRT") {}

    function mint(address to, uint256 value) external {
        _mint(to, value);
    }

    function setBlocked(address account, bool blocked) external {
        isBlocked[account] = blocked;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        if (isBlocked[to]) return false;
        return super.transfer(to, value);
    }
}
