/// <reference lib="dom" />
import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, logIn, playsFor } from '#tests/helpers/browser'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import { listedVideo, startStripe } from '#tests/helpers/commerce'
import { startWorker, type RunningWorker } from '#tests/helpers/processes'
import Offer from '#models/offer'
import PlaybackSession from '#models/playback_session'
import type User from '#models/user'
import type Video from '#models/video'
import orders from '#services/order_service'
import checkouts from '#services/commerce/checkout'

/** A paid order for an offer, through the core's checkout (Stripe stand-in) and its verified payment event. */
async function buyOffer(buyer: User, offer: Offer) {
  const order = await checkouts.checkoutOffer(buyer, offer.id, 'stripe')
  await orders.receive('stripe', [{ eventId: `evt_${randomUUID()}`, type: 'payment.succeeded', orderId: order.id, amount: { amount: order.amountMinor, currency: order.currency } }])
  return order
}

async function shoot(page: Page, name: string) {
  const dir = app.makePath('tmp/screenshots/offers')
  await mkdir(dir, { recursive: true })
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    await page.screenshot({ path: `${dir}/${name}-${width}.png`, fullPage: true })
  }
}

test.group('Browser: offers', (group) => {
  let worker: RunningWorker
  let browser: Browser
  let creator: User
  let video: Video
  let rental: Offer

  group.setup(async () => {
    await resetState()
    const stripe = await startStripe()
    // A worker runs the chores, among them the one that tells idle players their rental ended.
    worker = await startWorker()
    browser = await launchChromium()
    ;({ user: creator } = await loggedIn('ann', 'creator'))
    video = await readyVideo(creator, { title: 'Pilot', priceMinor: 1200, watermarkMode: 'off', source: await media.feature() })
    rental = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'rental', scope: 'video', videoId: video.id, rentalHours: 48, startWindowDays: 30, priceMinor: 399, currency: 'USD', active: true })
    return async () => {
      await browser.close()
      await worker.stop()
      await stripe.stop()
    }
  })

  test('the rental ends mid-video: the player stops and says "Your rental ended"; the page offers renting again', async ({ assert }) => {
    const { user: viewer } = await loggedIn('renter')
    const order = await buyOffer(viewer, rental)
    await order.refresh()
    assert.equal(order.status, 'paid')

    const page = await browser.newPage({ baseURL: env.get('APP_URL') })
    await logIn(page, 'renter')
    await page.goto(`/videos/${video.id}`)
    // Opening the page starts nothing: the rental's hours wait for the viewer.
    await page.waitForSelector('[data-player][data-state="waiting"] [data-player-start-button]')
    assert.include(await page.textContent('[data-player-start]'), '48-hour rental: the hours start when you press Start.')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    assert.isNull((await db.from('entitlements').where('order_id', order.id).firstOrFail()).starts_at)
    assert.lengthOf(await PlaybackSession.query().where('userId', viewer.id), 0)
    await shoot(page, 'player-rental-start')
    await page.click('[data-player-start-button]')
    await playsFor(page, 2)
    // The first play started the rental's 48 hours.
    const grant = await db.from('entitlements').where('order_id', order.id).firstOrFail()
    assert.isNotNull(grant.starts_at)
    const sessionId = (await page.getAttribute('[data-player]', 'data-session-id'))!
    assert.equal((await PlaybackSession.findOrFail(sessionId)).accessVia, 'rental')

    // Its end comes 3 seconds from now, while the video plays.
    const endsAt = DateTime.now().plus({ seconds: 3 })
    await db.from('entitlements').where('id', grant.id).update({ ends_at: endsAt.toJSDate() })
    await PlaybackSession.query().where('id', sessionId).update({ accessEndsAt: endsAt.toSQL() })
    await page.waitForSelector('[data-player][data-state="rental_ended"]', { timeout: 15_000 })
    const stoppedAfter = Date.now() - endsAt.toMillis()
    assert.include(await page.textContent('[data-player-message]'), 'Your rental ended')
    const position = await page.evaluate(() => document.querySelector('video')!.currentTime)
    assert.isBelow(position, 30, 'stopped mid-video')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    assert.equal(await page.evaluate(() => document.querySelector('video')!.currentTime), position, 'the video kept playing')
    // Within the chore's period (5 s) plus a little: pushed, not found out at the next page load.
    assert.isBelow(stoppedAfter, 8_000)
    const session = await PlaybackSession.findOrFail(sessionId)
    assert.equal(session.revokeReason, 'rental_ended')
    await shoot(page, 'player-rental-ended')

    await page.reload()
    const text = await page.textContent('[data-sale-options]')
    assert.include(text, '48-hour rental, start within 30 days')
    assert.include(text, 'Yours to keep')
    await page.close()
  }).timeout(180_000)

  test('screenshots: Studio offers, the video page with options and holdings, the library (390 and 1280 px)', async ({ assert }) => {
    const second = await listedVideo(creator, { title: 'Episode 2', priceMinor: 800 })
    const third = await listedVideo(creator, { title: 'Episode 3', priceMinor: 800 })
    const bundle = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'purchase', scope: 'bundle', title: 'Series 1', description: 'The whole first series, to keep.', priceMinor: 2500, currency: 'USD', active: true })
    for (const [position, v] of [video, second, third].entries()) await db.table('offer_videos').insert({ offer_id: bundle.id, video_id: v.id, position })
    const pass = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'pass', scope: 'creator', passDays: 30, priceMinor: 900, currency: 'USD', active: true })

    // The creator's Studio pages.
    const studio = await browser.newPage({ baseURL: env.get('APP_URL') })
    await logIn(studio, 'ann')
    await studio.goto('/studio/offers')
    assert.include(await studio.textContent('main'), 'Series 1')
    await shoot(studio, 'studio-offers')
    await studio.goto(`/studio/offers/${bundle.id}/edit`)
    await shoot(studio, 'studio-bundle-edit')
    await studio.goto('/studio/offers/new?kind=pass')
    await studio.fill('input[name="days"]', '0')
    await studio.fill('input[name="price"]', '0')
    await Promise.all([studio.waitForURL(/kind=pass/), studio.click('.offer-form button[type="submit"]')])
    await studio.waitForSelector('.field-error')
    await shoot(studio, 'studio-pass-errors')
    await studio.goto(`/studio/videos/${video.id}/edit`)
    await studio.fill('input[name="rental_hours"]', '10000')
    await Promise.all([studio.waitForURL(/edit/), studio.click('#rental button[type="submit"]')])
    assert.include(await studio.textContent('#rental'), 'at most 720 hours')
    await studio.locator('#rental').scrollIntoViewIfNeeded()
    await shoot(studio, 'studio-rental-error')
    await studio.close()

    // A new viewer: every way to get it, cheapest first.
    await loggedIn('newcomer')
    const fresh = await browser.newPage({ baseURL: env.get('APP_URL') })
    await logIn(fresh, 'newcomer')
    await fresh.goto(`/videos/${video.id}`)
    const kinds = await fresh.locator('[data-sale-option]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-sale-option')))
    assert.deepEqual(kinds, ['rental:video', 'pass:creator', 'purchase:video', 'purchase:bundle'])
    await shoot(fresh, 'video-options')
    await fresh.close()

    // A viewer holding a rental (not started) and a pass: the page and the library say so.
    const { user: holder } = await loggedIn('holder')
    await buyOffer(holder, rental)
    await buyOffer(holder, pass)
    const other = await listedVideo(creator, { title: 'Bonus', priceMinor: 300 })
    const holderPage = await browser.newPage({ baseURL: env.get('APP_URL') })
    await logIn(holderPage, 'holder')
    await holderPage.goto(`/videos/${other.id}`)
    assert.match((await holderPage.textContent('[data-holding]'))!, /Pass until \d+ \w+/)
    await shoot(holderPage, 'video-holding-pass')
    await holderPage.goto('/library')
    const library = (await holderPage.textContent('main'))!
    assert.match(library, /Rented: starts when you press play, before \d+ \w+/)
    assert.match(library, /Pass until \d+ \w+/)
    await shoot(holderPage, 'library')
    await holderPage.close()
  }).timeout(240_000)
})
