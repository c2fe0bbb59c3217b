import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import db from '@adonisjs/lucid/services/db'
import { rateLimits } from '#config/limiter'
import { resetState } from '#tests/helpers/state'
import { loggedIn } from '#tests/helpers/videos'
import { csrfTokenIn } from '#tests/helpers/web_client'

/** Sends `count` requests, returns their statuses. */
async function statuses(count: number, send: () => Promise<{ status: number }>) {
  const seen: number[] = []
  for (let i = 0; i < count; i++) seen.push((await send()).status)
  return seen
}

/** A 429 as a browser sees it: Retry-After and the "Too many attempts" page. */
function assertHtml429(assert: any, response: { status: number; headers: Headers; text: string }) {
  assert.equal(response.status, 429)
  assert.isAbove(Number(response.headers.get('retry-after')), 0)
  assert.include(response.text, 'Too many attempts')
  // What was limited, and when to come back in words and on the clock (not "wait 557 seconds").
  assert.include(response.text, 'There were too many checkouts.')
  assert.match(response.text, /try again in <strong>(less than a minute|about \d+ minutes?|about \d+ hours?)<\/strong> \(at \d\d:\d\d UTC\)/)
  assert.notMatch(response.text, /\d+ seconds/)
}

test.group('Rate limits', (group) => {
  group.each.setup(() => resetState())

  test('checkouts: a user over the limit gets 429 with Retry-After, nothing is ordered, others are not limited', async ({ assert }) => {
    const { client } = await loggedIn('buyer')
    const token = csrfTokenIn((await client.get('/')).text)
    const checkout = () => client.request('POST', `/videos/${randomUUID()}/checkout`, new URLSearchParams({ _csrf: token, provider: 'stripe' }))
    // An unknown video is sent back with a message (302); each try still counts.
    const seen = await statuses(rateLimits.checkout.requests, checkout)
    assert.isTrue(seen.every((status) => status === 302), String(seen))
    assertHtml429(assert, await checkout())
    assert.lengthOf(await db.from('orders'), 0)

    const { client: other } = await loggedIn('other_buyer')
    const otherToken = csrfTokenIn((await other.get('/')).text)
    const response = await other.request('POST', `/videos/${randomUUID()}/checkout`, new URLSearchParams({ _csrf: otherToken, provider: 'stripe' }))
    assert.equal(response.status, 302)
  })

  test('playback opens: the player gets a JSON 429 with a sentence it can show', async ({ assert }) => {
    const { client } = await loggedIn('watcher')
    const open = () => client.api('POST', `/videos/${randomUUID()}/playback`)
    const seen = await statuses(rateLimits.playbackOpen.requests, open)
    assert.isTrue(seen.every((status) => status === 404), String(seen))
    const refused = await open()
    assert.equal(refused.status, 429)
    assert.isAbove(Number(refused.headers.get('retry-after')), 0)
    assert.equal(refused.body.error, 'too_many_requests')
    assert.equal(refused.body.limit, 'playback_open')
    assert.match(refused.body.message, /^Too many videos opened\. Try again in \d+ (seconds|minutes)\.$/)
    assert.lengthOf(await db.from('playback_sessions'), 0)
  })

  test('upload creation: tus POSTs are limited per creator, the chunks and offsets of uploads are not', async ({ assert }) => {
    const { client } = await loggedIn('maker', 'creator')
    const token = csrfTokenIn((await client.get('/studio/videos/new')).text)
    // As tus-js-client sends it (Accept: */*); the upload page shows the answer's text.
    const create = () =>
      client.request('POST', '/studio/uploads', '', { 'accept': '*/*', 'tus-resumable': '1.0.0', 'x-csrf-token': token, 'upload-length': 'not a number' })
    const seen = await statuses(rateLimits.uploadCreate.requests, create)
    assert.isTrue(seen.every((status) => status >= 400 && status < 429), String(seen))
    const refused = await create()
    assert.equal(refused.status, 429)
    assert.isAbove(Number(refused.headers.get('retry-after')), 0)
    assert.match(refused.text, /^Too many uploads started\. Try again in \d+ (seconds|minutes)\.$/)
    const offset = await client.request('HEAD', `/studio/uploads/${randomUUID()}`, undefined, { 'tus-resumable': '1.0.0' })
    assert.notEqual(offset.status, 429)
  })

  test('wallet quotes (x402 plugin, through the kit\'s rateLimit route option) are limited per buyer', async ({ assert }) => {
    const { client } = await loggedIn('payer')
    const quote = () => client.api('POST', `/plugins/x402/orders/${randomUUID()}/quote`, { payer: '0x0000000000000000000000000000000000000001', token: 'native' })
    const seen = await statuses(rateLimits.cryptoQuote.requests, quote)
    assert.isTrue(seen.every((status) => status >= 400 && status < 429), String(seen))
    const refused = await quote()
    assert.equal(refused.status, 429)
    assert.equal(refused.body.limit, 'crypto_quote')
    assert.match(refused.body.message, /^Too many payment quotes\./)
  })
})
