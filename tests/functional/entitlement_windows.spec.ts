import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Offer from '#models/offer'
import Order from '#models/order'
import PlaybackSession from '#models/playback_session'
import type User from '#models/user'
import type Video from '#models/video'
import entitlements from '#services/entitlement_service'
import orders from '#services/order_service'
import playback from '#services/playback_service'
import grants from '#services/commerce/grants'
import checkouts from '#services/commerce/checkout'
import { loggedIn } from '#tests/helpers/videos'
import { listedVideo, stripeForGroup } from '#tests/helpers/commerce'
import { PlaybackError } from '#exceptions/playback_error'

async function offer(creator: User, fields: Partial<Offer> & Pick<Offer, 'kind' | 'scope'>, videos: Video[] = []) {
  const created = await Offer.create({ id: randomUUID(), creatorId: creator.id, priceMinor: 500, currency: 'USD', active: true, ...fields })
  for (const [position, video] of videos.entries()) {
    await db.table('offer_videos').insert({ offer_id: created.id, video_id: video.id, position })
  }
  return created
}

/** A pending Stripe order for `offer` (or a video's buy price), paid through the core's event path as a webhook would. */
async function paidOrder(buyer: User, sold: { offer?: Offer; video?: Video }) {
  const { offer: o, video } = sold
  const amount = o ? o.priceMinor : video!.priceMinor
  const order = await Order.create({
    id: randomUUID(),
    videoId: o ? (o.scope === 'video' ? o.videoId : null) : video!.id,
    offerId: o?.id ?? null,
    offerKind: o?.kind ?? 'purchase',
    offerScope: o?.scope ?? 'video',
    offerTitle: 'test',
    buyerId: buyer.id,
    creatorId: o?.creatorId ?? video!.ownerId,
    provider: 'stripe',
    status: 'pending',
    amountMinor: amount,
    currency: 'USD',
    platformFeeBps: 1000,
    platformFeeMinor: Math.floor(amount / 10),
    creatorPayout: 'owed',
    providerReference: `cs_${randomUUID()}`,
    paymentReference: `pi_${randomUUID()}`,
    expiresAt: DateTime.now().plus({ hours: 1 }),
  })
  const [result] = await orders.receive('stripe', [
    { eventId: `evt_${randomUUID()}`, type: 'payment.succeeded', orderId: order.id, amount: { amount, currency: 'USD' } },
  ])
  await order.refresh()
  return { order, result }
}

async function sessionOf(user: User, video: Video) {
  return playback.open({ user, video, deviceId: `device-${randomUUID()}`, userAgent: 'test' })
}

