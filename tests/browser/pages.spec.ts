/// <reference lib="dom" />
import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import env from '#start/env'
import Offer from '#models/offer'
import Order from '#models/order'
import User from '#models/user'
import type Video from '#models/video'
import { launchChromium, logIn } from '#tests/helpers/browser'
import { listedVideo } from '#tests/helpers/commerce'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readyVideo } from '#tests/helpers/videos'

/*
|--------------------------------------------------------------------------
| Every page as a person sees it
|--------------------------------------------------------------------------
| Visits every page of start/routes.ts (and the plugins' pages) as anonymous,
| viewer, creator and admin, on a phone (390×844) and a desktop (1280×800),
| and fails on: a page wider than the screen, a console error or uncaught
| exception, a request that failed or answered 4xx/5xx (the error pages'
| own documents excepted), and, on the catalog, video, checkout, studio and
| admin pages, an axe-core violation of serious or critical impact. Each
| page is saved to tmp/screenshots/<role>-<page>-<width>.png, and every
| problem to tmp/screenshots/report.json.
|
| One browser; one context per role and width, logged in once.
*/

const WIDTHS = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
] as const
const SCREENSHOTS = 'tmp/screenshots'
const ROLES = ['anonymous', 'viewer', 'creator', 'admin'] as const
type Role = (typeof ROLES)[number]

interface Visit {
  name: string
  path: string
  /** The document's status (default 200): the error pages answer 403, 404, 410, 429. */
  status?: number
  /** Run axe-core (catalog, video, checkout, studio and admin pages). */
  axe?: boolean
  /** Gets the page there another way than a GET (the 429 page is the answer to a form). */
  reach?: (page: Page) => Promise<number>
}

interface Problem {
  page: string
  kind: 'status' | 'overflow' | 'console' | 'exception' | 'request' | 'axe'
  detail: string
}

/** axe-core's browser build, evaluated in the page (CDP evaluation is not subject to the CSP; an inline <script> would be). */
const axeSource = async () => readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

interface Fixture {
  users: Record<Exclude<Role, 'anonymous'>, string>
  free: Video
  paid: Video
  draft: Video
  paidOrder: Order
  pendingOrder: Order
  walletOrder: Order
  /** A paid video the viewer has not bought: the providers' buy buttons (for its price, its rental, a bundle, a pass). */
  forSale: Video
  /** The creator's bundle (Studio → Offers → Edit). */
  bundle: Offer
}

