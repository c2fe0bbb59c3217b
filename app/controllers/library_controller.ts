import type { HttpContext } from '@adonisjs/core/http'
import Order from '#models/order'
import allowlists from '#services/allowlist_service'
import orders from '#services/order_service'
import { libraryHoldingsOf } from '#services/commerce/library'

export default class LibraryController {
  /** What the viewer may watch (bought, in a bundle, rented, through a pass, allowlisted), checkouts they may still pay, and every order they made. */
  async index({ view, auth }: HttpContext) {
    const user = auth.getUserOrFail()
    const [allOrders, pending, allowed] = await Promise.all([
      Order.query().where('buyerId', user.id).whereNot('status', 'pending').preload('video').orderBy('createdAt', 'desc'),
      orders.openCheckoutsOf(user),
      allowlists.videosFor(user),
    ])
    // Videos bought one by one; bundles, rentals and passes are listed from what the viewer holds now.
    const purchased = allOrders.filter((order) => order.status === 'paid' && order.isVideoPurchase && order.video)
    const holdings = await libraryHoldingsOf(user, allOrders)
    return view.render('pages/library/index', { purchased, pending, allowed, orders: allOrders, ...holdings })
  }

  /** A receipt. */
  async receipt({ params, view, auth, response }: HttpContext) {
    const order = await orders.findForBuyer(auth.getUserOrFail(), String(params.id))
    if (!order) return response.notFound('There is no such order')
    await order.load('creator')
    return view.render('pages/library/receipt', { order, paidWith: await orders.paidWith(order) })
  }
}
