import { Contract, type JsonRpcProvider } from 'ethers'
import type { PluginState } from '@matinee/plugin-kit'
import { NATIVE_TOKEN, normalizeAddress, rpcProvider } from './chain.js'
import type { X402Config } from './options.js'
import { FixedRateSource, HttpRateSource, type RateSource } from './rate_source.js'

/** What `x402:deploy` records for a chain (plugin state `deployment:<chainId>`). */
export interface Deployment {
  contract: string
  /** The test stablecoin deployed with it on a local chain. */
  token: string | null
  block: number
  owner: string
  quoteSigner: string
  feeRecipient: string
  deployedAt: string
}

export interface TokenInfo {
  address: string
  symbol: string
  decimals: number
  /** The token takes EIP-2612 permits (no approve transaction needed). */
  permit: boolean
  /** What one whole token is worth, by default: its peg, for a stablecoin. */
  currency: string | null
}

/** What the watcher last said about itself (plugin state `watcher:<chainId>`). */
export interface WatcherStatus {
  ok: boolean
  message: string
  /** When the current state (ok or failing) began. */
  since: string
  heartbeatAt: string
  contract: string | null
  nextBlock: number | null
  head: number | null
  retryInMs?: number
}

const ERC20_META_ABI = [
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function nonces(address) view returns (uint256)',
  'function DOMAIN_SEPARATOR() view returns (bytes32)',
]

/**
 * The plugin's view of its chain: the node, the active contract and token,
 * their metadata. Shared by the provider, the routes and the commands.
 */
export class X402Runtime {
  readonly provider: JsonRpcProvider
  /** The native coin's price (fixed rates, or an HTTP JSON source with a staleness bound). */
  readonly rates: RateSource
  #tokens = new Map<string, Promise<TokenInfo>>()

  constructor(
    readonly config: X402Config & { rpcUrl: string },
    readonly state: PluginState
  ) {
    this.provider = rpcProvider(config.rpcUrl, config.chainId)
    this.rates = config.nativeRateUrl
      ? new HttpRateSource({
          url: config.nativeRateUrl,
          currencies: config.nativeRateCurrencies,
          pollSeconds: config.nativeRatePollSeconds,
          maxAgeSeconds: config.nativeRateMaxAgeSeconds,
        })
      : new FixedRateSource(config.nativeRates)
  }

  deploymentKey() {
    return `deployment:${this.config.chainId}`
  }

  /** Where the watcher keeps the next block to read of one contract. */
  cursorKey(contract: string) {
    return `cursor:${this.config.chainId}:${contract.toLowerCase()}`
  }

  watcherKey() {
    return `watcher:${this.config.chainId}`
  }

  async recordedDeployment() {
    return this.state.get<Deployment>(this.deploymentKey())
  }

  /** The contract payments go to: the configured address, else the recorded deployment. */
  async contract(): Promise<{ address: string; startBlock: number } | null> {
    const recorded = await this.recordedDeployment()
    const configured = normalizeAddress(this.config.contractAddress)
    if (configured) {
      const sameAsRecorded = recorded && recorded.contract.toLowerCase() === configured.toLowerCase()
      return { address: configured, startBlock: sameAsRecorded ? recorded.block : (this.config.startBlock ?? 0) }
    }
    return recorded ? { address: recorded.contract, startBlock: recorded.block } : null
  }

  /** The stablecoin accepted: the configured one, else the recorded test token. */
  async stablecoin(): Promise<string | null> {
    return normalizeAddress(this.config.tokenAddress) ?? (await this.recordedDeployment())?.token ?? null
  }

  /** Symbol, decimals and permit support of a token (read once from the chain). */
  token(address: string): Promise<TokenInfo> {
    const key = address.toLowerCase()
    if (address === NATIVE_TOKEN) {
      return Promise.resolve({ address, symbol: this.config.nativeSymbol, decimals: 18, permit: false, currency: null })
    }
    let info = this.#tokens.get(key)
    if (!info) {
      const erc20 = new Contract(address, ERC20_META_ABI, this.provider)
      info = (async () => {
        const [symbol, decimals] = await Promise.all([erc20.symbol(), erc20.decimals()])
        const permit = await Promise.all([erc20.DOMAIN_SEPARATOR(), erc20.nonces(address)]).then(
          () => true,
          () => false
        )
        return { address, symbol: String(symbol), decimals: Number(decimals), permit, currency: this.config.tokenCurrency }
      })()
      info.catch(() => this.#tokens.delete(key))
      this.#tokens.set(key, info)
    }
    return info
  }

  async watcherStatus() {
    return this.state.get<WatcherStatus>(this.watcherKey())
  }
}
