// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC3009} from "@openzeppelin/contracts/token/ERC20/extensions/draft-ERC3009.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/**
 * @title TestStablecoin ("Matinee Test USD", mUSD)
 * @notice 6-decimal ERC-20 minted by its owner, with the two gasless approvals real stablecoins have:
 * EIP-2612 `permit` and EIP-3009 (`transferWithAuthorization`, `receiveWithAuthorization`,
 * `cancelAuthorization`, `authorizationState`, events `AuthorizationUsed` / `AuthorizationCanceled`),
 * as USDC has them: random 32-byte nonces, each usable once per authorizer, `validAfter < now < validBefore`.
 * EIP-3009 is what x402's `exact` scheme signs, so the official x402 clients can pay with it.
 * Used by the contract tests and deployed on local development chains. NOT for production networks.
 * EIP-712 domain (permit and EIP-3009 alike): name "Matinee Test USD", version "1".
 */
contract TestStablecoin is ERC20, ERC20Permit, ERC3009, Ownable {
    constructor(address initialOwner) ERC20("Matinee Test USD", "mUSD") ERC20Permit("Matinee Test USD") Ownable(initialOwner) {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
