/*
| Cluster benchmark (make bench B=cluster): the cluster of `make cluster`
| (scripts/cluster.ts: nginx round-robin over 2 web nodes of the production
| build, 2 workers, the chain watcher, s3rver), on the bench database.
|   cluster_viewers_realtime   most simulated HLS players (realtime pace, 480p,
|                              unwatermarked sessions) served through the
|                              balancer with no late segment and no error, in
|                              steps (BENCH_CLUSTER_STEPS), while the two
|                              workers keep two transcodes running
|   cluster_errors             failed requests in that step (target 0)
|   cluster_segment_p99_ms     p99 of a segment request in that step
|   cluster_segment_rps_balanced, cluster_segment_rps_one_node
|                              wrk at 100 connections on one session's segments:
|                              through nginx (the node checks, nginx sends the
|                              bytes from its cache), and one node's check alone
|   cluster_failover_lost      uploads, jobs, payments or playback sessions lost
|                              when a web node and a worker are SIGKILLed
|                              mid-flow (target 0)
| The players are playback.ts's forensic viewers (each a browser of its own:
| open, master and 480p playlists, init, then segments at realtime pace
| with hls.js's 30 s buffer), run by this process on the same 2 cores.
| Smoke (BENCH_SMOKE=1): an 8 s video, 4 viewers, 2 segments.
*/
import { randomUUID } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import * as tus from 'tus-js-client'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import mediaConfig from '#config/media'
import User from '#models/user'
import Video from '#models/video'
import Order from '#models/order'
import plugins from '#services/plugins'
import { S3StorageBackend } from '../plugins/storage-s3/s3_storage_backend.js'
import { Cluster, sparePort } from '../scripts/cluster.js'
import { StripeStandIn } from '../tests/helpers/stripe_stand_in.js'
import { WebClient, csrfTokenIn } from '../tests/helpers/web_client.js'
import { benchDir, figure, smokeOr, source } from './helpers.js'
import { productionBuild, queuedVideo, readyOrFailed } from './fixtures.js'
import { benchVideo, drainedGet, load, textGet, uriLines, withSetCookies } from './playback.js'
import { waitUntil } from './helpers.js'

const SEGMENT = mediaConfig.segmentSeconds
/** hls.js's default forward buffer, which public/js/player.js keeps for unwatermarked and forensic sessions. */
const BUFFER_SECONDS = 30
const PASSWORD = 'bench viewer secret'

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : Number.NaN
}

/** Viewers logged in through the balancer: their cookies and CSRF token, which each simulated browser copies. */
async function logins(cluster: Cluster, count: number, prefix: string) {
  const result: Array<{ cookie: string; csrf: string }> = []
  for (let i = 0; i < count; i++) {
    const username = `${prefix}_${i}`
    if (!(await User.findBy('username', username))) await User.create({ username, email: `${username}@matinee.local`, password: PASSWORD, role: 'viewer' })
    const client = new WebClient(cluster.url)
    const login = await client.login(username, PASSWORD)
    if (login.status !== 302) throw new Error(`login of ${username} through the balancer: ${login.status}`)
    const csrf = (await client.get('/')).text.match(/<meta name="csrf-token" content="([^"]+)">/)?.[1]
    if (!csrf) throw new Error('no csrf-token meta tag on the home page')
    result.push({ cookie: client.cookieHeader(), csrf })
  }
  return result
}

interface ViewerOutcome {
  lateMs: number
  segmentMs: number[]
  errors: number
  error?: string
}

/**
 * One player as in playback.ts's forensic viewers, through the balancer,
 * timing every segment request. `keepGoing` (failover) makes it replay the
 * segments until told to stop, counting every failed request.
 */
