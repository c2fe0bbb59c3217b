// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @notice A malicious creator that, when it receives native coin, re-enters the splitter with
 * pre-set calldata (e.g. a second `payNative` or a `withdraw`) and records what happened. It never
 * reverts itself (unless `rejecting`), so the outer payment completes and the test can inspect the attempt. Test-only.
 */
contract ReentrantCreator {
    address public target;
    bytes public reentryCalldata;
    uint256 public reentryValue;
    bool public armed;
    bool public rejecting;

    uint256 public attempts;
    bool public lastSucceeded;
    bytes public lastRevertData;

    function arm(address target_, bytes calldata data, uint256 value) external {
        target = target_;
        reentryCalldata = data;
        reentryValue = value;
        armed = true;
    }

    function disarm() external {
        armed = false;
    }

    /// @dev While rejecting, receiving native coin reverts (so the splitter credits this contract instead).
    function setRejecting(bool value) external {
        rejecting = value;
    }

    /// @dev Lets the test make this contract call the splitter directly (e.g. to withdraw and be re-entered).
    function execute(address to, bytes calldata data) external payable {
        (bool ok, bytes memory ret) = to.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }

    receive() external payable {
        require(!rejecting, "rejecting");
        if (!armed) return;
        armed = false; // one attempt per arming
        attempts += 1;
        (bool ok, bytes memory ret) = target.call{value: reentryValue}(reentryCalldata);
        lastSucceeded = ok;
        lastRevertData = ret;
    }
}
