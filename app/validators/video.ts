import vine from '@vinejs/vine'
import type { FieldContext } from '@vinejs/vine/types'
import { formatMoney, toMinorUnits } from '#services/money'
import currencies from '#services/currency_service'

/**
 * Video details as a creator types them. `price` is decimal text in the
 * chosen currency; it becomes `priceMinor` (integer minor units).
 */
const priceRule = vine.createRule((value, _options, field) => {
  if (typeof value !== 'string') return
  const currency = typeof field.parent.currency === 'string' ? field.parent.currency : 'USD'
  reportPriceProblems(value, currency, field)
})

/**
 * The price rules every price a creator types follows (a video's, a
 * rental's, a bundle's, a pass's): not negative, at most the currency's
 * decimals, at most PRICE_CAP. Returns the minor units, or null when reported.
 */
export function reportPriceProblems(value: string, currency: string, field: FieldContext): number | null {
  if (value.trim().startsWith('-')) {
    field.report('The price cannot be negative', 'price.negative', field)
    return null
  }
  const minor = toMinorUnits(value, currency)
  if (minor === null) {
    field.report(`Enter a price like 4.99 (at most the decimals ${currency} has)`, 'price.format', field)
    return null
  }
  const cap = currencies.capMinor(currency)
  if (cap !== null && minor > cap) {
    field.report(`The price cannot be more than ${formatMoney(cap, currency)}`, 'price.cap', field)
    return null
  }
  return minor
}

const details = {
  title: vine.string().trim().minLength(1).maxLength(200),
  description: vine.string().trim().maxLength(5000).optional(),
  currency: vine.enum(currencies.supported()),
  price: vine.string().trim().maxLength(20).use(priceRule()),
  visibility: vine.enum(['draft', 'published'] as const),
  /**
   * The protection mode (README → Playback); auto: the instance default
   * (WATERMARK_DEFAULT_MODE), else visible for paid videos. `on` is the
   * visible mark under its name from before modes existed.
   */
  watermark: vine.enum(['auto', 'off', 'visible', 'forensic', 'both', 'on'] as const).optional(),
}

export const videoDetailsValidator = vine.create(details)

export const posterValidator = vine.create({
  poster: vine.file({ size: '5mb', extnames: ['jpg', 'jpeg', 'png', 'webp'] }).optional(),
})

export const takedownValidator = vine.create({ reason: vine.string().trim().minLength(3).maxLength(500) })
