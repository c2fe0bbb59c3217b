import { OfferSchema } from '#database/schema'
import { belongsTo, column, manyToMany } from '@adonisjs/lucid/orm'
import type { BelongsTo, ManyToMany } from '@adonisjs/lucid/types/relations'
import User from '#models/user'
import Video from '#models/video'
import { bigintAsNumber } from '#models/column_types'

/** purchase: forever; rental: hours from the first play; pass: days from purchase; membership: while paid. */
export const OFFER_KINDS = ['purchase', 'rental', 'pass', 'membership'] as const
export type OfferKind = (typeof OFFER_KINDS)[number]
/** video: one video; bundle: the offer's videos; creator: everything its creator publishes. */
export const OFFER_SCOPES = ['video', 'bundle', 'creator'] as const
export type OfferScope = (typeof OFFER_SCOPES)[number]

/**
 * Something a creator sells besides a video's buy price (`videos.price_minor`):
 * a rental, a bundle, a pass, a membership.
 */
export default class Offer extends OfferSchema {
  static table = 'offers'
  static selfAssignPrimaryKey = true

  declare kind: OfferKind
  declare scope: OfferScope

  @column({ consume: bigintAsNumber })
  declare priceMinor: number

  @belongsTo(() => User, { foreignKey: 'creatorId' })
  declare creator: BelongsTo<typeof User>

  @belongsTo(() => Video)
  declare video: BelongsTo<typeof Video>

  /** A bundle's videos, in the creator's order. */
  @manyToMany(() => Video, { pivotTable: 'offer_videos', pivotColumns: ['position'], pivotTimestamps: false })
  declare videos: ManyToMany<typeof Video>
}
