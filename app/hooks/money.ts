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
