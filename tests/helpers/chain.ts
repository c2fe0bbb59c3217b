import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import db from '@adonisjs/lucid/services/db'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import { Contract, ContractFactory, NonceManager, Wallet, type InterfaceAbi, type JsonRpcProvider } from 'ethers'
import { rpcProvider } from '../../plugins/x402/chain.js'
import type { Group } from '@japa/runner/core'
import { runAce, startAce, stopProcess } from '#tests/helpers/processes'
import { resetState } from '#tests/helpers/state'

/** Hardhat's public test accounts #1.. (#0 deploys, #9 is the fee recipient of .env.test). */
export const TEST_KEYS = [
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
]

export interface RecordedDeployment {
  contract: string
  token: string
  block: number
  feeRecipient: string
}

/** ABI and bytecode of a compiled contract (npx hardhat build runs first in make test). */
export async function artifact(name: string, folder = 'test') {
  const path = app.makePath(`contracts/artifacts/contracts/src/${folder ? `${folder}/` : ''}${name}.sol/${name}.json`)
  return JSON.parse(await readFile(path, 'utf8')) as { abi: InterfaceAbi; bytecode: string }
}

/**
 * A real Hardhat node on the loopback port of X402_RPC_URL (.env.test), with
 * the splitter and the test stablecoin deployed by `node ace x402:deploy
 * --local` and the test wallets funded. Interval mining is off: tests mine
 * the blocks they need (`mine`), so confirmation counts are exact.
 */
export class TestChain {
  readonly provider: JsonRpcProvider
  deployment!: RecordedDeployment
  #stateRow: any

  private constructor(
    private node: ChildProcess,
    readonly url: string
  ) {
    this.provider = rpcProvider(url, Number(env.get('X402_CHAIN_ID')))
  }

  static async start() {
    const url = env.get('X402_RPC_URL')!
    const port = new URL(url).port
    const node = spawn(process.execPath, ['node_modules/hardhat/dist/src/cli.js', 'node', '--hostname', '127.0.0.1', '--port', port], {
      cwd: app.makePath(),
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let errors = ''
    node.stderr!.on('data', (chunk) => (errors += chunk))
    const chain = new TestChain(node, url)
    const deadline = Date.now() + 60_000
    for (;;) {
      try {
        await chain.provider.getBlockNumber()
        break
      } catch {
        if (node.exitCode !== null || Date.now() > deadline) throw new Error(`the Hardhat node did not start:\n${errors}`)
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
    await chain.provider.send('evm_setIntervalMining', [0])
    const wallets = TEST_KEYS.map((key) => new Wallet(key).address).join(',')
    const deployed = await runAce(['x402:deploy', '--local', `--fund=${wallets}`], {}, 90_000)
    if (deployed.code !== 0) throw new Error(`x402:deploy failed:\n${deployed.output}`)
    chain.#stateRow = await db.from('plugin_state').where({ plugin: 'x402', key: `deployment:${env.get('X402_CHAIN_ID')}` }).first()
    chain.deployment = chain.#stateRow.value
    return chain
  }

  /**
   * Puts the recorded deployment back after `resetState()` emptied the
   * tables, with the watcher's cursor at the next block: earlier tests'
   * payments are history the new test's database never knew.
   */
  async restore() {
    await db.table('plugin_state').insert({ ...this.#stateRow, value: JSON.stringify(this.#stateRow.value) }).onConflict(['plugin', 'key']).merge()
    const cursor = { nextBlock: (await this.head()) + 1 }
    await db
      .table('plugin_state')
      .insert({ plugin: 'x402', key: `cursor:${env.get('X402_CHAIN_ID')}:${this.deployment.contract.toLowerCase()}`, value: JSON.stringify(cursor), updated_at: new Date() })
      .onConflict(['plugin', 'key'])
      .merge()
  }

  /** Test wallet i (0-based), sending through this node. */
  wallet(index: number) {
    return new NonceManager(new Wallet(TEST_KEYS[index], this.provider))
  }

  async address(index: number) {
    return new Wallet(TEST_KEYS[index]).address
  }

  splitter(runner = this.wallet(0)) {
    return artifact('X402Splitter', '').then(({ abi }) => new Contract(this.deployment.contract, abi, runner))
  }

  stablecoin(runner = this.wallet(0)) {
    return artifact('TestStablecoin').then(({ abi }) => new Contract(this.deployment.token, abi, runner))
  }

  /** Deploys another contract from the build (a second splitter, a log forger...). */
  async deploy(name: string, folder: string, args: unknown[], deployer = new NonceManager(new Wallet(env.get('X402_DEPLOYER_KEY')!, this.provider))) {
    const { abi, bytecode } = await artifact(name, folder)
    const contract = await new ContractFactory(abi, bytecode, deployer).deploy(...args)
    await contract.waitForDeployment()
    return contract as Contract
  }

  async mine(blocks = 1) {
    await this.provider.send('hardhat_mine', [`0x${blocks.toString(16)}`])
  }

  async head() {
    return this.provider.getBlockNumber()
  }

  /** Interval mining as make dev has it (a block a second), for tests that wait like a person. */
  async intervalMining(ms: number) {
    await this.provider.send('evm_setIntervalMining', [ms])
  }

  async stop() {
    this.provider.destroy()
    await stopProcess(this.node, 'SIGTERM').catch(() => this.node.kill('SIGKILL'))
  }
}

/**
 * Starts `node ace x402:watch` and resolves once it reported its first look
 * at the chain (its status row); killed if it never does.
 */
export async function startWatcher(env: Record<string, string> = {}, timeoutMs = 30_000) {
  const since = new Date()
  const watcher = startAce(['x402:watch'], env)
  let output = ''
  watcher.stdout!.on('data', (chunk) => (output += chunk))
  watcher.stderr!.on('data', (chunk) => (output += chunk))
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await db.from('plugin_state').where({ plugin: 'x402' }).whereLike('key', 'watcher:%').where('updated_at', '>=', since).first()
    if (status) return watcher
    if (watcher.exitCode !== null || Date.now() > deadline) {
      watcher.kill('SIGKILL')
      throw new Error(`the chain watcher did not start:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * The chain fixture of a test group: one Hardhat node for the group; before
 * each test, empty tables with the deployment restored, and (with
 * `watcher: true`) a running chain watcher, stopped after the test.
 * Tests that start their own watcher assign `fixture.watcher` so it is stopped too.
 */
export function useTestChain(group: Group, options: { watcher?: boolean } = {}) {
  const fixture = {} as { chain: TestChain; watcher?: ChildProcess }
  group.setup(async () => {
    await resetState()
    fixture.chain = await TestChain.start()
    return () => fixture.chain.stop()
  })
  group.each.setup(async () => {
    await resetState()
    await fixture.chain.restore()
    fixture.watcher = options.watcher ? await startWatcher() : undefined
    return async () => {
      await fixture.chain.intervalMining(0)
      if (fixture.watcher && fixture.watcher.exitCode === null) await stopProcess(fixture.watcher)
    }
  })
  return fixture
}
