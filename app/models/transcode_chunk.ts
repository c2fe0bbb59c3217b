import { column } from '@adonisjs/lucid/orm'
import { TranscodeChunkSchema } from '#database/schema'
import { asJson, bigintAsNumber } from '#models/column_types'
import type { ChunkPlan } from '#services/media/chunks'

export type ChunkKind = 'video' | 'audio' | 'join'
export type ChunkStatus = 'pending' | 'encoding' | 'done' | 'failed'

/**
 * One piece of a segment-parallel transcode (app/services/media/chunked_transcode.ts):
 * its frames, its state and its progress, kept in PostgreSQL so that a
 * worker's death or a lost Redis loses nothing.
 */
export default class TranscodeChunk extends TranscodeChunkSchema {
  static table = 'transcode_chunks'

  @column({ isPrimary: true, consume: bigintAsNumber })
  declare id: number

  declare kind: ChunkKind
  declare status: ChunkStatus

  @column({ prepare: asJson })
  declare plan: ChunkPlan
}