test.group('Entitlements with windows', (group) => {
  const stripe = stripeForGroup(group)

  test('a rental waits for its first play, starts there, and ends its session with "rental ended"', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 2000 })
    const rental = await offer(creator, { kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 48, startWindowDays: 30, priceMinor: 400 })
    const { user: viewer } = await loggedIn('renter')

    const { result } = await paidOrder(viewer, { offer: rental })
    assert.equal(result.outcome, 'applied')
    // A page asking does not start the clock.
    const asked = await entitlements.decide(viewer, video)
    assert.deepEqual(asked, { allowed: true, via: 'rental' })
    assert.isNull((await db.from('entitlements').where('user_id', viewer.id).first()).starts_at)
    assert.equal((await grants.heldOffer(viewer.id, rental))?.code, 'already_rented')

    const opened = await sessionOf(viewer, video)
    const row = await db.from('entitlements').where('user_id', viewer.id).first()
    const hours = DateTime.fromJSDate(row.ends_at).diff(DateTime.fromJSDate(row.starts_at), 'hours').hours
    assert.equal(hours, 48)
    assert.equal(opened.session.accessVia, 'rental')
    assert.match((await grants.heldOffer(viewer.id, rental))!.message, /renting this video: (47|48) h left/)

    // One second after the rental ended: refused, with the reason, and the session ends.
    await db.from('entitlements').where('id', row.id).update({ ends_at: DateTime.now().minus({ seconds: 1 }).toJSDate() })
    await PlaybackSession.query().where('id', opened.session.id).update({ accessEndsAt: DateTime.now().minus({ seconds: 1 }).toSQL() })
    const refused = await playback.renew({ sessionId: opened.session.id, path: 'master.m3u8', user: viewer }).catch((error) => error)
    assert.instanceOf(refused, PlaybackError)
    assert.equal(refused.code, 'rental_ended')
    assert.equal(refused.message, 'Your rental ended')
    const ended = await PlaybackSession.findOrFail(opened.session.id)
    assert.equal(ended.revokeReason, 'rental_ended')
    assert.deepEqual(await entitlements.decide(viewer, video), {
      allowed: false,
      reason: 'payment_required',
      status: 402,
      message: 'Buy this video to watch it',
    })
    // It may be rented again now.
    assert.isNull(await grants.heldOffer(viewer.id, rental))
  })

  test('an idle player is told by the chore when its pass runs out; a buyer after renting keeps watching', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const pass = await offer(creator, { kind: 'pass', scope: 'creator', passDays: 30 })
    const { user: viewer } = await loggedIn('holder')
    await paidOrder(viewer, { offer: pass })
    const decision = await entitlements.decide(viewer, video)
    assert.isTrue(decision.allowed)
    assert.equal(decision.allowed && decision.via, 'pass')
    const days = decision.allowed ? Math.round(decision.endsAt!.diffNow('days').days) : 0
    assert.equal(days, 30)

    const opened = await sessionOf(viewer, video)
    await db.from('entitlements').where('user_id', viewer.id).update({ ends_at: DateTime.now().minus({ seconds: 1 }).toJSDate() })
    await PlaybackSession.query().where('id', opened.session.id).update({ accessEndsAt: DateTime.now().minus({ seconds: 1 }).toSQL() })
    assert.equal(await playback.endRunOutAccess(), 1)
    assert.equal((await PlaybackSession.findOrFail(opened.session.id)).revokeReason, 'pass_ended')

    // Another viewer rents, then buys: the session opened on the rental goes on when the rental ends.
    const rental = await offer(creator, { kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 1, startWindowDays: 1 })
    const { user: buyer } = await loggedIn('buyer')
    await paidOrder(buyer, { offer: rental })
    const rented = await sessionOf(buyer, video)
    await paidOrder(buyer, { video })
    await PlaybackSession.query().where('id', rented.session.id).update({ accessEndsAt: DateTime.now().minus({ seconds: 1 }).toSQL() })
    await playback.renew({ sessionId: rented.session.id, path: 'master.m3u8', user: buyer })
    const kept = await PlaybackSession.findOrFail(rented.session.id)
    assert.isNull(kept.revokedAt)
    assert.equal(kept.accessVia, 'purchase')
    assert.isNull(kept.accessEndsAt)
  })

  test('a rental never started lapses at the end of its start window', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const rental = await offer(creator, { kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 48, startWindowDays: 7 })
    const { user: viewer } = await loggedIn('late')
    await paidOrder(viewer, { offer: rental })
    await db.from('entitlements').where('user_id', viewer.id).update({ start_by: DateTime.now().minus({ seconds: 1 }).toJSDate() })
    const decision = await entitlements.decide(viewer, video, { startRental: true })
    assert.isFalse(decision.allowed)
    assert.isNull((await db.from('entitlements').where('user_id', viewer.id).first()).starts_at)
  })

  test('a bundle grants the videos it held when bought; a creator pass grants what the creator publishes later', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const [one, two, three] = [await listedVideo(creator), await listedVideo(creator), await listedVideo(creator)]
    const bundle = await offer(creator, { kind: 'purchase', scope: 'bundle', title: 'Series' }, [one, two])
    const { user: viewer } = await loggedIn('collector')
    await paidOrder(viewer, { offer: bundle })
    assert.isTrue((await entitlements.decide(viewer, one)).allowed)
    assert.isTrue((await entitlements.decide(viewer, two)).allowed)
    assert.isFalse((await entitlements.decide(viewer, three)).allowed)
    // The creator edits the bundle: the buyer keeps what they bought and gets nothing new.
    await db.from('offer_videos').where('offer_id', bundle.id).delete()
    await db.table('offer_videos').insert({ offer_id: bundle.id, video_id: three.id, position: 0 })
    assert.isTrue((await entitlements.decide(viewer, one)).allowed)
    assert.isFalse((await entitlements.decide(viewer, three)).allowed)
    assert.equal((await grants.heldOffer(viewer.id, bundle))?.code, 'already_owned')

    const pass = await offer(creator, { kind: 'pass', scope: 'creator', passDays: 7 })
    const { user: fan } = await loggedIn('fan')
    await paidOrder(fan, { offer: pass })
    const later = await listedVideo(creator, { title: 'Published after the pass' })
    assert.isTrue((await entitlements.decide(fan, later)).allowed)
    const { user: other } = await loggedIn('other', 'creator')
    assert.isFalse((await entitlements.decide(fan, await listedVideo(other))).allowed)
  })

  test('a grant counts only while its order is paid: a refunded rental grants nothing', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const rental = await offer(creator, { kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 24, startWindowDays: 7 })
    const { user: viewer } = await loggedIn('renter')
    const { order } = await paidOrder(viewer, { offer: rental })
    assert.isTrue((await entitlements.decide(viewer, video)).allowed)
    await orders.receive('stripe', [
      { eventId: `evt_${randomUUID()}`, type: 'payment.refunded', orderId: order.id, amount: { amount: order.amountMinor, currency: 'USD' } },
    ])
    assert.isFalse((await entitlements.decide(viewer, video)).allowed)
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('the same pass paid twice (two checkouts racing) keeps one and gives the other back; renting what one owns is a duplicate', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const pass = await offer(creator, { kind: 'pass', scope: 'creator', passDays: 30 })
    const { user: viewer } = await loggedIn('twice')
    // Two checkouts both open (the first one about to expire, so Buy made a second).
    const first = await checkouts.checkoutOffer(viewer, pass.id, 'stripe')
    await Order.query().where('id', first.id).update({ expiresAt: DateTime.now().plus({ minutes: 2 }).toSQL() })
    const second = await checkouts.checkoutOffer(viewer, pass.id, 'stripe')
    assert.notEqual(first.id, second.id)
    await stripe.pay(first.providerReference!)
    await stripe.pay(second.providerReference!)
    await first.refresh()
    await second.refresh()
    assert.equal(first.status, 'paid')
    assert.equal(second.status, 'refunded')
    // One pass held: the refunded order's grant counts for nothing.
    const held = await db.from('entitlements').join('orders', 'orders.id', 'entitlements.order_id').where({ user_id: viewer.id, status: 'paid' })
    assert.lengthOf(held, 1)
    // Now it is held: a third checkout is refused with when it ends.
    const refused = await checkouts.checkoutOffer(viewer, pass.id, 'stripe').catch((error) => error)
    assert.equal(refused.code, 'already_held')
    assert.match(refused.message, /^You hold this pass until /)

    // A rental checked out, then the video bought, then the rental paid: given back.
    const rental = await offer(creator, { kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 24, startWindowDays: 7 })
    const { user: owner } = await loggedIn('owner')
    const rentalOrder = await checkouts.checkoutOffer(owner, rental.id, 'stripe')
    const purchase = await checkouts.checkout(owner, video.id, 'stripe')
    await stripe.pay(purchase.providerReference!)
    await stripe.pay(rentalOrder.providerReference!)
    await rentalOrder.refresh()
    assert.equal(rentalOrder.status, 'refunded')
    // And renting what one owns is refused at checkout.
    const owned = await checkouts.checkoutOffer(owner, rental.id, 'stripe').catch((error) => error)
    assert.equal(owned.code, 'already_owned')
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })
})
