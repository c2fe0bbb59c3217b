import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A leaked clip an admin uploaded to trace (Admin → Videos → Trace a leak):
 * the worker's `forensic_trace` job fills in the verdict, the result page
 * shows it.
 */
export default class extends BaseSchema {
  protected tableName = 'leak_traces'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.uuid('video_id').notNullable().references('id').inTable('videos').onDelete('CASCADE')
      table.integer('requested_by').nullable().references('id').inTable('users').onDelete('SET NULL')
      table.string('status', 16).notNullable().defaultTo('queued')
      table.string('clip_key').nullable()
      table.jsonb('result').nullable()
      table.text('error').nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
    this.schema.raw(`ALTER TABLE leak_traces ADD CONSTRAINT leak_traces_status_check CHECK (status IN ('queued','running','done','refused','failed'))`)
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
