import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Order from '#models/order'
import User from '#models/user'
import Coupon from '#models/coupon'
import Offer from '#models/offer'
import orders from '#services/order_service'
import coupons from '#services/commerce/coupons'
import entitlements from '#services/entitlement_service'
import { loggedIn } from '#tests/helpers/videos'
import { ledgerOf, listedVideo, stripeForGroup } from '#tests/helpers/commerce'

/*
 * Coupons (issue 17, item 4). PLATFORM_FEE_BPS=1000 (.env.test): the
 * platform's fee on a $10.00 sale is 100. Payments are delivered as verified
 * events without a provider fee, so the ledger's integers are exact.
 */

async function user(username: string, role: 'viewer' | 'creator' | 'admin' = 'viewer') {
  return User.create({ username, email: `${username}@example.com`, password: 'correct horse battery', role })
}

async function pay(order: Order) {
  await orders.receive('stripe', [
    { eventId: `evt_${randomUUID()}`, type: 'payment.succeeded', orderId: order.id, amount: { amount: order.amountMinor, currency: order.currency } },
  ])
  await order.refresh()
  return order
}

function ledgerLines(rows: Array<{ account: string; kind: string; amount_minor: unknown }>) {
  return rows.map((row) => [row.kind, row.account, Number(row.amount_minor)]).sort()
}

