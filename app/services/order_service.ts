import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import commerce from '#config/commerce'
import { appUrl } from '#config/app'
import Order, { type OrderStatus } from '#models/order'
import LedgerEntry from '#models/ledger_entry'
import Video from '#models/video'
import type User from '#models/user'
import plugins from '#services/plugins'
import playback from '#services/playback_service'
import entitlements from '#services/entitlement_service'
import audit from '#services/audit_service'
import payoutAccounts from '#services/payout_account_service'
import currencies from '#services/currency_service'
import { formatMoney } from '#services/money'
import { isUuid } from '#services/ids'
import { platformFeeFor, splitPayment } from '#services/commerce/ledger'
import { CommerceError } from '#exceptions/commerce_error'
import {
  PaymentProviderError,
  type Money,
  type PaymentProvider,
  PAYMENT_EVENT_TYPES,
  type VerifiedPaymentEvent,
} from '#hooks/contracts'

export type EventOutcome = 'applied' | 'duplicate' | 'ignored' | 'deferred' | 'rejected'

export interface EventResult {
  eventId: string
  outcome: EventOutcome
  orderId?: string
  detail?: string
}

/** Work that must wait until the transaction committed (hooks, revocations...). */
type AfterCommit = Array<() => Promise<void>>

/** Advisory lock namespace: one checkout at a time per buyer and video. */
const CHECKOUT_LOCK = 7402

const result = (outcome: EventOutcome, detail?: string, orderId?: string) => ({ outcome, detail, orderId })

/** A provider's reported split, if it is two non-negative integers summing to `total`; null otherwise. */
function paidSplit(split: { creator: number; platform: number }, total: number) {
  const { creator, platform } = split
  const valid = [creator, platform].every((n) => Number.isSafeInteger(n) && n >= 0) && creator + platform === total
  return valid ? { creator, platform } : null
}

/** The provider's own order lifetime when it gives a valid one (bank transfers take days), else ORDER_TTL_MINUTES. */
function checkoutLifetimeOf(provider: PaymentProvider) {
  const minutes = provider.checkoutLifetimeMinutes
  return Number.isSafeInteger(minutes) && minutes! > 0 ? minutes! : commerce.orderTtlMinutes
}

/**
 * Orders, their state machine and their ledger. Providers only start
 * payments and report verified events; every rule about money lives here:
 *
 *   pending → paid → refunded;  pending → expired | failed | underpaid
 *
 * An event is applied at most once (provider + event id, recorded in the
 * same transaction as its effects), against the order row locked FOR UPDATE,
 * after its amount and currency are checked against the order. A refund that
 * arrives before its payment waits ("deferred") and is applied right after.
 * A payment writes ledger lines that sum to exactly the amount paid; a
 * refund writes the same lines negated.
 */
