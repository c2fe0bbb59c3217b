import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import Offer from '#models/offer'
import type Order from '#models/order'
import type User from '#models/user'
import orders from '#services/order_service'
import checkouts from '#services/commerce/checkout'
import coupons from '#services/commerce/coupons'
import refunds from '#services/commerce/refunds'
import salesReports from '#services/sales_report_service'
import { LEDGER_CSV_COLUMNS } from '#services/commerce/ledger_export'
import { loggedIn } from '#tests/helpers/videos'
import { listedVideo, stripeForGroup } from '#tests/helpers/commerce'
import type { StripeStandIn } from '#tests/helpers/stripe_stand_in'

/*
 * Money reports (issue 17, item 6): sales by offer type and by coupon, and
 * the ledger as CSV for a creator (their own) and for the admin (all),
 * which adds up to the ledger to the unit.
 */

/** RFC 4180: quoted fields may hold commas, quotes (doubled) and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++
      else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') row.push(field), (field = '')
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '')
    else if (c !== '\r') field += c
  }
  if (field || row.length) row.push(field), rows.push(row)
  return rows
}

function records(text: string) {
  const [header, ...rows] = parseCsv(text)
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]])))
}

async function payAtStripe(stripe: StripeStandIn, order: Order) {
  await stripe.pay(order.checkoutUrl!.split('/c/pay/')[1])
  await order.refresh()
  return order
}

async function offer(creator: User, fields: Partial<Offer>) {
  return Offer.create({ id: randomUUID(), creatorId: creator.id, currency: 'USD', active: true, priceMinor: 1000, ...fields })
}

test.group('Money reports', (group) => {
  const stripe = stripeForGroup(group)

  test('sales by offer type and by coupon; the CSV of a creator (their own) and of the admin (all) adds up to the ledger', async ({ assert }) => {
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const { user: rival } = await loggedIn('rival', 'creator')
    const { client: adminClient } = await loggedIn('boss', 'admin')
    const buyers = await Promise.all(['ann', 'bob', 'cy', 'dee'].map(async (name) => (await loggedIn(name)).user))
    // A title a spreadsheet must not break on, nor run as a formula.
    const video = await listedVideo(creator, { priceMinor: 1000, title: '=Cats, "dogs"\nand more' })
    const other = await listedVideo(creator, { priceMinor: 800, title: 'Other' })
    const rivalVideo = await listedVideo(rival, { priceMinor: 500 })
    const rental = await offer(creator, { kind: 'rental', scope: 'video', videoId: video.id, priceMinor: 300, rentalHours: 48, startWindowDays: 30 })
    const bundle = await offer(creator, { kind: 'purchase', scope: 'bundle', priceMinor: 1500, title: 'Both' })
    await db.table('offer_videos').multiInsert([
      { offer_id: bundle.id, video_id: video.id, position: 0 },
      { offer_id: bundle.id, video_id: other.id, position: 1 },
    ])
    const pass = await offer(creator, { kind: 'pass', scope: 'creator', passDays: 30, priceMinor: 2000 })
    await coupons.create(creator, { code: 'HALF', percentOff: 50 }, { platform: false })
    await coupons.create(creator, { code: 'FREE', percentOff: 100 }, { platform: false })

    const bought = await payAtStripe(stripe, await checkouts.checkout(buyers[0], video.id, 'stripe', { coupon: 'half' }))
    await payAtStripe(stripe, await checkouts.checkoutOffer(buyers[1], rental.id, 'stripe'))
    await payAtStripe(stripe, await checkouts.checkoutOffer(buyers[2], bundle.id, 'stripe'))
    const passOrder = await payAtStripe(stripe, await checkouts.checkoutOffer(buyers[3], pass.id, 'stripe'))
    await checkouts.checkout(buyers[1], other.id, 'stripe', { coupon: 'FREE' })
    await payAtStripe(stripe, await checkouts.checkout(buyers[0], rivalVideo.id, 'stripe'))
    await refunds.refund(creator, passOrder.id, { amountMinor: 777 })
    await refunds.refund(creator, bought.id)
    await stripe.settled()
    assert.deepEqual(await orders.ledgerMismatches(), [])

    const byType = await salesReports.byOfferType(creator.id)
    assert.deepEqual(
      byType.map((row) => [row.type, row.sales, row.refunds, row.discount]).sort(),
      [
        ['bundle', 1, 0, 0],
        ['pass', 1, 0, 0],
        ['purchase', 2, 1, 1300],
        ['rental', 1, 0, 0],
      ]
    )
    const byCoupon = await salesReports.byCoupon(creator.id)
    assert.deepEqual(byCoupon.map((row) => [row.code, row.uses, row.discount, row.net]).sort(), [
      ['FREE', 1, 800, 0],
      ['HALF', 1, 500, 0],
    ])

    // The creator's CSV: their orders only, each row adding up, the whole adding up to their ledger.
    const response = await creatorClient.get('/studio/sales/ledger.csv')
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type')!, /^text\/csv/)
    assert.include(response.headers.get('content-disposition')!, 'attachment')
    const [header] = parseCsv(response.text)
    assert.deepEqual(header, [...LEDGER_CSV_COLUMNS])
    const rows = records(response.text)
    const sum = (list: typeof rows, column: string) => list.reduce((total, row) => total + Number(row[column]), 0)
    for (const row of rows) {
      assert.equal(Number(row.gross_minor) - Number(row.discount_minor), Number(row.net_minor))
      assert.equal(Number(row.fees_minor) + Number(row.platform_share_minor) + Number(row.creator_share_minor), Number(row.net_minor))
      assert.equal(row.creator, 'maker')
      assert.equal(Number(row.net), Number(row.net_minor) / 100)
    }
    const ledger = await db
      .from('ledger_entries as le')
      .join('orders as o', 'o.id', 'le.order_id')
      .where('o.creator_id', creator.id)
      .select('le.account')
      .sum('le.amount_minor as total')
      .groupBy('le.account')
    const byAccount = Object.fromEntries(ledger.map((row) => [row.account, Number(row.total)]))
    assert.equal(sum(rows, 'creator_share_minor'), byAccount.creator)
    assert.equal(sum(rows, 'platform_share_minor'), byAccount.platform)
    assert.equal(sum(rows, 'fees_minor'), byAccount.provider_fee)
    // One row per order per event: 6 payments (one at 0) and 2 refunds.
    assert.deepEqual(rows.map((row) => row.event).sort(), ['payment', 'payment', 'payment', 'payment', 'payment', 'refund', 'refund'].sort())
    assert.lengthOf(rows, 7)
    const coupon = rows.find((row) => row.coupon === 'FREE')!
    assert.deepEqual([coupon.gross_minor, coupon.discount_minor, coupon.net_minor, coupon.provider], ['800', '800', '0', 'coupon'])
    const half = rows.find((row) => row.coupon === 'HALF' && row.event === 'payment')!
    assert.deepEqual([half.gross, half.discount, half.net], ['10.00', '5.00', '5.00'])
    assert.equal(half.provider_reference, bought.paymentReference)
    // The awkward title survives quoting, and cannot run as a formula.
    assert.equal(rows.find((row) => row.offer_kind === 'purchase' && row.coupon === 'HALF')!.offer, `'=Cats, "dogs"\nand more`)

    // The admin's CSV: everything, the rival's sale too; it adds up to the whole ledger.
    const all = records((await adminClient.get('/admin/orders/ledger.csv')).text)
    assert.lengthOf(all, 8)
    const total = await db.from('ledger_entries').sum('amount_minor as total')
    assert.equal(sum(all, 'net_minor'), Number(total[0].total))
    // Others may not download it.
    assert.equal((await creatorClient.get('/admin/orders/ledger.csv')).status, 403)

    // The pages show the reports.
    const sales = await creatorClient.visit('/studio/sales')
    assert.include(sales.text, 'data-offer-type="rental"')
    assert.include(sales.text, 'data-coupon-sales="HALF"')
    const list = await creatorClient.visit('/studio/coupons')
    assert.include(list.text, 'data-coupon-row="HALF"')
    assert.match(list.text, /data-uses="1"/)
  })
})
