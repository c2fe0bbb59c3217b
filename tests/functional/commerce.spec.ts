import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Order from '#models/order'
import User from '#models/user'
import PlaybackSession from '#models/playback_session'
import entitlements from '#services/entitlement_service'
import orders from '#services/order_service'
import plugins from '#services/plugins'
import { resetState } from '#tests/helpers/state'
import { loggedIn } from '#tests/helpers/videos'
import { buyWithStripe, connectStripe, ledgerOf, listedVideo, onlyOrder, paymentEventOutcomes, stripeForGroup } from '#tests/helpers/commerce'
import { WebClient } from '#tests/helpers/web_client'
import type Video from '#models/video'

const buy = buyWithStripe

/** An open playback session row, as the player would have (revocation is what is checked). */
async function openSession(user: User, video: Video) {
  return PlaybackSession.create({
    id: randomUUID(),
    userId: user.id,
    videoId: video.id,
    deviceId: 'test-device',
    userAgent: 'test',
    watermarked: false,
    expiresAt: DateTime.now().plus({ hours: 1 }),
    lastSeenAt: DateTime.now(),
  })
}

async function expectNothingRecorded(assert: any) {
  assert.lengthOf(await paymentEventOutcomes(), 0)
  assert.lengthOf(await db.from('ledger_entries'), 0)
  assert.deepEqual(await orders.ledgerMismatches(), [])
}

