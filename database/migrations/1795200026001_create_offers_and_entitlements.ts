import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Commerce beyond "one price, forever" (issue 17).
 *
 * - `offers`: what a creator sells besides a video's buy price (which stays
 *   `videos.price_minor`): a rental of one video, a bundle of videos, a pass
 *   to all their videos, a membership. kind × scope × price.
 * - `offer_videos`: the videos of a bundle.
 * - `entitlements`: what a viewer holds and when: one row per grant (a video
 *   bought, a bundle's video, a rental, a pass, a membership), with its
 *   window. A grant paid by an order counts only while that order is paid
 *   (a refund, a dispute or a chargeback ends it without touching this row).
 * - `orders` name the offer they sell (a snapshot of kind and scope for
 *   reports) and may have no video (bundles, passes, memberships).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('offers', (table) => {
      table.uuid('id').primary()
      table.integer('creator_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      // purchase: forever; rental: N hours from first play, started within M days;
      // pass: N days from purchase; membership: while a subscription is paid.
      table.enum('kind', ['purchase', 'rental', 'pass', 'membership']).notNullable()
      // video: one video; bundle: the offer's videos; creator: everything the creator publishes.
      table.enum('scope', ['video', 'bundle', 'creator']).notNullable()
      table.uuid('video_id').nullable().references('videos.id').onDelete('CASCADE')
      table.string('title', 120).nullable()
      table.string('description', 500).nullable()
      table.bigInteger('price_minor').notNullable()
      table.string('currency', 3).notNullable()
      table.integer('rental_hours').nullable()
      table.integer('start_window_days').nullable()
      table.integer('pass_days').nullable()
      table.boolean('active').notNullable().defaultTo(true)
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.index(['creator_id', 'active'])
      table.index(['video_id'])
    })
    // One live rental offer per video (the Studio edits it in place).
    this.schema.raw(`CREATE UNIQUE INDEX offers_one_rental_per_video ON offers (video_id) WHERE kind = 'rental' AND active`)

    this.schema.createTable('offer_videos', (table) => {
      table.uuid('offer_id').notNullable().references('offers.id').onDelete('CASCADE')
      table.uuid('video_id').notNullable().references('videos.id').onDelete('CASCADE')
      table.integer('position').notNullable().defaultTo(0)
      table.primary(['offer_id', 'video_id'])
      table.index(['video_id'])
    })

    this.schema.alterTable('orders', (table) => {
      table.uuid('offer_id').nullable().references('offers.id').onDelete('RESTRICT')
      table.string('offer_kind', 16).notNullable().defaultTo('purchase')
      table.string('offer_scope', 16).notNullable().defaultTo('video')
      // What the buyer saw they were buying (a video's or an offer's title), kept for receipts and reports.
      table.string('offer_title', 200).nullable()
      table.index(['offer_id', 'status'])
    })
    this.schema.raw('ALTER TABLE orders ALTER COLUMN video_id DROP NOT NULL')
    // One paid purchase per viewer and video: rentals and passes of the same video are other orders.
    this.schema.raw('DROP INDEX IF EXISTS orders_one_paid_purchase')
    this.schema.raw(
      `CREATE UNIQUE INDEX orders_one_paid_purchase ON orders (buyer_id, video_id) WHERE status IN ('paid', 'disputed') AND offer_kind = 'purchase' AND offer_scope = 'video'`
    )

    this.schema.createTable('entitlements', (table) => {
      table.bigIncrements('id')
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.uuid('order_id').nullable().references('orders.id').onDelete('CASCADE')
      table.enum('kind', ['purchase', 'rental', 'pass', 'membership']).notNullable()
      // A video (bought, rented, or one of a bundle's, copied at purchase so
      // a bundle edited later takes nothing away), or all of a creator's.
      table.uuid('video_id').nullable().references('videos.id').onDelete('CASCADE')
      table.integer('creator_id').unsigned().nullable().references('users.id').onDelete('CASCADE')
      table.uuid('offer_id').nullable().references('offers.id').onDelete('SET NULL')
      // A membership's subscription (its window moves with each paid invoice).
      table.bigInteger('subscription_id').nullable()
      // Rentals: null until the first play; then starts_at + rental_hours = ends_at.
      table.timestamp('starts_at').nullable()
      table.timestamp('ends_at').nullable()
      table.timestamp('start_by').nullable()
      table.integer('rental_hours').nullable()
      table.timestamp('revoked_at').nullable()
      table.string('revoke_reason', 64).nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.index(['user_id', 'video_id'])
      table.index(['user_id', 'creator_id'])
      table.index(['order_id'])
      table.index(['ends_at'])
    })

    // A session granted by something that ends (a rental, a pass) ends with it:
    // requests after `access_ends_at` re-ask the chain, and a chore tells the player.
    this.schema.alterTable('playback_sessions', (table) => {
      table.string('access_via', 64).nullable()
      table.timestamp('access_ends_at').nullable()
      table.index(['access_ends_at'])
    })

    // Every purchase made so far is a grant forever.
    this.schema.raw(
      `INSERT INTO entitlements (user_id, order_id, kind, video_id, starts_at, created_at, updated_at)
       SELECT buyer_id, id, 'purchase', video_id, paid_at, COALESCE(paid_at, created_at), now()
       FROM orders WHERE paid_at IS NOT NULL AND video_id IS NOT NULL`
    )
  }

  async down() {
    this.schema.alterTable('playback_sessions', (table) => {
      table.dropColumn('access_via')
      table.dropColumn('access_ends_at')
    })
    this.schema.dropTable('entitlements')
    this.schema.raw('DROP INDEX IF EXISTS orders_one_paid_purchase')
    this.schema.raw(`DELETE FROM ledger_entries WHERE order_id IN (SELECT id FROM orders WHERE video_id IS NULL)`)
    this.schema.raw(`DELETE FROM orders WHERE video_id IS NULL`)
    this.schema.raw('ALTER TABLE orders ALTER COLUMN video_id SET NOT NULL')
    this.schema.raw(`CREATE UNIQUE INDEX orders_one_paid_purchase ON orders (buyer_id, video_id) WHERE status IN ('paid', 'disputed')`)
    this.schema.alterTable('orders', (table) => {
      table.dropColumn('offer_id')
      table.dropColumn('offer_kind')
      table.dropColumn('offer_scope')
      table.dropColumn('offer_title')
    })
    this.schema.dropTable('offer_videos')
    this.schema.dropTable('offers')
  }
}
