import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { DateTime } from 'luxon'
import type User from '#models/user'
import Video from '#models/video'
import PlaybackSession from '#models/playback_session'
import playback from '#services/playback_service'
import playbackCache from '#services/playback/session_cache'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import storage from '#services/storage_service'
import type { WebClient } from '#tests/helpers/web_client'

/** Every URI line and URI="" attribute of a playlist. */
function urisOf(playlist: string) {
  const uris: string[] = []
  for (const line of playlist.split('\n')) {
    if (!line.trim()) continue
    if (line.startsWith('#')) {
      const match = line.match(/URI="([^"]+)"/)
      if (match) uris.push(match[1])
    } else {
      uris.push(line.trim())
    }
  }
  return uris
}

const SIGNED = /^\/play\/[0-9a-f-]{36}\/[a-z0-9_/.]+\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/

/** Opens a session and returns it with its playlists, walked like a player. */
async function openAndWalk(client: WebClient, video: Video) {
  const opened = await client.api('POST', `/videos/${video.id}/playback`)
  if (opened.status !== 201) throw new Error(`open answered ${opened.status}: ${JSON.stringify(opened.body)}`)
  const master = await client.get(opened.body.masterUrl)
  const variants = urisOf(master.text)
  const variantTexts = await Promise.all(variants.map(async (url) => (await client.get(url)).text))
  return { ...opened.body, master, variants, variantTexts }
}

/** The media URL of segment 0 of the first variant. */
const firstSegmentUrl = (walked: { variantTexts: string[] }) => urisOf(walked.variantTexts[0]).find((uri) => !uri.includes('init'))!

/** A response carried no media: a short JSON error. */
function assertNoMedia(assert: any, response: { status: number; body: Buffer | any }, status: number, code?: string) {
  assert.equal(response.status, status)
  const text = Buffer.isBuffer(response.body) ? response.body.toString('utf8') : JSON.stringify(response.body)
  assert.isBelow(text.length, 2000)
  if (code) assert.equal(JSON.parse(text).error, code)
}

test.group('Playback: the entitlement chain', (group) => {
  let owner: { user: User; client: WebClient }
  let paid: Video
  let free: Video
  let draft: Video

  group.setup(async () => {
    await resetState()
    owner = await loggedIn('maker', 'creator')
    ;[paid, free, draft] = [
      await readyVideo(owner.user, { title: 'Paid', priceMinor: 499, watermarkEnabled: false }),
      await readyVideo(owner.user, { title: 'Free', priceMinor: 0 }),
      await readyVideo(owner.user, { title: 'Draft', priceMinor: 0, visibility: 'draft' }),
    ]
  })
  group.each.timeout(60_000)

  test('a visitor who is not logged in is asked to log in, even for a free video', async ({ assert }) => {
    const { WebClient } = await import('#tests/helpers/web_client')
    const visitor = new WebClient()
    const response = await visitor.api('POST', `/videos/${free.id}/playback`)
    assert.equal(response.status, 401)
    assert.equal(response.body.error, 'login_required')
  })

  test('a stranger may watch the free video, not the paid one (buy to watch), not the draft', async ({ assert }) => {
    const { client } = await loggedIn('stranger')
    assert.equal((await client.api('POST', `/videos/${free.id}/playback`)).status, 201)
    const paidResponse = await client.api('POST', `/videos/${paid.id}/playback`)
    assert.equal(paidResponse.status, 402)
    assert.equal(paidResponse.body.error, 'payment_required')
    assert.equal((await client.api('POST', `/videos/${draft.id}/playback`)).status, 404)
    assert.equal((await client.api('POST', '/videos/not-a-uuid/playback')).status, 404)
    assert.equal((await client.api('POST', '/videos/00000000-0000-0000-0000-000000000000/playback')).status, 404)
  })

  test('the owner and admins watch the paid video and preview the draft', async ({ assert }) => {
    const admin = await loggedIn('boss', 'admin')
    for (const client of [owner.client, admin.client]) {
      assert.equal((await client.api('POST', `/videos/${paid.id}/playback`)).status, 201)
      assert.equal((await client.api('POST', `/videos/${draft.id}/playback`)).status, 201)
    }
  })

  test('an entitlement source from a plugin grants access (the hello season pass)', async ({ assert }) => {
    const { client } = await loggedIn('hellopass-ann')
    const response = await client.api('POST', `/videos/${paid.id}/playback`)
    assert.equal(response.status, 201)
    const { playbacks } = JSON.parse((await client.get('/plugins/hello/playbacks')).text)
    assert.deepInclude(playbacks, { sessionId: response.body.sessionId, videoId: paid.id, userId: (await PlaybackSession.findOrFail(response.body.sessionId)).userId })
  })

  test('a video still processing says so to its owner; others see nothing', async ({ assert }) => {
    paid.status = 'processing'
    await paid.save()
    try {
      const response = await owner.client.api('POST', `/videos/${paid.id}/playback`)
      assert.equal(response.status, 409)
      assert.equal(response.body.error, 'not_ready')
      const { client } = await loggedIn('hellopass-bob')
      assert.equal((await client.api('POST', `/videos/${paid.id}/playback`)).status, 404)
    } finally {
      paid.status = 'ready'
      await paid.save()
    }
  })
})

