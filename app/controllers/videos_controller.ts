import type { HttpContext } from '@adonisjs/core/http'
import videos from '#services/video_service'
import catalog from '#services/catalog_service'
import { readCatalogQuery } from '#validators/catalog'
import { lookUpStoredObject, sendStoredObject, unsatisfiableContentRange } from '#services/media/stored_object'
import entitlements from '#services/entitlement_service'
import orders from '#services/order_service'
import { formatMoney } from '#services/money'
import type { PaymentProvider } from '#hooks/contracts'
import plugins from '#services/plugins'
import type Video from '#models/video'

export default class VideosController {
  /** The catalog: published, ready videos, searchable and paginated. */
  async index({ request, view, auth }: HttpContext) {
    const { params: query, ignored } = await readCatalogQuery(request.qs())
    const results = await catalog.list({ ...query, search: query.q, viewer: auth.user })
    results.baseUrl('/')
    results.queryString({ q: query.q || undefined, sort: query.sort, filter: query.filter })
    const owned = await catalog.ownedAmong(auth.user, results.all().map((video) => video.id))
    return view.render('pages/home', { videos: results, query, ignored, owned })
  }

  async show({ params, view, auth, request }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user)
    await video.load('owner')
    const moreFromCreator = video.isPublic ? await catalog.moreFrom(video) : []
    const owned = await catalog.ownedAmong(auth.user, moreFromCreator.map((other) => other.id))
    // The page shows the player, or why there is none (log in, buy, processing).
    const access = await entitlements.decide(auth.user, video)
    const price = await orders.priceOf(video, auth.user)
    const buyButtons =
      !access.allowed && access.reason === 'payment_required'
        ? orders.providersFor(price.currency).map((provider) => this.#buyButton(provider, video, formatMoney(price.amount, price.currency), request.csrfToken))
        : []
    return view.render('pages/videos/show', { video, access, price, buyButtons, canManage: videos.canManage(auth.user, video), moreFromCreator, owned })
  }

  /**
   * Each provider's button is a view of its plugin (rendered escaped in the
   * page); the core supplies the form's target and fields. Without one, the
   * core's plain button.
   */
  #buyButton(provider: PaymentProvider, video: Video, priceText: string, csrfToken: string) {
    const input = {
      action: `/videos/${video.id}/checkout`,
      hiddenFields: [
        { name: '_csrf', value: csrfToken },
        { name: 'provider', value: provider.id },
      ],
      priceText,
      videoTitle: video.title,
    }
    return plugins.buyButtonView(provider, input) ?? { view: 'components/buy_button', data: { ...input, label: provider.label } }
  }

  /** Posters are streamed by the app: storage is never public. */
  async poster({ params, request, response, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user)
    const object = video.posterKey ? await lookUpStoredObject(video.posterKey, request.header('range')) : null
    if (!object || object.kind === 'missing') return response.notFound('No poster yet')
    if (object.kind === 'unsatisfiable') {
      response.header('Content-Range', unsatisfiableContentRange(object.size))
      return response.status(416).send('The requested byte range is not satisfiable')
    }
    response.header('Cache-Control', video.isPublic ? 'public, max-age=300' : 'private, no-store')
    // Not offloaded to nginx: its protected location marks everything private, and public posters are cached.
    return sendStoredObject(response, object)
  }
}
