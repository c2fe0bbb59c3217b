import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import logger from '@adonisjs/core/services/logger'
import commerce from '#config/commerce'
import { appUrl } from '#config/app'
import Order from '#models/order'
import Video from '#models/video'
import User from '#models/user'
import type { OfferKind, OfferScope } from '#models/offer'
import offers, { describeOffer } from '#services/commerce/offers'
import grants from '#services/commerce/grants'
import plugins from '#services/plugins'
import entitlements from '#services/entitlement_service'
import payoutAccounts from '#services/payout_account_service'
import currencies from '#services/currency_service'
import { isUuid } from '#services/ids'
import { platformFeeFor } from '#services/commerce/ledger'
import coupons, { type CouponQuote } from '#services/commerce/coupons'
import receipts from '#services/commerce/receipts'
import { afterPaid, markPaid, runAfterCommit, type AfterCommit } from '#services/commerce/order_state'
import { CommerceError } from '#exceptions/commerce_error'
import { PaymentProviderError, type Money, type PaymentProvider } from '#hooks/contracts'

/** Advisory lock namespace: one checkout at a time per buyer and thing sold. */
const CHECKOUT_LOCK = 7402

/** The provider's own order lifetime when it gives a valid one (bank transfers take days), else ORDER_TTL_MINUTES. */
function checkoutLifetimeOf(provider: PaymentProvider) {
  const minutes = provider.checkoutLifetimeMinutes
  return Number.isSafeInteger(minutes) && minutes! > 0 ? minutes! : commerce.orderTtlMinutes
}

/** Access that runs out: holding it is no reason not to buy for good. */
const TIME_LIMITED = new Set(['rental', 'pass', 'membership'])

/** What an order sells, resolved from a video's buy price or an offer. */
interface SaleItem {
  offerId: string | null
  kind: OfferKind
  scope: OfferScope
  videoId: string | null
  creatorId: number
  title: string
  price: Money
}

/** What a buyer may add to a checkout: a coupon code (the price is always recomputed here). */
export interface CheckoutOptions {
  coupon?: string | null
}

/** The provider of orders a 100 % coupon paid in full: no money moves, the core records the sale itself. */
export const COUPON_PROVIDER = 'coupon'

/** What a video costs a viewer and how a purchase starts: orders are made here, pending. */
export class CheckoutService {
  /** Enabled providers that can charge in this currency. */
  providersFor(currency: string): PaymentProvider[] {
    return plugins.payments.all().filter((provider) => provider.currencies.includes(currency))
  }

  /** The price charged (after the `video:price` filter), in the video's own currency. */
  async priceOf(video: Video, viewer?: User): Promise<Money> {
    const stored = { amount: video.priceMinor, currency: video.currency }
    const price = await plugins.hooks.applyFilters('video:price', { ...stored }, { videoId: video.id, viewerId: viewer?.id })
    const valid =
      price &&
      Number.isSafeInteger(price.amount) &&
      price.amount >= 0 &&
      typeof price.currency === 'string' &&
      currencies.isSupported(price.currency)
    if (!valid) {
      logger.error({ videoId: video.id, price }, 'video:price filter returned an invalid price; the stored price is used')
      return stored
    }
    return price
  }

