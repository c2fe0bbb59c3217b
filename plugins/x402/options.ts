import vine from '@vinejs/vine'
import type { Infer } from '@vinejs/vine/types'

const address = () => vine.string().trim().regex(/^0x[0-9a-fA-F]{40}$/)
const privateKey = () => vine.string().trim().regex(/^(0x)?[0-9a-fA-F]{64}$/)

/** The plugin's options (config/plugins.ts fills them from X402_* variables). */
export const x402Options = vine.object({
  /** The node the server and the watcher read (and deploy through). Without it the plugin is off. */
  rpcUrl: vine.string().url({ require_tld: false, protocols: ['http', 'https'] }).optional(),
  /**
   * The RPC URL buyers' wallets are told to add for this chain. rpcUrl is
   * never sent to buyers (it may carry an API key); without this, wallets
   * get no RPC hint and buyers add the network themselves.
   */
  publicRpcUrl: vine.string().url({ require_tld: false, protocols: ['http', 'https'] }).optional(),
  chainId: vine.number().withoutDecimals().min(1),
  chainName: vine.string().trim().maxLength(80).optional(),
  nativeSymbol: vine.string().trim().maxLength(12).optional(),
  /** Signs quotes (EIP-712). Without it the plugin is off. */
  quoteSignerKey: privateKey().optional(),
  /** Deploys the contract (`node ace x402:deploy`); not needed to take payments. */
  deployerKey: privateKey().optional(),
  /**
   * Sends x402 settlements (pays their gas: the buyer signs, the server
   * submits, as x402's facilitator). Defaults to the deployer's key.
   */
  settlerKey: privateKey().optional(),
  /**
   * Sends crypto refunds an admin starts (Admin → Orders → Refund): the
   * platform's refund wallet, funded with the stablecoin and the native coin.
   * Without it crypto orders cannot be refunded from the app.
   */
  refundKey: privateKey().optional(),
  /**
   * Owns the splitter deployed by `x402:deploy`: pauses it, sets its tokens,
   * quote signer and fee recipient. A wallet kept off the server, never the
   * deployer's; required on any chain that is not local (defaults to the
   * deployer on a local one).
   */
  ownerAddress: address().optional(),
  /** Receives the platform's share; defaults to the deployer. */
  feeRecipient: address().optional(),
  /** The splitter; defaults to the one `x402:deploy` recorded for this chain. */
  contractAddress: address().optional(),
  /** The stablecoin accepted; defaults to the one `x402:deploy --local` deployed. */
  tokenAddress: address().optional(),
  /** The currency the stablecoin is pegged to (1 token = 1 unit of it). */
  tokenCurrency: vine.string().trim().fixedLength(3).toUpperCase().optional(),
  /** Prices of one native coin, "USD:3000,EUR:2800"; empty means no native payments. */
  nativeRates: vine.string().trim().regex(/^([A-Za-z]{3}:\d+(\.\d+)?)(,\s*[A-Za-z]{3}:\d+(\.\d+)?)*$/).optional(),
  /**
   * Where the native coin's price comes from instead of nativeRates: an HTTP
   * JSON URL ({ "USD": 3012.5 } or { "rates": {...}, "updatedAt": ... }),
   * asked at most every nativeRatePollSeconds.
   */
  nativeRateUrl: vine.string().url({ require_tld: false, protocols: ['http', 'https'] }).optional(),
  /** The currencies the URL prices ("USD,EUR"); default: the stablecoin's currency. */
  nativeRateCurrencies: vine.string().trim().regex(/^[A-Za-z]{3}(,\s*[A-Za-z]{3})*$/).optional(),
  nativeRatePollSeconds: vine.number().withoutDecimals().min(1).max(3600).optional(),
  /** A price older than this is stale: native-coin quotes are refused until the source answers again. */
  nativeRateMaxAgeSeconds: vine.number().withoutDecimals().min(10).max(86_400).optional(),
  /** A payment counts once its block has this many confirmations (its own block is the first). */
  confirmations: vine.number().withoutDecimals().min(1).max(256).optional(),
  quoteTtlMinutes: vine.number().withoutDecimals().min(2).max(1440).optional(),
  /** The most blocks one eth_getLogs asks for. */
  blockRange: vine.number().withoutDecimals().min(1).max(100_000).optional(),
  pollIntervalMs: vine.number().withoutDecimals().min(100).max(600_000).optional(),
  /** Where the watcher starts on a contract it never read, when no deployment block is recorded. */
  startBlock: vine.number().withoutDecimals().min(0).optional(),
})

export type X402Options = Infer<typeof x402Options>

/** The options with their defaults filled in. */
export function resolveOptions(options: X402Options) {
  return {
    ...options,
    chainName: options.chainName ?? `Chain ${options.chainId}`,
    nativeSymbol: options.nativeSymbol ?? 'ETH',
    tokenCurrency: options.tokenCurrency ?? 'USD',
    nativeRates: parseNativeRates(options.nativeRates ?? ''),
    nativeRateCurrencies: (options.nativeRateCurrencies ?? options.tokenCurrency ?? 'USD').split(',').map((code) => code.trim().toUpperCase()),
    nativeRatePollSeconds: options.nativeRatePollSeconds ?? 60,
    nativeRateMaxAgeSeconds: options.nativeRateMaxAgeSeconds ?? 600,
    confirmations: options.confirmations ?? 3,
    quoteTtlMinutes: options.quoteTtlMinutes ?? 20,
    blockRange: options.blockRange ?? 500,
    pollIntervalMs: options.pollIntervalMs ?? 2000,
  }
}

export type X402Config = ReturnType<typeof resolveOptions>

function parseNativeRates(text: string): Record<string, string> {
  const rates: Record<string, string> = {}
  for (const pair of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [currency, rate] = pair.split(':')
    rates[currency.toUpperCase()] = rate
  }
  return rates
}
