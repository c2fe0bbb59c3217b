import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { ZeroAddress, type Contract } from 'ethers'
import { formatTokenAmount } from '#hooks/money'
import Order from '#models/order'
import orders from '#services/order_service'
import payoutAccounts from '#services/payout_account_service'
import { loggedIn } from '#tests/helpers/videos'
import { ledgerOf, listedVideo } from '#tests/helpers/commerce'
import { useTestChain, type TestChain } from '#tests/helpers/chain'
import { WebClient } from '#tests/helpers/web_client'
import type Video from '#models/video'

const CONFIRMATIONS = 3

/** Presses the wallet buy button: the order page with the wallet panel. */
async function checkout(client: WebClient, video: Video) {
  const response = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'x402' })
  if (response.status !== 303 || !response.location?.match(/\/orders\/[0-9a-f-]{36}\/complete$/)) {
    throw new Error(`buy answered ${response.status} → ${response.location}`)
  }
  const orderId = response.location.split('/')[2]
  return (await Order.findOrFail(orderId)) as Order
}

async function quote(client: WebClient, orderId: string, payer: string, token: string) {
  return client.api('POST', `/plugins/x402/orders/${orderId}/quote`, { payer, token })
}

/** Pays a signed quote from `wallet` as the checkout page does (approve + payERC20, or payNative). */
async function pay(chain: TestChain, walletIndex: number, signed: any) {
  const wallet = chain.wallet(walletIndex)
  const splitter = (await chain.splitter(wallet)) as Contract
  const q = signed.quote
  if (q.token === ZeroAddress) {
    return (await splitter.payNative(q, signed.signature, { value: BigInt(q.amount) })).wait()
  }
  const token = (await chain.stablecoin(wallet)) as Contract
  await (await token.approve(chain.deployment.contract, BigInt(q.amount))).wait()
  return (await splitter.payERC20(q, signed.signature)).wait()
}

