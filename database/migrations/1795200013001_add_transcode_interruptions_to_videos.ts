import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Transcode runs that started and never recorded an outcome (their worker
 * died or was stopped, and another worker took the job over). They count
 * as attempts; this count lets the final error say what happened.
 */
export default class extends BaseSchema {
  protected tableName = 'videos'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.integer('transcode_interruptions').notNullable().defaultTo(0)
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('transcode_interruptions')
    })
  }
}
