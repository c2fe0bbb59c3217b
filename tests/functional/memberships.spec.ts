import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import Order from '#models/order'
import Offer from '#models/offer'
import Subscription from '#models/subscription'
import PlaybackSession from '#models/playback_session'
import type User from '#models/user'
import type Video from '#models/video'
import entitlements from '#services/entitlement_service'
import orders from '#services/order_service'
import playback from '#services/playback_service'
import plugins from '#services/plugins'
import grants from '#services/commerce/grants'
import refunds from '#services/commerce/refunds'
import receipts from '#services/commerce/receipts'
import memberships from '#services/commerce/memberships'
import { loggedIn } from '#tests/helpers/videos'
import { ledgerOf, listedVideo, paymentEventOutcomes, stripeForGroup } from '#tests/helpers/commerce'
import { TEST_CARDS, type StripeStandIn, type Invoice } from '#tests/helpers/stripe_stand_in'
import { membershipStorm } from '#tests/helpers/membership_storm'
import type { WebClient } from '#tests/helpers/web_client'
import { PlaybackError } from '#exceptions/playback_error'

const GRACE_DAYS = 3

/** The creator offers a membership from the Studio form. */
async function offerMembership(client: WebClient, price = '5.00') {
  const saved = await client.submit('/studio/membership', '/studio/membership', { price, currency: 'USD', title: 'Supporters' })
  if (saved.status !== 302) throw new Error(`membership form answered ${saved.status}`)
  return Offer.query().where({ kind: 'membership', active: true }).firstOrFail()
}

/**
 * The viewer joins from the membership page with Stripe and pays on the
 * stand-in's hosted page (a customer on `clockStart`'s test clock). Returns
 * the subscription once Stripe's webhooks were applied.
 */
async function join(stripe: StripeStandIn, client: WebClient, offer: Offer, clockStart: DateTime) {
  const clock = stripe.createTestClock(Math.floor(clockStart.toSeconds()))
  stripe.clockForNewCustomers = clock.id
  const pressed = await client.submit(`/memberships/${offer.id}`, `/memberships/${offer.id}/subscribe`, { provider: 'stripe', price: '1' })
  if (pressed.status !== 303 || !pressed.location?.includes('/c/pay/')) throw new Error(`subscribe answered ${pressed.status} → ${pressed.location}`)
  const sessionId = pressed.location.split('/c/pay/')[1]
  await stripe.pay(sessionId)
  await stripe.settled()
  const session = stripe.checkoutSession(sessionId)!
  const subscription = await Subscription.findByOrFail('providerSubscriptionRef', session.subscription!)
  return { clock, subscription, stripeSubscription: stripe.subscription(session.subscription!)!, sessionId }
}

/** A start time whose first monthly period ends at `periodEnd` (the stand-in bills on the start's day of the month). */
function startForPeriodEnd(periodEnd: DateTime) {
  return periodEnd.toUTC().minus({ months: 1 })
}

async function watch(user: User, video: Video) {
  return playback.open({ user, video, deviceId: `device-${randomUUID()}`, userAgent: 'test' })
}

async function membershipOrders(userId: number) {
  return Order.query().where({ buyerId: userId, offerKind: 'membership' }).orderBy('createdAt')
}

const seconds = (value: DateTime | null | undefined) => (value ? Math.round(value.toSeconds()) : null)

