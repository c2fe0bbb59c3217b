import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import User from '#models/user'
import Video from '#models/video'
import Order from '#models/order'
import Offer from '#models/offer'
import orders from '#services/order_service'
import entitlements from '#services/entitlement_service'
import { platformFeeFor } from '#services/commerce/ledger'
import type { StripeEvent } from '#tests/helpers/stripe_stand_in'
import { startStripe } from '#tests/helpers/commerce'
import { membershipStorm } from '#tests/helpers/membership_storm'
import { figure, smokeOr } from './helpers.js'
import { benchCreator, startProductionServer } from './fixtures.js'

const EVENTS = smokeOr(1000, 60)
const CONCURRENCY = smokeOr(50, 5)
/** Entitlement checks timed after the storm (viewers holding rentals, passes, bundles, purchases, or nothing). */
const CHECKS = smokeOr(5000, 200)
const BUYERS = smokeOr(20, 6)

/** What the storm sells, in turn: each order is one buyer × one of these, never the same pair twice. */
type Kind = 'buy' | 'rental' | 'bundle' | 'pass'
const KINDS: Kind[] = ['buy', 'rental', 'bundle', 'pass']
const PRICES: Record<Kind, number> = { buy: 1000, rental: 300, bundle: 2500, pass: 1500 }

/**
 * Memberships join the storm: members join the creator's membership through
 * the real checkout (the core's subscribe, the stand-in's hosted page) on
 * one stand-in test clock that then renews every month, each renewal paid
 * (tests/helpers/membership_storm.ts). Stripe's events for them
 * (invoice.paid, customer.subscription.updated...) are held, then sent in the
 * shuffled storm with a quarter of the invoice.paid duplicated and a few forged.
 */
const MEMBERS = smokeOr(10, 2)
const RENEWALS = smokeOr(3, 1)

interface Delivery {
  event: StripeEvent
  /** Sent with a wrong secret: must be refused. */
  forged?: boolean
}

function shuffle<T>(items: T[]) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j], items[i]]
  }
  return items
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]
}

/**
 * A storm of 1,000 signed Stripe events (smoke: 60) against the production
 * server, selling a mix of buys, rentals, bundles and passes: 25%
 * duplicates, 10% out of order (refunds sent before their payment), 5%
 * forged, all sent 50 at a time. Then the books are checked: every order's
 * ledger sums to its amount (paid) or zero, no viewer holds the same thing
 * twice from two paid orders, no order was credited twice, no forged event
 * changed anything, every paid order granted what it sells (a bundle all its
 * videos). Then the entitlement chain with windows is timed, per check,
 * over viewers holding rentals (started and not), passes and bundles.
 */