export class OrderService {
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
   * Starts (or resumes) a checkout of `videoId` by `buyer` through a provider.
   * Refuses what cannot be bought: unknown or unpublished videos, one's own,
   * one already owned or otherwise watchable, a currency the provider lacks.
   */
  async checkout(buyer: User, videoId: string, providerId: string): Promise<Order> {
    const provider = plugins.payments.get(providerId)
    if (!provider) throw new CommerceError('unknown_provider', 422, 'This payment method is not available')
    if (buyer.bannedAt) throw new CommerceError('account_banned', 403, 'Your account is banned')
    const video = isUuid(videoId) ? await Video.find(videoId) : null
    if (!video || !video.isPublic) throw new CommerceError('not_for_sale', 404, 'There is no such video for sale')
    if (video.ownerId === buyer.id) throw new CommerceError('own_video', 409, 'You cannot buy your own video')
    const access = await entitlements.decide(buyer, video)
    if (access.allowed) {
      throw access.via === 'purchase'
        ? new CommerceError('already_owned', 409, 'You already own this video')
        : new CommerceError('already_allowed', 409, 'You can already watch this video without paying')
    }
    if (access.reason !== 'payment_required') throw new CommerceError(access.reason, access.status, access.message)

    const price = await this.priceOf(video, buyer)
    if (price.amount <= 0) throw new CommerceError('free', 409, 'This video is free')
    if (!provider.currencies.includes(price.currency)) {
      throw new CommerceError('currency_unsupported', 422, `${provider.label} cannot charge in ${price.currency}`)
    }
    const payoutAccount = await payoutAccounts.get(provider.id, video.ownerId)
    const direct = !!payoutAccount?.ready

    const order = await db.transaction(async (trx) => {
      await trx.rawQuery('SELECT pg_advisory_xact_lock(?, hashtext(?))', [CHECKOUT_LOCK, `${buyer.id}:${video.id}`])
      const owned = await Order.query({ client: trx }).where({ buyerId: buyer.id, videoId: video.id, status: 'paid' }).first()
      if (owned) throw new CommerceError('already_owned', 409, 'You already own this video')
      // Pressing Buy twice resumes the open checkout instead of making a second one.
      const open = await Order.query({ client: trx })
        .where({ buyerId: buyer.id, videoId: video.id, provider: provider.id, status: 'pending' })
        .where('expiresAt', '>', DateTime.now().plus({ minutes: 5 }).toSQL()!)
        .where({ amountMinor: price.amount, currency: price.currency })
        .where((q) => q.whereNotNull('checkoutUrl').orWhereNotNull('checkoutAction'))
        .orderBy('createdAt', 'desc')
        .first()
      if (open) return open
      return Order.create(
        {
          id: randomUUID(),
          videoId: video.id,
          buyerId: buyer.id,
          creatorId: video.ownerId,
          provider: provider.id,
          status: 'pending',
          amountMinor: price.amount,
          currency: price.currency,
          platformFeeBps: commerce.platformFeeBps,
          platformFeeMinor: platformFeeFor(price.amount, commerce.platformFeeBps),
          creatorPayout: direct ? 'direct' : 'owed',
          payoutAccount: direct ? payoutAccount!.accountRef : null,
          expiresAt: DateTime.now().plus({ minutes: checkoutLifetimeOf(provider) }),
        },
        { client: trx }
      )
    })
    if (order.checkoutUrl || order.checkoutAction) return order

    await video.load('owner')
    try {
      const started = await provider.createCheckout({
        orderId: order.id,
        videoId: video.id,
        videoTitle: video.title,
        buyer: { id: buyer.id, email: buyer.email, username: buyer.username },
        creator: { id: video.ownerId, username: video.owner.username, payoutAccount: order.payoutAccount },
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

  /* ---------------------------------------------------------------- events */

  /** Applies verified provider events, each at most once, in the order given. */
  async receive(providerId: string, events: VerifiedPaymentEvent[]): Promise<EventResult[]> {
    const results: EventResult[] = []
    for (const event of events) results.push(await this.#receiveOne(providerId, event))
    return results
  }

  async #receiveOne(providerId: string, event: VerifiedPaymentEvent): Promise<EventResult> {
    const eventId = typeof event?.eventId === 'string' ? event.eventId.slice(0, 255) : ''
    if (!eventId || !(PAYMENT_EVENT_TYPES as readonly string[]).includes(event.type)) {
      logger.warn({ provider: providerId, event }, 'payment event without an id or with an unknown type ignored')
      return { eventId, outcome: 'rejected', detail: 'malformed event' }
    }
    const after: AfterCommit = []
    const applied = await db.transaction(async (trx) => {
      // Recording the event and applying it commit together: a replay, even
      // one racing this one, finds the row and changes nothing.
      const inserted = await trx
        .table('payment_events')
        .insert({
          provider: providerId,
          event_id: eventId,
          type: event.type,
          order_id: isUuid(event.orderId) ? event.orderId : null,
          outcome: 'received',
          event: JSON.stringify(event),
          received_at: new Date(),
        })
        .onConflict(['provider', 'event_id'])
        .ignore()
        .returning('id')
      if (!inserted.length) return result('duplicate', 'already received')
      const applied = await this.#apply(trx, providerId, event, after)
      await trx
        .from('payment_events')
        .where('id', inserted[0].id)
        .update({ outcome: applied.outcome, detail: applied.detail?.slice(0, 500) ?? null, order_id: applied.orderId ?? null, processed_at: new Date() })
      return applied
    })
    if (applied.outcome === 'rejected') logger.warn({ provider: providerId, eventId, detail: applied.detail }, 'payment event rejected')
    await this.#runAfterCommit(after)
    return { eventId, ...applied }
  }

  async #apply(trx: TransactionClientContract, providerId: string, event: VerifiedPaymentEvent, after: AfterCommit) {
    if (event.type === 'payment.unmatched') {
      // Kept in payment_events for the admin (with the provider's details); grants nothing.
      return result('rejected', `unmatched payment: ${event.reason ?? 'no reason given'}`, isUuid(event.orderId) ? event.orderId : undefined)
    }
    const order = await this.#lockOrder(trx, providerId, event)
    if (!order) return result('rejected', 'no order matches this event')
    if (order.provider !== providerId) return result('rejected', `the order belongs to ${order.provider}`, order.id)
    const describe = (money: Money | undefined) => (money ? `${money.amount} ${money.currency}` : 'no amount')
    const mismatch = (money: Money | undefined, exact: boolean) => {
      const valid =
        !!money &&
        Number.isSafeInteger(money.amount) &&
        money.amount > 0 &&
        String(money.currency).toUpperCase() === order.currency &&
        (exact ? money.amount === order.amountMinor : money.amount <= order.amountMinor)
      return valid ? null : `amount ${describe(money)} does not match the order (${order.amountMinor} ${order.currency})`
    }

    switch (event.type) {
      case 'payment.succeeded': {
        if (order.status === 'paid' || order.status === 'refunded') return result('ignored', `order already ${order.status}`, order.id)
        const wrongAmount = mismatch(event.amount, true)
        if (wrongAmount) return result('rejected', wrongAmount, order.id)
        const fee = event.providerFee && String(event.providerFee.currency).toUpperCase() === order.currency ? event.providerFee.amount : 0
        const providerFeeMinor = Number.isSafeInteger(fee) && fee > 0 ? Math.min(fee, order.amountMinor) : 0
        const split = event.split ? paidSplit(event.split, order.amountMinor - providerFeeMinor) : undefined
        if (split === null) return result('rejected', 'the split the provider reports does not add up to the amount paid', order.id)
        const earlier = await Order.query({ client: trx })
          .where({ buyerId: order.buyerId, videoId: order.videoId, status: 'paid' })
          .whereNot('id', order.id)
          .first()
        const provider = plugins.payments.get(order.provider)
        if (earlier && !provider?.refund) {
          // Paid twice, through a provider that cannot give money back (a bank
          // transfer, a wallet): the buyer keeps the first purchase and an
          // admin returns this payment by hand; it is listed for them.
          return result('rejected', `paid twice: the buyer already owns this video (order ${earlier.receiptNumber}) and ${provider?.label ?? order.provider} cannot refund automatically; return this payment by hand`, order.id)
        }
        await this.#markPaid(trx, order, { providerFeeMinor, paymentReference: event.paymentReference, split })
        if (earlier) {
          // Two checkouts of one video both paid: give the second payment back.
          await this.#refundAtProvider(order)
          await this.#markRefunded(trx, order, { actor: null, reason: 'Paid twice: refunded automatically' }, after)
          return result('applied', 'duplicate payment refunded', order.id)
        }
        order.status = 'paid'
        await order.useTransaction(trx).save()
        after.push(() => this.#afterPaid(order))
        return result('applied', 'paid', order.id)
      }
      case 'payment.refunded': {
        if (order.status === 'refunded') return result('ignored', 'order already refunded', order.id)
        if (order.status !== 'paid') return result('deferred', 'refund before its payment: applied when the payment arrives', order.id)
        const wrongAmount = event.amount ? mismatch(event.amount, false) : null
        if (wrongAmount) return result('rejected', wrongAmount, order.id)
        if (event.amount && event.amount.amount < order.amountMinor) {
          return result('ignored', `partial refund (${event.amount.amount} of ${order.amountMinor}): access kept`, order.id)
        }
        await this.#markRefunded(trx, order, { actor: null, reason: 'Refunded at the payment provider' }, after)
        return result('applied', 'refunded', order.id)
      }
      case 'payment.failed':
      case 'payment.expired':
      case 'payment.underpaid': {
        if (order.status !== 'pending') return result('ignored', `order already ${order.status}`, order.id)
        const status: OrderStatus =
          event.type === 'payment.failed' ? 'failed' : event.type === 'payment.expired' ? 'expired' : 'underpaid'
        order.merge({ status, failureReason: event.reason?.slice(0, 500) ?? null })
        await order.useTransaction(trx).save()
        return result('applied', status, order.id)
      }
    }
  }

  async #lockOrder(trx: TransactionClientContract, providerId: string, event: VerifiedPaymentEvent) {
    const query = Order.query({ client: trx }).forUpdate()
    if (isUuid(event.orderId)) return query.where('id', event.orderId!).first()
    if (typeof event.providerReference === 'string' && event.providerReference) {
      return query.where({ provider: providerId, providerReference: event.providerReference }).first()
    }
    return null
  }

  async #markPaid(
    trx: TransactionClientContract,
    order: Order,
    input: { providerFeeMinor: number; paymentReference?: string; split?: { creator: number; platform: number } }
  ) {
    // A provider that paid both sides itself (a splitter contract) says what
    // each received; otherwise the platform's fee rule decides.
    const lines = input.split
      ? [
          { account: 'creator' as const, amountMinor: input.split.creator },
          { account: 'platform' as const, amountMinor: input.split.platform },
          ...(input.providerFeeMinor > 0 ? [{ account: 'provider_fee' as const, amountMinor: input.providerFeeMinor }] : []),
        ]
      : splitPayment({
          amountMinor: order.amountMinor,
          platformFeeMinor: order.platformFeeMinor,
          providerFeeMinor: input.providerFeeMinor,
          payout: order.creatorPayout,
        })
    await this.#writeLedger(trx, order, 'payment', lines)
    order.merge({
      paidAt: DateTime.now(),
      paymentReference: input.paymentReference?.slice(0, 255) ?? order.paymentReference,
      failureReason: null,
    })
  }

  async #markRefunded(trx: TransactionClientContract, order: Order, input: { actor: User | null; reason: string }, after: AfterCommit) {
    const payments = await LedgerEntry.query({ client: trx }).where({ orderId: order.id, kind: 'payment' })
    await this.#writeLedger(
      trx,
      order,
      'refund',
      payments.map((entry) => ({ account: entry.account, amountMinor: -entry.amountMinor }))
    )
    const wasPaid = order.status === 'paid'
    order.merge({ status: 'refunded', refundedAt: DateTime.now(), refundedBy: input.actor?.id ?? null, failureReason: input.reason })
    await order.useTransaction(trx).save()
    if (wasPaid) after.push(() => this.#afterRefunded(order))
  }

  async #writeLedger(trx: TransactionClientContract, order: Order, kind: 'payment' | 'refund', lines: Array<{ account: LedgerEntry['account']; amountMinor: number }>) {
    const now = new Date()
    await trx.table('ledger_entries').multiInsert(
      lines.map((line) => ({
        order_id: order.id,
        kind,
        account: line.account,
        user_id: line.account === 'creator' ? order.creatorId : null,
        amount_minor: line.amountMinor,
        currency: order.currency,
        created_at: now,
      }))
    )
  }

