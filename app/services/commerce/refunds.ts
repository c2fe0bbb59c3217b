import { DateTime } from 'luxon'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Order from '#models/order'
import Refund from '#models/refund'
import type User from '#models/user'
import commerce from '#config/commerce'
import plugins from '#services/plugins'
import audit from '#services/audit_service'
import { formatMoney, toMinorUnits } from '#services/money'
import { isUuid } from '#services/ids'
import { endAccess, giveBack, markRefunded, reportedMinor, runAfterCommit, type AfterCommit } from '#services/commerce/order_state'
import receipts from '#services/commerce/receipts'
import { CommerceError } from '#exceptions/commerce_error'
import { PaymentProviderError } from '#hooks/contracts'

export interface RefundOptions {
  /** What to give back, in minor units; the whole rest of the payment when omitted. */
  amountMinor?: number
  /** The same typed in a form ("3.50", in the order's currency); empty: all that is left. */
  amountText?: string | null
}

/**
 * Refunds a creator or an admin starts (Studio → Sales, Admin → Orders),
 * whole or partial.
 *
 * The provider is called outside the order's row lock, in three steps:
 * 1. a `refunds` row, `pending`, is written and committed under the lock
 *    (one pending refund per order: a second click is refused);
 * 2. the provider is called, with the refund's id as its idempotency key;
 * 3. its answer is recorded in a new transaction under the lock again: the
 *    ledger lines (who paid what back), the order's refunded amount, and the
 *    access it ends.
 * A provider that refuses marks the refund `failed` and changes nothing
 * else. A crash between 1 and 3 leaves the refund `pending`, listed with a
 * Retry button; a retry calls the provider with the same key, so money is
 * never given back twice. The provider's own refund webhook for an order
 * with a refund in flight waits ("deferred") until step 3 recorded it.
 *
 * Access after a refund (the rule per offer kind, documented in the README):
 * a whole refund always ends it (a rental refunded before it was started
 * included); a partial refund keeps it, unless the order's kind is listed
 * in PARTIAL_REFUND_ENDS_ACCESS.
 */
export class RefundService {
  /** Whether `user` may refund this order (its creator or an admin) and the provider can. */
  canRefund(user: User | undefined, order: Order) {
    if (!user || order.status !== 'paid') return false
    if (!user.isAdmin && user.id !== order.creatorId) return false
    const provider = plugins.payments.get(order.provider)
    if (provider?.refundsBy === 'admins' && !user.isAdmin) return false
    return order.amountMinor - order.refundedMinor > 0 && !!provider?.refund
  }

  /** Whether a partial refund of this order's kind ends the buyer's access (the policy). */
  partialEndsAccess(order: Pick<Order, 'offerKind'>) {
    return commerce.partialRefundEndsAccess.includes(order.offerKind)
  }

  /** Refunds `amountMinor` (default: all that is left) of a paid order through its provider. */
  async refund(actor: User, orderId: string, options: RefundOptions = {}) {
    const refund = await this.begin(actor, orderId, options)
    return this.carryOut(actor, refund)
  }

