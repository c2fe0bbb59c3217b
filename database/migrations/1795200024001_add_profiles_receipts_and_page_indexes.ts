import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Creator pages, buyers' receipts and the indexes the catalog, studio and
 * library pages read through:
 * - users: a display name, a bio and an avatar (a storage key) for `/@username`;
 * - order_receipts: one row per receipt mailed (an order's purchase, each
 *   refund), inserted in the transaction that changed the order, so a replayed
 *   payment event finds it and mails nothing again;
 * - indexes: a creator's published videos, a buyer's orders by date, a
 *   video's playback sessions by date (views and watch time).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('users', (table) => {
      table.string('display_name', 80).nullable()
      table.text('bio').nullable()
      table.string('avatar_key', 255).nullable()
    })
    this.schema.createTable('order_receipts', (table) => {
      table.increments('id')
      table.uuid('order_id').notNullable().references('id').inTable('orders').onDelete('CASCADE')
      table.string('kind', 16).notNullable()
      // Purchase: 0; a refund: what was given back so far (a partial refund, then the rest, are two receipts).
      table.bigInteger('refunded_minor').notNullable().defaultTo(0)
      table.timestamp('sent_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.unique(['order_id', 'kind', 'refunded_minor'])
    })
    this.schema.raw(`ALTER TABLE order_receipts ADD CONSTRAINT order_receipts_kind_check CHECK (kind IN ('purchase','refund'))`)
    this.schema.raw(
      `CREATE INDEX videos_owner_catalog_idx ON videos (owner_id, ready_at DESC) WHERE status = 'ready' AND visibility = 'published'`
    )
    this.schema.raw(`CREATE INDEX orders_buyer_created_idx ON orders (buyer_id, created_at DESC)`)
    this.schema.raw(`CREATE INDEX playback_sessions_video_created_idx ON playback_sessions (video_id, created_at)`)
  }

  async down() {
    this.schema.raw('DROP INDEX IF EXISTS playback_sessions_video_created_idx')
    this.schema.raw('DROP INDEX IF EXISTS orders_buyer_created_idx')
    this.schema.raw('DROP INDEX IF EXISTS videos_owner_catalog_idx')
    this.schema.dropTable('order_receipts')
    this.schema.alterTable('users', (table) => {
      table.dropColumn('display_name')
      table.dropColumn('bio')
      table.dropColumn('avatar_key')
    })
  }
}
