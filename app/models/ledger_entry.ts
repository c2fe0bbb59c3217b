import { LedgerEntrySchema } from '#database/schema'
import { column } from '@adonisjs/lucid/orm'
import { bigintAsNumber } from '#models/column_types'

export type LedgerAccount = 'creator' | 'platform' | 'provider_fee'
export type LedgerKind = 'payment' | 'refund'

/**
 * One line of the ledger. A payment writes one line per account whose sum is
 * exactly the amount paid; a refund writes the same lines negated.
 */
export default class LedgerEntry extends LedgerEntrySchema {
  static table = 'ledger_entries'

  declare account: LedgerAccount
  declare kind: LedgerKind

  @column({ consume: bigintAsNumber })
  declare amountMinor: number
}
