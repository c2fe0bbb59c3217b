import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'videos'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      // null: automatic (on for paid videos); true/false: the creator's choice.
      table.boolean('watermark_enabled').nullable()
      // A taken-down video plays for nobody and leaves the catalog.
      table.timestamp('taken_down_at').nullable()
      table.text('takedown_reason').nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumns('watermark_enabled', 'taken_down_at', 'takedown_reason')
    })
  }
}
