import type Order from '#models/order'
import type User from '#models/user'
import type Video from '#models/video'
import type { ProviderEvent } from '#hooks/contracts'
import checkouts, { type CheckoutOptions } from '#services/commerce/checkout'
import paymentEvents from '#services/commerce/payment_events'
import refunds, { type RefundOptions } from '#services/commerce/refunds'
import orderQueries from '#services/commerce/order_queries'

export type { EventOutcome, EventResult } from '#services/commerce/event_outcomes'

/**
 * The one door to orders for controllers, commands and chores. Each concept
 * lives in its own file under app/services/commerce (checkout, payment
 * events, order state and ledger, refunds, disputes, queries); this facade
 * keeps the method names callers already use.
 */
export class OrderService {
  providersFor(currency: string) {
    return checkouts.providersFor(currency)
  }

  priceOf(video: Video, viewer?: User) {
    return checkouts.priceOf(video, viewer)
  }

  checkout(buyer: User, videoId: string, providerId: string, options: CheckoutOptions = {}) {
    return checkouts.checkout(buyer, videoId, providerId, options)
  }

  receive(providerId: string, events: ProviderEvent[]) {
    return paymentEvents.receive(providerId, events)
  }

  canRefund(user: User | undefined, order: Order) {
    return refunds.canRefund(user, order)
  }

  /** Refunds all that is left of an order (or `amountMinor` of it); returns the order. */
  async refund(actor: User, orderId: string, options: RefundOptions = {}) {
    return (await refunds.refund(actor, orderId, options)).order
  }

  expireStale() {
    return orderQueries.expireStale()
  }

  ledgerMismatches() {
    return orderQueries.ledgerMismatches()
  }

  unmatchedPayments(limit?: number) {
    return orderQueries.unmatchedPayments(limit)
  }

  findForBuyer(buyer: User, orderId: string) {
    return orderQueries.findForBuyer(buyer, orderId)
  }

  openCheckoutsOf(buyer: User) {
    return orderQueries.openCheckoutsOf(buyer)
  }

  paidWith(order: Order) {
    return orderQueries.paidWith(order)
  }
}

const orders = new OrderService()
export default orders
