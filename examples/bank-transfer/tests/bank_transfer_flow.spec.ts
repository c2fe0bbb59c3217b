import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
// The host's test helpers, by relative path: `#tests/...` is the host package's import map.
import { resetState } from '../../../tests/helpers/state.js'
import { loggedIn } from '../../../tests/helpers/videos.js'
import { ledgerOf, listedVideo, onlyOrder, paymentEventOutcomes } from '../../../tests/helpers/commerce.js'
import { fieldErrorsIn, type WebClient } from '../../../tests/helpers/web_client.js'
import { fireAction } from '../../../tests/helpers/plugins.js'
import { isValidPaymentReference, paymentReferenceFor } from '../src/reference.js'
import { BANK_DETAILS } from './bank_details_fixture.js'

const SETTINGS = '/admin/plugins/bank-transfer/settings'
const TRANSFERS = '/plugins/bank-transfer/transfers'
const markPaidUrl = (orderId: string) => `${TRANSFERS}/${orderId}/mark-paid`

async function setBankDetails(admin: WebClient, fields: Record<string, string> = BANK_DETAILS) {
  return admin.submit(SETTINGS, SETTINGS, fields)
}

/** Presses "Pay by bank transfer" on the video page. */
async function payByTransfer(buyer: WebClient, videoId: string) {
  return buyer.submit(`/videos/${videoId}`, `/videos/${videoId}/checkout`, { provider: 'bank-transfer' })
}

async function markPaid(admin: WebClient, orderId: string, amountReceived: string) {
  const response = await admin.submit(TRANSFERS, markPaidUrl(orderId), { amount_received: amountReceived })
  if (response.status !== 302 || response.location !== TRANSFERS) {
    throw new Error(`mark paid answered ${response.status} → ${response.location}`)
  }
  return (await admin.get(TRANSFERS)).text
}

async function auditRows() {
  return db.from('audit_logs').orderBy('id')
}

/** A buyer with a pending bank-transfer order for a €12.50 video, bank details set by `admin`. */
async function pendingTransfer() {
  const { user: admin, client: adminClient } = await loggedIn('root', 'admin')
  await setBankDetails(adminClient)
  const { user: creator } = await loggedIn('maker', 'creator')
  const video = await listedVideo(creator, { priceMinor: 1250, currency: 'EUR', title: 'The Heist' })
  const { user: buyer, client: buyerClient } = await loggedIn('buyer')
  const checkout = await payByTransfer(buyerClient, video.id)
  const order = await onlyOrder()
  return { admin, adminClient, video, buyer, buyerClient, checkout, order }
}

