import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type Order from '#models/order'
import plugins from '#services/plugins'
import { endAccess, giveBack, purchasePayload, reportedMinor, writeLedger, type AfterCommit } from '#services/commerce/order_state'
import { outcome, type AppliedEvent } from '#services/commerce/event_outcomes'
import type { VerifiedPaymentEvent } from '#hooks/contracts'

const BEFORE_PAYMENT = new Set(['pending', 'expired', 'failed', 'underpaid'])

/**
 * Chargebacks. While the buyer's bank disputes a payment the purchase grants
 * nothing (the order is `disputed`, the buyer's sessions end at once); a
 * dispute won makes it `paid` again; a dispute lost makes it `charged_back`
 * for good and books who lost the money: the disputed amount comes back
 * from the creator as far as the provider took it back from them (or, when
 * the platform holds their share, in proportion) and from the platform for
 * the rest, and the provider's dispute fee is the platform's (Stripe debits
 * the platform's balance).
 *
 * The provider's dispute id is kept on the order, so a dispute's events
 * arriving late or out of order (closed before opened) cannot suspend a
 * purchase whose dispute is already over.
 */
export class DisputeService {
  async opened(trx: TransactionClientContract, order: Order, event: VerifiedPaymentEvent, after: AfterCommit): Promise<AppliedEvent> {
    const refused = this.#check(order, event)
    if (refused) return refused
    if (order.disputeReference === event.disputeReference && order.disputeStatus !== 'open') {
      return outcome('ignored', `this dispute is already ${order.disputeStatus}`, order.id)
    }
    if (order.status === 'disputed') return outcome('ignored', 'a dispute is already open', order.id)
    order.merge({
      status: 'disputed',
      disputeReference: event.disputeReference!,
      disputeStatus: 'open',
      disputedAt: DateTime.now(),
      disputeClosedAt: null,
    })
    await order.useTransaction(trx).save()
    after.push(() => endAccess(order, 'dispute'))
    return outcome('applied', 'disputed: access suspended while the dispute is open', order.id)
  }

  async won(trx: TransactionClientContract, order: Order, event: VerifiedPaymentEvent): Promise<AppliedEvent> {
    const refused = this.#check(order, event)
    if (refused) return refused
    if (order.disputeReference && order.disputeReference !== event.disputeReference && order.status === 'disputed') {
      return outcome('ignored', `another dispute (${order.disputeReference}) is open`, order.id)
    }
    if (order.disputeReference === event.disputeReference && order.disputeStatus !== 'open') {
      return outcome('ignored', `this dispute is already ${order.disputeStatus}`, order.id)
    }
    order.merge({
      status: 'paid',
      disputeReference: event.disputeReference!,
      disputeStatus: 'won',
      disputedAt: order.disputedAt ?? DateTime.now(),
      disputeClosedAt: DateTime.now(),
    })
    await order.useTransaction(trx).save()
    return outcome('applied', 'dispute won: access restored', order.id)
  }

  async lost(trx: TransactionClientContract, order: Order, event: VerifiedPaymentEvent, after: AfterCommit): Promise<AppliedEvent> {
    const refused = this.#check(order, event)
    if (refused) return refused
    if (order.disputeReference === event.disputeReference && order.disputeStatus === 'won') {
      return outcome('ignored', 'this dispute was already won', order.id)
    }
    const disputed = event.amount!.amount
    const fee = reportedMinor(event.providerFee, order.currency) ?? 0
    await giveBack(trx, order, { kind: 'dispute', amountMinor: disputed, creatorReversedMinor: reportedMinor(event.creatorReversed, order.currency) })
    await writeLedger(trx, order, 'dispute', fee > 0 ? [{ account: 'platform', amountMinor: -fee }, { account: 'provider_fee', amountMinor: fee }] : [])
    const hadAccess = order.status === 'paid'
    order.merge({
      status: 'charged_back',
      disputeReference: event.disputeReference!,
      disputeStatus: 'lost',
      disputedAt: order.disputedAt ?? DateTime.now(),
      disputeClosedAt: DateTime.now(),
      failureReason: 'The buyer’s bank reversed the payment (dispute lost)',
    })
    await order.useTransaction(trx).save()
    if (hadAccess) after.push(() => endAccess(order, 'dispute'))
    after.push(() =>
      plugins.hooks.doAction('purchase:refunded', purchasePayload(order))
    )
    const feeNote = event.providerFee && fee === 0 && event.providerFee.amount > 0 ? ` (its fee in ${event.providerFee.currency} is not in this order's currency: not booked)` : ''
    return outcome('applied', `dispute lost: ${disputed} ${order.currency} went back to the buyer, dispute fee ${fee}${feeNote}`, order.id)
  }

  /** The refusals every dispute event shares: no dispute id, a wrong amount, an order with no payment (yet) or none left. */
  #check(order: Order, event: VerifiedPaymentEvent): AppliedEvent | null {
    if (typeof event.disputeReference !== 'string' || !event.disputeReference || event.disputeReference.length > 255) {
      return outcome('rejected', 'a dispute event without the dispute’s id', order.id)
    }
    if (BEFORE_PAYMENT.has(order.status)) return outcome('deferred', 'dispute before its payment: applied when the payment arrives', order.id)
    if (order.status === 'refunded' || order.status === 'charged_back') return outcome('ignored', `order already ${order.status}`, order.id)
    const left = order.amountMinor - order.refundedMinor
    const amount = event.amount
    const valid =
      !!amount && Number.isSafeInteger(amount.amount) && amount.amount > 0 && amount.amount <= left && String(amount.currency).toUpperCase() === order.currency
    if (!valid) {
      const given = amount ? `${amount.amount} ${amount.currency}` : 'no amount'
      return outcome('rejected', `disputed amount ${given} does not match what is left of the order (${left} ${order.currency})`, order.id)
    }
    return null
  }
}

const disputes = new DisputeService()
export default disputes