test.group('Commerce: buying with Stripe', (group) => {
  const stripe = stripeForGroup(group)

  test('a viewer buys a video: checkout at the price in the database, webhook, ledger that sums exactly', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1000 })
    const { user: viewer, client } = await loggedIn('buyer')

    const page = await client.visit(`/videos/${video.id}`)
    assert.include(page.text, 'Pay $10.00 by card')

    // A forged price in the form is refused outright (issue 17): nothing is ordered.
    const forged = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe', price: '1', amount: '1' })
    assert.equal(forged.status, 302)
    assert.include((await client.visit(forged.location!)).text, 'The price is set by the server')
    assert.equal(await Order.query().count('* as n').first().then((row) => Number(row!.$extras.n)), 0)
    // The session is made from the database.
    const response = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe' })
    assert.equal(response.status, 303)
    const sessionId = response.location!.split('/c/pay/')[1]
    const session = stripe.checkoutSession(sessionId)!
    assert.equal(session.amount_total, 1000)
    assert.equal(session.currency, 'usd')
    const order = await onlyOrder()
    assert.equal(order.status, 'pending')
    assert.equal(session.metadata.orderId, order.id)

    await stripe.pay(sessionId)
    await order.refresh()
    assert.equal(order.status, 'paid')
    assert.isNotNull(order.paymentReference)
    // $10.00: 10% platform fee, Stripe's fee (2.9% + 30¢ = 59¢) out of the creator's share.
    const ledger = await ledgerOf(order.id)
    assert.deepEqual(ledger.byAccount, { creator: 841, platform: 100, provider_fee: 59 })
    assert.equal(ledger.sum, 1000)
    assert.deepEqual(await entitlements.decide(viewer, video), { allowed: true, via: 'purchase' })

    // The success page says so and links to the video; the library lists it with a receipt.
    const done = await client.visit(`/orders/${order.id}/complete?session_id=${sessionId}`)
    assert.include(done.text, 'The video is yours')
    const library = await client.visit('/library')
    assert.include(library.text, 'A film for sale')
    const receipt = await client.visit(`/library/orders/${order.id}`)
    assert.include(receipt.text, '$10.00')
    assert.include(receipt.text, order.paymentReference!)

    // Buying it again is refused and makes no order.
    const again = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe' })
    assert.equal(again.status, 302)
    assert.include((await client.visit(again.location!)).text, 'You already own this video')
    assert.lengthOf(await Order.all(), 1)
  })

  test('IDR has no minor unit in ISO 4217 but two decimals at Stripe: amounts are converted both ways', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 85_000, currency: 'IDR' })
    const { client } = await loggedIn('buyer')
    const sessionId = await buy(client, video)
    assert.equal(stripe.checkoutSession(sessionId)!.amount_total, 8_500_000)
    await stripe.pay(sessionId)
    const order = await onlyOrder()
    assert.equal(order.status, 'paid')
    // Rp 85,000: 10% platform fee; Stripe's fee (2.9% + 30 sen = Rp 2,465.30) rounded to Rp 2,465.
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 74_035, platform: 8_500, provider_fee: 2_465 })
  })

  test('paid twice through a provider that cannot refund (bank transfer): refused, nothing booked, listed for an admin to return by hand', async ({ assert }) => {
    await plugins.settings.get('bank-transfer')!.set({ accountHolder: 'Matinee Films GmbH', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', bankName: 'Commerzbank' })
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1000 })
    const { user: viewer } = await loggedIn('buyer')
    const byTransfer = await orders.checkout(viewer, video.id, 'bank-transfer')
    const byCard = await orders.checkout(viewer, video.id, 'stripe')
    assert.notEqual(byTransfer.id, byCard.id)
    await orders.receive('stripe', [{ eventId: `evt_${randomUUID()}`, type: 'payment.succeeded', orderId: byCard.id, amount: { amount: 1000, currency: 'USD' } }])

    const [late] = await orders.receive('bank-transfer', [{ eventId: `bank-${byTransfer.id}`, type: 'payment.succeeded', orderId: byTransfer.id, amount: { amount: 1000, currency: 'USD' } }])
    assert.equal(late.outcome, 'rejected')
    assert.include(late.detail!, 'return this payment by hand')
    await byTransfer.refresh()
    assert.equal(byTransfer.status, 'pending')
    assert.equal((await ledgerOf(byTransfer.id)).sum, 0)
    // Listed for an admin to settle.
    const { client: admin } = await loggedIn('root', 'admin')
    const page = await admin.get('/admin/orders')
    const listed = page.text.slice(page.text.indexOf('id="unmatched"'))
    assert.include(listed, 'paid twice: the buyer already holds this')
    assert.include(listed, byTransfer.id)
    assert.isTrue((await entitlements.decide(viewer, video)).allowed)
  })

  test('pressing Buy twice resumes the same checkout; a declined card changes nothing', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const { client } = await loggedIn('buyer')
    const first = await buy(client, video)
    const second = await buy(client, video)
    assert.equal(second, first)
    assert.lengthOf(await Order.all(), 1)

    await assert.rejects(() => stripe.pay(first, { card: '4000 0000 0000 0002' }), /declined/)
    assert.equal((await onlyOrder()).status, 'pending')
    await expectNothingRecorded(assert)
  })

  test('bad webhooks are refused with 400 and change nothing: forged, stale, altered, unsigned', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const { client } = await loggedIn('buyer')
    const sessionId = await buy(client, video)
    const session = stripe.checkoutSession(sessionId)!
    const paid = { ...session, status: 'complete', payment_status: 'paid' }
    const event = stripe.event('checkout.session.completed', paid)

    const forged = await stripe.deliver(event, { secret: 'whsec_someone_else' })
    assert.equal(forged.status, 400)
    assert.include(forged.body, 'invalid_webhook')

    const stale = await stripe.deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 3600 })
    assert.equal(stale.status, 400)
    assert.match(stale.body, /tolerance/i)

    // Signed, then altered (the amount lowered) on the way.
    const payload = JSON.stringify(event, null, 2)
    const header = stripe.sign(payload)
    const altered = await fetch(stripe.webhookUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: payload.replace('"amount_total": 1000', '"amount_total": 1'),
    })
    assert.equal(altered.status, 400)

    const unsigned = await fetch(stripe.webhookUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload })
    assert.equal(unsigned.status, 400)

    assert.equal((await onlyOrder()).status, 'pending')
    await expectNothingRecorded(assert)
  })

  test('the same event delivered 5 times is applied once', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const { client } = await loggedIn('buyer')
    const sessionId = await buy(client, video)
    const event = await stripe.pay(sessionId)
    const answers = await Promise.all([1, 2, 3, 4].map(() => stripe.deliver(event)))
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200])

    const outcomes = await paymentEventOutcomes()
    assert.lengthOf(outcomes, 1)
    assert.equal(outcomes[0].outcome, 'applied')
    const order = await onlyOrder()
    assert.equal(order.status, 'paid')
    assert.equal((await ledgerOf(order.id)).sum, 1000)
    assert.lengthOf(await db.from('ledger_entries').where('kind', 'payment'), 3)
  })

  test('a refund that arrives before its payment waits for it; the ledger ends at zero', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const { user: viewer, client } = await loggedIn('buyer')
    const sessionId = await buy(client, video)
    const order = await onlyOrder()
    const session = stripe.checkoutSession(sessionId)!
    const refunded = stripe.event('charge.refunded', {
      id: 'ch_early',
      object: 'charge',
      amount: 1000,
      amount_refunded: 1000,
      refunded: true,
      currency: 'usd',
      payment_intent: 'pi_early',
      metadata: { orderId: order.id },
    })
    assert.equal((await stripe.deliver(refunded)).status, 200)
    assert.equal((await paymentEventOutcomes())[0].outcome, 'deferred')
    await order.refresh()
    assert.equal(order.status, 'pending')

    const completed = stripe.event('checkout.session.completed', { ...session, status: 'complete', payment_status: 'paid', payment_intent: 'pi_early' })
    assert.equal((await stripe.deliver(completed)).status, 200)
    await order.refresh()
    assert.equal(order.status, 'refunded')
    assert.equal((await ledgerOf(order.id)).sum, 0)
    assert.deepEqual((await paymentEventOutcomes()).map((e) => e.outcome), ['applied', 'applied'])
    assert.isFalse((await entitlements.decide(viewer, video)).allowed)
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('an amount or a currency that does not match the order is rejected and grants nothing', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const { user: viewer, client } = await loggedIn('buyer')
    const session = stripe.checkoutSession(await buy(client, video))!

    const cheaper = stripe.event('checkout.session.completed', { ...session, status: 'complete', payment_status: 'paid', amount_total: 100 })
    const euros = stripe.event('checkout.session.completed', { ...session, status: 'complete', payment_status: 'paid', currency: 'eur' })
    assert.equal((await stripe.deliver(cheaper)).status, 200)
    assert.equal((await stripe.deliver(euros)).status, 200)

    const outcomes = await paymentEventOutcomes()
    assert.deepEqual(outcomes.map((e) => e.outcome), ['rejected', 'rejected'])
    assert.include(outcomes[0].detail, 'does not match the order')
    assert.equal((await onlyOrder()).status, 'pending')
    assert.lengthOf(await db.from('ledger_entries'), 0)
    assert.isFalse((await entitlements.decide(viewer, video)).allowed)
  })

  test('delayed payments: paid when the async success arrives, failed otherwise; expiry ends a checkout', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const first = await listedVideo(creator, { title: 'First' })
    const second = await listedVideo(creator, { title: 'Second' })
    const third = await listedVideo(creator, { title: 'Third' })
    const { client } = await loggedIn('buyer')

    const slow = await buy(client, first)
    await stripe.pay(slow, { card: '4000 0000 0000 3220' })
    const slowOrder = (await Order.findBy('videoId', first.id))!
    assert.equal(slowOrder.status, 'pending')
    await stripe.succeedAsync(slow)
    await slowOrder.refresh()
    assert.equal(slowOrder.status, 'paid')

    const failing = await buy(client, second)
    await stripe.pay(failing, { card: '4000 0000 0000 3220' })
    await stripe.failAsync(failing)
    assert.equal((await Order.findBy('videoId', second.id))!.status, 'failed')

    const abandoned = await buy(client, third)
    await stripe.settled()
    const expire = await fetch(`${stripe.url}/v1/checkout/sessions/${abandoned}/expire`, {
      method: 'POST',
      headers: { authorization: `Bearer sk_test_matinee_stand_in` },
    })
    assert.equal(expire.status, 200)
    await stripe.settled()
    assert.equal((await Order.findBy('videoId', third.id))!.status, 'expired')
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('what cannot be bought is refused: a draft, one\'s own video, an unknown provider, a banned buyer', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const draft = await listedVideo(creator, { visibility: 'draft' })
    const { user: viewer, client } = await loggedIn('buyer')

    const draftAttempt = await client.api('POST', `/videos/${draft.id}/checkout`, { provider: 'stripe' })
    assert.equal(draftAttempt.status, 404)
    assert.equal(draftAttempt.body.error, 'not_for_sale')

    const own = await creatorClient.api('POST', `/videos/${video.id}/checkout`, { provider: 'stripe' })
    assert.equal(own.status, 409)
    assert.equal(own.body.error, 'own_video')

    const unknown = await client.api('POST', `/videos/${video.id}/checkout`, { provider: 'paypal' })
    assert.equal(unknown.status, 422)
    const forgedId = await client.api('POST', `/videos/not-a-uuid/checkout`, { provider: 'stripe' })
    assert.equal(forgedId.status, 404)

    viewer.bannedAt = DateTime.now()
    await viewer.save()
    // A ban logs the user out on their next request: they are a guest now.
    const banned = await client.api('POST', `/videos/${video.id}/checkout`, { provider: 'stripe' })
    assert.equal(banned.status, 401)
    // And the rule itself holds wherever a checkout starts.
    const refused = await orders.checkout(viewer, video.id, 'stripe').catch((error) => error)
    assert.equal(refused.code, 'account_banned')
    assert.equal(refused.status, 403)

    assert.lengthOf(await Order.all(), 0)
    assert.lengthOf(stripe.requests.filter((r) => r.path === '/v1/checkout/sessions'), 0)
  })

  test('the creator refunds: through the Stripe API, reversing ledger lines, access and sessions end', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const { user: viewer, client } = await loggedIn('buyer')
    await stripe.pay(await buy(client, video))
    const order = await onlyOrder()
    const session = await openSession(viewer, video)

    const sales = await creatorClient.visit('/studio/sales')
    assert.include(sales.text, 'buyer')
    assert.include(sales.text, '$8.41')
    const refund = await creatorClient.submit('/studio/sales', `/studio/orders/${order.id}/refund`, {})
    assert.equal(refund.location, '/studio/sales')
    await stripe.settled()

    await order.refresh()
    assert.equal(order.status, 'refunded')
    assert.equal(order.refundedBy, creator.id)
    assert.lengthOf(stripe.refunds, 1)
    assert.equal(stripe.refunds[0].amount, 1000)
    const ledger = await ledgerOf(order.id)
    assert.equal(ledger.sum, 0)
    // The creator gives back their share; Stripe keeps its fee, which the platform bears.
    assert.deepEqual(ledger.byAccount, { creator: 0, platform: -59, provider_fee: 59 })
    await session.refresh()
    assert.equal(session.revokeReason, 'refund')
    assert.isFalse((await entitlements.decide(viewer, video)).allowed)
    // Stripe's own charge.refunded arrived afterwards and changed nothing.
    const outcomes = await paymentEventOutcomes()
    assert.deepEqual(outcomes.map((e) => [e.type, e.outcome]), [
      ['payment.succeeded', 'applied'],
      ['payment.refunded', 'ignored'],
    ])
    const log = await db.from('audit_logs').where('action', 'order.refund')
    assert.lengthOf(log, 1)
    assert.equal(log[0].actor_id, creator.id)

    // Refunding again, or someone else's order, is refused.
    const again = await creatorClient.api('POST', `/studio/orders/${order.id}/refund`)
    assert.equal(again.status, 409)
    const { client: otherCreator } = await loggedIn('other', 'creator')
    const stranger = await otherCreator.api('POST', `/studio/orders/${order.id}/refund`)
    assert.equal(stranger.status, 403)
    assert.lengthOf(stripe.refunds, 1)
  })

  test('a refund Stripe refuses changes nothing here', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const { client } = await loggedIn('buyer')
    await stripe.pay(await buy(client, video))
    const order = await onlyOrder()
    const { user: admin, client: adminClient } = await loggedIn('boss', 'admin')
    order.paymentReference = 'pi_unknown'
    await order.save()
    const answer = await adminClient.api('POST', `/studio/orders/${order.id}/refund`)
    assert.equal(answer.status, 502)
    assert.include(answer.body.message, 'refused the refund')
    await order.refresh()
    assert.equal(order.status, 'paid')
    assert.equal((await ledgerOf(order.id)).sum, 1000)
    assert.exists(admin)
  })

  test('a creator with a connected Stripe account is paid directly, minus the application fee', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const back = await connectStripe(creatorClient)
    assert.include(back.text, 'receives card sales directly')

    const video = await listedVideo(creator)
    const { client } = await loggedIn('buyer')
    const sessionId = await buy(client, video)
    const order = await onlyOrder()
    assert.equal(order.creatorPayout, 'direct')
    const request = stripe.requests.find((r) => r.path === '/v1/checkout/sessions')!
    assert.equal(request.params.payment_intent_data.application_fee_amount, '100')
    assert.equal(request.params.payment_intent_data.transfer_data.destination, order.payoutAccount)

    await stripe.pay(sessionId)
    // Destination charge: the creator got 900; Stripe's fee came out of the platform's 100.
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 900, platform: 41, provider_fee: 59 })
  })
})

