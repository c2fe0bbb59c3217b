/// <reference lib="dom" />
import { chromium, type Page } from 'playwright-core'

/** Debian's Chromium, headless, never a downloaded browser. */
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  })
}

/** Logs in through the login form (users made by `loggedIn` share one password). */
export async function logIn(page: Page, username: string) {
  await page.goto('/login')
  await page.fill('input[name="login"]', username)
  await page.fill('input[name="password"]', 'correct horse battery')
  await Promise.all([page.waitForURL('/'), page.click('button[type="submit"]')])
}

/** From the order page: "Watch now", then the player plays at least 2 s (muted, so autoplay is allowed). */
export async function watchNowPlays(page: Page, videoId: string) {
  await Promise.all([page.waitForURL(`/videos/${videoId}`), page.click('text=Watch now')])
  await playsFor(page, 2, 30_000)
}

/** Once the player is ready: plays muted (autoplay is allowed then) until `seconds` of the video have played. */
export async function playsFor(page: Page, seconds: number, timeoutMs = 60_000) {
  await page.waitForSelector('[data-player][data-state="playing"]')
  await page.evaluate(() => {
    const element = document.querySelector('video')!
    element.muted = true
    return element.play()
  })
  await page.waitForFunction((at) => document.querySelector('video')!.currentTime >= at, seconds, { timeout: timeoutMs })
}

/** axe-core's serious and critical violations of the page (its browser build, evaluated over CDP, so the CSP allows it). */
export async function seriousAxeViolations(page: Page) {
  const { readFile } = await import('node:fs/promises')
  const { createRequire } = await import('node:module')
  await page.evaluate(await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'))
  const found: Array<{ id: string; impact: string; targets: string[] }> = await page.evaluate(() =>
    (window as any).axe.run(document, { resultTypes: ['violations'] }).then((result: any) =>
      result.violations.map((v: any) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n: any) => n.target.join(' ')) }))
    )
  )
  return found.filter((violation) => ['serious', 'critical'].includes(violation.impact))
}
