import { test } from '@japa/runner'
import { parseRateLimit, rateLimits } from '#config/limiter'

test.group('Rate limit settings', () => {
  test('<requests>/<duration> in seconds, minutes or hours', ({ assert }) => {
    assert.deepInclude(parseRateLimit('checkout', 'RATE_LIMIT_CHECKOUT', '20/10m'), { requests: 20, seconds: 600 })
    assert.deepInclude(parseRateLimit('checkout', 'RATE_LIMIT_CHECKOUT', ' 5 / 1h '), { requests: 5, seconds: 3600 })
    assert.deepInclude(parseRateLimit('checkout', 'RATE_LIMIT_CHECKOUT', '3/30s'), { requests: 3, seconds: 30 })
  })

  test('a malformed value is refused naming the variable', ({ assert }) => {
    for (const value of ['20', '20/10', '0/10m', '20/0m', 'ten/10m', '20/10d', '-1/5m']) {
      assert.throws(() => parseRateLimit('checkout', 'RATE_LIMIT_CHECKOUT', value), /^RATE_LIMIT_CHECKOUT: ".*" is not a rate limit/)
    }
  })

  test('every limit is named after its variable', ({ assert }) => {
    for (const limit of Object.values(rateLimits)) assert.equal(limit.variable, `RATE_LIMIT_${limit.name.toUpperCase()}`)
  })
})

test.group('TRUSTED_PROXIES', () => {
  test('empty trusts nobody; addresses and CIDRs are trusted; a typo is refused naming the variable', async ({ assert }) => {
    const { compileTrustedProxies } = await import('#config/app')
    assert.isFalse(compileTrustedProxies([])('127.0.0.1', 0))
    const trusted = compileTrustedProxies(['127.0.0.1', '10.0.0.0/8'])
    assert.isTrue(trusted('127.0.0.1', 0))
    assert.isTrue(trusted('10.20.30.40', 0))
    assert.isFalse(trusted('192.0.2.1', 0))
    assert.throws(() => compileTrustedProxies(['10.0.0.0/8', 'proxy.internal']), /^TRUSTED_PROXIES: invalid IP address: proxy\.internal/)
  })
})
