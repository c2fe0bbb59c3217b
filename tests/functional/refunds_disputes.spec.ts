import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import Stripe from 'stripe'
import env from '#start/env'
import Order from '#models/order'
import PlaybackSession from '#models/playback_session'
import type User from '#models/user'
import type Video from '#models/video'
import entitlements from '#services/entitlement_service'
import orders from '#services/order_service'
import { loggedIn } from '#tests/helpers/videos'
import { buyWithStripe, connectStripe, ledgerOf, listedVideo, onlyOrder, paymentEventOutcomes, stripeForGroup } from '#tests/helpers/commerce'
import type { StripeStandIn } from '#tests/helpers/stripe_stand_in'
import type { WebClient } from '#tests/helpers/web_client'

/*
 * Money going back (issue 14): refunds of Stripe Connect destination charges
 * and chargebacks. $10.00 sales, PLATFORM_FEE_BPS=1000 (.env.test): the
 * application fee is 100, Stripe's fee 59 (2.9% + 30), so after a sale the
 * platform's Stripe balance holds 100 − 59 = 41 and the creator's 900.
 */

/** A creator with a connected Stripe account selling a $10 video, and a second account of theirs that buys it. */
async function destinationSale(stripe: StripeStandIn) {
  const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
  await connectStripe(creatorClient)
  const video = await listedVideo(creator, { priceMinor: 1000 })
  const { user: buyer, client: buyerClient } = await loggedIn('makers_alt')
  await stripe.pay(await buyWithStripe(buyerClient, video))
  const order = await onlyOrder()
  const charge = stripe.charge(stripe.paymentIntent(order.paymentReference!)!.latest_charge!)!
  return { creator, creatorClient, video, buyer, buyerClient, order, charge, account: order.payoutAccount! }
}

/** Opens playback over HTTP as the player does; returns the session id (or the refusal). */
async function play(client: WebClient, video: Video) {
  return client.api('POST', `/videos/${video.id}/playback`)
}

async function canWatch(user: User, video: Video) {
  return (await entitlements.decide(user, video)).allowed
}

