import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import User from '#models/user'
import Video from '#models/video'
import Order from '#models/order'
import orders from '#services/order_service'
import { platformFeeFor } from '#services/commerce/ledger'
import type { StripeEvent } from '#tests/helpers/stripe_stand_in'
import { startStripe } from '#tests/helpers/commerce'
import { figure, smokeOr } from './helpers.js'
import { benchCreator, startProductionServer } from './fixtures.js'

const EVENTS = smokeOr(1000, 40)
const CONCURRENCY = smokeOr(50, 5)
const PRICE = 1000

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

/**
 * A storm of 1,000 signed Stripe events (smoke: 40) against the production server:
 * 25% duplicates, 10% out of order (refunds sent before their payment),
 * 5% forged, all sent 50 at a time. Then the books are checked: every
 * order's ledger sums to its amount (paid) or zero, no viewer owns a video
 * twice, no order was credited twice, no forged event changed anything.
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
      Array.from({ length: 10 }, (_, i) => ({ username: `wh_${run}_${i}`, email: `wh_${run}_${i}@bench.local`, password: 'bench-password-123', role: 'viewer' as const }))
    )
    const videos = await Video.createMany(
      Array.from({ length: Math.ceil(orderCount / buyers.length) }, (_, i) => {
        const id = randomUUID()
        return {
          id, ownerId: creator.id, title: `webhook bench ${i}`, status: 'ready' as const, visibility: 'published' as const,
          priceMinor: PRICE, currency: 'USD', sourceKey: `videos/${id}/source/master.mp4`, sourceFilename: 'master.mp4', sourceSize: 1,
        }
      })
    )
    const pending = await Order.createMany(
      Array.from({ length: orderCount }, (_, i) => ({
        id: randomUUID(),
        videoId: videos[Math.floor(i / buyers.length)].id,
        buyerId: buyers[i % buyers.length].id,
        creatorId: creator.id,
        provider: 'stripe',
        status: 'pending' as const,
        amountMinor: PRICE,
        currency: 'USD',
        platformFeeBps: 1000,
        platformFeeMinor: platformFeeFor(PRICE, 1000),
        creatorPayout: 'owed' as const,
        providerReference: `cs_bench_${run}_${i}`,
        expiresAt: DateTime.now().plus({ hours: 1 }),
      }))
    )
    const orderIds = pending.map((order) => order.id)

    const completion = (order: Order, i: number) =>
      stripe.event('checkout.session.completed', {
        id: order.providerReference, object: 'checkout.session', status: 'complete', payment_status: 'paid',
        amount_total: PRICE, currency: 'usd', client_reference_id: order.id, metadata: { orderId: order.id },
        payment_intent: `pi_bench_${run}_${i}`, mode: 'payment', livemode: false,
      })
    const refund = (order: Order, i: number) =>
      stripe.event('charge.refunded', {
        id: `ch_bench_${run}_${i}`, object: 'charge', amount: PRICE, amount_refunded: PRICE, refunded: true,
        currency: 'usd', payment_intent: `pi_bench_${run}_${i}`, metadata: { orderId: order.id },
      })

    const completions = pending.map((order, i) => completion(order, i))
    const refunded = new Set<string>()
    const refunds = pending.slice(0, outOfOrderCount).map((order, i) => {
      refunded.add(order.id)
      return refund(order, i)
    })
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
    console.error(`answers: ${JSON.stringify(statuses)} in ${seconds.toFixed(2)} s`)

    // The books.
    const mismatches = new Set(await orders.ledgerMismatches())
    const final = await Order.query().whereIn('id', orderIds)
    let wrongState = 0
    for (const order of final) {
      const expected = refunded.has(order.id) ? 'refunded' : 'paid'
      if (order.status !== expected) wrongState++
    }
    const twicePaid = await db
      .from('orders')
      .where('status', 'paid')
      .whereIn('id', orderIds)
      .groupBy('buyer_id', 'video_id')
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
      `orders: ${final.length}, wrong final state: ${wrongState}, applied events: ${applied[0].n} (expected ${unique.length}), forged accepted: ${statuses['forged:200'] ?? 0}`
    )

    figure('webhook_events_per_s', Math.round(EVENTS / seconds), 'events/s')
    figure('webhook_ledger_mismatches', mismatches.size + wrongState, 'orders')
    figure('webhook_double_purchases', twicePaid.length + creditedTwice.length, 'purchases')
  } finally {
    await server.stop()
    await stripe.stop()
  }
}
