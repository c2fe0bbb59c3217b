import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import { AbiCoder, Wallet, zeroPadValue, type Contract } from 'ethers'
import Order from '#models/order'
import User from '#models/user'
import orders from '#services/order_service'
import payoutAccounts from '#services/payout_account_service'
import { loggedIn } from '#tests/helpers/videos'
import { listedVideo } from '#tests/helpers/commerce'
import { startWatcher, useTestChain, type TestChain } from '#tests/helpers/chain'
import type { WebClient } from '#tests/helpers/web_client'
import { PAID_TOPIC, invoiceIdFor, videoIdHashFor } from '../../plugins/x402/chain.js'

const CONFIRMATIONS = Number(env.get('X402_CONFIRMATIONS'))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** An order of `buyer` for a new video of `creator`, and its quote for wallet `payerIndex` in mUSD. */
async function quotedOrder(chain: TestChain, creator: User, buyer: { user: User; client: WebClient }, payerIndex = 0, priceMinor = 500) {
  const video = await listedVideo(creator, { priceMinor, title: `Film ${randomUUID().slice(0, 6)}` })
  const order = await orders.checkout(buyer.user, video.id, 'x402')
  const signed = await buyer.client.api('POST', `/plugins/x402/orders/${order.id}/quote`, {
    payer: await chain.address(payerIndex),
    token: chain.deployment.token,
  })
  if (signed.status !== 200) throw new Error(`quote: ${signed.status} ${JSON.stringify(signed.body)}`)
  return { order, video, signed: signed.body as { quote: any; signature: string } }
}

/** approve + payERC20 from test wallet `index`; resolves with the receipt, rejects on revert. */
async function payStablecoin(chain: TestChain, index: number, signed: { quote: any; signature: string }, splitter?: Contract) {
  const wallet = chain.wallet(index)
  const target = splitter ? (splitter.connect(wallet) as Contract) : ((await chain.splitter(wallet)) as Contract)
  const token = (await chain.stablecoin(wallet)) as Contract
  await (await token.approve(await target.getAddress(), BigInt(signed.quote.amount))).wait()
  return (await target.payERC20(signed.quote, signed.signature)).wait()
}

async function statusOf(id: string) {
  return (await Order.findOrFail(id)).status
}

