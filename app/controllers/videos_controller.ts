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
import { waysToWatch } from '#services/commerce/ways_to_watch'
import coupons from '#services/commerce/coupons'

/** What the page says of a coupon for one way to get the video: the price after it, or why not. */
function couponPreview(preview: { amountMinor: number; discountMinor: number } | { error: string } | undefined, currency: string) {
  if (!preview) return null
  if ('error' in preview) return { error: preview.error }
  return { priceText: preview.amountMinor === 0 ? 'Free' : formatMoney(preview.amountMinor, currency), offText: formatMoney(preview.discountMinor, currency) }
}

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
    // Every way to get it (the buy price, a rental, bundles, passes...), cheapest first, and what the viewer holds.
    const ways = await waysToWatch(auth.user, video, access, price)
    const canBuy = !!auth.user && (access.allowed || access.reason === 'payment_required')
    const coupon = typeof request.qs().coupon === 'string' ? String(request.qs().coupon).trim().slice(0, 64) : ''
    // A coupon typed here: each way's price after it, or why it does not apply (the checkout quotes again).
    const previews = coupon && auth.user && canBuy ? await coupons.preview(auth.user, video, ways.options, coupon) : new Map()
    const options = ways.options.map((option) => {
      const preview = previews.get(option.offerId ?? 'buy')
      // The buttons say what will be charged: the price after a coupon that applies.
      const charged = preview && 'amountMinor' in preview ? preview.amountMinor : option.price.amount
      return {
        ...option,
        priceText: formatMoney(option.price.amount, option.price.currency),
        coupon: couponPreview(preview, option.price.currency),
        buttons:
          canBuy && option.kind !== 'membership'
            ? orders.providersFor(option.price.currency).map((provider) =>
                this.#buyButton(provider, {
                  action: option.offerId ? `/offers/${option.offerId}/checkout` : `/videos/${video.id}/checkout`,
                  title: option.offerId ? option.title : video.title,
                  priceText: formatMoney(charged, option.price.currency),
                  csrfToken: request.csrfToken,
                  coupon,
                })
              )
            : [],
      }
    })
    const buyOption = options.find((option) => !option.offerId)
    const buyButtons = !access.allowed && access.reason === 'payment_required' && buyOption ? buyOption.buttons : []
    return view.render('pages/videos/show', {
      video,
      access,
      price,
      buyButtons,
      options,
      holding: ways.holding,
      canManage: videos.canManage(auth.user, video),
      moreFromCreator,
      owned,
    })
  }

  /**
   * Each provider's button is a view of its plugin (rendered escaped in the
   * page); the core supplies the form's target and fields (a coupon code the
   * viewer entered rides along: the server prices it). Without one, the
   * core's plain button.
   */
  #buyButton(provider: PaymentProvider, sale: { action: string; title: string; priceText: string; csrfToken: string; coupon: string }) {
    const input = {
      action: sale.action,
      hiddenFields: [
        { name: '_csrf', value: sale.csrfToken },
        { name: 'provider', value: provider.id },
        ...(sale.coupon ? [{ name: 'coupon', value: sale.coupon }] : []),
      ],
      priceText: sale.priceText,
      videoTitle: sale.title,
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