async function seed(): Promise<Fixture> {
  await resetState()
  const { user: creator } = await loggedIn('studio_sam', 'creator')
  const { user: viewer } = await loggedIn('vera')
  await loggedIn('root_admin', 'admin')
  await User.create({
    username: 'applicant_ann',
    email: 'ann@example.com',
    password: 'correct horse battery',
    role: 'viewer',
    creatorStatus: 'pending',
    creatorAppliedAt: DateTime.now(),
  } as any)
  // The videos whose page has a player are transcoded for real; the others are catalog rows with the same poster.
  const free = await readyVideo(creator, { title: 'Northern Lights over the Fjord', priceMinor: 0, watermarkEnabled: false })
  const paid = await readyVideo(creator, { title: 'The Long Take: a documentary about one-shot cinema', priceMinor: 1299, watermarkEnabled: false })
  const listed = async (title: string, options: Parameters<typeof listedVideo>[1] = {}) => {
    const video = await listedVideo(creator, { title, ...options })
    return video.merge({ posterKey: free.posterKey }).save()
  }
  const draft = await listed('Draft cut', { priceMinor: 499, visibility: 'draft' })
  await listed('City at Dawn', { priceMinor: 499 })

  const order = (fields: Record<string, unknown>) =>
    Order.create({
      id: randomUUID(),
      buyerId: viewer.id,
      creatorId: creator.id,
      amountMinor: 1299,
      currency: 'USD',
      platformFeeBps: 1000,
      platformFeeMinor: 130,
      creatorPayout: 'owed',
      expiresAt: DateTime.now().plus({ hours: 1 }),
      ...fields,
    } as any)
  const paidOrder = await order({ videoId: paid.id, provider: 'stripe', status: 'paid', paidAt: DateTime.now() })
  const other = await listed('Kitchen Stories, Episode 4', { priceMinor: 1299 })
  const pendingOrder = await order({ videoId: other.id, provider: 'stripe', status: 'pending', checkoutUrl: 'https://checkout.stripe.test/c/pay/cs_test' })
  // A wallet order as x402's createCheckout leaves it: the order page shows the plugin's panel.
  const walletVideo = await listed('Harbour Lights', { priceMinor: 1299 })
  const walletOrder = await order({
    videoId: walletVideo.id,
    provider: 'x402',
    status: 'pending',
    checkoutAction: {
      chainId: 31337,
      contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      confirmations: 3,
      deadline: Math.floor(Date.now() / 1000) + 900,
      options: [{ token: '0x0000000000000000000000000000000000000000', display: '0.00433 ETH', permit: false }],
    },
  })
  // Ways to get the video for sale besides its price: a rental, a bundle, a pass; the viewer rents another.
  const offer = (fields: Record<string, unknown>) =>
    Offer.create({ id: randomUUID(), creatorId: creator.id, currency: 'USD', active: true, ...fields } as any)
  await offer({ kind: 'rental', scope: 'video', videoId: walletVideo.id, rentalHours: 48, startWindowDays: 30, priceMinor: 399 })
  const bundle = await offer({ kind: 'purchase', scope: 'bundle', title: 'Harbour and Kitchen', description: 'Two films, to keep.', priceMinor: 1999 })
  await db.table('offer_videos').multiInsert([
    { offer_id: bundle.id, video_id: walletVideo.id, position: 0 },
    { offer_id: bundle.id, video_id: other.id, position: 1 },
  ])
  await offer({ kind: 'pass', scope: 'creator', passDays: 30, priceMinor: 900 })
  const rented = await listed('Rented Evenings', { priceMinor: 799 })
  const rental = await offer({ kind: 'rental', scope: 'video', videoId: rented.id, rentalHours: 48, startWindowDays: 30, priceMinor: 299 })
  const rentalOrder = await order({ videoId: rented.id, offerId: rental.id, offerKind: 'rental', offerScope: 'video', offerTitle: '48-hour rental: Rented Evenings', amountMinor: 299, platformFeeMinor: 29, provider: 'stripe', status: 'paid', paidAt: DateTime.now() })
  await db.table('entitlements').insert({ user_id: viewer.id, order_id: rentalOrder.id, offer_id: rental.id, kind: 'rental', video_id: rented.id, rental_hours: 48, start_by: DateTime.now().plus({ days: 30 }).toJSDate(), created_at: new Date(), updated_at: new Date() })
  return { users: { viewer: 'vera', creator: 'studio_sam', admin: 'root_admin' }, free, paid, draft, paidOrder, pendingOrder, walletOrder, forSale: walletVideo, bundle }
}

