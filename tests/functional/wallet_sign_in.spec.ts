import { test } from '@japa/runner'
import { randomBytes } from 'node:crypto'
import { Wallet, type Contract } from 'ethers'
import { createSiweMessage } from 'viem/siwe'
import env from '#start/env'
import Order from '#models/order'
import PlaybackSession from '#models/playback_session'
import type Video from '#models/video'
import { wrapFetchWithPaymentFromConfig } from '@x402/fetch'
import { ExactEvmScheme } from '@x402/evm'
import { privateKeyToAccount } from 'viem/accounts'
import payoutAccounts from '#services/payout_account_service'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import { listedVideo } from '#tests/helpers/commerce'
import { TEST_KEYS, useTestChain, type TestChain } from '#tests/helpers/chain'
import type { WebClient } from '#tests/helpers/web_client'

const BASE = env.get('APP_URL')
const CHAIN = Number(env.get('X402_CHAIN_ID'))

async function api(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(path, BASE), { headers: { accept: 'application/json', ...headers } })
  const text = await response.text()
  let body: any = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: response.status, body }
}

/** The server's challenge for a video (the x402 sign-in-with-x extension object). */
async function challenge(video: Video) {
  const response = await api(`/api/v1/videos/${video.id}/sign-in`)
  if (response.status !== 200) throw new Error(`challenge answered ${response.status}: ${JSON.stringify(response.body)}`)
  return response.body['sign-in-with-x']
}

/**
 * What an x402 client does with the challenge: writes the EIP-4361 message
 * with viem's createSiweMessage (not our code), signs it (EIP-191) and sends
 * the proof, base64 JSON, in SIGN-IN-WITH-X. `change` alters the fields signed.
 */
async function proofFor(key: string, ext: any, change: Record<string, unknown> = {}, encode = true) {
  const wallet = new Wallet(key)
  const fields = {
    ...ext.info,
    address: wallet.address,
    chainId: ext.supportedChains[0].chainId,
    type: 'eip191',
    signatureScheme: 'eip191',
    ...change,
  }
  const message = createSiweMessage({
    domain: fields.domain,
    address: fields.address,
    statement: fields.statement,
    uri: fields.uri,
    version: fields.version,
    chainId: Number(String(fields.chainId).split(':')[1]),
    nonce: fields.nonce,
    issuedAt: new Date(fields.issuedAt),
    expirationTime: fields.expirationTime ? new Date(fields.expirationTime) : undefined,
    resources: fields.resources,
  })
  const proof = { ...fields, signature: await wallet.signMessage(message) }
  return encode ? Buffer.from(JSON.stringify(proof)).toString('base64') : proof
}

const openWith = (video: Video, header: string) => api(`/api/v1/videos/${video.id}/session`, { 'SIGN-IN-WITH-X': header })