test.group('Coupons: prices and who bears the discount', (group) => {
  const stripe = stripeForGroup(group)

  test('a creator’s 25 % coupon: the buyer pays 750, the creator’s share bears the discount (creator 650, platform 100)', async ({ assert }) => {
    const creator = await user('maker', 'creator')
    const buyer = await user('fan')
    const video = await listedVideo(creator, { priceMinor: 1000 })
    await coupons.create(creator, { code: 'Launch25', percentOff: 25 }, { platform: false })

    // Codes are case-insensitive.
    const order = await orders.checkout(buyer, video.id, 'stripe', { coupon: ' launch25 ' })
    assert.equal(order.amountMinor, 750)
    assert.equal(order.listPriceMinor, 1000)
    assert.equal(order.discountMinor, 250)
    assert.equal(order.platformFeeMinor, 100)
    // The provider was asked for the discounted price.
    assert.equal(stripe.requests.find((r) => r.path === '/v1/checkout/sessions')!.params.line_items[0].price_data.unit_amount, '750')

    await pay(order)
    assert.equal(order.status, 'paid')
    assert.deepEqual(ledgerLines((await ledgerOf(order.id)).rows), [
      ['payment', 'creator', 650],
      ['payment', 'platform', 100],
    ])
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('a platform coupon comes out of the platform’s fee first: 5 % → platform 50, creator 900; 25 % → platform 0, creator 750', async ({ assert }) => {
    const admin = await user('boss', 'admin')
    const creator = await user('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1000 })
    await coupons.create(admin, { code: 'FIVE', percentOff: 5 }, { platform: true })
    await coupons.create(admin, { code: 'QUARTER', amountOffMinor: 250, currency: 'usd' }, { platform: true })

    const first = await pay(await orders.checkout(await user('fan1'), video.id, 'stripe', { coupon: 'five' }))
    assert.equal(first.amountMinor, 950)
    assert.deepEqual(ledgerLines((await ledgerOf(first.id)).rows), [
      ['payment', 'creator', 900],
      ['payment', 'platform', 50],
    ])
    const second = await pay(await orders.checkout(await user('fan2'), video.id, 'stripe', { coupon: 'QUARTER' }))
    assert.equal(second.amountMinor, 750)
    assert.equal(second.discountMinor, 250)
    assert.deepEqual(ledgerLines((await ledgerOf(second.id)).rows), [
      ['payment', 'creator', 750],
      ['payment', 'platform', 0],
    ])
    assert.deepEqual(await orders.ledgerMismatches(), [])
    // Making a platform coupon is audited.
    const audited = await db.from('audit_logs').where('action', 'coupon.create').count('* as n')
    assert.equal(Number(audited[0].n), 2)
  })

  test('a 100 % coupon grants without a provider: an order paid at 0 by the core, ledger lines of 0, access at once', async ({ assert }) => {
    const creator = await user('maker', 'creator')
    const buyer = await user('fan')
    const video = await listedVideo(creator, { priceMinor: 1000 })
    await coupons.create(creator, { code: 'PRESS', percentOff: 100, maxUses: 5 }, { platform: false })

    const order = await orders.checkout(buyer, video.id, 'stripe', { coupon: 'press' })
    assert.equal(order.status, 'paid')
    assert.equal(order.provider, 'coupon')
    assert.equal(order.amountMinor, 0)
    assert.equal(order.listPriceMinor, 1000)
    assert.equal(order.discountMinor, 1000)
    assert.isEmpty(stripe.requests.filter((r) => r.path === '/v1/checkout/sessions'))
    assert.deepEqual(ledgerLines((await ledgerOf(order.id)).rows), [
      ['payment', 'creator', 0],
      ['payment', 'platform', 0],
    ])
    assert.isTrue((await entitlements.decide(buyer, video)).allowed)
    assert.deepEqual(await orders.ledgerMismatches(), [])
    // A second try is refused: the video is owned.
    await assert.rejects(() => orders.checkout(buyer, video.id, 'stripe', { coupon: 'press' }), /already own/)
  })
})

test.group('Coupons: bad input changes nothing', (group) => {
  stripeForGroup(group)

  async function expectRefused(assert: any, promise: Promise<unknown>, code: string) {
    try {
      await promise
      assert.fail(`expected ${code}`)
    } catch (error: any) {
      assert.equal(error.code, code, error.message)
    }
  }

  test('over 100 %, zero, both kinds, a past expiry, another creator’s offer: the coupon is not made', async ({ assert }) => {
    const creator = await user('maker', 'creator')
    const other = await user('rival', 'creator')
    const theirs = await listedVideo(other)
    await expectRefused(assert, coupons.create(creator, { code: 'TOO-MUCH', percentOff: 101 }, { platform: false }), 'invalid_percent')
    await expectRefused(assert, coupons.create(creator, { code: 'NONE', percentOff: 0 }, { platform: false }), 'invalid_percent')
    await expectRefused(assert, coupons.create(creator, { code: 'BOTH', percentOff: 10, amountOffMinor: 100, currency: 'USD' }, { platform: false }), 'invalid_discount')
    await expectRefused(assert, coupons.create(creator, { code: 'OLD', percentOff: 10, expiresAt: DateTime.now().minus({ days: 1 }) }, { platform: false }), 'invalid_expiry')
    await expectRefused(assert, coupons.create(creator, { code: 'THEIRS', percentOff: 10, videoIds: [theirs.id] }, { platform: false }), 'invalid_target')
    await expectRefused(assert, coupons.create(creator, { code: 'a b', percentOff: 10 }, { platform: false }), 'invalid_code')
    await coupons.create(creator, { code: 'ONCE', percentOff: 10 }, { platform: false })
    await expectRefused(assert, coupons.create(creator, { code: 'once', percentOff: 20 }, { platform: false }), 'code_taken')
    assert.equal((await Coupon.all()).length, 1)
  })

  test('expired, used up, per-viewer limit, another creator’s, not for this offer, applied twice: a clear refusal and no order', async ({ assert }) => {
    const creator = await user('maker', 'creator')
    const other = await user('rival', 'creator')
    const buyer = await user('fan')
    const video = await listedVideo(creator)
    const second = await listedVideo(creator, { title: 'Another' })
    const theirs = await listedVideo(other)

    const expiring = await coupons.create(creator, { code: 'SOON', percentOff: 10 }, { platform: false })
    await Coupon.query().where('id', expiring.id).update({ expiresAt: DateTime.now().minus({ minutes: 1 }).toSQL() })
    await expectRefused(assert, orders.checkout(buyer, video.id, 'stripe', { coupon: 'SOON' }), 'coupon_expired')

    await coupons.create(other, { code: 'RIVAL', percentOff: 10 }, { platform: false })
    await expectRefused(assert, orders.checkout(buyer, video.id, 'stripe', { coupon: 'rival' }), 'coupon_other_creator')
    await expectRefused(assert, orders.checkout(buyer, video.id, 'stripe', { coupon: 'NOPE123' }), 'coupon_unknown')

    await coupons.create(creator, { code: 'ONLY-SECOND', percentOff: 10, videoIds: [second.id] }, { platform: false })
    await expectRefused(assert, orders.checkout(buyer, video.id, 'stripe', { coupon: 'only-second' }), 'coupon_not_applicable')

    await coupons.create(creator, { code: 'EUROS', amountOffMinor: 100, currency: 'EUR' }, { platform: false })
    await expectRefused(assert, orders.checkout(buyer, video.id, 'stripe', { coupon: 'euros' }), 'coupon_currency')

    await coupons.create(creator, { code: 'ONE-EACH', percentOff: 10, maxUsesPerViewer: 1 }, { platform: false })
    await expectRefused(assert, orders.checkout(buyer, video.id, 'stripe', { coupon: 'ONE-EACH,ONE-EACH' }), 'one_coupon')
    await pay(await orders.checkout(buyer, video.id, 'stripe', { coupon: 'one-each' }))
    await expectRefused(assert, orders.checkout(buyer, second.id, 'stripe', { coupon: 'one-each' }), 'coupon_already_used')

    await coupons.create(creator, { code: 'SINGLE', percentOff: 10, maxUses: 1 }, { platform: false })
    await pay(await orders.checkout(await user('early'), second.id, 'stripe', { coupon: 'single' }))
    await expectRefused(assert, orders.checkout(buyer, second.id, 'stripe', { coupon: 'single' }), 'coupon_used_up')

    // Only the one paid order with ONE-EACH and SINGLE's exist; nothing for the refusals.
    assert.equal(await Order.query().count('* as n').then((r) => Number(r[0].$extras.n)), 2)
    assert.isFalse((await entitlements.decide(buyer, theirs)).allowed)
  })

  test('the form may not carry an amount: a forged price is refused with a clear message, nothing is ordered', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const { client } = await loggedIn('fan')
    const video = await listedVideo(creator, { priceMinor: 1000 })
    await coupons.create(creator, { code: 'TENOFF', percentOff: 10 }, { platform: false })

    const forged = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe', coupon: 'TENOFF', amount: '1' })
    assert.equal(forged.status, 302)
    const page = await client.visit(forged.location!)
    assert.include(page.text, 'The price is set by the server')
    assert.lengthOf(await Order.all(), 0)

    const bad = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe', coupon: 'WRONG-CODE' })
    assert.include((await client.visit(bad.location!)).text, 'There is no coupon “WRONG-CODE”')
    assert.lengthOf(await Order.all(), 0)

    // The video page shows what the coupon does before anyone pays, or why it does not apply.
    const preview = await client.visit(`/videos/${video.id}?coupon=tenoff`)
    assert.match(preview.text, /data-coupon-price>\$9\.00</)
    assert.include(preview.text, 'name="coupon" value="tenoff"')
    const refused = await client.visit(`/videos/${video.id}?coupon=NOPE-CODE`)
    assert.include(refused.text, 'There is no coupon “NOPE-CODE”')
    assert.notInclude(refused.text, 'data-coupon-price')

    const good = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe', coupon: 'tenoff' })
    assert.equal(good.status, 303)
    const order = (await Order.all())[0]
    assert.equal(order.amountMinor, 900)
  })
})

test.group('Coupons: counting uses', (group) => {
  stripeForGroup(group)

  test('two checkouts racing for the last use: one gets it, the other is refused; an expired checkout frees its use', async ({ assert }) => {
    const creator = await user('maker', 'creator')
    const video = await listedVideo(creator)
    await coupons.create(creator, { code: 'LAST', percentOff: 50, maxUses: 1 }, { platform: false })
    const buyers = await Promise.all(Array.from({ length: 6 }, (_, i) => user(`racer${i}`)))

    const results = await Promise.allSettled(buyers.map((buyer) => orders.checkout(buyer, video.id, 'stripe', { coupon: 'last' })))
    const won = results.filter((r) => r.status === 'fulfilled')
    assert.lengthOf(won, 1)
    for (const lost of results.filter((r) => r.status === 'rejected')) assert.equal((lost as PromiseRejectedResult).reason.code, 'coupon_used_up')
    assert.equal(Number((await db.from('coupon_redemptions').count('* as n'))[0].n), 1)

    // The winner never paid and the checkout expired: the use is free again.
    const order = (won[0] as PromiseFulfilledResult<Order>).value
    await Order.query().where('id', order.id).update({ expiresAt: DateTime.now().minus({ minutes: 1 }).toSQL() })
    await orders.expireStale()
    const next = await orders.checkout(buyers[1], video.id, 'stripe', { coupon: 'LAST' })
    assert.equal(next.amountMinor, 500)
    await pay(next)

    const [listed] = await coupons.listWithUses(creator.id)
    assert.equal(listed.paidUses, 1)
    assert.equal(listed.state, 'used up')
    assert.deepEqual(listed.discounts, ['$5.00'])
  })

  test('pressing Buy twice with the same coupon resumes the checkout and counts one use', async ({ assert }) => {
    const creator = await user('maker', 'creator')
    const buyer = await user('fan')
    const video = await listedVideo(creator)
    await coupons.create(creator, { code: 'TWICE', percentOff: 20, maxUsesPerViewer: 1 }, { platform: false })
    const first = await orders.checkout(buyer, video.id, 'stripe', { coupon: 'twice' })
    const again = await orders.checkout(buyer, video.id, 'stripe', { coupon: 'TWICE' })
    assert.equal(again.id, first.id)
    assert.equal(Number((await db.from('coupon_redemptions').count('* as n'))[0].n), 1)
  })
})

test.group('Coupons: the Studio and Admin pages', (group) => {
  stripeForGroup(group)

  test('a creator makes coupons in the Studio, bad ones are refused with a message, ends one; an admin makes a platform coupon (audited); others are refused', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const made = await client.submit('/studio/coupons', '/studio/coupons', {
      'code': 'Launch',
      'discount_type': 'amount',
      'value': '2.50',
      'currency': 'USD',
      'max_uses': '10',
      'max_uses_per_viewer': '1',
      'expires_on': DateTime.now().plus({ days: 7 }).toISODate()!,
      'videos[]': video.id,
    })
    assert.equal(made.location, '/studio/coupons')
    const coupon = await Coupon.findByOrFail('code', 'Launch')
    assert.deepEqual([coupon.amountOffMinor, coupon.currency, coupon.maxUses, coupon.maxUsesPerViewer, coupon.appliesTo], [250, 'USD', 10, 1, 'chosen'])
    assert.equal(coupon.expiresAt!.toUTC().toISODate(), DateTime.now().plus({ days: 7 }).toUTC().toISODate())

    for (const [fields, message] of [
      [{ code: 'BIG', discount_type: 'percent', value: '150' }, 'A percentage off is a whole number from 1 to 100'],
      [{ code: 'FRAC', discount_type: 'amount', value: '2.505', currency: 'USD' }, 'Enter the amount off in USD, like 5.00'],
      [{ code: 'launch', discount_type: 'percent', value: '10' }, 'You already have a coupon “Launch”'],
    ] as const) {
      const refused = await client.submit('/studio/coupons', '/studio/coupons', fields as any)
      assert.equal(refused.status, 302)
      assert.include((await client.visit('/studio/coupons')).text, message)
    }
    assert.lengthOf(await Coupon.all(), 1)

    const page = await client.visit('/studio/coupons')
    assert.include(page.text, 'data-coupon-row="Launch"')
    await client.submit('/studio/coupons', `/studio/coupons/${coupon.id}/deactivate`, {})
    await coupon.refresh()
    assert.isFalse(coupon.active)

    // A creator cannot reach the platform's coupons, nor end another's.
    assert.equal((await client.get('/admin/coupons')).status, 403)
    const { client: adminClient } = await loggedIn('boss', 'admin')
    await adminClient.submit('/admin/coupons', '/admin/coupons', { code: 'WELCOME', discount_type: 'percent', value: '15' })
    const platform = await Coupon.findByOrFail('code', 'WELCOME')
    assert.isNull(platform.creatorId)
    const { client: rivalClient } = await loggedIn('rival', 'creator')
    const forged = await rivalClient.submit('/studio/coupons', `/studio/coupons/${platform.id}/deactivate`, {})
    assert.equal(forged.status, 302)
    await platform.refresh()
    assert.isTrue(platform.active)
    await adminClient.submit('/admin/coupons', `/admin/coupons/${platform.id}/deactivate`, {})
    await platform.refresh()
    assert.isFalse(platform.active)
    const audited = await db.from('audit_logs').whereIn('action', ['coupon.create', 'coupon.deactivate']).orderBy('id').select('action')
    assert.deepEqual(audited.map((row) => row.action), ['coupon.create', 'coupon.deactivate'])
  })
})

test.group('Coupons: offers', (group) => {
  stripeForGroup(group)

  test('a coupon chosen for a rental works at the offer checkout (POST /offers/:id/checkout); a 100 % coupon on a bundle opens all its videos', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const { user: buyer, client } = await loggedIn('fan')
    const video = await listedVideo(creator, { priceMinor: 1000 })
    const second = await listedVideo(creator, { priceMinor: 1000, title: 'Second' })
    const rental = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'rental', scope: 'video', videoId: video.id, priceMinor: 400, currency: 'USD', rentalHours: 48, startWindowDays: 30, active: true })
    const bundle = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'purchase', scope: 'bundle', priceMinor: 1500, currency: 'USD', title: 'Both', active: true })
    await db.table('offer_videos').multiInsert([
      { offer_id: bundle.id, video_id: video.id, position: 0 },
      { offer_id: bundle.id, video_id: second.id, position: 1 },
    ])
    await coupons.create(creator, { code: 'RENT-HALF', percentOff: 50, offerIds: [rental.id] }, { platform: false })
    await coupons.create(creator, { code: 'GIFT', percentOff: 100, offerIds: [bundle.id] }, { platform: false })

    // The rental's coupon does not apply to the buy price, nor the gift to the rental.
    await assert.rejects(() => orders.checkout(buyer, video.id, 'stripe', { coupon: 'rent-half' }), /does not apply/)
    const gift = await client.submit(`/videos/${video.id}`, `/offers/${rental.id}/checkout`, { provider: 'stripe', coupon: 'gift' })
    assert.include((await client.visit(gift.location!)).text, 'does not apply to this offer')

    const rented = await client.submit(`/videos/${video.id}`, `/offers/${rental.id}/checkout`, { provider: 'stripe', coupon: 'RENT-HALF' })
    assert.equal(rented.status, 303)
    const order = await Order.findByOrFail('offerId', rental.id)
    assert.deepEqual([order.amountMinor, order.listPriceMinor, order.discountMinor], [200, 400, 200])

    const bundled = await client.submit(`/videos/${video.id}`, `/offers/${bundle.id}/checkout`, { provider: 'stripe', coupon: 'gift' })
    const free = await Order.findByOrFail('offerId', bundle.id)
    assert.equal(bundled.location, `/orders/${free.id}/complete`)
    assert.deepEqual([free.status, free.provider, free.amountMinor, free.discountMinor], ['paid', 'coupon', 0, 1500])
    assert.isTrue((await entitlements.decide(buyer, video)).allowed)
    assert.isTrue((await entitlements.decide(buyer, second)).allowed)
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })
})
