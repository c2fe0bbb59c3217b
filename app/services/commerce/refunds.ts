import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import Order from '#models/order'
import type User from '#models/user'
import plugins from '#services/plugins'
import audit from '#services/audit_service'
import { formatMoney } from '#services/money'
import { isUuid } from '#services/ids'
import { markRefunded, reportedMinor, runAfterCommit, type AfterCommit } from '#services/commerce/order_state'
import { CommerceError } from '#exceptions/commerce_error'
import { PaymentProviderError } from '#hooks/contracts'

/** Refunds a creator or an admin starts (Studio → Sales, Admin → Orders). */
export class RefundService {
  /** Whether `user` may refund this order (its creator or an admin) and the provider can. */
  canRefund(user: User | undefined, order: Order) {
    if (!user || order.status !== 'paid') return false
    if (!user.isAdmin && user.id !== order.creatorId) return false
    return !!plugins.payments.get(order.provider)?.refund
  }

  /**
   * Refunds a paid order through its provider, then writes the ledger lines
   * of who paid what back and ends the buyer's access. A creator paid
   * directly (a Connect destination charge) gives their share back: the
   * provider reverses it, so a creator refunding their own sale to a second
   * account of theirs keeps nothing. The provider's own refund event, when it
   * comes, finds the order refunded and changes nothing.
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
      const { creatorReversedMinor } = await refundAtProvider(order)
      await markRefunded(trx, order, { actor, reason: `Refunded by ${actor.username}`, creatorReversedMinor }, after)
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
    await runAfterCommit(after)
    return order
  }
}

/**
 * Gives what is left of an order's payment back through its provider, and
 * says how much of it the provider took back from a creator it paid
 * directly. A refusal becomes a 502 the actor reads.
 */
export async function refundAtProvider(order: Order) {
  const provider = plugins.payments.get(order.provider)
  if (!provider?.refund) throw new Error(`${order.provider} cannot refund`)
  try {
    const refunded = await provider.refund({
      orderId: order.id,
      providerReference: order.providerReference,
      paymentReference: order.paymentReference,
      amount: { amount: order.amountMinor - order.refundedMinor, currency: order.currency },
    })
    return { creatorReversedMinor: reportedMinor(refunded?.creatorReversed, order.currency) }
  } catch (error) {
    logger.error({ err: error, orderId: order.id }, 'refund failed at the provider')
    const message = error instanceof PaymentProviderError ? error.message : 'the provider did not answer'
    throw new CommerceError('refund_failed', 502, `${provider.label} refused the refund: ${message}`)
  }
}

const refunds = new RefundService()
export default refunds
