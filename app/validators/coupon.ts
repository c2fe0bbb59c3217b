import vine from '@vinejs/vine'

/**
 * A coupon as the Studio (a creator's) and Admin (platform-wide) forms send
 * it. Shapes only: the rules that need the database or the currency (1..100
 * percent, an amount in the currency's decimals, one's own offers, a code
 * free) are the coupon service's, which refuses with a message.
 */
export const couponValidator = vine.create({
  code: vine.string().trim().minLength(3).maxLength(40),
  discount_type: vine.enum(['percent', 'amount'] as const),
  /** "25" (percent) or "5.00" (an amount in `currency`). */
  value: vine.string().trim().minLength(1).maxLength(20),
  currency: vine.string().trim().toUpperCase().fixedLength(3).optional().nullable(),
  max_uses: vine.number().withoutDecimals().min(1).max(1_000_000).optional().nullable(),
  max_uses_per_viewer: vine.number().withoutDecimals().min(1).max(1_000_000).optional().nullable(),
  /** The last day the code works (UTC, inclusive). */
  expires_on: vine.date({ formats: ['YYYY-MM-DD'] }).optional().nullable(),
  /** Offers it applies to; with `videos` empty too: all (of the creator, or of every creator). */
  offers: vine.array(vine.string().uuid()).maxLength(500).optional(),
  /** Videos whose own buy price it applies to. */
  videos: vine.array(vine.string().uuid()).maxLength(500).optional(),
})
