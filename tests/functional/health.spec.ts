import { test } from '@japa/runner'
import { resetState } from '#tests/helpers/state'
import { loggedIn } from '#tests/helpers/videos'
import { WebClient } from '#tests/helpers/web_client'

const healthOf = async (client: WebClient) => {
  const response = await client.request('GET', '/health', undefined, { accept: 'application/json' })
  return { status: response.status, body: JSON.parse(response.text), cache: response.headers.get('cache-control'), setCookie: response.headers.get('set-cookie') }
}

test.group('Health endpoint', (group) => {
  group.each.setup(() => resetState())

  test('the public and logged-in viewers only learn up or down', async ({ assert }) => {
    const anonymous = await healthOf(new WebClient())
    assert.equal(anonymous.status, 200)
    assert.deepEqual(anonymous.body, { status: 'up' })
    assert.equal(anonymous.cache, 'no-store')
    // Answered before the session is read (from Redis): a probe still gets its answer when Redis is down.
    assert.isNull(anonymous.setCookie)

    const { client: viewer } = await loggedIn('viewer')
    assert.deepEqual((await healthOf(viewer)).body, { status: 'up' })
    const { client: creator } = await loggedIn('maker', 'creator')
    assert.deepEqual((await healthOf(creator)).body, { status: 'up' })
  })

  test('admins get each dependency and the workers', async ({ assert }) => {
    const { client: admin } = await loggedIn('boss', 'admin')
    const { status, body } = await healthOf(admin)
    assert.equal(status, 200)
    assert.equal(body.status, 'up')
    assert.deepEqual(body.database, { ok: true })
    assert.deepEqual(body.redis, { ok: true })
    assert.isArray(body.workers)
  })
})
