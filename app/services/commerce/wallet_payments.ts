import db from '@adonisjs/lucid/services/db'
import User from '#models/user'

/**
 * Which buyers a wallet paid for. On-chain providers (x402's chain watcher,
 * its HTTP 402 settlement) report the paying wallet as `details.payer` of
 * their `payment.succeeded` events; the core keeps every event it applied,
 * so a wallet's paid orders are found there, never in a provider's own state.
 */
export class WalletPayments {
  /**
   * The buyers of paid (not refunded) orders for `videoId` that `wallet`
   * paid, most recent first.
   */
  async buyersFor(wallet: string, videoId: string): Promise<User[]> {
    const rows: Array<{ buyer_id: number }> = await db
      .from('orders as o')
      .join('payment_events as e', 'e.order_id', 'o.id')
      .where('e.type', 'payment.succeeded')
      .where('e.outcome', 'applied')
      .whereRaw("lower(e.event->'details'->>'payer') = ?", [wallet.toLowerCase()])
      .where('o.video_id', videoId)
      .where('o.status', 'paid')
      .groupBy('o.buyer_id')
      .select('o.buyer_id')
      .orderByRaw('max(o.paid_at) desc')
    if (!rows.length) return []
    const users = await User.query().whereIn('id', rows.map((row) => row.buyer_id))
    return rows.map((row) => users.find((user) => user.id === row.buyer_id)!).filter(Boolean)
  }
}

const walletPayments = new WalletPayments()
export default walletPayments