test.group('Refunds of destination charges', (group) => {
  const stripe = stripeForGroup(group)

  test('a creator refunding their own sale from Studio → Sales gives their share back: the transfer is reversed, the platform is not out of pocket', async ({ assert }) => {
    const { creatorClient, order, charge, account } = await destinationSale(stripe)
    assert.equal(order.creatorPayout, 'direct')
    assert.deepEqual(stripe.balance(account), { usd: 900 })
    assert.deepEqual(stripe.balance(), { usd: 41 })

    const sales = await creatorClient.visit('/studio/sales')
    assert.include(sales.text, `/studio/orders/${order.id}/refund`)
    const refunded = await creatorClient.submit('/studio/sales', `/studio/orders/${order.id}/refund`, {})
    assert.equal(refunded.location, '/studio/sales')
    await stripe.settled()

    const request = stripe.requests.find((r) => r.path === '/v1/refunds')!
    assert.equal(request.params.reverse_transfer, 'true')
    assert.equal(request.params.refund_application_fee, 'true')
    assert.equal(stripe.transfer(charge.transfer!)!.amount_reversed, 1000)
    assert.equal(stripe.applicationFee(charge.application_fee!)!.amount_refunded, 100)
    // The creator keeps nothing; the platform is left with only Stripe's fee, which Stripe never returns.
    assert.deepEqual(stripe.balance(account), { usd: 0 })
    assert.deepEqual(stripe.balance(), { usd: -59 })

    await order.refresh()
    assert.equal(order.status, 'refunded')
    assert.equal(order.refundedMinor, 1000)
    const ledger = await ledgerOf(order.id)
    const refundLines = ledger.rows.filter((row) => row.kind === 'refund').map((row) => [row.account, Number(row.amount_minor)])
    assert.sameDeepMembers(refundLines, [
      ['creator', -900],
      ['platform', -100],
    ])
    // The books agree with Stripe's balances: the platform's −59 is the fee the provider kept.
    assert.deepEqual(ledger.byAccount, { creator: 0, platform: -59, provider_fee: 59 })
    assert.deepEqual(await orders.ledgerMismatches(), [])
    assert.deepEqual((await paymentEventOutcomes()).map((e) => [e.type, e.outcome]), [
      ['payment.succeeded', 'applied'],
      ['payment.refunded', 'ignored'],
    ])
  })

  test('partial refunds at Stripe take the same share of the transfer and the fee, in whole cents that add up', async ({ assert }) => {
    const { buyer, creatorClient, video, order, charge, account } = await destinationSale(stripe)
    // An operator refunds $3.33 in the Stripe dashboard, reversing the transfer and the fee.
    const sdk = new Stripe(env.get('STRIPE_SECRET_KEY')!, stripe.sdkConfig)
    await sdk.refunds.create({ payment_intent: order.paymentReference!, amount: 333, reverse_transfer: true, refund_application_fee: true })
    await stripe.settled()

    // 333 of the 1000 transfer, and 33 (33.3 rounded) of the 100 fee, went back.
    assert.equal(stripe.transfer(charge.transfer!)!.amount_reversed, 333)
    assert.equal(stripe.applicationFee(charge.application_fee!)!.amount_refunded, 33)
    await order.refresh()
    assert.equal(order.status, 'paid')
    assert.equal(order.refundedMinor, 333)
    assert.isTrue(await canWatch(buyer, video))
    let ledger = await ledgerOf(order.id)
    assert.deepEqual(ledger.byAccount, { creator: 600, platform: 8, provider_fee: 59 })
    assert.equal(ledger.sum, 1000 - 333)
    assert.deepEqual(await orders.ledgerMismatches(), [])

    // The rest from Studio → Sales: everything is back, to the cent.
    await creatorClient.submit('/studio/sales', `/studio/orders/${order.id}/refund`, {})
    await stripe.settled()
    assert.equal(stripe.refunds.at(-1)!.amount, 667)
    assert.deepEqual(stripe.balance(account), { usd: 0 })
    assert.deepEqual(stripe.balance(), { usd: -59 })
    ledger = await ledgerOf(order.id)
    assert.deepEqual(ledger.byAccount, { creator: 0, platform: -59, provider_fee: 59 })
    await order.refresh()
    assert.equal(order.status, 'refunded')
    assert.isFalse(await canWatch(buyer, video))
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })
})

