import type { KvStore } from '@tus/utils'
import redis from '@adonisjs/redis/services/main'

/**
 * A tus KvStore in Redis that every web node shares, each entry expiring
 * with the uploads (an abandoned upload leaves nothing behind). It is a cache:
 * the upload store keeps the truth.
 */
export class RedisKvStore<T> implements KvStore<T> {
  constructor(
    private prefix: string,
    private ttlMs: number
  ) {}

  async get(key: string): Promise<T | undefined> {
    const value = await redis.get(this.prefix + key)
    return value ? (JSON.parse(value) as T) : undefined
  }

  async set(key: string, value: T) {
    await redis.set(this.prefix + key, JSON.stringify(value), 'PX', this.ttlMs)
  }

  async delete(key: string) {
    await redis.del(this.prefix + key)
  }
}
