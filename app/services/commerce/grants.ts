import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Entitlement from '#models/entitlement'
import Offer, { type OfferKind } from '#models/offer'
import type Order from '#models/order'

/** What a viewer holds that lets them watch a video now, and until when. */
export interface Holding {
  entitlementId: number
  kind: OfferKind
  /** null: forever (a purchase), or a rental not started yet (see `unstarted`). */
  endsAt: DateTime | null
  /** A rental not played yet: its clock starts at the first play, before `startBy`. */
  unstarted: boolean
  startBy: DateTime | null
  rentalHours: number | null
}

type Row = {
  id: string | number
  kind: OfferKind
  starts_at: Date | null
  ends_at: Date | null
  start_by: Date | null
  rental_hours: number | null
}

/** "31 h", "45 min": what is left of a window, for people. */
export function hoursLeft(endsAt: DateTime, at = DateTime.now()) {
  const minutes = Math.max(0, Math.ceil(endsAt.diff(at, 'minutes').minutes))
  return minutes >= 120 ? `${Math.floor(minutes / 60)} h` : `${minutes} min`
}

const toDateTime = (value: Date | null) => (value ? DateTime.fromJSDate(value) : null)

function holdingOf(row: Row): Holding {
  return {
    entitlementId: Number(row.id),
    kind: row.kind,
    endsAt: toDateTime(row.ends_at),
    unstarted: row.kind === 'rental' && row.starts_at === null,
    startBy: toDateTime(row.start_by),
    rentalHours: row.rental_hours,
  }
}

/**
 * Which holding answers "may they watch": one that never ends first, then
 * the one running longest, then a rental not started (started only when
 * nothing else grants, so a pass holder's rental keeps its hours).
 */
function rank(holding: Holding) {
  if (holding.unstarted) return -1
  return holding.endsAt ? holding.endsAt.toMillis() : Number.POSITIVE_INFINITY
}

/**
 * Entitlements with time: what a paid order grants (written in the payment's
 * transaction), what a viewer holds for a video now, and a rental's clock
 * starting at its first play. A grant paid by an order counts only while the
 * order is paid, so refunds, disputes and chargebacks end it by the order's
 * state alone; memberships (their window follows the subscription) are
 * granted by the membership service.
 */
export class GrantService {
  /**
   * The current holding of `userId` for the video (of `ownerId`) that lasts
   * longest, or null. `at` lets tests and benches ask about another instant.
   */
  async heldFor(userId: number, video: { id: string; ownerId: number }, at = DateTime.now()): Promise<Holding | null> {
    const now = at.toJSDate()
    const result = await db.rawQuery(
      `SELECT e.id, e.kind, e.starts_at, e.ends_at, e.start_by, e.rental_hours
         FROM entitlements e LEFT JOIN orders o ON o.id = e.order_id
        WHERE e.user_id = ? AND e.revoked_at IS NULL
          AND (e.order_id IS NULL OR o.status = 'paid')
          AND (e.video_id = ? OR (e.video_id IS NULL AND e.creator_id = ?))
          AND CASE WHEN e.kind = 'rental' AND e.starts_at IS NULL
                   THEN e.start_by IS NULL OR e.start_by > ?
                   ELSE e.ends_at IS NULL OR e.ends_at > ? END`,
      [userId, video.id, video.ownerId, now, now]
    )
    const holdings = (result.rows as Row[]).map(holdingOf)
    if (!holdings.length) return null
    return holdings.reduce((best, next) => (rank(next) > rank(best) ? next : best))
  }

  /**
   * Starts a rental's clock (its first play): it then ends `rentalHours`
   * later. Two first plays at once start it once; returns the window as stored.
   */
  async startRental(holding: Holding, at = DateTime.now()): Promise<Holding> {
    if (!holding.unstarted) return holding
    const endsAt = at.plus({ hours: holding.rentalHours ?? 0 })
    await db
      .from('entitlements')
      .where({ id: holding.entitlementId })
      .whereNull('starts_at')
      .update({ starts_at: at.toJSDate(), ends_at: endsAt.toJSDate(), updated_at: new Date() })
    const row = await db.from('entitlements').where({ id: holding.entitlementId }).first()
    return holdingOf(row)
  }

  /**
   * Writes what a paid order gives its buyer, inside the payment's
   * transaction: a video forever; each of a bundle's videos (copied now, so a
   * bundle edited later takes nothing away); a rental, waiting for its
   * first play; a pass from now for its days. Memberships are granted by
   * their subscription, not per invoice. Idempotent per order.
   */
  async grantFor(trx: TransactionClientContract, order: Order, at = DateTime.now()) {
    if (order.offerKind === 'membership') return
    const existing = await trx.from('entitlements').where('order_id', order.id).first()
    if (existing) return
    const offer = order.offerId ? await Offer.query({ client: trx }).where('id', order.offerId).first() : null
    const base = { userId: order.buyerId, orderId: order.id, offerId: order.offerId, kind: order.offerKind }
    const rows: Array<Partial<Entitlement>> = []
    const passEnds = offer?.passDays ? at.plus({ days: offer.passDays }) : null
    const window =
      order.offerKind === 'rental'
        ? {
            startsAt: null,
            endsAt: null,
            rentalHours: offer?.rentalHours ?? null,
            startBy: offer?.startWindowDays ? at.plus({ days: offer.startWindowDays }) : null,
          }
        : { startsAt: at, endsAt: order.offerKind === 'pass' ? passEnds : null }

    if (order.offerScope === 'creator') {
      rows.push({ ...base, ...window, creatorId: order.creatorId, videoId: null })
    } else if (order.offerScope === 'bundle') {
      const videos = await trx.from('offer_videos').where('offer_id', order.offerId!).select('video_id')
      for (const { video_id: videoId } of videos) rows.push({ ...base, ...window, videoId })
    } else {
      rows.push({ ...base, ...window, videoId: order.videoId })
    }
    for (const row of rows) await Entitlement.create(row, { client: trx })
  }