test.group('Playback: sessions and signed URLs', (group) => {
  let owner: { user: User; client: WebClient }
  let video: Video
  let walked: Awaited<ReturnType<typeof openAndWalk>>

  group.setup(async () => {
    await resetState()
    owner = await loggedIn('maker', 'creator')
    video = await readyVideo(owner.user, { title: 'Clean', priceMinor: 300, watermarkEnabled: false })
  })
  group.each.setup(async () => {
    walked = await openAndWalk(owner.client, video)
  })
  group.each.timeout(60_000)

  test('every URI of every playlist is a signed URL of the session, init segments included', async ({ assert }) => {
    assert.equal(walked.master.status, 200)
    assert.equal(walked.master.headers.get('cache-control'), 'private, no-store')
    assert.lengthOf(walked.variants, 2)
    const all = [...walked.variants, ...walked.variantTexts.flatMap(urisOf)]
    for (const uri of all) {
      assert.match(uri, SIGNED)
      assert.include(uri, `/play/${walked.sessionId}/`)
    }
    for (const text of walked.variantTexts) assert.match(text, /#EXT-X-MAP:URI="\/play\/[^"]+init_\d+\.mp4\?exp=/)
  })

  test('segments stream from storage, with Range support and no caching', async ({ assert }) => {
    const url = firstSegmentUrl(walked)
    const whole = await owner.client.bytes(url)
    assert.equal(whole.status, 200)
    assert.equal(whole.headers.get('cache-control'), 'private, no-store')
    assert.equal(whole.headers.get('accept-ranges'), 'bytes')
    const stored = await storage.get(`${video.hlsPrefix}240p/seg_00000.m4s`)
    const chunks: Buffer[] = []
    for await (const chunk of stored.body) chunks.push(chunk as Buffer)
    assert.deepEqual(whole.body, Buffer.concat(chunks))

    const part = await owner.client.bytes(url, { range: 'bytes=100-199' })
    assert.equal(part.status, 206)
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${whole.body.length}`)
    assert.deepEqual(part.body, whole.body.subarray(100, 200))
    const tail = await owner.client.bytes(url, { range: 'bytes=-50' })
    assert.deepEqual(tail.body, whole.body.subarray(whole.body.length - 50))

    const initUrl = urisOf(walked.variantTexts[0]).find((uri) => uri.includes('/init_'))!
    const init = await owner.client.bytes(initUrl)
    assert.equal(init.status, 200)
    assert.equal(init.body.subarray(4, 8).toString('latin1'), 'ftyp')
  })

  test('behind nginx, a checked segment is handed over with X-Accel-Redirect', async ({ assert }) => {
    const url = firstSegmentUrl(walked)
    app.config.set('storage.accelRedirectPrefix', '/_protected/')
    try {
      const handed = await owner.client.bytes(url)
      assert.equal(handed.status, 200)
      assert.equal(handed.headers.get('x-accel-redirect'), `/_protected/${video.hlsPrefix}240p/seg_00000.m4s`)
      assert.equal(handed.headers.get('cache-control'), 'private, no-store')
      assert.lengthOf(handed.body, 0)
      // Refusals are still the app's, with no redirect to the file.
      const stranger = await loggedIn('accel-stranger')
      const refused = await stranger.client.bytes(url)
      assert.equal(refused.status, 403)
      assert.isNull(refused.headers.get('x-accel-redirect'))
    } finally {
      app.config.set('storage.accelRedirectPrefix', null)
    }
  })

  test('bad requests get a short error and no media', async ({ assert }) => {
    const { WebClient } = await import('#tests/helpers/web_client')
    const url = firstSegmentUrl(walked)
    const parsed = new URL(url, 'http://x')
    const [, , sessionId, ...rest] = parsed.pathname.split('/')
    const path = rest.join('/')
    const query = parsed.search

    // No session cookie at all.
    assertNoMedia(assert, await new WebClient().bytes(url), 401, 'login_required')
    // Another user's segment URL.
    const other = await loggedIn('other')
    assertNoMedia(assert, await other.client.bytes(url), 403, 'not_your_session')
    // One byte of the signature changed.
    const sig = parsed.searchParams.get('sig')!
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)
    assertNoMedia(assert, await owner.client.bytes(url.replace(sig, flipped)), 403, 'bad_signature')
    // Expired (signed correctly, in the past).
    const expired = playback.signer.url(sessionId, path, -10)
    assertNoMedia(assert, await owner.client.bytes(expired), 403, 'url_expired')
    // Session A's URL with session B's path and signature.
    const second = await loggedIn('second-viewer')
    const b = await openAndWalk(second.client, await readyVideo(owner.user, { priceMinor: 0 }))
    const bUrl = new URL(firstSegmentUrl(b), 'http://x')
    const bPath = bUrl.pathname.split('/').slice(3).join('/')
    assertNoMedia(assert, await owner.client.bytes(`/play/${sessionId}/${bPath}${bUrl.search}`), 403, 'bad_signature')
    // Traversal and odd paths, sent byte for byte.
    for (const evil of [
      `/play/${sessionId}/../../../../etc/passwd${query}`,
      `/play/${sessionId}/240p/..%2f..%2f..%2fsource%2fmaster.mp4${query}`,
      `/play/${sessionId}/%2e%2e/%2e%2e/source/master.mp4${query}`,
      `/play/${sessionId}//etc/passwd${query}`,
      `/play/${sessionId}/240p\\..\\..\\source\\master.mp4${query}`,
      `/play/${sessionId}/240p/seg_00000.m4s%00${query}`,
    ]) {
      const response = await owner.client.raw(evil)
      assert.oneOf(response.status, [400, 403, 404], evil)
      assert.isBelow(response.body.length, 4000, evil)
      assert.notInclude(response.body.toString('latin1'), 'ftyp', evil)
    }
    // A segment index past the end (correctly signed).
    assertNoMedia(assert, await owner.client.bytes(playback.signedUrl(sessionId, '240p/seg_00099.m4s')), 404, 'not_found')
    // Malformed and out-of-bounds ranges.
    for (const range of ['bytes=abc', 'bytes=5-2', 'bytes=999999999-', 'bytes=0-1,5-9', 'items=0-1']) {
      const response = await owner.client.bytes(url, { range })
      assertNoMedia(assert, response, 416, 'range_not_satisfiable')
      assert.match(response.headers.get('content-range') ?? '', /^bytes \*\/\d+$/)
    }
  })

  test('a revoked session stops at once: closing the player, logging out', async ({ assert }) => {
    const url = firstSegmentUrl(walked)
    assert.equal((await owner.client.bytes(url)).status, 200)
    assert.equal((await owner.client.api('DELETE', `/playback/${walked.sessionId}`)).status, 204)
    assertNoMedia(assert, await owner.client.bytes(url), 403, 'session_revoked')
    assertNoMedia(assert, await owner.client.bytes(walked.variants[0]), 403, 'session_revoked')

    const again = await openAndWalk(owner.client, video)
    assert.equal((await owner.client.bytes(firstSegmentUrl(again))).status, 200)
    await owner.client.submit('/account', '/logout', {})
    const session = await PlaybackSession.findOrFail(again.sessionId)
    assert.equal(session.revokeReason, 'logout')
    await owner.client.login('maker')
    assertNoMedia(assert, await owner.client.bytes(firstSegmentUrl(again)), 403, 'session_revoked')
  })

  test('a taken-down video stops playing for everyone at once', async ({ assert }) => {
    const url = firstSegmentUrl(walked)
    assert.equal((await owner.client.bytes(url)).status, 200)
    video.takenDownAt = DateTime.now()
    await video.save()
    try {
      assertNoMedia(assert, await owner.client.bytes(url), 403, 'taken_down')
      assert.equal((await owner.client.api('POST', `/videos/${video.id}/playback`)).status, 403)
    } finally {
      video.takenDownAt = null
      await video.save()
    }
  })

  test('URLs are renewed for a live session; an expired session asks for a new one', async ({ assert }) => {
    const path = '240p/seg_00000.m4s'
    const renewed = await owner.client.api('POST', `/playback/${walked.sessionId}/renew`, { path })
    assert.equal(renewed.status, 200)
    assert.match(renewed.body.url, SIGNED)
    assert.equal((await owner.client.bytes(renewed.body.url)).status, 200)

    const bad = await owner.client.api('POST', `/playback/${walked.sessionId}/renew`, { path: '../source/master.mp4' })
    assert.equal(bad.status, 404)
    const stranger = await loggedIn('nosy')
    assert.equal((await stranger.client.api('POST', `/playback/${walked.sessionId}/renew`, { path })).status, 403)

    await PlaybackSession.query().where('id', walked.sessionId).update({ expiresAt: DateTime.now().minus({ minutes: 1 }).toSQL() })
    // Time passing, simulated in the database: the web node holding the session learns it too.
    await playbackCache.invalidate({ sessionIds: [walked.sessionId] })
    const late = await owner.client.api('POST', `/playback/${walked.sessionId}/renew`, { path })
    assert.equal(late.status, 410)
    assert.equal(late.body.error, 'session_expired')
    assertNoMedia(assert, await owner.client.bytes(renewed.body.url), 410, 'session_expired')
  })

  test('a viewer has a limited number of sessions; reopening in the same browser replaces one', async ({ assert }) => {
    const viewer = await loggedIn('binger')
    const free = await readyVideo(owner.user, { priceMinor: 0 })
    const first = await viewer.client.api('POST', `/videos/${free.id}/playback`)
    const reopened = await viewer.client.api('POST', `/videos/${free.id}/playback`)
    assert.equal(reopened.status, 201)
    assert.equal((await PlaybackSession.findOrFail(first.body.sessionId)).revokeReason, 'replaced')
    // Two more browsers: three open sessions, the limit.
    const { WebClient } = await import('#tests/helpers/web_client')
    for (let i = 0; i < 2; i++) {
      const browser = new WebClient()
      await browser.login('binger')
      assert.equal((await browser.api('POST', `/videos/${free.id}/playback`)).status, 201)
    }
    const fourth = new WebClient()
    await fourth.login('binger')
    const refused = await fourth.api('POST', `/videos/${free.id}/playback`)
    assert.equal(refused.status, 429)
    assert.equal(refused.body.error, 'too_many_sessions')
    // Closing one frees a place.
    await viewer.client.api('DELETE', `/playback/${reopened.body.sessionId}`)
    assert.equal((await fourth.api('POST', `/videos/${free.id}/playback`)).status, 201)
  })

  test('the position is saved and the next session resumes there', async ({ assert }) => {
    const saved = await owner.client.api('POST', `/playback/${walked.sessionId}/position`, { seconds: 3.5 })
    assert.equal(saved.status, 204)
    const invalid = await owner.client.api('POST', `/playback/${walked.sessionId}/position`, { seconds: 'soon' })
    assert.equal(invalid.status, 422)
    const next = await owner.client.api('POST', `/videos/${video.id}/playback`)
    assert.equal(next.body.resumeAt, 3.5)
  })
})

