/// <reference lib="dom" />
import { test } from '@japa/runner'
import { mkdir } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, logIn } from '#tests/helpers/browser'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import captions from '#services/captions/caption_service'
import playback from '#services/playback_service'
import User from '#models/user'
import type Video from '#models/video'
import { writeFile } from 'node:fs/promises'

const SRT = Array.from({ length: 15 }, (_, i) => `${i + 1}\n00:00:${String(i * 2).padStart(2, '0')},000 --> 00:00:${String(i * 2 + 2).padStart(2, '0')},000\nLine number ${i + 1}\n`).join('\n')

/** Watches a page for what a person would notice: console errors, failed requests, CSP refusals. */
function watch(page: Page) {
  const problems: string[] = []
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`))
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('response', (response) => response.status() >= 400 && problems.push(`${response.status()} ${response.url()}`))
  return problems
}

const currentTime = (page: Page) => page.evaluate(() => document.querySelector('video')!.currentTime)

test.group('Browser: the media-chrome player', (group) => {
  let browser: Browser
  let video: Video

  group.setup(async () => {
    await resetState()
    browser = await launchChromium()
    const { user: creator } = await loggedIn('studio', 'creator')
    // Unprotected: the whole ladder (240p to 720p of the 30 s feature) is offered.
    video = await readyVideo(creator, { title: 'Thirty seconds', priceMinor: 0, watermarkMode: 'off', source: await media.feature() })
    const srt = app.makePath('tmp/h-player-captions.srt')
    await writeFile(srt, SRT)
    await captions.save(video, { language: 'en', path: srt, fileName: 'film.srt' })
    return () => browser.close()
  })
  group.each.timeout(180_000)

  test('play by clicking the picture, seek with a preview thumbnail, switch quality, captions on, fullscreen', async ({ assert }) => {
    await loggedIn('vera')
    const page = await browser.newPage({ baseURL: env.get('APP_URL'), viewport: { width: 1280, height: 800 } })
    const problems = watch(page)
    await logIn(page, 'vera')
    await page.goto(`/videos/${video.id}`)
    await page.waitForSelector('[data-player][data-state="playing"]')
    // The controls are media-chrome's, over the picture: no native controls.
    assert.isFalse(await page.evaluate(() => document.querySelector('video')!.controls))
    await page.waitForSelector('media-controller [data-player-big-play]', { state: 'visible' })

    // Clicking the picture plays (muted first: headless Chromium has no audio device to start).
    await page.evaluate(() => (document.querySelector('video')!.muted = true))
    await page.locator('media-controller').click({ position: { x: 400, y: 150 } })
    await page.waitForFunction(() => document.querySelector('video')!.currentTime >= 2, null, { timeout: 60_000 })
    assert.isFalse(await page.evaluate(() => document.querySelector('video')!.paused))
    await page.waitForSelector('media-controller [data-player-big-play]', { state: 'hidden' })

    // Hovering the seek bar shows a thumbnail cut from the sprite (a signed URL of the session).
    const seek = page.locator('media-time-range')
    const box = (await seek.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2)
    const preview = page.locator('media-time-range media-preview-thumbnail')
    await page.waitForFunction(
      () => document.querySelector('media-time-range')?.shadowRoot?.querySelector('media-preview-thumbnail')?.getAttribute('mediapreviewimage')?.includes('/thumbnails.jpg?'),
      null,
      { timeout: 10_000 }
    )
    await preview.waitFor({ state: 'visible' })
    await page.screenshot({ path: app.makePath('tmp/screenshots/player-seek-preview-1280.png') })
    const thumbnail = await preview.evaluate((node) => {
      const img = node.shadowRoot!.querySelector('img')!
      return { loaded: img.complete && img.naturalWidth > 0, src: img.src }
    })
    assert.isTrue(thumbnail.loaded, thumbnail.src)
    // Clicking there seeks.
    await page.mouse.click(box.x + box.width * 0.6, box.y + box.height / 2)
    await page.waitForFunction(() => document.querySelector('video')!.currentTime >= 17, null, { timeout: 30_000 })

    // Quality: Settings → Quality → 240p; hls.js switches to it.
    await page.locator('media-settings-menu-button').click()
    await page.locator('media-settings-menu-item', { hasText: 'Quality' }).click()
    const qualities = await page.locator('media-rendition-menu [role="menuitemradio"]').allTextContents()
    // The feature is 480p: its ladder, highest first, then Auto (with what it plays now).
    assert.deepEqual(qualities.slice(0, 3).map((text) => text.trim()), ['480p', '360p', '240p'])
    assert.match(qualities[3].trim(), /^Auto/)
    await page.locator('media-rendition-menu [role="menuitemradio"]', { hasText: '240p' }).click()
    await page.waitForSelector('[data-player][data-level="240"]', { state: 'attached', timeout: 30_000 })

    // Captions: the button turns the English track on, and its cue shows.
    await page.locator('media-captions-button').click()
    await page.waitForFunction(() => {
      const track = Array.from(document.querySelector('video')!.textTracks).find((t) => t.kind === 'subtitles')
      return track?.mode === 'showing' && (track.activeCues?.length ?? 0) > 0
    }, null, { timeout: 10_000 })
    const cue = await page.evaluate(() => {
      const track = Array.from(document.querySelector('video')!.textTracks).find((t) => t.kind === 'subtitles')!
      return { language: track.language, text: (track.activeCues![0] as VTTCue).text }
    })
    assert.equal(cue.language, 'en')
    assert.match(cue.text, /^Line number \d+$/)

    const dir = app.makePath('tmp/screenshots')
    await mkdir(dir, { recursive: true })
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: `${dir}/player-1280.png` })

    // Fullscreen: the controller (controls, captions, overlays) goes fullscreen, and comes back.
    await page.locator('media-fullscreen-button').click()
    await page.waitForFunction(() => document.fullscreenElement?.tagName === 'MEDIA-CONTROLLER', null, { timeout: 10_000 })
    assert.isFalse(await page.evaluate(() => document.querySelector('video')!.paused))
    await page.keyboard.press('f')
    await page.waitForFunction(() => !document.fullscreenElement, null, { timeout: 10_000 })

    // Keyboard: k (or space) pauses.
    await page.locator('media-controller').focus()
    await page.keyboard.press('k')
    await page.waitForFunction(() => document.querySelector('video')!.paused, null, { timeout: 5_000 })

    assert.deepEqual(problems, [])
    await page.close()
  })

  test('a viewer who stopped part-way is offered to resume there, or start over; on a phone too', async ({ assert }) => {
    const { user } = await loggedIn('rhea')
    const viewer = await User.findOrFail(user.id)
    const page = await browser.newPage({ baseURL: env.get('APP_URL'), viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
    const problems = watch(page)
    await logIn(page, 'rhea')
    // Watched 12 s last time.
    const opened = await playback.open({ user: viewer, video, deviceId: 'earlier', userAgent: 'test' })
    await playback.savePosition({ sessionId: opened.session.id, user: viewer, seconds: 12 })

    await page.goto(`/videos/${video.id}`)
    const prompt = page.locator('[data-player-resume]')
    await prompt.waitFor({ state: 'visible' })
    await mkdir(app.makePath('tmp/screenshots'), { recursive: true })
    await page.screenshot({ path: app.makePath('tmp/screenshots/player-resume-390.png') })
    assert.equal((await page.textContent('[data-player-resume-at]'))?.trim(), '0:12')
    await page.waitForFunction(() => document.querySelector('video')!.currentTime >= 11.5, null, { timeout: 30_000 })
    await page.evaluate(() => (document.querySelector('video')!.muted = true))
    await page.click('[data-player-resume-continue]')
    await page.waitForFunction(() => document.querySelector('video')!.currentTime >= 14, null, { timeout: 30_000 })
    await prompt.waitFor({ state: 'hidden' })

    const dir = app.makePath('tmp/screenshots')
    await mkdir(dir, { recursive: true })
    await page.screenshot({ path: `${dir}/player-390.png`, fullPage: true })
    // Nothing wider than the phone.
    assert.isAtMost(await page.evaluate(() => document.documentElement.scrollWidth), 390)

    // "Start over" goes back to the beginning.
    await page.reload()
    await prompt.waitFor({ state: 'visible' })
    await page.evaluate(() => (document.querySelector('video')!.muted = true))
    await page.click('[data-player-resume-restart]')
    await page.waitForFunction(() => {
      const element = document.querySelector('video')!
      return !element.paused && element.currentTime > 0.5 && element.currentTime < 8
    }, null, { timeout: 30_000 })
    assert.isBelow(await currentTime(page), 8)
    assert.deepEqual(problems, [])
    await page.close()
  })

  test('a creator uploads SRT captions through the Studio form; a bad file is refused next to its field', async ({ assert }) => {
    const page = await browser.newPage({ baseURL: env.get('APP_URL'), viewport: { width: 1280, height: 800 } })
    const problems = watch(page)
    await logIn(page, 'studio')
    await page.goto(`/studio/videos/${video.id}/edit`)
    await Promise.all([page.waitForURL(`/studio/videos/${video.id}/captions`), page.click('a[href$="/captions"]')])

    await page.fill('input[name="language"]', 'fr')
    await page.setInputFiles('input[name="file"]', { name: 'notes.srt', mimeType: 'application/x-subrip', buffer: Buffer.from('not subtitles at all') })
    await Promise.all([page.waitForURL(`/studio/videos/${video.id}/captions`), page.click('[data-caption-form] button[type="submit"]')])
    assert.match((await page.textContent('#field-file-error'))!, /not a WebVTT or SRT subtitle file/)
    assert.equal(await page.locator('[data-caption="fr"]').count(), 0)

    await page.fill('input[name="language"]', 'fr')
    await page.setInputFiles('input[name="file"]', { name: 'film.srt', mimeType: 'application/x-subrip', buffer: Buffer.from(SRT) })
    await Promise.all([page.waitForURL(`/studio/videos/${video.id}/captions`), page.click('[data-caption-form] button[type="submit"]')])
    await page.locator('[data-caption="fr"]').waitFor()
    assert.include(await page.textContent('[data-caption="fr"]'), 'French')

    const dir = app.makePath('tmp/screenshots')
    await mkdir(dir, { recursive: true })
    await page.screenshot({ path: `${dir}/studio-captions-1280.png`, fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.screenshot({ path: `${dir}/studio-captions-390.png`, fullPage: true })
    assert.isAtMost(await page.evaluate(() => document.documentElement.scrollWidth), 390)
    assert.deepEqual(problems, [])
    await page.close()
  })
})