async function waitForOrder(id: string, status: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const order = await Order.findOrFail(id)
    if (order.status === status) return order
    if (Date.now() > deadline) throw new Error(`order ${id} is ${order.status}, not ${status}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test.group('Crypto payments: wallet checkout and the chain watcher', (group) => {
  const fixture = useTestChain(group, { watcher: true })

  test('pay with the test stablecoin: split on chain, order paid after N confirmations, ledger equals what the chain paid', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const creatorWallet = await fixture.chain.address(2)
    await payoutAccounts.set('x402', creator.id, { accountRef: creatorWallet, ready: true })
    const video = await listedVideo(creator, { priceMinor: 841 })
    const { client } = await loggedIn('buyer')

    const order = await checkout(client, video)
    const page = await client.get(`/orders/${order.id}/complete`)
    assert.include(page.text, 'data-x402-checkout')
    assert.include(page.text, '8.41 mUSD')

    const signed = await quote(client, order.id, await fixture.chain.address(0), fixture.chain.deployment.token)
    assert.equal(signed.status, 200, JSON.stringify(signed.body))
    assert.equal(signed.body.quote.amount, '8410000')
    assert.equal(signed.body.quote.creatorShareBps, 9000)

    const token = (await fixture.chain.stablecoin()) as Contract
    const before = await token.balanceOf(creatorWallet)
    await pay(fixture.chain, 0, signed.body)
    // One confirmation short: nothing yet.
    await fixture.chain.mine(CONFIRMATIONS - 2)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    assert.equal((await Order.findOrFail(order.id)).status, 'pending')
    await fixture.chain.mine(1)
    const paid = await waitForOrder(order.id, 'paid')

    const chainCreator = (await token.balanceOf(creatorWallet)) - before
    assert.equal(chainCreator, 7_569_000n)
    const ledger = await ledgerOf(order.id)
    // 7.569 mUSD to the creator is 756.9 cents: the ledger rounds the creator down, the remainder to the platform.
    assert.deepEqual(ledger.byAccount, { creator: 756, platform: 85 })
    assert.equal(ledger.sum, 841)
    assert.match(paid.paymentReference!, /^0x[0-9a-f]{64}$/)
    assert.deepEqual(await orders.ledgerMismatches(), [])
  })

  test('pay with the native coin at the configured rate, exactly split', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const creatorWallet = await fixture.chain.address(2)
    await payoutAccounts.set('x402', creator.id, { accountRef: creatorWallet, ready: true })
    const video = await listedVideo(creator, { priceMinor: 3000 })
    const { client } = await loggedIn('buyer')
    const order = await checkout(client, video)

    const signed = await quote(client, order.id, await fixture.chain.address(1), ZeroAddress)
    assert.equal(signed.status, 200, JSON.stringify(signed.body))
    // $30 at 3000 USD per ETH = 0.01 ETH.
    assert.equal(signed.body.quote.amount, 10n ** 16n + '')
    const before = await fixture.chain.provider.getBalance(creatorWallet)
    await pay(fixture.chain, 1, signed.body)
    await fixture.chain.mine(CONFIRMATIONS)
    await waitForOrder(order.id, 'paid')
    assert.equal((await fixture.chain.provider.getBalance(creatorWallet)) - before, 9n * 10n ** 15n)
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 2700, platform: 300 })
  })

  test('a creator without a wallet: the platform collects everything and owes the creator their share', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1000 })
    const { client } = await loggedIn('buyer')
    const order = await checkout(client, video)
    const signed = await quote(client, order.id, await fixture.chain.address(0), fixture.chain.deployment.token)
    assert.equal(signed.body.quote.creatorShareBps, 0)
    await pay(fixture.chain, 0, signed.body)
    await fixture.chain.mine(CONFIRMATIONS)
    const paid = await waitForOrder(order.id, 'paid')
    assert.equal(paid.creatorPayout, 'owed')
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 900, platform: 100 })
  })

  test('quotes: only the buyer, only offered tokens, only real addresses', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 500 })
    const { client } = await loggedIn('buyer')
    const { client: other } = await loggedIn('other')
    const order = await checkout(client, video)
    const payer = await fixture.chain.address(0)

    assert.equal((await quote(other, order.id, payer, fixture.chain.deployment.token)).status, 404)
    assert.equal((await quote(client, order.id, 'not-an-address', fixture.chain.deployment.token)).status, 422)
    assert.equal((await quote(client, order.id, ZeroAddress, fixture.chain.deployment.token)).status, 422)
    assert.equal((await quote(client, order.id, payer, '0x000000000000000000000000000000000000dEaD')).status, 422)
    assert.equal((await quote(client, '00000000-0000-0000-0000-000000000000', payer, fixture.chain.deployment.token)).status, 404)
    assert.lengthOf(await db.from('plugin_state').whereLike('key', 'quote:%'), 0)
  })

  test('the wallet script writes a balance as the kit does: 6 significant digits, not all 18 decimals', async ({ assert }) => {
    const script = await new WebClient().get('/plugins/x402/checkout.js')
    assert.include(script.text, "import { formatTokenAmount } from '/plugins/x402/token-amount.js'")
    assert.notInclude(script.text, 'formatUnits(balance')
    const served = await new WebClient().get('/plugins/x402/token-amount.js')
    assert.equal(served.status, 200)
    assert.match(served.headers.get('content-type') ?? '', /^text\/javascript/)
    // Evaluated as the browser does, it is the server's formatter.
    const browserSide = await import(`data:text/javascript,${encodeURIComponent(served.text)}`)
    for (const [units, decimals, symbol] of [[1234567890123456789n, 18, 'ETH'], [10n ** 16n, 18, 'ETH'], [8_410_000n, 6, 'USDC'], [0n, 18, 'ETH']] as const) {
      assert.equal(browserSide.formatTokenAmount(units, decimals, symbol), formatTokenAmount(units, decimals, symbol))
    }
    assert.equal(browserSide.formatTokenAmount(1234567890123456789n, 18, 'ETH'), '1.23457 ETH')
  })
})
