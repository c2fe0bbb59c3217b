import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { groupedInFours, isValidPaymentReference, paymentReferenceFor } from '../src/reference.js'
import { decimalOf, formatMoney, parseDecimal } from '../src/money.js'

test.group('Bank transfer: payment references', () => {
  test('follow ISO 11649 (RF + check digits), so banks catch a mistyped one', ({ assert }) => {
    // The standard's own example.
    assert.isTrue(isValidPaymentReference('RF18 5390 0754 7034'))
    assert.isFalse(isValidPaymentReference('RF18 5390 0754 7035'))
    assert.isFalse(isValidPaymentReference('RF19 5390 0754 7034'))
    assert.isFalse(isValidPaymentReference('order 42'))

    // Every single-character typo of the same kind (a digit for another digit, a letter for another
    // letter) is caught: ISO 11649's mod 97 guarantees that. (A letter typed as a digit changes the
    // length of the number it checks, and is caught only almost always.)
    for (let sample = 0; sample < 200; sample++) {
      const orderId = randomUUID()
      const reference = paymentReferenceFor(orderId)
      assert.match(reference, /^RF\d{2}[0-9A-F]{12}$/)
      assert.isTrue(isValidPaymentReference(reference))
      assert.equal(paymentReferenceFor(orderId), reference, 'derived from the order: the same every time')
      for (let index = 2; index < reference.length; index++) {
        const kind = /\d/.test(reference[index]) ? '0123456789' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
        for (const other of kind.replace(reference[index], '')) {
          const typo = reference.slice(0, index) + other + reference.slice(index + 1)
          if (isValidPaymentReference(typo)) assert.fail(`${typo} (a typo of ${reference}) passes the check`)
        }
      }
    }
  })

  test('are unique per order', ({ assert }) => {
    const references = new Set(Array.from({ length: 5000 }, () => paymentReferenceFor(randomUUID())))
    assert.equal(references.size, 5000)
    assert.throws(() => paymentReferenceFor('not-an-order'), /Not an order id/)
  })

  test('are printed in groups of four', ({ assert }) => {
    assert.equal(groupedInFours('RF18539007547034'), 'RF18 5390 0754 7034')
    assert.equal(groupedInFours('DE89370400440532013000'), 'DE89 3704 0044 0532 0130 00')
  })
})

test.group('Bank transfer: amounts an admin types', () => {
  test('are read in the currency’s minor units, without floats', ({ assert }) => {
    assert.equal(parseDecimal('12.50', 'EUR'), 1250)
    assert.equal(parseDecimal('12,5', 'EUR'), 1250)
    assert.equal(parseDecimal(' 12 ', 'EUR'), 1200)
    assert.equal(parseDecimal('0.29', 'EUR'), 29)
    assert.equal(parseDecimal('1500', 'JPY'), 1500)
    assert.equal(parseDecimal('1.234', 'KWD'), 1234)
    for (const bad of ['12.505', '12.5.0', '-12', '12e3', '', '1,234.50', '.5']) {
      assert.isNull(parseDecimal(bad, 'EUR'), bad)
    }
    assert.isNull(parseDecimal('15.5', 'JPY'))
  })

  test('are shown the way they are typed and read', ({ assert }) => {
    assert.equal(decimalOf({ amount: 1250, currency: 'EUR' }), '12.50')
    assert.equal(decimalOf({ amount: 5, currency: 'EUR' }), '0.05')
    assert.equal(decimalOf({ amount: 1500, currency: 'JPY' }), '1500')
    assert.equal(formatMoney({ amount: 1250, currency: 'EUR' }), '€12.50')
    assert.equal(formatMoney({ amount: 1500, currency: 'JPY' }), '¥1,500')
  })
})
