import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Segment-parallel transcoding (issue 19): a long video's transcode is cut
 * into chunks that any worker encodes, then joined. Each chunk's state lives
 * here, not only in Redis, so a worker's death or a Redis restart loses no
 * chunk: the reconciler re-enqueues what this table says is unfinished.
 *
 * One row per chunk of one plan (`generation` is the video's attempt that
 * planned it: rows of an older attempt are ignored and replaced).
 * `kind` video: frames [start_frame, start_frame + frame_count) of every
 * rendition (and forensic variant); `audio`: the whole soundtrack, the
 * poster and the thumbnail sprite (AAC encoded in one piece: chunked AAC
 * clicks at every join); `join`: the last piece, which stitches the others
 * into the video's HLS ladder once they are all done.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('transcode_chunks', (table) => {
      table.bigIncrements('id')
      table.uuid('video_id').notNullable().references('videos.id').onDelete('CASCADE')
      table.integer('generation').notNullable()
      table.integer('index').notNullable()
      table.enum('kind', ['video', 'audio', 'join']).notNullable()
      table.integer('start_frame').notNullable()
      table.integer('frame_count').notNullable()
      table.enum('status', ['pending', 'encoding', 'done', 'failed']).notNullable().defaultTo('pending')
      /** Attempts started (counted when they start, so a run whose worker died counts). */
      table.integer('attempts').notNullable().defaultTo(0)
      /** 0..1 of this chunk's work. */
      table.double('progress').notNullable().defaultTo(0)
      /** The worker (host:pid) running or last running it. */
      table.string('worker', 200).nullable()
      table.text('last_error').nullable()
      /** What the chunk encodes: the ladder, frame rate, source facts, forensic choice (the same for every chunk of a plan). */
      table.jsonb('plan').notNullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.unique(['video_id', 'generation', 'index'])
    })
  }

  async down() {
    this.schema.dropTable('transcode_chunks')
  }
}
