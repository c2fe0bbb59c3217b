import { test } from '@japa/runner'
import env from '#start/env'
import { OutageStack } from '#tests/helpers/outage_stack'
import { StripeStandIn, type StripeEvent } from '#tests/helpers/stripe_stand_in'
import { WebClient } from '#tests/helpers/web_client'
import { tusUpload } from '#tests/helpers/tus_upload'
import { media } from '#tests/helpers/media_fixtures'
import { buyWithStripe } from '#tests/helpers/commerce'
import { SERVICE_UNAVAILABLE_MESSAGE } from '#exceptions/service_unavailable'

/** How long each service stays down (the issue says 10–30 s). */
const DOWN_MS = 10_000

/**
 * Web server, worker and chain watcher run as child processes on a private
 * PostgreSQL and Redis, which the tests kill (SIGKILL, `pg_ctl -m
 * immediate`) and start again while uploads, transcodes and payments are in
 * flight.
 */
test.group('Outages', (group) => {
  let stack: OutageStack
  let stripe: StripeStandIn
  let creator: WebClient

  group.setup(async () => {
    stripe = new StripeStandIn({
      secretKey: env.get('STRIPE_SECRET_KEY')!,
      webhookSecret: env.get('STRIPE_WEBHOOK_SECRET')!,
    })
    const { url: stripeUrl } = await stripe.start()
    stack = await OutageStack.start({ extraEnv: { STRIPE_API_BASE: stripeUrl } })
    stripe.webhookUrl = `${stack.url}/webhooks/stripe`
    creator = new WebClient(stack.url)
    await creator.register('maker', 'maker@example.com')
    const applied = await creator.submit('/account', '/account/creator-application', {})
    if (applied.location !== '/studio/videos') throw new Error(`could not become a creator: ${applied.location}`)
    return async () => {
      await stack.stop()
      await stripe.stop()
    }
  })
  group.each.timeout(180_000)

  const statusOf = async (videoId: string) => (await stack.db.from('videos').where('id', videoId).first())?.status as string
  const upload = async (title: string) => {
    const result = await tusUpload(creator, await media.landscape(), { title })
    if (!result.ok || !result.videoId) throw new Error(`upload ${title} failed: ${result.status} ${result.body}`)
    return result.videoId
  }
  const health = () => fetch(`${stack.url}/health`).then((response) => response.status)

  /** What a browser and a player get while a service is down. */
  async function assertUnavailable(assert: any, client: WebClient) {
    const page = await client.get('/library')
    assert.equal(page.status, 503)
    assert.include(page.text, SERVICE_UNAVAILABLE_MESSAGE)
    assert.equal(page.headers.get('retry-after'), '5')
    const player = await client.api('POST', '/videos/00000000-0000-4000-8000-000000000000/playback')
    assert.equal(player.status, 503)
    assert.deepEqual(player.body, { error: 'service_unavailable', message: SERVICE_UNAVAILABLE_MESSAGE })
    assert.equal(await health(), 503)
  }

  test('a Redis restart: every process lives, requests get a 503 meanwhile, and queued and running transcodes end ready', async ({ assert }) => {
    await creator.api('GET', '/') // keeps the page's CSRF token for the API call during the outage
    const running = await upload('Running when Redis dies')
    const waiting = await upload('Waiting in the queue when Redis dies')
    await stack.secondsUntil(async () => (await statusOf(running)) === 'processing', 60_000, 'the first transcode to start')
    assert.equal(await statusOf(waiting), 'queued')

    const { aliveWhileDown, recoverySeconds } = await stack.outage(stack.redis, DOWN_MS, () => assertUnavailable(assert, creator))
    assert.equal(aliveWhileDown, 3, stack.deaths())
    assert.isBelow(recoverySeconds, 5)
    assert.equal(await health(), 200)

    // The queue went with Redis (it keeps nothing on disk): PostgreSQL says
    // what to queue again, and the running transcode finishes.
    await stack.secondsUntil(async () => (await statusOf(running)) === 'ready', 120_000, 'the running transcode')
    await stack.secondsUntil(async () => (await statusOf(waiting)) === 'ready', 120_000, 'the queued transcode')
    assert.lengthOf(stack.alive(), 3, stack.deaths())
    // Sessions lived in Redis too: the creator logs in again.
    assert.equal((await creator.login('maker')).status, 302)
  })

  test('a PostgreSQL restart: every process lives, a webhook meanwhile is refused with a 5xx and credited once when sent again, a running transcode ends ready, the chain watcher carries on', async ({ assert }) => {
    const forSale = await stack.db.from('videos').where('status', 'ready').firstOrFail()
    await stack.db.from('videos').where('id', forSale.id).update({ price_minor: 700, currency: 'USD', visibility: 'published' })
    const viewer = new WebClient(stack.url)
    await viewer.register('buyer', 'buyer@example.com')
    await viewer.api('GET', '/')
    const checkout = await buyWithStripe(viewer, forSale)
    const order = await stack.db.from('orders').where('status', 'pending').firstOrFail()

    const running = await upload('Running when PostgreSQL dies')
    await stack.secondsUntil(async () => (await statusOf(running)) === 'processing', 60_000, 'the transcode to start')

    let paid!: StripeEvent
    const { aliveWhileDown, recoverySeconds } = await stack.outage(stack.postgres, DOWN_MS, async () => {
      await assertUnavailable(assert, viewer)
      // The buyer pays meanwhile: Stripe's webhook gets a 5xx (Stripe retries those later).
      paid = await stripe.pay(checkout)
      assert.lengthOf(stripe.failedDeliveries, 1)
      assert.equal(stripe.failedDeliveries[0].status, 503)
    })
    assert.equal(aliveWhileDown, 3, stack.deaths())
    assert.isBelow(recoverySeconds, 5)
    assert.equal(await health(), 200)

    // The chain watcher (no contract deployed on its chain: it reads and
    // reports its state in PostgreSQL each turn) reports again.
    const back = Date.now()
    const watcherReported = async () => {
      const status = await stack.db.from('plugin_state').where({ plugin: 'x402', key: `watcher:${env.get('X402_CHAIN_ID')}` }).first()
      return !!status && Date.parse(status.value.heartbeatAt) > back
    }
    await stack.secondsUntil(watcherReported, 20_000, 'the chain watcher to report again')

    // Stripe's retry is applied; a second retry changes nothing.
    assert.equal((await stripe.deliver(paid)).status, 200)
    assert.equal((await stripe.deliver(paid)).status, 200)
    const after = await stack.db.from('orders').where('id', order.id).firstOrFail()
    assert.equal(after.status, 'paid')
    const events = await stack.db.from('payment_events').where('event_id', paid.id)
    assert.lengthOf(events, 1)
    const ledger = await stack.db.from('ledger_entries').where('order_id', order.id).sum('amount_minor as total').first()
    assert.equal(Number(ledger.total), 700)

    await stack.secondsUntil(async () => (await statusOf(running)) === 'ready', 120_000, 'the transcode PostgreSQL interrupted')
    assert.lengthOf(stack.alive(), 3, stack.deaths())
  })
})
