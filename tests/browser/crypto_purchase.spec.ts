/// <reference lib="dom" />
import { test } from '@japa/runner'
import { mkdir } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import { Interface, Wallet, getAddress, toQuantity, type Contract } from 'ethers'
import type { Browser, Page } from 'playwright-core'
import Order from '#models/order'
import payoutAccounts from '#services/payout_account_service'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import { ledgerOf, listedVideo } from '#tests/helpers/commerce'
import { TEST_KEYS, useTestChain, type TestChain } from '#tests/helpers/chain'
import { launchChromium, logIn, watchNowPlays } from '#tests/helpers/browser'
import { SPLITTER_ARTIFACT } from '#plugins/x402/chain'

const CHAIN_ID = Number(env.get('X402_CHAIN_ID'))
const splitterInterface = new Interface(SPLITTER_ARTIFACT.abi)

interface RpcError {
  code: number
  message: string
  data?: unknown
}

/** What the test wallet did, for assertions. */
interface WalletLog {
  address: string
  requests: string[]
  signedTypedData: Array<{ primaryType: string; domain: Record<string, unknown>; message: Record<string, unknown> }>
  sent: Array<{ hash: string; to: string; selector: string }>
}

/**
 * An EIP-1193 wallet in the page, announced by EIP-6963 as "Test Wallet",
 * backed by the Hardhat node: the account is answered locally, signatures and
 * transactions are made here in Node with the test key, every other call goes
 * to the node as JSON-RPC (errors included, revert data and all).
 */
interface WalletBehaviour {
  /** Send transactions just after the next block (for interval mining). */
  alignToBlocks?: boolean
  /** A wallet without eth_signTypedData_v4 answers 4200. */
  typedData?: 'sign' | 'unsupported'
  /** Methods the person rejects (4001) the first time they are asked. */
  rejectOnce?: string[]
  /** The wallet is on this chain and does not know the test chain (switching answers 4902). */
  onOtherChain?: number
}

async function injectWallet(page: Page, chain: TestChain, index: number, behaviour: WalletBehaviour = {}) {
  const wallet = new Wallet(TEST_KEYS[index], chain.provider)
  const toReject = new Set(behaviour.rejectOnce ?? [])
  const log: WalletLog = { address: wallet.address, requests: [], signedTypedData: [], sent: [] }
  const fail = (code: number, message: string, data?: unknown): never => {
    throw Object.assign(new Error(message), { rpc: { code, message, data } satisfies RpcError })
  }

  async function forward(method: string, params: unknown[]) {
    const response = await fetch(chain.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
    const body = (await response.json()) as { result?: unknown; error?: RpcError }
    if (body.error) fail(body.error.code, body.error.message, body.error.data)
    return body.result
  }

  async function handle(method: string, params: any[]): Promise<unknown> {
    if (toReject.delete(method)) fail(4001, 'User rejected the request.')
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return [wallet.address]
      case 'eth_chainId':
        return toQuantity(behaviour.onOtherChain ?? CHAIN_ID)
      case 'net_version':
        return String(behaviour.onOtherChain ?? CHAIN_ID)
      case 'wallet_switchEthereumChain':
        if (behaviour.onOtherChain || BigInt(params[0]?.chainId) !== BigInt(CHAIN_ID)) fail(4902, `Unrecognized chain ID ${params[0]?.chainId}`)
        return null
      case 'wallet_addEthereumChain':
        // Wallets refuse a network without an RPC URL (EIP-3085): the page must not ask for one.
        if (!params[0]?.rpcUrls?.length) fail(-32602, 'rpcUrls: at least one RPC URL is required')
        return fail(4001, 'User rejected the request.')
      case 'eth_signTypedData_v4': {
        if (behaviour.typedData === 'unsupported') fail(4200, 'The requested method is not supported by this wallet.')
        if (getAddress(params[0]) !== wallet.address) fail(4100, 'Unknown account')
        const payload = JSON.parse(params[1])
        const { EIP712Domain: _, ...types } = payload.types
        log.signedTypedData.push({ primaryType: payload.primaryType, domain: payload.domain, message: payload.message })
        return wallet.signTypedData(payload.domain, types, payload.message)
      }
      case 'eth_sendTransaction': {
        const tx = params[0]
        if (getAddress(tx.from) !== wallet.address) fail(4100, 'Unknown account')
        if (behaviour.alignToBlocks) await nextBlock(chain)
        try {
          const sent = await wallet.sendTransaction({
            to: tx.to,
            data: tx.data ?? tx.input,
            value: tx.value ? BigInt(tx.value) : 0n,
            gasLimit: tx.gas ?? tx.gasLimit,
          })
          log.sent.push({ hash: sent.hash, to: getAddress(tx.to), selector: String(tx.data ?? tx.input).slice(0, 10) })
          return sent.hash
        } catch (error: any) {
          return fail(-32603, error.shortMessage ?? error.message, error.data ?? error.info?.error?.data)
        }
      }
      default:
        return forward(method, params)
    }
  }

  await page.exposeFunction('__testWalletRequest', async (method: string, params: unknown[]) => {
    log.requests.push(method)
    try {
      return { result: await handle(method, Array.isArray(params) ? params : []) }
    } catch (error: any) {
      return { error: error.rpc ?? { code: -32603, message: String(error.message ?? error) } }
    }
  })
  await page.addInitScript(() => {
    const call = (window as any).__testWalletRequest as (method: string, params: unknown[]) => Promise<{ result?: unknown; error?: RpcError }>
    const provider = {
      isTestWallet: true,
      async request({ method, params }: { method: string; params?: unknown[] }) {
        const answer = await call(method, params ?? [])
        if (answer.error) throw Object.assign(new Error(answer.error.message), answer.error)
        return answer.result
      },
      on() {},
      removeListener() {},
    }
    const info = Object.freeze({
      uuid: '6f1a4c1e-8a53-4c0e-9d59-3f9a1c2b7e10',
      name: 'Test Wallet',
      rdns: 'test.matinee.wallet',
      icon: 'data:image/svg+xml,%3Csvg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"%3E%3Crect width="8" height="8" fill="%23f5a623"/%3E%3C/svg%3E',
    })
    const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({ info, provider }) }))
    window.addEventListener('eip6963:requestProvider', announce)
    announce()
  })
  return log
}