async function viewer(pool: Pool, login: { cookie: string; csrf: string }, video: Video, segments: number, keepGoing?: () => boolean): Promise<ViewerOutcome> {
  const outcome: ViewerOutcome = { lateMs: Number.NEGATIVE_INFINITY, segmentMs: [], errors: 0 }
  const opened = await pool.request({ method: 'POST', path: `/videos/${video.id}/playback`, headers: { 'cookie': login.cookie, 'accept': 'application/json', 'x-csrf-token': login.csrf } })
  const answer = (await opened.body.json()) as { sessionId: string; masterUrl: string }
  if (opened.statusCode !== 201) throw new Error(`open: ${opened.statusCode} ${JSON.stringify(answer)}`)
  const cookie = withSetCookies(login.cookie, opened.headers['set-cookie'])
  try {
    const variant = uriLines(await textGet(pool, answer.masterUrl, cookie)).find((uri) => uri.includes('/480p/'))
    if (!variant) throw new Error('no 480p rendition in the master playlist')
    const playlist = await textGet(pool, variant, cookie)
    const init = playlist.match(/#EXT-X-MAP:URI="([^"]+)"/)?.[1]
    const uris = uriLines(playlist)
    if (!init || uris.length < Math.min(segments, 2)) throw new Error(`the 480p playlist has ${uris.length} segments`)
    await drainedGet(pool, init, cookie)
    await drainedGet(pool, uris[0], cookie)
    const playStart = performance.now()
    for (let i = 1; i < segments || keepGoing?.(); i++) {
      const due = playStart + (i * SEGMENT - BUFFER_SECONDS) * 1000
      if (due > performance.now()) await sleep(due - performance.now())
      const asked = performance.now()
      try {
        await drainedGet(pool, uris[i % uris.length], cookie)
        outcome.segmentMs.push(performance.now() - asked)
      } catch (error) {
        outcome.errors++
        outcome.error ??= (error as Error).message
        continue
      }
      if (!keepGoing) outcome.lateMs = Math.max(outcome.lateMs, performance.now() - playStart - i * SEGMENT * 1000)
      else if (i >= uris.length - 1) await sleep(1000)
    }
    return outcome
  } finally {
    await pool.request({ method: 'DELETE', path: `/playback/${answer.sessionId}`, headers: { cookie, 'accept': 'application/json', 'x-csrf-token': login.csrf } }).then((r) => r.body.dump()).catch(() => {})
  }
}

/** `count` viewers joining `joinsPerSecond` a second; the worst lateness, every segment time, the errors. */
async function step(cluster: Cluster, users: Array<{ cookie: string; csrf: string }>, video: Video, count: number, segments: number, joinsPerSecond: number) {
  const pool = new Pool(cluster.url, { connections: Math.min(count, 512), pipelining: 1 })
  try {
    const outcomes = await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        await sleep((index / joinsPerSecond) * 1000)
        return viewer(pool, users[index % users.length], video, segments).catch((error: Error): ViewerOutcome => ({ lateMs: Number.POSITIVE_INFINITY, segmentMs: [], errors: 1, error: error.message }))
      })
    )
    const errors = outcomes.reduce((sum, outcome) => sum + outcome.errors, 0)
    const firstError = outcomes.find((outcome) => outcome.error)?.error
    return {
      lateMs: Math.max(...outcomes.map((outcome) => outcome.lateMs)),
      errors,
      firstError,
      p99: percentile(outcomes.flatMap((outcome) => outcome.segmentMs), 99),
    }
  } finally {
    await pool.close()
  }
}

/**
 * Keeps `count` transcodes running on the cluster's workers until `stop()`:
 * how many finished, and the progress (percent) of those still running.
 */
function keepTranscoding(count: number, path: string) {
  let running = true
  let finished = 0
  const current: Array<string | undefined> = []
  const lanes = Array.from({ length: count }, async (_, lane) => {
    while (running) {
      const video = await queuedVideo(path, `cluster bench transcode ${lane}`)
      current[lane] = video.id
      await waitUntil(async () => !running || (await readyOrFailed(video.id)), 30 * 60_000, 'a background transcode')
      if (await readyOrFailed(video.id)) finished++
    }
  })
  return {
    async stop() {
      running = false
      await Promise.all(lanes)
      const inFlight = await Promise.all(current.map((id) => (id ? Video.find(id) : null)))
      return { finished, progress: inFlight.filter((video) => video && video.status !== 'ready').map((video) => video!.progress) }
    },
  }
}

