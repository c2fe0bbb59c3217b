import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Order from '#models/order'
import type User from '#models/user'
import { isUuid } from '#services/ids'

/** Read-side questions about orders and the books, and the expiry chore. */
export class OrderQueries {
  /** Pending orders past their expiry become expired (a worker chore). */
  async expireStale() {
    return Order.query().where('status', 'pending').where('expiresAt', '<', DateTime.now().toSQL()!).update({
      status: 'expired',
      failureReason: 'The checkout was not completed in time',
      updatedAt: DateTime.now().toSQL(),
    })
  }

  /**
   * The books' invariant: the ledger lines of an order that was paid sum to
   * what the buyer did not get back (amount − refunded), those of any other
   * order to zero. Returns the orders that break it (none).
   */
  async ledgerMismatches(): Promise<string[]> {
    const result = await db.rawQuery(
      `SELECT o.id FROM orders o LEFT JOIN ledger_entries le ON le.order_id = o.id
       GROUP BY o.id, o.status, o.amount_minor, o.refunded_minor
       HAVING COALESCE(SUM(le.amount_minor), 0) <>
         CASE WHEN o.status IN ('paid', 'disputed', 'refunded', 'charged_back', 'refunding') THEN o.amount_minor - o.refunded_minor ELSE 0 END`
    )
    return result.rows.map((row: { id: string }) => row.id)
  }

  /**
   * Money that arrived but bought nothing, kept for admins to settle by hand,
   * newest first: payments no checkout matched or that disagreed with their
   * quote (chain payments), and payments refused (a wrong amount, paid twice
   * where the provider cannot refund).
   */
  async unmatchedPayments(limit = 50) {
    const rows = await db
      .from('payment_events')
      .where((q) => q.where('type', 'payment.unmatched').orWhere((r) => r.where('type', 'payment.succeeded').where('outcome', 'rejected')))
      .orderBy('id', 'desc')
      .limit(limit)
    return rows.map((row) => ({
      provider: row.provider as string,
      eventId: row.event_id as string,
      orderId: row.order_id as string | null,
      reason: (row.event?.reason ?? row.detail ?? '') as string,
      details: (row.event?.details ?? {}) as Record<string, string | number | boolean | null>,
      receivedAt: new Date(row.received_at),
    }))
  }

  /** The buyer's checkouts that may still be paid (pending, not expired), newest first. */
  openCheckoutsOf(buyer: User) {
    return Order.query()
      .where({ buyerId: buyer.id, status: 'pending' })
      .where('expiresAt', '>', DateTime.now().toSQL()!)
      .preload('video')
      .orderBy('createdAt', 'desc')
  }

  /**
   * What a paid order was paid with when that was not its own currency: the
   * token and exact amount of a crypto payment, from the provider's event
   * (`details.symbol`, `details.decimals`, `details.amount` in token units).
   * Null for card payments and events that do not say.
   */
  async paidWith(order: Order): Promise<{ symbol: string; units: bigint; decimals: number } | null> {
    const row = await db
      .from('payment_events')
      .where({ order_id: order.id, type: 'payment.succeeded', outcome: 'applied' })
      .orderBy('id', 'desc')
      .first()
    const details = row?.event?.details ?? {}
    const { symbol, decimals, amount } = details as Record<string, unknown>
    if (typeof symbol !== 'string' || !Number.isInteger(decimals) || typeof amount !== 'string' || !/^\d{1,78}$/.test(amount)) return null
    return { symbol: symbol.slice(0, 16), units: BigInt(amount), decimals: decimals as number }
  }

  findForBuyer(buyer: User, orderId: string) {
    if (!isUuid(orderId)) return null
    return Order.query().where({ id: orderId, buyerId: buyer.id }).preload('video').first()
  }
}

const orderQueries = new OrderQueries()
export default orderQueries
