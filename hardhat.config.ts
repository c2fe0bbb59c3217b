/**
 * Hardhat 3 configuration for the Matinee contracts (the X402-style payment splitter).
 *
 * Everything lives under `contracts/`: sources in `contracts/src`, mocha tests in
 * `contracts/test`, and Hardhat's generated `contracts/artifacts` and `contracts/cache`.
 *
 * No compiler is ever downloaded: the WASM build of solc comes from the `solc` npm package
 * (pinned in package.json) and is handed to Hardhat via `solidity.path`. Hardhat skips its
 * download step for any compiler config that has a `path`. The `version` must be the one of
 * that soljson.js, so it is read from `solc/package.json` rather than written twice.
 *
 *   npx hardhat compile
 *   npx hardhat test            (or: npm run test:contracts)
 *   npx hardhat node            (a local chain on 127.0.0.1:8545; scripts/chain.sh)
 */
import { createRequire } from 'node:module'
import { defineConfig } from 'hardhat/config'
import hardhatEthers from '@nomicfoundation/hardhat-ethers'
import hardhatEthersChaiMatchers from '@nomicfoundation/hardhat-ethers-chai-matchers'
import hardhatMocha from '@nomicfoundation/hardhat-mocha'
import hardhatNetworkHelpers from '@nomicfoundation/hardhat-network-helpers'

const require = createRequire(import.meta.url)
const solcVersion: string = require('solc/package.json').version
const solcPath: string = require.resolve('solc/soljson.js')

export default defineConfig({
  plugins: [hardhatEthers, hardhatEthersChaiMatchers, hardhatMocha, hardhatNetworkHelpers],
  solidity: {
    version: solcVersion,
    path: solcPath,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
    },
  },
  paths: {
    sources: 'contracts/src',
    tests: {
      mocha: 'contracts/test',
      solidity: 'contracts/test',
    },
    artifacts: 'contracts/artifacts',
    cache: 'contracts/cache',
  },
  test: {
    mocha: { timeout: 60_000 },
  },
  networks: {
    // `hardhat node` (make dev, the app's tests, the chain bench): a block per
    // transaction and one every second, so confirmations keep coming.
    node: {
      type: 'edr-simulated',
      chainType: 'l1',
      chainId: 31337,
      mining: { auto: true, interval: 1000 },
    },
  },
})
