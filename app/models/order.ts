import { OrderSchema } from '#database/schema'
import { belongsTo, column, hasMany } from '@adonisjs/lucid/orm'
import type { BelongsTo, HasMany } from '@adonisjs/lucid/types/relations'
import User from '#models/user'
import Video from '#models/video'
import LedgerEntry from '#models/ledger_entry'
import Offer, { type OfferKind, type OfferScope } from '#models/offer'
import { bigintAsNumber, asJson } from '#models/column_types'

/**
 * pending → paid → refunded | disputed;  disputed → paid (won) | charged_back (lost);
 * pending → expired | failed | underpaid;
 * pending → refunding → refunded (paid a second time for what the buyer holds: refunded after the commit)
 */
export const ORDER_STATUSES = ['pending', 'paid', 'disputed', 'refunded', 'charged_back', 'expired', 'failed', 'underpaid', 'refunding'] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]
export type CreatorPayout = 'direct' | 'owed'
export type DisputeStatus = 'open' | 'won' | 'lost'

/**
 * One attempt of a viewer to buy something through one provider: a video
 * (its buy price; `offerId` null) or an offer (a rental, a bundle, a pass,
 * a membership's invoice). `offerKind`/`offerScope`/`offerTitle` are what was
 * sold, kept as sold for receipts and reports; `videoId` is null for offers
 * that are not about one video.
 */
export default class Order extends OrderSchema {
  static table = 'orders'
  static selfAssignPrimaryKey = true

  declare status: OrderStatus
  declare creatorPayout: CreatorPayout
  declare disputeStatus: DisputeStatus | null
  declare offerKind: OfferKind
  declare offerScope: OfferScope

  /** bigint in the database; prices fit a JS number (capped by PRICE_CAP). */
  @column({ consume: bigintAsNumber })
  declare amountMinor: number

  @column({ consume: bigintAsNumber })
  declare platformFeeMinor: number

  /** What went back to the buyer so far (refunds, a lost dispute); the ledger sums to amount − this. */
  @column({ consume: bigintAsNumber })
  declare refundedMinor: number

  /** What the item cost before a coupon (null: no coupon); `amountMinor` is what the buyer pays. */
  @column({ consume: bigintAsNumber })
  declare listPriceMinor: number | null

  /** What a coupon took off the list price (0 without one). */
  @column({ consume: bigintAsNumber })
  declare discountMinor: number

  @column({ prepare: asJson })
  declare checkoutAction: Record<string, unknown> | null

  @belongsTo(() => User, { foreignKey: 'buyerId' })
  declare buyer: BelongsTo<typeof User>

  @belongsTo(() => User, { foreignKey: 'creatorId' })
  declare creator: BelongsTo<typeof User>

  @belongsTo(() => Video)
  declare video: BelongsTo<typeof Video>

  @belongsTo(() => Offer)
  declare offer: BelongsTo<typeof Offer>

  @hasMany(() => LedgerEntry)
  declare ledgerEntries: HasMany<typeof LedgerEntry>

  /** A video bought forever at its own price (not a rental, a bundle, a pass...). */
  get isVideoPurchase() {
    return this.offerKind === 'purchase' && this.offerScope === 'video'
  }

  /**
   * What the order bought, as receipts and lists name it: the title kept at
   * sale ("48-hour rental: …", "Bundle: …"), else its video's (orders from
   * before offers). Needs `video` preloaded for those.
   */
  get itemTitle(): string {
    return this.offerTitle || this.video?.title || 'A video'
  }

  /** The page of what the order bought: its video's, or its creator's for a bundle or a pass. */
  get itemUrl(): string | null {
    return this.videoId ? `/videos/${this.videoId}` : null
  }

  get isPaid() {
    return this.status === 'paid'
  }

  /** Where the buyer goes on paying a pending order: the provider's page, or the wallet panel here. */
  get continueUrl() {
    return this.checkoutUrl ?? `/orders/${this.id}/complete`
  }

  /** A short, readable receipt number. */
  get receiptNumber() {
    return `M-${this.id.replace(/-/g, '').slice(0, 10).toUpperCase()}`
  }
}