test.group('Commerce: prices', (group) => {
  group.each.setup(() => resetState())

  test('a price that is negative, too precise, above the cap or in an unsupported currency is refused', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 500 })
    const page = `/studio/videos/${video.id}/edit`
    const attempts: Array<[Record<string, string>, string]> = [
      [{ price: '-1', currency: 'USD' }, 'cannot be negative'],
      [{ price: '4.999', currency: 'USD' }, 'Enter a price like 4.99'],
      [{ price: '1000.01', currency: 'USD' }, 'cannot be more than $1,000.00'],
      [{ price: '17000001', currency: 'IDR' }, 'cannot be more than'],
      [{ price: '5', currency: 'XYZ' }, 'Choose one of the options for currency'],
    ]
    for (const [fields, message] of attempts) {
      const response = await client.submit(page, page.replace('/edit', ''), { title: 'Still', visibility: 'published', ...fields })
      assert.equal(response.status, 302)
      assert.include((await client.visit(response.location!)).text, message, JSON.stringify(fields))
    }
    await video.refresh()
    assert.equal(video.priceMinor, 500)
    assert.equal(video.currency, 'USD')
    assert.equal(video.title, 'A film for sale')

    const accepted = await client.submit(page, page.replace('/edit', ''), { title: 'Now in rupiah', visibility: 'published', price: '85000', currency: 'IDR' })
    assert.equal(accepted.status, 302)
    await video.refresh()
    // IDR has no minor unit in ISO 4217: 85,000 rupiah is stored as 85000.
    assert.equal(video.priceMinor, 85_000)
    assert.equal(video.currency, 'IDR')
  })

  test('prices show in the viewer\'s currency, marked approximate; the charge stays in the video\'s', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 499 })
    const { client } = await loggedIn('buyer')

    const indonesian = await client.request('GET', `/videos/${video.id}`, undefined, { 'accept-language': 'id-ID,id;q=0.9' })
    assert.include(indonesian.text, '$4.99')
    assert.match(indonesian.text, /≈ IDR\s?84,830, approximate; you are charged in USD/)

    // An explicit choice wins over the browser's language.
    const chosen = await client.request('GET', `/currency?code=EUR&return_to=/videos/${video.id}`)
    assert.equal(chosen.status, 302)
    assert.equal(chosen.location, `/videos/${video.id}`)
    const elsewhere = await client.request('GET', '/currency?code=EUR&return_to=//evil.example/x')
    assert.equal(elsewhere.location, '/')
    const euros = await client.request('GET', `/videos/${video.id}`, undefined, { 'accept-language': 'id-ID' })
    assert.match(euros.text, /≈ €4\.59, approximate/)

    const english = await new WebClient().request('GET', `/videos/${video.id}`, undefined, { 'accept-language': 'en-US' })
    assert.notInclude(english.text, '≈')
  })
})

