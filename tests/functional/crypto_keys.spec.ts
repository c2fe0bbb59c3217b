import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import { Contract, NonceManager, Wallet } from 'ethers'
import Order from '#models/order'
import plugins from '#services/plugins'
import payoutAccounts from '#services/payout_account_service'
import { loggedIn } from '#tests/helpers/videos'
import { listedVideo } from '#tests/helpers/commerce'
import { useTestChain } from '#tests/helpers/chain'
import { runAce } from '#tests/helpers/processes'
import { resetState } from '#tests/helpers/state'

/** Hardhat's public account #8: X402_OWNER_ADDRESS of .env.test. */
const OWNER_KEY = '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97'
/** Nobody listens here: a deployment that got past its checks fails on the node. */
const DEAD_RPC = 'http://127.0.0.1:9'

const deployTo = (chainId: number, extra: Record<string, string> = {}) =>
  runAce(['x402:deploy'], { X402_CHAIN_ID: String(chainId), X402_RPC_URL: DEAD_RPC, ...extra })

const deploymentsRecorded = async () => (await db.from('plugin_state').where({ plugin: 'x402' }).whereLike('key', 'deployment:%')).length

test.group('Crypto keys: x402:deploy on a chain that is not local', (group) => {
  group.each.setup(() => resetState())

  test('refuses the public development deployer key before asking the node anything', async ({ assert }) => {
    // .env.test's deployer is Hardhat's account #0.
    const refused = await deployTo(10)
    assert.equal(refused.code, 1, refused.output)
    assert.include(refused.output, 'X402_DEPLOYER_KEY is a public development key')
    assert.include(refused.output, 'chain 10 (not a local chain)')
    assert.notInclude(refused.output, 'cannot be reached')
    assert.equal(await deploymentsRecorded(), 0)
  })

  test('refuses a public quote signer key, a missing owner, the deployer as owner and a public owner', async ({ assert }) => {
    const deployer = Wallet.createRandom()
    const signer = Wallet.createRandom()
    const own = { X402_DEPLOYER_KEY: deployer.privateKey }

    // .env.test's quote signer is the documentation example key.
    const publicSigner = await deployTo(137, { ...own, X402_OWNER_ADDRESS: Wallet.createRandom().address })
    assert.equal(publicSigner.code, 1, publicSigner.output)
    assert.include(publicSigner.output, 'X402_QUOTE_SIGNER_KEY is a public development key')

    const keys = { ...own, X402_QUOTE_SIGNER_KEY: signer.privateKey }
    const noOwner = await deployTo(137, { ...keys, X402_OWNER_ADDRESS: '' })
    assert.equal(noOwner.code, 1, noOwner.output)
    assert.include(noOwner.output, 'X402_OWNER_ADDRESS is not set')

    const deployerOwns = await deployTo(137, { ...keys, X402_OWNER_ADDRESS: deployer.address })
    assert.equal(deployerOwns.code, 1, deployerOwns.output)
    assert.include(deployerOwns.output, "X402_OWNER_ADDRESS is the deployer's address")

    const publicOwner = await deployTo(137, { ...keys, X402_OWNER_ADDRESS: env.get('X402_OWNER_ADDRESS')! })
    assert.equal(publicOwner.code, 1, publicOwner.output)
    assert.include(publicOwner.output, 'X402_OWNER_ADDRESS belongs to a public development key')

    // Keys of its own and an owner of its own: it goes on to the node (which is not there).
    const fine = await deployTo(137, { ...keys, X402_OWNER_ADDRESS: Wallet.createRandom().address, X402_FEE_RECIPIENT: Wallet.createRandom().address })
    assert.equal(fine.code, 1, fine.output)
    assert.include(fine.output, `The node at ${DEAD_RPC} cannot be reached`)
    assert.equal(await deploymentsRecorded(), 0)
  }).timeout(120_000)
})

test.group('Crypto keys: the splitter owner and the RPC URL buyers see', (group) => {
  const fixture = useTestChain(group)

  test('the splitter is owned by X402_OWNER_ADDRESS: only it can pause, not the deployer', async ({ assert }) => {
    const owner = env.get('X402_OWNER_ADDRESS')!
    const deployer = new Wallet(env.get('X402_DEPLOYER_KEY')!)
    assert.notEqual(owner, deployer.address)
    assert.equal(fixture.chain.deployment.contract.length, 42)
    const recorded = await db.from('plugin_state').where({ plugin: 'x402', key: `deployment:${env.get('X402_CHAIN_ID')}` }).first()
    assert.equal(recorded.value.owner, owner)

    const asDeployer = (await fixture.chain.splitter(new NonceManager(deployer.connect(fixture.chain.provider)))) as Contract
    assert.equal(await asDeployer.owner(), owner)
    await assert.rejects(() => asDeployer.pause.staticCall(), /OwnableUnauthorizedAccount|reverted/)
    assert.isFalse(await asDeployer.paused())

    const asOwner = (await fixture.chain.splitter(new NonceManager(new Wallet(OWNER_KEY, fixture.chain.provider)))) as Contract
    await (await asOwner.pause()).wait()
    assert.isTrue(await asOwner.paused())
    await (await asOwner.unpause()).wait()
    assert.isFalse(await asOwner.paused())
  })

  test('the order page never carries X402_RPC_URL: no RPC hint without X402_PUBLIC_RPC_URL, only it when set', async ({ assert, cleanup }) => {
    const privateRpc = env.get('X402_RPC_URL')!
    const { user: creator } = await loggedIn('maker', 'creator')
    await payoutAccounts.set('x402', creator.id, { accountRef: await fixture.chain.address(2), ready: true })
    const video = await listedVideo(creator, { priceMinor: 500 })
    const { client } = await loggedIn('buyer')

    const bought = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'x402' })
    assert.equal(bought.status, 303)
    const orderId = bought.location!.split('/')[2]
    const page = await client.get(`/orders/${orderId}/complete`)
    assert.include(page.text, 'data-x402-checkout')
    assert.notInclude(page.text, privateRpc)
    assert.notProperty(actionOf(page.text), 'rpcUrl')
    assert.notProperty((await Order.findOrFail(orderId)).checkoutAction!, 'rpcUrl')

    // The operator sets a public RPC URL: the same order's page now hints it, and only it.
    const config = (plugins.payments.get('x402') as any).runtime.config
    const before = config.publicRpcUrl
    config.publicRpcUrl = 'https://rpc.example.org/public'
    cleanup(() => (config.publicRpcUrl = before))
    const hinted = await client.get(`/orders/${orderId}/complete`)
    assert.equal(actionOf(hinted.text).rpcUrl, 'https://rpc.example.org/public')
    assert.notInclude(hinted.text, privateRpc)
  })
})

/** The wallet action the order page hands its script (data-action, HTML-escaped JSON). */
function actionOf(html: string) {
  const match = html.match(/data-action="([^"]*)"/)
  if (!match) throw new Error('no data-action on the page')
  const json = match[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
  return JSON.parse(json)
}