test.group('Bank transfer: paying', (group) => {
  group.each.setup(() => resetState())

  test('the buyer gets the bank details, amount and reference; an admin marks it paid and the buyer can watch, once', async ({ assert }) => {
    const { admin, adminClient, video, buyer, buyerClient, checkout, order } = await pendingTransfer()
    assert.equal(checkout.status, 303)
    assert.equal(checkout.location, `/orders/${order.id}/complete`)
    assert.equal(order.provider, 'bank-transfer')
    assert.equal(order.status, 'pending')
    assert.equal(order.amountMinor, 1250)
    // Transfers take days: the order waits a week, not the hour card checkouts get.
    assert.approximately(order.expiresAt.diffNow('days').days, 7, 0.01)

    const unpaid = await buyerClient.visit(`/videos/${video.id}`)
    assert.include(unpaid.text, 'Pay €12.50 by bank transfer')
    assert.notInclude(unpaid.text, 'data-player')

    const reference = paymentReferenceFor(order.id)
    assert.isTrue(isValidPaymentReference(reference))
    const orderPage = await buyerClient.visit(`/orders/${order.id}/complete`)
    assert.include(orderPage.text, `data-reference="${reference}"`)
    assert.match(orderPage.text, /Transfer exactly <strong data-amount>€12\.50<\/strong>/)
    assert.include(orderPage.text, '<code data-iban>DE89 3704 0044 0532 0130 00</code>')
    assert.include(orderPage.text, '<code data-bic>COBADEFFXXX</code>')
    assert.include(orderPage.text, '<code data-account-holder>Matinee Films GmbH</code>')
    assert.include(orderPage.text, 'Commerzbank')
    assert.include(orderPage.text, 'Transfers from outside the EU may take a few days longer.')
    assert.include(orderPage.text, reference.replace(/(.{4})(?=.)/g, '$1 '))
    assert.equal((await buyerClient.api('GET', `/orders/${order.id}/status`)).body.status, 'pending')

    // Admins find the page from the admin console.
    assert.include((await adminClient.get('/admin/users')).text, `href="${TRANSFERS}"`)
    const list = await adminClient.get(TRANSFERS)
    assert.equal(list.status, 200)
    assert.include(list.text, `data-transfer-row="${order.id}"`)
    assert.include(list.text, 'buyer@example.com')
    assert.include(list.text, '€12.50')

    const afterMark = await markPaid(adminClient, order.id, '12.50')
    assert.include(afterMark, 'marked paid: buyer can now watch “The Heist”')
    assert.include(afterMark, 'data-no-transfers')
    await order.refresh()
    assert.equal(order.status, 'paid')
    assert.equal(order.paymentReference, reference)
    assert.equal((await buyerClient.api('GET', `/orders/${order.id}/status`)).body.status, 'paid')
    assert.include((await buyerClient.visit(`/orders/${order.id}/complete`)).text, 'The video is yours')
    assert.include((await buyerClient.visit('/library')).text, 'The Heist')
    assert.equal((await ledgerOf(order.id)).sum, 1250)

    // A second click (or a second admin) pays nothing more.
    const again = await markPaid(adminClient, order.id, '12.50')
    assert.include(again, 'was already paid; nothing changed')
    assert.equal((await ledgerOf(order.id)).sum, 1250)
    assert.deepEqual(
      (await paymentEventOutcomes()).map((row) => [row.event_id, row.outcome]),
      [[`bank-transfer:${order.id}:paid`, 'applied']]
    )
    const marks = (await auditRows()).filter((row) => row.action === 'bank-transfer.mark_paid')
    assert.lengthOf(marks, 1)
    assert.equal(marks[0].actor_id, admin.id)
    assert.equal(marks[0].subject_id, order.id)
    assert.equal(marks[0].target_user_id, buyer.id)
    assert.deepEqual(marks[0].after, { transfer: 'paid', reference, received: '12.50', currency: 'EUR' })
    assert.include((await adminClient.get('/admin/audit')).text, 'bank-transfer.mark_paid')
    const videoPage = await buyerClient.visit(`/videos/${video.id}`)
    assert.include(videoPage.text, 'data-player')
    assert.include(videoPage.text, 'You bought this video')
  })

  test('an amount other than the one due is refused and changes nothing', async ({ assert }) => {
    const { adminClient, order } = await pendingTransfer()
    const auditBefore = (await auditRows()).length

    assert.include(await markPaid(adminClient, order.id, '12.00'), '€12.00 received is not the €12.50 due. Nothing was marked paid')
    assert.include(await markPaid(adminClient, order.id, '12.5.0'), '&quot;12.5.0&quot; is not an amount in EUR (e.g. 12.50)')
    assert.include(await markPaid(adminClient, order.id, '12.505'), 'is not an amount in EUR')
    const page = await markPaid(adminClient, order.id, '')
    assert.include(page, 'enter the amount that arrived, e.g. 12.50')
    assert.include(page, `data-transfer-row="${order.id}"`)

    await order.refresh()
    assert.equal(order.status, 'pending')
    assert.lengthOf(await paymentEventOutcomes(), 0)
    assert.equal((await ledgerOf(order.id)).sum, 0)
    assert.lengthOf(await auditRows(), auditBefore)
  })

  test('viewers and creators get 403 on the admin page and its POST; a POST without the CSRF token is refused', async ({ assert }) => {
    const { adminClient, order } = await pendingTransfer()
    for (const role of ['viewer', 'creator'] as const) {
      const { client } = await loggedIn(`someone_${role}`, role)
      assert.equal((await client.get(TRANSFERS)).status, 403)
      assert.equal((await client.api('POST', markPaidUrl(order.id), { amount_received: '12.50' })).status, 403)
      const form = await client.submit('/', markPaidUrl(order.id), { amount_received: '12.50' })
      assert.equal(form.status, 403)
    }
    // The admin's browser posting a form from another site (no CSRF token): refused, nothing paid.
    await adminClient.request('POST', markPaidUrl(order.id), new URLSearchParams({ amount_received: '12.50' }))
    await order.refresh()
    assert.equal(order.status, 'pending')
    assert.lengthOf(await paymentEventOutcomes(), 0)
    assert.deepEqual(
      (await auditRows()).map((row) => row.action),
      ['plugin.settings']
    )
  })
})

