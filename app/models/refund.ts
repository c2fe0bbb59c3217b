import { RefundSchema } from '#database/schema'
import { belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Order from '#models/order'
import User from '#models/user'
import { bigintAsNumber } from '#models/column_types'

export type RefundStatus = 'pending' | 'succeeded' | 'failed'

/**
 * A refund someone started (whole or partial). `pending` is committed before
 * the provider is called (outside the order's row lock); the answer is
 * recorded afterwards. A refund still pending after a crash is shown and can
 * be retried: the provider call carries the refund's id as its idempotency
 * key, so a retry never gives money back twice.
 */
export default class Refund extends RefundSchema {
  static table = 'refunds'

  declare status: RefundStatus

  @column({ isPrimary: true, consume: bigintAsNumber })
  declare id: number

  @column({ consume: bigintAsNumber })
  declare amountMinor: number

  @belongsTo(() => Order)
  declare order: BelongsTo<typeof Order>

  @belongsTo(() => User, { foreignKey: 'actorId' })
  declare actor: BelongsTo<typeof User>
}