  /**
   * Step 1: checks and writes the pending refund, committed before any
   * provider is called. Refuses an order that is not the actor's, not paid,
   * a provider that cannot refund, an amount of nothing or more than is
   * left, and a second refund while one is in flight.
   */
  async begin(actor: User, orderId: string, options: RefundOptions = {}) {
    if (!isUuid(orderId)) throw new CommerceError('not_found', 404, 'There is no such order')
    return db.transaction(async (trx) => {
      const order = await Order.query({ client: trx }).where('id', orderId).forUpdate().first()
      if (!order) throw new CommerceError('not_found', 404, 'There is no such order')
      if (!actor.isAdmin && actor.id !== order.creatorId) throw new CommerceError('forbidden', 403, 'You cannot refund this order')
      if (order.status !== 'paid') throw new CommerceError('not_refundable', 409, `This order is ${order.status}, not paid`)
      const provider = plugins.payments.get(order.provider)
      if (!provider?.refund) {
        throw new CommerceError('refund_unsupported', 409, `${provider?.label ?? order.provider} cannot refund automatically`)
      }
      // The money comes from the platform's own wallet (a crypto refund wallet): an admin's decision.
      if (provider.refundsBy === 'admins' && !actor.isAdmin) {
        throw new CommerceError('forbidden', 403, `Only an admin can refund ${provider.label} orders`)
      }
      const left = order.amountMinor - order.refundedMinor
      let amount = options.amountMinor ?? left
      if (options.amountMinor === undefined && options.amountText?.trim()) {
        const typed = toMinorUnits(options.amountText, order.currency)
        if (typed === null) throw new CommerceError('invalid_amount', 422, `Enter the amount to refund in ${order.currency}, like 3.50`)
        amount = typed
      }
      if (!Number.isSafeInteger(amount) || amount <= 0) throw new CommerceError('invalid_amount', 422, 'A refund is more than zero')
      if (amount > left) {
        throw new CommerceError('too_much', 422, `At most ${formatMoney(left, order.currency)} is left to refund on this order`)
      }
      const inFlight = await Refund.query({ client: trx }).where({ orderId: order.id, status: 'pending' }).first()
      if (inFlight) throw new CommerceError('refund_in_progress', 409, 'A refund of this order is already in progress: retry it, or wait for it to finish')
      return Refund.create(
        {
          orderId: order.id,
          amountMinor: amount,
          currency: order.currency,
          status: 'pending',
          endsAccess: amount === left || this.partialEndsAccess(order),
          actorId: actor.id,
          reason: `Refunded by ${actor.username}`,
        },
        { client: trx }
      )
    })
  }

  /**
   * A refund the core starts itself, inside the transaction that found it
   * owed (a payment for something the buyer already held): all of what was
   * paid, ending what the order granted. Carried out after the commit.
   */
  async beginAutomatic(trx: TransactionClientContract, order: Order, reason: string) {
    return Refund.create(
      {
        orderId: order.id,
        amountMinor: order.amountMinor - order.refundedMinor,
        currency: order.currency,
        status: 'pending',
        endsAccess: true,
        actorId: null,
        reason,
      },
      { client: trx }
    )
  }

  /** Retries a refund left pending (a crash, a timeout): the provider call carries the same key. */
  async retry(actor: User, refundId: number) {
    const refund = Number.isSafeInteger(refundId) ? await Refund.query().where({ id: refundId }).preload('order').first() : null
    if (!refund || (!actor.isAdmin && actor.id !== refund.order.creatorId)) throw new CommerceError('not_found', 404, 'There is no such refund')
    if (refund.status !== 'pending') throw new CommerceError('not_pending', 409, `This refund already ${refund.status}`)
    return this.carryOut(actor, refund)
  }

  /** Steps 2 and 3: the provider call outside any lock, then the answer recorded. */
  async carryOut(actor: User | null, refund: Refund) {
    const order = await Order.findOrFail(refund.orderId)
    let answer: Awaited<ReturnType<typeof refundAtProvider>>
    try {
      answer = await refundAtProvider(order, { amountMinor: refund.amountMinor, key: `refund-${refund.id}` })
    } catch (error) {
      // A person's refund fails (they see why and may start another); one
      // the core owes (nobody pressed anything) stays pending, listed with
      // Retry, until the provider gives the money back.
      const message = (error as Error).message.slice(0, 500)
      await Refund.query()
        .where({ id: refund.id, status: 'pending' })
        .update(refund.actorId === null ? { error: message } : { status: 'failed', error: message, completedAt: DateTime.now().toSQL() })
      await this.#applyWaitingEvents(order.id)
      throw error
    }

    const after: AfterCommit = []
    const recorded = await db.transaction(async (trx) => {
      const locked = await Order.query({ client: trx }).where('id', order.id).forUpdate().firstOrFail()
      const row = await Refund.query({ client: trx }).where({ id: refund.id }).forUpdate().firstOrFail()
      if (row.status !== 'pending') return row
      await this.#record(trx, locked, row, answer, actor, after)
      row.merge({ status: 'succeeded', providerReference: answer.refundReference.slice(0, 255), completedAt: DateTime.now() })
      await row.useTransaction(trx).save()
      return row
    })
    await runAfterCommit(after)
    await this.#applyWaitingEvents(order.id)
    return { order: await Order.findOrFail(order.id), refund: recorded }
  }