  /**
   * An earlier paid order of the same buyer that already gives what `order`
   * would (the same video or bundle bought, a rental of a video owned or
   * still rented, the same pass still running), or null: a second payment
   * for it is given back. Memberships are the subscription's business.
   */
  async duplicateOf(trx: TransactionClientContract, order: Order, at = DateTime.now()): Promise<string | null> {
    if (order.offerKind === 'membership') return null
    const now = at.toJSDate()
    const query = trx
      .from('entitlements as e')
      .join('orders as o', 'o.id', 'e.order_id')
      .where('e.user_id', order.buyerId)
      .whereIn('o.status', ['paid', 'disputed'])
      .whereNot('o.id', order.id)
      .whereNull('e.revoked_at')
      .select('o.id')
    const running = (q: any) =>
      q.where('e.ends_at', '>', now).orWhere((r: any) => r.whereNull('e.starts_at').where((t: any) => t.whereNull('e.start_by').orWhere('e.start_by', '>', now)))
    if (order.offerKind === 'purchase' && order.offerScope === 'video') {
      query.where({ 'e.video_id': order.videoId, 'e.kind': 'purchase' })
    } else if (order.offerKind === 'purchase') {
      query.where('o.offer_id', order.offerId!)
    } else if (order.offerKind === 'rental') {
      query.where('e.video_id', order.videoId!).where((q) => q.where('e.kind', 'purchase').orWhere((r) => r.where('e.kind', 'rental').where(running)))
    } else {
      query.where('o.offer_id', order.offerId!).where('e.ends_at', '>', now)
    }
    const row = await query.first()
    return row?.id ?? null
  }

  /**
   * Why `userId` may not buy `offer` again now (a bundle bought, a rental of
   * the video still running or not started, the same pass still running), or null.
   */
  async heldOffer(userId: number, offer: Offer, at = DateTime.now()): Promise<{ code: string; message: string } | null> {
    const now = at.toJSDate()
    const held = Entitlement.query()
      .where('userId', userId)
      .whereNull('revokedAt')
      .whereIn('orderId', db.from('orders').whereIn('status', ['paid', 'disputed']).select('id'))
    if (offer.kind === 'rental') {
      const rental = await held
        .where({ videoId: offer.videoId!, kind: 'rental' })
        .where((q) => q.where('endsAt', '>', now).orWhere((r) => r.whereNull('startsAt').where((t) => t.whereNull('startBy').orWhere('startBy', '>', now))))
        .first()
      if (!rental) return null
      const message = rental.startsAt
        ? `You are renting this video: ${hoursLeft(rental.endsAt!, at)} left`
        : 'You have rented this video already: it starts when you press play'
      return { code: 'already_rented', message }
    }
    if (offer.kind === 'purchase') {
      const bought = await held.where('offerId', offer.id).first()
      return bought ? { code: 'already_owned', message: 'You already bought this bundle' } : null
    }
    if (offer.kind === 'pass') {
      const pass = await held.where('offerId', offer.id).where('endsAt', '>', now).orderBy('endsAt', 'desc').first()
      return pass ? { code: 'already_held', message: `You hold this pass until ${pass.endsAt!.toUTC().toFormat('d LLL yyyy, HH:mm')} UTC` } : null
    }
    return null
  }

  /** The viewer's grants that have not ended, for the library (rentals with their hours left). */
  async currentOf(userId: number, at = DateTime.now()) {
    const now = at.toJSDate()
    return Entitlement.query()
      .where('userId', userId)
      .whereNull('revokedAt')
      .where((q) =>
        q
          .whereNull('orderId')
          .orWhereIn('orderId', db.from('orders').where('status', 'paid').select('id'))
      )
      .where((q) =>
        q
          .where((r) => r.where('kind', 'rental').whereNull('startsAt').where((s) => s.whereNull('startBy').orWhere('startBy', '>', now)))
          .orWhere((r) => r.whereNotNull('startsAt').where((s) => s.whereNull('endsAt').orWhere('endsAt', '>', now)))
          .orWhere((r) => r.whereNot('kind', 'rental').whereNull('startsAt').where((s) => s.whereNull('endsAt').orWhere('endsAt', '>', now)))
      )
      .preload('video')
      .orderBy('createdAt', 'desc')
  }
}

const grants = new GrantService()
export default grants
