import { DateTime } from 'luxon'
import { SubscriptionSchema } from '#database/schema'
import { belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import User from '#models/user'
import Offer from '#models/offer'
import { bigintAsNumber } from '#models/column_types'

export const SUBSCRIPTION_STATUSES = ['incomplete', 'active', 'past_due', 'canceled', 'ended'] as const
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number]

/**
 * A viewer's membership to a creator, billed monthly by a provider that can
 * bill repeatedly. `paidThrough` is the end of the last period an invoice
 * paid for; access runs to there, plus a grace period while it renews.
 */
export default class Subscription extends SubscriptionSchema {
  static table = 'subscriptions'

  declare status: SubscriptionStatus

  @column({ isPrimary: true, consume: bigintAsNumber })
  declare id: number

  @column({ consume: bigintAsNumber })
  declare priceMinor: number

  @belongsTo(() => User)
  declare user: BelongsTo<typeof User>

  @belongsTo(() => User, { foreignKey: 'creatorId' })
  declare creator: BelongsTo<typeof User>

  @belongsTo(() => Offer)
  declare offer: BelongsTo<typeof Offer>

  /** Renews by itself (no cancellation asked, not over). */
  get renews() {
    return (this.status === 'active' || this.status === 'past_due') && !this.cancelAtPeriodEnd
  }

  /** Paid time not over yet. */
  isRunning(at = DateTime.now()) {
    return this.status !== 'incomplete' && this.status !== 'ended' && !!this.paidThrough && this.paidThrough > at
  }
}
