import { randomUUID } from 'node:crypto'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import Video from '#models/video'
import type User from '#models/user'
import Order from '#models/order'
import type { Group } from '@japa/runner/core'
import { StripeStandIn } from '#tests/helpers/stripe_stand_in'
import { resetState } from '#tests/helpers/state'

/**
 * The Stripe stand-in where .env.test points the Stripe plugin
 * (STRIPE_API_BASE), delivering webhooks to this test server.
 */
export async function startStripe() {
  const stripe = stripeStandIn()
  await stripe.start()
  return stripe
}

function stripeStandIn() {
  const base = new URL(env.get('STRIPE_API_BASE')!)
  return new StripeStandIn({
    secretKey: env.get('STRIPE_SECRET_KEY')!,
    webhookSecret: env.get('STRIPE_WEBHOOK_SECRET')!,
    webhookUrl: `${env.get('APP_URL')}/webhooks/stripe`,
    port: Number(base.port),
  })
}

/**
 * The stand-in for a test group: listening while the group runs, and
 * forgotten (with the database's rows) before each of its tests.
 */
export function stripeForGroup(group: Group) {
  const stripe = stripeStandIn()
  group.setup(async () => {
    await stripe.start()
    return () => stripe.stop()
  })
  group.each.setup(async () => {
    await resetState()
    stripe.reset()
  })
  return stripe
}

/**
 * A published, ready video row (no media): enough for selling it. Tests
 * that play video use `readyVideo`, which transcodes for real.
 */
export async function listedVideo(
  owner: User,
  options: { priceMinor?: number; currency?: string; visibility?: 'draft' | 'published'; title?: string } = {}
) {
  const id = randomUUID()
  return Video.create({
    id,
    ownerId: owner.id,
    title: options.title ?? 'A film for sale',
    status: 'ready',
    priceMinor: options.priceMinor ?? 1000,
    currency: options.currency ?? 'USD',
    visibility: options.visibility ?? 'published',
    sourceKey: `videos/${id}/source/master.mp4`,
    sourceFilename: 'master.mp4',
    sourceSize: 1,
    durationSeconds: 6,
    renditions: [],
  })
}

/** The ledger lines of an order, as account → amount (payments and refunds summed). */
export async function ledgerOf(orderId: string) {
  const rows = await db.from('ledger_entries').where('order_id', orderId).select('account', 'kind', 'amount_minor')
  const byAccount: Record<string, number> = {}
  for (const row of rows) byAccount[row.account] = (byAccount[row.account] ?? 0) + Number(row.amount_minor)
  return { rows, byAccount, sum: rows.reduce((total, row) => total + Number(row.amount_minor), 0) }
}

export async function onlyOrder() {
  const orders = await Order.all()
  if (orders.length !== 1) throw new Error(`expected one order, found ${orders.length}`)
  return orders[0]
}

export async function paymentEventOutcomes() {
  const rows = await db.from('payment_events').orderBy('id').select('event_id', 'type', 'outcome', 'detail')
  return rows
}

/**
 * A creator connects a Stripe account the way they would: Card payouts →
 * Connect, then the hosted onboarding's "Finish onboarding". Returns the
 * page they land on back at the app.
 */
export async function connectStripe(creatorClient: { submit: Function; visit: Function }) {
  const start = await creatorClient.submit('/plugins/stripe/connect', '/plugins/stripe/connect', {})
  if (!start.location?.includes('/connect/onboard/')) throw new Error(`Connect answered ${start.status} → ${start.location}`)
  const finish = await fetch(new URL(start.location), { method: 'POST', redirect: 'manual', body: new URLSearchParams() })
  if (finish.status !== 303) throw new Error(`onboarding answered ${finish.status}`)
  return creatorClient.visit(new URL(finish.headers.get('location')!).pathname) as Promise<{ text: string }>
}

/** Presses the Stripe buy button on the video page; returns the Checkout Session id. */
export async function buyWithStripe(client: { submit: Function }, video: { id: string }): Promise<string> {
  const response = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe' })
  if (response.status !== 303 || !response.location?.includes('/c/pay/')) {
    throw new Error(`buy answered ${response.status} → ${response.location}`)
  }
  return response.location.split('/c/pay/')[1]
}

/** A paid order through the core's real payment path (Stripe stand-in checkout, then its verified event, no fee). */
export async function paidOrder(buyer: User, video: Video) {
  const { default: orders } = await import('#services/order_service')
  const order = await orders.checkout(buyer, video.id, 'stripe')
  await orders.receive('stripe', [
    { eventId: `evt_${randomUUID()}`, type: 'payment.succeeded', orderId: order.id, amount: { amount: order.amountMinor, currency: order.currency } },
  ])
  return order
}
