import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { ContractFactory, NonceManager, Wallet, parseUnits } from 'ethers'
import type { PluginApi } from '@matinee/plugin-kit'
import { LOCAL_CHAIN_IDS, SPLITTER_ARTIFACT, TEST_STABLECOIN_ARTIFACT, normalizeAddress } from './chain.js'
import { ChainWatcher } from './chain_watcher.js'
import type { Deployment, X402Runtime } from './x402_runtime.js'
import type { X402PaymentProvider } from './x402_payment_provider.js'

/** The plugin's ace commands, bound to its runtime. */
export function x402Commands(api: PluginApi<any>, runtime: X402Runtime, provider: X402PaymentProvider) {
  class X402Deploy extends BaseCommand {
    static commandName = 'x402:deploy'
    static description = 'Deploy the X402 splitter contract (and, with --local, a test stablecoin) and record its address'
    static options: CommandOptions = { startApp: true }

    @flags.boolean({ description: 'Local chain: also deploy the 6-decimal test stablecoin and fund --fund wallets' })
    declare local?: boolean

    // A string, not an array flag: the flag parser turns 0x... items of arrays into numbers.
    @flags.string({ description: 'Wallets to give test stablecoins, comma separated (with --local)' })
    declare fund?: string

    @flags.number({ description: 'Whole test stablecoins per funded wallet (default 1000)' })
    declare amount?: number

    async run() {
      const { config } = runtime
      if (!config.deployerKey) return this.#fail('X402_DEPLOYER_KEY is not set: it pays for the deployment')
      let reported: number
      try {
        reported = Number(await runtime.provider.send('eth_chainId', []))
      } catch (error) {
        return this.#fail(`The node at ${config.rpcUrl} cannot be reached: ${(error as Error).message}`)
      }
      if (reported !== config.chainId) return this.#fail(`The node at ${config.rpcUrl} is chain ${reported}, but X402_CHAIN_ID is ${config.chainId}`)
      if (this.local && !LOCAL_CHAIN_IDS.has(reported)) return this.#fail(`--local deploys a mintable test token: refused on chain ${reported}`)
      const funded = (this.fund ?? '').split(',').map((item) => item.trim()).filter(Boolean).map(normalizeAddress)
      if (funded.some((address) => !address)) return this.#fail(`--fund takes wallet addresses (0x + 40 hexadecimal characters), not ${JSON.stringify(this.fund)}`)

      const deployer = new NonceManager(new Wallet(config.deployerKey, runtime.provider))
      const owner = await deployer.getAddress()
      const feeRecipient = normalizeAddress(config.feeRecipient) ?? owner
      let token: string | null = normalizeAddress(config.tokenAddress)
      if (this.local) {
        const stablecoin = await new ContractFactory(TEST_STABLECOIN_ARTIFACT.abi, TEST_STABLECOIN_ARTIFACT.bytecode, deployer).deploy(owner)
        await stablecoin.waitForDeployment()
        token = await stablecoin.getAddress()
        const perWallet = parseUnits(String(this.amount ?? 1000), 6)
        for (const wallet of funded) await (await (stablecoin as any).mint(wallet, perWallet)).wait()
      }
      const splitter = await new ContractFactory(SPLITTER_ARTIFACT.abi, SPLITTER_ARTIFACT.bytecode, deployer).deploy(
        owner,
        provider.quoteSigner,
        feeRecipient,
        token ? [token] : []
      )
      const receipt = await splitter.deploymentTransaction()!.wait()
      const deployment: Deployment = {
        contract: await splitter.getAddress(),
        token,
        block: receipt!.blockNumber,
        owner,
        quoteSigner: provider.quoteSigner,
        feeRecipient,
        deployedAt: new Date().toISOString(),
      }
      await api.state.set(runtime.deploymentKey(), deployment)
      // A restarted local chain hands out the same addresses again: a cursor
      // left from the previous chain would skip this one's early blocks.
      await api.state.delete(runtime.cursorKey(deployment.contract))
      if (config.contractAddress) {
        this.logger.warning('X402_CONTRACT_ADDRESS is set: payments keep going to that address until you change it')
      }
      this.logger.success(`X402 splitter deployed on chain ${reported} at ${deployment.contract} (block ${deployment.block})`)
      if (token) this.logger.info(`accepted stablecoin: ${token}${this.local ? ` (test mUSD, ${funded.length} wallet(s) funded)` : ''}`)
      this.logger.info(`quote signer ${deployment.quoteSigner}, platform wallet ${feeRecipient}`)
    }

    #fail(message: string): undefined {
      this.logger.error(message)
      this.exitCode = 1
      return undefined
    }
  }

  class X402Watch extends BaseCommand {
    static commandName = 'x402:watch'
    static description = 'Watch the chain for confirmed payments to the X402 splitter and complete their orders'
    static options: CommandOptions = { startApp: true, staysAlive: true }

    async run() {
      const watcher = new ChainWatcher(runtime, api, (events) => api.payments.deliver(provider.id, events))
      const stop = new AbortController()
      let stopped: Promise<void> = Promise.resolve()
      // bin/console.ts turns SIGTERM into app.terminate(); Ctrl-C does the same.
      this.app.terminating(async () => {
        stop.abort()
        await stopped
      })
      process.once('SIGINT', () => this.app.terminate())
      stopped = watcher.run(stop.signal)
    }
  }

  return [X402Deploy, X402Watch]
}
