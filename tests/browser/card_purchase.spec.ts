/// <reference lib="dom" />
import { test } from '@japa/runner'
import { mkdir } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import type { Browser } from 'playwright-core'
import Order from '#models/order'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import { startStripe } from '#tests/helpers/commerce'
import type { StripeStandIn } from '#tests/helpers/stripe_stand_in'
import { launchChromium, logIn, watchNowPlays } from '#tests/helpers/browser'

test.group('Browser: buying a video by card', (group) => {
  let browser: Browser
  let stripe: StripeStandIn

  group.setup(async () => {
    await resetState()
    stripe = await startStripe()
    browser = await launchChromium()
    return async () => {
      await browser.close()
      await stripe.stop()
    }
  })

  test('Buy, the hosted checkout, back to the success page, the video plays; refunded, the viewer loses it', async ({ assert }) => {
    const { user: creator } = await loggedIn('studio', 'creator')
    const video = await readyVideo(creator, { title: 'For sale', priceMinor: 499, watermarkEnabled: false })
    await loggedIn('vera')

    const viewer = await browser.newPage({ baseURL: env.get('APP_URL') })
    const playlists: string[] = []
    viewer.on('request', (request) => request.url().includes('.m3u8') && playlists.push(request.url()))
    await logIn(viewer, 'vera')

    await viewer.goto(`/videos/${video.id}`)
    assert.include((await viewer.textContent('[data-access="payment_required"]'))!.replace(/\s+/g, ' '), 'Buy to watch: $4.99')
    await Promise.all([viewer.waitForURL(/\/c\/pay\/cs_test_/), viewer.click('text=Pay $4.99 by card')])

    // Stripe's hosted page (the stand-in's): the amount comes from the server's order.
    assert.include(await viewer.textContent('[data-testid="amount-total"]'), '$4.99')
    await Promise.all([viewer.waitForURL(/\/orders\/[0-9a-f-]+\/complete\?session_id=cs_test_/), viewer.click('button:text-is("Pay")')])
    assert.include(await viewer.textContent('main'), 'The video is yours')

    await watchNowPlays(viewer, video.id)
    const library = await browser.newPage({ baseURL: env.get('APP_URL'), storageState: await viewer.context().storageState() })
    await library.goto('/library')
    assert.include(await library.textContent('[data-library="purchased"]'), 'For sale')
    await library.close()

    // The creator refunds from the sales page.
    const studio = await browser.newPage({ baseURL: env.get('APP_URL') })
    await logIn(studio, 'studio')
    await studio.goto('/studio/sales')
    assert.include(await studio.textContent('[data-table="buyers"]'), 'vera')
    // The refund asks first in the page's <dialog> (resources/js/app.js), whose button is labelled like the form's.
    await studio.click('[data-table="buyers"] button:text-is("Refund")')
    // The form posts and is redirected back to this same URL: wait for the answer's flash, not the URL.
    await studio.click('dialog.confirm[open] [data-confirm-accept]')
    await studio.locator('main .alert.success', { hasText: 'was refunded' }).waitFor({ timeout: 30_000 })
    await stripe.settled()
    const order = (await Order.findBy('videoId', video.id))!
    assert.equal(order.status, 'refunded')
    assert.lengthOf(stripe.refunds, 1)

    // The viewer's signed URLs stop working at once, and the page asks them to buy again.
    const status = await viewer.evaluate((url) => fetch(url).then((r) => r.status), playlists[0])
    assert.equal(status, 403)
    await viewer.reload()
    assert.include(await viewer.textContent('[data-access="payment_required"]'), 'Buy to watch')
    assert.equal(await viewer.locator('[data-player]').count(), 0)

    await mkdir(app.makePath('tmp/screenshots'), { recursive: true })
    await viewer.screenshot({ path: app.makePath('tmp/screenshots/card_purchase.png') })
  }).timeout(150_000)
})
