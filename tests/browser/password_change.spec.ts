/// <reference lib="dom" />
import { test } from '@japa/runner'
import env from '#start/env'
import type { Browser } from 'playwright-core'
import { launchChromium, logIn, playsFor } from '#tests/helpers/browser'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readyVideo } from '#tests/helpers/videos'

test.group('Browser: a password change elsewhere', (group) => {
  let browser: Browser

  group.setup(async () => {
    await resetState()
    browser = await launchChromium()
    return () => browser.close()
  })

  test('stops the player of the other browser at once, and its next page is a guest\'s', async ({ assert }) => {
    const { user: creator } = await loggedIn('studio', 'creator')
    const video = await readyVideo(creator, { title: 'Shared account', priceMinor: 0, watermarkEnabled: false })
    const { client: other } = await loggedIn('sam')

    const page = await browser.newPage({ baseURL: env.get('APP_URL') })
    await logIn(page, 'sam')
    await page.goto(`/videos/${video.id}`)
    await playsFor(page, 2)

    const changed = await other.submit('/account', '/account/password', {
      current_password: 'correct horse battery',
      password: 'another good secret 9',
      password_confirmation: 'another good secret 9',
    })
    assert.equal(changed.location, '/account')
    const changedAt = Date.now()
    // Told over Transmit, not after playing out its buffer.
    await page.waitForSelector('[data-player][data-state="session_revoked"]', { timeout: 5_000 })
    assert.isBelow(Date.now() - changedAt, 5_000)
    assert.include(await page.textContent('[data-player-message]'), 'Playback was stopped')

    await page.goto('/account')
    assert.match(page.url(), /\/login$/)
    assert.include(await page.textContent('main'), 'Your password was changed, so you were logged out here.')
    await page.close()
  }).timeout(120_000)
})
