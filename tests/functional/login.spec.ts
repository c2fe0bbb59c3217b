import { test } from '@japa/runner'
import { performance } from 'node:perf_hooks'
import { request as httpRequest } from 'node:http'
import env from '#start/env'
import { resetState } from '#tests/helpers/state'
import { WebClient, csrfTokenIn } from '#tests/helpers/web_client'
import { rateLimits } from '#config/limiter'

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

  test('the wrong-credentials error is shown once, with no other error beside it', async ({ assert }) => {
    const { page } = await loginPage(new WebClient(), 'maria', 'not the password')
    assert.equal(page.text.split(WRONG).length - 1, 1, page.text)
    assert.notInclude(page.text, 'Invalid user credentials')
    assert.equal(page.text.match(/role="alert"/g)?.length ?? 0, 1)
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

  test('too many failed attempts on one account get 429 with Retry-After, even with the right password', async ({ assert }) => {
    const client = new WebClient()
    for (let i = 0; i < rateLimits.loginAccount.requests; i++) {
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

/** A login form posted through a proxy that says the client is `forwardedFor`. */
async function loginVia(client: WebClient, login: string, password: string, forwardedFor?: string) {
  const token = csrfTokenIn((await client.get('/login')).text)
  const form = new URLSearchParams({ _csrf: token, login, password })
  return client.request('POST', '/login', form, forwardedFor ? { 'x-forwarded-for': forwardedFor } : {})
}

/**
 * A login form posted from another loopback address (127.0.0.2), which is not
 * in TRUSTED_PROXIES (.env.test trusts 127.0.0.1 only): its X-Forwarded-For
 * must be ignored. Plain node:http, as fetch cannot pick its source address.
 */
function fromUntrustedPeer(method: string, path: string, headers: Record<string, string>, body?: string) {
  const base = new URL(env.get('APP_URL'))
  return new Promise<{ status: number; headers: Record<string, any>; text: string }>((resolve, reject) => {
    const request = httpRequest(
      { host: base.hostname, port: base.port, path, method, localAddress: '127.0.0.2', headers: { accept: 'text/html', ...headers } },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk) => chunks.push(chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString() }))
      }
    )
    request.on('error', reject)
    request.end(body)
  })
}

async function untrustedLogin(login: string, password: string, forwardedFor: string) {
  const page = await fromUntrustedPeer('GET', '/login', {})
  const cookie = (page.headers['set-cookie'] as string[]).map((line) => line.split(';')[0]).join('; ')
  const body = new URLSearchParams({ _csrf: csrfTokenIn(page.text), login, password }).toString()
  return fromUntrustedPeer('POST', '/login', { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor }, body)
}

test.group('Login throttling behind a load balancer', (group) => {
  group.each.setup(async () => {
    await resetState()
    await new WebClient().register('Maria', 'maria@example.com')
    await new WebClient().register('Omar', 'omar@example.com')
  })

  test('30 wrong passwords across 30 usernames from one address: that address is refused, even with a right password', async ({ assert }) => {
    const limit = rateLimits.loginAddress.requests
    const client = new WebClient()
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) {
      statuses.push((await loginVia(client, `user${i}`, 'Summer2024!', '198.51.100.7')).status)
    }
    assert.deepEqual(statuses, [...Array(limit).fill(302), ...Array(30 - limit).fill(429)])

    const blocked = await loginVia(new WebClient(), 'maria', 'correct horse battery', '198.51.100.7')
    assert.equal(blocked.status, 429)
    assert.isAbove(Number(blocked.headers.get('retry-after')), 60)
    assert.include(blocked.text, 'Too many attempts')

    // The accounts themselves are not locked: from another address Maria logs in.
    const elsewhere = new WebClient()
    const ok = await loginVia(elsewhere, 'maria', 'correct horse battery', '203.0.113.9')
    assert.equal(ok.status, 302)
    assert.equal(ok.location, '/')
    assert.equal((await elsewhere.visit('/account')).url, '/account')
  })

  test('one account attacked from many addresses is throttled, other accounts are not', async ({ assert }) => {
    const limit = rateLimits.loginAccount.requests
    for (let i = 0; i < limit; i++) {
      const response = await loginVia(new WebClient(), i % 2 ? 'maria' : 'MARIA@example.com', `guess number ${i}`, `10.0.${i}.1`)
      assert.equal(response.status, 302, `attempt ${i}`)
    }
    const client = new WebClient()
    const blocked = await loginVia(client, 'maria', 'correct horse battery', '10.200.0.1')
    assert.equal(blocked.status, 429)
    assert.isAbove(Number(blocked.headers.get('retry-after')), 60)
    assert.equal((await client.visit('/account')).url, '/login')

    // The same addresses still log in to other accounts.
    const omar = await loginVia(new WebClient(), 'omar', 'correct horse battery', '10.0.1.1')
    assert.equal(omar.location, '/')
  })

  test('a spoofed X-Forwarded-For from a peer that is not a trusted proxy is ignored', async ({ assert }) => {
    const limit = rateLimits.loginAddress.requests
    const statuses: number[] = []
    // A new forged client address and username each time: had the header been believed, none would be limited.
    for (let i = 0; i <= limit; i++) {
      statuses.push((await untrustedLogin(`ghost${i}`, 'Summer2024!', `192.0.2.${i + 1}`)).status)
    }
    assert.deepEqual(statuses, [...Array(limit).fill(302), 429])
    const blocked = await untrustedLogin('maria', 'correct horse battery', '203.0.113.50')
    assert.equal(blocked.status, 429)
    assert.isAbove(Number(blocked.headers['retry-after']), 0)

    // It was the peer 127.0.0.2 that was counted: the trusted proxy's clients log in, forged address included.
    const viaProxy = await loginVia(new WebClient(), 'maria', 'correct horse battery', '192.0.2.1')
    assert.equal(viaProxy.location, '/')
  })
})
