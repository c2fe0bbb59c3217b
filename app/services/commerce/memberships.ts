import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import commerce from '#config/commerce'
import { appUrl } from '#config/app'
import Offer from '#models/offer'
import Order from '#models/order'
import Subscription from '#models/subscription'
import Entitlement from '#models/entitlement'
import PlaybackSession from '#models/playback_session'
import type User from '#models/user'
import plugins from '#services/plugins'
import offers, { describeOffer } from '#services/commerce/offers'
import currencies from '#services/currency_service'
import receipts from '#services/commerce/receipts'
import { platformFeeFor } from '#services/commerce/ledger'
import { afterPaid, markPaid, runAfterCommit, type AfterCommit } from '#services/commerce/order_state'
import { outcome as result, type AppliedEvent } from '#services/commerce/event_outcomes'
import { CommerceError } from '#exceptions/commerce_error'
import { PaymentProviderError, type Money, type PaymentProvider, type VerifiedSubscriptionEvent } from '#hooks/contracts'

/** A valid instant from a provider event (a Date, or its JSON form when replayed from storage), else null. */
function instant(value: unknown): DateTime | null {
  if (value instanceof Date || typeof value === 'string' || typeof value === 'number') {
    const date = DateTime.fromJSDate(new Date(value as any))
    return date.isValid ? date : null
  }
  return null
}

const later = (a: DateTime | null, b: DateTime | null) => (!a ? b : !b ? a : a > b ? a : b)

/**
 * Memberships: a creator's monthly offer of all their videos, sold through
 * providers that bill repeatedly (`PaymentProvider.subscriptions`).
 *
 * - The Studio sets one membership per creator (price, currency) or stops selling it.
 * - Subscribing makes an `incomplete` subscription and sends the viewer to
 *   the provider; the provider's verified events then drive it: each paid
 *   invoice becomes a paid order (ledger lines, receipt) and moves the
 *   viewer's membership window to the end of the paid period plus a grace
 *   period (MEMBERSHIP_GRACE_DAYS); a failed renewal makes it past_due
 *   (access continues through the grace period); an ended subscription
 *   keeps access to the end of the paid period only.
 * - The viewer's window is one entitlement row per subscription, pointing at
 *   the order of the invoice that paid for it: refunding (or losing a
 *   dispute over) that invoice ends the access by the order's state, as for
 *   any other grant.
 */
export class MembershipService {
  get graceDays() {
    return commerce.membershipGraceDays
  }

  /* ---------------------------------------------------------------- Studio */

  /** The creator's live membership offer, if they sell one. */
  offerOf(creatorId: number) {
    return Offer.query().where({ creatorId, kind: 'membership', active: true }).first()
  }

