/*
| x402 bench: buyers using the official client (@x402/fetch + @x402/evm's
| exact scheme, unchanged) buy a transcoded video from a real web server
| (bin/server.ts on a spare port) over HTTP 402, settled through the
| splitter on a real Hardhat node that mines a block every BENCH_X402_BLOCK_MS
| (default 1000, as make dev), each payment served after X402_CONFIRMATIONS.
| 100 fresh wallets (smoke: 6) pay once each, 8 at a time; every tenth payment
| header is also sent a second time at once (a duplicate: it must be refused
| as a replay) and every tenth is also sent forged (another value: refused).
| Figures:
|   x402_payments            genuine payments made by the official client
|   x402_paid_sessions       of them, answered 200 with a session whose first segment was fetched
|   x402_double_credits      orders credited more than once + wallets charged twice (target 0)
|   x402_pay_to_first_byte_ms_p50   first request (the 402) → paid → first byte of the first segment
|   x402_settlements_per_min paid sessions per minute of the payment phase
*/
import type { ChildProcess } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import { NonceManager, Wallet, type Contract } from 'ethers'
import { wrapFetchWithPaymentFromConfig } from '@x402/fetch'
import { ExactEvmScheme } from '@x402/evm'
import { privateKeyToAccount } from 'viem/accounts'
import Order from '#models/order'
import orders from '#services/order_service'
import { TestChain, TEST_KEYS } from '#tests/helpers/chain'
import { startWebServer, stopProcess } from '#tests/helpers/processes'
import { sparePort } from '#tests/helpers/private_services'
import { benchVideo } from './playback.js'
import { figure, smokeOr } from './helpers.js'

const PAYMENTS = smokeOr(100, 8)
const IN_FLIGHT = smokeOr(8, 3)
const PRICE_MINOR = 199
const BLOCK_MS = Number(process.env.BENCH_X402_BLOCK_MS ?? smokeOr(1000, 200))

/** A forged copy of a PAYMENT-SIGNATURE: the authorization's value changed (the signature no longer matches). */
function forge(header: string) {
  const payload = JSON.parse(Buffer.from(header, 'base64').toString('utf8'))
  payload.payload.authorization.value = String(BigInt(payload.payload.authorization.value) + 1n)
  payload.accepted.amount = payload.payload.authorization.value
  return Buffer.from(JSON.stringify(payload)).toString('base64')
}

