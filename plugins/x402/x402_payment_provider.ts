import { Wallet } from 'ethers'
import {
  PaymentProviderError,
  WebhookVerificationError,
  formatTokenAmount,
  minorDigits,
  type CheckoutOrder,
  type CheckoutResult,
  type ClientCheckoutInput,
  type PaymentProvider,
  type PluginApi,
  type PluginHealth,
  type RefundRequest,
  type RefundResult,
  type VerifiedPaymentEvent,
} from '@matinee/plugin-kit'
import {
  NATIVE_TOKEN,
  invoiceIdFor,
  normalizeAddress,
  signQuote,
  toTokenUnits,
  videoIdHashFor,
  type Quote,
} from './chain.js'
import type { X402Runtime } from './x402_runtime.js'
import { checkoutPanel } from './checkout_panel.js'
import { CryptoRefunds } from './refunds.js'

/** One way to pay an order: a token and its exact amount. */
export interface PaymentOption {
  token: string
  symbol: string
  decimals: number
  /** Token units, decimal string. */
  amount: string
  /** For people: "8.41 mUSD". */
  display: string
  permit: boolean
}

/** The terms of an order's quotes, kept by the plugin (state `order:<orderId>`) and shown on the order. */
export interface OrderTerms {
  orderId: string
  buyerId: number
  videoId: string
  priceMinor: number
  currency: string
  chainId: number
  contract: string
  invoiceId: string
  videoIdHash: string
  creator: string
  creatorShareBps: number
  /** The creator's share goes to their own wallet (else the platform collects and owes it). */
  creatorPaidOnChain: boolean
  /** Unix seconds; the contract refuses the quote after it. */
  deadline: number
  options: PaymentOption[]
}

/** A quote the plugin signed for one payer and token (state `quote:<orderId>:<payer>:<token>`). */
export interface SignedQuote {
  quote: Quote
  signature: string
  contract: string
  chainId: number
  signedAt: string
}

export const termsKey = (orderId: string) => `order:${orderId}`
export const quoteKey = (orderId: string, payer: string, token: string) =>
  `quote:${orderId}:${payer.toLowerCase()}:${token.toLowerCase()}`

/**
 * Wallet payments through the X402 splitter. A checkout prices the order in
 * each accepted token and keeps those terms; the buyer's page then asks for a
 * quote signed for their wallet, and pays the contract, which splits the
 * money between the creator and the platform in the same transaction. The
 * chain watcher (`node ace x402:watch`) reports the payment once it has
 * enough confirmations.
 */
export class X402PaymentProvider implements PaymentProvider {
  readonly id = 'x402'
  readonly label = 'Crypto wallet'
  readonly currencies: string[]
  readonly #signer: Wallet
  /**
   * Refunds are paid from the platform's refund wallet (X402_REFUND_KEY),
   * so only admins start them; without the key there is no refund here.
   */
  readonly refundsBy = 'admins' as const
  refund?: (request: RefundRequest) => Promise<RefundResult>
  readonly refunds: CryptoRefunds | null

  constructor(
    private runtime: X402Runtime,
    private api: Pick<PluginApi, 'hooks' | 'state' | 'logger'>,
    quoteSignerKey: string
  ) {
    this.#signer = new Wallet(quoteSignerKey)
    this.refunds = runtime.config.refundKey ? new CryptoRefunds(runtime, api.state, runtime.config.refundKey) : null
    if (this.refunds) this.refund = (request) => this.refunds!.refund(request)
    const config = runtime.config
    this.currencies = [...new Set([config.tokenCurrency, ...runtime.rates.currencies])]
  }

  get quoteSigner() {
    return this.#signer.address
  }

