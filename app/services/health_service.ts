import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import queues from '#services/queue_service'

/**
 * What an operator (or a load balancer) needs to know: can this node reach
 * PostgreSQL and Redis, and are workers alive.
 */
export class HealthService {
  async check() {
    const [database, cache, workers] = await Promise.all([
      this.#probe(async () => {
        await db.rawQuery('select 1')
      }),
      this.#probe(async () => {
        await redis.ping()
      }),
      queues.liveWorkers().catch(() => []),
    ])
    return {
      ok: database.ok && cache.ok,
      database,
      redis: cache,
      workers: workers.map(({ id, host, at }) => ({ id, host, lastSeen: new Date(at).toISOString() })),
    }
  }

  async #probe(fn: () => Promise<void>) {
    try {
      await fn()
      return { ok: true }
    } catch (error) {
      return { ok: false, error: (error as Error).message }
    }
  }
}

export default new HealthService()
