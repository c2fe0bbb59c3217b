import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { LeakTraceSchema } from '#database/schema'
import Video from '#models/video'

export const LEAK_TRACE_STATUSES = ['queued', 'running', 'done', 'refused', 'failed'] as const
export type LeakTraceStatus = (typeof LEAK_TRACE_STATUSES)[number]

/** A leaked clip an admin asked to trace, and (once the worker ran) its verdict. */
export default class LeakTrace extends LeakTraceSchema {
  static table = 'leak_traces'
  declare status: LeakTraceStatus

  @belongsTo(() => Video)
  declare video: BelongsTo<typeof Video>
}
