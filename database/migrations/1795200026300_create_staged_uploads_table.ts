import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Resumable uploads in progress, whichever web node took their chunks: the
 * bytes wait in the shared upload store (S3 or a shared folder), and this
 * row says whose they are, how big, and when a chunk last arrived, so the
 * per-creator quota and the expiry hold across every node.
 */
export default class extends BaseSchema {
  protected tableName = 'staged_uploads'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('id', 128).primary()
      table.integer('owner_id').notNullable().references('id').inTable('users').onDelete('CASCADE')
      table.bigInteger('size').notNullable()
      table.timestamp('last_write_at', { useTz: true }).notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.index(['owner_id'])
      table.index(['last_write_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
