/*
| x402 v2 on GET /api/v1/videos/:id/session, against the real app, a real
| Hardhat node and the official client packages (@x402/fetch, @x402/evm,
| @x402/core, unchanged): the 402 and its header, a paid session with the
| first segment, and every bad PAYMENT-SIGNATURE refused with nothing
| recorded (no paid order, no session, no second credit).
*/
import { test } from '@japa/runner'
import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import { Contract, Signature, Wallet, getAddress } from 'ethers'
import { wrapFetchWithPaymentFromConfig, decodePaymentResponseHeader } from '@x402/fetch'
import { ExactEvmScheme } from '@x402/evm'
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from '@x402/core/http'
import { PaymentRequiredSchema } from '@x402/core/schemas'
import { privateKeyToAccount } from 'viem/accounts'
import Order from '#models/order'
import User from '#models/user'
import orders from '#services/order_service'
import payoutAccounts from '#services/payout_account_service'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import { ledgerOf, listedVideo } from '#tests/helpers/commerce'
import { TEST_KEYS, startWatcher, useTestChain } from '#tests/helpers/chain'
import { stopProcess } from '#tests/helpers/processes'
import { WebClient } from '#tests/helpers/web_client'
import type Video from '#models/video'

const BASE = env.get('APP_URL')
const CHAIN_ID = Number(env.get('X402_CHAIN_ID'))
const run = promisify(execFile)

const sessionUrl = (video: Video) => `${BASE}/api/v1/videos/${video.id}/session`

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers: { accept: 'application/json', ...headers } })
  const text = await response.text()
  let body: any = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: response.status, body, headers: response.headers }
}

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number((await db.from(table).where(where).count('* as n'))[0].n)

/** The requirements of a 402, as the official helpers decode them. */
async function challenge(video: Video) {
  const response = await get(sessionUrl(video))
  return { response, required: decodePaymentRequiredHeader(response.headers.get('payment-required')!) }
}

/** A PAYMENT-SIGNATURE header as the exact EVM client makes it, with parts changed for the bad-input cases. */
async function paymentHeader(
  video: Video,
  key: string,
  change: { accepted?: object; authorization?: object; resource?: object; kind?: string; signWith?: string } = {}
) {
  const { required } = await challenge(video)
  const accepted = { ...required.accepts[0], ...change.accepted }
  const wallet = new Wallet(key)
  const now = Math.floor(Date.now() / 1000)
  const authorization = {
    from: wallet.address,
    to: getAddress(accepted.payTo),
    value: accepted.amount,
    validAfter: String(now - 600),
    validBefore: String(now + accepted.maxTimeoutSeconds),
    nonce: '0x' + randomBytes(32).toString('hex'),
    ...change.authorization,
  }
  const signer = new Wallet(change.signWith ?? key)
  const signature = await signer.signTypedData(
    { name: required.accepts[0].extra!.name as string, version: required.accepts[0].extra!.version as string, chainId: CHAIN_ID, verifyingContract: required.accepts[0].asset },
    {
      [change.kind ?? 'TransferWithAuthorization']: [
        { name: 'from', type: 'address' },
        { name: 'to', type: 'address' },
        { name: 'value', type: 'uint256' },
        { name: 'validAfter', type: 'uint256' },
        { name: 'validBefore', type: 'uint256' },
        { name: 'nonce', type: 'bytes32' },
      ],
    },
    authorization
  )
  const payload = { x402Version: 2, resource: { ...required.resource, ...change.resource }, accepted, payload: { authorization, signature } }
  return { header: encodePaymentSignatureHeader(payload as any), authorization, signature, payload }
}

async function creatorWithWallet(address: string) {
  const { user } = await loggedIn('maker', 'creator')
  await payoutAccounts.set('x402', user.id, { accountRef: address, ready: true })
  return user
}

