import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Memberships (issue 17 item 3): a viewer's subscription to a creator's
 * membership offer, billed again every month by a provider that can
 * (Stripe Billing). Each paid invoice becomes a paid order; the viewer's
 * membership entitlement (one row per subscription, `entitlements.subscription_id`)
 * follows the paid period plus a grace period.
 *
 * status: incomplete (checkout started, nothing paid yet) → active → past_due
 * (a renewal failed; access continues through the grace period) → canceled
 * (the viewer cancelled: access to the end of the paid period) → ended.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('subscriptions', (table) => {
      table.bigIncrements('id')
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.uuid('offer_id').notNullable().references('offers.id').onDelete('RESTRICT')
      table.integer('creator_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.string('provider', 64).notNullable()
      // The provider's ids: its subscription, its customer (bound by the first verified event).
      table.string('provider_subscription_ref', 255).nullable()
      table.string('provider_customer_ref', 255).nullable()
      // The checkout that started it (a Checkout Session), and where the buyer pays.
      table.string('checkout_reference', 255).nullable()
      table.text('checkout_url').nullable()
      table.enum('status', ['incomplete', 'active', 'past_due', 'canceled', 'ended']).notNullable().defaultTo('incomplete')
      // The price agreed at checkout (what each invoice must be paid in).
      table.bigInteger('price_minor').notNullable()
      table.string('currency', 3).notNullable()
      // What the provider says of the current period (it moves forward when a renewal invoice is made, paid or not).
      table.timestamp('current_period_end').nullable()
      // The end of the last period an invoice paid for: access runs to here (+ grace while renewing).
      table.timestamp('paid_through').nullable()
      table.boolean('cancel_at_period_end').notNullable().defaultTo(false)
      table.timestamp('canceled_at').nullable()
      table.timestamp('ended_at').nullable()
      table.string('last_failure', 500).nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.index(['user_id', 'status'])
      table.index(['creator_id'])
    })
    this.schema.raw(
      `CREATE UNIQUE INDEX subscriptions_provider_ref ON subscriptions (provider, provider_subscription_ref) WHERE provider_subscription_ref IS NOT NULL`
    )
    // One running subscription per viewer and membership.
    this.schema.raw(
      `CREATE UNIQUE INDEX subscriptions_one_running ON subscriptions (user_id, offer_id) WHERE status IN ('active', 'past_due', 'canceled')`
    )
    // One live membership offer per creator (the Studio edits it in place).
    this.schema.raw(`CREATE UNIQUE INDEX offers_one_membership_per_creator ON offers (creator_id) WHERE kind = 'membership' AND active`)
    // Each paid invoice is one order: the provider's invoice id is its reference, once.
    this.schema.raw(
      `CREATE UNIQUE INDEX orders_one_per_invoice ON orders (provider, provider_reference) WHERE offer_kind = 'membership' AND provider_reference IS NOT NULL`
    )
    this.schema.alterTable('orders', (table) => {
      table.bigInteger('subscription_id').nullable().references('subscriptions.id').onDelete('SET NULL')
      table.index(['subscription_id'])
    })
    this.schema.raw(
      `ALTER TABLE entitlements ADD CONSTRAINT entitlements_subscription_fk FOREIGN KEY (subscription_id) REFERENCES subscriptions (id) ON DELETE CASCADE`
    )
    this.schema.raw(`CREATE UNIQUE INDEX entitlements_one_per_subscription ON entitlements (subscription_id) WHERE subscription_id IS NOT NULL`)
  }

  async down() {
    this.schema.raw('DROP INDEX IF EXISTS entitlements_one_per_subscription')
    this.schema.raw('ALTER TABLE entitlements DROP CONSTRAINT IF EXISTS entitlements_subscription_fk')
    this.schema.alterTable('orders', (table) => {
      table.dropColumn('subscription_id')
    })
    this.schema.raw('DROP INDEX IF EXISTS orders_one_per_invoice')
    this.schema.raw('DROP INDEX IF EXISTS offers_one_membership_per_creator')
    this.schema.dropTable('subscriptions')
  }
}
