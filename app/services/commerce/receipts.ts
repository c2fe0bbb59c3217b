import logger from '@adonisjs/core/services/logger'
import mail from '@adonisjs/mail/services/main'
import db from '@adonisjs/lucid/services/db'
import { appUrl } from '#config/app'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Order from '#models/order'
import plugins from '#services/plugins'
import orderQueries from '#services/commerce/order_queries'
import { formatMinor, formatTokenAmount } from '#hooks/money'
import type { AfterCommit } from '#services/commerce/order_state'
import OrderReceiptMail from '#mails/order_receipt_mail'
import queues from '#services/queue_service'

export type ReceiptKind = 'purchase' | 'refund'

/** What a receipt mail says (both its HTML and text views). */
export interface ReceiptMessage {
  kind: ReceiptKind
  to: string
  username: string
  receiptNumber: string
  orderId: string
  videoTitle: string
  videoUrl: string
  receiptUrl: string
  creatorName: string
  /** The price in the order's currency ("$4.99"). */
  amountText: string
  /** Refunds: what went back this time and in all. */
  refundedText: string | null
  refundReason: string | null
  providerLabel: string
  /** A crypto payment: the token and amount paid ("0.00166667 ETH"). */
  paidWithText: string | null
  paymentReference: string | null
  dateText: string
}

/**
 * Receipts mailed to buyers: one for a purchase, one for each refund. The
 * receipt's row is inserted in the transaction that changed the order
 * (order_receipts, unique per order, kind and amount refunded so far), so a
 * replayed or racing payment event finds it and mails nothing again; the
 * mail itself goes after the commit, in the background (the webhook or
 * chain watcher that paid never waits for SMTP): a `mail` job the workers
 * run and retry. A row whose mail never went keeps `sent_at` null.
 */
export class ReceiptService {
  async record(trx: TransactionClientContract, order: Order, kind: ReceiptKind, after: AfterCommit) {
    const inserted = await trx
      .table('order_receipts')
      .insert({ order_id: order.id, kind, refunded_minor: kind === 'purchase' ? 0 : order.refundedMinor, created_at: new Date() })
      .onConflict(['order_id', 'kind', 'refunded_minor'])
      .ignore()
      .returning('id')
    if (!inserted.length) return
    const receiptId = inserted[0].id as number
    after.push(async () => {
      await queues
        .producer('mail')
        .createJob({ receiptId })
        .setId(`receipt-${receiptId}`)
        .retries(5)
        .backoff('exponential', 10_000)
        .save()
        .catch((error: unknown) => logger.error({ err: error, orderId: order.id, kind }, 'could not queue the receipt email'))
    })
  }

  /** Mails one recorded receipt and marks it sent. */
  async send(receiptId: number) {
    const row = await db.from('order_receipts').where('id', receiptId).first()
    if (!row || row.sent_at) return
    const order = await Order.query().where('id', row.order_id).preload('buyer').preload('video').preload('creator').firstOrFail()
    await mail.send(new OrderReceiptMail(await this.message(order, row.kind, Number(row.refunded_minor))))
    await db.from('order_receipts').where('id', receiptId).update({ sent_at: new Date() })
  }

  async message(order: Order, kind: ReceiptKind, refundedMinor: number): Promise<ReceiptMessage> {
    const paidWith = await orderQueries.paidWith(order)
    const when = kind === 'purchase' ? order.paidAt : order.refundedAt ?? order.updatedAt
    return {
      kind,
      to: order.buyer.email,
      username: order.buyer.username,
      receiptNumber: order.receiptNumber,
      orderId: order.id,
      // Bundles and passes have no one video: their title as sold, and the library.
      videoTitle: order.itemTitle,
      videoUrl: new URL(order.itemUrl ?? '/library', appUrl).href,
      receiptUrl: new URL(`/library/orders/${order.id}`, appUrl).href,
      creatorName: order.creator.publicName,
      amountText: formatMinor(order.amountMinor, order.currency),
      refundedText: kind === 'refund' ? formatMinor(refundedMinor, order.currency) : null,
      refundReason: kind === 'refund' ? order.failureReason : null,
      providerLabel: plugins.payments.get(order.provider)?.label ?? order.provider,
      paidWithText: paidWith ? formatTokenAmount(paidWith.units, paidWith.decimals, paidWith.symbol) : null,
      paymentReference: order.paymentReference,
      dateText: (when ?? order.createdAt).toUTC().toFormat("d LLL yyyy HH:mm 'UTC'"),
    }
  }
}

const receipts = new ReceiptService()
export default receipts
