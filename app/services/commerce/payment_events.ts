import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Order, { type OrderStatus } from '#models/order'
import plugins from '#services/plugins'
import { isUuid } from '#services/ids'
import { afterPaid, giveBack, markPaid, markRefunded, reportedMinor, runAfterCommit, type AfterCommit } from '#services/commerce/order_state'
import disputes from '#services/commerce/disputes'
import receipts from '#services/commerce/receipts'
import { outcome as result, type AppliedEvent, type EventResult } from '#services/commerce/event_outcomes'
import refunds from '#services/commerce/refunds'
import grants from '#services/commerce/grants'
import { isSubscriptionEvent, type Money, PAYMENT_EVENT_TYPES, type ProviderEvent, type VerifiedPaymentEvent } from '#hooks/contracts'
import memberships from '#services/commerce/memberships'

export type { EventOutcome, EventResult } from '#services/commerce/event_outcomes'

/** A provider's reported split, if it is two non-negative integers summing to `total`; null otherwise. */
function paidSplit(split: { creator: number; platform: number }, total: number) {
  const { creator, platform } = split
  const valid = [creator, platform].every((n) => Number.isSafeInteger(n) && n >= 0) && creator + platform === total
  return valid ? { creator, platform } : null
}

/**
 * Verified provider events applied to orders. An event is applied at most
 * once (provider + event id, recorded in the same transaction as its
 * effects), against the order row locked FOR UPDATE, after its amount and
 * currency are checked against the order. A refund that arrives before its
 * payment waits ("deferred") and is applied right after.
 */
