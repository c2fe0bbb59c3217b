import { DateTime } from 'luxon'
import { EntitlementSchema } from '#database/schema'
import { belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Order from '#models/order'
import Video from '#models/video'
import type { OfferKind } from '#models/offer'
import { bigintAsNumber } from '#models/column_types'

/**
 * What a viewer holds, and when: a video bought (forever), one of a bundle's
 * videos, a rental (its window starts at the first play), a pass or a
 * membership to all of a creator's videos. A grant paid by an order counts
 * only while that order is paid.
 */
export default class Entitlement extends EntitlementSchema {
  static table = 'entitlements'

  declare kind: OfferKind

  @column({ isPrimary: true, consume: bigintAsNumber })
  declare id: number

  @column({ consume: (value) => (value === null ? null : Number(value)) })
  declare subscriptionId: number | null

  @belongsTo(() => Order)
  declare order: BelongsTo<typeof Order>

  @belongsTo(() => Video)
  declare video: BelongsTo<typeof Video>

  /** A rental not played yet. */
  get isUnstarted() {
    return this.kind === 'rental' && this.startsAt === null
  }

  /** Whether its window holds at `now` (the order's standing is checked apart). */
  isCurrent(now = DateTime.now()) {
    if (this.revokedAt) return false
    if (this.isUnstarted) return !this.startBy || this.startBy > now
    return !this.endsAt || this.endsAt > now
  }
}
