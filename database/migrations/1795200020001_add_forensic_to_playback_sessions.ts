import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A session served forensic A/B variants (segment i is the variant its code
 * selects). Decided at open from the video's mode, the renditions that have
 * variants and the render pool's load; `watermarked` still says whether it
 * gets the visible just-in-time render (both: drawn on the chosen variant).
 */
export default class extends BaseSchema {
  protected tableName = 'playback_sessions'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.boolean('forensic').notNullable().defaultTo(false)
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('forensic')
    })
  }
}
