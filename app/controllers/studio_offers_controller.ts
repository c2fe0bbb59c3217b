import type { HttpContext } from '@adonisjs/core/http'
import videos from '#services/video_service'
import offerEditor from '#services/commerce/offer_editor'
import currencies from '#services/currency_service'
import { minorToInput, toMinorUnits } from '#services/money'
import { bundleValidator, passValidator, rentalValidator, PASS_DAYS, RENTAL_HOURS, START_WINDOW_DAYS } from '#validators/offer'
import type Offer from '#models/offer'
import User from '#models/user'

/**
 * Studio → Offers (issue 17): a video's rental beside its buy price (on the
 * video's edit page), and the creator's bundles and passes. The rules live
 * in `commerce/offer_editor`; this validates, calls it and renders.
 */
export default class StudioOffersController {
  /** POST /studio/videos/:id/rental: sets (or changes) the video's rental. */
  async saveRental({ params, request, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const input = await request.validateUsing(rentalValidator, { meta: { currency: video.currency } })
    await offerEditor.setRental(auth.getUserOrFail(), video, {
      hours: input.rental_hours,
      startWindowDays: input.rental_start_days,
      priceMinor: toMinorUnits(input.rental_price, video.currency)!,
    })
    session.flash('success', `Rental saved: ${input.rental_hours} hours from the first play, to start within ${input.rental_start_days} days.`)
    return response.redirect(`/studio/videos/${video.id}/edit#rental`)
  }

  /** POST /studio/videos/:id/rental/delete: takes the rental off sale (rentals bought still play). */
  async removeRental({ params, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const removed = await offerEditor.removeRental(auth.getUserOrFail(), video)
    session.flash('success', removed ? 'The rental is no longer for sale; rentals already bought still play.' : 'This video had no rental for sale.')
    return response.redirect(`/studio/videos/${video.id}/edit#rental`)
  }

  /** GET /studio/offers: the creator's bundles and passes, and their videos' rentals. */
  async index({ view, auth }: HttpContext) {
    const creator = auth.getUserOrFail()
    const [offers, rentals, owned] = await Promise.all([offerEditor.bundlesAndPassesOf(creator), offerEditor.rentalsOf(creator), videos.ownedBy(creator)])
    const sales = await offerEditor.salesOf([...offers.map((offer) => offer.id), ...[...rentals.values()].map((offer) => offer.id)])
    const rented = owned.filter((video) => rentals.has(video.id)).map((video) => ({ video, offer: rentals.get(video.id)! }))
    return view.render('pages/studio/offers', { offers, rented, sales, videoCount: owned.length, creatorName: creator.username })
  }

  /** GET /studio/offers/new?kind=bundle|pass */
  async create({ request, view, auth }: HttpContext) {
    const kind = request.input('kind') === 'pass' ? 'pass' : 'bundle'
    return this.#form(view, auth.getUserOrFail(), kind, null)
  }

  /** POST /studio/offers: a new bundle or pass (`kind`). */
  async store({ request, response, session, auth }: HttpContext) {
    const creator = auth.getUserOrFail()
    const offer =
      request.input('kind') === 'pass'
        ? await offerEditor.createPass(creator, creator, await this.#passInput(request, creator.id))
        : await offerEditor.createBundle(creator, creator, await this.#bundleInput(request, creator.id))
    session.flash('success', `${offer.kind === 'pass' ? 'Pass' : 'Bundle'} created: it is on sale on its videos' pages.`)
    return response.redirect('/studio/offers')
  }

  async edit({ params, view, auth }: HttpContext) {
    const actor = auth.getUserOrFail()
    const offer = await offerEditor.findEditable(actor, params.id)
    const creator = offer.creatorId === actor.id ? actor : await User.findOrFail(offer.creatorId)
    return this.#form(view, creator, offer.kind === 'pass' ? 'pass' : 'bundle', offer)
  }

  async update({ params, request, response, session, auth }: HttpContext) {
    const actor = auth.getUserOrFail()
    const offer = await offerEditor.findEditable(actor, params.id)
    const input = offer.kind === 'pass' ? await this.#passInput(request, offer.creatorId) : await this.#bundleInput(request, offer.creatorId)
    await offerEditor.update(actor, offer, input)
    session.flash('success', 'Saved: new sales get these terms; what was bought stays as bought.')
    return response.redirect('/studio/offers')
  }

  /** POST /studio/offers/:id/deactivate: off sale; buyers keep what they bought. */
  async deactivate({ params, response, session, auth }: HttpContext) {
    const offer = await offerEditor.findEditable(auth.getUserOrFail(), params.id)
    await offerEditor.setActive(auth.getUserOrFail(), offer, false)
    session.flash('success', 'No longer for sale; its buyers keep what they bought.')
    return response.redirect('/studio/offers')
  }

  async activate({ params, response, session, auth }: HttpContext) {
    const offer = await offerEditor.findEditable(auth.getUserOrFail(), params.id)
    await offerEditor.setActive(auth.getUserOrFail(), offer, true)
    session.flash('success', 'Back on sale.')
    return response.redirect('/studio/offers')
  }

  async #bundleInput(request: HttpContext['request'], creatorId: number) {
    const input = await request.validateUsing(bundleValidator, { meta: { creatorId } })
    return {
      title: input.title,
      description: input.description ?? null,
      currency: input.currency,
      priceMinor: toMinorUnits(input.price, input.currency)!,
      videoIds: input.videos,
    }
  }

  async #passInput(request: HttpContext['request'], creatorId: number) {
    const input = await request.validateUsing(passValidator, { meta: { creatorId } })
    return {
      title: input.title ?? null,
      description: input.description ?? null,
      currency: input.currency,
      priceMinor: toMinorUnits(input.price, input.currency)!,
      days: input.days,
      scope: input.scope,
      videoIds: input.scope === 'bundle' ? (input.videos ?? []) : [],
    }
  }

  async #form(view: HttpContext['view'], creator: User, kind: 'bundle' | 'pass', offer: Offer | null) {
    const choices = (await videos.ownedBy(creator)).filter((video) => !video.isArchived || offer?.videos.some((v) => v.id === video.id))
    const currency = offer?.currency ?? choices[0]?.currency ?? 'USD'
    return view.render('pages/studio/offer_form', {
      kind,
      offer,
      choices,
      currencies: currencies.supported(),
      limits: { passDays: PASS_DAYS, rentalHours: RENTAL_HOURS, startWindowDays: START_WINDOW_DAYS },
      values: {
        title: offer?.title ?? '',
        description: offer?.description ?? '',
        price: offer ? minorToInput(offer.priceMinor, offer.currency) : '',
        currency,
        days: offer?.passDays ?? 30,
        scope: offer?.scope === 'bundle' ? 'bundle' : offer ? 'creator' : kind === 'pass' ? 'creator' : 'bundle',
        videos: offer?.videos.map((video) => video.id) ?? [],
      },
    })
  }
}