test.group('Memberships through Stripe Billing', (group) => {
  const stripe = stripeForGroup(group)

  test('subscribe, watch any of the creator’s videos, renew on the test clock: an order and ledger lines per invoice', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const first = await listedVideo(creator, { title: 'First film' })
    const second = await listedVideo(creator, { title: 'Second film' })
    const { user: other } = await loggedIn('someone', 'creator')
    const elsewhere = await listedVideo(other, { title: 'Not hers' })
    const offer = await offerMembership(creatorClient)
    assert.equal(offer.priceMinor, 500)
    assert.equal(offer.scope, 'creator')
    const { user: viewer, client } = await loggedIn('fan')

    // The video page lists the membership and links to its page, which explains it beside passes.
    const videoPage = await client.visit(`/videos/${first.id}`)
    assert.include(videoPage.text, `/memberships/${offer.id}`)
    const page = await client.visit(`/memberships/${offer.id}`)
    assert.include(page.text, '$5.00')
    assert.include(page.text, 'Join with Card (Stripe)')
    assert.include(page.text, 'Membership or pass?')
    assert.match(page.text, /cannot charge again, so (it sells|they sell) passes instead/)

    const start = DateTime.now().toUTC()
    const { clock, subscription, stripeSubscription } = await join(stripe, client, offer, start)
    // Checkout ran in subscription mode with a monthly price the server chose (the form's price ignored).
    const created = stripe.requests.find((request) => request.path === '/v1/checkout/sessions')!
    assert.equal(created.params.mode, 'subscription')
    assert.equal(created.params.line_items[0].price_data.unit_amount, '500')
    assert.equal(created.params.line_items[0].price_data.recurring.interval, 'month')
    assert.equal(stripeSubscription.metadata.matineeSubscriptionId, String(subscription.id))

    assert.equal(subscription.status, 'active')
    assert.equal(subscription.providerCustomerRef, stripeSubscription.customer)
    const periodEnd = stripeSubscription.items.data[0].current_period_end
    assert.equal(seconds(subscription.paidThrough), periodEnd)
    const [paid] = await membershipOrders(viewer.id)
    assert.equal(paid.status, 'paid')
    assert.isNull(paid.videoId)
    assert.equal(paid.offerId, offer.id)
    assert.equal(paid.providerReference, stripe.invoicesOf(stripeSubscription.id)[0].id)
    assert.match(paid.paymentReference!, /^pi_/)
    // $5.00: 10 % platform fee, Stripe's 45¢ out of the creator's share; a receipt is queued.
    const ledger = await ledgerOf(paid.id)
    assert.deepEqual(ledger.byAccount, { creator: 405, platform: 50, provider_fee: 45 })
    assert.equal(ledger.sum, 500)
    assert.lengthOf(await db.from('order_receipts').where({ order_id: paid.id, kind: 'purchase' }), 1)
    await paid.load('buyer')
    await paid.load('creator')
    const receipt = await receipts.message(paid, 'purchase', 0)
    assert.equal(receipt.videoTitle, 'Monthly membership: Supporters')
    assert.equal(receipt.amountText, '$5.00')
    const receiptPage = await client.visit(`/library/orders/${paid.id}`)
    assert.equal(receiptPage.status, 200)
    assert.include(receiptPage.text, 'Monthly membership: Supporters')

    // Any of her published videos plays, through the membership, until the paid period + grace; not another creator's.
    for (const video of [first, second]) {
      const access = await entitlements.decide(viewer, video)
      assert.isTrue(access.allowed)
      if (access.allowed) assert.equal(access.via, 'membership')
    }
    assert.isFalse((await entitlements.decide(viewer, elsewhere)).allowed)
    const opened = await watch(viewer, second)
    assert.equal(opened.session.accessVia, 'membership')
    assert.equal(seconds(opened.session.accessEndsAt), periodEnd + GRACE_DAYS * 86400)
    const library = await client.visit('/library/memberships')
    assert.include(library.text, 'Active')
    assert.include(library.text, 'Cancel membership')

    // A month later on the test clock: Stripe bills again, the core books a second order and moves the window.
    await stripe.advanceClock(clock.id, periodEnd + 3600)
    await stripe.settled()
    const invoices = stripe.invoicesOf(stripeSubscription.id)
    assert.lengthOf(invoices, 2)
    assert.equal(invoices[1].status, 'paid')
    const both = await membershipOrders(viewer.id)
    assert.lengthOf(both, 2)
    assert.equal(both[1].providerReference, invoices[1].id)
    assert.deepEqual((await ledgerOf(both[1].id)).byAccount, { creator: 405, platform: 50, provider_fee: 45 })
    await subscription.refresh()
    const nextEnd = stripe.subscription(stripeSubscription.id)!.items.data[0].current_period_end
    assert.equal(seconds(subscription.paidThrough), nextEnd)
    const window = await db.from('entitlements').where('subscription_id', subscription.id)
    assert.lengthOf(window, 1)
    assert.equal(window[0].order_id, both[1].id)
    assert.equal(Math.round(window[0].ends_at.getTime() / 1000), nextEnd + GRACE_DAYS * 86400)
    assert.deepEqual(await orders.ledgerMismatches(), [])

    // The renewal's invoice.paid again (a replay), and the same invoice under a new event id: applied once.
    const renewalEvent = stripe.events.find((event) => event.type === 'invoice.paid' && (event.data.object as Invoice).id === invoices[1].id)!
    assert.equal((await stripe.deliver(renewalEvent)).status, 200)
    const again = await stripe.deliver(stripe.event('invoice.paid', invoices[1]))
    assert.equal(again.status, 200)
    assert.include(JSON.parse(again.body).results[0].detail, 'invoice already paid')
    assert.lengthOf(await membershipOrders(viewer.id), 2)
    assert.lengthOf(await db.from('ledger_entries').whereIn('order_id', both.map((order) => order.id)), 6)
    const outcomes = await paymentEventOutcomes()
    assert.isTrue(outcomes.some((row) => row.event_id === renewalEvent.id && row.outcome === 'applied'))
    assert.lengthOf(stripe.failedDeliveries, 0)
  })

  test('a failed renewal: past due, access through the grace period, then the membership ends and the player is told', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const offer = await offerMembership(creatorClient)
    const { user: viewer, client } = await loggedIn('fan')

    // The first month was paid long ago: its grace runs out a few seconds from now.
    const graceEnds = DateTime.now().plus({ seconds: 90 })
    const { clock, subscription, stripeSubscription } = await join(stripe, client, offer, startForPeriodEnd(graceEnds.minus({ days: GRACE_DAYS })))
    const periodEnd = stripeSubscription.items.data[0].current_period_end
    assert.equal(seconds(subscription.paidThrough), periodEnd)
    const opened = await watch(viewer, video)
    assert.equal(seconds(opened.session.accessEndsAt), periodEnd + GRACE_DAYS * 86400)

    // The card is declined at renewal: invoice.payment_failed, past_due, and still watching (grace).
    stripe.setCard(stripeSubscription.customer, TEST_CARDS.declined)
    await stripe.advanceClock(clock.id, periodEnd + 3600)
    await stripe.settled()
    await subscription.refresh()
    assert.equal(subscription.status, 'past_due')
    assert.include(subscription.lastFailure!, 'declined')
    assert.lengthOf(await membershipOrders(viewer.id), 1)
    assert.isTrue((await entitlements.decide(viewer, video)).allowed)
    const page = await client.visit('/library/memberships')
    assert.include(page.text, 'Payment failed')
    // The window is the paid period plus the grace: nothing holds one second after it.
    const graceEnd = DateTime.fromSeconds(periodEnd + GRACE_DAYS * 86400) as DateTime<true>
    assert.isNotNull(await grants.heldFor(viewer.id, video, graceEnd.minus({ seconds: 1 })))
    assert.isNull(await grants.heldFor(viewer.id, video, graceEnd.plus({ seconds: 1 })))

    // Stripe's retries fail too and it cancels the subscription: access ends at the end of the paid period (passed).
    await stripe.advanceClock(clock.id, periodEnd + 8 * 86400)
    await stripe.settled()
    assert.equal(stripe.subscription(stripeSubscription.id)!.status, 'canceled')
    await subscription.refresh()
    assert.equal(subscription.status, 'ended')
    assert.isFalse((await entitlements.decide(viewer, video)).allowed)
    const ended = await PlaybackSession.findOrFail(opened.session.id)
    assert.equal(ended.revokeReason, 'membership_ended')
    assert.lengthOf(await membershipOrders(viewer.id), 1)
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('cancelled from the library: no renewal, access to the end of the paid period, then the player is told', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const offer = await offerMembership(creatorClient)
    const { user: viewer, client } = await loggedIn('fan')
    const { user: stranger, client: strangerClient } = await loggedIn('stranger')

    // The paid month ends a few seconds from now.
    // (Far enough ahead that a slow machine's join and cancel still happen inside it.)
    const monthEnds = DateTime.now().plus({ seconds: 20 })
    const { clock, subscription, stripeSubscription } = await join(stripe, client, offer, startForPeriodEnd(monthEnds))
    const periodEnd = stripeSubscription.items.data[0].current_period_end
    const opened = await watch(viewer, video)
    assert.equal(seconds(opened.session.accessEndsAt), periodEnd + GRACE_DAYS * 86400)

    // Someone else cannot cancel it.
    const forged = await strangerClient.submit('/library', `/library/memberships/${subscription.id}/cancel`, {})
    assert.equal(forged.status, 302)
    await subscription.refresh()
    assert.equal(subscription.status, 'active')
    void stranger

    const cancelled = await client.submit('/library/memberships', `/library/memberships/${subscription.id}/cancel`, {})
    assert.equal(cancelled.status, 302)
    await stripe.settled()
    assert.isTrue(stripe.subscription(stripeSubscription.id)!.cancel_at_period_end)
    await subscription.refresh()
    assert.equal(subscription.status, 'canceled')
    assert.isTrue(subscription.cancelAtPeriodEnd)
    const page = await client.visit('/library/memberships')
    assert.include(page.text, 'Cancelled')
    assert.include(page.text, 'nothing more is charged')
    assert.notInclude(page.text, 'Cancel membership</button>')
    // No grace after a cancellation: the open session now ends with the paid period.
    const shortened = await PlaybackSession.findOrFail(opened.session.id)
    assert.equal(seconds(shortened.accessEndsAt), periodEnd)
    assert.isTrue((await entitlements.decide(viewer, video)).allowed)

    // The paid period runs out: the chore ends the idle session with the reason, and playback is refused.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (periodEnd + 1) * 1000 - Date.now())))
    await playback.endRunOutAccess()
    const ended = await PlaybackSession.findOrFail(opened.session.id)
    assert.equal(ended.revokeReason, 'membership_ended')
    const refused = await watch(viewer, video).catch((error) => error)
    assert.instanceOf(refused, PlaybackError)

    // Stripe deletes it at the period end (test clock): ended, and nothing was billed again.
    await stripe.advanceClock(clock.id, periodEnd + 3600)
    await stripe.settled()
    await subscription.refresh()
    assert.equal(subscription.status, 'ended')
    assert.lengthOf(stripe.invoicesOf(stripeSubscription.id), 1)
    assert.lengthOf(await membershipOrders(viewer.id), 1)
  }).timeout(120_000)

  test('webhooks for an unknown subscription or customer are rejected; a forged signature changes nothing', async ({ assert }) => {
    const { client: creatorClient } = await loggedIn('maker', 'creator')
    const offer = await offerMembership(creatorClient)
    const { user: viewer, client } = await loggedIn('fan')
    const { subscription, stripeSubscription } = await join(stripe, client, offer, DateTime.now())
    const [invoice] = stripe.invoicesOf(stripeSubscription.id)

    // An invoice of a subscription the core never started (no metadata of ours), paid: rejected.
    const stray = structuredClone(invoice)
    stray.id = 'in_stray'
    stray.parent.subscription_details = { metadata: {}, subscription: 'sub_unknown' }
    const strayAnswer = await stripe.deliver(stripe.event('invoice.paid', stray))
    assert.equal(strayAnswer.status, 200)
    assert.equal(JSON.parse(strayAnswer.body).results[0].outcome, 'rejected')
    // Naming our id for another Stripe subscription binds nothing either (ours is bound already).
    stray.parent.subscription_details = { metadata: { matineeSubscriptionId: String(subscription.id) }, subscription: 'sub_other' }
    assert.equal(JSON.parse((await stripe.deliver(stripe.event('invoice.paid', stray))).body).results[0].outcome, 'rejected')
    // Our subscription, another customer: rejected.
    const otherCustomer = structuredClone(invoice)
    otherCustomer.id = 'in_other_customer'
    otherCustomer.customer = 'cus_forged'
    const answer = await stripe.deliver(stripe.event('invoice.paid', otherCustomer))
    assert.equal(JSON.parse(answer.body).results[0].outcome, 'rejected')
    assert.include(JSON.parse(answer.body).results[0].detail, 'cus_forged')
    assert.lengthOf(await membershipOrders(viewer.id), 1)

    // A forged signature: 400, not even recorded.
    const before = (await paymentEventOutcomes()).length
    const forged = structuredClone(invoice)
    forged.id = 'in_forged'
    const refused = await stripe.deliver(stripe.event('invoice.paid', forged), { secret: 'whsec_forged' })
    assert.equal(refused.status, 400)
    assert.lengthOf(await paymentEventOutcomes(), before)
    assert.lengthOf(await membershipOrders(viewer.id), 1)
    assert.lengthOf(await db.from('entitlements').where('user_id', viewer.id), 1)
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('first events racing: an invoice paid and a subscription update at once bind once; one invoice under two event ids at once is one order', async ({ assert }) => {
    const { client: creatorClient } = await loggedIn('maker', 'creator')
    const offer = await offerMembership(creatorClient)
    const { user: viewer } = await loggedIn('fan')
    const subscription = await memberships.subscribe(viewer, offer.id, 'stripe')
    assert.equal(subscription.status, 'incomplete')
    assert.match(subscription.checkoutUrl!, /\/c\/pay\/cs_test_/)
    const now = DateTime.now()
    const ours = { subscriptionReference: 'sub_race', subscriptionId: String(subscription.id), customerReference: 'cus_race' }
    const paidEvent = (eventId: string) => ({
      ...ours,
      eventId,
      type: 'subscription.invoice_paid' as const,
      invoiceReference: 'in_race',
      amount: { amount: 500, currency: 'USD' },
      periodStart: now.toJSDate(),
      periodEnd: now.plus({ months: 1 }).toJSDate(),
    })
    const results = await Promise.all([
      orders.receive('stripe', [paidEvent('evt_race_paid')]),
      orders.receive('stripe', [{ ...ours, eventId: 'evt_race_updated', type: 'subscription.updated', status: 'active', cancelAtPeriodEnd: false, currentPeriodEnd: now.plus({ months: 1 }).toJSDate() }]),
      orders.receive('stripe', [paidEvent('evt_race_paid_again')]),
    ])
    const outcomes = results.flat().map((result) => result.outcome)
    assert.notInclude(outcomes, 'rejected')
    await subscription.refresh()
    assert.equal(subscription.providerSubscriptionRef, 'sub_race')
    assert.equal(subscription.status, 'active')
    assert.lengthOf(await membershipOrders(viewer.id), 1)
    assert.lengthOf(await db.from('entitlements').where('subscription_id', subscription.id), 1)
    assert.deepEqual(await orders.ledgerMismatches(), [])
    // Bad input: another currency, a period that ends before it starts, no invoice: rejected, nothing booked.
    const bad = await orders.receive('stripe', [
      { ...paidEvent('evt_bad_currency'), invoiceReference: 'in_bad_1', amount: { amount: 500, currency: 'EUR' } },
      { ...paidEvent('evt_bad_period'), invoiceReference: 'in_bad_2', periodEnd: now.minus({ days: 1 }).toJSDate() },
      { ...paidEvent('evt_bad_invoice'), invoiceReference: '' },
      { ...paidEvent('evt_bad_amount'), invoiceReference: 'in_bad_3', amount: { amount: 4.5, currency: 'USD' } },
    ])
    assert.deepEqual(bad.map((result) => result.outcome), ['rejected', 'rejected', 'rejected', 'rejected'])
    assert.lengthOf(await membershipOrders(viewer.id), 1)
  })

  test('a storm of membership webhooks (shuffled, duplicated, some forged, 5 at a time): one order per paid invoice, windows on the latest period', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const buyers = await Promise.all(['ana', 'ben', 'cy'].map(async (name) => (await loggedIn(name)).user))
    const storm = await membershipStorm(stripe, { creator, buyers, renewals: 2 })
    assert.lengthOf(storm.invoicePaid, 9)
    const queue = [
      ...storm.events.map((event) => ({ event, forged: false })),
      ...storm.invoicePaid.slice(0, 4).map((event) => ({ event, forged: false })),
      ...storm.invoicePaid.slice(4, 6).map((event) => ({ event, forged: true })),
    ]
    for (let i = queue.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[queue[i], queue[j]] = [queue[j], queue[i]]
    }
    const statuses: number[] = []
    let next = 0
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        while (next < queue.length) {
          const { event, forged } = queue[next++]
          statuses.push((await stripe.deliver(event, forged ? { secret: 'whsec_forger' } : {})).status)
        }
      })
    )
    assert.equal(statuses.filter((status) => status === 400).length, 2)
    assert.equal(statuses.filter((status) => status === 200).length, queue.length - 2)
    assert.deepEqual(await storm.check(), { subscriptions: 3, orders: 9, wrong: 0, doubles: 0 })
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('a membership invoice refunded through the refund service: exact ledger, access ends', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const offer = await offerMembership(creatorClient)
    const { user: viewer, client } = await loggedIn('fan')
    await join(stripe, client, offer, DateTime.now())
    const [order] = await membershipOrders(viewer.id)
    const opened = await watch(viewer, video)

    await (refunds.refund as (actor: User, orderId: string) => Promise<unknown>)(creator, order.id)
    await stripe.settled()
    await order.refresh()
    assert.equal(order.status, 'refunded')
    assert.equal((await ledgerOf(order.id)).sum, 0)
    assert.deepEqual(await orders.ledgerMismatches(), [])
    assert.isFalse((await entitlements.decide(viewer, video)).allowed)
    assert.isNotNull((await PlaybackSession.findOrFail(opened.session.id)).revokedAt)
  })

  test('a membership without a name is titled after its creator, on its page, at Stripe and on its orders', async ({ assert }) => {
    const { client: creatorClient } = await loggedIn('maker', 'creator')
    const saved = await creatorClient.submit('/studio/membership', '/studio/membership', { price: '3.00', currency: 'USD' })
    assert.equal(saved.status, 302)
    const offer = await Offer.query().where({ kind: 'membership', active: true }).firstOrFail()
    assert.isNull(offer.title)
    const { user: viewer, client } = await loggedIn('fan')
    assert.include((await client.visit(`/memberships/${offer.id}`)).text, 'Monthly membership: everything by @maker')
    await join(stripe, client, offer, DateTime.now())
    const created = stripe.requests.find((request) => request.path === '/v1/checkout/sessions')!
    assert.equal(created.params.line_items[0].price_data.product_data.name, 'Monthly membership: everything by @maker')
    const [order] = await membershipOrders(viewer.id)
    assert.equal(order.offerTitle, 'Monthly membership: everything by @maker')
  })

  test('the Stripe plugin maps Billing events: statuses, the period on the invoice line (not the invoice\'s own), one-off invoices ignored', async ({ assert }) => {
    const { client: creatorClient } = await loggedIn('maker', 'creator')
    const offer = await offerMembership(creatorClient)
    const { client } = await loggedIn('fan')
    const { subscription, stripeSubscription } = await join(stripe, client, offer, DateTime.now())
    const provider = plugins.payments.get('stripe')!
    const verified = async (type: string, object: Record<string, unknown>) => {
      const payload = JSON.stringify(stripe.event(type, object))
      return provider.handleWebhook!({ headers: { 'stripe-signature': stripe.sign(payload) }, rawBody: Buffer.from(payload) })
    }
    const statusOf = async (status: string, type = 'customer.subscription.updated') => {
      const [event] = await verified(type, { ...structuredClone(stripeSubscription), status })
      return [event.type, 'status' in event ? event.status : undefined]
    }
    assert.deepEqual(await statusOf('active'), ['subscription.updated', 'active'])
    assert.deepEqual(await statusOf('trialing'), ['subscription.updated', 'active'])
    assert.deepEqual(await statusOf('past_due'), ['subscription.updated', 'past_due'])
    assert.deepEqual(await statusOf('unpaid'), ['subscription.updated', 'past_due'])
    assert.deepEqual(await statusOf('incomplete_expired'), ['subscription.ended', 'ended'])
    assert.deepEqual(await statusOf('canceled'), ['subscription.ended', 'ended'])
    assert.deepEqual(await statusOf('active', 'customer.subscription.deleted'), ['subscription.ended', 'ended'])

    const [invoice] = stripe.invoicesOf(stripeSubscription.id)
    const [paid] = await verified('invoice.paid', invoice as unknown as Record<string, unknown>)
    assert.equal(paid.type, 'subscription.invoice_paid')
    if (paid.type === 'subscription.invoice_paid') {
      assert.equal(paid.subscriptionId, String(subscription.id))
      assert.equal(paid.periodEnd!.getTime() / 1000, invoice.lines.data[0].period.end)
      assert.notEqual(paid.periodEnd!.getTime() / 1000, invoice.period_end)
      assert.deepEqual(paid.amount, { amount: 500, currency: 'USD' })
      assert.match(paid.paymentReference!, /^pi_/)
      assert.deepEqual(paid.providerFee, { amount: 45, currency: 'USD' })
    }
    const oneOff = { ...structuredClone(invoice), parent: null }
    assert.deepEqual(await verified('invoice.paid', oneOff), [])
    assert.deepEqual(await verified('invoice.payment_failed', oneOff), [])
    // A subscription Checkout's completion books nothing itself (its invoice does).
    const completed = stripe.events.find((event) => event.type === 'checkout.session.completed')!
    assert.deepEqual(await verified('checkout.session.completed', completed.data.object), [])
  })

  test('an abandoned membership checkout ends after a day, unlisted; its expiry event books nothing; paid late after all, it starts', async ({ assert }) => {
    const { client: creatorClient } = await loggedIn('maker', 'creator')
    const offer = await offerMembership(creatorClient)
    const { user: viewer, client } = await loggedIn('fan')
    const subscription = await memberships.subscribe(viewer, offer.id, 'stripe')
    // Pressing Join again resumes the same checkout.
    const again = await memberships.subscribe(viewer, offer.id, 'stripe')
    assert.equal(again.id, subscription.id)
    assert.equal(again.checkoutReference, subscription.checkoutReference)
    assert.lengthOf(stripe.requests.filter((request) => request.path === '/v1/checkout/sessions'), 1)
    // Stripe expires the Checkout Session: nothing for the core to book (and nothing recorded as rejected).
    const stripeApi = new (await import('stripe')).default(env.get('STRIPE_SECRET_KEY')!, stripe.sdkConfig)
    await stripeApi.checkout.sessions.expire(subscription.checkoutReference!)
    await stripe.settled()
    assert.lengthOf(stripe.failedDeliveries, 0)
    assert.lengthOf(await paymentEventOutcomes(), 0)

    assert.equal(await memberships.endAbandoned(), 0)
    await Subscription.query().where('id', subscription.id).update({ createdAt: DateTime.now().minus({ hours: 26 }).toSQL() })
    assert.equal(await memberships.endAbandoned(), 1)
    await subscription.refresh()
    assert.equal(subscription.status, 'ended')
    const library = await client.visit('/library/memberships')
    assert.include(library.text, 'You are not a member of anyone yet')

    // Paid after all (its events name it): it binds and starts.
    const now = DateTime.now()
    const [late] = await orders.receive('stripe', [
      {
        eventId: 'evt_late',
        type: 'subscription.invoice_paid',
        subscriptionReference: 'sub_late',
        subscriptionId: String(subscription.id),
        customerReference: 'cus_late',
        invoiceReference: 'in_late',
        amount: { amount: 500, currency: 'USD' },
        periodStart: now.toJSDate(),
        periodEnd: now.plus({ months: 1 }).toJSDate(),
      },
    ])
    assert.equal(late.outcome, 'applied')
    await subscription.refresh()
    assert.equal(subscription.status, 'active')
    assert.lengthOf(await membershipOrders(viewer.id), 1)
    assert.include((await client.visit('/library/memberships')).text, 'Active')
  })

  test('Studio: one membership per creator, bad prices refused; no membership through a provider that cannot bill again', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    for (const price of ['0', '-1', 'abc', '100000']) {
      const refused = await creatorClient.submit('/studio/membership', '/studio/membership', { price, currency: 'USD' })
      assert.equal(refused.status, 302, price)
    }
    assert.lengthOf(await Offer.query().where('kind', 'membership'), 0)
    const offer = await offerMembership(creatorClient, '5.00')
    await offerMembership(creatorClient, '7.50')
    const live = await Offer.query().where({ creatorId: creator.id, kind: 'membership', active: true })
    assert.lengthOf(live, 1)
    assert.equal(live[0].id, offer.id)
    assert.equal(live[0].priceMinor, 750)
    const studio = await creatorClient.visit('/studio/membership')
    assert.include(studio.text, '$7.50 a month')

    const { client } = await loggedIn('fan')
    const viaBank = await client.submit(`/memberships/${offer.id}`, `/memberships/${offer.id}/subscribe`, { provider: 'bank-transfer' })
    assert.equal(viaBank.status, 302)
    assert.lengthOf(await Subscription.all(), 0)
    // Their own membership, and one that is off sale: refused.
    const own = await creatorClient.submit(`/memberships/${offer.id}`, `/memberships/${offer.id}/subscribe`, { provider: 'stripe' })
    assert.equal(own.status, 302)
    assert.equal((await creatorClient.submit('/studio/membership', '/studio/membership/deactivate', {})).status, 302)
    assert.equal((await client.visit(`/memberships/${offer.id}`)).status, 404)
    const offSale = await client.submit('/library', `/memberships/${offer.id}/subscribe`, { provider: 'stripe' })
    assert.equal(offSale.status, 302)
    assert.lengthOf(await Subscription.all(), 0)
    assert.lengthOf(stripe.requests.filter((request) => request.path === '/v1/checkout/sessions'), 0)
  })
})
