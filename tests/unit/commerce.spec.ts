import { test } from '@japa/runner'
import { fileURLToPath } from 'node:url'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import { PluginKernel } from '#hooks/plugin_kernel'
import { givenBackLines, platformFeeFor, proportionOf, splitPayment } from '#services/commerce/ledger'
import { CurrencyConfigError, CurrencyService } from '#services/currency_service'

const sum = (lines: Array<{ amountMinor: number }>) => lines.reduce((total, line) => total + line.amountMinor, 0)

test.group('Ledger split', () => {
  test('the platform fee rounds down, in favour of the creator', ({ assert }) => {
    assert.equal(platformFeeFor(999, 1000), 99)
    assert.equal(platformFeeFor(1, 1000), 0)
    assert.equal(platformFeeFor(1000, 0), 0)
    assert.equal(platformFeeFor(1000, 10_000), 1000)
  })

  test('lines always sum to the amount paid, whatever the fees', ({ assert }) => {
    for (const amountMinor of [1, 7, 50, 99, 100, 101, 999, 1000, 123_457, 99_999_999]) {
      for (const bps of [0, 1, 250, 1000, 3333, 10_000]) {
        for (const providerFeeMinor of [0, 1, 30, Math.floor(amountMinor / 2), amountMinor, amountMinor + 5]) {
          for (const payout of ['owed', 'direct'] as const) {
            const lines = splitPayment({ amountMinor, platformFeeMinor: platformFeeFor(amountMinor, bps), providerFeeMinor, payout })
            assert.equal(sum(lines), amountMinor)
            for (const line of lines) assert.isAtLeast(line.amountMinor, 0)
          }
        }
      }
    }
  })

  test('who bears the provider fee depends on who collected the money', ({ assert }) => {
    assert.deepEqual(splitPayment({ amountMinor: 1000, platformFeeMinor: 100, providerFeeMinor: 59, payout: 'owed' }), [
      { account: 'creator', amountMinor: 841 },
      { account: 'platform', amountMinor: 100 },
      { account: 'provider_fee', amountMinor: 59 },
    ])
    assert.deepEqual(splitPayment({ amountMinor: 1000, platformFeeMinor: 100, providerFeeMinor: 59, payout: 'direct' }), [
      { account: 'creator', amountMinor: 900 },
      { account: 'platform', amountMinor: 41 },
      { account: 'provider_fee', amountMinor: 59 },
    ])
    // No platform fee (a self-hoster) and no known provider fee: all to the creator.
    assert.deepEqual(splitPayment({ amountMinor: 500, platformFeeMinor: 0, providerFeeMinor: 0, payout: 'owed' }), [
      { account: 'creator', amountMinor: 500 },
      { account: 'platform', amountMinor: 0 },
    ])
  })
})

test.group('Ledger: money given back', () => {
  test('proportions are exact integers, rounded half up, even past 2^53', ({ assert }) => {
    assert.equal(proportionOf(100, 333, 1000), 33)
    assert.equal(proportionOf(100, 335, 1000), 34)
    assert.equal(proportionOf(841, 1000, 1000), 841)
    assert.equal(proportionOf(99_999_999, 99_999_998, 99_999_999), 99_999_998)
    assert.equal(proportionOf(5, 1, 0), 0)
  })

  test('partial refunds in any order give back each share exactly once the whole amount is back', ({ assert }) => {
    for (const amountMinor of [1, 7, 999, 1000, 123_457]) {
      for (const payout of ['owed', 'direct'] as const) {
        const paid = splitPayment({ amountMinor, platformFeeMinor: platformFeeFor(amountMinor, 1000), providerFeeMinor: Math.min(59, amountMinor), payout })
        const creatorShare = paid.find((line) => line.account === 'creator')!.amountMinor
        for (const parts of [[amountMinor], [1, amountMinor - 1], [Math.floor(amountMinor / 3), Math.floor(amountMinor / 3), amountMinor - 2 * Math.floor(amountMinor / 3)]]) {
          let givenBack = 0
          let creatorBack = 0
          const books = new Map(paid.map((line) => [line.account, line.amountMinor]))
          for (const now of parts.filter((part) => part > 0)) {
            // A destination charge's provider reverses the creator's share in proportion, as Stripe does.
            const reversedByProvider = proportionOf(creatorShare, givenBack + now, amountMinor)
            const lines = givenBackLines({
              payout,
              amountMinor,
              creatorShareMinor: creatorShare,
              givenBackBeforeMinor: givenBack,
              givenBackNowMinor: now,
              creatorReversedBeforeMinor: creatorBack,
              creatorReversedTotalMinor: payout === 'direct' ? reversedByProvider : undefined,
            })
            assert.equal(sum(lines), -now)
            for (const line of lines) books.set(line.account, (books.get(line.account) ?? 0) + line.amountMinor)
            givenBack += now
            creatorBack -= lines.find((line) => line.account === 'creator')!.amountMinor
          }
          assert.equal(books.get('creator'), 0, `${payout} ${amountMinor} in ${parts}`)
          // The provider keeps its fee; the platform bears it.
          assert.equal(books.get('platform'), -(books.get('provider_fee') ?? 0))
        }
      }
    }
  })

  test('a creator paid directly gives back only what the provider took back from them', ({ assert }) => {
    const base = { payout: 'direct' as const, amountMinor: 1000, creatorShareMinor: 900, givenBackBeforeMinor: 0, givenBackNowMinor: 1000, creatorReversedBeforeMinor: 0 }
    assert.deepEqual(givenBackLines({ ...base, creatorReversedTotalMinor: 900 }), [
      { account: 'creator', amountMinor: -900 },
      { account: 'platform', amountMinor: -100 },
    ])
    // The transfer was not reversed (a dashboard refund without it): the platform paid it all.
    assert.deepEqual(givenBackLines(base), [
      { account: 'creator', amountMinor: 0 },
      { account: 'platform', amountMinor: -1000 },
    ])
    // A provider that reports more than the creator's share cannot make the creator give back more.
    assert.deepEqual(givenBackLines({ ...base, creatorReversedTotalMinor: 5000 })[0], { account: 'creator', amountMinor: -900 })
  })
})

