import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'videos'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.uuid('id').primary().defaultTo(this.raw('gen_random_uuid()'))
      table.integer('owner_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.string('title', 200).notNullable()
      table.text('description').notNullable().defaultTo('')
      // Money in the currency's minor unit (cents); never a float.
      table.bigInteger('price_minor').notNullable().defaultTo(0)
      table.string('currency', 3).notNullable().defaultTo('USD')
      table.enum('visibility', ['draft', 'published']).notNullable().defaultTo('draft')
      table
        .enum('status', ['uploaded', 'queued', 'processing', 'ready', 'failed'])
        .notNullable()
        .defaultTo('uploaded')
      table.integer('progress').notNullable().defaultTo(0)
      table.integer('attempts').notNullable().defaultTo(0)
      table.text('last_error').nullable()
      table.string('source_key', 512).notNullable()
      table.string('source_filename', 255).notNullable()
      table.bigInteger('source_size').notNullable()
      table.double('duration_seconds').nullable()
      table.integer('width').nullable()
      table.integer('height').nullable()
      table.string('poster_key', 512).nullable()
      table.boolean('custom_poster').notNullable().defaultTo(false)
      table.string('hls_prefix', 512).nullable()
      table.jsonb('renditions').nullable()
      table.jsonb('sprite').nullable()
      table.timestamp('processing_started_at').nullable()
      table.timestamp('ready_at').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').nullable()
      table.index(['status'])
      table.index(['owner_id'])
    })
    this.schema.raw(
      `CREATE INDEX videos_catalog_idx ON videos (created_at DESC) WHERE status = 'ready' AND visibility = 'published'`
    )
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