  async #afterPaid(order: Order) {
    await plugins.hooks.doAction('purchase:completed', {
      orderId: order.id,
      videoId: order.videoId,
      buyerId: order.buyerId,
      provider: order.provider,
    })
    await this.#applyDeferred(order.id)
  }

  async #afterRefunded(order: Order) {
    const [video, buyer] = await Promise.all([Video.find(order.videoId), order.related('buyer').query().first()])
    // Still entitled another way (the allowlist)? Then their sessions stay.
    const access = buyer && video ? await entitlements.decide(buyer, video) : null
    if (!access?.allowed) await playback.revoke({ userId: order.buyerId, videoId: order.videoId }, 'refund')
    await plugins.hooks.doAction('purchase:refunded', {
      orderId: order.id,
      videoId: order.videoId,
      buyerId: order.buyerId,
      provider: order.provider,
    })
  }

  /** Events that arrived before the state they need (a refund before its payment). */
  async #applyDeferred(orderId: string) {
    const waiting = await db.from('payment_events').where({ order_id: orderId, outcome: 'deferred' }).orderBy('id')
    for (const row of waiting) {
      const after: AfterCommit = []
      await db.transaction(async (trx) => {
        const locked = await trx.from('payment_events').where({ id: row.id, outcome: 'deferred' }).forUpdate().first()
        if (!locked) return
        const applied = await this.#apply(trx, row.provider, row.event as VerifiedPaymentEvent, after)
        await trx
          .from('payment_events')
          .where('id', row.id)
          .update({ outcome: applied.outcome, detail: applied.detail ?? null, processed_at: new Date() })
      })
      await this.#runAfterCommit(after)
    }
  }

  async #runAfterCommit(after: AfterCommit) {
    for (const task of after) {
      try {
        await task()
      } catch (error) {
        logger.error({ err: error }, 'after-payment task failed')
      }
    }
  }

  /* --------------------------------------------------------------- refunds */

  /** Whether `user` may refund this order (its creator or an admin) and the provider can. */
  canRefund(user: User | undefined, order: Order) {
    if (!user || order.status !== 'paid') return false
    if (!user.isAdmin && user.id !== order.creatorId) return false
    return !!plugins.payments.get(order.provider)?.refund
  }

  /**
   * Refunds a paid order through its provider, then writes the reversing
   * ledger lines and ends the buyer's access. The provider's own refund
   * event, when it comes, finds the order refunded and changes nothing.
   */
  async refund(actor: User, orderId: string) {
    if (!isUuid(orderId)) throw new CommerceError('not_found', 404, 'There is no such order')
    const after: AfterCommit = []
    const order = await db.transaction(async (trx) => {
      const order = await Order.query({ client: trx }).where('id', orderId).forUpdate().first()
      if (!order) throw new CommerceError('not_found', 404, 'There is no such order')
      if (!actor.isAdmin && actor.id !== order.creatorId) throw new CommerceError('forbidden', 403, 'You cannot refund this order')
      if (order.status !== 'paid') throw new CommerceError('not_refundable', 409, `This order is ${order.status}, not paid`)
      const provider = plugins.payments.get(order.provider)
      if (!provider?.refund) {
        throw new CommerceError('refund_unsupported', 409, `${provider?.label ?? order.provider} cannot refund automatically`)
      }
      await this.#refundAtProvider(order)
      await this.#markRefunded(trx, order, { actor, reason: `Refunded by ${actor.username}` }, after)
      await audit.record(
        {
          actor,
          action: 'order.refund',
          subjectType: 'order',
          subjectId: order.id,
          targetUserId: order.buyerId,
          before: { status: 'paid' },
          after: { status: 'refunded' },
          summary: `Refunded order ${order.receiptNumber} (${formatMoney(order.amountMinor, order.currency)})`,
        },
        trx
      )
      return order
    })
    await this.#runAfterCommit(after)
    return order
  }

  async #refundAtProvider(order: Order) {
    const provider = plugins.payments.get(order.provider)
    if (!provider?.refund) throw new Error(`${order.provider} cannot refund`)
    try {
      await provider.refund({
        orderId: order.id,
        providerReference: order.providerReference,
        paymentReference: order.paymentReference,
        amount: { amount: order.amountMinor, currency: order.currency },
      })
    } catch (error) {
      logger.error({ err: error, orderId: order.id }, 'refund failed at the provider')
      const message = error instanceof PaymentProviderError ? error.message : 'the provider did not answer'
      throw new CommerceError('refund_failed', 502, `${provider.label} refused the refund: ${message}`)
    }
  }

  /* -------------------------------------------------------------- queries */

  /** Pending orders past their expiry become expired (a worker chore). */
  async expireStale() {
    return Order.query().where('status', 'pending').where('expiresAt', '<', DateTime.now().toSQL()!).update({
      status: 'expired',
      failureReason: 'The checkout was not completed in time',
      updatedAt: DateTime.now().toSQL(),
    })
  }

  /**
   * The books' invariant: each order's ledger lines sum to its amount when
   * paid and to zero otherwise. Returns the orders that break it (none).
   */
  async ledgerMismatches(): Promise<string[]> {
    const result = await db.rawQuery(
      `SELECT o.id FROM orders o LEFT JOIN ledger_entries le ON le.order_id = o.id
       GROUP BY o.id, o.status, o.amount_minor
       HAVING COALESCE(SUM(le.amount_minor), 0) <> CASE WHEN o.status = 'paid' THEN o.amount_minor ELSE 0 END`
    )
    return result.rows.map((row: { id: string }) => row.id)
  }

  /**
   * Money that arrived but bought nothing, kept for admins to settle by hand,
   * newest first: payments no checkout matched or that disagreed with their
   * quote (chain payments), and payments refused (a wrong amount, paid twice
   * where the provider cannot refund).
   */
  async unmatchedPayments(limit = 50) {
    const rows = await db
      .from('payment_events')
      .where((q) => q.where('type', 'payment.unmatched').orWhere((r) => r.where('type', 'payment.succeeded').where('outcome', 'rejected')))
      .orderBy('id', 'desc')
      .limit(limit)
    return rows.map((row) => ({
      provider: row.provider as string,
      eventId: row.event_id as string,
      orderId: row.order_id as string | null,
      reason: (row.event?.reason ?? row.detail ?? '') as string,
      details: (row.event?.details ?? {}) as Record<string, string | number | boolean | null>,
      receivedAt: new Date(row.received_at),
    }))
  }

  findForBuyer(buyer: User, orderId: string) {
    if (!isUuid(orderId)) return null
    return Order.query().where({ id: orderId, buyerId: buyer.id }).preload('video').first()
  }
}

const orders = new OrderService()
export default orders