test.group('x402: HTTP 402 pay-per-view with the official client', (group) => {
  const fixture = useTestChain(group)
  group.each.setup(async () => {
    // A block a second, as make dev has it: the server waits for X402_CONFIRMATIONS before it serves.
    // (Faster blocks would run the chain's clock ahead of the wall clock: one second per block at least.)
    await fixture.chain.intervalMining(1000)
  })

  test('the 402: a v2 PAYMENT-REQUIRED header (parsed by @x402/core) equal to the body, exposed to browsers', async ({ assert }) => {
    const creator = await creatorWithWallet(await fixture.chain.address(2))
    const video = await listedVideo(creator, { priceMinor: 841, title: 'Night train' })
    const { response, required } = await challenge(video)
    assert.equal(response.status, 402)
    assert.deepEqual(required, response.body)
    assert.isTrue(PaymentRequiredSchema.safeParse(required).success)
    assert.equal(required.x402Version, 2)
    assert.equal(required.resource.url, sessionUrl(video))
    assert.lengthOf(required.accepts, 1)
    const [accept] = required.accepts
    assert.equal(accept.scheme, 'exact')
    assert.equal(accept.network, `eip155:${CHAIN_ID}`)
    assert.equal(accept.asset, getAddress(fixture.chain.deployment.token))
    assert.equal(accept.payTo, getAddress(fixture.chain.deployment.contract))
    assert.equal(accept.amount, '8410000')
    assert.deepEqual(accept.extra, { name: 'Matinee Test USD', version: '1' })
    assert.isAbove(accept.maxTimeoutSeconds, 0)
    assert.include(response.headers.get('access-control-expose-headers')!, 'PAYMENT-REQUIRED')
    assert.include(response.headers.get('access-control-expose-headers')!, 'PAYMENT-RESPONSE')
    assert.equal(await count('orders'), 0)
  })

  test('the official client pays, gets the session and the first segment; the order is an ordinary paid order; the ledger matches the chain', async ({ assert }) => {
    const creatorWallet = await fixture.chain.address(2)
    const creator = await creatorWithWallet(creatorWallet)
    const video = await readyVideo(creator, { title: 'Paid over HTTP', priceMinor: 841, watermarkEnabled: false })
    const token = (await fixture.chain.stablecoin()) as Contract
    const before = await token.balanceOf(creatorWallet)

    const account = privateKeyToAccount(TEST_KEYS[0] as `0x${string}`)
    const pay = wrapFetchWithPaymentFromConfig(fetch, {
      schemes: [{ network: 'eip155:*', client: new ExactEvmScheme(account) }],
      // The test stablecoin is not one of the client's known assets (USDC...): allowed by name.
      spendControls: { allowedAssets: [{ network: `eip155:${CHAIN_ID}`, asset: fixture.chain.deployment.token }] },
    } as any)
    const response = await pay(sessionUrl(video), { headers: { accept: 'application/json' } })
    const session = (await response.json()) as any
    assert.equal(response.status, 200, JSON.stringify(session))
    const settled = decodePaymentResponseHeader(response.headers.get('payment-response')!)
    assert.isTrue(settled.success)
    assert.equal(settled.network, `eip155:${CHAIN_ID}`)
    assert.equal(settled.payer, account.address)
    assert.match(settled.transaction, /^0x[0-9a-f]{64}$/)
    assert.match(session.masterUrl, /\/play\/[0-9a-f-]{36}\/master\.m3u8\?exp=\d+&sig=/)
    assert.isString(session.expiresAt)

    // The first segment, as a script fetches it (the token the payment came with, no cookie).
    const auth = { authorization: `Bearer ${session.accessToken}` }
    const master = await (await fetch(session.masterUrl, { headers: auth })).text()
    const variantUrl = new URL(master.split('\n').find((line) => line && !line.startsWith('#'))!, session.masterUrl)
    const variant = await (await fetch(variantUrl, { headers: auth })).text()
    const segment = await fetch(new URL(variant.split('\n').find((line) => line && !line.startsWith('#'))!, variantUrl), { headers: auth })
    assert.equal(segment.status, 200)
    assert.isAbove((await segment.arrayBuffer()).byteLength, 1000)

    // One order, paid, bought by the wallet's account; split on chain in the settlement's transaction.
    const order = await Order.query().where('videoId', video.id).firstOrFail()
    assert.equal(order.status, 'paid')
    assert.equal(order.provider, 'x402')
    assert.equal(order.paymentReference, settled.transaction)
    const buyer = await User.findOrFail(order.buyerId)
    assert.equal(buyer.email, `${account.address.toLowerCase()}@wallet.invalid`)
    assert.equal((await token.balanceOf(creatorWallet)) - before, 7_569_000n)
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 756, platform: 85 })
    assert.deepEqual(await orders.ledgerMismatches(), [])
    const receipt = await fixture.chain.provider.getTransactionReceipt(settled.transaction)
    assert.equal(receipt!.to, getAddress(fixture.chain.deployment.contract))

    // The creator sees the sale in Studio → Sales.
    const studio = new WebClient()
    await studio.login('maker')
    const sales = await studio.get('/studio/sales')
    assert.equal(sales.status, 200)
    assert.include(sales.text, 'Paid over HTTP')

    // The chain watcher reads the same Paid log later: a duplicate (same event id), not a second credit.
    const watcher = await startWatcher()
    try {
      await fixture.chain.mine(3)
      const cursorKey = `cursor:${CHAIN_ID}:${fixture.chain.deployment.contract.toLowerCase()}`
      const deadline = Date.now() + 20_000
      for (;;) {
        const cursor = await db.from('plugin_state').where({ plugin: 'x402', key: cursorKey }).first()
        if (cursor && cursor.value.nextBlock > receipt!.blockNumber) break
        if (Date.now() > deadline) throw new Error('the watcher did not read the payment block')
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    } finally {
      await stopProcess(watcher)
    }
    assert.deepEqual((await db.from('payment_events').where('order_id', order.id)).map((event) => event.outcome), ['applied'])
    assert.deepEqual((await ledgerOf(order.id)).byAccount, { creator: 756, platform: 85 })

    // Paying again with a fresh authorization: the wallet owns it, nothing is charged twice.
    const again = await pay(sessionUrl(video), { headers: { accept: 'application/json' } })
    assert.equal(again.status, 200)
    assert.equal(((await again.json()) as any).paid, false)
    assert.equal(await count('orders', { video_id: video.id, status: 'paid' }), 1)
    assert.equal((await token.balanceOf(creatorWallet)) - before, 7_569_000n)
  }).timeout(180_000)

  test('the README script (scripts/x402-buy.mjs) buys a video and prints the first segment size', async ({ assert }) => {
    const creator = await creatorWithWallet(await fixture.chain.address(2))
    const video = await readyVideo(creator, { title: 'Scripted', priceMinor: 199, watermarkEnabled: false })
    const { stdout } = await run(process.execPath, ['scripts/x402-buy.mjs', BASE, video.id], {
      env: { ...process.env, X402_BUYER_KEY: TEST_KEYS[1] },
      timeout: 120_000,
    })
    assert.match(stdout, /first segment: \d{4,} bytes/)
    assert.equal(await count('orders', { video_id: video.id, status: 'paid' }), 1)
  }).timeout(180_000)

  test('bad PAYMENT-SIGNATURE headers: 400/402 with an x402 reason, nothing paid, no session', async ({ assert }) => {
    const creator = await creatorWithWallet(await fixture.chain.address(2))
    const video = await listedVideo(creator, { priceMinor: 500 })
    const other = await listedVideo(creator, { priceMinor: 500 })
    const key = TEST_KEYS[2]
    const now = Math.floor(Date.now() / 1000)
    const poor = '0x' + randomBytes(32).toString('hex')
    const cases: Array<[string, () => Promise<string>, number, string]> = [
      ['not base64', async () => '%%%not base64%%%', 400, 'invalid_payload'],
      ['not JSON', async () => Buffer.from('{"x402Version":2,').toString('base64'), 400, 'invalid_payload'],
      ['JSON, not an object', async () => Buffer.from('[1,2]').toString('base64'), 400, 'invalid_payload'],
      ['another version', async () => encodePaymentSignatureHeader({ ...(await paymentHeader(video, key)).payload, x402Version: 1 } as any), 402, 'invalid_x402_version'],
      ['another resource', async () => (await paymentHeader(video, key, { resource: { url: sessionUrl(other) } })).header, 402, 'invalid_payment_requirements'],
      ['another network', async () => (await paymentHeader(video, key, { accepted: { network: 'eip155:8453' } })).header, 402, 'invalid_exact_evm_network_mismatch'],
      ['another asset', async () => (await paymentHeader(video, key, { accepted: { asset: await fixture.chain.address(4) } })).header, 402, 'invalid_payment_requirements'],
      ['too little', async () => (await paymentHeader(video, key, { authorization: { value: '4999999' } })).header, 402, 'invalid_exact_evm_authorization_value'],
      ['another payTo', async () => (await paymentHeader(video, key, { accepted: { payTo: await fixture.chain.address(3) } })).header, 402, 'invalid_exact_evm_recipient_mismatch'],
      ['authorization to someone else', async () => (await paymentHeader(video, key, { authorization: { to: await fixture.chain.address(3) } })).header, 402, 'invalid_exact_evm_recipient_mismatch'],
      ['expired', async () => (await paymentHeader(video, key, { authorization: { validBefore: String(now - 5) } })).header, 402, 'invalid_exact_evm_payload_authorization_valid_before'],
      ['not yet valid', async () => (await paymentHeader(video, key, { authorization: { validAfter: String(now + 120) } })).header, 402, 'invalid_exact_evm_payload_authorization_valid_after'],
      ['signed by another wallet', async () => (await paymentHeader(video, key, { signWith: TEST_KEYS[3] })).header, 402, 'invalid_exact_evm_signature'],
      ['a wallet without balance', async () => (await paymentHeader(video, poor)).header, 402, 'invalid_exact_evm_insufficient_balance'],
    ]
    for (const [label, make, status, reason] of cases) {
      const response = await get(sessionUrl(video), { 'payment-signature': await make() })
      assert.equal(response.status, status, `${label}: ${JSON.stringify(response.body)}`)
      assert.equal(response.body.error, reason, label)
      assert.equal(response.body.x402Version, 2, label)
      assert.equal(decodePaymentRequiredHeader(response.headers.get('payment-required')!).error, reason, label)
      assert.notProperty(response.body, 'masterUrl', label)
    }
    assert.equal(await count('orders', { status: 'paid' }), 0)
    assert.equal(await count('playback_sessions'), 0)
    assert.equal(await count('users', {}), 1)
  }).timeout(120_000)

  test('a replayed authorization and two clients racing with the same one: one payment, one credit', async ({ assert }) => {
    const creator = await creatorWithWallet(await fixture.chain.address(2))
    const video = await readyVideo(creator, { title: 'Raced', priceMinor: 300, watermarkEnabled: false })
    const { header } = await paymentHeader(video, TEST_KEYS[3])
    const [a, b] = await Promise.all([get(sessionUrl(video), { 'payment-signature': header }), get(sessionUrl(video), { 'payment-signature': header })])
    const statuses = [a.status, b.status].sort()
    assert.deepEqual(statuses, [200, 402], JSON.stringify([a.body, b.body]))
    const refused = a.status === 402 ? a : b
    assert.equal(refused.body.error, 'invalid_exact_evm_nonce_already_used')
    const replay = await get(sessionUrl(video), { 'payment-signature': header })
    assert.equal(replay.status, 402)
    assert.equal(replay.body.error, 'invalid_exact_evm_nonce_already_used')
    assert.equal(await count('orders', { status: 'paid' }), 1)
    const order = await Order.query().where('status', 'paid').firstOrFail()
    assert.equal(await count('payment_events', { order_id: order.id }), 1)
    assert.equal(await count('playback_sessions'), 1)
  }).timeout(180_000)

  test('a settlement that would revert (the authorization front-run at the token): 402, nothing credited, the admin told, the tokens refundable by the owner', async ({ assert }) => {
    const creator = await creatorWithWallet(await fixture.chain.address(2))
    const video = await listedVideo(creator, { priceMinor: 250 })
    const { header, authorization, signature } = await paymentHeader(video, TEST_KEYS[4])
    // Someone copies the authorization and executes it straight at the token.
    const token = (await fixture.chain.stablecoin(fixture.chain.wallet(5))) as Contract
    const { v, r, s } = Signature.from(signature)
    await (await token.transferWithAuthorization(authorization.from, authorization.to, authorization.value, authorization.validAfter, authorization.validBefore, authorization.nonce, v, r, s)).wait()
    const response = await get(sessionUrl(video), { 'payment-signature': header })
    assert.equal(response.status, 402)
    assert.equal(response.body.error, 'invalid_exact_evm_transaction_simulation_failed')
    assert.include(response.body.message, 'ERC3009UsedAuthorization')
    const settlement = JSON.parse(Buffer.from(response.headers.get('payment-response')!, 'base64').toString())
    assert.isFalse(settlement.success)
    assert.equal(await count('orders', { status: 'paid' }), 0)
    assert.equal(await count('playback_sessions'), 0)
    const splitter = (await fixture.chain.splitter()) as Contract
    assert.equal(await splitter.unallocated(fixture.chain.deployment.token), 2_500_000n)
    // The admin is told (Admin → Orders, payments to settle by hand).
    const reported = await db.from('payment_events').where('provider', 'x402').where('event_id', 'like', '%:front-run')
    assert.lengthOf(reported, 1)
    assert.include(reported[0].detail, 'refundUnallocated')
  }).timeout(120_000)

  test('a ReceiveWithAuthorization (only the splitter can execute it: no front-running) is settled through settleWithReceiveAuthorization', async ({ assert }) => {
    const creator = await creatorWithWallet(await fixture.chain.address(2))
    const video = await listedVideo(creator, { priceMinor: 150 })
    const { header } = await paymentHeader(video, TEST_KEYS[1], { kind: 'ReceiveWithAuthorization' })
    const paid = await get(sessionUrl(video), { 'payment-signature': header })
    assert.equal(paid.status, 200, JSON.stringify(paid.body))
    const settled = decodePaymentResponseHeader(paid.headers.get('payment-response')!)
    const tx = await fixture.chain.provider.getTransaction(settled.transaction)
    const splitter = (await fixture.chain.splitter()) as Contract
    assert.equal(splitter.interface.parseTransaction({ data: tx!.data })!.name, 'settleWithReceiveAuthorization')
    assert.equal(await count('orders', { video_id: video.id, status: 'paid' }), 1)
  }).timeout(120_000)

  test('the settlement key also used by another web node: a settlement refused for its nonce is renumbered and sent again', async ({ assert }) => {
    const creator = await creatorWithWallet(await fixture.chain.address(2))
    const [first, second] = [await listedVideo(creator, { priceMinor: 110 }), await listedVideo(creator, { priceMinor: 120 })]
    const paid = await get(sessionUrl(first), { 'payment-signature': (await paymentHeader(first, TEST_KEYS[2])).header })
    assert.equal(paid.status, 200, JSON.stringify(paid.body))
    // "Another node" sends from the same key: the nonce this server counted on is taken.
    const otherNode = new Wallet(env.get('X402_SETTLER_KEY')!, fixture.chain.provider)
    await (await otherNode.sendTransaction({ to: otherNode.address, value: 0n })).wait()
    const again = await get(sessionUrl(second), { 'payment-signature': (await paymentHeader(second, TEST_KEYS[2])).header })
    assert.equal(again.status, 200, JSON.stringify(again.body))
    assert.equal(await count('orders', { status: 'paid' }), 2)
  }).timeout(120_000)

  test('a token-authenticated viewer pays over x402: the order is theirs', async ({ assert }) => {
    const creator = await creatorWithWallet(await fixture.chain.address(2))
    const video = await listedVideo(creator, { priceMinor: 120 })
    const { user } = await loggedIn('scripter')
    const token = await User.accessTokens.create(user, ['sessions:open'], { name: 'script' })
    const bearer = { authorization: `Bearer ${token.value!.release()}` }
    const first = await get(sessionUrl(video), bearer)
    assert.equal(first.status, 402)
    assert.equal(first.body.error, 'payment_required')
    const { header } = await paymentHeader(video, TEST_KEYS[5])
    const paid = await get(sessionUrl(video), { ...bearer, 'payment-signature': header })
    assert.equal(paid.status, 200, JSON.stringify(paid.body))
    assert.notProperty(paid.body, 'accessToken')
    const order = await Order.query().where('videoId', video.id).firstOrFail()
    assert.equal(order.buyerId, user.id)
    assert.equal(order.status, 'paid', JSON.stringify(paid.body))
  }).timeout(120_000)
})
