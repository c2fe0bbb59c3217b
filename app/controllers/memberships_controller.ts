import type { HttpContext } from '@adonisjs/core/http'
import Offer from '#models/offer'
import Video from '#models/video'
import memberships from '#services/commerce/memberships'
import { describeOffer } from '#services/commerce/offers'
import { formatMoney } from '#services/money'
import { subscribeValidator } from '#validators/membership'

/**
 * A creator's membership page (linked from their page and from every video
 * page's options) and subscribing to it. The page puts the membership (billed
 * monthly by providers that can) beside the creator's passes (sold by every
 * provider, including those that cannot bill again: wallets, bank transfers).
 */
export default class MembershipsController {
  /** GET /memberships/:id */
  async show({ params, view, auth, response }: HttpContext) {
    const offer = await memberships.findOnSale(params.id)
    if (!offer) return response.notFound('There is no such membership')
    const viewer = auth.user
    const [running, passes, videoCount] = await Promise.all([
      viewer ? memberships.runningFor(viewer.id, offer.id) : null,
      Offer.query().where({ creatorId: offer.creatorId, kind: 'pass', active: true }).orderBy('priceMinor'),
      Video.query().where({ ownerId: offer.creatorId, visibility: 'published', status: 'ready' }).count('* as total').first(),
    ])
    return view.render('pages/memberships/show', {
      offer,
      title: describeOffer(offer, undefined, offer.creator.username),
      creator: offer.creator,
      priceText: formatMoney(offer.priceMinor, offer.currency),
      graceDays: memberships.graceDays,
      billers: memberships.providersFor(offer.currency),
      oneOff: memberships.oneOffProvidersFor(offer.currency),
      passes: passes.map((pass) => ({ pass, title: describeOffer(pass, undefined, offer.creator.username), priceText: formatMoney(pass.priceMinor, pass.currency) })),
      running,
      accessEndsAt: running ? memberships.accessEndsAt(running) : null,
      videoCount: Number(videoCount?.$extras.total ?? 0),
      own: viewer?.id === offer.creatorId,
    })
  }

  /** POST /memberships/:id/subscribe: the provider's checkout (the price is the server's). */
  async subscribe({ params, request, response, auth }: HttpContext) {
    const { provider } = await request.validateUsing(subscribeValidator)
    const subscription = await memberships.subscribe(auth.getUserOrFail(), String(params.id), provider)
    return response.redirect().status(303).toPath(subscription.checkoutUrl!)
  }
}
