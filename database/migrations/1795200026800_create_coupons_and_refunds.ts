import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Coupons and refunds as records (issue 17, items 4 and 5).
 *
 * - `coupons`: a code a creator (their offers) or an admin (every creator's,
 *   `creator_id` null) hands out: percent off or a fixed amount off in one
 *   currency, limited by uses, uses per viewer and an expiry, for all of the
 *   creator's offers or chosen ones (`coupon_targets`).
 * - `coupon_targets`: what a chosen-offers coupon applies to: an offer, or a
 *   video's own buy price (`video_id`).
 * - `coupon_redemptions`: one per order that used a coupon. It holds its slot
 *   while its order is pending and unexpired, and for good once paid; an
 *   order that expired or failed frees it (the count joins the orders).
 * - orders keep the list price, the discount and the coupon.
 * - `refunds`: each refund an actor started (whole or partial). It is written
 *   `pending` and committed before the provider is called, outside the
 *   order's row lock; the result is recorded in a new transaction. A crash in
 *   between leaves the pending row visible and retriable; one pending refund
 *   per order at a time.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('coupons', (table) => {
      table.uuid('id').primary()
      // null: platform-wide (made by an admin), for every creator's offers.
      table.integer('creator_id').unsigned().nullable().references('users.id').onDelete('CASCADE')
      table.string('code', 40).notNullable()
      table.smallint('percent_off').nullable()
      table.bigInteger('amount_off_minor').nullable()
      table.string('currency', 3).nullable()
      table.integer('max_uses').nullable()
      table.integer('max_uses_per_viewer').nullable()
      table.timestamp('expires_at').nullable()
      // all: every offer (and buy price) of the creator (or of every creator); chosen: coupon_targets.
      table.string('applies_to', 8).notNullable().defaultTo('all')
      table.boolean('active').notNullable().defaultTo(true)
      table.integer('created_by').unsigned().nullable().references('users.id').onDelete('SET NULL')
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.index(['creator_id'])
    })
    // Codes are case-insensitive and unique per creator, and among platform-wide coupons.
    this.schema.raw('CREATE UNIQUE INDEX coupons_code_per_owner ON coupons (COALESCE(creator_id, 0), lower(code))')
    this.schema.raw(
      `ALTER TABLE coupons ADD CONSTRAINT coupons_one_discount CHECK (
         (percent_off IS NOT NULL AND percent_off BETWEEN 1 AND 100 AND amount_off_minor IS NULL)
         OR (percent_off IS NULL AND amount_off_minor > 0 AND currency IS NOT NULL))`
    )

    this.schema.createTable('coupon_targets', (table) => {
      table.bigIncrements('id')
      table.uuid('coupon_id').notNullable().references('coupons.id').onDelete('CASCADE')
      table.uuid('offer_id').nullable().references('offers.id').onDelete('CASCADE')
      table.uuid('video_id').nullable().references('videos.id').onDelete('CASCADE')
      table.index(['coupon_id'])
    })

    this.schema.alterTable('orders', (table) => {
      // What the item cost before the coupon; amount_minor is what the buyer pays.
      table.bigInteger('list_price_minor').nullable()
      table.bigInteger('discount_minor').notNullable().defaultTo(0)
      table.uuid('coupon_id').nullable().references('coupons.id').onDelete('RESTRICT')
      table.index(['coupon_id'])
    })

    this.schema.createTable('coupon_redemptions', (table) => {
      table.bigIncrements('id')
      table.uuid('coupon_id').notNullable().references('coupons.id').onDelete('CASCADE')
      table.uuid('order_id').notNullable().unique().references('orders.id').onDelete('CASCADE')
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.bigInteger('discount_minor').notNullable()
      table.timestamp('created_at').notNullable()
      table.index(['coupon_id', 'user_id'])
    })

    this.schema.createTable('refunds', (table) => {
      table.bigIncrements('id')
      table.uuid('order_id').notNullable().references('orders.id').onDelete('CASCADE')
      table.bigInteger('amount_minor').notNullable()
      table.string('currency', 3).notNullable()
      // pending (provider not yet answered, or a crash) → succeeded | failed
      table.string('status', 16).notNullable().defaultTo('pending')
      // Whether this refund ends the buyer's access (a whole refund always does).
      table.boolean('ends_access').notNullable().defaultTo(false)
      table.integer('actor_id').unsigned().nullable().references('users.id').onDelete('SET NULL')
      table.string('reason', 500).nullable()
      table.string('provider_reference', 255).nullable()
      table.string('error', 500).nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('completed_at').nullable()
      table.index(['order_id'])
    })
    this.schema.raw(`CREATE UNIQUE INDEX refunds_one_pending_per_order ON refunds (order_id) WHERE status = 'pending'`)
  }

  async down() {
    this.schema.dropTable('refunds')
    this.schema.dropTable('coupon_redemptions')
    this.schema.alterTable('orders', (table) => {
      table.dropColumn('coupon_id')
      table.dropColumn('discount_minor')
      table.dropColumn('list_price_minor')
    })
    this.schema.dropTable('coupon_targets')
    this.schema.dropTable('coupons')
  }
}
