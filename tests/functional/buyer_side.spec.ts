import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Order from '#models/order'
import receipts from '#services/commerce/receipts'
import videos from '#services/video_service'
import { loggedIn } from '#tests/helpers/videos'
import { buyWithStripe, listedVideo, onlyOrder, stripeForGroup } from '#tests/helpers/commerce'
import { smtp, decodeQuotedPrintable } from '#tests/helpers/smtp_capture'
import { startWorker, type RunningWorker } from '#tests/helpers/processes'

/** The mail's text and HTML parts, decoded. */
function bodyOf(raw: string) {
  return decodeQuotedPrintable(raw)
}

/** The Subject header, unfolded, its RFC 2047 encoded words decoded. */
function subjectOf(raw: string) {
  const headers = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ')
  const line = headers.split(/\r?\n/).find((header) => header.startsWith('Subject: '))!.slice(9)
  return line
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_, text: string) =>
      Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8')
    )
}

test.group("Buyer's side: receipts, open checkouts, what happened to a purchase", (group) => {
  const stripe = stripeForGroup(group)
  // Receipts are mailed by the workers (the `mail` queue).
  let worker: RunningWorker
  group.setup(async () => {
    worker = await startWorker(['mail'])
    return () => worker.stop()
  })

  test('a purchase mails one receipt (HTML and text), however often the payment event arrives; a refund mails another', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 499, title: 'Night train' })
    const { client: buyerClient } = await loggedIn('buyer')
    const paid = await stripe.pay(await buyWithStripe(buyerClient, video))
    const mail = await smtp.waitFor('buyer@example.com')
    const order = await onlyOrder()
    assert.equal(order.status, 'paid')
    const body = bodyOf(mail.raw)
    assert.equal(subjectOf(mail.raw), `Your receipt for "Night train" (${order.receiptNumber})`)
    assert.include(body, 'Content-Type: text/plain')
    assert.include(body, 'Content-Type: text/html')
    assert.include(body, 'Price:      $4.99')
    assert.include(body, `/library/orders/${order.id}`)

    // Stripe delivers again (a retry, a replay): no second receipt.
    await stripe.deliver(paid)
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.lengthOf(smtp.to('buyer@example.com'), 1)
    const rows = await db.from('order_receipts').where('order_id', order.id)
    assert.lengthOf(rows, 1)
    assert.isNotNull(rows[0].sent_at)

    const mark = smtp.mark()
    await creatorClient.submit('/studio/sales', `/studio/orders/${order.id}/refund`, {})
    await stripe.settled()
    const refundMail = await smtp.waitFor('buyer@example.com', mark)
    const refund = bodyOf(refundMail.raw)
    assert.equal(subjectOf(refundMail.raw), `Refund of "Night train" (${order.receiptNumber})`)
    assert.include(refund, 'Refunded:   $4.99')
    assert.include(refund, 'Refunded by maker')
    await new Promise((resolve) => setTimeout(resolve, 500))
    // Stripe's own refund event afterwards changes nothing and mails nothing.
    assert.lengthOf(smtp.to('buyer@example.com'), 2)
  })

  test('a crypto receipt says which token and amount paid, to sensible digits', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 500, title: 'On chain' })
    const { user: buyer } = await loggedIn('buyer')
    const order = await Order.create({
      id: randomUUID(), buyerId: buyer.id, creatorId: creator.id, videoId: video.id, provider: 'x402', amountMinor: 500, currency: 'USD',
      platformFeeBps: 1000, platformFeeMinor: 50, creatorPayout: 'direct', status: 'paid', paidAt: DateTime.now(), paymentReference: '0xabc',
      expiresAt: DateTime.now().plus({ hours: 1 }),
    })
    await db.table('payment_events').insert({
      provider: 'x402', event_id: '31337:0xabc:0', type: 'payment.succeeded', order_id: order.id, outcome: 'applied', received_at: new Date(),
      event: JSON.stringify({ eventId: '31337:0xabc:0', type: 'payment.succeeded', details: { symbol: 'ETH', decimals: 18, amount: '1666666666666666667' } }),
    })
    await order.load('buyer')
    await order.load('video')
    await order.load('creator')
    const message = await receipts.message(order, 'purchase', 0)
    assert.equal(message.paidWithText, '1.66667 ETH')
    const inserted = await db.table('order_receipts').insert({ order_id: order.id, kind: 'purchase', refunded_minor: 0, created_at: new Date() }).returning('id')
    await receipts.send(inserted[0].id)
    const body = bodyOf((await smtp.waitFor('buyer@example.com')).raw)
    assert.match(body, /Paid with:  [^\n]*: 1\.66667 ETH/)
    // Sending the same receipt again mails nothing.
    await receipts.send(inserted[0].id)
    assert.lengthOf(smtp.to('buyer@example.com'), 1)
    // Nonsense details from a provider are not shown.
    await db.from('payment_events').update({ event: JSON.stringify({ details: { symbol: 'ETH', decimals: 18, amount: '-5' } }) })
    assert.isNull((await receipts.message(order, 'purchase', 0)).paidWithText)
  })

  test('the library lists open checkouts with "continue payment", and says why a bought video is taken down or archived', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const open = await listedVideo(creator, { priceMinor: 300, title: 'Still to pay' })
    const stale = await listedVideo(creator, { priceMinor: 300, title: 'Expired checkout' })
    const gone = await listedVideo(creator, { priceMinor: 300, title: 'Taken away' })
    const shelved = await listedVideo(creator, { priceMinor: 300, title: 'Shelved' })
    const { user: buyer, client } = await loggedIn('buyer')
    const base = { buyerId: buyer.id, creatorId: creator.id, provider: 'stripe', amountMinor: 300, currency: 'USD', platformFeeBps: 1000, platformFeeMinor: 30, creatorPayout: 'owed' as const }
    const pending = await Order.create({ ...base, id: randomUUID(), videoId: open.id, status: 'pending', checkoutUrl: 'https://checkout.example/pay/1', expiresAt: DateTime.now().plus({ minutes: 30 }) })
    await Order.create({ ...base, id: randomUUID(), videoId: stale.id, status: 'pending', expiresAt: DateTime.now().minus({ minutes: 1 }) })
    await Order.create({ ...base, id: randomUUID(), videoId: gone.id, status: 'paid', paidAt: DateTime.now(), expiresAt: DateTime.now() })
    await Order.create({ ...base, id: randomUUID(), videoId: shelved.id, status: 'paid', paidAt: DateTime.now(), expiresAt: DateTime.now() })
    const { user: admin } = await loggedIn('boss', 'admin')
    await videos.takeDown(admin, gone, 'Copyright claim by the rights holder')
    await videos.destroy(shelved, creator)

    const page = (await client.get('/library')).text
    assert.match(page, /data-library="pending"[\s\S]*Still to pay[\s\S]*href="https:\/\/checkout\.example\/pay\/1"[^>]*>Continue payment/)
    assert.notInclude(page.split('data-library="pending"')[1].split('</ul>')[0], 'Expired checkout')
    assert.match(page, /data-video-state="taken_down"[^>]*>Taken down by an administrator — it cannot be played<\/strong>\s*<span data-takedown-reason>\(why: Copyright claim by the rights holder\)/)
    assert.match(page, /data-video-state="archived"[^>]*>Archived by the creator/)
    // A checkout without a hosted page continues on the order's own page.
    pending.checkoutUrl = null
    await pending.save()
    assert.include((await client.get('/library')).text, `href="/orders/${pending.id}/complete"`)
  })
})
