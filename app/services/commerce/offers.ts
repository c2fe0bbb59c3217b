import Offer, { type OfferKind, type OfferScope } from '#models/offer'
import Video from '#models/video'
import type User from '#models/user'
import { isUuid } from '#services/ids'
import type { Money } from '#hooks/contracts'

/**
 * One way to get a video, as the video page lists it: its buy price (the
 * video's own, `offerId` null) or an offer (a rental, a bundle that holds
 * it, its creator's pass or membership).
 */
export interface SaleOption {
  /** null: the video's own buy price. */
  offerId: string | null
  kind: OfferKind
  scope: OfferScope
  title: string
  price: Money
  rentalHours: number | null
  startWindowDays: number | null
  passDays: number | null
  /** A bundle's videos (ids), in order. */
  videoIds: string[]
  /** The offer's own title and description as the creator wrote them (null for the buy price). */
  name: string | null
  description: string | null
}

/**
 * How a sale names itself to a buyer and to providers. `creatorName` names
 * a pass or membership to all of a creator's videos that has no title of its
 * own ("30-day pass to everything by @ann").
 */
export function describeOffer(offer: Pick<Offer, 'kind' | 'scope' | 'title' | 'rentalHours' | 'passDays'>, videoTitle?: string, creatorName?: string) {
  const everything = offer.scope === 'creator' && !offer.title && creatorName ? `everything by @${creatorName}` : null
  const what = offer.title || videoTitle || 'Videos'
  if (offer.kind === 'rental') return `${offer.rentalHours}-hour rental: ${videoTitle ?? what}`
  if (offer.kind === 'pass') return everything ? `${offer.passDays}-day pass to ${everything}` : `${offer.passDays}-day pass: ${what}`
  if (offer.kind === 'membership') return `Monthly membership: ${offer.title || everything || what}`
  if (offer.scope === 'bundle') return `Bundle: ${what}`
  return what
}

/** Offers as the Studio makes them and the video page lists them. */
export class OfferService {
  /** A live offer by id, with what it needs to be sold (its creator, a bundle's videos, a rental's video). */
  async findLive(offerId: unknown): Promise<Offer | null> {
    if (!isUuid(offerId)) return null
    return Offer.query().where({ id: offerId, active: true }).preload('creator').preload('video').preload('videos').first()
  }

  /** Every way to get `video` now, cheapest first (the buy price, its rental, the bundles that hold it, its creator's passes and membership). */
  async optionsFor(video: Video, buyPrice: Money): Promise<SaleOption[]> {
    const options: SaleOption[] = []
    if (buyPrice.amount > 0) {
      options.push({
        offerId: null,
        kind: 'purchase',
        scope: 'video',
        title: video.title,
        price: buyPrice,
        rentalHours: null,
        startWindowDays: null,
        passDays: null,
        videoIds: [video.id],
        name: null,
        description: null,
      })
    }
    const offers = await Offer.query()
      .where('active', true)
      .where((q) =>
        q
          .where('videoId', video.id)
          .orWhere((r) => r.where('scope', 'creator').where('creatorId', video.ownerId))
          .orWhereIn('id', (sub) => sub.from('offer_videos').where('video_id', video.id).select('offer_id'))
      )
      .preload('videos', (q) => q.orderBy('offer_videos.position'))
    for (const offer of offers) {
      options.push({
        offerId: offer.id,
        kind: offer.kind,
        scope: offer.scope,
        title: describeOffer(offer, video.title, video.owner?.username),
        price: { amount: offer.priceMinor, currency: offer.currency },
        rentalHours: offer.rentalHours,
        startWindowDays: offer.startWindowDays,
        passDays: offer.passDays,
        videoIds: offer.scope === 'bundle' ? offer.videos.map((v) => v.id) : offer.scope === 'video' ? [video.id] : [],
        name: offer.title,
        description: offer.description,
      })
    }
    return options.sort((a, b) => a.price.amount - b.price.amount)
  }

  /** The creator's offers, for the Studio. */
  ofCreator(creator: User) {
    return Offer.query().where('creatorId', creator.id).preload('video').preload('videos').orderBy('createdAt', 'desc')
  }
}

const offers = new OfferService()
export default offers