export default async function x402Bench() {
  const video = await benchVideo(4, smokeOr('x402 bench', 'x402 bench (smoke)'))
  video.merge({ priceMinor: PRICE_MINOR, watermarkEnabled: false })
  await video.save()
  const chain = await TestChain.start()
  let server: ChildProcess | undefined
  try {
    await chain.intervalMining(BLOCK_MS)
    const port = await sparePort()
    const site = `http://127.0.0.1:${port}`
    server = await startWebServer({ PORT: String(port), HOST: '127.0.0.1', APP_URL: site, RATE_LIMIT_PLAYBACK_OPEN: '100000/1m' })

    // Fresh wallets, each funded with a little more than the price by test wallet 0.
    const buyers = Array.from({ length: PAYMENTS }, () => Wallet.createRandom())
    const funder = new NonceManager(new Wallet(TEST_KEYS[0], chain.provider))
    const stablecoin = (await chain.stablecoin(funder)) as Contract
    const sends = []
    for (const buyer of buyers) sends.push(await stablecoin.transfer(buyer.address, 2_000_000n))
    await Promise.all(sends.map((tx) => tx.wait()))
    const startOrders = new Set((await Order.query().select('id')).map((order) => order.id))

    const url = `${site}/api/v1/videos/${video.id}/session`
    const latencies: number[] = []
    let paidSessions = 0
    let duplicatesRefused = 0
    let forgedRefused = 0
    let extraSent = 0
    const failures: string[] = []

    const payOnce = async (index: number) => {
      const buyer = buyers[index]
      // The official client's fetch, over a fetch that also sends a duplicate or a forged copy of some payments.
      const tamperingFetch: typeof fetch = async (input, init) => {
        const request = new Request(input, init)
        const header = request.headers.get('payment-signature')
        if (header && (index % 10 === 7 || index % 10 === 3)) {
          const copy = new Request(request.clone())
          copy.headers.set('payment-signature', index % 10 === 7 ? header : forge(header))
          extraSent++
          const [genuine, extra] = await Promise.all([fetch(request), fetch(copy)])
          if (index % 10 === 3) {
            if (extra.status >= 400) forgedRefused++
            else failures.push(`payment ${index}: a forged header was served (${extra.status})`)
            return genuine
          }
          // Two identical headers: one is served, the other refused as a replay; the buyer keeps the served one.
          const served = [genuine, extra].filter((response) => response.status === 200)
          if (served.length > 1) failures.push(`payment ${index}: a duplicated header was served twice`)
          if ([genuine, extra].some((response) => response.status === 402)) duplicatesRefused++
          return served[0] ?? genuine
        }
        return fetch(request)
      }
      const pay = wrapFetchWithPaymentFromConfig(tamperingFetch, {
        schemes: [{ network: 'eip155:*', client: new ExactEvmScheme(privateKeyToAccount(buyer.privateKey as `0x${string}`)) }],
        spendControls: { allowedAssets: true },
      })
      const started = performance.now()
      const response = await pay(url, { headers: { accept: 'application/json' } })
      const session = (await response.json()) as any
      if (response.status !== 200) {
        failures.push(`payment ${index}: ${response.status} ${session.error}: ${session.message}`)
        return
      }
      const auth = { authorization: `Bearer ${session.accessToken}` }
      const firstUri = (text: string, base: string | URL) => new URL(text.split('\n').find((line) => line && !line.startsWith('#'))!, base)
      const variant = firstUri(await (await fetch(session.masterUrl, { headers: auth })).text(), session.masterUrl)
      const segment = await fetch(firstUri(await (await fetch(variant, { headers: auth })).text(), variant), { headers: auth })
      const reader = segment.body!.getReader()
      const first = await reader.read()
      const latency = performance.now() - started
      await reader.cancel()
      if (segment.status !== 200 || !first.value?.length) {
        failures.push(`payment ${index}: the first segment answered ${segment.status}`)
        return
      }
      latencies.push(latency)
      paidSessions++
    }

    const phaseStarted = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < PAYMENTS) await payOnce(next++).catch((error) => failures.push(String(error?.message ?? error)))
      })
    )
    const minutes = (performance.now() - phaseStarted) / 60_000

    const ours = (await Order.query().where('videoId', video.id).where('status', 'paid')).filter((order) => !startOrders.has(order.id))
    const orderIds = ours.map((order) => order.id)
    const applied = orderIds.length
      ? await db.from('payment_events').where('provider', 'x402').whereIn('order_id', orderIds).where('outcome', 'applied').select('order_id')
      : []
    const perOrder = new Map<string, number>()
    for (const event of applied) perOrder.set(event.order_id, (perOrder.get(event.order_id) ?? 0) + 1)
    const perBuyer = new Map<number, number>()
    for (const order of ours) perBuyer.set(order.buyerId, (perBuyer.get(order.buyerId) ?? 0) + 1)
    const doubleCredits =
      [...perOrder.values()].filter((n) => n > 1).length + [...perBuyer.values()].filter((n) => n > 1).length + (ours.length > PAYMENTS ? ours.length - PAYMENTS : 0)
    const mismatches = (await orders.ledgerMismatches()).filter((id) => orderIds.includes(id))
    latencies.sort((a, b) => a - b)
    for (const failure of failures.slice(0, 10)) console.error(`  ${failure}`)
    console.error(
      `${paidSessions}/${PAYMENTS} paid sessions, ${ours.length} paid orders, ${applied.length} applied events; ` +
        `${extraSent} extra headers (duplicates refused ${duplicatesRefused}, forgeries refused ${forgedRefused}); ${mismatches.length} ledger mismatches; ` +
        `${BLOCK_MS} ms blocks, ${env.get('X402_CONFIRMATIONS')} confirmations, ${IN_FLIGHT} buyers at a time, p90 ${Math.round(latencies[Math.floor(latencies.length * 0.9)] ?? 0)} ms`
    )
    figure('x402_payments', PAYMENTS, 'payments')
    figure('x402_paid_sessions', mismatches.length ? 0 : paidSessions, 'sessions')
    figure('x402_double_credits', doubleCredits, 'credits')
    figure('x402_pay_to_first_byte_ms_p50', Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0), 'ms')
    figure('x402_settlements_per_min', Math.round(paidSessions / minutes), 'settlements/min')
  } finally {
    if (server && server.exitCode === null) await stopProcess(server).catch(() => server!.kill('SIGKILL'))
    await chain.stop()
  }
}