test.group('Playback: pages and controls', (group) => {
  let owner: { user: User; client: WebClient }
  let video: Video

  group.setup(async () => {
    await resetState()
    owner = await loggedIn('maker', 'creator')
    video = await readyVideo(owner.user, { title: 'Priced', priceMinor: 250, watermarkEnabled: false })
  })
  group.each.timeout(60_000)

  test('the video page shows the player, or why there is none', async ({ assert }) => {
    const { WebClient } = await import('#tests/helpers/web_client')
    const anonymous = await new WebClient().get(`/videos/${video.id}`)
    assert.include(anonymous.text, 'data-access="login_required"')
    assert.notInclude(anonymous.text, 'data-player')

    const stranger = await loggedIn('window-shopper')
    const page = await stranger.client.get(`/videos/${video.id}`)
    assert.include(page.text, 'data-access="payment_required"')
    assert.match(page.text, /Buy to watch:\s*<strong data-price>\$2\.50<\/strong>/)
    assert.include(page.text, 'Pay $2.50 by card')

    const own = await owner.client.get(`/videos/${video.id}`)
    assert.include(own.text, `data-player data-video-id="${video.id}"`)
    assert.include(own.text, '<script src="/vendor/hls.js" defer></script>')
    assert.include(own.text, '<script src="/vendor/media-chrome.js" defer></script>')
    const hls = await owner.client.get('/vendor/hls.js')
    assert.equal(hls.status, 200)
    assert.include(hls.text, 'Hls')
    // The player's controls (media-chrome) come from this site too.
    const chrome = await owner.client.get('/vendor/media-chrome.js')
    assert.equal(chrome.status, 200)
    assert.include(chrome.text, 'customElements.define("media-controller"')
  })

  test('an admin takes a video down: playback stops, the catalog drops it, the creator sees why', async ({ assert }) => {
    const admin = await loggedIn('moderator', 'admin')
    const url = (await owner.client.api('POST', `/videos/${video.id}/playback`)).body.masterUrl
    assert.equal((await owner.client.get(url)).status, 200)
    video.visibility = 'published'
    await video.save()

    const refused = await admin.client.submit('/admin/videos', `/admin/videos/${video.id}/takedown`, { reason: '' })
    assert.equal(refused.status, 302)
    assert.isNull((await Video.findOrFail(video.id)).takenDownAt)

    const done = await admin.client.submit('/admin/videos', `/admin/videos/${video.id}/takedown`, { reason: 'Copyright claim #42' })
    assert.equal(done.location, '/admin/videos')
    assert.equal((await owner.client.get(url)).status, 403)
    assert.notInclude((await owner.client.get('/')).text, 'Priced')
    assert.include((await owner.client.get(`/studio/videos/${video.id}/edit`)).text, 'Copyright claim #42')
    assert.equal((await owner.client.submit('/studio/videos', `/admin/videos/${video.id}/restore`, {})).status, 403)

    await admin.client.submit('/admin/videos', `/admin/videos/${video.id}/restore`, {})
    assert.isNull((await Video.findOrFail(video.id)).takenDownAt)
    assert.include((await owner.client.get('/')).text, 'Priced')
  })

  test('the creator chooses the watermark; a bad choice changes nothing', async ({ assert }) => {
    const edit = `/studio/videos/${video.id}/edit`
    const fields = { title: 'Priced', description: '', price: '2.50', currency: 'USD', visibility: 'published' }
    await owner.client.submit(edit, `/studio/videos/${video.id}`, { ...fields, watermark: 'on' })
    assert.isTrue((await Video.findOrFail(video.id)).watermarkEnabled)
    const bad = await owner.client.submit(edit, `/studio/videos/${video.id}`, { ...fields, watermark: 'sometimes' })
    assert.equal(bad.status, 302)
    assert.isTrue((await Video.findOrFail(video.id)).watermarkEnabled)
    await owner.client.submit(edit, `/studio/videos/${video.id}`, { ...fields, watermark: 'auto' })
    const automatic = await Video.findOrFail(video.id)
    assert.isNull(automatic.watermarkEnabled)
    assert.isTrue(automatic.watermarkOn) // paid
    const opened = await owner.client.api('POST', `/videos/${video.id}/playback`)
    assert.isTrue(opened.body.watermarked)
  })
})
