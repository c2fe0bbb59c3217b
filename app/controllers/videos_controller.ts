import type { HttpContext } from '@adonisjs/core/http'
import videos from '#services/video_service'
import { lookUpStoredObject, sendStoredObject, unsatisfiableContentRange } from '#services/media/stored_object'
import entitlements from '#services/entitlement_service'
import orders from '#services/order_service'
import { formatMoney } from '#services/money'
import type { PaymentProvider } from '#hooks/contracts'
import { escapeHtml } from '#hooks/html'
import type Video from '#models/video'

export default class VideosController {
  /** The catalog: published, ready videos, searchable and paginated. */
  async index({ request, view }: HttpContext) {
    const search = String(request.input('q', '')).slice(0, 100)
    const page = Math.max(1, Math.min(10_000, Number.parseInt(request.input('page', '1'), 10) || 1))
    const results = await videos.catalog({ search, page })
    results.baseUrl('/')
    results.queryString(search ? { q: search } : {})
    return view.render('pages/home', { videos: results, search })
  }

  async show({ params, view, auth, request }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user)
    await video.load('owner')
    // The page shows the player, or why there is none (log in, buy, processing).
    const access = await entitlements.decide(auth.user, video)
    const price = await orders.priceOf(video, auth.user)
    const buyButtons =
      !access.allowed && access.reason === 'payment_required'
        ? orders.providersFor(price.currency).map((provider) => this.#buyButton(provider, video, formatMoney(price.amount, price.currency), request.csrfToken))
        : []
    return view.render('pages/videos/show', { video, access, price, buyButtons, canManage: videos.canManage(auth.user, video) })
  }

  /** Each provider renders its own button; the core supplies the form's target and fields. */
  #buyButton(provider: PaymentProvider, video: Video, priceText: string, csrfToken: string) {
    const action = `/videos/${video.id}/checkout`
    const hiddenFields =
      `<input type="hidden" name="_csrf" value="${escapeHtml(csrfToken)}">` +
      `<input type="hidden" name="provider" value="${escapeHtml(provider.id)}">`
    const input = { action, hiddenFields, priceText, videoTitle: video.title }
    if (provider.renderBuyButton) return provider.renderBuyButton(input)
    return `<form method="POST" action="${action}" class="buy-form">${hiddenFields}<button type="submit" class="button">Pay ${escapeHtml(priceText)}: ${escapeHtml(provider.label)}</button></form>`
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
