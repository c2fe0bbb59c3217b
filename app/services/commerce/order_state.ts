import { DateTime } from 'luxon'
import logger from '@adonisjs/core/services/logger'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type Order from '#models/order'
import LedgerEntry from '#models/ledger_entry'
import Video from '#models/video'
import User from '#models/user'
import PlaybackSession from '#models/playback_session'
import plugins from '#services/plugins'
import playback from '#services/playback_service'
import entitlements from '#services/entitlement_service'
import { givenBackLines, splitPayment, type LedgerLine } from '#services/commerce/ledger'
import receipts from '#services/commerce/receipts'
import type { RevokeReason } from '#models/playback_session'
import type { Money } from '#hooks/contracts'
import type { PurchaseHookPayload } from '#hooks/hook_names'
import grants from '#services/commerce/grants'

/**
 * The order state machine's transitions and the ledger lines each writes.
 * Callers hold the order row locked FOR UPDATE inside `trx`; work that must
 * wait for the commit (hooks, revocations) goes to `after`.
 *
 *   pending → paid → refunded | disputed;  disputed → paid (won) | charged_back (lost);
 *   pending → expired | failed | underpaid
 *
 * Money given back to the buyer (refunds, partial or whole, and a lost
 * dispute) is counted in `refundedMinor`; each time, ledger lines say who
 * paid it back, so an order's lines always sum to amount − refundedMinor.
 */

/** A provider's figure in the order's currency, if it is a non-negative integer there; otherwise undefined. */
export function reportedMinor(money: Money | undefined, currency: string) {
  if (!money || String(money.currency).toUpperCase() !== currency) return undefined
  return Number.isSafeInteger(money.amount) && money.amount >= 0 ? money.amount : undefined
}

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
  if (!lines.length) return
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
  await grants.grantFor(trx, order)
  order.merge({
    paidAt: DateTime.now(),
    paymentReference: input.paymentReference?.slice(0, 255) ?? order.paymentReference,
    failureReason: null,
  })
}

/**
 * Books `amountMinor` given back to the buyer now (ledger lines of `kind`
 * that sum to minus it) and counts it in `refundedMinor`. `creatorReversed`
 * is the provider's running total of what it took back from a creator it
 * paid directly. The caller saves the order.
 */
export async function giveBack(
  trx: TransactionClientContract,
  order: Order,
  input: { kind: 'refund' | 'dispute'; amountMinor: number; creatorReversedMinor?: number }
) {
  const lines = await LedgerEntry.query({ client: trx }).where({ orderId: order.id, account: 'creator' })
  const creatorShare = lines.filter((line) => line.kind === 'payment').reduce((sum, line) => sum + line.amountMinor, 0)
  const creatorReversedBefore = -lines.filter((line) => line.kind !== 'payment').reduce((sum, line) => sum + line.amountMinor, 0)
  await writeLedger(
    trx,
    order,
    input.kind,
    givenBackLines({
      payout: order.creatorPayout,
      amountMinor: order.amountMinor,
      creatorShareMinor: creatorShare,
      givenBackBeforeMinor: order.refundedMinor,
      givenBackNowMinor: input.amountMinor,
      creatorReversedBeforeMinor: creatorReversedBefore,
      creatorReversedTotalMinor: input.creatorReversedMinor,
    }).filter((line) => line.amountMinor !== 0)
  )
  order.refundedMinor += input.amountMinor
}

/** paid (or disputed) → refunded: gives back what is left of the payment and ends the buyer's access. */
export async function markRefunded(
  trx: TransactionClientContract,
  order: Order,
  input: { actor: User | null; reason: string; creatorReversedMinor?: number },
  after: AfterCommit
) {
  const hadAccess = order.status === 'paid'
  const wasPurchase = hadAccess || order.status === 'disputed'
  const left = order.amountMinor - order.refundedMinor
  if (left > 0) await giveBack(trx, order, { kind: 'refund', amountMinor: left, creatorReversedMinor: input.creatorReversedMinor })
  order.merge({ status: 'refunded', refundedAt: DateTime.now(), refundedBy: input.actor?.id ?? null, failureReason: input.reason })
  await order.useTransaction(trx).save()
  if (hadAccess) after.push(() => endAccess(order, 'refund'))
  if (wasPurchase) {
    await receipts.record(trx, order, 'refund', after)
    after.push(() => plugins.hooks.doAction('purchase:refunded', purchasePayload(order)))
  }
}

/** What the `purchase:*` hooks say of an order. */
export function purchasePayload(order: Order): PurchaseHookPayload {
  return {
    orderId: order.id,
    videoId: order.videoId,
    offerId: order.offerId,
    offerKind: order.offerKind,
    offerScope: order.offerScope,
    buyerId: order.buyerId,
    provider: order.provider,
  }
}

export async function afterPaid(order: Order) {
  await plugins.hooks.doAction('purchase:completed', purchasePayload(order))
}

/**
 * Ends the buyer's open playback sessions that the order granted: each of
 * their live sessions is asked again, and those they may no longer watch
 * another way (they own it, the allowlist, a pass) end. An order for a
 * bundle or a pass reaches many videos, so no video is assumed.
 */
export async function endAccess(order: Order, reason: RevokeReason) {
  const buyer = await User.find(order.buyerId)
  if (!buyer) return
  const live = await PlaybackSession.query()
    .where('userId', buyer.id)
    .whereNull('revokedAt')
    .where('expiresAt', '>', DateTime.now().toSQL()!)
    .if(order.videoId, (query) => query.where('videoId', order.videoId!))
    .select('id', 'videoId')
  const videos = new Map<string, Video | null>()
  for (const session of live) {
    if (!videos.has(session.videoId)) videos.set(session.videoId, await Video.find(session.videoId))
    const access = await entitlements.decide(buyer, videos.get(session.videoId)!)
    if (!access.allowed) await playback.revoke({ sessionId: session.id }, reason)
  }
}