  /**
   * Starts (or resumes) a checkout of `videoId` at its buy price by `buyer`
   * through a provider. Refuses what cannot be bought: unknown or
   * unpublished videos, one's own, one already owned or otherwise watchable
   * for good (one rented or held through a pass may be bought), a currency
   * the provider lacks.
   */
  async checkout(buyer: User, videoId: string, providerId: string, options: CheckoutOptions = {}): Promise<Order> {
    const provider = this.#provider(buyer, providerId)
    const video = isUuid(videoId) ? await Video.find(videoId) : null
    if (!video || !video.isPublic) throw new CommerceError('not_for_sale', 404, 'There is no such video for sale')
    if (video.ownerId === buyer.id) throw new CommerceError('own_video', 409, 'You cannot buy your own video')
    await this.#refuseIfWatchableForGood(buyer, video)
    const price = await this.priceOf(video, buyer)
    if (price.amount <= 0) throw new CommerceError('free', 409, 'This video is free')
    return this.#start(buyer, provider, {
      offerId: null,
      kind: 'purchase',
      scope: 'video',
      videoId: video.id,
      creatorId: video.ownerId,
      title: video.title,
      price,
    }, options)
  }

  /**
   * Starts (or resumes) a checkout of an offer: a rental, a bundle, a pass.
   * Refuses renting what one owns (or still rents), a bundle bought already,
   * a pass still running, and one's own offers. Memberships have their own
   * checkout (a subscription).
   */
  async checkoutOffer(buyer: User, offerId: string, providerId: string, options: CheckoutOptions = {}): Promise<Order> {
    const provider = this.#provider(buyer, providerId)
    const offer = await offers.findLive(offerId)
    if (!offer || offer.kind === 'membership') throw new CommerceError('not_for_sale', 404, 'There is no such offer for sale')
    if (offer.creatorId === buyer.id) throw new CommerceError('own_video', 409, 'You cannot buy your own offer')
    if (offer.creator.bannedAt) throw new CommerceError('not_for_sale', 404, 'There is no such offer for sale')
    const video = offer.scope === 'video' ? offer.video : null
    if (offer.scope === 'video' && (!video || !video.isPublic)) throw new CommerceError('not_for_sale', 404, 'There is no such video for sale')
    if (offer.scope === 'bundle' && !offer.videos.some((v) => v.isPublic)) {
      throw new CommerceError('not_for_sale', 404, 'This bundle has no video for sale')
    }
    if (video) await this.#refuseIfWatchableForGood(buyer, video)
    const held = await grants.heldOffer(buyer.id, offer)
    if (held) throw new CommerceError(held.code, 409, held.message)
    if (offer.priceMinor <= 0) throw new CommerceError('free', 409, 'This offer is free')
    return this.#start(buyer, provider, {
      offerId: offer.id,
      kind: offer.kind,
      scope: offer.scope,
      videoId: video?.id ?? null,
      creatorId: offer.creatorId,
      title: describeOffer(offer, video?.title, offer.creator.username),
      price: { amount: offer.priceMinor, currency: offer.currency },
    }, options)
  }

  #provider(buyer: User, providerId: string) {
    const provider = plugins.payments.get(providerId)
    if (!provider) throw new CommerceError('unknown_provider', 422, 'This payment method is not available')
    if (buyer.bannedAt) throw new CommerceError('account_banned', 403, 'Your account is banned')
    return provider
  }

  /** One may not pay for what one can already watch for good (owned, allowed, free); a rental or a pass is no reason not to buy. */
  async #refuseIfWatchableForGood(buyer: User, video: Video) {
    const access = await entitlements.decide(buyer, video)
    if (access.allowed) {
      if (access.via === 'purchase') throw new CommerceError('already_owned', 409, 'You already own this video')
      if (!TIME_LIMITED.has(access.via)) throw new CommerceError('already_allowed', 409, 'You can already watch this video without paying')
      return
    }
    if (access.reason !== 'payment_required') throw new CommerceError(access.reason, access.status, access.message)
  }

  /** Makes the pending order (or finds the open one) and asks the provider to start the payment. */
  async #start(buyer: User, provider: PaymentProvider, item: SaleItem, options: CheckoutOptions = {}): Promise<Order> {
    // A coupon is checked here (a clear refusal before anything is made) and
    // its use taken again under its lock when the order is made.
    const code = options.coupon?.trim()
    const quote = code ? await coupons.quote(buyer, item, code, commerce.platformFeeBps) : null
    const price = quote ? { amount: quote.amountMinor, currency: item.price.currency } : item.price
    if (quote && price.amount === 0) return this.#grantFree(buyer, item, quote)
    if (!provider.currencies.includes(price.currency)) {
      throw new CommerceError('currency_unsupported', 422, `${provider.label} cannot charge in ${price.currency}`)
    }
    const payoutAccount = await payoutAccounts.get(provider.id, item.creatorId)
    const direct = !!payoutAccount?.ready
    const itemKey = item.offerId ?? item.videoId!

    const order = await db.transaction(async (trx) => {
      await trx.rawQuery('SELECT pg_advisory_xact_lock(?, hashtext(?))', [CHECKOUT_LOCK, `${buyer.id}:${itemKey}`])
      await this.#refuseIfBought(trx, buyer, item)
      // Pressing Buy twice resumes the open checkout instead of making a second one.
      const open = await Order.query({ client: trx })
        .where({ buyerId: buyer.id, provider: provider.id, status: 'pending', offerKind: item.kind, offerScope: item.scope })
        .where((q) => (item.offerId ? q.where('offerId', item.offerId) : q.where('videoId', item.videoId!).whereNull('offerId')))
        .where('expiresAt', '>', DateTime.now().plus({ minutes: 5 }).toSQL()!)
        .where({ amountMinor: price.amount, currency: price.currency })
        .where((q) => (quote ? q.where('couponId', quote.coupon.id) : q.whereNull('couponId')))
        .where((q) => q.whereNotNull('checkoutUrl').orWhereNotNull('checkoutAction'))
        .orderBy('createdAt', 'desc')
        .first()
      if (open) return open
      const orderId = randomUUID()
      const created = await Order.create(
        {
          id: orderId,
          videoId: item.videoId,
          offerId: item.offerId,
          offerKind: item.kind,
          offerScope: item.scope,
          offerTitle: item.title.slice(0, 200),
          buyerId: buyer.id,
          creatorId: item.creatorId,
          provider: provider.id,
          status: 'pending',
          amountMinor: price.amount,
          currency: price.currency,
          platformFeeBps: commerce.platformFeeBps,
          platformFeeMinor: quote ? quote.platformFeeMinor : platformFeeFor(price.amount, commerce.platformFeeBps),
          listPriceMinor: quote ? quote.listPrice.amount : null,
          discountMinor: quote?.discountMinor ?? 0,
          couponId: quote?.coupon.id ?? null,
          creatorPayout: direct ? 'direct' : 'owed',
          payoutAccount: direct ? payoutAccount!.accountRef : null,
          expiresAt: DateTime.now().plus({ minutes: checkoutLifetimeOf(provider) }),
        },
        { client: trx }
      )
      if (quote) await coupons.reserve(trx, quote, buyer, orderId)
      return created
    })
    if (order.checkoutUrl || order.checkoutAction) return order

    const creator = await User.findOrFail(item.creatorId)
    try {
      const started = await provider.createCheckout({
        orderId: order.id,
        itemId: itemKey,
        itemTitle: item.title,
        videoId: itemKey,
        videoTitle: item.title,
        buyer: { id: buyer.id, email: buyer.email, username: buyer.username },
        creator: { id: item.creatorId, username: creator.username, payoutAccount: order.payoutAccount },
        price,
        platformFee: { amount: order.platformFeeMinor, currency: order.currency },
        platformFeeBps: order.platformFeeBps,
        successUrl: `${appUrl}/orders/${order.id}/complete`,
        cancelUrl: `${appUrl}/orders/${order.id}/cancel`,
        expiresAt: order.expiresAt.toJSDate(),
      })
      order.providerReference = started.providerReference
      if (started.kind === 'redirect') order.checkoutUrl = started.url
      else order.checkoutAction = started.action
      await order.save()
      return order
    } catch (error) {
      logger.error({ err: error, orderId: order.id, provider: provider.id }, 'checkout could not start')
      const message = error instanceof PaymentProviderError ? error.message : 'try again in a moment'
      order.merge({ status: 'failed', failureReason: `Checkout could not start: ${message}`.slice(0, 500) })
      await order.save()
      throw new CommerceError('provider_unavailable', 502, `${provider.label} could not start the payment: ${message}`)
    }
  }

  /** A video bought at its buy price, paid (or disputed), is not sold again. */
  async #refuseIfBought(trx: TransactionClientContract, buyer: User, item: SaleItem) {
    if (item.kind !== 'purchase' || item.scope !== 'video') return
    const owned = await Order.query({ client: trx })
      .where({ buyerId: buyer.id, videoId: item.videoId!, offerKind: 'purchase', offerScope: 'video' })
      .whereIn('status', ['paid', 'disputed'])
      .first()
    if (owned?.status === 'disputed') {
      throw new CommerceError(
        'payment_disputed',
        409,
        'Your bank is disputing your payment for this video: access comes back if the dispute is settled in the seller’s favour'
      )
    }
    if (owned) throw new CommerceError('already_owned', 409, 'You already own this video')
  }

  /**
   * A 100 % coupon: no provider is asked. The order is made paid at 0 by the
   * core itself (provider `coupon`), with ledger lines of 0 so the sale shows
   * in the books, the reports and the CSV (list price and discount on the
   * order), and what it sells is granted at once, in one transaction with
   * the coupon's use.
   */
  async #grantFree(buyer: User, item: SaleItem, quote: CouponQuote): Promise<Order> {
    const after: AfterCommit = []
    const order = await db.transaction(async (trx) => {
      await trx.rawQuery('SELECT pg_advisory_xact_lock(?, hashtext(?))', [CHECKOUT_LOCK, `${buyer.id}:${itemKeyOf(item)}`])
      await this.#refuseIfBought(trx, buyer, item)
      const order = await Order.create(
        {
          id: randomUUID(),
          videoId: item.videoId,
          offerId: item.offerId,
          offerKind: item.kind,
          offerScope: item.scope,
          offerTitle: item.title.slice(0, 200),
          buyerId: buyer.id,
          creatorId: item.creatorId,
          provider: COUPON_PROVIDER,
          status: 'pending',
          amountMinor: 0,
          currency: item.price.currency,
          platformFeeBps: commerce.platformFeeBps,
          platformFeeMinor: 0,
          listPriceMinor: quote.listPrice.amount,
          discountMinor: quote.discountMinor,
          couponId: quote.coupon.id,
          creatorPayout: 'owed',
          payoutAccount: null,
          expiresAt: DateTime.now(),
        },
        { client: trx }
      )
      await coupons.reserve(trx, quote, buyer, order.id)
      if (await grants.duplicateOf(trx, order)) throw new CommerceError('already_owned', 409, 'You already hold this')
      await markPaid(trx, order, { providerFeeMinor: 0, paymentReference: `coupon:${quote.coupon.code}` })
      order.status = 'paid'
      await order.useTransaction(trx).save()
      await receipts.record(trx, order, 'purchase', after)
      after.push(() => afterPaid(order))
      return order
    })
    await runAfterCommit(after)
    return order
  }
}

/** The advisory lock's key for a buyer and a thing sold. */
function itemKeyOf(item: SaleItem) {
  return item.offerId ?? item.videoId!
}

const checkouts = new CheckoutService()
export default checkouts
