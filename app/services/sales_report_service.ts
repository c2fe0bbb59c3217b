import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import Order from '#models/order'

export interface MoneyTotals {
  currency: string
  /** What buyers paid, less refunds. */
  gross: number
  platformFees: number
  providerFees: number
  /** The creator's share. */
  net: number
  /** The part of `net` the platform collected and still owes the creator. */
  owed: number
}

export interface VideoSales extends MoneyTotals {
  videoId: string
  title: string
  sales: number
  refunds: number
}

export interface RevenueDay {
  day: string
  currency: string
  gross: number
  net: number
  platform: number
}

/** Sales of one offer type (purchase, bundle, rental, pass, membership) in one currency. */
export interface OfferTypeSales extends MoneyTotals {
  type: string
  sales: number
  refunds: number
  /** What coupons took off these sales' list prices. */
  discount: number
}

/** Sales made with one coupon in one currency. */
export interface CouponSales {
  couponId: string
  code: string
  platformWide: boolean
  currency: string
  uses: number
  discount: number
  /** What those orders brought in, net of refunds (all the ledger's lines). */
  net: number
  /** The creators' part of it. */
  creatorNet: number
}

const num = (value: unknown) => Number(value ?? 0)

/**
 * Sales figures read from the ledger (never recomputed from prices), so
 * what a creator sees is what the books say. Amounts stay per currency.
 */
