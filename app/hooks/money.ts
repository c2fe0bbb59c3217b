/** Digits of a currency's minor unit (ISO 4217: 2 for USD, 0 for JPY, 3 for KWD). */
export function minorDigits(currency: string) {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
}

/** 1050 EUR → "€10.50", for people; amounts stay integers everywhere else. */
export function formatMinor(amount: number, currency: string, locale = 'en') {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount / 10 ** minorDigits(currency))
}

/** 1050 EUR → "10.50", 1500 JPY → "1500": the plain decimal a form field or a bank statement shows. */
export function minorToDecimal(amount: number, currency: string) {
  const digits = minorDigits(currency)
  return digits === 0 ? String(amount) : (amount / 10 ** digits).toFixed(digits)
}

/**
 * A token amount for people, to `significant` significant digits (rounded
 * half up, exactly, on the integer units; whole digits are never dropped):
 * 1666666666666667n wei → "0.00166667 ETH", 8410000n (6 decimals) → "8.41 USDC".
 * The one formatter of crypto amounts: checkout options, receipts, emails.
 */
export function formatTokenAmount(units: bigint, decimals: number, symbol?: string, significant = 6) {
  const negative = units < 0n
  const magnitude = negative ? -units : units
  const digits = magnitude.toString()
  const wholeDigits = digits.length - decimals
  // Below 1: the zeros after the point do not count as significant.
  const fractionDigits = Math.min(decimals, Math.max(0, significant - wholeDigits))
  const step = 10n ** BigInt(decimals - fractionDigits)
  const rounded = (magnitude + step / 2n) / step
  const text = rounded.toString().padStart(fractionDigits + 1, '0')
  const whole = text.slice(0, text.length - fractionDigits)
  const fraction = fractionDigits ? text.slice(-fractionDigits).replace(/0+$/, '') : ''
  const amount = `${negative && rounded ? '-' : ''}${BigInt(whole).toLocaleString('en')}${fraction ? `.${fraction}` : ''}`
  return symbol ? `${amount} ${symbol}` : amount
}
