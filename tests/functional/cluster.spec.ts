import { test } from '@japa/runner'
import { readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import * as tus from 'tus-js-client'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import User from '#models/user'
import Video from '#models/video'
import Order from '#models/order'
import { Cluster } from '../../scripts/cluster.js'
import { StripeStandIn } from '#tests/helpers/stripe_stand_in'
import { media } from '#tests/helpers/media_fixtures'
import { resetState } from '#tests/helpers/state'
import { waitForStatus } from '#tests/helpers/videos'
import { WebClient, csrfTokenIn } from '#tests/helpers/web_client'

/*
| The whole flow through a real load balancer: nginx round-robin (no sticky
| routing) over two web processes, two workers, the chain watcher and an S3
| server on loopback (scripts/cluster.ts, what `make cluster` runs), on this
| run's PostgreSQL database and Redis db. Then a web node and a worker are
| killed with SIGKILL mid-flow, and nothing is lost.
*/

const PASSWORD = 'correct horse battery'

async function clientOf(cluster: Cluster, username: string, role: 'viewer' | 'creator') {
  await User.create({ username, email: `${username}@example.com`, password: PASSWORD, role, creatorStatus: role === 'creator' ? 'approved' : 'none' })
  const client = new WebClient(cluster.url)
  const response = await client.login(username, PASSWORD)
  if (response.status !== 302) throw new Error(`login of ${username} through the balancer: ${response.status}`)
  return client
}

/**
 * The web node that answered (nginx's X-Upstream), as its port. nginx lists
 * the nodes it tried ("<dead>, <node>"), then, after " : ", the S3 server it
 * read the media from when the node handed the request over.
 */
const nodeOf = (upstream: string | null | undefined) => String(upstream).split(' : ')[0].split(', ').pop()!.split(':').pop()!

interface TusRun {
  upload: tus.Upload
  done: Promise<{ videoId?: string; error?: string; aborted?: boolean }>
  /** The node (port) that answered each PATCH. */
  patchNodes: string[]
}

/** A tus upload through the balancer in small chunks (so they land on both nodes), with retries. */
async function startUpload(client: WebClient, path: string, fields: Record<string, string>, options: { uploadUrl?: string; afterChunk?: (index: number, node: string) => Promise<'abort' | void> } = {}): Promise<TusRun> {
  const csrf = csrfTokenIn((await client.get('/studio/videos/new')).text.replace(/data-csrf="([^"]+)"/, "name='_csrf' value='$1'"))
  const data = await readFile(path)
  const patchNodes: string[] = []
  const retried: string[] = []
  let upload!: tus.Upload
  const done = new Promise<{ videoId?: string; error?: string; aborted?: boolean }>((resolve) => {
    upload = new tus.Upload(data, {
      endpoint: new URL('/studio/uploads', client.baseUrl).href,
      uploadUrl: options.uploadUrl,
      chunkSize: 256 * 1024,
      retryDelays: [0, 250, 500, 1000, 2000],
      headers: { 'cookie': client.cookieHeader(), 'x-csrf-token': csrf },
      metadata: { filename: 'cluster.mp4', currency: 'USD', visibility: 'published', description: '', watermark: 'off', ...fields },
      async onAfterResponse(request, response) {
        if (request.getMethod() !== 'PATCH') return
        patchNodes.push(nodeOf(response.getHeader('X-Upstream')))
        if ((await options.afterChunk?.(patchNodes.length, patchNodes.at(-1)!)) === 'abort') {
          await upload.abort()
          resolve({ aborted: true })
        }
      },
      onShouldRetry(error: any) {
        retried.push(`${error.message}`.slice(0, 300))
        return true
      },
      onError: (error: any) => resolve({ error: `${error.message} ${error.originalResponse?.getBody?.() ?? ''} (after retries: ${retried.join(' | ')})` }),
      onSuccess: (payload: any) => {
        let videoId: string | undefined
        try {
          videoId = JSON.parse(payload.lastResponse.getBody()).videoId
        } catch {}
        resolve({ videoId })
      },
    })
    upload.start()
  })
  return { upload, done, patchNodes }
}

const uriLines = (text: string) => text.split('\n').filter((line) => line && !line.startsWith('#'))

/** A GET through the balancer with the viewer's cookies: status and the node that answered. */
async function viaBalancer(client: WebClient, url: string) {
  const response = await fetch(new URL(url, client.baseUrl), { headers: { cookie: client.cookieHeader() } })
  const body = Buffer.from(await response.arrayBuffer())
  return { status: response.status, node: nodeOf(response.headers.get('x-upstream')), body }
}

test.group('Cluster: nginx over two web nodes and two workers', (group) => {
  let cluster: Cluster
  let stripe: StripeStandIn
  const dir = app.makePath('tmp', `cluster-test-${env.get('DB_DATABASE')}`)

  group.setup(async () => {
    await resetState()
    await rm(dir, { recursive: true, force: true })
    cluster = await Cluster.start({ dir, balancerWorkers: 1, env: { PLUGINS_EXTRA: '', LOG_LEVEL: 'info', TRANSCODE_CONCURRENCY: '1', RATE_LIMIT_PLAYBACK_OPEN: '1000/1m' } })
    stripe = new StripeStandIn({
      secretKey: env.get('STRIPE_SECRET_KEY')!,
      webhookSecret: env.get('STRIPE_WEBHOOK_SECRET')!,
      webhookUrl: `${cluster.url}/webhooks/stripe`,
      port: Number(new URL(env.get('STRIPE_API_BASE')!).port),
    })
    await stripe.start()
    return async () => {
      await stripe.stop()
      await cluster.stop()
      // The logs stay in tmp/ until the next run (logs/<process>.log); the media go.
      await rm(join(dir, 's3'), { recursive: true, force: true })
    }
  })

  test('upload, transcode, card purchase, playback and revocation through the balancer; then a web node and a worker die and nothing is lost', async ({ assert }) => {
    const [webA, webB] = cluster.webUrls().map((url) => new URL(url).port)
    const creator = await clientOf(cluster, 'cluster_maker', 'creator')
    const viewer = await clientOf(cluster, 'cluster_viewer', 'viewer')
    const source = await media.feature()

    // 1. An upload whose chunks alternate nodes (one tus upload, no stickiness).
    const first = await startUpload(creator, source, { title: 'Clustered film', price: '3.00' })
    const uploaded = await first.done
    assert.isUndefined(uploaded.error, uploaded.error)
    assert.includeMembers(first.patchNodes, [webA, webB], `chunks landed on ${first.patchNodes.join(', ')}`)

    // 2. Transcoded by either worker.
    const video = await waitForStatus(uploaded.videoId!, ['ready', 'failed'], 120_000)
    assert.equal(video.status, 'ready', video.lastError ?? '')
    assert.equal(video.sourceSize, (await stat(source)).size)

    // 3. A card purchase; Stripe's webhook lands on one node.
    const checkout = await viewer.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe' })
    assert.equal(checkout.status, 303, checkout.text.slice(0, 300))
    await stripe.pay(checkout.location!.split('/c/pay/')[1])
    const order = await Order.findByOrFail('videoId', video.id)
    assert.equal(order.status, 'paid')

    // 4. Playback whose requests alternate nodes.
    const opened = await viewer.api('POST', `/videos/${video.id}/playback`)
    assert.equal(opened.status, 201, JSON.stringify(opened.body))
    const master = await viaBalancer(viewer, opened.body.masterUrl)
    const variantUrl = uriLines(master.body.toString()).find((uri) => uri.includes('/480p/'))!
    const playlist = (await viaBalancer(viewer, variantUrl)).body.toString()
    const init = playlist.match(/#EXT-X-MAP:URI="([^"]+)"/)?.[1]
    assert.isString(init, `the 480p playlist: ${playlist.slice(0, 500)} (master: ${master.body.toString().slice(0, 500)})`)
    const segments = uriLines(playlist)
    const served = await Promise.all([init!, ...segments, ...segments].map((url) => viaBalancer(viewer, url)))
    assert.deepEqual([...new Set(served.map((answer) => answer.status))], [200])
    assert.includeMembers(served.map((answer) => answer.node), [webA, webB])

    // 5. A revocation seen by both nodes within a second (both hold the session in memory first).
    const onNode = async (base: string) => (await fetch(new URL(variantUrl, base), { headers: { cookie: viewer.cookieHeader() } })).status
    assert.deepEqual(await Promise.all(cluster.webUrls().map(onNode)), [200, 200])
    const revokedAt = performance.now()
    assert.equal((await viewer.api('DELETE', `/playback/${opened.body.sessionId}`)).status, 204)
    const refused = await Promise.all(
      cluster.webUrls().map(async (base) => {
        while ((await onNode(base)) === 200) await sleep(20)
        return performance.now() - revokedAt
      })
    )
    assert.isBelow(Math.max(...refused), 1000, `refused after ${refused.map(Math.round).join(' and ')} ms`)

    // 6. Failover: a viewer keeps playing while a web node dies mid-upload and a worker mid-transcode.
    const session = await viewer.api('POST', `/videos/${video.id}/playback`)
    assert.equal(session.status, 201)
    const sessionPlaylist = (await viaBalancer(viewer, uriLines((await viaBalancer(viewer, session.body.masterUrl)).body.toString()).find((uri) => uri.includes('/480p/'))!)).body.toString()
    const sessionSegments = uriLines(sessionPlaylist)
    const playerErrors: string[] = []
    let playing = true
    let played = 0
    const player = (async () => {
      for (let i = 0; playing; i++) {
        const answer = await viaBalancer(viewer, sessionSegments[i % sessionSegments.length]).catch((error) => ({ status: 0, node: String(error) }))
        if (answer.status !== 200) playerErrors.push(`segment ${i}: ${answer.status} from ${answer.node}`)
        played++
        await sleep(100)
      }
    })()

    // The web node that took the latest chunk dies (SIGKILL) after the third one; the
    // client then resumes the upload from its URL, as a browser would after a reload.
    let killedWeb = ''
    const second = await startUpload(creator, source, { title: 'Failover film', price: '0' }, {
      afterChunk: async (index, node) => {
        if (index !== 3) return
        killedWeb = node === webA ? 'web1' : 'web2'
        await cluster.kill(killedWeb)
        return 'abort'
      },
    })
    assert.deepEqual(await second.done, { aborted: true })
    const resumeUrl = second.upload.url!
    const head = await fetch(resumeUrl, { method: 'HEAD', headers: { 'cookie': creator.cookieHeader(), 'tus-resumable': '1.0.0' } })
    const offset = Number(head.headers.get('upload-offset'))
    assert.isAtLeast(offset, 3 * 256 * 1024, `the surviving node resumes from ${offset}`)
    const resumed = await startUpload(creator, source, { title: 'Failover film', price: '0' }, { uploadUrl: resumeUrl })
    const finished = await resumed.done
    assert.isUndefined(finished.error, finished.error)
    const survivor = killedWeb === 'web1' ? webB : webA
    assert.deepEqual([...new Set(resumed.patchNodes)], [survivor])

    // The worker that is transcoding (its FFmpeg is running) dies with its FFmpeg.
    let victim = ''
    const deadline = Date.now() + 60_000
    while (!victim && Date.now() < deadline) {
      victim = ['worker1', 'worker2'].find((name) => cluster.childPids(name).length > 0) ?? ''
      if (!victim) await sleep(100)
    }
    assert.isNotEmpty(victim, 'no worker started transcoding the second upload')
    await cluster.killWithChildren(victim)
    const failover = await waitForStatus(finished.videoId!, ['ready', 'failed'], 180_000)
    assert.equal(failover.status, 'ready', failover.lastError ?? '')
    assert.equal(failover.sourceSize, (await stat(source)).size)

    playing = false
    await player
    assert.isAbove(played, 10)
    assert.deepEqual(playerErrors, [])
    // Nothing else lost: the purchase stands, the session still plays, both videos are ready.
    assert.equal((await Order.findOrFail(order.id)).status, 'paid')
    assert.equal((await viaBalancer(viewer, sessionSegments[0])).status, 200)
    assert.deepEqual((await Video.query().orderBy('title')).map((row) => [row.title, row.status]), [['Clustered film', 'ready'], ['Failover film', 'ready']])
    assert.deepEqual(cluster.alive('web').length, 1, cluster.deaths())
  }).timeout(420_000)
})