/** The pages of each role (start/routes.ts and the plugins' GET pages). */
function visitsOf(role: Role, f: Fixture): Visit[] {
  const everyone: Visit[] = [
    { name: 'catalog', path: '/', axe: true },
    { name: 'catalog-filtered', path: '/?sort=price&filter=paid' },
    { name: 'video-free', path: `/videos/${f.free.id}`, axe: true },
    { name: 'video-paid', path: `/videos/${f.paid.id}`, axe: true },
    { name: 'creator-page', path: '/@studio_sam' },
    { name: 'not-found', path: '/videos/00000000-0000-4000-8000-000000000000', status: 404 },
    { name: 'forgot-password', path: '/forgot-password' },
    { name: 'reset-password-expired', path: '/reset-password/not-a-real-token', status: 410 },
  ]
  switch (role) {
    case 'anonymous':
      return [
        ...everyone,
        { name: 'login', path: '/login' },
        { name: 'register', path: '/register' },
        { name: 'login-required', path: '/library' },
        {
          // Last: it uses up the password reset limit of this address.
          name: 'too-many-requests',
          path: '/forgot-password',
          status: 429,
          reach: async (page) => {
            for (let attempt = 0; attempt < 10; attempt++) {
              await page.goto('/forgot-password')
              await page.fill('input[name="email"]', 'nobody@example.com')
              const [response] = await Promise.all([page.waitForNavigation(), page.click('form[action="/forgot-password"] button[type="submit"]')])
              if (response?.status() === 429) return 429
            }
            return 0
          },
        },
      ]
    case 'viewer':
      return [
        ...everyone,
        { name: 'video-for-sale', path: `/videos/${f.forSale.id}`, axe: true },
        { name: 'library', path: '/library' },
        { name: 'receipt', path: `/library/orders/${f.paidOrder.id}` },
        { name: 'checkout-pending', path: `/orders/${f.pendingOrder.id}/complete`, axe: true },
        { name: 'checkout-wallet', path: `/orders/${f.walletOrder.id}/complete`, axe: true },
        { name: 'checkout-paid', path: `/orders/${f.paidOrder.id}/complete`, axe: true },
        { name: 'checkout-cancelled', path: `/orders/${f.pendingOrder.id}/cancel` },
        { name: 'account', path: '/account' },
        { name: 'forbidden', path: '/admin', status: 403 },
      ]
    case 'creator':
      return [
        ...everyone,
        { name: 'studio-videos', path: '/studio/videos', axe: true },
        { name: 'studio-upload', path: '/studio/videos/new', axe: true },
        { name: 'studio-edit', path: `/studio/videos/${f.draft.id}/edit`, axe: true },
        { name: 'studio-captions', path: `/studio/videos/${f.free.id}/captions`, axe: true },
        { name: 'studio-access', path: `/studio/videos/${f.paid.id}/access`, axe: true },
        { name: 'studio-sales', path: '/studio/sales', axe: true },
        { name: 'studio-offers', path: '/studio/offers', axe: true },
        { name: 'studio-offer-new-pass', path: '/studio/offers/new?kind=pass', axe: true },
        { name: 'studio-offer-edit', path: `/studio/offers/${f.bundle.id}/edit`, axe: true },
        { name: 'stripe-connect', path: '/plugins/stripe/connect' },
        { name: 'crypto-payouts', path: '/plugins/x402/wallet' },
        { name: 'library', path: '/library' },
        { name: 'account', path: '/account' },
      ]
    case 'admin':
      return [
        ...everyone,
        { name: 'admin-overview', path: '/admin', axe: true },
        { name: 'admin-users', path: '/admin/users', axe: true },
        { name: 'admin-users-filtered', path: '/admin/users?role=viewer' },
        { name: 'admin-videos', path: '/admin/videos', axe: true },
        { name: 'admin-trace', path: `/admin/videos/${f.free.id}/trace`, axe: true },
        { name: 'admin-jobs', path: '/admin/jobs', axe: true },
        { name: 'admin-orders', path: '/admin/orders', axe: true },
        { name: 'admin-allowlists', path: '/admin/allowlists', axe: true },
        { name: 'admin-audit', path: '/admin/audit', axe: true },
        { name: 'admin-plugins', path: '/admin/plugins', axe: true },
        { name: 'admin-plugin-settings', path: '/admin/plugins/watermark-text/settings', axe: true },
        { name: 'admin-creator-applications', path: '/admin/creator-applications', axe: true },
        { name: 'admin-bank-transfers', path: '/plugins/bank-transfer/transfers', axe: true },
        { name: 'account', path: '/account' },
      ]
  }
}

/** What a page may legitimately log: the browser's line for an error page's own status. */
function expectedConsole(text: string, visit: Visit) {
  return (visit.status ?? 200) >= 400 && /Failed to load resource: the server responded with a status of \d+/.test(text)
}

/** The elements sticking out past the right edge (the deepest ones), to say where a page overflows. */
async function overflowOf(page: Page) {
  return page.evaluate(() => {
    const width = window.innerWidth
    if (document.documentElement.scrollWidth <= width) return null
    const describe = (element: Element) =>
      element.tagName.toLowerCase() +
      (element.id ? `#${element.id}` : '') +
      (element.classList.length ? `.${Array.from(element.classList).slice(0, 2).join('.')}` : '')
    const wide = Array.from(document.body.querySelectorAll('*'))
      .filter((element) => element.getBoundingClientRect().right > width + 1)
      .filter((element) => !Array.from(element.children).some((child) => child.getBoundingClientRect().right > width + 1))
      .slice(0, 3)
      .map((element) => `${describe(element)} (right ${Math.round(element.getBoundingClientRect().right)}px)`)
    return `scrollWidth ${document.documentElement.scrollWidth}px > ${width}px: ${wide.join(', ')}`
  })
}

