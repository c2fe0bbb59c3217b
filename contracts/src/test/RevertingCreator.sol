// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IWithdrawable {
    function withdraw(address token) external;
    function withdrawTo(address token, address to) external;
}

/**
 * @notice A creator that is a contract refusing native coin (until told otherwise), then pulls its
 * credited share from the splitter. Test-only.
 */
contract RevertingCreator {
    bool public accepting;

    error NoThanks();

    function setAccepting(bool value) external {
        accepting = value;
    }

    function withdrawFrom(address splitter, address token) external {
        IWithdrawable(splitter).withdraw(token);
    }

    function withdrawToFrom(address splitter, address token, address to) external {
        IWithdrawable(splitter).withdrawTo(token, to);
    }

    receive() external payable {
        if (!accepting) revert NoThanks();
    }
}
