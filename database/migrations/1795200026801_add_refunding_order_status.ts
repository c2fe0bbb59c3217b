import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * `refunding`: an order paid a second time for something its buyer already
 * holds, whose automatic refund is in flight. The payment is booked and the
 * refund (a `refunds` row) committed first; the provider is called after the
 * commit, outside the row lock, and the order becomes `refunded` when its
 * answer is recorded. A `refunding` order grants nothing (grants count only
 * while paid) and its ledger lines sum to what was paid.
 */
const WITHOUT = ['pending', 'paid', 'disputed', 'refunded', 'charged_back', 'expired', 'failed', 'underpaid']
const WITH = [...WITHOUT, 'refunding']
const list = (statuses: string[]) => statuses.map((s) => `'${s}'`).join(', ')

export default class extends BaseSchema {
  async up() {
    this.schema.raw('ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_status_check')
    this.schema.raw(`ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN (${list(WITH)}))`)
  }

  async down() {
    this.schema.raw(`UPDATE orders SET status = 'paid' WHERE status = 'refunding'`)
    this.schema.raw('ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_status_check')
    this.schema.raw(`ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN (${list(WITHOUT)}))`)
  }
}
