/**
 * Money is an integer count of a currency's minor unit (cents for USD, none
 * for JPY, ...). Conversion from what a person types happens here, once.
 */
import { minorDigits } from '#hooks/money'

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

export function formatMoney(minor: number, currency: string, locale = 'en') {
  if (minor === 0) return 'Free'
  const digits = minorDigits(currency)
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / 10 ** digits)
}

/** The decimal text for a form field: 499 USD → "4.99". */
export function minorToInput(minor: number, currency: string) {
  const digits = minorDigits(currency)
  return digits === 0 ? String(minor) : (minor / 10 ** digits).toFixed(digits)
}
