import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { ContractFactory, NonceManager, Wallet, parseUnits } from 'ethers'
import type { PluginApi } from '@matinee/plugin-kit'
import { LOCAL_CHAIN_IDS, SPLITTER_ARTIFACT, TEST_STABLECOIN_ARTIFACT, normalizeAddress } from './chain.js'
import { ChainWatcher } from './chain_watcher.js'
import { isDevelopmentAddress } from './development_keys.js'
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
      const deployerAddress = new Wallet(config.deployerKey).address
      // Before the node is asked anything: the node then must report this chain id.
      const refused = LOCAL_CHAIN_IDS.has(config.chainId) ? null : refusedOnRealChain(config, deployerAddress, provider.quoteSigner)
      if (refused) return this.#fail(refused)
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
      const owner = normalizeAddress(config.ownerAddress) ?? deployerAddress
      const feeRecipient = normalizeAddress(config.feeRecipient) ?? owner
      let token: string | null = normalizeAddress(config.tokenAddress)
      if (this.local) {
        // The deployer mints the test token to the funded wallets right below.
        const stablecoin = await new ContractFactory(TEST_STABLECOIN_ARTIFACT.abi, TEST_STABLECOIN_ARTIFACT.bytecode, deployer).deploy(deployerAddress)
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
      this.logger.info(`owner ${owner}, quote signer ${deployment.quoteSigner}, platform wallet ${feeRecipient}`)
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

const PUBLIC_KEY_HELP = 'is a public development key (Hardhat/Anvil/Ganache test accounts): anyone'

/**
 * Why a deployment to a chain that is not local is refused, or null. There,
 * keys everybody has would hand the contract and its money to anyone, and the
 * owner must be a wallet of its own: the deployer key sits on the server.
 */
function refusedOnRealChain(config: X402Runtime['config'], deployerAddress: string, quoteSigner: string): string | null {
  const chain = `chain ${config.chainId} (not a local chain)`
  if (isDevelopmentAddress(deployerAddress)) {
    return `X402_DEPLOYER_KEY ${PUBLIC_KEY_HELP} can spend from it. Refused on ${chain}: use a key of your own.`
  }
  if (isDevelopmentAddress(quoteSigner)) {
    return `X402_QUOTE_SIGNER_KEY ${PUBLIC_KEY_HELP} could sign quotes for your contract. Refused on ${chain}: generate a key of your own.`
  }
  const owner = normalizeAddress(config.ownerAddress)
  if (!owner) {
    return `X402_OWNER_ADDRESS is not set: on ${chain} the contract's owner (pause, accepted tokens, quote signer, fee recipient) must be a wallet you keep off this server.`
  }
  if (owner === deployerAddress) {
    return `X402_OWNER_ADDRESS is the deployer's address: on ${chain} the owner must be another wallet, kept off this server (the deployer key is on it).`
  }
  if (isDevelopmentAddress(owner)) return `X402_OWNER_ADDRESS belongs to a public development key: anyone could control the contract on ${chain}.`
  const feeRecipient = normalizeAddress(config.feeRecipient)
  if (feeRecipient && isDevelopmentAddress(feeRecipient)) {
    return `X402_FEE_RECIPIENT belongs to a public development key: anyone could take the platform's share on ${chain}.`
  }
  return null
}
