import type { HttpContext } from '@adonisjs/core/http'
import salesReports from '#services/sales_report_service'
import orders from '#services/order_service'
import { safeReturnPath } from '#services/redirects'
import refunds from '#services/commerce/refunds'
import { ledgerCsv } from '#services/commerce/ledger_export'
import { formatMoney } from '#services/money'
import { refundValidator } from '#validators/commerce'
import type Order from '#models/order'
import type Refund from '#models/refund'

function refundMessage(order: Order, refund: Refund) {
  const amount = formatMoney(refund.amountMinor, refund.currency)
  if (order.status === 'refunded') return `Order ${order.receiptNumber} was refunded (${amount}); the buyer no longer has access.`
  return refund.endsAccess
    ? `${amount} of order ${order.receiptNumber} was refunded; the buyer no longer has access.`
    : `${amount} of order ${order.receiptNumber} was refunded; the buyer keeps access.`
}

export default class StudioSalesController {
  /** The creator's dashboard: totals, per-video sales, buyers and a revenue chart. */
  async index({ view, auth }: HttpContext) {
    const creator = auth.getUserOrFail()
    const [totals, perVideo, days, buyers, stuck, byType, byCoupon] = await Promise.all([
      salesReports.totals(creator.id),
      salesReports.perVideo(creator.id),
      salesReports.revenueByDay(creator.id),
      salesReports.buyers(creator.id),
      refunds.stuck(creator.id),
      salesReports.byOfferType(creator.id),
      salesReports.byCoupon(creator.id),
    ])
    const charts = totals.map((total) => salesReports.chart(days, total.currency))
    return view.render('pages/studio/sales', {
      totals,
      perVideo,
      charts,
      buyers,
      stuck,
      byType,
      byCoupon,
      canRefund: (order: any) => orders.canRefund(creator, order),
    })
  }

  /** GET /studio/sales/ledger.csv: the creator's own ledger lines, one row per order per event, streamed. */
  async ledger({ auth, response }: HttpContext) {
    const creator = auth.getUserOrFail()
    response.header('content-type', 'text/csv; charset=utf-8')
    response.header('content-disposition', `attachment; filename="ledger-${creator.username}-${new Date().toISOString().slice(0, 10)}.csv"`)
    response.header('cache-control', 'no-store')
    response.stream(ledgerCsv(creator.id))
  }

  /**
   * POST /studio/orders/:id/refund (also used by admins' order list): all
   * that is left, or the amount typed (a partial refund).
   */
  async refund({ params, response, session, auth, request }: HttpContext) {
    const { amount } = await request.validateUsing(refundValidator)
    const { order, refund } = await refunds.refund(auth.getUserOrFail(), String(params.id), { amountText: amount })
    session.flash('success', refundMessage(order, refund))
    return response.redirect().toPath(safeReturnPath(request.input('return_to'), '/studio/sales'))
  }

  /** POST /studio/refunds/:id/retry: a refund left pending (a crash) is tried again with the same key. */
  async retryRefund({ params, response, session, auth, request }: HttpContext) {
    const { order, refund } = await refunds.retry(auth.getUserOrFail(), Number(params.id))
    session.flash('success', refundMessage(order, refund))
    return response.redirect().toPath(safeReturnPath(request.input('return_to'), '/studio/sales'))
  }
}
