import db from '@adonisjs/lucid/services/db'
import type User from '#models/user'
import Video from '#models/video'
import currencies from '#services/currency_service'

export const CATALOG_SORTS = ['newest', 'popular', 'price_low', 'price_high'] as const
export const CATALOG_FILTERS = ['all', 'free', 'paid', 'owned'] as const
export type CatalogSort = (typeof CATALOG_SORTS)[number]
export type CatalogFilter = (typeof CATALOG_FILTERS)[number]

export interface CatalogQuery {
  search?: string
  page: number
  sort?: CatalogSort
  filter?: CatalogFilter
  /** Only this creator's videos (their page). */
  ownerId?: number
  /** Who is looking: `owned` and the badges need them. */
  viewer?: User
  perPage?: number
}

const PAGE_SIZE = 12

/**
 * A price in minor units of the base currency, as SQL, so "price" sorts
 * videos priced in different currencies by what they cost (with the display
 * rates; only the order depends on it, never a charge).
 */
function basePriceSql() {
  const scale = 1_000_000_000
  const cases = currencies.supported().map((code) => {
    // Minor units of the base currency per minor unit of `code`.
    const factor = (currencies.convert(scale, code, currencies.base) ?? scale) / scale
    return `WHEN '${code}' THEN videos.price_minor * ${factor.toPrecision(12)}`
  })
  return `(CASE videos.currency ${cases.join(' ')} ELSE videos.price_minor END)`
}

/** Paid orders and allowlist entries of `viewer` among `videoIds` (or all, when no ids are given). */
function ownedVideoIdsQuery(viewer: User) {
  // Kept for good: bought (alone or in a bundle, whose videos are granted one
  // by one) or allowlisted. A rental or a pass runs out: it is not "owned".
  return db
    .from('orders')
    .where({ buyer_id: viewer.id, status: 'paid', offer_kind: 'purchase', offer_scope: 'video' })
    .select('video_id')
    .union((query) =>
      query
        .from('entitlements as e')
        .join('orders as o', 'o.id', 'e.order_id')
        .where({ 'e.user_id': viewer.id, 'e.kind': 'purchase', 'o.status': 'paid', 'o.offer_scope': 'bundle' })
        .whereNull('e.revoked_at')
        .select('e.video_id')
    )
    .union((query) => query.from('allowlist_entries').where('user_id', viewer.id).select('video_id'))
}

/**
 * The public catalog (and a creator's page): published, ready videos that
 * are neither taken down nor archived, searched, filtered (free, paid, owned
 * by the viewer) and sorted (newest, most viewed, price).
 */
export class CatalogService {
  async list({ search, page, sort = 'newest', filter = 'all', ownerId, viewer, perPage = PAGE_SIZE }: CatalogQuery) {
    const query = Video.query()
      .where('status', 'ready')
      .where('visibility', 'published')
      .whereNull('takenDownAt')
      .whereNull('archivedAt')
      .preload('owner')
    if (ownerId !== undefined) query.where('ownerId', ownerId)
    const needle = search?.trim()
    if (needle) {
      const like = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      query.where((q) => q.whereILike('title', like).orWhereILike('description', like))
    }
    if (filter === 'free') query.where('priceMinor', 0)
    if (filter === 'paid') query.where('priceMinor', '>', 0)
    if (filter === 'owned') {
      if (!viewer) query.whereRaw('false')
      else query.whereIn('id', ownedVideoIdsQuery(viewer))
    }
    if (sort === 'popular') {
      // One pass over the sessions grouped by video (a count per listed video was 3× slower at 1,000 videos).
      query
        .select('videos.*')
        .joinRaw('LEFT JOIN (SELECT video_id, count(*) AS views FROM playback_sessions GROUP BY video_id) AS popularity ON popularity.video_id = videos.id')
        .orderByRaw('COALESCE(popularity.views, 0) DESC')
    } else if (sort === 'price_low' || sort === 'price_high') {
      query.orderByRaw(`${basePriceSql()} ${sort === 'price_low' ? 'ASC' : 'DESC'}`)
    }
    query.orderBy('readyAt', 'desc').orderBy('id')
    return query.paginate(Math.max(1, page), perPage)
  }

  /** Which of `videoIds` the viewer owns (bought or was given): for "owned" badges. */
  async ownedAmong(viewer: User | undefined, videoIds: string[]): Promise<Set<string>> {
    if (!viewer || !videoIds.length) return new Set()
    const rows = await db.from(ownedVideoIdsQuery(viewer).as('owned')).whereIn('video_id', videoIds).select('video_id')
    return new Set(rows.map((row) => row.video_id as string))
  }

  /** Up to `limit` other public videos by the same creator, newest first. */
  moreFrom(video: Video, limit = 4) {
    return Video.query()
      .where('ownerId', video.ownerId)
      .whereNot('id', video.id)
      .where('status', 'ready')
      .where('visibility', 'published')
      .whereNull('takenDownAt')
      .whereNull('archivedAt')
      .orderBy('readyAt', 'desc')
      .limit(limit)
  }
}

const catalog = new CatalogService()
export default catalog