test.group('Display currencies', () => {
  const rates = new CurrencyService({ currencyBase: 'USD', currencyRates: 'IDR:17000,EUR:0.92,JPY:150' })

  test('converts exactly through the base, rounding half up into the target\'s minor unit', ({ assert }) => {
    assert.equal(rates.convert(499, 'USD', 'IDR'), 84_830) // IDR has no minor unit (ISO 4217)
    assert.equal(rates.convert(499, 'USD', 'EUR'), 459) // 4.5908 → 4.59
    assert.equal(rates.convert(100, 'EUR', 'USD'), 109) // 1 / 0.92 = 1.0869...
    assert.equal(rates.convert(1000, 'JPY', 'IDR'), 113_333)
    assert.equal(rates.convert(499, 'USD', 'USD'), 499)
    assert.isNull(rates.convert(499, 'USD', 'GBP'))
  })

  test('approximations are marked and skipped when they add nothing', ({ assert }) => {
    assert.equal(rates.approximate(499, 'USD', 'EUR'), '≈ €4.59')
    assert.isNull(rates.approximate(499, 'USD', 'USD'))
    assert.isNull(rates.approximate(0, 'USD', 'EUR'))
    assert.isNull(rates.approximate(499, 'USD', undefined))
    assert.equal(rates.describeRate('USD', 'IDR'), '1 USD ≈ 17,000 IDR')
  })

  test('the browser\'s language suggests a currency we have a rate for', ({ assert }) => {
    assert.equal(rates.fromAcceptLanguage('id-ID,id;q=0.9,en;q=0.8'), 'IDR')
    assert.equal(rates.fromAcceptLanguage('de-DE'), 'EUR')
    assert.equal(rates.fromAcceptLanguage('ja'), 'JPY')
    assert.isUndefined(rates.fromAcceptLanguage('en-GB')) // no GBP rate configured
    assert.isUndefined(rates.fromAcceptLanguage(undefined))
  })

  test('bad rate configuration stops with a clear message', ({ assert }) => {
    assert.throws(() => new CurrencyService({ currencyBase: 'USD', currencyRates: 'IDR=17000' }), CurrencyConfigError, /"IDR=17000" is not CODE:rate/)
    assert.throws(() => new CurrencyService({ currencyBase: 'USD', currencyRates: 'XXQ:2' }), /"XXQ:2"/)
    assert.throws(() => new CurrencyService({ currencyBase: 'USD', currencyRates: 'EUR:-1' }), /"EUR:-1"/)
    assert.throws(() => new CurrencyService({ currencyBase: 'USD', currencyRates: 'EUR:0' }), /"EUR:0"/)
    assert.throws(() => new CurrencyService({ currencyBase: 'DOLLARS', currencyRates: '' }), /CURRENCY_BASE "DOLLARS"/)
  })
})

test.group('Stripe plugin without keys', () => {
  test('registers no payment provider and tells admins which keys are missing', async ({ assert }) => {
    const kernel = new PluginKernel({ logger, appRoot: fileURLToPath(app.appRoot) })
    await kernel.boot([{ source: './plugins/stripe', options: { secretKey: 'sk_test_only_half' } }])
    assert.lengthOf(kernel.payments.all(), 0)
    const info = kernel.plugins.find((plugin) => plugin.name === 'stripe')!
    assert.deepEqual(await info.health!(), { ok: false, message: 'Off: no keys. Set STRIPE_WEBHOOK_SECRET to accept cards.' })
  })
})
