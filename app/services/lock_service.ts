import { randomUUID } from 'node:crypto'
import redis from '@adonisjs/redis/services/main'

/**
 * A short Redis lock so that one process among many does a periodic chore
 * (reconciling, cleaning up). Losing Redis loses only the lock.
 */
export async function withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<T | undefined> {
  const key = `matinee:lock:${name}`
  const token = randomUUID()
  const acquired = await redis.set(key, token, 'PX', ttlMs, 'NX')
  if (!acquired) return undefined
  try {
    return await fn()
  } finally {
    // Release only our own lock.
    await redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
      1,
      key,
      token
    )
  }
}
