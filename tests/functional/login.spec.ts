import { test } from '@japa/runner'
import { performance } from 'node:perf_hooks'
import { resetState } from '#tests/helpers/state'
import { WebClient } from '#tests/helpers/web_client'

const WRONG = 'Wrong email, username or password.'

async function loginPage(client: WebClient, login: string, password: string) {
  const response = await client.login(login, password)
  return { response, page: await client.visit(response.location ?? '/login') }
}

test.group('Login and logout', (group) => {
  group.each.setup(async () => {
    await resetState()
    await new WebClient().register('Maria', 'maria@example.com')
  })

  test('logs in by email or username in any case, and logs out', async ({ assert }) => {
    for (const login of ['maria@example.com', 'MARIA@Example.com', 'maria', 'MaRiA']) {
      const client = new WebClient()
      const { response, page } = await loginPage(client, login, 'correct horse battery')
      assert.equal(response.status, 302, login)
      assert.equal(response.location, '/')
      assert.include(page.text, 'Welcome back, Maria.')
      assert.include(page.text, 'href="/account">Maria</a>')

      const logout = await client.submit('/', '/logout', {})
      assert.equal(logout.status, 302)
      const after = await client.visit('/account')
      assert.equal(after.url, '/login')
    }
  })

  test('a banned user cannot log in', async ({ assert }) => {
    const { default: User } = await import('#models/user')
    const { DateTime } = await import('luxon')
    await User.query().where('username', 'Maria').update({ bannedAt: DateTime.now().toSQL() })
    const { response, page } = await loginPage(new WebClient(), 'maria', 'correct horse battery')
    assert.equal(response.location, '/login')
    assert.include(page.text, 'This account is banned.')
    assert.notInclude(page.text, 'href="/account"')
  })

  test('wrong password and unknown user get the same message', async ({ assert }) => {
    const wrong = await loginPage(new WebClient(), 'maria', 'not the password')
    const unknown = await loginPage(new WebClient(), 'nobody', 'not the password')
    assert.include(wrong.page.text, WRONG)
    assert.include(unknown.page.text, WRONG)
    assert.notInclude(wrong.page.text, 'href="/account"')
    assert.notInclude(unknown.page.text, 'href="/account"')
  })

  test('unknown users cost the same hashing work as wrong passwords', async ({ assert }) => {
    // Both paths run one argon2 computation; an early return for unknown
    // users would answer several times faster and reveal who has an account.
    const time = async (login: string) => {
      const client = new WebClient()
      const token = (await client.get('/login')).text.match(/name='_csrf' value='([^']+)'/)![1]
      const body = new URLSearchParams({ _csrf: token, login, password: 'not the password' })
      const start = performance.now()
      await client.request('POST', '/login', body)
      return performance.now() - start
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    const wrong: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 3; i++) {
      wrong.push(await time('maria'))
      unknown.push(await time(`ghost${i}`))
    }
    assert.isAbove(median(unknown), median(wrong) * 0.5, `unknown ${unknown} vs wrong ${wrong}`)
  })

  test('too many failed attempts get 429 with Retry-After, even with the right password', async ({ assert }) => {
    const client = new WebClient()
    for (let i = 0; i < 5; i++) {
      const { response } = await loginPage(client, 'maria', `wrong password ${i}`)
      assert.equal(response.status, 302)
    }
    const blocked = await client.login('maria', 'correct horse battery')
    assert.equal(blocked.status, 429)
    assert.isAtLeast(Number(blocked.headers.get('retry-after')), 60)
    assert.include(blocked.text, 'Too many attempts')
    const account = await client.visit('/account')
    assert.equal(account.url, '/login')
  })

  test('a missing CSRF token on login is refused', async ({ assert }) => {
    const client = new WebClient()
    await client.get('/login')
    const response = await client.submit('/login', '/login', { login: 'maria', password: 'correct horse battery' }, { csrf: false })
    assert.equal(response.status, 302)
    const page = await client.visit(response.location!)
    assert.match(page.text, /CSRF/i)
    assert.equal((await client.visit('/account')).url, '/login')
  })

  test('login only redirects to paths of this site', async ({ assert }) => {
    const client = new WebClient()
    const token = (await client.get('/login')).text.match(/name='_csrf' value='([^']+)'/)![1]
    const response = await client.request(
      'POST',
      '/login',
      new URLSearchParams({ _csrf: token, login: 'maria', password: 'correct horse battery', return_to: '//evil.example/' })
    )
    assert.equal(response.location, '/')
  })
})
