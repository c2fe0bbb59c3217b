/// <reference lib="dom" />
import { test } from '@japa/runner'
import { mkdir } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import type { Browser } from 'playwright-core'
import { launchChromium, logIn, playsFor } from '#tests/helpers/browser'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import { startWorker, type RunningWorker } from '#tests/helpers/processes'
import User from '#models/user'
import type Video from '#models/video'
import PlaybackSession from '#models/playback_session'

test.group('Browser: watching a watermarked video', (group) => {
  let worker: RunningWorker
  let browser: Browser
  let video: Video

  group.setup(async () => {
    await resetState()
    worker = await startWorker(['watermark', 'watermark_ahead'])
    browser = await launchChromium()
    const { user: creator } = await loggedIn('studio', 'creator')
    video = await readyVideo(creator, { title: 'Thirty seconds', priceMinor: 0, watermarkEnabled: true, source: await media.feature() })
    return async () => {
      await browser.close()
      await worker.stop()
    }
  })

  test('a viewer plays with hls.js for 10 s, seeks to the middle and plays on', async ({ assert }) => {
    await loggedIn('vera')

    const page = await browser.newPage({ baseURL: env.get('APP_URL') })
    const consoleErrors: string[] = []
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()))
    const failed: string[] = []
    page.on('response', (response) => response.status() >= 400 && failed.push(`${response.status()} ${response.url()}`))
    const segments: string[] = []
    page.on('request', (request) => {
      const match = request.url().match(/\/play\/[^/]+\/(\w+\/wm_\d+\.ts)/)
      if (match) segments.push(match[1])
    })

    await logIn(page, 'vera')

    await page.goto(`/videos/${video.id}`)
    await page.waitForSelector('[data-player][data-state="playing"]')
    assert.equal(await page.getAttribute('[data-player]', 'data-watermarked'), 'true')
    assert.equal((await page.textContent('[data-player-marked]'))?.trim(), 'Your copy is marked with your name.')
    const currentTime = () => page.evaluate(() => document.querySelector('video')!.currentTime)
    await playsFor(page, 10)
    assert.isAtLeast(await currentTime(), 10)

    // The quality menu lists the watermarked ladder (480p max here), highest first, then Auto.
    const options = await page.locator('media-rendition-menu [role="menuitemradio"]').allTextContents()
    assert.deepEqual(options.slice(0, 3).map((text) => text.trim()), ['480p', '360p', '240p'])
    assert.match(options[3].trim(), /^Auto/)

    // Seek to the middle and keep playing.
    await page.evaluate(() => {
      document.querySelector('video')!.currentTime = 15
    })
    await page.waitForFunction(() => document.querySelector('video')!.currentTime >= 18, null, { timeout: 60_000 })
    assert.isFalse(await page.evaluate(() => document.querySelector('video')!.paused))

    const player = await page.$eval('[data-player]', (node) => ({ ...(node as HTMLElement).dataset }))
    assert.equal(player.state, 'playing')
    assert.isUndefined(player.lastError)
    assert.isTrue(segments.some((path) => /wm_0000[34]\.ts$/.test(path)), segments.join(' '))
    assert.deepEqual(failed, [], failed.join(' '))
    assert.deepEqual(consoleErrors, [])

    const dir = app.makePath('tmp/screenshots')
    await mkdir(dir, { recursive: true })
    await page.screenshot({ path: `${dir}/player.png` })
  }).timeout(180_000)

  test('an admin bans the viewer mid-playback: the player stops at once and says why', async ({ assert }) => {
    await loggedIn('troll')
    const { client: admin } = await loggedIn('root', 'admin')
    const page = await browser.newPage({ baseURL: env.get('APP_URL') })
    await logIn(page, 'troll')
    await page.goto(`/videos/${video.id}`)
    await playsFor(page, 3)

    const troll = await User.findByOrFail('username', 'troll')
    const banned = await admin.submit('/admin/users', `/admin/users/${troll.id}/ban`, { reason: 'sharing recordings' })
    assert.equal(banned.status, 302)
    const bannedAt = Date.now()
    // Not after playing out its buffer (16 s ahead): the revocation is pushed to the player.
    await page.waitForSelector('[data-player][data-state="ban"]', { timeout: 5_000 })
    const stoppedAfter = Date.now() - bannedAt
    assert.include(await page.textContent('[data-player-message]'), 'this account is banned')
    await page.screenshot({ path: app.makePath('tmp/screenshots/player-stopped.png') })
    const position = await page.evaluate(() => document.querySelector('video')!.currentTime)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    assert.equal(await page.evaluate(() => document.querySelector('video')!.currentTime), position, 'the video kept playing')
    assert.isBelow(stoppedAfter, 5_000)
    // The stream itself is refused too: the session is revoked server-side.
    const session = await PlaybackSession.findOrFail(await page.getAttribute('[data-player]', 'data-session-id'))
    assert.equal(session.revokeReason, 'ban')
    await page.close()
  }).timeout(180_000)
})
