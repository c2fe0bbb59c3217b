import type { HttpContext } from '@adonisjs/core/http'
import coupons, { couponInputFromForm } from '#services/commerce/coupons'
import offers, { describeOffer } from '#services/commerce/offers'
import salesReports from '#services/sales_report_service'
import currencies from '#services/currency_service'
import Video from '#models/video'
import { couponValidator } from '#validators/coupon'

/**
 * Coupons: a creator's own in the Studio (/studio/coupons), the platform's
 * in Admin (/admin/coupons, audited). One page, two scopes.
 */
export default class CouponsController {
  #platform(request: HttpContext['request']) {
    return request.url().startsWith('/admin/')
  }

  async index({ view, auth, request }: HttpContext) {
    const actor = auth.getUserOrFail()
    const platform = this.#platform(request)
    const [list, sales] = await Promise.all([coupons.listWithUses(platform ? null : actor.id), salesReports.byCoupon(platform ? undefined : actor.id)])
    // What a creator's coupon may be limited to: their offers and their videos' buy prices.
    const choices = platform
      ? []
      : [
          ...(await offers.ofCreator(actor)).filter((o) => o.active && o.kind !== 'membership').map((o) => ({ name: 'offers', id: o.id, label: describeOffer(o, o.video?.title) })),
          ...(await Video.query().where('ownerId', actor.id).where('priceMinor', '>', 0).orderBy('title')).map((v) => ({ name: 'videos', id: v.id, label: `Buy: ${v.title}` })),
        ]
    return view.render('pages/coupons/index', {
      platform,
      base: platform ? '/admin/coupons' : '/studio/coupons',
      list,
      sales,
      choices,
      currencyCodes: currencies.supported(),
    })
  }

  async store({ request, response, session, auth }: HttpContext) {
    const platform = this.#platform(request)
    const form = await request.validateUsing(couponValidator)
    const coupon = await coupons.create(auth.getUserOrFail(), couponInputFromForm(form), { platform })
    session.flash('success', `The coupon ${coupon.code} works from now on.`)
    return response.redirect().toPath(platform ? '/admin/coupons' : '/studio/coupons')
  }

  async deactivate({ params, request, response, session, auth }: HttpContext) {
    const platform = this.#platform(request)
    const coupon = await coupons.deactivate(auth.getUserOrFail(), String(params.id), { platform })
    session.flash('success', `The coupon ${coupon.code} no longer works; orders made with it keep their price.`)
    return response.redirect().toPath(platform ? '/admin/coupons' : '/studio/coupons')
  }
}