export class PaymentEventService {
  /** Applies verified provider events, each at most once, in the order given. */
  async receive(providerId: string, events: ProviderEvent[]): Promise<EventResult[]> {
    const results: EventResult[] = []
    for (const event of events) results.push(await this.#receiveOne(providerId, event))
    return results
  }

  async #receiveOne(providerId: string, event: ProviderEvent): Promise<EventResult> {
    const eventId = typeof event?.eventId === 'string' ? event.eventId.slice(0, 255) : ''
    if (!eventId || !((PAYMENT_EVENT_TYPES as readonly string[]).includes(event.type) || isSubscriptionEvent(event))) {
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
          order_id: 'orderId' in event && isUuid(event.orderId) ? event.orderId : null,
          outcome: 'received',
          event: JSON.stringify(event),
          received_at: new Date(),
        })
        .onConflict(['provider', 'event_id'])
        .ignore()
        .returning('id')
      if (!inserted.length) return result('duplicate', 'already received')
      // Subscription events (memberships) share the idempotency record; their effects are the membership service's.
      const applied = isSubscriptionEvent(event)
        ? await memberships.apply(trx, providerId, event, after)
        : await this.#apply(trx, providerId, event, after)
      await trx
        .from('payment_events')
        .where('id', inserted[0].id)
        .update({ outcome: applied.outcome, detail: applied.detail?.slice(0, 500) ?? null, order_id: applied.orderId ?? null, processed_at: new Date() })
      return applied
    })
    if (applied.outcome === 'rejected') logger.warn({ provider: providerId, eventId, detail: applied.detail }, 'payment event rejected')
    await runAfterCommit(after)
    return { eventId, ...applied }
  }

  async #apply(trx: TransactionClientContract, providerId: string, event: VerifiedPaymentEvent, after: AfterCommit): Promise<AppliedEvent> {
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
        if (order.status !== 'pending' && order.status !== 'expired' && order.status !== 'failed' && order.status !== 'underpaid') {
          return result('ignored', `order already ${order.status}`, order.id)
        }
        const wrongAmount = mismatch(event.amount, true)
        if (wrongAmount) return result('rejected', wrongAmount, order.id)
        const fee = event.providerFee && String(event.providerFee.currency).toUpperCase() === order.currency ? event.providerFee.amount : 0
        const providerFeeMinor = Number.isSafeInteger(fee) && fee > 0 ? Math.min(fee, order.amountMinor) : 0
        const split = event.split ? paidSplit(event.split, order.amountMinor - providerFeeMinor) : undefined
        if (split === null) return result('rejected', 'the split the provider reports does not add up to the amount paid', order.id)
        const earlierId = await grants.duplicateOf(trx, order)
        const earlier = earlierId ? await Order.query({ client: trx }).where('id', earlierId).first() : null
        const provider = plugins.payments.get(order.provider)
        if (earlier && !provider?.refund) {
          // Paid twice, through a provider that cannot give money back (a bank
          // transfer, a wallet): the buyer keeps the first purchase and an
          // admin returns this payment by hand; it is listed for them.
          return result('rejected', `paid twice: the buyer already holds this (order ${earlier.receiptNumber}) and ${provider?.label ?? order.provider} cannot refund automatically; return this payment by hand`, order.id)
        }
        await markPaid(trx, order, { providerFeeMinor, paymentReference: event.paymentReference, split })
        if (earlier) {
          // Two checkouts of one thing both paid: the second payment goes back.
          // The refund is committed with this payment and the provider called
          // after the commit, outside the row lock (`refunding` grants nothing).
          order.status = 'refunding'
          await order.useTransaction(trx).save()
          const refund = await refunds.beginAutomatic(trx, order, 'Paid twice: refunded automatically')
          after.push(async () => {
            await refunds.carryOut(null, refund)
          })
          return result('applied', 'duplicate payment: refund started', order.id)
        }
        order.status = 'paid'
        await order.useTransaction(trx).save()
        await receipts.record(trx, order, 'purchase', after)
        after.push(async () => {
          await afterPaid(order)
          await this.applyDeferred(order.id)
        })
        return result('applied', 'paid', order.id)
      }
      case 'payment.refunded': {
        if (order.status === 'refunded' || order.status === 'charged_back') return result('ignored', `order already ${order.status}`, order.id)
        if (order.status !== 'paid' && order.status !== 'disputed') {
          return result('deferred', 'refund before its payment: applied when the payment arrives', order.id)
        }
        // A refund started here is between its provider call and its record:
        // this event (about that refund, likely) is applied once it is recorded.
        if (await refunds.pendingFor(trx, order.id)) {
          return result('deferred', 'a refund started here is in flight: applied once it is recorded', order.id)
        }
        const wrongAmount = event.amount ? mismatch(event.amount, false) : null
        if (wrongAmount) return result('rejected', wrongAmount, order.id)
        // `amount` is what was refunded so far: only the part not yet counted is new.
        const refundedSoFar = event.amount?.amount ?? order.amountMinor
        const creatorReversedMinor = reportedMinor(event.creatorReversed, order.currency)
        if (refundedSoFar <= order.refundedMinor) return result('ignored', `already counted (${order.refundedMinor} of ${order.amountMinor} given back)`, order.id)
        if (refundedSoFar < order.amountMinor) {
          await giveBack(trx, order, { kind: 'refund', amountMinor: refundedSoFar - order.refundedMinor, creatorReversedMinor })
          await order.useTransaction(trx).save()
          await receipts.record(trx, order, 'refund', after)
          return result('applied', `partial refund (${refundedSoFar} of ${order.amountMinor}): access kept`, order.id)
        }
        await markRefunded(trx, order, { actor: null, reason: 'Refunded at the payment provider', creatorReversedMinor }, after)
        return result('applied', 'refunded', order.id)
      }
      case 'payment.disputed':
        return disputes.opened(trx, order, event, after)
      case 'payment.dispute_won':
        return disputes.won(trx, order, event)
      case 'payment.dispute_lost':
        return disputes.lost(trx, order, event, after)
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
      default:
        return result('rejected', 'unknown event type', order.id)
    }
  }

  async #lockOrder(trx: TransactionClientContract, providerId: string, event: VerifiedPaymentEvent) {
    const query = Order.query({ client: trx }).forUpdate()
    if (isUuid(event.orderId)) return query.where('id', event.orderId!).first()
    if (typeof event.providerReference === 'string' && event.providerReference) {
      return query.where({ provider: providerId, providerReference: event.providerReference }).first()
    }
    // Events about the payment rather than the checkout (a chargeback) name the payment.
    if (typeof event.paymentReference === 'string' && event.paymentReference) {
      return query.where({ provider: providerId, paymentReference: event.paymentReference.slice(0, 255) }).first()
    }
    return null
  }

  /** Events that arrived before the state they need (a refund before its payment). */
  async applyDeferred(orderId: string) {
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
      await runAfterCommit(after)
    }
  }
}

const paymentEvents = new PaymentEventService()
export default paymentEvents