export class SalesReportService {
  #totalsSelect() {
    return [
      'le.currency',
      db.raw('SUM(le.amount_minor) AS gross'),
      db.raw(`COALESCE(SUM(le.amount_minor) FILTER (WHERE le.account = 'platform'), 0) AS platform_fees`),
      db.raw(`COALESCE(SUM(le.amount_minor) FILTER (WHERE le.account = 'provider_fee'), 0) AS provider_fees`),
      db.raw(`COALESCE(SUM(le.amount_minor) FILTER (WHERE le.account = 'creator'), 0) AS net`),
      db.raw(`COALESCE(SUM(le.amount_minor) FILTER (WHERE le.account = 'creator' AND o.creator_payout = 'owed'), 0) AS owed`),
    ]
  }

  #totals(row: any): MoneyTotals {
    return {
      currency: row.currency,
      gross: num(row.gross),
      platformFees: num(row.platform_fees),
      providerFees: num(row.provider_fees),
      net: num(row.net),
      owed: num(row.owed),
    }
  }

  /**
   * Totals per currency; all creators when `creatorId` is omitted (admins);
   * only ledger lines written since `since` when given (a refund counts when it happened).
   */
  async totals(creatorId?: number, since?: DateTime): Promise<MoneyTotals[]> {
    const query = db.from('ledger_entries as le').join('orders as o', 'o.id', 'le.order_id').select(this.#totalsSelect()).groupBy('le.currency').orderBy('le.currency')
    if (creatorId !== undefined) query.where('o.creator_id', creatorId)
    if (since) query.where('le.created_at', '>=', since.toJSDate())
    return (await query).map((row) => this.#totals(row))
  }

  async perVideo(creatorId: number): Promise<VideoSales[]> {
    const [money, counts] = await Promise.all([
      db
        .from('ledger_entries as le')
        .join('orders as o', 'o.id', 'le.order_id')
        .join('videos as v', 'v.id', 'o.video_id')
        .where('o.creator_id', creatorId)
        .select(['o.video_id', 'v.title', ...this.#totalsSelect()])
        .groupBy('o.video_id', 'v.title', 'le.currency'),
      db
        .from('orders')
        .where('creator_id', creatorId)
        .select('video_id', 'currency')
        .select(db.raw(`COUNT(*) FILTER (WHERE status = 'paid') AS sales`))
        .select(db.raw(`COUNT(*) FILTER (WHERE status = 'refunded') AS refunds`))
        .groupBy('video_id', 'currency'),
    ])
    return money
      .map((row) => {
        const count = counts.find((c) => c.video_id === row.video_id && c.currency === row.currency)
        return { videoId: row.video_id, title: row.title, sales: num(count?.sales), refunds: num(count?.refunds), ...this.#totals(row) }
      })
      .sort((a, b) => b.gross - a.gross)
  }

  /** Gross and net per day for the last `days` days, per currency. */
  async revenueByDay(creatorId: number | undefined, days = 30): Promise<RevenueDay[]> {
    const since = DateTime.utc().startOf('day').minus({ days: days - 1 })
    // The UTC date as text ("2026-11-28"): a cast per line, 6× cheaper than to_char(date_trunc(...)).
    const query = db
      .from('ledger_entries as le')
      .where('le.created_at', '>=', since.toJSDate())
      .select(db.raw(`((le.created_at AT TIME ZONE 'UTC')::date)::text AS day`), 'le.currency')
      .select(db.raw('SUM(le.amount_minor) AS gross'))
      .select(db.raw(`COALESCE(SUM(le.amount_minor) FILTER (WHERE le.account = 'creator'), 0) AS net`))
      .select(db.raw(`COALESCE(SUM(le.amount_minor) FILTER (WHERE le.account = 'platform'), 0) AS platform`))
      .groupBy('day', 'le.currency')
      .orderBy('day')
    // The instance's figures need no order; a creator's are the lines of their orders.
    if (creatorId !== undefined) query.join('orders as o', 'o.id', 'le.order_id').where('o.creator_id', creatorId)
    const rows = await query
    return rows.map((row) => ({ day: row.day, currency: row.currency, gross: num(row.gross), net: num(row.net), platform: num(row.platform) }))
  }

  /**
   * Bars for a revenue chart of one currency over the last `span` days: every
   * day present, heights in 0..1. The inner bar is the creators' share
   * (`net`) or the platform's fees (`platform`).
   */
  chart(days: RevenueDay[], currency: string, span = 30, share: 'net' | 'platform' = 'net') {
    const byDay = new Map(days.filter((d) => d.currency === currency).map((d) => [d.day, d]))
    const start = DateTime.utc().startOf('day').minus({ days: span - 1 })
    const bars = Array.from({ length: span }, (_, i) => {
      const day = start.plus({ days: i }).toISODate()!
      return { day, gross: byDay.get(day)?.gross ?? 0, net: byDay.get(day)?.[share] ?? 0 }
    })
    const max = Math.max(1, ...bars.map((bar) => bar.gross))
    return { currency, max, bars: bars.map((bar) => ({ ...bar, height: Math.max(0, bar.gross) / max, netHeight: Math.max(0, bar.net) / max })) }
  }

  /** Paid and refunded orders and what was paid, per video and currency, for the given videos. */
  async salesOf(videoIds: string[]): Promise<Map<string, Array<{ currency: string; sales: number; refunds: number; gross: number }>>> {
    const byVideo = new Map<string, Array<{ currency: string; sales: number; refunds: number; gross: number }>>()
    if (!videoIds.length) return byVideo
    const rows = await db
      .from('orders')
      .whereIn('video_id', videoIds)
      .select('video_id', 'currency')
      .select(db.raw(`COUNT(*) FILTER (WHERE status = 'paid') AS sales`))
      .select(db.raw(`COUNT(*) FILTER (WHERE status = 'refunded') AS refunds`))
      .select(db.raw(`COALESCE(SUM(amount_minor) FILTER (WHERE status = 'paid'), 0) AS gross`))
      .whereIn('status', ['paid', 'refunded'])
      .groupBy('video_id', 'currency')
    for (const row of rows) {
      const list = byVideo.get(row.video_id) ?? []
      list.push({ currency: row.currency, sales: num(row.sales), refunds: num(row.refunds), gross: num(row.gross) })
      byVideo.set(row.video_id, list)
    }
    return byVideo
  }

  /**
   * Sales per offer kind (buy, rental, bundle, pass, membership), per
   * currency, for a creator or all: orders paid, what coupons took off, and
   * the ledger's money (net of refunds). A bundle is a purchase of scope
   * bundle, shown as its own type.
   */
  async byOfferType(creatorId?: number): Promise<Array<OfferTypeSales>> {
    const money = db
      .from('ledger_entries as le')
      .join('orders as o', 'o.id', 'le.order_id')
      .select(db.raw(`CASE WHEN o.offer_kind = 'purchase' AND o.offer_scope = 'bundle' THEN 'bundle' ELSE o.offer_kind END AS type`), ...this.#totalsSelect())
      .groupByRaw('1, le.currency')
    const counts = db
      .from('orders as o')
      .whereIn('o.status', ['paid', 'disputed', 'refunded', 'charged_back'])
      .select(db.raw(`CASE WHEN o.offer_kind = 'purchase' AND o.offer_scope = 'bundle' THEN 'bundle' ELSE o.offer_kind END AS type`), 'o.currency')
      .select(db.raw('COUNT(*) AS sales'))
      .select(db.raw(`COUNT(*) FILTER (WHERE o.status IN ('refunded', 'charged_back')) AS refunds`))
      .select(db.raw('COALESCE(SUM(o.discount_minor), 0) AS discount'))
      .groupByRaw('1, o.currency')
    if (creatorId !== undefined) {
      money.where('o.creator_id', creatorId)
      counts.where('o.creator_id', creatorId)
    }
    const [rows, countRows] = await Promise.all([money, counts])
    return rows
      .map((row) => {
        const count = countRows.find((c) => c.type === row.type && c.currency === row.currency)
        return { type: row.type, sales: num(count?.sales), refunds: num(count?.refunds), discount: num(count?.discount), ...this.#totals(row) }
      })
      .sort((a, b) => a.currency.localeCompare(b.currency) || b.gross - a.gross)
  }

  /**
   * Sales made with each coupon, per currency: uses paid, what the coupons
   * took off, and what those orders brought in (the ledger, net of refunds).
   * A creator sees their own coupons and platform coupons used on their
   * sales; the admin sees all.
   */
  async byCoupon(creatorId?: number): Promise<Array<CouponSales>> {
    const query = db
      .from('orders as o')
      .join('coupons as cp', 'cp.id', 'o.coupon_id')
      .joinRaw(
        `LEFT JOIN (SELECT order_id, SUM(amount_minor) AS net, COALESCE(SUM(amount_minor) FILTER (WHERE account = 'creator'), 0) AS creator_net
                      FROM ledger_entries GROUP BY order_id) l ON l.order_id = o.id`
      )
      .whereIn('o.status', ['paid', 'disputed', 'refunded', 'charged_back'])
      .select('cp.id', 'cp.code', 'cp.creator_id', 'o.currency')
      .select(db.raw('COUNT(*) AS uses'))
      .select(db.raw('COALESCE(SUM(o.discount_minor), 0) AS discount'))
      .select(db.raw('COALESCE(SUM(l.net), 0) AS net'))
      .select(db.raw('COALESCE(SUM(l.creator_net), 0) AS creator_net'))
      .groupBy('cp.id', 'cp.code', 'cp.creator_id', 'o.currency')
      .orderBy('discount', 'desc')
    if (creatorId !== undefined) query.where('o.creator_id', creatorId)
    const rows = await query
    return rows.map((row) => ({
      couponId: row.id,
      code: row.code,
      platformWide: row.creator_id === null,
      currency: row.currency,
      uses: num(row.uses),
      discount: num(row.discount),
      net: num(row.net),
      creatorNet: num(row.creator_net),
    }))
  }

  /** Recent buyers of a creator's videos (orders that were paid: paid, refunded, disputed or charged back). */
  buyers(creatorId: number, limit = 100) {
    return Order.query()
      .where('creatorId', creatorId)
      .whereIn('status', ['paid', 'refunded', 'disputed', 'charged_back'])
      .preload('buyer')
      .preload('video')
      .orderBy('createdAt', 'desc')
      .limit(limit)
  }
}

const salesReports = new SalesReportService()
export default salesReports
