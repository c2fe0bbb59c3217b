import { test } from '@japa/runner'
import User from '#models/user'
import { resetState } from '#tests/helpers/state'
import { WebClient, csrfTokenIn, fieldErrorsIn } from '#tests/helpers/web_client'
import { rateLimits } from '#config/limiter'

const valid = { username: 'Ann_Lee', email: '  Ann.Lee@Example.COM ', password: 'correct horse battery', password_confirmation: 'correct horse battery' }

async function attempt(fields: Partial<typeof valid>) {
  const client = new WebClient()
  const response = await client.submit('/register', '/register', { ...valid, ...fields })
  const page = await client.visit(response.location ?? '/register')
  return { client, response, page }
}

test.group('Registration', (group) => {
  group.each.setup(() => resetState())

  test('creates a viewer with a normalised email and an argon2 hash, and logs them in', async ({ assert }) => {
    const { response, page, client } = await attempt({})
    assert.equal(response.status, 302)
    assert.equal(response.location, '/')
    assert.include(page.text, 'Welcome to Matinee, Ann_Lee!')
    assert.include(page.text, 'href="/account">Ann_Lee</a>')

    const user = await User.findByOrFail('username', 'Ann_Lee')
    assert.equal(user.email, 'ann.lee@example.com')
    assert.equal(user.role, 'viewer')
    assert.match(user.password, /^\$argon2id\$/)
    assert.isTrue(await user.verifyPassword('correct horse battery'))

    const sessionCookie = client.rawSetCookies.concat().join('\n')
    const registerCookies = response.headers.getSetCookie().join('\n')
    assert.match(registerCookies + sessionCookie, /matinee-session=[^;]+;.*HttpOnly/i)
    assert.match(registerCookies + sessionCookie, /SameSite=Lax/i)
  })

  test('a duplicate email in another case is refused and nothing changes', async ({ assert }) => {
    await new WebClient().register('first', 'ann.lee@example.com')
    const { response, page } = await attempt({ username: 'second', email: 'ANN.LEE@EXAMPLE.COM' })
    assert.equal(response.status, 302)
    assert.equal(fieldErrorsIn(page.text, 'email'), 'This email is already taken')
    assert.equal((await User.all()).length, 1)
  })

  test('a duplicate username in another case is refused and nothing changes', async ({ assert }) => {
    await new WebClient().register('ann_lee', 'first@example.com')
    const { page } = await attempt({ username: 'ANN_LEE', email: 'second@example.com' })
    assert.equal(fieldErrorsIn(page.text, 'username'), 'This username is already taken')
    assert.equal((await User.all()).length, 1)
  })

  test('an invalid email is refused next to the field, keeping the other input', async ({ assert }) => {
    const { page } = await attempt({ email: 'not-an-email' })
    assert.equal(fieldErrorsIn(page.text, 'email'), 'Enter a valid email address, like name@example.com')
    assert.include(page.text, 'value="Ann_Lee"')
    assert.include(page.text, 'aria-invalid="true"')
    assert.lengthOf(await User.all(), 0)
  })

  test('a weak password is refused with the reason next to the field, and nothing is created', async ({ assert }) => {
    const refused = {
      'password1': 'This password is too easy to guess. This is a commonly used password. Add more words that are less common.',
      'password123': 'This password is too easy to guess. This is a commonly used password. Add more words that are less common.',
      'Ann_Lee123': 'This password is too easy to guess. There should not be any personal or page related data. Add more words that are less common.',
      'aaaaaaaaaaaa': 'This password is too easy to guess. Repeated characters like "aaa" are easy to guess. Add more words that are less common.',
      'qwertyuiop12': 'This password is too easy to guess.',
      'ann.lee@example.com': 'This password is too easy to guess.',
    }
    for (const [password, reason] of Object.entries(refused)) {
      const { page } = await attempt({ password, password_confirmation: password })
      const shown = fieldErrorsIn(page.text, 'password').replaceAll('&quot;', '"')
      assert.isTrue(shown.startsWith(reason), `"${password}": ${shown}`)
    }
    const short = await attempt({ password: 'qR7#mZ2!w', password_confirmation: 'qR7#mZ2!w' })
    assert.equal(fieldErrorsIn(short.page.text, 'password'), 'The password must be at least 10 characters long')
    assert.lengthOf(await User.all(), 0)
  })

  test('the username counts as an easy word only for its own account', async ({ assert }) => {
    // "Ann_Lee123" is weak for Ann_Lee, not for someone else.
    const { page } = await attempt({ username: 'Zed_Bloggs', email: 'zed@example.com', password: 'Zed_Bloggs123', password_confirmation: 'Zed_Bloggs123' })
    assert.include(fieldErrorsIn(page.text, 'password'), 'personal')
    const other = await attempt({ username: 'mona', email: 'mona@example.com', password: 'Ann_Lee-rocks-42', password_confirmation: 'Ann_Lee-rocks-42' })
    assert.equal(other.response.location, '/')
    assert.lengthOf(await User.all(), 1)
  })

  test('a too long password is refused', async ({ assert }) => {
    const password = 'x1y2z3'.repeat(30)
    const { page } = await attempt({ password, password_confirmation: password })
    assert.equal(fieldErrorsIn(page.text, 'password'), 'The password must be at most 128 characters long')
    assert.lengthOf(await User.all(), 0)
  })

  test('a confirmation that does not match is refused', async ({ assert }) => {
    const { page } = await attempt({ password_confirmation: 'another horse battery' })
    assert.equal(fieldErrorsIn(page.text, 'password_confirmation'), 'The passwords do not match')
    assert.lengthOf(await User.all(), 0)
  })

  test('a missing CSRF token is refused with a message and nothing changes', async ({ assert }) => {
    const client = new WebClient()
    await client.get('/register')
    const response = await client.submit('/register', '/register', valid, { csrf: false })
    assert.equal(response.status, 302)
    const page = await client.visit(response.location!)
    assert.match(page.text, /Invalid or expired CSRF token/i)
    assert.lengthOf(await User.all(), 0)
  })

  test('a wrong CSRF token is refused and nothing changes', async ({ assert }) => {
    const client = new WebClient()
    await client.get('/register')
    const response = await client.submit('/register', '/register', valid, { csrf: 'forged-token' })
    assert.equal(response.status, 302)
    assert.lengthOf(await User.all(), 0)
  })

  test('too many registrations from one address get 429 with Retry-After', async ({ assert }) => {
    for (let i = 0; i < rateLimits.register.requests; i++) {
      const response = await new WebClient().submit('/register', '/register', { ...valid, username: `user${i}`, email: `u${i}@example.com` })
      assert.equal(response.status, 302)
      assert.equal(response.location, '/')
    }
    const blocked = await new WebClient().submit('/register', '/register', { ...valid, username: 'user9', email: 'u9@example.com' })
    assert.equal(blocked.status, 429)
    assert.isAbove(Number(blocked.headers.get('retry-after')), 0)
    assert.include(blocked.text, 'Too many attempts')
    assert.isNull(await User.findBy('username', 'user9'))
  })

  test('forms sent back with errors do not use up the registration limit', async ({ assert }) => {
    for (let i = 0; i < 12; i++) {
      const { page } = await attempt({ username: `typo${i}`, email: `typo${i}@example.com`, password_confirmation: 'not the same one' })
      assert.equal(fieldErrorsIn(page.text, 'password_confirmation'), 'The passwords do not match')
    }
    for (let i = 0; i < rateLimits.register.requests; i++) {
      const { response } = await attempt({ username: `user${i}`, email: `u${i}@example.com` })
      assert.equal(response.location, '/', `registration ${i}`)
    }
    assert.lengthOf(await User.all(), rateLimits.register.requests)
  })

  test('registration form submissions are limited too (probing which emails exist)', async ({ assert }) => {
    await new WebClient().register('taken', 'taken@example.com')
    const client = new WebClient()
    const token = csrfTokenIn((await client.get('/register')).text)
    let status = 0
    for (let i = 0; i < rateLimits.registerForm.requests && status !== 429; i++) {
      const form = new URLSearchParams({ ...valid, _csrf: token, username: `probe${i}`, email: 'taken@example.com' })
      status = (await client.request('POST', '/register', form)).status
    }
    // The one registration above used one submission of this address's allowance.
    assert.equal(status, 429)
    assert.lengthOf(await User.all(), 1)
  })
})
