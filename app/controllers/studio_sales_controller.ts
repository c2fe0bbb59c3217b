import type { HttpContext } from '@adonisjs/core/http'
import salesReports from '#services/sales_report_service'
import orders from '#services/order_service'
import { safeReturnPath } from '#services/redirects'

export default class StudioSalesController {
  /** The creator's dashboard: totals, per-video sales, buyers and a revenue chart. */
  async index({ view, auth }: HttpContext) {
    const creator = auth.getUserOrFail()
    const [totals, perVideo, days, buyers] = await Promise.all([
      salesReports.totals(creator.id),
      salesReports.perVideo(creator.id),
      salesReports.revenueByDay(creator.id),
      salesReports.buyers(creator.id),
    ])
    const charts = totals.map((total) => salesReports.chart(days, total.currency))
    return view.render('pages/studio/sales', {
      totals,
      perVideo,
      charts,
      buyers,
      canRefund: (order: any) => orders.canRefund(creator, order),
    })
  }

  /** POST /studio/orders/:id/refund (also used by admins' order list). */
  async refund({ params, response, session, auth, request }: HttpContext) {
    const order = await orders.refund(auth.getUserOrFail(), String(params.id))
    session.flash('success', `Order ${order.receiptNumber} was refunded; the buyer no longer has access.`)
    return response.redirect().toPath(safeReturnPath(request.input('return_to'), '/studio/sales'))
  }
}