  /**
   * Creates or reprices the creator's membership. A new price applies to new
   * members; running subscriptions keep the price they agreed to.
   */
  async saveOffer(creator: User, input: { priceMinor: number; currency: string; title?: string | null; description?: string | null }) {
    const currency = input.currency.toUpperCase()
    if (!currencies.isSupported(currency)) throw new CommerceError('currency_unsupported', 422, `${currency} is not a currency this site sells in`)
    if (!Number.isSafeInteger(input.priceMinor) || input.priceMinor <= 0) {
      throw new CommerceError('invalid_price', 422, 'A membership needs a price above zero')
    }
    return db.transaction(async (trx) => {
      // One membership per creator: two saves at once make one (the second edits it).
      await trx.rawQuery('SELECT pg_advisory_xact_lock(7404, ?)', [creator.id])
      const existing = await Offer.query({ client: trx }).where({ creatorId: creator.id, kind: 'membership', active: true }).forUpdate().first()
      const fields = {
        priceMinor: input.priceMinor,
        currency,
        title: input.title?.trim() || null,
        description: input.description?.trim() || null,
      }
      if (existing) {
        existing.merge(fields)
        return existing.useTransaction(trx).save()
      }
      return Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'membership', scope: 'creator', videoId: null, active: true, ...fields }, { client: trx })
    })
  }

  /** Stops selling the membership. Members keep what they paid for; their subscriptions run until they cancel. */
  async deactivate(creator: User) {
    const updated = await Offer.query().where({ creatorId: creator.id, kind: 'membership', active: true }).update({ active: false, updatedAt: new Date() })
    if (!Number(updated[0] ?? 0)) throw new CommerceError('not_found', 404, 'You do not sell a membership')
  }

  /** How many members the creator has now (running subscriptions). */
  async memberCount(creatorId: number) {
    const row = await Subscription.query().where('creatorId', creatorId).whereIn('status', ['active', 'past_due', 'canceled']).count('* as total').first()
    return Number(row?.$extras.total ?? 0)
  }

  /* ---------------------------------------------------------------- Viewer */

  /** Enabled providers that can bill this currency every month. */
  providersFor(currency: string): PaymentProvider[] {
    return plugins.payments.all().filter((provider) => !!provider.subscriptions && provider.currencies.includes(currency))
  }

  /** Enabled providers that charge this currency but cannot bill again (a wallet, a bank transfer): they sell passes. */
  oneOffProvidersFor(currency: string): PaymentProvider[] {
    return plugins.payments.all().filter((provider) => !provider.subscriptions && provider.currencies.includes(currency))
  }

  /** A membership offer on sale, with its creator. */
  async findOnSale(offerId: unknown) {
    const offer = await offers.findLive(offerId)
    if (!offer || offer.kind !== 'membership' || offer.creator.bannedAt) return null
    return offer
  }

  /** The viewer's running subscription to this membership, if any. */
  runningFor(userId: number, offerId: string) {
    return Subscription.query().where({ userId, offerId }).whereIn('status', ['active', 'past_due', 'canceled']).first()
  }

  /**
   * Starts a subscription checkout: an `incomplete` subscription, then the
   * provider's page. Pressing Subscribe twice resumes the open checkout.
   */
  async subscribe(buyer: User, offerId: string, providerId: string): Promise<Subscription> {
    if (buyer.bannedAt) throw new CommerceError('account_banned', 403, 'Your account is banned')
    const offer = await this.findOnSale(offerId)
    if (!offer) throw new CommerceError('not_for_sale', 404, 'There is no such membership')
    if (offer.creatorId === buyer.id) throw new CommerceError('own_video', 409, 'You cannot join your own membership')
    const provider = plugins.payments.get(providerId)
    if (!provider) throw new CommerceError('unknown_provider', 422, 'This payment method is not available')
    if (!provider.subscriptions) {
      throw new CommerceError('no_repeated_billing', 422, `${provider.label} cannot bill every month: buy a pass with it instead`)
    }
    if (!provider.currencies.includes(offer.currency)) {
      throw new CommerceError('currency_unsupported', 422, `${provider.label} cannot charge in ${offer.currency}`)
    }
    const price: Money = { amount: offer.priceMinor, currency: offer.currency }

    const subscription = await db.transaction(async (trx) => {
      await trx.rawQuery('SELECT pg_advisory_xact_lock(7403, hashtext(?))', [`${buyer.id}:${offer.id}`])
      const running = await Subscription.query({ client: trx }).where({ userId: buyer.id, offerId: offer.id }).whereIn('status', ['active', 'past_due', 'canceled']).first()
      if (running) {
        const until = running.paidThrough ? ` until ${running.paidThrough.toUTC().toFormat('d LLL yyyy')}` : ''
        throw new CommerceError('already_member', 409, `You are a member already${until}`)
      }
      const open = await Subscription.query({ client: trx })
        .where({ userId: buyer.id, offerId: offer.id, provider: provider.id, status: 'incomplete', priceMinor: price.amount, currency: price.currency })
        .whereNotNull('checkoutUrl')
        .where('createdAt', '>', DateTime.now().minus({ hours: 12 }).toSQL()!)
        .orderBy('createdAt', 'desc')
        .first()
      if (open) return open
      return Subscription.create(
        { userId: buyer.id, offerId: offer.id, creatorId: offer.creatorId, provider: provider.id, status: 'incomplete', priceMinor: price.amount, currency: price.currency },
        { client: trx }
      )
    })
    if (subscription.checkoutUrl) return subscription

    try {
      const started = await provider.subscriptions.createSubscriptionCheckout({
        subscriptionId: String(subscription.id),
        itemId: offer.id,
        itemTitle: describeOffer(offer, undefined, offer.creator.username),
        buyer: { id: buyer.id, email: buyer.email, username: buyer.username },
        creator: { id: offer.creatorId, username: offer.creator.username },
        price,
        interval: 'month',
        successUrl: `${appUrl}/library/memberships?joined=${subscription.id}`,
        cancelUrl: `${appUrl}/memberships/${offer.id}`,
      })
      subscription.merge({ checkoutReference: started.providerReference.slice(0, 255), checkoutUrl: started.url })
      await subscription.save()
      return subscription
    } catch (error) {
      logger.error({ err: error, subscriptionId: subscription.id, provider: provider.id }, 'subscription checkout could not start')
      const message = error instanceof PaymentProviderError ? error.message : 'try again in a moment'
      subscription.merge({ status: 'ended', endedAt: DateTime.now(), lastFailure: `Checkout could not start: ${message}`.slice(0, 500) })
      await subscription.save()
      throw new CommerceError('provider_unavailable', 502, `${provider.label} could not start the subscription: ${message}`)
    }
  }

  /**
   * Subscription checkouts left unpaid for a day (a provider's checkout page
   * has expired by then: Stripe's lives 24 hours) end; a payment that still
   * arrives for one binds it (its events name it) and makes it active.
   */
  async endAbandoned(olderThanHours = 25) {
    const ended = await Subscription.query()
      .where('status', 'incomplete')
      .whereNull('providerSubscriptionRef')
      .where('createdAt', '<', DateTime.now().minus({ hours: olderThanHours }).toSQL()!)
      .update({ status: 'ended', endedAt: new Date(), lastFailure: 'The checkout was not completed', updatedAt: new Date() })
    return Number(ended[0] ?? 0)
  }

  /** The viewer's memberships for the library: running ones first, then the ended (newest first). */
  ofViewer(userId: number) {
    return Subscription.query()
      .where('userId', userId)
      .whereNot('status', 'incomplete')
      // An abandoned checkout (ended, never paid) was never a membership.
      .whereNotNull('paidThrough')
      .preload('creator')
      .preload('offer')
      .orderByRaw(`CASE WHEN status = 'ended' THEN 1 ELSE 0 END`)
      .orderBy('createdAt', 'desc')
  }

  /** When the viewer's access through this subscription ends, as the window says now. */
  accessEndsAt(subscription: Subscription) {
    if (!subscription.paidThrough) return null
    return subscription.renews ? subscription.paidThrough.plus({ days: this.graceDays }) : subscription.paidThrough
  }

  /**
   * The viewer cancels: the provider stops billing at the end of the paid
   * period; access runs to there (no grace: nothing more is due), then ends.
   */
  async cancel(user: User, subscriptionId: unknown) {
    const id = Number(subscriptionId)
    const subscription = Number.isSafeInteger(id) && id > 0 ? await Subscription.find(id) : null
    if (!subscription || subscription.userId !== user.id) throw new CommerceError('not_found', 404, 'There is no such membership')
    if (!subscription.renews) throw new CommerceError('not_renewing', 409, 'This membership does not renew: there is nothing to cancel')
    const provider = plugins.payments.get(subscription.provider)
    if (!provider?.subscriptions || !subscription.providerSubscriptionRef) {
      throw new CommerceError('provider_unavailable', 502, 'This membership cannot be cancelled right now: try again in a moment')
    }
    try {
      await provider.subscriptions.cancelSubscription(subscription.providerSubscriptionRef, { atPeriodEnd: true })
    } catch (error) {
      logger.error({ err: error, subscriptionId: subscription.id }, 'subscription could not be cancelled at the provider')
      const message = error instanceof PaymentProviderError ? error.message : 'try again in a moment'
      throw new CommerceError('provider_unavailable', 502, `${provider.label} could not cancel the membership: ${message}`)
    }
    const after: AfterCommit = []
    const saved = await db.transaction(async (trx) => {
      const locked = await Subscription.query({ client: trx }).where('id', subscription.id).forUpdate().firstOrFail()
      if (!locked.renews) return locked
      locked.merge({ cancelAtPeriodEnd: true, status: 'canceled', canceledAt: DateTime.now() })
      await locked.useTransaction(trx).save()
      await this.#syncWindow(trx, locked, null, after)
      return locked
    })
    await runAfterCommit(after)
    return saved
  }

  /* ---------------------------------------------------------------- Events */

  /**
   * Applies one verified subscription event inside the payment-event
   * transaction (which recorded its id, so it runs once). Rejects events for
   * a subscription or customer the core does not know.
   */
  async apply(trx: TransactionClientContract, providerId: string, event: VerifiedSubscriptionEvent, after: AfterCommit): Promise<AppliedEvent> {
    const reference = typeof event.subscriptionReference === 'string' ? event.subscriptionReference.slice(0, 255) : ''
    if (!reference) return result('rejected', 'subscription event without a subscription reference')
    const subscription = await this.#lockSubscription(trx, providerId, reference, event)
    if (!subscription) return result('rejected', `unknown subscription ${reference}`)
    const customer = typeof event.customerReference === 'string' ? event.customerReference.slice(0, 255) : null
    if (customer && subscription.providerCustomerRef && customer !== subscription.providerCustomerRef) {
      return result('rejected', `customer ${customer} is not the one subscription ${subscription.id} belongs to`)
    }
    if (customer && !subscription.providerCustomerRef) subscription.providerCustomerRef = customer

    switch (event.type) {
      case 'subscription.invoice_paid':
        return this.#invoicePaid(trx, subscription, event, after)
      case 'subscription.payment_failed': {
        if (subscription.status === 'active') subscription.status = 'past_due'
        subscription.lastFailure = (event.reason ?? 'The renewal payment did not go through').slice(0, 500)
        await subscription.useTransaction(trx).save()
        return result('applied', `payment failed: ${subscription.status}, access until ${this.accessEndsAt(subscription)?.toISO() ?? 'never paid'}`)
      }
      case 'subscription.updated': {
        const periodEnd = instant(event.currentPeriodEnd)
        if (periodEnd) subscription.currentPeriodEnd = periodEnd
        if (event.status === 'ended') return this.#ended(trx, subscription, event, after)
        if (subscription.status === 'ended') return result('ignored', 'subscription already ended')
        if (typeof event.cancelAtPeriodEnd === 'boolean') subscription.cancelAtPeriodEnd = event.cancelAtPeriodEnd
        // Nothing paid yet: it stays incomplete until its first invoice is paid.
        if (subscription.paidThrough) {
          const renewing = event.status === 'past_due' ? 'past_due' : 'active'
          subscription.status = subscription.cancelAtPeriodEnd ? 'canceled' : renewing
          if (subscription.cancelAtPeriodEnd && !subscription.canceledAt) subscription.canceledAt = DateTime.now()
        }
        await subscription.useTransaction(trx).save()
        await this.#syncWindow(trx, subscription, null, after)
        return result('applied', `updated: ${subscription.status}`)
      }
      case 'subscription.ended':
        return this.#ended(trx, subscription, event, after)
      default:
        return result('rejected', 'unknown subscription event type')
    }
  }

  async #lockSubscription(trx: TransactionClientContract, providerId: string, reference: string, event: VerifiedSubscriptionEvent) {
    const known = await Subscription.query({ client: trx }).where({ provider: providerId, providerSubscriptionRef: reference }).forUpdate().first()
    if (known) return known
    // Its first events: the checkout carried our id; it binds once, to an unbound subscription of this provider.
    const id = Number(event.subscriptionId)
    if (!Number.isSafeInteger(id) || id <= 0) return null
    // Locked without a condition on the reference: an event binding it at the same time commits first,
    // and this one then reads the bound row (and goes on if it names the same reference).
    const named = await Subscription.query({ client: trx }).where({ id, provider: providerId }).forUpdate().first()
    if (!named) return null
    if (named.providerSubscriptionRef === null) {
      named.providerSubscriptionRef = reference
      return named
    }
    return named.providerSubscriptionRef === reference ? named : null
  }

  async #invoicePaid(trx: TransactionClientContract, subscription: Subscription, event: VerifiedSubscriptionEvent, after: AfterCommit) {
    const invoice = typeof event.invoiceReference === 'string' ? event.invoiceReference.slice(0, 255) : ''
    if (!invoice) return result('rejected', 'paid invoice without an invoice reference')
    const amount = event.amount
    const validAmount =
      !!amount && Number.isSafeInteger(amount.amount) && amount.amount > 0 && String(amount.currency).toUpperCase() === subscription.currency
    if (!validAmount) {
      return result('rejected', `amount ${amount ? `${amount.amount} ${amount.currency}` : 'missing'} is not a payment in ${subscription.currency}`)
    }
    const periodStart = instant(event.periodStart)
    const periodEnd = instant(event.periodEnd)
    if (!periodEnd || (periodStart && periodEnd <= periodStart)) return result('rejected', 'paid invoice without a valid period')

    const already = await Order.query({ client: trx }).where({ provider: subscription.provider, providerReference: invoice, offerKind: 'membership' }).first()
    if (already) return result('ignored', `invoice already paid (order ${already.id})`, already.id)

    const offer = await Offer.query({ client: trx }).where('id', subscription.offerId).preload('creator').firstOrFail()
    const fee = event.providerFee && String(event.providerFee.currency).toUpperCase() === subscription.currency ? event.providerFee.amount : 0
    const providerFeeMinor = Number.isSafeInteger(fee) && fee > 0 ? Math.min(fee, amount!.amount) : 0
    const order = await Order.create(
      {
        id: randomUUID(),
        videoId: null,
        offerId: offer.id,
        offerKind: 'membership',
        offerScope: 'creator',
        offerTitle: describeOffer(offer, undefined, offer.creator.username).slice(0, 200),
        subscriptionId: subscription.id,
        buyerId: subscription.userId,
        creatorId: subscription.creatorId,
        provider: subscription.provider,
        providerReference: invoice,
        status: 'pending',
        amountMinor: amount!.amount,
        currency: subscription.currency,
        platformFeeBps: commerce.platformFeeBps,
        platformFeeMinor: platformFeeFor(amount!.amount, commerce.platformFeeBps),
        // Memberships are collected by the platform and owed to the creator (no destination charges for subscriptions yet).
        creatorPayout: 'owed',
        payoutAccount: null,
        expiresAt: DateTime.now(),
      },
      { client: trx }
    )
    await markPaid(trx, order, { providerFeeMinor, paymentReference: event.paymentReference })
    order.status = 'paid'
    await order.useTransaction(trx).save()
    await receipts.record(trx, order, 'purchase', after)
    after.push(() => afterPaid(order))

    // Invoices may arrive out of order: the window follows the latest period paid, and points at its order.
    const latest = !subscription.paidThrough || periodEnd >= subscription.paidThrough
    // Ended as an abandoned checkout, yet paid after all: it starts, unless the viewer has joined again since.
    const abandoned = subscription.status === 'ended' && !subscription.paidThrough
    if (abandoned) {
      const again = await Subscription.query({ client: trx })
        .where({ userId: subscription.userId, offerId: subscription.offerId })
        .whereIn('status', ['active', 'past_due', 'canceled'])
        .first()
      if (!again) subscription.merge({ status: 'incomplete', endedAt: null })
    }
    subscription.paidThrough = later(subscription.paidThrough, periodEnd)
    subscription.currentPeriodEnd = later(subscription.currentPeriodEnd, periodEnd)
    subscription.lastFailure = null
    if (subscription.status === 'incomplete' || subscription.status === 'past_due') {
      subscription.status = subscription.cancelAtPeriodEnd ? 'canceled' : 'active'
    }
    await subscription.useTransaction(trx).save()
    if (subscription.status !== 'ended') await this.#syncWindow(trx, subscription, latest ? order.id : null, after)
    return result('applied', `invoice paid: access until ${this.accessEndsAt(subscription)!.toISO()}`, order.id)
  }

  async #ended(trx: TransactionClientContract, subscription: Subscription, event: VerifiedSubscriptionEvent, after: AfterCommit) {
    if (subscription.status === 'ended') return result('ignored', 'subscription already ended')
    subscription.merge({ status: 'ended', endedAt: DateTime.now(), cancelAtPeriodEnd: false })
    if (event.reason) subscription.lastFailure = event.reason.slice(0, 500)
    await subscription.useTransaction(trx).save()
    await this.#syncWindow(trx, subscription, null, after)
    return result('applied', `ended: access until ${subscription.paidThrough?.toISO() ?? 'never paid'}`)
  }

  /**
   * The viewer's membership window: to the end of the paid period, plus the
   * grace period while the subscription renews. `orderId`: the order of the
   * invoice that paid for it (a newer invoice moves it). A window that
   * shrinks (cancelled, ended) also shortens the live playback sessions it
   * granted, so their players are told when it runs out.
   */
  async #syncWindow(trx: TransactionClientContract, subscription: Subscription, orderId: string | null, after: AfterCommit) {
    const endsAt = this.accessEndsAt(subscription)
    const existing = await Entitlement.query({ client: trx }).where('subscriptionId', subscription.id).forUpdate().first()
    if (!existing) {
      if (!endsAt || !orderId) return
      await Entitlement.create(
        {
          userId: subscription.userId,
          orderId,
          kind: 'membership',
          creatorId: subscription.creatorId,
          videoId: null,
          offerId: subscription.offerId,
          subscriptionId: subscription.id,
          startsAt: DateTime.now(),
          endsAt,
        },
        { client: trx }
      )
      return
    }
    const shrinks = !!endsAt && !!existing.endsAt && endsAt < existing.endsAt
    existing.merge({ endsAt, ...(orderId ? { orderId } : {}) })
    await existing.useTransaction(trx).save()
    if (shrinks) after.push(() => this.#shortenSessions(subscription, endsAt!))
  }

  async #shortenSessions(subscription: Subscription, endsAt: DateTime) {
    await PlaybackSession.query()
      .where('userId', subscription.userId)
      .where('accessVia', 'membership')
      .whereNull('revokedAt')
      .where((q) => q.whereNull('accessEndsAt').orWhere('accessEndsAt', '>', endsAt.toSQL()!))
      .whereIn('videoId', (sub) => sub.from('videos').where('owner_id', subscription.creatorId).select('id'))
      .update({ accessEndsAt: endsAt.toSQL() })
    const { default: playbackCache } = await import('#services/playback/session_cache')
    await playbackCache.invalidate({ userId: subscription.userId })
    // Already over (ended past its paid period): the players are told now rather than at the next chore.
    if (endsAt <= DateTime.now()) {
      const { default: playback } = await import('#services/playback_service')
      await playback.endRunOutAccess()
    }
  }
}

const memberships = new MembershipService()
export default memberships
