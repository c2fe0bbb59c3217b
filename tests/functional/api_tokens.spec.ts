import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import type User from '#models/user'
import type Video from '#models/video'
import orders from '#services/order_service'
import plugins from '#services/plugins'
import PlaybackSession from '#models/playback_session'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import type { WebClient } from '#tests/helpers/web_client'

const BASE = env.get('APP_URL')
let serial = 0
/** A fresh viewer per test (the group keeps its users and videos). */
const viewer = () => loggedIn(`scripter${++serial}`)

/** A script's call: no cookies, only the bearer token. */
async function script(path: string, token?: string, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(path, BASE), {
    headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  })
  const text = await response.text()
  let body: any = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: response.status, body, headers: response.headers }
}

/** Creates a token on the account page as the user would; returns its secret (shown once). */
async function createToken(client: WebClient, fields: Record<string, string>) {
  const page = await client.get('/account')
  const csrf = page.text.match(/name=['"]_csrf['"] value=['"]([^'"]+)['"]/)![1]
  const form = new URLSearchParams({ _csrf: csrf, name: fields.name ?? 'script', expiresInDays: fields.expiresInDays ?? '30' })
  for (const scope of (fields.scopes ?? 'sessions:open').split(',').filter(Boolean)) form.append('scopes[]', scope)
  const response = await client.request('POST', '/account/tokens', form, { referer: `${BASE}/account` })
  const secret = response.text.match(/data-token-secret>([^<]+)</)?.[1]
  return { response, secret }
}

/** A bank-transfer purchase, paid through the core's payment events (as the plugin reports it). */
async function buy(buyer: User, video: Video) {
  await plugins.settings.get('bank-transfer')!.set({ accountHolder: 'Matinee Films GmbH', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', bankName: 'Commerzbank' })
  const order = await orders.checkout(buyer, video.id, 'bank-transfer')
  await orders.receive('bank-transfer', [
    { eventId: `bank-${order.id}`, type: 'payment.succeeded', orderId: order.id, amount: { amount: Number(video.priceMinor), currency: video.currency } },
  ])
  return order
}

test.group('Personal API tokens', (group) => {
  let owner: User
  let paid: Video
  let other: Video

  group.setup(async () => {
    await resetState()
    ;({ user: owner } = await loggedIn('maker', 'creator'))
    paid = await readyVideo(owner, { title: 'Paid', priceMinor: 499, watermarkEnabled: false })
    other = await readyVideo(owner, { title: 'Other', priceMinor: 299, watermarkEnabled: false })
  })
  group.each.setup(async () => {
    await db.from('auth_access_tokens').delete()
    await db.from('playback_sessions').delete()
  })
  group.each.timeout(60_000)

  test('created on the account page (secret shown once), listed with last use, opens a session for a bought video and plays it', async ({ assert }) => {
    const { user, client } = await viewer()
    await buy(user, paid)
    const { response, secret } = await createToken(client, { name: 'my download script' })
    assert.equal(response.status, 200)
    assert.match(secret!, /^mat_/)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    // Only a hash is stored.
    const row = await db.from('auth_access_tokens').first()
    assert.notInclude(row.hash, secret!.slice(-20))

    // Listed, secret gone, never used.
    let page = await client.get('/account')
    assert.include(page.text, 'my download script')
    assert.notInclude(page.text, secret!)
    assert.match(page.text, /data-label="Last used">Never</)

    const opened = await script(`/api/v1/videos/${paid.id}/session`, secret)
    assert.equal(opened.status, 200, JSON.stringify(opened.body))
    assert.match(opened.body.masterUrl, new RegExp(`^${BASE}/play/[0-9a-f-]{36}/master\\.m3u8\\?exp=\\d+&sig=`))
    assert.isTrue(Date.parse(opened.body.expiresAt) > Date.now())
    assert.isTrue(Date.parse(opened.body.urlExpiresAt) > Date.now())
    const session = await PlaybackSession.findOrFail(opened.body.sessionId)
    assert.equal(session.userId, user.id)

    // The script walks the playlists and fetches a segment with its token (no cookie).
    const master = await script(opened.body.masterUrl, secret)
    assert.equal(master.status, 200)
    const variant = master.body.split('\n').find((line: string) => line.startsWith('/play/'))
    const variantText = (await script(variant, secret)).body as string
    const segment = variantText.split('\n').find((line: string) => line.startsWith('/play/') && !line.includes('init'))!
    const bytes = await fetch(new URL(segment, BASE), { headers: { authorization: `Bearer ${secret}` } })
    assert.equal(bytes.status, 200)
    assert.isAbove((await bytes.arrayBuffer()).byteLength, 1000)
    // Without the token the same signed URL is refused: the URL alone is not enough.
    assert.equal((await script(segment)).status, 401)

    page = await client.get('/account')
    assert.notMatch(page.text, /data-label="Last used">Never</)

    // Reopening with the same token replaces its session (one screen per token).
    const again = await script(`/api/v1/videos/${paid.id}/session`, secret)
    assert.equal(again.status, 200)
    assert.equal((await PlaybackSession.findOrFail(opened.body.sessionId)).revokeReason, 'replaced')
  })

  test('a video not bought: 402 payment_required; a missing one 404; no session either way', async ({ assert }) => {
    const { client } = await viewer()
    const { secret } = await createToken(client, {})
    const refused = await script(`/api/v1/videos/${other.id}/session`, secret)
    assert.equal(refused.status, 402)
    assert.equal(refused.body.error, 'payment_required')
    assert.equal((await script(`/api/v1/videos/${randomUUID()}/session`, secret)).status, 404)
    assert.equal((await script(`/api/v1/videos/not-a-uuid/session`, secret)).status, 404)
    assert.equal(await PlaybackSession.query().count('* as n').then((rows) => Number(rows[0].$extras.n)), 0)
  })

  test('revoked, forged, expired, malformed or absent tokens: 401 JSON, no session', async ({ assert }) => {
    const { user, client } = await viewer()
    await buy(user, paid)
    const { secret } = await createToken(client, {})
    const { secret: expiring } = await createToken(client, { name: 'short' })
    // Expire the second one.
    await db.from('auth_access_tokens').where('name', 'short').update({ expires_at: new Date(Date.now() - 1000) })

    const tokenRow = await db.from('auth_access_tokens').where('name', 'script').first()
    const revoke = await client.submit('/account', `/account/tokens/${tokenRow.id}/revoke`, {})
    assert.equal(revoke.status, 302)
    const page = await client.visit('/account')
    assert.include(page.text, 'The token was revoked')

    const forged = secret!.slice(0, -4) + (secret!.endsWith('aaaa') ? 'bbbb' : 'aaaa')
    for (const [label, header] of [
      ['revoked', `Bearer ${secret}`],
      ['expired', `Bearer ${expiring}`],
      ['forged', `Bearer ${forged}`],
      ['garbage', 'Bearer mat_nope'],
      ['basic', 'Basic dXNlcjpwYXNz'],
    ] as const) {
      const response = await script(`/api/v1/videos/${paid.id}/session`, undefined, { authorization: header })
      assert.equal(response.status, 401, label)
      assert.equal(response.body.error, 'invalid_token', label)
      assert.include(response.headers.get('www-authenticate') ?? '', 'Bearer', label)
    }
    const none = await script(`/api/v1/videos/${paid.id}/session`)
    // No token at all: the x402 paywall answers (402 with what to pay, see x402_protocol.spec.ts).
    assert.equal(none.status, 402)
    assert.equal(await PlaybackSession.query().count('* as n').then((rows) => Number(rows[0].$extras.n)), 0)
    // Someone else's token id: nothing revoked, an error said.
    const { client: stranger } = await viewer()
    const { secret: theirs } = await createToken(stranger, {})
    const theirRow = await db.from('auth_access_tokens').where('tokenable_id', '!=', user.id).first()
    await client.submit('/account', `/account/tokens/${theirRow.id}/revoke`, {})
    assert.include((await client.visit('/account')).text, 'There is no such token')
    assert.equal((await script(`/api/v1/videos/${paid.id}`, theirs)).status, 403)
  })

  test('scopes: a read-only token reads but cannot open sessions (403); a session token cannot read', async ({ assert }) => {
    const { user, client } = await viewer()
    await buy(user, paid)
    const { secret: reader } = await createToken(client, { name: 'reader', scopes: 'videos:read' })
    const { secret: opener } = await createToken(client, { name: 'opener', scopes: 'sessions:open' })

    const denied = await script(`/api/v1/videos/${paid.id}/session`, reader)
    assert.equal(denied.status, 403)
    assert.equal(denied.body.error, 'insufficient_scope')
    assert.equal(await PlaybackSession.query().count('* as n').then((rows) => Number(rows[0].$extras.n)), 0)

    const read = await script(`/api/v1/videos/${paid.id}`, reader)
    assert.equal(read.status, 200)
    assert.deepInclude(read.body, { id: paid.id, title: 'Paid', canWatch: true, via: 'purchase' })
    const notBought = await script(`/api/v1/videos/${other.id}`, reader)
    assert.deepInclude(notBought.body, { canWatch: false, reason: 'payment_required' })
    assert.equal((await script(`/api/v1/videos/${paid.id}`, opener)).status, 403)
  })

  test('bad input on the account page: no name, no scope, unknown scope, bad expiry: nothing created', async ({ assert }) => {
    const { client } = await viewer()
    for (const fields of <Array<Record<string, string>>>[
      { name: '', scopes: 'sessions:open' },
      { name: 'x', scopes: '' },
      { name: 'x', scopes: 'admin:everything' },
      { name: 'x', scopes: 'sessions:open', expiresInDays: '3' },
      { name: 'x'.repeat(81), scopes: 'sessions:open' },
    ]) {
      const { response, secret } = await createToken(client, fields)
      assert.equal(response.status, 302, JSON.stringify(fields))
      assert.isUndefined(secret)
    }
    assert.equal((await db.from('auth_access_tokens').count('* as n'))[0].n, '0')
    // A token for a banned user is refused.
    const { user, client: banned } = await viewer()
    const { secret } = await createToken(banned, {})
    user.bannedAt = (await import('luxon')).DateTime.now()
    await user.save()
    assert.equal((await script(`/api/v1/videos/${paid.id}/session`, secret)).status, 403)
  })
})

test.group('Personal API tokens: the account page in a browser', () => {
  test('create a token on a phone and a desktop: the secret is shown once, the list fits the screen', async ({ assert }) => {
    const { launchChromium, logIn, seriousAxeViolations } = await import('#tests/helpers/browser')
    const { user } = await viewer()
    const browser = await launchChromium()
    try {
      for (const width of [390, 1280]) {
        const context = await browser.newContext({ baseURL: BASE, viewport: { width, height: width === 390 ? 844 : 800 } })
        const page = await context.newPage()
        await logIn(page, user.username)
        await page.goto('/account#api-tokens')
        await page.fill('#field-name', `script at ${width}px`)
        await page.check('input[value="videos:read"]')
        await Promise.all([page.waitForSelector('[data-token-secret]'), page.click('form[action="/account/tokens"] button[type="submit"]')])
        const secret = await page.textContent('[data-token-secret]')
        assert.match(secret!, /^mat_/)
        await page.screenshot({ path: `tmp/screenshots/h2-account-tokens-${width}.png`, fullPage: true })
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        assert.isAtMost(overflow, 0, `the page is wider than ${width}px`)
        assert.deepEqual(await seriousAxeViolations(page), [], 'axe-core on the account page')
        // Reloaded: listed, the secret gone.
        await page.goto('/account')
        assert.notInclude(await page.content(), secret!)
        assert.include(await page.textContent('[data-api-tokens]'), `script at ${width}px`)
        await context.close()
      }
    } finally {
      await browser.close()
    }
  })
})