test.group('Chargebacks', (group) => {
  const stripe = stripeForGroup(group)

  test('a dispute opened suspends access at once (playback refused, sessions ended); won, access comes back', async ({ assert }) => {
    const { buyer, buyerClient, video, order } = await destinationSale(stripe)
    const opened = await play(buyerClient, video)
    assert.equal(opened.status, 201)

    const dispute = await stripe.dispute(order.paymentReference!)
    // Stripe took the disputed amount and its 15.00 fee from the platform, not from the creator.
    assert.deepEqual(stripe.balance(), { usd: 41 - 1000 - 1500 })
    assert.deepEqual(stripe.balance(order.payoutAccount!), { usd: 900 })

    await order.refresh()
    assert.equal(order.status, 'disputed')
    assert.equal(order.disputeReference, dispute.id)
    const session = await PlaybackSession.findOrFail(opened.body.sessionId)
    assert.equal(session.revokeReason, 'dispute')
    const renew = await buyerClient.api('POST', `/playback/${session.id}/renew`, { path: 'master.m3u8' })
    assert.oneOf(renew.status, [403, 404])
    const refused = await play(buyerClient, video)
    assert.equal(refused.status, 402)
    // Buying again while the bank disputes the first payment is refused with the reason.
    const again = await buyerClient.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe' })
    assert.equal(await Order.query().count('* as n').first().then((row) => Number(row!.$extras.n)), 1)
    assert.notInclude(again.location ?? '', '/c/pay/')

    const receipt = await buyerClient.visit(`/orders/${order.id}/complete`)
    assert.include(receipt.text, 'Your bank is disputing this payment')

    await stripe.closeDispute(dispute.id, 'won')
    await order.refresh()
    assert.equal(order.status, 'paid')
    assert.equal(order.disputeStatus, 'won')
    assert.isTrue(await canWatch(buyer, video))
    assert.equal((await play(buyerClient, video)).status, 201)
    // Won: the money and the fee came back; the books never moved.
    assert.deepEqual(stripe.balance(), { usd: 41 })
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 900, platform: 41, provider_fee: 59 })
    assert.deepEqual(await orders.ledgerMismatches(), [])

    // The dispute's "created" event delivered again (late, or replayed) suspends nothing.
    const created = stripe.events.find((e) => e.type === 'charge.dispute.created')!
    assert.equal((await stripe.deliver(created)).status, 200)
    const late = stripe.event('charge.dispute.created', created.data.object)
    assert.equal((await stripe.deliver(late)).status, 200)
    await order.refresh()
    assert.equal(order.status, 'paid')
    assert.isTrue(await canWatch(buyer, video))
  })

  test('a dispute lost: the money goes back, the creator\'s share is recovered, the dispute fee is booked, access stays revoked; the same webhook twice changes nothing', async ({ assert }) => {
    const { buyer, buyerClient, creatorClient, video, order, charge, account } = await destinationSale(stripe)
    const dispute = await stripe.dispute(order.paymentReference!)
    const closed = await stripe.closeDispute(dispute.id, 'lost')

    await order.refresh()
    assert.equal(order.status, 'charged_back')
    assert.equal(order.disputeStatus, 'lost')
    assert.equal(order.refundedMinor, 1000)
    assert.isFalse(await canWatch(buyer, video))
    assert.equal((await play(buyerClient, video)).status, 402)
    const sales = await creatorClient.visit('/studio/sales')
    // The sale's row says so in words, in a red (danger) badge.
    const row = sales.text.match(new RegExp(`data-order-row="${order.id}"[\\s\\S]*?</tr>`))![0]
    assert.include(row, '<span class="badge danger">charged back</span>')
    assert.notInclude(sales.text, `/studio/orders/${order.id}/refund`)

    // The platform reversed the transfer (and gave back its fee share): the creator keeps nothing.
    assert.equal(stripe.transfer(charge.transfer!)!.amount_reversed, 1000)
    assert.deepEqual(stripe.balance(account), { usd: 0 })
    // The platform bears Stripe's fees: the 59 of the sale and the 15.00 dispute fee.
    assert.deepEqual(stripe.balance(), { usd: -59 - 1500 })
    const ledger = await ledgerOf(order.id)
    const disputeLines = ledger.rows.filter((row) => row.kind === 'dispute').map((row) => [row.account, Number(row.amount_minor)])
    assert.sameDeepMembers(disputeLines, [
      ['creator', -900],
      ['platform', -100],
      ['platform', -1500],
      ['provider_fee', 1500],
    ])
    assert.deepEqual(ledger.byAccount, { creator: 0, platform: -1559, provider_fee: 1559 })
    assert.deepEqual(await orders.ledgerMismatches(), [])

    // Stripe delivers the same event again: recorded once, nothing reversed or booked twice.
    const rows = ledger.rows.length
    const reversals = stripe.requests.filter((r) => r.path.endsWith('/reversals')).length
    assert.equal((await stripe.deliver(closed)).status, 200)
    assert.equal((await stripe.deliver(closed)).status, 200)
    assert.lengthOf((await ledgerOf(order.id)).rows, rows)
    assert.equal(stripe.transfer(charge.transfer!)!.amount_reversed, 1000)
    assert.equal(stripe.requests.filter((r) => r.path.endsWith('/reversals')).length, reversals)
    assert.deepEqual(stripe.balance(account), { usd: 0 })
    const outcomes = (await paymentEventOutcomes()).map((e) => [e.type, e.outcome])
    assert.deepEqual(outcomes, [
      ['payment.succeeded', 'applied'],
      ['payment.disputed', 'applied'],
      ['payment.dispute_lost', 'applied'],
    ])
  })

  test('a dispute lost on a sale the platform collected: the creator\'s owed share goes, the platform bears the fees', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1000 })
    const { client } = await loggedIn('buyer')
    await stripe.pay(await buyWithStripe(client, video))
    const order = await onlyOrder()
    assert.equal(order.creatorPayout, 'owed')
    const dispute = await stripe.dispute(order.paymentReference!)
    await stripe.closeDispute(dispute.id, 'lost')
    await order.refresh()
    assert.equal(order.status, 'charged_back')
    const ledger = await ledgerOf(order.id)
    assert.deepEqual(ledger.byAccount, { creator: 0, platform: -1559, provider_fee: 1559 })
    // What the books say the platform lost is what Stripe took from its balance.
    assert.deepEqual(stripe.balance(), { usd: ledger.byAccount.platform })
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('a dispute that arrives before its payment\'s webhook waits for it, then suspends the purchase', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1000 })
    const { user: buyer, client } = await loggedIn('buyer')
    const sessionId = await buyWithStripe(client, video)
    // The payment's webhook cannot reach us (Stripe will retry it later).
    const webhookUrl = stripe.webhookUrl
    stripe.webhookUrl = 'http://127.0.0.1:9/webhooks/stripe'
    await stripe.pay(sessionId)
    stripe.webhookUrl = webhookUrl
    assert.lengthOf(stripe.failedDeliveries, 1)

    await stripe.dispute(stripe.checkoutSession(sessionId)!.payment_intent!)
    const order = await onlyOrder()
    assert.equal(order.status, 'pending')
    assert.deepEqual((await paymentEventOutcomes()).map((e) => [e.type, e.outcome]), [['payment.disputed', 'deferred']])

    for (const failed of stripe.failedDeliveries.splice(0)) assert.equal((await stripe.deliver(failed.event)).status, 200)
    await order.refresh()
    assert.equal(order.status, 'disputed')
    assert.isFalse(await canWatch(buyer, video))
    assert.deepEqual((await paymentEventOutcomes()).map((e) => [e.type, e.outcome]), [
      ['payment.disputed', 'applied'],
      ['payment.succeeded', 'applied'],
    ])
  })

  test('a forged or garbled dispute webhook is refused and changes nothing', async ({ assert }) => {
    const { buyer, video, order } = await destinationSale(stripe)
    const dispute = {
      id: 'dp_forged',
      object: 'dispute',
      amount: 1000,
      balance_transactions: [],
      charge: stripe.paymentIntent(order.paymentReference!)!.latest_charge,
      currency: 'usd',
      payment_intent: order.paymentReference,
      reason: 'fraudulent',
      status: 'needs_response',
    }
    const event = stripe.event('charge.dispute.created', dispute)
    const before = await paymentEventOutcomes()

    const forged = await stripe.deliver(event, { secret: 'whsec_someone_else' })
    assert.equal(forged.status, 400)
    const payload = JSON.stringify(event)
    const garbled = await stripe.deliver(event, { payload: payload.slice(0, payload.length / 2) })
    assert.equal(garbled.status, 400)
    // Signed over one body, sent with another.
    const signature = stripe.sign(payload)
    const altered = await fetch(stripe.webhookUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: payload.replace('"amount": 1000', '"amount": 1').replace('"amount":1000', '"amount":1'),
    })
    assert.equal(altered.status, 400)
    // Authentic but impossible: more disputed than was paid. Recorded as rejected; nothing else.
    const impossible = stripe.event('charge.dispute.created', { ...dispute, id: 'dp_too_much', amount: 5000 })
    assert.equal((await stripe.deliver(impossible)).status, 200)

    await order.refresh()
    assert.equal(order.status, 'paid')
    assert.isNull(order.disputeReference)
    assert.isTrue(await canWatch(buyer, video))
    const after = await paymentEventOutcomes()
    assert.deepEqual(after.slice(0, before.length), before)
    assert.deepEqual(after.slice(before.length).map((e) => [e.type, e.outcome]), [['payment.disputed', 'rejected']])
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 900, platform: 41, provider_fee: 59 })
    assert.lengthOf(await db.from('playback_sessions').whereNotNull('revoked_at'), 0)
  })
})
