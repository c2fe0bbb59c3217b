import { AuditLogSchema } from '#database/schema'
import { belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import User from '#models/user'
import { asJson } from '#models/column_types'

/** Who did what to whom, when, with the values before and after. */
export default class AuditLog extends AuditLogSchema {
  static table = 'audit_logs'

  @column({ prepare: asJson })
  declare before: Record<string, unknown> | null

  @column({ prepare: asJson })
  declare after: Record<string, unknown> | null

  @belongsTo(() => User, { foreignKey: 'actorId' })
  declare actor: BelongsTo<typeof User>

  @belongsTo(() => User, { foreignKey: 'targetUserId' })
  declare targetUser: BelongsTo<typeof User>
}
