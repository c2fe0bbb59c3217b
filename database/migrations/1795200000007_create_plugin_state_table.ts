import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Small durable records a plugin keeps for itself through `api.state`
 * (a chain watcher's cursor, the quotes it signed...), one JSON value per key.
 */
export default class extends BaseSchema {
  protected tableName = 'plugin_state'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('plugin', 100).notNullable()
      table.string('key', 255).notNullable()
      table.jsonb('value').notNullable()
      table.timestamp('updated_at').notNullable()
      table.primary(['plugin', 'key'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
