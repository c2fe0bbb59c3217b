/** Digits of a currency's minor unit (ISO 4217: 2 for USD, 0 for JPY, 3 for KWD). */
export function minorDigits(currency: string) {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
}
