/**
 * Money is an integer count of a currency's minor unit (cents for USD, none
 * for JPY, ...). Conversion from what a person types happens here, once.
 */
import { formatMinor, minorDigits, minorToDecimal } from '#hooks/money'

export { minorDigits }

/**
 * "4.99" USD → 499; refuses negatives, too many decimals and non-numbers
 * (returns null) instead of rounding money silently.
 */
export function toMinorUnits(input: string, currency: string): number | null {
  const text = String(input).trim().replace(/,/g, '')
  const digits = minorDigits(currency)
  const match = text.match(/^(\d{1,12})(?:\.(\d+))?$/)
  if (!match) return null
  const fraction = match[2] ?? ''
  if (fraction.length > digits) return null
  return Number(match[1]) * 10 ** digits + Number(fraction.padEnd(digits, '0') || 0)
}

/** An amount of money for people: 0 USD → "$0.00" (a fee, a total or a refund of nothing is still money). */
export function formatMoney(minor: number, currency: string, locale = 'en') {
  return formatMinor(minor, currency, locale)
}

/** A video's price for people: "Free" when it costs nothing, else the amount. */
export function formatPrice(minor: number, currency: string, locale = 'en') {
  return minor === 0 ? 'Free' : formatMinor(minor, currency, locale)
}

/** The decimal text for a form field: 499 USD → "4.99". */
export const minorToInput = minorToDecimal
