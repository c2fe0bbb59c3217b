import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Subtitles a creator uploaded for a video, one file per language (stored as
 * WebVTT under the video's storage prefix; see storage_keys.captionKey).
 */
export default class extends BaseSchema {
  protected tableName = 'video_captions'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.uuid('video_id').notNullable().references('id').inTable('videos').onDelete('CASCADE')
      // A BCP 47 tag in canonical case (en, pt-BR, zh-Hant).
      table.string('language', 35).notNullable()
      table.string('label', 100).notNullable()
      table.integer('size_bytes').notNullable()
      table.integer('cue_count').notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['video_id', 'language'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
