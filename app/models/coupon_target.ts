import { CouponTargetSchema } from '#database/schema'

/** One thing a chosen-offers coupon applies to: an offer, or a video's own buy price (`videoId`). */
export default class CouponTarget extends CouponTargetSchema {
  static table = 'coupon_targets'
}