test.group('Bank transfer: setting it up', (group) => {
  group.each.setup(() => resetState())

  test('without bank details checkout is refused with a clear message, and Admin → Plugins says why', async ({ assert }) => {
    const { client: adminClient } = await loggedIn('root', 'admin')
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 1250, currency: 'EUR' })
    const { client: buyerClient } = await loggedIn('buyer')

    const plugins = await adminClient.get('/admin/plugins')
    assert.match(
      plugins.text,
      /data-plugin="bank-transfer"[\s\S]*?data-plugin-health="off">\s*✘ Checkout refused until the bank details are set: account holder, IBAN, BIC, bank name missing/
    )

    const refused = await payByTransfer(buyerClient, video.id)
    assert.equal(refused.status, 302)
    assert.equal(refused.location, `/videos/${video.id}`)
    assert.include(
      (await buyerClient.visit(refused.location!)).text,
      'Bank transfer could not start the payment: bank transfers are not set up yet (the platform has not entered its bank details). Please choose another payment method.'
    )
    assert.notInclude((await adminClient.get(TRANSFERS)).text, 'data-transfer-row')
    const orders = await db.from('orders').select('status')
    assert.notInclude(orders.map((row) => row.status), 'pending')

    await setBankDetails(adminClient)
    assert.match((await adminClient.get('/admin/plugins')).text, /data-plugin="bank-transfer"[\s\S]*?data-plugin-health="ok">\s*✔ On: 0 transfers awaiting payment/)
  })

  test('a bad IBAN or BIC in the settings is refused and nothing is saved', async ({ assert }) => {
    const { client: adminClient } = await loggedIn('root', 'admin')
    await setBankDetails(adminClient)
    const saved = await adminClient.get(SETTINGS)
    assert.include(saved.text, 'value="DE89370400440532013000"')

    for (const [field, value] of [
      ['iban', 'DE89 3704 0044 0532 0130 01'], // one digit off: the check digits catch it
      ['iban', 'XX12 3456'],
      ['bic', 'COBA-DE'],
    ]) {
      const response = await setBankDetails(adminClient, { ...BANK_DETAILS, accountHolder: 'Someone Else', [field]: value })
      assert.equal(response.status, 302)
      const page = await adminClient.get(SETTINGS)
      assert.isNotEmpty(fieldErrorsIn(page.text, field), `${field} ${value}`)
    }

    const settingsPage = await adminClient.get(SETTINGS)
    assert.include(settingsPage.text, 'value="DE89370400440532013000"')
    assert.include(settingsPage.text, 'value="Matinee Films GmbH"')
    assert.deepEqual(
      (await auditRows()).map((row) => row.action),
      ['plugin.settings']
    )
  })

  test('make dev’s demo seeder fills in sample bank details, never over an admin’s', async ({ assert }) => {
    const { client: adminClient } = await loggedIn('root', 'admin')
    await fireAction('demo:seeded', { users: [] })
    const page = await adminClient.get(SETTINGS)
    assert.include(page.text, 'value="Matinee Demo (not a real account)"')
    assert.match((await adminClient.get('/admin/plugins')).text, /data-plugin="bank-transfer"[\s\S]*?data-plugin-health="ok"/)

    await resetState()
    const { client: otherAdmin } = await loggedIn('root', 'admin')
    await setBankDetails(otherAdmin, { accountHolder: 'Only This So Far' })
    await fireAction('demo:seeded', { users: [] })
    const kept = await otherAdmin.get(SETTINGS)
    assert.include(kept.text, 'value="Only This So Far"')
    assert.notInclude(kept.text, 'Demo Bank')
  })
})
