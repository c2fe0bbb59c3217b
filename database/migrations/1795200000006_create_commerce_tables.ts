import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Commerce: orders and their ledger, the payment events already applied
 * (idempotency), payout accounts creators connect at a provider, the
 * allowlist of free viewers, and the audit log. Money is bigint minor units.
 */
export default class extends BaseSchema {
  async up() {
    // Banned users cannot log in, buy or be allowlisted (admin console: issue 7).
    this.schema.alterTable('users', (table) => {
      table.timestamp('banned_at').nullable()
      table.string('ban_reason', 500).nullable()
    })

    this.schema.createTable('orders', (table) => {
      table.uuid('id').primary()
      table.uuid('video_id').notNullable().references('videos.id').onDelete('RESTRICT')
      table.integer('buyer_id').unsigned().notNullable().references('users.id').onDelete('RESTRICT')
      // The creator at the time of sale: the ledger owes them even if the video moves.
      table.integer('creator_id').unsigned().notNullable().references('users.id').onDelete('RESTRICT')
      table.string('provider', 64).notNullable()
      table
        .enum('status', ['pending', 'paid', 'refunded', 'expired', 'failed', 'underpaid'])
        .notNullable()
        .defaultTo('pending')
      table.bigInteger('amount_minor').notNullable()
      table.string('currency', 3).notNullable()
      // The split agreed when the order was made (fees may change later).
      table.integer('platform_fee_bps').notNullable()
      table.bigInteger('platform_fee_minor').notNullable()
      // 'direct': the provider pays the creator (e.g. a connected account);
      // 'owed': the platform collects and owes the creator their share.
      table.enum('creator_payout', ['direct', 'owed']).notNullable()
      table.string('payout_account', 255).nullable()
      // The provider's handle on the checkout (session id, invoice...) and on
      // the payment itself (what a refund needs).
      table.string('provider_reference', 255).nullable()
      table.string('payment_reference', 255).nullable()
      table.text('checkout_url').nullable()
      table.jsonb('checkout_action').nullable()
      table.string('failure_reason', 500).nullable()
      table.timestamp('expires_at').notNullable()
      table.timestamp('paid_at').nullable()
      table.timestamp('refunded_at').nullable()
      table.integer('refunded_by').unsigned().nullable().references('users.id').onDelete('SET NULL')
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.index(['buyer_id', 'status'])
      table.index(['creator_id', 'status'])
      table.index(['video_id', 'status'])
      table.index(['provider', 'provider_reference'])
    })
    // One paid purchase per viewer and video, whatever races happen.
    this.schema.raw(`CREATE UNIQUE INDEX orders_one_paid_purchase ON orders (buyer_id, video_id) WHERE status = 'paid'`)

    this.schema.createTable('ledger_entries', (table) => {
      table.bigIncrements('id')
      table.uuid('order_id').notNullable().references('orders.id').onDelete('RESTRICT')
      table.enum('kind', ['payment', 'refund']).notNullable()
      // creator: the creator's share; platform: the instance's fee;
      // provider_fee: what the payment provider kept.
      table.enum('account', ['creator', 'platform', 'provider_fee']).notNullable()
      table.integer('user_id').unsigned().nullable().references('users.id').onDelete('RESTRICT')
      table.bigInteger('amount_minor').notNullable()
      table.string('currency', 3).notNullable()
      table.timestamp('created_at').notNullable()
      table.index(['order_id'])
      table.index(['user_id', 'account'])
      table.index(['created_at'])
    })

    this.schema.createTable('payment_events', (table) => {
      table.bigIncrements('id')
      table.string('provider', 64).notNullable()
      table.string('event_id', 255).notNullable()
      table.string('type', 64).notNullable()
      table.uuid('order_id').nullable()
      // applied | ignored | deferred (waits for an earlier state) | rejected
      table.string('outcome', 16).notNullable()
      table.string('detail', 500).nullable()
      table.jsonb('event').notNullable()
      table.timestamp('received_at').notNullable()
      table.timestamp('processed_at').nullable()
      table.unique(['provider', 'event_id'])
      table.index(['order_id', 'outcome'])
    })

    this.schema.createTable('payout_accounts', (table) => {
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.string('provider', 64).notNullable()
      table.string('account_ref', 255).notNullable()
      table.boolean('ready').notNullable().defaultTo(false)
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.primary(['user_id', 'provider'])
    })

    this.schema.createTable('allowlist_entries', (table) => {
      table.uuid('video_id').notNullable().references('videos.id').onDelete('CASCADE')
      // By id: a renamed user keeps access.
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.integer('granted_by').unsigned().nullable().references('users.id').onDelete('SET NULL')
      table.string('note', 200).nullable()
      table.timestamp('created_at').notNullable()
      table.primary(['video_id', 'user_id'])
      table.index(['user_id'])
    })

    this.schema.createTable('audit_logs', (table) => {
      table.bigIncrements('id')
      table.integer('actor_id').unsigned().nullable().references('users.id').onDelete('SET NULL')
      table.string('action', 64).notNullable()
      table.string('subject_type', 32).notNullable()
      table.string('subject_id', 64).nullable()
      table.integer('target_user_id').unsigned().nullable().references('users.id').onDelete('SET NULL')
      table.jsonb('before').nullable()
      table.jsonb('after').nullable()
      table.string('summary', 500).notNullable()
      table.timestamp('created_at').notNullable()
      table.index(['created_at'])
      table.index(['subject_type', 'subject_id'])
      table.index(['action'])
    })
  }

  async down() {
    this.schema.dropTable('audit_logs')
    this.schema.dropTable('allowlist_entries')
    this.schema.dropTable('payout_accounts')
    this.schema.dropTable('payment_events')
    this.schema.dropTable('ledger_entries')
    this.schema.dropTable('orders')
    this.schema.alterTable('users', (table) => {
      table.dropColumn('banned_at')
      table.dropColumn('ban_reason')
    })
  }
}
