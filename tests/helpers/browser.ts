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
