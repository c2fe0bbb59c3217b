import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import db from '@adonisjs/lucid/services/db'
import type { Contract } from 'ethers'
import Offer from '#models/offer'
import Order from '#models/order'
import entitlements from '#services/entitlement_service'
import orders from '#services/order_service'
import payoutAccounts from '#services/payout_account_service'
import { loggedIn } from '#tests/helpers/videos'
import { ledgerOf, listedVideo } from '#tests/helpers/commerce'
import { useTestChain } from '#tests/helpers/chain'

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')

async function waitForOrder(id: string, status: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const order = await Order.findOrFail(id)
    if (order.status === status) return order
    if (Date.now() > deadline) throw new Error(`order ${id} is ${order.status}, not ${status}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test.group('Offers: a bundle bought by wallet (x402)', (group) => {
  const fixture = useTestChain(group, { watcher: true })

  test('the wallet panel sells a bundle like a video: an order with an amount, paid on chain, every video of the bundle opens', async ({ assert }) => {
    const { user: creator } = await loggedIn('ann', 'creator')
    const creatorWallet = await fixture.chain.address(2)
    await payoutAccounts.set('x402', creator.id, { accountRef: creatorWallet, ready: true })
    const one = await listedVideo(creator, { title: 'Episode 1' })
    const two = await listedVideo(creator, { title: 'Episode 2' })
    const bundle = await Offer.create({ id: randomUUID(), creatorId: creator.id, kind: 'purchase', scope: 'bundle', title: 'Series 1', priceMinor: 1500, currency: 'USD', active: true })
    for (const [position, video] of [one, two].entries()) await db.table('offer_videos').insert({ offer_id: bundle.id, video_id: video.id, position })
    const { user: viewer, client } = await loggedIn('wallet_fan')

    const page = await client.visit(`/videos/${one.id}`)
    assert.include(page.text, `action="/offers/${bundle.id}/checkout"`)
    const response = await client.submit(`/videos/${one.id}`, `/offers/${bundle.id}/checkout`, { provider: 'x402' })
    assert.equal(response.status, 303)
    assert.match(response.location!, /^\/orders\/[0-9a-f-]{36}\/complete$/)
    const order = await Order.findOrFail(response.location!.split('/')[2])
    assert.isNull(order.videoId)
    assert.equal(order.offerScope, 'bundle')
    const panel = await client.get(`/orders/${order.id}/complete`)
    assert.include(panel.text, 'data-x402-checkout')
    assert.include(panel.text, '15 mUSD')
    assert.include(text(panel.text), 'Bundle: Series 1')

    const signed = await client.api('POST', `/plugins/x402/orders/${order.id}/quote`, { payer: await fixture.chain.address(0), token: fixture.chain.deployment.token })
    assert.equal(signed.status, 200, JSON.stringify(signed.body))
    assert.equal(signed.body.quote.amount, '15000000')
    const wallet = fixture.chain.wallet(0)
    const splitter = (await fixture.chain.splitter(wallet)) as Contract
    const token = (await fixture.chain.stablecoin(wallet)) as Contract
    await (await token.approve(fixture.chain.deployment.contract, BigInt(signed.body.quote.amount))).wait()
    await (await splitter.payERC20(signed.body.quote, signed.body.signature)).wait()
    await fixture.chain.mine(3)
    await waitForOrder(order.id, 'paid')

    assert.equal((await ledgerOf(order.id)).sum, 1500)
    assert.deepEqual(await orders.ledgerMismatches(), [])
    for (const video of [one, two]) assert.deepInclude(await entitlements.decide(viewer, video), { allowed: true, via: 'purchase' })
    const library = text((await client.visit('/library')).text)
    assert.include(library, 'Bundle: Series 1')
    assert.include(library, 'Episode 2')
  }).timeout(120_000)
})