/** A tus upload through the balancer in 256 kB chunks; `afterChunk` may kill things mid-flow. */
function tusUpload(client: WebClient, csrf: string, data: Buffer, title: string, afterChunk: (index: number) => Promise<void>) {
  let chunks = 0
  return new Promise<string>((resolve, reject) => {
    const upload = new tus.Upload(data, {
      endpoint: new URL('/studio/uploads', client.baseUrl).href,
      chunkSize: 256 * 1024,
      retryDelays: [0, 250, 500, 1000, 2000, 4000],
      headers: { 'cookie': client.cookieHeader(), 'x-csrf-token': csrf },
      metadata: { filename: 'failover.mp4', title, price: '0', currency: 'USD', visibility: 'published', description: '', watermark: 'off' },
      async onAfterResponse(request) {
        if (request.getMethod() === 'PATCH') await afterChunk(++chunks)
      },
      onError: reject,
      onSuccess: (payload: any) => resolve(JSON.parse(payload.lastResponse.getBody()).videoId),
    })
    upload.start()
  })
}

/**
 * Mid-flow, a web node and the worker that is transcoding are SIGKILLed:
 * an upload in flight, a transcode, a card payment whose webhook comes after
 * the kill, and playback sessions. What is lost: an upload that does not
 * finish, a job that does not end ready, a payment not recorded, a viewer
 * that saw an error.
 */
async function failover(cluster: Cluster, stripe: StripeStandIn, video: Video, users: Array<{ cookie: string; csrf: string }>, uploadSource: string) {
  const creatorName = `cluster_creator_${randomUUID().slice(0, 6)}`
  await User.create({ username: creatorName, email: `${creatorName}@matinee.local`, password: PASSWORD, role: 'creator', creatorStatus: 'approved' })
  const creator = new WebClient(cluster.url)
  if ((await creator.login(creatorName, PASSWORD)).status !== 302) throw new Error('creator login failed')
  const csrf = csrfTokenIn((await creator.get('/studio/videos/new')).text.replace(/data-csrf="([^"]+)"/, "name='_csrf' value='$1'"))

  // A paid video and a buyer whose checkout is open before the kill.
  const id = randomUUID()
  const forSale = await Video.create({
    id, ownerId: video.ownerId, title: 'cluster bench for sale', status: 'ready', priceMinor: 300, currency: 'USD', visibility: 'published',
    sourceKey: `videos/${id}/source/master.mp4`, sourceFilename: 'master.mp4', sourceSize: 1, durationSeconds: 6, renditions: [],
  })
  const buyerName = `cluster_buyer_${randomUUID().slice(0, 6)}`
  await User.create({ username: buyerName, email: `${buyerName}@matinee.local`, password: PASSWORD, role: 'viewer' })
  const buyer = new WebClient(cluster.url)
  await buyer.login(buyerName, PASSWORD)
  const checkout = await buyer.submit(`/videos/${forSale.id}`, `/videos/${forSale.id}/checkout`, { provider: 'stripe' })
  if (checkout.status !== 303 || !checkout.location?.includes('/c/pay/')) throw new Error(`checkout: ${checkout.status} ${checkout.text.slice(0, 200)}`)

  // Viewers playing on both nodes through the balancer.
  let playing = true
  const pool = new Pool(cluster.url, { connections: 32, pipelining: 1 })
  const players = users.slice(0, smokeOr(20, 2)).map((login) => viewer(pool, login, video, 2, () => playing).catch((error: Error): ViewerOutcome => ({ lateMs: 0, segmentMs: [], errors: 1, error: error.message })))

  // The upload: after its third chunk the web node that took it dies; then the
  // worker that transcodes it dies with its FFmpeg.
  const data = await readFile(uploadSource)
  let killedWeb = ''
  const videoId = await tusUpload(creator, csrf, data, 'cluster bench failover', async (index) => {
    if (index !== 3) return
    killedWeb = cluster.alive('web')[0].name
    await cluster.kill(killedWeb)
  })
  const paid = stripe.pay(checkout.location.split('/c/pay/')[1]).catch((error: Error) => error)
  let victim = ''
  const deadline = Date.now() + 120_000
  while (!victim && Date.now() < deadline) {
    victim = cluster.alive('worker').find((entry) => cluster.childPids(entry.name).length > 0)?.name ?? ''
    if (!victim) await sleep(100)
  }
  if (victim) await cluster.killWithChildren(victim)
  console.error(`failover: killed ${killedWeb} after the upload's third chunk and ${victim || 'no worker (none was transcoding)'} mid-transcode`)

  let lost = 0
  const uploaded = await Video.find(videoId)
  if (!uploaded || uploaded.sourceSize !== data.length) lost++
  await waitUntil(() => readyOrFailed(videoId), 10 * 60_000, 'the failover transcode').catch(() => {})
  if ((await Video.find(videoId))?.status !== 'ready') (lost++, console.error('failover: the transcode was lost'))
  const payment = await paid
  if (payment instanceof Error) console.error(`failover: the payment failed: ${payment.message}`)
  await waitUntil(async () => (await Order.query().where('videoId', forSale.id).where('status', 'paid').first()) !== null, 30_000, 'the paid order').catch(() => (lost++, console.error('failover: the payment was lost')))
  playing = false
  const outcomes = await Promise.all(players)
  await pool.close()
  const brokenSessions = outcomes.filter((outcome) => outcome.errors > 0)
  if (brokenSessions.length) console.error(`failover: ${brokenSessions.length} sessions saw errors, the first: ${brokenSessions[0].error}`)
  lost += brokenSessions.length
  if (!victim) console.error('failover: no worker was seen transcoding (the job was too quick): the worker kill was not measured')
  return lost
}

