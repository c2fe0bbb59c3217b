import type { HttpContext } from '@adonisjs/core/http'
import Order from '#models/order'
import orders from '#services/order_service'
import allowlists from '#services/allowlist_service'
import audit from '#services/audit_service'
import salesReports from '#services/sales_report_service'
import plugins from '#services/plugins'
import { orderFiltersValidator } from '#validators/commerce'
import refunds from '#services/commerce/refunds'
import { ledgerCsv } from '#services/commerce/ledger_export'

/** Admin pages for money and access: orders, allowlists, the audit log. */
export default class AdminCommerceController {
  async orders({ view, request, auth }: HttpContext) {
    const filters = await orderFiltersValidator.validate(request.qs())
    const query = Order.query().preload('buyer').preload('video').preload('creator').orderBy('createdAt', 'desc')
    if (filters.status) query.where('status', filters.status)
    if (filters.provider) query.where('provider', filters.provider)
    const list = await query.paginate(filters.page ?? 1, 50)
    list.baseUrl('/admin/orders')
    list.queryString({ status: filters.status, provider: filters.provider })
    const admin = auth.getUserOrFail()
    return view.render('pages/admin/orders', {
      orders: list,
      filters,
      totals: await salesReports.totals(),
      providers: plugins.payments.all().map((p) => p.id),
      canRefund: (order: Order) => orders.canRefund(admin, order),
      byType: await salesReports.byOfferType(),
      stuck: await refunds.stuck(),
      unmatched: await orders.unmatchedPayments(),
    })
  }

  /** GET /admin/orders/ledger.csv: every ledger line of the instance, one row per order per event, streamed. */
  async ledger({ response }: HttpContext) {
    response.header('content-type', 'text/csv; charset=utf-8')
    response.header('content-disposition', `attachment; filename="ledger-${new Date().toISOString().slice(0, 10)}.csv"`)
    response.header('cache-control', 'no-store')
    response.stream(ledgerCsv())
  }

  async allowlists({ view, request }: HttpContext) {
    const page = Math.max(1, Number.parseInt(request.input('page', '1'), 10) || 1)
    const entries = await allowlists.all(page)
    entries.baseUrl('/admin/allowlists')
    return view.render('pages/admin/allowlists', { entries })
  }

  async audit({ view, request }: HttpContext) {
    const search = String(request.input('q', '')).slice(0, 100)
    const page = Math.max(1, Number.parseInt(request.input('page', '1'), 10) || 1)
    const entries = await audit.search({ search, page })
    entries.baseUrl('/admin/audit')
    entries.queryString(search ? { q: search } : {})
    return view.render('pages/admin/audit', { entries, search })
  }
}
