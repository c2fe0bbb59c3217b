import { minorDigits, PaymentProviderError } from '@matinee/plugin-kit'

/**
 * Stripe's idea of a currency's smallest unit is not always ISO 4217's,
 * which Matinee uses: IDR, HUF, TWD... have no minor unit in ISO (or Intl)
 * but two decimals at Stripe. Amounts are converted at the border.
 * https://docs.stripe.com/currencies#zero-decimal
 */
const ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'])
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND'])

function stripeDigits(currency: string) {
  if (ZERO_DECIMAL.has(currency)) return 0
  if (THREE_DECIMAL.has(currency)) return 3
  return 2
}

/** Matinee minor units → Stripe's `unit_amount`. */
export function toStripeAmount(amount: number, currency: string) {
  const shift = stripeDigits(currency) - minorDigits(currency)
  const converted = shift >= 0 ? amount * 10 ** shift : amount / 10 ** -shift
  if (!Number.isSafeInteger(converted)) throw new PaymentProviderError(`${amount} cannot be charged in ${currency} at Stripe`)
  return converted
}

/**
 * Stripe's amount → Matinee minor units. A payment that is not a whole
 * number of them gives NaN (the core then rejects it); fees, which are
 * Stripe's own figure, are rounded (`round: true`).
 */
export function fromStripeAmount(amount: number, currency: string, options: { round?: boolean } = {}) {
  const code = currency.toUpperCase()
  const shift = stripeDigits(code) - minorDigits(code)
  const converted = shift >= 0 ? amount / 10 ** shift : amount * 10 ** -shift
  if (options.round) return Math.round(converted)
  return Number.isSafeInteger(converted) ? converted : Number.NaN
}
