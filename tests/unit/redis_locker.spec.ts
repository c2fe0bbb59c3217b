import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import redis from '@adonisjs/redis/services/main'
import { RedisLocker } from '#services/uploads/redis_locker'

/*
| The tus locker every web node shares. Two lockers stand for two nodes (each
| its own holder map; the release request travels over Redis pub/sub).
*/
test.group('Upload locks in Redis', () => {
  test('a second node waits for the lock, asks its holder to let go, and gets it once released', async ({ assert }) => {
    const nodeA = new RedisLocker()
    const nodeB = new RedisLocker()
    const id = randomUUID()
    const first = nodeA.newLock(id)
    let asked = 0
    await first.lock(new AbortController().signal, () => {
      asked++
      setTimeout(() => first.unlock(), 50)
    })
    const second = nodeB.newLock(id)
    const started = Date.now()
    await second.lock(new AbortController().signal, () => {})
    assert.equal(asked, 1, 'the holder was asked to release')
    assert.isAtLeast(Date.now() - started, 40)
    assert.isTrue(nodeB.held.has(id))
    await second.unlock()
    assert.isNull(await redis.get(`matinee:tus-lock:${id}`))
  })

  test('a lock whose holder died (never renewed) is free after its time to live; an unlock frees only its own lock', async ({ assert }) => {
    const id = randomUUID()
    const key = `matinee:tus-lock:${id}`
    // A node died holding the lock: nobody renews it, nobody answers release requests.
    await redis.set(key, 'dead-node-token', 'PX', 300)
    const live = new RedisLocker({ ttlMs: 300 })
    const started = Date.now()
    const taken = live.newLock(id)
    await taken.lock(new AbortController().signal, () => {})
    assert.isAtLeast(Date.now() - started, 200)
    // Held past its first time to live: renewed while the request runs.
    await new Promise((resolve) => setTimeout(resolve, 600))
    assert.isNotNull(await redis.get(key))
    // Someone else's lock by now (ours expired): our late unlock must not free it.
    await redis.set(key, 'other-node-token', 'PX', 5000)
    await taken.unlock()
    assert.equal(await redis.get(key), 'other-node-token')
    await redis.del(key)
  }).timeout(10_000)

  test('a request that cannot get the lock in time fails with tus\'s lock timeout', async ({ assert }) => {
    const id = randomUUID()
    await redis.set(`matinee:tus-lock:${id}`, 'someone-else', 'PX', 5000)
    const locker = new RedisLocker({ acquireTimeoutMs: 200 })
    await assert.rejects(() => locker.newLock(id).lock(new AbortController().signal, () => {}))
    await redis.del(`matinee:tus-lock:${id}`)
  })
})
