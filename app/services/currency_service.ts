import commerce from '#config/commerce'
import { formatMoney, minorDigits } from '#services/money'

/** A display rate as an exact fraction: money never goes through floats. */
interface Rate {
  numerator: bigint
  denominator: bigint
}

/** Where a browser's language tag says the viewer lives, the currency they likely think in. */
const REGION_CURRENCIES: Record<string, string> = {
  ID: 'IDR', JP: 'JPY', IN: 'INR', BR: 'BRL', CA: 'CAD', AU: 'AUD', CH: 'CHF', GB: 'GBP', US: 'USD',
  DE: 'EUR', FR: 'EUR', ES: 'EUR', IT: 'EUR', NL: 'EUR', BE: 'EUR', AT: 'EUR', IE: 'EUR', PT: 'EUR', FI: 'EUR',
}
const LANGUAGE_CURRENCIES: Record<string, string> = { id: 'IDR', ja: 'JPY', hi: 'INR', de: 'EUR', fr: 'EUR', it: 'EUR', es: 'EUR', nl: 'EUR' }

export class CurrencyConfigError extends Error {}

function isIsoCurrency(code: string) {
  if (!/^[A-Z]{3}$/.test(code)) return false
  try {
    new Intl.NumberFormat('en', { style: 'currency', currency: code })
    return Intl.supportedValuesOf('currency').includes(code)
  } catch {
    return false
  }
}

/** "0.92" → 92/100; refuses anything that is not a positive decimal. */
function parseRate(text: string): Rate | null {
  const match = text.trim().match(/^(\d{1,15})(?:\.(\d{1,12}))?$/)
  if (!match) return null
  const fraction = match[2] ?? ''
  const numerator = BigInt(match[1] + fraction)
  if (numerator === 0n) return null
  return { numerator, denominator: 10n ** BigInt(fraction.length) }
}

/**
 * The currencies prices may be set in, and approximate conversions for
 * display. Charges are always made in the video's own currency.
 */
export class CurrencyService {
  readonly base: string
  readonly #rates = new Map<string, Rate>()

  constructor(config: { currencyBase: string; currencyRates: string }) {
    this.base = config.currencyBase
    if (!isIsoCurrency(this.base)) throw new CurrencyConfigError(`CURRENCY_BASE "${this.base}" is not an ISO 4217 currency code`)
    this.#rates.set(this.base, { numerator: 1n, denominator: 1n })
    for (const pair of config.currencyRates.split(',').map((item) => item.trim()).filter(Boolean)) {
      const [code, value, extra] = pair.split(':')
      const currency = (code ?? '').trim().toUpperCase()
      const rate = value === undefined || extra !== undefined ? null : parseRate(value)
      if (!isIsoCurrency(currency) || !rate) {
        throw new CurrencyConfigError(`CURRENCY_RATES: "${pair}" is not CODE:rate (for example IDR:17000)`)
      }
      this.#rates.set(currency, rate)
    }
  }

  /** The base currency and every currency with a rate. */
  supported(): string[] {
    return [...this.#rates.keys()]
  }

  isSupported(currency: string) {
    return this.#rates.has(currency)
  }

  /**
   * `minor` units of `from` in minor units of `to`, rounded half up; null
   * when either currency has no rate.
   */
  convert(minor: number, from: string, to: string): number | null {
    const source = this.#rates.get(from)
    const target = this.#rates.get(to)
    if (!source || !target) return null
    if (from === to) return minor
    // minor / 10^dFrom / rateFrom * rateTo * 10^dTo, with rates as fractions.
    const numerator = BigInt(minor) * target.numerator * source.denominator * 10n ** BigInt(minorDigits(to))
    const denominator = target.denominator * source.numerator * 10n ** BigInt(minorDigits(from))
    return Number((numerator * 2n + denominator) / (denominator * 2n))
  }

  /** PRICE_CAP (whole units of the base currency) in minor units of `currency`. */
  capMinor(currency: string): number | null {
    return this.convert(commerce.priceCap * 10 ** minorDigits(this.base), this.base, currency)
  }

  /** The display rate, as people write it: "1 USD = 17,000 IDR". */
  describeRate(from: string, to: string) {
    const unit = 10 ** minorDigits(from)
    const converted = this.convert(unit, from, to)
    if (converted === null) return null
    const value = converted / 10 ** minorDigits(to)
    return `1 ${from} ≈ ${value.toLocaleString('en', { maximumFractionDigits: minorDigits(to) })} ${to}`
  }

  /** "≈ Rp 84,830" for a price shown to someone who thinks in `display`; null when it adds nothing. */
  approximate(minor: number, currency: string, display: string | undefined): string | null {
    if (!display || display === currency || minor <= 0) return null
    const converted = this.convert(minor, currency, display)
    return converted === null ? null : `≈ ${formatMoney(converted, display)}`
  }

  /** The currency a browser's Accept-Language suggests, if we have a rate for it. */
  fromAcceptLanguage(header: string | undefined): string | undefined {
    for (const part of (header ?? '').split(',')) {
      const tag = part.split(';')[0].trim()
      const [language, region] = tag.split('-')
      const guess = (region && REGION_CURRENCIES[region.toUpperCase()]) || LANGUAGE_CURRENCIES[language?.toLowerCase()]
      if (guess && this.isSupported(guess)) return guess
    }
    return undefined
  }
}

const currencies = new CurrencyService(commerce)
export default currencies
