import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Offer from '#models/offer'
import Order from '#models/order'
import PlaybackSession from '#models/playback_session'
import type User from '#models/user'
import type Video from '#models/video'
import orders from '#services/order_service'
import plugins from '#services/plugins'
import refunds from '#services/commerce/refunds'
import grants from '#services/commerce/grants'
import offerEditor from '#services/commerce/offer_editor'
import coupons from '#services/commerce/coupons'
import { loggedIn } from '#tests/helpers/videos'
import { ledgerOf, listedVideo, stripeForGroup } from '#tests/helpers/commerce'
import { csrfTokenIn, fieldErrorsIn, type WebClient } from '#tests/helpers/web_client'

/** Posts a form with repeated fields (`videos[]`), with the CSRF token of `formPage`, as a browser would. */
async function post(client: WebClient, formPage: string, action: string, fields: Array<[string, string]>) {
  const page = await client.get(formPage)
  if (page.status !== 200) throw new Error(`GET ${formPage} answered ${page.status}`)
  const form = new URLSearchParams(fields)
  form.set('_csrf', csrfTokenIn(page.text))
  return client.request('POST', action, form, { referer: new URL(formPage, client.baseUrl).href })
}

/** Submits, follows the redirect back, and returns the page it lands on. */
async function postAndLand(client: WebClient, formPage: string, action: string, fields: Array<[string, string]>) {
  const response = await post(client, formPage, action, fields)
  if (response.status !== 302 && response.status !== 303) return { response, page: response }
  return { response, page: await client.visit(response.location!) }
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&#39;|&#x27;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ')

async function bundleOf(creator: User, videos: Video[], fields: Partial<Offer> = {}) {
  const offer = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'purchase', scope: 'bundle', title: 'Series 1', priceMinor: 1500, currency: 'USD', active: true, ...fields })
  for (const [position, video] of videos.entries()) await db.table('offer_videos').insert({ offer_id: offer.id, video_id: video.id, position })
  return offer
}

/** Presses a provider's button of an offer on the video page; returns the redirect. */
async function checkoutOffer(client: WebClient, video: Video, offerId: string, provider = 'stripe', extra: Array<[string, string]> = []) {
  return post(client, `/videos/${video.id}`, `/offers/${offerId}/checkout`, [['provider', provider], ...extra])
}