async function axeViolations(page: Page, source: string) {
  await page.evaluate(source)
  const results = await page.evaluate(() =>
    (window as any).axe.run(document, { resultTypes: ['violations'] }).then((found: any) =>
      found.violations.map((violation: any) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.slice(0, 3).map((node: any) => node.target.join(' ')),
        count: violation.nodes.length,
      }))
    )
  )
  return (results as Array<{ id: string; impact: string; help: string; targets: string[]; count: number }>).filter((violation) =>
    ['serious', 'critical'].includes(violation.impact)
  )
}

async function contextFor(browser: Browser, role: Role, size: (typeof WIDTHS)[number], users: Fixture['users']) {
  const context = await browser.newContext({ baseURL: env.get('APP_URL'), viewport: size })
  const page = await context.newPage()
  if (role !== 'anonymous') await logIn(page, users[role])
  return { context, page }
}

/** Visits one page and returns what is wrong with it. */
async function check(page: Page, visit: Visit, label: string, axe: string): Promise<Problem[]> {
  const problems: Problem[] = []
  const add = (kind: Problem['kind'], detail: string) => problems.push({ page: label, kind, detail })
  const onConsole = (message: any) => {
    if (message.type() === 'error' && !expectedConsole(message.text(), visit)) add('console', message.text().slice(0, 300))
  }
  const onError = (error: Error) => add('exception', error.message.slice(0, 300))
  const onFailed = (request: any) => {
    const failure = request.failure()?.errorText ?? ''
    // A navigation cancels what the previous page still loaded (the player's segments): not a failure of this page.
    if (failure !== 'net::ERR_ABORTED') add('request', `${request.method()} ${request.url()} failed: ${failure}`)
  }
  const onResponse = (response: any) => {
    if (response.status() < 400) return
    if (response.request().isNavigationRequest() && response.status() === (visit.status ?? 200)) return
    add('request', `${response.request().method()} ${response.url()} answered ${response.status()}`)
  }
  page.on('console', onConsole)
  page.on('pageerror', onError)
  page.on('requestfailed', onFailed)
  page.on('response', onResponse)
  try {
    const status = visit.reach ? await visit.reach(page) : ((await page.goto(visit.path))?.status() ?? 0)
    if (status !== (visit.status ?? 200)) add('status', `${visit.path} answered ${status}, not ${visit.status ?? 200}`)
    await page.waitForLoadState('networkidle', { timeout: 2_000 }).catch(() => {})
    const overflow = await overflowOf(page)
    if (overflow) add('overflow', overflow)
    if (visit.axe) {
      for (const violation of await axeViolations(page, axe)) {
        add('axe', `${violation.impact} ${violation.id} (${violation.help}) on ${violation.count} element(s): ${violation.targets.join(' | ')}`)
      }
    }
    await page.screenshot({ path: app.makePath(SCREENSHOTS, `${label}.png`), fullPage: true })
  } finally {
    page.off('console', onConsole)
    page.off('pageerror', onError)
    page.off('requestfailed', onFailed)
    page.off('response', onResponse)
  }
  return problems
}

test.group('Browser: every page, every role, phone and desktop', (group) => {
  let browser: Browser
  group.setup(async () => {
    browser = await launchChromium()
    return () => browser.close()
  })

  test('no page overflows, logs an error, fails a request or has a serious accessibility violation', async ({ assert }) => {
    const fixture = await seed()
    const axe = await axeSource()
    await mkdir(app.makePath(SCREENSHOTS), { recursive: true })
    const problems: Problem[] = []
    const visited: string[] = []
    // Logged-in roles first: the anonymous pass ends by using up this address's password reset limit.
    for (const role of ['viewer', 'creator', 'admin', 'anonymous'] as const) {
      for (const size of WIDTHS) {
        const { context, page } = await contextFor(browser, role, size, fixture.users)
        try {
          for (const visit of visitsOf(role, fixture)) {
            const label = `${role}-${visit.name}-${size.width}`
            visited.push(label)
            problems.push(...(await check(page, visit, label, axe)))
          }
        } finally {
          await (context as BrowserContext).close()
        }
      }
    }
    await writeFile(app.makePath(SCREENSHOTS, 'report.json'), JSON.stringify({ visited, problems }, null, 2))
    const summary = problems.map((problem) => `${problem.page} [${problem.kind}] ${problem.detail}`).join('\n')
    assert.deepEqual(problems, [], `${problems.length} problem(s) on ${new Set(problems.map((p) => p.page)).size} of ${visited.length} pages:\n${summary}`)
  }).timeout(600_000)
})
