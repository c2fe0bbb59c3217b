/// <reference lib="dom" />
import { test } from '@japa/runner'
import { mkdir } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import type { Browser, Page } from 'playwright-core'
import Subscription from '#models/subscription'
import Order from '#models/order'
import { resetState } from '#tests/helpers/state'
import { loggedIn } from '#tests/helpers/videos'
import { listedVideo, startStripe } from '#tests/helpers/commerce'
import type { StripeStandIn } from '#tests/helpers/stripe_stand_in'
import { launchChromium, logIn } from '#tests/helpers/browser'

/** Screenshots of the membership pages at a phone's and a desktop's width (tmp/screenshots/memberships). */
async function shoot(page: Page, name: string) {
  const folder = app.makePath('tmp/screenshots/memberships')
  await mkdir(folder, { recursive: true })
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    await page.screenshot({ path: `${folder}/${name}-${width}.png`, fullPage: true })
  }
}

test.group('Browser: memberships', (group) => {
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

  test('a creator offers a membership; a viewer joins by card from the creator’s page, it renews on the stand-in’s test clock, and is cancelled from the library', async ({ assert }) => {
    const { user: creator } = await loggedIn('ann', 'creator')
    const episode = await listedVideo(creator, { title: 'Episode one' })
    await listedVideo(creator, { title: 'Episode two' })
    await loggedIn('vera')

    const studio = await browser.newPage({ baseURL: env.get('APP_URL') })
    await logIn(studio, 'ann')
    await studio.goto('/studio/membership')
    await studio.fill('#field-price', '4.50')
    await studio.fill('#field-title', 'Supporters')
    await Promise.all([studio.waitForURL('/studio/membership'), studio.click('button:text-is("Offer a membership")')])
    assert.include(await studio.textContent('[data-membership-status="on"]'), '$4.50 a month')
    await shoot(studio, 'studio')

    const viewer = await browser.newPage({ baseURL: env.get('APP_URL') })
    await logIn(viewer, 'vera')
    // The video page lists the membership among the ways to watch, linking to its page.
    await viewer.goto(`/videos/${episode.id}`)
    assert.isTrue(await viewer.locator('[data-sale-option="membership:creator"] a[href^="/memberships/"]').count() > 0)
    await shoot(viewer, 'video-page')
    await viewer.goto('/@ann')
    await shoot(viewer, 'creator-page')
    await Promise.all([viewer.waitForURL(/\/memberships\//), viewer.click('text=See the membership')])
    assert.include(await viewer.textContent('[data-membership-vs-pass]'), 'cannot charge again')
    await shoot(viewer, 'membership-page')

    // Stripe's hosted page (the stand-in's), in subscription mode, then back to the library.
    stripe.clockForNewCustomers = stripe.createTestClock(Math.floor(Date.now() / 1000), 'Browser clock').id
    await Promise.all([viewer.waitForURL(/\/c\/pay\/cs_test_/), viewer.click('button:text-is("Join with Card (Stripe)")')])
    assert.include(await viewer.textContent('[data-testid="amount-total"]'), '$4.50')
    await Promise.all([viewer.waitForURL(/\/library\/memberships\?joined=/), viewer.click('button:text-is("Pay")')])
    assert.include(await viewer.textContent('[data-memberships]'), 'Active')
    await shoot(viewer, 'library')
    // A month later on the stand-in's test clock page: the membership renews (a second invoice, a second order).
    const renewsOn = (await viewer.textContent('[data-membership-state]'))!.match(/Renews on ([^.]+)\./)![1]
    const clocks = await browser.newPage()
    await clocks.goto(`${stripe.url}/test_clocks`)
    await Promise.all([clocks.waitForURL(/\/test_clocks$/), clocks.click('button:text-is("Advance one month")')])
    assert.include(await clocks.textContent('main'), '2 paid invoice(s)')
    await shoot(clocks, 'stand-in-test-clocks')
    await clocks.close()
    await viewer.reload()
    const renewedOn = (await viewer.textContent('[data-membership-state]'))!.match(/Renews on ([^.]+)\./)![1]
    assert.notEqual(renewedOn, renewsOn)
    assert.lengthOf(await Order.query().where('offerKind', 'membership').where('status', 'paid'), 2)

    // A member watches any of her videos: the page says so.
    await viewer.goto(`/videos/${episode.id}`)
    assert.include(await viewer.textContent('[data-holding="membership"]'), 'Member until')
    await shoot(viewer, 'video-page-member')
    await viewer.goto('/library/memberships')

    await viewer.click('button:text-is("Cancel membership")')
    await viewer.click('dialog.confirm[open] [data-confirm-accept]')
    await viewer.locator('main .alert.success', { hasText: 'Membership cancelled' }).waitFor({ timeout: 30_000 })
    assert.include(await viewer.textContent('[data-memberships]'), 'Cancelled')
    await shoot(viewer, 'library-cancelled')
    await stripe.settled()
    const subscription = await Subscription.firstOrFail()
    assert.equal(subscription.status, 'canceled')
    assert.isTrue(stripe.subscription(subscription.providerSubscriptionRef!)!.cancel_at_period_end)
    await studio.close()
    await viewer.close()
  })
})
