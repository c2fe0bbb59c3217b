import { Contract, NonceManager, Wallet, formatUnits } from 'ethers'
import { PaymentProviderError, formatTokenAmount, type PluginState, type RefundRequest, type RefundResult } from '@matinee/plugin-kit'
import { NATIVE_TOKEN, PAID_TOPIC, decodePaidLog, invoiceIdFor, sameAddress, type PaidLog } from './chain.js'
import { termsKey, type OrderTerms } from './x402_payment_provider.js'
import type { X402Runtime } from './x402_runtime.js'

const ERC20_ABI = ['function balanceOf(address) view returns (uint256)', 'function transfer(address to, uint256 amount) returns (bool)']

/** A refund the plugin sent (state `refund:<key>`): found again, a retried refund never pays twice. */
interface SentRefund {
  /** The state key it is kept under (the core's refund key). */
  key: string
  orderId: string
  /** What was refunded of the order before it (restored if it reverts). */
  tallyBefore: { minor: number; units: string }
  txHash: string
  to: string
  token: string
  units: string
  sentAt: string
}

const refundStateKey = (key: string) => `refund:${key}`

/**
 * Crypto refunds from the platform's refund wallet (X402_REFUND_KEY): the
 * payer's wallet and what it paid are read from the payment's own `Paid`
 * log on chain (the transaction the order was paid with), and the same
 * token goes back to that wallet, in proportion to the part of the order
 * refunded. The creator keeps what the splitter paid them on chain: the
 * platform bears the refund (the ledger says so).
 */
export class CryptoRefunds {
  readonly #wallet: Wallet
  readonly #signer: NonceManager

  constructor(
    private runtime: X402Runtime,
    private state: PluginState,
    refundKey: string
  ) {
    this.#wallet = new Wallet(refundKey, runtime.provider)
    this.#signer = new NonceManager(this.#wallet)
  }

  get address() {
    return this.#wallet.address
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    const key = refundStateKey(request.refundKey ?? request.orderId)
    const earlier = await this.state.get<SentRefund>(key)
    if (earlier) return this.#settled(earlier)

    const terms = await this.state.get<OrderTerms>(termsKey(request.orderId))
    if (!terms) throw new PaymentProviderError('this order has no crypto payment terms on this server')
    const paid = await this.#paidLog(request, terms)
    // The part of the order refunded, in the units paid: cumulative and rounded down, so partial refunds
    // add up to exactly what was paid once the whole order is refunded, and never to more.
    const tallyKey = `refunded:${request.orderId}`
    const tally = (await this.state.get<{ minor: number; units: string }>(tallyKey)) ?? { minor: 0, units: '0' }
    const minor = Math.min(terms.priceMinor, tally.minor + request.amount.amount)
    const units = (paid.amount * BigInt(minor)) / BigInt(terms.priceMinor) - BigInt(tally.units)
    if (units <= 0n) throw new PaymentProviderError('nothing to refund')
    const info = await this.runtime.token(paid.token)

    const balance = paid.token === NATIVE_TOKEN ? await this.runtime.provider.getBalance(this.address) : await this.#erc20(paid.token).balanceOf(this.address)
    // A native refund also pays its own gas (a plain transfer: 21,000 gas) from the same balance.
    const fees = paid.token === NATIVE_TOKEN ? await this.runtime.provider.getFeeData() : null
    const gas = fees ? 21_000n * (fees.maxFeePerGas ?? fees.gasPrice ?? 0n) : 0n
    if (balance < units + gas) {
      throw new PaymentProviderError(
        `the refund wallet ${this.address} holds ${formatTokenAmount(balance, info.decimals, info.symbol)}, less than the ${formatTokenAmount(units, info.decimals, info.symbol)} to return: fund it first`
      )
    }

    let txHash: string
    try {
      const tx =
        paid.token === NATIVE_TOKEN
          ? await this.#signer.sendTransaction({ to: paid.payer, value: units })
          : await (this.#erc20(paid.token).connect(this.#signer) as Contract).transfer(paid.payer, units)
      txHash = tx.hash
    } catch (error) {
      this.#signer.reset()
      throw new PaymentProviderError(`the refund transaction was not sent: ${(error as any)?.shortMessage ?? (error as Error).message}`.slice(0, 300))
    }
    const sent: SentRefund = { key, orderId: request.orderId, tallyBefore: tally, txHash, to: paid.payer, token: paid.token, units: units.toString(), sentAt: new Date().toISOString() }
    await this.state.set(key, sent)
    await this.state.set(tallyKey, { minor, units: (BigInt(tally.units) + units).toString() })
    return this.#settled(sent)
  }

  /** Waits for a sent refund's receipt; a reverted one is forgotten (it may be tried again) and refused. */
  async #settled(sent: SentRefund): Promise<RefundResult> {
    const receipt = await this.runtime.provider.waitForTransaction(sent.txHash, 1, 120_000).catch(() => null)
    if (!receipt) throw new PaymentProviderError(`the refund transaction ${sent.txHash} is not mined yet; try again in a minute (it will not be sent twice)`)
    if (receipt.status !== 1) {
      await this.state.set(`refunded:${sent.orderId}`, sent.tallyBefore)
      await this.state.delete(sent.key)
      throw new PaymentProviderError(`the refund transaction ${sent.txHash} reverted`)
    }
    return { refundReference: sent.txHash }
  }

  /** The order's `Paid` log, from the transaction that paid it. */
  async #paidLog(request: RefundRequest, terms: OrderTerms): Promise<PaidLog> {
    if (!request.paymentReference) throw new PaymentProviderError('the order has no payment transaction to refund')
    const receipt = await this.runtime.provider.getTransactionReceipt(request.paymentReference).catch(() => null)
    if (!receipt) throw new PaymentProviderError('the payment transaction cannot be read from the chain right now')
    const invoiceId = invoiceIdFor(request.orderId).toLowerCase()
    for (const log of receipt.logs) {
      if (!sameAddress(log.address, terms.contract) || log.topics[0] !== PAID_TOPIC) continue
      const paid = decodePaidLog(log)
      if (paid.invoiceId.toLowerCase() === invoiceId) return paid
    }
    throw new PaymentProviderError('the payment transaction carries no payment for this order')
  }

  #erc20(address: string) {
    return new Contract(address, ERC20_ABI, this.runtime.provider)
  }

  /** For the admin page: the wallet and what it holds. */
  async describe() {
    const stablecoin = await this.runtime.stablecoin()
    const native = formatUnits(await this.runtime.provider.getBalance(this.address), 18)
    let token = ''
    if (stablecoin) {
      const info = await this.runtime.token(stablecoin)
      token = `, ${formatTokenAmount(await this.#erc20(stablecoin).balanceOf(this.address), info.decimals, info.symbol)}`
    }
    return `Refund wallet ${this.address}: ${native} ${this.runtime.config.nativeSymbol}${token}`
  }
}