test.group('Commerce: allowlists', (group) => {
  group.each.setup(() => resetState())

  test('a creator gives a friend free access by username; a rename keeps it; removing it ends their sessions', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const { user: friend } = await loggedIn('friend')
    const page = `/studio/videos/${video.id}/access`

    const granted = await client.submit(page, page, { user: 'FRIEND' })
    assert.equal(granted.location, page)
    assert.include((await client.visit(page)).text, 'friend')
    assert.deepEqual(await entitlements.decide(friend, video), { allowed: true, via: 'allowlist' })

    friend.username = 'friend_renamed'
    await friend.save()
    assert.deepEqual(await entitlements.decide(friend, video), { allowed: true, via: 'allowlist' })

    const session = await openSession(friend, video)
    const removed = await client.submit(page, `${page}/${friend.id}/delete`, {})
    assert.equal(removed.location, page)
    assert.isFalse((await entitlements.decide(friend, video)).allowed)
    await session.refresh()
    assert.equal(session.revokeReason, 'revoked')

    const log = await db.from('audit_logs').orderBy('id').select('action', 'actor_id', 'target_user_id')
    assert.deepEqual(log, [
      { action: 'allowlist.grant', actor_id: creator.id, target_user_id: friend.id },
      { action: 'allowlist.revoke', actor_id: creator.id, target_user_id: friend.id },
    ])
  })

  test('allowlisting by email works; oneself, the owner, a banned or unknown user are refused', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    await loggedIn('pal')
    const { user: banned } = await loggedIn('troll')
    banned.bannedAt = DateTime.now()
    await banned.save()
    const page = `/studio/videos/${video.id}/access`

    const refusals: Array<[string, string]> = [
      ['maker', 'cannot add yourself'],
      ['troll', 'is banned'],
      ['nobody', 'No account has the username “nobody”'],
      ['ghost@example.com', 'No account has the email “ghost@example.com”'],
      ['', 'Enter a username or an email address'],
    ]
    for (const [user, message] of refusals) {
      const response = await client.submit(page, page, { user })
      assert.include((await client.visit(response.location!)).text, message, user)
    }
    assert.lengthOf(await db.from('allowlist_entries'), 0)

    await client.submit(page, page, { user: 'PAL@example.com' })
    assert.lengthOf(await db.from('allowlist_entries'), 1)
    const twice = await client.api('POST', page, { user: 'pal' })
    assert.equal(twice.status, 409)

    // An admin manages any video's list; another creator cannot see it.
    const { client: admin } = await loggedIn('boss', 'admin')
    assert.equal((await admin.visit(page)).status, 200)
    assert.include((await admin.visit('/admin/allowlists')).text, 'pal')
    assert.include((await admin.visit('/admin/audit?q=pal')).text, 'allowlist.grant')
    const { client: other } = await loggedIn('other', 'creator')
    assert.equal((await other.request('GET', page)).status, 404)
    const sneaky = await other.api('POST', page, { user: 'other' })
    assert.equal(sneaky.status, 404)
    assert.lengthOf(await db.from('allowlist_entries'), 1)
  })
})