test.group('Offers: the Studio', (group) => {
  stripeForGroup(group)

  test('a creator sets a rental beside the buy price, changes it, removes it; each change is audited', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1200 })
    const edit = `/studio/videos/${video.id}/edit`
    assert.include((await client.visit(edit)).text, 'Offer a rental')

    const { page } = await postAndLand(client, edit, `/studio/videos/${video.id}/rental`, [['rental_hours', '48'], ['rental_start_days', '30'], ['rental_price', '3.99']])
    assert.include(page.text, 'Rental saved: 48 hours')
    const rental = await Offer.query().where({ videoId: video.id, kind: 'rental', active: true }).firstOrFail()
    assert.deepInclude(rental.$attributes, { rentalHours: 48, startWindowDays: 30, priceMinor: 399, currency: 'USD', scope: 'video', creatorId: creator.id })

    // Edited in place: still one rental offer.
    await postAndLand(client, edit, `/studio/videos/${video.id}/rental`, [['rental_hours', '72'], ['rental_start_days', '14'], ['rental_price', '4.50']])
    assert.lengthOf(await Offer.query().where({ videoId: video.id, kind: 'rental' }), 1)
    await rental.refresh()
    assert.equal(rental.rentalHours, 72)
    assert.equal(rental.priceMinor, 450)
    assert.include((await client.visit('/studio/offers')).text, '72 h, start within 14 days')
    assert.include(text((await client.visit('/studio/videos')).text), '$12.00 · rent $4.50')

    const removed = await postAndLand(client, edit, `/studio/videos/${video.id}/rental/delete`, [])
    assert.include(removed.page.text, 'no longer for sale')
    await rental.refresh()
    assert.isFalse(rental.active)
    const actions = (await db.from('audit_logs').where({ subject_type: 'offer', subject_id: rental.id }).orderBy('id')).map((row) => row.action)
    assert.deepEqual(actions, ['offer.create', 'offer.update', 'offer.deactivate'])
  })

  test('bad rentals are refused next to their field and change nothing: 0 or 10,000 hours, a start window of 0 or 91 days, a price of 0 or over the cap', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const edit = `/studio/videos/${video.id}/edit`
    const cases: Array<[Array<[string, string]>, string, RegExp]> = [
      [[['rental_hours', '0'], ['rental_start_days', '30'], ['rental_price', '3']], 'rental_hours', /at least 1 hour/],
      [[['rental_hours', '10000'], ['rental_start_days', '30'], ['rental_price', '3']], 'rental_hours', /at most 720 hours/],
      [[['rental_hours', '1.5'], ['rental_start_days', '30'], ['rental_price', '3']], 'rental_hours', /whole number of hours/],
      [[['rental_hours', 'abc'], ['rental_start_days', '30'], ['rental_price', '3']], 'rental_hours', /whole number of hours/],
      [[['rental_hours', '48'], ['rental_start_days', '0'], ['rental_price', '3']], 'rental_start_days', /at least 1 day/],
      [[['rental_hours', '48'], ['rental_start_days', '91'], ['rental_price', '3']], 'rental_start_days', /at most 90 days/],
      [[['rental_hours', '48'], ['rental_start_days', '30'], ['rental_price', '0']], 'rental_price', /above zero/],
      [[['rental_hours', '48'], ['rental_start_days', '30'], ['rental_price', '-2']], 'rental_price', /cannot be negative/],
      [[['rental_hours', '48'], ['rental_start_days', '30'], ['rental_price', '1000000']], 'rental_price', /cannot be more than/],
      [[['rental_hours', '48'], ['rental_start_days', '30'], ['rental_price', '1.999']], 'rental_price', /Enter a price like/],
    ]
    for (const [fields, field, message] of cases) {
      const { response, page } = await postAndLand(client, edit, `/studio/videos/${video.id}/rental`, fields)
      assert.equal(response.status, 302, JSON.stringify(fields))
      assert.match(fieldErrorsIn(page.text, field), message, JSON.stringify(fields))
    }
    assert.lengthOf(await Offer.all(), 0)
    assert.lengthOf(await db.from('audit_logs').where('subject_type', 'offer'), 0)
    // Another creator cannot set a rental on this video.
    const { client: other } = await loggedIn('other', 'creator')
    const response = await post(other, '/studio/videos', `/studio/videos/${video.id}/rental`, [['rental_hours', '48'], ['rental_start_days', '30'], ['rental_price', '3']])
    assert.equal(response.status, 404)
    assert.lengthOf(await Offer.all(), 0)
  })

  test('bundles: made of the creator own videos, edited, taken off sale and back; another creator video or none is refused', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const [one, two, three] = [await listedVideo(creator, { title: 'Episode 1' }), await listedVideo(creator, { title: 'Episode 2' }), await listedVideo(creator, { title: 'Episode 3' })]
    const { user: stranger } = await loggedIn('stranger', 'creator')
    const theirs = await listedVideo(stranger, { title: 'Not yours' })

    const form = await client.visit('/studio/offers/new?kind=bundle')
    assert.include(form.text, 'Episode 2')
    assert.notInclude(form.text, 'Not yours')

    const base: Array<[string, string]> = [['kind', 'bundle'], ['title', 'Series 1'], ['price', '15'], ['currency', 'USD']]
    const withOther = await postAndLand(client, '/studio/offers/new?kind=bundle', '/studio/offers', [...base, ['videos[]', one.id], ['videos[]', theirs.id]])
    assert.match(fieldErrorsIn(withOther.page.text, 'videos'), /not yours/)
    // What was typed stays in the form.
    assert.include(withOther.page.text, 'value="Series 1"')
    const none = await postAndLand(client, '/studio/offers/new?kind=bundle', '/studio/offers', base)
    assert.match(fieldErrorsIn(none.page.text, 'videos'), /at least one of your videos/)
    const forged = await postAndLand(client, '/studio/offers/new?kind=bundle', '/studio/offers', [...base, ['videos[]', 'not-a-uuid']])
    assert.match(fieldErrorsIn(forged.page.text, 'videos'), /does not exist/)
    const untitled = await postAndLand(client, '/studio/offers/new?kind=bundle', '/studio/offers', [['kind', 'bundle'], ['title', ''], ['price', '0'], ['currency', 'USD'], ['videos[]', one.id]])
    assert.match(fieldErrorsIn(untitled.page.text, 'title'), /Give it a title/)
    assert.match(fieldErrorsIn(untitled.page.text, 'price'), /above zero/)
    assert.lengthOf(await Offer.all(), 0)

    const made = await postAndLand(client, '/studio/offers/new?kind=bundle', '/studio/offers', [...base, ['description', 'The whole first series'], ['videos[]', one.id], ['videos[]', two.id]])
    assert.include(made.page.text, 'Bundle created')
    const bundle = await Offer.query().where({ kind: 'purchase', scope: 'bundle' }).preload('videos').firstOrFail()
    assert.equal(bundle.priceMinor, 1500)
    assert.sameMembers(bundle.videos.map((video) => video.id), [one.id, two.id])
    assert.include(text(made.page.text), 'Bundle: Series 1 (2 videos)')

    // Edited: a third episode, a new price.
    const edited = await postAndLand(client, `/studio/offers/${bundle.id}/edit`, `/studio/offers/${bundle.id}`, [['title', 'Series 1'], ['price', '19.99'], ['currency', 'USD'], ['videos[]', one.id], ['videos[]', two.id], ['videos[]', three.id]])
    assert.include(edited.page.text, 'Saved')
    await bundle.refresh()
    await bundle.load('videos')
    assert.equal(bundle.priceMinor, 1999)
    assert.lengthOf(bundle.videos, 3)
    // Edited to hold another creator's video: refused, unchanged.
    await postAndLand(client, `/studio/offers/${bundle.id}/edit`, `/studio/offers/${bundle.id}`, [['title', 'Series 1'], ['price', '19.99'], ['currency', 'USD'], ['videos[]', theirs.id]])
    assert.lengthOf(await db.from('offer_videos').where('offer_id', bundle.id), 3)

    await postAndLand(client, '/studio/offers', `/studio/offers/${bundle.id}/deactivate`, [])
    await bundle.refresh()
    assert.isFalse(bundle.active)
    await postAndLand(client, '/studio/offers', `/studio/offers/${bundle.id}/activate`, [])
    await bundle.refresh()
    assert.isTrue(bundle.active)
    const actions = (await db.from('audit_logs').where({ subject_type: 'offer', subject_id: bundle.id }).orderBy('id')).map((row) => row.action)
    assert.deepEqual(actions, ['offer.create', 'offer.update', 'offer.deactivate', 'offer.activate'])
  })

  test('passes: all the creator videos for N days, or chosen ones; bad days refused', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('ann', 'creator')
    const video = await listedVideo(creator)
    const page = '/studio/offers/new?kind=pass'
    const days0 = await postAndLand(client, page, '/studio/offers', [['kind', 'pass'], ['days', '0'], ['price', '9'], ['currency', 'USD'], ['scope', 'creator']])
    assert.match(fieldErrorsIn(days0.page.text, 'days'), /at least 1 day/)
    const chosenNone = await postAndLand(client, page, '/studio/offers', [['kind', 'pass'], ['days', '30'], ['price', '9'], ['currency', 'USD'], ['scope', 'bundle']])
    assert.match(fieldErrorsIn(chosenNone.page.text, 'videos'), /at least one of your videos/)
    assert.lengthOf(await Offer.all(), 0)

    const made = await postAndLand(client, page, '/studio/offers', [['kind', 'pass'], ['days', '30'], ['price', '9'], ['currency', 'USD'], ['scope', 'creator']])
    assert.include(text(made.page.text), '30-day pass to everything by @ann')
    const chosen = await postAndLand(client, page, '/studio/offers', [['kind', 'pass'], ['title', 'Shorts'], ['days', '7'], ['price', '2'], ['currency', 'USD'], ['scope', 'bundle'], ['videos[]', video.id]])
    assert.include(text(chosen.page.text), '7-day pass: Shorts (1 video)')
    const passes = await Offer.query().where('kind', 'pass').orderBy('passDays')
    assert.deepEqual(passes.map((offer) => [offer.scope, offer.passDays, offer.priceMinor]), [['bundle', 7, 200], ['creator', 30, 900]])
  })

  test('the offer editor enforces its rules without the form: hours, window, price, only the creator own videos', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const { user: stranger } = await loggedIn('stranger', 'creator')
    const video = await listedVideo(creator)
    const theirs = await listedVideo(stranger)
    const refusal = (promise: Promise<unknown>) => promise.then(() => null, (error) => ({ code: error.code, status: error.status }))
    for (const hours of [0, 10_000, 1.5, Number.NaN]) {
      assert.deepEqual(await refusal(offerEditor.setRental(creator, video, { hours, startWindowDays: 30, priceMinor: 399 })), { code: 'invalid_rental', status: 422 })
    }
    for (const startWindowDays of [0, 91]) {
      assert.deepEqual(await refusal(offerEditor.setRental(creator, video, { hours: 48, startWindowDays, priceMinor: 399 })), { code: 'invalid_rental', status: 422 })
    }
    assert.deepEqual(await refusal(offerEditor.setRental(creator, video, { hours: 48, startWindowDays: 30, priceMinor: 0 })), { code: 'invalid_price', status: 422 })
    const bundle = { title: 'Mixed', priceMinor: 1000, currency: 'USD' }
    assert.deepEqual(await refusal(offerEditor.createBundle(creator, creator, { ...bundle, videoIds: [video.id, theirs.id] })), { code: 'not_your_video', status: 422 })
    assert.deepEqual(await refusal(offerEditor.createBundle(creator, creator, { ...bundle, videoIds: [] })), { code: 'empty_bundle', status: 422 })
    assert.deepEqual(await refusal(offerEditor.createBundle(creator, creator, { ...bundle, videoIds: ['not-a-uuid'] })), { code: 'not_your_video', status: 422 })
    assert.deepEqual(await refusal(offerEditor.createPass(creator, creator, { priceMinor: 900, currency: 'USD', days: 0, scope: 'creator' })), { code: 'invalid_pass', status: 422 })
    assert.lengthOf(await Offer.all(), 0)
  })

  test('a forged offer id is 404; another creator offer is 403 to view, edit, deactivate', async ({ assert }) => {
    const { user: owner } = await loggedIn('owner', 'creator')
    const bundle = await bundleOf(owner, [await listedVideo(owner)])
    const { client } = await loggedIn('intruder', 'creator')
    assert.equal((await client.get('/studio/offers/not-a-uuid/edit')).status, 404)
    assert.equal((await client.get(`/studio/offers/${randomUUID()}/edit`)).status, 404)
    assert.equal((await client.get(`/studio/offers/${bundle.id}/edit`)).status, 403)
    const update = await post(client, '/studio/offers', `/studio/offers/${bundle.id}`, [['title', 'Mine now'], ['price', '1'], ['currency', 'USD']])
    assert.equal(update.status, 403)
    assert.equal((await post(client, '/studio/offers', `/studio/offers/${bundle.id}/deactivate`, [])).status, 403)
    await bundle.refresh()
    assert.equal(bundle.title, 'Series 1')
    assert.isTrue(bundle.active)
    // A viewer (no creator role) gets no Studio at all.
    const { client: viewer } = await loggedIn('viewer')
    assert.notEqual((await viewer.get('/studio/offers')).status, 200)
  })
})