/**
 * Waits (at most 2 s) for the next block before a transaction is sent, so
 * with interval mining the payment lands just after an interval block and
 * "Confirming 1 / 3" stays on screen for about a second.
 */
async function nextBlock(chain: TestChain) {
  const start = await chain.head()
  const deadline = Date.now() + 2000
  while (Date.now() < deadline && (await chain.head()) === start) await new Promise((resolve) => setTimeout(resolve, 20))
}

/** Presses the wallet buy button on the video page: the order page with the wallet panel. */
async function buyWithWallet(page: Page, videoId: string) {
  await page.goto(`/videos/${videoId}`)
  await Promise.all([page.waitForURL(/\/orders\/[0-9a-f-]{36}\/complete$/), page.click('[data-access="payment_required"] button:has-text("Crypto wallet")')])
  return new URL(page.url()).pathname.split('/')[2]
}

test.group('Browser: buying a video with a crypto wallet', (group) => {
  let browser: Browser
  const fixture = useTestChain(group, { watcher: true })

  group.setup(async () => {
    browser = await launchChromium()
    return () => browser.close()
  })

  test('Connect the wallet, pay in mUSD with a permit, watch the confirmations, the video plays', async ({ assert }) => {
    const { user: creator } = await loggedIn('studio', 'creator')
    const creatorWallet = await fixture.chain.address(2)
    await payoutAccounts.set('x402', creator.id, { accountRef: creatorWallet, ready: true })
    const video = await readyVideo(creator, { title: 'Paid on chain', priceMinor: 499, watermarkEnabled: false })
    await loggedIn('vera')
    const payer = await fixture.chain.address(1)
    const token = (await fixture.chain.stablecoin()) as Contract
    const creatorBefore: bigint = await token.balanceOf(creatorWallet)
    const payerBefore: bigint = await token.balanceOf(payer)

    const viewer = await browser.newPage({ baseURL: env.get('APP_URL') })
    const wallet = await injectWallet(viewer, fixture.chain, 1, { alignToBlocks: true })
    const pageErrors: string[] = []
    viewer.on('pageerror', (error) => pageErrors.push(error.message))
    await logIn(viewer, 'vera')

    const orderId = await buyWithWallet(viewer, video.id)
    assert.equal((await Order.findOrFail(orderId)).provider, 'x402')
    const payButton = viewer.locator('button[data-x402-pay]')
    assert.isTrue(await payButton.isDisabled())

    // Blocks come by themselves from now on, as in make dev.
    await fixture.chain.intervalMining(1000)
    await viewer.click('[data-x402-wallets] button:has-text("Test Wallet")')
    await viewer.waitForSelector(`[data-x402-account="${payer}"]`)
    assert.equal((await viewer.inputValue('select[data-x402-token]')).toLowerCase(), fixture.chain.deployment.token.toLowerCase())
    await viewer.waitForSelector('button[data-x402-pay]:not([disabled]):text-is("Pay 4.99 mUSD")')

    await payButton.click()
    await viewer.waitForSelector('[data-x402-status]:text-is("Confirming 1 / 3")', { timeout: 30_000 })
    assert.isTrue(await payButton.isDisabled())
    await mkdir(app.makePath('tmp/screenshots'), { recursive: true })
    await viewer.screenshot({ path: app.makePath('tmp/screenshots/crypto_checkout.png') })

    // A reload resumes following the same transaction (no second payment).
    await fixture.chain.intervalMining(0)
    const remembered = await viewer.evaluate((id) => sessionStorage.getItem(`x402:tx:${id}`), orderId)
    assert.lengthOf(wallet.sent, 1)
    assert.equal(remembered, wallet.sent[0].hash)
    await viewer.reload()
    await viewer.waitForFunction(() => /^Confirming [12] \/ 3$/.test(document.querySelector('[data-x402-status]')?.textContent ?? ''), null, {
      timeout: 10_000,
    })
    assert.isTrue(await payButton.isDisabled())
    await fixture.chain.intervalMining(1000)

    await viewer.waitForSelector('text=Payment received', { timeout: 30_000 })
    assert.include(await viewer.textContent('main'), 'The video is yours')

    // The permit path: one typed-data signature (the permit), one transaction (payERC20WithPermit), no approve.
    assert.deepEqual(
      wallet.signedTypedData.map((signed) => signed.primaryType),
      ['Permit']
    )
    assert.equal(String(wallet.signedTypedData[0].message.spender).toLowerCase(), fixture.chain.deployment.contract.toLowerCase())
    assert.equal(String(wallet.signedTypedData[0].message.value), '4990000')
    assert.lengthOf(wallet.sent, 1)
    assert.equal(wallet.sent[0].to.toLowerCase(), fixture.chain.deployment.contract.toLowerCase())
    assert.equal(wallet.sent[0].selector, splitterInterface.getFunction('payERC20WithPermit')!.selector)
    assert.notInclude(wallet.requests, 'wallet_addEthereumChain')

    // What the chain paid, and the ledger.
    const paid = await Order.findOrFail(orderId)
    assert.equal(paid.status, 'paid')
    assert.equal(paid.paymentReference, wallet.sent[0].hash)
    assert.equal((await token.balanceOf(creatorWallet)) - creatorBefore, 4_491_000n)
    assert.equal(payerBefore - (await token.balanceOf(payer)), 4_990_000n)
    assert.equal(await token.allowance(payer, fixture.chain.deployment.contract), 0n)
    const ledger = await ledgerOf(orderId)
    // 4.491 mUSD to the creator is 449.1 cents: the creator is rounded down, the remainder goes to the platform.
    assert.deepEqual(ledger.byAccount, { creator: 449, platform: 50 })
    assert.equal(ledger.sum, 499)

    await watchNowPlays(viewer, video.id)
    assert.deepEqual(pageErrors, [])

    await viewer.screenshot({ path: app.makePath('tmp/screenshots/crypto_purchase.png') })
    await viewer.close()
  }).timeout(180_000)

  test('Without a wallet in the browser the page says one is needed and Pay stays disabled', async ({ assert }) => {
    const { user: creator } = await loggedIn('studio', 'creator')
    const video = await listedVideo(creator, { priceMinor: 499 })
    await loggedIn('vera')

    const viewer = await browser.newPage({ baseURL: env.get('APP_URL') })
    await logIn(viewer, 'vera')
    await buyWithWallet(viewer, video.id)

    const notice = await viewer.waitForSelector('[data-x402-wallets] [data-x402-no-wallet]', { timeout: 5_000 })
    assert.include(await notice.textContent(), 'you need a wallet extension')
    assert.include(await notice.textContent(), 'MetaMask')
    await viewer.waitForTimeout(1000)
    const payButton = viewer.locator('button[data-x402-pay]')
    assert.isTrue(await payButton.isDisabled())
    assert.equal((await payButton.textContent())?.trim(), 'Connect a wallet first')
    assert.equal(await viewer.locator('[data-x402-wallets] button').count(), 0)
    await viewer.close()
  }).timeout(60_000)

  test('A wallet on another network that does not know this chain is asked to add it by hand: no RPC URL is offered', async ({ assert }) => {
    const { user: creator } = await loggedIn('studio', 'creator')
    await payoutAccounts.set('x402', creator.id, { accountRef: await fixture.chain.address(2), ready: true })
    const video = await listedVideo(creator, { priceMinor: 499 })
    await loggedIn('vera')

    const viewer = await browser.newPage({ baseURL: env.get('APP_URL') })
    const wallet = await injectWallet(viewer, fixture.chain, 1, { onOtherChain: 1 })
    await logIn(viewer, 'vera')
    await buyWithWallet(viewer, video.id)
    // .env.test has no X402_PUBLIC_RPC_URL, and the server's own node URL is never sent.
    assert.notInclude(await viewer.content(), env.get('X402_RPC_URL')!)

    await viewer.click('[data-x402-wallets] button:has-text("Test Wallet")')
    const status = await viewer.waitForSelector('[data-x402-status]:has-text("does not know")', { timeout: 10_000 })
    assert.include(await status.textContent(), `your wallet does not know ${env.get('X402_CHAIN_NAME')} (chain id ${CHAIN_ID}): add it in your wallet, then connect again`)
    assert.include(wallet.requests, 'wallet_switchEthereumChain')
    assert.notInclude(wallet.requests, 'wallet_addEthereumChain')
    assert.isTrue(await viewer.locator('button[data-x402-pay]').isDisabled())
    await viewer.close()
  }).timeout(60_000)

  test('A wallet that cannot sign a permit approves first; a rejected transaction re-enables Pay', async ({ assert }) => {
    const { user: creator } = await loggedIn('studio', 'creator')
    await payoutAccounts.set('x402', creator.id, { accountRef: await fixture.chain.address(2), ready: true })
    const video = await listedVideo(creator, { priceMinor: 841 })
    await loggedIn('vera')

    const viewer = await browser.newPage({ baseURL: env.get('APP_URL') })
    const wallet = await injectWallet(viewer, fixture.chain, 1, { typedData: 'unsupported', rejectOnce: ['eth_sendTransaction'] })
    await logIn(viewer, 'vera')
    const orderId = await buyWithWallet(viewer, video.id)
    await viewer.click('[data-x402-wallets] button:has-text("Test Wallet")')
    const payButton = viewer.locator('button[data-x402-pay]:text-is("Pay 8.41 mUSD")')
    await payButton.waitFor()

    // The permit is refused by the wallet (4200): approve instead, which the person rejects.
    await payButton.click()
    await viewer.waitForSelector('[data-x402-status]:has-text("You rejected the request in your wallet")')
    await viewer.waitForSelector('button[data-x402-pay]:not([disabled])')
    assert.lengthOf(wallet.sent, 0)

    // Again: approve, then payERC20 (automine: each transaction is mined at once; the test mines the rest).
    await payButton.click()
    await viewer.waitForSelector('[data-x402-status]:text-is("Confirming 1 / 3")', { timeout: 20_000 })
    const token = (await fixture.chain.stablecoin()) as Contract
    assert.deepEqual(
      wallet.sent.map((sent) => [sent.to.toLowerCase(), sent.selector]),
      [
        [fixture.chain.deployment.token.toLowerCase(), token.interface.getFunction('approve')!.selector],
        [fixture.chain.deployment.contract.toLowerCase(), splitterInterface.getFunction('payERC20')!.selector],
      ]
    )
    await fixture.chain.mine(2)
    await viewer.waitForSelector('text=Payment received', { timeout: 20_000 })
    assert.equal((await Order.findOrFail(orderId)).paymentReference, wallet.sent[1].hash)
    assert.deepEqual((await ledgerOf(orderId)).byAccount, { creator: 756, platform: 85 })
    await viewer.close()
  }).timeout(60_000)
})
