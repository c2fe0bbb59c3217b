import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A video someone paid for is archived instead of deleted: out of the
 * catalog and no longer for sale, still playable by whoever holds it.
 */
export default class extends BaseSchema {
  protected tableName = 'videos'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.timestamp('archived_at').nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('archived_at')
    })
  }
}
