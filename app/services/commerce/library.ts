import { DateTime } from 'luxon'
import type Entitlement from '#models/entitlement'
import type Order from '#models/order'
import type Video from '#models/video'
import User from '#models/user'
import grants from '#services/commerce/grants'

/** A rental in the library: its video and its window. */
export interface LibraryRental {
  entitlement: Entitlement
  video: Video
  order: Order | null
}

/** A pass or a bundle in the library: what the order bought and the videos it opens. */
export interface LibraryGroup {
  order: Order | null
  title: string
  endsAt: DateTime | null
  videos: Video[]
  /** A pass to all of a creator's videos: whose. */
  creatorId: number | null
  creator: User | null
}

/**
 * What the library lists beside plain purchases (issue 17): rentals with
 * their window ("31 h left", "starts when you press play, before 3 Dec"),
 * passes until when, and bundles with their videos. Built from the viewer's
 * current grants (commerce/grants.currentOf), so ended or refunded ones are
 * gone. Memberships are listed by the membership service.
 */
export async function libraryHoldingsOf(user: User, orders: Order[], at = DateTime.now()) {
  const current = await grants.currentOf(user.id, at)
  const orderById = new Map(orders.map((order) => [order.id, order]))
  const rentals: LibraryRental[] = []
  const groups = new Map<string, LibraryGroup & { kind: 'pass' | 'bundle' }>()
  const creatorIds = new Set<number>()
  for (const entitlement of current) {
    const order = entitlement.orderId ? (orderById.get(entitlement.orderId) ?? null) : null
    if (entitlement.kind === 'rental' && entitlement.video) {
      rentals.push({ entitlement, video: entitlement.video, order })
      continue
    }
    const isPass = entitlement.kind === 'pass'
    const isBundle = entitlement.kind === 'purchase' && order?.offerScope === 'bundle'
    if (!isPass && !isBundle) continue
    const key = entitlement.orderId ?? `e${entitlement.id}`
    const group = groups.get(key) ?? {
      kind: isPass ? ('pass' as const) : ('bundle' as const),
      order,
      title: order?.itemTitle ?? (isPass ? 'Pass' : 'Bundle'),
      endsAt: entitlement.endsAt,
      videos: [],
      creatorId: entitlement.creatorId,
      creator: null,
    }
    if (entitlement.video) group.videos.push(entitlement.video)
    if (entitlement.creatorId) creatorIds.add(entitlement.creatorId)
    groups.set(key, group)
  }
  const creators = creatorIds.size ? new Map((await User.query().whereIn('id', [...creatorIds])).map((creator) => [creator.id, creator])) : new Map()
  for (const group of groups.values()) group.creator = group.creatorId ? (creators.get(group.creatorId) ?? null) : null
  rentals.sort((a, b) => rentalSortKey(a.entitlement) - rentalSortKey(b.entitlement))
  const all = [...groups.values()]
  return {
    rentals,
    passes: all.filter((group) => group.kind === 'pass').sort((a, b) => (a.endsAt?.toMillis() ?? 0) - (b.endsAt?.toMillis() ?? 0)),
    bundles: all.filter((group) => group.kind === 'bundle'),
  }
}

/** Running rentals first (soonest end first), then those not started (soonest deadline first). */
function rentalSortKey(entitlement: Entitlement) {
  if (entitlement.endsAt) return entitlement.endsAt.toMillis()
  return Number.MAX_SAFE_INTEGER / 2 + (entitlement.startBy?.toMillis() ?? 0) / 1000
}
