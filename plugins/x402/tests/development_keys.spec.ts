import { test } from '@japa/runner'
import { Wallet } from 'ethers'
import { bootPlugin } from '@matinee/plugin-kit/testing'

/** The documentation example key (.env.test's quote signer) and Hardhat's account #0. */
const PUBLIC_SIGNER = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'
const HARDHAT_0 = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
// Nothing is asked of the node at boot.
const options = (chainId: number, quoteSignerKey: string) => ({ rpcUrl: 'http://127.0.0.1:9', chainId, quoteSignerKey })

test.group('x402: public development keys', () => {
  test('a public quote signer key on a chain that is not local leaves wallet payments off, and says why', async ({ assert }) => {
    for (const key of [PUBLIC_SIGNER, HARDHAT_0]) {
      const plugin = await bootPlugin(new URL('../', import.meta.url), options(137, key))
      assert.isFalse(plugin.payments.has('x402'))
      assert.lengthOf(plugin.routes, 0)
      const health = await plugin.health()
      assert.isFalse(health!.ok)
      assert.include(health!.message, 'X402_QUOTE_SIGNER_KEY is a public development key')
      assert.include(health!.message, 'chain 137 is not a local chain')
    }
  })

  test('the same key on a local chain, or a key of its own anywhere, takes payments', async ({ assert }) => {
    for (const [chainId, key] of [
      [31337, PUBLIC_SIGNER],
      [1337, HARDHAT_0],
      [137, Wallet.createRandom().privateKey],
    ] as const) {
      const plugin = await bootPlugin(new URL('../', import.meta.url), options(chainId, key))
      assert.isTrue(plugin.payments.has('x402'), `chain ${chainId}`)
    }
  })
})
