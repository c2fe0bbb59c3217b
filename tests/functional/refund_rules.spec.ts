import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Order from '#models/order'
import Offer from '#models/offer'
import Refund from '#models/refund'
import type User from '#models/user'
import type Video from '#models/video'
import commerce from '#config/commerce'
import plugins from '#services/plugins'
import orders from '#services/order_service'
import refunds from '#services/commerce/refunds'
import checkouts from '#services/commerce/checkout'
import entitlements from '#services/entitlement_service'
import { loggedIn } from '#tests/helpers/videos'
import { ledgerOf, listedVideo, paymentEventOutcomes, stripeForGroup } from '#tests/helpers/commerce'
import type { StripeStandIn } from '#tests/helpers/stripe_stand_in'
import { PaymentProviderError } from '#hooks/contracts'

/*
 * Refund rules (issue 17, items 5 and 7): the provider is called outside the
 * order's row lock (a pending refund committed first, the answer recorded
 * after), partial refunds from Studio → Sales, the access rule per offer
 * kind, a rental refunded before it started. $10.00 card sales collected by
 * the platform (no Connect account): Stripe's fee is 59 (2.9 % + 30), the
 * platform's 100 (PLATFORM_FEE_BPS=1000), the creator's line 841.
 */

/** Pays an order through the stand-in's hosted page, as a buyer would. */
async function payAtStripe(stripe: StripeStandIn, order: Order) {
  await stripe.pay(order.checkoutUrl!.split('/c/pay/')[1])
  await order.refresh()
  return order
}

async function sale(stripe: StripeStandIn) {
  const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
  const { user: buyer } = await loggedIn('fan')
  const video = await listedVideo(creator, { priceMinor: 1000 })
  const order = await payAtStripe(stripe, await orders.checkout(buyer, video.id, 'stripe'))
  return { creator, creatorClient, buyer, video, order }
}

async function offer(creator: User, fields: Partial<Offer>) {
  return Offer.create({ id: randomUUID(), creatorId: creator.id, currency: 'USD', active: true, priceMinor: 1000, ...fields })
}

async function canWatch(user: User, video: Video) {
  return (await entitlements.decide(user, video)).allowed
}

function byKindAndAccount(rows: Array<{ account: string; kind: string; amount_minor: unknown }>) {
  const sums: Record<string, number> = {}
  for (const row of rows) sums[`${row.kind}:${row.account}`] = (sums[`${row.kind}:${row.account}`] ?? 0) + Number(row.amount_minor)
  return sums
}

