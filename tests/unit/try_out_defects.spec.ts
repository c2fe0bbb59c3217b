import { test } from '@japa/runner'
import { describeWaitForPeople } from '#exceptions/rate_limit_exceeded'
import { formatMoney, formatPrice } from '#services/money'
import { listReturnPath } from '#services/redirects'

test.group('Money for people', () => {
  test('an amount of zero is money ($0.00), only a price of zero is "Free"', ({ assert }) => {
    assert.equal(formatMoney(0, 'USD'), '$0.00')
    assert.equal(formatMoney(0, 'JPY'), '¥0')
    assert.equal(formatMoney(1050, 'EUR'), '€10.50')
    assert.equal(formatPrice(0, 'USD'), 'Free')
    assert.equal(formatPrice(499, 'USD'), '$4.99')
  })
})

test.group('The 429 page', () => {
  test('says how long to wait in words and on the clock', ({ assert }) => {
    const now = new Date('2026-01-01T14:00:00Z')
    assert.deepEqual(describeWaitForPeople(557, now), { wait: 'about 9 minutes', at: '14:09 UTC' })
    assert.deepEqual(describeWaitForPeople(40, now), { wait: 'less than a minute', at: '14:00 UTC' })
    assert.deepEqual(describeWaitForPeople(75, now), { wait: 'about 1 minute', at: '14:01 UTC' })
    assert.deepEqual(describeWaitForPeople(7200, now), { wait: 'about 2 hours', at: '16:00 UTC' })
  })
})

test.group('Admin lists after an action', () => {
  test('go back to the list the form was sent from, with its filters, and never elsewhere', ({ assert }) => {
    const list = '/admin/videos'
    assert.equal(listReturnPath('http://127.0.0.1:3333/admin/videos?status=failed&page=2', list), '/admin/videos?status=failed&page=2')
    assert.equal(listReturnPath('http://127.0.0.1:3333/admin/users?role=viewer', list), list)
    assert.equal(listReturnPath('https://evil.example/admin/videos?q=x', list), '/admin/videos?q=x')
    assert.equal(listReturnPath(undefined, list), list)
    assert.equal(listReturnPath('::not a url', list), list)
  })
})

test.group('Development mail', () => {
  test('MAIL_MAILER=log prints the password reset mail, its link included, and sends nothing', async ({ assert }) => {
    const { default: PasswordResetMail } = await import('#mails/password_reset_mail')
    const { default: mail } = await import('@adonisjs/mail/services/main')
    const user = { username: 'maria', email: 'maria@example.com' } as any
    const printed: string[] = []
    const write = process.stdout.write
    process.stdout.write = ((chunk: string) => printed.push(String(chunk)) > 0) as any
    try {
      await mail.use('log').send(new PasswordResetMail(user, 'http://localhost:3333/reset-password/abc123', 60))
    } finally {
      process.stdout.write = write
    }
    const output = printed.join('')
    assert.include(output, '[mail] not sent (MAIL_MAILER=log) — to maria@example.com: Reset your Matinee password')
    assert.include(output, 'http://localhost:3333/reset-password/abc123')
  })
})
