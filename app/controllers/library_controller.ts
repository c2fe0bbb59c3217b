import type { HttpContext } from '@adonisjs/core/http'
import Order from '#models/order'
import allowlists from '#services/allowlist_service'
import orders from '#services/order_service'

export default class LibraryController {
  /** What the viewer may watch (bought or allowlisted), checkouts they may still pay, and every order they made. */
  async index({ view, auth }: HttpContext) {
    const user = auth.getUserOrFail()
    const [allOrders, pending, allowed] = await Promise.all([
      Order.query().where('buyerId', user.id).whereNot('status', 'pending').preload('video').orderBy('createdAt', 'desc'),
      orders.openCheckoutsOf(user),
      allowlists.videosFor(user),
    ])
    const purchased = allOrders.filter((order) => order.status === 'paid')
    return view.render('pages/library/index', { purchased, pending, allowed, orders: allOrders })
  }

  /** A receipt. */
  async receipt({ params, view, auth, response }: HttpContext) {
    const order = await orders.findForBuyer(auth.getUserOrFail(), String(params.id))
    if (!order) return response.notFound('There is no such order')
    await order.load('creator')
    return view.render('pages/library/receipt', { order, paidWith: await orders.paidWith(order) })
  }
}
