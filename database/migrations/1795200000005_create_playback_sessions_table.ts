import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  async up() {
    this.schema.createTable('playback_sessions', (table) => {
      table.uuid('id').primary()
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.uuid('video_id').notNullable().references('videos.id').onDelete('CASCADE')
      // Random id kept in the viewer's web session: reopening a video in the
      // same browser replaces that browser's session instead of adding one.
      table.string('device_id', 64).notNullable()
      table.string('user_agent', 512).notNullable().defaultTo('')
      table.boolean('watermarked').notNullable()
      table.string('watermark_text', 200).nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('expires_at').notNullable()
      table.timestamp('last_seen_at').notNullable()
      table.timestamp('revoked_at').nullable()
      table.string('revoke_reason', 32).nullable()
      // When the session's just-in-time segments were deleted from storage.
      table.timestamp('media_purged_at').nullable()
      table.index(['user_id', 'revoked_at'])
      table.index(['video_id'])
    })
    this.schema.raw(
      `CREATE INDEX playback_sessions_unpurged_idx ON playback_sessions (expires_at) WHERE watermarked AND media_purged_at IS NULL`
    )

    this.schema.createTable('watch_positions', (table) => {
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.uuid('video_id').notNullable().references('videos.id').onDelete('CASCADE')
      table.double('position_seconds').notNullable()
      table.timestamp('updated_at').notNullable()
      table.primary(['user_id', 'video_id'])
    })
  }

  async down() {
    this.schema.dropTable('watch_positions')
    this.schema.dropTable('playback_sessions')
  }
}