export default async function webhooksBench() {
  const forgedCount = Math.round(EVENTS * 0.05)
  const duplicateCount = Math.round(EVENTS * 0.25)
  const outOfOrderCount = Math.round(EVENTS * 0.1)
  const uniqueCount = EVENTS - forgedCount - duplicateCount
  // Unique events: one completion per order, plus the out-of-order refunds.
  const orderCount = uniqueCount - outOfOrderCount

  const stripe = await startStripe()
  const server = await startProductionServer()
  try {
    const creator = await benchCreator()
    const run = randomUUID().slice(0, 8)
    const buyers = await User.createMany(
      Array.from({ length: BUYERS }, (_, i) => ({ username: `wh_${run}_${i}`, email: `wh_${run}_${i}@bench.local`, password: 'bench-password-123', role: 'viewer' as const }))
    )
    // Items per kind, each on videos of its own so that no order duplicates
    // another's grant (a bundle's video bought alone would be refunded as paid twice).
    const itemsPerKind = Math.ceil(orderCount / buyers.length / KINDS.length)
    // Passes open everything a creator publishes: theirs is another creator, so a pass holder still lacks the first one's videos.
    const passCreator = await User.create({ username: `wh_${run}_passes`, email: `wh_${run}_passes@bench.local`, password: 'bench-password-123', role: 'creator' })
    const newVideos = (label: string, count: number, ownerId = creator.id) =>
      Video.createMany(
        Array.from({ length: count }, (_, i) => {
          const id = randomUUID()
          return {
            id, ownerId, title: `webhook bench ${label} ${i}`, status: 'ready' as const, visibility: 'published' as const,
            priceMinor: PRICES.buy, currency: 'USD', sourceKey: `videos/${id}/source/master.mp4`, sourceFilename: 'master.mp4', sourceSize: 1,
          }
        })
      )
    const bought = await newVideos('buy', itemsPerKind)
    const rented = await newVideos('rent', itemsPerKind)
    const bundled = await newVideos('bundle', itemsPerKind * 3)
    const offer = (fields: Partial<Offer>) => ({ id: randomUUID(), creatorId: creator.id, currency: 'USD', active: true, ...fields })
    const rentals = await Offer.createMany(rented.map((video) => offer({ kind: 'rental', scope: 'video', videoId: video.id, priceMinor: PRICES.rental, rentalHours: 48, startWindowDays: 30 })))
    const bundles = await Offer.createMany(Array.from({ length: itemsPerKind }, (_, i) => offer({ kind: 'purchase', scope: 'bundle', priceMinor: PRICES.bundle, title: `bench bundle ${i}` })))
    await db.table('offer_videos').multiInsert(bundles.flatMap((bundle, i) => bundled.slice(i * 3, i * 3 + 3).map((video, position) => ({ offer_id: bundle.id, video_id: video.id, position }))))
    const passVideos = await newVideos('pass', 3, passCreator.id)
    const passes = await Offer.createMany(
      Array.from({ length: itemsPerKind }, (_, i) => offer({ creatorId: passCreator.id, kind: 'pass', scope: 'creator', priceMinor: PRICES.pass, passDays: 30, title: `bench pass ${i}` }))
    )

    const sale = (kind: Kind, item: number) => {
      if (kind === 'buy') return { offerId: null, offerKind: 'purchase' as const, offerScope: 'video' as const, videoId: bought[item].id }
      if (kind === 'rental') return { offerId: rentals[item].id, offerKind: 'rental' as const, offerScope: 'video' as const, videoId: rented[item].id }
      if (kind === 'bundle') return { offerId: bundles[item].id, offerKind: 'purchase' as const, offerScope: 'bundle' as const, videoId: null }
      return { offerId: passes[item].id, offerKind: 'pass' as const, offerScope: 'creator' as const, videoId: null }
    }
    const pending = await Order.createMany(
      Array.from({ length: orderCount }, (_, i) => {
        const kind = KINDS[i % KINDS.length]
        const item = Math.floor(i / (KINDS.length * buyers.length)) % itemsPerKind
        const buyer = buyers[Math.floor(i / KINDS.length) % buyers.length]
        const price = PRICES[kind]
        return {
          id: randomUUID(),
          ...sale(kind, item),
          offerTitle: `bench ${kind} ${item}`,
          buyerId: buyer.id,
          creatorId: kind === 'pass' ? passCreator.id : creator.id,
          provider: 'stripe',
          status: 'pending' as const,
          amountMinor: price,
          currency: 'USD',
          platformFeeBps: 1000,
          platformFeeMinor: platformFeeFor(price, 1000),
          creatorPayout: 'owed' as const,
          providerReference: `cs_bench_${run}_${i}`,
          expiresAt: DateTime.now().plus({ hours: 1 }),
        }
      })
    )
    const orderIds = pending.map((order) => order.id)

    const completion = (order: Order, i: number) =>
      stripe.event('checkout.session.completed', {
        id: order.providerReference, object: 'checkout.session', status: 'complete', payment_status: 'paid',
        amount_total: order.amountMinor, currency: 'usd', client_reference_id: order.id, metadata: { orderId: order.id },
        payment_intent: `pi_bench_${run}_${i}`, mode: 'payment', livemode: false,
      })
    const refund = (order: Order, i: number) =>
      stripe.event('charge.refunded', {
        id: `ch_bench_${run}_${i}`, object: 'charge', amount: order.amountMinor, amount_refunded: order.amountMinor, refunded: true,
        currency: 'usd', payment_intent: `pi_bench_${run}_${i}`, metadata: { orderId: order.id },
      })

    const completions = pending.map((order, i) => completion(order, i))
    const refunded = new Set<string>()
    const refunds = pending.slice(0, outOfOrderCount).map((order, i) => {
      refunded.add(order.id)
      return refund(order, i)
    })
    const members = await User.createMany(
      Array.from({ length: MEMBERS }, (_, i) => ({ username: `wh_${run}_m${i}`, email: `wh_${run}_m${i}@bench.local`, password: 'bench-password-123', role: 'viewer' as const }))
    )
    const memberStorm = await membershipStorm(stripe, { creator, buyers: members, renewals: RENEWALS })
    const memberships: Delivery[] = [
      ...memberStorm.events.map((event) => ({ event })),
      ...memberStorm.invoicePaid.slice(0, Math.ceil(memberStorm.invoicePaid.length / 4)).map((event) => ({ event })),
      ...memberStorm.invoicePaid.slice(-Math.max(1, Math.floor(memberStorm.invoicePaid.length / 20))).map((event) => ({ event, forged: true })),
    ]
    const unique = [...completions, ...refunds]
    const duplicates = Array.from({ length: duplicateCount }, () => unique[Math.floor(Math.random() * unique.length)])
    const forged = Array.from({ length: forgedCount }, (_, i) => completions[(i * 7) % completions.length])

    // Refunds go in the first wave, before their payments; the rest is shuffled.
    const queue: Delivery[] = [
      ...refunds.map((event) => ({ event })),
      ...shuffle([
        ...completions.map((event) => ({ event })),
        ...duplicates.map((event) => ({ event })),
        ...forged.map((event) => ({ event, forged: true })),
        ...memberships,
      ]),
    ]
    // Forged events are sent first for their order, so a forgery that got
    // through would have changed something before the real one arrived.
    queue.sort((a, b) => Number(!!b.forged) - Number(!!a.forged))
    const payloads = queue.map(({ event, forged: isForged }) => {
      const payload = JSON.stringify(event, null, 2)
      return { payload, forged: isForged, header: stripe.sign(payload, isForged ? { secret: 'whsec_forger' } : {}) }
    })

    const statuses: Record<string, number> = {}
    let next = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < payloads.length) {
          const item = payloads[next++]
          const response = await fetch(stripe.webhookUrl!, {
            method: 'POST',
            headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': item.header },
            body: item.payload,
          })
          await response.arrayBuffer()
          const key = `${item.forged ? 'forged' : 'signed'}:${response.status}`
          statuses[key] = (statuses[key] ?? 0) + 1
        }
      })
    )
    const seconds = (performance.now() - started) / 1000
    console.error(`answers: ${JSON.stringify(statuses)} in ${seconds.toFixed(2)} s (${payloads.length} events: ${KINDS.join(', ')}${memberships.length ? ', membership' : ''})`)

    // The books (memberships: each paid invoice one order, windows on the latest period).
    const memberBooks = await memberStorm.check()
    console.error(`memberships: ${memberBooks.subscriptions} subscriptions, ${memberBooks.orders} invoice orders, wrong: ${memberBooks.wrong}, invoices booked twice: ${memberBooks.doubles}`)
    const mismatches = new Set(await orders.ledgerMismatches())
    const final = await Order.query().whereIn('id', orderIds)
    let wrongState = 0
    for (const order of final) {
      const expected = refunded.has(order.id) ? 'refunded' : 'paid'
      if (order.status !== expected) wrongState++
    }
    // Every paid order granted what it sells; a refunded one grants nothing (its grants count only while paid).
    const grantRows = await db.from('entitlements').whereIn('order_id', orderIds).select('order_id').count('* as n').groupBy('order_id')
    const grantsOf = new Map(grantRows.map((row) => [row.order_id as string, Number(row.n)]))
    let wrongGrants = 0
    for (const order of final) {
      const expected = order.offerScope === 'bundle' ? 3 : 1
      if (order.status === 'paid' && grantsOf.get(order.id) !== expected) wrongGrants++
    }
    // The same thing held twice from two paid orders (a video, a bundle, a rental, a pass).
    const twicePaid = await db
      .from('orders')
      .where('status', 'paid')
      .whereIn('id', orderIds)
      .groupBy('buyer_id', 'offer_kind', 'offer_scope', 'video_id', 'offer_id')
      .havingRaw('count(*) > 1')
      .select('buyer_id')
    const creditedTwice = await db
      .from('ledger_entries')
      .whereIn('order_id', orderIds)
      .where({ kind: 'payment', account: 'creator' })
      .groupBy('order_id')
      .havingRaw('count(*) > 1')
      .select('order_id')
    const applied = await db.from('payment_events').whereIn('order_id', orderIds).where('outcome', 'applied').count('* as n')
    console.error(
      `orders: ${final.length} (${KINDS.map((kind) => `${final.filter((o) => (kind === 'buy' ? o.offerKind === 'purchase' && o.offerScope === 'video' : kind === 'bundle' ? o.offerScope === 'bundle' : o.offerKind === kind)).length} ${kind}`).join(', ')}), ` +
        `wrong final state: ${wrongState}, wrong grants: ${wrongGrants}, applied events: ${applied[0].n} (expected ${unique.length}), forged accepted: ${statuses['forged:200'] ?? 0}`
    )

    // The entitlement chain with windows, per check. Half of the buyers'
    // rentals are started (a window running), passes and bundles are held,
    // and each check asks about a video they hold one way, or one they do not.
    const rentalsHeld = await db.from('entitlements').whereIn('order_id', orderIds).where('kind', 'rental').select('id')
    await db
      .from('entitlements')
      .whereIn('id', rentalsHeld.filter((_, i) => i % 2 === 0).map((row) => row.id))
      .update({ starts_at: new Date(), ends_at: DateTime.now().plus({ hours: 48 }).toJSDate() })
    const videos = [...bought, ...rented, ...bundled, ...passVideos]
    const asked = await Video.query().whereIn('id', videos.map((v) => v.id))
    const samples: number[] = []
    let allowed = 0
    // Warm-up (connections, prepared plans) is not timed.
    for (let i = 0; i < 50; i++) await entitlements.decide(buyers[i % buyers.length], asked[i % asked.length])
    for (let i = 0; i < CHECKS; i++) {
      const buyer = buyers[i % buyers.length]
      const video = asked[(i * 7919) % asked.length]
      const t0 = performance.now()
      const decision = await entitlements.decide(buyer, video)
      samples.push((performance.now() - t0) * 1000)
      if (decision.allowed) allowed++
    }
    samples.sort((a, b) => a - b)
    console.error(`entitlement checks: ${CHECKS}, allowed ${allowed}, p50 ${Math.round(percentile(samples, 0.5))} µs, p99 ${Math.round(percentile(samples, 0.99))} µs`)

    figure('webhook_events_per_s', Math.round(payloads.length / seconds), 'events/s')
    figure('webhook_ledger_mismatches', mismatches.size + wrongState + wrongGrants + memberBooks.wrong, 'orders')
    figure('webhook_double_purchases', twicePaid.length + creditedTwice.length + memberBooks.doubles, 'purchases')
    figure('entitlement_check_us_p99', Math.round(percentile(samples, 0.99)), 'µs')
  } finally {
    await server.stop()
    await stripe.stop()
  }
}