test.group('Commerce: admin pages', (group) => {
  group.each.setup(() => resetState())

  test('admins see orders, allowlists, the audit log and plugin health; others get 403', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const { user: viewer } = await loggedIn('buyer')
    const video = await listedVideo(creator, { title: 'Sold once' })
    await Order.create({
      id: randomUUID(), videoId: video.id, buyerId: viewer.id, creatorId: creator.id, provider: 'stripe', status: 'pending',
      amountMinor: 1000, currency: 'USD', platformFeeBps: 1000, platformFeeMinor: 100, creatorPayout: 'owed',
      expiresAt: DateTime.now().plus({ hours: 1 }),
    })
    const { client: admin } = await loggedIn('boss', 'admin')

    const list = await admin.visit('/admin/orders?status=pending&provider=stripe')
    assert.include(list.text, 'Sold once')
    assert.notInclude((await admin.visit('/admin/orders?status=paid')).text, 'Sold once')
    const bad = await admin.request('GET', '/admin/orders?status=stolen')
    assert.equal(bad.status, 302)

    const health = await admin.visit('/admin/plugins')
    // "On (...)", or the last failed Stripe call when an earlier test made one fail.
    assert.match(health.text, /data-plugin="stripe"[\s\S]*?data-plugin-health="(ok|off)">\s*(✔ On \(|✘ Stripe call failed)/)
    assert.include(health.text, 'Card (Stripe)')
    assert.equal((await admin.visit('/admin/audit')).status, 200)

    for (const role of ['viewer', 'creator'] as const) {
      const { client } = await loggedIn(`not_admin_${role}`, role)
      for (const path of ['/admin/orders', '/admin/allowlists', '/admin/audit', '/admin/plugins']) {
        assert.equal((await client.request('GET', path)).status, 403, `${role} ${path}`)
      }
    }
  })
})