async function waitUntil<T>(what: string, probe: () => Promise<T | false | null | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

async function x402Events() {
  return db.from('payment_events').where('provider', 'x402').orderBy('id')
}

test.group('Crypto payments: faults and bad input', (group) => {
  const fixture = useTestChain(group)

  test('the watcher is killed while 20 payments are sent; restarted, it credits every one exactly once', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    await payoutAccounts.set('x402', creator.id, { accountRef: await fixture.chain.address(2), ready: true })
    const buyers = [await loggedIn('buyer0'), await loggedIn('buyer1')]
    const quoted: Array<Awaited<ReturnType<typeof quotedOrder>>> = []
    for (let i = 0; i < 20; i++) quoted.push(await quotedOrder(fixture.chain, creator, buyers[i % 2], i % 2))

    fixture.watcher = await startWatcher()
    for (let i = 0; i < 20; i++) {
      await payStablecoin(fixture.chain, i % 2, quoted[i].signed)
      await fixture.chain.mine(1)
      if (i === 7) {
        // Killed without warning, mid-stream: no chance to save anything.
        await waitUntil('a first payment credited', async () => (await statusOf(quoted[0].order.id)) === 'paid')
        fixture.watcher.kill('SIGKILL')
        await new Promise((resolve) => fixture.watcher!.once('exit', resolve))
      }
    }
    await fixture.chain.mine(CONFIRMATIONS)
    const creditedWhileDown = (await Order.query().where('status', 'paid')).length
    assert.isBelow(creditedWhileDown, 20)

    fixture.watcher = await startWatcher()
    await waitUntil('all 20 orders paid', async () => (await Order.query().where('status', 'paid')).length === 20)
    await sleep(1000)
    const events = await x402Events()
    assert.lengthOf(events, 20)
    assert.isTrue(events.every((event) => event.outcome === 'applied'))
    assert.lengthOf(new Set(events.map((event) => event.order_id)), 20)
    assert.lengthOf(await db.from('ledger_entries').where('kind', 'payment'), 40)
    assert.deepEqual(await orders.ledgerMismatches(), [])
  }).timeout(180_000)

  test('a reorg shallower than N drops a payment before it is confirmed: no credit; the order can still be paid', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const buyer = await loggedIn('buyer')
    const { order, signed } = await quotedOrder(fixture.chain, creator, buyer)
    fixture.watcher = await startWatcher()

    const snapshot = await fixture.chain.provider.send('evm_snapshot', [])
    await payStablecoin(fixture.chain, 0, signed)
    await fixture.chain.mine(CONFIRMATIONS - 2) // N-1 confirmations
    await sleep(1500)
    assert.equal(await statusOf(order.id), 'pending')
    assert.isTrue(await fixture.chain.provider.send('evm_revert', [snapshot]))
    await fixture.chain.mine(CONFIRMATIONS + 3)
    await sleep(1500)
    assert.equal(await statusOf(order.id), 'pending')
    assert.lengthOf(await x402Events(), 0)

    // The dropped transaction never happened: the same quote pays for real.
    await payStablecoin(fixture.chain, 0, signed)
    await fixture.chain.mine(CONFIRMATIONS)
    await waitUntil('paid', async () => (await statusOf(order.id)) === 'paid')
    assert.lengthOf(await x402Events(), 1)
  }).timeout(90_000)

  test('replayed, expired, other-payer and other-video quotes are refused by the contract; nothing is credited twice', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const buyer = await loggedIn('buyer')
    fixture.watcher = await startWatcher()

    const first = await quotedOrder(fixture.chain, creator, buyer)
    await payStablecoin(fixture.chain, 0, first.signed)
    await assert.rejects(() => payStablecoin(fixture.chain, 0, first.signed), /InvoiceUsed|reverted/)

    const other = await quotedOrder(fixture.chain, creator, buyer)
    // Wallet 1 presents a quote signed for wallet 0.
    await assert.rejects(() => payStablecoin(fixture.chain, 1, other.signed), /WrongPayer|reverted/)
    // The quote with another video's hash: the signature no longer matches.
    const forged = { ...other.signed, quote: { ...other.signed.quote, videoIdHash: videoIdHashFor(first.video.id) } }
    await assert.rejects(() => payStablecoin(fixture.chain, 0, forged), /InvalidSignature|reverted/)

    await fixture.chain.mine(CONFIRMATIONS)
    await waitUntil('the first order paid', async () => (await statusOf(first.order.id)) === 'paid')

    // A quote past its deadline: the chain's clock is moved past it, then put back.
    const late = await quotedOrder(fixture.chain, creator, buyer)
    const beforeExpiry = await fixture.chain.provider.send('evm_snapshot', [])
    await fixture.chain.provider.send('evm_increaseTime', [Number(env.get('X402_QUOTE_TTL_MINUTES')) * 60 + 60])
    await fixture.chain.mine(1)
    await assert.rejects(() => payStablecoin(fixture.chain, 0, late.signed), /QuoteExpired|reverted/)
    await fixture.chain.provider.send('evm_revert', [beforeExpiry])
    // And the server no longer signs quotes for an order whose terms expired.
    await db
      .from('plugin_state')
      .where({ plugin: 'x402', key: `order:${late.order.id}` })
      .update({ value: db.raw(`jsonb_set(value, '{deadline}', to_jsonb(?::bigint))`, [Math.floor(Date.now() / 1000) - 1]) })
    const refused = await buyer.client.api('POST', `/plugins/x402/orders/${late.order.id}/quote`, {
      payer: await fixture.chain.address(0),
      token: fixture.chain.deployment.token,
    })
    assert.equal(refused.status, 410)
    assert.match(refused.body.error, /expired/)

    await sleep(1000)
    assert.equal(await statusOf(other.order.id), 'pending')
    assert.equal(await statusOf(late.order.id), 'pending')
    assert.lengthOf(await x402Events(), 1)
  }).timeout(90_000)

  test('a payment to an old contract address is not credited', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const buyer = await loggedIn('buyer')
    const { order, signed } = await quotedOrder(fixture.chain, creator, buyer)
    const old = (await fixture.chain.splitter()) as Contract

    // The operator redeploys: payments now go to a new splitter.
    const signer = new Wallet(env.get('X402_QUOTE_SIGNER_KEY')!)
    const current = await fixture.chain.deploy('X402Splitter', '', [await fixture.chain.address(0), signer.address, await fixture.chain.address(0), [fixture.chain.deployment.token]])
    const newAddress = await current.getAddress()
    await db
      .from('plugin_state')
      .where({ plugin: 'x402', key: `deployment:${env.get('X402_CHAIN_ID')}` })
      .update({ value: JSON.stringify({ ...fixture.chain.deployment, contract: newAddress, block: await fixture.chain.head() }) })
    fixture.watcher = await startWatcher()

    // The buyer pays the old contract with the quote they were given for it.
    await payStablecoin(fixture.chain, 0, signed, old)
    await fixture.chain.mine(CONFIRMATIONS + 1)
    await sleep(1500)
    assert.equal(await statusOf(order.id), 'pending')
    assert.lengthOf(await x402Events(), 0)
    const cursor = await db.from('plugin_state').where({ plugin: 'x402', key: `cursor:${env.get('X402_CHAIN_ID')}:${newAddress.toLowerCase()}` }).first()
    assert.isAbove(cursor.value.nextBlock, 0)
  }).timeout(90_000)

  test('malformed and unmatched logs are recorded for the admin, grant nothing, and do not stop the watcher', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const buyer = await loggedIn('buyer')
    const { order, signed } = await quotedOrder(fixture.chain, creator, buyer)
    const forger = await fixture.chain.deploy('PaidLogForger', 'test', [])
    await db
      .from('plugin_state')
      .where({ plugin: 'x402', key: `deployment:${env.get('X402_CHAIN_ID')}` })
      .update({ value: JSON.stringify({ ...fixture.chain.deployment, contract: await forger.getAddress(), block: await fixture.chain.head() }) })
    fixture.watcher = await startWatcher()

    const coder = AbiCoder.defaultAbiCoder()
    const word = (address: string) => zeroPadValue(address, 32)
    const payer = await fixture.chain.address(0)
    const data = (amount: bigint) =>
      coder.encode(['address', 'uint256', 'uint256', 'uint256', 'bytes32'], [fixture.chain.deployment.token, amount, (amount * 9n) / 10n, amount - (amount * 9n) / 10n, signed.quote.videoIdHash])
    // 1. Truncated data.
    await (await forger.emitLog([PAID_TOPIC, invoiceIdFor(order.id), word(payer), word(signed.quote.creator)], '0x1234')).wait()
    // 2. An invoice this server never issued.
    await (await forger.emitLog([PAID_TOPIC, invoiceIdFor(randomUUID()), word(payer), word(signed.quote.creator)], data(5_000_000n))).wait()
    // 3. The real invoice with another amount than quoted.
    await (await forger.emitLog([PAID_TOPIC, invoiceIdFor(order.id), word(payer), word(signed.quote.creator)], data(1n))).wait()
    // 4. The real invoice from a payer nobody quoted.
    await (await forger.emitLog([PAID_TOPIC, invoiceIdFor(order.id), word(await fixture.chain.address(4)), word(signed.quote.creator)], data(5_000_000n))).wait()
    // 5. Not even a Paid topic count.
    await (await forger.emitLog([PAID_TOPIC], data(5_000_000n))).wait()
    await fixture.chain.mine(CONFIRMATIONS)

    const events = await waitUntil('five recorded events', async () => {
      const rows = await x402Events()
      return rows.length === 5 ? rows : null
    })
    assert.isTrue(events.every((event) => event.outcome === 'rejected' && event.type === 'payment.unmatched'))
    assert.match(events[0].detail, /malformed/)
    assert.match(events[1].detail, /never|not one this server issues|no quote/)
    assert.match(events[2].detail, /amount 1, quoted 5000000/)
    assert.match(events[3].detail, /no quote was signed for payer/)
    assert.match(events[4].detail, /malformed/)
    assert.equal(events[2].order_id, order.id)
    assert.include(events[3].event.details.txHash, '0x')
    assert.equal(await statusOf(order.id), 'pending')
    assert.lengthOf(await db.from('ledger_entries'), 0)
    assert.isNull(fixture.watcher.exitCode)

    // The admin sees them, with the transaction to look up.
    const { client: admin } = await loggedIn('root', 'admin')
    const page = await admin.get('/admin/orders')
    assert.include(page.text, 'data-unmatched-payments')
    assert.include(page.text, events[3].event.details.txHash)
    assert.include(page.text, 'no quote was signed for payer')
  }).timeout(90_000)

  test('the RPC is down: the watcher retries with a growing delay and the admin page says so', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    fixture.watcher = await startWatcher({ X402_RPC_URL: 'http://127.0.0.1:9' })
    const statuses: number[] = []
    await waitUntil('two retries', async () => {
      const row = await db.from('plugin_state').where({ plugin: 'x402', key: `watcher:${env.get('X402_CHAIN_ID')}` }).first()
      if (row && !row.value.ok && statuses.at(-1) !== row.value.retryInMs) statuses.push(row.value.retryInMs)
      return statuses.length >= 2
    })
    assert.isAbove(statuses[1], statuses[0])
    const page = await admin.get('/admin/plugins')
    assert.equal(page.status, 200)
    assert.match(page.text, /RPC unreachable[^<]*since \d\d:\d\d UTC/)
    assert.isNull(fixture.watcher.exitCode)
  }).timeout(60_000)
})