test.group('Refund rules', (group) => {
  const stripe = stripeForGroup(group)
  const partialPolicy = [...commerce.partialRefundEndsAccess]
  group.each.teardown(() => {
    commerce.partialRefundEndsAccess = [...partialPolicy]
  })

  test('a partial refund from Studio → Sales: exact ledger lines, access kept, the rest later to the cent; the provider’s webhooks wait and change nothing', async ({ assert }) => {
    const { creatorClient, buyer, video, order } = await sale(stripe)
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 841, platform: 100, provider_fee: 59 })

    const partial = await creatorClient.submit('/studio/sales', `/studio/orders/${order.id}/refund`, { amount: '3.00' })
    assert.equal(partial.location, '/studio/sales')
    const page = await creatorClient.visit('/studio/sales')
    assert.include(page.text, '$3.00 of order')
    assert.include(page.text, 'the buyer keeps access')
    await stripe.settled()
    await order.refresh()
    assert.equal(order.status, 'paid')
    assert.equal(order.refundedMinor, 300)
    assert.isTrue(await canWatch(buyer, video))
    // 841 × 300 / 1000 = 252.3 → 252 from the creator, the other 48 from the platform.
    assert.deepEqual(byKindAndAccount((await ledgerOf(order.id)).rows), {
      'payment:creator': 841,
      'payment:platform': 100,
      'payment:provider_fee': 59,
      'refund:creator': -252,
      'refund:platform': -48,
    })
    assert.deepEqual(await orders.ledgerMismatches(), [])

    await creatorClient.submit('/studio/sales', `/studio/orders/${order.id}/refund`, { amount: '' })
    await stripe.settled()
    await order.refresh()
    assert.equal(order.status, 'refunded')
    assert.equal(order.refundedMinor, 1000)
    assert.isFalse(await canWatch(buyer, video))
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 0, platform: -59, provider_fee: 59 })
    assert.deepEqual(await orders.ledgerMismatches(), [])

    // Two refunds at Stripe, each with its own idempotency key; their webhooks counted nothing twice.
    assert.deepEqual(stripe.refunds.map((r) => r.amount), [300, 700])
    const keys = stripe.requests.filter((r) => r.path === '/v1/refunds').map((r) => r.idempotencyKey)
    assert.lengthOf(new Set(keys), 2)
    const refundEvents = (await paymentEventOutcomes()).filter((e) => e.type === 'payment.refunded')
    assert.isNotEmpty(refundEvents)
    for (const event of refundEvents) assert.oneOf(event.outcome, ['ignored', 'deferred'])
    assert.deepEqual(
      (await Refund.query().orderBy('id')).map((r) => [r.amountMinor, r.status, r.endsAccess]),
      [
        [300, 'succeeded', false],
        [700, 'succeeded', true],
      ]
    )
  })

  test('bad refund input: more than is left, nothing, not a number, another creator’s order: a clear error, nothing changes', async ({ assert }) => {
    const { creatorClient, order } = await sale(stripe)
    for (const amount of ['10.01', '0', 'ten', '1.234']) {
      const response = await creatorClient.submit('/studio/sales', `/studio/orders/${order.id}/refund`, { amount })
      assert.equal(response.status, 302, amount)
    }
    const page = await creatorClient.visit('/studio/sales')
    assert.include(page.text, 'Enter the amount to refund in USD')
    const { user: rival } = await loggedIn('rival', 'creator')
    await assert.rejects(() => refunds.refund(rival, order.id), /cannot refund this order/)
    await assert.rejects(() => refunds.refund(rival, order.id, { amountMinor: 1001 }), /cannot refund this order/)
    await order.refresh()
    assert.equal(order.refundedMinor, 0)
    assert.isEmpty(stripe.refunds)
    assert.lengthOf(await Refund.all(), 0)
  })

  test('the provider failing: the refund is marked failed, the order and the books are untouched, access kept; trying again works', async ({ assert }) => {
    const { creator, creatorClient, buyer, video, order } = await sale(stripe)
    const provider = plugins.payments.get('stripe')!
    const original = provider.refund!
    provider.refund = async () => {
      throw new PaymentProviderError('the card network is down')
    }
    try {
      const failed = await creatorClient.submit('/studio/sales', `/studio/orders/${order.id}/refund`, {})
      assert.equal(failed.status, 302)
      assert.include((await creatorClient.visit('/studio/sales')).text, 'refused the refund: the card network is down')
    } finally {
      provider.refund = original
    }
    await order.refresh()
    assert.equal(order.status, 'paid')
    assert.equal(order.refundedMinor, 0)
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 841, platform: 100, provider_fee: 59 })
    assert.isTrue(await canWatch(buyer, video))
    const [failedRefund] = await Refund.all()
    assert.equal(failedRefund.status, 'failed')
    assert.include(failedRefund.error!, 'card network is down')

    const { order: done } = await refunds.refund(creator, order.id)
    assert.equal(done.status, 'refunded')
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('a crash between the provider call and its record leaves the refund pending, listed and retriable; the retry gives the money back once', async ({ assert }) => {
    const { creator, creatorClient, buyer, video, order } = await sale(stripe)
    // Step 1 committed, then the provider was called, then the process died.
    const pending = await refunds.begin(creator, order.id, { amountMinor: 400 })
    const { refundAtProvider } = await import('#services/commerce/refunds')
    await refundAtProvider(order, { amountMinor: 400, key: `refund-${pending.id}` })
    await stripe.settled()
    await Refund.query().where('id', pending.id).update({ createdAt: DateTime.now().minus({ minutes: 5 }).toSQL() })

    // Another refund meanwhile is refused; the order is unchanged (its refund event waits).
    await assert.rejects(() => refunds.refund(creator, order.id, { amountMinor: 100 }), /already in progress/)
    await order.refresh()
    assert.equal(order.refundedMinor, 0)
    assert.deepEqual((await paymentEventOutcomes()).filter((e) => e.type === 'payment.refunded').map((e) => e.outcome), ['deferred'])

    const page = await creatorClient.visit('/studio/sales')
    assert.include(page.text, `/studio/refunds/${pending.id}/retry`)
    const retried = await creatorClient.submit('/studio/sales', `/studio/refunds/${pending.id}/retry`, {})
    assert.equal(retried.location, '/studio/sales')
    await stripe.settled()

    // Stripe saw the same key twice and refunded once.
    assert.deepEqual(stripe.refunds.map((r) => r.amount), [400])
    await order.refresh()
    assert.equal(order.refundedMinor, 400)
    assert.equal(order.status, 'paid')
    assert.isTrue(await canWatch(buyer, video))
    assert.equal((await Refund.findOrFail(pending.id)).status, 'succeeded')
    assert.deepEqual((await paymentEventOutcomes()).filter((e) => e.type === 'payment.refunded').map((e) => e.outcome), ['ignored'])
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('a rental refunded before it was started: a whole refund, the rental gone, exact ledger lines', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const { user: buyer } = await loggedIn('fan')
    const video = await listedVideo(creator, { priceMinor: 1500 })
    const rental = await offer(creator, { kind: 'rental', scope: 'video', videoId: video.id, priceMinor: 400, rentalHours: 48, startWindowDays: 30 })
    const order = await payAtStripe(stripe, await checkouts.checkoutOffer(buyer, rental.id, 'stripe'))
    assert.equal(order.status, 'paid')
    assert.isTrue(await canWatch(buyer, video))
    const held = await db.from('entitlements').where('order_id', order.id).first()
    assert.isNull(held.starts_at)

    await creatorClient.submit('/studio/sales', `/studio/orders/${order.id}/refund`, {})
    await stripe.settled()
    await order.refresh()
    assert.equal(order.status, 'refunded')
    assert.equal(order.refundedMinor, 400)
    assert.isFalse(await canWatch(buyer, video))
    // 400: Stripe 42 (2.9 % + 30, rounded), platform 40, creator 318; all of it back but Stripe's fee.
    const ledger = await ledgerOf(order.id)
    assert.equal(ledger.sum, 0)
    assert.equal(ledger.byAccount.creator, 0)
    assert.equal(ledger.byAccount.platform, -ledger.byAccount.provider_fee)
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('the access rule per offer kind: a partial refund of a pass ends it when the policy says so; of a bundle it keeps it; a whole bundle refund ends every video', async ({ assert }) => {
    commerce.partialRefundEndsAccess = ['pass']
    const { user: creator } = await loggedIn('maker', 'creator')
    const { user: buyer } = await loggedIn('fan')
    const first = await listedVideo(creator, { title: 'One' })
    const second = await listedVideo(creator, { title: 'Two' })
    const pass = await offer(creator, { kind: 'pass', scope: 'creator', passDays: 30, priceMinor: 2000, title: 'Everything' })
    const bundle = await offer(creator, { kind: 'purchase', scope: 'bundle', priceMinor: 1500, title: 'Both' })
    await db.table('offer_videos').multiInsert([
      { offer_id: bundle.id, video_id: first.id, position: 0 },
      { offer_id: bundle.id, video_id: second.id, position: 1 },
    ])

    const passOrder = await payAtStripe(stripe, await checkouts.checkoutOffer(buyer, pass.id, 'stripe'))
    assert.isTrue(await canWatch(buyer, second))
    const { refund } = await refunds.refund(creator, passOrder.id, { amountMinor: 500 })
    assert.isTrue(refund.endsAccess)
    await passOrder.refresh()
    assert.equal(passOrder.status, 'paid')
    assert.equal(passOrder.refundedMinor, 500)
    assert.isFalse(await canWatch(buyer, second))

    const bundleOrder = await payAtStripe(stripe, await checkouts.checkoutOffer(buyer, bundle.id, 'stripe'))
    assert.isTrue(await canWatch(buyer, first))
    await refunds.refund(creator, bundleOrder.id, { amountMinor: 500 })
    assert.isTrue(await canWatch(buyer, first))
    assert.isTrue(await canWatch(buyer, second))
    await refunds.refund(creator, bundleOrder.id)
    assert.isFalse(await canWatch(buyer, first))
    assert.isFalse(await canWatch(buyer, second))
    await stripe.settled()
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('paid twice: the second payment is booked as refunding and given back after the commit; a provider that fails leaves it pending and retriable', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const { client: adminClient } = await loggedIn('boss', 'admin')
    const { user: buyer } = await loggedIn('fan')
    const pass = await offer(creator, { kind: 'pass', scope: 'creator', passDays: 30, priceMinor: 1000 })
    const first = await checkouts.checkoutOffer(buyer, pass.id, 'stripe')
    await Order.query().where('id', first.id).update({ expiresAt: DateTime.now().plus({ minutes: 2 }).toSQL() })
    const second = await checkouts.checkoutOffer(buyer, pass.id, 'stripe')
    await payAtStripe(stripe, first)

    const provider = plugins.payments.get('stripe')!
    const original = provider.refund!
    provider.refund = async () => {
      throw new PaymentProviderError('the card network is down')
    }
    try {
      await payAtStripe(stripe, second)
    } finally {
      provider.refund = original
    }
    // Booked and owed back: the order grants nothing, its lines sum to what was paid, the refund waits.
    assert.equal(second.status, 'refunding')
    assert.deepEqual(await orders.ledgerMismatches(), [])
    const held = await db.from('entitlements').join('orders', 'orders.id', 'entitlements.order_id').where({ user_id: buyer.id, status: 'paid' })
    assert.lengthOf(held, 1)
    const [pending] = await Refund.query().where('orderId', second.id)
    assert.equal(pending.status, 'pending')
    assert.isNull(pending.actorId)
    assert.include(pending.error!, 'card network is down')
    assert.isEmpty(stripe.refunds)

    // Listed for the admin after a while; Retry gives the money back.
    await Refund.query().where('id', pending.id).update({ createdAt: DateTime.now().minus({ minutes: 5 }).toSQL() })
    const page = await adminClient.visit('/admin/orders')
    assert.include(page.text, `/studio/refunds/${pending.id}/retry`)
    await adminClient.submit('/admin/orders', `/studio/refunds/${pending.id}/retry`, { return_to: '/admin/orders' })
    await stripe.settled()
    await second.refresh()
    assert.equal(second.status, 'refunded')
    assert.equal(second.refundedMinor, 1000)
    assert.deepEqual(stripe.refunds.map((r) => r.amount), [1000])
    await first.refresh()
    assert.equal(first.status, 'paid')
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })
})
