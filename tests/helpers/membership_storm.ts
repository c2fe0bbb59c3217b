import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Order from '#models/order'
import Subscription from '#models/subscription'
import type User from '#models/user'
import memberships from '#services/commerce/memberships'
import type { Invoice, StripeEvent, StripeStandIn } from '#tests/helpers/stripe_stand_in'

export interface MembershipStorm {
  /** Every event Stripe sent for them, in Stripe's order, not yet delivered (the caller sends them, shuffled, duplicated...). */
  events: StripeEvent[]
  /** The invoice.paid events among them (the ones that book money). */
  invoicePaid: StripeEvent[]
  /**
   * After delivery: what does not add up. `wrong`: subscriptions whose paid
   * orders are not exactly the stand-in's paid invoices (by invoice id), or
   * whose window is not the last paid period + grace; `doubles`: invoices
   * booked as two orders or more.
   */
  check(): Promise<{ subscriptions: number; orders: number; wrong: number; doubles: number }>
}

/**
 * Memberships for a webhook storm: each buyer joins `creator`'s membership
 * through the real checkout (the core's subscribe, the stand-in's hosted
 * page) on one test clock, which then runs `renewals` months, every renewal
 * paid. Stripe's webhooks are held meanwhile (`holdWebhooks`), so the
 * caller delivers them itself: shuffled, duplicated, at its concurrency.
 */
export async function membershipStorm(
  stripe: StripeStandIn,
  input: { creator: User; buyers: User[]; renewals: number; priceMinor?: number }
): Promise<MembershipStorm> {
  const offer = await memberships.saveOffer(input.creator, { priceMinor: input.priceMinor ?? 800, currency: 'USD', title: 'Storm members' })
  const clock = stripe.createTestClock(Math.floor(Date.now() / 1000))
  const before = stripe.heldEvents.length
  stripe.holdWebhooks = true
  stripe.clockForNewCustomers = clock.id
  const started: Subscription[] = []
  try {
    for (const buyer of input.buyers) {
      const subscription = await memberships.subscribe(buyer, offer.id, 'stripe')
      await stripe.pay(subscription.checkoutUrl!.split('/c/pay/')[1])
      started.push(subscription)
    }
    let at = clock.frozen_time
    for (let month = 0; month < input.renewals; month++) {
      at = DateTime.fromSeconds(at).plus({ months: 1, hours: 1 }).toSeconds()
      await stripe.advanceClock(clock.id, Math.floor(at))
    }
  } finally {
    stripe.holdWebhooks = false
    stripe.clockForNewCustomers = undefined
  }
  const events = stripe.heldEvents.splice(before)
  const invoicePaid = events.filter((event) => event.type === 'invoice.paid')

  return {
    events,
    invoicePaid,
    async check() {
      let wrong = 0
      let orderCount = 0
      for (const started_ of started) {
        const subscription = await Subscription.findOrFail(started_.id)
        const reference = subscription.providerSubscriptionRef
        const paid = reference ? stripe.invoicesOf(reference).filter((invoice: Invoice) => invoice.status === 'paid') : []
        const orders = await Order.query().where({ subscriptionId: subscription.id, status: 'paid' })
        orderCount += orders.length
        const booked = new Set(orders.map((order) => order.providerReference))
        if (orders.length !== paid.length || paid.some((invoice) => !booked.has(invoice.id))) wrong++
        const lastEnd = Math.max(...paid.map((invoice) => invoice.lines.data[0].period.end))
        const window = await db.from('entitlements').where('subscription_id', subscription.id).first()
        const expectedEnd = (lastEnd + memberships.graceDays * 86400) * 1000
        const latest = paid.find((invoice) => invoice.lines.data[0].period.end === lastEnd)
        const latestOrder = orders.find((order) => order.providerReference === latest?.id)
        const windowRight = !!window && window.ends_at?.getTime() === expectedEnd && window.order_id === latestOrder?.id
        if (!windowRight || subscription.status !== 'active') wrong++
      }
      const doubles = await db
        .from('orders')
        .where('offer_kind', 'membership')
        .whereIn('subscription_id', started.map((subscription) => subscription.id))
        .groupBy('provider_reference')
        .havingRaw('count(*) > 1')
        .select('provider_reference')
      return { subscriptions: started.length, orders: orderCount, wrong, doubles: doubles.length }
    },
  }
}
