import type { HttpContext } from '@adonisjs/core/http'
import orders from '#services/order_service'
import plugins from '#services/plugins'
import checkouts from '#services/commerce/checkout'
import { formatMoney } from '#services/money'
import { checkoutValidator } from '#validators/commerce'
import { refuseForgedPrice } from '#services/commerce/coupons'

export default class CheckoutsController {
  /** POST /videos/:id/checkout: the price comes from the database, the provider from the form. */
  async store({ params, request, response, auth }: HttpContext) {
    const { provider, coupon } = await request.validateUsing(checkoutValidator)
    refuseForgedPrice(request.all())
    const order = await orders.checkout(auth.getUserOrFail(), String(params.id), provider, { coupon })
    // A 100 % coupon: paid at once, nothing to pay at a provider.
    if (order.status === 'paid') return response.redirect().status(303).toPath(`/orders/${order.id}/complete`)
    if (order.checkoutUrl) return response.redirect().status(303).toPath(order.checkoutUrl)
    // Client-side payments (wallets) continue on the provider's own page.
    return response.redirect().status(303).toPath(`/orders/${order.id}/complete`)
  }

  /**
   * POST /offers/:id/checkout: a rental, a bundle or a pass through any
   * enabled provider. The price is the offer's (recomputed with a coupon by
   * the server); the provider sees an order with an amount.
   */
  async storeOffer({ params, request, response, auth }: HttpContext) {
    const { provider, coupon } = await request.validateUsing(checkoutValidator)
    refuseForgedPrice(request.all())
    const order = await checkouts.checkoutOffer(auth.getUserOrFail(), String(params.id), provider, { coupon })
    if (order.status === 'paid') return response.redirect().status(303).toPath(`/orders/${order.id}/complete`)
    if (order.checkoutUrl) return response.redirect().status(303).toPath(order.checkoutUrl)
    return response.redirect().status(303).toPath(`/orders/${order.id}/complete`)
  }

  /** Where a provider sends the buyer back; shows the order until it is paid. */
  async complete({ params, view, auth, response, request }: HttpContext) {
    const order = await orders.findForBuyer(auth.getUserOrFail(), String(params.id))
    if (!order) return response.notFound('There is no such order')
    // A wallet-style checkout is finished here, in the provider's own panel.
    const provider = plugins.payments.get(order.provider)
    const checkoutPanel =
      order.status === 'pending' && order.checkoutAction && provider
        ? plugins.checkoutView(provider, {
            orderId: order.id,
            action: order.checkoutAction,
            videoTitle: order.itemTitle,
            priceText: formatMoney(order.amountMinor, order.currency),
            statusUrl: `/orders/${order.id}/status`,
            csrfToken: request.csrfToken,
            expiresAt: order.expiresAt.toJSDate(),
          })
        : null
    return view.render('pages/orders/complete', { order, checkoutPanel })
  }

  async cancel({ params, view, auth, response }: HttpContext) {
    const order = await orders.findForBuyer(auth.getUserOrFail(), String(params.id))
    if (!order) return response.notFound('There is no such order')
    return view.render('pages/orders/cancelled', { order })
  }

  /** GET /orders/:id/status: what the completion page polls. */
  async status({ params, auth, response }: HttpContext) {
    const order = await orders.findForBuyer(auth.getUserOrFail(), String(params.id))
    if (!order) return response.notFound({ error: 'not_found' })
    return { status: order.status, videoId: order.videoId }
  }
}
