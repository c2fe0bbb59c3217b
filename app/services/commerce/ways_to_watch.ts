import type Offer from '#models/offer'
import type User from '#models/user'
import type Video from '#models/video'
import type { Money } from '#hooks/contracts'
import type { EntitlementDecision } from '#services/entitlement_service'
import offers, { type SaleOption } from '#services/commerce/offers'
import grants, { type Holding } from '#services/commerce/grants'

/** Access that runs out: holding it, one may still buy for good (or rent, or take a pass). */
const TIME_LIMITED = new Set(['rental', 'pass', 'membership'])

export interface WaysToWatch {
  /** What may be bought now, cheapest first (empty when there is nothing to buy). */
  options: SaleOption[]
  /** What the viewer holds that runs out (a rental, a pass), for "Rented: 31 h left". */
  holding: Holding | null
}

/**
 * The video page's "ways to watch" (issue 17): every way to get the video,
 * cheapest first, less what the server would refuse this viewer. Nothing
 * for those who may watch for good (owners, buyers, the allowlist, free
 * videos); for a viewer renting or holding a pass, the ways to keep it
 * (buying after renting is offered; renting what one rents, or taking the
 * same pass twice, is not). Visitors not logged in see the options too.
 */
export async function waysToWatch(viewer: User | undefined, video: Video, access: EntitlementDecision, buyPrice: Money): Promise<WaysToWatch> {
  const timeLimited = access.allowed && TIME_LIMITED.has(access.via)
  const mayBuy = timeLimited || (!access.allowed && (access.reason === 'payment_required' || access.reason === 'login_required'))
  if (!mayBuy) return { options: [], holding: null }
  const holding = viewer && timeLimited ? await grants.heldFor(viewer.id, video) : null
  let options = await offers.optionsFor(video, buyPrice)
  if (viewer && timeLimited) {
    const kept: SaleOption[] = []
    for (const option of options) {
      if (!option.offerId) {
        kept.push(option)
        continue
      }
      // A member is not offered the membership again (the membership service refuses it too).
      if (option.kind === 'membership' && holding?.kind === 'membership') continue
      const held = await grants.heldOffer(viewer.id, { id: option.offerId, kind: option.kind, videoId: option.scope === 'video' ? video.id : null } as Offer)
      if (!held) kept.push(option)
    }
    options = kept
  }
  return { options, holding }
}