/** A real wallet purchase: checkout, quote for wallet `index`, stablecoin payment, watched to paid. */
async function buyOnChain(chain: TestChain, client: WebClient, video: Video, index: number) {
  const response = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'x402' })
  const orderId = response.location!.split('/')[2]
  const payer = await chain.address(index)
  const signed = await client.api('POST', `/plugins/x402/orders/${orderId}/quote`, { payer, token: chain.deployment.token })
  if (signed.status !== 200) throw new Error(`quote answered ${signed.status}`)
  const wallet = chain.wallet(index)
  const token = (await chain.stablecoin(wallet)) as Contract
  await (await token.approve(chain.deployment.contract, BigInt(signed.body.quote.amount))).wait()
  await (await ((await chain.splitter(wallet)) as Contract).payERC20(signed.body.quote, signed.body.signature)).wait()
  await chain.mine(Number(env.get('X402_CONFIRMATIONS')))
  const deadline = Date.now() + 20_000
  for (;;) {
    const order = await Order.findOrFail(orderId)
    if (order.status === 'paid') return order
    if (Date.now() > deadline) throw new Error(`order ${orderId} is ${order.status}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test.group('Returning wallets: Sign-In With Ethereum (x402 sign-in-with-x)', (group) => {
  const fixture = useTestChain(group, { watcher: true })
  group.each.timeout(90_000)

  test('a wallet that paid signs the challenge and gets a session for the buyer; every bad proof is refused and opens nothing', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 500 })
    const otherVideo = await listedVideo(creator, { priceMinor: 700, title: 'Another' })
    const { user: buyer, client } = await loggedIn('buyer')
    await buyOnChain(fixture.chain, client, video, 0)

    const ext = await challenge(video)
    assert.equal(ext.info.domain, new URL(BASE).host)
    assert.equal(ext.info.uri, `${BASE}/api/v1/videos/${video.id}/session`)
    assert.match(ext.info.nonce, /^[0-9a-f]{32}$/)
    assert.deepEqual(ext.supportedChains, [{ chainId: `eip155:${CHAIN}`, type: 'eip191', signatureScheme: 'eip191' }])

    const header = (await proofFor(TEST_KEYS[0], ext)) as string
    const opened = await openWith(video, header)
    assert.equal(opened.status, 200, JSON.stringify(opened.body))
    assert.equal(opened.body.wallet, await fixture.chain.address(0))
    assert.match(opened.body.masterUrl, new RegExp(`^${BASE}/play/[0-9a-f-]{36}/master\\.m3u8\\?exp=\\d+&sig=`))
    const session = await PlaybackSession.findOrFail(opened.body.sessionId)
    assert.equal(session.userId, buyer.id)
    assert.equal(session.deviceId, `wallet:${(await fixture.chain.address(0)).toLowerCase()}`)

    const refusals: Array<[string, string, number, RegExp]> = [
      ['replayed nonce', header, 401, /already used or has expired/],
      ['wrong domain', (await proofFor(TEST_KEYS[0], await challenge(video), { domain: 'evil.example' })) as string, 401, /not for this site/],
      ['uri on another origin', (await proofFor(TEST_KEYS[0], await challenge(video), { uri: `https://evil.example/api/v1/videos/${video.id}/session` })) as string, 401, /not on this site/],
      ['another chain', (await proofFor(TEST_KEYS[0], await challenge(video), { chainId: 'eip155:1' })) as string, 401, /chain/],
      ['expired', (await proofFor(TEST_KEYS[0], await challenge(video), { expirationTime: new Date(Date.now() - 1000).toISOString() })) as string, 401, /expired/],
      ['issued long ago', (await proofFor(TEST_KEYS[0], await challenge(video), { issuedAt: new Date(Date.now() - 3_600_000).toISOString() })) as string, 401, /too old/],
      ['a nonce the server never issued', (await proofFor(TEST_KEYS[0], await challenge(video), { nonce: randomBytes(16).toString('hex') })) as string, 401, /already used or has expired/],
      ['not base64 JSON', '%%%not-base64%%%', 400, /base64/],
      ['JSON missing the signature', Buffer.from(JSON.stringify({ ...ext.info, address: await fixture.chain.address(0) })).toString('base64'), 400, /not a valid proof/],
    ]
    // Signed by another wallet but claiming the buyer's address.
    const forged = (await proofFor(TEST_KEYS[1], await challenge(video), { address: await fixture.chain.address(0) }, false)) as any
    refusals.push(['signed by another key', Buffer.from(JSON.stringify(forged)).toString('base64'), 401, /not made by the address|not valid/])
    for (const [label, proof, status, message] of refusals) {
      const response = await openWith(video, proof)
      assert.equal(response.status, status, `${label}: ${JSON.stringify(response.body)}`)
      assert.match(response.body.message, message, label)
    }
    // A challenge for one video does not open another (the URI names it).
    const forOther = await openWith(otherVideo, (await proofFor(TEST_KEYS[0], await challenge(video))) as string)
    assert.equal(forOther.status, 401)
    // The wallet signs correctly for the other video, which it never bought: pay first.
    const notBought = await openWith(otherVideo, (await proofFor(TEST_KEYS[0], await challenge(otherVideo))) as string)
    assert.equal(notBought.status, 402)
    assert.equal(notBought.body.error, 'payment_required')
    assert.equal(await PlaybackSession.query().count('* as n').then((rows) => Number(rows[0].$extras.n)), 1)
  })

  test('the x402 402 answer declares the sign-in-with-x extension: a wallet that paid signs it and gets its session without paying', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 500 })
    const { user: buyer, client } = await loggedIn('buyer')
    await buyOnChain(fixture.chain, client, video, 3)

    const response = await fetch(new URL(`/api/v1/videos/${video.id}/session`, BASE), { headers: { accept: 'application/json' } })
    assert.equal(response.status, 402)
    const required = JSON.parse(Buffer.from(response.headers.get('payment-required')!, 'base64').toString('utf8'))
    const ext = required.extensions?.['sign-in-with-x']
    assert.exists(ext, JSON.stringify(required))
    assert.equal(ext.info.uri, `${BASE}/api/v1/videos/${video.id}/session`)
    assert.deepEqual((await response.json()).extensions['sign-in-with-x'].info.nonce, ext.info.nonce)

    const opened = await openWith(video, (await proofFor(TEST_KEYS[3], ext)) as string)
    assert.equal(opened.status, 200, JSON.stringify(opened.body))
    assert.equal((await PlaybackSession.findOrFail(opened.body.sessionId)).userId, buyer.id)
    // No second order, no second payment.
    assert.equal((await Order.query().where('videoId', video.id)).length, 1)
  })

  test('a wallet that never paid is refused (402), and a refunded purchase no longer reopens', async ({ assert }) => {
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 500 })
    const { client } = await loggedIn('buyer')
    const order = await buyOnChain(fixture.chain, client, video, 1)

    const stranger = await openWith(video, (await proofFor(TEST_KEYS[2], await challenge(video))) as string)
    assert.equal(stranger.status, 402)
    assert.match(stranger.body.message, /has not bought this video/)

    assert.equal((await openWith(video, (await proofFor(TEST_KEYS[1], await challenge(video))) as string)).status, 200)
    // Refunded (tests/functional/crypto_loose_ends.spec.ts refunds through the refund wallet): access ends.
    order.status = 'refunded'
    await order.save()
    const after = await openWith(video, (await proofFor(TEST_KEYS[1], await challenge(video))) as string)
    assert.equal(after.status, 402)
  })

  test('a wallet that bought with the official x402 client comes back: it signs the challenge, gets a session and a token, and plays', async ({ assert }) => {
    const chain = fixture.chain
    const { user: creator } = await loggedIn('maker', 'creator')
    await payoutAccounts.set('x402', creator.id, { accountRef: await chain.address(2), ready: true })
    const video = await readyVideo(creator, { priceMinor: 150, watermarkEnabled: false })
    // A block a second while the server waits for the payment's confirmations.
    await chain.intervalMining(1000)
    const client = new ExactEvmScheme(privateKeyToAccount(TEST_KEYS[5] as `0x${string}`))
    const pay = wrapFetchWithPaymentFromConfig(fetch, { schemes: [{ network: 'eip155:*', client }], spendControls: { allowedAssets: true } } as any)
    const bought = await pay(`${BASE}/api/v1/videos/${video.id}/session`)
    assert.equal(bought.status, 200, await bought.clone().text())
    const order = await Order.query().where('videoId', video.id).firstOrFail()
    assert.equal(order.status, 'paid')

    // Later, without paying: the 402's challenge, signed by the same wallet.
    const again = await fetch(`${BASE}/api/v1/videos/${video.id}/session`, { headers: { accept: 'application/json' } })
    assert.equal(again.status, 402)
    const ext = JSON.parse(Buffer.from(again.headers.get('payment-required')!, 'base64').toString('utf8')).extensions['sign-in-with-x']
    const opened = await openWith(video, (await proofFor(TEST_KEYS[5], ext)) as string)
    assert.equal(opened.status, 200, JSON.stringify(opened.body))
    assert.equal((await PlaybackSession.findOrFail(opened.body.sessionId)).userId, order.buyerId)
    assert.match(opened.body.accessToken, /^mat_/)
    const master = await fetch(opened.body.masterUrl, { headers: { authorization: `Bearer ${opened.body.accessToken}` } })
    assert.equal(master.status, 200)
    assert.include(await master.text(), '#EXTM3U')
    assert.equal((await Order.query().where('videoId', video.id)).length, 1)
  })
})
