import db from '@adonisjs/lucid/services/db'
import type { PayoutAccount, PayoutAccounts } from '#hooks/define_plugin'

/**
 * Accounts creators connected at a payment provider (Stripe Connect...).
 * Providers write them through `api.payments.payoutAccounts`; the core reads
 * them when an order is made, to decide who collects the money.
 */
export class PayoutAccountService implements PayoutAccounts {
  async get(providerId: string, userId: number): Promise<PayoutAccount | null> {
    const row = await db.from('payout_accounts').where({ provider: providerId, user_id: userId }).first()
    return row ? { accountRef: row.account_ref, ready: row.ready } : null
  }

  async set(providerId: string, userId: number, account: PayoutAccount) {
    const now = new Date()
    await db
      .table('payout_accounts')
      .insert({ provider: providerId, user_id: userId, account_ref: account.accountRef, ready: account.ready, created_at: now, updated_at: now })
      .onConflict(['user_id', 'provider'])
      .merge(['account_ref', 'ready', 'updated_at'])
  }

  async remove(providerId: string, userId: number) {
    await db.from('payout_accounts').where({ provider: providerId, user_id: userId }).delete()
  }
}

const payoutAccounts = new PayoutAccountService()
export default payoutAccounts
