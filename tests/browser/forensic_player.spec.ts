/// <reference lib="dom" />
import { test } from '@japa/runner'
import env from '#start/env'
import type { Browser } from 'playwright-core'
import { launchChromium, logIn, playsFor } from '#tests/helpers/browser'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import type Video from '#models/video'

test.group('Browser: watching a forensic video', (group) => {
  let browser: Browser
  let video: Video

  group.setup(async () => {
    await resetState()
    browser = await launchChromium()
    const { user: creator } = await loggedIn('studio', 'creator')
    video = await readyVideo(creator, { title: 'Thirty seconds', priceMinor: 0, watermarkMode: 'forensic', source: await media.feature() })
    return () => browser.close()
  })
  group.each.timeout(180_000)

  test('the player draws the viewer\'s name over the picture and moves it as the video plays; the segments are the stored A/B ones (no render)', async ({ assert }) => {
    await loggedIn('wren')
    const page = await browser.newPage({ baseURL: env.get('APP_URL') })
    const consoleErrors: string[] = []
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()))
    const media: string[] = []
    page.on('request', (request) => {
      const match = request.url().match(/\/play\/[^/]+\/(\w+\/(?:seg_\d+\.m4s|wm_\d+\.ts))/)
      if (match) media.push(match[1])
    })

    await logIn(page, 'wren')
    await page.goto(`/videos/${video.id}`)
    await page.waitForSelector('[data-player][data-state="playing"]')
    assert.equal(await page.getAttribute('[data-player]', 'data-watermarked'), 'false')
    const overlay = page.locator('[data-player-overlay]')
    await overlay.waitFor({ state: 'visible' })
    assert.include(await overlay.textContent(), '@wren')
    // Inside the player's controller: it goes fullscreen with the picture.
    assert.isTrue(await overlay.evaluate((node) => node.parentElement?.tagName === 'MEDIA-CONTROLLER'))
    const where = () => overlay.evaluate((node) => ({ slot: (node as HTMLElement).dataset.slot, left: (node as HTMLElement).style.left, top: (node as HTMLElement).style.top }))
    const first = await where()

    // Past the first interval (5 s): the name jumps to the session's next position.
    await playsFor(page, 6)
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-player-overlay]')?.dataset.slot !== '0', null, { timeout: 30_000 })
    const second = await where()
    assert.notEqual(second.slot, first.slot)
    assert.notDeepEqual([second.left, second.top], [first.left, first.top])

    assert.isNotEmpty(media)
    assert.isTrue(media.every((path) => /seg_\d+\.m4s$/.test(path)), media.join(' '))
    assert.deepEqual(consoleErrors, [], consoleErrors.join(' | '))
    await page.close()
  })
})
