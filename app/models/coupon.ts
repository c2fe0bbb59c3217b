import { CouponSchema } from '#database/schema'
import { belongsTo, column, hasMany } from '@adonisjs/lucid/orm'
import type { BelongsTo, HasMany } from '@adonisjs/lucid/types/relations'
import User from '#models/user'
import CouponTarget from '#models/coupon_target'
import { bigintAsNumber } from '#models/column_types'

export type CouponAppliesTo = 'all' | 'chosen'

/**
 * A discount code: a creator's (their offers and buy prices) or the
 * platform's (`creatorId` null, made by an admin, for every creator's).
 * Percent off (1..100) or a fixed amount off in one currency.
 */
export default class Coupon extends CouponSchema {
  static table = 'coupons'
  static selfAssignPrimaryKey = true

  declare appliesTo: CouponAppliesTo

  @column({ consume: bigintAsNumber })
  declare amountOffMinor: number | null

  @belongsTo(() => User, { foreignKey: 'creatorId' })
  declare creator: BelongsTo<typeof User>

  @hasMany(() => CouponTarget)
  declare targets: HasMany<typeof CouponTarget>

  get isPlatformWide() {
    return this.creatorId === null
  }
}