test.group('Offers: the video page, checkout and the library', (group) => {
  const stripe = stripeForGroup(group)

  test('the video page lists every way to get it, cheapest first, with what each gives', async ({ assert }) => {
    const { user: creator } = await loggedIn('ann', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1200, title: 'Pilot' })
    const other = await listedVideo(creator, { title: 'Second' })
    await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 48, startWindowDays: 30, priceMinor: 399, currency: 'USD', active: true })
    await bundleOf(creator, [video, other], { priceMinor: 1500 })
    await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'pass', scope: 'creator', passDays: 30, priceMinor: 900, currency: 'USD', active: true })
    await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'pass', scope: 'creator', passDays: 7, priceMinor: 100, currency: 'USD', active: false })

    const { client } = await loggedIn('viewer')
    const page = await client.visit(`/videos/${video.id}`)
    const body = text(page.text)
    const order = ['48-hour rental, start within 30 days', '30-day pass to everything by @ann', 'Yours to keep', 'Bundle: Series 1 (2 videos)']
    const at = order.map((phrase) => body.indexOf(phrase))
    assert.isTrue(at.every((index) => index >= 0), JSON.stringify(at))
    assert.deepEqual([...at].sort((a, b) => a - b), at)
    assert.include(body, '$3.99')
    assert.include(body, '$9.00')
    assert.notInclude(body, '7-day pass')
    // Each option has its providers' buttons, posting to the offer's checkout.
    assert.match(page.text, /action="\/offers\/[0-9a-f-]{36}\/checkout"/)
    assert.include(page.text, `action="/videos/${video.id}/checkout"`)
    assert.include(page.text, 'Pay $3.99 by card')

    // Visitors see the options, with a login link instead of buttons.
    const { WebClient } = await import('#tests/helpers/web_client')
    const visitor = await new WebClient().visit(`/videos/${video.id}`)
    assert.include(text(visitor.text), '48-hour rental, start within 30 days')
    assert.notInclude(visitor.text, 'Pay $3.99 by card')
  })

  test('renting through Stripe: the page says "Rented", buying after renting is offered, renting again is not (and the server refuses it)', async ({ assert }) => {
    const { user: creator } = await loggedIn('ann', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1200, title: 'Pilot' })
    const rental = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 48, startWindowDays: 30, priceMinor: 399, currency: 'USD', active: true })
    const { user: viewer, client } = await loggedIn('renter')

    const started = await checkoutOffer(client, video, rental.id, 'stripe')
    assert.equal(started.status, 303)
    const sessionId = started.location!.split('/c/pay/')[1]
    assert.equal(stripe.checkoutSession(sessionId)!.amount_total, 399)
    await stripe.pay(sessionId)
    const order = await Order.query().where('buyerId', viewer.id).firstOrFail()
    assert.equal(order.status, 'paid')
    assert.equal(order.offerKind, 'rental')
    assert.equal(order.offerTitle, '48-hour rental: Pilot')
    assert.equal((await ledgerOf(order.id)).sum, 399)

    const done = await client.visit(`/orders/${order.id}/complete`)
    assert.include(done.text, 'Your rental is ready')
    assert.include(done.text, '48-hour rental: Pilot')

    const page = text((await client.visit(`/videos/${video.id}`)).text)
    assert.match(page, /Rented: starts when you press play, before \d+ \w+/)
    assert.include(page, 'Keep it')
    assert.include(page, 'Yours to keep')
    assert.notInclude(page, '48-hour rental, start within')

    const library = text((await client.visit('/library')).text)
    assert.match(library, /Rented Pilot · Rented: starts when you press play, before \d+ \w+/)
    // A rental is not "owned" in the catalog.
    assert.notInclude(text((await client.visit('/?filter=owned')).text), 'Pilot')
    assert.include(library, '48-hour rental: Pilot')

    // Renting it again is refused by the server (the button is not offered).
    const again = await checkoutOffer(client, video, rental.id)
    assert.equal(again.status, 302)
    assert.include((await client.visit(again.location!)).text, 'You have rented this video already')
    // Started: hours left.
    await db.from('entitlements').where('order_id', order.id).update({ starts_at: new Date(), ends_at: DateTime.now().plus({ hours: 31, minutes: 10 }).toJSDate() })
    assert.include(text((await client.visit(`/videos/${video.id}`)).text), 'Rented: 31 h left')
    assert.include(text((await client.visit('/library')).text), 'Rented: 31 h left')

    // Buying after renting: allowed, and from then on renting is neither offered nor accepted.
    const bought = await post(client, `/videos/${video.id}`, `/videos/${video.id}/checkout`, [['provider', 'stripe']])
    assert.equal(bought.status, 303)
    await stripe.pay(bought.location!.split('/c/pay/')[1])
    const owned = text((await client.visit(`/videos/${video.id}`)).text)
    assert.include(owned, 'You bought this video')
    assert.notInclude(owned, 'Keep it')
    const rentOwned = await checkoutOffer(client, video, rental.id)
    assert.equal(rentOwned.status, 302)
    assert.include((await client.visit(rentOwned.location!)).text, 'You already own this video')
    assert.lengthOf(await Order.query().where('buyerId', viewer.id), 2)
  })

  test('a viewer rents with a creator coupon: every button of the page carries the code, the server prices the rental with it', async ({ assert }) => {
    const { user: creator } = await loggedIn('ann', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1200, title: 'Pilot' })
    const rental = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 48, startWindowDays: 30, priceMinor: 400, currency: 'USD', active: true })
    await coupons.create(creator, { code: 'LAUNCH25', percentOff: 25 }, { platform: false })
    const { user: viewer, client } = await loggedIn('renter')
    const page = await client.visit(`/videos/${video.id}?coupon=LAUNCH25`)
    assert.include(page.text, 'name="coupon" value="LAUNCH25"')
    const started = await post(client, `/videos/${video.id}?coupon=LAUNCH25`, `/offers/${rental.id}/checkout`, [['provider', 'stripe'], ['coupon', 'LAUNCH25']])
    assert.equal(started.status, 303)
    const sessionId = started.location!.split('/c/pay/')[1]
    assert.equal(stripe.checkoutSession(sessionId)!.amount_total, 300)
    await stripe.pay(sessionId)
    const order = await Order.query().where('buyerId', viewer.id).firstOrFail()
    assert.equal(order.status, 'paid')
    assert.equal(order.amountMinor, 300)
    assert.isNotNull(order.couponId)
    assert.equal(order.offerKind, 'rental')
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('a bundle bought by card: every video opens, the library and order pages name the bundle, Studio sales and Admin orders too', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('ann', 'creator')
    const one = await listedVideo(creator, { title: 'Episode 1' })
    const two = await listedVideo(creator, { title: 'Episode 2' })
    const bundle = await bundleOf(creator, [one, two])
    const { user: viewer, client } = await loggedIn('binger')
    const started = await checkoutOffer(client, one, bundle.id)
    await stripe.pay(started.location!.split('/c/pay/')[1])
    const order = await Order.query().where('buyerId', viewer.id).firstOrFail()
    assert.equal(order.status, 'paid')
    assert.isNull(order.videoId)
    assert.equal(order.offerTitle, 'Bundle: Series 1')

    for (const video of [one, two]) assert.include(text((await client.visit(`/videos/${video.id}`)).text), 'You bought this video')
    // The catalog counts a bundle's videos as owned.
    const ownedFilter = text((await client.visit('/?filter=owned')).text)
    assert.include(ownedFilter, 'Episode 1')
    assert.include(ownedFilter, 'Episode 2')
    const library = text((await client.visit('/library')).text)
    assert.include(library, 'Bundles Bundle: Series 1')
    assert.include(library, 'Episode 1')
    assert.include(library, 'Episode 2')
    assert.include(text((await client.visit(`/orders/${order.id}/complete`)).text), 'The bundle is yours')
    assert.include(text((await client.visit(`/library/orders/${order.id}`)).text), 'Bundle: Series 1')
    assert.include(text((await creatorClient.visit('/studio/sales')).text), 'Bundle: Series 1')
    const { client: admin } = await loggedIn('root', 'admin')
    assert.include(text((await admin.visit('/admin/orders')).text), 'Bundle: Series 1')
    // A second purchase of the bundle is refused.
    const again = await checkoutOffer(client, one, bundle.id)
    assert.equal(again.status, 302)
    assert.include((await client.visit(again.location!)).text, 'You already bought this bundle')
  })

  test('deleting a video sold in a bundle archives it: the bundle buyer keeps watching it', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('ann', 'creator')
    const one = await listedVideo(creator, { title: 'Episode 1' })
    const two = await listedVideo(creator, { title: 'Episode 2' })
    const bundle = await bundleOf(creator, [one, two])
    const { user: viewer, client } = await loggedIn('binger')
    const started = await checkoutOffer(client, one, bundle.id)
    await stripe.pay(started.location!.split('/c/pay/')[1])
    const deleted = await post(creatorClient, `/studio/videos/${two.id}/edit`, `/studio/videos/${two.id}/delete`, [])
    assert.equal(deleted.status, 302)
    await two.refresh()
    assert.isNotNull(two.archivedAt)
    assert.include(text((await client.visit(`/videos/${two.id}`)).text), 'Archived by the creator')
    assert.lengthOf(await grants.currentOf(viewer.id), 2)
  })

  test('a pass bought twice is refused at checkout; two checkouts racing are both paid and the second is refunded (Stripe webhook)', async ({ assert }) => {
    await plugins.settings.get('bank-transfer')!.set({ accountHolder: 'Matinee Films GmbH', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', bankName: 'Commerzbank' })
    const { user: creator } = await loggedIn('ann', 'creator')
    const video = await listedVideo(creator)
    const pass = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'pass', scope: 'creator', passDays: 30, priceMinor: 900, currency: 'USD', active: true })
    const { user: viewer, client } = await loggedIn('fan')

    // Two checkouts open at once (bank transfer, then card), paid in turn.
    const byTransfer = await checkoutOffer(client, video, pass.id, 'bank-transfer')
    assert.equal(byTransfer.status, 303)
    const transferOrder = await Order.query().where({ buyerId: viewer.id, provider: 'bank-transfer' }).firstOrFail()
    const panel = text((await client.visit(byTransfer.location!)).text)
    assert.include(panel, '30-day pass to everything by @ann')
    assert.include(panel, '$9.00')
    const byCard = await checkoutOffer(client, video, pass.id, 'stripe')
    assert.equal(byCard.status, 303)
    const [first] = await orders.receive('bank-transfer', [{ eventId: `bank-${transferOrder.id}`, type: 'payment.succeeded', orderId: transferOrder.id, amount: { amount: 900, currency: 'USD' } }])
    assert.equal(first.outcome, 'applied')
    assert.include(text((await client.visit(`/videos/${video.id}`)).text), 'Pass until')
    assert.match(text((await client.visit('/library')).text), /Passes 30-day pass to everything by @ann · Pass until \d+ \w+/)

    await stripe.pay(byCard.location!.split('/c/pay/')[1])
    const cardOrder = await Order.query().where({ buyerId: viewer.id, provider: 'stripe' }).firstOrFail()
    assert.equal(cardOrder.status, 'refunded')
    // Its grant was written with the payment and counts no more: the refunded order grants nothing.
    assert.lengthOf(await grants.currentOf(viewer.id), 1)
    assert.equal((await ledgerOf(cardOrder.id)).sum, 0)
    assert.deepEqual(await orders.ledgerMismatches(), [])

    // A third try while the pass runs: refused before anything is made.
    const third = await checkoutOffer(client, video, pass.id, 'stripe')
    assert.equal(third.status, 302)
    assert.include((await client.visit(third.location!)).text, 'You hold this pass until')
    assert.lengthOf(await Order.query().where('buyerId', viewer.id), 2)
  })

  test('a forged or inactive offer id at checkout is refused; so are one own offers and unknown providers', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('ann', 'creator')
    const video = await listedVideo(creator)
    const off = await bundleOf(creator, [video], { active: false })
    const { client } = await loggedIn('viewer')
    for (const id of ['not-a-uuid', randomUUID(), off.id]) {
      const response = await checkoutOffer(client, video, id)
      assert.equal(response.status, 302, id)
      assert.include((await client.visit(response.location!)).text, 'There is no such offer for sale')
    }
    const live = await bundleOf(creator, [video], { title: 'Live' })
    const own = await checkoutOffer(creatorClient, video, live.id)
    assert.include((await creatorClient.visit(own.location!)).text, 'You cannot buy your own offer')
    const unknown = await checkoutOffer(client, video, live.id, 'paypal')
    assert.include((await client.visit(unknown.location!)).text, 'This payment method is not available')
    assert.lengthOf(await Order.all(), 0)
  })

  test('a rental refunded before it starts grants nothing, leaves the library, and may be rented again', async ({ assert }) => {
    const { user: creator } = await loggedIn('ann', 'creator')
    const video = await listedVideo(creator, { title: 'Pilot' })
    const rental = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 48, startWindowDays: 30, priceMinor: 399, currency: 'USD', active: true })
    const { user: viewer, client } = await loggedIn('renter')
    const started = await checkoutOffer(client, video, rental.id)
    await stripe.pay(started.location!.split('/c/pay/')[1])
    const order = await Order.query().where('buyerId', viewer.id).firstOrFail()
    const { user: admin } = await loggedIn('root', 'admin')
    await refunds.refund(admin, order.id)
    await order.refresh()
    assert.equal(order.status, 'refunded')
    assert.equal((await ledgerOf(order.id)).sum, 0)
    const page = text((await client.visit(`/videos/${video.id}`)).text)
    assert.notInclude(page, 'Rented')
    assert.include(page, '48-hour rental, start within 30 days')
    assert.notInclude(text((await client.visit('/library')).text), 'Rented Pilot')
    // Opening playback is refused: nothing is held.
    assert.equal((await client.api('POST', `/videos/${video.id}/playback`)).status, 402)
    const again = await checkoutOffer(client, video, rental.id)
    assert.equal(again.status, 303)
  })

  test('playback on a rental: refused one second after the rental ended, with rental_ended, and renewal refused', async ({ assert }) => {
    const { user: creator } = await loggedIn('ann', 'creator')
    const video = await listedVideo(creator, { title: 'Pilot' })
    const rental = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 48, startWindowDays: 30, priceMinor: 399, currency: 'USD', active: true })
    const { user: viewer, client } = await loggedIn('renter')
    const started = await checkoutOffer(client, video, rental.id)
    await stripe.pay(started.location!.split('/c/pay/')[1])

    const opened = await client.api('POST', `/videos/${video.id}/playback`)
    assert.equal(opened.status, 201)
    const session = await PlaybackSession.findOrFail(opened.body.sessionId)
    assert.equal(session.accessVia, 'rental')
    const grant = await db.from('entitlements').where('user_id', viewer.id).firstOrFail()
    assert.isNotNull(grant.starts_at)
    assert.equal(Math.round(DateTime.fromJSDate(grant.ends_at).diff(DateTime.now(), 'hours').hours), 48)
    assert.equal(Math.round(session.accessEndsAt!.diff(DateTime.now(), 'hours').hours), 48)

    // The rental ended one second ago.
    const endedAt = DateTime.now().minus({ seconds: 1 })
    await db.from('entitlements').where('id', grant.id).update({ ends_at: endedAt.toJSDate() })
    await PlaybackSession.query().where('id', session.id).update({ accessEndsAt: endedAt.toSQL() })
    const master = await client.get(new URL(opened.body.masterUrl, client.baseUrl).pathname + new URL(opened.body.masterUrl, client.baseUrl).search)
    assert.equal(master.status, 403)
    assert.include(master.text, 'rental')
    await session.refresh()
    assert.equal(session.revokeReason, 'rental_ended')
    const renewed = await client.api('POST', `/playback/${session.id}/renew`, { path: 'master.m3u8' })
    assert.equal(renewed.status, 403)
    assert.include(['rental_ended', 'session_revoked'], renewed.body.error)
    // A new session is refused too, and the page offers renting again.
    const reopened = await client.api('POST', `/videos/${video.id}/playback`)
    assert.equal(reopened.status, 402)
    assert.include(text((await client.visit(`/videos/${video.id}`)).text), '48-hour rental, start within 30 days')
  })
})
