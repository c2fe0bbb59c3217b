import { randomUUID } from 'node:crypto'
import type { ChildProcess } from 'node:child_process'
import { ZeroAddress, type Contract } from 'ethers'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import User from '#models/user'
import Video from '#models/video'
import Order from '#models/order'
import orders from '#services/order_service'
import entitlements from '#services/entitlement_service'
import plugins from '#services/plugins'
import payoutAccounts from '#services/payout_account_service'
import { TestChain, startWatcher } from '#tests/helpers/chain'
import { stopProcess } from '#tests/helpers/processes'
import type { X402PaymentProvider } from '../plugins/x402/x402_payment_provider.js'
import { figure, smokeOr, waitUntil } from './helpers.js'
import { benchCreator } from './fixtures.js'

const PAYMENTS = smokeOr(100, 6)
/** The watcher is killed (SIGKILL) after these payments and started again after the next DOWN_FOR. */
const KILL_AFTER = smokeOr([33, 66], [2])
const DOWN_FOR = smokeOr(10, 2)
const PRICE = 500

/**
 * 100 wallet payments (smoke: 6; half in the test stablecoin, half in the native coin)
 * against a real Hardhat node, with the chain watcher killed twice without
 * warning; ten payments are sent each time while it is down. Then: how many
 * orders were credited, exactly once each, and, for the payments made while
 * the watcher ran, the time from the block that gave the payment its Nth
 * confirmation being mined to the buyer being entitled to watch.
 */
export default async function chainBench() {
  const chain = await TestChain.start()
  const confirmations = Number(env.get('X402_CONFIRMATIONS'))
  let watcher: ChildProcess | undefined
  try {
    const provider = plugins.payments.get('x402') as X402PaymentProvider
    const creator = await benchCreator()
    await payoutAccounts.set('x402', creator.id, { accountRef: await chain.address(2), ready: true })
    const run = randomUUID().slice(0, 8)
    const buyers = await User.createMany(
      [0, 1].map((i) => ({ username: `chain_${run}_${i}`, email: `chain_${run}_${i}@bench.local`, password: 'bench-password-123', role: 'viewer' as const }))
    )
    const videos = await Video.createMany(
      Array.from({ length: PAYMENTS / 2 }, (_, i) => {
        const id = randomUUID()
        return {
          id, ownerId: creator.id, title: `chain bench ${i}`, status: 'ready' as const, visibility: 'published' as const,
          priceMinor: PRICE, currency: 'USD', sourceKey: `videos/${id}/source/master.mp4`, sourceFilename: 'master.mp4', sourceSize: 1,
          durationSeconds: 6, renditions: [],
        }
      })
    )
    const splitters = [await chain.splitter(chain.wallet(0)), await chain.splitter(chain.wallet(1))] as Contract[]
    const stablecoin = (await chain.stablecoin(chain.wallet(0))) as Contract
    await (await stablecoin.approve(chain.deployment.contract, 10n ** 30n)).wait()

    watcher = await startWatcher()
    const latencies: number[] = []
    const orderIds: string[] = []
    let sent = 0
    let watcherUp = true
    for (let i = 0; i < PAYMENTS; i++) {
      // Buyer 0 pays stablecoins from wallet 0, buyer 1 the native coin from wallet 1.
      const which = i % 2
      const buyer = buyers[which]
      const video = videos[Math.floor(i / 2)]
      const order = await orders.checkout(buyer, video.id, 'x402')
      orderIds.push(order.id)
      const token = which === 0 ? chain.deployment.token : ZeroAddress
      const signed = await provider.quoteFor({ orderId: order.id, buyerId: buyer.id, payer: await chain.address(which), token })
      const q = signed.quote
      const tx = which === 0 ? await splitters[0].payERC20(q, signed.signature) : await splitters[1].payNative(q, signed.signature, { value: BigInt(q.amount) })
      await tx.wait()
      sent++
      // The payment's own block is its first confirmation; these give it N.
      await chain.mine(confirmations - 1)
      const confirmedAt = performance.now()
      if (watcherUp) {
        for (;;) {
          const access = await entitlements.decide(buyer, video)
          if (access.allowed) break
          if (performance.now() - confirmedAt > 30_000) throw new Error(`payment ${i} not credited in 30 s`)
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        latencies.push(performance.now() - confirmedAt)
      }
      if (KILL_AFTER.includes(i + 1)) {
        watcher.kill('SIGKILL')
        await new Promise((resolve) => watcher!.once('exit', resolve))
        watcherUp = false
        console.error(`watcher killed after payment ${i + 1}`)
      }
      if (!watcherUp && KILL_AFTER.some((k) => i + 1 === k + DOWN_FOR)) {
        watcher = await startWatcher()
        watcherUp = true
        console.error(`watcher restarted after payment ${i + 1}`)
      }
    }
    await waitUntil(async () => (await Order.query().whereIn('id', orderIds).where('status', 'paid')).length === PAYMENTS, 120_000, 'every order paid').catch((error) => console.error(error.message))

    const paid = await Order.query().whereIn('id', orderIds).where('status', 'paid')
    const applied = await db.from('payment_events').where('provider', 'x402').whereIn('order_id', orderIds).where('outcome', 'applied')
    const onceEach = new Set(applied.map((event) => event.order_id)).size === applied.length
    const mismatches = (await orders.ledgerMismatches()).filter((id) => orderIds.includes(id))
    latencies.sort((a, b) => a - b)
    console.error(
      `${paid.length}/${sent} credited, ${applied.length} applied events (once each: ${onceEach}), ${mismatches.length} ledger mismatches; ` +
        `${latencies.length} latency samples, p90 ${Math.round(latencies[Math.floor(latencies.length * 0.9)])} ms; ` +
        `watcher polls every ${env.get('X402_POLL_INTERVAL_MS')} ms, ${confirmations} confirmations`
    )
    figure('chain_payments_sent', sent, 'payments')
    figure('chain_payments_credited', onceEach && mismatches.length === 0 ? paid.length : 0, 'payments')
    figure('chain_confirm_latency_ms_p50', Math.round(latencies[Math.floor(latencies.length / 2)]), 'ms')
  } finally {
    if (watcher && watcher.exitCode === null) await stopProcess(watcher).catch(() => watcher!.kill('SIGKILL'))
    await chain.stop()
  }
}
