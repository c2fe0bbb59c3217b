/*
| Payment references in the ISO 11649 "RF" creditor reference format, which
| SEPA banks accept in the structured reference field and check themselves:
| "RF" + two check digits + the reference. A typo in it fails the bank's
| check instead of reaching us as an unmatched transfer.
*/

/** The order id's first 12 hex digits: 48 random bits of a v4 UUID, enough to tell orders apart. */
const BODY_LENGTH = 12

/** The remainder modulo 97 of a string of letters and digits read as ISO 7064 digits (A = 10 … Z = 35). */
function mod97(text: string) {
  let remainder = 0
  for (const char of text) {
    const value = Number.parseInt(char, 36)
    remainder = (value < 10 ? remainder * 10 + value : remainder * 100 + value) % 97
  }
  return remainder
}

/** The payment reference of an order: "RF" + check digits + the order id's first 12 hex digits, upper case. */
export function paymentReferenceFor(orderId: string) {
  const body = orderId.replace(/-/g, '').slice(0, BODY_LENGTH).toUpperCase()
  if (!/^[0-9A-F]{12}$/.test(body)) throw new Error(`Not an order id: "${orderId}"`)
  const check = 98 - mod97(`${body}RF00`)
  return `RF${String(check).padStart(2, '0')}${body}`
}

/** Whether a reference passes the ISO 11649 check (spaces ignored, any case). */
export function isValidPaymentReference(reference: string) {
  const compact = reference.replace(/\s+/g, '').toUpperCase()
  if (!/^RF\d{2}[0-9A-Z]{1,21}$/.test(compact)) return false
  return mod97(`${compact.slice(4)}${compact.slice(0, 4)}`) === 1
}

/** "RF18539007547034" → "RF18 5390 0754 7034", as banks print it. */
export function groupedInFours(text: string) {
  return text.replace(/(.{4})(?=.)/g, '$1 ')
}
