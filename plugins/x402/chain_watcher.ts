import type { Log } from 'ethers'
import type { DeliveryResult, PluginApi, VerifiedPaymentEvent } from '@matinee/plugin-kit'
import { PAID_TOPIC, decodePaidLog, orderIdOf, sameAddress, splitInMinorUnits, type PaidLog } from './chain.js'
import { quoteKey, termsKey, type OrderTerms, type SignedQuote } from './x402_payment_provider.js'
import type { WatcherStatus, X402Runtime } from './x402_runtime.js'

const MAX_BACKOFF_MS = 30_000
/**
 * The longest wait after a failure that is not the chain's (PostgreSQL or
 * Redis restarting): they are back within seconds, and payments wait.
 */
const MAX_SERVICE_BACKOFF_MS = 5_000
const HEARTBEAT_MS = 5_000

class StageError extends Error {}
/** The chain node failed or could not be reached. */
class RpcError extends StageError {}

/**
 * Reads the splitter's `Paid` logs in bounded block ranges, only from blocks
 * with enough confirmations, and hands each one to the core once:
 *
 * - the cursor (next block to read) lives in PostgreSQL and moves only after
 *   the core recorded every event of the range, so a watcher that dies
 *   re-reads at most one range and nothing is skipped; a new watcher
 *   backfills from where the last one stopped;
 * - event ids are chain id + transaction hash + log index: the core applies
 *   each once, so re-reading a range is harmless;
 * - a log is checked against the terms and the signed quote of its order
 *   (invoice, contract, video, token, exact amount, payer, creator, split);
 *   one that matches nothing, disagrees, or does not decode is reported as
 *   unmatched: recorded for the admin, granting nothing.
 *
 * When the node cannot be reached it retries with a doubling delay (up to
 * 30 s) and records why in its status, which the admin's plugin page shows;
 * when PostgreSQL or Redis fails (a restart), the delay stops at 5 s.
 */
export class ChainWatcher {
  #status: WatcherStatus | null = null
  #statusWrittenAt = 0

  constructor(
    private runtime: X402Runtime,
    private api: Pick<PluginApi, 'state' | 'logger'>,
    private deliver: (events: VerifiedPaymentEvent[]) => Promise<DeliveryResult[]>
  ) {}

  async run(signal: AbortSignal) {
    let backoff = 0
    this.api.logger.info(`x402 watcher: chain ${this.runtime.config.chainId}, ${this.runtime.config.confirmations} confirmations`)
    while (!signal.aborted) {
      try {
        const more = await this.step()
        backoff = 0
        if (!more) await sleep(this.runtime.config.pollIntervalMs, signal)
      } catch (error) {
        backoff = Math.min(Math.max(1000, backoff * 2), error instanceof RpcError ? MAX_BACKOFF_MS : MAX_SERVICE_BACKOFF_MS)
        const message = (error as Error).message
        this.api.logger.warn(`x402 watcher: ${message}; retrying in ${backoff / 1000} s`)
        await this.#report({ ok: false, message, retryInMs: backoff }).catch(() => {})
        await sleep(backoff, signal)
      }
    }
  }

