import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * What a video occupies in storage (source, renditions, poster, sprite),
 * measured when its transcode finishes: the instance overview sums it per
 * creator without listing the storage on every page view.
 */
export default class extends BaseSchema {
  protected tableName = 'videos'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.bigInteger('stored_bytes').nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('stored_bytes')
    })
  }
}
