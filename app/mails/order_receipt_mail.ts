import { BaseMail } from '@adonisjs/mail'
import type { ReceiptMessage } from '#services/commerce/receipts'

/** A buyer's receipt for a purchase or a refund (HTML and text, resources/views/emails/receipt_*). */
export default class OrderReceiptMail extends BaseMail {
  constructor(private receipt: ReceiptMessage) {
    super()
    this.subject =
      receipt.kind === 'purchase'
        ? `Your receipt for "${receipt.videoTitle}" (${receipt.receiptNumber})`
        : `Refund of "${receipt.videoTitle}" (${receipt.receiptNumber})`
  }

  prepare() {
    this.message.to(this.receipt.to).htmlView('emails/receipt_html', this.receipt).textView('emails/receipt_text', this.receipt)
  }
}
