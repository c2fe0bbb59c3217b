import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'plugin_settings'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('plugin', 100).primary()
      table.jsonb('values').notNullable().defaultTo('{}')
      table.timestamp('updated_at').notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
