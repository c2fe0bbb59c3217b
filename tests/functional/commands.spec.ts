import { test } from '@japa/runner'
import User from '#models/user'
import { resetState } from '#tests/helpers/state'
import { runAce } from '#tests/helpers/processes'
import { WebClient } from '#tests/helpers/web_client'

test.group('make:admin', (group) => {
  group.each.setup(() => resetState())

  test('creates an admin who can log in and see the admin pages', async ({ assert }) => {
    const result = await runAce(['make:admin', '--email', 'Chief@Example.com', '--password', 'a long admin secret'])
    assert.equal(result.code, 0, result.output)
    assert.include(result.output, 'Created admin Chief <chief@example.com>')
    const user = await User.findByOrFail('email', 'chief@example.com')
    assert.equal(user.role, 'admin')

    const client = new WebClient()
    await client.login('chief@example.com', 'a long admin secret')
    assert.equal((await client.get('/admin/creator-applications')).status, 200)
  }).timeout(60_000)

  test('generates and prints a password when none is given', async ({ assert }) => {
    const result = await runAce(['make:admin', '--email', 'gen@example.com'])
    assert.equal(result.code, 0, result.output)
    const password = result.output.match(/password: (\S+)/)![1]
    const user = await User.findByOrFail('email', 'gen@example.com')
    assert.isTrue(await user.verifyPassword(password))
  }).timeout(60_000)

  test('refuses a weak password or a bad email and creates nothing', async ({ assert }) => {
    const weak = await runAce(['make:admin', '--email', 'weak@example.com', '--password', 'password'])
    assert.equal(weak.code, 1)
    assert.include(weak.output, 'password: The password must be at least 10 characters long')
    const bad = await runAce(['make:admin', '--email', 'not-an-email', '--password', 'a long admin secret'])
    assert.equal(bad.code, 1)
    assert.include(bad.output, 'email:')
    assert.lengthOf(await User.all(), 0)
  }).timeout(60_000)
})
