import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Storage prefixes that must go (a deleted video's files, its sessions'
 * renders). Written in the same transaction as the row deletion, removed once
 * the storage backend deleted them: a failed or interrupted deletion stays
 * here and a worker chore retries it.
 */
export default class extends BaseSchema {
  protected tableName = 'storage_deletions'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.bigIncrements('id')
      table.string('prefix', 512).notNullable().unique()
      table.integer('attempts').notNullable().defaultTo(0)
      table.text('last_error').nullable()
      table.timestamp('next_attempt_at').notNullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.index(['next_attempt_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
