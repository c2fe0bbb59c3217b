import { DateTime } from 'luxon'
import logger from '@adonisjs/core/services/logger'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type Order from '#models/order'
import LedgerEntry from '#models/ledger_entry'
import Video from '#models/video'
import type User from '#models/user'
import plugins from '#services/plugins'
import playback from '#services/playback_service'
import entitlements from '#services/entitlement_service'
import { splitPayment, type LedgerLine } from '#services/commerce/ledger'

/**
 * The order state machine's transitions and the ledger lines each writes.
 * Callers hold the order row locked FOR UPDATE inside `trx`; work that must
 * wait for the commit (hooks, revocations) goes to `after`.
 *
 *   pending → paid → refunded;  pending → expired | failed | underpaid
 */

/** Work that must wait until the transaction committed (hooks, revocations...). */
export type AfterCommit = Array<() => Promise<void>>

export async function runAfterCommit(after: AfterCommit) {
  for (const task of after) {
    try {
      await task()
    } catch (error) {
      logger.error({ err: error }, 'after-payment task failed')
    }
  }
}

export async function writeLedger(trx: TransactionClientContract, order: Order, kind: LedgerEntry['kind'], lines: LedgerLine[]) {
  const now = new Date()
  await trx.table('ledger_entries').multiInsert(
    lines.map((line) => ({
      order_id: order.id,
      kind,
      account: line.account,
      user_id: line.account === 'creator' ? order.creatorId : null,
      amount_minor: line.amountMinor,
      currency: order.currency,
      created_at: now,
    }))
  )
}

/** pending → paid's ledger lines and payment facts (the caller saves the status). */
export async function markPaid(
  trx: TransactionClientContract,
  order: Order,
  input: { providerFeeMinor: number; paymentReference?: string; split?: { creator: number; platform: number } }
) {
  // A provider that paid both sides itself (a splitter contract) says what
  // each received; otherwise the platform's fee rule decides.
  const lines = input.split
    ? [
        { account: 'creator' as const, amountMinor: input.split.creator },
        { account: 'platform' as const, amountMinor: input.split.platform },
        ...(input.providerFeeMinor > 0 ? [{ account: 'provider_fee' as const, amountMinor: input.providerFeeMinor }] : []),
      ]
    : splitPayment({
        amountMinor: order.amountMinor,
        platformFeeMinor: order.platformFeeMinor,
        providerFeeMinor: input.providerFeeMinor,
        payout: order.creatorPayout,
      })
  await writeLedger(trx, order, 'payment', lines)
  order.merge({
    paidAt: DateTime.now(),
    paymentReference: input.paymentReference?.slice(0, 255) ?? order.paymentReference,
    failureReason: null,
  })
}

export async function markRefunded(trx: TransactionClientContract, order: Order, input: { actor: User | null; reason: string }, after: AfterCommit) {
  const payments = await LedgerEntry.query({ client: trx }).where({ orderId: order.id, kind: 'payment' })
  await writeLedger(
    trx,
    order,
    'refund',
    payments.map((entry) => ({ account: entry.account, amountMinor: -entry.amountMinor }))
  )
  const wasPaid = order.status === 'paid'
  order.merge({ status: 'refunded', refundedAt: DateTime.now(), refundedBy: input.actor?.id ?? null, failureReason: input.reason })
  await order.useTransaction(trx).save()
  if (wasPaid) after.push(() => afterRefunded(order))
}

export async function afterPaid(order: Order) {
  await plugins.hooks.doAction('purchase:completed', {
    orderId: order.id,
    videoId: order.videoId,
    buyerId: order.buyerId,
    provider: order.provider,
  })
}

async function afterRefunded(order: Order) {
  const [video, buyer] = await Promise.all([Video.find(order.videoId), order.related('buyer').query().first()])
  // Still entitled another way (the allowlist)? Then their sessions stay.
  const access = buyer && video ? await entitlements.decide(buyer, video) : null
  if (!access?.allowed) await playback.revoke({ userId: order.buyerId, videoId: order.videoId }, 'refund')
  await plugins.hooks.doAction('purchase:refunded', {
    orderId: order.id,
    videoId: order.videoId,
    buyerId: order.buyerId,
    provider: order.provider,
  })
}
