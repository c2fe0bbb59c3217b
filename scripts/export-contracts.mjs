#!/usr/bin/env node
// Copies the ABI and bytecode the x402 plugin deploys and talks to from
// Hardhat's artifacts (npx hardhat build) into plugins/x402/contracts, so the
// plugin runs without Hardhat. tests/unit/x402.spec.ts fails if they drift.
import { readFileSync, writeFileSync } from 'node:fs'

const exported = {
  X402Splitter: 'contracts/artifacts/contracts/src/X402Splitter.sol/X402Splitter.json',
  TestStablecoin: 'contracts/artifacts/contracts/src/test/TestStablecoin.sol/TestStablecoin.json',
}
for (const [name, path] of Object.entries(exported)) {
  const { contractName, abi, bytecode } = JSON.parse(readFileSync(path, 'utf8'))
  writeFileSync(`plugins/x402/contracts/${name}.json`, JSON.stringify({ contractName, abi, bytecode }, null, 1) + '\n')
  console.log(`exported ${name}`)
}
