import { test } from '@japa/runner'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { ZeroAddress } from 'ethers'
import { bootPlugin } from '@matinee/plugin-kit/testing'
import { HttpRateSource } from '../rate_source.js'
import type { X402PaymentProvider } from '../x402_payment_provider.js'

const CHAIN = 31337
const SIGNER = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'
const FAKE_CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3'

/** A price source on loopback: answers what `reply` says now (status and body). */
async function priceServer() {
  const state = { status: 200, body: '{}' as string, requests: 0 }
  const server: Server = createServer((_request, response) => {
    state.requests++
    response.writeHead(state.status, { 'content-type': 'application/json' })
    response.end(state.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eth.json`
  return { state, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

/** An order as the core hands it to createCheckout (only the native coin can pay it here: no stablecoin is deployed). */
function order(priceMinor: number) {
  return {
    orderId: randomUUID(),
    itemId: randomUUID(),
    itemTitle: 'A film',
    videoId: randomUUID(),
    videoTitle: 'A film',
    buyer: { id: 1, email: 'b@example.com', username: 'buyer' },
    creator: { id: 2, username: 'maker', payoutAccount: '0x90F79bf6EB2c4f870365E785982E1f101E93b906' },
    price: { amount: priceMinor, currency: 'USD' },
    platformFeeBps: 1000,
    expiresAt: new Date(Date.now() + 3_600_000),
  } as any
}

test.group('x402: the native coin price from an HTTP source, with a staleness bound', (group) => {
  let source: Awaited<ReturnType<typeof priceServer>>
  group.each.setup(async () => {
    source = await priceServer()
    return () => source.close()
  })

  test('prices: plain or with updatedAt; polled at most every pollSeconds; stale after maxAge; a failing source keeps the last price until then', async ({ assert }) => {
    let now = Date.parse('2026-01-01T12:00:00Z')
    const rates = new HttpRateSource({ url: source.url, currencies: ['USD', 'EUR'], pollSeconds: 60, maxAgeSeconds: 300, now: () => now })
    source.state.body = JSON.stringify({ USD: 3012.5, EUR: '2790.10' })
    assert.deepInclude(await rates.rate('USD'), { ok: true, rate: '3012.5' })
    assert.deepInclude(await rates.rate('EUR'), { ok: true, rate: '2790.10' })
    assert.equal(source.state.requests, 1)

    // Within the poll interval: no new request.
    now += 30_000
    await rates.rate('USD')
    assert.equal(source.state.requests, 1)

    // The source breaks: the last price holds until it is older than maxAge, then quotes are refused.
    source.state.status = 503
    now += 60_000
    assert.isTrue((await rates.rate('USD')).ok)
    assert.equal(source.state.requests, 2)
    now += 300_000
    const stale = await rates.rate('USD')
    assert.isFalse(stale.ok)
    assert.match((stale as any).reason, /out of date \(last update 2026-01-01 12:00 UTC, older than 300 s; the source answered HTTP 503\)/)
    const status = await rates.status()
    assert.isFalse(status.ok)
    assert.include(status.message, 'Native coin quotes refused')

    // The source says its own price is old: its updatedAt counts, not when we fetched it.
    source.state.status = 200
    source.state.body = JSON.stringify({ rates: { USD: '3100' }, updatedAt: new Date(now - 3_600_000).toISOString() })
    now += 61_000
    assert.match((await rates.rate('USD') as any).reason, /out of date/)
    source.state.body = JSON.stringify({ rates: { USD: '3100' }, updatedAt: Math.floor(now / 1000) - 10 })
    now += 61_000
    assert.deepInclude(await rates.rate('USD'), { ok: true, rate: '3100' })
    assert.deepInclude(await rates.rate('EUR'), { ok: false })
  })

  test('bad answers are no price: not JSON, negative, zero, text, exponent, a missing currency', async ({ assert }) => {
    for (const body of ['not json', '{"USD": -1}', '{"USD": 0}', '{"USD": "three thousand"}', '{"USD": "3e3"}', '{"GBP": 2000}', '[]', '{"USD": 3000, "updatedAt": "yesterday"}']) {
      source.state.body = body
      const rates = new HttpRateSource({ url: source.url, currencies: ['USD'], pollSeconds: 60, maxAgeSeconds: 300 })
      const lookup = await rates.rate('USD')
      assert.isFalse(lookup.ok, body)
      assert.match((lookup as any).reason, /price source failed/, body)
    }
  })

  test('the provider: a fresh price quotes the native coin; a stale one refuses the checkout and the quote, and the admin page says why', async ({ assert }) => {
    source.state.body = JSON.stringify({ USD: 2000 })
    const plugin = await bootPlugin(new URL('../', import.meta.url), {
      rpcUrl: 'http://127.0.0.1:9',
      chainId: CHAIN,
      quoteSignerKey: SIGNER,
      contractAddress: FAKE_CONTRACT,
      nativeRateUrl: source.url,
      nativeRateCurrencies: 'USD',
      nativeRatePollSeconds: 1,
      nativeRateMaxAgeSeconds: 10,
    })
    const provider = plugin.payments.get('x402') as X402PaymentProvider
    assert.includeMembers(provider.currencies, ['USD'])
    await plugin.state.set(`deployment:${CHAIN}`, { contract: FAKE_CONTRACT, token: null, block: 0, owner: FAKE_CONTRACT, quoteSigner: FAKE_CONTRACT, feeRecipient: FAKE_CONTRACT, deployedAt: new Date().toISOString() })
    await plugin.state.set(`watcher:${CHAIN}`, { ok: true, message: 'Watching', since: new Date().toISOString(), heartbeatAt: new Date().toISOString(), contract: FAKE_CONTRACT, nextBlock: 1, head: 1 })

    // $30 at 2000 USD per ETH = 0.015 ETH.
    const fresh = order(3000)
    const checkout = (await provider.createCheckout(fresh)) as any
    assert.equal(checkout.action.options[0].token, ZeroAddress)
    assert.equal(checkout.action.options[0].amount, (15n * 10n ** 15n).toString())
    assert.isTrue((await plugin.health())!.ok)
    assert.include((await plugin.health())!.message, 'USD 2000')

    // The source now says its price is an hour old.
    source.state.body = JSON.stringify({ USD: 2500, updatedAt: Math.floor(Date.now() / 1000) - 3600 })
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await assert.rejects(() => provider.createCheckout(order(3000)), /no accepted token can pay in USD: ETH: the price is out of date/)
    // The order priced before: its native quote is refused now, with the reason.
    await assert.rejects(() => provider.quoteFor({ orderId: fresh.orderId, buyerId: 1, payer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', token: ZeroAddress }), /not possible right now: the price is out of date/)
    const health = (await plugin.health())!
    assert.isFalse(health.ok)
    assert.match(health.message, /Native coin quotes refused: the price is out of date/)
  })
})
