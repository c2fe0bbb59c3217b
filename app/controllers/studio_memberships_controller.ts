import type { HttpContext } from '@adonisjs/core/http'
import memberships from '#services/commerce/memberships'
import currencies from '#services/currency_service'
import { formatMoney, minorToInput, toMinorUnits } from '#services/money'
import { membershipValidator } from '#validators/membership'

/** Studio → Membership: one monthly membership per creator (all their videos while it is paid). */
export default class StudioMembershipsController {
  /** GET /studio/membership */
  async show({ view, auth }: HttpContext) {
    const creator = auth.getUserOrFail()
    const offer = await memberships.offerOf(creator.id)
    const currency = offer?.currency ?? 'USD'
    return view.render('pages/studio/membership', {
      offer,
      price: offer ? minorToInput(offer.priceMinor, offer.currency) : '',
      currency,
      currencies: currencies.supported(),
      members: await memberships.memberCount(creator.id),
      billers: memberships.providersFor(currency).map((provider) => provider.label),
      graceDays: memberships.graceDays,
    })
  }

  /** POST /studio/membership: creates it or changes its price (members keep theirs). */
  async save({ request, response, session, auth }: HttpContext) {
    const input = await request.validateUsing(membershipValidator)
    const offer = await memberships.saveOffer(auth.getUserOrFail(), {
      priceMinor: toMinorUnits(input.price, input.currency)!,
      currency: input.currency,
      title: input.title,
      description: input.description,
    })
    session.flash('success', `Membership saved: ${formatMoney(offer.priceMinor, offer.currency)} a month. It is offered on your page and on each of your videos.`)
    return response.redirect('/studio/membership')
  }

  /** POST /studio/membership/deactivate */
  async deactivate({ response, session, auth }: HttpContext) {
    await memberships.deactivate(auth.getUserOrFail())
    session.flash('success', 'The membership is no longer for sale. Members keep access until they cancel or their payments stop.')
    return response.redirect('/studio/membership')
  }
}
