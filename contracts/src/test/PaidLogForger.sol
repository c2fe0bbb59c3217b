// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Test-only: emits arbitrary logs (any topics, any data) so the chain
/// watcher can be shown logs a real splitter never emits (truncated data,
/// invoices nobody quoted) when it is pointed at this contract's address.
contract PaidLogForger {
    function emitLog(bytes32[] calldata topics, bytes calldata data) external {
        bytes memory payload = data;
        uint256 count = topics.length;
        require(count <= 4, "at most 4 topics");
        assembly {
            let ptr := add(payload, 0x20)
            let len := mload(payload)
            switch count
            case 0 { log0(ptr, len) }
            case 1 { log1(ptr, len, calldataload(topics.offset)) }
            case 2 { log2(ptr, len, calldataload(topics.offset), calldataload(add(topics.offset, 0x20))) }
            case 3 {
                log3(ptr, len, calldataload(topics.offset), calldataload(add(topics.offset, 0x20)), calldataload(add(topics.offset, 0x40)))
            }
            default {
                log4(
                    ptr,
                    len,
                    calldataload(topics.offset),
                    calldataload(add(topics.offset, 0x20)),
                    calldataload(add(topics.offset, 0x40)),
                    calldataload(add(topics.offset, 0x60))
                )
            }
        }
    }
}
