import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import type User from '#models/user'
import type Video from '#models/video'
import orders from '#services/order_service'
import { resetState } from '#tests/helpers/state'
import { loggedIn } from '#tests/helpers/videos'
import { listedVideo, startStripe } from '#tests/helpers/commerce'

/** A paid order through the core's payment path (Stripe stand-in checkout, then its verified event, no fee). */
async function paidOrder(buyer: User, video: Video) {
  const order = await orders.checkout(buyer, video.id, 'stripe')
  await orders.receive('stripe', [
    { eventId: `evt_${randomUUID()}`, type: 'payment.succeeded', orderId: order.id, amount: { amount: order.amountMinor, currency: order.currency } },
  ])
  return order
}

test.group('Defects seen in the try-out', (group) => {
  let stripe: Awaited<ReturnType<typeof startStripe>>
  group.setup(async () => {
    stripe = await startStripe()
    return () => stripe.stop()
  })
  group.each.setup(() => resetState())

  test('money figures of zero read $0.00 ("Payment fees: $0.00"), a free video still reads Free', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    const { user: maker, client: creator } = await loggedIn('maker', 'creator')
    const { user: buyer } = await loggedIn('buyer')
    await paidOrder(buyer, await listedVideo(maker, { title: 'Paid film', priceMinor: 450 }))
    await listedVideo(maker, { title: 'Gift film', priceMinor: 0 })

    const overview = await admin.get('/admin')
    assert.match(overview.text, /data-figure="provider">\$0\.00</)
    const sales = await creator.get('/studio/sales')
    assert.match(sales.text, /data-figure="provider">\$0\.00</)
    for (const page of [overview.text, sales.text]) assert.notMatch(page, />\s*Free\s*</)
    const myVideos = await creator.get('/studio/videos')
    assert.match(myVideos.text, />\s*Free\s*</)
  })

  test('an admin action on a filtered list goes back to that list with its filters', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    const { user: maker } = await loggedIn('maker', 'creator')
    const { user: troll } = await loggedIn('troll')
    const film = await listedVideo(maker, { title: 'Harbour lights' })

    const videoList = '/admin/videos?q=harbour&status=ready'
    const takedown = await admin.submit(videoList, `/admin/videos/${film.id}/takedown`, { reason: 'copyright claim' })
    assert.equal(takedown.status, 302)
    assert.equal(takedown.location, videoList)
    const restore = await admin.submit(videoList, `/admin/videos/${film.id}/restore`, {})
    assert.equal(restore.location, videoList)

    const userList = '/admin/users?q=troll&role=viewer'
    const ban = await admin.submit(userList, `/admin/users/${troll.id}/ban`, { reason: 'spamming comments' })
    assert.equal(ban.location, userList)
    const unban = await admin.submit(userList, `/admin/users/${troll.id}/unban`, {})
    assert.equal(unban.location, userList)

    // A form sent from another page goes back to the bare list, never to that page.
    const elsewhere = await admin.submit('/admin/audit?q=x', `/admin/videos/${film.id}/takedown`, { reason: 'copyright claim' })
    assert.equal(elsewhere.location, '/admin/videos')
  })
})