  /**
   * Reads the next range of confirmed blocks (at most `blockRange`) and
   * delivers its payments. Resolves true when more confirmed blocks wait.
   */
  async step(): Promise<boolean> {
    const { config } = this.runtime
    const contract = await this.runtime.contract()
    if (!contract) {
      await this.#report({ ok: false, message: 'No contract deployed on this chain yet: run node ace x402:deploy' })
      return false
    }
    const cursorKey = this.runtime.cursorKey(contract.address)
    const nextBlock = (await this.api.state.get<{ nextBlock: number }>(cursorKey))?.nextBlock ?? contract.startBlock
    const head = await rpc(() => this.runtime.provider.getBlockNumber())
    // A block's own inclusion is its first confirmation.
    const confirmed = head - (config.confirmations - 1)
    if (nextBlock > confirmed) {
      await this.#report({ ok: true, message: watching(contract.address, nextBlock, head, config.confirmations), contract: contract.address, nextBlock, head })
      return false
    }
    const toBlock = Math.min(nextBlock + config.blockRange - 1, confirmed)
    const logs = await rpc(() =>
      this.runtime.provider.getLogs({ address: contract.address, topics: [PAID_TOPIC], fromBlock: nextBlock, toBlock })
    )
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)
    const events: VerifiedPaymentEvent[] = []
    for (const log of logs) events.push(await this.eventFor(log))
    if (events.length) {
      try {
        const results = await this.deliver(events)
        for (const result of results) {
          if (result.outcome === 'rejected') this.api.logger.warn({ eventId: result.eventId, detail: result.detail }, 'x402: payment not credited')
        }
      } catch (error) {
        throw new StageError(`Cannot record payments: ${(error as Error).message}`)
      }
    }
    await this.api.state.set(cursorKey, { nextBlock: toBlock + 1, head, updatedAt: new Date().toISOString() })
    await this.#report({ ok: true, message: watching(contract.address, toBlock + 1, head, config.confirmations), contract: contract.address, nextBlock: toBlock + 1, head })
    return toBlock < confirmed
  }

  /** The core event for one log: a payment when it matches its order's quote, else unmatched. */
  async eventFor(log: Log): Promise<VerifiedPaymentEvent> {
    const { chainId } = this.runtime.config
    const eventId = `${chainId}:${log.transactionHash.toLowerCase()}:${log.index}`
    const where = { chainId, contract: log.address, txHash: log.transactionHash, block: log.blockNumber, logIndex: log.index }
    const unmatched = (reason: string, orderId?: string, paid?: PaidLog): VerifiedPaymentEvent => ({
      eventId,
      type: 'payment.unmatched',
      orderId,
      reason,
      details: { ...where, ...(paid ? describe(paid) : { data: log.data.slice(0, 400) }) },
    })

    let paid: PaidLog
    try {
      paid = decodePaidLog(log)
    } catch (error) {
      return unmatched(`malformed Paid log: ${(error as Error).message}`)
    }
    const orderId = orderIdOf(paid.invoiceId)
    if (!orderId) return unmatched('the invoice id is not one this server issues', undefined, paid)
    const terms = await this.api.state.get<OrderTerms>(termsKey(orderId))
    if (!terms) return unmatched('no quote was issued for this invoice', orderId, paid)
    const signed = await this.api.state.get<SignedQuote>(quoteKey(orderId, paid.payer, paid.token))

    const problems: string[] = []
    if (!sameAddress(terms.contract, log.address)) problems.push(`paid to ${log.address}, quoted for ${terms.contract}`)
    if (terms.chainId !== chainId) problems.push(`quoted for chain ${terms.chainId}`)
    if (paid.videoIdHash !== terms.videoIdHash) problems.push('for another video')
    if (!sameAddress(paid.creator, terms.creator)) problems.push(`creator ${paid.creator}, quoted ${terms.creator}`)
    const option = terms.options.find((candidate) => sameAddress(candidate.token, paid.token))
    if (!option) problems.push(`token ${paid.token} was not offered`)
    else if (BigInt(option.amount) !== paid.amount) problems.push(`amount ${paid.amount}, quoted ${option.amount}`)
    if (!signed) problems.push(`no quote was signed for payer ${paid.payer}`)
    else if (BigInt(signed.quote.amount) !== paid.amount) problems.push('amount differs from the signed quote')
    if (paid.creatorAmount !== (paid.amount * BigInt(terms.creatorShareBps)) / 10_000n) problems.push('the creator share differs from the quote')
    if (problems.length) return unmatched(`does not match its quote: ${problems.join('; ')}`, orderId, paid)

    return {
      eventId,
      type: 'payment.succeeded',
      orderId,
      amount: { amount: terms.priceMinor, currency: terms.currency },
      paymentReference: log.transactionHash,
      split: terms.creatorPaidOnChain
        ? splitInMinorUnits({ priceMinor: terms.priceMinor, amount: paid.amount, creatorAmount: paid.creatorAmount })
        : undefined,
      details: { ...where, ...describe(paid), symbol: option!.symbol, decimals: option!.decimals },
    }
  }

  /** Records the watcher's state for the admin page (on change, and as a heartbeat). */
  async #report(update: Partial<WatcherStatus> & { ok: boolean; message: string }) {
    const now = new Date()
    const previous = this.#status
    const changed = !previous || previous.ok !== update.ok || previous.message !== update.message
    if (!changed && now.getTime() - this.#statusWrittenAt < HEARTBEAT_MS) return
    const since = previous && previous.ok === update.ok ? previous.since : now.toISOString()
    this.#status = {
      contract: previous?.contract ?? null,
      nextBlock: previous?.nextBlock ?? null,
      head: previous?.head ?? null,
      ...update,
      since,
      heartbeatAt: now.toISOString(),
    }
    await this.api.state.set(this.runtime.watcherKey(), this.#status)
    this.#statusWrittenAt = now.getTime()
  }
}

/** Runs an RPC call; failures read as what they are for the admin. */
async function rpc<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    const code = (error as any)?.code ?? (error as any)?.error?.code
    const reason = (error as any)?.shortMessage ?? (error as Error).message
    throw new RpcError(`RPC unreachable or failing (${code ?? 'error'}: ${String(reason).slice(0, 160)})`)
  }
}

function watching(contract: string, nextBlock: number, head: number, confirmations: number) {
  return `Watching ${contract}: confirmed up to block ${nextBlock - 1} of ${head} (${confirmations} confirmations)`
}

function describe(paid: PaidLog) {
  return {
    invoiceId: paid.invoiceId,
    payer: paid.payer,
    creator: paid.creator,
    token: paid.token,
    amount: paid.amount.toString(),
    creatorAmount: paid.creatorAmount.toString(),
    platformAmount: paid.platformAmount.toString(),
  }
}

function sleep(ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
