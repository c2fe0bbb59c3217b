import type { ChildProcess } from 'node:child_process'
import { test } from '@japa/runner'
import User from '#models/user'
import type Video from '#models/video'
import db from '@adonisjs/lucid/services/db'
import playbackCache from '#services/playback/session_cache'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import { WebClient } from '#tests/helpers/web_client'
import { startWebServer, stopProcess } from '#tests/helpers/processes'
import { PrivateRedis, sparePort } from '#tests/helpers/private_services'

/** Every URI line of a playlist (segments and variant playlists), init segments from URI="". */
function urisOf(playlist: string) {
  return playlist
    .split('\n')
    .map((line) => (line.startsWith('#') ? (line.match(/URI="([^"]+)"/)?.[1] ?? '') : line.trim()))
    .filter(Boolean)
}

/** A GET on a given web node with a client's cookies (one browser, behind a load balancer). */
async function fetchOn(node: string, client: WebClient, url: string, timeoutMs?: number) {
  const response = await fetch(new URL(url, node), {
    redirect: 'manual',
    headers: { cookie: client.cookieHeader() },
    signal: timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined,
  })
  const body = Buffer.from(await response.arrayBuffer())
  return { status: response.status, body }
}

/**
 * Polls a segment on a node until it is refused; returns how long that took
 * (ms). Fails after `deadlineMs`: the session was served past its revocation.
 */
async function refusedWithin(node: string, client: WebClient, url: string, deadlineMs: number, requestTimeoutMs?: number) {
  const start = Date.now()
  for (;;) {
    // A request left hanging (the node waits for its Redis) serves nothing either.
    const response = await fetchOn(node, client, url, requestTimeoutMs).catch(() => ({ status: 0, body: Buffer.alloc(0) }))
    if (response.status !== 200 && response.status !== 206) return { ms: Date.now() - start, status: response.status, body: response.body.toString('utf8') }
    if (Date.now() - start > deadlineMs) throw new Error(`still served ${Date.now() - start} ms after the revocation`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Opens a session through node A and walks it like a player: the master, a variant, a segment. */
async function openOn(node: string, client: WebClient, video: Video) {
  const opened = await client.api('POST', new URL(`/videos/${video.id}/playback`, node).href)
  if (opened.status !== 201) throw new Error(`open answered ${opened.status}: ${JSON.stringify(opened.body)}`)
  const master = await fetchOn(node, client, opened.body.masterUrl)
  const variantUrl = urisOf(master.body.toString('utf8'))[0]
  const variant = await fetchOn(node, client, variantUrl)
  const segmentUrl = urisOf(variant.body.toString('utf8')).find((uri) => uri.includes('seg_'))!
  return { sessionId: opened.body.sessionId as string, masterUrl: opened.body.masterUrl as string, variantUrl, segmentUrl }
}

test.group('Playback: the fast segment path across web nodes', (group) => {
  let nodeA: string
  let nodeB: string
  const servers: ChildProcess[] = []
  let owner: User
  let video: Video

  group.setup(async () => {
    await resetState()
    owner = (await loggedIn('maker', 'creator')).user
    video = await readyVideo(owner, { title: 'Free', priceMinor: 0, watermarkEnabled: false })
    // Two more web processes of the same instance (same PostgreSQL, Redis, storage).
    const ports = [await sparePort(), await sparePort()]
    for (const port of ports) servers.push(await startWebServer({ PORT: String(port), HOST: '127.0.0.1', APP_URL: `http://127.0.0.1:${port}` }))
    ;[nodeA, nodeB] = ports.map((port) => `http://127.0.0.1:${port}`)
    return async () => {
      await Promise.all(servers.map((server) => stopProcess(server)))
    }
  })
  group.each.timeout(60_000)

  test('a session opened on node A plays through both nodes; node B serves it from memory', async ({ assert }) => {
    const { client } = await loggedIn('viewer')
    const walked = await openOn(nodeA, client, video)
    for (const node of [nodeA, nodeB]) {
      assert.equal((await fetchOn(node, client, walked.masterUrl)).status, 200)
      const segment = await fetchOn(node, client, walked.segmentUrl)
      assert.equal(segment.status, 200)
      assert.isAbove(segment.body.length, 1000)
    }

    // A change made behind the platform's back (no announcement) is not seen
    // by node B: it answers from memory, not from PostgreSQL...
    await db.from('playback_sessions').where('id', walked.sessionId).update({ revoked_at: new Date() })
    assert.equal((await fetchOn(nodeB, client, walked.segmentUrl)).status, 200)
    // ...until the change is announced over Redis, as every revocation is.
    await playbackCache.invalidate({ sessionIds: [walked.sessionId] })
    const refused = await refusedWithin(nodeB, client, walked.segmentUrl, 1000)
    assert.equal(refused.status, 403)
    assert.equal(JSON.parse(refused.body).error, 'session_revoked')
  })

  test('the viewer closes the player on node A: node B refuses the next request within a second', async ({ assert }) => {
    const { client } = await loggedIn('closer')
    const walked = await openOn(nodeA, client, video)
    assert.equal((await fetchOn(nodeB, client, walked.segmentUrl)).status, 200)
    assert.equal((await fetchOn(nodeB, client, walked.variantUrl)).status, 200)

    const closed = await client.api('DELETE', new URL(`/playback/${walked.sessionId}`, nodeA).href)
    assert.equal(closed.status, 204)
    const refused = await refusedWithin(nodeB, client, walked.segmentUrl, 1000)
    assert.equal(refused.status, 403)
    assert.equal(JSON.parse(refused.body).error, 'session_revoked')
    assert.equal((await fetchOn(nodeB, client, walked.masterUrl)).status, 403)
  })

  test('an admin bans the viewer on node A: node B refuses the next request within a second', async ({ assert }) => {
    const { user: viewer, client } = await loggedIn('troll')
    const admin = new WebClient(nodeA)
    await loggedIn('root', 'admin')
    assert.equal((await admin.login('root')).status, 302)
    const walked = await openOn(nodeA, client, video)
    assert.equal((await fetchOn(nodeB, client, walked.segmentUrl)).status, 200)

    const banned = await admin.submit('/admin/users', `/admin/users/${viewer.id}/ban`, { reason: 'leaking streams' })
    assert.equal(banned.status, 302)
    const refused = await refusedWithin(nodeB, client, walked.segmentUrl, 1000)
    assert.oneOf(refused.status, [401, 403])
  })

  test('without the viewer cookie (another browser with the URL), a request gets the full check', async ({ assert }) => {
    const { client } = await loggedIn('sharer')
    const walked = await openOn(nodeA, client, video)
    assert.equal((await fetchOn(nodeB, client, walked.segmentUrl)).status, 200)
    // A stranger logged in elsewhere holds the URL: the session is not theirs.
    const { client: stranger } = await loggedIn('stranger')
    const response = await fetchOn(nodeB, stranger, walked.segmentUrl)
    assert.equal(response.status, 403)
    assert.equal(JSON.parse(response.body.toString('utf8')).error, 'not_your_session')
    // Nobody logged in: asked to log in.
    const anonymous = await fetch(new URL(walked.segmentUrl, nodeB))
    assert.equal(anonymous.status, 401)
  })
})

test.group('Playback: the fast segment path when Redis pub/sub is down', (group) => {
  let redis: PrivateRedis
  let server: ChildProcess | undefined
  let node: string
  let video: Video

  group.setup(async () => {
    await resetState()
    const owner = (await loggedIn('maker', 'creator')).user
    video = await readyVideo(owner, { title: 'Free', priceMinor: 0, watermarkEnabled: false })
    // A web node whose Redis (sessions, invalidations) is its own, so it can be lost.
    redis = await PrivateRedis.start()
    const port = await sparePort()
    server = await startWebServer({
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_URL: `http://127.0.0.1:${port}`,
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redis.port),
      REDIS_DB: '0',
    })
    node = `http://127.0.0.1:${port}`
    return async () => {
      if (server) await stopProcess(server, 'SIGKILL')
      await redis.kill()
    }
  })
  group.each.timeout(60_000)

  test('a node that lost the invalidation channel serves no revoked session from memory', async ({ assert }) => {
    const viewer = await User.create({ username: 'cutoff', email: 'cutoff@example.com', password: 'correct horse battery', role: 'viewer' })
    const client = new WebClient(node)
    assert.equal((await client.login(viewer.username)).status, 302)
    const walked = await openOn(node, client, video)
    assert.equal((await fetchOn(node, client, walked.segmentUrl)).status, 200)

    // Redis goes away: the revocation below can reach this node by no channel.
    await redis.kill()
    await db.from('playback_sessions').where('id', walked.sessionId).update({ revoked_at: new Date(), revoke_reason: 'ban' })
    const refused = await refusedWithin(node, client, walked.segmentUrl, 5000, 3000)
    assert.notEqual(refused.status, 200)
    assert.isBelow(refused.body.length, 2000)
  })
})
