import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify'
import db from '@adonisjs/lucid/services/db'
import { minorToInput as minorToDecimal } from '#services/money'

/**
 * The ledger as an accountant reads it: one row per order per ledger event
 * (a payment, a refund, a dispute), streamed as CSV.
 *
 * - `gross`: what the event is worth before a coupon: the list price of a
 *   payment, minus what went back for a refund or a dispute;
 * - `discount`: what a coupon took off (payments only);
 * - `fees` (the payment provider's), `platform_share`, `creator_share`: the
 *   ledger lines of the event, which add up to `gross − discount`
 *   (`net`) on every row, so the file sums to the ledger exactly.
 * Amounts are decimal in the row's currency (a `_minor` column beside each
 * keeps the exact integer).
 */
export const LEDGER_CSV_COLUMNS = [
  'date',
  'order',
  'receipt',
  'event',
  'buyer',
  'creator',
  'offer_kind',
  'offer',
  'coupon',
  'currency',
  'gross',
  'discount',
  'net',
  'fees',
  'platform_share',
  'creator_share',
  'gross_minor',
  'discount_minor',
  'net_minor',
  'fees_minor',
  'platform_share_minor',
  'creator_share_minor',
  'provider',
  'provider_reference',
] as const

export interface LedgerEventRow {
  date: Date
  orderId: string
  kind: string
  currency: string
  netMinor: number
  feesMinor: number
  platformMinor: number
  creatorMinor: number
  discountMinor: number
  grossMinor: number
  buyer: string
  creator: string
  offerKind: string
  offer: string
  coupon: string
  provider: string
  providerReference: string
}

const BATCH = 2000

/** Ledger events of one creator's orders, or of all (`creatorId` undefined), oldest first, in batches (keyset). */
export async function* ledgerEvents(creatorId?: number): AsyncGenerator<LedgerEventRow> {
  let after: { createdAt: Date; orderId: string; kind: string } | null = null
  while (true) {
    const query = db
      .from('ledger_entries as le')
      .join('orders as o', 'o.id', 'le.order_id')
      .join('users as b', 'b.id', 'o.buyer_id')
      .join('users as c', 'c.id', 'o.creator_id')
      .leftJoin('coupons as cp', 'cp.id', 'o.coupon_id')
      .select('le.order_id', 'le.kind', 'le.created_at', 'le.currency')
      .select(db.raw('SUM(le.amount_minor) AS net'))
      .select(db.raw(`COALESCE(SUM(le.amount_minor) FILTER (WHERE le.account = 'provider_fee'), 0) AS fees`))
      .select(db.raw(`COALESCE(SUM(le.amount_minor) FILTER (WHERE le.account = 'platform'), 0) AS platform`))
      .select(db.raw(`COALESCE(SUM(le.amount_minor) FILTER (WHERE le.account = 'creator'), 0) AS creator_share`))
      .select('o.discount_minor', 'o.offer_kind', 'o.offer_title', 'o.provider', 'o.provider_reference', 'o.payment_reference')
      .select('b.username as buyer', 'c.username as creator', 'cp.code as coupon')
      .groupBy('le.order_id', 'le.kind', 'le.created_at', 'le.currency', 'o.id', 'b.username', 'c.username', 'cp.code')
      .orderBy([{ column: 'le.created_at' }, { column: 'le.order_id' }, { column: 'le.kind' }])
      .limit(BATCH)
    if (creatorId !== undefined) query.where('o.creator_id', creatorId)
    if (after) query.whereRaw('(le.created_at, le.order_id, le.kind) > (?, ?, ?)', [after.createdAt, after.orderId, after.kind])
    const rows = await query
    for (const row of rows) {
      const net = Number(row.net)
      const discount = row.kind === 'payment' ? Number(row.discount_minor ?? 0) : 0
      yield {
        date: new Date(row.created_at),
        orderId: row.order_id,
        kind: row.kind,
        currency: row.currency,
        netMinor: net,
        feesMinor: Number(row.fees),
        platformMinor: Number(row.platform),
        creatorMinor: Number(row.creator_share),
        discountMinor: discount,
        grossMinor: net + discount,
        buyer: row.buyer,
        creator: row.creator,
        offerKind: row.offer_kind,
        offer: row.offer_title ?? '',
        coupon: row.coupon ?? '',
        provider: row.provider,
        providerReference: row.payment_reference ?? row.provider_reference ?? '',
      }
    }
    if (rows.length < BATCH) return
    const last = rows[rows.length - 1]
    after = { createdAt: new Date(last.created_at), orderId: last.order_id, kind: last.kind }
  }
}

/** A receipt number as the buyer's receipt prints it (see Order.receiptNumber). */
function receiptOf(orderId: string) {
  return `M-${orderId.replace(/-/g, '').slice(0, 10).toUpperCase()}`
}

/**
 * The CSV stream (header, then a row per event). Cells that a spreadsheet
 * would run as a formula (a username starting with "=") are prefixed with
 * a quote mark, and csv-stringify quotes what needs it.
 */
export function ledgerCsv(creatorId?: number): Readable {
  const safe = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text)
  const money = (minor: number, currency: string) => minorToDecimal(minor, currency)
  const records = Readable.from(
    (async function* () {
      for await (const row of ledgerEvents(creatorId)) {
        yield [
          row.date.toISOString(),
          row.orderId,
          receiptOf(row.orderId),
          row.kind,
          safe(row.buyer),
          safe(row.creator),
          row.offerKind,
          safe(row.offer),
          safe(row.coupon),
          row.currency,
          money(row.grossMinor, row.currency),
          money(row.discountMinor, row.currency),
          money(row.netMinor, row.currency),
          money(row.feesMinor, row.currency),
          money(row.platformMinor, row.currency),
          money(row.creatorMinor, row.currency),
          row.grossMinor,
          row.discountMinor,
          row.netMinor,
          row.feesMinor,
          row.platformMinor,
          row.creatorMinor,
          row.provider,
          safe(row.providerReference),
        ]
      }
    })()
  )
  return records.pipe(stringify({ header: true, columns: [...LEDGER_CSV_COLUMNS], quoted_match: /[",\n\r]/ }))
}
