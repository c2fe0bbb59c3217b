import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * How a video is protected: `off`, `visible` (the just-in-time render naming
 * the viewer), `forensic` (A/B variants made at transcode time) or `both`.
 * Null keeps the decision videos had before modes existed: the creator's
 * watermark switch, else visible for paid videos (see Video.watermarkMode).
 */
export default class extends BaseSchema {
  protected tableName = 'videos'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.string('watermark_mode', 16).nullable()
    })
    this.defer(async (db) => {
      await db.rawQuery(
        `ALTER TABLE videos ADD CONSTRAINT videos_watermark_mode_check CHECK (watermark_mode IN ('off', 'visible', 'forensic', 'both'))`
      )
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('watermark_mode')
    })
  }
}
