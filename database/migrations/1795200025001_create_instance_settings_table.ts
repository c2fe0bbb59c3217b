import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Settings of the whole instance an admin changes at runtime (one row per
 * setting, its value as JSON): for now the default watermark mode of videos
 * that choose none.
 */
export default class extends BaseSchema {
  protected tableName = 'instance_settings'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('key', 64).primary()
      table.jsonb('value').notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