  /** The provider gave the money back: the ledger, the order and access follow. */
  async #record(
    trx: TransactionClientContract,
    order: Order,
    refund: Refund,
    answer: { creatorReversedMinor?: number },
    actor: User | null,
    after: AfterCommit
  ) {
    const left = order.amountMinor - order.refundedMinor
    if (order.status !== 'paid' && order.status !== 'disputed' && order.status !== 'refunding') {
      // The order changed while the provider was called (a chargeback lost, say): the money went back all the same.
      logger.warn({ orderId: order.id, refundId: refund.id, status: order.status }, 'refund recorded on an order no longer paid')
    }
    const now = Math.min(refund.amountMinor, left)
    const before = { status: order.status, refundedMinor: order.refundedMinor }
    if (now === left && (order.status === 'paid' || order.status === 'disputed' || order.status === 'refunding')) {
      await markRefunded(trx, order, { actor, reason: refund.reason ?? 'Refunded', creatorReversedMinor: answer.creatorReversedMinor }, after)
    } else if (now > 0) {
      await giveBack(trx, order, { kind: 'refund', amountMinor: now, creatorReversedMinor: answer.creatorReversedMinor })
      await order.useTransaction(trx).save()
      await receipts.record(trx, order, 'refund', after)
      if (refund.endsAccess) {
        // The policy for this kind: a partial refund ends what the order granted.
        await trx.from('entitlements').where('order_id', order.id).whereNull('revoked_at').update({ revoked_at: new Date(), revoke_reason: 'refund', updated_at: new Date() })
        after.push(() => endAccess(order, 'refund'))
      }
    }
    await audit.record(
      {
        actor,
        action: 'order.refund',
        subjectType: 'order',
        subjectId: order.id,
        targetUserId: order.buyerId,
        before,
        after: { status: order.status, refundedMinor: order.refundedMinor },
        summary: `Refunded ${formatMoney(now, order.currency)} of order ${order.receiptNumber} (${formatMoney(order.amountMinor, order.currency)})`,
      },
      trx
    )
  }

  /** Whether a refund started here is in flight for the order (provider refund events wait for it). */
  async pendingFor(trx: TransactionClientContract, orderId: string) {
    return !!(await trx.from('refunds').where({ order_id: orderId, status: 'pending' }).first())
  }

  /** Refunds of an order, newest first (the order's page in Studio/Admin). */
  ofOrders(orderIds: string[]) {
    if (!orderIds.length) return Promise.resolve([] as Refund[])
    return Refund.query().whereIn('orderId', orderIds).preload('actor').orderBy('id', 'desc')
  }

  /** Refunds left pending (a crash or a provider that never answered), oldest first, for a creator or all. */
  stuck(creatorId?: number) {
    return Refund.query()
      .where('status', 'pending')
      .where('createdAt', '<', DateTime.now().minus({ seconds: 30 }).toSQL()!)
      .if(creatorId !== undefined, (q) => q.whereIn('orderId', db.from('orders').where('creator_id', creatorId!).select('id')))
      .preload('order')
      .orderBy('id')
  }

  async #applyWaitingEvents(orderId: string) {
    const { default: paymentEvents } = await import('#services/commerce/payment_events')
    await paymentEvents.applyDeferred(orderId)
  }
}

/**
 * Gives money back through an order's provider (by default all that is
 * left) and says how much of it the provider took back from a creator it
 * paid directly. `key` makes the call idempotent at the provider (a refund
 * row's id). A refusal becomes a 502 the actor reads.
 */
export async function refundAtProvider(order: Order, options: { amountMinor?: number; key?: string } = {}) {
  const provider = plugins.payments.get(order.provider)
  if (!provider?.refund) throw new Error(`${order.provider} cannot refund`)
  try {
    const refunded = await provider.refund({
      orderId: order.id,
      refundKey: options.key,
      providerReference: order.providerReference,
      paymentReference: order.paymentReference,
      amount: { amount: options.amountMinor ?? order.amountMinor - order.refundedMinor, currency: order.currency },
    })
    return { refundReference: String(refunded?.refundReference ?? ''), creatorReversedMinor: reportedMinor(refunded?.creatorReversed, order.currency) }
  } catch (error) {
    logger.error({ err: error, orderId: order.id }, 'refund failed at the provider')
    const message = error instanceof PaymentProviderError ? error.message : 'the provider did not answer'
    throw new CommerceError('refund_failed', 502, `${provider.label} refused the refund: ${message}`)
  }
}

const refunds = new RefundService()
export default refunds
