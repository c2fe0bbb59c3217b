import { formatMinor, minorDigits, minorToDecimal, type Money } from '@matinee/plugin-kit'

/** 1050 EUR → "€10.50", for people; amounts stay integers everywhere else. */
export const formatMoney = ({ amount, currency }: Money) => formatMinor(amount, currency)

/** 1050 EUR → "10.50": the decimal an admin reads on a bank statement. */
export const decimalOf = ({ amount, currency }: Money) => minorToDecimal(amount, currency)

/**
 * "10.50" (or "10,50", "10.5", "10") in `currency` → 1050 minor units, read
 * digit by digit (no float arithmetic); null when it is not such an amount or
 * has more decimals than the currency.
 */
export function parseDecimal(text: string, currency: string): number | null {
  const match = /^(\d{1,12})(?:[.,](\d+))?$/.exec(text.trim())
  if (!match) return null
  const digits = minorDigits(currency)
  const fraction = match[2] ?? ''
  if (fraction.length > digits) return null
  return Number(match[1]) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0')
}
