import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import { Wallet, ZeroAddress, type Contract } from 'ethers'
import type { Browser } from 'playwright-core'
import Order from '#models/order'
import entitlements from '#services/entitlement_service'
import type Video from '#models/video'
import orders from '#services/order_service'
import payoutAccounts from '#services/payout_account_service'
import { loggedIn } from '#tests/helpers/videos'
import { ledgerOf, listedVideo } from '#tests/helpers/commerce'
import { TEST_KEYS, useTestChain, type TestChain } from '#tests/helpers/chain'
import { launchChromium, logIn, seriousAxeViolations } from '#tests/helpers/browser'
import type { WebClient } from '#tests/helpers/web_client'

const CONFIRMATIONS = Number(env.get('X402_CONFIRMATIONS'))
const REFUND_WALLET = new Wallet(env.get('X402_REFUND_KEY')!).address

/** Checkout with the wallet button, a quote for wallet `index` and `token`, paid on chain, watched to paid. */
async function buyOnChain(chain: TestChain, client: WebClient, video: Video, index: number, token: string) {
  const response = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'x402' })
  const orderId = response.location!.split('/')[2]
  const signed = await client.api('POST', `/plugins/x402/orders/${orderId}/quote`, { payer: await chain.address(index), token })
  if (signed.status !== 200) throw new Error(`quote answered ${signed.status}: ${JSON.stringify(signed.body)}`)
  const wallet = chain.wallet(index)
  const splitter = (await chain.splitter(wallet)) as Contract
  if (token === ZeroAddress) {
    await (await splitter.payNative(signed.body.quote, signed.body.signature, { value: BigInt(signed.body.quote.amount) })).wait()
  } else {
    const stablecoin = (await chain.stablecoin(wallet)) as Contract
    await (await stablecoin.approve(chain.deployment.contract, BigInt(signed.body.quote.amount))).wait()
    await (await splitter.payERC20(signed.body.quote, signed.body.signature)).wait()
  }
  await chain.mine(CONFIRMATIONS)
  const deadline = Date.now() + 20_000
  for (;;) {
    const order = await Order.findOrFail(orderId)
    if (order.status === 'paid') return { order, quote: signed.body.quote }
    if (Date.now() > deadline) throw new Error(`order ${orderId} is ${order.status}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test.group('Crypto loose ends: creator credits, refunds from the refund wallet', (group) => {
  const fixture = useTestChain(group, { watcher: true })
  group.each.timeout(120_000)

  test('a share the splitter could not pay is shown in Studio → Crypto payouts and withdrawn from there with the creator\'s wallet', async ({ assert }) => {
    const chain = fixture.chain
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    // The creator's wallet refuses the native coin at sale time (a contract's code there), so the splitter credits the share.
    const creatorWallet = new Wallet(TEST_KEYS[4], chain.provider)
    await payoutAccounts.set('x402', creator.id, { accountRef: creatorWallet.address, ready: true })
    const refuser = await chain.deploy('RevertingCreator', 'test', [])
    await chain.provider.send('hardhat_setCode', [creatorWallet.address, await chain.provider.getCode(await refuser.getAddress())])
    const video = await listedVideo(creator, { priceMinor: 3000 })
    const { client } = await loggedIn('buyer')
    await buyOnChain(chain, client, video, 0, ZeroAddress)
    // Back to a plain wallet, which can now sign its withdrawal.
    await chain.provider.send('hardhat_setCode', [creatorWallet.address, '0x'])
    const splitter = (await chain.splitter()) as Contract
    assert.equal(await splitter.credits(creatorWallet.address, ZeroAddress), 9n * 10n ** 15n)

    const page = await creatorClient.get('/plugins/x402/wallet')
    assert.equal(page.status, 200)
    assert.match(page.text, /data-credit-amount>0\.009 ETH</)
    assert.include(page.text, `data-withdraw-token="${ZeroAddress}"`)

    // The page's own script, in Chromium, with a wallet that signs as the creator (window.ethereum backed by the node).
    const browser: Browser = await launchChromium()
    try {
      const context = await browser.newContext({ baseURL: env.get('APP_URL'), viewport: { width: 390, height: 844 } })
      const tab = await context.newPage()
      await tab.exposeFunction('__wallet', async (method: string, params: any[]) => {
        if (method === 'eth_requestAccounts' || method === 'eth_accounts') return { result: [creatorWallet.address] }
        if (method === 'eth_sendTransaction') {
          const sent = await creatorWallet.sendTransaction({ to: params[0].to, data: params[0].data, value: params[0].value ? BigInt(params[0].value) : 0n })
          // Mined at once (no interval mining in tests).
          await chain.mine(1)
          return { result: sent.hash }
        }
        try {
          return { result: await chain.provider.send(method, params ?? []) }
        } catch (error: any) {
          return { error: { code: -32603, message: error.shortMessage ?? error.message } }
        }
      })
      await tab.addInitScript(() => {
        const call = (window as any).__wallet
        ;(window as any).ethereum = {
          async request({ method, params }: { method: string; params?: unknown[] }) {
            const answer = await call(method, params ?? [])
            if (answer.error) throw Object.assign(new Error(answer.error.message), answer.error)
            return answer.result
          },
          on() {},
          removeListener() {},
        }
      })
      await logIn(tab, 'maker')
      await tab.goto('/plugins/x402/wallet')
      await tab.screenshot({ path: 'tmp/screenshots/h2-credits-390.png', fullPage: true })
      assert.deepEqual(await seriousAxeViolations(tab), [], 'axe-core on Crypto payouts')
      assert.isAtMost(await tab.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 0)
      await tab.setViewportSize({ width: 1280, height: 800 })
      await tab.screenshot({ path: 'tmp/screenshots/h2-credits-1280.png', fullPage: true })
      const before = await chain.provider.getBalance(creatorWallet.address)
      await tab.click(`[data-withdraw-token="${ZeroAddress}"]`)
      await tab.waitForSelector('[data-no-credits]', { timeout: 30_000 })
      assert.equal(await splitter.credits(creatorWallet.address, ZeroAddress), 0n)
      assert.isAbove(Number((await chain.provider.getBalance(creatorWallet.address)) - before), 8.9e15)
    } finally {
      await browser.close()
    }
  })

  test('an admin refunds a crypto order from the refund wallet: the payer gets the tokens back, the ledger records it, access ends; a creator may not', async ({ assert }) => {
    const chain = fixture.chain
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    await payoutAccounts.set('x402', creator.id, { accountRef: await chain.address(2), ready: true })
    const video = await listedVideo(creator, { priceMinor: 841 })
    const { user: buyer, client } = await loggedIn('buyer')
    const { order, quote } = await buyOnChain(chain, client, video, 1, chain.deployment.token)
    const token = (await chain.stablecoin()) as Contract
    const payer = await chain.address(1)

    // The creator cannot refund it: the money would come from the platform's wallet.
    assert.isFalse(orders.canRefund(creator, order))
    const byCreator = await creatorClient.submit('/studio/sales', `/studio/orders/${order.id}/refund`, {})
    assert.notEqual((await Order.findOrFail(order.id)).status, 'refunded', `creator refund answered ${byCreator.status}`)

    const { user: admin, client: adminClient } = await loggedIn('boss', 'admin')
    assert.isTrue(orders.canRefund(admin, order))
    // An empty refund wallet: refused with the reason, nothing recorded.
    const empty = await adminClient.submit('/admin/orders', `/studio/orders/${order.id}/refund`, {})
    assert.equal((await Order.findOrFail(order.id)).status, 'paid', `empty wallet answered ${empty.status}`)
    const flash = await adminClient.visit(empty.location ?? '/admin/orders')
    assert.include(flash.text, `the refund wallet ${REFUND_WALLET} holds 0 mUSD`)

    // Funded: the refund goes through.
    await (await ((await chain.stablecoin(chain.wallet(0))) as Contract).transfer(REFUND_WALLET, 100_000_000n)).wait()
    const payerBefore = await token.balanceOf(payer)
    assert.isTrue((await entitlements.decide(buyer, video)).allowed)
    const refunded = await adminClient.submit('/admin/orders', `/studio/orders/${order.id}/refund`, {})
    assert.include([302, 303], refunded.status)
    const after = await Order.findOrFail(order.id)
    assert.equal(after.status, 'refunded')
    assert.equal(Number(after.refundedMinor), 841)
    assert.equal((await token.balanceOf(payer)) - payerBefore, BigInt(quote.amount))
    const ledger = await ledgerOf(order.id)
    assert.equal(ledger.sum, 0, JSON.stringify(ledger.rows))
    // Two refund rows: the failed attempt (with its reason) and the one that went through (its transaction).
    const rows = await db.from('refunds').where('order_id', order.id).orderBy('id')
    assert.deepEqual(rows.map((row) => row.status), ['failed', 'succeeded'])
    assert.include(rows[0].error, 'refund wallet')
    assert.match(rows[1].provider_reference, /^0x[0-9a-f]{64}$/)
    const receipt = await chain.provider.getTransactionReceipt(rows[1].provider_reference)
    assert.equal(receipt!.from, REFUND_WALLET)
    // Access ended with the refund.
    assert.deepInclude(await entitlements.decide(buyer, video), { allowed: false, reason: 'payment_required' })
  })

  test('partial crypto refunds give back the same share of the tokens paid, never more than was paid in all', async ({ assert }) => {
    const chain = fixture.chain
    const { user: creator } = await loggedIn('maker', 'creator')
    await payoutAccounts.set('x402', creator.id, { accountRef: await chain.address(2), ready: true })
    const video = await listedVideo(creator, { priceMinor: 841 })
    const { client } = await loggedIn('buyer')
    const { order, quote } = await buyOnChain(chain, client, video, 1, chain.deployment.token)
    await (await ((await chain.stablecoin(chain.wallet(0))) as Contract).transfer(REFUND_WALLET, 100_000_000n)).wait()
    const token = (await chain.stablecoin()) as Contract
    const payer = await chain.address(1)
    const { user: admin } = await loggedIn('boss', 'admin')

    const before = await token.balanceOf(payer)
    await orders.refund(admin, order.id, { amountMinor: 300 })
    // 300 of 841 cents of 8.41 mUSD: 3 mUSD.
    assert.equal((await token.balanceOf(payer)) - before, 3_000_000n)
    assert.equal(Number((await Order.findOrFail(order.id)).refundedMinor), 300)
    await orders.refund(admin, order.id)
    assert.equal((await token.balanceOf(payer)) - before, BigInt(quote.amount))
    const after = await Order.findOrFail(order.id)
    assert.equal(after.status, 'refunded')
    assert.equal(Number(after.refundedMinor), 841)
    // Nothing left: a third refund is refused and sends nothing.
    await assert.rejects(() => orders.refund(admin, order.id))
    assert.equal((await token.balanceOf(payer)) - before, BigInt(quote.amount))
  })

  test('a native-coin order is refunded in the native coin, from the refund wallet', async ({ assert }) => {
    const chain = fixture.chain
    const { user: creator } = await loggedIn('maker', 'creator')
    await payoutAccounts.set('x402', creator.id, { accountRef: await chain.address(2), ready: true })
    const video = await listedVideo(creator, { priceMinor: 3000 })
    const { client } = await loggedIn('buyer')
    const { order, quote } = await buyOnChain(chain, client, video, 1, ZeroAddress)
    const payer = await chain.address(1)
    const { user: admin } = await loggedIn('boss', 'admin')
    const before = await chain.provider.getBalance(payer)
    const refundWalletBefore = await chain.provider.getBalance(REFUND_WALLET)
    await orders.refund(admin, order.id)
    // 0.01 ETH back to the payer (who paid no gas for it); the refund wallet paid it and its gas.
    assert.equal((await chain.provider.getBalance(payer)) - before, BigInt(quote.amount))
    assert.isAbove(Number(refundWalletBefore - (await chain.provider.getBalance(REFUND_WALLET))), Number(BigInt(quote.amount)))
    assert.equal((await Order.findOrFail(order.id)).status, 'refunded')
  })
})
