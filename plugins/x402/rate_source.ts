/*
| Where the native coin's price comes from. Quotes in the native coin are
| only as honest as this price, so every rate carries the moment it was
| true, and a rate older than the staleness bound is refused: no native
| quote until the source answers again (the admin page says why).
*/

export type RateLookup =
  | { ok: true; rate: string; asOf: Date }
  | { ok: false; reason: string }

/** A source of the native coin's price, in units of a fiat currency per one coin (decimal strings). */
export interface RateSource {
  /** The currencies it prices (the provider accepts orders in these, and in the stablecoin's). */
  readonly currencies: string[]
  /** One line for the admin page: what the source is. */
  describe(): string
  /** The price now, or why there is none (stale, unreachable, not priced in that currency). */
  rate(currency: string): Promise<RateLookup>
  /** For the admin page: whether quotes can use it now, and why not. */
  status(): Promise<{ ok: boolean; message: string }>
}

const DECIMAL = /^\d{1,15}(\.\d{1,18})?$/

/** A decimal string of a positive price, or null (numbers are printed without exponent). */
function decimal(value: unknown): string | null {
  let text: string
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return null
    text = value.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 18 })
  } else if (typeof value === 'string') {
    text = value.trim()
  } else {
    return null
  }
  return DECIMAL.test(text) && Number(text) > 0 ? text : null
}

const clock = (date: Date) => date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC'

/** Fixed prices from the configuration (X402_NATIVE_RATES): always current, as the operator set them. */
export class FixedRateSource implements RateSource {
  readonly currencies: string[]
  constructor(private rates: Record<string, string>) {
    this.currencies = Object.keys(rates)
  }

  describe() {
    return this.currencies.length
      ? `fixed rates (${this.currencies.map((currency) => `${currency} ${this.rates[currency]}`).join(', ')})`
      : 'no native coin rates: native payments are off'
  }

  async rate(currency: string): Promise<RateLookup> {
    const rate = this.rates[currency]
    return rate ? { ok: true, rate, asOf: new Date() } : { ok: false, reason: `no ${currency} rate is configured` }
  }

  async status() {
    return { ok: true, message: `Native coin price: ${this.describe()}` }
  }
}

export interface HttpRateSourceOptions {
  url: string
  currencies: string[]
  /** Ask the URL again when the last answer is older than this. */
  pollSeconds: number
  /** A price older than this is stale: native quotes are refused. */
  maxAgeSeconds: number
  timeoutMs?: number
  fetch?: typeof fetch
  now?: () => number
}

/**
 * Prices polled from an HTTP JSON URL: `{ "USD": 3012.5, "EUR": "2790.1" }`,
 * or `{ "rates": { ... }, "updatedAt": "<ISO date>" | <unix seconds> }` when
 * the source says how old its prices are (then that age counts, not the
 * moment we fetched them). Asked when a quote needs a price and the last
 * answer is older than `pollSeconds` (one request in flight per process);
 * a failed request keeps the last good prices until they are stale.
 */
export class HttpRateSource implements RateSource {
  readonly currencies: string[]
  #last: { rates: Record<string, string>; asOf: Date; fetchedAt: number } | null = null
  #lastError: string | null = null
  #lastAttemptAt = 0
  #inFlight: Promise<void> | null = null

  constructor(private options: HttpRateSourceOptions) {
    this.currencies = options.currencies
  }

  #now() {
    return this.options.now?.() ?? Date.now()
  }

  describe() {
    return `${new URL(this.options.url).host} (polled every ${this.options.pollSeconds} s, stale after ${this.options.maxAgeSeconds} s)`
  }

  async #refresh() {
    const now = this.#now()
    if (this.#last && now - this.#last.fetchedAt < this.options.pollSeconds * 1000) return
    // After a failure, wait a poll interval before asking again (no request per quote against a dead source).
    if (!this.#last && this.#lastError && now - this.#lastAttemptAt < this.options.pollSeconds * 1000) return
    this.#inFlight ??= this.#fetch().finally(() => (this.#inFlight = null))
    await this.#inFlight
  }

  async #fetch() {
    this.#lastAttemptAt = this.#now()
    try {
      const response = await (this.options.fetch ?? fetch)(this.options.url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      })
      if (!response.ok) throw new Error(`answered HTTP ${response.status}`)
      const body = (await response.json()) as Record<string, unknown>
      const table = (body && typeof body.rates === 'object' && body.rates !== null ? body.rates : body) as Record<string, unknown>
      const rates: Record<string, string> = {}
      for (const currency of this.currencies) {
        const rate = decimal(table[currency] ?? table[currency.toLowerCase()])
        if (rate) rates[currency] = rate
      }
      if (!Object.keys(rates).length) throw new Error(`has no price for ${this.currencies.join(' or ')}`)
      let asOf = new Date(this.#now())
      if (body.updatedAt !== undefined) {
        const stamp = typeof body.updatedAt === 'number' ? new Date(body.updatedAt * 1000) : new Date(String(body.updatedAt))
        if (Number.isNaN(stamp.getTime())) throw new Error('has an updatedAt that is not a date')
        asOf = stamp
      }
      this.#last = { rates, asOf, fetchedAt: this.#now() }
      this.#lastError = null
    } catch (error) {
      this.#lastError = (error as Error).name === 'TimeoutError' ? 'did not answer in time' : (error as Error).message.slice(0, 200)
    }
  }

  #stale(asOf: Date) {
    return this.#now() - asOf.getTime() > this.options.maxAgeSeconds * 1000
  }

  async rate(currency: string): Promise<RateLookup> {
    await this.#refresh()
    if (!this.#last) return { ok: false, reason: `the price source ${this.#lastError ? `failed: ${this.#lastError}` : 'has not answered yet'}` }
    const rate = this.#last.rates[currency]
    if (!rate) return { ok: false, reason: `the price source has no ${currency} price` }
    if (this.#stale(this.#last.asOf)) {
      return {
        ok: false,
        reason: `the price is out of date (last update ${clock(this.#last.asOf)}, older than ${this.options.maxAgeSeconds} s${this.#lastError ? `; the source ${this.#lastError}` : ''})`,
      }
    }
    return { ok: true, rate, asOf: this.#last.asOf }
  }

  async status() {
    const probe = await this.rate(this.currencies[0])
    if (!probe.ok) return { ok: false, message: `Native coin quotes refused: ${probe.reason}. Source: ${this.describe()}` }
    return { ok: true, message: `Native coin price from ${this.describe()}: ${this.currencies[0]} ${probe.rate} as of ${clock(probe.asOf)}` }
  }
}
