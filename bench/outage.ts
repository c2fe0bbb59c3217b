import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import env from '#start/env'
import User from '#models/user'
import { OutageStack } from '../tests/helpers/outage_stack.js'
import { StripeStandIn, type StripeEvent } from '../tests/helpers/stripe_stand_in.js'
import { WebClient } from '../tests/helpers/web_client.js'
import { tusUpload } from '../tests/helpers/tus_upload.js'
import { media } from '../tests/helpers/media_fixtures.js'
import { buyWithStripe } from '../tests/helpers/commerce.js'
import { figure, isSmoke, smokeOr } from './helpers.js'

/** How long each service stays down (the issue: 10–30 s; seconds in smoke mode). */
const DOWN_MS = smokeOr(15_000, 2000)
/** Uploads started just before each outage, so transcodes are queued and running through it. */
const UPLOADS_PER_OUTAGE = smokeOr(2, 1)
/** Checkouts paid while each service is down (their webhooks arrive during the outage). */
const PAYMENTS_PER_OUTAGE = smokeOr(2, 1)
const PASSWORD = 'outage bench password 1'

/**
 * outage: a whole Matinee (web server, worker, chain watcher) on a private
 * Redis and PostgreSQL (tests/helpers/outage_stack.ts). With uploads,
 * transcodes, playback and Stripe payments in flight, Redis is killed and
 * restarted, then PostgreSQL. Stripe's stand-in sends again the webhooks
 * that got no 2xx, as Stripe does. Figures: processes still running, work
 * lost (videos not ready, payments not credited), and the seconds from a
 * service's return to the first page served (the slower of the two).
 */
export default async function outageBench() {
  const stripe = new StripeStandIn({
    secretKey: env.get('STRIPE_SECRET_KEY')!,
    webhookSecret: env.get('STRIPE_WEBHOOK_SECRET')!,
  })
  const { url: stripeUrl } = await stripe.start()
  const stack = await OutageStack.start({ extraEnv: { STRIPE_API_BASE: stripeUrl } })
  stripe.webhookUrl = `${stack.url}/webhooks/stripe`
  try {
    const videos: string[] = []
    const creator = await clientOf(stack, 'maker', 'creator')
    const upload = async (title: string) => {
      const result = await tusUpload(creator, await media.landscape(), { title })
      if (!result.ok || !result.videoId) throw new Error(`upload failed: ${result.status} ${result.body}`)
      videos.push(result.videoId)
    }
    const statusOf = async (id: string) => (await stack.db.from('videos').where('id', id).first())?.status

    // A paid video to sell and to play.
    await upload('For sale')
    const [forSale] = videos
    await stack.secondsUntil(async () => (await statusOf(forSale)) === 'ready', 180_000, 'the first video')
    await stack.db.from('videos').where('id', forSale).update({ price_minor: 900, currency: 'USD', visibility: 'published' })

    // Checkouts opened now, paid during the outages.
    const checkouts: string[] = []
    for (let i = 0; i < 2 * PAYMENTS_PER_OUTAGE; i++) {
      const buyer = await clientOf(stack, `buyer${i}`, 'viewer')
      checkouts.push(await buyWithStripe(buyer, { id: forSale }))
    }
    const paidEvents: StripeEvent[] = []

    // Playback in flight: the owner plays the video in a loop (in a browser of their own).
    const playerClient = async () => {
      const client = new WebClient(stack.url)
      await login(client, 'maker')
      return client
    }
    const playback = playLoop(playerClient, forSale)

    const recoveries: number[] = []
    for (const service of ['Redis', 'PostgreSQL'] as const) {
      for (let i = 0; i < UPLOADS_PER_OUTAGE; i++) await upload(`Uploaded before the ${service} outage #${i + 1}`)
      const { recoverySeconds } = await stack.outage(service === 'Redis' ? stack.redis : stack.postgres, DOWN_MS, async () => {
        console.error(`${service} killed`)
        for (let i = 0; i < PAYMENTS_PER_OUTAGE; i++) paidEvents.push(await stripe.pay(checkouts.shift()!))
      })
      console.error(`${service} back after ${DOWN_MS / 1000} s; first page served ${recoverySeconds.toFixed(2)} s later`)
      recoveries.push(recoverySeconds)
      // Sessions lived in Redis: the creator logs in again (the player would too).
      if (service === 'Redis') await login(creator, 'maker')
    }

    // Stripe sends again what got no 2xx.
    for (const failed of stripe.failedDeliveries.splice(0)) await stripe.deliver(failed.event)
    console.error(`webhooks sent again after the outages: ${new Set(paidEvents.map((e) => e.id)).size} paid during them`)

    // Work in flight ends (or is lost): wait for it, within a bound.
    const deadline = Date.now() + smokeOr(300_000, 120_000)
    const notReady = async () => {
      const rows = await stack.db.from('videos').whereIn('id', videos).whereNot('status', 'ready').select('id')
      return rows.length
    }
    while ((await notReady()) > 0 && Date.now() < deadline) await sleep(1000)
    const unpaid = await stack.db.from('orders').whereNot('status', 'paid').count('* as n').first()
    const credited = await stack.db
      .from('payment_events')
      .whereIn('event_id', paidEvents.map((event) => event.id))
      .count('* as n')
      .first()
    const playedAfter = await playback.stop()
    console.error(`playback: ${playback.served} playlists served, ${playback.refused} refused during the outages (${playback.statuses}); plays after: ${playedAfter}`)
    if (!playedAfter) throw new Error('the video no longer plays after the outages')

    const alive = stack.alive().length
    if (alive < stack.processes.length) console.error(stack.deaths())
    figure('outage_processes_alive', alive, 'processes')
    figure('outage_processes_total', stack.processes.length, 'processes')
    const lostPayments = Number(unpaid?.n ?? 0) + Math.max(0, paidEvents.length - Number(credited?.n ?? 0))
    figure('outage_jobs_lost', (await notReady()) + lostPayments, 'jobs')
    figure('outage_recovery_s', Math.max(...recoveries), 's')
  } finally {
    await stack.stop()
    await stripe.stop()
  }

  // Engineer #3's bad-media measurement, when present, prints its figures too.
  if (existsSync(new URL('./bad_media.ts', import.meta.url))) {
    const { default: badMedia } = await import('./bad_media.js')
    await badMedia()
  }
  if (isSmoke()) console.error('(smoke mode: 2 s outages, one upload and one payment each)')
}

