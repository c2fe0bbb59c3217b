import { ORDER_STATUSES } from '#models/order'
import vine from '@vinejs/vine'

export const checkoutValidator = vine.create({
  provider: vine.string().trim().maxLength(64).regex(/^[a-z0-9][a-z0-9_-]*$/),
  /** A coupon code; checked and applied by the server, which alone computes the price. */
  coupon: vine.string().trim().maxLength(64).optional().nullable(),
})

/** A refund: empty amount = all that is left (parsed in the order's currency by the refund service). */
export const refundValidator = vine.create({
  amount: vine.string().trim().maxLength(20).optional().nullable(),
})

export const allowlistGrantValidator = vine.create({
  /** A username or an email address. */
  user: vine.string().trim().minLength(1).maxLength(254),
})

export const orderFiltersValidator = vine.create({
  status: vine.enum(ORDER_STATUSES).optional(),
  provider: vine.string().trim().maxLength(64).optional(),
  page: vine.number().withoutDecimals().min(1).max(100_000).optional(),
})