  async createCheckout(order: CheckoutOrder): Promise<CheckoutResult> {
    const { config } = this.runtime
    const contract = await this.runtime.contract()
    if (!contract) throw new PaymentProviderError('crypto payments are not set up on this server yet (no contract deployed)')
    const unpriced: string[] = []
    const options = await this.#optionsFor(order, unpriced).catch((error) => {
      this.api.logger.error({ err: error }, 'x402: could not price the order')
      throw new PaymentProviderError('the blockchain node cannot be reached; try again in a moment')
    })
    if (!options.length) {
      throw new PaymentProviderError(`no accepted token can pay in ${order.price.currency}${unpriced.length ? `: ${unpriced.join('; ')}` : ''}`)
    }

    const creatorWallet = normalizeAddress(order.creator.payoutAccount)
    const deployment = await this.runtime.recordedDeployment()
    const platformWallet = normalizeAddress(config.feeRecipient) ?? deployment?.feeRecipient
    if (!creatorWallet && !platformWallet) throw new PaymentProviderError('the platform has no wallet configured')
    const deadline = Math.floor(Math.min(Date.now() + config.quoteTtlMinutes * 60_000, order.expiresAt.getTime()) / 1000)

    const terms: OrderTerms = {
      orderId: order.orderId,
      buyerId: order.buyer.id,
      videoId: order.videoId,
      priceMinor: order.price.amount,
      currency: order.price.currency,
      chainId: config.chainId,
      contract: contract.address,
      invoiceId: invoiceIdFor(order.orderId),
      videoIdHash: videoIdHashFor(order.videoId),
      // Without a wallet of their own the creator's share is collected by the
      // platform (recorded as owed to them), so the whole amount goes there.
      creator: creatorWallet ?? platformWallet!,
      creatorShareBps: creatorWallet ? 10_000 - order.platformFeeBps : 0,
      creatorPaidOnChain: !!creatorWallet,
      deadline,
      options,
    }
    await this.api.state.set(termsKey(order.orderId), terms)
    return {
      kind: 'client_action',
      providerReference: terms.invoiceId,
      action: {
        kind: 'x402',
        chainId: terms.chainId,
        chainName: config.chainName,
        ...this.#rpcHint(),
        nativeSymbol: config.nativeSymbol,
        contract: terms.contract,
        invoiceId: terms.invoiceId,
        creator: terms.creator,
        creatorShareBps: terms.creatorShareBps,
        deadline: terms.deadline,
        confirmations: config.confirmations,
        options: terms.options,
      },
    }
  }

  /**
   * The accepted tokens that can pay this price, with their exact amounts.
   * The native coin needs a current price: a stale or missing one leaves it
   * out, and `unpriced` says why (the buyer and the admin read it).
   */
  async #optionsFor(order: CheckoutOrder, unpriced: string[] = []): Promise<PaymentOption[]> {
    const { config } = this.runtime
    const currency = order.price.currency
    const candidates: Array<{ token: string; rate: string | null }> = []
    const stablecoin = await this.runtime.stablecoin()
    if (stablecoin) candidates.push({ token: stablecoin, rate: currency === config.tokenCurrency ? '1' : null })
    const native = await this.runtime.rates.rate(currency)
    if (!native.ok && this.runtime.rates.currencies.includes(currency)) unpriced.push(`${config.nativeSymbol}: ${native.reason}`)
    candidates.push({ token: NATIVE_TOKEN, rate: native.ok ? native.rate : null })

    const options: PaymentOption[] = []
    for (const candidate of candidates) {
      const info = await this.runtime.token(candidate.token)
      const rate = await this.api.hooks.applyFilters('crypto:rate', candidate.rate, {
        token: info.address,
        symbol: info.symbol,
        currency,
        chainId: config.chainId,
      })
      if (!rate) continue
      let units: bigint
      try {
        units = toTokenUnits({ minor: order.price.amount, currencyExponent: minorDigits(currency), rate, decimals: info.decimals })
      } catch {
        this.api.logger.error({ rate, token: info.symbol }, 'x402: invalid crypto:rate; token skipped')
        continue
      }
      if (units <= 0n) continue
      options.push({
        token: info.address,
        symbol: info.symbol,
        decimals: info.decimals,
        amount: units.toString(),
        display: formatTokenAmount(units, info.decimals, info.symbol),
        permit: info.permit,
      })
    }
    return options
  }

  /**
   * Signs the order's quote for the buyer's wallet and one of its tokens.
   * The terms come from what the checkout stored, never from the browser.
   */
  async quoteFor(input: { orderId: string; buyerId: number; payer: unknown; token: unknown }) {
    const terms = await this.api.state.get<OrderTerms>(termsKey(input.orderId))
    if (!terms || terms.buyerId !== input.buyerId) throw new QuoteError(404, 'There is no such order')
    if (terms.deadline * 1000 <= Date.now()) throw new QuoteError(410, 'This quote has expired. Start the purchase again.')
    const payer = normalizeAddress(input.payer)
    if (!payer) throw new QuoteError(422, 'The wallet address is not a valid address')
    const option = terms.options.find((candidate) => candidate.token.toLowerCase() === String(input.token).toLowerCase())
    if (!option) throw new QuoteError(422, 'This token is not accepted for this order')
    // The native amount was priced at checkout; if the price source has gone stale since, no quote is signed for it.
    if (option.token === NATIVE_TOKEN) {
      const native = await this.runtime.rates.rate(terms.currency)
      if (!native.ok) throw new QuoteError(409, `Paying in ${option.symbol} is not possible right now: ${native.reason}. Pay with another token or try again later.`)
    }

    const quote: Quote = {
      invoiceId: terms.invoiceId,
      videoIdHash: terms.videoIdHash,
      payer,
      token: option.token,
      amount: option.amount,
      creator: terms.creator,
      creatorShareBps: terms.creatorShareBps,
      deadline: terms.deadline,
    }
    const signed: SignedQuote = {
      quote,
      signature: await signQuote(this.#signer, terms.chainId, terms.contract, quote),
      contract: terms.contract,
      chainId: terms.chainId,
      signedAt: new Date().toISOString(),
    }
    await this.api.state.set(quoteKey(terms.orderId, payer, option.token), signed)
    return { ...signed, option }
  }

  async handleWebhook(): Promise<VerifiedPaymentEvent[]> {
    throw new WebhookVerificationError('x402 payments are confirmed on chain by the watcher, not by webhooks')
  }

  renderCheckout(input: ClientCheckoutInput) {
    // The hint of today's configuration, not the one stored with the order:
    // orders started before X402_PUBLIC_RPC_URL changed never show the old one.
    const { rpcUrl: _stored, ...action } = input.action as Record<string, unknown>
    return checkoutPanel({ ...input, action: { ...action, ...this.#rpcHint() } })
  }

  /**
   * The RPC URL a buyer's wallet may add for this chain: X402_PUBLIC_RPC_URL
   * only. The server's own node URL (X402_RPC_URL) often carries a provider
   * API key and is never sent to buyers.
   */
  #rpcHint(): { rpcUrl?: string } {
    const url = this.runtime.config.publicRpcUrl
    return url ? { rpcUrl: url } : {}
  }

  /** Says whether the contract is known and what the watcher last reported. */
  async health(): Promise<PluginHealth> {
    const contract = await this.runtime.contract()
    if (!contract) return { ok: false, message: 'No contract deployed on this chain yet: run node ace x402:deploy' }
    const status = await this.runtime.watcherStatus()
    if (!status) return { ok: false, message: `Contract ${contract.address}; the chain watcher (node ace x402:watch) has never run` }
    const silentFor = Date.now() - Date.parse(status.heartbeatAt)
    if (silentFor > 60_000) {
      return { ok: false, message: `Chain watcher not running: last seen ${clock(status.heartbeatAt)}` }
    }
    if (!status.ok) return { ok: false, message: `${status.message} since ${clock(status.since)}` }
    const rates = await this.runtime.rates.status()
    if (!rates.ok) return { ok: false, message: `${status.message}. ${rates.message}` }
    return { ok: true, message: `${status.message}. ${rates.message}` }
  }
}

export class QuoteError extends Error {
  constructor(
    public status: number,
    message: string
  ) {
    super(message)
  }
}

function clock(iso: string) {
  return new Date(iso).toISOString().slice(11, 16) + ' UTC'
}