/** A user made in the private database and a client logged in as them. */
async function clientOf(stack: OutageStack, username: string, role: 'viewer' | 'creator') {
  await User.create({ username, email: `${username}@example.com`, password: PASSWORD, role }, { connection: 'outage' })
  const client = new WebClient(stack.url)
  await login(client, username)
  return client
}

async function login(client: WebClient, username: string) {
  const response = await client.login(username, PASSWORD)
  if (response.status !== 302) throw new Error(`login of ${username} answered ${response.status}`)
}

/**
 * Opens a playback session and fetches its master playlist again and again
 * (what a player does, in short), counting what was served and refused,
 * and logs in again when the session is gone.
 * `stop()` ends the loop and says whether the video plays afterwards (a new
 * session's playlist and first segment).
 */
function playLoop(newClient: () => Promise<WebClient>, videoId: string) {
  let running = true
  let client = null as WebClient | null
  const stats = { served: 0, refused: 0, statuses: new Map<string, number>() }
  const note = (what: string) => stats.statuses.set(what, (stats.statuses.get(what) ?? 0) + 1)
  const open = async () => {
    client ??= await newClient()
    const opened = await client.api('POST', `/videos/${videoId}/playback`)
    note(`open ${opened.status}`)
    // Logged out (web sessions lived in the Redis that restarted): the viewer logs in again.
    if (opened.status === 302 || opened.status === 401 || opened.status === 403) client = null
    return opened.status === 201 ? (opened.body.masterUrl as string) : null
  }
  // An open can land in an outage (its login answered 503): that is a refusal
  // to count and retry, not the end of the loop.
  const tryOpen = () => open().catch(() => null)
  const loop = (async () => {
    let master = await tryOpen()
    while (running) {
      const response = master && client ? await client.get(master).catch(() => null) : null
      note(`playlist ${response?.status ?? 'error'}`)
      if (response?.status === 200) stats.served++
      else {
        stats.refused++
        master = await tryOpen()
      }
      await sleep(250)
    }
  })()
  return {
    get served() {
      return stats.served
    },
    get refused() {
      return stats.refused
    },
    /** How many answers of each kind (e.g. `open 201`, `playlist 503`). */
    get statuses() {
      return [...stats.statuses].map(([what, count]) => `${what} ×${count}`).join(', ')
    },
    async stop() {
      running = false
      await loop
      const master = (await tryOpen()) ?? (await tryOpen())
      if (!master || !client) return false
      const playlist = await client.get(master)
      const variant = playlist.text.split('\n').find((line) => line && !line.startsWith('#'))
      if (!variant) return false
      const variantList = await client.get(variant)
      const segment = variantList.text.split('\n').find((line) => line && !line.startsWith('#'))
      return !!segment && (await client.bytes(segment)).status === 200
    },
  }
}