export default async function clusterBench() {
  const dir = join(benchDir, 'cluster')
  const stripePort = await sparePort()
  const cluster = await Cluster.start({
    dir,
    build: await productionBuild(),
    env: {
      NODE_ENV: 'test',
      PLUGINS_EXTRA: '',
      NODE_OPTIONS: '--max-semi-space-size=1',
      // Web sessions in signed cookies (stateless nodes): a simulated viewer copies a
      // login and still opens a session from a playback device of its own.
      SESSION_DRIVER: 'cookie',
      PLAYBACK_MAX_SESSIONS: '100000',
      RATE_LIMIT_PLAYBACK_OPEN: '1000000/1m',
      STRIPE_API_BASE: `http://127.0.0.1:${stripePort}`,
      TRANSCODE_CONCURRENCY: '1',
      // The product's default (.env.test runs the suite's transcodes in the normal class).
      TRANSCODE_CPU: 'background',
    },
  })
  const stripe = new StripeStandIn({
    secretKey: env.get('STRIPE_SECRET_KEY')!,
    webhookSecret: env.get('STRIPE_WEBHOOK_SECRET')!,
    webhookUrl: `${cluster.url}/webhooks/stripe`,
    port: stripePort,
  })
  await stripe.start()
  // This process reaches the cluster's S3 server and queues, as one more node would.
  const previousBackend = app.config.get('storage.backend')
  if (!plugins.storage.has('s3')) plugins.storage.register(
    new S3StorageBackend({ bucket: cluster.env.S3_BUCKET, region: 'us-east-1', endpoint: cluster.env.S3_ENDPOINT, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true }),
    'storage-s3'
  )
  app.config.set('storage.backend', 's3')
  try {
    // Unwatermarked (the same serving path as forensic sessions, without the A/B choice; a third of the transcode).
    const [seconds, title] = smokeOr<[number, string]>([90, 'cluster bench 90 s'], [8, 'cluster bench 8 s'])
    const video = await benchVideo(seconds, title)
    video.watermarkEnabled = false
    video.watermarkMode = 'off'
    await video.save()
    const users = await logins(cluster, smokeOr(16, 2), 'cluster_viewer')
    const background = await source(...smokeOr<[string, string[]]>(
      ['cluster-720p-60s.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000', '-t', '60', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']],
      ['cluster-360p-4s.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']]
    ))

    // 0. Where a segment request's time goes: wrk (100 connections) on one session's
    // segments through the balancer (the node checks, nginx sends the bytes from its
    // cache), and on one web node directly (the check alone: its X-Accel-Redirect answer).
    if (process.env.BENCH_CLUSTER_PROBE !== '0') {
      const probe = new WebClient(cluster.url)
      const probeUser = `cluster_probe_${randomUUID().slice(0, 6)}`
      await User.create({ username: probeUser, email: `${probeUser}@matinee.local`, password: PASSWORD, role: 'viewer' })
      await probe.login(probeUser, PASSWORD)
      const opened = await probe.api('POST', `/videos/${video.id}/playback`)
      const variant = uriLines((await probe.get(opened.body.masterUrl)).text).find((uri) => uri.includes('/480p/'))!
      const paths = uriLines((await probe.get(variant)).text)
      const viaNginx = await load(cluster.url, paths, { cookie: probe.cookieHeader() })
      const direct = await load(cluster.webUrls()[0], paths, { cookie: probe.cookieHeader() })
      console.error(`segments at 100 connections: ${Math.round(viaNginx.rps)} req/s through nginx (p99 ${viaNginx.p99} ms, ${viaNginx.transfer}/s); one web node's check alone, its X-Accel-Redirect answer: ${Math.round(direct.rps)} req/s (p99 ${direct.p99} ms)`)
      figure('cluster_segment_rps_balanced', Math.round(viaNginx.rps), 'req/s')
      figure('cluster_segment_rps_one_node', Math.round(direct.rps), 'req/s')
    }

    // 1. Realtime viewers through the balancer while two transcodes run.
    const steps = (process.env.BENCH_CLUSTER_STEPS ?? smokeOr('500,1000,1500', '4')).split(',').map(Number)
    const segments = Number(process.env.BENCH_CLUSTER_SEGMENTS ?? smokeOr(20, 2))
    const joinsPerSecond = Number(process.env.BENCH_CLUSTER_JOINS_PER_SECOND ?? smokeOr(20, 4))
    let best = 0
    let bestErrors = 0
    let bestP99 = Number.NaN
    let firstStep: Awaited<ReturnType<typeof step>> | null = null
    for (const count of steps) {
      const transcodes = keepTranscoding(Number(process.env.BENCH_CLUSTER_TRANSCODES ?? 2), background)
      const started = performance.now()
      const result = await step(cluster, users, video, count, segments, joinsPerSecond)
      const { finished: transcoded, progress } = await transcodes.stop()
      firstStep ??= result
      const worst = result.lateMs > 0 ? `${Number.isFinite(result.lateMs) ? Math.round(result.lateMs) : '∞'} ms late` : `${Math.round(-result.lateMs)} ms early`
      console.error(`${count} viewers through nginx (${segments} segments, ${joinsPerSecond} joining a second, ${((performance.now() - started) / 1000).toFixed(0)} s, ${transcoded} background transcodes finished, the running ones at ${progress.map((percent) => `${percent} %`).join(' and ') || 'none'}): worst segment ${worst}, ${result.errors} errors${result.firstError ? ` (${result.firstError})` : ''}, segment p99 ${Math.round(result.p99)} ms`)
      if (result.lateMs > 0 || result.errors > 0) break
      best = count
      bestErrors = result.errors
      bestP99 = result.p99
    }
    figure('cluster_viewers_realtime', best, 'sessions')
    figure('cluster_errors', best ? bestErrors : firstStep!.errors, 'requests')
    figure('cluster_segment_p99_ms', Math.round(best ? bestP99 : firstStep!.p99), 'ms')

    // 2. Failover.
    const uploadSource = await source('cluster-failover-480p-20s.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=550:sample_rate=48000', '-t', String(smokeOr(20, 10)), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'])
    console.error(`failover upload: ${((await stat(uploadSource)).size / 1e6).toFixed(1)} MB`)
    figure('cluster_failover_lost', await failover(cluster, stripe, video, users, uploadSource), 'items')
  } finally {
    app.config.set('storage.backend', previousBackend)
    await stripe.stop()
    await cluster.stop()
  }
}
