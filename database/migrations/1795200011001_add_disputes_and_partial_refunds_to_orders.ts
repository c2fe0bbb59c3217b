import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Chargebacks and refunds that give back part of a payment (issue 14).
 *
 * Orders gain two states: `disputed` (the buyer's bank opened a chargeback:
 * access is suspended until it closes) and `charged_back` (the dispute was
 * lost: the money went back to the buyer). `refunded_minor` is what went back
 * to the buyer so far, through refunds or a lost dispute; the ledger of an
 * order that was paid sums to `amount_minor - refunded_minor`. The dispute
 * columns remember the provider's dispute and how it ended, so a late or
 * replayed "opened" event cannot suspend a purchase whose dispute was won.
 * Ledger lines gain the `dispute` kind (what a lost dispute took back, and the
 * provider's dispute fee).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.raw('ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_status_check')
    this.schema.raw(
      `ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending', 'paid', 'disputed', 'refunded', 'charged_back', 'expired', 'failed', 'underpaid'))`
    )
    this.schema.alterTable('orders', (table) => {
      table.bigInteger('refunded_minor').notNullable().defaultTo(0)
      table.string('dispute_reference', 255).nullable()
      table.enum('dispute_status', ['open', 'won', 'lost']).nullable()
      table.timestamp('disputed_at').nullable()
      table.timestamp('dispute_closed_at').nullable()
    })
    this.schema.raw(`UPDATE orders SET refunded_minor = amount_minor WHERE status = 'refunded'`)
    // A purchase under dispute still counts as the buyer's one purchase: a
    // second one bought meanwhile would collide with it when the dispute is won.
    this.schema.raw('DROP INDEX IF EXISTS orders_one_paid_purchase')
    this.schema.raw(`CREATE UNIQUE INDEX orders_one_paid_purchase ON orders (buyer_id, video_id) WHERE status IN ('paid', 'disputed')`)

    this.schema.raw('ALTER TABLE ledger_entries DROP CONSTRAINT IF EXISTS ledger_entries_kind_check')
    this.schema.raw(`ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check CHECK (kind IN ('payment', 'refund', 'dispute'))`)
  }

  async down() {
    this.schema.raw('ALTER TABLE ledger_entries DROP CONSTRAINT IF EXISTS ledger_entries_kind_check')
    this.schema.raw(`DELETE FROM ledger_entries WHERE kind = 'dispute'`)
    this.schema.raw(`ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check CHECK (kind IN ('payment', 'refund'))`)
    this.schema.raw('DROP INDEX IF EXISTS orders_one_paid_purchase')
    this.schema.raw(`UPDATE orders SET status = 'paid' WHERE status = 'disputed'`)
    this.schema.raw(`UPDATE orders SET status = 'refunded' WHERE status = 'charged_back'`)
    this.schema.raw(`CREATE UNIQUE INDEX orders_one_paid_purchase ON orders (buyer_id, video_id) WHERE status = 'paid'`)
    this.schema.alterTable('orders', (table) => {
      table.dropColumn('refunded_minor')
      table.dropColumn('dispute_reference')
      table.dropColumn('dispute_status')
      table.dropColumn('disputed_at')
      table.dropColumn('dispute_closed_at')
    })
    this.schema.raw('ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_status_check')
    this.schema.raw(
      `ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending', 'paid', 'refunded', 'expired', 'failed', 'underpaid'))`
    )
  }
}
