// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/**
 * @title TestStablecoin ("Matinee Test USD", mUSD)
 * @notice 6-decimal ERC-20 with EIP-2612 permit, minted by its owner. Used by the contract tests and
 * deployed on local development chains as the test stablecoin. NOT for production networks.
 * EIP-712 permit domain: name "Matinee Test USD", version "1".
 */
contract TestStablecoin is ERC20, ERC20Permit, Ownable {
    constructor(address initialOwner) ERC20("Matinee Test USD", "mUSD") ERC20Permit("Matinee Test USD") Ownable(initialOwner) {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
