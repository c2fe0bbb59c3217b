import { LedgerEntrySchema } from '#database/schema'
import { column } from '@adonisjs/lucid/orm'
import { bigintAsNumber } from '#models/column_types'

export type LedgerAccount = 'creator' | 'platform' | 'provider_fee'
export type LedgerKind = 'payment' | 'refund' | 'dispute'

/**
 * One line of the ledger. A payment writes one line per account whose sum is
 * exactly the amount paid; a refund writes lines summing to minus the amount
 * given back (who paid what back: the creator's share reversed, the
 * platform's fee refunded; the provider keeps its fee, borne by the
 * platform); a lost dispute writes the same for the disputed amount plus the
 * provider's dispute fee (platform −fee, provider_fee +fee).
 */
export default class LedgerEntry extends LedgerEntrySchema {
  static table = 'ledger_entries'

  declare account: LedgerAccount
  declare kind: LedgerKind

  @column({ consume: bigintAsNumber })
  declare amountMinor: number
}
