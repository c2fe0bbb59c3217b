import { DateTime } from 'luxon'
import { hoursLeft, type Holding } from '#services/commerce/grants'
import { describeOffer } from '#services/commerce/offers'

/**
 * What offers and holdings say to people (the video page, the library, the
 * Studio), in one place: "48-hour rental, start within 30 days",
 * "Bundle: Series 1 (5 videos)", "30-day pass to everything by @ann",
 * "Rented: 31 h left", "Pass until 3 Dec".
 */

interface OfferLike {
  kind: string
  scope: string
  title: string | null
  rentalHours: number | null
  startWindowDays: number | null
  passDays: number | null
  /** A bundle's (or a bundle pass's) videos, or their count. */
  videos?: unknown[]
  videoCount?: number
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** "3 Dec" (with the year when it is not this year's). */
export function shortDate(at: DateTime) {
  const utc = at.toUTC()
  return utc.year === DateTime.utc().year ? utc.toFormat('d LLL') : utc.toFormat('d LLL yyyy')
}

/** What an offer gives its buyer, in a line. */
export function offerGives(offer: OfferLike, creatorName?: string) {
  const count = offer.videoCount ?? offer.videos?.length ?? 0
  const named = offer.title ? `${offer.title} (${plural(count, 'video')})` : plural(count, 'video')
  const creator = creatorName ? `everything by @${creatorName}` : 'all the creator’s videos'
  if (offer.kind === 'rental') return `${offer.rentalHours}-hour rental, start within ${plural(offer.startWindowDays ?? 0, 'day')}`
  if (offer.kind === 'pass') return offer.scope === 'creator' ? `${offer.passDays}-day pass to ${creator}` : `${offer.passDays}-day pass: ${named}`
  if (offer.kind === 'membership') return `Monthly membership: ${offer.scope === 'creator' ? creator : named}, while it lasts`
  if (offer.scope === 'bundle') return `Bundle: ${named}`
  return 'Yours to keep: watch it whenever you like'
}

/** How the Studio names an offer: its title, else what it is. */
export function offerLabel(offer: OfferLike & { title: string | null }, creatorName?: string) {
  if (offer.title) return offer.title
  return describeOffer(offer as any, undefined, creatorName)
}

/** What a viewer holds, as the video page and the library say it. */
export function holdingText(holding: Pick<Holding, 'kind' | 'endsAt' | 'unstarted' | 'startBy'>, at = DateTime.now()) {
  if (holding.kind === 'rental') {
    if (holding.unstarted) return holding.startBy ? `Rented: starts when you press play, before ${shortDate(holding.startBy)}` : 'Rented: starts when you press play'
    return holding.endsAt ? `Rented: ${hoursLeft(holding.endsAt, at)} left` : 'Rented'
  }
  if (holding.kind === 'pass') return holding.endsAt ? `Pass until ${shortDate(holding.endsAt)}` : 'Pass'
  if (holding.kind === 'membership') return holding.endsAt ? `Member until ${shortDate(holding.endsAt)}` : 'Member'
  return 'Yours to keep'
}
