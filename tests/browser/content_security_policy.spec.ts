/// <reference lib="dom" />
import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import env from '#start/env'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, logIn, playsFor } from '#tests/helpers/browser'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import Order from '#models/order'
import Video from '#models/video'
import { listedVideo } from '#tests/helpers/commerce'

/**
 * A page that records every Content-Security-Policy violation (the
 * `securitypolicyviolation` event, in the page and in workers' reports
 * surfacing on the console) from its first script on.
 */
async function watchedPage(browser: Browser) {
  const page = await browser.newPage({ baseURL: env.get('APP_URL') })
  const violations: string[] = []
  page.on('console', (message) => {
    if (/Content Security Policy|Content-Security-Policy/i.test(message.text())) violations.push(`console: ${message.text()}`)
  })
  await page.exposeFunction('__cspViolation', (text: string) => violations.push(text))
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      ;(window as any).__cspViolation(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`)
    })
  })
  return { page, violations }
}

async function cspOf(page: Page, path: string) {
  const response = await page.goto(path)
  return { csp: (await response!.allHeaders())['content-security-policy'] ?? '', referrer: (await response!.allHeaders())['referrer-policy'] }
}

test.group('Browser: Content-Security-Policy', (group) => {
  let browser: Browser

  group.setup(async () => {
    browser = await launchChromium()
    return () => browser.close()
  })
  group.each.setup(() => resetState())

  test('the video page and the player (hls.js, its worker, Transmit) work with the policy on, with no violation', async ({ assert }) => {
    const { user: creator } = await loggedIn('studio', 'creator')
    const video = await readyVideo(creator, { title: 'Under policy', priceMinor: 0, watermarkEnabled: false })
    await loggedIn('vera')
    const { page, violations } = await watchedPage(browser)
    await logIn(page, 'vera')

    const { csp, referrer } = await cspOf(page, `/videos/${video.id}`)
    assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9_-]+'/)
    assert.include(csp, "object-src 'none'")
    assert.notInclude(csp.split(';').find((d) => d.trim().startsWith('script-src')) ?? '', 'unsafe-inline')
    assert.equal(referrer, 'same-origin')

    await playsFor(page, 3, 60_000)
    assert.isAtLeast(await page.evaluate(() => document.querySelector('video')!.currentTime), 3)
    // hls.js did play through Media Source Extensions (a blob: source), not a fallback.
    assert.match(await page.evaluate(() => document.querySelector('video')!.currentSrc), /^blob:/)
    assert.deepEqual(violations, [])
  }).timeout(180_000)

  test('the nonced script of the order page runs; injected inline scripts would not', async ({ assert }) => {
    const { user: creator } = await loggedIn('seller', 'creator')
    const { user: buyer } = await loggedIn('buyer')
    const video = await listedVideo(creator, { title: 'Waiting film', priceMinor: 500 })
    const order = await Order.create({
      id: randomUUID(), videoId: video.id, buyerId: buyer.id, creatorId: creator.id, provider: 'stripe', status: 'pending',
      amountMinor: 500, currency: 'USD', platformFeeBps: 1000, platformFeeMinor: 50, creatorPayout: 'owed',
      expiresAt: DateTime.now().plus({ hours: 1 }),
    })
    const { page, violations } = await watchedPage(browser)
    await logIn(page, 'buyer')
    const polled = page.waitForRequest((request) => request.url().endsWith(`/orders/${order.id}/status`), { timeout: 15_000 })
    await page.goto(`/orders/${order.id}/complete`)
    await polled
    // The page's own poller reloads it once the order is paid.
    await Order.query().where('id', order.id).update({ status: 'paid' })
    await page.waitForSelector('text=Payment received', { timeout: 20_000 })

    // A script without the nonce (as an injection would be) is refused and reported.
    await page.evaluate(() => {
      const script = document.createElement('script')
      script.textContent = 'window.__injected = true'
      document.body.append(script)
    })
    // The violation report is an event: wait for it (a loaded machine is slow), at most 10 s.
    for (let waited = 0; waited < 10_000 && !violations.some((v) => v.startsWith('script-src')); waited += 100) {
      await page.waitForTimeout(100)
    }
    assert.isUndefined(await page.evaluate(() => (window as any).__injected))
    assert.lengthOf(violations.filter((v) => v.startsWith('script-src')), 1, violations.join('\n'))
  }).timeout(60_000)

  test('delete asks first without an inline handler (data-confirm)', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { title: 'Keep me', priceMinor: 0 })
    const { page, violations } = await watchedPage(browser)
    await logIn(page, 'maker')
    await page.goto(`/studio/videos/${video.id}/edit`)
    // The page's own <dialog> asks (resources/js/app.js); Cancel keeps the video.
    await page.click('form.danger button[type="submit"]')
    const dialog = page.locator('dialog.confirm[open]')
    await dialog.waitFor({ timeout: 10_000 })
    assert.match((await dialog.locator('h2').textContent())!, /^Delete this video/)
    assert.equal((await dialog.locator('[data-confirm-accept]').textContent())!.trim(), 'Delete this video')
    await dialog.locator('[data-confirm-cancel]').click()
    await page.waitForTimeout(300)
    assert.equal(await page.locator('dialog.confirm[open]').count(), 0)
    assert.isNotNull(await Video.find(video.id))
    assert.deepEqual(violations, [])
  }).timeout(60_000)
})
